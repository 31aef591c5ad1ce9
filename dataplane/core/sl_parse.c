/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_parse.c: the parser's out-of-line part (see sl_parse.h): the IPv6
 * extension-header walk, which only packets with extension headers reach.
 */
#include "sl_parse.h"

/* See sl_parse.h. */
enum sl_drop_reason
sl_parse_ipv6_ext(const uint8_t *ip6, uint32_t end, uint32_t avail, uint32_t *off, uint8_t *nh)
{
	uint32_t o = *off;
	uint8_t n = *nh;
	int i;

	for (i = 0; sl_ipv6_is_walked_ext(n); i++) {
		uint32_t hlen;

		/* Too many, or hop-by-hop anywhere but first (RFC 8200 4.1). */
		if (SL_UNLIKELY(i == SL_PARSE_MAX_EXT_HEADERS))
			return SL_DROP_IPV6_BAD_EXT_HEADER;
		if (SL_UNLIKELY(n == SL_IPV6_NH_HOPOPTS && i != 0))
			return SL_DROP_IPV6_BAD_EXT_HEADER;
		if (SL_UNLIKELY(o + 8 > end))
			return SL_DROP_IPV6_BAD_EXT_HEADER;
		if (SL_UNLIKELY(o + 8 > avail))
			return SL_DROP_SEGMENTED;
		hlen = ((uint32_t)ip6[o + 1] + 1) * 8;
		if (SL_UNLIKELY(o + hlen > end))
			return SL_DROP_IPV6_BAD_EXT_HEADER;
		if (SL_UNLIKELY(o + hlen > avail))
			return SL_DROP_SEGMENTED;
		n = ip6[o];
		o += hlen;
	}
	*off = o;
	*nh = n;
	return SL_DROP_NONE;
}
