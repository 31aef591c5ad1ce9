/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_incr.c: what validating one change to a pool or a rule costs in place
 * (sl_model_apply_change(), sl_config_incr.h) beside validating the whole
 * document (sl_config_from_json()), on a configuration file.
 *
 *   ctl_incr CONFIG.json [--changes N] [--whole N]
 *
 * Typically the configuration of tests/bench/ctl_scale.py at Azure
 * Standard's limits on one load balancer (600 frontends, 1,500 rules, 300
 * pools of 60 addresses):
 *
 *   /usr/bin/python3 -c 'import json, sys; sys.path.insert(0, "tests/bench");
 *     import ctl_scale; json.dump(ctl_scale.config(18000, 1), sys.stdout)' > ctl18k.json
 *   build/tests/bench/ctl_incr ctl18k.json
 *
 * Timed with CLOCK_MONOTONIC, in microseconds:
 *   whole      sl_config_from_json() of the document, --whole times (default 5)
 *   pool PUT   N times (default 200): one pool of the first load balancer
 *              (index 7i mod pools) replaced by its own addresses with the
 *              lowest bit flipped, then back (every change is real):
 *              sl_doc_put() and sl_model_apply_change() +
 *              sl_model_undo_free(), separately
 *   rule PUT   N times: one rule (index 7i mod rules) replaced with
 *              idleTimeoutInMinutes 5, then without
 * Then the model changed in place must equal the whole validation of the
 * document (sl_model_equal()); exit status 1 when not, or when any change
 * is refused. Not part of the test run.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sl_config.h"
#include "sl_config_incr.h"
#include "sl_dynamic_ip.h"
#include "sl_json.h"
#include "sl_resource.h"

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double *v, uint32_t n, double q)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(uint32_t)(q / 100.0 * (n - 1) + 0.5)];
}

static void
report(const char *what, double *v, uint32_t n)
{
	double mx;

	if (n == 0)
		return;
	mx = pct(v, n, 100);
	printf("  %-44s p50 %9.1f  p99 %9.1f  max %9.1f\n", what, pct(v, n, 50), pct(v, n, 99), mx);
}

/* The stored child as a PUT body, with every address's lowest bit flipped when flip. */
static cJSON *
pool_body(const cJSON *stored, bool flip)
{
	cJSON *b = cJSON_Duplicate(stored, 1), *a;
	struct sl_ip_addr ip;
	char text[64];

	cJSON_ArrayForEach(a, cJSON_GetObjectItem(cJSON_GetObjectItem(b, "properties"),
						  "loadBalancerBackendAddresses")) {
		cJSON *p = cJSON_GetObjectItem(a, "properties");
		const char *s = sl_json_member_string(p, "ipAddress");

		if (!flip || s == NULL || sl_ip_addr_parse(s, &ip, NULL) < 0)
			continue;
		ip.bytes[15] ^= 1;
		sl_ip_addr_format(&ip, text, sizeof(text));
		cJSON_ReplaceItemInObject(p, "ipAddress", cJSON_CreateString(text));
	}
	return b;
}

static cJSON *
rule_body(const cJSON *stored, bool idle)
{
	cJSON *b = cJSON_Duplicate(stored, 1), *p = cJSON_GetObjectItem(b, "properties");

	cJSON_DeleteItemFromObject(p, "idleTimeoutInMinutes");
	if (idle)
		cJSON_AddNumberToObject(p, "idleTimeoutInMinutes", 5);
	return b;
}

/* One change, timed: 0, or -1 when refused. */
static int
change(cJSON *doc, struct sl_model *m, const char *url, const cJSON *body, double *t_put,
       double *t_apply)
{
	struct sl_model_undo *u;
	struct sl_res_path p;
	struct sl_error err;
	bool created;
	double t0, t1, t2;
	int http, rc;

	if (sl_res_path_parse(url, &p, &err) < 0)
		return -1;
	t0 = now_us();
	rc = sl_doc_put(doc, &p, body, &created, &http, &err);
	t1 = now_us();
	if (rc == 0)
		rc = sl_model_apply_change(m, doc, &p, false, &u, &err);
	if (rc == 0)
		sl_model_undo_free(u);
	t2 = now_us();
	*t_put = t1 - t0;
	*t_apply = t2 - t1;
	if (rc != 0)
		fprintf(stderr, "PUT %s: %d %s: %s\n", url, rc, err.code, err.message);
	return rc == 0 ? 0 : -1;
}

static int
run(cJSON *doc, uint32_t n_changes, uint32_t n_whole)
{
	const cJSON *lb = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "loadBalancers"), 0);
	const cJSON *props = cJSON_GetObjectItem(lb, "properties");
	const cJSON *pools = cJSON_GetObjectItem(props, "backendAddressPools");
	const cJSON *rules = cJSON_GetObjectItem(props, "loadBalancingRules");
	double *put = calloc(n_changes + 1, sizeof(double));
	double *apply = calloc(n_changes + 1, sizeof(double));
	double *whole = calloc(n_whole + 1, sizeof(double));
	struct sl_model *m = NULL, *w = NULL;
	char url[1024], why[256], lb_id[512];
	struct sl_error err;
	uint32_t i, addrs = 0, failed = 0;
	int rc = 1;

	if (put == NULL || apply == NULL || whole == NULL || lb == NULL)
		goto out;
	snprintf(lb_id, sizeof(lb_id), "%s", sl_json_member_string(lb, "id"));
	for (i = 0; i < n_whole; i++) {
		double t0 = now_us();

		sl_model_free(m);
		m = sl_config_from_json(doc, NULL, &err);
		whole[i] = now_us() - t0;
		if (m == NULL) {
			fprintf(stderr, "the configuration is refused: %s: %s\n", err.code, err.message);
			goto out;
		}
	}
	for (i = 0; i < m->lbs[0].n_pools; i++)
		addrs += m->lbs[0].pools[i].n_addresses;
	printf("first load balancer: %u frontends, %u pools, %u addresses, %u rules\n",
	       m->lbs[0].n_frontends, m->lbs[0].n_pools, addrs, m->lbs[0].n_rules);
	report("whole: sl_config_from_json", whole, n_whole);

	for (i = 0; i < n_changes && cJSON_GetArraySize(pools) > 0; i++) {
		const cJSON *stored = cJSON_GetArrayItem(pools, (int)(i * 7 % cJSON_GetArraySize(pools)));
		const char *name = sl_json_member_string(stored, "name");
		cJSON *body = pool_body(stored, (i / cJSON_GetArraySize(pools)) % 2 == 0);

		snprintf(url, sizeof(url), "%s/backendAddressPools/%s", lb_id, name);
		failed += change(doc, m, url, body, &put[i], &apply[i]) < 0;
		cJSON_Delete(body);
	}
	report("pool PUT: sl_doc_put", put, i);
	report("pool PUT: sl_model_apply_change", apply, i);
	for (i = 0; i < n_changes && cJSON_GetArraySize(rules) > 0; i++) {
		const cJSON *stored = cJSON_GetArrayItem(rules, (int)(i * 7 % cJSON_GetArraySize(rules)));
		const char *name = sl_json_member_string(stored, "name");
		cJSON *body = rule_body(stored, sl_json_member(sl_json_member(stored, "properties"),
							       "idleTimeoutInMinutes") == NULL);

		snprintf(url, sizeof(url), "%s/loadBalancingRules/%s", lb_id, name);
		failed += change(doc, m, url, body, &put[i], &apply[i]) < 0;
		cJSON_Delete(body);
	}
	report("rule PUT: sl_doc_put", put, i);
	report("rule PUT: sl_model_apply_change", apply, i);

	w = sl_config_from_json(doc, NULL, &err);
	if (w == NULL || !sl_model_equal(m, w, why, sizeof(why))) {
		fprintf(stderr, "in place != whole: %s\n", w == NULL ? err.message : why);
		goto out;
	}
	printf("in place == whole after the changes; %u refused\n", failed);
	rc = failed > 0;
out:
	sl_model_free(m);
	sl_model_free(w);
	free(put);
	free(apply);
	free(whole);
	return rc;
}

int
main(int argc, char **argv)
{
	uint32_t n_changes = 200, n_whole = 5;
	struct sl_error err;
	const char *path = NULL;
	size_t len;
	char *text;
	cJSON *doc;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--changes") == 0 && i + 1 < argc)
			n_changes = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--whole") == 0 && i + 1 < argc)
			n_whole = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (path == NULL && argv[i][0] != '-')
			path = argv[i];
		else
			n_whole = 0; /* usage */
	}
	if (path == NULL || n_whole == 0) {
		fprintf(stderr, "usage: ctl_incr CONFIG.json [--changes N] [--whole N]\n");
		return 2;
	}
	text = sl_file_read(path, SL_CONFIG_MAX_FILE_SIZE, &len, "ConfigFileUnreadable", &err);
	if (text == NULL) {
		fprintf(stderr, "%s: %s\n", path, err.message);
		return 1;
	}
	doc = sl_json_parse(text, len, path, &err);
	free(text);
	if (doc == NULL || sl_config_assign_dynamic_ips(doc, &err) < 0) {
		fprintf(stderr, "%s: %s\n", path, err.message);
		cJSON_Delete(doc);
		return 1;
	}
	rc = run(doc, n_changes, n_whole);
	cJSON_Delete(doc);
	return rc;
}
