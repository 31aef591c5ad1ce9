/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_stats.h: per-lcore counters and their readers.
 *
 * DESIGN: each worker lcore owns one struct sl_lcore_stats (cache-line
 * aligned, allocated on its socket) and is its only writer; plain 64-bit
 * increments, no atomics. Readers (the control thread: periodic line, final
 * summary, JSON stats file) sum across lcores with plain loads: on the 64-bit
 * targets DPDK supports an aligned 64-bit load is not torn, and a reader
 * that sees a value a few packets old is fine for counters.
 * Rule and backend counters are indexed by the stable counter ids of the
 * snapshot (sl_snapshot.h), so they survive configuration reloads.
 */
#ifndef SL_STATS_H
#define SL_STATS_H

#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>

#include "sl_drop.h"
#include "sl_snapshot.h"
#include "sl_xdp_abi.h"

struct sl_frontend_deleted; /* sl_frontend_stats.h */

struct sl_obj_counter {
	uint64_t packets;
	uint64_t bytes;
};

/*
 * A rule's events besides what it forwarded (one cache line): the flow
 * entries its packets started (a new flow, or one restarted: expired, its
 * backend gone), and its packets dropped once the fast path had found the
 * rule, by enum sl_fe_drop. Summed per frontend (sl_frontend_stats.h).
 */
struct sl_rule_events {
	uint64_t new_flows;
	uint64_t drops[SL_FE_DROP_MAX];
};

/* Packets that took another path than client -> backend (lcore_stats.paths). */
enum sl_path_counter {
	SL_PATH_REPLY = 0,     /* DNAT replies rewritten to come from the frontend */
	SL_PATH_FRAGMENT,      /* fragments forwarded (3-tuple hash) */
	SL_PATH_ICMP_ERROR,    /* ICMP errors quoting a frontend flow, sent to its backend */
	SL_PATH_PUNTED,        /* handed to the control thread (ARP, ND, ping, exception path) */
	SL_PATH_INJECTED,      /* sent for the control thread (ARP, ND, replies, from the kernel) */
	SL_PATH_ICMP_SENT,     /* ICMP errors sluice generated (time exceeded, too big) */
	SL_PATH_REPLY_FULL,    /* DNAT flows whose reply entry found no room (replies dropped) */
	SL_PATH_REPLY_REMOTE,  /* DNAT replies found in another worker's reply partition */
	SL_PATH_REPLY_STATELESS, /* DNAT replies no reply entry knew, translated by the reply index */
	SL_PATH_REPLY_AMBIGUOUS, /* DNAT replies not translated: their backend:port has two frontends */
	SL_PATH_NEIGHBOUR_HELD, /* packets held until their next hop's MAC was known (sl_worker_hold) */
	SL_PATH_SYN_NO_REPLY_ENTRY, /* untracked DNAT SYNs whose replies the reply index translates: no entry */
	SL_PATH_MAX
};

/* "reply", "fragment", "icmp_error_forwarded", "punted", "injected", "icmp_sent",
 * "reply_table_full", "reply_remote", "reply_stateless", "reply_ambiguous",
 * "neighbour_held", "syn_no_reply_entry" */
const char *sl_path_counter_name(enum sl_path_counter c);

struct sl_lcore_stats {
	uint64_t rx;
	uint64_t tx;
	uint64_t drops[SL_DROP_MAX];
	uint64_t iterations;
	uint64_t busy_tsc;        /* TSC ticks of the loop iterations that received packets */
	uint64_t flow_hits;       /* packets whose flow entry chose the backend */
	uint64_t flow_misses;     /* packets with no (live) entry: Maglev chose */
	uint64_t flow_rehashed;   /* entries whose backend was gone or no longer took the flow */
	uint64_t flow_table_full; /* new flows left stateless: their bucket was full */
	uint64_t flow_expired;    /* entries reclaimed by the sweep */
	uint64_t flows_live;      /* entries in use (as of the last iteration) */
	uint64_t flow_drained;    /* flows of a Down backend ended by its drain period */
	uint64_t tcp_resets;      /* TCP RSTs sent (two per reset flow: client and backend) */
	uint64_t health_diverted; /* new flows sent elsewhere than probe health ignored would */
	uint64_t sync_dropped;    /* flow sync records lost: the ring to the control thread was full */
	uint64_t sync_installed;  /* entries installed from peers' flow sync records */
	uint64_t sync_renewed;    /* live entries (same backend) whose expiry a peer's record extended */
	uint64_t paths[SL_PATH_MAX]; /* packets by enum sl_path_counter (off the fast path) */
	uint64_t generation;     /* snapshot generation of the last burst processed */
	uint64_t generation_tsc; /* TSC of the first burst processed with it */
	struct sl_obj_counter *rules;    /* [SL_MAX_RULE_COUNTERS] */
	struct sl_obj_counter *backends; /* [SL_MAX_BACKEND_COUNTERS] */
	struct sl_rule_events *rule_events; /* [SL_MAX_RULE_COUNTERS] */
} __rte_cache_aligned;

/* A packet of the rule with counter id rule_id was dropped for reason r. */
static inline void
sl_stats_rule_dropped(struct sl_lcore_stats *s, uint32_t rule_id, enum sl_drop_reason r)
{
	s->rule_events[rule_id].drops[sl_fe_drop_of(r)]++;
}



struct sl_stats_totals {
	uint64_t rx;
	uint64_t tx;
	uint64_t busy_tsc;
	uint64_t drops[SL_DROP_MAX];
	uint64_t dropped;
	uint64_t flow_hits;
	uint64_t flow_misses;
	uint64_t flow_rehashed;
	uint64_t flow_table_full;
	uint64_t flow_expired;
	uint64_t flows_live;
	uint64_t flow_drained;
	uint64_t tcp_resets;
	uint64_t health_diverted;
	uint64_t sync_dropped;
	uint64_t sync_installed;
	uint64_t sync_renewed;
	uint64_t paths[SL_PATH_MAX];
};

/* The control thread's flow sync counters (sl_sync.h); it alone writes and reads them. */
struct sl_sync_counters {
	uint64_t sent;           /* records sent (each to every peer) */
	uint64_t datagrams_sent; /* datagrams sent, summed over the peers */
	uint64_t send_errors;    /* datagrams the kernel refused (peer unreachable, ...) */
	uint64_t received;       /* records received and handed to the workers */
	uint64_t bad;            /* datagrams refused: malformed, or not from a peer */
	uint64_t unknown;        /* records naming a frontend or backend this host does not have */
	uint64_t dropped;        /* records lost: a ring (either way) was full */
};

/* The XDP steering program of one AF_XDP port (sl_xdp.h): its counters summed over the CPUs. */
struct sl_xdp_port_stats {
	char port[64];       /* the port's name in the profile */
	char ifname[16];     /* the kernel interface */
	uint32_t prog_id;    /* the program's id in the kernel */
	char mode[16];       /* how it is attached: "native", "generic", "offload" */
	uint64_t c[SL_XDP_CTR_MAX]; /* SL_XDP_CTR_* */
};

/*
 * What the control thread adds to the workers' counters: flow sync's
 * (sync NULL: flow sync off) and the XDP programs' of the n_xdp AF_XDP
 * ports. A NULL struct sl_stats_extra is the same as both absent.
 */
struct sl_stats_extra {
	const struct sl_sync_counters *sync;
	const struct sl_xdp_port_stats *xdp;
	unsigned int n_xdp;
};

/* Allocate counters for a worker on socket; NULL + rte_errno. */
struct sl_lcore_stats *sl_stats_alloc(int socket);
void sl_stats_free(struct sl_lcore_stats *s);

/* Sum the n per-lcore blocks. */
void sl_stats_sum(struct sl_lcore_stats *const *lc, unsigned int n, struct sl_stats_totals *t);

/*
 * Write counters as JSON to f: totals, drops by reason, per lcore, and per
 * rule, frontend and backend of the current snapshot (by name), and what extra
 * adds: flow sync's counters ("sync") and each AF_XDP port's XDP
 * program's ("xdp"). publish_tsc is when
 * the current snapshot was published: each lcore that has forwarded with it
 * reports how long after that its first burst came (firstPacketMicroseconds).
 */
void sl_stats_write_json(FILE *f, struct sl_lcore_stats *const *lc, unsigned int n,
			 const unsigned int *lcore_ids, const struct sl_snapshot *snap,
			 double elapsed_s, uint64_t publish_tsc, const struct sl_stats_extra *extra);

/*
 * The same counters in Prometheus' text exposition format (version 0.0.4):
 * sluice_*_total counters with reason, lcore, rule, frontend and backend labels
 * (sluice_sync_records_total{event} with flow sync; sluice_xdp_packets_total{port,verdict}
 * and sluice_xdp_redirected_packets_total{port,kind} with AF_XDP ports).
 */
void sl_stats_write_prometheus(FILE *f, struct sl_lcore_stats *const *lc, unsigned int n,
			       const unsigned int *lcore_ids, const struct sl_snapshot *snap,
			       const struct sl_stats_extra *extra);

/*
 * Before next replaces prev (NULL: none) as the published snapshot: carry
 * each frontend's counters over (sl_frontend_counts_carry()), noting in
 * deleted the rules next no longer has. 0 or -ENOMEM.
 */
int sl_stats_frontends_carry(struct sl_lcore_stats *const *lc, unsigned int n,
			     const struct sl_snapshot *prev, struct sl_snapshot *next,
			     struct sl_frontend_deleted *deleted);

/*
 * Once next is published and its grace period over: what deleted's rules
 * counted meanwhile goes to their frontends (sl_frontend_counts_settle()).
 */
void sl_stats_frontends_settle(struct sl_lcore_stats *const *lc, unsigned int n,
			       struct sl_snapshot *next, struct sl_frontend_deleted *deleted);

/* A rule's (backend 0) or backend's (1) packets and bytes by stable counter id, over n lcores. */
struct sl_obj_counter sl_stats_obj_sum(struct sl_lcore_stats *const *lc, unsigned int n,
				       int backend, uint32_t id);

/* Packets forwarded by every rule of snap, summed over the n lcores (0 when snap is NULL). */
uint64_t sl_stats_rule_packets(struct sl_lcore_stats *const *lc, unsigned int n,
			       const struct sl_snapshot *snap);

/* Human-readable summary (final report); extra: as for sl_stats_write_json. */
void sl_stats_write_text(FILE *f, struct sl_lcore_stats *const *lc, unsigned int n,
			 const unsigned int *lcore_ids, const struct sl_snapshot *snap,
			 double elapsed_s, const struct sl_stats_extra *extra);

#endif /* SL_STATS_H */
