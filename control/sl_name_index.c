/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_name_index.c: the case-insensitive name index (see sl_name_index.h):
 * chained buckets that keep their entries in the order added, doubled when
 * the entries outnumber them.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sl_name_index.h"

#define SL_NAME_INDEX_MIN_BUCKETS 16u

/* FNV-1a over the text folded as strcasecmp() folds it. */
static uint32_t
sl_name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)tolower((unsigned char)*s)) * 16777619u;
	return h;
}

void
sl_name_index_init(struct sl_name_index *ix)
{
	memset(ix, 0, sizeof(*ix));
}

void
sl_name_index_fini(struct sl_name_index *ix, void (*free_value)(void *))
{
	for (uint32_t b = 0; ix->buckets != NULL && b <= ix->mask; b++) {
		struct sl_name_entry *e = ix->buckets[b].head, *next;
		for (; e != NULL; e = next) {
			next = e->next;
			if (free_value != NULL)
				free_value(e->value);
			free(e);
		}
	}
	free(ix->buckets);
	memset(ix, 0, sizeof(*ix));
}

static void
sl_bucket_append(struct sl_name_bucket *b, struct sl_name_entry *e)
{
	e->next = NULL;
	if (b->tail != NULL)
		b->tail->next = e;
	else
		b->head = e;
	b->tail = e;
}

/* Twice the buckets (16 at first); entries keep their order within a bucket. -ENOMEM. */
static int
sl_name_index_grow(struct sl_name_index *ix)
{
	uint32_t n = ix->buckets == NULL ? SL_NAME_INDEX_MIN_BUCKETS : 2 * (ix->mask + 1);
	struct sl_name_bucket *nb = calloc(n, sizeof(*nb));

	if (nb == NULL)
		return -ENOMEM;
	for (uint32_t b = 0; ix->buckets != NULL && b <= ix->mask; b++) {
		struct sl_name_entry *e = ix->buckets[b].head, *next;
		for (; e != NULL; e = next) {
			next = e->next;
			sl_bucket_append(&nb[e->hash & (n - 1)], e);
		}
	}
	free(ix->buckets);
	ix->buckets = nb;
	ix->mask = n - 1;
	return 0;
}

struct sl_name_entry *
sl_name_index_add(struct sl_name_index *ix, const char *name, void *value)
{
	size_t len = strlen(name);
	struct sl_name_entry *e;

	if ((ix->buckets == NULL || ix->n > ix->mask) && sl_name_index_grow(ix) != 0)
		return NULL;
	e = malloc(sizeof(*e) + len + 1);
	if (e == NULL)
		return NULL;
	memcpy(e->name, name, len + 1);
	e->value = value;
	e->hash = sl_name_hash(name);
	sl_bucket_append(&ix->buckets[e->hash & ix->mask], e);
	ix->n++;
	return e;
}

/* The first entry of name (hash h) at or after e in its bucket. */
static struct sl_name_entry *
sl_name_from(struct sl_name_entry *e, const char *name, uint32_t h)
{
	for (; e != NULL; e = e->next)
		if (e->hash == h && strcasecmp(e->name, name) == 0)
			return e;
	return NULL;
}

struct sl_name_entry *
sl_name_index_first(const struct sl_name_index *ix, const char *name)
{
	uint32_t h = sl_name_hash(name);

	if (ix->buckets == NULL)
		return NULL;
	return sl_name_from(ix->buckets[h & ix->mask].head, name, h);
}

struct sl_name_entry *
sl_name_index_next(const struct sl_name_entry *e)
{
	return sl_name_from(e->next, e->name, e->hash);
}

bool
sl_name_index_has(const struct sl_name_index *ix, const char *name)
{
	return sl_name_index_first(ix, name) != NULL;
}

int
sl_name_index_add_once(struct sl_name_index *ix, const char *name)
{
	if (sl_name_index_has(ix, name))
		return 0;
	return sl_name_index_add(ix, name, NULL) != NULL ? 1 : -ENOMEM;
}
