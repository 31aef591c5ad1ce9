/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_controller_fast.c: the controller's fast path (sl_controller_change(),
 * sl_controller.h) over a real document, with apply hooks of the test's own
 * that record what they were given. A PUT or DELETE of a load balancer's
 * pool or rule must take the fast path (prepare gets a delta, one journal
 * record) and leave the model equal to the whole validation of the
 * document; a refused change must leave document and model as they were
 * and answer the whole validation's error; a PUT of what is there publishes
 * nothing; other resources take the whole path. A journal append that
 * really fails (the file size limit, the journal's descriptor made
 * read-only), a generation that cannot be written, and a prepare that
 * fails, each take everything back and publish the previous configuration
 * again. Then a seeded random sequence of changes (SL_FAST_CHANGES, default
 * 300; SL_FAST_SEED, default 1), with and without a state directory, each
 * checked as above, and the state directory, reopened, holding c->doc.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "sl_config.h"
#include "sl_config_incr.h"
#include "sl_controller.h"
#include "sl_dynamic_ip.h"
#include "sl_log.h"
#include "sl_resource.h"
#include "sl_store.h"
#include "sl_store_internal.h"

#define ARM "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network"
#define VNET1 ARM "/virtualNetworks/vnet1"
#define S4 VNET1 "/subnets/s4"
#define NIC0 ARM "/networkInterfaces/nic0"
#define LB1 ARM "/loadBalancers/lb1"
#define LB2 ARM "/loadBalancers/lb2"
#define LB3 ARM "/loadBalancers/lb3"
#define POOLS LB1 "/backendAddressPools/"
#define RULES LB1 "/loadBalancingRules/"

#define FE(n, ip) "{'name':'" n "','properties':{'privateIPAddress':'" ip "'}}"
#define A(n, ip) \
	"{'name':'" n "','properties':{'ipAddress':'" ip "','virtualNetwork':{'id':'" VNET1 "'}}}"
#define POOL(n, addrs) "{'name':'" n "','properties':{'loadBalancerBackendAddresses':[" addrs "]}}"
#define ADDRS(x) "{'properties':{'loadBalancerBackendAddresses':[" x "]}}"
#define REF(lb, coll, n) "{'id':'" lb "/" coll "/" n "'}"
#define RULE(lb, n, fe, pool, port)                                                        \
	"{'name':'" n "','properties':{'frontendIPConfiguration':"                           \
	REF(lb, "frontendIPConfigurations", fe) ",'backendAddressPool':"                      \
	REF(lb, "backendAddressPools", pool) ",'protocol':'Tcp','frontendPort':" port "}}"
#define RBODY(fe, pool, port)                                                              \
	"{'properties':{'frontendIPConfiguration':" REF(LB1, "frontendIPConfigurations", fe)  \
	",'backendAddressPool':" REF(LB1, "backendAddressPools", pool)                         \
	",'protocol':'Tcp','frontendPort':" port "}}"

/*
 * lb1: two IPv4 frontends, pool0 (two addresses) under rule r0, nicpool
 * (nic0's member) under rn, spare used by nothing; lb2 with its own pool and
 * rule; lb3 a frontend and no pool or rule list. At most 4 addresses a
 * pool, 12 a load balancer.
 */
static const char doc_base[] =
	"{'settings':{'maxAddressesPerPool':4,'maxAddressesPerLoadBalancer':12},"
	"'virtualNetworks':[{'name':'vnet1','id':'" VNET1 "','properties':{'addressSpace':"
	"{'addressPrefixes':['10.0.0.0/16','fd00::/48']},'subnets':[{'name':'s4','properties':"
	"{'addressPrefix':'10.0.1.0/24'}}]}}],"
	"'networkInterfaces':[{'name':'nic0','id':'" NIC0 "','properties':{'ipConfigurations':["
	"{'name':'ip1','properties':{'privateIPAddress':'10.0.1.4','subnet':{'id':'" S4 "'},"
	"'loadBalancerBackendAddressPools':[" REF(LB1, "backendAddressPools", "nicpool") "]}}]}}],"
	"'loadBalancers':["
	"{'name':'lb1','id':'" LB1 "','sku':{'name':'Standard'},'properties':{"
	"'frontendIPConfigurations':[" FE("fe0", "192.0.2.10") "," FE("fe1", "192.0.2.11") "],"
	"'probes':[{'name':'probe1','properties':{'protocol':'Tcp','port':80}}],"
	"'backendAddressPools':[" POOL("pool0", A("a0", "10.0.0.4") "," A("a1", "10.0.0.5")) ","
	POOL("nicpool", "") "," POOL("spare", A("s0", "10.0.0.9")) "],"
	"'loadBalancingRules':[" RULE(LB1, "r0", "fe0", "pool0", "80") ","
	RULE(LB1, "rn", "fe1", "nicpool", "80") "]}},"
	"{'name':'lb2','id':'" LB2 "','sku':{'name':'Standard'},'properties':{"
	"'frontendIPConfigurations':[" FE("fe0", "192.0.2.20") "],"
	"'backendAddressPools':[" POOL("p0", A("a0", "10.0.2.4")) "],"
	"'loadBalancingRules':[" RULE(LB2, "r0", "fe0", "p0", "80") "]}},"
	"{'name':'lb3','id':'" LB3 "','sku':{'name':'Standard'},'properties':{"
	"'frontendIPConfigurations':[" FE("fe0", "192.0.2.30") "]}}]}";

/* What the apply hooks were given. */
struct fake {
	unsigned prepared, published;
	uintptr_t last_token, last_published;
	bool last_delta;                /* the last prepare got a delta */
	struct sl_model_delta delta;    /* ...this one */
	const struct sl_model *expect;  /* when set: does the model prepared equal it? */
	bool matched;
	char why[256];
	bool fail;                      /* prepare refuses */
};

static void *
fake_prepare(void *ctx, const struct sl_model *m, const struct sl_model_delta *delta,
	     struct sl_error *err)
{
	struct fake *f = ctx;

	f->prepared++;
	f->last_delta = delta != NULL;
	if (delta != NULL)
		f->delta = *delta;
	if (f->expect != NULL)
		f->matched = sl_model_equal(m, f->expect, f->why, sizeof(f->why));
	if (f->fail) {
		sl_error_set(err, "SnapshotBuildFailed", "configuration", "", "Refused by the test.");
		return NULL;
	}
	f->last_token = f->prepared;
	return (void *)f->last_token;
}

static void
fake_publish(void *ctx, void *prepared)
{
	struct fake *f = ctx;

	f->published++;
	f->last_published = (uintptr_t)prepared;
}

/* What on_change was told last. */
struct seen {
	unsigned calls;
	cJSON *before, *after;
};

static void
on_change(void *ctx, const cJSON *before, const cJSON *after)
{
	struct seen *s = ctx;

	s->calls++;
	cJSON_Delete(s->before);
	cJSON_Delete(s->after);
	s->before = before != NULL ? cJSON_Duplicate(before, 1) : NULL;
	s->after = after != NULL ? cJSON_Duplicate(after, 1) : NULL;
}

/* Single-quoted JSON parsed (' becomes "). */
static cJSON *
sq_parse(const char *single_quoted)
{
	char *s = strdup(single_quoted), *c;
	cJSON *j;

	assert_non_null(s);
	for (c = s; *c != '\0'; c++) {
		if (*c == '\'')
			*c = '"';
	}
	j = cJSON_Parse(s);
	if (j == NULL)
		fail_msg("bad test JSON: %s", s);
	free(s);
	return j;
}

static char *
text_of(const cJSON *j)
{
	char *t = cJSON_PrintUnformatted(j);

	assert_non_null(t);
	return t;
}

static char *
tmpdir(void)
{
	char *d = strdup("/tmp/sl-test-fast-XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void
rm_dir(char *d)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

/* A controller over doc_base, with or without a state directory. */
struct cf {
	struct sl_controller c;
	struct fake f;
	struct seen seen;
	char *dir;
};

static void
cf_init(struct cf *x, bool with_dir)
{
	struct sl_apply_ops ops = {fake_prepare, fake_publish, NULL};
	struct sl_error err;
	char buf[1024];

	memset(x, 0, sizeof(*x));
	ops.ctx = &x->f;
	x->dir = with_dir ? tmpdir() : NULL;
	if (sl_controller_init(&x->c, x->dir, NULL, &ops, &err) != 0 ||
	    sl_controller_commit(&x->c, sq_parse(doc_base), 0, &err) != 0)
		fail_msg("%s", sl_error_format(&err, buf, sizeof(buf)));
	assert_int_equal(x->c.fast_changes, 0);
	x->c.on_change = on_change;
	x->c.on_change_ctx = &x->seen;
}

static void
cf_fini(struct cf *x)
{
	sl_controller_fini(&x->c);
	cJSON_Delete(x->seen.before);
	cJSON_Delete(x->seen.after);
	if (x->dir != NULL)
		rm_dir(x->dir);
}

/* A number of the state directory's status (-1 without one). */
static double
state_num(struct cf *x, const char *key)
{
	cJSON *st = sl_controller_state_status(&x->c);
	double v;

	if (st == NULL)
		return -1;
	v = cJSON_GetNumberValue(cJSON_GetObjectItem(st, key));
	cJSON_Delete(st);
	return v;
}

/* The controller's model must be the whole validation of its document. */
static void
assert_model_whole(struct cf *x)
{
	struct sl_error err;
	struct sl_model *whole;
	char why[256], buf[1024];

	whole = sl_config_from_json(x->c.doc, NULL, &err);
	if (whole == NULL)
		fail_msg("the committed document does not validate: %s",
			 sl_error_format(&err, buf, sizeof(buf)));
	if (!sl_model_equal(x->c.model, whole, why, sizeof(why)))
		fail_msg("model != whole validation of the document: %s", why);
	sl_model_free(whole);
}

/* Everything a change may move, to compare before and after. */
struct mark {
	char *doc;
	uint64_t fast, commits;
	unsigned prepared, published, seen;
	double gen, records;
};

static void
mark_take(struct cf *x, struct mark *m)
{
	m->doc = text_of(x->c.doc);
	m->fast = x->c.fast_changes;
	m->commits = x->c.commits;
	m->prepared = x->f.prepared;
	m->published = x->f.published;
	m->seen = x->seen.calls;
	m->gen = state_num(x, "generation");
	m->records = state_num(x, "journalRecords");
}

/* Nothing moved since m (m freed). */
static void
mark_same(struct cf *x, struct mark *m, bool prepared_too)
{
	char *now = text_of(x->c.doc);

	if (strcmp(now, m->doc) != 0)
		fail_msg("the document changed:\n was %s\n now %s", m->doc, now);
	assert_int_equal(x->c.fast_changes, m->fast);
	assert_int_equal(x->c.commits, m->commits);
	if (prepared_too)
		assert_int_equal(x->f.prepared, m->prepared);
	assert_int_equal(x->seen.calls, m->seen);
	assert_true(state_num(x, "generation") == m->gen);
	assert_true(state_num(x, "journalRecords") == m->records);
	cJSON_free(now);
	free(m->doc);
	m->doc = NULL;
}

static int
change(struct cf *x, const char *url, const cJSON *body, bool *done, int *http,
       struct sl_error *err)
{
	struct sl_res_path p;

	memset(err, 0, sizeof(*err));
	if (sl_res_path_parse(url, &p, err) != 0)
		fail_msg("bad path %s", url);
	return sl_controller_change(&x->c, &p, body, 0, done, http, err);
}

/*
 * The reference for a change: the request made on a copy of the document
 * (*ref, 0), or the request's own refusal (its rc). *valid: the copy
 * validates whole; else *ref_err is the whole validation's error, as a
 * whole commit reports it.
 */
static int
reference(struct cf *x, const char *url, const cJSON *body, cJSON **ref, bool *done,
	  bool *valid, struct sl_error *ref_err)
{
	struct sl_res_path p;
	struct sl_model *m;
	int http, rc;

	assert_int_equal(sl_res_path_parse(url, &p, ref_err), 0);
	*ref = cJSON_Duplicate(x->c.doc, 1);
	memset(ref_err, 0, sizeof(*ref_err));
	rc = body != NULL ? sl_doc_put(*ref, &p, body, done, &http, ref_err)
			  : sl_doc_delete(*ref, &p, done, &http, ref_err);
	if (rc != 0)
		return rc;
	assert_true(sl_config_assign_dynamic_ips(*ref, ref_err) >= 0);
	m = sl_config_from_json(*ref, "configuration", ref_err);
	*valid = m != NULL;
	sl_model_free(m);
	return 0;
}

static void
assert_same_error(const struct sl_error *got, const struct sl_error *want)
{
	assert_string_equal(got->code, want->code);
	assert_string_equal(got->target, want->target);
	assert_string_equal(got->json_path, want->json_path);
	assert_string_equal(got->message, want->message);
	assert_string_equal(got->file, want->file);
}

enum path_want { FAST, WHOLE };

/*
 * A change that must be accepted: by the fast path with delta (kind, op,
 * lb, idx), or by the whole path. The document must then be the reference
 * (the request made on a copy) byte for byte, the model its whole
 * validation, and the state directory one record (fast) or one generation
 * (whole) further.
 */
static void
accepted(struct cf *x, const char *url, const char *body_sq, bool want_done, enum path_want how,
	 enum sl_delta_kind kind, enum sl_delta_op op, uint32_t lb, uint32_t idx)
{
	cJSON *body = body_sq != NULL ? sq_parse(body_sq) : NULL, *ref;
	struct sl_error err, ref_err;
	struct mark m;
	bool done, ref_done, valid;
	char *want, *got, buf[1024];
	int http;

	print_message("%s %s (%s)\n", body != NULL ? "PUT" : "DELETE", url,
		      how == FAST ? "fast" : "whole");
	assert_int_equal(reference(x, url, body, &ref, &ref_done, &valid, &ref_err), 0);
	if (!valid)
		fail_msg("the reference refuses it: %s", sl_error_format(&ref_err, buf, sizeof(buf)));
	mark_take(x, &m);
	if (change(x, url, body, &done, &http, &err) != 0)
		fail_msg("refused: %s", sl_error_format(&err, buf, sizeof(buf)));
	assert_int_equal(done, want_done);
	assert_int_equal(ref_done, want_done);
	assert_false(x->c.unchanged);
	assert_int_equal(x->c.commits, m.commits + 1);
	assert_int_equal(x->f.prepared, m.prepared + 1);
	assert_int_equal(x->f.published, m.published + 1);
	assert_int_equal(x->f.last_published, x->f.last_token);
	if (how == FAST) {
		assert_int_equal(x->c.fast_changes, m.fast + 1);
		assert_true(x->f.last_delta);
		assert_int_equal(x->f.delta.kind, kind);
		assert_int_equal(x->f.delta.op, op);
		assert_int_equal(x->f.delta.lb, lb);
		assert_int_equal(x->f.delta.idx, idx);
		if (x->dir != NULL) {
			assert_true(state_num(x, "journalRecords") == m.records + 1);
			assert_true(state_num(x, "generation") == m.gen);
		}
	} else {
		assert_int_equal(x->c.fast_changes, m.fast);
		assert_false(x->f.last_delta);
		if (x->dir != NULL) {
			assert_true(state_num(x, "journalRecords") == 0);
			assert_true(state_num(x, "generation") == m.gen + 1);
		}
	}
	want = text_of(ref);
	got = text_of(x->c.doc);
	if (strcmp(want, got) != 0)
		fail_msg("document:\n got  %s\n want %s", got, want);
	assert_model_whole(x);
	cJSON_free(want);
	cJSON_free(got);
	free(m.doc);
	cJSON_Delete(ref);
	cJSON_Delete(body);
}

/*
 * A change the validation refuses: the whole validation's error, nothing
 * prepared, published, persisted or changed.
 */
static void
refused(struct cf *x, const char *url, const char *body_sq, const char *code)
{
	cJSON *body = body_sq != NULL ? sq_parse(body_sq) : NULL, *ref;
	struct sl_error err, ref_err;
	struct sl_model *before = sl_config_from_json(x->c.doc, NULL, &err);
	struct mark m;
	bool done, valid;
	char why[256];
	int http;

	print_message("%s %s -> %s\n", body != NULL ? "PUT" : "DELETE", url, code);
	assert_non_null(before);
	assert_int_equal(reference(x, url, body, &ref, &done, &valid, &ref_err), 0);
	assert_false(valid);
	assert_string_equal(ref_err.code, code);
	mark_take(x, &m);
	assert_int_equal(change(x, url, body, &done, &http, &err), -EINVAL);
	assert_int_equal(http, 0); /* the commit refused it, not the request's shape */
	assert_false(sl_controller_error_is_server(&err));
	assert_same_error(&err, &ref_err);
	mark_same(x, &m, true);
	assert_int_equal(x->f.published, m.published);
	if (!sl_model_equal(x->c.model, before, why, sizeof(why)))
		fail_msg("a refusal changed the model: %s", why);
	sl_model_free(before);
	cJSON_Delete(ref);
	cJSON_Delete(body);
}

/* A change that changes nothing: accepted, nothing published or persisted. */
static void
unchanged(struct cf *x, const char *url, const cJSON *body, bool want_done)
{
	struct sl_error err;
	struct mark m;
	bool done;
	int http;

	mark_take(x, &m);
	assert_int_equal(change(x, url, body, &done, &http, &err), 0);
	assert_int_equal(done, want_done);
	assert_true(x->c.unchanged);
	mark_same(x, &m, true);
	assert_int_equal(x->f.published, m.published);
	assert_model_whole(x);
}

static void
fast_changes(bool with_dir)
{
	struct cf x;

	cf_init(&x, with_dir);
	/* pool: replace, create, delete; the delta names the pool's index in lb1 (index 0) */
	accepted(&x, POOLS "pool0", ADDRS(A("a0", "10.0.0.4") "," A("a2", "10.0.0.6")), false, FAST,
		 SL_DELTA_POOL, SL_DELTA_REPLACE, 0, 0);
	accepted(&x, POOLS "Spare", "{'properties':{'drainPeriodInSeconds':30}}", false, FAST,
		 SL_DELTA_POOL, SL_DELTA_REPLACE, 0, 2);
	accepted(&x, POOLS "pool3", ADDRS(A("c0", "10.0.0.7")), true, FAST, SL_DELTA_POOL,
		 SL_DELTA_CREATE, 0, 3);
	accepted(&x, POOLS "spare", NULL, true, FAST, SL_DELTA_POOL, SL_DELTA_DELETE, 0, 2);
	/* rules: create on the new pool (now index 2), replace, delete */
	accepted(&x, RULES "r3", RBODY("fe0", "pool3", "81"), true, FAST, SL_DELTA_RULE,
		 SL_DELTA_CREATE, 0, 2);
	accepted(&x, RULES "r0", RBODY("fe1", "pool0", "82"), false, FAST, SL_DELTA_RULE,
		 SL_DELTA_REPLACE, 0, 0);
	accepted(&x, RULES "r0", NULL, true, FAST, SL_DELTA_RULE, SL_DELTA_DELETE, 0, 0);
	/* the pool no rule uses any more can go */
	accepted(&x, POOLS "pool0", NULL, true, FAST, SL_DELTA_POOL, SL_DELTA_DELETE, 0, 0);
	/* the second load balancer: lb index 1 */
	accepted(&x, LB2 "/backendAddressPools/p1", "{}", true, FAST, SL_DELTA_POOL,
		 SL_DELTA_CREATE, 1, 1);
	accepted(&x, LB2 "/loadBalancingRules/r0", NULL, true, FAST, SL_DELTA_RULE,
		 SL_DELTA_DELETE, 1, 0);
	/* into lists the load balancer does not have yet */
	unchanged(&x, LB3 "/loadBalancingRules/r0", NULL, false);
	accepted(&x, LB3 "/backendAddressPools/q0", ADDRS(A("q0", "10.0.6.1")), true, FAST,
		 SL_DELTA_POOL, SL_DELTA_CREATE, 2, 0);
	accepted(&x, LB3 "/loadBalancingRules/r0",
		 "{'properties':{'frontendIPConfiguration':" REF(LB3, "frontendIPConfigurations", "fe0")
		 ",'backendAddressPool':" REF(LB3, "backendAddressPools", "q0")
		 ",'protocol':'Udp','frontendPort':53}}", true, FAST, SL_DELTA_RULE, SL_DELTA_CREATE,
		 2, 0);
	if (with_dir)
		assert_true(state_num(&x, "journalRecords") == 12);
	assert_int_equal(x.c.fast_changes, 12);
	cf_fini(&x);
}

static void
test_fast_changes(void **state)
{
	(void)state;
	fast_changes(false);
	fast_changes(true);
}

/* What on_change hears from the fast path: the resource as it was and as it is. */
static void
test_on_change(void **state)
{
	struct cf x;

	(void)state;
	cf_init(&x, false);
	accepted(&x, POOLS "pool3", ADDRS(A("c0", "10.0.0.7")), true, FAST, SL_DELTA_POOL,
		 SL_DELTA_CREATE, 0, 3);
	assert_int_equal(x.seen.calls, 1);
	assert_null(x.seen.before);
	assert_string_equal(cJSON_GetObjectItem(x.seen.after, "name")->valuestring, "pool3");
	cJSON *was = cJSON_Duplicate(x.seen.after, 1);
	accepted(&x, POOLS "pool3", ADDRS(A("c0", "10.0.0.8")), false, FAST, SL_DELTA_POOL,
		 SL_DELTA_REPLACE, 0, 3);
	assert_int_equal(x.seen.calls, 2);
	assert_true(cJSON_Compare(x.seen.before, was, 1));
	struct sl_res_path p;
	struct sl_error err;
	assert_int_equal(sl_res_path_parse(POOLS "pool3", &p, &err), 0);
	assert_true(cJSON_Compare(x.seen.after, sl_doc_find(x.c.doc, &p), 1));
	cJSON_Delete(was);
	was = cJSON_Duplicate(x.seen.after, 1);
	accepted(&x, POOLS "pool3", NULL, true, FAST, SL_DELTA_POOL, SL_DELTA_DELETE, 0, 3);
	assert_int_equal(x.seen.calls, 3);
	assert_true(cJSON_Compare(x.seen.before, was, 1));
	assert_null(x.seen.after);
	cJSON_Delete(was);
	cf_fini(&x);
}

static void
refusals(bool with_dir)
{
	struct cf x;

	cf_init(&x, with_dir);
	/* a rule to a pool that is not there */
	refused(&x, RULES "r9", RBODY("fe0", "nope", "81"), "InvalidResourceReference");
	/* a pool over its limit, and over the load balancer's */
	refused(&x, POOLS "pool0", ADDRS(A("a0", "10.0.0.4") "," A("a1", "10.0.0.5") ","
					 A("a2", "10.0.0.6") "," A("a3", "10.0.0.7") ","
					 A("a4", "10.0.0.8")),
		"BackendAddressPoolSizeLimitExceeded");
	accepted(&x, POOLS "big1", ADDRS(A("b0", "10.0.3.1") "," A("b1", "10.0.3.2") ","
					 A("b2", "10.0.3.3") "," A("b3", "10.0.3.4")),
		 true, FAST, SL_DELTA_POOL, SL_DELTA_CREATE, 0, 3);
	accepted(&x, POOLS "spare", ADDRS(A("s0", "10.0.0.9") "," A("s1", "10.0.0.10") ","
					 A("s2", "10.0.0.11") "," A("s3", "10.0.0.12")),
		 false, FAST, SL_DELTA_POOL, SL_DELTA_REPLACE, 0, 2);
	/* 11 addresses in lb1 (NIC members count): two more are too many */
	refused(&x, POOLS "big2", ADDRS(A("c0", "10.0.4.1") "," A("c1", "10.0.4.2")),
		"LoadBalancerBackendAddressLimitExceeded");
	/* into a list the load balancer does not have yet: the list is not left behind */
	refused(&x, LB3 "/backendAddressPools/q0", ADDRS(A("q0", "192.168.0.1")),
		"BackendAddressNotInVirtualNetwork");
	refused(&x, LB3 "/loadBalancingRules/r0", RBODY("fe0", "pool0", "80"),
		"InvalidResourceReference");
	/* a pool still used: by a rule, by a NIC */
	refused(&x, POOLS "pool0", NULL, "InvalidResourceReference");
	refused(&x, POOLS "nicpool", NULL, "InvalidResourceReference");
	/* an address outside the virtual network, twice the same address */
	refused(&x, POOLS "spare", ADDRS(A("s0", "192.168.0.1")), "BackendAddressNotInVirtualNetwork");
	refused(&x, POOLS "spare", ADDRS(A("s0", "10.0.0.9") "," A("s1", "10.0.0.9")),
		"DuplicateIPAddressInBackendAddressPool");
	/* an IPv6 address under an IPv4 frontend's rule */
	refused(&x, POOLS "pool0", ADDRS(A("a0", "fd00::4")), "BackendAddressIPVersionMismatch");
	/* a rule on a frontend port already taken; NIC addresses cannot join the pool by address */
	refused(&x, RULES "r9", RBODY("fe0", "spare", "80"),
		"RulesUseSameFrontendIPConfigurationProtocolAndPort");
	refused(&x, POOLS "nicpool", ADDRS(A("n0", "10.0.0.20")),
		"CannotMixIPBasedAddressesAndIPConfigurationsOnLoadBalancerBackendAddressPool");
	/* refused by the request's shape: an http status, nothing changed */
	struct mark m;
	struct sl_error err;
	bool done;
	int http;
	cJSON *body = sq_parse("{'name':'other'}");
	mark_take(&x, &m);
	assert_int_equal(change(&x, POOLS "pool0", body, &done, &http, &err), -EINVAL);
	assert_int_equal(http, 400);
	assert_string_equal(err.code, "InvalidRequestFormat");
	mark_same(&x, &m, true);
	cJSON_Delete(body);
	body = sq_parse("{}");
	mark_take(&x, &m);
	assert_true(change(&x, ARM "/loadBalancers/lb9/backendAddressPools/p", body, &done, &http,
			   &err) < 0);
	assert_int_equal(http, 404);
	mark_same(&x, &m, true);
	cJSON_Delete(body);
	assert_model_whole(&x);
	cf_fini(&x);
}

static void
test_refusals(void **state)
{
	(void)state;
	refusals(false);
	refusals(true);
}

static void
test_unchanged(void **state)
{
	struct sl_res_path p;
	struct sl_error err;
	cJSON *body;
	struct cf x;

	(void)state;
	cf_init(&x, true);
	/* the pool as stored, then as a GET renders it (read-only fields and all) */
	assert_int_equal(sl_res_path_parse(POOLS "nicpool", &p, &err), 0);
	body = cJSON_Duplicate(sl_doc_find(x.c.doc, &p), 1);
	unchanged(&x, POOLS "nicpool", body, false);
	cJSON_Delete(body);
	body = sl_doc_render(x.c.doc, &p, &err);
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "properties"),
					    "backendIPConfigurations"));
	unchanged(&x, POOLS "NICPOOL", body, false);
	cJSON_Delete(body);
	assert_int_equal(sl_res_path_parse(RULES "r0", &p, &err), 0);
	body = sl_doc_render(x.c.doc, &p, &err);
	unchanged(&x, RULES "r0", body, false);
	cJSON_Delete(body);
	/* a DELETE of what is not there */
	unchanged(&x, POOLS "nothere", NULL, false);
	unchanged(&x, RULES "nothere", NULL, false);
	/* a whole-path PUT of what is there */
	assert_int_equal(sl_res_path_parse(NIC0, &p, &err), 0);
	body = sl_doc_render(x.c.doc, &p, &err);
	unchanged(&x, NIC0, body, false);
	cJSON_Delete(body);
	cf_fini(&x);
}

static void
whole_changes(bool with_dir)
{
	struct cf x;

	cf_init(&x, with_dir);
	/* a NIC, a NIC's ipConfiguration, a load balancer, a subnet, a frontend, a probe */
	accepted(&x, NIC0, "{'properties':{'ipConfigurations':[{'name':'ip1','properties':{"
			   "'privateIPAddress':'10.0.1.5','subnet':{'id':'" S4 "'},"
			   "'loadBalancerBackendAddressPools':[" REF(LB1, "backendAddressPools", "nicpool")
			   "]}}]}}", false, WHOLE, 0, 0, 0, 0);
	accepted(&x, NIC0 "/ipConfigurations/ip2", "{'properties':{'privateIPAddress':'10.0.1.6',"
						    "'subnet':{'id':'" S4 "'}}}",
		 true, WHOLE, 0, 0, 0, 0);
	accepted(&x, ARM "/loadBalancers/lb4", "{'sku':{'name':'Standard'},'properties':{}}", true,
		 WHOLE, 0, 0, 0, 0);
	accepted(&x, VNET1 "/subnets/s5", "{'properties':{'addressPrefix':'10.0.5.0/24'}}", true,
		 WHOLE, 0, 0, 0, 0);
	accepted(&x, LB1 "/frontendIPConfigurations/fe2", "{'properties':{'privateIPAddress':"
							  "'192.0.2.12'}}",
		 true, WHOLE, 0, 0, 0, 0);
	accepted(&x, LB1 "/probes/probe2", "{'properties':{'protocol':'Tcp','port':81}}", true,
		 WHOLE, 0, 0, 0, 0);
	accepted(&x, LB1 "/probes/probe2", NULL, true, WHOLE, 0, 0, 0, 0);
	/* and a pool change after them is fast again */
	accepted(&x, POOLS "spare", NULL, true, FAST, SL_DELTA_POOL, SL_DELTA_DELETE, 0, 2);
	/* a refusal on the whole path: the same error, nothing changed */
	refused(&x, ARM "/loadBalancers/lb4", "{'sku':{'name':'Standard'},'properties':{"
					      "'frontendIPConfigurations':[" FE("fe0", "192.0.2.10") "]}}",
		"PrivateIPAddressInUse");
	cf_fini(&x);
}

static void
test_whole_changes(void **state)
{
	(void)state;
	whole_changes(false);
	whole_changes(true);
}

/* A prepare that fails: everything as it was, nothing published. */
static void
test_prepare_fails(void **state)
{
	struct sl_model *before;
	struct sl_error err;
	struct mark m;
	cJSON *body;
	struct cf x;
	bool done;
	char why[256];
	int http;

	(void)state;
	cf_init(&x, true);
	static const char *const urls[] = {POOLS "pool0", POOLS "pool7", RULES "r0", RULES "r7"};
	static const char *const bodies[] = {ADDRS(A("a0", "10.0.0.6")), ADDRS(A("x", "10.0.0.7")),
					     NULL, RBODY("fe0", "spare", "81")};
	for (size_t i = 0; i < 4; i++) {
		before = sl_config_from_json(x.c.doc, NULL, &err);
		body = bodies[i] != NULL ? sq_parse(bodies[i]) : NULL;
		mark_take(&x, &m);
		x.f.fail = true;
		assert_int_equal(change(&x, urls[i], body, &done, &http, &err), -EINVAL);
		x.f.fail = false;
		assert_string_equal(err.code, "SnapshotBuildFailed");
		assert_true(sl_controller_error_is_server(&err));
		assert_int_equal(x.f.prepared, m.prepared + 1);
		assert_true(x.f.last_delta);
		assert_int_equal(x.f.published, m.published);
		mark_same(&x, &m, false);
		if (!sl_model_equal(x.c.model, before, why, sizeof(why)))
			fail_msg("model not taken back: %s", why);
		sl_model_free(before);
		cJSON_Delete(body);
	}
	assert_model_whole(&x);
	cf_fini(&x);
}

/* The current journal's path and size. */
static off_t
journal_size(struct cf *x, char *path, size_t len)
{
	struct stat st;

	snprintf(path, len, "%s/journal-%010" PRIu64, x->dir, (uint64_t)state_num(x, "generation"));
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

enum fault {
	FAULT_FSIZE,  /* RLIMIT_FSIZE just past the journal's end: a short write, then EFBIG */
	FAULT_RDONLY, /* the journal's descriptor replaced by a read-only one: EBADF */
};

/* Make the next write to the state directory fail; returns what undo_fault needs. */
static int
set_fault(struct cf *x, enum fault how, struct rlimit *saved)
{
	char path[512];
	off_t size = journal_size(x, path, sizeof(path));

	if (how == FAULT_FSIZE) {
		struct rlimit r;
		assert_int_equal(getrlimit(RLIMIT_FSIZE, saved), 0);
		r = *saved;
		r.rlim_cur = (rlim_t)size + 7;
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &r), 0);
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(x->c.store->jfd >= 0);
	assert_int_equal(dup2(fd, x->c.store->jfd), x->c.store->jfd);
	return fd;
}

static void
undo_fault(enum fault how, const struct rlimit *saved, int fd)
{
	if (how == FAULT_FSIZE)
		assert_int_equal(setrlimit(RLIMIT_FSIZE, saved), 0);
	else
		close(fd);
}

/*
 * A change whose persistence fails: refused with StateWriteFailed, the
 * document, the model and the journal as they were, and the previous
 * configuration prepared whole and published again.
 */
static void
write_fails(struct cf *x, enum fault how, const char *url, const char *body_sq, bool fast)
{
	cJSON *body = body_sq != NULL ? sq_parse(body_sq) : NULL;
	struct sl_model *before;
	struct rlimit saved;
	struct sl_error err;
	struct mark m;
	char path[512], why[256];
	off_t size;
	bool done;
	int http, fd;

	print_message("%s %s, %s: StateWriteFailed\n", body != NULL ? "PUT" : "DELETE", url,
		      how == FAULT_FSIZE ? "file size limit" : "read-only journal");
	before = sl_config_from_json(x->c.doc, NULL, &err);
	assert_non_null(before);
	size = journal_size(x, path, sizeof(path));
	mark_take(x, &m);
	x->f.expect = before;
	fd = set_fault(x, how, &saved);
	int rc = change(x, url, body, &done, &http, &err);
	undo_fault(how, &saved, fd);
	x->f.expect = NULL;
	assert_true(rc < 0);
	assert_int_equal(http, 0);
	assert_string_equal(err.code, "StateWriteFailed");
	assert_true(sl_controller_error_is_server(&err));
	/* the change was prepared (with its delta on the fast path) and published, then... */
	assert_int_equal(x->f.prepared, m.prepared + 2);
	assert_int_equal(x->f.published, m.published + 2);
	/* ...the previous configuration, prepared whole, published again */
	assert_false(x->f.last_delta);
	if (!x->f.matched)
		fail_msg("the configuration published again is not the previous one: %s", x->f.why);
	assert_int_equal(x->f.last_published, x->f.last_token);
	mark_same(x, &m, false);
	if (!sl_model_equal(x->c.model, before, why, sizeof(why)))
		fail_msg("model not taken back: %s", why);
	assert_model_whole(x);
	/* nothing of the record stays in the journal */
	assert_int_equal(journal_size(x, path, sizeof(path)), size);
	assert_int_equal(sl_store_appends_refused(x->c.store), how == FAULT_RDONLY && fast);
	sl_model_free(before);
	cJSON_Delete(body);
}

static void
test_write_fails(void **state)
{
	struct cf x;

	(void)state;
	/* a write past RLIMIT_FSIZE must fail with EFBIG, not kill the test */
	signal(SIGXFSZ, SIG_IGN);
	cf_init(&x, true);
	/* the journal cut back after a short write: the journal goes on afterwards */
	write_fails(&x, FAULT_FSIZE, POOLS "pool0", ADDRS(A("a0", "10.0.0.6")), true);
	write_fails(&x, FAULT_FSIZE, POOLS "pool7", ADDRS(A("x0", "10.0.0.7")), true);
	write_fails(&x, FAULT_FSIZE, POOLS "spare", NULL, true);
	write_fails(&x, FAULT_FSIZE, RULES "r0", RBODY("fe1", "pool0", "81"), true);
	write_fails(&x, FAULT_FSIZE, RULES "r7", RBODY("fe1", "spare", "81"), true);
	write_fails(&x, FAULT_FSIZE, RULES "rn", NULL, true);
	/* the whole path: the generation cannot be written either */
	write_fails(&x, FAULT_FSIZE, NIC0 "/ipConfigurations/ip2",
		    "{'properties':{'privateIPAddress':'10.0.1.6','subnet':{'id':'" S4 "'}}}", false);
	write_fails(&x, FAULT_FSIZE, ARM "/loadBalancers/lb2", NULL, false);
	accepted(&x, POOLS "pool0", ADDRS(A("a0", "10.0.0.6")), false, FAST, SL_DELTA_POOL,
		 SL_DELTA_REPLACE, 0, 0);
	accepted(&x, RULES "rn", NULL, true, FAST, SL_DELTA_RULE, SL_DELTA_DELETE, 0, 1);
	/* a journal that cannot even be cut back: appends refused, the next change a generation */
	write_fails(&x, FAULT_RDONLY, POOLS "spare", ADDRS(A("s0", "10.0.0.10")), true);
	double gen = state_num(&x, "generation");
	struct mark m;
	struct sl_error err;
	bool done;
	int http;
	cJSON *body = sq_parse(ADDRS(A("s0", "10.0.0.10")));
	mark_take(&x, &m);
	assert_int_equal(change(&x, POOLS "spare", body, &done, &http, &err), 0);
	assert_int_equal(x.c.fast_changes, m.fast + 1);
	/* (numbers of generations that failed are not used again) */
	assert_true(state_num(&x, "generation") > gen);
	assert_true(state_num(&x, "journalRecords") == 0);
	assert_false(sl_store_appends_refused(x.c.store));
	free(m.doc);
	cJSON_Delete(body);
	accepted(&x, POOLS "spare", NULL, true, FAST, SL_DELTA_POOL, SL_DELTA_DELETE, 0, 2);
	/* the journal at its cap: a fast change writes a generation instead */
	x.c.journal_cap = 1;
	gen = state_num(&x, "generation");
	body = sq_parse("{}");
	assert_int_equal(change(&x, POOLS "pool8", body, &done, &http, &err), 0);
	assert_true(state_num(&x, "generation") == gen + 1);
	assert_true(state_num(&x, "journalRecords") == 0);
	cJSON_Delete(body);
	x.c.journal_cap = 64u << 20;
	cf_fini(&x);
	signal(SIGXFSZ, SIG_DFL);
}

/* ------------------------------------------------------------------------ */
/* Random changes */

static uint64_t rng;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void
put_addr(char *out, size_t len, int k)
{
	/* mostly IPv4 in vnet1, sometimes IPv6, sometimes outside it */
	int v = (int)rnd(20);

	if (v == 0)
		snprintf(out, len, A("x%d", "fd00::%d"), k, 10 + (int)rnd(8));
	else if (v == 1)
		snprintf(out, len, A("x%d", "172.16.0.%d"), k, 1 + (int)rnd(8));
	else
		snprintf(out, len, A("x%d", "10.0.0.%d"), k, 10 + (int)rnd(12));
}

/* One random change of a load balancer's pools or rules: url and body (NULL: DELETE). */
static cJSON *
random_change(char *url, size_t len)
{
	static const char *const lbs[] = {LB1, LB1, LB2, LB3};
	const char *lb = lbs[rnd(4)];
	char body[4096], a[256];
	int k = (int)rnd(6);

	if (rnd(2) == 0) { /* a pool */
		snprintf(url, len, "%s/backendAddressPools/p%d", lb, k);
		if (rnd(4) == 0)
			return NULL;
		int n = (int)rnd(6);
		snprintf(body, sizeof(body), "{'properties':{'drainPeriodInSeconds':%d,"
			 "'loadBalancerBackendAddresses':[", (int)rnd(3) * 10);
		for (int i = 0; i < n; i++) {
			put_addr(a, sizeof(a), i);
			snprintf(body + strlen(body), sizeof(body) - strlen(body), "%s%s",
				 i > 0 ? "," : "", a);
		}
		snprintf(body + strlen(body), sizeof(body) - strlen(body), "]}}");
		return sq_parse(body);
	}
	snprintf(url, len, "%s/loadBalancingRules/r%d", lb, k);
	if (rnd(4) == 0)
		return NULL;
	snprintf(body, sizeof(body),
		 "{'properties':{'frontendIPConfiguration':{'id':'%s/frontendIPConfigurations/fe0'},"
		 "'backendAddressPool':{'id':'%s/backendAddressPools/p%d'},'protocol':'%s',"
		 "'frontendPort':%d,'backendPort':%d}}",
		 lb, lb, (int)rnd(7), rnd(2) ? "Tcp" : "Udp", 80 + (int)rnd(6), 80 + (int)rnd(3));
	return sq_parse(body);
}

/* Reopen a copy of the state directory: its document must be doc, byte for byte. */
static void
assert_reopens_to(const char *dir, const cJSON *doc, double *replayed)
{
	char copy[128], cmd[512], *want, *got;
	struct sl_store *s;
	struct sl_error err;
	cJSON *restored;

	snprintf(copy, sizeof(copy), "%s.copy", dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -a '%s' '%s'", copy, dir, copy);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sl_store_open(copy, &s, &restored, &err), 0);
	want = text_of(doc);
	got = text_of(restored);
	if (strcmp(want, got) != 0)
		fail_msg("reopened:\n got  %s\n want %s", got, want);
	if (replayed != NULL) {
		cJSON *st = sl_store_status(s);
		*replayed = cJSON_GetNumberValue(
			cJSON_GetObjectItem(cJSON_GetObjectItem(st, "recovery"), "replayedRecords"));
		cJSON_Delete(st);
	}
	sl_store_close(s);
	cJSON_Delete(restored);
	cJSON_free(want);
	cJSON_free(got);
	rm_dir(strdup(copy));
}

static void
random_changes(bool with_dir, int n)
{
	unsigned accepted_n = 0, refused_n = 0, same_n = 0, failed_n = 0;
	struct cf x;

	cf_init(&x, with_dir);
	for (int i = 0; i < n; i++) {
		char url[512], buf[1024], why[256];
		struct sl_error err, ref_err;
		cJSON *body = random_change(url, sizeof(url)), *ref;
		bool done, ref_done, valid;
		struct mark m;
		int http, rc, ref_rc;
		bool fault = with_dir && rnd(25) == 0;
		struct sl_model *before = sl_config_from_json(x.c.doc, NULL, &err);

		assert_non_null(before);
		ref_rc = reference(&x, url, body, &ref, &ref_done, &valid, &ref_err);
		assert_int_equal(ref_rc, 0);
		mark_take(&x, &m);
		struct rlimit saved;
		int fd = -1;
		if (fault)
			fd = set_fault(&x, FAULT_FSIZE, &saved);
		rc = change(&x, url, body, &done, &http, &err);
		if (fault)
			undo_fault(FAULT_FSIZE, &saved, fd);
		bool nothing = rc == 0 && x.c.unchanged;
		if (rc == 0 && !nothing) {
			if (!valid)
				fail_msg("step %d: %s accepted, refused whole (%s)", i, url, ref_err.code);
			/* every pool or rule change takes the fast path */
			if (x.c.fast_changes != m.fast + 1 || !x.f.last_delta)
				fail_msg("step %d: %s did not take the fast path", i, url);
			char *want = text_of(ref), *got = text_of(x.c.doc);
			if (strcmp(want, got) != 0)
				fail_msg("step %d: %s: document differs", i, url);
			cJSON_free(want);
			cJSON_free(got);
			free(m.doc);
			accepted_n++;
		} else if (rc == 0) {
			mark_same(&x, &m, true);
			same_n++;
		} else if (fault && valid) {
			assert_string_equal(err.code, "StateWriteFailed");
			mark_same(&x, &m, false);
			failed_n++;
		} else {
			if (valid)
				fail_msg("step %d: %s refused (%s), valid whole", i, url,
					 sl_error_format(&err, buf, sizeof(buf)));
			assert_same_error(&err, &ref_err);
			mark_same(&x, &m, true);
			refused_n++;
		}
		if (rc != 0 && !sl_model_equal(x.c.model, before, why, sizeof(why)))
			fail_msg("step %d: a refusal changed the model: %s", i, why);
		assert_model_whole(&x);
		sl_model_free(before);
		cJSON_Delete(ref);
		cJSON_Delete(body);
	}
	print_message("%s state directory: %u accepted, %u refused, %u unchanged, %u write "
		      "failures\n", with_dir ? "with a" : "without a", accepted_n, refused_n, same_n,
		      failed_n);
	/* the sequence must have exercised every outcome */
	assert_true(accepted_n > (unsigned)n / 10);
	assert_true(refused_n > (unsigned)n / 10);
	if (with_dir && n >= 100)
		assert_true(failed_n > 0);
	if (with_dir) {
		double replayed = 0;
		assert_true(state_num(&x, "journalRecords") > 0);
		assert_reopens_to(x.dir, x.c.doc, &replayed);
		assert_true(replayed == state_num(&x, "journalRecords"));
		/* after a clean stop (the journal folded into a generation) too */
		cJSON *doc = cJSON_Duplicate(x.c.doc, 1);
		char *dir = strdup(x.dir);
		sl_controller_fini(&x.c);
		x.c.doc = NULL;
		assert_reopens_to(dir, doc, &replayed);
		assert_true(replayed == 0);
		cJSON_Delete(doc);
		free(dir);
	}
	cf_fini(&x);
}

static void
test_random(void **state)
{
	const char *s = getenv("SL_FAST_SEED"), *c = getenv("SL_FAST_CHANGES");
	uint64_t seed = s != NULL ? strtoull(s, NULL, 10) : 1;
	int n = c != NULL ? atoi(c) : 300;

	(void)state;
	signal(SIGXFSZ, SIG_IGN);
	print_message("SL_FAST_SEED=%" PRIu64 " SL_FAST_CHANGES=%d\n", seed, n);
	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	random_changes(false, n);
	random_changes(true, n);
	signal(SIGXFSZ, SIG_DFL);
}

static void
quiet(int level, const char *module, const char *text, void *ctx)
{
	(void)level;
	(void)module;
	(void)text;
	(void)ctx;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_changes),
		cmocka_unit_test(test_on_change),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_unchanged),
		cmocka_unit_test(test_whole_changes),
		cmocka_unit_test(test_prepare_fails),
		cmocka_unit_test(test_write_fails),
		cmocka_unit_test(test_random),
	};

	/* the store logs each refused write; the tests check what it did instead */
	sl_log_set_sink(quiet, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
