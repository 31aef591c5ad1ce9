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

#endif /* SL_COMPILE_H */
