/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_drop.c: stable names of the drop reasons, as printed by the stats
 * output (API, telemetry, Prometheus labels). Renaming one breaks dashboards:
 * add, never rename.
 */
#include <stddef.h>

#include "sl_drop.h"

static const char *const sl_drop_names[SL_DROP_MAX] = {
	[SL_DROP_NONE] = "none",
	[SL_DROP_L2_TRUNCATED] = "l2_truncated",
	[SL_DROP_VLAN_STACKED] = "vlan_stacked",
	[SL_DROP_NOT_IP] = "not_ip",
	[SL_DROP_IPV4_TRUNCATED] = "ipv4_truncated",
	[SL_DROP_IPV4_BAD_VERSION] = "ipv4_bad_version",
	[SL_DROP_IPV4_BAD_IHL] = "ipv4_bad_ihl",
	[SL_DROP_IPV4_BAD_LENGTH] = "ipv4_bad_length",
	[SL_DROP_IPV4_FRAGMENT] = "ipv4_fragment",
	[SL_DROP_IPV6_TRUNCATED] = "ipv6_truncated",
	[SL_DROP_IPV6_BAD_VERSION] = "ipv6_bad_version",
	[SL_DROP_IPV6_BAD_LENGTH] = "ipv6_bad_length",
	[SL_DROP_IPV6_BAD_EXT_HEADER] = "ipv6_bad_ext_header",
	[SL_DROP_IPV6_MAPPED_ADDRESS] = "ipv6_mapped_address",
	[SL_DROP_L4_UNSUPPORTED] = "l4_unsupported",
	[SL_DROP_L4_TRUNCATED] = "l4_truncated",
	[SL_DROP_TCP_BAD_OFFSET] = "tcp_bad_offset",
	[SL_DROP_UDP_BAD_LENGTH] = "udp_bad_length",
	[SL_DROP_NO_FRONTEND] = "no_frontend",
	[SL_DROP_NO_BACKEND] = "no_backend",
	[SL_DROP_NO_NEIGHBOUR] = "no_neighbour",
	[SL_DROP_NO_HEADROOM] = "no_headroom",
	[SL_DROP_MTU_EXCEEDED] = "mtu_exceeded",
	[SL_DROP_TX_FULL] = "tx_full",
	[SL_DROP_NO_SNAPSHOT] = "no_snapshot",
	[SL_DROP_IPV6_FRAGMENT] = "ipv6_fragment",
	[SL_DROP_FRAGMENT_NO_RULE] = "fragment_no_rule",
	[SL_DROP_REPLY_NO_FLOW] = "reply_no_flow",
	[SL_DROP_TTL_EXCEEDED] = "ttl_exceeded",
	[SL_DROP_ICMP_NO_FLOW] = "icmp_no_flow",
	[SL_DROP_PUNT_FULL] = "punt_full",
	[SL_DROP_NO_TX_QUEUE] = "no_tx_queue",
	[SL_DROP_NOT_FOR_US] = "not_for_us",
	[SL_DROP_SEGMENTED] = "segmented",
};

const char *
sl_drop_reason_name(enum sl_drop_reason r)
{
	if ((unsigned int)r >= SL_DROP_MAX || sl_drop_names[r] == NULL)
		return "unknown";
	return sl_drop_names[r];
}

const char *
sl_fe_drop_name(enum sl_fe_drop d)
{
	static const enum sl_drop_reason reasons[SL_FE_DROP_OTHER] = {
		[SL_FE_DROP_NO_BACKEND] = SL_DROP_NO_BACKEND,
		[SL_FE_DROP_NO_NEIGHBOUR] = SL_DROP_NO_NEIGHBOUR,
		[SL_FE_DROP_NO_HEADROOM] = SL_DROP_NO_HEADROOM,
		[SL_FE_DROP_MTU_EXCEEDED] = SL_DROP_MTU_EXCEEDED,
		[SL_FE_DROP_TTL_EXCEEDED] = SL_DROP_TTL_EXCEEDED,
		[SL_FE_DROP_NO_TX_QUEUE] = SL_DROP_NO_TX_QUEUE,
	};

	if ((unsigned int)d < SL_FE_DROP_OTHER)
		return sl_drop_reason_name(reasons[d]);
	return d == SL_FE_DROP_OTHER ? "other" : "unknown";
}
