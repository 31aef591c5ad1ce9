/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_compile_cache.c: unchanged pools keep their Maglev table across
 * compilations (shared by reference), changed pools get a new one, and
 * tables are freed once neither a snapshot nor the cache holds them. A
 * pool with a member probed down also keeps the table built with probe
 * health ignored (what a host that probes every member up uses), shared
 * through the same cache; no other pool has one.
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

#define ADMIN(n, ip, st)                                                                    \
	"{\"name\":\"" n "\",\"properties\":{\"ipAddress\":\"" ip "\",\"adminState\":\"" st   \
	"\",\"virtualNetwork\":{\"id\":\"v\"}}}"

/* The probes: every address named in ctx (a NULL-terminated list) is down. */
static int
probed_down(void *ctx, const char *lb, const char *pool, const char *address)
{
	(void)lb;
	(void)pool;
	for (const char *const *n = ctx; *n != NULL; n++)
		if (strcmp(*n, address) == 0)
			return 1;
	return 0;
}

static void
assert_same_table(const struct sl_pool *a, const uint16_t *b)
{
	assert_non_null(b);
	assert_memory_equal(a->table, b, a->table_size * sizeof(uint16_t));
}

static void
test_probed_down_keeps_unprobed_table(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(64), *bids = sl_id_registry_create(64);
	struct sl_table_cache *c = sl_table_cache_create();
	const char *none[] = {NULL}, *y_down[] = {"y", NULL};
	struct sl_health_hook up = {probed_down, none}, y = {probed_down, y_down};
	struct sl_error err;
	uint64_t hits, builds;

	(void)state;
	struct sl_model *m = load(DOC(ADDR("x", "10.0.0.1") "," ADDR("y", "10.0.0.2") ","
				      ADDR("w", "10.0.0.3"), ADDR("z", "10.0.1.1")));
	/* everything up: no second table anywhere */
	struct sl_snapshot *s_up = sl_compile_cached(m, &port, 1, rids, bids, c, &up, 1, &err);
	assert_non_null(s_up);
	for (uint32_t p = 0; p < s_up->n_pools; p++) {
		assert_null(s_up->pools[p].unprobed_table);
		assert_null(s_up->pools[p].unprobed);
	}
	/* y probed down: pool a's table leaves y out, its unprobed table is the all-up one */
	struct sl_snapshot *s_y = sl_compile_cached(m, &port, 1, rids, bids, c, &y, 2, &err);
	assert_non_null(s_y);
	const struct sl_pool *a = &s_y->pools[0];
	assert_same_table(&s_up->pools[0], a->unprobed_table);
	/* shared through the cache: the all-up table object itself, not a rebuild */
	assert_ptr_equal(a->unprobed, s_up->pools[0].shared);
	sl_table_cache_stats(c, &hits, &builds);
	assert_int_equal(builds, 3); /* a all up, b, a without y */
	/* y (member 1) keeps no slot; every slot that was y's is another member's now */
	uint32_t y_slots = 0;
	for (uint32_t i = 0; i < a->table_size; i++) {
		assert_int_not_equal(a->table[i], 1);
		y_slots += a->unprobed_table[i] == 1;
	}
	assert_true(y_slots > a->table_size / 4);
	/* pool b has nothing down */
	assert_null(s_y->pools[1].unprobed_table);
	sl_snapshot_free(s_up);
	sl_snapshot_free(s_y);
	sl_table_cache_free(c);
	sl_model_free(m);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

static void
test_admin_down_is_not_a_probe_disagreement(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(64), *bids = sl_id_registry_create(64);
	const char *y_down[] = {"y", NULL}, *x_down[] = {"x", NULL};
	struct sl_health_hook y = {probed_down, y_down}, x = {probed_down, x_down};
	struct sl_error err;

	(void)state;
	/* x is adminState Down: configuration, the same on every host */
	struct sl_model *m = load(DOC(ADMIN("x", "10.0.0.1", "Down") "," ADDR("y", "10.0.0.2") ","
				      ADDR("w", "10.0.0.3"), ADDR("z", "10.0.1.1")));
	struct sl_model *m_yx = load(DOC(ADMIN("x", "10.0.0.1", "Down") "," ADMIN("y", "10.0.0.2", "Down") ","
					 ADDR("w", "10.0.0.3"), ADDR("z", "10.0.1.1")));
	/* a probe of an admin Down member changes nothing */
	struct sl_snapshot *s_x = sl_compile_cached(m, &port, 1, rids, bids, NULL, &x, 1, &err);
	assert_non_null(s_x);
	assert_null(s_x->pools[0].unprobed_table);
	/* y probed down beside admin Down x: the unprobed table still leaves x out */
	struct sl_snapshot *s_y = sl_compile_cached(m, &port, 1, rids, bids, NULL, &y, 2, &err);
	assert_non_null(s_y);
	assert_same_table(&s_x->pools[0], s_y->pools[0].unprobed_table);
	/* and the table proper is the one with both out */
	struct sl_snapshot *s_yx = sl_compile_cached(m_yx, &port, 1, rids, bids, NULL, NULL, 3, &err);
	assert_non_null(s_yx);
	assert_same_table(&s_yx->pools[0], s_y->pools[0].table);
	/* with no cache each table is the pool's own reference, freed with it (ASan checks) */
	assert_int_equal(s_y->pools[0].unprobed->refs, 1);
	sl_snapshot_free(s_x);
	sl_snapshot_free(s_y);
	sl_snapshot_free(s_yx);
	sl_model_free(m);
	sl_model_free(m_yx);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unchanged_pool_shares_its_table),
		cmocka_unit_test(test_probed_down_keeps_unprobed_table),
		cmocka_unit_test(test_admin_down_is_not_a_probe_disagreement),
	};
	memset(&port, 0, sizeof(port));
	port.mac.bytes[0] = 2;
	port.mtu = 1500;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
