/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_maglev.h: Maglev consistent hashing (Eisenbud et al., NSDI 2016), weighted.
 *
 * Each member gets an offset and a skip from two seeded hashes of its key;
 * members take turns claiming their next preferred empty slot of a table of
 * prime size M until it is full. With weights, a member takes a turn each
 * time its accumulated weight reaches the largest weight (the weighted
 * variant katran uses), so slots are proportional to weight.
 *
 * The table is a pure function of the set of (key, weight) pairs, M and the
 * seed: members are ordered by key before the build, so the order in which
 * they are given does not matter. Every sluice instance with the same pool
 * picks the same backend for the same flow.
 */
#ifndef SL_MAGLEV_H
#define SL_MAGLEV_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_types.h"

#define SL_MAGLEV_DEFAULT_SIZE 65537u
#define SL_MAGLEV_EMPTY 0xffffu
#define SL_MAGLEV_MAX_MEMBERS 65535u
#define SL_MAGLEV_DEFAULT_SEED 0x5eed51cecafef00dull

struct sl_maglev_member {
	struct sl_ip_addr key; /* the backend address: stable and unique in a pool */
	uint32_t weight;       /* 0: takes no slot */
};

/* True when n is prime. */
bool sl_is_prime(uint32_t n);

/*
 * Fill table[0..m-1] with member indexes (into members[], as given). When no
 * member has a weight, every slot is SL_MAGLEV_EMPTY.
 * Returns 0, -EINVAL (m not prime, n > SL_MAGLEV_MAX_MEMBERS, n > m, or
 * duplicate keys) or -ENOMEM.
 */
int sl_maglev_build(uint16_t *table, uint32_t m, const struct sl_maglev_member *members,
		    uint32_t n, uint64_t seed);

/* The slot for a flow hash: multiply-shift into [0, m), no division. */
static inline uint32_t
sl_maglev_slot(uint32_t hash, uint32_t m)
{
	return (uint32_t)(((uint64_t)hash * m) >> 32);
}

#endif /* SL_MAGLEV_H */
