/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * deploy_scale.c: how an ARM template deployment's cost grows with the
 * number of resources it puts (sl_deploy.h), without sluiced: the steps
 * of a deployment timed apart, for a template of N load balancers made by
 * one copy loop, onto a controller with no state directory and no workers.
 *
 *   deploy_scale [--count N] [--shape lb|stack] [--groups G] [--runs R]
 *
 * Shapes (N at most 800, ARM's limit for a copy loop):
 *   lb     N load balancers "lb0".."lbN-1" with nothing in them (the
 *          template of tests/fuzz's 800-copy input)
 *   stack  a virtual network, N load balancers each with a frontend and a
 *          pool, and N network interfaces, NIC i a member of LB i's pool
 *          (and dependent on LB i)
 *
 * Each run deploys the template to resource groups rg1..rgG (default 1)
 * of a new controller, one after another (group g's addresses in
 * 10.g.0.0/16), so that the last deployment meets a document of the
 * others' resources; the last group's is timed twice: first (every
 * resource a Create), then again in Complete mode onto what the first
 * committed (every resource a NoChange). For each: sl_deploy_prepare(), sl_deploy_validate(), sl_deploy_whatif()
 * and sl_deploy_commit() (validation, compilation and a publication that
 * publishes nothing), timed in the process's CPU time
 * (CLOCK_PROCESS_CPUTIME_ID: on a shared machine, the time other processes
 * hold the CPU is not counted); the median of R runs (default 5) in
 * milliseconds is printed. Exit status 1 when a step is
 * refused or the what-if does not list every resource. Not part of the
 * test run.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sl_controller.h"
#include "sl_deploy.h"

#define STEPS 8
#define RUNS_MAX 101

static const char *const step_names[STEPS] = {
	"create: prepare", "create: validate", "create: what-if", "create: commit",
	"again (Complete): prepare", "again (Complete): validate", "again (Complete): what-if",
	"again (Complete): commit",
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void *
no_prepare(void *ctx, const struct sl_model *m, const struct sl_model_delta *delta,
	   struct sl_error *err)
{
	(void)m;
	(void)delta;
	(void)err;
	return ctx; /* non-NULL: prepared */
}

static void
no_publish(void *ctx, void *prepared)
{
	(void)ctx;
	(void)prepared;
}

static const char lb_template[] =
	"{\"parameters\": {\"net\": {\"type\": \"int\"}},"
	" \"resources\": [{\"type\": \"Microsoft.Network/loadBalancers\","
	" \"name\": \"[concat('lb', copyIndex())]\", \"copy\": {\"name\": \"lbs\", \"count\": %d}}]}";

/*
 * Addresses, with parameter net the group's number: frontend i is
 * 10.net.(i/200).(10+i%200), NIC i 10.net.(100+i/200).(10+i%200).
 */
#define NET_PREFIX "concat('10.', parameters('net'), '.')"
#define SUBNET_ID "resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 's')"
static const char stack_template[] =
	"{\"parameters\": {\"net\": {\"type\": \"int\"}},"
	" \"resources\": ["
	" {\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"v\", \"properties\": {"
	"   \"addressSpace\": {\"addressPrefixes\": [\"[concat(" NET_PREFIX ", '0.0/16')]\"]},"
	"   \"subnets\": [{\"name\": \"s\", \"properties\": {"
	"     \"addressPrefix\": \"[concat(" NET_PREFIX ", '0.0/16')]\"}}]}},"
	" {\"type\": \"Microsoft.Network/loadBalancers\", \"name\": \"[concat('lb', copyIndex())]\","
	"  \"copy\": {\"name\": \"lbs\", \"count\": %d}, \"sku\": {\"name\": \"Standard\"},"
	"  \"dependsOn\": [\"v\"], \"properties\": {"
	"   \"frontendIPConfigurations\": [{\"name\": \"fe\", \"properties\": {"
	"     \"privateIPAddress\": \"[concat(" NET_PREFIX ", div(copyIndex(), 200), '.', add(10, mod(copyIndex(), 200)))]\","
	"     \"subnet\": {\"id\": \"[" SUBNET_ID "]\"}}}],"
	"   \"backendAddressPools\": [{\"name\": \"pool\"}]}},"
	" {\"type\": \"Microsoft.Network/networkInterfaces\", \"name\": \"[concat('nic', copyIndex())]\","
	"  \"copy\": {\"name\": \"nics\", \"count\": %d},"
	"  \"dependsOn\": [\"[resourceId('Microsoft.Network/loadBalancers', concat('lb', copyIndex()))]\"],"
	"  \"properties\": {"
	"   \"ipConfigurations\": [{\"name\": \"ip\", \"properties\": {"
	"     \"privateIPAddress\": \"[concat(" NET_PREFIX ", add(100, div(copyIndex(), 200)), '.', add(10, mod(copyIndex(), 200)))]\","
	"     \"subnet\": {\"id\": \"[" SUBNET_ID "]\"},"
	"     \"loadBalancerBackendAddressPools\": [{\"id\": \"[concat(resourceId('Microsoft.Network/loadBalancers',"
	" concat('lb', copyIndex())), '/backendAddressPools/pool')]\"}]}}]}}]}";

static int
fail(const char *what, const struct sl_deploy_outcome *o)
{
	char *e = cJSON_PrintUnformatted(o->error);

	fprintf(stderr, "deploy_scale: %s refused: %s\n", what, e != NULL ? e : "?");
	cJSON_free(e);
	return -1;
}

/* Does the what-if list `want` changes, each of changeType `type`? */
static int
check_changes(const cJSON *changes, int want, const char *type)
{
	const cJSON *c;
	int n = 0;

	cJSON_ArrayForEach(c, changes) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "changeType");
		if (!cJSON_IsString(t) || strcmp(t->valuestring, type) != 0) {
			fprintf(stderr, "deploy_scale: a change is not %s\n", type);
			return -1;
		}
		n++;
	}
	if (n != want) {
		fprintf(stderr, "deploy_scale: %d changes, not %d\n", n, want);
		return -1;
	}
	return 0;
}

/* What one deployment is: its group (1..G), its template and its mode; what it should answer. */
struct deployment {
	int group;
	const cJSON *tmpl;
	enum sl_deploy_mode mode;
	int want;           /* changes of what-if */
	const char *change; /* their changeType */
};

/* One deployment, its four steps timed into t[0..3]. */
static int
deploy_once(struct sl_controller *c, const struct deployment *d, double *t)
{
	char rg[16], params[64];

	snprintf(rg, sizeof(rg), "rg%d", d->group);
	snprintf(params, sizeof(params), "{\"net\": {\"value\": %d}}", d->group);
	cJSON *p = cJSON_Parse(params);
	struct sl_deploy_request rq = {"s", rg, "scale", d->mode, d->tmpl, p, false};
	struct sl_deploy_outcome o;
	double t0 = now_ms();
	int rc = -1;

	if (sl_deploy_prepare(c->doc, &rq, &o) != 0) {
		fail("prepare", &o);
		goto out;
	}
	t[0] = now_ms() - t0;
	t0 = now_ms();
	if (sl_deploy_validate(&rq, &o) != 0) {
		fail("validate", &o);
		goto out;
	}
	t[1] = now_ms() - t0;
	t0 = now_ms();
	cJSON *changes = sl_deploy_whatif(c->doc, &rq, &o);
	t[2] = now_ms() - t0;
	rc = check_changes(changes, d->want, d->change);
	cJSON_Delete(changes);
	if (rc != 0)
		goto out;
	t0 = now_ms();
	rc = sl_deploy_commit(c, &rq, &o, 0);
	t[3] = now_ms() - t0;
	if (rc != 0)
		fail("commit", &o);
out:
	sl_deploy_outcome_free(&o);
	cJSON_Delete(p);
	return rc;
}

static int
run_once(const cJSON *tmpl, int resources, int groups, double *t)
{
	static int prepared;
	const struct sl_apply_ops ops = {no_prepare, no_publish, &prepared};
	struct sl_controller c;
	struct sl_error e;
	int rc;

	if (sl_controller_init(&c, NULL, NULL, &ops, &e) != 0) {
		fprintf(stderr, "deploy_scale: %s\n", e.message);
		return -1;
	}
	/* each group's resources Created, what-if Ignoring none: another group's are not listed */
	struct deployment d = {1, tmpl, SL_DEPLOY_INCREMENTAL, resources, "Create"};
	for (rc = 0; rc == 0 && d.group <= groups; d.group++)
		rc = deploy_once(&c, &d, t);
	d.group = groups;
	d.mode = SL_DEPLOY_COMPLETE;
	d.change = "NoChange";
	if (rc == 0)
		rc = deploy_once(&c, &d, t + 4);
	sl_controller_fini(&c);
	return rc;
}

int
main(int argc, char **argv)
{
	static double t[STEPS][RUNS_MAX];
	const char *shape = "lb";
	int count = 800, runs = 5, groups = 1;
	char text[8192];

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--count") == 0)
			count = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--shape") == 0)
			shape = argv[i + 1];
		else if (strcmp(argv[i], "--runs") == 0)
			runs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--groups") == 0)
			groups = atoi(argv[i + 1]);
	}
	if (count < 1 || count > 800 || runs < 1 || runs > RUNS_MAX || groups < 1 ||
	    groups > 250 || (strcmp(shape, "lb") != 0 && strcmp(shape, "stack") != 0)) {
		fprintf(stderr, "usage: deploy_scale [--count 1..800] [--shape lb|stack] "
			"[--groups 1..250] [--runs 1..%d]\n", RUNS_MAX);
		return 2;
	}
	bool stack = strcmp(shape, "stack") == 0;
	if (stack)
		snprintf(text, sizeof(text), stack_template, count, count);
	else
		snprintf(text, sizeof(text), lb_template, count);
	cJSON *tmpl = cJSON_Parse(text);
	if (tmpl == NULL)
		return 1;
	int resources = stack ? 2 * count + 1 : count;
	for (int r = 0; r < runs; r++) {
		double one[STEPS];
		if (run_once(tmpl, resources, groups, one) != 0) {
			cJSON_Delete(tmpl);
			return 1;
		}
		for (int s = 0; s < STEPS; s++)
			t[s][r] = one[s];
	}
	cJSON_Delete(tmpl);
	printf("%s, %d resources, group %d of %d, median of %d runs, CPU ms\n", shape, resources,
	       groups, groups, runs);
	for (int s = 0; s < STEPS; s++) {
		qsort(t[s], (size_t)runs, sizeof(double), cmp_double);
		printf("  %-28s %10.2f\n", step_names[s], t[s][runs / 2]);
	}
	return 0;
}
