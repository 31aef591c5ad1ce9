/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_resource.c: ARM resource paths over the desired-state document
 * (see sl_resource.h): parsing, rendering, finding and editing resources,
 * by walking the document or through its index (sl_resource_index.c).
 * Control thread only; no locking.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sl_config.h"
#include "sl_dynamic_ip.h"
#include "sl_hash.h"
#include "sl_path.h"
#include "sl_resource_int.h"
#define SL_URL_MAX_SEGMENTS 12
#define SL_ID_MAX 512

static const struct {
	const char *coll;
	const char *arm;
	const char *children[SL_RES_MAX_CHILDREN];
} sl_types[SL_RES_TYPE_MAX] = {
	[SL_RES_VNET] = {"virtualNetworks", "Microsoft.Network/virtualNetworks", {"subnets"}},
	[SL_RES_NIC] = {"networkInterfaces", "Microsoft.Network/networkInterfaces",
			{"ipConfigurations"}},
	[SL_RES_LB] = {"loadBalancers", "Microsoft.Network/loadBalancers",
		       {"frontendIPConfigurations", "backendAddressPools", "loadBalancingRules",
			"probes", "inboundNatRules"}},
};

/*
 * Properties a client may send back from a GET that are not its to set:
 * of every resource, then of a pool, then of an inbound NAT rule.
 */
static const char *const sl_read_only[] = {"provisioningState", "resourceGuid"};
static const char *const sl_read_only_pool[] = {"backendIPConfigurations", "loadBalancingRules",
						  "outboundRules", "inboundNatRules"};
static const char *const sl_read_only_nat[] = {"backendIPConfiguration"};

const char *
sl_res_collection(enum sl_res_type t)
{
	return (unsigned int)t < SL_RES_TYPE_MAX ? sl_types[t].coll : NULL;
}

const char *
sl_res_child_collection(enum sl_res_type t, int child)
{
	if ((unsigned int)t >= SL_RES_TYPE_MAX || child < 0 || child >= SL_RES_MAX_CHILDREN)
		return NULL;
	return sl_types[t].children[child];
}


static int
sl_not_found(struct sl_error *err, const char *code, const char *target, const char *what)
{
	sl_error_set(err, code, target, "", "%s", what);
	return -ENOENT;
}

/*
 * A name too long for any resource: a request error (400), not an unknown
 * path, blamed like validation blames a bad name: on its collection
 * ("virtualNetworks", "loadBalancers/lb1/probes") and the body's "name".
 */
static int
sl_name_too_long(struct sl_error *err, const struct sl_segs *g, unsigned int i,
		 const struct sl_res_path *p)
{
	char target[256];

	if (i == 7)
		snprintf(target, sizeof(target), "%s", sl_types[p->type].coll);
	else
		snprintf(target, sizeof(target), "%s/%s/%s", sl_types[p->type].coll, p->name,
			 sl_types[p->type].children[p->child]);
	sl_error_set(err, "InvalidResourceName", target, "$.name",
		     "Name '%.*s...' is invalid: names have 1 to %d characters.", 40, g->s[i],
		     SL_RES_NAME_MAX - 1);
	return -ENAMETOOLONG;
}

int
sl_res_path_parse(const char *url, struct sl_res_path *p, struct sl_error *err)
{
	struct sl_segs g;
	char msg[256];

	memset(p, 0, sizeof(*p));
	p->child = -1;
	if (sl_path_split(url, &g, SL_URL_MAX_SEGMENTS) != 0 || g.n < 7 ||
	    !sl_path_seg_is(&g, 0, "subscriptions") || !sl_path_seg_is(&g, 2, "resourceGroups") ||
	    !sl_path_seg_is(&g, 4, "providers"))
		return sl_not_found(err, "InvalidRequestUri", url,
				    "The path is not a resource path: expected /subscriptions/{sub}/"
				    "resourceGroups/{rg}/providers/Microsoft.Network/{type}[/{name}...].");
	if (!sl_path_seg_is(&g, 5, "Microsoft.Network")) {
		snprintf(msg, sizeof(msg), "The resource namespace '%.*s' is not served here; "
			 "sluice serves Microsoft.Network.", (int)g.len[5], g.s[5]);
		return sl_not_found(err, "InvalidResourceNamespace", url, msg);
	}
	if (sl_path_seg_copy(&g, 1, p->sub, sizeof(p->sub)) != 0 ||
	    sl_path_seg_copy(&g, 3, p->rg, sizeof(p->rg)) != 0)
		return sl_not_found(err, "InvalidRequestUri", url, "A path segment is too long.");
	unsigned int t;
	for (t = 0; t < SL_RES_TYPE_MAX; t++)
		if (sl_path_seg_is(&g, 6, sl_types[t].coll))
			break;
	if (t == SL_RES_TYPE_MAX) {
		snprintf(msg, sizeof(msg), "The resource type '%.*s' could not be found in the "
			 "namespace 'Microsoft.Network' (sluice serves virtualNetworks, "
			 "networkInterfaces and loadBalancers).", (int)g.len[6], g.s[6]);
		return sl_not_found(err, "InvalidResourceType", url, msg);
	}
	p->type = (enum sl_res_type)t;
	if (g.n >= 8 && sl_path_seg_copy(&g, 7, p->name, sizeof(p->name)) != 0)
		return sl_name_too_long(err, &g, 7, p);
	if (g.n >= 9) {
		int c;
		for (c = 0; c < SL_RES_MAX_CHILDREN && sl_types[t].children[c] != NULL; c++)
			if (sl_path_seg_is(&g, 8, sl_types[t].children[c]))
				break;
		if (c == SL_RES_MAX_CHILDREN || sl_types[t].children[c] == NULL) {
			snprintf(msg, sizeof(msg), "The resource type '%s/%.*s' could not be "
				 "found in the namespace 'Microsoft.Network'.", sl_types[t].coll,
				 (int)g.len[8], g.s[8]);
			return sl_not_found(err, "InvalidResourceType", url, msg);
		}
		p->child = c;
	}
	if (g.n >= 10 && sl_path_seg_copy(&g, 9, p->child_name, sizeof(p->child_name)) != 0)
		return sl_name_too_long(err, &g, 9, p);
	if (g.n > 10)
		return sl_not_found(err, "InvalidRequestUri", url,
				    "The path goes deeper than any resource sluice serves.");
	return 0;
}

static void
sl_top_id(const char *sub, const char *rg, enum sl_res_type t, const char *name, char *buf,
	  size_t len)
{
	snprintf(buf, len, "/subscriptions/%s/resourceGroups/%s/providers/%s%s%s", sub, rg,
		 sl_types[t].arm, name[0] ? "/" : "", name);
}

void
sl_res_id(const struct sl_res_path *p, char *buf, size_t len)
{
	char top[SL_ID_MAX];

	sl_top_id(p->sub, p->rg, p->type, p->name, top, sizeof(top));
	if (p->child < 0 || p->name[0] == '\0')
		snprintf(buf, len, "%s", top);
	else
		snprintf(buf, len, "%s/%s%s%s", top, sl_types[p->type].children[p->child],
			 p->child_name[0] ? "/" : "", p->child_name);
}

cJSON *
sl_doc_new(void)
{
	cJSON *d = cJSON_CreateObject();

	if (d == NULL)
		return NULL;
	for (int t = 0; t < SL_RES_TYPE_MAX; t++)
		if (cJSON_AddArrayToObject(d, sl_types[t].coll) == NULL) {
			cJSON_Delete(d);
			return NULL;
		}
	return d;
}

/*
 * A resource's name. Members ("name", "id", "properties") are found ignoring
 * case, as validation finds them (sl_json_member()): a file may spell them
 * so, and the editor must see what validation sees.
 */
const char *
sl_res_name_of(const cJSON *res)
{
	const cJSON *n = cJSON_GetObjectItem(res, "name");
	return cJSON_IsString(n) ? n->valuestring : "";
}

/* The first element named name (case-insensitive) of array a and its index *at, or NULL (-1). */
static cJSON *
sl_find(const cJSON *a, const char *name, int *at)
{
	cJSON *it;

	*at = 0;
	cJSON_ArrayForEach(it, a) {
		if (strcasecmp(sl_res_name_of(it), name) == 0)
			return it;
		(*at)++;
	}
	*at = -1;
	return NULL;
}

void
sl_res_scope_of(const cJSON *res, struct sl_scope *s)
{
	const cJSON *id = cJSON_GetObjectItem(res, "id");

	sl_id_scope(cJSON_IsString(id) ? id->valuestring : NULL, s);
}

/* The scope a path names. */
static void
sl_path_scope_of(const struct sl_res_path *p, struct sl_scope *s)
{
	snprintf(s->sub, sizeof(s->sub), "%s", p->sub);
	snprintf(s->rg, sizeof(s->rg), "%s", p->rg);
}

/* A stored resource without an id (from a configuration file) is in every scope. */
static bool
sl_in_scope(const cJSON *res, const struct sl_res_path *p)
{
	struct sl_scope a, b;

	sl_res_scope_of(res, &a);
	sl_path_scope_of(p, &b);
	return sl_scope_match(&a, &b);
}

/*
 * The top-level resource of array a named name (case-insensitive) in scope
 * want (any scope matches one without an id): the first one, or NULL.
 */
static cJSON *
sl_find_scoped(const cJSON *a, const char *name, const struct sl_scope *want)
{
	struct sl_scope s;
	cJSON *it;

	cJSON_ArrayForEach(it, a) {
		if (strcasecmp(sl_res_name_of(it), name) == 0) {
			sl_res_scope_of(it, &s);
			if (sl_scope_match(&s, want))
				return it;
		}
	}
	return NULL;
}

cJSON *
sl_res_coll(const cJSON *doc, enum sl_res_type t)
{
	return cJSON_GetObjectItemCaseSensitive(doc, sl_types[t].coll);
}

/* Is there an index to look things up in (else walk the document)? */
static bool
sl_ix_usable(const struct sl_doc_index *ix)
{
	return ix != NULL && !ix->broken;
}

/*
 * The top-level resource p names in doc, found through ix when there is
 * one (*slot: its entry there) or by a walk of its collection (*slot NULL).
 */
static cJSON *
sl_top_of(const cJSON *doc, struct sl_doc_index *ix, const struct sl_res_path *p,
	  struct sl_ix_top **slot)
{
	struct sl_scope want;

	sl_path_scope_of(p, &want);
	*slot = NULL;
	if (!sl_ix_usable(ix))
		return sl_find_scoped(sl_res_coll(doc, p->type), p->name, &want);
	*slot = sl_ix_find(ix, p->type, p->name, &want);
	return *slot != NULL ? (*slot)->node : NULL;
}

/* The top-level resource p names in doc, by a walk. */
static cJSON *
sl_top(const cJSON *doc, const struct sl_res_path *p)
{
	struct sl_ix_top *slot;

	return sl_top_of(doc, NULL, p, &slot);
}

cJSON *
sl_res_children(const cJSON *top, enum sl_res_type t, int child)
{
	const cJSON *props = cJSON_GetObjectItem(top, "properties");
	return cJSON_GetObjectItem(props, sl_types[t].children[child]);
}

/*
 * The child of collection c of top (of type t) named name: the first one,
 * or NULL. Through slot's index of them when there is one.
 */
static cJSON *
sl_child_of(const cJSON *top, struct sl_ix_top *slot, enum sl_res_type t, int c,
	    const char *name)
{
	struct sl_name_index *m = slot != NULL ? sl_ix_children(slot, t, c) : NULL;
	struct sl_name_entry *e;
	int at;

	if (m == NULL)
		return sl_find(sl_res_children(top, t, c), name, &at);
	e = sl_name_index_first(m, name);
	return e != NULL ? e->value : NULL;
}

void
sl_res_ref_name(const cJSON *ref, const char *coll, char *out)
{
	const cJSON *id = cJSON_GetObjectItem(ref, "id");
	struct sl_segs g;

	out[0] = '\0';
	if (!cJSON_IsString(id) || sl_path_split(id->valuestring, &g, SL_URL_MAX_SEGMENTS) != 0)
		return;
	if (g.n == 1 && strchr(id->valuestring, '/') == NULL) {
		sl_path_seg_copy(&g, 0, out, SL_RES_NAME_MAX);
		return;
	}
	for (unsigned int i = 0; i + 1 < g.n; i++)
		if (sl_path_seg_is(&g, i, coll)) {
			if (sl_path_seg_copy(&g, i + 1, out, SL_RES_NAME_MAX) != 0)
				out[0] = '\0';
			return;
		}
}

static void
sl_add_ref(cJSON *arr, const char *id)
{
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return;
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddItemToArray(arr, o);
}

static void
sl_top_id_of(const cJSON *res, const struct sl_res_path *scope, enum sl_res_type t, char *buf,
	     size_t len)
{
	const cJSON *id = cJSON_GetObjectItem(res, "id");

	if (cJSON_IsString(id) && id->valuestring[0] == '/')
		snprintf(buf, len, "%s", id->valuestring);
	else
		sl_top_id(scope->sub, scope->rg, t, sl_res_name_of(res), buf, len);
}

/*
 * Does reference ref name child `name` of collection `coll` of load
 * balancer lb (stored; in scope lb_scope)? As validation resolves it: by
 * names, and by scope when the reference has one.
 */
static bool
sl_ref_names(const cJSON *ref, const cJSON *lb, const struct sl_scope *lb_scope,
	     const char *coll, const char *name)
{
	const cJSON *id = cJSON_GetObjectItem(ref, "id");
	char l[SL_RES_NAME_MAX], c[SL_RES_NAME_MAX];
	struct sl_scope s;

	sl_res_ref_name(ref, "loadBalancers", l);
	sl_res_ref_name(ref, coll, c);
	if (strcasecmp(l, sl_res_name_of(lb)) != 0 || strcasecmp(c, name) != 0)
		return false;
	sl_id_scope(cJSON_IsString(id) ? id->valuestring : NULL, &s);
	return sl_scope_match(&s, lb_scope);
}

/* A render: of what document, in what path's scope, through what index (NULL: by walks). */
struct sl_render {
	const cJSON *doc;
	const struct sl_res_path *scope;
	struct sl_doc_index *ix;
	struct sl_ix_top *slot; /* the rendered top-level resource's entry in ix, or NULL */
};

/* Add to out the reference to NIC nic's ipConfiguration ipc (nic's id in r's scope without one). */
static void
sl_add_ipconfig(cJSON *out, const struct sl_render *r, const cJSON *nic, const cJSON *ipc)
{
	char nic_id[SL_ID_MAX], id[SL_ID_MAX + 128];

	sl_top_id_of(nic, r->scope, SL_RES_NIC, nic_id, sizeof(nic_id));
	snprintf(id, sizeof(id), "%s/ipConfigurations/%s", nic_id, sl_res_name_of(ipc));
	sl_add_ref(out, id);
}

/* sl_backend_ipconfigs() by a walk of every NIC's ipConfigurations and their references. */
static void
sl_ipconfigs_walk(cJSON *out, const struct sl_render *r, enum sl_ix_ref_kind k, const cJSON *lb,
		  const struct sl_scope *lb_scope, const char *name)
{
	const cJSON *nic, *ipc;

	cJSON_ArrayForEach(nic, sl_res_coll(r->doc, SL_RES_NIC))
		cJSON_ArrayForEach(ipc, sl_res_children(nic, SL_RES_NIC, 0)) {
			const cJSON *props = cJSON_GetObjectItem(ipc, "properties");
			sl_for_each_ref(ref, cJSON_GetObjectItem(props, sl_ix_ref_keys[k][0]))
				if (sl_ref_names(ref, lb, lb_scope, sl_ix_ref_keys[k][1], name)) {
					sl_add_ipconfig(out, r, nic, ipc);
					break;
				}
		}
}

/*
 * sl_backend_ipconfigs() through the index of the references (by
 * "<lb>/<name>", in the document's order): each ipConfiguration once.
 */
static void
sl_ipconfigs_indexed(cJSON *out, const struct sl_render *r, const struct sl_name_index *refs,
		     const cJSON *lb, const struct sl_scope *lb_scope, const char *name)
{
	char key[2 * SL_RES_NAME_MAX];
	const cJSON *last = NULL;
	struct sl_name_entry *e;

	/* no reference names more than SL_RES_NAME_MAX - 1 characters */
	if (snprintf(key, sizeof(key), "%s/%s", sl_res_name_of(lb), name) >= (int)sizeof(key))
		return;
	for (e = sl_name_index_first(refs, key); e != NULL; e = sl_name_index_next(e)) {
		const struct sl_ix_ref *ref = e->value;
		if (ref->ipc == last || !sl_scope_match(&ref->scope, lb_scope))
			continue;
		sl_add_ipconfig(out, r, ref->nic, ref->ipc);
		last = ref->ipc;
	}
}

/*
 * References to the NIC ipConfigurations whose list of kind k
 * (loadBalancerBackendAddressPools, loadBalancerInboundNatRules) names child
 * `name` of that collection of load balancer lb (stored), in the document's
 * order.
 */
static cJSON *
sl_backend_ipconfigs(const struct sl_render *r, enum sl_ix_ref_kind k, const cJSON *lb,
		     const char *name)
{
	const struct sl_name_index *refs = sl_ix_usable(r->ix) ? sl_ix_refs(r->ix, k) : NULL;
	cJSON *out = cJSON_CreateArray();
	struct sl_scope lb_scope;

	if (out == NULL)
		return NULL;
	sl_res_scope_of(lb, &lb_scope);
	if (refs != NULL)
		sl_ipconfigs_indexed(out, r, refs, lb, &lb_scope, name);
	else
		sl_ipconfigs_walk(out, r, k, lb, &lb_scope, name);
	return out;
}

static void
sl_set(cJSON *obj, const char *key, cJSON *v)
{
	if (v == NULL)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddItemToObject(obj, key, v);
}

static void
sl_set_etag(cJSON *out, const cJSON *stored)
{
	char *text = cJSON_PrintUnformatted(stored);
	char etag[32];

	if (text == NULL)
		return;
	snprintf(etag, sizeof(etag), "W/\"%08x\"", sl_crc32c(text, strlen(text), 0xffffffffu));
	cJSON_free(text);
	sl_set(out, "etag", cJSON_CreateString(etag));
}

/* ARM's order: name, id, etag, type, then the rest as stored. */
static cJSON *
sl_reorder(cJSON *res)
{
	static const char *const first[] = {"type", "etag", "id", "name"};

	for (size_t k = 0; k < sizeof(first) / sizeof(first[0]); k++) {
		cJSON *it = cJSON_DetachItemFromObjectCaseSensitive(res, first[k]);
		if (it == NULL)
			continue;
		/* Prepend: cJSON keeps a doubly linked list whose head's prev is the tail. */
		it->next = res->child;
		if (res->child != NULL) {
			it->prev = res->child->prev;
			res->child->prev = it;
		} else {
			it->prev = it;
		}
		res->child = it;
	}
	return res;
}

static cJSON *
sl_props(cJSON *res)
{
	cJSON *props = cJSON_GetObjectItem(res, "properties");
	if (!cJSON_IsObject(props)) {
		cJSON_DeleteItemFromObject(res, "properties");
		props = cJSON_AddObjectToObject(res, "properties");
	}
	return props;
}

/* The rules of load balancer top (stored) whose backendAddressPool is `pool`, in order. */
static cJSON *
sl_pool_rules(const struct sl_render *r, const cJSON *top, const char *top_id, const char *pool)
{
	const struct sl_name_index *m = r->slot != NULL ? sl_ix_rules_by_pool(r->slot) : NULL;
	cJSON *rules = cJSON_CreateArray();
	char rid[SL_ID_MAX + 256];
	const cJSON *rule;

	if (m != NULL) {
		for (struct sl_name_entry *e = sl_name_index_first(m, pool); e != NULL;
		     e = sl_name_index_next(e)) {
			snprintf(rid, sizeof(rid), "%s/loadBalancingRules/%s", top_id,
				 sl_res_name_of(e->value));
			sl_add_ref(rules, rid);
		}
		return rules;
	}
	cJSON_ArrayForEach(rule, sl_res_children(top, SL_RES_LB, 2)) {
		const cJSON *rp = cJSON_GetObjectItem(rule, "properties");
		char named[SL_RES_NAME_MAX];
		sl_res_ref_name(cJSON_GetObjectItem(rp, "backendAddressPool"), "backendAddressPools",
				named);
		if (strcasecmp(named, pool) == 0) {
			snprintf(rid, sizeof(rid), "%s/loadBalancingRules/%s", top_id,
				 sl_res_name_of(rule));
			sl_add_ref(rules, rid);
		}
	}
	return rules;
}

/* Render one child (stored node child of top) with its read-only fields. */
static cJSON *
sl_render_child(const struct sl_render *r, const cJSON *top, const char *top_id, int c,
		const cJSON *child)
{
	cJSON *out = cJSON_Duplicate(child, 1);
	const char *coll = sl_types[r->scope->type].children[c];
	char id[SL_ID_MAX + 256], type[128];

	if (out == NULL)
		return NULL;
	snprintf(id, sizeof(id), "%s/%s/%s", top_id, coll, sl_res_name_of(child));
	snprintf(type, sizeof(type), "%s/%s", sl_types[r->scope->type].arm, coll);
	sl_set(out, "id", cJSON_CreateString(id));
	sl_set_etag(out, child);
	sl_set(out, "type", cJSON_CreateString(type));
	cJSON *props = sl_props(out);
	if (props == NULL) {
		cJSON_Delete(out);
		return NULL;
	}
	if (r->scope->type == SL_RES_LB && strcmp(coll, "backendAddressPools") == 0) {
		sl_set(props, "backendIPConfigurations",
		       sl_backend_ipconfigs(r, SL_IX_POOLS, top, sl_res_name_of(child)));
		sl_set(props, "loadBalancingRules",
		       sl_pool_rules(r, top, top_id, sl_res_name_of(child)));
	}
	if (r->scope->type == SL_RES_LB && strcmp(coll, "inboundNatRules") == 0) {
		cJSON *ipcs = sl_backend_ipconfigs(r, SL_IX_NAT, top, sl_res_name_of(child));
		if (cJSON_GetArraySize(ipcs) > 0)
			sl_set(props, "backendIPConfiguration",
			       cJSON_DetachItemFromArray(ipcs, 0));
		cJSON_Delete(ipcs);
	}
	sl_set(props, "provisioningState", cJSON_CreateString("Succeeded"));
	return sl_reorder(out);
}

static cJSON *
sl_render_top(const struct sl_render *r, const cJSON *top)
{
	const struct sl_res_path *scope = r->scope;
	cJSON *out = cJSON_Duplicate(top, 1);
	char top_id[SL_ID_MAX];

	if (out == NULL)
		return NULL;
	sl_top_id_of(top, scope, scope->type, top_id, sizeof(top_id));
	sl_set(out, "id", cJSON_CreateString(top_id));
	sl_set_etag(out, top);
	sl_set(out, "type", cJSON_CreateString(sl_types[scope->type].arm));
	cJSON *props = sl_props(out);
	if (props == NULL) {
		cJSON_Delete(out);
		return NULL;
	}
	for (int c = 0; c < SL_RES_MAX_CHILDREN && sl_types[scope->type].children[c]; c++) {
		const cJSON *stored = sl_res_children(top, scope->type, c);
		const cJSON *ch;
		cJSON *arr;

		if (!cJSON_IsArray(stored))
			continue;
		arr = cJSON_CreateArray();
		if (arr == NULL)
			break;
		cJSON_ArrayForEach(ch, stored)
			cJSON_AddItemToArray(arr, sl_render_child(r, top, top_id, c, ch));
		cJSON_ReplaceItemInObject(props, sl_types[scope->type].children[c], arr);
	}
	sl_set(props, "provisioningState", cJSON_CreateString("Succeeded"));
	return sl_reorder(out);
}

static cJSON *
sl_list(cJSON *items)
{
	cJSON *o = cJSON_CreateObject();
	if (o == NULL) {
		cJSON_Delete(items);
		return NULL;
	}
	cJSON_AddItemToObject(o, "value", items);
	return o;
}

static cJSON *
sl_not_there(struct sl_error *err, const char *id)
{
	sl_error_set(err, "ResourceNotFound", id, "", "The resource '%s' was not found.", id);
	return NULL;
}

/* A collection of top-level resources in p's scope: {"value": [...]}. */
static cJSON *
sl_render_tops(const struct sl_render *r)
{
	cJSON *items = cJSON_CreateArray();
	const cJSON *it;

	if (items == NULL)
		return NULL;
	cJSON_ArrayForEach(it, sl_res_coll(r->doc, r->scope->type))
		if (sl_in_scope(it, r->scope))
			cJSON_AddItemToArray(items, sl_render_top(r, it));
	return sl_list(items);
}

/* sl_doc_render(), through ix when not NULL. */
static cJSON *
sl_render(const cJSON *doc, struct sl_doc_index *ix, const struct sl_res_path *p,
	  struct sl_error *err)
{
	struct sl_render r = {doc, p, ix, NULL};
	char id[SL_ID_MAX + 256], top_id[SL_ID_MAX];
	const cJSON *it;

	sl_res_id(p, id, sizeof(id));
	if (p->name[0] == '\0')
		return sl_render_tops(&r);
	const cJSON *top = sl_top_of(doc, ix, p, &r.slot);
	if (top == NULL)
		return sl_not_there(err, id);
	if (p->child < 0)
		return sl_render_top(&r, top);
	sl_top_id_of(top, p, p->type, top_id, sizeof(top_id));
	if (p->child_name[0] == '\0') {
		cJSON *items = cJSON_CreateArray();
		if (items == NULL)
			return NULL;
		cJSON_ArrayForEach(it, sl_res_children(top, p->type, p->child))
			cJSON_AddItemToArray(items, sl_render_child(&r, top, top_id, p->child, it));
		return sl_list(items);
	}
	it = sl_child_of(top, r.slot, p->type, p->child, p->child_name);
	return it != NULL ? sl_render_child(&r, top, top_id, p->child, it) : sl_not_there(err, id);
}

cJSON *
sl_doc_render(const cJSON *doc, const struct sl_res_path *p, struct sl_error *err)
{
	return sl_render(doc, NULL, p, err);
}

cJSON *
sl_doc_index_render(struct sl_doc_index *ix, const struct sl_res_path *p, struct sl_error *err)
{
	return sl_render(ix->doc, ix, p, err);
}

/* sl_doc_find(), through ix when not NULL. */
static const cJSON *
sl_find_res(const cJSON *doc, struct sl_doc_index *ix, const struct sl_res_path *p)
{
	struct sl_ix_top *slot;
	const cJSON *top;

	if (p->name[0] == '\0' || (top = sl_top_of(doc, ix, p, &slot)) == NULL)
		return NULL;
	if (p->child < 0)
		return top;
	if (p->child_name[0] == '\0')
		return NULL;
	return sl_child_of(top, slot, p->type, p->child, p->child_name);
}

const cJSON *
sl_doc_find(const cJSON *doc, const struct sl_res_path *p)
{
	return sl_find_res(doc, NULL, p);
}

const cJSON *
sl_doc_index_find(struct sl_doc_index *ix, const struct sl_res_path *p)
{
	return sl_find_res(ix->doc, ix, p);
}

#define SL_DIM(a) (sizeof(a) / sizeof((a)[0]))

static void
sl_delete_keys(cJSON *obj, const char *const *keys, size_t n)
{
	for (size_t k = 0; k < n; k++)
		cJSON_DeleteItemFromObject(obj, keys[k]);
}

/* Drop the read-only members of a child of collection coll. */
static void
sl_strip_child(cJSON *child, const char *coll)
{
	cJSON *props = cJSON_GetObjectItem(child, "properties");

	cJSON_DeleteItemFromObject(child, "id");
	cJSON_DeleteItemFromObject(child, "etag");
	cJSON_DeleteItemFromObject(child, "type");
	sl_delete_keys(props, sl_read_only, SL_DIM(sl_read_only));
	if (strcmp(coll, "backendAddressPools") == 0) {
		cJSON *a;
		sl_delete_keys(props, sl_read_only_pool, SL_DIM(sl_read_only_pool));
		/* a member's health, as GET shows it */
		cJSON_ArrayForEach(a, cJSON_GetObjectItem(props, "loadBalancerBackendAddresses"))
			cJSON_DeleteItemFromObject(cJSON_GetObjectItem(a, "properties"),
						   "healthState");
	}
	else if (strcmp(coll, "inboundNatRules") == 0)
		sl_delete_keys(props, sl_read_only_nat, SL_DIM(sl_read_only_nat));
}

static int
sl_bad_body(struct sl_error *err, int *http, const char *target, const char *msg)
{
	*http = 400;
	sl_error_set(err, "InvalidRequestFormat", target, "$", "%s", msg);
	return -EINVAL;
}

/* The set of ids in a list of references, compared case-insensitively. */
static bool
sl_same_refs(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;
	int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);

	if (na != nb)
		return false;
	cJSON_ArrayForEach(x, a) {
		const cJSON *xi = cJSON_GetObjectItem(x, "id");
		bool found = false;
		cJSON_ArrayForEach(y, b) {
			const cJSON *yi = cJSON_GetObjectItem(y, "id");
			if (cJSON_IsString(xi) && cJSON_IsString(yi) &&
			    strcasecmp(xi->valuestring, yi->valuestring) == 0)
				found = true;
		}
		if (!found)
			return false;
	}
	return true;
}

/*
 * A pool's NIC-based members are read-only on the pool: a body may send back
 * the backendIPConfigurations a GET showed, but not different ones.
 */
static int
sl_check_pool_membership(const cJSON *doc, const struct sl_res_path *scope, const cJSON *lb,
			 const cJSON *pool, const char *id, int *http, struct sl_error *err)
{
	const cJSON *props = cJSON_GetObjectItem(pool, "properties");
	const cJSON *sent = cJSON_GetObjectItem(props, "backendIPConfigurations");
	const char *name = sl_res_name_of(pool);
	bool same;

	if (sent == NULL || cJSON_IsNull(sent))
		return 0;
	const struct sl_render r = {doc, scope, NULL, NULL}; /* the document is being edited */
	cJSON *actual = sl_backend_ipconfigs(&r, SL_IX_POOLS, lb, name);
	same = cJSON_IsArray(sent) && sl_same_refs(sent, actual);
	cJSON_Delete(actual);
	if (same)
		return 0;
	*http = 400;
	sl_error_set(err, "BackendAddressPoolMembershipIsSetOnNetworkInterface", id,
		     "$.properties.backendIPConfigurations",
		     "The backendIPConfigurations of pool '%s' are read-only: a pool's membership "
		     "by network interface is changed on the network interface (its "
		     "ipConfigurations' loadBalancerBackendAddressPools), not on the pool.", name);
	return -EPERM;
}

/*
 * A top-level resource is its scope and name: the same name in another
 * resource group is another resource. One without an id (from a
 * configuration file) is in every scope, so a PUT in any scope replaces it.
 */
static int
sl_put_top(cJSON *doc, struct sl_doc_index *ix, const struct sl_res_path *p, const cJSON *body,
	   bool *created, int *http, struct sl_error *err)
{
	char id[SL_ID_MAX];
	cJSON *coll = sl_res_coll(doc, p->type);
	struct sl_ix_top *slot;
	cJSON *old = sl_top_of(doc, ix, p, &slot);
	cJSON *res;

	sl_res_id(p, id, sizeof(id));
	res = cJSON_CreateObject();
	if (res == NULL)
		return -ENOMEM;
	/* Names are case-insensitive: an update keeps the name as first written. */
	if (old != NULL) {
		struct sl_res_path q = *p;
		snprintf(q.name, sizeof(q.name), "%s", sl_res_name_of(old));
		sl_res_id(&q, id, sizeof(id));
	}
	cJSON_AddStringToObject(res, "name", old != NULL ? sl_res_name_of(old) : p->name);
	cJSON_AddStringToObject(res, "id", id);
	static const char *const copy[] = {"location", "tags", "sku", "properties"};
	for (size_t k = 0; k < sizeof(copy) / sizeof(copy[0]); k++) {
		const cJSON *v = cJSON_GetObjectItem(body, copy[k]);
		if (v != NULL)
			cJSON_AddItemToObject(res, copy[k], cJSON_Duplicate(v, 1));
	}
	cJSON *props = cJSON_GetObjectItem(res, "properties");
	if (props != NULL && cJSON_IsObject(props)) {
		sl_delete_keys(props, sl_read_only, SL_DIM(sl_read_only));
		for (int c = 0; c < SL_RES_MAX_CHILDREN && sl_types[p->type].children[c]; c++) {
			const char *cn = sl_types[p->type].children[c];
			cJSON *ch, *arr = cJSON_GetObjectItem(props, cn);
			if (!cJSON_IsArray(arr))
				continue;
			cJSON_ArrayForEach(ch, arr) {
				if (p->type == SL_RES_LB && strcmp(cn, "backendAddressPools") == 0) {
					int rc = sl_check_pool_membership(doc, p, res, ch, id,
									  http, err);
					if (rc != 0) {
						cJSON_Delete(res);
						return rc;
					}
				}
				sl_strip_child(ch, cn);
			}
		}
	}
	if (p->type == SL_RES_NIC && old != NULL)
		sl_keep_dynamic_ips(old, res);
	if (old != NULL) {
		cJSON_ReplaceItemViaPointer(coll, old, res);
		if (slot != NULL)
			sl_ix_top_replaced(ix, slot, res);
	} else if (cJSON_AddItemToArray(coll, res) && sl_ix_usable(ix)) {
		sl_ix_top_added(ix, p->type, res);
	}
	*created = old == NULL;
	return 0;
}

/*
 * Insert item into arr before element next (appended when next is NULL).
 * Not cJSON_InsertItemInArray(): Debian 12's cJSON (1.7.15+deb12u4) inserts
 * nothing there and returns false.
 */
static void
sl_array_insert_before(cJSON *arr, cJSON *next, cJSON *item)
{
	if (next == NULL) {
		cJSON_AddItemToArray(arr, item);
		return;
	}
	item->next = next;
	item->prev = next->prev; /* the head's prev is the last item */
	if (next == arr->child)
		arr->child = item;
	else
		item->prev->next = item;
	next->prev = item;
}

/* Insert item into arr before index `at` (appended when at is past the end). */
static void
sl_array_insert(cJSON *arr, int at, cJSON *item)
{
	sl_array_insert_before(arr, cJSON_GetArrayItem(arr, at), item);
}

/*
 * Child collection c of top (of type t), made an empty array when it is not
 * an array (and top's properties an object when they are not); NULL when
 * out of memory. Keeps slot's index of top's children in step.
 */
static cJSON *
sl_child_coll(cJSON *top, struct sl_doc_index *ix, struct sl_ix_top *slot, enum sl_res_type t,
	      int c)
{
	const char *name = sl_types[t].children[c];
	bool had_props = cJSON_IsObject(cJSON_GetObjectItem(top, "properties"));
	cJSON *props = sl_props(top), *coll;

	if (slot != NULL && !had_props)
		sl_ix_top_replaced(ix, slot, top); /* every child collection is new */
	if (props == NULL)
		return NULL;
	coll = cJSON_GetObjectItem(props, name);
	if (cJSON_IsArray(coll))
		return coll;
	cJSON_DeleteItemFromObject(props, name);
	if (slot != NULL)
		sl_ix_children_reset(ix, slot, c);
	return cJSON_AddArrayToObject(props, name);
}

/*
 * A Dynamic address stays with its NIC ipConfiguration child (as for a
 * whole NIC); a lone ipConfiguration of top becomes the primary, said so,
 * before another (created: no ipConfiguration of the name) is added to coll.
 */
static int
sl_nic_child(cJSON *top, cJSON *coll, cJSON *child, bool created)
{
	cJSON *as_nic = cJSON_CreateObject(), *nprops, *arr;

	if (as_nic == NULL || (nprops = cJSON_AddObjectToObject(as_nic, "properties")) == NULL ||
	    (arr = cJSON_AddArrayToObject(nprops, "ipConfigurations")) == NULL) {
		cJSON_Delete(as_nic);
		return -ENOMEM;
	}
	cJSON_AddItemReferenceToArray(arr, child);
	sl_keep_dynamic_ips(top, as_nic);
	cJSON_Delete(as_nic);
	if (created && cJSON_GetArraySize(coll) == 1) {
		cJSON *only = cJSON_GetObjectItem(cJSON_GetArrayItem(coll, 0), "properties");
		if (cJSON_IsObject(only) && cJSON_GetObjectItem(only, "primary") == NULL)
			cJSON_AddTrueToObject(only, "primary");
	}
	return 0;
}

/*
 * Through ix when not NULL. old_out: NULL frees the child replaced; else it
 * is detached into *old_out (NULL: created).
 */
static int
sl_put_child_x(cJSON *doc, struct sl_doc_index *ix, const struct sl_res_path *p,
	       const cJSON *body, bool *created, int *http, struct sl_error *err, cJSON **old_out)
{
	char id[SL_ID_MAX + 256];
	struct sl_ix_top *slot;
	cJSON *top = sl_top_of(doc, ix, p, &slot);
	const char *coll_name = sl_types[p->type].children[p->child];

	sl_res_id(p, id, sizeof(id));
	if (top == NULL) {
		*http = 404;
		sl_error_set(err, "ParentResourceNotFound", id, "",
			     "Cannot create or update '%s': its parent %s '%s' was not found.", id,
			     sl_types[p->type].coll, p->name);
		return -ENOENT;
	}
	cJSON *coll = sl_child_coll(top, ix, slot, p->type, p->child);
	if (coll == NULL)
		return -ENOMEM;
	const cJSON *bprops = cJSON_GetObjectItem(body, "properties");
	if (cJSON_IsNull(bprops))
		bprops = NULL; /* null counts as absent */
	if (bprops != NULL && !cJSON_IsObject(bprops))
		return sl_bad_body(err, http, id, "'properties' must be an object.");

	cJSON *child = cJSON_CreateObject();
	if (child == NULL)
		return -ENOMEM;
	cJSON *old = sl_child_of(top, slot, p->type, p->child, p->child_name);
	/* Names are case-insensitive: an update keeps the name as first written. */
	cJSON_AddStringToObject(child, "name", old != NULL ? sl_res_name_of(old) : p->child_name);
	cJSON_AddItemToObject(child, "properties",
			      bprops ? cJSON_Duplicate(bprops, 1) : cJSON_CreateObject());
	if (p->type == SL_RES_LB && strcmp(coll_name, "backendAddressPools") == 0) {
		int rc = sl_check_pool_membership(doc, p, top, child, id, http, err);
		if (rc != 0) {
			cJSON_Delete(child);
			return rc;
		}
	}
	sl_strip_child(child, coll_name);
	if (p->type == SL_RES_NIC && sl_nic_child(top, coll, child, old == NULL) != 0) {
		cJSON_Delete(child);
		return -ENOMEM;
	}
	if (old != NULL && old_out != NULL) {
		sl_array_insert_before(coll, old, child);
		*old_out = cJSON_DetachItemViaPointer(coll, old);
	} else if (old != NULL) {
		cJSON_ReplaceItemViaPointer(coll, old, child);
	} else {
		cJSON_AddItemToArray(coll, child);
	}
	if (slot != NULL)
		sl_ix_child_put(ix, slot, p->child, old, child);
	*created = old == NULL;
	return 0;
}

/* sl_doc_put(), through ix when not NULL. */
static int
sl_put(cJSON *doc, struct sl_doc_index *ix, const struct sl_res_path *p, const cJSON *body,
       bool *created, int *http, struct sl_error *err)
{
	char id[SL_ID_MAX + 256];

	sl_res_id(p, id, sizeof(id));
	*http = 400;
	if (p->name[0] == '\0' || (p->child >= 0 && p->child_name[0] == '\0')) {
		*http = 405;
		sl_error_set(err, "MethodNotAllowed", id, "",
			     "PUT needs a resource, not a collection: add the resource name to the path.");
		return -EINVAL;
	}
	if (!cJSON_IsObject(body))
		return sl_bad_body(err, http, id, "The request body must be a JSON object.");
	const cJSON *name = cJSON_GetObjectItem(body, "name");
	const char *want = p->child >= 0 ? p->child_name : p->name;
	if (name != NULL && (!cJSON_IsString(name) || strcasecmp(name->valuestring, want) != 0)) {
		char msg[256];
		snprintf(msg, sizeof(msg), "The name in the body ('%s') differs from the name in "
			 "the path ('%s').", cJSON_IsString(name) ? name->valuestring : "?", want);
		return sl_bad_body(err, http, id, msg);
	}
	if (p->child < 0)
		return sl_put_top(doc, ix, p, body, created, http, err);
	return sl_put_child_x(doc, ix, p, body, created, http, err, NULL);
}

int
sl_doc_put(cJSON *doc, const struct sl_res_path *p, const cJSON *body, bool *created, int *http,
	   struct sl_error *err)
{
	return sl_put(doc, NULL, p, body, created, http, err);
}

int
sl_doc_index_put(struct sl_doc_index *ix, const struct sl_res_path *p, const cJSON *body,
		 bool *created, int *http, struct sl_error *err)
{
	return sl_put(ix->doc, ix, p, body, created, http, err);
}

int
sl_doc_delete(cJSON *doc, const struct sl_res_path *p, bool *existed, int *http,
	      struct sl_error *err)
{
	char id[SL_ID_MAX + 256];

	sl_res_id(p, id, sizeof(id));
	*existed = false;
	if (p->name[0] == '\0' || (p->child >= 0 && p->child_name[0] == '\0')) {
		*http = 405;
		sl_error_set(err, "MethodNotAllowed", id, "",
			     "DELETE needs a resource, not a collection.");
		return -EINVAL;
	}
	cJSON *top = sl_top(doc, p);
	if (top == NULL)
		return 0;
	if (p->child < 0) {
		cJSON_Delete(cJSON_DetachItemViaPointer(sl_res_coll(doc, p->type), top));
		*existed = true;
		return 0;
	}
	cJSON *coll = sl_res_children(top, p->type, p->child);
	int at;
	cJSON *child = sl_find(coll, p->child_name, &at);
	if (child != NULL) {
		cJSON_Delete(cJSON_DetachItemViaPointer(coll, child));
		*existed = true;
	}
	return 0;
}

/*
 * The resource of type t (its entry in ix, *slot) that the file's resource
 * res replaces: the one of its name in its scope (any scope when res has no
 * id); *slot NULL for none. Returns 0, or -EINVAL with *err for a resource
 * without an id whose name several resources of type t have (in different
 * resource groups).
 */
static int
sl_merge_target(const struct sl_doc_index *ix, const cJSON *res, enum sl_res_type t,
		struct sl_ix_top **slot, struct sl_error *err)
{
	const char *name = sl_res_name_of(res);
	struct sl_scope want;
	int n;

	sl_res_scope_of(res, &want);
	*slot = sl_ix_find(ix, t, name, &want);
	if (*slot == NULL || want.sub[0] != '\0' || (n = sl_ix_count(ix, t, name)) < 2)
		return 0;
	char target[SL_RES_NAME_MAX + 32];

	snprintf(target, sizeof(target), "%s/%s", sl_types[t].coll, name);
	sl_error_set(err, "DuplicateResourceName", target, "",
		     "The file's %s '%s' has no id, so it belongs to every resource group, but %d "
		     "resources of that name are configured in different resource groups; give it "
		     "the id of the one it replaces.", sl_types[t].coll, name, n);
	return -EINVAL;
}

/* Merge the file's resources of type t (src) into doc (indexed by ix). */
static int
sl_merge_type(cJSON *doc, struct sl_doc_index *ix, enum sl_res_type t, const cJSON *src,
	      struct sl_error *err)
{
	cJSON *dst = sl_res_coll(doc, t);
	const cJSON *res;

	if (dst == NULL)
		dst = cJSON_AddArrayToObject(doc, sl_types[t].coll);
	if (dst == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(res, src) {
		struct sl_ix_top *slot;
		int rc = sl_merge_target(ix, res, t, &slot, err);
		cJSON *copy;

		if (rc != 0)
			return rc;
		copy = cJSON_Duplicate(res, 1);
		if (copy == NULL)
			return -ENOMEM;
		if (slot != NULL) {
			if (t == SL_RES_NIC)
				sl_keep_dynamic_ips(slot->node, copy);
			cJSON_ReplaceItemViaPointer(dst, slot->node, copy);
			sl_ix_top_replaced(ix, slot, copy);
			continue;
		}
		cJSON_AddItemToArray(dst, copy);
		sl_ix_top_added(ix, t, copy);
		if (ix->broken)
			return -ENOMEM;
	}
	return 0;
}

int
sl_doc_merge(cJSON *doc, const cJSON *file_doc, struct sl_error *err)
{
	const cJSON *settings = cJSON_GetObjectItem(file_doc, "settings");

	if (!cJSON_IsObject(file_doc)) {
		sl_error_set(err, "InvalidRequestFormat", "configuration", "$",
			     "The configuration must be a JSON object.");
		return -EINVAL;
	}
	if (settings != NULL) {
		cJSON_DeleteItemFromObject(doc, "settings");
		cJSON_AddItemToObject(doc, "settings", cJSON_Duplicate(settings, 1));
	}
	struct sl_doc_index *ix = sl_doc_index_new(doc); /* one lookup a resource of the file */
	int rc = ix == NULL ? -ENOMEM : 0;

	for (int t = 0; rc == 0 && t < SL_RES_TYPE_MAX; t++)
		rc = sl_merge_type(doc, ix, (enum sl_res_type)t,
				   cJSON_GetObjectItem(file_doc, sl_types[t].coll), err);
	sl_doc_index_free(ix);
	return rc;
}

/*
 * In-place edits of a child, undoable. Only a child whose parent exists with
 * an object "properties" qualifies (else -EAGAIN: edit a copy instead), so
 * an undo has at most the child collection itself to remove.
 */
static int
sl_undo_begin(cJSON *doc, const struct sl_res_path *p, struct sl_doc_undo *u)
{
	cJSON *top = p->child >= 0 && p->child_name[0] != '\0' ? sl_top(doc, p) : NULL;
	cJSON *props = cJSON_GetObjectItem(top, "properties");
	const char *coll_name;
	cJSON *coll;

	memset(u, 0, sizeof(*u));
	u->index = -1;
	if (top == NULL || !cJSON_IsObject(props) || p->type == SL_RES_NIC)
		return -EAGAIN;
	coll_name = sl_types[p->type].children[p->child];
	coll = cJSON_GetObjectItem(props, coll_name);
	if (coll != NULL && !cJSON_IsArray(coll))
		return -EAGAIN;
	u->props = props;
	u->coll_created = coll == NULL;
	u->coll_name = coll_name;
	return 0;
}

int
sl_doc_put_undoable(cJSON *doc, const struct sl_res_path *p, const cJSON *body, bool *created,
		    int *http, struct sl_doc_undo *u, struct sl_error *err)
{
	cJSON *old = NULL;
	int rc = sl_undo_begin(doc, p, u);

	if (rc != 0)
		return rc;
	*http = 400;
	/* sl_doc_put()'s checks of the request, then the child's edit with its old node kept */
	const cJSON *name = cJSON_IsObject(body) ? cJSON_GetObjectItem(body, "name") : NULL;
	if (!cJSON_IsObject(body) ||
	    (name != NULL && (!cJSON_IsString(name) ||
			      strcasecmp(name->valuestring, p->child_name) != 0)))
		return sl_doc_put(doc, p, body, created, http, err); /* its error, nothing changed */
	rc = sl_put_child_x(doc, NULL, p, body, created, http, err, &old);
	if (rc != 0) {
		if (u->coll_created)
			cJSON_DeleteItemFromObject(u->props, u->coll_name);
		return rc;
	}
	u->coll = cJSON_GetObjectItem(u->props, u->coll_name);
	if (*created)
		u->index = cJSON_GetArraySize(u->coll) - 1;
	else
		sl_find(u->coll, p->child_name, &u->index);
	u->old = old;
	u->active = true;
	return 0;
}

int
sl_doc_delete_undoable(cJSON *doc, const struct sl_res_path *p, bool *existed, int *http,
		       struct sl_doc_undo *u, struct sl_error *err)
{
	int rc = sl_undo_begin(doc, p, u);

	(void)http;
	(void)err;
	*existed = false;
	if (rc != 0)
		return rc;
	u->coll_created = false;
	u->coll = cJSON_GetObjectItem(u->props, u->coll_name);
	sl_find(u->coll, p->child_name, &u->index);
	if (u->index < 0)
		return 0;
	u->old = cJSON_DetachItemFromArray(u->coll, u->index);
	u->deleted = true;
	u->active = true;
	*existed = true;
	return 0;
}

const cJSON *
sl_doc_undo_after(const struct sl_doc_undo *u)
{
	return u->active && !u->deleted ? cJSON_GetArrayItem(u->coll, u->index) : NULL;
}

void
sl_doc_undo(struct sl_doc_undo *u)
{
	if (!u->active)
		return;
	if (u->deleted) {
		sl_array_insert(u->coll, u->index, u->old);
	} else {
		cJSON_DeleteItemFromArray(u->coll, u->index);
		if (u->old != NULL)
			sl_array_insert(u->coll, u->index, u->old);
		else if (u->coll_created)
			cJSON_DeleteItemFromObject(u->props, u->coll_name);
	}
	u->old = NULL;
	u->active = false;
}

void
sl_doc_undo_done(struct sl_doc_undo *u)
{
	cJSON_Delete(u->old);
	u->old = NULL;
	u->active = false;
}
