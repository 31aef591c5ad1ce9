/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_compile_int.h: what whole compilations (sl_compile.c) and incremental
 * ones (sl_compile_delta.c) share: compiling one pool or one rule into a
 * snapshot, the model's counts, the fingerprint of a compilation's other
 * inputs and the Maglev table cache's bookkeeping. Internal to the control
 * library; see sl_compile.h for the interface.
 */
#ifndef SL_COMPILE_INT_H
#define SL_COMPILE_INT_H

#include <stdint.h>

#include "sl_compile.h"

#define SL_COMPILE_ID_MAX (SL_LABEL_MAX + 2) /* sl_scope_key(): "@" and a NUL past a label */

/* What compiling one part of the model into s needs besides the part. */
struct sl_compile_ctx {
	struct sl_snapshot *s;
	const struct sl_model *m;
	const struct sl_port_info *ports;
	uint32_t n_ports;
	struct sl_id_registry *rule_ids;
	struct sl_id_registry *backend_ids;
	struct sl_table_cache *tables;
	const struct sl_health_hook *health; /* NULL: all up */
	uint64_t seed;                       /* the Maglev seed */
	struct sl_error *err;
};

/* What a model compiles to: snapshot rules, pools, backends and frontends. */
struct sl_model_counts {
	uint64_t rules;
	uint64_t pools;
	uint64_t backends;
	uint64_t frontends;
};

/* Count m (load balancers, their pools, members, rules and inbound NAT rules). */
void sl_model_count(const struct sl_model *m, struct sl_model_counts *c);

/* 0, or -ENOSPC with *err (CounterIdsExhausted) when c is more than sluice counts. */
int sl_model_counts_check(const struct sl_model_counts *c, struct sl_error *err);

/* Snapshot rules an inbound NAT rule takes: protocol All is a Tcp and a Udp entry. */
static inline uint32_t
sl_nat_rule_entries(const struct sl_nat_rule_cfg *nr)
{
	return nr->proto == SL_PROTO_ALL ? 2 : 1;
}

/* The identity part of lb's counter keys (sl_scope_key()), SL_COMPILE_ID_MAX bytes. */
void sl_compile_lb_id(const struct sl_lb *lb, char *lb_id);

/*
 * Pool pc of load balancer lb (identity lb_id) into x->s->pools[pool], its
 * members into x->s->backends from first on (with their counter ids,
 * backend_by_id entries and header prefixes). 0 or a negative errno with
 * *x->err.
 */
int sl_compile_lb_pool(const struct sl_compile_ctx *x, const struct sl_lb *lb, const char *lb_id,
		       const struct sl_pool_cfg *pc, uint32_t pool, uint32_t first);

/*
 * Load-balancing rule rule of lb into x->s->rules[r] (and rule_by_id):
 * pool_base is lb's first pool in the snapshot, fe_base its first frontend.
 */
int sl_compile_lb_rule(const struct sl_compile_ctx *x, const struct sl_lb *lb, const char *lb_id,
		       const struct sl_rule_cfg *rule, uint32_t r, uint32_t pool_base,
		       uint32_t fe_base);

/* Fill *err for a failed step (OutOfMemory or SnapshotBuildFailed); returns rc. */
int sl_compile_fail(struct sl_error *err, int rc, const char *target, const char *what);

/*
 * A fingerprint (never 0) of what besides the model a compilation reads:
 * the ports' descriptions (static neighbours included, and the resolve
 * hook's identity and epoch), the health hook's identity and epoch, and
 * the model's Maglev table size and hash seed.
 */
uint64_t sl_compile_inputs_key(const struct sl_model *m, const struct sl_port_info *ports,
			       uint32_t n_ports, const struct sl_health_hook *health);

/* Drop the cache's entry for table t, if it has one (its reference goes). NULL c is accepted. */
void sl_table_cache_forget(struct sl_table_cache *c, const struct sl_maglev_table *t);

#endif /* SL_COMPILE_INT_H */
