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

#include "sl_config_parse.h"
#include "sl_dynamic_ip.h"
#include "sl_prefix.h"
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

/* --- dynamic addresses against a plain search ------------------------------ */

/* The subnets of the random documents: overlapping, one prefix in two vnets, one small. */
static const struct {
	int vnet; /* index into dyn_vnets */
	const char *name, *prefix;
} dyn_subnets[] = {
	{0, "a", "10.0.0.0/24"}, {0, "b", "10.0.0.0/26"}, {1, "c", "10.0.0.0/24"},
	{2, "c", "10.1.0.0/28"}, {0, "six", "fd00:0:0:1::/120"},
};
static const struct {
	const char *name, *rg;
} dyn_vnets[] = {{"v1", "rg1"}, {"v2", "rg1"}, {"v2", "rg2"}};

#define DYN_NET "/subscriptions/s/resourceGroups/%s/providers/Microsoft.Network"

static uint32_t dyn_seed;

static uint32_t
dyn_rnd(uint32_t n)
{
	dyn_seed = dyn_seed * 1103515245u + 12345u;
	return (dyn_seed >> 8) % n;
}

/* A random address of the documents' ranges, as text. */
static void
dyn_addr(char *buf, size_t len)
{
	if (dyn_rnd(6) == 0)
		snprintf(buf, len, "fd00:0:0:1::%x", dyn_rnd(40));
	else if (dyn_rnd(3) == 0)
		snprintf(buf, len, "10.1.0.%u", dyn_rnd(16));
	else
		snprintf(buf, len, "10.0.0.%u", dyn_rnd(80));
}

/*
 * An ipConfiguration: Static with an address, or Dynamic (no address) in a
 * subnet whose id names its vnet by scope, or without one (ambiguous for v2).
 */
static cJSON *
dyn_ipc(int k, const char **subnet_out, int *vnet_out)
{
	cJSON *ipc = cJSON_CreateObject(), *props;
	char name[16], id[256], scope[128];
	int s = (int)dyn_rnd(sizeof(dyn_subnets) / sizeof(dyn_subnets[0]));
	int v = dyn_subnets[s].vnet;
	bool scoped = dyn_rnd(3) != 0;

	snprintf(name, sizeof(name), "ip%d", k);
	cJSON_AddStringToObject(ipc, "name", name);
	props = cJSON_AddObjectToObject(ipc, "properties");
	if (dyn_rnd(3) == 0) {
		dyn_addr(id, sizeof(id));
		cJSON_AddStringToObject(props, "privateIPAddress", id);
		*subnet_out = NULL;
		return ipc;
	}
	snprintf(scope, sizeof(scope), DYN_NET "/", dyn_vnets[v].rg);
	snprintf(id, sizeof(id), "%svirtualNetworks/%s/subnets/%s", scoped ? scope : "",
		 dyn_vnets[v].name, dyn_subnets[s].name);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(props, "subnet"), "id", id);
	/* unscoped, v2 is two vnets: not resolved */
	*subnet_out = scoped || v == 0 ? dyn_subnets[s].prefix : NULL;
	*vnet_out = v;
	return ipc;
}

/* A document of dyn_vnets, a load balancer with frontends and pool addresses, and NICs. */
static cJSON *
dyn_doc(const char **prefixes, int *n_ipc)
{
	cJSON *doc = cJSON_CreateObject(), *vnets = cJSON_AddArrayToObject(doc, "virtualNetworks");
	cJSON *nics = cJSON_AddArrayToObject(doc, "networkInterfaces");
	char id[256], addr[64];

	for (size_t v = 0; v < sizeof(dyn_vnets) / sizeof(dyn_vnets[0]); v++) {
		cJSON *vn = cJSON_CreateObject();
		cJSON_AddStringToObject(vn, "name", dyn_vnets[v].name);
		snprintf(id, sizeof(id), DYN_NET "/virtualNetworks/%s", dyn_vnets[v].rg, dyn_vnets[v].name);
		cJSON_AddStringToObject(vn, "id", id);
		cJSON *subnets = cJSON_AddArrayToObject(cJSON_AddObjectToObject(vn, "properties"), "subnets");
		for (size_t s = 0; s < sizeof(dyn_subnets) / sizeof(dyn_subnets[0]); s++) {
			if (dyn_subnets[s].vnet != (int)v)
				continue;
			cJSON *sn = cJSON_CreateObject();
			cJSON_AddStringToObject(sn, "name", dyn_subnets[s].name);
			cJSON_AddStringToObject(cJSON_AddObjectToObject(sn, "properties"), "addressPrefix",
						dyn_subnets[s].prefix);
			cJSON_AddItemToArray(subnets, sn);
		}
		cJSON_AddItemToArray(vnets, vn);
	}
	cJSON *lb = cJSON_CreateObject(), *lprops = cJSON_AddObjectToObject(lb, "properties");
	cJSON *fes = cJSON_AddArrayToObject(lprops, "frontendIPConfigurations");
	cJSON *pool = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(lprops, "backendAddressPools"), pool);
	cJSON *addrs = cJSON_AddArrayToObject(cJSON_AddObjectToObject(pool, "properties"),
					      "loadBalancerBackendAddresses");
	for (uint32_t i = dyn_rnd(6); i > 0; i--) {
		cJSON *o = cJSON_CreateObject();
		dyn_addr(addr, sizeof(addr));
		cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "properties"),
					i % 2 ? "privateIPAddress" : "ipAddress", addr);
		cJSON_AddItemToArray(i % 2 ? fes : addrs, o);
	}
	cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "loadBalancers"), lb);
	*n_ipc = 0;
	for (uint32_t n = 0, count = 20 + dyn_rnd(60); n < count; n++) {
		cJSON *nic = cJSON_CreateObject();
		cJSON *ipcs = cJSON_AddArrayToObject(cJSON_AddObjectToObject(nic, "properties"),
						     "ipConfigurations");
		for (uint32_t k = 1 + dyn_rnd(3); k > 0; k--) {
			int v;
			cJSON_AddItemToArray(ipcs, dyn_ipc((int)k, &prefixes[*n_ipc], &v));
			(*n_ipc)++;
		}
		cJSON_AddItemToArray(nics, nic);
	}
	return doc;
}

/* Every address of doc (frontends, pool addresses, ipConfigurations), appended to used. */
static uint32_t
dyn_used(const cJSON *doc, struct sl_ip_addr *used)
{
	static const char *const where[][3] = {
		{"loadBalancers", "frontendIPConfigurations", "privateIPAddress"},
		{"networkInterfaces", "ipConfigurations", "privateIPAddress"},
	};
	const cJSON *top, *el, *a;
	uint32_t n = 0;

	for (int w = 0; w < 2; w++)
		cJSON_ArrayForEach(top, cJSON_GetObjectItem(doc, where[w][0]))
			cJSON_ArrayForEach(el, cJSON_GetObjectItem(cJSON_GetObjectItem(top, "properties"),
								  where[w][1])) {
				a = cJSON_GetObjectItem(cJSON_GetObjectItem(el, "properties"), where[w][2]);
				if (cJSON_IsString(a) && sl_ip_addr_parse(a->valuestring, &used[n], NULL) == 0)
					n++;
			}
	cJSON_ArrayForEach(top, cJSON_GetObjectItem(doc, "loadBalancers"))
		cJSON_ArrayForEach(el, cJSON_GetObjectItem(cJSON_GetObjectItem(top, "properties"),
							  "backendAddressPools"))
			cJSON_ArrayForEach(a, cJSON_GetObjectItem(cJSON_GetObjectItem(el, "properties"),
								  "loadBalancerBackendAddresses")) {
				const cJSON *ip = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "properties"),
								      "ipAddress");
				if (cJSON_IsString(ip) && sl_ip_addr_parse(ip->valuestring, &used[n], NULL) == 0)
					n++;
			}
	return n;
}

/* The plain search: the lowest address of the prefix from its fifth on that no one uses. */
static bool
dyn_pick(const char *prefix, const struct sl_ip_addr *used, uint32_t n, struct sl_ip_addr *out)
{
	struct sl_prefix p;
	struct sl_ip_addr a;
	uint32_t i, k;

	assert_int_equal(sl_prefix_parse(prefix, &p), 0);
	a = p.addr;
	for (k = 0; k < 4; k++)
		for (i = 16; i-- > 0 && ++a.bytes[i] == 0;)
			;
	for (; sl_prefix_contains(&p, &a); ) {
		if ((sl_prefix_is_v4(&p) && sl_prefix_is_last(&p, &a)) || sl_ip_unusable(&a))
			return false;
		for (k = 0; k < n && !sl_ip_addr_eq(&used[k], &a); k++)
			;
		if (k == n) {
			*out = a;
			return true;
		}
		for (i = 16; i-- > 0 && ++a.bytes[i] == 0;)
			;
	}
	return false;
}

/*
 * Random documents (overlapping subnets, one prefix in two vnets, a small
 * subnet that fills up, an ambiguous vnet name): the addresses assigned,
 * and the subnet found full, are those of the plain search, one
 * ipConfiguration after another.
 */
static void
test_assign_dynamic_ips_random(void **state)
{
	static const char *prefixes[300];
	static struct sl_ip_addr used[1000];
	int full = 0, assigned = 0;

	(void)state;
	dyn_seed = 7;
	for (int round = 0; round < 200; round++) {
		int n_ipc, rc, want = 0;
		cJSON *doc = dyn_doc(prefixes, &n_ipc), *expect = cJSON_Duplicate(doc, 1);
		uint32_t n = dyn_used(doc, used);
		const cJSON *nic, *ipc;
		struct sl_error err;
		int k = 0;

		cJSON_ArrayForEach(nic, cJSON_GetObjectItem(expect, "networkInterfaces"))
			cJSON_ArrayForEach(ipc, cJSON_GetObjectItem(cJSON_GetObjectItem(nic, "properties"),
								   "ipConfigurations")) {
				struct sl_ip_addr a;
				char text[64];
				if (want < 0 || prefixes[k++] == NULL)
					continue;
				if (!dyn_pick(prefixes[k - 1], used, n, &a)) {
					want = -EINVAL;
					continue;
				}
				used[n++] = a;
				sl_ip_addr_format(&a, text, sizeof(text));
				cJSON *props = cJSON_GetObjectItem(ipc, "properties");
				cJSON_AddStringToObject(props, "privateIPAddress", text);
				cJSON_AddStringToObject(props, "privateIPAllocationMethod", "Dynamic");
				want++;
			}
		memset(&err, 0, sizeof(err));
		rc = sl_config_assign_dynamic_ips(doc, &err);
		assert_int_equal(rc, want);
		if (rc < 0)
			assert_string_equal(err.code, "SubnetIsFull");
		if (!cJSON_Compare(doc, expect, 1))
			fail_msg("round %d: %s, not %s", round, cJSON_PrintUnformatted(doc),
				 cJSON_PrintUnformatted(expect));
		full += rc < 0;
		assigned += rc > 0 ? rc : 0;
		cJSON_Delete(doc);
		cJSON_Delete(expect);
	}
	assert_true(full > 0 && assigned > 1000); /* full subnets and many assignments were seen */
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
		cmocka_unit_test(test_assign_dynamic_ips_random),
		cmocka_unit_test(test_nat_rules_and_nics),
		cmocka_unit_test(test_nic_counter_keys),
	};

	return cmocka_run_group_tests_name("config_nic", tests, NULL, NULL);
}
