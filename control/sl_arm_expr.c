/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_arm_expr.c: the ARM template expression language: the parser of
 * "[...]" strings into a tree of positioned nodes, its evaluator (lazy
 * if(), property and index selection), and the value helpers the functions
 * and the expansion share (types, deep equality, the budget). The
 * functions themselves are in sl_arm_func.c. See sl_arm_expr.h.
 *
 * Grammar (whitespace allowed between any two tokens):
 *   template-string := "[" expr "]"
 *   expr    := primary ( "." identifier | "[" expr "]" )*
 *   primary := "'" chars ("''" is a quote) "'" | "-"? digits
 *            | identifier "(" [ expr ("," expr)* ] ")"
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

#include "sl_arm_expr.h"

enum sl_ax_kind {
	SL_AX_STRING,
	SL_AX_INT,
	SL_AX_CALL,
	SL_AX_MEMBER, /* args[0] '.' text */
	SL_AX_INDEX,  /* args[0] '[' args[1] ']' */
};

/* A node of a parsed expression. */
struct sl_ax {
	enum sl_ax_kind kind;
	uint32_t pos;     /* 1-based position of its first character */
	char *text;       /* a string literal's value, a function's or a member's name */
	int64_t num;
	struct sl_ax **args;
	uint32_t n_args;
};

struct sl_ax_parser {
	const char *s;
	size_t i;   /* next character (0-based) */
	size_t end; /* the closing ']' */
	struct sl_arm_fault *f;
};

/* ---------------------------------------------------------------- faults */

cJSON *
sl_arm_fail(struct sl_arm_fault *f, uint32_t pos, const char *fmt, ...)
{
	va_list ap;

	f->pos = pos;
	f->rc = -EINVAL;
	f->final = false;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	return NULL;
}

cJSON *
sl_arm_nomem(struct sl_arm_fault *f, uint32_t pos)
{
	sl_arm_fail(f, pos, "Out of memory");
	f->rc = -ENOMEM;
	return NULL;
}

/* ---------------------------------------------------------------- values */

const char *
sl_arm_type_name(const cJSON *v)
{
	int64_t i;

	if (cJSON_IsString(v))
		return "String";
	if (cJSON_IsNumber(v))
		return sl_arm_int_of(v, &i) ? "Integer" : "Float";
	if (cJSON_IsBool(v))
		return "Boolean";
	if (cJSON_IsArray(v))
		return "Array";
	if (cJSON_IsObject(v))
		return "Object";
	return "Null";
}

bool
sl_arm_int_of(const cJSON *v, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	if (!(d >= -(double)SL_ARM_INT_EXACT && d <= (double)SL_ARM_INT_EXACT) || d != floor(d))
		return false;
	*out = (int64_t)d;
	return true;
}

static bool
sl_arm_object_equal(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;
	int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);

	if (na != nb)
		return false;
	cJSON_ArrayForEach(x, a) {
		y = cJSON_GetObjectItemCaseSensitive(b, x->string);
		if (y == NULL || !sl_arm_equal(x, y))
			return false;
	}
	return true;
}

bool
sl_arm_equal(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;

	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a) && cJSON_IsString(b))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsBool(a) && cJSON_IsBool(b))
		return cJSON_IsTrue(a) == cJSON_IsTrue(b);
	if (cJSON_IsNull(a) && cJSON_IsNull(b))
		return true;
	if (cJSON_IsObject(a) && cJSON_IsObject(b))
		return sl_arm_object_equal(a, b);
	if (!cJSON_IsArray(a) || !cJSON_IsArray(b))
		return false;
	for (x = a->child, y = b->child; x != NULL && y != NULL; x = x->next, y = y->next)
		if (!sl_arm_equal(x, y))
			return false;
	return x == NULL && y == NULL;
}

bool
sl_arm_array_has(const cJSON *arr, const cJSON *v)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr)
		if (sl_arm_equal(e, v))
			return true;
	return false;
}

uint32_t
sl_arm_depth(const cJSON *v, uint32_t limit)
{
	const cJSON *c;
	uint32_t d, max = 0;

	if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
		return 1;
	if (limit == 0)
		return 1;
	cJSON_ArrayForEach(c, v) {
		d = sl_arm_depth(c, limit - 1);
		if (d > max)
			max = d;
		if (max >= limit)
			break;
	}
	return max + 1;
}

int
sl_arm_charge(struct sl_arm_ctx *ctx, uint64_t nodes, uint64_t bytes, struct sl_arm_fault *f)
{
	struct sl_arm_budget *b = ctx->budget;

	if (b->nodes < nodes || b->bytes < bytes) {
		sl_arm_fail(f, f->pos,
			    "The template creates more than sluice's limit of %u values or %u bytes of text",
			    SL_ARM_BUDGET_NODES, SL_ARM_BUDGET_BYTES);
		return -EINVAL;
	}
	b->nodes -= nodes;
	b->bytes -= bytes;
	return 0;
}

int
sl_arm_frame_open(struct sl_arm_ctx *ctx, struct sl_arm_fault *f)
{
	if (ctx->budget->frames >= SL_ARM_STACK_MAX) {
		sl_arm_fail(f, f->pos,
			    "The template nests values, expressions and the variables they read deeper than %u levels in all",
			    SL_ARM_STACK_MAX);
		return -EINVAL;
	}
	ctx->budget->frames++;
	return 0;
}

void
sl_arm_frame_close(struct sl_arm_ctx *ctx)
{
	ctx->budget->frames--;
}

/* ---------------------------------------------------------------- UTF-8 */

bool
sl_arm_utf8_valid(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	uint32_t cp, min;
	size_t k, more;

	while (p < end) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xC2 && *p <= 0xDF)
			more = 1, cp = *p & 0x1F, min = 0x80;
		else if (*p >= 0xE0 && *p <= 0xEF)
			more = 2, cp = *p & 0x0F, min = 0x800;
		else if (*p >= 0xF0 && *p <= 0xF4)
			more = 3, cp = *p & 0x07, min = 0x10000;
		else
			return false;
		if ((size_t)(end - p) <= more)
			return false;
		for (k = 1; k <= more; k++) {
			if ((p[k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (p[k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		p += more + 1;
	}
	return true;
}

size_t
sl_arm_utf8_count(const char *s, size_t n)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++)
		count += ((uint8_t)s[i] & 0xC0) != 0x80;
	return count;
}

size_t
sl_arm_utf8_offset(const char *s, size_t n, size_t cp)
{
	size_t i = 0;

	for (; cp > 0 && i < n; cp--)
		for (i++; i < n && ((uint8_t)s[i] & 0xC0) == 0x80; i++)
			;
	return i;
}

cJSON *
sl_arm_new_string(struct sl_arm_ctx *ctx, const char *s, size_t len, struct sl_arm_fault *f)
{
	cJSON *v;
	char *copy;

	if (len > SL_ARM_STRING_MAX)
		return sl_arm_fail(f, f->pos, "A string would be longer than sluice's limit of %u bytes",
				   SL_ARM_STRING_MAX);
	if (!sl_arm_utf8_valid(s, len)) /* no function may make one */
		return sl_arm_fail(f, f->pos, "A string would not be valid UTF-8 text");
	if (sl_arm_charge(ctx, 1, len, f) < 0)
		return NULL;
	copy = malloc(len + 1);
	if (copy == NULL)
		return sl_arm_nomem(f, f->pos);
	memcpy(copy, s, len);
	copy[len] = '\0';
	v = cJSON_CreateString(copy);
	free(copy);
	return v != NULL ? v : sl_arm_nomem(f, f->pos);
}

cJSON *
sl_arm_new_int(struct sl_arm_ctx *ctx, int64_t i, struct sl_arm_fault *f)
{
	if (i > SL_ARM_INT_EXACT || i < -SL_ARM_INT_EXACT)
		return sl_arm_fail(f, f->pos,
				   "The integer %" PRId64 " is beyond 2^53, the largest a JSON number holds exactly",
				   i);
	return sl_arm_adopt(ctx, cJSON_CreateNumber((double)i), f);
}

cJSON *
sl_arm_new_bool(struct sl_arm_ctx *ctx, bool b, struct sl_arm_fault *f)
{
	return sl_arm_adopt(ctx, cJSON_CreateBool(b), f);
}

cJSON *
sl_arm_new_container(struct sl_arm_ctx *ctx, bool object, struct sl_arm_fault *f)
{
	return sl_arm_adopt(ctx, object ? cJSON_CreateObject() : cJSON_CreateArray(), f);
}

/* Values and bytes of text in v, counting no further than the budget left. */
static void
sl_arm_size(const cJSON *v, uint64_t *nodes, uint64_t *bytes, const struct sl_arm_budget *b)
{
	const cJSON *c;

	*nodes += 1;
	if (v->string != NULL)
		*bytes += strlen(v->string);
	if (cJSON_IsString(v))
		*bytes += strlen(v->valuestring);
	if (*nodes > b->nodes || *bytes > b->bytes)
		return;
	for (c = v->child; c != NULL; c = c->next) {
		sl_arm_size(c, nodes, bytes, b);
		if (*nodes > b->nodes || *bytes > b->bytes)
			return;
	}
}

cJSON *
sl_arm_dup(struct sl_arm_ctx *ctx, const cJSON *v, struct sl_arm_fault *f)
{
	uint64_t nodes = 0, bytes = 0;
	cJSON *copy;

	sl_arm_size(v, &nodes, &bytes, ctx->budget);
	if (sl_arm_charge(ctx, nodes, bytes, f) < 0)
		return NULL;
	copy = cJSON_Duplicate(v, true);
	return copy != NULL ? copy : sl_arm_nomem(f, f->pos);
}

cJSON *
sl_arm_adopt(struct sl_arm_ctx *ctx, cJSON *v, struct sl_arm_fault *f)
{
	uint64_t nodes = 0, bytes = 0;

	if (v == NULL)
		return sl_arm_nomem(f, f->pos);
	sl_arm_size(v, &nodes, &bytes, ctx->budget);
	if (sl_arm_charge(ctx, nodes, bytes, f) < 0) {
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

/* ---------------------------------------------------------------- parser */

static void
sl_ax_free(struct sl_ax *n)
{
	uint32_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n_args; i++)
		sl_ax_free(n->args[i]);
	free(n->args);
	free(n->text);
	free(n);
}

static struct sl_ax *
sl_ax_new(struct sl_ax_parser *p, enum sl_ax_kind kind, size_t at)
{
	struct sl_ax *n = calloc(1, sizeof(*n));

	if (n == NULL) {
		sl_arm_nomem(p->f, (uint32_t)at + 1);
		return NULL;
	}
	n->kind = kind;
	n->pos = (uint32_t)at + 1;
	return n;
}

static int
sl_ax_push(struct sl_ax_parser *p, struct sl_ax *parent, struct sl_ax *child)
{
	struct sl_ax **grown;

	if ((parent->n_args & (parent->n_args - 1)) == 0) { /* 0, 1, 2, 4...: grow */
		grown = realloc(parent->args,
				sizeof(*grown) * (parent->n_args == 0 ? 1 : parent->n_args * 2));
		if (grown == NULL) {
			sl_ax_free(child);
			sl_arm_nomem(p->f, child->pos);
			return -ENOMEM;
		}
		parent->args = grown;
	}
	parent->args[parent->n_args++] = child;
	return 0;
}

static void
sl_ax_ws(struct sl_ax_parser *p)
{
	while (p->i < p->end && isspace((unsigned char)p->s[p->i]))
		p->i++;
}

/* Fault at the next character: "<what> but found 'c'" or "... the expression ended". */
static struct sl_ax *
sl_ax_unexpected(struct sl_ax_parser *p, const char *want)
{
	if (p->i >= p->end)
		sl_arm_fail(p->f, (uint32_t)p->i + 1, "Expected %s but the expression ended", want);
	else
		sl_arm_fail(p->f, (uint32_t)p->i + 1, "Expected %s but found '%c'", want,
			    p->s[p->i]);
	return NULL;
}

static bool
sl_ax_is_ident(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' || (!first && isdigit((unsigned char)c));
}

static char *
sl_ax_ident(struct sl_ax_parser *p)
{
	size_t start = p->i;
	char *name;

	while (p->i < p->end && sl_ax_is_ident(p->s[p->i], p->i == start))
		p->i++;
	name = strndup(p->s + start, p->i - start);
	if (name == NULL)
		sl_arm_nomem(p->f, (uint32_t)start + 1);
	return name;
}

static struct sl_ax *
sl_ax_string(struct sl_ax_parser *p)
{
	size_t start = p->i, j, k = 0;
	struct sl_ax *n;

	for (j = start + 1;; j++) {
		if (j >= p->end) {
			sl_arm_fail(p->f, (uint32_t)start + 1, "The string literal is not closed");
			return NULL;
		}
		if (p->s[j] == '\'' && (j + 1 >= p->end || p->s[j + 1] != '\''))
			break;
		if (p->s[j] == '\'')
			j++;
	}
	n = sl_ax_new(p, SL_AX_STRING, start);
	if (n == NULL)
		return NULL;
	n->text = malloc(j - start);
	if (n->text == NULL) {
		sl_ax_free(n);
		sl_arm_nomem(p->f, (uint32_t)start + 1);
		return NULL;
	}
	for (p->i = start + 1; p->i < j; p->i++) {
		n->text[k++] = p->s[p->i];
		if (p->s[p->i] == '\'')
			p->i++; /* the second quote of '' */
	}
	n->text[k] = '\0';
	p->i = j + 1;
	return n;
}

static struct sl_ax *
sl_ax_int(struct sl_ax_parser *p)
{
	size_t start = p->i;
	bool neg = p->s[p->i] == '-';
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	struct sl_ax *n;

	if (neg)
		p->i++;
	if (p->i >= p->end || !isdigit((unsigned char)p->s[p->i]))
		return sl_ax_unexpected(p, "a digit after '-'");
	while (p->i < p->end && isdigit((unsigned char)p->s[p->i])) {
		unsigned int d = (unsigned int)(p->s[p->i] - '0');
		if (v > (lim - d) / 10) {
			sl_arm_fail(p->f, (uint32_t)start + 1,
				    "The integer literal does not fit in 64 bits");
			return NULL;
		}
		v = v * 10 + d;
		p->i++;
	}
	n = sl_ax_new(p, SL_AX_INT, start);
	if (n != NULL)
		n->num = neg ? (int64_t)(0 - v) : (int64_t)v;
	return n;
}

static struct sl_ax *sl_ax_expr(struct sl_ax_parser *p, uint32_t depth);

static struct sl_ax *
sl_ax_call(struct sl_ax_parser *p, uint32_t depth)
{
	size_t start = p->i;
	struct sl_ax *n, *arg;

	n = sl_ax_new(p, SL_AX_CALL, start);
	if (n == NULL)
		return NULL;
	n->text = sl_ax_ident(p);
	if (n->text == NULL)
		goto fail;
	sl_ax_ws(p);
	if (p->i >= p->end || p->s[p->i] != '(') {
		sl_ax_unexpected(p, "'(' after a function name");
		goto fail;
	}
	p->i++;
	sl_ax_ws(p);
	if (p->i < p->end && p->s[p->i] == ')') {
		p->i++;
		return n;
	}
	for (;;) {
		arg = sl_ax_expr(p, depth + 1);
		if (arg == NULL || sl_ax_push(p, n, arg) < 0)
			goto fail;
		sl_ax_ws(p);
		if (p->i < p->end && p->s[p->i] == ')') {
			p->i++;
			return n;
		}
		if (p->i >= p->end || p->s[p->i] != ',') {
			sl_ax_unexpected(p, "',' or ')'");
			goto fail;
		}
		p->i++;
	}
fail:
	sl_ax_free(n);
	return NULL;
}

static struct sl_ax *
sl_ax_primary(struct sl_ax_parser *p, uint32_t depth)
{
	char c;

	sl_ax_ws(p);
	if (p->i >= p->end)
		return sl_ax_unexpected(p, "a value or a function call");
	c = p->s[p->i];
	if (c == '\'')
		return sl_ax_string(p);
	if (c == '-' || isdigit((unsigned char)c))
		return sl_ax_int(p);
	if (sl_ax_is_ident(c, true))
		return sl_ax_call(p, depth);
	return sl_ax_unexpected(p, "a value or a function call");
}

/* base '.' name or base '[' expr ']': a node holding base. */
static struct sl_ax *
sl_ax_select(struct sl_ax_parser *p, struct sl_ax *base, uint32_t depth)
{
	bool member = p->s[p->i] == '.';
	struct sl_ax *n, *index;

	n = sl_ax_new(p, member ? SL_AX_MEMBER : SL_AX_INDEX, p->i);
	if (n == NULL)
		goto fail;
	p->i++;
	if (sl_ax_push(p, n, base) < 0) {
		base = NULL;
		goto fail;
	}
	base = NULL;
	sl_ax_ws(p);
	if (member) {
		if (p->i >= p->end || !sl_ax_is_ident(p->s[p->i], true)) {
			sl_ax_unexpected(p, "a property name after '.'");
			goto fail;
		}
		n->text = sl_ax_ident(p);
		if (n->text == NULL)
			goto fail;
		return n;
	}
	index = sl_ax_expr(p, depth + 1);
	if (index == NULL || sl_ax_push(p, n, index) < 0)
		goto fail;
	sl_ax_ws(p);
	if (p->i >= p->end || p->s[p->i] != ']') {
		sl_ax_unexpected(p, "']'");
		goto fail;
	}
	p->i++;
	return n;
fail:
	sl_ax_free(base);
	sl_ax_free(n);
	return NULL;
}

static struct sl_ax *
sl_ax_expr(struct sl_ax_parser *p, uint32_t depth)
{
	struct sl_ax *n;

	if (depth > SL_ARM_DEPTH_MAX) {
		sl_arm_fail(p->f, (uint32_t)p->i + 1,
			    "The expression nests calls and selections deeper than %u levels",
			    SL_ARM_DEPTH_MAX);
		return NULL;
	}
	n = sl_ax_primary(p, depth);
	for (;;) {
		if (n == NULL)
			return NULL;
		sl_ax_ws(p);
		if (p->i >= p->end || (p->s[p->i] != '.' && p->s[p->i] != '['))
			return n;
		if (++depth > SL_ARM_DEPTH_MAX) {
			sl_ax_free(n);
			sl_arm_fail(p->f, (uint32_t)p->i + 1,
				    "The expression nests calls and selections deeper than %u levels",
				    SL_ARM_DEPTH_MAX);
			return NULL;
		}
		n = sl_ax_select(p, n, depth);
	}
}

/* Parse the expression of text (len bytes, "[...]"). */
static struct sl_ax *
sl_ax_parse(const char *text, size_t len, struct sl_arm_fault *f)
{
	struct sl_ax_parser p = {.s = text, .i = 1, .end = len - 1, .f = f};
	struct sl_ax *root;

	root = sl_ax_expr(&p, 0);
	if (root == NULL)
		return NULL;
	sl_ax_ws(&p);
	if (p.i < p.end) {
		sl_arm_fail(f, (uint32_t)p.i + 1, "Expected the end of the expression but found '%c'",
			    text[p.i]);
		sl_ax_free(root);
		return NULL;
	}
	return root;
}

/* ---------------------------------------------------------------- evaluator */

static cJSON *sl_ax_eval(struct sl_arm_ctx *ctx, const struct sl_ax *n, struct sl_arm_fault *f);

static cJSON *
sl_ax_member(struct sl_arm_ctx *ctx, const struct sl_ax *n, struct sl_arm_fault *f)
{
	cJSON *base, *item;

	base = sl_ax_eval(ctx, n->args[0], f);
	if (base == NULL)
		return NULL;
	if (!cJSON_IsObject(base)) {
		sl_arm_fail(f, n->pos, "The property '%s' cannot be selected from a value of type '%s'",
			    n->text, sl_arm_type_name(base));
		cJSON_Delete(base);
		return NULL;
	}
	item = cJSON_DetachItemFromObject(base, n->text); /* case-insensitive */
	cJSON_Delete(base);
	if (item == NULL)
		return sl_arm_fail(f, n->pos, "The language expression property '%s' doesn't exist",
				   n->text);
	return item;
}

static cJSON *
sl_ax_index(struct sl_arm_ctx *ctx, const struct sl_ax *n, struct sl_arm_fault *f)
{
	cJSON *base, *index, *item = NULL;
	int64_t i;

	base = sl_ax_eval(ctx, n->args[0], f);
	if (base == NULL)
		return NULL;
	index = sl_ax_eval(ctx, n->args[1], f);
	if (index == NULL) {
		cJSON_Delete(base);
		return NULL;
	}
	if (cJSON_IsArray(base) && sl_arm_int_of(index, &i)) {
		if (i >= 0 && i < cJSON_GetArraySize(base))
			item = cJSON_DetachItemFromArray(base, (int)i);
		else
			sl_arm_fail(f, n->args[1]->pos,
				    "The language expression array index '%" PRId64
				    "' is out of bounds (the array has %d elements)",
				    i, cJSON_GetArraySize(base));
	} else if (cJSON_IsObject(base) && cJSON_IsString(index)) {
		item = cJSON_DetachItemFromObject(base, index->valuestring);
		if (item == NULL)
			sl_arm_fail(f, n->args[1]->pos,
				    "The language expression property named by the index doesn't exist");
	} else {
		sl_arm_fail(f, n->pos, "A value of type '%s' cannot be indexed by a value of type '%s'",
			    sl_arm_type_name(base), sl_arm_type_name(index));
	}
	cJSON_Delete(base);
	cJSON_Delete(index);
	return item;
}

/* if(condition, then, else): only the branch chosen is evaluated. */
static cJSON *
sl_ax_if(struct sl_arm_ctx *ctx, const struct sl_ax *n, struct sl_arm_fault *f)
{
	cJSON *cond;
	bool yes;

	cond = sl_ax_eval(ctx, n->args[0], f);
	if (cond == NULL)
		return NULL;
	if (!cJSON_IsBool(cond)) {
		sl_arm_fail(f, n->args[0]->pos,
			    "The template function 'if' expects its first argument to be of type 'Boolean'; it is of type '%s'",
			    sl_arm_type_name(cond));
		cJSON_Delete(cond);
		return NULL;
	}
	yes = cJSON_IsTrue(cond);
	cJSON_Delete(cond);
	return sl_ax_eval(ctx, n->args[yes ? 1 : 2], f);
}

static cJSON *
sl_ax_unknown(const struct sl_ax *n, struct sl_arm_fault *f)
{
	const char *why = sl_arm_func_unsupported(n->text);

	if (why != NULL)
		return sl_arm_fail(f, n->pos, "The template function '%s' is not supported: %s",
				   n->text, why);
	return sl_arm_fail(f, n->pos, "The template function '%.100s' is not valid", n->text);
}

static cJSON *
sl_ax_call_eval(struct sl_arm_ctx *ctx, const struct sl_ax *n, struct sl_arm_fault *f)
{
	const struct sl_arm_func *fn = sl_arm_func_find(n->text);
	struct sl_arm_call c = {.ctx = ctx, .pos = n->pos, .n = n->n_args, .f = f};
	cJSON *out = NULL;
	uint32_t i;

	if (fn == NULL)
		return sl_ax_unknown(n, f);
	c.name = fn->name;
	if (n->n_args < fn->min_args || n->n_args > fn->max_args) {
		if (fn->min_args == fn->max_args)
			return sl_arm_fail(f, n->pos,
					   "The template function '%s' expects %u argument%s; it was given %u",
					   fn->name, fn->min_args, fn->min_args == 1 ? "" : "s",
					   n->n_args);
		if (n->n_args < fn->min_args)
			return sl_arm_fail(f, n->pos,
					   "The template function '%s' expects at least %u argument%s; it was given %u",
					   fn->name, fn->min_args, fn->min_args == 1 ? "" : "s",
					   n->n_args);
		return sl_arm_fail(f, n->pos,
				   "The template function '%s' expects at most %u argument%s; it was given %u",
				   fn->name, fn->max_args, fn->max_args == 1 ? "" : "s", n->n_args);
	}
	if (fn->fn == NULL)
		return sl_ax_if(ctx, n, f);
	c.v = calloc(n->n_args + 1, sizeof(*c.v));
	c.arg_pos = calloc(n->n_args + 1, sizeof(*c.arg_pos));
	if (c.v == NULL || c.arg_pos == NULL) {
		sl_arm_nomem(f, n->pos);
		goto out;
	}
	for (i = 0; i < n->n_args; i++) {
		((uint32_t *)c.arg_pos)[i] = n->args[i]->pos;
		c.v[i] = sl_ax_eval(ctx, n->args[i], f);
		if (c.v[i] == NULL)
			goto out;
	}
	f->pos = n->pos; /* where a helper's fault (budget, memory) points */
	out = fn->fn(&c);
out:
	for (i = 0; c.v != NULL && i < n->n_args; i++)
		cJSON_Delete(c.v[i]);
	free(c.v);
	free((uint32_t *)c.arg_pos);
	return out;
}

static cJSON *
sl_ax_eval_node(struct sl_arm_ctx *ctx, const struct sl_ax *n, struct sl_arm_fault *f)
{
	switch (n->kind) {
	case SL_AX_STRING:
		return sl_arm_new_string(ctx, n->text, strlen(n->text), f);
	case SL_AX_INT:
		return sl_arm_new_int(ctx, n->num, f);
	case SL_AX_MEMBER:
		return sl_ax_member(ctx, n, f);
	case SL_AX_INDEX:
		return sl_ax_index(ctx, n, f);
	case SL_AX_CALL:
		break;
	}
	return sl_ax_call_eval(ctx, n, f);
}

static cJSON *
sl_ax_eval(struct sl_arm_ctx *ctx, const struct sl_ax *n, struct sl_arm_fault *f)
{
	cJSON *v;

	f->pos = n->pos;
	if (sl_arm_frame_open(ctx, f) < 0)
		return NULL;
	v = sl_ax_eval_node(ctx, n, f);
	sl_arm_frame_close(ctx);
	return v;
}

/* ---------------------------------------------------------------- entry */

bool
sl_arm_is_expr(const char *text)
{
	size_t len = strlen(text);

	return len >= 2 && text[0] == '[' && text[1] != '[' && text[len - 1] == ']';
}

/* Fill ctx->err from a fault of the expression text (not a final one). */
static void
sl_arm_fault_report(struct sl_arm_ctx *ctx, const struct sl_arm_fault *f, const char *text,
		    const char *target, const char *json_path)
{
	size_t len = strlen(text);

	if (f->rc == -ENOMEM) {
		sl_error_set(ctx->err, "OutOfMemory", target, json_path,
			     "Out of memory evaluating a template expression.");
		return;
	}
	sl_error_set(ctx->err, "InvalidTemplate", target, json_path,
		     "%s (at position %u of '%.*s%s').", f->msg, f->pos, len > 160 ? 160 : (int)len,
		     text, len > 160 ? "..." : "");
}

cJSON *
sl_arm_expr_eval(struct sl_arm_ctx *ctx, const char *text, const char *target,
		 const char *json_path, int *rc)
{
	struct sl_arm_fault f = {.pos = 1, .rc = -EINVAL};
	size_t len = strlen(text);
	struct sl_ax *root;
	cJSON *v = NULL;

	if (!sl_arm_is_expr(text)) {
		if (len >= 2 && text[0] == '[' && text[1] == '[')
			v = sl_arm_new_string(ctx, text + 1, len - 1, &f);
		else
			v = sl_arm_new_string(ctx, text, len, &f);
	} else if (len > SL_ARM_EXPR_MAX) {
		sl_arm_fail(&f, SL_ARM_EXPR_MAX + 1,
			    "The expression is longer than ARM's limit of %u characters",
			    SL_ARM_EXPR_MAX);
	} else {
		root = sl_ax_parse(text, len, &f);
		if (root != NULL)
			v = sl_ax_eval(ctx, root, &f);
		sl_ax_free(root);
	}
	if (v != NULL)
		return v;
	if (!f.final)
		sl_arm_fault_report(ctx, &f, text, target, json_path);
	*rc = f.rc != 0 ? f.rc : -EINVAL;
	return NULL;
}

int
sl_arm_expr_check(struct sl_arm_ctx *ctx, const char *text, const char *target,
		  const char *json_path)
{
	struct sl_arm_fault f = {.pos = 1, .rc = -EINVAL};
	size_t len = strlen(text);
	struct sl_ax *root;

	if (!sl_arm_is_expr(text))
		return 0;
	if (len > SL_ARM_EXPR_MAX) {
		sl_arm_fail(&f, SL_ARM_EXPR_MAX + 1,
			    "The expression is longer than ARM's limit of %u characters",
			    SL_ARM_EXPR_MAX);
	} else {
		root = sl_ax_parse(text, len, &f);
		if (root != NULL) {
			sl_ax_free(root);
			return 0;
		}
	}
	if (!f.final)
		sl_arm_fault_report(ctx, &f, text, target, json_path);
	return f.rc != 0 ? f.rc : -EINVAL;
}
