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
#include <time.h>
#include <unistd.h>

#include "sl_controller.h"
#include "sl_json.h"
#include "sl_resource.h"
#include "sl_state.h"

#define SL_RELOAD_SETTLE_S 0.1

static double
sl_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

cJSON *
sl_controller_begin(const struct sl_controller *c)
{
	return cJSON_Duplicate(c->doc, 1);
}

int
sl_controller_commit(struct sl_controller *c, cJSON *doc, struct sl_error *err)
{
	struct sl_commit_timing t;
	struct sl_model *m;
	void *prepared;
	double t0 = sl_now_us(), t1;
	int rc;

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
	m = sl_config_from_json(doc, "configuration", err);
	if (m == NULL) {
		cJSON_Delete(doc);
		return -EINVAL;
	}
	t1 = sl_now_us();
	t.validate_us = t1 - t0;
	prepared = c->ops.prepare(c->ops.ctx, m, err);
	if (prepared == NULL) {
		sl_model_free(m);
		cJSON_Delete(doc);
		return -EINVAL;
	}
	t0 = sl_now_us();
	t.prepare_us = t0 - t1;
	if (c->state_dir != NULL) {
		rc = sl_state_save(c->state_dir, doc, err);
		if (rc < 0) {
			c->ops.discard(c->ops.ctx, prepared);
			sl_model_free(m);
			cJSON_Delete(doc);
			return rc;
		}
	}
	t1 = sl_now_us();
	t.persist_us = t1 - t0;
	c->ops.publish(c->ops.ctx, prepared);
	t.publish_us = sl_now_us() - t1;

	cJSON_Delete(c->doc);
	sl_model_free(c->model);
	c->doc = doc;
	c->model = m;
	c->commits++;
	c->last = t;
	return 0;
}

int
sl_controller_apply_file(struct sl_controller *c, struct sl_error *err)
{
	size_t len;
	char *text;
	cJSON *file_doc, *merged;
	struct sl_model *alone;
	int rc;

	if (c->config_file == NULL)
		return 0;
	text = sl_file_read(c->config_file, SL_CONFIG_MAX_FILE_SIZE, &len, "ConfigFileUnreadable",
			    err);
	if (text == NULL)
		return -errno;
	file_doc = sl_json_parse(text, len, c->config_file, err);
	free(text);
	if (file_doc == NULL) {
		if (err != NULL)
			snprintf(err->file, sizeof(err->file), "%s", c->config_file);
		return -EINVAL;
	}
	/* The file alone first, so its errors carry the file's own JSON paths. */
	alone = sl_config_from_json(file_doc, c->config_file, err);
	if (alone == NULL) {
		if (err != NULL)
			snprintf(err->file, sizeof(err->file), "%s", c->config_file);
		cJSON_Delete(file_doc);
		return -EINVAL;
	}
	sl_model_free(alone);
	merged = sl_controller_begin(c);
	rc = merged == NULL ? -ENOMEM : sl_doc_merge(merged, file_doc, err);
	cJSON_Delete(file_doc);
	if (rc < 0) {
		cJSON_Delete(merged);
		return rc;
	}
	rc = sl_controller_commit(c, merged, err);
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
		rc = sl_state_load(c->state_dir, &restored, err);
		if (rc < 0)
			return rc;
	}
	/* Commit even an empty document, so the dataplane always has a snapshot. */
	rc = sl_controller_commit(c, restored != NULL ? restored : sl_doc_new(), err);
	if (rc < 0)
		return rc;
	if (c->config_file != NULL) {
		rc = sl_controller_apply_file(c, err);
		if (rc < 0)
			return rc;
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
