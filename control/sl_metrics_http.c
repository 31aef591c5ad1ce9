/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_metrics_http.c: the Prometheus listener on TCP (see sl_metrics_http.h).
 *
 * libmicrohttpd as for the REST API: MHD_USE_EPOLL, no thread, the
 * listening socket made here. Every request is answered from the
 * handler's first call, before any body is read: nothing a client sends
 * is kept, and no request changes anything. Limits: 32 connections at
 * once, SL_METRICS_PER_HOST of them from one address (past that
 * libmicrohttpd closes the newcomer at once), 10 s without a byte, and
 * 64 KiB of request line and headers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "sl_api.h"
#include "sl_metrics_http.h"

struct sl_metrics_http {
	struct MHD_Daemon *mhd;
	int listen_fd;
	sl_metrics_render_fn render;
	void *ctx;
	char address[SL_METRICS_ADDR_MAX];
};

static int
parse_fail(struct sl_error *err, const char *spec, const char *why)
{
	sl_error_set(err, "InvalidMetricsListenAddress", "--metrics-listen", "",
		     "'%s': %s: expected A.B.C.D:PORT or [IPv6]:PORT, e.g. 127.0.0.1:9470 or "
		     "[::1]:9470.", spec, why);
	return -EINVAL;
}

int
sl_metrics_listen_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
			struct sl_error *err)
{
	char host[SL_METRICS_ADDR_MAX];
	const char *addr = spec, *colon;
	int v6 = spec[0] == '[';
	unsigned long port;
	char *end;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	if (v6) {
		const char *close = strchr(spec, ']');
		if (close == NULL || close[1] != ':')
			return parse_fail(err, spec, "an IPv6 address is written [ADDRESS]:PORT");
		addr = spec + 1;
		colon = close + 1;
		n = (size_t)(close - addr);
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL)
			return parse_fail(err, spec, "no port");
		n = (size_t)(colon - spec);
	}
	if (n == 0 || n >= sizeof(host))
		return parse_fail(err, spec, "no address");
	memcpy(host, addr, n);
	host[n] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || port > 65535)
		return parse_fail(err, spec, "the port is not a number from 0 to 65535");
	if (v6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return parse_fail(err, spec, "not an IPv6 address between the brackets");
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return parse_fail(err, spec, "not an IPv4 address (IPv6 goes in brackets; "
					  "no host names)");
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
	}
	return 0;
}

/* "A.B.C.D:PORT" or "[IPv6]:PORT" of the bound socket. */
static void
format_bound(int fd, char *out, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char a[INET6_ADDRSTRLEN];

	out[0] = '\0';
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a6->sin6_addr, a, sizeof(a));
		snprintf(out, cap, "[%s]:%u", a, ntohs(a6->sin6_port));
	} else {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a4->sin_addr, a, sizeof(a));
		snprintf(out, cap, "%s:%u", a, ntohs(a4->sin_port));
	}
}

static enum MHD_Result
reply_text(struct MHD_Connection *conn, unsigned int status, const char *text, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
reply_metrics(struct sl_metrics_http *m, struct MHD_Connection *conn)
{
	char *text = m->render(m->ctx);
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (text == NULL)
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "No counters available.\n",
				  NULL);
	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
       const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct sl_metrics_http *m = cls;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	/* answered at the first call: a body, if any, is never read */
	*upload_data_size = 0;
	if (strcmp(url, "/metrics") != 0)
		return reply_text(conn, MHD_HTTP_NOT_FOUND,
				  "Not found: this listener serves GET /metrics only.\n", NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "Method not allowed: /metrics is read-only (GET, HEAD).\n",
				  "GET, HEAD");
	return reply_metrics(m, conn);
}

static int
listen_socket(const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, 32) != 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

struct sl_metrics_http *
sl_metrics_http_start(const char *spec, sl_metrics_render_fn render, void *ctx,
		      struct sl_error *err)
{
	struct sockaddr_storage ss;
	struct sl_metrics_http *m;
	socklen_t len;
	int fd;

	if (sl_metrics_listen_parse(spec, &ss, &len, err) != 0) {
		errno = EINVAL;
		return NULL;
	}
	fd = listen_socket(&ss, len);
	if (fd < 0) {
		sl_error_set(err, "MetricsListenFailed", spec, "", "Cannot listen on %s: %s.", spec,
			     strerror(-fd));
		errno = -fd;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		close(fd);
		sl_error_set(err, "OutOfMemory", spec, "", "Out of memory.");
		errno = ENOMEM;
		return NULL;
	}
	m->listen_fd = fd;
	m->render = render;
	m->ctx = ctx;
	format_bound(fd, m->address, sizeof(m->address));
	m->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, m,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)32,
				  /* one host holding connections open cannot keep the others out */
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)SL_METRICS_PER_HOST,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				  MHD_OPTION_END);
	if (m->mhd == NULL) {
		sl_error_set(err, "MetricsListenFailed", spec, "", "libmicrohttpd did not start.");
		close(fd);
		free(m);
		errno = EIO;
		return NULL;
	}
	return m;
}

const char *
sl_metrics_http_address(const struct sl_metrics_http *m)
{
	return m->address;
}

int
sl_metrics_http_fd(const struct sl_metrics_http *m)
{
	return sl_mhd_fd(m->mhd);
}

void
sl_metrics_http_run(struct sl_metrics_http *m)
{
	sl_mhd_run(m->mhd, 64);
}

void
sl_metrics_http_stop(struct sl_metrics_http *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->mhd);
	close(m->listen_fd);
	free(m);
}
