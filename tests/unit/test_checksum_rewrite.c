/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_checksum_rewrite.c: unit tests of the checksums (sl_checksum) and of
 * what the packet path does to a packet (sl_rewrite: DNAT, delivery prefixes).
 *
 * Every checksum left by a rewrite is compared with a full recomputation by
 * the module (sl_l4_csum, sl_ipv4_header_csum) and by a naive byte-by-byte
 * implementation written here independently; every rewritten packet is also
 * parsed again to check lengths, addresses, ports and protocol fields.
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

#include "sl_checksum.h"
#include "sl_parse.h"
#include "sl_rewrite.h"
#include "sl_types.h"
#include "sl_test_csum.h"
#include "sl_test_util.h"

#define MAX_FRAME 2048

static unsigned int seed = 20240601;

/* A checksum as returned by sl_* (memory order) read as a number. */
static uint16_t
mem16(uint16_t v)
{
	uint8_t b[2];

	memcpy(b, &v, 2);
	return get16(b);
}

static uint8_t
rnd8(void)
{
	return (uint8_t)rand_r(&seed);
}

static void
rnd_fill(uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = rnd8();
}

/* ---- the naive reference (naive_sum/naive_fold: sl_test_csum.h) ---- */

static uint16_t
naive_ipv4_csum(const uint8_t *ip, size_t ihl)
{
	uint8_t h[64];

	assert_true(ihl <= sizeof(h));
	memcpy(h, ip, ihl);
	h[10] = h[11] = 0;
	return naive_fold(naive_sum(0, h, ihl));
}

/* The folded TCP/UDP checksum, before UDP's 0 -> 0xffff. */
static uint16_t
naive_l4_raw(const uint8_t *ip, int family, uint8_t proto, const uint8_t *l4, size_t l4_len)
{
	static uint8_t b[70000];
	size_t n = 0, csum_off = proto == SL_PROTO_TCP ? 16 : 6;

	if (family == SL_AF_IPV4) {
		memcpy(b, ip + 12, 8);
		b[8] = 0;
		b[9] = proto;
		put16(b + 10, (uint32_t)l4_len);
		n = 12;
	} else {
		memcpy(b, ip + 8, 32);
		b[32] = (uint8_t)(l4_len >> 24);
		b[33] = (uint8_t)(l4_len >> 16);
		put16(b + 34, (uint32_t)l4_len);
		b[36] = b[37] = b[38] = 0;
		b[39] = proto;
		n = 40;
	}
	memcpy(b + n, l4, l4_len);
	b[n + csum_off] = b[n + csum_off + 1] = 0;
	return naive_fold(naive_sum(0, b, n + l4_len));
}

static uint16_t
naive_l4_csum(const uint8_t *ip, int family, uint8_t proto, const uint8_t *l4, size_t l4_len)
{
	uint16_t c = naive_l4_raw(ip, family, proto, l4, l4_len);

	return proto == SL_PROTO_UDP && c == 0 ? 0xffff : c;
}

/* ---- frame builder ---- */

static const char *const v4_src = "10.0.0.1";
static const char *const v4_dst = "192.0.2.10";
static const char *const v6_src = "2001:db8::1";
static const char *const v6_dst = "2001:db8::10";

struct fspec {
	int vlan;
	int family;
	int ip_opt_words;  /* IPv4 */
	int dstopts;       /* IPv6: one destination-options header of 16 bytes */
	uint8_t proto;
	uint16_t payload;
	int udp_zero;      /* UDP over IPv4 sent without checksum */
};

static struct sl_ip_addr
addr(const char *text)
{
	struct sl_ip_addr a;

	assert_int_equal(sl_ip_addr_parse(text, &a, NULL), 0);
	return a;
}

/* Fill in correct checksums with the naive reference. */
static void
fill_checksums(uint8_t *buf, const struct sl_pkt *p, int udp_zero)
{
	uint8_t *ip = buf + p->l3_off, *l4 = buf + p->l4_off;
	size_t csum_off = p->l4_proto == SL_PROTO_TCP ? 16 : 6;

	if (p->family == SL_AF_IPV4)
		put16(ip + 10, naive_ipv4_csum(ip, (size_t)(ip[0] & 0xf) * 4));
	if (udp_zero)
		put16(l4 + csum_off, 0);
	else
		put16(l4 + csum_off, naive_l4_csum(ip, p->family, p->l4_proto, l4, p->l4_len));
}

/* Build a frame with random payload and correct checksums; parse it into *p. */
static size_t
build_frame(uint8_t *buf, const struct fspec *s, struct sl_pkt *p)
{
	size_t off = 12, l3, l4, l4hdr, i, l3_len;
	struct sl_ip_addr a;

	memset(buf, 0, MAX_FRAME);
	memcpy(buf, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	if (s->vlan) {
		put16(buf + off, SL_ETHERTYPE_VLAN);
		put16(buf + off + 2, 100);
		off += 4;
	}
	put16(buf + off, s->family == 6 ? SL_ETHERTYPE_IPV6 : SL_ETHERTYPE_IPV4);
	l3 = off + 2;
	if (s->family == 4) {
		size_t ihl = 20 + 4 * (size_t)s->ip_opt_words;

		buf[l3] = (uint8_t)(0x40 | ihl / 4);
		put16(buf + l3 + 4, (uint32_t)rand_r(&seed));
		buf[l3 + 8] = 64;
		buf[l3 + 9] = s->proto;
		a = addr(v4_src);
		memcpy(buf + l3 + 12, &a.bytes[12], 4);
		a = addr(v4_dst);
		memcpy(buf + l3 + 16, &a.bytes[12], 4);
		for (i = 20; i < ihl; i++)
			buf[l3 + i] = 1;
		l4 = l3 + ihl;
	} else {
		buf[l3] = 0x60;
		buf[l3 + 7] = 64;
		a = addr(v6_src);
		memcpy(buf + l3 + 8, a.bytes, 16);
		a = addr(v6_dst);
		memcpy(buf + l3 + 24, a.bytes, 16);
		l4 = l3 + 40;
		if (s->dstopts) {
			buf[l3 + 6] = 60;
			buf[l4] = s->proto;
			buf[l4 + 1] = 1;
			buf[l4 + 2] = 1;
			buf[l4 + 3] = 12;
			l4 += 16;
		} else {
			buf[l3 + 6] = s->proto;
		}
	}
	l4hdr = s->proto == SL_PROTO_TCP ? 20 : 8;
	put16(buf + l4, 1024 + (uint32_t)rand_r(&seed) % 60000);
	put16(buf + l4 + 2, s->proto == SL_PROTO_TCP ? 80 : 53);
	if (s->proto == SL_PROTO_TCP) {
		put16(buf + l4 + 4, (uint32_t)rand_r(&seed));
		buf[l4 + 12] = 0x50;
		buf[l4 + 13] = SL_TCP_ACK;
	} else {
		put16(buf + l4 + 4, (uint32_t)(8 + s->payload));
	}
	rnd_fill(buf + l4 + l4hdr, s->payload);
	l3_len = l4 + l4hdr + s->payload - l3;
	if (s->family == 4)
		put16(buf + l3 + 2, (uint32_t)l3_len);
	else
		put16(buf + l3 + 4, (uint32_t)(l3_len - 40));
	assert_int_equal(sl_parse(buf, (uint32_t)(l3 + l3_len), p), SL_DROP_NONE);
	fill_checksums(buf, p, s->udp_zero);
	return l3 + l3_len;
}

/*
 * The checksums of a parsed packet equal both recomputations (and the whole
 * packet sums to all ones). A UDP-over-IPv4 checksum of 0 is accepted only
 * when udp_zero says so, and then must be 0.
 */
static void
verify_checksums(const uint8_t *buf, const struct sl_pkt *p, int udp_zero)
{
	const uint8_t *ip = buf + p->l3_off, *l4 = buf + p->l4_off;
	size_t csum_off = p->l4_proto == SL_PROTO_TCP ? 16 : 6;
	uint16_t stored = get16(l4 + csum_off);

	if (p->family == SL_AF_IPV4) {
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;

		assert_int_equal(get16(ip + 10), naive_ipv4_csum(ip, ihl));
		assert_int_equal(get16(ip + 10), mem16(sl_ipv4_header_csum(ip, ihl)));
		assert_int_equal(naive_sum(0, ip, ihl), 0xffff);
	}
	if (udp_zero) {
		assert_int_equal(stored, 0);
		return;
	}
	assert_int_not_equal(stored, 0);
	assert_int_equal(stored, naive_l4_csum(ip, p->family, p->l4_proto, l4, p->l4_len));
	assert_int_equal(stored, mem16(sl_l4_csum(ip, p->family, p->l4_proto, l4, p->l4_len)));
}

/* ---- checksum primitives ---- */

static void
test_csum_vectors(void **state)
{
	/* RFC 1071 section 3: the sum of these words is ddf2 */
	static const uint8_t rfc1071[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	/* a real IPv4 header, checksum b861 */
	static const uint8_t iph[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
					0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
					0xc0, 0xa8, 0x00, 0xc7};
	uint8_t odd[3] = {0x12, 0x34, 0x56};
	uint8_t big[65536];

	(void)state;
	assert_int_equal(mem16(sl_csum_fold(sl_csum_add(0, rfc1071, 8))), (uint16_t)~0xddf2);
	assert_int_equal(mem16(sl_ipv4_header_csum(iph, 20)), 0xb861);
	/* odd length: the last byte is padded with a zero low byte: 1234 + 5600 */
	assert_int_equal(mem16(sl_csum_fold(sl_csum_add(0, odd, 3))), (uint16_t)~0x6834);
	assert_int_equal(mem16(sl_csum_fold(sl_csum_add(0, odd, 0))), 0xffff);
	/* 64 KiB of ones must not overflow the running sum */
	memset(big, 0xff, sizeof(big));
	assert_int_equal(mem16(sl_csum_fold(sl_csum_add(0, big, sizeof(big)))), 0);
	assert_int_equal(mem16(sl_csum_fold(sl_csum_add(0xffffffffu, big, sizeof(big) - 1))),
			 naive_fold(naive_sum(0xffff, big, sizeof(big) - 1)));
	/* fold carries twice */
	assert_int_equal(mem16(sl_csum_fold(0xffffffffu)), 0);
	assert_int_equal(sl_csum_fold(0x0001fffeu), 0);
}

static void
test_csum_add_random(void **state)
{
	uint8_t buf[400];
	int i;

	(void)state;
	for (i = 0; i < 5000; i++) {
		size_t align = (size_t)rand_r(&seed) % 4;
		size_t n = (size_t)rand_r(&seed) % 300;
		size_t split = ((size_t)rand_r(&seed) % (n + 1)) & ~(size_t)1;
		uint32_t s;

		rnd_fill(buf, sizeof(buf));
		/* whole, at any alignment */
		s = sl_csum_add(0, buf + align, n);
		assert_int_equal(mem16(sl_csum_fold(s)), naive_fold(naive_sum(0, buf + align, n)));
		/* in two pieces split at an even offset */
		s = sl_csum_add(sl_csum_add(0, buf + align, split), buf + align + split, n - split);
		assert_int_equal(mem16(sl_csum_fold(s)), naive_fold(naive_sum(0, buf + align, n)));
	}
}

static void
test_csum_replace_random(void **state)
{
	uint8_t buf[64], old[16];
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		size_t n = 20 + 2 * ((size_t)rand_r(&seed) % 22);
		size_t w = 2 * (1 + (size_t)rand_r(&seed) % 8);
		size_t at = 2 * ((size_t)rand_r(&seed) % ((n - w) / 2 + 1));
		uint16_t c, c2;

		rnd_fill(buf, n);
		/* checksum field at 10..11 as in IPv4; the changed span avoids it */
		if (at <= 11 && at + w > 10)
			at = 12;
		if (at + w > n)
			continue;
		put16(buf + 10, naive_ipv4_csum(buf, n));
		memcpy(&c, buf + 10, 2);
		memcpy(old, buf + at, w);
		rnd_fill(buf + at, w);
		if (i % 100 == 0)
			memcpy(buf + at, old, w); /* no change at all */
		c2 = sl_csum_replace(c, old, buf + at, w);
		assert_int_equal(mem16(c2), naive_ipv4_csum(buf, n));
		if (w == 2) {
			uint16_t ow, nw;

			memcpy(&ow, old, 2);
			memcpy(&nw, buf + at, 2);
			assert_int_equal(mem16(sl_csum_replace16(c, ow, nw)), naive_ipv4_csum(buf, n));
		}
	}
}

static void
test_l4_csum_udp_zero(void **state)
{
	struct fspec s = {.family = 4, .proto = SL_PROTO_UDP, .payload = 16};
	uint8_t buf[MAX_FRAME];
	struct sl_pkt p;
	int fam;

	(void)state;
	for (fam = 4; fam <= 6; fam += 2) {
		uint8_t *l4;
		uint16_t c;

		s.family = fam;
		build_frame(buf, &s, &p);
		l4 = buf + p.l4_off;
		/* a payload word equal to the checksum computed without it makes the sum all ones */
		put16(l4 + 8, 0);
		c = naive_l4_csum(buf + p.l3_off, p.family, SL_PROTO_UDP, l4, p.l4_len);
		put16(l4 + 8, c);
		/* the raw sum folds to 0 (TCP would store that), UDP sends all ones */
		assert_int_equal(naive_l4_raw(buf + p.l3_off, p.family, SL_PROTO_UDP, l4, p.l4_len), 0);
		assert_int_equal(mem16(sl_l4_csum(buf + p.l3_off, p.family, SL_PROTO_UDP, l4, p.l4_len)),
				 0xffff);
	}
}

static void
test_l4_csum_ignores_field(void **state)
{
	struct fspec s = {.family = 6, .proto = SL_PROTO_TCP, .payload = 33};
	uint8_t buf[MAX_FRAME];
	struct sl_pkt p;
	uint16_t a, b;

	(void)state;
	build_frame(buf, &s, &p);
	a = sl_l4_csum(buf + p.l3_off, SL_AF_IPV6, SL_PROTO_TCP, buf + p.l4_off, p.l4_len);
	put16(buf + p.l4_off + 16, 0xbeef);
	b = sl_l4_csum(buf + p.l3_off, SL_AF_IPV6, SL_PROTO_TCP, buf + p.l4_off, p.l4_len);
	assert_int_equal(a, b);
	/* and it does depend on the pseudo-header */
	buf[p.l3_off + 8] ^= 1;
	b = sl_l4_csum(buf + p.l3_off, SL_AF_IPV6, SL_PROTO_TCP, buf + p.l4_off, p.l4_len);
	assert_int_not_equal(a, b);
}

/* ---- DNAT ---- */

static void
dnat_case(const struct fspec *s, const char *new_dst_text, uint16_t new_dport)
{
	uint8_t buf[MAX_FRAME], before[MAX_FRAME];
	struct sl_ip_addr nd = addr(new_dst_text);
	struct sl_pkt p, q;
	size_t len;

	len = build_frame(buf, s, &p);
	memcpy(before, buf, len);
	verify_checksums(buf, &p, s->udp_zero);

	sl_dnat(buf, &p, &nd, htons(new_dport));
	assert_int_equal(sl_parse(buf, (uint32_t)len, &q), SL_DROP_NONE);
	assert_memory_equal(q.dst.bytes, nd.bytes, 16);
	assert_memory_equal(q.src.bytes, p.src.bytes, 16);
	assert_int_equal(q.sport_be, p.sport_be);
	assert_int_equal(q.dport_be, new_dport ? htons(new_dport) : p.dport_be);
	assert_int_equal(q.l3_len, p.l3_len);
	assert_int_equal(q.l4_off, p.l4_off);
	verify_checksums(buf, &q, s->udp_zero);
	/* nothing but address, port and checksums changed */
	assert_memory_equal(buf, before, p.l3_off + (p.family == SL_AF_IPV4 ? 10 : 24));
	assert_memory_equal(buf + p.l4_off, before + p.l4_off, 2);
	if (p.l4_proto == SL_PROTO_TCP) {
		assert_memory_equal(buf + p.l4_off + 4, before + p.l4_off + 4, 12);
		assert_memory_equal(buf + p.l4_off + 18, before + p.l4_off + 18, len - p.l4_off - 18);
	} else {
		assert_memory_equal(buf + p.l4_off + 4, before + p.l4_off + 4, 2);
		assert_memory_equal(buf + p.l4_off + 8, before + p.l4_off + 8, len - p.l4_off - 8);
	}
}

static void
test_dnat_v4_tcp(void **state)
{
	struct fspec s = {.family = 4, .proto = SL_PROTO_TCP, .payload = 64};

	(void)state;
	dnat_case(&s, "10.1.2.3", 8080);
	dnat_case(&s, "10.1.2.3", 0);
	dnat_case(&s, "192.0.2.10", 80); /* no change at all */
	s.ip_opt_words = 2;
	s.vlan = 1;
	dnat_case(&s, "172.16.255.254", 443);
}

static void
test_dnat_v4_udp(void **state)
{
	struct fspec s = {.family = 4, .proto = SL_PROTO_UDP, .payload = 21};

	(void)state;
	dnat_case(&s, "10.1.2.3", 5353);
	dnat_case(&s, "255.255.255.255", 0);
	s.ip_opt_words = 1;
	dnat_case(&s, "0.0.0.1", 65535);
}

static void
test_dnat_v4_udp_csum_zero(void **state)
{
	struct fspec s = {.family = 4, .proto = SL_PROTO_UDP, .payload = 21, .udp_zero = 1};

	(void)state;
	dnat_case(&s, "10.1.2.3", 5353);
	dnat_case(&s, "10.9.9.9", 0);
}

static void
test_dnat_v6_tcp(void **state)
{
	struct fspec s = {.family = 6, .proto = SL_PROTO_TCP, .payload = 100};

	(void)state;
	dnat_case(&s, "2001:db8:1::42", 8443);
	dnat_case(&s, "fe80::1", 0);
	s.dstopts = 1;
	s.vlan = 1;
	dnat_case(&s, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 1);
}

static void
test_dnat_v6_udp(void **state)
{
	struct fspec s = {.family = 6, .proto = SL_PROTO_UDP, .payload = 3};

	(void)state;
	dnat_case(&s, "2001:db8:1::42", 53);
	dnat_case(&s, "::2", 0);
	s.dstopts = 1;
	dnat_case(&s, "2001:db8::99", 5000);
}

/*
 * A UDP rewrite whose incremental result is 0 must be stored as 0xffff: build
 * a packet whose checksum, once addressed to the new destination, sums to
 * all ones, then address it elsewhere, and DNAT it back.
 */
static void
test_dnat_udp_result_zero(void **state)
{
	int fam;

	(void)state;
	for (fam = 4; fam <= 6; fam += 2) {
		struct fspec s = {.family = fam, .proto = SL_PROTO_UDP, .payload = 10};
		const char *new_text = fam == 4 ? "10.7.7.7" : "2001:db8::7";
		const char *old_text = fam == 4 ? v4_dst : v6_dst;
		struct sl_ip_addr nd = addr(new_text), od = addr(old_text);
		uint8_t buf[MAX_FRAME];
		struct sl_pkt p, q;
		uint8_t *ip, *l4, *dstp;
		uint16_t c, raw;
		size_t len, alen = fam == 4 ? 4 : 16;
		const uint8_t *nb = fam == 4 ? &nd.bytes[12] : nd.bytes;
		const uint8_t *ob = fam == 4 ? &od.bytes[12] : od.bytes;

		len = build_frame(buf, &s, &p);
		ip = buf + p.l3_off;
		l4 = buf + p.l4_off;
		dstp = ip + (fam == 4 ? 16 : 24);
		/* addressed to the new destination, make the UDP sum all ones */
		memcpy(dstp, nb, alen);
		put16(l4 + 8, 0);
		c = naive_l4_csum(ip, p.family, SL_PROTO_UDP, l4, p.l4_len);
		put16(l4 + 8, c);
		/* now address it to the old one with a correct checksum */
		memcpy(dstp, ob, alen);
		assert_int_equal(sl_parse(buf, (uint32_t)len, &p), SL_DROP_NONE);
		fill_checksums(buf, &p, 0);
		verify_checksums(buf, &p, 0);
		/* the incremental update itself yields 0 here ... */
		memcpy(&c, l4 + 6, 2);
		raw = sl_csum_replace(c, ob, nb, alen);
		assert_int_equal(raw, 0);
		/* ... which sl_dnat must store as all ones */
		sl_dnat(buf, &p, &nd, 0);
		assert_int_equal(get16(l4 + 6), 0xffff);
		assert_int_equal(sl_parse(buf, (uint32_t)len, &q), SL_DROP_NONE);
		verify_checksums(buf, &q, 0);
	}
}

static void
test_dnat_random(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 3000; i++) {
		struct fspec s = {0};
		char text[64];
		struct sl_ip_addr a;
		uint16_t port = (uint16_t)(rand_r(&seed) % 3 ? rand_r(&seed) : 0);

		s.family = rand_r(&seed) % 2 ? 4 : 6;
		s.proto = rand_r(&seed) % 2 ? SL_PROTO_TCP : SL_PROTO_UDP;
		s.payload = (uint16_t)(rand_r(&seed) % 1400);
		s.vlan = rand_r(&seed) % 2;
		if (s.family == 4) {
			s.ip_opt_words = rand_r(&seed) % 3;
			s.udp_zero = s.proto == SL_PROTO_UDP && rand_r(&seed) % 4 == 0;
			sl_ip_addr_from_v4(&a, (uint32_t)rand_r(&seed) * 2654435761u);
		} else {
			s.dstopts = rand_r(&seed) % 2;
			rnd_fill(a.bytes, 16);
			if (sl_ip_addr_is_v4(&a))
				a.bytes[0] = 0x20;
		}
		assert_non_null(sl_ip_addr_format(&a, text, sizeof(text)));
		dnat_case(&s, text, port);
	}
}

/*
 * A first fragment of another protocol than TCP/UDP (here ICMP / ICMPv6, as
 * a large ping to a frontend with an HA ports rule gets): DNAT and SNAT
 * change the address only, never the bytes at a TCP/UDP port or checksum
 * offset (found by tests/fuzz/fuzz_parse; the reproducer is in its corpus).
 */
static void
test_nat_first_fragment_not_tcp_udp(void **state)
{
	int fam;

	(void)state;
	for (fam = 4; fam <= 6; fam += 2) {
		uint8_t buf[MAX_FRAME], before[MAX_FRAME];
		struct sl_ip_addr na = addr(fam == 4 ? "10.1.2.3" : "2001:db8:1::42");
		size_t alen = fam == 4 ? 4 : 16, aoff_dst = fam == 4 ? 16 : 24;
		size_t aoff_src = fam == 4 ? 12 : 8, l4_off, len;
		struct sl_pkt p;
		uint8_t *ip = buf + 14, *icmp;
		int dst;

		memset(buf, 0, sizeof(buf));
		if (fam == 4) {
			put16(buf + 12, SL_ETHERTYPE_IPV4);
			ip[0] = 0x45;
			put16(ip + 2, 20 + 24);
			put16(ip + 4, 0x1234);
			put16(ip + 6, 0x2000); /* MF, offset 0 */
			ip[8] = 64;
			ip[9] = 1;             /* ICMP */
			memcpy(ip + 12, &addr(v4_src).bytes[12], 4);
			memcpy(ip + 16, &addr(v4_dst).bytes[12], 4);
			put16(ip + 10, mem16(sl_ipv4_header_csum(ip, 20)));
			l4_off = 14 + 20;
		} else {
			put16(buf + 12, SL_ETHERTYPE_IPV6);
			ip[0] = 0x60;
			put16(ip + 4, 8 + 24);
			ip[6] = 44;            /* fragment header */
			ip[7] = 64;
			memcpy(ip + 8, addr(v6_src).bytes, 16);
			memcpy(ip + 24, addr(v6_dst).bytes, 16);
			ip[40] = 58;           /* ICMPv6 */
			put16(ip + 42, 0x0001); /* offset 0, M */
			put16(ip + 46, 0x5678);
			l4_off = 14 + 48;
		}
		icmp = buf + l4_off;
		icmp[0] = fam == 4 ? 8 : 128; /* echo request */
		put16(icmp + 2, 0xabcd);
		put16(icmp + 4, 0x0102);      /* identifier */
		put16(icmp + 6, 0x0304);      /* sequence */
		rnd_fill(icmp + 8, 16);
		len = l4_off + 24;
		assert_int_equal(sl_parse(buf, (uint32_t)len, &p),
				 fam == 4 ? SL_DROP_IPV4_FRAGMENT : SL_DROP_IPV6_FRAGMENT);
		assert_int_equal(p.frag, SL_FRAG_FIRST);
		assert_int_equal(p.l4_off, l4_off);
		for (dst = 0; dst <= 1; dst++) {
			size_t aoff = dst ? aoff_dst : aoff_src;

			memcpy(before, buf, len);
			if (dst)
				sl_dnat(buf, &p, &na, htons(8080));
			else
				sl_snat(buf, &p, &na, htons(8080));
			assert_memory_equal(ip + aoff, &na.bytes[16 - alen], alen);
			/* the ICMP message is untouched */
			assert_memory_equal(icmp, before + l4_off, 24);
			if (fam == 4)
				assert_int_equal(mem16(sl_ipv4_header_csum(ip, 20)), get16(ip + 10));
			memcpy(buf, before, len);
		}
	}
}

/* ---- delivery names ---- */

static void
test_delivery_names(void **state)
{
	enum sl_delivery d;
	int i;

	(void)state;
	assert_string_equal(sl_delivery_name(SL_DELIVERY_DNAT), "DNAT");
	assert_string_equal(sl_delivery_name(SL_DELIVERY_L2), "L2");
	assert_string_equal(sl_delivery_name(SL_DELIVERY_IPIP), "IPinIP");
	assert_string_equal(sl_delivery_name(SL_DELIVERY_GUE), "GUE");
	assert_string_equal(sl_delivery_name(SL_DELIVERY_VXLAN), "VXLAN");
	for (i = 0; i < SL_DELIVERY_MAX; i++) {
		assert_int_equal(sl_delivery_parse(sl_delivery_name((enum sl_delivery)i), &d), 0);
		assert_int_equal(d, i);
	}
	assert_int_equal(sl_delivery_parse("ipinip", &d), 0);
	assert_int_equal(d, SL_DELIVERY_IPIP);
	assert_int_equal(sl_delivery_parse("vxlan", &d), 0);
	assert_int_equal(d, SL_DELIVERY_VXLAN);
	assert_int_equal(sl_delivery_parse("Gue", &d), 0);
	assert_int_equal(d, SL_DELIVERY_GUE);
	d = SL_DELIVERY_L2;
	assert_int_equal(sl_delivery_parse("GRE", &d), -EINVAL);
	assert_int_equal(sl_delivery_parse("", &d), -EINVAL);
	assert_int_equal(sl_delivery_parse("VXLAN ", &d), -EINVAL);
	assert_int_equal(sl_delivery_parse(NULL, &d), -EINVAL);
	assert_int_equal(d, SL_DELIVERY_L2);
}

/* ---- delivery prefixes ---- */

static const uint8_t port_mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01};
static const uint8_t hop_mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
static const uint8_t backend_mac[6] = {0x02, 0x66, 0x77, 0x88, 0x99, 0x00};

static void
encap_params(struct sl_encap_params *ep, enum sl_delivery d, int outer_fam)
{
	memset(ep, 0, sizeof(*ep));
	ep->delivery = d;
	memcpy(ep->src_mac.bytes, port_mac, 6);
	memcpy(ep->dst_mac.bytes, hop_mac, 6);
	memcpy(ep->inner_dst_mac.bytes, backend_mac, 6);
	ep->outer_src = addr(outer_fam == 4 ? "198.51.100.1" : "2001:db8:100::1");
	ep->outer_dst = addr(outer_fam == 4 ? "198.51.100.77" : "2001:db8:200::77");
}

/*
 * Build the prefix for (delivery, outer family), put it in front of an inner
 * packet of the inner family, finish it, and check every field.
 */
static void
encap_case(enum sl_delivery d, int outer_fam, int inner_fam, uint16_t udp_dport, uint8_t ttl,
	   uint32_t vni, uint32_t entropy, uint16_t payload)
{
	struct fspec s = {.family = inner_fam, .proto = rand_r(&seed) % 2 ? SL_PROTO_TCP : SL_PROTO_UDP,
			  .payload = payload};
	int tunnel = d == SL_DELIVERY_IPIP || d == SL_DELIVERY_GUE || d == SL_DELIVERY_VXLAN;
	int has_udp = d == SL_DELIVERY_GUE || d == SL_DELIVERY_VXLAN;
	uint8_t frame[MAX_FRAME];
	struct sl_encap_params ep;
	struct sl_encap e;
	struct sl_pkt inner, q;
	const uint8_t *in;
	uint8_t *out, *ip, *udp = NULL;
	size_t exp_len, total, iplen = outer_fam == 4 ? 20 : 40;
	uint16_t inner_len;
	uint8_t want_ttl = ttl ? ttl : 64;

	build_frame(frame, &s, &inner);
	in = frame + inner.l3_off;
	inner_len = inner.l3_len;

	encap_params(&ep, d, outer_fam);
	ep.udp_dport = udp_dport;
	ep.ttl = ttl;
	ep.vni = vni;
	memset(&e, 0x5a, sizeof(e));
	assert_int_equal(sl_encap_build(&e, &ep), 0);
	assert_int_equal(e.valid, 1);
	assert_int_equal(e.delivery, d);
	exp_len = 14;
	if (tunnel)
		exp_len += iplen;
	if (has_udp)
		exp_len += 8;
	if (d == SL_DELIVERY_VXLAN)
		exp_len += 8 + 14;
	assert_int_equal(e.len, exp_len);
	assert_true(e.len <= SL_ENCAP_BYTES);
	assert_int_equal(e.outer_family, tunnel ? (outer_fam == 4 ? SL_AF_IPV4 : SL_AF_IPV6) : SL_AF_NONE);
	assert_int_equal(e.ip_off, tunnel ? 14 : 0);
	assert_int_equal(e.udp_off, has_udp ? 14 + iplen : 0);
	assert_int_equal(e.inner_eth_off, d == SL_DELIVERY_VXLAN ? 14 + iplen + 16 : 0);

	/* the prefix copied in front of the inner packet, then finished */
	total = e.len + inner_len;
	out = malloc(total);
	assert_non_null(out);
	memcpy(out, e.bytes, e.len);
	memcpy(out + e.len, in, inner_len);
	sl_encap_finish(out, &e, inner_len, inner_fam == 4 ? SL_AF_IPV4 : SL_AF_IPV6, entropy);

	/* the inner packet is untouched */
	assert_memory_equal(out + e.len, in, inner_len);
	assert_memory_equal(out, hop_mac, 6);
	assert_memory_equal(out + 6, port_mac, 6);

	if (!tunnel) {
		/* DNAT, L2: the frame is the inner packet behind a new Ethernet header */
		assert_int_equal(get16(out + 12), inner_fam == 4 ? SL_ETHERTYPE_IPV4 : SL_ETHERTYPE_IPV6);
		assert_int_equal(sl_parse(out, (uint32_t)total, &q), SL_DROP_NONE);
		assert_memory_equal(q.dst.bytes, inner.dst.bytes, 16);
		assert_int_equal(q.l4_len, inner.l4_len);
		verify_checksums(out, &q, 0);
		free(out);
		return;
	}

	ip = out + 14;
	assert_int_equal(get16(out + 12), outer_fam == 4 ? SL_ETHERTYPE_IPV4 : SL_ETHERTYPE_IPV6);
	if (outer_fam == 4) {
		uint8_t want_proto = d == SL_DELIVERY_IPIP ? (inner_fam == 4 ? 4 : 41) : 17;

		assert_int_equal(ip[0], 0x45);
		assert_int_equal(ip[1], 0);
		assert_int_equal(get16(ip + 2), total - 14);
		assert_int_equal(get16(ip + 4), 0);      /* id */
		assert_int_equal(get16(ip + 6), 0x4000); /* DF, no fragment */
		assert_int_equal(ip[8], want_ttl);
		assert_int_equal(ip[9], want_proto);
		assert_memory_equal(ip + 12, &ep.outer_src.bytes[12], 4);
		assert_memory_equal(ip + 16, &ep.outer_dst.bytes[12], 4);
		assert_int_equal(get16(ip + 10), naive_ipv4_csum(ip, 20));
		assert_int_equal(get16(ip + 10), mem16(sl_ipv4_header_csum(ip, 20)));
		assert_int_equal(naive_sum(0, ip, 20), 0xffff);
	} else {
		uint8_t want_nh = d == SL_DELIVERY_IPIP ? (inner_fam == 4 ? 4 : 41) : 17;

		assert_int_equal(ip[0], 0x60);
		assert_int_equal(ip[1] | ip[2] | ip[3], 0);
		assert_int_equal(get16(ip + 4), total - 14 - 40);
		assert_int_equal(ip[6], want_nh);
		assert_int_equal(ip[7], want_ttl);
		assert_memory_equal(ip + 8, ep.outer_src.bytes, 16);
		assert_memory_equal(ip + 24, ep.outer_dst.bytes, 16);
	}

	if (!has_udp) {
		/* IP-in-IP: the parser refuses protocol 4/41, and the inner packet is right behind */
		assert_int_equal(sl_parse(out, (uint32_t)total, &q), SL_DROP_L4_UNSUPPORTED);
		assert_int_equal(e.len, 14 + iplen);
		free(out);
		return;
	}

	udp = out + e.udp_off;
	assert_int_equal(get16(udp), 49152 + entropy % 16384);
	assert_true(get16(udp) >= 49152);
	assert_int_equal(get16(udp + 2), udp_dport ? udp_dport :
				(d == SL_DELIVERY_GUE ? SL_GUE_DEFAULT_PORT : SL_VXLAN_DEFAULT_PORT));
	assert_int_equal(get16(udp + 4), total - e.udp_off);
	if (outer_fam == 4) {
		assert_int_equal(get16(udp + 6), 0);
	} else {
		uint16_t c = get16(udp + 6);

		assert_int_not_equal(c, 0);
		assert_int_equal(c, naive_l4_csum(ip, SL_AF_IPV6, 17, udp, total - e.udp_off));
		assert_int_equal(c, mem16(sl_l4_csum(ip, SL_AF_IPV6, 17, udp, total - e.udp_off)));
	}
	/* the outer packet parses as UDP to the tunnel port */
	assert_int_equal(sl_parse(out, (uint32_t)total, &q), SL_DROP_NONE);
	assert_int_equal(q.l4_proto, SL_PROTO_UDP);
	assert_int_equal(q.l4_off, e.udp_off);
	assert_int_equal(q.l4_len, total - e.udp_off);
	assert_int_equal(q.dport_be, htons(get16(udp + 2)));
	assert_memory_equal(q.dst.bytes, ep.outer_dst.bytes, 16);
	verify_checksums(out, &q, outer_fam == 4);

	if (d == SL_DELIVERY_GUE) {
		/* variant 1: the payload is the IP packet, its version nibble first */
		assert_int_equal(e.len, e.udp_off + 8);
		assert_int_equal(out[e.len] >> 4, inner_fam);
	} else {
		const uint8_t *vx = udp + 8, *ie = out + e.inner_eth_off;

		assert_int_equal(vx[0], 0x08);
		assert_int_equal(vx[1] | vx[2] | vx[3] | vx[7], 0);
		assert_int_equal((uint32_t)vx[4] << 16 | (uint32_t)vx[5] << 8 | vx[6], vni);
		assert_memory_equal(ie, backend_mac, 6);
		assert_memory_equal(ie + 6, port_mac, 6);
		assert_int_equal(get16(ie + 12), inner_fam == 4 ? SL_ETHERTYPE_IPV4 : SL_ETHERTYPE_IPV6);
		/* the inner Ethernet frame parses as the original packet */
		assert_int_equal(sl_parse(ie, (uint32_t)(total - e.inner_eth_off), &q), SL_DROP_NONE);
		assert_memory_equal(q.dst.bytes, inner.dst.bytes, 16);
		assert_memory_equal(q.src.bytes, inner.src.bytes, 16);
		assert_int_equal(q.l4_len, inner.l4_len);
		verify_checksums(ie, &q, 0);
	}
	free(out);
}

static void
test_encap_dnat_l2(void **state)
{
	(void)state;
	encap_case(SL_DELIVERY_DNAT, 4, 4, 0, 0, 0, 0, 50);
	encap_case(SL_DELIVERY_DNAT, 4, 6, 0, 0, 0, 0, 50);
	encap_case(SL_DELIVERY_L2, 4, 4, 0, 0, 0, 0, 10);
	encap_case(SL_DELIVERY_L2, 6, 6, 0, 0, 0, 0, 10);
}

static void
test_encap_ipip(void **state)
{
	int of, inf;

	(void)state;
	for (of = 4; of <= 6; of += 2)
		for (inf = 4; inf <= 6; inf += 2) {
			encap_case(SL_DELIVERY_IPIP, of, inf, 0, 0, 0, 0, 100);
			encap_case(SL_DELIVERY_IPIP, of, inf, 0, 255, 0, 0, 0);
			encap_case(SL_DELIVERY_IPIP, of, inf, 0, 1, 0, 0, 1400);
		}
}

static void
test_encap_gue(void **state)
{
	int of, inf;

	(void)state;
	for (of = 4; of <= 6; of += 2)
		for (inf = 4; inf <= 6; inf += 2) {
			encap_case(SL_DELIVERY_GUE, of, inf, 0, 0, 0, 0, 100);
			encap_case(SL_DELIVERY_GUE, of, inf, 5555, 32, 0, 16383, 7);
			encap_case(SL_DELIVERY_GUE, of, inf, 0, 0, 0, 0xffffffffu, 1400);
		}
}

static void
test_encap_vxlan(void **state)
{
	int of, inf;

	(void)state;
	for (of = 4; of <= 6; of += 2)
		for (inf = 4; inf <= 6; inf += 2) {
			encap_case(SL_DELIVERY_VXLAN, of, inf, 0, 0, 0x123456, 12345, 100);
			encap_case(SL_DELIVERY_VXLAN, of, inf, 8472, 3, 0, 16384, 0);
			encap_case(SL_DELIVERY_VXLAN, of, inf, 0, 0, 0xffffff, 0x9e3779b9u, 1400);
		}
}

static void
test_encap_random(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 2000; i++)
		encap_case((enum sl_delivery)(rand_r(&seed) % SL_DELIVERY_MAX),
			   rand_r(&seed) % 2 ? 4 : 6, rand_r(&seed) % 2 ? 4 : 6,
			   (uint16_t)(rand_r(&seed) % 2 ? rand_r(&seed) : 0), rnd8(),
			   (uint32_t)rand_r(&seed) & 0xffffff, (uint32_t)rand_r(&seed) * 7u,
			   (uint16_t)(rand_r(&seed) % 1500));
}

/* One prefix, finished again for another packet: every per-packet field is overwritten. */
static void
test_encap_finish_twice(void **state)
{
	struct sl_encap_params ep;
	struct sl_encap e;
	uint8_t out[512], ref[512];
	size_t l1 = 300, l2 = 61;

	(void)state;
	encap_params(&ep, SL_DELIVERY_VXLAN, 6);
	ep.vni = 77;
	assert_int_equal(sl_encap_build(&e, &ep), 0);
	rnd_fill(out, sizeof(out));
	memcpy(out, e.bytes, e.len);
	out[e.len] = 0x45;
	sl_encap_finish(out, &e, (uint16_t)l1, SL_AF_IPV4, 1);
	out[e.len] = 0x60;
	sl_encap_finish(out, &e, (uint16_t)l2, SL_AF_IPV6, 2);
	memcpy(ref, e.bytes, e.len);
	memcpy(ref + e.len, out + e.len, l2);
	sl_encap_finish(ref, &e, (uint16_t)l2, SL_AF_IPV6, 2);
	assert_memory_equal(out, ref, e.len);

	encap_params(&ep, SL_DELIVERY_IPIP, 4);
	assert_int_equal(sl_encap_build(&e, &ep), 0);
	memcpy(out, e.bytes, e.len);
	sl_encap_finish(out, &e, (uint16_t)l1, SL_AF_IPV6, 0);
	assert_int_equal(out[14 + 9], 41);
	sl_encap_finish(out, &e, (uint16_t)l2, SL_AF_IPV4, 0);
	memcpy(ref, e.bytes, e.len);
	sl_encap_finish(ref, &e, (uint16_t)l2, SL_AF_IPV4, 0);
	assert_memory_equal(out, ref, e.len);
	assert_int_equal(out[14 + 9], 4);
	assert_int_equal(get16(out + 14 + 2), 20 + l2);
}

static void
test_encap_build_errors(void **state)
{
	struct sl_encap_params ep;
	struct sl_encap e;

	(void)state;
	/* outer families differ */
	encap_params(&ep, SL_DELIVERY_IPIP, 4);
	ep.outer_src = addr("2001:db8::1");
	assert_int_equal(sl_encap_build(&e, &ep), -EINVAL);
	encap_params(&ep, SL_DELIVERY_GUE, 6);
	ep.outer_src = addr("10.0.0.1");
	assert_int_equal(sl_encap_build(&e, &ep), -EINVAL);
	encap_params(&ep, SL_DELIVERY_VXLAN, 6);
	ep.outer_src = addr("10.0.0.1");
	assert_int_equal(sl_encap_build(&e, &ep), -EINVAL);
	/* VNI out of range; the largest one is fine */
	encap_params(&ep, SL_DELIVERY_VXLAN, 4);
	ep.vni = 1u << 24;
	assert_int_equal(sl_encap_build(&e, &ep), -EINVAL);
	ep.vni = 0xffffffffu;
	assert_int_equal(sl_encap_build(&e, &ep), -EINVAL);
	ep.vni = (1u << 24) - 1;
	assert_int_equal(sl_encap_build(&e, &ep), 0);
	/* unknown delivery */
	encap_params(&ep, SL_DELIVERY_MAX, 4);
	assert_int_equal(sl_encap_build(&e, &ep), -EINVAL);
	encap_params(&ep, (enum sl_delivery)-1, 4);
	assert_int_equal(sl_encap_build(&e, &ep), -EINVAL);
	/* DNAT and L2 ignore the outer addresses */
	encap_params(&ep, SL_DELIVERY_L2, 4);
	ep.outer_src = addr("2001:db8::1");
	assert_int_equal(sl_encap_build(&e, &ep), 0);
	assert_int_equal(e.len, 14);
	assert_int_equal(e.outer_family, SL_AF_NONE);
}

/*
 * sl_encap_copy: every length a prefix can have, to every alignment of the
 * destination, writes exactly the prefix's bytes and nothing before or
 * after them.
 */
static void
test_encap_copy(void **state)
{
	struct sl_encap e;
	uint8_t out[SL_ENCAP_BYTES + 64];

	(void)state;
	for (unsigned int n = 0; n <= SL_ENCAP_BYTES; n++) {
		for (unsigned int off = 0; off < 16; off++) {
			memset(&e, 0, sizeof(e));
			for (unsigned int i = 0; i < SL_ENCAP_BYTES; i++)
				e.bytes[i] = (uint8_t)(i * 7 + n + 1);
			e.len = (uint8_t)n;
			memset(out, 0xa5, sizeof(out));
			sl_encap_copy(out + 16 + off, &e);
			for (unsigned int i = 0; i < 16 + off; i++)
				assert_int_equal(out[i], 0xa5);
			assert_memory_equal(out + 16 + off, e.bytes, n);
			for (unsigned int i = 16 + off + n; i < sizeof(out); i++)
				assert_int_equal(out[i], 0xa5);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_vectors),
		cmocka_unit_test(test_csum_add_random),
		cmocka_unit_test(test_csum_replace_random),
		cmocka_unit_test(test_l4_csum_udp_zero),
		cmocka_unit_test(test_l4_csum_ignores_field),
		cmocka_unit_test(test_dnat_v4_tcp),
		cmocka_unit_test(test_dnat_v4_udp),
		cmocka_unit_test(test_dnat_v4_udp_csum_zero),
		cmocka_unit_test(test_dnat_v6_tcp),
		cmocka_unit_test(test_dnat_v6_udp),
		cmocka_unit_test(test_dnat_udp_result_zero),
		cmocka_unit_test(test_dnat_random),
		cmocka_unit_test(test_nat_first_fragment_not_tcp_udp),
		cmocka_unit_test(test_delivery_names),
		cmocka_unit_test(test_encap_dnat_l2),
		cmocka_unit_test(test_encap_ipip),
		cmocka_unit_test(test_encap_gue),
		cmocka_unit_test(test_encap_vxlan),
		cmocka_unit_test(test_encap_random),
		cmocka_unit_test(test_encap_finish_twice),
		cmocka_unit_test(test_encap_build_errors),
		cmocka_unit_test(test_encap_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
