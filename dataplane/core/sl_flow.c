/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_flow.c: the per-lcore flow table's out-of-line parts (see sl_flow.h):
 * sizing, insertion, removal and the incremental expiry sweep.
 */
#include <errno.h>

#include "sl_flow.h"

_Static_assert(sizeof(struct sl_flow_entry) == 64, "a flow entry is one cache line");
_Static_assert(sizeof(struct sl_flow_bucket) == 16, "a bucket's signatures fill a quarter line");

uint32_t
sl_flow_buckets_for(uint64_t flows, unsigned int fill_percent)
{
	uint64_t want, n = 1;

	if (fill_percent == 0 || fill_percent > 100)
		fill_percent = 100;
	want = (flows * 100 + fill_percent - 1) / fill_percent;
	want = (want + SL_FLOW_BUCKET_WAYS - 1) / SL_FLOW_BUCKET_WAYS;
	while (n < want && n < SL_FLOW_MAX_BUCKETS)
		n <<= 1;
	return (uint32_t)n;
}

size_t
sl_flow_table_memsize(uint32_t n_buckets)
{
	return (size_t)n_buckets * sizeof(struct sl_flow_bucket) +
	       (size_t)n_buckets * SL_FLOW_BUCKET_WAYS * sizeof(struct sl_flow_entry);
}

int
sl_flow_table_init(struct sl_flow_table *t, void *mem, uint32_t n_buckets)
{
	if (n_buckets == 0 || (n_buckets & (n_buckets - 1)) != 0 ||
	    n_buckets > SL_FLOW_MAX_BUCKETS || ((uintptr_t)mem & 63) != 0)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->n_buckets = n_buckets;
	t->mask = n_buckets - 1;
	t->shift = 32;
	for (uint32_t n = n_buckets; n > 1; n >>= 1)
		t->shift--;
	/* entries first: they are 64-byte aligned; the signatures follow */
	t->entries = mem;
	t->buckets = (struct sl_flow_bucket *)(t->entries + (size_t)n_buckets * SL_FLOW_BUCKET_WAYS);
	memset(t->buckets, 0, (size_t)n_buckets * sizeof(struct sl_flow_bucket));
	return 0;
}

struct sl_flow_entry *
sl_flow_insert(struct sl_flow_table *t, struct sl_flow_bucket *b, uint32_t hash,
	       const struct sl_flow_key *k, uint32_t now, uint32_t expires_ms)
{
	uint32_t free_ways = sl_flow_sig_mask(b, 0);
	int way = free_ways != 0 ? __builtin_ctz(free_ways) : -1;

	if (way < 0) {
		for (int w = 0; w < SL_FLOW_BUCKET_WAYS; w++) {
			if (sl_flow_time_passed(now, sl_flow_entry_at(t, b, w)->expires_ms)) {
				way = w;
				t->stats.expired++;
				t->live--;
				break;
			}
		}
	}
	if (way < 0) {
		t->stats.full++;
		return NULL;
	}
	struct sl_flow_entry *e = sl_flow_entry_at(t, b, way);
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->expires_ms = expires_ms;
	b->sig[way] = sl_flow_sig(hash);
	t->live++;
	t->stats.inserts++;
	return e;
}

struct sl_flow_entry *
sl_flow_displace_syn_only(struct sl_flow_table *t, struct sl_flow_bucket *b, uint32_t hash,
			  const struct sl_flow_key *k, uint32_t expires_ms)
{
	struct sl_flow_entry *victim = NULL;
	int way = -1;

	for (int w = 0; w < SL_FLOW_BUCKET_WAYS; w++) {
		struct sl_flow_entry *e = sl_flow_entry_at(t, b, w);
		if (b->sig[w] == 0 || e->state != SL_FLOW_NEW || e->key.proto != SL_PROTO_TCP ||
		    (e->flags & SL_FLOW_F_DRAINING))
			continue;
		if (victim == NULL || (int32_t)(e->expires_ms - victim->expires_ms) < 0) {
			victim = e;
			way = w;
		}
	}
	if (victim == NULL)
		return NULL;
	t->stats.removed++;
	t->stats.displaced++;
	memset(victim, 0, sizeof(*victim));
	victim->key = *k;
	victim->expires_ms = expires_ms;
	b->sig[way] = sl_flow_sig(hash);
	t->stats.inserts++;
	return victim;
}

void
sl_flow_remove(struct sl_flow_table *t, struct sl_flow_entry *e)
{
	uint32_t idx = (uint32_t)(e - t->entries);

	t->buckets[idx / SL_FLOW_BUCKET_WAYS].sig[idx % SL_FLOW_BUCKET_WAYS] = 0;
	t->live--;
	t->stats.removed++;
}

uint32_t
sl_flow_sweep(struct sl_flow_table *t, uint32_t now, uint32_t n_buckets, sl_flow_expired_fn cb,
	      void *arg)
{
	uint32_t freed = 0;

	/*
	 * Start loading the live entries of the buckets the next call will
	 * look at: with a table larger than the caches each is a memory
	 * access, and the caller's work in between hides them.
	 */
	for (uint32_t i = 0; i < n_buckets; i++) {
		const struct sl_flow_bucket *b = &t->buckets[(t->sweep_next + n_buckets + i) & t->mask];
		for (uint32_t m = ~sl_flow_sig_mask(b, 0) & 0xffu; m != 0; m &= m - 1)
			__builtin_prefetch(sl_flow_entry_at(t, b, __builtin_ctz(m)));
	}
	for (uint32_t i = 0; i < n_buckets; i++) {
		struct sl_flow_bucket *b = &t->buckets[t->sweep_next];

		t->sweep_next = (t->sweep_next + 1) & t->mask;
		for (uint32_t m = ~sl_flow_sig_mask(b, 0) & 0xffu; m != 0; m &= m - 1) {
			int w = __builtin_ctz(m);
			struct sl_flow_entry *e = sl_flow_entry_at(t, b, w);
			if (!sl_flow_time_passed(now, e->expires_ms))
				continue;
			if (cb != NULL)
				cb(e, arg);
			b->sig[w] = 0;
			t->live--;
			t->stats.expired++;
			freed++;
		}
	}
	return freed;
}
