/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_arm_template.c: expansion of an ARM template (sl_arm_template.h):
 * parameters checked against their declarations, variables evaluated
 * lazily (a cycle refused), resources unrolled (copy loops, conditions,
 * nested children lifted out with their full types and names), their
 * dependsOn resolved (and kept, for the deployment's record) and put in a
 * stable topological order, and the outputs evaluated. Expressions are sl_arm_expr.c's.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sl_arm_expr.h"
#include "sl_arm_template.h"

#define SL_TX_API_MAX 32

enum sl_tx_state { SL_TX_UNRESOLVED, SL_TX_RESOLVING, SL_TX_DONE };

struct sl_tx_param {
	const char *name;
	const cJSON *decl;
	const cJSON *given;   /* the {"value": ...} given for it, NULL when none */
	const char *type;     /* ARM's spelling: "String", "SecureString", "Int"... */
	bool secure;
	enum sl_tx_state state;
	cJSON *value;
};

struct sl_tx_var {
	const char *name;
	const cJSON *decl;    /* the value, or the copy element {name, count, input} */
	bool copy;
	char path[SL_JSON_PATH_MAX];
	enum sl_tx_state state;
	cJSON *value;
};

/* A resource copy loop: its name and how its instances are batched. */
struct sl_tx_loop {
	const char *name;
	int64_t batch;        /* serial mode: instances per batch; 0: parallel */
};

/* One instance of a resource declaration, deployed or left out by its condition. */
struct sl_tx_inst {
	struct sl_arm_resource r;
	bool skipped;
	int32_t loop;         /* index into the loops, -1 */
	cJSON *depends;       /* dependsOn, evaluated: strings */
	uint32_t *deps;       /* instances it waits for: its dependsOn's first, then the implicit */
	uint32_t n_deps, cap_deps;
	uint32_t n_explicit;  /* deps[0..n_explicit) come from its dependsOn */
};

/* What a nested child inherits: its parent's type, name, loops and fate. */
struct sl_tx_parent {
	const char *type;
	const char *name;
	const struct sl_arm_loop *loops;
	uint32_t n_loops;
	uint32_t depth; /* of the child: 1 for a top-level resource's */
	bool skipped;
};

struct sl_tx {
	const cJSON *tmpl;
	const struct sl_arm_scope *scope;
	const char *content_version;
	struct sl_error *err;
	struct sl_arm_budget budget;
	struct sl_tx_param *params;
	uint32_t n_params;
	struct sl_tx_var *vars;
	uint32_t n_vars;
	const char *var_dup; /* the variable named again but for case, NULL */
	const char *chain[SL_ARM_DEPTH_MAX + 1]; /* names being resolved, for a cycle's message */
	uint32_t n_chain;
	struct sl_tx_loop *loops;
	uint32_t n_loops, cap_loops;
	struct sl_tx_inst *inst;
	uint32_t n_inst, cap_inst;
	uint64_t n_edges;
};

static const cJSON *sl_tx_lookup(struct sl_arm_ctx *ctx, enum sl_arm_ref kind, const char *name,
				 struct sl_arm_fault *f);

static void
sl_tx_ctx(struct sl_tx *x, struct sl_arm_ctx *ctx, uint32_t depth)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->scope = x->scope;
	ctx->content_version = x->content_version;
	ctx->lookup = sl_tx_lookup;
	ctx->opaque = x;
	ctx->depth = depth;
	ctx->budget = &x->budget;
	ctx->err = x->err;
}

static int
sl_tx_fail(struct sl_tx *x, const char *target, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
sl_tx_fail(struct sl_tx *x, const char *target, const char *path, const char *fmt, ...)
{
	char msg[sizeof(x->err->message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sl_error_set(x->err, "InvalidTemplate", target, path, "%s", msg);
}

static int
sl_tx_nomem(struct sl_tx *x, const char *target, const char *path)
{
	return sl_json_nomem(x->err, target, path);
}

/* A fault that is not an expression's (the budget, memory) as the error of path. */
static int
sl_tx_fault(struct sl_tx *x, const struct sl_arm_fault *f, const char *target, const char *path)
{
	if (f->final)
		return f->rc;
	if (f->rc == -ENOMEM)
		return sl_tx_nomem(x, target, path);
	sl_tx_fail(x, target, path, "%s.", f->msg);
	return -EINVAL;
}

/* ---------------------------------------------------------------- values */

/*
 * A case-insensitive index of names, each key listing the indexes added
 * under it in the order added: for dependsOn (sl_tx_index_build) and for
 * names that must differ by more than case (sl_tx_dup_name).
 */
struct sl_tx_key {
	char *key;            /* lower case */
	uint32_t hash;
	uint32_t *inst, n, cap;
	struct sl_tx_key *next;
};

struct sl_tx_index {
	struct sl_tx_key **buckets;
	uint32_t n_buckets;   /* a power of two */
};

static uint32_t
sl_tx_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a of the lower-cased text */

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)tolower((unsigned char)*s)) * 16777619u;
	return h;
}

static struct sl_tx_key *
sl_tx_index_find(const struct sl_tx_index *ix, const char *s)
{
	uint32_t h = sl_tx_hash(s);
	struct sl_tx_key *k;

	for (k = ix->buckets[h & (ix->n_buckets - 1)]; k != NULL; k = k->next)
		if (k->hash == h && strcasecmp(k->key, s) == 0)
			return k;
	return NULL;
}

static int
sl_tx_index_add(struct sl_tx_index *ix, const char *s, uint32_t j)
{
	struct sl_tx_key *k = sl_tx_index_find(ix, s), **b;
	uint32_t *grown, cap;
	char *p;

	if (k == NULL) {
		k = calloc(1, sizeof(*k));
		if (k == NULL || (k->key = strdup(s)) == NULL) {
			free(k);
			return -ENOMEM;
		}
		for (p = k->key; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		k->hash = sl_tx_hash(s);
		b = &ix->buckets[k->hash & (ix->n_buckets - 1)];
		k->next = *b;
		*b = k;
	}
	if (k->n > 0 && k->inst[k->n - 1] == j)
		return 0; /* one instance under one key once */
	if (k->n == k->cap) {
		cap = k->cap == 0 ? 2 : k->cap * 2;
		grown = realloc(k->inst, cap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		k->inst = grown;
		k->cap = cap;
	}
	k->inst[k->n++] = j;
	return 0;
}

static void
sl_tx_index_free(struct sl_tx_index *ix)
{
	struct sl_tx_key *k, *next;
	uint32_t b;

	for (b = 0; ix->buckets != NULL && b < ix->n_buckets; b++)
		for (k = ix->buckets[b]; k != NULL; k = next) {
			next = k->next;
			free(k->key);
			free(k->inst);
			free(k);
		}
	free(ix->buckets);
	ix->buckets = NULL;
}

/* 1 when name is in ix already (but for case), 0 when added, -ENOMEM. */
static int
sl_tx_seen(struct sl_tx_index *ix, const char *name)
{
	if (sl_tx_index_find(ix, name) != NULL)
		return 1;
	return sl_tx_index_add(ix, name, 0);
}

/*
 * The first member name of obj that repeats an earlier one's but for case
 * (ARM's names are case-insensitive); with copies, the elements of a "copy"
 * array are named by their "name" (variables). NULL when none, and when out
 * of memory (*nomem).
 */
static const char *
sl_tx_dup_name(const cJSON *obj, bool copies, bool *nomem)
{
	struct sl_tx_index ix = {.n_buckets = 64};
	const char *dup = NULL, *name;
	const cJSON *m, *el;
	int rc = 0;

	while (ix.n_buckets < 2 * (uint32_t)cJSON_GetArraySize(obj))
		ix.n_buckets *= 2;
	ix.buckets = calloc(ix.n_buckets, sizeof(*ix.buckets));
	rc = ix.buckets == NULL ? -ENOMEM : 0;
	for (m = obj != NULL ? obj->child : NULL; rc == 0 && m != NULL; m = m->next) {
		if (!copies || strcasecmp(m->string, "copy") != 0 || !cJSON_IsArray(m)) {
			rc = sl_tx_seen(&ix, dup = m->string);
			continue;
		}
		for (el = m->child; rc == 0 && el != NULL; el = el->next)
			if ((name = sl_json_member_string(el, "name")) != NULL)
				rc = sl_tx_seen(&ix, dup = name);
	}
	sl_tx_index_free(&ix);
	*nomem = rc < 0;
	return rc == 1 ? dup : NULL;
}

static cJSON *sl_tx_walk(struct sl_tx *x, struct sl_arm_ctx *ctx, const cJSON *v,
			 const char *path, const char *target, uint32_t depth, int *rc);

/* A copy's "count": an integer or an expression of one, 0 to 800. */
static int
sl_tx_count(struct sl_tx *x, struct sl_arm_ctx *ctx, const cJSON *decl, const char *path,
	    const char *target, int64_t *count)
{
	char p[SL_JSON_PATH_MAX];
	cJSON *v;
	int rc = 0;

	sl_json_path_key(p, path, "count");
	v = sl_tx_walk(x, ctx, sl_json_member(decl, "count"), p, target, 0, &rc);
	if (v == NULL)
		return rc;
	if (!sl_arm_int_of(v, count) || *count < 0 || *count > SL_ARM_COPY_MAX) {
		cJSON_Delete(v);
		return sl_tx_fail(x, target, p,
				  "The copy count must be an integer from 0 to %u (ARM's limit).",
				  SL_ARM_COPY_MAX);
	}
	cJSON_Delete(v);
	return 0;
}

/* Push loop (name, index) on ctx; -EINVAL when too many are open. */
static int
sl_tx_push_loop(struct sl_tx *x, struct sl_arm_ctx *ctx, const char *name, int64_t index,
		bool unnamed, const char *target, const char *path)
{
	if (ctx->n_loops >= SL_ARM_LOOPS_MAX)
		return sl_tx_fail(x, target, path, "Copy loops nest deeper than %u levels.",
				  SL_ARM_LOOPS_MAX);
	ctx->loops[ctx->n_loops++] = (struct sl_arm_loop){name, index, unnamed};
	return 0;
}

/* A property copy element {name, count, input} into out[name] = [input for each index]. */
static int
sl_tx_prop_copy(struct sl_tx *x, struct sl_arm_ctx *ctx, const cJSON *el, const char *path,
		const char *target, uint32_t depth, cJSON *out)
{
	const char *name = sl_json_member_string(el, "name");
	const cJSON *input = sl_json_member(el, "input");
	char p[SL_JSON_PATH_MAX];
	struct sl_arm_fault f = {.pos = 1};
	cJSON *arr, *v;
	int64_t count, i;
	int rc;

	if (!cJSON_IsObject(el) || name == NULL || *name == '\0' || input == NULL ||
	    sl_json_member(el, "count") == NULL)
		return sl_tx_fail(x, target, path,
				  "A property copy must be an object with a name, a count and an input.");
	if (cJSON_GetObjectItem(out, name) != NULL)
		return sl_tx_fail(x, target, path,
				  "The property '%.100s' is produced by a copy loop and set as well.",
				  name);
	rc = sl_tx_count(x, ctx, el, path, target, &count);
	if (rc < 0)
		return rc;
	arr = sl_arm_new_container(ctx, false, &f);
	if (arr == NULL)
		return sl_tx_fault(x, &f, target, path);
	cJSON_AddItemToObject(out, name, arr);
	sl_json_path_key(p, path, "input");
	for (i = 0; i < count; i++) {
		rc = sl_tx_push_loop(x, ctx, name, i, false, target, path);
		if (rc < 0)
			return rc;
		v = sl_tx_walk(x, ctx, input, p, target, depth + 1, &rc);
		ctx->n_loops--;
		if (v == NULL)
			return rc;
		cJSON_AddItemToArray(arr, v);
	}
	return 0;
}

/* Each member of object v, evaluated, into out; "copy" arrays are property copies. */
static int
sl_tx_walk_object(struct sl_tx *x, struct sl_arm_ctx *ctx, const cJSON *v, const char *path,
		  const char *target, uint32_t depth, cJSON *out)
{
	struct sl_arm_fault f = {.pos = 1};
	char p[SL_JSON_PATH_MAX];
	const cJSON *m, *el;
	cJSON *mv;
	uint32_t k;
	int rc = 0;

	cJSON_ArrayForEach(m, v) {
		sl_json_path_key(p, path, m->string);
		if (strcasecmp(m->string, "copy") == 0 && cJSON_IsArray(m)) {
			k = 0;
			cJSON_ArrayForEach(el, m) {
				char ep[SL_JSON_PATH_MAX];
				sl_json_path_index(ep, p, k++);
				rc = sl_tx_prop_copy(x, ctx, el, ep, target, depth, out);
				if (rc < 0)
					return rc;
			}
			continue;
		}
		if (cJSON_GetObjectItem(out, m->string) != NULL)
			return sl_tx_fail(x, target, p, "The property '%.100s' is set twice.",
					  m->string);
		if (sl_arm_charge(ctx, 0, strlen(m->string), &f) < 0)
			return sl_tx_fault(x, &f, target, p);
		mv = sl_tx_walk(x, ctx, m, p, target, depth + 1, &rc);
		if (mv == NULL)
			return rc;
		cJSON_AddItemToObject(out, m->string, mv);
	}
	return 0;
}

static cJSON *sl_tx_walk_value(struct sl_tx *x, struct sl_arm_ctx *ctx, const cJSON *v,
			       const char *path, const char *target, uint32_t depth, int *rc);

/*
 * v with every string evaluated (an expression's value, "[[" unescaped) and
 * property copies unrolled; NULL with x->err filled and *rc set.
 */
static cJSON *
sl_tx_walk(struct sl_tx *x, struct sl_arm_ctx *ctx, const cJSON *v, const char *path,
	   const char *target, uint32_t depth, int *rc)
{
	struct sl_arm_fault f = {.pos = 1};
	cJSON *out;

	if (sl_arm_frame_open(ctx, &f) < 0) {
		*rc = sl_tx_fault(x, &f, target, path);
		return NULL;
	}
	out = sl_tx_walk_value(x, ctx, v, path, target, depth, rc);
	sl_arm_frame_close(ctx);
	return out;
}

static cJSON *
sl_tx_walk_value(struct sl_tx *x, struct sl_arm_ctx *ctx, const cJSON *v, const char *path,
		 const char *target, uint32_t depth, int *rc)
{
	struct sl_arm_fault f = {.pos = 1};
	char p[SL_JSON_PATH_MAX];
	const cJSON *e;
	cJSON *out, *ev;
	uint32_t i = 0;

	if (depth > SL_ARM_JSON_DEPTH_MAX) {
		*rc = sl_tx_fail(x, target, path, "The template nests values deeper than %u levels.",
				 SL_ARM_JSON_DEPTH_MAX);
		return NULL;
	}
	if (cJSON_IsString(v))
		return sl_arm_expr_eval(ctx, v->valuestring, target, path, rc);
	if (!cJSON_IsArray(v) && !cJSON_IsObject(v)) {
		out = v != NULL ? sl_arm_dup(ctx, v, &f) : NULL;
		if (out == NULL && v != NULL)
			*rc = sl_tx_fault(x, &f, target, path);
		else if (v == NULL)
			*rc = sl_tx_fail(x, target, path, "A value is missing.");
		return out;
	}
	out = sl_arm_new_container(ctx, cJSON_IsObject(v), &f);
	if (out == NULL) {
		*rc = sl_tx_fault(x, &f, target, path);
		return NULL;
	}
	if (cJSON_IsObject(v)) {
		*rc = sl_tx_walk_object(x, ctx, v, path, target, depth, out);
		if (*rc < 0) {
			cJSON_Delete(out);
			return NULL;
		}
		return out;
	}
	cJSON_ArrayForEach(e, v) {
		sl_json_path_index(p, path, i++);
		ev = sl_tx_walk(x, ctx, e, p, target, depth + 1, rc);
		if (ev == NULL) {
			cJSON_Delete(out);
			return NULL;
		}
		cJSON_AddItemToArray(out, ev);
	}
	return out;
}

/* ---------------------------------------------------------------- parameters */

static const char *const sl_tx_types[][2] = {
	{"string", "String"}, {"securestring", "SecureString"}, {"int", "Int"},
	{"bool", "Bool"},     {"object", "Object"},             {"secureobject", "SecureObject"},
	{"array", "Array"},
};

/* ARM's spelling of a parameter or output type, NULL when it is none. */
static const char *
sl_tx_type(const char *t)
{
	size_t i;

	for (i = 0; t != NULL && i < sizeof(sl_tx_types) / sizeof(sl_tx_types[0]); i++)
		if (strcasecmp(t, sl_tx_types[i][0]) == 0)
			return sl_tx_types[i][1];
	return NULL;
}

/* Whether v is of the declared type (ARM's spelling). */
static bool
sl_tx_type_ok(const char *type, const cJSON *v)
{
	int64_t i;

	if (strstr(type, "String") != NULL)
		return cJSON_IsString(v);
	if (strcmp(type, "Int") == 0)
		return sl_arm_int_of(v, &i);
	if (strcmp(type, "Bool") == 0)
		return cJSON_IsBool(v);
	if (strstr(type, "Object") != NULL)
		return cJSON_IsObject(v);
	return cJSON_IsArray(v);
}

static const char *
sl_tx_expected(const char *type)
{
	return strcmp(type, "Int") == 0 ? "Integer" : strcmp(type, "Bool") == 0 ? "Boolean" :
			     strstr(type, "String") ? "String" : strstr(type, "Object") ? "Object" :
									    "Array";
}

/* The parameter's own error (its target, its declaration's path). */
static int
sl_tx_param_fail(struct sl_tx *x, const struct sl_tx_param *p, const char *member,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
sl_tx_param_fail(struct sl_tx *x, const struct sl_tx_param *p, const char *member,
		 const char *fmt, ...)
{
	char decl[SL_JSON_PATH_MAX], path[SL_JSON_PATH_MAX], msg[sizeof(x->err->message)];
	va_list ap;

	sl_json_path_key(decl, "$.parameters", p->name);
	if (member != NULL)
		sl_json_path_key(path, decl, member);
	else
		memcpy(path, decl, sizeof(path));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sl_error_set(x->err, "InvalidTemplate", p->name, path, "%s", msg);
}

/* " 'value'" for a short scalar of a parameter that is not secure, "" otherwise. */
static const char *
sl_tx_shown(const struct sl_tx_param *p, const cJSON *v, char *buf, size_t len)
{
	int64_t i;

	buf[0] = '\0';
	if (p->secure)
		return buf;
	if (cJSON_IsString(v) && strlen(v->valuestring) <= 64)
		snprintf(buf, len, " '%s'", v->valuestring);
	else if (sl_arm_int_of(v, &i))
		snprintf(buf, len, " '%" PRId64 "'", i);
	return buf;
}

/* allowedValues: the value (each element of an Array parameter's value) is one of them. */
static int
sl_tx_param_allowed(struct sl_tx *x, const struct sl_tx_param *p, const cJSON *v)
{
	const cJSON *allowed = sl_json_member(p->decl, "allowedValues"), *e;
	char shown[80];
	bool ok = true;

	if (allowed == NULL)
		return 0;
	if (!cJSON_IsArray(allowed))
		return sl_tx_param_fail(x, p, "allowedValues",
					"The allowedValues of the template parameter '%s' must be an array.",
					p->name);
	if (strcmp(p->type, "Array") == 0) {
		cJSON_ArrayForEach(e, v)
			ok = ok && sl_arm_array_has(allowed, e);
	} else {
		ok = sl_arm_array_has(allowed, v);
	}
	if (ok)
		return 0;
	return sl_tx_param_fail(x, p, NULL,
				"The provided value%s for the template parameter '%s' is not valid: it is not one of the allowedValues.",
				sl_tx_shown(p, v, shown, sizeof(shown)), p->name);
}

/* minValue/maxValue of an Int, minLength/maxLength of a string or array. */
static int
sl_tx_param_range(struct sl_tx *x, const struct sl_tx_param *p, const cJSON *v)
{
	static const char *const keys[] = {"minValue", "maxValue", "minLength", "maxLength"};
	const cJSON *lim;
	int64_t have, bound;
	char shown[80];
	size_t k;

	for (k = 0; k < 4; k++) {
		lim = sl_json_member(p->decl, keys[k]);
		if (lim == NULL)
			continue;
		if (!sl_arm_int_of(lim, &bound))
			return sl_tx_param_fail(x, p, keys[k], "The %s of the template parameter '%s' must be an integer.",
						keys[k], p->name);
		if (k < 2 && !sl_arm_int_of(v, &have))
			return sl_tx_param_fail(x, p, keys[k], "The template parameter '%s' has a %s but is not of type 'Int'.",
						p->name, keys[k]);
		if (k >= 2 && !cJSON_IsString(v) && !cJSON_IsArray(v))
			return sl_tx_param_fail(x, p, keys[k], "The template parameter '%s' has a %s but is neither a string nor an array.",
						p->name, keys[k]);
		if (k >= 2)
			have = cJSON_IsString(v) ? (int64_t)sl_arm_utf8_count(v->valuestring, strlen(v->valuestring)) :
						   cJSON_GetArraySize(v);
		if (k % 2 == 0 ? have < bound : have > bound)
			return sl_tx_param_fail(x, p, NULL,
						"The provided value%s for the template parameter '%s' is not valid: its %s is %s than the %s of %" PRId64 ".",
						sl_tx_shown(p, v, shown, sizeof(shown)), p->name,
						k < 2 ? "value" : "length", k % 2 == 0 ? "less" : "greater",
						keys[k], bound);
	}
	return 0;
}

/* Resolve p: its given value or its default, checked. */
static int
sl_tx_param_resolve(struct sl_tx *x, struct sl_tx_param *p, uint32_t depth)
{
	struct sl_arm_fault f = {.pos = 1};
	char decl[SL_JSON_PATH_MAX], path[SL_JSON_PATH_MAX];
	const cJSON *dflt = sl_json_member(p->decl, "defaultValue");
	struct sl_arm_ctx ctx;
	cJSON *v;
	int rc = 0;

	sl_tx_ctx(x, &ctx, depth);
	ctx.no_variables = true;
	if (p->given != NULL) {
		v = sl_arm_dup(&ctx, cJSON_GetObjectItem(p->given, "value"), &f); /* null too */
		if (v == NULL)
			return sl_tx_fault(x, &f, p->name, "$.parameters");
	} else if (dflt != NULL) {
		sl_json_path_key(decl, "$.parameters", p->name);
		sl_json_path_key(path, decl, "defaultValue");
		v = sl_tx_walk(x, &ctx, dflt, path, p->name, 0, &rc);
		if (v == NULL)
			return rc;
	} else {
		return sl_tx_param_fail(x, p, NULL, "The value for the template parameter '%s' is not provided (it has no defaultValue).",
					p->name);
	}
	p->value = v;
	if (!sl_tx_type_ok(p->type, v))
		return sl_tx_param_fail(x, p, NULL, "The provided value for the template parameter '%s' is not valid: expected a value of type '%s', got one of type '%s'.",
					p->name, sl_tx_expected(p->type), sl_arm_type_name(v));
	rc = sl_tx_param_allowed(x, p, v);
	return rc < 0 ? rc : sl_tx_param_range(x, p, v);
}

/* Given value g for parameter j (x->n_params: none such). */
static int
sl_tx_param_given(struct sl_tx *x, const cJSON *g, uint32_t j, const char *path)
{
	if (j == x->n_params)
		return sl_tx_fail(x, g->string, path,
				  "The template parameters '%.100s' in the parameters are not valid; they are not present in the original template and can therefore not be provided at deployment time.",
				  g->string);
	if (sl_json_member(g, "reference") != NULL)
		return sl_tx_fail(x, g->string, path,
				  "The value of the template parameter '%.100s' is a Key Vault reference, which sluice does not support: give the value itself.",
				  g->string);
	if (!cJSON_IsObject(g) || cJSON_GetObjectItem(g, "value") == NULL)
		return sl_tx_fail(x, g->string, path,
				  "The template parameter '%.100s' must be given as {\"value\": ...}.", g->string);
	x->params[j].given = g;
	return 0;
}

/* Each given value to its declaration (names case-insensitive, each once: checked). */
static int
sl_tx_params_given(struct sl_tx *x, const cJSON *given)
{
	struct sl_tx_index ix = {.n_buckets = 64};
	char path[SL_JSON_PATH_MAX];
	const struct sl_tx_key *k;
	const cJSON *g;
	uint32_t j;
	int rc = 0;

	while (ix.n_buckets < 2 * x->n_params)
		ix.n_buckets *= 2;
	ix.buckets = calloc(ix.n_buckets, sizeof(*ix.buckets));
	for (j = 0; ix.buckets != NULL && rc == 0 && j < x->n_params; j++)
		rc = sl_tx_index_add(&ix, x->params[j].name, j);
	if (ix.buckets == NULL || rc < 0) {
		sl_tx_index_free(&ix);
		return sl_tx_nomem(x, "", "$.parameters");
	}
	cJSON_ArrayForEach(g, given) {
		sl_json_path_key(path, "$.parameters", g->string);
		k = sl_tx_index_find(&ix, g->string);
		j = k != NULL ? k->inst[0] : x->n_params;
		rc = sl_tx_param_given(x, g, j, path);
		if (rc < 0)
			break;
	}
	sl_tx_index_free(&ix);
	return rc;
}

/* The declarations and the values given; each given value must be declared. */
static int
sl_tx_params_read(struct sl_tx *x, const cJSON *given)
{
	const cJSON *decls = sl_json_member(x->tmpl, "parameters"), *d;
	char path[SL_JSON_PATH_MAX];
	struct sl_tx_param *p;
	const char *dup;
	uint32_t i = 0;
	bool nomem;

	if (decls != NULL && !cJSON_IsObject(decls))
		return sl_tx_fail(x, "", "$.parameters", "The template's parameters must be an object.");
	if (given != NULL && !cJSON_IsObject(given) && !cJSON_IsNull(given))
		return sl_tx_fail(x, "", "$.parameters", "The parameter values must be an object of {\"value\": ...}.");
	dup = sl_tx_dup_name(decls, false, &nomem);
	if (dup == NULL && !nomem && cJSON_IsObject(given)) {
		dup = sl_tx_dup_name(given, false, &nomem);
		if (dup != NULL) {
			sl_json_path_key(path, "$.parameters", dup);
			return sl_tx_fail(x, dup, path, "The value of the template parameter '%.100s' is given twice (parameter names are case-insensitive).", dup);
		}
	}
	if (nomem)
		return sl_tx_nomem(x, "", "$.parameters");
	if (dup != NULL) {
		sl_json_path_key(path, "$.parameters", dup);
		return sl_tx_fail(x, dup, path, "The template parameter '%.100s' is declared twice (parameter names are case-insensitive).", dup);
	}
	x->n_params = decls != NULL ? (uint32_t)cJSON_GetArraySize(decls) : 0;
	x->params = calloc(x->n_params + 1, sizeof(*x->params));
	if (x->params == NULL)
		return sl_tx_nomem(x, "", "$.parameters");
	cJSON_ArrayForEach(d, decls) {
		p = &x->params[i++];
		p->name = d->string;
		p->decl = d;
		sl_json_path_key(path, "$.parameters", d->string);
		if (!cJSON_IsObject(d))
			return sl_tx_fail(x, p->name, path, "The template parameter '%s' must be an object with a type.", p->name);
		p->type = sl_tx_type(sl_json_member_string(d, "type"));
		if (p->type == NULL)
			return sl_tx_param_fail(x, p, "type", "The template parameter '%s' has no valid type (string, securestring, int, bool, object, secureobject, array).",
						p->name);
		p->secure = strncmp(p->type, "Secure", 6) == 0;
	}
	if (!cJSON_IsObject(given))
		return 0;
	return sl_tx_params_given(x, given);
}

/* ---------------------------------------------------------------- variables */

static int
sl_tx_var_add(struct sl_tx *x, const char *name, const cJSON *decl, bool copy, const char *path)
{
	struct sl_tx_var *v;

	if (name == x->var_dup)
		return sl_tx_fail(x, name, path, "The template variable '%.100s' is declared twice (variable names are case-insensitive).", name);
	v = &x->vars[x->n_vars++];
	v->name = name;
	v->decl = decl;
	v->copy = copy;
	snprintf(v->path, sizeof(v->path), "%s", path);
	return 0;
}

/*
 * Every expression in a variable's declaration parses: ARM refuses a
 * syntax error even where nothing is evaluated (the input of a copy of
 * count 0). Parse only: nothing is evaluated here.
 */
static int
sl_tx_var_syntax(struct sl_tx *x, const cJSON *v, const char *path, const char *target)
{
	char p[SL_JSON_PATH_MAX];
	struct sl_arm_ctx ctx;
	const cJSON *c;
	uint32_t k = 0;
	int rc;

	if (cJSON_IsString(v)) {
		if (!sl_arm_is_expr(v->valuestring))
			return 0;
		sl_tx_ctx(x, &ctx, 0);
		return sl_arm_expr_check(&ctx, v->valuestring, target, path);
	}
	cJSON_ArrayForEach(c, v) {
		if (cJSON_IsObject(v))
			sl_json_path_key(p, path, c->string);
		else
			sl_json_path_index(p, path, k++);
		rc = sl_tx_var_syntax(x, c, p, target);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
sl_tx_vars_read(struct sl_tx *x)
{
	const cJSON *vars = sl_json_member(x->tmpl, "variables"), *m, *el;
	char path[SL_JSON_PATH_MAX], ep[SL_JSON_PATH_MAX];
	uint32_t n = 0, k;
	const char *name;
	bool nomem;
	int rc;

	if (vars != NULL && !cJSON_IsObject(vars))
		return sl_tx_fail(x, "", "$.variables", "The template's variables must be an object.");
	x->var_dup = sl_tx_dup_name(vars, true, &nomem); /* sl_tx_var_add() refuses it where it is */
	if (nomem)
		return sl_tx_nomem(x, "", "$.variables");
	cJSON_ArrayForEach(m, vars)
		n += strcasecmp(m->string, "copy") == 0 && cJSON_IsArray(m) ?
			     (uint32_t)cJSON_GetArraySize(m) : 1;
	x->vars = calloc(n + 1, sizeof(*x->vars));
	if (x->vars == NULL)
		return sl_tx_nomem(x, "", "$.variables");
	cJSON_ArrayForEach(m, vars) {
		sl_json_path_key(path, "$.variables", m->string);
		if (strcasecmp(m->string, "copy") != 0 || !cJSON_IsArray(m)) {
			rc = sl_tx_var_add(x, m->string, m, false, path);
			if (rc == 0)
				rc = sl_tx_var_syntax(x, m, path, m->string);
			if (rc < 0)
				return rc;
			continue;
		}
		k = 0;
		cJSON_ArrayForEach(el, m) {
			sl_json_path_index(ep, path, k++);
			name = sl_json_member_string(el, "name");
			if (name == NULL || *name == '\0' || sl_json_member(el, "count") == NULL ||
			    sl_json_member(el, "input") == NULL)
				return sl_tx_fail(x, "", ep, "A variable copy must be an object with a name, a count and an input.");
			rc = sl_tx_var_add(x, name, el, true, ep);
			if (rc == 0)
				rc = sl_tx_var_syntax(x, el, ep, name);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int
sl_tx_var_resolve(struct sl_tx *x, struct sl_tx_var *v, uint32_t depth)
{
	struct sl_arm_fault f = {.pos = 1};
	struct sl_arm_ctx ctx;
	int rc = 0;

	sl_tx_ctx(x, &ctx, depth);
	if (!v->copy) {
		v->value = sl_tx_walk(x, &ctx, v->decl, v->path, v->name, 0, &rc);
		return v->value != NULL ? 0 : rc;
	}
	/* a variable copy is a property copy into an object of its own */
	v->value = sl_arm_new_container(&ctx, true, &f);
	if (v->value == NULL)
		return sl_tx_fault(x, &f, v->name, v->path);
	rc = sl_tx_prop_copy(x, &ctx, v->decl, v->path, v->name, 0, v->value);
	if (rc == 0) {
		cJSON *arr = cJSON_DetachItemViaPointer(v->value, v->value->child);
		cJSON_Delete(v->value);
		v->value = arr;
	}
	return rc;
}

/* ---------------------------------------------------------------- lookups */

/* "a' -> 'b' -> 'a": the names being resolved from `from`, then name. */
static void
sl_tx_chain_text(const struct sl_tx *x, uint32_t from, const char *name, char *buf, size_t len)
{
	size_t off = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = from; i < x->n_chain && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%.40s' -> '", x->chain[i]);
	if (off < len)
		snprintf(buf + off, len - off, "%.40s", name);
}

/* Resolve a parameter or variable found by a lookup, guarding against cycles and depth. */
static int
sl_tx_resolve(struct sl_tx *x, enum sl_arm_ref kind, void *entry, const char *name,
	      enum sl_tx_state *state, uint32_t depth, struct sl_arm_fault *f)
{
	const char *what = kind == SL_ARM_REF_PARAMETER ? "parameter" : "variable";
	char path[SL_JSON_PATH_MAX], chain[300];
	uint32_t i;
	int rc;

	if (*state == SL_TX_RESOLVING) {
		for (i = 0; i < x->n_chain && strcasecmp(x->chain[i], name) != 0; i++)
			;
		sl_tx_chain_text(x, i < x->n_chain ? i : 0, name, chain, sizeof(chain));
		sl_json_path_key(path, kind == SL_ARM_REF_PARAMETER ? "$.parameters" : "$.variables",
				 name);
		f->final = true;
		f->rc = sl_tx_fail(x, name, path, "The template %ss '%s' refer to each other (a cycle).",
				   what, chain);
		return f->rc;
	}
	if (depth > SL_ARM_DEPTH_MAX || x->n_chain >= SL_ARM_DEPTH_MAX) {
		sl_arm_fail(f, f->pos, "Parameters and variables refer to each other deeper than %u levels",
			    SL_ARM_DEPTH_MAX);
		return -EINVAL;
	}
	*state = SL_TX_RESOLVING;
	x->chain[x->n_chain++] = name;
	rc = kind == SL_ARM_REF_PARAMETER ? sl_tx_param_resolve(x, entry, depth) :
					    sl_tx_var_resolve(x, entry, depth);
	x->n_chain--;
	*state = SL_TX_DONE;
	if (rc < 0) {
		f->final = true;
		f->rc = rc;
	}
	return rc;
}

static const cJSON *
sl_tx_lookup(struct sl_arm_ctx *ctx, enum sl_arm_ref kind, const char *name,
	     struct sl_arm_fault *f)
{
	struct sl_tx *x = ctx->opaque;
	uint32_t i;

	if (kind == SL_ARM_REF_PARAMETER) {
		for (i = 0; i < x->n_params; i++) {
			struct sl_tx_param *p = &x->params[i];
			if (strcasecmp(p->name, name) != 0)
				continue;
			if (p->state != SL_TX_DONE &&
			    sl_tx_resolve(x, kind, p, p->name, &p->state, ctx->depth + 1, f) < 0)
				return NULL;
			return p->value;
		}
		sl_arm_fail(f, f->pos, "The template parameter '%.100s' is not found", name);
		return NULL;
	}
	for (i = 0; i < x->n_vars; i++) {
		struct sl_tx_var *v = &x->vars[i];
		if (strcasecmp(v->name, name) != 0)
			continue;
		if (v->state != SL_TX_DONE &&
		    sl_tx_resolve(x, kind, v, v->name, &v->state, ctx->depth + 1, f) < 0)
			return NULL;
		return v->value;
	}
	sl_arm_fail(f, f->pos, "The template variable '%.100s' is not found", name);
	return NULL;
}

/* Resolve every parameter and variable (ARM checks them all, used or not). */
static int
sl_tx_resolve_all(struct sl_tx *x)
{
	struct sl_arm_fault f = {.pos = 1};
	uint32_t i;
	int rc;

	for (i = 0; i < x->n_params; i++) {
		if (x->params[i].state == SL_TX_DONE)
			continue;
		rc = sl_tx_resolve(x, SL_ARM_REF_PARAMETER, &x->params[i], x->params[i].name,
				   &x->params[i].state, 0, &f);
		if (rc < 0)
			return f.final ? rc : sl_tx_fault(x, &f, x->params[i].name, "$.parameters");
	}
	for (i = 0; i < x->n_vars; i++) {
		if (x->vars[i].state == SL_TX_DONE)
			continue;
		rc = sl_tx_resolve(x, SL_ARM_REF_VARIABLE, &x->vars[i], x->vars[i].name,
				   &x->vars[i].state, 0, &f);
		if (rc < 0)
			return f.final ? rc : sl_tx_fault(x, &f, x->vars[i].name, x->vars[i].path);
	}
	return 0;
}

/* ---------------------------------------------------------------- resources */

/* The number of '/'-separated segments of s. */
static uint32_t
sl_tx_segments(const char *s)
{
	uint32_t n = 1;

	for (; *s != '\0'; s++)
		n += *s == '/';
	return n;
}

/* A member evaluated to a string into buf (len bytes); absent: "" when optional. */
static int
sl_tx_string(struct sl_tx *x, struct sl_arm_ctx *ctx, const cJSON *decl, const char *key,
	     const char *path, const char *target, char *buf, size_t len, bool required)
{
	char p[SL_JSON_PATH_MAX];
	const cJSON *m = sl_json_member(decl, key);
	cJSON *v;
	int rc = 0;

	sl_json_path_key(p, path, key);
	buf[0] = '\0';
	if (m == NULL && !required)
		return 0;
	if (m == NULL)
		return sl_tx_fail(x, target, p, "The resource has no %s.", key);
	v = sl_tx_walk(x, ctx, m, p, target, 0, &rc);
	if (v == NULL)
		return rc;
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= len) {
		cJSON_Delete(v);
		return sl_tx_fail(x, target, p, "The resource's %s must be a string of at most %zu characters.",
				  key, len - 1);
	}
	snprintf(buf, len, "%s", v->valuestring);
	cJSON_Delete(v);
	return 0;
}

/* A nested child's full type and name from its parent's. */
static int
sl_tx_qualify(struct sl_tx *x, const struct sl_tx_parent *parent, struct sl_arm_resource *r,
	      const char *target)
{
	size_t tl = strlen(parent->type), nl = strlen(parent->name);
	char type[SL_ARM_TYPE_MAX], name[SL_ARM_NAME_MAX];
	bool qualified = strchr(r->type, '/') != NULL;

	if (qualified && (strncasecmp(r->type, parent->type, tl) != 0 || r->type[tl] != '/' ||
			  strchr(r->type + tl + 1, '/') != NULL))
		return sl_tx_fail(x, target, r->path,
				  "The nested resource's type '%.100s' is not a child type of its parent's '%.80s'.",
				  r->type, parent->type);
	if (!qualified && snprintf(type, sizeof(type), "%s/%s", parent->type, r->type) >= (int)sizeof(type))
		return sl_tx_fail(x, target, r->path, "The resource type is longer than %u characters.",
				  SL_ARM_TYPE_MAX - 1);
	if (!qualified)
		memcpy(r->type, type, sizeof(type));
	if (strchr(r->name, '/') != NULL) {
		if (strncasecmp(r->name, parent->name, nl) != 0 || r->name[nl] != '/' ||
		    strchr(r->name + nl + 1, '/') != NULL)
			return sl_tx_fail(x, target, r->path,
					  "The nested resource's name '%.100s' is not a child name of its parent's '%.80s'.",
					  r->name, parent->name);
		return 0;
	}
	if (snprintf(name, sizeof(name), "%s/%s", parent->name, r->name) >= (int)sizeof(name))
		return sl_tx_fail(x, target, r->path, "The resource name is longer than %u characters.",
				  SL_ARM_NAME_MAX - 1);
	memcpy(r->name, name, sizeof(name));
	return 0;
}

/* The type's and the name's segments agree, and the id is built. */
static int
sl_tx_identify(struct sl_tx *x, struct sl_arm_resource *r, const char *target)
{
	const struct sl_arm_scope *s = sl_arm_scope_or_default(x->scope);
	char *id;
	int rc;

	if (sl_tx_segments(r->type) < 2 || strchr(r->type, '.') == NULL ||
	    strchr(r->type, '.') > strchr(r->type, '/'))
		return sl_tx_fail(x, target, r->path,
				  "The resource type '%.100s' is not valid: it must be 'Namespace/type[/childType...]'.",
				  r->type);
	if (sl_tx_segments(r->type) != sl_tx_segments(r->name) + 1)
		return sl_tx_fail(x, target, r->path,
				  "The template resource '%.100s' for type '%.100s' has incorrect segment lengths. "
				  "A nested resource type must have identical number of segments as its resource name. "
				  "A root resource type must have segment length one greater than its resource name.",
				  r->name, r->type);
	id = sl_arm_format_id(s->subscription, s->resource_group, r->type, r->name, &rc);
	if (id == NULL && rc == -ENOMEM)
		return sl_tx_nomem(x, target, r->path);
	if (id == NULL)
		return sl_tx_fail(x, target, r->path, "The resource name '%.100s' has an empty segment.",
				  r->name);
	if (strlen(id) >= sizeof(r->id)) {
		free(id);
		return sl_tx_fail(x, target, r->path, "The resource id is longer than %u characters.",
				  SL_ARM_ID_MAX - 1);
	}
	snprintf(r->id, sizeof(r->id), "%s", id);
	free(id);
	return 0;
}

/*
 * A resource left out keeps an id for dependsOn to name it by: its id when
 * its type and name make one (unchecked otherwise: nothing is deployed),
 * else "type/name".
 */
static void
sl_tx_skipped_id(struct sl_tx *x, struct sl_arm_resource *r, const char *target)
{
	const struct sl_arm_scope *s = sl_arm_scope_or_default(x->scope);
	char *id;
	int rc;

	id = sl_arm_format_id(s->subscription, s->resource_group, r->type, r->name, &rc);
	snprintf(r->id, sizeof(r->id), "%s", id != NULL && strlen(id) < sizeof(r->id) ? id : target);
	free(id);
}

/* The resource's members but those the expansion consumes, evaluated; "name" its last segment. */
static int
sl_tx_body(struct sl_tx *x, struct sl_arm_ctx *ctx, const cJSON *decl, struct sl_arm_resource *r,
	   const char *target)
{
	static const char *const consumed[] = {"type", "apiVersion", "dependsOn", "copy",
					       "condition", "comments", "resources", "name", NULL};
	struct sl_arm_fault f = {.pos = 1};
	char p[SL_JSON_PATH_MAX];
	const cJSON *m;
	cJSON *v;
	size_t k;
	int rc = 0;

	r->body = sl_arm_new_container(ctx, true, &f);
	if (r->body == NULL)
		return sl_tx_fault(x, &f, target, r->path);
	v = sl_arm_new_string(ctx, strrchr(r->name, '/') != NULL ? strrchr(r->name, '/') + 1 : r->name,
			      strlen(strrchr(r->name, '/') != NULL ? strrchr(r->name, '/') + 1 : r->name), &f);
	if (v == NULL)
		return sl_tx_fault(x, &f, target, r->path);
	cJSON_AddItemToObject(r->body, "name", v);
	cJSON_ArrayForEach(m, decl) {
		for (k = 0; consumed[k] != NULL && strcasecmp(consumed[k], m->string) != 0; k++)
			;
		if (consumed[k] != NULL)
			continue;
		sl_json_path_key(p, r->path, m->string); /* members are unique: sl_tx_unique_members() */
		v = sl_tx_walk(x, ctx, m, p, target, 1, &rc);
		if (v == NULL)
			return rc;
		cJSON_AddItemToObject(r->body, m->string, v);
	}
	return 0;
}

/* dependsOn, evaluated to a list of strings. */
static int
sl_tx_depends(struct sl_tx *x, struct sl_arm_ctx *ctx, const cJSON *decl, struct sl_tx_inst *in,
	      const char *target)
{
	const cJSON *d = sl_json_member(decl, "dependsOn"), *e;
	char p[SL_JSON_PATH_MAX];
	int rc = 0;

	sl_json_path_key(p, in->r.path, "dependsOn");
	if (d == NULL)
		return 0;
	if (!cJSON_IsArray(d))
		return sl_tx_fail(x, target, p, "The resource's dependsOn must be an array of strings.");
	in->depends = sl_tx_walk(x, ctx, d, p, target, 0, &rc);
	if (in->depends == NULL)
		return rc;
	cJSON_ArrayForEach(e, in->depends)
		if (!cJSON_IsString(e))
			return sl_tx_fail(x, target, p, "The resource's dependsOn must be an array of strings (one is of type '%s').",
					  sl_arm_type_name(e));
	return 0;
}

static struct sl_tx_inst *
sl_tx_inst_new(struct sl_tx *x, const char *path)
{
	struct sl_tx_inst *grown;
	uint32_t cap;

	if (x->n_inst >= SL_ARM_RESOURCES_MAX) {
		sl_tx_fail(x, "", path, "The template expands to more than %u resources.",
			   SL_ARM_RESOURCES_MAX);
		return NULL;
	}
	if (x->n_inst == x->cap_inst) {
		cap = x->cap_inst == 0 ? 16 : x->cap_inst * 2;
		grown = realloc(x->inst, cap * sizeof(*grown));
		if (grown == NULL) {
			sl_tx_nomem(x, "", path);
			return NULL;
		}
		x->inst = grown;
		x->cap_inst = cap;
	}
	grown = &x->inst[x->n_inst++];
	memset(grown, 0, sizeof(*grown));
	grown->loop = -1;
	grown->r.copy_index = -1;
	snprintf(grown->r.path, sizeof(grown->r.path), "%s", path);
	return grown;
}

static int sl_tx_resource_list(struct sl_tx *x, const cJSON *list, const char *path,
			       const struct sl_tx_parent *parent);

/* "condition": true when absent; a boolean or an expression of one. */
static int
sl_tx_condition(struct sl_tx *x, struct sl_arm_ctx *ctx, const cJSON *decl, const char *path,
		const char *target, bool *yes)
{
	const cJSON *m = sl_json_member(decl, "condition");
	char p[SL_JSON_PATH_MAX];
	cJSON *v;
	int rc = 0;

	*yes = true;
	if (m == NULL)
		return 0;
	sl_json_path_key(p, path, "condition");
	v = sl_tx_walk(x, ctx, m, p, target, 0, &rc);
	if (v == NULL)
		return rc;
	if (!cJSON_IsBool(v)) {
		rc = sl_tx_fail(x, target, p, "The resource's condition must be a boolean; it is of type '%s'.",
				sl_arm_type_name(v));
		cJSON_Delete(v);
		return rc;
	}
	*yes = cJSON_IsTrue(v);
	cJSON_Delete(v);
	return 0;
}

/* A member declared twice (case-insensitively) in obj: the template's error. */
static int
sl_tx_unique_members(struct sl_tx *x, const cJSON *obj, const char *path)
{
	const char *dup = NULL;
	char p[SL_JSON_PATH_MAX];
	bool nomem;

	dup = sl_tx_dup_name(obj, false, &nomem);
	if (nomem)
		return sl_tx_nomem(x, "", path);
	if (dup == NULL)
		return 0;
	sl_json_path_key(p, path, dup);
	return sl_tx_fail(x, "", p, "The property '%.100s' is set twice.", dup);
}

/* One instance of declaration decl (in loop `loop` at index, or none), and its nested children. */
static int
sl_tx_instance(struct sl_tx *x, const cJSON *decl, const char *path,
	       const struct sl_tx_parent *parent, int32_t loop, int64_t index)
{
	struct sl_tx_parent me = {0};
	char target[SL_ARM_TYPE_MAX + SL_ARM_NAME_MAX + 1], p[SL_JSON_PATH_MAX];
	char type[SL_ARM_TYPE_MAX], name[SL_ARM_NAME_MAX];
	struct sl_arm_ctx ctx;
	struct sl_tx_inst *in;
	uint32_t i;
	bool yes;
	int rc;

	in = sl_tx_inst_new(x, path);
	if (in == NULL)
		return -EINVAL;
	sl_tx_ctx(x, &ctx, 0);
	for (i = 0; parent != NULL && i < parent->n_loops; i++)
		ctx.loops[ctx.n_loops++] = parent->loops[i];
	if (loop >= 0) {
		rc = sl_tx_push_loop(x, &ctx, x->loops[loop].name, index, true, path, path);
		if (rc < 0)
			return rc;
		in->loop = loop;
		in->r.copy_index = (int)index;
	}
	snprintf(target, sizeof(target), "%s", path);
	rc = sl_tx_string(x, &ctx, decl, "type", path, target, in->r.type, sizeof(in->r.type), true);
	if (rc == 0)
		rc = sl_tx_string(x, &ctx, decl, "name", path, in->r.type, in->r.name,
				  sizeof(in->r.name), true);
	if (rc == 0 && parent != NULL)
		rc = sl_tx_qualify(x, parent, &in->r, in->r.type);
	if (rc < 0)
		return rc;
	snprintf(target, sizeof(target), "%s/%s", in->r.type, in->r.name);
	rc = sl_tx_condition(x, &ctx, decl, path, target, &yes);
	if (rc < 0)
		return rc;
	in->skipped = !yes || (parent != NULL && parent->skipped);
	rc = sl_tx_string(x, &ctx, decl, "apiVersion", path, target, in->r.api_version,
			  sizeof(in->r.api_version), false);
	if (rc == 0 && !in->skipped)
		rc = sl_tx_identify(x, &in->r, target);
	if (rc == 0 && !in->skipped)
		rc = sl_tx_body(x, &ctx, decl, &in->r, target);
	if (rc == 0 && !in->skipped)
		rc = sl_tx_depends(x, &ctx, decl, in, target);
	if (rc < 0)
		return rc;
	if (in->skipped)
		sl_tx_skipped_id(x, &in->r, target);
	/* Copies: the children's instances grow x->inst, which moves `in`. */
	snprintf(type, sizeof(type), "%s", in->r.type);
	snprintf(name, sizeof(name), "%s", in->r.name);
	me.type = type;
	me.name = name;
	me.loops = ctx.loops;
	me.n_loops = ctx.n_loops;
	me.skipped = in->skipped;
	me.depth = parent != NULL ? parent->depth + 1 : 1;
	sl_json_path_key(p, path, "resources");
	return sl_tx_resource_list(x, sl_json_member(decl, "resources"), p, &me);
}

/* A resource's "copy": its loop registered (a name used once); *count its instances. */
static int
sl_tx_copy(struct sl_tx *x, const cJSON *copy, const char *path, int32_t *loop, int64_t *count)
{
	const char *name = sl_json_member_string(copy, "name"), *mode;
	char p[SL_JSON_PATH_MAX];
	struct sl_tx_loop *grown;
	struct sl_arm_ctx ctx;
	int64_t batch = 0;
	uint32_t i;
	int rc;

	sl_json_path_key(p, path, "copy");
	if (!cJSON_IsObject(copy) || name == NULL || *name == '\0' ||
	    sl_json_member(copy, "count") == NULL)
		return sl_tx_fail(x, "", p, "A resource's copy must be an object with a name and a count.");
	for (i = 0; i < x->n_loops; i++)
		if (strcasecmp(x->loops[i].name, name) == 0)
			return sl_tx_fail(x, name, p, "The copy loop name '%.100s' is used twice.", name);
	sl_tx_ctx(x, &ctx, 0);
	rc = sl_tx_count(x, &ctx, copy, p, name, count);
	if (rc < 0)
		return rc;
	mode = sl_json_member_string(copy, "mode");
	if (mode != NULL && strcasecmp(mode, "serial") != 0 && strcasecmp(mode, "parallel") != 0)
		return sl_tx_fail(x, name, p, "The copy mode must be 'Serial' or 'Parallel'.");
	if (mode != NULL && strcasecmp(mode, "serial") == 0) {
		batch = 1;
		if (sl_json_member(copy, "batchSize") != NULL &&
		    (!sl_arm_int_of(sl_json_member(copy, "batchSize"), &batch) || batch < 1 ||
		     batch > SL_ARM_COPY_MAX))
			return sl_tx_fail(x, name, p, "The copy batchSize must be an integer from 1 to %u.",
					  SL_ARM_COPY_MAX);
	}
	if (x->n_loops == x->cap_loops) {
		grown = realloc(x->loops, (x->cap_loops * 2 + 4) * sizeof(*grown));
		if (grown == NULL)
			return sl_tx_nomem(x, name, p);
		x->loops = grown;
		x->cap_loops = x->cap_loops * 2 + 4;
	}
	x->loops[x->n_loops] = (struct sl_tx_loop){name, batch};
	*loop = (int32_t)x->n_loops++;
	return 0;
}

static int
sl_tx_resource_list(struct sl_tx *x, const cJSON *list, const char *path,
		    const struct sl_tx_parent *parent)
{
	char p[SL_JSON_PATH_MAX];
	const cJSON *decl, *copy;
	int64_t count, k;
	int32_t loop;
	uint32_t i = 0;
	int rc;

	if (list == NULL)
		return 0;
	if (!cJSON_IsArray(list))
		return sl_tx_fail(x, "", path, "The resources must be an array.");
	if (parent != NULL && parent->depth > SL_ARM_NEST_MAX)
		return sl_tx_fail(x, "", path, "Resources nest deeper than %u levels.",
				  SL_ARM_NEST_MAX);
	cJSON_ArrayForEach(decl, list) {
		sl_json_path_index(p, path, i++);
		if (!cJSON_IsObject(decl))
			return sl_tx_fail(x, "", p, "A resource must be an object.");
		rc = sl_tx_unique_members(x, decl, p);
		if (rc < 0)
			return rc;
		copy = sl_json_member(decl, "copy");
		if (copy == NULL) {
			rc = sl_tx_instance(x, decl, p, parent, -1, 0);
			if (rc < 0)
				return rc;
			continue;
		}
		if (parent != NULL)
			return sl_tx_fail(x, "", p, "A nested resource cannot have a copy loop: declare it at the top level with its full type and name.");
		rc = sl_tx_copy(x, copy, p, &loop, &count);
		for (k = 0; rc == 0 && k < count; k++)
			rc = sl_tx_instance(x, decl, p, parent, loop, k);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- dependencies */

static int
sl_tx_edge(struct sl_tx *x, struct sl_tx_inst *in, uint32_t dep)
{
	uint32_t *grown, cap;

	if (++x->n_edges > SL_ARM_EDGES_MAX)
		return sl_tx_fail(x, in->r.id, in->r.path,
				  "The template's resources have more than %u dependencies.",
				  SL_ARM_EDGES_MAX);
	if (in->n_deps == in->cap_deps) {
		cap = in->cap_deps == 0 ? 4 : in->cap_deps * 2;
		grown = realloc(in->deps, cap * sizeof(*grown));
		if (grown == NULL)
			return sl_tx_nomem(x, in->r.id, in->r.path);
		in->deps = grown;
		in->cap_deps = cap;
	}
	in->deps[in->n_deps++] = dep;
	return 0;
}

/* Instance j's keys: id, "type/name", provider-relative id, name, loop. */
static int
sl_tx_index_inst(struct sl_tx_index *ix, const struct sl_tx *x, uint32_t j)
{
	const struct sl_tx_inst *in = &x->inst[j];
	char tn[SL_ARM_TYPE_MAX + SL_ARM_NAME_MAX + 1];
	const char *prov = strstr(in->r.id, "/providers/");
	int rc;

	snprintf(tn, sizeof(tn), "%s/%s", in->r.type, in->r.name);
	rc = sl_tx_index_add(ix, in->r.id, j);
	if (rc == 0)
		rc = sl_tx_index_add(ix, tn, j);
	if (rc == 0 && prov != NULL)
		rc = sl_tx_index_add(ix, prov + strlen("/providers/"), j);
	if (rc == 0)
		rc = sl_tx_index_add(ix, in->r.name, j);
	if (rc == 0 && in->loop >= 0)
		rc = sl_tx_index_add(ix, x->loops[in->loop].name, j);
	return rc;
}

static int
sl_tx_index_build(struct sl_tx *x, struct sl_tx_index *ix)
{
	uint32_t j;

	for (ix->n_buckets = 64; ix->n_buckets < 8 * x->n_inst; ix->n_buckets *= 2)
		;
	ix->buckets = calloc(ix->n_buckets, sizeof(*ix->buckets));
	if (ix->buckets == NULL)
		return sl_tx_nomem(x, "", "$.resources");
	for (j = 0; j < x->n_inst; j++)
		if (sl_tx_index_inst(ix, x, j) < 0)
			return sl_tx_nomem(x, "", "$.resources");
	return 0;
}

/*
 * The edges of instance i's dependsOn, each dependency once (mark[j] ==
 * i + 1 once j is one); a name matching nothing is an error.
 */
static int
sl_tx_resolve_depends(struct sl_tx *x, const struct sl_tx_index *ix, uint32_t i, uint32_t *mark)
{
	struct sl_tx_inst *in = &x->inst[i];
	char dp[SL_JSON_PATH_MAX], p[SL_JSON_PATH_MAX];
	char target[SL_ARM_TYPE_MAX + SL_ARM_NAME_MAX + 1];
	const struct sl_tx_key *key;
	const cJSON *d;
	uint32_t j, h, k = 0;
	int rc;

	snprintf(target, sizeof(target), "%s/%s", in->r.type, in->r.name);
	sl_json_path_key(dp, in->r.path, "dependsOn");
	cJSON_ArrayForEach(d, in->depends) {
		sl_json_path_index(p, dp, k++);
		key = sl_tx_index_find(ix, d->valuestring);
		if (key == NULL)
			return sl_tx_fail(x, target, p, "The resource '%.200s' is not defined in the template.",
					  d->valuestring);
		if (key->n == 1 && key->inst[0] == i)
			return sl_tx_fail(x, target, p, "Circular dependency detected on resource: '%.200s' depends on itself.",
					  target);
		for (h = 0; h < key->n; h++) {
			j = key->inst[h];
			if (j == i || x->inst[j].skipped || mark[j] == i + 1)
				continue;
			mark[j] = i + 1;
			rc = sl_tx_edge(x, in, j);
			if (rc < 0)
				return rc;
		}
	}
	in->n_explicit = in->n_deps;
	return 0;
}

/* Every deployed instance's dependsOn, through one index. */
static int
sl_tx_resolve_all_depends(struct sl_tx *x)
{
	struct sl_tx_index ix = {0};
	uint32_t *mark, i;
	int rc;

	mark = calloc(x->n_inst + 1, sizeof(*mark));
	if (mark == NULL)
		return sl_tx_nomem(x, "", "$.resources");
	rc = sl_tx_index_build(x, &ix);
	for (i = 0; rc == 0 && i < x->n_inst; i++)
		if (!x->inst[i].skipped)
			rc = sl_tx_resolve_depends(x, &ix, i, mark);
	sl_tx_index_free(&ix);
	free(mark);
	return rc;
}

static int
sl_tx_id_cmp(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

/* A deployed instance's index by id (case-insensitively) among the n sorted ids, -1 when none. */
static int64_t
sl_tx_find_id(const struct sl_tx *x, const char **ids, uint32_t n, const char *id)
{
	const char **hit = bsearch(&id, ids, n, sizeof(*ids), sl_tx_id_cmp);

	if (hit == NULL)
		return -1;
	/* each id is the r.id of an instance of x->inst */
	return (int64_t)(((const char *)*hit - (const char *)x->inst[0].r.id) /
			 (ptrdiff_t)sizeof(struct sl_tx_inst));
}

/* A child waits for its parent when the parent is deployed from the template too. */
static int
sl_tx_parent_edges(struct sl_tx *x, const char **ids, uint32_t n)
{
	char pid[SL_ARM_ID_MAX];
	struct sl_tx_inst *in;
	int64_t j;
	uint32_t i;
	char *cut;
	int rc;

	for (i = 0; i < x->n_inst; i++) {
		in = &x->inst[i];
		if (in->skipped || strchr(in->r.name, '/') == NULL)
			continue;
		snprintf(pid, sizeof(pid), "%s", in->r.id);
		for (int s = 0; s < 2 && (cut = strrchr(pid, '/')) != NULL; s++)
			*cut = '\0';
		j = sl_tx_find_id(x, ids, n, pid);
		if (j >= 0 && !x->inst[j].skipped) {
			rc = sl_tx_edge(x, in, (uint32_t)j);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/*
 * In a serial copy loop, each batch waits for the one before. The deployed
 * instances are grouped by loop first (by[start[l]..start[l + 1]), in
 * declaration order), so the cost is the edges made, not instances squared.
 */
static int
sl_tx_serial_edges(struct sl_tx *x)
{
	uint32_t *start, *by, i, k, l;
	struct sl_tx_inst *in, *o;
	int64_t batch;
	int rc = 0;

	start = calloc(x->n_loops + 2, sizeof(*start));
	by = calloc(x->n_inst + 1, sizeof(*by));
	if (start == NULL || by == NULL) {
		rc = sl_tx_nomem(x, "", "$.resources");
		goto out;
	}
	for (i = 0; i < x->n_inst; i++)
		if (!x->inst[i].skipped && x->inst[i].loop >= 0)
			start[x->inst[i].loop + 2]++;
	for (l = 0; l < x->n_loops; l++)
		start[l + 2] += start[l + 1];
	for (i = 0; i < x->n_inst; i++)
		if (!x->inst[i].skipped && x->inst[i].loop >= 0)
			by[start[x->inst[i].loop + 1]++] = i;
	for (i = 0; rc == 0 && i < x->n_inst; i++) {
		in = &x->inst[i];
		if (in->skipped || in->loop < 0 || x->loops[in->loop].batch == 0)
			continue;
		batch = x->loops[in->loop].batch;
		for (k = start[in->loop]; rc == 0 && k < start[in->loop + 1]; k++) {
			o = &x->inst[by[k]];
			if (o->r.copy_index / batch + 1 == in->r.copy_index / batch)
				rc = sl_tx_edge(x, in, by[k]);
		}
	}
out:
	free(start);
	free(by);
	return rc;
}

/* Two deployed instances with one id; ids sorted. */
static int
sl_tx_duplicates(struct sl_tx *x, const char **ids, uint32_t n)
{
	uint32_t i;
	int64_t j;

	for (i = 1; i < n; i++) {
		if (strcasecmp(ids[i - 1], ids[i]) != 0)
			continue;
		j = sl_tx_find_id(x, ids, n, ids[i]);
		return sl_tx_fail(x, ids[i], j >= 0 ? x->inst[j].r.path : "$.resources",
				  "The resource '%.300s' is defined more than once in the template.",
				  ids[i]);
	}
	return 0;
}

/* ---------------------------------------------------------------- order */

/* A min-heap of instance indexes: the ready resource declared first goes first. */
struct sl_tx_heap {
	uint32_t *a;
	uint32_t n;
};

static void
sl_tx_heap_push(struct sl_tx_heap *h, uint32_t v)
{
	uint32_t i = h->n++, up;

	while (i > 0 && h->a[up = (i - 1) / 2] > v) {
		h->a[i] = h->a[up];
		i = up;
	}
	h->a[i] = v;
}

static uint32_t
sl_tx_heap_pop(struct sl_tx_heap *h)
{
	uint32_t top = h->a[0], v = h->a[--h->n], i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->a[c + 1] < h->a[c])
			c++;
		if (h->a[c] >= v)
			break;
		h->a[i] = h->a[c];
		i = c;
	}
	if (h->n > 0)
		h->a[i] = v;
	return top;
}

/* A cycle among the instances left (pending > 0): its names, for the error. */
static int
sl_tx_cycle(struct sl_tx *x, const uint32_t *pending)
{
	char msg[400], target[SL_ARM_TYPE_MAX + SL_ARM_NAME_MAX + 1], *seen;
	size_t off = 0;
	uint32_t v, k, start;

	seen = calloc(x->n_inst, 1);
	if (seen == NULL)
		return sl_tx_nomem(x, "", "$.resources");
	for (v = 0; pending[v] == 0 || x->inst[v].skipped; v++)
		;
	while (!seen[v]) { /* every instance left waits for another left */
		seen[v] = 1;
		for (k = 0; k < x->inst[v].n_deps && pending[x->inst[v].deps[k]] == 0; k++)
			;
		v = x->inst[v].deps[k];
	}
	start = v;
	msg[0] = '\0';
	do {
		off += (size_t)snprintf(msg + off, off < sizeof(msg) ? sizeof(msg) - off : 0,
					"%s'%.60s/%.60s'", off > 0 ? ", " : "", x->inst[v].r.type,
					x->inst[v].r.name);
		for (k = 0; k < x->inst[v].n_deps && pending[x->inst[v].deps[k]] == 0; k++)
			;
		v = x->inst[v].deps[k];
	} while (v != start && off < sizeof(msg));
	free(seen);
	snprintf(target, sizeof(target), "%s/%s", x->inst[start].r.type, x->inst[start].r.name);
	return sl_tx_fail(x, target, x->inst[start].r.path,
			  "Circular dependency detected on resources: %s.", msg);
}

/*
 * Each deployed resource's explicit dependencies as indexes into
 * out->resources (pos: an instance's index there), each once.
 */
static int
sl_tx_depends_on(struct sl_tx *x, struct sl_arm_expansion *out, const uint32_t *pos)
{
	struct sl_arm_resource *r;
	struct sl_tx_inst *in;
	uint32_t *seen, i, k, d;

	seen = calloc(out->n_resources + 1, sizeof(*seen));
	if (seen == NULL)
		return sl_tx_nomem(x, "", "$.resources");
	for (i = 0; i < x->n_inst; i++) {
		in = &x->inst[i];
		if (in->skipped || in->n_explicit == 0)
			continue;
		r = &out->resources[pos[i]];
		r->depends_on = malloc(in->n_explicit * sizeof(*r->depends_on));
		if (r->depends_on == NULL) {
			free(seen);
			return sl_tx_nomem(x, r->id, r->path);
		}
		for (k = 0; k < in->n_explicit; k++) {
			d = pos[in->deps[k]];
			if (seen[d] == i + 1)
				continue;
			seen[d] = i + 1;
			r->depends_on[r->n_depends_on++] = d;
		}
	}
	free(seen);
	return 0;
}

/* The deployed instances in dependency order, into out->resources. */
static int
sl_tx_order(struct sl_tx *x, struct sl_arm_expansion *out)
{
	uint32_t *pending, *start, *users, *pos, i, k, v, n = 0, done = 0;
	struct sl_tx_heap heap;
	int rc = 0;

	pos = calloc(x->n_inst + 1, sizeof(*pos));
	pending = calloc(x->n_inst + 1, sizeof(*pending));
	start = calloc(x->n_inst + 2, sizeof(*start));
	users = calloc(x->n_edges + 1, sizeof(*users));
	heap.a = calloc(x->n_inst + 1, sizeof(*heap.a));
	heap.n = 0;
	out->resources = calloc(x->n_inst + 1, sizeof(*out->resources));
	if (pos == NULL || pending == NULL || start == NULL || users == NULL || heap.a == NULL ||
	    out->resources == NULL) {
		rc = sl_tx_nomem(x, "", "$.resources");
		goto out;
	}
	/* users of each instance, as one array: start[v]..start[v + 1] */
	for (i = 0; i < x->n_inst; i++)
		for (k = 0; k < x->inst[i].n_deps; k++)
			start[x->inst[i].deps[k] + 2]++;
	for (i = 0; i < x->n_inst; i++)
		start[i + 2] += start[i + 1];
	for (i = 0; i < x->n_inst; i++) {
		pending[i] = x->inst[i].n_deps;
		n += !x->inst[i].skipped;
		for (k = 0; k < x->inst[i].n_deps; k++)
			users[start[x->inst[i].deps[k] + 1]++] = i;
		if (!x->inst[i].skipped && pending[i] == 0)
			sl_tx_heap_push(&heap, i);
	}
	while (heap.n > 0) {
		v = sl_tx_heap_pop(&heap);
		pos[v] = done;
		out->resources[done++] = x->inst[v].r;
		x->inst[v].r.body = NULL; /* now the expansion's */
		for (k = start[v]; k < start[v + 1]; k++)
			if (--pending[users[k]] == 0)
				sl_tx_heap_push(&heap, users[k]);
	}
	out->n_resources = done;
	rc = done < n ? sl_tx_cycle(x, pending) : sl_tx_depends_on(x, out, pos);
out:
	free(pos);
	free(pending);
	free(start);
	free(users);
	free(heap.a);
	return rc;
}

static int
sl_tx_dependencies(struct sl_tx *x, struct sl_arm_expansion *out)
{
	const char **ids;
	uint32_t i, n = 0;
	int rc = 0;

	ids = calloc(x->n_inst + 1, sizeof(*ids));
	if (ids == NULL)
		return sl_tx_nomem(x, "", "$.resources");
	for (i = 0; i < x->n_inst; i++)
		if (!x->inst[i].skipped)
			ids[n++] = x->inst[i].r.id;
	qsort(ids, n, sizeof(*ids), sl_tx_id_cmp);
	rc = sl_tx_duplicates(x, ids, n);
	if (rc == 0)
		rc = sl_tx_resolve_all_depends(x);
	if (rc == 0)
		rc = sl_tx_parent_edges(x, ids, n);
	if (rc == 0)
		rc = sl_tx_serial_edges(x);
	free(ids);
	return rc < 0 ? rc : sl_tx_order(x, out);
}

/* ---------------------------------------------------------------- outputs */

static int
sl_tx_output(struct sl_tx *x, const cJSON *o, cJSON *outs)
{
	const cJSON *copy = sl_json_member(o, "copy");
	char path[SL_JSON_PATH_MAX], p[SL_JSON_PATH_MAX], ip[SL_JSON_PATH_MAX];
	struct sl_arm_fault f = {.pos = 1};
	struct sl_arm_ctx ctx;
	const char *type;
	cJSON *entry, *v;
	int64_t count, i;
	int rc = 0;
	bool yes;

	sl_json_path_key(path, "$.outputs", o->string);
	if (!cJSON_IsObject(o))
		return sl_tx_fail(x, o->string, path, "The template output '%.100s' must be an object with a type and a value.",
				  o->string);
	type = sl_tx_type(sl_json_member_string(o, "type"));
	if (type == NULL)
		return sl_tx_fail(x, o->string, path, "The template output '%.100s' has no valid type.",
				  o->string);
	sl_tx_ctx(x, &ctx, 0);
	rc = sl_tx_condition(x, &ctx, o, path, o->string, &yes);
	if (rc < 0 || !yes)
		return rc;
	if (copy != NULL) {
		sl_json_path_key(p, path, "copy");
		if (!cJSON_IsObject(copy) || sl_json_member(copy, "count") == NULL ||
		    sl_json_member(copy, "input") == NULL)
			return sl_tx_fail(x, o->string, p, "An output's copy must be an object with a count and an input.");
		rc = sl_tx_count(x, &ctx, copy, p, o->string, &count);
		v = rc < 0 ? NULL : sl_arm_new_container(&ctx, false, &f);
		if (v == NULL)
			return rc < 0 ? rc : sl_tx_fault(x, &f, o->string, p);
		sl_json_path_key(ip, p, "input");
		for (i = 0; i < count; i++) {
			ctx.n_loops = 0;
			sl_tx_push_loop(x, &ctx, o->string, i, true, o->string, ip);
			entry = sl_tx_walk(x, &ctx, sl_json_member(copy, "input"), ip, o->string, 0, &rc);
			if (entry == NULL) {
				cJSON_Delete(v);
				return rc;
			}
			cJSON_AddItemToArray(v, entry);
		}
	} else {
		sl_json_path_key(p, path, "value");
		if (cJSON_GetObjectItem(o, "value") == NULL)
			return sl_tx_fail(x, o->string, path, "The template output '%.100s' has no value.",
					  o->string);
		v = sl_tx_walk(x, &ctx, cJSON_GetObjectItem(o, "value"), p, o->string, 0, &rc);
		if (v == NULL)
			return rc;
	}
	if (!sl_tx_type_ok(type, v)) {
		rc = sl_tx_fail(x, o->string, path,
				"The template output '%.100s' is not valid: expected a value of type '%s', got one of type '%s'.",
				o->string, sl_tx_expected(type), sl_arm_type_name(v));
		cJSON_Delete(v);
		return rc;
	}
	entry = cJSON_AddObjectToObject(outs, o->string);
	if (entry == NULL || cJSON_AddStringToObject(entry, "type", type) == NULL) {
		cJSON_Delete(v);
		return sl_tx_nomem(x, o->string, path);
	}
	if (strncmp(type, "Secure", 6) == 0)
		cJSON_Delete(v); /* never echoed */
	else
		cJSON_AddItemToObject(entry, "value", v);
	return 0;
}

static int
sl_tx_outputs(struct sl_tx *x, struct sl_arm_expansion *out)
{
	const cJSON *outs = sl_json_member(x->tmpl, "outputs"), *o;
	int rc;

	char path[SL_JSON_PATH_MAX];
	const char *dup;
	bool nomem;

	if (outs != NULL && !cJSON_IsObject(outs))
		return sl_tx_fail(x, "", "$.outputs", "The template's outputs must be an object.");
	dup = sl_tx_dup_name(outs, false, &nomem);
	if (nomem)
		return sl_tx_nomem(x, "", "$.outputs");
	if (dup != NULL) {
		sl_json_path_key(path, "$.outputs", dup);
		return sl_tx_fail(x, dup, path, "The template output '%.100s' is declared twice (output names are case-insensitive).", dup);
	}
	out->outputs = cJSON_CreateObject();
	if (out->outputs == NULL)
		return sl_tx_nomem(x, "", "$.outputs");
	cJSON_ArrayForEach(o, outs) {
		rc = sl_tx_output(x, o, out->outputs);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* {"p": {"type": "String", "value": ...}}, secure parameters without their value. */
static int
sl_tx_effective_parameters(struct sl_tx *x, struct sl_arm_expansion *out)
{
	struct sl_tx_param *p;
	cJSON *entry, *v;
	uint32_t i;

	out->parameters = cJSON_CreateObject();
	if (out->parameters == NULL)
		return sl_tx_nomem(x, "", "$.parameters");
	for (i = 0; i < x->n_params; i++) {
		p = &x->params[i];
		entry = cJSON_AddObjectToObject(out->parameters, p->name);
		if (entry == NULL || cJSON_AddStringToObject(entry, "type", p->type) == NULL)
			return sl_tx_nomem(x, p->name, "$.parameters");
		if (p->secure)
			continue;
		v = p->value;
		p->value = NULL;
		cJSON_AddItemToObject(entry, "value", v);
	}
	return 0;
}

/* ---------------------------------------------------------------- secure values */

/* The text of a secure value's strings and numbers, into list. */
static int
sl_tx_secure_collect(const cJSON *v, cJSON *list)
{
	char num[40];
	const cJSON *c;
	int64_t i;

	if (cJSON_IsString(v) && v->valuestring[0] != '\0')
		return cJSON_AddItemToArray(list, cJSON_CreateString(v->valuestring)) ? 0 : -ENOMEM;
	if (cJSON_IsNumber(v)) {
		if (sl_arm_int_of(v, &i))
			snprintf(num, sizeof(num), "%" PRId64, i);
		else
			snprintf(num, sizeof(num), "%.17g", v->valuedouble);
		return cJSON_AddItemToArray(list, cJSON_CreateString(num)) ? 0 : -ENOMEM;
	}
	cJSON_ArrayForEach(c, v)
		if (sl_tx_secure_collect(c, list) < 0)
			return -ENOMEM;
	return 0;
}

/* Longest first; equal lengths by their bytes (so that repeats are neighbours). */
static int
sl_tx_longer(const void *a, const void *b)
{
	const char *sa = (*(cJSON *const *)a)->valuestring, *sb = (*(cJSON *const *)b)->valuestring;
	size_t la = strlen(sa), lb = strlen(sb);

	return la > lb ? -1 : la < lb ? 1 : strcmp(sa, sb);
}

/* The secure parameters' text, longest first, each once; NULL when out of memory. */
static cJSON *
sl_tx_secure_values(const struct sl_tx *x)
{
	cJSON *list = cJSON_CreateArray(), **items, *c;
	size_t n, i, kept = 0;
	uint32_t k;

	for (k = 0; list != NULL && k < x->n_params; k++)
		/* a value of the wrong type stopped the expansion with an error that does not show it */
		if (x->params[k].secure && x->params[k].value != NULL &&
		    sl_tx_type_ok(x->params[k].type, x->params[k].value) &&
		    sl_tx_secure_collect(x->params[k].value, list) < 0) {
			cJSON_Delete(list);
			return NULL;
		}
	n = list != NULL ? (size_t)cJSON_GetArraySize(list) : 0;
	if (n < 2)
		return list;
	items = calloc(n, sizeof(*items));
	if (items == NULL) {
		cJSON_Delete(list);
		return NULL;
	}
	for (i = 0, c = list->child; c != NULL; c = c->next)
		items[i++] = c;
	qsort(items, n, sizeof(*items), sl_tx_longer);
	for (i = 0; i < n; i++) { /* relink in order, repeats deleted */
		items[i]->next = items[i]->prev = NULL;
		if (kept > 0 && strcmp(items[kept - 1]->valuestring, items[i]->valuestring) == 0)
			cJSON_Delete(items[i]);
		else
			items[kept++] = items[i];
	}
	list->child = items[0];
	for (i = 0; i < kept; i++) {
		items[i]->prev = i > 0 ? items[i - 1] : items[kept - 1];
		items[i]->next = i + 1 < kept ? items[i + 1] : NULL;
	}
	free(items);
	return list;
}

/* How many bytes of the secure value s match at t (len bytes left) to be redacted; 0: none. */
static size_t
sl_redact_match(const char *t, size_t len, const char *s)
{
	size_t n = 0;

	while (n < len && s[n] != '\0' && t[n] == s[n])
		n++;
	return s[n] == '\0' || n >= SL_ARM_REDACT_PREFIX ? n : 0;
}

/*
 * text (len bytes) with the secure values replaced, a new string; NULL
 * when nothing matched or out of memory (*changed says which). One pass:
 * at each byte the longest value matching there wins, and what was put in
 * is never scanned again.
 */
static char *
sl_redact_dup(const char *text, size_t len, const cJSON *secure, bool *changed)
{
	static const char mark[] = "[secure]";
	bool first[256] = {false};
	size_t i, m, best, off = 0, cap;
	const cJSON *s;
	char *out = NULL, *grown;

	*changed = false;
	cJSON_ArrayForEach(s, secure)
		if (cJSON_IsString(s) && s->valuestring[0] != '\0')
			first[(uint8_t)s->valuestring[0]] = true;
	for (i = 0; i < len;) {
		best = 0;
		if (first[(uint8_t)text[i]])
			cJSON_ArrayForEach(s, secure)
				if (cJSON_IsString(s) && s->valuestring[0] != '\0' &&
				    (m = sl_redact_match(text + i, len - i, s->valuestring)) > best)
					best = m;
		if (best == 0 && out == NULL) {
			i++;
			continue;
		}
		if (out == NULL) { /* the first match: copy what came before */
			cap = len + sizeof(mark) + 64;
			out = malloc(cap);
			if (out == NULL)
				return NULL;
			memcpy(out, text, i);
			off = i;
		}
		if (off + sizeof(mark) + 1 > cap) {
			cap = cap * 2 + sizeof(mark);
			grown = realloc(out, cap);
			if (grown == NULL) {
				free(out);
				return NULL;
			}
			out = grown;
		}
		if (best > 0) {
			memcpy(out + off, mark, sizeof(mark) - 1);
			off += sizeof(mark) - 1;
			i += best;
			*changed = true;
		} else {
			out[off++] = text[i++];
		}
	}
	if (out != NULL)
		out[off] = '\0';
	return out;
}

void
sl_arm_redact(char *text, size_t size, const cJSON *secure_values)
{
	bool changed;
	char *r;

	if (text == NULL || size == 0 || cJSON_GetArraySize(secure_values) == 0)
		return;
	r = sl_redact_dup(text, strnlen(text, size - 1), secure_values, &changed);
	if (r == NULL && changed)
		snprintf(text, size, "[secure]"); /* out of memory: say nothing */
	if (r != NULL)
		snprintf(text, size, "%s", r);
	free(r);
}

void
sl_arm_redact_json(cJSON *v, const cJSON *secure_values)
{
	bool changed;
	cJSON *c;
	char *r;

	if (v == NULL || cJSON_GetArraySize(secure_values) == 0)
		return;
	if (cJSON_IsString(v) && v->valuestring != NULL) {
		r = sl_redact_dup(v->valuestring, strlen(v->valuestring), secure_values, &changed);
		if (changed) {
			free(v->valuestring);
			v->valuestring = r != NULL ? r : strdup("[secure]");
		}
		return;
	}
	cJSON_ArrayForEach(c, v)
		sl_arm_redact_json(c, secure_values);
}

/* The expander's own error, redacted before it is returned. */
static void
sl_tx_redact_error(const struct sl_tx *x)
{
	cJSON *secrets = sl_tx_secure_values(x);
	char code[sizeof(x->err->code)];

	if (secrets == NULL) { /* cannot tell: say nothing that could hold one */
		snprintf(code, sizeof(code), "%s", x->err->code);
		sl_error_set(x->err, code, "", "", "The template could not be expanded (its message could hold a secure value).");
		return;
	}
	sl_arm_redact(x->err->message, sizeof(x->err->message), secrets);
	sl_arm_redact(x->err->target, sizeof(x->err->target), secrets);
	sl_arm_redact(x->err->json_path, sizeof(x->err->json_path), secrets);
	cJSON_Delete(secrets);
}

/* ---------------------------------------------------------------- entry points */

static void
sl_tx_free(struct sl_tx *x)
{
	uint32_t i;

	for (i = 0; i < x->n_params; i++)
		cJSON_Delete(x->params[i].value);
	for (i = 0; i < x->n_vars; i++)
		cJSON_Delete(x->vars[i].value);
	for (i = 0; i < x->n_inst; i++) {
		cJSON_Delete(x->inst[i].r.body);
		cJSON_Delete(x->inst[i].depends);
		free(x->inst[i].deps);
	}
	free(x->params);
	free(x->vars);
	free(x->loops);
	free(x->inst);
}

void
sl_arm_expansion_free(struct sl_arm_expansion *out)
{
	size_t i;

	if (out == NULL)
		return;
	for (i = 0; i < out->n_resources; i++) {
		cJSON_Delete(out->resources[i].body);
		free(out->resources[i].depends_on);
	}
	free(out->resources);
	cJSON_Delete(out->outputs);
	cJSON_Delete(out->parameters);
	cJSON_Delete(out->secure_values);
	memset(out, 0, sizeof(*out));
}

/* The first value in v (a key or a string) that is not valid UTF-8, NULL when none. */
static const cJSON *
sl_tx_bad_utf8(const cJSON *v)
{
	const cJSON *c, *bad;

	if (v == NULL)
		return NULL;
	if (v->string != NULL && !sl_arm_utf8_valid(v->string, strlen(v->string)))
		return v;
	if (cJSON_IsString(v) && !sl_arm_utf8_valid(v->valuestring, strlen(v->valuestring)))
		return v;
	cJSON_ArrayForEach(c, v)
		if ((bad = sl_tx_bad_utf8(c)) != NULL)
			return bad;
	return NULL;
}

/* The template's shape before anything is evaluated. */
static int
sl_tx_check(struct sl_tx *x, const cJSON *parameters)
{
	const cJSON *fns = sl_json_member(x->tmpl, "functions");

	if (!cJSON_IsObject(x->tmpl))
		return sl_tx_fail(x, "", "$", "The template must be a JSON object.");
	if (sl_arm_depth(x->tmpl, SL_ARM_TEMPLATE_DEPTH_MAX) > SL_ARM_TEMPLATE_DEPTH_MAX ||
	    (parameters != NULL &&
	     sl_arm_depth(parameters, SL_ARM_TEMPLATE_DEPTH_MAX) > SL_ARM_TEMPLATE_DEPTH_MAX))
		return sl_tx_fail(x, "", "$", "The template or its parameters nest deeper than %u levels.",
				  SL_ARM_TEMPLATE_DEPTH_MAX);
	if (sl_tx_bad_utf8(x->tmpl) != NULL)
		return sl_tx_fail(x, "", "$", "The template holds text that is not valid UTF-8.");
	if (sl_tx_bad_utf8(parameters) != NULL)
		return sl_tx_fail(x, "", "$.parameters", "The parameter values hold text that is not valid UTF-8.");
	if (fns != NULL && cJSON_GetArraySize(fns) > 0)
		return sl_tx_fail(x, "", "$.functions", "User-defined functions are not supported by sluice.");
	if (!cJSON_IsArray(sl_json_member(x->tmpl, "resources")))
		return sl_tx_fail(x, "", "$.resources", "The template must have a resources array (sluice reads languageVersion 1 templates).");
	x->content_version = sl_json_member_string(x->tmpl, "contentVersion");
	return 0;
}

int
sl_arm_expand(const cJSON *tmpl, const cJSON *parameters, const struct sl_arm_scope *scope,
	      struct sl_arm_expansion *out, struct sl_error *err)
{
	struct sl_error scratch;
	struct sl_tx x = {
		.tmpl = tmpl,
		.scope = sl_arm_scope_or_default(scope),
		.err = err != NULL ? err : &scratch,
		.budget = {SL_ARM_BUDGET_NODES, SL_ARM_BUDGET_BYTES},
	};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sl_tx_check(&x, parameters);
	if (rc == 0)
		rc = sl_tx_params_read(&x, parameters);
	if (rc == 0)
		rc = sl_tx_vars_read(&x);
	if (rc == 0)
		rc = sl_tx_resolve_all(&x);
	if (rc == 0)
		rc = sl_tx_resource_list(&x, sl_json_member(tmpl, "resources"), "$.resources", NULL);
	if (rc == 0)
		rc = sl_tx_dependencies(&x, out);
	if (rc == 0)
		rc = sl_tx_outputs(&x, out);
	if (rc == 0 && (out->secure_values = sl_tx_secure_values(&x)) == NULL)
		rc = sl_tx_nomem(&x, "", "$.parameters");
	if (rc == 0)
		rc = sl_tx_effective_parameters(&x, out);
	if (rc < 0)
		sl_tx_redact_error(&x);
	sl_tx_free(&x);
	if (rc < 0)
		sl_arm_expansion_free(out);
	return rc;
}

/* sl_arm_eval's parameters and variables: plain objects of values. */
struct sl_eval_env {
	const cJSON *parameters;
	const cJSON *variables;
};

static const cJSON *
sl_eval_lookup(struct sl_arm_ctx *ctx, enum sl_arm_ref kind, const char *name,
	       struct sl_arm_fault *f)
{
	const struct sl_eval_env *env = ctx->opaque;
	const cJSON *v = cJSON_GetObjectItem(kind == SL_ARM_REF_PARAMETER ? env->parameters :
									   env->variables,
					     name);

	if (v == NULL)
		sl_arm_fail(f, f->pos, "The template %s '%.100s' is not found",
			    kind == SL_ARM_REF_PARAMETER ? "parameter" : "variable", name);
	return v;
}

cJSON *
sl_arm_eval(const char *text, const cJSON *parameters, const cJSON *variables,
	    const struct sl_arm_scope *scope, struct sl_error *err)
{
	struct sl_arm_budget budget = {SL_ARM_BUDGET_NODES, SL_ARM_BUDGET_BYTES};
	struct sl_eval_env env = {parameters, variables};
	struct sl_error scratch;
	struct sl_arm_ctx ctx = {
		.scope = scope,
		.lookup = sl_eval_lookup,
		.opaque = &env,
		.budget = &budget,
		.err = err != NULL ? err : &scratch,
	};
	int rc;

	if (text == NULL) {
		sl_error_set(ctx.err, "InvalidTemplate", "", "", "No expression.");
		return NULL;
	}
	if (!sl_arm_utf8_valid(text, strlen(text))) {
		sl_error_set(ctx.err, "InvalidTemplate", "", "", "The expression is not valid UTF-8 text.");
		return NULL;
	}
	return sl_arm_expr_eval(&ctx, text, "", "", &rc);
}
