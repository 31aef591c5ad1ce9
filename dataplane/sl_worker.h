/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_worker.h: the poll-mode worker lcore.
 *
 * DESIGN: each worker owns a set of (port, RX queue) pairs and one TX queue
 * on every port (txq[port]): TX queue w of each port when the device offers
 * one per worker, else the index of an RX queue it reads there (none when
 * it reads none: packets for that port are dropped, no_tx_queue). No TX
 * queue is shared.
 * Packets the fast path does not handle (ARP, ND, ping, fragments, ICMP
 * errors, DNAT replies, traffic for the host) take the worker's slow path
 * (sl_worker_slowpath.c) in the same loop; what needs state of the control
 * thread (neighbours, the exception path) is handed to it on the punt ring
 * (sl_control_slowpath.h), and what it sends comes back on the inject ring.
 * Per iteration it loads the published snapshot once (sl_publisher_read),
 * processes one burst from each of its queues, flushes TX buffers whose TSC
 * deadline passed, and reports a quiescent state (sl_publisher_quiescent),
 * after which it holds no snapshot pointer. Its counters are its own
 * (sl_stats.h). No locks, syscalls, allocation or logging in the loop.
 */
#ifndef SL_WORKER_H
#define SL_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "sl_flow.h"
#include "sl_publish.h"
#include "sl_reply.h"
#include "sl_stats.h"
#include "sl_sync_msg.h"

#define SL_BURST 64
#define SL_MAX_QUEUES_PER_WORKER 16
#define SL_TX_DRAIN_US 100
#define SL_FLOW_DEFAULT_SIZE (1u << 20)  /* flows per worker lcore */
/*
 * Buckets the expiry sweep visits per loop iteration: few while packets
 * arrive (a 1M-flow table, 2^18 buckets, is swept in about 0.6 s at 15 Mpps), more
 * when the queues are idle.
 */
#define SL_FLOW_SWEEP_BUSY 1
#define SL_FLOW_SWEEP_IDLE 64

/*
 * Packets whose next hop has no MAC yet (a backend, tunnel endpoint or, for
 * a stateless DNAT reply, the gateway: the first packets after a start or a
 * restart), held until a newer snapshot comes (the control thread publishes
 * one when it learns a MAC) and processed again then, as the kernel keeps a
 * neighbour's unresolved queue; dropped as no_neighbour after SL_HOLD_MS or
 * when SL_HOLD_MAX are held.
 */
#define SL_HOLD_MAX 1024
#define SL_HOLD_MS 1000
#define SL_HOLD_NO_RULE UINT32_MAX

struct sl_held {
	struct rte_mbuf *m;
	uint32_t since_ms;   /* when it was first held */
	uint32_t rule_id;    /* the rule's counter id (its drop counted at expiry), or SL_HOLD_NO_RULE */
	uint16_t port;       /* the port index it arrived on */
};

/* Fragments whose first fragment chose a rule, remembered for the later ones. */
#define SL_FRAG_SLOTS 256
#define SL_FRAG_TTL_MS 2000
#define SL_FRAG_TO_FRONTEND 1    /* a datagram to a frontend: its rule */
#define SL_FRAG_REPLY 2          /* a DNAT backend's reply: where it goes */

struct sl_frag_slot {
	struct sl_ip_addr src;
	struct sl_ip_addr dst;
	uint32_t id;
	uint32_t rule_id;
	uint32_t expires_ms;
	uint8_t proto;
	uint8_t used;              /* 0 free, or SL_FRAG_TO_FRONTEND / SL_FRAG_REPLY */
	uint8_t reply_path;        /* SL_FRAG_REPLY: the path counter (enum sl_path_counter) */
	struct sl_reply_val reply; /* SL_FRAG_REPLY: where the reply goes */
};

/* What workers know of each port; fixed at start, shared read-only. */
struct sl_dp_port {
	struct sl_mac mac;
	uint16_t vlan_tci;        /* the port's 802.1Q tag (0: untagged) */
	uint16_t mtu;
	uint8_t has_ipv4;
	uint8_t has_ipv6;
	uint8_t exception;        /* an exception path (TAP) takes what is not handled here */
	uint8_t has_gateway[2];   /* a gateway of IPv4 [0], IPv6 [1] is configured (MAC known or not) */
	struct sl_ip_addr ipv4;
	struct sl_ip_addr ipv6;
};

/* Inject/punt rings: mbuf->port carries the port index (not the DPDK port id). */
#define SL_SLOW_RING_SIZE 1024
#define SL_INJECT_BURST 32

/*
 * Flow sync (--sync-peers; see sl_sync.h): each worker has a ring of
 * struct sl_sync_record to the control thread (the flows it starts and
 * renews) and a ring of struct sl_sync_install from it (the flows the
 * other hosts reported, resolved against this host's snapshot). Both are
 * single-producer single-consumer element rings; NULL when sync is off.
 */
#define SL_SYNC_RING_SIZE 4096
#define SL_SYNC_INSTALL_BURST 32 /* records a worker installs per loop iteration, at most */

/* A peer's flow for a worker to install: this host's stable ids. */
struct sl_sync_install {
	struct sl_flow_key key;
	uint32_t backend_id;   /* counter id of the backend */
	uint32_t rule_id;      /* counter id of the rule */
	uint32_t lifetime_ms;  /* remaining lifetime, from when the peer sent it */
	uint8_t state;         /* enum sl_flow_state */
	uint8_t dist;          /* the rule's distribution: how the key is hashed */
	uint16_t pad;
};

struct sl_worker_queue {
	uint16_t port_id;
	uint16_t queue;
	uint16_t port_index;   /* index in the port profile, as in the snapshot */
	uint16_t mtu;
	struct rte_eth_dev_tx_buffer *txb;
};

/*
 * One worker lcore's state, laid out as DPDK's l3fwd lays out its per-lcore
 * configuration: the struct is cache-line aligned (and so a whole number of
 * lines), so no two workers' fields share a line. Within it the fields the
 * loop reads every iteration come first (only the flow table's own fields
 * are written there), then what the worker's slow path uses, then the reply
 * partition on lines of its own (the other workers read it), then the cold
 * fields the main thread sets up and tears down, and the fragment table.
 */
/*
 * Does the reply index translate the replies of (rule, backend, protocol,
 * backend port) back to that rule? One answer a snapshot generation, kept for the
 * untracked SYNs of a flood (SL_REPLY_MEMO of them, by backend index).
 */
#define SL_REPLY_MEMO 64
struct sl_reply_memo {
	uint64_t generation;
	const struct sl_rule *rule; /* NULL: empty */
	uint32_t backend;
	uint16_t port_be;
	uint8_t proto;
	uint8_t ok;
};

struct sl_worker {
	/* hot: every loop iteration, this lcore only */
	struct sl_lcore_stats *stats;
	uint32_t flow_capacity;       /* flows asked for; 0 = no flow tracking */
	uint16_t n_queues;
	uint16_t n_ports;
	uint32_t n_replies;           /* 0: no DNAT return path (no flow tracking) */
	uint32_t rcu_id;              /* its reader id in pub */
	uint64_t tsc_per_ms;
	uint64_t drain_tsc;
	struct sl_publisher *pub;
	atomic_bool *quit;
	struct rte_ring *inject;      /* from the control thread (NULL: none) */
	struct rte_ring *sync_out;    /* flow sync records to the control thread (NULL: off) */
	struct rte_ring *sync_in;     /* peers' flows from the control thread (NULL: off) */
	struct sl_flow_table flows;   /* this lcore's; valid when flow_capacity != 0 */
	struct sl_worker_queue *txq[SL_MAX_PORTS]; /* its TX queue on each port (&txqs[p]), or NULL */
	struct sl_worker_queue queues[SL_MAX_QUEUES_PER_WORKER];
	struct sl_worker_queue txqs[SL_MAX_PORTS];
	/* the slow path's (sl_worker_slowpath.c), this lcore only */
	const struct sl_dp_port *ports;
	struct rte_ring *punt;        /* to the control thread (NULL: none) */
	struct sl_reply_part *const *replies; /* every worker's partition, index = worker index */
	struct rte_mempool *mp;       /* for the TCP resets and ICMP errors it sends */
	uint16_t index;               /* worker index: its reply partition */
	/* its partition of the DNAT reply table, which every worker reads */
	struct sl_reply_part reply __rte_cache_aligned;
	/* cold: the main thread's, before launch and after the lcore returned */
	unsigned int lcore_id __rte_cache_aligned;
	uint32_t reply_capacity;      /* DNAT connections the reply table is sized for */
	void *flow_mem;
	void *reply_mem;
	/* the slow path's fragment table, this lcore only */
	struct sl_frag_slot frags[SL_FRAG_SLOTS];
	/* the reply index's answers for untracked SYNs, by backend (sl_reply_entry_needless) */
	struct sl_reply_memo reply_memo[SL_REPLY_MEMO];
	/* packets waiting for a next hop's MAC (sl_worker_hold), oldest first */
	struct sl_held held[SL_HOLD_MAX];
	uint16_t n_held;
	uint64_t held_generation;     /* the snapshot they found no MAC in */
	uint32_t releasing_since;     /* while held packets are processed again: their since_ms */
	bool releasing;
} __rte_cache_aligned;

/*
 * Allocate the TX buffers of w's queues and its flow table (flow_capacity
 * flows) on its socket. Returns 0 or -ENOMEM. Main thread, before launch.
 */
int sl_worker_prepare(struct sl_worker *w);

/* The lcore entry point (rte_eal_remote_launch); arg is a struct sl_worker. */
int sl_worker_main(void *arg);

/* Free what sl_worker_prepare allocated (after the lcore returned). */
void sl_worker_release(struct sl_worker *w);

#endif /* SL_WORKER_H */
