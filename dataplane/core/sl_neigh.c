/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_neigh.c: the neighbour table (see sl_neigh.h).
 *
 * Layout: separate chaining over a fixed pool. All `capacity` entries are
 * allocated at create; unused ones sit on a free list. Buckets hold the
 * index of the first entry of their chain; entries link by index (no
 * pointers, UINT32_MAX ends a chain). The bucket count is the power of two
 * at or above capacity, so chains average at most one entry when full, and
 * deleting is unlinking from one chain, with no tombstones to clean up, which
 * suits the mark-and-sweep of sl_neigh_end(). The key (port, address) is
 * hashed with sl_hash64.
 *
 * Timers: every dynamic entry has a `due` time at which sl_neigh_tick() acts
 * on it (next request or probe, state change). The tick walks the whole pool:
 * tables hold backends and next hops, thousands at most, and it runs a few
 * times a second on the control thread.
 *
 * Single-threaded by contract (control thread only): no locks, no atomics.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sl_hash.h"
#include "sl_neigh.h"

#define SL_NEIGH_NIL UINT32_MAX
#define SL_NEIGH_HASH_SEED 0x6e656967686275ull

struct sl_neigh_entry {
	struct sl_ip_addr addr;
	struct sl_mac mac;      /* valid in REACHABLE, STALE, STATIC */
	uint16_t port;
	uint16_t vlan_tci;      /* the segment requests go out on (from sl_neigh_want) */
	uint8_t state;          /* enum sl_neigh_state */
	uint8_t in_use;
	uint8_t probes;         /* requests sent in this INCOMPLETE or STALE round */
	uint32_t next;          /* next entry in the chain, or in the free list */
	uint32_t want_gen;      /* generation of the last sl_neigh_want() */
	uint64_t due;           /* when sl_neigh_tick() next acts (dynamic states) */
	uint64_t since;         /* last confirmation, creation or state change: the age */
};

struct sl_neigh_table {
	uint32_t capacity;
	uint32_t count;
	uint32_t bucket_mask;
	uint32_t free_head;
	uint32_t gen;           /* current generation of wants */
	uint64_t epoch;         /* advances when a lookup may answer differently */
	uint32_t *buckets;
	struct sl_neigh_entry *entries;
};

static const char *const sl_neigh_state_names[SL_NEIGH_STATE_MAX] = {
	[SL_NEIGH_INCOMPLETE] = "incomplete",
	[SL_NEIGH_REACHABLE] = "reachable",
	[SL_NEIGH_STALE] = "stale",
	[SL_NEIGH_FAILED] = "failed",
	[SL_NEIGH_STATIC] = "static",
};

const char *
sl_neigh_state_name(enum sl_neigh_state st)
{
	if ((unsigned int)st >= SL_NEIGH_STATE_MAX)
		return "unknown";
	return sl_neigh_state_names[st];
}

static inline bool
sl_neigh_has_mac(uint8_t state)
{
	return state == SL_NEIGH_REACHABLE || state == SL_NEIGH_STALE ||
	       state == SL_NEIGH_STATIC;
}

static uint32_t
sl_neigh_bucket(const struct sl_neigh_table *t, uint16_t port, const struct sl_ip_addr *a)
{
	uint8_t key[2 + sizeof(a->bytes)];

	key[0] = (uint8_t)(port >> 8);
	key[1] = (uint8_t)port;
	memcpy(key + 2, a->bytes, sizeof(a->bytes));
	return (uint32_t)sl_hash64(key, sizeof(key), SL_NEIGH_HASH_SEED) & t->bucket_mask;
}

static uint32_t
sl_neigh_find(const struct sl_neigh_table *t, uint16_t port, const struct sl_ip_addr *a)
{
	uint32_t i = t->buckets[sl_neigh_bucket(t, port, a)];

	while (i != SL_NEIGH_NIL) {
		const struct sl_neigh_entry *e = &t->entries[i];

		if (e->port == port && sl_ip_addr_eq(&e->addr, a))
			return i;
		i = e->next;
	}
	return SL_NEIGH_NIL;
}

/* Take an entry off the free list and link it in; NULL when full. */
static struct sl_neigh_entry *
sl_neigh_insert(struct sl_neigh_table *t, uint16_t port, const struct sl_ip_addr *a)
{
	uint32_t b = sl_neigh_bucket(t, port, a);
	uint32_t i = t->free_head;
	struct sl_neigh_entry *e;

	if (i == SL_NEIGH_NIL)
		return NULL;
	e = &t->entries[i];
	t->free_head = e->next;
	memset(e, 0, sizeof(*e));
	e->addr = *a;
	e->port = port;
	e->in_use = 1;
	e->next = t->buckets[b];
	t->buckets[b] = i;
	t->count++;
	return e;
}

/* a's entry on port, made (all zero but its key; *created set) when there is none; NULL when full. */
static struct sl_neigh_entry *
sl_neigh_get(struct sl_neigh_table *t, uint16_t port, const struct sl_ip_addr *a, bool *created)
{
	uint32_t i = sl_neigh_find(t, port, a);

	*created = i == SL_NEIGH_NIL;
	return *created ? sl_neigh_insert(t, port, a) : &t->entries[i];
}

/* Unlink entry i from its chain and put it on the free list. */
static void
sl_neigh_remove(struct sl_neigh_table *t, uint32_t i)
{
	struct sl_neigh_entry *e = &t->entries[i];
	uint32_t *link = &t->buckets[sl_neigh_bucket(t, e->port, &e->addr)];

	while (*link != i)
		link = &t->entries[*link].next;
	*link = e->next;
	e->in_use = 0;
	e->next = t->free_head;
	t->free_head = i;
	t->count--;
}

struct sl_neigh_table *
sl_neigh_create(uint32_t capacity)
{
	struct sl_neigh_table *t;
	uint32_t nb = 1, i;

	if (capacity == 0 || capacity > SL_NEIGH_MAX_CAPACITY) {
		errno = EINVAL;
		return NULL;
	}
	while (nb < capacity)
		nb <<= 1;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->buckets = malloc((size_t)nb * sizeof(*t->buckets));
	t->entries = calloc(capacity, sizeof(*t->entries));
	if (t->buckets == NULL || t->entries == NULL) {
		sl_neigh_free(t);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < nb; i++)
		t->buckets[i] = SL_NEIGH_NIL;
	for (i = 0; i < capacity; i++)
		t->entries[i].next = i + 1 < capacity ? i + 1 : SL_NEIGH_NIL;
	t->capacity = capacity;
	t->bucket_mask = nb - 1;
	t->free_head = 0;
	return t;
}

void
sl_neigh_free(struct sl_neigh_table *t)
{
	if (t == NULL)
		return;
	free(t->buckets);
	free(t->entries);
	free(t);
}

int
sl_neigh_add_static(struct sl_neigh_table *t, uint16_t port, const struct sl_ip_addr *a,
		    const struct sl_mac *mac)
{
	struct sl_neigh_entry *e;
	bool created;

	if (t == NULL || a == NULL || mac == NULL)
		return -EINVAL;
	e = sl_neigh_get(t, port, a, &created);
	if (e == NULL)
		return -ENOSPC;
	e->state = SL_NEIGH_STATIC;
	e->mac = *mac;
	t->epoch++;
	e->probes = 0;
	e->due = 0;
	e->since = 0; /* no clock here: sl_neigh_foreach() reports age 0 */
	return 0;
}

int
sl_neigh_del(struct sl_neigh_table *t, uint16_t port, const struct sl_ip_addr *a)
{
	uint32_t i;

	if (t == NULL || a == NULL)
		return -EINVAL;
	i = sl_neigh_find(t, port, a);
	if (i == SL_NEIGH_NIL)
		return -ENOENT;
	if (sl_neigh_has_mac(t->entries[i].state))
		t->epoch++;
	sl_neigh_remove(t, i);
	return 0;
}

int
sl_neigh_want(struct sl_neigh_table *t, uint16_t port, const struct sl_ip_addr *a,
	      uint16_t vlan_tci, uint64_t now)
{
	struct sl_neigh_entry *e;
	bool created;

	if (t == NULL || a == NULL)
		return -EINVAL;
	e = sl_neigh_get(t, port, a, &created);
	if (e == NULL)
		return -ENOSPC;
	if (created) {
		e->state = SL_NEIGH_INCOMPLETE;
		e->due = now;
		e->since = now;
	}
	e->vlan_tci = vlan_tci;
	e->want_gen = t->gen;
	return 0;
}

void
sl_neigh_begin(struct sl_neigh_table *t)
{
	if (t != NULL)
		t->gen++;
}

uint32_t
sl_neigh_end(struct sl_neigh_table *t)
{
	uint32_t i, n = 0;

	if (t == NULL)
		return 0;
	for (i = 0; i < t->capacity; i++) {
		const struct sl_neigh_entry *e = &t->entries[i];

		if (e->in_use && e->state != SL_NEIGH_STATIC && e->want_gen != t->gen) {
			sl_neigh_remove(t, i);
			n++;
		}
	}
	return n;
}

static bool
sl_mac_is_usable(const struct sl_mac *m)
{
	static const uint8_t zero[SL_ETHER_ADDR_LEN];

	/* The group bit of the first octet: multicast and broadcast. */
	return !(m->bytes[0] & 0x01) && memcmp(m->bytes, zero, SL_ETHER_ADDR_LEN) != 0;
}

int
sl_neigh_learn(struct sl_neigh_table *t, uint16_t port, const struct sl_ip_addr *a,
	       const struct sl_mac *mac, uint64_t now, bool solicited)
{
	struct sl_neigh_entry *e;
	uint32_t i;
	int changed;

	/* Both kinds confirm alike for now; see sl_neigh.h. */
	(void)solicited;
	if (t == NULL || a == NULL || mac == NULL || !sl_mac_is_usable(mac))
		return 0;
	i = sl_neigh_find(t, port, a);
	if (i == SL_NEIGH_NIL)
		return 0;
	e = &t->entries[i];
	if (e->state == SL_NEIGH_STATIC)
		return 0;
	changed = !sl_neigh_has_mac(e->state) ||
		  memcmp(e->mac.bytes, mac->bytes, SL_ETHER_ADDR_LEN) != 0;
	e->mac = *mac;
	e->state = SL_NEIGH_REACHABLE;
	e->probes = 0;
	e->since = now;
	e->due = now + SL_NEIGH_REACHABLE_MS;
	t->epoch += (uint64_t)changed;
	return changed;
}

bool
sl_neigh_lookup(const struct sl_neigh_table *t, uint16_t port, const struct sl_ip_addr *a,
		struct sl_mac *mac)
{
	const struct sl_neigh_entry *e;
	uint32_t i;

	if (t == NULL || a == NULL)
		return false;
	i = sl_neigh_find(t, port, a);
	if (i == SL_NEIGH_NIL)
		return false;
	e = &t->entries[i];
	if (!sl_neigh_has_mac(e->state))
		return false;
	if (mac != NULL)
		*mac = e->mac;
	return true;
}

/* Send one request or probe for e and schedule the next step. */
static void
sl_neigh_solicit(struct sl_neigh_entry *e, uint64_t now, sl_neigh_solicit_fn solicit, void *ctx,
		 const struct sl_mac *unicast)
{
	e->probes++;
	e->due = now + SL_NEIGH_RETRANS_MS;
	if (solicit != NULL)
		solicit(ctx, e->port, &e->addr, unicast, e->vlan_tci);
}

static void
sl_neigh_fail(struct sl_neigh_entry *e, uint64_t now)
{
	e->state = SL_NEIGH_FAILED;
	e->probes = 0;
	memset(&e->mac, 0, sizeof(e->mac));
	e->since = now;
	e->due = now + SL_NEIGH_FAILED_RETRY_MS;
}

uint32_t
sl_neigh_tick(struct sl_neigh_table *t, uint64_t now, sl_neigh_solicit_fn solicit, void *ctx)
{
	uint32_t i, lost = 0;

	if (t == NULL)
		return 0;
	for (i = 0; i < t->capacity; i++) {
		struct sl_neigh_entry *e = &t->entries[i];

		if (!e->in_use || e->state == SL_NEIGH_STATIC || now < e->due)
			continue;
		switch (e->state) {
		case SL_NEIGH_INCOMPLETE:
			if (e->probes >= SL_NEIGH_MAX_PROBES)
				sl_neigh_fail(e, now);
			else
				sl_neigh_solicit(e, now, solicit, ctx, NULL);
			break;
		case SL_NEIGH_FAILED:
			/* Try again from the start: a broadcast request now. */
			e->state = SL_NEIGH_INCOMPLETE;
			e->probes = 0;
			e->since = now;
			sl_neigh_solicit(e, now, solicit, ctx, NULL);
			break;
		case SL_NEIGH_REACHABLE:
			/* Not confirmed for SL_NEIGH_REACHABLE_MS: probe it directly. */
			e->state = SL_NEIGH_STALE;
			e->probes = 0;
			sl_neigh_solicit(e, now, solicit, ctx, &e->mac);
			break;
		case SL_NEIGH_STALE:
			if (e->probes >= SL_NEIGH_MAX_PROBES) {
				sl_neigh_fail(e, now);
				lost++;
				t->epoch++;
			} else {
				sl_neigh_solicit(e, now, solicit, ctx, &e->mac);
			}
			break;
		default:
			break;
		}
	}
	return lost;
}

void
sl_neigh_foreach(const struct sl_neigh_table *t, sl_neigh_foreach_fn fn, void *ctx, uint64_t now)
{
	uint32_t i;

	if (t == NULL || fn == NULL)
		return;
	for (i = 0; i < t->capacity; i++) {
		const struct sl_neigh_entry *e = &t->entries[i];
		uint64_t age;

		if (!e->in_use)
			continue;
		age = e->state == SL_NEIGH_STATIC || now < e->since ? 0 : now - e->since;
		fn(ctx, e->port, &e->addr, sl_neigh_has_mac(e->state) ? &e->mac : NULL,
		   (enum sl_neigh_state)e->state, age);
	}
}

uint64_t
sl_neigh_epoch(const struct sl_neigh_table *t)
{
	return t != NULL ? t->epoch : 0;
}

uint32_t
sl_neigh_capacity(const struct sl_neigh_table *t)
{
	return t != NULL ? t->capacity : 0;
}

uint32_t
sl_neigh_count(const struct sl_neigh_table *t)
{
	return t != NULL ? t->count : 0;
}
