/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_reply.c: unit tests of the DNAT reply table (sl_reply): layout,
 * sizing and init; insert and lookup; a miss whenever any key field differs
 * (in another bucket and, with the hash forced, in the same one); expiry
 * (at expires_ms exactly, across the 32-bit clock wrap) and reuse of an
 * expired way; update of a present key; -ENOSPC when a bucket's four ways
 * are live; remove; lookup_any across partitions (own first, wrap
 * around, NULL partitions); the refusal rate of a table sized by
 * sl_reply_buckets_for (information); and a concurrency test: writer
 * threads (each the owner of one partition) insert, update and remove
 * entries whose every value field derives from one counter, while reader
 * threads look them up with sl_reply_lookup_any and check that every hit is
 * self-consistent (no torn read) and in the right partition.
 *
 * No DPDK: partition memory comes from aligned_alloc(64, ...), filled with
 * garbage first, since sl_reply_init() promises not to need zeroed memory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sl_reply.h"
#include "sl_types.h"

/* ---- helpers ---------------------------------------------------------- */

/* A partition over freshly allocated, garbage-filled memory. */
struct part {
	struct sl_reply_part *p;
	void *mem;
};

static void
part_new(struct part *t, uint32_t n_buckets)
{
	size_t size = sl_reply_memsize(n_buckets);

	t->p = aligned_alloc(64, sizeof(struct sl_reply_part));
	assert_non_null(t->p);
	t->mem = aligned_alloc(64, size);
	assert_non_null(t->mem);
	memset(t->mem, 0xa5, size);
	memset(t->p, 0x5a, sizeof(*t->p));
	assert_int_equal(sl_reply_init(t->p, t->mem, n_buckets), 0);
}

static void
part_free(struct part *t)
{
	free(t->mem);
	free(t->p);
}

static void
addr4(struct sl_ip_addr *a, const char *text)
{
	assert_int_equal(sl_ip_addr_parse(text, a, NULL), 0);
}

/* Key number i: TCP backend 10.1.x.y:8080 <- client 192.0.2.z:(1024+i). */
static void
key_n(struct sl_reply_key *k, uint32_t i)
{
	struct sl_ip_addr be, cl;

	sl_ip_addr_from_v4(&be, htonl(0x0a010000u | (i % 7)));
	sl_ip_addr_from_v4(&cl, htonl(0xc0000200u | (i & 0xff)));
	sl_reply_key_make(k, SL_PROTO_TCP, &be, htons(8080), &cl, htons((uint16_t)(1024 + i)));
}

static void
val_make(struct sl_reply_val *v, uint32_t rule_id, uint32_t expires_ms, uint16_t port)
{
	memset(v, 0, sizeof(*v));
	v->rule_id = rule_id;
	v->expires_ms = expires_ms;
	for (int i = 0; i < SL_ETHER_ADDR_LEN; i++)
		v->client_mac.bytes[i] = (uint8_t)(0x02 + i + rule_id);
	v->vlan_tci = (uint16_t)(100 + rule_id);
	v->port = port;
}

static void
assert_val_eq(const struct sl_reply_val *a, const struct sl_reply_val *b)
{
	assert_memory_equal(a, b, sizeof(*a));
}

/* ---- layout, sizing, init --------------------------------------------- */

static void
test_layout_and_init(void **state)
{
	(void)state;
	struct part t;
	struct sl_reply_part *p = aligned_alloc(64, sizeof(*p));
	void *mem = aligned_alloc(64, sl_reply_memsize(4) + 64);

	assert_int_equal(sizeof(struct sl_reply_entry), 64);
	assert_int_equal(_Alignof(struct sl_reply_entry), 64);
	assert_int_equal(sizeof(struct sl_reply_key), 40);
	assert_int_equal(sizeof(struct sl_reply_val), 20);
	assert_int_equal(sl_reply_memsize(1), 4 * 64);
	assert_int_equal(sl_reply_memsize(1024), (size_t)1024 * 4 * 64);

	/* ~50% fill, power of two, at least one bucket */
	assert_int_equal(sl_reply_buckets_for(0), 1);
	assert_int_equal(sl_reply_buckets_for(1), 1);
	assert_int_equal(sl_reply_buckets_for(2), 1);
	assert_int_equal(sl_reply_buckets_for(3), 2);
	assert_int_equal(sl_reply_buckets_for(1000), 512);   /* 500 -> 512 */
	assert_int_equal(sl_reply_buckets_for(1024), 512);
	assert_int_equal(sl_reply_buckets_for(1025), 1024);
	assert_int_equal(sl_reply_buckets_for(UINT32_MAX), SL_REPLY_MAX_BUCKETS);

	assert_int_equal(sl_reply_init(p, mem, 0), -EINVAL);
	assert_int_equal(sl_reply_init(p, mem, 3), -EINVAL);
	assert_int_equal(sl_reply_init(p, mem, SL_REPLY_MAX_BUCKETS * 2), -EINVAL);
	assert_int_equal(sl_reply_init(p, (char *)mem + 8, 4), -EINVAL);
	assert_int_equal(sl_reply_init(p, NULL, 4), -EINVAL);
	assert_int_equal(sl_reply_init(p, mem, 4), 0);
	assert_int_equal(p->n_buckets, 4);
	assert_int_equal(p->shift, 30);
	free(mem);
	free(p);

	/* garbage-filled memory comes out empty */
	part_new(&t, 8);
	assert_int_equal(t.p->shift, 29);
	for (uint32_t i = 0; i < 100; i++) {
		struct sl_reply_key k;
		struct sl_reply_val out;

		key_n(&k, i);
		assert_int_equal(sl_reply_lookup(t.p, &k, sl_reply_hash(&k), 0, &out), 0);
	}
	assert_int_equal(t.p->stats.inserts, 0);
	part_free(&t);
}

static void
test_hash(void **state)
{
	(void)state;
	struct sl_reply_key a, b;

	key_n(&a, 1);
	key_n(&b, 1);
	assert_int_equal(sl_reply_hash(&a), sl_reply_hash(&b));
	key_n(&b, 2);
	assert_int_not_equal(sl_reply_hash(&a), sl_reply_hash(&b));

	/* the key of a parsed reply: source = backend, destination = client */
	struct sl_pkt pkt;
	struct sl_reply_key k;

	memset(&pkt, 0, sizeof(pkt));
	addr4(&pkt.src, "10.1.0.1");
	addr4(&pkt.dst, "192.0.2.1");
	pkt.sport_be = htons(8080);
	pkt.dport_be = htons(1025);
	pkt.l4_proto = SL_PROTO_TCP;
	sl_reply_key_of_reply(&k, &pkt);
	assert_memory_equal(&k, &a, sizeof(k));
	assert_int_equal(sl_reply_hash(&k), sl_reply_hash(&a));
}

/* ---- insert, lookup, miss --------------------------------------------- */

static void
test_insert_lookup(void **state)
{
	(void)state;
	struct part t;
	struct sl_reply_key k;
	struct sl_reply_val v, out;

	part_new(&t, 64);
	key_n(&k, 7);
	val_make(&v, 42, 5000, 3);
	assert_int_equal(sl_reply_insert(t.p, &k, sl_reply_hash(&k), &v, 1000), 0);
	memset(&out, 0, sizeof(out));
	assert_int_equal(sl_reply_lookup(t.p, &k, sl_reply_hash(&k), 1000, &out), 1);
	assert_val_eq(&out, &v);
	assert_int_equal(t.p->stats.inserts, 1);
	assert_int_equal(t.p->stats.updates, 0);

	/* IPv6 and UDP too */
	struct sl_reply_key k6;
	struct sl_ip_addr be, cl;

	assert_int_equal(sl_ip_addr_parse("2001:db8::10", &be, NULL), 0);
	assert_int_equal(sl_ip_addr_parse("2001:db8:1::77", &cl, NULL), 0);
	sl_reply_key_make(&k6, SL_PROTO_UDP, &be, htons(53), &cl, htons(40000));
	val_make(&v, 9, 5000, 1);
	v.vlan_tci = 0;
	assert_int_equal(sl_reply_insert(t.p, &k6, sl_reply_hash(&k6), &v, 1000), 0);
	assert_int_equal(sl_reply_lookup(t.p, &k6, sl_reply_hash(&k6), 1000, &out), 1);
	assert_val_eq(&out, &v);
	/* the first is still there */
	assert_int_equal(sl_reply_lookup(t.p, &k, sl_reply_hash(&k), 1000, &out), 1);
	assert_int_equal(out.rule_id, 42);

	/* proto 0 is not a key */
	struct sl_reply_key k0 = k;

	k0.proto = 0;
	assert_int_equal(sl_reply_insert(t.p, &k0, sl_reply_hash(&k0), &v, 1000), -EINVAL);
	assert_int_equal(sl_reply_lookup(t.p, &k0, sl_reply_hash(&k0), 1000, &out), 0);
	part_free(&t);
}

static void
test_miss_on_any_field(void **state)
{
	(void)state;
	struct part t;
	struct sl_reply_key k, d;
	struct sl_reply_val v, out;
	uint32_t h;

	/* one bucket too, so that a forced-equal hash and a real one both apply */
	for (uint32_t nb = 1; nb <= 1024; nb *= 1024) {
		part_new(&t, nb);
		key_n(&k, 3);
		h = sl_reply_hash(&k);
		val_make(&v, 1, 5000, 0);
		assert_int_equal(sl_reply_insert(t.p, &k, h, &v, 0), 0);

		for (int field = 0; field < 9; field++) {
			d = k;
			switch (field) {
			case 0: d.proto = SL_PROTO_UDP; break;
			case 1: d.backend.bytes[15] ^= 1; break;
			case 2: d.backend.bytes[0] ^= 0x20; break; /* not IPv4-mapped any more */
			case 3: d.backend_port_be ^= htons(1); break;
			case 4: d.client.bytes[15] ^= 0x80; break;
			case 5: d.client.bytes[11] ^= 1; break;
			case 6: d.client_port_be ^= htons(0x100); break;
			case 7: /* backend and client swapped: the request's direction */
				d.backend = k.client;
				d.client = k.backend;
				break;
			case 8: /* ports swapped */
				d.backend_port_be = k.client_port_be;
				d.client_port_be = k.backend_port_be;
				break;
			}
			assert_int_equal(sl_reply_lookup(t.p, &d, sl_reply_hash(&d), 1, &out), 0);
			assert_int_equal(sl_reply_lookup(t.p, &d, h, 1, &out), 0); /* same bucket */
		}
		assert_int_equal(sl_reply_lookup(t.p, &k, h, 1, &out), 1);
		part_free(&t);
	}
}

/* ---- expiry ----------------------------------------------------------- */

static void
test_expiry(void **state)
{
	(void)state;
	struct part t;
	struct sl_reply_key k;
	struct sl_reply_val v, out;
	uint32_t h;

	part_new(&t, 16);
	key_n(&k, 1);
	h = sl_reply_hash(&k);
	val_make(&v, 5, 1000, 0);
	assert_int_equal(sl_reply_insert(t.p, &k, h, &v, 0), 0);
	assert_int_equal(sl_reply_lookup(t.p, &k, h, 0, &out), 1);
	assert_int_equal(sl_reply_lookup(t.p, &k, h, 999, &out), 1);
	assert_int_equal(sl_reply_lookup(t.p, &k, h, 1000, &out), 0);
	assert_int_equal(sl_reply_lookup(t.p, &k, h, 1001, &out), 0);
	assert_int_equal(sl_reply_lookup(t.p, &k, h, 1000 + 0x7fffffffu, &out), 0);

	/* across the wrap of the 32-bit clock */
	val_make(&v, 5, 0x100, 0);
	assert_int_equal(sl_reply_insert(t.p, &k, h, &v, 0xffffff00u), 0);
	assert_int_equal(sl_reply_lookup(t.p, &k, h, 0xffffff00u, &out), 1);
	assert_int_equal(sl_reply_lookup(t.p, &k, h, 0xffffffffu, &out), 1);
	assert_int_equal(sl_reply_lookup(t.p, &k, h, 0, &out), 1);
	assert_int_equal(sl_reply_lookup(t.p, &k, h, 0xff, &out), 1);
	assert_int_equal(sl_reply_lookup(t.p, &k, h, 0x100, &out), 0);
	assert_int_equal(sl_reply_lookup(t.p, &k, h, 0x5000, &out), 0);
	part_free(&t);
}

/* One bucket: 4 live entries fill it; an expired way is reused. */
static void
test_full_and_reuse_expired(void **state)
{
	(void)state;
	struct part t;
	struct sl_reply_key k[6];
	struct sl_reply_val v, out;

	part_new(&t, 1);
	for (uint32_t i = 0; i < 6; i++)
		key_n(&k[i], i);
	for (uint32_t i = 0; i < 4; i++) {
		val_make(&v, i, 100 * (i + 1), (uint16_t)i); /* expire at 100, 200, 300, 400 */
		assert_int_equal(sl_reply_insert(t.p, &k[i], sl_reply_hash(&k[i]), &v, 0), 0);
	}
	val_make(&v, 4, 1000, 4);
	assert_int_equal(sl_reply_insert(t.p, &k[4], sl_reply_hash(&k[4]), &v, 50), -ENOSPC);
	assert_int_equal(sl_reply_insert(t.p, &k[4], sl_reply_hash(&k[4]), &v, 99), -ENOSPC);
	assert_int_equal(t.p->stats.full, 2);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(sl_reply_lookup(t.p, &k[i], sl_reply_hash(&k[i]), 99, &out), 1);
	assert_int_equal(sl_reply_lookup(t.p, &k[4], sl_reply_hash(&k[4]), 99, &out), 0);

	/* a present key is updated even in a full bucket */
	val_make(&v, 77, 150, 0);
	assert_int_equal(sl_reply_insert(t.p, &k[0], sl_reply_hash(&k[0]), &v, 99), 0);
	assert_int_equal(t.p->stats.updates, 1);
	assert_int_equal(sl_reply_lookup(t.p, &k[0], sl_reply_hash(&k[0]), 120, &out), 1);
	assert_int_equal(out.rule_id, 77);

	/* at 200: k[1] (expires 200) has expired, k[0] (150) too: one is reused */
	val_make(&v, 4, 1000, 4);
	assert_int_equal(sl_reply_insert(t.p, &k[4], sl_reply_hash(&k[4]), &v, 200), 0);
	assert_int_equal(t.p->stats.reclaimed, 1);
	assert_int_equal(sl_reply_lookup(t.p, &k[4], sl_reply_hash(&k[4]), 200, &out), 1);
	assert_val_eq(&out, &v);
	val_make(&v, 5, 1000, 5);
	assert_int_equal(sl_reply_insert(t.p, &k[5], sl_reply_hash(&k[5]), &v, 200), 0);
	assert_int_equal(t.p->stats.reclaimed, 2);
	assert_int_equal(sl_reply_lookup(t.p, &k[5], sl_reply_hash(&k[5]), 200, &out), 1);
	/* the two expired keys are gone (even for a clock turned back), the live ones stay */
	assert_int_equal(sl_reply_lookup(t.p, &k[0], sl_reply_hash(&k[0]), 0, &out), 0);
	assert_int_equal(sl_reply_lookup(t.p, &k[1], sl_reply_hash(&k[1]), 0, &out), 0);
	assert_int_equal(sl_reply_lookup(t.p, &k[2], sl_reply_hash(&k[2]), 200, &out), 1);
	assert_int_equal(out.rule_id, 2);
	assert_int_equal(sl_reply_lookup(t.p, &k[3], sl_reply_hash(&k[3]), 200, &out), 1);
	assert_int_equal(out.rule_id, 3);
	/* full again */
	assert_int_equal(sl_reply_insert(t.p, &k[0], sl_reply_hash(&k[0]), &v, 200), -ENOSPC);
	assert_int_equal(t.p->stats.inserts, 6);
	part_free(&t);
}

static void
test_update(void **state)
{
	(void)state;
	struct part t;
	struct sl_reply_key k;
	struct sl_reply_val v1, v2, out;
	uint32_t h;

	part_new(&t, 4);
	key_n(&k, 11);
	h = sl_reply_hash(&k);
	val_make(&v1, 1, 1000, 0);
	val_make(&v2, 2, 3000, 1);
	v2.client_mac.bytes[5] = 0xee;
	v2.vlan_tci = 0x2064;
	assert_int_equal(sl_reply_insert(t.p, &k, h, &v1, 0), 0);
	assert_int_equal(sl_reply_insert(t.p, &k, h, &v2, 10), 0);
	assert_int_equal(sl_reply_lookup(t.p, &k, h, 2000, &out), 1);
	assert_val_eq(&out, &v2);
	assert_int_equal(t.p->stats.inserts, 1);
	assert_int_equal(t.p->stats.updates, 1);

	/* an expired entry of the same key is updated in place, not duplicated */
	assert_int_equal(sl_reply_insert(t.p, &k, h, &v1, 5000), 0);
	assert_int_equal(t.p->stats.updates, 2);
	assert_int_equal(sl_reply_remove(t.p, &k, h), 0);
	assert_int_equal(sl_reply_lookup(t.p, &k, h, 0, &out), 0);
	assert_int_equal(sl_reply_remove(t.p, &k, h), -ENOENT);
	part_free(&t);
}

static void
test_remove(void **state)
{
	(void)state;
	struct part t;
	struct sl_reply_key k[5];
	struct sl_reply_val v, out;

	part_new(&t, 1);
	for (uint32_t i = 0; i < 5; i++)
		key_n(&k[i], 100 + i);
	for (uint32_t i = 0; i < 4; i++) {
		val_make(&v, i, 1000, 0);
		assert_int_equal(sl_reply_insert(t.p, &k[i], sl_reply_hash(&k[i]), &v, 0), 0);
	}
	assert_int_equal(sl_reply_insert(t.p, &k[4], sl_reply_hash(&k[4]), &v, 0), -ENOSPC);
	assert_int_equal(sl_reply_remove(t.p, &k[1], sl_reply_hash(&k[1])), 0);
	assert_int_equal(sl_reply_lookup(t.p, &k[1], sl_reply_hash(&k[1]), 0, &out), 0);
	assert_int_equal(sl_reply_remove(t.p, &k[1], sl_reply_hash(&k[1])), -ENOENT);
	/* the freed way takes a new key without reclaiming anything */
	val_make(&v, 4, 1000, 0);
	assert_int_equal(sl_reply_insert(t.p, &k[4], sl_reply_hash(&k[4]), &v, 0), 0);
	assert_int_equal(t.p->stats.reclaimed, 0);
	assert_int_equal(sl_reply_lookup(t.p, &k[4], sl_reply_hash(&k[4]), 0, &out), 1);
	assert_int_equal(out.rule_id, 4);
	for (uint32_t i = 0; i < 4; i++)
		if (i != 1)
			assert_int_equal(sl_reply_lookup(t.p, &k[i], sl_reply_hash(&k[i]), 0, &out), 1);
	assert_int_equal(t.p->stats.removed, 1);
	part_free(&t);
}

/* ---- lookup_any ------------------------------------------------------- */

static void
test_lookup_any(void **state)
{
	(void)state;
	struct part t[4];
	struct sl_reply_part *parts[5];
	struct sl_reply_key k, both, none;
	struct sl_reply_val v, out;
	uint32_t h;

	for (int i = 0; i < 4; i++) {
		part_new(&t[i], i == 3 ? 1 : 256); /* sizes may differ */
		parts[i] = t[i].p;
	}
	parts[4] = NULL; /* an lcore that is not a worker */

	key_n(&k, 20);
	h = sl_reply_hash(&k);
	val_make(&v, 20, 1000, 2);
	assert_int_equal(sl_reply_insert(parts[2], &k, h, &v, 0), 0);
	for (uint32_t first = 0; first < 5; first++) {
		memset(&out, 0, sizeof(out));
		assert_int_equal(sl_reply_lookup_any(parts, 5, first, &k, h, 0, &out), 2);
		assert_val_eq(&out, &v);
	}
	/* first out of range: from 0 */
	assert_int_equal(sl_reply_lookup_any(parts, 5, 99, &k, h, 0, &out), 2);
	/* expired everywhere: miss */
	assert_int_equal(sl_reply_lookup_any(parts, 5, 0, &k, h, 1000, &out), -1);
	/* fewer partitions than the one that holds it */
	assert_int_equal(sl_reply_lookup_any(parts, 2, 0, &k, h, 0, &out), -1);
	assert_int_equal(sl_reply_lookup_any(parts, 0, 0, &k, h, 0, &out), -1);

	/* in two partitions: the search starts at `first` and wraps around */
	key_n(&both, 21);
	h = sl_reply_hash(&both);
	val_make(&v, 100, 1000, 0);
	assert_int_equal(sl_reply_insert(parts[0], &both, h, &v, 0), 0);
	val_make(&v, 103, 1000, 3);
	assert_int_equal(sl_reply_insert(parts[3], &both, h, &v, 0), 0);
	assert_int_equal(sl_reply_lookup_any(parts, 5, 0, &both, h, 0, &out), 0);
	assert_int_equal(out.rule_id, 100);
	assert_int_equal(sl_reply_lookup_any(parts, 5, 1, &both, h, 0, &out), 3);
	assert_int_equal(out.rule_id, 103);
	assert_int_equal(sl_reply_lookup_any(parts, 5, 3, &both, h, 0, &out), 3);
	assert_int_equal(sl_reply_lookup_any(parts, 5, 4, &both, h, 0, &out), 0);

	key_n(&none, 22);
	assert_int_equal(sl_reply_lookup_any(parts, 5, 1, &none, sl_reply_hash(&none), 0, &out), -1);
	for (int i = 0; i < 4; i++)
		part_free(&t[i]);
}

/* ---- sizing in practice --------------------------------------------------- */

static void
test_sized_fill(void **state)
{
	(void)state;
	const uint32_t flows[] = {1000, 65536, 1000000};

	for (unsigned int f = 0; f < sizeof(flows) / sizeof(flows[0]); f++) {
		uint32_t n = flows[f];
		uint32_t nb = sl_reply_buckets_for(n);
		struct part t;
		uint32_t refused = 0;
		uint64_t s = 0x1234567ull + f;

		part_new(&t, nb);
		for (uint32_t i = 0; i < n; i++) {
			struct sl_reply_key k;
			struct sl_reply_val v;
			struct sl_ip_addr be, cl;

			s = s * 6364136223846793005ull + 1442695040888963407ull;
			sl_ip_addr_from_v4(&be, htonl(0x0a000000u | (uint32_t)(s >> 40 & 0x3f)));
			sl_ip_addr_from_v4(&cl, htonl((uint32_t)(s >> 16)));
			sl_reply_key_make(&k, SL_PROTO_TCP, &be, htons(80), &cl,
					  htons((uint16_t)(1024 + i)));
			val_make(&v, i, 1000, 0);
			if (sl_reply_insert(t.p, &k, sl_reply_hash(&k), &v, 0) != 0)
				refused++;
		}
		printf("# reply table: %u flows in %u buckets (%.0f%% full): %u refused (%.3f%%)\n",
		       n, nb, 100.0 * n / ((double)nb * SL_REPLY_WAYS), refused,
		       100.0 * refused / n);
		assert_int_equal(t.p->stats.full, refused);
		/* two-choice placement: at the sizing's ~50% fill, almost nothing refused
		 * (one bucket alone refused about 3.5%) */
		assert_true(refused <= n / 10000);
		part_free(&t);
	}
}

/* ---- concurrency ------------------------------------------------------ */

/*
 * Writers W (each the owner of partition W) cycle over their keys: key j of
 * writer w is global key number w + N_WRITERS * j. Counter c of writer w
 * gives key (c % KEYS_PER_WRITER) and every value field (val_of()), so a hit
 * must satisfy: value == val_of(value.rule_id) and the rule_id names the
 * key looked up and the partition that answered.
 */
#define N_WRITERS 2
#define N_READERS 2
#define KEYS_PER_WRITER 12
#define RUN_NS 1000000000ll
#define NOW 1u

struct conc {
	struct sl_reply_part *parts[N_WRITERS];
	struct sl_reply_key keys[N_WRITERS * KEYS_PER_WRITER];
	uint32_t hashes[N_WRITERS * KEYS_PER_WRITER];
	atomic_int stop;
	atomic_int writers_started;
};

struct writer_arg {
	struct conc *c;
	int w;
	uint64_t ops, inserted, refused, removed;
};

struct reader_arg {
	struct conc *c;
	int r;
	uint64_t lookups, hits, bad_value, bad_key, bad_part;
};

/* rule_id = (counter << 8) | global key number (< 256) */
static void
val_of(struct sl_reply_val *v, uint32_t rule_id)
{
	uint32_t x = rule_id * 0x9e3779b1u;

	memset(v, 0, sizeof(*v));
	v->rule_id = rule_id;
	v->expires_ms = 2 + (x & 0x3fffffffu); /* live at NOW */
	v->client_mac.bytes[0] = (uint8_t)x;
	v->client_mac.bytes[1] = (uint8_t)(x >> 8);
	v->client_mac.bytes[2] = (uint8_t)(x >> 16);
	v->client_mac.bytes[3] = (uint8_t)(x >> 24);
	v->client_mac.bytes[4] = (uint8_t)rule_id;
	v->client_mac.bytes[5] = (uint8_t)(rule_id >> 8);
	v->vlan_tci = (uint16_t)(rule_id >> 16);
	v->port = (uint16_t)~rule_id;
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void *
writer_main(void *arg)
{
	struct writer_arg *a = arg;
	struct conc *c = a->c;
	struct sl_reply_part *p = c->parts[a->w];
	int64_t end = now_ns() + RUN_NS;

	atomic_fetch_add(&c->writers_started, 1);
	for (uint32_t n = 0;; n++) {
		uint32_t j = n % KEYS_PER_WRITER;
		uint32_t g = (uint32_t)a->w + N_WRITERS * j;
		struct sl_reply_val v;

		if ((n & 4095) == 0 && now_ns() >= end)
			break;
		if (n % 13 == 5) {
			if (sl_reply_remove(p, &c->keys[g], c->hashes[g]) == 0)
				a->removed++;
		} else {
			val_of(&v, ((n & 0xffffffu) << 8) | g);
			if (sl_reply_insert(p, &c->keys[g], c->hashes[g], &v, NOW) == 0)
				a->inserted++;
			else
				a->refused++;
		}
		a->ops++;
	}
	atomic_store(&c->stop, 1);
	return NULL;
}

static void *
reader_main(void *arg)
{
	struct reader_arg *a = arg;
	struct conc *c = a->c;
	uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(a->r + 1);

	while (atomic_load(&c->writers_started) < N_WRITERS)
		sched_yield();
	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		uint32_t g, first;
		struct sl_reply_val v, want;
		int part;

		s = s * 6364136223846793005ull + 1442695040888963407ull;
		g = (uint32_t)(s >> 33) % (N_WRITERS * KEYS_PER_WRITER);
		first = (uint32_t)a->r % N_WRITERS;
		part = sl_reply_lookup_any(c->parts, N_WRITERS, first, &c->keys[g], c->hashes[g],
					   NOW, &v);
		a->lookups++;
		if (part < 0)
			continue;
		a->hits++;
		val_of(&want, v.rule_id);
		if (memcmp(&v, &want, sizeof(v)) != 0)
			a->bad_value++;
		if ((v.rule_id & 0xff) != g)
			a->bad_key++;
		if ((uint32_t)part != g % N_WRITERS)
			a->bad_part++;
	}
	return NULL;
}

static void
test_concurrent(void **state)
{
	(void)state;
	struct conc *c = calloc(1, sizeof(*c));
	struct part t[N_WRITERS];
	struct writer_arg wa[N_WRITERS];
	struct reader_arg ra[N_READERS];
	pthread_t wt[N_WRITERS], rt[N_READERS];
	uint64_t ops = 0, hits = 0, lookups = 0;

	assert_non_null(c);
	memset(c, 0, sizeof(*c));
	atomic_init(&c->stop, 0);
	atomic_init(&c->writers_started, 0);
	/* few buckets, so that keys share buckets and ways change hands */
	for (int w = 0; w < N_WRITERS; w++) {
		part_new(&t[w], 4);
		c->parts[w] = t[w].p;
	}
	for (uint32_t g = 0; g < N_WRITERS * KEYS_PER_WRITER; g++) {
		key_n(&c->keys[g], g);
		c->hashes[g] = sl_reply_hash(&c->keys[g]);
	}
	for (int r = 0; r < N_READERS; r++) {
		memset(&ra[r], 0, sizeof(ra[r]));
		ra[r].c = c;
		ra[r].r = r;
		assert_int_equal(pthread_create(&rt[r], NULL, reader_main, &ra[r]), 0);
	}
	for (int w = 0; w < N_WRITERS; w++) {
		memset(&wa[w], 0, sizeof(wa[w]));
		wa[w].c = c;
		wa[w].w = w;
		assert_int_equal(pthread_create(&wt[w], NULL, writer_main, &wa[w]), 0);
	}
	for (int w = 0; w < N_WRITERS; w++)
		assert_int_equal(pthread_join(wt[w], NULL), 0);
	for (int r = 0; r < N_READERS; r++)
		assert_int_equal(pthread_join(rt[r], NULL), 0);

	for (int w = 0; w < N_WRITERS; w++) {
		printf("# writer %d: %llu ops, %llu inserts/updates, %llu refused, %llu removed\n",
		       w, (unsigned long long)wa[w].ops, (unsigned long long)wa[w].inserted,
		       (unsigned long long)wa[w].refused, (unsigned long long)wa[w].removed);
		assert_int_equal(wa[w].inserted, t[w].p->stats.inserts + t[w].p->stats.updates);
		assert_int_equal(wa[w].refused, t[w].p->stats.full);
		ops += wa[w].ops;
	}
	for (int r = 0; r < N_READERS; r++) {
		printf("# reader %d: %llu lookups, %llu hits, %llu torn, %llu wrong key, "
		       "%llu wrong partition\n",
		       r, (unsigned long long)ra[r].lookups, (unsigned long long)ra[r].hits,
		       (unsigned long long)ra[r].bad_value, (unsigned long long)ra[r].bad_key,
		       (unsigned long long)ra[r].bad_part);
		assert_int_equal(ra[r].bad_value, 0);
		assert_int_equal(ra[r].bad_key, 0);
		assert_int_equal(ra[r].bad_part, 0);
		assert_true(ra[r].hits > 0);
		hits += ra[r].hits;
		lookups += ra[r].lookups;
	}
	assert_true(ops > 1000);
	assert_true(lookups > 1000);
	assert_true(hits > lookups / 100);
	for (int w = 0; w < N_WRITERS; w++)
		part_free(&t[w]);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_and_init),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_insert_lookup),
		cmocka_unit_test(test_miss_on_any_field),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_full_and_reuse_expired),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_lookup_any),
		cmocka_unit_test(test_sized_fill),
		cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
