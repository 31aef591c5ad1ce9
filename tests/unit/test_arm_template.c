/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_arm_template.c: ARM template expansion (sl_arm_expand): parameters
 * (types, defaults, allowedValues and ranges, undeclared and Key Vault
 * values refused, secure values never echoed), variables (lazy, cycles,
 * copy), copy loops of resources and of properties, conditions, nested and
 * parent/child resources, dependsOn and the order, outputs, where errors
 * point, and the limits.
 *
 * Templates are written with ` for " so that they read as JSON.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sl_arm_template.h"

static const struct sl_arm_scope scope = {
	.subscription = "sub1",
	.resource_group = "rg1",
	.deployment = "dep1",
	.location = "westeurope",
};

#define NET "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Network"

/* JSON text with ` for ", parsed. */
static cJSON *
J(const char *text)
{
	char *s = strdup(text), *p;
	cJSON *v;

	assert_non_null(s);
	for (p = s; *p != '\0'; p++)
		if (*p == '`')
			*p = '"';
	v = cJSON_Parse(s);
	if (v == NULL)
		print_message("not JSON: %s\n", s);
	free(s);
	assert_non_null(v);
	return v;
}

/* Expand; the template and the values are freed before the expansion is read. */
static int
expand(const char *tmpl, const char *values, struct sl_arm_expansion *x, struct sl_error *err)
{
	cJSON *t = J(tmpl), *p = values != NULL ? J(values) : NULL;
	int rc;

	memset(err, 0, sizeof(*err));
	rc = sl_arm_expand(t, p, &scope, x, err);
	cJSON_Delete(t);
	cJSON_Delete(p);
	if (rc < 0) {
		assert_null(x->resources);
		assert_int_equal(x->n_resources, 0);
		assert_null(x->outputs);
		assert_null(x->parameters);
	}
	return rc;
}

static void
expand_ok(const char *tmpl, const char *values, struct sl_arm_expansion *x)
{
	struct sl_error err;

	if (expand(tmpl, values, x, &err) != 0)
		print_message("expansion failed: %s: %s: %s (target %s)\n", err.json_path, err.code,
			      err.message, err.target);
	assert_int_equal(err.code[0], '\0');
}

/* The expansion fails with InvalidTemplate, msg in the message, at path, blaming target. */
static void
expand_fails(const char *tmpl, const char *values, const char *msg, const char *path,
	     const char *target)
{
	struct sl_arm_expansion x;
	struct sl_error err;
	int rc = expand(tmpl, values, &x, &err);

	if (rc != -EINVAL || strstr(err.message, msg) == NULL ||
	    strcmp(err.json_path, path) != 0 || strcmp(err.target, target) != 0)
		print_message("want '%s' at %s (target %s), got rc %d %s: %s at %s (target %s)\n", msg,
			      path, target, rc, err.code, err.message, err.json_path, err.target);
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err.code, "InvalidTemplate");
	assert_non_null(strstr(err.message, msg));
	assert_string_equal(err.json_path, path);
	assert_string_equal(err.target, target);
}

/* The full names of the resources, in order, joined by ' '. */
static const char *
names(const struct sl_arm_expansion *x)
{
	static char buf[4096];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < x->n_resources && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i > 0 ? " " : "",
					x->resources[i].name);
	return buf;
}

static void
assert_json(const cJSON *got, const char *want_text)
{
	cJSON *want = J(want_text);
	char *g = cJSON_PrintUnformatted(got);

	if (!cJSON_Compare(got, want, true))
		print_message("want %s\n got %s\n", want_text, g != NULL ? g : "(null)");
	free(g);
	assert_true(cJSON_Compare(got, want, true));
	cJSON_Delete(want);
}

/* No secret in any of the expansion's parameters and outputs. */
static void
assert_no_secret(const struct sl_arm_expansion *x, const char *secret)
{
	char *p = cJSON_PrintUnformatted(x->parameters), *o = cJSON_PrintUnformatted(x->outputs);

	assert_null(strstr(p, secret));
	assert_null(strstr(o, secret));
	free(p);
	free(o);
}

#define LB(name, extra) "{`type`: `Microsoft.Network/loadBalancers`, `apiVersion`: `2023-04-01`, `name`: " name extra "}"

/*
 * The text of secure values, for callers to redact: SecureString values and
 * every string and number inside a SecureObject, non-empty, longest first;
 * the expander's own errors carry none of it.
 */
static void
test_secure_values(void **state)
{
	const char *tmpl =
		"{`parameters`: {`pw`: {`type`: `securestring`}, `so`: {`type`: `secureObject`},"
		" `plain`: {`type`: `string`, `defaultValue`: `visible`}}, `resources`: []}";
	const char *bad =
		"{`parameters`: {`pw`: {`type`: `securestring`}}, `resources`: ["
		LB("`a`", ", `dependsOn`: [`[parameters('pw')]`]") "]}";
	char text[64], longer[] = "0123456789abcdefghijKLMN";
	struct sl_arm_expansion x;
	struct sl_error err;
	cJSON *secrets, *v;

	(void)state;
	expand_ok(tmpl, "{`pw`: {`value`: `S3cr3tVal`}, `so`: {`value`: {`k`: `objSecret`,"
		  " `n`: 12345, `l`: [`deep`, ``, {`x`: `S3cr3tVal`}], `b`: true}}}", &x);
	assert_json(x.secure_values, "[`S3cr3tVal`, `objSecret`, `12345`, `deep`]");
	sl_arm_expansion_free(&x);
	expand_ok("{`resources`: []}", NULL, &x);
	assert_json(x.secure_values, "[]");
	sl_arm_expansion_free(&x);
	/* an error quoting a secure value says [secure] instead */
	assert_int_equal(expand(bad, "{`pw`: {`value`: `S3cr3tVal`}}", &x, &err), -EINVAL);
	assert_null(strstr(err.message, "S3cr3tVal"));
	assert_non_null(strstr(err.message, "The resource '[secure]' is not defined in the template."));
	/* the redaction itself: whole values, and a long one's truncated start */
	secrets = J("[`0123456789abcdefghijKLMN`, `S3cr3tVal`]");
	snprintf(text, sizeof(text), "a S3cr3tVal b 'S3cr3tVal'");
	sl_arm_redact(text, sizeof(text), secrets);
	assert_string_equal(text, "a [secure] b '[secure]'");
	snprintf(text, sizeof(text), "'%.20s' and S3cr3t", longer);
	sl_arm_redact(text, sizeof(text), secrets);
	assert_string_equal(text, "'[secure]' and S3cr3t");
	snprintf(text, 12, "%s", "S3cr3tVal12345");
	sl_arm_redact(text, 12, secrets);
	assert_string_equal(text, "[secure]12");
	v = J("{`S3cr3tVal`: [`x S3cr3tVal`, 1, {`k`: `S3cr3tVal`}], `n`: null}");
	sl_arm_redact_json(v, secrets);
	assert_json(v, "{`S3cr3tVal`: [`x [secure]`, 1, {`k`: `[secure]`}], `n`: null}");
	cJSON_Delete(v);
	cJSON_Delete(secrets);
}

/*
 * ARM's names are case-insensitive: parameters, their given values,
 * variables and outputs differing only by case are refused (a secure `pw`
 * and a plain `PW` must not be confused); the effective parameters spell
 * each type canonically whatever the template's spelling.
 */
static void
test_names_case_insensitive(void **state)
{
	struct sl_arm_expansion x;

	(void)state;
	expand_fails("{`parameters`: {`pw`: {`type`: `securestring`}, `PW`: {`type`: `string`}}, `resources`: []}",
		     "{`pw`: {`value`: `S3cr3tVal`}, `PW`: {`value`: `plain`}}",
		     "The template parameter 'PW' is declared twice (parameter names are case-insensitive).",
		     "$.parameters.PW", "PW");
	expand_fails("{`parameters`: {`pw`: {`type`: `securestring`}}, `resources`: []}",
		     "{`pw`: {`value`: `S3cr3tVal`}, `PW`: {`value`: `plain`}}",
		     "The value of the template parameter 'PW' is given twice", "$.parameters.PW", "PW");
	expand_fails("{`variables`: {`v`: 1, `V`: 2}, `resources`: []}", NULL,
		     "The template variable 'V' is declared twice", "$.variables.V", "V");
	expand_fails("{`resources`: [], `outputs`: {`o`: {`type`: `securestring`, `value`: `a`},"
		     " `O`: {`type`: `string`, `value`: `b`}}}", NULL,
		     "The template output 'O' is declared twice (output names are case-insensitive).",
		     "$.outputs.O", "O");
	expand_ok("{`parameters`: {`a`: {`type`: `STRING`}, `b`: {`type`: `secureSTRING`}, `c`: {`type`: `iNt`},"
		  " `d`: {`type`: `BOOL`}, `e`: {`type`: `OBJECT`}, `f`: {`type`: `SECUREobject`},"
		  " `g`: {`type`: `ARRAY`}}, `resources`: [], `outputs`: {`o`: {`type`: `INT`, `value`: 1}}}",
		  "{`a`: {`value`: `x`}, `b`: {`value`: `y`}, `c`: {`value`: 1}, `d`: {`value`: true},"
		  " `e`: {`value`: {}}, `f`: {`value`: {}}, `g`: {`value`: []}}", &x);
	assert_json(x.parameters, "{`a`: {`type`: `String`, `value`: `x`}, `b`: {`type`: `SecureString`},"
		    " `c`: {`type`: `Int`, `value`: 1}, `d`: {`type`: `Bool`, `value`: true},"
		    " `e`: {`type`: `Object`, `value`: {}}, `f`: {`type`: `SecureObject`}, `g`: {`type`: `Array`, `value`: []}}");
	assert_json(x.outputs, "{`o`: {`type`: `Int`, `value`: 1}}");
	sl_arm_expansion_free(&x);
}

/* ---------------------------------------------------------------- parameters */

static const char typed[] =
	"{`parameters`: {`s`: {`type`: `string`}, `ss`: {`type`: `SecureString`},"
	" `i`: {`type`: `INT`}, `b`: {`type`: `bool`}, `o`: {`type`: `object`},"
	" `so`: {`type`: `secureObject`}, `a`: {`type`: `array`}}, `resources`: []}";

static void
test_parameter_types(void **state)
{
	static const struct {
		const char *name, *bad, *expected, *got;
	} wrong[] = {
		{"s", "1", "String", "Integer"},   {"ss", "5", "String", "Integer"},
		{"i", "`5`", "Integer", "String"}, {"i", "1.5", "Integer", "Float"},
		{"b", "`true`", "Boolean", "String"}, {"o", "[]", "Object", "Array"},
		{"so", "`x`", "Object", "String"}, {"a", "{}", "Array", "Object"},
	};
	const char *good = "{`s`: {`value`: `x`}, `ss`: {`value`: `secret-1`}, `i`: {`value`: 5},"
			   " `b`: {`value`: true}, `o`: {`value`: {`k`: 1}},"
			   " `so`: {`value`: {`pw`: `secret-2`}}, `a`: {`value`: [1]}}";
	char values[512], msg[128], path[64], *text;
	struct sl_arm_expansion x;
	cJSON *v;
	size_t i;

	(void)state;
	expand_ok(typed, good, &x);
	assert_json(x.parameters,
		    "{`s`: {`type`: `String`, `value`: `x`}, `ss`: {`type`: `SecureString`},"
		    " `i`: {`type`: `Int`, `value`: 5}, `b`: {`type`: `Bool`, `value`: true},"
		    " `o`: {`type`: `Object`, `value`: {`k`: 1}}, `so`: {`type`: `SecureObject`},"
		    " `a`: {`type`: `Array`, `value`: [1]}}");
	assert_no_secret(&x, "secret");
	assert_int_equal(x.n_resources, 0);
	sl_arm_expansion_free(&x);
	for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		v = J(good);
		cJSON_ReplaceItemInObject(cJSON_GetObjectItem(v, wrong[i].name), "value",
					  J(wrong[i].bad));
		text = cJSON_PrintUnformatted(v);
		snprintf(values, sizeof(values), "%s", text);
		free(text);
		cJSON_Delete(v);
		snprintf(msg, sizeof(msg), "expected a value of type '%s', got one of type '%s'",
			 wrong[i].expected, wrong[i].got);
		snprintf(path, sizeof(path), "$.parameters.%s", wrong[i].name);
		expand_fails(typed, values, msg, path, wrong[i].name);
	}
	expand_fails("{`parameters`: {`p`: {`type`: `number`}}, `resources`: []}", NULL,
		     "The template parameter 'p' has no valid type", "$.parameters.p.type", "p");
	expand_fails("{`parameters`: {`p`: {}}, `resources`: []}", NULL,
		     "has no valid type", "$.parameters.p.type", "p");
}

static void
test_parameter_values(void **state)
{
	const char *tmpl =
		"{`parameters`: {`prefix`: {`type`: `string`, `defaultValue`: `[toUpper(parameters('base'))]`},"
		" `where`: {`type`: `string`, `defaultValue`: `[concat(parameters('prefix'), '-', resourceGroup().location)]`},"
		" `base`: {`type`: `string`, `defaultValue`: `lb`},"
		" `n`: {`type`: `int`, `defaultValue`: `[add(length(parameters('base')), 1)]`},"
		" `given`: {`type`: `string`}},"
		" `resources`: []}";
	struct sl_arm_expansion x;

	(void)state;
	expand_ok(tmpl, "{`GIVEN`: {`value`: `g`}}", &x);
	assert_json(x.parameters,
		    "{`prefix`: {`type`: `String`, `value`: `LB`},"
		    " `where`: {`type`: `String`, `value`: `LB-westeurope`},"
		    " `base`: {`type`: `String`, `value`: `lb`}, `n`: {`type`: `Int`, `value`: 3},"
		    " `given`: {`type`: `String`, `value`: `g`}}");
	sl_arm_expansion_free(&x);
	expand_ok(tmpl, "{`given`: {`value`: `g`}, `base`: {`value`: `abcd`}}", &x);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(x.parameters, "where"), "value")->valuestring,
			    "ABCD-westeurope");
	sl_arm_expansion_free(&x);
	expand_fails(tmpl, NULL, "The value for the template parameter 'given' is not provided",
		     "$.parameters.given", "given");
	expand_fails(tmpl, "{`given`: {`value`: `g`}, `other`: {`value`: 1}}",
		     "The template parameters 'other' in the parameters are not valid; they are not present in the original template",
		     "$.parameters.other", "other");
	expand_fails(tmpl,
		     "{`given`: {`reference`: {`keyVault`: {`id`: `/x`}, `secretName`: `s`}}}",
		     "is a Key Vault reference, which sluice does not support", "$.parameters.given",
		     "given");
	expand_fails(tmpl, "{`given`: `g`}", "must be given as {\"value\": ...}", "$.parameters.given",
		     "given");
	expand_fails(tmpl, "{`given`: {`value`: null}}",
		     "expected a value of type 'String', got one of type 'Null'", "$.parameters.given",
		     "given");
	expand_fails(tmpl, "[]", "The parameter values must be an object", "$.parameters", "");
	/* a default's expression error points into it */
	expand_fails("{`parameters`: {`p`: {`type`: `int`, `defaultValue`: `[div(1, 0)]`}}, `resources`: []}",
		     NULL, "cannot divide by zero (at position 9 of '[div(1, 0)]')",
		     "$.parameters.p.defaultValue", "p");
	expand_fails("{`parameters`: {`p`: {`type`: `string`, `defaultValue`: `[variables('v')]`}},"
		     " `variables`: {`v`: `x`}, `resources`: []}",
		     NULL, "a parameter's default value cannot read variables",
		     "$.parameters.p.defaultValue", "p");
	expand_fails("{`parameters`: {`a`: {`type`: `string`, `defaultValue`: `[parameters('b')]`},"
		     " `b`: {`type`: `string`, `defaultValue`: `[parameters('a')]`}}, `resources`: []}",
		     NULL, "The template parameters 'a' -> 'b' -> 'a' refer to each other (a cycle)",
		     "$.parameters.a", "a");
	expand_fails("{`parameters`: {`a`: {`type`: `string`}, `A`: {`type`: `string`}}, `resources`: []}",
		     NULL, "is declared twice", "$.parameters.A", "A");
}

static void
test_parameter_constraints(void **state)
{
	const char *tmpl =
		"{`parameters`: {`sku`: {`type`: `string`, `defaultValue`: `Standard`, `allowedValues`: [`Basic`, `Standard`]},"
		" `ports`: {`type`: `array`, `defaultValue`: [80], `allowedValues`: [80, 443, 8080]},"
		" `n`: {`type`: `int`, `defaultValue`: 2, `minValue`: 1, `maxValue`: 5},"
		" `name`: {`type`: `string`, `defaultValue`: `abc`, `minLength`: 2, `maxLength`: 4},"
		" `list`: {`type`: `array`, `defaultValue`: [1], `minLength`: 1, `maxLength`: 2},"
		" `pw`: {`type`: `securestring`, `defaultValue`: `letmein`, `allowedValues`: [`letmein`, `opensesame`, `short`], `minLength`: 7}},"
		" `resources`: []}";
	struct sl_arm_expansion x;
	struct sl_error err;

	(void)state;
	expand_ok(tmpl, "{`ports`: {`value`: [443, 80]}, `n`: {`value`: 5}, `name`: {`value`: `ab`}}", &x);
	sl_arm_expansion_free(&x);
	expand_fails(tmpl, "{`sku`: {`value`: `Premium`}}",
		     "The provided value 'Premium' for the template parameter 'sku' is not valid: it is not one of the allowedValues",
		     "$.parameters.sku", "sku");
	expand_fails(tmpl, "{`sku`: {`value`: `basic`}}", "is not one of the allowedValues",
		     "$.parameters.sku", "sku");
	expand_fails(tmpl, "{`ports`: {`value`: [80, 22]}}", "is not one of the allowedValues",
		     "$.parameters.ports", "ports");
	expand_fails(tmpl, "{`n`: {`value`: 0}}",
		     "The provided value '0' for the template parameter 'n' is not valid: its value is less than the minValue of 1",
		     "$.parameters.n", "n");
	expand_fails(tmpl, "{`n`: {`value`: 6}}", "its value is greater than the maxValue of 5",
		     "$.parameters.n", "n");
	expand_fails(tmpl, "{`name`: {`value`: `a`}}", "its length is less than the minLength of 2",
		     "$.parameters.name", "name");
	expand_fails(tmpl, "{`name`: {`value`: `abcde`}}",
		     "its length is greater than the maxLength of 4", "$.parameters.name", "name");
	expand_fails(tmpl, "{`list`: {`value`: [1, 2, 3]}}",
		     "its length is greater than the maxLength of 2", "$.parameters.list", "list");
	expand_fails(tmpl, "{`list`: {`value`: []}}", "its length is less than the minLength of 1",
		     "$.parameters.list", "list");
	/* a secure value is never in a message */
	assert_int_equal(expand(tmpl, "{`pw`: {`value`: `hunter22`}}", &x, &err), -EINVAL);
	assert_non_null(strstr(err.message, "The provided value for the template parameter 'pw' is not valid"));
	assert_null(strstr(err.message, "hunter22"));
	assert_int_equal(expand(tmpl, "{`pw`: {`value`: `short`}}", &x, &err), -EINVAL);
	assert_non_null(strstr(err.message, "minLength"));
	assert_null(strstr(err.message, "short"));
	/* defaults are checked too; a limit that is no integer is the template's error */
	expand_fails("{`parameters`: {`n`: {`type`: `int`, `defaultValue`: 9, `maxValue`: 5}}, `resources`: []}",
		     NULL, "greater than the maxValue of 5", "$.parameters.n", "n");
	expand_fails("{`parameters`: {`n`: {`type`: `int`, `defaultValue`: 1, `maxValue`: `5`}}, `resources`: []}",
		     NULL, "The maxValue of the template parameter 'n' must be an integer",
		     "$.parameters.n.maxValue", "n");
	expand_fails("{`parameters`: {`n`: {`type`: `string`, `defaultValue`: `a`, `minValue`: 1}}, `resources`: []}",
		     NULL, "The template parameter 'n' has a minValue but is not of type 'Int'",
		     "$.parameters.n.minValue", "n");
	expand_fails("{`parameters`: {`n`: {`type`: `int`, `defaultValue`: 1, `maxLength`: 1}}, `resources`: []}",
		     NULL, "has a maxLength but is neither a string nor an array", "$.parameters.n.maxLength", "n");
	expand_fails("{`parameters`: {`n`: 1}, `resources`: []}", NULL,
		     "The template parameter 'n' must be an object with a type", "$.parameters.n", "n");
	expand_fails("{`parameters`: [], `resources`: []}", NULL,
		     "The template's parameters must be an object", "$.parameters", "");
	expand_fails("{`parameters`: {`n`: {`type`: `int`, `defaultValue`: 1, `allowedValues`: 1}}, `resources`: []}",
		     NULL, "must be an array", "$.parameters.n.allowedValues", "n");
}

/* ---------------------------------------------------------------- variables */

static void
test_variables(void **state)
{
	const char *tmpl =
		"{`parameters`: {`p`: {`type`: `string`, `defaultValue`: `lb`}},"
		" `variables`: {`full`: `[concat(variables('base'), '-', variables('n'))]`,"
		" `base`: `[toUpper(parameters('p'))]`, `n`: `[length(variables('list'))]`,"
		" `list`: [`a`, `[parameters('p')]`], `obj`: {`k`: `[variables('base')]`, `lit`: `[[x]`},"
		" `copy`: [{`name`: `ports`, `count`: 3, `input`: `[add(80, copyIndex('ports'))]`},"
		"          {`name`: `objs`, `count`: `[variables('n')]`, `input`: {`i`: `[copyIndex('objs', 1)]`}}]},"
		" `resources`: [" LB("`[variables('full')]`", ", `properties`: {`v`: `[variables('obj')]`, `ports`: `[variables('ports')]`, `objs`: `[variables('objs')]`, `l`: `[variables('list')[1]]`}") "]}";
	struct sl_arm_expansion x;

	(void)state;
	expand_ok(tmpl, NULL, &x);
	assert_string_equal(names(&x), "LB-2");
	assert_json(x.resources[0].body,
		    "{`name`: `LB-2`, `properties`: {`v`: {`k`: `LB`, `lit`: `[x]`}, `ports`: [80, 81, 82],"
		    " `objs`: [{`i`: 1}, {`i`: 2}], `l`: `lb`}}");
	sl_arm_expansion_free(&x);
	expand_fails("{`variables`: {`a`: `[variables('b')]`, `b`: `[concat(variables('c'), 'x')]`, `c`: `[variables('a')]`}, `resources`: []}",
		     NULL, "The template variables 'a' -> 'b' -> 'c' -> 'a' refer to each other (a cycle)",
		     "$.variables.a", "a");
	expand_fails("{`variables`: {`a`: `[variables('a')]`}, `resources`: []}", NULL,
		     "The template variables 'a' -> 'a' refer to each other", "$.variables.a", "a");
	/* every variable is evaluated, used or not, its errors pointing into it */
	expand_fails("{`variables`: {`ok`: 1, `bad`: {`x`: [1, `[add(1)]`]}}, `resources`: []}", NULL,
		     "The template function 'add' expects 2 arguments; it was given 1 (at position 2 of '[add(1)]')",
		     "$.variables.bad.x[1]", "bad");
	expand_fails("{`variables`: {`v`: `[variables('nope')]`}, `resources`: []}", NULL,
		     "The template variable 'nope' is not found", "$.variables.v", "v");
	expand_fails("{`variables`: {`v`: `[copyIndex()]`}, `resources`: []}", NULL,
		     "The template function 'copyIndex' is not expected at this location",
		     "$.variables.v", "v");
	expand_fails("{`variables`: {`copy`: [{`name`: `x`, `count`: 1}]}, `resources`: []}", NULL,
		     "A variable copy must be an object with a name, a count and an input",
		     "$.variables.copy[0]", "");
	expand_fails("{`variables`: {`x`: 1, `copy`: [{`name`: `X`, `count`: 1, `input`: 1}]}, `resources`: []}",
		     NULL, "The template variable 'X' is declared twice", "$.variables.copy[0]", "X");
	expand_fails("{`variables`: 1, `resources`: []}", NULL, "must be an object", "$.variables",
		     "");
}

/* ---------------------------------------------------------------- copy loops */

/*
 * Every expression in the variables is parsed, evaluated or not: a
 * variable copy (or a property copy) of count 0 evaluates nothing of its
 * input, but a syntax error there is refused as ARM does. Parse only.
 */
static void
test_variables_syntax(void **state)
{
	struct sl_arm_expansion x;

	(void)state;
	expand_fails("{`variables`: {`unused`: `[bad(]`}, `resources`: []}", NULL,
		     "of '[bad(]'", "$.variables.unused", "unused");
	expand_fails("{`variables`: {`copy`: [{`name`: `c`, `count`: 0, `input`: `[copyIndex('c'))]`}]}, `resources`: []}",
		     NULL, "Expected the end of the expression", "$.variables.copy[0].input", "c");
	expand_fails("{`variables`: {`o`: {`copy`: [{`name`: `p`, `count`: 0, `input`: {`a`: [`x`, `[concat('a',]`]}}]}},"
		     " `resources`: []}", NULL,
		     "of '[concat('a',]'", "$.variables.o.copy[0].input.a[1]", "o");
	/* well formed but never evaluated: not evaluated now either; "[bad(" is text (no closing ']') */
	expand_ok("{`variables`: {`copy`: [{`name`: `c`, `count`: 0, `input`: `[div(1, 0)]`}],"
		  " `lit`: `[[not an expression`, `text`: `[bad(`}, `resources`: []}",
		  NULL, &x);
	sl_arm_expansion_free(&x);
}

static void
test_resource_copy(void **state)
{
	const char *tmpl =
		"{`parameters`: {`n`: {`type`: `int`, `defaultValue`: 3}},"
		" `resources`: [{`type`: `Microsoft.Network/networkInterfaces`, `apiVersion`: `2023-04-01`,"
		" `name`: `[concat('nic', copyIndex(1))]`, `copy`: {`name`: `nics`, `count`: `[parameters('n')]`},"
		" `properties`: {`i`: `[copyIndex()]`, `j`: `[copyIndex('nics', 10)]`, `k`: `[copyIndex('NICS')]`}}]}";
	struct sl_arm_expansion x;
	size_t i;

	(void)state;
	expand_ok(tmpl, NULL, &x);
	assert_string_equal(names(&x), "nic1 nic2 nic3");
	for (i = 0; i < 3; i++) {
		char want[128];
		assert_int_equal(x.resources[i].copy_index, (int)i);
		assert_string_equal(x.resources[i].path, "$.resources[0]");
		snprintf(want, sizeof(want),
			 "{`name`: `nic%zu`, `properties`: {`i`: %zu, `j`: %zu, `k`: %zu}}", i + 1, i,
			 i + 10, i);
		assert_json(x.resources[i].body, want);
	}
	assert_string_equal(x.resources[2].id, NET "/networkInterfaces/nic3");
	sl_arm_expansion_free(&x);
	expand_ok(tmpl, "{`n`: {`value`: 0}}", &x);
	assert_int_equal(x.n_resources, 0);
	sl_arm_expansion_free(&x);
	expand_ok(tmpl, "{`n`: {`value`: 800}}", &x);
	assert_int_equal(x.n_resources, 800);
	assert_string_equal(x.resources[799].name, "nic800");
	sl_arm_expansion_free(&x);
	expand_fails(tmpl, "{`n`: {`value`: 801}}", "The copy count must be an integer from 0 to 800",
		     "$.resources[0].copy.count", "nics");
	expand_fails(tmpl, "{`n`: {`value`: -1}}", "from 0 to 800", "$.resources[0].copy.count",
		     "nics");
	expand_fails("{`resources`: [" LB("`a`", ", `copy`: {`name`: `l`, `count`: 1}") ", "
		     LB("`b`", ", `copy`: {`name`: `L`, `count`: 1}") "]}",
		     NULL, "The copy loop name 'L' is used twice", "$.resources[1].copy", "L");
	expand_fails("{`resources`: [" LB("`a`", ", `copy`: {`count`: 1}") "]}", NULL,
		     "A resource's copy must be an object with a name and a count",
		     "$.resources[0].copy", "");
	expand_fails("{`resources`: [" LB("`a`", ", `copy`: {`name`: `l`, `count`: 2, `mode`: `batch`}") "]}",
		     NULL, "The copy mode must be 'Serial' or 'Parallel'", "$.resources[0].copy", "l");
	/* the instances share the name: one resource defined twice */
	expand_fails("{`resources`: [" LB("`same`", ", `copy`: {`name`: `l`, `count`: 2}") "]}", NULL,
		     "The resource '" NET "/loadBalancers/same' is defined more than once in the template",
		     "$.resources[0]", NET "/loadBalancers/same");
}

/*
 * A serial loop's instances wait for the batch before: n0 waiting for n2
 * is a cycle in serial mode (n2 waits for n1, n1 for n0), not in parallel.
 */
static void
test_serial_copy(void **state)
{
	char tmpl[1024];
	const char *fmt =
		"{`resources`: [" LB("`[concat('n', copyIndex())]`",
				     ", `copy`: {`name`: `l`, `count`: 3, `mode`: `%s`, `batchSize`: %d},"
				     " `dependsOn`: [`[if(equals(copyIndex(), 0), 'n2', 'other')]`]")
		", {`type`: `Microsoft.Network/virtualNetworks`, `name`: `other`}]}";
	struct sl_arm_expansion x;

	(void)state;
	snprintf(tmpl, sizeof(tmpl), fmt, "Parallel", 1);
	expand_ok(tmpl, NULL, &x);
	assert_string_equal(names(&x), "other n1 n2 n0");
	sl_arm_expansion_free(&x);
	snprintf(tmpl, sizeof(tmpl), fmt, "serial", 1);
	expand_fails(tmpl, NULL, "Circular dependency detected on resources:", "$.resources[0]",
		     "Microsoft.Network/loadBalancers/n0");
	/* batches of two: n2 waits for n0 and n1; n0 waiting for n2 is still a cycle */
	snprintf(tmpl, sizeof(tmpl), fmt, "Serial", 2);
	expand_fails(tmpl, NULL, "'Microsoft.Network/loadBalancers/n0', 'Microsoft.Network/loadBalancers/n2'",
		     "$.resources[0]", "Microsoft.Network/loadBalancers/n0");
	snprintf(tmpl, sizeof(tmpl), fmt, "Serial", 0);
	expand_fails(tmpl, NULL, "The copy batchSize must be an integer from 1 to 800",
		     "$.resources[0].copy", "l");
}

static void
test_property_copy(void **state)
{
	const char *tmpl =
		"{`parameters`: {`n`: {`type`: `int`, `defaultValue`: 2}},"
		" `resources`: [{`type`: `Microsoft.Network/loadBalancers/backendAddressPools`, `name`: `lb/pool`,"
		" `copy`: {`name`: `pools`, `count`: 1},"
		" `properties`: {`other`: 1, `copy`: [{`name`: `loadBalancerBackendAddresses`, `count`: `[parameters('n')]`,"
		"   `input`: {`name`: `[concat('a', copyIndex('loadBalancerBackendAddresses'))]`,"
		"   `properties`: {`ipAddress`: `[concat('10.0.0.', add(10, copyIndex('loadBalancerBackendAddresses')))]`, `pool`: `[copyIndex()]`,"
		"   `copy`: [{`name`: `inner`, `count`: 2, `input`: `[mul(copyIndex('inner'), copyIndex('loadBalancerBackendAddresses'))]`}]}}},"
		"   {`name`: `empty`, `count`: 0, `input`: 1}],"
		"   `nested`: {`copy`: [{`name`: `list`, `count`: 2, `input`: `[string(copyIndex('list'))]`}]}}}]}";
	struct sl_arm_expansion x;

	(void)state;
	expand_ok(tmpl, NULL, &x);
	assert_json(x.resources[0].body,
		    "{`name`: `pool`, `properties`: {`other`: 1, `loadBalancerBackendAddresses`: ["
		    "{`name`: `a0`, `properties`: {`ipAddress`: `10.0.0.10`, `pool`: 0, `inner`: [0, 0]}},"
		    "{`name`: `a1`, `properties`: {`ipAddress`: `10.0.0.11`, `pool`: 0, `inner`: [0, 1]}}],"
		    " `empty`: [], `nested`: {`list`: [`0`, `1`]}}}");
	sl_arm_expansion_free(&x);
	expand_ok(tmpl, "{`n`: {`value`: 800}}", &x);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
				 cJSON_GetObjectItem(x.resources[0].body, "properties"),
				 "loadBalancerBackendAddresses")),
			 800);
	sl_arm_expansion_free(&x);
	expand_fails("{`resources`: [" LB("`lb`", ", `properties`: {`copy`: [{`name`: `p`, `count`: 1, `input`: `[copyIndex('q')]`}]}") "]}",
		     NULL, "names the copy loop 'q', which does not enclose it",
		     "$.resources[0].properties.copy[0].input", "Microsoft.Network/loadBalancers/lb");
	expand_fails("{`resources`: [" LB("`lb`", ", `properties`: {`p`: 1, `copy`: [{`name`: `p`, `count`: 1, `input`: 1}]}") "]}",
		     NULL, "The property 'p' is produced by a copy loop and set as well",
		     "$.resources[0].properties.copy[0]", "Microsoft.Network/loadBalancers/lb");
	expand_fails("{`resources`: [" LB("`lb`", ", `properties`: {`copy`: [{`name`: `p`, `count`: 1}]}") "]}",
		     NULL, "A property copy must be an object with a name, a count and an input",
		     "$.resources[0].properties.copy[0]", "Microsoft.Network/loadBalancers/lb");
	expand_fails("{`resources`: [" LB("`lb`", ", `properties`: {`copy`: [{`name`: `p`, `count`: 900, `input`: 1}]}") "]}",
		     NULL, "The copy count must be an integer from 0 to 800",
		     "$.resources[0].properties.copy[0].count", "Microsoft.Network/loadBalancers/lb");
}

/* ---------------------------------------------------------------- children and order */

/* Children enough to grow the instance array several times under one parent:
 * each child's name is qualified with its parent's, which must survive the
 * growth (found by fuzz_template as a use after free). */
static void
test_children_grow(void **state)
{
	static char tmpl[16384];
	struct sl_arm_expansion x;
	char want[64];
	size_t off;
	int i;

	(void)state;
	off = (size_t)snprintf(tmpl, sizeof(tmpl),
			       "{`resources`: [{`type`: `Microsoft.Network/loadBalancers`, `name`: `lb`,"
			       " `properties`: {}, `resources`: [");
	for (i = 0; i < 70; i++)
		off += (size_t)snprintf(tmpl + off, sizeof(tmpl) - off,
					"%s{`type`: `probes`, `name`: `p%d`, `properties`: {`port`: %d}}",
					i == 0 ? "" : ", ", i, 1000 + i);
	snprintf(tmpl + off, sizeof(tmpl) - off, "]}]}");
	expand_ok(tmpl, NULL, &x);
	assert_int_equal(x.n_resources, 71);
	assert_string_equal(x.resources[0].id, NET "/loadBalancers/lb");
	for (i = 0; i < 70; i++) {
		snprintf(want, sizeof(want), "lb/p%d", i);
		assert_string_equal(x.resources[i + 1].name, want);
		assert_string_equal(x.resources[i + 1].type, "Microsoft.Network/loadBalancers/probes");
	}
	sl_arm_expansion_free(&x);
}

static void
test_children(void **state)
{
	const char *tmpl =
		"{`resources`: ["
		"{`type`: `Microsoft.Network/loadBalancers/backendAddressPools`, `name`: `[concat('lb', '/pool')]`, `properties`: {}},"
		"{`type`: `Microsoft.Network/loadBalancers`, `apiVersion`: `2023-04-01`, `name`: `lb`, `properties`: {},"
		" `resources`: [{`type`: `probes`, `apiVersion`: `2022-01-01`, `name`: `p1`, `properties`: {`port`: 80}},"
		"  {`type`: `Microsoft.Network/loadBalancers/inboundNatRules`, `name`: `lb/nat1`}]},"
		"{`type`: `Microsoft.Network/virtualNetworks`, `name`: `[concat('v', copyIndex())]`, `copy`: {`name`: `vnets`, `count`: 2},"
		" `resources`: [{`type`: `subnets`, `name`: `[concat('s', copyIndex())]`}]}]}";
	struct sl_arm_expansion x;

	(void)state;
	expand_ok(tmpl, NULL, &x);
	/* the pool waits for its parent declared after it */
	assert_string_equal(names(&x), "lb lb/pool lb/p1 lb/nat1 v0 v0/s0 v1 v1/s1");
	assert_string_equal(x.resources[1].type, "Microsoft.Network/loadBalancers/backendAddressPools");
	assert_string_equal(x.resources[1].id, NET "/loadBalancers/lb/backendAddressPools/pool");
	assert_string_equal(x.resources[1].path, "$.resources[0]");
	assert_string_equal(x.resources[2].type, "Microsoft.Network/loadBalancers/probes");
	assert_string_equal(x.resources[2].id, NET "/loadBalancers/lb/probes/p1");
	assert_string_equal(x.resources[2].path, "$.resources[1].resources[0]");
	assert_string_equal(x.resources[2].api_version, "2022-01-01");
	assert_json(x.resources[2].body, "{`name`: `p1`, `properties`: {`port`: 80}}");
	assert_string_equal(x.resources[3].type, "Microsoft.Network/loadBalancers/inboundNatRules");
	assert_string_equal(x.resources[5].id, NET "/virtualNetworks/v0/subnets/s0");
	assert_int_equal(x.resources[5].copy_index, -1);
	assert_int_equal(x.resources[6].copy_index, 1);
	sl_arm_expansion_free(&x);
	expand_fails("{`resources`: [{`type`: `Microsoft.Network/virtualNetworks/subnets`, `name`: `s1`}]}",
		     NULL, "The template resource 's1' for type 'Microsoft.Network/virtualNetworks/subnets' has incorrect segment lengths",
		     "$.resources[0]", "Microsoft.Network/virtualNetworks/subnets/s1");
	expand_fails("{`resources`: [{`type`: `Microsoft.Network/virtualNetworks`, `name`: `v/s`}]}",
		     NULL, "has incorrect segment lengths", "$.resources[0]",
		     "Microsoft.Network/virtualNetworks/v/s");
	expand_fails("{`resources`: [{`type`: `Microsoft.Network/virtualNetworks`, `name`: `v`,"
		     " `resources`: [{`type`: `Microsoft.Network/loadBalancers/probes`, `name`: `p`}]}]}",
		     NULL, "The nested resource's type 'Microsoft.Network/loadBalancers/probes' is not a child type of its parent's 'Microsoft.Network/virtualNetworks'",
		     "$.resources[0].resources[0]", "Microsoft.Network/loadBalancers/probes");
	expand_fails("{`resources`: [{`type`: `Microsoft.Network/virtualNetworks`, `name`: `v`,"
		     " `resources`: [{`type`: `subnets`, `name`: `w/s`}]}]}",
		     NULL, "The nested resource's name 'w/s' is not a child name of its parent's 'v'",
		     "$.resources[0].resources[0]", "Microsoft.Network/virtualNetworks/subnets");
	expand_fails("{`resources`: [{`type`: `Microsoft.Network/virtualNetworks`, `name`: `v`,"
		     " `resources`: [{`type`: `subnets`, `name`: `s`, `copy`: {`name`: `l`, `count`: 2}}]}]}",
		     NULL, "A nested resource cannot have a copy loop", "$.resources[0].resources[0]", "");
	expand_fails("{`resources`: [{`type`: `Microsoft.Network/loadBalancers/probes`, `name`: `lb/`}]}", NULL,
		     "The resource name 'lb/' has an empty segment", "$.resources[0]",
		     "Microsoft.Network/loadBalancers/probes/lb/");
	expand_fails("{`resources`: [{`type`: `[concat('Microsoft.Network/', padLeft('', 200, 'x'))]`, `name`: `v`}]}", NULL,
		     "The resource's type must be a string of at most 191 characters", "$.resources[0].type",
		     "$.resources[0]");
	expand_fails("{`resources`: [{`type`: `virtualNetworks`, `name`: `v`}]}", NULL,
		     "The resource type 'virtualNetworks' is not valid", "$.resources[0]",
		     "virtualNetworks/v");
}

static void
test_depends_on(void **state)
{
	const char *tmpl =
		"{`parameters`: {`nicName`: {`type`: `string`, `defaultValue`: `nic`}}, `resources`: ["
		LB("`byId`", ", `dependsOn`: [`[resourceId('Microsoft.Network/networkInterfaces', parameters('nicName'))]`]") ","
		LB("`byTypeName`", ", `dependsOn`: [`[concat('Microsoft.Network/virtualNetworks/', 'vnet')]`]") ","
		LB("`byName`", ", `dependsOn`: [`[parameters('nicName')]`]") ","
		LB("`byLoop`", ", `dependsOn`: [`nics`]") ","
		LB("`byChild`", ", `dependsOn`: [`Microsoft.Network/virtualNetworks/subnets/vnet/s`, `Microsoft.Network/virtualNetworks/vnet/subnets/s`]") ","
		LB("`first`", "") ","
		"{`type`: `Microsoft.Network/networkInterfaces`, `name`: `[concat('n', copyIndex())]`, `copy`: {`name`: `nics`, `count`: 2}},"
		"{`type`: `Microsoft.Network/networkInterfaces`, `name`: `nic`},"
		"{`type`: `Microsoft.Network/virtualNetworks`, `name`: `vnet`, `resources`: [{`type`: `subnets`, `name`: `s`}]}]}";
	struct sl_arm_expansion x;

	(void)state;
	expand_ok(tmpl, NULL, &x);
	/* each waits for what it names; among the ready, the one declared first goes first */
	assert_string_equal(names(&x), "first n0 n1 byLoop nic byId byName vnet byTypeName vnet/s byChild");
	sl_arm_expansion_free(&x);
	expand_fails("{`resources`: [" LB("`a`", ", `dependsOn`: [`b`, `nope`]") "," LB("`b`", "") "]}", NULL,
		     "The resource 'nope' is not defined in the template.", "$.resources[0].dependsOn[1]",
		     "Microsoft.Network/loadBalancers/a");
	/* an id of another resource group is not this template's resource */
	expand_fails("{`resources`: [" LB("`a`", ", `dependsOn`: [`[resourceId('rg2', 'Microsoft.Network/loadBalancers', 'b')]`]") "," LB("`b`", "") "]}",
		     NULL, "The resource '/subscriptions/sub1/resourceGroups/rg2/providers/Microsoft.Network/loadBalancers/b' is not defined in the template.",
		     "$.resources[0].dependsOn[0]", "Microsoft.Network/loadBalancers/a");
	expand_fails("{`resources`: [" LB("`a`", ", `dependsOn`: [`b`]") ","
		     LB("`b`", ", `dependsOn`: [`[resourceId('Microsoft.Network/loadBalancers', 'c')]`]") ","
		     LB("`c`", ", `dependsOn`: [`Microsoft.Network/loadBalancers/a`]") "," LB("`d`", "") "]}",
		     NULL, "Circular dependency detected on resources: 'Microsoft.Network/loadBalancers/a', 'Microsoft.Network/loadBalancers/b', 'Microsoft.Network/loadBalancers/c'.",
		     "$.resources[0]", "Microsoft.Network/loadBalancers/a");
	expand_fails("{`resources`: [" LB("`a`", ", `dependsOn`: [`a`]") "]}", NULL,
		     "Circular dependency detected on resource: 'Microsoft.Network/loadBalancers/a' depends on itself",
		     "$.resources[0].dependsOn[0]", "Microsoft.Network/loadBalancers/a");
	/* a child waits for its parent: a parent waiting for its child is a cycle */
	expand_fails("{`resources`: [{`type`: `Microsoft.Network/virtualNetworks`, `name`: `v`, `dependsOn`: [`v/s`],"
		     " `resources`: [{`type`: `subnets`, `name`: `s`}]}]}",
		     NULL, "Circular dependency detected on resources: 'Microsoft.Network/virtualNetworks/v', 'Microsoft.Network/virtualNetworks/subnets/v/s'",
		     "$.resources[0]", "Microsoft.Network/virtualNetworks/v");
	expand_fails("{`resources`: [" LB("`a`", ", `dependsOn`: `b`") "]}", NULL,
		     "dependsOn must be an array of strings", "$.resources[0].dependsOn",
		     "Microsoft.Network/loadBalancers/a");
	expand_fails("{`resources`: [" LB("`a`", ", `dependsOn`: [1]") "]}", NULL,
		     "(one is of type 'Integer')", "$.resources[0].dependsOn",
		     "Microsoft.Network/loadBalancers/a");
}

/* The full names of what resource `name` depends on, resolved, joined by ' '. */
static const char *
deps(const struct sl_arm_expansion *x, const char *name)
{
	static char buf[4096];
	size_t i, k, off = 0;

	buf[0] = '\0';
	for (i = 0; i < x->n_resources && strcmp(x->resources[i].name, name) != 0; i++)
		;
	assert_true(i < x->n_resources);
	assert_true((x->resources[i].n_depends_on == 0) == (x->resources[i].depends_on == NULL));
	for (k = 0; k < x->resources[i].n_depends_on && off < sizeof(buf); k++) {
		size_t d = x->resources[i].depends_on[k];
		assert_true(d < i); /* dependencies first */
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", k > 0 ? " " : "",
					x->resources[d].name);
	}
	return buf;
}

/*
 * What each dependsOn resolved to is kept: copyIndex() per instance, a copy
 * loop's name as every instance, each resource once, a resource left out
 * dropped; a child's wait for its parent and a serial batch's are not listed.
 */
static void
test_depends_on_resolved(void **state)
{
	const char *tmpl =
		"{`resources`: ["
		LB("`[concat('lb', copyIndex())]`", ", `copy`: {`name`: `lbs`, `count`: 3},"
		   " `dependsOn`: [`[concat('n', copyIndex())]`]") ","
		LB("`all`", ", `dependsOn`: [`nics`, `n1`, `[resourceId('Microsoft.Network/networkInterfaces', 'n1')]`,"
		   " `off`, `lbs`]") ","
		"{`type`: `Microsoft.Network/networkInterfaces`, `name`: `[concat('n', copyIndex())]`,"
		" `copy`: {`name`: `nics`, `count`: 3, `mode`: `Serial`, `batchSize`: 1}},"
		"{`condition`: false, `type`: `Microsoft.Network/virtualNetworks`, `name`: `off`},"
		"{`type`: `Microsoft.Network/virtualNetworks`, `name`: `v`,"
		" `resources`: [{`type`: `subnets`, `name`: `s`}, {`type`: `subnets`, `name`: `t`, `dependsOn`: [`v/s`]}]}]}";
	struct sl_arm_expansion x;

	(void)state;
	expand_ok(tmpl, NULL, &x);
	assert_string_equal(names(&x), "n0 lb0 n1 lb1 n2 lb2 all v v/s v/t");
	assert_string_equal(deps(&x, "lb0"), "n0");
	assert_string_equal(deps(&x, "lb1"), "n1");
	assert_string_equal(deps(&x, "lb2"), "n2");
	assert_string_equal(deps(&x, "all"), "n0 n1 n2 lb0 lb1 lb2");
	assert_string_equal(deps(&x, "n1"), "");  /* its serial batch's wait */
	assert_string_equal(deps(&x, "v/s"), ""); /* its parent's */
	assert_string_equal(deps(&x, "v/t"), "v/s");
	assert_null(x.resources[0].depends_on);
	sl_arm_expansion_free(&x);
	/* every instance waiting for the whole loop: each lists all of it */
	expand_ok("{`resources`: [" LB("`[concat('a', copyIndex())]`", ", `copy`: {`name`: `as`, `count`: 800},"
		  " `dependsOn`: [`bs`, `bs`]") ","
		  "{`type`: `Microsoft.Network/networkInterfaces`, `name`: `[concat('b', copyIndex())]`,"
		  " `copy`: {`name`: `bs`, `count`: 800}}]}",
		  NULL, &x);
	assert_int_equal(x.n_resources, 1600);
	assert_int_equal(x.resources[1599].n_depends_on, 800);
	assert_int_equal(x.resources[800].n_depends_on, 800);
	assert_string_equal(x.resources[x.resources[1599].depends_on[799]].name, "b799");
	sl_arm_expansion_free(&x);
}

/* Seconds of CPU this process has used. */
static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A loop of n `a`s and a loop of n `b`s each listing every a by name, as JSON text. */
static char *
listing_template(int n)
{
	size_t len = (size_t)n * 12 + 1024, off;
	char *t = malloc(len);
	int i;

	assert_non_null(t);
	off = (size_t)snprintf(t, len, "{`resources`: ["
			       "{`type`: `Microsoft.Network/networkInterfaces`, `name`: `[concat('a', copyIndex())]`,"
			       " `copy`: {`name`: `as`, `count`: %d}},"
			       "{`type`: `Microsoft.Network/loadBalancers`, `name`: `[concat('b', copyIndex())]`,"
			       " `copy`: {`name`: `bs`, `count`: %d}, `dependsOn`: [", n, n);
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(t + off, len - off, "%s`a%d`", i > 0 ? "," : "", i);
	snprintf(t + off, len - off, "]}]}");
	return t;
}

/*
 * dependsOn is resolved through an index: 800 instances each listing 800
 * names (640,000 edges, from a 7 KB template) take well under a second, not
 * the minutes a comparison of every entry with every instance took; and the
 * edges of one expansion are bounded.
 */
static void
test_depends_on_scale(void **state)
{
	struct sl_arm_expansion x;
	char *t = listing_template(800);
	double t0 = cpu_seconds(), spent;

	(void)state;
	expand_ok(t, NULL, &x);
	spent = cpu_seconds() - t0;
	print_message("800 x 800 dependsOn names: %.3f s of CPU\n", spent);
	assert_true(spent < 20.0);
	assert_int_equal(x.n_resources, 1600);
	assert_string_equal(x.resources[1599].name, "b799");
	assert_int_equal(x.resources[1599].n_depends_on, 800);
	assert_string_equal(x.resources[x.resources[1599].depends_on[0]].name, "a0");
	assert_string_equal(x.resources[x.resources[1599].depends_on[799]].name, "a799");
	sl_arm_expansion_free(&x);
	free(t);
	/* three loops of 800, the last waiting for both others: c225 makes the 1,000,001st edge */
	expand_fails("{`resources`: ["
		     "{`type`: `Microsoft.Network/networkInterfaces`, `name`: `[concat('a', copyIndex())]`, `copy`: {`name`: `as`, `count`: 800}},"
		     "{`type`: `Microsoft.Network/networkInterfaces`, `name`: `[concat('b', copyIndex())]`, `copy`: {`name`: `bs`, `count`: 800}, `dependsOn`: [`as`]},"
		     "{`type`: `Microsoft.Network/networkInterfaces`, `name`: `[concat('c', copyIndex())]`, `copy`: {`name`: `cs`, `count`: 800}, `dependsOn`: [`as`, `bs`]}]}",
		     NULL, "The template's resources have more than 1000000 dependencies", "$.resources[2]",
		     "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Network/networkInterfaces/c225");
}

/* Template and parameter strings must be UTF-8; lengths count characters. */
static void
test_utf8_input(void **state)
{
	const char *tmpl = "{`parameters`: {`p`: {`type`: `string`, `maxLength`: 2}}, `resources`: []}";
	struct sl_arm_expansion x;
	struct sl_error err;
	cJSON *t, *p;

	(void)state;
	expand_ok(tmpl, "{`p`: {`value`: `\xc3\xa9\xc3\xa9`}}", &x);
	sl_arm_expansion_free(&x);
	expand_fails(tmpl, "{`p`: {`value`: `\xc3\xa9\xc3\xa9\xc3\xa9`}}", "its length is greater than the maxLength of 2",
		     "$.parameters.p", "p");
	expand_fails(tmpl, "{`p`: {`value`: `\xc3`}}", "The parameter values hold text that is not valid UTF-8.",
		     "$.parameters", "");
	t = J("{`resources`: [], `variables`: {}}");
	cJSON_AddItemToObject(cJSON_GetObjectItem(t, "variables"), "v", cJSON_CreateString("a\xc3"));
	p = NULL;
	memset(&err, 0, sizeof(err));
	assert_int_equal(sl_arm_expand(t, p, &scope, &x, &err), -EINVAL);
	assert_string_equal(err.code, "InvalidTemplate");
	assert_non_null(strstr(err.message, "The template holds text that is not valid UTF-8."));
	cJSON_Delete(t);
}

static void
test_condition(void **state)
{
	const char *tmpl =
		"{`parameters`: {`on`: {`type`: `bool`, `defaultValue`: false}}, `resources`: ["
		LB("`a`", ", `dependsOn`: [`off`, `evens`, `[resourceId('Microsoft.Network/virtualNetworks/subnets', 'off', 's')]`]") ","
		"{`condition`: `[parameters('on')]`, `type`: `Microsoft.Network/virtualNetworks`, `name`: `off`,"
		" `properties`: {`x`: `[parameters('on')]`}, `resources`: [{`type`: `subnets`, `name`: `s`}]},"
		"{`condition`: `[equals(mod(copyIndex(), 2), 0)]`, `type`: `Microsoft.Network/networkInterfaces`,"
		" `name`: `[concat('n', copyIndex())]`, `copy`: {`name`: `evens`, `count`: 5}},"
		"{`condition`: true, `type`: `Microsoft.Network/networkInterfaces`, `name`: `always`}]}";
	struct sl_arm_expansion x;

	(void)state;
	expand_ok(tmpl, NULL, &x);
	/* waiting for a resource left out is no error */
	assert_string_equal(names(&x), "n0 n2 n4 a always");
	sl_arm_expansion_free(&x);
	expand_ok(tmpl, "{`on`: {`value`: true}}", &x);
	assert_string_equal(names(&x), "off off/s n0 n2 n4 a always");
	assert_json(x.resources[0].body, "{`name`: `off`, `properties`: {`x`: true}}");
	sl_arm_expansion_free(&x);
	expand_fails("{`resources`: [{`condition`: `yes`, `type`: `Microsoft.Network/virtualNetworks`, `name`: `v`}]}",
		     NULL, "The resource's condition must be a boolean; it is of type 'String'",
		     "$.resources[0].condition", "Microsoft.Network/virtualNetworks/v");
}

/* ---------------------------------------------------------------- outputs */

static void
test_outputs(void **state)
{
	const char *tmpl =
		"{`parameters`: {`pw`: {`type`: `securestring`, `defaultValue`: `s3cr3t!`}},"
		" `variables`: {`v`: {`a`: [1]}}, `resources`: [" LB("`lb`", "") "],"
		" `outputs`: {`id`: {`type`: `string`, `value`: `[resourceId('Microsoft.Network/loadBalancers', 'lb')]`},"
		" `n`: {`type`: `Int`, `value`: `[add(1, 2)]`}, `b`: {`type`: `bool`, `value`: true},"
		" `o`: {`type`: `object`, `value`: `[variables('v')]`}, `arr`: {`type`: `array`, `value`: [`[parameters('pw')]`]},"
		" `names`: {`type`: `array`, `copy`: {`count`: 3, `input`: `[concat('n', copyIndex(1))]`}},"
		" `secret`: {`type`: `securestring`, `value`: `[parameters('pw')]`},"
		" `hidden`: {`condition`: false, `type`: `string`, `value`: `[div(1, 0)]`}}}";
	struct sl_arm_expansion x;

	(void)state;
	expand_ok(tmpl, NULL, &x);
	assert_json(x.outputs,
		    "{`id`: {`type`: `String`, `value`: `" NET "/loadBalancers/lb`},"
		    " `n`: {`type`: `Int`, `value`: 3}, `b`: {`type`: `Bool`, `value`: true},"
		    " `o`: {`type`: `Object`, `value`: {`a`: [1]}}, `arr`: {`type`: `Array`, `value`: [`s3cr3t!`]},"
		    " `names`: {`type`: `Array`, `value`: [`n1`, `n2`, `n3`]},"
		    " `secret`: {`type`: `SecureString`}}");
	assert_json(x.parameters, "{`pw`: {`type`: `SecureString`}}");
	sl_arm_expansion_free(&x);
	expand_fails("{`resources`: [], `outputs`: {`o`: {`type`: `string`, `value`: 1}}}", NULL,
		     "The template output 'o' is not valid: expected a value of type 'String', got one of type 'Integer'",
		     "$.outputs.o", "o");
	expand_fails("{`resources`: [], `outputs`: {`o`: {`type`: `string`, `value`: `[reference('lb').x]`}}}",
		     NULL, "The template function 'reference' is not supported", "$.outputs.o.value", "o");
	expand_fails("{`resources`: [], `outputs`: {`o`: {`type`: `thing`, `value`: 1}}}", NULL,
		     "has no valid type", "$.outputs.o", "o");
	expand_fails("{`resources`: [], `outputs`: {`o`: {`type`: `string`}}}", NULL,
		     "The template output 'o' has no value", "$.outputs.o", "o");
	expand_fails("{`resources`: [], `outputs`: {`o`: {`type`: `array`, `copy`: {`input`: 1}}}}", NULL,
		     "An output's copy must be an object with a count and an input", "$.outputs.o.copy", "o");
	expand_fails("{`resources`: [], `outputs`: {`o`: 1}}", NULL,
		     "The template output 'o' must be an object with a type and a value", "$.outputs.o", "o");
	expand_fails("{`resources`: [], `outputs`: []}", NULL, "The template's outputs must be an object",
		     "$.outputs", "");
	expand_ok("{`contentVersion`: `1.2.3.4`, `resources`: [], `outputs`: {`v`: {`type`: `string`,"
		  " `value`: `[concat(deployment().name, ' ', deployment().properties.template.contentVersion)]`}}}",
		  NULL, &x);
	assert_json(x.outputs, "{`v`: {`type`: `String`, `value`: `dep1 1.2.3.4`}}");
	sl_arm_expansion_free(&x);
}

/* ---------------------------------------------------------------- errors and limits */

static void
test_where_errors_point(void **state)
{
	struct sl_arm_expansion x;

	(void)state;
	expand_fails("{`resources`: [" LB("`lb0`", "") ","
		     LB("`lb1`", ", `properties`: {`frontendIPConfigurations`: [{`name`: `[concat('fe', parameters('missing'))]`}]}") "]}",
		     NULL, "The template parameter 'missing' is not found (at position 26 of '[concat('fe', parameters('missing'))]')",
		     "$.resources[1].properties.frontendIPConfigurations[0].name",
		     "Microsoft.Network/loadBalancers/lb1");
	expand_fails("{`resources`: [" LB("`[concat('lb', 1]`", "") "]}", NULL,
		     "Expected ',' or ')' but the expression ended (at position 16 of '[concat('lb', 1]')",
		     "$.resources[0].name", "Microsoft.Network/loadBalancers");
	expand_fails("{`resources`: [" LB("`[reference('x')]`", "") "]}", NULL,
		     "The template function 'reference' is not supported: sluice's resources are its own documents",
		     "$.resources[0].name", "Microsoft.Network/loadBalancers");
	expand_fails("{`resources`: [" LB("1", "") "]}", NULL,
		     "The resource's name must be a string", "$.resources[0].name",
		     "Microsoft.Network/loadBalancers");
	expand_fails("{`resources`: [{`name`: `x`}]}", NULL, "The resource has no type.",
		     "$.resources[0].type", "$.resources[0]");
	expand_fails("{`resources`: [" LB("`a`", ", `APIVERSION`: `2`") "]}", NULL,
		     "The property 'APIVERSION' is set twice.", "$.resources[0].APIVERSION", "");
	expand_fails("{`resources`: [{`type`: `Microsoft.Network/loadBalancers`, `name`: `a`,"
		     " `apiVersion`: `2023-04-01-preview-with-a-very-long-tail`}]}",
		     NULL, "The resource's apiVersion must be a string of at most 31 characters",
		     "$.resources[0].apiVersion", "Microsoft.Network/loadBalancers/a");
	expand_fails("{`resources`: [1]}", NULL, "A resource must be an object.", "$.resources[0]", "");
	expand_fails("{`resources`: {}}", NULL, "must have a resources array", "$.resources", "");
	expand_fails("[]", NULL, "The template must be a JSON object.", "$", "");
	expand_fails("{`functions`: [{`namespace`: `x`}], `resources`: []}", NULL,
		     "User-defined functions are not supported", "$.functions", "");
	expand_fails("{`resources`: [" LB("`lb`", ", `properties`: {`a`: 1, `A`: 2}") "]}", NULL,
		     "The property 'A' is set twice.", "$.resources[0].properties.A",
		     "Microsoft.Network/loadBalancers/lb");
	/* the body: what the expansion consumed is gone, the rest evaluated, "name" the last segment */
	expand_ok("{`resources`: [{`type`: `Microsoft.Network/loadBalancers/probes`, `apiVersion`: `1`, `name`: `[concat('lb', '/', 'p')]`,"
		  " `comments`: `c`, `condition`: true, `dependsOn`: [], `location`: `[resourceGroup().location]`,"
		  " `tags`: {`t`: `[[x]`}, `sku`: {`name`: `Standard`}, `properties`: {`n`: null, `f`: false, `i`: 1.5}}]}",
		  NULL, &x);
	assert_json(x.resources[0].body,
		    "{`name`: `p`, `location`: `westeurope`, `tags`: {`t`: `[x]`}, `sku`: {`name`: `Standard`},"
		    " `properties`: {`n`: null, `f`: false, `i`: 1.5}}");
	sl_arm_expansion_free(&x);
	sl_arm_expansion_free(&x); /* twice is harmless */
}

/* A template of n levels of nested objects in one property. */
static char *
deep_template(int levels)
{
	size_t len = (size_t)levels * 8 + 256, off = 0;
	char *t = malloc(len);
	int i;

	assert_non_null(t);
	off += (size_t)snprintf(t, len, "{`resources`: [{`type`: `Microsoft.Network/loadBalancers`, `name`: `lb`, `properties`: ");
	for (i = 0; i < levels; i++)
		off += (size_t)snprintf(t + off, len - off, "{`a`: ");
	off += (size_t)snprintf(t + off, len - off, "1");
	for (i = 0; i < levels; i++)
		off += (size_t)snprintf(t + off, len - off, "}");
	snprintf(t + off, len - off, "}]}");
	return t;
}

static void
test_limits(void **state)
{
	struct sl_arm_expansion x;
	char *t, path[SL_JSON_PATH_MAX];
	struct sl_error err;
	size_t off, len;
	int i;

	(void)state;
	/* 6 loops of 800 are more than 4096 resources */
	len = 4096;
	t = malloc(len);
	assert_non_null(t);
	off = (size_t)snprintf(t, len, "{`resources`: [");
	for (i = 0; i < 6; i++)
		off += (size_t)snprintf(t + off, len - off,
					"%s{`type`: `Microsoft.Network/networkInterfaces`, `name`: `[concat('n%d-', copyIndex())]`, `copy`: {`name`: `l%d`, `count`: 800}}",
					i > 0 ? "," : "", i, i);
	snprintf(t + off, len - off, "]}");
	expand_fails(t, NULL, "The template expands to more than 4096 resources.", "$.resources[5]",
		     "");
	free(t);
	/*
	 * 800 copies of a 1 MiB string are more text than an expansion may
	 * create: the variable takes 1 MiB of the 64, each instance another, so
	 * the 63rd (n62) finds less than 1 MiB left.
	 */
	expand_fails("{`variables`: {`big`: `[padLeft('', 1048576, 'x')]`}, `resources`: ["
		     "{`type`: `Microsoft.Network/networkInterfaces`, `name`: `[concat('n', copyIndex())]`,"
		     " `copy`: {`name`: `l`, `count`: 800}, `properties`: {`p`: `[variables('big')]`}}]}",
		     NULL, "The template creates more than sluice's limit of 2000000 values or 67108864 bytes of text",
		     "$.resources[0].properties.p", "Microsoft.Network/networkInterfaces/n62");
	/* values nested 60 deep are fine, 70 deep are not; templates deeper than 128 are refused whole */
	t = deep_template(60);
	expand_ok(t, NULL, &x);
	sl_arm_expansion_free(&x);
	free(t);
	t = deep_template(70);
	/* the resource is level 0, its properties 1: the 64th "a" holds level 65 */
	off = (size_t)snprintf(path, sizeof(path), "$.resources[0].properties");
	for (i = 0; i < 64; i++)
		off += (size_t)snprintf(path + off, sizeof(path) - off, ".a");
	expand_fails(t, NULL, "The template nests values deeper than 64 levels.", path,
		     "Microsoft.Network/loadBalancers/lb");
	free(t);
	t = deep_template(200);
	expand_fails(t, NULL, "nest deeper than 128 levels", "$", "");
	free(t);
	/* 70 variables each reading the next: deeper than lookups may go */
	len = 8192;
	t = malloc(len);
	assert_non_null(t);
	off = (size_t)snprintf(t, len, "{`variables`: {");
	for (i = 0; i < 70; i++)
		off += (size_t)snprintf(t + off, len - off, "`v%d`: `[variables('v%d')]`, ", i, i + 1);
	snprintf(t + off, len - off, "`v70`: 1}, `resources`: []}");
	expand_fails(t, NULL, "Parameters and variables refer to each other deeper than 64 levels",
		     "$.variables.v63", "v63");
	free(t);
	/*
	 * A stress of the limits found this: 70 variables, each
	 * a value 60 levels deep holding an expression 58 calls deep that reads
	 * the next, overflowed an 8 MiB stack (the depth limits multiplied).
	 * The frames open at once are bounded in all.
	 */
	len = 70 * (60 * 7 + 58 * 8 + 64) + 256;
	t = malloc(len);
	assert_non_null(t);
	off = (size_t)snprintf(t, len, "{`variables`: {");
	for (i = 0; i < 70; i++) {
		int k;
		off += (size_t)snprintf(t + off, len - off, "`v%d`: ", i);
		for (k = 0; k < 60; k++)
			off += (size_t)snprintf(t + off, len - off, "{`a`: ");
		off += (size_t)snprintf(t + off, len - off, "`[");
		for (k = 0; k < 58; k++)
			off += (size_t)snprintf(t + off, len - off, "concat(");
		off += (size_t)snprintf(t + off, len - off, "string(variables('v%d'))", i + 1);
		for (k = 0; k < 58; k++)
			off += (size_t)snprintf(t + off, len - off, ")");
		off += (size_t)snprintf(t + off, len - off, "]`");
		for (k = 0; k < 60; k++)
			off += (size_t)snprintf(t + off, len - off, "}");
		off += (size_t)snprintf(t + off, len - off, ", ");
	}
	assert_true(off + 32 < len);
	snprintf(t + off, len - off, "`v70`: 1}, `resources`: []}");
	assert_int_equal(expand(t, NULL, &x, &err), -EINVAL);
	assert_string_equal(err.code, "InvalidTemplate");
	assert_non_null(strstr(err.message, "The template nests values, expressions and the variables they read deeper than 512 levels in all"));
	assert_int_equal(strncmp(err.json_path, "$.variables.v", 13), 0);
	free(t);
	/* nested resources deeper than 8 levels */
	len = 4096;
	t = malloc(len);
	assert_non_null(t);
	off = (size_t)snprintf(t, len, "{`resources`: [{`type`: `A.B/t0`, `name`: `n0`");
	for (i = 1; i <= 10; i++)
		off += (size_t)snprintf(t + off, len - off, ", `resources`: [{`type`: `t%d`, `name`: `n%d`", i, i);
	for (i = 0; i <= 10; i++)
		off += (size_t)snprintf(t + off, len - off, "}]");
	snprintf(t + off, len - off, "}");
	expand_fails(t, NULL, "Resources nest deeper than 8 levels.",
		     "$.resources[0].resources[0].resources[0].resources[0].resources[0].resources[0].resources[0].resources[0].resources[0].resources",
		     "");
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secure_values),
		cmocka_unit_test(test_names_case_insensitive),
		cmocka_unit_test(test_parameter_types),
		cmocka_unit_test(test_parameter_values),
		cmocka_unit_test(test_parameter_constraints),
		cmocka_unit_test(test_variables),
		cmocka_unit_test(test_variables_syntax),
		cmocka_unit_test(test_resource_copy),
		cmocka_unit_test(test_serial_copy),
		cmocka_unit_test(test_property_copy),
		cmocka_unit_test(test_children),
		cmocka_unit_test(test_children_grow),
		cmocka_unit_test(test_depends_on),
		cmocka_unit_test(test_depends_on_resolved),
		cmocka_unit_test(test_depends_on_scale),
		cmocka_unit_test(test_utf8_input),
		cmocka_unit_test(test_condition),
		cmocka_unit_test(test_outputs),
		cmocka_unit_test(test_where_errors_point),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
