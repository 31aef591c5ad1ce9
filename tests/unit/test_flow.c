/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_flow.c: unit tests of the per-lcore flow table (sl_flow): sizing
 * (and that every bucket of a sized table is reachable), layout and init,
 * insert/find with forced hash collisions, expiry (reclaim by insert,
 * 32-bit clock wrap), full buckets (refused, nothing live evicted), remove,
 * the incremental sweep, the live counter, a SYN flood against established
 * flows, a randomized model check against a naive reference, and
 * (information only) lookup timing. The flow key per distribution mode and
 * what the worker does with an entry are test_flow_policy.c's.
 *
 * No DPDK: table memory comes from aligned_alloc(64, ...), filled with
 * garbage first, since sl_flow_table_init() promises not to need zeroed
 * memory.
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
#include <sys/mman.h>
#include <time.h>

#include <cmocka.h>

#include "sl_flow.h"
#include "sl_hash.h"
#include "sl_parse.h"
#include "sl_types.h"

#define WAYS SL_FLOW_BUCKET_WAYS

/* ---- helpers ---------------------------------------------------------- */

/* xorshift64*: deterministic random numbers. */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static uint32_t
rnd32(uint64_t *s)
{
	return (uint32_t)(rnd(s) >> 32);
}

/* A table over freshly allocated, garbage-filled memory. */
struct tbl {
	struct sl_flow_table t;
	void *mem;
	size_t size;
};

static void
tbl_new(struct tbl *x, uint32_t n_buckets)
{
	size_t sz = sl_flow_table_memsize(n_buckets);
	size_t alloc = (sz + 63) & ~(size_t)63; /* aligned_alloc wants a multiple */

	x->size = sz;
	x->mem = aligned_alloc(64, alloc);
	assert_non_null(x->mem);
	memset(x->mem, 0xa5, alloc);
	assert_int_equal(sl_flow_table_init(&x->t, x->mem, n_buckets), 0);
}

static void
tbl_free(struct tbl *x)
{
	free(x->mem);
	x->mem = NULL;
}

static uint32_t
bucket_idx(const struct sl_flow_table *t, uint32_t hash)
{
	return (uint32_t)(sl_flow_bucket_of(t, hash) - t->buckets);
}

/* A random hash whose bucket is `bucket` (found through sl_flow_bucket_of only). */
static uint32_t
hash_in_bucket(const struct sl_flow_table *t, uint32_t bucket, uint64_t *s)
{
	for (;;) {
		uint32_t h = rnd32(s);

		if (bucket_idx(t, h) == bucket)
			return h;
	}
}

/* Distinct key number i: 10.i.i.i:(1024+i) -> 192.0.2.10:80 TCP. */
static void
key_n(struct sl_flow_key *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	sl_ip_addr_from_v4(&k->src, htonl(0x0a000000u | (i & 0xffffffu)));
	sl_ip_addr_from_v4(&k->dst, htonl(0xc000020au));
	k->sport_be = htons((uint16_t)(1024 + (i >> 24)));
	k->dport_be = htons(80);
	k->proto = SL_PROTO_TCP;
}

static void
rand_pkt(struct sl_pkt *p, uint64_t *s)
{
	memset(p, 0, sizeof(*p));
	if (rnd(s) & 1) {
		sl_ip_addr_from_v4(&p->src, rnd32(s));
		sl_ip_addr_from_v4(&p->dst, htonl(0xc000020au));
		p->family = SL_AF_IPV4;
	} else {
		uint64_t a = rnd(s), b = rnd(s);

		memcpy(&p->src.bytes[0], &a, 8);
		memcpy(&p->src.bytes[8], &b, 8);
		p->src.bytes[0] = 0x20;
		p->dst.bytes[0] = 0x20;
		p->dst.bytes[1] = 0x01;
		p->dst.bytes[15] = 0x10;
		p->family = SL_AF_IPV6;
	}
	p->sport_be = (uint16_t)rnd(s);
	p->dport_be = htons(80);
	p->l4_proto = (rnd(s) & 3) ? SL_PROTO_TCP : SL_PROTO_UDP;
	p->tcp_flags = p->l4_proto == SL_PROTO_TCP ? SL_TCP_SYN : 0;
}

/* The entry for (hash, key), or NULL. */
static struct sl_flow_entry *
lookup(const struct sl_flow_table *t, uint32_t hash, const struct sl_flow_key *k)
{
	const struct sl_flow_bucket *b = sl_flow_bucket_of(t, hash);
	int w = sl_flow_find(t, b, hash, k);

	if (w < 0)
		return NULL;
	assert_true(w < WAYS);
	return sl_flow_entry_at(t, b, w);
}

static struct sl_flow_entry *
insert(struct sl_flow_table *t, uint32_t hash, const struct sl_flow_key *k, uint32_t now,
       uint32_t expires)
{
	return sl_flow_insert(t, sl_flow_bucket_of(t, hash), hash, k, now, expires);
}

static uint32_t
live_ways(const struct sl_flow_table *t)
{
	uint32_t n = 0;

	for (uint32_t b = 0; b < t->n_buckets; b++)
		for (int w = 0; w < WAYS; w++)
			n += t->buckets[b].sig[w] != 0;
	return n;
}

/* live must equal what the counters say and the ways that are taken. */
static void
check_live(const struct sl_flow_table *t)
{
	assert_int_equal(t->live, t->stats.inserts - t->stats.removed - t->stats.expired);
	assert_int_equal(t->live, live_ways(t));
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- sizing, layout, init ---------------------------------------------- */

static void
test_sizing(void **state)
{
	static const uint64_t flows[] = {0, 1, 7, 8, 9, 63, 64, 65, 1000, 4096, 65536, 100000,
					 1000000, 1048576, 1048577, 10000000};
	static const unsigned int fills[] = {100, 95, 80, 75, 50, 25, 10, 1};
	(void)state;

	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		for (size_t j = 0; j < sizeof(fills) / sizeof(fills[0]); j++) {
			uint64_t f = flows[i];
			unsigned int p = fills[j];
			uint32_t n = sl_flow_buckets_for(f, p);

			assert_true(n >= 1);
			assert_int_equal(n & (n - 1), 0);
			/* enough ways: n * WAYS * p% >= f, up to the largest table */
			assert_true(n <= SL_FLOW_MAX_BUCKETS);
			if (n == SL_FLOW_MAX_BUCKETS)
				continue;
			assert_true((uint64_t)n * WAYS * p >= f * 100);
			/* and the smallest such power of two */
			if (n > 1)
				assert_true((uint64_t)(n / 2) * WAYS * p < f * 100);
		}
	}
	/* a few by hand */
	assert_int_equal(sl_flow_buckets_for(8, 100), 1);
	assert_int_equal(sl_flow_buckets_for(9, 100), 2);
	assert_int_equal(sl_flow_buckets_for(8, 80), 2);
	assert_int_equal(sl_flow_buckets_for(1000000, 100), 131072);
	assert_int_equal(sl_flow_buckets_for(1000000, 80), 262144);
	assert_int_equal(sl_flow_buckets_for(1048576, 100), 131072);
	assert_int_equal(sl_flow_buckets_for(1048577, 100), 262144);

	/* memsize: 16 bytes of signatures per bucket + 64 bytes per entry */
	assert_int_equal(sizeof(struct sl_flow_entry), 64);
	assert_int_equal(sizeof(struct sl_flow_bucket), 16);
	assert_int_equal(sizeof(struct sl_flow_key), 40);
	for (uint32_t n = 1; n <= (1u << 20); n <<= 1)
		assert_int_equal(sl_flow_table_memsize(n), (size_t)n * 16 + (size_t)n * WAYS * 64);
	/* no 32-bit overflow in the size of a large table */
	assert_int_equal(sl_flow_table_memsize(1u << 28), ((size_t)1 << 28) * 528);

	uint32_t n100 = sl_flow_buckets_for(1000000, 100);
	uint32_t n80 = sl_flow_buckets_for(1000000, 80);
	size_t m100 = sl_flow_table_memsize(n100), m80 = sl_flow_table_memsize(n80);

	printf("flow table: %zu B per entry, %zu B of signatures per bucket, %u ways: "
	       "%zu B per bucket with its entries\n",
	       sizeof(struct sl_flow_entry), sizeof(struct sl_flow_bucket), WAYS,
	       sl_flow_table_memsize(1));
	printf("1M flows at 100%% fill: %u buckets, %zu B (%.1f MiB), %.1f B per flow\n", n100,
	       m100, (double)m100 / 1048576.0, (double)m100 / 1e6);
	printf("1M flows at  80%% fill: %u buckets, %zu B (%.1f MiB), %.1f B per flow\n", n80, m80,
	       (double)m80 / 1048576.0, (double)m80 / 1e6);
}

/*
 * Every bucket of a table sl_flow_buckets_for() sizes must be reachable by
 * sl_flow_bucket_of(), up to the largest table it returns. The signatures of
 * such a table are only reserved (PROT_NONE, never touched): sl_flow_bucket_of
 * computes an address and this test compares addresses.
 */
static void
test_sizing_addressable(void **state)
{
	static const uint64_t flows[] = {1000000, 100000000, 1ull << 28, (1ull << 28) + 1,
					 300000000, 1ull << 30, 1ull << 31};
	uint64_t s = 0xadd7;
	(void)state;

	/* sluiced sizes at 80% fill and accepts --flow-table-size up to 2^28 */
	for (size_t i = 0; i < 2 * sizeof(flows) / sizeof(flows[0]); i++) {
		uint64_t f = flows[i / 2];
		unsigned int fill = (i & 1) ? 80 : 100;
		uint32_t n = sl_flow_buckets_for(f, fill);
		size_t len = (size_t)n * sizeof(struct sl_flow_bucket);
		void *res = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				 -1, 0);
		struct sl_flow_table t;
		uint32_t max = 0;

		assert_true(res != MAP_FAILED);
		memset(&t, 0, sizeof(t));
		t.n_buckets = n;
		t.mask = n - 1;
		t.shift = 32;
		for (uint32_t k = n; k > 1; k >>= 1)
			t.shift--;
		t.buckets = res;
		for (uint32_t j = 0; j < 1000000; j++) {
			uint32_t b = bucket_idx(&t, rnd32(&s));

			assert_true(b < n);
			if (b > max)
				max = b;
		}
		/* a million random hashes reach the upper half of any table */
		if (n > 1 && max < n / 2)
			printf("BUG: %llu flows at %u%% fill: %u buckets, but the highest bucket "
			       "sl_flow_bucket_of reached is %u: %.0f%% of the table unusable\n",
			       (unsigned long long)f, fill, n, max,
			       100.0 * (1.0 - (double)(max + 1) / (double)n));
		assert_true(n == 1 || max >= n / 2);
		munmap(res, len);
	}
}

static void
test_init_layout(void **state)
{
	(void)state;

	for (uint32_t n = 1; n <= 4096; n <<= 1) {
		struct tbl x;

		tbl_new(&x, n);
		struct sl_flow_table *t = &x.t;
		uintptr_t lo = (uintptr_t)x.mem, hi = lo + x.size;
		uintptr_t e0 = (uintptr_t)t->entries, e1 = e0 + (size_t)n * WAYS * 64;
		uintptr_t b0 = (uintptr_t)t->buckets, b1 = b0 + (size_t)n * 16;

		assert_int_equal(t->n_buckets, n);
		assert_int_equal(t->mask, n - 1);
		assert_int_equal(t->live, 0);
		assert_int_equal(t->sweep_next, 0);
		assert_int_equal(t->stats.inserts + t->stats.full + t->stats.expired +
					 t->stats.removed + t->stats.hits + t->stats.misses,
				 0);
		/* both arrays inside the memory, disjoint, entries on cache lines */
		assert_true(e0 >= lo && e1 <= hi);
		assert_true(b0 >= lo && b1 <= hi);
		assert_true(e1 <= b0 || b1 <= e0);
		assert_int_equal(e0 & 63, 0);
		assert_int_equal(b0 & 31, 0);
		/* every way free although the memory was garbage */
		assert_int_equal(live_ways(t), 0);
		/* every bucket reachable by some hash, every bucket_of inside the table */
		for (uint32_t h = 0; h < 200000; h++) {
			uint32_t hash = h * 2654435761u;

			assert_true(bucket_idx(t, hash) < n);
		}
		tbl_free(&x);
	}
}

static void
test_init_refuses(void **state)
{
	static const uint32_t bad_n[] = {0, 3, 5, 6, 7, 12, 100, 1000, 0x80000001u, 0xffffffffu};
	struct sl_flow_table t;
	size_t sz = sl_flow_table_memsize(16) + 128;
	uint8_t *mem = aligned_alloc(64, (sz + 63) & ~(size_t)63);
	(void)state;

	assert_non_null(mem);
	for (size_t i = 0; i < sizeof(bad_n) / sizeof(bad_n[0]); i++)
		assert_int_equal(sl_flow_table_init(&t, mem, bad_n[i]), -EINVAL);
	for (size_t off = 1; off < 64; off++)
		assert_int_equal(sl_flow_table_init(&t, mem + off, 16), -EINVAL);
	assert_int_equal(sl_flow_table_init(&t, mem + 64, 16), 0);
	assert_int_equal(sl_flow_table_init(&t, mem, 16), 0);
	assert_int_equal(sl_flow_table_init(&t, mem, 1), 0);
	free(mem);
}

/* ---- insert, find, collisions ------------------------------------------- */

static void
test_insert_find(void **state)
{
	struct tbl x;
	struct sl_flow_key k, v[7];
	uint32_t h = 0x12345678u;
	(void)state;

	tbl_new(&x, 64);
	struct sl_flow_table *t = &x.t;

	/* IPv6 key, all fields non-zero */
	memset(&k, 0, sizeof(k));
	for (int i = 0; i < 16; i++) {
		k.src.bytes[i] = (uint8_t)(0x20 + i);
		k.dst.bytes[i] = (uint8_t)(0x40 + i);
	}
	k.sport_be = htons(40000);
	k.dport_be = htons(443);
	k.proto = SL_PROTO_TCP;

	assert_null(lookup(t, h, &k));
	struct sl_flow_entry *e = insert(t, h, &k, 1000, 5000);
	assert_non_null(e);
	/* key and expiry set, the rest zero (the memory was garbage) */
	assert_memory_equal(&e->key, &k, sizeof(k));
	assert_int_equal(e->expires_ms, 5000);
	assert_int_equal(e->backend_id, 0);
	assert_int_equal(e->rule_id, 0);
	assert_int_equal(e->client_seq_next, 0);
	assert_int_equal(e->client_ack, 0);
	assert_int_equal(e->state, SL_FLOW_NEW);
	assert_int_equal(e->flags, 0);
	assert_int_equal(e->port, 0);
	assert_int_equal((uintptr_t)e & 63, 0);
	assert_true(e >= t->entries && e < t->entries + (size_t)64 * WAYS);
	/* in its hash's bucket */
	assert_int_equal((uint32_t)(e - t->entries) / WAYS, bucket_idx(t, h));
	assert_ptr_equal(lookup(t, h, &k), e);
	assert_int_equal(t->live, 1);
	assert_int_equal(t->stats.inserts, 1);
	e->backend_id = 77;

	/* a key differing in any one field misses, with the same hash (forced collision) */
	for (int i = 0; i < 7; i++)
		v[i] = k;
	v[0].src.bytes[15] ^= 1;
	v[1].src.bytes[0] ^= 0x80;
	v[2].dst.bytes[15] ^= 1;
	v[3].dst.bytes[3] ^= 0x10;
	v[4].sport_be = htons(40001);
	v[5].dport_be = htons(444);
	v[6].proto = SL_PROTO_UDP;
	for (int i = 0; i < 7; i++) {
		assert_null(lookup(t, h, &v[i]));
		assert_null(lookup(t, h ^ 1, &v[i])); /* same signature too (hash | 1) */
	}
	/* the same key with another hash in the same bucket but another signature misses */
	{
		uint64_t s = 99;
		uint32_t h2;

		do
			h2 = hash_in_bucket(t, bucket_idx(t, h), &s);
		while (sl_flow_sig(h2) == sl_flow_sig(h));
		assert_null(lookup(t, h2, &k));
	}

	/* insert the 7 colliding keys: 8 entries, one bucket, all with one hash */
	struct sl_flow_entry *ev[7];
	for (int i = 0; i < 7; i++) {
		ev[i] = insert(t, h, &v[i], 1000, 5000);
		assert_non_null(ev[i]);
		ev[i]->backend_id = 100u + (uint32_t)i;
	}
	assert_int_equal(t->live, 8);
	assert_ptr_equal(lookup(t, h, &k), e);
	assert_int_equal(e->backend_id, 77);
	for (int i = 0; i < 7; i++) {
		assert_ptr_equal(lookup(t, h, &v[i]), ev[i]);
		assert_int_equal(ev[i]->backend_id, 100u + (uint32_t)i);
		assert_memory_equal(&ev[i]->key, &v[i], sizeof(v[i]));
		assert_ptr_not_equal(ev[i], e);
		for (int j = 0; j < i; j++)
			assert_ptr_not_equal(ev[i], ev[j]);
	}
	/* a ninth key with the same hash: the bucket is full */
	struct sl_flow_key k9 = k;
	k9.sport_be = htons(1);
	assert_null(insert(t, h, &k9, 1000, 5000));
	assert_int_equal(t->stats.full, 1);
	assert_null(lookup(t, h, &k9));
	check_live(t);
	tbl_free(&x);
}

/* Hash 0 and hash 1 share signature 1; signature 0 must never be written. */
static void
test_hash_zero(void **state)
{
	struct tbl x;
	struct sl_flow_key a, b;
	(void)state;

	tbl_new(&x, 1);
	struct sl_flow_table *t = &x.t;
	key_n(&a, 1);
	key_n(&b, 2);
	struct sl_flow_entry *ea = insert(t, 0, &a, 0, 100);
	struct sl_flow_entry *eb = insert(t, 1, &b, 0, 100);
	assert_non_null(ea);
	assert_non_null(eb);
	assert_ptr_not_equal(ea, eb);
	assert_ptr_equal(lookup(t, 0, &a), ea);
	assert_ptr_equal(lookup(t, 1, &b), eb);
	assert_ptr_equal(lookup(t, 1, &a), ea); /* same signature: the key decides */
	assert_ptr_equal(lookup(t, 0, &b), eb);
	assert_int_equal(t->live, 2);
	assert_int_equal(live_ways(t), 2);
	for (int w = 0; w < WAYS; w++)
		assert_true(t->buckets[0].sig[w] == 0 || (t->buckets[0].sig[w] & 1) == 1);
	tbl_free(&x);
}

/* ---- expiry -------------------------------------------------------------- */

/* Fill bucket 0 of t with 8 keys (numbers base..base+7) sharing hash h. */
static void
fill_bucket(struct sl_flow_table *t, uint32_t h, uint32_t base, uint32_t now,
	    const uint32_t exp[WAYS], struct sl_flow_entry *out[WAYS])
{
	for (uint32_t i = 0; i < WAYS; i++) {
		struct sl_flow_key k;

		key_n(&k, base + i);
		out[i] = insert(t, h, &k, now, exp[i]);
		assert_non_null(out[i]);
		out[i]->backend_id = 1000 + base + i;
		out[i]->rule_id = 7;
		out[i]->state = SL_FLOW_ESTABLISHED;
	}
}

static void
test_expiry_reclaim(void **state)
{
	struct tbl x;
	struct sl_flow_entry *e[WAYS];
	uint32_t exp[WAYS];
	struct sl_flow_key k;
	uint32_t h = 0xdeadbeefu, base = 1000000;
	(void)state;

	tbl_new(&x, 4);
	struct sl_flow_table *t = &x.t;
	for (uint32_t i = 0; i < WAYS; i++)
		exp[i] = base + 1000 * (i + 1);
	fill_bucket(t, h, 0, base, exp, e);
	check_live(t);

	/* just before the first deadline: nothing to reclaim */
	key_n(&k, 100);
	assert_null(insert(t, h, &k, base + 999, base + 5000));
	assert_int_equal(t->stats.full, 1);
	assert_int_equal(t->stats.expired, 0);
	/* at the deadline: key 0's way is reclaimed, counted expired */
	struct sl_flow_entry *n = insert(t, h, &k, base + 1000, base + 50000);
	assert_ptr_equal(n, e[0]);
	assert_int_equal(n->backend_id, 0);
	assert_int_equal(n->state, SL_FLOW_NEW);
	assert_int_equal(n->expires_ms, base + 50000);
	assert_int_equal(t->stats.expired, 1);
	assert_int_equal(t->stats.inserts, 9);
	assert_int_equal(t->live, 8);
	check_live(t);
	{
		struct sl_flow_key k0;

		key_n(&k0, 0);
		assert_null(lookup(t, h, &k0));
	}
	assert_ptr_equal(lookup(t, h, &k), n);
	/* nothing else expired: the next insert is refused, nothing evicted */
	key_n(&k, 101);
	assert_null(insert(t, h, &k, base + 1999, base + 5000));
	assert_int_equal(t->stats.full, 2);
	for (uint32_t i = 1; i < WAYS; i++) {
		struct sl_flow_key ki;

		key_n(&ki, i);
		assert_ptr_equal(lookup(t, h, &ki), e[i]);
		assert_int_equal(e[i]->backend_id, 1000 + i);
	}

	/* only a middle way expired: that one is taken, never a live one */
	tbl_free(&x);
	tbl_new(&x, 4);
	t = &x.t;
	for (uint32_t i = 0; i < WAYS; i++)
		exp[i] = i == 5 ? base + 10 : base + 100000;
	fill_bucket(t, h, 0, base, exp, e);
	key_n(&k, 200);
	n = insert(t, h, &k, base + 20, base + 100000);
	assert_ptr_equal(n, e[5]);
	assert_int_equal(t->stats.expired, 1);
	for (uint32_t i = 0; i < WAYS; i++) {
		struct sl_flow_key ki;

		key_n(&ki, i);
		if (i == 5) {
			assert_null(lookup(t, h, &ki));
		} else {
			assert_ptr_equal(lookup(t, h, &ki), e[i]);
			assert_int_equal(e[i]->backend_id, 1000 + i);
		}
	}
	check_live(t);

	/* a bucket with free ways takes a free one, leaves expired ones for the sweep */
	tbl_free(&x);
	tbl_new(&x, 4);
	t = &x.t;
	key_n(&k, 1);
	e[0] = insert(t, h, &k, base, base + 1);
	key_n(&k, 2);
	e[1] = insert(t, h, &k, base + 10, base + 20);
	assert_non_null(e[1]);
	assert_ptr_not_equal(e[0], e[1]);
	assert_int_equal(t->stats.expired, 0);
	assert_int_equal(t->live, 2);
	tbl_free(&x);
}

static void
test_time_wrap(void **state)
{
	struct tbl x;
	struct sl_flow_entry *e[WAYS];
	uint32_t exp[WAYS];
	struct sl_flow_key k;
	uint32_t h = 0x0badf00du, t0 = 0xffffff00u;
	(void)state;

	assert_true(sl_flow_time_passed(0, 0xffffffffu));
	assert_false(sl_flow_time_passed(0xffffffffu, 0));
	assert_true(sl_flow_time_passed(5, 0xfffffff0u));
	assert_false(sl_flow_time_passed(0xfffffff0u, 5));
	assert_true(sl_flow_time_passed(0x7fffffffu, 0));
	assert_true(sl_flow_time_passed(1234, 1234));
	assert_false(sl_flow_time_passed(1233, 1234));

	tbl_new(&x, 2);
	struct sl_flow_table *t = &x.t;
	/* deadlines straddling the wrap: 0xffffff80, 0x0, 0x100, then far ones */
	exp[0] = t0 + 0x80;
	exp[1] = t0 + 0x100;
	exp[2] = t0 + 0x200;
	for (uint32_t i = 3; i < WAYS; i++)
		exp[i] = t0 + 3600000;
	fill_bucket(t, h, 0, t0, exp, e);

	key_n(&k, 50);
	assert_null(insert(t, h, &k, t0 + 0x7f, exp[0]));   /* 0xffffff7f: none expired */
	assert_ptr_equal(insert(t, h, &k, 0xffffffffu, 0x1000), e[0]);
	key_n(&k, 51);
	assert_null(insert(t, h, &k, 0xffffffffu, 0x1000)); /* 0x0 deadline not yet */
	assert_ptr_equal(insert(t, h, &k, 0, 0x1000), e[1]); /* at 0 it has */
	key_n(&k, 52);
	assert_null(insert(t, h, &k, 0xff, 0x1000));
	assert_int_equal(t->stats.full, 3);
	assert_int_equal(t->stats.expired, 2);

	/* sweep across the wrap: at 0xffffffff nothing of the rest; at 0x100 way 2 */
	assert_int_equal(sl_flow_sweep(t, 0xffffffffu, 2, NULL, NULL), 0);
	assert_int_equal(sl_flow_sweep(t, 0xff, 2, NULL, NULL), 0);
	assert_int_equal(sl_flow_sweep(t, 0x100, 2, NULL, NULL), 1);
	key_n(&k, 2);
	assert_null(lookup(t, h, &k));
	/* the re-inserted ones (deadline 0x1000, after the wrap) live until 0x1000 */
	assert_int_equal(sl_flow_sweep(t, 0xfff, 2, NULL, NULL), 0);
	assert_int_equal(sl_flow_sweep(t, 0x1000, 2, NULL, NULL), 2);
	/* the far ones survive all of it */
	assert_int_equal(t->live, WAYS - 3);
	for (uint32_t i = 3; i < WAYS; i++) {
		key_n(&k, i);
		assert_ptr_equal(lookup(t, h, &k), e[i]);
	}
	check_live(t);
	tbl_free(&x);
}

/* ---- full buckets ---------------------------------------------------------- */

static void
test_full_bucket_never_evicts(void **state)
{
	struct tbl x;
	struct sl_flow_entry *e[WAYS], copy[WAYS];
	uint32_t hs[WAYS];
	uint64_t s = 7;
	(void)state;

	tbl_new(&x, 64);
	struct sl_flow_table *t = &x.t;
	/* 8 keys with 8 different hashes, all in bucket 9 */
	for (uint32_t i = 0; i < WAYS; i++) {
		struct sl_flow_key k;

		hs[i] = hash_in_bucket(t, 9, &s);
		key_n(&k, i);
		e[i] = insert(t, hs[i], &k, 0, 1000000);
		assert_non_null(e[i]);
		e[i]->backend_id = 500 + i;
		e[i]->client_seq_next = 0x11111111u * i;
		e[i]->state = SL_FLOW_ESTABLISHED;
		copy[i] = *e[i];
	}
	/* 1000 new flows for that bucket, some with the live flows' exact hashes */
	for (uint32_t j = 0; j < 1000; j++) {
		struct sl_flow_key k;
		uint32_t h = (j & 1) ? hs[j % WAYS] : hash_in_bucket(t, 9, &s);

		key_n(&k, 100 + j);
		assert_null(insert(t, h, &k, 999999, 2000000));
	}
	assert_int_equal(t->stats.full, 1000);
	assert_int_equal(t->stats.inserts, WAYS);
	assert_int_equal(t->stats.expired, 0);
	assert_int_equal(t->live, WAYS);
	for (uint32_t i = 0; i < WAYS; i++) {
		struct sl_flow_key k;

		key_n(&k, i);
		assert_ptr_equal(lookup(t, hs[i], &k), e[i]);
		assert_memory_equal(e[i], &copy[i], sizeof(copy[i]));
	}
	/* other buckets are unaffected */
	{
		struct sl_flow_key k;
		uint32_t h = hash_in_bucket(t, 10, &s);

		key_n(&k, 5000);
		assert_non_null(insert(t, h, &k, 0, 10));
	}
	check_live(t);
	tbl_free(&x);
}

/* ---- remove ------------------------------------------------------------------ */

/*
 * A full bucket: a flow past its handshake takes the way of the TCP entry
 * seen only with SYN that expires first; established, draining and UDP
 * entries are never taken, and with none of those left nothing is.
 */
static void
test_displace_syn_only(void **state)
{
	struct tbl x;
	struct sl_flow_entry *e[WAYS], copy[WAYS];
	uint32_t hs[WAYS];
	uint64_t s = 11;
	(void)state;

	tbl_new(&x, 64);
	struct sl_flow_table *t = &x.t;
	struct sl_flow_bucket *b = &t->buckets[9];
	/* ways 0-4 TCP SYN-only expiring at 5000 - 100 i, 5 established, 6 UDP, 7 draining SYN-only */
	for (uint32_t i = 0; i < WAYS; i++) {
		struct sl_flow_key k;

		hs[i] = hash_in_bucket(t, 9, &s);
		key_n(&k, i);
		if (i == 6)
			k.proto = SL_PROTO_UDP;
		e[i] = insert(t, hs[i], &k, 0, 5000 - 100 * i);
		assert_non_null(e[i]);
		e[i]->backend_id = 700 + i;
		e[i]->state = i == 5 ? SL_FLOW_ESTABLISHED : SL_FLOW_NEW;
		e[i]->flags = i == 7 ? SL_FLOW_F_DRAINING : 0;
		copy[i] = *e[i];
	}
	/* five flows find no room, then take ways 4, 3, 2, 1, 0: the first to expire first */
	for (uint32_t j = 0; j < 5; j++) {
		struct sl_flow_key k;
		uint32_t h = hash_in_bucket(t, 9, &s);

		key_n(&k, 100 + j);
		assert_null(insert(t, h, &k, 10, 20000));
		struct sl_flow_entry *n = sl_flow_displace_syn_only(t, b, h, &k, 20000);
		assert_ptr_equal(n, e[4 - j]);
		assert_memory_equal(&n->key, &k, sizeof(k));
		assert_int_equal(n->state, SL_FLOW_NEW);
		assert_int_equal(n->backend_id, 0);
		assert_int_equal(n->expires_ms, 20000);
		assert_ptr_equal(lookup(t, h, &k), n);
		n->state = SL_FLOW_ESTABLISHED;
		key_n(&k, 4 - j);
		assert_null(lookup(t, hs[4 - j], &k));
	}
	/* left: established, UDP, draining, and the five just placed (established) */
	{
		struct sl_flow_key k;
		uint32_t h = hash_in_bucket(t, 9, &s);

		key_n(&k, 200);
		assert_null(sl_flow_displace_syn_only(t, b, h, &k, 20000));
	}
	for (uint32_t i = 5; i < WAYS; i++) {
		struct sl_flow_key k;

		key_n(&k, i);
		if (i == 6)
			k.proto = SL_PROTO_UDP;
		assert_ptr_equal(lookup(t, hs[i], &k), e[i]);
		assert_memory_equal(e[i], &copy[i], sizeof(copy[i]));
	}
	assert_int_equal(t->stats.displaced, 5);
	assert_int_equal(t->live, WAYS);
	check_live(t);
	tbl_free(&x);
}

static void
test_remove(void **state)
{
	struct tbl x;
	struct sl_flow_entry *e[WAYS];
	uint32_t exp[WAYS];
	struct sl_flow_key k;
	uint32_t h = 0x600dcafeu;
	(void)state;

	tbl_new(&x, 8);
	struct sl_flow_table *t = &x.t;
	for (uint32_t i = 0; i < WAYS; i++)
		exp[i] = 100000;
	fill_bucket(t, h, 0, 0, exp, e);
	key_n(&k, 3);
	sl_flow_remove(t, e[3]);
	assert_null(lookup(t, h, &k));
	assert_int_equal(t->live, WAYS - 1);
	assert_int_equal(t->stats.removed, 1);
	assert_int_equal(t->stats.expired, 0);
	check_live(t);
	/* the freed way is taken by the next insert, nothing else is touched */
	key_n(&k, 42);
	assert_ptr_equal(insert(t, h, &k, 0, 100000), e[3]);
	assert_int_equal(t->stats.full, 0);
	assert_int_equal(t->stats.expired, 0);
	for (uint32_t i = 0; i < WAYS; i++) {
		struct sl_flow_key ki;

		if (i == 3)
			continue;
		key_n(&ki, i);
		assert_ptr_equal(lookup(t, h, &ki), e[i]);
		assert_int_equal(e[i]->backend_id, 1000 + i);
	}
	/* remove everything: the table is empty again */
	for (uint32_t i = 0; i < WAYS; i++)
		sl_flow_remove(t, e[i]);
	assert_int_equal(t->live, 0);
	assert_int_equal(live_ways(t), 0);
	check_live(t);
	/* an expired entry removed by the caller is not also counted expired */
	key_n(&k, 1);
	struct sl_flow_entry *n = insert(t, h, &k, 0, 5);
	sl_flow_remove(t, n);
	assert_int_equal(sl_flow_sweep(t, 1000, t->n_buckets, NULL, NULL), 0);
	assert_int_equal(t->stats.expired, 0);
	check_live(t);
	tbl_free(&x);
}

/* ---- sweep ----------------------------------------------------------------------- */

struct sweep_log {
	uint32_t n;
	uint32_t cap;
	struct sl_flow_entry *seen; /* copies of what the callback was given */
	const struct sl_flow_table *t;
	uint32_t bad_sig;           /* callback saw an entry whose way was already free */
};

static void
sweep_cb(const struct sl_flow_entry *e, void *arg)
{
	struct sweep_log *l = arg;
	uint32_t idx = (uint32_t)(e - l->t->entries);

	if (l->t->buckets[idx / WAYS].sig[idx % WAYS] == 0)
		l->bad_sig++;
	assert_true(l->n < l->cap);
	l->seen[l->n++] = *e;
}

static void
test_sweep(void **state)
{
	enum { NB = 64 };
	struct tbl x;
	uint64_t s = 1234;
	uint32_t hash_of[NB][3];
	struct sweep_log log;
	(void)state;

	tbl_new(&x, NB);
	struct sl_flow_table *t = &x.t;
	/* every bucket: one expiring at 100 (number 3b), one at 200 (3b+1), one at 10^6 (3b+2) */
	for (uint32_t b = 0; b < NB; b++) {
		for (uint32_t j = 0; j < 3; j++) {
			struct sl_flow_key k;
			static const uint32_t ex[3] = {100, 200, 1000000};

			hash_of[b][j] = hash_in_bucket(t, b, &s);
			key_n(&k, 3 * b + j);
			struct sl_flow_entry *e = insert(t, hash_of[b][j], &k, 0, ex[j]);
			assert_non_null(e);
			e->backend_id = 3 * b + j;
			e->rule_id = 9;
			e->state = SL_FLOW_ESTABLISHED;
			e->flags = 0x5a;
			e->client_seq_next = 0xabc00000u + 3 * b + j;
			e->client_ack = 0xdef00000u + 3 * b + j;
		}
	}
	assert_int_equal(t->live, 3 * NB);

	memset(&log, 0, sizeof(log));
	log.cap = 4 * NB;
	log.seen = calloc(log.cap, sizeof(*log.seen));
	log.t = t;
	assert_non_null(log.seen);

	/* nothing expired yet: a whole pass frees nothing, calls nothing */
	assert_int_equal(sl_flow_sweep(t, 99, NB, sweep_cb, &log), 0);
	assert_int_equal(log.n, 0);
	assert_int_equal(t->sweep_next, 0);
	/* step 0 does nothing */
	assert_int_equal(sl_flow_sweep(t, 150, 0, sweep_cb, &log), 0);
	assert_int_equal(t->sweep_next, 0);

	/* step 5 at now=150: each call looks at exactly 5 buckets (sweep_next +5)
	 * and frees exactly their number-3b entries; ceil(64/5) = 13 calls cover all */
	uint8_t visited[NB] = {0};
	uint32_t calls = 0, total = 0;
	while (total < NB) {
		uint32_t before = t->sweep_next;
		uint32_t n0 = log.n;
		uint32_t f = sl_flow_sweep(t, 150, 5, sweep_cb, &log);

		calls++;
		assert_int_equal(t->sweep_next, (before + 5) % NB);
		assert_int_equal(f, log.n - n0);
		uint32_t want = 0;
		for (uint32_t i = 0; i < 5; i++) {
			uint32_t b = (before + i) % NB;

			want += !visited[b];
			visited[b] = 1;
		}
		assert_int_equal(f, want);
		/* exactly the entries of the visited buckets, contents intact */
		for (uint32_t i = n0; i < log.n; i++) {
			const struct sl_flow_entry *c = &log.seen[i];
			uint32_t num = c->backend_id, b = num / 3;
			struct sl_flow_key k;

			assert_int_equal(num % 3, 0);
			assert_true(((b - before) % NB) < 5);
			key_n(&k, num);
			assert_memory_equal(&c->key, &k, sizeof(k));
			assert_int_equal(c->expires_ms, 100);
			assert_int_equal(c->rule_id, 9);
			assert_int_equal(c->state, SL_FLOW_ESTABLISHED);
			assert_int_equal(c->flags, 0x5a);
			assert_int_equal(c->client_seq_next, 0xabc00000u + num);
			assert_int_equal(c->client_ack, 0xdef00000u + num);
		}
		total += f;
		assert_true(calls <= (NB + 4) / 5);
	}
	assert_int_equal(calls, (NB + 4) / 5);
	assert_int_equal(log.bad_sig, 0);
	assert_int_equal(t->live, 2 * NB);
	assert_int_equal(t->stats.expired, NB);
	check_live(t);
	/* each freed once: no duplicates in the log */
	for (uint32_t i = 0; i < log.n; i++)
		for (uint32_t j = 0; j < i; j++)
			assert_int_not_equal(log.seen[i].backend_id, log.seen[j].backend_id);
	for (uint32_t b = 0; b < NB; b++) {
		struct sl_flow_key k;

		key_n(&k, 3 * b);
		assert_null(lookup(t, hash_of[b][0], &k));
		key_n(&k, 3 * b + 1);
		assert_non_null(lookup(t, hash_of[b][1], &k));
		key_n(&k, 3 * b + 2);
		assert_non_null(lookup(t, hash_of[b][2], &k));
	}

	/* step 8 (divides 64) at now=200: exactly 64/8 calls free the 200s */
	log.n = 0;
	for (uint32_t c = 0; c < NB / 8; c++) {
		uint32_t before = t->sweep_next;

		assert_int_equal(sl_flow_sweep(t, 200, 8, sweep_cb, &log), 8);
		assert_int_equal(t->sweep_next, (before + 8) % NB);
	}
	assert_int_equal(log.n, NB);
	assert_int_equal(t->live, NB);
	/* another pass frees nothing more; a NULL callback is fine */
	assert_int_equal(sl_flow_sweep(t, 200, NB, NULL, NULL), 0);
	/* more than n_buckets in one call wraps around, still frees each once */
	{
		uint32_t before = t->sweep_next;

		assert_int_equal(sl_flow_sweep(t, 1000000, 3 * NB + 1, NULL, NULL), NB);
		assert_int_equal(t->sweep_next, (before + 3 * NB + 1) % NB);
	}
	assert_int_equal(t->live, 0);
	check_live(t);
	/* freed ways are reusable */
	for (uint32_t b = 0; b < NB; b++) {
		for (uint32_t j = 0; j < WAYS; j++) {
			struct sl_flow_key k;

			key_n(&k, 10000 + b * WAYS + j);
			assert_non_null(insert(t, hash_of[b][0], &k, 1000000, 1000001));
		}
	}
	assert_int_equal(t->stats.full, 0);
	/* bounded work: with every way of every bucket expired, one bucket per call */
	for (uint32_t c = 0; c < NB; c++)
		assert_int_equal(sl_flow_sweep(t, 1000001, 1, NULL, NULL), WAYS);
	assert_int_equal(t->live, 0);
	check_live(t);
	free(log.seen);
	tbl_free(&x);
}

/* ---- the live counter ------------------------------------------------------------------ */

static void
test_live_counter(void **state)
{
	struct tbl x;
	uint64_t s = 42;
	uint32_t now = 0;
	enum { N = 3000 };
	static struct sl_flow_entry *ent[N];
	static uint32_t hh[N];
	(void)state;

	tbl_new(&x, 64); /* 512 ways for 3000 keys: buckets fill, reclaim happens */
	struct sl_flow_table *t = &x.t;
	for (uint32_t i = 0; i < N; i++) {
		struct sl_flow_key k;

		hh[i] = rnd32(&s);
		key_n(&k, i);
		ent[i] = insert(t, hh[i], &k, now, now + 1 + (uint32_t)(rnd(&s) % 500));
		check_live(t);
		if (ent[i] != NULL && (rnd(&s) % 4) == 0) {
			sl_flow_remove(t, ent[i]);
			ent[i] = NULL;
			check_live(t);
		}
		if ((i % 16) == 0) {
			sl_flow_sweep(t, now, 3, NULL, NULL);
			check_live(t);
		}
		now += 1;
	}
	assert_true(t->stats.expired > 0);
	assert_true(t->stats.removed > 0);
	assert_true(t->stats.full > 0);
	assert_int_equal(t->stats.inserts + t->stats.full, N);
	sl_flow_sweep(t, now + 1000, t->n_buckets, NULL, NULL);
	assert_int_equal(t->live, 0);
	check_live(t);
	tbl_free(&x);
}

/* ---- SYN flood --------------------------------------------------------------------------- */

static void
test_syn_flood(void **state)
{
	enum { EST = 1000, FLOOD = 200000 };
	struct tbl x;
	uint64_t s = 0xf100d;
	const uint32_t seed = 0x9e3779b9u;
	static struct sl_flow_key ek[EST];
	static uint32_t eh[EST];
	static uint8_t ein[EST];
	uint32_t now = 0xfffff000u; /* the flood crosses the clock's wrap */
	uint32_t est_in = 0;
	(void)state;

	tbl_new(&x, sl_flow_buckets_for(4 * EST, 100));
	struct sl_flow_table *t = &x.t;
	for (uint32_t i = 0; i < EST; i++) {
		struct sl_pkt p;

		rand_pkt(&p, &s);
		sl_flow_key_make(&ek[i], &p, SL_DIST_DEFAULT);
		eh[i] = sl_flow_hash(&p, SL_DIST_DEFAULT, seed);
		struct sl_flow_entry *e = insert(t, eh[i], &ek[i], now, now + 24u * 3600 * 1000);
		if (e != NULL) {
			e->backend_id = i;
			e->state = SL_FLOW_ESTABLISHED;
			ein[i] = 1;
			est_in++;
		}
	}
	assert_true(est_in >= EST - 10);
	uint64_t full0 = t->stats.full;

	/* 200,000 SYNs from random sources; 5 s SYN timeout; 1 ms passes every 50 */
	uint64_t refused = 0, taken = 0;
	for (uint32_t j = 0; j < FLOOD; j++) {
		struct sl_pkt p;
		struct sl_flow_key k;

		rand_pkt(&p, &s);
		sl_flow_key_make(&k, &p, SL_DIST_DEFAULT);
		uint32_t h = sl_flow_hash(&p, SL_DIST_DEFAULT, seed);
		struct sl_flow_bucket *b = sl_flow_bucket_of(t, h);
		int w = sl_flow_find(t, b, h, &k);
		if (w >= 0) {
			/* a random key equal to an established one would be a miracle */
			assert_int_not_equal(sl_flow_entry_at(t, b, w)->state, SL_FLOW_ESTABLISHED);
			continue;
		}
		struct sl_flow_entry *e = sl_flow_insert(t, b, h, &k, now, now + 5000);
		if (e == NULL) {
			refused++;
		} else {
			e->backend_id = 0xffffffffu;
			taken++;
		}
		if (j % 50 == 49)
			now++;
		if (j % 32 == 31)
			sl_flow_sweep(t, now, 4, NULL, NULL);
	}
	assert_int_equal(t->stats.full - full0, refused);
	assert_true(refused > 0);
	assert_int_equal(t->stats.inserts, est_in + taken);
	check_live(t);
	/* every established flow is still there, untouched */
	for (uint32_t i = 0; i < EST; i++) {
		if (!ein[i])
			continue;
		struct sl_flow_entry *e = lookup(t, eh[i], &ek[i]);

		assert_non_null(e);
		assert_int_equal(e->backend_id, i);
		assert_int_equal(e->state, SL_FLOW_ESTABLISHED);
	}
	/* after the SYN timeout a full pass leaves only the established ones */
	sl_flow_sweep(t, now + 5001, t->n_buckets, NULL, NULL);
	assert_int_equal(t->live, est_in);
	check_live(t);
	printf("SYN flood: %u established of %u in a %u-bucket table; %u SYNs: %llu taken, "
	       "%llu refused (full), %llu expired; all established found\n",
	       est_in, EST, t->n_buckets, FLOOD, (unsigned long long)taken,
	       (unsigned long long)refused, (unsigned long long)t->stats.expired);
	tbl_free(&x);
}

/* ---- randomized model check ------------------------------------------------------------------ */

/*
 * The reference: per key, whether it is in the table, its expiry on a 64-bit
 * clock (the table sees the low 32 bits), and its backend. It knows only
 * that a bucket holds 8 ways; which way is taken is the table's business.
 */
enum { MK = 400, MH = 64, MB = 16 };
struct model {
	uint8_t present[MK];
	uint64_t exp[MK];
	uint32_t backend[MK];
	struct sl_flow_key key[MK];
	uint32_t hash[MK];
	uint64_t now;
	uint64_t full, expired, inserts, removed;
};

static uint32_t
m_bucket(const struct sl_flow_table *t, const struct model *m, uint32_t k)
{
	return bucket_idx(t, m->hash[k]);
}

static void
m_check_key(const struct sl_flow_table *t, const struct model *m, uint32_t k)
{
	struct sl_flow_entry *e = lookup(t, m->hash[k], &m->key[k]);

	if (!m->present[k]) {
		assert_null(e);
		return;
	}
	assert_non_null(e);
	assert_int_equal(e->backend_id, m->backend[k]);
	assert_int_equal(e->expires_ms, (uint32_t)m->exp[k]);
	assert_memory_equal(&e->key, &m->key[k], sizeof(m->key[k]));
}

static void
m_check_all(const struct sl_flow_table *t, const struct model *m)
{
	uint32_t n = 0;

	for (uint32_t k = 0; k < MK; k++) {
		m_check_key(t, m, k);
		n += m->present[k];
	}
	assert_int_equal(t->live, n);
}

struct m_sweep {
	struct model *m;
	uint32_t n;
	uint32_t keys[MB * WAYS];
};

static void
m_sweep_cb(const struct sl_flow_entry *e, void *arg)
{
	struct m_sweep *ms = arg;
	uint32_t k;

	for (k = 0; k < MK; k++)
		if (sl_flow_key_eq(&e->key, &ms->m->key[k]))
			break;
	assert_true(k < MK);
	assert_true(ms->n < MB * WAYS);
	assert_int_equal(e->backend_id, ms->m->backend[k]);
	ms->keys[ms->n++] = k;
}

static void
test_model_random(void **state)
{
	static struct model m;
	struct tbl x;
	uint64_t s = 0x5eed5eedull;
	uint32_t hpool[MH];
	uint64_t ops = 100000, n_ins = 0, n_reclaim = 0, n_full = 0, n_sweep_freed = 0,
		 n_hits = 0, wraps = 0;
	(void)state;

	memset(&m, 0, sizeof(m));
	tbl_new(&x, MB); /* 128 ways for 400 keys */
	struct sl_flow_table *t = &x.t;
	for (uint32_t i = 0; i < MH; i++)
		hpool[i] = rnd32(&s);
	hpool[0] = 0; /* signature 1, like hash 1 */
	hpool[1] = 1;
	for (uint32_t k = 0; k < MK; k++) {
		key_n(&m.key[k], k);
		if (k % 5 == 1)
			m.key[k].proto = SL_PROTO_UDP; /* keys differing only in proto */
		if (k % 7 == 2)
			m.key[k].sport_be ^= 0x0100; /* ... or only in a port */
		m.hash[k] = hpool[k % MH];  /* ~6 keys share each exact hash */
	}
	m.now = 0x100000000ull - 2000000; /* the 32-bit clock wraps mid-run */

	for (uint64_t op = 0; op < ops; op++) {
		uint32_t r = (uint32_t)(rnd(&s) % 100);
		uint32_t now = (uint32_t)m.now;
		uint32_t k = (uint32_t)(rnd(&s) % MK);

		if (r < 40) {
			/* lookup or insert, as the packet path does */
			uint32_t ttl = 1 + (uint32_t)(rnd(&s) % 50000);
			struct sl_flow_entry *e = lookup(t, m.hash[k], &m.key[k]);

			if (m.present[k]) {
				assert_non_null(e);
				e->expires_ms = now + ttl; /* renew (or reuse an expired hit) */
				m.exp[k] = m.now + ttl;
				n_hits++;
			} else {
				uint32_t b = m_bucket(t, &m, k), in_b = 0, exp_b = 0;

				assert_null(e);
				for (uint32_t j = 0; j < MK; j++) {
					if (m.present[j] && m_bucket(t, &m, j) == b) {
						in_b++;
						exp_b += m.now >= m.exp[j];
					}
				}
				assert_true(in_b <= WAYS);
				e = insert(t, m.hash[k], &m.key[k], now, now + ttl);
				if (in_b < WAYS) {
					assert_non_null(e);
				} else if (exp_b > 0) {
					assert_non_null(e);
					/* exactly one expired entry of the bucket vanished */
					uint32_t gone = 0;
					for (uint32_t j = 0; j < MK; j++) {
						if (!m.present[j] || m_bucket(t, &m, j) != b)
							continue;
						if (lookup(t, m.hash[j], &m.key[j]) == NULL) {
							assert_true(m.now >= m.exp[j]);
							m.present[j] = 0;
							gone++;
						}
					}
					assert_int_equal(gone, 1);
					m.expired++;
					n_reclaim++;
				} else {
					assert_null(e);
					m.full++;
					n_full++;
				}
				if (e != NULL) {
					assert_int_equal(e->backend_id, 0);
					e->backend_id = rnd32(&s);
					m.backend[k] = e->backend_id;
					m.present[k] = 1;
					m.exp[k] = m.now + ttl;
					m.inserts++;
					n_ins++;
				}
			}
		} else if (r < 60) {
			m_check_key(t, &m, k);
		} else if (r < 70) {
			if (m.present[k]) {
				struct sl_flow_entry *e = lookup(t, m.hash[k], &m.key[k]);

				assert_non_null(e);
				sl_flow_remove(t, e);
				m.present[k] = 0;
				m.removed++;
			}
		} else if (r < 85) {
			uint64_t before = m.now;

			/* mostly small steps, sometimes a jump that expires most flows */
			m.now += (rnd(&s) % 100) == 0 ? rnd(&s) % 60000 : rnd(&s) % 300;
			wraps += (before >> 32) != (m.now >> 32);
		} else {
			uint32_t step = (uint32_t)(rnd(&s) % 8);
			uint32_t first = t->sweep_next;
			struct m_sweep ms = {.m = &m};
			uint8_t want[MK] = {0};
			uint32_t n_want = 0;

			for (uint32_t j = 0; j < MK; j++) {
				if (m.present[j] && m.now >= m.exp[j] &&
				    ((m_bucket(t, &m, j) - first) & (MB - 1)) < step) {
					want[j] = 1;
					n_want++;
				}
			}
			uint32_t f = sl_flow_sweep(t, now, step, m_sweep_cb, &ms);
			assert_int_equal(f, n_want);
			assert_int_equal(ms.n, n_want);
			assert_int_equal(t->sweep_next, (first + step) & (MB - 1));
			for (uint32_t i = 0; i < ms.n; i++) {
				assert_true(want[ms.keys[i]]);
				want[ms.keys[i]] = 0; /* once each */
				m.present[ms.keys[i]] = 0;
			}
			m.expired += f;
			n_sweep_freed += f;
		}

		/* the counters agree with the model after every operation */
		assert_int_equal(t->stats.full, m.full);
		assert_int_equal(t->stats.expired, m.expired);
		assert_int_equal(t->stats.inserts, m.inserts);
		assert_int_equal(t->stats.removed, m.removed);
		assert_int_equal(t->live, m.inserts - m.removed - m.expired);
		if (op % 997 == 0) {
			m_check_all(t, &m);
			check_live(t);
		}
	}
	m_check_all(t, &m);
	check_live(t);
	printf("model check: %llu ops, %llu inserts (%llu by reclaim), %llu full, %llu renewed, "
	       "%llu removed, %llu swept, clock wrapped %llu times\n",
	       (unsigned long long)ops, (unsigned long long)n_ins, (unsigned long long)n_reclaim,
	       (unsigned long long)n_full, (unsigned long long)n_hits,
	       (unsigned long long)m.removed, (unsigned long long)n_sweep_freed,
	       (unsigned long long)wraps);
	assert_int_equal(wraps, 1);
	assert_true(n_reclaim > 0 && n_full > 0 && n_sweep_freed > 0 && m.removed > 0);
	tbl_free(&x);
}

/* ---- lookup timing (information only) ------------------------------------------------------ */

static void
fill_and_time(uint64_t flows, unsigned int fill)
{
	struct tbl x;
	uint64_t s = 0x7173;
	const uint32_t seed = 0xabcdef01u;
	struct sl_pkt *pk = malloc(flows * sizeof(*pk));
	uint8_t *in = calloc(flows, 1);
	uint64_t ok = 0, found = 0;

	assert_non_null(pk);
	assert_non_null(in);
	tbl_new(&x, sl_flow_buckets_for(flows, fill));
	struct sl_flow_table *t = &x.t;
	for (uint64_t i = 0; i < flows; i++) {
		struct sl_flow_key k;

		rand_pkt(&pk[i], &s);
		sl_flow_key_make(&k, &pk[i], SL_DIST_DEFAULT);
		uint32_t h = sl_flow_hash(&pk[i], SL_DIST_DEFAULT, seed);
		struct sl_flow_bucket *b = sl_flow_bucket_of(t, h);
		if (sl_flow_find(t, b, h, &k) >= 0)
			continue; /* a duplicate random key */
		struct sl_flow_entry *e = sl_flow_insert(t, b, h, &k, 0, 1000000);
		if (e != NULL) {
			e->backend_id = (uint32_t)i;
			in[i] = 1;
			ok++;
		}
	}
	check_live(t);

	double t0 = now_ns();
	for (uint64_t i = 0; i < flows; i++) {
		struct sl_flow_key k;
		uint32_t h = sl_flow_hash(&pk[i], SL_DIST_DEFAULT, seed);
		const struct sl_flow_bucket *b = sl_flow_bucket_of(t, h);

		sl_flow_key_make(&k, &pk[i], SL_DIST_DEFAULT);
		int w = sl_flow_find(t, b, h, &k);
		if (w >= 0 && in[i] && sl_flow_entry_at(t, b, w)->backend_id == (uint32_t)i)
			found++;
	}
	double t1 = now_ns();
	assert_int_equal(found, ok);

	/* the find alone, keys and hashes made beforehand */
	struct sl_flow_key *keys = malloc(flows * sizeof(*keys));
	uint32_t *hashes = malloc(flows * sizeof(*hashes));
	uint64_t found2 = 0;

	assert_non_null(keys);
	assert_non_null(hashes);
	for (uint64_t i = 0; i < flows; i++) {
		sl_flow_key_make(&keys[i], &pk[i], SL_DIST_DEFAULT);
		hashes[i] = sl_flow_hash(&pk[i], SL_DIST_DEFAULT, seed);
	}
	double t2 = now_ns();
	for (uint64_t i = 0; i < flows; i++)
		found2 += sl_flow_find(t, sl_flow_bucket_of(t, hashes[i]), hashes[i], &keys[i]) >= 0;
	double t3 = now_ns();
	assert_true(found2 >= ok);
	free(hashes);
	free(keys);

	printf("%llu flows at %u%% fill: %u buckets (%.1f B per flow): %llu inserted, "
	       "%llu refused (%.3f%%); lookup %.1f ns (hash+key+find), %.1f ns (find only)\n",
	       (unsigned long long)flows, fill, t->n_buckets,
	       (double)sl_flow_table_memsize(t->n_buckets) / (double)flows,
	       (unsigned long long)ok, (unsigned long long)t->stats.full,
	       100.0 * (double)t->stats.full / (double)flows, (t1 - t0) / (double)flows,
	       (t3 - t2) / (double)flows);
	free(in);
	free(pk);
	tbl_free(&x);
}

static void
test_lookup_timing(void **state)
{
	(void)state;

	fill_and_time(1000000, 100);
	fill_and_time(1000000, 80);
}

/*
 * The way mask against a plain per-way comparison: every pattern of 8 ways
 * holding the sought signature or not, for signatures with the top bit set
 * and clear, and for 0 (the free ways, as the sweep and insert ask).
 */
static void
test_sig_mask(void **state)
{
	static const uint16_t sought[] = {0, 1, 0x7fff, 0x8001, 0xffff, 0x1235};
	struct sl_flow_bucket b;
	uint64_t s = 7;
	(void)state;

	for (size_t k = 0; k < sizeof(sought) / sizeof(sought[0]); k++) {
		uint16_t sig = sought[k];

		for (uint32_t pattern = 0; pattern < 256; pattern++) {
			uint32_t want = 0;

			for (int w = 0; w < WAYS; w++) {
				uint16_t other;
				do
					other = (uint16_t)rnd32(&s);
				while (other == sig);
				b.sig[w] = (pattern >> w) & 1 ? sig : other;
				want |= (uint32_t)(b.sig[w] == sig) << w;
			}
			assert_int_equal(sl_flow_sig_mask(&b, sig), want);
			assert_int_equal(want, pattern);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizing),
		cmocka_unit_test(test_sizing_addressable),
		cmocka_unit_test(test_init_layout),
		cmocka_unit_test(test_init_refuses),
		cmocka_unit_test(test_insert_find),
		cmocka_unit_test(test_sig_mask),
		cmocka_unit_test(test_hash_zero),
		cmocka_unit_test(test_expiry_reclaim),
		cmocka_unit_test(test_time_wrap),
		cmocka_unit_test(test_full_bucket_never_evicts),
		cmocka_unit_test(test_displace_syn_only),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_live_counter),
		cmocka_unit_test(test_syn_flood),
		cmocka_unit_test(test_model_random),
		cmocka_unit_test(test_lookup_timing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
