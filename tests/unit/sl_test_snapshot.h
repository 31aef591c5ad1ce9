/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_test_snapshot.h: field-by-field comparison of two snapshots, for the
 * incremental compilation's tests (test_compile_delta.c) and its benchmark
 * (tests/bench/compile_delta.c). Every array is compared by content: rules,
 * pools (members, Maglev tables and probe-ignoring tables by their slots,
 * not their addresses), backends, header prefixes, the id maps, the
 * gateway headers and on-link prefixes, the frontends; the frontend table,
 * the address index and the reply index as sets of entries (the same size,
 * and every used slot of one found, with the same rule and flags, in the
 * other). What differs by design is not compared: the Maglev tables'
 * addresses and reference counts, and `incremental`. No cmocka: the first
 * difference is written to why.
 */
#ifndef SL_TEST_SNAPSHOT_H
#define SL_TEST_SNAPSHOT_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sl_snapshot.h"

static inline int sl_test_differs(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline int
sl_test_differs(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return 1;
}

static inline int
sl_test_rule_diff(const struct sl_rule *a, const struct sl_rule *b)
{
	return !sl_ip_addr_eq(&a->frontend, &b->frontend) || a->counter_id != b->counter_id ||
	       a->pool != b->pool || a->frontend_port_be != b->frontend_port_be ||
	       a->backend_port_be != b->backend_port_be || a->proto != b->proto ||
	       a->dist != b->dist || a->floating_ip != b->floating_ip || a->family != b->family ||
	       a->tcp_reset != b->tcp_reset || a->inbound_nat != b->inbound_nat ||
	       a->frontend_index != b->frontend_index || a->tcp_idle_ms != b->tcp_idle_ms ||
	       strcmp(a->name, b->name) != 0;
}

static inline int
sl_test_backend_diff(const struct sl_backend *a, const struct sl_backend *b)
{
	return !sl_ip_addr_eq(&a->addr, &b->addr) || a->counter_id != b->counter_id ||
	       a->weight != b->weight || a->family != b->family || a->delivery != b->delivery ||
	       a->usable != b->usable || a->admin_down != b->admin_down ||
	       a->drain_ms != b->drain_ms || a->pool != b->pool ||
	       a->egress_port != b->egress_port || strcmp(a->name, b->name) != 0;
}

/* Tables of size slots, either possibly NULL. */
static inline int
sl_test_table_diff(const uint16_t *a, const uint16_t *b, uint32_t size)
{
	if (a == NULL || b == NULL)
		return a != b;
	return memcmp(a, b, (size_t)size * sizeof(*a)) != 0;
}

static inline int
sl_test_pool_diff(const struct sl_pool *a, const struct sl_pool *b)
{
	return a->n_members != b->n_members || a->table_size != b->table_size ||
	       memcmp(a->members, b->members, (size_t)a->n_members * sizeof(*a->members)) != 0 ||
	       sl_test_table_diff(a->table, b->table, a->table_size) ||
	       sl_test_table_diff(a->unprobed_table, b->unprobed_table, a->table_size) ||
	       strcmp(a->name, b->name) != 0;
}

/* Is every used slot of a in b, with the same rule and flags? */
static inline int
sl_test_slots_in(const struct sl_frontend_slot *a, const struct sl_frontend_slot *b,
		 uint32_t mask, uint32_t *used)
{
	*used = 0;
	for (uint32_t i = 0; i <= mask; i++) {
		const struct sl_frontend_slot *x = &a[i], *y;

		if (!x->used)
			continue;
		(*used)++;
		y = sl_slot_find(b, mask, &x->addr, x->proto, x->port_be);
		if (y == NULL || y->rule != x->rule || y->used != x->used)
			return 1;
	}
	return 0;
}

/* The same entries in two open-addressed tables of the same size. */
static inline int
sl_test_slot_set_diff(const struct sl_frontend_slot *a, uint32_t amask,
		      const struct sl_frontend_slot *b, uint32_t bmask)
{
	uint32_t na, nb;

	if (amask != bmask)
		return 1;
	return sl_test_slots_in(a, b, amask, &na) || sl_test_slots_in(b, a, bmask, &nb) || na != nb;
}

static inline int
sl_test_frontend_diff(const struct sl_frontend_info *a, const struct sl_frontend_info *b)
{
	return !sl_ip_addr_eq(&a->addr, &b->addr) || a->family != b->family ||
	       strcmp(a->name, b->name) != 0 || memcmp(&a->base, &b->base, sizeof(a->base)) != 0;
}

static inline int
sl_test_counts_diff(const struct sl_snapshot *a, const struct sl_snapshot *b, char *why,
		    size_t len)
{
	if (a->generation != b->generation || a->hash_seed != b->hash_seed ||
	    a->n_ports != b->n_ports || a->n_rules != b->n_rules || a->n_pools != b->n_pools ||
	    a->n_backends != b->n_backends || a->n_frontends != b->n_frontends ||
	    a->has_dnat != b->has_dnat || a->inputs_key != b->inputs_key)
		return sl_test_differs(why, len,
				       "counts: %u/%u rules, %u/%u pools, %u/%u backends, "
				       "%u/%u frontends, has_dnat %u/%u, generation %llu/%llu",
				       a->n_rules, b->n_rules, a->n_pools, b->n_pools, a->n_backends,
				       b->n_backends, a->n_frontends, b->n_frontends, a->has_dnat,
				       b->has_dnat, (unsigned long long)a->generation,
				       (unsigned long long)b->generation);
	return 0;
}

static inline int
sl_test_arrays_diff(const struct sl_snapshot *a, const struct sl_snapshot *b, char *why,
		    size_t len)
{
	size_t n_hdrs = (size_t)a->n_backends * a->n_ports * 2;
	uint32_t i;

	for (i = 0; i < a->n_rules; i++)
		if (sl_test_rule_diff(&a->rules[i], &b->rules[i]))
			return sl_test_differs(why, len, "rule %u (%s / %s)", i, a->rules[i].name,
					       b->rules[i].name);
	for (i = 0; i < a->n_pools; i++)
		if (sl_test_pool_diff(&a->pools[i], &b->pools[i]))
			return sl_test_differs(why, len, "pool %u (%s / %s)", i, a->pools[i].name,
					       b->pools[i].name);
	for (i = 0; i < a->n_backends; i++)
		if (sl_test_backend_diff(&a->backends[i], &b->backends[i]))
			return sl_test_differs(why, len, "backend %u (%s / %s)", i,
					       a->backends[i].name, b->backends[i].name);
	for (i = 0; i < a->n_frontends; i++)
		if (sl_test_frontend_diff(&a->frontends[i], &b->frontends[i]))
			return sl_test_differs(why, len, "frontend %u (%s / %s)", i,
					       a->frontends[i].name, b->frontends[i].name);
	if (memcmp(a->hdrs, b->hdrs, n_hdrs * sizeof(*a->hdrs)) != 0)
		return sl_test_differs(why, len, "header prefixes");
	if (memcmp(a->gw_hdrs, b->gw_hdrs, (size_t)a->n_ports * 2 * sizeof(*a->gw_hdrs)) != 0 ||
	    memcmp(a->on_link, b->on_link, sizeof(a->on_link)) != 0)
		return sl_test_differs(why, len, "gateway headers or on-link prefixes");
	if (memcmp(a->backend_by_id, b->backend_by_id,
		   SL_MAX_BACKEND_COUNTERS * sizeof(*a->backend_by_id)) != 0)
		return sl_test_differs(why, len, "backend_by_id");
	if (memcmp(a->rule_by_id, b->rule_by_id, SL_MAX_RULE_COUNTERS * sizeof(*a->rule_by_id)) != 0)
		return sl_test_differs(why, len, "rule_by_id");
	return 0;
}

/* 0 when a and b are the same snapshot but for what differs by design; else 1 and why. */
static inline int
sl_test_snapshot_diff(const struct sl_snapshot *a, const struct sl_snapshot *b, char *why,
		      size_t len)
{
	if (sl_test_counts_diff(a, b, why, len) || sl_test_arrays_diff(a, b, why, len))
		return 1;
	if (sl_test_slot_set_diff(a->frontend_slots, a->frontend_mask, b->frontend_slots,
				  b->frontend_mask))
		return sl_test_differs(why, len, "frontend table");
	if (sl_test_slot_set_diff(a->addr_slots, a->addr_mask, b->addr_slots, b->addr_mask))
		return sl_test_differs(why, len, "address index");
	if (sl_test_slot_set_diff(a->reply_slots, a->reply_mask, b->reply_slots, b->reply_mask))
		return sl_test_differs(why, len, "reply index");
	return 0;
}

#endif /* SL_TEST_SNAPSHOT_H */
