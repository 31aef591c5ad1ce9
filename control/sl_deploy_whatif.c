/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_deploy_whatif.c: what a deployment would change (POST .../whatIf), in
 * ARM's what-if shape: one change per resource, its rendered GET before
 * and after, and for a Modify the property-level delta. Read-only members
 * (etag, provisioningState, resourceGuid) are left out of the comparison.
 * The committed and the edited document are each indexed once (struct
 * sl_doc_index) and the ids listed kept in a set, so that the answer takes
 * time linear in the resources, not a walk of the lists for each.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sl_deploy.h"
#include "sl_json.h"
#include "sl_path.h"

#define SL_DELTA_PATH_MAX 512

static const char *const sl_read_only[] = {"etag", "provisioningState", "resourceGuid"};

/* Remove the read-only members of v, at any depth. */
static void
sl_strip_read_only(cJSON *v)
{
	cJSON *it;

	if (cJSON_IsObject(v))
		for (size_t k = 0; k < sizeof(sl_read_only) / sizeof(*sl_read_only); k++)
			cJSON_DeleteItemFromObjectCaseSensitive(v, sl_read_only[k]);
	cJSON_ArrayForEach(it, v)
		if (cJSON_IsObject(it) || cJSON_IsArray(it))
			sl_strip_read_only(it);
}

/* A copy of a rendered resource without its read-only members. */
static cJSON *
sl_comparable(const cJSON *v)
{
	cJSON *c = cJSON_Duplicate(v, 1);

	sl_strip_read_only(c);
	return c;
}

static cJSON *
sl_prop_change(const char *path, const char *kind, const cJSON *before, const cJSON *after)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "path", path);
	cJSON_AddStringToObject(d, "propertyChangeType", kind);
	if (before != NULL)
		cJSON_AddItemToObject(d, "before", cJSON_Duplicate(before, 1));
	if (after != NULL)
		cJSON_AddItemToObject(d, "after", cJSON_Duplicate(after, 1));
	return d;
}

static void sl_delta(cJSON *out, const char *path, const cJSON *b, const cJSON *a);

static void
sl_join(char *buf, const char *parent, const char *key)
{
	snprintf(buf, SL_DELTA_PATH_MAX, "%s%s%s", parent, parent[0] ? "." : "", key);
}

static void
sl_delta_object(cJSON *out, const char *path, const cJSON *b, const cJSON *a)
{
	char sub[SL_DELTA_PATH_MAX];
	const cJSON *it;

	cJSON_ArrayForEach(it, b) {
		const cJSON *other = cJSON_GetObjectItem(a, it->string);
		sl_join(sub, path, it->string);
		if (other == NULL)
			cJSON_AddItemToArray(out, sl_prop_change(sub, "Delete", it, NULL));
		else
			sl_delta(out, sub, it, other);
	}
	cJSON_ArrayForEach(it, a)
		if (cJSON_GetObjectItem(b, it->string) == NULL) {
			sl_join(sub, path, it->string);
			cJSON_AddItemToArray(out, sl_prop_change(sub, "Create", NULL, it));
		}
}

/* An array that differs: "Array" with one child per element changed, by index. */
static void
sl_delta_array(cJSON *out, const char *path, const cJSON *b, const cJSON *a)
{
	cJSON *d = sl_prop_change(path, "Array", NULL, NULL);
	cJSON *children = cJSON_AddArrayToObject(d, "children");
	int nb = cJSON_GetArraySize(b), na = cJSON_GetArraySize(a);
	char idx[24];

	for (int i = 0; i < (nb > na ? nb : na); i++) {
		const cJSON *x = cJSON_GetArrayItem(b, i), *y = cJSON_GetArrayItem(a, i);
		snprintf(idx, sizeof(idx), "%d", i);
		if (y == NULL) {
			cJSON_AddItemToArray(children, sl_prop_change(idx, "Delete", x, NULL));
		} else if (x == NULL) {
			cJSON_AddItemToArray(children, sl_prop_change(idx, "Create", NULL, y));
		} else if (!cJSON_Compare(x, y, 1)) {
			cJSON *m = sl_prop_change(idx, "Modify", x, y);
			if (cJSON_IsObject(x) && cJSON_IsObject(y)) {
				cJSON *nested = cJSON_AddArrayToObject(m, "children");
				sl_delta_object(nested, "", x, y);
			}
			cJSON_AddItemToArray(children, m);
		}
	}
	cJSON_AddItemToArray(out, d);
}

static void
sl_delta(cJSON *out, const char *path, const cJSON *b, const cJSON *a)
{
	if (cJSON_Compare(b, a, 1))
		return;
	if (cJSON_IsObject(b) && cJSON_IsObject(a))
		sl_delta_object(out, path, b, a);
	else if (cJSON_IsArray(b) && cJSON_IsArray(a))
		sl_delta_array(out, path, b, a);
	else
		cJSON_AddItemToArray(out, sl_prop_change(path, "Modify", b, a));
}

static cJSON *
sl_change(const char *id, const char *type, cJSON *before, cJSON *after)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "resourceId", id);
	cJSON_AddStringToObject(c, "changeType", type);
	cJSON_AddItemToObject(c, "before", before != NULL ? before : cJSON_CreateNull());
	cJSON_AddItemToObject(c, "after", after != NULL ? after : cJSON_CreateNull());
	cJSON_AddArrayToObject(c, "delta");
	return c;
}

/* What the answer is built from: both documents' indexes, the changes and their ids. */
struct sl_whatif {
	struct sl_doc_index *before, *after; /* of the committed document, of the edited one */
	cJSON *changes;
	struct sl_name_index listed; /* the resourceIds of changes */
	bool nomem;
};

/* Append change c to the answer. */
static void
sl_add_change(struct sl_whatif *w, cJSON *c)
{
	const char *rid = sl_json_member_string(c, "resourceId");

	if (rid != NULL && sl_name_index_add_once(&w->listed, rid) < 0)
		w->nomem = true;
	cJSON_AddItemToArray(w->changes, c);
}

/* Has the answer an entry of this id already (a resource named twice)? */
static bool
sl_listed(const struct sl_whatif *w, const char *id)
{
	return sl_name_index_has(&w->listed, id);
}

static cJSON *
sl_render_id(struct sl_doc_index *ix, const char *id)
{
	struct sl_res_path p;
	struct sl_error e;

	if (sl_res_path_parse(id, &p, &e) != 0)
		return NULL;
	return sl_doc_index_render(ix, &p, &e);
}

/* A resource the template names: Create, Modify (with its delta) or NoChange. */
static cJSON *
sl_named_change(const struct sl_whatif *w, const char *id)
{
	cJSON *before = sl_render_id(w->before, id);
	cJSON *after = sl_render_id(w->after, id);

	if (before == NULL)
		return sl_change(id, "Create", NULL, after);
	cJSON *b = sl_comparable(before), *a = sl_comparable(after);
	cJSON *delta = cJSON_CreateArray();
	/* the top level's id, name and type are the resource's, not a change */
	static const char *const same[] = {"id", "name", "type"};
	for (size_t k = 0; k < sizeof(same) / sizeof(*same); k++) {
		cJSON_DeleteItemFromObjectCaseSensitive(b, same[k]);
		cJSON_DeleteItemFromObjectCaseSensitive(a, same[k]);
	}
	sl_delta(delta, "", b, a);
	cJSON_Delete(b);
	cJSON_Delete(a);
	cJSON *c = sl_change(id, cJSON_GetArraySize(delta) > 0 ? "Modify" : "NoChange", before, after);
	cJSON_ReplaceItemInObjectCaseSensitive(c, "delta", delta);
	return c;
}

/* The resource group's top-level resources the deployment leaves alone: Ignore. */
static void
sl_ignored(struct sl_whatif *w, const cJSON *committed, const struct sl_deploy_request *rq,
	   const struct sl_deploy_outcome *o)
{
	for (int t = 0; t < SL_RES_TYPE_MAX; t++) {
		const cJSON *res;
		cJSON_ArrayForEach(res, cJSON_GetObjectItemCaseSensitive(committed,
									 sl_res_collection(t))) {
			const char *id = sl_json_member_string(res, "id");
			struct sl_res_path p;
			struct sl_error e;
			if (id == NULL || sl_res_path_parse(id, &p, &e) != 0 ||
			    strcasecmp(p.sub, rq->sub) != 0 || strcasecmp(p.rg, rq->rg) != 0 ||
			    sl_deploy_names(o, p.type, p.name) || sl_listed(w, id))
				continue;
			cJSON *now = sl_doc_index_render(w->before, &p, &e);
			sl_add_change(w, sl_change(id, "Ignore", now, cJSON_Duplicate(now, 1)));
		}
	}
}

static void
sl_whatif_changes(struct sl_whatif *w, const cJSON *committed, const struct sl_deploy_request *rq,
		  const struct sl_deploy_outcome *o)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, o->deleted) {
		const char *id = sl_json_member_string(it, "id");
		sl_add_change(w, sl_change(id, "Delete", sl_render_id(w->before, id), NULL));
	}
	cJSON_ArrayForEach(it, o->resources) {
		const char *id = sl_json_member_string(it, "id");
		if (!sl_listed(w, id))
			sl_add_change(w, sl_named_change(w, id));
	}
	cJSON_ArrayForEach(it, o->skipped) {
		cJSON *c = sl_change(sl_json_member_string(it, "id"), "Unsupported", NULL, NULL);
		char why[SL_ARM_TYPE_MAX + 64];
		snprintf(why, sizeof(why), "sluice does not model resources of type '%s'.",
			 sl_json_member_string(it, "resourceType"));
		cJSON_AddStringToObject(c, "unsupportedReason", why);
		sl_add_change(w, c);
	}
	/* (in Complete mode every such resource is a Delete above: none is left) */
	sl_ignored(w, committed, rq, o);
}

cJSON *
sl_deploy_whatif(const cJSON *committed, const struct sl_deploy_request *rq,
		 const struct sl_deploy_outcome *o)
{
	struct sl_whatif w = {sl_doc_index_new(committed), sl_doc_index_new(o->doc),
			      cJSON_CreateArray(), {0}, false};

	if (w.before != NULL && w.after != NULL && w.changes != NULL)
		sl_whatif_changes(&w, committed, rq, o);
	if (w.before == NULL || w.after == NULL || w.nomem) {
		cJSON_Delete(w.changes);
		w.changes = NULL;
	}
	sl_doc_index_free(w.before);
	sl_doc_index_free(w.after);
	sl_name_index_fini(&w.listed, NULL);
	return w.changes;
}
