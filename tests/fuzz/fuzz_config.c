/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_config.c: libFuzzer target for whole configuration documents (the
 * configuration file's shape, sl_config.h): the validator, the compiler,
 * and the in-place validation of one change (sl_config_incr.h) held to
 * the whole validation.
 *
 * The input is the text of a configuration file. It goes the way
 * sl_config_parse() takes it (sl_json_parse(), Dynamic addresses assigned,
 * sl_config_from_json()). A refused document must fill the error (code
 * set) and errno (EINVAL or ENOMEM). A valid one is:
 *
 *   committed as sluiced commits a file: merged into a new document
 *   (sl_doc_merge()), which must validate to the same model;
 *
 *   compiled (sl_compile(), one port with gateways, so every backend
 *   resolves; counter ids for SL_FUZZ_RULE_IDS rules and
 *   SL_FUZZ_BACKEND_IDS backends; Maglev tables of the smallest of a few
 *   primes that holds its largest pool, see sl_fuzz_table_size()) when
 *   its tables hold at most SL_FUZZ_TABLE_SLOTS slots in all: a snapshot,
 *   or the error filled;
 *
 *   changed once, as the REST API changes the committed document: a PUT or DELETE of a pool
 *   or load-balancing rule of one of its load balancers, all chosen by a
 *   hash of the input (an existing child or a new name; a PUT body copied
 *   from a sibling, as it is or with one member less, or a port moved).
 *   The edited document (sl_doc_put() / sl_doc_delete()) is validated
 *   whole and the change is applied in place (sl_model_apply_change());
 *   the verdicts must agree, an accepted change must leave the model the
 *   whole validation builds (sl_model_equal()), and undoing it (or a
 *   refusal) must leave the model as it was. -EAGAIN is only for what is
 *   not done in place (a DELETE of a child that is not there).
 *
 * A broken invariant aborts (a libFuzzer crash); ASan and UBSan watch the
 * rest.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sl_compile.h"
#include "sl_config.h"
#include "sl_config_incr.h"
#include "sl_dynamic_ip.h"
#include "sl_fuzz.h"
#include "sl_id_registry.h"
#include "sl_json.h"
#include "sl_resource.h"

#define SL_FUZZ_INPUT_MAX (64 * 1024)
#define SL_FUZZ_TABLE_SLOTS (1u << 16) /* Maglev slots compiled per input, at most */
/*
 * Counter ids per input (fresh registries each time, so an input compiles
 * alike alone and in a run); sluiced's SL_MAX_*_COUNTERS would cost a few
 * MiB of calloc() an input. A model with more is refused by the compiler.
 */
#define SL_FUZZ_RULE_IDS 512
#define SL_FUZZ_BACKEND_IDS 4096

/* What the hash of the input picks: the change to make. */
struct sl_fuzz_pick {
	uint32_t lb;      /* load balancer index (modulo their number) */
	bool rule;        /* a load-balancing rule, else a backend pool */
	bool is_delete;
	uint32_t child;   /* child index; past the last: a new name */
	uint32_t source;  /* the sibling a PUT body is copied from */
	uint32_t variant; /* 0 as is, 1 one member less / port moved, 2 the child's own body */
};

static uint32_t
sl_fuzz_hash(const uint8_t *d, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ d[i]) * 16777619u;
	return h;
}

static void
sl_fuzz_pick(const uint8_t *d, size_t n, struct sl_fuzz_pick *k)
{
	uint32_t h = sl_fuzz_hash(d, n), g = sl_fuzz_hash((const uint8_t *)&h, sizeof(h));

	k->lb = h & 0xff;
	k->rule = (h >> 8) & 1;
	k->is_delete = (h >> 9) & 1;
	k->child = (h >> 10) & 0xff;
	k->source = (h >> 18) & 0xff;
	k->variant = g % 3;
}

/*
 * The Maglev table size to compile m with: the smallest of a few primes
 * that holds its largest pool, when that is below m's own (validation
 * holds every pool within m's size, and the size changes only the tables'
 * length, while building them is most of the cost of compiling); 0 when
 * the tables would hold more than SL_FUZZ_TABLE_SLOTS slots in all.
 */
static uint32_t
sl_fuzz_table_size(const struct sl_model *m)
{
	static const uint32_t primes[] = {251, 1021, 4093};
	uint32_t largest = 1, size = m->maglev_size;
	uint64_t pools = 0;

	for (uint32_t i = 0; i < m->n_lbs; i++) {
		pools += m->lbs[i].n_pools + 2 * m->lbs[i].n_nat_rules;
		for (uint32_t j = 0; j < m->lbs[i].n_pools; j++)
			if (m->lbs[i].pools[j].n_addresses > largest)
				largest = m->lbs[i].pools[j].n_addresses;
	}
	for (size_t i = 0; i < sizeof(primes) / sizeof(primes[0]); i++) {
		if (primes[i] >= largest && primes[i] < size) {
			size = primes[i];
			break;
		}
	}
	return pools * size <= SL_FUZZ_TABLE_SLOTS ? size : 0;
}

static void
sl_fuzz_compile(struct sl_model *m)
{
	uint32_t size = sl_fuzz_table_size(m), own = m->maglev_size;
	struct sl_id_registry *rids, *bids;
	struct sl_port_info port;
	struct sl_snapshot *s;
	struct sl_error err;

	if (size == 0)
		return;
	memset(&port, 0, sizeof(port));
	port.mac.bytes[0] = 0x02;
	port.mac.bytes[5] = 0x01;
	port.has_ipv4 = port.has_ipv6 = 1;
	SL_FUZZ_CHECK(sl_ip_addr_parse("198.51.100.7", &port.ipv4, NULL) == 0);
	SL_FUZZ_CHECK(sl_ip_addr_parse("2001:db8::beef", &port.ipv6, NULL) == 0);
	SL_FUZZ_CHECK(sl_ip_addr_parse("198.51.100.1", &port.gateway_v4, NULL) == 0);
	SL_FUZZ_CHECK(sl_ip_addr_parse("2001:db8::1", &port.gateway_v6, NULL) == 0);
	port.has_gateway_v4 = port.has_gateway_v6 = 1;
	port.mtu = 1500;
	rids = sl_id_registry_create(SL_FUZZ_RULE_IDS);
	bids = sl_id_registry_create(SL_FUZZ_BACKEND_IDS);
	SL_FUZZ_CHECK(rids != NULL && bids != NULL);
	memset(&err, 0, sizeof(err));
	m->maglev_size = size;
	s = sl_compile(m, &port, 1, rids, bids, 1, &err);
	m->maglev_size = own;
	if (s == NULL)
		SL_FUZZ_CHECK(err.code[0] != '\0');
	sl_snapshot_free(s);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

/* The document's JSON of load balancer i of m (m was built from doc, in its order). */
static cJSON *
sl_fuzz_doc_lb(cJSON *doc, uint32_t i)
{
	cJSON *lb = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "loadBalancers"),
				       (int)i);

	SL_FUZZ_CHECK(lb != NULL);
	return lb;
}

/* A PUT body for child `name` from sibling `src` of the document (NULL when there is none). */
static cJSON *
sl_fuzz_body(const cJSON *list, const struct sl_fuzz_pick *k, const char *name, bool own)
{
	const cJSON *src = cJSON_GetArrayItem(list, own ? (int)k->child : (int)k->source);
	cJSON *body, *props, *v;

	if (src == NULL && cJSON_GetArraySize(list) > 0)
		src = cJSON_GetArrayItem(list, (int)(k->source % cJSON_GetArraySize(list)));
	body = src != NULL ? cJSON_Duplicate(src, 1) : cJSON_CreateObject();
	SL_FUZZ_CHECK(body != NULL);
	if (own || !cJSON_IsObject(body))
		return body;
	cJSON_DeleteItemFromObjectCaseSensitive(body, "id");
	cJSON_DeleteItemFromObjectCaseSensitive(body, "name");
	cJSON_AddStringToObject(body, "name", name);
	props = cJSON_GetObjectItemCaseSensitive(body, "properties");
	if (k->variant != 1 || !cJSON_IsObject(props))
		return body;
	v = cJSON_GetObjectItemCaseSensitive(props, "loadBalancerBackendAddresses");
	if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0)
		cJSON_DeleteItemFromArray(v, 0);
	v = cJSON_GetObjectItemCaseSensitive(props, "frontendPort");
	if (cJSON_IsNumber(v))
		cJSON_SetNumberValue(v, v->valuedouble + 1);
	return body;
}

/* "/subscriptions/.../loadBalancers/<lb>/<collection>/<child>" of the change. */
static int
sl_fuzz_path(const struct sl_lb *lb, const char *coll, const char *child, struct sl_res_path *p)
{
	char url[1024];
	struct sl_error err;
	int n;

	n = snprintf(url, sizeof(url),
		     "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/"
		     "loadBalancers/%s/%s/%s",
		     lb->scope.sub[0] != '\0' ? lb->scope.sub : "sub1",
		     lb->scope.rg[0] != '\0' ? lb->scope.rg : "rg1", lb->name, coll, child);
	if (n < 0 || (size_t)n >= sizeof(url))
		return -1;
	/* names the path cannot carry ('/', '?', ...) are not changed here */
	if (sl_res_path_parse(url, p, &err) != 0 || strcmp(p->child_name, child) != 0 ||
	    strcmp(p->name, lb->name) != 0)
		return -1;
	return 0;
}

/* After an accepted change: in place == whole; undone == before. Frees whole. */
static void
sl_fuzz_accepted(struct sl_model *m, struct sl_model *whole, struct sl_model_undo *u,
		 const struct sl_model *before)
{
	char why[256];

	if (!sl_model_equal(m, whole, why, sizeof(why))) {
		fprintf(stderr, "in place != whole: %s\n", why);
		SL_FUZZ_CHECK(!"the change made in place equals the whole validation");
	}
	sl_model_undo_restore(m, u);
	if (!sl_model_equal(m, before, why, sizeof(why))) {
		fprintf(stderr, "restored != before: %s\n", why);
		SL_FUZZ_CHECK(!"an undone change leaves the model as it was");
	}
	sl_model_free(whole);
}

/* Make the change k picks on doc (a copy) and m; check both validations agree. */
static void
sl_fuzz_change(struct sl_model *m, const struct sl_model *before, cJSON *doc,
	       const struct sl_fuzz_pick *k)
{
	const struct sl_lb *lb = &m->lbs[k->lb % m->n_lbs];
	const char *coll = k->rule ? "loadBalancingRules" : "backendAddressPools";
	uint32_t n = k->rule ? lb->n_rules : lb->n_pools, lbi = k->lb % m->n_lbs;
	struct sl_model_undo *u = NULL;
	struct sl_error err, werr;
	struct sl_model *whole;
	struct sl_res_path p;
	bool existed = true, created;
	char name[SL_RES_NAME_MAX];
	cJSON *body = NULL, *list;
	int http, rc;

	if (k->child % (n + 1) < n)
		snprintf(name, sizeof(name), "%s",
			 k->rule ? lb->rules[k->child % (n + 1)].name : lb->pools[k->child % (n + 1)].name);
	else
		snprintf(name, sizeof(name), "fuzz-new-%u", k->child);
	if (sl_fuzz_path(lb, coll, name, &p) != 0)
		return;
	list = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(sl_fuzz_doc_lb(doc, lbi), "properties"), coll);
	memset(&err, 0, sizeof(err));
	if (k->is_delete) {
		rc = sl_doc_delete(doc, &p, &existed, &http, &err);
	} else {
		struct sl_fuzz_pick own = *k;

		own.child = k->child % (n + 1);
		body = sl_fuzz_body(list, &own, name, k->variant == 2 && own.child < n);
		rc = sl_doc_put(doc, &p, body, &created, &http, &err);
	}
	cJSON_Delete(body);
	if (rc < 0) { /* the request itself refused: nothing to validate */
		SL_FUZZ_CHECK(err.code[0] != '\0');
		return;
	}
	memset(&werr, 0, sizeof(werr));
	whole = sl_config_from_json(doc, NULL, &werr);
	SL_FUZZ_CHECK(whole != NULL || werr.code[0] != '\0');
	memset(&err, 0, sizeof(err));
	rc = sl_model_apply_change(m, doc, &p, k->is_delete, &u, &err);
	if (rc == -EAGAIN) {
		if (existed)
			fprintf(stderr, "-EAGAIN for %s %s/%s/%s\n", k->is_delete ? "DELETE" : "PUT",
				lb->name, coll, name);
		SL_FUZZ_CHECK(!existed); /* a pool or rule that was there is changed in place */
		sl_model_free(whole);
		return;
	}
	SL_FUZZ_CHECK(existed);
	if (rc == -ENOMEM || (whole == NULL && strcmp(werr.code, "OutOfMemory") == 0)) {
		sl_model_undo_free(u);
		sl_model_free(whole);
		return;
	}
	if (whole != NULL) {
		if (rc != 0)
			fprintf(stderr, "refused in place (%d %s: %s), valid whole\n", rc, err.code,
				err.message);
		SL_FUZZ_CHECK(rc == 0);
		sl_fuzz_accepted(m, whole, u, before);
		return;
	}
	if (rc == 0)
		fprintf(stderr, "accepted in place, refused whole (%s: %s)\n", werr.code,
			werr.message);
	SL_FUZZ_CHECK(rc == -EINVAL && err.code[0] != '\0');
	SL_FUZZ_CHECK(sl_model_equal(m, before, NULL, 0)); /* a refusal changes nothing */
}

/*
 * The document sluiced commits from a valid file (sl_controller.c): the
 * file merged into a new document (sl_doc_merge()), Dynamic addresses
 * assigned; it must validate to the file's own model.
 */
static cJSON *
sl_fuzz_committed(const cJSON *file_doc, const struct sl_model *alone)
{
	cJSON *doc = sl_doc_new();
	struct sl_model *m;
	struct sl_error err;
	char why[256];

	SL_FUZZ_CHECK(doc != NULL);
	memset(&err, 0, sizeof(err));
	if (sl_doc_merge(doc, file_doc, &err) < 0) {
		fprintf(stderr, "merge: %s: %s\n", err.code, err.message);
		SL_FUZZ_CHECK(!"a valid file merges into a new document");
	}
	SL_FUZZ_CHECK(sl_config_assign_dynamic_ips(doc, &err) >= 0);
	m = sl_config_from_json(doc, NULL, &err);
	if (m == NULL || !sl_model_equal(m, alone, why, sizeof(why))) {
		fprintf(stderr, "merged: %s\n", m == NULL ? err.message : why);
		SL_FUZZ_CHECK(!"the merged document validates to the file's model");
	}
	sl_model_free(m);
	return doc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_model *m, *before;
	cJSON *file_doc, *doc;
	struct sl_fuzz_pick k;
	struct sl_error err;
	int rc;

	if (size > SL_FUZZ_INPUT_MAX)
		return 0;
	memset(&err, 0, sizeof(err));
	file_doc = sl_json_parse((const char *)data, size, "fuzz.json", &err);
	if (file_doc == NULL) {
		SL_FUZZ_CHECK(err.code[0] != '\0');
		return 0;
	}
	/* as sl_config_parse() and sluiced take a file: addresses assigned on a copy */
	doc = cJSON_Duplicate(file_doc, 1);
	SL_FUZZ_CHECK(doc != NULL);
	rc = sl_config_assign_dynamic_ips(doc, &err);
	SL_FUZZ_CHECK(rc >= 0 || err.code[0] != '\0');
	m = rc >= 0 ? sl_config_from_json(doc, NULL, &err) : NULL;
	cJSON_Delete(doc);
	if (m == NULL) {
		SL_FUZZ_CHECK(err.code[0] != '\0');
		SL_FUZZ_CHECK(rc < 0 || errno == EINVAL || errno == ENOMEM);
		cJSON_Delete(file_doc);
		return 0;
	}
	sl_fuzz_compile(m);
	doc = sl_fuzz_committed(file_doc, m);
	cJSON_Delete(file_doc);
	sl_fuzz_pick(data, size, &k);
	if (m->n_lbs > 0) {
		before = sl_config_from_json(doc, NULL, &err);
		SL_FUZZ_CHECK(before != NULL && sl_model_equal(m, before, NULL, 0));
		sl_fuzz_change(m, before, doc, &k);
		sl_model_free(before);
	}
	sl_model_free(m);
	cJSON_Delete(doc);
	return 0;
}
