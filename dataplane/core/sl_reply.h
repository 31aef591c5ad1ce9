/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_reply.h: the DNAT reply table: a backend's reply -> the frontend it
 * must appear to come from.
 *
 * With DNAT (Floating IP off) a request client:cport -> frontend:fport is
 * rewritten to backend:bport. The backend answers backend:bport ->
 * client:cport; sluice must rewrite that reply to come from frontend:fport
 * and send it to the request's source MAC (and VLAN, and port). This table
 * maps the reply's 5-tuple to what that takes.
 *
 * DESIGN: one partition per worker lcore, written by that lcore only (it
 * inserts when it creates a DNAT flow and again when the flow's expiry
 * moves into another epoch: an insert of a present key updates it), read
 * lock-free by every worker (its own partition first, then the others).
 * Why:
 *  - The reply may land on another queue, so another lcore, than the
 *    request: RSS hashes the reply's tuple, not the request's. Steering
 *    replies to the request's queue with NIC flow rules or a symmetric RSS
 *    key is not generally possible for DNAT, because the reply's addresses
 *    differ from the request's (backend instead of frontend), and per-flow
 *    NIC rules do not scale to millions of flows. So any worker must be able
 *    to find any request's entry.
 *  - One writer per partition means no shared writer, no locks, and no
 *    read-modify-write atomics: the owner simply stores. Readers are
 *    protected by one sequence counter per entry (a seqlock): the writer
 *    makes the counter odd, writes the fields, makes it even (release); a
 *    reader loads the counter (acquire), copies the entry, loads the counter
 *    again, and accepts the copy only when both loads are equal and even. It
 *    retries a few times on a concurrent write, then reports a miss for that
 *    way (the write in flight is an insert, update or removal racing the
 *    reply; the next packet finds it). The counter's acquire/release are the
 *    only ordering used: the entry's other words are relaxed atomics, which
 *    compile to plain loads and stores (they are atomic only so that the
 *    race a seqlock tolerates is not undefined behaviour in C11, and so that
 *    ThreadSanitizer understands it).
 *  - A reply costs one or two bucket lookups when it lands on the request's
 *    lcore (the common case with one queue, or when RSS happens to agree)
 *    and up to 2N (N workers) when it does not; a miss costs 2N. A bucket is
 *    four cache lines, adjacent, read only (readers never write shared
 *    memory, so lookups from many lcores do not bounce lines between them).
 *  - Memory is the caller's, allocated once and never freed while workers
 *    run (fixed arrays, entries reused in place), so no RCU is needed.
 *
 * Layout: a partition is an array of buckets of SL_REPLY_WAYS entries, each
 * entry one 64-byte cache line (sequence counter, key, value). A key has two
 * buckets (two-choice hashing): the first from the top bits of
 * sl_reply_hash() of the key, the second from its low bits, mixed; writer
 * and readers compute them identically (partitions may differ in size). A
 * present key is updated in place where it is; a new key takes a free (else
 * an expired) way of the emptier of its two buckets, and when all eight
 * ways hold live entries the insert fails with -ENOSPC (the caller counts
 * it; nothing live is evicted). At the 50% fill sl_reply_buckets_for()
 * sizes for, one bucket alone refused about 3.5% of inserts; two refuse
 * about one in 100,000 (tests/unit/test_reply.c, test_sized_fill).
 *
 * Time is the caller's 32-bit millisecond clock (wraps after 49 days;
 * comparisons are wrap-safe, as in sl_flow.h): an entry is live until
 * now >= expires_ms.
 */
#ifndef SL_REPLY_H
#define SL_REPLY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sl_parse.h"
#include "sl_types.h"

#define SL_REPLY_WAYS 4
/* 2^26 buckets of 4 ways: 2^28 entries (16 GiB), far beyond any real table. */
#define SL_REPLY_MAX_BUCKETS (1u << 26)
/* Attempts to read one way stably under concurrent writes before giving up on it. */
#define SL_REPLY_READ_TRIES 8

/*
 * The key, as the reply carries it. Build it with sl_reply_key_make() or
 * sl_reply_key_of_reply(): pad must be zero (the hash and the comparison
 * cover every byte). proto 0 marks a free entry, so a real key has 6 or 17.
 */
struct sl_reply_key {
	struct sl_ip_addr backend;  /* the reply's source (IPv4 as IPv4-mapped) */
	struct sl_ip_addr client;   /* the reply's destination */
	uint16_t backend_port_be;   /* the reply's source port, network order */
	uint16_t client_port_be;    /* the reply's destination port, network order */
	uint8_t proto;              /* SL_PROTO_TCP or SL_PROTO_UDP */
	uint8_t pad[3];
};

/* What rewriting and sending the reply takes. */
struct sl_reply_val {
	uint32_t rule_id;           /* stable rule counter id: gives frontend address and port */
	uint32_t expires_ms;        /* the caller's clock */
	struct sl_mac client_mac;   /* the request's source MAC: where the reply goes */
	uint16_t vlan_tci;          /* the request's 802.1Q TCI, 0 = untagged */
	uint16_t port;              /* the port index the request arrived on */
	uint16_t pad;               /* zero */
};

#define SL_REPLY_KEY_WORDS (sizeof(struct sl_reply_key) / sizeof(uint32_t))
#define SL_REPLY_VAL_WORDS (sizeof(struct sl_reply_val) / sizeof(uint32_t))
#define SL_REPLY_VAL_EXPIRES_WORD 1 /* expires_ms: the word expiry checks read */

/*
 * One entry, one cache line. Key and value are held as 32-bit words so that
 * each can be a (relaxed) atomic: a 32-bit atomic is lock-free everywhere.
 * Touch entries only through the functions below.
 */
struct sl_reply_entry {
	_Alignas(64) _Atomic uint32_t seq;             /* odd while the owner writes */
	_Atomic uint32_t key[SL_REPLY_KEY_WORDS];      /* struct sl_reply_key */
	_Atomic uint32_t val[SL_REPLY_VAL_WORDS];      /* struct sl_reply_val */
};

/* Written by the owner only; other lcores may read them approximately. */
struct sl_reply_stats {
	uint64_t inserts;   /* new keys stored */
	uint64_t updates;   /* inserts of a key already present (value replaced) */
	uint64_t full;      /* inserts refused: every way of both buckets live (-ENOSPC) */
	uint64_t reclaimed; /* expired entries overwritten by an insert */
	uint64_t removed;
};

/*
 * One lcore's partition. The object must be 64-byte aligned (the stats,
 * written by the owner, sit on their own cache line, away from the fields
 * every reader loads).
 */
struct sl_reply_part {
	struct sl_reply_entry *entries; /* n_buckets * SL_REPLY_WAYS */
	uint32_t n_buckets;             /* power of two, at most SL_REPLY_MAX_BUCKETS */
	uint32_t shift;                 /* 32 - log2(n_buckets): bucket = hash >> shift */
	_Alignas(64) struct sl_reply_stats stats;
};

/* Wrap-safe: has `deadline` passed at `now`? (as sl_flow_time_passed) */
static inline int
sl_reply_time_passed(uint32_t now, uint32_t deadline)
{
	return (int32_t)(now - deadline) >= 0;
}

static inline void
sl_reply_key_make(struct sl_reply_key *k, uint8_t proto, const struct sl_ip_addr *backend,
		  uint16_t backend_port_be, const struct sl_ip_addr *client,
		  uint16_t client_port_be)
{
	k->backend = *backend;
	k->client = *client;
	k->backend_port_be = backend_port_be;
	k->client_port_be = client_port_be;
	k->proto = proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

/* The key of a parsed reply packet (backend -> client). */
static inline void
sl_reply_key_of_reply(struct sl_reply_key *k, const struct sl_pkt *p)
{
	sl_reply_key_make(k, p->l4_proto, &p->src, p->sport_be, &p->dst, p->dport_be);
}

/*
 * The 32-bit hash of a key (CRC32-C, then multiplied by 2^32/phi so that the
 * top bits, which pick the bucket, depend on every input bit). Writer and
 * readers pass it to the functions below; it must be sl_reply_hash(k).
 */
uint32_t sl_reply_hash(const struct sl_reply_key *k);

/* Buckets (a power of two) for about `flows` entries at ~50% fill. */
uint32_t sl_reply_buckets_for(uint32_t flows);

/* Bytes of memory sl_reply_init() needs for n_buckets. */
size_t sl_reply_memsize(uint32_t n_buckets);

/*
 * Lay partition p over mem (sl_reply_memsize(n_buckets) bytes, 64-byte
 * aligned, need not be zeroed; p itself 64-byte aligned). Every entry starts
 * free. Call before any reader can see p. Returns 0 or -EINVAL (n_buckets
 * not a power of two, above SL_REPLY_MAX_BUCKETS, or mem misaligned).
 */
int sl_reply_init(struct sl_reply_part *p, void *mem, uint32_t n_buckets);

/* ---- writer: the owner lcore only ----------------------------------- */

/*
 * Store k -> *v (v->expires_ms included). A key already in one of its
 * buckets (live or expired) has its value replaced; else the key takes a
 * free way, else an expired one, of the emptier bucket. Returns 0, or
 * -ENOSPC when every way of both buckets holds a live entry of another key
 * (counted in stats.full; nothing is evicted).
 */
int sl_reply_insert(struct sl_reply_part *p, const struct sl_reply_key *k, uint32_t hash,
		    const struct sl_reply_val *v, uint32_t now);

/* Free k's entry. Returns 0, or -ENOENT when k is not in the partition. */
int sl_reply_remove(struct sl_reply_part *p, const struct sl_reply_key *k, uint32_t hash);

/* ---- readers: any lcore ----------------------------------------------- */

/*
 * Look k up in partition p. Returns 1 and copies the value to *out when a
 * live (unexpired at now) entry with key k is found, else 0 (a way that
 * stays under concurrent write for SL_REPLY_READ_TRIES reads counts as a
 * miss).
 */
int sl_reply_lookup(const struct sl_reply_part *p, const struct sl_reply_key *k, uint32_t hash,
		    uint32_t now, struct sl_reply_val *out);

/*
 * Look k up in partition parts[first] (the caller's own), then in the others
 * in order first+1, ..., wrapping around; NULL partitions are skipped.
 * Returns the index of the partition that hit (with *out filled), or -1.
 */
int sl_reply_lookup_any(struct sl_reply_part *const *parts, uint32_t n_parts, uint32_t first,
			const struct sl_reply_key *k, uint32_t hash, uint32_t now,
			struct sl_reply_val *out);

#endif /* SL_REPLY_H */
