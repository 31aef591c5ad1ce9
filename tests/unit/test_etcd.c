/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_etcd.c: what the fleet's etcd side does without an etcd: base64;
 * the watch stream parser (objects split across reads at every byte,
 * several in one read, braces inside strings, created / events / compacted
 * / canceled / error messages); the range, put, txn and watch request
 * bodies and the parsing of their answers; and the controller's conditions
 * and fleet path (If-Match / If-None-Match, a lost race redone on the
 * newest document, 409 after 8, 503 when the store cannot be reached)
 * with a fake store; the fleet's options, its fleet-revision file and its
 * status before etcd first answers.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_controller.h"
#include "sl_etcd.h"
#include "sl_fleet.h"
#include "sl_resource.h"

static void
check_b64(const char *plain, const char *coded)
{
	char *e = sl_b64_encode(plain, strlen(plain)), *d;
	size_t n = 99;

	assert_string_equal(e, coded);
	d = sl_b64_decode(coded, &n);
	assert_non_null(d);
	assert_int_equal(n, strlen(plain));
	assert_memory_equal(d, plain, n);
	free(e);
	free(d);
}

static void
test_base64(void **state)
{
	size_t n;
	(void)state;
	/* RFC 4648's vectors */
	check_b64("", "");
	check_b64("f", "Zg==");
	check_b64("fo", "Zm8=");
	check_b64("foo", "Zm9v");
	check_b64("foob", "Zm9vYg==");
	check_b64("fooba", "Zm9vYmE=");
	check_b64("foobar", "Zm9vYmFy");
	check_b64("/sluice/prod/config", "L3NsdWljZS9wcm9kL2NvbmZpZw==");
	/* every byte value goes there and back */
	unsigned char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	char *e = sl_b64_encode(all, sizeof(all)), *d = sl_b64_decode(e, &n);
	assert_int_equal(n, 256);
	assert_memory_equal(d, all, 256);
	free(e);
	free(d);
	/* malformed: length, alphabet, padding in the middle, a lone pad */
	const char *bad[] = {"Zg=", "Zm9v!A==", "Zg==Zm9v", "Z===", "Zm=v", "=Zg="};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(sl_b64_decode(bad[i], &n));
}

/* Objects the stream handed on, as text. */
struct seen {
	char text[8][512];
	int n;
	int stop_after; /* 0: never */
};

static int
on_obj(void *ctx, const cJSON *o)
{
	struct seen *s = ctx;
	char *t = cJSON_PrintUnformatted(o);

	assert_true(s->n < 8);
	snprintf(s->text[s->n++], sizeof(s->text[0]), "%s", t);
	free(t);
	return s->stop_after != 0 && s->n == s->stop_after ? 7 : 0;
}

static const char stream_text[] =
	"{\"result\":{\"header\":{\"revision\":\"5\"},\"created\":true}}\n"
	"{\"result\":{\"header\":{\"revision\":\"6\"},\"events\":[{\"kv\":{\"key\":\"a2V5\","
	"\"value\":\"e30=\",\"mod_revision\":\"6\"}}]}}\n"
	"  {\"result\":{\"note\":\"a } brace and a \\\" quote { in a string\"}}\r\n";

static void
test_stream_split(void **state)
{
	(void)state;
	/* every split point of the text into two reads gives the same three objects */
	for (size_t cut = 0; cut <= strlen(stream_text); cut++) {
		struct sl_etcd_stream st = {0};
		struct seen s = {0};
		assert_int_equal(sl_etcd_stream_feed(&st, stream_text, cut, on_obj, &s), 0);
		assert_int_equal(sl_etcd_stream_feed(&st, stream_text + cut, strlen(stream_text) - cut,
						     on_obj, &s),
				 0);
		assert_int_equal(s.n, 3);
		assert_string_equal(s.text[2], "{\"result\":{\"note\":\"a } brace and a \\\" quote "
					       "{ in a string\"}}");
		sl_etcd_stream_reset(&st);
	}
	/* one byte at a time */
	struct sl_etcd_stream st = {0};
	struct seen s = {0};
	for (size_t i = 0; i < strlen(stream_text); i++)
		assert_int_equal(sl_etcd_stream_feed(&st, stream_text + i, 1, on_obj, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(st.len, 0);
	sl_etcd_stream_reset(&st);
	/* fn's non-zero stops at once, and is what feed returns */
	struct seen s2 = {.stop_after = 1};
	assert_int_equal(sl_etcd_stream_feed(&st, stream_text, strlen(stream_text), on_obj, &s2),
			 7);
	assert_int_equal(s2.n, 1);
	sl_etcd_stream_reset(&st);
	/* not an object */
	struct seen s3 = {0};
	assert_int_equal(sl_etcd_stream_feed(&st, "]{}", 3, on_obj, &s3), -EINVAL);
	sl_etcd_stream_reset(&st);
}

static cJSON *
parse(const char *t)
{
	cJSON *o = cJSON_Parse(t);
	assert_non_null(o);
	return o;
}

static void
test_watch_messages(void **state)
{
	struct sl_etcd_watch_msg m;
	cJSON *o;
	(void)state;

	o = parse("{\"result\":{\"header\":{\"revision\":\"5\"},\"created\":true}}");
	assert_int_equal(sl_etcd_parse_watch(o, &m), 0);
	assert_true(m.created);
	assert_false(m.canceled);
	assert_int_equal(m.revision, 5);
	assert_int_equal(m.n_events, 0);
	sl_etcd_watch_msg_clear(&m);
	cJSON_Delete(o);
	/* two events: a PUT (value "{}") and a DELETE */
	o = parse("{\"result\":{\"header\":{\"revision\":\"9\"},\"events\":["
		  "{\"kv\":{\"key\":\"a2V5\",\"create_revision\":\"2\",\"mod_revision\":\"8\","
		  "\"version\":\"3\",\"value\":\"e30=\"}},"
		  "{\"type\":\"DELETE\",\"kv\":{\"key\":\"a2V5\",\"mod_revision\":\"9\"}}]}}");
	assert_int_equal(sl_etcd_parse_watch(o, &m), 0);
	assert_int_equal(m.n_events, 2);
	assert_string_equal(m.events[0].key, "key");
	assert_string_equal(m.events[0].value, "{}");
	assert_int_equal(m.events[0].mod_revision, 8);
	assert_int_equal(m.events[0].create_revision, 2);
	assert_int_equal(m.events[0].version, 3);
	assert_null(m.events[1].value);
	assert_int_equal(m.events[1].mod_revision, 9);
	sl_etcd_watch_msg_clear(&m);
	cJSON_Delete(o);
	/* the start revision was compacted */
	o = parse("{\"result\":{\"header\":{\"revision\":\"40\"},\"canceled\":true,"
		  "\"compact_revision\":\"31\"}}");
	assert_int_equal(sl_etcd_parse_watch(o, &m), 0);
	assert_true(m.canceled);
	assert_int_equal(m.compact_revision, 31);
	assert_string_equal(m.error, "revision 31 was compacted");
	sl_etcd_watch_msg_clear(&m);
	cJSON_Delete(o);
	/* canceled with a reason */
	o = parse("{\"result\":{\"canceled\":true,\"cancel_reason\":\"no leader\"}}");
	assert_int_equal(sl_etcd_parse_watch(o, &m), 0);
	assert_true(m.canceled);
	assert_string_equal(m.error, "no leader");
	sl_etcd_watch_msg_clear(&m);
	cJSON_Delete(o);
	/* the gateway's error object */
	o = parse("{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"unavailable\"}}");
	assert_int_equal(sl_etcd_parse_watch(o, &m), 0);
	assert_true(m.canceled);
	assert_string_equal(m.error, "unavailable");
	sl_etcd_watch_msg_clear(&m);
	cJSON_Delete(o);
	/* malformed: no result, a key that is not base64 */
	o = parse("{\"other\":1}");
	assert_int_equal(sl_etcd_parse_watch(o, &m), -EINVAL);
	cJSON_Delete(o);
	o = parse("{\"result\":{\"events\":[{\"kv\":{\"key\":\"***\"}}]}}");
	assert_int_equal(sl_etcd_parse_watch(o, &m), -EINVAL);
	cJSON_Delete(o);
}

static void
assert_json(cJSON *o, const char *want)
{
	char *t = cJSON_PrintUnformatted(o);
	assert_string_equal(t, want);
	free(t);
	cJSON_Delete(o);
}

static void
test_bodies(void **state)
{
	(void)state;
	assert_json(sl_etcd_range_body("/p/config", false, false), "{\"key\":\"L3AvY29uZmln\"}");
	/* a prefix range ends at the prefix with its last byte plus one: "/p/hosts0" */
	assert_json(sl_etcd_range_body("/p/hosts/", true, true),
		    "{\"key\":\"L3AvaG9zdHMv\",\"range_end\":\"L3AvaG9zdHMw\",\"serializable\":true}");
	assert_json(sl_etcd_put_body("k", "v", 0), "{\"key\":\"aw==\",\"value\":\"dg==\"}");
	assert_json(sl_etcd_put_body("k", "v", 7587), "{\"key\":\"aw==\",\"value\":\"dg==\","
						       "\"lease\":\"7587\"}");
	assert_json(sl_etcd_txn_body("k", "v", 41),
		    "{\"compare\":[{\"key\":\"aw==\",\"result\":\"EQUAL\",\"target\":\"MOD\","
		    "\"mod_revision\":\"41\"}],\"success\":[{\"request_put\":{\"key\":\"aw==\","
		    "\"value\":\"dg==\"}}],\"failure\":[{\"request_range\":{\"key\":\"aw==\"}}]}");
	/* revision 0: only when the key does not exist */
	assert_json(sl_etcd_txn_body("k", "v", 0),
		    "{\"compare\":[{\"key\":\"aw==\",\"result\":\"EQUAL\",\"target\":\"CREATE\","
		    "\"create_revision\":\"0\"}],\"success\":[{\"request_put\":{\"key\":\"aw==\","
		    "\"value\":\"dg==\"}}],\"failure\":[{\"request_range\":{\"key\":\"aw==\"}}]}");
	assert_json(sl_etcd_watch_body("k", 42),
		    "{\"create_request\":{\"key\":\"aw==\",\"start_revision\":\"42\"}}");
}

static void
test_answers(void **state)
{
	struct sl_etcd_kv now, *kvs;
	int64_t rev;
	bool ok;
	size_t n;
	cJSON *o;
	(void)state;

	o = parse("{\"header\":{\"revision\":\"12\"},\"succeeded\":true,\"responses\":"
		  "[{\"response_put\":{\"header\":{\"revision\":\"12\"}}}]}");
	assert_int_equal(sl_etcd_parse_txn(o, &ok, &rev, &now), 0);
	assert_true(ok);
	assert_int_equal(rev, 12);
	assert_null(now.key);
	cJSON_Delete(o);
	/* lost: the failure branch's range holds the newest document */
	o = parse("{\"header\":{\"revision\":\"13\"},\"responses\":[{\"response_range\":"
		  "{\"header\":{\"revision\":\"13\"},\"kvs\":[{\"key\":\"aw==\",\"create_revision\":"
		  "\"2\",\"mod_revision\":\"13\",\"version\":\"5\",\"value\":\"eyJhIjoxfQ==\"}],"
		  "\"count\":\"1\"}}]}");
	assert_int_equal(sl_etcd_parse_txn(o, &ok, &rev, &now), 0);
	assert_false(ok);
	assert_int_equal(now.mod_revision, 13);
	assert_string_equal(now.value, "{\"a\":1}");
	assert_int_equal(now.value_len, 7);
	sl_etcd_kv_clear(&now);
	cJSON_Delete(o);
	/* lost, and the key is gone */
	o = parse("{\"header\":{\"revision\":\"14\"},\"responses\":[{\"response_range\":"
		  "{\"header\":{\"revision\":\"14\"}}}]}");
	assert_int_equal(sl_etcd_parse_txn(o, &ok, &rev, &now), 0);
	assert_false(ok);
	assert_null(now.key);
	cJSON_Delete(o);
	o = parse("{\"responses\":[]}");
	assert_int_equal(sl_etcd_parse_txn(o, &ok, &rev, &now), -EINVAL);
	cJSON_Delete(o);
	/* a range of two keys, numbers as strings or as numbers */
	o = parse("{\"header\":{\"revision\":20},\"kvs\":[{\"key\":\"YQ==\",\"value\":\"MQ==\","
		  "\"mod_revision\":\"3\",\"lease\":\"7587\"},{\"key\":\"Yg==\",\"mod_revision\":4}]}");
	assert_int_equal(sl_etcd_parse_range(o, &rev, &kvs, &n), 0);
	assert_int_equal(rev, 20);
	assert_int_equal(n, 2);
	assert_string_equal(kvs[0].key, "a");
	assert_string_equal(kvs[0].value, "1");
	assert_int_equal(kvs[0].lease, 7587);
	assert_null(kvs[1].value);
	assert_int_equal(kvs[1].mod_revision, 4);
	sl_etcd_kvs_free(kvs, n);
	cJSON_Delete(o);
	/* an empty range has no kvs member at all */
	o = parse("{\"header\":{\"revision\":\"21\"}}");
	assert_int_equal(sl_etcd_parse_range(o, &rev, &kvs, &n), 0);
	assert_int_equal(n, 0);
	cJSON_Delete(o);
}

static void
test_endpoints(void **state)
{
	char why[256], text[256];
	struct sl_etcd *e;
	(void)state;

	e = sl_etcd_create("http://127.0.0.1:2379/, http://127.0.0.1:22379", why, sizeof(why));
	assert_non_null(e);
	assert_int_equal(sl_etcd_n_endpoints(e), 2);
	sl_etcd_endpoints_text(e, text, sizeof(text));
	assert_string_equal(text, "http://127.0.0.1:2379, http://127.0.0.1:22379");
	sl_etcd_free(e);
	assert_null(sl_etcd_create("127.0.0.1:2379", why, sizeof(why)));
	assert_non_null(strstr(why, "not an etcd client URL"));
	assert_null(sl_etcd_create(",", why, sizeof(why)));
	assert_string_equal(why, "no etcd endpoint given");
}

/* ------------------------------------------------------------------ */
/* The controller's conditions and its fleet path, with a fake store. */

#define ARM "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network"

static int fake_prepared;

static void *
fake_prepare(void *ctx, const struct sl_model *m, const struct sl_model_delta *delta,
	     struct sl_error *err)
{
	(void)ctx;
	(void)m;
	(void)delta;
	(void)err;
	return &fake_prepared;
}

static int published, discarded;

static void
fake_publish(void *ctx, void *prepared)
{
	(void)ctx;
	(void)prepared;
	published++;
}

static void
fake_discard(void *ctx, void *prepared)
{
	(void)ctx;
	(void)prepared;
	discarded++;
}

/* The fake store: loses `lose` races (another writer adds vnet "other<k>"), or is down. */
struct fake_store {
	struct sl_controller *c;
	int lose, down, writes, written;
	int touch_v1; /* the other writer changes v1 itself */
	int64_t rev;
};

static int
fake_write(void *ctx, const cJSON *doc, struct sl_error *err)
{
	struct fake_store *s = ctx;
	(void)doc;

	s->writes++;
	if (s->down)
		return sl_error_set(err, "FleetStoreUnavailable", "k", "", "down"), -EHOSTUNREACH;
	if (s->lose > 0) {
		s->lose--;
		return sl_error_set(err, "FleetConflict", "k", "", "lost"), -EAGAIN;
	}
	return 0;
}

static void
fake_written(void *ctx)
{
	struct fake_store *s = ctx;
	s->written++;
	s->rev++;
}

static struct sl_res_path
path(const char *url)
{
	struct sl_res_path p;
	struct sl_error e;

	assert_int_equal(sl_res_path_parse(url, &p, &e), 0);
	return p;
}

static const char vnet_body[] = "{\"properties\":{\"addressSpace\":{\"addressPrefixes\":"
				"[\"10.9.0.0/16\"]}}}";

/* What the other writer did: a vnet of its own, applied as the fleet's newest revision. */
static int
fake_catch_up(void *ctx, struct sl_error *err)
{
	struct fake_store *s = ctx;
	char url[256];
	bool done;
	int http;
	cJSON *doc = sl_controller_begin(s->c), *body = cJSON_Parse(vnet_body);

	if (s->touch_v1) {
		cJSON_Delete(body);
		body = cJSON_Parse("{\"properties\":{\"addressSpace\":{\"addressPrefixes\":"
				   "[\"10.8.0.0/16\"]}}}");
		snprintf(url, sizeof(url), ARM "/virtualNetworks/v1");
	} else {
		snprintf(url, sizeof(url), ARM "/virtualNetworks/other%" PRId64, s->rev);
	}
	struct sl_res_path p = path(url);
	assert_int_equal(sl_doc_put(doc, &p, body, &done, &http, err), 0);
	cJSON_Delete(body);
	s->c->fleet_applying = 1;
	int rc = sl_controller_commit(s->c, doc, 0, err);
	s->c->fleet_applying = 0;
	s->rev++;
	return rc;
}

static int64_t
fake_revision(void *ctx)
{
	return ((struct fake_store *)ctx)->rev;
}

static void
controller(struct sl_controller *c, struct fake_store *s, struct sl_fleet_hook *h)
{
	const struct sl_apply_ops ops = {.prepare = fake_prepare,
					 .publish = fake_publish,
					 .discard = fake_discard};
	struct sl_error e;

	assert_int_equal(sl_controller_init(c, NULL, NULL, &ops, &e), 0);
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->rev = 1;
	*h = (struct sl_fleet_hook){fake_write, fake_written, fake_catch_up, fake_revision, s};
	published = discarded = 0;
}

static int
change(struct sl_controller *c, const char *url, const char *body, const char *if_match,
       const char *if_none_match, int *http, struct sl_error *e)
{
	struct sl_change_cond cond = {if_match, if_none_match};
	struct sl_res_path p = path(url);
	cJSON *b = body != NULL ? cJSON_Parse(body) : NULL;
	bool done;
	int rc = sl_controller_change_cond(c, &p, b, &cond, 0, &done, http, e);

	cJSON_Delete(b);
	if (rc != 0 && *http == 0)
		*http = (int)sl_controller_error_status(e);
	return rc;
}

/* The etag GET shows. */
static void
etag(struct sl_controller *c, const char *url, char *buf, size_t len)
{
	struct sl_res_path p = path(url);
	struct sl_error e;
	cJSON *r = sl_doc_render(c->doc, &p, &e);

	assert_non_null(r);
	snprintf(buf, len, "%s", cJSON_GetObjectItem(r, "etag")->valuestring);
	cJSON_Delete(r);
}

static void
test_if_match(void **state)
{
	struct sl_controller c;
	struct fake_store s;
	struct sl_fleet_hook h;
	struct sl_error e;
	char et[64], both[160];
	int http;
	(void)state;

	controller(&c, &s, &h); /* no fleet: the conditions hold all the same */
	const char *v1 = ARM "/virtualNetworks/v1";
	assert_int_not_equal(change(&c, v1, vnet_body, "*", NULL, &http, &e), 0);
	assert_int_equal(http, 412);
	assert_string_equal(e.code, "PreconditionFailed");
	assert_int_equal(change(&c, v1, vnet_body, NULL, "*", &http, &e), 0);
	assert_int_not_equal(change(&c, v1, vnet_body, NULL, "*", &http, &e), 0);
	assert_int_equal(http, 412);
	etag(&c, v1, et, sizeof(et));
	assert_int_not_equal(change(&c, v1, vnet_body, "W/\"00000000\"", NULL, &http, &e), 0);
	assert_int_equal(http, 412);
	assert_non_null(strstr(e.message, et));
	/* the etag as GET shows it, without W/, or in a list */
	assert_int_equal(change(&c, v1, vnet_body, et, NULL, &http, &e), 0);
	assert_int_equal(change(&c, v1, vnet_body, et + 2, NULL, &http, &e), 0);
	snprintf(both, sizeof(both), "\"1\", %s", et);
	assert_int_equal(change(&c, v1, vnet_body, both, NULL, &http, &e), 0);
	assert_int_not_equal(change(&c, ARM "/virtualNetworks/v2", NULL, "*", NULL, &http, &e), 0);
	assert_int_equal(http, 412);
	assert_int_equal(change(&c, v1, NULL, et, NULL, &http, &e), 0);
	sl_controller_fini(&c);
}

static void
test_fleet_path(void **state)
{
	struct sl_controller c;
	struct fake_store s;
	struct sl_fleet_hook h;
	struct sl_error e;
	struct sl_res_path p;
	char et[64];
	int http;
	(void)state;

	controller(&c, &s, &h);
	c.fleet = &h;
	const char *v1 = ARM "/virtualNetworks/v1";
	/* two lost races: the other writer's changes are applied, then ours on top */
	s.lose = 2;
	assert_int_equal(change(&c, v1, vnet_body, NULL, NULL, &http, &e), 0);
	assert_int_equal(s.writes, 3);
	assert_int_equal(s.written, 1);
	assert_int_equal(discarded, 2);
	p = path(v1);
	assert_non_null(sl_doc_find(c.doc, &p));
	p = path(ARM "/virtualNetworks/other1");
	assert_non_null(sl_doc_find(c.doc, &p));
	p = path(ARM "/virtualNetworks/other2");
	assert_non_null(sl_doc_find(c.doc, &p));
	/* If-Match across a lost race whose writer changed another resource: it holds */
	static const char body7[] = "{\"properties\":{\"addressSpace\":{\"addressPrefixes\":"
				    "[\"10.7.0.0/16\"]}}}";
	etag(&c, v1, et, sizeof(et));
	s.lose = 1;
	s.writes = 0;
	assert_int_equal(change(&c, v1, body7, et, NULL, &http, &e), 0);
	assert_int_equal(s.writes, 2);
	/* ... and one whose writer changed v1 itself: 412, naming the fleet revision */
	etag(&c, v1, et, sizeof(et));
	s.lose = 1;
	s.touch_v1 = 1;
	assert_int_not_equal(change(&c, v1, vnet_body, et, NULL, &http, &e), 0);
	assert_int_equal(http, 412);
	assert_non_null(strstr(e.message, "changed by another writer (fleet revision"));
	s.touch_v1 = 0;
	/* 8 lost races: 409, nothing of ours made */
	s.lose = 100;
	s.writes = 0;
	const char *v9 = ARM "/virtualNetworks/v9";
	assert_int_not_equal(change(&c, v9, vnet_body, NULL, NULL, &http, &e), 0);
	assert_int_equal(http, 409);
	assert_string_equal(e.code, "FleetConflict");
	assert_int_equal(s.writes, 8);
	p = path(v9);
	assert_null(sl_doc_find(c.doc, &p));
	/* the store is down: 503, nothing changes, the compilation is dropped */
	s.lose = 0;
	s.down = 1;
	int before = published, dropped = discarded;
	assert_int_not_equal(change(&c, v9, vnet_body, NULL, NULL, &http, &e), 0);
	assert_int_equal(http, 503);
	assert_string_equal(e.code, "FleetStoreUnavailable");
	assert_int_equal(published, before);
	assert_int_equal(discarded, dropped + 1);
	assert_null(sl_doc_find(c.doc, &p));
	c.fleet = NULL;
	sl_controller_fini(&c);
}

/* The fleet's options, its fleet-revision file and its status before etcd answers. */
static void
test_fleet_create(void **state)
{
	struct sl_controller c;
	struct fake_store s;
	struct sl_fleet_hook h;
	struct sl_error e;
	struct sl_fleet *f;
	char dir[] = "/tmp/sl-test-fleet-XXXXXX", path[64];
	cJSON *st, *out = NULL;
	(void)state;

	controller(&c, &s, &h);
	const char *bad_prefix[] = {"sluice/prod", "/sluice/prod/", "/", ""};
	for (size_t i = 0; i < sizeof(bad_prefix) / sizeof(bad_prefix[0]); i++) {
		struct sl_fleet_opts o = {.endpoints = "http://127.0.0.1:1", .prefix = bad_prefix[i]};
		assert_null(sl_fleet_create(&o, &c, &e));
		assert_string_equal(e.code, "FleetOptionInvalid");
		assert_string_equal(e.target, "--fleet-prefix");
	}
	struct sl_fleet_opts o = {.endpoints = "127.0.0.1:2379", .prefix = "/p"};
	assert_null(sl_fleet_create(&o, &c, &e));
	assert_string_equal(e.target, "--fleet-etcd");
	o = (struct sl_fleet_opts){.endpoints = "http://127.0.0.1:1", .prefix = "/p", .name = "a/b"};
	assert_null(sl_fleet_create(&o, &c, &e));
	assert_string_equal(e.target, "--fleet-name");
	assert_null(c.fleet);
	/* the applied revision comes back from the state directory */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fleet-revision", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("41\n", fp);
	fclose(fp);
	o = (struct sl_fleet_opts){.endpoints = "http://127.0.0.1:1,http://127.0.0.1:2",
				   .prefix = "/sluice/t", .name = "h1", .state_dir = dir};
	f = sl_fleet_create(&o, &c, &e);
	assert_non_null(f);
	assert_ptr_not_equal(c.fleet, NULL);
	assert_int_equal(sl_fleet_applied(f), 41);
	st = sl_fleet_status(f);
	assert_string_equal(cJSON_GetObjectItem(st, "name")->valuestring, "h1");
	assert_string_equal(cJSON_GetObjectItem(st, "etcd")->valuestring, "Unreachable");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(st, "partitioned")));
	assert_int_equal(cJSON_GetObjectItem(st, "appliedRevision")->valuedouble, 41);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(st, "endpoints")), 2);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(st, "rejected")));
	cJSON_Delete(st);
	/* nothing read from etcd yet: GET /sluice/fleet is refused */
	assert_int_equal(sl_fleet_hosts(f, &out, &e), -EHOSTUNREACH);
	assert_string_equal(e.code, "FleetStoreUnavailable");
	assert_null(out);
	sl_fleet_free(f);
	assert_null(c.fleet);
	unlink(path);
	rmdir(dir);
	sl_controller_fini(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_stream_split),
		cmocka_unit_test(test_watch_messages),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_if_match),
		cmocka_unit_test(test_fleet_path),
		cmocka_unit_test(test_fleet_create),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
