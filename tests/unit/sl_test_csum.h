/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_test_csum.h: the unit tests' naive reference Internet checksum
 * (RFC 1071): big-endian 16-bit words, one at a time, folded as it goes. It
 * shares no code with dataplane/core/sl_checksum.c, so the tests check the
 * real routines against something written independently.
 */
#ifndef SL_TEST_CSUM_H
#define SL_TEST_CSUM_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t
naive_sum(uint32_t s, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2) {
		s += (uint32_t)b[i] << 8 | b[i + 1];
		s = (s & 0xffff) + (s >> 16);
	}
	if (n & 1) {
		s += (uint32_t)b[n - 1] << 8;
		s = (s & 0xffff) + (s >> 16);
	}
	return s;
}

static inline uint16_t
naive_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

#endif /* SL_TEST_CSUM_H */
