/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_config.h: the resource model and the configuration file.
 *
 * The configuration file is JSON holding resources in the shapes of
 * reference/azure-lb-model.md:
 *
 *   {
 *     "settings": { "maglevTableSize": 65537, "hashSeed": 1 },          (optional)
 *     "virtualNetworks": [ { "name", "id"?, "properties": {
 *         "addressSpace": { "addressPrefixes": ["10.0.0.0/16", ...] },
 *         "subnets": [ { "name", "properties": { "addressPrefix" } } ]?,
 *         "floatingIpDelivery": { "mode": "L2"|"IPinIP"|"GUE"|"VXLAN",
 *                                 "vni": N, "udpPort": N }? } } ],
 *     "loadBalancers": [ { "name", "id"?, "sku": { "name": "Standard"|"Basic" },
 *         "properties": { "frontendIPConfigurations", "backendAddressPools",
 *                         "loadBalancingRules", "probes"? } } ]
 *   }
 *
 * References ({"id": "..."}) are resolved by resource type and name,
 * case-insensitively, as Azure names are. The model is plain C, DPDK-free.
 */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "sl_error.h"
#include "sl_hash.h"
#include "sl_rewrite.h"
#include "sl_types.h"

#define SL_RES_NAME_MAX 81 /* Azure's 80 characters and the NUL */

/*
 * Limits. Where Azure has one (Standard SKU) it is Azure's; the others are
 * sluice's. Names: Azure allows 80 characters (name[] holds them and the NUL).
 */
#define SL_CONFIG_NAME_MAX_LEN (SL_RES_NAME_MAX - 1)
#define SL_CONFIG_MAX_ADDRESSES_PER_POOL 5000
#define SL_CONFIG_MAX_ADDRESSES_PER_LB 20000
#define SL_CONFIG_MAX_RULES_PER_LB 1500
#define SL_CONFIG_MAX_WEIGHT 1000
#define SL_CONFIG_MAX_FILE_SIZE (16u << 20) /* bytes sl_config_load() reads at most */
#define SL_CONFIG_MAGLEV_MIN_SIZE 7u
#define SL_CONFIG_MAGLEV_MAX_SIZE 16777213u /* largest prime below 2^24 */
#define SL_PROBE_PATH_MAX 256

struct sl_prefix {
	struct sl_ip_addr addr; /* network address, IPv4-mapped for IPv4 */
	uint8_t len;            /* prefix length in the 128-bit form (IPv4 /24 -> 120) */
};

struct sl_subnet {
	char name[SL_RES_NAME_MAX];
	struct sl_prefix prefix; /* lies inside one of the vnet's prefixes */
};

struct sl_vnet {
	char name[SL_RES_NAME_MAX];
	struct sl_prefix *prefixes;
	uint32_t n_prefixes;
	struct sl_subnet *subnets;
	uint32_t n_subnets;
	enum sl_delivery delivery; /* Floating IP delivery; default SL_DELIVERY_L2 */
	uint32_t vni;              /* VXLAN */
	uint16_t udp_port;         /* GUE/VXLAN destination port, host order */
};

struct sl_frontend {
	char name[SL_RES_NAME_MAX];
	struct sl_ip_addr addr;
	uint8_t family;
	int vnet; /* index into model->vnets from the subnet reference, -1 if none */
	int subnet; /* index into that vnet's subnets, -1 if none */
};

struct sl_address {
	char name[SL_RES_NAME_MAX];
	struct sl_ip_addr addr;
	uint8_t family;
	int vnet;        /* index into model->vnets */
	uint32_t weight; /* sluice extension "weight", default 1 */
};

struct sl_pool_cfg {
	char name[SL_RES_NAME_MAX];
	struct sl_address *addresses;
	uint32_t n_addresses;
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

struct sl_lb {
	char name[SL_RES_NAME_MAX];
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
};

struct sl_model {
	uint32_t maglev_size; /* prime; default SL_MAGLEV_DEFAULT_SIZE */
	uint32_t hash_seed;
	struct sl_vnet *vnets;
	uint32_t n_vnets;
	struct sl_lb *lbs;
	uint32_t n_lbs;
};

/*
 * Parse and validate configuration text. file_name is only used in errors.
 * Returns the model, or NULL with *err filled (code, message, target, file,
 * JSON path) and errno set to EINVAL (or ENOMEM).
 */
struct sl_model *sl_config_parse(const char *text, size_t len, const char *file_name,
				 struct sl_error *err);

/* Read and parse a file; NULL with *err filled (ConfigFileUnreadable when it cannot be read). */
struct sl_model *sl_config_load(const char *path, struct sl_error *err);

void sl_model_free(struct sl_model *m);

/* True when addr lies in one of the vnet's address prefixes. */
int sl_vnet_contains(const struct sl_vnet *v, const struct sl_ip_addr *addr);

#endif /* SL_CONFIG_H */
