/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_sync_msg.c: the flow sync datagram (sl_sync_msg.h): records survive
 * encode + decode field by field (IPv4 and IPv6, ports in network order),
 * the bytes on the wire are the documented layout, and every malformed
 * datagram (short, bad magic, other version, count 0 or too large,
 * truncated or with trailing bytes, a record out of range) is refused as a
 * whole with its reason.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sl_sync_msg.h"

static struct sl_ip_addr
addr(const char *s)
{
	struct sl_ip_addr a;
	assert_int_equal(sl_ip_addr_parse(s, &a, NULL), 0);
	return a;
}

static struct sl_sync_record
record(int v6, uint16_t sport)
{
	struct sl_sync_record r;
	memset(&r, 0, sizeof(r));
	r.key.src = addr(v6 ? "fd88:1::2" : "10.88.1.2");
	r.key.dst = addr(v6 ? "fd77::10" : "10.77.100.10");
	r.key.sport_be = htons(sport);
	r.key.dport_be = htons(80);
	r.key.proto = SL_PROTO_TCP;
	r.state = SL_FLOW_ESTABLISHED;
	r.frontend = r.key.dst;
	r.frontend_port_be = htons(80);
	r.frontend_proto = SL_PROTO_TCP;
	r.backend = addr(v6 ? "fd88:2::11" : "10.88.2.11");
	r.backend_port_be = htons(8080);
	r.lifetime_ms = 240000;
	return r;
}

static void
test_roundtrip(void **state)
{
	(void)state;
	struct sl_sync_record in[SL_SYNC_MAX_RECORDS], out[SL_SYNC_MAX_RECORDS];
	uint8_t buf[SL_SYNC_MAX_DATAGRAM];
	unsigned int n = 99;

	for (unsigned int i = 0; i < SL_SYNC_MAX_RECORDS; i++)
		in[i] = record(i & 1, (uint16_t)(40000 + i));
	in[3].key.proto = 0; /* SourceIP distribution: no protocol in the key */
	in[3].key.sport_be = in[3].key.dport_be = 0;
	in[3].frontend_proto = SL_PROTO_ALL;
	in[3].frontend_port_be = 0;
	in[5].key.proto = SL_PROTO_UDP;
	in[5].state = SL_FLOW_NEW;
	int len = sl_sync_encode(in, SL_SYNC_MAX_RECORDS, buf, sizeof(buf));
	assert_int_equal(len, SL_SYNC_HDR_LEN + SL_SYNC_MAX_RECORDS * SL_SYNC_REC_LEN);
	assert_true(len <= SL_SYNC_MAX_DATAGRAM);
	assert_int_equal(sl_sync_decode(buf, (size_t)len, out, &n), SL_SYNC_OK);
	assert_int_equal(n, SL_SYNC_MAX_RECORDS);
	for (unsigned int i = 0; i < n; i++)
		assert_memory_equal(&in[i], &out[i], sizeof(in[i]));
}

static void
test_wire_layout(void **state)
{
	(void)state;
	struct sl_sync_record r = record(0, 0x1234);
	uint8_t buf[SL_SYNC_MAX_DATAGRAM];

	/* every field its own value, so that no two can be swapped unseen */
	r.frontend = addr("10.77.100.99");
	r.frontend_port_be = htons(0x0443);
	r.frontend_proto = SL_PROTO_UDP;
	r.key.dport_be = htons(0x0050);
	assert_int_equal(sl_sync_encode(&r, 1, buf, sizeof(buf)), SL_SYNC_HDR_LEN + SL_SYNC_REC_LEN);
	static const uint8_t hdr[] = {'S', 'L', 'F', 'S', SL_SYNC_VERSION, 0, 0, 1};
	assert_memory_equal(buf, hdr, sizeof(hdr));

	uint8_t want[SL_SYNC_REC_LEN] = {0};
	memcpy(want + 0, r.key.src.bytes, 16);          /* flow key: source */
	memcpy(want + 16, r.key.dst.bytes, 16);         /* destination */
	want[32] = 0x12, want[33] = 0x34;               /* source port */
	want[34] = 0x00, want[35] = 0x50;               /* destination port */
	want[36] = SL_PROTO_TCP;                        /* key's protocol */
	want[37] = SL_FLOW_ESTABLISHED;                 /* state */
	want[38] = SL_PROTO_UDP;                        /* frontend's protocol; 39: zero */
	memcpy(want + 40, r.frontend.bytes, 16);        /* frontend address */
	want[56] = 0x04, want[57] = 0x43;               /* frontend port */
	want[58] = 8080 >> 8, want[59] = 8080 & 0xff;   /* backend port */
	memcpy(want + 60, r.backend.bytes, 16);         /* backend address */
	want[76] = 0x00, want[77] = 0x03, want[78] = 0xa9, want[79] = 0x80; /* 240000 ms */
	assert_memory_equal(buf + SL_SYNC_HDR_LEN, want, SL_SYNC_REC_LEN);
}

static void
test_encode_limits(void **state)
{
	(void)state;
	struct sl_sync_record r[SL_SYNC_MAX_RECORDS + 1];
	uint8_t buf[SL_SYNC_MAX_DATAGRAM + 200];

	memset(r, 0, sizeof(r));
	assert_int_equal(sl_sync_encode(r, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sl_sync_encode(r, SL_SYNC_MAX_RECORDS + 1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sl_sync_encode(r, 2, buf, SL_SYNC_HDR_LEN + SL_SYNC_REC_LEN), -ENOSPC);
}

/* Encode two good records, let mutate spoil the datagram, expect want and nothing decoded. */
static void
expect_refused(void (*mutate)(uint8_t *buf, size_t *len), enum sl_sync_error want)
{
	struct sl_sync_record in[2] = {record(0, 1000), record(1, 1001)};
	struct sl_sync_record out[SL_SYNC_MAX_RECORDS];
	uint8_t buf[SL_SYNC_MAX_DATAGRAM + 200];
	unsigned int n = 77;
	int len = sl_sync_encode(in, 2, buf, sizeof(buf));
	size_t l = (size_t)len;

	assert_true(len > 0);
	mutate(buf, &l);
	assert_int_equal(sl_sync_decode(buf, l, out, &n), want);
	assert_int_equal(n, 0);
	assert_string_not_equal(sl_sync_error_name(want), "unknown");
}

static void short_hdr(uint8_t *b, size_t *l) { (void)b; *l = SL_SYNC_HDR_LEN - 1; }
static void bad_magic(uint8_t *b, size_t *l) { (void)l; b[0] = 'X'; }
static void bad_version(uint8_t *b, size_t *l) { (void)l; b[4] = SL_SYNC_VERSION + 1; }
static void count_zero(uint8_t *b, size_t *l) { (void)l; b[6] = b[7] = 0; }
static void count_big(uint8_t *b, size_t *l)
{
	b[6] = 0;
	b[7] = SL_SYNC_MAX_RECORDS + 1;
	*l = SL_SYNC_HDR_LEN + (SL_SYNC_MAX_RECORDS + 1) * SL_SYNC_REC_LEN;
}
static void truncated(uint8_t *b, size_t *l) { (void)b; *l -= 1; }
static void trailing(uint8_t *b, size_t *l) { b[*l] = 0; *l += 1; }
static void count_says_more(uint8_t *b, size_t *l) { (void)l; b[7] = 3; }
static void bad_proto(uint8_t *b, size_t *l) { (void)l; b[SL_SYNC_HDR_LEN + SL_SYNC_REC_LEN + 36] = 1; }
static void bad_state(uint8_t *b, size_t *l) { (void)l; b[SL_SYNC_HDR_LEN + 37] = 9; }
static void bad_fe_proto(uint8_t *b, size_t *l) { (void)l; b[SL_SYNC_HDR_LEN + 38] = 47; }
static void zero_life(uint8_t *b, size_t *l) { (void)l; memset(b + SL_SYNC_HDR_LEN + 76, 0, 4); }
static void long_life(uint8_t *b, size_t *l) { (void)l; memset(b + SL_SYNC_HDR_LEN + 76, 0xff, 4); }

static void
test_refused(void **state)
{
	(void)state;
	expect_refused(short_hdr, SL_SYNC_ERR_SHORT);
	expect_refused(bad_magic, SL_SYNC_ERR_MAGIC);
	expect_refused(bad_version, SL_SYNC_ERR_VERSION);
	expect_refused(count_zero, SL_SYNC_ERR_COUNT);
	expect_refused(count_big, SL_SYNC_ERR_COUNT);
	expect_refused(truncated, SL_SYNC_ERR_LENGTH);
	expect_refused(trailing, SL_SYNC_ERR_LENGTH);
	expect_refused(count_says_more, SL_SYNC_ERR_LENGTH);
	expect_refused(bad_proto, SL_SYNC_ERR_RECORD);
	expect_refused(bad_state, SL_SYNC_ERR_RECORD);
	expect_refused(bad_fe_proto, SL_SYNC_ERR_RECORD);
	expect_refused(zero_life, SL_SYNC_ERR_RECORD);
	expect_refused(long_life, SL_SYNC_ERR_RECORD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_wire_layout),
		cmocka_unit_test(test_encode_limits),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
