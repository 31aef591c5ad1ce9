/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_deploy_records.h: the records of deployments (GET .../deployments),
 * per (subscription, resource group, name), names case-insensitive.
 *
 * A record is what ARM answers for a deployment: id, name, type and
 * properties (templateHash, parameters without the values of secure ones,
 * mode, provisioningState, timestamp, duration, correlationId, outputs,
 * outputResources, dependencies, providers, skippedResources, error). The
 * template itself is not kept; the dependencies list at most
 * SL_DEPLOY_DEPENDENCIES_MAX dependsOn entries (then "dependenciesTruncated":
 * true). At most SL_DEPLOY_RECORDS_PER_GROUP a resource group: the oldest
 * are deleted to make room, as ARM does; and at most SL_DEPLOY_RECORDS_MAX
 * records and SL_DEPLOY_RECORDS_BYTES_MAX bytes of them in all: past either,
 * the oldest of any group go (the newest always stays). With a state
 * directory the records live in DIR/deployments.json too, written
 * atomically after each change to a record (never by a GET, a validate or
 * a what-if); at start a damaged file is logged and set aside (renamed to
 * deployments.json.damaged) and never stops sluiced.
 */
#ifndef SL_DEPLOY_RECORDS_H
#define SL_DEPLOY_RECORDS_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "sl_deploy.h"
#include "sl_error.h"

#define SL_DEPLOY_RECORDS_PER_GROUP 800
#define SL_DEPLOY_RECORDS_MAX 10000                 /* records of every group together */
#define SL_DEPLOY_RECORDS_BYTES_MAX (16u << 20)     /* their text in the file, together */
#define SL_DEPLOY_RECORDS_FILE "deployments.json"

struct sl_deploy_records;

/* When a deployment ran (realtime start for the timestamp, monotonic for the duration). */
struct sl_deploy_clock {
	double start_realtime_s;
	double start_us;
	double end_us;
};

/* An empty store (state_dir NULL: memory only). NULL on ENOMEM. */
struct sl_deploy_records *sl_deploy_records_create(const char *state_dir);

void sl_deploy_records_free(struct sl_deploy_records *r);

/* Load DIR/deployments.json when there is one; a damaged file is logged and set aside. */
void sl_deploy_records_restore(struct sl_deploy_records *r);

/* The record of a deployment (Succeeded, or Failed with o->error), a new tree. */
cJSON *sl_deploy_record(const struct sl_deploy_request *rq, const struct sl_deploy_outcome *o,
			const struct sl_deploy_clock *clk);

/*
 * Keep record (taken) as rq's, replacing one of that name; the group's
 * oldest go past the limit. *created: no record of that name before.
 * Then save. Returns 0, or a negative errno with *err when the file could
 * not be written (the record is kept in memory all the same).
 */
int sl_deploy_records_put(struct sl_deploy_records *r, const char *sub, const char *rg,
			  cJSON *record, bool *created, struct sl_error *err);

/* The record of (sub, rg, name), or NULL. */
const cJSON *sl_deploy_records_get(const struct sl_deploy_records *r, const char *sub,
				   const char *rg, const char *name);

/* {"value": [...]}: the group's records, newest first (a new tree). */
cJSON *sl_deploy_records_list(const struct sl_deploy_records *r, const char *sub, const char *rg);

/* Remove a record and save. Returns 1 (removed), 0 (none) or a negative errno with *err. */
int sl_deploy_records_delete(struct sl_deploy_records *r, const char *sub, const char *rg,
			     const char *name, struct sl_error *err);

#endif /* SL_DEPLOY_RECORDS_H */
