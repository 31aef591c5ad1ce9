/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_parse.c: unit tests of the packet parser (sl_parse), the drop-reason
 * names and the text forms of addresses (sl_types).
 *
 * Frames are built by hand, byte by byte, by a small builder here; each good
 * frame is parsed field by field, then every prefix of it is parsed again
 * (every one must be refused, none may be read past: the frames live in
 * exactly sized heap buffers so ASan or valgrind catch an over-read), and
 * every drop reason the parser can return is produced by a malformed frame.
 * Each good frame is also parsed as a chain of mbufs whose first segment
 * ends at every byte (sl_parse_seg): refused as segmented until the headers
 * are in it, parsed alike from then on.
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

#include "sl_drop.h"
#include "sl_parse.h"
#include "sl_types.h"

#define MAX_FRAME 2048

static const uint8_t v4_src[4] = {10, 0, 0, 1};
static const uint8_t v4_dst[4] = {192, 0, 2, 10};
static const uint8_t v6_src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x01};
static const uint8_t v6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};

/* What to build. */
struct fspec {
	int vlan;             /* one 802.1Q tag */
	uint16_t vlan_tci;
	int family;           /* 4 or 6 */
	int ip_opt_words;     /* IPv4 options, 4-byte words */
	int n_ext;            /* IPv6 extension headers */
	uint8_t ext[8];       /* their types, in order */
	uint8_t ext_len8[8];  /* their Hdr Ext Len fields (8-octet units beyond the first) */
	uint8_t proto;        /* L4 protocol */
	int tcp_opt_words;
	uint8_t tcp_flags;
	uint16_t payload;     /* L4 payload bytes */
	uint16_t pad;         /* Ethernet padding after the IP packet */
};

/* What the builder put where. */
struct fexpect {
	size_t len;
	uint16_t l3_off, l4_off, l3_len, l4_len;
};

static void
put16(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static size_t
build_frame(uint8_t *buf, const struct fspec *s, struct fexpect *x)
{
	size_t off = 0, l3, l4, l4hdr = 0, i;
	uint8_t nh;

	memset(buf, 0, MAX_FRAME);
	/* Ethernet */
	memcpy(buf, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(buf + 6, "\x02\x00\x00\x00\x00\x02", 6);
	off = 12;
	if (s->vlan) {
		put16(buf + off, SL_ETHERTYPE_VLAN);
		put16(buf + off + 2, s->vlan_tci);
		off += 4;
	}
	put16(buf + off, s->family == 6 ? SL_ETHERTYPE_IPV6 : SL_ETHERTYPE_IPV4);
	off += 2;
	l3 = off;

	if (s->family == 4) {
		size_t ihl = 20 + 4 * (size_t)s->ip_opt_words;

		buf[l3] = (uint8_t)(0x40 | (ihl / 4));
		put16(buf + l3 + 6, 0x4000); /* DF: not a fragment */
		buf[l3 + 8] = 64;
		buf[l3 + 9] = s->proto;
		memcpy(buf + l3 + 12, v4_src, 4);
		memcpy(buf + l3 + 16, v4_dst, 4);
		for (i = 20; i < ihl; i++)
			buf[l3 + i] = 0x01; /* NOP options */
		l4 = l3 + ihl;
	} else {
		buf[l3] = 0x60;
		buf[l3 + 7] = 64;
		memcpy(buf + l3 + 8, v6_src, 16);
		memcpy(buf + l3 + 24, v6_dst, 16);
		l4 = l3 + 40;
		nh = s->n_ext ? s->ext[0] : s->proto;
		buf[l3 + 6] = nh;
		for (i = 0; i < (size_t)s->n_ext; i++) {
			uint8_t next = i + 1 < (size_t)s->n_ext ? s->ext[i + 1] : s->proto;

			buf[l4] = next;
			buf[l4 + 1] = s->ext_len8[i];
			/* PadN option filling the rest of the header */
			buf[l4 + 2] = 1;
			buf[l4 + 3] = (uint8_t)(s->ext_len8[i] * 8 + 8 - 4);
			l4 += 8 + 8 * (size_t)s->ext_len8[i];
		}
	}

	if (s->proto == SL_PROTO_TCP) {
		l4hdr = 20 + 4 * (size_t)s->tcp_opt_words;
		put16(buf + l4, 40000);
		put16(buf + l4 + 2, 80);
		put16(buf + l4 + 4, 0x1234);
		buf[l4 + 12] = (uint8_t)((l4hdr / 4) << 4);
		buf[l4 + 13] = s->tcp_flags;
		put16(buf + l4 + 14, 65535);
		for (i = 20; i < l4hdr; i++)
			buf[l4 + i] = 0x01;
	} else if (s->proto == SL_PROTO_UDP) {
		l4hdr = 8;
		put16(buf + l4, 40000);
		put16(buf + l4 + 2, 53);
		put16(buf + l4 + 4, (uint32_t)(8 + s->payload));
	}
	for (i = 0; i < s->payload; i++)
		buf[l4 + l4hdr + i] = (uint8_t)(0xa0 + i);

	x->l3_off = (uint16_t)l3;
	x->l4_off = (uint16_t)l4;
	x->l4_len = (uint16_t)(l4hdr + s->payload);
	x->l3_len = (uint16_t)(l4 - l3 + x->l4_len);
	if (s->family == 4)
		put16(buf + l3 + 2, x->l3_len);
	else
		put16(buf + l3 + 4, (uint32_t)(x->l3_len - 40));
	x->len = l3 + x->l3_len + s->pad;
	return x->len;
}

/* Parse len bytes of buf from an exactly sized heap copy (over-reads show under ASan). */
static enum sl_drop_reason
parse_exact(const uint8_t *buf, size_t len, struct sl_pkt *p)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum sl_drop_reason r;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	r = sl_parse(copy, (uint32_t)len, p);
	free(copy);
	return r;
}

/* Every prefix short of the IP packet's end must be refused. */
static void
check_prefixes(const uint8_t *buf, const struct fexpect *x)
{
	size_t n, end = (size_t)x->l3_off + x->l3_len;
	struct sl_pkt p;

	for (n = 0; n < end; n++) {
		enum sl_drop_reason r = parse_exact(buf, n, &p);

		if (r == SL_DROP_NONE)
			fail_msg("prefix of %zu of %zu bytes was accepted", n, end);
	}
}

/*
 * The frame as a chain whose first segment holds its first seg bytes, for
 * every seg: accepted alike once the headers (up to hdr_end) are in the
 * first segment, SL_DROP_SEGMENTED before; never read past seg.
 */
static void
check_segments(const uint8_t *buf, const struct fexpect *x, size_t hdr_end,
	       const struct sl_pkt *whole)
{
	for (size_t seg = 0; seg <= x->len; seg++) {
		uint8_t *first = malloc(seg ? seg : 1);
		struct sl_pkt p;
		enum sl_drop_reason r;

		assert_non_null(first);
		memcpy(first, buf, seg);
		memset(&p, 0xee, sizeof(p));
		r = sl_parse_seg(first, (uint32_t)seg, (uint32_t)x->len, &p);
		free(first);
		if (seg < hdr_end && r != SL_DROP_SEGMENTED)
			fail_msg("first segment of %zu bytes (headers end at %zu): %s", seg,
				 hdr_end, sl_drop_reason_name(r));
		if (seg >= hdr_end) {
			assert_int_equal(r, SL_DROP_NONE);
			assert_memory_equal(&p, whole, sizeof(p));
		}
	}
}

static void
check_v4_addrs(const struct sl_pkt *p)
{
	struct sl_ip_addr a;
	uint32_t v;

	memcpy(&v, v4_src, 4);
	sl_ip_addr_from_v4(&a, v);
	assert_memory_equal(p->src.bytes, a.bytes, 16);
	memcpy(&v, v4_dst, 4);
	sl_ip_addr_from_v4(&a, v);
	assert_memory_equal(p->dst.bytes, a.bytes, 16);
	assert_true(sl_ip_addr_is_v4(&p->src));
	assert_true(sl_ip_addr_is_v4(&p->dst));
}

static void
check_v6_addrs(const struct sl_pkt *p)
{
	assert_memory_equal(p->src.bytes, v6_src, 16);
	assert_memory_equal(p->dst.bytes, v6_dst, 16);
	assert_false(sl_ip_addr_is_v4(&p->dst));
}

/* Build, parse, compare the common fields, run the prefix loop. */
static void
good_frame(const struct fspec *s, struct sl_pkt *p, uint8_t *buf, struct fexpect *x)
{
	build_frame(buf, s, x);
	memset(p, 0xee, sizeof(*p));
	assert_int_equal(parse_exact(buf, x->len, p), SL_DROP_NONE);
	assert_int_equal(p->family, s->family == 4 ? SL_AF_IPV4 : SL_AF_IPV6);
	assert_int_equal(p->l4_proto, s->proto);
	assert_int_equal(p->l3_off, x->l3_off);
	assert_int_equal(p->l4_off, x->l4_off);
	assert_int_equal(p->l3_len, x->l3_len);
	assert_int_equal(p->l4_len, x->l4_len);
	assert_int_equal(p->l4_len, p->l3_off + p->l3_len - p->l4_off);
	assert_int_equal(p->has_vlan, s->vlan ? 1 : 0);
	if (s->vlan)
		assert_int_equal(p->vlan_tci, s->vlan_tci);
	assert_int_equal(ntohs(p->sport_be), 40000);
	assert_int_equal(ntohs(p->dport_be), s->proto == SL_PROTO_TCP ? 80 : 53);
	assert_int_equal(p->tcp_flags, s->proto == SL_PROTO_TCP ? s->tcp_flags : 0);
	if (s->family == 4)
		check_v4_addrs(p);
	else
		check_v6_addrs(p);
	check_prefixes(buf, x);
	check_segments(buf, x, (size_t)x->l4_off + (s->proto == SL_PROTO_TCP
						     ? 20u + 4u * (uint32_t)s->tcp_opt_words : 8u), p);
}

/*
 * A jumbo frame (a 9000-byte IPv4 packet) as the worker sees it in mbufs of
 * 2048 bytes: the headers in the first segment, the lengths checked against
 * the whole chain. Parsed as if the first segment were the whole frame, it
 * would be refused as longer than the frame.
 */
static void
test_jumbo_chain(void **state)
{
	struct fspec s = {.family = 4, .proto = SL_PROTO_TCP, .tcp_flags = SL_TCP_ACK,
			  .payload = 9000 - 40};
	uint8_t *buf = calloc(1, 9100);
	struct fexpect x;
	struct sl_pkt whole, p;

	(void)state;
	assert_non_null(buf);
	build_frame(buf, &s, &x);
	assert_int_equal(x.len, 9014);
	memset(&whole, 0xee, sizeof(whole));
	assert_int_equal(parse_exact(buf, x.len, &whole), SL_DROP_NONE);
	assert_int_equal(whole.l3_len, 9000);
	memset(&p, 0xee, sizeof(p));
	assert_int_equal(sl_parse_seg(buf, 2048, (uint32_t)x.len, &p), SL_DROP_NONE);
	assert_memory_equal(&p, &whole, sizeof(p));
	assert_int_equal(parse_exact(buf, 2048, &p), SL_DROP_IPV4_BAD_LENGTH);
	/* the same packet in a chain that is too short is still refused for its length */
	assert_int_equal(sl_parse_seg(buf, 2048, 8000, &p), SL_DROP_IPV4_BAD_LENGTH);
	free(buf);
}

/* ---- good frames ---- */

static void
test_ipv4_tcp(void **state)
{
	struct fspec s = {.family = 4, .proto = SL_PROTO_TCP, .tcp_flags = SL_TCP_SYN | SL_TCP_ACK,
			  .payload = 100};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	struct sl_pkt p;

	(void)state;
	good_frame(&s, &p, buf, &x);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l4_off, 34);
	assert_int_equal(p.l3_len, 20 + 20 + 100);
	assert_int_equal(p.l4_len, 120);
	assert_int_equal(p.tcp_flags, 0x12);
	assert_int_equal(x.len, 154);
}

static void
test_ipv4_tcp_options(void **state)
{
	/* TCP options too: the data offset is honoured, not assumed 5 */
	struct fspec s = {.family = 4, .proto = SL_PROTO_TCP, .tcp_flags = SL_TCP_FIN | SL_TCP_ACK,
			  .tcp_opt_words = 3, .payload = 0};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	struct sl_pkt p;

	(void)state;
	good_frame(&s, &p, buf, &x);
	assert_int_equal(p.l4_len, 32);
	assert_int_equal(p.tcp_flags, SL_TCP_FIN | SL_TCP_ACK);
}

static void
test_ipv4_udp(void **state)
{
	struct fspec s = {.family = 4, .proto = SL_PROTO_UDP, .payload = 33};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	struct sl_pkt p;

	(void)state;
	good_frame(&s, &p, buf, &x);
	assert_int_equal(p.l4_off, 34);
	assert_int_equal(p.l3_len, 20 + 8 + 33);
	assert_int_equal(p.l4_len, 41);
	assert_int_equal(p.tcp_flags, 0);
}

static void
test_ipv4_options(void **state)
{
	struct fspec s = {.family = 4, .proto = SL_PROTO_TCP, .ip_opt_words = 3,
			  .tcp_flags = SL_TCP_SYN, .payload = 10};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	struct sl_pkt p;

	(void)state;
	good_frame(&s, &p, buf, &x);
	assert_int_equal(p.l4_off, 14 + 32);
	assert_int_equal(p.l3_len, 32 + 20 + 10);
	assert_int_equal(p.l4_len, 30);

	/* the largest IHL, 15 words */
	s.ip_opt_words = 10;
	s.proto = SL_PROTO_UDP;
	good_frame(&s, &p, buf, &x);
	assert_int_equal(p.l4_off, 14 + 60);
	assert_int_equal(p.l4_len, 18);
}

static void
test_ipv4_vlan(void **state)
{
	struct fspec s = {.vlan = 1, .vlan_tci = 0x2064, .family = 4, .proto = SL_PROTO_UDP,
			  .payload = 12};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	struct sl_pkt p;

	(void)state;
	good_frame(&s, &p, buf, &x);
	assert_int_equal(p.has_vlan, 1);
	assert_int_equal(p.vlan_tci, 0x2064);
	assert_int_equal(p.l3_off, 18);
	assert_int_equal(p.l4_off, 38);

	/* VLAN + IPv6 + TCP */
	s.family = 6;
	s.proto = SL_PROTO_TCP;
	s.vlan_tci = 0xefff;
	good_frame(&s, &p, buf, &x);
	assert_int_equal(p.vlan_tci, 0xefff);
	assert_int_equal(p.l3_off, 18);
	assert_int_equal(p.l4_off, 58);
}

static void
test_ipv4_padding(void **state)
{
	/* a minimum-size frame: 14 + 20 + 8 + 4 = 46 bytes, padded to 60 */
	struct fspec s = {.family = 4, .proto = SL_PROTO_UDP, .payload = 4, .pad = 14};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	struct sl_pkt p;

	(void)state;
	good_frame(&s, &p, buf, &x);
	assert_int_equal(x.len, 60);
	assert_int_equal(p.l3_len, 32);
	assert_int_equal(p.l4_len, 12);

	/* the same with TCP and IPv6 */
	s.proto = SL_PROTO_TCP;
	s.family = 6;
	s.payload = 0;
	good_frame(&s, &p, buf, &x);
	assert_int_equal(p.l3_len, 60);
	assert_int_equal(p.l4_len, 20);
}

static void
test_udp_length_shorter_than_ip(void **state)
{
	/* UDP length below the IP payload (trailing bytes inside IP) is accepted */
	struct fspec s = {.family = 4, .proto = SL_PROTO_UDP, .payload = 20};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	struct sl_pkt p;

	(void)state;
	build_frame(buf, &s, &x);
	put16(buf + x.l4_off + 4, 8);
	assert_int_equal(parse_exact(buf, x.len, &p), SL_DROP_NONE);
	assert_int_equal(p.l4_len, 28);
	put16(buf + x.l4_off + 4, 28);
	assert_int_equal(parse_exact(buf, x.len, &p), SL_DROP_NONE);
}

static void
test_ipv6_tcp(void **state)
{
	struct fspec s = {.family = 6, .proto = SL_PROTO_TCP, .tcp_flags = SL_TCP_RST,
			  .payload = 200};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	struct sl_pkt p;

	(void)state;
	good_frame(&s, &p, buf, &x);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l4_off, 54);
	assert_int_equal(p.l3_len, 40 + 20 + 200);
	assert_int_equal(p.l4_len, 220);
	assert_int_equal(p.tcp_flags, SL_TCP_RST);
}

static void
test_ipv6_udp(void **state)
{
	struct fspec s = {.family = 6, .proto = SL_PROTO_UDP, .payload = 1};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	struct sl_pkt p;

	(void)state;
	good_frame(&s, &p, buf, &x);
	assert_int_equal(p.l4_off, 54);
	assert_int_equal(p.l3_len, 49);
	assert_int_equal(p.l4_len, 9);
}

static void
test_ipv6_ext_headers(void **state)
{
	/* hop-by-hop (8 bytes) + destination options (24 bytes) */
	struct fspec s = {.family = 6, .proto = SL_PROTO_TCP, .tcp_flags = SL_TCP_SYN,
			  .payload = 7, .n_ext = 2, .ext = {0, 60}, .ext_len8 = {0, 2}};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	struct sl_pkt p;

	(void)state;
	good_frame(&s, &p, buf, &x);
	assert_int_equal(p.l4_off, 14 + 40 + 8 + 24);
	assert_int_equal(p.l3_len, 40 + 32 + 20 + 7);
	assert_int_equal(p.l4_len, 27);

	/* the most allowed: hop-by-hop, destination options, routing, destination options */
	s.proto = SL_PROTO_UDP;
	s.n_ext = SL_PARSE_MAX_EXT_HEADERS;
	memcpy(s.ext, (uint8_t[]){0, 60, 43, 60}, 4);
	memcpy(s.ext_len8, (uint8_t[]){1, 0, 3, 0}, 4);
	good_frame(&s, &p, buf, &x);
	assert_int_equal(p.l4_off, 14 + 40 + 16 + 8 + 32 + 8);
	assert_int_equal(p.l4_len, 15);

	/* with a VLAN tag and a routing header alone */
	s.vlan = 1;
	s.vlan_tci = 7;
	s.n_ext = 1;
	s.ext[0] = 43;
	s.ext_len8[0] = 0;
	good_frame(&s, &p, buf, &x);
	assert_int_equal(p.l4_off, 18 + 40 + 8);
}

/* ---- malformed frames: one per drop reason, and then some ---- */

static void
expect_drop(const uint8_t *buf, size_t len, enum sl_drop_reason want)
{
	struct sl_pkt p;
	enum sl_drop_reason r = parse_exact(buf, len, &p);

	if (r != want)
		fail_msg("got %s, want %s", sl_drop_reason_name(r), sl_drop_reason_name(want));
}

static void
test_drop_l2(void **state)
{
	struct fspec s = {.family = 4, .proto = SL_PROTO_TCP, .payload = 0};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;

	(void)state;
	build_frame(buf, &s, &x);
	expect_drop(buf, 0, SL_DROP_L2_TRUNCATED);
	expect_drop(buf, 13, SL_DROP_L2_TRUNCATED);

	/* VLAN tag cut short */
	s.vlan = 1;
	build_frame(buf, &s, &x);
	expect_drop(buf, 17, SL_DROP_L2_TRUNCATED);

	/* two 802.1Q tags */
	put16(buf + 16, SL_ETHERTYPE_VLAN);
	expect_drop(buf, x.len, SL_DROP_VLAN_STACKED);
	/* 802.1Q then 802.1ad */
	put16(buf + 16, SL_ETHERTYPE_QINQ);
	expect_drop(buf, x.len, SL_DROP_VLAN_STACKED);
	/* 802.1ad outer tag */
	put16(buf + 12, SL_ETHERTYPE_QINQ);
	put16(buf + 16, SL_ETHERTYPE_VLAN);
	expect_drop(buf, x.len, SL_DROP_VLAN_STACKED);

	/* ARP, LLDP, and ARP inside a VLAN */
	s.vlan = 0;
	build_frame(buf, &s, &x);
	put16(buf + 12, 0x0806);
	expect_drop(buf, x.len, SL_DROP_NOT_IP);
	put16(buf + 12, 0x88cc);
	expect_drop(buf, 14, SL_DROP_NOT_IP);
	s.vlan = 1;
	build_frame(buf, &s, &x);
	put16(buf + 16, 0x0806);
	expect_drop(buf, x.len, SL_DROP_NOT_IP);
}

static void
test_drop_ipv4(void **state)
{
	struct fspec s = {.family = 4, .proto = SL_PROTO_TCP, .payload = 10};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	uint8_t *ip = buf + 14;

	(void)state;
	build_frame(buf, &s, &x);
	expect_drop(buf, 14, SL_DROP_IPV4_TRUNCATED);
	expect_drop(buf, 33, SL_DROP_IPV4_TRUNCATED);

	ip[0] = 0x65;
	expect_drop(buf, x.len, SL_DROP_IPV4_BAD_VERSION);
	ip[0] = 0x45;

	ip[0] = 0x44; /* IHL 4 */
	expect_drop(buf, x.len, SL_DROP_IPV4_BAD_IHL);
	ip[0] = 0x40; /* IHL 0 */
	expect_drop(buf, x.len, SL_DROP_IPV4_BAD_IHL);
	ip[0] = 0x4f; /* IHL 15: 60 bytes, beyond a 40-byte packet */
	expect_drop(buf, 14 + 40, SL_DROP_IPV4_BAD_IHL);
	ip[0] = 0x45;

	put16(ip + 2, 19); /* total length below the header */
	expect_drop(buf, x.len, SL_DROP_IPV4_BAD_LENGTH);
	put16(ip + 2, (uint32_t)(x.l3_len + 1)); /* beyond the frame */
	expect_drop(buf, x.len, SL_DROP_IPV4_BAD_LENGTH);
	put16(ip + 2, 0xffff);
	expect_drop(buf, x.len, SL_DROP_IPV4_BAD_LENGTH);
	ip[0] = 0x47; /* total length between 20 and IHL*4 */
	put16(ip + 2, 24);
	expect_drop(buf, x.len, SL_DROP_IPV4_BAD_LENGTH);
	ip[0] = 0x45;
	put16(ip + 2, x.l3_len);

	put16(ip + 6, 0x2000); /* MF */
	expect_drop(buf, x.len, SL_DROP_IPV4_FRAGMENT);
	{
		/* a first fragment: addresses, protocol, ports and identification for the slow path */
		struct sl_pkt fp;
		put16(ip + 4, 0xbeef);
		assert_int_equal(sl_parse(buf, x.len, &fp), SL_DROP_IPV4_FRAGMENT);
		assert_int_equal(fp.frag, SL_FRAG_FIRST);
		assert_int_equal(fp.frag_id, 0xbeef);
		assert_int_equal(fp.l4_proto, s.proto);
		assert_int_equal(fp.family, SL_AF_IPV4);
		assert_memory_equal(&fp.dst.bytes[12], ip + 16, 4);
		assert_memory_equal(&fp.dport_be, ip + 20 + 2, 2);
		assert_int_equal(fp.l3_len, x.l3_len);
		put16(ip + 6, 0x0003); /* a later one: no ports */
		assert_int_equal(sl_parse(buf, x.len, &fp), SL_DROP_IPV4_FRAGMENT);
		assert_int_equal(fp.frag, SL_FRAG_LATER);
		assert_int_equal(fp.dport_be, 0);
		assert_int_equal(fp.l4_off, 14 + 20);
	}
	put16(ip + 6, 0x0001); /* offset 8 */
	expect_drop(buf, x.len, SL_DROP_IPV4_FRAGMENT);
	put16(ip + 6, 0x5fff); /* DF + offset */
	expect_drop(buf, x.len, SL_DROP_IPV4_FRAGMENT);
	put16(ip + 6, 0x4000); /* DF alone is fine */
	expect_drop(buf, x.len, SL_DROP_NONE);
	put16(ip + 6, 0x0000);
	expect_drop(buf, x.len, SL_DROP_NONE);

	ip[9] = 1; /* ICMP */
	expect_drop(buf, x.len, SL_DROP_L4_UNSUPPORTED);
	ip[9] = 47; /* GRE */
	expect_drop(buf, x.len, SL_DROP_L4_UNSUPPORTED);
	ip[9] = 132; /* SCTP */
	expect_drop(buf, x.len, SL_DROP_L4_UNSUPPORTED);
}

static void
test_drop_ipv6(void **state)
{
	struct fspec s = {.family = 6, .proto = SL_PROTO_UDP, .payload = 10};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	uint8_t *ip = buf + 14;

	(void)state;
	build_frame(buf, &s, &x);
	expect_drop(buf, 14, SL_DROP_IPV6_TRUNCATED);
	expect_drop(buf, 53, SL_DROP_IPV6_TRUNCATED);

	ip[0] = 0x40;
	expect_drop(buf, x.len, SL_DROP_IPV6_BAD_VERSION);
	ip[0] = 0x60;

	put16(ip + 4, (uint32_t)(x.l3_len - 40 + 1));
	expect_drop(buf, x.len, SL_DROP_IPV6_BAD_LENGTH);
	put16(ip + 4, 0xffff);
	expect_drop(buf, x.len, SL_DROP_IPV6_BAD_LENGTH);
	put16(ip + 4, (uint32_t)(x.l3_len - 40));
	expect_drop(buf, x.len, SL_DROP_NONE);

	ip[6] = 58; /* ICMPv6 */
	expect_drop(buf, x.len, SL_DROP_L4_UNSUPPORTED);
	ip[6] = 59; /* no next header */
	expect_drop(buf, x.len, SL_DROP_L4_UNSUPPORTED);
	ip[6] = 50; /* ESP */
	expect_drop(buf, x.len, SL_DROP_L4_UNSUPPORTED);

	/* a fragment header as the first next header: a fragment, for the slow path */
	ip[6] = 44;
	expect_drop(buf, x.len, SL_DROP_IPV6_FRAGMENT);
}

/* IPv4-mapped source or destination: refused, never taken for IPv4. */
static void
test_drop_ipv6_mapped(void **state)
{
	static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
	struct fspec s = {.family = 6, .proto = SL_PROTO_TCP, .payload = 4};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	uint8_t *ip = buf + 14;
	uint8_t saved[16];

	(void)state;
	build_frame(buf, &s, &x);
	expect_drop(buf, x.len, SL_DROP_NONE);
	memcpy(saved, ip + 24, 16);
	memcpy(ip + 24, mapped, 16);
	expect_drop(buf, x.len, SL_DROP_IPV6_MAPPED_ADDRESS);
	memcpy(ip + 24, saved, 16);
	memcpy(ip + 8, mapped, 16);
	expect_drop(buf, x.len, SL_DROP_IPV6_MAPPED_ADDRESS);
	/* ::fffe:... is an ordinary IPv6 address */
	ip[8 + 11] = 0xfe;
	expect_drop(buf, x.len, SL_DROP_NONE);
}

static void
test_drop_ipv6_ext(void **state)
{
	struct fspec s = {.family = 6, .proto = SL_PROTO_TCP, .payload = 4, .n_ext = 2,
			  .ext = {0, 60}, .ext_len8 = {0, 1}};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	uint8_t *ip = buf + 14;

	(void)state;
	build_frame(buf, &s, &x);
	expect_drop(buf, x.len, SL_DROP_NONE);

	/* a fragment header after the destination options: a fragment, for the slow path */
	ip[40 + 8] = 44;
	expect_drop(buf, x.len, SL_DROP_IPV6_FRAGMENT);
	ip[40 + 8] = SL_PROTO_TCP;

	/* destination options length beyond the payload */
	ip[40 + 8 + 1] = 200;
	expect_drop(buf, x.len, SL_DROP_IPV6_BAD_EXT_HEADER);
	ip[40 + 8 + 1] = 1;

	/* payload length cut inside the second extension header: the frame holds it, the packet does not */
	put16(ip + 4, 8 + 4);
	expect_drop(buf, x.len, SL_DROP_IPV6_BAD_EXT_HEADER);
	put16(ip + 4, 8 + 16);
	expect_drop(buf, x.len, SL_DROP_L4_TRUNCATED); /* headers fit, TCP does not */
	put16(ip + 4, 0); /* payload length 0 with an extension header announced */
	expect_drop(buf, x.len, SL_DROP_IPV6_BAD_EXT_HEADER);
	put16(ip + 4, (uint32_t)(x.l3_len - 40));

	/* hop-by-hop anywhere but first */
	ip[6] = 60;
	ip[40] = 0;
	expect_drop(buf, x.len, SL_DROP_IPV6_BAD_EXT_HEADER);

	/* one more than the walk allows */
	s.n_ext = SL_PARSE_MAX_EXT_HEADERS + 1;
	memcpy(s.ext, (uint8_t[]){0, 60, 43, 43, 60}, 5);
	memset(s.ext_len8, 0, sizeof(s.ext_len8));
	build_frame(buf, &s, &x);
	expect_drop(buf, x.len, SL_DROP_IPV6_BAD_EXT_HEADER);
	/* and exactly the limit passes */
	s.n_ext = SL_PARSE_MAX_EXT_HEADERS;
	build_frame(buf, &s, &x);
	expect_drop(buf, x.len, SL_DROP_NONE);
	/* the limit followed by a fragment header */
	s.n_ext = SL_PARSE_MAX_EXT_HEADERS;
	s.proto = 44;
	build_frame(buf, &s, &x);
	expect_drop(buf, x.len, SL_DROP_IPV6_BAD_EXT_HEADER);
	/* ext headers then ICMPv6 */
	s.n_ext = 1;
	s.proto = 58;
	s.payload = 8;
	build_frame(buf, &s, &x);
	expect_drop(buf, x.len, SL_DROP_L4_UNSUPPORTED);
}

static void
test_drop_tcp(void **state)
{
	struct fspec s = {.family = 4, .proto = SL_PROTO_TCP, .payload = 8};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	uint8_t *ip = buf + 14, *tcp = buf + 34;

	(void)state;
	build_frame(buf, &s, &x);
	/* IP total length leaves 19 bytes for TCP; the frame has more */
	put16(ip + 2, 20 + 19);
	expect_drop(buf, x.len, SL_DROP_L4_TRUNCATED);
	put16(ip + 2, 20);
	expect_drop(buf, x.len, SL_DROP_L4_TRUNCATED);
	put16(ip + 2, x.l3_len);

	tcp[12] = 0x40; /* data offset 4 */
	expect_drop(buf, x.len, SL_DROP_TCP_BAD_OFFSET);
	tcp[12] = 0x00;
	expect_drop(buf, x.len, SL_DROP_TCP_BAD_OFFSET);
	tcp[12] = 0x80; /* 32 bytes, beyond the 28-byte segment */
	expect_drop(buf, x.len, SL_DROP_TCP_BAD_OFFSET);
	tcp[12] = 0x70; /* exactly 28 */
	expect_drop(buf, x.len, SL_DROP_NONE);
	tcp[12] = 0xf0;
	expect_drop(buf, x.len, SL_DROP_TCP_BAD_OFFSET);

	/* IPv6 flavour */
	s.family = 6;
	build_frame(buf, &s, &x);
	put16(buf + 14 + 4, 19);
	expect_drop(buf, x.len, SL_DROP_L4_TRUNCATED);
	put16(buf + 14 + 4, (uint32_t)(x.l3_len - 40));
	buf[54 + 12] = 0x10;
	expect_drop(buf, x.len, SL_DROP_TCP_BAD_OFFSET);
}

static void
test_drop_udp(void **state)
{
	struct fspec s = {.family = 4, .proto = SL_PROTO_UDP, .payload = 8};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	uint8_t *ip = buf + 14, *udp = buf + 34;

	(void)state;
	build_frame(buf, &s, &x);
	put16(ip + 2, 20 + 7);
	expect_drop(buf, x.len, SL_DROP_L4_TRUNCATED);
	put16(ip + 2, x.l3_len);

	put16(udp + 4, 7);
	expect_drop(buf, x.len, SL_DROP_UDP_BAD_LENGTH);
	put16(udp + 4, 0);
	expect_drop(buf, x.len, SL_DROP_UDP_BAD_LENGTH);
	put16(udp + 4, 17); /* beyond the 16-byte IP payload */
	expect_drop(buf, x.len, SL_DROP_UDP_BAD_LENGTH);
	put16(udp + 4, 16);
	expect_drop(buf, x.len, SL_DROP_NONE);

	s.family = 6;
	build_frame(buf, &s, &x);
	put16(buf + 54 + 4, 0xffff);
	expect_drop(buf, x.len, SL_DROP_UDP_BAD_LENGTH);
	put16(buf + 14 + 4, 7);
	expect_drop(buf, x.len, SL_DROP_L4_TRUNCATED);
}

/* Random frames and random mutations of good ones: never a crash, and consistent results. */
static void
test_random_mutations(void **state)
{
	static const struct fspec specs[] = {
		{.family = 4, .proto = SL_PROTO_TCP, .payload = 20},
		{.family = 4, .proto = SL_PROTO_UDP, .ip_opt_words = 2, .payload = 5},
		{.vlan = 1, .family = 6, .proto = SL_PROTO_UDP, .payload = 3, .n_ext = 2,
		 .ext = {0, 43}, .ext_len8 = {0, 1}},
		{.family = 6, .proto = SL_PROTO_TCP, .payload = 0, .n_ext = 1, .ext = {60}},
	};
	uint8_t buf[MAX_FRAME];
	struct fexpect x;
	struct sl_pkt p;
	unsigned int seed = 12345, i, k;
	size_t accepted = 0;

	(void)state;
	for (i = 0; i < 40000; i++) {
		const struct fspec *s = &specs[i % 4];
		size_t len;

		build_frame(buf, s, &x);
		len = x.len;
		for (k = 0; k < 1 + (unsigned int)rand_r(&seed) % 4; k++) {
			size_t pos = (size_t)rand_r(&seed) % (len < 80 ? len : 80);

			buf[pos] = (uint8_t)rand_r(&seed);
		}
		if (rand_r(&seed) % 4 == 0)
			len = (size_t)rand_r(&seed) % (len + 1);
		if (parse_exact(buf, len, &p) == SL_DROP_NONE) {
			accepted++;
			assert_true(p.l3_off == 14 || p.l3_off == 18);
			assert_true(p.l4_off > p.l3_off);
			assert_true((size_t)p.l3_off + p.l3_len <= len);
			assert_int_equal(p.l4_len, p.l3_off + p.l3_len - p.l4_off);
			assert_true(p.l4_len >= (p.l4_proto == SL_PROTO_TCP ? 20 : 8));
			assert_true(p.l4_proto == SL_PROTO_TCP || p.l4_proto == SL_PROTO_UDP);
			assert_true(p.family == SL_AF_IPV4 || p.family == SL_AF_IPV6);
		}
	}
	/* most single-byte mutations hit payload or don't-care fields */
	assert_true(accepted > 1000);

	for (i = 0; i < 20000; i++) {
		size_t len = (size_t)rand_r(&seed) % 128;

		for (k = 0; k < len; k++)
			buf[k] = (uint8_t)rand_r(&seed);
		if (i & 1)
			put16(buf + 12, (i & 2) ? SL_ETHERTYPE_IPV4 : SL_ETHERTYPE_IPV6);
		(void)parse_exact(buf, len, &p);
	}
}

/* ---- drop names ---- */

static void
test_drop_names(void **state)
{
	int i, j;

	(void)state;
	assert_string_equal(sl_drop_reason_name(SL_DROP_IPV4_BAD_IHL), "ipv4_bad_ihl");
	assert_string_equal(sl_drop_reason_name(SL_DROP_NO_FRONTEND), "no_frontend");
	assert_string_equal(sl_drop_reason_name(SL_DROP_NONE), "none");
	assert_string_equal(sl_drop_reason_name(SL_DROP_MAX), "unknown");
	assert_string_equal(sl_drop_reason_name((enum sl_drop_reason)-1), "unknown");
	for (i = 0; i < SL_DROP_MAX; i++) {
		const char *n = sl_drop_reason_name((enum sl_drop_reason)i);
		const char *c;

		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
		for (c = n; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
		for (j = 0; j < i; j++)
			assert_string_not_equal(n, sl_drop_reason_name((enum sl_drop_reason)j));
	}
}

/* ---- sl_types text forms ---- */

static void
test_ip_addr_text(void **state)
{
	struct sl_ip_addr a;
	enum sl_ip_family fam;
	char buf[64];

	(void)state;
	assert_int_equal(sl_ip_addr_parse("192.0.2.10", &a, &fam), 0);
	assert_int_equal(fam, SL_AF_IPV4);
	assert_true(sl_ip_addr_is_v4(&a));
	assert_memory_equal(&a.bytes[12], v4_dst, 4);
	assert_string_equal(sl_ip_addr_format(&a, buf, sizeof(buf)), "192.0.2.10");

	assert_int_equal(sl_ip_addr_parse("2001:db8::10", &a, &fam), 0);
	assert_int_equal(fam, SL_AF_IPV6);
	assert_memory_equal(a.bytes, v6_dst, 16);
	assert_string_equal(sl_ip_addr_format(&a, buf, sizeof(buf)), "2001:db8::10");

	assert_int_equal(sl_ip_addr_parse("::ffff:10.0.0.1", &a, &fam), 0);
	assert_int_equal(fam, SL_AF_IPV4);
	assert_string_equal(sl_ip_addr_format(&a, buf, sizeof(buf)), "10.0.0.1");

	assert_int_equal(sl_ip_addr_parse("::", &a, NULL), 0);
	assert_string_equal(sl_ip_addr_format(&a, buf, sizeof(buf)), "::");

	assert_int_equal(sl_ip_addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &a, NULL), 0);
	assert_int_equal(strlen(sl_ip_addr_format(&a, buf, 46)), 39);

	assert_int_equal(sl_ip_addr_parse("256.0.0.1", &a, NULL), -EINVAL);
	assert_int_equal(sl_ip_addr_parse("10.0.0", &a, NULL), -EINVAL);
	assert_int_equal(sl_ip_addr_parse("", &a, NULL), -EINVAL);
	assert_int_equal(sl_ip_addr_parse("10.0.0.1 ", &a, NULL), -EINVAL);
	assert_int_equal(sl_ip_addr_parse("2001:db8:::1", &a, NULL), -EINVAL);
	assert_int_equal(sl_ip_addr_parse("example.com", &a, NULL), -EINVAL);
	assert_int_equal(sl_ip_addr_parse(NULL, &a, NULL), -EINVAL);

	/* too small a buffer fails rather than truncates */
	assert_int_equal(sl_ip_addr_parse("192.0.2.10", &a, NULL), 0);
	assert_null(sl_ip_addr_format(&a, buf, 4));
}

static void
test_mac_text(void **state)
{
	struct sl_mac m;
	char buf[32];

	(void)state;
	assert_int_equal(sl_mac_parse("02:00:5e:10:Ab:fF", &m), 0);
	assert_memory_equal(m.bytes, "\x02\x00\x5e\x10\xab\xff", 6);
	assert_string_equal(sl_mac_format(&m, buf, sizeof(buf)), "02:00:5e:10:ab:ff");
	assert_int_equal(sl_mac_parse("02-00-5e-10-ab-ff", &m), 0);
	assert_memory_equal(m.bytes, "\x02\x00\x5e\x10\xab\xff", 6);
	assert_non_null(sl_mac_format(&m, buf, 18));
	assert_null(sl_mac_format(&m, buf, 17));

	assert_int_equal(sl_mac_parse("02:00:5e:10:ab", &m), -EINVAL);
	assert_int_equal(sl_mac_parse("02:00:5e:10:ab:ff:00", &m), -EINVAL);
	assert_int_equal(sl_mac_parse("02:00-5e:10:ab:ff", &m), -EINVAL);
	assert_int_equal(sl_mac_parse("2:00:5e:10:ab:ff", &m), -EINVAL);
	assert_int_equal(sl_mac_parse("02:00:5e:10:ab:fg", &m), -EINVAL);
	assert_int_equal(sl_mac_parse("0200.5e10.abff", &m), -EINVAL);
	assert_int_equal(sl_mac_parse("", &m), -EINVAL);
	assert_int_equal(sl_mac_parse("0", &m), -EINVAL);
	assert_int_equal(sl_mac_parse(NULL, &m), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_tcp),
		cmocka_unit_test(test_ipv4_tcp_options),
		cmocka_unit_test(test_ipv4_udp),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv4_vlan),
		cmocka_unit_test(test_ipv4_padding),
		cmocka_unit_test(test_udp_length_shorter_than_ip),
		cmocka_unit_test(test_ipv6_tcp),
		cmocka_unit_test(test_ipv6_udp),
		cmocka_unit_test(test_ipv6_ext_headers),
		cmocka_unit_test(test_jumbo_chain),
		cmocka_unit_test(test_drop_l2),
		cmocka_unit_test(test_drop_ipv4),
		cmocka_unit_test(test_drop_ipv6),
		cmocka_unit_test(test_drop_ipv6_ext),
		cmocka_unit_test(test_drop_ipv6_mapped),
		cmocka_unit_test(test_drop_tcp),
		cmocka_unit_test(test_drop_udp),
		cmocka_unit_test(test_random_mutations),
		cmocka_unit_test(test_drop_names),
		cmocka_unit_test(test_ip_addr_text),
		cmocka_unit_test(test_mac_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
