/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_types.h: small value types shared by every sluice module.
 *
 * Addresses are held in one 16-byte form for both families: IPv6 as is,
 * IPv4 as an IPv4-mapped IPv6 address (::ffff:a.b.c.d), so frontend keys,
 * flow keys and Maglev keys have one layout. All multi-byte fields named
 * *_be are in network byte order.
 */
#ifndef SL_TYPES_H
#define SL_TYPES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define SL_ETHER_ADDR_LEN 6

struct sl_ip_addr {
	uint8_t bytes[16];
};

struct sl_mac {
	uint8_t bytes[SL_ETHER_ADDR_LEN];
};

enum sl_ip_family {
	SL_AF_NONE = 0,
	SL_AF_IPV4 = 4,
	SL_AF_IPV6 = 6,
};

/* IP protocol numbers used by rules; SL_PROTO_ALL matches TCP and UDP (HA ports). */
#define SL_PROTO_ALL 0
#define SL_PROTO_TCP 6
#define SL_PROTO_UDP 17

/* Big-endian 16-bit fields, byte by byte: any alignment. */
static inline uint32_t
sl_load_be16(const uint8_t *b)
{
	return (uint32_t)b[0] << 8 | b[1];
}

static inline void
sl_store_be16(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/*
 * ::ffff:v4, written as one 16-byte store: the packet path reads addresses
 * back at once in 8- and 16-byte loads, and a load that spans several
 * smaller stores still in the store buffer cannot be forwarded from them
 * (it waits for them to reach the cache, a stall per packet).
 */
static inline void
sl_ip_addr_from_v4(struct sl_ip_addr *a, uint32_t v4_be)
{
	typedef uint64_t sl_u64x2 __attribute__((vector_size(16)));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	sl_u64x2 v = {0, (uint64_t)0xffffu << 32 | v4_be};
#else
	sl_u64x2 v = {0, (uint64_t)0xffffu << 16 | (uint64_t)v4_be << 32};
#endif
	memcpy(a->bytes, &v, sizeof(v));
}

static inline bool
sl_ip_addr_is_v4(const struct sl_ip_addr *a)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a->bytes, prefix, 12) == 0;
}

static inline uint32_t
sl_ip_addr_v4(const struct sl_ip_addr *a)
{
	uint32_t v;
	memcpy(&v, &a->bytes[12], 4);
	return v;
}

static inline bool
sl_ip_addr_eq(const struct sl_ip_addr *a, const struct sl_ip_addr *b)
{
	return memcmp(a->bytes, b->bytes, 16) == 0;
}

/*
 * Parse "a.b.c.d" or an IPv6 literal into *a. Returns 0, or -EINVAL when the
 * text is neither. *family (may be NULL) receives the family.
 */
int sl_ip_addr_parse(const char *text, struct sl_ip_addr *a, enum sl_ip_family *family);

/* Format *a into buf (at least 46 bytes): IPv4-mapped addresses print as IPv4. */
const char *sl_ip_addr_format(const struct sl_ip_addr *a, char *buf, size_t len);

/* Parse "aa:bb:cc:dd:ee:ff" (or with '-'). Returns 0 or -EINVAL. */
int sl_mac_parse(const char *text, struct sl_mac *m);

/* Format into buf (at least 18 bytes). */
const char *sl_mac_format(const struct sl_mac *m, char *buf, size_t len);

#endif /* SL_TYPES_H */
