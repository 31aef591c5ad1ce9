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

/* The index in s of the frontend named name (by[] sorted by name), or -1. */
static long
find_frontend(const struct sl_snapshot *s, const struct sl_frontend_info **by, const char *name)
{
	size_t lo = 0, hi = s->n_frontends;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, by[mid]->name);
		if (c == 0)
			return by[mid] - s->frontends;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* s's frontends sorted by name (malloc'd), or NULL. */
static const struct sl_frontend_info **
by_name(const struct sl_snapshot *s)
{
	const struct sl_frontend_info **by = calloc(s->n_frontends + 1, sizeof(*by));

	if (by == NULL)
		return NULL;
	for (uint32_t f = 0; f < s->n_frontends; f++)
		by[f] = &s->frontends[f];
	qsort(by, s->n_frontends, sizeof(*by), cmp_name);
	return by;
}

/* A rule's counter id and its index in its snapshot. */
struct id_pos {
	uint32_t id;
	uint32_t pos;
};

static int
cmp_id(const void *a, const void *b)
{
	uint32_t x = ((const struct id_pos *)a)->id, y = ((const struct id_pos *)b)->id;
	return x < y ? -1 : x > y;
}

/* s's rules by counter id, sorted (malloc'd), or NULL. */
static struct id_pos *
by_id(const struct sl_snapshot *s)
{
	struct id_pos *v = calloc(s->n_rules + 1, sizeof(*v));

	if (v == NULL)
		return NULL;
	for (uint32_t i = 0; i < s->n_rules; i++)
		v[i] = (struct id_pos){s->rules[i].counter_id, i};
	qsort(v, s->n_rules, sizeof(*v), cmp_id);
	return v;
}

static const struct id_pos *
find_id(const struct id_pos *v, uint32_t n, uint32_t id)
{
	struct id_pos key = {.id = id};
	return bsearch(&key, v, n, sizeof(*v), cmp_id);
}

/*
 * The rules of prev whose counter id next does not have, with their
 * frontend in next (by name; none: not noted) and pc, what each counted.
 */
static int
note_deleted(const struct sl_snapshot *prev, const struct sl_snapshot *next,
	     const struct sl_frontend_counts *pc, struct sl_frontend_deleted *deleted)
{
	struct id_pos *nids = by_id(next);
	const struct sl_frontend_info **nby = by_name(next);
	int rc = -ENOMEM;

	deleted->v = calloc(prev->n_rules + 1, sizeof(*deleted->v));
	if (nids == NULL || nby == NULL || deleted->v == NULL)
		goto out;
	for (uint32_t i = 0; i < prev->n_rules; i++) {
		const struct sl_rule *r = &prev->rules[i];
		if (r->frontend_index >= prev->n_frontends ||
		    find_id(nids, next->n_rules, r->counter_id) != NULL)
			continue;
		long f = find_frontend(next, nby, prev->frontends[r->frontend_index].name);
		if (f >= 0)
			deleted->v[deleted->n++] =
				(struct sl_frontend_deleted_rule){r->counter_id, (uint32_t)f, pc[i]};
	}
	rc = 0;
out:
	if (rc != 0 || deleted->n == 0) {
		free(deleted->v);
		deleted->v = NULL;
		deleted->n = 0;
	}
	free(nids);
	free(nby);
	return rc;
}

/*
 * The bases by frontend name: what prev's frontend counts now, less next's
 * rule sums, each rule's counters read once (pc: prev's, by rule index).
 */
static int
carry_by_name(const struct sl_snapshot *prev, struct sl_snapshot *next,
	      sl_rule_counts_fn rule_counts, void *ctx, struct sl_frontend_deleted *deleted)
{
	uint32_t np = prev != NULL ? prev->n_frontends : 0;
	uint32_t nr = prev != NULL ? prev->n_rules : 0;
	struct sl_frontend_counts *now = calloc(np + 1, sizeof(*now));
	struct sl_frontend_counts *pc = calloc(nr + 1, sizeof(*pc));
	struct sl_frontend_counts *sums = calloc(next->n_frontends + 1, sizeof(*sums));
	const struct sl_frontend_info **by = prev != NULL ? by_name(prev) : NULL;
	struct id_pos *pids = prev != NULL ? by_id(prev) : NULL;
	struct sl_frontend_counts c;
	int rc = -ENOMEM;

	if (now == NULL || pc == NULL || sums == NULL || (prev != NULL && (by == NULL || pids == NULL)))
		goto out;
	for (uint32_t f = 0; f < np; f++)
		now[f] = prev->frontends[f].base;
	for (uint32_t i = 0; i < nr; i++) {
		const struct sl_rule *r = &prev->rules[i];
		rule_counts(ctx, r->counter_id, &pc[i]);
		if (r->frontend_index < np)
			counts_add(&now[r->frontend_index], &pc[i]);
	}
	for (uint32_t i = 0; i < next->n_rules; i++) {
		const struct sl_rule *r = &next->rules[i];
		if (r->frontend_index >= next->n_frontends)
			continue;
		const struct id_pos *p = nr != 0 ? find_id(pids, nr, r->counter_id) : NULL;
		if (p != NULL)
			c = pc[p->pos];
		else
			rule_counts(ctx, r->counter_id, &c);
		counts_add(&sums[r->frontend_index], &c);
	}
	if (prev != NULL && deleted != NULL && note_deleted(prev, next, pc, deleted) != 0)
		goto out;
	for (uint32_t f = 0; f < next->n_frontends; f++) {
		struct sl_frontend_info *fe = &next->frontends[f];
		long j = np != 0 ? find_frontend(prev, by, fe->name) : -1;

		memset(&fe->base, 0, sizeof(fe->base));
		if (j >= 0)
			fe->base = now[j];
		counts_sub(&fe->base, &sums[f]);
	}
	rc = 0;
out:
	free(now);
	free(pc);
	free(sums);
	free(by);
	free(pids);
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
			 sl_rule_counts_fn rule_counts, void *ctx,
			 struct sl_frontend_deleted *deleted)
{
	if (deleted != NULL)
		*deleted = (struct sl_frontend_deleted){0, NULL};
	if (same_rule_sets(prev, next)) {
		for (uint32_t f = 0; f < next->n_frontends; f++)
			next->frontends[f].base = prev->frontends[f].base;
		return 0;
	}
	return carry_by_name(prev, next, rule_counts, ctx, deleted);
}

void
sl_frontend_counts_settle(struct sl_snapshot *next, struct sl_frontend_deleted *deleted,
			  sl_rule_counts_fn rule_counts, void *ctx)
{
	struct sl_frontend_counts c;

	if (deleted == NULL)
		return;
	for (uint32_t i = 0; i < deleted->n; i++) {
		const struct sl_frontend_deleted_rule *d = &deleted->v[i];
		if (d->frontend >= next->n_frontends)
			continue;
		rule_counts(ctx, d->counter_id, &c);
		counts_sub(&c, &d->at);
		counts_add(&next->frontends[d->frontend].base, &c);
	}
	free(deleted->v);
	*deleted = (struct sl_frontend_deleted){0, NULL};
}
