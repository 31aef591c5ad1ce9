/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_arm_template.h: Azure Resource Manager templates, expanded.
 *
 * A template ({"$schema", "contentVersion", "parameters", "variables",
 * "resources", "outputs"}) and the deployment's parameter values
 * ({"p": {"value": ...}}) become the list of resources to create or update,
 * every expression evaluated ("[concat(parameters('a'), '-x')]"), copy loops
 * unrolled (resource-level and property-level), nested child resources
 * lifted out with their full names ("lb/pool"), resources whose "condition"
 * is false left out, and the rest put in an order that honours dependsOn
 * (a cycle is refused), each keeping what its dependsOn resolved to.
 * Outputs are evaluated after the resources.
 *
 * Nothing here knows what a resource type means: the deployment engine
 * (sl_deploy.h) maps the expanded resources onto the desired-state document.
 * Pure C over cJSON, no DPDK; the expression parser is fuzzed on its own
 * (tests/fuzz/fuzz_arm_expr.c).
 *
 * Errors follow ARM: code InvalidTemplate (the template or an expression is
 * wrong: the message names the expression and the character position of the
 * fault, json_path the member that holds it, target the resource or
 * parameter), or InvalidTemplate with the parameter named for a missing or
 * out-of-range parameter value.
 *
 * The expression language (sl_arm_expr.c, sl_arm_func.c). A string that
 * starts with '[' and ends with ']' is an expression; "[[" starts a literal
 * (the text less its first '['); any other string is itself. Inside: string
 * literals in single quotes ('' is a quote), integers (64-bit, optionally
 * negative), function calls (names case-insensitive), property selection
 * `.name` and index selection `[expr]` on any value (object members by key,
 * case-insensitively; array elements by integer), whitespace between any
 * two tokens. true and false are the functions true() and false().
 * Functions, with ARM's semantics and ARM's errors on a wrong number or type
 * of arguments:
 *   scope:       parameters, variables, resourceGroup (id, name, type,
 *                location, tags, properties.provisioningState), subscription
 *                (id, subscriptionId, tenantId, displayName), deployment
 *                (name, properties.template.contentVersion), copyIndex([loop],
 *                [offset])
 *   ids:         resourceId([subscriptionId], [resourceGroupName], type,
 *                names...), subscriptionResourceId([subscriptionId], type,
 *                names...): one name per type segment after the namespace
 *   hashes:      uniqueString (13 characters of base 32 from MurmurHash64A of
 *                the arguments joined by '-': deterministic, but not
 *                byte-identical to Azure's, whose algorithm is unpublished),
 *                guid (a version 5 UUID of the arguments joined by '-')
 *   strings:     concat (strings, integers, booleans; or arrays), format
 *                (.NET composite: {0}, {0,align}, {0:D3}, N, F, X with a
 *                precision; {{ and }}), toLower, toUpper, trim, substring,
 *                indexOf, lastIndexOf, startsWith, endsWith (the last four
 *                case-insensitive), replace, split (a delimiter or an array of
 *                them), padLeft, base64, base64ToString, uri, string
 *   logic:       if (lazy: only the branch chosen is evaluated), equals (deep,
 *                case-sensitive), not, and, or (two or more), true, false,
 *                null, coalesce
 *   numbers:     add, sub, mul, div, mod (64-bit, overflow and division by
 *                zero refused), less, lessOrEquals, greater, greaterOrEquals
 *                (integers, or strings ordinally), min, max (integers or one
 *                array of them), range (count <= 10000), int, bool
 *   collections: length, empty, contains (substring, element, or object key
 *                case-insensitively), first, last, take, skip (strings and
 *                arrays), createArray, array, createObject, union (objects
 *                merged shallowly, arrays without repeats), intersection, json
 * reference(), references() and the list*() functions are refused: sluice's
 * resources are its own documents, with no runtime state or keys to read.
 * Strings are measured and indexed in bytes. Integers are exact within
 * +-2^53 (JSON numbers are doubles): a result beyond is refused.
 *
 * Limits (so no template can hurt sluiced): expressions of 24576
 * characters, calls and selections nested 64 deep, values 64 deep, 512
 * frames of recursion open at once (values, expressions and the variables
 * they read, together), strings of 1 MiB, 2,000,000 values and 64 MiB of
 * text created per expansion, copy
 * counts of 800, SL_ARM_RESOURCES_MAX resources, SL_ARM_NEST_MAX levels of
 * nested resources.
 */
#ifndef SL_ARM_TEMPLATE_H
#define SL_ARM_TEMPLATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "sl_error.h"
#include "sl_json.h"

#define SL_ARM_TYPE_MAX 192 /* a full resource type and the NUL */
#define SL_ARM_NAME_MAX 256 /* a full resource name ("lb/pool") and the NUL */
#define SL_ARM_ID_MAX 768   /* a full resource id and the NUL */

#define SL_ARM_COPY_MAX 800         /* ARM's largest copy count */
#define SL_ARM_RESOURCES_MAX 4096   /* resource instances per template, conditions false included */
/*
 * Dependencies between them, each counted once: 800 instances each waiting
 * for a loop of 800 (640,000) fit; the bound keeps the memory of one
 * expansion and of its record in tens of MiB.
 */
#define SL_ARM_EDGES_MAX 1000000u
#define SL_ARM_NEST_MAX 8           /* levels of nested "resources" */
#define SL_ARM_TEMPLATE_DEPTH_MAX 128 /* nesting of the template's and the parameters' JSON */

/* What the template's scope functions see. */
struct sl_arm_scope {
	const char *subscription;   /* subscription().subscriptionId */
	const char *resource_group; /* resourceGroup().name */
	const char *deployment;     /* deployment().name */
	const char *location;       /* resourceGroup().location; NULL: "local" */
};

/* One resource of an expanded template. */
struct sl_arm_resource {
	char type[SL_ARM_TYPE_MAX]; /* "Microsoft.Network/loadBalancers/backendAddressPools", as written */
	char name[SL_ARM_NAME_MAX]; /* full name, segments joined by '/': "lb1/pool1" */
	char id[SL_ARM_ID_MAX];     /* /subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{t1}/{n1}[/{t2}/{n2}...] */
	char path[SL_JSON_PATH_MAX]; /* where it is declared: "$.resources[2]", "$.resources[0].resources[1]" */
	int copy_index;             /* its index in its copy loop, -1 when not in one */
	/*
	 * The evaluated resource: every member of the declaration except
	 * "type", "apiVersion", "dependsOn", "copy", "condition", "comments" and
	 * "resources" (nested children are entries of their own); "name" is the
	 * last segment of the full name. Owned by the expansion.
	 */
	cJSON *body;
	char api_version[32];       /* "apiVersion" as written, "" when absent */
	/*
	 * What its "dependsOn" names, resolved: indexes into the expansion's
	 * resources (each before this one), in the order of the dependsOn
	 * entries, an entry naming a copy loop (or matching several
	 * instances) giving every instance in declaration order; each
	 * resource once. Only the explicit dependsOn: the implicit waits (a
	 * child for its parent, a serial copy batch for the one before) order
	 * the resources but are not listed. An entry naming a resource left
	 * out by its condition is dropped. NULL and 0 when none; owned by the
	 * expansion.
	 */
	size_t *depends_on;
	size_t n_depends_on;
};

struct sl_arm_expansion {
	struct sl_arm_resource *resources; /* in deployment order (dependencies first) */
	size_t n_resources;
	/* {"name": {"type": "String", "value": ...}}; SecureString/SecureObject outputs have no "value". */
	cJSON *outputs;
	/* The effective parameters {"p": {"type": "String", "value": ...}}; secure ones have no "value". */
	cJSON *parameters;
	/*
	 * The text a secure parameter's value holds, for the caller to redact
	 * from whatever it answers, records or logs: an array of strings, the
	 * SecureString values and every string (and number, as text) inside a
	 * SecureObject value, non-empty ones only, longest first. Never NULL
	 * after a successful expansion.
	 */
	cJSON *secure_values;
};

/*
 * Expand tmpl with the parameter values `parameters` (an object of
 * {"value": ...}; NULL for none) in scope. Returns 0 with *out filled (free
 * it with sl_arm_expansion_free()), or -EINVAL (-ENOMEM) with *err filled
 * and *out empty.
 */
int sl_arm_expand(const cJSON *tmpl, const cJSON *parameters, const struct sl_arm_scope *scope,
		  struct sl_arm_expansion *out, struct sl_error *err);

void sl_arm_expansion_free(struct sl_arm_expansion *x);

/*
 * Evaluate one template string on its own: an expression "[...]" (its
 * value, any JSON type), "[[..." (the literal text without the first '['),
 * or a plain string (itself). parameters and variables are the template's
 * objects of values ({"p": value}, not {"p": {"value": ...}}), NULL for
 * none. Returns a new cJSON value, or NULL with *err filled (InvalidTemplate,
 * the position in the message). For tests and the fuzz target.
 */
cJSON *sl_arm_eval(const char *text, const cJSON *parameters, const cJSON *variables,
		   const struct sl_arm_scope *scope, struct sl_error *err);

/*
 * Replace each occurrence of a secure value's text in the NUL-terminated
 * text (of size bytes) with "[secure]", in place, truncating what no longer
 * fits. A value of SL_ARM_REDACT_PREFIX characters or more is also redacted
 * where a run of at least that many of its first characters appears (a
 * message that cut it short). secure_values: an expansion's, NULL for none.
 */
#define SL_ARM_REDACT_PREFIX 16
void sl_arm_redact(char *text, size_t size, const cJSON *secure_values);

/* The same in every string value inside v (object keys are left as they are). */
void sl_arm_redact_json(cJSON *v, const cJSON *secure_values);

#endif /* SL_ARM_TEMPLATE_H */
