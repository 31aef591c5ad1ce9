/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_controller.h: the one path by which configuration changes are applied.
 *
 * DESIGN: the controller owns the committed desired-state document (the
 * configuration file's shape, see sl_resource.h) and the model validated
 * from it. Every change -- a REST request, the configuration file at start,
 * on SIGHUP or when it changes on disk -- edits a copy of the document and
 * hands it to sl_controller_commit(), which runs, in order:
 *   1. dynamic address assignment and whole-document validation,
 *   2. prepare: compile to a dataplane snapshot (the caller's hook),
 *   3. publish (the caller's hook; cannot fail),
 *   4. persist (a new generation in the state directory, when there is
 *      one: sl_store.h),
 *   5. swap the committed document and model.
 * A failure in 1-2 discards the copy: the model, the snapshot, the state
 * file and the traffic stay exactly as they were. Publishing before the
 * disk write keeps fsync out of the time a change takes to reach the
 * packets; the caller answers only after step 4. If the write fails, the
 * previous model is compiled and published again and the change is
 * refused (the workers ran the new configuration for that long). A copy equal to the
 * committed document is accepted without a new generation. Control thread
 * only.
 *
 * A change made in place on the committed document (the fast path) is
 * persisted as one journal record (sl_controller_persist_record); the
 * journal is folded into a new generation when the control loop finds the
 * controller idle (sl_controller_idle), at a clean stop
 * (sl_controller_fini), and at once should it reach 64 MiB.
 */
#ifndef SL_CONTROLLER_H
#define SL_CONTROLLER_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sl_config.h"
#include "sl_error.h"
#include "sl_model_delta.h"
#include "sl_resource.h"

struct sl_store;

struct sl_apply_ops {
	/*
	 * Compile m; return what publish takes, or NULL with *err filled.
	 * delta, when not NULL, says that m differs from the model of the
	 * configuration now published only by that change (sl_model_delta.h),
	 * so the hook may rebuild only what it touched (sl_compile_delta());
	 * NULL: anything may have changed.
	 */
	void *(*prepare)(void *ctx, const struct sl_model *m, const struct sl_model_delta *delta,
			 struct sl_error *err);
	/* Make the prepared configuration the running one. */
	void (*publish)(void *ctx, void *prepared);
	void *ctx;
	/*
	 * Drop a prepared configuration that is not published after all (the
	 * fleet's store refused it); NULL: nothing to drop.
	 */
	void (*discard)(void *ctx, void *prepared);
};

/*
 * Fleet mode (sl_fleet.h): every change is written to the fleet's store
 * between its compilation and its publication.
 */
struct sl_fleet_hook {
	/*
	 * Write doc as the fleet's next revision, on the one this host
	 * applied. Returns 0 (written), -EAGAIN (another writer won: *err is
	 * FleetConflict, and the newest revision waits for catch_up), or
	 * another negative errno with *err (FleetStoreUnavailable: refused).
	 */
	int (*write)(void *ctx, const cJSON *doc, struct sl_error *err);
	/* The commit that wrote it is published and persisted. */
	void (*written)(void *ctx);
	/* After a lost race: apply the newest revision now (a whole commit). */
	int (*catch_up)(void *ctx, struct sl_error *err);
	/* The fleet revision applied here (for the messages). */
	int64_t (*revision)(void *ctx);
	void *ctx;
};

/* The conditions of a change (HTTP If-Match / If-None-Match), NULL members: none. */
struct sl_change_cond {
	const char *if_match;      /* "*" or etags, comma-separated */
	const char *if_none_match; /* "*" (PUT: only when absent) */
};

/* Durations of the last successful commit's steps, microseconds. */
struct sl_commit_timing {
	double request_to_publish_us; /* from the request's arrival (API only) */
	double validate_us;
	double prepare_us;
	double persist_us;
	double publish_us;
};

struct sl_controller {
	cJSON *doc;                /* committed document */
	struct sl_model *model;    /* validated from doc */
	char *state_dir;           /* NULL: no persistence */
	struct sl_store *store;    /* the state directory's generations and journal */
	double last_change_us;     /* when a change was last persisted */
	double checkpoint_retry_us; /* no idle checkpoint before (one failed) */
	uint64_t journal_cap;      /* journal bytes that force a generation (init: 64 MiB) */
	char *config_file;         /* NULL: none */
	struct sl_apply_ops ops;
	uint64_t commits;          /* successful commits so far */
	int unchanged;             /* the last commit changed nothing and published nothing */
	struct sl_commit_timing last;
	int watch_fd;              /* inotify on the configuration file's directory, or -1 */
	double reload_due;         /* monotonic seconds; 0 = none pending */
	/*
	 * Set by a caller around its own sl_controller_commit() (else NULL):
	 * called when that commit changed the configuration, after publication
	 * and persistence, with the previous and the new document (valid
	 * during the call only). The REST API compares them there for its
	 * audit line, out of the time a change takes to reach the packets.
	 */
	void (*on_commit)(void *ctx, const cJSON *before, const cJSON *after);
	void *on_commit_ctx;
	/*
	 * Set by a caller around its own sl_controller_change(): called when
	 * the change took effect, after publication and persistence, with the
	 * resource it named as it was and as it is (NULL: absent).
	 */
	void (*on_change)(void *ctx, const cJSON *before, const cJSON *after);
	void *on_change_ctx;
	/* fleet mode: the store every change goes through (NULL: none) */
	const struct sl_fleet_hook *fleet;
	int fleet_applying; /* a commit of the fleet's own revision: not written back */
	uint64_t fast_changes;     /* changes that took the fast path */
	uint64_t fast_since_whole; /* of them, since the last whole compilation */
};

/*
 * Restore the state directory's document (if any), then apply the
 * configuration file (if any) on top, and watch the file. Returns 0, or a
 * negative errno with *err (a corrupt state file, a refused configuration).
 */
int sl_controller_init(struct sl_controller *c, const char *state_dir, const char *config_file,
		       const struct sl_apply_ops *ops, struct sl_error *err);

/* Fold the journal into a new generation (a clean stop), close the store, free everything. */
void sl_controller_fini(struct sl_controller *c);

/*
 * Make one change durable as a journal record: op "put" with value (the
 * resource as the committed document now stores it) or "delete" (value
 * NULL) of the resource id names. c->doc must already hold the change:
 * when the journal has reached c->journal_cap (64 MiB), or appends are
 * refused after a write failure, c->doc is written as a new generation
 * instead, synchronously. No state directory: nothing to do. Returns 0 or
 * a negative errno with *err (StateWriteFailed: the caller takes the
 * change back, as sl_controller_commit() does).
 */
int sl_controller_persist_record(struct sl_controller *c, const char *op, const char *id,
				 const cJSON *value, struct sl_error *err);

/*
 * For the control loop, every second or so. When fast-path changes were
 * made and none for a second, compile and publish the model whole once
 * (sl_controller_republish): that sweeps what incremental compilations
 * leave behind, such as the neighbours of removed backends. When the
 * journal is due to be folded (sl_store_checkpoint_due) and no change was
 * persisted for a second, write c->doc as a new generation. A failure is
 * logged and tried again 10 s later; the journal goes on meanwhile.
 */
void sl_controller_idle(struct sl_controller *c);

/* The state directory's status (sl_store_status), NULL without one. */
cJSON *sl_controller_state_status(const struct sl_controller *c);

/* A deep copy of the committed document to edit; NULL on ENOMEM. */
cJSON *sl_controller_begin(const struct sl_controller *c);

/*
 * Validate, compile, persist and publish doc (which the controller takes,
 * whatever the outcome). request_start_us is when the request that made the
 * change arrived (sl_controller_now_us()), or 0 for a change no request
 * made (the configuration file): last.request_to_publish_us is measured
 * from it. Returns 0, or a negative errno with *err.
 */
int sl_controller_commit(struct sl_controller *c, cJSON *doc, double request_start_us,
			 struct sl_error *err);

/*
 * One REST change: PUT (body) or DELETE (body NULL) of the resource p names.
 * A change to a load balancer's pool or load-balancing rule takes the fast
 * path: it is made in place on the committed document and model
 * (sl_doc_put_undoable, sl_model_apply_change), compiled from the published
 * snapshot with its delta, published, then made durable as one journal
 * record; any failure takes every step back. Whatever the fast path does
 * not take, and any change it refuses (so that the error is the
 * whole-document validation's, the reference), goes through
 * sl_controller_begin() + sl_doc_put()/sl_doc_delete() +
 * sl_controller_commit(). Returns 0 with *done (PUT: created; DELETE:
 * existed), or a negative errno with *err: *http is the edit's status when
 * the request itself was refused (404, 405, 400...), 0 when the commit
 * refused it (see sl_controller_error_is_server()).
 */
int sl_controller_change(struct sl_controller *c, const struct sl_res_path *p, const cJSON *body,
			 double request_start_us, bool *done, int *http, struct sl_error *err);

/*
 * sl_controller_change() under conditions cond (NULL: none): a PUT or
 * DELETE whose If-Match does not match the resource's etag (or names a
 * resource that does not exist), or a PUT with "If-None-Match: *" of one
 * that exists, is refused with 412 PreconditionFailed. In fleet mode
 * (c->fleet) every change takes the whole path and is written to the
 * fleet's store; a lost race applies the newest revision, checks the
 * conditions again and redoes the edit on it, 8 times at most (then 409
 * FleetConflict).
 */
int sl_controller_change_cond(struct sl_controller *c, const struct sl_res_path *p,
			      const cJSON *body, const struct sl_change_cond *cond,
			      double request_start_us, bool *done, int *http,
			      struct sl_error *err);

/*
 * The HTTP status of a refused commit's error: 412 PreconditionFailed, 409
 * FleetConflict, 503 FleetStoreUnavailable, 500 for the server's own
 * failures (sl_controller_error_is_server), else 400.
 */
unsigned int sl_controller_error_status(const struct sl_error *e);

/*
 * Compile and publish the committed model again (its inputs outside the
 * document changed: backend health). Returns 0 or a negative errno with *err.
 */
int sl_controller_republish(struct sl_controller *c, struct sl_error *err);

/*
 * True when a refused commit's error is the server's fault (the state could
 * not be written, memory, the snapshot build) rather than the request's.
 */
bool sl_controller_error_is_server(const struct sl_error *e);

/* Monotonic microseconds, the clock of sl_controller_commit()'s request_start_us. */
double sl_controller_now_us(void);

/*
 * Re-read the configuration file and apply it: its resources replace those
 * of the same type and name (see sl_doc_merge). A file that does not parse
 * or validate changes nothing; *err says where (file, JSON path, code).
 */
int sl_controller_apply_file(struct sl_controller *c, struct sl_error *err);

/*
 * Drain the file watch (call when watch_fd is readable): a change to the
 * configuration file schedules a reload shortly after (editors write in
 * several steps).
 */
void sl_controller_on_watch(struct sl_controller *c, double now);

/* True when a scheduled reload is due at `now` (then it is cleared). */
int sl_controller_reload_due(struct sl_controller *c, double now);

#endif /* SL_CONTROLLER_H */
