/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_telemetry.h: sluice's commands on DPDK's telemetry socket, beside
 * EAL's and ethdev's: /sluice/stats, /sluice/lcores, /sluice/rules,
 * /sluice/backends (with health) and /sluice/flows, for dpdk-telemetry.py
 * and any other client of the socket (docs/api.md#dpdk-telemetry).
 *
 * DESIGN: DPDK calls the commands on its telemetry threads (one a client
 * connection), but what they report belongs to the control thread: the
 * snapshot pointer it publishes, the workers' per-lcore counters it sums
 * with plain loads, the prober's health. So a command reads none of it. It
 * posts its request (command and parameters) under a mutex, raises an
 * atomic flag and waits (at most SL_TELEMETRY_WAIT_MS) on a condition
 * variable; the control thread, which tests the flag once a loop iteration
 * (every millisecond when it is idle), builds the answer as a cJSON tree from its
 * own view, hands it over under the mutex and signals. The telemetry thread
 * turns the tree into DPDK's telemetry data and frees it. One request is in
 * flight at a time; others wait their turn. Nothing runs while nobody asks:
 * the control thread's cost is one relaxed load a loop iteration.
 *
 * DPDK's telemetry data has no arrays of objects and a reply holds at most
 * 16 KiB: /sluice/lcores, /sluice/rules and /sluice/backends answer a page
 * at a time ("/sluice/rules,OFFSET"; "next" is the next page's offset), each
 * entry under its position in the list (lcores under their id); other lists
 * of objects become dictionaries keyed by each one's name, lcore or port
 * (characters other than letters, digits, '_' and '/' written as '_').
 */
#ifndef SL_TELEMETRY_H
#define SL_TELEMETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_error.h"
#include "sl_snapshot.h"
#include "sl_stats.h"

/* How long a command waits for the control thread before answering null. */
#define SL_TELEMETRY_WAIT_MS 1000

/* What the control thread answers from (read on the control thread only). */
struct sl_telemetry_view {
	struct sl_lcore_stats *const *stats; /* the workers' counters */
	const unsigned int *lcore_ids;
	unsigned int n_workers;
	uint32_t flow_capacity;            /* flows per worker lcore; 0: no flow table */
	const struct sl_snapshot *snap;    /* the published snapshot, or NULL */
	uint64_t publish_tsc;              /* when it was published (TSC) */
	const struct sl_stats_extra *extra; /* flow sync's and the XDP programs' counters */
	double elapsed_s;                  /* since sluiced started */
	/* 1 when a health probe of backend b fails (its health is Down) */
	int (*probed_down)(void *ctx, const struct sl_backend *b);
	void *ctx;
};

/*
 * Register the commands (after rte_eal_init; also with --no-telemetry,
 * where no client can reach them). Returns 0, or a negative errno with
 * *err filled (TelemetryUnavailable).
 */
int sl_telemetry_register(struct sl_error *err);

/* Whether a command waits for an answer (the control thread, once a loop iteration). */
bool sl_telemetry_pending(void);

/* Answer the waiting command from v (the control thread). */
void sl_telemetry_answer(const struct sl_telemetry_view *v);

/*
 * At exit, before the view's memory goes: commands from now on answer
 * null without waiting (DPDK cannot unregister them).
 */
void sl_telemetry_close(void);

#endif /* SL_TELEMETRY_H */
