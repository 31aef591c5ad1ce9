/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_l2proto.c: unit tests of the exception-path protocols (sl_l2proto):
 * ARP build and parse against hand-written bytes, IPv6 Neighbor Discovery
 * (NS/NA build, parse, round trips, every refusal), ICMP/ICMPv6 echo
 * replies, ICMP error build/parse/DNAT, and the TTL decrement.
 *
 * Checksums are verified with a naive one's-complement sum written here
 * (big-endian 16-bit words, one at a time), independent of sl_checksum.
 * Builders are also checked never to write past `room`: buffers are filled
 * with a canary first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>

#include "sl_l2proto.h"
#include "sl_parse.h"
#include "sl_types.h"
#include "sl_test_csum.h"
#include "sl_test_util.h"

#define BUF 2048
#define CANARY 0xa5

/* ---- helpers ------------------------------------------------------------- */

/* A valid IPv4 header sums to 0xffff, i.e. folds to 0. */
static int
ipv4_hdr_ok(const uint8_t *ip)
{
	return naive_fold(naive_sum(0, ip, (size_t)(ip[0] & 0xf) * 4)) == 0;
}

static int
icmp4_ok(const uint8_t *icmp, size_t len)
{
	return naive_fold(naive_sum(0, icmp, len)) == 0;
}

/* ICMPv6 with the pseudo-header of the IPv6 header at ip6, the payload after it. */
static int
icmp6_ok(const uint8_t *ip6)
{
	uint32_t plen = get16(ip6 + 4);
	uint8_t ph[8] = {0, 0, (uint8_t)(plen >> 8), (uint8_t)plen, 0, 0, 0, 58};
	uint32_t s = naive_sum(0, ip6 + 8, 32);

	s = naive_sum(s, ph, 8);
	s = naive_sum(s, ip6 + 40, plen);
	return naive_fold(s) == 0;
}

static void
fix_icmp6(uint8_t *ip6)
{
	uint32_t plen = get16(ip6 + 4);
	uint8_t ph[8] = {0, 0, (uint8_t)(plen >> 8), (uint8_t)plen, 0, 0, 0, 58};
	uint32_t s;

	put16(ip6 + 42, 0);
	s = naive_sum(0, ip6 + 8, 32);
	s = naive_sum(s, ph, 8);
	s = naive_sum(s, ip6 + 40, plen);
	put16(ip6 + 42, naive_fold(s));
}

static void
fix_icmp4(uint8_t *icmp, size_t len)
{
	put16(icmp + 2, 0);
	put16(icmp + 2, naive_fold(naive_sum(0, icmp, len)));
}

static void
fix_ipv4(uint8_t *ip)
{
	put16(ip + 10, 0);
	put16(ip + 10, naive_fold(naive_sum(0, ip, (size_t)(ip[0] & 0xf) * 4)));
}

static int
all_canary(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != CANARY)
			return 0;
	return 1;
}

/* An IPv4 header of ihl bytes (options: NOPs) with a valid checksum. */
static void
make_ipv4(uint8_t *ip, const char *src, const char *dst, uint8_t proto, size_t ihl,
	  size_t total, uint8_t ttl)
{
	struct sl_ip_addr s = sl_test_ip(src), d = sl_test_ip(dst);

	memset(ip, 0, ihl);
	ip[0] = (uint8_t)(0x40 | (ihl / 4));
	put16(ip + 2, (uint32_t)total);
	put16(ip + 4, 0x1234);
	ip[8] = ttl;
	ip[9] = proto;
	memcpy(ip + 12, &s.bytes[12], 4);
	memcpy(ip + 16, &d.bytes[12], 4);
	if (ihl > 20)
		memset(ip + 20, 1, ihl - 20); /* NOP options */
	fix_ipv4(ip);
}

static void
make_ipv6(uint8_t *ip, const char *src, const char *dst, uint8_t nh, size_t plen, uint8_t hop)
{
	struct sl_ip_addr s = sl_test_ip(src), d = sl_test_ip(dst);

	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (uint32_t)plen);
	ip[6] = nh;
	ip[7] = hop;
	memcpy(ip + 8, s.bytes, 16);
	memcpy(ip + 24, d.bytes, 16);
}

/* A TCP segment (20-byte header + payload of pattern bytes) with ports and a dummy checksum. */
static void
make_tcp(uint8_t *l4, uint16_t sport, uint16_t dport, size_t len)
{
	size_t i;

	memset(l4, 0, 20);
	put16(l4, sport);
	put16(l4 + 2, dport);
	l4[12] = 5 << 4;
	l4[13] = 0x18;
	put16(l4 + 16, 0xbeef);
	for (i = 20; i < len; i++)
		l4[i] = (uint8_t)(i * 7);
}

/* ---- ARP ------------------------------------------------------------------ */

static const uint8_t arp_request_bytes[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02,
	/* 18 bytes of padding */
};

static void
test_arp_request_bytes(void **state)
{
	struct sl_mac me = sl_test_mac("02:00:00:00:00:01");
	struct sl_ip_addr spa = sl_test_ip("10.0.0.1"), tpa = sl_test_ip("10.0.0.2");
	uint8_t f[BUF];
	uint32_t n;

	(void)state;
	memset(f, CANARY, sizeof(f));
	n = sl_arp_build(f, sizeof(f), NULL, &me, 0, SL_ARP_OP_REQUEST, &me, &spa, NULL, &tpa);
	assert_int_equal(n, 60);
	assert_memory_equal(f, arp_request_bytes, 60);
	assert_true(all_canary(f + 60, 100));

	/* Tagged: TPID 0x8100 and the TCI after the source MAC, still 60 bytes. */
	memset(f, CANARY, sizeof(f));
	n = sl_arp_build(f, sizeof(f), NULL, &me, 0x2064, SL_ARP_OP_REQUEST, &me, &spa, NULL,
			 &tpa);
	assert_int_equal(n, 60);
	assert_memory_equal(f, arp_request_bytes, 12);
	assert_int_equal(get16(f + 12), 0x8100);
	assert_int_equal(get16(f + 14), 0x2064);
	assert_memory_equal(f + 16, arp_request_bytes + 12, 30);
	assert_memory_equal(f + 46, arp_request_bytes + 42, 14); /* zeros */
	assert_true(all_canary(f + 60, 100));

	/* Exactly 60 bytes of room is enough, 59 is not (and nothing is written). */
	memset(f, CANARY, sizeof(f));
	assert_int_equal(sl_arp_build(f, 60, NULL, &me, 0, 1, &me, &spa, NULL, &tpa), 60);
	memset(f, CANARY, sizeof(f));
	assert_int_equal(sl_arp_build(f, 59, NULL, &me, 0, 1, &me, &spa, NULL, &tpa), 0);
	assert_true(all_canary(f, 100));
}

static void
test_arp_reply_and_gratuitous(void **state)
{
	struct sl_mac me = sl_test_mac("02:00:00:00:00:01"), peer = sl_test_mac("52:54:00:12:34:56");
	struct sl_ip_addr my_ip = sl_test_ip("10.0.0.1"), peer_ip = sl_test_ip("10.0.0.7");
	struct sl_arp_info info;
	uint8_t f[BUF];
	uint32_t n;

	(void)state;
	n = sl_arp_build(f, sizeof(f), &peer, &me, 0, SL_ARP_OP_REPLY, &me, &my_ip, &peer, &peer_ip);
	assert_int_equal(n, 60);
	assert_memory_equal(f, peer.bytes, 6);
	assert_memory_equal(f + 6, me.bytes, 6);
	assert_int_equal(get16(f + 12), SL_ETHERTYPE_ARP);
	assert_int_equal(sl_arp_parse(f + 14, n - 14, &info), 0);
	assert_int_equal(info.op, SL_ARP_OP_REPLY);
	assert_memory_equal(info.sha.bytes, me.bytes, 6);
	assert_memory_equal(info.tha.bytes, peer.bytes, 6);
	assert_true(sl_ip_addr_eq(&info.spa, &my_ip));
	assert_true(sl_ip_addr_eq(&info.tpa, &peer_ip));

	/* Gratuitous ARP: request, spa == tpa, tha zero, broadcast; VLAN tagged. */
	n = sl_arp_build(f, sizeof(f), NULL, &me, 7, SL_ARP_OP_REQUEST, &me, &my_ip, NULL, &my_ip);
	assert_int_equal(n, 60);
	assert_memory_equal(f, "\xff\xff\xff\xff\xff\xff", 6);
	assert_int_equal(get16(f + 16), SL_ETHERTYPE_ARP);
	assert_int_equal(sl_arp_parse(f + 18, n - 18, &info), 0);
	assert_int_equal(info.op, SL_ARP_OP_REQUEST);
	assert_true(sl_ip_addr_eq(&info.spa, &info.tpa));
	assert_memory_equal(info.tha.bytes, "\0\0\0\0\0\0", 6);
}

static void
test_arp_build_errors(void **state)
{
	struct sl_mac me = sl_test_mac("02:00:00:00:00:01");
	struct sl_ip_addr v4 = sl_test_ip("10.0.0.1"), v6 = sl_test_ip("2001:db8::1");
	uint8_t f[BUF];

	(void)state;
	memset(f, CANARY, sizeof(f));
	assert_int_equal(sl_arp_build(f, sizeof(f), NULL, &me, 0, 3, &me, &v4, NULL, &v4), 0);
	assert_int_equal(sl_arp_build(f, sizeof(f), NULL, &me, 0, 0, &me, &v4, NULL, &v4), 0);
	assert_int_equal(sl_arp_build(f, sizeof(f), NULL, &me, 0, 1, &me, &v6, NULL, &v4), 0);
	assert_int_equal(sl_arp_build(f, sizeof(f), NULL, &me, 0, 1, &me, &v4, NULL, &v6), 0);
	assert_int_equal(sl_arp_build(f, sizeof(f), NULL, NULL, 0, 1, &me, &v4, NULL, &v4), 0);
	assert_int_equal(sl_arp_build(f, sizeof(f), NULL, &me, 0, 1, NULL, &v4, NULL, &v4), 0);
	assert_int_equal(sl_arp_build(NULL, sizeof(f), NULL, &me, 0, 1, &me, &v4, NULL, &v4), 0);
	assert_true(all_canary(f, sizeof(f)));
}

static void
test_arp_parse(void **state)
{
	uint8_t a[28];
	struct sl_arp_info info;

	(void)state;
	memcpy(a, arp_request_bytes + 14, 28);
	assert_int_equal(sl_arp_parse(a, 28, &info), 0);
	assert_int_equal(info.op, 1);
	assert_memory_equal(info.sha.bytes, "\x02\x00\x00\x00\x00\x01", 6);
	assert_true(sl_ip_addr_eq(&info.spa, &(struct sl_ip_addr){{0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
								  0xff, 0xff, 10, 0, 0, 1}}));
	assert_true(sl_ip_addr_is_v4(&info.tpa));
	assert_int_equal(info.tpa.bytes[15], 2);

	assert_int_equal(sl_arp_parse(a, 27, &info), -EINVAL);
	assert_int_equal(sl_arp_parse(NULL, 28, &info), -EINVAL);
	a[1] = 6; /* htype IEEE 802 */
	assert_int_equal(sl_arp_parse(a, 28, &info), -EINVAL);
	a[1] = 1;
	a[2] = 0x86; a[3] = 0xdd; /* ptype IPv6 */
	assert_int_equal(sl_arp_parse(a, 28, &info), -EINVAL);
	a[2] = 0x08; a[3] = 0x00;
	a[4] = 8;
	assert_int_equal(sl_arp_parse(a, 28, &info), -EINVAL);
	a[4] = 6;
	a[5] = 16;
	assert_int_equal(sl_arp_parse(a, 28, &info), -EINVAL);
	a[5] = 4;
	a[7] = 3; /* RARP request */
	assert_int_equal(sl_arp_parse(a, 28, &info), -EINVAL);
	a[7] = 0;
	assert_int_equal(sl_arp_parse(a, 28, &info), -EINVAL);
	a[7] = 2;
	assert_int_equal(sl_arp_parse(a, 60, &info), 0);
	assert_int_equal(info.op, 2);
}

/* ---- IPv6 ND -------------------------------------------------------------- */

static void
test_multicast_helpers(void **state)
{
	struct sl_ip_addr t = sl_test_ip("2001:db8::2:abcd:ef01"), sn, want = sl_test_ip("ff02::1:ffcd:ef01");
	struct sl_ip_addr g4 = sl_test_ip("239.129.2.3");
	struct sl_mac m;

	(void)state;
	sl_ipv6_solicited_node(&sn, &t);
	assert_true(sl_ip_addr_eq(&sn, &want));
	sl_ipv6_multicast_mac(&m, &sn);
	assert_memory_equal(m.bytes, "\x33\x33\xff\xcd\xef\x01", 6);
	want = sl_test_ip("ff02::1");
	sl_ipv6_multicast_mac(&m, &want);
	assert_memory_equal(m.bytes, "\x33\x33\x00\x00\x00\x01", 6);
	sl_ipv6_multicast_mac(&m, &g4);
	assert_memory_equal(m.bytes, "\x01\x00\x5e\x01\x02\x03", 6);
	/* in place */
	sl_ipv6_solicited_node(&t, &t);
	assert_true(sl_ip_addr_eq(&t, &sn));
}

static const uint8_t ns_bytes[86] = {
	/* Ethernet: 33:33:ff:cd:ef:01 <- 02:00:00:00:00:01, IPv6 */
	0x33, 0x33, 0xff, 0xcd, 0xef, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd,
	/* IPv6: payload 32, ICMPv6, hop limit 255, 2001:db8::1 -> ff02::1:ffcd:ef01 */
	0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0xcd, 0xef, 0x01,
	/* NS: type 135, code 0, checksum (checked apart), reserved, target */
	0x87, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x02, 0xab, 0xcd, 0xef, 0x01,
	/* source link-layer address option */
	0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
};

static void
test_nd_ns_bytes(void **state)
{
	struct sl_mac me = sl_test_mac("02:00:00:00:00:01");
	struct sl_ip_addr src = sl_test_ip("2001:db8::1"), target = sl_test_ip("2001:db8::2:abcd:ef01");
	uint8_t f[BUF];
	uint32_t n;

	(void)state;
	memset(f, CANARY, sizeof(f));
	n = sl_nd_build_ns(f, sizeof(f), &me, 0, &src, &target, NULL);
	assert_int_equal(n, 86);
	assert_memory_equal(f, ns_bytes, 56);
	assert_memory_equal(f + 58, ns_bytes + 58, 86 - 58);
	assert_true(icmp6_ok(f + 14));
	assert_true(all_canary(f + 86, 100));
	/* room: exact fits, one less does not */
	memset(f, CANARY, sizeof(f));
	assert_int_equal(sl_nd_build_ns(f, 85, &me, 0, &src, &target, NULL), 0);
	assert_true(all_canary(f, 100));
	assert_int_equal(sl_nd_build_ns(f, 86, &me, 0, &src, &target, NULL), 86);
	/* IPv4 addresses, multicast target, NULLs */
	struct sl_ip_addr v4 = sl_test_ip("10.0.0.1"), mc = sl_test_ip("ff02::1");
	assert_int_equal(sl_nd_build_ns(f, sizeof(f), &me, 0, &v4, &target, NULL), 0);
	assert_int_equal(sl_nd_build_ns(f, sizeof(f), &me, 0, &src, &v4, NULL), 0);
	assert_int_equal(sl_nd_build_ns(f, sizeof(f), &me, 0, &src, &mc, NULL), 0);
	assert_int_equal(sl_nd_build_ns(f, sizeof(f), NULL, 0, &src, &target, NULL), 0);
}

static void
test_nd_ns_roundtrip(void **state)
{
	struct sl_mac me = sl_test_mac("02:00:00:00:00:01"), peer = sl_test_mac("52:54:00:aa:bb:cc");
	struct sl_ip_addr src = sl_test_ip("fe80::1"), target = sl_test_ip("2001:db8::42");
	struct sl_ip_addr sn = sl_test_ip("ff02::1:ff00:42");
	struct sl_nd_info nd;
	uint8_t f[BUF];
	uint32_t n;

	(void)state;
	/* multicast, VLAN tagged */
	n = sl_nd_build_ns(f, sizeof(f), &me, 100, &src, &target, NULL);
	assert_int_equal(n, 90);
	assert_memory_equal(f, "\x33\x33\xff\x00\x00\x42", 6);
	assert_int_equal(get16(f + 12), 0x8100);
	assert_int_equal(get16(f + 14), 100);
	assert_int_equal(get16(f + 16), SL_ETHERTYPE_IPV6);
	assert_true(icmp6_ok(f + 18));
	assert_int_equal(sl_nd_parse(f + 18, n - 18, &nd), 0);
	assert_int_equal(nd.type, SL_ND_NEIGHBOR_SOLICIT);
	assert_int_equal(nd.flags, 0);
	assert_true(nd.has_lladdr);
	assert_memory_equal(nd.lladdr.bytes, me.bytes, 6);
	assert_true(sl_ip_addr_eq(&nd.target, &target));
	assert_true(sl_ip_addr_eq(&nd.src, &src));
	assert_true(sl_ip_addr_eq(&nd.dst, &sn));

	/* unicast probe: to the target itself at the given MAC */
	n = sl_nd_build_ns(f, sizeof(f), &me, 0, &src, &target, &peer);
	assert_int_equal(n, 86);
	assert_memory_equal(f, peer.bytes, 6);
	assert_int_equal(sl_nd_parse(f + 14, n - 14, &nd), 0);
	assert_true(sl_ip_addr_eq(&nd.dst, &target));
	assert_true(sl_ip_addr_eq(&nd.target, &target));

	/* trailing bytes after the payload (Ethernet padding) are ignored */
	assert_int_equal(sl_nd_parse(f + 14, n - 14 + 10, &nd), 0);
	/* DAD: from ::, no option */
	struct sl_ip_addr unspec = sl_test_ip("::");
	n = sl_nd_build_ns(f, sizeof(f), &me, 0, &unspec, &target, NULL);
	assert_int_equal(n, 78);
	assert_int_equal(get16(f + 18), 24);
	assert_int_equal(sl_nd_parse(f + 14, n - 14, &nd), 0);
	assert_false(nd.has_lladdr);
}

static void
test_nd_na(void **state)
{
	struct sl_mac me = sl_test_mac("02:00:00:00:00:01"), peer = sl_test_mac("52:54:00:aa:bb:cc");
	struct sl_ip_addr src = sl_test_ip("2001:db8::1"), dst = sl_test_ip("2001:db8::99");
	struct sl_ip_addr all = sl_test_ip("ff02::1");
	struct sl_nd_info nd;
	uint8_t f[BUF];
	uint32_t n;

	(void)state;
	/* solicited answer */
	memset(f, CANARY, sizeof(f));
	n = sl_nd_build_na(f, sizeof(f), &peer, &me, 0, &src, &dst, &src,
			   SL_ND_FLAG_SOLICITED | SL_ND_FLAG_OVERRIDE | 0x1f);
	assert_int_equal(n, 86);
	assert_true(all_canary(f + 86, 100));
	assert_memory_equal(f, peer.bytes, 6);
	assert_memory_equal(f + 6, me.bytes, 6);
	assert_int_equal(f[14 + 7], 255);
	assert_int_equal(f[54], 136);
	assert_int_equal(f[58], 0x60); /* other flag bits dropped */
	assert_int_equal(f[78], 2);    /* target link-layer option */
	assert_int_equal(f[79], 1);
	assert_memory_equal(f + 80, me.bytes, 6);
	assert_true(icmp6_ok(f + 14));
	assert_int_equal(sl_nd_parse(f + 14, n - 14, &nd), 0);
	assert_int_equal(nd.type, SL_ND_NEIGHBOR_ADVERT);
	assert_int_equal(nd.flags, SL_ND_FLAG_SOLICITED | SL_ND_FLAG_OVERRIDE);
	assert_true(nd.has_lladdr);
	assert_memory_equal(nd.lladdr.bytes, me.bytes, 6);
	assert_true(sl_ip_addr_eq(&nd.target, &src));
	assert_true(sl_ip_addr_eq(&nd.dst, &dst));

	/* unsolicited: ff02::1 at 33:33:00:00:00:01, the solicited flag cleared */
	n = sl_nd_build_na(f, sizeof(f), NULL, &me, 0, &src, NULL, &src,
			   SL_ND_FLAG_ROUTER | SL_ND_FLAG_SOLICITED | SL_ND_FLAG_OVERRIDE);
	assert_int_equal(n, 86);
	assert_memory_equal(f, "\x33\x33\x00\x00\x00\x01", 6);
	assert_memory_equal(f + 14 + 24, all.bytes, 16);
	assert_int_equal(sl_nd_parse(f + 14, n - 14, &nd), 0);
	assert_int_equal(nd.flags, SL_ND_FLAG_ROUTER | SL_ND_FLAG_OVERRIDE);
	assert_true(sl_ip_addr_eq(&nd.dst, &all));

	/* errors */
	struct sl_ip_addr v4 = sl_test_ip("10.0.0.1");
	assert_int_equal(sl_nd_build_na(f, sizeof(f), NULL, &me, 0, &v4, NULL, &src, 0), 0);
	assert_int_equal(sl_nd_build_na(f, sizeof(f), NULL, &me, 0, &src, &v4, &src, 0), 0);
	assert_int_equal(sl_nd_build_na(f, sizeof(f), NULL, &me, 0, &src, NULL, &all, 0), 0);
	assert_int_equal(sl_nd_build_na(f, 85, NULL, &me, 0, &src, NULL, &src, 0), 0);
}

/* An NS at f + 14 (86-byte frame); modify, fix the checksum, expect -EINVAL. */
static void
nd_expect_refused(const uint8_t *good, void (*mod)(uint8_t *ip6), int fix)
{
	uint8_t f[BUF];
	struct sl_nd_info nd;

	memcpy(f, good, 86);
	mod(f + 14);
	if (fix)
		fix_icmp6(f + 14);
	assert_int_equal(sl_nd_parse(f + 14, 72, &nd), -EINVAL);
}

static void mod_hop(uint8_t *ip6) { ip6[7] = 254; }
static void mod_nh(uint8_t *ip6) { ip6[6] = 0; }
static void mod_code(uint8_t *ip6) { ip6[41] = 1; }
static void mod_type(uint8_t *ip6) { ip6[40] = 134; }
static void mod_csum(uint8_t *ip6) { ip6[43] ^= 1; }
static void mod_optlen0(uint8_t *ip6) { ip6[65] = 0; }
static void mod_optlong(uint8_t *ip6) { ip6[65] = 2; }
static void mod_short(uint8_t *ip6) { put16(ip6 + 4, 23); }
static void mod_plen_big(uint8_t *ip6) { put16(ip6 + 4, 33); }
static void mod_version(uint8_t *ip6) { ip6[0] = 0x40; }
static void mod_target_mc(uint8_t *ip6) { ip6[48] = 0xff; }
static void mod_dad_opt(uint8_t *ip6) { memset(ip6 + 8, 0, 16); }
static void mod_optstub(uint8_t *ip6) { put16(ip6 + 4, 25); } /* 1 byte of option */

static void
test_nd_parse_errors(void **state)
{
	struct sl_mac me = sl_test_mac("02:00:00:00:00:01");
	struct sl_ip_addr src = sl_test_ip("2001:db8::1"), target = sl_test_ip("2001:db8::2");
	struct sl_nd_info nd;
	uint8_t good[BUF], f[BUF];

	(void)state;
	assert_int_equal(sl_nd_build_ns(good, sizeof(good), &me, 0, &src, &target, NULL), 86);
	assert_int_equal(sl_nd_parse(good + 14, 72, &nd), 0);
	assert_int_equal(sl_nd_parse(good + 14, 71, &nd), -EINVAL); /* truncated */
	assert_int_equal(sl_nd_parse(good + 14, 39, &nd), -EINVAL);
	assert_int_equal(sl_nd_parse(NULL, 72, &nd), -EINVAL);

	nd_expect_refused(good, mod_hop, 1);
	nd_expect_refused(good, mod_nh, 1);
	nd_expect_refused(good, mod_code, 1);
	nd_expect_refused(good, mod_type, 1);
	nd_expect_refused(good, mod_csum, 0);
	nd_expect_refused(good, mod_optlen0, 1);
	nd_expect_refused(good, mod_optlong, 1);
	nd_expect_refused(good, mod_short, 1);
	nd_expect_refused(good, mod_plen_big, 1);
	nd_expect_refused(good, mod_version, 1);
	nd_expect_refused(good, mod_target_mc, 1);
	nd_expect_refused(good, mod_dad_opt, 1);
	nd_expect_refused(good, mod_optstub, 1);

	/* An unknown option before the link-layer one is skipped. */
	memcpy(f, good, 86);
	memmove(f + 14 + 64 + 8, f + 14 + 64, 8);
	memset(f + 14 + 64, 0, 8);
	f[14 + 64] = 14; /* nonce option, 8 bytes */
	f[14 + 65] = 1;
	put16(f + 14 + 4, 40);
	fix_icmp6(f + 14);
	assert_int_equal(sl_nd_parse(f + 14, 80, &nd), 0);
	assert_true(nd.has_lladdr);
	assert_memory_equal(nd.lladdr.bytes, me.bytes, 6);

	/* An NS without option is fine; an NA's source-lladdr option is not its lladdr. */
	memcpy(f, good, 86);
	put16(f + 14 + 4, 24);
	fix_icmp6(f + 14);
	assert_int_equal(sl_nd_parse(f + 14, 64, &nd), 0);
	assert_false(nd.has_lladdr);
	memcpy(f, good, 86);
	f[14 + 40] = 136;
	fix_icmp6(f + 14);
	assert_int_equal(sl_nd_parse(f + 14, 72, &nd), 0);
	assert_int_equal(nd.type, 136);
	assert_false(nd.has_lladdr);

	/* A solicited NA to a multicast address is refused. */
	assert_int_equal(sl_nd_build_na(f, sizeof(f), NULL, &me, 0, &src, NULL, &src, 0), 86);
	f[14 + 44] = SL_ND_FLAG_SOLICITED;
	fix_icmp6(f + 14);
	assert_int_equal(sl_nd_parse(f + 14, 72, &nd), -EINVAL);
}

/* ---- ICMP echo ------------------------------------------------------------ */

/* An IPv4 echo request with 4 bytes of options and 37 bytes of data: 69 bytes. */
static size_t
make_echo4(uint8_t *p, const char *src, const char *dst)
{
	size_t ihl = 24, icmp_len = 8 + 37, i;
	uint8_t *icmp = p + ihl;

	make_ipv4(p, src, dst, 1, ihl, ihl + icmp_len, 57);
	icmp[0] = 8;
	icmp[1] = 0;
	put16(icmp + 4, 0x4242);
	put16(icmp + 6, 7);
	for (i = 8; i < icmp_len; i++)
		icmp[i] = (uint8_t)i;
	fix_icmp4(icmp, icmp_len);
	return ihl + icmp_len;
}

static void
test_echo_v4(void **state)
{
	uint8_t p[BUF], orig[BUF];
	size_t n;
	struct sl_ip_addr s = sl_test_ip("198.51.100.7"), d = sl_test_ip("10.0.0.1");

	(void)state;
	n = make_echo4(p, "198.51.100.7", "10.0.0.1");
	memcpy(orig, p, n);
	p[n] = 0xee; /* padding after the packet stays */
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n + 1, SL_AF_IPV4), 0);
	assert_memory_equal(p + 12, &d.bytes[12], 4);
	assert_memory_equal(p + 16, &s.bytes[12], 4);
	assert_int_equal(p[8], 64);
	assert_true(ipv4_hdr_ok(p));
	assert_memory_equal(p + 20, orig + 20, 4); /* options kept */
	assert_int_equal(p[24], 0);
	assert_int_equal(p[25], 0);
	assert_memory_equal(p + 28, orig + 28, n - 28); /* id, seq, data */
	assert_true(icmp4_ok(p + 24, n - 24));
	assert_int_equal(p[n], 0xee);
	/* a reply is not a request */
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV4), -EINVAL);

	/* refusals, each leaving the packet untouched */
	n = make_echo4(p, "198.51.100.7", "10.0.0.1");
	memcpy(orig, p, n);
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n - 1, SL_AF_IPV4), -EINVAL);
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV6), -EINVAL);
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, 0), -EINVAL);
	assert_int_equal(sl_icmp_echo_reply(p, 19, SL_AF_IPV4), -EINVAL);
	p[n - 1] ^= 0xff; /* ICMP checksum now wrong */
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV4), -EINVAL);
	p[n - 1] ^= 0xff;
	p[9] = 17; /* not ICMP */
	fix_ipv4(p);
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV4), -EINVAL);
	p[9] = 1;
	p[6] = 0x20; /* MF */
	fix_ipv4(p);
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV4), -EINVAL);
	p[6] = 0;
	p[11] ^= 1; /* IPv4 header checksum wrong */
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV4), -EINVAL);
	fix_ipv4(p);
	assert_memory_equal(p, orig, n);
	p[25] = 1; /* code */
	fix_icmp4(p + 24, n - 24);
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV4), -EINVAL);
	/* ICMP shorter than 8 bytes */
	n = make_echo4(p, "198.51.100.7", "10.0.0.1");
	put16(p + 2, 24 + 7);
	fix_ipv4(p);
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV4), -EINVAL);
	/* to broadcast, from multicast */
	n = make_echo4(p, "198.51.100.7", "255.255.255.255");
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV4), -EINVAL);
	n = make_echo4(p, "224.0.0.1", "10.0.0.1");
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV4), -EINVAL);
}

static size_t
make_echo6(uint8_t *p, const char *src, const char *dst, size_t data)
{
	size_t i;

	make_ipv6(p, src, dst, 58, 8 + data, 61);
	p[40] = 128;
	p[41] = 0;
	put16(p + 44, 0x0102);
	put16(p + 46, 0x0304);
	for (i = 0; i < data; i++)
		p[48 + i] = (uint8_t)(0x30 + i);
	fix_icmp6(p);
	return 48 + data;
}

static void
test_echo_v6(void **state)
{
	uint8_t p[BUF], orig[BUF];
	size_t n;
	struct sl_ip_addr s = sl_test_ip("2001:db8:1::7"), d = sl_test_ip("2001:db8::1");

	(void)state;
	n = make_echo6(p, "2001:db8:1::7", "2001:db8::1", 33);
	memcpy(orig, p, n);
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV6), 0);
	assert_memory_equal(p + 8, d.bytes, 16);
	assert_memory_equal(p + 24, s.bytes, 16);
	assert_int_equal(p[7], 64);
	assert_int_equal(p[40], 129);
	assert_memory_equal(p + 44, orig + 44, n - 44);
	assert_true(icmp6_ok(p));
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV6), -EINVAL);

	n = make_echo6(p, "2001:db8:1::7", "2001:db8::1", 0);
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV6), 0);
	assert_true(icmp6_ok(p));

	n = make_echo6(p, "2001:db8:1::7", "2001:db8::1", 10);
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n - 1, SL_AF_IPV6), -EINVAL);
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV4), -EINVAL);
	p[43] ^= 1;
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV6), -EINVAL);
	p[43] ^= 1;
	p[6] = 0; /* hop-by-hop header first: not walked */
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV6), -EINVAL);
	p[6] = 58;
	put16(p + 4, 7);
	fix_icmp6(p);
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV6), -EINVAL);
	n = make_echo6(p, "2001:db8:1::7", "ff02::1", 4);
	assert_int_equal(sl_icmp_echo_reply(p, (uint32_t)n, SL_AF_IPV6), -EINVAL);
}

/* ---- ICMP errors ---------------------------------------------------------- */

/* An IPv4 TCP packet of total bytes from src:sport to dst:dport. */
static size_t
make_tcp4(uint8_t *p, const char *src, const char *dst, uint16_t sport, uint16_t dport,
	  size_t total)
{
	make_ipv4(p, src, dst, 6, 20, total, 64);
	make_tcp(p + 20, sport, dport, total - 20);
	return total;
}

static size_t
make_udp6(uint8_t *p, const char *src, const char *dst, uint16_t sport, uint16_t dport,
	  size_t total)
{
	size_t i;

	make_ipv6(p, src, dst, 17, total - 40, 64);
	put16(p + 40, sport);
	put16(p + 42, dport);
	put16(p + 44, (uint32_t)(total - 40));
	put16(p + 46, 0xcafe);
	for (i = 48; i < total; i++)
		p[i] = (uint8_t)(i * 3);
	return total;
}

static void
test_icmp_error_build_v4(void **state)
{
	struct sl_ip_addr router = sl_test_ip("192.0.2.254"), client = sl_test_ip("198.51.100.9");
	struct sl_icmp_quote q;
	uint8_t off[BUF], out[BUF];
	uint32_t n;

	(void)state;
	/* a 1500-byte packet: fragmentation needed, MTU 1400 */
	make_tcp4(off, "198.51.100.9", "10.0.0.1", 40000, 443, 1500);
	memset(out, CANARY, sizeof(out));
	n = sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &router, off, 1500, 3, 4,
				htonl(1400));
	assert_int_equal(n, 576);
	assert_true(all_canary(out + 576, 200));
	assert_int_equal(out[0], 0x45);
	assert_int_equal(get16(out + 2), 576);
	assert_int_equal(out[8], 64);
	assert_int_equal(out[9], 1);
	assert_memory_equal(out + 12, &router.bytes[12], 4);
	assert_memory_equal(out + 16, &client.bytes[12], 4);
	assert_true(ipv4_hdr_ok(out));
	assert_int_equal(out[20], 3);
	assert_int_equal(out[21], 4);
	assert_int_equal(get16(out + 24), 0);
	assert_int_equal(get16(out + 26), 1400);
	assert_memory_equal(out + 28, off, 548);
	assert_true(icmp4_ok(out + 20, 556));
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV4, &q), 0);
	assert_int_equal(q.type, 3);
	assert_int_equal(q.code, 4);
	assert_int_equal(q.family, SL_AF_IPV4);
	assert_int_equal(q.proto, SL_PROTO_TCP);
	assert_true(sl_ip_addr_eq(&q.src, &client));
	assert_int_equal(ntohs(q.sport_be), 40000);
	assert_int_equal(ntohs(q.dport_be), 443);
	assert_int_equal(q.inner_l3_off, 28);
	assert_int_equal(q.inner_l4_off, 48);

	/* a small packet is quoted whole, padding after it is not */
	make_tcp4(off, "198.51.100.9", "10.0.0.1", 40000, 443, 44);
	memset(off + 44, 0xee, 16);
	n = sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &router, off, 60, 11, 0, 0);
	assert_int_equal(n, 28 + 44);
	assert_memory_equal(out + 28, off, 44);
	assert_true(icmp4_ok(out + 20, n - 20));
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV4, &q), 0);
	assert_int_equal(q.type, 11);

	/* room limits the quote, down to the header + 8 bytes */
	make_tcp4(off, "198.51.100.9", "10.0.0.1", 40000, 443, 1500);
	memset(out, CANARY, sizeof(out));
	n = sl_icmp_error_build(out, 100, SL_AF_IPV4, &router, off, 1500, 3, 1, 0);
	assert_int_equal(n, 100);
	assert_true(all_canary(out + 100, 100));
	assert_true(icmp4_ok(out + 20, 80));
	assert_int_equal(sl_icmp_error_build(out, 56, SL_AF_IPV4, &router, off, 1500, 3, 1, 0), 56);
	memset(out, CANARY, sizeof(out));
	assert_int_equal(sl_icmp_error_build(out, 55, SL_AF_IPV4, &router, off, 1500, 3, 1, 0), 0);
	assert_true(all_canary(out, 100));
}

static void
test_icmp_error_build_v6(void **state)
{
	struct sl_ip_addr router = sl_test_ip("2001:db8::fe"), client = sl_test_ip("2001:db8:5::9");
	struct sl_icmp_quote q;
	uint8_t off[BUF], out[BUF];
	uint32_t n;

	(void)state;
	make_udp6(off, "2001:db8:5::9", "2001:db8::1", 5353, 53, 1500);
	memset(out, CANARY, sizeof(out));
	n = sl_icmp_error_build(out, sizeof(out), SL_AF_IPV6, &router, off, 1500,
				SL_ICMP6_PACKET_TOO_BIG, 0, htonl(1280));
	assert_int_equal(n, 1280);
	assert_true(all_canary(out + 1280, 200));
	assert_int_equal(out[0] >> 4, 6);
	assert_int_equal(get16(out + 4), 1240);
	assert_int_equal(out[6], 58);
	assert_int_equal(out[7], 64);
	assert_memory_equal(out + 8, router.bytes, 16);
	assert_memory_equal(out + 24, client.bytes, 16);
	assert_int_equal(out[40], 2);
	assert_int_equal(get16(out + 46), 1280);
	assert_memory_equal(out + 48, off, 1232);
	assert_true(icmp6_ok(out));
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV6, &q), 0);
	assert_int_equal(q.type, 2);
	assert_int_equal(q.family, SL_AF_IPV6);
	assert_int_equal(q.proto, SL_PROTO_UDP);
	assert_true(sl_ip_addr_eq(&q.src, &client));
	assert_int_equal(ntohs(q.sport_be), 5353);
	assert_int_equal(ntohs(q.dport_be), 53);
	assert_int_equal(q.inner_l3_off, 48);
	assert_int_equal(q.inner_l4_off, 88);

	make_udp6(off, "2001:db8:5::9", "2001:db8::1", 5353, 53, 100);
	n = sl_icmp_error_build(out, sizeof(out), SL_AF_IPV6, &router, off, 100, 1, 4, 0);
	assert_int_equal(n, 148);
	assert_true(icmp6_ok(out));
	assert_int_equal(sl_icmp_error_build(out, 95, SL_AF_IPV6, &router, off, 100, 1, 4, 0), 0);
	assert_int_equal(sl_icmp_error_build(out, 96, SL_AF_IPV6, &router, off, 100, 1, 4, 0), 96);
}

static void
test_icmp_error_build_refusals(void **state)
{
	struct sl_ip_addr r4 = sl_test_ip("192.0.2.254"), r6 = sl_test_ip("2001:db8::fe");
	uint8_t off[BUF], out[BUF], err[BUF];
	uint32_t n;

	(void)state;
	make_tcp4(off, "198.51.100.9", "10.0.0.1", 1, 2, 60);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &r6, off, 60, 3, 1, 0), 0);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV6, &r6, off, 60, 1, 0, 0), 0);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), 0, &r4, off, 60, 3, 1, 0), 0);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &r4, off, 60, 8, 0, 0), 0);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &r4, off, 19, 3, 1, 0), 0);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &r4, off, 60, 3, 1, 0), 88);

	/* about an ICMP error: no; about an echo request: yes */
	n = sl_icmp_error_build(err, sizeof(err), SL_AF_IPV4, &r4, off, 60, 3, 1, 0);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &r4, err, n, 11, 0, 0), 0);
	n = (uint32_t)make_echo4(err, "198.51.100.9", "10.0.0.1");
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &r4, err, n, 11, 0, 0),
			 28 + n);
	/* multicast/broadcast destination, unspecified/multicast source, a non-first fragment */
	make_tcp4(off, "198.51.100.9", "224.0.0.5", 1, 2, 60);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &r4, off, 60, 3, 1, 0), 0);
	make_tcp4(off, "198.51.100.9", "255.255.255.255", 1, 2, 60);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &r4, off, 60, 3, 1, 0), 0);
	make_tcp4(off, "0.0.0.0", "10.0.0.1", 1, 2, 60);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &r4, off, 60, 3, 1, 0), 0);
	make_tcp4(off, "239.1.1.1", "10.0.0.1", 1, 2, 60);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &r4, off, 60, 3, 1, 0), 0);
	make_tcp4(off, "198.51.100.9", "10.0.0.1", 1, 2, 60);
	put16(off + 6, 0x0010);
	fix_ipv4(off);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &r4, off, 60, 3, 1, 0), 0);
	put16(off + 6, 0x2000); /* first fragment: fine */
	fix_ipv4(off);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &r4, off, 60, 3, 1, 0), 88);

	/* IPv6: multicast destination only for Packet Too Big and Parameter Problem code 2 */
	make_udp6(off, "2001:db8:5::9", "ff0e::1", 1, 2, 100);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV6, &r6, off, 100, 1, 0, 0), 0);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV6, &r6, off, 100, 4, 1, 0), 0);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV6, &r6, off, 100, 4, 2, 0), 148);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV6, &r6, off, 100, 2, 0, 0), 148);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV6, &r6, off, 100, 5, 0, 0), 0);
	make_udp6(off, "::", "2001:db8::1", 1, 2, 100);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV6, &r6, off, 100, 1, 0, 0), 0);
	/* about an ICMPv6 error: no; about an echo request: yes */
	make_udp6(off, "2001:db8:5::9", "2001:db8::1", 1, 2, 100);
	n = sl_icmp_error_build(err, sizeof(err), SL_AF_IPV6, &r6, off, 100, 1, 0, 0);
	assert_int_equal(n, 148);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV6, &r6, err, n, 1, 0, 0), 0);
	n = (uint32_t)make_echo6(err, "2001:db8:5::9", "2001:db8::1", 8);
	assert_int_equal(sl_icmp_error_build(out, sizeof(out), SL_AF_IPV6, &r6, err, n, 3, 0, 0),
			 48 + n);
}

static void
test_icmp_error_parse_refusals(void **state)
{
	struct sl_ip_addr r4 = sl_test_ip("192.0.2.254"), r6 = sl_test_ip("2001:db8::fe");
	struct sl_icmp_quote q;
	uint8_t off[BUF], out[BUF];
	uint32_t n;

	(void)state;
	/* echo request / reply are not errors */
	n = (uint32_t)make_echo4(out, "198.51.100.9", "10.0.0.1");
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV4, &q), -EINVAL);
	n = (uint32_t)make_echo6(out, "2001:db8:5::9", "2001:db8::1", 8);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV6, &q), -EINVAL);

	/* quoted ports only partly there */
	make_tcp4(off, "198.51.100.9", "10.0.0.1", 1, 2, 60);
	n = sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &r4, off, 60, 3, 3, 0);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV4, &q), 0);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV6, &q), -EINVAL);
	assert_int_equal(sl_icmp_error_parse(out, n - 1, SL_AF_IPV4, &q), -EINVAL); /* truncated */
	put16(out + 2, 28 + 20 + 4);
	fix_ipv4(out);
	fix_icmp4(out + 20, 32);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV4, &q), 0);
	assert_int_equal(q.inner_l4_off, 48);
	put16(out + 2, 28 + 20 + 3);
	fix_ipv4(out);
	fix_icmp4(out + 20, 31);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV4, &q), -EINVAL);

	/* bad ICMP checksum, unknown type, quoted protocol not TCP/UDP */
	n = sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &r4, off, 60, 3, 3, 0);
	out[n - 1] ^= 1;
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV4, &q), -EINVAL);
	out[n - 1] ^= 1;
	out[20] = 5; /* redirect */
	fix_icmp4(out + 20, n - 20);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV4, &q), -EINVAL);
	out[20] = 12;
	out[28 + 9] = 47; /* GRE */
	fix_icmp4(out + 20, n - 20);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV4, &q), -EINVAL);
	out[28 + 9] = 17;
	fix_icmp4(out + 20, n - 20);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV4, &q), 0);
	assert_int_equal(q.type, 12);
	assert_int_equal(q.proto, SL_PROTO_UDP);
	out[28] = 0x65; /* quoted packet IPv6 */
	fix_icmp4(out + 20, n - 20);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV4, &q), -EINVAL);

	/* IPv6: quoted packet with an extension header, too short, bad checksum */
	make_udp6(off, "2001:db8:5::9", "2001:db8::1", 1, 2, 100);
	n = sl_icmp_error_build(out, sizeof(out), SL_AF_IPV6, &r6, off, 100, 1, 0, 0);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV6, &q), 0);
	out[48 + 6] = 60;
	fix_icmp6(out);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV6, &q), -EINVAL);
	out[48 + 6] = 17;
	fix_icmp6(out);
	out[43] ^= 1;
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV6, &q), -EINVAL);
	out[43] ^= 1;
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV6, &q), 0);
	put16(out + 4, 8 + 40 + 3);
	fix_icmp6(out);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV6, &q), -EINVAL);
	put16(out + 4, 8 + 40 + 4);
	fix_icmp6(out);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV6, &q), 0);
	out[40] = 128;
	fix_icmp6(out);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV6, &q), -EINVAL);
	assert_int_equal(sl_icmp_error_parse(NULL, n, SL_AF_IPV6, &q), -EINVAL);
}

static void
test_icmp_error_dnat_v4(void **state)
{
	struct sl_ip_addr router = sl_test_ip("192.0.2.254"), backend = sl_test_ip("10.1.0.5");
	struct sl_ip_addr frontend = sl_test_ip("203.0.113.10"), client = sl_test_ip("198.51.100.9");
	struct sl_icmp_quote q;
	uint8_t off[BUF], out[BUF], before[BUF];
	uint32_t n;

	(void)state;
	/* The frontend's reply to a client, too big for a link on the way. */
	make_tcp4(off, "203.0.113.10", "198.51.100.9", 80, 51000, 1500);
	n = sl_icmp_error_build(out, sizeof(out), SL_AF_IPV4, &router, off, 1500, 3, 4,
				htonl(1400));
	assert_int_equal(n, 576);
	memcpy(before, out, n);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV4, &q), 0);
	assert_true(sl_ip_addr_eq(&q.src, &frontend));
	assert_memory_equal(out + 16, &frontend.bytes[12], 4);
	assert_int_equal(sl_icmp_error_dnat(out, n, SL_AF_IPV4, &backend, htons(8080)), 0);
	assert_memory_equal(out + 16, &backend.bytes[12], 4);
	assert_memory_equal(out + 12, &router.bytes[12], 4);
	assert_true(ipv4_hdr_ok(out));
	assert_true(ipv4_hdr_ok(out + 28));
	assert_true(icmp4_ok(out + 20, n - 20));
	assert_memory_equal(out + 28 + 12, &backend.bytes[12], 4);
	assert_memory_equal(out + 28 + 16, &client.bytes[12], 4);
	assert_int_equal(get16(out + 48), 8080);
	assert_int_equal(get16(out + 50), 51000);
	assert_int_equal(get16(out + 48 + 16), 0xbeef); /* quoted TCP checksum left alone */
	assert_memory_equal(out + 52, before + 52, n - 52);
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV4, &q), 0);
	assert_true(sl_ip_addr_eq(&q.src, &backend));
	assert_int_equal(ntohs(q.sport_be), 8080);

	/* new_port 0 keeps the port; padding beyond the packet is fine */
	memcpy(out, before, n);
	assert_int_equal(sl_icmp_error_dnat(out, n + 4, SL_AF_IPV4, &backend, 0), 0);
	assert_int_equal(get16(out + 48), 80);
	assert_true(ipv4_hdr_ok(out) && ipv4_hdr_ok(out + 28) && icmp4_ok(out + 20, n - 20));

	/* refusals leave the packet untouched */
	memcpy(out, before, n);
	struct sl_ip_addr v6 = sl_test_ip("2001:db8::5");
	assert_int_equal(sl_icmp_error_dnat(out, n, SL_AF_IPV4, &v6, 0), -EINVAL);
	assert_int_equal(sl_icmp_error_dnat(out, n, SL_AF_IPV4, NULL, 0), -EINVAL);
	assert_int_equal(sl_icmp_error_dnat(out, n - 1, SL_AF_IPV4, &backend, 0), -EINVAL);
	assert_memory_equal(out, before, n);
}

static void
test_icmp_error_dnat_v6(void **state)
{
	struct sl_ip_addr router = sl_test_ip("2001:db8::fe"), backend = sl_test_ip("fd00::5");
	struct sl_icmp_quote q;
	uint8_t off[BUF], out[BUF], before[BUF];
	uint32_t n;

	(void)state;
	make_udp6(off, "2001:db8:f::10", "2001:db8:5::9", 53, 5353, 1400);
	n = sl_icmp_error_build(out, sizeof(out), SL_AF_IPV6, &router, off, 1400,
				SL_ICMP6_PACKET_TOO_BIG, 0, htonl(1300));
	assert_int_equal(n, 1280);
	memcpy(before, out, n);
	assert_int_equal(sl_icmp_error_dnat(out, n, SL_AF_IPV6, &backend, htons(5300)), 0);
	assert_memory_equal(out + 24, backend.bytes, 16);
	assert_memory_equal(out + 48 + 8, backend.bytes, 16);
	assert_int_equal(get16(out + 88), 5300);
	assert_int_equal(get16(out + 88 + 6), 0xcafe);
	assert_true(icmp6_ok(out));
	assert_int_equal(sl_icmp_error_parse(out, n, SL_AF_IPV6, &q), 0);
	assert_true(sl_ip_addr_eq(&q.src, &backend));
	assert_int_equal(ntohs(q.sport_be), 5300);
	assert_int_equal(ntohs(q.dport_be), 5353);

	memcpy(out, before, n);
	struct sl_ip_addr v4 = sl_test_ip("10.1.0.5");
	assert_int_equal(sl_icmp_error_dnat(out, n, SL_AF_IPV6, &v4, 0), -EINVAL);
	assert_memory_equal(out, before, n);
}

/* ---- TTL ------------------------------------------------------------------ */

static void
test_ttl_decrement(void **state)
{
	uint8_t p[64], orig[64];
	int ttl;

	(void)state;
	make_ipv4(p, "10.0.0.1", "10.0.0.2", 6, 20, 40, 1);
	memcpy(orig, p, 20);
	assert_int_equal(sl_ip_ttl_decrement(p, SL_AF_IPV4), -1);
	assert_memory_equal(p, orig, 20);
	p[8] = 0;
	fix_ipv4(p);
	assert_int_equal(sl_ip_ttl_decrement(p, SL_AF_IPV4), -1);

	make_ipv4(p, "10.0.0.1", "10.0.0.2", 17, 20, 40, 64);
	assert_int_equal(sl_ip_ttl_decrement(p, SL_AF_IPV4), 63);
	assert_int_equal(p[8], 63);
	assert_true(ipv4_hdr_ok(p));

	/* every value down to 1, with options, the checksum stays right */
	make_ipv4(p, "192.0.2.200", "198.51.100.255", 6, 32, 60, 255);
	for (ttl = 254; ttl >= 1; ttl--) {
		assert_int_equal(sl_ip_ttl_decrement(p, SL_AF_IPV4), ttl);
		assert_true(ipv4_hdr_ok(p));
	}
	assert_int_equal(sl_ip_ttl_decrement(p, SL_AF_IPV4), -1);

	make_ipv6(p, "2001:db8::1", "2001:db8::2", 6, 0, 64);
	assert_int_equal(sl_ip_ttl_decrement(p, SL_AF_IPV6), 63);
	assert_int_equal(p[7], 63);
	p[7] = 1;
	assert_int_equal(sl_ip_ttl_decrement(p, SL_AF_IPV6), -1);
	assert_int_equal(p[7], 1);
	assert_int_equal(sl_ip_ttl_decrement(p, 0), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_request_bytes),
		cmocka_unit_test(test_arp_reply_and_gratuitous),
		cmocka_unit_test(test_arp_build_errors),
		cmocka_unit_test(test_arp_parse),
		cmocka_unit_test(test_multicast_helpers),
		cmocka_unit_test(test_nd_ns_bytes),
		cmocka_unit_test(test_nd_ns_roundtrip),
		cmocka_unit_test(test_nd_na),
		cmocka_unit_test(test_nd_parse_errors),
		cmocka_unit_test(test_echo_v4),
		cmocka_unit_test(test_echo_v6),
		cmocka_unit_test(test_icmp_error_build_v4),
		cmocka_unit_test(test_icmp_error_build_v6),
		cmocka_unit_test(test_icmp_error_build_refusals),
		cmocka_unit_test(test_icmp_error_parse_refusals),
		cmocka_unit_test(test_icmp_error_dnat_v4),
		cmocka_unit_test(test_icmp_error_dnat_v6),
		cmocka_unit_test(test_ttl_decrement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
