/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_config_parse.h: what the parts of configuration validation share
 * (private to sl_config.c, sl_config_vnet.c, sl_config_lb.c,
 * sl_config_nic.c, sl_config_incr.c and sl_dynamic_ip.c).
 *
 * Each resource is read through the sl_json.h reader kit; errors follow
 * sl_config.c's rules (a code, the resource as target, the JSON path of the
 * value). The resource families are validated in document order, each
 * against the model built so far: sl_parse_vnet() for every virtual network,
 * sl_parse_lb() for every load balancer, then sl_parse_nics() once for all
 * network interfaces.
 *
 * A change to one pool or rule of a load balancer is validated in place
 * (sl_config_incr.c) by the same per-pool and per-rule parsers and checks,
 * run against the committed model instead of the model being built.
 */
#ifndef SL_CONFIG_PARSE_H
#define SL_CONFIG_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "sl_config.h"
#include "sl_json.h"
#include "sl_name_index.h"

#define SL_CFG_DEFAULT_IDLE_MIN 4
#define SL_CFG_MIN_IDLE_MIN 4
#define SL_CFG_MAX_IDLE_MIN 30
#define SL_CFG_MAX_FRONTEND_PORT 65534
#define SL_CFG_MAX_VNI 16777215
#define SL_CFG_DEFAULT_PROBE_INTERVAL 15
#define SL_CFG_MIN_PROBE_INTERVAL 5
#define SL_CFG_DEFAULT_NUMBER_OF_PROBES 2
#define SL_CFG_DEFAULT_PROBE_THRESHOLD 1

/* A resource being read: its object, its properties, its target, its id's scope. */
struct sl_res {
	char target[SL_JSON_TARGET_MAX];
	char props_path[SL_JSON_PATH_MAX];
	struct sl_where self;
	struct sl_where props;
	struct sl_scope scope; /* "" and "" when it has no id or its id no scope */
};

/*
 * A reference id split into its last "<type>/<name>", the parent's name and
 * the scope it begins with ("/subscriptions/{sub}/resourceGroups/{rg}").
 */
struct sl_ref {
	char parent[SL_RES_NAME_MAX]; /* "" when the id names no parent */
	char name[SL_RES_NAME_MAX];
	struct sl_scope scope; /* "" and "" when the id has none: it names any scope */
};

/*
 * How every top-level resource (struct sl_vnet, sl_lb, sl_nic) begins;
 * sl_config.c asserts it. Load balancers and network interfaces have their
 * label next.
 */
struct sl_top_head {
	char name[SL_RES_NAME_MAX];
	struct sl_scope scope;
};

/* Which top-level resource of base[0..n) a reference resolves to. */
enum {
	SL_TOP_NONE = -1,      /* none has the name in the scope */
	SL_TOP_AMBIGUOUS = -2, /* a reference without scope: several have the name */
};

/* A list of the document being read into the model (the sl_json_parse_list() context). */
struct sl_cfg_list {
	struct sl_error *err;
	struct sl_model *m;
};

/* A load balancer being read (sl_config_lb.c) or changed in place (sl_config_incr.c). */
struct sl_lb_ctx {
	struct sl_error *err;
	struct sl_model *m;
	struct sl_lb *lb;
	uint32_t lb_index;
	const char *target; /* "loadBalancers/<name>" */
};

/* A NIC ipConfiguration by (vnet, address). */
struct sl_ipc_key {
	struct sl_ip_addr addr;
	int vnet;
	uint32_t nic, ic;
	uint32_t order; /* document order */
};

/*
 * struct sl_model's index (sl_config.h), so that no lookup of validation
 * walks a top-level collection: made with the model.
 */
struct sl_model_index {
	struct sl_ipc_key *ipc; /* every NIC ipConfiguration, by (vnet, address, order) */
	uint32_t n_ipc;
	/* the virtual networks and load balancers by name (value: index), once all are read */
	bool vnets_named, lbs_named;
	struct sl_name_index vnet_names, lb_names;
	/* while validating: each frontend address read, with the first load balancer (index) using it */
	struct sl_name_index fe_addrs;
};

/* An address as a key of a struct sl_name_index: its 16 bytes in hex. */
#define SL_ADDR_KEY_LEN 33
void sl_addr_key(const struct sl_ip_addr *a, char key[SL_ADDR_KEY_LEN]);

/* The names of the top-level resources base[0..n) (see sl_find_top()) into names. -ENOMEM. */
int sl_top_names(struct sl_name_index *names, const void *base, size_t stride, uint32_t n);

/* m's virtual networks and load balancers by name, or NULL (not all read, or no index). */
static inline const struct sl_name_index *
sl_vnet_names(const struct sl_model *m)
{
	return m->index != NULL && m->index->vnets_named ? &m->index->vnet_names : NULL;
}

static inline const struct sl_name_index *
sl_lb_names(const struct sl_model *m)
{
	return m->index != NULL && m->index->lbs_named ? &m->index->lb_names : NULL;
}

/*
 * The first load balancer of m (index) with a frontend of address a, that
 * frontend's index in *k; -1 when none. Frontends count once read (through
 * sl_frontend_read()).
 */
int sl_frontend_in_use(const struct sl_model *m, const struct sl_ip_addr *a, uint32_t *k);
/* Frontend address a of load balancer li is read. -ENOMEM. */
int sl_frontend_read(struct sl_model *m, const struct sl_ip_addr *a, uint32_t li);

/* Allocate n zeroed elements for an array member (a real allocation for 0 too). */
static inline void *
sl_cfg_calloc(uint32_t n, size_t size)
{
	return calloc(n == 0 ? 1 : n, size);
}

/* The number of elements of array a; 0 for NULL. */
static inline uint32_t
sl_array_size(const cJSON *a)
{
	return a != NULL ? (uint32_t)cJSON_GetArraySize(a) : 0;
}

/* "IPv4" or "IPv6". */
const char *sl_family_name(uint8_t family);

/* Unspecified, broadcast, multicast and reserved (240/4) addresses serve nothing. */
bool sl_ip_unusable(const struct sl_ip_addr *a);

/* Index of the element of base[0..n) (name first in each) named name (case-insensitively), or -1. */
int sl_find_name(const void *base, size_t stride, uint32_t n, const char *name);

/*
 * The index of the first address of addrs[0..n) whose IP repeats an earlier
 * one's; -1 when all differ; -ENOMEM.
 */
int64_t sl_first_dup_address(const struct sl_address *addrs, uint32_t n);

/*
 * Split a resource id at its last "<type>/<name>" pair (type matched
 * case-insensitively); see sl_config.c. Returns 0 or -EINVAL.
 */
int sl_ref_split(const char *id, const char *parent_type, const char *type, struct sl_ref *r);

/*
 * The index of the top-level resource of base[0..n) (stride bytes apart,
 * each beginning as struct sl_top_head) named name in scope want (all
 * case-insensitively); want "" matches any scope. SL_TOP_NONE, or
 * SL_TOP_AMBIGUOUS when want is "" and several have the name. Through
 * names (sl_top_names() of base) when not NULL, else by a walk.
 */
int sl_find_top(const void *base, size_t stride, uint32_t n, const struct sl_name_index *names,
		const char *name, const struct sl_scope *want);

/*
 * After a top-level collection coll (array path path) is read: no two of
 * its resources may be one (the same name in scopes that match:
 * DuplicateResourceName), and when labels is true each gets its label
 * (struct sl_nic) right after its scope.
 */
int sl_check_top(struct sl_error *e, void *base, size_t stride, uint32_t n, const char *coll,
		 const char *path, bool labels);

/*
 * The error of a reference (id at idpath, of w) to a `what` ("Virtual
 * network", "Load balancer") that resolved to rc: InvalidResourceReference
 * for SL_TOP_NONE, AmbiguousResourceReference for SL_TOP_AMBIGUOUS; ref is
 * the split id.
 */
int sl_ref_error(const struct sl_where *w, const char *idpath, const char *id, const char *what,
		 const struct sl_ref *ref, int rc);

/* sl_where_ip() that also refuses addresses that serve nothing (sl_ip_unusable()). */
int sl_cfg_ip(const struct sl_where *w, const char *key, bool required, struct sl_ip_addr *a,
	      uint8_t *family);

/* privateIPAddressVersion: 1 with *f (and the text in *ver), 0 when absent, < 0 on error. */
int sl_where_ip_version(const struct sl_where *w, const char **ver, uint8_t *f);

/* InvalidAddressPrefix for text, which sl_prefix_parse() refused with rc (p its result). */
int sl_prefix_error(struct sl_error *e, const char *target, const char *path, const char *text,
		    int rc, const struct sl_prefix *p);

/*
 * References ({"id": ...} members of w) resolved against the model: a
 * virtual network, a subnet (idpath receives the id's JSON path), or a child
 * of type `type` (`what` in messages) of load balancer lb, an index into
 * base[0..n). 1 when resolved, 0 when absent and not required, < 0 on error
 * (InvalidResourceReference).
 */
int sl_resolve_vnet(const struct sl_where *w, const char *key, bool required,
		    const struct sl_model *m, int *vnet);
int sl_resolve_subnet(const struct sl_where *w, const char *key, bool required,
		      const struct sl_model *m, int *vnet, int *subnet, char *idpath);
int sl_resolve_lb_child(const struct sl_where *w, const char *key, bool required,
			const struct sl_lb *lb, const char *type, const char *what,
			const void *base, size_t stride, uint32_t n, int *idx);

/*
 * Open a resource: node must be an object with a valid "name" (copied to
 * name, SL_RES_NAME_MAX bytes), an "id" (if any) naming it as a child
 * `coll` of parent_type/parent_name, and optional "properties".
 */
int sl_res_open(struct sl_res *r, struct sl_error *e, const cJSON *node, const char *path,
		const char *parent_target, const char *parent_type, const char *parent_name,
		const char *coll, char *name);

/* Per-element parsers for sl_json_parse_list(); ctx is a struct sl_cfg_list. */
int sl_parse_vnet(void *ctx, void *vnet, uint32_t i, const cJSON *node, const char *path);
int sl_parse_lb(void *ctx, void *lb, uint32_t i, const cJSON *node, const char *path);

/*
 * One backend pool and one load-balancing rule of c->lb (sl_json_parse_list()
 * parsers; ctx is a struct sl_lb_ctx): the element's own checks, against
 * the load balancer's frontends, probes and pools as c->lb has them. A
 * rule's backends are checked against the pool's addresses as they stand
 * (sl_check_rule_families()).
 */
int sl_parse_pool(void *ctx, void *pool, uint32_t i, const cJSON *node, const char *path);
int sl_parse_rule(void *ctx, void *rule, uint32_t i, const cJSON *node, const char *path);

/*
 * Can a rule (Floating IP or not) on a frontend of family fe_family deliver
 * to a backend of family family in virtual network vnet? The same family
 * always; the other only by Floating IP over GUE or VXLAN.
 */
bool sl_rule_reaches(const struct sl_model *m, uint8_t floating_ip, uint8_t fe_family,
		     uint8_t family, int vnet);

/* Every address of pool reachable by rule (BackendAddressIPVersionMismatch); path is the rule's. */
int sl_check_rule_families(const struct sl_lb_ctx *c, const struct sl_rule_cfg *rule,
			   const struct sl_pool_cfg *pool, const char *target, const char *path);

/*
 * Two load-balancing rules of c->lb, a before b in the document: frontend,
 * protocol and port, and backend port, protocol and pool
 * (RulesUseSameFrontendIPConfigurationProtocolAndPort,
 * RulesOfSameLoadBalancerTypeUseSameBackendPortProtocolAndIPConfig).
 * target and props_path are b's.
 */
int sl_check_rule_pair(const struct sl_lb_ctx *c, const struct sl_rule_cfg *a,
		       const struct sl_rule_cfg *b, const char *target, const char *props_path);

/* A load-balancing rule a against inbound NAT rule b (target and path: b's frontendPort). */
int sl_check_nat_pair(const struct sl_lb_ctx *c, const struct sl_rule_cfg *a,
		      const struct sl_nat_rule_cfg *b, const char *target, const char *path);

/*
 * The limits a load balancer's child collections obey: children only with
 * a frontend (n_frontends, n_children), at most SL_CONFIG_MAX_RULES_PER_LB
 * rules (n_rules; rpath the rules array), and all its pools' addresses
 * within settings.maxAddressesPerLoadBalancer (ppath the pools array).
 */
int sl_check_lb_children(const struct sl_lb_ctx *c, const char *props_path,
			 uint32_t n_frontends, uint32_t n_children);
int sl_check_rule_count(const struct sl_lb_ctx *c, uint32_t n_rules, const char *rpath);
int sl_check_lb_addresses(const struct sl_lb_ctx *c, const char *ppath);

/*
 * A pool that lists addresses cannot take NIC ipConfigurations: the error
 * (CannotMixIPBasedAddressesAndIPConfigurationsOnLoadBalancerBackendAddressPool)
 * for pool of lb, blaming target at path.
 */
int sl_pool_mix_error(struct sl_error *e, const char *target, const char *path,
		      const struct sl_lb *lb, const struct sl_pool_cfg *pool);

/*
 * m->index from m's network interfaces (replacing any): 0 or -ENOMEM. The
 * keys are not checked for repeats (validation does that).
 */
int sl_model_index_build(struct sl_model *m);

/* An IP-based pool address learns the NIC ipConfiguration with its address in its vnet (m->index). */
void sl_link_address(const struct sl_model *m, struct sl_address *a);

/* All network interfaces (nics: the array, NULL for none; npath its path), after the load balancers. */
int sl_parse_nics(struct sl_error *e, struct sl_model *m, const cJSON *nics, const char *npath);

#endif /* SL_CONFIG_PARSE_H */
