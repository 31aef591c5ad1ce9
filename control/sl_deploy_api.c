/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_deploy_api.c: the deployments REST API (see sl_deploy_api.h): paths,
 * request bodies, the answers of PUT, GET, DELETE, validate and whatIf,
 * and the records a deployment leaves. Every answer, record and audit text
 * of a deployment has its secure values' text redacted ("[secure]") before
 * it leaves here: the expansion's secure_values (sl_arm_template.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sl_audit.h"
#include "sl_deploy_api.h"
#include "sl_json.h"
#include "sl_log.h"
#include "sl_path.h"

/* A parsed deployments path. */
struct sl_deploy_path {
	char sub[SL_RES_SCOPE_MAX];
	char rg[SL_RES_SCOPE_MAX];
	char name[SL_DEPLOY_NAME_MAX + 16]; /* "" for the collection */
	char action[16];                    /* "", "validate", "whatIf" */
};

static bool
sl_split(const char *url, struct sl_segs *g)
{
	return sl_path_split(url, g, 10) == 0 && g->n >= 7 && g->n <= 9 &&
	       sl_path_seg_is(g, 0, "subscriptions") && sl_path_seg_is(g, 2, "resourceGroups") &&
	       sl_path_seg_is(g, 4, "providers") && sl_path_seg_is(g, 5, "Microsoft.Resources") &&
	       sl_path_seg_is(g, 6, "deployments");
}

bool
sl_deploy_api_path(const char *url)
{
	struct sl_segs g;

	return sl_split(url, &g);
}

/* ------------------------------------------------------------------------ */
/* Answers */

static void
sl_answer_json(struct sl_deploy_answer *a, unsigned int status, cJSON *body)
{
	a->status = status;
	a->body = body;
}

static void
sl_answer_error(struct sl_deploy_answer *a, unsigned int status, const char *code,
		const char *target, const char *json_path, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void
sl_answer_error(struct sl_deploy_answer *a, unsigned int status, const char *code,
		const char *target, const char *json_path, const char *fmt, ...)
{
	cJSON *root = cJSON_CreateObject();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->message, sizeof(a->message), fmt, ap);
	va_end(ap);
	snprintf(a->code, sizeof(a->code), "%s", code);
	cJSON_AddItemToObject(root, "error", sl_json_arm_error(code, a->message, target, json_path));
	sl_answer_json(a, status, root);
}

/* A deployment's refusal: the outcome's error as the answer. */
static void
sl_answer_refusal(struct sl_deploy_answer *a, const struct sl_deploy_outcome *o)
{
	snprintf(a->code, sizeof(a->code), "%s", sl_json_member_string(o->error, "code"));
	snprintf(a->message, sizeof(a->message), "%s", sl_json_member_string(o->error, "message"));
	sl_answer_json(a, o->status, sl_deploy_error_body(o));
}

static int
sl_parse_path(const char *url, struct sl_deploy_path *p, struct sl_deploy_answer *a)
{
	struct sl_segs g;

	memset(p, 0, sizeof(*p));
	sl_split(url, &g);
	if (sl_path_seg_copy(&g, 1, p->sub, sizeof(p->sub)) != 0 ||
	    sl_path_seg_copy(&g, 3, p->rg, sizeof(p->rg)) != 0) {
		sl_answer_error(a, 400, "InvalidRequestUri", url, NULL,
				"The subscription or resource group in the path is too long.");
		return -EINVAL;
	}
	if (g.n >= 8 && (sl_path_seg_copy(&g, 7, p->name, sizeof(p->name)) != 0 ||
			 !sl_deploy_name_valid(p->name))) {
		sl_answer_error(a, 400, "InvalidDeploymentName", url, NULL,
				"The deployment name '%.*s' is invalid: 1 to %d letters, digits, "
				"'-', '_', '.', '(' or ')'.", (int)(g.len[7] > 80 ? 80 : g.len[7]),
				g.s[7], SL_DEPLOY_NAME_MAX - 1);
		return -EINVAL;
	}
	if (g.n == 9) {
		if (sl_path_seg_is(&g, 8, "validate"))
			snprintf(p->action, sizeof(p->action), "validate");
		else if (sl_path_seg_is(&g, 8, "whatIf"))
			snprintf(p->action, sizeof(p->action), "whatIf");
		else {
			sl_answer_error(a, 404, "InvalidRequestUri", url, NULL,
					"Unknown deployment action '%.*s': validate and whatIf "
					"are served.", (int)(g.len[8] > 64 ? 64 : g.len[8]), g.s[8]);
			return -ENOENT;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The request body */

/*
 * {"properties": {"mode", "template", "parameters", "skipUnsupportedResources"}}
 * into rq (pointing into root). Returns 0, or -EINVAL with the answer filled.
 */
static int
sl_parse_body(const cJSON *root, const struct sl_deploy_path *p, struct sl_deploy_request *rq,
	      struct sl_deploy_answer *a)
{
	const char *target = p->name;
	const cJSON *props = sl_json_member(root, "properties"), *v;

	memset(rq, 0, sizeof(*rq));
	rq->sub = p->sub;
	rq->rg = p->rg;
	rq->name = p->name;
	if (!cJSON_IsObject(root) || !cJSON_IsObject(props)) {
		sl_answer_error(a, 400, "InvalidRequestContent", target, "$.properties",
				"The request body must be {\"properties\": {\"mode\", "
				"\"template\", \"parameters\"}}.");
		return -EINVAL;
	}
	if (sl_json_member(props, "templateLink") != NULL) {
		sl_answer_error(a, 400, "TemplateLinkNotSupported", target,
				"$.properties.templateLink",
				"sluiced fetches nothing: send the template itself in "
				"properties.template, not a templateLink.");
		return -EINVAL;
	}
	if (sl_json_member(props, "parametersLink") != NULL) {
		sl_answer_error(a, 400, "ParametersLinkNotSupported", target,
				"$.properties.parametersLink",
				"sluiced fetches nothing: send the parameter values themselves in "
				"properties.parameters, not a parametersLink.");
		return -EINVAL;
	}
	rq->tmpl = sl_json_member(props, "template");
	if (!cJSON_IsObject(rq->tmpl)) {
		sl_answer_error(a, 400, "InvalidRequestContent", target, "$.properties.template",
				"properties.template is required and must be a template object.");
		return -EINVAL;
	}
	v = sl_json_member(props, "mode");
	if (!cJSON_IsString(v) || sl_deploy_mode_parse(v->valuestring, &rq->mode) != 0) {
		sl_answer_error(a, 400, "InvalidDeploymentMode", target, "$.properties.mode",
				"properties.mode is required: \"Incremental\" or \"Complete\".");
		return -EINVAL;
	}
	rq->parameters = sl_json_member(props, "parameters");
	if (rq->parameters != NULL && !cJSON_IsObject(rq->parameters)) {
		sl_answer_error(a, 400, "InvalidRequestContent", target,
				"$.properties.parameters",
				"properties.parameters must be an object of {\"name\": {\"value\": "
				"...}}.");
		return -EINVAL;
	}
	cJSON_ArrayForEach(v, rq->parameters)
		if (!cJSON_IsObject(v) || sl_json_member(v, "reference") != NULL) {
			sl_answer_error(a, 400, "InvalidRequestContent", target,
					"$.properties.parameters",
					"Parameter '%s' must be {\"value\": ...} (sluiced resolves "
					"no Key Vault references).", v->string);
			return -EINVAL;
		}
	v = sl_json_member(props, "skipUnsupportedResources");
	if (v != NULL && !cJSON_IsBool(v)) {
		sl_answer_error(a, 400, "InvalidRequestContent", target,
				"$.properties.skipUnsupportedResources",
				"properties.skipUnsupportedResources must be true or false.");
		return -EINVAL;
	}
	rq->skip_unsupported = cJSON_IsTrue(v);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Handlers */

static double
sl_realtime_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What a deployment's commit changed in the pools, for the audit line. */
static void
sl_addresses_changed(void *ctx, const cJSON *before, const cJSON *after)
{
	struct sl_deploy_answer *a = ctx;

	sl_audit_addresses(cJSON_GetObjectItemCaseSensitive(before, "loadBalancers"),
			   cJSON_GetObjectItemCaseSensitive(after, "loadBalancers"), a->result,
			   sizeof(a->result));
}

static void
sl_summary(struct sl_deploy_answer *a, const struct sl_deploy_request *rq,
	   const struct sl_deploy_outcome *o)
{
	char addresses[sizeof(a->result)];

	snprintf(addresses, sizeof(addresses), "%s", a->result);
	snprintf(a->result, sizeof(a->result), "deployment %s (%s): %d resources, %d deleted, "
		 "%d skipped%s%.700s", rq->name, sl_deploy_mode_name(rq->mode),
		 cJSON_GetArraySize(o->resources), cJSON_GetArraySize(o->deleted),
		 cJSON_GetArraySize(o->skipped), addresses[0] ? "; " : "", addresses);
}

/* The text of the deployment's secure parameter values (NULL when it did not expand). */
static const cJSON *
sl_secure(const struct sl_deploy_outcome *o)
{
	return o->expanded ? o->x.secure_values : NULL;
}

/* rq's record, its secure values redacted (a new tree). */
static cJSON *
sl_record_redacted(const struct sl_deploy_request *rq, const struct sl_deploy_outcome *o,
		   const struct sl_deploy_clock *clk)
{
	cJSON *rec = sl_deploy_record(rq, o, clk);

	sl_arm_redact_json(rec, sl_secure(o));
	return rec;
}

/* Keep rq's record, Succeeded or Failed; *created: it is the first of that name. */
static void
sl_keep_record(struct sl_deploy_records *records, const struct sl_deploy_request *rq,
	       const struct sl_deploy_outcome *o, struct sl_deploy_clock *clk, bool *created)
{
	struct sl_error e;

	clk->end_us = sl_controller_now_us();
	if (sl_deploy_records_put(records, rq->sub, rq->rg, sl_record_redacted(rq, o, clk), created,
				  &e) != 0)
		sl_log(SL_LOG_WARNING, "api", "deployment %s: %s", rq->name, e.message);
}

/* Lost races to the fleet's store before a deployment is refused with 409 (as a REST change). */
#define SL_DEPLOY_FLEET_TRIES 8

static void
sl_deploy_put(struct sl_deploy_records *records, struct sl_controller *ctl,
	      const struct sl_deploy_request *rq, double start_us, struct sl_deploy_answer *a)
{
	struct sl_deploy_clock clk = {sl_realtime_s(), start_us, 0};
	struct sl_deploy_outcome o;
	bool created;
	int rc;

	/*
	 * In a fleet another host's change may win the race to etcd: the
	 * deployment is then expanded again on the newest document (what an
	 * incremental or complete deployment does depends on it) and tried
	 * again, as a REST change is (SL_DEPLOY_FLEET_TRIES in all).
	 */
	for (int i = 0;; i++) {
		rc = sl_deploy_prepare(ctl->doc, rq, &o);
		if (rc == 0) {
			a->result[0] = '\0';
			ctl->on_commit = sl_addresses_changed;
			ctl->on_commit_ctx = a;
			rc = sl_deploy_commit(ctl, rq, &o, start_us);
			ctl->on_commit = NULL;
			ctl->on_commit_ctx = NULL;
		}
		if (rc != -EAGAIN || ctl->fleet == NULL || i + 1 == SL_DEPLOY_FLEET_TRIES)
			break;
		struct sl_error e;
		memset(&e, 0, sizeof(e));
		if (ctl->fleet->catch_up(ctl->fleet->ctx, &e) < 0)
			break; /* o holds the lost race's refusal */
		sl_deploy_outcome_free(&o);
	}
	sl_arm_redact_json(o.error, sl_secure(&o));
	sl_keep_record(records, rq, &o, &clk, &created);
	if (rc != 0) {
		a->result[0] = '\0';
		sl_answer_refusal(a, &o);
	} else {
		a->committed = true;
		sl_summary(a, rq, &o);
		sl_arm_redact(a->result, sizeof(a->result), sl_secure(&o));
		sl_answer_json(a, created ? 201 : 200,
			       cJSON_Duplicate(sl_deploy_records_get(records, rq->sub, rq->rg,
								     rq->name), 1));
	}
	sl_deploy_outcome_free(&o);
}

/* What-if's properties.whatIfSettings.resultFormat "ResourceIdOnly": changes without payloads. */
static void
sl_ids_only(cJSON *changes)
{
	static const char *const payload[] = {"before", "after", "delta"};
	cJSON *c;

	cJSON_ArrayForEach(c, changes)
		for (size_t k = 0; k < sizeof(payload) / sizeof(*payload); k++)
			cJSON_DeleteItemFromObjectCaseSensitive(c, payload[k]);
}

/* POST validate and whatIf: everything short of the commit; nothing is kept. */
static void
sl_deploy_dry_run(struct sl_controller *ctl, const struct sl_deploy_request *rq, bool what_if,
		  bool ids_only, struct sl_deploy_answer *a)
{
	struct sl_deploy_clock clk = {sl_realtime_s(), sl_controller_now_us(), 0};
	struct sl_deploy_outcome o;
	char id[SL_ARM_ID_MAX + 128];

	if (sl_deploy_prepare(ctl->doc, rq, &o) != 0 || sl_deploy_validate(rq, &o) != 0) {
		sl_arm_redact_json(o.error, sl_secure(&o));
		sl_answer_refusal(a, &o);
		sl_deploy_outcome_free(&o);
		return;
	}
	snprintf(a->result, sizeof(a->result), "deployment %s (%s): %s, nothing changed",
		 rq->name, sl_deploy_mode_name(rq->mode), what_if ? "what-if" : "valid");
	if (what_if) {
		cJSON *root = cJSON_CreateObject();
		sl_deploy_id(rq, id, sizeof(id));
		cJSON_AddStringToObject(root, "status", "Succeeded");
		cJSON *props = cJSON_AddObjectToObject(root, "properties");
		cJSON *changes = sl_deploy_whatif(ctl->doc, rq, &o);
		if (ids_only)
			sl_ids_only(changes);
		cJSON_AddItemToObject(props, "changes", changes);
		sl_arm_redact_json(root, sl_secure(&o));
		sl_answer_json(a, 200, root);
	} else {
		clk.end_us = sl_controller_now_us();
		cJSON *rec = sl_record_redacted(rq, &o, &clk);
		cJSON *props = cJSON_GetObjectItemCaseSensitive(rec, "properties");
		/* a validation's answer: validatedResources, not outputs of a deployment */
		cJSON *res = cJSON_DetachItemFromObjectCaseSensitive(props, "outputResources");
		cJSON_AddItemToObject(props, "validatedResources", res);
		static const char *const not_run[] = {"outputs", "duration"};
		for (size_t k = 0; k < sizeof(not_run) / sizeof(*not_run); k++)
			cJSON_DeleteItemFromObjectCaseSensitive(props, not_run[k]);
		sl_answer_json(a, 200, rec);
	}
	sl_deploy_outcome_free(&o);
}

static void
sl_deploy_get(struct sl_deploy_records *records, const struct sl_deploy_path *p, const char *url,
	      struct sl_deploy_answer *a)
{
	const cJSON *rec;

	if (p->name[0] == '\0') {
		sl_answer_json(a, 200, sl_deploy_records_list(records, p->sub, p->rg));
		return;
	}
	rec = sl_deploy_records_get(records, p->sub, p->rg, p->name);
	if (rec == NULL) {
		sl_answer_error(a, 404, "DeploymentNotFound", url, NULL,
				"Deployment '%s' could not be found.", p->name);
		return;
	}
	sl_answer_json(a, 200, cJSON_Duplicate(rec, 1));
}

static void
sl_deploy_delete(struct sl_deploy_records *records, const struct sl_deploy_path *p,
		 struct sl_deploy_answer *a)
{
	struct sl_error e;
	int rc = sl_deploy_records_delete(records, p->sub, p->rg, p->name, &e);

	if (rc < 0)
		sl_log(SL_LOG_WARNING, "api", "deployment %s: %s", p->name, e.message);
	snprintf(a->result, sizeof(a->result), rc == 0 ? "no deployment record %s"
		 : "deployment record %s deleted (its resources stay)", p->name);
	sl_answer_json(a, rc == 0 ? 204 : 200, NULL);
}

static bool
sl_ids_only_asked(const cJSON *root)
{
	const char *f = sl_json_member_string(
		sl_json_member(sl_json_member(root, "properties"), "whatIfSettings"), "resultFormat");

	return f != NULL && strcasecmp(f, "ResourceIdOnly") == 0;
}

/* PUT, validate and whatIf: parse the body, then deploy or try. */
static void
sl_deploy_change(struct sl_deploy_records *records, struct sl_controller *ctl,
		 const struct sl_deploy_path *p, const char *body, size_t len, double start_us,
		 struct sl_deploy_answer *a)
{
	struct sl_deploy_request rq;
	struct sl_error e;
	cJSON *root;

	if (len == 0) {
		sl_answer_error(a, 400, "InvalidRequestContent", p->name, NULL,
				"The request body is empty: a deployment is {\"properties\": "
				"{\"mode\", \"template\", \"parameters\"}}.");
		return;
	}
	root = sl_json_parse(body, len, "body", &e);
	if (root == NULL) {
		sl_answer_error(a, 400, "InvalidRequestContent", p->name, NULL, "%s", e.message);
		return;
	}
	if (sl_parse_body(root, p, &rq, a) == 0) {
		if (p->action[0] == '\0')
			sl_deploy_put(records, ctl, &rq, start_us, a);
		else
			sl_deploy_dry_run(ctl, &rq, strcmp(p->action, "whatIf") == 0,
					  sl_ids_only_asked(root), a);
	}
	cJSON_Delete(root);
}

void
sl_deploy_api_handle(struct sl_deploy_records *records, struct sl_controller *ctl,
		     const char *url, const char *method, const char *body, size_t len,
		     double start_us, struct sl_deploy_answer *a)
{
	struct sl_deploy_path p;

	memset(a, 0, sizeof(*a));
	if (sl_parse_path(url, &p, a) != 0)
		return;
	if (p.action[0] != '\0') {
		if (strcmp(method, "POST") != 0)
			sl_answer_error(a, 405, "MethodNotAllowed", url, NULL,
					"%s takes POST.", p.action);
		else
			sl_deploy_change(records, ctl, &p, body, len, start_us, a);
	} else if (strcmp(method, "GET") == 0) {
		sl_deploy_get(records, &p, url, a);
	} else if (p.name[0] == '\0') {
		sl_answer_error(a, 405, "MethodNotAllowed", url, NULL,
				"The deployments collection takes GET.");
	} else if (strcmp(method, "PUT") == 0) {
		sl_deploy_change(records, ctl, &p, body, len, start_us, a);
	} else if (strcmp(method, "DELETE") == 0) {
		sl_deploy_delete(records, &p, a);
	} else {
		sl_answer_error(a, 405, "MethodNotAllowed", url, NULL,
				"A deployment takes GET, PUT and DELETE (POST on /validate and "
				"/whatIf).");
	}
}
