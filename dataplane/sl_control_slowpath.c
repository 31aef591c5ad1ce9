/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_control_slowpath.c: ARP, Neighbor Discovery, ping and the exception
 * path on the control thread (see sl_control_slowpath.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "sl_control_slowpath.h"
#include "sl_l2proto.h"
#include "sl_logging.h"

RTE_LOG_REGISTER(sl_logtype_slowpath, user.sluice.slowpath, INFO);
#define SP_LOG(level, ...) SL_LOG(level, sl_logtype_slowpath, "slowpath", __VA_ARGS__)

#define SL_NEIGH_CAPACITY 65536
#define SL_SLOW_BURST 64
#define SL_NEIGH_TICK_MS 100
#define SL_ANNOUNCE_MAX 4096   /* frontends remembered for announcements */


struct sl_sp_port {
	uint16_t port_id;       /* the NIC port */
	uint8_t discovery;      /* neighbourDiscovery: requests and announcements go out */
	int16_t inject_worker;  /* worker that transmits for this port, -1: none */
	int16_t tap_port_id;    /* the TAP's DPDK port id, -1: no exception path */
	char tap_name[SL_PORT_NAME_MAX];
};

struct sl_control_slowpath {
	struct sl_dp_port *ports;
	struct sl_sp_port sp[SL_MAX_PORTS];
	uint16_t n_ports;
	struct sl_worker *workers;
	unsigned int n_workers;
	struct rte_mempool *mp;
	struct sl_neigh_table *neigh;
	uint64_t now_ms;
	uint64_t tick_ms;       /* last neighbour timer walk */
	uint32_t changes;
	/* echo token bucket */
	double tokens;
	uint64_t tokens_ms;
	/* frontends already announced (by the generation that had them) */
	struct sl_ip_addr announced[SL_ANNOUNCE_MAX];
	uint32_t n_announced;
	uint64_t announced_generation;
	const struct sl_snapshot *snap; /* the one of this round (control thread owns it) */
	struct sl_control_slowpath_stats st;
};

static void
sp_drop(struct sl_control_slowpath *sp, struct rte_mbuf *m)
{
	sp->st.dropped++;
	rte_pktmbuf_free(m);
}

/* Hand a frame (starting at its Ethernet header) to the worker that sends on port. */
static void
sp_send(struct sl_control_slowpath *sp, uint16_t port, struct rte_mbuf *m)
{
	int16_t wi = sp->sp[port].inject_worker;

	if (wi < 0) {
		sp_drop(sp, m);
		return;
	}
	m->port = port;
	if (rte_ring_sp_enqueue(sp->workers[wi].inject, m) != 0)
		sp_drop(sp, m);
}

/* A fresh mbuf of len bytes for a frame to build; NULL when none is left. */
static struct rte_mbuf *
sp_alloc(struct sl_control_slowpath *sp, uint8_t **data, uint32_t room)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(sp->mp);

	if (m == NULL)
		return NULL;
	if (rte_pktmbuf_tailroom(m) < room) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	*data = rte_pktmbuf_mtod(m, uint8_t *);
	return m;
}

static void
sp_send_built(struct sl_control_slowpath *sp, uint16_t port, struct rte_mbuf *m, uint32_t len)
{
	if (len == 0 || rte_pktmbuf_append(m, (uint16_t)len) == NULL) {
		sp_drop(sp, m);
		return;
	}
	sp_send(sp, port, m);
}

/* Is a an address sluice answers for on port (a frontend, or the port's own)? */
static bool
sp_owns(const struct sl_control_slowpath *sp, uint16_t port, const struct sl_ip_addr *a,
	bool *frontend)
{
	const struct sl_dp_port *pt = &sp->ports[port];

	*frontend = sp->snap != NULL && (sl_snapshot_addr_kind(sp->snap, a) & SL_ADDR_FRONTEND);
	if (*frontend)
		return true;
	return (pt->has_ipv4 && sl_ip_addr_eq(&pt->ipv4, a)) ||
	       (pt->has_ipv6 && sl_ip_addr_eq(&pt->ipv6, a));
}

/* The frame to the kernel (the port's TAP); false when the port has none. */
static bool
sp_to_kernel(struct sl_control_slowpath *sp, uint16_t port, struct rte_mbuf *m)
{
	int16_t tap = sp->sp[port].tap_port_id;

	if (tap < 0)
		return false;
	/* The kernel sees the segment untagged: the TAP is the port's VLAN's interface. */
	rte_vlan_strip(m);
	m->ol_flags = 0;
	if (rte_eth_tx_burst((uint16_t)tap, 0, &m, 1) != 1)
		sp_drop(sp, m);
	else
		sp->st.to_kernel++;
	return true;
}

/* Offset of the L3 header: 18 behind one 802.1Q tag, else 14. */
static inline uint32_t
sp_l3_off(const uint8_t *frame, uint32_t len)
{
	return (len >= 18 && frame[12] == 0x81 && frame[13] == 0x00) ? 18 : 14;
}

/* The tag to answer a frame with: its own, else the port's. */
static uint16_t
sp_vlan_of(const struct sl_control_slowpath *sp, uint16_t port, const uint8_t *frame, uint32_t len)
{
	if (sp_l3_off(frame, len) == 18)
		return (uint16_t)(frame[14] << 8 | frame[15]);
	return sp->ports[port].vlan_tci;
}

/* Put the port's 802.1Q tag on an untagged frame (nothing when it has none); -1: no headroom. */
static int
sp_tag(const struct sl_control_slowpath *sp, uint16_t port, struct rte_mbuf *m)
{
	uint16_t vlan = sp->ports[port].vlan_tci;

	if (vlan == 0)
		return 0;
	m->vlan_tci = vlan;
	return rte_vlan_insert(&m);
}

static void
sp_learn(struct sl_control_slowpath *sp, uint16_t port, const struct sl_ip_addr *a,
	 const struct sl_mac *mac, bool solicited)
{
	if (sl_neigh_learn(sp->neigh, port, a, mac, sp->now_ms, solicited) > 0) {
		sp->changes++;
		sp->st.neighbour_changes++;
	}
}

static void
sp_arp(struct sl_control_slowpath *sp, uint16_t port, struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	uint32_t l3 = sp_l3_off(f, len);
	struct sl_arp_info a;
	bool frontend;

	sp->st.arp_in++;
	if (len < l3 || sl_arp_parse(f + l3, len - l3, &a) != 0) {
		sp_drop(sp, m);
		return;
	}
	if (!sl_ip_addr_eq(&a.spa, &(struct sl_ip_addr){{0}}))
		sp_learn(sp, port, &a.spa, &a.sha, a.op == 2);
	if (a.op == 1 && sp_owns(sp, port, &a.tpa, &frontend) &&
	    (frontend || sp->sp[port].tap_port_id < 0)) {
		uint8_t *out;
		struct rte_mbuf *r = sp_alloc(sp, &out, 64);
		if (r != NULL) {
			uint32_t n = sl_arp_build(out, 64, &a.sha, &sp->ports[port].mac,
						  sp_vlan_of(sp, port, f, len), 2, &sp->ports[port].mac,
						  &a.tpa, &a.sha, &a.spa);
			sp_send_built(sp, port, r, n);
			sp->st.arp_replied++;
		}
	}
	if (!sp_to_kernel(sp, port, m))
		rte_pktmbuf_free(m);
}

static void
sp_nd(struct sl_control_slowpath *sp, uint16_t port, struct rte_mbuf *m, uint32_t l3)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	struct sl_nd_info nd;
	bool frontend;

	sp->st.nd_in++;
	if (sl_nd_parse(f + l3, len - l3, &nd) != 0) {
		if (!sp_to_kernel(sp, port, m))
			sp_drop(sp, m);
		return;
	}
	static const struct sl_ip_addr unspec = {{0}};
	if (nd.type == 135) {
		if (nd.has_lladdr && !sl_ip_addr_eq(&nd.src, &unspec))
			sp_learn(sp, port, &nd.src, &nd.lladdr, false);
		if (sp_owns(sp, port, &nd.target, &frontend) &&
		    (frontend || sp->sp[port].tap_port_id < 0)) {
			uint8_t *out;
			struct rte_mbuf *r = sp_alloc(sp, &out, 128);
			if (r != NULL) {
				bool dad = sl_ip_addr_eq(&nd.src, &unspec);
				struct sl_mac to;
				memcpy(to.bytes, f + 6, 6);
				uint32_t n = sl_nd_build_na(out, 128, dad ? NULL : &to,
							    &sp->ports[port].mac,
							    sp_vlan_of(sp, port, f, len), &nd.target,
							    dad ? NULL : &nd.src, &nd.target,
							    (uint8_t)(dad ? 0x20 : 0x60));
				sp_send_built(sp, port, r, n);
				sp->st.nd_replied++;
			}
		}
	} else if (nd.type == 136 && nd.has_lladdr) {
		sp_learn(sp, port, &nd.target, &nd.lladdr, (nd.flags & 0x40) != 0);
	}
	if (!sp_to_kernel(sp, port, m))
		rte_pktmbuf_free(m);
}

/* Echo request to a frontend (or the port without a kernel): answered in place. */
static void
sp_echo(struct sl_control_slowpath *sp, uint16_t port, struct rte_mbuf *m, uint32_t l3, int family)
{
	uint64_t now = sp->now_ms;

	sp->tokens += (double)(now - sp->tokens_ms) * SL_ECHO_RATE_PER_S / 1000.0;
	sp->tokens_ms = now;
	if (sp->tokens > SL_ECHO_BURST)
		sp->tokens = SL_ECHO_BURST;
	if (sp->tokens < 1.0) {
		sp->st.echo_rate_limited++;
		rte_pktmbuf_free(m);
		return;
	}
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t ip_len = family == SL_AF_IPV4 ? (uint32_t)(f[l3 + 2] << 8 | f[l3 + 3])
					       : 40u + (uint32_t)(f[l3 + 4] << 8 | f[l3 + 5]);
	if (l3 + ip_len > rte_pktmbuf_data_len(m) || sl_icmp_echo_reply(f + l3, ip_len, family) != 0) {
		sp_drop(sp, m);
		return;
	}
	sp->tokens -= 1.0;
	/* back to where it came from: swap the MACs (the tag, if any, stays) */
	memcpy(f, f + 6, 6);
	memcpy(f + 6, sp->ports[port].mac.bytes, 6);
	if (rte_pktmbuf_data_len(m) > l3 + ip_len)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - l3 - ip_len));
	/* untagged on a port with a VLAN: the reply carries the port's tag, as every answer does */
	if (l3 == 14 && sp_tag(sp, port, m) != 0) {
		sp_drop(sp, m);
		return;
	}
	sp->st.echo_replied++;
	sp_send(sp, port, m);
}

/* One punted frame from port. */
static void
sp_handle(struct sl_control_slowpath *sp, uint16_t port, struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	uint32_t l3;
	uint16_t et;

	if (port >= sp->n_ports || len < 14) {
		sp_drop(sp, m);
		return;
	}
	l3 = sp_l3_off(f, len);
	et = (uint16_t)(f[l3 - 2] << 8 | f[l3 - 1]);
	if (et == SL_ETHERTYPE_ARP) {
		sp_arp(sp, port, m);
		return;
	}
	bool frontend = false, ours = false;
	if (et == 0x0800 && len >= l3 + 20) {
		struct sl_ip_addr dst;
		uint32_t v4;
		memcpy(&v4, f + l3 + 16, 4);
		sl_ip_addr_from_v4(&dst, v4);
		ours = sp_owns(sp, port, &dst, &frontend);
		uint32_t ihl = (uint32_t)(f[l3] & 0x0f) * 4;
		if (ours && f[l3 + 9] == 1 && len >= l3 + ihl + 8 && f[l3 + ihl] == 8 &&
		    (frontend || sp->sp[port].tap_port_id < 0)) {
			sp_echo(sp, port, m, l3, SL_AF_IPV4);
			return;
		}
	} else if (et == 0x86DD && len >= l3 + 48) {
		struct sl_ip_addr dst;
		memcpy(dst.bytes, f + l3 + 24, 16);
		ours = sp_owns(sp, port, &dst, &frontend);
		if (f[l3 + 6] == 58) {
			uint8_t type = f[l3 + 40];
			if (type == 135 || type == 136) {
				sp_nd(sp, port, m, l3);
				return;
			}
			if (type == 128 && ours && (frontend || sp->sp[port].tap_port_id < 0)) {
				sp_echo(sp, port, m, l3, SL_AF_IPV6);
				return;
			}
		}
	}
	if (!sp_to_kernel(sp, port, m))
		sp_drop(sp, m);
}

/* Neighbour timers: a request (broadcast/multicast) or a unicast probe. */
static void
sp_solicit(void *ctx, uint16_t port, const struct sl_ip_addr *a, const struct sl_mac *unicast,
	   uint16_t vlan)
{
	struct sl_control_slowpath *sp = ctx;
	const struct sl_dp_port *pt = &sp->ports[port];
	uint8_t *out;
	uint32_t n;

	if (port >= sp->n_ports || !sp->sp[port].discovery)
		return;
	struct rte_mbuf *m = sp_alloc(sp, &out, 128);
	if (m == NULL)
		return;
	if (sl_ip_addr_is_v4(a)) {
		static const struct sl_mac bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
		static const struct sl_mac zero = {{0}};
		struct sl_ip_addr any;
		sl_ip_addr_from_v4(&any, 0);
		n = sl_arp_build(out, 128, unicast ? unicast : &bcast, &pt->mac, vlan, 1,
				 &pt->mac, pt->has_ipv4 ? &pt->ipv4 : &any, &zero, a);
	} else {
		if (!pt->has_ipv6) {
			rte_pktmbuf_free(m);
			return;
		}
		n = sl_nd_build_ns(out, 128, &pt->mac, vlan, &pt->ipv6, a, unicast);
	}
	sp->st.solicits_sent++;
	sp_send_built(sp, port, m, n);
}

/* Gratuitous ARP / unsolicited NA for frontends new in snap, on every port of their family. */
static void
sp_announce(struct sl_control_slowpath *sp, const struct sl_snapshot *snap)
{
	if (snap == NULL || snap->generation == sp->announced_generation)
		return;
	struct sl_ip_addr *prev = malloc(sizeof(sp->announced));
	if (prev == NULL)
		return;
	uint32_t n_prev = sp->n_announced;
	memcpy(prev, sp->announced, n_prev * sizeof(*prev));
	sp->n_announced = 0;
	for (uint32_t r = 0; r < snap->n_rules; r++) {
		const struct sl_ip_addr *fe = &snap->rules[r].frontend;
		bool seen = false;
		for (uint32_t i = 0; i < sp->n_announced && !seen; i++)
			seen = sl_ip_addr_eq(&sp->announced[i], fe);
		if (seen || sp->n_announced == SL_ANNOUNCE_MAX)
			continue;
		sp->announced[sp->n_announced++] = *fe;
		bool known = false;
		for (uint32_t i = 0; i < n_prev && !known; i++)
			known = sl_ip_addr_eq(&prev[i], fe);
		if (known)
			continue;
		bool v4 = sl_ip_addr_is_v4(fe);
		for (uint16_t p = 0; p < sp->n_ports; p++) {
			const struct sl_dp_port *pt = &sp->ports[p];
			uint8_t *out;
			uint32_t len;
			if (!sp->sp[p].discovery)
				continue;
			struct rte_mbuf *m = sp_alloc(sp, &out, 128);
			if (m == NULL)
				break;
			if (v4) {
				static const struct sl_mac bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
				static const struct sl_mac zero = {{0}};
				len = sl_arp_build(out, 128, &bcast, &pt->mac, pt->vlan_tci, 1, &pt->mac,
						   fe, &zero, fe);
			} else {
				len = sl_nd_build_na(out, 128, NULL, &pt->mac, pt->vlan_tci, fe, NULL,
						     fe, 0x20);
			}
			sp->st.announcements_sent++;
			sp_send_built(sp, p, m, len);
		}
	}
	free(prev);
	sp->announced_generation = snap->generation;
}

uint32_t
sl_control_slowpath_poll(struct sl_control_slowpath *sp, const struct sl_snapshot *snap,
			 uint64_t now_ms)
{
	struct rte_mbuf *pkts[SL_SLOW_BURST];

	sp->now_ms = now_ms;
	sp->snap = snap;
	for (unsigned int w = 0; w < sp->n_workers; w++) {
		struct rte_ring *r = sp->workers[w].punt;
		unsigned int n;
		if (r == NULL)
			continue;
		while ((n = rte_ring_sc_dequeue_burst(r, (void **)pkts, SL_SLOW_BURST, NULL)) > 0) {
			for (unsigned int i = 0; i < n; i++)
				sp_handle(sp, pkts[i]->port, pkts[i]);
			if (n < SL_SLOW_BURST)
				break;
		}
	}
	for (uint16_t p = 0; p < sp->n_ports; p++) {
		int16_t tap = sp->sp[p].tap_port_id;
		if (tap < 0)
			continue;
		uint16_t n = rte_eth_rx_burst((uint16_t)tap, 0, pkts, SL_SLOW_BURST);
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];
			/* the port's VLAN goes back on what the kernel sends */
			if (rte_pktmbuf_data_len(m) < 14 || sp_tag(sp, p, m) != 0) {
				sp_drop(sp, m);
				continue;
			}
			m->ol_flags = 0;
			sp->st.from_kernel++;
			sp_send(sp, p, m);
		}
	}
	/* the neighbour timers have a resolution of seconds: walk the table ten times a second */
	if (now_ms - sp->tick_ms >= SL_NEIGH_TICK_MS) {
		sp->tick_ms = now_ms;
		sl_neigh_tick(sp->neigh, now_ms, sp_solicit, sp);
	}
	sp_announce(sp, snap);
	uint32_t c = sp->changes;
	sp->changes = 0;
	return c;
}

bool
sl_control_slowpath_resolve(void *ctx, uint32_t port, const struct sl_ip_addr *a, uint16_t vlan_tci,
			    struct sl_mac *mac)
{
	struct sl_control_slowpath *sp = ctx;

	if (sp == NULL || port >= sp->n_ports)
		return false;
	/*
	 * Mark it needed by this compilation (so sl_neigh_end keeps it); an
	 * unknown one is created and asked for by the timers, and its header
	 * prefix stays invalid until the answer recompiles the snapshot.
	 */
	sl_neigh_want(sp->neigh, (uint16_t)port, a, vlan_tci, sp->now_ms);
	return sl_neigh_lookup(sp->neigh, (uint16_t)port, a, mac);
}

void
sl_control_slowpath_compile_begin(struct sl_control_slowpath *sp)
{
	if (sp != NULL)
		sl_neigh_begin(sp->neigh);
}

void
sl_control_slowpath_compile_published(struct sl_control_slowpath *sp)
{
	if (sp != NULL)
		sl_neigh_end(sp->neigh);
}

uint64_t
sl_control_slowpath_neigh_epoch(const struct sl_control_slowpath *sp)
{
	return sp != NULL ? sl_neigh_epoch(sp->neigh) : 0;
}

bool
sl_control_slowpath_sweep_due(const struct sl_control_slowpath *sp)
{
	return sp != NULL &&
	       (uint64_t)sl_neigh_count(sp->neigh) * 4 > (uint64_t)sl_neigh_capacity(sp->neigh) * 3;
}

const struct sl_control_slowpath_stats *
sl_control_slowpath_stats(const struct sl_control_slowpath *sp)
{
	return &sp->st;
}

struct sp_json_ctx {
	FILE *f;
	int n;
};

static void
sp_json_neigh(void *ctx, uint16_t port, const struct sl_ip_addr *a, const struct sl_mac *mac,
	      enum sl_neigh_state st, uint64_t age_ms)
{
	struct sp_json_ctx *c = ctx;
	char ip[64], m[24] = "";

	sl_ip_addr_format(a, ip, sizeof(ip));
	if (mac != NULL)
		sl_mac_format(mac, m, sizeof(m));
	fprintf(c->f, "%s\n    {\"port\": %u, \"ipAddress\": \"%s\", \"macAddress\": %s%s%s, "
		"\"state\": \"%s\", \"ageMs\": %" PRIu64 "}", c->n++ ? "," : "", port, ip,
		mac ? "\"" : "", mac ? m : "null", mac ? "\"" : "", sl_neigh_state_name(st), age_ms);
}

void
sl_control_slowpath_write_json(FILE *f, const struct sl_control_slowpath *sp, uint64_t now_ms)
{
	struct sp_json_ctx c = {.f = f, .n = 0};
	const struct sl_control_slowpath_stats *s = &sp->st;

	fprintf(f, "{\n  \"neighbours\": [");
	sl_neigh_foreach(sp->neigh, sp_json_neigh, &c, now_ms);
	fprintf(f, "%s],\n", c.n ? "\n  " : "");
	fprintf(f, "  \"counters\": {\"arpIn\": %" PRIu64 ", \"arpReplied\": %" PRIu64
		", \"ndIn\": %" PRIu64 ", \"ndReplied\": %" PRIu64 ", \"solicitsSent\": %" PRIu64
		", \"announcementsSent\": %" PRIu64 ", \"echoReplied\": %" PRIu64
		", \"echoRateLimited\": %" PRIu64 ", \"toKernel\": %" PRIu64
		", \"fromKernel\": %" PRIu64 ", \"dropped\": %" PRIu64
		", \"neighbourChanges\": %" PRIu64 "},\n",
		s->arp_in, s->arp_replied, s->nd_in, s->nd_replied, s->solicits_sent,
		s->announcements_sent, s->echo_replied, s->echo_rate_limited, s->to_kernel,
		s->from_kernel, s->dropped, s->neighbour_changes);
	fprintf(f, "  \"exceptionPaths\": [");
	int n = 0;
	for (uint16_t p = 0; p < sp->n_ports; p++)
		if (sp->sp[p].tap_port_id >= 0)
			fprintf(f, "%s{\"port\": %u, \"tap\": \"%s\"}", n++ ? ", " : "", p,
				sp->sp[p].tap_name);
	fprintf(f, "]\n}\n");
}

/* A TAP for port p: a kernel interface with the port's MAC. */
static int
sp_tap_create(struct sl_control_slowpath *sp, uint16_t p, const char *ifname,
	      struct rte_mempool *mp, char *err, size_t err_len)
{
	char name[32], args[200], macs[24];
	uint16_t pid;
	struct rte_eth_conf conf;
	int rc;

	snprintf(name, sizeof(name), "net_tap_sl%u", p);
	sl_mac_format(&sp->ports[p].mac, macs, sizeof(macs));
	snprintf(args, sizeof(args), "%s,iface=%s,mac=%s", name, ifname, macs);
	rc = rte_dev_probe(args);
	if (rc != 0) {
		snprintf(err, err_len, "exception path: cannot create TAP %s (%s): %s", ifname, args,
			 strerror(-rc));
		return -1;
	}
	if (rte_eth_dev_get_port_by_name(name, &pid) != 0) {
		snprintf(err, err_len, "exception path: TAP %s has no port", ifname);
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	if ((rc = rte_eth_dev_configure(pid, 1, 1, &conf)) != 0 ||
	    (rc = rte_eth_rx_queue_setup(pid, 0, 512, rte_eth_dev_socket_id(pid), NULL, mp)) != 0 ||
	    (rc = rte_eth_tx_queue_setup(pid, 0, 512, rte_eth_dev_socket_id(pid), NULL)) != 0 ||
	    (rc = rte_eth_dev_start(pid)) != 0) {
		snprintf(err, err_len, "exception path: TAP %s: %s", ifname, strerror(-rc));
		return -1;
	}
	sp->sp[p].tap_port_id = (int16_t)pid;
	snprintf(sp->sp[p].tap_name, sizeof(sp->sp[p].tap_name), "%s", ifname);
	sp->ports[p].exception = 1;
	SP_LOG(INFO, "exception path: port %u <-> kernel interface %s (MAC %s)\n", p, ifname,
	       macs);
	return 0;
}

struct sl_control_slowpath *
sl_control_slowpath_create(const struct sl_pmd_config *cfg, const uint16_t *port_ids,
			   struct sl_dp_port *dp_ports, struct sl_worker *workers,
			   unsigned int n_workers, struct rte_mempool *mp, char *err,
			   size_t err_len)
{
	struct sl_control_slowpath *sp = calloc(1, sizeof(*sp));

	if (sp == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	sp->ports = dp_ports;
	sp->n_ports = (uint16_t)cfg->n_ports;
	sp->workers = workers;
	sp->n_workers = n_workers;
	sp->mp = mp;
	sp->tokens = SL_ECHO_BURST;
	sp->neigh = sl_neigh_create(SL_NEIGH_CAPACITY);
	if (sp->neigh == NULL) {
		snprintf(err, err_len, "out of memory (neighbour table)");
		free(sp);
		return NULL;
	}
	for (uint32_t p = 0; p < cfg->n_ports; p++) {
		const struct sl_port_info *pi = &cfg->ports[p].info;
		for (uint32_t i = 0; i < pi->n_neighbours; i++)
			sl_neigh_add_static(sp->neigh, (uint16_t)p, &pi->neighbours[i].addr,
					    &pi->neighbours[i].mac);
	}
	for (unsigned int w = 0; w < n_workers; w++) {
		char rn[RTE_RING_NAMESIZE];
		snprintf(rn, sizeof(rn), "sl_punt%u", w);
		workers[w].punt = rte_ring_create(rn, SL_SLOW_RING_SIZE, rte_socket_id(),
						  RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(rn, sizeof(rn), "sl_inject%u", w);
		workers[w].inject = rte_ring_create(rn, SL_SLOW_RING_SIZE, rte_socket_id(),
						    RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (workers[w].punt == NULL || workers[w].inject == NULL) {
			snprintf(err, err_len, "cannot create the slow-path rings: %s",
				 rte_strerror(rte_errno));
			sl_control_slowpath_free(sp);
			return NULL;
		}
	}
	for (uint16_t p = 0; p < sp->n_ports; p++) {
		sp->sp[p].port_id = port_ids[p];
		sp->sp[p].discovery = cfg->ports[p].neighbour_discovery;
		sp->sp[p].tap_port_id = -1;
		sp->sp[p].inject_worker = -1;
		for (unsigned int w = 0; w < n_workers && sp->sp[p].inject_worker < 0; w++)
			if (workers[w].txq[p] != NULL)
				sp->sp[p].inject_worker = (int16_t)w;
		if (cfg->ports[p].tap_name[0] != '\0' &&
		    sp_tap_create(sp, p, cfg->ports[p].tap_name, mp, err, err_len) != 0) {
			sl_control_slowpath_free(sp);
			return NULL;
		}
	}
	return sp;
}

void
sl_control_slowpath_free(struct sl_control_slowpath *sp)
{
	if (sp == NULL)
		return;
	for (uint16_t p = 0; p < sp->n_ports; p++) {
		if (sp->sp[p].tap_port_id >= 0) {
			rte_eth_dev_stop((uint16_t)sp->sp[p].tap_port_id);
			rte_eth_dev_close((uint16_t)sp->sp[p].tap_port_id);
		}
	}
	for (unsigned int w = 0; w < sp->n_workers; w++) {
		struct rte_mbuf *m;
		if (sp->workers[w].punt != NULL) {
			while (rte_ring_dequeue(sp->workers[w].punt, (void **)&m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(sp->workers[w].punt);
			sp->workers[w].punt = NULL;
		}
		if (sp->workers[w].inject != NULL) {
			while (rte_ring_dequeue(sp->workers[w].inject, (void **)&m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(sp->workers[w].inject);
			sp->workers[w].inject = NULL;
		}
	}
	sl_neigh_free(sp->neigh);
	free(sp);
}
