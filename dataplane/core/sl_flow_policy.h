/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_flow_policy.h: what a worker does with a flow's entry: which backend
 * the flow keeps, and when it expires.
 *
 * The flow table (sl_flow.h) stores entries; this is the policy over them,
 * applied per packet by the worker (inline: it runs on every packet of the
 * fast path) and tested without EAL:
 *  - the backend: a live entry keeps its backend while that backend is in
 *    the rule's pool and takes new flows; when it does not, established TCP
 *    stays on it (until the backend's drain period ends, if it has one) and
 *    the rest moves (Maglev chooses again, as it does for an expired entry);
 *  - the expiry: the timeout of the flow's state, TCP's state advancing with
 *    the packet's flags (SYN only, established, FIN, RST), UDP one timeout.
 */
#ifndef SL_FLOW_POLICY_H
#define SL_FLOW_POLICY_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sl_flow.h"
#include "sl_parse.h"
#include "sl_snapshot.h"

/* Flow timeouts that are not a rule's idleTimeoutInMinutes (ms). */
#define SL_FLOW_SYN_TIMEOUT_MS 10000   /* TCP seen only with SYN: a flood expires fast */
#define SL_FLOW_FIN_TIMEOUT_MS 15000   /* after a FIN */
#define SL_FLOW_RST_TIMEOUT_MS 2000    /* after a RST */
#define SL_FLOW_UDP_TIMEOUT_MS 60000   /* UDP */
#define SL_FLOW_RENEW_SLACK_MS 500     /* an expiry moves only by this much or more */

/* What a flow's entry says about the backend of the flow's next packet. */
enum sl_flow_verdict {
	SL_FLOW_KEEP = 0,    /* the entry's backend keeps the flow */
	SL_FLOW_EXPIRED,     /* the entry's timeout passed: a new choice */
	SL_FLOW_MOVED,       /* its backend left the pool or takes no new flows: a new choice */
};

/*
 * The expiry a new entry gets until its first packet's state sets its own
 * (sl_flow_track), so that later packets of the flow in the same burst
 * find it live.
 */
static inline uint32_t
sl_flow_provisional_expiry(uint32_t now)
{
	return now + SL_FLOW_SYN_TIMEOUT_MS;
}

/*
 * Start entry e over for a flow whose backend is chosen again (expired or
 * moved): every field after the key zero (state NEW, no flags), with the
 * provisional expiry.
 */
static inline void
sl_flow_restart(struct sl_flow_entry *e, uint32_t now)
{
	memset(&e->backend_id, 0, sizeof(*e) - offsetof(struct sl_flow_entry, backend_id));
	e->expires_ms = sl_flow_provisional_expiry(now);
}

/*
 * The verdict of live-or-expired entry e on a packet of protocol l4_proto
 * to a rule whose pool is `pool`, at `now`. SL_FLOW_KEEP sets *backend to
 * the backend's index in snap. Keeping a backend that no longer takes new
 * flows (adminState Down, probed down) is for TCP past its SYN only; the
 * first such packet to a backend with a drain period sets the entry's
 * deadline (SL_FLOW_F_DRAINING, expires_ms = now + drain period), and a
 * packet that finds the backend usable again clears it. Writes e only then:
 * a store on every hit would dirty the entry's cache line.
 */
static inline enum sl_flow_verdict
sl_flow_choice(struct sl_flow_entry *e, const struct sl_snapshot *snap, uint32_t pool,
	       uint8_t l4_proto, uint32_t now, uint32_t *backend)
{
	if (sl_flow_time_passed(now, e->expires_ms))
		return SL_FLOW_EXPIRED;
	uint32_t bi = snap->backend_by_id[e->backend_id];
	if (SL_UNLIKELY(bi == SL_BACKEND_NONE)) /* removed from its pool */
		return SL_FLOW_MOVED;
	const struct sl_backend *be = &snap->backends[bi];
	if (SL_UNLIKELY(be->pool != pool)) /* the rule now uses another pool */
		return SL_FLOW_MOVED;
	if (SL_LIKELY(be->usable)) {
		/*
		 * Up again: no deadline. Written only when set: a store on
		 * every hit would dirty the entry's line, and with a table
		 * larger than the caches each packet would then cost a
		 * write-back to memory as well as the read.
		 */
		if (SL_UNLIKELY(e->flags & SL_FLOW_F_DRAINING))
			e->flags &= (uint8_t)~SL_FLOW_F_DRAINING;
		*backend = bi;
		return SL_FLOW_KEEP;
	}
	/* Down or probed down: established TCP stays (for the drain period, if any); the rest moves. */
	if (l4_proto == SL_PROTO_TCP && e->state != SL_FLOW_NEW) {
		if (be->admin_down && be->drain_ms != 0 && !(e->flags & SL_FLOW_F_DRAINING)) {
			e->flags |= SL_FLOW_F_DRAINING;
			e->expires_ms = now + be->drain_ms;
		}
		*backend = bi;
		return SL_FLOW_KEEP;
	}
	return SL_FLOW_MOVED;
}

/*
 * Advance entry e with packet p of its flow (rule: the packet's rule; l4:
 * the packet's L4 header, p->l4_len bytes, any alignment) at `now`: TCP's
 * state with the packet's flags, and the expiry with the state's timeout
 * (SYN only SL_FLOW_SYN_TIMEOUT_MS, established the rule's idle timeout,
 * after a FIN SL_FLOW_FIN_TIMEOUT_MS, after a RST SL_FLOW_RST_TIMEOUT_MS,
 * UDP SL_FLOW_UDP_TIMEOUT_MS). Writes only what changed, and renews the
 * expiry only once it has moved by SL_FLOW_RENEW_SLACK_MS (or must shrink),
 * so an established flow's entry stays clean in the cache for most of its
 * packets; a draining entry's deadline is never pushed out. The client's
 * sequence numbers are kept only for rules that reset flows
 * (enableTcpReset).
 */
static inline void
sl_flow_track(struct sl_flow_entry *e, const struct sl_pkt *p, const struct sl_rule *rule,
	      const uint8_t *l4, uint32_t now)
{
	uint32_t timeout;

	if (p->l4_proto != SL_PROTO_TCP) {
		timeout = SL_FLOW_UDP_TIMEOUT_MS;
	} else {
		uint8_t f = p->tcp_flags;
		uint8_t state;

		if (rule->tcp_reset) {
			uint32_t seq, ack;
			memcpy(&seq, l4 + 4, 4); /* TCP headers need not be 4-byte aligned */
			memcpy(&ack, l4 + 8, 4);
			uint32_t payload = p->l4_len - ((uint32_t)(l4[12] >> 4) << 2);
			e->client_seq_next = ntohl(seq) + payload +
					     ((f & (SL_TCP_SYN | SL_TCP_FIN)) ? 1 : 0);
			if (f & SL_TCP_ACK)
				e->client_ack = ntohl(ack);
		}
		if (f & SL_TCP_RST) {
			state = SL_FLOW_RESET;
			timeout = SL_FLOW_RST_TIMEOUT_MS;
		} else if ((f & SL_TCP_FIN) || e->state == SL_FLOW_CLOSING) {
			state = SL_FLOW_CLOSING;
			timeout = SL_FLOW_FIN_TIMEOUT_MS;
		} else if ((f & SL_TCP_SYN) && e->state == SL_FLOW_NEW) {
			state = SL_FLOW_NEW;
			timeout = SL_FLOW_SYN_TIMEOUT_MS;
		} else {
			state = SL_FLOW_ESTABLISHED;
			timeout = rule->tcp_idle_ms;
		}
		if (state != e->state)
			e->state = state;
	}
	uint32_t expires = now + timeout;
	int32_t delta = (int32_t)(expires - e->expires_ms);
	/* A draining flow does not outlive its drain deadline. */
	if ((e->flags & SL_FLOW_F_DRAINING) && delta >= 0)
		return;
	if (delta < 0 || delta >= SL_FLOW_RENEW_SLACK_MS)
		e->expires_ms = expires;
}

#endif /* SL_FLOW_POLICY_H */
