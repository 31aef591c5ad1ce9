/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_test_config.h: what the configuration tests (test_config.c,
 * test_config_nic.c) share: JSON written with single quotes, parsing that
 * fails the test on error, generated documents, lookups in a snapshot, two
 * fake ports, the seed's pool body and the building blocks of the test
 * documents (single-quoted JSON). Include after <cmocka.h>.
 */
#ifndef SL_TEST_CONFIG_H
#define SL_TEST_CONFIG_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sl_compile.h"
#include "sl_config.h"
#include "sl_snapshot.h"
#include "sl_test_util.h"


/* A malloc'd copy of text with every ' turned into ". */
static inline char *
sl_test_json(const char *text)
{
	char *s = strdup(text), *p;

	assert_non_null(s);
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'')
			*p = '"';
	}
	return s;
}

static inline struct sl_model *
sl_test_parse(const char *single_quoted, struct sl_error *err)
{
	char *text = sl_test_json(single_quoted);
	struct sl_model *m;

	memset(err, 0, sizeof(*err));
	m = sl_config_parse(text, strlen(text), NULL, err);
	free(text);
	return m;
}

/* A growing string for the generated documents. */
struct sl_test_buf {
	char *s;
	size_t len, cap;
};

static inline void sl_test_printf(struct sl_test_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline void
sl_test_printf(struct sl_test_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap * 2 + (size_t)n + 1;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
}

static inline const struct sl_rule *
sl_test_rule(const struct sl_snapshot *s, const char *name)
{
	uint32_t i;

	for (i = 0; i < s->n_rules; i++) {
		if (strcmp(s->rules[i].name, name) == 0)
			return &s->rules[i];
	}
	fail_msg("no rule %s", name);
	return NULL;
}

static inline uint32_t
sl_test_backend(const struct sl_snapshot *s, const char *name)
{
	uint32_t i;

	for (i = 0; i < s->n_backends; i++) {
		if (strcmp(s->backends[i].name, name) == 0)
			return i;
	}
	fail_msg("no backend %s", name);
	return UINT32_MAX;
}

/*
 * Two fake ports. Port 0 owns addresses of both families, knows web1, web1-v6
 * and an IPv4 gateway; port 1 owns no address and knows only nva1.
 */
static struct sl_neighbour sl_test_neigh0[3];
static struct sl_neighbour sl_test_neigh1[1];
static struct sl_port_info sl_test_ports[2];

static inline void
sl_test_make_ports(void)
{
	memset(sl_test_ports, 0, sizeof(sl_test_ports));
	sl_test_neigh0[0] = sl_test_neighbour("10.1.1.4", "02:aa:00:00:00:04");
	sl_test_neigh0[1] = sl_test_neighbour("10.1.0.1", "02:ee:00:00:00:01");
	sl_test_neigh0[2] = sl_test_neighbour("fd00:1:0:1::4", "02:aa:00:00:06:04");
	sl_test_ports[0].mac = sl_test_mac("02:00:00:00:00:01");
	sl_test_ports[0].ipv4 = sl_test_ip("10.1.0.254");
	sl_test_ports[0].ipv6 = sl_test_ip("fd00:1::fe");
	sl_test_ports[0].has_ipv4 = 1;
	sl_test_ports[0].has_ipv6 = 1;
	sl_test_ports[0].mtu = 1500;
	sl_test_ports[0].neighbours = sl_test_neigh0;
	sl_test_ports[0].n_neighbours = 3;
	sl_test_ports[0].gateway_v4 = sl_test_ip("10.1.0.1");
	sl_test_ports[0].has_gateway_v4 = 1;

	sl_test_neigh1[0] = sl_test_neighbour("10.2.0.4", "02:bb:00:00:00:04");
	sl_test_ports[1].mac = sl_test_mac("02:00:00:00:00:02");
	sl_test_ports[1].mtu = 1500;
	sl_test_ports[1].neighbours = sl_test_neigh1;
	sl_test_ports[1].n_neighbours = 1;
}


/*
 * The seed's REST request body for PUT .../backendAddressPools/backend,
 * verbatim but for the placeholders.
 */
static const char sl_seed_pool_body[] =
	"{\n"
	"  \"properties\": {\n"
	"    \"loadBalancerBackendAddresses\": [\n"
	"      {\n"
	"        \"name\": \"address1\",\n"
	"        \"properties\": {\n"
	"          \"virtualNetwork\": {\n"
	"            \"id\": \"/subscriptions/subid/resourceGroups/testrg/providers/Microsoft.Network/virtualNetworks/vnet1\"\n"
	"          },\n"
	"          \"ipAddress\": \"10.0.0.4\"\n"
	"        }\n"
	"      },\n"
	"      {\n"
	"        \"name\": \"address2\",\n"
	"        \"properties\": {\n"
	"          \"virtualNetwork\": {\n"
	"            \"id\": \"/subscriptions/subid/resourceGroups/testrg/providers/Microsoft.Network/virtualNetworks/vnet1\"\n"
	"          },\n"
	"          \"ipAddress\": \"10.0.0.5\"\n"
	"        }\n"
	"      }\n"
	"    ]\n"
	"  }\n"
	"}\n";

static inline struct sl_model *
sl_test_parse_ok(const char *doc)
{
	struct sl_error err;
	struct sl_model *m = sl_test_parse(doc, &err);

	if (m == NULL) {
		char buf[1024];

		fail_msg("%s", sl_error_format(&err, buf, sizeof(buf)));
	}
	return m;
}

static inline struct sl_model *
sl_test_from_json_ok(const cJSON *doc)
{
	struct sl_error err;
	struct sl_model *m;

	memset(&err, 0, sizeof(err));
	m = sl_config_from_json(doc, NULL, &err);
	if (m == NULL) {
		char buf[1024];

		fail_msg("%s", sl_error_format(&err, buf, sizeof(buf)));
	}
	return m;
}

/* Building blocks of the documents below (single-quoted). */
#define VNET_ID "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/"
#define LB_ID "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/"
#define VNET1                                                                                 \
	"{'name':'vnet1','properties':{'addressSpace':{'addressPrefixes':['10.0.0.0/16','fd00::/48']}," \
	"'subnets':[{'name':'sub1','properties':{'addressPrefix':'10.0.1.0/24'}},"          \
	"{'name':'sub6','properties':{'addressPrefix':'fd00:0:0:1::/64'}}]}}"
#define VNET2                                                                               \
	"{'name':'vnet2','properties':{'addressSpace':{'addressPrefixes':['10.9.0.0/16']},'subnets':[" \
	"{'name':'subx','properties':{'addressPrefix':'10.9.1.0/24'}}]}}"
#define VNET_GUE                                                                            \
	"{'name':'vnetg','properties':{'addressSpace':{'addressPrefixes':['10.7.0.0/16']},"       \
	"'floatingIpDelivery':{'mode':'GUE'}}}"
#define VNETS VNET1 "," VNET2
#define FE(n, ip) "{'name':'" n "','properties':{'privateIPAddress':'" ip "'}}"
#define FE_SUB(n, ip, vnet, sub)                                                            \
	"{'name':'" n "','properties':{'privateIPAddress':'" ip "','subnet':{'id':'" VNET_ID vnet \
	"/subnets/" sub "'}}}"
#define ADDR(n, ip, vnet)                                                                   \
	"{'name':'" n "','properties':{'virtualNetwork':{'id':'" VNET_ID vnet "'},'ipAddress':'" ip "'}}"
#define POOL(n, addrs) "{'name':'" n "','properties':{'loadBalancerBackendAddresses':[" addrs "]}}"
#define RULE(n, fe, pool, extra)                                                            \
	"{'name':'" n "','properties':{'frontendIPConfiguration':{'id':'" fe "'},"             \
	"'backendAddressPool':{'id':'" pool "'}," extra "}}"
#define TCP80 "'protocol':'Tcp','frontendPort':80"
#define LBX(sku, body) "{'name':'lb1','sku':{'name':'" sku "'},'properties':{" body "}}"
#define FRONTENDS(x) "'frontendIPConfigurations':[" x "]"
#define POOLS(x) "'backendAddressPools':[" x "]"
#define RULES(x) "'loadBalancingRules':[" x "]"
#define PROBES(x) "'probes':[" x "]"
#define DOC(vnets, lbs) "{'virtualNetworks':[" vnets "],'loadBalancers':[" lbs "]}"
#define DOCS(settings, vnets, lbs)                                                          \
	"{'settings':" settings ",'virtualNetworks':[" vnets "],'loadBalancers':[" lbs "]}"
#define STD(body) DOC(VNETS, LBX("Standard", body))
#define FES_STD FRONTENDS(FE("fe1", "192.0.2.1") "," FE("fe6", "2001:db8::1"))
#define POOL1 POOL("pool1", ADDR("a1", "10.0.0.4", "vnet1") "," ADDR("a2", "10.0.0.5", "vnet1"))
#define POOL6 POOL("pool6", ADDR("b1", "fd00::4", "vnet1"))
#define BASE(rules) STD(FES_STD "," POOLS(POOL1 "," POOL6) "," RULES(rules))
#define ADDR8                                                                               \
	ADDR("a1", "10.0.0.1", "vnet1") "," ADDR("a2", "10.0.0.2", "vnet1") ","                   \
	ADDR("a3", "10.0.0.3", "vnet1") "," ADDR("a4", "10.0.0.4", "vnet1") ","                   \
	ADDR("a5", "10.0.0.5", "vnet1") "," ADDR("a6", "10.0.0.6", "vnet1") ","                   \
	ADDR("a7", "10.0.0.7", "vnet1") "," ADDR("a8", "10.0.0.8", "vnet1")

#define LBP "$.loadBalancers[0].properties"
#define FEP(i) LBP ".frontendIPConfigurations[" #i "]"
#define POOLP(i) LBP ".backendAddressPools[" #i "]"
#define ADDRP(p, a) POOLP(p) ".properties.loadBalancerBackendAddresses[" #a "]"
#define RULEP(i) LBP ".loadBalancingRules[" #i "].properties"
#define T_LB "loadBalancers/lb1"
#define T_ADDR(p, a) T_LB "/backendAddressPools/" p "/loadBalancerBackendAddresses/" a

/* Network interfaces, inbound NAT rules and the limits of settings (single-quoted). */
#define NIC_ID "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/"
#define SUB_ID(vnet, sub) VNET_ID vnet "/subnets/" sub
#define POOL_REF(lb, pool) "{'id':'" LB_ID lb "/backendAddressPools/" pool "'}"
#define NAT_REF(lb, rule) "{'id':'" LB_ID lb "/inboundNatRules/" rule "'}"
#define IPC(n, ip, vnet, sub, extra)                                                       \
	"{'name':'" n "','properties':{'privateIPAddress':'" ip "','subnet':{'id':'"             \
	SUB_ID(vnet, sub) "'}" extra "}}"
#define IPC_DYN(n, vnet, sub, extra)                                                       \
	"{'name':'" n "','properties':{'subnet':{'id':'" SUB_ID(vnet, sub) "'}" extra "}}"
#define IN_POOLS(x) ",'loadBalancerBackendAddressPools':[" x "]"
#define IN_NATS(x) ",'loadBalancerInboundNatRules':[" x "]"
#define NIC(n, ipcs) "{'name':'" n "','properties':{'ipConfigurations':[" ipcs "]}}"
#define DOCN(settings, vnets, lbs, nics)                                                   \
	"{'settings':" settings ",'virtualNetworks':[" vnets "],'loadBalancers':[" lbs "],"      \
	"'networkInterfaces':[" nics "]}"
#define NOSET "{}"
#define NPOOL(n) "{'name':'" n "'}"
#define NAT(n, fe, extra)                                                                  \
	"{'name':'" n "','properties':{'frontendIPConfiguration':{'id':'" fe "'}," extra "}}"
#define NATS(x) "'inboundNatRules':[" x "]"
#define NAT_TCP "'protocol':'Tcp','frontendPort':2201,'backendPort':22"
#define R1NP RULE("r1", "fe1", "np", TCP80)
#define NBODY1 FES_STD "," POOLS(NPOOL("np")) "," RULES(R1NP)
#define NBODY FES_STD "," POOLS(NPOOL("np") "," POOL1) "," RULES(R1NP)
#define NDOC(nics) DOCN(NOSET, VNETS, LBX("Standard", NBODY), nics)
#define NATDOC(nats, nics) DOCN(NOSET, VNETS, LBX("Standard", NBODY1 "," NATS(nats)), nics)
#define IPC_NP(n, ip) IPC(n, ip, "vnet1", "sub1", IN_POOLS(POOL_REF("lb1", "np")))
#define NIC1 NIC("nic1", IPC_NP("ipc1", "10.0.1.4"))
#define NIC2 NIC("nic2", IPC_NP("ipc1", "10.0.1.5"))
#define VNET3                                                                               \
	"{'name':'vnet3','properties':{'addressSpace':{'addressPrefixes':['10.0.0.0/16']},"       \
	"'subnets':[{'name':'s3','properties':{'addressPrefix':'10.0.1.0/24'}}]}}"
#define VNET_SMALL                                                                          \
	"{'name':'vs','properties':{'addressSpace':{'addressPrefixes':['10.8.0.0/16']},"         \
	"'subnets':[{'name':'s29','properties':{'addressPrefix':'10.8.0.0/29'}}]}}"
#define NICP(n) "$.networkInterfaces[" #n "]"
#define IPCP(n, i) NICP(n) ".properties.ipConfigurations[" #i "].properties"
#define NATP(i) LBP ".inboundNatRules[" #i "]"
#define T_NIC(n) "networkInterfaces/" n
#define T_IPC(n, i) T_NIC(n) "/ipConfigurations/" i
#define T_NAT(n) T_LB "/inboundNatRules/" n

#endif /* SL_TEST_CONFIG_H */
