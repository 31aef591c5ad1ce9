/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_deploy_api.h: the deployments REST API, without HTTP: sl_api.c hands
 * a request on /subscriptions/{sub}/resourcegroups/{rg}/providers/
 * Microsoft.Resources/deployments[/{name}[/validate|/whatIf]] (every
 * segment case-insensitive) here and sends the answer back:
 *   PUT    .../deployments/{name}           deploy; 201 (new record) or 200
 *   GET    .../deployments[/{name}]         a record, or {"value": [...]} newest first
 *   DELETE .../deployments/{name}           the record only; 200, or 204 when none
 *   POST   .../deployments/{name}/validate  everything but the commit
 *   POST   .../deployments/{name}/whatIf    the changes it would make
 * See docs/deployments.md.
 */
#ifndef SL_DEPLOY_API_H
#define SL_DEPLOY_API_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "sl_controller.h"
#include "sl_deploy_records.h"

/* An answer, and what the audit line says of it. */
struct sl_deploy_answer {
	unsigned int status;
	cJSON *body;       /* NULL: no body */
	bool committed;    /* a commit was made (the audit line names the generation) */
	char code[96];     /* of a refusal */
	char message[512]; /* of a refusal */
	char result[1024]; /* what an accepted request did */
};

/* Is url a deployments path (the answer is then sl_deploy_api_handle()'s)? */
bool sl_deploy_api_path(const char *url);

/*
 * Serve one request (api-version already checked). body/len: the request
 * body (len 0: none); start_us: when it arrived (sl_controller_now_us()).
 * *a is filled; the caller sends a->body (and frees it).
 */
void sl_deploy_api_handle(struct sl_deploy_records *records, struct sl_controller *ctl,
			  const char *url, const char *method, const char *body, size_t len,
			  double start_us, struct sl_deploy_answer *a);

#endif /* SL_DEPLOY_API_H */
