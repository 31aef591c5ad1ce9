/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_config.c: the configuration model, its validation and compilation.
 *
 * examples/config.json parses and compiles into the expected snapshot; the
 * seed's REST pool body is accepted as a pool; every error code is produced
 * with its target and JSON path; counter ids stay stable across compiles.
 * Network interfaces and dynamic addresses are test_config_nic.c's.
 * Runs from the repository root (meson's workdir), so examples/ is at hand.
 *
 * The JSON texts below are written with single quotes for readability and
 * turned into JSON by sl_test_json() (no name or value here holds a quote).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "sl_test_config.h"

#define EXAMPLE "examples/config.json"

/* --- the example ----------------------------------------------------------- */

static void
test_example_parses(void **state)
{
	struct sl_error err;
	struct sl_model *m;
	const struct sl_lb *lb;
	const struct sl_vnet *v;

	(void)state;
	m = sl_config_load(EXAMPLE, &err);
	if (m == NULL) {
		char buf[1024];

		fail_msg("%s", sl_error_format(&err, buf, sizeof(buf)));
	}
	assert_int_equal(m->maglev_size, 65537);
	assert_int_equal(m->hash_seed, 1);
	assert_int_equal(m->n_vnets, 2);
	v = &m->vnets[0];
	assert_string_equal(v->name, "vnet-web");
	assert_int_equal(v->n_prefixes, 2);
	assert_int_equal(v->n_subnets, 3);
	assert_int_equal(v->delivery, SL_DELIVERY_L2);
	v = &m->vnets[1];
	assert_int_equal(v->delivery, SL_DELIVERY_VXLAN);
	assert_int_equal(v->vni, 4242);
	assert_int_equal(v->udp_port, SL_VXLAN_DEFAULT_PORT);
	assert_true(sl_vnet_contains(v, &(struct sl_ip_addr){0}) == 0);

	assert_int_equal(m->n_lbs, 1);
	lb = &m->lbs[0];
	assert_string_equal(lb->name, "lb-edge");
	assert_true(lb->standard_sku);
	assert_int_equal(lb->vnet, -1);
	assert_int_equal(lb->n_frontends, 4);
	assert_int_equal(lb->frontends[1].family, SL_AF_IPV6);
	assert_int_equal(lb->n_probes, 2);
	assert_int_equal(lb->probes[0].protocol, SL_PROBE_HTTP);
	assert_int_equal(lb->probes[0].port, 8080);
	assert_int_equal(lb->probes[0].interval_s, 5);
	assert_string_equal(lb->probes[0].request_path, "/healthz");
	assert_int_equal(lb->probes[1].protocol, SL_PROBE_TCP);
	assert_int_equal(lb->probes[1].interval_s, 15);
	assert_int_equal(lb->n_pools, 4);
	assert_int_equal(lb->pools[0].n_addresses, 3);
	assert_int_equal(lb->pools[3].addresses[1].vnet, 1);
	assert_int_equal(lb->pools[0].addresses[0].weight, 1);
	assert_int_equal(lb->n_rules, 6);
	assert_int_equal(lb->rules[0].probe, 0);
	assert_int_equal(lb->rules[0].enable_tcp_reset, 1);
	assert_int_equal(lb->rules[1].probe, -1);
	assert_int_equal(lb->rules[1].dist, SL_DIST_SOURCE_IP);
	assert_int_equal(lb->rules[2].proto, SL_PROTO_UDP);
	assert_int_equal(lb->rules[2].dist, SL_DIST_SOURCE_IP_PROTOCOL);
	assert_int_equal(lb->rules[4].floating_ip, 1);
	assert_int_equal(lb->rules[5].proto, SL_PROTO_ALL);
	assert_int_equal(lb->rules[5].idle_timeout_min, 30);
	sl_model_free(m);
}

static void
test_example_compiles(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	struct sl_ip_addr fe_v4 = sl_test_ip("192.0.2.10"), fe_v6 = sl_test_ip("2001:db8::10");
	struct sl_ip_addr fe_ha = sl_test_ip("192.0.2.30");
	const struct sl_encap *h;
	const struct sl_rule *r;
	const struct sl_pool *p;
	struct sl_snapshot *s;
	struct sl_model *m;
	struct sl_error err;
	struct sl_pkt pkt;
	uint32_t counts[3] = {0, 0, 0}, i, b;
	struct sl_mac mac;

	(void)state;
	assert_non_null(rids);
	assert_non_null(bids);
	sl_test_make_ports();
	m = sl_config_load(EXAMPLE, &err);
	assert_non_null(m);
	s = sl_compile(m, sl_test_ports, 2, rids, bids, 42, &err);
	if (s == NULL) {
		char buf[1024];

		fail_msg("%s", sl_error_format(&err, buf, sizeof(buf)));
	}
	assert_int_equal(s->generation, 42);
	assert_int_equal(s->hash_seed, 1);
	assert_int_equal(s->n_ports, 2);
	assert_int_equal(s->n_rules, 6);
	assert_int_equal(s->n_pools, 4);
	assert_int_equal(s->n_backends, 9);

	/* Rules: ports in network order, pools by global index. */
	r = sl_test_rule(s, "lb-edge/http");
	assert_int_equal(r->frontend_port_be, htons(80));
	assert_int_equal(r->backend_port_be, htons(8080));
	assert_int_equal(r->proto, SL_PROTO_TCP);
	assert_int_equal(r->floating_ip, 0);
	assert_int_equal(r->family, SL_AF_IPV4);
	assert_true(sl_ip_addr_eq(&r->frontend, &fe_v4));
	assert_string_equal(s->pools[r->pool].name, "lb-edge/web");
	r = sl_test_rule(s, "lb-edge/https");
	assert_int_equal(r->backend_port_be, htons(8443));
	assert_int_equal(r->dist, SL_DIST_SOURCE_IP);
	r = sl_test_rule(s, "lb-edge/dns-udp");
	assert_int_equal(r->proto, SL_PROTO_UDP);
	assert_string_equal(s->pools[r->pool].name, "lb-edge/dns");
	r = sl_test_rule(s, "lb-edge/http-v6");
	assert_int_equal(r->family, SL_AF_IPV6);
	assert_string_equal(s->pools[r->pool].name, "lb-edge/web-v6");
	r = sl_test_rule(s, "lb-edge/dsr-http");
	assert_int_equal(r->floating_ip, 1);
	r = sl_test_rule(s, "lb-edge/ha-ports");
	assert_int_equal(r->proto, SL_PROTO_ALL);
	assert_int_equal(r->frontend_port_be, 0);
	assert_int_equal(r->backend_port_be, 0);
	assert_string_equal(s->pools[r->pool].name, "lb-edge/appliances");

	/* Frontend lookup. */
	i = sl_frontend_find(s, &fe_v4, SL_PROTO_TCP, htons(80));
	assert_int_not_equal(i, SL_RULE_NONE);
	assert_string_equal(s->rules[i].name, "lb-edge/http");
	i = sl_frontend_find(s, &fe_v4, SL_PROTO_UDP, htons(53));
	assert_string_equal(s->rules[i].name, "lb-edge/dns-udp");
	i = sl_frontend_find(s, &fe_v6, SL_PROTO_TCP, htons(80));
	assert_string_equal(s->rules[i].name, "lb-edge/http-v6");
	i = sl_frontend_find(s, &fe_ha, SL_PROTO_ALL, 0);
	assert_string_equal(s->rules[i].name, "lb-edge/ha-ports");
	assert_int_equal(sl_frontend_find(s, &fe_v4, SL_PROTO_TCP, htons(8080)), SL_RULE_NONE);
	assert_int_equal(sl_frontend_find(s, &fe_v4, SL_PROTO_UDP, htons(80)), SL_RULE_NONE);
	memset(&pkt, 0, sizeof(pkt));
	pkt.dst = fe_ha;
	pkt.l4_proto = SL_PROTO_UDP;
	pkt.dport_be = htons(4500);
	i = sl_snapshot_lookup(s, &pkt);
	assert_string_equal(s->rules[i].name, "lb-edge/ha-ports");

	/* Pools and their Maglev tables. */
	p = &s->pools[0];
	assert_string_equal(p->name, "lb-edge/web");
	assert_int_equal(p->n_members, 3);
	assert_int_equal(p->table_size, 65537);
	for (i = 0; i < 3; i++)
		assert_int_equal(p->members[i], i);
	for (i = 0; i < p->table_size; i++) {
		assert_true(p->table[i] < 3);
		counts[p->table[i]]++;
	}
	for (i = 0; i < 3; i++)
		assert_true(counts[i] > 20000);
	assert_string_equal(s->pools[3].name, "lb-edge/appliances");
	assert_int_equal(s->pools[3].n_members, 2);
	assert_string_equal(s->backends[s->pools[3].members[0]].name, "lb-edge/appliances/nva1");
	assert_true(sl_pool_pick(s, p, 12345) < 3);

	/* Backends: counter ids fresh from an empty registry, delivery from the vnet. */
	for (i = 0; i < s->n_backends; i++) {
		assert_int_equal(s->backends[i].counter_id, i);
		assert_int_equal(s->backends[i].usable, 1);
		assert_int_equal(s->backends[i].weight, 1);
	}
	b = sl_test_backend(s, "lb-edge/web/web1");
	assert_int_equal(s->backends[b].delivery, SL_DELIVERY_L2);
	assert_int_equal(s->backends[b].family, SL_AF_IPV4);

	/* Header prefixes: a neighbour entry, the gateway, none. */
	h = sl_snapshot_hdr(s, b, 0, 0);
	assert_int_equal(h->valid, 1);
	assert_int_equal(h->delivery, SL_DELIVERY_DNAT);
	assert_int_equal(h->len, 14);
	mac = sl_test_mac("02:aa:00:00:00:04");
	assert_memory_equal(h->bytes, mac.bytes, 6);
	assert_memory_equal(h->bytes + 6, sl_test_ports[0].mac.bytes, 6);
	h = sl_snapshot_hdr(s, b, 0, 1);
	assert_int_equal(h->valid, 1);
	assert_int_equal(h->delivery, SL_DELIVERY_L2);
	assert_memory_equal(h->bytes, mac.bytes, 6);
	h = sl_snapshot_hdr(s, b, 1, 0);
	assert_int_equal(h->valid, 0); /* port 1 knows no route to web1 */

	b = sl_test_backend(s, "lb-edge/web/web2");
	h = sl_snapshot_hdr(s, b, 0, 0);
	assert_int_equal(h->valid, 1);
	mac = sl_test_mac("02:ee:00:00:00:01");
	assert_memory_equal(h->bytes, mac.bytes, 6);

	b = sl_test_backend(s, "lb-edge/web-v6/web1-v6");
	assert_int_equal(sl_snapshot_hdr(s, b, 0, 0)->valid, 1);
	b = sl_test_backend(s, "lb-edge/web-v6/web2-v6");
	assert_int_equal(sl_snapshot_hdr(s, b, 0, 0)->valid, 0); /* no IPv6 gateway */

	b = sl_test_backend(s, "lb-edge/appliances/nva1");
	assert_int_equal(s->backends[b].delivery, SL_DELIVERY_VXLAN);
	h = sl_snapshot_hdr(s, b, 0, 1);
	assert_int_equal(h->valid, 1);
	assert_int_equal(h->delivery, SL_DELIVERY_VXLAN);
	assert_int_equal(h->outer_family, SL_AF_IPV4);
	assert_int_equal(h->len, 14 + 20 + 8 + 8 + 14);
	assert_memory_equal(h->bytes, mac.bytes, 6); /* via the gateway */
	assert_memory_equal(h->bytes + 14 + 12, &sl_test_ports[0].ipv4.bytes[12], 4);
	assert_memory_equal(h->bytes + 14 + 16, &s->backends[b].addr.bytes[12], 4);
	assert_int_equal((h->bytes[h->udp_off + 2] << 8) | h->bytes[h->udp_off + 3], 4789);
	assert_int_equal((h->bytes[h->udp_off + 12] << 16) | (h->bytes[h->udp_off + 13] << 8) |
				 h->bytes[h->udp_off + 14],
			 4242);
	assert_memory_equal(h->bytes + h->inner_eth_off, mac.bytes, 6);
	h = sl_snapshot_hdr(s, b, 1, 0);
	assert_int_equal(h->valid, 1); /* port 1's neighbour entry */
	h = sl_snapshot_hdr(s, b, 1, 1);
	assert_int_equal(h->valid, 0); /* port 1 owns no IPv4 address for the outer header */
	assert_int_equal(h->delivery, SL_DELIVERY_VXLAN);
	b = sl_test_backend(s, "lb-edge/appliances/nva2");
	assert_int_equal(sl_snapshot_hdr(s, b, 1, 0)->valid, 0);

	sl_snapshot_free(s);
	sl_model_free(m);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

/* --- accepted shapes ------------------------------------------------------- */


static void
test_seed_rest_pool_accepted(void **state)
{
	char *doc_text = sl_test_json(
		"{'virtualNetworks':[{'name':'vnet1','id':'/subscriptions/subid/resourceGroups/testrg/providers/Microsoft.Network/virtualNetworks/vnet1',"
		"'properties':{'addressSpace':{'addressPrefixes':['10.0.0.0/16']}}}],"
		"'loadBalancers':[{'name':'lb','sku':{'name':'Standard'},'properties':{"
		"'frontendIPConfigurations':[{'name':'fe','properties':{'privateIPAddress':'192.0.2.1'}}],"
		"'backendAddressPools':[]}}]}");
	cJSON *doc = cJSON_Parse(doc_text), *pool = cJSON_Parse(sl_seed_pool_body), *pools;
	const struct sl_pool_cfg *pc;
	struct sl_ip_addr a;
	struct sl_error err;
	struct sl_model *m;
	char *text;

	(void)state;
	assert_non_null(doc);
	assert_non_null(pool);
	/* The REST body has no name: the URL gives it. */
	cJSON_AddStringToObject(pool, "name", "backend");
	pools = cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "loadBalancers"), 0),
				    "properties"),
		"backendAddressPools");
	assert_non_null(pools);
	cJSON_AddItemToArray(pools, pool);
	text = cJSON_Print(doc);
	assert_non_null(text);

	m = sl_config_parse(text, strlen(text), "seed.json", &err);
	if (m == NULL) {
		char buf[1024];

		fail_msg("%s", sl_error_format(&err, buf, sizeof(buf)));
	}
	pc = &m->lbs[0].pools[0];
	assert_string_equal(pc->name, "backend");
	assert_int_equal(pc->n_addresses, 2);
	assert_string_equal(pc->addresses[0].name, "address1");
	assert_string_equal(pc->addresses[1].name, "address2");
	a = sl_test_ip("10.0.0.5");
	assert_true(sl_ip_addr_eq(&pc->addresses[1].addr, &a));
	assert_int_equal(pc->addresses[1].vnet, 0);
	assert_int_equal(pc->addresses[1].family, SL_AF_IPV4);
	sl_model_free(m);
	free(text);
	cJSON_Delete(doc);
	free(doc_text);
}



static void
test_minimal_and_defaults(void **state)
{
	struct sl_model *m;
	const struct sl_rule_cfg *r;

	(void)state;
	m = sl_test_parse_ok(BASE(RULE("r1", "fe1", "pool1", TCP80)));
	assert_int_equal(m->maglev_size, SL_MAGLEV_DEFAULT_SIZE);
	assert_int_equal(m->hash_seed, 0);
	assert_int_equal(m->vnets[0].delivery, SL_DELIVERY_L2);
	assert_int_equal(m->vnets[0].udp_port, 0);
	assert_int_equal(m->lbs[0].vnet, -1);
	r = &m->lbs[0].rules[0];
	assert_int_equal(r->backend_port, 80);
	assert_int_equal(r->dist, SL_DIST_DEFAULT);
	assert_int_equal(r->floating_ip, 0);
	assert_int_equal(r->idle_timeout_min, 4);
	assert_int_equal(r->enable_tcp_reset, 0);
	assert_int_equal(r->probe, -1);
	assert_int_equal(m->lbs[0].pools[0].addresses[1].weight, 1);
	sl_model_free(m);

	/* An empty document, an empty Basic load balancer, GUE's default port. */
	m = sl_test_parse_ok("{}");
	assert_int_equal(m->n_lbs, 0);
	sl_model_free(m);
	m = sl_test_parse_ok(DOC(VNET_GUE, "{'name':'lb1'}"));
	assert_int_equal(m->lbs[0].standard_sku, 0);
	assert_int_equal(m->vnets[0].udp_port, SL_GUE_DEFAULT_PORT);
	sl_model_free(m);
}

static void
test_references_and_variants(void **state)
{
	struct sl_model *m;
	const struct sl_lb *lb;

	(void)state;
	/* Bare names, relative paths, full ids; names match case-insensitively. */
	m = sl_test_parse_ok(STD(
		FES_STD "," PROBES("{'name':'p1','properties':{'protocol':'Https','port':443,'requestPath':'/h'}}")
		"," POOLS(POOL1) "," RULES(
			RULE("r1", "fe1", "pool1", TCP80) ","
			RULE("r2", "frontendIPConfigurations/FE1", "backendAddressPools/pool1",
			     "'protocol':'Udp','frontendPort':80,'probe':{'id':'loadBalancers/lb1/probes/p1'}") ","
			RULE("r3", LB_ID "LB1/frontendIPConfigurations/fe1", LB_ID "lb1/backendAddressPools/POOL1",
			     "'protocol':'Tcp','frontendPort':81,'backendPort':8081,'loadDistribution':'sourceip'"))));
	lb = &m->lbs[0];
	assert_int_equal(lb->rules[1].frontend, 0);
	assert_int_equal(lb->rules[1].probe, 0);
	assert_int_equal(lb->rules[2].pool, 0);
	assert_int_equal(lb->rules[2].dist, SL_DIST_SOURCE_IP);
	assert_int_equal(lb->probes[0].protocol, SL_PROBE_HTTPS);
	assert_int_equal(lb->probes[0].number_of_probes, 2);
	assert_int_equal(lb->probes[0].probe_threshold, 1);
	sl_model_free(m);

	/* A frontend subnet sets the load balancer's vnet. */
	m = sl_test_parse_ok(STD(FRONTENDS(FE_SUB("fe1", "10.0.1.10", "vnet1", "sub1")) "," POOLS(POOL1)));
	assert_int_equal(m->lbs[0].vnet, 0);
	assert_int_equal(m->lbs[0].frontends[0].vnet, 0);
	assert_int_equal(m->lbs[0].frontends[0].subnet, 0);
	sl_model_free(m);

	/* Two Floating IP rules may share a pool's backend port. */
	m = sl_test_parse_ok(STD(
		FRONTENDS(FE("fe1", "192.0.2.1") "," FE("fe2", "192.0.2.2")) "," POOLS(POOL1) "," RULES(
			RULE("r1", "fe1", "pool1", TCP80 ",'enableFloatingIP':true") ","
			RULE("r2", "fe2", "pool1", TCP80 ",'enableFloatingIP':true"))));
	sl_model_free(m);

	/* GUE carries an IPv6 frontend's packets to IPv4 backends; weights. */
	m = sl_test_parse_ok(DOC(VNET_GUE, LBX("Standard",
		FRONTENDS(FE("fe6", "2001:db8::1")) "," POOLS(POOL("g",
			"{'name':'g1','properties':{'virtualNetwork':{'id':'vnetg'},'ipAddress':'10.7.0.1','weight':1000}}"))
		"," RULES(RULE("r1", "fe6", "g", "'protocol':'All','frontendPort':0,'enableFloatingIP':true")))));
	assert_int_equal(m->lbs[0].pools[0].addresses[0].weight, 1000);
	sl_model_free(m);

	/* JSON null is absent; ARM's read-only and unknown resource properties are ignored. */
	m = sl_test_parse_ok(BASE(RULE("r1", "fe1", "pool1",
		TCP80 ",'probe':null,'provisioningState':'Succeeded','disableOutboundSnat':true")));
	sl_model_free(m);
}

/* --- refusals -------------------------------------------------------------- */

struct sl_error_case {
	const char *name;
	const char *doc;        /* single-quoted JSON */
	char *(*gen)(void);     /* or a generator of it (malloc'd) */
	const char *code;
	const char *target;
	const char *json_path;
	const char *message_has; /* NULL, or text the message must hold */
};

/* n addresses in one vnet 10.0.0.0/8, as pool pool<k>. */
static void
sl_test_gen_pool(struct sl_test_buf *b, uint32_t k, uint32_t n)
{
	uint32_t i;

	sl_test_printf(b, "{'name':'pool%u','properties':{'loadBalancerBackendAddresses':[", k);
	for (i = 0; i < n; i++)
		sl_test_printf(b,
			       "%s{'name':'a%u','properties':{'virtualNetwork':{'id':'big'},'ipAddress':'10.%u.%u.%u'}}",
			       i ? "," : "", i, k, i / 250, i % 250 + 1);
	sl_test_printf(b, "]}}");
}

static void
sl_test_gen_head(struct sl_test_buf *b)
{
	sl_test_printf(b, "{'virtualNetworks':[{'name':'big','properties':{'addressSpace':{'addressPrefixes':['10.0.0.0/8']}}}],"
			  "'loadBalancers':[{'name':'lb1','sku':{'name':'Standard'},'properties':{"
			  "'frontendIPConfigurations':[{'name':'fe1','properties':{'privateIPAddress':'192.0.2.1'}}],");
}

static char *
sl_test_gen_pool_limit(void)
{
	struct sl_test_buf b = {0};

	sl_test_gen_head(&b);
	sl_test_printf(&b, "'backendAddressPools':[");
	sl_test_gen_pool(&b, 0, SL_CONFIG_MAX_ADDRESSES_PER_POOL + 1);
	sl_test_printf(&b, "]}}]}");
	return b.s;
}

static char *
sl_test_gen_lb_limit(void)
{
	struct sl_test_buf b = {0};
	uint32_t k;

	sl_test_gen_head(&b);
	sl_test_printf(&b, "'backendAddressPools':[");
	for (k = 0; k < 5; k++) {
		sl_test_printf(&b, "%s", k ? "," : "");
		sl_test_gen_pool(&b, k, SL_CONFIG_MAX_ADDRESSES_PER_LB / 5 + 1);
	}
	sl_test_printf(&b, "]}}]}");
	return b.s;
}

static char *
sl_test_gen_rule_limit(void)
{
	struct sl_test_buf b = {0};
	uint32_t i;

	sl_test_gen_head(&b);
	sl_test_printf(&b, "'backendAddressPools':[");
	sl_test_gen_pool(&b, 0, 1);
	sl_test_printf(&b, "],'loadBalancingRules':[");
	for (i = 0; i <= SL_CONFIG_MAX_RULES_PER_LB; i++)
		sl_test_printf(&b, "%s" RULE("r%u", "fe1", "pool0", "'protocol':'Tcp','frontendPort':%u"),
			       i ? "," : "", i, i + 1);
	sl_test_printf(&b, "]}}]}");
	return b.s;
}


#define NIC_ERROR_CASES                                                                     \
	{"CannotMixIPBasedAddressesAndIPConfigurationsOnLoadBalancerBackendAddressPool",     \
	 NDOC(NIC("nic1", IPC("ipc1", "10.0.1.4", "vnet1", "sub1",                         \
			      IN_POOLS(POOL_REF("lb1", "pool1"))))),                        \
	 NULL, "CannotMixIPBasedAddressesAndIPConfigurationsOnLoadBalancerBackendAddressPool", \
	 T_IPC("nic1", "ipc1"), IPCP(0, 0) ".loadBalancerBackendAddressPools[0].id", "pool1"}, \
	{"InvalidRequestFormat: the same pool twice on an ipConfiguration",                  \
	 NDOC(NIC("nic1", IPC("ipc1", "10.0.1.4", "vnet1", "sub1",                         \
			      IN_POOLS(POOL_REF("lb1", "np") ",{'id':'loadBalancers/LB1/backendAddressPools/NP'}")))), \
	 NULL, "InvalidRequestFormat", T_IPC("nic1", "ipc1"),                                 \
	 IPCP(0, 0) ".loadBalancerBackendAddressPools[1].id",                                 \
	 "DuplicateIpConfigurationReferenceOnBackendAddressPool"},                            \
	{"InvalidRequestFormat: the same NAT rule twice on an ipConfiguration",              \
	 NATDOC(NAT("nat1", "fe1", NAT_TCP),                                                \
		NIC("nic1", IPC("ipc1", "10.0.1.4", "vnet1", "sub1",                        \
				IN_NATS(NAT_REF("lb1", "nat1") "," NAT_REF("lb1", "nat1"))))),      \
	 NULL, "InvalidRequestFormat", T_IPC("nic1", "ipc1"),                                 \
	 IPCP(0, 0) ".loadBalancerInboundNatRules[1].id",                                     \
	 "DuplicateIpConfigurationReferenceOnInboundNatRule"},                                \
	{"InvalidRequestFormat: a pool reference that is a string",                          \
	 NDOC(NIC("nic1", IPC("ipc1", "10.0.1.4", "vnet1", "sub1",                         \
			      ",'loadBalancerBackendAddressPools':'np'"))),                         \
	 NULL, "InvalidRequestFormat", T_IPC("nic1", "ipc1"),                                 \
	 IPCP(0, 0) ".loadBalancerBackendAddressPools", NULL},                                \
	{"PrivateIPAddressInUse: two ipConfigurations in one vnet",                          \
	 NDOC(NIC1 "," NIC("nic2", IPC("ipc1", "10.0.1.4", "vnet1", "sub1", ""))), NULL,     \
	 "PrivateIPAddressInUse", T_IPC("nic2", "ipc1"), IPCP(1, 0) ".privateIPAddress",      \
	 "nic1/ipc1"},                                                                         \
	{"PrivateIPAddressInUse: an ipConfiguration on a frontend's address",                \
	 DOCN(NOSET, VNETS,                                                                   \
	      LBX("Standard", FRONTENDS(FE_SUB("fe1", "10.0.1.10", "vnet1", "sub1")) ","     \
				POOLS(NPOOL("np"))),                                        \
	      NIC("nic1", IPC("ipc1", "10.0.1.10", "vnet1", "sub1", ""))),                  \
	 NULL, "PrivateIPAddressInUse", T_IPC("nic1", "ipc1"), IPCP(0, 0) ".privateIPAddress", \
	 "frontendIPConfigurations/fe1"},                                                      \
	{"PrivateIPAddressNotInSubnet: ipConfiguration",                                     \
	 NDOC(NIC("nic1", IPC("ipc1", "10.0.2.4", "vnet1", "sub1", ""))), NULL,              \
	 "PrivateIPAddressNotInSubnet", T_IPC("nic1", "ipc1"), IPCP(0, 0) ".privateIPAddress", \
	 "sub1"},                                                                              \
	{"SubnetIsFull",                                                                      \
	 DOCN(NOSET, VNET_SMALL, "",                                                           \
	      NIC("n1", IPC_DYN("i", "vs", "s29", "")) "," NIC("n2", IPC_DYN("i", "vs", "s29", "")) \
	      "," NIC("n3", IPC_DYN("i", "vs", "s29", "")) "," NIC("n4", IPC_DYN("i", "vs", "s29", ""))), \
	 NULL, "SubnetIsFull", T_IPC("n4", "i"), IPCP(3, 0) ".subnet.id", "10.8.0.0/29"},    \
	{"InboundNatRuleReferencedByMultipleIpConfigurations",                               \
	 NATDOC(NAT("nat1", "fe1", NAT_TCP),                                                \
		NIC("nic1", IPC("ipc1", "10.0.1.4", "vnet1", "sub1", IN_NATS(NAT_REF("lb1", "nat1")))) \
		"," NIC("nic2", IPC("ipc1", "10.0.1.5", "vnet1", "sub1",                      \
				    IN_NATS(NAT_REF("lb1", "nat1"))))),                         \
	 NULL, "InboundNatRuleReferencedByMultipleIpConfigurations", T_IPC("nic2", "ipc1"),    \
	 IPCP(1, 0) ".loadBalancerInboundNatRules[0].id", "nic1/ipc1"},                         \
	{"NetworkInterfaceMustHaveOneOneIPConfigAsPrimary: none",                             \
	 NDOC(NIC("nic1", IPC("a", "10.0.1.4", "vnet1", "sub1", "") ","                     \
			  IPC("b", "10.0.1.5", "vnet1", "sub1", ""))),                              \
	 NULL, "NetworkInterfaceMustHaveOneOneIPConfigAsPrimary", T_NIC("nic1"),              \
	 NICP(0) ".properties.ipConfigurations", "0 of them"},                                 \
	{"NetworkInterfaceMustHaveOneOneIPConfigAsPrimary: two",                              \
	 NDOC(NIC("nic1", IPC("a", "10.0.1.4", "vnet1", "sub1", ",'primary':true") ","      \
			  IPC("b", "10.0.1.5", "vnet1", "sub1", ",'primary':true"))),               \
	 NULL, "NetworkInterfaceMustHaveOneOneIPConfigAsPrimary", T_NIC("nic1"),              \
	 NICP(0) ".properties.ipConfigurations", "2 of them"},                                 \
	{"RulesUseSameFrontendIPConfigurationProtocolAndPort: NAT rule and rule",            \
	 NATDOC(NAT("nat1", "fe1", "'protocol':'Tcp','frontendPort':80,'backendPort':22"), ""), \
	 NULL, "RulesUseSameFrontendIPConfigurationProtocolAndPort", T_NAT("nat1"),            \
	 NATP(0) ".properties.frontendPort", "r1"},                                            \
	{"RulesUseSameFrontendIPConfigurationProtocolAndPort: two NAT rules",                \
	 NATDOC(NAT("nat1", "fe1", NAT_TCP) ","                                              \
		NAT("nat2", "fe1", "'protocol':'All','frontendPort':2201,'backendPort':23"), ""), \
	 NULL, "RulesUseSameFrontendIPConfigurationProtocolAndPort", T_NAT("nat2"),            \
	 NATP(1) ".properties.frontendPort", "nat1"},                                          \
	{"RulesUseSameFrontendIPConfigurationProtocolAndPort: NAT rule and HA ports",        \
	 DOCN(NOSET, VNETS,                                                                   \
	      LBX("Standard", FES_STD "," POOLS(NPOOL("np")) ","                              \
				RULES(RULE("ha", "fe1", "np", "'protocol':'All','frontendPort':0")) \
				"," NATS(NAT("nat1", "fe1", NAT_TCP))),                       \
	      ""),                                                                             \
	 NULL, "RulesUseSameFrontendIPConfigurationProtocolAndPort", T_NAT("nat1"),            \
	 NATP(0) ".properties.frontendPort", "HA ports"},                                      \
	{"MissingRequiredProperty: ipConfiguration subnet",                                  \
	 NDOC(NIC("nic1", "{'name':'ipc1','properties':{'privateIPAddress':'10.0.1.4'}}")),  \
	 NULL, "MissingRequiredProperty", T_IPC("nic1", "ipc1"), IPCP(0, 0) ".subnet", NULL},  \
	{"MissingRequiredProperty: Static without privateIPAddress",                         \
	 NDOC(NIC("nic1", IPC_DYN("ipc1", "vnet1", "sub1", ",'privateIPAllocationMethod':'Static'"))), \
	 NULL, "MissingRequiredProperty", T_IPC("nic1", "ipc1"), IPCP(0, 0) ".privateIPAddress", \
	 "Static"},                                                                            \
	{"MissingRequiredProperty: no ipConfigurations",                                     \
	 NDOC("{'name':'nic1','properties':{'ipConfigurations':[]}}"), NULL,                  \
	 "MissingRequiredProperty", T_NIC("nic1"), NICP(0) ".properties.ipConfigurations", NULL}, \
	{"MissingRequiredProperty: NAT rule frontend",                                       \
	 NATDOC("{'name':'nat1','properties':{'protocol':'Tcp','frontendPort':22}}", ""), NULL, \
	 "MissingRequiredProperty", T_NAT("nat1"), NATP(0) ".properties.frontendIPConfiguration", \
	 NULL},                                                                                \
	{"InvalidResourceReference: a pool without its load balancer",                       \
	 NDOC(NIC("nic1", IPC("ipc1", "10.0.1.4", "vnet1", "sub1",                         \
			      IN_POOLS("{'id':'backendAddressPools/np'}")))),                       \
	 NULL, "InvalidResourceReference", T_IPC("nic1", "ipc1"),                              \
	 IPCP(0, 0) ".loadBalancerBackendAddressPools[0].id", NULL},                          \
	{"InvalidResourceReference: an undefined pool, as one object",                       \
	 NDOC(NIC("nic1", IPC("ipc1", "10.0.1.4", "vnet1", "sub1",                         \
			      ",'loadBalancerBackendAddressPools':" POOL_REF("lb1", "nope")))),     \
	 NULL, "InvalidResourceReference", T_IPC("nic1", "ipc1"),                              \
	 IPCP(0, 0) ".loadBalancerBackendAddressPools.id", "nope"},                           \
	{"InvalidResourceReference: an undefined load balancer",                             \
	 NDOC(NIC("nic1", IPC("ipc1", "10.0.1.4", "vnet1", "sub1",                         \
			      IN_POOLS(POOL_REF("lb9", "np"))))),                                   \
	 NULL, "InvalidResourceReference", T_IPC("nic1", "ipc1"),                              \
	 IPCP(0, 0) ".loadBalancerBackendAddressPools[0].id", "lb9"},                          \
	{"InvalidResourceReference: an undefined NAT rule",                                  \
	 NDOC(NIC("nic1", IPC("ipc1", "10.0.1.4", "vnet1", "sub1",                         \
			      IN_NATS(NAT_REF("lb1", "nat9"))))),                                   \
	 NULL, "InvalidResourceReference", T_IPC("nic1", "ipc1"),                              \
	 IPCP(0, 0) ".loadBalancerInboundNatRules[0].id", "nat9"},                             \
	{"InvalidResourceReference: an undefined subnet",                                    \
	 NDOC(NIC("nic1", IPC("ipc1", "10.0.1.4", "vnet1", "nosuch", ""))), NULL,            \
	 "InvalidResourceReference", T_IPC("nic1", "ipc1"), IPCP(0, 0) ".subnet.id", NULL},   \
	{"BackendAddressPoolSizeLimitExceeded: settings",                                    \
	 DOCS("{'maxAddressesPerPool':1}", VNETS, LBX("Standard", FES_STD "," POOLS(POOL1))), \
	 NULL, "BackendAddressPoolSizeLimitExceeded", T_LB "/backendAddressPools/pool1",       \
	 POOLP(0) ".properties.loadBalancerBackendAddresses", "at most 1 (settings.maxAddressesPerPool)"}, \
	{"BackendAddressPoolSizeLimitExceeded: NIC members",                                 \
	 DOCN("{'maxAddressesPerPool':1}", VNETS, LBX("Standard", NBODY1), NIC1 "," NIC2),    \
	 NULL, "BackendAddressPoolSizeLimitExceeded", T_IPC("nic2", "ipc1"),                   \
	 IPCP(1, 0) ".loadBalancerBackendAddressPools[0].id", "at most 1"},                   \
	{"LoadBalancerBackendAddressLimitExceeded: settings",                                \
	 DOCS("{'maxAddressesPerLoadBalancer':3}", VNETS,                                     \
	      LBX("Standard", FES_STD "," POOLS(POOL1 "," POOL("pool2",                       \
		ADDR("c1", "10.0.0.6", "vnet1") "," ADDR("c2", "10.0.0.7", "vnet1"))))),        \
	 NULL, "LoadBalancerBackendAddressLimitExceeded", T_LB, LBP ".backendAddressPools",     \
	 "the limit is 3 (settings.maxAddressesPerLoadBalancer)"},                             \
	{"LoadBalancerBackendAddressLimitExceeded: NIC members",                             \
	 DOCN("{'maxAddressesPerLoadBalancer':2}", VNETS, LBX("Standard", NBODY), NIC1), NULL, \
	 "LoadBalancerBackendAddressLimitExceeded", T_IPC("nic1", "ipc1"),                     \
	 IPCP(0, 0) ".loadBalancerBackendAddressPools[0].id", "the limit is 2"},              \
	{"InvalidMaglevTableSize: NIC members",                                              \
	 DOCN("{'maglevTableSize':7}", VNETS, LBX("Standard", NBODY1),                         \
	      NIC("n1", IPC_NP("i", "10.0.1.11")) "," NIC("n2", IPC_NP("i", "10.0.1.12")) ","     \
	      NIC("n3", IPC_NP("i", "10.0.1.13")) "," NIC("n4", IPC_NP("i", "10.0.1.14")) ","     \
	      NIC("n5", IPC_NP("i", "10.0.1.15")) "," NIC("n6", IPC_NP("i", "10.0.1.16")) ","     \
	      NIC("n7", IPC_NP("i", "10.0.1.17")) "," NIC("n8", IPC_NP("i", "10.0.1.18"))),       \
	 NULL, "InvalidMaglevTableSize", T_IPC("n8", "i"),                                     \
	 IPCP(7, 0) ".loadBalancerBackendAddressPools[0].id", NULL},                          \
	{"BackendAddressVirtualNetworkMismatch: ipConfiguration",                            \
	 DOCN(NOSET, VNETS,                                                                   \
	      LBX("Standard", FRONTENDS(FE_SUB("fe1", "10.0.1.10", "vnet1", "sub1")) ","     \
				POOLS(NPOOL("np"))),                                        \
	      NIC("nic1", IPC("ipc1", "10.9.1.4", "vnet2", "subx",                          \
			      IN_POOLS(POOL_REF("lb1", "np"))))),                                   \
	 NULL, "BackendAddressVirtualNetworkMismatch", T_IPC("nic1", "ipc1"),                  \
	 IPCP(0, 0) ".loadBalancerBackendAddressPools[0].id", NULL},                          \
	{"BackendAddressIPVersionMismatch: ipConfiguration in a pool",                       \
	 NDOC(NIC("nic1", IPC("ipc1", "fd00:0:0:1::4", "vnet1", "sub6",                     \
			      IN_POOLS(POOL_REF("lb1", "np"))))),                                   \
	 NULL, "BackendAddressIPVersionMismatch", T_IPC("nic1", "ipc1"),                       \
	 IPCP(0, 0) ".loadBalancerBackendAddressPools[0].id", "r1"},                           \
	{"BackendAddressIPVersionMismatch: ipConfiguration of a NAT rule",                   \
	 NATDOC(NAT("nat1", "fe6", NAT_TCP),                                                \
		NIC("nic1", IPC("ipc1", "10.0.1.4", "vnet1", "sub1", IN_NATS(NAT_REF("lb1", "nat1"))))), \
	 NULL, "BackendAddressIPVersionMismatch", T_IPC("nic1", "ipc1"),                       \
	 IPCP(0, 0) ".loadBalancerInboundNatRules[0].id", "nat1"},                             \
	{"DuplicateIPAddressInBackendAddressPool: ipConfigurations of two vnets",            \
	 DOCN(NOSET, VNET1 "," VNET3, LBX("Standard", FES_STD "," POOLS(NPOOL("np"))),         \
	      NIC1 "," NIC("nic2", IPC("ipc1", "10.0.1.4", "vnet3", "s3",                    \
				      IN_POOLS(POOL_REF("lb1", "np"))))),                           \
	 NULL, "DuplicateIPAddressInBackendAddressPool", T_IPC("nic2", "ipc1"),                \
	 IPCP(1, 0) ".privateIPAddress", "nic1/ipc1"},                                         \
	{"PropertyValueOutOfRange: NAT frontendPort 0",                                       \
	 NATDOC(NAT("nat1", "fe1", "'protocol':'Tcp','frontendPort':0"), ""), NULL,           \
	 "PropertyValueOutOfRange", T_NAT("nat1"), NATP(0) ".properties.frontendPort", NULL},  \
	{"PropertyValueOutOfRange: NAT idleTimeoutInMinutes",                                 \
	 NATDOC(NAT("nat1", "fe1", NAT_TCP ",'idleTimeoutInMinutes':3"), ""), NULL,           \
	 "PropertyValueOutOfRange", T_NAT("nat1"), NATP(0) ".properties.idleTimeoutInMinutes", \
	 NULL},                                                                                \
	{"PropertyValueOutOfRange: maxAddressesPerPool", "{'settings':{'maxAddressesPerPool':65536}}", \
	 NULL, "PropertyValueOutOfRange", "settings", "$.settings.maxAddressesPerPool", NULL}, \
	{"PropertyValueOutOfRange: maxAddressesPerLoadBalancer",                              \
	 "{'settings':{'maxAddressesPerLoadBalancer':0}}", NULL, "PropertyValueOutOfRange",    \
	 "settings", "$.settings.maxAddressesPerLoadBalancer", NULL},                          \
	{"InvalidPropertyValue: macAddress",                                                  \
	 NDOC("{'name':'nic1','properties':{'macAddress':'00-0D-3A-12-34','ipConfigurations':[" \
	      IPC("ipc1", "10.0.1.4", "vnet1", "sub1", "") "]}}"),                           \
	 NULL, "InvalidPropertyValue", T_NIC("nic1"), NICP(0) ".properties.macAddress", NULL}, \
	{"InvalidPropertyValue: privateIPAllocationMethod",                                   \
	 NDOC(NIC("nic1", IPC("ipc1", "10.0.1.4", "vnet1", "sub1",                         \
			      ",'privateIPAllocationMethod':'Fixed'"))),                            \
	 NULL, "InvalidPropertyValue", T_IPC("nic1", "ipc1"),                                 \
	 IPCP(0, 0) ".privateIPAllocationMethod", NULL},                                      \
	{"InvalidPropertyValue: NAT protocol",                                               \
	 NATDOC(NAT("nat1", "fe1", "'protocol':'Icmp','frontendPort':22"), ""), NULL,         \
	 "InvalidPropertyValue", T_NAT("nat1"), NATP(0) ".properties.protocol", NULL},        \
	{"PrivateIPAddressVersionMismatch: ipConfiguration and subnet",                       \
	 NDOC(NIC("nic1", IPC_DYN("ipc1", "vnet1", "sub1", ",'privateIPAddressVersion':'IPv6'"))), \
	 NULL, "PrivateIPAddressVersionMismatch", T_IPC("nic1", "ipc1"),                       \
	 IPCP(0, 0) ".privateIPAddressVersion", "IPv4 subnet"},                                \
	{"FloatingIPRequiresSameFrontendAndBackendPort: NAT rule",                           \
	 NATDOC(NAT("nat1", "fe1", NAT_TCP ",'enableFloatingIP':true"), ""), NULL,           \
	 "FloatingIPRequiresSameFrontendAndBackendPort", T_NAT("nat1"),                       \
	 NATP(0) ".properties.backendPort", NULL},                                            \
	{"DuplicateResourceName: NAT rules",                                                 \
	 NATDOC(NAT("nat1", "fe1", NAT_TCP) "," NAT("NAT1", "fe1", "'protocol':'Udp','frontendPort':53"), ""), \
	 NULL, "DuplicateResourceName", T_NAT("NAT1"), NATP(1) ".name", NULL},                \
	{"DuplicateResourceName: network interfaces", NDOC(NIC1 "," NIC("NIC1", IPC("ipc1", "10.0.1.5", "vnet1", "sub1", ""))), \
	 NULL, "DuplicateResourceName", T_NIC("NIC1"), NICP(1) ".name", NULL},                \
	{"DuplicateResourceName: ipConfigurations",                                          \
	 NDOC(NIC("nic1", IPC("a", "10.0.1.4", "vnet1", "sub1", ",'primary':true") ","      \
			  IPC("A", "10.0.1.5", "vnet1", "sub1", ""))),                              \
	 NULL, "DuplicateResourceName", T_IPC("nic1", "A"),                                   \
	 NICP(0) ".properties.ipConfigurations[1].name", NULL},                               \
	{"InvalidResourceId: ipConfiguration of another NIC",                                \
	 NDOC(NIC("nic1", "{'name':'ipc1','id':'" NIC_ID "nic2/ipConfigurations/ipc1',"      \
			  "'properties':{'privateIPAddress':'10.0.1.4','subnet':{'id':'" SUB_ID("vnet1", "sub1") "'}}}")), \
	 NULL, "InvalidResourceId", T_IPC("nic1", "ipc1"), NICP(0) ".properties.ipConfigurations[0].id", \
	 NULL},                                                                                \
	{"LoadBalancerWithoutFrontendIPCantHaveChildResources: NAT rules",                   \
	 STD(NATS(NAT("nat1", "fe1", NAT_TCP))), NULL,                                        \
	 "LoadBalancerWithoutFrontendIPCantHaveChildResources", T_LB, LBP, NULL},             \
	{"UnknownProperty: networkInterface", "{'networkInterface':[]}", NULL, "UnknownProperty", \
	 "configuration", "$.networkInterface", NULL},

static const struct sl_error_case sl_error_cases[] = {
	{"InvalidJson", "{'settings':", NULL, "InvalidJson", "configuration", ""},
	{"InvalidRequestFormat: string for a number",
	 BASE(RULE("r1", "fe1", "pool1", "'protocol':'Tcp','frontendPort':'80'")), NULL,
	 "InvalidRequestFormat", T_LB "/loadBalancingRules/r1", RULEP(0) ".frontendPort"},
	{"InvalidRequestFormat: fraction",
	 BASE(RULE("r1", "fe1", "pool1", "'protocol':'Tcp','frontendPort':80.5")), NULL,
	 "InvalidRequestFormat", T_LB "/loadBalancingRules/r1", RULEP(0) ".frontendPort"},
	{"InvalidRequestFormat: property twice",
	 BASE(RULE("r1", "fe1", "pool1", TCP80 ",'FrontendPort':81")), NULL, "InvalidRequestFormat",
	 T_LB "/loadBalancingRules/r1", RULEP(0) ".FrontendPort"},
	{"InvalidRequestFormat: not an object", "[]", NULL, "InvalidRequestFormat", "configuration",
	 "$"},
	{"InvalidRequestFormat: not an array", "{'virtualNetworks':{}}", NULL,
	 "InvalidRequestFormat", "configuration", "$.virtualNetworks"},
	{"UnknownProperty", "{'virtualNetwork':[]}", NULL, "UnknownProperty", "configuration",
	 "$.virtualNetwork"},
	{"UnknownProperty: settings", "{'settings':{'maglevSize':7}}", NULL, "UnknownProperty",
	 "settings", "$.settings.maglevSize"},
	{"MissingRequiredProperty: frontendPort",
	 BASE(RULE("r1", "fe1", "pool1", "'protocol':'Tcp'")), NULL, "MissingRequiredProperty",
	 T_LB "/loadBalancingRules/r1", RULEP(0) ".frontendPort"},
	{"MissingRequiredProperty: addressSpace", DOC("{'name':'v'}", ""), NULL,
	 "MissingRequiredProperty", "virtualNetworks/v", "$.virtualNetworks[0].properties.addressSpace"},
	{"MissingRequiredProperty: virtualNetwork",
	 STD(FES_STD "," POOLS(POOL("pool1", "{'name':'a1','properties':{'ipAddress':'10.0.0.4'}}"))),
	 NULL, "MissingRequiredProperty", T_ADDR("pool1", "a1"),
	 ADDRP(0, 0) ".properties.virtualNetwork"},
	{"MissingRequiredProperty: vni",
	 DOC("{'name':'v','properties':{'addressSpace':{'addressPrefixes':['10.0.0.0/16']},'floatingIpDelivery':{'mode':'VXLAN'}}}",
	     ""),
	 NULL, "MissingRequiredProperty", "virtualNetworks/v",
	 "$.virtualNetworks[0].properties.floatingIpDelivery.vni"},
	{"MissingRequiredProperty: requestPath",
	 STD(FES_STD "," PROBES("{'name':'p1','properties':{'protocol':'Http','port':80}}")), NULL,
	 "MissingRequiredProperty", T_LB "/probes/p1", LBP ".probes[0].properties.requestPath"},
	{"InvalidPropertyValue: protocol",
	 BASE(RULE("r1", "fe1", "pool1", "'protocol':'Icmp','frontendPort':80")), NULL,
	 "InvalidPropertyValue", T_LB "/loadBalancingRules/r1", RULEP(0) ".protocol"},
	{"InvalidPropertyValue: delivery DNAT",
	 DOC("{'name':'v','properties':{'addressSpace':{'addressPrefixes':['10.0.0.0/16']},'floatingIpDelivery':{'mode':'DNAT'}}}",
	     ""),
	 NULL, "InvalidPropertyValue", "virtualNetworks/v",
	 "$.virtualNetworks[0].properties.floatingIpDelivery.mode"},
	{"InvalidPropertyValue: sku", DOC(VNETS, LBX("Premium", "")), NULL, "InvalidPropertyValue",
	 T_LB, "$.loadBalancers[0].sku.name"},
	{"PropertyValueOutOfRange: frontendPort",
	 BASE(RULE("r1", "fe1", "pool1", "'protocol':'Tcp','frontendPort':65535")), NULL,
	 "PropertyValueOutOfRange", T_LB "/loadBalancingRules/r1", RULEP(0) ".frontendPort"},
	{"PropertyValueOutOfRange: idleTimeoutInMinutes",
	 BASE(RULE("r1", "fe1", "pool1", TCP80 ",'idleTimeoutInMinutes':31")), NULL,
	 "PropertyValueOutOfRange", T_LB "/loadBalancingRules/r1", RULEP(0) ".idleTimeoutInMinutes"},
	{"PropertyValueOutOfRange: weight",
	 STD(FES_STD "," POOLS(POOL("pool1",
		 "{'name':'a1','properties':{'virtualNetwork':{'id':'vnet1'},'ipAddress':'10.0.0.4','weight':0}}"))),
	 NULL, "PropertyValueOutOfRange", T_ADDR("pool1", "a1"), ADDRP(0, 0) ".properties.weight"},
	{"PropertyValueOutOfRange: probe interval",
	 STD(FES_STD "," PROBES("{'name':'p1','properties':{'protocol':'Tcp','port':80,'intervalInSeconds':4}}")),
	 NULL, "PropertyValueOutOfRange", T_LB "/probes/p1",
	 LBP ".probes[0].properties.intervalInSeconds"},
	{"PropertyNotAllowed: requestPath on Tcp",
	 STD(FES_STD "," PROBES("{'name':'p1','properties':{'protocol':'Tcp','port':80,'requestPath':'/'}}")),
	 NULL, "PropertyNotAllowed", T_LB "/probes/p1", LBP ".probes[0].properties.requestPath"},
	{"PropertyNotAllowed: vni with L2",
	 DOC("{'name':'v','properties':{'addressSpace':{'addressPrefixes':['10.0.0.0/16']},'floatingIpDelivery':{'vni':5}}}",
	     ""),
	 NULL, "PropertyNotAllowed", "virtualNetworks/v",
	 "$.virtualNetworks[0].properties.floatingIpDelivery.vni"},
	{"InvalidResourceName",
	 STD(FES_STD "," POOLS(POOL("bad/name", ADDR("a1", "10.0.0.4", "vnet1")))), NULL,
	 "InvalidResourceName", T_LB "/backendAddressPools", POOLP(0) ".name"},
	{"InvalidResourceName: too long",
	 DOC("{'name':'v123456789v123456789v123456789v123456789v123456789v123456789v123456789v123456789v','properties':{}}",
	     ""),
	 NULL, "InvalidResourceName", "virtualNetworks", "$.virtualNetworks[0].name"},
	{"InvalidResourceId",
	 DOC("{'name':'vnet1','id':'" VNET_ID "other','properties':{'addressSpace':{'addressPrefixes':['10.0.0.0/16']}}}",
	     ""),
	 NULL, "InvalidResourceId", "virtualNetworks/vnet1", "$.virtualNetworks[0].id"},
	{"DuplicateResourceName: pool", STD(FES_STD "," POOLS(POOL1 "," POOL1)), NULL,
	 "DuplicateResourceName", T_LB "/backendAddressPools/pool1", POOLP(1) ".name"},
	{"DuplicateResourceName: address",
	 STD(FES_STD "," POOLS(POOL("pool1", ADDR("a1", "10.0.0.4", "vnet1") ","
					 ADDR("A1", "10.0.0.5", "vnet1")))),
	 NULL, "DuplicateResourceName", T_ADDR("pool1", "A1"), ADDRP(0, 1) ".name"},
	{"DuplicateResourceName: vnet", DOC(VNET1 "," VNET1, ""), NULL, "DuplicateResourceName",
	 "virtualNetworks/vnet1", "$.virtualNetworks[1].name"},
	{"InvalidResourceReference: vnet",
	 STD(FES_STD "," POOLS(POOL("pool1", ADDR("a1", "10.0.0.4", "vnet3")))), NULL,
	 "InvalidResourceReference", T_ADDR("pool1", "a1"),
	 ADDRP(0, 0) ".properties.virtualNetwork.id"},
	{"InvalidResourceReference: probe",
	 BASE(RULE("r1", "fe1", "pool1", TCP80 ",'probe':{'id':'nope'}")), NULL,
	 "InvalidResourceReference", T_LB "/loadBalancingRules/r1", RULEP(0) ".probe.id"},
	{"InvalidResourceReference: another load balancer's frontend",
	 BASE(RULE("r1", LB_ID "lb2/frontendIPConfigurations/fe1", "pool1", TCP80)), NULL,
	 "InvalidResourceReference", T_LB "/loadBalancingRules/r1",
	 RULEP(0) ".frontendIPConfiguration.id"},
	{"InvalidResourceReference: subnet",
	 STD(FRONTENDS(FE_SUB("fe1", "10.0.1.10", "vnet1", "nosuch"))), NULL,
	 "InvalidResourceReference", T_LB "/frontendIPConfigurations/fe1",
	 FEP(0) ".properties.subnet.id"},
	{"InvalidIPAddress", STD(FES_STD "," POOLS(POOL("pool1", ADDR("a1", "10.0.0.300", "vnet1")))),
	 NULL, "InvalidIPAddress", T_ADDR("pool1", "a1"), ADDRP(0, 0) ".properties.ipAddress"},
	{"InvalidIPAddress: multicast frontend", STD(FRONTENDS(FE("fe1", "224.0.0.1"))), NULL,
	 "InvalidIPAddress", T_LB "/frontendIPConfigurations/fe1",
	 FEP(0) ".properties.privateIPAddress"},
	{"InvalidAddressPrefix: host bits",
	 DOC("{'name':'v','properties':{'addressSpace':{'addressPrefixes':['10.0.0.1/16']}}}", ""),
	 NULL, "InvalidAddressPrefix", "virtualNetworks/v",
	 "$.virtualNetworks[0].properties.addressSpace.addressPrefixes[0]"},
	{"InvalidAddressPrefix: length",
	 DOC("{'name':'v','properties':{'addressSpace':{'addressPrefixes':['10.0.0.0/16','fd00::/129']}}}", ""),
	 NULL, "InvalidAddressPrefix", "virtualNetworks/v",
	 "$.virtualNetworks[0].properties.addressSpace.addressPrefixes[1]"},
	{"InvalidMaglevTableSize", "{'settings':{'maglevTableSize':65536}}", NULL,
	 "InvalidMaglevTableSize", "settings", "$.settings.maglevTableSize"},
	{"InvalidMaglevTableSize: smaller than a pool",
	 DOCS("{'maglevTableSize':7}", VNETS, LBX("Standard", FES_STD "," POOLS(POOL("pool1", ADDR8)))),
	 NULL, "InvalidMaglevTableSize", T_LB "/backendAddressPools/pool1",
	 POOLP(0) ".properties.loadBalancerBackendAddresses"},
	{"NetcfgSubnetRangeOutsideVnet",
	 DOC("{'name':'v','properties':{'addressSpace':{'addressPrefixes':['10.0.0.0/16']},'subnets':[{'name':'s','properties':{'addressPrefix':'10.0.0.0/15'}}]}}",
	     ""),
	 NULL, "NetcfgSubnetRangeOutsideVnet", "virtualNetworks/v/subnets/s",
	 "$.virtualNetworks[0].properties.subnets[0].properties.addressPrefix"},
	{"PrivateIPAddressVersionMismatch",
	 STD(FRONTENDS("{'name':'fe1','properties':{'privateIPAddress':'192.0.2.1','privateIPAddressVersion':'IPv6'}}")),
	 NULL, "PrivateIPAddressVersionMismatch", T_LB "/frontendIPConfigurations/fe1",
	 FEP(0) ".properties.privateIPAddressVersion"},
	{"PrivateIPAddressNotInSubnet", STD(FRONTENDS(FE_SUB("fe1", "192.0.2.1", "vnet1", "sub1"))),
	 NULL, "PrivateIPAddressNotInSubnet", T_LB "/frontendIPConfigurations/fe1",
	 FEP(0) ".properties.privateIPAddress"},
	{"PrivateIPAddressInUse", STD(FRONTENDS(FE("fe1", "192.0.2.1") "," FE("fe2", "192.0.2.1"))),
	 NULL, "PrivateIPAddressInUse", T_LB "/frontendIPConfigurations/fe2",
	 FEP(1) ".properties.privateIPAddress"},
	{"PrivateIPAddressInUse: across load balancers",
	 DOC(VNETS, LBX("Standard", FES_STD) ",{'name':'lb2','properties':{"
		    FRONTENDS(FE("x", "2001:db8::1")) "}}"),
	 NULL, "PrivateIPAddressInUse", "loadBalancers/lb2/frontendIPConfigurations/x",
	 "$.loadBalancers[1].properties.frontendIPConfigurations[0].properties.privateIPAddress"},
	{"LoadBalancerFrontendsInDifferentVirtualNetworks",
	 STD(FRONTENDS(FE_SUB("fe1", "10.0.1.10", "vnet1", "sub1") ","
		       FE_SUB("fe2", "10.9.1.10", "vnet2", "subx"))),
	 NULL, "LoadBalancerFrontendsInDifferentVirtualNetworks", T_LB "/frontendIPConfigurations/fe2",
	 FEP(1) ".properties.subnet.id"},
	{"LoadBalancerWithoutFrontendIPCantHaveChildResources", STD(POOLS(POOL1)), NULL,
	 "LoadBalancerWithoutFrontendIPCantHaveChildResources", T_LB, LBP},
	{"IPBasedBackendAddressPoolRequiresStandardSku",
	 DOC(VNETS, LBX("Basic", FES_STD "," POOLS(POOL1))), NULL,
	 "IPBasedBackendAddressPoolRequiresStandardSku", T_LB "/backendAddressPools/pool1",
	 POOLP(0) ".properties.loadBalancerBackendAddresses"},
	{"IPBasedBackendAddressPoolRequiresStandardSku: Basic by default",
	 DOC(VNETS, "{'name':'lb1','properties':{" FES_STD "," POOLS(POOL1) "}}"), NULL,
	 "IPBasedBackendAddressPoolRequiresStandardSku", T_LB "/backendAddressPools/pool1",
	 POOLP(0) ".properties.loadBalancerBackendAddresses"},
	{"DuplicateIPAddressInBackendAddressPool",
	 STD(FES_STD "," POOLS(POOL("pool1", ADDR("a1", "10.0.0.4", "vnet1") ","
					 ADDR("a2", "10.0.0.5", "vnet1") ","
					 ADDR("a3", "10.0.0.4", "vnet1")))),
	 NULL, "DuplicateIPAddressInBackendAddressPool", T_ADDR("pool1", "a3"),
	 ADDRP(0, 2) ".properties.ipAddress"},
	{"BackendAddressNotInVirtualNetwork",
	 STD(FES_STD "," POOLS(POOL("pool1", ADDR("a1", "10.5.0.4", "vnet1")))), NULL,
	 "BackendAddressNotInVirtualNetwork", T_ADDR("pool1", "a1"), ADDRP(0, 0) ".properties.ipAddress"},
	{"BackendAddressVirtualNetworkMismatch",
	 STD(FRONTENDS(FE_SUB("fe1", "10.0.1.10", "vnet1", "sub1")) ","
	     POOLS(POOL("pool1", ADDR("a1", "10.9.0.4", "vnet2")))),
	 NULL, "BackendAddressVirtualNetworkMismatch", T_ADDR("pool1", "a1"),
	 ADDRP(0, 0) ".properties.virtualNetwork.id"},
	{"BackendAddressPoolSizeLimitExceeded", NULL, sl_test_gen_pool_limit,
	 "BackendAddressPoolSizeLimitExceeded", T_LB "/backendAddressPools/pool0",
	 POOLP(0) ".properties.loadBalancerBackendAddresses"},
	{"LoadBalancerBackendAddressLimitExceeded", NULL, sl_test_gen_lb_limit,
	 "LoadBalancerBackendAddressLimitExceeded", T_LB, LBP ".backendAddressPools"},
	{"LoadBalancingRuleLimitExceeded", NULL, sl_test_gen_rule_limit,
	 "LoadBalancingRuleLimitExceeded", T_LB, LBP ".loadBalancingRules"},
	{"InvalidHaPortsRule: All with a port",
	 BASE(RULE("r1", "fe1", "pool1", "'protocol':'All','frontendPort':80")), NULL,
	 "InvalidHaPortsRule", T_LB "/loadBalancingRules/r1", RULEP(0) ".frontendPort"},
	{"InvalidHaPortsRule: port 0 with Tcp",
	 BASE(RULE("r1", "fe1", "pool1", "'protocol':'Tcp','frontendPort':0")), NULL,
	 "InvalidHaPortsRule", T_LB "/loadBalancingRules/r1", RULEP(0) ".frontendPort"},
	{"InvalidHaPortsRule: backendPort 0 with Udp",
	 BASE(RULE("r1", "fe1", "pool1", "'protocol':'Udp','frontendPort':53,'backendPort':0")), NULL,
	 "InvalidHaPortsRule", T_LB "/loadBalancingRules/r1", RULEP(0) ".backendPort"},
	{"RulesUseSameFrontendIPConfigurationProtocolAndPort",
	 BASE(RULE("r1", "fe1", "pool1", TCP80) "," RULE("r2", "fe1", "pool1", TCP80 ",'backendPort':81")),
	 NULL, "RulesUseSameFrontendIPConfigurationProtocolAndPort", T_LB "/loadBalancingRules/r2",
	 RULEP(1) ".frontendPort"},
	{"RulesUseSameFrontendIPConfigurationProtocolAndPort: HA ports",
	 BASE(RULE("r1", "fe1", "pool1", TCP80) ","
	      RULE("r2", "fe1", "pool1", "'protocol':'All','frontendPort':0,'enableFloatingIP':true")),
	 NULL, "RulesUseSameFrontendIPConfigurationProtocolAndPort", T_LB "/loadBalancingRules/r2",
	 RULEP(1) ".frontendPort"},
	{"RulesOfSameLoadBalancerTypeUseSameBackendPortProtocolAndIPConfig",
	 BASE(RULE("r1", "fe1", "pool1", TCP80 ",'backendPort':8080") ","
	      RULE("r2", "fe1", "pool1", "'protocol':'Tcp','frontendPort':81,'backendPort':8080")),
	 NULL, "RulesOfSameLoadBalancerTypeUseSameBackendPortProtocolAndIPConfig",
	 T_LB "/loadBalancingRules/r2", RULEP(1) ".backendPort"},
	{"BackendAddressIPVersionMismatch: DNAT", BASE(RULE("r1", "fe6", "pool1", TCP80)), NULL,
	 "BackendAddressIPVersionMismatch", T_LB "/loadBalancingRules/r1",
	 LBP ".loadBalancingRules[0]"},
	{"BackendAddressIPVersionMismatch: L2 Floating IP",
	 BASE(RULE("r1", "fe1", "pool6", TCP80 ",'enableFloatingIP':true")), NULL,
	 "BackendAddressIPVersionMismatch", T_LB "/loadBalancingRules/r1",
	 LBP ".loadBalancingRules[0]"},
	{"FloatingIPRequiresSameFrontendAndBackendPort",
	 BASE(RULE("r1", "fe1", "pool1", TCP80 ",'backendPort':8080,'enableFloatingIP':true")), NULL,
	 "FloatingIPRequiresSameFrontendAndBackendPort", T_LB "/loadBalancingRules/r1",
	 RULEP(0) ".backendPort"},
	{"FeatureNotSupported", STD(FES_STD ",'inboundNatPools':[{'name':'natpool1'}]"), NULL,
	 "FeatureNotSupported", T_LB, LBP ".inboundNatPools"},
	{"FeatureNotSupported: outboundRules", STD(FES_STD ",'outboundRules':[{'name':'o1'}]"), NULL,
	 "FeatureNotSupported", T_LB, LBP ".outboundRules"},
	NIC_ERROR_CASES
};


static void
test_config_from_json(void **state)
{
	char *text = sl_test_json(BASE(RULE("r1", "fe1", "pool1", TCP80)));
	cJSON *doc = cJSON_Parse(text), *arr;
	char *before = cJSON_PrintUnformatted(doc), *after;
	struct sl_error err;
	struct sl_model *m;

	(void)state;
	m = sl_test_from_json_ok(doc);
	assert_int_equal(m->lbs[0].n_rules, 1);
	assert_int_equal(m->n_nics, 0);
	assert_non_null(m->nics);
	sl_model_free(m);
	after = cJSON_PrintUnformatted(doc);
	assert_string_equal(before, after); /* only read */

	/* Errors: the document target given, no file. */
	memset(&err, 'x', sizeof(err));
	errno = 0;
	arr = cJSON_CreateArray();
	assert_null(sl_config_from_json(arr, "PUT /loadBalancers/lb1", &err));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err.code, "InvalidRequestFormat");
	assert_string_equal(err.target, "PUT /loadBalancers/lb1");
	assert_string_equal(err.json_path, "$");
	assert_string_equal(err.file, "");
	assert_null(sl_config_from_json(NULL, NULL, &err));
	assert_string_equal(err.target, "configuration");
	cJSON_Delete(arr);
	free(before);
	free(after);
	cJSON_Delete(doc);
	free(text);
}

static void
test_error_case(void **state)
{
	const struct sl_error_case *c = *state;
	char *gen = c->gen != NULL ? c->gen() : NULL;
	struct sl_error err;
	struct sl_model *m;
	char line[1024];

	errno = 0;
	m = sl_test_parse(gen != NULL ? gen : c->doc, &err);
	free(gen);
	if (m != NULL) {
		sl_model_free(m);
		fail_msg("%s: accepted", c->name);
	}
	assert_int_equal(errno, EINVAL);
	sl_error_format(&err, line, sizeof(line));
	print_message("    %s\n", line);
	assert_string_equal(err.code, c->code);
	assert_string_equal(err.target, c->target);
	assert_string_equal(err.json_path, c->json_path);
	assert_true(strlen(err.message) > 10);
	assert_string_equal(err.file, "");
	if (c->message_has != NULL && strstr(err.message, c->message_has) == NULL)
		fail_msg("%s: the message does not hold '%s'", c->name, c->message_has);
}

/* --- JSON syntax and files ------------------------------------------------- */

static void
test_bad_json_line_column(void **state)
{
	const char *text = "{\n  \"settings\": {\n    \"hashSeed\": @\n  }\n}\n";
	struct sl_error err;

	(void)state;
	assert_null(sl_config_parse(text, strlen(text), "bad.json", &err));
	assert_string_equal(err.code, "InvalidJson");
	assert_string_equal(err.file, "bad.json");
	assert_string_equal(err.target, "bad.json");
	assert_string_equal(err.json_path, "");
	assert_non_null(strstr(err.message, "line 3, column 17 (byte offset 34)"));

	/* A trailing comma: cJSON notices it at the closing brace of line 4. */
	text = "{\n  \"settings\": {\n    \"hashSeed\": 1,\n  }\n}\n";
	assert_null(sl_config_parse(text, strlen(text), "bad.json", &err));
	assert_string_equal(err.code, "InvalidJson");
	assert_non_null(strstr(err.message, "line 4, column"));

	text = "{}\n  x";
	assert_null(sl_config_parse(text, strlen(text), NULL, &err));
	assert_string_equal(err.code, "InvalidJson");
	assert_non_null(strstr(err.message, "after the JSON value at line 2, column 3"));

	assert_null(sl_config_parse("", 0, NULL, &err));
	assert_string_equal(err.code, "InvalidJson");
	assert_non_null(strstr(err.message, "line 1, column 1"));

	/*
	 * Strings escape control characters and hold no \u0000 (cJSON takes
	 * both; a NUL cut a string short: found by fuzz_profile).
	 */
	text = "{\"settings\": {\"a\tb\": 1}}";
	assert_null(sl_config_parse(text, strlen(text), NULL, &err));
	assert_string_equal(err.code, "InvalidJson");
	assert_non_null(strstr(err.message, "a control character in a string (escape it) at line 1, "
					    "column 17 (byte offset 16)"));
	text = "{\"settings\": {\"a\\u0000b\": 1}}";
	assert_null(sl_config_parse(text, strlen(text), NULL, &err));
	assert_string_equal(err.code, "InvalidJson");
	assert_non_null(strstr(err.message, "\\u0000 in a string at line 1, column 17"));
	text = "{\"settings\": {\"a\\\\u0000b\\u0001\\t\": {}}}"; /* an escaped backslash, \u0001 */
	assert_null(sl_config_parse(text, strlen(text), NULL, &err));
	assert_string_equal(err.code, "UnknownProperty");

	/* Only len bytes count, NUL-terminated or not. */
	text = "{}garbage";
	sl_model_free(sl_config_parse(text, 2, NULL, &err));
}

static void
test_config_load_errors(void **state)
{
	struct sl_error err;
	char line[1024];

	(void)state;
	errno = 0;
	assert_null(sl_config_load("tests/unit/no-such-config.json", &err));
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err.code, "ConfigFileUnreadable");
	assert_string_equal(err.target, "tests/unit/no-such-config.json");
	assert_string_equal(err.file, "tests/unit/no-such-config.json");
	assert_string_equal(err.json_path, "");
	assert_null(sl_config_load("tests/unit", &err));
	assert_string_equal(err.code, "ConfigFileUnreadable");

	sl_error_set(&err, "Code", "t", "$.a", "m %d", 1);
	snprintf(err.file, sizeof(err.file), "f.json");
	assert_string_equal(sl_error_format(&err, line, sizeof(line)),
			    "f.json: $.a: Code: m 1 (target: t)");
	assert_string_equal(sl_error_format(&err, line, 8), "f.json:");
	assert_int_equal(sl_error_set(NULL, "C", NULL, NULL, "x"), -EINVAL);
}

/* --- compile errors and counter ids ---------------------------------------- */

static void
test_compile_errors(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(2);
	struct sl_error err;
	struct sl_model *m;

	(void)state;
	sl_test_make_ports();
	m = sl_config_load(EXAMPLE, &err);
	assert_non_null(m);

	errno = 0;
	assert_null(sl_compile(m, sl_test_ports, SL_MAX_PORTS + 1, rids, bids, 1, &err));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err.code, "InvalidPortList");
	assert_string_equal(err.target, "ports");
	assert_string_equal(err.json_path, "");

	assert_null(sl_compile(NULL, sl_test_ports, 1, rids, bids, 1, &err));
	assert_string_equal(err.code, "InvalidArgument");

	/* Two backend ids to hand out, nine backends. */
	errno = 0;
	assert_null(sl_compile(m, sl_test_ports, 2, rids, bids, 1, &err));
	assert_int_equal(errno, ENOSPC);
	assert_string_equal(err.code, "CounterIdsExhausted");
	assert_string_equal(err.target, "lb-edge/web/web3");
	assert_string_equal(err.json_path, "");

	sl_model_free(m);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

static void
test_id_registry(void **state)
{
	struct sl_id_registry *r = sl_id_registry_create(3);

	(void)state;
	assert_non_null(r);
	assert_int_equal(sl_id_registry_get(r, "a"), 0);
	assert_int_equal(sl_id_registry_get(r, "b"), 1);
	assert_int_equal(sl_id_registry_get(r, "a"), 0);
	assert_int_equal(sl_id_registry_get(r, "c"), 2);
	assert_int_equal(sl_id_registry_get(r, "d"), -ENOSPC);
	assert_int_equal(sl_id_registry_get(r, "b"), 1);
	assert_string_equal(sl_id_registry_name(r, 2), "c");
	assert_null(sl_id_registry_name(r, 3));
	assert_int_equal(sl_id_registry_get(r, NULL), -EINVAL);
	sl_id_registry_free(r);

	errno = 0;
	assert_null(sl_id_registry_create(0));
	assert_int_equal(errno, EINVAL);
}

/* The example with changes made through cJSON: fn edits the tree. */
static struct sl_model *
sl_test_example_edited(void (*fn)(cJSON *lb))
{
	FILE *f = fopen(EXAMPLE, "rb");
	char buf[65536], *text;
	struct sl_error err;
	struct sl_model *m;
	cJSON *doc;
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	doc = cJSON_Parse(buf);
	assert_non_null(doc);
	if (fn != NULL)
		fn(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "loadBalancers"), 0),
				       "properties"));
	text = cJSON_PrintUnformatted(doc);
	assert_non_null(text);
	m = sl_config_parse(text, strlen(text), NULL, &err);
	assert_non_null(m);
	free(text);
	cJSON_Delete(doc);
	return m;
}

/* Drop web2 from pool web and rule https. */
static void
sl_test_drop_web2(cJSON *props)
{
	cJSON *web = cJSON_GetArrayItem(cJSON_GetObjectItem(props, "backendAddressPools"), 0);

	cJSON_DeleteItemFromArray(cJSON_GetObjectItem(cJSON_GetObjectItem(web, "properties"),
						      "loadBalancerBackendAddresses"),
				  1);
	cJSON_DeleteItemFromArray(cJSON_GetObjectItem(props, "loadBalancingRules"), 1);
}

/* Rename web1 to WEB1 (the same resource) and add web4. */
static void
sl_test_add_web4(cJSON *props)
{
	cJSON *addrs = cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(props, "backendAddressPools"), 0),
				    "properties"),
		"loadBalancerBackendAddresses");
	cJSON *web4 = cJSON_Duplicate(cJSON_GetArrayItem(addrs, 0), 1);

	cJSON_SetValuestring(cJSON_GetObjectItem(cJSON_GetArrayItem(addrs, 0), "name"), "WEB1");
	cJSON_SetValuestring(cJSON_GetObjectItem(web4, "name"), "web4");
	cJSON_SetValuestring(cJSON_GetObjectItem(cJSON_GetObjectItem(web4, "properties"), "ipAddress"),
			     "10.1.1.7");
	cJSON_AddItemToArray(addrs, web4);
}

static uint32_t
sl_test_counter(const struct sl_snapshot *s, const char *backend)
{
	return s->backends[sl_test_backend(s, backend)].counter_id;
}

static void
test_id_registry_stable_across_compiles(void **state)
{
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	struct sl_snapshot *s1, *s2, *s3, *s4;
	struct sl_model *m1, *m2, *m3;
	struct sl_error err;
	uint32_t web1, web2, web3, nva2, https, ha;

	(void)state;
	sl_test_make_ports();
	m1 = sl_test_example_edited(NULL);
	m2 = sl_test_example_edited(sl_test_drop_web2);
	m3 = sl_test_example_edited(sl_test_add_web4);

	s1 = sl_compile(m1, sl_test_ports, 2, rids, bids, 1, &err);
	assert_non_null(s1);
	web1 = sl_test_counter(s1, "lb-edge/web/web1");
	web2 = sl_test_counter(s1, "lb-edge/web/web2");
	web3 = sl_test_counter(s1, "lb-edge/web/web3");
	nva2 = sl_test_counter(s1, "lb-edge/appliances/nva2");
	https = sl_test_rule(s1, "lb-edge/https")->counter_id;
	ha = sl_test_rule(s1, "lb-edge/ha-ports")->counter_id;

	/* The same model again: the same ids. */
	s2 = sl_compile(m1, sl_test_ports, 2, rids, bids, 2, &err);
	assert_non_null(s2);
	assert_int_equal(sl_test_counter(s2, "lb-edge/web/web2"), web2);
	sl_snapshot_free(s2);

	/* web2 and rule https removed: the others keep theirs (indexes moved). */
	s2 = sl_compile(m2, sl_test_ports, 2, rids, bids, 3, &err);
	assert_non_null(s2);
	assert_int_equal(s2->n_backends, 8);
	assert_int_equal(s2->n_rules, 5);
	assert_int_equal(sl_test_counter(s2, "lb-edge/web/web3"), web3);
	assert_int_equal(sl_test_counter(s2, "lb-edge/appliances/nva2"), nva2);
	assert_int_equal(sl_test_rule(s2, "lb-edge/ha-ports")->counter_id, ha);

	/* A new name gets a new id, never a freed one; case does not make a new name. */
	s3 = sl_compile(m3, sl_test_ports, 2, rids, bids, 4, &err);
	assert_non_null(s3);
	assert_int_equal(sl_test_counter(s3, "lb-edge/web/WEB1"), web1);
	assert_int_equal(sl_test_counter(s3, "lb-edge/web/web4"), 9);
	assert_int_not_equal(sl_test_counter(s3, "lb-edge/web/web4"), web2);

	/* Re-added: the old ids come back. */
	s4 = sl_compile(m1, sl_test_ports, 2, rids, bids, 5, &err);
	assert_non_null(s4);
	assert_int_equal(sl_test_counter(s4, "lb-edge/web/web2"), web2);
	assert_int_equal(sl_test_rule(s4, "lb-edge/https")->counter_id, https);
	/* keyed by identity: the load balancer's scope and name (its label may change) */
	assert_string_equal(sl_id_registry_name(bids, web2),
			    "@00000000-0000-0000-0000-000000000000/sluice-demo/lb-edge/web/web2");

	sl_snapshot_free(s1);
	sl_snapshot_free(s2);
	sl_snapshot_free(s3);
	sl_snapshot_free(s4);
	sl_model_free(m1);
	sl_model_free(m2);
	sl_model_free(m3);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_parses),
		cmocka_unit_test(test_example_compiles),
		cmocka_unit_test(test_seed_rest_pool_accepted),
		cmocka_unit_test(test_minimal_and_defaults),
		cmocka_unit_test(test_references_and_variants),
		cmocka_unit_test(test_bad_json_line_column),
		cmocka_unit_test(test_config_load_errors),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_id_registry),
		cmocka_unit_test(test_id_registry_stable_across_compiles),
		cmocka_unit_test(test_config_from_json),
	};
	size_t n = sizeof(sl_error_cases) / sizeof(sl_error_cases[0]), i;
	struct CMUnitTest *cases = calloc(n, sizeof(*cases));
	int failed;

	if (cases == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		cases[i].name = sl_error_cases[i].name;
		cases[i].test_func = test_error_case;
		cases[i].initial_state = (void *)&sl_error_cases[i];
	}
	failed = cmocka_run_group_tests_name("config", tests, NULL, NULL);
	failed += _cmocka_run_group_tests("config error codes", cases, n, NULL, NULL);
	free(cases);
	return failed;
}
