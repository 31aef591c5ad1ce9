/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_store.c: the desired state on disk (sl_store): generations and
 * journals written, replayed and pruned; every kind of damage -- a
 * generation truncated, flipped, empty, of a newer version, with a bad
 * header; a journal torn, flipped mid-way, out of sequence, holding a
 * record that does not apply, with a bad header -- recovered from the
 * newest good generation, or refused when none is good; the format-1
 * state.json read as the oldest generation. And the controller's use of it:
 * a generation per whole commit, records for changes made in place, the
 * journal folded when idle, at its hard cap and at a clean stop.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_controller.h"
#include "sl_log.h"
#include "sl_resource.h"
#include "sl_store.h"

#define ARM "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network"
#define LB1 ARM "/loadBalancers/lb1"

/* CRC32-C bit by bit: the files' checksum, computed apart from the library's. */
static uint32_t
crc32c(const char *data, size_t len)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= (uint8_t)data[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ ((crc & 1) ? 0x82f63b78u : 0);
	}
	return crc ^ 0xffffffffu;
}

/* What the store logged at ERR or worse since the last look. */
static char logged_err[8192];

static void
log_sink(int level, const char *module, const char *text, void *ctx)
{
	(void)ctx;
	assert_string_equal(module, "state");
	if (level <= SL_LOG_ERR)
		snprintf(logged_err + strlen(logged_err), sizeof(logged_err) - strlen(logged_err),
			 "%s", text);
}

/* The ERR lines logged since the last call (and forget them). */
static void
assert_logged_err(const char *what)
{
	if (what == NULL ? logged_err[0] != '\0' : strstr(logged_err, what) == NULL)
		fail_msg("ERR log '%s', expected %s%s", logged_err, what ? "" : "none",
			 what ? what : "");
	logged_err[0] = '\0';
}

static char *
tmpdir(void)
{
	char *d = strdup("/tmp/sl-test-store-XXXXXX");
	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void
rm_dir(char *d)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

/* dir/name, in one of four static buffers: copy it to keep it longer. */
static const char *
in(const char *dir, const char *name)
{
	static char buf[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

static bool
exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static char *
read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static void
write_all(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* Names in dir starting with prefix. */
static int
count_files(const char *dir, const char *prefix)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static struct sl_store *
open_ok(const char *dir, cJSON **doc)
{
	struct sl_store *s = NULL;
	struct sl_error err;
	int rc = sl_store_open(dir, &s, doc, &err);

	if (rc != 0)
		fail_msg("sl_store_open: %s: %s", err.code, err.message);
	assert_non_null(*doc);
	return s;
}

/* A status member (a path of keys: "recovery", "cut", "reason"). */
static const cJSON *
status_at(cJSON *st, const char *a, const char *b, const char *c)
{
	const cJSON *v = cJSON_GetObjectItem(st, a);
	if (b != NULL)
		v = cJSON_GetObjectItem(v, b);
	if (c != NULL)
		v = cJSON_GetObjectItem(v, c);
	assert_non_null(v);
	return v;
}

static double
status_num(struct sl_store *s, const char *a, const char *b, const char *c)
{
	cJSON *st = sl_store_status(s);
	double v = cJSON_GetNumberValue(status_at(st, a, b, c));
	cJSON_Delete(st);
	return v;
}

static bool
status_damaged(struct sl_store *s)
{
	cJSON *st = sl_store_status(s);
	bool v = cJSON_IsTrue(status_at(st, "recovery", "damaged", NULL));
	cJSON_Delete(st);
	return v;
}

/* A change as the controller's fast path makes it: edit doc, then journal the stored result. */
static void
change(struct sl_store *s, cJSON *doc, const char *id, const char *body_text)
{
	struct sl_res_path p;
	struct sl_error err;
	bool done;
	int http;

	assert_int_equal(sl_res_path_parse(id, &p, &err), 0);
	if (body_text != NULL) {
		cJSON *body = cJSON_Parse(body_text);
		assert_non_null(body);
		assert_int_equal(sl_doc_put(doc, &p, body, &done, &http, &err), 0);
		cJSON_Delete(body);
		assert_int_equal(sl_store_append(s, "put", id, sl_doc_find(doc, &p), &err), 0);
	} else {
		assert_int_equal(sl_doc_delete(doc, &p, &done, &http, &err), 0);
		assert_true(done);
		assert_int_equal(sl_store_append(s, "delete", id, NULL, &err), 0);
	}
}

static const struct {
	const char *id;
	const char *body; /* NULL: delete */
} changes[] = {
	{ARM "/virtualNetworks/v", "{\"properties\":{\"addressSpace\":{\"addressPrefixes\":"
	 "[\"10.0.0.0/16\"]},\"subnets\":[{\"name\":\"s\",\"properties\":{\"addressPrefix\":"
	 "\"10.0.0.0/24\"}}]}}"},
	{LB1, "{\"sku\":{\"name\":\"Standard\"},\"properties\":{\"provisioningState\":\"x\","
	 "\"backendAddressPools\":[]}}"},
	{LB1 "/backendAddressPools/p1", "{\"properties\":{\"loadBalancerBackendAddresses\":["
	 "{\"name\":\"a1\",\"properties\":{\"ipAddress\":\"10.0.0.4\"}}]}}"},
	{LB1 "/backendAddressPools/p2", "{\"name\":\"p2\",\"properties\":{"
	 "\"loadBalancerBackendAddresses\":[{\"name\":\"a2\",\"properties\":{\"ipAddress\":"
	 "\"10.0.0.5\"}}]}}"},
	{LB1 "/backendAddressPools/p1", NULL},
	{ARM "/networkInterfaces/n1", "{\"properties\":{\"ipConfigurations\":[{\"name\":\"c1\","
	 "\"properties\":{\"privateIPAllocationMethod\":\"Dynamic\",\"privateIPAddress\":"
	 "\"10.0.0.9\"}}]}}"},
};
#define N_CHANGES (sizeof(changes) / sizeof(changes[0]))

/*
 * A directory with generation 1 (empty, written at open) and a journal of
 * every change; states[i] is the document after the first i changes.
 */
struct scenario {
	char *dir;
	cJSON *states[N_CHANGES + 1];
	size_t rec_end[N_CHANGES + 1]; /* journal-1's size after i records */
};

static void
scenario_make(struct scenario *sc)
{
	struct sl_store *s;
	cJSON *doc;
	size_t len;

	memset(sc, 0, sizeof(*sc));
	sc->dir = tmpdir();
	s = open_ok(sc->dir, &doc);
	sc->states[0] = cJSON_Duplicate(doc, 1);
	free(read_all(in(sc->dir, "journal-0000000001"), &sc->rec_end[0]));
	for (size_t i = 0; i < N_CHANGES; i++) {
		change(s, doc, changes[i].id, changes[i].body);
		sc->states[i + 1] = cJSON_Duplicate(doc, 1);
		free(read_all(in(sc->dir, "journal-0000000001"), &len));
		sc->rec_end[i + 1] = len;
	}
	cJSON_Delete(doc);
	sl_store_close(s);
}

static void
scenario_free(struct scenario *sc)
{
	for (size_t i = 0; i <= N_CHANGES; i++)
		cJSON_Delete(sc->states[i]);
	rm_dir(sc->dir);
}

static void
assert_doc(const cJSON *got, const cJSON *want)
{
	if (!cJSON_Compare(got, want, 1)) {
		char *a = cJSON_Print(got), *b = cJSON_Print(want);
		fail_msg("document differs:\n%s\nexpected:\n%s", a, b);
	}
}

/* A new directory: generation 1 (empty) and its journal; records replayed whole. */
static void
test_round_trip(void **state)
{
	struct scenario sc;
	struct sl_store *s;
	cJSON *doc;

	(void)state;
	scenario_make(&sc);
	assert_true(exists(in(sc.dir, "generation-0000000001")));
	s = open_ok(sc.dir, &doc);
	assert_doc(doc, sc.states[N_CHANGES]);
	assert_false(status_damaged(s));
	assert_int_equal(status_num(s, "generation", NULL, NULL), 1);
	assert_int_equal(status_num(s, "sequence", NULL, NULL), N_CHANGES);
	assert_int_equal(status_num(s, "journalRecords", NULL, NULL), N_CHANGES);
	assert_int_equal(status_num(s, "recovery", "replayedRecords", NULL), N_CHANGES);
	assert_false(sl_store_checkpoint_due(s));

	/* a checkpoint, then more changes on top; and the journal goes on after a restart */
	struct sl_error err;
	assert_int_equal(sl_store_checkpoint(s, doc, &err), 0);
	assert_int_equal(status_num(s, "generation", NULL, NULL), 2);
	assert_int_equal(status_num(s, "journalRecords", NULL, NULL), 0);
	change(s, doc, LB1 "/backendAddressPools/p3", "{\"properties\":{}}");
	sl_store_close(s);
	cJSON *want = doc;
	s = open_ok(sc.dir, &doc);
	assert_doc(doc, want);
	assert_int_equal(status_num(s, "sequence", NULL, NULL), N_CHANGES + 1);
	change(s, doc, LB1 "/backendAddressPools/p3", NULL);
	sl_store_close(s);
	cJSON_Delete(want);
	want = doc;
	s = open_ok(sc.dir, &doc);
	assert_doc(doc, want);
	assert_doc(doc, sc.states[N_CHANGES]);
	assert_false(status_damaged(s));
	sl_store_close(s);
	cJSON_Delete(want);
	cJSON_Delete(doc);
	scenario_free(&sc);
}

/* The file format as sl_store.h describes it, checked byte for byte. */
static void
test_format(void **state)
{
	struct scenario sc;
	char *text, word[32];
	size_t len, hlen;
	unsigned int v;
	uint64_t n, seq;
	size_t body;
	uint32_t crc;
	int used = 0;

	(void)state;
	scenario_make(&sc);
	text = read_all(in(sc.dir, "generation-0000000001"), &len);
	assert_int_equal(sscanf(text, "%31s %u %" SCNu64 " %" SCNu64 " %zu %" SCNx32 "\n%n", word,
				&v, &n, &seq, &body, &crc, &used), 6);
	assert_string_equal(word, "sluice-generation");
	assert_int_equal(v, 2);
	assert_int_equal(n, 1);
	assert_int_equal(seq, 0);
	assert_int_equal(body, len - (size_t)used);
	assert_int_equal(crc, crc32c(text + used, body));
	free(text);

	text = read_all(in(sc.dir, "journal-0000000001"), &len);
	assert_int_equal(sscanf(text, "%31s %u %" SCNu64 " %" SCNu64 "\n%n", word, &v, &n, &seq,
				&used), 4);
	assert_string_equal(word, "sluice-journal");
	assert_int_equal(n, 1);
	hlen = (size_t)used;
	assert_int_equal(hlen, sc.rec_end[0]);
	for (size_t i = 0; i < N_CHANGES; i++) {
		const char *r = text + sc.rec_end[i];
		uint64_t rseq, plen;
		assert_int_equal(sscanf(r, "%8" SCNx32 " %" SCNu64 " %" SCNu64 "\n%n", &crc, &rseq,
					&plen, &used), 3);
		assert_int_equal(rseq, i + 1);
		assert_int_equal(sc.rec_end[i] + (size_t)used + plen + 1, sc.rec_end[i + 1]);
		assert_int_equal(crc, crc32c(r + 8, (size_t)used - 8 + plen + 1));
		cJSON *rec = cJSON_ParseWithLength(r + used, plen);
		assert_non_null(rec);
		assert_string_equal(cJSON_GetObjectItem(rec, "op")->valuestring,
				    changes[i].body ? "put" : "delete");
		assert_string_equal(cJSON_GetObjectItem(rec, "id")->valuestring, changes[i].id);
		assert_true(changes[i].body ? cJSON_IsObject(cJSON_GetObjectItem(rec, "value"))
					    : cJSON_GetObjectItem(rec, "value") == NULL);
		cJSON_Delete(rec);
	}
	free(text);
	scenario_free(&sc);
}

/* Open after the journal was cut at every byte: the last whole record, never a failure. */
static void
test_journal_every_truncation(void **state)
{
	struct scenario sc;
	char jpath[512];
	size_t len, after;
	char *good;

	(void)state;
	scenario_make(&sc);
	snprintf(jpath, sizeof(jpath), "%s", in(sc.dir, "journal-0000000001"));
	good = read_all(jpath, &len);
	for (size_t cut = sc.rec_end[0]; cut <= len; cut++) {
		struct sl_store *s;
		cJSON *doc;
		size_t whole = 0;
		while (whole < N_CHANGES && sc.rec_end[whole + 1] <= cut)
			whole++;
		write_all(jpath, good, cut);
		s = open_ok(sc.dir, &doc);
		assert_doc(doc, sc.states[whole]);
		assert_int_equal(status_num(s, "journalRecords", NULL, NULL), whole);
		/* a torn tail is damage reported, saved aside and cut on disk */
		assert_int_equal(status_damaged(s), cut != sc.rec_end[whole]);
		free(read_all(jpath, &after));
		assert_int_equal(after, sc.rec_end[whole]);
		if (cut != sc.rec_end[whole]) {
			char name[64], *tail;
			size_t tail_len;
			snprintf(name, sizeof(name), "journal-0000000001.cut-%zu", sc.rec_end[whole]);
			tail = read_all(in(sc.dir, name), &tail_len);
			assert_int_equal(tail_len, cut - sc.rec_end[whole]);
			assert_memory_equal(tail, good + sc.rec_end[whole], tail_len);
			free(tail);
			unlink(in(sc.dir, name));
		}
		assert_int_equal(count_files(sc.dir, "journal-0000000001.cut-"), 0);
		/* and the journal goes on from there */
		struct sl_error err;
		assert_int_equal(sl_store_append(s, "delete", ARM "/virtualNetworks/zz", NULL, &err),
				 0);
		sl_store_close(s);
		cJSON_Delete(doc);
		s = open_ok(sc.dir, &doc);
		assert_doc(doc, sc.states[whole]);
		assert_int_equal(status_num(s, "journalRecords", NULL, NULL), whole + 1);
		assert_false(status_damaged(s));
		sl_store_close(s);
		cJSON_Delete(doc);
	}
	free(good);
	scenario_free(&sc);
}

/* Damage mid-journal: replay stops before it, the rest is cut and saved aside. */
static void
check_mid_journal(struct scenario *sc, size_t stop_at, const char *reason)
{
	struct sl_store *s;
	cJSON *doc, *st;
	char name[64];
	size_t len;

	logged_err[0] = '\0';
	s = open_ok(sc->dir, &doc);
	assert_doc(doc, sc->states[stop_at]);
	assert_true(status_damaged(s));
	assert_true(sl_store_checkpoint_due(s));
	assert_non_null(strstr(logged_err, "journal-0000000001: "));
	assert_logged_err("DAMAGE FOUND");
	st = sl_store_status(s);
	const cJSON *cut = status_at(st, "recovery", "cut", NULL);
	assert_non_null(strstr(cJSON_GetObjectItem(cut, "reason")->valuestring, reason));
	assert_int_equal(cJSON_GetObjectItem(cut, "offset")->valuedouble, sc->rec_end[stop_at]);
	snprintf(name, sizeof(name), "journal-0000000001.cut-%zu", sc->rec_end[stop_at]);
	assert_string_equal(cJSON_GetObjectItem(cut, "savedAs")->valuestring, name);
	assert_true(exists(in(sc->dir, name)));
	cJSON_Delete(st);
	free(read_all(in(sc->dir, "journal-0000000001"), &len));
	assert_int_equal(len, sc->rec_end[stop_at]);
	sl_store_close(s);
	cJSON_Delete(doc);
}

static void
test_journal_flipped_byte(void **state)
{
	struct scenario sc;
	const char *jpath;
	size_t len;
	char *text;

	(void)state;
	scenario_make(&sc);
	jpath = in(sc.dir, "journal-0000000001");
	text = read_all(jpath, &len);
	/* in the third record's JSON */
	text[(sc.rec_end[2] + sc.rec_end[3]) / 2] ^= 0x04;
	write_all(jpath, text, len);
	check_mid_journal(&sc, 2, "checksum mismatch");
	/* the records after it are counted as lost */
	cJSON *doc;
	struct sl_store *s = open_ok(sc.dir, &doc);
	assert_false(status_damaged(s)); /* cut once, then clean */
	sl_store_close(s);
	cJSON_Delete(doc);
	free(text);
	scenario_free(&sc);

	/* a flipped byte in a record header */
	scenario_make(&sc);
	text = read_all(jpath = in(sc.dir, "journal-0000000001"), &len);
	text[sc.rec_end[1] + 2] ^= 0x01;
	write_all(jpath, text, len);
	check_mid_journal(&sc, 1, "");
	free(text);
	scenario_free(&sc);
}

/* A record repeated (its sequence number out of order). */
static void
test_journal_out_of_sequence(void **state)
{
	struct scenario sc;
	const char *jpath;
	size_t len;
	char *text, *twice;

	(void)state;
	scenario_make(&sc);
	jpath = in(sc.dir, "journal-0000000001");
	text = read_all(jpath, &len);
	/* records 1, 2, 2 again, 3... */
	size_t r2 = sc.rec_end[2] - sc.rec_end[1];
	twice = malloc(len + r2);
	memcpy(twice, text, sc.rec_end[2]);
	memcpy(twice + sc.rec_end[2], text + sc.rec_end[1], r2);
	memcpy(twice + sc.rec_end[2] + r2, text + sc.rec_end[2], len - sc.rec_end[2]);
	write_all(jpath, twice, len + r2);
	check_mid_journal(&sc, 2, "sequence number 2 where 3 was expected");
	free(twice);
	free(text);
	scenario_free(&sc);
}

/* A record whose change does not apply ends the replay there. */
static void
test_journal_record_does_not_apply(void **state)
{
	struct scenario sc;
	struct sl_store *s;
	struct sl_error err;
	cJSON *doc, *value = cJSON_Parse("{\"name\":\"orphan\",\"properties\":{}}");

	(void)state;
	scenario_make(&sc);
	s = open_ok(sc.dir, &doc);
	/* well formed, checksummed: a pool of a load balancer that does not exist */
	assert_int_equal(sl_store_append(s, "put", ARM "/loadBalancers/nolb/backendAddressPools/"
					 "orphan", value, &err), 0);
	change(s, doc, LB1 "/backendAddressPools/p9", "{\"properties\":{}}");
	sl_store_close(s);
	cJSON_Delete(doc);
	check_mid_journal(&sc, N_CHANGES, "ParentResourceNotFound");
	/* a record refused on its way in never reaches the journal */
	s = open_ok(sc.dir, &doc);
	assert_int_equal(sl_store_append(s, "patch", LB1, value, &err), -EINVAL);
	assert_int_equal(sl_store_append(s, "put", LB1, NULL, &err), -EINVAL);
	assert_int_equal(sl_store_append(s, "delete", ARM "/loadBalancers", NULL, &err), -EINVAL);
	assert_int_equal(sl_store_append(s, "put", "/nowhere", value, &err), -EINVAL);
	assert_int_equal(status_num(s, "journalRecords", NULL, NULL), N_CHANGES);
	sl_store_close(s);
	cJSON_Delete(doc);
	cJSON_Delete(value);
	scenario_free(&sc);

	/* refused half-way (a new child collection made, then the body refused): no trace */
	scenario_make(&sc);
	s = open_ok(sc.dir, &doc);
	value = cJSON_Parse("{\"properties\":5}");
	assert_int_equal(sl_store_append(s, "put", LB1 "/probes/x", value, &err), 0);
	sl_store_close(s);
	cJSON_Delete(doc);
	check_mid_journal(&sc, N_CHANGES, "InvalidRequestFormat");
	cJSON_Delete(value);
	scenario_free(&sc);
}

/* A journal whose header is damaged: set aside whole; the generation alone. */
static void
test_journal_bad_header(void **state)
{
	struct scenario sc;
	struct sl_store *s;
	char jpath[512];
	cJSON *doc;
	size_t len;
	char *text;

	(void)state;
	scenario_make(&sc);
	snprintf(jpath, sizeof(jpath), "%s", in(sc.dir, "journal-0000000001"));
	text = read_all(jpath, &len);
	text[17] = '7'; /* "sluice-journal 2 7 0" */
	write_all(jpath, text, len);
	s = open_ok(sc.dir, &doc);
	assert_doc(doc, sc.states[0]);
	assert_true(status_damaged(s));
	assert_true(exists(in(sc.dir, "journal-0000000001.damaged-bad-header")));
	free(text);
	text = read_all(jpath, &len);
	assert_int_equal(len, sc.rec_end[0]); /* a new, empty journal */
	sl_store_close(s);
	cJSON_Delete(doc);
	free(text);
	/* no journal at all (a crash right after a generation was written): not damage */
	unlink(jpath);
	s = open_ok(sc.dir, &doc);
	assert_doc(doc, sc.states[0]);
	assert_false(status_damaged(s));
	assert_true(exists(jpath));
	sl_store_close(s);
	cJSON_Delete(doc);
	scenario_free(&sc);
}

/*
 * Generation 2 is written after the whole journal of 1: when 2 does not
 * load, 1 and its journal give the same document.
 */
static void
two_generations(struct scenario *sc, char **gen2, size_t *len)
{
	struct sl_store *s;
	struct sl_error err;
	cJSON *doc;

	scenario_make(sc);
	s = open_ok(sc->dir, &doc);
	assert_int_equal(sl_store_checkpoint(s, doc, &err), 0);
	sl_store_close(s);
	cJSON_Delete(doc);
	*gen2 = read_all(in(sc->dir, "generation-0000000002"), len);
}

static void
check_fallback(struct scenario *sc, const char *slug, const char *reason)
{
	char renamed[64];
	struct sl_store *s;
	cJSON *doc, *st;

	logged_err[0] = '\0';
	s = open_ok(sc->dir, &doc);
	assert_doc(doc, sc->states[N_CHANGES]);
	assert_true(status_damaged(s));
	assert_true(sl_store_checkpoint_due(s));
	assert_int_equal(status_num(s, "generation", NULL, NULL), 1);
	assert_non_null(strstr(logged_err, "generation-0000000002 does not load ("));
	assert_logged_err("DAMAGE FOUND");
	st = sl_store_status(s);
	assert_string_equal(status_at(st, "recovery", "loaded", NULL)->valuestring,
			    "generation-0000000001");
	const cJSON *sk = cJSON_GetArrayItem(status_at(st, "recovery", "skipped", NULL), 0);
	assert_non_null(sk);
	assert_string_equal(cJSON_GetObjectItem(sk, "file")->valuestring, "generation-0000000002");
	if (strstr(cJSON_GetObjectItem(sk, "reason")->valuestring, reason) == NULL)
		fail_msg("reason '%s', expected '%s'",
			 cJSON_GetObjectItem(sk, "reason")->valuestring, reason);
	snprintf(renamed, sizeof(renamed), "generation-0000000002.damaged-%s", slug);
	assert_string_equal(cJSON_GetObjectItem(sk, "renamedTo")->valuestring, renamed);
	assert_string_equal(cJSON_GetObjectItem(sk, "journalRenamedTo")->valuestring,
			    "journal-0000000002.damaged-generation");
	cJSON_Delete(st);
	/* set aside, never deleted; the start goes on from generation 1's journal */
	assert_true(exists(in(sc->dir, renamed)));
	assert_false(exists(in(sc->dir, "generation-0000000002")));
	struct sl_error err;
	change(s, doc, LB1 "/backendAddressPools/p7", "{\"properties\":{}}");
	/* the next generation's number is past the damaged one's */
	assert_int_equal(sl_store_checkpoint(s, doc, &err), 0);
	assert_int_equal(status_num(s, "generation", NULL, NULL), 3);
	assert_false(sl_store_checkpoint_due(s));
	sl_store_close(s);
	cJSON *want = doc;
	s = open_ok(sc->dir, &doc);
	assert_doc(doc, want);
	assert_false(status_damaged(s));
	assert_logged_err(NULL);
	sl_store_close(s);
	cJSON_Delete(doc);
	cJSON_Delete(want);
}

static void
test_generation_damage(void **state)
{
	static const struct {
		const char *how, *slug, *reason;
	} cases[] = {
		{"flip-json", "bad-checksum", "checksum mismatch"},
		{"truncate", "bad-length", "where the header says"},
		{"truncate-header", "bad-header", "no header line"},
		{"empty", "empty", "empty"},
		{"newer", "newer-version", "format version 3, newer"},
		{"older", "bad-header", "format version 1 where 2"},
		{"magic", "bad-header", "not \"sluice-generation"},
		{"number", "bad-header", "names generation 7"},
		{"not-json", "bad-json", "does not parse"},
		{"extra", "bad-length", "where the header says"},
	};

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct scenario sc;
		char *gen2, buf[256];
		const char *how = cases[k].how, *path;
		size_t len, nl;

		two_generations(&sc, &gen2, &len);
		path = in(sc.dir, "generation-0000000002");
		nl = (size_t)(strchr(gen2, '\n') - gen2);
		if (strcmp(how, "flip-json") == 0) {
			gen2[nl + (len - nl) / 2] ^= 0x01;
			write_all(path, gen2, len);
		} else if (strcmp(how, "truncate") == 0) {
			write_all(path, gen2, nl + 1 + (len - nl) / 2);
		} else if (strcmp(how, "truncate-header") == 0) {
			write_all(path, gen2, nl / 2);
		} else if (strcmp(how, "empty") == 0) {
			write_all(path, "", 0);
		} else if (strcmp(how, "newer") == 0 || strcmp(how, "older") == 0) {
			gen2[18] = how[0] == 'n' ? '3' : '1'; /* "sluice-generation 2" */
			write_all(path, gen2, len);
		} else if (strcmp(how, "magic") == 0) {
			gen2[0] = 'S';
			write_all(path, gen2, len);
		} else if (strcmp(how, "number") == 0) {
			/* a generation file under another number's name */
			char *p = strstr(gen2, " 2 2 ");
			assert_non_null(p);
			p[3] = '7';
			write_all(path, gen2, len);
		} else if (strcmp(how, "not-json") == 0) {
			int n = snprintf(buf, sizeof(buf), "sluice-generation 2 2 6 6 %08x\n{not j",
					 crc32c("{not j", 6));
			write_all(path, buf, (size_t)n);
		} else {
			FILE *f = fopen(path, "ab");
			fputs("\n", f);
			fclose(f);
		}
		check_fallback(&sc, cases[k].slug, cases[k].reason);
		free(gen2);
		scenario_free(&sc);
	}
}

/* No generation loads: refused, nothing renamed; and format-1 state.json alone. */
static void
test_all_bad_refused(void **state)
{
	struct scenario sc;
	struct sl_store *s;
	struct sl_error err;
	cJSON *doc;
	char *gen2;
	size_t len;

	(void)state;
	two_generations(&sc, &gen2, &len);
	write_all(in(sc.dir, "generation-0000000002"), "", 0);
	write_all(in(sc.dir, "generation-0000000001"), gen2, len / 2);
	s = (struct sl_store *)1;
	doc = (cJSON *)1;
	assert_int_equal(sl_store_open(sc.dir, &s, &doc, &err), -EBADMSG);
	assert_null(s);
	assert_null(doc);
	assert_string_equal(err.code, "StateFileCorrupt");
	assert_string_equal(err.file, in(sc.dir, "generation-0000000002"));
	assert_non_null(strstr(err.message, "generation-0000000002: the file is empty"));
	assert_non_null(strstr(err.message, "generation-0000000001: "));
	assert_true(exists(in(sc.dir, "generation-0000000002")));
	assert_true(exists(in(sc.dir, "generation-0000000001")));
	assert_true(exists(in(sc.dir, "journal-0000000001")));
	assert_int_equal(count_files(sc.dir, "generation-"), 2);
	/* refused again the next time: nothing was changed */
	assert_int_equal(sl_store_open(sc.dir, &s, &doc, &err), -EBADMSG);
	/* a good state.json under them is the oldest generation */
	char body[] = "{\"virtualNetworks\":[],\"networkInterfaces\":[],\"loadBalancers\":[]}";
	char v1[256];
	int n = snprintf(v1, sizeof(v1), "sluice-state 1 %zu %08x\n%s", strlen(body),
			 crc32c(body, strlen(body)), body);
	write_all(in(sc.dir, "state.json"), v1, (size_t)n);
	s = open_ok(sc.dir, &doc);
	assert_true(status_damaged(s));
	assert_int_equal(count_files(sc.dir, "generation-000000000"), 3); /* 2 set aside, 1 new */
	assert_true(exists(in(sc.dir, "generation-0000000003")));
	sl_store_close(s);
	cJSON_Delete(doc);
	free(gen2);
	scenario_free(&sc);
}

static void
write_v1(const char *dir, const char *body, const char *version)
{
	char v1[1024];
	int n = snprintf(v1, sizeof(v1), "sluice-state %s %zu %08x\n%s", version, strlen(body),
			 crc32c(body, strlen(body)), body);
	write_all(in(dir, "state.json"), v1, (size_t)n);
}

/* A host upgraded in place: state.json is generation 0, kept until three newer ones. */
static void
test_format1_upgrade(void **state)
{
	const char *body = "{\"virtualNetworks\":[{\"name\":\"old\",\"properties\":{"
			   "\"addressSpace\":{\"addressPrefixes\":[\"10.1.0.0/16\"]}}}],"
			   "\"networkInterfaces\":[],\"loadBalancers\":[]}";
	char *dir = tmpdir();
	struct sl_store *s;
	struct sl_error err;
	cJSON *doc, *want = cJSON_Parse(body);

	(void)state;
	write_v1(dir, body, "1");
	s = open_ok(dir, &doc);
	assert_doc(doc, want);
	assert_false(status_damaged(s));
	assert_false(sl_store_checkpoint_due(s));
	assert_int_equal(status_num(s, "generation", NULL, NULL), 1);
	cJSON *st = sl_store_status(s);
	assert_string_equal(status_at(st, "recovery", "loaded", NULL)->valuestring, "state.json");
	cJSON_Delete(st);
	/* written at once: the journal needs a generation to follow */
	assert_true(exists(in(dir, "generation-0000000001")));
	assert_true(exists(in(dir, "state.json")));
	change(s, doc, ARM "/virtualNetworks/new", "{\"properties\":{}}");
	assert_int_equal(sl_store_checkpoint(s, doc, &err), 0);
	assert_true(exists(in(dir, "state.json")));
	assert_int_equal(sl_store_checkpoint(s, doc, &err), 0);
	/* generations 1, 2, 3 known good: state.json goes */
	assert_false(exists(in(dir, "state.json")));
	sl_store_close(s);
	cJSON *after = doc;
	s = open_ok(dir, &doc);
	assert_doc(doc, after);
	sl_store_close(s);
	cJSON_Delete(doc);
	cJSON_Delete(after);
	rm_dir(dir);

	/* state.json alone and damaged, or from a newer version: refused */
	static const char *const bad[] = {"flip", "9", "empty", "garbage"};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		dir = tmpdir();
		if (strcmp(bad[k], "flip") == 0) {
			write_v1(dir, body, "1");
			size_t len;
			char *t = read_all(in(dir, "state.json"), &len);
			t[len - 10] ^= 0x01;
			write_all(in(dir, "state.json"), t, len);
			free(t);
		} else if (strcmp(bad[k], "9") == 0) {
			write_v1(dir, body, "9");
		} else if (strcmp(bad[k], "empty") == 0) {
			write_all(in(dir, "state.json"), "", 0);
		} else {
			write_all(in(dir, "state.json"), body, strlen(body));
		}
		assert_int_equal(sl_store_open(dir, &s, &doc, &err), -EBADMSG);
		assert_string_equal(err.code, "StateFileCorrupt");
		assert_string_equal(err.file, in(dir, "state.json"));
		if (strcmp(bad[k], "9") == 0)
			assert_non_null(strstr(err.message, "format version 9, newer"));
		assert_int_equal(count_files(dir, ""), 3); /* ".", "..", state.json */
		rm_dir(dir);
	}
	cJSON_Delete(want);
}

/* Three generations kept (and their journals); damaged files never deleted. */
static void
test_pruning(void **state)
{
	struct scenario sc;
	struct sl_store *s;
	struct sl_error err;
	cJSON *doc;

	(void)state;
	scenario_make(&sc);
	write_all(in(sc.dir, "generation-0000000000.damaged-empty"), "", 0);
	s = open_ok(sc.dir, &doc);
	for (int i = 0; i < 6; i++) {
		change(s, doc, LB1 "/backendAddressPools/p1", "{\"properties\":{}}");
		assert_int_equal(sl_store_checkpoint(s, doc, &err), 0);
		int gens = i + 2 < SL_STORE_KEEP ? i + 2 : SL_STORE_KEEP;
		assert_int_equal(count_files(sc.dir, "generation-000000000") - 1, gens);
		assert_int_equal(count_files(sc.dir, "journal-"), gens);
	}
	assert_true(exists(in(sc.dir, "generation-0000000007")));
	assert_true(exists(in(sc.dir, "generation-0000000005")));
	assert_false(exists(in(sc.dir, "generation-0000000004")));
	assert_false(exists(in(sc.dir, "journal-0000000004")));
	assert_true(exists(in(sc.dir, "generation-0000000000.damaged-empty")));
	sl_store_close(s);
	cJSON *want = doc;
	s = open_ok(sc.dir, &doc);
	assert_doc(doc, want);
	sl_store_close(s);
	cJSON_Delete(doc);
	cJSON_Delete(want);
	scenario_free(&sc);
}

/* A pool of 4000 addresses (some 260 KB) as a PUT body. */
static char *
big_pool(void)
{
	char *big = malloc(400000);
	size_t n = 0;

	assert_non_null(big);
	n += (size_t)sprintf(big, "{\"properties\":{\"loadBalancerBackendAddresses\":[");
	for (int i = 0; i < 4000; i++)
		n += (size_t)sprintf(big + n, "%s{\"name\":\"address-%d\",\"properties\":{"
				     "\"ipAddress\":\"10.%d.%d.%d\"}}", i ? "," : "", i, i >> 16,
				     (i >> 8) & 255, i & 255);
	sprintf(big + n, "]}}");
	return big;
}

/* A checkpoint is due once the journal is as large as the generation (and 1 MiB). */
static void
test_checkpoint_due(void **state)
{
	struct scenario sc;
	struct sl_store *s;
	struct sl_error err;
	char *big = big_pool(), id[256];
	cJSON *doc;
	int appends = 0, more = 0;

	(void)state;
	scenario_make(&sc);
	s = open_ok(sc.dir, &doc);
	while (!sl_store_checkpoint_due(s)) {
		snprintf(id, sizeof(id), LB1 "/backendAddressPools/big%d", appends++ % 5);
		change(s, doc, id, big);
	}
	assert_true(sl_store_journal_bytes(s) >= SL_STORE_JOURNAL_MIN_DUE);
	assert_true(appends >= 4 && appends <= 5);
	while (appends < 5) {
		snprintf(id, sizeof(id), LB1 "/backendAddressPools/big%d", appends++);
		change(s, doc, id, big);
	}
	assert_int_equal(sl_store_checkpoint(s, doc, &err), 0);
	assert_false(sl_store_checkpoint_due(s));
	/* the generation (five such pools) is over 1 MiB: due once the journal is as large */
	assert_true(status_num(s, "generationBytes", NULL, NULL) > SL_STORE_JOURNAL_MIN_DUE);
	while (!sl_store_checkpoint_due(s)) {
		change(s, doc, LB1 "/backendAddressPools/big0", big);
		more++;
	}
	assert_true((double)sl_store_journal_bytes(s) >=
		    status_num(s, "generationBytes", NULL, NULL));
	assert_true(more >= 5);
	sl_store_close(s);
	cJSON *want = doc;
	s = open_ok(sc.dir, &doc);
	assert_doc(doc, want);
	sl_store_close(s);
	cJSON_Delete(want);
	cJSON_Delete(doc);
	free(big);
	scenario_free(&sc);
}

static void *
fake_prepare(void *ctx, const struct sl_model *m, const struct sl_model_delta *delta,
	     struct sl_error *err)
{
	(void)m;
	(void)delta;
	(void)err;
	return ctx;
}

static void
fake_publish(void *ctx, void *prepared)
{
	(void)ctx;
	(void)prepared;
}

/* A change made in place on the controller's document, then persisted as a record. */
static void
controller_change(struct sl_controller *c, const char *id, const char *body_text)
{
	struct sl_res_path p;
	struct sl_error err;
	cJSON *body = cJSON_Parse(body_text);
	bool done;
	int http;

	assert_int_equal(sl_res_path_parse(id, &p, &err), 0);
	assert_int_equal(sl_doc_put(c->doc, &p, body, &done, &http, &err), 0);
	cJSON_Delete(body);
	assert_int_equal(sl_controller_persist_record(c, "put", id, sl_doc_find(c->doc, &p), &err),
			 0);
}

static double
controller_num(struct sl_controller *c, const char *key)
{
	cJSON *st = sl_controller_state_status(c);
	double v;

	assert_non_null(st);
	v = cJSON_GetNumberValue(cJSON_GetObjectItem(st, key));
	cJSON_Delete(st);
	return v;
}

static void
test_controller(void **state)
{
	static int prepared;
	const struct sl_apply_ops ops = {fake_prepare, fake_publish, &prepared};
	struct sl_controller c;
	struct sl_error err;
	char *dir = tmpdir(), *big = big_pool(), id[256];
	cJSON *doc, *want;
	struct sl_store *s;

	(void)state;
	/* a new directory: generation 1 (empty) at open, 2 from the first commit */
	assert_int_equal(sl_controller_init(&c, dir, NULL, &ops, &err), 0);
	assert_int_equal(controller_num(&c, "generation"), 2);
	/* a whole commit: a generation */
	cJSON *copy = sl_controller_begin(&c);
	cJSON *lb = cJSON_Parse("{\"properties\":{}}");
	struct sl_res_path p;
	bool done;
	int http;
	assert_int_equal(sl_res_path_parse(LB1, &p, &err), 0);
	assert_int_equal(sl_doc_put(copy, &p, lb, &done, &http, &err), 0);
	cJSON_Delete(lb);
	assert_int_equal(sl_controller_commit(&c, copy, 0, &err), 0);
	assert_int_equal(controller_num(&c, "generation"), 3);
	/* changes in place: records */
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), LB1 "/backendAddressPools/big%d", i);
		controller_change(&c, id, big);
	}
	assert_int_equal(controller_num(&c, "generation"), 3);
	assert_int_equal(controller_num(&c, "journalRecords"), 5);
	/* due, but changes came within the second: not yet */
	assert_true(sl_store_checkpoint_due(c.store));
	sl_controller_idle(&c);
	assert_int_equal(controller_num(&c, "journalRecords"), 5);
	c.last_change_us -= 2e6;
	sl_controller_idle(&c);
	assert_int_equal(controller_num(&c, "generation"), 4);
	assert_int_equal(controller_num(&c, "journalRecords"), 0);
	/* not due: idle writes nothing */
	controller_change(&c, LB1 "/backendAddressPools/small", "{\"properties\":{}}");
	c.last_change_us -= 2e6;
	sl_controller_idle(&c);
	assert_int_equal(controller_num(&c, "journalRecords"), 1);
	/* the hard cap (64 MiB; 3 MiB here): a change past it writes a generation instead */
	assert_int_equal(c.journal_cap, 64u << 20);
	c.journal_cap = 3u << 20;
	double gen = controller_num(&c, "generation");
	int n = 0;
	while (controller_num(&c, "generation") == gen) {
		assert_true(n++ < 40);
		controller_change(&c, LB1 "/backendAddressPools/big0", big);
	}
	assert_true(n * strlen(big) >= 3u << 20);
	assert_int_equal(controller_num(&c, "journalRecords"), 0);
	controller_change(&c, LB1 "/backendAddressPools/small", "{\"properties\":{}}");
	assert_int_equal(controller_num(&c, "journalRecords"), 1);
	/* a clean stop folds the journal */
	gen = controller_num(&c, "generation");
	want = cJSON_Duplicate(c.doc, 1);
	sl_controller_fini(&c);
	s = open_ok(dir, &doc);
	assert_doc(doc, want);
	assert_int_equal(status_num(s, "generation", NULL, NULL), gen + 1);
	assert_int_equal(status_num(s, "recovery", "replayedRecords", NULL), 0);
	sl_store_close(s);
	cJSON_Delete(doc);
	cJSON_Delete(want);
	free(big);
	rm_dir(dir);
}

int
main(void)
{
	sl_log_set_sink(log_sink, NULL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_journal_every_truncation),
		cmocka_unit_test(test_journal_flipped_byte),
		cmocka_unit_test(test_journal_out_of_sequence),
		cmocka_unit_test(test_journal_record_does_not_apply),
		cmocka_unit_test(test_journal_bad_header),
		cmocka_unit_test(test_generation_damage),
		cmocka_unit_test(test_all_bad_refused),
		cmocka_unit_test(test_format1_upgrade),
		cmocka_unit_test(test_pruning),
		cmocka_unit_test(test_checkpoint_due),
		cmocka_unit_test(test_controller),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
