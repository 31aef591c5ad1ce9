/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_arm_expr.c: libFuzzer target for the ARM template language
 * (sl_arm_template.h): the expression parser and evaluator, and, when the
 * input is JSON, the whole expansion.
 *
 * The input, as text, is evaluated by sl_arm_eval() against fixed
 * parameters and variables; when it does not start with '[' it is also
 * evaluated as the expression "[<input>]", so that mutations of bare
 * expressions reach the parser. When the input parses as a JSON object it
 * is expanded by sl_arm_expand(): as the template itself, or, when it has
 * "template" and "parameters" members, as those two.
 *
 * Checked: an evaluation returns a value or fills the error, never both; an
 * expression's InvalidTemplate error names a position within the string;
 * a value prints. An expansion returns 0 with at most SL_ARM_RESOURCES_MAX
 * resources, each with a type, a name, an id under the scope's resource
 * group and a body whose "name" is the name's last segment, and the
 * outputs and parameters objects; or a negative errno with the error
 * filled and the expansion empty. A broken invariant aborts (a libFuzzer
 * crash); ASan and UBSan watch the rest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arm_expr.h"
#include "sl_arm_template.h"
#include "sl_fuzz.h"

#define SL_FUZZ_INPUT_MAX (64 * 1024)
#define SL_FUZZ_RG_ID "/subscriptions/sub1/resourceGroups/rg1/providers/"

static const struct sl_arm_scope sl_fuzz_scope = {
	.subscription = "sub1",
	.resource_group = "rg1",
	.deployment = "dep1",
	.location = "westeurope",
};

static const char sl_fuzz_params[] =
	"{\"a\": \"x\", \"n\": 3, \"o\": {\"k\": [1, 2, {\"z\": true}]}, \"arr\": [\"b\", \"a\"],"
	" \"s\": \"Hello World\"}";
static const char sl_fuzz_vars[] = "{\"vs\": \"vv\", \"vo\": {\"Key\": 1}, \"list\": [1, 2, 3]}";

static cJSON *params, *vars;

/*
 * The position in an InvalidTemplate message: "(at position N of '<text>"
 * (the message may quote the input elsewhere, words and all; it quotes at
 * most 160 characters of the text, and may be cut short). 0 when there is
 * none.
 */
static unsigned long
sl_fuzz_position(const char *msg, const char *text)
{
	const char *at, *q;
	unsigned long pos;
	size_t n;
	char *end;

	for (at = strstr(msg, "(at position "); at != NULL; at = strstr(at + 1, "(at position ")) {
		pos = strtoul(at + strlen("(at position "), &end, 10);
		if (strncmp(end, " of '", 5) != 0)
			continue;
		/* the quote is the text, or its first 160 characters, or cut by the message's end */
		for (q = end + 5, n = 0; q[n] != '\0' && text[n] != '\0' && q[n] == text[n]; n++)
			;
		if (text[n] == '\0' || n >= 160 || q[n] == '\0')
			return pos;
	}
	return 0;
}

/* Every string (and key) in v is valid UTF-8: no function may make one that is not. */
static void
sl_fuzz_check_utf8(const cJSON *v)
{
	const cJSON *c;

	if (v->string != NULL)
		SL_FUZZ_CHECK(sl_arm_utf8_valid(v->string, strlen(v->string)));
	if (cJSON_IsString(v))
		SL_FUZZ_CHECK(sl_arm_utf8_valid(v->valuestring, strlen(v->valuestring)));
	cJSON_ArrayForEach(c, v)
		sl_fuzz_check_utf8(c);
}

/* Evaluate text; check the result or the error. */
static void
sl_fuzz_eval(const char *text)
{
	struct sl_error err;
	unsigned long pos;
	cJSON *v;
	char *out;

	memset(&err, 0, sizeof(err));
	v = sl_arm_eval(text, params, vars, &sl_fuzz_scope, &err);
	if (v != NULL) {
		SL_FUZZ_CHECK(err.code[0] == '\0');
		sl_fuzz_check_utf8(v);
		out = cJSON_PrintUnformatted(v);
		SL_FUZZ_CHECK(out != NULL);
		free(out);
		cJSON_Delete(v);
		return;
	}
	SL_FUZZ_CHECK(err.code[0] != '\0');
	if (strcmp(err.code, "InvalidTemplate") != 0)
		return;
	if (!sl_arm_utf8_valid(text, strlen(text))) { /* refused whole, no position */
		SL_FUZZ_CHECK(strstr(err.message, "not valid UTF-8") != NULL);
		return;
	}
	pos = sl_fuzz_position(err.message, text);
	SL_FUZZ_CHECK(pos >= 1 && pos <= strlen(text) + 1);
}

static void
sl_fuzz_check_resource(const struct sl_arm_resource *r, size_t i)
{
	const char *last = strrchr(r->name, '/');
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(r->body, "name");

	SL_FUZZ_CHECK(r->type[0] != '\0' && r->name[0] != '\0');
	SL_FUZZ_CHECK(strncmp(r->id, SL_FUZZ_RG_ID, strlen(SL_FUZZ_RG_ID)) == 0);
	SL_FUZZ_CHECK(strncmp(r->path, "$.resources[", 12) == 0);
	SL_FUZZ_CHECK(cJSON_IsObject(r->body));
	SL_FUZZ_CHECK(cJSON_IsString(name));
	SL_FUZZ_CHECK(strcmp(name->valuestring, last != NULL ? last + 1 : r->name) == 0);
	SL_FUZZ_CHECK(r->copy_index >= -1 && r->copy_index < SL_ARM_COPY_MAX);
	SL_FUZZ_CHECK((r->n_depends_on == 0) == (r->depends_on == NULL));
	for (size_t k = 0; k < r->n_depends_on; k++)
		SL_FUZZ_CHECK(r->depends_on[k] < i); /* dependencies first */
}

/* Expand the template (and its parameter values); check the expansion or the error. */
static void
sl_fuzz_expand(const cJSON *tmpl, const cJSON *values)
{
	struct sl_arm_expansion x;
	struct sl_error err;
	size_t i;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = sl_arm_expand(tmpl, values, &sl_fuzz_scope, &x, &err);
	if (rc < 0) {
		SL_FUZZ_CHECK(err.code[0] != '\0');
		SL_FUZZ_CHECK(x.resources == NULL && x.n_resources == 0);
		SL_FUZZ_CHECK(x.outputs == NULL && x.parameters == NULL);
		return;
	}
	SL_FUZZ_CHECK(rc == 0);
	SL_FUZZ_CHECK(x.n_resources <= SL_ARM_RESOURCES_MAX);
	SL_FUZZ_CHECK(cJSON_IsObject(x.outputs) && cJSON_IsObject(x.parameters));
	SL_FUZZ_CHECK(cJSON_IsArray(x.secure_values));
	for (i = 0; i < x.n_resources; i++) {
		sl_fuzz_check_resource(&x.resources[i], i);
		sl_fuzz_check_utf8(x.resources[i].body);
	}
	sl_fuzz_check_utf8(x.outputs);
	sl_arm_expansion_free(&x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const cJSON *t, *p;
	char *text;
	cJSON *json;

	if (size > SL_FUZZ_INPUT_MAX)
		return 0;
	if (params == NULL) {
		params = cJSON_Parse(sl_fuzz_params);
		vars = cJSON_Parse(sl_fuzz_vars);
		SL_FUZZ_CHECK(params != NULL && vars != NULL);
	}
	text = malloc(size + 3);
	SL_FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	sl_fuzz_eval(text);
	if (size == 0 || text[0] != '[') {
		text[0] = '[';
		memcpy(text + 1, data, size);
		text[size + 1] = ']';
		text[size + 2] = '\0';
		sl_fuzz_eval(text);
	}
	free(text);
	json = cJSON_ParseWithLength((const char *)data, size);
	if (cJSON_IsObject(json)) {
		t = cJSON_GetObjectItemCaseSensitive(json, "template");
		p = cJSON_GetObjectItemCaseSensitive(json, "parameters");
		if (cJSON_IsObject(t) && p != NULL)
			sl_fuzz_expand(t, p);
		else
			sl_fuzz_expand(json, NULL);
	}
	cJSON_Delete(json);
	return 0;
}
