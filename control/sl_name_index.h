/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_name_index.h: a case-insensitive index of names (ARM's names and ids
 * compare so): a hash table from a name to the values added under it, in
 * the order they were added. What makes a lookup by name constant time
 * where a walk of a list with strcasecmp() would be linear: the document's
 * resources (sl_resource.h's struct sl_doc_index), the ids a deployment
 * lists (sl_deploy.h).
 *
 * Names are compared with strcasecmp() and hashed folded with tolower(),
 * so two names are one key exactly when strcasecmp() says they are equal.
 * Each entry keeps a copy of its name. Not thread-safe.
 */
#ifndef SL_NAME_INDEX_H
#define SL_NAME_INDEX_H

#include <stdbool.h>
#include <stdint.h>

struct sl_name_entry {
	struct sl_name_entry *next; /* in its bucket, in the order added */
	void *value;                /* the caller's; may be changed in place */
	uint32_t hash;
	char name[];
};

struct sl_name_bucket {
	struct sl_name_entry *head, *tail;
};

struct sl_name_index {
	struct sl_name_bucket *buckets; /* NULL until the first entry */
	uint32_t mask;                  /* buckets - 1 (a power of two) */
	uint32_t n;                     /* entries */
};

/* An empty index (or zero the struct: the same). */
void sl_name_index_init(struct sl_name_index *ix);

/* Free every entry, and each value with free_value unless that is NULL; the index is empty again. */
void sl_name_index_fini(struct sl_name_index *ix, void (*free_value)(void *));

/* Add value under name, after every entry of that name. The entry, or NULL (out of memory). */
struct sl_name_entry *sl_name_index_add(struct sl_name_index *ix, const char *name, void *value);

/* The first entry of name (case-insensitively), or NULL. */
struct sl_name_entry *sl_name_index_first(const struct sl_name_index *ix, const char *name);

/* The entry of e's name added after e, or NULL. */
struct sl_name_entry *sl_name_index_next(const struct sl_name_entry *e);

/* Is name in ix? */
bool sl_name_index_has(const struct sl_name_index *ix, const char *name);

/* Add name unless it is there: 1 when added, 0 when it was there, -ENOMEM. */
int sl_name_index_add_once(struct sl_name_index *ix, const char *name);

#endif /* SL_NAME_INDEX_H */
