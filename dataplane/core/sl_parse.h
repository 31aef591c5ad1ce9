/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_parse.h: the packet parser of the packet path.
 *
 * Reads Ethernet, one optional 802.1Q tag, IPv4 (options allowed) or IPv6
 * (hop-by-hop, routing and destination-options extension headers walked, at
 * most SL_PARSE_MAX_EXT_HEADERS), then TCP or UDP. It reads only the first
 * `seg` bytes of `frame` (the contiguous first segment of an mbuf) and never
 * writes; the lengths in the headers are checked against the whole frame
 * (`len` bytes: the mbuf's pkt_len, which is more than seg when the frame
 * is a chain of segments, a jumbo frame in mbufs smaller than it). Every
 * header the packet path reads or rewrites must lie in the first segment:
 * a frame whose headers run past it is refused as SL_DROP_SEGMENTED.
 * Everything it cannot vouch for is refused with a drop reason.
 */
#ifndef SL_PARSE_H
#define SL_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* Branch hints (the header is included where DPDK's are not). */
#define SL_LIKELY(x) __builtin_expect(!!(x), 1)
#define SL_UNLIKELY(x) __builtin_expect(!!(x), 0)


#define SL_ETH_HLEN 14
#define SL_VLAN_HLEN 4
#define SL_IPV4_MIN_HLEN 20
#define SL_IPV6_HLEN 40
#define SL_TCP_MIN_HLEN 20
#define SL_UDP_HLEN 8

#define SL_IPV4_FRAG_MASK 0x3fff

_Static_assert(offsetof(struct sl_pkt, dport_be) == offsetof(struct sl_pkt, sport_be) + 2,
	       "the ports are stored together"); /* MF flag and fragment offset */

/* IPv6 next-header values the walk knows. */
#define SL_IPV6_NH_HOPOPTS 0
#define SL_IPV6_NH_ROUTING 43
#define SL_IPV6_NH_FRAGMENT 44
#define SL_IPV6_NH_DSTOPTS 60

_Static_assert(offsetof(struct sl_pkt, dport_be) == offsetof(struct sl_pkt, sport_be) + 2,
	       "the ports are stored together");

/* The IPv6 extension headers walked (all share the next-header, length-in-8-octets layout). */
static inline int
sl_ipv6_is_walked_ext(uint8_t nh)
{
	return nh == SL_IPV6_NH_HOPOPTS || nh == SL_IPV6_NH_ROUTING ||
	       nh == SL_IPV6_NH_DSTOPTS;
}

/*
 * Walk IPv6 extension headers starting right after the fixed header.
 * *off (from the IPv6 header) and *nh are advanced past them; end is the
 * end of the payload (40 + payload length), itself within the frame; only
 * the first avail bytes from ip6 may be read (the rest of the first
 * segment): a header within end but past avail is SL_DROP_SEGMENTED.
 */
enum sl_drop_reason sl_parse_ipv6_ext(const uint8_t *ip6, uint32_t end, uint32_t avail,
				      uint32_t *off, uint8_t *nh);

/*
 * A header that ends at byte `end` of the frame does not fit the first
 * segment: reason when it does not fit the frame either (the frame is
 * short), else SL_DROP_SEGMENTED (the frame is a chain whose first segment
 * ends inside the headers).
 */
static inline enum sl_drop_reason
sl_parse_short(uint32_t end, uint32_t len, enum sl_drop_reason reason)
{
	return end > len ? reason : SL_DROP_SEGMENTED;
}

/*
 * Parse frame (len bytes, the first seg of them contiguous at frame; seg <=
 * len) into *p. Straight-line code: Ethernet, at most one
 * 802.1Q tag, IPv4 or IPv6, then TCP or UDP. The only loop is the IPv6
 * extension-header walk, bounded by SL_PARSE_MAX_EXT_HEADERS. Every read is
 * preceded by a check that it lies within the first `seg` bytes; multi-byte
 * fields are read byte by byte or with memcpy, so any alignment of the
 * frame is fine. Lengths are carried in uint32_t so that no sum of header
 * fields can wrap. Always inline: it is most of the packet path's first
 * stage, and a call costs 10 of its 117 instructions (callgrind).
 */
static inline __attribute__((always_inline)) enum sl_drop_reason
sl_parse_seg(const uint8_t *frame, uint32_t seg, uint32_t len, struct sl_pkt *p)
{
	const uint8_t *l3, *l4;
	uint32_t l3_off = SL_ETH_HLEN;
	uint32_t l3_room, l3_seg, l3_len, l4_off, l4_len;
	uint32_t etype;
	uint8_t proto;
	uint8_t frag = SL_FRAG_NONE;
	uint32_t frag_id = 0;

	if (SL_UNLIKELY(seg < SL_ETH_HLEN))
		return sl_parse_short(SL_ETH_HLEN, len, SL_DROP_L2_TRUNCATED);
	etype = sl_load_be16(frame + 12);
	p->has_vlan = 0;
	p->vlan_tci = 0;
	if (etype == SL_ETHERTYPE_VLAN) {
		if (SL_UNLIKELY(seg < SL_ETH_HLEN + SL_VLAN_HLEN))
			return sl_parse_short(SL_ETH_HLEN + SL_VLAN_HLEN, len,
					      SL_DROP_L2_TRUNCATED);
		p->has_vlan = 1;
		p->vlan_tci = (uint16_t)sl_load_be16(frame + 14);
		etype = sl_load_be16(frame + 16);
		l3_off += SL_VLAN_HLEN;
		if (SL_UNLIKELY(etype == SL_ETHERTYPE_VLAN || etype == SL_ETHERTYPE_QINQ))
			return SL_DROP_VLAN_STACKED;
	} else if (SL_UNLIKELY(etype == SL_ETHERTYPE_QINQ)) {
		return SL_DROP_VLAN_STACKED;
	}

	l3 = frame + l3_off;
	l3_room = len - l3_off; /* the lengths in the headers are checked against this */
	l3_seg = seg - l3_off;  /* the headers must lie within this */
	if (SL_LIKELY(etype == SL_ETHERTYPE_IPV4)) {
		uint32_t ihl;

		if (SL_UNLIKELY(l3_seg < SL_IPV4_MIN_HLEN))
			return sl_parse_short(SL_IPV4_MIN_HLEN, l3_room, SL_DROP_IPV4_TRUNCATED);
		if (SL_UNLIKELY((l3[0] >> 4) != 4))
			return SL_DROP_IPV4_BAD_VERSION;
		ihl = (uint32_t)(l3[0] & 0x0f) * 4;
		if (SL_UNLIKELY(ihl < SL_IPV4_MIN_HLEN || ihl > l3_seg))
			return ihl < SL_IPV4_MIN_HLEN ? SL_DROP_IPV4_BAD_IHL
						      : sl_parse_short(ihl, l3_room, SL_DROP_IPV4_BAD_IHL);
		l3_len = sl_load_be16(l3 + 2);
		if (SL_UNLIKELY(l3_len < ihl || l3_len > l3_room))
			return SL_DROP_IPV4_BAD_LENGTH;
		proto = l3[9];
		if (SL_UNLIKELY(sl_load_be16(l3 + 6) & SL_IPV4_FRAG_MASK)) {
			frag = (sl_load_be16(l3 + 6) & 0x1fff) ? SL_FRAG_LATER : SL_FRAG_FIRST;
			frag_id = sl_load_be16(l3 + 4);
		}
		uint32_t a;
		memcpy(&a, l3 + 12, 4);
		sl_ip_addr_from_v4(&p->src, a);
		memcpy(&a, l3 + 16, 4);
		sl_ip_addr_from_v4(&p->dst, a);
		p->family = SL_AF_IPV4;
		l4_off = l3_off + ihl;
	} else if (SL_LIKELY(etype == SL_ETHERTYPE_IPV6)) {
		uint32_t ext_off = SL_IPV6_HLEN;
		enum sl_drop_reason r;

		if (SL_UNLIKELY(l3_seg < SL_IPV6_HLEN))
			return sl_parse_short(SL_IPV6_HLEN, l3_room, SL_DROP_IPV6_TRUNCATED);
		if (SL_UNLIKELY((l3[0] >> 4) != 6))
			return SL_DROP_IPV6_BAD_VERSION;
		l3_len = SL_IPV6_HLEN + sl_load_be16(l3 + 4);
		/* The second test keeps l3_len within struct sl_pkt's 16 bits. */
		if (SL_UNLIKELY(l3_len > l3_room || l3_len > UINT16_MAX))
			return SL_DROP_IPV6_BAD_LENGTH;
		proto = l3[6];
		if (SL_UNLIKELY(sl_ipv6_is_walked_ext(proto) || proto == SL_IPV6_NH_FRAGMENT)) {
			r = sl_parse_ipv6_ext(l3, l3_len, l3_seg, &ext_off, &proto);
			if (r != SL_DROP_NONE)
				return r;
			if (proto == SL_IPV6_NH_FRAGMENT) {
				/* 8 bytes: next header, reserved, offset+M, identification */
				if (SL_UNLIKELY(ext_off + 8 > l3_len))
					return SL_DROP_IPV6_BAD_EXT_HEADER;
				if (SL_UNLIKELY(ext_off + 8 > l3_seg))
					return SL_DROP_SEGMENTED;
				uint32_t offm = sl_load_be16(l3 + ext_off + 2);
				proto = l3[ext_off];
				frag_id = (uint32_t)sl_load_be16(l3 + ext_off + 4) << 16 |
					  sl_load_be16(l3 + ext_off + 6);
				ext_off += 8;
				/* An atomic fragment (offset 0, M clear; RFC 6946) is a whole packet. */
				if ((offm & 0xfff9) != 0)
					frag = (offm & 0xfff8) ? SL_FRAG_LATER : SL_FRAG_FIRST;
				/* No extension header may follow the fragment header here. */
				if (SL_UNLIKELY(sl_ipv6_is_walked_ext(proto) ||
					     proto == SL_IPV6_NH_FRAGMENT))
					return SL_DROP_IPV6_BAD_EXT_HEADER;
			}
		}
		memcpy(p->src.bytes, l3 + 8, 16);
		memcpy(p->dst.bytes, l3 + 24, 16);
		/*
		 * IPv4-mapped addresses never appear on the wire (RFC 4291
		 * 2.5.5.2; Linux drops them too). sluice holds IPv4 addresses in
		 * that form, so such a packet would pass for IPv4 in every lookup.
		 */
		if (SL_UNLIKELY(sl_ip_addr_is_v4(&p->src) || sl_ip_addr_is_v4(&p->dst)))
			return SL_DROP_IPV6_MAPPED_ADDRESS;
		p->family = SL_AF_IPV6;
		l4_off = l3_off + ext_off;
	} else {
		return SL_DROP_NOT_IP;
	}

	l4_len = l3_off + l3_len - l4_off;
	l4 = frame + l4_off;
	/* The layout, for every outcome from here on (the slow path reads it too). */
	memset(&p->sport_be, 0, 4);
	p->tcp_flags = 0;
	p->l4_proto = proto;
	p->frag = frag;
	p->frag_id = frag_id;
	p->l3_off = (uint16_t)l3_off;
	p->l4_off = (uint16_t)l4_off;
	p->l3_len = (uint16_t)l3_len;
	p->l4_len = (uint16_t)l4_len;
	if (SL_UNLIKELY(frag != SL_FRAG_NONE)) {
		if (frag == SL_FRAG_FIRST && l4_len >= 4 &&
		    (proto == SL_PROTO_TCP || proto == SL_PROTO_UDP)) {
			if (SL_UNLIKELY(l4_off + 4 > seg))
				return SL_DROP_SEGMENTED;
			memcpy(&p->sport_be, l4, 2);
			memcpy(&p->dport_be, l4 + 2, 2);
		}
		return p->family == SL_AF_IPV4 ? SL_DROP_IPV4_FRAGMENT : SL_DROP_IPV6_FRAGMENT;
	}
	if (SL_LIKELY(proto == SL_PROTO_TCP)) {
		uint32_t doff;

		if (SL_UNLIKELY(l4_len < SL_TCP_MIN_HLEN))
			return SL_DROP_L4_TRUNCATED;
		if (SL_UNLIKELY(l4_off + SL_TCP_MIN_HLEN > seg))
			return SL_DROP_SEGMENTED;
		doff = (uint32_t)(l4[12] >> 4) * 4;
		if (SL_UNLIKELY(doff < SL_TCP_MIN_HLEN || doff > l4_len))
			return SL_DROP_TCP_BAD_OFFSET;
		/* the options too: the resets and ICMP errors quote the whole header */
		if (SL_UNLIKELY(l4_off + doff > seg))
			return SL_DROP_SEGMENTED;
		p->tcp_flags = l4[13];
	} else if (SL_LIKELY(proto == SL_PROTO_UDP)) {
		uint32_t ulen;

		if (SL_UNLIKELY(l4_len < SL_UDP_HLEN))
			return SL_DROP_L4_TRUNCATED;
		if (SL_UNLIKELY(l4_off + SL_UDP_HLEN > seg))
			return SL_DROP_SEGMENTED;
		ulen = sl_load_be16(l4 + 4);
		if (SL_UNLIKELY(ulen < SL_UDP_HLEN || ulen > l4_len))
			return SL_DROP_UDP_BAD_LENGTH;
	} else {
		return SL_DROP_L4_UNSUPPORTED;
	}
	/* both ports in one store (sport_be and dport_be are adjacent) */
	memcpy(&p->sport_be, l4, 4);
	return SL_DROP_NONE;
}

/* A frame all in one piece (len bytes at frame). */
static inline __attribute__((always_inline)) enum sl_drop_reason
sl_parse(const uint8_t *frame, uint32_t len, struct sl_pkt *p)
{
	return sl_parse_seg(frame, len, len, p);
}

#endif /* SL_PARSE_H */
