/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_compile.h: resource model -> immutable dataplane snapshot.
 *
 * Runs on the control thread. Builds every pool's Maglev table, the frontend
 * table and each backend's header prefixes per port (next-hop MACs from the
 * ports' static neighbours or gateway). Counter ids come from an id registry
 * that outlives snapshots, so a rule or backend keeps its counters across
 * reloads.
 */
#ifndef SL_COMPILE_H
#define SL_COMPILE_H

#include <stdint.h>

#include "sl_config.h"
#include "sl_error.h"
#include "sl_id_registry.h"
#include "sl_model_delta.h"
#include "sl_port_info.h"
#include "sl_snapshot.h"

/*
 * Compile. rule_ids and backend_ids are the registries for rule and backend
 * counter ids (capacities SL_MAX_RULE_COUNTERS, SL_MAX_BACKEND_COUNTERS).
 * Per load balancer, in document order: its pools (their backends), its
 * load-balancing rules, then its inbound NAT rules, each with a pool of its
 * own named "<lb>/<natRule>" that holds the one backend
 * "<lb>/<natRule>/<nic>/<ipconfig>" (none when no ipConfiguration lists the
 * rule) and a rule "<lb>/<natRule>" (protocol All: "<lb>/<natRule>/Tcp" and
 * "<lb>/<natRule>/Udp"); <lb> and <nic> in these names are the labels of
 * sl_config.h. See sl_compile.c for the counter keys.
 * Returns the snapshot, or NULL with *err filled and errno set.
 */
struct sl_snapshot *sl_compile(const struct sl_model *m, const struct sl_port_info *ports,
			       uint32_t n_ports, struct sl_id_registry *rule_ids,
			       struct sl_id_registry *backend_ids, uint64_t generation,
			       struct sl_error *err);

/*
 * Maglev tables kept between compilations: a pool whose members (in order),
 * weights, table size and seed are unchanged reuses its table. The cache and
 * the snapshots share tables by reference count (sl_maglev_table in
 * sl_snapshot.h); control thread only.
 */
struct sl_table_cache;

/* An empty cache; NULL on ENOMEM. */
struct sl_table_cache *sl_table_cache_create(void);
/* Drop the cache's references (snapshots keep theirs). NULL is accepted. */
void sl_table_cache_free(struct sl_table_cache *c);
/* Tables reused and tables built so far. */
void sl_table_cache_stats(const struct sl_table_cache *c, uint64_t *hits, uint64_t *builds);

/* Health of backends, from the probes. */
struct sl_health_hook {
	/* 1 when the backend (load balancer label, pool name, address label) is probed down. */
	int (*down)(void *ctx, const char *lb, const char *pool, const char *address);
	void *ctx;
	/*
	 * Advances whenever down() may answer differently for a backend it
	 * answered before (sl_prober_health_epoch()); sl_compile_delta()
	 * reuses a predecessor's health only while it is unchanged.
	 */
	uint64_t epoch;
};

/*
 * sl_compile() reusing and remembering tables in `tables` (NULL: build
 * every table), with backend health from `health` (NULL: all up). A backend
 * that takes no new flows (adminState Down, or None and probed down) stays
 * in the snapshot, so its established flows find it, but gets no Maglev
 * slot.
 */
struct sl_snapshot *sl_compile_cached(const struct sl_model *m, const struct sl_port_info *ports,
				      uint32_t n_ports, struct sl_id_registry *rule_ids,
				      struct sl_id_registry *backend_ids,
				      struct sl_table_cache *tables,
				      const struct sl_health_hook *health, uint64_t generation,
				      struct sl_error *err);

/*
 * sl_compile_cached() of m, where m differs from the model that prev (the
 * snapshot currently published) was compiled from only by delta
 * (sl_model_delta.h). Reuses prev's work for everything the delta did not
 * touch; the result equals what sl_compile_cached(m, ...) gives, field by
 * field (the frontend table, address index and reply index hold the same
 * entries, possibly in other slots). delta NULL or prev NULL, or anything
 * that makes reuse unsafe: compile whole.
 *
 * Cost: the changed pool's members (labels, counter keys, health, header
 * prefixes, its Maglev table) or the changed rule, plus copies of prev's
 * flat arrays (rules, backends, header prefixes, the id maps, the three
 * indexes) with index fix-ups where a pool or rule was added or removed
 * before the end; every other pool keeps its Maglev table by reference.
 * The frontend table is edited (the changed rule's key out and in); the
 * address and reply indexes are copied, or rebuilt whole when the change
 * touches a DNAT rule or the pool of one (their entries depend on every
 * rule that shares a backend), or when an index's size changes.
 *
 * Reuse is unsafe, and the compilation whole, when:
 *  - prev was not made by sl_compile_cached()/sl_compile_delta()
 *    (its inputs_key is 0);
 *  - what else the compilation reads differs from prev's: the ports (every
 *    field, the static neighbours, the resolve hook and its resolve_epoch:
 *    a learned, changed or lost dynamic neighbour), the health hook and its
 *    epoch, the model's Maglev table size and hash seed (inputs_key);
 *  - prev's shape does not fit the delta: its pool, rule, backend or
 *    frontend counts are not m's undone by the delta, delta->lb or idx is
 *    out of range, a rule of prev uses the pool the delta deletes, or a
 *    pool of prev has no shared (reference-counted) table.
 * Counter ids are the registries' as a whole compilation gives them: only
 * the changed pool's members or the changed rule are looked up (the rest
 * keep prev's, which the same registries gave). The table cache keeps the
 * tables the new snapshot uses: a replaced or deleted pool's table is
 * dropped from it unless another pool shares it.
 */
struct sl_snapshot *sl_compile_delta(const struct sl_model *m, const struct sl_snapshot *prev,
				     const struct sl_model_delta *delta,
				     const struct sl_port_info *ports, uint32_t n_ports,
				     struct sl_id_registry *rule_ids,
				     struct sl_id_registry *backend_ids,
				     struct sl_table_cache *tables,
				     const struct sl_health_hook *health, uint64_t generation,
				     struct sl_error *err);

#endif /* SL_COMPILE_H */
