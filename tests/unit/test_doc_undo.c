/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_doc_undo.c: the in-place, undoable edits of one child resource
 * (sl_doc_put_undoable, sl_doc_delete_undoable, sl_doc_undo,
 * sl_doc_undo_done; sl_resource.h) that the controller's fast path makes on
 * the committed document. Each edit -- a replace, create or delete of the
 * first, a middle and the last child, a create into a missing child
 * collection -- must leave the document as sl_doc_put() / sl_doc_delete()
 * leave a copy of it (printed byte for byte, so the order of children and
 * members counts); sl_doc_undo() must give back the document as it was
 * (byte for byte, with sound cJSON links); sl_doc_undo_done() must keep the
 * edit. What is not edited in place (-EAGAIN) and what is refused leave the
 * document untouched.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "sl_resource.h"

#define ARM "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network"
#define VNET1 ARM "/virtualNetworks/vnet1"
#define NIC0 ARM "/networkInterfaces/nic0"
#define LB1 ARM "/loadBalancers/lb1"
#define LB2 ARM "/loadBalancers/lb2"
#define LB3 ARM "/loadBalancers/lb3"
#define LB4 ARM "/loadBalancers/lb4"
#define POOLS LB1 "/backendAddressPools/"
#define RULES LB1 "/loadBalancingRules/"
#define SUBNETS VNET1 "/subnets/"

#define A(n, ip) \
	"{'name':'" n "','properties':{'ipAddress':'" ip "','virtualNetwork':{'id':'" VNET1 "'}}}"
#define POOL(n, addrs) "{'name':'" n "','properties':{'loadBalancerBackendAddresses':[" addrs "]}}"
#define ADDRS(x) "{'properties':{'loadBalancerBackendAddresses':[" x "]}}"
#define REF(coll, n) "{'id':'" LB1 "/" coll "/" n "'}"
#define RULE(n, pool, port)                                                                       \
	"{'name':'" n "','properties':{'frontendIPConfiguration':" REF("frontendIPConfigurations", "fe0") \
	",'backendAddressPool':" REF("backendAddressPools", pool) ",'protocol':'Tcp','frontendPort':" \
	port "}}"
#define RBODY(pool, port)                                                                         \
	"{'properties':{'frontendIPConfiguration':" REF("frontendIPConfigurations", "fe0")          \
	",'backendAddressPool':" REF("backendAddressPools", pool) ",'protocol':'Udp','frontendPort':" \
	port "}}"
#define SUBNET(n, prefix) "{'name':'" n "','properties':{'addressPrefix':'" prefix "'}}"

/*
 * lb1 has three pools (p1 joined by nic0's ipConfiguration), three rules and
 * a probe after them; lb2 has no pool collection; lb3 no properties; lb4 a
 * pool "collection" that is not a list. vnet1 has three subnets.
 */
static const char doc_sq[] =
	"{'virtualNetworks':[{'name':'vnet1','id':'" VNET1 "','properties':{'addressSpace':"
	"{'addressPrefixes':['10.0.0.0/16']},'subnets':[" SUBNET("s0", "10.0.0.0/24") ","
	SUBNET("s1", "10.0.1.0/24") "," SUBNET("s2", "10.0.2.0/24") "]}}],"
	"'networkInterfaces':[{'name':'nic0','id':'" NIC0 "','properties':{'ipConfigurations':["
	"{'name':'ip1','properties':{'privateIPAddress':'10.0.0.4','subnet':{'id':'" SUBNETS "s0'},"
	"'loadBalancerBackendAddressPools':[" REF("backendAddressPools", "p1") "]}}]}}],"
	"'loadBalancers':["
	"{'name':'lb1','id':'" LB1 "','sku':{'name':'Standard'},'properties':{"
	"'frontendIPConfigurations':[{'name':'fe0','properties':{'privateIPAddress':'10.0.0.100'}}],"
	"'backendAddressPools':[" POOL("p0", A("a0", "10.0.0.10") "," A("a1", "10.0.0.11")) ","
	POOL("p1", "") "," POOL("p2", A("c0", "10.0.0.30")) "],"
	"'loadBalancingRules':[" RULE("r0", "p0", "80") "," RULE("r1", "p1", "81") ","
	RULE("r2", "p2", "82") "],"
	"'probes':[{'name':'probe1','properties':{'protocol':'Tcp','port':80}}]}},"
	"{'name':'lb2','id':'" LB2 "','sku':{'name':'Standard'},'properties':{"
	"'frontendIPConfigurations':[{'name':'fe0','properties':{'privateIPAddress':'10.0.0.101'}}]}},"
	"{'name':'lb3','id':'" LB3 "'},"
	"{'name':'lb4','id':'" LB4 "','properties':{'backendAddressPools':{}}}]}";

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

/* Every list and object of j is a sound cJSON list: prev links, the head's prev the tail. */
static void
check_links(const cJSON *j)
{
	const cJSON *it, *last = NULL;
	int n = 0;

	if (!cJSON_IsArray(j) && !cJSON_IsObject(j))
		return;
	for (it = j->child; it != NULL; it = it->next) {
		if (it != j->child)
			assert_ptr_equal(it->prev, last);
		check_links(it);
		last = it;
		n++;
	}
	if (j->child != NULL) {
		assert_ptr_equal(j->child->prev, last);
		assert_null(last->next);
	}
	assert_int_equal(cJSON_GetArraySize(j), n);
}

/* j printed must be exactly want (order of children and members included). */
static void
assert_text(const cJSON *j, const char *want, const char *what)
{
	char *t = text_of(j);

	if (strcmp(t, want) != 0)
		fail_msg("%s:\n got  %s\n want %s", what, t, want);
	cJSON_free(t);
	check_links(j);
}

static void
parse_path(const char *url, struct sl_res_path *p)
{
	struct sl_error err;

	if (sl_res_path_parse(url, p, &err) != 0)
		fail_msg("bad path %s: %s", url, err.message);
}

/* Apply an undoable edit (DELETE when body is NULL): returns its rc. */
static int
edit(cJSON *doc, const struct sl_res_path *p, const cJSON *body, bool *done, int *http,
     struct sl_doc_undo *u, struct sl_error *err)
{
	memset(err, 0, sizeof(*err));
	if (body != NULL)
		return sl_doc_put_undoable(doc, p, body, done, http, u, err);
	return sl_doc_delete_undoable(doc, p, done, http, u, err);
}

/*
 * One edit that is made in place: url, body (single-quoted; NULL: DELETE),
 * whether it creates (PUT) or finds (DELETE) the child, and the child's
 * index in its collection after the edit (PUT) or before it (DELETE).
 */
struct tedit {
	const char *url;
	const char *body;
	bool done;
	int index;
	bool coll_created;
};

static void
round_trip(const char *doc_text, const struct tedit *t)
{
	cJSON *doc = sq_parse(doc_text), *ref = cJSON_Duplicate(doc, 1);
	cJSON *body = t->body != NULL ? sq_parse(t->body) : NULL;
	char *orig = text_of(doc), *edited;
	const cJSON *before;
	cJSON *before_copy;
	struct sl_res_path p;
	struct sl_doc_undo u;
	struct sl_error err;
	bool done, ref_done;
	int http, rc;

	print_message("%s %s\n", body != NULL ? "PUT" : "DELETE", t->url);
	parse_path(t->url, &p);
	before = sl_doc_find(doc, &p);
	before_copy = before != NULL ? cJSON_Duplicate(before, 1) : NULL;
	/* the reference: the same request made on a copy */
	rc = body != NULL ? sl_doc_put(ref, &p, body, &ref_done, &http, &err)
			  : sl_doc_delete(ref, &p, &ref_done, &http, &err);
	assert_int_equal(rc, 0);
	assert_int_equal(ref_done, t->done);
	edited = text_of(ref);

	for (int keep = 0; keep < 2; keep++) {
		rc = edit(doc, &p, body, &done, &http, &u, &err);
		assert_int_equal(rc, 0);
		assert_int_equal(done, t->done);
		assert_true(u.active);
		assert_int_equal(u.deleted, body == NULL);
		assert_int_equal(u.coll_created, t->coll_created);
		assert_int_equal(u.index, t->index);
		/* the edit made in place is the edit made on a copy */
		assert_text(doc, edited, "in place vs. on a copy");
		if (body != NULL) {
			assert_ptr_equal(sl_doc_undo_after(&u), sl_doc_find(doc, &p));
			assert_true(cJSON_Compare(sl_doc_undo_after(&u), sl_doc_find(ref, &p), 1));
		} else {
			assert_null(sl_doc_undo_after(&u));
			assert_null(sl_doc_find(doc, &p));
		}
		/* u.old is the child as it was (NULL: created) */
		if (before_copy != NULL)
			assert_true(cJSON_Compare(u.old, before_copy, 1));
		else
			assert_null(u.old);
		if (keep) {
			sl_doc_undo_done(&u);
			assert_false(u.active);
			assert_text(doc, edited, "kept");
		} else {
			sl_doc_undo(&u);
			assert_false(u.active);
			assert_text(doc, orig, "undone");
			if (before_copy != NULL)
				assert_true(cJSON_Compare(sl_doc_find(doc, &p), before_copy, 1));
			/* once undone, the undo does nothing more */
			sl_doc_undo(&u);
			sl_doc_undo_done(&u);
			assert_text(doc, orig, "undone twice");
		}
	}
	cJSON_Delete(before_copy);
	cJSON_free(orig);
	cJSON_free(edited);
	cJSON_Delete(body);
	cJSON_Delete(ref);
	cJSON_Delete(doc);
}

static void
run(const struct tedit *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		round_trip(doc_sq, &t[i]);
}

#define DIM(a) (sizeof(a) / sizeof((a)[0]))

static void
test_put_replace(void **state)
{
	static const struct tedit t[] = {
		{POOLS "p0", ADDRS(A("n0", "10.0.0.40")), false, 0, false},
		{POOLS "p1", "{'properties':{'drainPeriodInSeconds':30}}", false, 1, false},
		{POOLS "p2", ADDRS(A("n0", "10.0.0.40") "," A("n1", "10.0.0.41")), false, 2, false},
		/* names are case-insensitive: the name stays as first written */
		{POOLS "P2", "{'name':'p2','properties':{}}", false, 2, false},
		{RULES "r0", RBODY("p2", "90"), false, 0, false},
		{RULES "r1", RBODY("p0", "91"), false, 1, false},
		{RULES "r2", RBODY("p1", "92"), false, 2, false},
		{SUBNETS "s0", "{'properties':{'addressPrefix':'10.0.9.0/24'}}", false, 0, false},
		{SUBNETS "s1", "{'properties':{'addressPrefix':'10.0.9.0/24'}}", false, 1, false},
		{SUBNETS "s2", "{'properties':{'addressPrefix':'10.0.9.0/24'}}", false, 2, false},
		/* read-only members sent back are dropped, the rest replaced */
		{POOLS "p0", "{'id':'x','etag':'y','properties':{'provisioningState':'Succeeded',"
			     "'loadBalancingRules':[" REF("loadBalancingRules", "r0") "],"
			     "'loadBalancerBackendAddresses':[" A("a0", "10.0.0.10") "]}}", false, 0, false},
	};

	(void)state;
	run(t, DIM(t));
}

static void
test_put_create(void **state)
{
	static const struct tedit t[] = {
		{POOLS "p3", ADDRS(A("d0", "10.0.0.50")), true, 3, false},
		{RULES "r3", RBODY("p0", "93"), true, 3, false},
		{SUBNETS "s3", "{'properties':{'addressPrefix':'10.0.3.0/24'}}", true, 3, false},
		/* a probe: a child the document edits in place, though the model does not */
		{LB1 "/probes/probe2", "{'properties':{'protocol':'Tcp','port':81}}", true, 1, false},
		/* into a collection the parent does not have yet */
		{LB2 "/backendAddressPools/q0", ADDRS(A("e0", "10.0.0.60")), true, 0, true},
		{LB2 "/loadBalancingRules/x0", "{}", true, 0, true},
		{LB1 "/inboundNatRules/nat0", "{'properties':{'frontendPort':2222}}", true, 0, true},
	};

	(void)state;
	run(t, DIM(t));
}

static void
test_delete(void **state)
{
	static const struct tedit t[] = {
		{POOLS "p0", NULL, true, 0, false},
		{POOLS "p1", NULL, true, 1, false},
		{POOLS "p2", NULL, true, 2, false},
		{RULES "R0", NULL, true, 0, false},
		{RULES "r1", NULL, true, 1, false},
		{RULES "r2", NULL, true, 2, false},
		{SUBNETS "s0", NULL, true, 0, false},
		{SUBNETS "s1", NULL, true, 1, false},
		{SUBNETS "s2", NULL, true, 2, false},
		/* the only child: the collection stays, empty */
		{LB1 "/probes/probe1", NULL, true, 0, false},
	};

	(void)state;
	run(t, DIM(t));
}

/* Several edits in a row, each kept or undone, against the same edits made on a copy. */
static void
test_sequence(void **state)
{
	static const struct {
		const char *url, *body;
		bool keep;
	} t[] = {
		{POOLS "p1", NULL, true},
		{POOLS "p0", NULL, false},
		{POOLS "p9", ADDRS(A("z0", "10.0.0.90")), true},
		{POOLS "p2", NULL, true},
		{POOLS "p1", "{}", false},
		{POOLS "p0", NULL, true},
		{POOLS "p9", NULL, true},
		{POOLS "p8", "{}", true},
		{POOLS "p8", NULL, false},
		{LB2 "/backendAddressPools/q0", "{}", true},
		{LB2 "/backendAddressPools/q0", NULL, true},
		{LB2 "/backendAddressPools/q1", "{}", true},
	};
	cJSON *doc = sq_parse(doc_sq), *ref = cJSON_Duplicate(doc, 1);

	(void)state;
	for (size_t i = 0; i < DIM(t); i++) {
		cJSON *body = t[i].body != NULL ? sq_parse(t[i].body) : NULL;
		struct sl_res_path p;
		struct sl_doc_undo u;
		struct sl_error err;
		bool done;
		int http;
		char *want;

		parse_path(t[i].url, &p);
		assert_int_equal(edit(doc, &p, body, &done, &http, &u, &err), 0);
		assert_true(u.active);
		if (t[i].keep) {
			sl_doc_undo_done(&u);
			assert_int_equal(body != NULL ? sl_doc_put(ref, &p, body, &done, &http, &err)
						      : sl_doc_delete(ref, &p, &done, &http, &err),
					 0);
		} else {
			sl_doc_undo(&u);
		}
		want = text_of(ref);
		assert_text(doc, want, t[i].url);
		cJSON_free(want);
		cJSON_Delete(body);
	}
	cJSON_Delete(ref);
	cJSON_Delete(doc);
}

/* A DELETE of what is not there changes nothing and leaves nothing to undo. */
static void
test_delete_absent(void **state)
{
	static const char *const urls[] = {POOLS "p7", LB2 "/backendAddressPools/q0",
					   SUBNETS "s9"};
	cJSON *doc = sq_parse(doc_sq);
	char *orig = text_of(doc);

	(void)state;
	for (size_t i = 0; i < DIM(urls); i++) {
		struct sl_res_path p;
		struct sl_doc_undo u;
		struct sl_error err;
		bool existed = true;
		int http;

		parse_path(urls[i], &p);
		assert_int_equal(edit(doc, &p, NULL, &existed, &http, &u, &err), 0);
		assert_false(existed);
		assert_false(u.active);
		assert_null(sl_doc_undo_after(&u));
		sl_doc_undo(&u);
		sl_doc_undo_done(&u);
		assert_text(doc, orig, urls[i]);
	}
	cJSON_free(orig);
	cJSON_Delete(doc);
}

/* What is not edited in place: -EAGAIN, the document untouched, nothing to undo. */
static void
test_eagain(void **state)
{
	static const struct {
		const char *url, *body;
	} t[] = {
		{LB1, "{'properties':{}}"},                        /* top-level */
		{LB1, NULL},
		{VNET1, NULL},
		{NIC0 "/ipConfigurations/ip1", "{'properties':{'privateIPAddress':'10.0.0.5'}}"},
		{NIC0 "/ipConfigurations/ip1", NULL},
		{NIC0 "/ipConfigurations/ip2", "{'properties':{}}"},
		{LB1 "/backendAddressPools", "{'properties':{}}"},   /* a collection */
		{LB1 "/backendAddressPools", NULL},
		{LB1 "/loadBalancingRules/", NULL},
		{LB3 "/backendAddressPools/p0", "{}"},               /* no properties */
		{LB3 "/backendAddressPools/p0", NULL},
		{LB4 "/backendAddressPools/p0", "{}"},               /* not a list */
		{LB4 "/backendAddressPools/p0", NULL},
		{ARM "/loadBalancers/lb9/backendAddressPools/p0", "{}"}, /* no parent */
		{ARM "/loadBalancers/lb9/backendAddressPools/p0", NULL},
		/* the same name in another resource group is another parent */
		{"/subscriptions/s/resourceGroups/other/providers/Microsoft.Network/loadBalancers/lb1"
		 "/backendAddressPools/p0", "{}"},
	};
	cJSON *doc = sq_parse(doc_sq);
	char *orig = text_of(doc);

	(void)state;
	for (size_t i = 0; i < DIM(t); i++) {
		cJSON *body = t[i].body != NULL ? sq_parse(t[i].body) : NULL;
		struct sl_res_path p;
		struct sl_doc_undo u;
		struct sl_error err;
		bool done;
		int http;

		print_message("%s %s -> -EAGAIN\n", body != NULL ? "PUT" : "DELETE", t[i].url);
		parse_path(t[i].url, &p);
		assert_int_equal(edit(doc, &p, body, &done, &http, &u, &err), -EAGAIN);
		assert_false(u.active);
		sl_doc_undo(&u);
		sl_doc_undo_done(&u);
		assert_text(doc, orig, t[i].url);
		cJSON_Delete(body);
	}
	cJSON_free(orig);
	cJSON_Delete(doc);
}

/* The pool p1's member by NIC, as a GET of it shows it. */
#define P1_MEMBER "[{'id':'" NIC0 "/ipConfigurations/ip1'}]"

/* Refused requests: the error sl_doc_put() gives, the document untouched. */
static void
test_refused(void **state)
{
	static const struct {
		const char *url, *body; /* body: single-quoted, or raw when it does not parse as such */
		int http;
		const char *code;
	} t[] = {
		{POOLS "p0", "{'name':'p1','properties':{}}", 400, "InvalidRequestFormat"},
		{POOLS "p9", "{'name':'p0'}", 400, "InvalidRequestFormat"},
		{POOLS "p0", "{'name':7}", 400, "InvalidRequestFormat"},
		{POOLS "p0", "[]", 400, "InvalidRequestFormat"},
		{POOLS "p0", "'text'", 400, "InvalidRequestFormat"},
		{POOLS "p0", "{'properties':[]}", 400, "InvalidRequestFormat"},
		/* into a missing collection: the collection is not left behind */
		{LB2 "/backendAddressPools/q0", "{'properties':7}", 400, "InvalidRequestFormat"},
		{LB2 "/backendAddressPools/q0", "{'name':'q1'}", 400, "InvalidRequestFormat"},
		{LB2 "/backendAddressPools/q0",
		 "{'properties':{'backendIPConfigurations':" P1_MEMBER "}}", 400,
		 "BackendAddressPoolMembershipIsSetOnNetworkInterface"},
		/* a pool's NIC members are read-only on the pool */
		{POOLS "p1", "{'properties':{'backendIPConfigurations':[]}}", 400,
		 "BackendAddressPoolMembershipIsSetOnNetworkInterface"},
		{POOLS "p1", "{'properties':{'backendIPConfigurations':[{'id':'" NIC0
			     "/ipConfigurations/ip2'}]}}", 400,
		 "BackendAddressPoolMembershipIsSetOnNetworkInterface"},
		{POOLS "p1", "{'properties':{'backendIPConfigurations':{}}}", 400,
		 "BackendAddressPoolMembershipIsSetOnNetworkInterface"},
		{POOLS "p0", "{'properties':{'backendIPConfigurations':" P1_MEMBER "}}", 400,
		 "BackendAddressPoolMembershipIsSetOnNetworkInterface"},
		{POOLS "p5", "{'properties':{'backendIPConfigurations':" P1_MEMBER "}}", 400,
		 "BackendAddressPoolMembershipIsSetOnNetworkInterface"},
	};
	cJSON *doc = sq_parse(doc_sq);
	char *orig = text_of(doc);

	(void)state;
	for (size_t i = 0; i < DIM(t); i++) {
		cJSON *body = sq_parse(t[i].body), *copy = cJSON_Duplicate(doc, 1);
		struct sl_error err, ref_err;
		struct sl_res_path p;
		struct sl_doc_undo u;
		bool done;
		int http = 0, ref_http = 0;

		print_message("PUT %s %s -> %s\n", t[i].url, t[i].body, t[i].code);
		parse_path(t[i].url, &p);
		assert_true(edit(doc, &p, body, &done, &http, &u, &err) < 0);
		assert_false(u.active);
		assert_int_equal(http, t[i].http);
		assert_string_equal(err.code, t[i].code);
		/* the same answer as sl_doc_put() */
		memset(&ref_err, 0, sizeof(ref_err));
		assert_true(sl_doc_put(copy, &p, body, &done, &ref_http, &ref_err) < 0);
		assert_int_equal(http, ref_http);
		assert_string_equal(err.code, ref_err.code);
		assert_string_equal(err.message, ref_err.message);
		assert_string_equal(err.target, ref_err.target);
		assert_string_equal(err.json_path, ref_err.json_path);
		sl_doc_undo(&u);
		assert_text(doc, orig, t[i].url);
		cJSON_Delete(copy);
		cJSON_Delete(body);
	}
	cJSON_free(orig);
	cJSON_Delete(doc);
}

/* A pool body may send back the NIC members a GET showed: accepted, and they are not stored. */
static void
test_membership_sent_back(void **state)
{
	static const struct tedit t[] = {
		{POOLS "p1", "{'properties':{'backendIPConfigurations':" P1_MEMBER
			     ",'drainPeriodInSeconds':5}}", false, 1, false},
		{POOLS "p1", "{'properties':{'backendIPConfigurations':null}}", false, 1, false},
		{POOLS "p0", "{'properties':{'backendIPConfigurations':[]}}", false, 0, false},
	};
	cJSON *doc = sq_parse(doc_sq);
	struct sl_res_path p;
	struct sl_doc_undo u;
	struct sl_error err;
	cJSON *body;
	bool done;
	int http;

	(void)state;
	run(t, DIM(t));
	parse_path(POOLS "p1", &p);
	body = sq_parse(t[0].body);
	assert_int_equal(edit(doc, &p, body, &done, &http, &u, &err), 0);
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(sl_doc_undo_after(&u), "properties"),
					"backendIPConfigurations"));
	sl_doc_undo_done(&u);
	cJSON_Delete(body);
	cJSON_Delete(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_replace),
		cmocka_unit_test(test_put_create),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_delete_absent),
		cmocka_unit_test(test_eagain),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_membership_sent_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
