/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_service.c: sluiced's side of the service manager
 * (dataplane/sl_service.h), against datagram sockets the test binds as
 * systemd would: a path and an abstract name. READY=1 carries the status;
 * WATCHDOG=1 goes out each half period only while every worker's counter
 * moved, a counter that stops withholds it (and says which lcore in a
 * STATUS= line) until it moves again; STOPPING=1 ends the feeding;
 * $WATCHDOG_PID of another process turns the watchdog off; malformed
 * variables are refused with ServiceEnvironmentInvalid; without
 * $NOTIFY_SOCKET nothing is sent.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_service.h"

struct listener {
	int fd;
	char dir[64];
	char path[108]; /* NOTIFY_SOCKET's value */
};

/* Bind a datagram socket: in a fresh directory, or (abstract) under an @name. */
static void
listen_at(struct listener *l, int abstract)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t len;

	l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(l->fd >= 0);
	l->dir[0] = '\0';
	if (abstract) {
		snprintf(l->path, sizeof(l->path), "@sluice-test-notify-%d", (int)getpid());
		memcpy(a.sun_path + 1, l->path + 1, strlen(l->path) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(l->path));
	} else {
		snprintf(l->dir, sizeof(l->dir), "/tmp/sluice-notify-XXXXXX");
		assert_non_null(mkdtemp(l->dir));
		snprintf(l->path, sizeof(l->path), "%s/notify", l->dir);
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", l->path);
		len = sizeof(a);
	}
	assert_int_equal(bind(l->fd, (struct sockaddr *)&a, len), 0);
	setenv("NOTIFY_SOCKET", l->path, 1);
}

static void
listener_close(struct listener *l)
{
	close(l->fd);
	if (l->dir[0] != '\0') {
		unlink(l->path);
		rmdir(l->dir);
	}
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

/* The next datagram, or "" when none is waiting. */
static const char *
next_message(struct listener *l)
{
	static char buf[1024];
	ssize_t n = recv(l->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0) {
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		n = 0;
	}
	buf[n] = '\0';
	return buf;
}

static void
test_no_notify_socket(void **state)
{
	struct sl_error err;
	uint64_t c = 0;
	const uint64_t *progress[] = {&c};
	unsigned int ids[] = {1};

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "1000000", 1);
	struct sl_service *s = sl_service_open(&err);
	assert_non_null(s);
	assert_false(sl_service_notifying(s));
	assert_int_equal(sl_service_watchdog_usec(s), 0);
	assert_int_equal(sl_service_ready(s, progress, ids, 1, 0.0, "x"), 0);
	assert_int_equal(sl_service_run(s, 10.0), SL_SERVICE_NO_EVENT);
	assert_int_equal(sl_service_watchdog_sent(s), 0);
	sl_service_close(s);
	unsetenv("WATCHDOG_USEC");
	/* NULL is a service that is not there */
	assert_false(sl_service_notifying(NULL));
	assert_int_equal(sl_service_notify(NULL, "READY=1"), 0);
	assert_int_equal(sl_service_run(NULL, 1.0), SL_SERVICE_NO_EVENT);
	sl_service_stopping(NULL);
	sl_service_close(NULL);
}

static void
expect_refused(const char *var, const char *value)
{
	struct sl_error err;

	setenv(var, value, 1);
	assert_null(sl_service_open(&err));
	assert_string_equal(err.code, "ServiceEnvironmentInvalid");
	assert_string_equal(err.target, var);
	assert_non_null(strstr(err.message, value));
}

static void
test_malformed_environment(void **state)
{
	char p[200];

	(void)state;
	expect_refused("NOTIFY_SOCKET", "relative/notify");
	memset(p, 'a', sizeof(p) - 1);
	p[0] = '/';
	p[sizeof(p) - 1] = '\0';
	expect_refused("NOTIFY_SOCKET", p);
	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
	expect_refused("WATCHDOG_USEC", "ten");
	expect_refused("WATCHDOG_USEC", "0");
	expect_refused("WATCHDOG_USEC", "-5");
	setenv("WATCHDOG_USEC", "1000000", 1);
	expect_refused("WATCHDOG_PID", "12x");
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

static void
test_watchdog_of_another_process(void **state)
{
	struct listener l;
	struct sl_error err;
	char pid[32];
	uint64_t c = 0;
	const uint64_t *progress[] = {&c};
	unsigned int ids[] = {1};

	(void)state;
	listen_at(&l, 0);
	setenv("WATCHDOG_USEC", "1000000", 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	struct sl_service *s = sl_service_open(&err);
	assert_non_null(s);
	assert_true(sl_service_notifying(s));
	assert_int_equal(sl_service_watchdog_usec(s), 0);
	assert_int_equal(sl_service_ready(s, progress, ids, 1, 0.0, "up"), 0);
	assert_string_equal(next_message(&l), "READY=1\nSTATUS=up");
	c = 5;
	assert_int_equal(sl_service_run(s, 5.0), SL_SERVICE_NO_EVENT);
	assert_string_equal(next_message(&l), "");
	sl_service_close(s);
	listener_close(&l);
}

/* Workers 0 and 1 (lcores 3 and 7); the watchdog period is 2 s, checks every 1 s. */
static void
run_watchdog(int abstract)
{
	struct listener l;
	struct sl_error err;
	char pid[32];
	uint64_t c[2] = {100, 200};
	const uint64_t *progress[] = {&c[0], &c[1]};
	unsigned int ids[] = {3, 7};

	listen_at(&l, abstract);
	setenv("WATCHDOG_USEC", "2000000", 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	struct sl_service *s = sl_service_open(&err);
	assert_non_null(s);
	assert_int_equal(sl_service_watchdog_usec(s), 2000000);
	assert_int_equal(sl_service_ready(s, progress, ids, 2, 10.0, "running: 2 workers"), 0);
	assert_string_equal(next_message(&l), "READY=1\nSTATUS=running: 2 workers");

	/* not due yet */
	c[0]++, c[1]++;
	assert_int_equal(sl_service_run(s, 10.5), SL_SERVICE_NO_EVENT);
	assert_string_equal(next_message(&l), "");
	/* due, both moved */
	assert_int_equal(sl_service_run(s, 11.0), SL_SERVICE_NO_EVENT);
	assert_string_equal(next_message(&l), "WATCHDOG=1");
	assert_int_equal(sl_service_watchdog_sent(s), 1);
	/* only one half period later again */
	c[0]++, c[1]++;
	assert_int_equal(sl_service_run(s, 11.9), SL_SERVICE_NO_EVENT);
	assert_string_equal(next_message(&l), "");
	assert_int_equal(sl_service_run(s, 12.0), SL_SERVICE_NO_EVENT);
	assert_string_equal(next_message(&l), "WATCHDOG=1");

	/* lcore 7 stops: nothing fed, one STATUS line, one event */
	c[0]++;
	assert_int_equal(sl_service_run(s, 13.0), SL_SERVICE_WORKER_STUCK);
	assert_string_equal(next_message(&l), "STATUS=worker lcore 7 stuck: watchdog not fed");
	assert_string_equal(next_message(&l), "");
	assert_non_null(strstr(sl_service_message(s), "worker lcore 7 has made no progress for 1.0 s"));
	c[0]++;
	assert_int_equal(sl_service_run(s, 14.0), SL_SERVICE_NO_EVENT);
	assert_string_equal(next_message(&l), "");
	assert_int_equal(sl_service_watchdog_sent(s), 2);
	/* a stopped lcore 3 alone is as bad */
	c[1]++;
	assert_int_equal(sl_service_run(s, 15.0), SL_SERVICE_NO_EVENT);
	assert_string_equal(next_message(&l), "");

	/* both move again: fed, and said */
	c[0]++, c[1]++;
	assert_int_equal(sl_service_run(s, 16.0), SL_SERVICE_WORKERS_MOVING);
	assert_string_equal(next_message(&l), "WATCHDOG=1");
	assert_string_equal(next_message(&l),
			    "STATUS=running: every worker lcore makes progress again: watchdog fed");
	assert_int_equal(sl_service_watchdog_sent(s), 3);

	assert_int_equal(sl_service_notify(s, "STATUS=generation %d published", 4), 0);
	assert_string_equal(next_message(&l), "STATUS=generation 4 published");
	sl_service_stopping(s);
	assert_string_equal(next_message(&l), "STOPPING=1\nSTATUS=stopping");
	c[0]++, c[1]++;
	assert_int_equal(sl_service_run(s, 30.0), SL_SERVICE_NO_EVENT);
	assert_string_equal(next_message(&l), "");
	sl_service_close(s);
	listener_close(&l);
}

static void
test_watchdog_path_socket(void **state)
{
	(void)state;
	run_watchdog(0);
}

static void
test_watchdog_abstract_socket(void **state)
{
	(void)state;
	run_watchdog(1);
}

/* The manager gone (nothing bound at the path): sends fail, nothing is counted. */
static void
test_manager_gone(void **state)
{
	struct listener l;
	struct sl_error err;
	uint64_t c = 0;
	const uint64_t *progress[] = {&c};
	unsigned int ids[] = {1};

	(void)state;
	listen_at(&l, 0);
	setenv("WATCHDOG_USEC", "1000000", 1);
	struct sl_service *s = sl_service_open(&err);
	assert_non_null(s);
	close(l.fd);
	unlink(l.path);
	assert_true(sl_service_ready(s, progress, ids, 1, 0.0, "up") < 0);
	c++;
	assert_int_equal(sl_service_run(s, 1.0), SL_SERVICE_NO_EVENT);
	assert_int_equal(sl_service_watchdog_sent(s), 0);
	sl_service_close(s);
	l.fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	listener_close(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_notify_socket),
		cmocka_unit_test(test_malformed_environment),
		cmocka_unit_test(test_watchdog_of_another_process),
		cmocka_unit_test(test_watchdog_path_socket),
		cmocka_unit_test(test_watchdog_abstract_socket),
		cmocka_unit_test(test_manager_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
