/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_id_registry.h: stable dense ids for names (the counter ids of rules
 * and backends). A name keeps the id it first got for the life of the
 * registry; ids are never reused. Control thread only; no locking.
 */
#ifndef SL_ID_REGISTRY_H
#define SL_ID_REGISTRY_H

#include <stdint.h>

struct sl_id_registry;

/* A registry with room for `capacity` names (1..2^30); NULL with errno EINVAL or ENOMEM. */
struct sl_id_registry *sl_id_registry_create(uint32_t capacity);

/* Free r and its names; NULL is accepted. */
void sl_id_registry_free(struct sl_id_registry *r);

/* The id of name, assigned on first use. Returns the id, -ENOSPC when full, -ENOMEM, -EINVAL for NULL. */
int64_t sl_id_registry_get(struct sl_id_registry *r, const char *name);

/* The name of an id, or NULL when no name has it. */
const char *sl_id_registry_name(const struct sl_id_registry *r, uint32_t id);

#endif /* SL_ID_REGISTRY_H */
