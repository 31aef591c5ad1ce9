/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_hash.h: hashing for flow keys and Maglev permutations.
 *
 * sl_crc32c uses the SSE4.2 CRC32 instruction when the compiler targets it
 * (Debian's DPDK builds for corei7, which has it) and a table otherwise; both
 * give the same value. sl_hash64 is a seeded 64-bit hash for control-plane
 * use (Maglev offset and skip).
 */
#ifndef SL_HASH_H
#define SL_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "sl_parse.h"

/* Distribution modes of a load-balancing rule (loadDistribution). */
enum sl_dist {
	SL_DIST_DEFAULT = 0,        /* 5-tuple: src, dst, sport, dport, protocol */
	SL_DIST_SOURCE_IP,          /* 2-tuple: src, dst */
	SL_DIST_SOURCE_IP_PROTOCOL, /* 3-tuple: src, dst, protocol */
	SL_DIST_MAX
};

/* "Default", "SourceIP", "SourceIPProtocol" */
const char *sl_dist_name(enum sl_dist d);
/* Inverse of sl_dist_name (case-insensitive); -EINVAL when unknown. */
int sl_dist_parse(const char *name, enum sl_dist *d);

/* CRC32-C of len bytes, starting from init. */
uint32_t sl_crc32c(const void *data, size_t len, uint32_t init);

/* Seeded 64-bit hash of len bytes. */
uint64_t sl_hash64(const void *data, size_t len, uint64_t seed);

/* The flow hash of a parsed packet for distribution mode d. */
uint32_t sl_flow_hash(const struct sl_pkt *p, enum sl_dist d, uint32_t seed);

#endif /* SL_HASH_H */
