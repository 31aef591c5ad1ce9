/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_frontend_stats.c: the frontends of a compiled snapshot, and their
 * counters (dataplane/core/sl_frontend_stats.h): the sums of their rules'
 * counters, which keep growing when rules are deleted, added, or moved to
 * another frontend, and start at 0 for a frontend that is new. The lcores'
 * counters are a table of the test's own, by rule counter id.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_frontend_stats.h"
#include "sl_id_registry.h"
#include "sl_test_config.h"

/* lb1: fe1 (192.0.2.1) and fe6 (2001:db8::1); lb2: fe (192.0.2.2) with an inbound NAT rule. */
#define FE1 FE("fe1", "192.0.2.1")
#define FE6 FE("fe6", "2001:db8::1")
#define R1 RULE("r1", "fe1", "pool1", TCP80)
/* r2 on fe1 (pool1), or on fe6 (pool6: a DNAT rule's backends are of its frontend's family) */
#define R2_ON(fe, pool) RULE("r2", fe, pool, "'protocol':'Udp','frontendPort':53")
#define R6 RULE("r6", "fe6", "pool6", TCP80)
#define LB1(fes, rules) LBX("Standard", FRONTENDS(fes) "," POOLS(POOL1 "," POOL6) "," RULES(rules))
#define LB2                                                                                 \
	"{'name':'lb2','sku':{'name':'Standard'},'properties':{"                                \
	FRONTENDS(FE("fe", "192.0.2.2")) "," POOLS(POOL("p", ADDR("a", "10.0.0.9", "vnet1"))) "," \
	RULES(RULE("r", "fe", "p", TCP80)) "," NATS(NAT("ssh", "fe", NAT_TCP)) "}}"

/* The lcores' counters, summed: by rule counter id. */
static struct sl_frontend_counts rule_count[SL_MAX_RULE_COUNTERS];
static struct sl_id_registry *rids, *bids;

static void
counts_of(void *ctx, uint32_t rule_id, struct sl_frontend_counts *out)
{
	assert_ptr_equal(ctx, rule_count);
	assert_true(rule_id < SL_MAX_RULE_COUNTERS);
	*out = rule_count[rule_id];
}

static struct sl_snapshot *
compile(const char *doc)
{
	struct sl_model *m = sl_test_parse_ok(doc);
	struct sl_error err;
	struct sl_snapshot *s = sl_compile(m, sl_test_ports, 1, rids, bids, 1, &err);

	if (s == NULL) {
		char buf[1024];
		fail_msg("%s", sl_error_format(&err, buf, sizeof(buf)));
	}
	sl_model_free(m);
	return s;
}

/* The frontend named name in s: its index. */
static uint32_t
frontend(const struct sl_snapshot *s, const char *name)
{
	for (uint32_t f = 0; f < s->n_frontends; f++)
		if (strcmp(s->frontends[f].name, name) == 0)
			return f;
	fail_msg("no frontend %s", name);
	return UINT32_MAX;
}

/* Count packets (and as many bytes times 100, new flows, no_backend drops) for rule name. */
static void
traffic(const struct sl_snapshot *s, const char *rule, uint64_t packets)
{
	struct sl_frontend_counts *c = &rule_count[sl_test_rule(s, rule)->counter_id];

	c->packets += packets;
	c->bytes += packets * 100;
	c->new_flows += packets;
	c->drops[SL_FE_DROP_NO_BACKEND] += 1;
	c->drops[SL_FE_DROP_OTHER] += 2;
}

/* Frontend name's counters in s: packets as given, the rest as traffic() makes them. */
static void
assert_frontend(const struct sl_snapshot *s, const char *name, uint64_t packets, uint64_t calls)
{
	struct sl_frontend_counts *all = calloc(s->n_frontends, sizeof(*all));
	const struct sl_frontend_counts *c;

	assert_non_null(all);
	sl_frontend_counts_read(s, counts_of, rule_count, all);
	c = &all[frontend(s, name)];
	assert_int_equal(c->packets, packets);
	assert_int_equal(c->bytes, packets * 100);
	assert_int_equal(c->new_flows, packets);
	assert_int_equal(c->drops[SL_FE_DROP_NO_BACKEND], calls);
	assert_int_equal(c->drops[SL_FE_DROP_OTHER], 2 * calls);
	for (int k = SL_FE_DROP_NO_NEIGHBOUR; k < SL_FE_DROP_OTHER; k++)
		assert_int_equal(c->drops[k], 0);
	free(all);
}

static int
setup(void **state)
{
	(void)state;
	memset(rule_count, 0, sizeof(rule_count));
	rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	assert_non_null(rids);
	assert_non_null(bids);
	sl_test_make_ports();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
	return 0;
}

/* Every frontend of every load balancer, in model order; each rule names its own. */
static void
test_compiled_frontends(void **state)
{
	struct sl_snapshot *s = compile(
		DOC(VNETS, LB1(FE1 "," FE6, R1 "," R2_ON("fe1", "pool1") "," R6) "," LB2));
	struct sl_ip_addr a;

	(void)state;
	assert_int_equal(s->n_frontends, 3);
	assert_string_equal(s->frontends[0].name, "lb1/fe1");
	assert_string_equal(s->frontends[1].name, "lb1/fe6");
	assert_string_equal(s->frontends[2].name, "lb2/fe");
	a = sl_test_ip("2001:db8::1");
	assert_true(sl_ip_addr_eq(&s->frontends[1].addr, &a));
	assert_int_equal(s->frontends[1].family, SL_AF_IPV6);
	a = sl_test_ip("192.0.2.2");
	assert_true(sl_ip_addr_eq(&s->frontends[2].addr, &a));
	assert_int_equal(s->frontends[2].family, SL_AF_IPV4);
	assert_int_equal(sl_test_rule(s, "lb1/r1")->frontend_index, 0);
	assert_int_equal(sl_test_rule(s, "lb1/r2")->frontend_index, 0);
	assert_int_equal(sl_test_rule(s, "lb1/r6")->frontend_index, 1);
	assert_int_equal(sl_test_rule(s, "lb2/r")->frontend_index, 2);
	assert_int_equal(sl_test_rule(s, "lb2/ssh")->frontend_index, 2); /* inbound NAT */
	for (int f = 0; f < 3; f++)
		for (int k = 0; k < SL_FE_DROP_MAX; k++)
			assert_int_equal(s->frontends[f].base.drops[k], 0);
	sl_snapshot_free(s);
}

/*
 * A frontend counts its rules' sums; across snapshots it counts on from
 * what it had: a deleted rule's packets stay counted, a rule that moves in
 * brings none of its past, a frontend that goes and comes back starts at 0.
 */
static void
test_counts_carried_across_snapshots(void **state)
{
	struct sl_snapshot *a, *b, *c, *d, *e;

	(void)state;
	a = compile(DOC(VNETS, LB1(FE1 "," FE6, R1 "," R2_ON("fe1", "pool1") "," R6)));
	assert_int_equal(sl_frontend_counts_carry(NULL, a, counts_of, rule_count, NULL), 0);
	assert_frontend(a, "lb1/fe1", 0, 0);
	traffic(a, "lb1/r1", 10);
	traffic(a, "lb1/r2", 5);
	traffic(a, "lb1/r6", 3);
	assert_frontend(a, "lb1/fe1", 15, 2);
	assert_frontend(a, "lb1/fe6", 3, 1);

	/* r2 deleted: fe1 keeps its 5 packets */
	b = compile(DOC(VNETS, LB1(FE1 "," FE6, R1 "," R6)));
	assert_int_equal(sl_frontend_counts_carry(a, b, counts_of, rule_count, NULL), 0);
	assert_frontend(b, "lb1/fe1", 15, 2);
	assert_frontend(b, "lb1/fe6", 3, 1);
	traffic(b, "lb1/r1", 2);
	assert_frontend(b, "lb1/fe1", 17, 3);

	/* r2 back, on fe6: its counter id (and past 5 packets) is r2's, fe6 gets none of them */
	c = compile(DOC(VNETS, LB1(FE1 "," FE6, R1 "," R2_ON("fe6", "pool6") "," R6)));
	assert_int_equal(sl_test_rule(c, "lb1/r2")->counter_id, sl_test_rule(a, "lb1/r2")->counter_id);
	assert_int_equal(sl_frontend_counts_carry(b, c, counts_of, rule_count, NULL), 0);
	assert_frontend(c, "lb1/fe1", 17, 3);
	assert_frontend(c, "lb1/fe6", 3, 1);
	traffic(c, "lb1/r2", 4);
	traffic(c, "lb1/r6", 1);
	assert_frontend(c, "lb1/fe6", 8, 3);
	assert_frontend(c, "lb1/fe1", 17, 3);

	/* frontends are matched by name, not position: fe6 listed first now */
	d = compile(DOC(VNETS, LB1(FE6 "," FE1, R1 "," R2_ON("fe6", "pool6") "," R6)));
	assert_int_equal(frontend(d, "lb1/fe6"), 0);
	assert_int_equal(sl_frontend_counts_carry(c, d, counts_of, rule_count, NULL), 0);
	assert_frontend(d, "lb1/fe6", 8, 3);
	assert_frontend(d, "lb1/fe1", 17, 3);

	/* fe6 and its rules gone, then back: it starts again from 0 */
	e = compile(DOC(VNETS, LB1(FE1, R1)));
	assert_int_equal(sl_frontend_counts_carry(d, e, counts_of, rule_count, NULL), 0);
	assert_int_equal(e->n_frontends, 1);
	assert_frontend(e, "lb1/fe1", 17, 3);
	sl_snapshot_free(a);
	a = compile(DOC(VNETS, LB1(FE1 "," FE6, R1 "," R2_ON("fe6", "pool6") "," R6)));
	assert_int_equal(sl_frontend_counts_carry(e, a, counts_of, rule_count, NULL), 0);
	assert_frontend(a, "lb1/fe6", 0, 0);
	assert_frontend(a, "lb1/fe1", 17, 3);
	traffic(a, "lb1/r6", 6);
	assert_frontend(a, "lb1/fe6", 6, 1);

	sl_snapshot_free(a);
	sl_snapshot_free(b);
	sl_snapshot_free(c);
	sl_snapshot_free(d);
	sl_snapshot_free(e);
}

static uint32_t reads;

static void
counting_counts_of(void *ctx, uint32_t rule_id, struct sl_frontend_counts *out)
{
	reads++;
	counts_of(ctx, rule_id, out);
}

/*
 * A change that leaves every frontend its rules (a pool's members) keeps
 * the bases as they are, without reading the rules' counters; one that
 * moves a rule reads them.
 */
static void
test_unchanged_rules_keep_bases(void **state)
{
	struct sl_snapshot *a, *b, *c;
	uint32_t reads_before;

	(void)state;
	a = compile(DOC(VNETS, LB1(FE1 "," FE6, R1 "," R2_ON("fe1", "pool1") "," R6)));
	traffic(a, "lb1/r2", 5);
	/* r2 leaves fe1: fe1's base holds its 5 packets */
	b = compile(DOC(VNETS, LB1(FE1 "," FE6, R1 "," R6)));
	assert_int_equal(sl_frontend_counts_carry(a, b, counting_counts_of, rule_count, NULL), 0);
	assert_frontend(b, "lb1/fe1", 5, 1);
	/* pool1 gets another member: the same rules, the same bases, no counter read */
	c = compile(DOC(VNETS, LBX("Standard", FRONTENDS(FE1 "," FE6) ","
				   POOLS(POOL("pool1", ADDR("a1", "10.0.0.4", "vnet1") ","
						       ADDR("a3", "10.0.0.6", "vnet1")) ","
					 POOL6) "," RULES(R1 "," R6))));
	traffic(b, "lb1/r1", 4);
	reads_before = reads;
	assert_int_equal(sl_frontend_counts_carry(b, c, counting_counts_of, rule_count, NULL), 0);
	assert_int_equal(reads, reads_before);
	assert_frontend(c, "lb1/fe1", 9, 2);
	assert_memory_equal(&c->frontends[0].base, &b->frontends[0].base, sizeof(b->frontends[0].base));
	sl_snapshot_free(a);
	sl_snapshot_free(b);
	sl_snapshot_free(c);
}

/*
 * A rule deleted under traffic: the workers count on it until they leave
 * the old snapshot (the publication's grace period), after the bases were
 * set. Settling adds those counts to its frontend (without it fe1 would
 * lose them: a churn of rules under full-rate traffic lost 108 no_backend
 * drops of 4,002,540 from the frontends' counters).
 */
static void
test_deleted_rule_counts_until_the_grace_period_ends(void **state)
{
	struct sl_snapshot *a, *b, *c;
	struct sl_frontend_deleted del;

	(void)state;
	a = compile(DOC(VNETS, LB1(FE1 "," FE6, R1 "," R2_ON("fe1", "pool1") "," R6)));
	assert_int_equal(sl_frontend_counts_carry(NULL, a, counts_of, rule_count, &del), 0);
	assert_int_equal(del.n, 0);
	traffic(a, "lb1/r1", 10);
	traffic(a, "lb1/r2", 5);
	b = compile(DOC(VNETS, LB1(FE1 "," FE6, R1 "," R6)));
	assert_int_equal(sl_frontend_counts_carry(a, b, counts_of, rule_count, &del), 0);
	assert_int_equal(del.n, 1);
	assert_int_equal(del.v[0].counter_id, sl_test_rule(a, "lb1/r2")->counter_id);
	assert_int_equal(del.v[0].frontend, frontend(b, "lb1/fe1"));
	traffic(a, "lb1/r2", 4); /* a worker still on a */
	assert_frontend(b, "lb1/fe1", 15, 2);
	sl_frontend_counts_settle(b, &del, counts_of, rule_count);
	assert_int_equal(del.n, 0);
	assert_null(del.v);
	assert_frontend(b, "lb1/fe1", 19, 3);
	traffic(b, "lb1/r1", 1);
	assert_frontend(b, "lb1/fe1", 20, 4);
	/* fe1 itself deleted with its rule: nothing to settle into */
	c = compile(DOC(VNETS, LBX("Standard", FRONTENDS(FE6) "," POOLS(POOL1 "," POOL6) ","
				   RULES(R6))));
	assert_int_equal(sl_frontend_counts_carry(b, c, counts_of, rule_count, &del), 0);
	assert_int_equal(del.n, 0);
	sl_frontend_counts_settle(c, &del, counts_of, rule_count);
	sl_frontend_counts_settle(c, NULL, counts_of, rule_count);
	assert_frontend(c, "lb1/fe6", 0, 0);
	sl_snapshot_free(a);
	sl_snapshot_free(b);
	sl_snapshot_free(c);
}

/* Each read finds one more packet: the workers count while the bases are set. */
static void
growing_counts_of(void *ctx, uint32_t rule_id, struct sl_frontend_counts *out)
{
	rule_count[rule_id].packets++;
	counts_of(ctx, rule_id, out);
}

/*
 * Each rule's counters are read once per carry: a rule read twice (for its
 * old frontend's total, then for its new frontend's sum) would lose what it
 * counted between the two reads.
 */
static void
test_carry_reads_each_rule_once(void **state)
{
	struct sl_snapshot *a, *b;
	struct sl_frontend_counts *all;

	(void)state;
	a = compile(DOC(VNETS, LB1(FE1 "," FE6, R1 "," R2_ON("fe1", "pool1") "," R6)));
	assert_int_equal(sl_frontend_counts_carry(NULL, a, counts_of, rule_count, NULL), 0);
	traffic(a, "lb1/r1", 10);
	traffic(a, "lb1/r2", 5);
	/* r2 moves to fe6: fe1 keeps what r1 and r2 counted, to the packet */
	b = compile(DOC(VNETS, LB1(FE1 "," FE6, R1 "," R2_ON("fe6", "pool6") "," R6)));
	assert_int_equal(sl_frontend_counts_carry(a, b, growing_counts_of, rule_count, NULL), 0);
	all = calloc(b->n_frontends, sizeof(*all));
	assert_non_null(all);
	sl_frontend_counts_read(b, counts_of, rule_count, all);
	assert_int_equal(all[frontend(b, "lb1/fe1")].packets,
			 rule_count[sl_test_rule(b, "lb1/r1")->counter_id].packets +
				 rule_count[sl_test_rule(b, "lb1/r2")->counter_id].packets);
	free(all);
	sl_snapshot_free(a);
	sl_snapshot_free(b);
}

/* Hand-built snapshots (no frontends, or a rule whose index is out of range) read as nothing. */
static void
test_rules_without_frontend(void **state)
{
	struct sl_snapshot *s = sl_snapshot_alloc(1, 2, 1, 0);
	struct sl_frontend_counts out[1];

	(void)state;
	assert_non_null(s);
	s->rules[0].counter_id = 1;
	s->rules[1].counter_id = 2;
	s->rules[1].frontend_index = 1; /* beyond n_frontends below */
	rule_count[1].packets = 7;
	rule_count[2].packets = 100;
	assert_int_equal(sl_frontend_counts_carry(NULL, s, counts_of, rule_count, NULL), 0);
	assert_int_equal(sl_snapshot_alloc_frontends(s, 1), 0);
	snprintf(s->frontends[0].name, sizeof(s->frontends[0].name), "x/fe");
	assert_int_equal(sl_frontend_counts_carry(NULL, s, counts_of, rule_count, NULL), 0);
	sl_frontend_counts_read(s, counts_of, rule_count, out);
	assert_int_equal(out[0].packets, 0);
	rule_count[1].packets += 3;
	sl_frontend_counts_read(s, counts_of, rule_count, out);
	assert_int_equal(out[0].packets, 3);
	assert_int_equal(sl_snapshot_alloc_frontends(s, SL_MAX_FRONTENDS + 1), -EINVAL);
	sl_snapshot_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_compiled_frontends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_carried_across_snapshots, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_rules_keep_bases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_rule_counts_until_the_grace_period_ends,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_carry_reads_each_rule_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rules_without_frontend, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
