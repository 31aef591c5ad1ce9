/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_frontend_stats.h: per-frontend counters, derived from the rules'.
 *
 * DESIGN: workers keep no counter of a frontend's own. A frontend's packets,
 * bytes, new flows and drops are the sums of its rules' counters (kept per
 * rule by stable counter id, sl_stats.h), which costs the packet path
 * nothing. A sum alone would shrink when a rule is deleted or moves to
 * another frontend; so before a snapshot is published,
 * sl_frontend_counts_carry() gives each of its frontends a base: what the
 * frontend of the same name counts now, less what its new set of rules
 * counts now. Each frontend's counters then only grow, as Prometheus
 * counters must, across every configuration change. Control thread only;
 * DPDK-free (the lcores' counters are read through a callback).
 */
#ifndef SL_FRONTEND_STATS_H
#define SL_FRONTEND_STATS_H

#include <stdint.h>

#include "sl_snapshot.h"

/* Set *out to the counters of the rule with stable counter id rule_id, summed over the lcores. */
typedef void (*sl_rule_counts_fn)(void *ctx, uint32_t rule_id, struct sl_frontend_counts *out);

/* out[0..snap->n_frontends): each frontend's counters (its base plus its rules'). */
void sl_frontend_counts_read(const struct sl_snapshot *snap, sl_rule_counts_fn rule_counts,
			     void *ctx, struct sl_frontend_counts *out);

/*
 * Before next replaces prev (NULL: there is none) as the published
 * snapshot: set the base of each of next's frontends so that it counts on
 * from what prev's frontend of the same name counts now; a frontend prev
 * does not have starts at 0. When next gives every frontend the rules prev
 * gives it (the same frontends in the same order, the same rule counter ids
 * on each: a change to pools alone), the bases are prev's, without reading
 * a counter. 0, or -ENOMEM (the bases are then left as they were).
 */
int sl_frontend_counts_carry(const struct sl_snapshot *prev, struct sl_snapshot *next,
			     sl_rule_counts_fn rule_counts, void *ctx);

#endif /* SL_FRONTEND_STATS_H */
