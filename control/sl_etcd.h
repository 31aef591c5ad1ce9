/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_etcd.h: a small client of etcd's v3 JSON gateway over libcurl (etcd
 * 3.4: POST /v3/kv/range, /v3/kv/txn, /v3/kv/put, /v3/lease/grant,
 * /v3/lease/keepalive, /v3/watch). Keys and values travel base64-encoded,
 * 64-bit integers as JSON strings.
 *
 * A client holds a list of endpoints (client URLs) and the one in use: a
 * request that cannot connect, times out or meets a server error moves to
 * the next one, within the request's time budget. A client is used by one
 * thread at a time (the fleet thread has its own, the control thread its
 * own). The request bodies and the answers' parsing are pure functions,
 * unit-tested without an etcd (tests/unit/test_etcd.c); so is the parser of
 * the watch's stream of JSON objects.
 */
#ifndef SL_ETCD_H
#define SL_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define SL_ETCD_MAX_ENDPOINTS 16

/* base64 (RFC 4648, padded). Returns a malloc'd NUL-terminated string, or NULL. */
char *sl_b64_encode(const void *data, size_t len);
/* Returns a malloc'd NUL-terminated buffer and its length in *len, or NULL (malformed, ENOMEM). */
char *sl_b64_decode(const char *text, size_t *len);

/* One key-value pair of an answer (key and value decoded). */
struct sl_etcd_kv {
	char *key;
	char *value; /* NUL-terminated */
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
	int64_t version;
	int64_t lease;
};

void sl_etcd_kv_clear(struct sl_etcd_kv *kv);

/* Request bodies (cJSON objects the caller frees; NULL on ENOMEM). */
cJSON *sl_etcd_range_body(const char *key, bool prefix, bool serializable);
cJSON *sl_etcd_put_body(const char *key, const char *value, int64_t lease);
/*
 * Put key = value if the key's mod_revision equals expect (expect 0: if it
 * does not exist, create_revision == 0); else range the key.
 */
cJSON *sl_etcd_txn_body(const char *key, const char *value, int64_t expect);
cJSON *sl_etcd_watch_body(const char *key, int64_t start_revision);

/* An int64 of the gateway's JSON (a string, or a number); 0 when absent. */
int64_t sl_etcd_int(const cJSON *obj, const char *name);

/*
 * A range's answer: the header's revision in *revision, its kvs (decoded)
 * in a malloc'd array *kvs of *n (free with sl_etcd_kvs_free). Returns 0, or
 * -EINVAL (malformed), -ENOMEM.
 */
int sl_etcd_parse_range(const cJSON *answer, int64_t *revision, struct sl_etcd_kv **kvs,
			size_t *n);
void sl_etcd_kvs_free(struct sl_etcd_kv *kvs, size_t n);

/*
 * A txn of sl_etcd_txn_body's answer: *succeeded, *revision (the header's:
 * the new mod_revision on success), and on failure the key as it is now in
 * *now (key NULL when it does not exist). Returns 0 or -EINVAL, -ENOMEM.
 */
int sl_etcd_parse_txn(const cJSON *answer, bool *succeeded, int64_t *revision,
		      struct sl_etcd_kv *now);

/*
 * The watch stream: the gateway writes one JSON object per message,
 * {"result": {...}} (or {"error": {...}}), one after the other; a read may
 * end anywhere, inside an object or between two.
 */
struct sl_etcd_stream {
	char *buf;
	size_t len, cap;
};

/* What one message of a watch says. */
struct sl_etcd_watch_msg {
	bool created;
	bool canceled;
	int64_t compact_revision; /* > 0: the start revision was compacted */
	int64_t revision;         /* the header's */
	struct sl_etcd_kv *events; /* PUT events' kvs (a DELETE: value NULL, value_len 0) */
	size_t n_events;
	char error[256]; /* an {"error"} message or cancel_reason; "" when none */
};

/*
 * Append len bytes, then hand every complete object to fn (its return:
 * 0 goes on, non-zero stops and is returned). Returns 0, fn's non-zero, or
 * -ENOMEM, -EINVAL (not JSON, or an object larger than 64 MiB).
 */
int sl_etcd_stream_feed(struct sl_etcd_stream *s, const char *data, size_t len,
			int (*fn)(void *ctx, const cJSON *obj), void *ctx);
void sl_etcd_stream_reset(struct sl_etcd_stream *s);

/* Parse one watch message (an object of the stream). Returns 0, -EINVAL or -ENOMEM. */
int sl_etcd_parse_watch(const cJSON *obj, struct sl_etcd_watch_msg *m);
void sl_etcd_watch_msg_clear(struct sl_etcd_watch_msg *m);

/* ------------------------------------------------------------------ */
/* The client (libcurl). */

struct sl_etcd;

/*
 * A client of the comma-separated endpoint URLs ("http://127.0.0.1:2379,..."),
 * or NULL with why filled (no URL, too many, not http(s)://, ENOMEM).
 */
struct sl_etcd *sl_etcd_create(const char *endpoints, char *why, size_t why_len);
void sl_etcd_free(struct sl_etcd *e);

size_t sl_etcd_n_endpoints(const struct sl_etcd *e);
const char *sl_etcd_endpoint(const struct sl_etcd *e, size_t i);
/* "http://a:2379, http://b:2379" */
void sl_etcd_endpoints_text(const struct sl_etcd *e, char *buf, size_t len);

/*
 * POST body to path ("/v3/kv/range") within timeout_ms, trying the
 * endpoints in turn from the one in use. Returns 0 with the parsed answer
 * in *answer, or a negative errno with why filled: -ECONNREFUSED (no
 * endpoint could be reached), -ETIMEDOUT (the budget ran out), -EIO (etcd
 * answered with an error), -ENOMEM.
 */
int sl_etcd_request(struct sl_etcd *e, const char *path, const cJSON *body, long timeout_ms,
		    cJSON **answer, char *why, size_t why_len);

/* The requests of the fleet, each over sl_etcd_request. */
int sl_etcd_range(struct sl_etcd *e, const char *key, bool prefix, bool serializable,
		  long timeout_ms, int64_t *revision, struct sl_etcd_kv **kvs, size_t *n,
		  char *why, size_t why_len);
int sl_etcd_txn_put(struct sl_etcd *e, const char *key, const char *value, int64_t expect,
		    long timeout_ms, bool *succeeded, int64_t *revision, struct sl_etcd_kv *now,
		    char *why, size_t why_len);
int sl_etcd_put(struct sl_etcd *e, const char *key, const char *value, int64_t lease,
		long timeout_ms, char *why, size_t why_len);
/* A lease of ttl seconds: its id in *id. */
int sl_etcd_lease_grant(struct sl_etcd *e, int64_t ttl, long timeout_ms, int64_t *id, char *why,
			size_t why_len);
/* Renew lease id: its remaining TTL in *ttl (0: it expired). */
int sl_etcd_lease_keepalive(struct sl_etcd *e, int64_t id, long timeout_ms, int64_t *ttl,
			    char *why, size_t why_len);

/*
 * A watch of key from start_revision on one endpoint (the one in use),
 * driven by sl_etcd_watch_run(): each message goes to fn. Returns 0, or a
 * negative errno with why filled.
 */
int sl_etcd_watch_start(struct sl_etcd *e, const char *key, int64_t start_revision,
			int (*fn)(void *ctx, const struct sl_etcd_watch_msg *m), void *ctx,
			char *why, size_t why_len);
/*
 * Wait up to wait_ms for the watch's data and hand its messages on.
 * Returns 1 while the watch runs, 0 when it ended (the connection closed, fn
 * stopped it, the endpoint failed: why says; the next start uses the next
 * endpoint after a failure).
 */
int sl_etcd_watch_run(struct sl_etcd *e, int wait_ms, char *why, size_t why_len);
void sl_etcd_watch_stop(struct sl_etcd *e);

#endif /* SL_ETCD_H */
