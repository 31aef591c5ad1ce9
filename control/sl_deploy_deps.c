/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_deploy_deps.c: a deployment record's "dependencies", as ARM lists
 * them: for each expanded resource whose dependsOn names a deployed
 * resource, the resources it waits for ({"id", "resourceType",
 * "resourceName", "dependsOn": [...]}), as the expander resolved them
 * (struct sl_arm_resource's depends_on: copyIndex() evaluated per
 * instance, a copy loop's name every instance, a resource left out by its
 * condition dropped). At most SL_DEPLOY_DEPENDENCIES_MAX dependsOn entries
 * in all: past that the list stops and *truncated says so.
 */
#include "sl_deploy.h"

static cJSON *
sl_dep(const struct sl_arm_resource *r)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "id", r->id);
	cJSON_AddStringToObject(d, "resourceType", r->type);
	cJSON_AddStringToObject(d, "resourceName", r->name);
	return d;
}

cJSON *
sl_deploy_dependencies(const struct sl_deploy_outcome *o, bool *truncated)
{
	cJSON *out = cJSON_CreateArray();
	size_t left = SL_DEPLOY_DEPENDENCIES_MAX;

	*truncated = false;
	for (size_t i = 0; o->expanded && i < o->x.n_resources; i++) {
		const struct sl_arm_resource *r = &o->x.resources[i];
		cJSON *d, *list;

		if (r->n_depends_on == 0)
			continue;
		if (left == 0) {
			*truncated = true;
			break;
		}
		d = sl_dep(r);
		list = cJSON_AddArrayToObject(d, "dependsOn");
		for (size_t k = 0; k < r->n_depends_on && left > 0; k++, left--)
			cJSON_AddItemToArray(list, sl_dep(&o->x.resources[r->depends_on[k]]));
		*truncated = *truncated || cJSON_GetArraySize(list) < (int)r->n_depends_on;
		cJSON_AddItemToArray(out, d);
	}
	return out;
}
