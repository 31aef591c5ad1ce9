/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_probe.h: health probes of backend addresses (Azure's Tcp, Http, Https).
 *
 * The prober runs on the control thread only, from its poll loop: it has no
 * thread of its own and every socket is non-blocking, so no call here blocks.
 * The control loop polls sl_prober_fd() (POLLIN), bounds its poll timeout by
 * sl_prober_next_due(), calls sl_prober_run() every iteration, and recompiles
 * the snapshot when sl_prober_run() reports health changes; the compiler asks
 * sl_prober_health() for each backend. See docs/probes.md.
 *
 * Targets. One target per (load balancer, probe, pool, backend address) where
 * some load-balancing rule of the load balancer names the probe and the pool
 * (several rules that share probe and pool make one target). A target probes
 * the address's IP (its own family, IPv4 or IPv6) on the probe's port.
 *
 * Results (Azure's semantics):
 *   Tcp    success = a completed TCP handshake; the socket is then closed
 *          gracefully (FIN). A refusal (RST) or any socket error is a failure.
 *   Http   connect, send
 *            GET <requestPath> HTTP/1.1\r\nHost: <ip>\r\nUser-Agent: sluice-probe\r\n
 *            Connection: close\r\n\r\n
 *          success only when the response's status line says 200; any other
 *          status, a malformed status line, a reset or a close before the
 *          status line is a failure ("HTTP 503", ...).
 *   Https  the same over TLS (OpenSSL): SNI = the address, no certificate
 *          verification (a health probe, as Azure's); a TCP connect alone,
 *          or a server that does not speak TLS, is a failure.
 *   Each probe must complete within min(intervalInSeconds, 5) seconds, else it
 *   fails ("timeout ..."). Probes of a target start every intervalInSeconds.
 *
 * Thresholds. The model carries both numberOfProbes (older field, default 2)
 * and probeThreshold (newer, default 1) and cannot tell which one a document
 * set, so sluice uses them for the two directions:
 *   UP -> DOWN after number_of_probes consecutive failures,
 *   DOWN -> UP after probe_threshold consecutive successes.
 * (Azure's documentation says a non-200 answer or a reset marks a backend
 * down at once; sluice counts it as one failure like any other, which is the
 * same thing when numberOfProbes is 1.)
 *
 * Fail-open start: a new target starts UP with no result, so a restart or a
 * configuration change does not black-hole traffic while the first probes
 * run. First probes are spread over min(interval, 1 s).
 *
 * A probe that cannot even be started for a local reason (out of descriptors
 * or memory, source address not available, no ephemeral port) is counted
 * neither for nor against the backend: lastError says why ("local error:
 * ...") and the target tries again at its next interval.
 *
 * Errors: constructors return NULL and set errno; int functions return 0 or
 * a negative errno.
 */
#ifndef SL_PROBE_H
#define SL_PROBE_H

#include <cjson/cJSON.h>

#include "sl_config.h"

#define SL_PROBER_MAX_TARGETS 65536 /* sl_prober_sync() refuses more (-E2BIG) */
#define SL_PROBER_MAX_SOCKETS 4096  /* probes in flight at once; due ones wait for a slot */
#define SL_PROBER_MAX_TIMEOUT_S 5.0 /* a probe fails when not complete within min(interval, this) */

struct sl_prober;

/*
 * Where probes come from. NULL members: the kernel's choice. source_v4 and
 * source_v6 are address literals that probe sockets of that family bind to
 * (port 0) before connecting; interface is a device name that every probe
 * socket is bound to (SO_BINDTODEVICE, needs CAP_NET_RAW). The daemon's flags
 * are --probe-source-v4, --probe-source-v6 and --probe-interface.
 */
struct sl_prober_opts {
	const char *source_v4;
	const char *source_v6;
	const char *interface;
};

/*
 * A prober with no targets. o may be NULL (all defaults). The options are
 * checked here: a source address of the wrong family or not a literal is
 * EINVAL; a source address that is not local or an interface that cannot be
 * bound fails with the error bind()/setsockopt() gave (EADDRNOTAVAIL, ENODEV,
 * EPERM, ...). Returns NULL and sets errno on error (also ENOMEM, EMFILE).
 */
struct sl_prober *sl_prober_create(const struct sl_prober_opts *o);

/* Close every socket and free the prober. NULL is a no-op. */
void sl_prober_free(struct sl_prober *p);

/*
 * Reconcile the targets with a validated model (only read; the prober keeps
 * no pointer into it). A target persists, with its health, counters and any
 * probe in flight, when the new model has a target with the same load
 * balancer label, probe, pool and address label (sl_config.h: names,
 * qualified while another load balancer or NIC shares the name in another
 * scope; case-insensitive), the same IP
 * address and the same probe settings (protocol, port, interval,
 * numberOfProbes, probeThreshold, requestPath); every other old target is
 * dropped (its socket closed) and every other new target starts UP with no
 * result, its first probe within min(interval, 1 s). Call it before compiling
 * the model, so the compiler sees the new targets' health. m NULL: no targets.
 * Returns 0; -E2BIG when the model needs more than SL_PROBER_MAX_TARGETS
 * targets, -ENOMEM, or -EINVAL when p is NULL (errno is set to the same
 * value); on error the prober is unchanged.
 */
int sl_prober_sync(struct sl_prober *p, const struct sl_model *m);

/*
 * An epoll descriptor for the control loop's poll set (POLLIN): readable
 * while some probe socket has an event to handle. It is level-triggered: it
 * stays readable until sl_prober_run() handles the events.
 */
int sl_prober_fd(const struct sl_prober *p);

/*
 * CLOCK_MONOTONIC seconds of the next probe start or probe timeout, for the
 * poll timeout (the time may be past: then run now). HUGE_VAL when nothing is
 * scheduled (no targets). Socket events are not included: poll the fd.
 */
double sl_prober_next_due(const struct sl_prober *p);

/*
 * Handle socket events, fail probes past their timeout, start due probes
 * (at most SL_PROBER_MAX_SOCKETS in flight). now = CLOCK_MONOTONIC seconds
 * (the clock sl_prober_sync() and sl_prober_status() read). Returns how many
 * health changes of targets (UP->DOWN or DOWN->UP) happened since the last
 * call, so the caller recompiles when it is > 0; sl_prober_sync() changes
 * (new and dropped targets) are not counted. Never fails: per-probe errors are
 * results of the probe.
 */
int sl_prober_run(struct sl_prober *p, double now);

/*
 * A counter that advances whenever sl_prober_health() may answer
 * differently for a (load balancer, pool, address) it answered before: a
 * target's health changed (sl_prober_run()), or sl_prober_sync() dropped a
 * target that was down (new targets start up, kept ones keep their health,
 * so nothing else changes an answer). The compiler's health epoch
 * (sl_health_hook in sl_compile.h). 0 for NULL.
 */
uint64_t sl_prober_health_epoch(const struct sl_prober *p);

enum sl_health {
	SL_HEALTH_UP = 0,
	SL_HEALTH_DOWN = 1,
};

/*
 * The health of a backend address for new flows: DOWN when any probe target
 * of (lb, pool, address) is DOWN, else UP (also when none is probed). lb
 * is the load balancer's label and address the member's
 * (sl_address_label()), as sl_compile's backend names
 * "<lb>/<pool>/<address>" have them; matched case-insensitively. A hash lookup: cheap enough per backend per
 * compilation.
 */
enum sl_health sl_prober_health(const struct sl_prober *p, const char *lb, const char *pool,
				const char *address);

/*
 * The targets for the API, in model order: a JSON array of
 *   { "loadBalancer", "probe", "pool", "address", "ipAddress",
 *     "protocol": "Tcp"|"Http"|"Https", "port", "health": "Up"|"Down",
 *     "consecutiveSuccesses", "consecutiveFailures",
 *     "lastResult": "Success"|"Failure"|null,
 *     "lastError": text|null ("connection refused", "timeout while connecting",
 *                  "HTTP 503", "TLS handshake failed: ...", "local error: ..."),
 *     "lastProbeAgoSeconds": seconds since the last probe finished|null,
 *     "probesSent" }
 * lastError is the latest probe's error and null after a success.
 * Returns NULL (errno ENOMEM) when out of memory; the caller frees it.
 */
cJSON *sl_prober_status(const struct sl_prober *p);

/*
 * For tests only: multiply every interval, timeout and first-probe spread by
 * scale (> 0; default 1), so unit tests can probe every 0.2 s while the model
 * keeps its validated whole seconds. Applies to probes scheduled after the
 * call; call it before sl_prober_sync(). Returns 0 or -EINVAL.
 */
int sl_prober_set_time_scale(struct sl_prober *p, double scale);

#endif /* SL_PROBE_H */
