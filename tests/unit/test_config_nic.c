/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_config_nic.c: network interfaces in the configuration model: the
 * seed's NIC bodies (NIC-based and IP-based pools), dynamic address
 * assignment, inbound NAT rules with their one backend ipConfiguration, and
 * the counter keys of NIC-based backends.
 *
 * The JSON texts below are written with single quotes for readability and
 * turned into JSON by sl_test_json() (no name or value here holds a quote).
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

#include "sl_test_config.h"

/* --- network interfaces, NAT rules, limits --------------------------------- */

/*
 * The seed's REST request bodies for PUT .../networkInterfaces/{nic-name},
 * verbatim but for the placeholders: by NIC (the pool reference is one
 * object, and no address: Dynamic) and by IP address.
 */
static const char sl_seed_nic_by_nic_body[] =
	"{\n"
	"  \"properties\": {\n"
	"    \"enableAcceleratedNetworking\": true,\n"
	"    \"ipConfigurations\": [\n"
	"      {\n"
	"        \"name\": \"ipconfig1\",\n"
	"        \"properties\": {\n"
	"          \"subnet\": {\n"
	"            \"id\": \"/subscriptions/subid/resourceGroups/testrg/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/default\"\n"
	"          },\n"
	"          \"loadBalancerBackendAddressPools\": {\n"
	"                                    \"id\": \"/subscriptions/subid/resourceGroups/testrg/providers/Microsoft.Network/loadBalancers/lb/backendAddressPools/backend\"\n"
	"          }\n"
	"        }\n"
	"      }\n"
	"    ]\n"
	"  },\n"
	"  \"location\": \"eastus\"\n"
	"}\n";

static const char sl_seed_nic_by_ip_body[] =
	"{\n"
	"  \"properties\": {\n"
	"    \"enableAcceleratedNetworking\": true,\n"
	"    \"ipConfigurations\": [\n"
	"      {\n"
	"        \"name\": \"ipconfig1\",\n"
	"        \"properties\": {\n"
	"          \"privateIPAddress\": \"10.0.0.4\",\n"
	"          \"subnet\": {\n"
	"            \"id\": \"/subscriptions/subid/resourceGroups/testrg/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/default\"\n"
	"          }\n"
	"        }\n"
	"      }\n"
	"    ]\n"
	"  },\n"
	"  \"location\": \"eastus\"\n"
	"}\n";

/* The seed's vnet and load balancer lb (Basic unless standard), pool "backend" given by pool_body. */
static cJSON *
sl_test_seed_doc(int standard, const char *pool_body)
{
	char *text = sl_test_json(
		"{'virtualNetworks':[{'name':'vnet1','id':'/subscriptions/subid/resourceGroups/testrg/providers/Microsoft.Network/virtualNetworks/vnet1',"
		"'properties':{'addressSpace':{'addressPrefixes':['10.0.0.0/16']},"
		"'subnets':[{'name':'default','properties':{'addressPrefix':'10.0.0.0/24'}}]}}],"
		"'loadBalancers':[{'name':'lb','properties':{"
		"'frontendIPConfigurations':[{'name':'fe','properties':{'privateIPAddress':'192.0.2.1'}}],"
		"'backendAddressPools':[],"
		"'loadBalancingRules':[{'name':'http','properties':{'frontendIPConfiguration':{'id':'fe'},"
		"'backendAddressPool':{'id':'backend'},'protocol':'Tcp','frontendPort':80}}]}}],"
		"'networkInterfaces':[]}");
	cJSON *doc = cJSON_Parse(text), *lb, *pool = cJSON_Parse(pool_body);

	free(text);
	assert_non_null(doc);
	assert_non_null(pool);
	lb = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "loadBalancers"), 0);
	if (standard) {
		cJSON *sku = cJSON_AddObjectToObject(lb, "sku");

		cJSON_AddStringToObject(sku, "name", "Standard");
	}
	cJSON_AddStringToObject(pool, "name", "backend"); /* the URL gives it */
	cJSON_AddItemToArray(cJSON_GetObjectItem(cJSON_GetObjectItem(lb, "properties"),
						 "backendAddressPools"),
			     pool);
	return doc;
}

static void
sl_test_add_nic(cJSON *doc, const char *body, const char *name)
{
	cJSON *nic = cJSON_Parse(body);

	assert_non_null(nic);
	cJSON_AddStringToObject(nic, "name", name); /* the URL gives it */
	cJSON_AddItemToArray(cJSON_GetObjectItem(doc, "networkInterfaces"), nic);
}


static const char *
sl_test_ipc_string(const cJSON *doc, uint32_t nic, uint32_t ipc, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(
		cJSON_GetObjectItem(
			cJSON_GetArrayItem(
				cJSON_GetObjectItem(
					cJSON_GetObjectItem(
						cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "networkInterfaces"), (int)nic),
						"properties"),
					"ipConfigurations"),
				(int)ipc),
			"properties"),
		key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
test_seed_nic_by_nic_accepted(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	cJSON *doc = sl_test_seed_doc(0, "{}"); /* the seed creates the pool without a body */
	struct sl_ip_addr a = sl_test_ip("10.0.0.4");
	const struct sl_nic_ipconfig *ic;
	const struct sl_pool_cfg *pc;
	struct sl_snapshot *s;
	struct sl_error err;
	struct sl_model *m;
	char *text;

	(void)state;
	sl_test_add_nic(doc, sl_seed_nic_by_nic_body, "nic1");

	/* Without an address the document is refused; the REST layer assigns first. */
	memset(&err, 0, sizeof(err));
	errno = 0;
	assert_null(sl_config_from_json(doc, "seed", &err));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err.code, "MissingRequiredProperty");
	assert_string_equal(err.target, "networkInterfaces/nic1/ipConfigurations/ipconfig1");
	assert_string_equal(err.json_path,
			    "$.networkInterfaces[0].properties.ipConfigurations[0].properties.privateIPAddress");
	assert_string_equal(err.file, "");

	/* The configuration file's way: sl_config_parse assigns on its own tree. */
	text = cJSON_Print(doc);
	assert_non_null(text);
	m = sl_config_parse(text, strlen(text), "seed.json", &err);
	assert_non_null(m);
	assert_true(sl_ip_addr_eq(&m->nics[0].ipconfigs[0].addr, &a));
	sl_model_free(m);
	free(text);

	assert_int_equal(sl_config_assign_dynamic_ips(doc, &err), 1);
	assert_string_equal(sl_test_ipc_string(doc, 0, 0, "privateIPAddress"), "10.0.0.4");
	assert_string_equal(sl_test_ipc_string(doc, 0, 0, "privateIPAllocationMethod"), "Dynamic");
	assert_int_equal(sl_config_assign_dynamic_ips(doc, &err), 0); /* nothing left to do */

	m = sl_test_from_json_ok(doc);
	assert_int_equal(m->n_nics, 1);
	assert_string_equal(m->nics[0].name, "nic1");
	assert_int_equal(m->nics[0].has_mac, 0);
	assert_int_equal(m->nics[0].n_ipconfigs, 1);
	ic = &m->nics[0].ipconfigs[0];
	assert_string_equal(ic->name, "ipconfig1");
	assert_true(sl_ip_addr_eq(&ic->addr, &a));
	assert_int_equal(ic->family, SL_AF_IPV4);
	assert_int_equal(ic->dynamic, 1);
	assert_int_equal(ic->primary, 1);
	assert_int_equal(ic->vnet, 0);
	assert_int_equal(ic->subnet, 0);
	assert_int_equal(ic->n_pools, 1);
	assert_int_equal(ic->pools[0].lb, 0);
	assert_int_equal(ic->pools[0].idx, 0);
	assert_int_equal(ic->n_nat_rules, 0);

	/* A Basic load balancer: NIC-based pools need no Standard SKU. */
	assert_int_equal(m->lbs[0].standard_sku, 0);
	pc = &m->lbs[0].pools[0];
	assert_int_equal(pc->n_addresses, 1);
	assert_string_equal(pc->addresses[0].name, "nic1/ipconfig1");
	assert_true(sl_ip_addr_eq(&pc->addresses[0].addr, &a));
	assert_int_equal(pc->addresses[0].from_nic, 1);
	assert_int_equal(pc->addresses[0].nic, 0);
	assert_int_equal(pc->addresses[0].ipconfig, 0);
	assert_int_equal(pc->addresses[0].vnet, 0);
	assert_int_equal(pc->addresses[0].weight, 1);

	/* The NIC member compiles as a backend of its pool. */
	sl_test_make_ports();
	s = sl_compile(m, sl_test_ports, 2, rids, bids, 1, &err);
	assert_non_null(s);
	assert_int_equal(s->n_backends, 1);
	assert_int_equal(sl_test_backend(s, "lb/backend/nic1/ipconfig1"), 0);
	assert_string_equal(sl_id_registry_name(bids, 0), "lb/backend/nic1/ipconfig1");
	assert_int_equal(s->pools[0].n_members, 1);
	sl_snapshot_free(s);
	sl_model_free(m);
	cJSON_Delete(doc);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

static void
test_seed_nic_by_ip_accepted(void **state)
{
	cJSON *doc = sl_test_seed_doc(1, sl_seed_pool_body);
	struct sl_ip_addr a = sl_test_ip("10.0.0.4");
	const struct sl_pool_cfg *pc;
	struct sl_error err;
	struct sl_model *m;

	(void)state;
	sl_test_add_nic(doc, sl_seed_nic_by_ip_body, "nic1");
	assert_int_equal(sl_config_assign_dynamic_ips(doc, &err), 0);
	m = sl_test_from_json_ok(doc);
	assert_int_equal(m->n_nics, 1);
	assert_true(sl_ip_addr_eq(&m->nics[0].ipconfigs[0].addr, &a));
	assert_int_equal(m->nics[0].ipconfigs[0].dynamic, 0); /* Static when given */
	assert_int_equal(m->nics[0].ipconfigs[0].n_pools, 0);
	/* The pool stays IP-based; address1 learns the NIC ipConfiguration that has its address. */
	pc = &m->lbs[0].pools[0];
	assert_int_equal(pc->n_addresses, 2);
	assert_int_equal(pc->addresses[0].from_nic, 0);
	assert_int_equal(pc->addresses[0].nic, 0);
	assert_int_equal(pc->addresses[0].ipconfig, 0);
	assert_int_equal(pc->addresses[1].nic, -1);
	assert_int_equal(pc->addresses[1].ipconfig, -1);
	sl_model_free(m);
	cJSON_Delete(doc);
}

static void
test_assign_dynamic_ips(void **state)
{
	char *text = sl_test_json(DOCN(NOSET, VNETS "," VNET_SMALL,
		LBX("Standard", FRONTENDS(FE_SUB("fe1", "10.0.1.4", "vnet1", "sub1")) ","
			POOLS(NPOOL("np") "," POOL("ipp", ADDR("a1", "10.0.1.5", "vnet1")))),
		NIC("st", IPC("ipc1", "10.0.1.6", "vnet1", "sub1", "")) ","
		NIC("d1", IPC_DYN("ipc1", "vnet1", "sub1", IN_POOLS(POOL_REF("lb1", "np")))) ","
		NIC("d2", "{'name':'ipc1','properties':{'privateIPAddress':null,'privateIPAllocationMethod':'dynamic',"
			  "'subnet':{'id':'" SUB_ID("vnet1", "sub1") "'}}}") ","
		NIC("d6", IPC_DYN("ipc1", "vnet1", "sub6", ",'privateIPAddressVersion':'IPv6'")) ","
		NIC("s29", IPC_DYN("a", "vs", "s29", ",'primary':true") "," IPC_DYN("b", "vs", "s29", "")) ","
		NIC("skip", IPC_DYN("static", "vnet1", "sub1", ",'privateIPAllocationMethod':'Static'") ","
			    IPC_DYN("nosubnet", "vnet1", "nosuch", "") ","
			    IPC_DYN("mismatch", "vnet1", "sub1", ",'privateIPAddressVersion':'IPv6'"))));
	cJSON *doc = cJSON_Parse(text);
	struct sl_error err;
	struct sl_model *m;

	(void)state;
	assert_non_null(doc);
	memset(&err, 0, sizeof(err));
	assert_int_equal(sl_config_assign_dynamic_ips(doc, &err), 5);
	/* .4 frontend, .5 pool address, .6 a static ipConfiguration: .7, then .8. */
	assert_string_equal(sl_test_ipc_string(doc, 1, 0, "privateIPAddress"), "10.0.1.7");
	assert_string_equal(sl_test_ipc_string(doc, 2, 0, "privateIPAddress"), "10.0.1.8");
	assert_string_equal(sl_test_ipc_string(doc, 2, 0, "privateIPAllocationMethod"), "Dynamic");
	assert_string_equal(sl_test_ipc_string(doc, 3, 0, "privateIPAddress"), "fd00:0:0:1::4");
	assert_string_equal(sl_test_ipc_string(doc, 4, 0, "privateIPAddress"), "10.8.0.4");
	assert_string_equal(sl_test_ipc_string(doc, 4, 1, "privateIPAddress"), "10.8.0.5");
	/* Static, unresolvable and mismatched ones are left to validation. */
	assert_null(sl_test_ipc_string(doc, 5, 0, "privateIPAddress"));
	assert_string_equal(sl_test_ipc_string(doc, 5, 0, "privateIPAllocationMethod"), "Static");
	assert_null(sl_test_ipc_string(doc, 5, 1, "privateIPAddress"));
	assert_null(sl_test_ipc_string(doc, 5, 2, "privateIPAddress"));

	/* Without the skipped NIC the document validates. */
	cJSON_DeleteItemFromArray(cJSON_GetObjectItem(doc, "networkInterfaces"), 5);
	m = sl_test_from_json_ok(doc);
	assert_int_equal(m->n_nics, 5);
	assert_int_equal(m->nics[3].ipconfigs[0].family, SL_AF_IPV6);
	assert_int_equal(m->nics[4].ipconfigs[0].primary, 1);
	assert_int_equal(m->nics[4].ipconfigs[1].primary, 0);
	assert_int_equal(m->lbs[0].pools[0].n_addresses, 1);
	assert_string_equal(m->lbs[0].pools[0].addresses[0].name, "d1/ipc1");
	sl_model_free(m);

	/* A /29 has three addresses to give: .4, .5, .6 (.7 is the broadcast). */
	cJSON_AddItemToArray(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
				     cJSON_GetObjectItem(doc, "networkInterfaces"), 4), "properties"),
				     "ipConfigurations"),
			     cJSON_Parse("{\"name\":\"c\",\"properties\":{\"subnet\":{\"id\":\"vnet/vs/subnets/s29\"}}}"));
	assert_int_equal(sl_config_assign_dynamic_ips(doc, &err), 0); /* "vnet/vs" is no vnet id */
	cJSON_AddItemToArray(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
				     cJSON_GetObjectItem(doc, "networkInterfaces"), 4), "properties"),
				     "ipConfigurations"),
			     cJSON_Parse("{\"name\":\"d\",\"properties\":{\"subnet\":{\"id\":\"virtualNetworks/vs/subnets/s29\"}}}"));
	assert_int_equal(sl_config_assign_dynamic_ips(doc, &err), 1);
	assert_string_equal(sl_test_ipc_string(doc, 4, 3, "privateIPAddress"), "10.8.0.6");
	cJSON_AddItemToArray(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
				     cJSON_GetObjectItem(doc, "networkInterfaces"), 4), "properties"),
				     "ipConfigurations"),
			     cJSON_Parse("{\"name\":\"e\",\"properties\":{\"subnet\":{\"id\":\"virtualNetworks/vs/subnets/s29\"}}}"));
	errno = 0;
	assert_int_equal(sl_config_assign_dynamic_ips(doc, &err), -EINVAL);
	assert_string_equal(err.code, "SubnetIsFull");
	assert_string_equal(err.target, "networkInterfaces/s29/ipConfigurations/e");
	assert_string_equal(err.json_path,
			    "$.networkInterfaces[4].properties.ipConfigurations[4].properties.subnet.id");

	/* Not a document: nothing to do. */
	assert_int_equal(sl_config_assign_dynamic_ips(NULL, &err), 0);
	cJSON_Delete(doc);
	doc = cJSON_CreateArray();
	assert_int_equal(sl_config_assign_dynamic_ips(doc, &err), 0);
	cJSON_Delete(doc);
	free(text);
}

static void
test_nat_rules_and_nics(void **state)
{
	struct sl_model *m;
	const struct sl_lb *lb;
	const struct sl_nic *nic;
	struct sl_mac mac = sl_test_mac("00:0d:3a:12:34:56");

	(void)state;
	m = sl_test_parse_ok(DOCN(NOSET, VNETS, LBX("Standard", NBODY1 "," NATS(
		NAT("ssh1", "fe1", NAT_TCP) ","
		NAT("dns", "fe1", "'protocol':'Udp','frontendPort':80") ","
		NAT("rdp6", "fe6", "'protocol':'All','frontendPort':3389,'idleTimeoutInMinutes':30,"
				   "'enableFloatingIP':true,'enableTcpReset':true"))),
		"{'name':'nic1','location':'eastus','properties':{'macAddress':'00-0D-3A-12-34-56','ipConfigurations':["
		IPC("ipc1", "10.0.1.4", "vnet1", "sub1",
		    ",'privateIPAllocationMethod':'Dynamic','privateIPAddressVersion':'IPv4'"
		    IN_POOLS(POOL_REF("lb1", "np"))
		    ",'loadBalancerInboundNatRules':" NAT_REF("lb1", "ssh1")) ","
		IPC("ipc6", "fd00:0:0:1::10", "vnet1", "sub6",
		    ",'primary':true" IN_NATS("{'id':'loadBalancers/lb1/inboundNatRules/RDP6'}")) "]}}"
		"," NIC2));
	lb = &m->lbs[0];
	assert_int_equal(lb->n_nat_rules, 3);
	assert_string_equal(lb->nat_rules[0].name, "ssh1");
	assert_int_equal(lb->nat_rules[0].frontend, 0);
	assert_int_equal(lb->nat_rules[0].proto, SL_PROTO_TCP);
	assert_int_equal(lb->nat_rules[0].frontend_port, 2201);
	assert_int_equal(lb->nat_rules[0].backend_port, 22);
	assert_int_equal(lb->nat_rules[0].idle_timeout_min, 4);
	assert_int_equal(lb->nat_rules[0].floating_ip, 0);
	assert_int_equal(lb->nat_rules[0].enable_tcp_reset, 0);
	assert_int_equal(lb->nat_rules[0].nic, 0);
	assert_int_equal(lb->nat_rules[0].ipconfig, 0);
	assert_int_equal(lb->nat_rules[1].proto, SL_PROTO_UDP);
	assert_int_equal(lb->nat_rules[1].backend_port, 80); /* frontendPort by default */
	assert_int_equal(lb->nat_rules[1].nic, -1);
	assert_int_equal(lb->nat_rules[1].ipconfig, -1);
	assert_int_equal(lb->nat_rules[2].frontend, 1);
	assert_int_equal(lb->nat_rules[2].proto, SL_PROTO_ALL);
	assert_int_equal(lb->nat_rules[2].idle_timeout_min, 30);
	assert_int_equal(lb->nat_rules[2].floating_ip, 1);
	assert_int_equal(lb->nat_rules[2].enable_tcp_reset, 1);
	assert_int_equal(lb->nat_rules[2].nic, 0);
	assert_int_equal(lb->nat_rules[2].ipconfig, 1);

	assert_int_equal(m->n_nics, 2);
	nic = &m->nics[0];
	assert_int_equal(nic->has_mac, 1);
	assert_memory_equal(nic->mac.bytes, mac.bytes, 6);
	assert_int_equal(nic->n_ipconfigs, 2);
	assert_int_equal(nic->ipconfigs[0].primary, 0);
	assert_int_equal(nic->ipconfigs[0].dynamic, 1);
	assert_int_equal(nic->ipconfigs[0].n_nat_rules, 1);
	assert_int_equal(nic->ipconfigs[0].nat_rules[0].idx, 0);
	assert_int_equal(nic->ipconfigs[1].primary, 1);
	assert_int_equal(nic->ipconfigs[1].family, SL_AF_IPV6);
	assert_int_equal(nic->ipconfigs[1].subnet, 1);
	assert_int_equal(nic->ipconfigs[1].nat_rules[0].idx, 2);
	/* Pool np: both NICs, in document order. */
	assert_int_equal(lb->pools[0].n_addresses, 2);
	assert_string_equal(lb->pools[0].addresses[0].name, "nic1/ipc1");
	assert_string_equal(lb->pools[0].addresses[1].name, "nic2/ipc1");
	assert_int_equal(lb->pools[0].addresses[1].nic, 1);
	assert_int_equal(m->max_addresses_per_pool, SL_CONFIG_MAX_ADDRESSES_PER_POOL);
	assert_int_equal(m->max_addresses_per_lb, SL_CONFIG_MAX_ADDRESSES_PER_LB);
	sl_model_free(m);

	/* Limits from settings; the same address in two vnets, in different pools. */
	m = sl_test_parse_ok(DOCN("{'maxAddressesPerPool':65535,'maxAddressesPerLoadBalancer':2}",
		VNET1 "," VNET3, LBX("Standard", FES_STD "," POOLS(NPOOL("np") "," NPOOL("np3"))),
		NIC1 "," NIC("nic3", IPC("ipc1", "10.0.1.4", "vnet3", "s3",
					 IN_POOLS(POOL_REF("lb1", "np3"))))));
	assert_int_equal(m->max_addresses_per_pool, 65535);
	assert_int_equal(m->max_addresses_per_lb, 2);
	assert_int_equal(m->lbs[0].pools[1].addresses[0].vnet, 1);
	sl_model_free(m);
}

/*
 * Two NIC members whose counter keys "<lb>/<pool>/<nic>/<ipconfig>" (four
 * names of 80 characters) differ only in their last character.
 */
static void
test_nic_counter_keys(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	char lb[SL_RES_NAME_MAX], pool[SL_RES_NAME_MAX], nic[SL_RES_NAME_MAX];
	char ipc1[SL_RES_NAME_MAX], ipc2[SL_RES_NAME_MAX];
	struct sl_test_buf b = {0};
	struct sl_snapshot *s;
	struct sl_error err;
	struct sl_model *m;
	const char *k0, *k1;

	(void)state;
	snprintf(lb, sizeof(lb), "%.80s", "L123456789L123456789L123456789L123456789L123456789L123456789L123456789L123456789");
	snprintf(pool, sizeof(pool), "%.80s", "P123456789P123456789P123456789P123456789P123456789P123456789P123456789P123456789");
	snprintf(nic, sizeof(nic), "%.80s", "N123456789N123456789N123456789N123456789N123456789N123456789N123456789N123456789");
	snprintf(ipc1, sizeof(ipc1), "%.79s1", "I123456789I123456789I123456789I123456789I123456789I123456789I123456789I123456789");
	snprintf(ipc2, sizeof(ipc2), "%.79s2", "I123456789I123456789I123456789I123456789I123456789I123456789I123456789I123456789");
	sl_test_printf(&b, DOCN(NOSET, VNETS, "{'name':'%s','properties':{" FES_STD ",'backendAddressPools':[{'name':'%s'}]}}",
		       NIC("%s", "{'name':'%s','properties':{'privateIPAddress':'10.0.1.4','primary':true,"
				 "'subnet':{'id':'" SUB_ID("vnet1", "sub1") "'},'loadBalancerBackendAddressPools':{'id':'loadBalancers/%s/backendAddressPools/%s'}}},"
				 "{'name':'%s','properties':{'privateIPAddress':'10.0.1.5',"
				 "'subnet':{'id':'" SUB_ID("vnet1", "sub1") "'},'loadBalancerBackendAddressPools':{'id':'loadBalancers/%s/backendAddressPools/%s'}}}")),
		       lb, pool, nic, ipc1, lb, pool, ipc2, lb, pool);
	m = sl_test_parse_ok(b.s);
	free(b.s);
	assert_int_equal(strlen(m->lbs[0].pools[0].addresses[1].name), 2 * SL_CONFIG_NAME_MAX_LEN + 1);
	sl_test_make_ports();
	s = sl_compile(m, sl_test_ports, 2, rids, bids, 1, &err);
	assert_non_null(s);
	assert_int_equal(s->n_backends, 2);
	assert_int_not_equal(s->backends[0].counter_id, s->backends[1].counter_id);
	k0 = sl_id_registry_name(bids, s->backends[0].counter_id);
	k1 = sl_id_registry_name(bids, s->backends[1].counter_id);
	assert_int_equal(strlen(k1), 4 * SL_CONFIG_NAME_MAX_LEN + 3);
	assert_int_equal(k0[strlen(k0) - 1], '1');
	assert_int_equal(k1[strlen(k1) - 1], '2');
	assert_true(strncmp(k1, "l123456789", 10) == 0); /* lower-cased */
	sl_snapshot_free(s);
	sl_model_free(m);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_nic_by_nic_accepted),
		cmocka_unit_test(test_seed_nic_by_ip_accepted),
		cmocka_unit_test(test_assign_dynamic_ips),
		cmocka_unit_test(test_nat_rules_and_nics),
		cmocka_unit_test(test_nic_counter_keys),
	};

	return cmocka_run_group_tests_name("config_nic", tests, NULL, NULL);
}
