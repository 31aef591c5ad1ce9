/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_maglev.c: building weighted Maglev lookup tables (control thread only).
 *
 * Member i's preference list is offset_i, offset_i + skip_i, ... (mod M) with
 *   offset = sl_hash64(key, 16, seed1) % M
 *   skip   = sl_hash64(key, 16, seed2) % (M - 1) + 1
 * where seed1 = seed and seed2 = seed with its halves swapped, xored with a
 * constant (see sl_maglev_seeds). M is prime, so every list visits every slot.
 *
 * Members are sorted by key (memcmp) and take turns in that order. Each
 * round every member adds its weight to an accumulator; when the accumulator
 * reaches the largest weight it is reduced by that weight and the member
 * claims its next preferred empty slot. With equal weights every member
 * claims once a round, so slot counts differ by at most one.
 *
 * The inner loop does no division: each member keeps its current position
 * and adds skip, subtracting M on overflow.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_hash.h"
#include "sl_maglev.h"

bool
sl_is_prime(uint32_t n)
{
	uint32_t d;

	if (n < 2)
		return false;
	if (n < 4)
		return true;
	if (n % 2 == 0 || n % 3 == 0)
		return false;
	/* d <= n / d avoids overflowing d * d near UINT32_MAX. */
	for (d = 5; d <= n / d; d += 6) {
		if (n % d == 0 || n % (d + 2) == 0)
			return false;
	}
	return true;
}

/* A member's place in the build, after sorting. */
struct sl_maglev_turn {
	uint64_t cum;     /* accumulated weight, < max weight between rounds */
	uint32_t weight;
	uint32_t pos;     /* next preferred slot to try */
	uint32_t skip[4]; /* k * skip % m for k = 1..4 */
	uint16_t index;   /* into the caller's members[] */
};

static inline uint32_t
sl_maglev_add(uint32_t pos, uint32_t step, uint32_t m)
{
	pos += step; /* both < m <= 2^32 - 5, so no wrap */
	return pos >= m ? pos - m : pos;
}

static inline uint64_t
sl_maglev_is_free(const uint64_t *used, uint32_t pos)
{
	return ~used[pos >> 6] >> (pos & 63) & 1;
}

/*
 * Claim t's next preferred free slot and return it. Looks at four
 * preferences at a time, each computed from the group's first, so the
 * dependency chain is one modular add per four probes; the first free one
 * in preference order wins, as if probed one by one.
 */
static inline uint32_t
sl_maglev_claim(uint64_t *used, struct sl_maglev_turn *t, uint32_t m)
{
	uint32_t p0 = t->pos, p[4];
	uint64_t free_mask;
	unsigned int k;

	for (;;) {
		p[0] = p0;
		p[1] = sl_maglev_add(p0, t->skip[0], m);
		p[2] = sl_maglev_add(p0, t->skip[1], m);
		p[3] = sl_maglev_add(p0, t->skip[2], m);
		free_mask = sl_maglev_is_free(used, p[0]) |
			    sl_maglev_is_free(used, p[1]) << 1 |
			    sl_maglev_is_free(used, p[2]) << 2 |
			    sl_maglev_is_free(used, p[3]) << 3;
		if (free_mask != 0)
			break;
		p0 = sl_maglev_add(p0, t->skip[3], m);
	}
	k = (unsigned int)__builtin_ctzll(free_mask);
	used[p[k] >> 6] |= 1ull << (p[k] & 63);
	t->pos = sl_maglev_add(p[k], t->skip[0], m);
	return p[k];
}

static void
sl_maglev_seeds(uint64_t seed, uint64_t *seed1, uint64_t *seed2)
{
	*seed1 = seed;
	*seed2 = ((seed << 32) | (seed >> 32)) ^ 0x9e3779b97f4a7c15ull;
}

static int
sl_maglev_cmp(const void *a, const void *b)
{
	const struct sl_maglev_member *const *ma = a;
	const struct sl_maglev_member *const *mb = b;

	return memcmp((*ma)->key.bytes, (*mb)->key.bytes, sizeof((*ma)->key.bytes));
}

int
sl_maglev_build(uint16_t *table, uint32_t m, const struct sl_maglev_member *members,
		uint32_t n, uint64_t seed)
{
	const struct sl_maglev_member **sorted;
	struct sl_maglev_turn *turns;
	uint64_t *used; /* bit per slot: claimed */
	uint64_t seed1, seed2;
	uint32_t i, n_active = 0, max_weight = 0, filled = 0;

	if (table == NULL || !sl_is_prime(m) || n > SL_MAGLEV_MAX_MEMBERS || n > m ||
	    (n > 0 && members == NULL))
		return -EINVAL;

	memset(table, 0xff, (size_t)m * sizeof(*table)); /* SL_MAGLEV_EMPTY */
	if (n == 0)
		return 0;

	sorted = malloc(n * sizeof(*sorted));
	turns = malloc(n * sizeof(*turns));
	used = calloc((m + 63) / 64, sizeof(*used));
	if (sorted == NULL || turns == NULL || used == NULL) {
		free(sorted);
		free(turns);
		free(used);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		sorted[i] = &members[i];
	qsort(sorted, n, sizeof(*sorted), sl_maglev_cmp);
	for (i = 1; i < n; i++) {
		if (memcmp(sorted[i - 1]->key.bytes, sorted[i]->key.bytes,
			   sizeof(sorted[i]->key.bytes)) == 0) {
			free(sorted);
			free(turns);
			free(used);
			return -EINVAL;
		}
	}

	sl_maglev_seeds(seed, &seed1, &seed2);
	for (i = 0; i < n; i++) {
		const struct sl_maglev_member *mb = sorted[i];
		struct sl_maglev_turn *t;

		if (mb->weight == 0)
			continue;
		t = &turns[n_active++];
		t->cum = 0;
		t->weight = mb->weight;
		t->pos = (uint32_t)(sl_hash64(mb->key.bytes, sizeof(mb->key.bytes), seed1) % m);
		t->skip[0] = (uint32_t)(sl_hash64(mb->key.bytes, sizeof(mb->key.bytes), seed2) %
					(m - 1)) + 1;
		t->skip[1] = sl_maglev_add(t->skip[0], t->skip[0], m);
		t->skip[2] = sl_maglev_add(t->skip[1], t->skip[0], m);
		t->skip[3] = sl_maglev_add(t->skip[2], t->skip[0], m);
		t->index = (uint16_t)(mb - members);
		if (mb->weight > max_weight)
			max_weight = mb->weight;
	}
	free(sorted);

	/*
	 * Every round the member(s) with the largest weight claim a slot, so
	 * this ends after at most m rounds. Occupancy is tracked in a bitmap
	 * (8 KiB for m = 65537, L1-resident) rather than by reading the table.
	 */
	while (n_active > 0 && filled < m) {
		for (i = 0; i < n_active; i++) {
			struct sl_maglev_turn *t = &turns[i];
			uint32_t pos;

			t->cum += t->weight;
			if (t->cum < max_weight)
				continue;
			t->cum -= max_weight;

			pos = sl_maglev_claim(used, t, m);
			table[pos] = t->index;
			if (++filled == m)
				break;
		}
	}
	free(used);
	free(turns);
	return 0;
}
