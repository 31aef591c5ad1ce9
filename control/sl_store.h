/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_store.h: the committed desired-state document on disk -- numbered
 * generations, each followed by a journal of changes.
 *
 * --state-dir DIR holds (N a generation number, ten or more decimal digits):
 *
 *   generation-N   one whole document:
 *                    "sluice-generation 2 <N> <seq> <length> <crc>\n"
 *                  then exactly <length> bytes of JSON; <crc> is the
 *                  CRC32-C of that JSON (8 hex digits), <seq> the sequence
 *                  number of the last journal record it holds (records
 *                  are numbered on across generations). Written as
 *                  generation-N.tmp, fsync'd, renamed, DIR fsync'd.
 *   journal-N      the changes made since generation-N, append-only:
 *                    "sluice-journal 2 <N> <seq>\n"   (<seq>: generation-N's)
 *                  then records, each
 *                    "<crc> <seq> <length>\n" <length> bytes of JSON "\n"
 *                  <crc> (8 hex digits) is the CRC32-C of everything after
 *                  it: " <seq> <length>\n", the JSON and the final "\n".
 *                  Sequence numbers follow on from the generation's, one
 *                  a record. The JSON is {"op":"put","id":"<ARM id>",
 *                  "value":{...the stored resource...}} or {"op":"delete",
 *                  "id":"<ARM id>"}. A record is durable once
 *                  sl_store_append() returns (write, fdatasync).
 *   state.json     format 1 (one header line "sluice-state 1 <length>
 *                  <crc>\n" and the JSON), what earlier versions wrote:
 *                  read as generation 0, without a journal, never written.
 *
 * Start (sl_store_open): the newest generation that loads, then its
 * journal replayed record by record (sl_res_path_parse + sl_doc_put or
 * sl_doc_delete) up to the last valid one. A generation that does not load
 * (empty, bad header, a newer format version, wrong length, checksum,
 * JSON) is renamed aside, "generation-N.damaged-<reason>" (its journal
 * "journal-N.damaged-generation"), and the next older one tried; nothing
 * is ever deleted for being damaged. The journal's tail from the first
 * record that is torn, corrupt, out of sequence or does not apply is cut:
 * reported, saved as "journal-N.cut-<offset>" and truncated away. A
 * journal whose header is damaged (or that cannot be read) is renamed
 * "journal-N.damaged-<reason>" and none of it applied. When files exist
 * and no generation loads, nothing is renamed and the start is refused
 * (StateFileCorrupt). With no format-2 generation (a new DIR, or
 * state.json alone), one is written at once.
 *
 * A checkpoint writes generation N+1 (then its empty journal); once three
 * newer generations are known good, older generations and their journals
 * (state.json included) are deleted. Control thread only.
 */
#ifndef SL_STORE_H
#define SL_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sl_error.h"

#define SL_STORE_VERSION 2
/* Generations kept: the newest ones known to load. */
#define SL_STORE_KEEP 3
/* A checkpoint is due once the journal is as large as the generation, and at least this. */
#define SL_STORE_JOURNAL_MIN_DUE (1u << 20)

struct sl_store;

/*
 * Open DIR (which exists) and recover its document into *doc (a new
 * document when DIR holds none). Returns 0 with *out and *doc, or a
 * negative errno with *err: StateFileCorrupt (files exist and none loads:
 * nothing changed on disk), StateFileUnreadable, StateWriteFailed (the
 * first generation or a journal could not be written), OutOfMemory.
 * What recovery found is in sl_store_status()'s "recovery".
 */
int sl_store_open(const char *dir, struct sl_store **out, cJSON **doc, struct sl_error *err);

/*
 * Append one change and make it durable: op "put" with value (the
 * resource as stored in the document after the change) or "delete"
 * (value NULL) of the resource id names. Returns 0, or a negative errno
 * with *err: StateWriteFailed (nothing of the record stays in the journal;
 * should the journal not even be cut back, appends are refused until the
 * next checkpoint), InvalidRequestFormat (op, id or value not as above).
 */
int sl_store_append(struct sl_store *s, const char *op, const char *id, const cJSON *value,
		    struct sl_error *err);

/*
 * Write doc (the committed document: the current generation with every
 * record applied, or a whole new one) as the next generation with an empty
 * journal, then prune. Returns 0 or a negative errno with *err
 * (StateWriteFailed; the store goes on appending to the journal it had).
 */
int sl_store_checkpoint(struct sl_store *s, const cJSON *doc, struct sl_error *err);

/*
 * True when a checkpoint would pay: the journal holds at least
 * max(the generation's size, SL_STORE_JOURNAL_MIN_DUE) bytes, or recovery
 * found damage, or appends are refused.
 */
bool sl_store_checkpoint_due(const struct sl_store *s);

/* Journal bytes since the current generation (records only). */
uint64_t sl_store_journal_bytes(const struct sl_store *s);

/* True when appends are refused until the next checkpoint (see sl_store_append). */
bool sl_store_appends_refused(const struct sl_store *s);

/*
 * A new JSON object: "formatVersion", "generation", "generationBytes",
 * "sequence" (the last journal record's), "journalRecords", "journalBytes",
 * "checkpointDue", "appendsRefused", "recovery" {"damaged", "loaded" (the
 * file started from, "" for none), "replayedRecords", "skipped" [{"file",
 * "reason", "renamedTo"}], "cut" (null, or {"file", "offset", "bytes",
 * "reason", "savedAs"})}. NULL on ENOMEM.
 */
cJSON *sl_store_status(const struct sl_store *s);

/* Apply one record's change to doc, as replay does. Returns 0 or a negative errno with *err. */
int sl_store_apply(cJSON *doc, const char *op, const char *id, const cJSON *value,
		   struct sl_error *err);

/* Close the journal and free s (NULL accepted); writes nothing. */
void sl_store_close(struct sl_store *s);

#endif /* SL_STORE_H */
