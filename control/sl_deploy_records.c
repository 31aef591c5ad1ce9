/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_deploy_records.c: deployment records, built, kept and persisted
 * (see sl_deploy_records.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "sl_deploy_records.h"
#include "sl_json.h"
#include "sl_log.h"
#include "sl_resource.h"

#define SL_RECORDS_FILE_MAX (256u << 20)

struct sl_deploy_rec {
	char sub[SL_RES_SCOPE_MAX];
	char rg[SL_RES_SCOPE_MAX];
	uint64_t seq; /* larger: newer */
	size_t bytes; /* the record's size in the file */
	cJSON *record;
};

struct sl_deploy_records {
	struct sl_deploy_rec *recs;
	size_t n;
	size_t cap;
	uint64_t seq;
	size_t bytes; /* of every record, as the file holds them */
	char *path; /* DIR/deployments.json, NULL: memory only */
};

/* ------------------------------------------------------------------------ */
/* The record */

/* ARM's templateHash: a decimal 64-bit hash of the template's text. */
static void
sl_template_hash(const cJSON *tmpl, char *buf, size_t len)
{
	char *text = cJSON_PrintUnformatted(tmpl);
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = text != NULL ? text : ""; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	cJSON_free(text);
	snprintf(buf, len, "%" PRIu64, h);
}

static bool
sl_secure_type(const char *type)
{
	return type != NULL && strncasecmp(type, "secure", 6) == 0;
}

/*
 * The record's parameters: the expansion's (each {"type", "value"}), or,
 * when the template did not expand, the declared ones with the values the
 * request gave; never the value of a secure one.
 */
static cJSON *
sl_record_parameters(const struct sl_deploy_request *rq, const struct sl_deploy_outcome *o)
{
	cJSON *out, *it;

	if (o->expanded && o->x.parameters != NULL) {
		out = cJSON_Duplicate(o->x.parameters, 1);
	} else {
		out = cJSON_CreateObject();
		cJSON_ArrayForEach(it, sl_json_member(rq->tmpl, "parameters")) {
			const char *type = sl_json_member_string(it, "type");
			const cJSON *given = sl_json_member(sl_json_member(rq->parameters,
									   it->string), "value");
			cJSON *p = cJSON_AddObjectToObject(out, it->string);
			cJSON_AddStringToObject(p, "type", type != NULL ? type : "String");
			if (given != NULL)
				cJSON_AddItemToObject(p, "value", cJSON_Duplicate(given, 1));
		}
	}
	cJSON_ArrayForEach(it, out)
		if (sl_secure_type(sl_json_member_string(it, "type")))
			cJSON_DeleteItemFromObject(it, "value");
	return out;
}

/* "2024-05-01T12:34:56.1234567Z" */
static void
sl_iso_time(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;
	long frac = (long)((t - (double)s) * 1e7);
	char base[32];

	gmtime_r(&s, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%07ldZ", base, frac < 0 ? 0 : frac > 9999999 ? 9999999 : frac);
}

static void
sl_uuid(char *buf, size_t len)
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)rand();
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

/* The set of the ids of a list of {"id"}s (case-insensitively); -ENOMEM. */
static int
sl_id_set(const cJSON *list, struct sl_name_index *set)
{
	const cJSON *it;

	sl_name_index_init(set);
	cJSON_ArrayForEach(it, list) {
		const char *id = sl_json_member_string(it, "id");
		if (id != NULL && sl_name_index_add_once(set, id) < 0) {
			sl_name_index_fini(set, NULL);
			return -ENOMEM;
		}
	}
	return 0;
}

/* The resource type entry of providers[] for ns/type, created when new. */
static cJSON *
sl_provider_type(cJSON *providers, const char *full_type)
{
	char ns[SL_ARM_TYPE_MAX];
	const char *slash = strchr(full_type, '/');
	cJSON *p, *t;

	if (slash == NULL)
		return NULL;
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - full_type), full_type);
	cJSON_ArrayForEach(p, providers)
		if (strcasecmp(sl_json_member_string(p, "namespace"), ns) == 0)
			break;
	if (p == NULL) {
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "namespace", ns);
		cJSON_AddArrayToObject(p, "resourceTypes");
		cJSON_AddItemToArray(providers, p);
	}
	cJSON *types = cJSON_GetObjectItemCaseSensitive(p, "resourceTypes");
	cJSON_ArrayForEach(t, types)
		if (strcasecmp(sl_json_member_string(t, "resourceType"), slash + 1) == 0)
			return t;
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "resourceType", slash + 1);
	cJSON_AddArrayToObject(t, "locations");
	cJSON_AddItemToArray(types, t);
	return t;
}

/* providers: [{"namespace", "resourceTypes": [{"resourceType", "locations"}]}] of what was deployed. */
static cJSON *
sl_record_providers(const struct sl_deploy_outcome *o)
{
	cJSON *providers = cJSON_CreateArray();
	struct sl_name_index skipped;

	if (sl_id_set(o->skipped, &skipped) != 0) {
		cJSON_Delete(providers);
		return NULL;
	}
	for (size_t i = 0; o->expanded && i < o->x.n_resources; i++) {
		const struct sl_arm_resource *r = &o->x.resources[i];
		if (sl_name_index_has(&skipped, r->id))
			continue;
		cJSON *t = sl_provider_type(providers, r->type);
		const char *loc = sl_json_member_string(r->body, "location");
		cJSON *locs = cJSON_GetObjectItemCaseSensitive(t, "locations");
		const cJSON *l;
		bool seen = false;
		if (t == NULL || loc == NULL)
			continue;
		cJSON_ArrayForEach(l, locs)
			seen = seen || strcasecmp(l->valuestring, loc) == 0;
		if (!seen)
			cJSON_AddItemToArray(locs, cJSON_CreateString(loc));
	}
	sl_name_index_fini(&skipped, NULL);
	return providers;
}

/* [{"id"}] of the resources put, each id once (the first of those equal but for case). */
static cJSON *
sl_record_output_resources(const struct sl_deploy_outcome *o)
{
	cJSON *out = cJSON_CreateArray();
	struct sl_name_index seen;
	const cJSON *it;

	sl_name_index_init(&seen);
	cJSON_ArrayForEach(it, o->resources) {
		const char *id = sl_json_member_string(it, "id");
		int rc = sl_name_index_add_once(&seen, id);
		if (rc < 0) {
			cJSON_Delete(out);
			out = NULL;
			break;
		}
		if (rc == 0)
			continue; /* listed */
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "id", id);
		cJSON_AddItemToArray(out, r);
	}
	sl_name_index_fini(&seen, NULL);
	return out;
}

cJSON *
sl_deploy_record(const struct sl_deploy_request *rq, const struct sl_deploy_outcome *o,
		 const struct sl_deploy_clock *clk)
{
	char id[SL_ARM_ID_MAX + 128], text[64];
	cJSON *rec = cJSON_CreateObject(), *props;

	sl_deploy_id(rq, id, sizeof(id));
	cJSON_AddStringToObject(rec, "id", id);
	cJSON_AddStringToObject(rec, "name", rq->name);
	cJSON_AddStringToObject(rec, "type", "Microsoft.Resources/deployments");
	props = cJSON_AddObjectToObject(rec, "properties");
	sl_template_hash(rq->tmpl, text, sizeof(text));
	cJSON_AddStringToObject(props, "templateHash", text);
	cJSON_AddItemToObject(props, "parameters", sl_record_parameters(rq, o));
	cJSON_AddStringToObject(props, "mode", sl_deploy_mode_name(rq->mode));
	cJSON_AddStringToObject(props, "provisioningState", o->error != NULL ? "Failed" : "Succeeded");
	sl_iso_time(clk->start_realtime_s, text, sizeof(text));
	cJSON_AddStringToObject(props, "timestamp", text);
	double us = clk->end_us > clk->start_us ? clk->end_us - clk->start_us : 0;
	snprintf(text, sizeof(text), "PT%.7fS", us / 1e6);
	cJSON_AddStringToObject(props, "duration", text);
	sl_uuid(text, sizeof(text));
	cJSON_AddStringToObject(props, "correlationId", text);
	cJSON_AddItemToObject(props, "outputs",
			      o->expanded && o->error == NULL && o->x.outputs != NULL
				      ? cJSON_Duplicate(o->x.outputs, 1) : cJSON_CreateObject());
	cJSON_AddItemToObject(props, "outputResources",
			      o->error == NULL ? sl_record_output_resources(o) : cJSON_CreateArray());
	bool cut;
	cJSON_AddItemToObject(props, "dependencies", sl_deploy_dependencies(o, &cut));
	if (cut)
		cJSON_AddTrueToObject(props, "dependenciesTruncated");
	cJSON_AddItemToObject(props, "providers", sl_record_providers(o));
	if (cJSON_GetArraySize(o->skipped) > 0)
		cJSON_AddItemToObject(props, "skippedResources", cJSON_Duplicate(o->skipped, 1));
	if (o->error != NULL)
		cJSON_AddItemToObject(props, "error", cJSON_Duplicate(o->error, 1));
	return rec;
}

/* ------------------------------------------------------------------------ */
/* The store */

struct sl_deploy_records *
sl_deploy_records_create(const char *state_dir)
{
	struct sl_deploy_records *r = calloc(1, sizeof(*r));
	size_t n;

	if (r == NULL || state_dir == NULL)
		return r;
	n = strlen(state_dir) + sizeof(SL_DEPLOY_RECORDS_FILE) + 2;
	r->path = malloc(n);
	if (r->path == NULL) {
		free(r);
		return NULL;
	}
	snprintf(r->path, n, "%s/%s", state_dir, SL_DEPLOY_RECORDS_FILE);
	return r;
}

void
sl_deploy_records_free(struct sl_deploy_records *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		cJSON_Delete(r->recs[i].record);
	free(r->recs);
	free(r->path);
	free(r);
}

static const char *
sl_rec_name(const struct sl_deploy_rec *e)
{
	const char *n = sl_json_member_string(e->record, "name");
	return n != NULL ? n : "";
}

static bool
sl_rec_in(const struct sl_deploy_rec *e, const char *sub, const char *rg)
{
	return strcasecmp(e->sub, sub) == 0 && strcasecmp(e->rg, rg) == 0;
}

static long
sl_find(const struct sl_deploy_records *r, const char *sub, const char *rg, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (sl_rec_in(&r->recs[i], sub, rg) && strcasecmp(sl_rec_name(&r->recs[i]), name) == 0)
			return (long)i;
	return -1;
}

static void
sl_remove_at(struct sl_deploy_records *r, size_t i)
{
	r->bytes -= r->recs[i].bytes;
	cJSON_Delete(r->recs[i].record);
	memmove(&r->recs[i], &r->recs[i + 1], (r->n - i - 1) * sizeof(r->recs[0]));
	r->n--;
}

/* Delete the group's oldest records until it has room for one more. */
static void
sl_make_room(struct sl_deploy_records *r, const char *sub, const char *rg)
{
	for (;;) {
		size_t count = 0, oldest = 0;
		for (size_t i = 0; i < r->n; i++) {
			if (!sl_rec_in(&r->recs[i], sub, rg))
				continue;
			if (count == 0 || r->recs[i].seq < r->recs[oldest].seq)
				oldest = i;
			count++;
		}
		if (count < SL_DEPLOY_RECORDS_PER_GROUP)
			return;
		sl_remove_at(r, oldest);
	}
}

/*
 * Past SL_DEPLOY_RECORDS_MAX records or SL_DEPLOY_RECORDS_BYTES_MAX bytes
 * in all, delete the oldest of any group; the newest record always stays.
 * The records are kept in order of sequence: the oldest is the first.
 */
static void
sl_trim(struct sl_deploy_records *r)
{
	while (r->n > 1 && (r->n > SL_DEPLOY_RECORDS_MAX || r->bytes > SL_DEPLOY_RECORDS_BYTES_MAX))
		sl_remove_at(r, 0);
}

/* A record's size in the file (its unformatted text); 0 when it cannot be printed. */
static size_t
sl_record_bytes(const cJSON *record)
{
	char *text = cJSON_PrintUnformatted(record);
	size_t n = text != NULL ? strlen(text) : 0;

	cJSON_free(text);
	return n;
}

static int
sl_append(struct sl_deploy_records *r, const char *sub, const char *rg, uint64_t seq,
	  cJSON *record)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct sl_deploy_rec *a = realloc(r->recs, cap * sizeof(*a));
		if (a == NULL)
			return -ENOMEM;
		r->recs = a;
		r->cap = cap;
	}
	struct sl_deploy_rec *e = &r->recs[r->n++];
	snprintf(e->sub, sizeof(e->sub), "%s", sub);
	snprintf(e->rg, sizeof(e->rg), "%s", rg);
	e->seq = seq;
	e->record = record;
	e->bytes = sl_record_bytes(record);
	r->bytes += e->bytes;
	if (seq > r->seq)
		r->seq = seq;
	return 0;
}

static int
sl_save(const struct sl_deploy_records *r, struct sl_error *err)
{
	cJSON *root, *list;
	const char *step = NULL;
	char *text;
	int rc;

	if (r->path == NULL)
		return 0;
	root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "version", 1);
	list = cJSON_AddArrayToObject(root, "deployments");
	for (size_t i = 0; list != NULL && i < r->n; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "subscription", r->recs[i].sub);
		cJSON_AddStringToObject(e, "resourceGroup", r->recs[i].rg);
		cJSON_AddNumberToObject(e, "sequence", (double)r->recs[i].seq);
		cJSON_AddItemReferenceToObject(e, "record", r->recs[i].record);
		cJSON_AddItemToArray(list, e);
	}
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root); /* the records are referenced, not copied */
	if (text == NULL)
		return sl_json_nomem(err, r->path, "$");
	rc = sl_file_write_atomic(r->path, text, strlen(text), 0600, &step);
	cJSON_free(text);
	if (rc < 0)
		sl_error_set(err, "StateWriteFailed", r->path, "",
			     "Cannot write the deployment records (%s): %s.", step ? step : "write",
			     strerror(-rc));
	return rc;
}

int
sl_deploy_records_put(struct sl_deploy_records *r, const char *sub, const char *rg,
		      cJSON *record, bool *created, struct sl_error *err)
{
	long i = sl_find(r, sub, rg, sl_json_member_string(record, "name"));

	*created = i < 0;
	if (i >= 0)
		sl_remove_at(r, (size_t)i);
	sl_make_room(r, sub, rg);
	if (sl_append(r, sub, rg, r->seq + 1, record) != 0) {
		cJSON_Delete(record);
		return sl_json_nomem(err, "deployments", "$");
	}
	sl_trim(r);
	return sl_save(r, err);
}

const cJSON *
sl_deploy_records_get(const struct sl_deploy_records *r, const char *sub, const char *rg,
		      const char *name)
{
	long i = sl_find(r, sub, rg, name);

	return i < 0 ? NULL : r->recs[i].record;
}

cJSON *
sl_deploy_records_list(const struct sl_deploy_records *r, const char *sub, const char *rg)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *v = cJSON_AddArrayToObject(o, "value");

	/* appended in order of sequence: newest last */
	for (size_t i = r->n; i-- > 0;)
		if (sl_rec_in(&r->recs[i], sub, rg))
			cJSON_AddItemToArray(v, cJSON_Duplicate(r->recs[i].record, 1));
	return o;
}

int
sl_deploy_records_delete(struct sl_deploy_records *r, const char *sub, const char *rg,
			 const char *name, struct sl_error *err)
{
	long i = sl_find(r, sub, rg, name);
	int rc;

	if (i < 0)
		return 0;
	sl_remove_at(r, (size_t)i);
	rc = sl_save(r, err);
	return rc < 0 ? rc : 1;
}

/* Load the file's entries; -EINVAL when its shape is wrong (the store is left empty). */
static int
sl_load(struct sl_deploy_records *r, const cJSON *root)
{
	const cJSON *e;

	if (!cJSON_IsObject(root) || !cJSON_IsArray(sl_json_member(root, "deployments")))
		return -EINVAL;
	cJSON_ArrayForEach(e, sl_json_member(root, "deployments")) {
		const char *sub = sl_json_member_string(e, "subscription");
		const char *rg = sl_json_member_string(e, "resourceGroup");
		const cJSON *seq = sl_json_member(e, "sequence");
		const cJSON *rec = sl_json_member(e, "record");
		if (sub == NULL || rg == NULL || !cJSON_IsNumber(seq) || seq->valuedouble < 0 ||
		    !cJSON_IsObject(rec) || sl_json_member_string(rec, "name") == NULL ||
		    strlen(sub) >= SL_RES_SCOPE_MAX || strlen(rg) >= SL_RES_SCOPE_MAX)
			return -EINVAL;
		/* in the order they were saved: by sequence */
		if (sl_append(r, sub, rg, (uint64_t)seq->valuedouble, cJSON_Duplicate(rec, 1)) != 0)
			return -ENOMEM;
	}
	return 0;
}

void
sl_deploy_records_restore(struct sl_deploy_records *r)
{
	struct sl_error err;
	char *text, aside[4096];
	size_t len;
	cJSON *root;
	int rc = -EINVAL;

	if (r->path == NULL)
		return;
	text = sl_file_read(r->path, SL_RECORDS_FILE_MAX, &len, "StateFileUnreadable", &err);
	if (text == NULL) {
		if (errno != ENOENT)
			sl_log(SL_LOG_WARNING, "api", "deployment records not restored: %s: %s",
			       r->path, err.message);
		return;
	}
	root = sl_json_parse(text, len, r->path, &err);
	free(text);
	if (root != NULL)
		rc = sl_load(r, root);
	cJSON_Delete(root);
	if (rc == 0) {
		sl_trim(r);
		sl_log(SL_LOG_INFO, "api", "%zu deployment records restored from %s", r->n, r->path);
		return;
	}
	for (size_t i = 0; i < r->n; i++)
		cJSON_Delete(r->recs[i].record);
	r->n = 0;
	r->seq = 0;
	r->bytes = 0;
	snprintf(aside, sizeof(aside), "%s.damaged", r->path);
	if (rename(r->path, aside) != 0)
		snprintf(aside, sizeof(aside), "(not set aside: %s)", strerror(errno));
	sl_log(SL_LOG_WARNING, "api", "deployment records file %s is damaged (%s); set aside as "
	       "%s, starting with no records", r->path,
	       root == NULL ? err.message : "not a records file", aside);
}
