/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_resource_index.c: the index of a document's resources by name (struct
 * sl_doc_index, sl_resource.h and sl_resource_int.h): built, looked up,
 * kept in step with the editor's changes, and what renders read from it
 * (the NICs' references to pools and NAT rules, a load balancer's rules by
 * pool). Every lookup answers what a walk of the document would: the first
 * resource in the document's order of that name (case-insensitively) and
 * scope. Out of memory, the index says so (ix->broken, or NULL for a part)
 * and the editor walks the document instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sl_resource_int.h"

const char *const sl_ix_ref_keys[SL_IX_REF_KINDS][2] = {
	[SL_IX_POOLS] = {"loadBalancerBackendAddressPools", "backendAddressPools"},
	[SL_IX_NAT] = {"loadBalancerInboundNatRules", "inboundNatRules"},
};

/* Free a map of nodes of the document (not the nodes). */
static void
sl_ix_free_map(struct sl_name_index **m)
{
	if (*m == NULL)
		return;
	sl_name_index_fini(*m, NULL);
	free(*m);
	*m = NULL;
}

/* Drop what renders built (of the document, of top): it may no longer be what the document says. */
static void
sl_ix_drop_renders(struct sl_doc_index *ix, struct sl_ix_top *top)
{
	for (int k = 0; k < SL_IX_REF_KINDS; k++)
		sl_name_index_fini(&ix->refs[k], free);
	ix->refs_built = false;
	if (top != NULL)
		sl_ix_free_map(&top->rules_by_pool);
}

static void
sl_ix_top_free(void *v)
{
	struct sl_ix_top *top = v;

	for (int c = 0; c < SL_RES_MAX_CHILDREN; c++)
		sl_ix_free_map(&top->children[c]);
	sl_ix_free_map(&top->rules_by_pool);
	free(top);
}

void
sl_doc_index_free(struct sl_doc_index *ix)
{
	if (ix == NULL)
		return;
	for (int t = 0; t < SL_RES_TYPE_MAX; t++)
		sl_name_index_fini(&ix->tops[t], sl_ix_top_free);
	sl_ix_drop_renders(ix, NULL);
	free(ix);
}

void
sl_ix_top_added(struct sl_doc_index *ix, enum sl_res_type t, cJSON *node)
{
	struct sl_ix_top *top = calloc(1, sizeof(*top));

	sl_ix_drop_renders(ix, NULL);
	if (top != NULL)
		top->entry = sl_name_index_add(&ix->tops[t], sl_res_name_of(node), top);
	if (top == NULL || top->entry == NULL) {
		free(top);
		ix->broken = true;
		return;
	}
	top->node = node;
}

struct sl_doc_index *
sl_doc_index_new(const cJSON *doc)
{
	struct sl_doc_index *ix = calloc(1, sizeof(*ix));
	cJSON *it;

	if (ix == NULL)
		return NULL;
	ix->doc = (cJSON *)doc; /* written only through sl_doc_index_put() */
	for (int t = 0; t < SL_RES_TYPE_MAX; t++)
		cJSON_ArrayForEach(it, sl_res_coll(doc, (enum sl_res_type)t))
			sl_ix_top_added(ix, (enum sl_res_type)t, it);
	if (ix->broken) {
		sl_doc_index_free(ix);
		return NULL;
	}
	return ix;
}

struct sl_ix_top *
sl_ix_find(const struct sl_doc_index *ix, enum sl_res_type t, const char *name,
	   const struct sl_scope *want)
{
	struct sl_name_entry *e;
	struct sl_scope s;

	for (e = sl_name_index_first(&ix->tops[t], name); e != NULL; e = sl_name_index_next(e)) {
		struct sl_ix_top *top = e->value;
		sl_res_scope_of(top->node, &s);
		if (sl_scope_match(&s, want))
			return top;
	}
	return NULL;
}

int
sl_ix_count(const struct sl_doc_index *ix, enum sl_res_type t, const char *name)
{
	struct sl_name_entry *e;
	int n = 0;

	for (e = sl_name_index_first(&ix->tops[t], name); e != NULL; e = sl_name_index_next(e))
		n++;
	return n;
}

void
sl_ix_top_replaced(struct sl_doc_index *ix, struct sl_ix_top *top, cJSON *node)
{
	sl_ix_drop_renders(ix, top);
	top->node = node;
	for (int c = 0; c < SL_RES_MAX_CHILDREN; c++)
		sl_ix_children_reset(ix, top, c);
}

/* An index of the elements of array a by name, or NULL (out of memory). */
static struct sl_name_index *
sl_ix_by_name(const cJSON *a)
{
	struct sl_name_index *m = calloc(1, sizeof(*m));
	cJSON *it;

	if (m == NULL)
		return NULL;
	cJSON_ArrayForEach(it, a)
		if (sl_name_index_add(m, sl_res_name_of(it), it) == NULL) {
			sl_ix_free_map(&m);
			return NULL;
		}
	return m;
}

struct sl_name_index *
sl_ix_children(struct sl_ix_top *top, enum sl_res_type t, int c)
{
	if (top->children[c] == NULL)
		top->children[c] = sl_ix_by_name(sl_res_children(top->node, t, c));
	return top->children[c];
}

void
sl_ix_children_reset(struct sl_doc_index *ix, struct sl_ix_top *top, int c)
{
	sl_ix_drop_renders(ix, top);
	sl_ix_free_map(&top->children[c]); /* built again at the next lookup */
}

void
sl_ix_child_put(struct sl_doc_index *ix, struct sl_ix_top *top, int c, cJSON *old, cJSON *child)
{
	struct sl_name_index *m = top->children[c];
	struct sl_name_entry *e;

	sl_ix_drop_renders(ix, top);
	if (m == NULL)
		return;
	if (old == NULL) {
		if (sl_name_index_add(m, sl_res_name_of(child), child) == NULL)
			sl_ix_children_reset(ix, top, c);
		return;
	}
	for (e = sl_name_index_first(m, sl_res_name_of(child)); e != NULL; e = sl_name_index_next(e))
		if (e->value == old) {
			e->value = child;
			return;
		}
	sl_ix_children_reset(ix, top, c); /* not found: cannot happen; build it again */
}

/* ------------------------------------------------------------------------ */
/* What renders read */

/* Index the references of kind k of NIC nic's ipConfigurations. -ENOMEM. */
static int
sl_ix_nic_refs(struct sl_doc_index *ix, enum sl_ix_ref_kind k, const cJSON *nic)
{
	const char *key = sl_ix_ref_keys[k][0], *coll = sl_ix_ref_keys[k][1];
	const cJSON *ipc;

	cJSON_ArrayForEach(ipc, sl_res_children(nic, SL_RES_NIC, 0)) {
		const cJSON *props = cJSON_GetObjectItem(ipc, "properties");
		sl_for_each_ref(ref, cJSON_GetObjectItem(props, key)) {
			char l[SL_RES_NAME_MAX], c[SL_RES_NAME_MAX], both[2 * SL_RES_NAME_MAX];
			const cJSON *id = cJSON_GetObjectItem(ref, "id");
			struct sl_ix_ref *r = malloc(sizeof(*r));
			if (r == NULL)
				return -ENOMEM;
			sl_res_ref_name(ref, "loadBalancers", l);
			sl_res_ref_name(ref, coll, c);
			snprintf(both, sizeof(both), "%s/%s", l, c);
			r->nic = nic;
			r->ipc = ipc;
			sl_id_scope(cJSON_IsString(id) ? id->valuestring : NULL, &r->scope);
			if (sl_name_index_add(&ix->refs[k], both, r) == NULL) {
				free(r);
				return -ENOMEM;
			}
		}
	}
	return 0;
}

const struct sl_name_index *
sl_ix_refs(struct sl_doc_index *ix, enum sl_ix_ref_kind k)
{
	const cJSON *nic;

	if (ix->refs_built)
		return &ix->refs[k];
	for (int kind = 0; kind < SL_IX_REF_KINDS; kind++)
		cJSON_ArrayForEach(nic, sl_res_coll(ix->doc, SL_RES_NIC))
			if (sl_ix_nic_refs(ix, (enum sl_ix_ref_kind)kind, nic) != 0) {
				sl_ix_drop_renders(ix, NULL);
				return NULL;
			}
	ix->refs_built = true;
	return &ix->refs[k];
}

const struct sl_name_index *
sl_ix_rules_by_pool(struct sl_ix_top *top)
{
	const cJSON *r;

	if (top->rules_by_pool != NULL)
		return top->rules_by_pool;
	top->rules_by_pool = calloc(1, sizeof(*top->rules_by_pool));
	if (top->rules_by_pool == NULL)
		return NULL;
	cJSON_ArrayForEach(r, sl_res_children(top->node, SL_RES_LB, 2)) {
		const cJSON *rp = cJSON_GetObjectItem(r, "properties");
		char pool[SL_RES_NAME_MAX];
		sl_res_ref_name(cJSON_GetObjectItem(rp, "backendAddressPool"), "backendAddressPools",
				pool);
		if (sl_name_index_add(top->rules_by_pool, pool, (void *)r) == NULL) {
			sl_ix_free_map(&top->rules_by_pool);
			return NULL;
		}
	}
	return top->rules_by_pool;
}
