/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_capture.h: live capture of a running sluiced with dpdk-dumpcap (or
 * dpdk-pdump): the server side of DPDK's packet capture protocol.
 *
 * DESIGN: a capture tool, started as a DPDK secondary process with
 * sluiced's --file-prefix, creates a ring and an mbuf pool in the shared
 * memory and asks, over the EAL multi-process channel ("mp_pdump"), for RX
 * and TX callbacks on a port's queues, with a BPF filter. The callbacks copy
 * what passes the filter into the tool's pool and ring; when the tool stops,
 * it asks for them to be removed and then frees its ring and pool.
 *
 * With no capture running no callback is installed: the workers'
 * rte_eth_rx_burst/rte_eth_tx_burst test an empty callback list, as they do
 * without capture, so an idle capture costs nothing per packet.
 *
 * DPDK 22.11's pdump library serves the requests too, but answers a removal
 * while a worker may still be inside the callback it removed; the tool then
 * frees the pool under it and the worker faults (upstream fixed this in
 * DPDK 25.11). With DPDK 22.11 sluice therefore serves the same requests
 * itself (the library still provides the shared statistics that the tool
 * reads): each callback marks itself busy while it runs, and a removal is
 * answered only once no callback is busy and, when the workers' RCU state
 * is attached, every worker has passed a quiescent state, so none can
 * still be on its way into a removed callback. With other DPDK versions the
 * library's own server is used.
 *
 * Each process reaches a pool through its own table of mempool operations,
 * at the index the pool's creator registered them at. A static build
 * (-Dstatic_dpdk=true) registers its drivers' operations in link order, not
 * in the order in which a shared tool loads Debian's drivers, so before it
 * taps a queue sluiced makes the tool's index name the operations of the
 * tool's pool (a ring's, found from the ring) in its own table too.
 *
 * The multi-process channel needs shared runtime files and hugepages:
 * sluiced must run with a --file-prefix, without --in-memory, --no-shconf
 * and --no-huge. Without them capture is unavailable and sluiced says so
 * once at start; it runs on regardless.
 */
#ifndef SL_CAPTURE_H
#define SL_CAPTURE_H

#include <rte_rcu_qsbr.h>

#include "sl_error.h"

/*
 * Serve capture requests (after rte_eal_init). Returns 0 when a capture
 * tool can attach; else a negative value with *err saying why
 * (CaptureUnavailable: EAL runs without hugepages or without its
 * multi-process channel; CaptureInitFailed: the capture statistics or the
 * request handler could not be set up).
 */
int sl_capture_init(struct sl_error *err);

/*
 * The workers' RCU state (sl_publish.h): a removal then also waits for
 * every online worker to pass a quiescent state. NULL detaches it (before
 * it is freed).
 */
void sl_capture_attach_workers(struct rte_rcu_qsbr *qsv);

/* Stop serving requests (after the workers stopped); a no-op when init failed. */
void sl_capture_fini(void);

#endif /* SL_CAPTURE_H */
