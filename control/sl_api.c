/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_api.c: the REST API on libmicrohttpd (see sl_api.h).
 *
 * libmicrohttpd runs with MHD_USE_EPOLL and no thread of its own: its epoll
 * descriptor is polled by the control thread, which calls MHD_run(), so the
 * handlers below run on the control thread like every other change. Every
 * request other than GET and HEAD gets an audit line (sl_audit.h): its
 * peer, method and path, and what came of it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <microhttpd.h>

#include "sl_api.h"
#include "sl_audit.h"
#include "sl_deploy_api.h"
#include "sl_json.h"
#include "sl_log.h"
#include "sl_resource.h"

struct sl_api {
	struct MHD_Daemon *mhd;
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sl_controller *ctl;
	struct sl_api_hooks hooks;
	struct sl_deploy_records *deploys; /* made on first use, or by sl_api_restore_deployments() */
};

/* One request's upload, accumulated across handler calls, and its outcome. */
struct sl_request {
	double start_us; /* when the whole request (headers and body) was in */
	char *body;
	size_t len;
	size_t cap;
	int too_large;
	/* for the audit line of a change (any method but GET and HEAD) */
	char who[128];       /* the peer: "uid U pid P (COMM)" */
	unsigned int status; /* of a refusal (0: not refused) */
	char code[96];       /* the refusal's error code */
	char message[512];   /* and its message */
	char result[1536];   /* what an accepted change did: "generation 7 published; ..." */
};

static enum MHD_Result
sl_send(struct MHD_Connection *conn, unsigned int status, char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (text == NULL) {
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	}
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	if (text != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					"application/json; charset=utf-8");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* cJSON allocates with malloc unless hooks say otherwise: its text can go to MHD_RESPMEM_MUST_FREE. */
static enum MHD_Result
sl_send_json(struct MHD_Connection *conn, unsigned int status, cJSON *v)
{
	char *text = v != NULL ? cJSON_Print(v) : NULL;
	size_t n;

	cJSON_Delete(v);
	if (text == NULL)
		return sl_send(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	n = strlen(text);
	char *with_nl = realloc(text, n + 2);
	if (with_nl != NULL) {
		with_nl[n] = '\n';
		with_nl[n + 1] = '\0';
		text = with_nl;
	}
	return sl_send(conn, status, text);
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

static enum MHD_Result
sl_send_error(struct MHD_Connection *conn, unsigned int status, const struct sl_error *e)
{
	return sl_send_json(conn, status, sl_error_json(e, NULL));
}

static enum MHD_Result
sl_fail(struct MHD_Connection *conn, unsigned int status, const char *code, const char *target,
	const char *msg)
{
	struct sl_error e;
	sl_error_set(&e, code, target, "", "%s", msg);
	return sl_send_error(conn, status, &e);
}

/* Refuse a change request: answer with e (and detail), and note it for the audit line. */
static enum MHD_Result
sl_refuse(struct MHD_Connection *conn, struct sl_request *req, unsigned int status,
	  const struct sl_error *e, const struct sl_error *detail)
{
	req->status = status;
	snprintf(req->code, sizeof(req->code), "%s", e->code);
	snprintf(req->message, sizeof(req->message), "%s", e->message);
	return sl_send_json(conn, status, sl_error_json(e, detail));
}

static enum MHD_Result
sl_refuse_msg(struct MHD_Connection *conn, struct sl_request *req, unsigned int status,
	      const char *code, const char *target, const char *msg)
{
	struct sl_error e;
	sl_error_set(&e, code, target, "", "%s", msg);
	return sl_refuse(conn, req, status, &e, NULL);
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
sl_change_diff(struct sl_api *api, const struct sl_res_path *p, const cJSON *body, double start_us,
	       bool *done, int *http, struct sl_put_diff *d, struct sl_error *e)
{
	int rc;

	d->addresses[0] = '\0';
	api->ctl->on_change = sl_diff_changed;
	api->ctl->on_change_ctx = d;
	rc = sl_controller_change(api->ctl, p, body, start_us, done, http, e);
	api->ctl->on_change = NULL;
	api->ctl->on_change_ctx = NULL;
	return rc;
}

/* "generation N published", or "committed" when sluiced does not say which generation. */
static void
sl_result_published(struct sl_api *api, struct sl_request *req, const char *addresses)
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
sl_check_api_version(struct MHD_Connection *conn, struct sl_error *e)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "api-version");
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
	return sl_controller_error_is_server(e) ? MHD_HTTP_INTERNAL_SERVER_ERROR : 400;
}

/*
 * Each member address of a rendered pool of load balancer lb_name (in p's
 * scope) gets a read-only "healthState": "Up" | "Down". The health hook
 * knows load balancers by label (sl_config.h).
 */
static void
sl_annotate_pool(struct sl_api *api, const struct sl_res_path *p, const char *lb_name,
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
sl_annotate_health(struct sl_api *api, const struct sl_res_path *p, cJSON *out)
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

static enum MHD_Result
sl_get(struct sl_api *api, struct MHD_Connection *conn, const struct sl_res_path *p)
{
	struct sl_error e;
	cJSON *out = sl_doc_render(api->ctl->doc, p, &e);

	if (out == NULL)
		return sl_send_error(conn, MHD_HTTP_NOT_FOUND, &e);
	sl_annotate_health(api, p, out);
	return sl_send_json(conn, MHD_HTTP_OK, out);
}

static enum MHD_Result
sl_put(struct sl_api *api, struct MHD_Connection *conn, const struct sl_res_path *p,
       struct sl_request *req)
{
	struct sl_error e;
	cJSON *body;
	bool created;
	int http = 400, rc;
	struct sl_put_diff diff;

	/* A child without a body (the seed's pool PUT sends none) has empty properties, as in ARM. */
	if (req->len == 0 && p->child < 0)
		return sl_refuse_msg(conn, req, 400, "InvalidRequestContent", "body",
				     "The request body is empty: PUT takes the resource as JSON.");
	body = req->len == 0 ? cJSON_CreateObject() : sl_json_parse(req->body, req->len, "body", &e);
	if (body == NULL && req->len == 0)
		return sl_refuse_msg(conn, req, 500, "OutOfMemory", "", "Out of memory.");
	if (body == NULL) {
		snprintf(e.code, sizeof(e.code), "InvalidRequestContent");
		return sl_refuse(conn, req, 400, &e, NULL);
	}
	rc = sl_change_diff(api, p, body, req->start_us, &created, &http, &diff, &e);
	cJSON_Delete(body);
	if (rc != 0)
		return sl_refuse(conn, req, http != 0 ? (unsigned int)http : sl_commit_status(&e), &e,
				 NULL);
	sl_result_published(api, req, diff.addresses);
	cJSON *out = sl_doc_render(api->ctl->doc, p, &e);
	if (out == NULL)
		return sl_refuse(conn, req, 500, &e, NULL);
	sl_annotate_health(api, p, out);
	return sl_send_json(conn, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, out);
}

static enum MHD_Result
sl_delete(struct sl_api *api, struct MHD_Connection *conn, const struct sl_res_path *p,
	  struct sl_request *req)
{
	struct sl_error e, why;
	struct sl_put_diff diff;
	char id[1024];
	bool existed;
	int http = 400;
	int rc = sl_change_diff(api, p, NULL, req->start_us, &existed, &http, &diff, &why);

	if (rc != 0 && http != 0)
		return sl_refuse(conn, req, (unsigned int)http, &why, NULL);
	if (rc == 0 && !existed) {
		sl_result(req, "nothing to delete");
		return sl_send(conn, MHD_HTTP_NO_CONTENT, NULL);
	}
	if (rc != 0) {
		if (sl_commit_status(&why) != 400)
			return sl_refuse(conn, req, sl_commit_status(&why), &why, NULL);
		/* The rest of the configuration still needs it: say what does. */
		sl_res_id(p, id, sizeof(id));
		sl_error_set(&e, "InUseResourceCannotBeDeleted", id, "",
			     "'%s' cannot be deleted: without it the configuration is invalid: %s",
			     id, why.message);
		return sl_refuse(conn, req, 400, &e, &why);
	}
	sl_result_published(api, req, diff.addresses);
	return sl_send(conn, MHD_HTTP_OK, NULL);
}

/* The "state" of a service object (from the service hook); "" when it has none. */
static void
sl_service_state(struct sl_api *api, char *buf, size_t len)
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
static enum MHD_Result
sl_service_put(struct sl_api *api, struct MHD_Connection *conn, struct sl_request *req,
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
		return sl_refuse(conn, req, 400, &e, NULL);
	}
	body = sl_json_parse(req->body, req->len, "state", &e);
	if (body == NULL) {
		snprintf(e.code, sizeof(e.code), "InvalidServiceState");
		return sl_refuse(conn, req, 400, &e, NULL);
	}
	sl_service_state(api, before, sizeof(before));
	status = api->hooks.set_service(api->hooks.ctx, body, &e);
	cJSON_Delete(body);
	if (status != 0)
		return sl_refuse(conn, req, (unsigned int)status, &e, NULL);
	sl_service_state(api, after, sizeof(after));
	if (strcmp(before, after) == 0)
		sl_result(req, "service state %s, unchanged", after);
	else
		sl_result(req, "service state %s (was %s)", after, before);
	*refused = false;
	return MHD_YES;
}

/* GET /sluice/service, and PUT with {"state": "InService" | "OutOfService"}. */
static enum MHD_Result
sl_service_endpoint(struct sl_api *api, struct MHD_Connection *conn, const char *url,
		    const char *method, struct sl_request *req)
{
	if (api->hooks.service == NULL || api->hooks.set_service == NULL)
		return sl_refuse_msg(conn, req, 503, "ServiceUnavailable", url,
				     "No service state available.");
	if (strcmp(method, "PUT") == 0) {
		bool refused;
		enum MHD_Result r = sl_service_put(api, conn, req, &refused);
		if (refused)
			return r;
	} else if (strcmp(method, "GET") != 0) {
		return sl_refuse_msg(conn, req, 405, "MethodNotAllowed", url,
				     "/sluice/service takes GET and PUT.");
	}
	cJSON *o = api->hooks.service(api->hooks.ctx);
	if (o == NULL)
		return sl_fail(conn, 500, "OutOfMemory", url, "Out of memory.");
	return sl_send_json(conn, MHD_HTTP_OK, o);
}

static enum MHD_Result
sl_sluice_endpoint(struct sl_api *api, struct MHD_Connection *conn, const char *url,
		   const char *method, struct sl_request *req)
{
	if (strcmp(url, "/sluice/service") == 0)
		return sl_service_endpoint(api, conn, url, method, req);
	if (strcmp(method, "GET") != 0)
		return sl_refuse_msg(conn, req, 405, "MethodNotAllowed", url,
				     "Only GET is served here (and PUT on /sluice/service).");
	if (strcmp(url, "/sluice/stats") == 0) {
		char *s = api->hooks.stats_json ? api->hooks.stats_json(api->hooks.ctx) : NULL;
		if (s == NULL)
			return sl_fail(conn, 503, "StatsUnavailable", url, "No counters available.");
		return sl_send(conn, MHD_HTTP_OK, s);
	}
	if (strcmp(url, "/sluice/metrics") == 0) {
		char *m = api->hooks.stats_prometheus ? api->hooks.stats_prometheus(api->hooks.ctx)
						      : NULL;
		if (m == NULL)
			return sl_fail(conn, 503, "StatsUnavailable", url, "No counters available.");
		struct MHD_Response *r = MHD_create_response_from_buffer(strlen(m), m,
									 MHD_RESPMEM_MUST_FREE);
		if (r == NULL) {
			free(m);
			return MHD_NO;
		}
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/plain; version=0.0.4; charset=utf-8");
		enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/sluice/neighbours") == 0) {
		char *s = api->hooks.neighbours_json ? api->hooks.neighbours_json(api->hooks.ctx)
						     : NULL;
		if (s == NULL)
			return sl_fail(conn, 503, "NeighboursUnavailable", url,
				       "No neighbour table available.");
		return sl_send(conn, MHD_HTTP_OK, s);
	}
	if (strcmp(url, "/sluice/probes") == 0) {
		cJSON *v = api->hooks.probe_status ? api->hooks.probe_status(api->hooks.ctx) : NULL;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "value", v != NULL ? v : cJSON_CreateArray());
		return sl_send_json(conn, MHD_HTTP_OK, o);
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
		cJSON *st = sl_controller_state_status(api->ctl);
		if (st != NULL)
			cJSON_AddItemToObject(o, "state", st);
		if (api->hooks.service != NULL) {
			cJSON *sv = api->hooks.service(api->hooks.ctx);
			if (sv != NULL)
				cJSON_AddItemToObject(o, "service", sv);
		}
		return sl_send_json(conn, MHD_HTTP_OK, o);
	}
	return sl_fail(conn, 404, "InvalidRequestUri", url,
		       "Unknown sluice endpoint: /sluice/status, /sluice/service, /sluice/stats, "
		       "/sluice/metrics, /sluice/probes and /sluice/neighbours are served.");
}

static int
sl_deploys_ready(struct sl_api *api)
{
	if (api->deploys == NULL) {
		api->deploys = sl_deploy_records_create(api->ctl->state_dir);
		if (api->deploys != NULL)
			sl_deploy_records_restore(api->deploys);
	}
	return api->deploys != NULL ? 0 : -ENOMEM;
}

void
sl_api_restore_deployments(struct sl_api *api)
{
	sl_deploys_ready(api);
}

/* .../providers/Microsoft.Resources/deployments...: sl_deploy_api.c answers. */
static enum MHD_Result
sl_deployments(struct sl_api *api, struct MHD_Connection *conn, const char *url,
	       const char *method, struct sl_request *req)
{
	struct sl_deploy_answer a;

	if (sl_deploys_ready(api) != 0)
		return sl_refuse_msg(conn, req, 500, "OutOfMemory", url, "Out of memory.");
	sl_deploy_api_handle(api->deploys, api->ctl, url, method, req->body, req->len,
			     req->start_us, &a);
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
		return sl_send(conn, a.status, NULL);
	return sl_send_json(conn, a.status, a.body);
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

static enum MHD_Result
sl_dispatch(struct sl_api *api, struct MHD_Connection *conn, const char *url, const char *method,
	    struct sl_request *req)
{
	struct sl_res_path p;
	struct sl_error e;

	if (req->too_large) {
		char msg[128];
		snprintf(msg, sizeof(msg), "The request body is larger than %u bytes.",
			 SL_API_MAX_BODY);
		return sl_refuse_msg(conn, req, 413, "RequestEntityTooLarge", url, msg);
	}
	if (strncmp(url, "/sluice/", 8) == 0)
		return sl_sluice_endpoint(api, conn, url, method, req);
	if (sl_deploy_api_path(url)) {
		if (sl_check_api_version(conn, &e) != 0)
			return sl_refuse(conn, req, 400, &e, NULL);
		return sl_deployments(api, conn, url, method, req);
	}
	int rc = sl_res_path_parse(url, &p, &e);
	if (rc != 0)
		return sl_refuse(conn, req, rc == -ENAMETOOLONG ? 400 : MHD_HTTP_NOT_FOUND, &e, NULL);
	if (sl_check_api_version(conn, &e) != 0)
		return sl_refuse(conn, req, 400, &e, NULL);
	if (strcmp(method, "GET") == 0)
		return sl_get(api, conn, &p);
	if (strcmp(method, "PUT") == 0)
		return sl_put(api, conn, &p, req);
	if (strcmp(method, "DELETE") == 0)
		return sl_delete(api, conn, &p, req);
	return sl_refuse_msg(conn, req, 405, "MethodNotAllowed", url,
			     "Resources take GET, PUT and DELETE.");
}

static enum MHD_Result
sl_handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	  const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct sl_api *api = cls;
	struct sl_request *req = *con_cls;

	(void)version;
	if (req == NULL) {
		req = calloc(1, sizeof(*req));
		if (req == NULL)
			return MHD_NO;
		*con_cls = req;
		if (sl_is_change(method)) {
			const union MHD_ConnectionInfo *ci =
				MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
			sl_audit_peer(ci != NULL ? ci->connect_fd : -1, req->who, sizeof(req->who));
		}
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (req->too_large || req->len + n > SL_API_MAX_BODY) {
			req->too_large = 1;
			return MHD_YES;
		}
		if (req->len + n + 1 > req->cap) {
			size_t cap = (req->len + n + 1) * 2;
			char *b = realloc(req->body, cap);
			if (b == NULL)
				return MHD_NO;
			req->body = b;
			req->cap = cap;
		}
		memcpy(req->body + req->len, upload_data, n);
		req->len += n;
		req->body[req->len] = '\0';
		return MHD_YES;
	}
	req->start_us = sl_controller_now_us();
	enum MHD_Result ret = sl_dispatch(api, conn, url, method, req);
	if (sl_is_change(method))
		sl_audit_request(url, method, req);
	return ret;
}

/*
 * Percent-decoding of paths and query arguments, except "%2F": a slash
 * inside a resource name must not become a path separator (it stays
 * "%2F", which no valid name contains, so the request is refused as an
 * invalid name rather than addressing another resource).
 */
static size_t
sl_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *in = s, *out = s;

	(void)cls;
	(void)conn;
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
	return (size_t)(out - s);
}

static void
sl_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct sl_request *req = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (req != NULL) {
		free(req->body);
		free(req);
		*con_cls = NULL;
	}
}

/* libmicrohttpd's own complaints, as log lines of the api module. */
static void
sl_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	sl_log(SL_LOG_WARNING, "api", "libmicrohttpd: %s", msg);
}

static int
sl_mkdir_p(const char *dir)
{
	char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* A socket file nobody answers on is stale; one that answers belongs to a running sluiced. */
static int
sl_socket_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int used;

	if (fd < 0)
		return 0;
	used = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return used;
}

struct sl_api *
sl_api_start(const char *path, mode_t mode, struct sl_controller *ctl,
	     const struct sl_api_hooks *hooks, struct sl_error *err)
{
	struct sockaddr_un sa;
	struct sl_api *api;
	char dir[sizeof(sa.sun_path)];
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		sl_error_set(err, "ApiSocketFailed", path, "", "The socket path is too long.");
		errno = ENAMETOOLONG;
		return NULL;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	rc = sl_mkdir_p(dirname(dir));
	if (rc < 0) {
		sl_error_set(err, "ApiSocketFailed", path, "", "Cannot create the directory: %s.",
			     strerror(-rc));
		errno = -rc;
		return NULL;
	}
	if (sl_socket_in_use(&sa)) {
		sl_error_set(err, "ApiSocketInUse", path, "",
			     "Another process answers on %s (another sluiced?).", path);
		errno = EADDRINUSE;
		return NULL;
	}
	unlink(path);
	api = calloc(1, sizeof(*api));
	if (api == NULL)
		return NULL;
	api->ctl = ctl;
	if (hooks != NULL)
		api->hooks = *hooks;
	snprintf(api->path, sizeof(api->path), "%s", path);
	api->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (api->listen_fd < 0 || bind(api->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, mode) != 0 || listen(api->listen_fd, 64) != 0) {
		int errnum = errno;
		sl_error_set(err, "ApiSocketFailed", path, "", "Cannot listen on %s: %s.", path,
			     strerror(errnum));
		if (api->listen_fd >= 0)
			close(api->listen_fd);
		free(api);
		errno = errnum;
		return NULL;
	}
	api->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, sl_handle, api,
				    MHD_OPTION_EXTERNAL_LOGGER, sl_mhd_log, api, /* MHD wants it first */
				    MHD_OPTION_LISTEN_SOCKET, api->listen_fd,
				    MHD_OPTION_NOTIFY_COMPLETED, sl_completed, api,
				    MHD_OPTION_UNESCAPE_CALLBACK, sl_unescape, api,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
				    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
				    MHD_OPTION_END);
	if (api->mhd == NULL) {
		sl_error_set(err, "ApiSocketFailed", path, "", "libmicrohttpd did not start.");
		close(api->listen_fd);
		unlink(path);
		free(api);
		errno = EIO;
		return NULL;
	}
	return api;
}

int
sl_mhd_fd(struct MHD_Daemon *mhd)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD);
	return i != NULL ? i->epoll_fd : -1;
}

void
sl_mhd_run(struct MHD_Daemon *mhd, int rounds)
{
	MHD_UNSIGNED_LONG_LONG timeout;

	for (int i = 0; i < rounds; i++) {
		MHD_run(mhd);
		if (MHD_get_timeout(mhd, &timeout) != MHD_YES || timeout != 0)
			break;
	}
}

int
sl_api_fd(const struct sl_api *api)
{
	return sl_mhd_fd(api->mhd);
}

void
sl_api_run(struct sl_api *api)
{
	/* bounded, so traffic statistics and signals are still served */
	sl_mhd_run(api->mhd, 256);
}

void
sl_api_stop(struct sl_api *api)
{
	if (api == NULL)
		return;
	MHD_stop_daemon(api->mhd);
	sl_deploy_records_free(api->deploys);
	close(api->listen_fd);
	unlink(api->path);
	free(api);
}
