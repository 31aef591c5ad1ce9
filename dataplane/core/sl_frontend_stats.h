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
 * The rules of prev that next no longer has (deleted), each with the index
 * of its frontend in next (the same name) and what it counted when the
 * bases were set. Until the publication's grace period ends, workers still
 * on prev count on them, and next's sums do not hold them: without
 * sl_frontend_counts_settle(), a frontend would lose what its deleted rule
 * counted in that window (a rule deleted under traffic: its last packets,
 * or its drops while its pool was empty).
 */
struct sl_frontend_deleted_rule {
	uint32_t counter_id;
	uint32_t frontend;
	struct sl_frontend_counts at;
};

struct sl_frontend_deleted {
	uint32_t n;
	struct sl_frontend_deleted_rule *v; /* malloc'd; NULL when n is 0 */
};

/*
 * Before next replaces prev (NULL: there is none) as the published
 * snapshot: set the base of each of next's frontends so that it counts on
 * from what prev's frontend of the same name counts now; a frontend prev
 * does not have starts at 0. Each rule's counters are read once, so a
 * count that grows meanwhile is neither lost nor counted twice. When next
 * gives every frontend the rules prev gives it (the same frontends in the
 * same order, the same rule counter ids on each: a change to pools alone),
 * the bases are prev's, without reading a counter. deleted (NULL: not
 * wanted) receives the rules next no longer has, for
 * sl_frontend_counts_settle(). 0, or -ENOMEM (the bases are then left as
 * they were, deleted empty).
 */
int sl_frontend_counts_carry(const struct sl_snapshot *prev, struct sl_snapshot *next,
			     sl_rule_counts_fn rule_counts, void *ctx,
			     struct sl_frontend_deleted *deleted);

/*
 * After the grace period of next's publication (no worker counts on prev's
 * rules any more): add to each noted rule's frontend base what the rule
 * counted since the carry, and free the notes (deleted is then empty).
 */
void sl_frontend_counts_settle(struct sl_snapshot *next, struct sl_frontend_deleted *deleted,
			       sl_rule_counts_fn rule_counts, void *ctx);

#endif /* SL_FRONTEND_STATS_H */
