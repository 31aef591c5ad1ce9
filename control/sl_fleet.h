/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_fleet.h: one configuration for a fleet of sluice hosts, kept in etcd
 * (docs/fleet.md).
 *
 * DESIGN: the whole resource document is one key, PREFIX/config; its
 * mod_revision is the fleet revision. A change made on any host is
 * compiled here, then written with a txn conditioned on the revision this
 * host applied (sl_fleet_hook of sl_controller.h): on success it is
 * published and persisted at once, on a lost race the newest revision is
 * applied and the edit redone. A fleet thread (never the control thread,
 * never a worker) watches PREFIX/config and queues each revision; an
 * eventfd wakes the control thread, which applies them in order, each as
 * one sl_controller_commit(). The fleet thread also checks etcd every
 * second (a linearizable range: its state is this host's "etcd"), reads the
 * hosts' keys for GET /sluice/fleet, and keeps this host's key,
 * PREFIX/hosts/NAME, under a 10 s lease, rewritten every 2 s. The applied
 * revision is kept in STATE_DIR/fleet-revision.
 *
 * When etcd cannot be reached, nothing changes: the workers forward with
 * the configuration they have, reads are served from it, writes are
 * refused (503 FleetStoreUnavailable), and the status says "partitioned".
 */
#ifndef SL_FLEET_H
#define SL_FLEET_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "sl_controller.h"
#include "sl_error.h"

struct sl_fleet_opts {
	const char *endpoints; /* --fleet-etcd: comma-separated client URLs */
	const char *prefix;    /* --fleet-prefix: "/sluice/prod" */
	const char *name;      /* --fleet-name: NULL for gethostname() */
	const char *state_dir; /* --state-dir, or NULL */
	/*
	 * This host's own fields of its key (new JSON object: "generation",
	 * "commits", "announced", "health", "tables"), called on the control
	 * thread; NULL: none.
	 */
	cJSON *(*host_fields)(void *ctx);
	void *ctx;
};

struct sl_fleet;

/*
 * Check the options (prefix: starts with '/', no trailing '/'; the URLs),
 * read STATE_DIR/fleet-revision, and hook into ctl (ctl->fleet). Returns
 * the fleet, or NULL with *err (FleetOptionInvalid, OutOfMemory).
 */
struct sl_fleet *sl_fleet_create(const struct sl_fleet_opts *o, struct sl_controller *ctl,
				 struct sl_error *err);

/*
 * Start the fleet thread, with ctl's document as the seed of an empty
 * prefix. Returns 0 or a negative errno with *err.
 */
int sl_fleet_start(struct sl_fleet *f, struct sl_error *err);

/* The eventfd that becomes readable when revisions wait (for the control loop's poll). */
int sl_fleet_fd(const struct sl_fleet *f);

/* Control thread: apply the waiting revisions in order; refresh this host's key when due. */
void sl_fleet_run(struct sl_fleet *f);

/* "fleet" of GET /sluice/status (new JSON). */
cJSON *sl_fleet_status(struct sl_fleet *f);

/* GET /sluice/fleet: 0 with *out, or -EHOSTUNREACH with *err (FleetStoreUnavailable). */
int sl_fleet_hosts(struct sl_fleet *f, cJSON **out, struct sl_error *err);

/* sluice_fleet_* in Prometheus text. */
void sl_fleet_write_prometheus(FILE *out, struct sl_fleet *f);

/* The fleet revision applied on this host. */
int64_t sl_fleet_applied(const struct sl_fleet *f);

/* Stop the thread, unhook from the controller, free. */
void sl_fleet_free(struct sl_fleet *f);

#endif /* SL_FLEET_H */
