/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_config_incr.c: one change to a load balancer's backend pool or
 * load-balancing rule validated and applied in place on the committed
 * model, with what it replaced kept for undo (see sl_config_incr.h), and
 * the deep equality of two models that holds it to the whole-document
 * validation.
 *
 * The element itself is read by validation's own parsers (sl_parse_pool(),
 * sl_parse_rule()) against the committed load balancer; the checks that
 * relate it to the rest of the model are validation's too (sl_check_*()),
 * run on what the change touches. The model is changed only once every
 * check has passed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "sl_config_incr.h"
#include "sl_config_parse.h"

struct sl_model_undo {
	struct sl_model_delta delta;
	struct sl_pool_cfg pool; /* a pool replaced or deleted */
	struct sl_rule_cfg rule; /* a rule replaced or deleted */
};

/* Where a change lands: its load balancer, in the model and the document. */
struct sl_incr {
	struct sl_lb_ctx c;
	struct sl_model *m;
	struct sl_lb *lb;
	uint32_t li;
	bool pool;          /* backendAddressPools; else loadBalancingRules */
	int idx;            /* the model's child of the path's name; -1 when none */
	const cJSON *coll;  /* the document's child list, after the edit */
	const cJSON *node;  /* PUT: the element put */
	char target[SL_JSON_TARGET_MAX];    /* "loadBalancers/<name>" */
	char props_path[SL_JSON_PATH_MAX];  /* "$.loadBalancers[li].properties" */
	char coll_path[SL_JSON_PATH_MAX];   /* ... ".backendAddressPools" */
	char item_path[SL_JSON_PATH_MAX];   /* ... "[i]" of the child put */
};

/* The name of a document element; NULL when it has none. */
static const char *
sl_incr_name(const cJSON *el)
{
	return sl_json_member_string(el, "name");
}

static bool
sl_incr_named(const cJSON *el, const char *name)
{
	const char *s = sl_incr_name(el);

	return s != NULL && name != NULL && strcasecmp(s, name) == 0;
}

/* The load balancer p names: in m (by scope and name) and at the same index in doc. */
static int
sl_incr_find_lb(struct sl_incr *x, struct sl_model *m, const cJSON *doc,
		const struct sl_res_path *p)
{
	const cJSON *dlb;
	struct sl_scope s;
	int li;

	snprintf(s.sub, sizeof(s.sub), "%s", p->sub);
	snprintf(s.rg, sizeof(s.rg), "%s", p->rg);
	li = sl_find_top(m->lbs, sizeof(*m->lbs), m->n_lbs, sl_lb_names(m), p->name, &s);
	if (li < 0)
		return -EAGAIN;
	dlb = cJSON_GetArrayItem(sl_json_member_array(doc, "loadBalancers"), li);
	if (!sl_incr_named(dlb, m->lbs[li].name))
		return -EAGAIN;
	x->coll = sl_json_member(sl_json_member(dlb, "properties"),
				 x->pool ? "backendAddressPools" : "loadBalancingRules");
	if (x->coll != NULL && !cJSON_IsArray(x->coll))
		return -EAGAIN;
	x->m = m;
	x->li = (uint32_t)li;
	x->lb = &m->lbs[li];
	return 0;
}

/*
 * The change p names, located: the document's child list must differ from
 * the model's by exactly that change, or it is not one done here. A child
 * created has a name no other child has (the model has none of it).
 */
static int
sl_incr_locate(struct sl_incr *x, struct sl_model *m, const cJSON *doc,
	       const struct sl_res_path *p, bool is_delete, struct sl_error *err)
{
	const char *coll = sl_res_child_collection(p->type, p->child);
	uint32_t n, n_doc;
	int rc;

	if (p->type != SL_RES_LB || coll == NULL || p->name[0] == '\0' ||
	    p->child_name[0] == '\0')
		return -EAGAIN;
	if (strcmp(coll, "backendAddressPools") == 0)
		x->pool = true;
	else if (strcmp(coll, "loadBalancingRules") == 0)
		x->pool = false;
	else
		return -EAGAIN;
	rc = sl_incr_find_lb(x, m, doc, p);
	if (rc < 0)
		return rc;
	if (x->pool) {
		n = x->lb->n_pools;
		x->idx = sl_find_name(x->lb->pools, sizeof(*x->lb->pools), n, p->child_name);
	} else {
		n = x->lb->n_rules;
		x->idx = sl_find_name(x->lb->rules, sizeof(*x->lb->rules), n, p->child_name);
	}
	n_doc = sl_array_size(x->coll);
	x->node = NULL;
	if (is_delete) {
		uint32_t next = (uint32_t)x->idx + 1;

		if (x->idx < 0 || n_doc + 1 != n)
			return -EAGAIN;
		/* the one after it took its place */
		if (next < n && !sl_incr_named(cJSON_GetArrayItem(x->coll, x->idx),
					       x->pool ? x->lb->pools[next].name :
							 x->lb->rules[next].name))
			return -EAGAIN;
	} else {
		if (n_doc != (x->idx < 0 ? n + 1 : n))
			return -EAGAIN;
		x->node = cJSON_GetArrayItem(x->coll, x->idx < 0 ? (int)n : x->idx);
		if (!sl_incr_named(x->node, p->child_name))
			return -EAGAIN;
	}

	sl_json_target_join(x->target, NULL, "loadBalancers", x->lb->name);
	snprintf(x->props_path, sizeof(x->props_path), "$.loadBalancers[%u].properties", x->li);
	sl_json_path_key(x->coll_path, x->props_path, coll);
	sl_json_path_index(x->item_path, x->coll_path, x->idx < 0 ? n : (uint32_t)x->idx);
	x->c.err = err;
	x->c.m = m;
	x->c.lb = x->lb;
	x->c.lb_index = x->li;
	x->c.target = x->target;
	return 0;
}

/* A pool that NIC ipConfigurations join has them as its addresses, and nothing else. */
static bool
sl_pool_has_nic_members(const struct sl_pool_cfg *pool)
{
	return pool->n_addresses > 0 && pool->addresses[0].from_nic;
}

/*
 * A replaced pool's rules reach every new address: once for each frontend
 * family and Floating IP among the rules on the pool, all a rule's check
 * depends on.
 */
static int
sl_incr_pool_rules(const struct sl_incr *x, uint32_t pi, const struct sl_pool_cfg *np)
{
	const struct sl_lb *lb = x->lb;
	char target[SL_JSON_TARGET_MAX], path[SL_JSON_PATH_MAX];
	bool seen[2][2] = {{false, false}, {false, false}};
	uint32_t i;
	int rc;

	for (i = 0; i < lb->n_rules; i++) {
		const struct sl_rule_cfg *rule = &lb->rules[i];
		int f = lb->frontends[rule->frontend].family == SL_AF_IPV6;

		if ((uint32_t)rule->pool != pi || seen[f][rule->floating_ip != 0])
			continue;
		seen[f][rule->floating_ip != 0] = true;
		sl_json_target_join(target, x->target, "loadBalancingRules", rule->name);
		snprintf(path, sizeof(path), "%s.loadBalancingRules[%u]", x->props_path, i);
		rc = sl_check_rule_families(&x->c, rule, np, target, path);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * The members of the new pool np at index pi: old's NIC members when NIC
 * ipConfigurations join it (then np may list no address), else np's
 * addresses, reachable by the pool's rules and linked to the NIC
 * ipConfigurations that have their addresses.
 */
static int
sl_incr_pool_members(const struct sl_incr *x, uint32_t pi, const struct sl_pool_cfg *old,
		     struct sl_pool_cfg *np)
{
	struct sl_address *v;
	uint32_t i;
	int rc;

	if (old != NULL && sl_pool_has_nic_members(old)) {
		char target[SL_JSON_TARGET_MAX], p[SL_JSON_PATH_MAX];

		if (np->n_addresses > 0) {
			sl_json_target_join(target, x->target, "backendAddressPools", np->name);
			sl_json_path_key(p, x->item_path, "properties");
			return sl_pool_mix_error(x->c.err, target, p, x->lb, np);
		}
		v = malloc(old->n_addresses * sizeof(*v));
		if (v == NULL)
			return sl_json_nomem(x->c.err, x->target, x->item_path);
		memcpy(v, old->addresses, old->n_addresses * sizeof(*v));
		free(np->addresses);
		np->addresses = v;
		np->n_addresses = old->n_addresses;
		return 0;
	}
	if (old != NULL) {
		rc = sl_incr_pool_rules(x, pi, np);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < np->n_addresses; i++)
		sl_link_address(x->m, &np->addresses[i]);
	return 0;
}

static int
sl_incr_pool_put(struct sl_incr *x, struct sl_model_undo *u)
{
	struct sl_lb *lb = x->lb;
	bool create = x->idx < 0;
	uint32_t pi = create ? lb->n_pools : (uint32_t)x->idx;
	struct sl_pool_cfg np, *v;
	int rc;

	memset(&np, 0, sizeof(np));
	rc = sl_check_lb_children(&x->c, x->props_path, lb->n_frontends, 1);
	if (rc == 0)
		rc = sl_parse_pool(&x->c, &np, pi, x->node, x->item_path);
	if (rc == 0)
		rc = sl_incr_pool_members(x, pi, create ? NULL : &lb->pools[pi], &np);
	if (rc < 0)
		goto fail;
	if (create) {
		v = realloc(lb->pools, (lb->n_pools + 1) * sizeof(*v));
		if (v == NULL) {
			rc = sl_json_nomem(x->c.err, x->target, x->item_path);
			goto fail;
		}
		lb->pools = v;
		lb->pools[lb->n_pools++] = np;
	} else {
		u->pool = lb->pools[pi];
		lb->pools[pi] = np;
	}
	rc = sl_check_lb_addresses(&x->c, x->coll_path);
	if (rc < 0) {
		if (create)
			lb->n_pools--;
		else
			lb->pools[pi] = u->pool;
		goto fail;
	}
	u->delta.op = create ? SL_DELTA_CREATE : SL_DELTA_REPLACE;
	u->delta.idx = pi;
	return 0;
fail:
	free(np.addresses);
	return rc;
}

/* A NIC member's reference (x->li, from) to its pool becomes (x->li, to). */
static void
sl_incr_move_ref(struct sl_model *m, uint32_t li, const struct sl_address *a, int from, int to)
{
	struct sl_nic_ipconfig *ic = &m->nics[a->nic].ipconfigs[a->ipconfig];
	uint32_t k;

	for (k = 0; k < ic->n_pools; k++) {
		if (ic->pools[k].lb == (int)li && ic->pools[k].idx == from) {
			ic->pools[k].idx = to;
			return;
		}
	}
}

/*
 * The pools after index d moved by step (-1: one was deleted at d, +1: it is
 * back): rules' pool indexes and the NIC ipConfigurations' references,
 * reached through the NIC members. References are renumbered one pool at a
 * time in the order that never makes one equal to another still to move.
 */
static void
sl_incr_shift_pools(struct sl_model *m, uint32_t li, uint32_t d, int step)
{
	struct sl_lb *lb = &m->lbs[li];
	uint32_t i, k, first = step < 0 ? d : d + 1;

	for (i = 0; i < lb->n_rules; i++) {
		if (step < 0 && lb->rules[i].pool > (int)d)
			lb->rules[i].pool--;
		else if (step > 0 && lb->rules[i].pool >= (int)d)
			lb->rules[i].pool++;
	}
	for (i = 0; i + first < lb->n_pools; i++) {
		/* deleted: the pools from d up; restored: from the last down to d + 1 */
		uint32_t q = step < 0 ? first + i : lb->n_pools - 1 - i;
		const struct sl_pool_cfg *pool = &lb->pools[q];

		if (!sl_pool_has_nic_members(pool))
			continue;
		for (k = 0; k < pool->n_addresses; k++)
			sl_incr_move_ref(m, li, &pool->addresses[k], (int)q - step, (int)q);
	}
}

/* The first rule (or NIC ipConfiguration) that refers to pool pi: it cannot be deleted. */
static int
sl_incr_pool_in_use(const struct sl_incr *x, uint32_t pi)
{
	const struct sl_lb *lb = x->lb;
	const struct sl_pool_cfg *pool = &lb->pools[pi];
	char target[SL_JSON_TARGET_MAX], p[SL_JSON_PATH_MAX], t[SL_JSON_TARGET_MAX];
	uint32_t i;

	for (i = 0; i < lb->n_rules; i++) {
		if ((uint32_t)lb->rules[i].pool != pi)
			continue;
		sl_json_target_join(target, x->target, "loadBalancingRules", lb->rules[i].name);
		snprintf(p, sizeof(p), "%s.loadBalancingRules[%u].properties.backendAddressPool.id",
			 x->props_path, i);
		return sl_error_set(x->c.err, "InvalidResourceReference", target, p,
				    "Load balancer '%s' has no backend address pool '%s'.", lb->name,
				    pool->name);
	}
	if (sl_pool_has_nic_members(pool)) {
		const struct sl_address *a = &pool->addresses[0];
		const struct sl_nic *nic = &x->m->nics[a->nic];

		sl_json_target_join(t, NULL, "networkInterfaces", nic->name);
		sl_json_target_join(target, t, "ipConfigurations", nic->ipconfigs[a->ipconfig].name);
		snprintf(p, sizeof(p),
			 "$.networkInterfaces[%d].properties.ipConfigurations[%d].properties.loadBalancerBackendAddressPools",
			 a->nic, a->ipconfig);
		return sl_error_set(x->c.err, "InvalidResourceReference", target, p,
				    "Load balancer '%s' has no backend address pool '%s'.", lb->name,
				    pool->name);
	}
	return 0;
}

static int
sl_incr_pool_delete(struct sl_incr *x, struct sl_model_undo *u)
{
	struct sl_lb *lb = x->lb;
	uint32_t pi = (uint32_t)x->idx;
	int rc;

	rc = sl_incr_pool_in_use(x, pi);
	if (rc < 0)
		return rc;
	u->pool = lb->pools[pi];
	memmove(&lb->pools[pi], &lb->pools[pi + 1], (lb->n_pools - pi - 1) * sizeof(*lb->pools));
	lb->n_pools--;
	sl_incr_shift_pools(x->m, x->li, pi, -1);
	u->delta.op = SL_DELTA_DELETE;
	u->delta.idx = pi;
	return 0;
}

/*
 * The rule against every other rule and every inbound NAT rule of its load
 * balancer. The checks are symmetric: the new rule is b in each pair, the
 * one the error blames.
 */
static int
sl_incr_rule_pairs(const struct sl_incr *x, uint32_t ri, const struct sl_rule_cfg *nr)
{
	const struct sl_lb *lb = x->lb;
	char target[SL_JSON_TARGET_MAX], pp[SL_JSON_PATH_MAX], p[SL_JSON_PATH_MAX];
	uint32_t i;
	int rc;

	sl_json_target_join(target, x->target, "loadBalancingRules", nr->name);
	sl_json_path_key(pp, x->item_path, "properties");
	sl_json_path_key(p, pp, "frontendPort");
	for (i = 0; i < lb->n_rules; i++) {
		if (i == ri)
			continue;
		rc = sl_check_rule_pair(&x->c, &lb->rules[i], nr, target, pp);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < lb->n_nat_rules; i++) {
		rc = sl_check_nat_pair(&x->c, nr, &lb->nat_rules[i], target, p);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
sl_incr_rule_put(struct sl_incr *x, struct sl_model_undo *u)
{
	struct sl_lb *lb = x->lb;
	bool create = x->idx < 0;
	uint32_t ri = create ? lb->n_rules : (uint32_t)x->idx;
	struct sl_rule_cfg nr, *v;
	int rc;

	memset(&nr, 0, sizeof(nr));
	rc = sl_check_lb_children(&x->c, x->props_path, lb->n_frontends, 1);
	if (rc == 0 && create)
		rc = sl_check_rule_count(&x->c, lb->n_rules + 1, x->coll_path);
	if (rc == 0)
		rc = sl_parse_rule(&x->c, &nr, ri, x->node, x->item_path);
	if (rc == 0)
		rc = sl_incr_rule_pairs(x, ri, &nr);
	if (rc < 0)
		return rc;
	if (create) {
		v = realloc(lb->rules, (lb->n_rules + 1) * sizeof(*v));
		if (v == NULL)
			return sl_json_nomem(x->c.err, x->target, x->item_path);
		lb->rules = v;
		lb->rules[lb->n_rules++] = nr;
	} else {
		u->rule = lb->rules[ri];
		lb->rules[ri] = nr;
	}
	u->delta.op = create ? SL_DELTA_CREATE : SL_DELTA_REPLACE;
	u->delta.idx = ri;
	return 0;
}

static int
sl_incr_rule_delete(struct sl_incr *x, struct sl_model_undo *u)
{
	struct sl_lb *lb = x->lb;
	uint32_t ri = (uint32_t)x->idx;

	u->rule = lb->rules[ri];
	memmove(&lb->rules[ri], &lb->rules[ri + 1], (lb->n_rules - ri - 1) * sizeof(*lb->rules));
	lb->n_rules--;
	u->delta.op = SL_DELTA_DELETE;
	u->delta.idx = ri;
	return 0;
}

int
sl_model_apply_change(struct sl_model *m, const cJSON *doc, const struct sl_res_path *p,
		      bool is_delete, struct sl_model_undo **undo, struct sl_error *err)
{
	struct sl_model_undo *u;
	struct sl_incr x;
	int rc;

	*undo = NULL;
	memset(&x, 0, sizeof(x));
	rc = sl_incr_locate(&x, m, doc, p, is_delete, err);
	if (rc < 0)
		return rc;
	u = calloc(1, sizeof(*u));
	if (u == NULL || (m->index == NULL && sl_model_index_build(m) < 0)) {
		free(u);
		return sl_json_nomem(err, x.target, x.item_path);
	}
	u->delta.kind = x.pool ? SL_DELTA_POOL : SL_DELTA_RULE;
	u->delta.lb = x.li;
	if (x.pool)
		rc = is_delete ? sl_incr_pool_delete(&x, u) : sl_incr_pool_put(&x, u);
	else
		rc = is_delete ? sl_incr_rule_delete(&x, u) : sl_incr_rule_put(&x, u);
	if (rc < 0) {
		free(u);
		if (err != NULL)
			err->file[0] = '\0';
		return rc;
	}
	*undo = u;
	return 0;
}

const struct sl_model_delta *
sl_model_undo_delta(const struct sl_model_undo *u)
{
	return &u->delta;
}

void
sl_model_undo_restore(struct sl_model *m, struct sl_model_undo *u)
{
	struct sl_lb *lb = &m->lbs[u->delta.lb];
	uint32_t i = u->delta.idx;

	if (u->delta.kind == SL_DELTA_POOL) {
		if (u->delta.op == SL_DELTA_DELETE) {
			/* the array was not shrunk: there is room for it */
			memmove(&lb->pools[i + 1], &lb->pools[i],
				(lb->n_pools - i) * sizeof(*lb->pools));
			lb->pools[i] = u->pool;
			lb->n_pools++;
			sl_incr_shift_pools(m, u->delta.lb, i, +1);
		} else {
			free(lb->pools[i].addresses);
			if (u->delta.op == SL_DELTA_REPLACE)
				lb->pools[i] = u->pool;
			else
				lb->n_pools--;
		}
	} else if (u->delta.op == SL_DELTA_DELETE) {
		memmove(&lb->rules[i + 1], &lb->rules[i], (lb->n_rules - i) * sizeof(*lb->rules));
		lb->rules[i] = u->rule;
		lb->n_rules++;
	} else if (u->delta.op == SL_DELTA_REPLACE) {
		lb->rules[i] = u->rule;
	} else {
		lb->n_rules--;
	}
	free(u);
}

void
sl_model_undo_free(struct sl_model_undo *u)
{
	if (u == NULL)
		return;
	if (u->delta.kind == SL_DELTA_POOL && u->delta.op != SL_DELTA_CREATE)
		free(u->pool.addresses);
	free(u);
}

/*
 * sl_model_equal() compares every field: a struct that grows makes the
 * build stop here until its comparison below grows too (64-bit layouts).
 */
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct sl_model) == 72, "compare the new field in sl_model_equal()");
_Static_assert(sizeof(struct sl_vnet) == 320, "compare the new field in sl_eq_vnet()");
_Static_assert(sizeof(struct sl_subnet) == 98, "compare the new field in sl_eq_subnet()");
_Static_assert(sizeof(struct sl_frontend) == 108, "compare the new field in sl_eq_frontend()");
_Static_assert(sizeof(struct sl_address) == 200, "compare the new field in sl_eq_address()");
_Static_assert(sizeof(struct sl_pool_cfg) == 104, "compare the new field in sl_eq_pool()");
_Static_assert(sizeof(struct sl_rule_cfg) == 112, "compare the new field in sl_eq_rule()");
_Static_assert(sizeof(struct sl_probe_cfg) == 360, "compare the new field in sl_eq_probe()");
_Static_assert(sizeof(struct sl_nat_rule_cfg) == 108, "compare the new field in sl_eq_nat_rule()");
_Static_assert(sizeof(struct sl_nic_ipconfig) == 144, "compare the new field in sl_eq_ipconfig()");
_Static_assert(sizeof(struct sl_nic) == 576, "compare the new field in sl_eq_nic()");
_Static_assert(sizeof(struct sl_lb) == 640, "compare the new field in sl_eq_lb()");
#endif

/* Deep equality: the first difference, as "<where>.<field>: <a> != <b>". */
struct sl_eq {
	char *why;
	size_t len;
};

static bool sl_eq_fail(const struct sl_eq *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool
sl_eq_fail(const struct sl_eq *q, const char *fmt, ...)
{
	va_list ap;

	if (q->why != NULL && q->len > 0) {
		va_start(ap, fmt);
		vsnprintf(q->why, q->len, fmt, ap);
		va_end(ap);
	}
	return false;
}

#define SL_EQ_NUM(f)                                                                      \
	do {                                                                              \
		if (a->f != b->f)                                                          \
			return sl_eq_fail(q, "%s.%s: %lld != %lld", where, #f,             \
					  (long long)a->f, (long long)b->f);               \
	} while (0)
#define SL_EQ_STR(f)                                                                      \
	do {                                                                              \
		if (strcmp(a->f, b->f) != 0)                                               \
			return sl_eq_fail(q, "%s.%s: '%s' != '%s'", where, #f, a->f, b->f); \
	} while (0)
#define SL_EQ_MEM(f)                                                                      \
	do {                                                                              \
		if (memcmp(&a->f, &b->f, sizeof(a->f)) != 0)                               \
			return sl_eq_fail(q, "%s.%s differs", where, #f);                  \
	} while (0)
/* Lists a->arr[0..a->n) and b's, element by element with fn. */
#define SL_EQ_LIST(arr, n, fn)                                                            \
	do {                                                                              \
		char w_[SL_JSON_PATH_MAX];                                                 \
		SL_EQ_NUM(n);                                                              \
		for (uint32_t i_ = 0; i_ < a->n; i_++) {                                   \
			snprintf(w_, sizeof(w_), "%s.%s[%u]", where, #arr, i_);           \
			if (!fn(&a->arr[i_], &b->arr[i_], w_, q))                          \
				return false;                                              \
		}                                                                          \
	} while (0)

static bool
sl_eq_prefix(const struct sl_prefix *a, const struct sl_prefix *b, const char *where,
	     const struct sl_eq *q)
{
	SL_EQ_MEM(addr);
	SL_EQ_NUM(len);
	return true;
}

static bool
sl_eq_scope(const struct sl_scope *a, const struct sl_scope *b, const char *where,
	    const struct sl_eq *q)
{
	SL_EQ_STR(sub);
	SL_EQ_STR(rg);
	return true;
}

static bool
sl_eq_subnet(const struct sl_subnet *a, const struct sl_subnet *b, const char *where,
	     const struct sl_eq *q)
{
	SL_EQ_STR(name);
	return sl_eq_prefix(&a->prefix, &b->prefix, where, q);
}

static bool
sl_eq_vnet(const struct sl_vnet *a, const struct sl_vnet *b, const char *where,
	   const struct sl_eq *q)
{
	SL_EQ_STR(name);
	if (!sl_eq_scope(&a->scope, &b->scope, where, q))
		return false;
	SL_EQ_LIST(prefixes, n_prefixes, sl_eq_prefix);
	SL_EQ_LIST(subnets, n_subnets, sl_eq_subnet);
	SL_EQ_NUM(delivery);
	SL_EQ_NUM(vni);
	SL_EQ_NUM(udp_port);
	SL_EQ_NUM(vlan_id);
	return true;
}

static bool
sl_eq_frontend(const struct sl_frontend *a, const struct sl_frontend *b, const char *where,
	       const struct sl_eq *q)
{
	SL_EQ_STR(name);
	SL_EQ_MEM(addr);
	SL_EQ_NUM(family);
	SL_EQ_NUM(vnet);
	SL_EQ_NUM(subnet);
	return true;
}

static bool
sl_eq_address(const struct sl_address *a, const struct sl_address *b, const char *where,
	      const struct sl_eq *q)
{
	SL_EQ_STR(name);
	SL_EQ_MEM(addr);
	SL_EQ_NUM(family);
	SL_EQ_NUM(from_nic);
	SL_EQ_NUM(vnet);
	SL_EQ_NUM(weight);
	SL_EQ_NUM(admin_state);
	SL_EQ_NUM(nic);
	SL_EQ_NUM(ipconfig);
	return true;
}

static bool
sl_eq_pool(const struct sl_pool_cfg *a, const struct sl_pool_cfg *b, const char *where,
	   const struct sl_eq *q)
{
	SL_EQ_STR(name);
	SL_EQ_LIST(addresses, n_addresses, sl_eq_address);
	SL_EQ_NUM(drain_period_s);
	return true;
}

static bool
sl_eq_rule(const struct sl_rule_cfg *a, const struct sl_rule_cfg *b, const char *where,
	   const struct sl_eq *q)
{
	SL_EQ_STR(name);
	SL_EQ_NUM(frontend);
	SL_EQ_NUM(pool);
	SL_EQ_NUM(proto);
	SL_EQ_NUM(frontend_port);
	SL_EQ_NUM(backend_port);
	SL_EQ_NUM(dist);
	SL_EQ_NUM(floating_ip);
	SL_EQ_NUM(idle_timeout_min);
	SL_EQ_NUM(enable_tcp_reset);
	SL_EQ_NUM(probe);
	return true;
}

static bool
sl_eq_probe(const struct sl_probe_cfg *a, const struct sl_probe_cfg *b, const char *where,
	    const struct sl_eq *q)
{
	SL_EQ_STR(name);
	SL_EQ_NUM(protocol);
	SL_EQ_NUM(port);
	SL_EQ_NUM(interval_s);
	SL_EQ_NUM(number_of_probes);
	SL_EQ_NUM(probe_threshold);
	SL_EQ_STR(request_path);
	return true;
}

static bool
sl_eq_nat_rule(const struct sl_nat_rule_cfg *a, const struct sl_nat_rule_cfg *b,
	       const char *where, const struct sl_eq *q)
{
	SL_EQ_STR(name);
	SL_EQ_NUM(frontend);
	SL_EQ_NUM(proto);
	SL_EQ_NUM(frontend_port);
	SL_EQ_NUM(backend_port);
	SL_EQ_NUM(idle_timeout_min);
	SL_EQ_NUM(floating_ip);
	SL_EQ_NUM(enable_tcp_reset);
	SL_EQ_NUM(nic);
	SL_EQ_NUM(ipconfig);
	return true;
}

static bool
sl_eq_lb(const struct sl_lb *a, const struct sl_lb *b, const char *where, const struct sl_eq *q)
{
	SL_EQ_STR(name);
	if (!sl_eq_scope(&a->scope, &b->scope, where, q))
		return false;
	SL_EQ_STR(label);
	SL_EQ_NUM(standard_sku);
	SL_EQ_NUM(vnet);
	SL_EQ_LIST(frontends, n_frontends, sl_eq_frontend);
	SL_EQ_LIST(pools, n_pools, sl_eq_pool);
	SL_EQ_LIST(rules, n_rules, sl_eq_rule);
	SL_EQ_LIST(probes, n_probes, sl_eq_probe);
	SL_EQ_LIST(nat_rules, n_nat_rules, sl_eq_nat_rule);
	return true;
}

static bool
sl_eq_child_ref(const struct sl_lb_child_ref *a, const struct sl_lb_child_ref *b,
		const char *where, const struct sl_eq *q)
{
	SL_EQ_NUM(lb);
	SL_EQ_NUM(idx);
	return true;
}

static bool
sl_eq_ipconfig(const struct sl_nic_ipconfig *a, const struct sl_nic_ipconfig *b,
	       const char *where, const struct sl_eq *q)
{
	SL_EQ_STR(name);
	SL_EQ_MEM(addr);
	SL_EQ_NUM(family);
	SL_EQ_NUM(dynamic);
	SL_EQ_NUM(primary);
	SL_EQ_NUM(vnet);
	SL_EQ_NUM(subnet);
	SL_EQ_LIST(pools, n_pools, sl_eq_child_ref);
	SL_EQ_LIST(nat_rules, n_nat_rules, sl_eq_child_ref);
	return true;
}

static bool
sl_eq_nic(const struct sl_nic *a, const struct sl_nic *b, const char *where, const struct sl_eq *q)
{
	SL_EQ_STR(name);
	if (!sl_eq_scope(&a->scope, &b->scope, where, q))
		return false;
	SL_EQ_STR(label);
	SL_EQ_NUM(has_mac);
	SL_EQ_MEM(mac);
	SL_EQ_LIST(ipconfigs, n_ipconfigs, sl_eq_ipconfig);
	return true;
}

bool
sl_model_equal(const struct sl_model *a, const struct sl_model *b, char *why, size_t len)
{
	const struct sl_eq eq = {why, len}, *q = &eq;
	const char *where = "model";

	if (why != NULL && len > 0)
		why[0] = '\0';
	SL_EQ_NUM(maglev_size);
	SL_EQ_NUM(hash_seed);
	SL_EQ_NUM(max_addresses_per_pool);
	SL_EQ_NUM(max_addresses_per_lb);
	SL_EQ_LIST(vnets, n_vnets, sl_eq_vnet);
	SL_EQ_LIST(lbs, n_lbs, sl_eq_lb);
	SL_EQ_LIST(nics, n_nics, sl_eq_nic);
	return true;
}
