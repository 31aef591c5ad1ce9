/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_reply_index.c: the snapshot's reply index, which stateless reverse
 * DNAT reads (sl_snapshot_reply_find): (backend, protocol, backend port) ->
 * the DNAT rule whose frontend a reply comes from; unique and ambiguous keys
 * (two frontends, or two frontend ports, behind one backend:port; an HA
 * ports rule beside an exact one), IPv4 and IPv6, Floating IP rules left
 * out, hits and misses, and a rebuilt index.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_snapshot.h"
#include "sl_test_util.h"

/* Pools of the test snapshot: member addresses, NULL-terminated. */
static const char *const pools[][3] = {
	{"10.1.0.1", "10.1.0.2", NULL}, /* 0 */
	{"10.1.0.2", "10.1.0.3", NULL}, /* 1: 10.1.0.2 also in pool 0 */
	{"10.1.0.4", NULL, NULL},       /* 2: only a Floating IP rule */
	{"fd01::1", NULL, NULL},        /* 3 */
	{"10.1.0.5", "10.1.0.6", NULL}, /* 4: HA ports */
	{"10.1.0.6", NULL, NULL},       /* 5: 10.1.0.6 also behind HA ports */
	{"10.1.0.8", NULL, NULL},       /* 6: HA ports and an exact rule, same frontend */
	{"fd01::2", NULL, NULL},        /* 7 */
};
#define N_POOLS (sizeof(pools) / sizeof(pools[0]))

struct rule_spec {
	const char *fe;
	uint8_t proto;
	uint16_t fport, bport;
	uint32_t pool;
	uint8_t floating, nat;
};

static const struct rule_spec rules[] = {
	{"10.9.0.1", SL_PROTO_TCP, 80, 8080, 0, 0, 0},  /* 0 */
	{"10.9.0.2", SL_PROTO_TCP, 80, 8080, 1, 0, 0},  /* 1: 10.1.0.2:8080 shared with rule 0 */
	{"10.9.0.1", SL_PROTO_UDP, 53, 8080, 0, 0, 0},  /* 2: same port, other protocol */
	{"10.9.0.3", SL_PROTO_TCP, 80, 80, 2, 1, 0},    /* 3: Floating IP: no reply through us */
	{"fd00::9", SL_PROTO_TCP, 443, 8443, 3, 0, 0},  /* 4 */
	{"fd00::9", SL_PROTO_TCP, 444, 8443, 3, 0, 0},  /* 5: same frontend, other port */
	{"10.9.0.5", SL_PROTO_ALL, 0, 0, 4, 0, 0},      /* 6: HA ports */
	{"10.9.0.6", SL_PROTO_TCP, 80, 80, 5, 0, 0},    /* 7: 10.1.0.6:80 also HA ports' */
	{"10.9.0.8", SL_PROTO_ALL, 0, 0, 6, 0, 0},      /* 8: HA ports on 10.9.0.8 */
	{"10.9.0.8", SL_PROTO_TCP, 80, 80, 6, 0, 0},    /* 9: ... and 80 -> 80 on it: the same */
	{"fd00::7", SL_PROTO_UDP, 5000, 5001, 7, 0, 1}, /* 10: an inbound NAT rule */
};
#define N_RULES (sizeof(rules) / sizeof(rules[0]))

static struct sl_snapshot *
build(void)
{
	uint32_t n_backends = 0, b = 0;

	for (uint32_t p = 0; p < N_POOLS; p++)
		for (uint32_t m = 0; pools[p][m] != NULL; m++)
			n_backends++;
	struct sl_snapshot *s = sl_snapshot_alloc(0, N_RULES, N_POOLS, n_backends);
	assert_non_null(s);
	for (uint32_t p = 0; p < N_POOLS; p++) {
		struct sl_pool *sp = &s->pools[p];
		sp->members = calloc(2, sizeof(*sp->members));
		assert_non_null(sp->members);
		for (uint32_t m = 0; pools[p][m] != NULL; m++, b++) {
			s->backends[b].addr = sl_test_ip(pools[p][m]);
			s->backends[b].pool = p;
			sp->members[sp->n_members++] = b;
		}
	}
	for (uint32_t r = 0; r < N_RULES; r++) {
		struct sl_rule *sr = &s->rules[r];
		sr->frontend = sl_test_ip(rules[r].fe);
		sr->proto = rules[r].proto;
		sr->frontend_port_be = htons(rules[r].fport);
		sr->backend_port_be = htons(rules[r].bport);
		sr->pool = rules[r].pool;
		sr->floating_ip = rules[r].floating;
		sr->inbound_nat = rules[r].nat;
		sr->counter_id = 100 + r;
	}
	assert_int_equal(sl_snapshot_index_frontends(s), 0);
	return s;
}

/* The slot a reply from src:sport finds, or NULL. */
static const struct sl_frontend_slot *
find(const struct sl_snapshot *s, const char *src, uint8_t proto, uint16_t sport)
{
	struct sl_ip_addr a = sl_test_ip(src);

	return sl_snapshot_reply_find(s, &a, proto, htons(sport));
}

/* A reply from src:sport is translated by rule (unique). */
static void
assert_unique(const struct sl_snapshot *s, const char *src, uint8_t proto, uint16_t sport,
	      uint32_t rule)
{
	const struct sl_frontend_slot *e = find(s, src, proto, sport);

	if (e == NULL)
		fail_msg("%s:%u has no entry", src, sport);
	if (e->used != SL_SLOT_USED)
		fail_msg("%s:%u is ambiguous", src, sport);
	assert_int_equal(e->rule, rule);
}

static void
assert_ambiguous(const struct sl_snapshot *s, const char *src, uint8_t proto, uint16_t sport)
{
	const struct sl_frontend_slot *e = find(s, src, proto, sport);

	if (e == NULL)
		fail_msg("%s:%u has no entry", src, sport);
	assert_int_equal(e->used, SL_SLOT_USED | SL_SLOT_AMBIGUOUS);
}

static void
test_unique_keys(void **state)
{
	(void)state;
	struct sl_snapshot *s = build();

	assert_unique(s, "10.1.0.1", SL_PROTO_TCP, 8080, 0);
	assert_unique(s, "10.1.0.3", SL_PROTO_TCP, 8080, 1);
	/* the protocol is part of the key: 10.1.0.2's UDP 8080 has one frontend */
	assert_unique(s, "10.1.0.1", SL_PROTO_UDP, 8080, 2);
	assert_unique(s, "10.1.0.2", SL_PROTO_UDP, 8080, 2);
	/* an inbound NAT rule, IPv6 */
	assert_unique(s, "fd01::2", SL_PROTO_UDP, 5001, 10);
	assert_true(s->has_dnat);
	sl_snapshot_free(s);
}

static void
test_ambiguous_keys(void **state)
{
	(void)state;
	struct sl_snapshot *s = build();

	/* one backend:port behind two frontends */
	assert_ambiguous(s, "10.1.0.2", SL_PROTO_TCP, 8080);
	/* IPv6: one frontend, two frontend ports */
	assert_ambiguous(s, "fd01::1", SL_PROTO_TCP, 8443);
	/* an exact rule's backend:port that an HA ports rule of another frontend also sends to */
	assert_ambiguous(s, "10.1.0.6", SL_PROTO_TCP, 80);
	sl_snapshot_free(s);
}

static void
test_ha_ports(void **state)
{
	(void)state;
	struct sl_snapshot *s = build();

	/* any port, both protocols, of an HA ports rule's backend */
	assert_unique(s, "10.1.0.5", SL_PROTO_TCP, 1234, 6);
	assert_unique(s, "10.1.0.5", SL_PROTO_UDP, 53, 6);
	/* 10.1.0.6: port 80 is ambiguous (above), its other ports are HA ports' */
	assert_unique(s, "10.1.0.6", SL_PROTO_TCP, 81, 6);
	/* exact 80 -> 80 on the HA frontend itself: both give 10.9.0.8:80, not ambiguous */
	assert_unique(s, "10.1.0.8", SL_PROTO_TCP, 80, 9);
	assert_unique(s, "10.1.0.8", SL_PROTO_UDP, 80, 8);
	sl_snapshot_free(s);
}

static void
test_misses(void **state)
{
	(void)state;
	struct sl_snapshot *s = build();

	assert_null(find(s, "10.1.0.1", SL_PROTO_TCP, 8081)); /* another port */
	assert_null(find(s, "10.1.0.3", SL_PROTO_UDP, 8080)); /* another protocol */
	assert_null(find(s, "10.1.0.99", SL_PROTO_TCP, 8080)); /* no backend */
	assert_null(find(s, "10.1.0.4", SL_PROTO_TCP, 80));   /* Floating IP only */
	assert_null(find(s, "fd01::1", SL_PROTO_TCP, 443));   /* the frontend port is not the key */
	assert_null(find(s, "10.9.0.1", SL_PROTO_TCP, 80));   /* a frontend is no backend */
	sl_snapshot_free(s);
}

static void
test_empty_and_rebuilt(void **state)
{
	(void)state;
	struct sl_snapshot *e = sl_snapshot_alloc(0, 0, 0, 0);
	assert_non_null(e);
	/* a snapshot not indexed yet misses */
	assert_null(find(e, "10.1.0.1", SL_PROTO_TCP, 8080));
	assert_int_equal(sl_snapshot_index_frontends(e), 0);
	assert_null(find(e, "10.1.0.1", SL_PROTO_TCP, 8080));
	assert_false(e->has_dnat);
	sl_snapshot_free(e);

	/* indexing again after a rule turns Floating IP: its keys leave, the shared one is unique */
	struct sl_snapshot *s = build();
	s->rules[1].floating_ip = 1;
	assert_int_equal(sl_snapshot_index_frontends(s), 0);
	assert_unique(s, "10.1.0.2", SL_PROTO_TCP, 8080, 0);
	assert_null(find(s, "10.1.0.3", SL_PROTO_TCP, 8080));
	sl_snapshot_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unique_keys),
		cmocka_unit_test(test_ambiguous_keys),
		cmocka_unit_test(test_ha_ports),
		cmocka_unit_test(test_misses),
		cmocka_unit_test(test_empty_and_rebuilt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
