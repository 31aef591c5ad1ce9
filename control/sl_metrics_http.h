/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_metrics_http.h: the Prometheus listener (--metrics-listen ADDR:PORT):
 * HTTP on TCP that serves GET (and HEAD) /metrics and nothing else, read
 * only: any other path is 404, any other method 405. It is a second
 * libmicrohttpd daemon beside the REST API's (sl_api.h), run the same way:
 * no thread of its own, the control thread polls sl_metrics_http_fd() and
 * calls sl_metrics_http_run(), so the text is rendered on the control
 * thread like GET /sluice/metrics.
 */
#ifndef SL_METRICS_HTTP_H
#define SL_METRICS_HTTP_H

#include <sys/socket.h>

#include "sl_error.h"

/* "255.255.255.255:65535" and "[IPv6 with a zone]:65535", with room to spare. */
#define SL_METRICS_ADDR_MAX 80
/* Connections at once from one address (32 in all). */
#define SL_METRICS_PER_HOST 8

struct sl_metrics_http;

/* The text to serve (malloc'd; the listener frees it), or NULL (503). */
typedef char *(*sl_metrics_render_fn)(void *ctx);

/*
 * Parse "A.B.C.D:PORT" or "[IPv6]:PORT" (PORT 0..65535, 0: any free port)
 * into *ss and *len. 0, or -EINVAL with *err (InvalidMetricsListenAddress).
 */
int sl_metrics_listen_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
			    struct sl_error *err);

/*
 * Listen on spec (as sl_metrics_listen_parse() takes it) and serve what
 * render(ctx) returns. NULL with *err and errno on failure
 * (InvalidMetricsListenAddress, MetricsListenFailed: the address is in
 * use, not this host's, ...).
 */
struct sl_metrics_http *sl_metrics_http_start(const char *spec, sl_metrics_render_fn render,
					      void *ctx, struct sl_error *err);

/* The address listened on, "A.B.C.D:PORT" or "[IPv6]:PORT" (the port chosen for port 0). */
const char *sl_metrics_http_address(const struct sl_metrics_http *m);

/* A descriptor that becomes readable when sl_metrics_http_run() has work. */
int sl_metrics_http_fd(const struct sl_metrics_http *m);

/* Serve whatever is ready, without blocking. */
void sl_metrics_http_run(struct sl_metrics_http *m);

/* Close the listener and its connections. NULL is accepted. */
void sl_metrics_http_stop(struct sl_metrics_http *m);

#endif /* SL_METRICS_HTTP_H */
