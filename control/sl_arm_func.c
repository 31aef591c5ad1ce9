/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_arm_func.c: the functions of ARM's template language that sluice
 * evaluates (the list is in sl_arm_template.h), with ARM's semantics and
 * errors on a wrong number or type of arguments, and the refusal of those
 * it does not have (reference(), list*(): sluice's resources are its own
 * documents, with no runtime state to read).
 *
 * Each function receives its evaluated arguments (struct sl_arm_call) and
 * returns a new value, counted against the expansion's budget, or NULL with
 * the fault at the position of the argument at fault. if() is the
 * evaluator's own (it evaluates only the branch chosen).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/sha.h>

#include "sl_arm_expr.h"

#define SL_ARM_ANY UINT32_MAX
#define SL_ARM_RANGE_MAX 10000 /* ARM's largest range() */
#define SL_ARM_ZERO_GUID "00000000-0000-0000-0000-000000000000"

static const struct sl_arm_scope sl_arm_default_scope = {
	.subscription = SL_ARM_ZERO_GUID,
	.resource_group = "resourceGroup",
	.deployment = "deployment",
};

const struct sl_arm_scope *
sl_arm_scope_or_default(const struct sl_arm_scope *s)
{
	return s != NULL && s->subscription != NULL && s->resource_group != NULL &&
			       s->deployment != NULL ?
		       s :
		       &sl_arm_default_scope;
}

/* ---------------------------------------------------------------- helpers */

static const struct sl_arm_scope *
sl_fn_scope(const struct sl_arm_call *c)
{
	return sl_arm_scope_or_default(c->ctx->scope);
}

static const char *
sl_fn_default(const char *s, const char *dflt)
{
	return s != NULL ? s : dflt;
}

static cJSON *
sl_fn_type_error(struct sl_arm_call *c, uint32_t i, const char *want)
{
	return sl_arm_fail(c->f, c->arg_pos[i],
			   "The template function '%s' expects its argument %u to be of type '%s'; it is of type '%s'",
			   c->name, i + 1, want, sl_arm_type_name(c->v[i]));
}

static bool
sl_fn_str(struct sl_arm_call *c, uint32_t i, const char **s)
{
	if (!cJSON_IsString(c->v[i])) {
		sl_fn_type_error(c, i, "String");
		return false;
	}
	*s = c->v[i]->valuestring;
	return true;
}

static bool
sl_fn_int(struct sl_arm_call *c, uint32_t i, int64_t *v)
{
	if (!sl_arm_int_of(c->v[i], v)) {
		sl_fn_type_error(c, i, "Integer");
		return false;
	}
	return true;
}

static bool
sl_fn_bool(struct sl_arm_call *c, uint32_t i, bool *b)
{
	if (!cJSON_IsBool(c->v[i])) {
		sl_fn_type_error(c, i, "Boolean");
		return false;
	}
	*b = cJSON_IsTrue(c->v[i]);
	return true;
}

/* Argument i, taken from the call (the evaluator will not free it). */
static cJSON *
sl_fn_take(struct sl_arm_call *c, uint32_t i)
{
	cJSON *v = c->v[i];

	c->v[i] = NULL;
	return v;
}

static cJSON *
sl_fn_fail(struct sl_arm_call *c, const char *why)
{
	return sl_arm_fail(c->f, c->pos, "The template function '%s' %s", c->name, why);
}

/* A string being built, bounded by SL_ARM_STRING_MAX. */
struct sl_sb {
	char *buf;
	size_t len, cap;
	int err; /* -ENOMEM, -E2BIG */
};

static void
sl_sb_add(struct sl_sb *b, const char *s, size_t n)
{
	size_t cap;
	char *grown;

	if (b->err != 0 || n == 0)
		return;
	if (b->len + n > SL_ARM_STRING_MAX) {
		b->err = -E2BIG;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap == 0 ? 64 : b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		grown = realloc(b->buf, cap);
		if (grown == NULL) {
			b->err = -ENOMEM;
			return;
		}
		b->buf = grown;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

static void
sl_sb_str(struct sl_sb *b, const char *s)
{
	sl_sb_add(b, s, strlen(s));
}

static void
sl_sb_char(struct sl_sb *b, char ch, size_t count)
{
	while (count-- > 0 && b->err == 0)
		sl_sb_add(b, &ch, 1);
}

static cJSON *
sl_sb_done(struct sl_arm_call *c, struct sl_sb *b)
{
	cJSON *v = NULL;

	if (b->err == -E2BIG)
		sl_arm_fail(c->f, c->pos,
			    "The template function '%s' would make a string longer than sluice's limit of %u bytes",
			    c->name, SL_ARM_STRING_MAX);
	else if (b->err != 0)
		sl_arm_nomem(c->f, c->pos);
	else
		v = sl_arm_new_string(c->ctx, b->buf != NULL ? b->buf : "", b->len, c->f);
	free(b->buf);
	return v;
}

/* The text of a scalar as ARM's string conversions write it (.NET: "True"). */
static bool
sl_fn_scalar_text(const cJSON *v, struct sl_sb *b)
{
	char num[64];
	int64_t i;

	if (cJSON_IsString(v))
		sl_sb_str(b, v->valuestring);
	else if (sl_arm_int_of(v, &i))
		sl_sb_add(b, num, (size_t)snprintf(num, sizeof(num), "%" PRId64, i));
	else if (cJSON_IsNumber(v)) {
		/* as cJSON prints a double: 15 digits when they read back, else 17 */
		snprintf(num, sizeof(num), "%.15g", v->valuedouble);
		if (strtod(num, NULL) != v->valuedouble)
			snprintf(num, sizeof(num), "%.17g", v->valuedouble);
		sl_sb_str(b, num);
	}
	else if (cJSON_IsBool(v))
		sl_sb_str(b, cJSON_IsTrue(v) ? "True" : "False");
	else
		return false;
	return true;
}

/* JSON text of v (compact); false when it cannot be printed. */
static bool
sl_fn_json_text(const cJSON *v, struct sl_sb *b)
{
	char *text = cJSON_PrintUnformatted(v);

	if (text == NULL) {
		b->err = -ENOMEM;
		return false;
	}
	sl_sb_str(b, text);
	free(text);
	return true;
}

/* ---------------------------------------------------------------- scope */

static cJSON *
sl_fn_lookup(struct sl_arm_call *c, enum sl_arm_ref kind)
{
	const cJSON *v;
	const char *name;

	if (!sl_fn_str(c, 0, &name))
		return NULL;
	if (kind == SL_ARM_REF_VARIABLE && c->ctx->no_variables)
		return sl_fn_fail(c, "is not expected here: a parameter's default value cannot read variables");
	if (c->ctx->lookup == NULL)
		return sl_arm_fail(c->f, c->arg_pos[0], "The template %s '%.100s' is not found",
				   kind == SL_ARM_REF_PARAMETER ? "parameter" : "variable", name);
	c->f->pos = c->arg_pos[0];
	v = c->ctx->lookup(c->ctx, kind, name, c->f);
	return v != NULL ? sl_arm_dup(c->ctx, v, c->f) : NULL;
}

static cJSON *
sl_fn_parameters(struct sl_arm_call *c)
{
	return sl_fn_lookup(c, SL_ARM_REF_PARAMETER);
}

static cJSON *
sl_fn_variables(struct sl_arm_call *c)
{
	return sl_fn_lookup(c, SL_ARM_REF_VARIABLE);
}

static char *
sl_fn_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
sl_fn_sprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

static cJSON *
sl_fn_resource_group(struct sl_arm_call *c)
{
	const struct sl_arm_scope *s = sl_fn_scope(c);
	cJSON *o = cJSON_CreateObject(), *props;
	char *id = sl_fn_sprintf("/subscriptions/%s/resourceGroups/%s", s->subscription,
				 s->resource_group);

	if (o == NULL || id == NULL)
		goto nomem;
	props = cJSON_AddObjectToObject(o, "properties");
	if (cJSON_AddStringToObject(o, "id", id) == NULL ||
	    cJSON_AddStringToObject(o, "name", s->resource_group) == NULL ||
	    cJSON_AddStringToObject(o, "type", "Microsoft.Resources/resourceGroups") == NULL ||
	    cJSON_AddStringToObject(o, "location", sl_fn_default(s->location, "local")) == NULL ||
	    cJSON_AddObjectToObject(o, "tags") == NULL || props == NULL ||
	    cJSON_AddStringToObject(props, "provisioningState", "Succeeded") == NULL)
		goto nomem;
	free(id);
	return sl_arm_adopt(c->ctx, o, c->f);
nomem:
	free(id);
	cJSON_Delete(o);
	return sl_arm_nomem(c->f, c->pos);
}

static cJSON *
sl_fn_subscription(struct sl_arm_call *c)
{
	const struct sl_arm_scope *s = sl_fn_scope(c);
	cJSON *o = cJSON_CreateObject();
	char *id = sl_fn_sprintf("/subscriptions/%s", s->subscription);

	/* sluice knows no tenants or subscription names: the zero GUID, the id */
	if (o == NULL || id == NULL || cJSON_AddStringToObject(o, "id", id) == NULL ||
	    cJSON_AddStringToObject(o, "subscriptionId", s->subscription) == NULL ||
	    cJSON_AddStringToObject(o, "tenantId", SL_ARM_ZERO_GUID) == NULL ||
	    cJSON_AddStringToObject(o, "displayName", s->subscription) == NULL) {
		free(id);
		cJSON_Delete(o);
		return sl_arm_nomem(c->f, c->pos);
	}
	free(id);
	return sl_arm_adopt(c->ctx, o, c->f);
}

static cJSON *
sl_fn_deployment(struct sl_arm_call *c)
{
	const struct sl_arm_scope *s = sl_fn_scope(c);
	cJSON *o = cJSON_CreateObject(), *props, *tmpl;

	if (o == NULL || cJSON_AddStringToObject(o, "name", s->deployment) == NULL)
		goto nomem;
	props = cJSON_AddObjectToObject(o, "properties");
	tmpl = props != NULL ? cJSON_AddObjectToObject(props, "template") : NULL;
	if (tmpl == NULL)
		goto nomem;
	if (c->ctx->content_version != NULL &&
	    cJSON_AddStringToObject(tmpl, "contentVersion", c->ctx->content_version) == NULL)
		goto nomem;
	return sl_arm_adopt(c->ctx, o, c->f);
nomem:
	cJSON_Delete(o);
	return sl_arm_nomem(c->f, c->pos);
}

/* ---------------------------------------------------------------- resource ids */

/* The number of '/'-separated segments of s, 0 when one is empty. */
static uint32_t
sl_fn_segments(const char *s)
{
	uint32_t n = 1;

	if (*s == '\0' || *s == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//") != NULL)
		return 0;
	for (; *s != '\0'; s++)
		n += *s == '/';
	return n;
}

char *
sl_arm_format_id(const char *sub, const char *rg, const char *type, const char *name, int *rc)
{
	struct sl_sb b = {0};
	const char *t, *n, *ts, *ns;

	*rc = -EINVAL;
	if (sl_fn_segments(type) < 2 || sl_fn_segments(type) != sl_fn_segments(name) + 1)
		return NULL;
	sl_sb_str(&b, "/subscriptions/");
	sl_sb_str(&b, sub);
	if (rg != NULL) {
		sl_sb_str(&b, "/resourceGroups/");
		sl_sb_str(&b, rg);
	}
	sl_sb_str(&b, "/providers/");
	ts = strchr(type, '/');
	sl_sb_add(&b, type, (size_t)(ts - type));
	for (t = ts + 1, n = name; b.err == 0; t = ts + 1, n = ns + 1) {
		ts = strchrnul(t, '/');
		ns = strchrnul(n, '/');
		sl_sb_str(&b, "/");
		sl_sb_add(&b, t, (size_t)(ts - t));
		sl_sb_str(&b, "/");
		sl_sb_add(&b, n, (size_t)(ns - n));
		if (*ts == '\0')
			break;
	}
	sl_sb_add(&b, "", 1);
	if (b.err != 0) {
		free(b.buf);
		*rc = b.err == -ENOMEM ? -ENOMEM : -EINVAL;
		return NULL;
	}
	*rc = 0;
	return b.buf;
}

/*
 * resourceId([subscriptionId], [resourceGroupName], resourceType, name1, ...)
 * and subscriptionResourceId([subscriptionId], resourceType, name1, ...): the
 * type is the first argument holding a '/'.
 */
static cJSON *
sl_fn_id(struct sl_arm_call *c, bool in_rg)
{
	const struct sl_arm_scope *s = sl_fn_scope(c);
	const char *sub = s->subscription, *rg = s->resource_group, *type = NULL, *str;
	uint32_t i, t = 0, lead_max = in_rg ? 2 : 1, want;
	struct sl_sb names = {0};
	char *id;
	cJSON *v;
	int rc;

	for (i = 0; i < c->n; i++) {
		if (!sl_fn_str(c, i, &str))
			return NULL;
		if (type == NULL && strchr(str, '/') != NULL) {
			type = str;
			t = i;
		}
	}
	if (type == NULL)
		return sl_fn_fail(c, "expects a resource type with its namespace, such as 'Microsoft.Network/loadBalancers'");
	if (t > lead_max)
		return sl_arm_fail(c->f, c->arg_pos[t],
				   "The template function '%s' takes at most %u argument%s before the resource type",
				   c->name, lead_max, lead_max == 1 ? "" : "s");
	if (t == lead_max && in_rg) {
		sub = c->v[0]->valuestring;
		rg = c->v[1]->valuestring;
	} else if (t == 1) {
		*(in_rg ? &rg : &sub) = c->v[0]->valuestring;
	}
	want = sl_fn_segments(type) > 1 ? sl_fn_segments(type) - 1 : 0;
	if (want == 0)
		return sl_arm_fail(c->f, c->arg_pos[t], "The resource type '%.100s' is not valid",
				   type);
	if (c->n - t - 1 != want)
		return sl_arm_fail(c->f, c->pos,
				   "The template function '%s' was given %u resource name%s for the type '%.100s', which has %u",
				   c->name, c->n - t - 1, c->n - t - 1 == 1 ? "" : "s", type, want);
	for (i = t + 1; i < c->n; i++) {
		if (i > t + 1)
			sl_sb_str(&names, "/");
		sl_sb_str(&names, c->v[i]->valuestring);
	}
	sl_sb_add(&names, "", 1);
	if (names.err != 0) {
		free(names.buf);
		return sl_sb_done(c, &names);
	}
	id = sl_arm_format_id(sub, in_rg ? rg : NULL, type, names.buf, &rc);
	free(names.buf);
	if (id == NULL && rc == -ENOMEM)
		return sl_arm_nomem(c->f, c->pos);
	if (id == NULL)
		return sl_fn_fail(c, "was given a resource name that is empty or holds a '/'");
	v = sl_arm_new_string(c->ctx, id, strlen(id), c->f);
	free(id);
	return v;
}

static cJSON *
sl_fn_resource_id(struct sl_arm_call *c)
{
	return sl_fn_id(c, true);
}

static cJSON *
sl_fn_subscription_resource_id(struct sl_arm_call *c)
{
	return sl_fn_id(c, false);
}

/* ---------------------------------------------------------------- hashes */

/* The arguments (all strings) joined by '-'. */
static bool
sl_fn_joined(struct sl_arm_call *c, struct sl_sb *b)
{
	const char *s;
	uint32_t i;

	for (i = 0; i < c->n; i++) {
		if (!sl_fn_str(c, i, &s)) {
			free(b->buf);
			return false;
		}
		if (i > 0)
			sl_sb_str(b, "-");
		sl_sb_str(b, s);
	}
	sl_sb_add(b, "", 1);
	if (b->err != 0) {
		sl_sb_done(c, b);
		return false;
	}
	b->len--; /* the NUL is not hashed */
	return true;
}

/* MurmurHash64A (Austin Appleby, public domain), the bytes read little-endian. */
static uint64_t
sl_fn_murmur64(const uint8_t *p, size_t len)
{
	const uint64_t m = UINT64_C(0xc6a4a7935bd1e995);
	uint64_t h = len * m, k;
	size_t i, j;

	for (i = 0; i + 8 <= len; i += 8) {
		for (k = 0, j = 0; j < 8; j++)
			k |= (uint64_t)p[i + j] << (8 * j);
		k *= m;
		k ^= k >> 47;
		k *= m;
		h ^= k;
		h *= m;
	}
	if (len & 7) {
		for (j = len & 7; j > 0; j--)
			h ^= (uint64_t)p[i + j - 1] << (8 * (j - 1));
		h *= m;
	}
	h ^= h >> 47;
	h *= m;
	h ^= h >> 47;
	return h;
}

/*
 * uniqueString(s1, ...): 13 characters of base 32 ("a"-"z", "2"-"7") from
 * the top of MurmurHash64A (seed 0) of the arguments joined by '-'.
 * Deterministic, and of ARM's shape, but not byte-identical to Azure's: ARM's
 * exact algorithm is unpublished, so the same arguments give another string
 * on Azure.
 */
static cJSON *
sl_fn_unique_string(struct sl_arm_call *c)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	struct sl_sb b = {0};
	uint64_t h;
	char out[13];
	int i;

	if (!sl_fn_joined(c, &b))
		return NULL;
	h = sl_fn_murmur64((const uint8_t *)b.buf, b.len);
	free(b.buf);
	for (i = 0; i < 13; i++, h <<= 5)
		out[i] = alphabet[h >> 59];
	return sl_arm_new_string(c->ctx, out, sizeof(out), c->f);
}

/*
 * guid(s1, ...): a name-based UUID of version 5 (RFC 4122: SHA-1 of a
 * namespace and the name), the name being the arguments joined by '-' and
 * the namespace 11fb06fb-712d-4ddd-98c7-e71bbd588830; lower-case. Not
 * verified to equal what Azure returns.
 */
static cJSON *
sl_fn_guid(struct sl_arm_call *c)
{
	static const uint8_t ns[16] = {0x11, 0xfb, 0x06, 0xfb, 0x71, 0x2d, 0x4d, 0xdd,
				       0x98, 0xc7, 0xe7, 0x1b, 0xbd, 0x58, 0x88, 0x30};
	struct sl_sb b = {0};
	uint8_t md[SHA_DIGEST_LENGTH], *msg;
	char out[37];

	if (!sl_fn_joined(c, &b))
		return NULL;
	msg = malloc(sizeof(ns) + b.len);
	if (msg == NULL) {
		free(b.buf);
		return sl_arm_nomem(c->f, c->pos);
	}
	memcpy(msg, ns, sizeof(ns));
	memcpy(msg + sizeof(ns), b.buf, b.len);
	SHA1(msg, sizeof(ns) + b.len, md);
	free(msg);
	free(b.buf);
	md[6] = (uint8_t)((md[6] & 0x0f) | 0x50);
	md[8] = (uint8_t)((md[8] & 0x3f) | 0x80);
	snprintf(out, sizeof(out),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", md[0],
		 md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11],
		 md[12], md[13], md[14], md[15]);
	return sl_arm_new_string(c->ctx, out, 36, c->f);
}

/* ---------------------------------------------------------------- strings */

/* concat(): arrays joined when the first is an array, else text (integers and booleans written out). */
static cJSON *
sl_fn_concat(struct sl_arm_call *c)
{
	struct sl_sb b = {0};
	cJSON *out, *item;
	uint32_t i;

	if (cJSON_IsArray(c->v[0])) {
		for (i = 1; i < c->n; i++)
			if (!cJSON_IsArray(c->v[i]))
				return sl_fn_type_error(c, i, "Array");
		out = sl_fn_take(c, 0);
		for (i = 1; i < c->n; i++)
			while ((item = cJSON_DetachItemViaPointer(c->v[i], c->v[i]->child)) != NULL)
				cJSON_AddItemToArray(out, item);
		return out;
	}
	for (i = 0; i < c->n; i++) {
		if (cJSON_IsArray(c->v[i]) || cJSON_IsObject(c->v[i]) || cJSON_IsNull(c->v[i])) {
			free(b.buf);
			return sl_fn_type_error(c, i, "String");
		}
		sl_fn_scalar_text(c->v[i], &b);
	}
	return sl_sb_done(c, &b);
}

/*
 * toLower(), toUpper(): ASCII letters only (ARM maps every letter with the
 * invariant culture; sluice leaves the others as they are, whatever the
 * locale, so a UTF-8 sequence is never touched).
 */
static cJSON *
sl_fn_case(struct sl_arm_call *c, bool upper)
{
	const char *s;
	cJSON *v;
	char *p;

	if (!sl_fn_str(c, 0, &s))
		return NULL;
	v = sl_fn_take(c, 0);
	for (p = v->valuestring; *p != '\0'; p++)
		if (upper && *p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
		else if (!upper && *p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return v;
}

static cJSON *
sl_fn_to_lower(struct sl_arm_call *c)
{
	return sl_fn_case(c, false);
}

static cJSON *
sl_fn_to_upper(struct sl_arm_call *c)
{
	return sl_fn_case(c, true);
}

static cJSON *
sl_fn_trim(struct sl_arm_call *c)
{
	const char *s, *e;

	if (!sl_fn_str(c, 0, &s))
		return NULL;
	e = s + strlen(s);
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	return sl_arm_new_string(c->ctx, s, (size_t)(e - s), c->f);
}

/* Offset of the first (last) case-insensitive match of needle in hay, -1 for none. */
static int64_t
sl_fn_find(const char *hay, const char *needle, bool last)
{
	size_t hl = strlen(hay), nl = strlen(needle), i;

	if (nl > hl)
		return -1;
	if (nl == 0)
		return last ? (int64_t)hl : 0;
	for (i = 0; i <= hl - nl; i++) {
		size_t at = last ? hl - nl - i : i;
		if (strncasecmp(hay + at, needle, nl) == 0)
			return (int64_t)at;
	}
	return -1;
}

static cJSON *
sl_fn_index_of_any(struct sl_arm_call *c, bool last)
{
	const char *s, *find;

	int64_t at;

	if (!sl_fn_str(c, 0, &s) || !sl_fn_str(c, 1, &find))
		return NULL;
	at = sl_fn_find(s, find, last); /* bytes: in characters */
	if (at > 0)
		at = (int64_t)sl_arm_utf8_count(s, (size_t)at);
	return sl_arm_new_int(c->ctx, at, c->f);
}

static cJSON *
sl_fn_index_of(struct sl_arm_call *c)
{
	return sl_fn_index_of_any(c, false);
}

static cJSON *
sl_fn_last_index_of(struct sl_arm_call *c)
{
	return sl_fn_index_of_any(c, true);
}

/* startsWith(), endsWith(): case-insensitive, as ARM. */
static cJSON *
sl_fn_affix(struct sl_arm_call *c, bool end)
{
	const char *s, *a;
	size_t sl, al;

	if (!sl_fn_str(c, 0, &s) || !sl_fn_str(c, 1, &a))
		return NULL;
	sl = strlen(s);
	al = strlen(a);
	return sl_arm_new_bool(c->ctx,
			       al <= sl && strncasecmp(end ? s + sl - al : s, a, al) == 0, c->f);
}

static cJSON *
sl_fn_starts_with(struct sl_arm_call *c)
{
	return sl_fn_affix(c, false);
}

static cJSON *
sl_fn_ends_with(struct sl_arm_call *c)
{
	return sl_fn_affix(c, true);
}

static cJSON *
sl_fn_replace(struct sl_arm_call *c)
{
	const char *s, *old, *new, *hit;
	struct sl_sb b = {0};
	size_t ol;

	if (!sl_fn_str(c, 0, &s) || !sl_fn_str(c, 1, &old) || !sl_fn_str(c, 2, &new))
		return NULL;
	ol = strlen(old);
	if (ol == 0)
		return sl_arm_fail(c->f, c->arg_pos[1],
				   "The template function 'replace' cannot replace an empty string");
	while ((hit = strstr(s, old)) != NULL && b.err == 0) {
		sl_sb_add(&b, s, (size_t)(hit - s));
		sl_sb_str(&b, new);
		s = hit + ol;
	}
	sl_sb_str(&b, s);
	return sl_sb_done(c, &b);
}

/* split(s, delimiter | [delimiters]): .NET's String.Split, empty parts kept. */
static cJSON *
sl_fn_split(struct sl_arm_call *c)
{
	const cJSON *d, *seps = c->v[1];
	const char *s, *start;
	cJSON *out, *part;
	size_t dl;

	if (!sl_fn_str(c, 0, &s))
		return NULL;
	if (cJSON_IsArray(seps)) {
		cJSON_ArrayForEach(d, seps)
			if (!cJSON_IsString(d))
				return sl_arm_fail(c->f, c->arg_pos[1],
						   "The template function 'split' expects its delimiters to be strings");
	} else if (!cJSON_IsString(seps)) {
		return sl_fn_type_error(c, 1, "String");
	}
	out = sl_arm_new_container(c->ctx, false, c->f);
	for (start = s; out != NULL;) {
		dl = 0;
		for (; *s != '\0' && dl == 0; s += dl == 0) {
			if (cJSON_IsString(seps)) {
				dl = strlen(seps->valuestring);
				dl = dl > 0 && strncmp(s, seps->valuestring, dl) == 0 ? dl : 0;
				continue;
			}
			cJSON_ArrayForEach(d, seps) {
				dl = strlen(d->valuestring);
				if (dl > 0 && strncmp(s, d->valuestring, dl) == 0)
					break;
				dl = 0;
			}
		}
		part = sl_arm_new_string(c->ctx, start, (size_t)(s - start), c->f);
		if (part == NULL) {
			cJSON_Delete(out);
			return NULL;
		}
		cJSON_AddItemToArray(out, part);
		if (dl == 0)
			break;
		s += dl;
		start = s;
	}
	return out;
}

/* ARM's errors for substring()'s range, with the numbers it was given. */
static cJSON *
sl_fn_substring(struct sl_arm_call *c)
{
	int64_t start, len, have;
	size_t bytes, from;
	const char *s;

	if (!sl_fn_str(c, 0, &s) || !sl_fn_int(c, 1, &start))
		return NULL;
	bytes = strlen(s);
	have = (int64_t)sl_arm_utf8_count(s, bytes); /* characters */
	len = have - start;
	if (c->n > 2 && !sl_fn_int(c, 2, &len))
		return NULL;
	if (start < 0)
		return sl_arm_fail(c->f, c->arg_pos[1],
				   "The index parameter cannot be less than zero. The index parameter: '%" PRId64 "'",
				   start);
	if (len < 0 && c->n > 2)
		return sl_arm_fail(c->f, c->arg_pos[2],
				   "The length parameter cannot be less than zero. The length parameter: '%" PRId64 "'",
				   len);
	if (start > have || len > have - start)
		return sl_arm_fail(c->f, c->pos,
				   "The index and length parameters must refer to a location within the string. "
				   "The index parameter: '%" PRId64 "', the length parameter: '%" PRId64
				   "', the length of the string parameter: '%" PRId64 "'",
				   start, c->n > 2 ? len : have - start, have);
	from = sl_arm_utf8_offset(s, bytes, (size_t)start);
	return sl_arm_new_string(c->ctx, s + from,
				 sl_arm_utf8_offset(s + from, bytes - from, (size_t)len), c->f);
}

/* padLeft(): to a total length in characters, with a padding of one character. */
static cJSON *
sl_fn_pad_left(struct sl_arm_call *c)
{
	const char *pad = " ";
	struct sl_sb b = {0}, out = {0};
	size_t have, plen;
	int64_t total;

	if (!cJSON_IsString(c->v[0]) && !sl_arm_int_of(c->v[0], &total))
		return sl_fn_type_error(c, 0, "String");
	if (!sl_fn_int(c, 1, &total) || (c->n > 2 && !sl_fn_str(c, 2, &pad)))
		return NULL;
	plen = strlen(pad);
	if (sl_arm_utf8_count(pad, plen) != 1)
		return sl_arm_fail(c->f, c->arg_pos[2],
				   "The template function 'padLeft' expects a padding of exactly one character");
	if (total < 0 || total > SL_ARM_STRING_MAX)
		return sl_arm_fail(c->f, c->arg_pos[1],
				   "The template function 'padLeft' expects a total length from 0 to %u",
				   SL_ARM_STRING_MAX);
	sl_fn_scalar_text(c->v[0], &b);
	have = b.err == 0 ? sl_arm_utf8_count(b.buf, b.len) : 0;
	out.err = b.err;
	if (plen == 1 && (size_t)total > have)
		sl_sb_char(&out, pad[0], (size_t)total - have);
	for (; plen > 1 && (size_t)total > have && out.err == 0; have++)
		sl_sb_add(&out, pad, plen);
	if (b.len > 0)
		sl_sb_add(&out, b.buf, b.len);
	free(b.buf);
	return sl_sb_done(c, &out);
}

static const char sl_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static cJSON *
sl_fn_base64(struct sl_arm_call *c)
{
	const unsigned char *s;
	const char *str;
	struct sl_sb b = {0};
	size_t n, i;
	char q[4];

	if (!sl_fn_str(c, 0, &str))
		return NULL;
	s = (const unsigned char *)str;
	n = strlen(str);
	for (i = 0; i < n && b.err == 0; i += 3) {
		uint32_t w = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) |
			     (i + 2 < n ? s[i + 2] : 0);
		q[0] = sl_b64[w >> 18];
		q[1] = sl_b64[(w >> 12) & 63];
		q[2] = i + 1 < n ? sl_b64[(w >> 6) & 63] : '=';
		q[3] = i + 2 < n ? sl_b64[w & 63] : '=';
		sl_sb_add(&b, q, 4);
	}
	return sl_sb_done(c, &b);
}

static cJSON *
sl_fn_base64_to_string(struct sl_arm_call *c)
{
	const char *s, *p;
	struct sl_sb b = {0};
	uint32_t w = 0, bits = 0, pad = 0, n = 0;
	char byte;

	if (!sl_fn_str(c, 0, &s))
		return NULL;
	for (p = s; *p != '\0'; p++) {
		if (isspace((unsigned char)*p))
			continue;
		n++;
		if (*p == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || strchr(sl_b64, *p) == NULL)
			break;
		w = w << 6 | (uint32_t)(strchr(sl_b64, *p) - sl_b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			byte = (char)(w >> bits);
			if (byte == '\0')
				break;
			sl_sb_add(&b, &byte, 1);
		}
	}
	if (*p != '\0' || n % 4 != 0 || pad > 2) {
		free(b.buf);
		return sl_arm_fail(c->f, c->arg_pos[0],
				   "The template function 'base64ToString' expects base64 text of a string without NUL characters");
	}
	return sl_sb_done(c, &b);
}

/* The end of a URI's scheme ("http:"), or NULL when u has none. */
static const char *
sl_fn_scheme_end(const char *u)
{
	const char *p = u;

	if (!isalpha((unsigned char)*p))
		return NULL;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	return *p == ':' ? p + 1 : NULL;
}

/* Append path to b with its "." and ".." segments resolved (RFC 3986, 5.2.4). */
static void
sl_fn_path_append(struct sl_sb *b, const char *path, size_t root)
{
	const char *seg = path, *end;
	size_t n;

	while (*seg != '\0' && b->err == 0) {
		end = strchrnul(seg + 1, '/');
		n = (size_t)(end - seg);
		if (n == 2 && strncmp(seg, "/.", 2) == 0) {
			if (*end == '\0')
				sl_sb_str(b, "/");
		} else if (n == 3 && strncmp(seg, "/..", 3) == 0) {
			while (b->len > root && b->buf[--b->len] != '/')
				;
			if (*end == '\0')
				sl_sb_str(b, "/");
		} else {
			sl_sb_add(b, seg, n);
		}
		seg = end;
	}
}

/* uri(base, relative): RFC 3986 reference resolution against an absolute base. */
static cJSON *
sl_fn_uri(struct sl_arm_call *c)
{
	const char *base, *rel, *sch, *auth_end, *path_end, *slash;
	struct sl_sb b = {0}, path = {0};

	if (!sl_fn_str(c, 0, &base) || !sl_fn_str(c, 1, &rel))
		return NULL;
	sch = sl_fn_scheme_end(base);
	if (sch == NULL || strncmp(sch, "//", 2) != 0)
		return sl_arm_fail(c->f, c->arg_pos[0],
				   "The template function 'uri' expects an absolute URI ('scheme://host/...') as its base");
	if (sl_fn_scheme_end(rel) != NULL)
		return sl_fn_take(c, 1);
	auth_end = sch + 2 + strcspn(sch + 2, "/?#");
	path_end = auth_end + strcspn(auth_end, "?#");
	if (strncmp(rel, "//", 2) == 0) {
		sl_sb_add(&b, base, (size_t)(sch - base));
		sl_sb_str(&b, rel);
		return sl_sb_done(c, &b);
	}
	sl_sb_add(&b, base, (size_t)(auth_end - base));
	if (rel[0] == '\0' || rel[0] == '?' || rel[0] == '#') {
		sl_sb_add(&b, auth_end, (size_t)(rel[0] == '#' ? strcspn(auth_end, "#") :
								  (size_t)(path_end - auth_end)));
		sl_sb_str(&b, rel);
		return sl_sb_done(c, &b);
	}
	if (rel[0] != '/') {
		/* the base's path up to its last '/', then the reference */
		sl_sb_str(&path, "/");
		for (slash = path_end; slash > auth_end && slash[-1] != '/'; slash--)
			;
		if (slash > auth_end)
			sl_sb_add(&path, auth_end + 1, (size_t)(slash - auth_end - 1));
	}
	sl_sb_str(&path, rel);
	sl_sb_add(&path, "", 1);
	if (path.err == 0)
		sl_fn_path_append(&b, path.buf, b.len);
	else
		b.err = path.err;
	free(path.buf);
	return sl_sb_done(c, &b);
}

/* .NET composite formatting of one numeric value: D, N, F, X (any case) with a precision. */
static bool
sl_fn_format_number(const cJSON *v, const char *spec, size_t slen, struct sl_sb *b)
{
	char kind = (char)toupper((unsigned char)spec[0]), num[512], digits[128];
	long prec = -1;
	int64_t i;
	bool is_int = sl_arm_int_of(v, &i);
	size_t n, k, lead;
	char *end;

	if (slen > 1) {
		prec = strtol(spec + 1, &end, 10);
		if (end != spec + slen || prec < 0 || prec > 99 || !isdigit((unsigned char)spec[1]))
			return false;
	}
	if (kind == 'D' && is_int) {
		snprintf(digits, sizeof(digits), "%0*" PRIu64, (int)(prec < 0 ? 1 : prec),
			 i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i);
		sl_sb_str(b, i < 0 ? "-" : "");
		sl_sb_str(b, digits);
		return true;
	}
	if (kind == 'X' && is_int) {
		snprintf(digits, sizeof(digits), spec[0] == 'X' ? "%0*" PRIX64 : "%0*" PRIx64,
			 (int)(prec < 0 ? 1 : prec), (uint64_t)i);
		sl_sb_str(b, digits);
		return true;
	}
	if (kind != 'N' && kind != 'F')
		return false;
	snprintf(num, sizeof(num), "%.*f", (int)(prec < 0 ? 2 : prec), v->valuedouble);
	if (kind == 'F' || !isdigit((unsigned char)num[num[0] == '-'])) {
		sl_sb_str(b, num);
		return true;
	}
	lead = num[0] == '-';
	n = strcspn(num + lead, ".");
	sl_sb_add(b, num, lead);
	for (k = 0; k < n; k++) {
		if (k > 0 && (n - k) % 3 == 0)
			sl_sb_str(b, ",");
		sl_sb_add(b, num + lead + k, 1);
	}
	sl_sb_str(b, num + lead + n);
	return true;
}

/* One item "{index[,alignment][:format]}" at *p (after the '{'); false: a fault filled. */
static bool
sl_fn_format_item(struct sl_arm_call *c, const char **p, struct sl_sb *b)
{
	const char *s = *p, *spec = NULL;
	long index, align = 0;
	struct sl_sb item = {0};
	size_t slen = 0, pad;
	const cJSON *v;
	char *end;

	index = isdigit((unsigned char)*s) ? strtol(s, &end, 10) : -1;
	if (index < 0)
		goto bad;
	s = end;
	if (*s == ',') {
		align = strtol(s + 1, &end, 10);
		if (end == s + 1 || align > 100000 || align < -100000)
			goto bad;
		s = end;
	}
	if (*s == ':') {
		spec = ++s;
		s += strcspn(s, "{}");
		slen = (size_t)(s - spec);
	}
	if (*s != '}')
		goto bad;
	if (index >= (long)c->n - 1) {
		sl_arm_fail(c->f, c->arg_pos[0],
			    "The template function 'format' refers to argument {%ld} but was given %u",
			    index, c->n - 1);
		return false;
	}
	v = c->v[index + 1];
	if (slen > 0 && cJSON_IsNumber(v)) {
		if (!sl_fn_format_number(v, spec, slen, &item)) {
			free(item.buf);
			sl_arm_fail(c->f, c->arg_pos[0],
				    "The template function 'format' does not support the format '%.*s' (only D, N, F and X, with a precision)",
				    (int)(slen > 20 ? 20 : slen), spec);
			return false;
		}
	} else if (!sl_fn_scalar_text(v, &item) && !cJSON_IsNull(v)) {
		sl_fn_json_text(v, &item);
	}
	pad = (size_t)labs(align) > item.len ? (size_t)labs(align) - item.len : 0;
	if (align > 0)
		sl_sb_char(b, ' ', pad);
	sl_sb_add(b, item.buf, item.len);
	if (align < 0)
		sl_sb_char(b, ' ', pad);
	if (item.err != 0)
		b->err = item.err;
	free(item.buf);
	*p = s + 1;
	return true;
bad:
	sl_arm_fail(c->f, c->arg_pos[0],
		    "The template function 'format' was given a format string that is not valid (at its character %zu)",
		    (size_t)(s - c->v[0]->valuestring) + 1);
	return false;
}

/* format(fmt, args...): .NET composite formatting ("{0}", "{1:D3}", "{{"). */
static cJSON *
sl_fn_format(struct sl_arm_call *c)
{
	struct sl_sb b = {0};
	const char *p;

	if (!sl_fn_str(c, 0, &p))
		return NULL;
	while (*p != '\0' && b.err == 0) {
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			sl_sb_add(&b, p, 1);
			p += 2;
		} else if (p[0] == '}') {
			free(b.buf);
			sl_arm_fail(c->f, c->arg_pos[0],
				    "The template function 'format' was given a format string that is not valid (at its character %zu)",
				    (size_t)(p - c->v[0]->valuestring) + 1);
			return NULL;
		} else if (p[0] == '{') {
			p++;
			if (!sl_fn_format_item(c, &p, &b)) {
				free(b.buf);
				return NULL;
			}
		} else {
			sl_sb_add(&b, p++, 1);
		}
	}
	return sl_sb_done(c, &b);
}

/* ---------------------------------------------------------------- logic, numbers */

static cJSON *
sl_fn_equals(struct sl_arm_call *c)
{
	return sl_arm_new_bool(c->ctx, sl_arm_equal(c->v[0], c->v[1]), c->f);
}

static cJSON *
sl_fn_not(struct sl_arm_call *c)
{
	bool b;

	return sl_fn_bool(c, 0, &b) ? sl_arm_new_bool(c->ctx, !b, c->f) : NULL;
}

static cJSON *
sl_fn_and_or(struct sl_arm_call *c, bool and)
{
	bool all = true, any = false, b;
	uint32_t i;

	for (i = 0; i < c->n; i++) {
		if (!sl_fn_bool(c, i, &b))
			return NULL;
		all = all && b;
		any = any || b;
	}
	return sl_arm_new_bool(c->ctx, and ? all : any, c->f);
}

static cJSON *
sl_fn_and(struct sl_arm_call *c)
{
	return sl_fn_and_or(c, true);
}

static cJSON *
sl_fn_or(struct sl_arm_call *c)
{
	return sl_fn_and_or(c, false);
}

static cJSON *
sl_fn_true(struct sl_arm_call *c)
{
	return sl_arm_new_bool(c->ctx, true, c->f);
}

static cJSON *
sl_fn_false(struct sl_arm_call *c)
{
	return sl_arm_new_bool(c->ctx, false, c->f);
}

static cJSON *
sl_fn_null(struct sl_arm_call *c)
{
	return sl_arm_adopt(c->ctx, cJSON_CreateNull(), c->f);
}

enum sl_fn_op { SL_OP_ADD, SL_OP_SUB, SL_OP_MUL, SL_OP_DIV, SL_OP_MOD };

static cJSON *
sl_fn_arith(struct sl_arm_call *c, enum sl_fn_op op)
{
	int64_t a, b, r = 0;
	bool over = false;

	if (!sl_fn_int(c, 0, &a) || !sl_fn_int(c, 1, &b))
		return NULL;
	if ((op == SL_OP_DIV || op == SL_OP_MOD) && b == 0)
		return sl_arm_fail(c->f, c->arg_pos[1], "The template function '%s' cannot divide by zero",
				   c->name);
	switch (op) {
	case SL_OP_ADD:
		over = __builtin_add_overflow(a, b, &r);
		break;
	case SL_OP_SUB:
		over = __builtin_sub_overflow(a, b, &r);
		break;
	case SL_OP_MUL:
		over = __builtin_mul_overflow(a, b, &r);
		break;
	case SL_OP_DIV:
		r = a / b; /* |a| <= 2^53: no INT64_MIN / -1 */
		break;
	case SL_OP_MOD:
		r = a % b;
		break;
	}
	if (over)
		return sl_fn_fail(c, "overflows a 64-bit integer");
	return sl_arm_new_int(c->ctx, r, c->f);
}

static cJSON *
sl_fn_add(struct sl_arm_call *c)
{
	return sl_fn_arith(c, SL_OP_ADD);
}

static cJSON *
sl_fn_sub(struct sl_arm_call *c)
{
	return sl_fn_arith(c, SL_OP_SUB);
}

static cJSON *
sl_fn_mul(struct sl_arm_call *c)
{
	return sl_fn_arith(c, SL_OP_MUL);
}

static cJSON *
sl_fn_div(struct sl_arm_call *c)
{
	return sl_fn_arith(c, SL_OP_DIV);
}

static cJSON *
sl_fn_mod(struct sl_arm_call *c)
{
	return sl_fn_arith(c, SL_OP_MOD);
}

/* less() and its kin: two numbers, or two strings compared ordinally; want: the signs that hold. */
static cJSON *
sl_fn_compare(struct sl_arm_call *c, bool lt, bool eq, bool gt)
{
	const cJSON *a = c->v[0], *b = c->v[1];
	int cmp;

	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		cmp = a->valuedouble < b->valuedouble ? -1 : a->valuedouble > b->valuedouble;
	else if (cJSON_IsString(a) && cJSON_IsString(b))
		cmp = strcmp(a->valuestring, b->valuestring);
	else if (!cJSON_IsNumber(a) && !cJSON_IsString(a))
		return sl_fn_type_error(c, 0, "Integer' or 'String");
	else
		return sl_fn_type_error(c, 1, sl_arm_type_name(a));
	return sl_arm_new_bool(c->ctx, (cmp < 0 && lt) || (cmp == 0 && eq) || (cmp > 0 && gt),
			       c->f);
}

static cJSON *
sl_fn_less(struct sl_arm_call *c)
{
	return sl_fn_compare(c, true, false, false);
}

static cJSON *
sl_fn_less_or_equals(struct sl_arm_call *c)
{
	return sl_fn_compare(c, true, true, false);
}

static cJSON *
sl_fn_greater(struct sl_arm_call *c)
{
	return sl_fn_compare(c, false, false, true);
}

static cJSON *
sl_fn_greater_or_equals(struct sl_arm_call *c)
{
	return sl_fn_compare(c, false, true, true);
}

/* min(), max(): integers, or one array of them. */
static cJSON *
sl_fn_extreme(struct sl_arm_call *c, bool max)
{
	const cJSON *list = c->n == 1 && cJSON_IsArray(c->v[0]) ? c->v[0] : NULL, *e;
	int64_t best = 0, v;
	bool any = false;
	uint32_t i;

	if (list != NULL) {
		cJSON_ArrayForEach(e, list) {
			if (!sl_arm_int_of(e, &v))
				return sl_fn_fail(c, "expects an array of integers");
			best = !any || (max ? v > best : v < best) ? v : best;
			any = true;
		}
		if (!any)
			return sl_fn_fail(c, "expects a non-empty array");
	}
	for (i = 0; list == NULL && i < c->n; i++) {
		if (!sl_fn_int(c, i, &v))
			return NULL;
		best = i == 0 || (max ? v > best : v < best) ? v : best;
	}
	return sl_arm_new_int(c->ctx, best, c->f);
}

static cJSON *
sl_fn_min(struct sl_arm_call *c)
{
	return sl_fn_extreme(c, false);
}

static cJSON *
sl_fn_max(struct sl_arm_call *c)
{
	return sl_fn_extreme(c, true);
}

static cJSON *
sl_fn_range(struct sl_arm_call *c)
{
	int64_t start, count, i;
	cJSON *out, *e;

	if (!sl_fn_int(c, 0, &start) || !sl_fn_int(c, 1, &count))
		return NULL;
	if (count < 0 || count > SL_ARM_RANGE_MAX)
		return sl_arm_fail(c->f, c->arg_pos[1],
				   "The template function 'range' expects a count from 0 to %d",
				   SL_ARM_RANGE_MAX);
	if (start < INT32_MIN || start + count > INT32_MAX)
		return sl_arm_fail(c->f, c->arg_pos[0],
				   "The template function 'range' expects the start and the sum of start and count within 32-bit integers");
	out = sl_arm_new_container(c->ctx, false, c->f);
	for (i = 0; out != NULL && i < count; i++) {
		e = sl_arm_new_int(c->ctx, start + i, c->f);
		if (e == NULL) {
			cJSON_Delete(out);
			return NULL;
		}
		cJSON_AddItemToArray(out, e);
	}
	return out;
}

/* ---------------------------------------------------------------- conversions */

static cJSON *
sl_fn_string(struct sl_arm_call *c)
{
	struct sl_sb b = {0};

	if (cJSON_IsString(c->v[0]))
		return sl_fn_take(c, 0);
	if (!sl_fn_scalar_text(c->v[0], &b) && !cJSON_IsNull(c->v[0]))
		sl_fn_json_text(c->v[0], &b);
	return sl_sb_done(c, &b);
}

static cJSON *
sl_fn_int_conv(struct sl_arm_call *c)
{
	const cJSON *v = c->v[0];
	long long n;
	int64_t i;
	char *end;

	if (sl_arm_int_of(v, &i))
		return sl_arm_new_int(c->ctx, i, c->f);
	if (cJSON_IsNumber(v) && fabs(v->valuedouble) <= (double)SL_ARM_INT_EXACT)
		return sl_arm_new_int(c->ctx, (int64_t)nearbyint(v->valuedouble), c->f);
	if (cJSON_IsBool(v))
		return sl_arm_new_int(c->ctx, cJSON_IsTrue(v), c->f);
	if (!cJSON_IsString(v))
		return sl_fn_type_error(c, 0, "String");
	errno = 0;
	n = strtoll(v->valuestring, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (end == v->valuestring || *end != '\0' || errno != 0)
		return sl_arm_fail(c->f, c->arg_pos[0],
				   "The template function 'int' cannot convert its argument: the string is not an integer");
	return sl_arm_new_int(c->ctx, n, c->f);
}

static cJSON *
sl_fn_bool_conv(struct sl_arm_call *c)
{
	const cJSON *v = c->v[0];
	int64_t i;

	if (cJSON_IsBool(v))
		return sl_fn_take(c, 0);
	if (sl_arm_int_of(v, &i))
		return sl_arm_new_bool(c->ctx, i != 0, c->f);
	if (!cJSON_IsString(v))
		return sl_fn_type_error(c, 0, "String");
	if (strcasecmp(v->valuestring, "true") == 0 || strcasecmp(v->valuestring, "false") == 0)
		return sl_arm_new_bool(c->ctx, strcasecmp(v->valuestring, "true") == 0, c->f);
	return sl_arm_fail(c->f, c->arg_pos[0],
			   "The template function 'bool' cannot convert its argument: the string is neither 'true' nor 'false'");
}

static cJSON *
sl_fn_json(struct sl_arm_call *c)
{
	const char *s, *end = NULL;
	cJSON *v;

	if (!sl_fn_str(c, 0, &s))
		return NULL;
	v = cJSON_ParseWithOpts(s, &end, true);
	if (v == NULL)
		return sl_arm_fail(c->f, c->arg_pos[0],
				   "The template function 'json' was given text that is not valid JSON (at its character %zu)",
				   end != NULL && end >= s ? (size_t)(end - s) + 1 : 1);
	if (sl_arm_depth(v, SL_ARM_JSON_DEPTH_MAX) > SL_ARM_JSON_DEPTH_MAX) {
		cJSON_Delete(v);
		return sl_arm_fail(c->f, c->arg_pos[0],
				   "The template function 'json' was given JSON nested deeper than %u levels",
				   SL_ARM_JSON_DEPTH_MAX);
	}
	return sl_arm_adopt(c->ctx, v, c->f);
}

/* ---------------------------------------------------------------- collections */

/* Whether adding a level over the arguments keeps values within SL_ARM_JSON_DEPTH_MAX. */
static bool
sl_fn_depth_ok(struct sl_arm_call *c, uint32_t from, uint32_t step)
{
	uint32_t i;

	for (i = from; i < c->n; i += step) {
		if (c->v[i] != NULL &&
		    sl_arm_depth(c->v[i], SL_ARM_JSON_DEPTH_MAX) >= SL_ARM_JSON_DEPTH_MAX) {
			sl_arm_fail(c->f, c->arg_pos[i],
				    "The template function '%s' would nest values deeper than %u levels",
				    c->name, SL_ARM_JSON_DEPTH_MAX);
			return false;
		}
	}
	return true;
}

static cJSON *
sl_fn_create_array(struct sl_arm_call *c)
{
	cJSON *out;
	uint32_t i;

	if (!sl_fn_depth_ok(c, 0, 1))
		return NULL;
	out = sl_arm_new_container(c->ctx, false, c->f);
	for (i = 0; out != NULL && i < c->n; i++)
		cJSON_AddItemToArray(out, sl_fn_take(c, i));
	return out;
}

static cJSON *
sl_fn_array(struct sl_arm_call *c)
{
	if (cJSON_IsArray(c->v[0]))
		return sl_fn_take(c, 0);
	return sl_fn_create_array(c);
}

static cJSON *
sl_fn_create_object(struct sl_arm_call *c)
{
	const char *key;
	cJSON *out;
	uint32_t i;

	if (c->n % 2 != 0)
		return sl_fn_fail(c, "expects pairs of a key and a value");
	for (i = 0; i < c->n; i += 2) {
		if (!sl_fn_str(c, i, &key))
			return NULL;
		for (uint32_t j = 0; j < i; j += 2)
			if (strcasecmp(c->v[j]->valuestring, key) == 0)
				return sl_arm_fail(c->f, c->arg_pos[i],
						   "The template function 'createObject' was given a key twice");
	}
	if (!sl_fn_depth_ok(c, 1, 2))
		return NULL;
	out = sl_arm_new_container(c->ctx, true, c->f);
	for (i = 0; out != NULL && i < c->n; i += 2)
		cJSON_AddItemToObject(out, c->v[i]->valuestring, sl_fn_take(c, i + 1));
	return out;
}

/* The arguments all objects or all arrays (the first decides); false with the fault filled. */
static bool
sl_fn_same_kind(struct sl_arm_call *c)
{
	bool obj = cJSON_IsObject(c->v[0]);
	uint32_t i;

	for (i = 0; i < c->n; i++) {
		if (obj ? !cJSON_IsObject(c->v[i]) : !cJSON_IsArray(c->v[i])) {
			sl_fn_type_error(c, i, i == 0 ? "Object' or 'Array" : obj ? "Object" : "Array");
			return false;
		}
	}
	return true;
}

/*
 * Member e (detached) into object out as union() does: a nested object
 * merges with an object of the same key, member by member, to any depth;
 * anything else (an array too: nested arrays are not merged) replaces it.
 */
static void
sl_fn_union_member(cJSON *out, cJSON *e)
{
	cJSON *had = cJSON_GetObjectItem(out, e->string), *m;

	if (had == NULL) {
		cJSON_AddItemToObject(out, e->string, e);
		return;
	}
	if (!cJSON_IsObject(had) || !cJSON_IsObject(e)) {
		cJSON_ReplaceItemViaPointer(out, had, e);
		return;
	}
	while ((m = cJSON_DetachItemViaPointer(e, e->child)) != NULL)
		sl_fn_union_member(had, m);
	cJSON_Delete(e);
}

/*
 * union(): objects merged (a later key replaces an earlier; nested objects
 * merged deeply, as ARM does), arrays joined without repeats.
 */
static cJSON *
sl_fn_union(struct sl_arm_call *c)
{
	cJSON *out, *e;
	uint32_t i;

	if (!sl_fn_same_kind(c))
		return NULL;
	out = sl_arm_new_container(c->ctx, cJSON_IsObject(c->v[0]), c->f);
	for (i = 0; out != NULL && i < c->n; i++) {
		while ((e = cJSON_DetachItemViaPointer(c->v[i], c->v[i]->child)) != NULL) {
			if (cJSON_IsObject(out))
				sl_fn_union_member(out, e);
			else if (sl_arm_array_has(out, e))
				cJSON_Delete(e);
			else
				cJSON_AddItemToArray(out, e);
		}
	}
	return out;
}

/* intersection(): the first's members (elements) that every other has equal. */
static cJSON *
sl_fn_intersection(struct sl_arm_call *c)
{
	bool obj = cJSON_IsObject(c->v[0]), keep;
	cJSON *out, *e;
	const cJSON *o;
	uint32_t i;

	if (!sl_fn_same_kind(c))
		return NULL;
	out = sl_arm_new_container(c->ctx, obj, c->f);
	while (out != NULL && (e = cJSON_DetachItemViaPointer(c->v[0], c->v[0]->child)) != NULL) {
		keep = obj ? cJSON_GetObjectItem(out, e->string) == NULL : !sl_arm_array_has(out, e);
		for (i = 1; keep && i < c->n; i++) {
			o = obj ? cJSON_GetObjectItem(c->v[i], e->string) : NULL;
			keep = obj ? o != NULL && sl_arm_equal(o, e) : sl_arm_array_has(c->v[i], e);
		}
		if (!keep)
			cJSON_Delete(e);
		else if (obj)
			cJSON_AddItemToObject(out, e->string, e);
		else
			cJSON_AddItemToArray(out, e);
	}
	return out;
}

static cJSON *
sl_fn_contains(struct sl_arm_call *c)
{
	const cJSON *where = c->v[0], *what = c->v[1];
	struct sl_sb b = {0};
	bool has;

	if (cJSON_IsArray(where))
		return sl_arm_new_bool(c->ctx, sl_arm_array_has(where, what), c->f);
	if (!cJSON_IsObject(where) && !cJSON_IsString(where))
		return sl_fn_type_error(c, 0, "Array', 'Object' or 'String");
	if (!sl_fn_scalar_text(what, &b)) {
		free(b.buf);
		return sl_fn_type_error(c, 1, "String");
	}
	sl_sb_add(&b, "", 1);
	if (b.err != 0)
		return sl_sb_done(c, &b);
	has = cJSON_IsObject(where) ? cJSON_GetObjectItem(where, b.buf) != NULL :
				      strstr(where->valuestring, b.buf) != NULL;
	free(b.buf);
	return sl_arm_new_bool(c->ctx, has, c->f);
}

/* length() of a string, array or object; -1 (type fault) otherwise. */
static int64_t
sl_fn_len(struct sl_arm_call *c, uint32_t i)
{
	if (cJSON_IsString(c->v[i])) /* characters */
		return (int64_t)sl_arm_utf8_count(c->v[i]->valuestring, strlen(c->v[i]->valuestring));
	if (cJSON_IsArray(c->v[i]) || cJSON_IsObject(c->v[i]))
		return cJSON_GetArraySize(c->v[i]);
	sl_fn_type_error(c, i, "String', 'Array' or 'Object");
	return -1;
}

static cJSON *
sl_fn_length(struct sl_arm_call *c)
{
	int64_t n = sl_fn_len(c, 0);

	return n < 0 ? NULL : sl_arm_new_int(c->ctx, n, c->f);
}

static cJSON *
sl_fn_empty(struct sl_arm_call *c)
{
	int64_t n;

	if (cJSON_IsNull(c->v[0]))
		return sl_arm_new_bool(c->ctx, true, c->f);
	n = sl_fn_len(c, 0);
	return n < 0 ? NULL : sl_arm_new_bool(c->ctx, n == 0, c->f);
}

/* take() (from the front) and skip(): strings and arrays, the count clamped. */
static cJSON *
sl_fn_slice(struct sl_arm_call *c, bool take)
{
	int64_t n, len, from, to, i;
	cJSON *out;

	if (!cJSON_IsString(c->v[0]) && !cJSON_IsArray(c->v[0]))
		return sl_fn_type_error(c, 0, "String' or 'Array");
	if (!sl_fn_int(c, 1, &n))
		return NULL;
	len = sl_fn_len(c, 0);
	n = n < 0 ? 0 : n > len ? len : n;
	from = take ? 0 : n;
	to = take ? n : len;
	if (cJSON_IsString(c->v[0])) { /* characters from..to */
		const char *str = c->v[0]->valuestring;
		size_t bytes = strlen(str), b0 = sl_arm_utf8_offset(str, bytes, (size_t)from);

		return sl_arm_new_string(c->ctx, str + b0,
					 sl_arm_utf8_offset(str + b0, bytes - b0, (size_t)(to - from)), c->f);
	}
	out = sl_fn_take(c, 0);
	for (i = len - 1; i >= 0; i--)
		if (i < from || i >= to)
			cJSON_DeleteItemFromArray(out, (int)i);
	return out;
}

static cJSON *
sl_fn_take_fn(struct sl_arm_call *c)
{
	return sl_fn_slice(c, true);
}

static cJSON *
sl_fn_skip(struct sl_arm_call *c)
{
	return sl_fn_slice(c, false);
}

/* first(), last(): an array's element (null when empty) or a string's character ("" when empty). */
static cJSON *
sl_fn_end(struct sl_arm_call *c, bool last)
{
	const cJSON *v = c->v[0];
	size_t len;
	int n;

	if (cJSON_IsString(v)) { /* the first or last character, its bytes */
		const char *str = v->valuestring;
		size_t at = 0;

		len = strlen(str);
		if (last && len > 0)
			for (at = len - 1; at > 0 && ((uint8_t)str[at] & 0xC0) == 0x80; at--)
				;
		return sl_arm_new_string(c->ctx, str + at,
					 last ? len - at : sl_arm_utf8_offset(str, len, 1), c->f);
	}
	if (!cJSON_IsArray(v))
		return sl_fn_type_error(c, 0, "Array' or 'String");
	n = cJSON_GetArraySize(v);
	if (n == 0)
		return sl_arm_adopt(c->ctx, cJSON_CreateNull(), c->f);
	return cJSON_DetachItemFromArray(c->v[0], last ? n - 1 : 0);
}

static cJSON *
sl_fn_first(struct sl_arm_call *c)
{
	return sl_fn_end(c, false);
}

static cJSON *
sl_fn_last(struct sl_arm_call *c)
{
	return sl_fn_end(c, true);
}

static cJSON *
sl_fn_coalesce(struct sl_arm_call *c)
{
	uint32_t i;

	for (i = 0; i < c->n; i++)
		if (!cJSON_IsNull(c->v[i]))
			return sl_fn_take(c, i);
	return sl_fn_take(c, 0);
}

/* copyIndex(), copyIndex(offset), copyIndex('loop'), copyIndex('loop', offset). */
static cJSON *
sl_fn_copy_index(struct sl_arm_call *c)
{
	const struct sl_arm_ctx *ctx = c->ctx;
	const char *name = NULL;
	int64_t offset = 0;
	uint32_t i, off_arg = 0;

	if (c->n > 0 && cJSON_IsString(c->v[0])) {
		name = c->v[0]->valuestring;
		off_arg = 1;
	}
	if (c->n > off_arg && !sl_fn_int(c, off_arg, &offset))
		return NULL;
	if (c->n > off_arg + 1)
		return sl_fn_type_error(c, 0, "String");
	for (i = ctx->n_loops; i-- > 0;) {
		if (name != NULL ? strcasecmp(ctx->loops[i].name, name) == 0 : ctx->loops[i].unnamed)
			return sl_arm_new_int(c->ctx, ctx->loops[i].index + offset, c->f);
	}
	if (name != NULL)
		return sl_arm_fail(c->f, c->arg_pos[0],
				   "The template function 'copyIndex' names the copy loop '%.100s', which does not enclose it",
				   name);
	return sl_fn_fail(c, "is not expected at this location: it is not inside a copy loop");
}

/* ---------------------------------------------------------------- the table */

static const struct sl_arm_func sl_arm_funcs[] = {
	{"add", 2, 2, sl_fn_add},
	{"and", 2, SL_ARM_ANY, sl_fn_and},
	{"array", 1, 1, sl_fn_array},
	{"base64", 1, 1, sl_fn_base64},
	{"base64ToString", 1, 1, sl_fn_base64_to_string},
	{"bool", 1, 1, sl_fn_bool_conv},
	{"coalesce", 1, SL_ARM_ANY, sl_fn_coalesce},
	{"concat", 1, SL_ARM_ANY, sl_fn_concat},
	{"contains", 2, 2, sl_fn_contains},
	{"copyIndex", 0, 2, sl_fn_copy_index},
	{"createArray", 0, SL_ARM_ANY, sl_fn_create_array},
	{"createObject", 0, SL_ARM_ANY, sl_fn_create_object},
	{"deployment", 0, 0, sl_fn_deployment},
	{"div", 2, 2, sl_fn_div},
	{"empty", 1, 1, sl_fn_empty},
	{"endsWith", 2, 2, sl_fn_ends_with},
	{"equals", 2, 2, sl_fn_equals},
	{"false", 0, 0, sl_fn_false},
	{"first", 1, 1, sl_fn_first},
	{"format", 1, SL_ARM_ANY, sl_fn_format},
	{"greater", 2, 2, sl_fn_greater},
	{"greaterOrEquals", 2, 2, sl_fn_greater_or_equals},
	{"guid", 1, SL_ARM_ANY, sl_fn_guid},
	{"if", 3, 3, NULL},
	{"indexOf", 2, 2, sl_fn_index_of},
	{"int", 1, 1, sl_fn_int_conv},
	{"intersection", 2, SL_ARM_ANY, sl_fn_intersection},
	{"json", 1, 1, sl_fn_json},
	{"last", 1, 1, sl_fn_last},
	{"lastIndexOf", 2, 2, sl_fn_last_index_of},
	{"length", 1, 1, sl_fn_length},
	{"less", 2, 2, sl_fn_less},
	{"lessOrEquals", 2, 2, sl_fn_less_or_equals},
	{"max", 1, SL_ARM_ANY, sl_fn_max},
	{"min", 1, SL_ARM_ANY, sl_fn_min},
	{"mod", 2, 2, sl_fn_mod},
	{"mul", 2, 2, sl_fn_mul},
	{"not", 1, 1, sl_fn_not},
	{"null", 0, 0, sl_fn_null},
	{"or", 2, SL_ARM_ANY, sl_fn_or},
	{"padLeft", 2, 3, sl_fn_pad_left},
	{"parameters", 1, 1, sl_fn_parameters},
	{"range", 2, 2, sl_fn_range},
	{"replace", 3, 3, sl_fn_replace},
	{"resourceGroup", 0, 0, sl_fn_resource_group},
	{"resourceId", 2, SL_ARM_ANY, sl_fn_resource_id},
	{"skip", 2, 2, sl_fn_skip},
	{"split", 2, 2, sl_fn_split},
	{"startsWith", 2, 2, sl_fn_starts_with},
	{"string", 1, 1, sl_fn_string},
	{"sub", 2, 2, sl_fn_sub},
	{"subscription", 0, 0, sl_fn_subscription},
	{"subscriptionResourceId", 2, SL_ARM_ANY, sl_fn_subscription_resource_id},
	{"substring", 2, 3, sl_fn_substring},
	{"take", 2, 2, sl_fn_take_fn},
	{"toLower", 1, 1, sl_fn_to_lower},
	{"toUpper", 1, 1, sl_fn_to_upper},
	{"trim", 1, 1, sl_fn_trim},
	{"true", 0, 0, sl_fn_true},
	{"union", 2, SL_ARM_ANY, sl_fn_union},
	{"uniqueString", 1, SL_ARM_ANY, sl_fn_unique_string},
	{"uri", 2, 2, sl_fn_uri},
	{"variables", 1, 1, sl_fn_variables},
};

const struct sl_arm_func *
sl_arm_func_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sl_arm_funcs) / sizeof(sl_arm_funcs[0]); i++)
		if (strcasecmp(sl_arm_funcs[i].name, name) == 0)
			return &sl_arm_funcs[i];
	return NULL;
}

const char *
sl_arm_func_unsupported(const char *name)
{
	static const char *const other[] = {
		"newGuid", "utcNow", "environment", "tenant", "managementGroup",
		"extensionResourceId", "tenantResourceId", "managementGroupResourceId",
		"pickZones", "providers", "dateTimeAdd", "dataUri", "dataUriToString",
		"uriComponent", "uriComponentToString", "items", "join", "filter", "map",
		"reduce", "sort", "toObject", "objectKeys", "flatten", "lambda", "tryGet",
		"shallowMerge", "indexFromEnd", "lastIndexFromEnd", "parseCidr", "cidrSubnet",
		"cidrHost", "base64ToJson", "dateTimeFromEpoch", "dateTimeToEpoch",
		"resourceInfo", "references", NULL,
	};
	size_t i;

	if (strcasecmp(name, "reference") == 0 || strncasecmp(name, "list", 4) == 0)
		return "sluice's resources are its own documents, with no runtime state or keys "
		       "to read; write the values into the template or its parameters";
	for (i = 0; other[i] != NULL; i++)
		if (strcasecmp(other[i], name) == 0)
			return "sluice does not implement it";
	return NULL;
}
