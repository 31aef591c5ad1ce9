/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_config_incr.h: validating one change to a load balancer's pool or rule
 * in place, against the committed model, instead of the whole document.
 *
 * The whole-document validation (sl_config_from_json(), sl_config.h) stays
 * the reference: a change done here reaches the same verdict and leaves the
 * same model that validating the edited document would, through the same
 * per-pool and per-rule parsers and checks (sl_config_parse.h). What a pool
 * or a rule takes part in, and how a change to one is checked here:
 *
 *   pool PUT      its own parse: name and id, drainPeriodInSeconds, each
 *                 address (name, id, ipAddress, virtualNetwork resolved or
 *                 taken from the frontends', the load balancer's virtual
 *                 network, inside its prefixes, weight, adminState), no name
 *                 or IP twice, Standard SKU for addresses, the per-pool and
 *                 Maglev limits; a child needs a frontend; a new pool's name
 *                 is one the model has no pool of; the load balancer's address
 *                 limit (its pools summed); every rule on the pool reaching
 *                 every address (checked once per frontend family and
 *                 Floating IP among those rules); a pool that NIC
 *                 ipConfigurations join keeps those members (in NIC
 *                 document order) and cannot list addresses; each IP-based
 *                 address learns the NIC ipConfiguration with its address in
 *                 its virtual network (m->index, kept with the model).
 *   pool DELETE   refused while a rule or a NIC ipConfiguration refers to
 *                 it; otherwise always valid.
 *   rule PUT      its own parse: name and id, frontend, pool and probe
 *                 references, protocol and ports, HA ports, Floating IP
 *                 ports, idle timeout, load distribution, every address of
 *                 its pool reachable (IP-based and NIC members alike); a
 *                 child needs a frontend; at most SL_CONFIG_MAX_RULES_PER_LB
 *                 rules; a new rule's name is new too; against every other rule
 *                 of the load balancer (frontend, protocol and port; backend
 *                 port, protocol and pool unless both use Floating IP) and
 *                 every inbound NAT rule (frontend, protocol and port).
 *   rule DELETE   always valid: nothing refers to a rule.
 *
 * Costs: a pool PUT costs its addresses (each linked in O(log NIC
 * ipConfigurations)) plus one pass over the load balancer's pools (the
 * address total) and rules (those on the pool); a rule PUT one pass over the
 * load balancer's frontends, pools and probes (its references), rules and
 * inbound NAT rules, and the addresses of its pool; both are bounded by the
 * one load balancer's children, not by the addresses configured. A DELETE
 * moves the children after it down one (struct sl_model_delta) and fixes the
 * references to them in place: rules' pool indexes (one pass over the load
 * balancer's rules) and the NIC ipConfigurations' pool references, reached
 * through the NIC members of the pools after the deleted one. Nothing here
 * answers -EAGAIN because of its cost.
 *
 * Control thread only. A change may move lb->pools and lb->rules (realloc).
 */
#ifndef SL_CONFIG_INCR_H
#define SL_CONFIG_INCR_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "sl_config.h"
#include "sl_error.h"
#include "sl_model_delta.h"
#include "sl_resource.h"

/* What one change replaced, to put it back or free it. */
struct sl_model_undo;

/*
 * The committed document `doc` has just been edited in place by ONE change:
 * PUT (create or replace) or DELETE of the resource p names (struct
 * sl_res_path from sl_res_path_parse(), sl_doc_put() / sl_doc_delete()). m
 * was validated from the document before the edit (sl_config_from_json()).
 * Bring m up to date with doc, in place, revalidating only what the change
 * touches and what refers to it. Returns:
 *   0        m now equals sl_config_from_json(doc) exactly; *undo restores
 *            the old m, and sl_model_undo_delta(*undo) says what changed;
 *   -EAGAIN  not a change done here (m untouched, *err untouched): anything
 *            but a pool or rule of a load balancer of m; a DELETE of a child
 *            that is not there; a document that does not hold m's load
 *            balancer at m's index, or whose child list does not differ from
 *            m's by the one change. The caller validates whole;
 *   -EINVAL  the change is invalid (m untouched; *err says why, but the
 *            caller answers with the whole-document validation's error,
 *            which is the reference);
 *   -ENOMEM  (m untouched; *err OutOfMemory).
 */
int sl_model_apply_change(struct sl_model *m, const cJSON *doc, const struct sl_res_path *p,
			  bool is_delete, struct sl_model_undo **undo, struct sl_error *err);

/* What the change did (never NULL). */
const struct sl_model_delta *sl_model_undo_delta(const struct sl_model_undo *u);

/* Put m back as it was before the change (the last one applied to m); frees u. */
void sl_model_undo_restore(struct sl_model *m, struct sl_model_undo *u);

/* Keep the change; free the parts it replaced (and u). NULL is accepted. */
void sl_model_undo_free(struct sl_model_undo *u);

/*
 * Deep equality of two models: every field of every resource (names
 * compared exactly, as written), not m->index. false with a short reason
 * in why (len bytes; why may be NULL).
 */
bool sl_model_equal(const struct sl_model *a, const struct sl_model *b, char *why, size_t len);

#endif /* SL_CONFIG_INCR_H */
