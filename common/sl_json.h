/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_json.h: reading JSON files for the control plane (the configuration
 * and the port profiles), with errors that say where.
 */
#ifndef SL_JSON_H
#define SL_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "sl_error.h"

/*
 * Read a whole regular file of at most max bytes. Returns the text (malloc'd,
 * NUL-terminated) and its length in *len, or NULL with errno set and *err
 * filled: code `unreadable_code`, target and file = path, the reason.
 */
char *sl_file_read(const char *path, size_t max, size_t *len, const char *unreadable_code,
		   struct sl_error *err);

/*
 * Parse len bytes of JSON text (one value, whitespace after it allowed).
 * Returns the tree, or NULL with *err filled: code InvalidJson, target, and a
 * message with line, column and byte offset.
 */
cJSON *sl_json_parse(const char *text, size_t len, const char *target, struct sl_error *err);

#endif /* SL_JSON_H */
