/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_deploy.h: ARM template deployments onto the desired-state document.
 *
 * A deployment request (a resource group, a name, a mode, a template and
 * its parameter values) is expanded (sl_arm_template.h), each expanded
 * resource of a type sluice models is put into a copy of the committed
 * document with sl_doc_put() in the expansion's order, Complete mode then
 * deletes the resource group's top-level resources the template does not
 * name (nor name a child of), and the result is validated whole and
 * committed as ONE sl_controller_commit(): one publication. A refusal
 * anywhere leaves the committed document as it was.
 *
 * Errors (struct sl_deploy_error, rendered as ARM's error body):
 *   InvalidTemplate            the expander's error (its position text kept), 400
 *   InvalidTemplateDeployment  a resource of a type sluice does not model
 *                              (details: every such resource), a resource the
 *                              document refuses, or a validation failure of
 *                              the resulting document (details: the error,
 *                              its target the template resource's id and its
 *                              jsonPath in the template when the faulty
 *                              resource is that one, same resource group;
 *                              else the faulty resource's own id and no
 *                              jsonPath), 400 (409 where
 *                              sl_doc_put() answers 409)
 *   DeploymentFailed           the commit itself failed (StateWriteFailed...),
 *                              the cause in details, 500
 * Control thread only.
 */
#ifndef SL_DEPLOY_H
#define SL_DEPLOY_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "sl_arm_template.h"
#include "sl_controller.h"
#include "sl_error.h"
#include "sl_name_index.h"
#include "sl_resource.h"

#define SL_DEPLOY_NAME_MAX 65 /* ARM: 1 to 64 characters of letters, digits, -_.() */
#define SL_DEPLOY_DEPENDENCIES_MAX 4096 /* dependsOn entries a record lists, in all */

enum sl_deploy_mode {
	SL_DEPLOY_INCREMENTAL = 0,
	SL_DEPLOY_COMPLETE,
};

struct sl_deploy_request {
	const char *sub;
	const char *rg;
	const char *name;
	enum sl_deploy_mode mode;
	const cJSON *tmpl;       /* properties.template */
	const cJSON *parameters; /* properties.parameters ({"p": {"value": ...}}), NULL for none */
	bool skip_unsupported;   /* properties.skipUnsupportedResources */
};

/* What a deployment did or would do. */
struct sl_deploy_outcome {
	struct sl_arm_expansion x; /* the expansion (empty when it failed) */
	bool expanded;
	cJSON *doc;        /* the edited copy (after sl_deploy_prepare), NULL once committed */
	cJSON *resources;  /* [{"id", "type", "path"}] of the resources put, in order */
	cJSON *skipped;    /* [{"id", "resourceType"}] of unsupported types skipped */
	cJSON *deleted;    /* [{"id", "resourceType"}] of what Complete mode deletes */
	/* of each type, the top-level names o->resources puts, themselves or by a child */
	struct sl_name_index named[SL_RES_TYPE_MAX];
	/* A refusal: status (400, 409, 500) and ARM's {"code", "message", "target", "details"}. */
	unsigned int status;
	cJSON *error;
};

/* Parse "Incremental" / "Complete" (case-insensitively). -EINVAL when neither. */
int sl_deploy_mode_parse(const char *s, enum sl_deploy_mode *mode);
const char *sl_deploy_mode_name(enum sl_deploy_mode mode);

/* A deployment name ARM accepts: 1 to 64 of letters, digits, '-', '_', '.', '(', ')'. */
bool sl_deploy_name_valid(const char *name);

/*
 * Expand rq and map it onto a copy of committed: o->doc, o->resources,
 * o->skipped, o->deleted. Returns 0, or -EINVAL with o->status and o->error
 * (InvalidTemplate, InvalidTemplateDeployment). o is cleared first.
 */
int sl_deploy_prepare(const cJSON *committed, const struct sl_deploy_request *rq,
		      struct sl_deploy_outcome *o);

/*
 * Validate o->doc whole as a commit would (dynamic addresses assigned, then
 * sl_config_from_json), without committing. Returns 0 or -EINVAL with
 * o->status and o->error (InvalidTemplateDeployment).
 */
int sl_deploy_validate(const struct sl_deploy_request *rq, struct sl_deploy_outcome *o);

/*
 * Commit o->doc (the controller takes it) as one sl_controller_commit().
 * Returns 0, or a negative errno with o->status and o->error
 * (InvalidTemplateDeployment for a validation failure, DeploymentFailed
 * when the commit itself failed).
 */
int sl_deploy_commit(struct sl_controller *c, const struct sl_deploy_request *rq,
		     struct sl_deploy_outcome *o, double request_start_us);

/*
 * Does a prepared outcome put top-level resource (t, name) of the request's
 * resource group, or one of its children? (What Complete mode keeps and
 * what-if does not call Ignore.) Constant time: o->named.
 */
bool sl_deploy_names(const struct sl_deploy_outcome *o, enum sl_res_type t, const char *name);

/*
 * The what-if answer's "changes" of a prepared, validated outcome (a new
 * array; NULL when out of memory). Each of committed and o->doc is indexed
 * once (struct sl_doc_index), so the time is linear in the resources.
 */
cJSON *sl_deploy_whatif(const cJSON *committed, const struct sl_deploy_request *rq,
			const struct sl_deploy_outcome *o);

/*
 * The record's "dependencies": [{"id", "resourceType", "resourceName",
 * "dependsOn": [{"id", "resourceType", "resourceName"}]}] of the expanded
 * resources whose dependsOn names a deployed resource (a new array; empty
 * when the template did not expand), at most SL_DEPLOY_DEPENDENCIES_MAX
 * dependsOn entries in all: *truncated is true when some were left out.
 * sl_deploy_deps.c.
 */
cJSON *sl_deploy_dependencies(const struct sl_deploy_outcome *o, bool *truncated);

/* ARM's error body {"error": {...}} of a refusal (a new tree). */
cJSON *sl_deploy_error_body(const struct sl_deploy_outcome *o);

void sl_deploy_outcome_free(struct sl_deploy_outcome *o);

/* The id of a deployment: /subscriptions/S/resourceGroups/RG/providers/Microsoft.Resources/deployments/N. */
void sl_deploy_id(const struct sl_deploy_request *rq, char *buf, size_t len);

#endif /* SL_DEPLOY_H */
