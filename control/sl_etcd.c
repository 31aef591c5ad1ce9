/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_etcd.c: the v3 JSON gateway client (see sl_etcd.h): base64, request
 * bodies, answer and watch-stream parsing, and the libcurl transport with
 * endpoint failover and time budgets.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "sl_etcd.h"

/* A streamed object larger than this is refused (a document is at most a few MiB). */
#define SL_ETCD_STREAM_MAX (64u << 20)
/* An answer larger than this is refused. */
#define SL_ETCD_ANSWER_MAX (128u << 20)

static const char sl_b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
sl_b64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*o++ = sl_b64_chars[(v >> 18) & 63];
		*o++ = sl_b64_chars[(v >> 12) & 63];
		*o++ = i + 1 < len ? sl_b64_chars[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? sl_b64_chars[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int
sl_b64_value(char c)
{
	const char *p = c != '\0' ? strchr(sl_b64_chars, c) : NULL;
	return p != NULL ? (int)(p - sl_b64_chars) : -1;
}

char *
sl_b64_decode(const char *text, size_t *len)
{
	size_t n = strlen(text), k = 0;
	char *out;

	if (n % 4 != 0)
		return NULL;
	out = malloc(n / 4 * 3 + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += 4) {
		int a = sl_b64_value(text[i]), b = sl_b64_value(text[i + 1]);
		int c = text[i + 2] == '=' ? -2 : sl_b64_value(text[i + 2]);
		int d = text[i + 3] == '=' ? -2 : sl_b64_value(text[i + 3]);
		bool last = i + 4 == n;
		if (a < 0 || b < 0 || c == -1 || d == -1 || (!last && (c < 0 || d < 0)) ||
		    (c == -2 && d != -2))
			goto bad;
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)(c < 0 ? 0 : c) << 6 |
			     (uint32_t)(d < 0 ? 0 : d);
		out[k++] = (char)(v >> 16);
		if (c >= 0)
			out[k++] = (char)(v >> 8);
		if (d >= 0)
			out[k++] = (char)v;
	}
	out[k] = '\0';
	*len = k;
	return out;
bad:
	free(out);
	return NULL;
}

void
sl_etcd_kv_clear(struct sl_etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

void
sl_etcd_kvs_free(struct sl_etcd_kv *kvs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sl_etcd_kv_clear(&kvs[i]);
	free(kvs);
}

int64_t
sl_etcd_int(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (cJSON_IsString(v))
		return strtoll(v->valuestring, NULL, 10);
	if (cJSON_IsNumber(v))
		return (int64_t)v->valuedouble;
	return 0;
}

/* Add name: base64(text) to o; false on ENOMEM. */
static bool
sl_add_b64(cJSON *o, const char *name, const char *text, size_t len)
{
	char *b = sl_b64_encode(text, len);
	bool ok = b != NULL && cJSON_AddStringToObject(o, name, b) != NULL;

	free(b);
	return ok;
}

static bool
sl_add_i64(cJSON *o, const char *name, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return cJSON_AddStringToObject(o, name, buf) != NULL;
}

/* The end of a prefix range: the prefix with its last byte incremented. */
static bool
sl_add_prefix_end(cJSON *o, const char *key)
{
	size_t n = strlen(key);
	char *end = strdup(key);
	bool ok;

	if (end == NULL)
		return false;
	while (n > 0 && (unsigned char)end[n - 1] == 0xff)
		n--;
	if (n == 0) { /* every key: "\0" */
		free(end);
		return sl_add_b64(o, "range_end", "", 1);
	}
	end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
	ok = sl_add_b64(o, "range_end", end, n);
	free(end);
	return ok;
}

cJSON *
sl_etcd_range_body(const char *key, bool prefix, bool serializable)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !sl_add_b64(o, "key", key, strlen(key)) ||
	    (prefix && !sl_add_prefix_end(o, key)) ||
	    (serializable && cJSON_AddTrueToObject(o, "serializable") == NULL)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *
sl_etcd_put_body(const char *key, const char *value, int64_t lease)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !sl_add_b64(o, "key", key, strlen(key)) ||
	    !sl_add_b64(o, "value", value, strlen(value)) ||
	    (lease != 0 && !sl_add_i64(o, "lease", lease))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *
sl_etcd_txn_body(const char *key, const char *value, int64_t expect)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *cmp = cJSON_CreateObject(), *put = NULL, *range = NULL, *a;

	if (o == NULL || cmp == NULL) {
		cJSON_Delete(o);
		cJSON_Delete(cmp);
		return NULL;
	}
	cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "compare"), cmp); /* o owns cmp */
	if (!sl_add_b64(cmp, "key", key, strlen(key)) ||
	    cJSON_AddStringToObject(cmp, "result", "EQUAL") == NULL ||
	    cJSON_AddStringToObject(cmp, "target", expect == 0 ? "CREATE" : "MOD") == NULL ||
	    !sl_add_i64(cmp, expect == 0 ? "create_revision" : "mod_revision", expect))
		goto fail;
	put = sl_etcd_put_body(key, value, 0);
	range = sl_etcd_range_body(key, false, false);
	if (put == NULL || range == NULL)
		goto fail;
	a = cJSON_AddArrayToObject(o, "success");
	cJSON *op = cJSON_CreateObject();
	cJSON_AddItemToArray(a, op);
	cJSON_AddItemToObject(op, "request_put", put);
	put = NULL;
	a = cJSON_AddArrayToObject(o, "failure");
	op = cJSON_CreateObject();
	cJSON_AddItemToArray(a, op);
	cJSON_AddItemToObject(op, "request_range", range);
	return o;
fail:
	cJSON_Delete(put);
	cJSON_Delete(range);
	cJSON_Delete(o);
	return NULL;
}

cJSON *
sl_etcd_watch_body(const char *key, int64_t start_revision)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *c = cJSON_AddObjectToObject(o, "create_request");

	if (c == NULL || !sl_add_b64(c, "key", key, strlen(key)) ||
	    (start_revision > 0 && !sl_add_i64(c, "start_revision", start_revision))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Decode one kv object of an answer. Returns 0, -EINVAL or -ENOMEM. */
static int
sl_parse_kv(const cJSON *o, struct sl_etcd_kv *kv)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "key");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
	size_t n;

	memset(kv, 0, sizeof(*kv));
	if (!cJSON_IsString(k))
		return -EINVAL;
	kv->key = sl_b64_decode(k->valuestring, &n);
	if (kv->key == NULL)
		return -EINVAL;
	if (cJSON_IsString(v)) {
		kv->value = sl_b64_decode(v->valuestring, &kv->value_len);
		if (kv->value == NULL) {
			sl_etcd_kv_clear(kv);
			return -EINVAL;
		}
	}
	kv->create_revision = sl_etcd_int(o, "create_revision");
	kv->mod_revision = sl_etcd_int(o, "mod_revision");
	kv->version = sl_etcd_int(o, "version");
	kv->lease = sl_etcd_int(o, "lease");
	return 0;
}

/* The kvs array a of an answer, decoded. */
static int
sl_parse_kvs(const cJSON *a, struct sl_etcd_kv **kvs, size_t *n)
{
	int count = cJSON_GetArraySize(a), i = 0, rc;
	const cJSON *it;

	*kvs = NULL;
	*n = 0;
	if (a != NULL && !cJSON_IsArray(a))
		return -EINVAL;
	if (count == 0)
		return 0;
	*kvs = calloc((size_t)count, sizeof(**kvs));
	if (*kvs == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(it, a) {
		rc = sl_parse_kv(it, &(*kvs)[i]);
		if (rc < 0) {
			sl_etcd_kvs_free(*kvs, (size_t)i);
			*kvs = NULL;
			return rc;
		}
		i++;
	}
	*n = (size_t)i;
	return 0;
}

int
sl_etcd_parse_range(const cJSON *answer, int64_t *revision, struct sl_etcd_kv **kvs, size_t *n)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(answer, "header");

	if (!cJSON_IsObject(h))
		return -EINVAL;
	*revision = sl_etcd_int(h, "revision");
	return sl_parse_kvs(cJSON_GetObjectItemCaseSensitive(answer, "kvs"), kvs, n);
}

int
sl_etcd_parse_txn(const cJSON *answer, bool *succeeded, int64_t *revision,
		  struct sl_etcd_kv *now)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(answer, "header");
	const cJSON *r, *rr;
	struct sl_etcd_kv *kvs;
	size_t n;
	int rc;

	memset(now, 0, sizeof(*now));
	if (!cJSON_IsObject(h))
		return -EINVAL;
	*revision = sl_etcd_int(h, "revision");
	*succeeded = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer, "succeeded"));
	if (*succeeded)
		return 0;
	/* the failure branch's range: responses[0].response_range.kvs */
	r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(answer, "responses"), 0);
	rr = cJSON_GetObjectItemCaseSensitive(r, "response_range");
	if (!cJSON_IsObject(rr))
		return -EINVAL;
	rc = sl_parse_kvs(cJSON_GetObjectItemCaseSensitive(rr, "kvs"), &kvs, &n);
	if (rc < 0)
		return rc;
	if (n > 0) {
		*now = kvs[0];
		memset(&kvs[0], 0, sizeof(kvs[0]));
	}
	sl_etcd_kvs_free(kvs, n);
	return 0;
}

void
sl_etcd_stream_reset(struct sl_etcd_stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

/* The length of the complete object at the start of buf (after blanks), 0 when incomplete. */
static size_t
sl_object_end(const char *buf, size_t len, size_t start)
{
	int depth = 0;
	bool in_str = false, esc = false;

	for (size_t i = start; i < len; i++) {
		char c = buf[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth == 0)
			return i + 1;
	}
	return 0;
}

int
sl_etcd_stream_feed(struct sl_etcd_stream *s, const char *data, size_t len,
		    int (*fn)(void *ctx, const cJSON *obj), void *ctx)
{
	size_t pos = 0;
	int rc = 0;

	if (s->len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < s->len + len + 1)
			cap *= 2;
		char *b = realloc(s->buf, cap);
		if (b == NULL)
			return -ENOMEM;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	while (rc == 0) {
		while (pos < s->len && strchr(" \t\r\n", s->buf[pos]) != NULL && s->buf[pos] != '\0')
			pos++;
		if (pos == s->len)
			break;
		if (s->buf[pos] != '{') {
			rc = -EINVAL;
			break;
		}
		size_t end = sl_object_end(s->buf, s->len, pos);
		if (end == 0) {
			if (s->len - pos > SL_ETCD_STREAM_MAX)
				rc = -EINVAL;
			break;
		}
		cJSON *o = cJSON_ParseWithLength(s->buf + pos, end - pos);
		if (o == NULL) {
			rc = -EINVAL;
			break;
		}
		pos = end;
		rc = fn(ctx, o);
		cJSON_Delete(o);
	}
	memmove(s->buf, s->buf + pos, s->len - pos);
	s->len -= pos;
	return rc;
}

void
sl_etcd_watch_msg_clear(struct sl_etcd_watch_msg *m)
{
	sl_etcd_kvs_free(m->events, m->n_events);
	memset(m, 0, sizeof(*m));
}

int
sl_etcd_parse_watch(const cJSON *obj, struct sl_etcd_watch_msg *m)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(obj, "result");
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(obj, "error");
	const cJSON *ev, *reason;
	int n, i = 0;

	memset(m, 0, sizeof(*m));
	if (err != NULL) {
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");
		snprintf(m->error, sizeof(m->error), "%s",
			 cJSON_IsString(msg)   ? msg->valuestring
			 : cJSON_IsString(err) ? err->valuestring
					       : "the watch failed");
		m->canceled = true;
		return 0;
	}
	if (!cJSON_IsObject(r))
		return -EINVAL;
	m->revision = sl_etcd_int(cJSON_GetObjectItemCaseSensitive(r, "header"), "revision");
	m->created = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "created"));
	m->canceled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "canceled"));
	m->compact_revision = sl_etcd_int(r, "compact_revision");
	reason = cJSON_GetObjectItemCaseSensitive(r, "cancel_reason");
	if (cJSON_IsString(reason))
		snprintf(m->error, sizeof(m->error), "%s", reason->valuestring);
	else if (m->compact_revision > 0)
		snprintf(m->error, sizeof(m->error), "revision %" PRId64 " was compacted",
			 m->compact_revision);
	ev = cJSON_GetObjectItemCaseSensitive(r, "events");
	n = cJSON_GetArraySize(ev);
	if (n == 0)
		return 0;
	m->events = calloc((size_t)n, sizeof(*m->events));
	if (m->events == NULL)
		return -ENOMEM;
	const cJSON *it;
	cJSON_ArrayForEach(it, ev) {
		int rc = sl_parse_kv(cJSON_GetObjectItemCaseSensitive(it, "kv"), &m->events[i]);
		if (rc < 0) {
			sl_etcd_watch_msg_clear(m);
			return rc;
		}
		/* a DELETE event carries no value ("type": "DELETE") */
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");
		if (cJSON_IsString(type) && strcmp(type->valuestring, "DELETE") == 0) {
			free(m->events[i].value);
			m->events[i].value = NULL;
			m->events[i].value_len = 0;
		}
		m->n_events = (size_t)++i;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The transport. */

struct sl_etcd {
	char *endpoints[SL_ETCD_MAX_ENDPOINTS];
	size_t n;
	size_t cur; /* the endpoint in use */
	CURL *easy; /* requests */
	struct {
		CURL *easy;
		CURLM *multi;
		struct curl_slist *headers;
		char *body;
		struct sl_etcd_stream stream;
		int (*fn)(void *ctx, const struct sl_etcd_watch_msg *m);
		void *ctx;
		int stopped; /* fn's non-zero, or a parse error */
		char why[256];
	} w;
};

struct sl_buf {
	char *data;
	size_t len;
};

static size_t
sl_collect(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sl_buf *b = ud;
	size_t n = size * nmemb;

	if (b->len + n > SL_ETCD_ANSWER_MAX)
		return 0;
	char *d = realloc(b->data, b->len + n + 1);
	if (d == NULL)
		return 0;
	memcpy(d + b->len, ptr, n);
	b->data = d;
	b->len += n;
	d[b->len] = '\0';
	return n;
}

static double
sl_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct sl_etcd *
sl_etcd_create(const char *endpoints, char *why, size_t why_len)
{
	static int curl_ready;
	struct sl_etcd *e;
	char *copy, *save = NULL;

	if (!curl_ready) {
		/* the first client is made on the control thread, before the fleet thread starts */
		curl_global_init(CURL_GLOBAL_DEFAULT);
		curl_ready = 1;
	}
	e = calloc(1, sizeof(*e));
	copy = endpoints != NULL ? strdup(endpoints) : NULL;
	if (e == NULL || copy == NULL)
		goto nomem;
	for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		size_t l = strlen(t);
		while (l > 0 && (t[l - 1] == '/' || t[l - 1] == ' '))
			t[--l] = '\0';
		if (l == 0)
			continue;
		if (strncmp(t, "http://", 7) != 0 && strncmp(t, "https://", 8) != 0) {
			snprintf(why, why_len, "'%s' is not an etcd client URL (http://HOST:PORT)", t);
			goto fail;
		}
		if (e->n == SL_ETCD_MAX_ENDPOINTS) {
			snprintf(why, why_len, "more than %d etcd endpoints", SL_ETCD_MAX_ENDPOINTS);
			goto fail;
		}
		if ((e->endpoints[e->n++] = strdup(t)) == NULL)
			goto nomem;
	}
	if (e->n == 0) {
		snprintf(why, why_len, "no etcd endpoint given");
		goto fail;
	}
	e->easy = curl_easy_init();
	if (e->easy == NULL)
		goto nomem;
	free(copy);
	return e;
nomem:
	snprintf(why, why_len, "out of memory");
fail:
	free(copy);
	sl_etcd_free(e);
	return NULL;
}

void
sl_etcd_free(struct sl_etcd *e)
{
	if (e == NULL)
		return;
	sl_etcd_watch_stop(e);
	if (e->easy != NULL)
		curl_easy_cleanup(e->easy);
	for (size_t i = 0; i < e->n; i++)
		free(e->endpoints[i]);
	free(e);
}

size_t
sl_etcd_n_endpoints(const struct sl_etcd *e)
{
	return e->n;
}

const char *
sl_etcd_endpoint(const struct sl_etcd *e, size_t i)
{
	return i < e->n ? e->endpoints[i] : NULL;
}

void
sl_etcd_endpoints_text(const struct sl_etcd *e, char *buf, size_t len)
{
	size_t k = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < e->n && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "", e->endpoints[i]);
}

/* etcd's own error message of an answer ({"error": "...", "message": "..."}), or "". */
static void
sl_etcd_error_text(const char *body, long http, char *why, size_t why_len)
{
	cJSON *o = body != NULL ? cJSON_Parse(body) : NULL;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "message");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");

	snprintf(why, why_len, "etcd answered HTTP %ld: %s", http,
		 cJSON_IsString(m)   ? m->valuestring
		 : cJSON_IsString(e) ? e->valuestring
				     : "(no message)");
	cJSON_Delete(o);
}

/* One POST to endpoint i. Returns 0 (answer kept), 1 (try the next one), or -errno. */
static int
sl_etcd_post_one(struct sl_etcd *e, size_t i, const char *path, const char *body,
		 long timeout_ms, cJSON **answer, int *last, char *why, size_t why_len)
{
	char url[512];
	struct sl_buf b = {0};
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	long http = 0;
	CURLcode cc;

	snprintf(url, sizeof(url), "%s%s", e->endpoints[i], path);
	curl_easy_reset(e->easy);
	curl_easy_setopt(e->easy, CURLOPT_URL, url);
	curl_easy_setopt(e->easy, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e->easy, CURLOPT_WRITEFUNCTION, sl_collect);
	curl_easy_setopt(e->easy, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(e->easy, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1);
	curl_easy_setopt(e->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e->easy, CURLOPT_PROXY, "");
	cc = curl_easy_perform(e->easy);
	curl_slist_free_all(h);
	if (cc != CURLE_OK) {
		snprintf(why, why_len, "%s: %s", e->endpoints[i], curl_easy_strerror(cc));
		*last = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
		free(b.data);
		return 1;
	}
	curl_easy_getinfo(e->easy, CURLINFO_RESPONSE_CODE, &http);
	if (http != 200) {
		sl_etcd_error_text(b.data, http, why, why_len);
		free(b.data);
		/* a member without a leader or quorum answers 5xx: another may do better */
		*last = -EIO;
		return http >= 500 ? 1 : -EIO;
	}
	*answer = b.data != NULL ? cJSON_Parse(b.data) : NULL;
	free(b.data);
	if (*answer == NULL) {
		snprintf(why, why_len, "%s: the answer is not JSON", e->endpoints[i]);
		return -EIO;
	}
	return 0;
}

int
sl_etcd_request(struct sl_etcd *e, const char *path, const cJSON *body, long timeout_ms,
		cJSON **answer, char *why, size_t why_len)
{
	char *text = cJSON_PrintUnformatted(body);
	double deadline = sl_mono_ms() + (double)timeout_ms;
	int last = -ECONNREFUSED, rc = 1;

	*answer = NULL;
	if (text == NULL) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	for (size_t k = 0; k < e->n && rc == 1; k++) {
		double left = deadline - sl_mono_ms();
		if (left < 1) {
			last = -ETIMEDOUT;
			break;
		}
		/* each endpoint gets its share of what is left, the last one all of it */
		long share = (long)(left / (double)(e->n - k));
		size_t i = (e->cur + k) % e->n;
		rc = sl_etcd_post_one(e, i, path, text, share, answer, &last, why, why_len);
		if (rc == 0)
			e->cur = i;
	}
	free(text);
	if (rc == 0)
		return 0;
	if (rc == 1) {
		/* next time, start from the next endpoint */
		e->cur = (e->cur + 1) % e->n;
		if (e->n > 1) {
			char one[256];
			snprintf(one, sizeof(one), "%s", why);
			snprintf(why, why_len, "no endpoint of %zu answered (the last: %s)", e->n,
				 one);
		}
		return last;
	}
	return rc;
}

/* sl_etcd_request() of body, which it takes (NULL: -ENOMEM, a body that could not be built). */
static int
sl_etcd_send(struct sl_etcd *e, const char *path, cJSON *body, long timeout_ms, cJSON **answer,
	     char *why, size_t why_len)
{
	int rc;

	if (body == NULL)
		return -ENOMEM;
	rc = sl_etcd_request(e, path, body, timeout_ms, answer, why, why_len);
	cJSON_Delete(body);
	return rc;
}

/* {"<key>": "<value>"} with a 64-bit integer (a lease's TTL or ID); NULL on ENOMEM. */
static cJSON *
sl_etcd_i64_body(const char *key, int64_t value)
{
	cJSON *body = cJSON_CreateObject();

	if (body != NULL && !sl_add_i64(body, key, value)) {
		cJSON_Delete(body);
		body = NULL;
	}
	return body;
}

int
sl_etcd_range(struct sl_etcd *e, const char *key, bool prefix, bool serializable,
	      long timeout_ms, int64_t *revision, struct sl_etcd_kv **kvs, size_t *n, char *why,
	      size_t why_len)
{
	cJSON *a;
	int rc = sl_etcd_send(e, "/v3/kv/range", sl_etcd_range_body(key, prefix, serializable),
			      timeout_ms, &a, why, why_len);

	if (rc < 0)
		return rc;
	rc = sl_etcd_parse_range(a, revision, kvs, n);
	cJSON_Delete(a);
	if (rc < 0)
		snprintf(why, why_len, "a malformed range answer from etcd");
	return rc;
}

int
sl_etcd_txn_put(struct sl_etcd *e, const char *key, const char *value, int64_t expect,
		long timeout_ms, bool *succeeded, int64_t *revision, struct sl_etcd_kv *now,
		char *why, size_t why_len)
{
	cJSON *a;
	int rc;

	memset(now, 0, sizeof(*now));
	rc = sl_etcd_send(e, "/v3/kv/txn", sl_etcd_txn_body(key, value, expect), timeout_ms, &a,
			  why, why_len);
	if (rc < 0)
		return rc;
	rc = sl_etcd_parse_txn(a, succeeded, revision, now);
	cJSON_Delete(a);
	if (rc < 0)
		snprintf(why, why_len, "a malformed txn answer from etcd");
	return rc;
}

int
sl_etcd_put(struct sl_etcd *e, const char *key, const char *value, int64_t lease,
	    long timeout_ms, char *why, size_t why_len)
{
	cJSON *a = NULL;
	int rc = sl_etcd_send(e, "/v3/kv/put", sl_etcd_put_body(key, value, lease), timeout_ms, &a,
			      why, why_len);

	cJSON_Delete(a);
	return rc;
}

int
sl_etcd_lease_grant(struct sl_etcd *e, int64_t ttl, long timeout_ms, int64_t *id, char *why,
		    size_t why_len)
{
	cJSON *a;
	int rc = sl_etcd_send(e, "/v3/lease/grant", sl_etcd_i64_body("TTL", ttl), timeout_ms, &a,
			      why, why_len);

	if (rc < 0)
		return rc;
	*id = sl_etcd_int(a, "ID");
	cJSON_Delete(a);
	if (*id == 0) {
		snprintf(why, why_len, "etcd granted no lease");
		return -EIO;
	}
	return 0;
}

int
sl_etcd_lease_keepalive(struct sl_etcd *e, int64_t id, long timeout_ms, int64_t *ttl,
			char *why, size_t why_len)
{
	cJSON *a;
	int rc = sl_etcd_send(e, "/v3/lease/keepalive", sl_etcd_i64_body("ID", id), timeout_ms, &a,
			      why, why_len);

	if (rc < 0)
		return rc;
	/* a stream of one message here: {"result": {"ID", "TTL"}} */
	*ttl = sl_etcd_int(cJSON_GetObjectItemCaseSensitive(a, "result"), "TTL");
	cJSON_Delete(a);
	return 0;
}

/* A watch message out of the stream, to the watch's fn. */
static int
sl_watch_object(void *ctx, const cJSON *obj)
{
	struct sl_etcd *e = ctx;
	struct sl_etcd_watch_msg m;
	int rc = sl_etcd_parse_watch(obj, &m);

	if (rc < 0)
		return rc;
	rc = e->w.fn(e->w.ctx, &m);
	sl_etcd_watch_msg_clear(&m);
	return rc;
}

static size_t
sl_watch_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sl_etcd *e = ud;
	size_t n = size * nmemb;
	int rc = sl_etcd_stream_feed(&e->w.stream, ptr, n, sl_watch_object, e);

	if (rc != 0) {
		e->w.stopped = rc;
		if (rc < 0)
			snprintf(e->w.why, sizeof(e->w.why), "a malformed watch stream");
		return 0; /* curl ends the transfer */
	}
	return n;
}

int
sl_etcd_watch_start(struct sl_etcd *e, const char *key, int64_t start_revision,
		    int (*fn)(void *ctx, const struct sl_etcd_watch_msg *m), void *ctx, char *why,
		    size_t why_len)
{
	cJSON *body = sl_etcd_watch_body(key, start_revision);
	char url[512];

	sl_etcd_watch_stop(e);
	e->w.body = body != NULL ? cJSON_PrintUnformatted(body) : NULL;
	cJSON_Delete(body);
	e->w.easy = curl_easy_init();
	e->w.multi = curl_multi_init();
	e->w.headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (e->w.body == NULL || e->w.easy == NULL || e->w.multi == NULL || e->w.headers == NULL) {
		sl_etcd_watch_stop(e);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	e->w.fn = fn;
	e->w.ctx = ctx;
	snprintf(url, sizeof(url), "%s/v3/watch", e->endpoints[e->cur]);
	curl_easy_setopt(e->w.easy, CURLOPT_URL, url);
	curl_easy_setopt(e->w.easy, CURLOPT_HTTPHEADER, e->w.headers);
	curl_easy_setopt(e->w.easy, CURLOPT_POSTFIELDS, e->w.body);
	curl_easy_setopt(e->w.easy, CURLOPT_WRITEFUNCTION, sl_watch_write);
	curl_easy_setopt(e->w.easy, CURLOPT_WRITEDATA, e);
	curl_easy_setopt(e->w.easy, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(e->w.easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e->w.easy, CURLOPT_PROXY, "");
	curl_multi_add_handle(e->w.multi, e->w.easy);
	return 0;
}

int
sl_etcd_watch_run(struct sl_etcd *e, int wait_ms, char *why, size_t why_len)
{
	int running = 0, left;
	CURLMsg *msg;

	if (e->w.multi == NULL) {
		snprintf(why, why_len, "no watch");
		return 0;
	}
	curl_multi_poll(e->w.multi, NULL, 0, wait_ms, NULL);
	curl_multi_perform(e->w.multi, &running);
	if (running)
		return 1;
	while ((msg = curl_multi_info_read(e->w.multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		if (e->w.stopped != 0)
			snprintf(why, why_len, "%s", e->w.why[0] ? e->w.why : "the watch was ended");
		else if (msg->data.result != CURLE_OK)
			snprintf(why, why_len, "%s: %s", e->endpoints[e->cur],
				 curl_easy_strerror(msg->data.result));
		else
			snprintf(why, why_len, "%s closed the watch", e->endpoints[e->cur]);
		if (e->w.stopped == 0)
			e->cur = (e->cur + 1) % e->n;
	}
	sl_etcd_watch_stop(e);
	return 0;
}

void
sl_etcd_watch_stop(struct sl_etcd *e)
{
	if (e->w.multi != NULL && e->w.easy != NULL)
		curl_multi_remove_handle(e->w.multi, e->w.easy);
	if (e->w.easy != NULL)
		curl_easy_cleanup(e->w.easy);
	if (e->w.multi != NULL)
		curl_multi_cleanup(e->w.multi);
	curl_slist_free_all(e->w.headers);
	free(e->w.body);
	sl_etcd_stream_reset(&e->w.stream);
	memset(&e->w, 0, sizeof(e->w));
}
