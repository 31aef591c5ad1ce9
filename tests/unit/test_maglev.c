/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_maglev.c: unit tests of hashing (CRC32-C, sl_hash64, flow hash),
 * weighted Maglev tables (balance, weights, determinism, disruption, errors,
 * build time) and the snapshot's frontend index.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sl_hash.h"
#include "sl_maglev.h"
#include "sl_snapshot.h"

/* ---- helpers ---------------------------------------------------------- */

/* Bit-at-a-time CRC32-C, the reference both sl_crc32c paths must match. */
static uint32_t
ref_crc32c(const uint8_t *p, size_t len, uint32_t crc)
{
	size_t i;
	int b;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (b = 0; b < 8; b++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return crc;
}

/* A small deterministic PRNG (xorshift64*) for shuffles and random keys. */
static uint64_t
test_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static void
v4(struct sl_ip_addr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	uint32_t be = htonl(((uint32_t)b0 << 24) | ((uint32_t)b1 << 16) | ((uint32_t)b2 << 8) | b3);

	sl_ip_addr_from_v4(a, be);
}

/* 2001:db8::<hi>:<lo> */
static void
v6(struct sl_ip_addr *a, uint16_t hi, uint16_t lo)
{
	memset(a, 0, sizeof(*a));
	a->bytes[0] = 0x20;
	a->bytes[1] = 0x01;
	a->bytes[2] = 0x0d;
	a->bytes[3] = 0xb8;
	a->bytes[12] = (uint8_t)(hi >> 8);
	a->bytes[13] = (uint8_t)hi;
	a->bytes[14] = (uint8_t)(lo >> 8);
	a->bytes[15] = (uint8_t)lo;
}

/* n members with keys 10.(i>>16).(i>>8).i... offset by `base`, weight 1. */
static struct sl_maglev_member *
make_members(uint32_t n, uint32_t base)
{
	struct sl_maglev_member *mb = calloc(n, sizeof(*mb));
	uint32_t i;

	assert_non_null(mb);
	for (i = 0; i < n; i++) {
		uint32_t k = base + i;

		v4(&mb[i].key, 10, (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k);
		mb[i].weight = 1;
	}
	return mb;
}

static uint16_t *
alloc_table(uint32_t m)
{
	uint16_t *t = malloc(m * sizeof(*t));

	assert_non_null(t);
	return t;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- CRC32-C and sl_hash64 ---------------------------------------------- */

static void
test_crc32c_check_value(void **state)
{
	static const char check[] = "123456789";
	(void)state;

	assert_int_equal(~sl_crc32c(check, 9, 0xffffffffu), 0xE3069283u);
	assert_int_equal(sl_crc32c(check, 0, 0x12345678u), 0x12345678u);
}

static void
test_crc32c_matches_reference(void **state)
{
	uint8_t buf[128];
	uint64_t rng = 0x1234;
	size_t i, off, len;
	(void)state;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)test_rand(&rng);
	/* every length and alignment the word/tail paths can take */
	for (off = 0; off < 8; off++) {
		for (len = 0; len + off <= sizeof(buf); len++) {
			uint32_t init = (uint32_t)test_rand(&rng);

			assert_int_equal(sl_crc32c(buf + off, len, init),
					 ref_crc32c(buf + off, len, init));
		}
	}
	/* chaining: init is the raw running register */
	for (len = 0; len <= 64; len++) {
		uint32_t whole = sl_crc32c(buf, 64, 0xffffffffu);
		uint32_t part = sl_crc32c(buf, len, 0xffffffffu);

		assert_int_equal(sl_crc32c(buf + len, 64 - len, part), whole);
	}
}

static void
test_hash64(void **state)
{
	struct sl_ip_addr a;
	uint64_t h, rng = 99;
	unsigned long flips = 0, trials = 0;
	int i, bit;
	(void)state;

	/* XXH64 of the empty input with seed 0 */
	assert_true(sl_hash64("", 0, 0) == 0xEF46DB3751D8E999ull);

	v4(&a, 10, 0, 0, 1);
	h = sl_hash64(a.bytes, 16, 1);
	assert_true(h == sl_hash64(a.bytes, 16, 1));
	assert_true(h != sl_hash64(a.bytes, 16, 2));

	/* avalanche: one flipped input bit flips about half the output bits */
	for (i = 0; i < 200; i++) {
		uint8_t key[40];
		size_t k;
		uint64_t base;

		for (k = 0; k < sizeof(key); k++)
			key[k] = (uint8_t)test_rand(&rng);
		base = sl_hash64(key, sizeof(key), 7);
		for (bit = 0; bit < (int)sizeof(key) * 8; bit++) {
			key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			flips += (unsigned long)__builtin_popcountll(base ^
							     sl_hash64(key, sizeof(key), 7));
			key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			trials++;
		}
	}
	printf("sl_hash64 avalanche: %.2f of 64 bits flip per input bit\n",
	       (double)flips / (double)trials);
	assert_true((double)flips / (double)trials > 31.0);
	assert_true((double)flips / (double)trials < 33.0);
}

static void
test_dist_names(void **state)
{
	enum sl_dist d;
	(void)state;

	assert_string_equal(sl_dist_name(SL_DIST_DEFAULT), "Default");
	assert_string_equal(sl_dist_name(SL_DIST_SOURCE_IP), "SourceIP");
	assert_string_equal(sl_dist_name(SL_DIST_SOURCE_IP_PROTOCOL), "SourceIPProtocol");
	assert_non_null(sl_dist_name(SL_DIST_MAX));

	assert_int_equal(sl_dist_parse("default", &d), 0);
	assert_int_equal(d, SL_DIST_DEFAULT);
	assert_int_equal(sl_dist_parse("SOURCEIP", &d), 0);
	assert_int_equal(d, SL_DIST_SOURCE_IP);
	assert_int_equal(sl_dist_parse("SourceIPProtocol", &d), 0);
	assert_int_equal(d, SL_DIST_SOURCE_IP_PROTOCOL);
	assert_int_equal(sl_dist_parse("SourceIPPort", &d), -EINVAL);
	assert_int_equal(sl_dist_parse("", &d), -EINVAL);
	assert_int_equal(sl_dist_parse(NULL, &d), -EINVAL);
}

/* ---- flow hash ---------------------------------------------------------- */

static void
make_pkt(struct sl_pkt *p, int ipv6)
{
	memset(p, 0, sizeof(*p));
	if (ipv6) {
		v6(&p->src, 0xaaaa, 1);
		v6(&p->dst, 0xbbbb, 2);
		p->family = SL_AF_IPV6;
	} else {
		v4(&p->src, 192, 0, 2, 1);
		v4(&p->dst, 198, 51, 100, 7);
		p->family = SL_AF_IPV4;
	}
	p->sport_be = htons(40000);
	p->dport_be = htons(80);
	p->l4_proto = SL_PROTO_TCP;
}

static void
test_flow_hash_key_layout(void **state)
{
	struct sl_pkt p;
	uint8_t key[37];
	int ipv6;
	(void)state;

	for (ipv6 = 0; ipv6 <= 1; ipv6++) {
		make_pkt(&p, ipv6);
		memcpy(key, p.src.bytes, 16);
		memcpy(key + 16, p.dst.bytes, 16);
		memcpy(key + 32, &p.sport_be, 2);
		memcpy(key + 34, &p.dport_be, 2);
		key[36] = p.l4_proto;
		assert_int_equal(sl_flow_hash(&p, SL_DIST_DEFAULT, 0xabcdef01u),
				 sl_crc32c(key, 37, 0xabcdef01u));
		assert_int_equal(sl_flow_hash(&p, SL_DIST_SOURCE_IP, 0xabcdef01u),
				 sl_crc32c(key, 32, 0xabcdef01u));
		key[32] = p.l4_proto;
		assert_int_equal(sl_flow_hash(&p, SL_DIST_SOURCE_IP_PROTOCOL, 0xabcdef01u),
				 sl_crc32c(key, 33, 0xabcdef01u));
	}
}

static void
test_flow_hash_modes(void **state)
{
	struct sl_pkt a, b;
	const uint32_t seed = 0x5eed;
	(void)state;

	make_pkt(&a, 0);
	b = a;
	b.sport_be = htons(40001);
	b.dport_be = htons(443);
	/* SourceIP ignores ports and protocol */
	assert_int_equal(sl_flow_hash(&a, SL_DIST_SOURCE_IP, seed),
			 sl_flow_hash(&b, SL_DIST_SOURCE_IP, seed));
	/* SourceIPProtocol ignores ports ... */
	assert_int_equal(sl_flow_hash(&a, SL_DIST_SOURCE_IP_PROTOCOL, seed),
			 sl_flow_hash(&b, SL_DIST_SOURCE_IP_PROTOCOL, seed));
	/* Default changes with the source port */
	b = a;
	b.sport_be = htons(40001);
	assert_int_not_equal(sl_flow_hash(&a, SL_DIST_DEFAULT, seed),
			     sl_flow_hash(&b, SL_DIST_DEFAULT, seed));
	/* ... and with the protocol, as SourceIPProtocol does but SourceIP not */
	b = a;
	b.l4_proto = SL_PROTO_UDP;
	assert_int_not_equal(sl_flow_hash(&a, SL_DIST_DEFAULT, seed),
			     sl_flow_hash(&b, SL_DIST_DEFAULT, seed));
	assert_int_not_equal(sl_flow_hash(&a, SL_DIST_SOURCE_IP_PROTOCOL, seed),
			     sl_flow_hash(&b, SL_DIST_SOURCE_IP_PROTOCOL, seed));
	assert_int_equal(sl_flow_hash(&a, SL_DIST_SOURCE_IP, seed),
			 sl_flow_hash(&b, SL_DIST_SOURCE_IP, seed));
	/* all modes change with the source address and with the seed */
	b = a;
	v4(&b.src, 192, 0, 2, 2);
	assert_int_not_equal(sl_flow_hash(&a, SL_DIST_SOURCE_IP, seed),
			     sl_flow_hash(&b, SL_DIST_SOURCE_IP, seed));
	assert_int_not_equal(sl_flow_hash(&a, SL_DIST_DEFAULT, seed),
			     sl_flow_hash(&a, SL_DIST_DEFAULT, seed + 1));
}

/* Flow hashes of sequential source ports spread evenly over Maglev slots. */
static void
test_flow_hash_spread(void **state)
{
	enum { BUCKETS = 64, FLOWS = 64 * 4096 };
	static uint32_t count[BUCKETS];
	struct sl_pkt p;
	uint32_t i, max = 0, min = UINT32_MAX;
	(void)state;

	memset(count, 0, sizeof(count));
	make_pkt(&p, 0);
	for (i = 0; i < FLOWS; i++) {
		p.sport_be = htons((uint16_t)(1024 + i % 60000));
		v4(&p.src, 100, 64, (uint8_t)(i >> 16), (uint8_t)(i >> 8));
		count[sl_maglev_slot(sl_flow_hash(&p, SL_DIST_DEFAULT, 1), BUCKETS)]++;
	}
	for (i = 0; i < BUCKETS; i++) {
		if (count[i] > max)
			max = count[i];
		if (count[i] < min)
			min = count[i];
	}
	printf("flow hash spread over %d buckets: min %u max %u (mean %u)\n", BUCKETS, min, max,
	       FLOWS / BUCKETS);
	assert_true(max < 4096 * 11 / 10);
	assert_true(min > 4096 * 9 / 10);
}

/* ---- Maglev ------------------------------------------------------------- */

static void
test_is_prime(void **state)
{
	(void)state;
	assert_false(sl_is_prime(0));
	assert_false(sl_is_prime(1));
	assert_true(sl_is_prime(2));
	assert_true(sl_is_prime(3));
	assert_false(sl_is_prime(4));
	assert_true(sl_is_prime(65537));
	assert_false(sl_is_prime(65535));
	assert_true(sl_is_prime(655373));
	assert_false(sl_is_prime(25));
	assert_false(sl_is_prime(65537u * 65537u - 1));
	assert_true(sl_is_prime(4294967291u)); /* largest 32-bit prime */
	assert_false(sl_is_prime(4294967295u));
}

static void
count_slots(const uint16_t *t, uint32_t m, uint32_t n, uint32_t *count)
{
	uint32_t s;

	memset(count, 0, n * sizeof(*count));
	for (s = 0; s < m; s++) {
		assert_true(t[s] < n);
		count[t[s]]++;
	}
}

/*
 * The textbook weighted Maglev build, probe by probe with %, from the
 * derivation documented in sl_maglev.c (seed1 = seed, seed2 = seed with its
 * 32-bit halves swapped xor 0x9e3779b97f4a7c15). sl_maglev_build must give
 * exactly this table; it only does it faster.
 */
static int
ref_key_cmp(const void *a, const void *b)
{
	const struct sl_maglev_member *const *x = a, *const *y = b;

	return memcmp((*x)->key.bytes, (*y)->key.bytes, 16);
}

static void
ref_maglev(uint16_t *table, uint32_t m, const struct sl_maglev_member *mb, uint32_t n,
	   uint64_t seed)
{
	const struct sl_maglev_member **sorted = malloc(n * sizeof(*sorted));
	uint64_t *off = calloc(n, sizeof(*off)), *skip = calloc(n, sizeof(*skip));
	uint64_t *next = calloc(n, sizeof(*next)), *cum = calloc(n, sizeof(*cum));
	uint64_t seed2 = ((seed << 32) | (seed >> 32)) ^ 0x9e3779b97f4a7c15ull;
	uint32_t i, filled = 0, maxw = 0;

	assert_non_null(sorted);
	for (i = 0; i < n; i++)
		sorted[i] = &mb[i];
	qsort(sorted, n, sizeof(*sorted), ref_key_cmp);
	for (i = 0; i < n; i++) {
		off[i] = sl_hash64(sorted[i]->key.bytes, 16, seed) % m;
		skip[i] = sl_hash64(sorted[i]->key.bytes, 16, seed2) % (m - 1) + 1;
		if (sorted[i]->weight > maxw)
			maxw = sorted[i]->weight;
	}
	for (i = 0; i < m; i++)
		table[i] = SL_MAGLEV_EMPTY;
	while (maxw > 0 && filled < m) {
		for (i = 0; i < n && filled < m; i++) {
			uint32_t slot;

			if (sorted[i]->weight == 0)
				continue;
			cum[i] += sorted[i]->weight;
			if (cum[i] < maxw)
				continue;
			cum[i] -= maxw;
			do {
				slot = (uint32_t)((off[i] + next[i] * skip[i]) % m);
				next[i]++;
			} while (table[slot] != SL_MAGLEV_EMPTY);
			table[slot] = (uint16_t)(sorted[i] - mb);
			filled++;
		}
	}
	free(cum);
	free(next);
	free(skip);
	free(off);
	free(sorted);
}

static void
test_matches_reference(void **state)
{
	static const struct {
		uint32_t m, n;
		int weighted;
	} cases[] = {
		{2, 1, 0}, {3, 2, 0}, {7, 7, 0}, {13, 5, 1}, {1009, 10, 0}, {1009, 300, 1},
		{65537, 100, 0}, {65537, 1000, 1}, {655373, 50, 1},
	};
	uint64_t rng = 5;
	size_t c;
	(void)state;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint32_t m = cases[c].m, n = cases[c].n, i;
		struct sl_maglev_member *mb = make_members(n, 7);
		uint16_t *got = alloc_table(m), *want = alloc_table(m);
		uint64_t seed = test_rand(&rng);

		if (cases[c].weighted)
			for (i = 0; i < n; i++)
				mb[i].weight = (uint32_t)(test_rand(&rng) % 10);
		assert_int_equal(sl_maglev_build(got, m, mb, n, seed), 0);
		ref_maglev(want, m, mb, n, seed);
		assert_memory_equal(got, want, m * sizeof(*got));
		free(want);
		free(got);
		free(mb);
	}
}

/*
 * The table is part of the wire behaviour (every instance behind the same
 * routers must agree, across versions too): pin one. Change this value only
 * on purpose, knowing that a mixed-version fleet would then disagree.
 */
static void
test_golden_table(void **state)
{
	const uint32_t m = 65537, n = 100;
	struct sl_maglev_member *mb = make_members(n, 1);
	uint16_t *t = alloc_table(m);
	uint32_t crc = 0xffffffffu, i;
	(void)state;

	assert_int_equal(sl_maglev_build(t, m, mb, n, SL_MAGLEV_DEFAULT_SEED), 0);
	for (i = 0; i < m; i++) {
		uint8_t le[2] = {(uint8_t)t[i], (uint8_t)(t[i] >> 8)};

		crc = sl_crc32c(le, 2, crc);
	}
	crc = ~crc;
	printf("golden table crc32c 0x%08x\n", crc);
	assert_int_equal(crc, 0x9616efdeu);
	free(t);
	free(mb);
}

static void
test_balance(void **state)
{
	static const uint32_t ns[] = {10, 100, 500};
	const uint32_t m = 65537;
	size_t k;
	(void)state;

	for (k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		uint32_t n = ns[k], i, max = 0, min = UINT32_MAX;
		struct sl_maglev_member *mb = make_members(n, 1);
		uint16_t *t = alloc_table(m);
		uint32_t *count = calloc(n, sizeof(*count));
		double mean = (double)m / n;

		assert_true(m >= 100 * n);
		assert_int_equal(sl_maglev_build(t, m, mb, n, SL_MAGLEV_DEFAULT_SEED), 0);
		count_slots(t, m, n, count);
		for (i = 0; i < n; i++) {
			if (count[i] > max)
				max = count[i];
			if (count[i] < min)
				min = count[i];
		}
		printf("balance M=%u N=%u: min %u max %u mean %.2f max/mean %.4f\n", m, n, min,
		       max, mean, max / mean);
		assert_true(max / mean <= 1.01);
		free(count);
		free(t);
		free(mb);
	}
}

static void
test_weights(void **state)
{
	const uint32_t m = 65537;
	struct sl_maglev_member *mb = make_members(4, 1);
	uint16_t *t = alloc_table(m);
	uint32_t count[4];
	int i;
	(void)state;

	mb[0].weight = 1;
	mb[1].weight = 2;
	mb[2].weight = 3;
	mb[3].weight = 0; /* takes no slot */
	assert_int_equal(sl_maglev_build(t, m, mb, 4, SL_MAGLEV_DEFAULT_SEED), 0);
	count_slots(t, m, 4, count);
	printf("weights 1:2:3:0 M=%u: %u %u %u %u (shares %.4f %.4f %.4f)\n", m, count[0],
	       count[1], count[2], count[3], (double)count[0] / m, (double)count[1] / m,
	       (double)count[2] / m);
	assert_int_equal(count[3], 0);
	for (i = 0; i < 3; i++) {
		double share = (double)count[i] / m, want = (i + 1) / 6.0;

		assert_true(share > want - 0.01 && share < want + 0.01);
	}

	/* large weights do not overflow and keep proportions */
	mb[0].weight = UINT32_MAX;
	mb[1].weight = UINT32_MAX / 2;
	mb[2].weight = 0;
	mb[3].weight = 0;
	assert_int_equal(sl_maglev_build(t, m, mb, 4, SL_MAGLEV_DEFAULT_SEED), 0);
	count_slots(t, m, 4, count);
	assert_true(abs((int)count[0] - 2 * (int)count[1]) <= 2);

	free(t);
	free(mb);
}

static void
test_determinism(void **state)
{
	const uint32_t m = 65537, n = 100;
	struct sl_maglev_member *mb = make_members(n, 1);
	struct sl_maglev_member *sh = malloc(n * sizeof(*sh));
	uint16_t *t1 = alloc_table(m), *t2 = alloc_table(m), *t3 = alloc_table(m);
	uint64_t rng = 42;
	uint32_t i, diff = 0;
	(void)state;

	for (i = 0; i < n; i++)
		mb[i].weight = 1 + i % 3;
	memcpy(sh, mb, n * sizeof(*sh));
	for (i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(test_rand(&rng) % (i + 1));
		struct sl_maglev_member tmp = sh[i];

		sh[i] = sh[j];
		sh[j] = tmp;
	}
	assert_int_equal(sl_maglev_build(t1, m, mb, n, 7), 0);
	assert_int_equal(sl_maglev_build(t2, m, sh, n, 7), 0);
	/* the same key in every slot (indexes differ with the order given) */
	for (i = 0; i < m; i++)
		assert_true(sl_ip_addr_eq(&mb[t1[i]].key, &sh[t2[i]].key));
	/* a second build is identical */
	assert_int_equal(sl_maglev_build(t3, m, mb, n, 7), 0);
	assert_memory_equal(t1, t3, m * sizeof(*t1));
	/* another seed gives another table */
	assert_int_equal(sl_maglev_build(t3, m, mb, n, 8), 0);
	for (i = 0; i < m; i++)
		diff += t1[i] != t3[i];
	printf("determinism: seed 7 vs 8 differ in %u of %u slots\n", diff, m);
	assert_true(diff > m / 2);

	free(t1);
	free(t2);
	free(t3);
	free(sh);
	free(mb);
}

static void
test_disruption_remove(void **state)
{
	const uint32_t m = 65537, n = 100, gone = 37;
	struct sl_maglev_member *all = make_members(n, 1);
	struct sl_maglev_member *rest = malloc((n - 1) * sizeof(*rest));
	uint32_t *rest_to_all = malloc((n - 1) * sizeof(*rest_to_all));
	uint16_t *before = alloc_table(m), *after = alloc_table(m);
	uint32_t i, j = 0, owned = 0, moved_owned = 0, moved_others = 0;
	(void)state;

	for (i = 0; i < n; i++) {
		if (i == gone)
			continue;
		rest[j] = all[i];
		rest_to_all[j++] = i;
	}
	assert_int_equal(sl_maglev_build(before, m, all, n, SL_MAGLEV_DEFAULT_SEED), 0);
	assert_int_equal(sl_maglev_build(after, m, rest, n - 1, SL_MAGLEV_DEFAULT_SEED), 0);
	for (i = 0; i < m; i++) {
		uint32_t now = rest_to_all[after[i]];

		if (before[i] == gone) {
			owned++;
			moved_owned += now != gone;
		} else if (now != before[i]) {
			moved_others++;
		}
	}
	printf("remove 1 of %u (M=%u): its %u slots all moved: %u; other slots moved: %u "
	       "(%.2f%% of M); total moved %u\n", n, m, owned, moved_owned, moved_others,
	       100.0 * moved_others / m, moved_owned + moved_others);
	assert_int_equal(moved_owned, owned);
	assert_true(moved_others < m / 50);

	free(before);
	free(after);
	free(rest_to_all);
	free(rest);
	free(all);
}

static void
test_disruption_add(void **state)
{
	const uint32_t m = 65537, n = 100;
	struct sl_maglev_member *mb = make_members(n + 1, 1);
	uint16_t *before = alloc_table(m), *after = alloc_table(m);
	uint32_t i, to_new = 0, moved_others = 0;
	(void)state;

	/* the new backend is the last one; indexes 0..n-1 are the same members */
	assert_int_equal(sl_maglev_build(before, m, mb, n, SL_MAGLEV_DEFAULT_SEED), 0);
	assert_int_equal(sl_maglev_build(after, m, mb, n + 1, SL_MAGLEV_DEFAULT_SEED), 0);
	for (i = 0; i < m; i++) {
		if (after[i] == n)
			to_new++;
		else if (after[i] != before[i])
			moved_others++;
	}
	printf("add 1 to %u (M=%u): %u slots to the new backend; slots moved between old "
	       "backends: %u (%.2f%% of M); total moved %u\n", n, m, to_new, moved_others,
	       100.0 * moved_others / m, to_new + moved_others);
	assert_true(to_new >= m / (n + 1) && to_new <= m / (n + 1) + 1);
	assert_true(moved_others < m / 50);

	free(before);
	free(after);
	free(mb);
}

static void
test_empty_and_errors(void **state)
{
	const uint32_t m = 65537;
	struct sl_maglev_member *mb = make_members(3, 1);
	uint16_t *t = alloc_table(m);
	uint32_t i;
	(void)state;

	/* empty pool */
	memset(t, 0, m * sizeof(*t));
	assert_int_equal(sl_maglev_build(t, m, NULL, 0, 1), 0);
	for (i = 0; i < m; i++)
		assert_int_equal(t[i], SL_MAGLEV_EMPTY);
	/* all weights zero */
	memset(t, 0, m * sizeof(*t));
	mb[0].weight = mb[1].weight = mb[2].weight = 0;
	assert_int_equal(sl_maglev_build(t, m, mb, 3, 1), 0);
	for (i = 0; i < m; i++)
		assert_int_equal(t[i], SL_MAGLEV_EMPTY);
	mb[0].weight = mb[1].weight = mb[2].weight = 1;

	/* one member takes every slot; a prime as small as 2 or 3 works */
	assert_int_equal(sl_maglev_build(t, m, mb, 1, 1), 0);
	for (i = 0; i < m; i++)
		assert_int_equal(t[i], 0);
	assert_int_equal(sl_maglev_build(t, 2, mb, 2, 1), 0);
	assert_true((t[0] == 0 && t[1] == 1) || (t[0] == 1 && t[1] == 0));
	assert_int_equal(sl_maglev_build(t, 3, mb, 3, 1), 0);
	assert_int_equal(t[0] + t[1] + t[2], 3);

	/* M not prime */
	assert_int_equal(sl_maglev_build(t, 65536, mb, 3, 1), -EINVAL);
	assert_int_equal(sl_maglev_build(t, 1, mb, 1, 1), -EINVAL);
	assert_int_equal(sl_maglev_build(t, 0, mb, 0, 1), -EINVAL);
	/* more members than slots */
	assert_int_equal(sl_maglev_build(t, 2, mb, 3, 1), -EINVAL);
	/* too many members */
	assert_int_equal(sl_maglev_build(t, m, mb, SL_MAGLEV_MAX_MEMBERS + 1, 1), -EINVAL);
	/* duplicate keys, adjacent or not after sorting */
	mb[2].key = mb[0].key;
	assert_int_equal(sl_maglev_build(t, m, mb, 3, 1), -EINVAL);
	mb[2].weight = 0; /* a duplicate is an error even without weight */
	assert_int_equal(sl_maglev_build(t, m, mb, 3, 1), -EINVAL);

	free(t);
	free(mb);
}

/* IPv6 keys and mixed families balance like IPv4 ones. */
static void
test_ipv6_members(void **state)
{
	const uint32_t m = 65537, n = 64;
	struct sl_maglev_member mb[64];
	uint16_t *t = alloc_table(m);
	uint32_t count[64], i, max = 0;
	(void)state;

	memset(mb, 0, sizeof(mb));
	for (i = 0; i < n; i++) {
		if (i % 2)
			v6(&mb[i].key, 0, (uint16_t)i);
		else
			v4(&mb[i].key, 10, 9, 0, (uint8_t)i);
		mb[i].weight = 5;
	}
	assert_int_equal(sl_maglev_build(t, m, mb, n, SL_MAGLEV_DEFAULT_SEED), 0);
	count_slots(t, m, n, count);
	for (i = 0; i < n; i++)
		if (count[i] > max)
			max = count[i];
	assert_true(max <= m / n + 1);
	free(t);
}

static void
time_build(uint32_t m, uint32_t n)
{
	struct sl_maglev_member *mb = make_members(n, 1);
	uint16_t *t = alloc_table(m);
	double best = 1e9, total = 0;
	int i, runs = 7;

	for (i = 0; i < runs; i++) {
		double t0 = now_ms(), dt;

		assert_int_equal(sl_maglev_build(t, m, mb, n, SL_MAGLEV_DEFAULT_SEED), 0);
		dt = now_ms() - t0;
		total += dt;
		if (dt < best)
			best = dt;
	}
	printf("build time M=%u N=%u: best %.3f ms, mean %.3f ms over %d runs\n", m, n, best,
	       total / runs, runs);
	free(t);
	free(mb);
}

static void
test_build_time(void **state)
{
	(void)state;
	time_build(65537, 1000);
	time_build(655373, 5000);
}

/* ---- snapshot: frontend index and lookup -------------------------------- */

static void
set_rule(struct sl_rule *r, const struct sl_ip_addr *a, uint8_t proto, uint16_t port)
{
	r->frontend = *a;
	r->proto = proto;
	r->frontend_port_be = htons(port);
	r->family = sl_ip_addr_is_v4(a) ? SL_AF_IPV4 : SL_AF_IPV6;
}

static uint32_t
lookup(const struct sl_snapshot *s, const struct sl_ip_addr *dst, uint8_t proto, uint16_t port)
{
	struct sl_pkt p;

	memset(&p, 0, sizeof(p));
	p.dst = *dst;
	p.l4_proto = proto;
	p.dport_be = htons(port);
	return sl_snapshot_lookup(s, &p);
}

static void
test_snapshot_frontends(void **state)
{
	struct sl_snapshot *s = sl_snapshot_alloc(2, 6, 1, 3);
	struct sl_ip_addr a1, a2, a3, b6, c6;
	(void)state;

	assert_non_null(s);
	v4(&a1, 10, 0, 0, 1);
	v4(&a2, 10, 0, 0, 2);
	v4(&a3, 10, 0, 0, 3);
	v6(&b6, 0xf, 1);
	v6(&c6, 0xf, 2);

	/* before indexing, everything misses */
	assert_int_equal(lookup(s, &a1, SL_PROTO_TCP, 80), SL_RULE_NONE);

	set_rule(&s->rules[0], &a1, SL_PROTO_TCP, 80);
	set_rule(&s->rules[1], &a1, SL_PROTO_UDP, 53);
	set_rule(&s->rules[2], &a1, SL_PROTO_ALL, 0);  /* HA ports */
	set_rule(&s->rules[3], &b6, SL_PROTO_TCP, 443);
	set_rule(&s->rules[4], &a2, SL_PROTO_TCP, 80);
	set_rule(&s->rules[5], &c6, SL_PROTO_ALL, 0);  /* HA ports, IPv6 */
	assert_int_equal(sl_snapshot_index_frontends(s), 0);
	assert_true(s->frontend_mask + 1 >= 16);
	assert_int_equal((s->frontend_mask + 1) & s->frontend_mask, 0);

	/* exact matches */
	assert_int_equal(lookup(s, &a1, SL_PROTO_TCP, 80), 0);
	assert_int_equal(lookup(s, &a1, SL_PROTO_UDP, 53), 1);
	assert_int_equal(lookup(s, &b6, SL_PROTO_TCP, 443), 3);
	assert_int_equal(lookup(s, &a2, SL_PROTO_TCP, 80), 4);
	/* HA ports fallback: same address, other port or protocol */
	assert_int_equal(lookup(s, &a1, SL_PROTO_TCP, 8080), 2);
	assert_int_equal(lookup(s, &a1, SL_PROTO_UDP, 80), 2);
	assert_int_equal(lookup(s, &c6, SL_PROTO_UDP, 9999), 5);
	assert_int_equal(lookup(s, &c6, SL_PROTO_TCP, 1), 5);
	/* misses: no rule for the port and no HA ports rule, unknown address */
	assert_int_equal(lookup(s, &a2, SL_PROTO_TCP, 81), SL_RULE_NONE);
	assert_int_equal(lookup(s, &a2, SL_PROTO_UDP, 80), SL_RULE_NONE);
	assert_int_equal(lookup(s, &b6, SL_PROTO_TCP, 80), SL_RULE_NONE);
	assert_int_equal(lookup(s, &b6, SL_PROTO_UDP, 443), SL_RULE_NONE);
	assert_int_equal(lookup(s, &a3, SL_PROTO_TCP, 80), SL_RULE_NONE);
	assert_int_equal(sl_frontend_find(s, &a1, SL_PROTO_TCP, htons(80)), 0);
	assert_int_equal(sl_frontend_find(s, &a1, SL_PROTO_TCP, htons(81)), SL_RULE_NONE);

	/* duplicate (address, protocol, port): -EEXIST, the old index stays */
	set_rule(&s->rules[4], &a1, SL_PROTO_TCP, 80);
	assert_int_equal(sl_snapshot_index_frontends(s), -EEXIST);
	assert_int_equal(lookup(s, &a2, SL_PROTO_TCP, 80), 4);
	set_rule(&s->rules[4], &c6, SL_PROTO_ALL, 0);
	assert_int_equal(sl_snapshot_index_frontends(s), -EEXIST);

	/* pools own their member arrays and tables: sl_snapshot_free frees them */
	s->pools[0].n_members = 3;
	s->pools[0].members = calloc(3, sizeof(uint32_t));
	s->pools[0].table_size = 7;
	s->pools[0].table = calloc(7, sizeof(uint16_t));
	assert_non_null(s->pools[0].members);
	assert_non_null(s->pools[0].table);
	sl_snapshot_free(s);
	sl_snapshot_free(NULL);
}

static void
test_snapshot_many_rules(void **state)
{
	const uint32_t n = 3000;
	struct sl_snapshot *s = sl_snapshot_alloc(1, n, 0, 0);
	struct sl_ip_addr a;
	uint32_t i;
	(void)state;

	assert_non_null(s);
	for (i = 0; i < n; i++) {
		if (i % 3 == 0)
			v6(&a, (uint16_t)(i >> 8), (uint16_t)i);
		else
			v4(&a, 172, 16, (uint8_t)(i % 7), (uint8_t)(i / 7));
		set_rule(&s->rules[i], &a, i % 2 ? SL_PROTO_UDP : SL_PROTO_TCP,
			 (uint16_t)(1000 + i));
	}
	assert_int_equal(sl_snapshot_index_frontends(s), 0);
	assert_true(s->frontend_mask + 1 >= 2 * n);
	for (i = 0; i < n; i++) {
		const struct sl_rule *r = &s->rules[i];

		assert_int_equal(sl_frontend_find(s, &r->frontend, r->proto, r->frontend_port_be), i);
		assert_int_equal(sl_frontend_find(s, &r->frontend, r->proto,
						  htons(ntohs(r->frontend_port_be) + 1)),
				 SL_RULE_NONE);
	}
	sl_snapshot_free(s);

	/* no rules: a valid empty table */
	s = sl_snapshot_alloc(0, 0, 0, 0);
	assert_non_null(s);
	assert_int_equal(sl_snapshot_index_frontends(s), 0);
	v4(&a, 1, 2, 3, 4);
	assert_int_equal(lookup(s, &a, SL_PROTO_TCP, 80), SL_RULE_NONE);
	sl_snapshot_free(s);
}

/* A pool in a snapshot picks through its Maglev table. */
static void
test_pool_pick(void **state)
{
	struct sl_snapshot *s = sl_snapshot_alloc(1, 0, 2, 4);
	struct sl_maglev_member mb[3];
	struct sl_pool *p;
	uint32_t i, hits[4] = {0};
	(void)state;

	assert_non_null(s);
	memset(mb, 0, sizeof(mb));
	for (i = 0; i < 3; i++) {
		v4(&s->backends[i + 1].addr, 10, 1, 0, (uint8_t)(i + 1));
		mb[i].key = s->backends[i + 1].addr;
		mb[i].weight = 1;
	}
	p = &s->pools[0];
	p->n_members = 3;
	p->members = malloc(3 * sizeof(uint32_t));
	p->table_size = 1009;
	p->table = malloc(1009 * sizeof(uint16_t));
	assert_non_null(p->members);
	assert_non_null(p->table);
	for (i = 0; i < 3; i++)
		p->members[i] = i + 1;
	assert_int_equal(sl_maglev_build(p->table, 1009, mb, 3, 1), 0);
	for (i = 0; i < 30000; i++) {
		uint32_t b = sl_pool_pick(s, p, sl_crc32c(&i, sizeof(i), 0));

		assert_true(b >= 1 && b <= 3);
		hits[b]++;
	}
	printf("pool pick over 3 backends: %u %u %u\n", hits[1], hits[2], hits[3]);
	for (i = 1; i <= 3; i++)
		assert_true(hits[i] > 9000 && hits[i] < 11000);
	/* an empty pool picks nothing */
	assert_int_equal(sl_pool_pick(s, &s->pools[1], 12345), UINT32_MAX);
	sl_snapshot_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_check_value),
		cmocka_unit_test(test_crc32c_matches_reference),
		cmocka_unit_test(test_hash64),
		cmocka_unit_test(test_dist_names),
		cmocka_unit_test(test_flow_hash_key_layout),
		cmocka_unit_test(test_flow_hash_modes),
		cmocka_unit_test(test_flow_hash_spread),
		cmocka_unit_test(test_is_prime),
		cmocka_unit_test(test_matches_reference),
		cmocka_unit_test(test_golden_table),
		cmocka_unit_test(test_balance),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_disruption_remove),
		cmocka_unit_test(test_disruption_add),
		cmocka_unit_test(test_empty_and_errors),
		cmocka_unit_test(test_ipv6_members),
		cmocka_unit_test(test_build_time),
		cmocka_unit_test(test_snapshot_frontends),
		cmocka_unit_test(test_snapshot_many_rules),
		cmocka_unit_test(test_pool_pick),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
