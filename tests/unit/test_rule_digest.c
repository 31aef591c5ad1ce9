/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_rule_digest.c: sl_snapshot_rule_digest() -- equal for the same
 * configuration however the snapshot's ids were handed out (two hosts),
 * different once a rule's choice of backend can differ, and untouched by
 * another rule's change.
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
#include "sl_test_config.h"

#define FE1_ID LB_ID "lb1/frontendIPConfigurations/fe1"
#define POOL_ID(p) LB_ID "lb1/backendAddressPools/" p
#define R1 RULE("r1", FE1_ID, POOL_ID("pool1"), TCP80)
#define R2 RULE("r2", FE1_ID, POOL_ID("pool1"), "'protocol':'Tcp','frontendPort':443")
#define POOLS_OF(a2) POOLS(POOL("pool1", ADDR("a1", "10.0.0.4", "vnet1") "," a2) "," POOL6)
#define DOC_OF(a2, rules) STD(FES_STD "," POOLS_OF(a2) "," RULES(rules))

static struct sl_port_info port;

/* The digest of rule `name` in doc compiled with the registries given. */
static uint32_t
digest(const char *doc, const char *name, struct sl_id_registry *rids, struct sl_id_registry *bids)
{
	struct sl_model *m = sl_test_parse_ok(doc);
	struct sl_error err;
	struct sl_snapshot *s = sl_compile(m, &port, 1, rids, bids, 1, &err);
	uint32_t i, d = 0;
	bool found = false;

	if (s == NULL)
		fail_msg("%s: %s", err.code, err.message);
	for (i = 0; i < s->n_rules; i++) {
		if (strcmp(s->rules[i].name, name) == 0) {
			d = sl_snapshot_rule_digest(s, i);
			found = true;
		}
	}
	assert_true(found);
	sl_snapshot_free(s);
	sl_model_free(m);
	return d;
}

static void
test_digest(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	struct sl_id_registry *rids2 = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids2 = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	uint32_t base, other;

	(void)state;
	base = digest(DOC_OF(ADDR("a2", "10.0.0.5", "vnet1"), R1), "lb1/r1", rids, bids);
	/* another host: its ids handed out to other backends and rules first */
	(void)digest(DOC_OF(ADDR("a2", "10.0.0.9", "vnet1"), R2 "," R1), "lb1/r2", rids2, bids2);
	assert_int_equal(digest(DOC_OF(ADDR("a2", "10.0.0.5", "vnet1"), R1), "lb1/r1", rids2, bids2),
			 base);
	/* another rule added: r1's choice is the same */
	assert_int_equal(digest(DOC_OF(ADDR("a2", "10.0.0.5", "vnet1"), R1 "," R2), "lb1/r1", rids, bids),
			 base);
	/* a member's address changed: some flows choose another backend */
	other = digest(DOC_OF(ADDR("a2", "10.0.0.6", "vnet1"), R1), "lb1/r1", rids, bids);
	assert_int_not_equal(other, base);
	/* a member's weight changed: the table changed */
	assert_int_not_equal(digest(DOC_OF("{'name':'a2','properties':{'virtualNetwork':{'id':'" VNET_ID
					   "vnet1'},'ipAddress':'10.0.0.5','weight':5}}", R1),
				    "lb1/r1", rids, bids),
			     base);
	/* the same pool behind another frontend port: another rule, another digest */
	assert_int_not_equal(digest(DOC_OF(ADDR("a2", "10.0.0.5", "vnet1"), R1 "," R2), "lb1/r2", rids, bids), base);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
	sl_id_registry_free(rids2);
	sl_id_registry_free(bids2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
