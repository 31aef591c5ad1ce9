/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_deploy_deps.c: a deployment record's "dependencies", as ARM lists
 * them: for each expanded resource with a dependsOn, the resources it
 * waits for ({"id", "resourceType", "resourceName", "dependsOn": [...]}).
 * Each dependsOn entry of the resource's declaration is evaluated
 * (sl_arm_eval, with the effective parameter values and the template's
 * variables) and matched against the expanded resources by full id,
 * "type/name" or name; an entry naming nothing deployed is left out.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sl_deploy.h"
#include "sl_json.h"

/* The declaration at path "$.resources[i].resources[j]..." of tmpl, or NULL. */
static const cJSON *
sl_declaration(const cJSON *tmpl, const char *path)
{
	const cJSON *node = tmpl;
	const char *s = path;
	unsigned int i;
	int n;

	if (strncmp(s, "$", 1) != 0)
		return NULL;
	s++;
	while (*s != '\0') {
		if (sscanf(s, ".resources[%u]%n", &i, &n) != 1)
			return NULL;
		node = cJSON_GetArrayItem(sl_json_member(node, "resources"), (int)i);
		if (node == NULL)
			return NULL;
		s += n;
	}
	return node;
}

/* {"p": value}: the expansion's effective values, a secure one's from the request. */
static cJSON *
sl_param_values(const struct sl_deploy_request *rq, const struct sl_deploy_outcome *o)
{
	cJSON *vals = cJSON_CreateObject();
	const cJSON *it;

	cJSON_ArrayForEach(it, o->x.parameters) {
		const cJSON *v = sl_json_member(it, "value");
		if (v == NULL)
			v = sl_json_member(sl_json_member(rq->parameters, it->string), "value");
		if (v != NULL)
			cJSON_AddItemToObject(vals, it->string, cJSON_Duplicate(v, 1));
	}
	return vals;
}

/* {"v": value}: the template's variables evaluated in order (those that fail are left out). */
static cJSON *
sl_variable_values(const struct sl_deploy_request *rq, const cJSON *params,
		   const struct sl_arm_scope *scope)
{
	cJSON *vals = cJSON_CreateObject();
	const cJSON *it;

	cJSON_ArrayForEach(it, sl_json_member(rq->tmpl, "variables")) {
		struct sl_error e;
		cJSON *v = cJSON_IsString(it)
				   ? sl_arm_eval(it->valuestring, params, vals, scope, &e)
				   : cJSON_Duplicate(it, 1);
		if (v != NULL)
			cJSON_AddItemToObject(vals, it->string, v);
	}
	return vals;
}

/* The expanded resource a dependsOn value names: a full id, "Namespace/type/name", or a name. */
static const struct sl_arm_resource *
sl_resolve(const struct sl_deploy_outcome *o, const char *ref)
{
	char both[SL_ARM_TYPE_MAX + SL_ARM_NAME_MAX + 2];

	for (size_t i = 0; i < o->x.n_resources; i++) {
		const struct sl_arm_resource *r = &o->x.resources[i];
		snprintf(both, sizeof(both), "%s/%s", r->type, r->name);
		if (strcasecmp(r->id, ref) == 0 || strcasecmp(both, ref) == 0 ||
		    strcasecmp(r->name, ref) == 0)
			return r;
	}
	return NULL;
}

static cJSON *
sl_dep(const struct sl_arm_resource *r)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "id", r->id);
	cJSON_AddStringToObject(d, "resourceType", r->type);
	cJSON_AddStringToObject(d, "resourceName", r->name);
	return d;
}

/* The dependsOn list of r (entries resolved), NULL when it names none. */
static cJSON *
sl_depends_on(const struct sl_deploy_outcome *o, const struct sl_arm_resource *r,
	      const cJSON *decl, const cJSON *params, const cJSON *vars,
	      const struct sl_arm_scope *scope)
{
	cJSON *list = NULL;
	const cJSON *it;

	cJSON_ArrayForEach(it, sl_json_member_array(decl, "dependsOn")) {
		struct sl_error e;
		cJSON *v = cJSON_IsString(it) ? sl_arm_eval(it->valuestring, params, vars, scope, &e)
					      : NULL;
		const struct sl_arm_resource *dep =
			cJSON_IsString(v) ? sl_resolve(o, v->valuestring) : NULL;
		cJSON_Delete(v);
		if (dep == NULL || dep == r)
			continue;
		if (list == NULL)
			list = cJSON_CreateArray();
		cJSON_AddItemToArray(list, sl_dep(dep));
	}
	return list;
}

cJSON *
sl_deploy_dependencies(const struct sl_deploy_request *rq, const struct sl_deploy_outcome *o)
{
	const struct sl_arm_scope scope = {rq->sub, rq->rg, rq->name, NULL};
	cJSON *out = cJSON_CreateArray();
	cJSON *params, *vars;

	if (!o->expanded)
		return out;
	params = sl_param_values(rq, o);
	vars = sl_variable_values(rq, params, &scope);
	for (size_t i = 0; i < o->x.n_resources; i++) {
		const struct sl_arm_resource *r = &o->x.resources[i];
		const cJSON *decl = sl_declaration(rq->tmpl, r->path);
		cJSON *deps = sl_depends_on(o, r, decl, params, vars, &scope);
		if (deps == NULL)
			continue;
		cJSON *d = sl_dep(r);
		cJSON_AddItemToObject(d, "dependsOn", deps);
		cJSON_AddItemToArray(out, d);
	}
	cJSON_Delete(params);
	cJSON_Delete(vars);
	return out;
}
