/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_port_info.h: what compilation needs to know of each port.
 *
 * The dataplane fills one struct sl_port_info a port from its port profile
 * (sl_pmd_config) and, when the port resolves neighbours by ARP/ND, sets the
 * resolve hook to the control thread's neighbour table; control/sl_compile
 * reads it to build each backend's header prefixes. It lives in the core so
 * that both sides, and the unit tests, share it without DPDK.
 */
#ifndef SL_PORT_INFO_H
#define SL_PORT_INFO_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_types.h"

/* A static neighbour from the port profile: IP -> MAC on one port (wins over ARP/ND). */
struct sl_neighbour {
	struct sl_ip_addr addr;
	struct sl_mac mac;
};

struct sl_port_info {
	struct sl_mac mac;
	struct sl_ip_addr ipv4;   /* valid when has_ipv4 */
	struct sl_ip_addr ipv6;   /* valid when has_ipv6 */
	uint8_t has_ipv4;
	uint8_t has_ipv6;
	uint16_t mtu;
	const struct sl_neighbour *neighbours;
	uint32_t n_neighbours;
	/* next hop for addresses with no neighbour entry; valid when has_gateway_* */
	struct sl_ip_addr gateway_v4;
	struct sl_ip_addr gateway_v6;
	uint8_t has_gateway_v4;
	uint8_t has_gateway_v6;
	uint8_t ipv4_prefix;      /* on-link prefix length of ipv4; 0 = not given */
	uint8_t ipv6_prefix;
	uint16_t vlan_tci;        /* 802.1Q tag of the port's segment; 0 = untagged */
	/*
	 * Dynamic neighbours (ARP/ND): when set, addresses with no static
	 * entry are looked up here; an unknown one is asked for, on the
	 * 802.1Q segment vlan_tci (0: untagged). Returns true with *mac set
	 * when the MAC of a on port is known; false while it is not (it is
	 * then asked for, and the snapshot is compiled again once it is
	 * learned). Called on the control thread only.
	 */
	bool (*resolve)(void *ctx, uint32_t port, const struct sl_ip_addr *a, uint16_t vlan_tci,
			struct sl_mac *mac);
	void *resolve_ctx;
	/*
	 * Advances whenever an answer of resolve may have changed (a MAC
	 * learned, changed or lost). An incremental compilation
	 * (sl_compile_delta()) reuses its predecessor's header prefixes only
	 * while every port's description, this included, is what it was;
	 * leave it 0 when resolve is NULL.
	 */
	uint64_t resolve_epoch;
	uint32_t index;           /* this port's index (for resolve) */
};

#endif /* SL_PORT_INFO_H */
