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

#include "sl_controller.h"
#include "sl_json.h"
#include "sl_resource.h"
#include "sl_state.h"

#define SL_RELOAD_SETTLE_S 0.1

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
	if (c->state_dir != NULL) {
		rc = sl_state_save(c->state_dir, doc, err);
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
	return 0;
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
		rc = sl_state_load(c->state_dir, &restored, err);
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

void
sl_controller_fini(struct sl_controller *c)
{
	if (c->watch_fd >= 0)
		close(c->watch_fd);
	cJSON_Delete(c->doc);
	sl_model_free(c->model);
	free(c->state_dir);
	free(c->config_file);
	memset(c, 0, sizeof(*c));
	c->watch_fd = -1;
}
