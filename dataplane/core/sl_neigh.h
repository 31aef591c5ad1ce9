/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_neigh.h: the neighbour table: which MAC answers for an IP address on a
 * port, learned through ARP / IPv6 Neighbor Discovery or configured.
 *
 * The control thread owns the table and is its only user (no locks, no
 * atomics): it feeds it the ARP/ND replies and requests the exception path
 * hands up (sl_neigh_learn), drives its timers (sl_neigh_tick, which asks for
 * requests and probes through a callback), and copies the usable MACs into
 * each compiled snapshot. Workers never see it.
 *
 * Entries are created only for addresses the configuration needs: each
 * compile runs sl_neigh_begin(), sl_neigh_want() for every backend and next
 * hop, then sl_neigh_end(), which deletes the dynamic entries no longer
 * wanted. Learning never creates entries, so ARP/ND spam cannot fill the
 * table.
 *
 * States and timers (times are a millisecond clock the caller supplies):
 *   INCOMPLETE  no MAC; a broadcast/multicast request every
 *               SL_NEIGH_RETRANS_MS, SL_NEIGH_MAX_PROBES in all, then FAILED
 *   REACHABLE   MAC confirmed; SL_NEIGH_REACHABLE_MS after the last
 *               confirmation it turns STALE
 *   STALE       MAC still used; a unicast probe every SL_NEIGH_RETRANS_MS,
 *               SL_NEIGH_MAX_PROBES in all, then FAILED (the MAC is dropped)
 *   FAILED      no MAC; every SL_NEIGH_FAILED_RETRY_MS back to INCOMPLETE,
 *               so a backend that comes up later is found
 *   STATIC      configured; never probed, never changed by learning or timers
 * A reply or request from the address (sl_neigh_learn) makes any dynamic
 * entry REACHABLE with the MAC it carries.
 */
#ifndef SL_NEIGH_H
#define SL_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_types.h"

#define SL_NEIGH_RETRANS_MS 1000
#define SL_NEIGH_MAX_PROBES 3
#define SL_NEIGH_FAILED_RETRY_MS 5000
#define SL_NEIGH_REACHABLE_MS 60000
#define SL_NEIGH_MAX_CAPACITY (1u << 24)

enum sl_neigh_state {
	SL_NEIGH_INCOMPLETE = 0, /* resolving, no MAC */
	SL_NEIGH_REACHABLE,      /* MAC confirmed recently */
	SL_NEIGH_STALE,          /* MAC still used, being re-probed */
	SL_NEIGH_FAILED,         /* no MAC; retried later */
	SL_NEIGH_STATIC,         /* from configuration */
	SL_NEIGH_STATE_MAX
};

struct sl_neigh_table;

/* Asks the caller to send an ARP request / NS for a on port, on the 802.1Q
 * segment vlan_tci (0: untagged; as its last sl_neigh_want() said): to
 * unicast, or broadcast / solicited-node multicast when unicast is NULL. It
 * must not change the table. */
typedef void (*sl_neigh_solicit_fn)(void *ctx, uint16_t port, const struct sl_ip_addr *a,
				    const struct sl_mac *unicast, uint16_t vlan_tci);

/* Called once per entry by sl_neigh_foreach(); mac is NULL when the entry has
 * no usable MAC; age_ms is the time since the entry was last confirmed
 * (REACHABLE, STALE), or created or last changed state (INCOMPLETE, FAILED);
 * always 0 for STATIC. It must not change the table. */
typedef void (*sl_neigh_foreach_fn)(void *ctx, uint16_t port, const struct sl_ip_addr *a,
				    const struct sl_mac *mac, enum sl_neigh_state st,
				    uint64_t age_ms);

/*
 * A table for at most capacity entries (static and dynamic together), all
 * allocated now. Returns NULL with errno EINVAL (capacity 0 or above
 * SL_NEIGH_MAX_CAPACITY) or ENOMEM.
 */
struct sl_neigh_table *sl_neigh_create(uint32_t capacity);

/* Free the table (NULL is fine). */
void sl_neigh_free(struct sl_neigh_table *t);

/*
 * Configure a's MAC on port: the entry (created or converted from a dynamic
 * one) becomes STATIC with mac; an existing static entry takes the new mac.
 * Static entries survive sl_neigh_end(). Returns 0, -EINVAL (NULL argument)
 * or -ENOSPC (table full).
 */
int sl_neigh_add_static(struct sl_neigh_table *t, uint16_t port, const struct sl_ip_addr *a,
			const struct sl_mac *mac);

/*
 * Remove the entry of a on port, static or dynamic (a configured static
 * neighbour was removed). Returns 0, -EINVAL (NULL argument) or -ENOENT.
 */
int sl_neigh_del(struct sl_neigh_table *t, uint16_t port, const struct sl_ip_addr *a);

/*
 * The configuration needs a's MAC on port, where a is on the 802.1Q segment
 * vlan_tci (0: untagged): creates an INCOMPLETE entry, due for its first
 * request at now, if there is none, and marks the entry wanted in the
 * current generation (see sl_neigh_begin). An existing entry keeps its state
 * and takes vlan_tci for its next requests. Returns 0, -EINVAL (NULL argument) or -ENOSPC (table full). The
 * entries of the previous round keep their slots until sl_neigh_end(), so a
 * table must hold the old and the new sets together: size it for twice the
 * largest configuration.
 */
int sl_neigh_want(struct sl_neigh_table *t, uint16_t port, const struct sl_ip_addr *a,
		  uint16_t vlan_tci, uint64_t now);

/* Start a generation of wants (a compile). */
void sl_neigh_begin(struct sl_neigh_table *t);

/*
 * End the generation: delete every dynamic (non-STATIC) entry not wanted
 * since the last sl_neigh_begin(). Returns how many were deleted.
 */
uint32_t sl_neigh_end(struct sl_neigh_table *t);

/*
 * A reply or a request from a on port said its MAC is mac (solicited: it
 * answered our request: an ARP reply, an NA with the solicited flag). When a
 * dynamic entry for a exists, whatever its state, it takes mac, becomes
 * REACHABLE, confirmed at now, and its probe count is reset; solicited and
 * unsolicited messages are treated alike, so a gratuitous ARP after a
 * failover takes effect at once. Nothing is created for addresses nobody
 * wanted, and static entries are left alone; a multicast/broadcast or
 * all-zero mac is ignored. Returns 1 when the entry's usable MAC changed (a
 * new MAC, or it had none), 0 otherwise (same MAC, unknown address, static
 * entry, ignored mac, NULL argument).
 */
int sl_neigh_learn(struct sl_neigh_table *t, uint16_t port, const struct sl_ip_addr *a,
		   const struct sl_mac *mac, uint64_t now, bool solicited);

/*
 * The MAC to send to a on port: true with *mac (may be NULL) set when the
 * entry is REACHABLE, STALE or STATIC; false otherwise.
 */
bool sl_neigh_lookup(const struct sl_neigh_table *t, uint16_t port, const struct sl_ip_addr *a,
		     struct sl_mac *mac);

/*
 * Run the timers due at now (see the file comment), calling solicit (may be
 * NULL) for every request or probe to send. An entry acts at most once per
 * call; a late call does not send the missed requests, it reschedules from
 * now. Returns the number of entries whose usable MAC went away (STALE ->
 * FAILED): the caller recompiles when > 0. Cost: one pass over the table.
 */
uint32_t sl_neigh_tick(struct sl_neigh_table *t, uint64_t now, sl_neigh_solicit_fn solicit,
		       void *ctx);

/* Call fn for every entry, in no particular order. */
void sl_neigh_foreach(const struct sl_neigh_table *t, sl_neigh_foreach_fn fn, void *ctx,
		      uint64_t now);

/* Entries in use. */
uint32_t sl_neigh_count(const struct sl_neigh_table *t);

/* Entries it can hold (0 for NULL). */
uint32_t sl_neigh_capacity(const struct sl_neigh_table *t);

/*
 * A counter that advances whenever sl_neigh_lookup() may answer differently
 * for an address some compilation wanted: a MAC learned, changed or lost
 * (STALE -> FAILED), a static entry added, an entry with a MAC deleted by
 * sl_neigh_del(). sl_neigh_end() does not advance it: what it deletes no
 * compilation since the last sl_neigh_begin() wanted. 0 for NULL.
 */
uint64_t sl_neigh_epoch(const struct sl_neigh_table *t);

/* "incomplete", "reachable", "stale", "failed", "static" ("unknown" otherwise). */
const char *sl_neigh_state_name(enum sl_neigh_state st);

#endif /* SL_NEIGH_H */
