/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_parse.h: the packet parser of the packet path.
 *
 * Reads Ethernet, one optional 802.1Q tag, IPv4 (options allowed) or IPv6
 * (hop-by-hop, routing and destination-options extension headers walked, at
 * most SL_PARSE_MAX_EXT_HEADERS), then TCP or UDP. It reads only the first
 * `len` bytes of `frame` (the contiguous first segment of an mbuf) and never
 * writes. Everything it cannot vouch for is refused with a drop reason.
 */
#ifndef SL_PARSE_H
#define SL_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "sl_drop.h"
#include "sl_types.h"

#define SL_PARSE_MAX_EXT_HEADERS 4

#define SL_ETHERTYPE_IPV4 0x0800
#define SL_ETHERTYPE_IPV6 0x86DD
#define SL_ETHERTYPE_VLAN 0x8100
#define SL_ETHERTYPE_QINQ 0x88A8

/* TCP flag bits as in the header's flags byte. */
#define SL_TCP_FIN 0x01
#define SL_TCP_SYN 0x02
#define SL_TCP_RST 0x04
#define SL_TCP_ACK 0x10

/* What the parser learned about one frame. Offsets are from the frame start. */
struct sl_pkt {
	struct sl_ip_addr src;     /* IPv4 as IPv4-mapped */
	struct sl_ip_addr dst;
	uint16_t sport_be;         /* network order */
	uint16_t dport_be;
	uint16_t l3_off;           /* 14, or 18 with a VLAN tag */
	uint16_t l4_off;           /* first byte of the TCP/UDP header */
	uint16_t l3_len;           /* whole IP packet: IPv4 total length, or 40 + IPv6 payload length */
	uint16_t l4_len;           /* l3_off + l3_len - l4_off: TCP/UDP header + payload */
	uint16_t vlan_tci;         /* host order; valid when has_vlan */
	uint8_t has_vlan;
	uint8_t family;            /* SL_AF_IPV4 or SL_AF_IPV6 */
	uint8_t l4_proto;          /* SL_PROTO_TCP or SL_PROTO_UDP */
	uint8_t tcp_flags;         /* 0 for UDP */
	uint8_t frag;              /* enum sl_frag: set with SL_DROP_IPV4/IPV6_FRAGMENT */
	uint32_t frag_id;          /* IPv4 identification / IPv6 fragment identification */
};

/* A fragment's place in its datagram. */
enum sl_frag {
	SL_FRAG_NONE = 0,
	SL_FRAG_FIRST = 1,  /* offset 0, more to come: the L4 ports are in it (when 4 bytes are) */
	SL_FRAG_LATER = 2,  /* offset > 0: no L4 header */
};

/*
 * Parse one frame. Returns SL_DROP_NONE and fills *p, or the reason the frame
 * cannot take the fast path (then *p is partly filled and must not be used),
 * with three exceptions the worker's slow path handles:
 *  - SL_DROP_IPV4_FRAGMENT / SL_DROP_IPV6_FRAGMENT: a well-formed fragment;
 *    addresses, family, l3_off/l3_len, l4_off (the fragment's payload),
 *    l4_proto, frag and frag_id are set; sport/dport too for a first
 *    fragment that holds them (else 0).
 *  - SL_DROP_L4_UNSUPPORTED: a well-formed IP packet of another protocol
 *    (ICMP...); addresses, family, l3_off/l3_len, l4_off/l4_len and
 *    l4_proto are set, the ports are 0.
 */
enum sl_drop_reason sl_parse(const uint8_t *frame, uint32_t len, struct sl_pkt *p);

#endif /* SL_PARSE_H */
