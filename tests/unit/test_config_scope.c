/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_config_scope.c: a resource is its scope and name. The same name in
 * two resource groups makes two resources in the model; references resolve
 * by scope; one without a scope that names two is refused as ambiguous; a
 * resource without an id may share its name with none. Load balancers and
 * NICs sharing a name get labels ("<rg>:<name>") in the snapshot and the
 * health hook, and counter keys by identity. A backend address without a
 * virtualNetwork id takes its load balancer's frontend network.
 *
 * The JSON texts are single-quoted (sl_test_json() turns them into JSON).
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

#include "sl_dynamic_ip.h"
#include "sl_test_config.h"

#define SC(sub, rg) "/subscriptions/" sub "/resourceGroups/" rg "/providers/Microsoft.Network"
/* Virtual network v with subnet s (prefix net.1.0/24 of net.0.0/16), in rg of subscription s. */
#define VNET_IN(sub, rg, net)                                                                \
	"{'name':'v','id':'" SC(sub, rg) "/virtualNetworks/v','properties':{'addressSpace':"     \
	"{'addressPrefixes':['" net ".0.0/16']},'subnets':[{'name':'s','properties':"              \
	"{'addressPrefix':'" net ".1.0/24'}}]}}"
/* Load balancer lb in rg: frontend fe (ip, in vnet_rg's v/s), pool p (addrs), rule r on port 80. */
#define LB_IN(sub, rg, vnet_rg, ip, addrs)                                                   \
	"{'name':'lb','id':'" SC(sub, rg) "/loadBalancers/lb','sku':{'name':'Standard'},"        \
	"'properties':{'frontendIPConfigurations':[{'name':'fe','properties':{'privateIPAddress':'" \
	ip "','subnet':{'id':'" SC(sub, vnet_rg) "/virtualNetworks/v/subnets/s'}}}],"             \
	"'backendAddressPools':[{'name':'p','properties':{'loadBalancerBackendAddresses':["      \
	addrs "]}}],'loadBalancingRules':[{'name':'r','properties':{"                             \
	"'frontendIPConfiguration':{'id':'" SC(sub, rg) "/loadBalancers/lb/frontendIPConfigurations/fe'}," \
	"'backendAddressPool':{'id':'" SC(sub, rg) "/loadBalancers/lb/backendAddressPools/p'},"  \
	"'protocol':'Tcp','frontendPort':80,'backendPort':80}}]}}"
#define ADDR_IN(n, ip, sub, rg)                                                              \
	"{'name':'" n "','properties':{'ipAddress':'" ip "','virtualNetwork':{'id':'"             \
	SC(sub, rg) "/virtualNetworks/v'}}}"
/* NIC nic in rg with ipconfig ipc1 at ip in (sub, vnet_rg)'s v/s, a member of pool p of lb in lb_rg. */
#define NIC_IN(sub, rg, vnet_rg, lb_rg, ip)                                                  \
	"{'name':'nic','id':'" SC(sub, rg) "/networkInterfaces/nic','properties':{"              \
	"'ipConfigurations':[{'name':'ipc1','properties':{'privateIPAddress':'" ip "',"           \
	"'subnet':{'id':'" SC(sub, vnet_rg) "/virtualNetworks/v/subnets/s'},"                     \
	"'loadBalancerBackendAddressPools':[{'id':'" SC(sub, lb_rg)                                \
	"/loadBalancers/lb/backendAddressPools/p'}]}}]}}"
#define DOC3(vnets, lbs, nics)                                                               \
	"{'virtualNetworks':[" vnets "],'loadBalancers':[" lbs "],'networkInterfaces':[" nics "]}"

static void
expect_error(const char *doc, const char *code, const char *target, const char *path)
{
	struct sl_error err;
	struct sl_model *m = sl_test_parse(doc, &err);

	if (m != NULL) {
		sl_model_free(m);
		fail_msg("accepted; want %s", code);
	}
	assert_string_equal(err.code, code);
	if (target != NULL)
		assert_string_equal(err.target, target);
	if (path != NULL)
		assert_string_equal(err.json_path, path);
	assert_true(err.message[0] != '\0');
}

/* Two vnets and two load balancers of one name: each reference finds its own. */
static void
test_same_name_two_groups(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	struct sl_model *m = sl_test_parse_ok(DOC3(
		VNET_IN("s", "A", "10.1") "," VNET_IN("s", "B", "10.2"),
		LB_IN("s", "A", "A", "10.1.1.10", ADDR_IN("x", "10.1.0.4", "s", "A")) ","
		LB_IN("s", "B", "B", "10.2.1.10", ADDR_IN("x", "10.2.0.4", "s", "B")), ""));
	struct sl_error err;
	struct sl_snapshot *s;
	uint32_t a, b;

	(void)state;
	assert_int_equal(m->n_vnets, 2);
	assert_int_equal(m->n_lbs, 2);
	assert_string_equal(m->vnets[1].scope.rg, "B");
	/* each frontend and address is in its own group's network */
	assert_int_equal(m->lbs[0].frontends[0].vnet, 0);
	assert_int_equal(m->lbs[1].frontends[0].vnet, 1);
	assert_int_equal(m->lbs[0].pools[0].addresses[0].vnet, 0);
	assert_int_equal(m->lbs[1].pools[0].addresses[0].vnet, 1);
	/* labels tell them apart */
	assert_string_equal(m->lbs[0].label, "A:lb");
	assert_string_equal(m->lbs[1].label, "B:lb");
	assert_ptr_equal(sl_model_find_lb(m, "S", "b", "LB"), &m->lbs[1]);
	assert_null(sl_model_find_lb(m, "s", "C", "lb"));

	sl_test_make_ports();
	s = sl_compile(m, sl_test_ports, 2, rids, bids, 1, &err);
	assert_non_null(s);
	a = sl_test_backend(s, "A:lb/p/x");
	b = sl_test_backend(s, "B:lb/p/x");
	assert_int_not_equal(s->backends[a].counter_id, s->backends[b].counter_id);
	assert_int_not_equal(sl_test_rule(s, "A:lb/r")->counter_id,
			     sl_test_rule(s, "B:lb/r")->counter_id);
	assert_string_equal(s->frontends[1].name, "B:lb/fe");
	assert_string_equal(sl_id_registry_name(bids, s->backends[b].counter_id), "@s/b/lb/p/x");
	sl_snapshot_free(s);
	sl_model_free(m);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

/* The same resource group name in two subscriptions: the label says which subscription. */
static void
test_labels_with_subscription(void **state)
{
	struct sl_model *m = sl_test_parse_ok(DOC3(
		VNET_IN("s1", "G", "10.1") "," VNET_IN("s2", "G", "10.2"),
		LB_IN("s1", "G", "G", "10.1.1.10", ADDR_IN("x", "10.1.0.4", "s1", "G")) ","
		LB_IN("s2", "G", "G", "10.2.1.10", ADDR_IN("x", "10.2.0.4", "s2", "G")), ""));

	(void)state;
	assert_string_equal(m->lbs[0].label, "s1:G:lb");
	assert_string_equal(m->lbs[1].label, "s2:G:lb");
	assert_int_equal(m->lbs[1].frontends[0].vnet, 1);
	sl_model_free(m);
}

/* Two NICs of one name in one pool: two members, with two labels and two counters. */
static void
test_nics_of_one_name(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	struct sl_model *m = sl_test_parse_ok(DOC3(
		VNET_IN("s", "A", "10.1"), LB_IN("s", "A", "A", "10.1.1.10", ""),
		NIC_IN("s", "A", "A", "A", "10.1.1.4") "," NIC_IN("s", "B", "A", "A", "10.1.1.5")));
	const struct sl_pool_cfg *pool = &m->lbs[0].pools[0];
	struct sl_error err;
	struct sl_snapshot *s;
	char label[SL_ADDR_LABEL_MAX];
	uint32_t a, b;

	(void)state;
	assert_int_equal(m->n_nics, 2);
	assert_string_equal(m->nics[0].label, "A:nic");
	assert_string_equal(m->nics[1].label, "B:nic");
	assert_int_equal(pool->n_addresses, 2);
	sl_address_label(m, &pool->addresses[1], label, sizeof(label));
	assert_string_equal(label, "B:nic/ipc1");
	/* the load balancer's name is its own: no other shares it */
	assert_string_equal(m->lbs[0].label, "lb");

	sl_test_make_ports();
	s = sl_compile(m, sl_test_ports, 2, rids, bids, 1, &err);
	assert_non_null(s);
	a = sl_test_backend(s, "lb/p/A:nic/ipc1");
	b = sl_test_backend(s, "lb/p/B:nic/ipc1");
	assert_int_not_equal(s->backends[a].counter_id, s->backends[b].counter_id);
	assert_string_equal(sl_id_registry_name(bids, s->backends[b].counter_id),
			    "@s/a/lb/p/@s/b/nic/ipc1");
	sl_snapshot_free(s);
	sl_model_free(m);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

/* A reference names the scope it means; without one, two namesakes are ambiguous. */
static void
test_references_by_scope(void **state)
{
	(void)state;
	/* a frontend in group A's network while the load balancer is in group B */
	struct sl_model *m = sl_test_parse_ok(DOC3(
		VNET_IN("s", "A", "10.1") "," VNET_IN("s", "B", "10.2"),
		LB_IN("s", "B", "A", "10.1.1.10", ""), ""));

	assert_int_equal(m->lbs[0].vnet, 0);
	sl_model_free(m);

	/* the address's network is in group B: not the load balancer's (A) */
	expect_error(DOC3(VNET_IN("s", "A", "10.1") "," VNET_IN("s", "B", "10.2"),
			  LB_IN("s", "A", "A", "10.1.1.10", ADDR_IN("x", "10.1.0.4", "s", "B")), ""),
		     "BackendAddressVirtualNetworkMismatch",
		     "loadBalancers/lb/backendAddressPools/p/loadBalancerBackendAddresses/x", NULL);
	/* a group that has no such network */
	expect_error(DOC3(VNET_IN("s", "A", "10.1"),
			  LB_IN("s", "A", "C", "10.1.1.10", ""), ""),
		     "InvalidResourceReference", "loadBalancers/lb/frontendIPConfigurations/fe",
		     "$.loadBalancers[0].properties.frontendIPConfigurations[0].properties.subnet.id");
	/* a relative id (no scope) that two networks answer to */
	expect_error(DOC3(VNET_IN("s", "A", "10.1") "," VNET_IN("s", "B", "10.2"),
			  "{'name':'lb','properties':{'frontendIPConfigurations':[{'name':'fe',"
			  "'properties':{'privateIPAddress':'10.1.1.10','subnet':{'id':"
			  "'virtualNetworks/v/subnets/s'}}}]}}", ""),
		     "AmbiguousResourceReference", "loadBalancers/lb/frontendIPConfigurations/fe",
		     "$.loadBalancers[0].properties.frontendIPConfigurations[0].properties.subnet.id");
	/* a NIC joining the pool of "lb" without saying which: ambiguous */
	expect_error(DOC3(VNET_IN("s", "A", "10.1") "," VNET_IN("s", "B", "10.2"),
			  LB_IN("s", "A", "A", "10.1.1.10", "") "," LB_IN("s", "B", "B", "10.2.1.10", ""),
			  "{'name':'nic','properties':{'ipConfigurations':[{'name':'i','properties':{"
			  "'privateIPAddress':'10.1.1.4','subnet':{'id':'" SC("s", "A")
			  "/virtualNetworks/v/subnets/s'},'loadBalancerBackendAddressPools':[{'id':"
			  "'loadBalancers/lb/backendAddressPools/p'}]}}]}}"),
		     "AmbiguousResourceReference", "networkInterfaces/nic/ipConfigurations/i", NULL);
	/* a rule of A's load balancer may not use B's frontend */
	expect_error(DOC3(VNET_IN("s", "A", "10.1"),
			  "{'name':'lb','id':'" SC("s", "A") "/loadBalancers/lb','properties':{"
			  "'frontendIPConfigurations':[{'name':'fe','properties':{'privateIPAddress':"
			  "'10.1.1.10'}}],'backendAddressPools':[{'name':'p'}],'loadBalancingRules':[{"
			  "'name':'r','properties':{'frontendIPConfiguration':{'id':'" SC("s", "B")
			  "/loadBalancers/lb/frontendIPConfigurations/fe'},'backendAddressPool':{'id':"
			  "'p'},'protocol':'Tcp','frontendPort':80}}]}}", ""),
		     "InvalidResourceReference", "loadBalancers/lb/loadBalancingRules/r", NULL);
}

/* One name twice in one scope, or beside a resource without an id, is one resource twice. */
static void
test_duplicates(void **state)
{
	(void)state;
	expect_error(DOC3(VNET_IN("s", "A", "10.1") "," VNET_IN("S", "a", "10.2"), "", ""),
		     "DuplicateResourceName", "virtualNetworks/v", "$.virtualNetworks[1].name");
	expect_error(DOC3(VNET_IN("s", "A", "10.1") ","
			  "{'name':'V','properties':{'addressSpace':{'addressPrefixes':['10.2.0.0/16']}}}",
			  "", ""),
		     "DuplicateResourceName", "virtualNetworks/V", "$.virtualNetworks[1].name");
	expect_error(DOC3(VNET_IN("s", "A", "10.1"),
			  LB_IN("s", "A", "A", "10.1.1.10", "") ","
			  "{'name':'lb','properties':{'frontendIPConfigurations':[{'name':'fe',"
			  "'properties':{'privateIPAddress':'10.1.1.11'}}]}}", ""),
		     "DuplicateResourceName", "loadBalancers/lb", "$.loadBalancers[1].name");
	expect_error(DOC3(VNET_IN("s", "A", "10.1"), LB_IN("s", "A", "A", "10.1.1.10", ""),
			  NIC_IN("s", "B", "A", "A", "10.1.1.4") "," NIC_IN("s", "B", "A", "A", "10.1.1.5")),
		     "DuplicateResourceName", "networkInterfaces/nic", "$.networkInterfaces[1].name");
}

/* Dynamic addresses come from the subnet of the network the id's scope names. */
static void
test_dynamic_ip_by_scope(void **state)
{
	char *text = sl_test_json(DOC3(
		VNET_IN("s", "A", "10.1") "," VNET_IN("s", "B", "10.2"), "",
		"{'name':'nic','id':'" SC("s", "B") "/networkInterfaces/nic','properties':{"
		"'ipConfigurations':[{'name':'i','properties':{'subnet':{'id':'" SC("s", "B")
		"/virtualNetworks/v/subnets/s'}}}]}}"));
	cJSON *doc = cJSON_Parse(text);
	struct sl_error err;
	const cJSON *props;

	(void)state;
	assert_int_equal(sl_config_assign_dynamic_ips(doc, &err), 1);
	props = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "networkInterfaces"), 0), "properties"),
		"ipConfigurations"), 0), "properties");
	assert_string_equal(cJSON_GetObjectItem(props, "privateIPAddress")->valuestring, "10.2.1.4");
	cJSON_Delete(doc);
	free(text);
}

/* An address whose virtualNetwork has no id (ARM's exported templates) is in the frontends' network. */
static void
test_address_without_vnet_id(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	struct sl_model *m = sl_test_parse_ok(DOC3(
		VNET_IN("s", "A", "10.1") "," VNET_IN("s", "B", "10.2"),
		LB_IN("s", "B", "A", "10.1.1.10",
		      "{'name':'addr1','properties':{'ipAddress':'10.1.1.4','virtualNetwork':"
		      "{'location':'eastus'}}}"),
		"{'name':'n','properties':{'ipConfigurations':[{'name':'i','properties':{"
		"'privateIPAddress':'10.1.1.4','subnet':{'id':'" SC("s", "A")
		"/virtualNetworks/v/subnets/s'}}}]}}"));
	const struct sl_address *a = &m->lbs[0].pools[0].addresses[0];
	struct sl_error err;
	struct sl_snapshot *s;

	(void)state;
	assert_int_equal(a->vnet, 0);
	/* the NIC ipConfiguration that has the address in that network is found */
	assert_int_equal(a->nic, 0);
	assert_int_equal(a->ipconfig, 0);
	sl_test_make_ports();
	s = sl_compile(m, sl_test_ports, 2, rids, bids, 1, &err);
	assert_non_null(s);
	assert_true(sl_ip_addr_eq(&s->backends[sl_test_backend(s, "lb/p/addr1")].addr,
				  &a->addr));
	assert_int_equal(s->pools[0].n_members, 1);
	sl_snapshot_free(s);
	sl_model_free(m);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);

	/* no frontend names a subnet: the network cannot be told */
	expect_error(DOC3(VNET_IN("s", "A", "10.1"),
			  "{'name':'lb','sku':{'name':'Standard'},'properties':{"
			  "'frontendIPConfigurations':[{'name':'fe','properties':{'privateIPAddress':"
			  "'10.1.1.10'}}],'backendAddressPools':[{'name':'p','properties':{"
			  "'loadBalancerBackendAddresses':[{'name':'addr1','properties':{'ipAddress':"
			  "'10.1.1.4','virtualNetwork':{'location':'eastus'}}}]}}]}}", ""),
		     "BackendAddressVirtualNetworkNotDetermined",
		     "loadBalancers/lb/backendAddressPools/p/loadBalancerBackendAddresses/addr1",
		     "$.loadBalancers[0].properties.backendAddressPools[0].properties."
		     "loadBalancerBackendAddresses[0].properties.virtualNetwork.id");
	/* virtualNetwork itself stays required, as in Azure */
	expect_error(DOC3(VNET_IN("s", "A", "10.1"),
			  LB_IN("s", "A", "A", "10.1.1.10",
				"{'name':'addr1','properties':{'ipAddress':'10.1.1.4'}}"), ""),
		     "MissingRequiredProperty", NULL, NULL);
}

/* What the health hook is asked: load balancers by label. */
struct health_calls {
	char lbs[4][SL_LABEL_MAX];
	int n;
};

static int
record_down(void *ctx, const char *lb, const char *pool, const char *address)
{
	struct health_calls *h = ctx;

	(void)pool;
	(void)address;
	if (h->n < 4)
		snprintf(h->lbs[h->n++], SL_LABEL_MAX, "%s", lb);
	return strcmp(lb, "B:lb") == 0; /* B's backend is probed down, A's is not */
}

static void
test_health_by_label(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	struct sl_model *m = sl_test_parse_ok(DOC3(
		VNET_IN("s", "A", "10.1") "," VNET_IN("s", "B", "10.2"),
		LB_IN("s", "A", "A", "10.1.1.10", ADDR_IN("x", "10.1.0.4", "s", "A")) ","
		LB_IN("s", "B", "B", "10.2.1.10", ADDR_IN("x", "10.2.0.4", "s", "B")), ""));
	struct health_calls calls = {.n = 0};
	struct sl_health_hook hook = {record_down, &calls};
	struct sl_error err;
	struct sl_snapshot *s;

	(void)state;
	sl_test_make_ports();
	s = sl_compile_cached(m, sl_test_ports, 2, rids, bids, NULL, &hook, 1, &err);
	assert_non_null(s);
	assert_int_equal(calls.n, 2);
	assert_string_equal(calls.lbs[0], "A:lb");
	assert_string_equal(calls.lbs[1], "B:lb");
	assert_int_equal(s->backends[sl_test_backend(s, "A:lb/p/x")].usable, 1);
	assert_int_equal(s->backends[sl_test_backend(s, "B:lb/p/x")].usable, 0);
	sl_snapshot_free(s);
	sl_model_free(m);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_name_two_groups),
		cmocka_unit_test(test_labels_with_subscription),
		cmocka_unit_test(test_nics_of_one_name),
		cmocka_unit_test(test_references_by_scope),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_dynamic_ip_by_scope),
		cmocka_unit_test(test_address_without_vnet_id),
		cmocka_unit_test(test_health_by_label),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
