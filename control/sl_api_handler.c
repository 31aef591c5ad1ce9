/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_api_handler.c: the REST API's request handler without a transport (see
 * sl_api_handler.h): a plain request in, a plain answer out. It checks the
 * request limits (per-uid request rate, header and body size), decodes the
 * path and the query, serves the endpoints and writes the audit line of
 * every request other than GET and HEAD (sl_audit.h): its peer, method and
 * path, and what came of it.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sl_api_handler.h"
#include "sl_audit.h"
#include "sl_deploy_api.h"
#include "sl_json.h"
#include "sl_log.h"
#include "sl_resource.h"

/* Peers whose request rate is kept (by uid); past that, the one idle longest is forgotten. */
#define SL_API_RATE_SLOTS 64

struct sl_api_bucket {
	long uid;
	double tokens;
	double last_us; /* 0: unused */
};

struct sl_api_handler {
	struct sl_controller *ctl;
	struct sl_api_hooks hooks;
	struct sl_api_limits limits;
	struct sl_api_counters counters;
	struct sl_deploy_records *deploys; /* made on first use, or by ..._restore_deployments() */
	struct sl_api_bucket buckets[SL_API_RATE_SLOTS];
};

/* One request as the endpoints see it, and its outcome. */
struct sl_request {
	double start_us; /* when the whole request (headers and body) was in */
	const char *body;
	size_t len;
	const char *if_match;      /* the If-Match header, or NULL */
	const char *if_none_match; /* the If-None-Match header, or NULL */
	char *api_version; /* the query's api-version, decoded (NULL: absent) */
	/* for the audit line of a change (any method but GET and HEAD) */
	const char *who;     /* the peer: "uid U pid P (COMM)" */
	unsigned int status; /* of a refusal (0: not refused) */
	char code[96];       /* the refusal's error code */
	char message[512];   /* and its message */
	char result[1536];   /* what an accepted change did: "generation 7 published; ..." */
};

static int
sl_send_type(struct sl_api_resp *rsp, unsigned int status, char *text, const char *type)
{
	rsp->status = status;
	free(rsp->body);
	rsp->body = text;
	rsp->len = text != NULL ? strlen(text) : 0;
	rsp->content_type = text != NULL ? type : NULL;
	return 0;
}

/* text: malloc'd JSON (or NULL: no body), now the answer's. */
static int
sl_send(struct sl_api_resp *rsp, unsigned int status, char *text)
{
	return sl_send_type(rsp, status, text, "application/json; charset=utf-8");
}

/* cJSON allocates with malloc unless hooks say otherwise: its text is the answer's body. */
static int
sl_send_json(struct sl_api_resp *rsp, unsigned int status, cJSON *v)
{
	char *text = v != NULL ? cJSON_Print(v) : NULL;
	size_t n;

	cJSON_Delete(v);
	if (text == NULL)
		return sl_send(rsp, 500, NULL);
	n = strlen(text);
	char *with_nl = realloc(text, n + 2);
	if (with_nl != NULL) {
		with_nl[n] = '\n';
		with_nl[n + 1] = '\0';
		text = with_nl;
	}
	return sl_send(rsp, status, text);
}

static cJSON *
sl_error_json(const struct sl_error *e, const struct sl_error *detail)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *o = sl_json_arm_error(e->code, e->message, e->target, e->json_path);

	if (o == NULL)
		return root;
	cJSON_AddItemToObject(root, "error", o);
	if (detail != NULL)
		cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "details"),
				     sl_json_arm_error(detail->code, detail->message, detail->target,
						       NULL));
	return root;
}

static int
sl_send_error(struct sl_api_resp *rsp, unsigned int status, const struct sl_error *e)
{
	return sl_send_json(rsp, status, sl_error_json(e, NULL));
}

static int
sl_fail(struct sl_api_resp *rsp, unsigned int status, const char *code, const char *target,
	const char *msg)
{
	struct sl_error e;
	sl_error_set(&e, code, target, "", "%s", msg);
	return sl_send_error(rsp, status, &e);
}

/* Refuse a change request: answer with e (and detail), and note it for the audit line. */
static int
sl_refuse(struct sl_api_resp *rsp, struct sl_request *req, unsigned int status,
	  const struct sl_error *e, const struct sl_error *detail)
{
	req->status = status;
	snprintf(req->code, sizeof(req->code), "%s", e->code);
	snprintf(req->message, sizeof(req->message), "%s", e->message);
	/* the fleet's store cannot be reached: the client may try again later */
	if (status == 503 && strcmp(e->code, "FleetStoreUnavailable") == 0)
		rsp->retry_after = 5;
	return sl_send_json(rsp, status, sl_error_json(e, detail));
}

static int
sl_refuse_msg(struct sl_api_resp *rsp, struct sl_request *req, unsigned int status,
	      const char *code, const char *target, const char *msg)
{
	struct sl_error e;
	sl_error_set(&e, code, target, "", "%s", msg);
	return sl_refuse(rsp, req, status, &e, NULL);
}

static void
sl_result(struct sl_request *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What an accepted change did, for its audit line. */
static void
sl_result(struct sl_request *req, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req->result, sizeof(req->result), fmt, ap);
	va_end(ap);
}

/* What a resource's change did to the pools, for its audit line. */
struct sl_put_diff {
	char addresses[sizeof(((struct sl_request *)0)->result) - 64];
};

static void
sl_diff_changed(void *ctx, const cJSON *before, const cJSON *after)
{
	struct sl_put_diff *d = ctx;

	sl_audit_addresses(before, after, d->addresses, sizeof(d->addresses));
}

/* sl_controller_change() of p; what it changed in the pools lands in *d. */
static int
sl_change_diff(struct sl_api_handler *api, const struct sl_res_path *p, const cJSON *body,
	       const struct sl_request *req, bool *done, int *http, struct sl_put_diff *d,
	       struct sl_error *e)
{
	const struct sl_change_cond cond = {.if_match = req->if_match,
					    .if_none_match = req->if_none_match};
	int rc;

	d->addresses[0] = '\0';
	api->ctl->on_change = sl_diff_changed;
	api->ctl->on_change_ctx = d;
	rc = sl_controller_change_cond(api->ctl, p, body, &cond, req->start_us, done, http, e);
	api->ctl->on_change = NULL;
	api->ctl->on_change_ctx = NULL;
	return rc;
}

/* "generation N published", or "committed" when sluiced does not say which generation. */
static void
sl_result_published(struct sl_api_handler *api, struct sl_request *req, const char *addresses)
{
	const char *sep = addresses[0] != '\0' ? "; " : "";

	if (api->ctl->unchanged)
		sl_result(req, "unchanged (no new generation)");
	else if (api->hooks.generation != NULL)
		sl_result(req, "generation %llu published%s%s",
			  (unsigned long long)api->hooks.generation(api->hooks.ctx), sep, addresses);
	else
		sl_result(req, "committed%s%s", sep, addresses);
}

/* api-version: required, YYYY-MM-DD with an optional "-preview", as Azure's. */
static int
sl_check_api_version(const struct sl_request *req, struct sl_error *e)
{
	const char *v = req->api_version;
	unsigned int y, m, d;
	int n = 0;

	if (v == NULL || v[0] == '\0') {
		sl_error_set(e, "MissingApiVersionParameter", "api-version", "",
			     "The api-version query parameter (?api-version=) is required for all "
			     "requests, e.g. ?api-version=2020-05-01.");
		return -EINVAL;
	}
	if (sscanf(v, "%4u-%2u-%2u%n", &y, &m, &d, &n) != 3 || n != 10 || m < 1 || m > 12 ||
	    d < 1 || d > 31 || (v[10] != '\0' && strcmp(v + 10, "-preview") != 0)) {
		sl_error_set(e, "InvalidApiVersionParameter", "api-version", "",
			     "The api-version '%s' is invalid: expected YYYY-MM-DD or "
			     "YYYY-MM-DD-preview, e.g. 2020-05-01.", v);
		return -EINVAL;
	}
	return 0;
}

/* A refused commit is the request's fault (400) unless the server failed to store or build it. */
static unsigned int
sl_commit_status(const struct sl_error *e)
{
	return sl_controller_error_status(e);
}

/*
 * Each member address of a rendered pool of load balancer lb_name (in p's
 * scope) gets a read-only "healthState": "Up" | "Down". The health hook
 * knows load balancers by label (sl_config.h).
 */
static void
sl_annotate_pool(struct sl_api_handler *api, const struct sl_res_path *p, const char *lb_name,
		 cJSON *pool)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(pool, "name");
	cJSON *props = cJSON_GetObjectItemCaseSensitive(pool, "properties");
	const struct sl_lb *model_lb = sl_model_find_lb(api->ctl->model, p->sub, p->rg, lb_name);
	const char *lb = model_lb != NULL ? model_lb->label : lb_name;
	cJSON *a;

	if (!cJSON_IsString(name))
		return;
	cJSON_ArrayForEach(a, cJSON_GetObjectItem(props, "loadBalancerBackendAddresses")) {
		const cJSON *an = cJSON_GetObjectItemCaseSensitive(a, "name");
		cJSON *ap = cJSON_GetObjectItemCaseSensitive(a, "properties");
		if (!cJSON_IsString(an) || !cJSON_IsObject(ap))
			continue;
		int up = api->hooks.healthy(api->hooks.ctx, lb, name->valuestring, an->valuestring);
		cJSON_DeleteItemFromObjectCaseSensitive(ap, "healthState");
		cJSON_AddStringToObject(ap, "healthState", up ? "Up" : "Down");
	}
}

static void
sl_annotate_health(struct sl_api_handler *api, const struct sl_res_path *p, cJSON *out)
{
	const char *child = sl_res_child_collection(p->type, p->child);
	cJSON *it, *items;

	if (api->hooks.healthy == NULL || p->type != SL_RES_LB || out == NULL)
		return;
	if (p->child >= 0 && strcmp(child, "backendAddressPools") != 0)
		return;
	if (p->name[0] == '\0') { /* the list of load balancers */
		cJSON_ArrayForEach(it, cJSON_GetObjectItem(out, "value")) {
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
			cJSON *pools = cJSON_GetObjectItem(cJSON_GetObjectItem(it, "properties"),
							   "backendAddressPools");
			cJSON *pool;
			cJSON_ArrayForEach(pool, pools)
				if (cJSON_IsString(n))
					sl_annotate_pool(api, p, n->valuestring, pool);
		}
		return;
	}
	if (p->child < 0) {
		items = cJSON_GetObjectItem(cJSON_GetObjectItem(out, "properties"),
					    "backendAddressPools");
	} else if (p->child_name[0] == '\0') {
		items = cJSON_GetObjectItem(out, "value");
	} else {
		sl_annotate_pool(api, p, p->name, out);
		return;
	}
	cJSON_ArrayForEach(it, items)
		sl_annotate_pool(api, p, p->name, it);
}

static int
sl_get(struct sl_api_handler *api, struct sl_api_resp *rsp, const struct sl_res_path *p)
{
	struct sl_error e;
	cJSON *out = sl_doc_render(api->ctl->doc, p, &e);

	if (out == NULL)
		return sl_send_error(rsp, 404, &e);
	sl_annotate_health(api, p, out);
	return sl_send_json(rsp, 200, out);
}

static int
sl_put(struct sl_api_handler *api, struct sl_api_resp *rsp, const struct sl_res_path *p,
       struct sl_request *req)
{
	struct sl_error e;
	cJSON *body;
	bool created;
	int http = 400, rc;
	struct sl_put_diff diff;

	/* A child without a body (the seed's pool PUT sends none) has empty properties, as in ARM. */
	if (req->len == 0 && p->child < 0)
		return sl_refuse_msg(rsp, req, 400, "InvalidRequestContent", "body",
				     "The request body is empty: PUT takes the resource as JSON.");
	body = req->len == 0 ? cJSON_CreateObject() : sl_json_parse(req->body, req->len, "body", &e);
	if (body == NULL && req->len == 0)
		return sl_refuse_msg(rsp, req, 500, "OutOfMemory", "", "Out of memory.");
	if (body == NULL) {
		snprintf(e.code, sizeof(e.code), "InvalidRequestContent");
		return sl_refuse(rsp, req, 400, &e, NULL);
	}
	rc = sl_change_diff(api, p, body, req, &created, &http, &diff, &e);
	cJSON_Delete(body);
	if (rc != 0)
		return sl_refuse(rsp, req, http != 0 ? (unsigned int)http : sl_commit_status(&e), &e,
				 NULL);
	sl_result_published(api, req, diff.addresses);
	cJSON *out = sl_doc_render(api->ctl->doc, p, &e);
	if (out == NULL)
		return sl_refuse(rsp, req, 500, &e, NULL);
	sl_annotate_health(api, p, out);
	return sl_send_json(rsp, created ? 201 : 200, out);
}

static int
sl_delete(struct sl_api_handler *api, struct sl_api_resp *rsp, const struct sl_res_path *p,
	  struct sl_request *req)
{
	struct sl_error e, why;
	struct sl_put_diff diff;
	char id[1024];
	bool existed;
	int http = 400;
	int rc = sl_change_diff(api, p, NULL, req, &existed, &http, &diff, &why);

	if (rc != 0 && http != 0)
		return sl_refuse(rsp, req, (unsigned int)http, &why, NULL);
	if (rc == 0 && !existed) {
		sl_result(req, "nothing to delete");
		return sl_send(rsp, 204, NULL);
	}
	if (rc != 0) {
		if (sl_commit_status(&why) != 400)
			return sl_refuse(rsp, req, sl_commit_status(&why), &why, NULL);
		/* The rest of the configuration still needs it: say what does. */
		sl_res_id(p, id, sizeof(id));
		sl_error_set(&e, "InUseResourceCannotBeDeleted", id, "",
			     "'%s' cannot be deleted: without it the configuration is invalid: %s",
			     id, why.message);
		return sl_refuse(rsp, req, 400, &e, &why);
	}
	sl_result_published(api, req, diff.addresses);
	return sl_send(rsp, 200, NULL);
}

/* The "state" of a service object (from the service hook); "" when it has none. */
static void
sl_service_state(struct sl_api_handler *api, char *buf, size_t len)
{
	cJSON *o = api->hooks.service(api->hooks.ctx);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "state");

	snprintf(buf, len, "%s", cJSON_IsString(st) ? st->valuestring : "");
	cJSON_Delete(o);
}

/*
 * PUT /sluice/service with {"state": "InService" | "OutOfService"}: a
 * refusal is answered here (*refused); else the caller answers with the
 * service object.
 */
static int
sl_service_put(struct sl_api_handler *api, struct sl_api_resp *rsp, struct sl_request *req,
	       bool *refused)
{
	struct sl_error e;
	char before[64], after[64];
	cJSON *body;
	int status;

	*refused = true;
	if (req->len == 0) {
		sl_error_set(&e, "InvalidServiceState", "state", "",
			     "The request body is empty: PUT takes {\"state\": \"InService\"} "
			     "or {\"state\": \"OutOfService\"}.");
		return sl_refuse(rsp, req, 400, &e, NULL);
	}
	body = sl_json_parse(req->body, req->len, "state", &e);
	if (body == NULL) {
		snprintf(e.code, sizeof(e.code), "InvalidServiceState");
		return sl_refuse(rsp, req, 400, &e, NULL);
	}
	sl_service_state(api, before, sizeof(before));
	status = api->hooks.set_service(api->hooks.ctx, body, &e);
	cJSON_Delete(body);
	if (status != 0)
		return sl_refuse(rsp, req, (unsigned int)status, &e, NULL);
	sl_service_state(api, after, sizeof(after));
	if (strcmp(before, after) == 0)
		sl_result(req, "service state %s, unchanged", after);
	else
		sl_result(req, "service state %s (was %s)", after, before);
	*refused = false;
	return 0;
}

/* GET /sluice/service, and PUT with {"state": "InService" | "OutOfService"}. */
static int
sl_service_endpoint(struct sl_api_handler *api, struct sl_api_resp *rsp, const char *url,
		    const char *method, struct sl_request *req)
{
	if (api->hooks.service == NULL || api->hooks.set_service == NULL)
		return sl_refuse_msg(rsp, req, 503, "ServiceUnavailable", url,
				     "No service state available.");
	if (strcmp(method, "PUT") == 0) {
		bool refused;
		int r = sl_service_put(api, rsp, req, &refused);
		if (refused)
			return r;
	} else if (strcmp(method, "GET") != 0) {
		return sl_refuse_msg(rsp, req, 405, "MethodNotAllowed", url,
				     "/sluice/service takes GET and PUT.");
	}
	cJSON *o = api->hooks.service(api->hooks.ctx);
	if (o == NULL)
		return sl_fail(rsp, 500, "OutOfMemory", url, "Out of memory.");
	return sl_send_json(rsp, 200, o);
}

/* "api" of GET /sluice/status: the limits in force and what they refused. */
static void
sl_api_status_limits(const struct sl_api_handler *api, cJSON *o)
{
	const struct sl_api_limits *l = &api->limits;
	const struct sl_api_counters *c = &api->counters;
	cJSON *a = cJSON_AddObjectToObject(o, "api");
	cJSON *lim = cJSON_AddObjectToObject(a, "limits");
	cJSON *n = cJSON_AddObjectToObject(a, "counters");

	cJSON_AddNumberToObject(lim, "maxConnections", l->max_connections);
	cJSON_AddNumberToObject(lim, "requestsPerSecond", l->rate);
	cJSON_AddNumberToObject(lim, "maxHeaderBytes", (double)l->max_header_bytes);
	cJSON_AddNumberToObject(lim, "maxBodyBytes", (double)l->max_body_bytes);
	cJSON_AddNumberToObject(lim, "requestTimeoutSeconds", l->request_timeout_s);
	cJSON_AddNumberToObject(n, "requests", (double)c->requests);
	cJSON_AddNumberToObject(n, "connectionsOpen", c->connections_open);
	cJSON_AddNumberToObject(n, "connectionsRefused", (double)c->connections_refused);
	cJSON_AddNumberToObject(n, "rateLimited", (double)c->rate_limited);
	cJSON_AddNumberToObject(n, "headersTooLarge", (double)c->headers_too_large);
	cJSON_AddNumberToObject(n, "bodiesTooLarge", (double)c->bodies_too_large);
	cJSON_AddNumberToObject(n, "slowClientsClosed", (double)c->slow_closed);
}

/* GET /sluice/fleet: the hosts of the fleet as its store has them. */
static int
sl_fleet_endpoint(struct sl_api_handler *api, struct sl_api_resp *rsp, const char *url)
{
	struct sl_error e;
	cJSON *out = NULL;
	int rc = api->hooks.fleet_hosts != NULL ? api->hooks.fleet_hosts(api->hooks.ctx, &out, &e)
						: -ENOENT;

	if (rc == -ENOENT)
		return sl_fail(rsp, 404, "FleetNotConfigured", url,
			       "This sluiced is not part of a fleet (start it with --fleet-etcd "
			       "and --fleet-prefix).");
	if (rc < 0) {
		rsp->retry_after = 5;
		return sl_send_error(rsp, 503, &e);
	}
	return sl_send_json(rsp, 200, out);
}

static int
sl_sluice_endpoint(struct sl_api_handler *api, struct sl_api_resp *rsp, const char *url,
		   const char *method, struct sl_request *req)
{
	if (strcmp(url, "/sluice/service") == 0)
		return sl_service_endpoint(api, rsp, url, method, req);
	if (strcmp(method, "GET") != 0)
		return sl_refuse_msg(rsp, req, 405, "MethodNotAllowed", url,
				     "Only GET is served here (and PUT on /sluice/service).");
	if (strcmp(url, "/sluice/stats") == 0) {
		char *s = api->hooks.stats_json ? api->hooks.stats_json(api->hooks.ctx) : NULL;
		if (s == NULL)
			return sl_fail(rsp, 503, "StatsUnavailable", url, "No counters available.");
		return sl_send(rsp, 200, s);
	}
	if (strcmp(url, "/sluice/metrics") == 0) {
		char *m = api->hooks.stats_prometheus ? api->hooks.stats_prometheus(api->hooks.ctx)
						      : NULL;
		if (m == NULL)
			return sl_fail(rsp, 503, "StatsUnavailable", url, "No counters available.");
		return sl_send_type(rsp, 200, m, "text/plain; version=0.0.4; charset=utf-8");
	}
	if (strcmp(url, "/sluice/neighbours") == 0) {
		char *s = api->hooks.neighbours_json ? api->hooks.neighbours_json(api->hooks.ctx)
						     : NULL;
		if (s == NULL)
			return sl_fail(rsp, 503, "NeighboursUnavailable", url,
				       "No neighbour table available.");
		return sl_send(rsp, 200, s);
	}
	if (strcmp(url, "/sluice/probes") == 0) {
		cJSON *v = api->hooks.probe_status ? api->hooks.probe_status(api->hooks.ctx) : NULL;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "value", v != NULL ? v : cJSON_CreateArray());
		return sl_send_json(rsp, 200, o);
	}
	if (strcmp(url, "/sluice/status") == 0) {
		cJSON *o = cJSON_CreateObject();
		const struct sl_commit_timing *t = &api->ctl->last;
		cJSON_AddNumberToObject(o, "commits", (double)api->ctl->commits);
		cJSON_AddNumberToObject(o, "incrementalCommits", (double)api->ctl->fast_changes);
		cJSON *lc = cJSON_AddObjectToObject(o, "lastCommitMicroseconds");
		cJSON_AddNumberToObject(lc, "requestToPublish", t->request_to_publish_us);
		cJSON_AddNumberToObject(lc, "validate", t->validate_us);
		cJSON_AddNumberToObject(lc, "compile", t->prepare_us);
		cJSON_AddNumberToObject(lc, "persist", t->persist_us);
		cJSON_AddNumberToObject(lc, "publish", t->publish_us);
		cJSON_AddStringToObject(o, "configFile",
					api->ctl->config_file ? api->ctl->config_file : "");
		cJSON_AddStringToObject(o, "stateDirectory",
					api->ctl->state_dir ? api->ctl->state_dir : "");
		sl_api_status_limits(api, o);
		cJSON *st = sl_controller_state_status(api->ctl);
		if (st != NULL)
			cJSON_AddItemToObject(o, "state", st);
		if (api->hooks.service != NULL) {
			cJSON *sv = api->hooks.service(api->hooks.ctx);
			if (sv != NULL)
				cJSON_AddItemToObject(o, "service", sv);
		}
		if (api->hooks.tables != NULL) {
			cJSON *tb = api->hooks.tables(api->hooks.ctx);
			if (tb != NULL)
				cJSON_AddItemToObject(o, "tables", tb);
		}
		cJSON *fl = api->hooks.fleet_status ? api->hooks.fleet_status(api->hooks.ctx) : NULL;
		if (fl != NULL)
			cJSON_AddItemToObject(o, "fleet", fl);
		return sl_send_json(rsp, 200, o);
	}
	if (strcmp(url, "/sluice/fleet") == 0)
		return sl_fleet_endpoint(api, rsp, url);
	return sl_fail(rsp, 404, "InvalidRequestUri", url,
		       "Unknown sluice endpoint: /sluice/status, /sluice/service, /sluice/stats, "
		       "/sluice/metrics, /sluice/probes, /sluice/neighbours and /sluice/fleet are "
		       "served.");
}

static int
sl_deploys_ready(struct sl_api_handler *api)
{
	if (api->deploys == NULL) {
		api->deploys = sl_deploy_records_create(api->ctl->state_dir);
		if (api->deploys != NULL)
			sl_deploy_records_restore(api->deploys);
	}
	return api->deploys != NULL ? 0 : -ENOMEM;
}

void
sl_api_handler_restore_deployments(struct sl_api_handler *api)
{
	sl_deploys_ready(api);
}

/* .../providers/Microsoft.Resources/deployments...: sl_deploy_api.c answers. */
static int
sl_deployments(struct sl_api_handler *api, struct sl_api_resp *rsp, const char *url,
	       const char *method, struct sl_request *req)
{
	struct sl_deploy_answer a;

	if (sl_deploys_ready(api) != 0)
		return sl_refuse_msg(rsp, req, 500, "OutOfMemory", url, "Out of memory.");
	sl_deploy_api_handle(api->deploys, api->ctl, url, method, req->body, req->len,
			     req->start_us, &a);
	if (a.status == 503 && strcmp(a.code, "FleetStoreUnavailable") == 0)
		rsp->retry_after = 5;
	if (a.status >= 400) {
		req->status = a.status;
		snprintf(req->code, sizeof(req->code), "%s", a.code);
		snprintf(req->message, sizeof(req->message), "%s", a.message);
	} else if (a.committed) {
		sl_result_published(api, req, a.result);
	} else {
		sl_result(req, "%s", a.result);
	}
	if (a.body == NULL)
		return sl_send(rsp, a.status, NULL);
	return sl_send_json(rsp, a.status, a.body);
}

/* GET and HEAD change nothing; every other method asks for a change (or is refused). */
static bool
sl_is_change(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* The audit line of a change request, once it is answered. */
static void
sl_audit_request(const char *url, const char *method, const struct sl_request *req)
{
	char what[1024], result[sizeof(req->result) + 768];

	snprintf(what, sizeof(what), "%s %s", method, url);
	if (req->status >= 400 && req->result[0] == '\0') {
		snprintf(result, sizeof(result), "refused: %u %s: %s", req->status, req->code,
			 req->message);
		sl_audit_log(SL_LOG_WARNING, req->who, what, result);
		return;
	}
	if (req->status >= 400)
		snprintf(result, sizeof(result), "%s; answered %u %s", req->result, req->status,
			 req->code);
	else
		snprintf(result, sizeof(result), "%s", req->result[0] ? req->result : "done");
	sl_audit_log(SL_LOG_NOTICE, req->who, what, result);
}

static int
sl_dispatch(struct sl_api_handler *api, struct sl_api_resp *rsp, const char *url, const char *method,
	    struct sl_request *req)
{
	struct sl_res_path p;
	struct sl_error e;

	if (strncmp(url, "/sluice/", 8) == 0)
		return sl_sluice_endpoint(api, rsp, url, method, req);
	if (sl_deploy_api_path(url)) {
		if (sl_check_api_version(req, &e) != 0)
			return sl_refuse(rsp, req, 400, &e, NULL);
		return sl_deployments(api, rsp, url, method, req);
	}
	int rc = sl_res_path_parse(url, &p, &e);
	if (rc != 0)
		return sl_refuse(rsp, req, rc == -ENAMETOOLONG ? 400 : 404, &e, NULL);
	if (sl_check_api_version(req, &e) != 0)
		return sl_refuse(rsp, req, 400, &e, NULL);
	if (strcmp(method, "GET") == 0)
		return sl_get(api, rsp, &p);
	if (strcmp(method, "PUT") == 0)
		return sl_put(api, rsp, &p, req);
	if (strcmp(method, "DELETE") == 0)
		return sl_delete(api, rsp, &p, req);
	return sl_refuse_msg(rsp, req, 405, "MethodNotAllowed", url,
			     "Resources take GET, PUT and DELETE.");
}

/*
 * Percent-decoding of paths and query arguments, except "%2F": a slash
 * inside a resource name must not become a path separator (it stays
 * "%2F", which no valid name contains, so the request is refused as an
 * invalid name rather than addressing another resource). "%00" stays too.
 */
static void
sl_unescape(char *s)
{
	char *in = s, *out = s;

	while (*in != '\0') {
		unsigned int v;
		if (in[0] == '%' && isxdigit((unsigned char)in[1]) &&
		    isxdigit((unsigned char)in[2]) && sscanf(in + 1, "%2x", &v) == 1 &&
		    v != '/' && v != 0) {
			*out++ = (char)v;
			in += 3;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
}

/* The first value of key in a query ("a=1&b=2"; '+' is a space), decoded and malloc'd, or NULL. */
static char *
sl_query_arg(const char *query, const char *key)
{
	size_t klen = strlen(key);
	const char *p = query;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			char *v = strndup(p + klen + 1, n - klen - 1);
			if (v == NULL)
				return NULL;
			for (char *c = v; *c != '\0'; c++)
				if (*c == '+')
					*c = ' ';
			sl_unescape(v);
			return v;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return NULL;
}

/* The request line and headers as they were sent, near enough: "NAME: VALUE\r\n" each. */
static size_t
sl_header_bytes(const struct sl_api_req *rq)
{
	size_t n = strlen(rq->method) + strlen(rq->path) + 12;

	if (rq->query != NULL)
		n += strlen(rq->query) + 1;
	for (size_t i = 0; i < rq->n_headers; i++)
		n += strlen(rq->headers[i].name) + strlen(rq->headers[i].value) + 4;
	return n;
}

/*
 * The token bucket of uid: rate tokens a second, as many at most (a
 * second's worth in a burst). Returns 0 and takes a token, or the seconds
 * until the next one.
 */
static unsigned int
sl_rate_take(struct sl_api_handler *h, long uid, double now_us)
{
	struct sl_api_bucket *b = NULL, *oldest = &h->buckets[0];
	double rate = h->limits.rate;

	for (unsigned int i = 0; i < SL_API_RATE_SLOTS && b == NULL; i++) {
		struct sl_api_bucket *c = &h->buckets[i];
		if (c->last_us != 0 && c->uid == uid)
			b = c;
		else if (c->last_us < oldest->last_us)
			oldest = c;
	}
	if (b == NULL) {
		b = oldest;
		b->uid = uid;
		b->tokens = rate;
		b->last_us = now_us;
	}
	if (now_us > b->last_us)
		b->tokens = fmin(rate, b->tokens + (now_us - b->last_us) * rate / 1e6);
	b->last_us = now_us > 0 ? now_us : 1;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 0;
	}
	return (unsigned int)ceil((1.0 - b->tokens) / rate);
}

/* 429, 431 or 413 when rq is over a limit (counted); 0 when it is within them. */
static int
sl_check_limits(struct sl_api_handler *h, const struct sl_api_req *rq, struct sl_api_resp *rsp,
		struct sl_request *req)
{
	const struct sl_api_limits *l = &h->limits;
	size_t hdr = sl_header_bytes(rq), body = rq->body_seen > rq->len ? rq->body_seen : rq->len;
	char msg[256];
	unsigned int wait;

	/* root is not held back: its clients are the operator's own, and it could stop sluiced */
	if (l->rate != 0 && rq->uid != 0 && (wait = sl_rate_take(h, rq->uid, rq->start_us)) != 0) {
		h->counters.rate_limited++;
		snprintf(msg, sizeof(msg), "More than %u requests a second from uid %ld "
			 "(--api-rate-limit): retry after %u s.", l->rate, rq->uid, wait);
		rsp->retry_after = wait;
		sl_refuse_msg(rsp, req, 429, "TooManyRequests", "", msg);
		return 429;
	}
	if (hdr > l->max_header_bytes) {
		h->counters.headers_too_large++;
		snprintf(msg, sizeof(msg), "The request line and headers (%zu bytes) are larger than "
			 "the limit of %zu bytes (--api-max-header-bytes).", hdr,
			 l->max_header_bytes);
		sl_refuse_msg(rsp, req, 431, "RequestHeaderFieldsTooLarge", "headers", msg);
		return 431;
	}
	if (body > l->max_body_bytes) {
		h->counters.bodies_too_large++;
		snprintf(msg, sizeof(msg), "The request body (%s%zu bytes) is larger than the limit "
			 "of %zu bytes (--api-max-body-bytes).",
			 rq->body_seen > rq->len ? "at least " : "", body, l->max_body_bytes);
		sl_refuse_msg(rsp, req, 413, "RequestEntityTooLarge", "body", msg);
		return 413;
	}
	return 0;
}

void
sl_api_handle(struct sl_api_handler *h, const struct sl_api_req *rq, struct sl_api_resp *rsp)
{
	struct sl_request req;
	char *path = strdup(rq->path != NULL ? rq->path : "");
	const char *method = rq->method != NULL ? rq->method : "";
	int limited;

	memset(rsp, 0, sizeof(*rsp));
	memset(&req, 0, sizeof(req));
	req.start_us = rq->start_us;
	req.body = rq->body;
	req.len = rq->body != NULL ? rq->len : 0;
	req.who = rq->who != NULL ? rq->who : "";
	for (size_t i = 0; i < rq->n_headers; i++) {
		if (strcasecmp(rq->headers[i].name, "If-Match") == 0)
			req.if_match = rq->headers[i].value;
		else if (strcasecmp(rq->headers[i].name, "If-None-Match") == 0)
			req.if_none_match = rq->headers[i].value;
	}
	if (path == NULL) {
		sl_fail(rsp, 500, "OutOfMemory", "", "Out of memory.");
		return;
	}
	sl_unescape(path);
	h->counters.requests++;
	limited = sl_check_limits(h, rq, rsp, &req);
	if (limited == 0) {
		req.api_version = rq->query != NULL ? sl_query_arg(rq->query, "api-version") : NULL;
		sl_dispatch(h, rsp, path, method, &req);
	}
	/* no audit line for a rate-limited request: the flood would drown the log (counted) */
	if (sl_is_change(method) && limited != 429)
		sl_audit_request(path, method, &req);
	if (rsp->status == 0) /* an endpoint ran out of memory before it could answer */
		sl_fail(rsp, 500, "OutOfMemory", path, "Out of memory.");
	free(req.api_version);
	free(path);
}

void
sl_api_resp_free(struct sl_api_resp *rsp)
{
	free(rsp->body);
	rsp->body = NULL;
	rsp->len = 0;
}

char *
sl_api_error_text(const char *code, const char *target, const char *message)
{
	struct sl_api_resp r = {0};
	struct sl_error e;

	sl_error_set(&e, code, target, "", "%s", message);
	sl_send_error(&r, 500, &e);
	return r.body;
}

void
sl_api_limits_default(struct sl_api_limits *l)
{
	l->max_connections = SL_API_DEFAULT_MAX_CONNECTIONS;
	l->rate = SL_API_DEFAULT_RATE;
	l->max_header_bytes = SL_API_DEFAULT_MAX_HEADER;
	l->max_body_bytes = SL_API_DEFAULT_MAX_BODY;
	l->request_timeout_s = SL_API_DEFAULT_REQUEST_TIMEOUT;
}

struct sl_api_handler *
sl_api_handler_create(struct sl_controller *ctl, const struct sl_api_hooks *hooks,
		      const struct sl_api_limits *limits)
{
	struct sl_api_handler *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->ctl = ctl;
	if (hooks != NULL)
		h->hooks = *hooks;
	if (limits != NULL)
		h->limits = *limits;
	else
		sl_api_limits_default(&h->limits);
	return h;
}

const struct sl_api_limits *
sl_api_handler_limits(const struct sl_api_handler *h)
{
	return &h->limits;
}

struct sl_api_counters *
sl_api_handler_counters(struct sl_api_handler *h)
{
	return &h->counters;
}

void
sl_api_handler_free(struct sl_api_handler *h)
{
	if (h == NULL)
		return;
	sl_deploy_records_free(h->deploys);
	free(h);
}
