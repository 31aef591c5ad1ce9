/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_prefix.c: parsing and comparing address prefixes (see sl_prefix.h).
 */
#include <errno.h>
#include <string.h>

#include "sl_prefix.h"

#define SL_V4_MAPPED_BITS 96 /* ::ffff:0:0/96 holds the IPv4 addresses */

/* Is bit i (0 = the most significant of bytes[0]) of a set? */
static bool
sl_addr_bit(const struct sl_ip_addr *a, uint32_t i)
{
	return (a->bytes[i / 8] & (0x80u >> (i % 8))) != 0;
}

int
sl_prefix_parse_host(const char *text, struct sl_prefix *p)
{
	const char *slash = strchr(text, '/'), *d;
	enum sl_ip_family f = SL_AF_NONE;
	unsigned int len = 0;
	char buf[64];

	if (slash == NULL || (size_t)(slash - text) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, (size_t)(slash - text));
	buf[slash - text] = '\0';
	if (sl_ip_addr_parse(buf, &p->addr, &f) < 0)
		return -EINVAL;
	if (f == SL_AF_IPV4 && strchr(buf, ':') != NULL)
		return -EINVAL;
	d = slash + 1;
	if (*d == '\0' || strlen(d) > 3)
		return -EDOM;
	for (; *d != '\0'; d++) {
		if (*d < '0' || *d > '9')
			return -EDOM;
		len = len * 10 + (unsigned int)(*d - '0');
	}
	if (len > (f == SL_AF_IPV4 ? 32u : 128u))
		return -EDOM;
	p->len = (uint8_t)(f == SL_AF_IPV4 ? SL_V4_MAPPED_BITS + len : len);
	return 0;
}

int
sl_prefix_parse(const char *text, struct sl_prefix *p)
{
	struct sl_ip_addr written;
	int rc = sl_prefix_parse_host(text, p);

	if (rc < 0)
		return rc;
	written = p->addr;
	sl_prefix_clear_host_bits(p);
	return sl_ip_addr_eq(&written, &p->addr) ? 0 : -ERANGE;
}

void
sl_prefix_from(struct sl_prefix *p, const struct sl_ip_addr *a, uint8_t family_len)
{
	p->addr = *a;
	p->len = (uint8_t)(sl_ip_addr_is_v4(a) ? SL_V4_MAPPED_BITS + family_len : family_len);
}

bool
sl_prefix_is_v4(const struct sl_prefix *p)
{
	return sl_ip_addr_is_v4(&p->addr) && p->len >= SL_V4_MAPPED_BITS;
}

uint8_t
sl_prefix_family_len(const struct sl_prefix *p)
{
	return (uint8_t)(sl_prefix_is_v4(p) ? p->len - SL_V4_MAPPED_BITS : p->len);
}

void
sl_prefix_clear_host_bits(struct sl_prefix *p)
{
	uint32_t i;

	for (i = p->len; i < 128; i++)
		p->addr.bytes[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

bool
sl_prefix_contains(const struct sl_prefix *p, const struct sl_ip_addr *a)
{
	uint32_t full = p->len / 8, rem = p->len % 8;

	if (sl_prefix_is_v4(p) != sl_ip_addr_is_v4(a))
		return false;
	if (memcmp(p->addr.bytes, a->bytes, full) != 0)
		return false;
	if (rem == 0)
		return true;
	return ((p->addr.bytes[full] ^ a->bytes[full]) & (uint8_t)(0xff << (8 - rem))) == 0;
}

bool
sl_prefix_within(const struct sl_prefix *inner, const struct sl_prefix *outer)
{
	return inner->len >= outer->len && sl_prefix_contains(outer, &inner->addr);
}

bool
sl_prefix_is_last(const struct sl_prefix *p, const struct sl_ip_addr *a)
{
	uint32_t i;

	for (i = p->len; i < 128; i++) {
		if (!sl_addr_bit(a, i))
			return false;
	}
	return true;
}
