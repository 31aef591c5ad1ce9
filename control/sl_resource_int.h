/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_resource_int.h: what the document's editor (sl_resource.c) and its
 * index (sl_resource_index.c) share: how a stored resource's name, scope,
 * collections and references are read, and the index's layout. Internal
 * to the control library; see sl_resource.h for the interface.
 */
#ifndef SL_RESOURCE_INT_H
#define SL_RESOURCE_INT_H

#include "sl_config.h"
#include "sl_name_index.h"
#include "sl_resource.h"

#define SL_RES_MAX_CHILDREN 5

/* A stored resource's name ("" without one); members are found ignoring case. */
const char *sl_res_name_of(const cJSON *res);
/* The scope of a stored top-level resource: its id's ("" and "" without one). */
void sl_res_scope_of(const cJSON *res, struct sl_scope *s);
/* The document's collection of type t (NULL when it has none). */
cJSON *sl_res_coll(const cJSON *doc, enum sl_res_type t);
/* Child collection `child` of a stored top-level resource of type t (NULL when none). */
cJSON *sl_res_children(const cJSON *top, enum sl_res_type t, int child);
/*
 * The name a reference id gives for a resource of collection coll (the
 * segment after "/coll/"), or a bare name; "" when neither. out holds
 * SL_RES_NAME_MAX.
 */
void sl_res_ref_name(const cJSON *ref, const char *coll, char *out);

/* A reference list may be written as one object (the seed's NIC body does) or a list. */
#define sl_for_each_ref(it, node)                                                        \
	for (const cJSON *_l = (node), *it = cJSON_IsArray(_l) ? _l->child : _l; it != NULL; \
	     it = cJSON_IsArray(_l) ? it->next : NULL)

/* What NIC ipConfigurations refer to: pools or inbound NAT rules of load balancers. */
enum sl_ix_ref_kind {
	SL_IX_POOLS = 0, /* loadBalancerBackendAddressPools -> backendAddressPools */
	SL_IX_NAT,       /* loadBalancerInboundNatRules -> inboundNatRules */
	SL_IX_REF_KINDS
};
/* Of each kind: the ipConfiguration's list and the load balancer's collection it names. */
extern const char *const sl_ix_ref_keys[SL_IX_REF_KINDS][2];

/* A top-level resource in the index. */
struct sl_ix_top {
	cJSON *node;
	struct sl_name_entry *entry; /* its entry in the index of its type */
	/* its children by name, each built at the first lookup among them (NULL before) */
	struct sl_name_index *children[SL_RES_MAX_CHILDREN];
	struct sl_name_index *rules_by_pool; /* a load balancer's rules by pool (renders) */
};

/* One reference of a NIC ipConfiguration, under key "<lb name>/<child name>". */
struct sl_ix_ref {
	const cJSON *nic, *ipc;
	struct sl_scope scope; /* the reference id's */
};

struct sl_doc_index {
	cJSON *doc;
	bool broken;                               /* out of memory once: walk instead */
	struct sl_name_index tops[SL_RES_TYPE_MAX]; /* name -> struct sl_ix_top */
	bool refs_built;
	struct sl_name_index refs[SL_IX_REF_KINDS]; /* "lb/child" -> struct sl_ix_ref */
};

/* The top-level resource of type t named name in scope want (the first one), or NULL. */
struct sl_ix_top *sl_ix_find(const struct sl_doc_index *ix, enum sl_res_type t, const char *name,
			     const struct sl_scope *want);
/* How many top-level resources of type t are named name, in any scope. */
int sl_ix_count(const struct sl_doc_index *ix, enum sl_res_type t, const char *name);
/* top's children of collection c by name (built now if need be), or NULL: walk them. */
struct sl_name_index *sl_ix_children(struct sl_ix_top *top, enum sl_res_type t, int c);

/* Edits, as they are made to the document (each drops what renders had built). */
/* node was appended to the collection of type t. */
void sl_ix_top_added(struct sl_doc_index *ix, enum sl_res_type t, cJSON *node);
/* top's node was replaced by node (the same name). */
void sl_ix_top_replaced(struct sl_doc_index *ix, struct sl_ix_top *top, cJSON *node);
/* top's child collection c was created or replaced (empty). */
void sl_ix_children_reset(struct sl_doc_index *ix, struct sl_ix_top *top, int c);
/* In top's child collection c: old (NULL: none) was replaced by child, or child appended. */
void sl_ix_child_put(struct sl_doc_index *ix, struct sl_ix_top *top, int c, cJSON *old,
		     cJSON *child);

/* Renders: the references of a kind (built at the first call), or NULL: walk the NICs. */
const struct sl_name_index *sl_ix_refs(struct sl_doc_index *ix, enum sl_ix_ref_kind k);
/* top's rules by the pool they name (built at the first call), or NULL: walk the rules. */
const struct sl_name_index *sl_ix_rules_by_pool(struct sl_ix_top *top);

#endif /* SL_RESOURCE_INT_H */
