/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_doc_index.c: the case-insensitive name index (sl_name_index) and the
 * document's index (struct sl_doc_index, sl_resource.h). The name index:
 * keys equal but for case are one, entries of a key in the order added,
 * growth. The document's index: random edits made to one
 * document through an index and to a copy by walks (sl_doc_put()) must
 * leave the two equal and answer the same, and every find and render
 * through the index (kept in step, or new) must be the walk's; merges must
 * be what a walk of the document (written out here) makes. The names are
 * drawn from a few that differ only by case, in three resource groups and
 * none (a file's resources have no id), with references to pools and NAT
 * rules by full id, by a bare name, from another group, and too long.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "sl_config.h"
#include "sl_dynamic_ip.h"
#include "sl_name_index.h"
#include "sl_resource.h"

static void
test_name_index(void **state)
{
	struct sl_name_index ix;
	struct sl_name_entry *e;
	char name[32];
	int v[3000];

	(void)state;
	sl_name_index_init(&ix);
	assert_null(sl_name_index_first(&ix, "x"));
	assert_non_null(sl_name_index_add(&ix, "Pool", &v[0]));
	assert_non_null(sl_name_index_add(&ix, "pool", &v[1]));
	assert_non_null(sl_name_index_add(&ix, "other", &v[2]));
	assert_non_null(sl_name_index_add(&ix, "POOL", &v[3]));
	/* one key but for case, its entries in the order added */
	e = sl_name_index_first(&ix, "pOOl");
	assert_ptr_equal(e->value, &v[0]);
	assert_string_equal(e->name, "Pool");
	assert_ptr_equal((e = sl_name_index_next(e))->value, &v[1]);
	assert_ptr_equal((e = sl_name_index_next(e))->value, &v[3]);
	assert_null(sl_name_index_next(e));
	/* names differing past ASCII letters are other names */
	assert_false(sl_name_index_has(&ix, "pool "));
	assert_false(sl_name_index_has(&ix, "poo"));
	assert_false(sl_name_index_has(&ix, "p\xc3\xb6ol"));
	assert_int_equal(ix.n, 4);
	/* thousands: the buckets grow, every key found, the order kept */
	for (int i = 4; i < 3000; i++) {
		snprintf(name, sizeof(name), "%s%d", i % 2 ? "N" : "n", i / 2);
		assert_non_null(sl_name_index_add(&ix, name, &v[i]));
	}
	for (int i = 2; i < 1500; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		e = sl_name_index_first(&ix, name);
		assert_ptr_equal(e->value, &v[2 * i]);
		assert_ptr_equal(sl_name_index_next(e)->value, &v[2 * i + 1]);
		assert_null(sl_name_index_next(sl_name_index_next(e)));
	}
	assert_int_equal(sl_name_index_add_once(&ix, "OTHER"), 0);
	assert_int_equal(sl_name_index_add_once(&ix, "new"), 1);
	sl_name_index_fini(&ix, NULL);
	assert_int_equal(ix.n, 0);
	assert_false(sl_name_index_has(&ix, "new"));
}

/* ------------------------------------------------------------------------ */
/* Random documents */

static uint32_t seed;

static uint32_t
rnd(uint32_t n)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 8) % n;
}

#define PICK(a) ((a)[rnd(sizeof(a) / sizeof((a)[0]))])

static const char *const tops[] = {"a", "A", "b", "B", "ab"};
static const char *const kids[] = {"p", "P", "q", "a"};
static const char *const groups[] = {"rg1", "RG1", "rg2"};
static const char *const colls[] = {"virtualNetworks", "networkInterfaces", "loadBalancers"};
static const char *const lb_kids[] = {"frontendIPConfigurations", "backendAddressPools",
				      "loadBalancingRules", "probes", "inboundNatRules"};
#define LONG_NAME "x123456789x123456789x123456789x123456789x123456789x123456789x123456789x12345678"

/* The id of a resource group's collection coll: ".../providers/Microsoft.Network/<coll>". */
static void
scope_id(char *buf, size_t len, const char *rg, const char *coll)
{
	snprintf(buf, len, "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/%s",
		 rnd(4) == 0 ? "S1" : "s1", rg, coll);
}

/* A reference to a pool or NAT rule (kind: "backendAddressPools", "inboundNatRules"). */
static cJSON *
random_ref(const char *kind)
{
	char id[512], coll[256];
	cJSON *r = cJSON_CreateObject();

	switch (rnd(6)) {
	case 0: /* a bare name */
		snprintf(id, sizeof(id), "%s", rnd(2) ? PICK(kids) : PICK(tops));
		break;
	case 1: /* no scope */
		snprintf(id, sizeof(id), "loadBalancers/%s/%s/%s", PICK(tops), kind, PICK(kids));
		break;
	case 2: /* a name too long for any resource */
		snprintf(id, sizeof(id), "/subscriptions/s1/resourceGroups/rg1/providers/"
			 "Microsoft.Network/loadBalancers/%s/%s/%s", rnd(2) ? LONG_NAME : "a", kind,
			 rnd(2) ? LONG_NAME : "p");
		break;
	default:
		scope_id(coll, sizeof(coll), PICK(groups), "loadBalancers");
		snprintf(id, sizeof(id), "%s/%s/%s/%s", coll, PICK(tops), kind, PICK(kids));
	}
	cJSON_AddStringToObject(r, "id", id);
	return r;
}

/* One reference, or a list of a few (duplicates possible), or nothing. */
static void
random_refs(cJSON *props, const char *key, const char *kind)
{
	unsigned int n = rnd(4);

	if (n == 0)
		return;
	if (n == 1) {
		cJSON_AddItemToObject(props, key, random_ref(kind));
		return;
	}
	cJSON *list = cJSON_AddArrayToObject(props, key);
	for (unsigned int i = 1; i < n; i++)
		cJSON_AddItemToArray(list, random_ref(kind));
}

/* A child named name of child collection coll. */
static cJSON *
random_child(const char *coll, const char *name)
{
	cJSON *c = cJSON_CreateObject(), *props;

	cJSON_AddStringToObject(c, "name", name);
	props = cJSON_AddObjectToObject(c, rnd(5) == 0 ? "Properties" : "properties");
	if (strcmp(coll, "loadBalancingRules") == 0)
		cJSON_AddItemToObject(props, "backendAddressPool", random_ref("backendAddressPools"));
	if (strcmp(coll, "backendAddressPools") == 0 && rnd(4) == 0)
		cJSON_AddArrayToObject(props, "backendIPConfigurations"); /* sent back, empty */
	if (strcmp(coll, "ipConfigurations") == 0) {
		random_refs(props, "loadBalancerBackendAddressPools", "backendAddressPools");
		random_refs(props, "loadBalancerInboundNatRules", "inboundNatRules");
	}
	cJSON_AddNumberToObject(props, "n", rnd(3));
	return c;
}

/* A top-level resource's body of collection coll (t). */
static cJSON *
random_body(enum sl_res_type t)
{
	cJSON *b = cJSON_CreateObject(), *props;

	cJSON_AddItemToObject(b, "tags", cJSON_CreateNumber(rnd(3)));
	if (rnd(8) == 0) {
		cJSON_AddArrayToObject(b, "properties"); /* not an object */
		return b;
	}
	props = cJSON_AddObjectToObject(b, "properties");
	for (int c = 0; sl_res_child_collection(t, c) != NULL; c++) {
		const char *coll = sl_res_child_collection(t, c);
		unsigned int n = rnd(4);
		if (n == 3) {
			/* not an array: an object, whose members a walk reads as elements */
			cJSON *o = cJSON_AddObjectToObject(props, coll);
			if (rnd(2))
				cJSON_AddItemToObject(o, "m", random_child(coll, PICK(kids)));
			continue;
		}
		cJSON *arr = cJSON_AddArrayToObject(props, coll);
		for (unsigned int i = 0; i < n; i++)
			cJSON_AddItemToArray(arr, random_child(coll, PICK(kids)));
	}
	return b;
}

/* A path: a top-level resource, a child, or (only for reads) a collection. */
static void
random_path(struct sl_res_path *p, bool reads)
{
	char url[512], coll[256];
	struct sl_error e;
	enum sl_res_type t = (enum sl_res_type)rnd(SL_RES_TYPE_MAX);
	unsigned int shape = rnd(reads ? 5 : 3);

	scope_id(coll, sizeof(coll), PICK(groups), colls[t]);
	if (shape == 3)
		snprintf(url, sizeof(url), "%s", coll);
	else if (shape == 0)
		snprintf(url, sizeof(url), "%s/%s", coll, PICK(tops));
	else
		snprintf(url, sizeof(url), "%s/%s/%s%s%s", coll, PICK(tops),
			 t == SL_RES_LB ? PICK(lb_kids) : sl_res_child_collection(t, 0),
			 shape == 4 ? "" : "/", shape == 4 ? "" : PICK(kids));
	assert_int_equal(sl_res_path_parse(url, p, &e), 0);
}

/* ------------------------------------------------------------------------ */
/* The walk's merge, as sl_doc_merge() made it before the index */

static const cJSON *
walk_target(const cJSON *dst, const cJSON *res, int *n)
{
	const cJSON *name = cJSON_GetObjectItem(res, "name"), *id = cJSON_GetObjectItem(res, "id");
	const char *nm = cJSON_IsString(name) ? name->valuestring : "";
	const cJSON *it, *found = NULL;
	struct sl_scope want, s;

	sl_id_scope(cJSON_IsString(id) ? id->valuestring : NULL, &want);
	*n = 0;
	cJSON_ArrayForEach(it, dst) {
		const cJSON *in = cJSON_GetObjectItem(it, "name"), *iid = cJSON_GetObjectItem(it, "id");
		if (strcasecmp(cJSON_IsString(in) ? in->valuestring : "", nm) != 0)
			continue;
		(*n)++;
		sl_id_scope(cJSON_IsString(iid) ? iid->valuestring : NULL, &s);
		if (found == NULL && sl_scope_match(&s, &want))
			found = it;
	}
	if (want.sub[0] != '\0' || found == NULL)
		*n = 0;
	return found;
}

static int
walk_merge(cJSON *doc, const cJSON *file)
{
	for (int t = 0; t < SL_RES_TYPE_MAX; t++) {
		cJSON *dst = cJSON_GetObjectItemCaseSensitive(doc, colls[t]);
		const cJSON *res;
		int n;
		cJSON_ArrayForEach(res, cJSON_GetObjectItem(file, colls[t])) {
			cJSON *old = (cJSON *)walk_target(dst, res, &n), *copy;
			if (n >= 2)
				return -EINVAL;
			copy = cJSON_Duplicate(res, 1);
			if (t == SL_RES_NIC && old != NULL)
				sl_keep_dynamic_ips(old, copy);
			if (old != NULL)
				cJSON_ReplaceItemViaPointer(dst, old, copy);
			else
				cJSON_AddItemToArray(dst, copy);
		}
	}
	return 0;
}

/* A file of a few top-level resources, with an id (any group) or without. */
static cJSON *
random_file(void)
{
	cJSON *f = cJSON_CreateObject();

	for (int t = 0; t < SL_RES_TYPE_MAX; t++) {
		cJSON *arr = cJSON_AddArrayToObject(f, colls[t]);
		for (unsigned int i = rnd(3); i > 0; i--) {
			cJSON *r = random_body((enum sl_res_type)t);
			char id[512];
			const char *name = PICK(tops);
			cJSON_AddStringToObject(r, "name", name);
			if (rnd(2)) {
				scope_id(id, sizeof(id), PICK(groups), colls[t]);
				snprintf(id + strlen(id), sizeof(id) - strlen(id), "/%s", name);
				cJSON_AddStringToObject(r, "id", id);
			}
			cJSON_AddItemToArray(arr, r);
		}
	}
	return f;
}

/* ------------------------------------------------------------------------ */
/* The comparisons */

/* Find and render p in walked (by walks) and through ix: the same answers. */
static void
assert_same_reads(const cJSON *walked, struct sl_doc_index *ix, const struct sl_res_path *p)
{
	struct sl_error ea, eb;
	const cJSON *fa = sl_doc_find(walked, p), *fb = sl_doc_index_find(ix, p);

	assert_true((fa == NULL) == (fb == NULL));
	assert_true(fa == NULL || cJSON_Compare(fa, fb, 1));
	memset(&ea, 0, sizeof(ea));
	memset(&eb, 0, sizeof(eb));
	cJSON *ra = sl_doc_render(walked, p, &ea), *rb = sl_doc_index_render(ix, p, &eb);
	if ((ra == NULL) != (rb == NULL) || (ra != NULL && !cJSON_Compare(ra, rb, 1)))
		fail_msg("renders differ: %s and %s", cJSON_PrintUnformatted(ra),
			 cJSON_PrintUnformatted(rb));
	if (ra == NULL)
		assert_string_equal(ea.code, eb.code);
	cJSON_Delete(ra);
	cJSON_Delete(rb);
}

/* One PUT of the same path and body to walked (sl_doc_put()) and through ix. */
static void
put_both(cJSON *walked, struct sl_doc_index *ix)
{
	struct sl_res_path p;
	struct sl_error ea, eb;
	bool ca = false, cb = false;
	int ha = 0, hb = 0;
	cJSON *body;

	random_path(&p, false);
	if (p.child < 0) {
		body = random_body(p.type);
	} else {
		body = random_child(sl_res_child_collection(p.type, p.child), p.child_name);
		if (rnd(6) == 0)
			cJSON_ReplaceItemInObject(body, "name", cJSON_CreateString("other"));
		if (rnd(6) == 0)
			cJSON_ReplaceItemInObject(body, "properties", cJSON_CreateString("x"));
	}
	memset(&ea, 0, sizeof(ea));
	memset(&eb, 0, sizeof(eb));
	int ra = sl_doc_put(walked, &p, body, &ca, &ha, &ea);
	int rb = sl_doc_index_put(ix, &p, body, &cb, &hb, &eb);
	assert_int_equal(ra, rb);
	assert_string_equal(ea.code, eb.code);
	if (ra == 0)
		assert_int_equal(ca, cb);
	else
		assert_int_equal(ha, hb);
	cJSON_Delete(body);
}

/*
 * Random edits to two copies of a document, one through an index kept for
 * many edits; the documents stay equal and every read answers the same.
 */
static void
test_index_answers_as_walks(void **state)
{
	cJSON *walked = sl_doc_new(), *indexed = sl_doc_new();
	struct sl_doc_index *ix = sl_doc_index_new(indexed);
	struct sl_res_path p;
	int merges = 0, refused = 0;

	(void)state;
	seed = 20240611;
	for (int step = 0; step < 3000; step++) {
		if (rnd(40) == 0) {
			/* a file merged: what a walk makes (the index is made again after) */
			cJSON *file = random_file();
			struct sl_error e;
			int rc = sl_doc_merge(indexed, file, &e);
			assert_int_equal(walk_merge(walked, file), rc);
			merges += rc == 0;
			refused += rc != 0;
			cJSON_Delete(file);
			sl_doc_index_free(ix);
			ix = sl_doc_index_new(indexed);
		} else {
			put_both(walked, ix);
		}
		assert_true(cJSON_Compare(walked, indexed, 1));
		for (int k = 0; k < 4; k++) {
			random_path(&p, true);
			assert_same_reads(walked, ix, &p);
		}
	}
	/* a new index of the result answers the same as the one kept in step */
	struct sl_doc_index *fresh = sl_doc_index_new(indexed);
	for (int k = 0; k < 500; k++) {
		random_path(&p, true);
		assert_same_reads(walked, fresh, &p);
	}
	assert_true(merges > 10 && refused > 0); /* both ways a merge goes were taken */
	sl_doc_index_free(fresh);
	sl_doc_index_free(ix);
	cJSON_Delete(walked);
	cJSON_Delete(indexed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_index),
		cmocka_unit_test(test_index_answers_as_walks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
