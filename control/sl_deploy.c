/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_deploy.c: the deployment engine (see sl_deploy.h): expansion, the
 * supported-type check, the mapping of expanded resources onto a copy of
 * the document, Complete mode's deletions, whole validation, the one
 * commit, and the ARM errors of each step.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sl_config.h"
#include "sl_deploy.h"
#include "sl_dynamic_ip.h"
#include "sl_json.h"
#include "sl_path.h"

#define SL_DEPLOY_ID_MAX (SL_ARM_ID_MAX + 128)

int
sl_deploy_mode_parse(const char *s, enum sl_deploy_mode *mode)
{
	if (s != NULL && strcasecmp(s, "Incremental") == 0)
		*mode = SL_DEPLOY_INCREMENTAL;
	else if (s != NULL && strcasecmp(s, "Complete") == 0)
		*mode = SL_DEPLOY_COMPLETE;
	else
		return -EINVAL;
	return 0;
}

const char *
sl_deploy_mode_name(enum sl_deploy_mode mode)
{
	return mode == SL_DEPLOY_COMPLETE ? "Complete" : "Incremental";
}

bool
sl_deploy_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= SL_DEPLOY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && strchr("-_.()", name[i]) == NULL)
			return false;
	return true;
}

void
sl_deploy_id(const struct sl_deploy_request *rq, char *buf, size_t len)
{
	snprintf(buf, len,
		 "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Resources/deployments/%s",
		 rq->sub, rq->rg, rq->name);
}

/* ------------------------------------------------------------------------ */
/* Errors */

/* Refuse with status and {code, message, target[, jsonPath], details: []}; returns -EINVAL. */
static int
sl_refuse(struct sl_deploy_outcome *o, unsigned int status, const char *code, const char *target,
	  const char *json_path, const char *message)
{
	cJSON_Delete(o->error);
	o->status = status;
	o->error = sl_json_arm_error(code, message, target, json_path);
	cJSON_AddArrayToObject(o->error, "details");
	return -EINVAL;
}

static void
sl_add_detail(struct sl_deploy_outcome *o, cJSON *d)
{
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(o->error, "details"), d);
}

/* InvalidTemplateDeployment whose one detail is e (target, path already mapped). */
static int
sl_refuse_invalid(struct sl_deploy_outcome *o, const struct sl_deploy_request *rq,
		  unsigned int status, const struct sl_error *e)
{
	char id[SL_DEPLOY_ID_MAX], msg[sizeof(e->message) + 256];

	sl_deploy_id(rq, id, sizeof(id));
	snprintf(msg, sizeof(msg), "The template deployment '%s' is not valid: %s: %s",
		 rq->name, e->target, e->message);
	sl_refuse(o, status, "InvalidTemplateDeployment", id, NULL, msg);
	sl_add_detail(o, sl_json_arm_error(e->code, e->message, e->target, e->json_path));
	return -EINVAL;
}

cJSON *
sl_deploy_error_body(const struct sl_deploy_outcome *o)
{
	cJSON *root = cJSON_CreateObject();

	cJSON_AddItemToObject(root, "error", cJSON_Duplicate(o->error, 1));
	return root;
}

/* ------------------------------------------------------------------------ */
/* Types */

/*
 * The resource path type names (t, child index) when it is one sluice
 * models: "Microsoft.Network/loadBalancers[/backendAddressPools]".
 */
static bool
sl_type_supported(const char *type, enum sl_res_type *t_out, int *child_out)
{
	struct sl_segs g;

	if (sl_path_split(type, &g, 4) != 0 || g.n < 2 || g.n > 3 ||
	    !sl_path_seg_is(&g, 0, "Microsoft.Network"))
		return false;
	for (int t = 0; t < SL_RES_TYPE_MAX; t++) {
		if (!sl_path_seg_is(&g, 1, sl_res_collection((enum sl_res_type)t)))
			continue;
		*t_out = (enum sl_res_type)t;
		*child_out = -1;
		if (g.n == 2)
			return true;
		for (int c = 0; sl_res_child_collection((enum sl_res_type)t, c) != NULL; c++)
			if (sl_path_seg_is(&g, 2, sl_res_child_collection((enum sl_res_type)t, c))) {
				*child_out = c;
				return true;
			}
		return false;
	}
	return false;
}

/* Refuse every resource of a type sluice does not model, or list it as skipped. */
static int
sl_check_types(const struct sl_deploy_request *rq, struct sl_deploy_outcome *o)
{
	char id[SL_DEPLOY_ID_MAX], msg[512];
	cJSON *details = cJSON_CreateArray();
	int n = 0;

	for (size_t i = 0; i < o->x.n_resources; i++) {
		const struct sl_arm_resource *r = &o->x.resources[i];
		enum sl_res_type t;
		int c;
		if (sl_type_supported(r->type, &t, &c))
			continue;
		snprintf(msg, sizeof(msg), "The resource type '%s' is not modelled by sluice "
			 "(it models Microsoft.Network virtualNetworks, networkInterfaces and "
			 "loadBalancers with their child resources).", r->type);
		cJSON *d = sl_json_arm_error("UnsupportedResourceType", msg, r->id, r->path);
		cJSON_AddStringToObject(d, "resourceType", r->type);
		cJSON_AddItemToArray(details, d);
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "id", r->id);
		cJSON_AddStringToObject(s, "resourceType", r->type);
		cJSON_AddItemToArray(o->skipped, s);
		n++;
	}
	if (n == 0 || rq->skip_unsupported) {
		cJSON_Delete(details);
		return 0;
	}
	sl_deploy_id(rq, id, sizeof(id));
	snprintf(msg, sizeof(msg), "The template deployment '%s' is not valid: %d resource%s of "
		 "types sluice does not model (see details); set properties."
		 "skipUnsupportedResources to true to deploy the rest and skip %s.", rq->name, n,
		 n == 1 ? " is" : "s are", n == 1 ? "it" : "them");
	sl_refuse(o, 400, "InvalidTemplateDeployment", id, NULL, msg);
	cJSON_ReplaceItemInObject(o->error, "details", details);
	cJSON_Delete(o->skipped);
	o->skipped = cJSON_CreateArray();
	return -EINVAL;
}

/* ------------------------------------------------------------------------ */
/* Mapping */

/* "<decl>" + the part of a body error's path after "$" ("$.properties.x" -> "<decl>.properties.x"). */
static void
sl_join_path(char *buf, size_t len, const char *decl, const char *body_path)
{
	const char *rest = body_path != NULL && body_path[0] == '$' ? body_path + 1 : "";

	snprintf(buf, len, "%s%s", decl, rest);
}

static int
sl_put_one(struct sl_doc_index *ix, const struct sl_deploy_request *rq,
	   const struct sl_arm_resource *r, struct sl_deploy_outcome *o)
{
	struct sl_res_path p;
	struct sl_error e;
	enum sl_res_type t;
	bool created;
	int child, http = 400;

	sl_type_supported(r->type, &t, &child);
	if (sl_res_path_parse(r->id, &p, &e) != 0 || p.type != t || p.child != child ||
	    p.name[0] == '\0' || (child >= 0 && p.child_name[0] == '\0')) {
		if (e.code[0] == '\0' || p.type != t || p.child != child)
			sl_error_set(&e, "InvalidResourceName", r->id, "",
				     "The resource '%s' of type '%s' has a name ('%s') whose "
				     "segments do not match its type.", r->id, r->type, r->name);
		snprintf(e.target, sizeof(e.target), "%s", r->id);
		snprintf(e.json_path, sizeof(e.json_path), "%s.name", r->path);
		return sl_refuse_invalid(o, rq, 400, &e);
	}
	memset(&e, 0, sizeof(e));
	if (sl_doc_index_put(ix, &p, r->body, &created, &http, &e) != 0) {
		char path[sizeof(e.json_path)];
		sl_join_path(path, sizeof(path), r->path, e.json_path);
		snprintf(e.json_path, sizeof(e.json_path), "%s", path);
		snprintf(e.target, sizeof(e.target), "%s", r->id);
		return sl_refuse_invalid(o, rq, http == 409 ? 409 : 400, &e);
	}
	cJSON *item = cJSON_CreateObject();
	cJSON_AddStringToObject(item, "id", r->id);
	cJSON_AddStringToObject(item, "type", r->type);
	cJSON_AddStringToObject(item, "path", r->path);
	cJSON_AddItemToArray(o->resources, item);
	if (sl_name_index_add_once(&o->named[p.type], p.name) < 0)
		return sl_refuse(o, 500, "OutOfMemory", rq->name, NULL, "Out of memory.");
	return 0;
}

/* Parse the id of an outcome's resources entry. */
static int
sl_entry_path(const cJSON *entry, struct sl_res_path *p)
{
	const char *id = sl_json_member_string(entry, "id");
	struct sl_error e;

	return id != NULL ? sl_res_path_parse(id, p, &e) : -EINVAL;
}

bool
sl_deploy_names(const struct sl_deploy_outcome *o, enum sl_res_type t, const char *name)
{
	return sl_name_index_has(&o->named[t], name);
}

/*
 * Complete mode: the resource group's top-level resources that the
 * template names neither themselves nor by a child, each deleted from doc
 * and listed in o->deleted. Resources without an id (a configuration
 * file's) belong to no resource group and stay.
 */
static int
sl_complete_deletes(cJSON *doc, const struct sl_deploy_request *rq, struct sl_deploy_outcome *o)
{
	for (int t = 0; t < SL_RES_TYPE_MAX; t++) {
		cJSON *coll = cJSON_GetObjectItemCaseSensitive(doc, sl_res_collection(t));
		cJSON *res = coll != NULL ? coll->child : NULL;

		while (res != NULL) {
			cJSON *next = res->next;
			const char *name = sl_json_member_string(res, "name");
			struct sl_scope s;
			sl_id_scope(sl_json_member_string(res, "id"), &s);
			if (name != NULL && s.sub[0] != '\0' && strcasecmp(s.sub, rq->sub) == 0 &&
			    strcasecmp(s.rg, rq->rg) == 0 && !sl_deploy_names(o, (enum sl_res_type)t, name)) {
				cJSON *d = cJSON_CreateObject();
				char type[SL_ARM_TYPE_MAX];
				snprintf(type, sizeof(type), "Microsoft.Network/%s",
					 sl_res_collection(t));
				cJSON_AddStringToObject(d, "id", sl_json_member_string(res, "id"));
				cJSON_AddStringToObject(d, "resourceType", type);
				cJSON_AddItemToArray(o->deleted, d);
				cJSON_Delete(cJSON_DetachItemViaPointer(coll, res));
			}
			res = next;
		}
	}
	return 0;
}

static int
sl_expand(const struct sl_deploy_request *rq, struct sl_deploy_outcome *o)
{
	const struct sl_arm_scope scope = {rq->sub, rq->rg, rq->name, NULL};
	struct sl_error e;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = sl_arm_expand(rq->tmpl, rq->parameters, &scope, &o->x, &e);
	if (rc != 0) {
		memset(&o->x, 0, sizeof(o->x));
		if (rc == -ENOMEM && e.code[0] == '\0')
			sl_error_set(&e, "OutOfMemory", rq->name, "", "Out of memory.");
		sl_refuse(o, rc == -ENOMEM ? 500 : 400, e.code[0] ? e.code : "InvalidTemplate",
			  e.target, e.json_path, e.message);
		return rc;
	}
	o->expanded = true;
	return 0;
}

int
sl_deploy_prepare(const cJSON *committed, const struct sl_deploy_request *rq,
		  struct sl_deploy_outcome *o)
{
	enum sl_res_type t;
	int child, rc;

	memset(o, 0, sizeof(*o));
	o->resources = cJSON_CreateArray();
	o->skipped = cJSON_CreateArray();
	o->deleted = cJSON_CreateArray();
	rc = sl_expand(rq, o);
	if (rc != 0)
		return rc;
	rc = sl_check_types(rq, o);
	if (rc != 0)
		return rc;
	o->doc = cJSON_Duplicate(committed, 1);
	/* one index of the copy for all the puts: each finds its resource in constant time */
	struct sl_doc_index *ix = o->doc != NULL ? sl_doc_index_new(o->doc) : NULL;
	if (ix == NULL)
		return sl_refuse(o, 500, "OutOfMemory", rq->name, NULL, "Out of memory.");
	for (size_t i = 0; rc == 0 && i < o->x.n_resources; i++)
		if (sl_type_supported(o->x.resources[i].type, &t, &child))
			rc = sl_put_one(ix, rq, &o->x.resources[i], o);
	sl_doc_index_free(ix);
	if (rc != 0)
		return rc;
	if (rq->mode == SL_DEPLOY_COMPLETE)
		return sl_complete_deletes(o->doc, rq, o);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Validation errors, mapped back onto the template */

/*
 * Split a validation target ("loadBalancers/lb/backendAddressPools/p/...",
 * or a full id) into the document's (type, name, child, child name).
 */
static int
sl_target_path(const char *target, struct sl_res_path *p)
{
	struct sl_segs g;
	unsigned int at = 0;

	memset(p, 0, sizeof(*p));
	p->child = -1;
	if (sl_path_split(target, &g, SL_PATH_MAX_SEGMENTS) != 0)
		return -EINVAL;
	if (sl_path_seg_is(&g, 0, "subscriptions"))
		at = 6;
	if (g.n < at + 2)
		return -EINVAL;
	unsigned int t;
	for (t = 0; t < SL_RES_TYPE_MAX; t++)
		if (sl_path_seg_is(&g, at, sl_res_collection((enum sl_res_type)t)))
			break;
	if (t == SL_RES_TYPE_MAX || sl_path_seg_copy(&g, at + 1, p->name, sizeof(p->name)) != 0)
		return -EINVAL;
	p->type = (enum sl_res_type)t;
	if (g.n < at + 4)
		return 0;
	for (int c = 0; sl_res_child_collection(p->type, c) != NULL; c++)
		if (sl_path_seg_is(&g, at + 2, sl_res_child_collection(p->type, c)) &&
		    sl_path_seg_copy(&g, at + 3, p->child_name, sizeof(p->child_name)) == 0)
			p->child = c;
	return 0;
}

/* The template resource (its outcome entry) a document resource came from, or NULL. */
static const cJSON *
sl_template_entry(const struct sl_deploy_outcome *o, const struct sl_res_path *q, bool *is_child)
{
	const cJSON *it, *top = NULL;

	cJSON_ArrayForEach(it, o->resources) {
		struct sl_res_path p;
		if (sl_entry_path(it, &p) != 0 || p.type != q->type || strcasecmp(p.name, q->name))
			continue;
		if (p.child < 0)
			top = it;
		else if (q->child >= 0 && p.child == q->child &&
			 strcasecmp(p.child_name, q->child_name) == 0) {
			*is_child = true;
			return it;
		}
	}
	*is_child = false;
	return top;
}

/* Skip "[N]" at s; NULL when s does not start with one. */
static const char *
sl_skip_index(const char *s)
{
	if (*s != '[')
		return NULL;
	s++;
	while (isdigit((unsigned char)*s))
		s++;
	return *s == ']' ? s + 1 : NULL;
}

/*
 * The part of a document path ("$.loadBalancers[0].properties.probes[1].x")
 * below the resource: below the top-level element, or below the child
 * element too; NULL when the path does not have that shape.
 */
static const char *
sl_path_below(const char *path, const struct sl_res_path *q, bool child)
{
	const char *coll = sl_res_collection(q->type);
	size_t n = strlen(coll);
	const char *s;

	if (strncmp(path, "$.", 2) != 0 || strncasecmp(path + 2, coll, n) != 0 ||
	    (s = sl_skip_index(path + 2 + n)) == NULL)
		return NULL;
	if (!child)
		return s;
	const char *cc = sl_res_child_collection(q->type, q->child);
	static const char props[] = ".properties.";
	if (strncasecmp(s, props, sizeof(props) - 1) != 0)
		return NULL;
	s += sizeof(props) - 1;
	if (strncasecmp(s, cc, strlen(cc)) != 0)
		return NULL;
	return sl_skip_index(s + strlen(cc));
}

/* Index N of a document path "$.<coll>[N]..." of q's collection; -1 when it is not one. */
static long
sl_path_element(const char *path, const struct sl_res_path *q)
{
	const char *coll = sl_res_collection(q->type);
	size_t n = strlen(coll);
	char *end;
	long i;

	if (path == NULL || strncmp(path, "$.", 2) != 0 || strncasecmp(path + 2, coll, n) != 0 ||
	    path[2 + n] != '[' || sl_skip_index(path + 2 + n) == NULL)
		return -1;
	i = strtol(path + 3 + n, &end, 10);
	return *end == ']' ? i : -1;
}

static const char *
sl_name_of(const cJSON *el)
{
	const char *n = sl_json_member_string(el, "name");

	return n != NULL ? n : "";
}

/* Take a label's scope off q->name ("rg:name", "sub:rg:name") into l; false when none. */
static bool
sl_label_scope(struct sl_res_path *q, struct sl_scope *l)
{
	char *first = strchr(q->name, ':'), *last = strrchr(q->name, ':');
	char name[sizeof(q->name)];

	memset(l, 0, sizeof(*l));
	if (last == NULL)
		return false;
	if (first != last)
		snprintf(l->sub, sizeof(l->sub), "%.*s", (int)(first - q->name), q->name);
	snprintf(l->rg, sizeof(l->rg), "%.*s", (int)(last - first - (first != last)),
		 first != last ? first + 1 : q->name);
	snprintf(name, sizeof(name), "%s", last + 1);
	snprintf(q->name, sizeof(q->name), "%s", name);
	return true;
}

/*
 * The scope of the document resource a validation error is about: the
 * element its path names in doc (a document, or sl_doc_ids()'s skeleton of
 * one), else the one resource of that name (and of the label's scope when
 * the name is a label, "rg:name" or "sub:rg:name": sl_config.h). Returns
 * true with *s filled (s->sub "" for a resource without an id), false when
 * it cannot tell; q->name loses a label's scope.
 */
static bool
sl_error_scope(const cJSON *doc, struct sl_res_path *q, const char *json_path,
	       struct sl_scope *s)
{
	const cJSON *coll = sl_json_member(doc, sl_res_collection(q->type)), *it, *one = NULL;
	long i = sl_path_element(json_path, q);
	const cJSON *el = i >= 0 ? cJSON_GetArrayItem(coll, (int)i) : NULL;
	struct sl_scope l;
	bool labelled = sl_label_scope(q, &l);
	int n = 0;

	memset(s, 0, sizeof(*s));
	if (el != NULL && strcasecmp(sl_name_of(el), q->name) == 0) {
		sl_id_scope(sl_json_member_string(el, "id"), s);
		return true;
	}
	cJSON_ArrayForEach(it, coll) {
		struct sl_scope e;
		if (strcasecmp(sl_name_of(it), q->name) != 0)
			continue;
		sl_id_scope(sl_json_member_string(it, "id"), &e);
		if (labelled && (strcasecmp(e.rg, l.rg) != 0 ||
				 (l.sub[0] != '\0' && strcasecmp(e.sub, l.sub) != 0)))
			continue;
		one = it;
		n++;
	}
	if (n != 1)
		return false;
	sl_id_scope(sl_json_member_string(one, "id"), s);
	return true;
}

/* Is the outcome entry's resource in scope s (s->sub "": a resource without an id, never)? */
static bool
sl_entry_in(const cJSON *entry, const struct sl_scope *s)
{
	struct sl_scope e;

	sl_id_scope(sl_json_member_string(entry, "id"), &e);
	return s->sub[0] != '\0' && strcasecmp(e.sub, s->sub) == 0 && strcasecmp(e.rg, s->rg) == 0;
}

/*
 * Point e (a validation error of the whole document, doc the document or
 * its skeleton) at the template resource it comes from when the faulty
 * resource is that one; otherwise at the faulty resource's own id (its own
 * resource group), with no template path.
 */
static void
sl_map_error(const struct sl_deploy_outcome *o, const cJSON *doc, struct sl_error *e)
{
	struct sl_res_path q;
	struct sl_scope s;
	bool child, known;
	char path[sizeof(e->json_path)];

	if (sl_target_path(e->target, &q) != 0)
		return;
	known = sl_error_scope(doc, &q, e->json_path, &s);
	const cJSON *entry = sl_template_entry(o, &q, &child);
	if (entry != NULL && (!known || sl_entry_in(entry, &s))) {
		const char *below = sl_path_below(e->json_path, &q, child);
		snprintf(path, sizeof(path), "%s%s", sl_json_member_string(entry, "path"),
			 below != NULL ? below : "");
		snprintf(e->json_path, sizeof(e->json_path), "%s", path);
		snprintf(e->target, sizeof(e->target), "%s", sl_json_member_string(entry, "id"));
		return;
	}
	/* a resource the template does not name: its own id, or the document's name for it */
	e->json_path[0] = '\0';
	if (!known || s.sub[0] == '\0')
		return;
	snprintf(q.sub, sizeof(q.sub), "%s", s.sub);
	snprintf(q.rg, sizeof(q.rg), "%s", s.rg);
	if (q.child >= 0 && q.child_name[0] == '\0')
		q.child = -1;
	char id[SL_DEPLOY_ID_MAX];
	sl_res_id(&q, id, sizeof(id));
	snprintf(e->target, sizeof(e->target), "%s", id);
}

/* The document's resources reduced to their names and ids, in order: what sl_map_error() reads. */
static cJSON *
sl_doc_ids(const cJSON *doc)
{
	cJSON *out = cJSON_CreateObject();

	for (int t = 0; out != NULL && t < SL_RES_TYPE_MAX; t++) {
		cJSON *list = cJSON_AddArrayToObject(out, sl_res_collection(t));
		const cJSON *it;
		cJSON_ArrayForEach(it, sl_json_member(doc, sl_res_collection(t))) {
			cJSON *r = cJSON_CreateObject();
			const char *name = sl_json_member_string(it, "name");
			const char *id = sl_json_member_string(it, "id");
			cJSON_AddStringToObject(r, "name", name != NULL ? name : "");
			if (id != NULL)
				cJSON_AddStringToObject(r, "id", id);
			cJSON_AddItemToArray(list, r);
		}
	}
	return out;
}

int
sl_deploy_validate(const struct sl_deploy_request *rq, struct sl_deploy_outcome *o)
{
	struct sl_error e;
	struct sl_model *m;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = sl_config_assign_dynamic_ips(o->doc, &e);
	m = rc < 0 ? NULL : sl_config_from_json(o->doc, "configuration", &e);
	if (m == NULL) {
		sl_map_error(o, o->doc, &e);
		return sl_refuse_invalid(o, rq, 400, &e);
	}
	sl_model_free(m);
	return 0;
}

int
sl_deploy_commit(struct sl_controller *c, const struct sl_deploy_request *rq,
		 struct sl_deploy_outcome *o, double request_start_us)
{
	struct sl_error e;
	char id[SL_DEPLOY_ID_MAX], msg[sizeof(e.message) + 256];
	int rc;

	memset(&e, 0, sizeof(e));
	cJSON *ids = sl_doc_ids(o->doc); /* the controller frees the document */
	rc = sl_controller_commit(c, o->doc, request_start_us, &e);
	o->doc = NULL;
	if (rc == 0) {
		cJSON_Delete(ids);
		return 0;
	}
	unsigned int status = sl_controller_error_status(&e);
	if (status == 409 || status == 503) {
		/* the fleet's store refused it, or another writer won: nothing changed here */
		cJSON_Delete(ids);
		sl_refuse(o, status, e.code, e.target, NULL, e.message);
		return rc;
	}
	if (!sl_controller_error_is_server(&e)) {
		sl_map_error(o, ids, &e);
		cJSON_Delete(ids);
		sl_refuse_invalid(o, rq, 400, &e);
		return rc;
	}
	cJSON_Delete(ids);
	sl_deploy_id(rq, id, sizeof(id));
	snprintf(msg, sizeof(msg), "The deployment '%s' failed and changed nothing: %s: %s",
		 rq->name, e.code, e.message);
	sl_refuse(o, 500, "DeploymentFailed", id, NULL, msg);
	sl_add_detail(o, sl_json_arm_error(e.code, e.message, e.target, e.json_path));
	return rc;
}

void
sl_deploy_outcome_free(struct sl_deploy_outcome *o)
{
	if (o->expanded)
		sl_arm_expansion_free(&o->x);
	cJSON_Delete(o->doc);
	cJSON_Delete(o->resources);
	cJSON_Delete(o->skipped);
	cJSON_Delete(o->deleted);
	cJSON_Delete(o->error);
	for (int t = 0; t < SL_RES_TYPE_MAX; t++)
		sl_name_index_fini(&o->named[t], NULL);
	memset(o, 0, sizeof(*o));
}
