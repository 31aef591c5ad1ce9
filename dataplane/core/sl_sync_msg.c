/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_sync_msg.c: the flow sync datagram's encoding and validation (see
 * sl_sync_msg.h for the layout).
 */
#include <errno.h>
#include <string.h>

#include "sl_sync_msg.h"

const char *
sl_sync_error_name(enum sl_sync_error e)
{
	static const char *const names[] = {
		[SL_SYNC_OK] = "ok",
		[SL_SYNC_ERR_SHORT] = "shorter than its header",
		[SL_SYNC_ERR_MAGIC] = "bad magic",
		[SL_SYNC_ERR_VERSION] = "unknown version",
		[SL_SYNC_ERR_COUNT] = "record count out of range",
		[SL_SYNC_ERR_LENGTH] = "length does not match the record count",
		[SL_SYNC_ERR_RECORD] = "a record out of range",
	};
	return (unsigned int)e < sizeof(names) / sizeof(names[0]) ? names[e] : "unknown";
}

static uint8_t *
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* A port kept in network byte order in memory goes on the wire as its two bytes. */
static uint8_t *
put_be(uint8_t *p, uint16_t v_be)
{
	memcpy(p, &v_be, 2);
	return p + 2;
}

static uint16_t
get_be(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint8_t *
put_addr(uint8_t *p, const struct sl_ip_addr *a)
{
	memcpy(p, a->bytes, 16);
	return p + 16;
}

int
sl_sync_encode(const struct sl_sync_record *r, unsigned int n, uint8_t *buf, size_t len)
{
	if (n == 0 || n > SL_SYNC_MAX_RECORDS)
		return -EINVAL;
	size_t need = SL_SYNC_HDR_LEN + (size_t)n * SL_SYNC_REC_LEN;
	if (len < need)
		return -ENOSPC;
	uint8_t *p = put32(buf, SL_SYNC_MAGIC);
	*p++ = SL_SYNC_VERSION;
	*p++ = 0;
	sl_store_be16(p, n);
	p += 2;
	for (unsigned int i = 0; i < n; i++, r++) {
		p = put_addr(p, &r->key.src);
		p = put_addr(p, &r->key.dst);
		p = put_be(p, r->key.sport_be);
		p = put_be(p, r->key.dport_be);
		*p++ = r->key.proto;
		*p++ = r->state;
		*p++ = r->frontend_proto;
		*p++ = 0;
		p = put_addr(p, &r->frontend);
		p = put_be(p, r->frontend_port_be);
		p = put_be(p, r->backend_port_be);
		p = put_addr(p, &r->backend);
		p = put32(p, r->lifetime_ms);
	}
	return (int)need;
}

static int
l4_ok(uint8_t proto, int all_ok)
{
	return proto == SL_PROTO_TCP || proto == SL_PROTO_UDP || (all_ok && proto == SL_PROTO_ALL);
}

enum sl_sync_error
sl_sync_decode(const uint8_t *buf, size_t len, struct sl_sync_record *out, unsigned int *n)
{
	*n = 0;
	if (len < SL_SYNC_HDR_LEN)
		return SL_SYNC_ERR_SHORT;
	if (get32(buf) != SL_SYNC_MAGIC)
		return SL_SYNC_ERR_MAGIC;
	if (buf[4] != SL_SYNC_VERSION)
		return SL_SYNC_ERR_VERSION;
	unsigned int count = sl_load_be16(buf + 6);
	if (count == 0 || count > SL_SYNC_MAX_RECORDS)
		return SL_SYNC_ERR_COUNT;
	if (len != SL_SYNC_HDR_LEN + (size_t)count * SL_SYNC_REC_LEN)
		return SL_SYNC_ERR_LENGTH;
	const uint8_t *p = buf + SL_SYNC_HDR_LEN;
	for (unsigned int i = 0; i < count; i++) {
		struct sl_sync_record *r = &out[i];
		memset(r, 0, sizeof(*r));
		memcpy(r->key.src.bytes, p, 16);
		memcpy(r->key.dst.bytes, p + 16, 16);
		r->key.sport_be = get_be(p + 32);
		r->key.dport_be = get_be(p + 34);
		r->key.proto = p[36];
		r->state = p[37];
		r->frontend_proto = p[38];
		memcpy(r->frontend.bytes, p + 40, 16);
		r->frontend_port_be = get_be(p + 56);
		r->backend_port_be = get_be(p + 58);
		memcpy(r->backend.bytes, p + 60, 16);
		r->lifetime_ms = get32(p + 76);
		p += SL_SYNC_REC_LEN;
		if (!l4_ok(r->frontend_proto, 1) || (r->key.proto != 0 && !l4_ok(r->key.proto, 0)) ||
		    r->state > SL_FLOW_RESET || r->lifetime_ms == 0 ||
		    r->lifetime_ms > SL_SYNC_MAX_LIFETIME_MS)
			return SL_SYNC_ERR_RECORD;
	}
	*n = count;
	return SL_SYNC_OK;
}
