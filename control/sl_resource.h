/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_resource.h: resources of the desired-state document, addressed by ARM
 * resource paths.
 *
 * The document is the configuration file's shape (sl_config.h): a JSON
 * object with "virtualNetworks", "networkInterfaces" and "loadBalancers"
 * lists (and optional "settings"). Top-level resources carry their ARM "id";
 * child resources (a load balancer's pools, rules...; a NIC's ipConfigurations;
 * a virtual network's subnets) live in their parent's properties and have
 * ids derived from the parent's. These functions read and edit such a
 * document; they validate only the request's shape (names, paths, bodies),
 * never the whole document: that is sl_config_from_json()'s job, run by the
 * caller on the edited copy before it is committed.
 *
 * A top-level resource is found by its scope (the subscription and resource
 * group of its stored "id") and name: the same name in two resource groups
 * is two resources. One stored without an "id" (written in a configuration
 * file) is in every scope.
 */
#ifndef SL_RESOURCE_H
#define SL_RESOURCE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "sl_error.h"
#include "sl_path.h"

/* The kinds of top-level resources and their collections in the document. */
enum sl_res_type {
	SL_RES_VNET = 0, /* virtualNetworks */
	SL_RES_NIC,      /* networkInterfaces */
	SL_RES_LB,       /* loadBalancers */
	SL_RES_TYPE_MAX
};

/* A parsed resource path: a collection (name empty) or one resource. */
struct sl_res_path {
	char sub[SL_RES_SCOPE_MAX];
	char rg[SL_RES_SCOPE_MAX];
	enum sl_res_type type;
	char name[SL_RES_NAME_MAX];       /* top-level resource; "" for the collection */
	int child;                        /* index into the type's child collections, -1 none */
	char child_name[SL_RES_NAME_MAX]; /* "" for the child collection */
};

/*
 * Parse "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/
 * {type}[/{name}[/{childType}[/{childName}]]]" (segments case-insensitive,
 * a trailing '/' allowed). Returns 0, or -ENOENT with *err filled
 * (InvalidResourceType / ResourceNotFound-style codes) for a path that names
 * no resource sluice knows, or -ENAMETOOLONG (InvalidResourceName, target
 * the collection, path "$.name", as validation reports a bad name) for a
 * name longer than SL_RES_NAME_MAX - 1 characters.
 */
int sl_res_path_parse(const char *url, struct sl_res_path *p, struct sl_error *err);

/* The document's collection key ("loadBalancers") and ARM type ("Microsoft.Network/loadBalancers"). */
const char *sl_res_collection(enum sl_res_type t);
/* Child collection key of a type ("backendAddressPools"), NULL when out of range. */
const char *sl_res_child_collection(enum sl_res_type t, int child);

/* The canonical id of the resource p names (collection paths give the collection's). */
void sl_res_id(const struct sl_res_path *p, char *buf, size_t len);

/* A new, empty document. */
cJSON *sl_doc_new(void);

/*
 * GET: the resource or collection p names, rendered with its read-only
 * fields (id, type, etag, provisioningState, and for pools
 * backendIPConfigurations and loadBalancingRules). Collections render as
 * {"value": [...]}. Returns a new tree, or NULL with *err filled (404 codes).
 */
cJSON *sl_doc_render(const cJSON *doc, const struct sl_res_path *p, struct sl_error *err);

/*
 * The stored resource p names (not rendered: what the document holds), or
 * NULL when there is none or p names a collection.
 */
const cJSON *sl_doc_find(const cJSON *doc, const struct sl_res_path *p);

/*
 * PUT: create or replace the resource p names from a request body. Read-only
 * fields in the body are dropped; for a pool, a backendIPConfigurations list
 * that differs from the one the NICs give is refused (membership of a pool
 * by NIC changes only on the NIC). Returns 0 and *created, or a negative
 * errno with *err filled; *http receives the status to answer with on error.
 */
int sl_doc_put(cJSON *doc, const struct sl_res_path *p, const cJSON *body, bool *created,
	       int *http, struct sl_error *err);

/*
 * DELETE: remove the resource p names. Returns 0 with *existed, or a
 * negative errno with *err and *http (a collection cannot be deleted).
 */
int sl_doc_delete(cJSON *doc, const struct sl_res_path *p, bool *existed, int *http,
		  struct sl_error *err);

/*
 * Merge a configuration file's resources into doc: each top-level resource
 * of the file replaces the document's resource of that type and name in its
 * scope whole (one without an id: the one of that name in any scope;
 * DuplicateResourceName when several resource groups have one), "settings"
 * replaces the settings; resources the file does not name stay. Returns 0
 * or -EINVAL with *err filled.
 */
int sl_doc_merge(cJSON *doc, const cJSON *file_doc, struct sl_error *err);

/*
 * An index of a document's resources by name, for many lookups in one
 * document (a deployment's puts, its what-if's renders, a file's merge):
 * the top-level resources by type and name, the children of each by name
 * (at the first lookup among them) and, for renders, the network
 * interfaces' references to pools and NAT rules (at the first render that
 * needs them). Each lookup is then constant time where sl_doc_put(),
 * sl_doc_render() and sl_doc_find() walk the document's lists; the answers
 * are the same. While an index is in use its document changes only through
 * sl_doc_index_put(). Out of memory, the index walks the document instead.
 */
struct sl_doc_index;

/*
 * Index doc (in time linear in its top-level resources). doc is written
 * only by sl_doc_index_put(), so an index of a document the caller must
 * not change serves renders and finds. NULL when out of memory.
 */
struct sl_doc_index *sl_doc_index_new(const cJSON *doc);
void sl_doc_index_free(struct sl_doc_index *ix);

/* sl_doc_put(), sl_doc_render() and sl_doc_find() of the index's document. */
int sl_doc_index_put(struct sl_doc_index *ix, const struct sl_res_path *p, const cJSON *body,
		     bool *created, int *http, struct sl_error *err);
cJSON *sl_doc_index_render(struct sl_doc_index *ix, const struct sl_res_path *p,
			   struct sl_error *err);
const cJSON *sl_doc_index_find(struct sl_doc_index *ix, const struct sl_res_path *p);

/*
 * An edit of one child resource made in place on a document (the
 * controller's fast path, sl_controller.h), and how to take it back.
 */
struct sl_doc_undo {
	bool active;         /* an edit was made and is neither undone nor done */
	bool deleted;        /* the edit removed the child (else created or replaced it) */
	bool coll_created;   /* the edit created the child collection */
	cJSON *props;        /* the parent's properties */
	const char *coll_name;
	cJSON *coll;         /* the child collection */
	int index;           /* the child's index in it */
	cJSON *old;          /* the child as it was (detached); NULL when created */
};

/*
 * sl_doc_put() / sl_doc_delete() of a child resource (a load balancer's or a
 * virtual network's child), made in place with *u able to take it back.
 * Same answers as those, and -EAGAIN (document untouched) for what is not
 * edited in place: a top-level resource, a network interface's
 * ipConfiguration, a parent whose properties are not an object.
 * On success u->active tells whether anything changed (a DELETE of a
 * child that is not there changes nothing).
 */
int sl_doc_put_undoable(cJSON *doc, const struct sl_res_path *p, const cJSON *body, bool *created,
			int *http, struct sl_doc_undo *u, struct sl_error *err);
int sl_doc_delete_undoable(cJSON *doc, const struct sl_res_path *p, bool *existed, int *http,
			   struct sl_doc_undo *u, struct sl_error *err);
/* The child as it is now (NULL when the edit deleted it). */
const cJSON *sl_doc_undo_after(const struct sl_doc_undo *u);
/* Take the edit back (the document is as before it). */
void sl_doc_undo(struct sl_doc_undo *u);
/* Keep the edit: free what it replaced. */
void sl_doc_undo_done(struct sl_doc_undo *u);

#endif /* SL_RESOURCE_H */
