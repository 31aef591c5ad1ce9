/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_xdp_abi.h: what sluice's XDP steering program and sluiced share.
 *
 * On an AF_XDP port (net_af_xdp over a kernel interface) the program in
 * dataplane/bpf/sl_xdp_steer.bpf.c sees every frame the interface receives
 * and decides, with the maps below, whether sluice must see it (redirect to
 * the AF_XDP socket of the receive queue) or the kernel (XDP_PASS). sluiced
 * (dataplane/sl_xdp.c) writes the maps through libbpf each time a
 * configuration is published, and reads the counters.
 *
 * This header is compiled both by clang for the BPF target and by the C
 * compiler of sluiced: it uses only <linux/types.h>. Map and program names
 * are part of the contract: sluiced finds the maps of the program that the
 * PMD loaded by these names.
 */
#ifndef SL_XDP_ABI_H
#define SL_XDP_ABI_H

#include <linux/types.h>

#define SL_XDP_PROG_NAME "sl_xdp_steer"    /* the program's function name */
#define SL_XDP_MAP_XSKS "xsks_map"          /* XSKMAP: queue -> socket (filled by the PMD) */
#define SL_XDP_MAP_ADDRS "sl_addrs"         /* HASH: struct sl_xdp_addr_key -> flags */
#define SL_XDP_MAP_ENDPOINTS "sl_endpoints" /* HASH: struct sl_xdp_ep_key -> 1 */
#define SL_XDP_MAP_COUNTERS "sl_counters"   /* PERCPU_ARRAY, one entry: struct sl_xdp_counters */

#define SL_XDP_MAX_QUEUES 256 /* start_queue + queue_count of a port */
#define SL_XDP_MAX_ADDRS 16384
#define SL_XDP_MAX_ENDPOINTS 65536

/*
 * An address, both families in one form: IPv4 as ::ffff:a.b.c.d, as
 * everywhere in sluice (sl_types.h).
 */
struct sl_xdp_addr_key {
	__u8 addr[16];
};

/* sl_addrs values: what an address is (bits may combine). */
#define SL_XDP_FRONTEND 1u     /* a frontend of some rule: sluice takes what is sent to it */
#define SL_XDP_OWN 2u          /* an address of the sluice port (ipv4Address, ipv6Address) */
#define SL_XDP_DNAT_BACKEND 4u /* a DNAT backend: its non-first fragments are replies */
#define SL_XDP_HOST 8u         /* an address of the host's kernel: never taken from it */

/*
 * A DNAT backend endpoint: replies come from it. proto 0 with port 0 is
 * an HA ports rule's backend (every TCP and UDP port).
 */
struct sl_xdp_ep_key {
	__u8 addr[16];
	__u16 port_be; /* network byte order; 0 with proto 0 */
	__u8 proto;    /* 6, 17, or 0 (any of them) */
	__u8 pad;
};

/* The counters' indexes in struct sl_xdp_counters (one a CPU, summed by sluiced). */
enum sl_xdp_counter {
	SL_XDP_CTR_REDIRECTED = 0, /* handed to sluice's AF_XDP socket */
	SL_XDP_CTR_PASSED,         /* left to the kernel stack */
	SL_XDP_CTR_DROPPED,        /* sluice's, but no sluice socket on the receive queue */
	SL_XDP_CTR_TO_FRONTEND,    /* of the redirected: other packets to a frontend or the port */
	SL_XDP_CTR_REPLY,          /* of the redirected: DNAT replies and their fragments */
	SL_XDP_CTR_NEIGHBOUR,      /* of the redirected: ARP, NS for sluice's addresses */
	SL_XDP_CTR_ICMP_ERROR,     /* of the redirected: ICMP errors to sluice's addresses */
	SL_XDP_CTR_MAX
};

struct sl_xdp_counters {
	__u64 c[SL_XDP_CTR_MAX];
};

#endif /* SL_XDP_ABI_H */
