/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_config_nic.c: validation of network interfaces and their
 * ipConfigurations, after the load balancers: addresses inside their
 * subnets and unique within a virtual network, membership of NIC-based
 * backend pools (with the pool and load balancer limits counted as members
 * join), the one backend of each inbound NAT rule, and the NIC-based pools
 * filled after the last NIC. See sl_config.c for the rules every resource
 * follows.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "sl_config_parse.h"

/* The NIC pass: NIC-based members counted per pool and per load balancer. */
struct sl_nic_ctx {
	struct sl_error *err;
	struct sl_model *m;
	uint32_t *pool_base;  /* per load balancer: index of its first pool in members[] */
	uint32_t *members;    /* per pool of every load balancer: NIC members so far */
	uint64_t *lb_members; /* per load balancer: pool addresses and NIC members so far */
};

/* A NIC ipConfiguration being read. */
struct sl_ipc_ctx {
	const struct sl_nic_ctx *n;
	const struct sl_nic *nic;
	const struct sl_nic_ipconfig *ic;
	uint32_t nic_index, ic_index;
	const char *target;
};

/*
 * The references under key: one reference object {"id"} or an array of
 * them (the seed writes loadBalancerBackendAddressPools as one object).
 * *list receives the value, *n the count (0 when absent).
 */
static int
sl_where_ref_list(const struct sl_where *w, const char *key, const cJSON **list, uint32_t *n,
	      char *pathbuf)
{
	const cJSON *v = sl_where_member(w, key);

	sl_json_path_key(pathbuf, w->path, key);
	*list = v;
	*n = 0;
	if (v == NULL)
		return 0;
	if (cJSON_IsObject(v))
		*n = 1;
	else if (cJSON_IsArray(v))
		*n = sl_array_size(v);
	else
		return sl_where_type_error(w, key, v, "a reference {\"id\": ...} or an array of them");
	return 1;
}

/* The id of reference i of such a list (lpath its path); idpath receives the id's path. */
static int
sl_ref_list_id(const struct sl_where *w, const cJSON *list, const char *lpath, uint32_t i,
	       const char **id, char *idpath)
{
	char epath[SL_JSON_PATH_MAX];
	struct sl_where ref;
	const cJSON *el;
	int rc;

	if (cJSON_IsObject(list)) {
		el = list;
		snprintf(epath, sizeof(epath), "%s", lpath);
	} else {
		el = cJSON_GetArrayItem(list, (int)i);
		sl_json_path_index(epath, lpath, i);
	}
	sl_json_path_key(idpath, epath, "id");
	rc = sl_json_check_object(w->err, el, epath, w->target);
	if (rc < 0)
		return rc;
	ref = *w;
	ref.path = epath;
	ref.obj = el;
	return sl_where_string(&ref, "id", true, id);
}

/* A pool (nat false) or inbound NAT rule (nat true) of any load balancer, by id. */
static int
sl_resolve_nic_ref(const struct sl_where *w, const struct sl_model *m, const char *id,
		   const char *idpath, bool nat, struct sl_lb_child_ref *out)
{
	const char *type = nat ? "inboundNatRules" : "backendAddressPools";
	const char *what = nat ? "inbound NAT rule" : "backend address pool";
	const struct sl_lb *lb;
	struct sl_ref ref;
	int li, i;

	if (sl_ref_split(id, "loadBalancers", type, &ref) < 0 || ref.parent[0] == '\0')
		return sl_error_set(w->err, "InvalidResourceReference", w->target, idpath,
				    "'%s' is not a %s id (.../loadBalancers/{lb}/%s/{name}).", id, what,
				    type);
	li = sl_find_top(m->lbs, sizeof(*m->lbs), m->n_lbs, sl_lb_names(m), ref.parent, &ref.scope);
	if (li < 0)
		return sl_ref_error(w, idpath, id, "Load balancer", &ref, li);
	lb = &m->lbs[li];
	if (nat)
		i = sl_find_name(lb->nat_rules, sizeof(*lb->nat_rules), lb->n_nat_rules, ref.name);
	else
		i = sl_find_name(lb->pools, sizeof(*lb->pools), lb->n_pools, ref.name);
	if (i < 0)
		return sl_error_set(w->err, "InvalidResourceReference", w->target, idpath,
				    "Load balancer '%s' has no %s '%s'.", lb->name, what, ref.name);
	out->lb = li;
	out->idx = i;
	return 0;
}

/* A backend of load balancer lb must be in its vnet, when it has one. */
static int
sl_ipc_check_lb_vnet(const struct sl_ipc_ctx *x, const struct sl_lb *lb, const char *idpath)
{
	const struct sl_model *m = x->n->m;

	if (lb->vnet < 0 || x->ic->vnet == lb->vnet)
		return 0;
	return sl_error_set(x->n->err, "BackendAddressVirtualNetworkMismatch", x->target, idpath,
			    "ipConfiguration '%s/%s' is in virtual network '%s' but load balancer '%s' is in '%s'; its backends must be in the load balancer's virtual network.",
			    x->nic->name, x->ic->name, m->vnets[x->ic->vnet].name, lb->name,
			    m->vnets[lb->vnet].name);
}

int
sl_pool_mix_error(struct sl_error *e, const char *target, const char *path,
		  const struct sl_lb *lb, const struct sl_pool_cfg *pool)
{
	return sl_error_set(e,
			    "CannotMixIPBasedAddressesAndIPConfigurationsOnLoadBalancerBackendAddressPool",
			    target, path,
			    "Pool '%s' of load balancer '%s' lists loadBalancerBackendAddresses (IP-based), so NIC ipConfigurations cannot join it; a pool is filled by one or the other.",
			    pool->name, lb->name);
}

/* The ipConfiguration joins NIC-based pool ref; idpath is the reference's id. */
static int
sl_ipc_join_pool(const struct sl_ipc_ctx *x, const struct sl_lb_child_ref *ref,
		 const char *idpath)
{
	const struct sl_nic_ctx *n = x->n;
	const struct sl_model *m = n->m;
	const struct sl_lb *lb = &m->lbs[ref->lb];
	const struct sl_pool_cfg *pool = &lb->pools[ref->idx];
	const struct sl_nic_ipconfig *ic = x->ic;
	uint32_t *cnt = &n->members[n->pool_base[ref->lb] + (uint32_t)ref->idx];
	uint32_t i;
	int rc;

	/* NIC members are added after the last NIC: addresses here are IP-based ones. */
	if (pool->n_addresses > 0)
		return sl_pool_mix_error(n->err, x->target, idpath, lb, pool);
	rc = sl_ipc_check_lb_vnet(x, lb, idpath);
	if (rc < 0)
		return rc;
	if (*cnt + 1 > m->max_addresses_per_pool)
		return sl_error_set(n->err, "BackendAddressPoolSizeLimitExceeded", x->target, idpath,
				    "Pool '%s' of load balancer '%s' would have %u members with this ipConfiguration; a pool holds at most %u (settings.maxAddressesPerPool).",
				    pool->name, lb->name, *cnt + 1, m->max_addresses_per_pool);
	if (n->lb_members[ref->lb] + 1 > m->max_addresses_per_lb)
		return sl_error_set(n->err, "LoadBalancerBackendAddressLimitExceeded", x->target,
				    idpath,
				    "Load balancer '%s' would have %llu backend addresses across its pools with this ipConfiguration; the limit is %u (settings.maxAddressesPerLoadBalancer).",
				    lb->name, (unsigned long long)n->lb_members[ref->lb] + 1,
				    m->max_addresses_per_lb);
	if (*cnt + 1 > m->maglev_size)
		return sl_error_set(n->err, "InvalidMaglevTableSize", x->target, idpath,
				    "Pool '%s' of load balancer '%s' would have %u members with this ipConfiguration but settings.maglevTableSize is %u; the table needs at least a slot per member.",
				    pool->name, lb->name, *cnt + 1, m->maglev_size);
	for (i = 0; i < lb->n_rules; i++) {
		const struct sl_rule_cfg *rule = &lb->rules[i];
		const struct sl_frontend *fe = &lb->frontends[rule->frontend];

		if (rule->pool != ref->idx ||
		    sl_rule_reaches(m, rule->floating_ip, fe->family, ic->family, ic->vnet))
			continue;
		return sl_error_set(n->err, "BackendAddressIPVersionMismatch", x->target, idpath,
				    "Rule '%s' of load balancer '%s' sends %s frontend '%s' to pool '%s' by %s, which needs %s backends, but this ipConfiguration is %s.",
				    rule->name, lb->name, sl_family_name(fe->family), fe->name,
				    pool->name,
				    rule->floating_ip ? sl_delivery_name(m->vnets[ic->vnet].delivery) :
							"DNAT",
				    sl_family_name(fe->family), sl_family_name(ic->family));
	}
	(*cnt)++;
	n->lb_members[ref->lb]++;
	return 0;
}

/* The ipConfiguration becomes the backend of inbound NAT rule ref. */
static int
sl_ipc_take_nat_rule(const struct sl_ipc_ctx *x, const struct sl_lb_child_ref *ref,
		     const char *idpath)
{
	struct sl_model *m = x->n->m;
	const struct sl_lb *lb = &m->lbs[ref->lb];
	struct sl_nat_rule_cfg *nr = &lb->nat_rules[ref->idx];
	const struct sl_frontend *fe = &lb->frontends[nr->frontend];
	int rc;

	if (nr->nic >= 0)
		return sl_error_set(x->n->err, "InboundNatRuleReferencedByMultipleIpConfigurations",
				    x->target, idpath,
				    "Inbound NAT rule '%s' of load balancer '%s' already has ipConfiguration '%s/%s' as its backend; at most one ipConfiguration can use an inbound NAT rule.",
				    nr->name, lb->name, m->nics[nr->nic].name,
				    m->nics[nr->nic].ipconfigs[nr->ipconfig].name);
	rc = sl_ipc_check_lb_vnet(x, lb, idpath);
	if (rc < 0)
		return rc;
	if (!sl_rule_reaches(m, nr->floating_ip, fe->family, x->ic->family, x->ic->vnet))
		return sl_error_set(x->n->err, "BackendAddressIPVersionMismatch", x->target, idpath,
				    "Inbound NAT rule '%s' of load balancer '%s' sends %s frontend '%s' by %s, which needs an %s backend, but this ipConfiguration is %s.",
				    nr->name, lb->name, sl_family_name(fe->family), fe->name,
				    nr->floating_ip ?
					    sl_delivery_name(m->vnets[x->ic->vnet].delivery) :
					    "DNAT",
				    sl_family_name(fe->family), sl_family_name(x->ic->family));
	nr->nic = (int)x->nic_index;
	nr->ipconfig = (int)x->ic_index;
	return 0;
}

/*
 * loadBalancerBackendAddressPools (nat false) or loadBalancerInboundNatRules
 * (nat true) of an ipConfiguration: resolve, refuse repeats, join.
 */
static int
sl_ipc_refs(const struct sl_ipc_ctx *x, const struct sl_where *props, bool nat,
	    struct sl_lb_child_ref **out, uint32_t *n_out)
{
	const char *key = nat ? "loadBalancerInboundNatRules" : "loadBalancerBackendAddressPools";
	char lpath[SL_JSON_PATH_MAX], idpath[SL_JSON_PATH_MAX];
	const struct sl_model *m = x->n->m;
	struct sl_lb_child_ref ref;
	const cJSON *list;
	const char *id;
	uint32_t cnt, k, j;
	int rc;

	rc = sl_where_ref_list(props, key, &list, &cnt, lpath);
	if (rc < 0)
		return rc;
	*out = sl_cfg_calloc(cnt, sizeof(**out));
	if (*out == NULL)
		return sl_json_nomem(x->n->err, x->target, lpath);
	for (k = 0; k < cnt; k++) {
		rc = sl_ref_list_id(props, list, lpath, k, &id, idpath);
		if (rc < 0)
			return rc;
		rc = sl_resolve_nic_ref(props, m, id, idpath, nat, &ref);
		if (rc < 0)
			return rc;
		for (j = 0; j < k; j++) {
			if ((*out)[j].lb != ref.lb || (*out)[j].idx != ref.idx)
				continue;
			return sl_error_set(x->n->err, "InvalidRequestFormat", x->target, idpath,
					    "%s: ipConfiguration '%s/%s' lists %s '%s' of load balancer '%s' more than once.",
					    nat ? "DuplicateIpConfigurationReferenceOnInboundNatRule" :
						  "DuplicateIpConfigurationReferenceOnBackendAddressPool",
					    x->nic->name, x->ic->name,
					    nat ? "inbound NAT rule" : "pool",
					    nat ? m->lbs[ref.lb].nat_rules[ref.idx].name :
						  m->lbs[ref.lb].pools[ref.idx].name,
					    m->lbs[ref.lb].name);
		}
		rc = nat ? sl_ipc_take_nat_rule(x, &ref, idpath) : sl_ipc_join_pool(x, &ref, idpath);
		if (rc < 0)
			return rc;
		(*out)[k] = ref;
		*n_out = k + 1;
	}
	return 0;
}

/* A network interface being read. */
struct sl_nic_read {
	const struct sl_nic_ctx *n;
	struct sl_nic *nic;
	uint32_t nic_index;
	const char *target; /* "networkInterfaces/<name>" */
};

static int
sl_parse_ipconfig(void *ctx, void *item, uint32_t ci, const cJSON *node, const char *path)
{
	const struct sl_nic_read *nr = ctx;
	const struct sl_nic_ctx *n = nr->n;
	struct sl_nic *nic = nr->nic;
	uint32_t ni = nr->nic_index;
	struct sl_nic_ipconfig *ic = item;
	const struct sl_model *m = n->m;
	char p[SL_JSON_PATH_MAX], idpath[SL_JSON_PATH_MAX], ip[64];
	const struct sl_subnet *sn;
	const char *ver, *method;
	struct sl_ipc_ctx x;
	struct sl_res r;
	uint8_t vf = SL_AF_NONE, sf;
	uint32_t k;
	int li;
	bool has_addr;
	int rc;

	ic->vnet = -1;
	ic->subnet = -1;
	rc = sl_res_open(&r, n->err, node, path, nr->target, "networkInterfaces", nic->name,
			 "ipConfigurations", ic->name);
	if (rc < 0)
		return rc;
	rc = sl_cfg_ip(&r.props, "privateIPAddress", false, &ic->addr, &ic->family);
	if (rc < 0)
		return rc;
	has_addr = rc > 0;
	rc = sl_where_ip_version(&r.props, &ver, &vf);
	if (rc < 0)
		return rc;
	rc = sl_where_string(&r.props, "privateIPAllocationMethod", false, &method);
	if (rc < 0)
		return rc;
	if (rc > 0 && strcasecmp(method, "Static") == 0) {
		ic->dynamic = 0;
	} else if (rc > 0 && strcasecmp(method, "Dynamic") == 0) {
		ic->dynamic = 1;
	} else if (rc > 0) {
		sl_json_path_key(p, r.props.path, "privateIPAllocationMethod");
		return sl_error_set(n->err, "InvalidPropertyValue", r.target, p,
				    "privateIPAllocationMethod '%s' is not Static or Dynamic.", method);
	} else {
		ic->dynamic = !has_addr;
	}
	rc = sl_where_bool(&r.props, "primary", &ic->primary);
	if (rc < 0)
		return rc;
	rc = sl_resolve_subnet(&r.props, "subnet", true, m, &ic->vnet, &ic->subnet, idpath);
	if (rc < 0)
		return rc;
	sn = &m->vnets[ic->vnet].subnets[ic->subnet];
	sf = sl_prefix_is_v4(&sn->prefix) ? SL_AF_IPV4 : SL_AF_IPV6;

	if (vf != SL_AF_NONE && vf != (has_addr ? ic->family : sf)) {
		sl_json_path_key(p, r.props.path, "privateIPAddressVersion");
		if (has_addr)
			return sl_error_set(n->err, "PrivateIPAddressVersionMismatch", r.target, p,
					    "privateIPAddressVersion is %s but privateIPAddress is an %s address.",
					    ver, sl_family_name(ic->family));
		return sl_error_set(n->err, "PrivateIPAddressVersionMismatch", r.target, p,
				    "privateIPAddressVersion is %s but subnet '%s' is an %s subnet.", ver,
				    sn->name, sl_family_name(sf));
	}
	sl_json_path_key(p, r.props.path, "privateIPAddress");
	if (!has_addr)
		return sl_error_set(n->err, "MissingRequiredProperty", r.target, p,
				    "ipConfiguration '%s' has no privateIPAddress: %s", ic->name,
				    ic->dynamic ?
					    "a Dynamic address is assigned by sl_config_assign_dynamic_ips() before validation, as the REST API and configuration files do." :
					    "Static allocation needs one.");
	sl_ip_addr_format(&ic->addr, ip, sizeof(ip));
	if (!sl_prefix_contains(&sn->prefix, &ic->addr))
		return sl_error_set(n->err, "PrivateIPAddressNotInSubnet", r.target, p,
				    "privateIPAddress %s is not inside subnet '%s' of virtual network '%s'.",
				    ip, sn->name, m->vnets[ic->vnet].name);
	li = sl_frontend_in_use(m, &ic->addr, &k);
	if (li >= 0)
		return sl_error_set(n->err, "PrivateIPAddressInUse", r.target, p,
				    "%s is already used by frontend loadBalancers/%s/frontendIPConfigurations/%s.",
				    ip, m->lbs[li].name, m->lbs[li].frontends[k].name);

	x.n = n;
	x.nic = nic;
	x.ic = ic;
	x.nic_index = ni;
	x.ic_index = ci;
	x.target = r.target;
	rc = sl_ipc_refs(&x, &r.props, false, &ic->pools, &ic->n_pools);
	if (rc < 0)
		return rc;
	return sl_ipc_refs(&x, &r.props, true, &ic->nat_rules, &ic->n_nat_rules);
}

static int
sl_parse_nic(void *ctx, void *item, uint32_t ni, const cJSON *node, const char *path)
{
	const struct sl_nic_ctx *n = ctx;
	struct sl_nic *nic = item;
	char p[SL_JSON_PATH_MAX], ipath[SL_JSON_PATH_MAX];
	struct sl_nic_read nr;
	const cJSON *arr;
	struct sl_res r;
	uint32_t i, primaries = 0;
	const char *s;
	int rc;

	rc = sl_res_open(&r, n->err, node, path, NULL, NULL, NULL, "networkInterfaces", nic->name);
	if (rc < 0)
		return rc;
	nic->scope = r.scope;
	rc = sl_where_string(&r.props, "macAddress", false, &s);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		if (sl_mac_parse(s, &nic->mac) < 0) {
			sl_json_path_key(p, r.props.path, "macAddress");
			return sl_error_set(n->err, "InvalidPropertyValue", r.target, p,
					    "macAddress '%s' is not a MAC address such as 00-0D-3A-12-34-56 or 00:0d:3a:12:34:56.",
					    s);
		}
		nic->has_mac = 1;
	}
	rc = sl_where_array(&r.props, "ipConfigurations", true, &arr, ipath);
	if (rc < 0)
		return rc;
	if (sl_array_size(arr) == 0)
		return sl_error_set(n->err, "MissingRequiredProperty", r.target, ipath,
				    "'ipConfigurations' must list at least one IP configuration.");
	nr.n = n;
	nr.nic = nic;
	nr.nic_index = ni;
	nr.target = r.target;
	rc = sl_json_parse_list(n->err, arr, ipath, r.target, "ipConfigurations",
				sizeof(*nic->ipconfigs), (void **)&nic->ipconfigs, &nic->n_ipconfigs,
				sl_parse_ipconfig, &nr);
	if (rc < 0)
		return rc;
	for (i = 0; i < nic->n_ipconfigs; i++)
		primaries += nic->ipconfigs[i].primary;
	if (nic->n_ipconfigs == 1) {
		nic->ipconfigs[0].primary = 1; /* the only one is the primary, as in Azure */
	} else if (primaries != 1) {
		return sl_error_set(n->err, "NetworkInterfaceMustHaveOneOneIPConfigAsPrimary", r.target,
				    ipath,
				    "Network interface '%s' has %u ipConfigurations and %u of them are primary; exactly one must be.",
				    nic->name, nic->n_ipconfigs, primaries);
	}
	return 0;
}

static int
sl_cmp_ipc_key_addr(const void *pa, const void *pb)
{
	const struct sl_ipc_key *a = pa, *b = pb;

	if (a->vnet != b->vnet)
		return a->vnet < b->vnet ? -1 : 1;
	return memcmp(a->addr.bytes, b->addr.bytes, sizeof(a->addr.bytes));
}

static int
sl_cmp_ipc_key(const void *pa, const void *pb)
{
	const struct sl_ipc_key *a = pa, *b = pb;
	int c = sl_cmp_ipc_key_addr(pa, pb);

	if (c != 0)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* "$.networkInterfaces[ni].properties.ipConfigurations[ci].properties.<key>" */
static void
sl_ipc_path(char *buf, const char *npath, uint32_t ni, uint32_t ci, const char *key)
{
	snprintf(buf, SL_JSON_PATH_MAX, "%s[%u].properties.ipConfigurations[%u].properties.%s", npath,
		 ni, ci, key);
}

static void
sl_ipc_target(char *buf, const struct sl_model *m, uint32_t ni, uint32_t ci)
{
	char nt[SL_JSON_TARGET_MAX];

	sl_json_target_join(nt, NULL, "networkInterfaces", m->nics[ni].name);
	sl_json_target_join(buf, nt, "ipConfigurations", m->nics[ni].ipconfigs[ci].name);
}

int
sl_model_index_build(struct sl_model *m)
{
	struct sl_model_index *x = m->index;
	struct sl_ipc_key *v;
	uint32_t ni, ci, cnt = 0;

	for (ni = 0; ni < m->n_nics; ni++)
		cnt += m->nics[ni].n_ipconfigs;
	v = sl_cfg_calloc(cnt, sizeof(*v));
	if (x == NULL)
		x = calloc(1, sizeof(*x));
	if (v == NULL || x == NULL) {
		free(v);
		if (x != m->index)
			free(x);
		return -ENOMEM;
	}
	cnt = 0;
	for (ni = 0; ni < m->n_nics; ni++) {
		for (ci = 0; ci < m->nics[ni].n_ipconfigs; ci++, cnt++) {
			v[cnt].addr = m->nics[ni].ipconfigs[ci].addr;
			v[cnt].vnet = m->nics[ni].ipconfigs[ci].vnet;
			v[cnt].nic = ni;
			v[cnt].ic = ci;
			v[cnt].order = cnt;
		}
	}
	qsort(v, cnt, sizeof(*v), sl_cmp_ipc_key);
	free(x->ipc);
	x->ipc = v;
	x->n_ipc = cnt;
	m->index = x;
	return 0;
}

/* No two ipConfigurations share an address in one vnet (m->index holds them all). */
static int
sl_check_nic_addresses(const struct sl_nic_ctx *n, const char *npath)
{
	const struct sl_model *m = n->m;
	char p[SL_JSON_PATH_MAX], target[SL_JSON_TARGET_MAX], ip[64];
	const struct sl_ipc_key *best = NULL, *first = NULL;
	const struct sl_ipc_key *v = m->index->ipc;
	uint32_t i, cnt = m->index->n_ipc, run = 0;

	for (i = 1; i < cnt; i++) {
		if (sl_cmp_ipc_key_addr(&v[run], &v[i]) != 0) {
			run = i;
			continue;
		}
		if (best == NULL || v[i].order < best->order) {
			best = &v[i];
			first = &v[run];
		}
	}
	if (best == NULL)
		return 0;
	sl_ipc_path(p, npath, best->nic, best->ic, "privateIPAddress");
	sl_ipc_target(target, m, best->nic, best->ic);
	sl_ip_addr_format(&best->addr, ip, sizeof(ip));
	return sl_error_set(n->err, "PrivateIPAddressInUse", target, p,
			    "%s is already used in virtual network '%s' by ipConfiguration '%s/%s'.", ip,
			    m->vnets[best->vnet].name, m->nics[first->nic].name,
			    m->nics[first->nic].ipconfigs[first->ic].name);
}

/* The members of the NIC-based pools, in document order of the NICs. */
static int
sl_fill_nic_pools(const struct sl_nic_ctx *n, const char *npath)
{
	struct sl_model *m = n->m;
	char p[SL_JSON_PATH_MAX], target[SL_JSON_TARGET_MAX], ip[64];
	uint32_t li, pi, ni, ci, k;

	for (li = 0; li < m->n_lbs; li++) {
		struct sl_lb *lb = &m->lbs[li];

		for (pi = 0; pi < lb->n_pools; pi++) {
			struct sl_pool_cfg *pool = &lb->pools[pi];
			uint32_t cnt = n->members[n->pool_base[li] + pi];

			if (cnt == 0)
				continue;
			free(pool->addresses);
			pool->n_addresses = 0;
			pool->addresses = calloc(cnt, sizeof(*pool->addresses));
			if (pool->addresses == NULL)
				return sl_json_nomem(n->err, "networkInterfaces", npath);
		}
	}
	for (ni = 0; ni < m->n_nics; ni++) {
		const struct sl_nic *nic = &m->nics[ni];

		for (ci = 0; ci < nic->n_ipconfigs; ci++) {
			const struct sl_nic_ipconfig *ic = &nic->ipconfigs[ci];

			for (k = 0; k < ic->n_pools; k++) {
				struct sl_pool_cfg *pool = &m->lbs[ic->pools[k].lb].pools[ic->pools[k].idx];
				struct sl_address *a = &pool->addresses[pool->n_addresses++];

				snprintf(a->name, sizeof(a->name), "%s/%s", nic->name, ic->name);
				a->addr = ic->addr;
				a->family = ic->family;
				a->from_nic = 1;
				a->vnet = ic->vnet;
				a->weight = 1;
				a->nic = (int)ni;
				a->ipconfig = (int)ci;
			}
		}
	}

	/* One address twice in a pool (ipConfigurations of different vnets): one Maglev key. */
	for (li = 0; li < m->n_lbs; li++) {
		const struct sl_lb *lb = &m->lbs[li];

		for (pi = 0; pi < lb->n_pools; pi++) {
			const struct sl_pool_cfg *pool = &lb->pools[pi];
			uint32_t cnt = n->members[n->pool_base[li] + pi];
			const struct sl_address *a, *b;
			int64_t best;

			if (cnt < 2)
				continue;
			best = sl_first_dup_address(pool->addresses, cnt);
			if (best == -ENOMEM)
				return sl_json_nomem(n->err, "networkInterfaces", npath);
			if (best < 0)
				continue;
			b = &pool->addresses[best];
			for (a = pool->addresses; !sl_ip_addr_eq(&a->addr, &b->addr); a++)
				;
			sl_ipc_path(p, npath, (uint32_t)b->nic, (uint32_t)b->ipconfig, "privateIPAddress");
			sl_ipc_target(target, m, (uint32_t)b->nic, (uint32_t)b->ipconfig);
			sl_ip_addr_format(&b->addr, ip, sizeof(ip));
			return sl_error_set(n->err, "DuplicateIPAddressInBackendAddressPool", target, p,
					    "%s is already in pool '%s' of load balancer '%s' as ipConfiguration '%s' (virtual network '%s').",
					    ip, pool->name, lb->name, a->name, m->vnets[a->vnet].name);
		}
	}
	return 0;
}

void
sl_link_address(const struct sl_model *m, struct sl_address *a)
{
	const struct sl_model_index *x = m->index;
	const struct sl_ipc_key *hit;
	struct sl_ipc_key key;

	if (a->from_nic)
		return;
	a->nic = -1;
	a->ipconfig = -1;
	if (x == NULL || x->n_ipc == 0)
		return;
	memset(&key, 0, sizeof(key));
	key.addr = a->addr;
	key.vnet = a->vnet;
	hit = bsearch(&key, x->ipc, x->n_ipc, sizeof(*x->ipc), sl_cmp_ipc_key_addr);
	if (hit != NULL) {
		a->nic = (int)hit->nic;
		a->ipconfig = (int)hit->ic;
	}
}

/* IP-based addresses learn the NIC ipConfiguration that has their address in their vnet. */
static void
sl_link_ip_addresses(struct sl_model *m)
{
	uint32_t li, pi, ai;

	for (li = 0; li < m->n_lbs; li++) {
		for (pi = 0; pi < m->lbs[li].n_pools; pi++) {
			struct sl_pool_cfg *pool = &m->lbs[li].pools[pi];

			for (ai = 0; ai < pool->n_addresses; ai++) {
				if (!pool->addresses[ai].from_nic)
					sl_link_address(m, &pool->addresses[ai]);
			}
		}
	}
}

int
sl_parse_nics(struct sl_error *e, struct sl_model *m, const cJSON *nics, const char *npath)
{
	struct sl_nic_ctx n = {e, m, NULL, NULL, NULL};
	uint32_t li, pi, n_pools = 0;
	int rc;

	for (li = 0; li < m->n_lbs; li++)
		n_pools += m->lbs[li].n_pools;
	n.pool_base = sl_cfg_calloc(m->n_lbs, sizeof(*n.pool_base));
	n.lb_members = sl_cfg_calloc(m->n_lbs, sizeof(*n.lb_members));
	n.members = sl_cfg_calloc(n_pools, sizeof(*n.members));
	if (n.pool_base == NULL || n.lb_members == NULL || n.members == NULL) {
		rc = sl_json_nomem(e, "networkInterfaces", npath);
		goto out;
	}
	n_pools = 0;
	for (li = 0; li < m->n_lbs; li++) {
		n.pool_base[li] = n_pools;
		n_pools += m->lbs[li].n_pools;
		for (pi = 0; pi < m->lbs[li].n_pools; pi++)
			n.lb_members[li] += m->lbs[li].pools[pi].n_addresses;
	}

	rc = sl_json_parse_list(e, nics, npath, "networkInterfaces", NULL, sizeof(*m->nics),
				(void **)&m->nics, &m->n_nics, sl_parse_nic, &n);
	if (rc < 0)
		goto out;
	rc = sl_check_top(e, m->nics, sizeof(*m->nics), m->n_nics, "networkInterfaces", npath, true);
	if (rc < 0)
		goto out;
	rc = sl_model_index_build(m);
	if (rc < 0) {
		rc = sl_json_nomem(e, "networkInterfaces", npath);
		goto out;
	}
	rc = sl_check_nic_addresses(&n, npath);
	if (rc < 0)
		goto out;
	rc = sl_fill_nic_pools(&n, npath);
	if (rc < 0)
		goto out;
	sl_link_ip_addresses(m);
out:
	free(n.pool_base);
	free(n.lb_members);
	free(n.members);
	return rc;
}
