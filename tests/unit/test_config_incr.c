/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_config_incr.c: changes to a load balancer's pools and rules made in
 * place on the committed model (sl_config_incr.h), held to the
 * whole-document validation: every change is also validated whole
 * (sl_config_from_json() on the edited document), the verdicts must agree
 * and, when accepted, the two models must be equal (sl_model_equal()).
 * Deterministic cases for each check a pool or a rule takes part in, then
 * a seeded random sequence of changes from several starting documents
 * (SL_INCR_CHANGES changes from each, default 1000; SL_INCR_SEED, default
 * 1; a failure prints the seed and the step).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "sl_config.h"
#include "sl_config_incr.h"
#include "sl_dynamic_ip.h"
#include "sl_resource.h"

#define ARM "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network"
#define VNET_ID ARM "/virtualNetworks/"
#define NIC_ID ARM "/networkInterfaces/"
#define LB1 ARM "/loadBalancers/lb1"
#define LB2 ARM "/loadBalancers/lb2"
#define LBB ARM "/loadBalancers/basic"
#define LBE ARM "/loadBalancers/bare"
#define S4 VNET_ID "vnet1/subnets/s4"

/* Single-quoted JSON parsed (' becomes "), Dynamic addresses assigned as the API does. */
static cJSON *
sq_parse(const char *single_quoted)
{
	char *s = strdup(single_quoted), *c;
	struct sl_error err;
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
	assert_true(sl_config_assign_dynamic_ips(j, &err) >= 0);
	return j;
}

static struct sl_model *
whole_ok(const cJSON *doc)
{
	struct sl_error err;
	struct sl_model *m;
	char buf[1024];

	memset(&err, 0, sizeof(err));
	m = sl_config_from_json(doc, NULL, &err);
	if (m == NULL)
		fail_msg("%s", sl_error_format(&err, buf, sizeof(buf)));
	return m;
}

/* A committed document, its model changed in place, and the whole validation of it. */
struct fx {
	cJSON *doc;
	struct sl_model *m;
	struct sl_model *ref;
};

static void
fx_init(struct fx *f, cJSON *doc)
{
	f->doc = doc;
	f->m = whole_ok(doc);
	f->ref = whole_ok(doc);
}

static void
fx_fini(struct fx *f)
{
	cJSON_Delete(f->doc);
	sl_model_free(f->m);
	sl_model_free(f->ref);
}

/* What one change did, both ways. */
struct outcome {
	bool doc_refused;  /* sl_doc_put() refused the request: nothing else ran */
	bool existed;      /* DELETE: there was something to delete */
	int rc;            /* sl_model_apply_change() */
	bool whole;        /* the edited document validates whole */
	struct sl_error whole_err, incr_err;
	struct sl_model_delta delta; /* rc 0 */
};

static bool
incremental_kind(const struct sl_res_path *p)
{
	const char *c = sl_res_child_collection(p->type, p->child);

	return p->type == SL_RES_LB && c != NULL && p->child_name[0] != '\0' &&
	       (strcmp(c, "backendAddressPools") == 0 || strcmp(c, "loadBalancingRules") == 0);
}

static bool
why_set(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool
why_set(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return false;
}

/* After an accepted change: m must be the whole model; keep it, or undo it (undo true). */
static bool
fx_accepted(struct fx *f, struct sl_model *whole, struct sl_model_undo *u, cJSON *saved,
	    bool undo, char *why, size_t len)
{
	char d[256];

	if (!sl_model_equal(f->m, whole, d, sizeof(d))) {
		sl_model_undo_free(u);
		sl_model_free(whole);
		cJSON_Delete(saved);
		return why_set(why, len, "in place != whole: %s", d);
	}
	if (undo) {
		sl_model_undo_restore(f->m, u);
		sl_model_free(whole);
		cJSON_Delete(f->doc);
		f->doc = saved;
		if (!sl_model_equal(f->m, f->ref, d, sizeof(d)))
			return why_set(why, len, "restored != before: %s", d);
		return true;
	}
	sl_model_undo_free(u);
	sl_model_free(f->ref);
	f->ref = whole;
	cJSON_Delete(saved);
	return true;
}

/* -EAGAIN: the caller validates whole, and takes the whole model when valid. */
static bool
fx_again(struct fx *f, struct sl_model *whole, cJSON *saved)
{
	if (whole == NULL) {
		cJSON_Delete(f->doc);
		f->doc = saved;
		return true;
	}
	cJSON_Delete(saved);
	sl_model_free(f->m);
	sl_model_free(f->ref);
	f->ref = whole;
	f->m = whole_ok(f->doc);
	return true;
}

/*
 * PUT body (DELETE when NULL) of url on f's document, applied in place and
 * validated whole; the two must agree (false with why when not). A valid
 * change is kept (or undone, undo true); the document is put back
 * otherwise.
 */
static bool
fx_change(struct fx *f, const char *url, const cJSON *body, bool undo, struct outcome *o,
	  char *why, size_t len)
{
	struct sl_model_undo *u = NULL;
	struct sl_model *whole;
	struct sl_res_path p;
	struct sl_error err;
	bool created;
	cJSON *saved;
	char d[256];
	int http, rc;

	memset(o, 0, sizeof(*o));
	if (sl_res_path_parse(url, &p, &err) != 0)
		return why_set(why, len, "bad path %s", url);
	saved = cJSON_Duplicate(f->doc, 1);
	assert_non_null(saved);
	o->existed = true;
	if (body != NULL)
		rc = sl_doc_put(f->doc, &p, body, &created, &http, &err);
	else
		rc = sl_doc_delete(f->doc, &p, &o->existed, &http, &err);
	if (rc < 0) {
		o->doc_refused = true;
		cJSON_Delete(f->doc);
		f->doc = saved;
		return true;
	}
	whole = sl_config_from_json(f->doc, NULL, &o->whole_err);
	o->whole = whole != NULL;
	o->rc = sl_model_apply_change(f->m, f->doc, &p, body == NULL, &u, &o->incr_err);
	if (o->rc == -EAGAIN) {
		if (incremental_kind(&p) && o->existed) {
			sl_model_free(whole);
			cJSON_Delete(saved);
			return why_set(why, len, "-EAGAIN for a change done in place");
		}
		return fx_again(f, whole, saved);
	}
	if (!incremental_kind(&p) || !o->existed) {
		sl_model_undo_free(u);
		sl_model_free(whole);
		cJSON_Delete(saved);
		return why_set(why, len, "%d where -EAGAIN was due", o->rc);
	}
	if (whole != NULL && o->rc != 0) {
		sl_model_free(whole);
		cJSON_Delete(saved);
		return why_set(why, len, "refused in place (%d %s: %s), valid whole", o->rc,
			       o->incr_err.code, o->incr_err.message);
	}
	if (whole != NULL) {
		o->delta = *sl_model_undo_delta(u);
		return fx_accepted(f, whole, u, saved, undo, why, len);
	}
	cJSON_Delete(f->doc);
	f->doc = saved;
	if (o->rc != -EINVAL || o->incr_err.code[0] == '\0')
		return why_set(why, len, "accepted in place (%d), refused whole (%s: %s)", o->rc,
			       o->whole_err.code, o->whole_err.message);
	if (!sl_model_equal(f->m, f->ref, d, sizeof(d)))
		return why_set(why, len, "a refusal changed the model: %s", d);
	return true;
}

/* A change that must agree both ways and end as code says ("" accepted). */
static struct outcome
expect(struct fx *f, const char *url, const char *body_sq, const char *code)
{
	cJSON *body = body_sq != NULL ? sq_parse(body_sq) : NULL;
	struct outcome o;
	char why[512];

	if (!fx_change(f, url, body, false, &o, why, sizeof(why)))
		fail_msg("%s %s: %s", body != NULL ? "PUT" : "DELETE", url, why);
	cJSON_Delete(body);
	assert_false(o.doc_refused);
	if (code[0] == '\0') {
		if (!o.whole)
			fail_msg("%s refused: %s: %s", url, o.whole_err.code, o.whole_err.message);
		assert_int_equal(o.rc, 0);
	} else {
		assert_false(o.whole);
		assert_string_equal(o.whole_err.code, code);
		assert_int_equal(o.rc, -EINVAL);
		assert_string_equal(o.incr_err.code, code);
	}
	return o;
}

/*
 * The document of the deterministic cases. lb1's frontends name no subnet;
 * lb2's names vnet1's, so lb2 is in vnet1; basic is Basic; bare has no
 * frontend. nicpool and nicpool2 are NIC-based; vnetg delivers Floating IP
 * by GUE.
 */
#define FE(n, ip) "{'name':'" n "','properties':{'privateIPAddress':'" ip "'}}"
#define A(n, ip, vnet) \
	"{'name':'" n "','properties':{'ipAddress':'" ip "','virtualNetwork':{'id':'" VNET_ID vnet "'}}}"
#define POOL(n, addrs) "{'name':'" n "','properties':{'loadBalancerBackendAddresses':[" addrs "]}}"
#define REF(lb, coll, n) "{'id':'" lb "/" coll "/" n "'}"
#define RULE(lb, n, fe, pool, proto, port, extra)                                                \
	"{'name':'" n "','properties':{'frontendIPConfiguration':" REF(lb, "frontendIPConfigurations", fe) \
	",'backendAddressPool':" REF(lb, "backendAddressPools", pool) ",'protocol':'" proto        \
	"','frontendPort':" port extra "}}"
#define FIP ",'enableFloatingIP':true"
#define IPC(ip, pools)                                                                            \
	"{'name':'ip1','properties':{'privateIPAddress':'" ip "','subnet':{'id':'" S4 "'},"          \
	"'loadBalancerBackendAddressPools':[" pools "]}}"
#define NIC(n, ipcs) "{'name':'" n "','id':'" NIC_ID n "','properties':{'ipConfigurations':[" ipcs "]}}"

static const char doc_base[] =
	"{'settings':{'maxAddressesPerPool':4,'maxAddressesPerLoadBalancer':12},"
	"'virtualNetworks':["
	"{'name':'vnet1','id':'" VNET_ID "vnet1','properties':{'addressSpace':{'addressPrefixes':"
	"['10.0.0.0/16','fd00::/48']},'subnets':[{'name':'s4','properties':{'addressPrefix':'10.0.1.0/24'}}]}},"
	"{'name':'vnetg','id':'" VNET_ID "vnetg','properties':{'addressSpace':{'addressPrefixes':"
	"['10.9.0.0/16','fd09::/48']},'floatingIpDelivery':{'mode':'GUE'}}}],"
	"'loadBalancers':["
	"{'name':'lb1','id':'" LB1 "','sku':{'name':'Standard'},'properties':{"
	"'frontendIPConfigurations':[" FE("fe0", "192.0.2.10") "," FE("fe1", "192.0.2.11") ","
	FE("fe2", "192.0.2.12") "," FE("fe6", "2001:db8::6") "],"
	"'probes':[{'name':'probe1','properties':{'protocol':'Tcp','port':80}}],"
	"'backendAddressPools':[" POOL("pool0", A("a0", "10.0.0.4", "vnet1") "," A("a1", "10.0.0.5", "vnet1")) ","
	POOL("pool6", A("b0", "fd00::4", "vnet1")) "," POOL("spare", "") "," POOL("nicpool", "") ","
	POOL("nicpool2", "") "," POOL("gue", A("g0", "10.9.0.4", "vnetg")) "],"
	"'loadBalancingRules':[" RULE(LB1, "r0", "fe0", "pool0", "Tcp", "80", "") ","
	RULE(LB1, "r6", "fe6", "pool6", "Tcp", "80", "") "," RULE(LB1, "rf", "fe1", "pool0", "Tcp", "81", FIP) ","
	RULE(LB1, "rn", "fe0", "nicpool", "Tcp", "82", "") "," RULE(LB1, "rg", "fe6", "gue", "Tcp", "90", FIP) "],"
	"'inboundNatRules':[{'name':'nat0','properties':{'frontendIPConfiguration':"
	REF(LB1, "frontendIPConfigurations", "fe1") ",'protocol':'Tcp','frontendPort':2222,'backendPort':22}}]}},"
	"{'name':'lb2','id':'" LB2 "','sku':{'name':'Standard'},'properties':{"
	"'frontendIPConfigurations':[{'name':'fe0','properties':{'privateIPAddress':'10.0.1.100',"
	"'subnet':{'id':'" S4 "'}}}],"
	"'backendAddressPools':[" POOL("p0", A("a0", "10.0.1.20", "vnet1")) "],"
	"'loadBalancingRules':[" RULE(LB2, "r0", "fe0", "p0", "Tcp", "80", "") "]}},"
	"{'name':'basic','id':'" LBB "','sku':{'name':'Basic'},'properties':{"
	"'frontendIPConfigurations':[" FE("fe0", "192.0.2.30") "],'backendAddressPools':[{'name':'p0'}]}},"
	"{'name':'bare','id':'" LBE "','sku':{'name':'Standard'},'properties':{}}],"
	"'networkInterfaces':["
	NIC("nic0", IPC("10.0.1.4", REF(LB1, "backendAddressPools", "nicpool"))) ","
	NIC("nic1", IPC("10.0.1.5", REF(LB1, "backendAddressPools", "nicpool") ","
			REF(LB1, "backendAddressPools", "nicpool2"))) "]}";

#define POOLS LB1 "/backendAddressPools/"
#define RULES LB1 "/loadBalancingRules/"
#define ADDRS(x) "{'properties':{'loadBalancerBackendAddresses':[" x "]}}"
#define RBODY(fe, pool, proto, port, extra)                                                       \
	"{'properties':{'frontendIPConfiguration':" REF(LB1, "frontendIPConfigurations", fe)        \
	",'backendAddressPool':" REF(LB1, "backendAddressPools", pool) ",'protocol':'" proto       \
	"','frontendPort':" port extra "}}"

struct tcase {
	const char *url;
	const char *body; /* single-quoted; NULL: DELETE */
	const char *code; /* "": accepted */
};

static void
run_cases(const char *doc, const struct tcase *t, size_t n)
{
	struct fx f;
	size_t i;

	for (i = 0; i < n; i++) {
		fx_init(&f, sq_parse(doc));
		print_message("%s %s -> %s\n", t[i].body != NULL ? "PUT" : "DELETE", t[i].url,
			      t[i].code[0] != '\0' ? t[i].code : "accepted");
		expect(&f, t[i].url, t[i].body, t[i].code);
		fx_fini(&f);
	}
}

static void
test_pool_put(void **state)
{
	static const struct tcase t[] = {
		{POOLS "pool0", ADDRS(A("a0", "10.0.0.6", "vnet1") "," A("a1", "10.0.0.7", "vnet1") ","
				      A("a2", "10.0.0.8", "vnet1")), ""},
		{POOLS "pool9", ADDRS(A("x0", "10.0.0.9", "vnet1")), ""},
		{POOLS "Pool0", "{'properties':{'drainPeriodInSeconds':3600}}", ""},
		{POOLS "pool0", "{'properties':{'drainPeriodInSeconds':3601}}", "PropertyValueOutOfRange"},
		{POOLS "pool0", ADDRS(A("a0", "10.0.0.6", "vnet1") "," A("a1", "10.0.0.6", "vnet1")),
		 "DuplicateIPAddressInBackendAddressPool"},
		{POOLS "pool0", ADDRS(A("a0", "10.0.0.6", "vnet1") "," A("a0", "10.0.0.7", "vnet1")),
		 "DuplicateResourceName"},
		{POOLS "pool0", ADDRS(A("a0", "192.168.0.1", "vnet1")), "BackendAddressNotInVirtualNetwork"},
		{POOLS "pool0", ADDRS(A("a0", "0.0.0.0", "vnet1")), "InvalidIPAddress"},
		{POOLS "pool0", ADDRS(A("a0", "10.0.0.6", "vnetX")), "InvalidResourceReference"},
		{POOLS "pool0", ADDRS("{'name':'a0','properties':{'ipAddress':'10.0.0.6','virtualNetwork':{}}}"),
		 "BackendAddressVirtualNetworkNotDetermined"},
		{LB2 "/backendAddressPools/p0",
		 ADDRS("{'name':'a0','properties':{'ipAddress':'10.0.1.30','virtualNetwork':{}}}"), ""},
		{LB2 "/backendAddressPools/p0", ADDRS(A("a0", "10.9.0.5", "vnetg")),
		 "BackendAddressVirtualNetworkMismatch"},
		{POOLS "pool0", ADDRS("{'name':'a0','properties':{'ipAddress':'10.0.0.6','weight':1001,"
				      "'virtualNetwork':{'id':'" VNET_ID "vnet1'}}}"),
		 "PropertyValueOutOfRange"},
		{POOLS "pool0", ADDRS("{'name':'a0','properties':{'ipAddress':'10.0.0.6','adminState':'Sideways',"
				      "'virtualNetwork':{'id':'" VNET_ID "vnet1'}}}"),
		 "InvalidPropertyValue"},
		{POOLS "pool0", ADDRS(A("a0", "10.0.0.6", "vnet1") "," A("a1", "10.0.0.7", "vnet1") ","
				      A("a2", "10.0.0.8", "vnet1") "," A("a3", "10.0.0.9", "vnet1")), ""},
		{POOLS "pool0", ADDRS(A("a0", "10.0.0.6", "vnet1") "," A("a1", "10.0.0.7", "vnet1") ","
				      A("a2", "10.0.0.8", "vnet1") "," A("a3", "10.0.0.9", "vnet1") ","
				      A("a4", "10.0.0.10", "vnet1")),
		 "BackendAddressPoolSizeLimitExceeded"},
		/* DNAT rule r0 (IPv4 frontend) on pool0: no IPv6 backend */
		{POOLS "pool0", ADDRS(A("a0", "fd00::7", "vnet1")), "BackendAddressIPVersionMismatch"},
		/* Floating IP rule rg (IPv6 frontend) by GUE reaches IPv4 too, by L2 it does not */
		{POOLS "gue", ADDRS(A("g0", "10.9.0.4", "vnetg") "," A("g1", "fd09::4", "vnetg")), ""},
		{POOLS "gue", ADDRS(A("g0", "10.0.0.9", "vnet1")), "BackendAddressIPVersionMismatch"},
		{LBB "/backendAddressPools/p0", ADDRS(A("a0", "10.0.0.6", "vnet1")),
		 "IPBasedBackendAddressPoolRequiresStandardSku"},
		{LBB "/backendAddressPools/p0", "{'properties':{'drainPeriodInSeconds':5}}", ""},
		{LBE "/backendAddressPools/p0", ADDRS(A("a0", "10.0.0.6", "vnet1")),
		 "LoadBalancerWithoutFrontendIPCantHaveChildResources"},
		{POOLS "x-", ADDRS(""), "InvalidResourceName"},
		/* NIC-based: members stay, addresses cannot join */
		{POOLS "nicpool", "{'properties':{'drainPeriodInSeconds':30}}", ""},
		{POOLS "nicpool", ADDRS(A("a0", "10.0.0.6", "vnet1")),
		 "CannotMixIPBasedAddressesAndIPConfigurationsOnLoadBalancerBackendAddressPool"},
	};

	(void)state;
	run_cases(doc_base, t, sizeof(t) / sizeof(t[0]));
}

/* The load balancer's address limit (12): lb1 holds 7, of which 3 are NIC members. */
static void
test_pool_lb_limit(void **state)
{
	struct outcome o;
	struct fx f;

	(void)state;
	fx_init(&f, sq_parse(doc_base));
	o = expect(&f, POOLS "poolA", ADDRS(A("x0", "10.0.2.1", "vnet1") "," A("x1", "10.0.2.2", "vnet1") ","
					    A("x2", "10.0.2.3", "vnet1") "," A("x3", "10.0.2.4", "vnet1")), "");
	assert_int_equal(o.delta.kind, SL_DELTA_POOL);
	assert_int_equal(o.delta.op, SL_DELTA_CREATE);
	assert_int_equal(o.delta.lb, 0);
	assert_int_equal(o.delta.idx, 6);
	expect(&f, POOLS "poolB", ADDRS(A("y0", "10.0.3.1", "vnet1") "," A("y1", "10.0.3.2", "vnet1") ","
				      A("y2", "10.0.3.3", "vnet1")),
	       "LoadBalancerBackendAddressLimitExceeded");
	expect(&f, POOLS "poolB", ADDRS(A("y0", "10.0.3.1", "vnet1") "," A("y1", "10.0.3.2", "vnet1")),
	       "LoadBalancerBackendAddressLimitExceeded");
	o = expect(&f, POOLS "poolB", ADDRS(A("y0", "10.0.3.1", "vnet1")), "");
	assert_int_equal(o.delta.idx, 7);
	/* replacing a pool counts its new size, not both */
	o = expect(&f, POOLS "poolA", ADDRS(A("x0", "10.0.2.5", "vnet1") "," A("x1", "10.0.2.6", "vnet1") ","
					    A("x2", "10.0.2.7", "vnet1") "," A("x3", "10.0.2.8", "vnet1")), "");
	assert_int_equal(o.delta.op, SL_DELTA_REPLACE);
	assert_int_equal(o.delta.idx, 6);
	expect(&f, POOLS "pool6", ADDRS(A("b0", "fd00::4", "vnet1") "," A("b1", "fd00::5", "vnet1")),
	       "LoadBalancerBackendAddressLimitExceeded");
	fx_fini(&f);
}

static void
test_pool_maglev_limit(void **state)
{
	static const char doc[] =
		"{'settings':{'maglevTableSize':7},'virtualNetworks':[{'name':'vnet1','id':'" VNET_ID
		"vnet1','properties':{'addressSpace':{'addressPrefixes':['10.0.0.0/16']}}}],"
		"'loadBalancers':[{'name':'lb1','id':'" LB1 "','sku':{'name':'Standard'},'properties':{"
		"'frontendIPConfigurations':[" FE("fe0", "192.0.2.10") "],'backendAddressPools':["
		POOL("pool0", A("a0", "10.0.0.4", "vnet1")) "]}}]}";
	static const struct tcase t[] = {
		{POOLS "pool0", ADDRS(A("a0", "10.0.0.1", "vnet1") "," A("a1", "10.0.0.2", "vnet1") ","
				      A("a2", "10.0.0.3", "vnet1") "," A("a3", "10.0.0.4", "vnet1") ","
				      A("a4", "10.0.0.5", "vnet1") "," A("a5", "10.0.0.6", "vnet1") ","
				      A("a6", "10.0.0.7", "vnet1")), ""},
		{POOLS "pool0", ADDRS(A("a0", "10.0.0.1", "vnet1") "," A("a1", "10.0.0.2", "vnet1") ","
				      A("a2", "10.0.0.3", "vnet1") "," A("a3", "10.0.0.4", "vnet1") ","
				      A("a4", "10.0.0.5", "vnet1") "," A("a5", "10.0.0.6", "vnet1") ","
				      A("a6", "10.0.0.7", "vnet1") "," A("a7", "10.0.0.8", "vnet1")),
		 "InvalidMaglevTableSize"},
	};

	(void)state;
	run_cases(doc, t, sizeof(t) / sizeof(t[0]));
}

/* IP-based addresses learn the NIC ipConfiguration that has their address; NIC members stay. */
static void
test_pool_links(void **state)
{
	const struct sl_pool_cfg *pool;
	struct fx f;

	(void)state;
	fx_init(&f, sq_parse(doc_base));
	expect(&f, POOLS "spare", ADDRS(A("s0", "10.0.1.5", "vnet1") "," A("s1", "10.0.1.4", "vnet1") ","
				       A("s2", "10.0.1.6", "vnet1")), "");
	pool = &f.m->lbs[0].pools[2];
	assert_string_equal(pool->name, "spare");
	assert_int_equal(pool->addresses[0].nic, 1);
	assert_int_equal(pool->addresses[0].ipconfig, 0);
	assert_int_equal(pool->addresses[1].nic, 0);
	assert_int_equal(pool->addresses[2].nic, -1);
	expect(&f, POOLS "nicpool", "{'properties':{'drainPeriodInSeconds':30}}", "");
	pool = &f.m->lbs[0].pools[3];
	assert_int_equal(pool->n_addresses, 2);
	assert_true(pool->addresses[1].from_nic);
	assert_string_equal(pool->addresses[1].name, "nic1/ip1");
	assert_int_equal(pool->drain_period_s, 30);
	fx_fini(&f);
}

static void
test_pool_delete(void **state)
{
	static const struct tcase t[] = {
		{POOLS "pool0", NULL, "InvalidResourceReference"},    /* rules r0, rf */
		{POOLS "nicpool2", NULL, "InvalidResourceReference"}, /* nic1 joins it */
		{POOLS "nicpool", NULL, "InvalidResourceReference"},  /* both */
		{POOLS "spare", NULL, ""},
		{LB2 "/backendAddressPools/p0", NULL, "InvalidResourceReference"},
		{LBB "/backendAddressPools/P0", NULL, ""},
	};
	struct outcome o;
	struct fx f;

	(void)state;
	run_cases(doc_base, t, sizeof(t) / sizeof(t[0]));
	/* The pools after it move down: rules' and NIC ipConfigurations' references with them. */
	fx_init(&f, sq_parse(doc_base));
	o = expect(&f, POOLS "spare", NULL, "");
	assert_int_equal(o.delta.op, SL_DELTA_DELETE);
	assert_int_equal(o.delta.idx, 2);
	assert_int_equal(f.m->lbs[0].rules[3].pool, 2); /* rn: nicpool */
	assert_int_equal(f.m->lbs[0].rules[4].pool, 4); /* rg: gue */
	assert_int_equal(f.m->nics[1].ipconfigs[0].pools[1].idx, 3);
	expect(&f, RULES "rg", NULL, "");
	expect(&f, POOLS "pool6", NULL, "InvalidResourceReference");
	expect(&f, RULES "r6", NULL, "");
	expect(&f, POOLS "pool6", NULL, "");
	assert_int_equal(f.m->nics[0].ipconfigs[0].pools[0].idx, 1);
	assert_int_equal(f.m->nics[1].ipconfigs[0].pools[1].idx, 2);
	fx_fini(&f);
}

static void
test_rule_put(void **state)
{
	static const struct tcase t[] = {
		{RULES "r0", RBODY("fe0", "pool0", "Tcp", "8080", ""), ""},
		{RULES "r9", RBODY("fe1", "pool0", "Udp", "80", ",'probe':" REF(LB1, "probes", "probe1")), ""},
		{RULES "r9", RBODY("fe2", "pool0", "All", "0", ",'backendPort':0"), ""},
		{RULES "r9", RBODY("fe0", "pool0", "Tcp", "80", ",'backendPort':85"),
		 "RulesUseSameFrontendIPConfigurationProtocolAndPort"},
		{RULES "r9", RBODY("fe0", "pool0", "All", "0", ",'backendPort':0"),
		 "RulesUseSameFrontendIPConfigurationProtocolAndPort"},
		{RULES "r9", RBODY("fe1", "pool0", "Tcp", "90", ",'backendPort':80"),
		 "RulesOfSameLoadBalancerTypeUseSameBackendPortProtocolAndIPConfig"},
		/* both Floating IP: they may share the backend port */
		{RULES "r9", RBODY("fe0", "pool0", "Tcp", "81", FIP), ""},
		{RULES "r9", RBODY("fe1", "pool0", "Tcp", "2222", ""),
		 "RulesUseSameFrontendIPConfigurationProtocolAndPort"},
		{RULES "r9", RBODY("fe1", "pool0", "Udp", "2222", ""), ""},
		{RULES "r9", RBODY("fe1", "pool0", "Tcp", "0", ""), "InvalidHaPortsRule"},
		{RULES "r9", RBODY("fe2", "pool0", "All", "80", ""), "InvalidHaPortsRule"},
		{RULES "r9", RBODY("fe2", "pool0", "Tcp", "85", FIP ",'backendPort':86"),
		 "FloatingIPRequiresSameFrontendAndBackendPort"},
		{RULES "r9", RBODY("feX", "pool0", "Tcp", "85", ""), "InvalidResourceReference"},
		{RULES "r9", RBODY("fe2", "poolX", "Tcp", "85", ""), "InvalidResourceReference"},
		{RULES "r9", RBODY("fe2", "pool0", "Tcp", "85", ",'probe':" REF(LB1, "probes", "probeX")),
		 "InvalidResourceReference"},
		{RULES "r9", "{'properties':{'frontendIPConfiguration':" REF(LB1, "frontendIPConfigurations", "fe2")
		 ",'backendAddressPool':" REF(LB2, "backendAddressPools", "p0") ",'protocol':'Tcp','frontendPort':85}}",
		 "InvalidResourceReference"},
		{RULES "r9", RBODY("fe6", "pool0", "Tcp", "85", ""), "BackendAddressIPVersionMismatch"},
		{RULES "r9", RBODY("fe6", "nicpool", "Tcp", "85", ""), "BackendAddressIPVersionMismatch"},
		{RULES "r9", RBODY("fe6", "gue", "Tcp", "85", FIP), ""},
		{RULES "r9", RBODY("fe2", "pool0", "Tcp", "85", ",'idleTimeoutInMinutes':31"),
		 "PropertyValueOutOfRange"},
		{RULES "r9", RBODY("fe2", "pool0", "Icmp", "85", ""), "InvalidPropertyValue"},
		{RULES "r9", RBODY("fe2", "pool0", "Tcp", "85", ",'loadDistribution':'Random'"),
		 "InvalidPropertyValue"},
		{RULES "r9", RBODY("fe2", "pool0", "Tcp", "65535", ""), "PropertyValueOutOfRange"},
		{RULES "r9", "{}", "MissingRequiredProperty"},
		{LBE "/loadBalancingRules/r0", RBODY("fe0", "pool0", "Tcp", "80", ""),
		 "LoadBalancerWithoutFrontendIPCantHaveChildResources"},
		{RULES "r0", NULL, ""},
		{RULES "rn", NULL, ""},
	};

	(void)state;
	run_cases(doc_base, t, sizeof(t) / sizeof(t[0]));
}

/* SL_CONFIG_MAX_RULES_PER_LB rules: one more is refused, replacing one is not. */
static void
test_rule_limit(void **state)
{
	cJSON *doc = sq_parse(doc_base), *rules, *r0;
	char name[32];
	struct fx f;
	uint32_t i;

	(void)state;
	rules = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(doc, "loadBalancers"), 0), "properties"), "loadBalancingRules");
	r0 = cJSON_GetArrayItem(rules, 0);
	for (i = cJSON_GetArraySize(rules); i < SL_CONFIG_MAX_RULES_PER_LB; i++) {
		cJSON *r = cJSON_Duplicate(r0, 1), *p = cJSON_GetObjectItem(r, "properties");

		snprintf(name, sizeof(name), "x%u", i);
		cJSON_ReplaceItemInObject(r, "name", cJSON_CreateString(name));
		cJSON_ReplaceItemInObject(p, "frontendPort", cJSON_CreateNumber(1000 + i));
		cJSON_AddItemToArray(rules, r);
	}
	fx_init(&f, doc);
	expect(&f, RULES "r9", RBODY("fe2", "pool0", "Tcp", "85", ""), "LoadBalancingRuleLimitExceeded");
	expect(&f, RULES "x100", RBODY("fe2", "pool0", "Tcp", "85", ""), "");
	expect(&f, RULES "x101", RBODY("fe0", "pool0", "Tcp", "85", ""),
	       "RulesOfSameLoadBalancerTypeUseSameBackendPortProtocolAndIPConfig");
	fx_fini(&f);
}

/* What is not a pool or rule of a load balancer, or not there, is validated whole. */
static void
test_not_in_place(void **state)
{
	static const struct {
		const char *url, *body;
	} t[] = {
		{NIC_ID "nic1", "{'properties':{'ipConfigurations':[" IPC("10.0.1.5", "") "]}}"},
		{LB1 "/frontendIPConfigurations/fe9", "{'properties':{'privateIPAddress':'192.0.2.99'}}"},
		{LB1 "/probes/probe1", NULL},
		{LB1 "/inboundNatRules/nat0", NULL},
		{VNET_ID "vnet1/subnets/s9", "{'properties':{'addressPrefix':'10.0.9.0/24'}}"},
		{LB1 "/backendAddressPools/nothere", NULL},
		{LB1 "/loadBalancingRules/nothere", NULL},
	};
	struct outcome o;
	struct fx f;
	char why[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cJSON *body = t[i].body != NULL ? sq_parse(t[i].body) : NULL;

		fx_init(&f, sq_parse(doc_base));
		if (!fx_change(&f, t[i].url, body, false, &o, why, sizeof(why)))
			fail_msg("%s: %s", t[i].url, why);
		assert_int_equal(o.rc, -EAGAIN);
		cJSON_Delete(body);
		fx_fini(&f);
	}
}

/*
 * A load balancer whose "Properties" a file spells otherwise (the
 * validator reads members ignoring case): a pool or rule PUT lands in that
 * object, not in a second "properties" that validation would not read,
 * where the PUT was answered as created and changed nothing. Likewise a
 * pool whose "Name" is spelled so is the one a PUT of its name replaces
 * (a second pool of that name was added, and the PUT refused as a
 * duplicate). Both found by fuzz_config.
 */
static void
test_properties_any_case(void **state)
{
	cJSON *doc = sq_parse(doc_base), *lb1, *pool0;
	struct outcome o;
	struct fx f;
	uint32_t rules, pools;

	(void)state;
	lb1 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "loadBalancers"), 0);
	assert_non_null(cJSON_GetObjectItem(lb1, "properties"));
	strcpy(cJSON_GetObjectItem(lb1, "properties")->string, "Properties");
	pool0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(lb1, "properties"),
						       "backendAddressPools"), 0);
	assert_string_equal(cJSON_GetObjectItem(pool0, "name")->valuestring, "pool0");
	strcpy(cJSON_GetObjectItem(pool0, "name")->string, "Name");
	fx_init(&f, doc);
	rules = f.m->lbs[0].n_rules;
	pools = f.m->lbs[0].n_pools;
	o = expect(&f, RULES "rFuzz", RBODY("fe2", "pool0", "Udp", "8081", ""), "");
	assert_int_equal(o.rc, 0);
	assert_int_equal(f.m->lbs[0].n_rules, rules + 1);
	o = expect(&f, POOLS "poolN", ADDRS(A("a0", "10.0.0.6", "vnet1")), "");
	assert_int_equal(o.rc, 0);
	assert_int_equal(f.m->lbs[0].n_pools, pools + 1);
	assert_null(cJSON_GetObjectItemCaseSensitive(lb1, "properties"));
	o = expect(&f, POOLS "pool0", ADDRS(A("a0", "10.0.0.7", "vnet1")), "");
	assert_int_equal(o.rc, 0);
	assert_int_equal(f.m->lbs[0].n_pools, pools + 1);
	fx_fini(&f);
}

/* Every kind of change undone: the model is what it was. */
static void
test_undo(void **state)
{
	static const struct {
		const char *url, *body;
	} t[] = {
		{POOLS "pool0", ADDRS(A("a0", "10.0.0.6", "vnet1"))},
		{POOLS "poolN", ADDRS(A("a0", "10.0.0.6", "vnet1"))},
		{POOLS "nicpool", "{'properties':{'drainPeriodInSeconds':30}}"},
		{POOLS "spare", NULL},
		{RULES "r0", RBODY("fe0", "pool0", "Udp", "80", "")},
		{RULES "rN", RBODY("fe2", "pool0", "Udp", "80", "")},
		{RULES "r0", NULL},
	};
	struct outcome o;
	struct fx f;
	char why[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cJSON *body = t[i].body != NULL ? sq_parse(t[i].body) : NULL;

		fx_init(&f, sq_parse(doc_base));
		if (!fx_change(&f, t[i].url, body, true, &o, why, sizeof(why)))
			fail_msg("%s: %s", t[i].url, why);
		assert_int_equal(o.rc, 0);
		cJSON_Delete(body);
		fx_fini(&f);
	}
}

static void
test_model_equal(void **state)
{
	cJSON *doc = sq_parse(doc_base);
	struct sl_model *a = whole_ok(doc), *b = whole_ok(doc);
	char why[256];

	(void)state;
	assert_true(sl_model_equal(a, b, why, sizeof(why)));
	b->lbs[0].pools[0].addresses[1].weight = 7;
	assert_false(sl_model_equal(a, b, why, sizeof(why)));
	assert_non_null(strstr(why, "pools[0].addresses[1].weight"));
	b->lbs[0].pools[0].addresses[1].weight = 1;
	b->nics[1].ipconfigs[0].pools[1].idx = 3;
	assert_false(sl_model_equal(a, b, why, sizeof(why)));
	assert_non_null(strstr(why, "nics[1].ipconfigs[0].pools[1].idx"));
	b->nics[1].ipconfigs[0].pools[1].idx = 4;
	b->lbs[0].n_rules--;
	assert_false(sl_model_equal(a, b, NULL, 0));
	b->lbs[0].n_rules++;
	b->lbs[1].rules[0].name[1] = 'X';
	assert_false(sl_model_equal(a, b, why, sizeof(why)));
	assert_non_null(strstr(why, "name"));
	sl_model_free(a);
	sl_model_free(b);
	cJSON_Delete(doc);
}

/* ---- The randomized equivalence test. ---- */

struct rng {
	uint64_t s;
};

static uint32_t
rnd(struct rng *r, uint32_t n)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (uint32_t)((r->s * 2685821657736338717ull) >> 33) % n;
}

/* A candidate backend address and the virtual network it lies in (index into vnets). */
struct cand {
	const char *ip;
	int vnet;
};

/* A NIC whose pool memberships the sequence changes (through the whole path). */
struct nic_spec {
	const char *url, *ip, *subnet;
};

/* A starting document and what random changes draw from. */
struct universe {
	const char *name;
	cJSON *(*make)(void);
	const char *lbs[3]; /* ids of the load balancers changed */
	uint32_t n_lbs;
	uint32_t n_fes, n_pools, n_rules; /* names fe<i>, pool<i>, rule<i> (and a few more) */
	const char *vnets[4];             /* virtual network ids addresses name */
	uint32_t n_vnets;
	const struct cand *cands;
	uint32_t n_cands;
	const struct nic_spec *nics;
	uint32_t n_nics;
	uint32_t max_pool; /* the pool limit, for sizes around it */
};

static cJSON *
random_address(struct rng *r, const struct universe *u, uint32_t i)
{
	cJSON *a = cJSON_CreateObject(), *p, *vn;
	const struct cand *c = &u->cands[rnd(r, u->n_cands)];
	char name[16];
	int v = c->vnet;

	snprintf(name, sizeof(name), "a%u", rnd(r, 40) == 0 ? 0 : i);
	cJSON_AddStringToObject(a, "name", name);
	p = cJSON_AddObjectToObject(a, "properties");
	cJSON_AddStringToObject(p, "ipAddress", rnd(r, 60) == 0 ? "10.0.0.300" : c->ip);
	vn = cJSON_AddObjectToObject(p, "virtualNetwork");
	if (rnd(r, 12) == 0)
		v = (int)rnd(r, u->n_vnets + 1) - 1; /* -1: no id */
	if (v >= 0)
		cJSON_AddStringToObject(vn, "id", u->vnets[v]);
	if (rnd(r, 5) == 0) {
		static const int w[] = {0, 1, 5, 1000, 1001};

		cJSON_AddNumberToObject(p, "weight", w[rnd(r, 5)]);
	}
	if (rnd(r, 6) == 0) {
		static const char *const st[] = {"None", "Up", "Down", "Sideways"};

		cJSON_AddStringToObject(p, "adminState", st[rnd(r, rnd(r, 10) == 0 ? 4 : 3)]);
	}
	return a;
}

static cJSON *
random_pool(struct rng *r, const struct universe *u)
{
	cJSON *b = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(b, "properties"), *arr;
	uint32_t n, i;

	switch (rnd(r, 10)) {
	case 0:
		n = 0;
		break;
	case 1:
	case 2:
		n = u->max_pool - 1 + rnd(r, 3); /* around the limit */
		break;
	default:
		n = 1 + rnd(r, u->max_pool < 4 ? u->max_pool : 4);
	}
	if (rnd(r, 8) == 0) {
		static const int d[] = {0, 30, 3600, 3601};

		cJSON_AddNumberToObject(p, "drainPeriodInSeconds", d[rnd(r, 4)]);
	}
	if (n == 0 && rnd(r, 2) == 0)
		return b;
	arr = cJSON_AddArrayToObject(p, "loadBalancerBackendAddresses");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, random_address(r, u, i));
	return b;
}

static void
add_ref(cJSON *p, const char *key, const char *lb, const char *coll, const char *name)
{
	char id[512];

	snprintf(id, sizeof(id), "%s/%s/%s", lb, coll, name);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(p, key), "id", id);
}

static cJSON *
random_rule(struct rng *r, const struct universe *u, const char *lb)
{
	static const int ports[] = {80, 443, 53, 8080, 2222};
	static const char *const protos[] = {"Tcp", "Udp", "All", "Icmp"};
	cJSON *b = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(b, "properties");
	const char *other = u->lbs[rnd(r, u->n_lbs)];
	const char *proto;
	char name[16];
	uint32_t k = rnd(r, 100);
	int port;

	snprintf(name, sizeof(name), "fe%u", rnd(r, u->n_fes + (rnd(r, 20) == 0)));
	add_ref(p, "frontendIPConfiguration", lb, "frontendIPConfigurations", name);
	snprintf(name, sizeof(name), "pool%u", rnd(r, u->n_pools + 1));
	add_ref(p, "backendAddressPool", rnd(r, 30) == 0 ? other : lb, "backendAddressPools", name);
	if (rnd(r, 3) == 0)
		add_ref(p, "probe", lb, "probes", rnd(r, 10) == 0 ? "probeX" : "probe1");
	proto = protos[k < 45 ? 0 : k < 80 ? 1 : k < 98 ? 2 : 3];
	cJSON_AddStringToObject(p, "protocol", proto);
	port = ports[rnd(r, 5)];
	if (strcmp(proto, "All") == 0 ? rnd(r, 8) != 0 : rnd(r, 40) == 0)
		port = 0;
	cJSON_AddNumberToObject(p, "frontendPort", port);
	k = rnd(r, 10);
	if (k < 4)
		cJSON_AddNumberToObject(p, "backendPort", port);
	else if (k < 6)
		cJSON_AddNumberToObject(p, "backendPort", ports[rnd(r, 5)]);
	if (rnd(r, 2) == 0)
		cJSON_AddBoolToObject(p, "enableFloatingIP", rnd(r, 3) != 0);
	if (rnd(r, 10) == 0) {
		static const int t[] = {4, 30, 31};

		cJSON_AddNumberToObject(p, "idleTimeoutInMinutes", t[rnd(r, 3)]);
	}
	if (rnd(r, 10) == 0) {
		static const char *const d[] = {"Default", "SourceIP", "SourceIPProtocol", "Random"};

		cJSON_AddStringToObject(p, "loadDistribution", d[rnd(r, 4)]);
	}
	return b;
}

/* A NIC of u joining a random set of the first load balancer's pools. */
static cJSON *
random_nic(struct rng *r, const struct universe *u, const struct nic_spec *n)
{
	cJSON *b = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(b, "properties");
	cJSON *ic = cJSON_CreateObject(), *icp, *refs;
	char name[16], id[512];
	uint32_t i, k = rnd(r, 3);

	cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "ipConfigurations"), ic);
	cJSON_AddStringToObject(ic, "name", "ip1");
	icp = cJSON_AddObjectToObject(ic, "properties");
	cJSON_AddStringToObject(icp, "privateIPAddress", n->ip);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(icp, "subnet"), "id", n->subnet);
	refs = cJSON_AddArrayToObject(icp, "loadBalancerBackendAddressPools");
	for (i = 0; i < k; i++) {
		cJSON *ref = cJSON_CreateObject();

		snprintf(name, sizeof(name), "pool%u", rnd(r, u->n_pools));
		snprintf(id, sizeof(id), "%s/backendAddressPools/%s", u->lbs[0], name);
		cJSON_AddStringToObject(ref, "id", id);
		cJSON_AddItemToArray(refs, ref);
	}
	return b;
}

/* Counts of what the sequence did, to see it exercised every kind both ways. */
enum { K_POOL_PUT, K_POOL_DEL, K_RULE_PUT, K_RULE_DEL, K_NIC, K_MAX };

static const char *const kind_names[K_MAX] = {"pool PUT", "pool DELETE", "rule PUT", "rule DELETE",
					      "NIC PUT (whole)"};

static void
run_universe(const struct universe *u, uint32_t seed, uint32_t changes)
{
	uint32_t ok[K_MAX] = {0}, refused[K_MAX] = {0}, step, undone = 0;
	struct rng r = {0x9e3779b97f4a7c15ull ^ ((uint64_t)seed << 17) ^ (uint64_t)seed};
	struct outcome o;
	struct fx f;
	char url[512], why[768];

	fx_init(&f, u->make());
	for (step = 0; step < changes; step++) {
		const char *lb = u->lbs[rnd(&r, u->n_lbs)];
		uint32_t k = rnd(&r, 100), kind;
		cJSON *body = NULL;
		bool undo;

		if (k < 38) {
			kind = K_POOL_PUT;
			snprintf(url, sizeof(url), "%s/backendAddressPools/pool%u", lb,
				 rnd(&r, u->n_pools + 2));
			body = random_pool(&r, u);
		} else if (k < 48) {
			kind = K_POOL_DEL;
			snprintf(url, sizeof(url), "%s/backendAddressPools/pool%u", lb,
				 rnd(&r, u->n_pools + 2));
		} else if (k < 84) {
			kind = K_RULE_PUT;
			snprintf(url, sizeof(url), "%s/loadBalancingRules/rule%u", lb,
				 rnd(&r, u->n_rules + 3));
			body = random_rule(&r, u, lb);
		} else if (k < 96 || u->n_nics == 0) {
			kind = K_RULE_DEL;
			snprintf(url, sizeof(url), "%s/loadBalancingRules/rule%u", lb,
				 rnd(&r, u->n_rules + 3));
		} else {
			const struct nic_spec *n = &u->nics[rnd(&r, u->n_nics)];

			kind = K_NIC;
			snprintf(url, sizeof(url), "%s", n->url);
			body = random_nic(&r, u, n);
		}
		undo = rnd(&r, 8) == 0;
		if (!fx_change(&f, url, body, undo, &o, why, sizeof(why))) {
			print_message("SL_INCR_SEED=%u universe %s step %u: %s %s: %s\n", seed, u->name,
				      step, body != NULL ? "PUT" : "DELETE", url, why);
			if (body != NULL) {
				char *t = cJSON_PrintUnformatted(body);

				print_message("body: %s\n", t);
				free(t);
			}
			fail();
		}
		cJSON_Delete(body);
		if (o.doc_refused || !o.existed)
			continue;
		if (o.whole)
			ok[kind]++;
		else
			refused[kind]++;
		undone += o.whole && o.rc == 0 && undo;
	}
	print_message("universe %s (seed %u, %u changes, %u undone):\n", u->name, seed, changes, undone);
	for (uint32_t k = 0; k < K_MAX; k++) {
		print_message("  %-16s %5u accepted %5u refused\n", kind_names[k], ok[k], refused[k]);
		/* every kind both ways (a NIC change and a rule DELETE are never refused by
		 * the same means, but each must happen) */
		if (k == K_NIC && u->n_nics == 0)
			continue;
		if (changes >= 400 && (ok[k] == 0 || (refused[k] == 0 && k != K_RULE_DEL &&
						       k != K_NIC)))
			fail_msg("universe %s: %s never %s", u->name, kind_names[k],
				 ok[k] == 0 ? "accepted" : "refused");
	}
	fx_fini(&f);
}

/* IP-based pools of both families, DNAT and Floating IP (L2 and GUE), HA ports, NAT rules. */
#define U1_LB ARM "/loadBalancers/lb1"
static const char u1_doc[] =
	"{'settings':{'maxAddressesPerPool':5,'maxAddressesPerLoadBalancer':16},"
	"'virtualNetworks':["
	"{'name':'vnet1','id':'" VNET_ID "vnet1','properties':{'addressSpace':{'addressPrefixes':"
	"['10.0.0.0/16','fd00::/48']}}},"
	"{'name':'vnetg','id':'" VNET_ID "vnetg','properties':{'addressSpace':{'addressPrefixes':"
	"['10.9.0.0/16','fd09::/48']},'floatingIpDelivery':{'mode':'GUE'}}}],"
	"'loadBalancers':[{'name':'lb1','id':'" U1_LB "','sku':{'name':'Standard'},'properties':{"
	"'frontendIPConfigurations':[" FE("fe0", "192.0.2.10") "," FE("fe1", "192.0.2.11") ","
	FE("fe2", "192.0.2.12") "," FE("fe3", "2001:db8::3") "],"
	"'probes':[{'name':'probe1','properties':{'protocol':'Tcp','port':80}}],"
	"'backendAddressPools':[" POOL("pool0", A("a0", "10.0.0.4", "vnet1") "," A("a1", "10.0.0.5", "vnet1")) ","
	POOL("pool1", A("a0", "fd00::4", "vnet1")) ","
	POOL("pool2", A("a0", "10.9.0.4", "vnetg") "," A("a1", "fd09::4", "vnetg")) "," POOL("pool3", "") "],"
	"'loadBalancingRules':[" RULE(U1_LB, "rule0", "fe0", "pool0", "Tcp", "80", "") ","
	RULE(U1_LB, "rule1", "fe3", "pool1", "Tcp", "80", "") ","
	RULE(U1_LB, "rule2", "fe1", "pool2", "Tcp", "443", FIP) ","
	RULE(U1_LB, "rule3", "fe2", "pool0", "All", "0", ",'backendPort':0") ","
	RULE(U1_LB, "rule4", "fe1", "pool0", "Udp", "53", "") "],"
	"'inboundNatRules':["
	"{'name':'nat0','properties':{'frontendIPConfiguration':" REF(U1_LB, "frontendIPConfigurations", "fe1")
	",'protocol':'Tcp','frontendPort':2222,'backendPort':22}},"
	"{'name':'nat1','properties':{'frontendIPConfiguration':" REF(U1_LB, "frontendIPConfigurations", "fe0")
	",'protocol':'Udp','frontendPort':53}}]}}]}";

static cJSON *
u1_make(void)
{
	return sq_parse(u1_doc);
}

static const struct cand u1_cands[] = {
	{"10.0.0.4", 0}, {"10.0.0.5", 0}, {"10.0.0.6", 0}, {"10.0.0.7", 0}, {"10.0.0.8", 0},
	{"10.0.0.9", 0}, {"10.0.1.1", 0}, {"10.0.1.2", 0}, {"10.0.0.10", 0}, {"10.0.0.11", 0},
	{"fd00::4", 0}, {"fd00::5", 0}, {"fd00::6", 0}, {"10.9.0.4", 1}, {"10.9.0.5", 1},
	{"fd09::4", 1}, {"fd09::5", 1}, {"192.168.0.1", 0},
};

/* NIC-based pools (IPv4 and IPv6), IP-based addresses that NIC ipConfigurations have, a NAT backend. */
#define U2_S6 VNET_ID "vnet1/subnets/s6"
static const char u2_doc[] =
	"{'settings':{'maxAddressesPerPool':4,'maxAddressesPerLoadBalancer':12},"
	"'virtualNetworks':[{'name':'vnet1','id':'" VNET_ID "vnet1','properties':{'addressSpace':"
	"{'addressPrefixes':['10.0.0.0/16','fd00::/48']},'subnets':["
	"{'name':'s4','properties':{'addressPrefix':'10.0.1.0/24'}},"
	"{'name':'s6','properties':{'addressPrefix':'fd00:0:0:1::/64'}}]}}],"
	"'loadBalancers':[{'name':'lb1','id':'" LB1 "','sku':{'name':'Standard'},'properties':{"
	"'frontendIPConfigurations':["
	"{'name':'fe0','properties':{'privateIPAddress':'10.0.1.100','subnet':{'id':'" S4 "'}}},"
	"{'name':'fe1','properties':{'privateIPAddress':'10.0.1.101','subnet':{'id':'" S4 "'}}},"
	"{'name':'fe2','properties':{'privateIPAddress':'fd00:0:0:1::100','subnet':{'id':'" U2_S6 "'}}}],"
	"'probes':[{'name':'probe1','properties':{'protocol':'Http','port':80,'requestPath':'/'}}],"
	"'backendAddressPools':[" POOL("pool0", "") "," POOL("pool1", "") ","
	POOL("pool2", A("a0", "10.0.1.4", "vnet1") "," A("a1", "10.0.1.50", "vnet1")) "," POOL("pool3", "") "],"
	"'loadBalancingRules':[" RULE(LB1, "rule0", "fe0", "pool0", "Tcp", "80", "") ","
	RULE(LB1, "rule1", "fe2", "pool1", "Tcp", "80", "") ","
	RULE(LB1, "rule2", "fe1", "pool2", "Tcp", "443", "") "],"
	"'inboundNatRules':[{'name':'nat0','properties':{'frontendIPConfiguration':"
	REF(LB1, "frontendIPConfigurations", "fe0") ",'protocol':'Tcp','frontendPort':2222,'backendPort':22}}]}}],"
	"'networkInterfaces':["
	"{'name':'nic0','id':'" NIC_ID "nic0','properties':{'ipConfigurations':[{'name':'ip1','properties':{"
	"'privateIPAddress':'10.0.1.4','subnet':{'id':'" S4 "'},'loadBalancerBackendAddressPools':["
	REF(LB1, "backendAddressPools", "pool0") "],'loadBalancerInboundNatRules':["
	REF(LB1, "inboundNatRules", "nat0") "]}}]}},"
	NIC("nic1", IPC("10.0.1.5", REF(LB1, "backendAddressPools", "pool0"))) ","
	"{'name':'nic2','id':'" NIC_ID "nic2','properties':{'ipConfigurations':[{'name':'ip1','properties':{"
	"'privateIPAddress':'fd00:0:0:1::4','subnet':{'id':'" U2_S6 "'},'loadBalancerBackendAddressPools':["
	REF(LB1, "backendAddressPools", "pool1") "]}}]}},"
	NIC("nic3", IPC("10.0.1.6", "")) ","
	"{'name':'nic4','id':'" NIC_ID "nic4','properties':{'ipConfigurations':[{'name':'ip1','properties':{"
	"'privateIPAddress':'fd00:0:0:1::5','subnet':{'id':'" U2_S6 "'}}}]}}]}";

static cJSON *
u2_make(void)
{
	return sq_parse(u2_doc);
}

static const struct cand u2_cands[] = {
	{"10.0.1.4", 0}, {"10.0.1.5", 0}, {"10.0.1.6", 0}, {"10.0.1.7", 0}, {"10.0.1.50", 0},
	{"10.0.2.1", 0}, {"10.0.2.2", 0}, {"10.0.3.3", 0}, {"fd00:0:0:1::4", 0},
	{"fd00:0:0:1::5", 0}, {"fd00::9", 0}, {"192.168.0.1", 0},
};

static const struct nic_spec u2_nics[] = {
	{NIC_ID "nic1", "10.0.1.5", S4},
	{NIC_ID "nic3", "10.0.1.6", S4},
	{NIC_ID "nic4", "fd00:0:0:1::5", U2_S6},
};

/*
 * Scoped ids: load balancers named alike in two resource groups, each with
 * a virtual network of the same name, and a Basic one without an id (in
 * every scope) whose pools NICs join.
 */
#define ARM1 "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network"
#define ARM2 "/subscriptions/s/resourceGroups/rg2/providers/Microsoft.Network"
#define U3_V1 ARM1 "/virtualNetworks/vnet"
#define U3_V2 ARM2 "/virtualNetworks/vnet"
#define U3_S1 U3_V1 "/subnets/s1"
#define U3_L1 ARM1 "/loadBalancers/lb"
#define U3_L2 ARM2 "/loadBalancers/lb"
#define U3_LB ARM1 "/loadBalancers/basic"
#define A3(n, ip, vid) "{'name':'" n "','properties':{'ipAddress':'" ip "','virtualNetwork':{'id':'" vid "'}}}"
#define FES3(a, b, c) "'frontendIPConfigurations':[" FE("fe0", a) "," FE("fe1", b) "," FE("fe2", c) "],"
#define PROBE3 "'probes':[{'name':'probe1','properties':{'protocol':'Tcp','port':80}}],"
static const char u3_doc[] =
	"{'virtualNetworks':["
	"{'name':'vnet','id':'" U3_V1 "','properties':{'addressSpace':{'addressPrefixes':"
	"['10.1.0.0/16','fd01::/48']},'subnets':[{'name':'s1','properties':{'addressPrefix':'10.1.1.0/24'}}]}},"
	"{'name':'vnet','id':'" U3_V2 "','properties':{'addressSpace':{'addressPrefixes':['10.2.0.0/16']}}}],"
	"'loadBalancers':["
	"{'name':'lb','id':'" U3_L1 "','sku':{'name':'Standard'},'properties':{"
	FES3("192.0.2.1", "192.0.2.2", "2001:db8::1") PROBE3
	"'backendAddressPools':[" POOL("pool0", A3("a0", "10.1.0.4", U3_V1)) ","
	POOL("pool1", A3("a0", "fd01::4", U3_V1)) "," POOL("pool2", "") "],"
	"'loadBalancingRules':[" RULE(U3_L1, "rule0", "fe0", "pool0", "Tcp", "80", "") ","
	RULE(U3_L1, "rule1", "fe2", "pool1", "Tcp", "80", "") "]}},"
	"{'name':'lb','id':'" U3_L2 "','sku':{'name':'Standard'},'properties':{"
	FES3("192.0.2.11", "192.0.2.12", "2001:db8::11") PROBE3
	"'backendAddressPools':[" POOL("pool0", A3("a0", "10.2.0.4", U3_V2)) "," POOL("pool1", "") ","
	POOL("pool2", "") "],"
	"'loadBalancingRules':[" RULE(U3_L2, "rule0", "fe0", "pool0", "Tcp", "80", "") "]}},"
	"{'name':'basic','sku':{'name':'Basic'},'properties':{"
	FES3("192.0.2.21", "192.0.2.22", "2001:db8::21") PROBE3
	"'backendAddressPools':[" POOL("pool0", "") "," POOL("pool1", "") "," POOL("pool2", "") "],"
	"'loadBalancingRules':[" RULE(U3_LB, "rule0", "fe0", "pool0", "Tcp", "80", "") "]}}],"
	"'networkInterfaces':["
	"{'name':'nicb','id':'" ARM1 "/networkInterfaces/nicb','properties':{'ipConfigurations':[{'name':'ip1',"
	"'properties':{'privateIPAddress':'10.1.1.4','subnet':{'id':'" U3_S1 "'},"
	"'loadBalancerBackendAddressPools':[" REF(U3_LB, "backendAddressPools", "pool0") "]}}]}},"
	"{'name':'nicc','id':'" ARM1 "/networkInterfaces/nicc','properties':{'ipConfigurations':[{'name':'ip1',"
	"'properties':{'privateIPAddress':'10.1.1.5','subnet':{'id':'" U3_S1 "'}}}]}}]}";

static cJSON *
u3_make(void)
{
	return sq_parse(u3_doc);
}

static const struct cand u3_cands[] = {
	{"10.1.0.4", 0}, {"10.1.0.5", 0}, {"10.1.0.6", 0}, {"10.1.0.7", 0}, {"fd01::4", 0},
	{"fd01::5", 0}, {"10.1.1.4", 0}, {"10.2.0.4", 1}, {"10.2.0.5", 1}, {"10.2.0.6", 1},
};

static const struct nic_spec u3_nics[] = {
	{ARM1 "/networkInterfaces/nicb", "10.1.1.4", U3_S1},
	{ARM1 "/networkInterfaces/nicc", "10.1.1.5", U3_S1},
};

/*
 * A larger load balancer: 24 frontends, 30 pools (0-11 under 60 Floating
 * IP rules, 12-19 under none, 20-29 joined by 20 NICs), so deleting a pool
 * moves many references.
 */
static cJSON *
u4_make(void)
{
	cJSON *doc = sq_parse("{'settings':{'maxAddressesPerPool':8,'maxAddressesPerLoadBalancer':150},"
			      "'virtualNetworks':[{'name':'vnet1','id':'" VNET_ID "vnet1','properties':"
			      "{'addressSpace':{'addressPrefixes':['10.0.0.0/16']},'subnets':[{'name':'s4',"
			      "'properties':{'addressPrefix':'10.0.1.0/24'}}]}}],"
			      "'loadBalancers':[{'name':'lb1','id':'" LB1 "','sku':{'name':'Standard'},"
			      "'properties':{'probes':[{'name':'probe1','properties':{'protocol':'Tcp',"
			      "'port':80}}]}}],'networkInterfaces':[]}");
	cJSON *props = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "loadBalancers"), 0),
					   "properties");
	cJSON *fes = cJSON_AddArrayToObject(props, "frontendIPConfigurations");
	cJSON *pools = cJSON_AddArrayToObject(props, "backendAddressPools");
	cJSON *rules = cJSON_AddArrayToObject(props, "loadBalancingRules");
	cJSON *nics = cJSON_GetObjectItem(doc, "networkInterfaces");
	char buf[1024], ip[64], name[32];
	uint32_t i, j;

	for (i = 0; i < 24; i++) {
		snprintf(buf, sizeof(buf), "{\"name\":\"fe%u\",\"properties\":{\"privateIPAddress\":"
			 "\"192.0.2.%u\"}}", i, 10 + i);
		cJSON_AddItemToArray(fes, cJSON_Parse(buf));
	}
	for (i = 0; i < 30; i++) {
		cJSON *pool = cJSON_CreateObject(), *addrs;

		snprintf(name, sizeof(name), "pool%u", i);
		cJSON_AddStringToObject(pool, "name", name);
		addrs = cJSON_AddArrayToObject(cJSON_AddObjectToObject(pool, "properties"),
					       "loadBalancerBackendAddresses");
		for (j = 0; i < 20 && j < 3; j++) {
			snprintf(ip, sizeof(ip), "10.0.%u.%u", 10 + i, 4 + j);
			snprintf(buf, sizeof(buf), "{\"name\":\"a%u\",\"properties\":{\"ipAddress\":\"%s\","
				 "\"virtualNetwork\":{\"id\":\"%s\"}}}", j, ip, VNET_ID "vnet1");
			cJSON_AddItemToArray(addrs, cJSON_Parse(buf));
		}
		cJSON_AddItemToArray(pools, pool);
	}
	for (i = 0; i < 60; i++) {
		snprintf(buf, sizeof(buf), "{\"name\":\"rule%u\",\"properties\":{"
			 "\"frontendIPConfiguration\":{\"id\":\"%s/frontendIPConfigurations/fe%u\"},"
			 "\"backendAddressPool\":{\"id\":\"%s/backendAddressPools/pool%u\"},"
			 "\"protocol\":\"Tcp\",\"frontendPort\":%u,\"enableFloatingIP\":true}}",
			 i, LB1, i % 24, LB1, i % 12, 1000 + i / 24);
		cJSON_AddItemToArray(rules, cJSON_Parse(buf));
	}
	for (i = 0; i < 20; i++) {
		snprintf(buf, sizeof(buf), "{\"name\":\"nic%u\",\"id\":\"%snic%u\",\"properties\":{"
			 "\"ipConfigurations\":[{\"name\":\"ip1\",\"properties\":{"
			 "\"privateIPAddress\":\"10.0.1.%u\",\"subnet\":{\"id\":\"%s\"},"
			 "\"loadBalancerBackendAddressPools\":[{\"id\":\"%s/backendAddressPools/pool%u\"},"
			 "{\"id\":\"%s/backendAddressPools/pool%u\"}]}}]}}",
			 i, NIC_ID, i, 4 + i, S4, LB1, 20 + i % 10, LB1, 20 + (i + 3) % 10);
		cJSON_AddItemToArray(nics, cJSON_Parse(buf));
	}
	return doc;
}

static const struct cand u4_cands[] = {
	{"10.0.10.4", 0}, {"10.0.10.5", 0}, {"10.0.30.1", 0}, {"10.0.30.2", 0}, {"10.0.30.3", 0},
	{"10.0.30.4", 0}, {"10.0.30.5", 0}, {"10.0.30.6", 0}, {"10.0.30.7", 0}, {"10.0.30.8", 0},
	{"10.0.30.9", 0}, {"10.0.1.4", 0}, {"10.0.1.5", 0}, {"10.0.1.6", 0}, {"10.0.1.7", 0},
	{"172.16.0.1", 0},
};

static const struct nic_spec u4_nics[] = {
	{NIC_ID "nic0", "10.0.1.4", S4},
	{NIC_ID "nic7", "10.0.1.11", S4},
	{NIC_ID "nic19", "10.0.1.23", S4},
};

#define DIM(a) (sizeof(a) / sizeof((a)[0]))

static const struct universe universes[] = {
	{"ip", u1_make, {U1_LB}, 1, 4, 4, 5, {VNET_ID "vnet1", VNET_ID "vnetg", VNET_ID "vnetX"}, 3,
	 u1_cands, DIM(u1_cands), NULL, 0, 5},
	{"nic", u2_make, {LB1}, 1, 3, 4, 3, {VNET_ID "vnet1", VNET_ID "vnetX"}, 2, u2_cands,
	 DIM(u2_cands), u2_nics, DIM(u2_nics), 4},
	{"scoped", u3_make, {U3_LB, U3_L1, U3_L2}, 3, 3, 3, 2, {U3_V1, U3_V2, "vnet", ARM1 "/virtualNetworks/other"},
	 4, u3_cands, DIM(u3_cands), u3_nics, DIM(u3_nics), 5},
	{"big", u4_make, {LB1}, 1, 24, 30, 60, {VNET_ID "vnet1", VNET_ID "vnetX"}, 2, u4_cands,
	 DIM(u4_cands), u4_nics, DIM(u4_nics), 8},
};

static uint32_t
env_u32(const char *name, uint32_t def)
{
	const char *s = getenv(name);

	return s != NULL && *s != '\0' ? (uint32_t)strtoul(s, NULL, 0) : def;
}

static void
test_random_equivalence(void **state)
{
	uint32_t seed = env_u32("SL_INCR_SEED", 1), changes = env_u32("SL_INCR_CHANGES", 1000);
	size_t i;

	(void)state;
	for (i = 0; i < DIM(universes); i++)
		run_universe(&universes[i], seed + (uint32_t)i, changes);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_put),
		cmocka_unit_test(test_pool_lb_limit),
		cmocka_unit_test(test_pool_maglev_limit),
		cmocka_unit_test(test_pool_links),
		cmocka_unit_test(test_pool_delete),
		cmocka_unit_test(test_rule_put),
		cmocka_unit_test(test_rule_limit),
		cmocka_unit_test(test_not_in_place),
		cmocka_unit_test(test_undo),
		cmocka_unit_test(test_properties_any_case),
		cmocka_unit_test(test_model_equal),
		cmocka_unit_test(test_random_equivalence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
