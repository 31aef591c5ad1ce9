/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_types.c: text forms of the shared value types (IP addresses, MACs).
 *
 * Control-plane helpers only; nothing here runs on the packet path.
 * Addresses use the single 16-byte form of sl_types.h: IPv4 is stored as
 * IPv4-mapped IPv6 and printed back as dotted quad.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "sl_types.h"

int
sl_ip_addr_parse(const char *text, struct sl_ip_addr *a, enum sl_ip_family *family)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (text == NULL || a == NULL)
		return -EINVAL;
	if (inet_pton(AF_INET, text, &v4) == 1) {
		sl_ip_addr_from_v4(a, v4.s_addr);
		if (family != NULL)
			*family = SL_AF_IPV4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &v6) == 1) {
		memcpy(a->bytes, v6.s6_addr, 16);
		/*
		 * An IPv4-mapped literal ("::ffff:10.0.0.1") has the very
		 * bytes of the IPv4 address, so it is the IPv4 address.
		 */
		if (family != NULL)
			*family = sl_ip_addr_is_v4(a) ? SL_AF_IPV4 : SL_AF_IPV6;
		return 0;
	}
	return -EINVAL;
}

const char *
sl_ip_addr_format(const struct sl_ip_addr *a, char *buf, size_t len)
{
	if (a == NULL || buf == NULL || len == 0)
		return NULL;
	if (sl_ip_addr_is_v4(a))
		return inet_ntop(AF_INET, &a->bytes[12], buf, (socklen_t)len);
	return inet_ntop(AF_INET6, a->bytes, buf, (socklen_t)len);
}

static int
sl_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
sl_mac_parse(const char *text, struct sl_mac *m)
{
	uint8_t out[SL_ETHER_ADDR_LEN];
	char sep;
	int i;

	if (text == NULL || m == NULL)
		return -EINVAL;
	sep = text[0] != '\0' && text[1] != '\0' ? text[2] : '\0';
	if (sep != ':' && sep != '-')
		return -EINVAL;
	for (i = 0; i < SL_ETHER_ADDR_LEN; i++) {
		const char *s = text + 3 * i;
		int hi, lo;

		hi = sl_hex_digit(s[0]);
		if (hi < 0)
			return -EINVAL;
		lo = sl_hex_digit(s[1]);
		if (lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
		/* One separator, the same throughout, and nothing after the last pair. */
		if (i < SL_ETHER_ADDR_LEN - 1 ? s[2] != sep : s[2] != '\0')
			return -EINVAL;
	}
	memcpy(m->bytes, out, SL_ETHER_ADDR_LEN);
	return 0;
}

const char *
sl_mac_format(const struct sl_mac *m, char *buf, size_t len)
{
	const uint8_t *b;

	if (m == NULL || buf == NULL || len < 18)
		return NULL;
	b = m->bytes;
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5]);
	return buf;
}
