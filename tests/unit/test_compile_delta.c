/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_compile_delta.c: an incremental compilation (sl_compile_delta())
 * gives, field by field, the snapshot a whole compilation gives.
 *
 * Documents of several shapes (load balancers, pools of IPv4 or of mixed
 * families behind a GUE network, members with weights and admin states,
 * Floating IP and DNAT rules sharing backend ports, an HA ports rule, a
 * NIC-based pool and inbound NAT rules, 0 to 2 ports with a neighbour hook,
 * a health hook that marks some members down) are edited one pool or rule
 * at a time: created, replaced, deleted. The edited document is validated
 * (sl_config_from_json), described by hand as a delta, and compiled twice:
 * incrementally from the snapshot of the document before the edit, and
 * whole, with registries seeded alike (sl_test_snapshot_diff compares).
 * Also: random sequences of edits, the cases that must compile whole, the
 * table cache, what an incremental compilation asks the hooks (only about
 * what changed), and a refused change.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_compile.h"
#include "sl_config.h"
#include "sl_test_config.h"
#include "sl_test_snapshot.h"

#define ARM "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/"

/* --- documents ------------------------------------------------------------ */

struct shape {
	const char *name;
	uint32_t lbs, pools, members, rules, frontends;
	uint32_t dnat_every; /* every n-th rule rewrites the destination (0: none) */
	uint32_t nat_rules;  /* lb0: inbound NAT rules and NICs, and the NIC-based pool "np" */
	bool ha;             /* lb0: an HA ports DNAT rule on a frontend of its own */
	bool overlap;        /* pools of a load balancer share addresses */
	uint32_t n_ports;
};

static const struct shape shapes[] = {
	{"one", 1, 2, 1, 1, 1, 0, 0, false, false, 1},
	{"no ports", 2, 3, 2, 3, 2, 2, 0, false, false, 0},
	{"mixed", 2, 5, 4, 8, 3, 2, 2, true, true, 2},
	{"wide", 3, 12, 6, 40, 6, 3, 3, true, true, 2},
	{"dnat", 1, 6, 8, 16, 4, 1, 0, true, true, 1},
};

struct gen {
	const struct shape *sh;
	uint64_t rnd;
	uint32_t counter; /* names and ports of new pools and rules */
};

static uint32_t
rnd(struct gen *g, uint32_t n)
{
	g->rnd ^= g->rnd << 13;
	g->rnd ^= g->rnd >> 7;
	g->rnd ^= g->rnd << 17;
	return n ? (uint32_t)(g->rnd % n) : 0;
}

/* Pools whose number is 3 mod 4 are in the GUE network, with members of both families. */
static bool
gue_pool(uint32_t k)
{
	return k % 4 == 3;
}

static cJSON *
ref(const char *id)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "id", id);
	return r;
}

static cJSON *
member(const struct gen *g, uint32_t lb, uint32_t k, uint32_t j)
{
	cJSON *a = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(a, "properties");
	char ip[64], name[16];

	if (gue_pool(k) && j % 2)
		snprintf(ip, sizeof(ip), "fd01:%x:%x::%x", lb + 1, k, j + 1);
	else if (gue_pool(k))
		snprintf(ip, sizeof(ip), "172.%u.%u.%u", 16 + lb, k, j + 1);
	else
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", lb + 1, g->sh->overlap ? k % 3 : k, j + 1);
	snprintf(name, sizeof(name), "a%u", j);
	cJSON_AddStringToObject(a, "name", name);
	cJSON_AddStringToObject(p, "ipAddress", ip);
	cJSON_AddItemToObject(p, "virtualNetwork", ref(gue_pool(k) ? ARM "virtualNetworks/g"
								    : ARM "virtualNetworks/v"));
	cJSON_AddNumberToObject(p, "weight", 1 + j % 3);
	if (j % 7 == 3)
		cJSON_AddStringToObject(p, "adminState", "Down");
	else if (j % 11 == 5)
		cJSON_AddStringToObject(p, "adminState", "Up");
	return a;
}

/* Pool p<k> of lb with members first .. first + n - 1. */
static cJSON *
pool(const struct gen *g, uint32_t lb, uint32_t k, uint32_t first, uint32_t n)
{
	cJSON *p = cJSON_CreateObject(), *props = cJSON_AddObjectToObject(p, "properties");
	cJSON *list = cJSON_AddArrayToObject(props, "loadBalancerBackendAddresses");
	char name[16];

	snprintf(name, sizeof(name), "p%u", k);
	cJSON_AddStringToObject(p, "name", name);
	for (uint32_t j = first; j < first + n; j++)
		cJSON_AddItemToArray(list, member(g, lb, k, j));
	if (k % 2)
		cJSON_AddNumberToObject(props, "drainPeriodInSeconds", 10 + k);
	return p;
}

/* A rule on frontend fe<fe> and pool `pool`; ports unique to the rule. */
static cJSON *
rule(const char *name, uint32_t fe, const char *pool_name, bool dnat, uint32_t port)
{
	cJSON *r = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(r, "properties");
	char fe_name[16];

	snprintf(fe_name, sizeof(fe_name), "fe%u", fe);
	cJSON_AddStringToObject(r, "name", name);
	cJSON_AddItemToObject(p, "frontendIPConfiguration", ref(fe_name));
	cJSON_AddItemToObject(p, "backendAddressPool", ref(pool_name));
	cJSON_AddStringToObject(p, "protocol", port % 2 ? "Udp" : "Tcp");
	cJSON_AddNumberToObject(p, "frontendPort", port);
	cJSON_AddNumberToObject(p, "backendPort", dnat ? 8000 + port % 3 : port);
	cJSON_AddBoolToObject(p, "enableFloatingIP", !dnat);
	cJSON_AddNumberToObject(p, "idleTimeoutInMinutes", 4 + port % 5);
	cJSON_AddBoolToObject(p, "enableTcpReset", port % 4 == 1);
	return r;
}

/* The pool number of name "p<k>" (UINT32_MAX for "np"). */
static uint32_t
pool_number(const char *name)
{
	return name[0] == 'p' ? (uint32_t)strtoul(name + 1, NULL, 10) : UINT32_MAX;
}

/* Rule i of a new document: its pool leaves the last one unused, for deletion. */
static cJSON *
initial_rule(const struct gen *g, uint32_t i)
{
	const struct shape *sh = g->sh;
	uint32_t k = sh->pools > 1 ? i % (sh->pools - 1) : 0;
	bool dnat = sh->dnat_every && i % sh->dnat_every == 0 && !gue_pool(k);
	char name[16], pool_name[16];

	snprintf(name, sizeof(name), "r%u", i);
	snprintf(pool_name, sizeof(pool_name), "p%u", k);
	return rule(name, i % sh->frontends, pool_name, dnat, 1000 + i);
}

static cJSON *
frontend(const char *name, const char *ip)
{
	cJSON *f = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(f, "properties");

	cJSON_AddStringToObject(f, "name", name);
	cJSON_AddStringToObject(p, "privateIPAddress", ip);
	return f;
}

/* lb0's extras: the HA ports rule, the NIC-based pool and the inbound NAT rules. */
static void
lb0_extras(const struct gen *g, cJSON *fes, cJSON *pools, cJSON *rules, cJSON *props)
{
	cJSON *nats;

	if (g->sh->ha) {
		cJSON *ha = rule("ha", 0, "p0", true, 0), *p = cJSON_GetObjectItem(ha, "properties");

		cJSON_AddItemToArray(fes, frontend("feha", "192.0.100.200"));
		cJSON_ReplaceItemInObject(p, "frontendIPConfiguration", ref("feha"));
		cJSON_ReplaceItemInObject(p, "protocol", cJSON_CreateString("All"));
		cJSON_ReplaceItemInObject(p, "frontendPort", cJSON_CreateNumber(0));
		cJSON_ReplaceItemInObject(p, "backendPort", cJSON_CreateNumber(0));
		cJSON_AddItemToArray(rules, ha);
	}
	if (g->sh->nat_rules == 0)
		return;
	cJSON_AddItemToArray(pools, cJSON_Parse("{\"name\":\"np\"}"));
	nats = cJSON_AddArrayToObject(props, "inboundNatRules");
	for (uint32_t i = 0; i < g->sh->nat_rules; i++) {
		char text[256];

		snprintf(text, sizeof(text),
			 "{\"name\":\"n%u\",\"properties\":{\"frontendIPConfiguration\":{\"id\":\"fe0\"},"
			 "\"protocol\":\"%s\",\"frontendPort\":%u,\"backendPort\":22}}",
			 i, i == 1 ? "All" : "Tcp", 3000 + i);
		cJSON_AddItemToArray(nats, cJSON_Parse(text));
	}
}

static cJSON *
load_balancer(const struct gen *g, uint32_t l)
{
	const struct shape *sh = g->sh;
	cJSON *lb = cJSON_CreateObject(), *props, *fes, *pools, *rules;
	char name[16], id[128], ip[32];

	snprintf(name, sizeof(name), "lb%u", l);
	cJSON_AddStringToObject(lb, "name", name);
	if (l == 0) {
		snprintf(id, sizeof(id), ARM "loadBalancers/%s", name);
		cJSON_AddStringToObject(lb, "id", id);
	}
	cJSON_AddItemToObject(lb, "sku", cJSON_Parse("{\"name\":\"Standard\"}"));
	props = cJSON_AddObjectToObject(lb, "properties");
	fes = cJSON_AddArrayToObject(props, "frontendIPConfigurations");
	pools = cJSON_AddArrayToObject(props, "backendAddressPools");
	rules = cJSON_AddArrayToObject(props, "loadBalancingRules");
	for (uint32_t i = 0; i < sh->frontends; i++) {
		snprintf(name, sizeof(name), "fe%u", i);
		snprintf(ip, sizeof(ip), "192.0.%u.%u", 100 + l, i + 1);
		cJSON_AddItemToArray(fes, frontend(name, ip));
	}
	for (uint32_t k = 0; k < sh->pools; k++)
		cJSON_AddItemToArray(pools, pool(g, l, k, 0, sh->members));
	for (uint32_t i = 0; i < sh->rules; i++)
		cJSON_AddItemToArray(rules, initial_rule(g, i));
	if (l == 0)
		lb0_extras(g, fes, pools, rules, props);
	return lb;
}

static cJSON *
nics(const struct gen *g)
{
	cJSON *list = cJSON_CreateArray();

	for (uint32_t i = 0; i < g->sh->nat_rules; i++) {
		char text[768];

		snprintf(text, sizeof(text),
			 "{\"name\":\"nic%u\",\"properties\":{\"ipConfigurations\":[{\"name\":\"c0\","
			 "\"properties\":{\"privateIPAddress\":\"10.250.0.%u\",\"subnet\":{\"id\":\""
			 ARM "virtualNetworks/v/subnets/s\"},\"loadBalancerBackendAddressPools\":[{\"id\":\""
			 ARM "loadBalancers/lb0/backendAddressPools/np\"}],\"loadBalancerInboundNatRules\":"
			 "[{\"id\":\"" ARM "loadBalancers/lb0/inboundNatRules/n%u\"}]}}]}}",
			 i, 4 + i, i);
		cJSON_AddItemToArray(list, cJSON_Parse(text));
	}
	return list;
}

static cJSON *
document(const struct gen *g)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *vnets = cJSON_Parse(
		"[{\"name\":\"v\",\"id\":\"" ARM "virtualNetworks/v\",\"properties\":{\"addressSpace\":"
		"{\"addressPrefixes\":[\"10.0.0.0/8\"]},\"subnets\":[{\"name\":\"s\",\"properties\":"
		"{\"addressPrefix\":\"10.250.0.0/16\"}}],\"floatingIpDelivery\":{\"mode\":\"IPinIP\"}}},"
		"{\"name\":\"g\",\"id\":\"" ARM "virtualNetworks/g\",\"properties\":{\"addressSpace\":"
		"{\"addressPrefixes\":[\"172.16.0.0/12\",\"fd01::/16\"]},\"floatingIpDelivery\":"
		"{\"mode\":\"GUE\",\"udpPort\":6080}}}]");
	cJSON *lbs = cJSON_CreateArray();

	assert_non_null(vnets);
	for (uint32_t l = 0; l < g->sh->lbs; l++)
		cJSON_AddItemToArray(lbs, load_balancer(g, l));
	cJSON_AddItemToObject(doc, "virtualNetworks", vnets);
	cJSON_AddItemToObject(doc, "loadBalancers", lbs);
	cJSON_AddItemToObject(doc, "networkInterfaces", nics(g));
	return doc;
}

/* --- edits ---------------------------------------------------------------- */

static cJSON *
lb_list(cJSON *doc, uint32_t lb, const char *what)
{
	cJSON *l = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "loadBalancers"), (int)lb);

	return cJSON_GetObjectItem(cJSON_GetObjectItem(l, "properties"), what);
}

static const char *
name_of(const cJSON *item)
{
	return cJSON_GetObjectItem(item, "name")->valuestring;
}

static const char *
rule_pool(const cJSON *r)
{
	const cJSON *p = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "properties"),
					     "backendAddressPool");
	return cJSON_GetObjectItem(p, "id")->valuestring;
}

/* Is pool `name` of lb used by a rule (or, "np", by the NICs)? */
static bool
pool_used(cJSON *doc, uint32_t lb, const char *name)
{
	const cJSON *r;

	if (pool_number(name) == UINT32_MAX)
		return true;
	cJSON_ArrayForEach(r, lb_list(doc, lb, "loadBalancingRules"))
		if (strcmp(rule_pool(r), name) == 0)
			return true;
	return false;
}

/* A pool for a rule: any but the NIC-based one when dnat is not allowed... any of lb's. */
static const char *
pick_pool(struct gen *g, cJSON *doc, uint32_t lb)
{
	cJSON *pools = lb_list(doc, lb, "backendAddressPools");

	return name_of(cJSON_GetArrayItem(pools, (int)rnd(g, (uint32_t)cJSON_GetArraySize(pools))));
}

/* A new rule named name on a random frontend and pool, ports never used before. */
static cJSON *
random_rule(struct gen *g, cJSON *doc, uint32_t lb, const char *name)
{
	const char *p = pick_pool(g, doc, lb);
	uint32_t k = pool_number(p);
	bool dnat = rnd(g, 2) == 0 && (k == UINT32_MAX || !gue_pool(k));

	return rule(name, rnd(g, g->sh->frontends), p, dnat, 20000 + g->counter++);
}

/* The index of a random rule of lb other than the HA ports rule; -1 when none. */
static int
pick_rule(struct gen *g, cJSON *doc, uint32_t lb)
{
	cJSON *rules = lb_list(doc, lb, "loadBalancingRules");
	int n = cJSON_GetArraySize(rules), i;

	for (int tries = 0; tries < 8 && n > 0; tries++) {
		i = (int)rnd(g, (uint32_t)n);
		if (strcmp(name_of(cJSON_GetArrayItem(rules, i)), "ha") != 0)
			return i;
	}
	return -1;
}

/* A random pool of lb that edits may replace (IP-based) or delete (unused too); -1: none. */
static int
pick_pool_index(struct gen *g, cJSON *doc, uint32_t lb, bool unused)
{
	cJSON *pools = lb_list(doc, lb, "backendAddressPools");
	int n = cJSON_GetArraySize(pools), start = (int)rnd(g, (uint32_t)n);

	for (int t = 0; t < n; t++) {
		int i = (start + t) % n;
		const char *name = name_of(cJSON_GetArrayItem(pools, i));

		if (pool_number(name) != UINT32_MAX && (!unused || !pool_used(doc, lb, name)))
			return i;
	}
	return -1;
}

/*
 * Apply op to kind of a random child of a random load balancer of doc (in
 * place); *d describes it. false when the document has no child to edit.
 */
static bool
edit(struct gen *g, cJSON *doc, enum sl_delta_kind kind, enum sl_delta_op op,
     struct sl_model_delta *d)
{
	uint32_t lb = rnd(g, g->sh->lbs);
	cJSON *pools = lb_list(doc, lb, "backendAddressPools");
	cJSON *rules = lb_list(doc, lb, "loadBalancingRules");
	char name[16];
	int i;

	*d = (struct sl_model_delta){.kind = kind, .op = op, .lb = lb};
	if (kind == SL_DELTA_POOL && op == SL_DELTA_CREATE) {
		uint32_t k = 100 + g->counter++;
		cJSON_AddItemToArray(pools, pool(g, lb, k, rnd(g, 4), rnd(g, 6)));
		d->idx = (uint32_t)cJSON_GetArraySize(pools) - 1;
		return true;
	}
	if (kind == SL_DELTA_RULE && op == SL_DELTA_CREATE) {
		snprintf(name, sizeof(name), "r%u", 100 + g->counter);
		cJSON_AddItemToArray(rules, random_rule(g, doc, lb, name));
		d->idx = (uint32_t)cJSON_GetArraySize(rules) - 1;
		return true;
	}
	if (kind == SL_DELTA_POOL) {
		i = pick_pool_index(g, doc, lb, op == SL_DELTA_DELETE);
		if (i < 0)
			return false;
		d->idx = (uint32_t)i;
		if (op == SL_DELTA_DELETE) {
			cJSON_DeleteItemFromArray(pools, i);
			return true;
		}
		uint32_t k = pool_number(name_of(cJSON_GetArrayItem(pools, i)));
		cJSON_ReplaceItemInArray(pools, i, pool(g, lb, k, rnd(g, 5), rnd(g, 8)));
		return true;
	}
	i = pick_rule(g, doc, lb);
	if (i < 0)
		return false;
	d->idx = (uint32_t)i;
	if (op == SL_DELTA_DELETE) {
		cJSON_DeleteItemFromArray(rules, i);
		return true;
	}
	snprintf(name, sizeof(name), "%s", name_of(cJSON_GetArrayItem(rules, i)));
	cJSON_ReplaceItemInArray(rules, i, random_rule(g, doc, lb, name));
	return true;
}

/*
 * A copy of doc with op applied to a random child, one that validates (a
 * random rule may share a backend port with another DNAT rule of its pool,
 * which validation refuses: then another try); NULL when none is found.
 */
static cJSON *
edited(struct gen *g, const cJSON *doc, enum sl_delta_kind kind, enum sl_delta_op op,
       struct sl_model_delta *d)
{
	for (int tries = 0; tries < 20; tries++) {
		cJSON *copy = cJSON_Duplicate(doc, 1);
		struct sl_model *m;
		struct sl_error err;

		if (!edit(g, copy, kind, op, d)) {
			cJSON_Delete(copy);
			continue;
		}
		m = sl_config_from_json(copy, NULL, &err);
		if (m != NULL) {
			sl_model_free(m);
			return copy;
		}
		cJSON_Delete(copy);
	}
	return NULL;
}

/* --- the two compilations --------------------------------------------------- */

static uint64_t health_epoch = 1;
static uint32_t health_calls, resolve_calls;

static int
fake_down(void *ctx, const char *lb, const char *pool_name, const char *address)
{
	uint32_t h = 2166136261u;
	const char *parts[3] = {lb, pool_name, address};

	(void)ctx;
	health_calls++;
	for (int k = 0; k < 3; k++)
		for (const char *c = parts[k]; *c; c++)
			h = (h ^ (uint8_t)*c) * 16777619u;
	return h % 5 == 0;
}

/* Port 0's neighbour table: addresses whose last byte is even are known. */
static bool
fake_resolve(void *ctx, uint32_t port, const struct sl_ip_addr *a, uint16_t vlan,
	     struct sl_mac *mac)
{
	(void)ctx;
	(void)port;
	(void)vlan;
	resolve_calls++;
	if (a->bytes[15] % 2)
		return false;
	memset(mac, 0, sizeof(*mac));
	mac->bytes[0] = 0x02;
	mac->bytes[5] = a->bytes[15];
	return true;
}

/* Side 0 compiles incrementally, side 1 whole; each has its registries and cache. */
struct rig {
	const struct shape *sh;
	struct sl_port_info ports[2];
	struct sl_id_registry *rids[2], *bids[2];
	struct sl_table_cache *tables[2];
	struct sl_snapshot *prev; /* side 0's last snapshot */
	cJSON *doc;               /* the document prev was compiled from */
	uint64_t generation;
};

static struct sl_health_hook
health_hook(void)
{
	return (struct sl_health_hook){.down = fake_down, .ctx = NULL, .epoch = health_epoch};
}

static struct sl_snapshot *
whole(struct rig *r, const struct sl_model *m, int side, struct sl_error *err)
{
	const struct sl_health_hook h = health_hook();

	return sl_compile_cached(m, r->ports, r->sh->n_ports, r->rids[side], r->bids[side],
				 r->tables[side], &h, r->generation, err);
}

static void
rig_init(struct rig *r, struct gen *g, const struct shape *sh, uint64_t seed)
{
	struct sl_error err;
	struct sl_model *m;

	memset(r, 0, sizeof(*r));
	*g = (struct gen){.sh = sh, .rnd = seed * 0x9e3779b97f4a7c15ull + 1, .counter = 0};
	r->sh = sh;
	sl_test_make_ports();
	memcpy(r->ports, sl_test_ports, sizeof(r->ports));
	r->ports[0].resolve = fake_resolve;
	r->ports[0].resolve_epoch = 3;
	for (int side = 0; side < 2; side++) {
		r->rids[side] = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
		r->bids[side] = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
		r->tables[side] = sl_table_cache_create();
		assert_non_null(r->tables[side]);
	}
	r->doc = document(g);
	m = sl_test_from_json_ok(r->doc);
	r->generation = 1;
	r->prev = whole(r, m, 0, &err);
	assert_non_null(r->prev);
	sl_snapshot_free(whole(r, m, 1, &err)); /* seeds side 1's registries alike */
	sl_model_free(m);
}

static void
rig_fini(struct rig *r)
{
	sl_snapshot_free(r->prev);
	cJSON_Delete(r->doc);
	for (int side = 0; side < 2; side++) {
		sl_id_registry_free(r->rids[side]);
		sl_id_registry_free(r->bids[side]);
		sl_table_cache_free(r->tables[side]);
	}
}

/* Compile doc (r->doc edited by d) both ways, compare, and move r on to it. */
static void
check(struct rig *r, cJSON *doc, const struct sl_model_delta *d, bool incremental)
{
	const struct sl_health_hook h = health_hook();
	struct sl_model *m = sl_test_from_json_ok(doc);
	struct sl_snapshot *inc, *full;
	struct sl_error err;
	char why[256];

	r->generation++;
	inc = sl_compile_delta(m, r->prev, d, r->ports, r->sh->n_ports, r->rids[0], r->bids[0],
			       r->tables[0], &h, r->generation, &err);
	if (inc == NULL)
		fail_msg("%s: delta compile: %s: %s", r->sh->name, err.code, err.message);
	full = whole(r, m, 1, &err);
	assert_non_null(full);
	if (sl_test_snapshot_diff(inc, full, why, sizeof(why)))
		fail_msg("%s: %s %u of lb%u, op %u: %s differs", r->sh->name,
			 d != NULL && d->kind == SL_DELTA_POOL ? "pool" : "rule",
			 d != NULL ? d->idx : 0, d != NULL ? d->lb : 0, d != NULL ? d->op : 0, why);
	assert_int_equal(inc->incremental, incremental);
	sl_snapshot_free(full);
	sl_snapshot_free(r->prev);
	r->prev = inc;
	cJSON_Delete(r->doc);
	r->doc = doc;
	sl_model_free(m);
}

static const struct {
	enum sl_delta_kind kind;
	enum sl_delta_op op;
} ops[] = {
	{SL_DELTA_POOL, SL_DELTA_REPLACE}, {SL_DELTA_POOL, SL_DELTA_CREATE},
	{SL_DELTA_POOL, SL_DELTA_DELETE},  {SL_DELTA_RULE, SL_DELTA_REPLACE},
	{SL_DELTA_RULE, SL_DELTA_CREATE},  {SL_DELTA_RULE, SL_DELTA_DELETE},
};

/* --- tests ------------------------------------------------------------------ */

/* Every shape, every operation, from the shape's first document, several times. */
static void
test_each_shape_and_op(void **state)
{
	(void)state;
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
			for (uint64_t seed = 1; seed <= 2; seed++) {
				struct rig r;
				struct gen g;
				struct sl_model_delta d;

				rig_init(&r, &g, &shapes[s], seed * 7 + o);
				cJSON *doc = edited(&g, r.doc, ops[o].kind, ops[o].op, &d);
				if (doc != NULL)
					check(&r, doc, &d, true);
				rig_fini(&r);
			}
		}
	}
}

/* Long random sequences, each step from the previous incremental snapshot. */
static void
test_random_sequences(void **state)
{
	(void)state;
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		struct rig r;
		struct gen g;
		uint32_t done = 0;

		rig_init(&r, &g, &shapes[s], 1000 + s);
		for (int step = 0; step < 40; step++) {
			struct sl_model_delta d;
			uint32_t o = rnd(&g, sizeof(ops) / sizeof(ops[0]));
			cJSON *doc = edited(&g, r.doc, ops[o].kind, ops[o].op, &d);

			if (doc == NULL)
				continue;
			check(&r, doc, &d, true);
			done++;
		}
		assert_true(done >= 20);
		rig_fini(&r);
	}
}

/* Rules created and deleted until the frontend table and the address index change size. */
static void
test_index_sizes_change(void **state)
{
	struct rig r;
	struct gen g;
	struct sl_model_delta d;
	uint32_t masks[2] = {0, 0};

	(void)state;
	rig_init(&r, &g, &shapes[0], 17);
	masks[0] = r.prev->frontend_mask;
	for (int i = 0; i < 12; i++) {
		cJSON *doc = edited(&g, r.doc, SL_DELTA_RULE, SL_DELTA_CREATE, &d);
		assert_non_null(doc);
		check(&r, doc, &d, true);
	}
	masks[1] = r.prev->frontend_mask;
	assert_true(masks[1] > masks[0]);
	for (int i = 0; i < 12; i++) {
		cJSON *doc = edited(&g, r.doc, SL_DELTA_RULE, SL_DELTA_DELETE, &d);
		assert_non_null(doc);
		check(&r, doc, &d, true);
	}
	assert_int_equal(r.prev->frontend_mask, masks[0]);
	rig_fini(&r);
}

/* What reuse cannot be trusted with compiles whole, and still gives the same snapshot. */
static void
test_unsafe_compiles_whole(void **state)
{
	struct rig r;
	struct gen g;
	struct sl_model_delta d;
	cJSON *doc;

	(void)state;
	rig_init(&r, &g, &shapes[2], 5);
	/* a neighbour learned since prev */
	r.ports[0].resolve_epoch++;
	doc = edited(&g, r.doc, SL_DELTA_POOL, SL_DELTA_REPLACE, &d);
	assert_non_null(doc);
	check(&r, doc, &d, false);
	/* then, unchanged, reuse again */
	doc = edited(&g, r.doc, SL_DELTA_POOL, SL_DELTA_REPLACE, &d);
	assert_non_null(doc);
	check(&r, doc, &d, true);
	/* a health change since prev */
	health_epoch++;
	doc = edited(&g, r.doc, SL_DELTA_RULE, SL_DELTA_REPLACE, &d);
	assert_non_null(doc);
	check(&r, doc, &d, false);
	/* a port's static neighbour changed */
	r.ports[1].n_neighbours = 0;
	doc = edited(&g, r.doc, SL_DELTA_RULE, SL_DELTA_CREATE, &d);
	assert_non_null(doc);
	check(&r, doc, &d, false);
	/* no delta: anything may have changed */
	doc = edited(&g, r.doc, SL_DELTA_POOL, SL_DELTA_CREATE, &d);
	assert_non_null(doc);
	check(&r, doc, NULL, false);
	/* a delta that does not fit prev (it says create; the pool counts say otherwise) */
	doc = edited(&g, r.doc, SL_DELTA_POOL, SL_DELTA_REPLACE, &d);
	assert_non_null(doc);
	d.op = SL_DELTA_CREATE;
	d.idx = (uint32_t)cJSON_GetArraySize(lb_list(doc, d.lb, "backendAddressPools")) - 1;
	check(&r, doc, &d, false);
	/* an index out of range */
	doc = edited(&g, r.doc, SL_DELTA_RULE, SL_DELTA_REPLACE, &d);
	assert_non_null(doc);
	d.idx = 1000;
	check(&r, doc, &d, false);
	rig_fini(&r);
}

/* A pool compiled again asks the hooks about its own members only; a rule, about nothing. */
static void
test_asks_only_about_the_change(void **state)
{
	struct rig r;
	struct gen g;
	struct sl_model_delta d;
	cJSON *doc;
	uint32_t n;

	(void)state;
	rig_init(&r, &g, &shapes[3], 9);
	doc = edited(&g, r.doc, SL_DELTA_POOL, SL_DELTA_REPLACE, &d);
	assert_non_null(doc);
	n = (uint32_t)cJSON_GetArraySize(cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetArrayItem(lb_list(doc, d.lb, "backendAddressPools"),
						       (int)d.idx),
				    "properties"),
		"loadBalancerBackendAddresses"));
	health_calls = resolve_calls = 0;
	struct sl_model *m = sl_test_from_json_ok(doc);
	const struct sl_health_hook h = health_hook();
	struct sl_error err;
	struct sl_snapshot *s = sl_compile_delta(m, r.prev, &d, r.ports, 2, r.rids[0], r.bids[0],
						 r.tables[0], &h, 9, &err);
	assert_non_null(s);
	assert_true(s->incremental);
	assert_true(health_calls <= n);
	/* at most three lookups a member on port 0 (next hop, gateway, inner MAC) */
	assert_true(resolve_calls <= 3 * n);
	sl_snapshot_free(s);
	sl_model_free(m);
	cJSON_Delete(doc);

	doc = edited(&g, r.doc, SL_DELTA_RULE, SL_DELTA_REPLACE, &d);
	assert_non_null(doc);
	health_calls = resolve_calls = 0;
	check(&r, doc, &d, true);
	/* check() compiled whole too: count the incremental side alone */
	health_calls = resolve_calls = 0;
	doc = edited(&g, r.doc, SL_DELTA_RULE, SL_DELTA_CREATE, &d);
	assert_non_null(doc);
	m = sl_test_from_json_ok(doc);
	s = sl_compile_delta(m, r.prev, &d, r.ports, 2, r.rids[0], r.bids[0], r.tables[0], &h, 10,
			     &err);
	assert_non_null(s);
	assert_true(s->incremental);
	assert_int_equal(health_calls, 0);
	assert_int_equal(resolve_calls, 0);
	sl_snapshot_free(s);
	sl_model_free(m);
	cJSON_Delete(doc);
	rig_fini(&r);
}

/* Unchanged pools share prev's tables; a replaced pool's old table leaves the cache. */
static void
test_tables_shared_and_dropped(void **state)
{
	struct rig r;
	struct gen g;
	struct sl_model_delta d;
	struct sl_maglev_table *old, *kept;
	uint64_t hits, builds, hits2, builds2;
	cJSON *doc;

	(void)state;
	rig_init(&r, &g, &shapes[2], 11);
	/* pool p2 of lb0 (no other pool shares its addresses) gets other members */
	doc = cJSON_Duplicate(r.doc, 1);
	d = (struct sl_model_delta){.kind = SL_DELTA_POOL, .op = SL_DELTA_REPLACE, .lb = 0, .idx = 2};
	cJSON_ReplaceItemInArray(lb_list(doc, 0, "backendAddressPools"), 2, pool(&g, 0, 2, 2, 3));
	old = r.prev->pools[2].shared;
	kept = r.prev->pools[0].shared;
	old->refs++; /* keep it to look at after prev goes */
	sl_table_cache_stats(r.tables[0], &hits, &builds);
	check(&r, doc, &d, true);
	sl_table_cache_stats(r.tables[0], &hits2, &builds2);
	/* the changed pool's tables alone: the others are not looked up at all */
	assert_int_equal(builds2 - builds + hits2 - hits, 1 + (r.prev->pools[2].unprobed != NULL));
	assert_ptr_equal(r.prev->pools[0].shared, kept);
	assert_int_equal(kept->refs, 2); /* the new snapshot and the cache */
	assert_int_equal(old->refs, 1);  /* ours: neither the cache nor a snapshot */
	sl_maglev_table_put(old);
	rig_fini(&r);
}

/* A change the compilation refuses (no counter id left) fails alike and leaves prev usable. */
static void
test_refused_change(void **state)
{
	struct rig r;
	struct gen g;
	struct sl_model_delta d;
	struct sl_error e0, e1;
	struct sl_id_registry *tight[2];
	cJSON *doc;

	(void)state;
	rig_init(&r, &g, &shapes[0], 13);
	/* registries that hold exactly the rules there are */
	for (int side = 0; side < 2; side++) {
		tight[side] = sl_id_registry_create(r.prev->n_rules);
		for (uint32_t i = 0; i < r.prev->n_rules; i++)
			assert_true(sl_id_registry_get(tight[side],
						       sl_id_registry_name(r.rids[side], i)) >= 0);
		sl_id_registry_free(r.rids[side]);
		r.rids[side] = tight[side];
	}
	doc = edited(&g, r.doc, SL_DELTA_RULE, SL_DELTA_CREATE, &d);
	assert_non_null(doc);
	struct sl_model *m = sl_test_from_json_ok(doc);
	const struct sl_health_hook h = health_hook();
	assert_null(sl_compile_delta(m, r.prev, &d, r.ports, 1, r.rids[0], r.bids[0], r.tables[0],
				     &h, 5, &e0));
	assert_null(whole(&r, m, 1, &e1));
	assert_string_equal(e0.code, "CounterIdsExhausted");
	assert_string_equal(e0.code, e1.code);
	sl_model_free(m);
	cJSON_Delete(doc);
	/* prev still compiles on */
	doc = edited(&g, r.doc, SL_DELTA_POOL, SL_DELTA_REPLACE, &d);
	assert_non_null(doc);
	check(&r, doc, &d, true);
	rig_fini(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_shape_and_op),
		cmocka_unit_test(test_random_sequences),
		cmocka_unit_test(test_index_sizes_change),
		cmocka_unit_test(test_unsafe_compiles_whole),
		cmocka_unit_test(test_asks_only_about_the_change),
		cmocka_unit_test(test_tables_shared_and_dropped),
		cmocka_unit_test(test_refused_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
