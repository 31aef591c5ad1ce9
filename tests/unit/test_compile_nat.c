/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_compile_nat.c: inbound NAT rules in the compiled snapshot.
 *
 * Each NAT rule becomes a rule "<lb>/<natRule>" (protocol All: a Tcp and a
 * Udp entry, "<lb>/<natRule>/Tcp" and ".../Udp") whose pool "<lb>/<natRule>"
 * holds the one NIC ipConfiguration that lists it, as backend
 * "<lb>/<natRule>/<nic>/<ipconfig>" with the ipConfiguration's address: DNAT
 * to it at backendPort, or with Floating IP the delivery of its vnet. A NAT
 * rule no ipConfiguration lists gets an empty pool. Counter ids live in a
 * namespace of their own ("nat:" keys) and are stable across compilations.
 *
 * The JSON texts are single-quoted for readability; sl_test_json() turns
 * them into JSON.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_compile.h"
#include "sl_config.h"
#include "sl_snapshot.h"
#include "sl_test_util.h"

/* --- documents ------------------------------------------------------------ */

#define VNET_ID "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/"
#define LB_ID "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/"
#define SUB_ID(vnet, sub) VNET_ID vnet "/subnets/" sub
#define POOL_REF(lb, pool) "{'id':'" LB_ID lb "/backendAddressPools/" pool "'}"
#define NAT_REF(lb, rule) "{'id':'" LB_ID lb "/inboundNatRules/" rule "'}"
#define IPC(n, ip, vnet, sub, extra)                                                        \
	"{'name':'" n "','properties':{'privateIPAddress':'" ip "','subnet':{'id':'"             \
	SUB_ID(vnet, sub) "'}" extra "}}"
#define IN_POOLS(x) ",'loadBalancerBackendAddressPools':[" x "]"
#define IN_NATS(x) ",'loadBalancerInboundNatRules':[" x "]"
#define NIC(n, ipcs) "{'name':'" n "','properties':{'ipConfigurations':[" ipcs "]}}"
#define NAT(n, fe, extra)                                                                   \
	"{'name':'" n "','properties':{'frontendIPConfiguration':{'id':'" fe "'}," extra "}}"

#define VNET1                                                                               \
	"{'name':'vnet1','properties':{'addressSpace':{'addressPrefixes':['10.0.0.0/16','fd00::/48']}," \
	"'subnets':[{'name':'sub1','properties':{'addressPrefix':'10.0.1.0/24'}},"          \
	"{'name':'sub6','properties':{'addressPrefix':'fd00:0:0:1::/64'}}]}}"
#define VNETG                                                                               \
	"{'name':'vnetg','properties':{'addressSpace':{'addressPrefixes':['10.7.0.0/16']},"      \
	"'subnets':[{'name':'sg','properties':{'addressPrefix':'10.7.1.0/24'}}],"            \
	"'floatingIpDelivery':{'mode':'GUE'}}}"

/*
 * lb1: frontends fe1 (192.0.2.1) and fe6 (2001:db8::1), NIC-based pool np,
 * rule r1 (Tcp 80 -> np), and NAT rules:
 *   ssh1 Tcp 2201 -> 22 on nic1/ipc1 (10.0.1.4)
 *   ssh2 Tcp 2202 -> 22 on nic2/ipc1 (10.0.1.5)
 *   r1   Udp 5000 -> 5001 on nic2/ipc1 (named like the rule)
 *   np   Tcp 2299 -> 22, listed by no ipConfiguration (named like the pool)
 *   gue  Udp 4500, Floating IP, on nicg/ipc1 (10.7.1.4, a GUE vnet)
 *   rdp6 All 3389 -> 3390 on nic1/ipc6 (fd00:0:0:1::10)
 * lb2: frontend fe (192.0.2.2), IP-based pool p (10.0.0.9), rule r (Tcp 80),
 * NAT rule ssh Tcp 2201 -> 22 on nic3/ipc1 (10.0.1.6).
 * NAT_NIC2 is nic2's list of NAT rules (to detach them).
 */
#define LB1_NATS                                                                            \
	"'inboundNatRules':["                                                                   \
	NAT("ssh1", "fe1", "'protocol':'Tcp','frontendPort':2201,'backendPort':22") ","         \
	NAT("ssh2", "fe1", "'protocol':'Tcp','frontendPort':2202,'backendPort':22") ","         \
	NAT("r1", "fe1", "'protocol':'Udp','frontendPort':5000,'backendPort':5001,"           \
			 "'idleTimeoutInMinutes':7") ","                                                 \
	NAT("np", "fe1", "'protocol':'Tcp','frontendPort':2299,'backendPort':22") ","           \
	NAT("gue", "fe1", "'protocol':'Udp','frontendPort':4500,'enableFloatingIP':true") ","   \
	NAT("rdp6", "fe6", "'protocol':'All','frontendPort':3389,'backendPort':3390,"        \
			   "'enableTcpReset':true") "]"
#define LB1                                                                                 \
	"{'name':'lb1','sku':{'name':'Standard'},'properties':{"                                \
	"'frontendIPConfigurations':[{'name':'fe1','properties':{'privateIPAddress':'192.0.2.1'}}," \
	"{'name':'fe6','properties':{'privateIPAddress':'2001:db8::1'}}],"                      \
	"'backendAddressPools':[{'name':'np'}],"                                                \
	"'loadBalancingRules':[{'name':'r1','properties':{'frontendIPConfiguration':{'id':'fe1'}," \
	"'backendAddressPool':{'id':'np'},'protocol':'Tcp','frontendPort':80}}]," LB1_NATS "}}"
#define LB2                                                                                 \
	"{'name':'lb2','sku':{'name':'Standard'},'properties':{"                                \
	"'frontendIPConfigurations':[{'name':'fe','properties':{'privateIPAddress':'192.0.2.2'}}]," \
	"'backendAddressPools':[{'name':'p','properties':{'loadBalancerBackendAddresses':["     \
	"{'name':'a','properties':{'virtualNetwork':{'id':'" VNET_ID "vnet1'},'ipAddress':'10.0.0.9'}}]}}]," \
	"'loadBalancingRules':[{'name':'r','properties':{'frontendIPConfiguration':{'id':'fe'}," \
	"'backendAddressPool':{'id':'p'},'protocol':'Tcp','frontendPort':80}}],"                 \
	"'inboundNatRules':[" NAT("ssh", "fe", "'protocol':'Tcp','frontendPort':2201,'backendPort':22") "]}}"
#define NICS(nat_nic2)                                                                      \
	NIC("nic1", IPC("ipc1", "10.0.1.4", "vnet1", "sub1",                                   \
			",'primary':true" IN_POOLS(POOL_REF("lb1", "np")) IN_NATS(NAT_REF("lb1", "ssh1"))) "," \
		    IPC("ipc6", "fd00:0:0:1::10", "vnet1", "sub6", IN_NATS(NAT_REF("lb1", "rdp6")))) "," \
	NIC("nic2", IPC("ipc1", "10.0.1.5", "vnet1", "sub1",                                   \
			IN_POOLS(POOL_REF("lb1", "np")) nat_nic2)) ","                                   \
	NIC("nicg", IPC("ipc1", "10.7.1.4", "vnetg", "sg", IN_NATS(NAT_REF("lb1", "gue")))) "," \
	NIC("nic3", IPC("ipc1", "10.0.1.6", "vnet1", "sub1", IN_NATS(NAT_REF("lb2", "ssh"))))
#define NAT_NIC2 IN_NATS(NAT_REF("lb1", "ssh2") "," NAT_REF("lb1", "r1"))
#define DOC(nat_nic2)                                                                       \
	"{'virtualNetworks':[" VNET1 "," VNETG "],'loadBalancers':[" LB1 "," LB2 "],"             \
	"'networkInterfaces':[" NICS(nat_nic2) "]}"

/* --- helpers --------------------------------------------------------------- */

static struct sl_neighbour neigh[4];
static struct sl_port_info port;

static struct sl_model *
parse(const char *single_quoted)
{
	char *text = strdup(single_quoted), *p;
	struct sl_error err;
	struct sl_model *m;

	assert_non_null(text);
	for (p = text; *p != '\0'; p++) {
		if (*p == '\'')
			*p = '"';
	}
	memset(&err, 0, sizeof(err));
	m = sl_config_parse(text, strlen(text), "test", &err);
	free(text);
	if (m == NULL)
		fail_msg("%s at %s: %s", err.code, err.json_path, err.message);
	return m;
}

/* The rule that (frontend, protocol, port) finds in the frontend table. */
static const struct sl_rule *
lookup(const struct sl_snapshot *s, const char *fe, uint8_t proto, uint16_t port_host)
{
	struct sl_ip_addr a = sl_test_ip(fe);
	uint32_t r = sl_frontend_find(s, &a, proto, htons(port_host));

	if (r == SL_RULE_NONE)
		return NULL;
	assert_true(r < s->n_rules);
	return &s->rules[r];
}

static const struct sl_rule *
rule_named(const struct sl_snapshot *s, const char *name)
{
	for (uint32_t i = 0; i < s->n_rules; i++) {
		if (strcmp(s->rules[i].name, name) == 0)
			return &s->rules[i];
	}
	fail_msg("no rule %s", name);
	return NULL;
}

/* The one backend of rule r's pool, after checking the pool and its tiny table. */
static const struct sl_backend *
only_backend(const struct sl_snapshot *s, const struct sl_rule *r)
{
	const struct sl_pool *p;

	assert_true(r->pool < s->n_pools);
	p = &s->pools[r->pool];
	assert_int_equal(p->n_members, 1);
	assert_int_equal(p->table_size, SL_CONFIG_MAGLEV_MIN_SIZE);
	for (uint32_t i = 0; i < p->table_size; i++)
		assert_int_equal(p->table[i], 0);
	assert_true(p->members[0] < s->n_backends);
	assert_int_equal(s->backends[p->members[0]].pool, r->pool);
	/* the stable ids lead back to the same entries */
	assert_int_equal(s->backend_by_id[s->backends[p->members[0]].counter_id], p->members[0]);
	assert_ptr_equal(&s->rules[s->rule_by_id[r->counter_id]], r);
	return &s->backends[p->members[0]];
}

static void
assert_addr(const struct sl_ip_addr *got, const char *want)
{
	struct sl_ip_addr a = sl_test_ip(want);

	assert_true(sl_ip_addr_eq(got, &a));
}

static int
setup(void **state)
{
	(void)state;
	memset(&port, 0, sizeof(port));
	port.mac = sl_test_mac("02:00:00:00:00:01");
	port.ipv4 = sl_test_ip("10.0.0.2");
	port.has_ipv4 = 1;
	port.mtu = 1500;
	neigh[0] = sl_test_neighbour("10.0.1.4", "02:aa:00:00:00:04");
	neigh[1] = sl_test_neighbour("10.0.1.5", "02:aa:00:00:00:05");
	neigh[2] = sl_test_neighbour("10.7.1.4", "02:aa:00:00:07:04");
	neigh[3] = sl_test_neighbour("fd00:0:0:1::10", "02:aa:00:00:06:10");
	port.neighbours = neigh;
	port.n_neighbours = 4;
	return 0;
}

/* --- tests ----------------------------------------------------------------- */

static void
test_nat_rules_compile(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	struct sl_model *m = parse(DOC(NAT_NIC2));
	const struct sl_rule *r, *lbr, *tcp, *udp;
	const struct sl_backend *be;
	const struct sl_encap *h;
	struct sl_error err;
	struct sl_snapshot *s;

	(void)state;
	s = sl_compile(m, &port, 1, rids, bids, 1, &err);
	if (s == NULL)
		fail_msg("%s: %s", err.code, err.message);
	/* lb1: r1 + 6 NAT rules, rdp6 twice; lb2: r + ssh */
	assert_int_equal(s->n_rules, 1 + 7 + 2);
	/* lb1: np + 6 NAT pools; lb2: p + 1 */
	assert_int_equal(s->n_pools, 1 + 6 + 1 + 1);
	/* np's two NIC members, 5 attached NAT rules, lb2's address and NAT rule */
	assert_int_equal(s->n_backends, 2 + 5 + 1 + 1);

	/* The load-balancing rule is untouched: pool np, two members. */
	lbr = lookup(s, "192.0.2.1", SL_PROTO_TCP, 80);
	assert_non_null(lbr);
	assert_string_equal(s->pools[lbr->pool].name, "lb1/np");
	assert_int_equal(s->pools[lbr->pool].n_members, 2);
	assert_int_equal(s->pools[lbr->pool].table_size, SL_MAGLEV_DEFAULT_SIZE);

	/* ssh1: DNAT 192.0.2.1:2201/Tcp -> 10.0.1.4:22 */
	r = lookup(s, "192.0.2.1", SL_PROTO_TCP, 2201);
	assert_non_null(r);
	assert_string_equal(r->name, "lb1/ssh1");
	assert_addr(&r->frontend, "192.0.2.1");
	assert_int_equal(r->proto, SL_PROTO_TCP);
	assert_int_equal(r->frontend_port_be, htons(2201));
	assert_int_equal(r->backend_port_be, htons(22));
	assert_int_equal(r->floating_ip, 0);
	assert_int_equal(r->family, SL_AF_IPV4);
	assert_int_equal(r->dist, SL_DIST_DEFAULT);
	assert_int_equal(r->tcp_idle_ms, 4 * 60000);
	assert_int_equal(r->tcp_reset, 0);
	assert_string_equal(s->pools[r->pool].name, "lb1/ssh1");
	be = only_backend(s, r);
	assert_string_equal(be->name, "lb1/ssh1/nic1/ipc1");
	assert_addr(&be->addr, "10.0.1.4");
	assert_int_equal(be->family, SL_AF_IPV4);
	assert_int_equal(be->weight, 1);
	assert_int_equal(be->usable, 1);
	assert_int_equal(be->admin_down, 0);
	/* its DNAT prefix goes to the ipConfiguration's MAC */
	h = sl_snapshot_hdr(s, (uint32_t)(be - s->backends), 0, 0);
	assert_int_equal(h->valid, 1);
	assert_memory_equal(h->bytes, neigh[0].mac.bytes, 6);

	/* ssh2: the other VM, same frontend, another port */
	r = lookup(s, "192.0.2.1", SL_PROTO_TCP, 2202);
	assert_non_null(r);
	assert_string_equal(r->name, "lb1/ssh2");
	be = only_backend(s, r);
	assert_string_equal(be->name, "lb1/ssh2/nic2/ipc1");
	assert_addr(&be->addr, "10.0.1.5");
	assert_int_equal(r->backend_port_be, htons(22));

	/* NAT rule r1 (Udp) is not rule r1 (Tcp): other pool, other counter */
	r = lookup(s, "192.0.2.1", SL_PROTO_UDP, 5000);
	assert_non_null(r);
	assert_ptr_not_equal(r, lbr);
	assert_string_equal(r->name, "lb1/r1");
	assert_int_equal(r->proto, SL_PROTO_UDP);
	assert_int_equal(r->backend_port_be, htons(5001));
	assert_int_equal(r->tcp_idle_ms, 7 * 60000);
	assert_int_not_equal(r->counter_id, lbr->counter_id);
	assert_int_not_equal(r->pool, lbr->pool);
	be = only_backend(s, r);
	assert_addr(&be->addr, "10.0.1.5");
	assert_string_equal(sl_id_registry_name(rids, r->counter_id), "nat:lb1/r1");
	assert_string_equal(sl_id_registry_name(rids, lbr->counter_id), "lb1/r1");
	/* nic2/ipc1 is a member of np and the backend of ssh2 and r1: three backends, three ids */
	{
		uint32_t ids[3], n = 0;

		for (uint32_t i = 0; i < s->n_backends; i++) {
			struct sl_ip_addr a = sl_test_ip("10.0.1.5");

			if (sl_ip_addr_eq(&s->backends[i].addr, &a)) {
				assert_true(n < 3);
				ids[n++] = s->backends[i].counter_id;
			}
		}
		assert_int_equal(n, 3);
		assert_int_not_equal(ids[0], ids[1]);
		assert_int_not_equal(ids[0], ids[2]);
		assert_int_not_equal(ids[1], ids[2]);
	}
	assert_string_equal(sl_id_registry_name(bids, be->counter_id), "nat:lb1/r1/nic2/ipc1");

	/* np: listed by no ipConfiguration -> an empty pool, so no_backend */
	r = lookup(s, "192.0.2.1", SL_PROTO_TCP, 2299);
	assert_non_null(r);
	assert_string_equal(r->name, "lb1/np");
	assert_ptr_not_equal(&s->pools[r->pool], &s->pools[lbr->pool]);
	assert_int_equal(s->pools[r->pool].n_members, 0);
	assert_int_equal(s->pools[r->pool].table_size, SL_CONFIG_MAGLEV_MIN_SIZE);
	for (uint32_t i = 0; i < s->pools[r->pool].table_size; i++)
		assert_int_equal(s->pools[r->pool].table[i], SL_MAGLEV_EMPTY);
	assert_int_equal(sl_pool_pick(s, &s->pools[r->pool], 12345), UINT32_MAX);

	/* gue: Floating IP, delivered by the ipConfiguration's vnet (GUE) */
	r = lookup(s, "192.0.2.1", SL_PROTO_UDP, 4500);
	assert_non_null(r);
	assert_string_equal(r->name, "lb1/gue");
	assert_int_equal(r->floating_ip, 1);
	assert_int_equal(r->backend_port_be, htons(4500));
	be = only_backend(s, r);
	assert_string_equal(be->name, "lb1/gue/nicg/ipc1");
	assert_addr(&be->addr, "10.7.1.4");
	assert_int_equal(be->delivery, SL_DELIVERY_GUE);
	h = sl_snapshot_hdr(s, (uint32_t)(be - s->backends), 0, 1);
	assert_int_equal(h->delivery, SL_DELIVERY_GUE);
	assert_int_equal(h->valid, 1);
	assert_int_equal(h->outer_family, SL_AF_IPV4);
	assert_memory_equal(h->bytes, neigh[2].mac.bytes, 6);
	/* Floating IP from an L2 vnet: the ssh1 backend's second prefix is L2 */
	be = only_backend(s, rule_named(s, "lb1/ssh1"));
	assert_int_equal(be->delivery, SL_DELIVERY_L2);

	/* rdp6: protocol All -> a Tcp and a Udp entry, one pool, two counters */
	tcp = lookup(s, "2001:db8::1", SL_PROTO_TCP, 3389);
	udp = lookup(s, "2001:db8::1", SL_PROTO_UDP, 3389);
	assert_non_null(tcp);
	assert_non_null(udp);
	assert_null(lookup(s, "2001:db8::1", SL_PROTO_ALL, 3389));
	assert_string_equal(tcp->name, "lb1/rdp6/Tcp");
	assert_string_equal(udp->name, "lb1/rdp6/Udp");
	assert_int_equal(tcp->proto, SL_PROTO_TCP);
	assert_int_equal(udp->proto, SL_PROTO_UDP);
	assert_int_equal(tcp->pool, udp->pool);
	assert_int_not_equal(tcp->counter_id, udp->counter_id);
	assert_string_equal(sl_id_registry_name(rids, tcp->counter_id), "nat:lb1/rdp6/tcp");
	assert_int_equal(tcp->family, SL_AF_IPV6);
	assert_int_equal(tcp->backend_port_be, htons(3390));
	assert_int_equal(tcp->tcp_reset, 1);
	assert_int_equal(udp->tcp_reset, 1);
	assert_string_equal(s->pools[tcp->pool].name, "lb1/rdp6");
	be = only_backend(s, tcp);
	assert_string_equal(be->name, "lb1/rdp6/nic1/ipc6");
	assert_addr(&be->addr, "fd00:0:0:1::10");
	assert_int_equal(be->family, SL_AF_IPV6);

	/* lb2 after lb1's NAT pools: its rule still finds its own pool */
	r = lookup(s, "192.0.2.2", SL_PROTO_TCP, 80);
	assert_non_null(r);
	assert_string_equal(s->pools[r->pool].name, "lb2/p");
	assert_int_equal(s->pools[r->pool].n_members, 1);
	assert_addr(&s->backends[s->pools[r->pool].members[0]].addr, "10.0.0.9");
	assert_string_equal(s->backends[s->pools[r->pool].members[0]].name, "lb2/p/a");
	r = lookup(s, "192.0.2.2", SL_PROTO_TCP, 2201);
	assert_non_null(r);
	assert_string_equal(r->name, "lb2/ssh");
	be = only_backend(s, r);
	assert_string_equal(be->name, "lb2/ssh/nic3/ipc1");
	assert_addr(&be->addr, "10.0.1.6");
	/* no NAT rule to what no rule takes */
	assert_null(lookup(s, "192.0.2.1", SL_PROTO_TCP, 2203));
	assert_null(lookup(s, "192.0.2.1", SL_PROTO_UDP, 2201));

	sl_snapshot_free(s);
	sl_model_free(m);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

/*
 * Counter ids survive a recompilation; detaching the ipConfiguration from its
 * NAT rules empties their pools (the old backend id leads nowhere), and
 * attaching it again gives the backend its old id back.
 */
static void
test_nat_detach_and_stable_ids(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	struct sl_table_cache *cache = sl_table_cache_create();
	struct sl_model *m1 = parse(DOC(NAT_NIC2)), *m2 = parse(DOC(""));
	struct sl_snapshot *s1, *s2, *s3;
	const struct sl_rule *r1, *r2, *r3;
	uint32_t be_id;
	struct sl_error err;

	(void)state;
	s1 = sl_compile_cached(m1, &port, 1, rids, bids, cache, NULL, 1, &err);
	s2 = sl_compile_cached(m2, &port, 1, rids, bids, cache, NULL, 2, &err);
	s3 = sl_compile_cached(m1, &port, 1, rids, bids, cache, NULL, 3, &err);
	assert_non_null(s1);
	assert_non_null(s2);
	assert_non_null(s3);

	r1 = lookup(s1, "192.0.2.1", SL_PROTO_TCP, 2202);
	r2 = lookup(s2, "192.0.2.1", SL_PROTO_TCP, 2202);
	r3 = lookup(s3, "192.0.2.1", SL_PROTO_TCP, 2202);
	assert_non_null(r1);
	assert_non_null(r2);
	assert_non_null(r3);
	assert_int_equal(r1->counter_id, r2->counter_id);
	assert_int_equal(r1->counter_id, r3->counter_id);
	be_id = only_backend(s1, r1)->counter_id;
	/* detached: still a rule, its pool empty, and nothing answers to the old id */
	assert_int_equal(s2->pools[r2->pool].n_members, 0);
	assert_int_equal(s2->backend_by_id[be_id], SL_BACKEND_NONE);
	assert_int_equal(s2->n_backends, s1->n_backends - 2);
	assert_int_equal(s2->n_rules, s1->n_rules);
	assert_int_equal(s2->n_pools, s1->n_pools);
	/* nic2 is still in pool np */
	assert_int_equal(s2->pools[lookup(s2, "192.0.2.1", SL_PROTO_TCP, 80)->pool].n_members, 2);
	/* attached again: the same backend id */
	assert_int_equal(only_backend(s3, r3)->counter_id, be_id);
	/* ssh1 did not change: its one-member table is shared through the cache */
	assert_ptr_equal(s1->pools[lookup(s1, "192.0.2.1", SL_PROTO_TCP, 2201)->pool].shared,
			 s2->pools[lookup(s2, "192.0.2.1", SL_PROTO_TCP, 2201)->pool].shared);
	/* ssh2 and r1 of one compilation have the same member: one table */
	assert_ptr_equal(s3->pools[r3->pool].shared,
			 s3->pools[lookup(s3, "192.0.2.1", SL_PROTO_UDP, 5000)->pool].shared);
	/* every id of s1 is in s3, on the same name */
	for (uint32_t i = 0; i < s1->n_rules; i++)
		assert_string_equal(s3->rules[s3->rule_by_id[s1->rules[i].counter_id]].name,
				    s1->rules[i].name);
	for (uint32_t i = 0; i < s1->n_backends; i++)
		assert_string_equal(s3->backends[s3->backend_by_id[s1->backends[i].counter_id]].name,
				    s1->backends[i].name);

	sl_snapshot_free(s1);
	sl_snapshot_free(s2);
	sl_snapshot_free(s3);
	sl_table_cache_free(cache);
	sl_model_free(m1);
	sl_model_free(m2);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

/* A model with only NAT rules (no pool, no load-balancing rule) compiles too. */
static void
test_nat_only(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	struct sl_model *m = parse(
		"{'virtualNetworks':[" VNET1 "],'loadBalancers':[{'name':'lb','properties':{"
		"'frontendIPConfigurations':[{'name':'fe','properties':{'privateIPAddress':'192.0.2.9'}}],"
		"'inboundNatRules':[" NAT("ssh", "fe", "'protocol':'Tcp','frontendPort':22") "]}}],"
		"'networkInterfaces':[" NIC("vm", IPC("ipc", "10.0.1.20", "vnet1", "sub1",
						      IN_NATS(NAT_REF("lb", "ssh")))) "]}");
	const struct sl_backend *be;
	const struct sl_rule *r;
	struct sl_error err;
	struct sl_snapshot *s = sl_compile(m, &port, 1, rids, bids, 1, &err);

	(void)state;
	assert_non_null(s);
	assert_int_equal(s->n_rules, 1);
	assert_int_equal(s->n_pools, 1);
	assert_int_equal(s->n_backends, 1);
	r = lookup(s, "192.0.2.9", SL_PROTO_TCP, 22);
	assert_non_null(r);
	assert_string_equal(r->name, "lb/ssh");
	assert_int_equal(r->backend_port_be, htons(22)); /* backendPort defaults to frontendPort */
	be = only_backend(s, r);
	assert_string_equal(be->name, "lb/ssh/vm/ipc");
	assert_addr(&be->addr, "10.0.1.20");
	/* no neighbour entry and no gateway: the prefix is there but invalid */
	assert_int_equal(sl_snapshot_hdr(s, 0, 0, 0)->valid, 0);
	sl_snapshot_free(s);
	sl_model_free(m);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

/* The rule the reply index gives a reply from src:sport, or NULL; fails when ambiguous. */
static const struct sl_rule *
reply_rule(const struct sl_snapshot *s, const char *src, uint8_t proto, uint16_t sport)
{
	struct sl_ip_addr a = sl_test_ip(src);
	const struct sl_frontend_slot *e = sl_snapshot_reply_find(s, &a, proto, htons(sport));

	if (e == NULL)
		return NULL;
	assert_int_equal(e->used, SL_SLOT_USED);
	assert_true(e->rule < s->n_rules);
	return &s->rules[e->rule];
}

/*
 * Replies of inbound NAT rules translate statelessly like a load-balancing
 * rule's: each backend:port leads to its own rule's frontend and port.
 */
static void
test_nat_replies_in_reply_index(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	struct sl_model *m = parse(DOC(NAT_NIC2));
	struct sl_error err;
	struct sl_snapshot *s;

	(void)state;
	s = sl_compile(m, &port, 1, rids, bids, 1, &err);
	if (s == NULL)
		fail_msg("%s: %s", err.code, err.message);
	/* 10.0.1.4 and 10.0.1.5: r1's port 80, and port 22 for two NAT rules of their own */
	assert_string_equal(reply_rule(s, "10.0.1.4", SL_PROTO_TCP, 80)->name, "lb1/r1");
	assert_string_equal(reply_rule(s, "10.0.1.5", SL_PROTO_TCP, 80)->name, "lb1/r1");
	assert_string_equal(reply_rule(s, "10.0.1.4", SL_PROTO_TCP, 22)->name, "lb1/ssh1");
	assert_string_equal(reply_rule(s, "10.0.1.5", SL_PROTO_TCP, 22)->name, "lb1/ssh2");
	assert_string_equal(reply_rule(s, "10.0.1.5", SL_PROTO_UDP, 5001)->name, "lb1/r1");
	assert_int_equal(reply_rule(s, "10.0.1.5", SL_PROTO_UDP, 5001)->frontend_port_be,
			 htons(5000));
	/* protocol All: a key per protocol, IPv6 */
	assert_string_equal(reply_rule(s, "fd00:0:0:1::10", SL_PROTO_TCP, 3390)->name,
			    "lb1/rdp6/Tcp");
	assert_string_equal(reply_rule(s, "fd00:0:0:1::10", SL_PROTO_UDP, 3390)->name,
			    "lb1/rdp6/Udp");
	/* the other load balancer's */
	assert_string_equal(reply_rule(s, "10.0.1.6", SL_PROTO_TCP, 22)->name, "lb2/ssh");
	assert_string_equal(reply_rule(s, "10.0.0.9", SL_PROTO_TCP, 80)->name, "lb2/r");
	/* Floating IP (gue) replies never come through sluice; ports no rule uses miss */
	assert_null(reply_rule(s, "10.7.1.4", SL_PROTO_UDP, 4500));
	assert_null(reply_rule(s, "10.0.1.4", SL_PROTO_TCP, 2201));
	sl_snapshot_free(s);
	sl_model_free(m);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nat_rules_compile),
		cmocka_unit_test(test_nat_detach_and_stable_ids),
		cmocka_unit_test(test_nat_only),
		cmocka_unit_test(test_nat_replies_in_reply_index),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
