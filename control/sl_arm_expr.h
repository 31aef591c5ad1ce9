/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_arm_expr.h: the ARM template expression language, the internal
 * interface of sl_arm_expr.c (parser, evaluator, value helpers) and
 * sl_arm_func.c (the functions), used by sl_arm_template.c.
 *
 * A template string "[f(a, 'b')[0].c]" is parsed into a tree of nodes, each
 * with the 1-based character position it starts at in the string, then
 * evaluated against a context: the scope (subscription, resource group,
 * deployment), a lookup for parameters() and variables(), the copy loops
 * being unrolled, and a budget shared by a whole expansion.
 *
 * Values are cJSON trees. Integers are 64-bit while computed (overflow is
 * an error) and JSON numbers (doubles) once computed, so a value must lie
 * within +-2^53 to be kept exactly: a result beyond that is refused rather
 * than rounded. Strings are measured and indexed in bytes (the same as
 * characters for ASCII, which ARM names are).
 *
 * Limits, so that no template can exhaust sluiced: an expression of at most
 * SL_ARM_EXPR_MAX characters, calls and selections nested at most
 * SL_ARM_DEPTH_MAX deep, values and templates at most SL_ARM_JSON_DEPTH_MAX
 * deep, strings of at most SL_ARM_STRING_MAX bytes, at most
 * SL_ARM_STACK_MAX frames of recursion open at once, and per expansion at
 * most SL_ARM_BUDGET_NODES values and SL_ARM_BUDGET_BYTES bytes of text
 * created in all.
 */
#ifndef SL_ARM_EXPR_H
#define SL_ARM_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sl_arm_template.h"
#include "sl_error.h"

#define SL_ARM_EXPR_MAX 24576         /* ARM's longest expression, in characters */
#define SL_ARM_DEPTH_MAX 64           /* calls, selections and lookups nested in one evaluation */
#define SL_ARM_JSON_DEPTH_MAX 64      /* nesting of a value or of a template */
#define SL_ARM_STRING_MAX (1u << 20)  /* longest string value, in bytes */
#define SL_ARM_BUDGET_NODES 2000000u  /* values created per expansion */
#define SL_ARM_BUDGET_BYTES (64u << 20) /* bytes of text created per expansion */
#define SL_ARM_LOOPS_MAX 8            /* copy loops open at once */
#define SL_ARM_STACK_MAX 512          /* walks and evaluations nested in all (see struct sl_arm_budget) */
#define SL_ARM_INT_EXACT (INT64_C(1) << 53)

/*
 * What one expansion (or one sl_arm_eval) may still create, and how deep
 * its recursion is: values walked, expressions evaluated and the variables
 * and parameters they read nest into each other, so the three limits above
 * would multiply; the frames open at once are bounded by SL_ARM_STACK_MAX.
 */
struct sl_arm_budget {
	uint64_t nodes;
	uint64_t bytes;
	uint32_t frames; /* open now */
};

/* A copy loop being unrolled: copyIndex('name') reads it. */
struct sl_arm_loop {
	const char *name;
	int64_t index;
	bool unnamed; /* copyIndex() without a name reads it (resource and output loops) */
};

/*
 * Why an evaluation stopped: the position (1-based, in the template string)
 * and the reason, or `final` when ctx->err already holds the whole error
 * (a variable's or parameter's own, found while looking it up).
 */
struct sl_arm_fault {
	uint32_t pos;
	int rc; /* -EINVAL, -ENOMEM */
	bool final;
	char msg[400];
};

enum sl_arm_ref {
	SL_ARM_REF_PARAMETER,
	SL_ARM_REF_VARIABLE,
};

struct sl_arm_ctx;

/*
 * parameters('name') or variables('name'): the value (borrowed, alive as
 * long as the expansion), or NULL with the fault filled (f->msg, or
 * f->final with ctx->err filled).
 */
typedef const cJSON *(*sl_arm_lookup_fn)(struct sl_arm_ctx *ctx, enum sl_arm_ref kind,
					  const char *name, struct sl_arm_fault *f);

struct sl_arm_ctx {
	const struct sl_arm_scope *scope;
	const char *content_version;  /* deployment().properties.template.contentVersion; NULL: none */
	sl_arm_lookup_fn lookup;
	void *opaque;                 /* the lookup's */
	bool no_variables;            /* parameters' defaults may not read variables */
	struct sl_arm_loop loops[SL_ARM_LOOPS_MAX];
	uint32_t n_loops;
	uint32_t depth;               /* lookups nested (a variable reading a variable...) */
	struct sl_arm_budget *budget;
	struct sl_error *err;
};

/*
 * Evaluate template string text (any string of a template) in ctx: an
 * expression's value, "[[..." less its first '[', or the string itself.
 * Returns a new value, or NULL with ctx->err filled (InvalidTemplate with
 * the expression and the position in the message, target and json_path as
 * given; OutOfMemory) and *rc set to -EINVAL or -ENOMEM.
 */
cJSON *sl_arm_expr_eval(struct sl_arm_ctx *ctx, const char *text, const char *target,
			const char *json_path, int *rc);

/*
 * Parse text's expression without evaluating it (nothing when text is none):
 * 0, or -EINVAL (-ENOMEM) with ctx->err filled as sl_arm_expr_eval() does.
 */
int sl_arm_expr_check(struct sl_arm_ctx *ctx, const char *text, const char *target,
		      const char *json_path);

/* Whether text is an expression ("[...]", not "[[..."). */
bool sl_arm_is_expr(const char *text);

/* s, or a fixed scope (zero subscription, "resourceGroup", "deployment") when s or a member is NULL. */
const struct sl_arm_scope *sl_arm_scope_or_default(const struct sl_arm_scope *s);

/* ---- value helpers shared by the evaluator, the functions and the expansion ---- */

/* ARM's name of v's type: "String", "Integer", "Float", "Boolean", "Array", "Object", "Null". */
const char *sl_arm_type_name(const cJSON *v);

/* Whether v is a number holding an integer within +-2^53; *out its value. */
bool sl_arm_int_of(const cJSON *v, int64_t *out);

/* ARM's equals(): deep, case-sensitive, integers by value. */
bool sl_arm_equal(const cJSON *a, const cJSON *b);

/* Whether an element of the array arr equals v (sl_arm_equal). */
bool sl_arm_array_has(const cJSON *arr, const cJSON *v);

/* Nesting of v (a scalar is 1), counted no further than limit + 1. */
uint32_t sl_arm_depth(const cJSON *v, uint32_t limit);

/*
 * Open one more frame of recursion (a value walked, an expression node
 * evaluated): -EINVAL with f filled when SL_ARM_STACK_MAX are open; close
 * it with sl_arm_frame_close() when it returns.
 */
int sl_arm_frame_open(struct sl_arm_ctx *ctx, struct sl_arm_fault *f);
void sl_arm_frame_close(struct sl_arm_ctx *ctx);

/* Count n values and bytes of text against the budget; -EINVAL with f filled when spent. */
int sl_arm_charge(struct sl_arm_ctx *ctx, uint64_t nodes, uint64_t bytes, struct sl_arm_fault *f);

/* New values, counted against the budget; NULL with f filled. */
cJSON *sl_arm_new_string(struct sl_arm_ctx *ctx, const char *s, size_t len,
			 struct sl_arm_fault *f);
cJSON *sl_arm_new_int(struct sl_arm_ctx *ctx, int64_t v, struct sl_arm_fault *f);
cJSON *sl_arm_new_bool(struct sl_arm_ctx *ctx, bool v, struct sl_arm_fault *f);
cJSON *sl_arm_new_container(struct sl_arm_ctx *ctx, bool object, struct sl_arm_fault *f);
/* A deep copy of v, counted. */
cJSON *sl_arm_dup(struct sl_arm_ctx *ctx, const cJSON *v, struct sl_arm_fault *f);
/* v (built with cJSON's own calls; NULL: out of memory) counted, or freed and NULL when spent. */
cJSON *sl_arm_adopt(struct sl_arm_ctx *ctx, cJSON *v, struct sl_arm_fault *f);

/*
 * The id of resource `name` ("lb1/pool1") of `type`
 * ("Microsoft.Network/loadBalancers/backendAddressPools") in resource group
 * rg of subscription sub (rg NULL: a subscription-level id):
 * "/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{t1}/{n1}/{t2}/{n2}".
 * Returns it (malloc'd), or NULL with *rc -EINVAL (a segment empty, or the
 * name has not one segment per type segment after the namespace) or -ENOMEM.
 */
char *sl_arm_format_id(const char *sub, const char *rg, const char *type, const char *name,
		       int *rc);

/* Fill f (position pos): returns NULL for `return sl_arm_fail(...)`. */
cJSON *sl_arm_fail(struct sl_arm_fault *f, uint32_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Fill f with out of memory. */
cJSON *sl_arm_nomem(struct sl_arm_fault *f, uint32_t pos);

/* ---- the functions (sl_arm_func.c) ---- */

/* One call being evaluated: the arguments' values and positions. */
struct sl_arm_call {
	struct sl_arm_ctx *ctx;
	const char *name;       /* the function's name as ARM spells it */
	uint32_t pos;           /* of the function's name */
	cJSON **v;              /* the arguments, owned by the evaluator (a function may take one: NULL it) */
	const uint32_t *arg_pos;
	uint32_t n;
	struct sl_arm_fault *f;
};

typedef cJSON *(*sl_arm_fn)(struct sl_arm_call *c);

struct sl_arm_func {
	const char *name;
	uint32_t min_args;
	uint32_t max_args; /* UINT32_MAX: any number */
	sl_arm_fn fn;      /* NULL: if(), which the evaluator runs itself (lazily) */
};

/* The function named name (case-insensitively), or NULL. */
const struct sl_arm_func *sl_arm_func_find(const char *name);

/* Why a function ARM has is not here (reference(), list*()...); NULL when ARM has none such. */
const char *sl_arm_func_unsupported(const char *name);

/*
 * UTF-8. ARM counts a string's characters as .NET does, in UTF-16 code
 * units; sluice counts code points, which is the same outside the astral
 * planes (a character beyond U+FFFF is 2 for ARM, 1 here). Every string an
 * expansion reads is checked valid first, so the counting needs no checks.
 */
bool sl_arm_utf8_valid(const char *s, size_t n);
/* Code points in the n bytes at s. */
size_t sl_arm_utf8_count(const char *s, size_t n);
/* The byte offset of code point cp (n when the n bytes at s hold fewer). */
size_t sl_arm_utf8_offset(const char *s, size_t n, size_t cp);

#endif /* SL_ARM_EXPR_H */
