/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_port.c: port probing and set-up from a profile (see sl_port.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "sl_logging.h"
#include "sl_port.h"

RTE_LOG_REGISTER(sl_logtype_port, user.sluice.port, INFO);
#define PORT_LOG(level, ...) SL_LOG(level, sl_logtype_port, "port", __VA_ARGS__)

static int
port_fail(struct sl_error *err, const struct sl_port_cfg *cfg, int rc, const char *fmt,
	  const char *detail)
{
	sl_error_set(err, "PortSetupFailed", cfg->name, "", fmt, detail, strerror(-rc));
	return rc;
}

int
sl_port_probe(const struct sl_port_cfg *cfg, uint16_t *port_id, struct sl_error *err)
{
	char devargs[SL_PORT_NAME_MAX + SL_DEVARGS_MAX + 2];
	int rc;

	if (rte_eth_dev_get_port_by_name(cfg->device, port_id) == 0)
		return 0;
	if (cfg->devargs[0] != '\0')
		snprintf(devargs, sizeof(devargs), "%s,%s", cfg->device, cfg->devargs);
	else
		snprintf(devargs, sizeof(devargs), "%s", cfg->device);
	rc = rte_dev_probe(devargs);
	if (rc != 0)
		return port_fail(err, cfg, rc < 0 ? rc : -rc, "cannot probe device %s: %s", devargs);
	rc = rte_eth_dev_get_port_by_name(cfg->device, port_id);
	if (rc != 0)
		return port_fail(err, cfg, -ENODEV, "device %s probed but no ethdev: %s", cfg->device);
	return 0;
}

/*
 * net_pcap chains a frame longer than one mbuf over several and sends
 * chains (rte_pktmbuf_read), but offers neither offload by name.
 */
static bool
port_chains_anyway(const struct rte_eth_dev_info *info)
{
	return info->driver_name != NULL && strcmp(info->driver_name, "net_pcap") == 0;
}

/*
 * Frames longer than one mbuf (the port's MTU past the mbuf size, or
 * scatter true): RX scatter and multi-segment TX, where the device offers
 * them; a device that offers neither is refused, naming the mbuf size that
 * would do. Multi-segment TX is asked for wherever offered: a chain that
 * came in on one port may leave by another.
 */
static int
port_segments(const struct sl_port_cfg *cfg, const struct rte_eth_dev_info *info,
	      uint32_t mbuf_size, struct rte_eth_conf *conf, struct sl_error *err)
{
	uint32_t frame = sl_port_max_frame(cfg);
	bool chains = cfg->scatter == SL_SCATTER_ON ||
		      (cfg->scatter == SL_SCATTER_AUTO && frame > mbuf_size);
	const char *cannot = NULL;
	char d[320];

	if (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (!chains)
		return 0;
	if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	else if (!port_chains_anyway(info))
		cannot = "scatter a frame over several";
	if (cannot == NULL && !(conf->txmode.offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) &&
	    !port_chains_anyway(info))
		cannot = "send a frame of several";
	if (cannot != NULL) {
		snprintf(d, sizeof(d), "%s: MTU %u makes frames of up to %u bytes, one mbuf holds "
			 "%u (mbufSize) and the device (%s) cannot %s: set mbufSize to at least %u",
			 cfg->device, cfg->mtu ? cfg->mtu : 1500, frame, mbuf_size, info->driver_name,
			 cannot, frame);
		return port_fail(err, cfg, -EINVAL, "%s%.0s", d);
	}
	PORT_LOG(INFO, "%s: frames of up to %u bytes in mbufs of %u: RX scatter%s\n", cfg->name,
		 frame, mbuf_size, port_chains_anyway(info) ? " (the PMD's own)" : "");
	return 0;
}

uint16_t
sl_port_max_queues(uint16_t port_id)
{
	struct rte_eth_dev_info info;

	if (rte_eth_dev_info_get(port_id, &info) != 0)
		return 0;
	return RTE_MIN(info.max_rx_queues, info.max_tx_queues);
}

uint16_t
sl_port_max_tx_queues(uint16_t port_id)
{
	struct rte_eth_dev_info info;

	if (rte_eth_dev_info_get(port_id, &info) != 0)
		return 1;
	return info.max_tx_queues;
}

int
sl_port_start(uint16_t port_id, struct sl_port_cfg *cfg, uint16_t n_queues,
	      uint16_t n_tx_queues, struct rte_mempool *mp, struct sl_error *err)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t rxd = cfg->rx_desc, txd = cfg->tx_desc;
	int socket = rte_eth_dev_socket_id(port_id);
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0)
		return port_fail(err, cfg, rc, "%s: device info: %s", cfg->device);
	if (n_tx_queues < n_queues)
		n_tx_queues = n_queues;
	if (n_queues > info.max_rx_queues || n_tx_queues > info.max_tx_queues) {
		char d[160];
		snprintf(d, sizeof(d), "%s offers %u RX / %u TX queues, %u / %u needed", cfg->device,
			 info.max_rx_queues, info.max_tx_queues, n_queues, n_tx_queues);
		return port_fail(err, cfg, -EINVAL, "%s: %s", d);
	}
	if (n_queues > 1 && cfg->rss_hf != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = cfg->rss_hf & info.flow_type_rss_offloads;
		if (cfg->rss_key_len != 0) {
			conf.rx_adv_conf.rss_conf.rss_key = cfg->rss_key;
			conf.rx_adv_conf.rss_conf.rss_key_len = cfg->rss_key_len;
		}
		if (conf.rx_adv_conf.rss_conf.rss_hf != cfg->rss_hf)
			PORT_LOG(WARNING, "%s: RSS fields 0x%" PRIx64 " not all offered (0x%" PRIx64
				 ")\n", cfg->name, cfg->rss_hf, info.flow_type_rss_offloads);
		if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_RSS_HASH)
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_RSS_HASH;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	if (cfg->mtu != 0)
		conf.rxmode.mtu = cfg->mtu;
	rc = port_segments(cfg, &info, rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM,
			   &conf, err);
	if (rc != 0)
		return rc;

	rc = rte_eth_dev_configure(port_id, n_queues, n_tx_queues, &conf);
	if (rc != 0)
		return port_fail(err, cfg, rc, "%s: configure: %s", cfg->device);
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd);
	if (rc != 0)
		return port_fail(err, cfg, rc, "%s: descriptors: %s", cfg->device);
	for (uint16_t q = 0; q < n_queues; q++) {
		rc = rte_eth_rx_queue_setup(port_id, q, rxd, socket, NULL, mp);
		if (rc != 0)
			return port_fail(err, cfg, rc, "%s: RX queue setup: %s", cfg->device);
	}
	for (uint16_t q = 0; q < n_tx_queues; q++) {
		struct rte_eth_txconf txc = info.default_txconf;
		txc.offloads = conf.txmode.offloads;
		rc = rte_eth_tx_queue_setup(port_id, q, txd, socket, &txc);
		if (rc != 0)
			return port_fail(err, cfg, rc, "%s: TX queue setup: %s", cfg->device);
	}
	if (cfg->has_mac) {
		struct rte_ether_addr a;
		memcpy(a.addr_bytes, cfg->info.mac.bytes, 6);
		rc = rte_eth_dev_default_mac_addr_set(port_id, &a);
		if (rc != 0 && rc != -ENOTSUP)
			return port_fail(err, cfg, rc, "%s: set MAC: %s", cfg->device);
	} else {
		struct rte_ether_addr a;
		rc = rte_eth_macaddr_get(port_id, &a);
		if (rc != 0)
			return port_fail(err, cfg, rc, "%s: read MAC: %s", cfg->device);
		memcpy(cfg->info.mac.bytes, a.addr_bytes, 6);
	}
	rc = rte_eth_dev_start(port_id);
	if (rc != 0)
		return port_fail(err, cfg, rc, "%s: start: %s", cfg->device);
	if (cfg->promiscuous) {
		rc = rte_eth_promiscuous_enable(port_id);
		if (rc != 0 && rc != -ENOTSUP)
			return port_fail(err, cfg, rc, "%s: promiscuous: %s", cfg->device);
	}
	if (cfg->mtu == 0) {
		uint16_t mtu;
		if (rte_eth_dev_get_mtu(port_id, &mtu) == 0 && mtu >= 576)
			cfg->info.mtu = mtu;
	}
	char mac[24];
	PORT_LOG(INFO, "%s: port %u (%s) up, %u RX / %u TX queue(s), %u/%u descriptors, MTU %u, "
		 "MAC %s\n", cfg->name, port_id, info.driver_name, n_queues, n_tx_queues, rxd, txd,
		 cfg->info.mtu,
		 sl_mac_format(&cfg->info.mac, mac, sizeof(mac)));
	return 0;
}

void
sl_port_close(uint16_t port_id)
{
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
}
