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
 * of the file replaces the document's resource of that type and name whole,
 * "settings" replaces the settings; resources the file does not name stay.
 * Returns 0 or -EINVAL with *err filled.
 */
int sl_doc_merge(cJSON *doc, const cJSON *file_doc, struct sl_error *err);

#endif /* SL_RESOURCE_H */
