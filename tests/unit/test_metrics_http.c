/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_metrics_http.c: the Prometheus listener (control/sl_metrics_http.h)
 * without sluiced: --metrics-listen addresses that parse and those that do
 * not; a listener on loopback, port 0, driven the way the control thread
 * drives it (its descriptor polled, sl_metrics_http_run()), answering raw
 * HTTP/1.1 requests: GET and HEAD /metrics with what the render callback
 * gives (rendered at each request), 404 elsewhere, 405 for other methods,
 * 503 when there is nothing to render; and a second listener on a port in
 * use is refused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_metrics_http.h"

static void
test_parse(void **state)
{
	static const char *const good[] = {"127.0.0.1:9470", "0.0.0.0:0", "10.1.2.3:65535",
					   "[::1]:9470", "[::]:80", "[fe80::1]:1",
					   "[2001:db8::10]:9100"};
	static const char *const bad[] = {"", "9470", ":9470", "127.0.0.1", "127.0.0.1:",
					  "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:9470x",
					  "127.0.0.1: 9470", "localhost:9470", "::1:9470", "[::1]",
					  "[::1:9470", "[::1]9470", "[]:9470", "[127.0.0.1]:9470",
					  "1.2.3:9470", "256.0.0.1:1"};
	struct sockaddr_storage ss;
	struct sl_error err;
	socklen_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(sl_metrics_listen_parse(good[i], &ss, &len, &err), 0);
	assert_int_equal(sl_metrics_listen_parse("[::1]:9470", &ss, &len, &err), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 9470);
	assert_int_equal(sl_metrics_listen_parse("10.1.2.3:65535", &ss, &len, &err), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 65535);
	assert_int_equal(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr), 0x0a010203);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (sl_metrics_listen_parse(bad[i], &ss, &len, &err) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_string_equal(err.code, "InvalidMetricsListenAddress");
		assert_non_null(strstr(err.message, bad[i]));
	}
}

/* The render callback: a text naming how many times it was called; NULL when told to. */
struct render_ctx {
	int calls;
	int fail;
};

static char *
render(void *arg)
{
	struct render_ctx *c = arg;
	char *s;

	c->calls++;
	if (c->fail)
		return NULL;
	if (asprintf(&s, "# TYPE test_renders_total counter\ntest_renders_total %d\n", c->calls) < 0)
		return NULL;
	return s;
}

/* The port of "127.0.0.1:PORT". */
static uint16_t
port_of(const char *address)
{
	const char *colon = strrchr(address, ':');

	assert_non_null(colon);
	return (uint16_t)atoi(colon + 1);
}

/*
 * Send raw request text to the listener and read the answer until the
 * server closes or 5 s pass, running the listener as the control thread
 * does. Returns the answer (static buffer).
 */
static const char *
exchange(struct sl_metrics_http *m, const char *req)
{
	static char buf[8192];
	struct sockaddr_in sa = {.sin_family = AF_INET};
	size_t got = 0;
	time_t end = time(NULL) + 5;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_port = htons(port_of(sl_metrics_http_address(m)));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	while (time(NULL) < end && got < sizeof(buf) - 1) {
		struct pollfd p[2] = {{.fd = sl_metrics_http_fd(m), .events = POLLIN},
				      {.fd = fd, .events = POLLIN}};
		poll(p, 2, 10);
		sl_metrics_http_run(m);
		if (p[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, MSG_DONTWAIT);
			if (n == 0)
				break;
			if (n > 0)
				got += (size_t)n;
		}
	}
	buf[got] = '\0';
	close(fd);
	return buf;
}

#define CLOSE "Connection: close\r\n\r\n"

static void
assert_status(const char *answer, const char *status_line)
{
	if (strncmp(answer, status_line, strlen(status_line)) != 0)
		fail_msg("want '%s', got:\n%s", status_line, answer);
}

static void
test_listener(void **state)
{
	struct render_ctx ctx = {0, 0};
	struct sl_error err;
	struct sl_metrics_http *m = sl_metrics_http_start("127.0.0.1:0", render, &ctx, &err);
	const char *a;

	(void)state;
	if (m == NULL)
		fail_msg("%s: %s", err.code, err.message);
	assert_int_equal(strncmp(sl_metrics_http_address(m), "127.0.0.1:", 10), 0);
	assert_true(port_of(sl_metrics_http_address(m)) != 0);

	a = exchange(m, "GET /metrics HTTP/1.1\r\nHost: x\r\n" CLOSE);
	assert_status(a, "HTTP/1.1 200");
	assert_non_null(strstr(a, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
	assert_non_null(strstr(a, "\r\n\r\n# TYPE test_renders_total counter\ntest_renders_total 1\n"));
	a = exchange(m, "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n" CLOSE);
	assert_non_null(strstr(a, "test_renders_total 2\n")); /* rendered again */
	a = exchange(m, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n" CLOSE);
	assert_status(a, "HTTP/1.1 200");
	assert_null(strstr(a, "test_renders_total"));

	int calls = ctx.calls; /* nothing below renders but the last GET /metrics */
	static const char *const not_found[] = {"GET / ", "GET /metrics/ ", "GET /sluice/metrics ",
						"PUT /sluice/service ", "DELETE /x "};
	for (size_t i = 0; i < sizeof(not_found) / sizeof(not_found[0]); i++) {
		char req[256];
		snprintf(req, sizeof(req), "%sHTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n" CLOSE "{}",
			 not_found[i]);
		assert_status(exchange(m, req), "HTTP/1.1 404");
	}
	static const char *const methods[] = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		char req[256];
		snprintf(req, sizeof(req),
			 "%s /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n" CLOSE "hello",
			 methods[i]);
		a = exchange(m, req);
		assert_status(a, "HTTP/1.1 405");
		assert_non_null(strstr(a, "Allow: GET, HEAD\r\n"));
	}
	assert_int_equal(ctx.calls, calls); /* 404s and 405s render nothing */
	ctx.fail = 1;
	assert_status(exchange(m, "GET /metrics HTTP/1.1\r\nHost: x\r\n" CLOSE), "HTTP/1.1 503");
	assert_int_equal(ctx.calls, calls + 1); /* only GET and HEAD /metrics render */

	/* the same address again: in use */
	char spec[SL_METRICS_ADDR_MAX];
	snprintf(spec, sizeof(spec), "%s", sl_metrics_http_address(m));
	memset(&err, 0, sizeof(err));
	assert_null(sl_metrics_http_start(spec, render, &ctx, &err));
	assert_int_equal(errno, EADDRINUSE);
	assert_string_equal(err.code, "MetricsListenFailed");
	sl_metrics_http_stop(m);
	sl_metrics_http_stop(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_listener),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
