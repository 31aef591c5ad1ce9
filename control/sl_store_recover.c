/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_store_recover.c: the start of the state store -- choose the newest
 * generation that loads, set the damaged ones aside, replay the journal
 * and cut its damaged tail (see sl_store.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_json.h"
#include "sl_log.h"
#include "sl_resource.h"
#include "sl_store_internal.h"

#define SL_LOG_MODULE "state"
#define SL_HEADER_MAX 200 /* a generation's or journal's header line */
#define SL_RECORD_HEADER_MAX 64

/* Why a file does not load: a word for its new name and a sentence. */
struct sl_why {
	char slug[32];
	char text[320];
};

static void __attribute__((format(printf, 3, 4)))
sl_why(struct sl_why *w, const char *slug, const char *fmt, ...)
{
	va_list ap;

	snprintf(w->slug, sizeof(w->slug), "%s", slug);
	va_start(ap, fmt);
	vsnprintf(w->text, sizeof(w->text), fmt, ap);
	va_end(ap);
}

/* A generation's parts once its header line is read. */
struct sl_gen {
	uint64_t n;
	uint64_t seq;
	const char *body;
	size_t body_len;
	uint32_t crc;
};

/* The header line: magic, version, then the format's fields. Returns 0 or -1 with *w. */
static int
sl_parse_gen_header(const char *text, size_t len, bool legacy, struct sl_gen *g,
		    struct sl_why *w)
{
	const char *magic = legacy ? SL_STORE_LEGACY_MAGIC : SL_STORE_GEN_MAGIC;
	unsigned int version, want = legacy ? SL_STORE_LEGACY_VERSION : SL_STORE_VERSION;
	const char *nl = memchr(text, '\n', len < SL_HEADER_MAX ? len : SL_HEADER_MAX);
	char word[24];
	int used = 0, more = 0, got;

	if (len == 0)
		return sl_why(w, "empty", "the file is empty"), -1;
	if (nl == NULL)
		return sl_why(w, "bad-header", "no header line"), -1;
	if (sscanf(text, "%23s %u%n", word, &version, &used) != 2 || text + used > nl ||
	    strcmp(word, magic) != 0)
		return sl_why(w, "bad-header", "the header line is not \"%s ...\"", magic), -1;
	if (version > want)
		return sl_why(w, "newer-version", "format version %u, newer than this sluiced's %u",
			      version, want), -1;
	if (version != want)
		return sl_why(w, "bad-header", "format version %u where %u is expected", version,
			      want), -1;
	if (legacy)
		got = sscanf(text + used, " %zu %" SCNx32 "%n", &g->body_len, &g->crc, &more) - 2;
	else
		got = sscanf(text + used, " %" SCNu64 " %" SCNu64 " %zu %" SCNx32 "%n", &g->n,
			     &g->seq, &g->body_len, &g->crc, &more) - 4;
	if (got != 0 || text + used + more != nl)
		return sl_why(w, "bad-header", "the header line does not parse"), -1;
	g->body = nl + 1;
	return 0;
}

/* The document of a generation file's text, or NULL with *w. */
static cJSON *
sl_parse_generation(const char *text, size_t len, bool legacy, uint64_t n, struct sl_gen *g,
		    struct sl_why *w)
{
	struct sl_error e;
	size_t have;
	cJSON *doc;

	memset(g, 0, sizeof(*g));
	if (sl_parse_gen_header(text, len, legacy, g, w) != 0)
		return NULL;
	if (!legacy && g->n != n) {
		sl_why(w, "bad-header", "the header names generation %" PRIu64, g->n);
		return NULL;
	}
	have = len - (size_t)(g->body - text);
	if (have != g->body_len) {
		sl_why(w, "bad-length", "%zu bytes of JSON where the header says %zu", have,
		       g->body_len);
		return NULL;
	}
	if (sl_store_crc(g->body, g->body_len) != g->crc) {
		sl_why(w, "bad-checksum", "checksum mismatch");
		return NULL;
	}
	doc = sl_json_parse(g->body, g->body_len, "state", &e);
	if (doc == NULL || !cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		sl_why(w, "bad-json", "the JSON does not parse as an object");
	}
	return doc;
}

/*
 * Read a file at start. Returns the text, or NULL: *damaged set (the file
 * is too large or the disk cannot read it: damage, *w says) or not (*err:
 * refuse, the file may be fine).
 */
static char *
sl_read(const char *path, size_t *len, bool *damaged, struct sl_why *w, struct sl_error *err)
{
	struct sl_error e;
	char *text = sl_file_read(path, SL_STORE_MAX_BYTES, len, "StateFileUnreadable", &e);
	int errnum = errno;

	*damaged = false;
	if (text != NULL)
		return text;
	if (errnum == EFBIG || errnum == EIO) {
		*damaged = true;
		*len = 0;
		sl_why(w, errnum == EIO ? "unreadable" : "too-large", "%s", e.message);
	} else if (err != NULL) {
		*err = e;
	}
	errno = errnum;
	return NULL;
}

/* The names DIR holds: generations (newest first), state.json, the largest number. */
struct sl_scan {
	uint64_t *gens;
	size_t n_gens;
	bool legacy;
	uint64_t max;
};

static int
sl_cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int
sl_scan(const char *dir, struct sl_scan *sc, struct sl_error *err)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	size_t cap = 0;

	memset(sc, 0, sizeof(*sc));
	if (d == NULL) {
		int rc = -errno;
		sl_error_set(err, "StateFileUnreadable", dir, "",
			     "Cannot read the state directory '%s': %s.", dir, strerror(errno));
		return rc;
	}
	while ((e = readdir(d)) != NULL) {
		int64_t g = sl_store_name_number(e->d_name, SL_STORE_GENERATION, false);
		int64_t j = sl_store_name_number(e->d_name, SL_STORE_JOURNAL, false);
		if (g > (int64_t)sc->max || j > (int64_t)sc->max)
			sc->max = (uint64_t)(g > j ? g : j);
		sc->legacy |= strcmp(e->d_name, SL_STORE_LEGACY) == 0;
		if (sl_store_name_number(e->d_name, SL_STORE_GENERATION, true) < 0)
			continue;
		if (sc->n_gens == cap) {
			uint64_t *ng = realloc(sc->gens, sizeof(*ng) * (cap = cap * 2 + 8));
			if (ng == NULL) {
				closedir(d);
				return sl_error_set(err, "OutOfMemory", dir, "", "Out of memory."),
				       -ENOMEM;
			}
			sc->gens = ng;
		}
		sc->gens[sc->n_gens++] = (uint64_t)g;
	}
	closedir(d);
	if (sc->n_gens > 1) /* qsort() of NULL, even of 0 items, is undefined */
		qsort(sc->gens, sc->n_gens, sizeof(sc->gens[0]), sl_cmp_desc);
	return 0;
}

static cJSON *
sl_recovery_new(void)
{
	cJSON *r = cJSON_CreateObject();

	if (r == NULL || cJSON_AddFalseToObject(r, "damaged") == NULL ||
	    cJSON_AddStringToObject(r, "loaded", "") == NULL ||
	    cJSON_AddNumberToObject(r, "replayedRecords", 0) == NULL ||
	    cJSON_AddArrayToObject(r, "skipped") == NULL || cJSON_AddNullToObject(r, "cut") == NULL) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

static void
sl_recovery_set(struct sl_store *s, const char *key, cJSON *v)
{
	if (v != NULL)
		cJSON_ReplaceItemInObject(s->recovery, key, v);
}

/* A file that did not load, for the status and (once a start is decided) its new name. */
static void
sl_note_skipped(struct sl_store *s, const char *name, const struct sl_why *w)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "file", name);
	cJSON_AddStringToObject(o, "reason", w->text);
	cJSON_AddStringToObject(o, "slug", w->slug); /* dropped once renamed */
	cJSON_AddItemToArray(cJSON_GetObjectItem(s->recovery, "skipped"), o);
}

/* The loaded generation: state.json when legacy. */
struct sl_choice {
	bool found;
	bool legacy;
	uint64_t n;
	struct sl_gen g;
	char *text; /* the file, which g points into */
	size_t len;
	cJSON *doc;
};

/* Try one generation. Returns 0 (loaded or skipped: c->found says) or a negative errno. */
static int
sl_try(struct sl_store *s, bool legacy, uint64_t n, struct sl_choice *c, struct sl_error *err)
{
	char path[SL_STORE_PATH_MAX];
	struct sl_why w;
	bool damaged;

	if (legacy)
		snprintf(path, sizeof(path), "%s/%s", s->dir, SL_STORE_LEGACY);
	else
		sl_store_path(s, SL_STORE_GENERATION, n, path, sizeof(path));
	c->text = sl_read(path, &c->len, &damaged, &w, err);
	if (c->text == NULL && !damaged)
		return errno == ENOENT ? 0 : -errno;
	if (c->text != NULL)
		c->doc = sl_parse_generation(c->text, c->len, legacy, n, &c->g, &w);
	if (c->doc == NULL) {
		sl_note_skipped(s, strrchr(path, '/') + 1, &w);
		free(c->text);
		c->text = NULL;
		return 0;
	}
	c->found = true;
	c->legacy = legacy;
	c->n = legacy ? 0 : n;
	return 0;
}

/* Nothing loads: StateFileCorrupt naming each file and why. */
static int
sl_refuse(struct sl_store *s, const struct sl_scan *sc, struct sl_error *err)
{
	char list[400] = "", path[SL_STORE_PATH_MAX];
	const cJSON *sk;
	size_t used = 0;

	cJSON_ArrayForEach(sk, cJSON_GetObjectItem(s->recovery, "skipped")) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%s: %s", used ? "; " : "",
				 cJSON_GetObjectItem(sk, "file")->valuestring,
				 cJSON_GetObjectItem(sk, "reason")->valuestring);
		if (n < 0 || (size_t)n >= sizeof(list) - used)
			break;
		used += (size_t)n;
	}
	sl_error_set(err, "StateFileCorrupt", s->dir, "",
		     "No state file in '%s' loads (%s); nothing of them is applied and none was "
		     "moved. Move them away to start from the configuration file alone.",
		     s->dir, list);
	if (sc->n_gens > 0)
		sl_store_path(s, SL_STORE_GENERATION, sc->gens[0], path, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s/%s", s->dir, SL_STORE_LEGACY);
	if (err != NULL)
		snprintf(err->file, sizeof(err->file), "%s", path);
	return -EBADMSG;
}

/* The newest generation that loads, else state.json. Returns 0 or a negative errno. */
static int
sl_choose(struct sl_store *s, const struct sl_scan *sc, struct sl_choice *c,
	  struct sl_error *err)
{
	int rc = 0;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sc->n_gens && !c->found && rc == 0; i++)
		rc = sl_try(s, false, sc->gens[i], c, err);
	if (rc == 0 && !c->found && sc->legacy)
		rc = sl_try(s, true, 0, c, err);
	if (rc == 0 && !c->found && cJSON_GetArraySize(cJSON_GetObjectItem(s->recovery,
									   "skipped")) > 0)
		rc = sl_refuse(s, sc, err);
	return rc;
}

/* Rename dir/name to dir/name<suffix>; the new name, or "" when it could not be. */
static void
sl_set_aside(const struct sl_store *s, const char *name, const char *suffix, char *out,
	     size_t len)
{
	char from[SL_STORE_PATH_MAX], to[SL_STORE_PATH_MAX];

	snprintf(from, sizeof(from), "%s/%s", s->dir, name);
	snprintf(to, sizeof(to), "%s%s", from, suffix);
	out[0] = '\0';
	if (rename(from, to) == 0)
		snprintf(out, len, "%s%s", name, suffix);
}

/* Set the generations that did not load aside (with their journals), and say so. */
static void
sl_set_aside_skipped(struct sl_store *s)
{
	char suffix[64], to[SL_STORE_PATH_MAX], jname[64];
	cJSON *sk;

	cJSON_ArrayForEach(sk, cJSON_GetObjectItem(s->recovery, "skipped")) {
		const char *name = cJSON_GetObjectItem(sk, "file")->valuestring;
		int64_t n = sl_store_name_number(name, SL_STORE_GENERATION, true);

		snprintf(suffix, sizeof(suffix), ".damaged-%s",
			 cJSON_GetObjectItem(sk, "slug")->valuestring);
		sl_set_aside(s, name, suffix, to, sizeof(to));
		cJSON_DeleteItemFromObject(sk, "slug");
		cJSON_AddStringToObject(sk, "renamedTo", to);
		sl_log(SL_LOG_ERR, SL_LOG_MODULE, "%s/%s does not load (%s): %s%s", s->dir, name,
		       cJSON_GetObjectItem(sk, "reason")->valuestring,
		       to[0] ? "renamed aside as " : "could not be renamed aside", to);
		if (n < 0)
			continue;
		snprintf(jname, sizeof(jname), "%s-%010" PRId64, SL_STORE_JOURNAL, n);
		sl_set_aside(s, jname, ".damaged-generation", to, sizeof(to));
		if (to[0] != '\0')
			cJSON_AddStringToObject(sk, "journalRenamedTo", to);
	}
}

/* A journal being replayed onto doc. */
struct sl_replay {
	cJSON *doc;
	const char *path;
	uint64_t seq;     /* the last record applied */
	uint64_t records; /* applied */
	size_t end;       /* just after the last record applied */
	char why[400];
};

static const char *
sl_parse_u64(const char *p, const char *end, int base, uint64_t *v)
{
	char *stop;

	if (p >= end || !((*p >= '0' && *p <= '9') || (base == 16 && ((*p | 0x20) >= 'a' &&
								       (*p | 0x20) <= 'f'))))
		return NULL;
	errno = 0;
	*v = strtoull(p, &stop, base);
	return errno != 0 || stop > end ? NULL : stop;
}

/* The record header at p ("<crc> <seq> <length>\n"): its end, or NULL. */
static const char *
sl_record_header(const char *p, const char *nl, uint32_t *crc, uint64_t *seq, uint64_t *plen)
{
	uint64_t c;
	const char *q = sl_parse_u64(p, nl, 16, &c);

	if (q != p + 8 || *q != ' ' || (q = sl_parse_u64(q + 1, nl, 10, seq)) == NULL ||
	    *q != ' ' || (q = sl_parse_u64(q + 1, nl, 10, plen)) == NULL || q != nl)
		return NULL;
	*crc = (uint32_t)c;
	return nl + 1;
}

static int
sl_stop(struct sl_replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
sl_stop(struct sl_replay *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return 1;
}

/* The record's change applied to r->doc. Returns 0 or 1 (r->why). */
static int
sl_apply_payload(struct sl_replay *r, const char *json, size_t len)
{
	struct sl_error e;
	cJSON *rec = sl_json_parse(json, len, r->path, &e);
	const cJSON *value;
	int rc;

	if (rec == NULL)
		return sl_stop(r, "the record is not JSON");
	value = cJSON_GetObjectItemCaseSensitive(rec, "value");
	rc = sl_store_apply(r->doc, sl_json_member_string(rec, "op"),
			    sl_json_member_string(rec, "id"), cJSON_IsNull(value) ? NULL : value,
			    &e);
	cJSON_Delete(rec);
	if (rc != 0)
		return sl_stop(r, "the record does not apply (%s: %s)", e.code, e.message);
	return 0;
}

/* Replay the record at r->end. Returns 0 (applied) or 1 (stop there: r->why). */
static int
sl_replay_one(const char *text, size_t len, struct sl_replay *r)
{
	const char *p = text + r->end, *nl, *body;
	size_t avail = len - r->end, need;
	uint64_t seq, plen;
	uint32_t crc;

	nl = memchr(p, '\n', avail < SL_RECORD_HEADER_MAX ? avail : SL_RECORD_HEADER_MAX);
	if (nl == NULL)
		return sl_stop(r, avail < SL_RECORD_HEADER_MAX ? "a record header cut short"
							       : "no record header");
	body = sl_record_header(p, nl, &crc, &seq, &plen);
	if (body == NULL)
		return sl_stop(r, "a record header that does not parse");
	if (plen > avail || (size_t)(body - p) + plen + 1 > avail)
		return sl_stop(r, "a record cut short (%zu bytes of %" PRIu64 ")", avail,
			       (uint64_t)(body - p) + plen + 1);
	need = (size_t)(body - p) + plen + 1;
	if (sl_store_crc(p + 8, need - 8) != crc)
		return sl_stop(r, "checksum mismatch");
	if (p[need - 1] != '\n')
		return sl_stop(r, "no newline after the record");
	if (seq != r->seq + 1)
		return sl_stop(r, "sequence number %" PRIu64 " where %" PRIu64
			       " was expected", seq, r->seq + 1);
	if (sl_apply_payload(r, body, plen) != 0)
		return 1;
	r->seq = seq;
	r->records++;
	r->end += need;
	return 0;
}

/* Records (or their remains) from off on, as far as their framing tells. */
static uint64_t
sl_count_tail(const char *text, size_t len, size_t off)
{
	uint64_t n = 0, seq, plen;
	uint32_t crc;

	while (off < len) {
		size_t avail = len - off;
		const char *nl = memchr(text + off, '\n', avail < SL_RECORD_HEADER_MAX
							  ? avail : SL_RECORD_HEADER_MAX);
		const char *body = nl ? sl_record_header(text + off, nl, &crc, &seq, &plen) : NULL;
		n++;
		if (body == NULL || plen >= avail ||
		    (size_t)(body - (text + off)) + plen + 1 > avail)
			break;
		off += (size_t)(body - (text + off)) + plen + 1;
	}
	return n;
}

/* The journal's header: generation n's, with its sequence number. Returns its length or 0 (*w). */
static size_t
sl_journal_header(const char *text, size_t len, uint64_t n, uint64_t seq, struct sl_why *w)
{
	const char *nl = memchr(text, '\n', len < SL_HEADER_MAX ? len : SL_HEADER_MAX);
	unsigned int version;
	uint64_t hn, hseq;
	char word[24];
	int used = 0;

	if (len == 0)
		return sl_why(w, "empty", "the journal is empty"), 0;
	if (nl == NULL || sscanf(text, "%23s %u %" SCNu64 " %" SCNu64 "%n", word, &version, &hn,
				 &hseq, &used) != 4 || text + used != nl ||
	    strcmp(word, SL_STORE_JOURNAL_MAGIC) != 0)
		return sl_why(w, "bad-header", "the journal's header line does not parse"), 0;
	if (version != SL_STORE_VERSION)
		return sl_why(w, "bad-header", "journal format version %u where %d is expected",
			      version, SL_STORE_VERSION), 0;
	if (hn != n || hseq != seq)
		return sl_why(w, "bad-header", "the journal's header names generation %" PRIu64
			      " at sequence %" PRIu64 ", not %" PRIu64 " at %" PRIu64, hn, hseq,
			      n, seq), 0;
	return (size_t)(nl + 1 - text);
}

static void
sl_note_cut(struct sl_store *s, const char *name, size_t off, size_t bytes, uint64_t records,
	    const char *why, const char *saved)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "file", name);
	cJSON_AddNumberToObject(o, "offset", (double)off);
	cJSON_AddNumberToObject(o, "bytes", (double)bytes);
	cJSON_AddNumberToObject(o, "records", (double)records);
	cJSON_AddStringToObject(o, "reason", why);
	cJSON_AddStringToObject(o, "savedAs", saved);
	sl_recovery_set(s, "cut", o);
	s->damaged = true;
	sl_log(SL_LOG_ERR, SL_LOG_MODULE, "%s/%s: %s at byte %zu: the journal is cut there "
	       "(%zu bytes, %" PRIu64 " record(s) by their framing, lost)%s%s", s->dir, name, why,
	       off, bytes, records, saved[0] ? "; the cut bytes are saved as " : "", saved);
}

/* Cut journal `path` at r->end, the tail saved aside first. */
static int
sl_cut(struct sl_store *s, const char *path, const char *text, size_t len,
       const struct sl_replay *r, struct sl_error *err)
{
	char saved[SL_STORE_PATH_MAX] = "", aside[SL_STORE_PATH_MAX];
	const char *name = strrchr(path, '/') + 1;
	int fd;

	snprintf(aside, sizeof(aside), "%s.cut-%zu", path, r->end);
	if (sl_file_write_atomic(aside, text + r->end, len - r->end, 0600, NULL) == 0)
		snprintf(saved, sizeof(saved), "%s", strrchr(aside, '/') + 1);
	sl_note_cut(s, name, r->end, len - r->end, sl_count_tail(text, len, r->end), r->why,
		    saved);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)r->end) != 0 || fsync(fd) != 0) {
		int rc = -errno;
		if (fd >= 0)
			close(fd);
		return sl_store_write_fail(err, path, rc, "truncate");
	}
	close(fd);
	return 0;
}

/* Replay journal-n onto c->doc from its first record; the text is read from path. */
static int
sl_replay_journal(struct sl_store *s, struct sl_choice *c, const char *path, const char *text,
		  size_t len, size_t start, struct sl_error *err)
{
	struct sl_replay r = {.doc = c->doc, .path = path, .seq = c->g.seq, .end = start};
	bool stopped = false;

	while (r.end < len && !(stopped = sl_replay_one(text, len, &r) != 0))
		;
	if (stopped && strncmp(r.why, "the record does not apply", 25) == 0) {
		/* a refused put or delete may have left traces: replay again up to it */
		struct sl_why w;
		struct sl_replay again = {.path = path, .seq = c->g.seq, .end = start};
		cJSON_Delete(c->doc);
		c->doc = again.doc = sl_parse_generation(c->text, c->len, false, c->n, &c->g,
							  &w);
		if (c->doc == NULL)
			return sl_error_set(err, "OutOfMemory", path, "", "Out of memory."), -ENOMEM;
		while (again.end < r.end && sl_replay_one(text, len, &again) == 0)
			;
	}
	if (stopped) {
		int rc = sl_cut(s, path, text, len, &r, err);
		if (rc != 0)
			return rc;
	}
	s->seq = r.seq;
	s->records = r.records;
	s->journal_bytes = r.end - start;
	s->journal_end = r.end;
	cJSON_SetNumberValue(cJSON_GetObjectItem(s->recovery, "replayedRecords"),
			     (double)r.records);
	return 0;
}

/* Open journal-n for appending (after replay and any cut). */
static int
sl_reopen_journal(struct sl_store *s, const char *path, struct sl_error *err)
{
	s->jfd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (s->jfd < 0)
		return sl_store_write_fail(err, path, -errno, "open");
	return 0;
}

/* The chosen generation's journal: replayed, cut, or set aside; then appended to. */
static int
sl_recover_journal(struct sl_store *s, struct sl_choice *c, struct sl_error *err)
{
	char path[SL_STORE_PATH_MAX], to[SL_STORE_PATH_MAX];
	const char *name;
	struct sl_why w;
	size_t len, start;
	bool damaged;
	char *text;
	int rc;

	s->seq = c->g.seq;
	sl_store_path(s, SL_STORE_JOURNAL, c->n, path, sizeof(path));
	name = strrchr(path, '/') + 1;
	text = sl_read(path, &len, &damaged, &w, err);
	if (text == NULL && !damaged)
		return errno == ENOENT ? sl_store_start_journal(s, c->n, c->g.seq, err) : -errno;
	start = text != NULL ? sl_journal_header(text, len, c->n, c->g.seq, &w) : 0;
	if (start == 0) {
		char suffix[48];
		snprintf(suffix, sizeof(suffix), ".damaged-%s", w.slug);
		sl_set_aside(s, name, suffix, to, sizeof(to));
		sl_note_cut(s, name, 0, len, text != NULL ? sl_count_tail(text, len, 0) : 0, w.text,
			    to);
		free(text);
		return sl_store_start_journal(s, c->n, c->g.seq, err);
	}
	rc = sl_replay_journal(s, c, path, text, len, start, err);
	free(text);
	return rc != 0 ? rc : sl_reopen_journal(s, path, err);
}

static struct sl_store *
sl_store_new(const char *dir)
{
	struct sl_store *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->jfd = -1;
	s->dir = strdup(dir);
	s->recovery = sl_recovery_new();
	if (s->dir == NULL || s->recovery == NULL) {
		sl_store_close(s);
		return NULL;
	}
	return s;
}

/* Start from what was chosen (or nothing): replay, or write the first format-2 generation. */
static int
sl_start(struct sl_store *s, struct sl_choice *c, struct sl_error *err)
{
	char name[64];
	int rc;

	if (c->found && c->legacy)
		snprintf(name, sizeof(name), "%s", SL_STORE_LEGACY);
	else if (c->found)
		snprintf(name, sizeof(name), "%s-%010" PRIu64, SL_STORE_GENERATION, c->n);
	else
		name[0] = '\0';
	sl_recovery_set(s, "loaded", cJSON_CreateString(name));
	if (c->found && !c->legacy) {
		s->gen = c->n;
		s->gen_bytes = c->g.body_len;
		sl_store_note_good(s, c->n);
		return sl_recover_journal(s, c, err);
	}
	if (!c->found)
		c->doc = sl_doc_new();
	if (c->doc == NULL)
		return sl_error_set(err, "OutOfMemory", s->dir, "", "Out of memory."), -ENOMEM;
	if (c->found)
		sl_store_note_good(s, 0);
	rc = sl_store_checkpoint(s, c->doc, err);
	return rc;
}

static void
sl_log_start(const struct sl_store *s, bool damaged)
{
	const cJSON *r = s->recovery;
	const char *loaded = cJSON_GetObjectItem(r, "loaded")->valuestring;

	sl_log(damaged ? SL_LOG_ERR : SL_LOG_NOTICE, SL_LOG_MODULE,
	       "%s: restored %s%s and %d journal record(s), sequence %" PRIu64 "%s", s->dir,
	       loaded[0] ? loaded : "nothing (a new state directory)",
	       cJSON_GetArraySize(cJSON_GetObjectItem(r, "skipped")) > 0
	       ? " (the newer generations do not load)" : "",
	       (int)cJSON_GetObjectItem(r, "replayedRecords")->valuedouble, s->seq,
	       damaged ? "; DAMAGE FOUND: see GET /sluice/status \"state\".\"recovery\"" : "");
}

int
sl_store_open(const char *dir, struct sl_store **out, cJSON **doc, struct sl_error *err)
{
	struct sl_store *s = sl_store_new(dir);
	struct sl_choice c = {0};
	struct sl_scan sc;
	bool damaged;
	int rc;

	*out = NULL;
	*doc = NULL;
	if (s == NULL)
		return sl_error_set(err, "OutOfMemory", dir, "", "Out of memory."), -ENOMEM;
	rc = sl_scan(dir, &sc, err);
	if (rc == 0) {
		s->next_gen = sc.max + 1;
		rc = sl_choose(s, &sc, &c, err);
	}
	free(sc.gens);
	if (rc == 0) {
		sl_set_aside_skipped(s);
		rc = sl_start(s, &c, err);
	}
	free(c.text);
	if (rc != 0) {
		cJSON_Delete(c.doc);
		sl_store_close(s);
		return rc;
	}
	damaged = cJSON_GetArraySize(cJSON_GetObjectItem(s->recovery, "skipped")) > 0 ||
		  !cJSON_IsNull(cJSON_GetObjectItem(s->recovery, "cut"));
	/* until the next checkpoint: a new generation from what was recovered is due */
	s->damaged = damaged && c.found && !c.legacy;
	sl_recovery_set(s, "damaged", cJSON_CreateBool(damaged));
	sl_log_start(s, damaged);
	*out = s;
	*doc = c.doc;
	return 0;
}
