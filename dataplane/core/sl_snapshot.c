/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_snapshot.c: allocation, freeing and the frontend index of snapshots.
 *
 * Control thread only: a snapshot is built here and by sl_compile(), then
 * published and never written again (see sl_snapshot.h). The frontend
 * table, the address index and the reply index are open-addressed with
 * linear probing, each a power of two of at least twice its key count (at
 * least 16 slots), so a probe sequence always ends at an unused slot and
 * stays short. Entries are deleted by moving the rest of their run back
 * (no tombstones), so a table edited by an incremental compilation
 * (sl_slots_add/remove) answers exactly as one indexed from scratch.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sl_hash.h"
#include "sl_maglev.h"
#include "sl_snapshot.h"

#define SL_FRONTEND_MIN_SLOTS 16u

/*
 * Large arrays recycled. A snapshot's backends and header prefixes grow with
 * the addresses configured; past glibc's largest mmap threshold (32 MiB)
 * every allocation of them is freshly mapped memory, and faulting it in
 * costs far more than the copy an incremental compilation makes into it.
 * So the last freed array of each kind at least SL_RECYCLE_MIN bytes is
 * kept (one spare a kind) for the next unfilled snapshot that fits in it.
 * Control thread only, as the rest of this file.
 */
#define SL_RECYCLE_MIN ((size_t)8 << 20)

struct sl_spare {
	void *p;
	size_t bytes;
};

static struct sl_spare sl_spare_backends, sl_spare_hdrs;

/*
 * The id maps (backend_by_id: 1 MiB, rule_by_id: 64 KiB) have one size:
 * the last one freed is kept for the next snapshot, so a compilation does
 * not map and fault in a fresh megabyte (the cost of small changes).
 */
static struct sl_spare sl_spare_backend_ids, sl_spare_rule_ids;

static void *
sl_fixed_alloc(struct sl_spare *sp, size_t bytes)
{
	void *p = sp->p;

	if (p == NULL)
		return malloc(bytes);
	sp->p = NULL;
	return p;
}

static void
sl_fixed_free(struct sl_spare *sp, void *p)
{
	if (sp->p == NULL)
		sp->p = p;
	else
		free(p);
}

/* `bytes` bytes (at least one), from the spare when it fits; *cap: what the block holds. */
static void *
sl_recycled_alloc(struct sl_spare *sp, size_t bytes, size_t *cap)
{
	void *p;

	if (bytes == 0)
		bytes = 1;
	if (sp->p != NULL && sp->bytes >= bytes && sp->bytes <= 2 * bytes) {
		p = sp->p;
		*cap = sp->bytes;
		sp->p = NULL;
		sp->bytes = 0;
		return p;
	}
	p = malloc(bytes);
	*cap = p != NULL ? bytes : 0;
	return p;
}

/* Free p (cap bytes), or keep it as the kind's spare. */
static void
sl_recycled_free(struct sl_spare *sp, void *p, size_t cap)
{
	if (p == NULL)
		return;
	if (cap < SL_RECYCLE_MIN) {
		free(p);
		return;
	}
	free(sp->p);
	sp->p = p;
	sp->bytes = cap;
}

/* calloc that returns a real allocation for a zero count too. */
static void *
sl_calloc_n(size_t n, size_t size)
{
	return calloc(n == 0 ? 1 : n, size);
}

/* The snapshot's arrays; with `fill` zeroed (the id maps: none), else left for the caller. */
static struct sl_snapshot *
sl_snapshot_alloc_arrays(uint32_t n_ports, uint32_t n_rules, uint32_t n_pools,
			 uint32_t n_backends, bool fill)
{
	struct sl_snapshot *s;
	size_t n_hdrs;

	if (n_ports > SL_MAX_PORTS) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	s->n_ports = n_ports;
	s->n_rules = n_rules;
	s->n_pools = n_pools;
	s->n_backends = n_backends;

	n_hdrs = (size_t)n_backends * n_ports * 2;
	s->rules = fill ? sl_calloc_n(n_rules, sizeof(*s->rules))
			: malloc((n_rules ? n_rules : 1) * sizeof(*s->rules));
	s->pools = sl_calloc_n(n_pools, sizeof(*s->pools));
	s->backends = fill ? sl_calloc_n(n_backends, sizeof(*s->backends))
			   : sl_recycled_alloc(&sl_spare_backends,
					       (size_t)n_backends * sizeof(*s->backends),
					       &s->backends_cap);
	s->hdrs = fill ? sl_calloc_n(n_hdrs, sizeof(*s->hdrs))
		       : sl_recycled_alloc(&sl_spare_hdrs, n_hdrs * sizeof(*s->hdrs), &s->hdrs_cap);
	/* An empty frontend table, so lookups miss until the rules are indexed. */
	s->frontend_slots = calloc(SL_FRONTEND_MIN_SLOTS, sizeof(*s->frontend_slots));
	s->frontend_mask = SL_FRONTEND_MIN_SLOTS - 1;
	s->addr_slots = calloc(SL_FRONTEND_MIN_SLOTS, sizeof(*s->addr_slots));
	s->addr_mask = SL_FRONTEND_MIN_SLOTS - 1;
	s->reply_slots = calloc(SL_FRONTEND_MIN_SLOTS, sizeof(*s->reply_slots));
	s->reply_mask = SL_FRONTEND_MIN_SLOTS - 1;
	s->backend_by_id = sl_fixed_alloc(&sl_spare_backend_ids,
					  SL_MAX_BACKEND_COUNTERS * sizeof(*s->backend_by_id));
	if (s->backend_by_id != NULL && fill)
		memset(s->backend_by_id, 0xff, SL_MAX_BACKEND_COUNTERS * sizeof(*s->backend_by_id));
	s->rule_by_id = sl_fixed_alloc(&sl_spare_rule_ids, SL_MAX_RULE_COUNTERS * sizeof(*s->rule_by_id));
	if (s->rule_by_id != NULL && fill)
		memset(s->rule_by_id, 0xff, SL_MAX_RULE_COUNTERS * sizeof(*s->rule_by_id));
	s->gw_hdrs = sl_calloc_n((size_t)n_ports * 2, sizeof(*s->gw_hdrs));
	if (s->rules == NULL || s->pools == NULL || s->backends == NULL || s->hdrs == NULL ||
	    s->frontend_slots == NULL || s->addr_slots == NULL || s->reply_slots == NULL ||
	    s->backend_by_id == NULL || s->rule_by_id == NULL || s->gw_hdrs == NULL) {
		sl_snapshot_free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

struct sl_snapshot *
sl_snapshot_alloc(uint32_t n_ports, uint32_t n_rules, uint32_t n_pools, uint32_t n_backends)
{
	return sl_snapshot_alloc_arrays(n_ports, n_rules, n_pools, n_backends, true);
}

struct sl_snapshot *
sl_snapshot_alloc_unfilled(uint32_t n_ports, uint32_t n_rules, uint32_t n_pools,
			   uint32_t n_backends)
{
	return sl_snapshot_alloc_arrays(n_ports, n_rules, n_pools, n_backends, false);
}

int
sl_snapshot_alloc_frontends(struct sl_snapshot *s, uint32_t n)
{
	struct sl_frontend_info *f;

	if (n > SL_MAX_FRONTENDS)
		return -EINVAL;
	f = sl_calloc_n(n, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	free(s->frontends);
	s->frontends = f;
	s->n_frontends = n;
	return 0;
}

struct sl_maglev_table *
sl_maglev_table_alloc(uint32_t size)
{
	struct sl_maglev_table *t = malloc(sizeof(*t) + (size_t)size * sizeof(t->slots[0]));

	if (t == NULL)
		return NULL;
	t->refs = 1;
	t->size = size;
	return t;
}

void
sl_maglev_table_put(struct sl_maglev_table *t)
{
	if (t != NULL && --t->refs == 0)
		free(t);
}

void
sl_snapshot_free(struct sl_snapshot *s)
{
	uint32_t i;

	if (s == NULL)
		return;
	if (s->pools != NULL) {
		for (i = 0; i < s->n_pools; i++) {
			free(s->pools[i].members);
			if (s->pools[i].shared != NULL)
				sl_maglev_table_put(s->pools[i].shared);
			else
				free(s->pools[i].table); /* a table the pool owns alone */
			sl_maglev_table_put(s->pools[i].unprobed);
		}
	}
	free(s->rules);
	free(s->frontends);
	free(s->pools);
	sl_recycled_free(&sl_spare_backends, s->backends, s->backends_cap);
	sl_recycled_free(&sl_spare_hdrs, s->hdrs, s->hdrs_cap);
	free(s->frontend_slots);
	free(s->addr_slots);
	free(s->reply_slots);
	if (s->backend_by_id != NULL)
		sl_fixed_free(&sl_spare_backend_ids, s->backend_by_id);
	if (s->rule_by_id != NULL)
		sl_fixed_free(&sl_spare_rule_ids, s->rule_by_id);
	free(s->gw_hdrs);
	free(s);
}

/*
 * The slot of key (a, proto, port_be) in slots: the one that holds it
 * (used set), else the free slot where it goes (used 0; the caller fills it).
 * The table always has a free slot.
 */
static struct sl_frontend_slot *
sl_slot_claim(struct sl_frontend_slot *slots, uint32_t mask, const struct sl_ip_addr *a,
	      uint8_t proto, uint16_t port_be)
{
	uint32_t i = sl_frontend_hash(a, proto, port_be) & mask;

	while (slots[i].used && !(slots[i].port_be == port_be && slots[i].proto == proto &&
				  sl_ip_addr_eq(&slots[i].addr, a)))
		i = (i + 1) & mask;
	return &slots[i];
}

static void
sl_slot_fill(struct sl_frontend_slot *slot, const struct sl_ip_addr *a, uint8_t proto,
	     uint16_t port_be, uint32_t rule)
{
	slot->addr = *a;
	slot->port_be = port_be;
	slot->proto = proto;
	slot->used = SL_SLOT_USED;
	slot->rule = rule;
}

static void
sl_addr_index_add(struct sl_frontend_slot *slots, uint32_t mask, const struct sl_ip_addr *a,
		  uint32_t kind)
{
	struct sl_frontend_slot *slot = sl_slot_claim(slots, mask, a, SL_ADDR_INDEX_PROTO, 0);

	if (slot->used)
		slot->rule |= kind;
	else
		sl_slot_fill(slot, a, SL_ADDR_INDEX_PROTO, 0, kind);
}

/* The smallest power of two >= 2 * keys and >= 16; 0 when keys is too large. */
static uint32_t
sl_index_size(uint64_t keys)
{
	uint32_t size = SL_FRONTEND_MIN_SLOTS;

	if (keys > (1u << 30))
		return 0;
	while (size < 2 * keys)
		size <<= 1;
	return size;
}

/* A DNAT rule: its backends' replies come back through sluice. */
static bool
sl_rule_dnat(const struct sl_snapshot *s, const struct sl_rule *rule)
{
	return !rule->floating_ip && rule->pool < s->n_pools;
}

/*
 * Do replies of rules a and b from the same backend port leave from the
 * same (frontend, frontend port)? An HA ports rule's frontend port is the
 * backend's (kept), port_be: the key's backend port (0 for HA ports).
 */
static bool
sl_reply_same(const struct sl_snapshot *s, uint32_t a, uint32_t b, uint16_t port_be)
{
	const struct sl_rule *ra = &s->rules[a], *rb = &s->rules[b];
	uint16_t pa = ra->frontend_port_be ? ra->frontend_port_be : port_be;
	uint16_t pb = rb->frontend_port_be ? rb->frontend_port_be : port_be;

	return pa == pb && sl_ip_addr_eq(&ra->frontend, &rb->frontend);
}

/*
 * The reply index: one key per (DNAT rule, member of its pool). A key two
 * rules with different frontends (or frontend ports) share is ambiguous;
 * so is an exact key of a backend that an HA ports rule also sends to,
 * unless both give the same frontend and port.
 */
static struct sl_frontend_slot *
sl_reply_index_build(const struct sl_snapshot *s, uint32_t *mask_out)
{
	uint64_t keys = 0;
	uint32_t size, mask, r, m, i;
	struct sl_frontend_slot *slots;

	for (r = 0; r < s->n_rules; r++)
		if (sl_rule_dnat(s, &s->rules[r]))
			keys += s->pools[s->rules[r].pool].n_members;
	size = sl_index_size(keys);
	if (size == 0 || (slots = calloc(size, sizeof(*slots))) == NULL)
		return NULL;
	mask = size - 1;
	for (r = 0; r < s->n_rules; r++) {
		const struct sl_rule *rule = &s->rules[r];
		if (!sl_rule_dnat(s, rule))
			continue;
		const struct sl_pool *pool = &s->pools[rule->pool];
		for (m = 0; m < pool->n_members; m++) {
			const struct sl_ip_addr *a = &s->backends[pool->members[m]].addr;
			struct sl_frontend_slot *slot =
				sl_slot_claim(slots, mask, a, rule->proto, rule->backend_port_be);
			if (!slot->used)
				sl_slot_fill(slot, a, rule->proto, rule->backend_port_be, r);
			else if (!sl_reply_same(s, slot->rule, r, rule->backend_port_be))
				slot->used |= SL_SLOT_AMBIGUOUS;
		}
	}
	for (i = 0; i < size; i++) {
		struct sl_frontend_slot *e = &slots[i];
		if (!e->used || e->port_be == 0)
			continue;
		const struct sl_frontend_slot *ha = sl_slot_find(slots, mask, &e->addr, SL_PROTO_ALL, 0);
		if (ha != NULL && ((ha->used & SL_SLOT_AMBIGUOUS) ||
				   !sl_reply_same(s, ha->rule, e->rule, e->port_be)))
			e->used |= SL_SLOT_AMBIGUOUS;
	}
	*mask_out = mask;
	return slots;
}

/* The frontend table of s's rules; NULL with *rc -EEXIST (a key twice) or -ENOMEM. */
static struct sl_frontend_slot *
sl_frontend_table_build(const struct sl_snapshot *s, uint32_t *mask_out, int *rc)
{
	uint32_t size = sl_index_size(s->n_rules), mask, r;
	struct sl_frontend_slot *slots;

	*rc = -ENOMEM;
	if (size == 0 || (slots = calloc(size, sizeof(*slots))) == NULL)
		return NULL;
	mask = size - 1;
	for (r = 0; r < s->n_rules; r++) {
		const struct sl_rule *rule = &s->rules[r];
		struct sl_frontend_slot *slot = sl_slot_claim(slots, mask, &rule->frontend,
							      rule->proto, rule->frontend_port_be);
		if (slot->used) {
			free(slots);
			*rc = -EEXIST;
			return NULL;
		}
		sl_slot_fill(slot, &rule->frontend, rule->proto, rule->frontend_port_be, r);
	}
	*mask_out = mask;
	return slots;
}

/*
 * The address index: every frontend address, and every address of a pool
 * some DNAT rule uses (what a reply comes from). At most one slot per rule
 * plus one per backend. *has_dnat: some rule is a DNAT rule.
 */
static struct sl_frontend_slot *
sl_addr_index_build(const struct sl_snapshot *s, uint32_t *mask_out, uint8_t *has_dnat)
{
	uint32_t asize = sl_index_size((uint64_t)s->n_rules + s->n_backends), r;
	struct sl_frontend_slot *aslots;

	if (asize == 0 || (aslots = calloc(asize, sizeof(*aslots))) == NULL)
		return NULL;
	*has_dnat = 0;
	for (r = 0; r < s->n_rules; r++) {
		const struct sl_rule *rule = &s->rules[r];
		sl_addr_index_add(aslots, asize - 1, &rule->frontend, SL_ADDR_FRONTEND);
		if (!sl_rule_dnat(s, rule))
			continue;
		*has_dnat = 1;
		const struct sl_pool *pool = &s->pools[rule->pool];
		for (uint32_t m = 0; m < pool->n_members; m++)
			sl_addr_index_add(aslots, asize - 1, &s->backends[pool->members[m]].addr,
					  SL_ADDR_DNAT_BACKEND);
	}
	*mask_out = asize - 1;
	return aslots;
}

int
sl_snapshot_index_addresses(struct sl_snapshot *s)
{
	struct sl_frontend_slot *aslots, *rslots;
	uint32_t amask = 0, rmask = 0;
	uint8_t has_dnat = 0;

	if (s == NULL || (s->n_rules > 0 && s->rules == NULL))
		return -EINVAL;
	aslots = sl_addr_index_build(s, &amask, &has_dnat);
	rslots = sl_reply_index_build(s, &rmask);
	if (aslots == NULL || rslots == NULL) {
		free(aslots);
		free(rslots);
		return -ENOMEM;
	}
	free(s->addr_slots);
	s->addr_slots = aslots;
	s->addr_mask = amask;
	free(s->reply_slots);
	s->reply_slots = rslots;
	s->reply_mask = rmask;
	s->has_dnat = has_dnat;
	return 0;
}

int
sl_snapshot_index_frontends(struct sl_snapshot *s)
{
	struct sl_frontend_slot *slots;
	uint32_t mask = 0;
	int rc;

	if (s == NULL || (s->n_rules > 0 && s->rules == NULL))
		return -EINVAL;
	slots = sl_frontend_table_build(s, &mask, &rc);
	if (slots == NULL)
		return rc;
	/* Replace only on success: on error the snapshot keeps its old index. */
	rc = sl_snapshot_index_addresses(s);
	if (rc < 0) {
		free(slots);
		return rc;
	}
	free(s->frontend_slots);
	s->frontend_slots = slots;
	s->frontend_mask = mask;
	return 0;
}

uint32_t
sl_snapshot_index_size(uint64_t n)
{
	return sl_index_size(n);
}

int
sl_slots_add(struct sl_frontend_slot *slots, uint32_t mask, const struct sl_ip_addr *a,
	     uint8_t proto, uint16_t port_be, uint32_t rule)
{
	struct sl_frontend_slot *slot = sl_slot_claim(slots, mask, a, proto, port_be);

	if (slot->used)
		return -EEXIST;
	sl_slot_fill(slot, a, proto, port_be, rule);
	return 0;
}

/* Is h cyclically in (i, j]? */
static bool
sl_slot_between(uint32_t i, uint32_t h, uint32_t j)
{
	return i <= j ? (i < h && h <= j) : (i < h || h <= j);
}

/*
 * Empty slot i, then move back each later entry of the run whose home slot
 * is not between i and itself, so every key stays reachable from its home
 * slot without crossing a free one (Knuth's deletion for linear probing).
 */
static void
sl_slot_vacate(struct sl_frontend_slot *slots, uint32_t mask, uint32_t i)
{
	uint32_t j = i, h;

	for (;;) {
		memset(&slots[i], 0, sizeof(slots[i]));
		for (;;) {
			j = (j + 1) & mask;
			if (!slots[j].used)
				return;
			h = sl_frontend_hash(&slots[j].addr, slots[j].proto, slots[j].port_be) & mask;
			if (!sl_slot_between(i, h, j))
				break;
		}
		slots[i] = slots[j];
		i = j;
	}
}

int
sl_slots_remove(struct sl_frontend_slot *slots, uint32_t mask, const struct sl_ip_addr *a,
		uint8_t proto, uint16_t port_be)
{
	struct sl_frontend_slot *slot = sl_slot_claim(slots, mask, a, proto, port_be);

	if (!slot->used)
		return -ENOENT;
	sl_slot_vacate(slots, mask, (uint32_t)(slot - slots));
	return 0;
}

void
sl_slots_shift_rules(struct sl_frontend_slot *slots, uint32_t mask, uint32_t from, int32_t by)
{
	for (uint32_t i = 0; i <= mask; i++)
		if (slots[i].used && slots[i].rule >= from)
			slots[i].rule = (uint32_t)((int64_t)slots[i].rule + by);
}

void
sl_snapshot_addr_mark(struct sl_snapshot *s, const struct sl_ip_addr *a, uint32_t kind, bool set)
{
	struct sl_frontend_slot *slot =
		sl_slot_claim(s->addr_slots, s->addr_mask, a, SL_ADDR_INDEX_PROTO, 0);

	if (set) {
		sl_addr_index_add(s->addr_slots, s->addr_mask, a, kind);
		return;
	}
	if (!slot->used)
		return;
	slot->rule &= ~kind;
	if (slot->rule == 0)
		sl_slot_vacate(s->addr_slots, s->addr_mask, (uint32_t)(slot - s->addr_slots));
}

/* v into crc, little-endian (the same digest on every host's byte order). */
static uint32_t
sl_digest_u32(uint32_t crc, uint32_t v)
{
	const uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	return sl_crc32c(b, sizeof(b), crc);
}

uint32_t
sl_snapshot_rule_digest(const struct sl_snapshot *s, uint32_t r)
{
	static const uint8_t empty[16] = {0};
	const struct sl_rule *rule = &s->rules[r];
	const struct sl_pool *pool;
	uint32_t crc = 0xffffffffu, i;

	crc = sl_digest_u32(crc, s->hash_seed);
	crc = sl_crc32c(rule->frontend.bytes, sizeof(rule->frontend.bytes), crc);
	crc = sl_digest_u32(crc, (uint32_t)rule->frontend_port_be << 16 | rule->backend_port_be);
	crc = sl_digest_u32(crc, (uint32_t)rule->proto << 24 | (uint32_t)rule->dist << 16 |
				 (uint32_t)rule->floating_ip << 8 | rule->family);
	if (rule->pool >= s->n_pools)
		return crc ^ 0xffffffffu;
	pool = &s->pools[rule->pool];
	crc = sl_digest_u32(crc, pool->table_size);
	for (i = 0; i < pool->table_size; i++) {
		uint16_t m = pool->table[i];
		const struct sl_backend *b;

		if (m == SL_MAGLEV_EMPTY || m >= pool->n_members) {
			crc = sl_crc32c(empty, sizeof(empty), crc);
			continue;
		}
		b = &s->backends[pool->members[m]];
		crc = sl_crc32c(b->addr.bytes, sizeof(b->addr.bytes), crc);
		crc = sl_digest_u32(crc, (uint32_t)b->delivery << 16 | b->egress_port);
	}
	return crc ^ 0xffffffffu;
}
