/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_config.h: the resource model and the configuration file.
 *
 * The configuration file is JSON holding resources in the shapes of ARM's
 * Microsoft.Network resources (docs/configuration.md has the details):
 *
 *   {
 *     "settings": { "maglevTableSize": 65537, "hashSeed": 1,               (optional)
 *                   "maxAddressesPerPool": 5000, "maxAddressesPerLoadBalancer": 20000 },
 *     "virtualNetworks": [ { "name", "id"?, "properties": {
 *         "addressSpace": { "addressPrefixes": ["10.0.0.0/16", ...] },
 *         "subnets": [ { "name", "properties": { "addressPrefix" } } ]?,
 *         "floatingIpDelivery": { "mode": "L2"|"IPinIP"|"GUE"|"VXLAN",
 *                                 "vni": N, "udpPort": N }? } } ],
 *     "loadBalancers": [ { "name", "id"?, "sku": { "name": "Standard"|"Basic" },
 *         "properties": { "frontendIPConfigurations", "backendAddressPools",
 *                         "loadBalancingRules", "probes"?, "inboundNatRules"? } } ],
 *     "networkInterfaces": [ { "name", "id"?, "properties": { "macAddress"?,
 *         "ipConfigurations": [ { "name", "properties": { "privateIPAddress"?,
 *             "privateIPAllocationMethod"?, "privateIPAddressVersion"?, "primary"?,
 *             "subnet": {"id"}, "loadBalancerBackendAddressPools"?,
 *             "loadBalancerInboundNatRules"? } } ] } } ]
 *   }
 *
 * A top-level resource is identified by its scope (the subscription and
 * resource group of its "id") and its name: the same name in two resource
 * groups makes two resources. One without an "id" belongs to every scope,
 * so no other resource of its type may share its name. References
 * ({"id": "..."}) are resolved by resource type, scope (when the id has one)
 * and name, all case-insensitively, as Azure compares them; a reference
 * without a scope that names two resources is refused as ambiguous. The
 * model is plain C, DPDK-free.
 */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sl_dynamic_ip.h"
#include "sl_error.h"
#include "sl_hash.h"
#include "sl_path.h"
#include "sl_prefix.h"
#include "sl_rewrite.h"
#include "sl_types.h"

#define SL_ADDR_NAME_MAX (2 * SL_RES_NAME_MAX) /* "<nic>/<ipconfig>" and the NUL */
/* A label: "<name>", "<resourceGroup>:<name>" or "<subscription>:<resourceGroup>:<name>". */
#define SL_LABEL_MAX (2 * SL_RES_SCOPE_MAX + SL_RES_NAME_MAX)
/* A label of a pool member: "<address>" or "<nic label>/<ipconfig>". */
#define SL_ADDR_LABEL_MAX (SL_LABEL_MAX + SL_RES_NAME_MAX)

/*
 * Limits. Where Azure has one (Standard SKU) it is Azure's; the others are
 * sluice's. Names: Azure allows 80 characters (name[] holds them and the NUL).
 */
#define SL_CONFIG_NAME_MAX_LEN (SL_RES_NAME_MAX - 1)
#define SL_CONFIG_MAX_ADDRESSES_PER_POOL 5000
#define SL_CONFIG_MAX_DRAIN_PERIOD 3600 /* drainPeriodInSeconds, seconds */  /* default of settings.maxAddressesPerPool */
#define SL_CONFIG_MAX_ADDRESSES_PER_LB 20000   /* default of settings.maxAddressesPerLoadBalancer */
#define SL_CONFIG_POOL_LIMIT_MAX 65535         /* the largest maxAddressesPerPool */
#define SL_CONFIG_LB_LIMIT_MAX 1048576         /* the largest maxAddressesPerLoadBalancer */
#define SL_CONFIG_MAX_RULES_PER_LB 1500
#define SL_CONFIG_MAX_WEIGHT 1000
#define SL_CONFIG_MAX_FILE_SIZE (16u << 20) /* bytes sl_config_load() reads at most */
#define SL_CONFIG_MAGLEV_MIN_SIZE 7u
#define SL_CONFIG_MAGLEV_MAX_SIZE 16777213u /* largest prime below 2^24 */
#define SL_PROBE_PATH_MAX 256

/*
 * The scope of a top-level resource: the subscription and resource group of
 * its "id", both "" when it has none (it then belongs to every scope).
 */
struct sl_scope {
	char sub[SL_RES_SCOPE_MAX];
	char rg[SL_RES_SCOPE_MAX];
};

struct sl_subnet {
	char name[SL_RES_NAME_MAX];
	struct sl_prefix prefix; /* lies inside one of the vnet's prefixes */
};

struct sl_vnet {
	char name[SL_RES_NAME_MAX];
	struct sl_scope scope;
	struct sl_prefix *prefixes;
	uint32_t n_prefixes;
	struct sl_subnet *subnets;
	uint32_t n_subnets;
	enum sl_delivery delivery; /* Floating IP delivery; default SL_DELIVERY_L2 */
	uint32_t vni;              /* VXLAN */
	uint16_t udp_port;         /* GUE/VXLAN destination port, host order */
	uint16_t vlan_id;          /* vlanId: 802.1Q tag toward its backends; 0 = the port's */
};

struct sl_frontend {
	char name[SL_RES_NAME_MAX];
	struct sl_ip_addr addr;
	uint8_t family;
	int vnet; /* index into model->vnets from the subnet reference, -1 if none */
	int subnet; /* index into that vnet's subnets, -1 if none */
};

/*
 * A member of a pool. IP-based pools list them (loadBalancerBackendAddresses);
 * the members of a NIC-based pool are the NIC ipConfigurations that list the
 * pool, in document order of the NICs, named "<nic>/<ipconfig>" with weight 1.
 * A pool is one or the other, never both.
 */
/* A backend address's adminState (Azure): None follows probes, Up ignores them, Down takes no new flows. */
enum sl_admin_state {
	SL_ADMIN_NONE = 0,
	SL_ADMIN_UP = 1,
	SL_ADMIN_DOWN = 2,
};

struct sl_address {
	char name[SL_ADDR_NAME_MAX];
	struct sl_ip_addr addr;
	uint8_t family;
	uint8_t from_nic; /* 1: a NIC ipConfiguration that lists this pool (NIC-based pool) */
	int vnet;         /* index into model->vnets */
	uint32_t weight;  /* sluice extension "weight", default 1 */
	uint8_t admin_state; /* enum sl_admin_state: adminState None|Up|Down */
	/*
	 * from_nic: the member's NIC (index into model->nics) and ipConfiguration
	 * (index into its ipconfigs). IP-based: the NIC ipConfiguration that has
	 * this address in this vnet (Azure's read-only networkInterfaceIPConfiguration),
	 * -1 and -1 when none has.
	 */
	int nic;
	int ipconfig;
};

struct sl_pool_cfg {
	char name[SL_RES_NAME_MAX];
	struct sl_address *addresses;
	uint32_t n_addresses;
	uint32_t drain_period_s; /* drainPeriodInSeconds: 0 = none */
};

struct sl_rule_cfg {
	char name[SL_RES_NAME_MAX];
	int frontend; /* index into lb->frontends */
	int pool;     /* index into lb->pools */
	uint8_t proto;
	uint16_t frontend_port;
	uint16_t backend_port;
	enum sl_dist dist;
	uint8_t floating_ip;
	uint8_t idle_timeout_min;
	uint8_t enable_tcp_reset;
	int probe; /* index into lb->probes, -1 if none */
};

enum sl_probe_proto {
	SL_PROBE_TCP = 0,
	SL_PROBE_HTTP,
	SL_PROBE_HTTPS,
};

/* A health probe: parsed and validated, not acted on yet. */
struct sl_probe_cfg {
	char name[SL_RES_NAME_MAX];
	enum sl_probe_proto protocol;
	uint16_t port;
	uint32_t interval_s;       /* intervalInSeconds, >= 5, default 15 */
	uint32_t number_of_probes; /* numberOfProbes, >= 1, default 2 */
	uint32_t probe_threshold;  /* probeThreshold, >= 1, default 1 */
	char request_path[SL_PROBE_PATH_MAX]; /* Http/Https only; "" for Tcp */
};

/*
 * An inbound NAT rule. sl_compile() turns it into a pool of its own, holding
 * its one backend, and a rule on that pool (two, Tcp and Udp, for protocol
 * All) that the dataplane forwards like a load-balancing rule (see
 * control/sl_compile.c). Its backend (Azure's read-only
 * backendIPConfiguration) is the one NIC ipConfiguration that lists it in
 * loadBalancerInboundNatRules.
 */
struct sl_nat_rule_cfg {
	char name[SL_RES_NAME_MAX];
	int frontend; /* index into lb->frontends */
	uint8_t proto;
	uint16_t frontend_port; /* 1..65534 */
	uint16_t backend_port;  /* 1..65535, default frontend_port */
	uint8_t idle_timeout_min;
	uint8_t floating_ip;
	uint8_t enable_tcp_reset;
	int nic;      /* backendIPConfiguration: index into model->nics, -1 if none */
	int ipconfig; /* and into that NIC's ipconfigs, -1 if none */
};

/* A reference from a NIC ipConfiguration to a child of a load balancer. */
struct sl_lb_child_ref {
	int lb;  /* index into model->lbs */
	int idx; /* index into that load balancer's pools or nat_rules */
};

struct sl_nic_ipconfig {
	char name[SL_RES_NAME_MAX];
	struct sl_ip_addr addr; /* always set: Dynamic ones are assigned before validation */
	uint8_t family;
	uint8_t dynamic; /* privateIPAllocationMethod: 1 Dynamic, 0 Static */
	uint8_t primary;
	int vnet;   /* index into model->vnets, from the subnet reference */
	int subnet; /* index into that vnet's subnets */
	struct sl_lb_child_ref *pools; /* loadBalancerBackendAddressPools: idx into pools */
	uint32_t n_pools;
	struct sl_lb_child_ref *nat_rules; /* loadBalancerInboundNatRules: idx into nat_rules */
	uint32_t n_nat_rules;
};

/*
 * The label of a load balancer or network interface names it in what
 * sluice reports (counter and probe names, Prometheus labels, health): its
 * name, unless another resource of its type has the same name in another
 * scope; then "<resourceGroup>:<name>", or
 * "<subscription>:<resourceGroup>:<name>" when the resource groups are
 * named alike too.
 */
struct sl_nic {
	char name[SL_RES_NAME_MAX];
	struct sl_scope scope;
	char label[SL_LABEL_MAX];
	uint8_t has_mac;
	struct sl_mac mac; /* properties.macAddress when has_mac */
	struct sl_nic_ipconfig *ipconfigs;
	uint32_t n_ipconfigs;
};

struct sl_lb {
	char name[SL_RES_NAME_MAX];
	struct sl_scope scope;
	char label[SL_LABEL_MAX]; /* see struct sl_nic */
	int standard_sku;
	int vnet; /* the vnet of the frontends' subnets, -1 when no frontend names one */
	struct sl_frontend *frontends;
	uint32_t n_frontends;
	struct sl_pool_cfg *pools;
	uint32_t n_pools;
	struct sl_rule_cfg *rules;
	uint32_t n_rules;
	struct sl_probe_cfg *probes;
	uint32_t n_probes;
	struct sl_nat_rule_cfg *nat_rules;
	uint32_t n_nat_rules;
};

/* What validation keeps beside a model to change it in place (sl_config_parse.h). */
struct sl_model_index;

struct sl_model {
	uint32_t maglev_size; /* prime; default SL_MAGLEV_DEFAULT_SIZE */
	uint32_t hash_seed;
	uint32_t max_addresses_per_pool; /* settings.maxAddressesPerPool, default 5000 */
	uint32_t max_addresses_per_lb;   /* settings.maxAddressesPerLoadBalancer, default 20000 */
	struct sl_vnet *vnets;
	uint32_t n_vnets;
	struct sl_lb *lbs;
	uint32_t n_lbs;
	struct sl_nic *nics;
	uint32_t n_nics;
	/*
	 * Private to validation: the NIC ipConfigurations by (vnet, address),
	 * kept for changes made in place (sl_config_incr.h); NULL until built.
	 * Not part of what the model says (sl_model_equal() ignores it).
	 */
	struct sl_model_index *index;
};

/*
 * Validate an already parsed document (the REST API's way in) and build its
 * model; root is only read. doc_target (NULL: "configuration") is the target
 * of errors about the document as a whole. An ipConfiguration without
 * privateIPAddress is refused (MissingRequiredProperty): run
 * sl_config_assign_dynamic_ips() (sl_dynamic_ip.h) on a copy of the document first. Returns the
 * model, or NULL with *err filled (code, message, target, JSON path; file "")
 * and errno set to EINVAL (or ENOMEM: code OutOfMemory).
 */
struct sl_model *sl_config_from_json(const cJSON *root, const char *doc_target,
				     struct sl_error *err);

/*
 * Parse and validate configuration text: sl_json_parse(),
 * sl_config_assign_dynamic_ips() on the parsed tree (so a file may leave
 * privateIPAddress out; the address is then recomputed at every load), then
 * sl_config_from_json(). file_name is only used in errors. Returns the model,
 * or NULL with *err filled (code, message, target, file, JSON path) and errno
 * set to EINVAL (or ENOMEM).
 */
struct sl_model *sl_config_parse(const char *text, size_t len, const char *file_name,
				 struct sl_error *err);

/* Read and parse a file; NULL with *err filled (ConfigFileUnreadable when it cannot be read). */
struct sl_model *sl_config_load(const char *path, struct sl_error *err);

void sl_model_free(struct sl_model *m);

/* The scope an id begins with ("" and "" when none; id may be NULL). */
void sl_id_scope(const char *id, struct sl_scope *s);

/* Can a and b be the same scope? Yes when equal (case-insensitively) or when either is "". */
bool sl_scope_match(const struct sl_scope *a, const struct sl_scope *b);

/*
 * The load balancer of the model named name in scope (sub, rg), as a REST
 * path names it (a load balancer without an id is in every scope); NULL
 * when there is none.
 */
const struct sl_lb *sl_model_find_lb(const struct sl_model *m, const char *sub, const char *rg,
				     const char *name);

/* The label of pool member a (sl_address.name, or "<nic label>/<ipconfig>" for a NIC member). */
void sl_address_label(const struct sl_model *m, const struct sl_address *a, char *buf,
		      size_t len);

/*
 * The identity key of a top-level resource, for keys that must not change
 * when labels do: its name, or "@<subscription>/<resourceGroup>/<name>"
 * when it has a scope (names never begin with '@' nor hold '/').
 */
void sl_scope_key(const struct sl_scope *s, const char *name, char *buf, size_t len);

/* True when addr lies in one of the vnet's address prefixes. */
int sl_vnet_contains(const struct sl_vnet *v, const struct sl_ip_addr *addr);

#endif /* SL_CONFIG_H */
