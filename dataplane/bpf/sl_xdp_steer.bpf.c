/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_xdp_steer.bpf.c: the XDP program of sluice's AF_XDP ports.
 *
 * It runs on the kernel interface under a net_af_xdp port, before the
 * kernel's stack, and hands sluice only what sluice must see; everything
 * else goes on to the kernel untouched (XDP_PASS). Redirected to the
 * AF_XDP socket of the receive queue:
 *
 *   - IPv4/IPv6 packets to a frontend or to the port's own address, every
 *     fragment included (the destination is in every fragment);
 *   - DNAT replies: TCP/UDP from a DNAT backend endpoint (address,
 *     protocol, port; or address alone for an HA ports rule), and non-first
 *     fragments from a DNAT backend address;
 *   - ARP whose target is a frontend or the port's address, and NS whose
 *     target is one (NA and other replies come to the port's address).
 *
 * ICMP and ICMPv6 errors quoting a frontend (or the port's address) are
 * addressed to it, since the quoted packet left from it (a DNAT reply, a
 * Floating IP backend's answer, a tunnel): the first rule takes them, and
 * counts them as ICMP errors. An error to another address that quotes a
 * frontend as destination is about a client's packet and belongs to
 * whoever routes for that client: it is passed.
 *
 * Never redirected: anything to an address of the host's kernel (sluiced
 * keeps those in the same map), so the host's own services, its health
 * probes' replies and its routing daemon keep working on the same NIC.
 *
 * The maps (sl_xdp_abi.h) are written by sluiced through libbpf; the
 * AF_XDP PMD loads this object (devarg xdp_prog) and fills xsks_map.
 * One 802.1Q tag is looked through. Frames too short for the headers
 * they announce go to the kernel, which counts them as its own.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "sl_xdp_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, SL_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SL_XDP_MAX_ADDRS);
	__type(key, struct sl_xdp_addr_key);
	__type(value, __u32);
} sl_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SL_XDP_MAX_ENDPOINTS);
	__type(key, struct sl_xdp_ep_key);
	__type(value, __u32);
} sl_endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_xdp_counters);
} sl_counters SEC(".maps");

#define ETH_P_8021Q_BE bpf_htons(0x8100)
#define ETH_P_IP_BE bpf_htons(0x0800)
#define ETH_P_IPV6_BE bpf_htons(0x86DD)
#define ETH_P_ARP_BE bpf_htons(0x0806)

#define SL_SELF (SL_XDP_FRONTEND | SL_XDP_OWN)

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* ARP for IPv4 over Ethernet: the fixed header and its addresses. */
struct arp_eth_ipv4 {
	__be16 hrd;
	__be16 pro;
	__u8 hln;
	__u8 pln;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
};

static __always_inline void
key_v4(struct sl_xdp_addr_key *k, const void *v4)
{
	__builtin_memset(k->addr, 0, 10);
	k->addr[10] = 0xff;
	k->addr[11] = 0xff;
	__builtin_memcpy(&k->addr[12], v4, 4);
}

static __always_inline void
key_v6(struct sl_xdp_addr_key *k, const void *v6)
{
	__builtin_memcpy(k->addr, v6, 16);
}

static __always_inline __u32
addr_flags(const struct sl_xdp_addr_key *k)
{
	const __u32 *f = bpf_map_lookup_elem(&sl_addrs, k);
	return f != 0 ? *f : 0;
}

/* Is (addr, proto, sport) a DNAT backend endpoint (or the address behind an HA ports rule)? */
static __always_inline int
is_endpoint(const struct sl_xdp_addr_key *a, __u8 proto, __be16 sport)
{
	struct sl_xdp_ep_key k;

	__builtin_memcpy(k.addr, a->addr, 16);
	k.port_be = sport;
	k.proto = proto;
	k.pad = 0;
	if (bpf_map_lookup_elem(&sl_endpoints, &k) != 0)
		return 1;
	k.port_be = 0;
	k.proto = 0;
	return bpf_map_lookup_elem(&sl_endpoints, &k) != 0;
}

static __always_inline struct sl_xdp_counters *
counters(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&sl_counters, &zero);
}

static __always_inline int
pass(void)
{
	struct sl_xdp_counters *c = counters();
	if (c != 0)
		c->c[SL_XDP_CTR_PASSED]++;
	return XDP_PASS;
}

/*
 * Hand the frame to sluice's socket on this receive queue. A queue with
 * no socket (sluice serves fewer queues than the NIC has) drops it: the
 * kernel does not own sluice's addresses and must not route them.
 */
static __always_inline int
to_sluice(struct xdp_md *ctx, __u32 why)
{
	int act = bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_DROP);
	struct sl_xdp_counters *c = counters();

	if (c != 0) {
		if (act == XDP_REDIRECT) {
			c->c[SL_XDP_CTR_REDIRECTED]++;
			c->c[why]++;
		} else {
			c->c[SL_XDP_CTR_DROPPED]++;
		}
	}
	return act;
}

/* ICMP: destination unreachable, time exceeded, parameter problem. ICMPv6: types 1 to 4. */
static __always_inline int
icmp_error(__u8 proto, const __u8 *icmp, const void *end)
{
	if ((const void *)(icmp + 1) > end)
		return 0;
	if (proto == IPPROTO_ICMP)
		return icmp[0] == 3 || icmp[0] == 11 || icmp[0] == 12;
	return proto == 58 && icmp[0] >= 1 && icmp[0] <= 4;
}

static __always_inline int
steer_v4(struct xdp_md *ctx, const void *l3, const void *end)
{
	const struct iphdr *ip = l3;
	struct sl_xdp_addr_key k;
	__u32 dflags, sflags;

	if ((const void *)(ip + 1) > end || ip->ihl < 5)
		return pass();
	key_v4(&k, &ip->daddr);
	dflags = addr_flags(&k);
	if (dflags & SL_XDP_HOST)
		return pass();
	const void *l4 = l3 + ip->ihl * 4;
	__u16 frag = bpf_ntohs(ip->frag_off);
	if (dflags & SL_SELF)
		return to_sluice(ctx, (frag & 0x1fff) == 0 && icmp_error(ip->protocol, l4, end)
					      ? SL_XDP_CTR_ICMP_ERROR
					      : SL_XDP_CTR_TO_FRONTEND);
	key_v4(&k, &ip->saddr);
	sflags = addr_flags(&k);
	if (sflags & SL_XDP_DNAT_BACKEND) {
		if (frag & 0x1fff) /* a later fragment: no ports, the source decides */
			return to_sluice(ctx, SL_XDP_CTR_REPLY);
		if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
			const __be16 *ports = l4;
			if ((const void *)(ports + 2) > end)
				return pass();
			if (is_endpoint(&k, ip->protocol, ports[0]))
				return to_sluice(ctx, SL_XDP_CTR_REPLY);
		}
	}
	return pass();
}

#define SL_V6_EXT_MAX 4

static __always_inline int
steer_v6(struct xdp_md *ctx, const void *l3, const void *end)
{
	const struct ipv6hdr *ip6 = l3;
	struct sl_xdp_addr_key k;
	__u32 dflags, sflags;

	if ((const void *)(ip6 + 1) > end)
		return pass();
	key_v6(&k, &ip6->daddr);
	dflags = addr_flags(&k);
	if (dflags & SL_XDP_HOST)
		return pass();

	/* walk the extension headers to the upper layer (or a later fragment) */
	const __u8 *h = (const __u8 *)(ip6 + 1);
	__u8 nh = ip6->nexthdr;
	int later_fragment = 0;
#pragma unroll
	for (int i = 0; i < SL_V6_EXT_MAX; i++) {
		if (nh == 0 || nh == 43 || nh == 60) { /* hop-by-hop, routing, destination */
			if ((const void *)(h + 2) > end)
				return pass();
			nh = h[0];
			h += (h[1] + 1) * 8;
		} else if (nh == 44) { /* fragment */
			if ((const void *)(h + 8) > end)
				return pass();
			nh = h[0];
			later_fragment = (((__u16)h[2] << 8 | h[3]) & 0xfff8) != 0;
			h += 8;
			if (later_fragment)
				break; /* what follows is payload */
		} else {
			break;
		}
	}

	if (dflags & SL_SELF)
		return to_sluice(ctx, !later_fragment && icmp_error(nh, h, end)
					      ? SL_XDP_CTR_ICMP_ERROR
					      : SL_XDP_CTR_TO_FRONTEND);
	key_v6(&k, &ip6->saddr);
	sflags = addr_flags(&k);
	if (sflags & SL_XDP_DNAT_BACKEND) {
		if (later_fragment)
			return to_sluice(ctx, SL_XDP_CTR_REPLY);
		if (nh == IPPROTO_TCP || nh == IPPROTO_UDP) {
			const __be16 *ports = (const void *)h;
			if ((const void *)(ports + 2) > end)
				return pass();
			if (is_endpoint(&k, nh, ports[0]))
				return to_sluice(ctx, SL_XDP_CTR_REPLY);
		}
	}
	if (nh == 58 && !later_fragment) { /* ICMPv6 */
		const __u8 *icmp = h;
		if ((const void *)(icmp + 8) > end)
			return pass();
		if (icmp[0] == 135) { /* neighbour solicitation: the target follows */
			if ((const void *)(icmp + 24) > end)
				return pass();
			key_v6(&k, icmp + 8);
			dflags = addr_flags(&k);
			if ((dflags & SL_SELF) && !(dflags & SL_XDP_HOST))
				return to_sluice(ctx, SL_XDP_CTR_NEIGHBOUR);
		}
	}
	return pass();
}

SEC("xdp")
int
sl_xdp_steer(struct xdp_md *ctx)
{
	const void *data = (const void *)(long)ctx->data;
	const void *end = (const void *)(long)ctx->data_end;
	const struct ethhdr *eth = data;
	const void *l3 = eth + 1;
	__be16 proto;

	if (l3 > end)
		return pass();
	proto = eth->h_proto;
	if (proto == ETH_P_8021Q_BE) {
		const struct vlan_hdr *v = l3;
		if ((const void *)(v + 1) > end)
			return pass();
		proto = v->proto;
		l3 = v + 1;
	}
	if (proto == ETH_P_IP_BE)
		return steer_v4(ctx, l3, end);
	if (proto == ETH_P_IPV6_BE)
		return steer_v6(ctx, l3, end);
	if (proto == ETH_P_ARP_BE) {
		const struct arp_eth_ipv4 *arp = l3;
		struct sl_xdp_addr_key k;
		__u32 f;

		/* the layout above is Ethernet's (6-byte) and IPv4's (4-byte) addresses only */
		if ((const void *)(arp + 1) > end || arp->pro != ETH_P_IP_BE || arp->hln != 6 ||
		    arp->pln != 4)
			return pass();
		key_v4(&k, arp->tpa);
		f = addr_flags(&k);
		if ((f & SL_SELF) && !(f & SL_XDP_HOST))
			return to_sluice(ctx, SL_XDP_CTR_NEIGHBOUR);
	}
	return pass();
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
