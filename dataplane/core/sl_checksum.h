/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_checksum.h: Internet checksums, full and incremental (RFC 1071, RFC 1624).
 *
 * Checksum values are handled as they sit in the header: 16-bit, network byte
 * order (the ones'-complement sum is byte-order independent if both the
 * checksum and the changed words are taken in the same order).
 */
#ifndef SL_CHECKSUM_H
#define SL_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Add len bytes at data to a 32-bit running sum (odd length padded with zero). */
uint32_t sl_csum_add(uint32_t sum, const void *data, size_t len);

/* Fold a running sum to 16 bits and complement it: the value to store. */
static inline uint16_t
sl_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* IPv4 header checksum of the ihl_bytes at hdr (the checksum field is skipped). */
uint16_t sl_ipv4_header_csum(const void *hdr, size_t ihl_bytes);

/*
 * Full TCP/UDP checksum over the pseudo-header and the l4_len bytes at l4
 * (whose own checksum field is treated as zero). ip points at the IPv4 or
 * IPv6 header; family is SL_AF_IPV4 or SL_AF_IPV6; proto is 6 or 17.
 * For UDP a computed 0 is returned as 0xffff.
 */
uint16_t sl_l4_csum(const void *ip, int family, uint8_t proto, const void *l4, size_t l4_len);

/*
 * Incremental update (RFC 1624 eqn. 3): the checksum after old_len bytes at
 * old_data were replaced by new_data (len even). Values as stored in headers.
 * Inline: the packet path calls these for every DNAT'd packet.
 */
static inline uint16_t
sl_csum_replace(uint16_t csum, const void *old_data, const void *new_data, size_t len)
{
	const uint8_t *o = old_data;
	const uint8_t *n = new_data;
	uint64_t sum = (uint16_t)~csum;

	/* HC' = ~(~HC + ~m + m') */
	for (size_t i = 0; i + 1 < len; i += 2) {
		uint16_t ow, nw;

		memcpy(&ow, o + i, 2);
		memcpy(&nw, n + i, 2);
		sum += (uint16_t)~ow;
		sum += nw;
	}
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	return sl_csum_fold((uint32_t)sum);
}

/* The same for one 16-bit word. */
static inline uint16_t
sl_csum_replace16(uint16_t csum, uint16_t old_be, uint16_t new_be)
{
	uint32_t sum = (uint16_t)~csum;

	sum += (uint16_t)~old_be;
	sum += new_be;
	return sl_csum_fold(sum);
}

#endif /* SL_CHECKSUM_H */
