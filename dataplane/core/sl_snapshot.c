/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_snapshot.c: allocation, freeing and the frontend index of snapshots.
 *
 * Control thread only: a snapshot is built here and by sl_compile(), then
 * published and never written again (see sl_snapshot.h). The frontend table
 * is open-addressed with linear probing, a power of two of at least twice
 * the rule count (at least 16 slots), so a probe sequence always ends at an
 * unused slot and stays short.
 */
#include <errno.h>
#include <stdlib.h>

#include "sl_snapshot.h"

#define SL_FRONTEND_MIN_SLOTS 16u

/* calloc that returns a real allocation for a zero count too. */
static void *
sl_calloc_n(size_t n, size_t size)
{
	return calloc(n == 0 ? 1 : n, size);
}

struct sl_snapshot *
sl_snapshot_alloc(uint32_t n_ports, uint32_t n_rules, uint32_t n_pools, uint32_t n_backends)
{
	struct sl_snapshot *s;
	size_t n_hdrs;

	if (n_ports > SL_MAX_PORTS) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	s->n_ports = n_ports;
	s->n_rules = n_rules;
	s->n_pools = n_pools;
	s->n_backends = n_backends;

	n_hdrs = (size_t)n_backends * n_ports * 2;
	s->rules = sl_calloc_n(n_rules, sizeof(*s->rules));
	s->pools = sl_calloc_n(n_pools, sizeof(*s->pools));
	s->backends = sl_calloc_n(n_backends, sizeof(*s->backends));
	s->hdrs = sl_calloc_n(n_hdrs, sizeof(*s->hdrs));
	/* An empty frontend table, so lookups miss until the rules are indexed. */
	s->frontend_slots = calloc(SL_FRONTEND_MIN_SLOTS, sizeof(*s->frontend_slots));
	s->frontend_mask = SL_FRONTEND_MIN_SLOTS - 1;
	s->addr_slots = calloc(SL_FRONTEND_MIN_SLOTS, sizeof(*s->addr_slots));
	s->addr_mask = SL_FRONTEND_MIN_SLOTS - 1;
	s->backend_by_id = malloc(SL_MAX_BACKEND_COUNTERS * sizeof(*s->backend_by_id));
	if (s->backend_by_id != NULL)
		memset(s->backend_by_id, 0xff, SL_MAX_BACKEND_COUNTERS * sizeof(*s->backend_by_id));
	s->rule_by_id = malloc(SL_MAX_RULE_COUNTERS * sizeof(*s->rule_by_id));
	if (s->rule_by_id != NULL)
		memset(s->rule_by_id, 0xff, SL_MAX_RULE_COUNTERS * sizeof(*s->rule_by_id));
	s->gw_hdrs = sl_calloc_n((size_t)n_ports * 2, sizeof(*s->gw_hdrs));
	if (s->rules == NULL || s->pools == NULL || s->backends == NULL || s->hdrs == NULL ||
	    s->frontend_slots == NULL || s->addr_slots == NULL || s->backend_by_id == NULL || s->rule_by_id == NULL ||
	    s->gw_hdrs == NULL) {
		sl_snapshot_free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

struct sl_maglev_table *
sl_maglev_table_alloc(uint32_t size)
{
	struct sl_maglev_table *t = malloc(sizeof(*t) + (size_t)size * sizeof(t->slots[0]));

	if (t == NULL)
		return NULL;
	t->refs = 1;
	t->size = size;
	return t;
}

void
sl_maglev_table_put(struct sl_maglev_table *t)
{
	if (t != NULL && --t->refs == 0)
		free(t);
}

void
sl_snapshot_free(struct sl_snapshot *s)
{
	uint32_t i;

	if (s == NULL)
		return;
	if (s->pools != NULL) {
		for (i = 0; i < s->n_pools; i++) {
			free(s->pools[i].members);
			if (s->pools[i].shared != NULL)
				sl_maglev_table_put(s->pools[i].shared);
			else
				free(s->pools[i].table); /* a table the pool owns alone */
		}
	}
	free(s->rules);
	free(s->pools);
	free(s->backends);
	free(s->hdrs);
	free(s->frontend_slots);
	free(s->addr_slots);
	free(s->backend_by_id);
	free(s->rule_by_id);
	free(s->gw_hdrs);
	free(s);
}

static void
sl_addr_index_add(struct sl_frontend_slot *slots, uint32_t mask, const struct sl_ip_addr *a,
		  uint32_t kind)
{
	uint32_t i = sl_frontend_hash(a, SL_ADDR_INDEX_PROTO, 0) & mask;

	while (slots[i].used) {
		if (sl_ip_addr_eq(&slots[i].addr, a)) {
			slots[i].rule |= kind;
			return;
		}
		i = (i + 1) & mask;
	}
	slots[i].addr = *a;
	slots[i].proto = SL_ADDR_INDEX_PROTO;
	slots[i].used = 1;
	slots[i].rule = kind;
}

int
sl_snapshot_index_frontends(struct sl_snapshot *s)
{
	struct sl_frontend_slot *slots;
	uint32_t size = SL_FRONTEND_MIN_SLOTS, mask, r;

	if (s == NULL || (s->n_rules > 0 && s->rules == NULL))
		return -EINVAL;
	/* 2 * n_rules rounded up to a power of two; 2^31 is the most a uint32_t holds. */
	if (s->n_rules > (1u << 30))
		return -ENOMEM;
	while (size < 2 * s->n_rules)
		size <<= 1;
	mask = size - 1;

	slots = calloc(size, sizeof(*slots));
	if (slots == NULL)
		return -ENOMEM;

	for (r = 0; r < s->n_rules; r++) {
		const struct sl_rule *rule = &s->rules[r];
		uint32_t i = sl_frontend_hash(&rule->frontend, rule->proto,
					      rule->frontend_port_be) & mask;

		while (slots[i].used) {
			if (slots[i].port_be == rule->frontend_port_be &&
			    slots[i].proto == rule->proto &&
			    sl_ip_addr_eq(&slots[i].addr, &rule->frontend)) {
				free(slots);
				return -EEXIST;
			}
			i = (i + 1) & mask;
		}
		slots[i].addr = rule->frontend;
		slots[i].port_be = rule->frontend_port_be;
		slots[i].proto = rule->proto;
		slots[i].used = 1;
		slots[i].rule = r;
	}

	/*
	 * The address index: every frontend address, and every address of a
	 * pool some DNAT rule uses (what a reply comes from). At most one slot
	 * per rule plus one per backend.
	 */
	uint32_t asize = SL_FRONTEND_MIN_SLOTS;
	if (s->n_backends > (1u << 29))
		return -ENOMEM;
	while (asize < 2 * (s->n_rules + s->n_backends))
		asize <<= 1;
	struct sl_frontend_slot *aslots = calloc(asize, sizeof(*aslots));
	if (aslots == NULL) {
		free(slots);
		return -ENOMEM;
	}
	for (r = 0; r < s->n_rules; r++) {
		const struct sl_rule *rule = &s->rules[r];
		sl_addr_index_add(aslots, asize - 1, &rule->frontend, SL_ADDR_FRONTEND);
		if (rule->floating_ip || rule->pool >= s->n_pools)
			continue;
		s->has_dnat = 1;
		const struct sl_pool *pool = &s->pools[rule->pool];
		for (uint32_t m = 0; m < pool->n_members; m++)
			sl_addr_index_add(aslots, asize - 1, &s->backends[pool->members[m]].addr,
					  SL_ADDR_DNAT_BACKEND);
	}

	/* Replace only on success: on error the snapshot keeps its old index. */
	free(s->frontend_slots);
	s->frontend_slots = slots;
	s->frontend_mask = mask;
	free(s->addr_slots);
	s->addr_slots = aslots;
	s->addr_mask = asize - 1;
	return 0;
}
