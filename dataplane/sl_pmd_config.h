/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_pmd_config.h: port profiles (the JSON files in pmd-config/).
 *
 * A profile lists the ports sluice drives: which device (a PCI address or
 * another name EAL probed, or a vdev such as "net_pcap0" with its devargs),
 * queues, descriptors, RSS, MTU, and the addresses sluice owns on the port
 * with its static neighbours. "${NAME}" in string values is replaced by the
 * environment variable NAME (an unset variable is an error), so one profile
 * serves many test runs. Keys starting with "_" and "description" are
 * comments. Read once at start-up by the main thread.
 */
#ifndef SL_PMD_CONFIG_H
#define SL_PMD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "sl_error.h"
#include "sl_port_info.h"
#include "sl_snapshot.h"

#define SL_PORT_NAME_MAX 64
#define SL_DEVARGS_MAX 1024
#define SL_RSS_KEY_MAX 52
#define SL_MAX_NEIGHBOURS 1024
#define SL_IFNAME_MAX 16 /* IFNAMSIZ */

/*
 * The mbuf data room (bytes a frame may have in one mbuf, the headroom
 * apart): mbufSize of the profile, RTE_MBUF_DEFAULT_DATAROOM unless set.
 */
#define SL_MBUF_SIZE_DEFAULT 2048
#define SL_MBUF_SIZE_MAX 16384
/*
 * A port's largest frame is its MTU (the largest IP packet) plus this:
 * Ethernet 14, one 802.1Q tag 4, and the FCS 4 a device may leave on it.
 */
#define SL_FRAME_OVERHEAD 22

/* How a port carries frames longer than one mbuf holds ("scatter" in a profile). */
enum sl_scatter {
	SL_SCATTER_AUTO = 0, /* absent: RX scatter when the MTU's frames need it */
	SL_SCATTER_OFF,      /* false: never; the profile's mbufSize must hold a frame */
	SL_SCATTER_ON,       /* true: RX scatter whatever the MTU */
};

struct sl_port_cfg {
	char name[SL_PORT_NAME_MAX];      /* label used in logs and stats */
	char device[SL_PORT_NAME_MAX];    /* "net_pcap0", "0000:3b:00.0", ... */
	char devargs[SL_DEVARGS_MAX];     /* vdev arguments ("rx_pcap=...,tx_pcap=...") */
	uint16_t rx_queues;               /* 0 = one per worker lcore serving the port */
	uint16_t rx_desc;
	uint16_t tx_desc;
	uint16_t mtu;                     /* 0 = leave the device default */
	uint8_t scatter;                  /* enum sl_scatter */
	uint32_t extra_mbufs;             /* mbufs the device holds beyond its rings
					   * (net_pcap infinite_rx keeps the whole file) */
	uint64_t rss_hf;                  /* RTE_ETH_RSS_* bits; 0 = no RSS */
	uint8_t rss_key[SL_RSS_KEY_MAX];
	uint8_t rss_key_len;              /* 0 = the driver's key */
	uint8_t promiscuous;
	uint8_t has_mac;                  /* set the port MAC to info.mac */
	struct sl_port_info info;         /* addresses, neighbours, gateway (for compile) */
	struct sl_neighbour *neighbours;  /* owned; info.neighbours points here */
	char tap_name[SL_PORT_NAME_MAX];  /* exceptionPath.tap: kernel interface; "" = none */
	uint8_t neighbour_discovery;      /* resolve neighbours by ARP/ND and announce frontends
					   * (default); false: static neighbours only, nothing sent
					   * unasked (a replayed pcap, a benchmark port) */
	uint8_t af_xdp;                   /* a net_af_xdp port: sluice's XDP program steers
					   * the interface's traffic (sl_xdp.h) */
	char xdp_iface[SL_IFNAME_MAX];    /* af_xdp: the kernel interface (devargs iface=) */
};

struct sl_pmd_config {
	struct sl_port_cfg *ports;
	uint32_t n_ports;
	uint32_t mbuf_size; /* data room of each mbuf (mbufSize), headroom apart */
};

/* The largest frame port c receives: its MTU (1500 when the device's) and SL_FRAME_OVERHEAD. */
static inline uint32_t
sl_port_max_frame(const struct sl_port_cfg *c)
{
	return (uint32_t)(c->mtu ? c->mtu : 1500) + SL_FRAME_OVERHEAD;
}

/*
 * Read a profile. Returns 0, or -EINVAL/-ENOMEM/-ENOENT with *err filled
 * (file, JSON path, code, message).
 */
int sl_pmd_config_load(const char *path, struct sl_pmd_config *out, struct sl_error *err);

/*
 * Parse a profile's text (size bytes; name stands for the file in errors):
 * what sl_pmd_config_load() does once the file is read. Same returns.
 */
int sl_pmd_config_parse(const char *text, size_t size, const char *name, struct sl_pmd_config *out,
			struct sl_error *err);

void sl_pmd_config_free(struct sl_pmd_config *c);

#endif /* SL_PMD_CONFIG_H */
