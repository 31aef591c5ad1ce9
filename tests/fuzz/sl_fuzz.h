/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_fuzz.h: what the fuzz targets share: the invariant check (abort with
 * the broken condition, so libFuzzer keeps the input), the addresses they
 * rewrite to, and a big-endian 16-bit read of their own.
 */
#ifndef SL_FUZZ_H
#define SL_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SL_FUZZ_CHECK(cond)                                                             \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, \
				#cond);                                                 \
			abort();                                                        \
		}                                                                       \
	} while (0)

static const uint8_t sl_fuzz_v6_addr[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					    0, 0, 0, 0, 0, 0, 0xbe, 0xef};
static const uint8_t sl_fuzz_v4_addr[4] = {198, 51, 100, 7};

static inline uint32_t
sl_fuzz_be16(const uint8_t *b)
{
	return (uint32_t)b[0] << 8 | b[1];
}

#endif /* SL_FUZZ_H */
