/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_rewrite.h: what the packet path does to a packet once a backend is chosen.
 *
 * Two steps, both on plain bytes so they are tested without DPDK:
 *  1. Floating IP off: sl_dnat() rewrites destination address and port in
 *     place, with incremental IPv4 header and TCP/UDP checksum updates.
 *  2. Every mode: the L2 header is stripped (the worker adjusts the mbuf to
 *     the IP header) and a precomputed header prefix, struct sl_encap, is
 *     copied in front of the IP packet and finished with sl_encap_finish():
 *       DNAT, L2   Ethernet (port MAC -> backend/next-hop MAC)
 *       IPIP       Ethernet + outer IPv4/IPv6 (protocol 4 or 41 by inner family)
 *       GUE        Ethernet + outer IP + UDP (GUE variant 1: the UDP payload
 *                  is the inner IP packet, as Linux fou/gue and katran use)
 *       VXLAN      Ethernet + outer IP + UDP(4789) + VXLAN(VNI) + inner Ethernet
 *                  (port MAC -> backend MAC)
 * The prefix is built once per backend and egress port when a snapshot is
 * compiled (sl_encap_build), so per packet only lengths, the outer IPv4
 * checksum, the UDP source port (flow entropy) and the inner EtherType change.
 */
#ifndef SL_REWRITE_H
#define SL_REWRITE_H

#include <stdint.h>
#include <string.h>

#include "sl_checksum.h"
#include "sl_parse.h"
#include "sl_types.h"

enum sl_delivery {
	SL_DELIVERY_DNAT = 0, /* Floating IP off: destination rewritten to the backend */
	SL_DELIVERY_L2,       /* Floating IP on: destination MAC rewrite only */
	SL_DELIVERY_IPIP,     /* Floating IP on: IP-in-IP to the backend */
	SL_DELIVERY_GUE,      /* Floating IP on: GUE (variant 1) to the backend */
	SL_DELIVERY_VXLAN,    /* Floating IP on: VXLAN with the virtual network's VNI */
	SL_DELIVERY_MAX
};

/* "DNAT", "L2", "IPinIP", "GUE", "VXLAN" */
const char *sl_delivery_name(enum sl_delivery d);
/* Inverse of sl_delivery_name (case-insensitive); -EINVAL when unknown. */
int sl_delivery_parse(const char *name, enum sl_delivery *d);

#define SL_IPPROTO_IPIP 4
#define SL_IPPROTO_IPV6 41
#define SL_UDP_SPORT_BASE 49152
#define SL_UDP_SPORT_RANGE 16384

static inline uint16_t
sl_ethertype_of(int family)
{
	return family == SL_AF_IPV6 ? SL_ETHERTYPE_IPV6 : SL_ETHERTYPE_IPV4;
}

#define SL_GUE_DEFAULT_PORT 6080
#define SL_VXLAN_DEFAULT_PORT 4789
#define SL_ENCAP_BYTES 96 /* Ethernet 14 + 802.1Q 4 + IPv6 40 + UDP 8 + VXLAN 8 + Ethernet 14 = 88 */

/* A precomputed header prefix; see the file comment. */
struct sl_encap {
	uint8_t bytes[SL_ENCAP_BYTES];
	uint8_t len;          /* bytes to prepend */
	uint8_t delivery;     /* enum sl_delivery */
	uint8_t outer_family; /* SL_AF_IPV4/6 for tunnels, SL_AF_NONE for DNAT/L2 */
	uint8_t ip_off;       /* outer IP header offset (14) when tunnelled */
	uint8_t udp_off;      /* UDP header offset for GUE/VXLAN, else 0 */
	uint8_t inner_eth_off;/* VXLAN inner Ethernet header offset, else 0 */
	uint8_t valid;        /* 0: no next-hop MAC known, packets are dropped (SL_DROP_NO_NEIGHBOUR) */
	uint8_t etype_off;    /* 12, or 16 behind an 802.1Q tag: the L2 header is etype_off + 2 bytes */
	/*
	 * Outer IPv4: the one's-complement sum of the header's words with
	 * total length 0 and the protocol for an inner IPv4 [0] or IPv6 [1]
	 * packet (the same two for GUE and VXLAN), in memory order, so a
	 * packet's checksum is that plus its length.
	 */
	uint16_t ip4_sum[2];
};

struct sl_encap_params {
	enum sl_delivery delivery;
	struct sl_mac src_mac;        /* egress port MAC */
	struct sl_mac dst_mac;        /* next hop: the backend, or the tunnel endpoint's next hop */
	struct sl_ip_addr outer_src;  /* tunnels: the egress port's address of the outer family */
	struct sl_ip_addr outer_dst;  /* tunnels: the tunnel endpoint (the backend address) */
	struct sl_mac inner_dst_mac;  /* VXLAN: inner destination MAC (the backend's) */
	uint16_t udp_dport;           /* GUE/VXLAN destination port, host order; 0 = default */
	uint32_t vni;                 /* VXLAN network identifier, < 2^24 */
	uint8_t ttl;                  /* outer TTL / hop limit; 0 = 64 */
	uint16_t vlan_tci;            /* 802.1Q tag of the egress segment; 0 = untagged */
};

/*
 * Build *e from *p. Outer family is that of outer_dst; outer_src must be of
 * the same family. Returns 0, or -EINVAL (unknown delivery, families differ,
 * VNI out of range).
 */
int sl_encap_build(struct sl_encap *e, const struct sl_encap_params *p);

/*
 * Finish the headers of a prefix copied to hdr (e->len bytes, followed by
 * the inner IP packet of inner_len bytes): sets the EtherType of a DNAT or
 * L2 prefix (a tunnel's is the template's), the VXLAN inner EtherType and
 * the IP-in-IP outer protocol by inner_family, outer lengths, the outer
 * IPv4 header checksum, the UDP source port from entropy (49152 + entropy %
 * 16384), and a UDP checksum of 0. Reads nothing of the inner packet, so it
 * may lie in other buffers (a chain of mbuf segments); over IPv6 the caller
 * then sums it for the UDP checksum (sl_encap_needs_udp6_csum()).
 */
static inline void
sl_encap_finish_headers(uint8_t *hdr, const struct sl_encap *e, uint16_t inner_len,
			int inner_family, uint32_t entropy)
{
	uint16_t inner_etype = sl_ethertype_of(inner_family);
	uint32_t total = (uint32_t)e->len + inner_len;
	uint8_t *ip, *udp;
	uint16_t csum;

	if (e->outer_family == SL_AF_NONE) {
		/* DNAT, L2: the Ethernet header is all there is. */
		sl_store_be16(hdr + e->etype_off, inner_etype);
		return;
	}

	/* the outer EtherType is the template's */
	ip = hdr + e->ip_off;
	if (e->outer_family == SL_AF_IPV4) {
		/*
		 * The checksum from the template's precomputed sum and the
		 * length (RFC 1071: the sum is the same in either byte order,
		 * so memory order throughout); nothing is read back from ip.
		 */
		const int v6 = inner_family == SL_AF_IPV6;
		const uint32_t len = total - e->ip_off;
		const uint8_t len_bytes[2] = {(uint8_t)(len >> 8), (uint8_t)len};
		uint16_t len_be;

		memcpy(&len_be, len_bytes, 2);
		uint32_t sum = (uint32_t)e->ip4_sum[v6] + len_be;

		memcpy(ip + 2, &len_be, 2);
		if (e->delivery == SL_DELIVERY_IPIP)
			ip[9] = v6 ? SL_IPPROTO_IPV6 : SL_IPPROTO_IPIP;
		sum = (sum & 0xffff) + (sum >> 16);
		csum = (uint16_t)~sum;
		memcpy(ip + 10, &csum, 2);
	} else {
		sl_store_be16(ip + 4, total - e->ip_off - SL_IPV6_HLEN);
		if (e->delivery == SL_DELIVERY_IPIP)
			ip[6] = inner_family == SL_AF_IPV6 ? SL_IPPROTO_IPV6 : SL_IPPROTO_IPIP;
	}
	if (e->udp_off == 0)
		return;

	udp = hdr + e->udp_off;
	sl_store_be16(udp, SL_UDP_SPORT_BASE + entropy % SL_UDP_SPORT_RANGE);
	sl_store_be16(udp + 4, total - e->udp_off);
	if (e->inner_eth_off)
		sl_store_be16(hdr + e->inner_eth_off + 12, inner_etype);
	udp[6] = 0;
	udp[7] = 0;
}

/*
 * Copy prefix e's e->len bytes to hdr (nothing past them is written). The
 * branches test only the length, which one rule's packets share, so they
 * predict; a general copy's test of the two pointers' alignment would not:
 * the prefixes of a snapshot's backends sit at varied alignments, and the
 * packets of one burst go to many backends. Fixed-size copies compile to
 * unaligned loads and stores, two of them overlapping between powers of two.
 */
static inline void
sl_encap_copy(uint8_t *hdr, const struct sl_encap *e)
{
	const uint8_t *src = e->bytes;
	const unsigned int n = e->len;

	_Static_assert(SL_ENCAP_BYTES <= 96, "sl_encap_copy covers 96 bytes at most");
	if (n > 32) {
		/* 33 to 96 bytes: the first 32 (or 64), then the last 32 */
		if (n > 64) {
			memcpy(hdr, src, 64);
		} else {
			memcpy(hdr, src, 32);
		}
		memcpy(hdr + n - 32, src + n - 32, 32);
	} else if (n > 16) {
		memcpy(hdr, src, 16);
		memcpy(hdr + n - 16, src + n - 16, 16);
	} else if (n >= 8) {
		memcpy(hdr, src, 8);
		memcpy(hdr + n - 8, src + n - 8, 8);
	} else {
		memcpy(hdr, src, n);
	}
}

/* Does prefix e carry a UDP checksum over the whole packet (UDP over IPv6)? */
static inline int
sl_encap_needs_udp6_csum(const struct sl_encap *e)
{
	return e->outer_family == SL_AF_IPV6 && e->udp_off != 0;
}

/*
 * Finish a prefix copied to hdr (e->len bytes, immediately followed by the
 * inner IP packet of inner_len bytes, contiguous in memory): the headers as
 * sl_encap_finish_headers() does, and the UDP checksum (0 over IPv4; full
 * over IPv6, as Linux requires by default).
 */
static inline void
sl_encap_finish(uint8_t *hdr, const struct sl_encap *e, uint16_t inner_len,
		int inner_family, uint32_t entropy)
{
	sl_encap_finish_headers(hdr, e, inner_len, inner_family, entropy);
	if (sl_encap_needs_udp6_csum(e)) {
		/* The inner packet follows hdr contiguously (the contract). */
		uint32_t total = (uint32_t)e->len + inner_len;
		uint16_t csum = sl_l4_csum(hdr + e->ip_off, SL_AF_IPV6, SL_PROTO_UDP,
					   hdr + e->udp_off, total - e->udp_off);
		memcpy(hdr + e->udp_off + 6, &csum, 2);
	}
}

/*
 * Rewrite the source (dst = 0) or destination (dst = 1) address and port of
 * a parsed packet with incremental checksum updates. A later fragment has no
 * L4 header: only the address (and the IPv4 header checksum) changes; the
 * first fragment's L4 checksum covers the whole datagram, and the pseudo-
 * header and port changes are folded into it the same way.
 */
static inline void
sl_nat_rewrite(uint8_t *frame, const struct sl_pkt *p, int dst, const struct sl_ip_addr *addr,
	       uint16_t port_be)
{
	uint8_t *l3 = frame + p->l3_off;
	uint8_t *l4 = frame + p->l4_off;
	uint32_t csum_off = p->l4_proto == SL_PROTO_TCP ? 16 : 6;
	uint8_t *l4_csum_p = l4 + csum_off;
	uint16_t l4_csum = 0;
	/* Ports and checksum only in TCP/UDP: a first fragment of ICMP, ESP... has neither. */
	int has_l4 = (p->l4_proto == SL_PROTO_TCP || p->l4_proto == SL_PROTO_UDP) &&
		     p->frag != SL_FRAG_LATER && p->l4_len >= csum_off + 2;
	int l4_csum_on = 0;

	if (SL_LIKELY(has_l4)) {
		memcpy(&l4_csum, l4_csum_p, 2);
		/* Over IPv4 a UDP checksum of 0 means "none" and stays so. */
		l4_csum_on = !(p->l4_proto == SL_PROTO_UDP && p->family == SL_AF_IPV4 &&
			       l4_csum == 0);
	}

	if (SL_LIKELY(p->family == SL_AF_IPV4)) {
		const uint8_t *na = &addr->bytes[12];
		uint8_t *a = l3 + (dst ? 16 : 12);
		uint16_t ip_csum;

		memcpy(&ip_csum, l3 + 10, 2);
		ip_csum = sl_csum_replace(ip_csum, a, na, 4);
		memcpy(l3 + 10, &ip_csum, 2);
		/* The pseudo-header holds the addresses: the L4 sum moves too. */
		if (l4_csum_on)
			l4_csum = sl_csum_replace(l4_csum, a, na, 4);
		memcpy(a, na, 4);
	} else {
		uint8_t *a = l3 + (dst ? 24 : 8);

		if (has_l4)
			l4_csum = sl_csum_replace(l4_csum, a, addr->bytes, 16);
		memcpy(a, addr->bytes, 16);
		l4_csum_on = has_l4;
	}

	if (port_be != 0 && has_l4) {
		uint16_t old_port;
		uint8_t *pp = l4 + (dst ? 2 : 0);

		memcpy(&old_port, pp, 2);
		if (l4_csum_on)
			l4_csum = sl_csum_replace16(l4_csum, old_port, port_be);
		memcpy(pp, &port_be, 2);
	}

	if (l4_csum_on) {
		/* A UDP checksum that comes out 0 is sent as all ones (RFC 768). */
		if (p->l4_proto == SL_PROTO_UDP && l4_csum == 0)
			l4_csum = 0xffff;
		memcpy(l4_csum_p, &l4_csum, 2);
	}
}

/*
 * DNAT in place: the destination address of the parsed packet becomes
 * new_dst (same family as the packet) and, when new_dport_be != 0, the
 * destination port becomes new_dport_be. IPv4 header checksum and the TCP/UDP
 * checksum are updated incrementally (a UDP checksum of 0 stays 0 over IPv4).
 */
static inline void
sl_dnat(uint8_t *frame, const struct sl_pkt *p, const struct sl_ip_addr *new_dst,
	uint16_t new_dport_be)
{
	sl_nat_rewrite(frame, p, 1, new_dst, new_dport_be);
}

/*
 * SNAT in place, the mirror of sl_dnat(): the source address becomes new_src
 * and, when new_sport_be != 0, the source port new_sport_be (the DNAT return
 * path: a backend's reply leaves from the frontend). Both accept fragments:
 * a later fragment (p->frag == SL_FRAG_LATER), like any packet of another
 * protocol than TCP/UDP, has only its address changed.
 */
static inline void
sl_snat(uint8_t *frame, const struct sl_pkt *p, const struct sl_ip_addr *new_src,
	uint16_t new_sport_be)
{
	sl_nat_rewrite(frame, p, 0, new_src, new_sport_be);
}

#define SL_TCP_RST_MAX_LEN 60 /* IPv6 40 + TCP 20 */

/*
 * Write a TCP RST (an IP packet: IPv4 or IPv6 by the family of src, with a
 * 20-byte TCP header, flags RST, window 0, checksums set) at ip, which has
 * room for SL_TCP_RST_MAX_LEN bytes. src and dst must be of one family.
 * Returns the packet's length, or 0 when the families differ.
 */
uint16_t sl_tcp_rst_build(uint8_t *ip, const struct sl_ip_addr *src, const struct sl_ip_addr *dst,
			  uint16_t sport_be, uint16_t dport_be, uint32_t seq);

#endif /* SL_REWRITE_H */
