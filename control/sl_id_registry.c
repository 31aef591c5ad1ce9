/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_id_registry.c: stable dense ids for names (rule and backend counter ids).
 *
 * A name gets the next free id the first time it is asked for and keeps it
 * for the life of the registry, whether or not later snapshots still hold the
 * resource: ids are never reused, so per-lcore counters indexed by them never
 * mix two resources. Open addressing with linear probing over a power-of-two
 * slot array at least twice the capacity, so probe sequences stay short and
 * always end. Control thread only; no locking.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sl_hash.h"
#include "sl_id_registry.h"

#define SL_ID_REGISTRY_MAX_CAPACITY (1u << 30)

struct sl_id_registry {
	uint32_t capacity; /* most names it will take */
	uint32_t count;    /* names so far = the next id */
	uint32_t mask;     /* slot count - 1 */
	uint32_t *slots;   /* id + 1, or 0 for an empty slot */
	char **names;      /* id -> name (owned) */
};

struct sl_id_registry *
sl_id_registry_create(uint32_t capacity)
{
	struct sl_id_registry *r;
	uint32_t n_slots = 16;

	if (capacity == 0 || capacity > SL_ID_REGISTRY_MAX_CAPACITY) {
		errno = EINVAL;
		return NULL;
	}
	while (n_slots < 2 * capacity)
		n_slots <<= 1;

	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	r->capacity = capacity;
	r->mask = n_slots - 1;
	r->slots = calloc(n_slots, sizeof(*r->slots));
	r->names = calloc(capacity, sizeof(*r->names));
	if (r->slots == NULL || r->names == NULL) {
		sl_id_registry_free(r);
		errno = ENOMEM;
		return NULL;
	}
	return r;
}

void
sl_id_registry_free(struct sl_id_registry *r)
{
	uint32_t i;

	if (r == NULL)
		return;
	if (r->names != NULL) {
		for (i = 0; i < r->count; i++)
			free(r->names[i]);
	}
	free(r->names);
	free(r->slots);
	free(r);
}

int64_t
sl_id_registry_get(struct sl_id_registry *r, const char *name)
{
	size_t len;
	uint32_t i;
	char *copy;

	if (r == NULL || name == NULL)
		return -EINVAL;
	len = strlen(name);
	i = (uint32_t)sl_hash64(name, len, 0) & r->mask;
	while (r->slots[i] != 0) {
		uint32_t id = r->slots[i] - 1;

		if (strcmp(r->names[id], name) == 0)
			return id;
		i = (i + 1) & r->mask;
	}
	if (r->count == r->capacity)
		return -ENOSPC;
	copy = malloc(len + 1);
	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, name, len + 1);
	r->names[r->count] = copy;
	r->slots[i] = r->count + 1;
	return r->count++;
}

const char *
sl_id_registry_name(const struct sl_id_registry *r, uint32_t id)
{
	if (r == NULL || id >= r->count)
		return NULL;
	return r->names[id];
}
