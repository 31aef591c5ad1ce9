/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_store.c: generations and journals of the desired state -- the file
 * formats, appending, checkpoints, pruning and status (see sl_store.h);
 * recovery at start is sl_store_recover.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_hash.h"
#include "sl_json.h"
#include "sl_resource.h"
#include "sl_store_internal.h"

uint32_t
sl_store_crc(const char *data, size_t len)
{
	return sl_crc32c(data, len, 0xffffffffu) ^ 0xffffffffu;
}

void
sl_store_path(const struct sl_store *s, const char *kind, uint64_t n, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s-%010" PRIu64, s->dir, kind, n);
}

int
sl_store_write_fail(struct sl_error *err, const char *path, int rc, const char *step)
{
	sl_error_set(err, "StateWriteFailed", path, "",
		     "Cannot persist the configuration to '%s' (%s: %s); the change is not applied.",
		     path, step, strerror(-rc));
	return rc;
}

static int
sl_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	rc = fsync(fd) != 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* Create journal-n (its header line, atomically) and open it for appending. */
int
sl_store_start_journal(struct sl_store *s, uint64_t n, uint64_t seq, struct sl_error *err)
{
	char path[SL_STORE_PATH_MAX], header[96];
	const char *step;
	int len, rc, fd;

	sl_store_path(s, SL_STORE_JOURNAL, n, path, sizeof(path));
	len = snprintf(header, sizeof(header), "%s %d %" PRIu64 " %" PRIu64 "\n",
		       SL_STORE_JOURNAL_MAGIC, SL_STORE_VERSION, n, seq);
	rc = sl_file_write_atomic(path, header, (size_t)len, 0600, &step);
	if (rc != 0)
		return sl_store_write_fail(err, path, rc, step);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return sl_store_write_fail(err, path, -errno, "open");
	if (s->jfd >= 0)
		close(s->jfd);
	s->jfd = fd;
	s->journal_end = (uint64_t)len;
	s->records = 0;
	s->journal_bytes = 0;
	return 0;
}

/* "generation-N" / "journal-N" with N all digits: N; else -1. */
int64_t
sl_store_name_number(const char *name, const char *kind, bool exact)
{
	size_t k = strlen(kind);
	uint64_t n = 0;
	const char *p;

	if (strncmp(name, kind, k) != 0 || name[k] != '-')
		return -1;
	for (p = name + k + 1; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (p == name + k + 1 || (exact ? *p != '\0' : (*p != '\0' && *p != '.')) || n > INT64_MAX)
		return -1;
	return (int64_t)n;
}

/* Delete the generations (and journals, state.json) older than the oldest one kept. */
static void
sl_prune(struct sl_store *s)
{
	char path[SL_STORE_PATH_MAX];
	struct dirent *e;
	uint64_t keep_from;
	DIR *d;

	if (s->n_good < SL_STORE_KEEP)
		return;
	keep_from = s->good[0];
	d = opendir(s->dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		int64_t j = sl_store_name_number(e->d_name, SL_STORE_JOURNAL, true);
		int64_t g = sl_store_name_number(e->d_name, SL_STORE_GENERATION, true);
		bool legacy = strcmp(e->d_name, SL_STORE_LEGACY) == 0 && keep_from > 0;
		/* a journal first: a generation without one is whole, the reverse is not */
		if ((j >= 0 && (uint64_t)j < keep_from) || legacy) {
			snprintf(path, sizeof(path), "%s/%s", s->dir, e->d_name);
			unlink(path);
		}
		if (g >= 0 && (uint64_t)g < keep_from) {
			sl_store_path(s, SL_STORE_JOURNAL, (uint64_t)g, path, sizeof(path));
			unlink(path);
			sl_store_path(s, SL_STORE_GENERATION, (uint64_t)g, path, sizeof(path));
			unlink(path);
		}
	}
	closedir(d);
}

void
sl_store_note_good(struct sl_store *s, uint64_t n)
{
	if (s->n_good == SL_STORE_KEEP) {
		memmove(s->good, s->good + 1, sizeof(s->good[0]) * (SL_STORE_KEEP - 1));
		s->n_good--;
	}
	s->good[s->n_good++] = n;
	sl_prune(s);
}

/* Take back a generation whose journal could not be started. */
static void
sl_unwrite_generation(struct sl_store *s, uint64_t n)
{
	char path[SL_STORE_PATH_MAX];

	sl_store_path(s, SL_STORE_GENERATION, n, path, sizeof(path));
	/* If it stays, it would hide the records appended to the current journal. */
	if ((unlink(path) != 0 && errno != ENOENT) || sl_fsync_dir(s->dir) != 0)
		s->refused = true;
}

/* The generation file's bytes: header line and JSON. */
static char *
sl_generation_text(const struct sl_store *s, uint64_t n, const cJSON *doc, size_t *len,
		   size_t *body_len)
{
	char *json = cJSON_PrintUnformatted(doc), header[160], *out;
	size_t hlen;

	if (json == NULL)
		return NULL;
	*body_len = strlen(json);
	hlen = (size_t)snprintf(header, sizeof(header),
				"%s %d %" PRIu64 " %" PRIu64 " %zu %08" PRIx32 "\n",
				SL_STORE_GEN_MAGIC, SL_STORE_VERSION, n, s->seq, *body_len,
				sl_store_crc(json, *body_len));
	out = malloc(hlen + *body_len);
	if (out != NULL) {
		memcpy(out, header, hlen);
		memcpy(out + hlen, json, *body_len);
		*len = hlen + *body_len;
	}
	cJSON_free(json);
	return out;
}

int
sl_store_checkpoint(struct sl_store *s, const cJSON *doc, struct sl_error *err)
{
	char path[SL_STORE_PATH_MAX];
	uint64_t n = s->next_gen++;
	size_t len, body_len;
	const char *step;
	char *text;
	int rc;

	sl_store_path(s, SL_STORE_GENERATION, n, path, sizeof(path));
	text = sl_generation_text(s, n, doc, &len, &body_len);
	if (text == NULL)
		return sl_store_write_fail(err, path, -ENOMEM, "serialise");
	rc = sl_file_write_atomic(path, text, len, 0600, &step);
	free(text);
	if (rc != 0)
		return sl_store_write_fail(err, path, rc, step);
	rc = sl_store_start_journal(s, n, s->seq, err);
	if (rc != 0) {
		sl_unwrite_generation(s, n);
		return rc;
	}
	s->gen = n;
	s->gen_bytes = body_len;
	s->refused = false;
	s->damaged = false;
	sl_store_note_good(s, n);
	return 0;
}

static int
sl_bad_record(struct sl_error *err, const char *id, const char *why)
{
	sl_error_set(err, "InvalidRequestFormat", id != NULL ? id : "", "",
		     "Not a change record: %s.", why);
	return -EINVAL;
}

/* A record's shape: a known op, an id naming one resource, a value for put only. */
static int
sl_check_record(const char *op, const char *id, const cJSON *value, struct sl_res_path *p,
		struct sl_error *err)
{
	bool put = op != NULL && strcmp(op, "put") == 0;

	if (!put && (op == NULL || strcmp(op, "delete") != 0))
		return sl_bad_record(err, id, "op is neither \"put\" nor \"delete\"");
	if (id == NULL || sl_res_path_parse(id, p, err) != 0)
		return id == NULL ? sl_bad_record(err, id, "no id") : -EINVAL;
	if (p->name[0] == '\0' || (p->child >= 0 && p->child_name[0] == '\0'))
		return sl_bad_record(err, id, "the id names a collection");
	if (put != (value != NULL) || (put && !cJSON_IsObject(value)))
		return sl_bad_record(err, id, put ? "a put without an object value"
						  : "a delete with a value");
	return 0;
}

int
sl_store_apply(cJSON *doc, const char *op, const char *id, const cJSON *value,
	       struct sl_error *err)
{
	struct sl_res_path p;
	bool done;
	int http, rc;

	rc = sl_check_record(op, id, value, &p, err);
	if (rc != 0)
		return rc;
	if (value != NULL)
		return sl_doc_put(doc, &p, value, &done, &http, err);
	return sl_doc_delete(doc, &p, &done, &http, err);
}

/* The record's bytes: "<crc> <seq> <length>\n<payload>\n". */
static char *
sl_record_text(uint64_t seq, const char *payload, size_t *len)
{
	size_t plen = strlen(payload), hlen;
	char head[64], *out;

	hlen = (size_t)snprintf(head, sizeof(head), " %" PRIu64 " %zu\n", seq, plen);
	out = malloc(8 + hlen + plen + 1);
	if (out == NULL)
		return NULL;
	memcpy(out + 8, head, hlen);
	memcpy(out + 8 + hlen, payload, plen);
	out[8 + hlen + plen] = '\n';
	*len = 8 + hlen + plen + 1;
	snprintf(head, sizeof(head), "%08" PRIx32, sl_store_crc(out + 8, *len - 8));
	memcpy(out, head, 8);
	return out;
}

static char *
sl_record_payload(const char *op, const char *id, const cJSON *value)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;

	if (o != NULL && cJSON_AddStringToObject(o, "op", op) != NULL &&
	    cJSON_AddStringToObject(o, "id", id) != NULL &&
	    (value == NULL || cJSON_AddItemReferenceToObject(o, "value", (cJSON *)value)))
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static int
sl_write_record(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
sl_store_append(struct sl_store *s, const char *op, const char *id, const cJSON *value,
		struct sl_error *err)
{
	char path[SL_STORE_PATH_MAX], *payload, *rec;
	struct sl_res_path p;
	const char *step = "write";
	size_t len;
	int rc;

	rc = sl_check_record(op, id, value, &p, err);
	if (rc != 0)
		return rc;
	sl_store_path(s, SL_STORE_JOURNAL, s->gen, path, sizeof(path));
	if (s->refused || s->jfd < 0)
		return sl_store_write_fail(err, path, -EIO, "the journal was not cut back after "
					   "an earlier failure; a new generation is needed");
	payload = sl_record_payload(op, id, value);
	rec = payload != NULL ? sl_record_text(s->seq + 1, payload, &len) : NULL;
	cJSON_free(payload);
	if (rec == NULL)
		return sl_store_write_fail(err, path, -ENOMEM, "serialise");
	rc = sl_write_record(s->jfd, rec, len);
	free(rec);
	if (rc == 0 && fdatasync(s->jfd) != 0) {
		rc = -errno;
		step = "fdatasync";
	}
	if (rc != 0) {
		/* nothing of it may stay: a later record would follow a broken one */
		if (ftruncate(s->jfd, (off_t)s->journal_end) != 0 || fdatasync(s->jfd) != 0)
			s->refused = true;
		return sl_store_write_fail(err, path, rc, step);
	}
	s->seq++;
	s->records++;
	s->journal_bytes += len;
	s->journal_end += len;
	return 0;
}

bool
sl_store_checkpoint_due(const struct sl_store *s)
{
	uint64_t at = s->gen_bytes > SL_STORE_JOURNAL_MIN_DUE ? s->gen_bytes
							     : SL_STORE_JOURNAL_MIN_DUE;

	return s->refused || s->damaged || (s->records > 0 && s->journal_bytes >= at);
}

uint64_t
sl_store_journal_bytes(const struct sl_store *s)
{
	return s->journal_bytes;
}

bool
sl_store_appends_refused(const struct sl_store *s)
{
	return s->refused;
}

cJSON *
sl_store_status(const struct sl_store *s)
{
	cJSON *o = cJSON_CreateObject(), *rec;

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "formatVersion", SL_STORE_VERSION);
	cJSON_AddNumberToObject(o, "generation", (double)s->gen);
	cJSON_AddNumberToObject(o, "generationBytes", (double)s->gen_bytes);
	cJSON_AddNumberToObject(o, "sequence", (double)s->seq);
	cJSON_AddNumberToObject(o, "journalRecords", (double)s->records);
	cJSON_AddNumberToObject(o, "journalBytes", (double)s->journal_bytes);
	cJSON_AddBoolToObject(o, "checkpointDue", sl_store_checkpoint_due(s));
	cJSON_AddBoolToObject(o, "appendsRefused", s->refused);
	rec = cJSON_Duplicate(s->recovery, 1);
	if (rec == NULL || !cJSON_AddItemToObject(o, "recovery", rec)) {
		cJSON_Delete(rec);
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

void
sl_store_close(struct sl_store *s)
{
	if (s == NULL)
		return;
	if (s->jfd >= 0)
		close(s->jfd);
	cJSON_Delete(s->recovery);
	free(s->dir);
	free(s);
}
