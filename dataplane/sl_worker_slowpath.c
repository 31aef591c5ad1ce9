/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_worker_slowpath.c: the worker's slow path, run on the worker lcore for
 * the packets its burst stages set aside (sl_worker.c): DNAT replies and
 * their fragments, fragments to a frontend, ICMP errors about frontend
 * flows, ICMP errors sluice sends (time exceeded, too big), punting ARP, ND,
 * pings and the host's traffic to the control thread (whose own slow path
 * is sl_control_slowpath.c), and the TCP resets of expired flows. Per
 * packet and out of line from the fast path; each function that takes a
 * packet returns SL_DROP_NONE when it took the mbuf, else the reason to
 * drop it.
 */
#include <stdbool.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "sl_hash.h"
#include "sl_l2proto.h"
#include "sl_rewrite.h"
#include "sl_worker_internal.h"

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

int
sl_worker_hold(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port,
	       struct rte_mbuf *m, uint32_t rule_id, uint32_t now)
{
	if (w->n_held >= SL_HOLD_MAX)
		return 0;
	w->held[w->n_held++] = (struct sl_held){
		.m = m, .since_ms = w->releasing ? w->releasing_since : now,
		.rule_id = rule_id, .port = port};
	w->held_generation = snap->generation;
	if (!w->releasing)
		w->stats->paths[SL_PATH_NEIGHBOUR_HELD]++;
	return 1;
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
	/* the quote from the first segment only (the headers are there; a jumbo's may not be all) */
	uint32_t quotable = RTE_MIN((uint32_t)p->l3_len,
				    (uint32_t)rte_pktmbuf_data_len(m) - p->l3_off);
	uint32_t len = sl_icmp_error_build(l3, room, p->family, v4 ? &pt->ipv4 : &pt->ipv6,
					   rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l3_off),
					   quotable, type, code, rest_be);
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
enum sl_drop_reason
sl_worker_ttl_exceeded(struct sl_worker *w, uint16_t port, struct rte_mbuf *m,
		       const struct sl_pkt *p)
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
enum sl_drop_reason
sl_worker_too_big(struct sl_worker *w, uint16_t port, struct rte_mbuf *m, const struct sl_pkt *p,
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
 * A TCP/UDP packet for no frontend: a DNAT backend's reply? v says where it
 * goes (the reply table's entry, or sl_reply_stateless()'s). It leaves from
 * the frontend's address and port, to v's MAC on v's port, counted under
 * path (reply or reply_stateless).
 */
static enum sl_drop_reason
sl_reply_send(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port,
	      struct rte_mbuf *m, const struct sl_pkt *p, const struct sl_reply_val *v,
	      enum sl_path_counter path)
{
	uint32_t ri = snap->rule_by_id[v->rule_id];
	if (ri == SL_RULE_NONE || v->port >= w->n_ports)
		return SL_DROP_REPLY_NO_FLOW;
	const struct sl_rule *rule = &snap->rules[ri];
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	if (unlikely(sl_ip_ttl_decrement(frame + p->l3_off, p->family) < 0))
		return sl_worker_ttl_exceeded(w, port, m, p);
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
		sl_mbuf_cut(m, (uint32_t)p->l3_off + p->l3_len);
		m->ol_flags = 0;
		w->stats->tx += rte_eth_tx_buffer(tq->port_id, tq->queue, tq->txb, m);
		r = SL_DROP_NONE;
	} else {
		r = sl_emit_l2(w, m, p->l3_off, p->l3_len, p->family, v->port, &v->client_mac, vlan);
	}
	if (r == SL_DROP_NONE) {
		w->stats->paths[path]++;
		w->stats->rules[rule->counter_id].packets++;
		w->stats->rules[rule->counter_id].bytes += p->l3_len;
	}
	return r;
}

static int
sl_reply_find(struct sl_worker *w, const struct sl_pkt *p, uint32_t now, struct sl_reply_val *v)
{
	struct sl_reply_key k;

	if (w->n_replies == 0)
		return -1;
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

/* Does a port have a gateway of the family (v6: 0 IPv4, 1 IPv6), MAC known or not? */
static int
sl_gateway_configured(const struct sl_worker *w, uint32_t v6)
{
	for (uint16_t q = 0; q < w->n_ports; q++)
		if (w->ports[q].has_gateway[v6])
			return 1;
	return 0;
}

/*
 * Stateless reverse DNAT, for a reply the reply table does not know (its
 * request went through another host, or came before a restart): the reply
 * index gives the rule from the reply's (source, protocol, source port).
 * It goes toward the client as sluice sends any packet to a client (the
 * TCP resets do too): to the gateway of the port it came in on, else of
 * the first port that has one of the client's family (two-armed: the reply
 * comes in on the backend port, the gateway is the uplink's). Fills v and
 * returns 1 when it can be translated. 0 when it cannot: no DNAT rule sends
 * to that backend and port; two frontends share it (counted
 * reply_ambiguous); the frame was not addressed to the port's MAC (a
 * promiscuous port sees the segment's traffic); or the client is on a
 * port's own segment (a host of the segment, the kernel's own addresses:
 * only the kernel knows their MACs). The caller then treats it as a
 * reply-table miss, as when no port has a gateway of the client's family.
 * -1 when one has, but its MAC is not known yet (the caller holds the
 * reply: sl_worker_hold).
 */
static int
sl_reply_stateless(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port,
		   struct rte_mbuf *m, const struct sl_pkt *p, struct sl_reply_val *v)
{
	/* a connection's first packet (SYN without ACK) is never a reply: a
	 * backend's own outbound connection is left to the kernel */
	if (p->l4_proto == SL_PROTO_TCP &&
	    (p->tcp_flags & (SL_TCP_SYN | SL_TCP_ACK)) == SL_TCP_SYN)
		return 0;
	const struct sl_frontend_slot *e = sl_snapshot_reply_find(snap, &p->src, p->l4_proto,
								  p->sport_be);
	if (e == NULL)
		return 0;
	if (e->used & SL_SLOT_AMBIGUOUS) {
		w->stats->paths[SL_PATH_REPLY_AMBIGUOUS]++;
		return 0;
	}
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	if ((frame[0] & 1) || memcmp(frame, w->ports[port].mac.bytes, 6) != 0)
		return 0;
	uint32_t v6 = p->family == SL_AF_IPV6;
	for (uint32_t q = 0; q < snap->n_ports; q++) {
		const struct sl_prefix *seg = &snap->on_link[q * 2 + v6];
		if (seg->len != 0 && sl_prefix_contains(seg, &p->dst))
			return 0;
	}
	uint32_t eport = port;
	for (uint32_t q = 0; !snap->gw_hdrs[eport * 2 + v6].valid; q++) {
		if (q >= snap->n_ports)
			return sl_gateway_configured(w, v6) ? -1 : 0;
		eport = q;
	}
	memset(v, 0, sizeof(*v));
	memcpy(v->client_mac.bytes, snap->gw_hdrs[eport * 2 + v6].bytes, 6);
	v->port = (uint16_t)eport;
	v->rule_id = snap->rules[e->rule].counter_id;
	return 1;
}

int
sl_reply_entry_needless(struct sl_worker *w, const struct sl_snapshot *snap,
			uint16_t port, const struct rte_mbuf *m, const struct sl_pkt *p,
			const struct sl_rule *rule, const struct sl_backend *be)
{
	uint16_t bport = rule->backend_port_be ? rule->backend_port_be : p->dport_be;
	uint32_t bi = (uint32_t)(be - snap->backends);
	struct sl_reply_memo *memo = &w->reply_memo[bi % SL_REPLY_MEMO];
	if (memo->generation != snap->generation || memo->rule != rule || memo->backend != bi ||
	    memo->port_be != bport || memo->proto != p->l4_proto) {
		const struct sl_frontend_slot *e =
			sl_snapshot_reply_find(snap, &be->addr, p->l4_proto, bport);
		memo->generation = snap->generation;
		memo->rule = rule;
		memo->backend = bi;
		memo->port_be = bport;
		memo->proto = p->l4_proto;
		memo->ok = e != NULL && !(e->used & SL_SLOT_AMBIGUOUS) &&
			   &snap->rules[e->rule] == rule;
	}
	if (!memo->ok)
		return 0;
	if (p->has_vlan && p->vlan_tci != w->ports[port].vlan_tci)
		return 0;
	uint32_t v6 = p->family == SL_AF_IPV6;
	for (uint32_t q = 0; q < snap->n_ports; q++) {
		/* the reply may come back on any port: each must lead to this one */
		if ((q == port) != (snap->gw_hdrs[q * 2 + v6].valid != 0))
			return 0;
		const struct sl_prefix *seg = &snap->on_link[q * 2 + v6];
		if (seg->len != 0 && sl_prefix_contains(seg, &p->src))
			return 0;
	}
	return port < snap->n_ports &&
	       memcmp(rte_pktmbuf_mtod_offset(m, const uint8_t *, 6),
		      snap->gw_hdrs[port * 2 + v6].bytes, 6) == 0;
}

/*
 * Where a DNAT reply goes: the reply table's entry, else the reply index's
 * translation. SL_DROP_NONE with *v and *path set, SL_DROP_NO_NEIGHBOUR
 * when the translation waits for the gateway's MAC, or SL_DROP_REPLY_NO_FLOW.
 */
static enum sl_drop_reason
sl_reply_resolve(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port,
		 struct rte_mbuf *m, const struct sl_pkt *p, uint32_t now, struct sl_reply_val *v,
		 enum sl_path_counter *path)
{
	*path = SL_PATH_REPLY;
	if (sl_reply_find(w, p, now, v) >= 0)
		return SL_DROP_NONE;
	*path = SL_PATH_REPLY_STATELESS;
	int ok = sl_reply_stateless(w, snap, port, m, p, v);
	return ok > 0 ? SL_DROP_NONE : ok < 0 ? SL_DROP_NO_NEIGHBOUR : SL_DROP_REPLY_NO_FLOW;
}

static enum sl_drop_reason
sl_reply(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port, struct rte_mbuf *m,
	 const struct sl_pkt *p, uint32_t now)
{
	struct sl_reply_val v;
	enum sl_path_counter path;
	enum sl_drop_reason r = sl_reply_resolve(w, snap, port, m, p, now, &v, &path);

	if (r == SL_DROP_NO_NEIGHBOUR && sl_worker_hold(w, snap, port, m, SL_HOLD_NO_RULE, now))
		return SL_DROP_NONE;
	if (r != SL_DROP_NONE)
		return SL_DROP_REPLY_NO_FLOW;
	return sl_reply_send(w, snap, port, m, p, &v, path);
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
			return sl_worker_ttl_exceeded(w, port, m, p);
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
 * for one). The first fragment carries the ports: its reply entry (or the
 * reply index's translation) is found as for a whole packet and left in the
 * fragment table, keyed by the
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
	enum sl_path_counter path;

	if (p->frag == SL_FRAG_FIRST && (p->l4_proto == SL_PROTO_TCP || p->l4_proto == SL_PROTO_UDP) &&
	    p->l4_len >= 4) {
		if (sl_reply_resolve(w, snap, port, m, p, now, &v, &path) != SL_DROP_NONE)
			return SL_DROP_REPLY_NO_FLOW;
		sl_frag_remember(fs, p, SL_FRAG_REPLY, v.rule_id, now);
		fs->reply = v;
		fs->reply_path = (uint8_t)path;
		return sl_reply_send(w, snap, port, m, p, &v, path);
	}
	if (sl_frag_is(fs, p, SL_FRAG_REPLY, now))
		return sl_reply_send(w, snap, port, m, p, &fs->reply,
				     (enum sl_path_counter)fs->reply_path);
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

	/* the error is read and rewritten whole: it must be in one segment (it is, at 1280 bytes) */
	if (unlikely((uint32_t)p->l3_off + p->l3_len > rte_pktmbuf_data_len(m)))
		return SL_DROP_SEGMENTED;
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
enum sl_drop_reason
sl_worker_slowpath(struct sl_worker *w, const struct sl_snapshot *snap, uint16_t port,
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
		if (snap->has_dnat && !sl_is_port_addr(&w->ports[port], &p->dst)) {
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
		if (snap->has_dnat && (sl_snapshot_addr_kind(snap, &p->src) & SL_ADDR_DNAT_BACKEND)) {
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
	sl_encap_copy(out, hdr);
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
void
sl_worker_flow_expired(const struct sl_flow_entry *e, void *arg)
{
	struct sl_worker_sweep_ctx *c = arg;
	const struct sl_snapshot *snap = c->snap;
	const struct sl_flow_key *k = &e->key;

	if (e->flags & SL_FLOW_F_DRAINING)
		c->w->stats->flow_drained++;
	/* a peer's flow never seen here: no sequence numbers to reset it with (that peer does) */
	if (e->state != SL_FLOW_ESTABLISHED || k->sport_be == 0 || k->dport_be == 0 ||
	    e->port >= snap->n_ports || (e->flags & SL_FLOW_F_SYNCED))
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
