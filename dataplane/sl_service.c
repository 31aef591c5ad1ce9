/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_service.c: the service manager's notify protocol and the worker
 * watchdog of sluiced (sl_service.h says why and how).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sl_service.h"

#define SL_SERVICE_MSG_MAX 512

struct sl_service {
	int fd; /* -1: no $NOTIFY_SOCKET */
	struct sockaddr_un addr;
	socklen_t addr_len;
	uint64_t watchdog_usec; /* 0: no watchdog */
	double period;          /* seconds between checks: half the watchdog's */
	double next_check;      /* 0: not watching yet */
	unsigned int n;
	const uint64_t **progress; /* [n]: each worker's loop counter */
	unsigned int *lcore_ids;   /* [n] */
	uint64_t *last;            /* [n]: each counter at the last check */
	double *moved_at;          /* [n]: the last check that saw it move */
	bool stuck;                /* WATCHDOG=1 withheld at the last check */
	bool stopping;             /* STOPPING=1 sent */
	uint64_t sent;             /* WATCHDOG=1 sent */
	char message[256];
};

static int
service_env_error(struct sl_error *err, const char *var, const char *why)
{
	const char *v = getenv(var);

	return sl_error_set(err, "ServiceEnvironmentInvalid", var, NULL, "$%s ('%s') %s.", var,
			    v ? v : "", why);
}

/* $NOTIFY_SOCKET into s->addr; 0, or -EINVAL with err set. */
static int
parse_notify_socket(struct sl_service *s, const char *path, struct sl_error *err)
{
	size_t len = strlen(path);

	if (path[0] != '/' && path[0] != '@')
		return service_env_error(err, "NOTIFY_SOCKET",
					 "is neither an absolute path nor an @abstract name");
	if (len < 2 || len >= sizeof(s->addr.sun_path))
		return service_env_error(err, "NOTIFY_SOCKET", "is too short or too long");
	memset(&s->addr, 0, sizeof(s->addr));
	s->addr.sun_family = AF_UNIX;
	memcpy(s->addr.sun_path, path, len);
	if (path[0] == '@') {
		s->addr.sun_path[0] = '\0'; /* abstract: no terminating NUL counted */
		s->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else {
		s->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	}
	return 0;
}

/* $WATCHDOG_USEC, when $WATCHDOG_PID is unset or names this process; 0, or -EINVAL. */
static int
parse_watchdog(struct sl_service *s, struct sl_error *err)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	char *end;

	if (usec == NULL)
		return 0;
	if (pid != NULL) {
		unsigned long long p = strtoull(pid, &end, 10);
		if (*end != '\0' || pid[0] == '\0')
			return service_env_error(err, "WATCHDOG_PID", "is not a process id");
		if (p != (unsigned long long)getpid())
			return 0; /* meant for another process */
	}
	errno = 0;
	unsigned long long v = strtoull(usec, &end, 10);
	if (errno != 0 || *end != '\0' || usec[0] == '\0' || usec[0] == '-' || v == 0)
		return service_env_error(err, "WATCHDOG_USEC",
					 "is not a positive number of microseconds");
	s->watchdog_usec = v;
	s->period = (double)v / 2e6;
	return 0;
}

struct sl_service *
sl_service_open(struct sl_error *err)
{
	struct sl_service *s = calloc(1, sizeof(*s));
	const char *path = getenv("NOTIFY_SOCKET");

	if (s == NULL) {
		sl_error_set(err, "OutOfMemory", "NOTIFY_SOCKET", NULL, "Out of memory.");
		return NULL;
	}
	s->fd = -1;
	if (path == NULL || path[0] == '\0')
		return s;
	if (parse_notify_socket(s, path, err) != 0 || parse_watchdog(s, err) != 0) {
		free(s);
		return NULL;
	}
	s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		sl_error_set(err, "ServiceEnvironmentInvalid", "NOTIFY_SOCKET", NULL,
			     "Cannot create a socket for $NOTIFY_SOCKET: %s.", strerror(errno));
		free(s);
		return NULL;
	}
	return s;
}

bool
sl_service_notifying(const struct sl_service *s)
{
	return s != NULL && s->fd >= 0;
}

uint64_t
sl_service_watchdog_usec(const struct sl_service *s)
{
	return sl_service_notifying(s) ? s->watchdog_usec : 0;
}

static int
send_text(struct sl_service *s, const char *text)
{
	ssize_t n = sendto(s->fd, text, strlen(text), MSG_NOSIGNAL,
			   (const struct sockaddr *)&s->addr, s->addr_len);

	return n < 0 ? -errno : 0;
}

int
sl_service_notify(struct sl_service *s, const char *fmt, ...)
{
	char text[SL_SERVICE_MSG_MAX];
	va_list ap;

	if (!sl_service_notifying(s))
		return 0;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return send_text(s, text);
}

int
sl_service_ready(struct sl_service *s, const uint64_t *const *progress,
		 const unsigned int *lcore_ids, unsigned int n, double now, const char *status)
{
	if (!sl_service_notifying(s))
		return 0;
	if (s->watchdog_usec != 0 && n > 0 && s->progress == NULL) {
		s->progress = calloc(n, sizeof(*s->progress));
		s->lcore_ids = calloc(n, sizeof(*s->lcore_ids));
		s->last = calloc(n, sizeof(*s->last));
		s->moved_at = calloc(n, sizeof(*s->moved_at));
		if (s->progress == NULL || s->lcore_ids == NULL || s->last == NULL ||
		    s->moved_at == NULL)
			return -ENOMEM;
		s->n = n;
		for (unsigned int i = 0; i < n; i++) {
			s->progress[i] = progress[i];
			s->lcore_ids[i] = lcore_ids[i];
			s->last[i] = __atomic_load_n(progress[i], __ATOMIC_RELAXED);
			s->moved_at[i] = now;
		}
		s->next_check = now + s->period;
	}
	return sl_service_notify(s, "READY=1\nSTATUS=%s", status);
}

/* Read every counter; the index of the first that did not move, or -1. */
static int
check_workers(struct sl_service *s, double now)
{
	int stuck = -1;

	for (unsigned int i = 0; i < s->n; i++) {
		uint64_t v = __atomic_load_n(s->progress[i], __ATOMIC_RELAXED);
		if (v != s->last[i])
			s->moved_at[i] = now;
		else if (stuck < 0)
			stuck = (int)i;
		s->last[i] = v;
	}
	return stuck;
}

enum sl_service_event
sl_service_run(struct sl_service *s, double now)
{
	enum sl_service_event ev = SL_SERVICE_NO_EVENT;

	if (!sl_service_notifying(s) || s->next_check == 0 || now < s->next_check)
		return SL_SERVICE_NO_EVENT;
	s->next_check = now + s->period;
	int stuck = check_workers(s, now);
	if (stuck < 0) {
		if (send_text(s, "WATCHDOG=1") == 0)
			s->sent++;
		if (s->stuck) {
			s->stuck = false;
			snprintf(s->message, sizeof(s->message),
				 "every worker lcore makes progress again: watchdog fed");
			sl_service_notify(s, "STATUS=running: %s", s->message);
			ev = SL_SERVICE_WORKERS_MOVING;
		}
		return ev;
	}
	if (!s->stuck) {
		s->stuck = true;
		snprintf(s->message, sizeof(s->message),
			 "worker lcore %u has made no progress for %.1f s: watchdog not fed, "
			 "the service manager restarts sluiced when WatchdogSec runs out",
			 s->lcore_ids[stuck], now - s->moved_at[stuck]);
		sl_service_notify(s, "STATUS=worker lcore %u stuck: watchdog not fed",
				  s->lcore_ids[stuck]);
		ev = SL_SERVICE_WORKER_STUCK;
	}
	return ev;
}

const char *
sl_service_message(const struct sl_service *s)
{
	return s != NULL ? s->message : "";
}

uint64_t
sl_service_watchdog_sent(const struct sl_service *s)
{
	return s != NULL ? s->sent : 0;
}

void
sl_service_stopping(struct sl_service *s)
{
	if (!sl_service_notifying(s) || s->stopping)
		return; /* said once: at the start of a grace period, or at the stop */
	s->stopping = true;
	s->next_check = 0;
	sl_service_notify(s, "STOPPING=1\nSTATUS=stopping");
}

void
sl_service_close(struct sl_service *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->progress);
	free(s->lcore_ids);
	free(s->last);
	free(s->moved_at);
	free(s);
}
