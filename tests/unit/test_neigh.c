/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_neigh.c: unit tests of the neighbour table (sl_neigh): the state
 * machine's timings (requests at 0, 1000, 2000, FAILED at 3000, retry at
 * 8000; REACHABLE for 60 s, then STALE with unicast probes, then FAILED with
 * the MAC gone), learning (only for wanted addresses, never over static
 * entries, the changed-MAC return value), the begin/want/end sweep, static
 * entries (never probed, never overwritten), capacity limits, ports as part
 * of the key, and a randomized check against a naive model.
 *
 * Every solicitation the table asks for is recorded by a callback, so the
 * tests see exactly which requests and probes would be sent, and when.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "sl_neigh.h"
#include "sl_types.h"
#include "sl_test_util.h"

/* ---- helpers ------------------------------------------------------------- */

/* What sl_neigh_tick asked to send. */
struct sol {
	uint16_t port;
	uint16_t vlan_tci;
	struct sl_ip_addr a;
	int unicast;
	struct sl_mac mac;
};

struct sol_log {
	struct sol s[64];
	unsigned int n;
};

static void
record(void *ctx, uint16_t port, const struct sl_ip_addr *a, const struct sl_mac *unicast,
       uint16_t vlan_tci)
{
	struct sol_log *log = ctx;
	struct sol *s;

	assert_true(log->n < 64);
	s = &log->s[log->n++];
	s->port = port;
	s->vlan_tci = vlan_tci;
	s->a = *a;
	s->unicast = unicast != NULL;
	if (unicast)
		s->mac = *unicast;
}

/* Tick at now; expect n solicitations (checked for a, broadcast or unicast to m). */
static uint32_t
tick_expect(struct sl_neigh_table *t, uint64_t now, unsigned int n, const struct sl_ip_addr *a,
	    const struct sl_mac *m)
{
	struct sol_log log = {.n = 0};
	uint32_t lost = sl_neigh_tick(t, now, record, &log);
	unsigned int i;

	assert_int_equal(log.n, n);
	for (i = 0; i < log.n; i++) {
		assert_true(sl_ip_addr_eq(&log.s[i].a, a));
		assert_int_equal(log.s[i].unicast, m != NULL);
		if (m)
			assert_memory_equal(log.s[i].mac.bytes, m->bytes, 6);
	}
	return lost;
}

struct seen {
	int found;
	struct sl_mac mac;
	int has_mac;
	enum sl_neigh_state st;
	uint64_t age;
	uint16_t port;
	struct sl_ip_addr a;
	unsigned int count;
};

static void
seen_fn(void *ctx, uint16_t port, const struct sl_ip_addr *a, const struct sl_mac *m,
	enum sl_neigh_state st, uint64_t age_ms)
{
	struct seen *s = ctx;

	s->count++;
	if (port != s->port || !sl_ip_addr_eq(a, &s->a))
		return;
	s->found = 1;
	s->has_mac = m != NULL;
	if (m)
		s->mac = *m;
	s->st = st;
	s->age = age_ms;
}

/* The state of (port, a) through sl_neigh_foreach; -1 when absent. */
static int
state_of(const struct sl_neigh_table *t, uint16_t port, const struct sl_ip_addr *a, uint64_t now,
	 struct seen *out)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	s.port = port;
	s.a = *a;
	sl_neigh_foreach(t, seen_fn, &s, now);
	if (out)
		*out = s;
	return s.found ? (int)s.st : -1;
}

/* ---- tests ---------------------------------------------------------------- */

static void
test_names_and_create(void **state)
{
	(void)state;
	assert_string_equal(sl_neigh_state_name(SL_NEIGH_INCOMPLETE), "incomplete");
	assert_string_equal(sl_neigh_state_name(SL_NEIGH_REACHABLE), "reachable");
	assert_string_equal(sl_neigh_state_name(SL_NEIGH_STALE), "stale");
	assert_string_equal(sl_neigh_state_name(SL_NEIGH_FAILED), "failed");
	assert_string_equal(sl_neigh_state_name(SL_NEIGH_STATIC), "static");
	assert_string_equal(sl_neigh_state_name(SL_NEIGH_STATE_MAX), "unknown");

	errno = 0;
	assert_null(sl_neigh_create(0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(sl_neigh_create(SL_NEIGH_MAX_CAPACITY + 1));
	assert_int_equal(errno, EINVAL);
	sl_neigh_free(NULL);

	struct sl_neigh_table *t = sl_neigh_create(1);
	assert_non_null(t);
	assert_int_equal(sl_neigh_count(t), 0);
	assert_int_equal(sl_neigh_tick(t, 0, NULL, NULL), 0);
	sl_neigh_free(t);
}

/* Requests go out on the segment the last want named: a virtual network's VLAN. */
static void
test_requests_on_the_wanted_vlan(void **state)
{
	struct sl_neigh_table *t = sl_neigh_create(16);
	struct sl_ip_addr a = sl_test_ip("10.0.0.7");
	struct sol_log log = {.n = 0};

	(void)state;
	assert_int_equal(sl_neigh_want(t, 0, &a, 200, 0), 0);
	sl_neigh_tick(t, 0, record, &log);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.s[0].vlan_tci, 200);
	/* the next compilation puts it back on the port's own segment */
	sl_neigh_begin(t);
	assert_int_equal(sl_neigh_want(t, 0, &a, 0, 500), 0);
	sl_neigh_end(t);
	sl_neigh_tick(t, 1000, record, &log);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.s[1].vlan_tci, 0);
	sl_neigh_free(t);
}

static void
test_incomplete_to_failed_and_retry(void **state)
{
	struct sl_neigh_table *t = sl_neigh_create(16);
	struct sl_ip_addr a = sl_test_ip("10.0.0.5");
	struct sl_mac m;
	struct seen s;

	(void)state;
	assert_int_equal(sl_neigh_want(t, 1, &a, 0, 0), 0);
	assert_int_equal(state_of(t, 1, &a, 0, &s), SL_NEIGH_INCOMPLETE);
	assert_false(s.has_mac);
	assert_false(sl_neigh_lookup(t, 1, &a, &m));

	assert_int_equal(tick_expect(t, 0, 1, &a, NULL), 0);    /* request 1 */
	assert_int_equal(tick_expect(t, 0, 0, &a, NULL), 0);    /* not twice */
	assert_int_equal(tick_expect(t, 999, 0, &a, NULL), 0);
	assert_int_equal(tick_expect(t, 1000, 1, &a, NULL), 0); /* request 2 */
	assert_int_equal(tick_expect(t, 1500, 0, &a, NULL), 0);
	assert_int_equal(tick_expect(t, 2000, 1, &a, NULL), 0); /* request 3 */
	assert_int_equal(state_of(t, 1, &a, 2000, NULL), SL_NEIGH_INCOMPLETE);
	assert_int_equal(tick_expect(t, 2999, 0, &a, NULL), 0);
	/* FAILED at 3000: no MAC was ever usable, so nothing "went away" */
	assert_int_equal(tick_expect(t, 3000, 0, &a, NULL), 0);
	assert_int_equal(state_of(t, 1, &a, 3000, &s), SL_NEIGH_FAILED);
	assert_false(s.has_mac);
	assert_int_equal(state_of(t, 1, &a, 4500, &s), SL_NEIGH_FAILED);
	assert_int_equal(s.age, 1500);
	assert_int_equal(tick_expect(t, 7999, 0, &a, NULL), 0);
	/* retry at 8000: INCOMPLETE again, a broadcast request, then the same cycle */
	assert_int_equal(tick_expect(t, 8000, 1, &a, NULL), 0);
	assert_int_equal(state_of(t, 1, &a, 8000, NULL), SL_NEIGH_INCOMPLETE);
	assert_int_equal(tick_expect(t, 9000, 1, &a, NULL), 0);
	assert_int_equal(tick_expect(t, 10000, 1, &a, NULL), 0);
	assert_int_equal(tick_expect(t, 11000, 0, &a, NULL), 0);
	assert_int_equal(state_of(t, 1, &a, 11000, NULL), SL_NEIGH_FAILED);
	assert_int_equal(tick_expect(t, 16000, 1, &a, NULL), 0);

	/* the solicitation names the port */
	struct sol_log log = {.n = 0};
	sl_neigh_tick(t, 17000, record, &log);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.s[0].port, 1);
	sl_neigh_free(t);
}

static void
test_learn_reachable_stale_failed(void **state)
{
	struct sl_neigh_table *t = sl_neigh_create(16);
	struct sl_ip_addr a = sl_test_ip("2001:db8::5");
	struct sl_mac m1 = sl_test_mac("52:54:00:00:00:01"), m2 = sl_test_mac("52:54:00:00:00:02"), m;
	struct seen s;

	(void)state;
	assert_int_equal(sl_neigh_want(t, 0, &a, 0, 0), 0);
	assert_int_equal(tick_expect(t, 0, 1, &a, NULL), 0);
	/* the answer: REACHABLE, the MAC usable (1: it had none) */
	assert_int_equal(sl_neigh_learn(t, 0, &a, &m1, 500, true), 1);
	assert_true(sl_neigh_lookup(t, 0, &a, &m));
	assert_memory_equal(m.bytes, m1.bytes, 6);
	assert_true(sl_neigh_lookup(t, 0, &a, NULL));
	assert_int_equal(state_of(t, 0, &a, 1500, &s), SL_NEIGH_REACHABLE);
	assert_true(s.has_mac);
	assert_int_equal(s.age, 1000);
	/* no more requests while reachable */
	assert_int_equal(tick_expect(t, 1000, 0, &a, NULL), 0);
	assert_int_equal(tick_expect(t, 30000, 0, &a, NULL), 0);
	/* confirmed again with the same MAC: 0; it restarts the 60 s */
	assert_int_equal(sl_neigh_learn(t, 0, &a, &m1, 10000, false), 0);
	assert_int_equal(tick_expect(t, 60500, 0, &a, NULL), 0);
	assert_int_equal(tick_expect(t, 69999, 0, &a, NULL), 0);
	/* 60 s without confirmation: STALE, MAC still used, a unicast probe */
	assert_int_equal(tick_expect(t, 70000, 1, &a, &m1), 0);
	assert_int_equal(state_of(t, 0, &a, 70000, &s), SL_NEIGH_STALE);
	assert_true(s.has_mac);
	assert_int_equal(s.age, 60000);
	assert_true(sl_neigh_lookup(t, 0, &a, &m));
	assert_int_equal(tick_expect(t, 70999, 0, &a, NULL), 0);
	assert_int_equal(tick_expect(t, 71000, 1, &a, &m1), 0);
	assert_int_equal(tick_expect(t, 72000, 1, &a, &m1), 0);
	assert_true(sl_neigh_lookup(t, 0, &a, &m));
	/* unanswered: FAILED, the MAC is gone, tick says so */
	assert_int_equal(tick_expect(t, 73000, 0, &a, NULL), 1);
	assert_int_equal(state_of(t, 0, &a, 73000, &s), SL_NEIGH_FAILED);
	assert_false(s.has_mac);
	assert_false(sl_neigh_lookup(t, 0, &a, &m));
	/* and retried with a broadcast/multicast request 5 s later */
	assert_int_equal(tick_expect(t, 78000, 1, &a, NULL), 0);
	/* found again under a new MAC */
	assert_int_equal(sl_neigh_learn(t, 0, &a, &m2, 78100, true), 1);
	assert_true(sl_neigh_lookup(t, 0, &a, &m));
	assert_memory_equal(m.bytes, m2.bytes, 6);
	/* a different MAC while reachable (gratuitous ARP after failover): 1 */
	assert_int_equal(sl_neigh_learn(t, 0, &a, &m1, 78200, false), 1);
	assert_true(sl_neigh_lookup(t, 0, &a, &m));
	assert_memory_equal(m.bytes, m1.bytes, 6);
	sl_neigh_free(t);
}

static void
test_stale_answered(void **state)
{
	struct sl_neigh_table *t = sl_neigh_create(16);
	struct sl_ip_addr a = sl_test_ip("10.0.0.9");
	struct sl_mac m1 = sl_test_mac("52:54:00:00:00:01");

	(void)state;
	assert_int_equal(sl_neigh_want(t, 0, &a, 0, 0), 0);
	assert_int_equal(sl_neigh_learn(t, 0, &a, &m1, 0, true), 1);
	assert_int_equal(tick_expect(t, 60000, 1, &a, &m1), 0);
	assert_int_equal(tick_expect(t, 61000, 1, &a, &m1), 0);
	/* the probe is answered: REACHABLE again, same MAC (0), probes reset */
	assert_int_equal(sl_neigh_learn(t, 0, &a, &m1, 61500, true), 0);
	assert_int_equal(state_of(t, 0, &a, 61500, NULL), SL_NEIGH_REACHABLE);
	assert_int_equal(tick_expect(t, 62000, 0, &a, NULL), 0);
	assert_int_equal(tick_expect(t, 121499, 0, &a, NULL), 0);
	/* next round starts with a full set of probes */
	assert_int_equal(tick_expect(t, 121500, 1, &a, &m1), 0);
	assert_int_equal(tick_expect(t, 122500, 1, &a, &m1), 0);
	assert_int_equal(tick_expect(t, 123500, 1, &a, &m1), 0);
	assert_int_equal(tick_expect(t, 124500, 0, &a, NULL), 1);

	/* a late tick does not send the missed requests at once */
	assert_int_equal(tick_expect(t, 200000, 1, &a, NULL), 0);
	assert_int_equal(tick_expect(t, 200999, 0, &a, NULL), 0);
	assert_int_equal(tick_expect(t, 201000, 1, &a, NULL), 0);
	sl_neigh_free(t);
}

static void
test_learn_unknown_creates_nothing(void **state)
{
	struct sl_neigh_table *t = sl_neigh_create(4);
	struct sl_ip_addr a = sl_test_ip("10.0.0.1"), b = sl_test_ip("10.0.0.2");
	struct sl_mac m1 = sl_test_mac("52:54:00:00:00:01"), bcast = sl_test_mac("ff:ff:ff:ff:ff:ff");
	struct sl_mac mcast = sl_test_mac("01:00:5e:00:00:01"), zero = sl_test_mac("00:00:00:00:00:00");
	char buf[32];
	unsigned int i;

	(void)state;
	/* ARP spam from many addresses: nothing is created */
	for (i = 0; i < 100; i++) {
		struct sl_ip_addr x;

		snprintf(buf, sizeof(buf), "10.9.%u.%u", i / 256, i % 256);
		x = sl_test_ip(buf);
		assert_int_equal(sl_neigh_learn(t, 0, &x, &m1, 0, false), 0);
	}
	assert_int_equal(sl_neigh_count(t), 0);
	assert_false(sl_neigh_lookup(t, 0, &a, NULL));

	/* wanted on port 0 only: learning it on port 1 creates nothing either */
	assert_int_equal(sl_neigh_want(t, 0, &a, 0, 0), 0);
	assert_int_equal(sl_neigh_learn(t, 1, &a, &m1, 0, true), 0);
	assert_int_equal(sl_neigh_learn(t, 0, &b, &m1, 0, true), 0);
	assert_int_equal(sl_neigh_count(t), 1);
	assert_false(sl_neigh_lookup(t, 1, &a, NULL));

	/* group or zero MACs are not learned */
	assert_int_equal(sl_neigh_learn(t, 0, &a, &bcast, 0, true), 0);
	assert_int_equal(sl_neigh_learn(t, 0, &a, &mcast, 0, true), 0);
	assert_int_equal(sl_neigh_learn(t, 0, &a, &zero, 0, true), 0);
	assert_false(sl_neigh_lookup(t, 0, &a, NULL));
	assert_int_equal(sl_neigh_learn(t, 0, &a, NULL, 0, true), 0);
	assert_int_equal(sl_neigh_learn(NULL, 0, &a, &m1, 0, true), 0);
	assert_int_equal(sl_neigh_learn(t, 0, &a, &m1, 0, true), 1);
	assert_true(sl_neigh_lookup(t, 0, &a, NULL));
	sl_neigh_free(t);
}

static void
test_static_entries(void **state)
{
	struct sl_neigh_table *t = sl_neigh_create(8);
	struct sl_ip_addr a = sl_test_ip("10.0.0.1"), b = sl_test_ip("10.0.0.2");
	struct sl_mac ms = sl_test_mac("02:aa:00:00:00:01"), m1 = sl_test_mac("52:54:00:00:00:01"), m;
	struct seen s;
	uint64_t now;

	(void)state;
	assert_int_equal(sl_neigh_add_static(t, 0, &a, &ms), 0);
	assert_true(sl_neigh_lookup(t, 0, &a, &m));
	assert_memory_equal(m.bytes, ms.bytes, 6);
	assert_int_equal(state_of(t, 0, &a, 12345, &s), SL_NEIGH_STATIC);
	assert_true(s.has_mac);
	assert_int_equal(s.age, 0);
	/* never probed */
	for (now = 0; now < 400000; now += 500)
		assert_int_equal(tick_expect(t, now, 0, &a, NULL), 0);
	/* never overwritten by learning */
	assert_int_equal(sl_neigh_learn(t, 0, &a, &m1, now, true), 0);
	assert_true(sl_neigh_lookup(t, 0, &a, &m));
	assert_memory_equal(m.bytes, ms.bytes, 6);
	/* wanted or not, it survives the sweep and stays static */
	sl_neigh_begin(t);
	assert_int_equal(sl_neigh_want(t, 0, &a, 0, now), 0);
	assert_int_equal(sl_neigh_end(t), 0);
	sl_neigh_begin(t);
	assert_int_equal(sl_neigh_end(t), 0);
	assert_int_equal(state_of(t, 0, &a, now, NULL), SL_NEIGH_STATIC);
	/* the configuration may change its MAC */
	assert_int_equal(sl_neigh_add_static(t, 0, &a, &m1), 0);
	assert_true(sl_neigh_lookup(t, 0, &a, &m));
	assert_memory_equal(m.bytes, m1.bytes, 6);
	assert_int_equal(sl_neigh_count(t), 1);

	/* a dynamic entry turned static stops being probed */
	assert_int_equal(sl_neigh_want(t, 0, &b, 0, now), 0);
	assert_int_equal(tick_expect(t, now, 1, &b, NULL), 0);
	assert_int_equal(sl_neigh_add_static(t, 0, &b, &ms), 0);
	assert_int_equal(tick_expect(t, now + 1000, 0, &b, NULL), 0);
	assert_int_equal(tick_expect(t, now + 100000, 0, &b, NULL), 0);
	assert_int_equal(state_of(t, 0, &b, now, NULL), SL_NEIGH_STATIC);

	/* removal */
	assert_int_equal(sl_neigh_del(t, 0, &b), 0);
	assert_int_equal(sl_neigh_del(t, 0, &b), -ENOENT);
	assert_false(sl_neigh_lookup(t, 0, &b, NULL));
	assert_int_equal(sl_neigh_count(t), 1);
	assert_int_equal(sl_neigh_add_static(NULL, 0, &a, &ms), -EINVAL);
	assert_int_equal(sl_neigh_add_static(t, 0, &a, NULL), -EINVAL);
	sl_neigh_free(t);
}

static void
test_sweep(void **state)
{
	struct sl_neigh_table *t = sl_neigh_create(8);
	struct sl_ip_addr a = sl_test_ip("10.0.0.1"), b = sl_test_ip("10.0.0.2"), c = sl_test_ip("10.0.0.3");
	struct sl_mac m1 = sl_test_mac("52:54:00:00:00:01"), m;

	(void)state;
	sl_neigh_begin(t);
	assert_int_equal(sl_neigh_want(t, 0, &a, 0, 0), 0);
	assert_int_equal(sl_neigh_want(t, 0, &b, 0, 0), 0);
	assert_int_equal(sl_neigh_want(t, 1, &b, 0, 0), 0);
	assert_int_equal(sl_neigh_end(t), 0);
	assert_int_equal(sl_neigh_count(t), 3);
	assert_int_equal(sl_neigh_learn(t, 0, &a, &m1, 10, true), 1);

	/* the next compile still needs a (keeps its state and MAC), no longer b on port 0 */
	sl_neigh_begin(t);
	assert_int_equal(sl_neigh_want(t, 0, &a, 0, 20), 0);
	assert_int_equal(sl_neigh_want(t, 1, &b, 0, 20), 0);
	assert_int_equal(sl_neigh_want(t, 0, &c, 0, 20), 0);
	assert_int_equal(sl_neigh_end(t), 1);
	assert_int_equal(sl_neigh_count(t), 3);
	assert_true(sl_neigh_lookup(t, 0, &a, &m));
	assert_memory_equal(m.bytes, m1.bytes, 6);
	assert_int_equal(state_of(t, 0, &a, 20, NULL), SL_NEIGH_REACHABLE);
	assert_int_equal(state_of(t, 0, &b, 20, NULL), -1);
	assert_int_equal(state_of(t, 1, &b, 20, NULL), SL_NEIGH_INCOMPLETE);
	assert_int_equal(state_of(t, 0, &c, 20, NULL), SL_NEIGH_INCOMPLETE);
	/* a swept address is no longer learned */
	assert_int_equal(sl_neigh_learn(t, 0, &b, &m1, 30, true), 0);

	/* an empty compile sweeps every dynamic entry */
	sl_neigh_begin(t);
	assert_int_equal(sl_neigh_end(t), 3);
	assert_int_equal(sl_neigh_count(t), 0);
	assert_false(sl_neigh_lookup(t, 0, &a, NULL));
	assert_int_equal(tick_expect(t, 100000, 0, &a, NULL), 0);
	sl_neigh_free(t);
}

static void
test_capacity_and_ports(void **state)
{
	struct sl_neigh_table *t = sl_neigh_create(4);
	struct sl_ip_addr a = sl_test_ip("10.0.0.1"), b = sl_test_ip("10.0.0.2"), c = sl_test_ip("fd00::3");
	struct sl_mac m1 = sl_test_mac("52:54:00:00:00:01"), m2 = sl_test_mac("52:54:00:00:00:02"), m;

	(void)state;
	assert_int_equal(sl_neigh_want(t, 0, &a, 0, 0), 0);
	assert_int_equal(sl_neigh_want(t, 1, &a, 0, 0), 0);
	assert_int_equal(sl_neigh_want(t, 0, &b, 0, 0), 0);
	assert_int_equal(sl_neigh_add_static(t, 2, &a, &m2), 0);
	assert_int_equal(sl_neigh_count(t), 4);
	/* full */
	assert_int_equal(sl_neigh_want(t, 0, &c, 0, 0), -ENOSPC);
	assert_int_equal(sl_neigh_add_static(t, 0, &c, &m1), -ENOSPC);
	/* wanting or configuring what exists needs no room */
	assert_int_equal(sl_neigh_want(t, 0, &a, 0, 0), 0);
	assert_int_equal(sl_neigh_add_static(t, 2, &a, &m1), 0);
	assert_int_equal(sl_neigh_want(NULL, 0, &a, 0, 0), -EINVAL);
	assert_int_equal(sl_neigh_want(t, 0, NULL, 0, 0), -EINVAL);

	/* the same address on two ports is two entries */
	assert_int_equal(sl_neigh_learn(t, 1, &a, &m2, 0, true), 1);
	assert_false(sl_neigh_lookup(t, 0, &a, &m));
	assert_true(sl_neigh_lookup(t, 1, &a, &m));
	assert_memory_equal(m.bytes, m2.bytes, 6);
	assert_true(sl_neigh_lookup(t, 2, &a, &m));
	assert_memory_equal(m.bytes, m1.bytes, 6);

	/* a sweep makes room */
	sl_neigh_begin(t);
	assert_int_equal(sl_neigh_want(t, 1, &a, 0, 0), 0);
	assert_int_equal(sl_neigh_end(t), 2);
	assert_int_equal(sl_neigh_want(t, 0, &c, 0, 0), 0);
	assert_int_equal(sl_neigh_want(t, 3, &c, 0, 0), 0);
	assert_int_equal(sl_neigh_count(t), 4);
	assert_int_equal(sl_neigh_want(t, 4, &c, 0, 0), -ENOSPC);
	sl_neigh_free(t);
}

/* Many entries through few buckets' worth of chains: a naive model agrees. */
struct model {
	struct sl_ip_addr a;
	uint16_t port;
	int present;
	int has_mac;
	struct sl_mac mac;
};

static void
test_random_model(void **state)
{
	enum { N = 3000, CAP = 1000, ROUNDS = 20 };
	static struct model md[N];
	struct sl_neigh_table *t = sl_neigh_create(CAP);
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned int i, r, live = 0;
	uint64_t now = 0;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < N; i++) {
		memset(&md[i], 0, sizeof(md[i]));
		sl_ip_addr_from_v4(&md[i].a, (uint32_t)(0x0a000000u + i / 4));
		md[i].port = (uint16_t)(i % 4);
	}
	for (r = 0; r < ROUNDS; r++) {
		uint8_t want[N];

		/* a compile: want a random subset; old and new sets together fit */
		sl_neigh_begin(t);
		live = 0;
		for (i = 0; i < N; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			want[i] = (seed >> 33) % 4 == 0 && live < CAP / 2;
			if (want[i]) {
				assert_int_equal(sl_neigh_want(t, md[i].port, &md[i].a, 0, now), 0);
				if (!md[i].present) {
					md[i].present = 1;
					md[i].has_mac = 0;
				}
				live++;
			}
		}
		sl_neigh_end(t);
		for (i = 0; i < N; i++)
			if (!want[i])
				md[i].present = md[i].has_mac = 0;
		assert_int_equal(sl_neigh_count(t), live);
		/* learn about a third of everything, wanted or not */
		for (i = 0; i < N; i++) {
			struct sl_mac m = {{0x52, 0x54, 0, (uint8_t)r, (uint8_t)(i >> 8), (uint8_t)i}};
			int changed;

			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			if ((seed >> 33) % 3 != 0)
				continue;
			changed = sl_neigh_learn(t, md[i].port, &md[i].a, &m, now, true);
			assert_int_equal(changed, md[i].present && (!md[i].has_mac ||
					 memcmp(md[i].mac.bytes, m.bytes, 6) != 0));
			if (md[i].present) {
				md[i].has_mac = 1;
				md[i].mac = m;
			}
		}
		for (i = 0; i < N; i++) {
			struct sl_mac m;
			bool found = sl_neigh_lookup(t, md[i].port, &md[i].a, &m);

			assert_int_equal(found, md[i].has_mac);
			if (found)
				assert_memory_equal(m.bytes, md[i].mac.bytes, 6);
		}
		now += 10;
	}
	sl_neigh_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_create),
		cmocka_unit_test(test_incomplete_to_failed_and_retry),
		cmocka_unit_test(test_requests_on_the_wanted_vlan),
		cmocka_unit_test(test_learn_reachable_stale_failed),
		cmocka_unit_test(test_stale_answered),
		cmocka_unit_test(test_learn_unknown_creates_nothing),
		cmocka_unit_test(test_static_entries),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_capacity_and_ports),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
