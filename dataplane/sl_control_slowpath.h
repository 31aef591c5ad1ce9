/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_control_slowpath.h: the control thread's slow path, its share of the
 * packet path (the workers' own slow path is sl_worker_slowpath.c).
 *
 * DESIGN: workers keep the fast path and the per-packet slow path that needs
 * only the snapshot and their own state (DNAT replies, fragments, ICMP
 * errors, TTL: sl_worker_slowpath.c). What needs state of its own or the kernel is handed to the
 * control thread on a per-worker punt ring (single producer, single
 * consumer) and handled here, in the control thread's loop:
 *  - ARP and IPv6 Neighbor Discovery: answers for the addresses sluice owns
 *    (every frontend IP; the port's own addresses when no kernel owns them
 *    through an exception path), learning of the neighbours the
 *    configuration needs (backends, tunnel endpoints, gateways: the
 *    compiler asks for them, see sl_control_slowpath_resolve), requests,
 *    aging and re-probing (sl_neigh), gratuitous ARP / unsolicited NA when
 *    a frontend appears. A learned or lost MAC recompiles the snapshot, so
 *    workers only ever read MACs from published header prefixes.
 *  - ping of a frontend: echo replies, rate-limited (token bucket).
 *  - the exception path: with a TAP port per NIC port ("exceptionPath" in
 *    the port profile), everything for the host (its addresses, ARP, ND,
 *    routing protocols, SSH) goes to the kernel, and what the kernel sends
 *    goes out the NIC.
 * Packets it sends go to a worker that has a TX queue on the port, on that
 * worker's inject ring (it transmits them on its own queue): no TX queue is
 * shared between threads.
 */
#ifndef SL_CONTROL_SLOWPATH_H
#define SL_CONTROL_SLOWPATH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "sl_neigh.h"
#include "sl_pmd_config.h"
#include "sl_snapshot.h"
#include "sl_worker.h"

#define SL_ECHO_RATE_PER_S 1000  /* echo replies for frontends, per second */
#define SL_ECHO_BURST 200

struct sl_control_slowpath_stats {
	uint64_t arp_in;
	uint64_t arp_replied;
	uint64_t nd_in;
	uint64_t nd_replied;
	uint64_t solicits_sent;
	uint64_t announcements_sent; /* gratuitous ARP / unsolicited NA */
	uint64_t echo_replied;
	uint64_t echo_rate_limited;
	uint64_t to_kernel;
	uint64_t from_kernel;
	uint64_t dropped;            /* not handled, or no room to send */
	uint64_t neighbour_changes;
};

struct sl_control_slowpath;

/*
 * Set up for the ports of cfg (port ids in port_ids) and the workers (their
 * punt/inject rings are created here and set in each worker). Creates the
 * TAP devices of ports with an exception path. Main thread, after the ports
 * started and before the workers launch. NULL + message in err on failure.
 */
struct sl_control_slowpath *sl_control_slowpath_create(const struct sl_pmd_config *cfg,
						       const uint16_t *port_ids,
						       struct sl_dp_port *dp_ports,
						       struct sl_worker *workers,
						       unsigned int n_workers,
						       struct rte_mempool *mp, char *err,
						       size_t err_len);

void sl_control_slowpath_free(struct sl_control_slowpath *sp);

/*
 * One round: drain the punt rings and the TAPs, run the neighbour timers,
 * announce new frontends of snap. Returns the number of neighbour changes
 * (learned or lost MACs) since the last call; the caller recompiles when
 * it is > 0. now_ms: a monotonic millisecond clock.
 */
uint32_t sl_control_slowpath_poll(struct sl_control_slowpath *sp, const struct sl_snapshot *snap,
				  uint64_t now_ms);

/*
 * The compiler's neighbour hook (struct sl_port_info.resolve): a's MAC on
 * port, when known; asks for it otherwise. Call
 * sl_control_slowpath_compile_begin() before a compilation and
 * sl_control_slowpath_compile_published() once its snapshot is published:
 * neighbours it no longer needs are then dropped (a compilation that is not
 * published drops nothing).
 */
bool sl_control_slowpath_resolve(void *ctx, uint32_t port, const struct sl_ip_addr *a,
				 uint16_t vlan_tci, struct sl_mac *mac);
void sl_control_slowpath_compile_begin(struct sl_control_slowpath *sp);
void sl_control_slowpath_compile_published(struct sl_control_slowpath *sp);

/*
 * Advances whenever sl_control_slowpath_resolve() may answer differently
 * (sl_neigh_epoch()): the ports' resolve_epoch (sl_port_info.h). 0 for NULL.
 */
uint64_t sl_control_slowpath_neigh_epoch(const struct sl_control_slowpath *sp);

/*
 * An incremental compilation (sl_compile_delta()) asks only for the
 * neighbours of what it changed and is published without
 * sl_control_slowpath_compile_published(), so the neighbours of what it
 * removed stay until the next whole compilation sweeps them. True when the
 * neighbour table is more than three quarters full: compile whole now.
 */
bool sl_control_slowpath_sweep_due(const struct sl_control_slowpath *sp);

const struct sl_control_slowpath_stats *
sl_control_slowpath_stats(const struct sl_control_slowpath *sp);

/* The neighbour table and slow-path counters as JSON ({"neighbours": [...], ...}). */
void sl_control_slowpath_write_json(FILE *f, const struct sl_control_slowpath *sp, uint64_t now_ms);

#endif /* SL_CONTROL_SLOWPATH_H */
