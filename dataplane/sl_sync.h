/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_sync.h: flow sync between sluice hosts (--sync-peers), the control
 * thread's side: it sends the flows this host's workers start and renew to
 * the other hosts, and hands the flows they report to this host's workers,
 * so that a flow ECMP moves here keeps the backend it had there even after
 * a pool change (docs/flows.md, "Flow sync").
 *
 * DESIGN: two single-producer single-consumer element rings per worker.
 * The worker writes struct sl_sync_record on its sync_out ring (at a flow
 * entry's creation and when its expiry crosses a 16 s epoch; never blocks:
 * a full ring counts sync_dropped); the control thread alone reads them,
 * batches them into datagrams (sl_sync_msg.h) and sends each to every peer
 * from an ordinary kernel UDP socket (on a sluice host the kernel reaches
 * the peers through the exception-path TAP). It receives the peers'
 * datagrams on the same socket, validates them, resolves each record
 * against the snapshot it published (frontend -> rule, backend address ->
 * a backend of the rule's pool), and writes the result, in this host's
 * stable ids, on every worker's sync_in ring (RSS decides which worker
 * will see the flow: each installs it). The rings' enqueue and dequeue
 * carry the memory order (release/acquire inside rte_ring). The counters
 * (struct sl_sync_counters) are the control thread's only.
 */
#ifndef SL_SYNC_H
#define SL_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "sl_snapshot.h"
#include "sl_stats.h"
#include "sl_worker.h"

#define SL_SYNC_MAX_PEERS 16

struct sl_sync;

/*
 * Parse peers ("ADDR[,ADDR...]", IPv4 or IPv6, at most SL_SYNC_MAX_PEERS),
 * open a UDP socket on port (every address, both families, non-blocking),
 * and create the two rings of each of the n workers (on their sockets),
 * setting their sync_out and sync_in. Returns NULL with a message in
 * err (errlen bytes) when an address does not parse, the socket cannot be
 * bound, or memory runs out. Main thread, before the workers launch.
 */
struct sl_sync *sl_sync_create(const char *peers, uint16_t port, struct sl_worker *workers,
			       unsigned int n, char *err, size_t errlen);

/*
 * One turn of the control loop: send what the workers wrote (bounded),
 * receive what the peers sent and hand it to the workers, resolved against
 * snap (records are counted unknown while snap is NULL). now_s: seconds,
 * for rate-limited logging.
 */
void sl_sync_run(struct sl_sync *s, const struct sl_snapshot *snap, double now_s);

/* The counters (NULL when s is NULL: flow sync off). */
const struct sl_sync_counters *sl_sync_counters(const struct sl_sync *s);

/* Close the socket and free the rings (after the workers returned). NULL: nothing. */
void sl_sync_free(struct sl_sync *s);

#endif /* SL_SYNC_H */
