/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_worker.c: the packet path of one worker lcore (see sl_worker.h and the
 * packet path in DESIGN.md): rx_burst, parse, frontend lookup, Maglev
 * backend choice, rewrite, buffered tx_burst.
 */
#include <errno.h>
#include <stddef.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>

#include "sl_checksum.h"
#include "sl_flow_policy.h"
#include "sl_hash.h"
#include "sl_l2proto.h"
#include "sl_parse.h"
#include "sl_rewrite.h"
#include "sl_worker.h"


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
 */
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
};

/*
 * Packet i's flow bucket signatures, prefetched a pass earlier, have
 * arrived: start loading the entry whose signature matches, so pick's key
 * comparison finds it in cache. With a large table both lines are cache
 * misses; this way each overlaps with a whole pass over the burst.
 */
static inline void
sl_flow_prefetch_entry(struct sl_worker *w, const struct sl_burst *b, uint16_t i)
{
	if (b->drop[i] != SL_DROP_NONE)
		return;
	const struct sl_flow_bucket *bk = b->bucket[i];
	uint32_t m = sl_flow_sig_mask(bk, sl_flow_sig(b->hash[i]));
	if (m != 0)
		rte_prefetch0(sl_flow_entry_at(&w->flows, bk, __builtin_ctz(m)));
}

static inline void
sl_stage_classify(struct sl_worker *w, const struct sl_snapshot *snap, struct rte_mbuf **pkts,
		  uint16_t n, struct sl_burst *b)
{
	const int flows = w->flow_capacity != 0;
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
		b->drop[i] = (uint8_t)sl_parse(rte_pktmbuf_mtod(m, const uint8_t *),
					       rte_pktmbuf_data_len(m), &b->pkt[i]);
		/*
		 * The 5-tuple hash (the Default distribution, the common one)
		 * before the rule is known, so the flow bucket's signatures
		 * start loading a whole pass earlier; a rule that distributes
		 * otherwise hashes again below.
		 */
		if (flows && likely(b->drop[i] == SL_DROP_NONE)) {
			b->hash[i] = sl_flow_hash(&b->pkt[i], SL_DIST_DEFAULT, snap->hash_seed);
			b->bucket[i] = sl_flow_bucket_of(&w->flows, b->hash[i]);
			rte_prefetch0(b->bucket[i]);
		}
	}
	for (uint16_t i = 0; i < n; i++) {
		struct sl_pkt *p = &b->pkt[i];

		if (unlikely(b->drop[i] != SL_DROP_NONE))
			continue;
		uint32_t ri = sl_snapshot_lookup(snap, p);
		if (unlikely(ri == SL_RULE_NONE)) {
			b->drop[i] = SL_DROP_NO_FRONTEND;
			continue;
		}
		const struct sl_rule *rule = &snap->rules[ri];
		const struct sl_pool *pool = &snap->pools[rule->pool];
		if (unlikely(pool->n_members == 0)) {
			b->drop[i] = SL_DROP_NO_BACKEND;
			continue;
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
		 * With flow tracking only a new flow reads the slot, so a
		 * prefetch on every packet would be wasted; without it every
		 * packet does.
		 */
		if (!flows) {
			rte_prefetch0(b->slot[i]);
		} else {
			sl_flow_key_make(&b->key[i], p, (enum sl_dist)rule->dist);
			/* the signatures were asked for a pass ago: start on the entry */
			if (likely(rule->dist == SL_DIST_DEFAULT))
				sl_flow_prefetch_entry(w, b, i);
			else
				rehashed = 1;
		}
	}
	if (flows && unlikely(rehashed))
		for (uint16_t i = 0; i < n; i++)
			if (b->drop[i] == SL_DROP_NONE && b->rule[i]->dist != SL_DIST_DEFAULT)
				sl_flow_prefetch_entry(w, b, i);
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

static inline void
sl_stage_pick(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port_index,
	      uint16_t n, struct sl_burst *b, uint32_t now)
{
	for (uint16_t i = 0; i < n; i++) {
		if (b->drop[i] != SL_DROP_NONE)
			continue;
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
				continue;
			}
			be = snap->pools[rule->pool].members[member];
			if (w->flow_capacity != 0) {
				struct sl_flow_entry *e = b->flow[i];
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
					if (unlikely(e == NULL))
						w->stats->flow_table_full++;
				}
				if (e != NULL) {
					e->backend_id = snap->backends[be].counter_id;
					e->rule_id = rule->counter_id;
					e->port = port_index;
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
	}
}

/* Forward declarations of the slow path (below). */
static enum sl_drop_reason sl_ttl_exceeded(struct sl_worker *w, uint16_t port, struct rte_mbuf *m,
					   const struct sl_pkt *p);
static enum sl_drop_reason sl_too_big(struct sl_worker *w, uint16_t port, struct rte_mbuf *m,
				      const struct sl_pkt *p, uint32_t fits);

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

/* Bytes a header prefix adds to the IP packet beyond its L2 header (what counts against the MTU). */
static inline uint32_t
sl_encap_overhead(const struct sl_encap *hdr)
{
	return (uint32_t)hdr->len - hdr->etype_off - 2;
}

/*
 * Can the IP packet at mbuf offset l3_off (l3_len bytes) leave behind hdr on
 * TX queue tq? SL_DROP_NONE, or the reason it cannot.
 */
static inline enum sl_drop_reason
sl_out_check(const struct sl_worker_queue *tq, const struct rte_mbuf *m, uint16_t l3_off,
	     uint16_t l3_len, const struct sl_encap *hdr)
{
	if (unlikely(!hdr->valid))
		return SL_DROP_NO_NEIGHBOUR;
	if (unlikely(tq == NULL))
		return SL_DROP_NO_TX_QUEUE;
	if (unlikely(l3_len + sl_encap_overhead(hdr) > tq->mtu))
		return SL_DROP_MTU_EXCEEDED;
	if (unlikely(rte_pktmbuf_headroom(m) + l3_off < hdr->len))
		return SL_DROP_NO_HEADROOM;
	return SL_DROP_NONE;
}

/*
 * Keep only the IP packet (drops the L2 header, VLAN tag and Ethernet
 * padding), put hdr in front of it, finish it and queue it on tq (checked
 * by sl_out_check()).
 */
static __rte_always_inline void
sl_out(struct sl_worker *w, struct sl_worker_queue *tq, struct rte_mbuf *m, uint16_t l3_off,
       uint16_t l3_len, int family, const struct sl_encap *hdr, uint32_t entropy)
{
	uint8_t *out;

	if (likely(m->nb_segs == 1)) {
		/*
		 * One segment (the parser saw l3_off + l3_len bytes in it):
		 * the new start and length at once, instead of adj, trim and
		 * prepend checking and updating them in turn.
		 */
		uint16_t off = (uint16_t)(m->data_off + l3_off - hdr->len);
		m->data_off = off;
		m->data_len = (uint16_t)(hdr->len + l3_len);
		m->pkt_len = m->data_len;
		out = (uint8_t *)m->buf_addr + off;
	} else {
		rte_pktmbuf_adj(m, l3_off);
		if (rte_pktmbuf_data_len(m) > l3_len)
			rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - l3_len);
		out = (uint8_t *)rte_pktmbuf_prepend(m, hdr->len);
	}
	rte_memcpy(out, hdr->bytes, hdr->len);
	sl_encap_finish(out, hdr, l3_len, family, entropy);
	m->ol_flags = 0;
	w->stats->tx += rte_eth_tx_buffer(tq->port_id, tq->queue, tq->txb, m);
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
	if (unlikely(r != SL_DROP_NONE))
		return r != SL_DROP_MTU_EXCEEDED ? r
						 : sl_too_big(w, q->port_index, m, p,
							      tq->mtu - sl_encap_overhead(hdr));

	struct sl_flow_entry *e = b->flow[i];
	uint32_t expires_before = e != NULL ? e->expires_ms : 0;
	if (e != NULL)
		sl_flow_track(e, p, rule, rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l4_off),
			      now);
	if (!rule->floating_ip) {
		/* DNAT routes the packet: the TTL goes down, and must not reach 0. */
		uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
		if (unlikely(sl_ip_ttl_decrement(frame + p->l3_off, p->family) < 0))
			return sl_ttl_exceeded(w, q->port_index, m, p);
		sl_dnat(frame, p, &be->addr, rule->backend_port_be);
		if (w->n_replies != 0) {
			/* the reply entry follows the flow entry's expiry */
			if (e == NULL) {
				/*
				 * No flow entry (the table's bucket was full): TCP
				 * leaves its reply entry at the SYN, UDP at every
				 * packet (there is nothing else to renew it by).
				 */
				if (p->l4_proto != SL_PROTO_TCP ||
				    (p->tcp_flags & (SL_TCP_SYN | SL_TCP_ACK)) == SL_TCP_SYN)
					sl_reply_note(w, m, p, rule, be, q->port_index,
						      now + (p->l4_proto == SL_PROTO_TCP
								     ? rule->tcp_idle_ms
								     : SL_FLOW_UDP_TIMEOUT_MS),
						      now);
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

/* ---------------------------------------------------------------------------
 * The slow path: packets the burst stages set aside. Per packet, not inlined
 * into the fast path; each returns SL_DROP_NONE when it took the mbuf.
 */

/* Hand a packet to the control thread (mbuf->port = the port index it came in on). */
static enum sl_drop_reason
sl_punt(struct sl_worker *w, uint16_t port, struct rte_mbuf *m, enum sl_drop_reason otherwise)
{
	if (w->punt == NULL)
		return otherwise;
	m->port = port;
	if (unlikely(rte_ring_sp_enqueue(w->punt, m) != 0))
		return SL_DROP_PUNT_FULL;
	w->stats->paths[SL_PATH_PUNTED]++;
	return SL_DROP_NONE;
}

/* Is a one of the port's own addresses? */
static inline int
sl_is_port_addr(const struct sl_dp_port *pt, const struct sl_ip_addr *a)
{
	return (pt->has_ipv4 && sl_ip_addr_eq(&pt->ipv4, a)) ||
	       (pt->has_ipv6 && sl_ip_addr_eq(&pt->ipv6, a));
}

/* Addressed to this port at L2: its MAC, broadcast or multicast. */
static inline int
sl_is_for_port_mac(const struct sl_dp_port *pt, const uint8_t *frame)
{
	return (frame[0] & 1) || memcmp(frame, pt->mac.bytes, 6) == 0;
}

/*
 * What the fast path cannot place and that is not a frontend's: frames not
 * addressed to the port at L2 (promiscuous ports see the whole segment) are
 * not for us; to the kernel when the port has an exception path (but never
 * what is addressed to a frontend: the kernel does not own those); ARP, ND
 * and pings of the port's addresses to the control thread in any case;
 * else dropped with reason r.
 */
static enum sl_drop_reason
sl_not_ours(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port,
	    struct rte_mbuf *m, const struct sl_pkt *p, int has_l3, enum sl_drop_reason r)
{
	const struct sl_dp_port *pt = &w->ports[port];
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);

	if (!sl_is_for_port_mac(pt, frame))
		return has_l3 ? SL_DROP_NOT_FOR_US : r;
	if (has_l3 && (sl_snapshot_addr_kind(snap, &p->dst) & SL_ADDR_FRONTEND))
		return r;
	if (pt->exception)
		return sl_punt(w, port, m, r);
	if (has_l3 && p->l4_proto == (p->family == SL_AF_IPV4 ? SL_IPPROTO_ICMP : SL_IPPROTO_ICMPV6) &&
	    (sl_is_port_addr(pt, &p->dst) || (p->family == SL_AF_IPV6 && p->dst.bytes[0] == 0xff)))
		return sl_punt(w, port, m, r);
	return r;
}

/*
 * Send the IP packet at mbuf offset l3_off (l3_len bytes) behind the prefix
 * hdr on port eport: the shared tail of the slow paths that forward.
 */
static enum sl_drop_reason
sl_emit(struct sl_worker *w, struct rte_mbuf *m, uint16_t l3_off, uint16_t l3_len, int family,
	const struct sl_encap *hdr, uint16_t eport, uint32_t entropy)
{
	struct sl_worker_queue *tq = w->txq[eport];
	enum sl_drop_reason r = sl_out_check(tq, m, l3_off, l3_len, hdr);

	if (r == SL_DROP_NONE)
		sl_out(w, tq, m, l3_off, l3_len, family, hdr, entropy);
	return r;
}

/* An Ethernet (+802.1Q) header to dst from the port, in front of the IP packet of m. */
static enum sl_drop_reason
sl_emit_l2(struct sl_worker *w, struct rte_mbuf *m, uint16_t l3_off, uint16_t l3_len, int family,
	   uint16_t port, const struct sl_mac *dst, uint16_t vlan_tci)
{
	struct sl_encap_params ep;
	struct sl_encap hdr;

	memset(&ep, 0, sizeof(ep));
	ep.delivery = SL_DELIVERY_DNAT;
	ep.src_mac = w->ports[port].mac;
	ep.dst_mac = *dst;
	ep.vlan_tci = vlan_tci;
	if (sl_encap_build(&hdr, &ep) != 0)
		return SL_DROP_NO_NEIGHBOUR;
	return sl_emit(w, m, l3_off, l3_len, family, &hdr, port, 0);
}

/*
 * Send an ICMP error about packet p (type, code and the 4 bytes after the
 * checksum) from the port's address of the packet's family, if it has one,
 * back where the packet came from (its source MAC, its tag), and return
 * reason: the packet itself is dropped.
 */
static enum sl_drop_reason
sl_icmp_back(struct sl_worker *w, uint16_t port, struct rte_mbuf *m, const struct sl_pkt *p,
	     uint8_t type, uint8_t code, uint32_t rest_be, enum sl_drop_reason reason)
{
	const struct sl_dp_port *pt = &w->ports[port];
	int v4 = p->family == SL_AF_IPV4;
	struct rte_mbuf *e;

	if (!(v4 ? pt->has_ipv4 : pt->has_ipv6) || (e = rte_pktmbuf_alloc(w->mp)) == NULL)
		return reason;
	uint32_t room = rte_pktmbuf_tailroom(e);
	uint8_t *l3 = rte_pktmbuf_mtod(e, uint8_t *);
	uint32_t len = sl_icmp_error_build(l3, room, p->family, v4 ? &pt->ipv4 : &pt->ipv6,
					   rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l3_off),
					   p->l3_len, type, code, rest_be);
	if (len == 0 || rte_pktmbuf_append(e, (uint16_t)len) == NULL) {
		rte_pktmbuf_free(e);
		return reason;
	}
	struct sl_mac to;
	memcpy(to.bytes, rte_pktmbuf_mtod_offset(m, const uint8_t *, 6), 6);
	if (sl_emit_l2(w, e, 0, (uint16_t)len, p->family, port, &to,
		       p->has_vlan ? p->vlan_tci : pt->vlan_tci) != SL_DROP_NONE)
		rte_pktmbuf_free(e);
	else
		w->stats->paths[SL_PATH_ICMP_SENT]++;
	return reason;
}

/* TTL / hop limit would reach 0: ICMP time exceeded back, and drop. */
static enum sl_drop_reason
sl_ttl_exceeded(struct sl_worker *w, uint16_t port, struct rte_mbuf *m, const struct sl_pkt *p)
{
	return sl_icmp_back(w, port, m, p, p->family == SL_AF_IPV4 ? 11 : 3, 0, 0,
			    SL_DROP_TTL_EXCEEDED);
}

/*
 * The packet with its delivery header is longer than the egress MTU: tell
 * the sender the size that fits (fragmentation needed with the next-hop
 * MTU, IPv6 packet too big), so path MTU discovery works through sluice
 * and its encapsulations. An IPv4 packet without DF is dropped the same
 * way but without the ICMP (sluice does not fragment).
 */
static enum sl_drop_reason
sl_too_big(struct sl_worker *w, uint16_t port, struct rte_mbuf *m, const struct sl_pkt *p,
	   uint32_t fits)
{
	if (p->family == SL_AF_IPV4) {
		const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l3_off);
		if (!(ip[6] & 0x40) || fits < 68)
			return SL_DROP_MTU_EXCEEDED;
		return sl_icmp_back(w, port, m, p, 3, 4, rte_cpu_to_be_32(fits & 0xffff),
				    SL_DROP_MTU_EXCEEDED);
	}
	if (fits < 1280)
		return SL_DROP_MTU_EXCEEDED;
	return sl_icmp_back(w, port, m, p, 2, 0, rte_cpu_to_be_32(fits), SL_DROP_MTU_EXCEEDED);
}

/*
 * A TCP/UDP packet for no frontend: a DNAT backend's reply? Looked up in
 * this lcore's reply partition first, then the others'. A hit leaves from
 * the frontend's address and port, to the MAC the request came from.
 */
static enum sl_drop_reason
sl_reply_send(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port,
	      struct rte_mbuf *m, const struct sl_pkt *p, const struct sl_reply_val *v)
{
	uint32_t ri = snap->rule_by_id[v->rule_id];
	if (ri == SL_RULE_NONE || v->port >= w->n_ports)
		return SL_DROP_REPLY_NO_FLOW;
	const struct sl_rule *rule = &snap->rules[ri];
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	if (unlikely(sl_ip_ttl_decrement(frame + p->l3_off, p->family) < 0))
		return sl_ttl_exceeded(w, port, m, p);
	sl_snat(frame, p, &rule->frontend, rule->frontend_port_be);
	uint16_t vlan = v->vlan_tci ? v->vlan_tci : w->ports[v->port].vlan_tci;
	enum sl_drop_reason r;
	struct sl_worker_queue *tq = w->txq[v->port];
	if (likely(tq != NULL && (vlan != 0) == (p->has_vlan != 0))) {
		/* the frame keeps its L2 layout: new MACs (and tag) in place, padding cut */
		memcpy(frame, v->client_mac.bytes, 6);
		memcpy(frame + 6, w->ports[v->port].mac.bytes, 6);
		if (vlan != 0) {
			frame[14] = (uint8_t)(vlan >> 8);
			frame[15] = (uint8_t)vlan;
		}
		if (rte_pktmbuf_data_len(m) > p->l3_off + p->l3_len)
			rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - p->l3_off - p->l3_len));
		m->ol_flags = 0;
		w->stats->tx += rte_eth_tx_buffer(tq->port_id, tq->queue, tq->txb, m);
		r = SL_DROP_NONE;
	} else {
		r = sl_emit_l2(w, m, p->l3_off, p->l3_len, p->family, v->port, &v->client_mac, vlan);
	}
	if (r == SL_DROP_NONE) {
		w->stats->paths[SL_PATH_REPLY]++;
		w->stats->rules[rule->counter_id].packets++;
		w->stats->rules[rule->counter_id].bytes += p->l3_len;
	}
	return r;
}

static int
sl_reply_find(struct sl_worker *w, const struct sl_pkt *p, uint32_t now, struct sl_reply_val *v)
{
	struct sl_reply_key k;

	memset(&k, 0, sizeof(k));
	k.proto = p->l4_proto;
	k.backend = p->src;
	k.backend_port_be = p->sport_be;
	k.client = p->dst;
	k.client_port_be = p->dport_be;
	int part = sl_reply_lookup_any(w->replies, w->n_replies, w->index, &k, sl_reply_hash(&k),
				       now, v);
	if (part >= 0 && part != w->index)
		w->stats->paths[SL_PATH_REPLY_REMOTE]++;
	return part;
}

static enum sl_drop_reason
sl_reply(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port, struct rte_mbuf *m,
	 const struct sl_pkt *p, uint32_t now)
{
	struct sl_reply_val v;

	if (sl_reply_find(w, p, now, &v) < 0)
		return SL_DROP_REPLY_NO_FLOW;
	return sl_reply_send(w, snap, port, m, p, &v);
}

/* The rule of (frontend, protocol, port), exact then HA ports. */
static inline uint32_t
sl_rule_of(const struct sl_snapshot *snap, const struct sl_ip_addr *fe, uint8_t proto,
	   uint16_t port_be)
{
	uint32_t r = sl_frontend_find(snap, fe, proto, port_be);
	return r != SL_RULE_NONE ? r : sl_frontend_find(snap, fe, SL_PROTO_ALL, 0);
}

/* A datagram's first fragment leaves what its later ones need in its slot. */
static inline void
sl_frag_remember(struct sl_frag_slot *fs, const struct sl_pkt *p, uint8_t kind, uint32_t rule_id,
		 uint32_t now)
{
	fs->src = p->src;
	fs->dst = p->dst;
	fs->id = p->frag_id;
	fs->proto = p->l4_proto;
	fs->rule_id = rule_id;
	fs->expires_ms = now + SL_FRAG_TTL_MS;
	fs->used = kind;
}

/* Does the slot hold, live, what p's first fragment of this kind left? */
static inline bool
sl_frag_is(const struct sl_frag_slot *fs, const struct sl_pkt *p, uint8_t kind, uint32_t now)
{
	return fs->used == kind && fs->id == p->frag_id && fs->proto == p->l4_proto &&
	       !sl_flow_time_passed(now, fs->expires_ms) && sl_ip_addr_eq(&fs->src, &p->src) &&
	       sl_ip_addr_eq(&fs->dst, &p->dst);
}

static inline uint32_t
sl_frag_slot_of(const struct sl_pkt *p)
{
	uint32_t h = sl_crc32c(p->src.bytes, 16, p->frag_id);
	h = sl_crc32c(p->dst.bytes, 16, h ^ p->l4_proto);
	return h % SL_FRAG_SLOTS;
}

/*
 * A fragment to a frontend. Every fragment of a datagram goes to the backend
 * the rule's pool gives its 3-tuple (source, destination, protocol; the
 * rule's own key when it ignores ports already): later fragments carry no
 * ports, so the 5-tuple cannot place them. The first fragment finds the rule
 * by its port and leaves it in a small table for the later ones; a later one
 * with no entry (it came first, or on another lcore) uses the frontend's HA
 * ports rule if there is one, else is dropped (fragment_no_rule).
 */
static enum sl_drop_reason
sl_fragment(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port,
	    struct rte_mbuf *m, struct sl_pkt *p, uint32_t now)
{
	struct sl_frag_slot *fs = &w->frags[sl_frag_slot_of(p)];
	uint32_t ri = SL_RULE_NONE;

	/* rules (HA ports too) are for TCP and UDP: fragmented ICMP, ESP... are not forwarded */
	if (p->l4_proto != SL_PROTO_TCP && p->l4_proto != SL_PROTO_UDP)
		return SL_DROP_L4_UNSUPPORTED;
	if (p->frag == SL_FRAG_FIRST && p->l4_len >= 4) {
		ri = sl_rule_of(snap, &p->dst, p->l4_proto, p->dport_be);
		if (ri == SL_RULE_NONE)
			return SL_DROP_NO_FRONTEND;
		sl_frag_remember(fs, p, SL_FRAG_TO_FRONTEND, snap->rules[ri].counter_id, now);
	} else {
		if (sl_frag_is(fs, p, SL_FRAG_TO_FRONTEND, now))
			ri = snap->rule_by_id[fs->rule_id];
		if (ri == SL_RULE_NONE)
			ri = sl_frontend_find(snap, &p->dst, SL_PROTO_ALL, 0);
		if (ri == SL_RULE_NONE)
			return SL_DROP_FRAGMENT_NO_RULE;
	}
	const struct sl_rule *rule = &snap->rules[ri];
	const struct sl_pool *pool = &snap->pools[rule->pool];
	struct sl_pkt key = *p;
	key.sport_be = key.dport_be = 0;
	enum sl_dist d = rule->dist == SL_DIST_DEFAULT ? SL_DIST_SOURCE_IP_PROTOCOL
						       : (enum sl_dist)rule->dist;
	uint32_t h = sl_flow_hash(&key, d, snap->hash_seed);
	uint32_t bi = sl_pool_pick(snap, pool, h);
	if (bi == UINT32_MAX)
		return SL_DROP_NO_BACKEND;
	const struct sl_backend *be = &snap->backends[bi];
	uint16_t eport = be->egress_port == SL_PORT_INGRESS ? port : be->egress_port;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	if (!rule->floating_ip) {
		if (unlikely(sl_ip_ttl_decrement(frame + p->l3_off, p->family) < 0))
			return sl_ttl_exceeded(w, port, m, p);
		sl_dnat(frame, p, &be->addr, rule->backend_port_be);
	}
	enum sl_drop_reason r = sl_emit(w, m, p->l3_off, p->l3_len, p->family,
					sl_snapshot_hdr(snap, bi, eport, rule->floating_ip), eport,
					h);
	if (r == SL_DROP_NONE) {
		w->stats->paths[SL_PATH_FRAGMENT]++;
		w->stats->rules[rule->counter_id].packets++;
		w->stats->rules[rule->counter_id].bytes += p->l3_len;
		w->stats->backends[be->counter_id].packets++;
		w->stats->backends[be->counter_id].bytes += p->l3_len;
	}
	return r;
}

/*
 * A fragment of a DNAT backend's reply (a large UDP answer: DNS with EDNS,
 * for one). The first fragment carries the ports: its reply entry is looked
 * up as for a whole packet and left in the fragment table, keyed by the
 * datagram (source, destination, identification, protocol), for the later
 * fragments, which get the frontend's address (the port is in the first
 * only). A later fragment with no entry (it came first, or on another lcore)
 * is dropped as reply_no_flow.
 */
static enum sl_drop_reason
sl_reply_fragment(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port,
		  struct rte_mbuf *m, struct sl_pkt *p, uint32_t now)
{
	struct sl_frag_slot *fs = &w->frags[sl_frag_slot_of(p)];
	struct sl_reply_val v;

	if (p->frag == SL_FRAG_FIRST && (p->l4_proto == SL_PROTO_TCP || p->l4_proto == SL_PROTO_UDP) &&
	    p->l4_len >= 4) {
		if (sl_reply_find(w, p, now, &v) < 0)
			return SL_DROP_REPLY_NO_FLOW;
		sl_frag_remember(fs, p, SL_FRAG_REPLY, v.rule_id, now);
		fs->reply = v;
		return sl_reply_send(w, snap, port, m, p, &v);
	}
	if (sl_frag_is(fs, p, SL_FRAG_REPLY, now))
		return sl_reply_send(w, snap, port, m, p, &fs->reply);
	return SL_DROP_REPLY_NO_FLOW;
}

/*
 * An ICMP error to a frontend address, quoting a packet the frontend sent
 * (frontend:port -> client:port, as a backend's reply or a DSR backend's
 * packet leaves): it belongs to the backend serving client -> frontend, so
 * path MTU discovery works through sluice. That backend is found as the
 * client's own packets find it (the flow table of this lcore, else Maglev);
 * under DNAT the error is rewritten to the backend's address and port.
 */
static enum sl_drop_reason
sl_icmp_error(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port,
	      struct rte_mbuf *m, const struct sl_pkt *p, uint32_t now)
{
	struct sl_icmp_quote qt;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *l3 = frame + p->l3_off;

	if (sl_icmp_error_parse(l3, p->l3_len, p->family, &qt) != 0)
		return SL_DROP_ICMP_NO_FLOW;
	uint32_t ri = sl_rule_of(snap, &qt.src, qt.proto, qt.sport_be);
	if (ri == SL_RULE_NONE)
		return SL_DROP_ICMP_NO_FLOW;
	const struct sl_rule *rule = &snap->rules[ri];
	struct sl_pkt fp;
	memset(&fp, 0, sizeof(fp));
	fp.src = qt.dst;
	fp.dst = qt.src;
	fp.sport_be = qt.dport_be;
	fp.dport_be = qt.sport_be;
	fp.l4_proto = qt.proto;
	fp.family = qt.family;
	uint32_t h = sl_flow_hash(&fp, (enum sl_dist)rule->dist, snap->hash_seed);
	uint32_t bi = SL_BACKEND_NONE;
	if (w->flow_capacity != 0) {
		struct sl_flow_key key;
		struct sl_flow_bucket *bk = sl_flow_bucket_of(&w->flows, h);
		sl_flow_key_make(&key, &fp, (enum sl_dist)rule->dist);
		int way = sl_flow_find(&w->flows, bk, h, &key);
		if (way >= 0) {
			const struct sl_flow_entry *e = sl_flow_entry_at(&w->flows, bk, way);
			if (!sl_flow_time_passed(now, e->expires_ms))
				bi = snap->backend_by_id[e->backend_id];
		}
	}
	if (bi == SL_BACKEND_NONE)
		bi = sl_pool_pick(snap, &snap->pools[rule->pool], h);
	if (bi == UINT32_MAX)
		return SL_DROP_NO_BACKEND;
	const struct sl_backend *be = &snap->backends[bi];
	if (!rule->floating_ip &&
	    sl_icmp_error_dnat(l3, p->l3_len, p->family, &be->addr, rule->backend_port_be) != 0)
		return SL_DROP_ICMP_NO_FLOW;
	uint16_t eport = be->egress_port == SL_PORT_INGRESS ? port : be->egress_port;
	enum sl_drop_reason r = sl_emit(w, m, p->l3_off, p->l3_len, p->family,
					sl_snapshot_hdr(snap, bi, eport, rule->floating_ip), eport,
					h);
	if (r == SL_DROP_NONE)
		w->stats->paths[SL_PATH_ICMP_ERROR]++;
	return r;
}

static inline int
sl_is_icmp_error_type(int family, uint8_t type)
{
	if (family == SL_AF_IPV4)
		return type == 3 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

/*
 * The slow path's entry: packet i of the burst was set aside with reason r.
 * Returns SL_DROP_NONE when the packet was taken, else the reason to drop it.
 */
static enum sl_drop_reason
sl_worker_slow(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port,
	       struct rte_mbuf *m, struct sl_pkt *p, enum sl_drop_reason r, uint32_t now)
{
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);

	switch (r) {
	case SL_DROP_NOT_IP: {
		uint16_t et = (uint16_t)(frame[p->has_vlan ? 16 : 12] << 8 | frame[p->has_vlan ? 17 : 13]);
		if (et == SL_ETHERTYPE_ARP)
			return sl_punt(w, port, m, r);
		return sl_not_ours(w, snap, port, m, p, 0, r);
	}
	case SL_DROP_NO_FRONTEND:
		if (snap->has_dnat && w->n_replies != 0 && !sl_is_port_addr(&w->ports[port], &p->dst)) {
			enum sl_drop_reason rr = sl_reply(w, snap, port, m, p, now);
			if (rr != SL_DROP_REPLY_NO_FLOW)
				return rr;
			/*
			 * From a DNAT backend but no flow: a stale reply, or the
			 * backend's own connection, which the host's kernel may
			 * route when there is an exception path.
			 */
			if ((sl_snapshot_addr_kind(snap, &p->src) & SL_ADDR_DNAT_BACKEND) &&
			    !w->ports[port].exception)
				return rr;
		}
		return sl_not_ours(w, snap, port, m, p, 1, r);
	case SL_DROP_IPV4_FRAGMENT:
	case SL_DROP_IPV6_FRAGMENT:
		if (sl_snapshot_addr_kind(snap, &p->dst) & SL_ADDR_FRONTEND)
			return sl_fragment(w, snap, port, m, p, now);
		if (snap->has_dnat && w->n_replies != 0 &&
		    (sl_snapshot_addr_kind(snap, &p->src) & SL_ADDR_DNAT_BACKEND)) {
			enum sl_drop_reason rr = sl_reply_fragment(w, snap, port, m, p, now);
			if (rr != SL_DROP_REPLY_NO_FLOW || !w->ports[port].exception)
				return rr;
		}
		return sl_not_ours(w, snap, port, m, p, 1, r);
	case SL_DROP_L4_UNSUPPORTED: {
		int icmp = p->l4_proto == (p->family == SL_AF_IPV4 ? SL_IPPROTO_ICMP : SL_IPPROTO_ICMPV6);
		if (icmp && p->l4_len >= 8 && (sl_snapshot_addr_kind(snap, &p->dst) & SL_ADDR_FRONTEND)) {
			uint8_t type = frame[p->l4_off];
			if (sl_is_icmp_error_type(p->family, type))
				return sl_icmp_error(w, snap, port, m, p, now);
			/* ping of a frontend; Neighbor Discovery for it */
			if (type == (p->family == SL_AF_IPV4 ? 8 : 128) ||
			    (p->family == SL_AF_IPV6 && type >= 133 && type <= 137))
				return sl_punt(w, port, m, r);
			return r;
		}
		/* ND and other ICMPv6 to multicast, ping of the port: the control thread */
		return sl_not_ours(w, snap, port, m, p, 1, r);
	}
	default:
		return r;
	}
}

struct sl_sweep_ctx {
	struct sl_worker *w;
	const struct sl_snapshot *snap;
};

/* One RST: an IP packet src -> dst behind the prefix hdr, queued on the flow's port. */
static void
sl_send_rst(struct sl_worker *w, uint16_t port, const struct sl_encap *hdr,
	    const struct sl_ip_addr *src, const struct sl_ip_addr *dst, uint16_t sport_be,
	    uint16_t dport_be, uint32_t seq, uint32_t entropy)
{
	struct sl_worker_queue *q = port < w->n_ports ? w->txq[port] : NULL;
	struct rte_mbuf *m;
	uint8_t *out;

	if (q == NULL || !hdr->valid || (m = rte_pktmbuf_alloc(w->mp)) == NULL)
		return;
	out = (uint8_t *)rte_pktmbuf_append(m, hdr->len + SL_TCP_RST_MAX_LEN);
	if (out == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	uint16_t len = sl_tcp_rst_build(out + hdr->len, src, dst, sport_be, dport_be, seq);
	if (len == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	rte_pktmbuf_trim(m, SL_TCP_RST_MAX_LEN - len);
	rte_memcpy(out, hdr->bytes, hdr->len);
	sl_encap_finish(out, hdr, len, sl_ip_addr_is_v4(src) ? SL_AF_IPV4 : SL_AF_IPV6, entropy);
	w->stats->tcp_resets++;
	w->stats->tx += rte_eth_tx_buffer(q->port_id, q->queue, q->txb, m);
}

/*
 * The sweep found e expired. A flow ended by its backend's drain period is
 * counted; an ESTABLISHED TCP flow of an enableTcpReset rule gets a RST
 * towards the client (through the port's gateway) and one towards the
 * backend (through its delivery), with the sequence numbers the two ends
 * expect, as seen from the client's packets. Needs the flow's ports, so the
 * rule's loadDistribution must be Default.
 */
static void
sl_flow_expired(const struct sl_flow_entry *e, void *arg)
{
	struct sl_sweep_ctx *c = arg;
	const struct sl_snapshot *snap = c->snap;
	const struct sl_flow_key *k = &e->key;

	if (e->flags & SL_FLOW_F_DRAINING)
		c->w->stats->flow_drained++;
	if (e->state != SL_FLOW_ESTABLISHED || k->sport_be == 0 || k->dport_be == 0 ||
	    e->port >= snap->n_ports)
		return;
	uint32_t ri = snap->rule_by_id[e->rule_id];
	if (ri == SL_RULE_NONE || !snap->rules[ri].tcp_reset)
		return;
	const struct sl_rule *rule = &snap->rules[ri];
	uint32_t entropy = sl_crc32c(k, sizeof(*k), 0);
	int v6 = !sl_ip_addr_is_v4(&k->src);

	/* to the client: from the frontend, at the sequence number it acknowledged */
	sl_send_rst(c->w, e->port, &snap->gw_hdrs[e->port * 2 + (uint32_t)v6], &k->dst, &k->src,
		    k->dport_be, k->sport_be, e->client_ack, entropy);
	uint32_t bi = snap->backend_by_id[e->backend_id];
	if (bi == SL_BACKEND_NONE)
		return;
	/* to the backend: as the client would, at its next sequence number */
	const struct sl_backend *be = &snap->backends[bi];
	uint16_t dport = rule->floating_ip || rule->backend_port_be == 0 ? k->dport_be
									 : rule->backend_port_be;
	uint16_t eport = be->egress_port == SL_PORT_INGRESS ? e->port : be->egress_port;
	sl_send_rst(c->w, eport, sl_snapshot_hdr(snap, bi, eport, rule->floating_ip), &k->src,
		    rule->floating_ip ? &k->dst : &be->addr, k->sport_be, dport, e->client_seq_next,
		    entropy);
}

static inline void
sl_worker_burst(struct sl_worker *w, struct sl_worker_queue *q, const struct sl_snapshot *snap,
		struct rte_mbuf **pkts, uint16_t n, uint32_t now)
{
	struct sl_lcore_stats *st = w->stats;
	struct sl_burst b;

	sl_stage_classify(w, snap, pkts, n, &b);
	sl_stage_pick(w, snap, q->port_index, n, &b, now);
	for (uint16_t i = 0; i < n; i++) {
		enum sl_drop_reason r = (enum sl_drop_reason)b.drop[i];
		if (likely(r == SL_DROP_NONE))
			r = sl_stage_rewrite(w, q, snap, pkts[i], &b, i, now);
		else
			r = sl_worker_slow(w, snap, q->port_index, pkts[i], &b.pkt[i], r, now);
		if (unlikely(r != SL_DROP_NONE)) {
			st->drops[r]++;
			rte_pktmbuf_free(pkts[i]);
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
	if (rc != 0)
		return rc;

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
		if (w->flow_capacity != 0 && snap != NULL) {
			struct sl_sweep_ctx sc = {.w = w, .snap = snap};
			st->flow_expired += sl_flow_sweep(&w->flows, now,
							  got ? SL_FLOW_SWEEP_BUSY : SL_FLOW_SWEEP_IDLE,
							  sl_flow_expired, &sc);
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
	sl_publisher_reader_stop(w->pub, w->rcu_id);
	return 0;
}
