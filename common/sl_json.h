/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_json.h: reading JSON files (the configuration and the port profiles),
 * with errors that say where.
 *
 * Besides reading and parsing, a kit of typed readers for object members.
 * A struct sl_where is an object being read: the error to fill, the target
 * (the resource the values belong to), the object's JSON path. Each reader
 * takes a key, looks the member up case-insensitively (cJSON_GetObjectItem,
 * as ARM matches property names) and treats JSON null as absent. Readers
 * return 1 when the member is present and read, 0 when it is absent (the
 * output untouched; a required member absent is an error instead), or a
 * negative errno with the error filled: MissingRequiredProperty for a
 * required member absent, InvalidRequestFormat for a value of the wrong type
 * or shape and PropertyValueOutOfRange for a number out of range (or
 * where->value_code for both, when set), each with the member's JSON path.
 */
#ifndef SL_JSON_H
#define SL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sl_error.h"
#include "sl_types.h"

#define SL_JSON_PATH_MAX 256   /* a JSON path ("$.a[1].b") and the NUL */
#define SL_JSON_TARGET_MAX 256 /* an error target ("loadBalancers/lb/probes/p") and the NUL */

/*
 * Read a whole regular file of at most max bytes. Returns the text (malloc'd,
 * NUL-terminated) and its length in *len, or NULL with errno set and *err
 * filled: code `unreadable_code`, target and file = path, the reason.
 */
char *sl_file_read(const char *path, size_t max, size_t *len, const char *unreadable_code,
		   struct sl_error *err);

/*
 * Replace the file at path with len bytes of data, atomically: write
 * "<path>.tmp" (created with `mode`, e.g. 0600), fsync it, rename it
 * over path, fsync the directory, so a crash leaves the old file or the new
 * one, never a mix. Returns 0, or a negative errno with *step set to the
 * step that failed ("open", "write", "rename", "open directory", "fsync
 * directory"; step may be NULL); the temporary file is removed on failure.
 */
int sl_file_write_atomic(const char *path, const char *data, size_t len, unsigned int mode,
			 const char **step);

/*
 * Parse len bytes of JSON text (one value, whitespace after it allowed).
 * Strings must escape control characters, as JSON says (cJSON alone takes
 * them raw), and may not hold \u0000 (a C string would end there). Returns
 * the tree, or NULL with *err filled: code InvalidJson, target, and a
 * message with line, column and byte offset.
 */
cJSON *sl_json_parse(const char *text, size_t len, const char *target, struct sl_error *err);

/* A JSON object being read: where errors point and whom they blame. */
struct sl_where {
	struct sl_error *err;
	const char *target;     /* resource the values belong to */
	const char *path;       /* JSON path of obj */
	const cJSON *obj;       /* the object, or NULL when absent (every member absent) */
	const char *value_code; /* code of malformed values; NULL: the codes above */
};

/* "<parent>.<key>" into buf (SL_JSON_PATH_MAX bytes). */
void sl_json_path_key(char *buf, const char *parent, const char *key);

/* "<parent>[<i>]" into buf (SL_JSON_PATH_MAX bytes). */
void sl_json_path_index(char *buf, const char *parent, uint32_t i);

/*
 * "<parent>/<coll>/<name>" into buf (SL_JSON_TARGET_MAX bytes); parent and
 * name may be NULL and are then left out. Long names are cut: a target only
 * points a person at the resource.
 */
void sl_json_target_join(char *buf, const char *parent, const char *coll, const char *name);

/* "a string", "a number", ... for messages. */
const char *sl_json_type_name(const cJSON *v);

/* Fill *err with OutOfMemory (target, path); returns -ENOMEM. */
int sl_json_nomem(struct sl_error *err, const char *target, const char *path);

/*
 * ARM's error object {"code", "message", "target"[, "jsonPath"]}, jsonPath
 * left out when json_path is NULL or "" (a new object).
 */
cJSON *sl_json_arm_error(const char *code, const char *message, const char *target,
			 const char *json_path);

/* Member key of obj when obj is an object that holds it; NULL for absent, JSON null or no object. */
const cJSON *sl_json_member(const cJSON *obj, const char *key);

/* sl_json_member() when it is a string (its text) or an array; NULL otherwise. */
const char *sl_json_member_string(const cJSON *obj, const char *key);
const cJSON *sl_json_member_array(const cJSON *obj, const char *key);

/*
 * The smallest index in [0, n) whose element (at base + i * stride) equals
 * an earlier one by cmp (a qsort() comparator); -1 when all differ; -ENOMEM.
 */
int64_t sl_first_repeat(const void *base, size_t stride, uint32_t n,
			int (*cmp)(const void *a, const void *b));

/*
 * The smallest index in [0, n) whose name (a string at base + i * stride,
 * so an array of structs whose first member is the name) repeats an earlier
 * one's, case-insensitively; -1 when all differ; -ENOMEM.
 */
int64_t sl_json_first_dup_name(const void *base, size_t stride, uint32_t n);

/*
 * v must be an object that holds no member name twice (case-insensitively).
 * Returns 0, or -EINVAL (InvalidRequestFormat at path, or at the repeated
 * member) or -ENOMEM with *err filled.
 */
int sl_json_check_object(struct sl_error *err, const cJSON *v, const char *path,
			 const char *target);

/* w's member, NULL when absent or JSON null. */
const cJSON *sl_where_member(const struct sl_where *w, const char *key);

/* Fill w's error: MissingRequiredProperty for key. Returns -EINVAL. */
int sl_where_missing(const struct sl_where *w, const char *key);

/* Fill w's error: key's value v is not `want` ("an integer"). Returns -EINVAL. */
int sl_where_type_error(const struct sl_where *w, const char *key, const cJSON *v,
			const char *want);

/* Refuse (UnknownProperty at the member's path) a member whose name is not in known[] (NULL-terminated). */
int sl_where_known(const struct sl_where *w, const char *const *known);

/*
 * An object member, checked with sl_json_check_object(). *out becomes the
 * member's where (same error and target; obj NULL when absent), its path
 * written to pathbuf (SL_JSON_PATH_MAX bytes) whether or not it is present.
 */
int sl_where_object(const struct sl_where *w, const char *key, bool required,
		    struct sl_where *out, char *pathbuf);

/* An array member; *out NULL when absent; its path to pathbuf, always. */
int sl_where_array(const struct sl_where *w, const char *key, bool required, const cJSON **out,
		   char *pathbuf);

/* A string member; *out points into the tree. */
int sl_where_string(const struct sl_where *w, const char *key, bool required, const char **out);

/* A boolean member: *out 1 or 0. */
int sl_where_bool(const struct sl_where *w, const char *key, uint8_t *out);

/* An integer member in [min, max]. */
int sl_where_int(const struct sl_where *w, const char *key, bool required, int64_t min,
		 int64_t max, int64_t *out);

/*
 * A string member holding an IPv4 or IPv6 address: *a and *family. A string
 * that is no address is refused with InvalidIPAddress.
 */
int sl_where_ip(const struct sl_where *w, const char *key, bool required, struct sl_ip_addr *a,
		uint8_t *family);

/*
 * The elements of array arr (NULL: none), each parsed into one of n items
 * of item_size bytes. *items receives a zeroed allocation of them (a real
 * one for none) and *n their count before the first is parsed, so the
 * caller frees *items on failure too. parse(ctx, item, i, el, el_path) reads
 * element i; it returns 0 or a negative errno with the error filled. When
 * coll is not NULL the items are named (a name string first in each) and a
 * name repeated in the list (case-insensitively) is refused with
 * DuplicateResourceName, its target "<parent_target>/<coll>/<name>" and its
 * path "<path>[i].name". Returns 0, the parser's error, or -ENOMEM
 * (OutOfMemory, target parent_target or coll).
 */
int sl_json_parse_list(struct sl_error *err, const cJSON *arr, const char *path,
		       const char *parent_target, const char *coll, size_t item_size,
		       void **items, uint32_t *n,
		       int (*parse)(void *ctx, void *item, uint32_t i, const cJSON *el,
				    const char *el_path),
		       void *ctx);

#endif /* SL_JSON_H */
