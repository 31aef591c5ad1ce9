/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * compile_delta.c: what compiling one pool change costs, whole
 * (sl_compile_cached()) and incrementally (sl_compile_delta()).
 *
 *   compile_delta CONFIG [--changes N] [--no-check]
 *
 * CONFIG is a configuration document (tests/bench/ctl_scale.py
 * --write-config FILE writes the one ctl_scale.py runs sluiced with). The
 * compilation sees one port as ctl_scale.py's sluiced does (an IPv4 address,
 * a gateway with a static neighbour, no neighbour discovery) and a health
 * hook that finds every backend up. Then N times, as ctl_scale.py does over
 * REST: pool (i * 7) mod P of the first load balancer (P its pools) gets
 * the member set ctl_scale.py's change i gives it (the same names, the
 * addresses moved by 1 + i mod 2), the edited document is validated
 * (untimed), and the new model is compiled twice from the same start:
 *   whole        sl_compile_cached() with its own registries and table cache
 *   incremental  sl_compile_delta() from the previous incremental snapshot,
 *                with registries and a table cache of its own
 * and each side frees its previous snapshot (what sluiced's publication
 * does once the workers moved on), timed too. Unless --no-check, the two
 * snapshots must be equal (sl_test_snapshot_diff) and the incremental one
 * must be incremental: else a message on stderr and exit status 1.
 * Microseconds, p50, p99 and max, on stdout: wall-clock time, and the
 * thread's CPU time (CLOCK_THREAD_CPUTIME_ID, which waits for a busy
 * machine's other work leave out) of the compilations. Exit status 2: bad usage or an
 * unreadable or refused CONFIG.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sl_compile.h"
#include "sl_config.h"
#include "sl_json.h"
#include "sl_test_snapshot.h"

#define SL_BENCH_PER_POOL 62 /* ctl_scale.py: the address numbers one pool owns */

struct side {
	struct sl_id_registry *rids, *bids;
	struct sl_table_cache *tables;
	struct sl_snapshot *snap;
	double *compile_us, *compile_cpu_us, *free_us;
};

static double
clock_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double
now_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

/* This thread's CPU time: what the work cost, without the waits of a busy machine. */
static double
cpu_us(void)
{
	return clock_us(CLOCK_THREAD_CPUTIME_ID);
}

static int
never_down(void *ctx, const char *lb, const char *pool, const char *address)
{
	(void)ctx;
	(void)lb;
	(void)pool;
	(void)address;
	return 0;
}

/* ctl_scale.py's addr(lb, i). */
static void
address(char *buf, size_t len, uint32_t lb, uint32_t i)
{
	uint32_t n = lb * 262144 + i;

	snprintf(buf, len, "10.%u.%u.%u", 64 + n / 65536, (n / 256) % 256, n % 256);
}

/* Give pool p of load balancer 0 in doc change i's addresses (ctl_scale.py's pool_addresses). */
static void
move_pool(cJSON *doc, uint32_t p, uint32_t i)
{
	cJSON *lb = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "loadBalancers"), 0);
	cJSON *pool = cJSON_GetArrayItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(lb, "properties"), "backendAddressPools"),
		(int)p);
	cJSON *members = cJSON_GetObjectItem(cJSON_GetObjectItem(pool, "properties"),
					     "loadBalancerBackendAddresses");
	cJSON *a;
	uint32_t j = 0;
	char ip[32];

	cJSON_ArrayForEach(a, members) {
		address(ip, sizeof(ip), 0, p * SL_BENCH_PER_POOL + j++ + 1 + i % 2);
		cJSON_ReplaceItemInObject(cJSON_GetObjectItem(a, "properties"), "ipAddress",
					  cJSON_CreateString(ip));
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	printf("  %-32s%9.0f%9.0f%9.0f\n", what, v[n / 2],
	       v[(int)((double)(n - 1) * 0.99 + 0.5)], v[n - 1]);
}

static cJSON *
load(const char *path)
{
	struct sl_error err;
	size_t len;
	char *text = sl_file_read(path, SL_CONFIG_MAX_FILE_SIZE, &len, "ConfigFileUnreadable", &err);
	cJSON *doc = text != NULL ? sl_json_parse(text, len, path, &err) : NULL;

	free(text);
	if (doc == NULL)
		fprintf(stderr, "%s: %s: %s\n", path, err.code, err.message);
	return doc;
}

static int
side_init(struct side *s, int changes)
{
	s->rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	s->bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	s->tables = sl_table_cache_create();
	s->compile_us = calloc((size_t)changes, sizeof(double));
	s->compile_cpu_us = calloc((size_t)changes, sizeof(double));
	s->free_us = calloc((size_t)changes, sizeof(double));
	return s->rids && s->bids && s->tables && s->compile_us && s->compile_cpu_us && s->free_us ? 0
													   : -ENOMEM;
}

/* The port of ctl_scale.py's profile: 10.0.0.2, gateway 10.0.0.1 with a static MAC. */
static struct sl_neighbour gateway_mac;

static struct sl_port_info
bench_port(void)
{
	struct sl_port_info p;

	memset(&p, 0, sizeof(p));
	sl_ip_addr_parse("10.0.0.2", &p.ipv4, NULL);
	sl_ip_addr_parse("10.0.0.1", &p.gateway_v4, NULL);
	p.has_ipv4 = 1;
	p.has_gateway_v4 = 1;
	p.mtu = 1500;
	p.mac.bytes[0] = 0x02;
	p.mac.bytes[5] = 0x02;
	gateway_mac.addr = p.gateway_v4;
	gateway_mac.mac.bytes[0] = 0x02;
	gateway_mac.mac.bytes[5] = 0x01;
	p.neighbours = &gateway_mac;
	p.n_neighbours = 1;
	return p;
}

struct run {
	cJSON *doc;
	struct sl_port_info port;
	struct sl_health_hook health;
	struct side whole, inc;
	uint32_t pools;
	int changes;
	bool check;
};

/* Change i: both compilations and frees; 0, or 1 with a message. */
static int
one_change(struct run *r, int i)
{
	struct sl_model_delta d = {.kind = SL_DELTA_POOL, .op = SL_DELTA_REPLACE, .lb = 0,
				   .idx = (uint32_t)(i * 7) % r->pools};
	struct sl_snapshot *w, *n;
	struct sl_model *m;
	struct sl_error err;
	char why[256];
	double t0, t1, c0, c1;

	move_pool(r->doc, d.idx, (uint32_t)i);
	m = sl_config_from_json(r->doc, NULL, &err);
	if (m == NULL) {
		fprintf(stderr, "change %d: %s: %s\n", i, err.code, err.message);
		return 1;
	}
	c0 = cpu_us();
	t0 = now_us();
	w = sl_compile_cached(m, &r->port, 1, r->whole.rids, r->whole.bids, r->whole.tables,
			      &r->health, (uint64_t)i + 2, &err);
	t1 = now_us();
	c1 = cpu_us();
	r->whole.compile_us[i] = t1 - t0;
	r->whole.compile_cpu_us[i] = c1 - c0;
	n = w == NULL ? NULL
		      : sl_compile_delta(m, r->inc.snap, &d, &r->port, 1, r->inc.rids, r->inc.bids,
					 r->inc.tables, &r->health, (uint64_t)i + 2, &err);
	r->inc.compile_us[i] = now_us() - t1;
	r->inc.compile_cpu_us[i] = cpu_us() - c1;
	sl_model_free(m);
	if (w == NULL || n == NULL) {
		fprintf(stderr, "change %d: %s: %s\n", i, err.code, err.message);
		return 1;
	}
	if (r->check && (!n->incremental || sl_test_snapshot_diff(n, w, why, sizeof(why)))) {
		fprintf(stderr, "change %d: %s\n", i, n->incremental ? why : "compiled whole");
		return 1;
	}
	t0 = now_us();
	sl_snapshot_free(r->whole.snap);
	t1 = now_us();
	sl_snapshot_free(r->inc.snap);
	r->inc.free_us[i] = now_us() - t1;
	r->whole.free_us[i] = t1 - t0;
	r->whole.snap = w;
	r->inc.snap = n;
	return 0;
}

static int
start(struct run *r, const char *path)
{
	struct sl_model *m;
	struct sl_error err;

	r->doc = load(path);
	if (r->doc == NULL)
		return 2;
	m = sl_config_from_json(r->doc, NULL, &err);
	if (m == NULL || m->n_lbs == 0 || m->lbs[0].n_pools == 0) {
		fprintf(stderr, "%s: %s\n", path, m == NULL ? err.message : "no pool to change");
		return 2;
	}
	r->pools = m->lbs[0].n_pools;
	r->port = bench_port();
	r->health = (struct sl_health_hook){.down = never_down};
	if (side_init(&r->whole, r->changes) < 0 || side_init(&r->inc, r->changes) < 0)
		return 2;
	r->whole.snap = sl_compile_cached(m, &r->port, 1, r->whole.rids, r->whole.bids,
					  r->whole.tables, &r->health, 1, &err);
	r->inc.snap = sl_compile_cached(m, &r->port, 1, r->inc.rids, r->inc.bids, r->inc.tables,
					&r->health, 1, &err);
	printf("%u rules, %u pools, %u backends; %d one-pool changes\n", r->whole.snap->n_rules,
	       r->whole.snap->n_pools, r->whole.snap->n_backends, r->changes);
	printf("  %-32s%9s%9s%9s\n", "microseconds", "p50", "p99", "max");
	sl_model_free(m);
	return 0;
}

int
main(int argc, char **argv)
{
	struct run r = {.changes = 100, .check = true};
	const char *path = NULL;
	bool bad = false;
	int rc = 0;

	for (int a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--changes") == 0 && a + 1 < argc)
			r.changes = atoi(argv[++a]);
		else if (strcmp(argv[a], "--no-check") == 0)
			r.check = false;
		else if (argv[a][0] != '-' && path == NULL)
			path = argv[a];
		else
			bad = true;
	}
	if (bad || path == NULL || r.changes < 1) {
		fprintf(stderr, "usage: compile_delta CONFIG [--changes N] [--no-check]\n");
		return 2;
	}
	rc = start(&r, path);
	for (int i = 0; rc == 0 && i < r.changes; i++)
		rc = one_change(&r, i);
	if (rc != 0)
		return rc;
	report("compile, whole", r.whole.compile_us, r.changes);
	report("compile, incremental", r.inc.compile_us, r.changes);
	report("compile CPU time, whole", r.whole.compile_cpu_us, r.changes);
	report("compile CPU time, incremental", r.inc.compile_cpu_us, r.changes);
	report("free previous, whole", r.whole.free_us, r.changes);
	report("free previous, incremental", r.inc.free_us, r.changes);
	return 0;
}
