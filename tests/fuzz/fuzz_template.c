/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_template.c: libFuzzer target for ARM template deployments
 * (sl_deploy.h) short of the commit: what POST .../validate and .../whatIf
 * run on a whole template.
 *
 * The input is JSON: {"template": T, "parameters": P, "mode": M} (P and M
 * optional; a "parameters" member that holds {"parameters": ...}, as a
 * parameters file does, is taken as the file), or a template alone. It is
 * deployed to resource group rg1 of subscription sub1 onto a committed
 * document that holds a virtual network, a network interface and a load
 * balancer of that resource group (sl_fuzz_committed_text): sl_deploy_prepare(),
 * sl_deploy_validate(), then the what-if changes, the dependencies and, on
 * a refusal, the error body.
 *
 * Checked: a refusal is 400 or 409 with an error {"code", "message"}
 * (strings) and its body renders; an accepted template has its edited
 * document and the lists of what it put, skipped and deleted; every
 * resource it put is in the document (a new sl_doc_index of it finds it),
 * and where it put at most SL_FUZZ_COMPARE_MAX the index finds and renders
 * each (and its collection) as a walk of the document does (sl_doc_find(),
 * sl_doc_render()); the what-if answer
 * is an array with a changeType in each change; the committed document is
 * never written (compared after each input). A broken invariant aborts (a
 * libFuzzer crash); ASan and UBSan watch the rest.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sl_deploy.h"
#include "sl_fuzz.h"
#include "sl_resource.h"

#define SL_FUZZ_INPUT_MAX (64 * 1024)
#define SL_FUZZ_COMPARE_MAX 32 /* resources put, at most, for the index-against-walk checks */

#define SL_FUZZ_ARM "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Network"
static const char sl_fuzz_committed_text[] =
	"{\"virtualNetworks\":[{\"name\":\"vnet1\",\"id\":\"" SL_FUZZ_ARM "/virtualNetworks/vnet1\","
	"\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.0.0.0/16\"]},"
	"\"subnets\":[{\"name\":\"s1\",\"properties\":{\"addressPrefix\":\"10.0.1.0/24\"}}]}}],"
	"\"networkInterfaces\":[{\"name\":\"nic1\",\"id\":\"" SL_FUZZ_ARM "/networkInterfaces/nic1\","
	"\"properties\":{\"ipConfigurations\":[{\"name\":\"ip1\",\"properties\":{"
	"\"privateIPAddress\":\"10.0.1.4\",\"subnet\":{\"id\":\"" SL_FUZZ_ARM
	"/virtualNetworks/vnet1/subnets/s1\"}}}]}}],"
	"\"loadBalancers\":[{\"name\":\"lb1\",\"id\":\"" SL_FUZZ_ARM "/loadBalancers/lb1\","
	"\"sku\":{\"name\":\"Standard\"},\"properties\":{\"frontendIPConfigurations\":[{\"name\":"
	"\"fe\",\"properties\":{\"privateIPAddress\":\"192.0.2.1\"}}],\"backendAddressPools\":[{"
	"\"name\":\"pool\",\"properties\":{\"loadBalancerBackendAddresses\":[{\"name\":\"a\","
	"\"properties\":{\"ipAddress\":\"10.0.1.5\",\"virtualNetwork\":{\"id\":\"" SL_FUZZ_ARM
	"/virtualNetworks/vnet1\"}}}]}}]}}]}";

static cJSON *committed, *committed_copy;

/* The committed document: a new one with SL_FUZZ_COMMITTED's resources merged in. */
static void
sl_fuzz_init(void)
{
	cJSON *file = cJSON_Parse(sl_fuzz_committed_text);
	struct sl_error err;

	committed = sl_doc_new();
	SL_FUZZ_CHECK(file != NULL && committed != NULL);
	SL_FUZZ_CHECK(sl_doc_merge(committed, file, &err) == 0);
	cJSON_Delete(file);
	committed_copy = cJSON_Duplicate(committed, 1);
	SL_FUZZ_CHECK(committed_copy != NULL);
}

static void
sl_fuzz_check_refusal(const struct sl_deploy_outcome *o)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(o->error, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o->error, "message");
	cJSON *body;

	SL_FUZZ_CHECK(o->status == 400 || o->status == 409);
	SL_FUZZ_CHECK(cJSON_IsString(code) && code->valuestring[0] != '\0');
	SL_FUZZ_CHECK(cJSON_IsString(msg));
	body = sl_deploy_error_body(o);
	SL_FUZZ_CHECK(cJSON_IsObject(body));
	cJSON_Delete(body);
}

/* The answers of the index and of a walk of the document agree: for p and its collection. */
static void
sl_fuzz_check_same(struct sl_doc_index *ix, const cJSON *doc, const struct sl_res_path *p)
{
	struct sl_res_path coll = *p;
	struct sl_error err;

	SL_FUZZ_CHECK(sl_doc_find(doc, p) == sl_doc_index_find(ix, p));
	coll.name[0] = '\0';
	coll.child = -1;
	for (int k = 0; k < 2; k++) {
		const struct sl_res_path *q = k == 0 ? p : &coll;
		cJSON *walked = sl_doc_render(doc, q, &err), *indexed = sl_doc_index_render(ix, q, &err);
		SL_FUZZ_CHECK((walked == NULL) == (indexed == NULL));
		SL_FUZZ_CHECK(walked == NULL || cJSON_Compare(walked, indexed, 1));
		cJSON_Delete(walked);
		cJSON_Delete(indexed);
	}
}

/*
 * Every resource an accepted deployment put is in its document (found
 * through a new index of it); for a few resources, the index's answers are
 * a walk's.
 */
static void
sl_fuzz_check_put(const struct sl_deploy_outcome *o)
{
	const cJSON *r, *id;
	struct sl_res_path p;
	struct sl_error err;
	struct sl_doc_index *ix;
	bool compare = cJSON_GetArraySize(o->resources) <= SL_FUZZ_COMPARE_MAX;

	SL_FUZZ_CHECK(o->doc != NULL && cJSON_IsArray(o->resources));
	SL_FUZZ_CHECK(cJSON_IsArray(o->skipped) && cJSON_IsArray(o->deleted));
	ix = sl_doc_index_new(o->doc);
	SL_FUZZ_CHECK(ix != NULL);
	cJSON_ArrayForEach(r, o->resources) {
		id = cJSON_GetObjectItemCaseSensitive(r, "id");
		SL_FUZZ_CHECK(cJSON_IsString(id));
		if (sl_res_path_parse(id->valuestring, &p, &err) != 0)
			continue; /* ids of children may name what the path grammar has no room for */
		SL_FUZZ_CHECK(p.name[0] == '\0' || sl_doc_index_find(ix, &p) != NULL);
		if (compare)
			sl_fuzz_check_same(ix, o->doc, &p);
	}
	sl_doc_index_free(ix);
}

static void
sl_fuzz_deploy(const struct sl_deploy_request *rq)
{
	struct sl_deploy_outcome o;
	const cJSON *c;
	bool truncated;
	cJSON *v;

	if (sl_deploy_prepare(committed, rq, &o) != 0) {
		sl_fuzz_check_refusal(&o);
		sl_deploy_outcome_free(&o);
		return;
	}
	sl_fuzz_check_put(&o);
	if (sl_deploy_validate(rq, &o) != 0) {
		sl_fuzz_check_refusal(&o);
		sl_deploy_outcome_free(&o);
		return;
	}
	v = sl_deploy_whatif(committed, rq, &o);
	SL_FUZZ_CHECK(cJSON_IsArray(v));
	cJSON_ArrayForEach(c, v)
		SL_FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, "changeType")));
	cJSON_Delete(v);
	v = sl_deploy_dependencies(&o, &truncated);
	SL_FUZZ_CHECK(cJSON_IsArray(v));
	cJSON_Delete(v);
	sl_deploy_outcome_free(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_deploy_request rq = {.sub = "sub1", .rg = "rg1", .name = "fuzz"};
	const cJSON *t, *p, *mode;
	cJSON *json;

	if (size > SL_FUZZ_INPUT_MAX)
		return 0;
	if (committed == NULL)
		sl_fuzz_init();
	json = cJSON_ParseWithLength((const char *)data, size);
	if (!cJSON_IsObject(json)) {
		cJSON_Delete(json);
		return 0;
	}
	t = cJSON_GetObjectItemCaseSensitive(json, "template");
	p = cJSON_GetObjectItemCaseSensitive(json, "parameters");
	mode = cJSON_GetObjectItemCaseSensitive(json, "mode");
	rq.tmpl = cJSON_IsObject(t) ? t : json;
	rq.parameters = NULL;
	if (cJSON_IsObject(t) && cJSON_IsObject(p))
		rq.parameters = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(p, "parameters"))
					? cJSON_GetObjectItemCaseSensitive(p, "parameters")
					: p;
	if (cJSON_IsString(mode))
		(void)sl_deploy_mode_parse(mode->valuestring, &rq.mode);
	rq.skip_unsupported = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json, "skip"));
	sl_fuzz_deploy(&rq);
	SL_FUZZ_CHECK(cJSON_Compare(committed, committed_copy, 1));
	cJSON_Delete(json);
	return 0;
}
