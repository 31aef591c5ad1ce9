/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_prefix.c: unit tests of address prefixes (sl_prefix): parsing with
 * its distinct errors, host bits, containment across the two families,
 * nesting, the last address of a prefix and prefixes built from a port's
 * address and length.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sl_prefix.h"
#include "sl_test_util.h"

static struct sl_prefix
prefix(const char *text)
{
	struct sl_prefix p;

	assert_int_equal(sl_prefix_parse(text, &p), 0);
	return p;
}

static void
test_parse(void **state)
{
	struct sl_prefix p;
	char buf[64];

	(void)state;
	p = prefix("10.1.0.0/16");
	assert_true(sl_prefix_is_v4(&p));
	assert_int_equal(p.len, 96 + 16);
	assert_int_equal(sl_prefix_family_len(&p), 16);
	assert_string_equal(sl_ip_addr_format(&p.addr, buf, sizeof(buf)), "10.1.0.0");
	p = prefix("fd00::/48");
	assert_false(sl_prefix_is_v4(&p));
	assert_int_equal(sl_prefix_family_len(&p), 48);
	p = prefix("0.0.0.0/0");
	assert_true(sl_prefix_is_v4(&p));
	assert_int_equal(sl_prefix_family_len(&p), 0);
	p = prefix("10.0.0.1/32");
	assert_int_equal(p.len, 128);
	p = prefix("::/0");
	assert_int_equal(p.len, 0);
}

static void
test_parse_errors(void **state)
{
	struct sl_prefix p;
	char buf[64];

	(void)state;
	assert_int_equal(sl_prefix_parse("10.0.0.0", &p), -EINVAL);
	assert_int_equal(sl_prefix_parse("10.0.0/8", &p), -EINVAL);
	assert_int_equal(sl_prefix_parse("/8", &p), -EINVAL);
	assert_int_equal(sl_prefix_parse("::ffff:10.0.0.0/104", &p), -EINVAL);
	assert_int_equal(sl_prefix_parse("10.0.0.0/", &p), -EDOM);
	assert_int_equal(sl_prefix_parse("10.0.0.0/33", &p), -EDOM);
	assert_int_equal(sl_prefix_parse("10.0.0.0/1x", &p), -EDOM);
	assert_int_equal(sl_prefix_parse("10.0.0.0/0016", &p), -EDOM);
	assert_int_equal(sl_prefix_parse("fd00::/129", &p), -EDOM);
	assert_int_equal(sl_prefix_parse("10.0.0.0/-1", &p), -EDOM);
	/* host bits: the network address comes back */
	assert_int_equal(sl_prefix_parse("10.1.2.3/16", &p), -ERANGE);
	assert_string_equal(sl_ip_addr_format(&p.addr, buf, sizeof(buf)), "10.1.0.0");
	assert_int_equal(sl_prefix_family_len(&p), 16);
	assert_int_equal(sl_prefix_parse("fd00::1/64", &p), -ERANGE);
	assert_string_equal(sl_ip_addr_format(&p.addr, buf, sizeof(buf)), "fd00::");
}

static void
test_parse_host(void **state)
{
	struct sl_prefix p;
	char buf[64];

	(void)state;
	assert_int_equal(sl_prefix_parse_host("10.0.2.2/24", &p), 0);
	assert_string_equal(sl_ip_addr_format(&p.addr, buf, sizeof(buf)), "10.0.2.2");
	assert_int_equal(sl_prefix_family_len(&p), 24);
	/* the address is kept when only the length is wrong */
	assert_int_equal(sl_prefix_parse_host("10.0.2.2/40", &p), -EDOM);
	assert_string_equal(sl_ip_addr_format(&p.addr, buf, sizeof(buf)), "10.0.2.2");
	assert_int_equal(sl_prefix_parse_host("10.0.2/24", &p), -EINVAL);
}

static void
test_contains(void **state)
{
	struct sl_prefix v4 = prefix("10.1.0.0/16"), v6 = prefix("fd00:1::/32");
	struct sl_prefix all4 = prefix("0.0.0.0/0"), all6 = prefix("::/0");
	struct sl_prefix odd = prefix("10.1.128.0/17");
	struct sl_ip_addr a;

	(void)state;
	a = sl_test_ip("10.1.255.255");
	assert_true(sl_prefix_contains(&v4, &a));
	assert_true(sl_prefix_contains(&all4, &a));
	assert_false(sl_prefix_contains(&all6, &a)); /* ::/0 holds no IPv4 address */
	assert_true(sl_prefix_contains(&odd, &a));
	a = sl_test_ip("10.1.127.255");
	assert_false(sl_prefix_contains(&odd, &a));
	a = sl_test_ip("10.2.0.0");
	assert_false(sl_prefix_contains(&v4, &a));
	a = sl_test_ip("fd00:1:ffff::1");
	assert_true(sl_prefix_contains(&v6, &a));
	assert_true(sl_prefix_contains(&all6, &a));
	assert_false(sl_prefix_contains(&all4, &a));
	a = sl_test_ip("fd00:2::1");
	assert_false(sl_prefix_contains(&v6, &a));
}

static void
test_within(void **state)
{
	struct sl_prefix outer = prefix("10.1.0.0/16"), inner = prefix("10.1.2.0/24");
	struct sl_prefix other = prefix("10.2.0.0/24"), wider = prefix("10.0.0.0/8");
	struct sl_prefix v6 = prefix("fd00::/8");

	(void)state;
	assert_true(sl_prefix_within(&inner, &outer));
	assert_true(sl_prefix_within(&outer, &outer));
	assert_false(sl_prefix_within(&outer, &inner));
	assert_false(sl_prefix_within(&other, &outer));
	assert_false(sl_prefix_within(&wider, &outer));
	assert_false(sl_prefix_within(&inner, &v6));
}

static void
test_last_and_from(void **state)
{
	struct sl_prefix p = prefix("10.1.2.0/24"), q;
	struct sl_ip_addr a;

	(void)state;
	a = sl_test_ip("10.1.2.255");
	assert_true(sl_prefix_is_last(&p, &a));
	a = sl_test_ip("10.1.2.254");
	assert_false(sl_prefix_is_last(&p, &a));

	a = sl_test_ip("192.0.2.10");
	sl_prefix_from(&q, &a, 24);
	assert_true(sl_prefix_is_v4(&q));
	assert_int_equal(sl_prefix_family_len(&q), 24);
	a = sl_test_ip("192.0.2.200");
	assert_true(sl_prefix_contains(&q, &a));
	a = sl_test_ip("192.0.3.1");
	assert_false(sl_prefix_contains(&q, &a));
	sl_prefix_clear_host_bits(&q);
	assert_true(sl_ip_addr_eq(&q.addr, &(struct sl_ip_addr){{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
								  0xff, 192, 0, 2, 0}}));
	a = sl_test_ip("fd00::5");
	sl_prefix_from(&q, &a, 64);
	assert_int_equal(q.len, 64);
	a = sl_test_ip("fd00::ffff");
	assert_true(sl_prefix_contains(&q, &a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_host),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_within),
		cmocka_unit_test(test_last_and_from),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
