/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_api_handler.h: the REST API's request handler, without a transport.
 * A request is plain data (method, path, query, headers, body, the peer's
 * uid); the answer is plain data (status, content type, body, and a
 * Retry-After when one applies). sl_api.c adapts libmicrohttpd on the Unix
 * socket to it; tests/fuzz/fuzz_rest.c drives it directly. The endpoints,
 * their errors and the audit line of a change are described in sl_api.h
 * and docs/api.md. The request limits checked here (header and body size,
 * per-uid request rate) are counted in struct sl_api_counters, which the
 * socket's own limits (connections, slow clients) share.
 */
#ifndef SL_API_HANDLER_H
#define SL_API_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include "sl_api.h"

struct sl_api_header {
	const char *name;
	const char *value;
};

struct sl_api_req {
	const char *method;
	const char *path;  /* as sent: percent-encoded, without the query */
	const char *query; /* as sent, without the '?'; NULL or "" when none */
	const struct sl_api_header *headers;
	size_t n_headers;
	const char *body; /* len bytes (NUL-terminated when not NULL) */
	size_t len;
	size_t body_seen; /* bytes the client sent; more than len: the body was cut at the limit */
	long uid;         /* the peer's uid (SO_PEERCRED), -1 when unknown: the rate limit's key */
	const char *who;  /* the peer for the audit line, "uid U pid P (COMM)" */
	double start_us;  /* when the whole request was in */
};

struct sl_api_resp {
	unsigned int status;
	const char *content_type; /* NULL: no body */
	char *body;               /* malloc'd, or NULL */
	size_t len;
	unsigned int retry_after; /* seconds for a Retry-After header; 0: none */
};

struct sl_api_handler;

/* A handler over ctl with hooks (both kept) and limits (copied; NULL: the defaults). */
struct sl_api_handler *sl_api_handler_create(struct sl_controller *ctl,
					     const struct sl_api_hooks *hooks,
					     const struct sl_api_limits *limits);

/* Answer rq in *out (free its body with sl_api_resp_free()); always fills *out. */
void sl_api_handle(struct sl_api_handler *h, const struct sl_api_req *rq, struct sl_api_resp *out);

void sl_api_resp_free(struct sl_api_resp *out);

/* The limits in force and what they refused (the socket adds its own to the counters). */
const struct sl_api_limits *sl_api_handler_limits(const struct sl_api_handler *h);
struct sl_api_counters *sl_api_handler_counters(struct sl_api_handler *h);

/* Read the deployment records of the controller's state directory now (sl_api.h). */
void sl_api_handler_restore_deployments(struct sl_api_handler *h);

/*
 * An ARM error document {"error": {"code", "message", "target"}} as text
 * (malloc'd, with a final newline), for answers the socket writes itself.
 */
char *sl_api_error_text(const char *code, const char *target, const char *message);

void sl_api_handler_free(struct sl_api_handler *h);

#endif /* SL_API_HANDLER_H */
