/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_control.c: control-plane figures that need no DPDK: Maglev table
 * build time, balance and disruption over pool sizes N and table sizes M,
 * and the flow table's memory at sluiced's sizing.
 *
 *   bench_control [--quick] [--csv DIR]
 *
 * Members are distinct IPv4 addresses 10.0.0.1, 10.0.0.2, ... with weight 1,
 * built with the default seed. For each (N, M):
 *
 *   build      one untimed build (the reference table), then `reps` timed
 *              ones (CLOCK_MONOTONIC around sl_maglev_build); best and
 *              median. Every timed build must equal the reference.
 *   balance    slots per member in the reference table: min, max, mean
 *              (M / N) and max / mean.
 *   disruption remove: the member at index N / 2 leaves; its slots all move
 *              (slots_of_changed_backend) and other_slots_moved counts the
 *              slots that change between members that stay. add: member
 *              N + 1 (10.0.x.y after the last) joins; slots_of_changed_backend
 *              is what it takes, other_slots_moved the slots that change
 *              between the old members. fraction_of_M = other_slots_moved / M
 *              (the avoidable disruption; the changed backend's own slots
 *              must move).
 *
 * Flow memory: sl_flow_buckets_for(flows, fill) and sl_flow_table_memsize()
 * for 1K, 100K, 1M and 10M flows at 80 % fill (what sluiced asks for) and
 * at 100 %.
 *
 * Flow lookups: ns per lookup in a table of 10K and 1M live flows, batched
 * as the worker does, beside ns per random line read from memory of the
 * same size (the floor; see bench_flow_lookup()). Every inserted flow must
 * be found.
 *
 * --quick: N in {10, 1000}, M = 65537, 3 timed builds (well under 2 s); a
 * smoke test (flow lookups at 10K flows only). --csv DIR writes
 * DIR/maglev_build.csv, maglev_balance.csv, maglev_disruption.csv,
 * flow_memory.csv and flow_lookup.csv (DIR is created if missing).
 *
 * Sanity checks (any failure: a message on stderr, exit status 1): builds
 * succeed and are deterministic; no slot is EMPTY or out of range while
 * members exist; with equal weights slot counts differ by at most one, so
 * max/mean <= 1.01 whenever M >= 100 N; a removed member keeps no slot; an
 * added one takes floor or ceil of M / (N + 1); when M >= 100 N, fewer than
 * M / 50 other slots move (as tests/unit/test_maglev.c asks); flow tables
 * hold the flows asked for at the fill asked for and their size is what
 * sl_flow_table_memsize says. Exit status 2: bad usage or an I/O error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "sl_flow.h"
#include "sl_maglev.h"
#include "sl_types.h"

static const uint32_t full_n[] = {10, 100, 500, 1000, 2000, 5000};
static const uint32_t full_m[] = {65537, 655373};
static const uint32_t quick_n[] = {10, 1000};
static const uint32_t quick_m[] = {65537};
static const uint64_t flow_counts[] = {1000, 100000, 1000000, 10000000};
static const unsigned int flow_fills[] = {80, 100};

#define FULL_REPS 11
#define QUICK_REPS 3

static int failures;

static void
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench_control: SANITY FAILURE: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failures++;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		fprintf(stderr, "bench_control: out of memory (%zu bytes)\n", n);
		exit(2);
	}
	return p;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Member i: 10.0.0.1 + i (distinct for i < 2^24 - 1), weight 1. */
static void
set_member(struct sl_maglev_member *mb, uint32_t i)
{
	sl_ip_addr_from_v4(&mb->key, htonl((10u << 24) + 1 + i));
	mb->weight = 1;
}

static struct sl_maglev_member *
make_members(uint32_t n)
{
	struct sl_maglev_member *mb = xmalloc((size_t)n * sizeof(*mb));
	uint32_t i;

	memset(mb, 0, (size_t)n * sizeof(*mb));
	for (i = 0; i < n; i++)
		set_member(&mb[i], i);
	return mb;
}

/* Build, and check that every slot holds a member index below n. */
static int
build_checked(uint16_t *t, uint32_t m, const struct sl_maglev_member *mb, uint32_t n)
{
	int rc = sl_maglev_build(t, m, mb, n, SL_MAGLEV_DEFAULT_SEED);
	uint32_t i;

	if (rc != 0) {
		fail("sl_maglev_build(M=%u, N=%u) = %d", m, n, rc);
		return -1;
	}
	for (i = 0; i < m; i++) {
		if (t[i] == SL_MAGLEV_EMPTY) {
			fail("M=%u N=%u: slot %u is EMPTY with %u members", m, n, i, n);
			return -1;
		}
		if (t[i] >= n) {
			fail("M=%u N=%u: slot %u holds member %u", m, n, i, t[i]);
			return -1;
		}
	}
	return 0;
}

struct build_row {
	uint32_t n, m;
	double best_ms, median_ms;
	int reps;
};

struct balance_row {
	uint32_t n, m, min, max;
	double mean, max_over_mean;
};

struct disruption_row {
	uint32_t n, m;
	const char *op;
	uint32_t changed_slots, others_moved;
	double fraction;
};

struct flow_row {
	uint64_t flows;
	unsigned int fill;
	uint32_t buckets;
	size_t bytes;
	double bytes_per_flow, mib;
};

/* Build time and balance for one (N, M); ref receives the reference table. */
static int
bench_build(uint32_t n, uint32_t m, int reps, const struct sl_maglev_member *mb, uint16_t *ref,
	    struct build_row *br, struct balance_row *bal)
{
	uint16_t *t = xmalloc((size_t)m * sizeof(*t));
	uint32_t *count = xmalloc((size_t)n * sizeof(*count));
	double *ms = xmalloc((size_t)reps * sizeof(*ms));
	uint32_t i, min = UINT32_MAX, max = 0;
	int r, rc = 0;

	if (build_checked(ref, m, mb, n) != 0) {
		rc = -1;
		goto out;
	}
	for (r = 0; r < reps; r++) {
		double t0 = now_ms();
		int brc = sl_maglev_build(t, m, mb, n, SL_MAGLEV_DEFAULT_SEED);

		ms[r] = now_ms() - t0;
		if (brc != 0 || memcmp(t, ref, (size_t)m * sizeof(*t)) != 0) {
			fail("M=%u N=%u: timed build %d (rc %d) differs from the first", m, n, r,
			     brc);
			rc = -1;
			goto out;
		}
	}
	qsort(ms, (size_t)reps, sizeof(*ms), cmp_double);
	br->n = n;
	br->m = m;
	br->reps = reps;
	br->best_ms = ms[0];
	br->median_ms = reps % 2 ? ms[reps / 2] : (ms[reps / 2 - 1] + ms[reps / 2]) / 2;

	memset(count, 0, (size_t)n * sizeof(*count));
	for (i = 0; i < m; i++)
		count[ref[i]]++;
	for (i = 0; i < n; i++) {
		if (count[i] < min)
			min = count[i];
		if (count[i] > max)
			max = count[i];
	}
	bal->n = n;
	bal->m = m;
	bal->min = min;
	bal->max = max;
	bal->mean = (double)m / n;
	bal->max_over_mean = max / bal->mean;
	if (max - min > 1) {
		fail("M=%u N=%u: equal weights but slot counts %u..%u differ by more than one", m,
		     n, min, max);
		rc = -1;
	}
	if ((uint64_t)m >= 100ull * n && bal->max_over_mean > 1.01) {
		fail("M=%u N=%u: max/mean %.4f > 1.01 with M >= 100 N", m, n, bal->max_over_mean);
		rc = -1;
	}
out:
	free(ms);
	free(count);
	free(t);
	return rc;
}

/* Remove member n / 2 from a pool of n; ref is the n-member table. */
static int
bench_remove(uint32_t n, uint32_t m, const struct sl_maglev_member *all, const uint16_t *ref,
	     struct disruption_row *row)
{
	const uint32_t gone = n / 2;
	struct sl_maglev_member *rest;
	uint32_t *rest_to_all;
	uint16_t *after;
	uint32_t i, j = 0, owned = 0, others = 0;
	int rc = 0;

	if (n < 2)
		return 0;
	rest = xmalloc((size_t)(n - 1) * sizeof(*rest));
	rest_to_all = xmalloc((size_t)(n - 1) * sizeof(*rest_to_all));
	after = xmalloc((size_t)m * sizeof(*after));
	for (i = 0; i < n; i++) {
		if (i == gone)
			continue;
		rest[j] = all[i];
		rest_to_all[j++] = i;
	}
	if (build_checked(after, m, rest, n - 1) != 0) {
		rc = -1;
		goto out;
	}
	for (i = 0; i < m; i++) {
		uint32_t now = rest_to_all[after[i]];

		if (now == gone) {
			fail("M=%u N=%u: removed member still holds slot %u", m, n, i);
			rc = -1;
			goto out;
		}
		if (ref[i] == gone)
			owned++;
		else if (now != ref[i])
			others++;
	}
	if ((uint64_t)m >= 100ull * n && others >= m / 50) {
		fail("M=%u N=%u: removing a member moves %u other slots (>= M/50)", m, n, others);
		rc = -1;
	}
	row->n = n;
	row->m = m;
	row->op = "remove";
	row->changed_slots = owned;
	row->others_moved = others;
	row->fraction = (double)others / m;
out:
	free(after);
	free(rest_to_all);
	free(rest);
	return rc;
}

/* Add member n (index n) to a pool of n; ref is the n-member table. */
static int
bench_add(uint32_t n, uint32_t m, const struct sl_maglev_member *all, const uint16_t *ref,
	  struct disruption_row *row)
{
	struct sl_maglev_member *more = xmalloc((size_t)(n + 1) * sizeof(*more));
	uint16_t *after = xmalloc((size_t)m * sizeof(*after));
	uint32_t i, taken = 0, others = 0, lo = m / (n + 1), hi = lo + (m % (n + 1) != 0);
	int rc = 0;

	memcpy(more, all, (size_t)n * sizeof(*more));
	memset(&more[n], 0, sizeof(more[n]));
	set_member(&more[n], n);
	if (build_checked(after, m, more, n + 1) != 0) {
		rc = -1;
		goto out;
	}
	for (i = 0; i < m; i++) {
		if (after[i] == n)
			taken++;
		else if (after[i] != ref[i])
			others++;
	}
	if (taken < lo || taken > hi) {
		fail("M=%u N=%u: added member takes %u slots, not %u..%u", m, n, taken, lo, hi);
		rc = -1;
	}
	if ((uint64_t)m >= 100ull * n && others >= m / 50) {
		fail("M=%u N=%u: adding a member moves %u other slots (>= M/50)", m, n, others);
		rc = -1;
	}
	row->n = n;
	row->m = m;
	row->op = "add";
	row->changed_slots = taken;
	row->others_moved = others;
	row->fraction = (double)others / m;
out:
	free(after);
	free(more);
	return rc;
}

static void
bench_flow(uint64_t flows, unsigned int fill, struct flow_row *row)
{
	uint32_t nb = sl_flow_buckets_for(flows, fill);
	size_t bytes = sl_flow_table_memsize(nb);
	uint64_t ways = (uint64_t)nb * SL_FLOW_BUCKET_WAYS;

	row->flows = flows;
	row->fill = fill;
	row->buckets = nb;
	row->bytes = bytes;
	row->bytes_per_flow = (double)bytes / (double)flows;
	row->mib = (double)bytes / (1024.0 * 1024.0);
	if (nb == 0 || (nb & (nb - 1)) != 0)
		fail("flows=%llu fill=%u: %u buckets, not a power of two",
		     (unsigned long long)flows, fill, nb);
	/* the flows fit at the fill asked for: flows <= ways * fill / 100 */
	if (flows * 100 > ways * fill)
		fail("flows=%llu fill=%u: %llu ways hold only %llu flows at that fill",
		     (unsigned long long)flows, fill, (unsigned long long)ways,
		     (unsigned long long)(ways * fill / 100));
	/* and not more than twice what is needed (power-of-two rounding) */
	if (nb > 1 && (ways / 2) * fill >= flows * 100)
		fail("flows=%llu fill=%u: %u buckets, half would do", (unsigned long long)flows,
		     fill, nb);
	if (bytes != (size_t)nb * (sizeof(struct sl_flow_bucket) +
				   SL_FLOW_BUCKET_WAYS * sizeof(struct sl_flow_entry)))
		fail("flows=%llu fill=%u: memsize %zu", (unsigned long long)flows, fill, bytes);
}

/*
 * Flow-table lookups at `flows` live flows, batched as the worker does
 * (the bucket's signatures prefetched in one pass, the matching entry in
 * the next, the lookup in a third), over the flows in random order: ns per
 * lookup. And the floor under it: ns per independent random 64-byte line
 * read from a buffer of the table's size, prefetched a batch ahead the same
 * way. Tables larger than the caches pay for two random lines a lookup
 * (signatures, entry); the ratio of the two figures says how close the
 * table comes to that. The lookup's two halves apart: the signatures alone
 * (prefetch, match), and the entry alone (its way known in advance:
 * prefetch, compare the key). Plain malloc memory (no hugepages): TLB
 * misses are part of every figure.
 */
#define LOOKUP_BATCH 64

static volatile uint64_t lookup_sink;

/* The next batch of lookups: its first flow and its size; *n moves past it. */
static uint32_t
next_batch(uint64_t *n, uint64_t flows, uint64_t *base)
{
	uint32_t cnt;

	*base = *n % flows;
	cnt = flows - *base < LOOKUP_BATCH ? (uint32_t)(flows - *base) : LOOKUP_BATCH;
	*n += cnt;
	return cnt;
}

/* Each flow's bucket, its signatures' line prefetched. */
static void
prefetch_buckets(const struct sl_flow_table *t, const uint32_t *hash, uint32_t cnt,
		 struct sl_flow_bucket **bk)
{
	for (uint32_t i = 0; i < cnt; i++) {
		bk[i] = sl_flow_bucket_of(t, hash[i]);
		__builtin_prefetch(bk[i]);
	}
}

struct lookup_row {
	uint64_t flows;
	double mib;
	uint64_t inserted;
	double ns_lookup;
	double ns_line;
	double ns_sig;   /* signatures only */
	double ns_entry; /* entry only, way known */
};

static void
bench_flow_lookup(uint64_t flows, uint64_t lookups, struct lookup_row *row)
{
	uint32_t nb = sl_flow_buckets_for(flows, 80);
	size_t bytes = sl_flow_table_memsize(nb);
	void *mem = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	struct sl_flow_key *keys = xmalloc(flows * sizeof(*keys));
	uint32_t *hash = xmalloc(flows * sizeof(*hash));
	uint8_t *live = xmalloc(flows);
	int8_t *way = xmalloc(flows); /* the way each flow was inserted in; -1: not inserted */
	struct sl_flow_table t;
	uint64_t s = 0x9e3779b97f4a7c15ull, found = 0, expect = 0, sum = 0;

	memset(row, 0, sizeof(*row));

	if (mem == NULL) {
		fprintf(stderr, "bench_control: out of memory\n");
		exit(2);
	}
	memset(mem, 0, bytes); /* touch every page before timing */
	if (sl_flow_table_init(&t, mem, nb) != 0)
		fail("flow lookup: init of %u buckets", nb);
	/* distinct 5-tuples, in a random order (Fisher-Yates over client addresses) */
	for (uint64_t i = 0; i < flows; i++) {
		memset(&keys[i], 0, sizeof(keys[i]));
		sl_ip_addr_from_v4(&keys[i].src, htonl(0xc6120000u + (uint32_t)i));
		sl_ip_addr_from_v4(&keys[i].dst, htonl(0x0a00000au));
		keys[i].sport_be = htons((uint16_t)(1024 + i % 60000));
		keys[i].dport_be = htons(80);
		keys[i].proto = 6;
	}
	for (uint64_t i = flows - 1; i > 0; i--) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		uint64_t j = s % (i + 1);
		struct sl_flow_key k = keys[i];
		keys[i] = keys[j];
		keys[j] = k;
	}
	for (uint64_t i = 0; i < flows; i++) {
		hash[i] = sl_crc32c(&keys[i], sizeof(keys[i]), 0xffffffffu);
		struct sl_flow_bucket *b = sl_flow_bucket_of(&t, hash[i]);
		struct sl_flow_entry *e = sl_flow_insert(&t, b, hash[i], &keys[i], 0, 1u << 30);
		live[i] = e != NULL;
		way[i] = e != NULL ? (int8_t)(e - sl_flow_entry_at(&t, b, 0)) : -1;
		row->inserted += live[i];
	}

	struct sl_flow_bucket *bk[LOOKUP_BATCH];
	double t0 = now_ms();
	for (uint64_t n = 0, base; n < lookups;) {
		uint32_t cnt = next_batch(&n, flows, &base);

		prefetch_buckets(&t, hash + base, cnt, bk);
		for (uint32_t i = 0; i < cnt; i++) {
			uint32_t m = sl_flow_sig_mask(bk[i], sl_flow_sig(hash[base + i]));
			if (m != 0)
				__builtin_prefetch(sl_flow_entry_at(&t, bk[i], __builtin_ctz(m)));
		}
		for (uint32_t i = 0; i < cnt; i++) {
			found += sl_flow_find(&t, bk[i], hash[base + i], &keys[base + i]) >= 0;
			expect += live[base + i];
		}
	}
	row->ns_lookup = (now_ms() - t0) * 1e6 / (double)lookups;
	if (found != expect)
		fail("flow lookup: %llu of %llu inserted flows found", (unsigned long long)found,
		     (unsigned long long)expect);

	/* the signatures alone */
	uint64_t matched = 0;
	t0 = now_ms();
	for (uint64_t n = 0, base; n < lookups;) {
		uint32_t cnt = next_batch(&n, flows, &base);

		prefetch_buckets(&t, hash + base, cnt, bk);
		for (uint32_t i = 0; i < cnt; i++)
			matched += sl_flow_sig_mask(bk[i], sl_flow_sig(hash[base + i])) != 0;
	}
	row->ns_sig = (now_ms() - t0) * 1e6 / (double)lookups;
	if (matched < expect)
		fail("flow lookup: %llu signatures matched, %llu flows found",
		     (unsigned long long)matched, (unsigned long long)expect);

	/* the entry alone, its way known */
	uint64_t same = 0;
	const struct sl_flow_entry *ent[LOOKUP_BATCH];
	t0 = now_ms();
	for (uint64_t n = 0, base; n < lookups;) {
		uint32_t cnt = next_batch(&n, flows, &base);

		for (uint32_t i = 0; i < cnt; i++) {
			int8_t w = way[base + i];
			ent[i] = w < 0 ? NULL
				       : sl_flow_entry_at(&t, sl_flow_bucket_of(&t, hash[base + i]), w);
			if (ent[i] != NULL)
				__builtin_prefetch(ent[i]);
		}
		for (uint32_t i = 0; i < cnt; i++)
			same += ent[i] != NULL && sl_flow_key_eq(&ent[i]->key, &keys[base + i]);
	}
	row->ns_entry = (now_ms() - t0) * 1e6 / (double)lookups;
	if (same != expect)
		fail("flow lookup: %llu entries matched their key, %llu flows found",
		     (unsigned long long)same, (unsigned long long)expect);

	/* the floor: random lines of the same memory, prefetched a batch ahead */
	uint64_t lines = bytes / 64, idx[LOOKUP_BATCH];
	const uint8_t *base_p = mem;
	t0 = now_ms();
	for (uint64_t n = 0; n < lookups; n += LOOKUP_BATCH) {
		for (uint32_t i = 0; i < LOOKUP_BATCH; i++) {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			idx[i] = s % lines;
			__builtin_prefetch(base_p + idx[i] * 64);
		}
		for (uint32_t i = 0; i < LOOKUP_BATCH; i++)
			sum += base_p[idx[i] * 64];
	}
	row->ns_line = (now_ms() - t0) * 1e6 / (double)lookups;
	row->flows = flows;
	row->mib = (double)bytes / (1024.0 * 1024.0);
	lookup_sink = sum; /* keeps the reads */
	free(way);
	free(live);
	free(hash);
	free(keys);
	free(mem);
}

static FILE *
open_csv(const char *dir, const char *name, const char *header)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "bench_control: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	fprintf(f, "%s\n", header);
	return f;
}

static void
close_csv(FILE *f, const char *dir, const char *name)
{
	if (ferror(f) | fclose(f)) {
		fprintf(stderr, "bench_control: writing %s/%s failed\n", dir, name);
		exit(2);
	}
}

static void
print_cpu(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "model name", 10) == 0) {
			char *p = strchr(line, ':');

			if (p != NULL)
				printf("cpu:%s", p + 1);
			break;
		}
	}
	fclose(f);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bench_control [--quick] [--csv DIR]\n");
}

int
main(int argc, char **argv)
{
	const uint32_t *ns = full_n, *ms = full_m;
	size_t n_ns = sizeof(full_n) / sizeof(full_n[0]), n_ms = sizeof(full_m) / sizeof(full_m[0]);
	size_t n_flows = sizeof(flow_counts) / sizeof(flow_counts[0]);
	size_t n_fills = sizeof(flow_fills) / sizeof(flow_fills[0]);
	struct build_row *builds;
	struct balance_row *bals;
	struct disruption_row *dis;
	struct flow_row *flows;
	struct lookup_row lk[2];
	size_t nb = 0, nd = 0, nf = 0, nl = 0, a, b;
	int quick = 0;
	const char *csv_dir = NULL;
	int reps = FULL_REPS, i;
	double t_start = now_ms();

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			ns = quick_n;
			ms = quick_m;
			n_ns = sizeof(quick_n) / sizeof(quick_n[0]);
			n_ms = sizeof(quick_m) / sizeof(quick_m[0]);
			reps = QUICK_REPS;
			quick = 1;
		} else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc) {
			csv_dir = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (csv_dir != NULL && mkdir(csv_dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "bench_control: mkdir %s: %s\n", csv_dir, strerror(errno));
		return 2;
	}

	builds = xmalloc(n_ns * n_ms * sizeof(*builds));
	bals = xmalloc(n_ns * n_ms * sizeof(*bals));
	dis = xmalloc(2 * n_ns * n_ms * sizeof(*dis));
	flows = xmalloc(n_flows * n_fills * sizeof(*flows));

	print_cpu();
	printf("Maglev: members 10.0.0.1.. weight 1, default seed; %d timed builds each\n\n",
	       reps);
	for (a = 0; a < n_ms; a++) {
		for (b = 0; b < n_ns; b++) {
			uint32_t n = ns[b], m = ms[a];
			struct sl_maglev_member *mb = make_members(n);
			uint16_t *ref = xmalloc((size_t)m * sizeof(*ref));

			if (bench_build(n, m, reps, mb, ref, &builds[nb], &bals[nb]) == 0) {
				nb++;
				if (bench_remove(n, m, mb, ref, &dis[nd]) == 0 && n >= 2)
					nd++;
				if (bench_add(n, m, mb, ref, &dis[nd]) == 0)
					nd++;
			}
			free(ref);
			free(mb);
		}
	}
	for (a = 0; a < n_flows; a++)
		for (b = 0; b < n_fills; b++)
			bench_flow(flow_counts[a], flow_fills[b], &flows[nf++]);
	bench_flow_lookup(10000, quick ? 1000000 : 20000000, &lk[nl++]);
	if (!quick)
		bench_flow_lookup(1000000, 20000000, &lk[nl++]);

	printf("Maglev build time\n");
	printf("%8s %6s %10s %10s\n", "M", "N", "best ms", "median ms");
	for (a = 0; a < nb; a++)
		printf("%8u %6u %10.3f %10.3f\n", builds[a].m, builds[a].n, builds[a].best_ms,
		       builds[a].median_ms);

	printf("\nMaglev balance (slots per member)\n");
	printf("%8s %6s %8s %8s %10s %9s\n", "M", "N", "min", "max", "mean", "max/mean");
	for (a = 0; a < nb; a++)
		printf("%8u %6u %8u %8u %10.2f %9.4f\n", bals[a].m, bals[a].n, bals[a].min,
		       bals[a].max, bals[a].mean, bals[a].max_over_mean);

	printf("\nMaglev disruption (one member removed / added)\n");
	printf("%8s %6s %7s %14s %12s %9s\n", "M", "N", "op", "its slots", "others moved",
	       "% of M");
	for (a = 0; a < nd; a++)
		printf("%8u %6u %7s %14u %12u %8.3f%%\n", dis[a].m, dis[a].n, dis[a].op,
		       dis[a].changed_slots, dis[a].others_moved, 100.0 * dis[a].fraction);

	printf("\nFlow table memory (%u ways a bucket, %zu-byte entries, %zu-byte signature "
	       "buckets)\n", SL_FLOW_BUCKET_WAYS, sizeof(struct sl_flow_entry),
	       sizeof(struct sl_flow_bucket));
	printf("%10s %6s %10s %14s %10s %10s\n", "flows", "fill", "buckets", "bytes", "B/flow",
	       "MiB");
	for (a = 0; a < nf; a++)
		printf("%10llu %5u%% %10u %14zu %10.1f %10.1f\n",
		       (unsigned long long)flows[a].flows, flows[a].fill, flows[a].buckets,
		       flows[a].bytes, flows[a].bytes_per_flow, flows[a].mib);

	printf("\nFlow table lookups (batches of %d: signatures, then entry, then key)\n",
	       LOOKUP_BATCH);
	printf("%10s %10s %10s %10s %10s %10s %10s %8s\n", "flows", "MiB", "inserted", "ns/lookup",
	       "ns/sigs", "ns/entry", "ns/line", "lines");
	for (a = 0; a < nl; a++)
		printf("%10llu %10.1f %10llu %10.1f %10.1f %10.1f %10.1f %8.2f\n",
		       (unsigned long long)lk[a].flows, lk[a].mib,
		       (unsigned long long)lk[a].inserted, lk[a].ns_lookup, lk[a].ns_sig,
		       lk[a].ns_entry, lk[a].ns_line, lk[a].ns_lookup / lk[a].ns_line);
	printf("(ns/sigs: the signatures alone; ns/entry: the entry alone, its way known; "
	       "ns/line: one random line of the table's memory)\n");

	if (csv_dir != NULL) {
		FILE *f;

		f = open_csv(csv_dir, "flow_lookup.csv",
			     "flows,table_mib,inserted,ns_per_lookup,ns_per_random_line,"
			     "ns_signatures_only,ns_entry_only");
		for (a = 0; a < nl; a++)
			fprintf(f, "%llu,%.2f,%llu,%.2f,%.2f,%.2f,%.2f\n",
				(unsigned long long)lk[a].flows, lk[a].mib,
				(unsigned long long)lk[a].inserted, lk[a].ns_lookup, lk[a].ns_line,
				lk[a].ns_sig, lk[a].ns_entry);
		close_csv(f, csv_dir, "flow_lookup.csv");

		f = open_csv(csv_dir, "maglev_build.csv", "N,M,best_ms,median_ms");
		for (a = 0; a < nb; a++)
			fprintf(f, "%u,%u,%.4f,%.4f\n", builds[a].n, builds[a].m,
				builds[a].best_ms, builds[a].median_ms);
		close_csv(f, csv_dir, "maglev_build.csv");

		f = open_csv(csv_dir, "maglev_balance.csv",
			     "N,M,min_slots,max_slots,mean,max_over_mean");
		for (a = 0; a < nb; a++)
			fprintf(f, "%u,%u,%u,%u,%.4f,%.6f\n", bals[a].n, bals[a].m, bals[a].min,
				bals[a].max, bals[a].mean, bals[a].max_over_mean);
		close_csv(f, csv_dir, "maglev_balance.csv");

		f = open_csv(csv_dir, "maglev_disruption.csv",
			     "N,M,op,slots_of_changed_backend,other_slots_moved,fraction_of_M");
		for (a = 0; a < nd; a++)
			fprintf(f, "%u,%u,%s,%u,%u,%.6f\n", dis[a].n, dis[a].m, dis[a].op,
				dis[a].changed_slots, dis[a].others_moved, dis[a].fraction);
		close_csv(f, csv_dir, "maglev_disruption.csv");

		f = open_csv(csv_dir, "flow_memory.csv",
			     "flows,fill_percent,buckets,bytes,bytes_per_flow,mib");
		for (a = 0; a < nf; a++)
			fprintf(f, "%llu,%u,%u,%zu,%.2f,%.2f\n", (unsigned long long)flows[a].flows,
				flows[a].fill, flows[a].buckets, flows[a].bytes,
				flows[a].bytes_per_flow, flows[a].mib);
		close_csv(f, csv_dir, "flow_memory.csv");
		printf("\nCSV files written to %s\n", csv_dir);
	}

	free(flows);
	free(dis);
	free(bals);
	free(builds);
	printf("\n%s in %.2f s\n", failures ? "FAILED" : "ok", (now_ms() - t_start) / 1e3);
	return failures ? 1 : 0;
}
