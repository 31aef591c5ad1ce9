/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_state_resource.c: the desired-state document on disk (sl_state) and
 * its resource paths (sl_resource): atomic save, restore, corruption
 * detected whole; path parsing, PUT/GET/DELETE on a document, read-only
 * fields, NIC-based pool membership.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_resource.h"
#include "sl_state.h"

#define ARM "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network"

static char *
tmpdir(void)
{
	char *d = strdup("/tmp/sl-test-state-XXXXXX");
	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void
rm_dir(const char *d)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
}

static char *
read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static void
write_all(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static cJSON *
sample_doc(void)
{
	cJSON *d = cJSON_Parse("{\"virtualNetworks\":[{\"name\":\"v\",\"properties\":{\"addressSpace\":"
			       "{\"addressPrefixes\":[\"10.0.0.0/16\"]}}}],\"networkInterfaces\":[],"
			       "\"loadBalancers\":[]}");
	assert_non_null(d);
	return d;
}

static void
test_state_round_trip(void **state)
{
	struct sl_error err;
	char *dir = tmpdir();
	cJSON *doc = sample_doc(), *back = NULL;
	char path[512];
	struct stat st;

	(void)state;
	/* No state file yet: nothing restored, no error. */
	assert_int_equal(sl_state_load(dir, &back, &err), 0);
	assert_null(back);
	assert_int_equal(sl_state_save(dir, doc, &err), 0);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/state.json.tmp", dir);
	assert_int_not_equal(stat(path, &st), 0);
	assert_int_equal(sl_state_load(dir, &back, &err), 0);
	assert_non_null(back);
	assert_true(cJSON_Compare(doc, back, 1));
	cJSON_Delete(back);
	cJSON_Delete(doc);
	rm_dir(dir);
	free(dir);
}

/* Every damaged form of a good file is refused whole with StateFileCorrupt. */
static void
test_state_corruption(void **state)
{
	struct sl_error err;
	char *dir = tmpdir();
	cJSON *doc = sample_doc(), *back;
	char path[512];
	size_t len;
	char *good;

	(void)state;
	assert_int_equal(sl_state_save(dir, doc, &err), 0);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	good = read_all(path, &len);

	/* a flipped byte in the JSON */
	char *bad = malloc(len);
	memcpy(bad, good, len);
	bad[len - 5] ^= 0x01;
	write_all(path, bad, len);
	back = (cJSON *)1;
	assert_int_equal(sl_state_load(dir, &back, &err), -EBADMSG);
	assert_null(back);
	assert_string_equal(err.code, "StateFileCorrupt");
	assert_non_null(strstr(err.message, "checksum"));

	/* every truncation */
	for (size_t cut = 0; cut < len; cut += (cut < 40 ? 1 : 7)) {
		write_all(path, good, cut);
		assert_int_equal(sl_state_load(dir, &back, &err), -EBADMSG);
		assert_string_equal(err.code, "StateFileCorrupt");
	}
	/* trailing garbage */
	memcpy(bad, good, len);
	write_all(path, good, len);
	FILE *f = fopen(path, "ab");
	fputs("xx", f);
	fclose(f);
	assert_int_equal(sl_state_load(dir, &back, &err), -EBADMSG);
	/* a header that is not ours */
	write_all(path, "{\"virtualNetworks\":[]}", 22);
	assert_int_equal(sl_state_load(dir, &back, &err), -EBADMSG);
	/* the good file again loads */
	write_all(path, good, len);
	assert_int_equal(sl_state_load(dir, &back, &err), 0);
	cJSON_Delete(back);
	free(bad);
	free(good);
	cJSON_Delete(doc);
	rm_dir(dir);
	free(dir);
}

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_state_corruption),
		cmocka_unit_test(test_path_parse),
		cmocka_unit_test(test_put_get_delete),
		cmocka_unit_test(test_dynamic_ip_kept),
		cmocka_unit_test(test_update_keeps_name_case),
		cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
