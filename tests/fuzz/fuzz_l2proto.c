/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_l2proto.c: libFuzzer target for the exception-path protocols that
 * read bytes off the wire (sl_l2proto): ARP and Neighbor Discovery parsing,
 * ICMP error parsing and forwarding behind DNAT, echo replies, and ICMP
 * errors built around an offending packet.
 *
 * The first input byte picks the function and family (see enum
 * sl_fuzz_op) and, when (byte / SL_FUZZ_OP_MAX) is odd, has the harness
 * first set the input's IPv4 header and ICMP(v6) checksums, so that mutated
 * inputs get past the checksum checks to the code behind them; the rest is
 * the function's input, copied to a buffer of exactly its size so that ASan
 * catches any access past it. Each result is
 * checked against the bytes and the header's contract: fields read where
 * they are, only the bytes a rewrite may touch touched, checksums valid,
 * builders within room and their IP length field equal to what they
 * return, and a built error that quotes TCP/UDP ports parsed back by
 * sl_icmp_error_parse(). A broken invariant aborts (a libFuzzer crash).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_checksum.h"
#include "sl_l2proto.h"
#include "sl_types.h"
#include "sl_fuzz.h"

/* What the first input byte (modulo SL_FUZZ_OP_MAX) selects. */
enum sl_fuzz_op {
	SL_FUZZ_ARP = 0,        /* sl_arp_parse(rest) */
	SL_FUZZ_ND,             /* sl_nd_parse(rest) */
	SL_FUZZ_ERROR_V4,       /* sl_icmp_error_parse, then sl_icmp_error_dnat on a copy */
	SL_FUZZ_ERROR_V6,
	SL_FUZZ_ECHO_V4,        /* sl_icmp_echo_reply on a copy */
	SL_FUZZ_ECHO_V6,
	SL_FUZZ_BUILD_V4,       /* sl_icmp_error_build: byte 1 type/code, byte 2 room, rest offending */
	SL_FUZZ_BUILD_V6,
	SL_FUZZ_BUILD_V4_INPLACE, /* the same, built over the offending packet's own buffer */
	SL_FUZZ_BUILD_V6_INPLACE,
	SL_FUZZ_OP_MAX
};

static uint32_t
sl_fuzz_min(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static void
sl_fuzz_addr(struct sl_ip_addr *a, int family)
{
	if (family == SL_AF_IPV4) {
		sl_ip_addr_from_v4(a, 0);
		memcpy(&a->bytes[12], sl_fuzz_v4_addr, 4);
	} else {
		memcpy(a->bytes, sl_fuzz_v6_addr, 16);
	}
}

/* A one's-complement sum, folded to 16 bits, with 0xffff taken as 0. */
static uint32_t
sl_fuzz_sum_mod(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff ? 0 : sum;
}

/* A checksummed region is valid when its sum is (either) zero. */
static int
sl_fuzz_ipv4_csum_ok(const uint8_t *ip, uint32_t ihl)
{
	return sl_csum_fold(sl_csum_add(0, ip, ihl)) == 0;
}

static int
sl_fuzz_icmp4_csum_ok(const uint8_t *icmp, uint32_t len)
{
	return sl_csum_fold(sl_csum_add(0, icmp, len)) == 0;
}

static int
sl_fuzz_icmp6_csum_ok(const uint8_t *ip6, const uint8_t *icmp, uint32_t len)
{
	uint8_t ph[8] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			 (uint8_t)len, 0, 0, 0, SL_IPPROTO_ICMPV6};
	uint32_t s = sl_csum_add(0, ip6 + 8, 32);

	s = sl_csum_add(s, ph, sizeof(ph));
	s = sl_csum_add(s, icmp, len);
	return sl_csum_fold(s) == 0;
}

static uint8_t *
sl_fuzz_dup(const uint8_t *b, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	SL_FUZZ_CHECK(c != NULL);
	memcpy(c, b, n);
	return c;
}

/*
 * Set the checksums of the IP packet at b (n bytes) where its header says
 * they are and they lie within n: the IPv4 header's, and the ICMP(v6)
 * message's when the protocol is ICMP(v6). Anything malformed is left as is.
 */
static void
sl_fuzz_fix_checksums(uint8_t *b, size_t n)
{
	uint32_t ihl, end;
	uint16_t c;

	if (n >= 20 && (b[0] >> 4) == 4) {
		ihl = (b[0] & 0x0f) * 4u;
		end = sl_fuzz_be16(b + 2);
		if (ihl < 20 || ihl > n)
			return;
		c = sl_ipv4_header_csum(b, ihl);
		memcpy(b + 10, &c, 2);
		if (b[9] != SL_IPPROTO_ICMP || end > n || end < ihl + 4)
			return;
		b[ihl + 2] = 0;
		b[ihl + 3] = 0;
		c = sl_csum_fold(sl_csum_add(0, b + ihl, end - ihl));
		memcpy(b + ihl + 2, &c, 2);
	} else if (n >= 44 && (b[0] >> 4) == 6 && b[6] == SL_IPPROTO_ICMPV6) {
		uint8_t ph[8] = {0, 0, 0, 0, 0, 0, 0, SL_IPPROTO_ICMPV6};
		uint32_t s;

		end = 40 + sl_fuzz_be16(b + 4);
		if (end > n || end < 44)
			return;
		ph[2] = (uint8_t)((end - 40) >> 8);
		ph[3] = (uint8_t)(end - 40);
		b[42] = 0;
		b[43] = 0;
		s = sl_csum_add(0, b + 8, 32);
		s = sl_csum_add(s, ph, sizeof(ph));
		s = sl_csum_add(s, b + 40, end - 40);
		c = sl_csum_fold(s);
		memcpy(b + 42, &c, 2);
	}
}

/* Every byte outside the marked ones unchanged. */
static void
sl_fuzz_only_marked_changed(const uint8_t *before, const uint8_t *after, const uint8_t *mask,
			    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		SL_FUZZ_CHECK(mask[i] || before[i] == after[i]);
}

static void
sl_fuzz_arp(const uint8_t *b, size_t n)
{
	struct sl_arp_info a;

	if (sl_arp_parse(b, (uint32_t)n, &a) != 0)
		return;
	SL_FUZZ_CHECK(n >= SL_ARP_LEN);
	SL_FUZZ_CHECK(a.op == SL_ARP_OP_REQUEST || a.op == SL_ARP_OP_REPLY);
	SL_FUZZ_CHECK(a.op == sl_fuzz_be16(b + 6));
	SL_FUZZ_CHECK(memcmp(a.sha.bytes, b + 8, 6) == 0 && memcmp(a.tha.bytes, b + 18, 6) == 0);
	SL_FUZZ_CHECK(sl_ip_addr_is_v4(&a.spa) && sl_ip_addr_is_v4(&a.tpa));
	SL_FUZZ_CHECK(memcmp(&a.spa.bytes[12], b + 14, 4) == 0);
	SL_FUZZ_CHECK(memcmp(&a.tpa.bytes[12], b + 24, 4) == 0);
}

static void
sl_fuzz_nd(const uint8_t *b, size_t n)
{
	struct sl_nd_info nd;
	uint32_t plen;

	if (sl_nd_parse(b, (uint32_t)n, &nd) != 0)
		return;
	SL_FUZZ_CHECK(n >= 40);
	plen = sl_fuzz_be16(b + 4);
	SL_FUZZ_CHECK(40 + plen <= n && plen >= 24);
	SL_FUZZ_CHECK(b[6] == SL_IPPROTO_ICMPV6 && b[7] == 255);
	SL_FUZZ_CHECK(nd.type == b[40] && b[41] == 0);
	SL_FUZZ_CHECK(nd.type == SL_ND_NEIGHBOR_SOLICIT || nd.type == SL_ND_NEIGHBOR_ADVERT);
	SL_FUZZ_CHECK(sl_fuzz_icmp6_csum_ok(b, b + 40, plen));
	SL_FUZZ_CHECK(memcmp(nd.src.bytes, b + 8, 16) == 0);
	SL_FUZZ_CHECK(memcmp(nd.dst.bytes, b + 24, 16) == 0);
	SL_FUZZ_CHECK(memcmp(nd.target.bytes, b + 48, 16) == 0 && nd.target.bytes[0] != 0xff);
	if (nd.type == SL_ND_NEIGHBOR_SOLICIT)
		SL_FUZZ_CHECK(nd.flags == 0);
	else if (nd.flags & SL_ND_FLAG_SOLICITED)
		SL_FUZZ_CHECK(nd.dst.bytes[0] != 0xff);
	SL_FUZZ_CHECK(nd.has_lladdr == 0 || nd.has_lladdr == 1);
}

/* sl_icmp_error_parse, then sl_icmp_error_dnat on a copy. */
static void
sl_fuzz_error(const uint8_t *b, size_t n, int family)
{
	struct sl_icmp_quote q, q2;
	struct sl_ip_addr na, other;
	uint8_t *c, *mask;
	uint32_t ihl, end, inner;
	uint16_t port_be;

	if (sl_icmp_error_parse(b, (uint32_t)n, family, &q) != 0)
		return;
	SL_FUZZ_CHECK(q.family == family);
	SL_FUZZ_CHECK(q.proto == SL_PROTO_TCP || q.proto == SL_PROTO_UDP);
	if (family == SL_AF_IPV4) {
		ihl = (b[0] & 0x0f) * 4u;
		end = sl_fuzz_be16(b + 2);
		SL_FUZZ_CHECK(q.type == 3 || q.type == 11 || q.type == 12);
		SL_FUZZ_CHECK(q.inner_l3_off == ihl + 8);
		SL_FUZZ_CHECK(q.inner_l4_off >= q.inner_l3_off + 20);
		SL_FUZZ_CHECK(sl_fuzz_icmp4_csum_ok(b + ihl, end - ihl));
		SL_FUZZ_CHECK(memcmp(&q.src.bytes[12], b + q.inner_l3_off + 12, 4) == 0);
		SL_FUZZ_CHECK(memcmp(&q.dst.bytes[12], b + q.inner_l3_off + 16, 4) == 0);
	} else {
		ihl = 40;
		end = 40 + sl_fuzz_be16(b + 4);
		SL_FUZZ_CHECK(q.type >= 1 && q.type <= 4);
		SL_FUZZ_CHECK(q.inner_l3_off == 48 && q.inner_l4_off == 88);
		SL_FUZZ_CHECK(sl_fuzz_icmp6_csum_ok(b, b + 40, end - 40));
		SL_FUZZ_CHECK(memcmp(q.src.bytes, b + 56, 16) == 0);
		SL_FUZZ_CHECK(memcmp(q.dst.bytes, b + 72, 16) == 0);
	}
	SL_FUZZ_CHECK(end <= n);
	SL_FUZZ_CHECK(q.inner_l4_off + 4u <= end);
	SL_FUZZ_CHECK(q.type == b[ihl] && q.code == b[ihl + 1]);
	SL_FUZZ_CHECK(memcmp(&q.sport_be, b + q.inner_l4_off, 2) == 0);
	SL_FUZZ_CHECK(memcmp(&q.dport_be, b + q.inner_l4_off + 2, 2) == 0);

	/* An address of the other family is refused, with nothing written. */
	sl_fuzz_addr(&na, family);
	sl_fuzz_addr(&other, family == SL_AF_IPV4 ? SL_AF_IPV6 : SL_AF_IPV4);
	c = sl_fuzz_dup(b, n);
	SL_FUZZ_CHECK(sl_icmp_error_dnat(c, (uint32_t)n, family, &other, 0) == -EINVAL);
	SL_FUZZ_CHECK(memcmp(c, b, n) == 0);

	port_be = (b[n - 1] & 1) ? (uint16_t)(b[n - 1] << 8 | 0x22) : 0;
	SL_FUZZ_CHECK(sl_icmp_error_dnat(c, (uint32_t)n, family, &na, port_be) == 0);
	mask = calloc(1, n);
	SL_FUZZ_CHECK(mask != NULL);
	inner = q.inner_l3_off;
	if (family == SL_AF_IPV4) {
		memset(mask + 10, 1, 2);          /* outer header checksum */
		memset(mask + 16, 1, 4);          /* outer destination */
		memset(mask + ihl + 2, 1, 2);     /* ICMP checksum */
		memset(mask + inner + 10, 1, 2);  /* quoted header checksum */
		memset(mask + inner + 12, 1, 4);  /* quoted source */
		SL_FUZZ_CHECK(memcmp(c + 16, sl_fuzz_v4_addr, 4) == 0);
		/* Incremental updates: both IPv4 headers sum as they did. */
		SL_FUZZ_CHECK(sl_fuzz_sum_mod(sl_csum_add(0, c, ihl)) ==
			      sl_fuzz_sum_mod(sl_csum_add(0, b, ihl)));
		SL_FUZZ_CHECK(sl_fuzz_sum_mod(sl_csum_add(0, c + inner, q.inner_l4_off - inner)) ==
			      sl_fuzz_sum_mod(sl_csum_add(0, b + inner, q.inner_l4_off - inner)));
	} else {
		memset(mask + 24, 1, 16);         /* outer destination */
		memset(mask + 42, 1, 2);          /* ICMPv6 checksum */
		memset(mask + inner + 8, 1, 16);  /* quoted source */
		SL_FUZZ_CHECK(memcmp(c + 24, sl_fuzz_v6_addr, 16) == 0);
	}
	memset(mask + q.inner_l4_off, 1, 2);      /* quoted source port */
	sl_fuzz_only_marked_changed(b, c, mask, n);
	free(mask);

	/* What was forwarded parses, and quotes the new address and port. */
	SL_FUZZ_CHECK(sl_icmp_error_parse(c, (uint32_t)n, family, &q2) == 0);
	SL_FUZZ_CHECK(sl_ip_addr_eq(&q2.src, &na) && sl_ip_addr_eq(&q2.dst, &q.dst));
	SL_FUZZ_CHECK(q2.sport_be == (port_be ? port_be : q.sport_be));
	SL_FUZZ_CHECK(q2.dport_be == q.dport_be && q2.proto == q.proto);
	free(c);
}

/* sl_icmp_echo_reply on a copy. */
static void
sl_fuzz_echo(const uint8_t *b, size_t n, int family)
{
	uint8_t *c = sl_fuzz_dup(b, n);
	uint8_t *mask;
	uint32_t ihl, end;

	if (sl_icmp_echo_reply(c, (uint32_t)n, family) != 0) {
		SL_FUZZ_CHECK(memcmp(c, b, n) == 0);
		free(c);
		return;
	}
	mask = calloc(1, n);
	SL_FUZZ_CHECK(mask != NULL);
	if (family == SL_AF_IPV4) {
		ihl = (b[0] & 0x0f) * 4u;
		end = sl_fuzz_be16(b + 2);
		SL_FUZZ_CHECK(ihl >= 20 && ihl + 8 <= end && end <= n);
		SL_FUZZ_CHECK(memcmp(c + 12, b + 16, 4) == 0 && memcmp(c + 16, b + 12, 4) == 0);
		SL_FUZZ_CHECK(c[8] == SL_IP_DEFAULT_TTL && c[9] == SL_IPPROTO_ICMP);
		SL_FUZZ_CHECK(c[ihl] == SL_ICMP_ECHO_REPLY && c[ihl + 1] == 0);
		SL_FUZZ_CHECK(sl_fuzz_ipv4_csum_ok(c, ihl));
		SL_FUZZ_CHECK(sl_fuzz_icmp4_csum_ok(c + ihl, end - ihl));
		memset(mask + 8, 1, 1);
		memset(mask + 10, 1, 10);
		memset(mask + ihl, 1, 1);
		memset(mask + ihl + 2, 1, 2);
	} else {
		end = 40 + sl_fuzz_be16(b + 4);
		SL_FUZZ_CHECK(end >= 48 && end <= n);
		SL_FUZZ_CHECK(memcmp(c + 8, b + 24, 16) == 0 && memcmp(c + 24, b + 8, 16) == 0);
		SL_FUZZ_CHECK(c[7] == SL_IP_DEFAULT_TTL && c[6] == SL_IPPROTO_ICMPV6);
		SL_FUZZ_CHECK(c[40] == SL_ICMP6_ECHO_REPLY && c[41] == 0);
		SL_FUZZ_CHECK(sl_fuzz_icmp6_csum_ok(c, c + 40, end - 40));
		memset(mask + 7, 1, 33);
		memset(mask + 40, 1, 1);
		memset(mask + 42, 1, 2);
	}
	sl_fuzz_only_marked_changed(b, c, mask, n);
	free(mask);
	free(c);
}

/*
 * sl_icmp_error_build. b[0]: the type (one of the family's error types, or
 * echo request, which must be refused) and code; b[1]: the room (< 128: the
 * largest error, SL_ICMP_ERROR_MAX_V6; else 4 * (b[1] - 128)); the rest: the
 * offending IP packet. In place: the offending packet sits at the start of
 * the output buffer, as when a caller builds in the packet's own mbuf.
 */
static void
sl_fuzz_build(const uint8_t *b, size_t n, int family, int in_place)
{
	static const uint8_t types_v4[5] = {3, 11, 12, 3, SL_ICMP_ECHO_REQUEST};
	static const uint8_t types_v6[5] = {1, 2, 3, 4, SL_ICMP6_ECHO_REQUEST};
	struct sl_icmp_quote q;
	struct sl_ip_addr src;
	const uint8_t *off;
	uint8_t *out;
	uint32_t room, off_len, ret, hdr, limit, ihl, quotable, min_quote;
	uint8_t type, code;
	uint32_t rest_be = 0x01020304;
	uint8_t l4p;

	if (n < 2)
		return;
	type = (family == SL_AF_IPV4 ? types_v4 : types_v6)[(b[0] & 0x0f) % 5];
	code = b[0] >> 4;
	room = b[1] < 128 ? SL_ICMP_ERROR_MAX_V6 : 4u * (b[1] - 128u);
	off = b + 2;
	off_len = (uint32_t)n - 2;
	if (in_place) {
		if (room < off_len)
			room = off_len;
	}
	out = malloc(room ? room : 1);
	SL_FUZZ_CHECK(out != NULL);
	if (in_place)
		memcpy(out, off, off_len);
	sl_fuzz_addr(&src, family);
	ret = sl_icmp_error_build(out, room, family, &src, in_place ? out : off, off_len, type,
				  code, rest_be);
	if (ret == 0) {
		free(out);
		return;
	}
	hdr = family == SL_AF_IPV4 ? 28 : 48;
	limit = family == SL_AF_IPV4 ? SL_ICMP_ERROR_MAX_V4 : SL_ICMP_ERROR_MAX_V6;
	SL_FUZZ_CHECK(ret <= room && ret <= limit && ret >= hdr);
	SL_FUZZ_CHECK(type != SL_ICMP_ECHO_REQUEST && type != SL_ICMP6_ECHO_REQUEST);
	SL_FUZZ_CHECK(out[hdr - 8] == type && out[hdr - 7] == code);
	SL_FUZZ_CHECK(memcmp(out + hdr - 4, &rest_be, 4) == 0);
	/* The quote: the offending packet's first bytes, up to its IP length. */
	SL_FUZZ_CHECK(memcmp(out + hdr, off, ret - hdr) == 0);
	if (family == SL_AF_IPV4) {
		ihl = (off[0] & 0x0f) * 4u;
		quotable = sl_fuzz_min(off_len, sl_fuzz_be16(off + 2));
		min_quote = sl_fuzz_min(quotable, ihl + 8);
		SL_FUZZ_CHECK(out[0] == 0x45 && sl_fuzz_be16(out + 2) == ret);
		SL_FUZZ_CHECK(out[9] == SL_IPPROTO_ICMP && sl_fuzz_ipv4_csum_ok(out, 20));
		SL_FUZZ_CHECK(memcmp(out + 12, sl_fuzz_v4_addr, 4) == 0);
		SL_FUZZ_CHECK(memcmp(out + 16, off + 12, 4) == 0);
		SL_FUZZ_CHECK(sl_fuzz_icmp4_csum_ok(out + 20, ret - 20));
		l4p = off[9];
	} else {
		ihl = 40;
		quotable = sl_fuzz_min(off_len, 40 + sl_fuzz_be16(off + 4));
		min_quote = sl_fuzz_min(quotable, 48);
		SL_FUZZ_CHECK((out[0] >> 4) == 6 && 40 + sl_fuzz_be16(out + 4) == ret);
		SL_FUZZ_CHECK(out[6] == SL_IPPROTO_ICMPV6);
		SL_FUZZ_CHECK(memcmp(out + 8, sl_fuzz_v6_addr, 16) == 0);
		SL_FUZZ_CHECK(memcmp(out + 24, off + 8, 16) == 0);
		SL_FUZZ_CHECK(sl_fuzz_icmp6_csum_ok(out, out + 40, ret - 40));
		l4p = off[6];
	}
	/* As much as fits in the limit and the room, and at least the minimum. */
	SL_FUZZ_CHECK(ret - hdr == sl_fuzz_min(quotable, sl_fuzz_min(limit, room) - hdr));
	SL_FUZZ_CHECK(ret - hdr >= min_quote);
	/* An error about TCP/UDP that quotes the ports reads back. */
	if ((l4p == SL_PROTO_TCP || l4p == SL_PROTO_UDP) && ret - hdr >= ihl + 4) {
		SL_FUZZ_CHECK(sl_icmp_error_parse(out, ret, family, &q) == 0);
		SL_FUZZ_CHECK(q.type == type && q.code == code && q.proto == l4p);
		SL_FUZZ_CHECK(q.inner_l4_off == hdr + ihl);
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b;
	size_t n;

	if (size < 1 || size > UINT16_MAX + 1)
		return 0;
	n = size - 1;
	b = sl_fuzz_dup(data + 1, n);
	if ((data[0] / SL_FUZZ_OP_MAX) & 1)
		sl_fuzz_fix_checksums(b, n);
	switch ((enum sl_fuzz_op)(data[0] % SL_FUZZ_OP_MAX)) {
	case SL_FUZZ_ARP:
		sl_fuzz_arp(b, n);
		break;
	case SL_FUZZ_ND:
		sl_fuzz_nd(b, n);
		break;
	case SL_FUZZ_ERROR_V4:
		sl_fuzz_error(b, n, SL_AF_IPV4);
		break;
	case SL_FUZZ_ERROR_V6:
		sl_fuzz_error(b, n, SL_AF_IPV6);
		break;
	case SL_FUZZ_ECHO_V4:
		sl_fuzz_echo(b, n, SL_AF_IPV4);
		break;
	case SL_FUZZ_ECHO_V6:
		sl_fuzz_echo(b, n, SL_AF_IPV6);
		break;
	case SL_FUZZ_BUILD_V4:
		sl_fuzz_build(b, n, SL_AF_IPV4, 0);
		break;
	case SL_FUZZ_BUILD_V6:
		sl_fuzz_build(b, n, SL_AF_IPV6, 0);
		break;
	case SL_FUZZ_BUILD_V4_INPLACE:
		sl_fuzz_build(b, n, SL_AF_IPV4, 1);
		break;
	case SL_FUZZ_BUILD_V6_INPLACE:
		sl_fuzz_build(b, n, SL_AF_IPV6, 1);
		break;
	default:
		break;
	}
	free(b);
	return 0;
}
