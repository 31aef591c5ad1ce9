/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_state_resource.c: the desired-state document's resource paths
 * (sl_resource; the document on disk is test_store.c's): path parsing,
 * PUT/GET/DELETE on a document, read-only fields, NIC-based pool
 * membership, one name in two resource groups.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_resource.h"

#define ARM "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network"

static void
test_path_parse(void **state)
{
	struct sl_res_path p;
	struct sl_error err;
	char id[512];

	(void)state;
	assert_int_equal(sl_res_path_parse(ARM "/loadBalancers/lb1/backendAddressPools/pool1", &p,
					   &err), 0);
	assert_int_equal(p.type, SL_RES_LB);
	assert_string_equal(p.sub, "s1");
	assert_string_equal(p.rg, "rg1");
	assert_string_equal(p.name, "lb1");
	assert_string_equal(sl_res_child_collection(p.type, p.child), "backendAddressPools");
	assert_string_equal(p.child_name, "pool1");
	sl_res_id(&p, id, sizeof(id));
	assert_string_equal(id, ARM "/loadBalancers/lb1/backendAddressPools/pool1");

	/* case-insensitive segments, trailing slash, collections */
	assert_int_equal(sl_res_path_parse("/SUBSCRIPTIONS/s1/resourcegroups/rg1/providers/"
					   "microsoft.network/LoadBalancers/", &p, &err), 0);
	assert_int_equal(p.type, SL_RES_LB);
	assert_string_equal(p.name, "");
	assert_int_equal(p.child, -1);
	assert_int_equal(sl_res_path_parse(ARM "/networkInterfaces/n1/ipConfigurations", &p, &err), 0);
	assert_int_equal(p.type, SL_RES_NIC);
	assert_string_equal(p.child_name, "");

	assert_int_equal(sl_res_path_parse("/subscriptions/s1", &p, &err), -ENOENT);
	assert_string_equal(err.code, "InvalidRequestUri");
	assert_int_equal(sl_res_path_parse(ARM "/publicIPAddresses/x", &p, &err), -ENOENT);
	assert_string_equal(err.code, "InvalidResourceType");
	assert_int_equal(sl_res_path_parse(ARM "/loadBalancers/lb1/outboundRules/x", &p, &err),
			 -ENOENT);
	assert_string_equal(err.code, "InvalidResourceType");
	assert_int_equal(sl_res_path_parse("/subscriptions/s1/resourceGroups/rg1/providers/"
					   "Microsoft.Compute/virtualMachines/vm", &p, &err), -ENOENT);
	assert_string_equal(err.code, "InvalidResourceNamespace");
	assert_int_equal(sl_res_path_parse(ARM "/loadBalancers/lb1/probes/p/extra", &p, &err),
			 -ENOENT);
}

static void
parse_ok(const char *url, struct sl_res_path *p)
{
	struct sl_error err;
	assert_int_equal(sl_res_path_parse(url, p, &err), 0);
}

static void
test_put_get_delete(void **state)
{
	struct sl_res_path lb, pool, nic, other_rg;
	struct sl_error err;
	cJSON *doc = sl_doc_new(), *out;
	bool created, existed;
	int http;

	(void)state;
	parse_ok(ARM "/loadBalancers/lb1", &lb);
	parse_ok(ARM "/loadBalancers/lb1/backendAddressPools/pool1", &pool);
	parse_ok(ARM "/networkInterfaces/nic1", &nic);
	parse_ok("/subscriptions/s1/resourceGroups/other/providers/Microsoft.Network/loadBalancers/lb1",
		 &other_rg);

	/* a child below a missing parent */
	cJSON *body = cJSON_Parse("{\"properties\":{}}");
	assert_int_equal(sl_doc_put(doc, &pool, body, &created, &http, &err), -ENOENT);
	assert_int_equal(http, 404);
	assert_string_equal(err.code, "ParentResourceNotFound");

	cJSON *lb_body = cJSON_Parse("{\"sku\":{\"name\":\"Standard\"},\"etag\":\"x\",\"properties\":{"
				     "\"provisioningState\":\"Updating\",\"backendAddressPools\":[]}}");
	assert_int_equal(sl_doc_put(doc, &lb, lb_body, &created, &http, &err), 0);
	assert_true(created);
	assert_int_equal(sl_doc_put(doc, &lb, lb_body, &created, &http, &err), 0);
	assert_false(created);
	/* the same name in another resource group is another resource */
	assert_int_equal(sl_doc_put(doc, &other_rg, lb_body, &created, &http, &err), 0);
	assert_true(created);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "loadBalancers")), 2);
	assert_int_equal(sl_doc_delete(doc, &other_rg, &existed, &http, &err), 0);
	assert_true(existed);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "loadBalancers")), 1);
	assert_non_null(sl_doc_find(doc, &lb));

	assert_int_equal(sl_doc_put(doc, &pool, body, &created, &http, &err), 0);
	assert_true(created);

	/* a NIC ipConfiguration naming the pool shows in the pool's backendIPConfigurations */
	cJSON *nic_body = cJSON_Parse(
		"{\"properties\":{\"ipConfigurations\":[{\"name\":\"ipconfig1\",\"properties\":{"
		"\"loadBalancerBackendAddressPools\":{\"id\":\"" ARM
		"/loadBalancers/lb1/backendAddressPools/pool1\"}}}]}}");
	assert_int_equal(sl_doc_put(doc, &nic, nic_body, &created, &http, &err), 0);
	out = sl_doc_render(doc, &pool, &err);
	assert_non_null(out);
	const cJSON *bic = cJSON_GetObjectItem(cJSON_GetObjectItem(out, "properties"),
					       "backendIPConfigurations");
	assert_int_equal(cJSON_GetArraySize(bic), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(bic, 0), "id")->valuestring,
			    ARM "/networkInterfaces/nic1/ipConfigurations/ipconfig1");
	assert_string_equal(cJSON_GetObjectItem(out, "type")->valuestring,
			    "Microsoft.Network/loadBalancers/backendAddressPools");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "properties"),
						"provisioningState")->valuestring, "Succeeded");
	/* sending that GET back is fine; another membership is refused */
	assert_int_equal(sl_doc_put(doc, &pool, out, &created, &http, &err), 0);
	cJSON_Delete(out);
	cJSON *forged = cJSON_Parse("{\"properties\":{\"backendIPConfigurations\":[{\"id\":\"" ARM
				    "/networkInterfaces/nic9/ipConfigurations/x\"}]}}");
	assert_int_equal(sl_doc_put(doc, &pool, forged, &created, &http, &err), -EPERM);
	assert_string_equal(err.code, "BackendAddressPoolMembershipIsSetOnNetworkInterface");

	/* read-only fields were not stored */
	const cJSON *stored = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "loadBalancers"), 0);
	assert_null(cJSON_GetObjectItem(stored, "etag"));
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(stored, "properties"),
					"provisioningState"));

	/* lists */
	struct sl_res_path lbs;
	parse_ok(ARM "/loadBalancers", &lbs);
	out = sl_doc_render(doc, &lbs, &err);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out, "value")), 1);
	cJSON_Delete(out);

	/* delete: the pool, again (absent), then GET is 404 */
	assert_int_equal(sl_doc_delete(doc, &pool, &existed, &http, &err), 0);
	assert_true(existed);
	assert_int_equal(sl_doc_delete(doc, &pool, &existed, &http, &err), 0);
	assert_false(existed);
	assert_null(sl_doc_render(doc, &pool, &err));
	assert_string_equal(err.code, "ResourceNotFound");
	/* a collection cannot be deleted */
	assert_int_equal(sl_doc_delete(doc, &lbs, &existed, &http, &err), -EINVAL);
	assert_int_equal(http, 405);

	cJSON_Delete(forged);
	cJSON_Delete(nic_body);
	cJSON_Delete(lb_body);
	cJSON_Delete(body);
	cJSON_Delete(doc);
}

/* A NIC replaced without addresses keeps the dynamic ones it had. */
static void
test_dynamic_ip_kept(void **state)
{
	struct sl_res_path nic;
	struct sl_error err;
	cJSON *doc = sl_doc_new();
	bool created;
	int http;

	(void)state;
	parse_ok(ARM "/networkInterfaces/nic1", &nic);
	cJSON *body = cJSON_Parse("{\"properties\":{\"ipConfigurations\":[{\"name\":\"c\",\"properties\":{}}]}}");
	assert_int_equal(sl_doc_put(doc, &nic, body, &created, &http, &err), 0);
	/* as the controller's allocator would */
	cJSON *props = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "networkInterfaces"), 0),
				    "properties"), "ipConfigurations"), 0), "properties");
	cJSON_AddStringToObject(props, "privateIPAddress", "10.0.0.9");
	cJSON_AddStringToObject(props, "privateIPAllocationMethod", "Dynamic");
	assert_int_equal(sl_doc_put(doc, &nic, body, &created, &http, &err), 0);
	cJSON *out = sl_doc_render(doc, &nic, &err);
	const cJSON *ipc = cJSON_GetArrayItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(out, "properties"), "ipConfigurations"), 0);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(ipc, "properties"),
						"privateIPAddress")->valuestring, "10.0.0.9");
	cJSON_Delete(out);
	cJSON_Delete(body);
	/* a body that says Dynamic itself keeps the address, with the method once */
	body = cJSON_Parse("{\"properties\":{\"ipConfigurations\":[{\"name\":\"c\",\"properties\":"
			   "{\"privateIPAllocationMethod\":\"Dynamic\"}}]}}");
	assert_int_equal(sl_doc_put(doc, &nic, body, &created, &http, &err), 0);
	out = sl_doc_render(doc, &nic, &err);
	const cJSON *p2 = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(out, "properties"), "ipConfigurations"), 0), "properties");
	assert_string_equal(cJSON_GetObjectItem(p2, "privateIPAddress")->valuestring, "10.0.0.9");
	int methods = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, p2)
		methods += strcasecmp(it->string, "privateIPAllocationMethod") == 0;
	assert_int_equal(methods, 1);
	cJSON_Delete(out);
	cJSON_Delete(body);
	/* a body that asks for Static without an address does not get the old one */
	body = cJSON_Parse("{\"properties\":{\"ipConfigurations\":[{\"name\":\"c\",\"properties\":"
			   "{\"privateIPAllocationMethod\":\"Static\"}}]}}");
	assert_int_equal(sl_doc_put(doc, &nic, body, &created, &http, &err), 0);
	out = sl_doc_render(doc, &nic, &err);
	p2 = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(out, "properties"), "ipConfigurations"), 0), "properties");
	assert_null(cJSON_GetObjectItem(p2, "privateIPAddress"));
	cJSON_Delete(out);
	cJSON_Delete(body);
	cJSON_Delete(doc);
}

/* Names are case-insensitive; an update keeps the name (and id) as first written. */
static void
test_update_keeps_name_case(void **state)
{
	struct sl_res_path lb, upper, pool, pool_upper;
	struct sl_error err;
	cJSON *doc = sl_doc_new();
	cJSON *body = cJSON_Parse("{\"properties\":{}}");
	bool created;
	int http;

	(void)state;
	parse_ok(ARM "/loadBalancers/myLb", &lb);
	parse_ok(ARM "/loadBalancers/MYLB", &upper);
	parse_ok(ARM "/loadBalancers/myLb/backendAddressPools/pool", &pool);
	parse_ok(ARM "/loadBalancers/mylb/backendAddressPools/POOL", &pool_upper);
	assert_int_equal(sl_doc_put(doc, &lb, body, &created, &http, &err), 0);
	assert_int_equal(sl_doc_put(doc, &pool, body, &created, &http, &err), 0);
	assert_int_equal(sl_doc_put(doc, &pool_upper, body, &created, &http, &err), 0);
	assert_false(created);
	cJSON *out = sl_doc_render(doc, &pool_upper, &err);
	assert_string_equal(cJSON_GetObjectItem(out, "name")->valuestring, "pool");
	cJSON_Delete(out);
	assert_int_equal(sl_doc_put(doc, &upper, body, &created, &http, &err), 0);
	assert_false(created);
	out = sl_doc_render(doc, &upper, &err);
	assert_string_equal(cJSON_GetObjectItem(out, "name")->valuestring, "myLb");
	assert_string_equal(cJSON_GetObjectItem(out, "id")->valuestring, ARM "/loadBalancers/myLb");
	cJSON_Delete(out);
	cJSON_Delete(body);
	cJSON_Delete(doc);
}

static void
test_merge(void **state)
{
	struct sl_error err;
	cJSON *doc = sl_doc_new();
	cJSON *f1 = cJSON_Parse("{\"virtualNetworks\":[{\"name\":\"a\",\"properties\":{\"x\":1}},"
				"{\"name\":\"b\",\"properties\":{}}]}");
	cJSON *f2 = cJSON_Parse("{\"settings\":{\"hashSeed\":3},\"virtualNetworks\":[{\"name\":\"A\","
				"\"properties\":{\"x\":2}}]}");

	(void)state;
	assert_int_equal(sl_doc_merge(doc, f1, &err), 0);
	assert_int_equal(sl_doc_merge(doc, f2, &err), 0);
	const cJSON *v = cJSON_GetObjectItem(doc, "virtualNetworks");
	assert_int_equal(cJSON_GetArraySize(v), 2);
	/* "A" replaced "a" whole (names are case-insensitive); "b" stayed */
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 0), "properties"),
					     "x")->valueint, 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 1), "name")->valuestring, "b");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "settings"), "hashSeed")->valueint, 3);
	cJSON_Delete(f1);
	cJSON_Delete(f2);
	cJSON_Delete(doc);
}

#define ARM_B "/subscriptions/s1/resourceGroups/rgB/providers/Microsoft.Network"

static const char *
str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItem(o, a);
	if (b != NULL)
		v = cJSON_GetObjectItem(v, b);
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

/* One name in two resource groups: two resources, each read, written and deleted by its path. */
static void
test_scopes(void **state)
{
	struct sl_res_path lb_a, lb_b, pool_a, pool_b, nic_b, lbs_b;
	struct sl_error err;
	cJSON *doc = sl_doc_new(), *out;
	bool created, existed;
	int http;

	(void)state;
	parse_ok(ARM "/loadBalancers/lb", &lb_a);
	parse_ok(ARM_B "/loadBalancers/LB", &lb_b);
	parse_ok(ARM "/loadBalancers/lb/backendAddressPools/p", &pool_a);
	parse_ok(ARM_B "/loadBalancers/lb/backendAddressPools/p", &pool_b);
	parse_ok(ARM_B "/networkInterfaces/nic", &nic_b);
	parse_ok(ARM_B "/loadBalancers", &lbs_b);
	cJSON *a_body = cJSON_Parse("{\"tags\":{\"g\":\"A\"},\"properties\":{}}");
	cJSON *b_body = cJSON_Parse("{\"tags\":{\"g\":\"B\"},\"properties\":{}}");
	assert_int_equal(sl_doc_put(doc, &lb_a, a_body, &created, &http, &err), 0);
	assert_int_equal(sl_doc_put(doc, &lb_b, b_body, &created, &http, &err), 0);
	assert_true(created);
	assert_int_equal(sl_doc_put(doc, &pool_a, a_body, &created, &http, &err), 0);
	assert_int_equal(sl_doc_put(doc, &pool_b, b_body, &created, &http, &err), 0);
	assert_true(created);

	out = sl_doc_render(doc, &lb_b, &err);
	assert_string_equal(str_at(out, "id", NULL), ARM_B "/loadBalancers/LB");
	assert_string_equal(str_at(out, "tags", "g"), "B");
	cJSON_Delete(out);
	out = sl_doc_render(doc, &pool_a, &err);
	assert_string_equal(str_at(out, "id", NULL), ARM "/loadBalancers/lb/backendAddressPools/p");
	cJSON_Delete(out);
	out = sl_doc_render(doc, &lbs_b, &err);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out, "value")), 1);
	cJSON_Delete(out);

	/* a NIC of group B in B's pool is a member there, not in A's pool of the same name */
	cJSON *nic_body = cJSON_Parse(
		"{\"properties\":{\"ipConfigurations\":[{\"name\":\"i\",\"properties\":{"
		"\"loadBalancerBackendAddressPools\":[{\"id\":\"" ARM_B
		"/loadBalancers/lb/backendAddressPools/p\"}]}}]}}");
	assert_int_equal(sl_doc_put(doc, &nic_b, nic_body, &created, &http, &err), 0);
	out = sl_doc_render(doc, &pool_b, &err);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "properties"),
								"backendIPConfigurations")), 1);
	/* sent back, B's membership is B's own */
	assert_int_equal(sl_doc_put(doc, &pool_b, out, &created, &http, &err), 0);
	cJSON_Delete(out);
	out = sl_doc_render(doc, &pool_a, &err);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "properties"),
								"backendIPConfigurations")), 0);
	cJSON_Delete(out);

	/* DELETE B's load balancer: A's stays, with its pool */
	assert_int_equal(sl_doc_delete(doc, &lb_b, &existed, &http, &err), 0);
	assert_true(existed);
	assert_null(sl_doc_find(doc, &lb_b));
	assert_non_null(sl_doc_find(doc, &pool_a));
	assert_string_equal(str_at(sl_doc_find(doc, &lb_a), "tags", "g"), "A");

	cJSON_Delete(nic_body);
	cJSON_Delete(a_body);
	cJSON_Delete(b_body);
	cJSON_Delete(doc);
}

/* A file's resource replaces the one of its name in its scope; without an id, the one of its name. */
static void
test_merge_scopes(void **state)
{
	struct sl_error err;
	cJSON *doc = cJSON_Parse(
		"{\"virtualNetworks\":[{\"name\":\"v\",\"id\":\"" ARM "/virtualNetworks/v\","
		"\"properties\":{\"x\":1}},{\"name\":\"v\",\"id\":\"" ARM_B
		"/virtualNetworks/v\",\"properties\":{\"x\":2}}]}");
	cJSON *by_id = cJSON_Parse("{\"virtualNetworks\":[{\"name\":\"V\",\"id\":\"" ARM_B
				   "/virtualNetworks/V\",\"properties\":{\"x\":3}}]}");
	cJSON *no_id = cJSON_Parse("{\"virtualNetworks\":[{\"name\":\"v\",\"properties\":{}}]}");
	const cJSON *v;

	(void)state;
	assert_int_equal(sl_doc_merge(doc, by_id, &err), 0);
	v = cJSON_GetObjectItem(doc, "virtualNetworks");
	assert_int_equal(cJSON_GetArraySize(v), 2);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 0),
								 "properties"), "x")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 1),
								 "properties"), "x")->valueint, 3);
	/* without an id it would be both: refused, nothing merged */
	assert_int_equal(sl_doc_merge(doc, no_id, &err), -EINVAL);
	assert_string_equal(err.code, "DuplicateResourceName");
	assert_string_equal(err.target, "virtualNetworks/v");
	assert_int_equal(cJSON_GetArraySize(v), 2);
	cJSON_Delete(by_id);
	cJSON_Delete(no_id);
	cJSON_Delete(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_parse),
		cmocka_unit_test(test_put_get_delete),
		cmocka_unit_test(test_dynamic_ip_kept),
		cmocka_unit_test(test_update_keeps_name_case),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_merge_scopes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
