/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_rest.c: libFuzzer target for the REST API's request handler
 * (sl_api_handler.h), driven without a socket, over a real controller.
 *
 * The input is a request written as HTTP without a version:
 *   METHOD SP TARGET LF        (TARGET: the path, then '?' and the query)
 *   NAME: VALUE LF ...         headers, up to an empty line
 *   BODY                       everything after it
 * A line may end in CR LF. An input without the first LF is all method.
 *
 * The controller is a real one (sl_controller.h, no state directory) over
 * a small configuration (a virtual network, a network interface, a load
 * balancer with a probe, pools and rules); its prepare hook compiles every
 * model with sl_compile() for one port, so a change the API accepts goes
 * all the way to a snapshot. After an input that changed the configuration
 * the seed configuration is committed again, and each input gets a handler
 * of its own (its deployment records start empty): inputs do not depend on
 * each other. sluiced's hooks (counters, probes, health, the service state)
 * are fakes of fixed answers. The limits are sluiced's defaults with the request rate off
 * and the body limit 1 MiB (the body is never over 64 KiB here).
 *
 * Checked: every answer has a status from 200 to 599; an answer with a body
 * has a content type and its length, and a JSON one parses; an error answer
 * (400 and over) is an ARM error with a code and a message; 429 carries a
 * Retry-After. A refused request leaves the configuration as it was. A
 * broken invariant aborts (a libFuzzer crash); ASan and UBSan watch the rest.
 * With SL_FUZZ_REST_SHOW set, each answer's status and start are printed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sl_api_handler.h"
#include "sl_compile.h"
#include "sl_controller.h"
#include "sl_fuzz.h"
#include "sl_id_registry.h"
#include "sl_log.h"
#include "sl_snapshot.h"

#define SL_FUZZ_INPUT_MAX (64 * 1024)
#define SL_FUZZ_HEADERS_MAX 64
#define ARM "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network"

static const char sl_fuzz_seed_config[] =
	"{\"settings\":{\"maglevTableSize\":257,\"maxAddressesPerPool\":8},"
	"\"virtualNetworks\":[{\"name\":\"vnet1\",\"id\":\"" ARM "/virtualNetworks/vnet1\","
	"\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.0.0.0/16\",\"fd00::/48\"]},"
	"\"subnets\":[{\"name\":\"s4\",\"properties\":{\"addressPrefix\":\"10.0.1.0/24\"}}]}}],"
	"\"networkInterfaces\":[{\"name\":\"nic0\",\"id\":\"" ARM "/networkInterfaces/nic0\","
	"\"properties\":{\"ipConfigurations\":[{\"name\":\"ip1\",\"properties\":{"
	"\"privateIPAddress\":\"10.0.1.4\",\"subnet\":{\"id\":\"" ARM
	"/virtualNetworks/vnet1/subnets/s4\"}}}]}}],"
	"\"loadBalancers\":[{\"name\":\"lb1\",\"id\":\"" ARM "/loadBalancers/lb1\","
	"\"sku\":{\"name\":\"Standard\"},\"properties\":{"
	"\"frontendIPConfigurations\":[{\"name\":\"fe0\",\"properties\":"
	"{\"privateIPAddress\":\"192.0.2.10\"}}],"
	"\"probes\":[{\"name\":\"probe1\",\"properties\":{\"protocol\":\"Tcp\",\"port\":80}}],"
	"\"backendAddressPools\":[{\"name\":\"pool0\",\"properties\":"
	"{\"loadBalancerBackendAddresses\":[{\"name\":\"a0\",\"properties\":{\"ipAddress\":"
	"\"10.0.0.4\",\"virtualNetwork\":{\"id\":\"" ARM "/virtualNetworks/vnet1\"}}}]}},"
	"{\"name\":\"nicpool\",\"properties\":{}}],"
	"\"loadBalancingRules\":[{\"name\":\"r0\",\"properties\":{\"frontendIPConfiguration\":"
	"{\"id\":\"" ARM "/loadBalancers/lb1/frontendIPConfigurations/fe0\"},"
	"\"backendAddressPool\":{\"id\":\"" ARM "/loadBalancers/lb1/backendAddressPools/pool0\"},"
	"\"probe\":{\"id\":\"" ARM "/loadBalancers/lb1/probes/probe1\"},"
	"\"protocol\":\"Tcp\",\"frontendPort\":80,\"backendPort\":8080}}]}}]}";

struct sl_fuzz_world {
	struct sl_controller ctl;
	bool in_service; /* the service hooks' state */
	struct sl_port_info port;
	struct sl_id_registry *rule_ids, *backend_ids;
	struct sl_snapshot *published;
	uint64_t generation;
	uint64_t seed_commits; /* ctl.commits when the seed configuration was last committed */
	cJSON *seed_doc;       /* the seed configuration as the controller holds it */
};

static struct sl_fuzz_world *world;

/* The hooks sluiced gives the API, faked: fixed texts, every member healthy, a service state. */
static char *
sl_fuzz_stats_json(void *ctx)
{
	(void)ctx;
	return strdup("{\"rx\": 0, \"tx\": 0}\n");
}

static char *
sl_fuzz_stats_prometheus(void *ctx)
{
	(void)ctx;
	return strdup("# TYPE sluice_rx_packets_total counter\nsluice_rx_packets_total 0\n");
}

static cJSON *
sl_fuzz_probe_status(void *ctx)
{
	(void)ctx;
	return cJSON_CreateArray();
}

static char *
sl_fuzz_neighbours_json(void *ctx)
{
	(void)ctx;
	return strdup("{\"value\": []}\n");
}

static int
sl_fuzz_healthy(void *ctx, const char *lb, const char *pool, const char *address)
{
	(void)ctx;
	return lb[0] != '\0' && pool[0] != '\0' && address[0] != '\0';
}

static cJSON *
sl_fuzz_service(void *ctx)
{
	const struct sl_fuzz_world *w = ctx;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "state", w->in_service ? "InService" : "OutOfService");
	return o;
}

static int
sl_fuzz_set_service(void *ctx, const cJSON *body, struct sl_error *err)
{
	struct sl_fuzz_world *w = ctx;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(body, "state");

	if (cJSON_IsString(st) && strcmp(st->valuestring, "InService") == 0)
		w->in_service = true;
	else if (cJSON_IsString(st) && strcmp(st->valuestring, "OutOfService") == 0)
		w->in_service = false;
	else {
		sl_error_set(err, "InvalidServiceState", "state", "",
			     "Expected {\"state\": \"InService\"} or {\"state\": \"OutOfService\"}.");
		return 400;
	}
	return 0;
}

static uint64_t
sl_fuzz_generation(void *ctx)
{
	return ((const struct sl_fuzz_world *)ctx)->generation;
}

/* The audit lines of a million changes: formatted (sl_log runs), then dropped. */
static void
sl_fuzz_log_sink(int level, const char *module, const char *text, void *ctx)
{
	(void)level;
	(void)module;
	(void)text;
	(void)ctx;
}

static void *
sl_fuzz_prepare(void *ctx, const struct sl_model *m, const struct sl_model_delta *delta,
		struct sl_error *err)
{
	struct sl_fuzz_world *w = ctx;

	(void)delta;
	return sl_compile(m, &w->port, 1, w->rule_ids, w->backend_ids, ++w->generation, err);
}

static void
sl_fuzz_publish(void *ctx, void *prepared)
{
	struct sl_fuzz_world *w = ctx;

	sl_snapshot_free(w->published);
	w->published = prepared;
}

static void
sl_fuzz_commit_seed(struct sl_fuzz_world *w)
{
	struct sl_error err;
	char line[1400];
	cJSON *doc = cJSON_Parse(sl_fuzz_seed_config);

	if (doc == NULL || sl_controller_commit(&w->ctl, doc, 0, &err) != 0) {
		fprintf(stderr, "fuzz_rest: the seed configuration: %s\n",
			doc == NULL ? "not JSON" : sl_error_format(&err, line, sizeof(line)));
		abort();
	}
	w->seed_commits = w->ctl.commits;
	if (w->seed_doc == NULL)
		w->seed_doc = cJSON_Duplicate(w->ctl.doc, 1);
	SL_FUZZ_CHECK(w->seed_doc != NULL);
}

static struct sl_fuzz_world *
sl_fuzz_world_make(void)
{
	struct sl_fuzz_world *w = calloc(1, sizeof(*w));
	struct sl_apply_ops ops = {sl_fuzz_prepare, sl_fuzz_publish, NULL};
	struct sl_error err;
	enum sl_ip_family fam;

	SL_FUZZ_CHECK(w != NULL);
	sl_log_set_sink(sl_fuzz_log_sink, NULL);
	SL_FUZZ_CHECK(sl_mac_parse("02:00:00:00:00:01", &w->port.mac) == 0);
	SL_FUZZ_CHECK(sl_ip_addr_parse("10.0.0.2", &w->port.ipv4, &fam) == 0);
	w->port.has_ipv4 = 1;
	w->port.mtu = 1500;
	w->rule_ids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	w->backend_ids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	SL_FUZZ_CHECK(w->rule_ids != NULL && w->backend_ids != NULL);
	ops.ctx = w;
	SL_FUZZ_CHECK(sl_controller_init(&w->ctl, NULL, NULL, &ops, &err) == 0);
	sl_fuzz_commit_seed(w);
	return w;
}

/* The next line of [*p, end) (without its LF, or CR LF); NULL past the end. */
static char *
sl_fuzz_line(char **p, char *end)
{
	char *s = *p, *lf;

	if (s >= end)
		return NULL;
	lf = memchr(s, '\n', (size_t)(end - s));
	if (lf == NULL) {
		*p = end;
		return s; /* the buffer is NUL-terminated at end */
	}
	*lf = '\0';
	if (lf > s && lf[-1] == '\r')
		lf[-1] = '\0';
	*p = lf + 1;
	return s;
}

static void
sl_fuzz_check_answer(const struct sl_api_resp *r)
{
	SL_FUZZ_CHECK(r->status >= 200 && r->status <= 599);
	SL_FUZZ_CHECK((r->body == NULL) == (r->content_type == NULL));
	if (r->status == 429)
		SL_FUZZ_CHECK(r->retry_after > 0);
	if (r->body == NULL) {
		SL_FUZZ_CHECK(r->status < 400);
		return;
	}
	SL_FUZZ_CHECK(strlen(r->body) == r->len);
	if (strncmp(r->content_type, "application/json", 16) != 0)
		return;
	cJSON *j = cJSON_Parse(r->body);
	SL_FUZZ_CHECK(j != NULL);
	if (r->status >= 400) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
		SL_FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "code")));
		SL_FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")));
	}
	cJSON_Delete(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_api_header headers[SL_FUZZ_HEADERS_MAX];
	struct sl_api_limits limits;
	struct sl_api_resp resp;
	struct sl_api_req rq = {0};
	struct sl_api_handler *h;
	size_t n_headers = 0;
	char *buf, *p, *end, *line, *target;

	if (size > SL_FUZZ_INPUT_MAX)
		return 0;
	if (world == NULL)
		world = sl_fuzz_world_make();
	buf = malloc(size + 1);
	SL_FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, size);
	buf[size] = '\0';
	p = buf;
	end = buf + size;
	line = sl_fuzz_line(&p, end);
	rq.method = line != NULL ? line : "";
	target = line != NULL ? strchr(line, ' ') : NULL;
	if (target != NULL) {
		*target++ = '\0';
		char *q = strchr(target, '?');
		if (q != NULL)
			*q++ = '\0';
		rq.path = target;
		rq.query = q;
	} else {
		rq.path = "/";
	}
	while ((line = sl_fuzz_line(&p, end)) != NULL && line[0] != '\0') {
		char *colon = strchr(line, ':');
		if (n_headers == SL_FUZZ_HEADERS_MAX || colon == NULL)
			continue;
		*colon = '\0';
		headers[n_headers++] = (struct sl_api_header){line, colon + 1 + (colon[1] == ' ')};
	}
	rq.headers = headers;
	rq.n_headers = n_headers;
	rq.body = p < end ? p : NULL;
	rq.len = p < end ? (size_t)(end - p) : 0;
	rq.body_seen = rq.len;
	rq.uid = 0;
	rq.who = "uid 0 pid 1 (fuzz_rest)";
	rq.start_us = sl_controller_now_us();

	sl_api_limits_default(&limits);
	limits.rate = 0;
	limits.max_body_bytes = 1u << 20;
	const struct sl_api_hooks hooks = {
		.stats_json = sl_fuzz_stats_json, .stats_prometheus = sl_fuzz_stats_prometheus,
		.probe_status = sl_fuzz_probe_status, .neighbours_json = sl_fuzz_neighbours_json,
		.healthy = sl_fuzz_healthy, .service = sl_fuzz_service,
		.set_service = sl_fuzz_set_service, .generation = sl_fuzz_generation, .ctx = world,
	};
	world->in_service = true;
	h = sl_api_handler_create(&world->ctl, &hooks, &limits);
	SL_FUZZ_CHECK(h != NULL);
	sl_api_handle(h, &rq, &resp);
	sl_fuzz_check_answer(&resp);
	if (getenv("SL_FUZZ_REST_SHOW") != NULL) /* to see what the seeds get answered */
		fprintf(stderr, "fuzz_rest: %s %s: %u %.400s\n", rq.method, rq.path, resp.status,
			resp.body != NULL ? resp.body : "");
	/* every input starts from the seed configuration: a refusal leaves it so */
	if (resp.status >= 400 && world->ctl.commits == world->seed_commits)
		SL_FUZZ_CHECK(cJSON_Compare(world->ctl.doc, world->seed_doc, 1));
	sl_api_resp_free(&resp);
	sl_api_handler_free(h);
	if (world->ctl.commits != world->seed_commits)
		sl_fuzz_commit_seed(world);
	free(buf);
	return 0;
}
