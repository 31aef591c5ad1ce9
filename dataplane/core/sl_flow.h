/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_flow.h: the per-lcore flow table: a flow's key -> its backend.
 *
 * DESIGN: one table per worker lcore (RSS keeps a flow on one queue, so
 * one lcore), touched by that lcore only: no locks, no atomics. Memory is
 * the caller's (hugepages on the lcore's socket in sluiced, malloc in unit
 * tests), sized once.
 *
 * Layout: buckets of SL_FLOW_BUCKET_WAYS entries. A bucket's signatures
 * (16 bits of the flow hash, never 0; 0 marks a free way) fill a quarter of
 * a cache line, its entries are one cache line each (struct sl_flow_entry,
 * 64 bytes), so a lookup touches one signature line and, on a signature
 * match, one entry line; both can be prefetched a burst ahead. Signatures
 * are kept small so that they stay in the last-level cache: at a million
 * flows they take 4 MiB, and the entry line is then the only DRAM access
 * of a hit (random lines are what a large table pays for: 11-18 ns of
 * memory throughput each on the development machine, 160 ns of latency;
 * see docs/benchmarks.md). An entry is placed only in its hash's bucket;
 * when all ways hold live flows the insert fails (the caller falls back to
 * the stateless Maglev choice and counts it): nothing live is evicted by
 * an insert, so a flood of new flows cannot push out established ones. The
 * one exception is the caller's choice: a connection past its handshake
 * may take the way of a TCP entry seen only with SYN
 * (sl_flow_displace_syn_only), so that a SYN flood's entries yield to it.
 *
 * Time is a 32-bit millisecond clock supplied by the caller (it wraps after
 * 49 days; comparisons are wrap-safe). Each entry holds its own expiry; the
 * caller renews it with the timeout of the flow's state (sl_flow_policy.h
 * writes it only once it has moved by SL_FLOW_RENEW_SLACK_MS, so a busy
 * flow's entry is not dirtied by every packet).
 * Expired entries are reclaimed lazily by inserts into their bucket and by an
 * incremental sweep over a few buckets per call, which reports TCP flows
 * that expired ESTABLISHED (for enableTcpReset).
 */
#ifndef SL_FLOW_H
#define SL_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sl_hash.h"
#include "sl_parse.h"
#include "sl_types.h"

#define SL_FLOW_BUCKET_WAYS 8
/* Bucket indexes come from the top bits of a 32-bit hash; 2^25 buckets hold 2^28 ways. */
#define SL_FLOW_MAX_BUCKETS (1u << 25)

/* The key: the rule's distribution key (ports and protocol zero where the mode ignores them). */
struct sl_flow_key {
	struct sl_ip_addr src;
	struct sl_ip_addr dst;
	uint16_t sport_be;
	uint16_t dport_be;
	uint8_t proto;
	uint8_t pad[3];
};
_Static_assert(sizeof(struct sl_flow_key) == 40 && offsetof(struct sl_flow_key, sport_be) == 32,
	       "a flow key: two addresses, then ports, protocol and pad in one 8-byte word");

/* entry flags */
/* its backend is Down with a drain period: expires_ms is the deadline */
#define SL_FLOW_F_DRAINING 0x01
/* installed from another host's flow sync record: no packet of it seen here yet */
#define SL_FLOW_F_SYNCED 0x02

enum sl_flow_state {
	SL_FLOW_NEW = 0,         /* UDP, or TCP seen only with SYN */
	SL_FLOW_ESTABLISHED = 1, /* TCP: a packet without SYN seen */
	SL_FLOW_CLOSING = 2,     /* TCP: FIN seen */
	SL_FLOW_RESET = 3,       /* TCP: RST seen */
};

struct sl_flow_entry {
	struct sl_flow_key key;   /* 40 */
	uint32_t backend_id;      /* stable backend id (counter id): survives snapshots */
	uint32_t rule_id;         /* stable rule id (counter id) */
	uint32_t expires_ms;      /* the caller's clock */
	uint32_t client_seq_next; /* TCP: the sequence number the client sends next */
	uint32_t client_ack;      /* TCP: the last acknowledgement number the client sent */
	uint8_t state;            /* enum sl_flow_state */
	uint8_t flags;
	uint16_t port;            /* the caller's port index the flow arrives on */
} __attribute__((aligned(64)));

struct sl_flow_bucket {
	uint16_t sig[SL_FLOW_BUCKET_WAYS];
} __attribute__((aligned(16)));

struct sl_flow_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t inserts;
	uint64_t full;     /* inserts refused: bucket full of live flows */
	uint64_t displaced; /* SYN-only TCP entries given up for an established flow */
	uint64_t expired;  /* entries reclaimed after their timeout */
	uint64_t removed;
};

struct sl_flow_table {
	uint32_t n_buckets;          /* power of two, at most SL_FLOW_MAX_BUCKETS */
	uint32_t mask;
	uint32_t shift;              /* 32 - log2(n_buckets) */
	struct sl_flow_bucket *buckets;
	struct sl_flow_entry *entries; /* n_buckets * SL_FLOW_BUCKET_WAYS */
	uint32_t sweep_next;         /* next bucket the sweep looks at */
	uint32_t live;               /* entries in use (expired ones count until reclaimed) */
	struct sl_flow_stats stats;
};

/* Buckets for at least `flows` entries at the given fill (percent, 1..100). */
uint32_t sl_flow_buckets_for(uint64_t flows, unsigned int fill_percent);

/* Bytes of memory sl_flow_table_init() needs for n_buckets (a power of two). */
size_t sl_flow_table_memsize(uint32_t n_buckets);

/*
 * Lay a table over mem (sl_flow_table_memsize(n_buckets) bytes, 64-byte
 * aligned, need not be zeroed). Returns 0 or -EINVAL (n_buckets not a power
 * of two, above SL_FLOW_MAX_BUCKETS, or mem misaligned).
 */
int sl_flow_table_init(struct sl_flow_table *t, void *mem, uint32_t n_buckets);

/* The key of a parsed packet for distribution mode d. */
static inline void
sl_flow_key_make(struct sl_flow_key *k, const struct sl_pkt *p, enum sl_dist d)
{
	k->src = p->src;
	k->dst = p->dst;
	k->sport_be = d == SL_DIST_DEFAULT ? p->sport_be : 0;
	k->dport_be = d == SL_DIST_DEFAULT ? p->dport_be : 0;
	k->proto = d == SL_DIST_SOURCE_IP ? 0 : p->l4_proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

/*
 * A way's signature: the hash's low 16 bits, never 0 (which marks a free
 * way). The bucket comes from the top bits of hash * 2^32/phi, whose low 16
 * bits are fixed by the hash's: with 2^16 buckets or more (a million flows
 * take 2^18) bucket and signature together fix the whole hash, so within a
 * bucket two flows' signatures collide only through the low bit. Smaller
 * tables see ordinary 16-bit collisions, which the key comparison settles.
 */
static inline uint16_t
sl_flow_sig(uint32_t hash)
{
	return (uint16_t)(hash | 1u);
}

static inline struct sl_flow_bucket *
sl_flow_bucket_of(const struct sl_flow_table *t, uint32_t hash)
{
	/*
	 * Fibonacci hashing: the flow hash is a CRC, linear in its input, so
	 * structured traffic (one client prefix, sequential ports) would crowd
	 * a few buckets; multiplying by 2^32/phi and taking the top bits
	 * spreads it over the whole table.
	 */
	/* 64-bit shift: a one-bucket table shifts by 32 */
	return &t->buckets[(uint64_t)(uint32_t)(hash * 0x9e3779b1u) >> t->shift];
}

static inline int
sl_flow_key_eq(const struct sl_flow_key *a, const struct sl_flow_key *b)
{
#if defined(__SSE2__)
	/* both addresses in two 16-byte compares, ports, protocol and pad in one word */
	__m128i e = _mm_and_si128(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)&a->src),
						 _mm_loadu_si128((const __m128i *)&b->src)),
				  _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)&a->dst),
						 _mm_loadu_si128((const __m128i *)&b->dst)));
	uint64_t ta, tb;
	memcpy(&ta, &a->sport_be, sizeof(ta));
	memcpy(&tb, &b->sport_be, sizeof(tb));
	return _mm_movemask_epi8(e) == 0xffff && ta == tb;
#else
	return memcmp(a, b, sizeof(*a)) == 0;
#endif
}

/*
 * The ways of bucket b holding signature sig, as a bit mask (bit w: way w).
 * Without branches: which way a flow sits in is random, so a compare and
 * branch per way would mispredict on almost every packet.
 */
static inline uint32_t
sl_flow_sig_mask(const struct sl_flow_bucket *b, uint16_t sig)
{
#if defined(__SSE2__)
	_Static_assert(SL_FLOW_BUCKET_WAYS == 8, "one 8-way compare");
	__m128i eq = _mm_cmpeq_epi16(_mm_load_si128((const __m128i *)b->sig),
				     _mm_set1_epi16((short)sig));
	return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(eq, _mm_setzero_si128()));
#else
	uint32_t m = 0;
	for (int w = 0; w < SL_FLOW_BUCKET_WAYS; w++)
		m |= (uint32_t)(b->sig[w] == sig) << w;
	return m;
#endif
}

/*
 * The way of bucket b whose signature matches and whose key equals k, or
 * -1. Expired entries still match (the caller decides what an expired hit
 * means: sluiced treats it as a miss and reuses the entry).
 */
static inline int
sl_flow_find(const struct sl_flow_table *t, const struct sl_flow_bucket *b, uint32_t hash,
	     const struct sl_flow_key *k)
{
	uint32_t first = (uint32_t)(b - t->buckets) * SL_FLOW_BUCKET_WAYS;

	for (uint32_t m = sl_flow_sig_mask(b, sl_flow_sig(hash)); m != 0; m &= m - 1) {
		int w = __builtin_ctz(m);
		if (sl_flow_key_eq(&t->entries[first + (uint32_t)w].key, k))
			return w;
	}
	return -1;
}

static inline struct sl_flow_entry *
sl_flow_entry_at(const struct sl_flow_table *t, const struct sl_flow_bucket *b, int way)
{
	return &t->entries[(uint32_t)(b - t->buckets) * SL_FLOW_BUCKET_WAYS + (uint32_t)way];
}

/* Wrap-safe: has `deadline` passed at `now`? */
static inline int
sl_flow_time_passed(uint32_t now, uint32_t deadline)
{
	return (int32_t)(now - deadline) >= 0;
}

/*
 * Take a way in bucket b for key k: a free way, else an expired one (which
 * is reclaimed, counted as expired). Returns the entry with key, signature
 * and expiry set and the other fields zero, or NULL when every way holds a
 * live flow (counted as full).
 */
struct sl_flow_entry *sl_flow_insert(struct sl_flow_table *t, struct sl_flow_bucket *b,
				     uint32_t hash, const struct sl_flow_key *k, uint32_t now,
				     uint32_t expires_ms);

/*
 * For a flow that sl_flow_insert() found no room for and whose packet shows
 * a completed handshake (TCP without SYN): take the way of the live TCP
 * entry of bucket b seen only with SYN (state SL_FLOW_NEW, key protocol
 * TCP, not draining) that expires first: a SYN flood's entries yield to
 * established connections, and established entries are never touched.
 * The old entry counts as removed and displaced, the new one as inserted.
 * Returns the entry as sl_flow_insert() does, or NULL when the bucket holds
 * no such entry.
 */
struct sl_flow_entry *sl_flow_displace_syn_only(struct sl_flow_table *t, struct sl_flow_bucket *b,
						uint32_t hash, const struct sl_flow_key *k,
						uint32_t expires_ms);

/* Free the entry e (the way becomes free). */
void sl_flow_remove(struct sl_flow_table *t, struct sl_flow_entry *e);

/* Called by the sweep for each expired entry before it is freed. */
typedef void (*sl_flow_expired_fn)(const struct sl_flow_entry *e, void *arg);

/*
 * Look at the next n_buckets buckets (wrapping around the table) and free
 * the entries expired at `now`, calling cb (may be NULL) for each. Returns
 * the number freed. Bounded work per call, so a worker can call it every
 * loop iteration.
 */
uint32_t sl_flow_sweep(struct sl_flow_table *t, uint32_t now, uint32_t n_buckets,
		       sl_flow_expired_fn cb, void *arg);

#endif /* SL_FLOW_H */
