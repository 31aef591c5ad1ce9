/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_rewrite.c: DNAT and the delivery header prefixes (see sl_rewrite.h).
 *
 * sl_encap_build() runs on the control thread when a snapshot is compiled and
 * lays out everything that is fixed per backend and egress port. The packet
 * path only calls sl_encap_finish() (a handful of stores and, for an IPv4
 * outer header, a 20-byte checksum; for UDP over IPv6 the full UDP checksum
 * Linux insists on) and sl_dnat() (incremental checksum updates). Both branch
 * on fields of the precomputed prefix, never on names.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "sl_checksum.h"
#include "sl_rewrite.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define SL_ETH_HLEN 14
#define SL_IPV4_HLEN 20
#define SL_IPV6_HLEN 40
#define SL_UDP_HLEN 8
#define SL_VXLAN_HLEN 8

#define SL_IPV4_DF 0x4000
#define SL_VXLAN_FLAG_VNI 0x08
#define SL_DEFAULT_TTL 64

static const char *const sl_delivery_names[SL_DELIVERY_MAX] = {
	[SL_DELIVERY_DNAT] = "DNAT",
	[SL_DELIVERY_L2] = "L2",
	[SL_DELIVERY_IPIP] = "IPinIP",
	[SL_DELIVERY_GUE] = "GUE",
	[SL_DELIVERY_VXLAN] = "VXLAN",
};

const char *
sl_delivery_name(enum sl_delivery d)
{
	if ((unsigned int)d >= SL_DELIVERY_MAX)
		return "unknown";
	return sl_delivery_names[d];
}

int
sl_delivery_parse(const char *name, enum sl_delivery *d)
{
	int i;

	if (name == NULL || d == NULL)
		return -EINVAL;
	for (i = 0; i < SL_DELIVERY_MAX; i++) {
		if (strcasecmp(name, sl_delivery_names[i]) == 0) {
			*d = (enum sl_delivery)i;
			return 0;
		}
	}
	return -EINVAL;
}

int
sl_encap_build(struct sl_encap *e, const struct sl_encap_params *p)
{
	enum sl_ip_family fam = SL_AF_NONE;
	uint8_t ttl;
	uint32_t off;
	uint8_t *b;

	if (e == NULL || p == NULL || (unsigned int)p->delivery >= SL_DELIVERY_MAX)
		return -EINVAL;
	if (p->delivery == SL_DELIVERY_IPIP || p->delivery == SL_DELIVERY_GUE ||
	    p->delivery == SL_DELIVERY_VXLAN) {
		fam = sl_ip_addr_is_v4(&p->outer_dst) ? SL_AF_IPV4 : SL_AF_IPV6;
		if (sl_ip_addr_is_v4(&p->outer_src) != (fam == SL_AF_IPV4))
			return -EINVAL;
	}
	if (p->delivery == SL_DELIVERY_VXLAN && p->vni >= (1u << 24))
		return -EINVAL;

	memset(e, 0, sizeof(*e));
	b = e->bytes;
	ttl = p->ttl ? p->ttl : SL_DEFAULT_TTL;
	e->delivery = (uint8_t)p->delivery;
	e->outer_family = (uint8_t)fam;

	/* Ethernet (+ 802.1Q); the EtherType is stored by sl_encap_finish(). */
	memcpy(b, p->dst_mac.bytes, SL_ETHER_ADDR_LEN);
	memcpy(b + 6, p->src_mac.bytes, SL_ETHER_ADDR_LEN);
	off = SL_ETH_HLEN;
	e->etype_off = 12;
	if (p->vlan_tci != 0) {
		sl_store_be16(b + 12, SL_ETHERTYPE_VLAN);
		sl_store_be16(b + 14, p->vlan_tci);
		off += 4;
		e->etype_off = 16;
	}
	if (fam == SL_AF_NONE) {
		e->len = (uint8_t)off;
		e->valid = 1;
		return 0;
	}

	/* Outer IP: lengths, checksum and (IPIP) protocol are per packet. */
	e->ip_off = (uint8_t)off;
	sl_store_be16(b + e->etype_off, sl_ethertype_of((int)fam));
	if (fam == SL_AF_IPV4) {
		uint8_t *ip = b + off;

		ip[0] = 0x45;
		sl_store_be16(ip + 6, SL_IPV4_DF);
		ip[8] = ttl;
		ip[9] = SL_PROTO_UDP; /* IPIP: set per packet by the inner family */
		memcpy(ip + 12, &p->outer_src.bytes[12], 4);
		memcpy(ip + 16, &p->outer_dst.bytes[12], 4);
		/*
		 * The header's sum with total length 0 and each inner
		 * family's protocol: sl_encap_finish() adds the length.
		 */
		for (int v6 = 0; v6 < 2; v6++) {
			if (p->delivery == SL_DELIVERY_IPIP)
				ip[9] = v6 ? SL_IPPROTO_IPV6 : SL_IPPROTO_IPIP;
			e->ip4_sum[v6] = (uint16_t)~sl_ipv4_header_csum(ip, SL_IPV4_HLEN);
		}
		off += SL_IPV4_HLEN;
	} else {
		uint8_t *ip = b + off;

		ip[0] = 0x60;
		ip[6] = p->delivery == SL_DELIVERY_IPIP ? 0 : SL_PROTO_UDP;
		ip[7] = ttl;
		memcpy(ip + 8, p->outer_src.bytes, 16);
		memcpy(ip + 24, p->outer_dst.bytes, 16);
		off += SL_IPV6_HLEN;
	}

	if (p->delivery != SL_DELIVERY_IPIP) {
		uint16_t dport = p->udp_dport;

		if (dport == 0)
			dport = p->delivery == SL_DELIVERY_GUE ? SL_GUE_DEFAULT_PORT :
								 SL_VXLAN_DEFAULT_PORT;
		e->udp_off = (uint8_t)off;
		sl_store_be16(b + off + 2, dport);
		off += SL_UDP_HLEN;
	}

	if (p->delivery == SL_DELIVERY_VXLAN) {
		uint8_t *vx = b + off;

		vx[0] = SL_VXLAN_FLAG_VNI;
		vx[4] = (uint8_t)(p->vni >> 16);
		vx[5] = (uint8_t)(p->vni >> 8);
		vx[6] = (uint8_t)p->vni;
		off += SL_VXLAN_HLEN;
		e->inner_eth_off = (uint8_t)off;
		memcpy(b + off, p->inner_dst_mac.bytes, SL_ETHER_ADDR_LEN);
		memcpy(b + off + 6, p->src_mac.bytes, SL_ETHER_ADDR_LEN);
		off += SL_ETH_HLEN;
	}

	e->len = (uint8_t)off;
	e->valid = 1;
	return 0;
}

uint16_t
sl_tcp_rst_build(uint8_t *ip, const struct sl_ip_addr *src, const struct sl_ip_addr *dst,
		 uint16_t sport_be, uint16_t dport_be, uint32_t seq)
{
	int v4 = sl_ip_addr_is_v4(src);
	uint16_t ip_len = v4 ? 20 : 40, len = (uint16_t)(ip_len + 20);
	uint8_t *tcp = ip + ip_len;
	uint32_t seq_be = htonl(seq);
	uint16_t csum;

	if (v4 != sl_ip_addr_is_v4(dst))
		return 0;
	memset(ip, 0, len);
	if (v4) {
		uint16_t tot = htons(len);
		ip[0] = 0x45;
		memcpy(ip + 2, &tot, 2);
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = SL_PROTO_TCP;
		memcpy(ip + 12, &src->bytes[12], 4);
		memcpy(ip + 16, &dst->bytes[12], 4);
		csum = sl_ipv4_header_csum(ip, 20);
		memcpy(ip + 10, &csum, 2);
	} else {
		uint16_t plen = htons(20);
		ip[0] = 0x60;
		memcpy(ip + 4, &plen, 2);
		ip[6] = SL_PROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, src->bytes, 16);
		memcpy(ip + 24, dst->bytes, 16);
	}
	memcpy(tcp, &sport_be, 2);
	memcpy(tcp + 2, &dport_be, 2);
	memcpy(tcp + 4, &seq_be, 4);
	tcp[12] = 5 << 4;
	tcp[13] = SL_TCP_RST;
	csum = sl_l4_csum(ip, v4 ? SL_AF_IPV4 : SL_AF_IPV6, SL_PROTO_TCP, tcp, 20);
	memcpy(tcp + 16, &csum, 2);
	return len;
}
