/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_service.h: sluiced under a service manager (systemd, sluiced.service):
 * the notify protocol (READY=1 once the ports are up and the configuration
 * is published, STATUS= lines, STOPPING=1) and a watchdog that is fed only
 * while every worker lcore makes progress.
 *
 * DESIGN: a notification is one datagram to the AF_UNIX socket that
 * $NOTIFY_SOCKET names (a path, or an abstract name written with a leading
 * '@'), the interface that sd_notify(3) documents as stable. It is spoken
 * here, without libsystemd, so that every build of sluiced speaks it: the
 * unit that `meson install` puts on any host is Type=notify, and a sluiced
 * built where libsystemd is missing would never say READY=1 under it and be
 * killed at TimeoutStartSec. Without $NOTIFY_SOCKET every call does nothing.
 *
 * The watchdog: with $WATCHDOG_USEC set (and $WATCHDOG_PID unset or this
 * process's), the control thread calls sl_service_run() at every turn of
 * its loop. Every half period it reads each worker's loop counter (struct
 * sl_lcore_stats.iterations, given as pointers to sl_service_ready()) and
 * sends WATCHDOG=1 only if every counter moved since the previous check. A
 * worker that spins in a loop, waits on a lock or is stopped stops the
 * feeding, and systemd kills and restarts sluiced WatchdogSec after the last
 * WATCHDOG=1; a control thread that is stuck never reaches the check, with
 * the same result. The counters are read with relaxed loads while the
 * workers write them (each is written by one worker only).
 *
 * DPDK-free: the unit tests link it alone. The control thread alone calls it.
 */
#ifndef SL_SERVICE_H
#define SL_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_error.h"

struct sl_service;

/* What sl_service_run() found: nothing new, a worker stopped, all move again. */
enum sl_service_event {
	SL_SERVICE_NO_EVENT = 0,
	SL_SERVICE_WORKER_STUCK,   /* a worker's counter did not move: WATCHDOG=1 withheld */
	SL_SERVICE_WORKERS_MOVING, /* every counter moves again: WATCHDOG=1 sent again */
};

/*
 * Read $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID. NULL with err set
 * (ServiceEnvironmentInvalid) when NOTIFY_SOCKET is neither an absolute path
 * nor an @abstract name or is too long, WATCHDOG_USEC is not a positive
 * number of microseconds, or the socket cannot be made (OutOfMemory when
 * memory is short). Without NOTIFY_SOCKET the service is inert.
 */
struct sl_service *sl_service_open(struct sl_error *err);

/* Whether notifications go anywhere ($NOTIFY_SOCKET was set); false for NULL. */
bool sl_service_notifying(const struct sl_service *s);

/* The watchdog period in microseconds ($WATCHDOG_USEC for this process), 0 when off. */
uint64_t sl_service_watchdog_usec(const struct sl_service *s);

/*
 * Send one notification, printf-formatted ("STATUS=..." or several
 * newline-separated assignments). 0, or -errno when the send failed; 0 and
 * nothing sent when there is no socket (s NULL included).
 */
int sl_service_notify(struct sl_service *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * READY=1 with STATUS=status, and start watching: progress[i] points to
 * worker i's loop counter and lcore_ids[i] names it in messages (both of n
 * entries, copied; the counters must outlive the service). now is the
 * control thread's clock in seconds (CLOCK_MONOTONIC). 0 or -errno (send).
 */
int sl_service_ready(struct sl_service *s, const uint64_t *const *progress,
		     const unsigned int *lcore_ids, unsigned int n, double now, const char *status);

/*
 * The watchdog's turn: when a check is due, WATCHDOG=1 if every worker's
 * counter moved since the last check, else nothing (and a STATUS= line
 * naming the stuck lcore). Returns what changed; sl_service_message() then
 * says it in words for the log.
 */
enum sl_service_event sl_service_run(struct sl_service *s, double now);

/* The last event's sentence ("" before any). */
const char *sl_service_message(const struct sl_service *s);

/* WATCHDOG=1 datagrams sent so far (for tests and the log). */
uint64_t sl_service_watchdog_sent(const struct sl_service *s);

/* STOPPING=1: sluiced is shutting down (the watchdog stops with it). */
void sl_service_stopping(struct sl_service *s);

/* Close the socket and free s (NULL accepted). */
void sl_service_close(struct sl_service *s);

#endif /* SL_SERVICE_H */
