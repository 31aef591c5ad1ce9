/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_compile_cache.c: unchanged pools keep their Maglev table across
 * compilations (shared by reference), changed pools get a new one, and
 * tables are freed once neither a snapshot nor the cache holds them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_compile.h"
#include "sl_config.h"

static struct sl_port_info port;

static struct sl_model *
load(const char *text)
{
	struct sl_error err;
	struct sl_model *m = sl_config_parse(text, strlen(text), "test", &err);
	if (m == NULL)
		fail_msg("%s: %s", err.code, err.message);
	return m;
}

#define VNET "{\"name\":\"v\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.0.0.0/8\"]}}}"
#define ADDR(n, ip) "{\"name\":\"" n "\",\"properties\":{\"ipAddress\":\"" ip "\",\"virtualNetwork\":{\"id\":\"v\"}}}"
#define DOC(pool_a, pool_b)                                                                     \
	"{\"virtualNetworks\":[" VNET "],\"loadBalancers\":[{\"name\":\"lb\",\"sku\":{\"name\":"  \
	"\"Standard\"},\"properties\":{\"frontendIPConfigurations\":[{\"name\":\"fe\","            \
	"\"properties\":{\"privateIPAddress\":\"10.9.9.9\"}}],\"backendAddressPools\":["          \
	"{\"name\":\"a\",\"properties\":{\"loadBalancerBackendAddresses\":[" pool_a "]}},"          \
	"{\"name\":\"b\",\"properties\":{\"loadBalancerBackendAddresses\":[" pool_b "]}}]}}]}"

static void
test_unchanged_pool_shares_its_table(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(64), *bids = sl_id_registry_create(64);
	struct sl_table_cache *c = sl_table_cache_create();
	struct sl_error err;
	uint64_t hits, builds;

	(void)state;
	struct sl_model *m1 = load(DOC(ADDR("x", "10.0.0.1") "," ADDR("y", "10.0.0.2"), ADDR("z", "10.0.1.1")));
	struct sl_model *m2 = load(DOC(ADDR("x", "10.0.0.1") "," ADDR("y", "10.0.0.2"), ADDR("z", "10.0.1.2")));
	struct sl_snapshot *s1 = sl_compile_cached(m1, &port, 1, rids, bids, c, NULL, 1, &err);
	struct sl_snapshot *s2 = sl_compile_cached(m2, &port, 1, rids, bids, c, NULL, 2, &err);
	assert_non_null(s1);
	assert_non_null(s2);
	/* pool a is the same: one table, held by s1, s2 and the cache */
	assert_ptr_equal(s1->pools[0].shared, s2->pools[0].shared);
	assert_int_equal(s1->pools[0].shared->refs, 3);
	/* pool b changed: its own table, equal to a fresh build */
	assert_ptr_not_equal(s1->pools[1].shared, s2->pools[1].shared);
	struct sl_snapshot *fresh = sl_compile(m2, &port, 1, rids, bids, 3, &err);
	assert_memory_equal(fresh->pools[1].table, s2->pools[1].table,
			    s2->pools[1].table_size * sizeof(uint16_t));
	assert_memory_equal(fresh->pools[0].table, s2->pools[0].table,
			    s2->pools[0].table_size * sizeof(uint16_t));
	assert_ptr_not_equal(fresh->pools[0].shared, s2->pools[0].shared); /* no cache: its own */
	sl_table_cache_stats(c, &hits, &builds);
	assert_int_equal(hits, 1);
	assert_int_equal(builds, 3);

	/* s1's own pool-b table is no longer cached: freeing s1 frees it (ASan checks) */
	assert_int_equal(s1->pools[1].shared->refs, 1);
	sl_snapshot_free(s1);
	assert_int_equal(s2->pools[0].shared->refs, 2);
	sl_snapshot_free(fresh);
	sl_table_cache_free(c);
	assert_int_equal(s2->pools[0].shared->refs, 1);
	sl_snapshot_free(s2);
	sl_model_free(m1);
	sl_model_free(m2);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unchanged_pool_shares_its_table),
	};
	memset(&port, 0, sizeof(port));
	port.mac.bytes[0] = 2;
	port.mtu = 1500;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
