/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_prefix.h: address prefixes ("10.0.0.0/16", "fd00::/48") in the
 * 16-byte address form of sl_types.h.
 *
 * An IPv4 prefix is held IPv4-mapped, its length counted in the 128-bit
 * form (IPv4 /24 is 120), so one comparison serves both families. The
 * virtual networks' address spaces and subnets, the port profiles'
 * interface addresses and the compiler's on-link test all use it.
 */
#ifndef SL_PREFIX_H
#define SL_PREFIX_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_types.h"

struct sl_prefix {
	struct sl_ip_addr addr; /* IPv4-mapped for IPv4 */
	uint8_t len;            /* prefix length in the 128-bit form (IPv4 /24 -> 120) */
};

/*
 * Parse "<address>/<length>" keeping the address as written (host bits
 * may be set: an interface address with the length of its segment).
 * Returns 0; -EINVAL when there is no '/' or the text before it is no
 * address (an IPv4-mapped IPv6 address counts as none: its length would
 * be in the other family); -EDOM when the address parses but the length
 * is not a decimal number up to 32 (IPv4) or 128 (IPv6). p->addr is set
 * whenever the address parsed (also on -EDOM).
 */
int sl_prefix_parse_host(const char *text, struct sl_prefix *p);

/*
 * Parse a CIDR prefix: sl_prefix_parse_host() and then no host bit may be
 * set. Returns 0, -EINVAL or -EDOM as sl_prefix_parse_host(), or -ERANGE
 * when host bits are set (p then holds the network address and length).
 */
int sl_prefix_parse(const char *text, struct sl_prefix *p);

/* The prefix of length family_len (in a's own family: IPv4 0..32) that holds a, host bits kept. */
void sl_prefix_from(struct sl_prefix *p, const struct sl_ip_addr *a, uint8_t family_len);

/* An IPv4 prefix? */
bool sl_prefix_is_v4(const struct sl_prefix *p);

/* The length as written in its family (IPv4 /24 -> 24). */
uint8_t sl_prefix_family_len(const struct sl_prefix *p);

/* Clear the host bits of p->addr. */
void sl_prefix_clear_host_bits(struct sl_prefix *p);

/* a is of p's family and its first p->len bits are p's. */
bool sl_prefix_contains(const struct sl_prefix *p, const struct sl_ip_addr *a);

/* inner lies entirely inside outer. */
bool sl_prefix_within(const struct sl_prefix *inner, const struct sl_prefix *outer);

/* Every host bit of a (beyond p's length) is set: an IPv4 subnet's broadcast address. */
bool sl_prefix_is_last(const struct sl_prefix *p, const struct sl_ip_addr *a);

#endif /* SL_PREFIX_H */
