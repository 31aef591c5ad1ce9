/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_state.h: the committed desired-state document on disk.
 *
 * --state-dir DIR keeps DIR/state.json: one header line
 *   "sluice-state 1 <length> <crc32c hex>\n"
 * then exactly <length> bytes of JSON. A save writes DIR/state.json.tmp,
 * fsyncs it, renames it over state.json and fsyncs DIR, so a crash leaves
 * either the old file or the new one. A load checks the header, the length
 * and the CRC32-C before the JSON is parsed: a torn or corrupt file is
 * refused whole, never half-applied.
 */
#ifndef SL_STATE_H
#define SL_STATE_H

#include <cjson/cJSON.h>

#include "sl_error.h"

/* Save doc atomically into dir/state.json. Returns 0 or a negative errno with *err (StateWriteFailed). */
int sl_state_save(const char *dir, const cJSON *doc, struct sl_error *err);

/*
 * Load dir/state.json into *doc. Returns 0 with *doc (NULL when there is no
 * state file yet), or a negative errno with *err: StateFileCorrupt (bad
 * header, length, checksum or JSON) or StateFileUnreadable.
 */
int sl_state_load(const char *dir, cJSON **doc, struct sl_error *err);

#endif /* SL_STATE_H */
