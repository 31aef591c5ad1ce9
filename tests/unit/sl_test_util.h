/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_test_util.h: small helpers the unit tests share: addresses, MACs and
 * static neighbours from text (a test fails if the text does not parse),
 * and big-endian 16-bit fields read and written byte by byte. Include
 * after <cmocka.h>.
 */
#ifndef SL_TEST_UTIL_H
#define SL_TEST_UTIL_H

#include <stdint.h>

#include "sl_port_info.h"
#include "sl_types.h"

static inline struct sl_ip_addr
sl_test_ip(const char *text)
{
	struct sl_ip_addr a;

	assert_int_equal(sl_ip_addr_parse(text, &a, NULL), 0);
	return a;
}

static inline struct sl_mac
sl_test_mac(const char *text)
{
	struct sl_mac m;

	assert_int_equal(sl_mac_parse(text, &m), 0);
	return m;
}

static inline struct sl_neighbour
sl_test_neighbour(const char *ip, const char *mac)
{
	struct sl_neighbour n = {.addr = sl_test_ip(ip), .mac = sl_test_mac(mac)};

	return n;
}

static inline void
put16(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline uint16_t
get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

#endif /* SL_TEST_UTIL_H */
