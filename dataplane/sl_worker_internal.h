/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_worker_internal.h: what the worker's fast path (sl_worker.c) and its
 * slow path (sl_worker_slowpath.c) share; private to the two.
 *
 * The TX helpers are inline: the fast path's rewrite stage runs them for
 * every packet. The slow path's entry points are out of line: the fast
 * path calls them only for packets it sets aside.
 */
#ifndef SL_WORKER_INTERNAL_H
#define SL_WORKER_INTERNAL_H

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "sl_drop.h"
#include "sl_flow.h"
#include "sl_parse.h"
#include "sl_rewrite.h"
#include "sl_snapshot.h"
#include "sl_worker.h"

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
 * Cut m to its first len bytes (at most its pkt_len), a chain of segments
 * too: the segments past len are freed. What follows the IP packet goes:
 * the Ethernet padding of a short frame, trailing bytes a chain carries.
 */
static inline void
sl_mbuf_cut(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *s = m;
	uint32_t left = len;
	uint16_t n = 1;

	while (s->data_len < left && s->next != NULL) {
		left -= s->data_len;
		s = s->next;
		n++;
	}
	s->data_len = (uint16_t)left;
	if (s->next != NULL) {
		rte_pktmbuf_free(s->next);
		s->next = NULL;
	}
	m->nb_segs = n;
	m->pkt_len = len;
}

/*
 * The UDP checksum over IPv6 of a GUE/VXLAN packet whose inner packet is a
 * chain of segments (out: the prefix at the start of m's first segment):
 * the pseudo-header's sum, and the UDP header and payload summed segment by
 * segment (rte_raw_cksum_mbuf() carries an odd byte across a boundary).
 * Out of line: only chained (jumbo) packets come here.
 */
static __rte_noinline void
sl_out_udp6_csum_chain(struct rte_mbuf *m, uint8_t *out, const struct sl_encap *hdr)
{
	const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)(out + hdr->ip_off);
	uint32_t udp_len = rte_be_to_cpu_16(ip6->payload_len);
	uint16_t raw, csum;

	if (rte_raw_cksum_mbuf(m, hdr->udp_off, udp_len, &raw) != 0)
		return;
	csum = sl_csum_fold((uint32_t)raw + rte_ipv6_phdr_cksum(ip6, 0));
	if (csum == 0)
		csum = 0xffff;
	memcpy(out + hdr->udp_off + 6, &csum, 2);
}

/*
 * Keep only the IP packet (drops the L2 header, VLAN tag and Ethernet
 * padding), put hdr in front of it, finish it and queue it on tq (checked
 * by sl_out_check()). A chain of segments (a jumbo frame in smaller mbufs)
 * keeps its segments: hdr goes into the first one's headroom, only the
 * headers are written, and the UDP checksum over IPv6 is summed across the
 * segments.
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
		/* the parser saw the headers in the first segment: l3_off is within it */
		rte_pktmbuf_adj(m, l3_off);
		sl_mbuf_cut(m, l3_len);
		out = (uint8_t *)rte_pktmbuf_prepend(m, hdr->len);
	}
	sl_encap_copy(out, hdr);
	if (likely(m->nb_segs == 1)) {
		sl_encap_finish(out, hdr, l3_len, family, entropy);
	} else {
		sl_encap_finish_headers(out, hdr, l3_len, family, entropy);
		if (sl_encap_needs_udp6_csum(hdr))
			sl_out_udp6_csum_chain(m, out, hdr);
	}
	m->ol_flags = 0;
	w->stats->tx += rte_eth_tx_buffer(tq->port_id, tq->queue, tq->txb, m);
}

/*
 * The slow path's entry: a packet of the burst (parsed as p, arrived on the
 * port with index port) that the stages set aside with reason r. Returns
 * SL_DROP_NONE when it took the mbuf (forwarded it, punted it to the control
 * thread), else the reason to drop it (r, or a more precise one).
 */
enum sl_drop_reason sl_worker_slowpath(struct sl_worker *w, const struct sl_snapshot *snap,
				       uint16_t port, struct rte_mbuf *m, struct sl_pkt *p,
				       enum sl_drop_reason r, uint32_t now);

/*
 * The TTL or hop limit of packet p would reach 0: sends ICMP time exceeded
 * back where p came from (when the port has an address of its family) and
 * returns SL_DROP_TTL_EXCEEDED; the caller drops p.
 */
enum sl_drop_reason sl_worker_ttl_exceeded(struct sl_worker *w, uint16_t port,
					   struct rte_mbuf *m, const struct sl_pkt *p);

/*
 * Packet p does not fit the egress MTU (fits: the largest IP packet that
 * does): sends fragmentation needed / packet too big back (not for IPv4
 * without DF) and returns SL_DROP_MTU_EXCEEDED; the caller drops p.
 */
enum sl_drop_reason sl_worker_too_big(struct sl_worker *w, uint16_t port, struct rte_mbuf *m,
				      const struct sl_pkt *p, uint32_t fits);

/*
 * Hold m (arrived on port index port; rule_id: its rule's counter id, or
 * SL_HOLD_NO_RULE), whose next hop has no MAC in snap, until a newer
 * snapshot (see SL_HOLD_MAX). 1 when held (the mbuf is no longer the
 * caller's), 0 when there is no room. The packet must be as it arrived.
 */
int sl_worker_hold(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port,
		   struct rte_mbuf *m, uint32_t rule_id, uint32_t now);

/*
 * Would stateless reverse DNAT (the reply index) send the replies of packet
 * p's connection (rule, backend be; p arrived on port index port, with m's
 * source MAC) exactly where a reply entry would, whichever port they come
 * back on? 1 when: the reply index gives the rule for the backend's address,
 * protocol and port, unambiguously; p's port is the only one with a
 * gateway header of p's family, p came from that gateway's MAC and on the
 * port's own VLAN; and the client is on no port's segment. Then an
 * untracked SYN need not leave a reply entry (sl_stage_rewrite). The
 * index's answer is kept in w->reply_memo for the snapshot's generation.
 */
int sl_reply_entry_needless(struct sl_worker *w, const struct sl_snapshot *snap,
			    uint16_t port, const struct rte_mbuf *m, const struct sl_pkt *p,
			    const struct sl_rule *rule, const struct sl_backend *be);

/* What the expiry sweep's callback needs: the worker and the snapshot it holds. */
struct sl_worker_sweep_ctx {
	struct sl_worker *w;
	const struct sl_snapshot *snap;
};

/*
 * The sweep's callback (sl_flow_sweep; arg: struct sl_worker_sweep_ctx):
 * counts flows ended by a drain period and sends the TCP resets of expired
 * flows of enableTcpReset rules.
 */
void sl_worker_flow_expired(const struct sl_flow_entry *e, void *arg);

#endif /* SL_WORKER_INTERNAL_H */
