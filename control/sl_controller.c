/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_controller.c: validate, compile, persist, publish, swap
 * (see sl_controller.h).
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sl_config_incr.h"
#include "sl_controller.h"
#include "sl_json.h"
#include "sl_resource.h"
#include "sl_log.h"
#include "sl_store.h"

#define SL_RELOAD_SETTLE_S 0.1
/* A due checkpoint waits for this long without changes... */
#define SL_IDLE_CHECKPOINT_US 1e6
/* ...and this long after one that failed. */
#define SL_CHECKPOINT_RETRY_US 10e6
/* A journal this large is folded into a generation at once, whatever the traffic. */
#define SL_JOURNAL_HARD_CAP (64u << 20)

double
sl_controller_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

bool
sl_controller_error_is_server(const struct sl_error *e)
{
	static const char *const server_side[] = {"StateWriteFailed", "OutOfMemory",
						  "SnapshotBuildFailed"};

	for (size_t i = 0; i < sizeof(server_side) / sizeof(server_side[0]); i++)
		if (strcmp(e->code, server_side[i]) == 0)
			return true;
	return false;
}

unsigned int
sl_controller_error_status(const struct sl_error *e)
{
	if (strcmp(e->code, "PreconditionFailed") == 0)
		return 412;
	if (strcmp(e->code, "FleetConflict") == 0)
		return 409;
	if (strcmp(e->code, "FleetStoreUnavailable") == 0)
		return 503;
	return sl_controller_error_is_server(e) ? 500 : 400;
}

cJSON *
sl_controller_begin(const struct sl_controller *c)
{
	return cJSON_Duplicate(c->doc, 1);
}

int
sl_controller_commit(struct sl_controller *c, cJSON *doc, double request_start_us,
		     struct sl_error *err)
{
	struct sl_commit_timing t;
	struct sl_model *m;
	void *prepared;
	double t0 = sl_controller_now_us(), t1;
	bool wrote = false;
	int rc;

	t.request_to_publish_us = 0;
	if (doc == NULL) {
		sl_error_set(err, "OutOfMemory", "configuration", "",
			     "Out of memory while copying the configuration.");
		return -ENOMEM;
	}
	rc = sl_config_assign_dynamic_ips(doc, err);
	if (rc < 0) {
		cJSON_Delete(doc);
		return rc;
	}
	/* Nothing changed (a file saved twice, a PUT of what is there): no new generation. */
	c->unchanged = c->commits > 0 && cJSON_Compare(doc, c->doc, 1);
	if (c->unchanged) {
		cJSON_Delete(doc);
		return 0;
	}
	m = sl_config_from_json(doc, "configuration", err);
	if (m == NULL) {
		cJSON_Delete(doc);
		return -EINVAL;
	}
	t1 = sl_controller_now_us();
	t.validate_us = t1 - t0;
	prepared = c->ops.prepare(c->ops.ctx, m, NULL, err);
	if (prepared == NULL) {
		sl_model_free(m);
		cJSON_Delete(doc);
		return -EINVAL;
	}
	/* fleet mode: the fleet's store first; a refusal changes nothing here */
	if (c->fleet != NULL && !c->fleet_applying) {
		rc = c->fleet->write(c->fleet->ctx, doc, err);
		if (rc < 0) {
			if (c->ops.discard != NULL)
				c->ops.discard(c->ops.ctx, prepared);
			sl_model_free(m);
			cJSON_Delete(doc);
			return rc;
		}
		wrote = true;
	}
	t0 = sl_controller_now_us();
	t.prepare_us = t0 - t1;
	/*
	 * Publish before persisting: the workers get the change without
	 * waiting for the disk; the request is answered only once it is
	 * durable. Should the write fail, the previous configuration is
	 * compiled and published again (it compiles: it did before, and its
	 * unchanged Maglev tables are still cached) and the change is refused.
	 */
	t.request_to_publish_us = request_start_us > 0 ? t0 - request_start_us : 0;
	c->ops.publish(c->ops.ctx, prepared);
	t1 = sl_controller_now_us();
	t.publish_us = t1 - t0;
	if (c->store != NULL) {
		c->last_change_us = t1;
		rc = sl_store_checkpoint(c->store, doc, err);
		if (rc < 0) {
			struct sl_error ignored;
			void *old = c->model != NULL ? c->ops.prepare(c->ops.ctx, c->model, NULL, &ignored)
						     : NULL;
			if (old != NULL) {
				c->ops.publish(c->ops.ctx, old);
				sl_model_free(m);
				cJSON_Delete(doc);
				return rc;
			}
			/* Cannot go back: keep model and dataplane in step, and say so. */
			if (err != NULL)
				snprintf(err->message + strlen(err->message),
					 sizeof(err->message) - strlen(err->message),
					 " The change is running but not persisted.");
		}
	}
	t.persist_us = sl_controller_now_us() - t1;

	if (c->on_commit != NULL)
		c->on_commit(c->on_commit_ctx, c->doc, doc);
	cJSON_Delete(c->doc);
	sl_model_free(c->model);
	c->doc = doc;
	c->model = m;
	c->commits++;
	c->last = t;
	if (wrote)
		c->fleet->written(c->fleet->ctx);
	return 0;
}

/* The whole path: edit a copy of the document, commit it whole. */
static int
sl_change_whole(struct sl_controller *c, const struct sl_res_path *p, const cJSON *body,
		double request_start_us, bool *done, int *http, struct sl_error *err)
{
	cJSON *doc = sl_controller_begin(c);
	const cJSON *before;
	int rc;

	*http = 500;
	if (doc == NULL) {
		sl_error_set(err, "OutOfMemory", "configuration", "", "Out of memory.");
		return -ENOMEM;
	}
	rc = body != NULL ? sl_doc_put(doc, p, body, done, http, err)
			  : sl_doc_delete(doc, p, done, http, err);
	if (rc != 0 || (body == NULL && !*done)) {
		cJSON_Delete(doc);
		return rc;
	}
	*http = 0;
	before = sl_doc_find(c->doc, p);
	/* the resource as it was outlives the commit that frees c->doc */
	cJSON *was = before != NULL && c->on_change != NULL ? cJSON_Duplicate(before, 1) : NULL;
	rc = sl_controller_commit(c, doc, request_start_us, err);
	if (rc == 0 && c->on_change != NULL && !c->unchanged)
		c->on_change(c->on_change_ctx, was, sl_doc_find(c->doc, p));
	cJSON_Delete(was);
	return rc;
}

/*
 * The fast path's steps after the in-place edit u of the document: the
 * model, the compilation from the published snapshot, publication,
 * the journal record. Returns 0, 1 (not taken: everything as it was; take
 * the whole path), or a negative errno with *err (everything as it was).
 */
static int
sl_change_fast(struct sl_controller *c, const struct sl_res_path *p, struct sl_doc_undo *u,
	       double request_start_us, struct sl_error *err)
{
	struct sl_commit_timing t = {0};
	struct sl_model_undo *mu = NULL;
	struct sl_error why;
	const cJSON *after = sl_doc_undo_after(u);
	double t0 = sl_controller_now_us(), t1;
	char id[1024];
	void *prepared;
	int rc;

	/* Nothing changed (a PUT of what is there): no new generation. */
	if (u->old != NULL && after != NULL && cJSON_Compare(u->old, after, 1)) {
		sl_doc_undo_done(u);
		c->unchanged = 1;
		return 0;
	}
	rc = sl_model_apply_change(c->model, c->doc, p, after == NULL, &mu, &why);
	if (rc == -EAGAIN || rc == -EINVAL) {
		/* not incremental, or refused: the whole validation decides and says why */
		sl_doc_undo(u);
		return 1;
	}
	if (rc < 0) {
		sl_doc_undo(u);
		sl_error_set(err, "OutOfMemory", "configuration", "", "Out of memory.");
		return rc;
	}
	t1 = sl_controller_now_us();
	t.validate_us = t1 - t0;
	prepared = c->ops.prepare(c->ops.ctx, c->model, sl_model_undo_delta(mu), err);
	if (prepared == NULL) {
		sl_model_undo_restore(c->model, mu);
		sl_doc_undo(u);
		return -EINVAL;
	}
	t0 = sl_controller_now_us();
	t.prepare_us = t0 - t1;
	t.request_to_publish_us = request_start_us > 0 ? t0 - request_start_us : 0;
	c->ops.publish(c->ops.ctx, prepared);
	t1 = sl_controller_now_us();
	t.publish_us = t1 - t0;
	sl_res_id(p, id, sizeof(id));
	rc = c->state_dir == NULL ? 0
				  : sl_controller_persist_record(c, after != NULL ? "put" : "delete",
								 id, after, err);
	if (rc < 0) {
		/* as sl_controller_commit(): the previous configuration goes back */
		struct sl_error ignored;
		sl_model_undo_restore(c->model, mu);
		sl_doc_undo(u);
		prepared = c->ops.prepare(c->ops.ctx, c->model, NULL, &ignored);
		if (prepared != NULL)
			c->ops.publish(c->ops.ctx, prepared);
		return rc;
	}
	t.persist_us = sl_controller_now_us() - t1;
	if (c->on_change != NULL)
		c->on_change(c->on_change_ctx, u->old, after);
	sl_model_undo_free(mu);
	sl_doc_undo_done(u);
	c->unchanged = 0;
	c->commits++;
	c->fast_changes++;
	c->fast_since_whole++;
	c->last_change_us = sl_controller_now_us();
	c->last = t;
	return 0;
}

/* "W/\"abc\"" and "\"abc\"" name the same (weak) etag. */
static bool
sl_etag_listed(const char *list, const char *etag)
{
	char want[64];
	size_t n;

	if (strncmp(etag, "W/", 2) == 0)
		etag += 2;
	snprintf(want, sizeof(want), "%s", etag);
	n = strlen(want);
	for (const char *s = list; *s != '\0';) {
		while (*s == ' ' || *s == ',')
			s++;
		if (strncmp(s, "W/", 2) == 0)
			s += 2;
		size_t k = strcspn(s, ",");
		size_t m = k;
		while (m > 0 && s[m - 1] == ' ')
			m--;
		if (m == n && strncmp(s, want, n) == 0)
			return true;
		s += k;
	}
	return false;
}

/* The etag of the resource p names as GET shows it; "" when it does not exist. */
static void
sl_etag_of(const cJSON *doc, const struct sl_res_path *p, char *buf, size_t len)
{
	struct sl_error ignored;
	cJSON *r = sl_doc_find(doc, p) != NULL ? sl_doc_render(doc, p, &ignored) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "etag");

	snprintf(buf, len, "%s", cJSON_IsString(e) ? e->valuestring : "");
	cJSON_Delete(r);
}

/* 0 when cond holds for p in c->doc; else -EINVAL, *err PreconditionFailed (412). */
static int
sl_check_cond(const struct sl_controller *c, const struct sl_res_path *p, bool put,
	      const struct sl_change_cond *cond, bool raced, struct sl_error *err)
{
	char etag[64], id[1024], why[160] = "";

	if (cond == NULL || (cond->if_match == NULL && cond->if_none_match == NULL))
		return 0;
	sl_etag_of(c->doc, p, etag, sizeof(etag));
	sl_res_id(p, id, sizeof(id));
	if (raced && c->fleet != NULL)
		snprintf(why, sizeof(why), "The resource was changed by another writer (fleet "
			 "revision %lld); ", (long long)c->fleet->revision(c->fleet->ctx));
	if (cond->if_match != NULL && etag[0] == '\0')
		return sl_error_set(err, "PreconditionFailed", id, "",
				    "%sIf-Match: '%s' does not exist.", why, id);
	if (cond->if_match != NULL && strcmp(cond->if_match, "*") != 0 &&
	    !sl_etag_listed(cond->if_match, etag))
		return sl_error_set(err, "PreconditionFailed", id, "",
				    "%sIf-Match %s does not match: the etag of '%s' is now %s.",
				    why, cond->if_match, id, etag);
	if (put && cond->if_none_match != NULL && etag[0] != '\0' &&
	    (strcmp(cond->if_none_match, "*") == 0 || sl_etag_listed(cond->if_none_match, etag)))
		return sl_error_set(err, "PreconditionFailed", id, "",
				    "%sIf-None-Match %s: '%s' exists (etag %s).", why,
				    cond->if_none_match, id, etag);
	return 0;
}

/* SL_FLEET_TRIES lost races at most, then 409 FleetConflict. */
#define SL_FLEET_TRIES 8

/* Fleet mode: the whole path, written to the fleet's store, redone on the newest revision. */
static int
sl_change_fleet(struct sl_controller *c, const struct sl_res_path *p, const cJSON *body,
		const struct sl_change_cond *cond, double request_start_us, bool *done,
		int *http, struct sl_error *err)
{
	char id[1024];
	int rc;

	for (int i = 0;; i++) {
		rc = sl_check_cond(c, p, body != NULL, cond, i > 0, err);
		if (rc != 0) {
			*http = 412;
			return rc;
		}
		rc = sl_change_whole(c, p, body, request_start_us, done, http, err);
		if (rc != -EAGAIN)
			return rc;
		*http = 0;
		if (i + 1 == SL_FLEET_TRIES)
			break;
		rc = c->fleet->catch_up(c->fleet->ctx, err);
		if (rc < 0)
			return rc;
	}
	sl_res_id(p, id, sizeof(id));
	*http = 409;
	return sl_error_set(err, "FleetConflict", id, "",
			    "The change of '%s' lost %d races with other writers of the fleet "
			    "(fleet revision now %lld): it was not made; retry it.", id,
			    SL_FLEET_TRIES, (long long)c->fleet->revision(c->fleet->ctx));
}

int
sl_controller_change(struct sl_controller *c, const struct sl_res_path *p, const cJSON *body,
		     double request_start_us, bool *done, int *http, struct sl_error *err)
{
	return sl_controller_change_cond(c, p, body, NULL, request_start_us, done, http, err);
}

int
sl_controller_change_cond(struct sl_controller *c, const struct sl_res_path *p,
			  const cJSON *body, const struct sl_change_cond *cond,
			  double request_start_us, bool *done, int *http, struct sl_error *err)
{
	struct sl_doc_undo u;
	int rc;

	*done = false;
	*http = 400;
	if (c->fleet != NULL && c->model != NULL)
		return sl_change_fleet(c, p, body, cond, request_start_us, done, http, err);
	rc = sl_check_cond(c, p, body != NULL, cond, false, err);
	if (rc != 0) {
		*http = 412;
		return rc;
	}
	rc = c->model == NULL ? -EAGAIN
	     : body != NULL   ? sl_doc_put_undoable(c->doc, p, body, done, http, &u, err)
			      : sl_doc_delete_undoable(c->doc, p, done, http, &u, err);
	if (rc == -EAGAIN)
		return sl_change_whole(c, p, body, request_start_us, done, http, err);
	if (rc != 0)
		return rc;
	if (!u.active) { /* a DELETE of what is not there */
		c->unchanged = 1;
		return 0;
	}
	*http = 0;
	rc = sl_change_fast(c, p, &u, request_start_us, err);
	if (rc == 1)
		return sl_change_whole(c, p, body, request_start_us, done, http, err);
	return rc;
}

int
sl_controller_republish(struct sl_controller *c, struct sl_error *err)
{
	void *prepared;

	if (c->model == NULL)
		return 0;
	prepared = c->ops.prepare(c->ops.ctx, c->model, NULL, err);
	if (prepared == NULL)
		return -EINVAL;
	c->ops.publish(c->ops.ctx, prepared);
	return 0;
}

/*
 * Read and validate the configuration file alone (so its errors carry the
 * file's own JSON paths), then merge it into a copy of base. Returns the
 * merged document, or NULL with *err filled and errno set.
 */
static cJSON *
sl_merge_file(const struct sl_controller *c, const cJSON *base, struct sl_error *err)
{
	cJSON *file_doc, *alone_doc, *merged;
	struct sl_model *alone;
	size_t len;
	char *text;
	int rc;

	text = sl_file_read(c->config_file, SL_CONFIG_MAX_FILE_SIZE, &len, "ConfigFileUnreadable",
			    err);
	if (text == NULL)
		return NULL;
	file_doc = sl_json_parse(text, len, c->config_file, err);
	free(text);
	if (file_doc == NULL) {
		errno = EINVAL;
		goto fail;
	}
	/* Addresses the file leaves out are assigned here only to validate it. */
	alone_doc = cJSON_Duplicate(file_doc, 1);
	rc = alone_doc == NULL ? -ENOMEM : sl_config_assign_dynamic_ips(alone_doc, err);
	alone = rc < 0 ? NULL : sl_config_from_json(alone_doc, c->config_file, err);
	cJSON_Delete(alone_doc);
	if (alone == NULL) {
		cJSON_Delete(file_doc);
		errno = rc < 0 ? -rc : EINVAL;
		goto fail;
	}
	sl_model_free(alone);
	merged = cJSON_Duplicate(base, 1);
	rc = merged == NULL ? -ENOMEM : sl_doc_merge(merged, file_doc, err);
	cJSON_Delete(file_doc);
	if (rc < 0) {
		cJSON_Delete(merged);
		errno = -rc;
		goto fail;
	}
	return merged;
fail:
	if (err != NULL)
		snprintf(err->file, sizeof(err->file), "%s", c->config_file);
	return NULL;
}

int
sl_controller_apply_file(struct sl_controller *c, struct sl_error *err)
{
	cJSON *merged;
	int rc;

	if (c->config_file == NULL)
		return 0;
	merged = sl_merge_file(c, c->doc, err);
	if (merged == NULL)
		return -errno;
	rc = sl_controller_commit(c, merged, 0, err);
	if (rc < 0 && err != NULL)
		snprintf(err->file, sizeof(err->file), "%s", c->config_file);
	return rc;
}

static int
sl_watch(struct sl_controller *c)
{
	char *copy = strdup(c->config_file);
	int fd;

	if (copy == NULL)
		return -ENOMEM;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0) {
		free(copy);
		return -errno;
	}
	/* The directory: editors and deployment tools replace files by rename. */
	if (inotify_add_watch(fd, dirname(copy), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
		int rc = -errno;
		close(fd);
		free(copy);
		return rc;
	}
	free(copy);
	c->watch_fd = fd;
	return 0;
}

void
sl_controller_on_watch(struct sl_controller *c, double now)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	char *copy;
	const char *base;
	ssize_t n;

	if (c->watch_fd < 0 || (copy = strdup(c->config_file)) == NULL)
		return;
	base = basename(copy);
	while ((n = read(c->watch_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if (ev->len > 0 && strcmp(ev->name, base) == 0)
				c->reload_due = now + SL_RELOAD_SETTLE_S;
			p += sizeof(*ev) + ev->len;
		}
	}
	free(copy);
}

int
sl_controller_reload_due(struct sl_controller *c, double now)
{
	if (c->reload_due == 0 || now < c->reload_due)
		return 0;
	c->reload_due = 0;
	return 1;
}

int
sl_controller_init(struct sl_controller *c, const char *state_dir, const char *config_file,
		   const struct sl_apply_ops *ops, struct sl_error *err)
{
	cJSON *restored = NULL;
	int rc;

	memset(c, 0, sizeof(*c));
	c->watch_fd = -1;
	c->journal_cap = SL_JOURNAL_HARD_CAP;
	c->ops = *ops;
	if ((state_dir != NULL && (c->state_dir = strdup(state_dir)) == NULL) ||
	    (config_file != NULL && (c->config_file = strdup(config_file)) == NULL))
		return -ENOMEM;
	c->doc = sl_doc_new();
	if (c->doc == NULL)
		return -ENOMEM;
	if (c->state_dir != NULL) {
		if (mkdir(c->state_dir, 0700) != 0 && errno != EEXIST) {
			sl_error_set(err, "StateDirectoryUnusable", c->state_dir, "",
				     "Cannot create the state directory '%s': %s.", c->state_dir,
				     strerror(errno));
			return -errno;
		}
		/* logs what recovery found, damage loudly */
		rc = sl_store_open(c->state_dir, &c->store, &restored, err);
		if (rc < 0)
			return rc;
	}
	/*
	 * One commit: the restored document with the file merged in (or an
	 * empty document, so the dataplane always has a snapshot).
	 */
	cJSON *first = restored;
	if (c->config_file != NULL) {
		first = sl_merge_file(c, restored != NULL ? restored : c->doc, err);
		cJSON_Delete(restored);
		if (first == NULL)
			return -errno;
	}
	rc = sl_controller_commit(c, first != NULL ? first : sl_doc_new(), 0, err);
	if (rc < 0) {
		if (c->config_file != NULL && err != NULL)
			snprintf(err->file, sizeof(err->file), "%s", c->config_file);
		return rc;
	}
	if (c->config_file != NULL) {
		rc = sl_watch(c);
		if (rc < 0) {
			sl_error_set(err, "ConfigFileUnwatchable", c->config_file, "",
				     "Cannot watch the configuration file's directory: %s.",
				     strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int
sl_controller_persist_record(struct sl_controller *c, const char *op, const char *id,
			     const cJSON *value, struct sl_error *err)
{
	if (c->store == NULL)
		return 0;
	c->last_change_us = sl_controller_now_us();
	/* c->doc holds the change already: a generation of it holds the record too */
	if (sl_store_journal_bytes(c->store) >= c->journal_cap ||
	    sl_store_appends_refused(c->store))
		return sl_store_checkpoint(c->store, c->doc, err);
	return sl_store_append(c->store, op, id, value, err);
}

void
sl_controller_idle(struct sl_controller *c)
{
	struct sl_error err;
	char line[1400];
	double now = sl_controller_now_us();

	/*
	 * Once changes pause, fast-path compilations are followed by a whole
	 * one: it sweeps what they leave behind (the neighbours only removed
	 * backends needed, see sl_control_slowpath_sweep_due()).
	 */
	if (c->fast_since_whole > 0 && now - c->last_change_us >= SL_IDLE_CHECKPOINT_US) {
		c->fast_since_whole = 0;
		if (sl_controller_republish(c, &err) != 0)
			sl_log(SL_LOG_WARNING, "state", "whole compilation after changes failed: %s",
			       sl_error_format(&err, line, sizeof(line)));
	}
	if (c->store == NULL || !sl_store_checkpoint_due(c->store))
		return;
	if (now - c->last_change_us < SL_IDLE_CHECKPOINT_US || now < c->checkpoint_retry_us)
		return;
	if (sl_store_checkpoint(c->store, c->doc, &err) == 0)
		return;
	c->checkpoint_retry_us = now + SL_CHECKPOINT_RETRY_US;
	sl_log(SL_LOG_WARNING, "state", "checkpoint failed, the journal goes on: %s",
	       sl_error_format(&err, line, sizeof(line)));
}

cJSON *
sl_controller_state_status(const struct sl_controller *c)
{
	return c->store != NULL ? sl_store_status(c->store) : NULL;
}

void
sl_controller_fini(struct sl_controller *c)
{
	if (c->store != NULL) {
		struct sl_error err;
		char line[1400];
		/* a clean stop starts the next time from one generation, nothing to replay */
		if (c->doc != NULL && sl_store_journal_bytes(c->store) > 0 &&
		    sl_store_checkpoint(c->store, c->doc, &err) != 0)
			sl_log(SL_LOG_WARNING, "state", "checkpoint at stop failed (the journal "
			       "will be replayed at the next start): %s",
			       sl_error_format(&err, line, sizeof(line)));
		sl_store_close(c->store);
	}
	if (c->watch_fd >= 0)
		close(c->watch_fd);
	cJSON_Delete(c->doc);
	sl_model_free(c->model);
	free(c->state_dir);
	free(c->config_file);
	memset(c, 0, sizeof(*c));
	c->watch_fd = -1;
}
