/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_frontend_stats.c: frontend counters as sums of their rules', and the
 * bases that keep them growing across snapshots (see sl_frontend_stats.h).
 * Arithmetic is modulo 2^64: a base may be "negative" (a rule that joins a
 * frontend brings its own past), the sum it is added to never is.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sl_frontend_stats.h"

static void
counts_add(struct sl_frontend_counts *a, const struct sl_frontend_counts *b)
{
	a->packets += b->packets;
	a->bytes += b->bytes;
	a->new_flows += b->new_flows;
	for (int k = 0; k < SL_FE_DROP_MAX; k++)
		a->drops[k] += b->drops[k];
}

static void
counts_sub(struct sl_frontend_counts *a, const struct sl_frontend_counts *b)
{
	a->packets -= b->packets;
	a->bytes -= b->bytes;
	a->new_flows -= b->new_flows;
	for (int k = 0; k < SL_FE_DROP_MAX; k++)
		a->drops[k] -= b->drops[k];
}

/* out[f] = the sum of the counters of frontend f's rules (no base). */
static void
rule_sums(const struct sl_snapshot *snap, sl_rule_counts_fn rule_counts, void *ctx,
	  struct sl_frontend_counts *out)
{
	struct sl_frontend_counts c;

	memset(out, 0, sizeof(*out) * snap->n_frontends);
	for (uint32_t i = 0; i < snap->n_rules; i++) {
		const struct sl_rule *r = &snap->rules[i];
		if (r->frontend_index >= snap->n_frontends)
			continue;
		rule_counts(ctx, r->counter_id, &c);
		counts_add(&out[r->frontend_index], &c);
	}
}

void
sl_frontend_counts_read(const struct sl_snapshot *snap, sl_rule_counts_fn rule_counts,
			void *ctx, struct sl_frontend_counts *out)
{
	if (snap == NULL)
		return;
	rule_sums(snap, rule_counts, ctx, out);
	for (uint32_t f = 0; f < snap->n_frontends; f++)
		counts_add(&out[f], &snap->frontends[f].base);
}

static int
cmp_name(const void *a, const void *b)
{
	const struct sl_frontend_info *x = *(const struct sl_frontend_info *const *)a;
	const struct sl_frontend_info *y = *(const struct sl_frontend_info *const *)b;
	return strcmp(x->name, y->name);
}

/* The index in prev of the frontend named name (by[] sorted by name), or -1. */
static long
find_prev(const struct sl_snapshot *prev, const struct sl_frontend_info **by, const char *name)
{
	size_t lo = 0, hi = prev->n_frontends;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, by[mid]->name);
		if (c == 0)
			return by[mid] - prev->frontends;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* The bases by frontend name: what prev's frontend counts now, less next's rule sums. */
static int
carry_by_name(const struct sl_snapshot *prev, struct sl_snapshot *next,
	      sl_rule_counts_fn rule_counts, void *ctx)
{
	uint32_t np = prev != NULL ? prev->n_frontends : 0;
	struct sl_frontend_counts *now = calloc(np + 1, sizeof(*now));
	struct sl_frontend_counts *sums = calloc(next->n_frontends + 1, sizeof(*sums));
	const struct sl_frontend_info **by = calloc(np + 1, sizeof(*by));
	int rc = -ENOMEM;

	if (now == NULL || sums == NULL || by == NULL)
		goto out;
	if (np != 0) {
		sl_frontend_counts_read(prev, rule_counts, ctx, now);
		for (uint32_t f = 0; f < np; f++)
			by[f] = &prev->frontends[f];
		qsort(by, np, sizeof(*by), cmp_name);
	}
	rule_sums(next, rule_counts, ctx, sums);
	for (uint32_t f = 0; f < next->n_frontends; f++) {
		struct sl_frontend_info *fe = &next->frontends[f];
		long j = np != 0 ? find_prev(prev, by, fe->name) : -1;

		memset(&fe->base, 0, sizeof(fe->base));
		if (j >= 0)
			fe->base = now[j];
		counts_sub(&fe->base, &sums[f]);
	}
	rc = 0;
out:
	free(now);
	free(sums);
	free(by);
	return rc;
}

/*
 * Do prev and next give every frontend (the same names, in the same order)
 * the same rules (by counter id)? Then each frontend's sum is the same in
 * both and its base stays: a change to pools alone costs a pass over the
 * rules, not a read of every rule's counters on every lcore.
 */
static bool
same_rule_sets(const struct sl_snapshot *prev, const struct sl_snapshot *next)
{
	if (prev == NULL || prev->n_rules != next->n_rules ||
	    prev->n_frontends != next->n_frontends)
		return false;
	for (uint32_t i = 0; i < next->n_rules; i++)
		if (prev->rules[i].counter_id != next->rules[i].counter_id ||
		    prev->rules[i].frontend_index != next->rules[i].frontend_index)
			return false;
	for (uint32_t f = 0; f < next->n_frontends; f++)
		if (strcmp(prev->frontends[f].name, next->frontends[f].name) != 0)
			return false;
	return true;
}

int
sl_frontend_counts_carry(const struct sl_snapshot *prev, struct sl_snapshot *next,
			 sl_rule_counts_fn rule_counts, void *ctx)
{
	if (same_rule_sets(prev, next)) {
		for (uint32_t f = 0; f < next->n_frontends; f++)
			next->frontends[f].base = prev->frontends[f].base;
		return 0;
	}
	return carry_by_name(prev, next, rule_counts, ctx);
}
