/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_compile_delta.c: incremental compilation (sl_compile_delta(), see
 * sl_compile.h): the published snapshot with one pool or one rule
 * compiled again.
 *
 * A delta replaces a run of prev's snapshot: a pool (and its members) or a
 * rule, old by new, either possibly absent (create, delete). Everything
 * before the run is copied as it is; everything after it is copied and
 * renumbered by the difference in length (pools' member indexes and
 * backends' pool indexes, rules' pool indexes, the id maps, the rule
 * indexes held by the frontend table and the reply index). Pools other than
 * the changed one keep their Maglev tables by reference. Control thread
 * only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sl_compile_int.h"

/* The run of prev that the delta replaces, and where the load balancer starts. */
struct sl_splice {
	uint32_t pool, pools_old, pools_new;          /* pools [pool, pool + old) -> new */
	uint32_t backend, backends_old, backends_new; /* backends likewise */
	uint32_t rule, rules_old, rules_new;          /* rules likewise */
	uint32_t pool_base, fe_base;                  /* the load balancer's first pool, frontend */
	struct sl_model_counts n;                     /* m's counts: the new snapshot's */
};

/* Where pool k of prev starts in its backends (members are laid out in pool order). */
static uint32_t
sl_prev_first_backend(const struct sl_snapshot *prev, uint32_t k)
{
	while (k-- > 0) {
		const struct sl_pool *p = &prev->pools[k];
		if (p->n_members > 0)
			return p->members[p->n_members - 1] + 1;
	}
	return 0;
}

/* lb's first pool, rule and frontend in a snapshot of m (the load balancers before it). */
static void
sl_lb_bases(const struct sl_model *m, uint32_t lb, uint32_t *pool, uint32_t *rule, uint32_t *fe)
{
	*pool = *rule = *fe = 0;
	for (uint32_t li = 0; li < lb; li++) {
		const struct sl_lb *l = &m->lbs[li];

		*pool += l->n_pools + l->n_nat_rules;
		*rule += l->n_rules;
		for (uint32_t ri = 0; ri < l->n_nat_rules; ri++)
			*rule += sl_nat_rule_entries(&l->nat_rules[ri]);
		*fe += l->n_frontends;
	}
}

/* Do the delta's load balancer and index exist in m, as the operation needs? */
static bool
sl_delta_in_range(const struct sl_model *m, const struct sl_model_delta *d)
{
	uint32_t n;

	if (d->lb >= m->n_lbs || (d->kind != SL_DELTA_POOL && d->kind != SL_DELTA_RULE))
		return false;
	n = d->kind == SL_DELTA_POOL ? m->lbs[d->lb].n_pools : m->lbs[d->lb].n_rules;
	switch (d->op) {
	case SL_DELTA_REPLACE:
		return d->idx < n;
	case SL_DELTA_CREATE:
		return n > 0 && d->idx == n - 1;
	case SL_DELTA_DELETE:
		return d->idx <= n;
	}
	return false;
}

/* Every pool of prev holds its table by reference (so the new snapshot can share it). */
static bool
sl_prev_tables_shared(const struct sl_snapshot *prev)
{
	for (uint32_t k = 0; k < prev->n_pools; k++)
		if (prev->pools[k].shared == NULL ||
		    (prev->pools[k].unprobed_table != NULL && prev->pools[k].unprobed == NULL))
			return false;
	return true;
}

/* Does a rule of prev use a pool in the run the delta removes without a replacement? */
static bool
sl_prev_uses_deleted_pool(const struct sl_snapshot *prev, const struct sl_splice *sp)
{
	if (sp->pools_old == 0 || sp->pools_new != 0)
		return false;
	for (uint32_t r = 0; r < prev->n_rules; r++)
		if (prev->rules[r].pool >= sp->pool && prev->rules[r].pool < sp->pool + sp->pools_old)
			return true;
	return false;
}

/*
 * The run the delta replaces in prev, and whether prev is what m undone by
 * the delta compiles to (counts, tables); false: compile whole.
 */
static bool
sl_delta_plan(const struct sl_model *m, const struct sl_snapshot *prev,
	      const struct sl_model_delta *d, struct sl_splice *sp)
{
	uint32_t rule_base;
	uint32_t old = d->op != SL_DELTA_CREATE, new = d->op != SL_DELTA_DELETE;

	memset(sp, 0, sizeof(*sp));
	if (!sl_delta_in_range(m, d))
		return false;
	sl_model_count(m, &sp->n);
	sl_lb_bases(m, d->lb, &sp->pool_base, &rule_base, &sp->fe_base);
	if (d->kind == SL_DELTA_POOL) {
		sp->pool = sp->pool_base + d->idx;
		sp->pools_old = old;
		sp->pools_new = new;
		if (sp->n.pools - new + old != prev->n_pools || sp->pool + old > prev->n_pools)
			return false;
		sp->backend = sl_prev_first_backend(prev, sp->pool);
		sp->backends_old = old ? prev->pools[sp->pool].n_members : 0;
		sp->backends_new = new ? m->lbs[d->lb].pools[d->idx].n_addresses : 0;
	} else {
		sp->rule = rule_base + d->idx;
		sp->rules_old = old;
		sp->rules_new = new;
		if (sp->n.pools != prev->n_pools)
			return false;
		sp->backend = prev->n_backends;
	}
	return sp->n.rules - sp->rules_new + sp->rules_old == prev->n_rules &&
	       sp->rule + sp->rules_old <= prev->n_rules &&
	       sp->n.backends - sp->backends_new + sp->backends_old == prev->n_backends &&
	       sp->backend + sp->backends_old <= prev->n_backends &&
	       sp->n.frontends == prev->n_frontends && sl_prev_tables_shared(prev) &&
	       !sl_prev_uses_deleted_pool(prev, sp);
}

/* Old index i (outside the replaced run [at, at + old)) in the new layout. */
static inline uint32_t
sl_moved(uint32_t i, uint32_t at, uint32_t old, uint32_t new)
{
	return i < at ? i : i - old + new;
}

/* prev's rules outside the run, renumbered; rule_by_id to match. */
static void
sl_copy_rules(struct sl_snapshot *s, const struct sl_snapshot *prev, const struct sl_splice *sp)
{
	uint32_t after = sp->rule + sp->rules_old, to = sp->rule + sp->rules_new;

	memcpy(s->rules, prev->rules, sp->rule * sizeof(*s->rules));
	memset(&s->rules[sp->rule], 0, sp->rules_new * sizeof(*s->rules));
	memcpy(&s->rules[to], &prev->rules[after], (prev->n_rules - after) * sizeof(*s->rules));
	memcpy(s->rule_by_id, prev->rule_by_id, SL_MAX_RULE_COUNTERS * sizeof(*s->rule_by_id));
	if (sp->rules_old)
		s->rule_by_id[prev->rules[sp->rule].counter_id] = SL_RULE_NONE;
	if (sp->rules_new != sp->rules_old)
		for (uint32_t r = to; r < s->n_rules; r++)
			s->rule_by_id[s->rules[r].counter_id] = r;
	if (sp->pools_new != sp->pools_old)
		for (uint32_t r = 0; r < s->n_rules; r++)
			s->rules[r].pool = sl_moved(s->rules[r].pool, sp->pool, sp->pools_old,
						    sp->pools_new);
}

/* prev's backends and header prefixes outside the run, renumbered; backend_by_id to match. */
static void
sl_copy_backends(struct sl_snapshot *s, const struct sl_snapshot *prev,
		 const struct sl_splice *sp)
{
	uint32_t after = sp->backend + sp->backends_old, to = sp->backend + sp->backends_new;
	size_t per = (size_t)s->n_ports * 2;
	uint32_t b;

	memcpy(s->backends, prev->backends, sp->backend * sizeof(*s->backends));
	memset(&s->backends[sp->backend], 0, sp->backends_new * sizeof(*s->backends));
	memcpy(&s->backends[to], &prev->backends[after],
	       (prev->n_backends - after) * sizeof(*s->backends));
	memcpy(s->hdrs, prev->hdrs, sp->backend * per * sizeof(*s->hdrs));
	memset(&s->hdrs[sp->backend * per], 0, sp->backends_new * per * sizeof(*s->hdrs));
	memcpy(&s->hdrs[to * per], &prev->hdrs[after * per],
	       (prev->n_backends - after) * per * sizeof(*s->hdrs));
	memcpy(s->backend_by_id, prev->backend_by_id,
	       SL_MAX_BACKEND_COUNTERS * sizeof(*s->backend_by_id));
	for (b = sp->backend; b < after; b++)
		s->backend_by_id[prev->backends[b].counter_id] = SL_BACKEND_NONE;
	if (sp->backends_new != sp->backends_old)
		for (b = to; b < s->n_backends; b++)
			s->backend_by_id[s->backends[b].counter_id] = b;
	if (sp->pools_new != sp->pools_old)
		for (b = to; b < s->n_backends; b++)
			s->backends[b].pool = sl_moved(s->backends[b].pool, sp->pool, sp->pools_old,
						       sp->pools_new);
}

/* prev's pools outside the run: members copied and renumbered, tables shared. */
static int
sl_copy_pools(struct sl_snapshot *s, const struct sl_snapshot *prev, const struct sl_splice *sp)
{
	int32_t shift = (int32_t)sp->backends_new - (int32_t)sp->backends_old;

	for (uint32_t k = 0; k < prev->n_pools; k++) {
		const struct sl_pool *o = &prev->pools[k];
		struct sl_pool *p;

		if (k >= sp->pool && k < sp->pool + sp->pools_old)
			continue;
		p = &s->pools[sl_moved(k, sp->pool, sp->pools_old, sp->pools_new)];
		*p = *o;
		p->members = malloc((o->n_members ? o->n_members : 1) * sizeof(*p->members));
		if (p->members == NULL) {
			memset(p, 0, sizeof(*p));
			return -ENOMEM;
		}
		memcpy(p->members, o->members, o->n_members * sizeof(*p->members));
		if (k >= sp->pool + sp->pools_old && shift != 0)
			for (uint32_t i = 0; i < p->n_members; i++)
				p->members[i] = (uint32_t)((int64_t)p->members[i] + shift);
		p->shared->refs++;
		if (p->unprobed != NULL)
			p->unprobed->refs++;
	}
	return 0;
}

/* Is rule r of s a DNAT rule whose replies come back through sluice? */
static bool
sl_rule_is_dnat(const struct sl_snapshot *s, const struct sl_rule *r)
{
	return !r->floating_ip && r->pool < s->n_pools;
}

/* Does some rule of s have frontend address a? */
static bool
sl_frontend_used(const struct sl_snapshot *s, const struct sl_ip_addr *a)
{
	for (uint32_t r = 0; r < s->n_rules; r++)
		if (sl_ip_addr_eq(&s->rules[r].frontend, a))
			return true;
	return false;
}

/* A copy of n slots; NULL on ENOMEM. */
static struct sl_frontend_slot *
sl_slots_dup(const struct sl_frontend_slot *slots, uint32_t mask)
{
	struct sl_frontend_slot *c = malloc(((size_t)mask + 1) * sizeof(*c));

	if (c != NULL)
		memcpy(c, slots, ((size_t)mask + 1) * sizeof(*c));
	return c;
}

/* Replace table *slots of s by a copy of prev's; 0 or -ENOMEM. */
static int
sl_slots_take(struct sl_frontend_slot **slots, uint32_t *mask,
	      const struct sl_frontend_slot *from, uint32_t from_mask)
{
	struct sl_frontend_slot *c = sl_slots_dup(from, from_mask);

	if (c == NULL)
		return -ENOMEM;
	free(*slots);
	*slots = c;
	*mask = from_mask;
	return 0;
}

/*
 * The frontend table: prev's with the old rule's key out, the rules after
 * the run renumbered and the new rule's key in. -EEXIST when the new key is
 * another rule's.
 */
static int
sl_edit_frontend_table(struct sl_snapshot *s, const struct sl_snapshot *prev,
		       const struct sl_splice *sp)
{
	int rc = sl_slots_take(&s->frontend_slots, &s->frontend_mask, prev->frontend_slots,
			       prev->frontend_mask);

	if (rc < 0 || sp->rules_old + sp->rules_new == 0)
		return rc;
	if (sp->rules_old) {
		const struct sl_rule *o = &prev->rules[sp->rule];
		sl_slots_remove(s->frontend_slots, s->frontend_mask, &o->frontend, o->proto,
				o->frontend_port_be);
	}
	if (sp->rules_new != sp->rules_old)
		sl_slots_shift_rules(s->frontend_slots, s->frontend_mask, sp->rule + sp->rules_old,
				     (int32_t)sp->rules_new - (int32_t)sp->rules_old);
	if (sp->rules_new) {
		const struct sl_rule *n = &s->rules[sp->rule];
		return sl_slots_add(s->frontend_slots, s->frontend_mask, &n->frontend, n->proto,
				    n->frontend_port_be, sp->rule);
	}
	return 0;
}

/* Must the address and reply indexes be built again (a DNAT rule or its pool changed)? */
static bool
sl_touches_dnat(const struct sl_snapshot *s, const struct sl_snapshot *prev,
		const struct sl_splice *sp)
{
	if (sp->rules_old && sl_rule_is_dnat(prev, &prev->rules[sp->rule]))
		return true;
	if (sp->rules_new && sl_rule_is_dnat(s, &s->rules[sp->rule]))
		return true;
	for (uint32_t r = 0; sp->pools_new && r < s->n_rules; r++)
		if (s->rules[r].pool == sp->pool && sl_rule_is_dnat(s, &s->rules[r]))
			return true;
	return false;
}

/*
 * The address index and the reply index: prev's, renumbered, with the
 * changed rule's frontend address marked (no DNAT rule or pool changed,
 * so no backend entry does).
 */
static int
sl_edit_address_indexes(struct sl_snapshot *s, const struct sl_snapshot *prev,
			const struct sl_splice *sp)
{
	int rc = sl_slots_take(&s->addr_slots, &s->addr_mask, prev->addr_slots, prev->addr_mask);

	if (rc == 0)
		rc = sl_slots_take(&s->reply_slots, &s->reply_mask, prev->reply_slots,
				   prev->reply_mask);
	if (rc < 0)
		return rc;
	s->has_dnat = prev->has_dnat;
	if (sp->rules_new != sp->rules_old)
		sl_slots_shift_rules(s->reply_slots, s->reply_mask, sp->rule + sp->rules_old,
				     (int32_t)sp->rules_new - (int32_t)sp->rules_old);
	if (sp->rules_old && !sl_frontend_used(s, &prev->rules[sp->rule].frontend))
		sl_snapshot_addr_mark(s, &prev->rules[sp->rule].frontend, SL_ADDR_FRONTEND, false);
	if (sp->rules_new)
		sl_snapshot_addr_mark(s, &s->rules[sp->rule].frontend, SL_ADDR_FRONTEND, true);
	return 0;
}

/* The three indexes of s, edited from prev's where they can be, else built. */
static int
sl_delta_index(struct sl_snapshot *s, const struct sl_snapshot *prev, const struct sl_splice *sp,
	       struct sl_error *err)
{
	int rc;

	if (sl_snapshot_index_size(s->n_rules) != prev->frontend_mask + 1)
		rc = sl_snapshot_index_frontends(s);
	else if ((rc = sl_edit_frontend_table(s, prev, sp)) == 0) {
		if (sl_touches_dnat(s, prev, sp) ||
		    sl_snapshot_index_size((uint64_t)s->n_rules + s->n_backends) !=
			    prev->addr_mask + 1)
			rc = sl_snapshot_index_addresses(s);
		else
			rc = sl_edit_address_indexes(s, prev, sp);
	}
	if (rc == -EEXIST)
		sl_error_set(err, "RulesUseSameFrontendIPConfigurationProtocolAndPort", "", "",
			     "Two rules share a frontend address, protocol and port.");
	else if (rc < 0)
		sl_compile_fail(err, rc, "", "the frontend table");
	return rc;
}

/* Frontends, ports' prefixes and gateway headers: prev's (the delta changes neither). */
static int
sl_copy_rest(struct sl_snapshot *s, const struct sl_snapshot *prev, struct sl_error *err)
{
	int rc = sl_snapshot_alloc_frontends(s, prev->n_frontends);

	if (rc < 0)
		return sl_compile_fail(err, rc, "", "the frontends");
	memcpy(s->frontends, prev->frontends, prev->n_frontends * sizeof(*s->frontends));
	for (uint32_t f = 0; f < s->n_frontends; f++)
		memset(&s->frontends[f].base, 0, sizeof(s->frontends[f].base));
	memcpy(s->on_link, prev->on_link, sizeof(s->on_link));
	memcpy(s->gw_hdrs, prev->gw_hdrs, (size_t)s->n_ports * 2 * sizeof(*s->gw_hdrs));
	return 0;
}

/* Is table t used by a pool of s? */
static bool
sl_table_in_use(const struct sl_snapshot *s, const struct sl_maglev_table *t)
{
	for (uint32_t k = 0; k < s->n_pools; k++)
		if (s->pools[k].shared == t || s->pools[k].unprobed == t)
			return true;
	return false;
}

/* Drop from the cache the tables of pool p that snapshot keep does not use. */
static void
sl_forget_pool_tables(struct sl_table_cache *c, const struct sl_pool *p,
		      const struct sl_snapshot *keep)
{
	if (p->shared != NULL && !sl_table_in_use(keep, p->shared))
		sl_table_cache_forget(c, p->shared);
	if (p->unprobed != NULL && !sl_table_in_use(keep, p->unprobed))
		sl_table_cache_forget(c, p->unprobed);
}

/* The new pool or rule of the delta, compiled into its place in x->s. */
static int
sl_delta_compile_part(const struct sl_compile_ctx *x, const struct sl_model_delta *d,
		      const struct sl_splice *sp)
{
	const struct sl_lb *lb = &x->m->lbs[d->lb];
	char lb_id[SL_COMPILE_ID_MAX];

	sl_compile_lb_id(lb, lb_id);
	if (sp->pools_new)
		return sl_compile_lb_pool(x, lb, lb_id, &lb->pools[d->idx], sp->pool, sp->backend);
	if (sp->rules_new)
		return sl_compile_lb_rule(x, lb, lb_id, &lb->rules[d->idx], sp->rule,
					  sp->pool_base, sp->fe_base);
	return 0;
}

/* Build s from prev and the delta; 0 or a negative errno with *x->err. */
static int
sl_delta_build(const struct sl_compile_ctx *x, const struct sl_snapshot *prev,
	       const struct sl_model_delta *d, const struct sl_splice *sp)
{
	struct sl_snapshot *s = x->s;
	int rc;

	sl_copy_rules(s, prev, sp);
	sl_copy_backends(s, prev, sp);
	rc = sl_copy_pools(s, prev, sp);
	if (rc < 0)
		return sl_compile_fail(x->err, rc, "", "the pools");
	rc = sl_copy_rest(s, prev, x->err);
	if (rc == 0)
		rc = sl_delta_compile_part(x, d, sp);
	if (rc == 0)
		rc = sl_delta_index(s, prev, sp, x->err);
	return rc;
}

struct sl_snapshot *
sl_compile_delta(const struct sl_model *m, const struct sl_snapshot *prev,
		 const struct sl_model_delta *delta, const struct sl_port_info *ports,
		 uint32_t n_ports, struct sl_id_registry *rule_ids,
		 struct sl_id_registry *backend_ids, struct sl_table_cache *tables,
		 const struct sl_health_hook *health, uint64_t generation, struct sl_error *err)
{
	struct sl_compile_ctx x;
	struct sl_splice sp;
	struct sl_snapshot *s;
	int rc;

	if (m == NULL || rule_ids == NULL || backend_ids == NULL || delta == NULL || prev == NULL ||
	    (n_ports > 0 && ports == NULL) || n_ports != prev->n_ports || prev->inputs_key == 0 ||
	    prev->inputs_key != sl_compile_inputs_key(m, ports, n_ports, health) ||
	    !sl_delta_plan(m, prev, delta, &sp) || sl_model_counts_check(&sp.n, NULL) < 0)
		return sl_compile_cached(m, ports, n_ports, rule_ids, backend_ids, tables, health,
					 generation, err);
	/* every element of the big arrays is copied or compiled: none zeroed first */
	s = sl_snapshot_alloc_unfilled(n_ports, (uint32_t)sp.n.rules, (uint32_t)sp.n.pools,
				       (uint32_t)sp.n.backends);
	if (s == NULL) {
		sl_compile_fail(err, -ENOMEM, "", "the snapshot");
		errno = ENOMEM;
		return NULL;
	}
	s->generation = generation;
	s->hash_seed = m->hash_seed;
	s->inputs_key = prev->inputs_key;
	s->incremental = 1;
	x = (struct sl_compile_ctx){.s = s, .m = m, .ports = ports, .n_ports = n_ports,
				    .rule_ids = rule_ids, .backend_ids = backend_ids,
				    .tables = tables, .health = health,
				    .seed = SL_MAGLEV_DEFAULT_SEED ^ m->hash_seed, .err = err};
	rc = sl_delta_build(&x, prev, delta, &sp);
	if (rc < 0) {
		if (sp.pools_new)
			sl_forget_pool_tables(tables, &s->pools[sp.pool], prev);
		sl_snapshot_free(s);
		errno = -rc;
		return NULL;
	}
	if (sp.pools_old)
		sl_forget_pool_tables(tables, &prev->pools[sp.pool], s);
	return s;
}
