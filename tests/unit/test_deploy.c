/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_deploy.c: template deployments without sluiced (sl_deploy,
 * sl_deploy_records, sl_deploy_whatif, sl_deploy_api): one commit and one
 * publication per deployment, unsupported types listed or skipped, a
 * validation error pointed at the template (only when the template's
 * resource, group included, is at fault), Complete mode's deletions,
 * what-if deltas, the records (replace, order, the 800 limit, the bounds
 * on dependencies and on all records, the file written only on a change, a
 * damaged file set aside), secure values redacted, and the API's paths and
 * refusals.
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

#include "sl_deploy.h"
#include "sl_deploy_api.h"
#include "sl_deploy_records.h"

#define NET "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network"
#define DEP "/subscriptions/s/resourcegroups/rg/providers/Microsoft.Resources/deployments"

static int published;

static void *
fake_prepare(void *ctx, const struct sl_model *m, const struct sl_model_delta *delta,
	     struct sl_error *err)
{
	(void)ctx;
	(void)m;
	(void)delta;
	(void)err;
	return &published;
}

static void
fake_publish(void *ctx, void *prepared)
{
	(void)ctx;
	(void)prepared;
	published++;
}

static void
controller(struct sl_controller *c, const char *state_dir)
{
	const struct sl_apply_ops ops = {fake_prepare, fake_publish, NULL};
	struct sl_error e;

	published = 0;
	assert_int_equal(sl_controller_init(c, state_dir, NULL, &ops, &e), 0);
}

static cJSON *
json(const char *text)
{
	cJSON *v = cJSON_Parse(text);

	assert_non_null(v);
	return v;
}

/* A vnet, and an LB whose pool has `count` addresses from a property copy loop. */
static const char *const STACK =
	"{\"parameters\": {\"count\": {\"type\": \"int\", \"defaultValue\": 3}},"
	" \"resources\": ["
	"  {\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"v\", \"location\": \"eastus\","
	"   \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.5.0.0/16\"]},"
	"     \"subnets\": [{\"name\": \"s\", \"properties\": {\"addressPrefix\": \"10.5.0.0/24\"}}]}},"
	"  {\"type\": \"Microsoft.Network/loadBalancers\", \"name\": \"lb\", \"location\": \"eastus\", \"sku\": {\"name\": \"Standard\"},"
	"   \"dependsOn\": [\"[resourceId('Microsoft.Network/virtualNetworks', 'v')]\"],"
	"   \"properties\": {\"frontendIPConfigurations\": [{\"name\": \"fe\", \"properties\": {"
	"      \"privateIPAddress\": \"10.5.0.10\", \"subnet\": {\"id\": \"" NET "/virtualNetworks/v/subnets/s\"}}}],"
	"     \"backendAddressPools\": [{\"name\": \"p\", \"properties\": {\"copy\": [{"
	"       \"name\": \"loadBalancerBackendAddresses\", \"count\": \"[parameters('count')]\","
	"       \"input\": {\"name\": \"[concat('a', copyIndex('loadBalancerBackendAddresses'))]\","
	"         \"properties\": {\"ipAddress\": \"[concat('10.5.0.', add(20, copyIndex('loadBalancerBackendAddresses')))]\","
	"           \"virtualNetwork\": {\"id\": \"" NET "/virtualNetworks/v\"}}}}]}}]},"
	"   \"resources\": [{\"type\": \"probes\", \"name\": \"hp\", \"properties\": {\"protocol\": \"Tcp\", \"port\": 80}}]}]}";

static struct sl_deploy_request
request(const cJSON *tmpl, const cJSON *params, enum sl_deploy_mode mode)
{
	struct sl_deploy_request rq = {"s", "rg", "d", mode, tmpl, params, false};
	return rq;
}

static void
test_names_and_modes(void **state)
{
	enum sl_deploy_mode m;

	(void)state;
	assert_int_equal(sl_deploy_mode_parse("complete", &m), 0);
	assert_int_equal(m, SL_DEPLOY_COMPLETE);
	assert_int_equal(sl_deploy_mode_parse("Incremental", &m), 0);
	assert_int_equal(m, SL_DEPLOY_INCREMENTAL);
	assert_int_equal(sl_deploy_mode_parse("Sometimes", &m), -EINVAL);
	assert_true(sl_deploy_name_valid("web-1_(x).y"));
	assert_false(sl_deploy_name_valid(""));
	assert_false(sl_deploy_name_valid("a b"));
	assert_false(sl_deploy_name_valid("a/b"));
	char long_name[70];
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	assert_false(sl_deploy_name_valid(long_name));
	long_name[64] = '\0';
	assert_true(sl_deploy_name_valid(long_name));
}

static void
test_one_commit_one_publication(void **state)
{
	struct sl_controller c;
	struct sl_deploy_outcome o;
	cJSON *tmpl = json(STACK);
	struct sl_deploy_request rq = request(tmpl, NULL, SL_DEPLOY_INCREMENTAL);

	(void)state;
	controller(&c, NULL);
	uint64_t commits = c.commits;
	int before = published;
	if (sl_deploy_prepare(c.doc, &rq, &o) != 0)
		fail_msg("%s", cJSON_PrintUnformatted(o.error));
	assert_int_equal(cJSON_GetArraySize(o.resources), 3); /* vnet, lb, lb/hp */
	if (sl_deploy_commit(&c, &rq, &o, 0) != 0)
		fail_msg("%s", cJSON_PrintUnformatted(o.error));
	assert_int_equal(c.commits, commits + 1);
	assert_int_equal(published, before + 1);
	const cJSON *lb = cJSON_GetArrayItem(cJSON_GetObjectItem(c.doc, "loadBalancers"), 0);
	const cJSON *pool = cJSON_GetArrayItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(lb, "properties"), "backendAddressPools"), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
				 cJSON_GetObjectItem(pool, "properties"), "loadBalancerBackendAddresses")),
			 3);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
				 cJSON_GetObjectItem(lb, "properties"), "probes")), 1);
	/* the record */
	struct sl_deploy_clock clk = {1700000000.5, 0, 1234.5};
	cJSON *rec = sl_deploy_record(&rq, &o, &clk);
	const cJSON *p = cJSON_GetObjectItem(rec, "properties");
	assert_string_equal(cJSON_GetObjectItem(p, "provisioningState")->valuestring, "Succeeded");
	assert_string_equal(cJSON_GetObjectItem(p, "timestamp")->valuestring,
			    "2023-11-14T22:13:20.5000000Z");
	assert_string_equal(cJSON_GetObjectItem(p, "duration")->valuestring, "PT0.0012345S");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(p, "outputResources")), 3);
	const cJSON *dep = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "dependencies"), 0);
	assert_string_equal(cJSON_GetObjectItem(dep, "resourceName")->valuestring, "lb");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(dep, "dependsOn"), 0),
						"id")->valuestring, NET "/virtualNetworks/v");
	cJSON_Delete(rec);
	sl_deploy_outcome_free(&o);
	cJSON_Delete(tmpl);
	sl_controller_fini(&c);
}

/* A record's dependencies as "name: dep dep; name: dep". */
static const char *
dependencies(const cJSON *rec)
{
	static char buf[1024];
	const cJSON *d, *on;
	size_t off = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "properties"), "dependencies")) {
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s:", off > 0 ? "; " : "",
					cJSON_GetObjectItem(d, "resourceName")->valuestring);
		cJSON_ArrayForEach(on, cJSON_GetObjectItem(d, "dependsOn"))
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, " %s",
						cJSON_GetObjectItem(on, "resourceName")->valuestring);
		assert_true(off < sizeof(buf));
	}
	return buf;
}

/* The record lists what each dependsOn resolved to: copyIndex() per instance, a loop as each. */
static void
test_record_dependencies(void **state)
{
	cJSON *tmpl = json("{\"resources\": ["
			   " {\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"[concat('v', copyIndex())]\","
			   "  \"copy\": {\"name\": \"vnets\", \"count\": 2}, \"properties\": {"
			   "   \"addressSpace\": {\"addressPrefixes\": [\"[concat('10.', add(10, copyIndex()), '.0.0/16')]\"]}}},"
			   " {\"type\": \"Microsoft.Network/virtualNetworks/subnets\", \"name\": \"[concat('v', copyIndex(), '/s')]\","
			   "  \"copy\": {\"name\": \"subs\", \"count\": 2},"
			   "  \"dependsOn\": [\"[resourceId('Microsoft.Network/virtualNetworks', concat('v', copyIndex()))]\"],"
			   "  \"properties\": {\"addressPrefix\": \"[concat('10.', add(10, copyIndex()), '.0.0/24')]\"}},"
			   " {\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"last\", \"dependsOn\": [\"subs\", \"off\"],"
			   "  \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.20.0.0/16\"]}}},"
			   " {\"condition\": false, \"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"off\"}]}");
	struct sl_deploy_request rq = request(tmpl, NULL, SL_DEPLOY_INCREMENTAL);
	struct sl_deploy_clock clk = {1700000000, 0, 1};
	struct sl_deploy_outcome o;
	cJSON *doc = sl_doc_new();

	(void)state;
	if (sl_deploy_prepare(doc, &rq, &o) != 0)
		fail_msg("%s", cJSON_PrintUnformatted(o.error));
	cJSON *rec = sl_deploy_record(&rq, &o, &clk);
	assert_string_equal(dependencies(rec), "v0/s: v0; v1/s: v1; last: v0/s v1/s");
	const cJSON *on = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "properties"), "dependencies"), 2), "dependsOn"), 1);
	assert_string_equal(cJSON_GetObjectItem(on, "id")->valuestring, NET "/virtualNetworks/v1/subnets/s");
	assert_string_equal(cJSON_GetObjectItem(on, "resourceType")->valuestring,
			    "Microsoft.Network/virtualNetworks/subnets");
	cJSON_Delete(rec);
	sl_deploy_outcome_free(&o);
	cJSON_Delete(doc);
	cJSON_Delete(tmpl);
}

/* 100 vnets each waiting for a loop of 50: 5,000 dependsOn entries, the record lists 4,096. */
static void
test_record_dependencies_bounded(void **state)
{
	cJSON *tmpl = json("{\"resources\": ["
			   " {\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"[concat('a', copyIndex())]\","
			   "  \"copy\": {\"name\": \"as\", \"count\": 50}, \"properties\": {}},"
			   " {\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"[concat('b', copyIndex())]\","
			   "  \"copy\": {\"name\": \"bs\", \"count\": 100}, \"dependsOn\": [\"as\"], \"properties\": {}}]}");
	struct sl_deploy_request rq = request(tmpl, NULL, SL_DEPLOY_INCREMENTAL);
	struct sl_deploy_clock clk = {1700000000, 0, 1};
	struct sl_deploy_outcome o;
	cJSON *doc = sl_doc_new();
	const cJSON *d;
	int entries = 0;

	(void)state;
	if (sl_deploy_prepare(doc, &rq, &o) != 0)
		fail_msg("%s", cJSON_PrintUnformatted(o.error));
	cJSON *rec = sl_deploy_record(&rq, &o, &clk);
	const cJSON *props = cJSON_GetObjectItem(rec, "properties");
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(props, "dependencies"))
		entries += cJSON_GetArraySize(cJSON_GetObjectItem(d, "dependsOn"));
	assert_int_equal(entries, SL_DEPLOY_DEPENDENCIES_MAX);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(props, "dependenciesTruncated")));
	cJSON_Delete(rec);
	sl_deploy_outcome_free(&o);
	/* under the bound: no marker */
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(tmpl, "resources"), 1),
						      "copy"), "count", cJSON_CreateNumber(81));
	assert_int_equal(sl_deploy_prepare(doc, &rq, &o), 0);
	rec = sl_deploy_record(&rq, &o, &clk);
	props = cJSON_GetObjectItem(rec, "properties");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(props, "dependencies")), 81);
	assert_null(cJSON_GetObjectItem(props, "dependenciesTruncated"));
	cJSON_Delete(rec);
	sl_deploy_outcome_free(&o);
	cJSON_Delete(doc);
	cJSON_Delete(tmpl);
}

static void
test_unsupported_refused_or_skipped(void **state)
{
	cJSON *tmpl = json("{\"resources\": ["
			   " {\"type\": \"Microsoft.Compute/virtualMachines\", \"name\": \"vm\"},"
			   " {\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"v\", \"properties\": {"
			   "   \"addressSpace\": {\"addressPrefixes\": [\"10.6.0.0/16\"]}}},"
			   " {\"type\": \"Microsoft.Network/networkSecurityGroups\", \"name\": \"nsg\"}]}");
	struct sl_deploy_request rq = request(tmpl, NULL, SL_DEPLOY_INCREMENTAL);
	struct sl_deploy_outcome o;
	cJSON *doc = sl_doc_new();

	(void)state;
	assert_int_equal(sl_deploy_prepare(doc, &rq, &o), -EINVAL);
	assert_int_equal(o.status, 400);
	assert_string_equal(cJSON_GetObjectItem(o.error, "code")->valuestring,
			    "InvalidTemplateDeployment");
	const cJSON *details = cJSON_GetObjectItem(o.error, "details");
	assert_int_equal(cJSON_GetArraySize(details), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(details, 0), "target")->valuestring,
			    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(details, 1), "resourceType")->valuestring,
			    "Microsoft.Network/networkSecurityGroups");
	sl_deploy_outcome_free(&o);

	rq.skip_unsupported = true;
	assert_int_equal(sl_deploy_prepare(doc, &rq, &o), 0);
	assert_int_equal(cJSON_GetArraySize(o.skipped), 2);
	assert_int_equal(cJSON_GetArraySize(o.resources), 1);
	sl_deploy_outcome_free(&o);
	cJSON_Delete(doc);
	cJSON_Delete(tmpl);
}

static void
test_validation_error_points_at_the_template(void **state)
{
	struct sl_controller c;
	struct sl_deploy_outcome o;
	cJSON *tmpl = json(STACK);
	cJSON *hp = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
						  cJSON_GetObjectItem(tmpl, "resources"), 1), "resources"), 0);
	struct sl_deploy_request rq = request(tmpl, NULL, SL_DEPLOY_INCREMENTAL);

	(void)state;
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(hp, "properties"), "port",
				  cJSON_CreateNumber(99999));
	controller(&c, NULL);
	cJSON *committed = cJSON_Duplicate(c.doc, 1);
	uint64_t commits = c.commits;
	assert_int_equal(sl_deploy_prepare(c.doc, &rq, &o), 0);
	assert_int_equal(sl_deploy_validate(&rq, &o), -EINVAL);
	const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItem(o.error, "details"), 0);
	assert_string_equal(cJSON_GetObjectItem(d, "code")->valuestring, "PropertyValueOutOfRange");
	assert_string_equal(cJSON_GetObjectItem(d, "target")->valuestring,
			    NET "/loadBalancers/lb/probes/hp");
	assert_string_equal(cJSON_GetObjectItem(d, "jsonPath")->valuestring,
			    "$.resources[1].resources[0].properties.port");
	sl_deploy_outcome_free(&o);
	/* the commit refuses the same way and changes nothing */
	assert_int_equal(sl_deploy_prepare(c.doc, &rq, &o), 0);
	assert_int_not_equal(sl_deploy_commit(&c, &rq, &o, 0), 0);
	assert_int_equal(o.status, 400);
	assert_true(cJSON_Compare(c.doc, committed, 1));
	assert_int_equal(c.commits, commits);
	sl_deploy_outcome_free(&o);
	cJSON_Delete(committed);
	cJSON_Delete(tmpl);
	sl_controller_fini(&c);
}

#define SCOPE(rg) "/subscriptions/s/resourceGroups/" rg "/providers/Microsoft.Network"

/* Deploy tmpl_text to rg (Incremental) and commit it. */
static void
deploy_to(struct sl_controller *c, const char *rg, const char *tmpl_text)
{
	cJSON *tmpl = json(tmpl_text);
	struct sl_deploy_request rq = request(tmpl, NULL, SL_DEPLOY_INCREMENTAL);
	struct sl_deploy_outcome o;

	rq.rg = rg;
	if (sl_deploy_prepare(c->doc, &rq, &o) != 0 || sl_deploy_commit(c, &rq, &o, 0) != 0)
		fail_msg("%s", cJSON_PrintUnformatted(o.error));
	sl_deploy_outcome_free(&o);
	cJSON_Delete(tmpl);
}

/* The one detail of a refused Complete deployment of tmpl_text to rg, validated and committed. */
static void
refused_detail(struct sl_controller *c, const char *rg, const char *tmpl_text,
	       const char *target, const char *json_path)
{
	cJSON *tmpl = json(tmpl_text);
	struct sl_deploy_request rq = request(tmpl, NULL, SL_DEPLOY_COMPLETE);
	struct sl_deploy_outcome o;

	rq.rg = rg;
	for (int commit = 0; commit < 2; commit++) {
		assert_int_equal(sl_deploy_prepare(c->doc, &rq, &o), 0);
		if (commit)
			assert_int_not_equal(sl_deploy_commit(c, &rq, &o, 0), 0);
		else
			assert_int_equal(sl_deploy_validate(&rq, &o), -EINVAL);
		const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItem(o.error, "details"), 0);
		const cJSON *p = cJSON_GetObjectItem(d, "jsonPath");
		if (strcmp(cJSON_GetObjectItem(d, "target")->valuestring, target) != 0 ||
		    (json_path == NULL ? p != NULL : p == NULL || strcmp(p->valuestring, json_path) != 0))
			fail_msg("%s", cJSON_PrintUnformatted(o.error));
		sl_deploy_outcome_free(&o);
	}
	cJSON_Delete(tmpl);
}

/* An error is the template resource's only when the faulty resource is that one, group included. */
static void
test_validation_error_of_another_group(void **state)
{
	struct sl_controller c;

	(void)state;
	controller(&c, NULL);
	deploy_to(&c, "rgB", "{\"resources\": [{\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"v\","
		  " \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.5.0.0/16\"]},"
		  " \"subnets\": [{\"name\": \"s\", \"properties\": {\"addressPrefix\": \"10.5.0.0/24\"}}]}}]}");
	deploy_to(&c, "rgA", "{\"resources\": [{\"type\": \"Microsoft.Network/loadBalancers\", \"name\": \"lb\","
		  " \"properties\": {\"frontendIPConfigurations\": [{\"name\": \"fe\", \"properties\": {"
		  " \"privateIPAddress\": \"10.5.0.10\", \"subnet\": {\"id\": \"" SCOPE("rgB") "/virtualNetworks/v/subnets/s\"}}}]}}]}");
	/* Complete to rgB without v: rgA's lb loses its subnet; rgB's own lb is not at fault */
	refused_detail(&c, "rgB", "{\"resources\": [{\"type\": \"Microsoft.Network/loadBalancers\", \"name\": \"lb\","
		       " \"properties\": {\"frontendIPConfigurations\": [{\"name\": \"fe\", \"properties\": {}}]}}]}",
		       SCOPE("rgA") "/loadBalancers/lb/frontendIPConfigurations/fe", NULL);
	/* a NIC of group cy in vnet cx/cv, and an empty Complete template to cx */
	deploy_to(&c, "cx", "{\"resources\": [{\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"cv\","
		  " \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.6.0.0/16\"]},"
		  " \"subnets\": [{\"name\": \"s\", \"properties\": {\"addressPrefix\": \"10.6.0.0/24\"}}]}}]}");
	deploy_to(&c, "cy", "{\"resources\": [{\"type\": \"Microsoft.Network/networkInterfaces\", \"name\": \"cn\","
		  " \"properties\": {\"ipConfigurations\": [{\"name\": \"ic\", \"properties\": {"
		  " \"privateIPAddress\": \"10.6.0.4\", \"subnet\": {\"id\": \"" SCOPE("cx") "/virtualNetworks/cv/subnets/s\"}}}]}}]}");
	refused_detail(&c, "cx", "{\"resources\": []}",
		       SCOPE("cy") "/networkInterfaces/cn/ipConfigurations/ic", NULL);
	sl_controller_fini(&c);
}

static void
test_complete_mode_deletes_the_rest(void **state)
{
	struct sl_controller c;
	struct sl_deploy_outcome o;
	cJSON *tmpl = json(STACK);
	struct sl_deploy_request rq = request(tmpl, NULL, SL_DEPLOY_INCREMENTAL);

	(void)state;
	controller(&c, NULL);
	assert_int_equal(sl_deploy_prepare(c.doc, &rq, &o), 0);
	/* a vnet of the group, one of another group */
	cJSON *vnets = cJSON_GetObjectItem(o.doc, "virtualNetworks");
	cJSON_AddItemToArray(vnets, json("{\"name\": \"gone\", \"id\": \"" NET "/virtualNetworks/gone\","
					 " \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.7.0.0/16\"]}}}"));
	cJSON_AddItemToArray(vnets, json("{\"name\": \"kept\", \"id\": \"/subscriptions/s/resourceGroups/other/providers/Microsoft.Network/virtualNetworks/kept\","
					 " \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.8.0.0/16\"]}}}"));
	assert_int_equal(sl_deploy_commit(&c, &rq, &o, 0), 0);
	sl_deploy_outcome_free(&o);
	cJSON_Delete(tmpl);

	/* Complete, naming only the LB's probe: the LB stays (a parent), the vnet... is
	 * still needed by the LB, so it is the group's other vnet that goes */
	tmpl = json("{\"resources\": [{\"type\": \"Microsoft.Network/loadBalancers/probes\","
		    " \"name\": \"lb/hp\", \"properties\": {\"protocol\": \"Tcp\", \"port\": 81}},"
		    " {\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"v\", \"location\": \"eastus\","
		    "   \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.5.0.0/16\"]},"
		    "     \"subnets\": [{\"name\": \"s\", \"properties\": {\"addressPrefix\": \"10.5.0.0/24\"}}]}}]}");
	rq = request(tmpl, NULL, SL_DEPLOY_COMPLETE);
	assert_int_equal(sl_deploy_prepare(c.doc, &rq, &o), 0);
	assert_int_equal(cJSON_GetArraySize(o.deleted), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(o.deleted, 0), "id")->valuestring,
			    NET "/virtualNetworks/gone");
	cJSON *changes = sl_deploy_whatif(c.doc, &rq, &o);
	const cJSON *first = cJSON_GetArrayItem(changes, 0);
	assert_string_equal(cJSON_GetObjectItem(first, "changeType")->valuestring, "Delete");
	const cJSON *probe = cJSON_GetArrayItem(changes, 1);
	assert_string_equal(cJSON_GetObjectItem(probe, "changeType")->valuestring, "Modify");
	const cJSON *delta = cJSON_GetArrayItem(cJSON_GetObjectItem(probe, "delta"), 0);
	assert_string_equal(cJSON_GetObjectItem(delta, "path")->valuestring, "properties.port");
	assert_string_equal(cJSON_GetObjectItem(delta, "propertyChangeType")->valuestring, "Modify");
	assert_int_equal(cJSON_GetObjectItem(delta, "before")->valueint, 80);
	assert_int_equal(cJSON_GetObjectItem(delta, "after")->valueint, 81);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(changes, 2), "changeType")->valuestring,
			    "NoChange");
	assert_int_equal(cJSON_GetArraySize(changes), 3); /* the other group's vnet: not listed */
	cJSON_Delete(changes);
	assert_int_equal(sl_deploy_commit(&c, &rq, &o, 0), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c.doc, "virtualNetworks")), 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c.doc, "loadBalancers")), 1);
	sl_deploy_outcome_free(&o);
	cJSON_Delete(tmpl);
	sl_controller_fini(&c);
}

/* changes[i]'s resourceId and changeType. */
static void
assert_change(const cJSON *changes, int i, const char *id, const char *type)
{
	const cJSON *c = cJSON_GetArrayItem(changes, i);

	assert_non_null(c);
	assert_string_equal(cJSON_GetObjectItem(c, "resourceId")->valuestring, id);
	assert_string_equal(cJSON_GetObjectItem(c, "changeType")->valuestring, type);
}

#define COPIES 800 /* ARM's most for one copy loop */

/* The id of resource i of the 800-copy template: lb<i>, then lb0's probes p<i - 800>. */
static const char *
copy_id(int i)
{
	static char id[256];

	if (i < COPIES)
		snprintf(id, sizeof(id), NET "/loadBalancers/lb%d", i);
	else
		snprintf(id, sizeof(id), NET "/loadBalancers/lb0/probes/p%d", i - COPIES);
	return id;
}

/*
 * Prepare, validate and what-if of the 800-copy template onto c's
 * document: every resource put, in order, and in the document. Returns the
 * outcome, the what-if's changes in *changes.
 */
static void
deploy_copies(struct sl_controller *c, const cJSON *tmpl, enum sl_deploy_mode mode,
	      struct sl_deploy_outcome *o, cJSON **changes)
{
	struct sl_deploy_request rq = request(tmpl, NULL, mode);
	struct sl_res_path p;
	struct sl_error e;

	if (sl_deploy_prepare(c->doc, &rq, o) != 0 || sl_deploy_validate(&rq, o) != 0)
		fail_msg("%s", cJSON_PrintUnformatted(o->error));
	assert_int_equal(cJSON_GetArraySize(o->resources), 2 * COPIES);
	for (int i = 0; i < 2 * COPIES; i++) {
		assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(o->resources, i),
							"id")->valuestring, copy_id(i));
		assert_int_equal(sl_res_path_parse(copy_id(i), &p, &e), 0);
		assert_non_null(sl_doc_find(o->doc, &p));
	}
	*changes = sl_deploy_whatif(c->doc, &rq, o);
	assert_non_null(*changes);
}

/*
 * 800 load balancers from one copy loop and 800 probes of the first from
 * another (a deployment that once took time quadratic in its resources):
 * what-if, the record, the commit; then again in Complete mode.
 */
static void
test_copy_800(void **state)
{
	struct sl_controller c;
	struct sl_deploy_outcome o;
	cJSON *changes, *tmpl = json(
		"{\"resources\": [{\"type\": \"Microsoft.Network/loadBalancers\","
		" \"name\": \"[concat('lb', copyIndex())]\", \"copy\": {\"name\": \"lbs\", \"count\": 800},"
		"  \"properties\": {\"frontendIPConfigurations\": [{\"name\": \"fe\", \"properties\": {\"privateIPAddress\":"
		"   \"[concat('192.0.', div(copyIndex(), 250), '.', add(1, mod(copyIndex(), 250)))]\"}}]}},"
		" {\"type\": \"Microsoft.Network/loadBalancers/probes\", \"name\": \"[concat('lb0/p', copyIndex())]\","
		"  \"copy\": {\"name\": \"probes\", \"count\": 800},"
		"  \"properties\": {\"protocol\": \"Tcp\", \"port\": \"[add(1000, copyIndex())]\"}}]}");
	struct sl_deploy_request rq = request(tmpl, NULL, SL_DEPLOY_INCREMENTAL);
	struct sl_deploy_clock clk = {1700000000, 0, 1};

	(void)state;
	controller(&c, NULL);
	deploy_to(&c, "rg", "{\"resources\": [{\"type\": \"Microsoft.Network/loadBalancers\", \"name\": \"old\"}]}");
	deploy_to(&c, "other", "{\"resources\": [{\"type\": \"Microsoft.Network/loadBalancers\", \"name\": \"lb3\"}]}");
	deploy_copies(&c, tmpl, SL_DEPLOY_INCREMENTAL, &o, &changes);
	/* a Create each, in order; the group's other load balancer Ignored */
	assert_int_equal(cJSON_GetArraySize(changes), 2 * COPIES + 1);
	for (int i = 0; i < 2 * COPIES; i++)
		assert_change(changes, i, copy_id(i), "Create");
	assert_change(changes, 2 * COPIES, NET "/loadBalancers/old", "Ignore");
	cJSON_Delete(changes);
	cJSON *rec = sl_deploy_record(&rq, &o, &clk);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "properties"),
								"outputResources")), 2 * COPIES);
	cJSON_Delete(rec);
	if (sl_deploy_commit(&c, &rq, &o, 0) != 0)
		fail_msg("%s", cJSON_PrintUnformatted(o.error));
	sl_deploy_outcome_free(&o);
	const cJSON *lbs = cJSON_GetObjectItem(c.doc, "loadBalancers");
	assert_int_equal(cJSON_GetArraySize(lbs), 2 + COPIES);
	const cJSON *probes = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(lbs, 2),
								      "properties"), "probes");
	assert_int_equal(cJSON_GetArraySize(probes), COPIES);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(probes, 799),
								 "properties"), "port")->valueint, 1799);

	/* Complete, again: old deleted (listed first), every other a NoChange, lb3 of "other" kept */
	deploy_copies(&c, tmpl, SL_DEPLOY_COMPLETE, &o, &changes);
	assert_int_equal(cJSON_GetArraySize(changes), 2 * COPIES + 1);
	assert_change(changes, 0, NET "/loadBalancers/old", "Delete");
	for (int i = 0; i < 2 * COPIES; i++)
		assert_change(changes, i + 1, copy_id(i), "NoChange");
	cJSON_Delete(changes);
	assert_int_equal(sl_deploy_commit(&c, &rq, &o, 0), 0);
	sl_deploy_outcome_free(&o);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c.doc, "loadBalancers")), 1 + COPIES);
	cJSON_Delete(tmpl);
	sl_controller_fini(&c);
}

static cJSON *
record(const char *name)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "name", name);
	cJSON_AddObjectToObject(r, "properties");
	return r;
}

static char *
tmpdir(void)
{
	char *d = strdup("/tmp/sl-test-deploy-XXXXXX");
	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void
test_records(void **state)
{
	struct sl_deploy_records *r = sl_deploy_records_create(NULL);
	struct sl_error e;
	bool created;
	char name[16];

	(void)state;
	assert_int_equal(sl_deploy_records_put(r, "s", "rg", record("a"), &created, &e), 0);
	assert_true(created);
	assert_int_equal(sl_deploy_records_put(r, "s", "rg", record("b"), &created, &e), 0);
	assert_int_equal(sl_deploy_records_put(r, "s", "RG", record("A"), &created, &e), 0);
	assert_false(created); /* names and groups case-insensitive */
	cJSON *l = sl_deploy_records_list(r, "S", "rg");
	const cJSON *v = cJSON_GetObjectItem(l, "value");
	assert_int_equal(cJSON_GetArraySize(v), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 0), "name")->valuestring, "A");
	cJSON_Delete(l);
	assert_non_null(sl_deploy_records_get(r, "s", "rg", "B"));
	assert_null(sl_deploy_records_get(r, "s", "other", "b"));
	assert_int_equal(sl_deploy_records_delete(r, "s", "rg", "b", &e), 1);
	assert_int_equal(sl_deploy_records_delete(r, "s", "rg", "b", &e), 0);
	/* 800 a group: the oldest go */
	for (int i = 0; i < SL_DEPLOY_RECORDS_PER_GROUP + 5; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		assert_int_equal(sl_deploy_records_put(r, "s", "big", record(name), &created, &e), 0);
	}
	l = sl_deploy_records_list(r, "s", "big");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(l, "value")), SL_DEPLOY_RECORDS_PER_GROUP);
	cJSON_Delete(l);
	assert_null(sl_deploy_records_get(r, "s", "big", "n4"));
	assert_non_null(sl_deploy_records_get(r, "s", "big", "n5"));
	assert_non_null(sl_deploy_records_get(r, "s", "rg", "a")); /* another group untouched */
	sl_deploy_records_free(r);
}

/* Past 10,000 records or 50 MB of them in all, the oldest of any group go. */
static void
test_records_bounded_in_all(void **state)
{
	struct sl_deploy_records *r = sl_deploy_records_create(NULL);
	struct sl_error e;
	bool created;
	char name[16], rg[16];

	(void)state;
	for (int i = 0; i < SL_DEPLOY_RECORDS_MAX + 5; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		snprintf(rg, sizeof(rg), "g%d", i / 700);
		assert_int_equal(sl_deploy_records_put(r, "s", rg, record(name), &created, &e), 0);
	}
	int total = 0;
	for (int g = 0; g <= SL_DEPLOY_RECORDS_MAX / 700; g++) {
		snprintf(rg, sizeof(rg), "g%d", g);
		cJSON *l = sl_deploy_records_list(r, "s", rg);
		total += cJSON_GetArraySize(cJSON_GetObjectItem(l, "value"));
		cJSON_Delete(l);
	}
	assert_int_equal(total, SL_DEPLOY_RECORDS_MAX);
	assert_null(sl_deploy_records_get(r, "s", "g0", "n4"));
	assert_non_null(sl_deploy_records_get(r, "s", "g0", "n5"));
	sl_deploy_records_free(r);

	/* bytes: records of 1 MiB each */
	size_t big = 1u << 20;
	char *filler = malloc(big + 1);
	assert_non_null(filler);
	memset(filler, 'x', big);
	filler[big] = '\0';
	r = sl_deploy_records_create(NULL);
	int n = (int)(SL_DEPLOY_RECORDS_BYTES_MAX / big) + 3;
	for (int i = 0; i < n; i++) {
		cJSON *rec = record(name);
		snprintf(name, sizeof(name), "b%d", i);
		cJSON_ReplaceItemInObject(rec, "name", cJSON_CreateString(name));
		cJSON_AddStringToObject(cJSON_GetObjectItem(rec, "properties"), "outputs", filler);
		assert_int_equal(sl_deploy_records_put(r, "s", i % 2 ? "odd" : "even", rec, &created, &e), 0);
	}
	cJSON *l1 = sl_deploy_records_list(r, "s", "odd"), *l2 = sl_deploy_records_list(r, "s", "even");
	int kept = cJSON_GetArraySize(cJSON_GetObjectItem(l1, "value")) +
		   cJSON_GetArraySize(cJSON_GetObjectItem(l2, "value"));
	cJSON_Delete(l1);
	cJSON_Delete(l2);
	assert_true((size_t)kept * big <= SL_DEPLOY_RECORDS_BYTES_MAX);
	assert_true(kept >= n - 4);
	assert_null(sl_deploy_records_get(r, "s", "even", "b0"));
	snprintf(name, sizeof(name), "b%d", n - 1);
	assert_non_null(sl_deploy_records_get(r, "s", (n - 1) % 2 ? "odd" : "even", name));
	sl_deploy_records_free(r);
	free(filler);
}

static void
test_records_file(void **state)
{
	char *dir = tmpdir(), path[512], aside[600], cmd[700];
	struct sl_deploy_records *r = sl_deploy_records_create(dir);
	struct sl_error e;
	bool created;

	(void)state;
	assert_int_equal(sl_deploy_records_put(r, "s", "rg", record("old"), &created, &e), 0);
	assert_int_equal(sl_deploy_records_put(r, "s", "rg", record("new"), &created, &e), 0);
	sl_deploy_records_free(r);
	r = sl_deploy_records_create(dir);
	sl_deploy_records_restore(r);
	cJSON *l = sl_deploy_records_list(r, "s", "rg");
	const cJSON *v = cJSON_GetObjectItem(l, "value");
	assert_int_equal(cJSON_GetArraySize(v), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 0), "name")->valuestring, "new");
	cJSON_Delete(l);
	/* a record put after a restore is the newest */
	assert_int_equal(sl_deploy_records_put(r, "s", "rg", record("later"), &created, &e), 0);
	l = sl_deploy_records_list(r, "s", "rg");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(l, "value"), 0),
						"name")->valuestring, "later");
	cJSON_Delete(l);
	sl_deploy_records_free(r);
	/* damaged: set aside, no records */
	snprintf(path, sizeof(path), "%s/%s", dir, SL_DEPLOY_RECORDS_FILE);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"version\": 1, \"deployments\": [{\"subscr", f);
	fclose(f);
	r = sl_deploy_records_create(dir);
	sl_deploy_records_restore(r);
	l = sl_deploy_records_list(r, "s", "rg");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(l, "value")), 0);
	cJSON_Delete(l);
	snprintf(aside, sizeof(aside), "%s.damaged", path);
	assert_int_equal(access(aside, F_OK), 0);
	assert_int_not_equal(access(path, F_OK), 0);
	sl_deploy_records_free(r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static void
test_api_paths_and_refusals(void **state)
{
	struct sl_controller c;
	struct sl_deploy_records *r = sl_deploy_records_create(NULL);
	struct sl_deploy_answer a;
	char body[4096];

	(void)state;
	assert_true(sl_deploy_api_path(DEP));
	assert_true(sl_deploy_api_path("/SUBSCRIPTIONS/s/resourceGroups/rg/providers/microsoft.resources/Deployments/d/whatif"));
	assert_false(sl_deploy_api_path("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/loadBalancers"));
	assert_false(sl_deploy_api_path(DEP "/d/validate/more"));
	controller(&c, NULL);
	sl_deploy_api_handle(r, &c, DEP "/d", "GET", NULL, 0, 0, &a);
	assert_int_equal(a.status, 404);
	assert_string_equal(a.code, "DeploymentNotFound");
	cJSON_Delete(a.body);
	snprintf(body, sizeof(body), "{\"properties\": {\"mode\": \"Incremental\","
		 " \"templateLink\": {\"uri\": \"x\"}}}");
	sl_deploy_api_handle(r, &c, DEP "/d", "PUT", body, strlen(body), 0, &a);
	assert_int_equal(a.status, 400);
	assert_string_equal(a.code, "TemplateLinkNotSupported");
	cJSON_Delete(a.body);
	snprintf(body, sizeof(body), "{\"properties\": {\"mode\": \"Complete\", \"template\": %s}}", STACK);
	sl_deploy_api_handle(r, &c, DEP "/d", "PUT", body, strlen(body), 0, &a);
	assert_int_equal(a.status, 201);
	assert_true(a.committed);
	cJSON_Delete(a.body);
	sl_deploy_api_handle(r, &c, DEP "/d", "PUT", body, strlen(body), 0, &a);
	assert_int_equal(a.status, 200);
	cJSON_Delete(a.body);
	sl_deploy_api_handle(r, &c, DEP, "GET", NULL, 0, 0, &a);
	assert_int_equal(a.status, 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(a.body, "value")), 1);
	cJSON_Delete(a.body);
	sl_deploy_api_handle(r, &c, DEP "/d", "DELETE", NULL, 0, 0, &a);
	assert_int_equal(a.status, 200);
	sl_deploy_api_handle(r, &c, DEP "/d", "DELETE", NULL, 0, 0, &a);
	assert_int_equal(a.status, 204);
	sl_deploy_api_handle(r, &c, DEP, "PUT", body, strlen(body), 0, &a);
	assert_int_equal(a.status, 405);
	cJSON_Delete(a.body);
	sl_deploy_records_free(r);
	sl_controller_fini(&c);
}

/* Serve method on DEP/path with a deployment body of tmpl and {"pw": {"value": pw}}. */
static void
serve(struct sl_deploy_records *r, struct sl_controller *c, const char *method, const char *path,
      const char *tmpl, const char *pw, struct sl_deploy_answer *a)
{
	char url[256], body[8192];

	snprintf(url, sizeof(url), DEP "%s", path);
	snprintf(body, sizeof(body), "{\"properties\": {\"mode\": \"Incremental\", \"template\": %s,"
		 " \"parameters\": {\"pw\": {\"value\": \"%s\"}}}}", tmpl, pw);
	sl_deploy_api_handle(r, c, url, method, body, strlen(body), 0, a);
}

static bool
mentions(const cJSON *v, const char *text)
{
	char *s = cJSON_PrintUnformatted(v);
	bool found = s != NULL && strstr(s, text) != NULL;

	cJSON_free(s);
	return found;
}

/* A secure value's text leaves in no answer, record or audit text: "[secure]" instead. */
static void
test_secure_values_redacted(void **state)
{
	struct sl_controller c;
	struct sl_deploy_records *r = sl_deploy_records_create(NULL);
	struct sl_deploy_answer a;
	static const char *const bad =
		"{\"parameters\": {\"pw\": {\"type\": \"securestring\"}}, \"resources\": ["
		" {\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"v\", \"properties\": {"
		"   \"addressSpace\": {\"addressPrefixes\": [\"[parameters('pw')]\"]}}}]}";
	/* the secure value as a location and as a pool address (which the audit text names) */
	char good[2048];
	snprintf(good, sizeof(good),
		 "{\"parameters\": {\"pw\": {\"type\": \"securestring\"}}, \"resources\": ["
		 " {\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"v\", \"location\": \"[parameters('pw')]\","
		 "  \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.5.0.0/16\"]},"
		 "   \"subnets\": [{\"name\": \"s\", \"properties\": {\"addressPrefix\": \"10.5.0.0/24\"}}]}},"
		 " {\"type\": \"Microsoft.Network/loadBalancers\", \"name\": \"lb\", \"sku\": {\"name\": \"Standard\"},"
		 "  \"dependsOn\": [\"v\"], \"properties\": {\"frontendIPConfigurations\": [{\"name\": \"fe\", \"properties\": {"
		 "   \"privateIPAddress\": \"10.5.0.10\", \"subnet\": {\"id\": \"" NET "/virtualNetworks/v/subnets/s\"}}}],"
		 "  \"backendAddressPools\": [{\"name\": \"p\", \"properties\": {\"loadBalancerBackendAddresses\": ["
		 "   {\"name\": \"a\", \"properties\": {\"ipAddress\": \"[parameters('pw')]\","
		 "     \"virtualNetwork\": {\"id\": \"" NET "/virtualNetworks/v\"}}}]}}]}}]}");

	(void)state;
	controller(&c, NULL);
	/* a validation error quoting it: PUT, validate, what-if, the Failed record */
	static const char *const how[][2] = {{"PUT", "/d"}, {"POST", "/d/validate"}, {"POST", "/d/whatIf"}};
	for (size_t i = 0; i < sizeof(how) / sizeof(how[0]); i++) {
		serve(r, &c, how[i][0], how[i][1], bad, "S3cr3tVal", &a);
		assert_int_equal(a.status, 400);
		if (mentions(a.body, "S3cr3tVal") || strstr(a.message, "S3cr3tVal") != NULL ||
		    !mentions(a.body, "[secure]"))
			fail_msg("%s %s: %s", how[i][0], how[i][1], cJSON_PrintUnformatted(a.body));
		cJSON_Delete(a.body);
	}
	assert_false(mentions(sl_deploy_records_get(r, "s", "rg", "d"), "S3cr3tVal"));
	/* deployed: the answers and the record redact it, the resources keep it */
	serve(r, &c, "POST", "/d/whatIf", good, "10.5.0.33", &a);
	assert_int_equal(a.status, 200);
	assert_false(mentions(a.body, "10.5.0.33"));
	assert_true(mentions(a.body, "[secure]"));
	cJSON_Delete(a.body);
	serve(r, &c, "PUT", "/d", good, "10.5.0.33", &a);
	assert_int_equal(a.status, 200);
	if (mentions(a.body, "10.5.0.33") || strstr(a.result, "10.5.0.33") != NULL)
		fail_msg("%s / %s", cJSON_PrintUnformatted(a.body), a.result);
	assert_true(mentions(a.body, "\"locations\":[\"[secure]\"]"));
	assert_non_null(strstr(a.result, "[secure]"));
	cJSON_Delete(a.body);
	assert_false(mentions(sl_deploy_records_get(r, "s", "rg", "d"), "10.5.0.33"));
	const cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItem(c.doc, "virtualNetworks"), 0);
	assert_string_equal(cJSON_GetObjectItem(v, "location")->valuestring, "10.5.0.33");
	/* what-if of the same again: its before (stored) shows none either */
	serve(r, &c, "POST", "/d/whatIf", good, "10.5.0.33", &a);
	assert_int_equal(a.status, 200);
	assert_false(mentions(a.body, "10.5.0.33"));
	cJSON_Delete(a.body);
	sl_deploy_records_free(r);
	sl_controller_fini(&c);
}

/* Only a request that changes a record writes the records file. */
static void
test_records_file_written_on_change_only(void **state)
{
	char *dir = tmpdir(), path[512], cmd[700], body[4096];
	struct sl_deploy_records *r = sl_deploy_records_create(dir);
	struct sl_controller c;
	struct sl_deploy_answer a;
	static const char *const dry[][2] = {
		{"GET", ""}, {"GET", "/d"}, {"POST", "/d/validate"}, {"POST", "/d/whatIf"},
		{"DELETE", "/none"}, {"GET", "/none"},
	};

	(void)state;
	controller(&c, NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, SL_DEPLOY_RECORDS_FILE);
	snprintf(body, sizeof(body), "{\"properties\": {\"mode\": \"Incremental\", \"template\": %s}}", STACK);
	sl_deploy_api_handle(r, &c, DEP "/d", "PUT", body, strlen(body), 0, &a);
	assert_int_equal(a.status, 201);
	cJSON_Delete(a.body);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(unlink(path), 0);
	for (size_t i = 0; i < sizeof(dry) / sizeof(dry[0]); i++) {
		char url[256];
		snprintf(url, sizeof(url), DEP "%s", dry[i][1]);
		sl_deploy_api_handle(r, &c, url, dry[i][0], body, strlen(body), 0, &a);
		assert_true(a.status < 500);
		cJSON_Delete(a.body);
		if (access(path, F_OK) == 0)
			fail_msg("%s %s wrote the records file", dry[i][0], url);
	}
	sl_deploy_api_handle(r, &c, DEP "/d", "DELETE", NULL, 0, 0, &a);
	assert_int_equal(a.status, 200);
	assert_int_equal(access(path, F_OK), 0);
	sl_deploy_records_free(r);
	sl_controller_fini(&c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_modes),
		cmocka_unit_test(test_one_commit_one_publication),
		cmocka_unit_test(test_record_dependencies),
		cmocka_unit_test(test_record_dependencies_bounded),
		cmocka_unit_test(test_unsupported_refused_or_skipped),
		cmocka_unit_test(test_validation_error_points_at_the_template),
		cmocka_unit_test(test_validation_error_of_another_group),
		cmocka_unit_test(test_complete_mode_deletes_the_rest),
		cmocka_unit_test(test_copy_800),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_records_bounded_in_all),
		cmocka_unit_test(test_records_file),
		cmocka_unit_test(test_api_paths_and_refusals),
		cmocka_unit_test(test_records_file_written_on_change_only),
		cmocka_unit_test(test_secure_values_redacted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
