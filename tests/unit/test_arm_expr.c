/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_arm_expr.c: the ARM template expression language (sl_arm_eval):
 * the syntax (escapes, string literals, integers, nesting, property and
 * index selection, whitespace), every function's values with ARM's
 * semantics, and the errors with the position of the fault: wrong
 * argument counts and types, ranges, parse errors, unsupported functions
 * and the limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_arm_template.h"

static const struct sl_arm_scope scope = {
	.subscription = "sub1",
	.resource_group = "rg1",
	.deployment = "dep1",
	.location = "westeurope",
};

#define RG_ID "/subscriptions/sub1/resourceGroups/rg1"

/* The parameters and variables the expressions read. */
static const char params_json[] =
	"{\"a\": \"x\", \"n\": 3, \"o\": {\"k\": [1, 2, {\"z\": true}]}, \"s\": \"Hello World\"}";
static const char vars_json[] = "{\"vs\": \"vv\", \"vo\": {\"Key\": 1}}";

static cJSON *params, *vars;

static int
setup(void **state)
{
	(void)state;
	params = cJSON_Parse(params_json);
	vars = cJSON_Parse(vars_json);
	return params != NULL && vars != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	cJSON_Delete(params);
	cJSON_Delete(vars);
	return 0;
}

/* Evaluate text; NULL with err filled when it fails. */
static cJSON *
eval(const char *text, struct sl_error *err)
{
	return sl_arm_eval(text, params, vars, &scope, err);
}

struct value_case {
	const char *expr;
	const char *json; /* the value expected, as JSON */
};

/* Every case evaluates to its JSON (deep, exact); all failures are listed before the test fails. */
static void
check_values(const struct value_case *cases, size_t n)
{
	struct sl_error err;
	int bad = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		cJSON *want = cJSON_Parse(cases[i].json);
		cJSON *got = eval(cases[i].expr, &err);
		char *text = got != NULL ? cJSON_PrintUnformatted(got) : NULL;

		assert_non_null(want);
		if (got == NULL || !cJSON_Compare(got, want, true)) {
			print_message("%s: want %s, got %s%s\n", cases[i].expr, cases[i].json,
				      text != NULL ? text : "error: ", text != NULL ? "" : err.message);
			bad++;
		}
		free(text);
		cJSON_Delete(got);
		cJSON_Delete(want);
	}
	assert_int_equal(bad, 0);
}

struct error_case {
	const char *expr;
	const char *msg; /* a part of the message */
	unsigned int pos; /* the position reported */
};

/* Every case fails with InvalidTemplate, its message part and "at position N of '<expr>'". */
static void
check_errors(const struct error_case *cases, size_t n)
{
	struct sl_error err;
	char where[128];
	int bad = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		cJSON *got = eval(cases[i].expr, &err);

		snprintf(where, sizeof(where), "at position %u of '%.40s", cases[i].pos,
			 cases[i].expr);
		if (got != NULL || strcmp(err.code, "InvalidTemplate") != 0 ||
		    strstr(err.message, cases[i].msg) == NULL || strstr(err.message, where) == NULL) {
			char *text = got != NULL ? cJSON_PrintUnformatted(got) : NULL;
			print_message("%s: want '%s' %s, got %s%s %s\n", cases[i].expr, cases[i].msg,
				      where, text != NULL ? "value " : "", text != NULL ? text : err.code,
				      got != NULL ? "" : err.message);
			free(text);
			bad++;
		}
		cJSON_Delete(got);
	}
	assert_int_equal(bad, 0);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
test_syntax(void **state)
{
	static const struct value_case cases[] = {
		{"plain", "\"plain\""},
		{"[[not an expression]", "\"[not an expression]\""},
		{"[x", "\"[x\""},
		{"x]", "\"x]\""},
		{"['it''s']", "\"it's\""},
		{"['']", "\"\""},
		{"['''']", "\"'\""},
		{"[ concat ( 'a' ,\t'b' ) ]", "\"ab\""},
		{"[42]", "42"},
		{"[-5]", "-5"},
		{"[parameters('o').k[2].z]", "true"},
		{"[PARAMETERS('O').K[0]]", "1"},
		{"[parameters('o')['k'][1]]", "2"},
		{"[parameters('o') . k [ 1 ]]", "2"},
		{"[variables('vo').key]", "1"},
		{"[variables('vs')]", "\"vv\""},
		{"[concat(toUpper(concat('a', 'b')), toLower('C'))]", "\"ABc\""},
		{"[createArray(createArray(1, 2), 3)[0][1]]", "2"},
		{"[createObject('a', createObject('b', 7)).a.b]", "7"},
	};

	(void)state;
	check_values(cases, N(cases));
}

static void
test_syntax_errors(void **state)
{
	static char deep[1000], longer[30000], chain[400];
	struct error_case cases[] = {
		{"[concat(parameters('a')]", "Expected ',' or ')' but the expression ended", 24},
		{"[concat('a' 'b')]", "Expected ',' or ')' but found '''", 13},
		{"['abc]", "The string literal is not closed", 2},
		{"[concat]", "Expected '(' after a function name but the expression ended", 8},
		{"[]", "Expected a value or a function call but the expression ended", 2},
		{"[concat('a'))]", "Expected the end of the expression but found ')'", 13},
		{"[concat('a',)]", "Expected a value or a function call but found ')'", 13},
		{"[true]", "Expected '(' after a function name", 6},
		{"[-x]", "Expected a digit after '-' but found 'x'", 3},
		{"[#]", "Expected a value or a function call but found '#'", 2},
		{"[parameters('o').]", "Expected a property name after '.'", 18},
		{"[parameters('o')[0]", "Expected ']' but the expression ended", 19},
		{"[99999999999999999999]", "does not fit in 64 bits", 2},
		{"[parameters('o').nope]", "The language expression property 'nope' doesn't exist", 17},
		{"[parameters('o').k[5]]", "array index '5' is out of bounds", 20},
		{"[parameters('o').k['x']]", "cannot be indexed by a value of type 'String'", 19},
		{"[parameters('a').b]", "cannot be selected from a value of type 'String'", 17},
		{"[foo()]", "The template function 'foo' is not valid", 2},
		{"[parameters('nope')]", "The template parameter 'nope' is not found", 13},
		{"[variables('nope')]", "The template variable 'nope' is not found", 12},
		{deep, "nests calls and selections deeper than 64 levels", 0},
		{longer, "longer than ARM's limit of 24576 characters", 24577},
		{chain, "nests calls and selections deeper than 64 levels", 0},
	};
	size_t i, off = 0;

	(void)state;
	/* 70 nested calls: the fault is at the 66th "concat(" */
	off += (size_t)snprintf(deep + off, sizeof(deep) - off, "[");
	for (i = 0; i < 70; i++)
		off += (size_t)snprintf(deep + off, sizeof(deep) - off, "toLower(");
	off += (size_t)snprintf(deep + off, sizeof(deep) - off, "'a'");
	for (i = 0; i < 70; i++)
		off += (size_t)snprintf(deep + off, sizeof(deep) - off, ")");
	snprintf(deep + off, sizeof(deep) - off, "]");
	cases[20].pos = 2 + 65 * 8;
	memset(longer, ' ', sizeof(longer) - 1);
	longer[0] = '[';
	memcpy(longer + 1, "'a'", 3);
	longer[sizeof(longer) - 2] = ']';
	/* 70 selections in a row: the index of the 64th (each "[0]" three characters after "[range(0,1)") */
	off = (size_t)snprintf(chain, sizeof(chain), "[range(0,1)");
	for (i = 0; i < 70; i++)
		off += (size_t)snprintf(chain + off, sizeof(chain) - off, "[0]");
	snprintf(chain + off, sizeof(chain) - off, "]");
	cases[22].pos = 12 + 63 * 3 + 1;
	check_errors(cases, N(cases));
}

static void
test_scope_functions(void **state)
{
	static const struct value_case cases[] = {
		{"[resourceGroup().id]", "\"" RG_ID "\""},
		{"[resourceGroup().name]", "\"rg1\""},
		{"[resourceGroup().location]", "\"westeurope\""},
		{"[resourceGroup().type]", "\"Microsoft.Resources/resourceGroups\""},
		{"[resourceGroup().properties.provisioningState]", "\"Succeeded\""},
		{"[subscription().id]", "\"/subscriptions/sub1\""},
		{"[subscription().subscriptionId]", "\"sub1\""},
		{"[subscription().tenantId]", "\"00000000-0000-0000-0000-000000000000\""},
		{"[subscription().displayName]", "\"sub1\""},
		{"[deployment().name]", "\"dep1\""},
		{"[resourceId('Microsoft.Network/loadBalancers', 'lb')]",
		 "\"" RG_ID "/providers/Microsoft.Network/loadBalancers/lb\""},
		{"[resourceId('Microsoft.Network/loadBalancers/backendAddressPools', 'lb', 'p')]",
		 "\"" RG_ID "/providers/Microsoft.Network/loadBalancers/lb/backendAddressPools/p\""},
		{"[resourceId('rg2', 'Microsoft.Network/loadBalancers', 'lb')]",
		 "\"/subscriptions/sub1/resourceGroups/rg2/providers/Microsoft.Network/loadBalancers/lb\""},
		{"[resourceId('s2', 'rg2', 'Microsoft.Network/virtualNetworks/subnets', 'v', 's')]",
		 "\"/subscriptions/s2/resourceGroups/rg2/providers/Microsoft.Network/virtualNetworks/v/subnets/s\""},
		{"[subscriptionResourceId('Microsoft.Resources/resourceGroups', 'rg9')]",
		 "\"/subscriptions/sub1/providers/Microsoft.Resources/resourceGroups/rg9\""},
		{"[subscriptionResourceId('s2', 'Microsoft.Resources/resourceGroups', 'rg9')]",
		 "\"/subscriptions/s2/providers/Microsoft.Resources/resourceGroups/rg9\""},
	};
	static const struct error_case errors[] = {
		{"[resourceId('a', 'b')]", "expects a resource type with its namespace", 2},
		{"[resourceId('Microsoft.Network/loadBalancers', 'a', 'b')]",
		 "was given 2 resource names for the type 'Microsoft.Network/loadBalancers', which has 1", 2},
		{"[resourceId('Microsoft.Network/loadBalancers/probes', 'a')]",
		 "was given 1 resource name for the type", 2},
		{"[resourceId('s', 'r', 'x', 'Microsoft.Network/loadBalancers', 'a')]",
		 "takes at most 2 arguments before the resource type", 28},
		{"[subscriptionResourceId('s', 'r', 'Microsoft.Resources/resourceGroups', 'a')]",
		 "takes at most 1 argument before the resource type", 35},
		{"[resourceId('Microsoft.Network/loadBalancers', 1)]",
		 "expects its argument 2 to be of type 'String'; it is of type 'Integer'", 48},
		{"[resourceId('Microsoft.Network/', 'a')]", "The resource type 'Microsoft.Network/' is not valid", 13},
		{"[resourceGroup(1)]", "expects 0 arguments; it was given 1", 2},
		{"[resourceId('Microsoft.Network/loadBalancers', '')]",
		 "was given a resource name that is empty or holds a '/'", 2},
		{"[resourceId('Microsoft.Network/loadBalancers')]", "expects at least 2 arguments; it was given 1", 2},
	};

	(void)state;
	check_values(cases, N(cases));
	check_errors(errors, N(errors));
}

/*
 * uniqueString() and guid(): deterministic, of ARM's shape. The values were
 * computed independently: Python's uuid.uuid5 with ARM's namespace, and a
 * Python MurmurHash64A.
 */
static void
test_hashes(void **state)
{
	static const struct value_case cases[] = {
		{"[uniqueString('a', 'b')]", "\"d65u77w626aqg\""},
		{"[uniqueString('a-b')]", "\"d65u77w626aqg\""},
		{"[uniqueString('hello world!')]", "\"mtnqtg6rkeuvc\""},
		{"[uniqueString(resourceGroup().id)]", "\"h2sspbvs6n5tu\""},
		{"[guid('a', 'b')]", "\"2d796349-8c7e-55ec-9624-54ece82ed031\""},
		{"[length(uniqueString(''))]", "13"},
		{"[equals(uniqueString('a'), uniqueString('b'))]", "false"},
		{"[equals(guid('a'), guid('b'))]", "false"},
		{"[substring(guid('x'), 14, 1)]", "\"5\""},
	};
	static const struct error_case errors[] = {
		{"[uniqueString()]", "expects at least 1 argument; it was given 0", 2},
		{"[uniqueString('a', 1)]", "expects its argument 2 to be of type 'String'", 20},
		{"[guid(createArray())]", "expects its argument 1 to be of type 'String'", 7},
	};

	(void)state;
	check_values(cases, N(cases));
	check_errors(errors, N(errors));
}

static void
test_string_functions(void **state)
{
	static const struct value_case cases[] = {
		{"[concat('a', 'b', 1, true())]", "\"ab1True\""},
		{"[concat(createArray(1), createArray(2, 3), createArray())]", "[1, 2, 3]"},
		{"[concat('a')]", "\"a\""},
		{"[format('{0}-{1:D3}-{2:N0}-{3:x4}-{3:X}', 'a', 5, 1234567, 255)]",
		 "\"a-005-1,234,567-00ff-FF\""},
		{"[format('{{{0}}}', 1)]", "\"{1}\""},
		{"[format('{0,5}|{0,-3}|', 12)]", "\"   12|12 |\""},
		{"[format('{0:N2}', -1234)]", "\"-1,234.00\""},
		{"[format('{0:N}', 999)]", "\"999.00\""},
		{"[format('{0:D}', -7)]", "\"-7\""},
		{"[format('{0:D4}', -7)]", "\"-0007\""},
		{"[format('{0} {1}', true(), createArray(1))]", "\"True [1]\""},
		{"[format('no items')]", "\"no items\""},
		{"[toLower('AbC')]", "\"abc\""},
		{"[toUpper('AbC')]", "\"ABC\""},
		{"[length('abc')]", "3"},
		{"[contains('Hello', 'ell')]", "true"},
		{"[contains('Hello', 'ELL')]", "false"},
		{"[split('a,b,,c', ',')]", "[\"a\", \"b\", \"\", \"c\"]"},
		{"[split('a;b,c', createArray(',', ';'))]", "[\"a\", \"b\", \"c\"]"},
		{"[split('abc', '')]", "[\"abc\"]"},
		{"[split('', ',')]", "[\"\"]"},
		{"[replace('123-123', '-', '')]", "\"123123\""},
		{"[replace('aXbX', 'X', '--')]", "\"a--b--\""},
		{"[substring('hello', 1, 3)]", "\"ell\""},
		{"[substring('hello', 2)]", "\"llo\""},
		{"[substring('hello', 5)]", "\"\""},
		{"[indexOf('test', 't')]", "0"},
		{"[lastIndexOf('test', 't')]", "3"},
		{"[indexOf('abcdef', 'CD')]", "2"},
		{"[lastIndexOf('abcdef', 'AB')]", "0"},
		{"[indexOf('abcdef', 'z')]", "-1"},
		{"[lastIndexOf('abc', 'abcd')]", "-1"},
		{"[indexOf('abc', '')]", "0"},
		{"[lastIndexOf('abc', '')]", "3"},
		{"[startsWith('abcdef', 'AB')]", "true"},
		{"[startsWith('abcdef', 'b')]", "false"},
		{"[endsWith('abcdef', 'EF')]", "true"},
		{"[endsWith('abcdef', 'e')]", "false"},
		{"[trim('  a b \t')]", "\"a b\""},
		{"[padLeft('123', 10, '0')]", "\"0000000123\""},
		{"[padLeft(123, 5)]", "\"  123\""},
		{"[padLeft('abc', 2)]", "\"abc\""},
		{"[take('abc', 2)]", "\"ab\""},
		{"[take('abc', 10)]", "\"abc\""},
		{"[take('abc', -1)]", "\"\""},
		{"[skip('abc', 1)]", "\"bc\""},
		{"[skip('abc', -4)]", "\"abc\""},
		{"[first('abc')]", "\"a\""},
		{"[last('abc')]", "\"c\""},
		{"[first('')]", "\"\""},
		{"[base64('one, two, three')]", "\"b25lLCB0d28sIHRocmVl\""},
		{"[base64('ab')]", "\"YWI=\""},
		{"[base64ToString('b25lLCB0d28sIHRocmVl')]", "\"one, two, three\""},
		{"[base64ToString('YWI=')]", "\"ab\""},
		{"[uri('http://contoso.org/firstpath', 'myscript.sh')]", "\"http://contoso.org/myscript.sh\""},
		{"[uri('http://contoso.org/firstpath/', 'myscript.sh')]",
		 "\"http://contoso.org/firstpath/myscript.sh\""},
		{"[uri('http://contoso.org/a/b', '/c')]", "\"http://contoso.org/c\""},
		{"[uri('http://a.org/x/y/z', '../q')]", "\"http://a.org/x/q\""},
		{"[uri('http://a.org/x/y', './q/./r')]", "\"http://a.org/x/q/r\""},
		{"[uri('http://a.org', 'q')]", "\"http://a.org/q\""},
		{"[uri('http://a.org/x?y=1', '?z=2')]", "\"http://a.org/x?z=2\""},
		{"[uri('http://a.org/x', 'https://b.org/p')]", "\"https://b.org/p\""},
		{"[uri('http://a.org/x', '//b.org/p')]", "\"http://b.org/p\""},
	};
	static const struct error_case errors[] = {
		{"[concat('a', createArray())]", "expects its argument 2 to be of type 'String'; it is of type 'Array'", 14},
		{"[concat(createArray(), 'a')]", "expects its argument 2 to be of type 'Array'; it is of type 'String'", 24},
		{"[concat()]", "expects at least 1 argument; it was given 0", 2},
		{"[format('{1}', 'a')]", "refers to argument {1} but was given 1", 9},
		{"[format('{0:Q}', 1)]", "does not support the format 'Q'", 9},
		{"[format('a}', 1)]", "format string that is not valid (at its character 2)", 9},
		{"[format('{x}', 1)]", "format string that is not valid", 9},
		{"[format(1)]", "expects its argument 1 to be of type 'String'", 9},
		{"[toLower(1)]", "expects its argument 1 to be of type 'String'; it is of type 'Integer'", 10},
		{"[toUpper()]", "expects 1 argument; it was given 0", 2},
		{"[split(1, ',')]", "expects its argument 1 to be of type 'String'", 8},
		{"[split('a', createArray(1))]", "expects its delimiters to be strings", 13},
		{"[replace('a', '', 'b')]", "cannot replace an empty string", 15},
		{"[substring('abc', -1)]", "The index parameter cannot be less than zero. The index parameter: '-1'", 19},
		{"[substring('abc', 1, -1)]", "The length parameter cannot be less than zero. The length parameter: '-1'", 22},
		{"[substring('abc', 1, 5)]",
		 "The index and length parameters must refer to a location within the string. The index parameter: '1', the length parameter: '5', the length of the string parameter: '3'", 2},
		{"[substring('abc', 4)]", "must refer to a location within the string", 2},
		{"[indexOf('a', 1)]", "expects its argument 2 to be of type 'String'", 15},
		{"[startsWith(1, 'a')]", "expects its argument 1 to be of type 'String'", 13},
		{"[padLeft('a', 3, 'xy')]", "expects a padding of exactly one character", 18},
		{"[padLeft('a', 2000000)]", "expects a total length from 0 to 1048576", 15},
		{"[padLeft(createArray(), 3)]", "expects its argument 1 to be of type 'String'", 10},
		{"[take(1, 1)]", "expects its argument 1 to be of type 'String' or 'Array'", 7},
		{"[take('a', 'b')]", "expects its argument 2 to be of type 'Integer'", 12},
		{"[first(1)]", "expects its argument 1 to be of type 'Array' or 'String'", 8},
		{"[base64ToString('!!')]", "expects base64 text", 17},
		{"[base64ToString('YWI')]", "expects base64 text", 17},
		{"[base64ToString('AA==')]", "without NUL characters", 17},
		{"[uri('relative/path', 'x')]", "expects an absolute URI", 6},
		{"[length(1)]", "expects its argument 1 to be of type 'String', 'Array' or 'Object'", 9},
	};

	(void)state;
	check_values(cases, N(cases));
	check_errors(errors, N(errors));
}

/*
 * Strings are UTF-8, counted and indexed in characters (code points: ARM's
 * UTF-16 code units outside the astral planes); no function makes invalid
 * UTF-8 and invalid input is refused.
 */
static void
test_utf8(void **state)
{
	static const struct value_case cases[] = {
		{"[length('h\xc3\xa9llo')]", "5"},
		{"[length('\xf0\x9f\x98\x80')]", "1"}, /* one code point; two UTF-16 units in Azure */
		{"[substring('\xc3\xa9', 0, 1)]", "\"\xc3\xa9\""},
		{"[substring('a\xc3\xa9" "b', 1, 1)]", "\"\xc3\xa9\""},
		{"[substring('a\xc3\xa9" "b', 1)]", "\"\xc3\xa9" "b\""},
		{"[padLeft('\xc3\xa9', 3, '\xc3\xbc')]", "\"\xc3\xbc\xc3\xbc\xc3\xa9\""},
		{"[padLeft('ab', 3, '0')]", "\"0ab\""},
		{"[padLeft('\xc3\xa9\xc3\xa9', 2)]", "\"\xc3\xa9\xc3\xa9\""},
		{"[take('\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e', 2)]", "\"\xe6\x97\xa5\xe6\x9c\xac\""},
		{"[skip('\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e', 2)]", "\"\xe8\xaa\x9e\""},
		{"[indexOf('a\xc3\xa9" "b', 'b')]", "2"},
		{"[lastIndexOf('\xc3\xa9\xc3\xa9\xc3\xa9', '\xc3\xa9')]", "2"},
		{"[lastIndexOf('\xc3\xa9', '')]", "1"},
		{"[first('\xc3\xa9" "a')]", "\"\xc3\xa9\""},
		{"[last('a\xc3\xa9')]", "\"\xc3\xa9\""},
		{"[last('\xf0\x9f\x98\x80')]", "\"\xf0\x9f\x98\x80\""},
		{"[toUpper('\xc3\xa9" "a')]", "\"\xc3\xa9" "A\""},
		{"[toLower('\xc3\x89" "A')]", "\"\xc3\x89" "a\""},
	};
	struct sl_error err;
	cJSON *v;

	(void)state;
	check_values(cases, N(cases));
	/* a padding of one character of two bytes is one character; two characters are not */
	assert_null(eval("[padLeft('a', 3, '\xc3\xa9\xc3\xa9')]", &err));
	assert_non_null(strstr(err.message, "expects a padding of exactly one character"));
	/* base64 of the lone byte 0xC3 */
	assert_null(eval("[base64ToString('ww==')]", &err));
	assert_non_null(strstr(err.message, "A string would not be valid UTF-8 text"));
	assert_null(eval("[concat('\xc3')]", &err));
	assert_string_equal(err.code, "InvalidTemplate");
	assert_non_null(strstr(err.message, "not valid UTF-8"));
	v = eval("[base64ToString('w6k=')]", &err);
	assert_non_null(v);
	assert_string_equal(v->valuestring, "\xc3\xa9");
	cJSON_Delete(v);
}

static void
test_logic_and_numbers(void **state)
{
	static const struct value_case cases[] = {
		{"[if(true(), 'a', 'b')]", "\"a\""},
		{"[if(false(), 'a', createArray(1))]", "[1]"},
		{"[if(false(), div(1, 0), 2)]", "2"},
		{"[if(true(), 1, parameters('undeclared'))]", "1"},
		{"[equals(createObject('a', createArray(1, 'x')), json('{\"a\": [1, \"x\"]}'))]", "true"},
		{"[equals('a', 'A')]", "false"},
		{"[equals(1, 1)]", "true"},
		{"[equals(1, '1')]", "false"},
		{"[equals(createArray(1, 2), createArray(2, 1))]", "false"},
		{"[equals(createObject('a', 1), createObject('A', 1))]", "false"},
		{"[equals(null(), null())]", "true"},
		{"[not(true())]", "false"},
		{"[and(true(), true(), false())]", "false"},
		{"[and(true(), true())]", "true"},
		{"[or(false(), false(), true())]", "true"},
		{"[or(false(), false())]", "false"},
		{"[true()]", "true"},
		{"[false()]", "false"},
		{"[null()]", "null"},
		{"[add(2, 3)]", "5"},
		{"[sub(2, 5)]", "-3"},
		{"[mul(-4, 5)]", "-20"},
		{"[div(7, 2)]", "3"},
		{"[div(-7, 2)]", "-3"},
		{"[mod(7, 3)]", "1"},
		{"[mod(-7, 3)]", "-1"},
		{"[add(9007199254740991, 1)]", "9007199254740992"},
		{"[less(1, 2)]", "true"},
		{"[less('a', 'b')]", "true"},
		{"[less('B', 'a')]", "true"},
		{"[lessOrEquals(2, 2)]", "true"},
		{"[greater('b', 'a')]", "true"},
		{"[greater(1, 1)]", "false"},
		{"[greaterOrEquals(1, 2)]", "false"},
		{"[greaterOrEquals(2, 2)]", "true"},
		{"[min(3, 1, 2)]", "1"},
		{"[min(5)]", "5"},
		{"[max(createArray(4, 9, 2))]", "9"},
		{"[max(-1, -5)]", "-1"},
		{"[range(5, 3)]", "[5, 6, 7]"},
		{"[range(-2, 2)]", "[-2, -1]"},
		{"[range(0, 0)]", "[]"},
		{"[length(range(1, 10000))]", "10000"},
	};
	static const struct error_case errors[] = {
		{"[if('yes', 1, 2)]", "The template function 'if' expects its first argument to be of type 'Boolean'; it is of type 'String'", 5},
		{"[if(true(), div(1, 0), 2)]", "The template function 'div' cannot divide by zero", 20},
		{"[if(true(), 1)]", "expects 3 arguments; it was given 2", 2},
		{"[not(1)]", "expects its argument 1 to be of type 'Boolean'; it is of type 'Integer'", 6},
		{"[and(true())]", "expects at least 2 arguments; it was given 1", 2},
		{"[or(true(), 1)]", "expects its argument 2 to be of type 'Boolean'", 13},
		{"[equals(1)]", "expects 2 arguments; it was given 1", 2},
		{"[add(1, 'a')]", "The template function 'add' expects its argument 2 to be of type 'Integer'; it is of type 'String'", 9},
		{"[add(1)]", "The template function 'add' expects 2 arguments; it was given 1", 2},
		{"[sub(1, 2, 3)]", "expects 2 arguments; it was given 3", 2},
		{"[div(1, 0)]", "The template function 'div' cannot divide by zero", 9},
		{"[mod(1, 0)]", "The template function 'mod' cannot divide by zero", 9},
		{"[mul(true(), 2)]", "expects its argument 1 to be of type 'Integer'; it is of type 'Boolean'", 6},
		{"[add(9007199254740992, 1)]", "is beyond 2^53", 2},
		{"[mul(4294967296, 4294967296)]", "overflows a 64-bit integer", 2},
		{"[less(1, 'a')]", "expects its argument 2 to be of type 'Integer'", 10},
		{"[less(createArray(), 1)]", "expects its argument 1 to be of type 'Integer' or 'String'", 7},
		{"[min(createArray())]", "expects a non-empty array", 2},
		{"[max(1, 'a')]", "expects its argument 2 to be of type 'Integer'", 9},
		{"[max(createArray('a'))]", "expects an array of integers", 2},
		{"[range(0, 10001)]", "expects a count from 0 to 10000", 11},
		{"[range(0, -1)]", "expects a count from 0 to 10000", 11},
		{"[range(2147483647, 1)]", "within 32-bit integers", 8},
	};

	(void)state;
	check_values(cases, N(cases));
	check_errors(errors, N(errors));
}

static void
test_conversions_and_collections(void **state)
{
	static const struct value_case cases[] = {
		{"[string(createObject('a', 1))]", "\"{\\\"a\\\":1}\""},
		{"[string(createArray('a', true()))]", "\"[\\\"a\\\",true]\""},
		{"[string(true())]", "\"True\""},
		{"[string(5)]", "\"5\""},
		{"[string('s')]", "\"s\""},
		{"[string(null())]", "\"\""},
		{"[string(json('0.1'))]", "\"0.1\""},
		{"[concat('x', json('1.5'))]", "\"x1.5\""},
		{"[format('{0:N1}|{0:F3}|{0}', json('1234.56'))]", "\"1,234.6|1234.560|1234.56\""},
		{"[int('42')]", "42"},
		{"[int(' -7 ')]", "-7"},
		{"[int(9)]", "9"},
		{"[int(json('2.5'))]", "2"},
		{"[int(json('3.5'))]", "4"},
		{"[int(true())]", "1"},
		{"[bool(false())]", "false"},
		{"[bool('False')]", "false"},
		{"[bool('TRUE')]", "true"},
		{"[bool(1)]", "true"},
		{"[bool(0)]", "false"},
		{"[json('{\"a\": [1, null]}')]", "{\"a\": [1, null]}"},
		{"[json('null')]", "null"},
		{"[json('\"s\"')]", "\"s\""},
		{"[json('[1,2]')[1]]", "2"},
		{"[createArray(1, 'a', true())]", "[1, \"a\", true]"},
		{"[createArray()]", "[]"},
		{"[createObject('a', 1, 'b', createArray())]", "{\"a\": 1, \"b\": []}"},
		{"[createObject()]", "{}"},
		{"[array('a')]", "[\"a\"]"},
		{"[array(createArray(1))]", "[1]"},
		{"[union(createObject('a', 1, 'b', 2), createObject('b', 3, 'c', 4))]",
		 "{\"a\": 1, \"b\": 3, \"c\": 4}"},
		{"[union(createArray(1, 2), createArray(2, 3), createArray(1, 4))]", "[1, 2, 3, 4]"},
		{"[union(createArray(1, 1), createArray())]", "[1]"},
		/* nested objects merge deeply; anything else, arrays too, replaces */
		{"[union(json('{\"a\":1,\"b\":{\"c\":1}}'), json('{\"b\":{\"d\":2}}'))]",
		 "{\"a\": 1, \"b\": {\"c\": 1, \"d\": 2}}"},
		{"[union(json('{\"p\":{\"one\":\"a\",\"three\":\"c1\",\"n\":{\"x\":1}},\"arr\":[1,2]}'),"
		 " json('{\"p\":{\"three\":\"c2\",\"n\":{\"y\":2}},\"arr\":[3]}'),"
		 " json('{\"p\":{\"one\":[1]}}'))]",
		 "{\"p\": {\"one\": [1], \"three\": \"c2\", \"n\": {\"x\": 1, \"y\": 2}}, \"arr\": [3]}"},
		{"[union(json('{\"b\":{\"c\":1}}'), json('{\"b\":2}'), json('{\"b\":{\"d\":3}}'))]",
		 "{\"b\": {\"d\": 3}}"},
		{"[intersection(createObject('a', 1, 'b', 2), createObject('a', 1, 'b', 3))]",
		 "{\"a\": 1}"},
		{"[intersection(createArray(1, 2, 3), createArray(2, 3, 4), createArray(3, 2))]",
		 "[2, 3]"},
		{"[contains(createArray('a', 1), 1)]", "true"},
		{"[contains(createArray('a', 1), '1')]", "false"},
		{"[contains(createArray(createObject('x', 1)), createObject('x', 1))]", "true"},
		{"[contains(parameters('o'), 'K')]", "true"},
		{"[contains(parameters('o'), 'z')]", "false"},
		{"[contains('a1', 1)]", "true"},
		{"[empty('')]", "true"},
		{"[empty(createArray())]", "true"},
		{"[empty(createObject())]", "true"},
		{"[empty(null())]", "true"},
		{"[empty('a')]", "false"},
		{"[empty(parameters('o'))]", "false"},
		{"[length(createArray(1, 2))]", "2"},
		{"[length(parameters('o'))]", "1"},
		{"[first(createArray(1, 2))]", "1"},
		{"[last(createArray(1, 2))]", "2"},
		{"[first(createArray())]", "null"},
		{"[take(createArray(1, 2, 3), 2)]", "[1, 2]"},
		{"[skip(createArray(1, 2, 3), 1)]", "[2, 3]"},
		{"[skip(createArray(1, 2, 3), 5)]", "[]"},
		{"[coalesce(null(), null(), 'x', 'y')]", "\"x\""},
		{"[coalesce(null())]", "null"},
		{"[coalesce(parameters('n'), 'y')]", "3"},
	};
	static const struct error_case errors[] = {
		{"[int('abc')]", "cannot convert its argument: the string is not an integer", 6},
		{"[int('')]", "the string is not an integer", 6},
		{"[int(createArray())]", "expects its argument 1 to be of type 'String'", 6},
		{"[bool('yes')]", "the string is neither 'true' nor 'false'", 7},
		{"[json('{')]", "was given text that is not valid JSON", 7},
		{"[json('1 2')]", "was given text that is not valid JSON", 7},
		{"[createObject('a')]", "expects pairs of a key and a value", 2},
		{"[createObject(1, 2)]", "expects its argument 1 to be of type 'String'", 15},
		{"[createObject('a', 1, 'A', 2)]", "was given a key twice", 23},
		{"[union(createObject(), createArray())]", "expects its argument 2 to be of type 'Object'", 24},
		{"[union(1, 2)]", "expects its argument 1 to be of type 'Object' or 'Array'", 8},
		{"[intersection(createArray(), createObject())]", "expects its argument 2 to be of type 'Array'", 30},
		{"[contains(1, 1)]", "expects its argument 1 to be of type 'Array', 'Object' or 'String'", 11},
		{"[contains('a', createArray())]", "expects its argument 2 to be of type 'String'", 16},
		{"[empty(1)]", "expects its argument 1 to be of type 'String', 'Array' or 'Object'", 8},
		{"[coalesce()]", "expects at least 1 argument; it was given 0", 2},
	};

	(void)state;
	check_values(cases, N(cases));
	check_errors(errors, N(errors));
}

static void
test_unsupported_and_loops(void **state)
{
	static const struct error_case errors[] = {
		{"[reference('lb1').properties]", "The template function 'reference' is not supported: sluice's resources are its own documents", 2},
		{"[listKeys('x', '2020-01-01')]", "The template function 'listKeys' is not supported: sluice's resources are its own documents", 2},
		{"[concat('a', listSecrets('x', '1'))]", "'listSecrets' is not supported", 14},
		{"[utcNow()]", "The template function 'utcNow' is not supported: sluice does not implement it", 2},
		{"[copyIndex()]", "The template function 'copyIndex' is not expected at this location", 2},
		{"[copyIndex('loop')]", "names the copy loop 'loop', which does not enclose it", 12},
		{"[copyIndex(true())]", "expects its argument 1 to be of type 'Integer'", 12},
		{"[copyIndex('a', 1, 2)]", "expects at most 2 arguments; it was given 3", 2},
		{"[copyIndex(1, 'a')]", "expects its argument 1 to be of type 'String'", 12},
		{"[bool(createArray())]", "expects its argument 1 to be of type 'String'", 7},
	};

	(void)state;
	check_errors(errors, N(errors));
}

/* The limits: strings and values, and nesting built up by functions. */
static void
test_limits(void **state)
{
	static char nested[2000];
	static const struct error_case errors[] = {
		{"[padLeft('', 1048576, 'x')[1048577]]", "cannot be indexed", 0},
		{"[concat(padLeft('', 1048576, 'x'), 'y')]", "would make a string longer than sluice's limit of 1048576 bytes", 2},
		/* one hit that grows the string past the limit (a million hits of strstr() is
		 * quadratic under ASan's interceptor, which measures the haystack each call) */
		{"[replace(padLeft('a', 700000, 'x'), 'a', padLeft('', 400000, 'y'))]", "longer than sluice's limit", 2},
		{nested, "would nest values deeper than 64 levels", 0},
	};
	struct error_case cases[4];
	struct sl_error err;
	size_t i, off = 0;
	cJSON *v;

	(void)state;
	memcpy(cases, errors, sizeof(cases));
	cases[0].msg = "cannot be indexed by a value of type 'Integer'";
	cases[0].pos = 27;
	/* json() refuses what is deeper than 64 levels; createArray() does not build it either */
	off += (size_t)snprintf(nested, sizeof(nested), "[json('");
	for (i = 0; i < 70; i++)
		off += (size_t)snprintf(nested + off, sizeof(nested) - off, "[");
	for (i = 0; i < 70; i++)
		off += (size_t)snprintf(nested + off, sizeof(nested) - off, "]");
	snprintf(nested + off, sizeof(nested) - off, "')]");
	cases[3].msg = "was given JSON nested deeper than 64 levels";
	cases[3].pos = 7;
	check_errors(cases, N(cases));
	/* a string of exactly the limit is fine */
	v = eval("[length(padLeft('', 1048576, 'x'))]", &err);
	assert_non_null(v);
	assert_int_equal(v->valuedouble, 1048576);
	cJSON_Delete(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_scope_functions),
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_string_functions),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_logic_and_numbers),
		cmocka_unit_test(test_conversions_and_collections),
		cmocka_unit_test(test_unsupported_and_loops),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
