/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_config.c: the configuration JSON -> the validated resource model.
 *
 * One pass over the cJSON tree in document order: settings, virtual networks
 * (sl_config_vnet.c), then each load balancer (sl_config_lb.c: frontends,
 * probes, backend pools, rules, the checks that compare rules with each
 * other, inbound NAT rules), then the network interfaces (sl_config_nic.c:
 * their ipConfigurations join NIC-based pools and take inbound NAT rules;
 * addresses shared between them are checked after the last NIC, and the
 * NIC-based pools are filled then). The first violation stops the parse:
 * struct sl_error gets a stable code (docs/error-codes.md), a message, the
 * resource at fault as a target ("loadBalancers/lb1/backendAddressPools/
 * pool1") and the JSON path of the offending value
 * ("$.loadBalancers[0].properties.backendAddressPools[0]"), and nothing of
 * the partial model survives. The format itself is docs/configuration.md.
 *
 * This file holds the entry points, the document's root and settings, and
 * what every resource family uses: names, ids and references. A change to
 * one pool or rule is validated in place by the same parsers and checks
 * (sl_config_incr.c).
 *
 * Property names are matched case-insensitively (cJSON_GetObjectItem), as
 * ARM does, so an object that holds one name twice in any spelling is
 * refused rather than silently half-read. JSON null means absent.
 *
 * Validation only reads the document. Dynamic NIC addresses are the one
 * thing written into it, by sl_config_assign_dynamic_ips() (sl_dynamic_ip.c),
 * which runs before validation and skips whatever is malformed, leaving it to
 * be reported by validation.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "sl_config_parse.h"
#include "sl_maglev.h"
#include "sl_path.h"

/* Lookups by name walk arrays of these structs through their first member. */
_Static_assert(offsetof(struct sl_vnet, name) == 0, "name first");
_Static_assert(offsetof(struct sl_subnet, name) == 0, "name first");
_Static_assert(offsetof(struct sl_lb, name) == 0, "name first");
_Static_assert(offsetof(struct sl_frontend, name) == 0, "name first");
_Static_assert(offsetof(struct sl_pool_cfg, name) == 0, "name first");
_Static_assert(offsetof(struct sl_address, name) == 0, "name first");
_Static_assert(offsetof(struct sl_rule_cfg, name) == 0, "name first");
_Static_assert(offsetof(struct sl_probe_cfg, name) == 0, "name first");
_Static_assert(offsetof(struct sl_nat_rule_cfg, name) == 0, "name first");
_Static_assert(offsetof(struct sl_nic, name) == 0, "name first");
_Static_assert(offsetof(struct sl_nic_ipconfig, name) == 0, "name first");
/* Top-level resources begin as struct sl_top_head; load balancers and NICs add their label. */
_Static_assert(offsetof(struct sl_vnet, scope) == offsetof(struct sl_top_head, scope), "scope");
_Static_assert(offsetof(struct sl_lb, scope) == offsetof(struct sl_top_head, scope), "scope");
_Static_assert(offsetof(struct sl_nic, scope) == offsetof(struct sl_top_head, scope), "scope");
_Static_assert(offsetof(struct sl_lb, label) == sizeof(struct sl_top_head), "label");
_Static_assert(offsetof(struct sl_nic, label) == sizeof(struct sl_top_head), "label");

static bool
sl_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Azure's rule for names, with sluice's length limit. */
static bool
sl_name_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > SL_CONFIG_NAME_MAX_LEN || !sl_is_alnum(s[0]))
		return false;
	for (i = 1; i < n; i++) {
		char c = s[i];

		if (sl_is_alnum(c) || c == '_')
			continue;
		if ((c == '.' || c == '-') && i != n - 1)
			continue;
		return false;
	}
	return true;
}

/* Index of the element of base[0..n) (name first in each) named name, or -1. */
int
sl_find_name(const void *base, size_t stride, uint32_t n, const char *name)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (strcasecmp((const char *)base + i * stride, name) == 0)
			return (int)i;
	}
	return -1;
}

const char *
sl_family_name(uint8_t family)
{
	return family == SL_AF_IPV6 ? "IPv6" : "IPv4";
}

bool
sl_ip_unusable(const struct sl_ip_addr *a)
{
	static const struct sl_ip_addr zero6;

	if (sl_ip_addr_is_v4(a))
		return sl_ip_addr_v4(a) == 0 || a->bytes[12] >= 224;
	return sl_ip_addr_eq(a, &zero6) || a->bytes[0] == 0xff;
}

int
sl_cfg_ip(const struct sl_where *w, const char *key, bool required, struct sl_ip_addr *a,
	  uint8_t *family)
{
	char p[SL_JSON_PATH_MAX];
	const char *s;
	int rc;

	rc = sl_where_ip(w, key, required, a, family);
	if (rc <= 0)
		return rc;
	if (sl_ip_unusable(a)) {
		sl_json_path_key(p, w->path, key);
		s = sl_json_member_string(w->obj, key);
		return sl_error_set(w->err, "InvalidIPAddress", w->target, p,
				    "'%s' is an unspecified, broadcast or multicast address.", s);
	}
	return 1;
}

int
sl_vnet_contains(const struct sl_vnet *v, const struct sl_ip_addr *addr)
{
	uint32_t i;

	if (v == NULL || addr == NULL)
		return 0;
	for (i = 0; i < v->n_prefixes; i++) {
		if (sl_prefix_contains(&v->prefixes[i], addr))
			return 1;
	}
	return 0;
}

int
sl_prefix_error(struct sl_error *e, const char *target, const char *path, const char *text, int rc,
		const struct sl_prefix *p)
{
	char net[64];

	if (rc == -ERANGE) {
		sl_ip_addr_format(&p->addr, net, sizeof(net));
		return sl_error_set(e, "InvalidAddressPrefix", target, path,
				    "'%s' has host bits set; the prefix is %s/%u.", text, net,
				    sl_prefix_family_len(p));
	}
	return sl_error_set(e, "InvalidAddressPrefix", target, path,
			    "'%s' is not a CIDR prefix such as 10.0.0.0/16 or fd00::/48.", text);
}

/*
 * Split a resource id at its last "<type>/<name>" pair (type matched
 * case-insensitively); the name must be the last segment. A bare name (no
 * '/') is accepted as the name. When parent_type is given and the id has
 * segments before the type, they must end in "<parent_type>/<parent>".
 * Returns 0, or -EINVAL when the id is not of that shape.
 */
int
sl_ref_split(const char *id, const char *parent_type, const char *type, struct sl_ref *r)
{
	struct sl_segs g;
	uint32_t n, k;

	r->parent[0] = '\0';
	r->name[0] = '\0';
	r->scope.sub[0] = '\0';
	r->scope.rg[0] = '\0';
	if (sl_path_split(id, &g, SL_PATH_MAX_SEGMENTS) != 0)
		return -EINVAL;
	(void)sl_path_scope(&g, r->scope.sub, r->scope.rg);
	n = g.n;
	if (n == 0)
		return -EINVAL;
	if (n == 1)
		return strchr(id, '/') == NULL ? sl_path_seg_copy(&g, 0, r->name, sizeof(r->name)) : -EINVAL;
	k = n - 2;
	if (!sl_path_seg_is(&g, k, type))
		return -EINVAL;
	if (parent_type != NULL && k > 0) {
		if (k < 2 || !sl_path_seg_is(&g, k - 2, parent_type))
			return -EINVAL;
		if (sl_path_seg_copy(&g, k - 1, r->parent, sizeof(r->parent)) < 0)
			return -EINVAL;
	}
	return sl_path_seg_copy(&g, k + 1, r->name, sizeof(r->name));
}

void
sl_id_scope(const char *id, struct sl_scope *s)
{
	struct sl_segs g;

	s->sub[0] = '\0';
	s->rg[0] = '\0';
	if (id != NULL && sl_path_split(id, &g, SL_PATH_MAX_SEGMENTS) == 0)
		(void)sl_path_scope(&g, s->sub, s->rg);
}

bool
sl_scope_match(const struct sl_scope *a, const struct sl_scope *b)
{
	if (a->sub[0] == '\0' || b->sub[0] == '\0')
		return true;
	return strcasecmp(a->sub, b->sub) == 0 && strcasecmp(a->rg, b->rg) == 0;
}

static const struct sl_top_head *
sl_top_at(const void *base, size_t stride, uint32_t i)
{
	return (const struct sl_top_head *)((const char *)base + (size_t)i * stride);
}

int
sl_top_names(struct sl_name_index *names, const void *base, size_t stride, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (sl_name_index_add(names, sl_top_at(base, stride, i)->name,
				      (void *)(uintptr_t)i) == NULL)
			return -ENOMEM;
	return 0;
}

/* Is h named name (case-insensitively) in scope want? */
static bool
sl_top_is(const struct sl_top_head *h, const char *name, const struct sl_scope *want)
{
	return strcasecmp(h->name, name) == 0 && sl_scope_match(&h->scope, want);
}

int
sl_find_top(const void *base, size_t stride, uint32_t n, const struct sl_name_index *names,
	    const char *name, const struct sl_scope *want)
{
	const struct sl_name_entry *e = names != NULL ? sl_name_index_first(names, name) : NULL;
	int found = SL_TOP_NONE;

	/* through names, the resources of that name (in document order); else every one */
	for (uint32_t k = 0; names != NULL ? e != NULL : k < n; k++) {
		uint32_t i = names != NULL ? (uint32_t)(uintptr_t)e->value : k;

		if (names != NULL)
			e = sl_name_index_next(e);
		if (!sl_top_is(sl_top_at(base, stride, i), name, want))
			continue;
		if (found >= 0)
			return SL_TOP_AMBIGUOUS;
		found = (int)i;
	}
	return found;
}

void
sl_addr_key(const struct sl_ip_addr *a, char key[SL_ADDR_KEY_LEN])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < sizeof(a->bytes); i++) {
		key[2 * i] = hex[a->bytes[i] >> 4];
		key[2 * i + 1] = hex[a->bytes[i] & 15];
	}
	key[2 * sizeof(a->bytes)] = '\0';
}

int
sl_frontend_in_use(const struct sl_model *m, const struct sl_ip_addr *a, uint32_t *k)
{
	char key[SL_ADDR_KEY_LEN];
	const struct sl_name_entry *e;
	const struct sl_lb *lb;

	sl_addr_key(a, key);
	e = sl_name_index_first(&m->index->fe_addrs, key);
	if (e == NULL)
		return -1;
	lb = &m->lbs[(uintptr_t)e->value];
	for (*k = 0; !sl_ip_addr_eq(&lb->frontends[*k].addr, a); (*k)++)
		;
	return (int)(uintptr_t)e->value;
}

int
sl_frontend_read(struct sl_model *m, const struct sl_ip_addr *a, uint32_t li)
{
	char key[SL_ADDR_KEY_LEN];

	sl_addr_key(a, key);
	if (sl_name_index_has(&m->index->fe_addrs, key))
		return 0; /* the first load balancer stays */
	return sl_name_index_add(&m->index->fe_addrs, key, (void *)(uintptr_t)li) != NULL ? 0
											  : -ENOMEM;
}

/* " in resource group 'G' of subscription 'S'", or "" for no scope. */
static const char *
sl_scope_text(const struct sl_scope *s, char *buf, size_t len)
{
	if (s->sub[0] == '\0')
		return "";
	snprintf(buf, len, " in resource group '%s' of subscription '%s'", s->rg, s->sub);
	return buf;
}

int
sl_ref_error(const struct sl_where *w, const char *idpath, const char *id, const char *what,
	     const struct sl_ref *ref, int rc)
{
	char where[2 * SL_RES_SCOPE_MAX + 64], lower[32];
	const char *name = ref->parent[0] != '\0' ? ref->parent : ref->name;

	snprintf(lower, sizeof(lower), "%s", what);
	if (lower[0] >= 'A' && lower[0] <= 'Z')
		lower[0] = (char)(lower[0] - 'A' + 'a');
	if (rc == SL_TOP_AMBIGUOUS)
		return sl_error_set(w->err, "AmbiguousResourceReference", w->target, idpath,
				    "'%s' names no subscription and resource group, and more than one %s is named '%s'; use its full id (/subscriptions/{sub}/resourceGroups/{rg}/providers/...).",
				    id, lower, name);
	return sl_error_set(w->err, "InvalidResourceReference", w->target, idpath,
			    "%s '%s'%s is not defined.", what, name,
			    sl_scope_text(&ref->scope, where, sizeof(where)));
}

/* What sl_check_top() sorts: indexes into an array of top-level resources. */
struct sl_top_order {
	const void *base;
	size_t stride;
};

/* Top-level resources by name (case-insensitively), then by document order. */
static int
sl_cmp_top(const void *pa, const void *pb, void *arg)
{
	const struct sl_top_order *o = arg;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	int c = strcasecmp(sl_top_at(o->base, o->stride, a)->name,
			   sl_top_at(o->base, o->stride, b)->name);

	if (c != 0)
		return c;
	return a < b ? -1 : a > b;
}

/* Labels of a run idx[0..n) of resources of one name (struct sl_nic). */
static void
sl_label_run(void *base, size_t stride, const uint32_t *idx, uint32_t n)
{
	uint32_t i, j;

	for (i = 0; i < n; i++) {
		const struct sl_top_head *h = sl_top_at(base, stride, idx[i]);
		char *label = (char *)h + sizeof(*h);
		bool same_rg = false;

		for (j = 0; j < n; j++)
			same_rg |= j != i &&
				   strcasecmp(sl_top_at(base, stride, idx[j])->scope.rg, h->scope.rg) == 0;
		if (n == 1)
			snprintf(label, SL_LABEL_MAX, "%s", h->name);
		else if (!same_rg)
			snprintf(label, SL_LABEL_MAX, "%s:%s", h->scope.rg, h->name);
		else
			snprintf(label, SL_LABEL_MAX, "%s:%s:%s", h->scope.sub, h->scope.rg, h->name);
	}
}

/* In a run idx[0..n) of one name: the latest in document order that is an earlier one again. */
static int64_t
sl_run_dup(const void *base, size_t stride, const uint32_t *idx, uint32_t n, uint32_t *first)
{
	int64_t best = -1;
	uint32_t i, j;

	for (j = 1; j < n; j++) {
		const struct sl_top_head *b = sl_top_at(base, stride, idx[j]);

		for (i = 0; i < j; i++) {
			if (!sl_scope_match(&sl_top_at(base, stride, idx[i])->scope, &b->scope))
				continue;
			if (best < 0 || idx[j] < best) {
				best = idx[j];
				*first = idx[i];
			}
			break;
		}
	}
	return best;
}

static int
sl_dup_error(struct sl_error *e, const void *base, size_t stride, uint32_t dup, uint32_t first,
	     const char *coll, const char *path)
{
	const struct sl_top_head *a = sl_top_at(base, stride, first), *b = sl_top_at(base, stride, dup);
	char el[SL_JSON_PATH_MAX], p[SL_JSON_PATH_MAX], target[SL_JSON_TARGET_MAX];
	char where[2 * SL_RES_SCOPE_MAX + 64];

	sl_json_path_index(el, path, dup);
	sl_json_path_key(p, el, "name");
	sl_json_target_join(target, NULL, coll, b->name);
	if (a->scope.sub[0] != '\0' && b->scope.sub[0] != '\0')
		return sl_error_set(e, "DuplicateResourceName", target, p,
				    "Two %s are named '%s'%s; names are unique (case-insensitively) within a resource group.",
				    coll, b->name, sl_scope_text(&b->scope, where, sizeof(where)));
	return sl_error_set(e, "DuplicateResourceName", target, p,
			    "Two %s are named '%s' and one of them has no id: a resource without an id belongs to every resource group, so no other of its type may have its name.",
			    coll, b->name);
}

int
sl_check_top(struct sl_error *e, void *base, size_t stride, uint32_t n, const char *coll,
	     const char *path, bool labels)
{
	struct sl_top_order o = {base, stride};
	uint32_t *idx, i, run, first = 0;
	int64_t best = -1, d;

	if (n == 0)
		return 0;
	idx = malloc(n * sizeof(*idx));
	if (idx == NULL)
		return sl_json_nomem(e, coll, path);
	for (i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), sl_cmp_top, &o);
	for (run = 0, i = 1; i <= n; i++) {
		uint32_t f = 0;

		if (i < n && strcasecmp(sl_top_at(base, stride, idx[i])->name,
					sl_top_at(base, stride, idx[run])->name) == 0)
			continue;
		d = sl_run_dup(base, stride, idx + run, i - run, &f);
		if (d >= 0 && (best < 0 || d < best)) {
			best = d;
			first = f;
		}
		if (labels)
			sl_label_run(base, stride, idx + run, i - run);
		run = i;
	}
	free(idx);
	if (best >= 0)
		return sl_dup_error(e, base, stride, (uint32_t)best, first, coll, path);
	return 0;
}

const struct sl_lb *
sl_model_find_lb(const struct sl_model *m, const char *sub, const char *rg, const char *name)
{
	struct sl_scope s;
	int i;

	if (m == NULL || strlen(sub) >= sizeof(s.sub) || strlen(rg) >= sizeof(s.rg))
		return NULL;
	snprintf(s.sub, sizeof(s.sub), "%s", sub);
	snprintf(s.rg, sizeof(s.rg), "%s", rg);
	i = sl_find_top(m->lbs, sizeof(*m->lbs), m->n_lbs, sl_lb_names(m), name, &s);
	return i >= 0 ? &m->lbs[i] : NULL;
}

void
sl_address_label(const struct sl_model *m, const struct sl_address *a, char *buf, size_t len)
{
	if (a->from_nic && a->nic >= 0 && (uint32_t)a->nic < m->n_nics) {
		const struct sl_nic *nic = &m->nics[a->nic];

		snprintf(buf, len, "%s/%s", nic->label, nic->ipconfigs[a->ipconfig].name);
		return;
	}
	snprintf(buf, len, "%s", a->name);
}

void
sl_scope_key(const struct sl_scope *s, const char *name, char *buf, size_t len)
{
	if (s->sub[0] == '\0')
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "@%s/%s/%s", s->sub, s->rg, name);
}

/* The "id" of the reference object w.key; idpath receives its JSON path. */
static int
sl_where_ref_id(const struct sl_where *w, const char *key, bool required, const char **id,
	    char *idpath)
{
	char rpath[SL_JSON_PATH_MAX];
	struct sl_where ref;
	int rc;

	*id = NULL;
	rc = sl_where_object(w, key, required, &ref, rpath);
	sl_json_path_key(idpath, rpath, "id");
	if (rc <= 0)
		return rc;
	return sl_where_string(&ref, "id", true, id);
}

int
sl_resolve_vnet(const struct sl_where *w, const char *key, bool required,
		const struct sl_model *m, int *vnet)
{
	char idpath[SL_JSON_PATH_MAX];
	struct sl_ref ref;
	const char *id;
	int rc, v;

	rc = sl_where_ref_id(w, key, required, &id, idpath);
	if (rc <= 0)
		return rc;
	if (sl_ref_split(id, NULL, "virtualNetworks", &ref) < 0)
		return sl_error_set(w->err, "InvalidResourceReference", w->target, idpath,
				    "'%s' is not a virtual network id (.../virtualNetworks/{name}).", id);
	v = sl_find_top(m->vnets, sizeof(*m->vnets), m->n_vnets, sl_vnet_names(m), ref.name,
			&ref.scope);
	if (v < 0)
		return sl_ref_error(w, idpath, id, "Virtual network", &ref, v);
	*vnet = v;
	return 1;
}

int
sl_resolve_subnet(const struct sl_where *w, const char *key, bool required,
		  const struct sl_model *m, int *vnet, int *subnet, char *idpath)
{
	const struct sl_vnet *v;
	struct sl_ref ref;
	const char *id;
	int rc, vi, si;

	rc = sl_where_ref_id(w, key, required, &id, idpath);
	if (rc <= 0)
		return rc;
	if (sl_ref_split(id, "virtualNetworks", "subnets", &ref) < 0 || ref.parent[0] == '\0')
		return sl_error_set(w->err, "InvalidResourceReference", w->target, idpath,
				    "'%s' is not a subnet id (.../virtualNetworks/{vnet}/subnets/{subnet}).",
				    id);
	vi = sl_find_top(m->vnets, sizeof(*m->vnets), m->n_vnets, sl_vnet_names(m), ref.parent,
			 &ref.scope);
	if (vi < 0)
		return sl_ref_error(w, idpath, id, "Virtual network", &ref, vi);
	v = &m->vnets[vi];
	si = sl_find_name(v->subnets, sizeof(*v->subnets), v->n_subnets, ref.name);
	if (si < 0)
		return sl_error_set(w->err, "InvalidResourceReference", w->target, idpath,
				    "Virtual network '%s' has no subnet '%s'.", v->name, ref.name);
	*vnet = vi;
	*subnet = si;
	return 1;
}

/* A reference to a child (type) of load balancer lb: index into base[0..n). */
int
sl_resolve_lb_child(const struct sl_where *w, const char *key, bool required,
		    const struct sl_lb *lb, const char *type, const char *what, const void *base,
		    size_t stride, uint32_t n, int *idx)
{
	char idpath[SL_JSON_PATH_MAX];
	struct sl_ref ref;
	const char *id;
	int rc, i;

	rc = sl_where_ref_id(w, key, required, &id, idpath);
	if (rc <= 0)
		return rc;
	if (sl_ref_split(id, "loadBalancers", type, &ref) < 0)
		return sl_error_set(w->err, "InvalidResourceReference", w->target, idpath,
				    "'%s' is not a %s id (.../loadBalancers/{lb}/%s/{name}).", id, type,
				    type);
	if ((ref.parent[0] != '\0' && strcasecmp(ref.parent, lb->name) != 0) ||
	    !sl_scope_match(&ref.scope, &lb->scope))
		return sl_error_set(w->err, "InvalidResourceReference", w->target, idpath,
				    "'%s' belongs to another load balancer than '%s'; only its own %s can be used here.",
				    id, lb->name, type);
	i = sl_find_name(base, stride, n, ref.name);
	if (i < 0)
		return sl_error_set(w->err, "InvalidResourceReference", w->target, idpath,
				    "Load balancer '%s' has no %s '%s'.", lb->name, what, ref.name);
	*idx = i;
	return 1;
}

/*
 * Open a resource: node must be an object with a valid "name", an "id" (if
 * any) naming it, and optional "properties". name receives the name.
 */
int
sl_res_open(struct sl_res *r, struct sl_error *e, const cJSON *node, const char *path,
	    const char *parent_target, const char *parent_type, const char *parent_name,
	    const char *coll, char *name)
{
	char p[SL_JSON_PATH_MAX];
	struct sl_ref ref;
	const char *s, *id;
	int rc;

	/* Until the name is known, errors blame the collection. */
	sl_json_target_join(r->target, parent_target, coll, NULL);
	r->self = (struct sl_where){e, r->target, path, NULL, NULL};
	r->props = r->self;
	memset(&r->scope, 0, sizeof(r->scope));
	rc = sl_json_check_object(e, node, path, r->target);
	if (rc < 0)
		return rc;
	r->self.obj = node;

	rc = sl_where_string(&r->self, "name", true, &s);
	if (rc < 0)
		return rc;
	if (!sl_name_valid(s)) {
		sl_json_path_key(p, path, "name");
		return sl_error_set(e, "InvalidResourceName", r->target, p,
				    "Name '%s' is invalid: 1 to %u characters, letters, digits, '_', '.' and '-', beginning with a letter or digit and ending with a letter, digit or '_'.",
				    s, SL_CONFIG_NAME_MAX_LEN);
	}
	snprintf(name, SL_RES_NAME_MAX, "%s", s);
	sl_json_target_join(r->target, parent_target, coll, name);

	rc = sl_where_string(&r->self, "id", false, &id);
	if (rc < 0)
		return rc;
	sl_id_scope(rc > 0 ? id : NULL, &r->scope);
	if (rc > 0 && (sl_ref_split(id, parent_type, coll, &ref) < 0 ||
		       strcasecmp(ref.name, name) != 0 ||
		       (ref.parent[0] != '\0' && parent_name != NULL &&
			strcasecmp(ref.parent, parent_name) != 0))) {
		sl_json_path_key(p, path, "id");
		return sl_error_set(e, "InvalidResourceId", r->target, p,
				    "Id '%s' does not name this resource (%s); its last segments must be '%s/%s'.",
				    id, r->target, coll, name);
	}
	rc = sl_where_object(&r->self, "properties", false, &r->props, r->props_path);
	return rc < 0 ? rc : 0;
}

/* privateIPAddressVersion: 1 with *f (and the text in *ver), 0 when absent, < 0 on error. */
int
sl_where_ip_version(const struct sl_where *w, const char **ver, uint8_t *f)
{
	char p[SL_JSON_PATH_MAX];
	int rc;

	rc = sl_where_string(w, "privateIPAddressVersion", false, ver);
	if (rc <= 0)
		return rc;
	if (strcasecmp(*ver, "IPv4") == 0) {
		*f = SL_AF_IPV4;
	} else if (strcasecmp(*ver, "IPv6") == 0) {
		*f = SL_AF_IPV6;
	} else {
		sl_json_path_key(p, w->path, "privateIPAddressVersion");
		return sl_error_set(w->err, "InvalidPropertyValue", w->target, p,
				    "privateIPAddressVersion '%s' is not IPv4 or IPv6.", *ver);
	}
	return 1;
}

static int
sl_parse_settings(struct sl_error *e, struct sl_model *m, const cJSON *node)
{
	static const char *const known[] = {"maglevTableSize", "hashSeed", "maxAddressesPerPool",
					    "maxAddressesPerLoadBalancer", NULL};
	struct sl_where w = {e, "settings", "$.settings", NULL};
	int64_t v;
	int rc;

	rc = sl_json_check_object(e, node, w.path, w.target);
	if (rc < 0)
		return rc;
	w.obj = node;
	rc = sl_where_known(&w, known);
	if (rc < 0)
		return rc;

	rc = sl_where_int(&w, "maglevTableSize", false, INT64_MIN, INT64_MAX, &v);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		if (v < SL_CONFIG_MAGLEV_MIN_SIZE || v > SL_CONFIG_MAGLEV_MAX_SIZE ||
		    !sl_is_prime((uint32_t)v))
			return sl_error_set(e, "InvalidMaglevTableSize", w.target,
					    "$.settings.maglevTableSize",
					    "maglevTableSize %lld is not a prime between %u and %u (the default is %u).",
					    (long long)v, SL_CONFIG_MAGLEV_MIN_SIZE,
					    SL_CONFIG_MAGLEV_MAX_SIZE, SL_MAGLEV_DEFAULT_SIZE);
		m->maglev_size = (uint32_t)v;
	}
	rc = sl_where_int(&w, "hashSeed", false, 0, UINT32_MAX, &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		m->hash_seed = (uint32_t)v;
	rc = sl_where_int(&w, "maxAddressesPerPool", false, 1, SL_CONFIG_POOL_LIMIT_MAX, &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		m->max_addresses_per_pool = (uint32_t)v;
	rc = sl_where_int(&w, "maxAddressesPerLoadBalancer", false, 1, SL_CONFIG_LB_LIMIT_MAX, &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		m->max_addresses_per_lb = (uint32_t)v;
	return 0;
}

static int
sl_parse_root(struct sl_error *e, struct sl_model *m, const cJSON *root, const char *doc_target)
{
	static const char *const known[] = {"settings", "virtualNetworks", "loadBalancers",
					    "networkInterfaces", NULL};
	char vpath[SL_JSON_PATH_MAX], lpath[SL_JSON_PATH_MAX], npath[SL_JSON_PATH_MAX];
	struct sl_where w = {e, doc_target, "$", NULL};
	struct sl_cfg_list list = {e, m};
	const cJSON *vnets, *lbs, *nics, *el;
	int rc;

	if (!cJSON_IsObject(root))
		return sl_error_set(e, "InvalidRequestFormat", doc_target, "$",
				    "The configuration must be a JSON object, not %s.",
				    sl_json_type_name(root));
	rc = sl_json_check_object(e, root, "$", doc_target);
	if (rc < 0)
		return rc;
	w.obj = root;
	rc = sl_where_known(&w, known);
	if (rc < 0)
		return rc;

	el = sl_where_member(&w, "settings");
	if (el != NULL) {
		rc = sl_parse_settings(e, m, el);
		if (rc < 0)
			return rc;
	}

	rc = sl_where_array(&w, "virtualNetworks", false, &vnets, vpath);
	if (rc < 0)
		return rc;
	rc = sl_json_parse_list(e, vnets, vpath, "virtualNetworks", NULL, sizeof(*m->vnets),
				(void **)&m->vnets, &m->n_vnets, sl_parse_vnet, &list);
	if (rc < 0)
		return rc;
	rc = sl_check_top(e, m->vnets, sizeof(*m->vnets), m->n_vnets, "virtualNetworks", vpath,
			  false);
	if (rc < 0)
		return rc;
	if (sl_top_names(&m->index->vnet_names, m->vnets, sizeof(*m->vnets), m->n_vnets) < 0)
		return sl_json_nomem(e, "virtualNetworks", vpath);
	m->index->vnets_named = true;
	rc = sl_where_array(&w, "loadBalancers", false, &lbs, lpath);
	if (rc < 0)
		return rc;
	rc = sl_json_parse_list(e, lbs, lpath, "loadBalancers", NULL, sizeof(*m->lbs),
				(void **)&m->lbs, &m->n_lbs, sl_parse_lb, &list);
	if (rc < 0)
		return rc;
	rc = sl_check_top(e, m->lbs, sizeof(*m->lbs), m->n_lbs, "loadBalancers", lpath, true);
	if (rc < 0)
		return rc;
	if (sl_top_names(&m->index->lb_names, m->lbs, sizeof(*m->lbs), m->n_lbs) < 0)
		return sl_json_nomem(e, "loadBalancers", lpath);
	m->index->lbs_named = true;
	rc = sl_where_array(&w, "networkInterfaces", false, &nics, npath);
	if (rc < 0)
		return rc;
	return sl_parse_nics(e, m, nics, npath);
}

struct sl_model *
sl_config_from_json(const cJSON *root, const char *doc_target, struct sl_error *err)
{
	struct sl_model *m;
	int rc;

	if (doc_target == NULL)
		doc_target = "configuration";
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		rc = sl_json_nomem(err, doc_target, "$");
		goto fail;
	}
	m->maglev_size = SL_MAGLEV_DEFAULT_SIZE;
	m->max_addresses_per_pool = SL_CONFIG_MAX_ADDRESSES_PER_POOL;
	m->max_addresses_per_lb = SL_CONFIG_MAX_ADDRESSES_PER_LB;
	m->index = calloc(1, sizeof(*m->index));
	rc = m->index != NULL ? sl_parse_root(err, m, root, doc_target)
			      : sl_json_nomem(err, doc_target, "$");
	if (rc < 0) {
		sl_model_free(m);
		goto fail;
	}
	return m;
fail:
	if (err != NULL)
		err->file[0] = '\0';
	errno = -rc;
	return NULL;
}

struct sl_model *
sl_config_parse(const char *text, size_t len, const char *file_name, struct sl_error *err)
{
	const char *doc_target = file_name != NULL ? file_name : "configuration";
	struct sl_model *m = NULL;
	cJSON *root;
	int rc;

	if (text == NULL) {
		sl_error_set(err, "InvalidJson", doc_target, "", "No configuration text.");
		rc = EINVAL;
		goto fail;
	}
	root = sl_json_parse(text, len, doc_target, err);
	if (root == NULL) {
		rc = EINVAL;
		goto fail;
	}
	rc = sl_config_assign_dynamic_ips(root, err);
	if (rc >= 0)
		m = sl_config_from_json(root, doc_target, err);
	rc = rc < 0 ? -rc : errno;
	cJSON_Delete(root);
	if (m != NULL)
		return m;
fail:
	if (err != NULL)
		snprintf(err->file, sizeof(err->file), "%s", file_name != NULL ? file_name : "");
	errno = rc;
	return NULL;
}

struct sl_model *
sl_config_load(const char *path, struct sl_error *err)
{
	struct sl_model *m;
	size_t len;
	char *buf = sl_file_read(path, SL_CONFIG_MAX_FILE_SIZE, &len, "ConfigFileUnreadable", err);

	if (buf == NULL)
		return NULL;
	m = sl_config_parse(buf, len, path, err);
	free(buf);
	return m;
}

void
sl_model_free(struct sl_model *m)
{
	uint32_t i, j;

	if (m == NULL)
		return;
	for (i = 0; m->vnets != NULL && i < m->n_vnets; i++) {
		free(m->vnets[i].prefixes);
		free(m->vnets[i].subnets);
	}
	free(m->vnets);
	for (i = 0; m->nics != NULL && i < m->n_nics; i++) {
		struct sl_nic *nic = &m->nics[i];

		for (j = 0; nic->ipconfigs != NULL && j < nic->n_ipconfigs; j++) {
			free(nic->ipconfigs[j].pools);
			free(nic->ipconfigs[j].nat_rules);
		}
		free(nic->ipconfigs);
	}
	free(m->nics);
	for (i = 0; m->lbs != NULL && i < m->n_lbs; i++) {
		struct sl_lb *lb = &m->lbs[i];

		for (j = 0; lb->pools != NULL && j < lb->n_pools; j++)
			free(lb->pools[j].addresses);
		free(lb->frontends);
		free(lb->pools);
		free(lb->rules);
		free(lb->probes);
		free(lb->nat_rules);
	}
	free(m->lbs);
	if (m->index != NULL) {
		free(m->index->ipc);
		sl_name_index_fini(&m->index->vnet_names, NULL);
		sl_name_index_fini(&m->index->lb_names, NULL);
		sl_name_index_fini(&m->index->fe_addrs, NULL);
	}
	free(m->index);
	free(m);
}
