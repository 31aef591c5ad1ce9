/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_port.h: bring ports from a profile up and down (main thread, before
 * the workers launch and after they stop).
 */
#ifndef SL_PORT_H
#define SL_PORT_H

#include <stdint.h>

#include <rte_mempool.h>

#include "sl_error.h"
#include "sl_pmd_config.h"

/*
 * Find or create the device of cfg: a name starting with "net_" is a vdev,
 * created with its devargs; anything else must have been probed by EAL (a PCI
 * address on the EAL allow list) or is probed now. Returns 0 and *port_id, or
 * a negative errno with *err filled.
 */
int sl_port_probe(const struct sl_port_cfg *cfg, uint16_t *port_id, struct sl_error *err);

/*
 * Configure n_queues RX queues (RSS across them when n_queues > 1) and
 * n_tx_queues TX queues (at least n_queues), MTU, MAC, promiscuous mode,
 * then start the port. When cfg->has_mac is 0 the
 * device's MAC is written to cfg->info.mac. Returns 0 or a negative errno
 * with *err filled.
 */
int sl_port_start(uint16_t port_id, struct sl_port_cfg *cfg, uint16_t n_queues,
		  uint16_t n_tx_queues, struct rte_mempool *mp, struct sl_error *err);

/* Largest number of queue pairs the device offers. */
uint16_t sl_port_max_queues(uint16_t port_id);

/* Largest number of TX queues the device offers. */
uint16_t sl_port_max_tx_queues(uint16_t port_id);

/* Stop and close (flushes file-backed vdevs such as net_pcap). */
void sl_port_close(uint16_t port_id);

#endif /* SL_PORT_H */
