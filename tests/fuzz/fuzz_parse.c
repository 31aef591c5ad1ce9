/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_parse.c: libFuzzer target for the packet path's parser and rewrite
 * (sl_parse, sl_dnat, sl_snat, sl_ip_ttl_decrement).
 *
 * The input is one Ethernet frame, in a buffer of exactly its size (ASan
 * catches a read or write past it). When sl_parse() accepts the frame, or
 * hands it to the slow path (fragment, other L4 protocol), the fields the
 * worker relies on are checked against the bytes, and the frame parsed again
 * as a chain of segments must give the same verdict or SL_DROP_SEGMENTED
 * (reading only its first segment). Then, for accepted frames
 * and fragments, the worker's rewrites run on a copy, each checked for:
 *  - touching only the bytes it may: the address, the IPv4 header checksum,
 *    and for TCP/UDP with an L4 header present the port and L4 checksum;
 *  - leaving checksums as valid as they were: the one's-complement sum over
 *    the IPv4 header, and over the pseudo-header addresses and the L4 bytes,
 *    is the same before and after (modulo 0xffff: 0 and 0xffff are one zero);
 *  - writing the new address and port.
 * A broken invariant aborts, which libFuzzer reports as a crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_checksum.h"
#include "sl_drop.h"
#include "sl_l2proto.h"
#include "sl_parse.h"
#include "sl_rewrite.h"
#include "sl_types.h"
#include "sl_fuzz.h"

/* A one's-complement sum, folded to 16 bits, with 0xffff taken as 0. */
static uint32_t
sl_fuzz_sum_mod(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff ? 0 : sum;
}

/* Whether the rewrite will find an L4 header it may change (ports, checksum). */
static int
sl_fuzz_has_l4(const struct sl_pkt *p, uint32_t *csum_off)
{
	*csum_off = p->l4_proto == SL_PROTO_TCP ? 16 : 6;
	if (p->l4_proto != SL_PROTO_TCP && p->l4_proto != SL_PROTO_UDP)
		return 0;
	return p->frag != SL_FRAG_LATER && p->l4_len >= *csum_off + 2;
}

/* The sum the L4 checksum protects, less the constant part of the pseudo-header. */
static uint32_t
sl_fuzz_l4_sum(const uint8_t *f, const struct sl_pkt *p)
{
	const uint8_t *l3 = f + p->l3_off;
	uint32_t s;

	if (p->family == SL_AF_IPV4)
		s = sl_csum_add(0, l3 + 12, 8);
	else
		s = sl_csum_add(0, l3 + 8, 32);
	s = sl_csum_add(s, f + p->l4_off, p->l4_len);
	return sl_fuzz_sum_mod(s);
}

static uint32_t
sl_fuzz_ip_sum(const uint8_t *f, const struct sl_pkt *p)
{
	const uint8_t *l3 = f + p->l3_off;

	return sl_fuzz_sum_mod(sl_csum_add(0, l3, (size_t)(l3[0] & 0x0f) * 4));
}

/* Mark [off, off + n) as bytes the rewrite may change. */
static void
sl_fuzz_allow(uint8_t *mask, size_t len, size_t off, size_t n)
{
	SL_FUZZ_CHECK(off + n <= len);
	memset(mask + off, 1, n);
}

/* Run sl_dnat (dst = 1) or sl_snat (dst = 0) on a copy of the frame and check it. */
static void
sl_fuzz_nat(const uint8_t *frame, size_t len, const struct sl_pkt *p, int dst, uint16_t port_be)
{
	uint8_t *c = malloc(len);
	uint8_t *mask = calloc(1, len);
	struct sl_ip_addr a;
	uint32_t csum_off, addr_off, addr_len;
	uint32_t ip_sum = 0, l4_sum = 0;
	int has_l4 = sl_fuzz_has_l4(p, &csum_off);
	int l4_csum_on = 0;
	size_t i;

	SL_FUZZ_CHECK(c != NULL && mask != NULL);
	memcpy(c, frame, len);
	if (p->family == SL_AF_IPV4) {
		sl_ip_addr_from_v4(&a, 0);
		memcpy(&a.bytes[12], sl_fuzz_v4_addr, 4);
		addr_off = dst ? 16 : 12;
		addr_len = 4;
		sl_fuzz_allow(mask, len, p->l3_off + 10u, 2);
		ip_sum = sl_fuzz_ip_sum(c, p);
	} else {
		memcpy(a.bytes, sl_fuzz_v6_addr, 16);
		addr_off = dst ? 24 : 8;
		addr_len = 16;
	}
	sl_fuzz_allow(mask, len, p->l3_off + addr_off, addr_len);
	if (has_l4) {
		uint32_t stored = sl_fuzz_be16(c + p->l4_off + csum_off);

		l4_csum_on = !(p->l4_proto == SL_PROTO_UDP && p->family == SL_AF_IPV4 && stored == 0);
		sl_fuzz_allow(mask, len, p->l4_off + (dst ? 2u : 0u), 2);
		sl_fuzz_allow(mask, len, p->l4_off + csum_off, 2);
		l4_sum = sl_fuzz_l4_sum(c, p);
	}

	if (dst)
		sl_dnat(c, p, &a, port_be);
	else
		sl_snat(c, p, &a, port_be);

	for (i = 0; i < len; i++)
		SL_FUZZ_CHECK(mask[i] || c[i] == frame[i]);
	SL_FUZZ_CHECK(memcmp(c + p->l3_off + addr_off, &a.bytes[16 - addr_len], addr_len) == 0);
	if (p->family == SL_AF_IPV4)
		SL_FUZZ_CHECK(sl_fuzz_ip_sum(c, p) == ip_sum);
	if (has_l4) {
		uint16_t now_port;

		memcpy(&now_port, c + p->l4_off + (dst ? 2 : 0), 2);
		if (port_be != 0)
			SL_FUZZ_CHECK(now_port == port_be);
		if (l4_csum_on)
			SL_FUZZ_CHECK(sl_fuzz_l4_sum(c, p) == l4_sum);
		else
			SL_FUZZ_CHECK(sl_fuzz_be16(c + p->l4_off + csum_off) == 0);
	}
	free(mask);
	free(c);
}

static void
sl_fuzz_ttl(const uint8_t *frame, size_t len, const struct sl_pkt *p)
{
	uint8_t *c = malloc(len);
	uint8_t *l3;
	uint32_t ttl_off = p->family == SL_AF_IPV4 ? 8 : 7;
	uint32_t ip_sum = 0;
	int r;

	SL_FUZZ_CHECK(c != NULL);
	memcpy(c, frame, len);
	l3 = c + p->l3_off;
	if (p->family == SL_AF_IPV4)
		ip_sum = sl_fuzz_ip_sum(c, p);
	r = sl_ip_ttl_decrement(l3, p->family);
	if (frame[p->l3_off + ttl_off] <= 1) {
		SL_FUZZ_CHECK(r == -1);
		SL_FUZZ_CHECK(memcmp(c, frame, len) == 0);
	} else {
		SL_FUZZ_CHECK(r == frame[p->l3_off + ttl_off] - 1 && l3[ttl_off] == r);
		if (p->family == SL_AF_IPV4)
			SL_FUZZ_CHECK(sl_fuzz_ip_sum(c, p) == ip_sum);
	}
	free(c);
}

/* The fields every non-drop result shares (see the comment of sl_parse()). */
static void
sl_fuzz_check_common(const uint8_t *f, size_t len, const struct sl_pkt *p)
{
	uint32_t l3_end = (uint32_t)p->l3_off + p->l3_len;

	SL_FUZZ_CHECK(p->l3_off == (p->has_vlan ? 18 : 14));
	SL_FUZZ_CHECK(l3_end <= len);
	SL_FUZZ_CHECK(p->l4_off <= l3_end);
	SL_FUZZ_CHECK((uint32_t)p->l4_len == l3_end - p->l4_off);
	if (p->family == SL_AF_IPV4) {
		const uint8_t *l3 = f + p->l3_off;

		SL_FUZZ_CHECK(sl_fuzz_be16(f + 12 + (p->has_vlan ? 4 : 0)) == SL_ETHERTYPE_IPV4);
		SL_FUZZ_CHECK(p->l4_off == p->l3_off + (l3[0] & 0x0f) * 4u);
		SL_FUZZ_CHECK(p->l3_len == sl_fuzz_be16(l3 + 2));
		SL_FUZZ_CHECK(sl_ip_addr_is_v4(&p->src) && sl_ip_addr_is_v4(&p->dst));
		SL_FUZZ_CHECK(memcmp(&p->src.bytes[12], l3 + 12, 4) == 0);
		SL_FUZZ_CHECK(memcmp(&p->dst.bytes[12], l3 + 16, 4) == 0);
	} else {
		const uint8_t *l3 = f + p->l3_off;

		SL_FUZZ_CHECK(p->family == SL_AF_IPV6);
		SL_FUZZ_CHECK(sl_fuzz_be16(f + 12 + (p->has_vlan ? 4 : 0)) == SL_ETHERTYPE_IPV6);
		SL_FUZZ_CHECK(p->l4_off >= p->l3_off + 40u);
		SL_FUZZ_CHECK(p->l3_len == 40 + sl_fuzz_be16(l3 + 4));
		SL_FUZZ_CHECK(!sl_ip_addr_is_v4(&p->src) && !sl_ip_addr_is_v4(&p->dst));
		SL_FUZZ_CHECK(memcmp(p->src.bytes, l3 + 8, 16) == 0);
		SL_FUZZ_CHECK(memcmp(p->dst.bytes, l3 + 24, 16) == 0);
	}
}

/*
 * The frame as a chain whose first segment holds only its first seg bytes
 * (seg chosen by the last input byte): the parser reads no further (a
 * buffer of exactly seg bytes), and its verdict is the whole frame's or
 * SL_DROP_SEGMENTED; a frame accepted both ways is parsed alike.
 */
static void
sl_fuzz_check_segmented(const uint8_t *data, size_t size, enum sl_drop_reason whole,
			const struct sl_pkt *pw)
{
	size_t seg = size != 0 ? size * data[size - 1] / 255 : 0;
	uint8_t *first = malloc(seg ? seg : 1);
	struct sl_pkt p;
	enum sl_drop_reason r;

	SL_FUZZ_CHECK(first != NULL);
	memcpy(first, data, seg);
	memset(&p, 0xa5, sizeof(p));
	r = sl_parse_seg(first, (uint32_t)seg, (uint32_t)size, &p);
	SL_FUZZ_CHECK(r == whole || r == SL_DROP_SEGMENTED);
	if (r == SL_DROP_NONE)
		SL_FUZZ_CHECK(memcmp(&p, pw, sizeof(p)) == 0);
	free(first);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_pkt p;
	enum sl_drop_reason r;
	uint8_t *frame;
	uint16_t port_be;

	/* The first segment of an mbuf: data_len is 16 bits. */
	if (size > UINT16_MAX)
		return 0;
	/* A copy of exactly the frame's size: reads past it are caught. */
	frame = malloc(size ? size : 1);
	SL_FUZZ_CHECK(frame != NULL);
	memcpy(frame, data, size);
	memset(&p, 0xa5, sizeof(p));
	r = sl_parse(frame, (uint32_t)size, &p);
	SL_FUZZ_CHECK(r < SL_DROP_MAX);
	sl_fuzz_check_segmented(data, size, r, &p);

	switch (r) {
	case SL_DROP_NONE:
		sl_fuzz_check_common(frame, size, &p);
		SL_FUZZ_CHECK(p.frag == SL_FRAG_NONE);
		SL_FUZZ_CHECK(p.l4_proto == SL_PROTO_TCP || p.l4_proto == SL_PROTO_UDP);
		if (p.l4_proto == SL_PROTO_TCP) {
			SL_FUZZ_CHECK(p.l4_len >= 20);
			SL_FUZZ_CHECK((frame[p.l4_off + 12] >> 4) * 4u <= p.l4_len);
			SL_FUZZ_CHECK(p.tcp_flags == frame[p.l4_off + 13]);
		} else {
			SL_FUZZ_CHECK(p.l4_len >= 8);
			SL_FUZZ_CHECK(sl_fuzz_be16(frame + p.l4_off + 4) <= p.l4_len);
			SL_FUZZ_CHECK(p.tcp_flags == 0);
		}
		SL_FUZZ_CHECK(memcmp(&p.sport_be, frame + p.l4_off, 2) == 0);
		SL_FUZZ_CHECK(memcmp(&p.dport_be, frame + p.l4_off + 2, 2) == 0);
		break;
	case SL_DROP_IPV4_FRAGMENT:
	case SL_DROP_IPV6_FRAGMENT:
		sl_fuzz_check_common(frame, size, &p);
		SL_FUZZ_CHECK(p.family == (r == SL_DROP_IPV4_FRAGMENT ? SL_AF_IPV4 : SL_AF_IPV6));
		SL_FUZZ_CHECK(p.frag == SL_FRAG_FIRST || p.frag == SL_FRAG_LATER);
		if (p.frag == SL_FRAG_FIRST && p.l4_len >= 4 &&
		    (p.l4_proto == SL_PROTO_TCP || p.l4_proto == SL_PROTO_UDP)) {
			SL_FUZZ_CHECK(memcmp(&p.sport_be, frame + p.l4_off, 2) == 0);
			SL_FUZZ_CHECK(memcmp(&p.dport_be, frame + p.l4_off + 2, 2) == 0);
		} else {
			SL_FUZZ_CHECK(p.sport_be == 0 && p.dport_be == 0);
		}
		break;
	case SL_DROP_L4_UNSUPPORTED:
		sl_fuzz_check_common(frame, size, &p);
		SL_FUZZ_CHECK(p.l4_proto != SL_PROTO_TCP && p.l4_proto != SL_PROTO_UDP);
		SL_FUZZ_CHECK(p.sport_be == 0 && p.dport_be == 0);
		free(frame);
		return 0;
	default:
		free(frame);
		return 0;
	}

	/* The rewrites of the worker: DNAT toward a backend, SNAT of a reply, the TTL. */
	port_be = size > 1 && (frame[0] & 1) == 0 ? (uint16_t)(frame[1] << 8 | 0x50) : 0;
	sl_fuzz_nat(frame, size, &p, 1, port_be);
	sl_fuzz_nat(frame, size, &p, 0, port_be);
	sl_fuzz_ttl(frame, size, &p);
	free(frame);
	return 0;
}
