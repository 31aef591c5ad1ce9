/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_compile.c: the validated resource model -> an immutable snapshot.
 *
 * Control thread only. Load balancers are laid out one after the other:
 * every (pool, address) becomes a backend, every pool a Maglev table over its
 * backends, every rule a frontend entry pointing at its pool by global index.
 * Each backend gets two header prefixes per port (DNAT, and its virtual
 * network's Floating IP delivery) with the next-hop MAC resolved now from the
 * port's static neighbours or gateway; a prefix without a next hop is marked
 * invalid, and the packet path drops and counts what would use it.
 *
 * Names in the snapshot (shown in counters, Prometheus labels and
 * telemetry) use the labels of load balancers and NICs (sl_config.h): their
 * names, qualified with the resource group only while another resource of
 * the same type and name exists in another scope.
 *
 * Counter ids come from registries keyed by lower-cased "<lb>/<rule>" and
 * "<lb>/<pool>/<address>" (Azure names are case-insensitive), so a resource
 * keeps its counters across reloads. <lb> there is the load balancer's
 * identity (sl_scope_key(): "@<sub>/<rg>/<name>" when it has an id), not its
 * label, so a label that changes keeps the counters. A member of a NIC-based
 * pool is "<nic>/<ipconfig>" with the NIC's identity, so its key is
 * "<lb>/<pool>/<nic>/<ipconfig>"; IP-based address names hold no '/', so the
 * two kinds never share a key.
 *
 * Inbound NAT rules follow the load balancer's pools and rules: each gets a
 * pool of its own named "<lb>/<natRule>" holding its one backend (the NIC
 * ipConfiguration that lists it, "<lb>/<natRule>/<nic>/<ipconfig>"; none when
 * no ipConfiguration does) with a SL_COMPILE_NAT_TABLE_SIZE-slot Maglev
 * table, and one rule "<lb>/<natRule>" (protocol All: two, Tcp and Udp, named
 * "<lb>/<natRule>/Tcp" and "<lb>/<natRule>/Udp", since the frontend table
 * matches one protocol per entry). Their registry keys begin with "nat:",
 * which no resource name holds (names are letters, digits, '_', '.', '-'),
 * so a NAT rule never shares counters with a rule, pool or address of the
 * same name.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_compile.h"
#include "sl_compile_int.h"
#include "sl_maglev.h"
#include "sl_prefix.h"

/*
 * Room for a load balancer, a pool (or NAT rule) and an address name
 * ("<nic>/<ipconfig>" for NIC members), with the NAT prefix and a
 * protocol suffix.
 */
#define SL_COMPILE_NAT_PREFIX "nat:"
#define SL_COMPILE_KEY_MAX (2 * SL_COMPILE_ID_MAX + 2 * SL_RES_NAME_MAX + 16)
/* An inbound NAT rule's pool has at most one member: the smallest table does. */
#define SL_COMPILE_NAT_TABLE_SIZE SL_CONFIG_MAGLEV_MIN_SIZE

/* The lower-cased registry key "<prefix>a/b" or, when c is given, "<prefix>a/b/c". */
static void
sl_counter_key(char *key, const char *prefix, const char *a, const char *b, const char *c)
{
	char *p;

	if (c != NULL)
		snprintf(key, SL_COMPILE_KEY_MAX, "%s%s/%s/%s", prefix, a, b, c);
	else
		snprintf(key, SL_COMPILE_KEY_MAX, "%s%s/%s", prefix, a, b);
	for (p = key; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
}

/* The key part of pool member a: its name, or "<nic identity>/<ipconfig>" for a NIC member. */
static void
sl_member_key(const struct sl_model *m, const struct sl_address *a, char *buf, size_t len)
{
	char nic[SL_COMPILE_ID_MAX];

	if (!a->from_nic || a->nic < 0) {
		snprintf(buf, len, "%s", a->name);
		return;
	}
	sl_scope_key(&m->nics[a->nic].scope, m->nics[a->nic].name, nic, sizeof(nic));
	snprintf(buf, len, "%s/%s", nic, m->nics[a->nic].ipconfigs[a->ipconfig].name);
}

/* "a/b" or "a/b/c" into a snapshot name: cut at SL_NAME_MAX, for display only. */
static void
sl_display_name(char *dst, const char *a, const char *b, const char *c)
{
	int n;

	if (c != NULL)
		n = snprintf(dst, SL_NAME_MAX, "%s/%s/%s", a, b, c);
	else
		n = snprintf(dst, SL_NAME_MAX, "%s/%s", a, b);
	(void)n;
}

/* The counter id of key in reg; errors name the resource by name, its snapshot name. */
static int
sl_compile_counter(struct sl_id_registry *reg, const char *key, const char *name, uint32_t limit,
		   uint32_t *id, struct sl_error *err)
{
	int64_t v = sl_id_registry_get(reg, key);

	if (v == -ENOMEM) {
		sl_error_set(err, "OutOfMemory", name, "", "Out of memory while compiling.");
		return -ENOMEM;
	}
	if (v < 0 || v >= limit) {
		sl_error_set(err, "CounterIdsExhausted", name, "",
			     "No counter id left for '%s': ids are never reused, and %u have been handed out; restart sluice to start afresh.",
			     name, limit);
		return -ENOSPC;
	}
	*id = (uint32_t)v;
	return 0;
}

/*
 * a's MAC on port: a static neighbour of the port profile, else the dynamic
 * neighbour table (ARP/ND) when the port has one; asking it registers a as
 * needed, so an unknown address is resolved and the snapshot compiled again.
 */
static bool
sl_static_neighbour(const struct sl_port_info *port, const struct sl_ip_addr *a,
		    struct sl_mac *mac)
{
	for (uint32_t i = 0; port->neighbours != NULL && i < port->n_neighbours; i++) {
		if (sl_ip_addr_eq(&port->neighbours[i].addr, a)) {
			*mac = port->neighbours[i].mac;
			return true;
		}
	}
	return false;
}

static bool
sl_neighbour_find(const struct sl_port_info *port, const struct sl_ip_addr *a, uint16_t vlan,
		  struct sl_mac *mac)
{
	if (sl_static_neighbour(port, a, mac))
		return true;
	if (port->resolve != NULL)
		return port->resolve(port->resolve_ctx, port->index, a, vlan, mac);
	return false;
}

/* Does the port's own prefix (of a's family) hold a? false when no prefix is given. */
static bool
sl_on_link(const struct sl_port_info *port, const struct sl_ip_addr *a)
{
	bool v4 = sl_ip_addr_is_v4(a);
	uint8_t plen = v4 ? port->ipv4_prefix : port->ipv6_prefix;
	struct sl_prefix segment;

	if (!(v4 ? port->has_ipv4 : port->has_ipv6) || plen == 0)
		return false;
	sl_prefix_from(&segment, v4 ? &port->ipv4 : &port->ipv6, plen);
	return sl_prefix_contains(&segment, a);
}

/* Does the port know its prefix of a's family (so "not on link" means "via the gateway")? */
static bool
sl_has_prefix(const struct sl_port_info *port, const struct sl_ip_addr *a)
{
	bool v4 = sl_ip_addr_is_v4(a);
	return (v4 ? port->has_ipv4 && port->ipv4_prefix : port->has_ipv6 && port->ipv6_prefix) != 0;
}

/*
 * The next-hop MAC for a on port: a itself when it is on the port's segment
 * (or the port gives no prefix and a has a MAC), else the port's gateway.
 */
static bool
sl_next_hop(const struct sl_port_info *port, const struct sl_ip_addr *a, uint16_t vlan,
	    struct sl_mac *mac)
{
	/* a static neighbour wins, wherever the prefix says the address is */
	if (sl_static_neighbour(port, a, mac))
		return true;
	if ((!sl_has_prefix(port, a) || sl_on_link(port, a)) && sl_neighbour_find(port, a, vlan, mac))
		return true;
	if (sl_has_prefix(port, a) && sl_on_link(port, a))
		return false; /* on the segment: its own MAC or nothing */
	if (sl_ip_addr_is_v4(a))
		return port->has_gateway_v4 &&
		       sl_neighbour_find(port, &port->gateway_v4, port->vlan_tci, mac);
	return port->has_gateway_v6 && sl_neighbour_find(port, &port->gateway_v6, port->vlan_tci, mac);
}

/*
 * The port a backend is reached through: the first port whose prefix holds
 * it (two-armed: the backends' segment), else SL_PORT_INGRESS (the port the
 * packet came in on, via its gateway when the backend is not on it).
 */
static uint16_t
sl_egress_port(const struct sl_port_info *ports, uint32_t n_ports, const struct sl_ip_addr *a)
{
	for (uint32_t p = 0; p < n_ports; p++)
		if (sl_on_link(&ports[p], a))
			return (uint16_t)p;
	return SL_PORT_INGRESS;
}

/* The two header prefixes of backend b on port p. */
static int
sl_compile_hdrs(struct sl_encap *hdr, const struct sl_backend *b, const struct sl_vnet *v,
		const struct sl_port_info *port)
{
	struct sl_encap_params ep;
	struct sl_mac nh = {{0}};
	uint16_t vlan = v->vlan_id ? v->vlan_id : port->vlan_tci;
	bool have_nh = sl_next_hop(port, &b->addr, vlan, &nh);
	bool v4 = b->family == SL_AF_IPV4;
	int rc;

	memset(&ep, 0, sizeof(ep));
	ep.delivery = SL_DELIVERY_DNAT;
	ep.src_mac = port->mac;
	ep.dst_mac = nh;
	ep.vlan_tci = vlan;
	rc = sl_encap_build(&hdr[0], &ep);
	if (rc < 0)
		return rc;
	hdr[0].valid = have_nh;

	ep.delivery = (enum sl_delivery)b->delivery;
	if (ep.delivery != SL_DELIVERY_L2) {
		if (!(v4 ? port->has_ipv4 : port->has_ipv6)) {
			/* No outer source address of the backend's family on this port. */
			memset(&hdr[1], 0, sizeof(hdr[1]));
			hdr[1].delivery = b->delivery;
			return 0;
		}
		ep.outer_src = v4 ? port->ipv4 : port->ipv6;
		ep.outer_dst = b->addr;
		ep.udp_dport = v->udp_port;
		ep.vni = v->vni;
		/* VXLAN's inner frame is for the backend itself; the next hop if it has no entry. */
		if (!sl_on_link(port, &b->addr) ||
		    !sl_neighbour_find(port, &b->addr, vlan, &ep.inner_dst_mac))
			ep.inner_dst_mac = nh;
	}
	rc = sl_encap_build(&hdr[1], &ep);
	if (rc < 0)
		return rc;
	hdr[1].valid = have_nh;
	return 0;
}

/*
 * The Maglev tables of the last compilation, so that a pool whose members,
 * weights, table size and seed did not change reuses its table instead of
 * rebuilding it (the table is a pure function of exactly these). Each entry
 * holds one reference on its table; entries a compilation did not use are
 * dropped at its end. Control thread only.
 */
struct sl_table_entry {
	uint64_t hash;
	uint64_t seed;
	uint32_t m;
	uint32_t n;
	struct sl_maglev_member *members;
	struct sl_maglev_table *table;
	uint64_t used; /* the compilation that last used it */
};

struct sl_table_cache {
	struct sl_table_entry *e;
	uint32_t n;
	uint32_t cap;
	uint64_t round;
	uint64_t hits;
	uint64_t builds;
};

struct sl_table_cache *
sl_table_cache_create(void)
{
	return calloc(1, sizeof(struct sl_table_cache));
}

static void
sl_table_entry_drop(struct sl_table_entry *e)
{
	sl_maglev_table_put(e->table);
	free(e->members);
}

void
sl_table_cache_free(struct sl_table_cache *c)
{
	if (c == NULL)
		return;
	for (uint32_t i = 0; i < c->n; i++)
		sl_table_entry_drop(&c->e[i]);
	free(c->e);
	free(c);
}

void
sl_table_cache_stats(const struct sl_table_cache *c, uint64_t *hits, uint64_t *builds)
{
	*hits = c != NULL ? c->hits : 0;
	*builds = c != NULL ? c->builds : 0;
}

static struct sl_maglev_table *
sl_table_cache_find(struct sl_table_cache *c, uint64_t hash, const struct sl_maglev_member *mm,
		    uint32_t n, uint32_t m, uint64_t seed)
{
	for (uint32_t i = 0; c != NULL && i < c->n; i++) {
		struct sl_table_entry *e = &c->e[i];
		if (e->hash == hash && e->n == n && e->m == m && e->seed == seed &&
		    (n == 0 || memcmp(e->members, mm, n * sizeof(*mm)) == 0)) {
			e->used = c->round;
			c->hits++;
			e->table->refs++;
			return e->table;
		}
	}
	return NULL;
}

/* Remember a new table (best effort: on ENOMEM it is just not cached). */
static void
sl_table_cache_add(struct sl_table_cache *c, uint64_t hash, const struct sl_maglev_member *mm,
		   uint32_t n, uint32_t m, uint64_t seed, struct sl_maglev_table *t)
{
	struct sl_table_entry *e;

	if (c == NULL)
		return;
	if (c->n == c->cap) {
		uint32_t cap = c->cap ? c->cap * 2 : 16;
		struct sl_table_entry *ne = realloc(c->e, cap * sizeof(*ne));
		if (ne == NULL)
			return;
		c->e = ne;
		c->cap = cap;
	}
	e = &c->e[c->n];
	e->members = malloc((n ? n : 1) * sizeof(*mm));
	if (e->members == NULL)
		return;
	memcpy(e->members, mm, n * sizeof(*mm));
	e->hash = hash;
	e->seed = seed;
	e->m = m;
	e->n = n;
	e->table = t;
	e->used = c->round;
	t->refs++;
	c->n++;
}

/* Drop the entries this compilation did not use. */
static void
sl_table_cache_sweep(struct sl_table_cache *c)
{
	uint32_t k = 0;

	if (c == NULL)
		return;
	for (uint32_t i = 0; i < c->n; i++) {
		if (c->e[i].used == c->round)
			c->e[k++] = c->e[i];
		else
			sl_table_entry_drop(&c->e[i]);
	}
	c->n = k;
}

void
sl_table_cache_forget(struct sl_table_cache *c, const struct sl_maglev_table *t)
{
	for (uint32_t i = 0; c != NULL && t != NULL && i < c->n; i++) {
		if (c->e[i].table == t) {
			sl_table_entry_drop(&c->e[i]);
			c->e[i] = c->e[--c->n];
			return;
		}
	}
}

/*
 * The Maglev table of members mm: the cache's when it has one built from
 * the same members, weights, size and seed, else a new one (remembered).
 * Returns it with a reference for the caller, or NULL with *rc set.
 */
static struct sl_maglev_table *
sl_pool_table(struct sl_table_cache *cache, const struct sl_maglev_member *mm, uint32_t n,
	      uint32_t table_size, uint64_t seed, int *rc)
{
	uint64_t hash = sl_hash64(mm, n * sizeof(*mm), seed ^ table_size);
	struct sl_maglev_table *t = sl_table_cache_find(cache, hash, mm, n, table_size, seed);

	if (t != NULL)
		return t;
	t = sl_maglev_table_alloc(table_size);
	if (t == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	*rc = sl_maglev_build(t->slots, table_size, mm, n, seed);
	if (*rc < 0) {
		sl_maglev_table_put(t);
		return NULL;
	}
	if (cache != NULL)
		cache->builds++;
	sl_table_cache_add(cache, hash, mm, n, table_size, seed, t);
	return t;
}

/*
 * Members and Maglev table of one pool whose backends start at
 * s->backends[first]; when a member is probed down, also the table with
 * probe health ignored (sl_pool.unprobed_table).
 */
static int
sl_compile_pool(struct sl_pool *sp, struct sl_snapshot *s, uint32_t first, uint32_t n,
		uint32_t table_size, uint64_t seed, struct sl_table_cache *cache)
{
	struct sl_maglev_member *mm = NULL;
	bool probed_down = false;
	uint32_t i;
	int rc = 0;

	sp->n_members = n;
	sp->table_size = table_size;
	sp->members = malloc((n == 0 ? 1 : n) * sizeof(*sp->members));
	mm = calloc(n ? n : 1, sizeof(*mm));
	if (sp->members == NULL || mm == NULL) {
		free(mm);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const struct sl_backend *be = &s->backends[first + i];
		sp->members[i] = first + i;
		mm[i].key = be->addr;
		/* a backend that takes no new flows keeps no slot: its share goes to the others */
		mm[i].weight = be->usable ? be->weight : 0;
		probed_down |= !be->usable && !be->admin_down;
	}
	sp->shared = sl_pool_table(cache, mm, n, table_size, seed, &rc);
	if (sp->shared != NULL && probed_down) {
		/* what a host whose probes all succeed builds: admin state alone decides */
		for (i = 0; i < n; i++)
			mm[i].weight = s->backends[first + i].admin_down ? 0 : s->backends[first + i].weight;
		sp->unprobed = sl_pool_table(cache, mm, n, table_size, seed, &rc);
		if (sp->unprobed != NULL)
			sp->unprobed_table = sp->unprobed->slots;
	}
	if (sp->shared != NULL)
		sp->table = sp->shared->slots;
	free(mm);
	return rc;
}

int
sl_compile_fail(struct sl_error *err, int rc, const char *target, const char *what)
{
	if (rc == -ENOMEM)
		sl_error_set(err, "OutOfMemory", target, "", "Out of memory while compiling %s.", what);
	else
		sl_error_set(err, "SnapshotBuildFailed", target, "", "Building %s failed (error %d).",
			     what, rc);
	return rc;
}

/*
 * Inbound NAT rule nr of load balancer lb into pool s->pools[pool]: its one
 * backend at s->backends[*b] when an ipConfiguration lists the rule (none
 * otherwise: the pool is empty and its packets are dropped as no_backend),
 * then its rule entries from s->rules[*r] (fe_base: lb's first frontend in
 * s->frontends). Advances *b and *r. The backend
 * is the ipConfiguration's private address, delivered by its vnet's Floating
 * IP delivery when the rule uses Floating IP; NAT rules have no probe and
 * ipConfigurations no admin state, so it always takes new flows.
 */
static int
sl_compile_nat_rule(const struct sl_compile_ctx *x, const struct sl_lb *lb,
		    const struct sl_nat_rule_cfg *nr, uint32_t pool, uint32_t fe_base, uint32_t *b,
		    uint32_t *r)
{
	static const uint8_t both[2] = {SL_PROTO_TCP, SL_PROTO_UDP};
	const struct sl_frontend *fe = &lb->frontends[nr->frontend];
	struct sl_snapshot *s = x->s;
	struct sl_pool *sp = &s->pools[pool];
	char key[SL_COMPILE_KEY_MAX], lb_id[SL_COMPILE_ID_MAX];
	uint32_t first = *b, n = 0, i, port;
	int rc;

	sl_scope_key(&lb->scope, lb->name, lb_id, sizeof(lb_id));
	sl_display_name(sp->name, lb->label, nr->name, NULL);
	if (nr->nic >= 0 && nr->ipconfig >= 0) {
		const struct sl_nic *nic = &x->m->nics[nr->nic];
		const struct sl_nic_ipconfig *ic = &nic->ipconfigs[nr->ipconfig];
		const struct sl_vnet *v = &x->m->vnets[ic->vnet];
		struct sl_backend *be = &s->backends[*b];
		char addr_name[SL_ADDR_LABEL_MAX], addr_key[SL_COMPILE_ID_MAX + SL_RES_NAME_MAX];

		snprintf(addr_name, sizeof(addr_name), "%s/%s", nic->label, ic->name);
		sl_scope_key(&nic->scope, nic->name, addr_key, SL_COMPILE_ID_MAX);
		snprintf(addr_key + strlen(addr_key), sizeof(addr_key) - strlen(addr_key), "/%s",
			 ic->name);
		be->addr = ic->addr;
		be->weight = 1;
		be->family = ic->family;
		be->delivery = (uint8_t)v->delivery;
		be->admin_down = 0;
		be->usable = 1;
		be->drain_ms = 0;
		be->pool = pool;
		be->egress_port = sl_egress_port(x->ports, x->n_ports, &be->addr);
		sl_display_name(be->name, lb->label, nr->name, addr_name);
		sl_counter_key(key, SL_COMPILE_NAT_PREFIX, lb_id, nr->name, addr_key);
		rc = sl_compile_counter(x->backend_ids, key, be->name, SL_MAX_BACKEND_COUNTERS,
					&be->counter_id, x->err);
		if (rc < 0)
			return rc;
		s->backend_by_id[be->counter_id] = *b;
		for (port = 0; port < x->n_ports; port++) {
			rc = sl_compile_hdrs(&s->hdrs[((size_t)*b * x->n_ports + port) * 2], be, v,
					     &x->ports[port]);
			if (rc < 0)
				return sl_compile_fail(x->err, rc, be->name,
						       "a backend's header prefix");
		}
		n = 1;
		(*b)++;
	}
	rc = sl_compile_pool(sp, s, first, n, SL_COMPILE_NAT_TABLE_SIZE, x->seed, x->tables);
	if (rc < 0)
		return sl_compile_fail(x->err, rc, sp->name, "an inbound NAT rule's Maglev table");

	for (i = 0; i < sl_nat_rule_entries(nr); i++, (*r)++) {
		struct sl_rule *sr = &s->rules[*r];
		uint8_t proto = nr->proto == SL_PROTO_ALL ? both[i] : nr->proto;
		const char *suffix = NULL, *key_suffix = NULL;

		if (nr->proto == SL_PROTO_ALL) {
			suffix = proto == SL_PROTO_TCP ? "Tcp" : "Udp";
			key_suffix = proto == SL_PROTO_TCP ? "tcp" : "udp";
		}
		sr->frontend = fe->addr;
		sr->pool = pool;
		sr->frontend_port_be = htons(nr->frontend_port);
		sr->backend_port_be = htons(nr->backend_port);
		sr->proto = proto;
		sr->dist = (uint8_t)SL_DIST_DEFAULT;
		sr->floating_ip = nr->floating_ip;
		sr->family = fe->family;
		sr->tcp_reset = nr->enable_tcp_reset;
		sr->inbound_nat = 1;
		sr->frontend_index = (uint16_t)(fe_base + (uint32_t)nr->frontend);
		sr->tcp_idle_ms = (uint32_t)nr->idle_timeout_min * 60000u;
		sl_display_name(sr->name, lb->label, nr->name, suffix);
		sl_counter_key(key, SL_COMPILE_NAT_PREFIX, lb_id, nr->name, key_suffix);
		rc = sl_compile_counter(x->rule_ids, key, sr->name, SL_MAX_RULE_COUNTERS,
					&sr->counter_id, x->err);
		if (rc < 0)
			return rc;
		s->rule_by_id[sr->counter_id] = *r;
	}
	return 0;
}

/*
 * The frontend IP configurations of every load balancer, in model order
 * (a rule's frontend_index is its load balancer's first one plus its
 * frontend's index), named "<lb>/<frontend>".
 */
static int
sl_compile_frontends(struct sl_snapshot *s, const struct sl_model *m, struct sl_error *err)
{
	uint64_t n = 0;
	uint32_t k = 0;
	int rc;

	for (uint32_t li = 0; li < m->n_lbs; li++)
		n += m->lbs[li].n_frontends;
	if (n > SL_MAX_FRONTENDS) {
		sl_error_set(err, "CounterIdsExhausted", "", "",
			     "%llu frontend IP configurations in all; sluice counts at most %u.",
			     (unsigned long long)n, SL_MAX_FRONTENDS);
		return -ENOSPC;
	}
	rc = sl_snapshot_alloc_frontends(s, (uint32_t)n);
	if (rc < 0)
		return sl_compile_fail(err, rc, "", "the frontends");
	for (uint32_t li = 0; li < m->n_lbs; li++) {
		const struct sl_lb *lb = &m->lbs[li];
		for (uint32_t fi = 0; fi < lb->n_frontends; fi++, k++) {
			struct sl_frontend_info *fe = &s->frontends[k];
			fe->addr = lb->frontends[fi].addr;
			fe->family = lb->frontends[fi].family;
			sl_display_name(fe->name, lb->label, lb->frontends[fi].name, NULL);
		}
	}
	return 0;
}

void
sl_compile_lb_id(const struct sl_lb *lb, char *lb_id)
{
	sl_scope_key(&lb->scope, lb->name, lb_id, SL_COMPILE_ID_MAX);
}

/* Member a of pool pc into backend b of pool `pool`: fields, counter id, header prefixes. */
static int
sl_compile_backend(const struct sl_compile_ctx *x, const struct sl_lb *lb, const char *lb_id,
		   const struct sl_pool_cfg *pc, const struct sl_address *a, uint32_t pool,
		   uint32_t b)
{
	const struct sl_vnet *v = &x->m->vnets[a->vnet];
	const struct sl_health_hook *health = x->health;
	struct sl_backend *be = &x->s->backends[b];
	char label[SL_ADDR_LABEL_MAX], member[SL_COMPILE_ID_MAX + SL_RES_NAME_MAX];
	char key[SL_COMPILE_KEY_MAX];
	int rc;

	sl_address_label(x->m, a, label, sizeof(label));
	sl_member_key(x->m, a, member, sizeof(member));
	be->addr = a->addr;
	be->weight = a->weight;
	be->family = a->family;
	be->delivery = (uint8_t)v->delivery;
	be->admin_down = a->admin_state == SL_ADMIN_DOWN;
	be->usable = a->admin_state == SL_ADMIN_UP ||
		     (a->admin_state == SL_ADMIN_NONE &&
		      !(health != NULL && health->down(health->ctx, lb->label, pc->name, label)));
	be->drain_ms = pc->drain_period_s * 1000u;
	be->pool = pool;
	be->egress_port = sl_egress_port(x->ports, x->n_ports, &be->addr);
	sl_display_name(be->name, lb->label, pc->name, label);
	sl_counter_key(key, "", lb_id, pc->name, member);
	rc = sl_compile_counter(x->backend_ids, key, be->name, SL_MAX_BACKEND_COUNTERS,
				&be->counter_id, x->err);
	if (rc < 0)
		return rc;
	x->s->backend_by_id[be->counter_id] = b;
	for (uint32_t port = 0; port < x->n_ports; port++) {
		rc = sl_compile_hdrs(&x->s->hdrs[((size_t)b * x->n_ports + port) * 2], be, v,
				     &x->ports[port]);
		if (rc < 0)
			return sl_compile_fail(x->err, rc, be->name, "a backend's header prefix");
	}
	return 0;
}

int
sl_compile_lb_pool(const struct sl_compile_ctx *x, const struct sl_lb *lb, const char *lb_id,
		   const struct sl_pool_cfg *pc, uint32_t pool, uint32_t first)
{
	struct sl_pool *sp = &x->s->pools[pool];
	int rc;

	sl_display_name(sp->name, lb->label, pc->name, NULL);
	for (uint32_t ai = 0; ai < pc->n_addresses; ai++) {
		rc = sl_compile_backend(x, lb, lb_id, pc, &pc->addresses[ai], pool, first + ai);
		if (rc < 0)
			return rc;
	}
	rc = sl_compile_pool(sp, x->s, first, pc->n_addresses, x->m->maglev_size, x->seed,
			     x->tables);
	if (rc < 0)
		return sl_compile_fail(x->err, rc, sp->name, "a pool's Maglev table");
	return 0;
}

int
sl_compile_lb_rule(const struct sl_compile_ctx *x, const struct sl_lb *lb, const char *lb_id,
		   const struct sl_rule_cfg *rule, uint32_t r, uint32_t pool_base, uint32_t fe_base)
{
	const struct sl_frontend *fe = &lb->frontends[rule->frontend];
	struct sl_rule *sr = &x->s->rules[r];
	char key[SL_COMPILE_KEY_MAX];
	int rc;

	sr->frontend = fe->addr;
	sr->pool = pool_base + (uint32_t)rule->pool;
	sr->frontend_port_be = htons(rule->frontend_port);
	sr->backend_port_be = htons(rule->backend_port);
	sr->proto = rule->proto;
	sr->dist = (uint8_t)rule->dist;
	sr->floating_ip = rule->floating_ip;
	sr->family = fe->family;
	sr->tcp_reset = rule->enable_tcp_reset;
	sr->inbound_nat = 0;
	sr->frontend_index = (uint16_t)(fe_base + (uint32_t)rule->frontend);
	sr->tcp_idle_ms = (uint32_t)rule->idle_timeout_min * 60000u;
	sl_display_name(sr->name, lb->label, rule->name, NULL);
	sl_counter_key(key, "", lb_id, rule->name, NULL);
	rc = sl_compile_counter(x->rule_ids, key, sr->name, SL_MAX_RULE_COUNTERS, &sr->counter_id,
				x->err);
	if (rc < 0)
		return rc;
	x->s->rule_by_id[sr->counter_id] = r;
	return 0;
}

void
sl_model_count(const struct sl_model *m, struct sl_model_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (uint32_t li = 0; li < m->n_lbs; li++) {
		const struct sl_lb *lb = &m->lbs[li];

		c->rules += lb->n_rules;
		c->pools += lb->n_pools;
		c->frontends += lb->n_frontends;
		for (uint32_t pi = 0; pi < lb->n_pools; pi++)
			c->backends += lb->pools[pi].n_addresses;
		/* an inbound NAT rule: its own pool of at most one backend */
		c->pools += lb->n_nat_rules;
		for (uint32_t ri = 0; ri < lb->n_nat_rules; ri++) {
			c->rules += sl_nat_rule_entries(&lb->nat_rules[ri]);
			if (lb->nat_rules[ri].nic >= 0 && lb->nat_rules[ri].ipconfig >= 0)
				c->backends++;
		}
	}
}

int
sl_model_counts_check(const struct sl_model_counts *c, struct sl_error *err)
{
	if (c->rules > SL_MAX_RULE_COUNTERS || c->backends > SL_MAX_BACKEND_COUNTERS ||
	    c->pools > UINT32_MAX) {
		sl_error_set(err, "CounterIdsExhausted", "", "",
			     "%llu rules and %llu backends in all; sluice counts at most %u and %u.",
			     (unsigned long long)c->rules, (unsigned long long)c->backends,
			     SL_MAX_RULE_COUNTERS, SL_MAX_BACKEND_COUNTERS);
		return -ENOSPC;
	}
	return 0;
}

/* One field of the inputs' fingerprint. */
static uint64_t
sl_key_mix(uint64_t h, const void *data, size_t len)
{
	return sl_hash64(data, len, h);
}

/* A port's description for the fingerprint: every field compile reads, by value. */
static uint64_t
sl_key_port(uint64_t h, const struct sl_port_info *p)
{
	const void *resolve = (const void *)(uintptr_t)p->resolve;
	const uint8_t flags[6] = {p->has_ipv4, p->has_ipv6, p->has_gateway_v4, p->has_gateway_v6,
				  p->ipv4_prefix, p->ipv6_prefix};

	h = sl_key_mix(h, &p->mac, sizeof(p->mac));
	h = sl_key_mix(h, &p->ipv4, sizeof(p->ipv4));
	h = sl_key_mix(h, &p->ipv6, sizeof(p->ipv6));
	h = sl_key_mix(h, &p->gateway_v4, sizeof(p->gateway_v4));
	h = sl_key_mix(h, &p->gateway_v6, sizeof(p->gateway_v6));
	h = sl_key_mix(h, flags, sizeof(flags));
	h = sl_key_mix(h, &p->vlan_tci, sizeof(p->vlan_tci));
	h = sl_key_mix(h, &p->index, sizeof(p->index));
	h = sl_key_mix(h, &p->n_neighbours, sizeof(p->n_neighbours));
	for (uint32_t i = 0; p->neighbours != NULL && i < p->n_neighbours; i++) {
		h = sl_key_mix(h, &p->neighbours[i].addr, sizeof(p->neighbours[i].addr));
		h = sl_key_mix(h, &p->neighbours[i].mac, sizeof(p->neighbours[i].mac));
	}
	h = sl_key_mix(h, &resolve, sizeof(resolve));
	h = sl_key_mix(h, &p->resolve_ctx, sizeof(p->resolve_ctx));
	return sl_key_mix(h, &p->resolve_epoch, sizeof(p->resolve_epoch));
}

uint64_t
sl_compile_inputs_key(const struct sl_model *m, const struct sl_port_info *ports,
		      uint32_t n_ports, const struct sl_health_hook *health)
{
	const uint32_t settings[3] = {m->maglev_size, m->hash_seed, n_ports};
	uint64_t h = sl_key_mix(0x736c6b6579ull, settings, sizeof(settings));

	for (uint32_t p = 0; p < n_ports; p++)
		h = sl_key_port(h, &ports[p]);
	if (health != NULL) {
		const void *down = (const void *)(uintptr_t)health->down;

		h = sl_key_mix(h, &down, sizeof(down));
		h = sl_key_mix(h, &health->ctx, sizeof(health->ctx));
		h = sl_key_mix(h, &health->epoch, sizeof(health->epoch));
	}
	return h | 1; /* never 0: a snapshot no compilation made has 0 */
}

/* Each port's on-link prefixes and the headers toward its gateways. */
static int
sl_compile_ports(struct sl_snapshot *s, const struct sl_port_info *ports, uint32_t n_ports,
		 struct sl_error *err)
{
	for (uint32_t port = 0; port < n_ports; port++) {
		const struct sl_port_info *pi = &ports[port];

		if (pi->has_ipv4 && pi->ipv4_prefix)
			sl_prefix_from(&s->on_link[port * 2], &pi->ipv4, pi->ipv4_prefix);
		if (pi->has_ipv6 && pi->ipv6_prefix)
			sl_prefix_from(&s->on_link[port * 2 + 1], &pi->ipv6, pi->ipv6_prefix);
		for (int v6 = 0; v6 < 2; v6++) {
			struct sl_encap_params ep;
			struct sl_encap *h = &s->gw_hdrs[port * 2 + (uint32_t)v6];
			const struct sl_ip_addr *gw = v6 ? &pi->gateway_v6 : &pi->gateway_v4;
			int has = v6 ? pi->has_gateway_v6 : pi->has_gateway_v4;
			int rc;

			memset(&ep, 0, sizeof(ep));
			ep.delivery = SL_DELIVERY_DNAT;
			ep.src_mac = pi->mac;
			ep.vlan_tci = pi->vlan_tci;
			if (!has || !sl_neighbour_find(pi, gw, pi->vlan_tci, &ep.dst_mac))
				continue;
			rc = sl_encap_build(h, &ep);
			if (rc < 0)
				return sl_compile_fail(err, rc, "ports", "a gateway header");
		}
	}
	return 0;
}

/* Load balancer lb's pools, rules and inbound NAT rules from the given bases on; advances them. */
static int
sl_compile_lb(const struct sl_compile_ctx *x, const struct sl_lb *lb, uint32_t *pool_base,
	      uint32_t *b, uint32_t *r, uint32_t *fe_base)
{
	char lb_id[SL_COMPILE_ID_MAX];
	uint32_t i;
	int rc;

	sl_compile_lb_id(lb, lb_id);
	for (i = 0; i < lb->n_pools; i++) {
		rc = sl_compile_lb_pool(x, lb, lb_id, &lb->pools[i], *pool_base + i, *b);
		if (rc < 0)
			return rc;
		*b += lb->pools[i].n_addresses;
	}
	for (i = 0; i < lb->n_rules; i++, (*r)++) {
		rc = sl_compile_lb_rule(x, lb, lb_id, &lb->rules[i], *r, *pool_base, *fe_base);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < lb->n_nat_rules; i++) {
		rc = sl_compile_nat_rule(x, lb, &lb->nat_rules[i], *pool_base + lb->n_pools + i,
					 *fe_base, b, r);
		if (rc < 0)
			return rc;
	}
	*pool_base += lb->n_pools + lb->n_nat_rules;
	*fe_base += lb->n_frontends;
	return 0;
}

struct sl_snapshot *
sl_compile(const struct sl_model *m, const struct sl_port_info *ports, uint32_t n_ports,
	   struct sl_id_registry *rule_ids, struct sl_id_registry *backend_ids, uint64_t generation,
	   struct sl_error *err)
{
	return sl_compile_cached(m, ports, n_ports, rule_ids, backend_ids, NULL, NULL, generation,
				 err);
}

/* The arguments every compilation checks; 0 or -EINVAL with *err. */
static int
sl_compile_args(const struct sl_model *m, const struct sl_port_info *ports, uint32_t n_ports,
		const struct sl_id_registry *rule_ids, const struct sl_id_registry *backend_ids,
		struct sl_error *err)
{
	if (m == NULL || rule_ids == NULL || backend_ids == NULL) {
		sl_error_set(err, "InvalidArgument", "", "", "sl_compile needs a model and two registries.");
		return -EINVAL;
	}
	if (n_ports > SL_MAX_PORTS || (n_ports > 0 && ports == NULL)) {
		sl_error_set(err, "InvalidPortList", "ports", "",
			     "%u ports given; sluice drives 0 to %u and needs their descriptions.",
			     n_ports, SL_MAX_PORTS);
		return -EINVAL;
	}
	return 0;
}

/* Everything after the snapshot's allocation; 0 or a negative errno with *err. */
static int
sl_compile_into(const struct sl_compile_ctx *x)
{
	const struct sl_model *m = x->m;
	uint32_t pool_base = 0, b = 0, r = 0, fe_base = 0;
	int rc = sl_compile_frontends(x->s, m, x->err);

	for (uint32_t li = 0; rc == 0 && li < m->n_lbs; li++)
		rc = sl_compile_lb(x, &m->lbs[li], &pool_base, &b, &r, &fe_base);
	if (rc == 0)
		rc = sl_compile_ports(x->s, x->ports, x->n_ports, x->err);
	if (rc < 0)
		return rc;
	rc = sl_snapshot_index_frontends(x->s);
	if (rc == -EEXIST)
		sl_error_set(x->err, "RulesUseSameFrontendIPConfigurationProtocolAndPort", "", "",
			     "Two rules share a frontend address, protocol and port.");
	else if (rc < 0)
		sl_compile_fail(x->err, rc, "", "the frontend table");
	return rc;
}

struct sl_snapshot *
sl_compile_cached(const struct sl_model *m, const struct sl_port_info *ports, uint32_t n_ports,
		  struct sl_id_registry *rule_ids, struct sl_id_registry *backend_ids,
		  struct sl_table_cache *tables, const struct sl_health_hook *health,
		  uint64_t generation, struct sl_error *err)
{
	struct sl_model_counts n;
	struct sl_compile_ctx x;
	struct sl_snapshot *s;
	int rc;

	rc = sl_compile_args(m, ports, n_ports, rule_ids, backend_ids, err);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	sl_model_count(m, &n);
	rc = sl_model_counts_check(&n, err);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	s = sl_snapshot_alloc(n_ports, (uint32_t)n.rules, (uint32_t)n.pools, (uint32_t)n.backends);
	if (s == NULL) {
		sl_compile_fail(err, -ENOMEM, "", "the snapshot");
		errno = ENOMEM;
		return NULL;
	}
	s->generation = generation;
	s->hash_seed = m->hash_seed;
	s->inputs_key = sl_compile_inputs_key(m, ports, n_ports, health);
	x = (struct sl_compile_ctx){.s = s, .m = m, .ports = ports, .n_ports = n_ports,
				    .rule_ids = rule_ids, .backend_ids = backend_ids,
				    .tables = tables, .health = health,
				    .seed = SL_MAGLEV_DEFAULT_SEED ^ m->hash_seed, .err = err};
	if (tables != NULL)
		tables->round++;
	rc = sl_compile_into(&x);
	sl_table_cache_sweep(tables);
	if (rc < 0) {
		sl_snapshot_free(s);
		errno = -rc;
		return NULL;
	}
	return s;
}
