/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_snapshot.h: the immutable compiled configuration that workers read.
 *
 * DESIGN: the control thread builds a snapshot (sl_compile() in control/)
 * entirely off the packet path, then publishes its pointer (dataplane
 * sl_publish). Workers only read it. After publication nothing in it is
 * written again; it is freed with sl_snapshot_free() once every worker has
 * reported a quiescent state after the pointer was replaced. Plain heap
 * memory, no DPDK, so unit tests build and inspect snapshots without EAL.
 *
 * Counter ids (rule->counter_id, backend->counter_id) are stable across
 * snapshots for the same named resource, so per-lcore counters indexed by
 * them survive reloads.
 */
#ifndef SL_SNAPSHOT_H
#define SL_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_hash.h"
#include "sl_maglev.h"
#include "sl_parse.h"
#include "sl_prefix.h"
#include "sl_rewrite.h"
#include "sl_types.h"

#define SL_MAX_PORTS 8
#define SL_NAME_MAX 96
#define SL_MAX_RULE_COUNTERS 16384     /* rules across all load balancers */
#define SL_MAX_BACKEND_COUNTERS 262144 /* backend entries across all pools */
#define SL_RULE_NONE UINT32_MAX
#define SL_BACKEND_NONE UINT32_MAX
#define SL_PORT_INGRESS UINT16_MAX

/* Kinds of address in the snapshot's address index. */
#define SL_ADDR_FRONTEND 1u      /* a frontend IP of some rule */
#define SL_ADDR_DNAT_BACKEND 2u  /* a backend of a pool that a DNAT rule uses */
#define SL_ADDR_INDEX_PROTO 0xff /* the proto field of address index slots */

struct sl_backend {
	struct sl_ip_addr addr;
	uint32_t counter_id; /* also the stable id flow entries name it by */
	uint32_t weight;
	uint8_t family;
	uint8_t delivery;   /* enum sl_delivery used for Floating IP rules (the VNET's) */
	uint8_t usable;     /* takes new flows: adminState Up, or None and not probed down */
	uint8_t admin_down; /* adminState Down */
	uint32_t drain_ms;  /* the pool's drainPeriodInSeconds, ms; 0 = none */
	uint32_t pool;      /* index into snapshot->pools */
	uint16_t egress_port; /* port whose segment holds the backend; SL_PORT_INGRESS: the
			       * port the packet came in on (one-armed, or via its gateway) */
	char name[SL_NAME_MAX]; /* "<lb>/<pool>/<address name>" */
};

/*
 * A Maglev table shared by the snapshots (and the compiler's cache) that use
 * it: a pool that did not change keeps its table across snapshots instead of
 * rebuilding it. refs is only touched by the control thread (compilation and
 * snapshot reclamation both run there), so it is a plain counter.
 */
struct sl_maglev_table {
	uint32_t refs;
	uint32_t size;
	uint16_t slots[];
};

/* A table of size slots with one reference; NULL + errno. */
struct sl_maglev_table *sl_maglev_table_alloc(uint32_t size);
/* Drop a reference; the last one frees. NULL is accepted. */
void sl_maglev_table_put(struct sl_maglev_table *t);

struct sl_pool {
	uint32_t n_members;
	uint32_t *members;   /* member index -> index into snapshot->backends */
	uint32_t table_size; /* prime M */
	uint16_t *table;     /* slot -> member index, or SL_MAGLEV_EMPTY: shared->slots */
	struct sl_maglev_table *shared; /* the reference this pool holds; NULL when
					 * table is the pool's own malloc'd array */
	/*
	 * When some member is probed down (adminState None and its probe
	 * fails; adminState is configuration, the same on every host): the
	 * table built with probe health ignored, the one a host that probes
	 * every member up uses. Workers compare a new flow's choice with it
	 * (health_diverted). NULL when no member is probed down.
	 */
	uint16_t *unprobed_table;       /* unprobed->slots, or NULL */
	struct sl_maglev_table *unprobed; /* the reference it holds, or NULL */
	char name[SL_NAME_MAX]; /* "<lb>/<pool>" */
};

struct sl_rule {
	struct sl_ip_addr frontend;
	uint32_t counter_id;
	uint32_t pool;            /* index into snapshot->pools */
	uint16_t frontend_port_be;/* 0 = any port (HA ports) */
	uint16_t backend_port_be; /* 0 = keep the destination port */
	uint8_t proto;            /* SL_PROTO_TCP, SL_PROTO_UDP or SL_PROTO_ALL */
	uint8_t dist;             /* enum sl_dist */
	uint8_t floating_ip;      /* 1: Floating IP (backend->delivery), 0: DNAT */
	uint8_t family;
	uint8_t tcp_reset;        /* enableTcpReset */
	uint8_t inbound_nat;      /* 1: from an inbound NAT rule, 0: a load-balancing rule */
	uint16_t frontend_index;  /* its frontend IP configuration: index into
				   * snapshot->frontends (none when not below n_frontends) */
	uint32_t tcp_idle_ms;     /* idleTimeoutInMinutes, ms */
	char name[SL_NAME_MAX];   /* "<lb>/<rule>" */
};

#define SL_MAX_FRONTENDS 65535u /* frontend IP configurations across all load balancers */

/*
 * A frontend's counters: the sums of its rules' (sl_frontend_stats.h).
 * packets and bytes are what the rules forwarded; new_flows the flow
 * entries their packets started; drops, by enum sl_fe_drop, the packets
 * dropped once their rule was known.
 */
struct sl_frontend_counts {
	uint64_t packets;
	uint64_t bytes;
	uint64_t new_flows;
	uint64_t drops[SL_FE_DROP_MAX];
};

/*
 * A frontend IP configuration. Workers never read it: the control thread
 * names and sums frontends by it. base is added to the sums of its rules'
 * counters so that a frontend's counters only grow when rules come, go or
 * move between frontends; sl_frontend_counts_carry() sets it, before
 * publication.
 */
struct sl_frontend_info {
	struct sl_ip_addr addr;
	uint8_t family;
	char name[SL_NAME_MAX]; /* "<lb>/<frontend>" */
	struct sl_frontend_counts base;
};

/*
 * Open-addressed (linear probing) tables keyed by (address, protocol, port):
 * the frontend table ((frontend, proto, port) -> rule), the address index
 * (address -> SL_ADDR_* bits) and the reply index ((backend, proto, backend
 * port) -> rule, for stateless reverse DNAT).
 */
#define SL_SLOT_USED 1u      /* the slot holds a key */
#define SL_SLOT_AMBIGUOUS 2u /* reply index: two rules with different frontends share the key */

struct sl_frontend_slot {
	struct sl_ip_addr addr;
	uint16_t port_be;
	uint8_t proto;
	uint8_t used;       /* 0: free; else SL_SLOT_USED, with SL_SLOT_AMBIGUOUS */
	uint32_t rule;
};

struct sl_snapshot {
	uint64_t generation;
	uint32_t hash_seed;
	uint32_t n_ports;
	uint32_t n_rules;
	uint32_t n_pools;
	uint32_t n_backends;
	struct sl_rule *rules;
	struct sl_pool *pools;
	struct sl_backend *backends;
	/*
	 * Header prefixes, two per (backend, port):
	 * hdrs[(b * n_ports + port) * 2 + 0] Ethernet only (DNAT),
	 * hdrs[(b * n_ports + port) * 2 + 1] the backend's Floating IP delivery.
	 * Use sl_snapshot_hdr().
	 */
	struct sl_encap *hdrs;
	/* stable backend id (counter_id) -> index into backends, or SL_BACKEND_NONE */
	uint32_t *backend_by_id;
	/* stable rule id (counter_id) -> index into rules, or SL_RULE_NONE */
	uint32_t *rule_by_id;
	/*
	 * Ethernet headers toward each port's gateway, for packets sluice sends
	 * to clients (TCP resets): gw_hdrs[port * 2 + 0] IPv4, + 1 IPv6;
	 * valid = 0 when the port has no such gateway with a known MAC.
	 */
	struct sl_encap *gw_hdrs;
	uint32_t frontend_mask;   /* table size - 1 (power of two) */
	struct sl_frontend_slot *frontend_slots;
	/* address -> SL_ADDR_* bits (in the slot's rule field); see sl_snapshot_addr_kind() */
	uint32_t addr_mask;
	struct sl_frontend_slot *addr_slots;
	/*
	 * The reply index, for replies the reply table does not know (a
	 * request another host forwarded, or one from before a restart):
	 * (backend address, protocol, backend port) -> the DNAT rule (a
	 * load-balancing or inbound NAT rule) whose frontend the reply comes
	 * from; an HA ports rule's key is (backend, All, 0). A key that rules
	 * with different (frontend, frontend port) share is SL_SLOT_AMBIGUOUS.
	 * See sl_snapshot_reply_find().
	 */
	uint32_t reply_mask;
	struct sl_frontend_slot *reply_slots;
	/* each port's on-link prefixes, len 0 when not given: [port * 2] IPv4, [port * 2 + 1] IPv6 */
	struct sl_prefix on_link[SL_MAX_PORTS * 2];
	uint8_t has_dnat;         /* some rule uses DNAT (Floating IP off): replies come back */
	uint32_t n_frontends;
	struct sl_frontend_info *frontends; /* see sl_snapshot_alloc_frontends() */
	/*
	 * The compiler's notes (workers never read them): a fingerprint of
	 * what besides the model the snapshot was compiled from (ports,
	 * neighbour and health epochs, settings; see sl_compile_delta()), and
	 * 1 when sl_compile_delta() built it from its predecessor rather than
	 * from the whole model.
	 */
	uint64_t inputs_key;
	uint8_t incremental;
	/* bytes the backends and hdrs blocks hold when unfilled (recycled, sl_snapshot.c); else 0 */
	size_t backends_cap;
	size_t hdrs_cap;
};

/* Allocate an empty snapshot with room for the given counts; NULL + errno. */
struct sl_snapshot *sl_snapshot_alloc(uint32_t n_ports, uint32_t n_rules, uint32_t n_pools,
				      uint32_t n_backends);

/*
 * sl_snapshot_alloc() but for rules, backends, hdrs, backend_by_id and
 * rule_by_id, which are left unwritten: the caller writes every element
 * (an incremental compilation copies them from its predecessor, so
 * zeroing them first would only double the cost).
 */
struct sl_snapshot *sl_snapshot_alloc_unfilled(uint32_t n_ports, uint32_t n_rules,
					       uint32_t n_pools, uint32_t n_backends);

/*
 * Room for n (at most SL_MAX_FRONTENDS) zeroed frontends in s (a snapshot
 * from sl_snapshot_alloc() starts with none). 0, -EINVAL or -ENOMEM.
 */
int sl_snapshot_alloc_frontends(struct sl_snapshot *s, uint32_t n);

/* Free a snapshot and everything it owns (NULL is accepted). */
void sl_snapshot_free(struct sl_snapshot *s);

/*
 * Build the frontend table, the address index and the reply index from
 * s->rules, pools and backends (call once they are filled). Returns 0,
 * -EEXIST when two rules share (frontend, protocol, port), or -ENOMEM; on
 * error the snapshot keeps its previous (at first empty) tables.
 */
int sl_snapshot_index_frontends(struct sl_snapshot *s);

/*
 * The address index and the reply index (and has_dnat) alone, from s->rules,
 * pools and backends: what sl_snapshot_index_frontends() builds besides the
 * frontend table. 0 or -ENOMEM (the old indexes are then kept).
 */
int sl_snapshot_index_addresses(struct sl_snapshot *s);

/*
 * Edits of the open-addressed tables of a snapshot being built (before its
 * publication), for a compilation that changes a few rules of its
 * predecessor's copy instead of indexing every rule again. The result holds
 * the same entries as indexing from scratch would; only their slots may
 * differ. slots and mask are one of the snapshot's three tables.
 */
/*
 * Add key -> rule; -EEXIST (nothing changed) when the key is there. The
 * table must stay at most half full (the size indexing gives its keys).
 */
int sl_slots_add(struct sl_frontend_slot *slots, uint32_t mask, const struct sl_ip_addr *a,
		 uint8_t proto, uint16_t port_be, uint32_t rule);
/* Remove key (backward-shift deletion, so lookups stay exact); 0, or -ENOENT. */
int sl_slots_remove(struct sl_frontend_slot *slots, uint32_t mask, const struct sl_ip_addr *a,
		    uint8_t proto, uint16_t port_be);
/* Every used slot whose rule is >= from: rule += by (rules moved in s->rules). */
void sl_slots_shift_rules(struct sl_frontend_slot *slots, uint32_t mask, uint32_t from,
			  int32_t by);
/*
 * Set (set true) or clear kind (SL_ADDR_*) of address a in the address
 * index; a slot left with no kind is removed.
 */
void sl_snapshot_addr_mark(struct sl_snapshot *s, const struct sl_ip_addr *a, uint32_t kind,
			   bool set);
/*
 * The slots indexing gives a table of n keys (the frontend table) or of at
 * most n (the address index); 0: too many.
 */
uint32_t sl_snapshot_index_size(uint64_t n);

/*
 * A digest (CRC32-C) of what decides rule r's choice of backend: the hash
 * seed, the distribution, the frontend and its ports, and the backend of
 * every slot of its pool's Maglev table in slot order, each by address,
 * delivery and egress port (never by index, which differs between hosts
 * that built their snapshots in different orders). Two snapshots with equal
 * digests for a rule send every flow of it to the same backend. Control
 * thread (any reader of a snapshot it holds).
 */
uint32_t sl_snapshot_rule_digest(const struct sl_snapshot *s, uint32_t r);

static inline const struct sl_encap *
sl_snapshot_hdr(const struct sl_snapshot *s, uint32_t backend, uint32_t port, int floating)
{
	return &s->hdrs[(backend * s->n_ports + port) * 2 + (floating ? 1 : 0)];
}

static inline uint32_t
sl_frontend_hash(const struct sl_ip_addr *a, uint8_t proto, uint16_t port_be)
{
	uint32_t w[4];
	memcpy(w, a->bytes, 16);
	uint32_t h = w[0] ^ w[1] ^ (w[2] * 0x9e3779b1u) ^ (w[3] * 0x85ebca6bu);
	h ^= ((uint32_t)port_be << 8) ^ proto;
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h;
}

/* The slot of key (a, proto, port_be) in one of the tables above, or NULL. */
static inline const struct sl_frontend_slot *
sl_slot_find(const struct sl_frontend_slot *slots, uint32_t mask, const struct sl_ip_addr *a,
	     uint8_t proto, uint16_t port_be)
{
	uint32_t i = sl_frontend_hash(a, proto, port_be) & mask;
	for (;;) {
		const struct sl_frontend_slot *slot = &slots[i];
		if (!slot->used)
			return NULL;
		if (slot->port_be == port_be && slot->proto == proto && sl_ip_addr_eq(&slot->addr, a))
			return slot;
		i = (i + 1) & mask;
	}
}

static inline uint32_t
sl_frontend_find(const struct sl_snapshot *s, const struct sl_ip_addr *a, uint8_t proto,
		 uint16_t port_be)
{
	const struct sl_frontend_slot *slot =
		sl_slot_find(s->frontend_slots, s->frontend_mask, a, proto, port_be);
	return slot != NULL ? slot->rule : SL_RULE_NONE;
}

/*
 * Stateless reverse DNAT: the reply index's slot for a packet from backend
 * address src, protocol proto, source port sport_be: the exact key first,
 * then an HA ports rule's (src, All, 0). NULL when no DNAT rule sends to
 * that backend and port. slot->rule indexes s->rules; a slot with
 * SL_SLOT_AMBIGUOUS set names one of several frontends and must not be
 * used to translate. Two probes of an open-addressed table: O(1).
 */
static inline const struct sl_frontend_slot *
sl_snapshot_reply_find(const struct sl_snapshot *s, const struct sl_ip_addr *src, uint8_t proto,
		       uint16_t sport_be)
{
	const struct sl_frontend_slot *slot =
		sl_slot_find(s->reply_slots, s->reply_mask, src, proto, sport_be);
	return slot != NULL ? slot : sl_slot_find(s->reply_slots, s->reply_mask, src, SL_PROTO_ALL, 0);
}

/* SL_ADDR_* bits of an address (0: none of ours). */
static inline uint32_t
sl_snapshot_addr_kind(const struct sl_snapshot *s, const struct sl_ip_addr *a)
{
	uint32_t i = sl_frontend_hash(a, SL_ADDR_INDEX_PROTO, 0) & s->addr_mask;
	for (;;) {
		const struct sl_frontend_slot *slot = &s->addr_slots[i];
		if (!slot->used)
			return 0;
		if (sl_ip_addr_eq(&slot->addr, a))
			return slot->rule;
		i = (i + 1) & s->addr_mask;
	}
}

/*
 * The rule for a parsed packet: exact (dst, protocol, dst port) first, then
 * HA ports (dst, All, 0). SL_RULE_NONE when none.
 */
static inline uint32_t
sl_snapshot_lookup(const struct sl_snapshot *s, const struct sl_pkt *p)
{
	uint32_t r = sl_frontend_find(s, &p->dst, p->l4_proto, p->dport_be);
	if (r != SL_RULE_NONE)
		return r;
	return sl_frontend_find(s, &p->dst, SL_PROTO_ALL, 0);
}

/*
 * The backend index (into s->backends) for a flow hash in a pool, or
 * UINT32_MAX when the pool has no member with weight.
 */
static inline uint32_t
sl_pool_pick(const struct sl_snapshot *s, const struct sl_pool *pool, uint32_t hash)
{
	(void)s;
	if (pool->n_members == 0)
		return UINT32_MAX;
	uint16_t m = pool->table[sl_maglev_slot(hash, pool->table_size)];
	if (m == SL_MAGLEV_EMPTY)
		return UINT32_MAX;
	return pool->members[m];
}

#endif /* SL_SNAPSHOT_H */
