/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_xdp_steer.c: the verdicts of sluice's XDP steering program
 * (dataplane/bpf/sl_xdp_steer.bpf.c), run by the kernel on crafted frames
 * through BPF_PROG_TEST_RUN: the built object is loaded with libbpf (not
 * attached to any interface), sl_addrs and sl_endpoints are filled as
 * sluiced fills them, and each frame's verdict and the per-CPU counters it
 * moved (summed over the possible CPUs) are checked.
 *
 * A frame that is sluice's is run twice: with xsks_map empty (no sluice
 * socket on the queue: XDP_DROP, counted "dropped") and with an AF_XDP
 * socket (unbound) in xsks_map for queue 0 (XDP_REDIRECT, counted
 * "redirected" and by its kind). A frame that is the kernel's is XDP_PASS,
 * counted "passed", either way. The program never changes a frame.
 *
 * Loading BPF needs CAP_BPF or CAP_SYS_ADMIN: without them every test is
 * skipped with a message (and the executable exits 77, which meson counts
 * as skipped); as root a failure to load is a failure. The object is
 * SL_XDP_OBJECT from the environment, else the build's (compile-time).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_xdp.h>

#include <cmocka.h>

#include "sl_xdp_abi.h"
#include "sl_xdp_maps.h"

#ifndef SL_XDP_OBJECT_BUILT
#define SL_XDP_OBJECT_BUILT "build/dataplane/sl_xdp_steer.o"
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#ifndef AF_XDP
#define AF_XDP 44
#endif

#define UMEM_SIZE (64 * 4096)

static struct {
	struct bpf_object *obj;
	int prog, addrs, eps, ctrs, xsks;
	int ncpus;
	int xsk;    /* an AF_XDP socket for queue 0, or -1 (redirects not checked) */
	void *umem;
	const char *skip_why; /* set: every test skips */
} g = {.xsk = -1};

/* ---- addresses and map entries ---- */

static void
key_of(const char *text, uint8_t out[16])
{
	struct in_addr a4;

	memset(out, 0, 16);
	if (inet_pton(AF_INET, text, &a4) == 1) {
		out[10] = out[11] = 0xff;
		memcpy(&out[12], &a4, 4);
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, text, out), 1);
}

static void
put_addr(const char *text, uint32_t flags)
{
	struct sl_xdp_addr_key k;

	key_of(text, k.addr);
	assert_int_equal(bpf_map_update_elem(g.addrs, &k, &flags, BPF_ANY), 0);
}

static void
put_endpoint(const char *text, uint8_t proto, uint16_t port)
{
	struct sl_xdp_ep_key k;
	uint32_t one = 1;

	memset(&k, 0, sizeof(k));
	key_of(text, k.addr);
	k.proto = proto;
	k.port_be = htons(port);
	assert_int_equal(bpf_map_update_elem(g.eps, &k, &one, BPF_ANY), 0);
}

/* ---- frames ---- */

struct frame {
	uint8_t b[512];
	size_t n;
	size_t l3;   /* where the outer IP header starts */
	int v6;      /* the outer header is IPv6 */
	int has_l3;
};

static uint8_t *
put(struct frame *f, size_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	uint8_t *p = f->b + f->n;
	memset(p, 0, n);
	f->n += n;
	return p;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
eth(struct frame *f, uint16_t type)
{
	static const uint8_t mac[12] = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
	uint8_t *p = put(f, 14);

	memcpy(p, mac, 12);
	put16(p + 12, type);
}

/* Ethernet with one 802.1Q tag (VLAN vid) before type. */
static void
eth_vlan(struct frame *f, uint16_t vid, uint16_t type)
{
	eth(f, 0x8100);
	uint8_t *p = put(f, 4);
	put16(p, vid);
	put16(p + 2, type);
}

static void
ip4_csum(uint8_t *p)
{
	uint32_t sum = 0;

	p[10] = p[11] = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(p + 10, (uint16_t)~sum);
}

static void
ip4_at(uint8_t *p, uint8_t proto, const char *src, const char *dst, uint16_t frag,
       uint16_t tot_len)
{
	p[0] = 0x45;
	put16(p + 2, tot_len);
	put16(p + 4, 0x1234);
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	assert_int_equal(inet_pton(AF_INET, src, p + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, p + 16), 1);
	ip4_csum(p);
}

/* An IPv4 header (frag: flags and offset in 8-byte units, as on the wire). */
static void
ip4(struct frame *f, uint8_t proto, const char *src, const char *dst, uint16_t frag)
{
	f->l3 = f->n;
	f->v6 = 0;
	f->has_l3 = 1;
	ip4_at(put(f, 20), proto, src, dst, frag, 20);
}

static void
ip6_at(uint8_t *p, uint8_t nh, const char *src, const char *dst, uint16_t plen)
{
	p[0] = 0x60;
	put16(p + 4, plen);
	p[6] = nh;
	p[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, src, p + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, p + 24), 1);
}

static void
ip6(struct frame *f, uint8_t nh, const char *src, const char *dst)
{
	f->l3 = f->n;
	f->v6 = 1;
	f->has_l3 = 1;
	ip6_at(put(f, 40), nh, src, dst, 0);
}

/* An IPv6 extension header of 8 bytes (hop-by-hop, routing, destination options). */
static void
ext6(struct frame *f, uint8_t nh)
{
	uint8_t *p = put(f, 8);
	p[0] = nh;
	p[1] = 0;
	p[2] = 1; /* PadN of 4 bytes */
	p[3] = 4;
}

/* An IPv6 fragment header: offset in 8-byte units, more fragments or not. */
static void
frag6(struct frame *f, uint8_t nh, uint16_t offset, int more)
{
	uint8_t *p = put(f, 8);
	p[0] = nh;
	put16(p + 2, (uint16_t)(offset << 3 | (more ? 1 : 0)));
	p[4] = 0xab;
	p[7] = 0x01;
}

static void
tcp(struct frame *f, uint16_t sport, uint16_t dport)
{
	uint8_t *p = put(f, 20);
	put16(p, sport);
	put16(p + 2, dport);
	p[12] = 5 << 4;
	p[13] = 0x10; /* ACK */
	put16(p + 14, 65535);
}

static void
udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	uint8_t *p = put(f, 8);
	put16(p, sport);
	put16(p + 2, dport);
	put16(p + 4, 8 + 16);
	put(f, 16);
}

static void
payload(struct frame *f, size_t n)
{
	uint8_t *p = put(f, n);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(0x41 + i % 26);
}

/* An ICMP error (type, code) quoting an IPv4 UDP packet src -> dst. */
static void
icmp4_error(struct frame *f, uint8_t type, uint8_t code, const char *src, const char *dst)
{
	uint8_t *p = put(f, 8);
	p[0] = type;
	p[1] = code;
	ip4_at(put(f, 20), 17, src, dst, 0, 48);
	uint8_t *u = put(f, 8);
	put16(u, 40000);
	put16(u + 2, 53);
}

/* An ICMPv6 error (type, code) quoting an IPv6 UDP packet src -> dst. */
static void
icmp6_error(struct frame *f, uint8_t type, uint8_t code, const char *src, const char *dst)
{
	uint8_t *p = put(f, 8);
	p[0] = type;
	p[1] = code;
	ip6_at(put(f, 40), 17, src, dst, 8);
	uint8_t *u = put(f, 8);
	put16(u, 40000);
	put16(u + 2, 53);
}

/* ICMPv6 neighbour solicitation (135) or advertisement (136) for target. */
static void
icmp6_nd(struct frame *f, uint8_t type, const char *target)
{
	uint8_t *p = put(f, 24);
	p[0] = type;
	assert_int_equal(inet_pton(AF_INET6, target, p + 8), 1);
	uint8_t *o = put(f, 8); /* source/target link-layer address option */
	o[0] = type == 135 ? 1 : 2;
	o[1] = 1;
	o[2] = 0x02;
	o[7] = 0x02;
}

/* ARP for IPv4 over Ethernet: op 1 (request) or 2 (reply), sender spa, target tpa. */
static void
arp(struct frame *f, uint16_t op, const char *spa, const char *tpa)
{
	uint8_t *p = put(f, 28);
	put16(p, 1);
	put16(p + 2, 0x0800);
	p[4] = 6;
	p[5] = 4;
	put16(p + 6, op);
	p[8] = 0x02;
	p[13] = 0x02;
	assert_int_equal(inet_pton(AF_INET, spa, p + 14), 1);
	assert_int_equal(inet_pton(AF_INET, tpa, p + 24), 1);
}

/* Set the outer IP header's length to what follows it. */
static void
finish(struct frame *f)
{
	if (!f->has_l3)
		return;
	uint8_t *p = f->b + f->l3;
	if (f->v6) {
		put16(p + 4, (uint16_t)(f->n - f->l3 - 40));
		return;
	}
	put16(p + 2, (uint16_t)(f->n - f->l3));
	ip4_csum(p);
}

/* ---- running and counting ---- */

static void
counters(uint64_t out[SL_XDP_CTR_MAX])
{
	struct sl_xdp_counters per[g.ncpus];
	uint32_t zero = 0;

	memset(out, 0, SL_XDP_CTR_MAX * sizeof(out[0]));
	assert_int_equal(bpf_map_lookup_elem(g.ctrs, &zero, per), 0);
	for (int c = 0; c < g.ncpus; c++)
		for (int k = 0; k < SL_XDP_CTR_MAX; k++)
			out[k] += per[c].c[k];
}

static void
xsk_in_map(int present)
{
	uint32_t q = 0;

	if (present)
		assert_int_equal(bpf_map_update_elem(g.xsks, &q, &g.xsk, BPF_ANY), 0);
	else if (bpf_map_delete_elem(g.xsks, &q) != 0)
		assert_int_equal(errno, ENOENT);
}

/* Run f once; its verdict, with the frame checked unchanged and the counters' moves in d. */
static uint32_t
run(const struct frame *f, uint64_t d[SL_XDP_CTR_MAX])
{
	uint8_t out[sizeof(f->b)];
	uint64_t before[SL_XDP_CTR_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f->b, .data_size_in = (uint32_t)f->n,
		    .data_out = out, .data_size_out = sizeof(out));

	counters(before);
	assert_int_equal(bpf_prog_test_run_opts(g.prog, &t), 0);
	assert_int_equal(t.data_size_out, f->n);
	assert_memory_equal(out, f->b, f->n);
	counters(d);
	for (int k = 0; k < SL_XDP_CTR_MAX; k++)
		d[k] -= before[k];
	return t.retval;
}

#define KERNEL SL_XDP_CTR_MAX /* expect(): the kernel's (XDP_PASS) */

static const char *const ctr_name[SL_XDP_CTR_MAX] = {
	"redirected", "passed", "dropped", "to_frontend", "reply", "neighbour", "icmp_error"};

static void
expect_moves(const uint64_t d[SL_XDP_CTR_MAX], const uint64_t want[SL_XDP_CTR_MAX],
	     const char *what)
{
	for (int k = 0; k < SL_XDP_CTR_MAX; k++)
		if (d[k] != want[k])
			fail_msg("%s: counter %s moved by %llu, expected %llu", what, ctr_name[k],
				 (unsigned long long)d[k], (unsigned long long)want[k]);
}

/*
 * The frame is sluice's, counted as kind (SL_XDP_CTR_TO_FRONTEND, _REPLY,
 * _NEIGHBOUR, _ICMP_ERROR), or the kernel's (KERNEL).
 */
static void
expect_at(struct frame *f, int kind, const char *what, int line)
{
	uint64_t d[SL_XDP_CTR_MAX], want[SL_XDP_CTR_MAX] = {0};
	char tag[160];
	uint32_t v;

	finish(f);
	snprintf(tag, sizeof(tag), "line %d: %s", line, what);
	xsk_in_map(0);
	v = run(f, d);
	if (kind == KERNEL) {
		if (v != XDP_PASS)
			fail_msg("%s: verdict %u, expected XDP_PASS", tag, v);
		want[SL_XDP_CTR_PASSED] = 1;
	} else {
		if (v != XDP_DROP)
			fail_msg("%s: verdict %u, expected XDP_DROP (sluice's, no socket)", tag, v);
		want[SL_XDP_CTR_DROPPED] = 1;
	}
	expect_moves(d, want, tag);
	if (g.xsk < 0)
		return;
	xsk_in_map(1);
	v = run(f, d);
	xsk_in_map(0);
	memset(want, 0, sizeof(want));
	if (kind == KERNEL) {
		if (v != XDP_PASS)
			fail_msg("%s: verdict %u with a socket, expected XDP_PASS", tag, v);
		want[SL_XDP_CTR_PASSED] = 1;
	} else {
		if (v != XDP_REDIRECT)
			fail_msg("%s: verdict %u with a socket, expected XDP_REDIRECT", tag, v);
		want[SL_XDP_CTR_REDIRECTED] = 1;
		want[kind] = 1;
	}
	expect_moves(d, want, tag);
}

#define expect(f, kind, what) expect_at(f, kind, what, __LINE__)

/* ---- the addresses of the tests ---- */

#define FE4 "10.77.100.10"   /* a frontend */
#define FE6 "fd77::10"
#define OWN4 "10.66.2.10"    /* the port's own addresses */
#define OWN6 "fd66:2::10"
#define HOST4 "10.66.2.3"    /* the host kernel's */
#define HOST6 "fd66:2::3"
#define BOTH4 "10.77.100.20" /* a frontend that is also the host's */
#define BOTH6 "fd77::20"
#define BE4 "10.88.2.11"     /* a DNAT backend: TCP 8080, UDP 5353 */
#define BE6 "fd88:2::11"
#define HA4 "10.88.2.12"     /* a DNAT backend of an HA ports rule */
#define HA6 "fd88:2::12"
#define CLIENT4 "10.55.0.2"
#define CLIENT6 "fd55::2"
#define OTHER4 "10.99.0.1"   /* nothing of anyone's here */
#define OTHER6 "fd99::1"
#define ROUTER4 "10.66.2.1"
#define ROUTER6 "fd66:2::1"

static void
clear_map(int fd, size_t klen)
{
	uint8_t k[64], next[64];

	assert_true(klen <= sizeof(k));
	while (bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(k, next, klen);
		assert_int_equal(bpf_map_delete_elem(fd, k), 0);
	}
}

static int
setup(void **state)
{
	(void)state;
	if (g.skip_why != NULL)
		return 0;
	clear_map(g.addrs, sizeof(struct sl_xdp_addr_key));
	clear_map(g.eps, sizeof(struct sl_xdp_ep_key));
	put_addr(FE4, SL_XDP_FRONTEND);
	put_addr(FE6, SL_XDP_FRONTEND);
	put_addr(OWN4, SL_XDP_OWN);
	put_addr(OWN6, SL_XDP_OWN);
	put_addr(HOST4, SL_XDP_HOST);
	put_addr(HOST6, SL_XDP_HOST);
	put_addr(BOTH4, SL_XDP_FRONTEND | SL_XDP_HOST);
	put_addr(BOTH6, SL_XDP_FRONTEND | SL_XDP_HOST);
	put_addr(BE4, SL_XDP_DNAT_BACKEND);
	put_addr(BE6, SL_XDP_DNAT_BACKEND);
	put_addr(HA4, SL_XDP_DNAT_BACKEND);
	put_addr(HA6, SL_XDP_DNAT_BACKEND);
	put_endpoint(BE4, IPPROTO_TCP, 8080);
	put_endpoint(BE4, IPPROTO_UDP, 5353);
	put_endpoint(BE6, IPPROTO_TCP, 8080);
	put_endpoint(HA4, 0, 0);
	put_endpoint(HA6, 0, 0);
	return 0;
}

#define PRELUDE()                                   \
	do {                                        \
		(void)state;                        \
		if (g.skip_why != NULL) {           \
			print_message("%s\n", g.skip_why); \
			skip();                     \
		}                                   \
	} while (0)

/* ---- the cases ---- */

static void
test_to_frontend(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth(&f, 0x0800), ip4(&f, 6, CLIENT4, FE4, 0), tcp(&f, 40000, 80);
	expect(&f, SL_XDP_CTR_TO_FRONTEND, "TCP to an IPv4 frontend");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 17, CLIENT4, FE4, 0), udp(&f, 40000, 53);
	expect(&f, SL_XDP_CTR_TO_FRONTEND, "UDP to an IPv4 frontend");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 6, CLIENT6, FE6), tcp(&f, 40000, 80);
	expect(&f, SL_XDP_CTR_TO_FRONTEND, "TCP to an IPv6 frontend");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 17, CLIENT6, FE6), udp(&f, 40000, 53);
	expect(&f, SL_XDP_CTR_TO_FRONTEND, "UDP to an IPv6 frontend");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 47, CLIENT4, FE4, 0), payload(&f, 24);
	expect(&f, SL_XDP_CTR_TO_FRONTEND, "GRE to an IPv4 frontend (any protocol)");
}

static void
test_to_own_address(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth(&f, 0x0800), ip4(&f, 6, CLIENT4, OWN4, 0), tcp(&f, 40000, 179);
	expect(&f, SL_XDP_CTR_TO_FRONTEND, "TCP to the port's IPv4 address");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 1, ROUTER4, OWN4, 0), payload(&f, 16);
	f.b[f.n - 16] = 8; /* echo request */
	expect(&f, SL_XDP_CTR_TO_FRONTEND, "ping of the port's IPv4 address");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 58, ROUTER6, OWN6), payload(&f, 16);
	f.b[f.n - 16] = 128; /* echo request */
	expect(&f, SL_XDP_CTR_TO_FRONTEND, "ping of the port's IPv6 address");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 58, ROUTER6, OWN6), icmp6_nd(&f, 136, ROUTER6);
	expect(&f, SL_XDP_CTR_TO_FRONTEND, "NA to the port's IPv6 address");
}

static void
test_to_host_address(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth(&f, 0x0800), ip4(&f, 6, CLIENT4, HOST4, 0), tcp(&f, 40000, 22);
	expect(&f, KERNEL, "SSH to the host's IPv4 address");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 6, CLIENT6, HOST6), tcp(&f, 40000, 22);
	expect(&f, KERNEL, "SSH to the host's IPv6 address");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 17, CLIENT4, HOST4, 0x2000), udp(&f, 40000, 53);
	expect(&f, KERNEL, "a first fragment to the host's address");
}

static void
test_frontend_and_host(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth(&f, 0x0800), ip4(&f, 6, CLIENT4, BOTH4, 0), tcp(&f, 40000, 80);
	expect(&f, KERNEL, "TCP to an IPv4 frontend that is the host's");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 17, CLIENT6, BOTH6), udp(&f, 40000, 53);
	expect(&f, KERNEL, "UDP to an IPv6 frontend that is the host's");
	f = (struct frame){0};
	eth(&f, 0x0806), arp(&f, 1, ROUTER4, BOTH4);
	expect(&f, KERNEL, "ARP for a frontend that is the host's");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 58, ROUTER6, "ff02::1:ff00:20"), icmp6_nd(&f, 135, BOTH6);
	expect(&f, KERNEL, "NS for a frontend that is the host's");
}

static void
test_unrelated(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth(&f, 0x0800), ip4(&f, 6, CLIENT4, OTHER4, 0), tcp(&f, 40000, 80);
	expect(&f, KERNEL, "IPv4 TCP between strangers");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 17, CLIENT6, OTHER6), udp(&f, 40000, 53);
	expect(&f, KERNEL, "IPv6 UDP between strangers");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 6, FE4, CLIENT4, 0), tcp(&f, 80, 40000);
	expect(&f, KERNEL, "from a frontend (the destination decides)");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 1, ROUTER4, CLIENT4, 0), payload(&f, 36);
	f.b[f.n - 36] = 8; /* an echo request, not an error */
	memcpy(f.b + f.n - 12, (const uint8_t[]){10, 77, 100, 10}, 4);
	expect(&f, KERNEL, "ICMP echo whose data looks like a frontend");
	f = (struct frame){0};
	eth(&f, 0x88cc), payload(&f, 46);
	expect(&f, KERNEL, "LLDP");
	f = (struct frame){0};
	eth(&f, 0x0806), arp(&f, 1, ROUTER4, OTHER4);
	expect(&f, KERNEL, "ARP for a stranger");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 58, ROUTER6, "ff02::1:ff00:1"), icmp6_nd(&f, 135, OTHER6);
	expect(&f, KERNEL, "NS for a stranger");
}

static void
test_dnat_reply(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth(&f, 0x0800), ip4(&f, 6, BE4, CLIENT4, 0), tcp(&f, 8080, 40000);
	expect(&f, SL_XDP_CTR_REPLY, "TCP from an IPv4 DNAT endpoint");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 17, BE4, CLIENT4, 0), udp(&f, 5353, 40000);
	expect(&f, SL_XDP_CTR_REPLY, "UDP from an IPv4 DNAT endpoint");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 6, BE6, CLIENT6), tcp(&f, 8080, 40000);
	expect(&f, SL_XDP_CTR_REPLY, "TCP from an IPv6 DNAT endpoint");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 6, HA4, CLIENT4, 0), tcp(&f, 443, 40000);
	expect(&f, SL_XDP_CTR_REPLY, "TCP from an HA ports backend");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 17, HA4, CLIENT4, 0), udp(&f, 9999, 40000);
	expect(&f, SL_XDP_CTR_REPLY, "UDP from an HA ports backend");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 17, HA6, CLIENT6), udp(&f, 1, 40000);
	expect(&f, SL_XDP_CTR_REPLY, "UDP from an IPv6 HA ports backend");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 6, BE4, CLIENT4, 0);
	f.b[f.l3] = 0x46; /* one word of options: the ports move */
	payload(&f, 4);
	tcp(&f, 8080, 40000);
	expect(&f, SL_XDP_CTR_REPLY, "TCP from a DNAT endpoint, IPv4 options");
}

static void
test_dnat_backend_other_port(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth(&f, 0x0800), ip4(&f, 6, BE4, CLIENT4, 0), tcp(&f, 22, 40000);
	expect(&f, KERNEL, "TCP from a DNAT backend's other port");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 17, BE4, CLIENT4, 0), udp(&f, 8080, 40000);
	expect(&f, KERNEL, "UDP from a DNAT backend's TCP endpoint port");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 6, BE4, CLIENT4, 0), tcp(&f, 5353, 40000);
	expect(&f, KERNEL, "TCP from a DNAT backend's UDP endpoint port");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 6, BE6, CLIENT6), tcp(&f, 8081, 40000);
	expect(&f, KERNEL, "TCP from an IPv6 DNAT backend's other port");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 1, HA4, CLIENT4, 0), payload(&f, 16);
	f.b[f.n - 16] = 0; /* echo reply: not TCP/UDP */
	expect(&f, KERNEL, "ICMP echo reply from an HA ports backend");
}

static void
test_reply_to_host(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth(&f, 0x0800), ip4(&f, 6, BE4, HOST4, 0), tcp(&f, 8080, 41000);
	expect(&f, KERNEL, "a health probe's reply (IPv4)");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 6, BE6, HOST6), tcp(&f, 8080, 41000);
	expect(&f, KERNEL, "a health probe's reply (IPv6)");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 17, HA4, HOST4, 0), udp(&f, 53, 41000);
	expect(&f, KERNEL, "a reply of an HA ports backend to the host");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 17, BE4, HOST4, 185), payload(&f, 64);
	expect(&f, KERNEL, "a later fragment from a DNAT backend to the host");
}

static void
test_fragments_from_backend(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth(&f, 0x0800), ip4(&f, 17, BE4, CLIENT4, 185), payload(&f, 64);
	expect(&f, SL_XDP_CTR_REPLY, "a later IPv4 fragment from a DNAT backend");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 17, BE4, CLIENT4, 0x2000 | 185), payload(&f, 64);
	expect(&f, SL_XDP_CTR_REPLY, "a middle IPv4 fragment from a DNAT backend");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 17, BE4, CLIENT4, 0x2000), udp(&f, 5353, 40000);
	expect(&f, SL_XDP_CTR_REPLY, "a first IPv4 fragment from a DNAT endpoint");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 17, BE4, CLIENT4, 0x2000), udp(&f, 123, 40000);
	expect(&f, KERNEL, "a first IPv4 fragment from a DNAT backend's other port");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 44, BE6, CLIENT6), frag6(&f, 6, 181, 0), payload(&f, 64);
	expect(&f, SL_XDP_CTR_REPLY, "a later IPv6 fragment from a DNAT backend");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 44, BE6, CLIENT6), frag6(&f, 6, 0, 1), tcp(&f, 8080, 40000);
	expect(&f, SL_XDP_CTR_REPLY, "a first IPv6 fragment from a DNAT endpoint");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 44, BE6, CLIENT6), frag6(&f, 6, 0, 1), tcp(&f, 22, 40000);
	expect(&f, KERNEL, "a first IPv6 fragment from a DNAT backend's other port");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 17, CLIENT4, OTHER4, 185), payload(&f, 64);
	expect(&f, KERNEL, "a later IPv4 fragment between strangers");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 44, CLIENT6, OTHER6), frag6(&f, 17, 181, 0), payload(&f, 64);
	expect(&f, KERNEL, "a later IPv6 fragment between strangers");
}

static void
test_fragments_to_frontend(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth(&f, 0x0800), ip4(&f, 17, CLIENT4, FE4, 185), payload(&f, 64);
	expect(&f, SL_XDP_CTR_TO_FRONTEND, "a later IPv4 fragment to a frontend");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 44, CLIENT6, FE6), frag6(&f, 17, 181, 0), payload(&f, 64);
	expect(&f, SL_XDP_CTR_TO_FRONTEND, "a later IPv6 fragment to a frontend");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 17, CLIENT4, OWN4, 185), payload(&f, 64);
	expect(&f, SL_XDP_CTR_TO_FRONTEND, "a later IPv4 fragment to the port's address");
}

static void
test_arp(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth(&f, 0x0806), arp(&f, 1, ROUTER4, FE4);
	expect(&f, SL_XDP_CTR_NEIGHBOUR, "ARP request for a frontend");
	f = (struct frame){0};
	eth(&f, 0x0806), arp(&f, 1, ROUTER4, OWN4);
	expect(&f, SL_XDP_CTR_NEIGHBOUR, "ARP request for the port's address");
	f = (struct frame){0};
	eth(&f, 0x0806), arp(&f, 2, ROUTER4, OWN4);
	expect(&f, SL_XDP_CTR_NEIGHBOUR, "ARP reply to the port's address");
	f = (struct frame){0};
	eth(&f, 0x0806), arp(&f, 1, ROUTER4, HOST4);
	expect(&f, KERNEL, "ARP request for the host's address");
	f = (struct frame){0};
	eth(&f, 0x0806), arp(&f, 1, FE4, CLIENT4);
	expect(&f, KERNEL, "ARP from a frontend (the target decides)");
}

/* ARP whose addresses are not 6 + 4 bytes: FE4 where a 6 + 4 layout has its target. */
static void
test_arp_other_lengths(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth(&f, 0x0806), arp(&f, 1, ROUTER4, FE4);
	f.b[14 + 5] = 16; /* pln */
	payload(&f, 24);
	expect(&f, KERNEL, "ARP with pln 16");
	f = (struct frame){0};
	eth(&f, 0x0806), arp(&f, 1, ROUTER4, FE4);
	f.b[14 + 4] = 8; /* hln: the target moves 4 bytes on, where OTHER4 is */
	payload(&f, 4);
	assert_int_equal(inet_pton(AF_INET, OTHER4, f.b + f.n - 4), 1);
	expect(&f, KERNEL, "ARP with hln 8");
	f = (struct frame){0};
	eth(&f, 0x0806), arp(&f, 1, ROUTER4, FE4);
	put16(f.b + 14 + 2, 0x86dd); /* pro */
	expect(&f, KERNEL, "ARP for another protocol");
}

static void
test_ns(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth(&f, 0x86dd), ip6(&f, 58, ROUTER6, "ff02::1:ff00:10"), icmp6_nd(&f, 135, FE6);
	expect(&f, SL_XDP_CTR_NEIGHBOUR, "NS for a frontend");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 58, "::", "ff02::1:ff00:10"), icmp6_nd(&f, 135, OWN6);
	expect(&f, SL_XDP_CTR_NEIGHBOUR, "DAD NS for the port's address");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 58, ROUTER6, "ff02::1:ff00:3"), icmp6_nd(&f, 135, HOST6);
	expect(&f, KERNEL, "NS for the host's address");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 58, ROUTER6, "ff02::1"), icmp6_nd(&f, 136, FE6);
	expect(&f, KERNEL, "NA to all nodes naming a frontend");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 58, ROUTER6, "ff02::1:ff00:10"), put(&f, 16);
	f.b[f.n - 16] = 135; /* an NS cut before its target's end */
	expect(&f, KERNEL, "NS cut short");
}

static void
test_icmp_errors(void **state)
{
	PRELUDE();
	struct frame f = {0};

	/* errors about what sluice sent are addressed to where it left from */
	eth(&f, 0x0800), ip4(&f, 1, ROUTER4, FE4, 0), icmp4_error(&f, 3, 4, FE4, CLIENT4);
	expect(&f, SL_XDP_CTR_ICMP_ERROR, "ICMP fragmentation needed to a frontend");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 1, ROUTER4, OWN4, 0), icmp4_error(&f, 11, 0, OWN4, BE4);
	expect(&f, SL_XDP_CTR_ICMP_ERROR, "ICMP time exceeded to the port's address (a tunnel)");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 1, ROUTER4, FE4, 0), icmp4_error(&f, 12, 0, FE4, CLIENT4);
	expect(&f, SL_XDP_CTR_ICMP_ERROR, "ICMP parameter problem to a frontend");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 1, ROUTER4, FE4, 0), icmp4_error(&f, 5, 0, FE4, CLIENT4);
	expect(&f, SL_XDP_CTR_TO_FRONTEND, "ICMP redirect to a frontend: sluice's, not an error");
	f = (struct frame){0};
	/* an error about a client's packet to a frontend is the client's */
	eth(&f, 0x0800), ip4(&f, 1, ROUTER4, CLIENT4, 0), icmp4_error(&f, 3, 4, CLIENT4, FE4);
	expect(&f, KERNEL, "ICMP unreachable to a client quoting a frontend as destination");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 1, ROUTER4, OTHER4, 0), icmp4_error(&f, 11, 0, OWN4, OTHER4);
	expect(&f, KERNEL, "ICMP time exceeded to a stranger quoting the port's address");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 1, ROUTER4, CLIENT4, 0), icmp4_error(&f, 3, 3, CLIENT4, OTHER4);
	expect(&f, KERNEL, "ICMP unreachable quoting strangers");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 1, ROUTER4, HOST4, 0), icmp4_error(&f, 3, 3, HOST4, FE4);
	expect(&f, KERNEL, "ICMP unreachable to the host quoting a frontend");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 58, ROUTER6, FE6), icmp6_error(&f, 2, 0, FE6, CLIENT6);
	expect(&f, SL_XDP_CTR_ICMP_ERROR, "ICMPv6 packet too big to a frontend");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 58, ROUTER6, OWN6), icmp6_error(&f, 1, 4, OWN6, BE6);
	expect(&f, SL_XDP_CTR_ICMP_ERROR, "ICMPv6 unreachable to the port's address");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 58, ROUTER6, FE6), icmp6_error(&f, 3, 0, FE6, CLIENT6);
	expect(&f, SL_XDP_CTR_ICMP_ERROR, "ICMPv6 time exceeded to a frontend");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 58, ROUTER6, CLIENT6), icmp6_error(&f, 1, 4, CLIENT6, FE6);
	expect(&f, KERNEL, "ICMPv6 unreachable to a client quoting a frontend");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 58, ROUTER6, CLIENT6), icmp6_error(&f, 1, 4, CLIENT6, OTHER6);
	expect(&f, KERNEL, "ICMPv6 unreachable quoting strangers");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 58, ROUTER6, CLIENT6), icmp6_error(&f, 128, 0, CLIENT6, FE6);
	expect(&f, KERNEL, "ICMPv6 echo request whose data quotes a frontend");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 1, ROUTER4, CLIENT4, 0), put(&f, 8);
	f.b[f.n - 8] = 3; /* an error cut before the quoted header */
	payload(&f, 12);
	expect(&f, KERNEL, "ICMP unreachable with its quote cut");
}

static void
test_vlan(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth_vlan(&f, 100, 0x0800), ip4(&f, 6, CLIENT4, FE4, 0), tcp(&f, 40000, 80);
	expect(&f, SL_XDP_CTR_TO_FRONTEND, "802.1Q-tagged TCP to a frontend");
	f = (struct frame){0};
	eth_vlan(&f, 100, 0x86dd), ip6(&f, 6, BE6, CLIENT6), tcp(&f, 8080, 40000);
	expect(&f, SL_XDP_CTR_REPLY, "802.1Q-tagged IPv6 DNAT reply");
	f = (struct frame){0};
	eth_vlan(&f, 100, 0x0806), arp(&f, 1, ROUTER4, FE4);
	expect(&f, SL_XDP_CTR_NEIGHBOUR, "802.1Q-tagged ARP for a frontend");
	f = (struct frame){0};
	eth_vlan(&f, 100, 0x0800), ip4(&f, 6, CLIENT4, HOST4, 0), tcp(&f, 40000, 22);
	expect(&f, KERNEL, "802.1Q-tagged TCP to the host's address");
}

static void
test_ipv6_extension_headers(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth(&f, 0x86dd), ip6(&f, 0, BE6, CLIENT6), ext6(&f, 6), tcp(&f, 8080, 40000);
	expect(&f, SL_XDP_CTR_REPLY, "hop-by-hop, then TCP from a DNAT endpoint");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 0, BE6, CLIENT6), ext6(&f, 6), tcp(&f, 22, 40000);
	expect(&f, KERNEL, "hop-by-hop, then TCP from a DNAT backend's other port");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 0, BE6, CLIENT6), ext6(&f, 60), ext6(&f, 44), frag6(&f, 6, 0, 1);
	tcp(&f, 8080, 40000);
	expect(&f, SL_XDP_CTR_REPLY, "hop-by-hop, destination, fragment, TCP from an endpoint");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 0, CLIENT6, FE6), ext6(&f, 6), tcp(&f, 40000, 80);
	expect(&f, SL_XDP_CTR_TO_FRONTEND, "hop-by-hop, then TCP to a frontend");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 0, ROUTER6, FE6), ext6(&f, 58), icmp6_error(&f, 1, 0, FE6,
									     CLIENT6);
	expect(&f, SL_XDP_CTR_ICMP_ERROR, "hop-by-hop, then an ICMPv6 error to a frontend");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 0, BE6, CLIENT6), ext6(&f, 6);
	expect(&f, KERNEL, "hop-by-hop from a DNAT backend, TCP header missing");
}

static void
test_truncated(void **state)
{
	PRELUDE();
	struct frame f = {0};

	eth(&f, 0x0800);
	expect(&f, KERNEL, "Ethernet header alone, IPv4 announced");
	f = (struct frame){0};
	eth(&f, 0x86dd);
	expect(&f, KERNEL, "Ethernet header alone, IPv6 announced");
	f = (struct frame){0};
	eth(&f, 0x8100), put(&f, 2);
	expect(&f, KERNEL, "802.1Q tag cut");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 6, CLIENT4, FE4, 0);
	f.n -= 8; /* the IPv4 header cut after its source address */
	f.has_l3 = 0;
	expect(&f, KERNEL, "IPv4 header cut");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 6, CLIENT6, FE6);
	f.n -= 10;
	f.has_l3 = 0;
	expect(&f, KERNEL, "IPv6 header cut");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 6, BE4, CLIENT4, 0), put(&f, 3);
	put16(f.b + f.n - 3, 8080); /* the source port, then one byte of the destination's */
	expect(&f, KERNEL, "TCP ports cut, from a DNAT endpoint");
	f = (struct frame){0};
	eth(&f, 0x86dd), ip6(&f, 17, BE6, CLIENT6), put(&f, 2);
	expect(&f, KERNEL, "UDP ports cut, from an IPv6 DNAT backend");
	f = (struct frame){0};
	eth(&f, 0x0800), ip4(&f, 6, CLIENT4, FE4, 0), tcp(&f, 40000, 80);
	f.b[f.l3] = 0x44; /* ihl 4: not a header */
	f.has_l3 = 0;
	expect(&f, KERNEL, "IPv4 with ihl 4");
	f = (struct frame){0};
	eth(&f, 0x0806), arp(&f, 1, ROUTER4, FE4);
	f.n -= 2;
	expect(&f, KERNEL, "ARP cut in its target");
}

/* ---- loading ---- */

static int
can_load_bpf(void)
{
	return sl_xdp_has_cap(SL_CAP_SYS_ADMIN) ||
	       (sl_xdp_has_cap(SL_CAP_BPF) && sl_xdp_has_cap(SL_CAP_NET_ADMIN));
}

/* An AF_XDP socket with a UMEM and rings (unbound): what xsks_map accepts. */
static void
open_xsk(void)
{
	struct xdp_umem_reg reg = {.len = UMEM_SIZE, .chunk_size = 2048};
	int ring = 64;

	g.xsk = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (g.xsk < 0) {
		print_message("no AF_XDP sockets (%s): redirects not checked, drops only\n",
			      strerror(errno));
		return;
	}
	g.umem = mmap(NULL, UMEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g.umem != MAP_FAILED);
	reg.addr = (uint64_t)(uintptr_t)g.umem;
	assert_int_equal(setsockopt(g.xsk, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)), 0);
	assert_int_equal(setsockopt(g.xsk, SOL_XDP, XDP_UMEM_FILL_RING, &ring, sizeof(ring)), 0);
	assert_int_equal(setsockopt(g.xsk, SOL_XDP, XDP_UMEM_COMPLETION_RING, &ring,
				    sizeof(ring)), 0);
	assert_int_equal(setsockopt(g.xsk, SOL_XDP, XDP_RX_RING, &ring, sizeof(ring)), 0);
	xsk_in_map(1);
	xsk_in_map(0);
}

static int
map_fd(const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(g.obj, name);

	if (m == NULL)
		fail_msg("the object has no map %s", name);
	return bpf_map__fd(m);
}

static int
load(void **state)
{
	const char *path = getenv("SL_XDP_OBJECT");
	int rc;

	(void)state;
	if (path == NULL || path[0] == '\0')
		path = SL_XDP_OBJECT_BUILT;
	if (!can_load_bpf()) {
		g.skip_why = "not privileged (CAP_BPF with CAP_NET_ADMIN, or CAP_SYS_ADMIN): the XDP "
			     "program cannot be loaded, its tests are skipped";
		return 0;
	}
	g.obj = bpf_object__open_file(path, NULL);
	if (g.obj == NULL)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	rc = bpf_object__load(g.obj);
	if (rc != 0)
		fail_msg("cannot load %s: %s", path, strerror(-rc));
	struct bpf_program *p = bpf_object__find_program_by_name(g.obj, SL_XDP_PROG_NAME);
	assert_non_null(p);
	assert_int_equal(bpf_program__type(p), BPF_PROG_TYPE_XDP);
	g.prog = bpf_program__fd(p);
	g.addrs = map_fd(SL_XDP_MAP_ADDRS);
	g.eps = map_fd(SL_XDP_MAP_ENDPOINTS);
	g.ctrs = map_fd(SL_XDP_MAP_COUNTERS);
	g.xsks = map_fd(SL_XDP_MAP_XSKS);
	g.ncpus = libbpf_num_possible_cpus();
	assert_true(g.ncpus > 0);
	open_xsk();
	return 0;
}

static int
unload(void **state)
{
	(void)state;
	if (g.xsk >= 0)
		close(g.xsk);
	if (g.umem != NULL)
		munmap(g.umem, UMEM_SIZE);
	bpf_object__close(g.obj);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_to_frontend, setup),
		cmocka_unit_test_setup(test_to_own_address, setup),
		cmocka_unit_test_setup(test_to_host_address, setup),
		cmocka_unit_test_setup(test_frontend_and_host, setup),
		cmocka_unit_test_setup(test_unrelated, setup),
		cmocka_unit_test_setup(test_dnat_reply, setup),
		cmocka_unit_test_setup(test_dnat_backend_other_port, setup),
		cmocka_unit_test_setup(test_reply_to_host, setup),
		cmocka_unit_test_setup(test_fragments_from_backend, setup),
		cmocka_unit_test_setup(test_fragments_to_frontend, setup),
		cmocka_unit_test_setup(test_arp, setup),
		cmocka_unit_test_setup(test_arp_other_lengths, setup),
		cmocka_unit_test_setup(test_ns, setup),
		cmocka_unit_test_setup(test_icmp_errors, setup),
		cmocka_unit_test_setup(test_vlan, setup),
		cmocka_unit_test_setup(test_ipv6_extension_headers, setup),
		cmocka_unit_test_setup(test_truncated, setup),
	};
	int failed = cmocka_run_group_tests(tests, load, unload);

	return failed == 0 && g.skip_why != NULL ? 77 : failed;
}
