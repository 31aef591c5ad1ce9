/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_l2proto.c: ARP, IPv6 Neighbor Discovery, ICMP echo and ICMP errors on
 * plain bytes (see sl_l2proto.h).
 *
 * This is exception-path code: it runs for the few packets that are not for
 * a frontend (or for ICMP errors about a frontend's flows), so it favours
 * checks over speed. Every read is preceded by a bounds check against the
 * readable length, multi-byte fields are read and written byte by byte or
 * with memcpy (any alignment works), and lengths are carried in uint32_t so
 * that sums of header fields cannot wrap. Where a function recomputes a
 * checksum from scratch (echo reply, ICMP error forwarding) it first
 * verifies the one it received, so that a packet corrupted in transit is
 * refused instead of being sent on with a fresh, valid checksum; header
 * fields that are only rewritten (TTL, forwarded IPv4 headers) get
 * incremental updates (RFC 1624), which keep a wrong checksum wrong.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "sl_checksum.h"
#include "sl_l2proto.h"
#include "sl_parse.h"

#define SL_ETH_HLEN 14
#define SL_VLAN_HLEN 4
#define SL_IPV4_HLEN 20
#define SL_IPV6_HLEN 40
#define SL_ICMP_HLEN 8
#define SL_ND_HLEN 24     /* type, code, checksum, flags/reserved, target */
#define SL_ND_OPT_LLADDR_LEN 8
#define SL_ND_OPT_SRC_LLADDR 1
#define SL_ND_OPT_TGT_LLADDR 2
#define SL_ND_HOP_LIMIT 255

#define SL_IPV4_DF 0x4000
#define SL_IPV4_MF_OFFSET 0x3fff  /* MF flag and fragment offset: a fragment */
#define SL_IPV4_OFFSET 0x1fff     /* fragment offset: a non-first fragment */
#define SL_ICMP_ERROR_TOS 0xc0    /* precedence "internetwork control", as Linux sends */

static const uint8_t sl_mac_broadcast[SL_ETHER_ADDR_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t sl_mac_all_nodes[SL_ETHER_ADDR_LEN] = {0x33, 0x33, 0, 0, 0, 1};
static const uint8_t sl_mac_zero[SL_ETHER_ADDR_LEN];
static const uint8_t sl_ipv6_all_nodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

/* ---- helpers ------------------------------------------------------------- */

static inline uint32_t
sl_min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* 4 raw IPv4 address bytes: class D (multicast) or the limited broadcast. */
static inline int
sl_v4_is_mcast_bcast(const uint8_t *a)
{
	return (a[0] & 0xf0) == 0xe0 || (a[0] == 0xff && a[1] == 0xff && a[2] == 0xff && a[3] == 0xff);
}

static inline int
sl_v4_is_unspecified(const uint8_t *a)
{
	return (a[0] | a[1] | a[2] | a[3]) == 0;
}

/* 16 raw IPv6 address bytes. */
static inline int
sl_v6_is_mcast(const uint8_t *a)
{
	return a[0] == 0xff;
}

static inline int
sl_v6_is_unspecified(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

/* An sl_ip_addr that holds a real IPv6 address (not IPv4-mapped). */
static inline int
sl_addr_is_v6(const struct sl_ip_addr *a)
{
	return !sl_ip_addr_is_v4(a);
}

static inline uint32_t
sl_eth_hlen(uint16_t vlan_tci)
{
	return vlan_tci ? SL_ETH_HLEN + SL_VLAN_HLEN : SL_ETH_HLEN;
}

/* The length a frame of len bytes takes once padded. */
static inline uint32_t
sl_eth_padded(uint32_t len)
{
	return len < SL_ETH_MIN_FRAME ? SL_ETH_MIN_FRAME : len;
}

/* Write the Ethernet header (and tag); returns its length. */
static uint32_t
sl_eth_put(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t vlan_tci,
	   uint16_t ethertype)
{
	uint32_t off = 12;

	memcpy(f, dst, SL_ETHER_ADDR_LEN);
	memcpy(f + 6, src, SL_ETHER_ADDR_LEN);
	if (vlan_tci) {
		sl_store_be16(f + 12, SL_ETHERTYPE_VLAN);
		sl_store_be16(f + 14, vlan_tci);
		off = 16;
	}
	sl_store_be16(f + off, ethertype);
	return off + 2;
}

/* Zero-pad a frame of len bytes to the Ethernet minimum; returns the new length. */
static uint32_t
sl_eth_pad(uint8_t *f, uint32_t len)
{
	uint32_t padded = sl_eth_padded(len);

	memset(f + len, 0, padded - len);
	return padded;
}

/* A fixed IPv6 header: no traffic class or flow label. */
static void
sl_ipv6_put(uint8_t *ip6, const uint8_t *src, const uint8_t *dst, uint32_t payload_len,
	    uint8_t next_header, uint8_t hop_limit)
{
	memset(ip6, 0, 4);
	ip6[0] = 0x60;
	sl_store_be16(ip6 + 4, payload_len);
	ip6[6] = next_header;
	ip6[7] = hop_limit;
	memcpy(ip6 + 8, src, 16);
	memcpy(ip6 + 24, dst, 16);
}

/*
 * The ICMPv6 checksum over the pseudo-header of the IPv6 header at ip6 and
 * the len bytes at icmp, checksum field included as it is: store it with the
 * field zeroed, or check that it comes out 0.
 */
static uint16_t
sl_icmp6_csum(const uint8_t *ip6, const uint8_t *icmp, uint32_t len)
{
	uint8_t ph[8] = {
		(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len,
		0, 0, 0, SL_IPPROTO_ICMPV6,
	};
	uint32_t sum;

	sum = sl_csum_add(0, ip6 + 8, 32);
	sum = sl_csum_add(sum, ph, sizeof(ph));
	sum = sl_csum_add(sum, icmp, len);
	return sl_csum_fold(sum);
}

/* The ICMPv4 checksum of len bytes at icmp, as sl_icmp6_csum(). */
static uint16_t
sl_icmp4_csum(const uint8_t *icmp, uint32_t len)
{
	return sl_csum_fold(sl_csum_add(0, icmp, len));
}

static void
sl_icmp6_csum_set(const uint8_t *ip6, uint8_t *icmp, uint32_t len)
{
	uint16_t c;

	icmp[2] = 0;
	icmp[3] = 0;
	c = sl_icmp6_csum(ip6, icmp, len);
	memcpy(icmp + 2, &c, 2);
}

static void
sl_icmp4_csum_set(uint8_t *icmp, uint32_t len)
{
	uint16_t c;

	icmp[2] = 0;
	icmp[3] = 0;
	c = sl_icmp4_csum(icmp, len);
	memcpy(icmp + 2, &c, 2);
}

static void
sl_ipv4_csum_set(uint8_t *ip, uint32_t ihl)
{
	uint16_t c = sl_ipv4_header_csum(ip, ihl);

	memcpy(ip + 10, &c, 2);
}

/*
 * Check the outer IPv4 header at l3: version, IHL, total length within len.
 * Returns the header length and sets *tot, or 0.
 */
static uint32_t
sl_ipv4_check(const uint8_t *l3, uint32_t len, uint32_t *tot)
{
	uint32_t ihl;

	if (len < SL_IPV4_HLEN || (l3[0] >> 4) != 4)
		return 0;
	ihl = (uint32_t)(l3[0] & 0x0f) * 4;
	*tot = sl_load_be16(l3 + 2);
	if (ihl < SL_IPV4_HLEN || *tot < ihl || *tot > len)
		return 0;
	return ihl;
}

/* Check the fixed IPv6 header at l3; sets *end to 40 + payload length (<= len). */
static int
sl_ipv6_check(const uint8_t *l3, uint32_t len, uint32_t *end)
{
	if (len < SL_IPV6_HLEN || (l3[0] >> 4) != 6)
		return 0;
	*end = SL_IPV6_HLEN + sl_load_be16(l3 + 4);
	return *end <= len;
}

static int
sl_icmp4_is_error_type(uint8_t type)
{
	return type == SL_ICMP_DEST_UNREACH || type == SL_ICMP_TIME_EXCEEDED ||
	       type == SL_ICMP_PARAM_PROBLEM;
}

static int
sl_icmp6_is_error_type(uint8_t type)
{
	return type >= SL_ICMP6_DEST_UNREACH && type <= SL_ICMP6_PARAM_PROBLEM;
}

/*
 * ICMPv4 types that are queries or informational (RFC 792, 950, 1256): an
 * error may be sent about them. Anything else, known error or unknown, is
 * treated as an error message (RFC 1812 4.3.2.7: when in doubt, stay quiet).
 */
static int
sl_icmp4_is_query_type(uint8_t type)
{
	switch (type) {
	case 0: case 8: case 9: case 10: case 13: case 14: case 15: case 16: case 17: case 18:
		return 1;
	default:
		return 0;
	}
}

/* ---- ARP ------------------------------------------------------------------ */

int
sl_arp_parse(const uint8_t *arp, uint32_t len, struct sl_arp_info *out)
{
	uint32_t op, spa, tpa;

	if (arp == NULL || out == NULL || len < SL_ARP_LEN)
		return -EINVAL;
	if (sl_load_be16(arp) != 1 || sl_load_be16(arp + 2) != SL_ETHERTYPE_IPV4 || arp[4] != 6 ||
	    arp[5] != 4)
		return -EINVAL;
	op = sl_load_be16(arp + 6);
	if (op != SL_ARP_OP_REQUEST && op != SL_ARP_OP_REPLY)
		return -EINVAL;

	out->op = (uint16_t)op;
	memcpy(out->sha.bytes, arp + 8, SL_ETHER_ADDR_LEN);
	memcpy(out->tha.bytes, arp + 18, SL_ETHER_ADDR_LEN);
	memcpy(&spa, arp + 14, 4);
	memcpy(&tpa, arp + 24, 4);
	sl_ip_addr_from_v4(&out->spa, spa);
	sl_ip_addr_from_v4(&out->tpa, tpa);
	return 0;
}

uint32_t
sl_arp_build(uint8_t *frame, uint32_t room, const struct sl_mac *eth_dst,
	     const struct sl_mac *eth_src, uint16_t vlan_tci, uint16_t op,
	     const struct sl_mac *sha, const struct sl_ip_addr *spa,
	     const struct sl_mac *tha, const struct sl_ip_addr *tpa)
{
	uint32_t hl = sl_eth_hlen(vlan_tci);
	uint32_t len = hl + SL_ARP_LEN;
	uint8_t *a;

	if (frame == NULL || eth_src == NULL || sha == NULL || spa == NULL || tpa == NULL)
		return 0;
	if (op != SL_ARP_OP_REQUEST && op != SL_ARP_OP_REPLY)
		return 0;
	if (!sl_ip_addr_is_v4(spa) || !sl_ip_addr_is_v4(tpa))
		return 0;
	if (room < sl_eth_padded(len))
		return 0;

	sl_eth_put(frame, eth_dst ? eth_dst->bytes : sl_mac_broadcast, eth_src->bytes, vlan_tci,
		   SL_ETHERTYPE_ARP);
	a = frame + hl;
	sl_store_be16(a, 1);                  /* htype: Ethernet */
	sl_store_be16(a + 2, SL_ETHERTYPE_IPV4);
	a[4] = SL_ETHER_ADDR_LEN;
	a[5] = 4;
	sl_store_be16(a + 6, op);
	memcpy(a + 8, sha->bytes, SL_ETHER_ADDR_LEN);
	memcpy(a + 14, &spa->bytes[12], 4);
	memcpy(a + 18, tha ? tha->bytes : sl_mac_zero, SL_ETHER_ADDR_LEN);
	memcpy(a + 24, &tpa->bytes[12], 4);
	return sl_eth_pad(frame, len);
}

/* ---- IPv6 Neighbor Discovery ---------------------------------------------- */

void
sl_ipv6_solicited_node(struct sl_ip_addr *out, const struct sl_ip_addr *target)
{
	uint8_t low[3];

	/* Copy first: out may be target. */
	memcpy(low, &target->bytes[13], 3);
	memset(out->bytes, 0, 16);
	out->bytes[0] = 0xff;
	out->bytes[1] = 0x02;
	out->bytes[11] = 0x01;
	out->bytes[12] = 0xff;
	memcpy(&out->bytes[13], low, 3);
}

void
sl_ipv6_multicast_mac(struct sl_mac *out, const struct sl_ip_addr *group)
{
	if (sl_ip_addr_is_v4(group)) {
		out->bytes[0] = 0x01;
		out->bytes[1] = 0x00;
		out->bytes[2] = 0x5e;
		out->bytes[3] = group->bytes[13] & 0x7f;
		out->bytes[4] = group->bytes[14];
		out->bytes[5] = group->bytes[15];
	} else {
		out->bytes[0] = 0x33;
		out->bytes[1] = 0x33;
		memcpy(&out->bytes[2], &group->bytes[12], 4);
	}
}

int
sl_nd_parse(const uint8_t *ip6, uint32_t len, struct sl_nd_info *out)
{
	struct sl_nd_info nd;
	const uint8_t *icmp;
	uint32_t end, plen, off;
	uint8_t want_opt;

	if (ip6 == NULL || out == NULL || !sl_ipv6_check(ip6, len, &end))
		return -EINVAL;
	plen = end - SL_IPV6_HLEN;
	if (ip6[6] != SL_IPPROTO_ICMPV6 || ip6[7] != SL_ND_HOP_LIMIT || plen < SL_ND_HLEN)
		return -EINVAL;
	icmp = ip6 + SL_IPV6_HLEN;
	if ((icmp[0] != SL_ND_NEIGHBOR_SOLICIT && icmp[0] != SL_ND_NEIGHBOR_ADVERT) || icmp[1] != 0)
		return -EINVAL;
	if (sl_icmp6_csum(ip6, icmp, plen) != 0)
		return -EINVAL;

	memset(&nd, 0, sizeof(nd));
	nd.type = icmp[0];
	memcpy(nd.src.bytes, ip6 + 8, 16);
	memcpy(nd.dst.bytes, ip6 + 24, 16);
	memcpy(nd.target.bytes, icmp + 8, 16);
	if (sl_v6_is_mcast(nd.target.bytes))
		return -EINVAL;
	if (nd.type == SL_ND_NEIGHBOR_ADVERT) {
		nd.flags = icmp[4] & (SL_ND_FLAG_ROUTER | SL_ND_FLAG_SOLICITED | SL_ND_FLAG_OVERRIDE);
		if ((nd.flags & SL_ND_FLAG_SOLICITED) && sl_v6_is_mcast(nd.dst.bytes))
			return -EINVAL;
	}

	want_opt = nd.type == SL_ND_NEIGHBOR_SOLICIT ? SL_ND_OPT_SRC_LLADDR : SL_ND_OPT_TGT_LLADDR;
	for (off = SL_ND_HLEN; off < plen;) {
		uint32_t olen;

		if (plen - off < 2)
			return -EINVAL;
		olen = (uint32_t)icmp[off + 1] * 8;
		if (olen == 0 || olen > plen - off)
			return -EINVAL;
		if (icmp[off] == want_opt && !nd.has_lladdr) {
			memcpy(nd.lladdr.bytes, icmp + off + 2, SL_ETHER_ADDR_LEN);
			nd.has_lladdr = 1;
		}
		off += olen;
	}
	if (nd.type == SL_ND_NEIGHBOR_SOLICIT && nd.has_lladdr && sl_v6_is_unspecified(nd.src.bytes))
		return -EINVAL;

	*out = nd;
	return 0;
}

/* The ICMPv6 part of an NS or NA with a link-layer option of type opt (0: none). */
static uint32_t
sl_nd_put(uint8_t *icmp, uint8_t type, uint8_t flags, const struct sl_ip_addr *target,
	  uint8_t opt, const struct sl_mac *lladdr)
{
	icmp[0] = type;
	icmp[1] = 0;
	icmp[2] = 0;
	icmp[3] = 0;
	icmp[4] = flags;
	memset(icmp + 5, 0, 3);
	memcpy(icmp + 8, target->bytes, 16);
	if (opt == 0)
		return SL_ND_HLEN;
	icmp[24] = opt;
	icmp[25] = 1; /* in units of 8 octets */
	memcpy(icmp + 26, lladdr->bytes, SL_ETHER_ADDR_LEN);
	return SL_ND_HLEN + SL_ND_OPT_LLADDR_LEN;
}

uint32_t
sl_nd_build_ns(uint8_t *frame, uint32_t room, const struct sl_mac *src_mac, uint16_t vlan_tci,
	       const struct sl_ip_addr *src_ip, const struct sl_ip_addr *target,
	       const struct sl_mac *unicast_dst)
{
	uint32_t hl = sl_eth_hlen(vlan_tci);
	struct sl_ip_addr dst;
	struct sl_mac dst_mac;
	uint32_t icmp_len, len;
	uint8_t *ip6;
	int with_opt;

	if (frame == NULL || src_mac == NULL || src_ip == NULL || target == NULL)
		return 0;
	if (!sl_addr_is_v6(src_ip) || !sl_addr_is_v6(target) || sl_v6_is_mcast(target->bytes))
		return 0;
	with_opt = !sl_v6_is_unspecified(src_ip->bytes);
	icmp_len = SL_ND_HLEN + (with_opt ? SL_ND_OPT_LLADDR_LEN : 0);
	len = hl + SL_IPV6_HLEN + icmp_len;
	if (room < sl_eth_padded(len))
		return 0;

	if (unicast_dst) {
		dst = *target;
		dst_mac = *unicast_dst;
	} else {
		sl_ipv6_solicited_node(&dst, target);
		sl_ipv6_multicast_mac(&dst_mac, &dst);
	}
	sl_eth_put(frame, dst_mac.bytes, src_mac->bytes, vlan_tci, SL_ETHERTYPE_IPV6);
	ip6 = frame + hl;
	sl_ipv6_put(ip6, src_ip->bytes, dst.bytes, icmp_len, SL_IPPROTO_ICMPV6, SL_ND_HOP_LIMIT);
	sl_nd_put(ip6 + SL_IPV6_HLEN, SL_ND_NEIGHBOR_SOLICIT, 0, target,
		  with_opt ? SL_ND_OPT_SRC_LLADDR : 0, src_mac);
	sl_icmp6_csum_set(ip6, ip6 + SL_IPV6_HLEN, icmp_len);
	return sl_eth_pad(frame, len);
}

uint32_t
sl_nd_build_na(uint8_t *frame, uint32_t room, const struct sl_mac *eth_dst,
	       const struct sl_mac *src_mac, uint16_t vlan_tci, const struct sl_ip_addr *src_ip,
	       const struct sl_ip_addr *dst_ip, const struct sl_ip_addr *target, uint8_t flags)
{
	uint32_t hl = sl_eth_hlen(vlan_tci);
	uint32_t icmp_len = SL_ND_HLEN + SL_ND_OPT_LLADDR_LEN;
	uint32_t len = hl + SL_IPV6_HLEN + icmp_len;
	const uint8_t *dst = dst_ip ? dst_ip->bytes : sl_ipv6_all_nodes;
	struct sl_mac dst_mac;
	uint8_t *ip6;

	if (frame == NULL || src_mac == NULL || src_ip == NULL || target == NULL)
		return 0;
	if (!sl_addr_is_v6(src_ip) || !sl_addr_is_v6(target) || sl_v6_is_mcast(target->bytes) ||
	    (dst_ip && !sl_addr_is_v6(dst_ip)))
		return 0;
	if (room < sl_eth_padded(len))
		return 0;

	flags &= SL_ND_FLAG_ROUTER | SL_ND_FLAG_SOLICITED | SL_ND_FLAG_OVERRIDE;
	if (sl_v6_is_mcast(dst))
		flags &= (uint8_t)~SL_ND_FLAG_SOLICITED;
	if (eth_dst) {
		dst_mac = *eth_dst;
	} else if (sl_v6_is_mcast(dst)) {
		struct sl_ip_addr group;

		memcpy(group.bytes, dst, 16);
		sl_ipv6_multicast_mac(&dst_mac, &group);
	} else {
		memcpy(dst_mac.bytes, sl_mac_all_nodes, SL_ETHER_ADDR_LEN);
	}
	sl_eth_put(frame, dst_mac.bytes, src_mac->bytes, vlan_tci, SL_ETHERTYPE_IPV6);
	ip6 = frame + hl;
	sl_ipv6_put(ip6, src_ip->bytes, dst, icmp_len, SL_IPPROTO_ICMPV6, SL_ND_HOP_LIMIT);
	sl_nd_put(ip6 + SL_IPV6_HLEN, SL_ND_NEIGHBOR_ADVERT, flags, target, SL_ND_OPT_TGT_LLADDR,
		  src_mac);
	sl_icmp6_csum_set(ip6, ip6 + SL_IPV6_HLEN, icmp_len);
	return sl_eth_pad(frame, len);
}

/* ---- ICMP echo ------------------------------------------------------------ */

static int
sl_icmp4_echo_reply(uint8_t *l3, uint32_t len)
{
	uint32_t ihl, tot;
	uint8_t *icmp;
	uint8_t tmp[4];

	ihl = sl_ipv4_check(l3, len, &tot);
	if (ihl == 0 || tot < ihl + SL_ICMP_HLEN)
		return -EINVAL;
	if ((sl_load_be16(l3 + 6) & SL_IPV4_MF_OFFSET) || l3[9] != SL_IPPROTO_ICMP)
		return -EINVAL;
	if (sl_csum_fold(sl_csum_add(0, l3, ihl)) != 0)
		return -EINVAL;
	icmp = l3 + ihl;
	if (icmp[0] != SL_ICMP_ECHO_REQUEST || icmp[1] != 0)
		return -EINVAL;
	if (sl_icmp4_csum(icmp, tot - ihl) != 0)
		return -EINVAL;
	if (sl_v4_is_mcast_bcast(l3 + 12) || sl_v4_is_mcast_bcast(l3 + 16))
		return -EINVAL;

	memcpy(tmp, l3 + 12, 4);
	memcpy(l3 + 12, l3 + 16, 4);
	memcpy(l3 + 16, tmp, 4);
	l3[8] = SL_IP_DEFAULT_TTL;
	sl_ipv4_csum_set(l3, ihl);
	icmp[0] = SL_ICMP_ECHO_REPLY;
	sl_icmp4_csum_set(icmp, tot - ihl);
	return 0;
}

static int
sl_icmp6_echo_reply(uint8_t *l3, uint32_t len)
{
	uint32_t end, plen;
	uint8_t *icmp;
	uint8_t tmp[16];

	if (!sl_ipv6_check(l3, len, &end))
		return -EINVAL;
	plen = end - SL_IPV6_HLEN;
	if (l3[6] != SL_IPPROTO_ICMPV6 || plen < SL_ICMP_HLEN)
		return -EINVAL;
	icmp = l3 + SL_IPV6_HLEN;
	if (icmp[0] != SL_ICMP6_ECHO_REQUEST || icmp[1] != 0)
		return -EINVAL;
	if (sl_icmp6_csum(l3, icmp, plen) != 0)
		return -EINVAL;
	if (sl_v6_is_mcast(l3 + 8) || sl_v6_is_mcast(l3 + 24))
		return -EINVAL;

	memcpy(tmp, l3 + 8, 16);
	memcpy(l3 + 8, l3 + 24, 16);
	memcpy(l3 + 24, tmp, 16);
	l3[7] = SL_IP_DEFAULT_TTL;
	icmp[0] = SL_ICMP6_ECHO_REPLY;
	sl_icmp6_csum_set(l3, icmp, plen);
	return 0;
}

int
sl_icmp_echo_reply(uint8_t *l3, uint32_t len, int family)
{
	if (l3 == NULL)
		return -EINVAL;
	if (family == SL_AF_IPV4)
		return sl_icmp4_echo_reply(l3, len);
	if (family == SL_AF_IPV6)
		return sl_icmp6_echo_reply(l3, len);
	return -EINVAL;
}

/* ---- ICMP errors ---------------------------------------------------------- */

/*
 * Check that an error may be sent about the IPv4 packet at off (offending_len
 * bytes); sets *quotable to what may be quoted (up to its total length) and
 * *min_quote to what must be. Returns 0 when it may, -EINVAL otherwise.
 */
static int
sl_icmp4_error_allowed(const uint8_t *off, uint32_t off_len, uint32_t *quotable,
		       uint32_t *min_quote)
{
	uint32_t ihl, tot, end;

	if (off_len < SL_IPV4_HLEN || (off[0] >> 4) != 4)
		return -EINVAL;
	ihl = (uint32_t)(off[0] & 0x0f) * 4;
	tot = sl_load_be16(off + 2);
	if (ihl < SL_IPV4_HLEN || ihl > off_len || tot < ihl)
		return -EINVAL;
	end = sl_min32(off_len, tot);
	if (sl_v4_is_unspecified(off + 12) || sl_v4_is_mcast_bcast(off + 12) ||
	    sl_v4_is_mcast_bcast(off + 16))
		return -EINVAL;
	if (sl_load_be16(off + 6) & SL_IPV4_OFFSET)
		return -EINVAL;
	if (off[9] == SL_IPPROTO_ICMP && (end <= ihl || !sl_icmp4_is_query_type(off[ihl])))
		return -EINVAL;
	*quotable = end;
	*min_quote = sl_min32(end, ihl + 8);
	return 0;
}

static int
sl_icmp6_error_allowed(const uint8_t *off, uint32_t off_len, uint8_t type, uint8_t code,
		       uint32_t *quotable, uint32_t *min_quote)
{
	uint32_t end;

	if (off_len < SL_IPV6_HLEN || (off[0] >> 4) != 6)
		return -EINVAL;
	end = sl_min32(off_len, SL_IPV6_HLEN + sl_load_be16(off + 4));
	if (sl_v6_is_unspecified(off + 8) || sl_v6_is_mcast(off + 8))
		return -EINVAL;
	if (sl_v6_is_mcast(off + 24) && type != SL_ICMP6_PACKET_TOO_BIG &&
	    !(type == SL_ICMP6_PARAM_PROBLEM && code == 2))
		return -EINVAL;
	if (off[6] == SL_IPPROTO_ICMPV6 && (end <= SL_IPV6_HLEN || off[SL_IPV6_HLEN] < 128))
		return -EINVAL;
	*quotable = end;
	*min_quote = sl_min32(end, SL_IPV6_HLEN + 8);
	return 0;
}

uint32_t
sl_icmp_error_build(uint8_t *l3_out, uint32_t room, int family, const struct sl_ip_addr *src,
		    const uint8_t *offending_l3, uint32_t offending_len, uint8_t type, uint8_t code,
		    uint32_t rest_be)
{
	uint32_t quotable, min_quote, hdr, limit, quote, total;
	uint8_t *icmp;

	if (l3_out == NULL || src == NULL || offending_l3 == NULL)
		return 0;
	if (family == SL_AF_IPV4) {
		if (!sl_ip_addr_is_v4(src) || !sl_icmp4_is_error_type(type) ||
		    sl_icmp4_error_allowed(offending_l3, offending_len, &quotable, &min_quote))
			return 0;
		hdr = SL_IPV4_HLEN + SL_ICMP_HLEN;
		limit = SL_ICMP_ERROR_MAX_V4;
	} else if (family == SL_AF_IPV6) {
		if (!sl_addr_is_v6(src) || !sl_icmp6_is_error_type(type) ||
		    sl_icmp6_error_allowed(offending_l3, offending_len, type, code, &quotable,
					   &min_quote))
			return 0;
		hdr = SL_IPV6_HLEN + SL_ICMP_HLEN;
		limit = SL_ICMP_ERROR_MAX_V6;
	} else {
		return 0;
	}
	if (room < hdr + min_quote)
		return 0;
	quote = sl_min32(quotable, sl_min32(limit, room) - hdr);
	total = hdr + quote;

	/* The quote first, with memmove: the caller may build in the offending packet's buffer. */
	memmove(l3_out + hdr, offending_l3, quote);
	if (family == SL_AF_IPV4) {
		uint8_t *ip = l3_out;

		ip[0] = 0x45;
		ip[1] = SL_ICMP_ERROR_TOS;
		sl_store_be16(ip + 2, total);
		sl_store_be16(ip + 4, 0);
		sl_store_be16(ip + 6, SL_IPV4_DF);
		ip[8] = SL_IP_DEFAULT_TTL;
		ip[9] = SL_IPPROTO_ICMP;
		memcpy(ip + 12, &src->bytes[12], 4);
		memcpy(ip + 16, l3_out + hdr + 12, 4); /* the offending packet's source */
		sl_ipv4_csum_set(ip, SL_IPV4_HLEN);
		icmp = ip + SL_IPV4_HLEN;
	} else {
		uint8_t dst[16];

		memcpy(dst, l3_out + hdr + 8, 16);
		sl_ipv6_put(l3_out, src->bytes, dst, total - SL_IPV6_HLEN, SL_IPPROTO_ICMPV6,
			    SL_IP_DEFAULT_TTL);
		icmp = l3_out + SL_IPV6_HLEN;
	}
	icmp[0] = type;
	icmp[1] = code;
	memcpy(icmp + 4, &rest_be, 4);
	if (family == SL_AF_IPV4)
		sl_icmp4_csum_set(icmp, total - SL_IPV4_HLEN);
	else
		sl_icmp6_csum_set(l3_out, icmp, total - SL_IPV6_HLEN);
	return total;
}

int
sl_icmp_error_parse(const uint8_t *l3, uint32_t len, int family, struct sl_icmp_quote *out)
{
	struct sl_icmp_quote q;
	const uint8_t *icmp, *in;
	uint32_t ihl, end, ilen, iihl;

	if (l3 == NULL || out == NULL)
		return -EINVAL;
	memset(&q, 0, sizeof(q));
	if (family == SL_AF_IPV4) {
		ihl = sl_ipv4_check(l3, len, &end);
		if (ihl == 0 || end < ihl + SL_ICMP_HLEN)
			return -EINVAL;
		if ((sl_load_be16(l3 + 6) & SL_IPV4_MF_OFFSET) || l3[9] != SL_IPPROTO_ICMP)
			return -EINVAL;
		icmp = l3 + ihl;
		if (!sl_icmp4_is_error_type(icmp[0]) || sl_icmp4_csum(icmp, end - ihl) != 0)
			return -EINVAL;
		q.inner_l3_off = (uint16_t)(ihl + SL_ICMP_HLEN);
		in = l3 + q.inner_l3_off;
		ilen = end - q.inner_l3_off;
		if (ilen < SL_IPV4_HLEN || (in[0] >> 4) != 4)
			return -EINVAL;
		iihl = (uint32_t)(in[0] & 0x0f) * 4;
		if (iihl < SL_IPV4_HLEN || ilen < iihl + 4 || (sl_load_be16(in + 6) & SL_IPV4_OFFSET))
			return -EINVAL;
		q.proto = in[9];
		sl_ip_addr_from_v4(&q.src, 0);
		sl_ip_addr_from_v4(&q.dst, 0);
		memcpy(&q.src.bytes[12], in + 12, 4);
		memcpy(&q.dst.bytes[12], in + 16, 4);
	} else if (family == SL_AF_IPV6) {
		if (!sl_ipv6_check(l3, len, &end) || end < SL_IPV6_HLEN + SL_ICMP_HLEN ||
		    l3[6] != SL_IPPROTO_ICMPV6)
			return -EINVAL;
		icmp = l3 + SL_IPV6_HLEN;
		if (!sl_icmp6_is_error_type(icmp[0]) ||
		    sl_icmp6_csum(l3, icmp, end - SL_IPV6_HLEN) != 0)
			return -EINVAL;
		q.inner_l3_off = SL_IPV6_HLEN + SL_ICMP_HLEN;
		in = l3 + q.inner_l3_off;
		ilen = end - q.inner_l3_off;
		iihl = SL_IPV6_HLEN;
		if (ilen < iihl + 4 || (in[0] >> 4) != 6)
			return -EINVAL;
		q.proto = in[6];
		memcpy(q.src.bytes, in + 8, 16);
		memcpy(q.dst.bytes, in + 24, 16);
	} else {
		return -EINVAL;
	}
	if (q.proto != SL_PROTO_TCP && q.proto != SL_PROTO_UDP)
		return -EINVAL;
	q.type = icmp[0];
	q.code = icmp[1];
	q.family = (uint8_t)family;
	q.inner_l4_off = (uint16_t)(q.inner_l3_off + iihl);
	memcpy(&q.sport_be, l3 + q.inner_l4_off, 2);
	memcpy(&q.dport_be, l3 + q.inner_l4_off + 2, 2);
	*out = q;
	return 0;
}

int
sl_icmp_error_dnat(uint8_t *l3, uint32_t len, int family, const struct sl_ip_addr *new_addr,
		   uint16_t new_port_be)
{
	struct sl_icmp_quote q;
	uint8_t *in;

	if (new_addr == NULL || sl_icmp_error_parse(l3, len, family, &q) != 0)
		return -EINVAL;
	if ((family == SL_AF_IPV4) != sl_ip_addr_is_v4(new_addr))
		return -EINVAL;
	in = l3 + q.inner_l3_off;
	if (new_port_be != 0)
		memcpy(l3 + q.inner_l4_off, &new_port_be, 2);
	if (family == SL_AF_IPV4) {
		const uint8_t *na = &new_addr->bytes[12];
		uint32_t ihl = (uint32_t)(l3[0] & 0x0f) * 4;
		uint32_t tot = sl_load_be16(l3 + 2);
		uint16_t c;

		memcpy(&c, l3 + 10, 2);
		c = sl_csum_replace(c, l3 + 16, na, 4);
		memcpy(l3 + 10, &c, 2);
		memcpy(l3 + 16, na, 4);

		memcpy(&c, in + 10, 2);
		c = sl_csum_replace(c, in + 12, na, 4);
		memcpy(in + 10, &c, 2);
		memcpy(in + 12, na, 4);

		sl_icmp4_csum_set(l3 + ihl, tot - ihl);
	} else {
		uint32_t plen = sl_load_be16(l3 + 4);

		memcpy(l3 + 24, new_addr->bytes, 16);
		memcpy(in + 8, new_addr->bytes, 16);
		sl_icmp6_csum_set(l3, l3 + SL_IPV6_HLEN, plen);
	}
	return 0;
}

/* ---- TTL ------------------------------------------------------------------ */

