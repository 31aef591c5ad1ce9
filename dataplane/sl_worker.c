/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_worker.c: the packet path of one worker lcore (see sl_worker.h, and
 * "The packet path" in docs/architecture.md): rx_burst, parse, frontend
 * lookup, flow table or Maglev backend choice, rewrite, buffered tx_burst,
 * and the worker's loop. Packets the stages set aside take the worker's
 * slow path (sl_worker_slowpath.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring_elem.h>

#include "sl_flow_policy.h"
#include "sl_hash.h"
#include "sl_l2proto.h"
#include "sl_logging.h"
#include "sl_parse.h"
#include "sl_rewrite.h"
#include "sl_worker_internal.h"

RTE_LOG_REGISTER(sl_logtype_worker, user.sluice.worker, INFO);

#define SL_PREFETCH_AHEAD 4

/* TX buffer error callback: the queue did not take these packets. */
static void
sl_tx_unsent(struct rte_mbuf **pkts, uint16_t unsent, void *userdata)
{
	struct sl_lcore_stats *st = userdata;

	st->drops[SL_DROP_TX_FULL] += unsent;
	rte_pktmbuf_free_bulk(pkts, unsent);
}

int
sl_worker_prepare(struct sl_worker *w)
{
	int socket = (int)rte_lcore_to_socket_id(w->lcore_id);

	for (uint16_t p = 0; p < SL_MAX_PORTS; p++) {
		struct sl_worker_queue *q = w->txq[p];
		if (q == NULL)
			continue;
		q->txb = rte_zmalloc_socket("sl_txb", RTE_ETH_TX_BUFFER_SIZE(SL_BURST), 0, socket);
		if (q->txb == NULL)
			return -ENOMEM;
		rte_eth_tx_buffer_init(q->txb, SL_BURST);
		rte_eth_tx_buffer_set_err_callback(q->txb, sl_tx_unsent, w->stats);
	}
	w->drain_tsc = (rte_get_tsc_hz() + 1000000 - 1) / 1000000 * SL_TX_DRAIN_US;
	w->tsc_per_ms = rte_get_tsc_hz() / 1000;
	if (w->flow_capacity != 0) {
		/*
		 * Sized for 80% of the ways, rounded up to a power of two: at the
		 * capacity asked for the table is 40-80% full; a bucket full of
		 * live flows at 50% fill refuses about 1% of new flows, at 80%
		 * about 7% (they are forwarded statelessly and counted).
		 */
		uint32_t nb = sl_flow_buckets_for(w->flow_capacity, 80);
		w->flow_mem = rte_malloc_socket("sl_flows", sl_flow_table_memsize(nb),
						RTE_CACHE_LINE_SIZE, socket);
		if (w->flow_mem == NULL)
			return -ENOMEM;
		if (sl_flow_table_init(&w->flows, w->flow_mem, nb) != 0)
			return -EINVAL;
		/*
		 * The DNAT reply table: sized for reply_capacity connections at
		 * about 50% fill (a full bucket refuses the entry: counted as
		 * reply_table_full, that connection's replies are dropped).
		 */
		uint32_t rb = sl_reply_buckets_for(w->reply_capacity ? w->reply_capacity
								      : w->flow_capacity);
		w->reply_mem = rte_malloc_socket("sl_replies", sl_reply_memsize(rb),
						 RTE_CACHE_LINE_SIZE, socket);
		if (w->reply_mem == NULL)
			return -ENOMEM;
		if (sl_reply_init(&w->reply, w->reply_mem, rb) != 0)
			return -EINVAL;
	}
	return 0;
}

void
sl_worker_release(struct sl_worker *w)
{
	for (uint16_t p = 0; p < SL_MAX_PORTS; p++) {
		if (w->txq[p] != NULL) {
			rte_free(w->txq[p]->txb);
			w->txq[p]->txb = NULL;
		}
	}
	rte_free(w->flow_mem);
	w->flow_mem = NULL;
	rte_free(w->reply_mem);
	w->reply_mem = NULL;
}

/*
 * Per-burst state between the stages. Stage 1 (classify) parses each packet,
 * finds its rule, hashes it and prefetches the flow table lines or, without
 * flow tracking, the Maglev slot it will read;
 * stage 2 (pick) reads the slot, resolves the backend and prefetches its
 * header prefix; stage 3 (rewrite) rewrites, counts and queues for TX. Each
 * stage's memory accesses were started a whole burst earlier.
 *
 * The stages after parsing walk `fast`, the packets still on the fast path,
 * in order: a packet set aside (drop[i] set) leaves the list at once, so
 * that in a burst mixing good and bad packets no later stage branches on
 * each packet's fate (mispredicted, about six times a set-aside packet).
 * The set-aside packets take the slow path after the fast ones, in order.
 */
_Static_assert(SL_BURST <= 64, "a burst index fits in a byte, a burst in a 64-bit mask");

struct sl_burst {
	struct sl_pkt pkt[SL_BURST];
	uint32_t hash[SL_BURST];
	const struct sl_rule *rule[SL_BURST];
	const uint16_t *slot[SL_BURST];
	const struct sl_encap *hdr[SL_BURST];
	uint32_t backend[SL_BURST];
	struct sl_flow_key key[SL_BURST];
	struct sl_flow_bucket *bucket[SL_BURST];
	struct sl_flow_entry *flow[SL_BURST]; /* NULL: stateless (no table, or table full) */
	uint16_t eport[SL_BURST]; /* egress port index */
	uint8_t fresh[SL_BURST];  /* the flow entry was (re)started by this packet */
	uint8_t drop[SL_BURST]; /* enum sl_drop_reason; SL_DROP_NONE = keep going */
	uint8_t fast[SL_BURST]; /* indexes of the packets on the fast path, in order */
	uint16_t n_fast;
};

/*
 * Packet i's flow bucket signatures, prefetched a pass earlier, have
 * arrived: start loading the entry whose signature matches, so pick's key
 * comparison finds it in cache. With a large table both lines are cache
 * misses; this way each overlaps with a whole pass over the burst. No
 * signature matches: a new flow (a SYN flood's every packet), which reads
 * its Maglev slot instead.
 */
static inline void
sl_flow_prefetch_entry(struct sl_worker *w, const struct sl_burst *b, uint16_t i)
{
	const struct sl_flow_bucket *bk = b->bucket[i];
	uint32_t m = sl_flow_sig_mask(bk, sl_flow_sig(b->hash[i]));
	/*
	 * No entry can be this flow's: pick reads its Maglev slot instead. A
	 * select, not a branch: under a SYN flood new and known flows mix at
	 * random. (The way is m's lowest, or way 0, unused, when m is 0.)
	 */
	const int way = (int)(__builtin_ctz(m | 1u << SL_FLOW_BUCKET_WAYS) &
			      (SL_FLOW_BUCKET_WAYS - 1));
	const struct sl_flow_entry *e = sl_flow_entry_at(&w->flows, bk, way);
	rte_prefetch0(m != 0 ? (const void *)e : (const void *)b->slot[i]);
}

/*
 * The last frontend lookup of a burst: packets in a row to one frontend
 * and port (the common case: a busy frontend's flows arrive together) reuse
 * its rule instead of hashing and probing the frontend table again.
 */
struct sl_lookup_memo {
	struct sl_ip_addr dst;
	uint32_t port_proto; /* dport_be | l4_proto << 16; UINT32_MAX: empty */
	uint32_t rule;
};

static inline uint32_t
sl_classify_lookup(const struct sl_snapshot *snap, const struct sl_pkt *p,
		   struct sl_lookup_memo *memo)
{
	uint32_t pp = (uint32_t)p->dport_be | (uint32_t)p->l4_proto << 16;

	if (likely(pp == memo->port_proto && sl_ip_addr_eq(&p->dst, &memo->dst)))
		return memo->rule;
	uint32_t ri = sl_snapshot_lookup(snap, p);
	memo->dst = p->dst;
	memo->port_proto = pp;
	memo->rule = ri;
	return ri;
}

/*
 * Classify's second pass for packet i, parsed well: its rule, hash, Maglev
 * slot and flow key. 1 when it stays on the fast path; 0 when set aside
 * (drop[i] set). *rehashed is set for a rule that does not distribute by
 * the Default 5-tuple hash (its flow entry is prefetched after the pass).
 */
static inline int
sl_classify_rule(struct sl_worker *w, const struct sl_snapshot *snap, struct sl_burst *b,
		 unsigned int i, const int flows, int *rehashed, struct sl_lookup_memo *memo)
{
	struct sl_pkt *p = &b->pkt[i];
	uint32_t ri = sl_classify_lookup(snap, p, memo);

	if (unlikely(ri == SL_RULE_NONE)) {
		b->drop[i] = SL_DROP_NO_FRONTEND;
		return 0;
	}
	const struct sl_rule *rule = &snap->rules[ri];
	const struct sl_pool *pool = &snap->pools[rule->pool];
	if (unlikely(pool->n_members == 0)) {
		b->drop[i] = SL_DROP_NO_BACKEND;
		sl_stats_rule_dropped(w->stats, rule->counter_id, SL_DROP_NO_BACKEND);
		return 0;
	}
	uint32_t h;
	if (!flows || unlikely(rule->dist != SL_DIST_DEFAULT)) {
		h = sl_flow_hash(p, (enum sl_dist)rule->dist, snap->hash_seed);
		b->hash[i] = h;
		if (flows) {
			b->bucket[i] = sl_flow_bucket_of(&w->flows, h);
			rte_prefetch0(b->bucket[i]);
		}
	} else {
		h = b->hash[i];
	}
	b->rule[i] = rule;
	b->slot[i] = &pool->table[sl_maglev_slot(h, pool->table_size)];
	/*
	 * With flow tracking only a new flow reads the slot, so a prefetch on
	 * every packet would be wasted; without it every packet does.
	 */
	if (!flows) {
		rte_prefetch0(b->slot[i]);
	} else {
		sl_flow_key_make(&b->key[i], p, (enum sl_dist)rule->dist);
		/* the signatures were asked for a pass ago: start on the entry */
		if (likely(rule->dist == SL_DIST_DEFAULT))
			sl_flow_prefetch_entry(w, b, i);
		else
			*rehashed = 1;
	}
	return 1;
}

/*
 * A stage has kept `kept` of the n packets it walked densely (0..n-1): when
 * it set some aside, the later stages walk the list of those it kept.
 */
static inline void
sl_burst_list_kept(struct sl_burst *b, uint16_t n, uint16_t kept)
{
	uint16_t k = 0;

	b->n_fast = kept;
	if (likely(kept == n))
		return;
	for (uint16_t i = 0; i < n; i++) {
		b->fast[k] = (uint8_t)i;
		k += b->drop[i] == SL_DROP_NONE;
	}
}

static inline void
sl_stage_classify(struct sl_worker *w, const struct sl_snapshot *snap, struct rte_mbuf **pkts,
		  uint16_t n, struct sl_burst *b)
{
	const int flows = w->flow_capacity != 0;
	struct sl_lookup_memo memo = {.port_proto = UINT32_MAX};
	uint16_t nf = 0, kept = 0;
	int rehashed = 0;

	/*
	 * Two passes: parse every packet, then look each up. Each pass's
	 * iterations are independent of one another, so the core overlaps
	 * several packets' dependent loads (address index, rule, pool, slot)
	 * instead of waiting out one packet's chain before the next.
	 */
	for (uint16_t i = 0; i < n && i < SL_PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (i + SL_PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + SL_PREFETCH_AHEAD], void *));
		/*
		 * The headers in the first segment, the lengths against the
		 * whole chain. One segment is its own length: net_pcap's
		 * infinite_rx replays a chain as its first segment with the
		 * chain's pkt_len.
		 */
		uint32_t seg = rte_pktmbuf_data_len(m);
		b->drop[i] = (uint8_t)sl_parse_seg(rte_pktmbuf_mtod(m, const uint8_t *), seg,
						   m->nb_segs == 1 ? seg : rte_pktmbuf_pkt_len(m),
						   &b->pkt[i]);
		b->fast[nf] = (uint8_t)i;
		nf += b->drop[i] == SL_DROP_NONE;
	}
	/*
	 * The 5-tuple hash (the Default distribution, the common one) of the
	 * packets parsed well, before their rule is known, so that the flow
	 * bucket's signatures start loading a pass earlier; a rule that
	 * distributes otherwise hashes again below. A loop of its own over the
	 * list: no branch on each packet's parse.
	 */
	if (flows)
		for (uint16_t k = 0; k < nf; k++) {
			const uint8_t i = b->fast[k];
			b->hash[i] = sl_flow_hash(&b->pkt[i], SL_DIST_DEFAULT, snap->hash_seed);
			b->bucket[i] = sl_flow_bucket_of(&w->flows, b->hash[i]);
			rte_prefetch0(b->bucket[i]);
		}
	if (likely(nf == n)) {
		/* every packet parsed well: the dense walk */
		for (uint16_t i = 0; i < n; i++)
			kept += (uint16_t)sl_classify_rule(w, snap, b, i, flows, &rehashed, &memo);
		sl_burst_list_kept(b, n, kept);
	} else {
		for (uint16_t k = 0; k < nf; k++) {
			const uint8_t i = b->fast[k];
			b->fast[kept] = i;
			kept += (uint16_t)sl_classify_rule(w, snap, b, i, flows, &rehashed, &memo);
		}
		b->n_fast = kept;
	}
	if (flows && unlikely(rehashed))
		for (uint16_t k = 0; k < b->n_fast; k++)
			if (b->rule[b->fast[k]]->dist != SL_DIST_DEFAULT)
				sl_flow_prefetch_entry(w, b, b->fast[k]);
}

/*
 * The flow table's choice for packet i, or SL_BACKEND_NONE when Maglev must
 * choose (a new flow, or one whose backend is gone, expired, or no longer
 * takes it: sl_flow_choice). Sets b->flow[i] to the entry to record the
 * choice in, and counts the outcome.
 */
static inline uint32_t
sl_pick_by_flow(struct sl_worker *w, const struct sl_snapshot *snap, struct sl_burst *b,
		uint16_t i, uint32_t now)
{
	struct sl_flow_table *t = &w->flows;
	struct sl_lcore_stats *st = w->stats;
	int way = sl_flow_find(t, b->bucket[i], b->hash[i], &b->key[i]);
	uint32_t bi;

	if (way < 0) {
		st->flow_misses++;
		b->flow[i] = NULL;
		return SL_BACKEND_NONE;
	}
	struct sl_flow_entry *e = sl_flow_entry_at(t, b->bucket[i], way);
	b->flow[i] = e;
	switch (sl_flow_choice(e, snap, b->rule[i]->pool, b->pkt[i].l4_proto, now, &bi)) {
	case SL_FLOW_KEEP:
		st->flow_hits++;
		return bi;
	case SL_FLOW_EXPIRED:
		st->flow_misses++;
		return SL_BACKEND_NONE;
	default:
		st->flow_rehashed++;
		return SL_BACKEND_NONE;
	}
}

/*
 * Pick's work for packet i: its backend (the flow table's, else Maglev's,
 * recorded in a new or restarted flow entry), egress port and header
 * prefix. 1 when it stays on the fast path; 0 when set aside (no backend).
 */
static __rte_always_inline int
sl_pick_one(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port_index,
	    struct sl_burst *b, unsigned int i, uint32_t now)
{
	const struct sl_rule *rule = b->rule[i];
	uint32_t be = SL_BACKEND_NONE;

	b->flow[i] = NULL;
	b->fresh[i] = 0;
	if (w->flow_capacity != 0)
		be = sl_pick_by_flow(w, snap, b, i, now);
	if (be == SL_BACKEND_NONE) {
		uint16_t member = *b->slot[i];
		if (unlikely(member == SL_MAGLEV_EMPTY)) {
			b->drop[i] = SL_DROP_NO_BACKEND;
			sl_stats_rule_dropped(w->stats, rule->counter_id, SL_DROP_NO_BACKEND);
			return 0;
		}
		const struct sl_pool *pool = &snap->pools[rule->pool];
		be = pool->members[member];
		if (w->flow_capacity != 0) {
			struct sl_flow_entry *e = b->flow[i];
			/* a member probed down here: would a host that sees it up choose alike? */
			if (unlikely(pool->unprobed_table != NULL) &&
			    pool->unprobed_table[b->slot[i] - pool->table] != member)
				w->stats->health_diverted++;
			if (e != NULL) {
				/* the same flow again (expired or moved): start over */
				sl_flow_restart(e, now);
			} else {
				/* provisional expiry, so later packets of the
				 * flow in this burst hit; the rewrite stage sets
				 * the flow state's own */
				e = sl_flow_insert(&w->flows, b->bucket[i], b->hash[i],
						   &b->key[i], now,
						   sl_flow_provisional_expiry(now));
				/* no room: a handshake's end may take a SYN-only way */
				if (unlikely(e == NULL) &&
				    b->pkt[i].l4_proto == SL_PROTO_TCP &&
				    !(b->pkt[i].tcp_flags & SL_TCP_SYN))
					e = sl_flow_displace_syn_only(
						&w->flows, b->bucket[i], b->hash[i],
						&b->key[i], sl_flow_provisional_expiry(now));
				if (unlikely(e == NULL))
					w->stats->flow_table_full++;
			}
			if (e != NULL) {
				e->backend_id = snap->backends[be].counter_id;
				e->rule_id = rule->counter_id;
				e->port = port_index;
				w->stats->rule_events[rule->counter_id].new_flows++;
			}
			b->flow[i] = e;
			b->fresh[i] = 1;
		}
	}
	b->backend[i] = be;
	/* one port: it is the egress port (and the backend's line is not read yet) */
	uint16_t eport = port_index;
	if (unlikely(snap->n_ports > 1) && snap->backends[be].egress_port != SL_PORT_INGRESS)
		eport = snap->backends[be].egress_port;
	b->eport[i] = eport;
	b->hdr[i] = sl_snapshot_hdr(snap, be, eport, rule->floating_ip);
	rte_prefetch0(b->hdr[i]);
	rte_prefetch0(&snap->backends[be]);
	return 1;
}

static inline void
sl_stage_pick(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port_index,
	      uint16_t n, struct sl_burst *b, uint32_t now)
{
	uint16_t kept = 0;

	if (likely(b->n_fast == n)) {
		for (uint16_t i = 0; i < n; i++)
			kept += (uint16_t)sl_pick_one(w, snap, port_index, b, i, now);
		sl_burst_list_kept(b, n, kept);
		return;
	}
	for (uint16_t k = 0; k < b->n_fast; k++) {
		const uint8_t i = b->fast[k];
		b->fast[kept] = i;
		kept += (uint16_t)sl_pick_one(w, snap, port_index, b, i, now);
	}
	b->n_fast = kept;
}

/* Reply entries are renewed in epochs of 2^14 ms (16.4 s) of their flow's expiry. */
#define SL_REPLY_EPOCH_SHIFT 14

static inline uint32_t
sl_reply_epoch(uint32_t expires_ms)
{
	return expires_ms >> SL_REPLY_EPOCH_SHIFT;
}

/* A flow expiring at expires_ms keeps its reply entry until the end of the next epoch. */
static inline uint32_t
sl_reply_expiry(uint32_t expires_ms)
{
	return (sl_reply_epoch(expires_ms) + 2) << SL_REPLY_EPOCH_SHIFT;
}

/* An untracked DNAT flow's reply entry lives what its flow entry would have. */
static inline uint32_t
sl_untracked_reply_life(const struct sl_pkt *p, const struct sl_rule *rule, int syn)
{
	if (p->l4_proto != SL_PROTO_TCP)
		return SL_FLOW_UDP_TIMEOUT_MS;
	return syn ? SL_FLOW_SYN_TIMEOUT_MS : rule->tcp_idle_ms;
}

/*
 * Remember a DNAT flow's reply: (backend:port -> client:port) -> the rule,
 * where the request came from (its source MAC, VLAN and port), until expires.
 */
static inline void
sl_reply_note(struct sl_worker *w, const struct rte_mbuf *m, const struct sl_pkt *p,
	      const struct sl_rule *rule, const struct sl_backend *be, uint16_t port,
	      uint32_t expires, uint32_t now)
{
	struct sl_reply_key k;
	struct sl_reply_val v;

	memset(&k, 0, sizeof(k));
	k.proto = p->l4_proto;
	k.backend = be->addr;
	k.backend_port_be = rule->backend_port_be ? rule->backend_port_be : p->dport_be;
	k.client = p->src;
	k.client_port_be = p->sport_be;
	memset(&v, 0, sizeof(v));
	v.rule_id = rule->counter_id;
	memcpy(v.client_mac.bytes, rte_pktmbuf_mtod_offset(m, const uint8_t *, 6), 6);
	v.vlan_tci = p->has_vlan ? p->vlan_tci : 0;
	v.port = port;
	v.expires_ms = expires;
	if (unlikely(sl_reply_insert(&w->reply, &k, sl_reply_hash(&k), &v, now) != 0))
		w->stats->paths[SL_PATH_REPLY_FULL]++;
}

/*
 * Flow sync (on when w->sync_out is set): tell the other hosts of flow entry
 * e (rule, backend be) when this packet started it (fresh) or moved its
 * expiry into another epoch; and when e came from a peer's record, take it
 * over: its port is this packet's, and it counts as fresh (returns 1) so
 * that a DNAT flow notes its reply entry here. Full ring: sync_dropped.
 * Out of line: without sync the rewrite stage pays only the test of
 * sync_out.
 */
static __rte_noinline int
sl_worker_sync_flow(struct sl_worker *w, uint16_t port, const struct sl_rule *rule,
		    const struct sl_backend *be, struct sl_flow_entry *e, int fresh,
		    uint32_t expires_before, uint32_t now)
{
	if (!rule->inbound_nat &&
	    (fresh || sl_reply_epoch(e->expires_ms) != sl_reply_epoch(expires_before))) {
		struct sl_sync_record r;

		memset(&r, 0, sizeof(r));
		r.key = e->key;
		r.frontend = rule->frontend;
		r.frontend_port_be = rule->frontend_port_be;
		r.frontend_proto = rule->proto;
		r.state = e->state;
		r.backend = be->addr;
		r.backend_port_be = rule->backend_port_be;
		r.lifetime_ms = sl_flow_time_passed(now, e->expires_ms) ? 1 : e->expires_ms - now;
		if (unlikely(rte_ring_sp_enqueue_elem(w->sync_out, &r, sizeof(r)) != 0))
			w->stats->sync_dropped++;
	}
	if (likely(!(e->flags & SL_FLOW_F_SYNCED)))
		return fresh;
	e->flags &= (uint8_t)~SL_FLOW_F_SYNCED;
	e->port = port;
	return 1;
}

/*
 * Install up to SL_SYNC_INSTALL_BURST of the peers' flows from w's sync_in
 * ring: a flow with no live entry here gets one (the record's backend,
 * state and remaining lifetime; SL_FLOW_F_SYNCED); a live entry is never
 * overwritten, only renewed when it has the record's backend and the record
 * lives longer (so a flow served by a peer stays known here). A full bucket
 * counts flow_table_full.
 */
static void
sl_worker_sync_install(struct sl_worker *w, const struct sl_snapshot *snap, uint32_t now)
{
	struct sl_sync_install rec[SL_SYNC_INSTALL_BURST];
	struct sl_lcore_stats *st = w->stats;
	unsigned int k = rte_ring_sc_dequeue_burst_elem(w->sync_in, rec, sizeof(rec[0]),
							SL_SYNC_INSTALL_BURST, NULL);

	for (unsigned int i = 0; i < k; i++) {
		const struct sl_sync_install *r = &rec[i];
		struct sl_pkt p;
		p.src = r->key.src;
		p.dst = r->key.dst;
		p.sport_be = r->key.sport_be;
		p.dport_be = r->key.dport_be;
		p.l4_proto = r->key.proto;
		uint32_t hash = sl_flow_hash(&p, (enum sl_dist)r->dist, snap->hash_seed);
		struct sl_flow_bucket *bk = sl_flow_bucket_of(&w->flows, hash);
		int way = sl_flow_find(&w->flows, bk, hash, &r->key);
		uint32_t expires = now + r->lifetime_ms;
		struct sl_flow_entry *e;

		if (way >= 0) {
			e = sl_flow_entry_at(&w->flows, bk, way);
			if (!sl_flow_time_passed(now, e->expires_ms)) {
				if (e->backend_id == r->backend_id && !(e->flags & SL_FLOW_F_DRAINING) &&
				    (int32_t)(expires - e->expires_ms) > 0) {
					e->expires_ms = expires;
					if (r->state > e->state)
						e->state = r->state;
					st->sync_renewed++;
				}
				continue;
			}
			sl_flow_restart(e, now);
		} else {
			e = sl_flow_insert(&w->flows, bk, hash, &r->key, now, expires);
			if (e == NULL) {
				st->flow_table_full++;
				continue;
			}
		}
		e->backend_id = r->backend_id;
		e->rule_id = r->rule_id;
		e->state = r->state;
		e->flags = SL_FLOW_F_SYNCED;
		e->expires_ms = expires;
		st->sync_installed++;
	}
}

/*
 * Rewrite one packet and hand it to TX. Returns SL_DROP_NONE when the packet
 * was queued (the mbuf is no longer ours), else the reason to drop it.
 */
static inline enum sl_drop_reason
sl_stage_rewrite(struct sl_worker *w, struct sl_worker_queue *q, const struct sl_snapshot *snap,
		 struct rte_mbuf *m, struct sl_burst *b, uint16_t i, uint32_t now)
{
	struct sl_lcore_stats *st = w->stats;
	const struct sl_pkt *p = &b->pkt[i];
	const struct sl_rule *rule = b->rule[i];
	const struct sl_encap *hdr = b->hdr[i];
	const struct sl_backend *be = &snap->backends[b->backend[i]];
	struct sl_worker_queue *tq = w->txq[b->eport[i]];

	enum sl_drop_reason r = sl_out_check(tq, m, p->l3_off, p->l3_len, hdr);
	if (unlikely(r != SL_DROP_NONE)) {
		/* the next hop's MAC is being resolved: held, unchanged, as it came */
		if (r == SL_DROP_NO_NEIGHBOUR &&
		    sl_worker_hold(w, snap, q->port_index, m, rule->counter_id, now))
			return SL_DROP_NONE;
		/* dropped, and counted for the rule too (too_big returns MTU_EXCEEDED) */
		sl_stats_rule_dropped(st, rule->counter_id, r);
		return r != SL_DROP_MTU_EXCEEDED ? r
						 : sl_worker_too_big(w, q->port_index, m, p,
								     tq->mtu - sl_encap_overhead(hdr));
	}

	struct sl_flow_entry *e = b->flow[i];
	uint32_t expires_before = e != NULL ? e->expires_ms : 0;
	/* a held packet started its flow entry when it was held: what a new
	 * flow does (its reply entry, its sync record) is done now */
	if (unlikely(w->releasing))
		b->fresh[i] = 1;
	if (e != NULL)
		sl_flow_track(e, p, rule, rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l4_off),
			      now);
	/* the call only when there is something to tell or to take over */
	if (unlikely(w->sync_out != NULL) && e != NULL &&
	    (b->fresh[i] || (e->flags & SL_FLOW_F_SYNCED) ||
	     sl_reply_epoch(e->expires_ms) != sl_reply_epoch(expires_before)))
		b->fresh[i] = (uint8_t)sl_worker_sync_flow(w, q->port_index, rule, be, e,
							   b->fresh[i], expires_before, now);
	if (!rule->floating_ip) {
		/* DNAT routes the packet: the TTL goes down, and must not reach 0. */
		uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
		if (unlikely(sl_ip_ttl_decrement(frame + p->l3_off, p->family) < 0)) {
			/* ttl_exceeded returns SL_DROP_TTL_EXCEEDED */
			sl_stats_rule_dropped(st, rule->counter_id, SL_DROP_TTL_EXCEEDED);
			return sl_worker_ttl_exceeded(w, q->port_index, m, p);
		}
		sl_dnat(frame, p, &be->addr, rule->backend_port_be);
		if (w->n_replies != 0) {
			/* the reply entry follows the flow entry's expiry */
			if (e == NULL) {
				/*
				 * No flow entry (the table's bucket was full): every
				 * packet leaves its reply entry, as there is nothing
				 * else to renew it by. A bare SYN's lives only the
				 * SYN timeout, as a flow entry would: a SYN flood
				 * must not fill the reply table for minutes.
				 */
				const int syn = p->l4_proto == SL_PROTO_TCP &&
						(p->tcp_flags & (SL_TCP_SYN | SL_TCP_ACK)) == SL_TCP_SYN;
				/*
				 * Nor one at all where the reply index sends the
				 * replies where the entry would: under a flood, a
				 * refused SYN then costs no more than a tracked one.
				 */
				if (syn && sl_reply_entry_needless(w, snap, q->port_index, m, p,
								   rule, be))
					st->paths[SL_PATH_SYN_NO_REPLY_ENTRY]++;
				else
					sl_reply_note(w, m, p, rule, be, q->port_index,
						      now + sl_untracked_reply_life(p, rule, syn), now);
			}
			else if (b->fresh[i] || rule->dist != SL_DIST_DEFAULT ||
				 sl_reply_epoch(e->expires_ms) != sl_reply_epoch(expires_before))
				/*
				 * The reply entry outlives the flow by one to two
				 * epochs, so it is rewritten only when the flow's
				 * expiry crosses into another epoch (every ~16 s of
				 * a busy flow, not every renewal). Affinity modes
				 * share one flow entry among connections: each
				 * packet keeps its own connection's entry.
				 */
				sl_reply_note(w, m, p, rule, be, q->port_index,
					      sl_reply_expiry(e->expires_ms), now);
		}
	}

	st->rules[rule->counter_id].packets++;
	st->rules[rule->counter_id].bytes += p->l3_len;
	st->backends[be->counter_id].packets++;
	st->backends[be->counter_id].bytes += p->l3_len;
	sl_out(w, tq, m, p->l3_off, p->l3_len, p->family, hdr, b->hash[i]);
	return SL_DROP_NONE;
}

/* Rewrite and queue packet i; a drop is counted and added to dead. Returns n_dead. */
static inline uint16_t
sl_rewrite_one(struct sl_worker *w, struct sl_worker_queue *q, const struct sl_snapshot *snap,
	       struct rte_mbuf **pkts, struct sl_burst *b, unsigned int i, uint32_t now,
	       struct rte_mbuf **dead, uint16_t n_dead)
{
	enum sl_drop_reason r = sl_stage_rewrite(w, q, snap, pkts[i], b, (uint16_t)i, now);

	if (unlikely(r != SL_DROP_NONE)) {
		w->stats->drops[r]++;
		dead[n_dead++] = pkts[i];
	}
	return n_dead;
}

static inline void
sl_worker_burst(struct sl_worker *w, struct sl_worker_queue *q, const struct sl_snapshot *snap,
		struct rte_mbuf **pkts, uint16_t n, uint32_t now)
{
	struct sl_lcore_stats *st = w->stats;
	struct rte_mbuf *dead[SL_BURST];
	uint16_t n_dead = 0;
	struct sl_burst b;

	sl_stage_classify(w, snap, pkts, n, &b);
	sl_stage_pick(w, snap, q->port_index, n, &b, now);
	/*
	 * One walk of the list for every burst (the list of a burst that
	 * set none aside is 0..n-1): one copy of the rewrite, inlined.
	 */
	for (uint16_t k = 0; k < b.n_fast; k++)
		n_dead = sl_rewrite_one(w, q, snap, pkts, &b, b.fast[k], now, dead, n_dead);
	if (unlikely(b.n_fast != n)) {
		/*
		 * The packets set aside, in the order they came: their bits,
		 * set without a branch, then walked lowest first.
		 */
		uint64_t aside = 0;
		for (unsigned int i = 0; i < n; i++)
			aside |= (uint64_t)(b.drop[i] != SL_DROP_NONE) << i;
		while (aside != 0) {
			const unsigned int i = (unsigned int)__builtin_ctzll(aside);
			aside &= aside - 1;
			enum sl_drop_reason r = sl_worker_slowpath(w, snap, q->port_index, pkts[i],
								   &b.pkt[i],
								   (enum sl_drop_reason)b.drop[i], now);
			if (unlikely(r != SL_DROP_NONE)) {
				st->drops[r]++;
				dead[n_dead++] = pkts[i];
			}
		}
	}
	/* dropped packets go back to their pools together, as sent ones do */
	if (n_dead != 0)
		rte_pktmbuf_free_bulk(dead, n_dead);
}

/* The worker's RX queue on port index port (held packets are processed as if from it). */
static struct sl_worker_queue *
sl_worker_queue_of(struct sl_worker *w, uint16_t port)
{
	for (uint16_t qi = 0; qi < w->n_queues; qi++)
		if (w->queues[qi].port_index == port)
			return &w->queues[qi];
	return NULL;
}

/* A held packet whose next hop's MAC never came: dropped as no_neighbour, for its rule too. */
static void
sl_worker_drop_held(struct sl_lcore_stats *st, struct sl_held *h)
{
	st->drops[SL_DROP_NO_NEIGHBOUR]++;
	if (h->rule_id != SL_HOLD_NO_RULE)
		sl_stats_rule_dropped(st, h->rule_id, SL_DROP_NO_NEIGHBOUR);
	rte_pktmbuf_free(h->m);
}

/*
 * The held packets (sl_worker_hold): processed again once a newer snapshot
 * than the one they found no MAC in is published (held again if it has no
 * MAC for them either), dropped as no_neighbour once held SL_HOLD_MS.
 */
static void
sl_worker_release_held(struct sl_worker *w, const struct sl_snapshot *snap, uint32_t now)
{
	struct sl_lcore_stats *st = w->stats;
	struct sl_held out[SL_HOLD_MAX];
	const bool newer = snap->generation != w->held_generation;
	const uint16_t n = w->n_held;

	if (!newer && (int32_t)(now - w->held[0].since_ms) < SL_HOLD_MS)
		return;
	memcpy(out, w->held, n * sizeof(out[0]));
	w->n_held = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct sl_worker_queue *q = sl_worker_queue_of(w, out[i].port);
		if (q == NULL || (int32_t)(now - out[i].since_ms) >= SL_HOLD_MS)
			sl_worker_drop_held(st, &out[i]);
		else if (!newer)
			w->held[w->n_held++] = out[i];
		else {
			w->releasing = true;
			w->releasing_since = out[i].since_ms;
			sl_worker_burst(w, q, snap, &out[i].m, 1, now);
			w->releasing = false;
		}
	}
}

int
sl_worker_main(void *arg)
{
	struct sl_worker *w = arg;
	struct sl_lcore_stats *st = w->stats;
	struct rte_mbuf *pkts[SL_BURST];
	uint64_t last_drain = rte_rdtsc();

	int rc = sl_publisher_reader_start(w->pub, w->rcu_id);
	if (rc != 0) {
		/* before the loop: a log line is allowed here */
		SL_LOG(ERR, sl_logtype_worker, "worker",
		       "lcore %u: RCU reader %u refused (%s): it polls no queue\n", w->lcore_id,
		       w->rcu_id, strerror(-rc));
		return rc;
	}

	/* relaxed: the flag only asks the loop to end; nothing is published through it. */
	while (!atomic_load_explicit(w->quit, memory_order_relaxed)) {
		const struct sl_snapshot *snap = sl_publisher_read(w->pub);
		uint64_t tsc = rte_rdtsc();
		uint32_t now = (uint32_t)(tsc / w->tsc_per_ms);
		uint32_t got = 0;

		for (uint16_t qi = 0; qi < w->n_queues; qi++) {
			struct sl_worker_queue *q = &w->queues[qi];
			uint16_t n = rte_eth_rx_burst(q->port_id, q->queue, pkts, SL_BURST);
			if (n == 0)
				continue;
			got += n;
			st->rx += n;
			if (unlikely(snap == NULL)) {
				st->drops[SL_DROP_NO_SNAPSHOT] += n;
				rte_pktmbuf_free_bulk(pkts, n);
				continue;
			}
			if (unlikely(st->generation != snap->generation)) {
				st->generation = snap->generation;
				st->generation_tsc = rte_rdtsc();
			}
			sl_worker_burst(w, q, snap, pkts, n, now);
		}
		if (unlikely(w->n_held != 0) && snap != NULL)
			sl_worker_release_held(w, snap, now);
		if (w->inject != NULL && unlikely(!rte_ring_empty(w->inject))) {
			uint16_t k = (uint16_t)rte_ring_sc_dequeue_burst(w->inject, (void **)pkts,
									 SL_INJECT_BURST, NULL);
			for (uint16_t i = 0; i < k; i++) {
				struct sl_worker_queue *tq = pkts[i]->port < w->n_ports
								     ? w->txq[pkts[i]->port] : NULL;
				if (tq == NULL) {
					st->drops[SL_DROP_NO_TX_QUEUE]++;
					rte_pktmbuf_free(pkts[i]);
					continue;
				}
				st->paths[SL_PATH_INJECTED]++;
				st->tx += rte_eth_tx_buffer(tq->port_id, tq->queue, tq->txb, pkts[i]);
			}
		}
		if (w->sync_in != NULL && unlikely(!rte_ring_empty(w->sync_in)) && snap != NULL)
			sl_worker_sync_install(w, snap, now);
		if (w->flow_capacity != 0 && snap != NULL) {
			struct sl_worker_sweep_ctx sc = {.w = w, .snap = snap};
			st->flow_expired += sl_flow_sweep(&w->flows, now,
							  got ? SL_FLOW_SWEEP_BUSY : SL_FLOW_SWEEP_IDLE,
							  sl_worker_flow_expired, &sc);
			st->flows_live = w->flows.live;
		}

		if (unlikely(tsc - last_drain > w->drain_tsc)) {
			for (uint16_t p = 0; p < w->n_ports; p++) {
				struct sl_worker_queue *q = w->txq[p];
				if (q != NULL)
					st->tx += rte_eth_tx_buffer_flush(q->port_id, q->queue, q->txb);
			}
			last_drain = tsc;
		}
		st->iterations++;
		/*
		 * The time this iteration spent on packets: busy_tsc over rx
		 * is the worker's TSC ticks per packet (receive, process,
		 * transmit), a cycles-per-packet figure that needs no PMU.
		 */
		if (got != 0)
			st->busy_tsc += rte_rdtsc() - tsc;
		/* No snapshot pointer is held past this point. */
		sl_publisher_quiescent(w->pub, w->rcu_id);
	}

	for (uint16_t p = 0; p < w->n_ports; p++) {
		struct sl_worker_queue *q = w->txq[p];
		if (q != NULL)
			st->tx += rte_eth_tx_buffer_flush(q->port_id, q->queue, q->txb);
	}
	/* what is still held at the end is dropped: no next hop's MAC came */
	for (uint16_t i = 0; i < w->n_held; i++)
		sl_worker_drop_held(st, &w->held[i]);
	w->n_held = 0;
	sl_publisher_reader_stop(w->pub, w->rcu_id);
	return 0;
}
