/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_capture.h: live capture of a running sluiced with dpdk-dumpcap (or
 * dpdk-pdump), through DPDK's pdump library.
 *
 * DESIGN: sl_capture_init() only registers pdump's handler on the EAL
 * multi-process channel. A capture tool, started as a DPDK secondary
 * process with sluiced's --file-prefix, asks the control thread's
 * multi-process handler to add an RX and a TX callback on the port's queues
 * (with its BPF filter); the callbacks copy what matches into the tool's
 * ring, and they are removed when it stops. With no capture running no
 * callback is installed: the workers' rte_eth_rx_burst/rte_eth_tx_burst
 * test an empty callback list, as they do without pdump, so an idle capture
 * costs nothing per packet.
 *
 * The multi-process channel needs shared runtime files: sluiced must run
 * with a --file-prefix and without --in-memory and --no-shconf (and on
 * hugepages, for the tool to map sluiced's memory). Without them capture is
 * unavailable and sluiced says so once at start; it runs on regardless.
 */
#ifndef SL_CAPTURE_H
#define SL_CAPTURE_H

#include "sl_error.h"

/*
 * Register the capture handler (after rte_eal_init). Returns 0 when a
 * capture tool can attach; else a negative value with *err saying why
 * (CaptureUnavailable: EAL runs without hugepages or without its
 * multi-process channel; CaptureInitFailed: pdump's statistics zone could
 * not be reserved).
 */
int sl_capture_init(struct sl_error *err);

/* Remove the handler (before rte_eal_cleanup); a no-op when init failed. */
void sl_capture_fini(void);

#endif /* SL_CAPTURE_H */
