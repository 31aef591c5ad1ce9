/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_reply.c: the DNAT reply table (see sl_reply.h for the design): sizing,
 * the owner's seqlock writes (insert, remove) and the lock-free
 * readers (lookup in one partition, lookup across all).
 *
 * Memory ordering, C11 terms (Boehm, "Can seqlocks get along with
 * programming language memory models?", MSPC 2012):
 *   writer: seq = s+1 (relaxed); fence(release); words (relaxed);
 *           seq = s+2 (release)
 *   reader: s1 = seq (acquire); words (relaxed); fence(acquire);
 *           s2 = seq (relaxed); accept iff s1 == s2 and s1 even
 * If a reader's word load sees a store of a write that began after its s1,
 * the writer's release fence synchronizes with the reader's acquire fence,
 * so the odd counter store happens before s2 and s2 != s1. On x86 both
 * fences are compiler barriers only and every load and store here is a plain
 * MOV; on Arm they are one barrier each.
 *
 * The owner is the only writer of its partition, so it reads its own entries
 * without the seqlock (relaxed loads of words only it stores).
 */
#include <errno.h>

#include "sl_hash.h"
#include "sl_reply.h"

_Static_assert(sizeof(struct sl_reply_key) == 40, "reply key: 40 bytes, ten words");
_Static_assert(sizeof(struct sl_reply_val) == 20, "reply value: 20 bytes, five words");
_Static_assert(sizeof(struct sl_reply_entry) == 64, "a reply entry is one cache line");
_Static_assert(_Alignof(struct sl_reply_entry) == 64, "reply entries are cache-line aligned");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");
_Static_assert(offsetof(struct sl_reply_key, proto) == 4 * (SL_REPLY_KEY_WORDS - 1),
	       "proto and pad fill the key's last word, so a free entry has it zero");
_Static_assert(offsetof(struct sl_reply_val, expires_ms) == 4 * SL_REPLY_VAL_EXPIRES_WORD,
	       "expires_ms is value word 1");

#define KEY_LAST (SL_REPLY_KEY_WORDS - 1)

/*
 * ThreadSanitizer does not model atomic_thread_fence. Under it the fences
 * give way to the fence-free equivalent (word stores release, word loads
 * acquire), which it does model; the protocol is otherwise the same.
 */
#if defined(__SANITIZE_THREAD__)
#define SL_REPLY_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SL_REPLY_TSAN 1
#endif
#endif
#ifdef SL_REPLY_TSAN
#define WORD_LOAD memory_order_acquire
#define WORD_STORE memory_order_release
#define seq_fence(order) ((void)0)
#else
#define WORD_LOAD memory_order_relaxed
#define WORD_STORE memory_order_relaxed
#define seq_fence(order) atomic_thread_fence(order)
#endif

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

uint32_t
sl_reply_hash(const struct sl_reply_key *k)
{
	/* Fibonacci hashing over the (linear) CRC: the top bits pick the bucket. */
	return sl_crc32c(k, sizeof(*k), 0x7e91a0c3u) * 0x9e3779b1u;
}

uint32_t
sl_reply_buckets_for(uint32_t flows)
{
	/* ~50% fill: twice the entries, SL_REPLY_WAYS per bucket */
	uint64_t want = ((uint64_t)flows * 2 + SL_REPLY_WAYS - 1) / SL_REPLY_WAYS;
	uint32_t n = 1;

	while (n < want && n < SL_REPLY_MAX_BUCKETS)
		n <<= 1;
	return n;
}

size_t
sl_reply_memsize(uint32_t n_buckets)
{
	return (size_t)n_buckets * SL_REPLY_WAYS * sizeof(struct sl_reply_entry);
}

int
sl_reply_init(struct sl_reply_part *p, void *mem, uint32_t n_buckets)
{
	if (n_buckets == 0 || (n_buckets & (n_buckets - 1)) != 0 ||
	    n_buckets > SL_REPLY_MAX_BUCKETS || mem == NULL || ((uintptr_t)mem & 63) != 0)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	/* All zero: counter 0 (even), proto 0 (free). No reader can see it yet. */
	memset(mem, 0, sl_reply_memsize(n_buckets));
	p->entries = mem;
	p->n_buckets = n_buckets;
	p->shift = 32;
	for (uint32_t n = n_buckets; n > 1; n >>= 1)
		p->shift--;
	return 0;
}

/* The first entry of hash's bucket. 64-bit shift: a one-bucket partition shifts by 32. */
static inline struct sl_reply_entry *
bucket_of(const struct sl_reply_part *p, uint32_t hash)
{
	return &p->entries[((uint64_t)hash >> p->shift) * SL_REPLY_WAYS];
}

/*
 * The key's second bucket (two-choice hashing): from the hash's low bits,
 * which the first bucket's index does not use, mixed so that keys sharing a
 * first bucket scatter over second ones.
 */
static inline struct sl_reply_entry *
bucket2_of(const struct sl_reply_part *p, uint32_t hash)
{
	uint32_t h2 = ((hash << 16) | (hash >> 16)) * 0x85ebca6bu;
	return &p->entries[((uint64_t)h2 >> p->shift) * SL_REPLY_WAYS];
}

static inline void
key_words(uint32_t kw[SL_REPLY_KEY_WORDS], const struct sl_reply_key *k)
{
	memcpy(kw, k, sizeof(*k));
}

/* ---- writer ----------------------------------------------------------- */

static inline uint32_t
load_own(const _Atomic uint32_t *w)
{
	return atomic_load_explicit(w, memory_order_relaxed);
}

static inline int
own_key_eq(const struct sl_reply_entry *e, const uint32_t kw[SL_REPLY_KEY_WORDS])
{
	uint32_t diff = 0;

	for (unsigned int i = 0; i < SL_REPLY_KEY_WORDS; i++)
		diff |= load_own(&e->key[i]) ^ kw[i];
	return diff == 0;
}

/* The way of k in one bucket, or NULL. */
static struct sl_reply_entry *
own_find_in(struct sl_reply_entry *b, const uint32_t kw[SL_REPLY_KEY_WORDS])
{
	for (int w = 0; w < SL_REPLY_WAYS; w++)
		if (own_key_eq(&b[w], kw))
			return &b[w];
	return NULL;
}

/* The way of k in its two buckets, or NULL. */
static struct sl_reply_entry *
own_find(const struct sl_reply_part *p, const uint32_t kw[SL_REPLY_KEY_WORDS], uint32_t hash)
{
	struct sl_reply_entry *e = own_find_in(bucket_of(p, hash), kw);
	return e != NULL ? e : own_find_in(bucket2_of(p, hash), kw);
}

/* The ways of a bucket a new key may take: free first, else expired; how many there are. */
static int
own_room(struct sl_reply_entry *b, uint32_t now, struct sl_reply_entry **free_way,
	 struct sl_reply_entry **expired_way)
{
	int room = 0;

	*free_way = *expired_way = NULL;
	for (int w = 0; w < SL_REPLY_WAYS; w++) {
		struct sl_reply_entry *e = &b[w];
		if (load_own(&e->key[KEY_LAST]) == 0) {
			room++;
			if (*free_way == NULL)
				*free_way = e;
		} else if (sl_reply_time_passed(now, load_own(&e->val[SL_REPLY_VAL_EXPIRES_WORD]))) {
			room++;
			if (*expired_way == NULL)
				*expired_way = e;
		}
	}
	return room;
}

static inline uint32_t
write_begin(struct sl_reply_entry *e)
{
	uint32_t s = atomic_load_explicit(&e->seq, memory_order_relaxed);

	atomic_store_explicit(&e->seq, s + 1, memory_order_relaxed);
	/* orders the odd counter before the word stores below */
	seq_fence(memory_order_release);
	return s;
}

static inline void
write_end(struct sl_reply_entry *e, uint32_t s)
{
	atomic_store_explicit(&e->seq, s + 2, memory_order_release);
}

static inline void
store_words(_Atomic uint32_t *dst, const void *src, unsigned int n)
{
	uint32_t w[SL_REPLY_KEY_WORDS];

	memcpy(w, src, n * sizeof(uint32_t));
	for (unsigned int i = 0; i < n; i++)
		atomic_store_explicit(&dst[i], w[i], WORD_STORE);
}

int
sl_reply_insert(struct sl_reply_part *p, const struct sl_reply_key *k, uint32_t hash,
		const struct sl_reply_val *v, uint32_t now)
{
	struct sl_reply_entry *b1 = bucket_of(p, hash), *b2 = bucket2_of(p, hash);
	struct sl_reply_entry *free1, *exp1, *free2, *exp2, *e;
	uint32_t kw[SL_REPLY_KEY_WORDS];
	uint32_t s;

	if (k->proto == 0)
		return -EINVAL; /* proto 0 marks a free entry */
	key_words(kw, k);
	e = own_find_in(b1, kw);
	if (e == NULL && b2 != b1)
		e = own_find_in(b2, kw);
	if (e != NULL) {
		/* present (live or expired): the key stays, the value changes */
		s = write_begin(e);
		store_words(e->val, v, SL_REPLY_VAL_WORDS);
		write_end(e, s);
		p->stats.updates++;
		return 0;
	}
	/* a new key: into the emptier of its two buckets (ties: the first) */
	int room1 = own_room(b1, now, &free1, &exp1);
	int room2 = b2 != b1 ? own_room(b2, now, &free2, &exp2) : 0;
	if (room2 > room1) {
		free1 = free2;
		exp1 = exp2;
	}
	e = free1 != NULL ? free1 : exp1;
	if (e == NULL) {
		p->stats.full++;
		return -ENOSPC;
	}
	if (e == exp1)
		p->stats.reclaimed++;
	s = write_begin(e);
	store_words(e->key, kw, SL_REPLY_KEY_WORDS);
	store_words(e->val, v, SL_REPLY_VAL_WORDS);
	write_end(e, s);
	p->stats.inserts++;
	return 0;
}

int
sl_reply_remove(struct sl_reply_part *p, const struct sl_reply_key *k, uint32_t hash)
{
	uint32_t kw[SL_REPLY_KEY_WORDS];
	struct sl_reply_entry *e;
	uint32_t s;

	key_words(kw, k);
	e = own_find(p, kw, hash);
	if (e == NULL)
		return -ENOENT;
	s = write_begin(e);
	for (unsigned int i = 0; i < SL_REPLY_KEY_WORDS; i++)
		atomic_store_explicit(&e->key[i], 0, WORD_STORE);
	for (unsigned int i = 0; i < SL_REPLY_VAL_WORDS; i++)
		atomic_store_explicit(&e->val[i], 0, WORD_STORE);
	write_end(e, s);
	p->stats.removed++;
	return 0;
}

/* ---- readers ---------------------------------------------------------- */

/*
 * Read way e for key kw: 1 and *out on a stable copy with key kw that is live
 * at now, else 0.
 *
 * The key is compared before the copy is validated, and a mismatch ends the
 * read at once (most ways hold other keys): an entry that held kw for the
 * whole read would show kw in every word, however torn the copy, because
 * updates of a present key never store its key words; so a
 * mismatch means the way held kw at no time or only part of the time (an
 * insert or removal in flight), and a miss is a correct answer either way.
 * A match is accepted only once the counter confirms the copy.
 */
static int
read_way(const struct sl_reply_entry *e, const uint32_t kw[SL_REPLY_KEY_WORDS], uint32_t now,
	 struct sl_reply_val *out)
{
	for (int tries = 0; tries < SL_REPLY_READ_TRIES; tries++) {
		uint32_t s1 = atomic_load_explicit(&e->seq, memory_order_acquire);
		uint32_t val[SL_REPLY_VAL_WORDS];
		uint32_t diff = 0;

		if (s1 & 1u) {
			cpu_relax();
			continue;
		}
		for (unsigned int i = 0; i < SL_REPLY_KEY_WORDS; i++)
			diff |= atomic_load_explicit(&e->key[i], WORD_LOAD) ^ kw[i];
		if (diff != 0)
			return 0;
		for (unsigned int i = 0; i < SL_REPLY_VAL_WORDS; i++)
			val[i] = atomic_load_explicit(&e->val[i], WORD_LOAD);
		seq_fence(memory_order_acquire);
		if (atomic_load_explicit(&e->seq, memory_order_relaxed) != s1) {
			cpu_relax();
			continue;
		}
		if (sl_reply_time_passed(now, val[SL_REPLY_VAL_EXPIRES_WORD]))
			return 0;
		memcpy(out, val, sizeof(*out));
		return 1;
	}
	return 0;
}

static inline int
lookup_words(const struct sl_reply_part *p, const uint32_t kw[SL_REPLY_KEY_WORDS],
	     uint32_t hash, uint32_t now, struct sl_reply_val *out)
{
	const struct sl_reply_entry *b = bucket_of(p, hash), *b2 = bucket2_of(p, hash);

	for (int w = 0; w < SL_REPLY_WAYS; w++)
		if (read_way(&b[w], kw, now, out))
			return 1;
	if (b2 == b)
		return 0;
	for (int w = 0; w < SL_REPLY_WAYS; w++)
		if (read_way(&b2[w], kw, now, out))
			return 1;
	return 0;
}

int
sl_reply_lookup(const struct sl_reply_part *p, const struct sl_reply_key *k, uint32_t hash,
		uint32_t now, struct sl_reply_val *out)
{
	uint32_t kw[SL_REPLY_KEY_WORDS];

	if (k->proto == 0)
		return 0;
	key_words(kw, k);
	return lookup_words(p, kw, hash, now, out);
}

int
sl_reply_lookup_any(struct sl_reply_part *const *parts, uint32_t n_parts, uint32_t first,
		    const struct sl_reply_key *k, uint32_t hash, uint32_t now,
		    struct sl_reply_val *out)
{
	uint32_t kw[SL_REPLY_KEY_WORDS];
	uint32_t idx;

	if (n_parts == 0 || k->proto == 0)
		return -1;
	key_words(kw, k);
	idx = first < n_parts ? first : 0;
	for (uint32_t i = 0; i < n_parts; i++) {
		if (parts[idx] != NULL && lookup_words(parts[idx], kw, hash, now, out))
			return (int)idx;
		if (++idx == n_parts)
			idx = 0;
	}
	return -1;
}
