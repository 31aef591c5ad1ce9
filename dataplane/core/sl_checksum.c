/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_checksum.c: Internet checksums, full (RFC 1071) and incremental
 * (RFC 1624 eqn. 3).
 *
 * Words are loaded in memory order (native loads through memcpy) and the
 * result is returned in the same order, so a value returned here is stored
 * into a header with memcpy as is: the ones'-complement sum does not depend
 * on byte order (RFC 1071 section 2(B)). The running sum is kept 64 bits
 * wide while adding 32-bit words and folded back to 32 bits, which preserves
 * its value modulo 0xffff since 2^16 = 1 (mod 0xffff).
 */
#include <string.h>

#include "sl_checksum.h"
#include "sl_types.h"

#define SL_TCP_CSUM_OFF 16
#define SL_UDP_CSUM_OFF 6

static inline uint32_t
sl_csum_fold32(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint32_t
sl_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *b = data;
	uint64_t s = sum;

	while (len >= 4) {
		uint32_t w;

		memcpy(&w, b, 4);
		s += w;
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, b, 2);
		s += w;
		b += 2;
		len -= 2;
	}
	if (len) {
		/* The last byte is the high-order byte of a zero-padded word. */
		uint8_t pad[2] = {b[0], 0};
		uint16_t w;

		memcpy(&w, pad, 2);
		s += w;
	}
	return sl_csum_fold32(s);
}


uint16_t
sl_ipv4_header_csum(const void *hdr, size_t ihl_bytes)
{
	const uint8_t *h = hdr;
	uint32_t sum;

	/* Bytes 10..11 are the checksum itself. */
	sum = sl_csum_add(0, h, 10);
	if (ihl_bytes > 12)
		sum = sl_csum_add(sum, h + 12, ihl_bytes - 12);
	return sl_csum_fold(sum);
}

uint16_t
sl_l4_csum(const void *ip, int family, uint8_t proto, const void *l4, size_t l4_len)
{
	const uint8_t *iph = ip;
	const uint8_t *l = l4;
	size_t csum_off = proto == SL_PROTO_TCP ? SL_TCP_CSUM_OFF : SL_UDP_CSUM_OFF;
	uint32_t sum;
	uint16_t csum;

	if (family == SL_AF_IPV4) {
		uint8_t ph[4] = {0, proto, (uint8_t)(l4_len >> 8), (uint8_t)l4_len};

		sum = sl_csum_add(0, iph + 12, 8);
		sum = sl_csum_add(sum, ph, sizeof(ph));
	} else {
		uint8_t ph[8] = {
			(uint8_t)(l4_len >> 24), (uint8_t)(l4_len >> 16),
			(uint8_t)(l4_len >> 8), (uint8_t)l4_len, 0, 0, 0, proto,
		};

		sum = sl_csum_add(0, iph + 8, 32);
		sum = sl_csum_add(sum, ph, sizeof(ph));
	}
	/* Skip the checksum field (at an even offset, so word alignment holds). */
	if (l4_len >= csum_off + 2) {
		sum = sl_csum_add(sum, l, csum_off);
		sum = sl_csum_add(sum, l + csum_off + 2, l4_len - csum_off - 2);
	} else {
		sum = sl_csum_add(sum, l, l4_len);
	}
	csum = sl_csum_fold(sum);
	if (proto == SL_PROTO_UDP && csum == 0)
		csum = 0xffff;
	return csum;
}


