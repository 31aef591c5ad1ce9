/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_config_lb.c: validation of load balancers: SKU, frontend IP
 * configurations, probes, backend pools and their addresses, load-balancing
 * rules and inbound NAT rules, and the checks between the rules of one load
 * balancer. NIC-based pool members are added later (sl_config_nic.c). See
 * sl_config.c for the rules every resource follows. The per-pool and
 * per-rule parsers and checks are shared with the changes made in place
 * (sl_config_incr.c).
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

static int
sl_parse_frontend(void *ctx, void *item, uint32_t fi, const cJSON *node, const char *path)
{
	const struct sl_lb_ctx *c = ctx;
	struct sl_lb *lb = c->lb;
	struct sl_frontend *fe = item;
	char p[SL_JSON_PATH_MAX], idpath[SL_JSON_PATH_MAX];
	const char *ver;
	struct sl_res r;
	uint32_t k;
	int j;
	uint8_t f;
	int rc;

	(void)fi; /* the frontends read before it are in c->m's index */
	fe->vnet = -1;
	fe->subnet = -1;
	rc = sl_res_open(&r, c->err, node, path, c->target, "loadBalancers", lb->name,
			 "frontendIPConfigurations", fe->name);
	if (rc < 0)
		return rc;
	rc = sl_cfg_ip(&r.props, "privateIPAddress", true, &fe->addr, &fe->family);
	if (rc < 0)
		return rc;

	rc = sl_where_ip_version(&r.props, &ver, &f);
	if (rc < 0)
		return rc;
	sl_json_path_key(p, r.props.path, "privateIPAddressVersion");
	if (rc > 0 && f != fe->family)
		return sl_error_set(c->err, "PrivateIPAddressVersionMismatch", r.target, p,
				    "privateIPAddressVersion is %s but privateIPAddress is an %s address.",
				    ver, sl_family_name(fe->family));

	rc = sl_resolve_subnet(&r.props, "subnet", false, c->m, &fe->vnet, &fe->subnet, idpath);
	if (rc < 0)
		return rc;
	sl_json_path_key(p, r.props.path, "privateIPAddress");
	if (rc > 0) {
		const struct sl_vnet *v = &c->m->vnets[fe->vnet];

		if (!sl_prefix_contains(&v->subnets[fe->subnet].prefix, &fe->addr))
			return sl_error_set(c->err, "PrivateIPAddressNotInSubnet", r.target, p,
					    "privateIPAddress is not inside subnet '%s' of virtual network '%s'.",
					    v->subnets[fe->subnet].name, v->name);
		if (lb->vnet < 0)
			lb->vnet = fe->vnet;
		else if (lb->vnet != fe->vnet)
			return sl_error_set(c->err, "LoadBalancerFrontendsInDifferentVirtualNetworks",
					    r.target, idpath,
					    "Frontend '%s' is in virtual network '%s' but an earlier frontend of load balancer '%s' is in '%s'.",
					    fe->name, v->name, lb->name,
					    c->m->vnets[lb->vnet].name);
	}

	/* the first frontend read before this one with its address, any load balancer's */
	j = sl_frontend_in_use(c->m, &fe->addr, &k);
	if (j >= 0)
		return sl_error_set(c->err, "PrivateIPAddressInUse", r.target, p,
				    "The address is already used by frontend loadBalancers/%s/frontendIPConfigurations/%s.",
				    c->m->lbs[j].name, c->m->lbs[j].frontends[k].name);
	if (sl_frontend_read(c->m, &fe->addr, c->lb_index) < 0)
		return sl_json_nomem(c->err, r.target, p);
	return 0;
}

static int
sl_parse_probe(void *ctx, void *item, uint32_t i, const cJSON *node, const char *path)
{
	const struct sl_lb_ctx *c = ctx;
	struct sl_probe_cfg *pr = item;
	const char *proto, *rp;
	char p[SL_JSON_PATH_MAX];
	struct sl_res r;
	int64_t v;
	size_t k;
	int rc;

	(void)i;
	rc = sl_res_open(&r, c->err, node, path, c->target, "loadBalancers", c->lb->name, "probes",
			 pr->name);
	if (rc < 0)
		return rc;
	rc = sl_where_string(&r.props, "protocol", true, &proto);
	if (rc < 0)
		return rc;
	if (strcasecmp(proto, "Tcp") == 0) {
		pr->protocol = SL_PROBE_TCP;
	} else if (strcasecmp(proto, "Http") == 0) {
		pr->protocol = SL_PROBE_HTTP;
	} else if (strcasecmp(proto, "Https") == 0) {
		pr->protocol = SL_PROBE_HTTPS;
	} else {
		sl_json_path_key(p, r.props.path, "protocol");
		return sl_error_set(c->err, "InvalidPropertyValue", r.target, p,
				    "Probe protocol '%s' is not one of Tcp, Http, Https.", proto);
	}
	rc = sl_where_int(&r.props, "port", true, 1, UINT16_MAX, &v);
	if (rc < 0)
		return rc;
	pr->port = (uint16_t)v;
	pr->interval_s = SL_CFG_DEFAULT_PROBE_INTERVAL;
	rc = sl_where_int(&r.props, "intervalInSeconds", false, SL_CFG_MIN_PROBE_INTERVAL, INT32_MAX,
		      &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		pr->interval_s = (uint32_t)v;
	pr->number_of_probes = SL_CFG_DEFAULT_NUMBER_OF_PROBES;
	rc = sl_where_int(&r.props, "numberOfProbes", false, 1, INT32_MAX, &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		pr->number_of_probes = (uint32_t)v;
	pr->probe_threshold = SL_CFG_DEFAULT_PROBE_THRESHOLD;
	rc = sl_where_int(&r.props, "probeThreshold", false, 1, INT32_MAX, &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		pr->probe_threshold = (uint32_t)v;

	rc = sl_where_string(&r.props, "requestPath", false, &rp);
	if (rc < 0)
		return rc;
	sl_json_path_key(p, r.props.path, "requestPath");
	if (rc > 0 && pr->protocol == SL_PROBE_TCP)
		return sl_error_set(c->err, "PropertyNotAllowed", r.target, p,
				    "A Tcp probe has no requestPath; use Http or Https to probe a path.");
	if (rc == 0 && pr->protocol != SL_PROBE_TCP)
		return sl_where_missing(&r.props, "requestPath");
	if (rc > 0) {
		bool ok = rp[0] != '\0' && strlen(rp) < sizeof(pr->request_path);

		for (k = 0; ok && rp[k] != '\0'; k++)
			ok = rp[k] > 0x20 && rp[k] < 0x7f;
		if (!ok)
			return sl_error_set(c->err, "InvalidPropertyValue", r.target, p,
					    "requestPath must be 1 to %u printable ASCII characters without spaces.",
					    (unsigned int)sizeof(pr->request_path) - 1);
		snprintf(pr->request_path, sizeof(pr->request_path), "%s", rp);
	}
	return 0;
}

/* A pool being read. */
struct sl_pool_ctx {
	const struct sl_lb_ctx *lb;
	const char *target; /* "loadBalancers/<lb>/backendAddressPools/<pool>" */
};

/*
 * An address's virtualNetwork (required): the one its "id" names, or, as
 * ARM templates exported from Azure write it ({"location": ...} without an
 * id), the virtual network of the load balancer's frontends.
 */
static int
sl_address_vnet(const struct sl_lb_ctx *c, const struct sl_res *r, struct sl_address *a)
{
	char vpath[SL_JSON_PATH_MAX], p[SL_JSON_PATH_MAX];
	struct sl_where vn;
	int rc;

	rc = sl_where_object(&r->props, "virtualNetwork", true, &vn, vpath);
	if (rc < 0)
		return rc;
	if (sl_where_member(&vn, "id") != NULL)
		return sl_resolve_vnet(&r->props, "virtualNetwork", true, c->m, &a->vnet);
	if (c->lb->vnet >= 0) {
		a->vnet = c->lb->vnet;
		return 0;
	}
	sl_json_path_key(p, vpath, "id");
	return sl_error_set(c->err, "BackendAddressVirtualNetworkNotDetermined", r->target, p,
			    "Address '%s' gives no virtualNetwork.id, and no frontend of load balancer '%s' names a subnet, so its virtual network cannot be told; give virtualNetwork.id.",
			    a->name, c->lb->name);
}

static int
sl_parse_address(void *ctx, void *item, uint32_t i, const cJSON *node, const char *path)
{
	const struct sl_pool_ctx *pc = ctx;
	const struct sl_lb_ctx *c = pc->lb;
	struct sl_address *a = item;
	char p[SL_JSON_PATH_MAX];
	const struct sl_vnet *v;
	struct sl_res r;
	int64_t w;
	int rc;

	(void)i;
	a->nic = -1;
	a->ipconfig = -1;
	rc = sl_res_open(&r, c->err, node, path, pc->target, NULL, NULL,
			 "loadBalancerBackendAddresses", a->name);
	if (rc < 0)
		return rc;
	rc = sl_cfg_ip(&r.props, "ipAddress", true, &a->addr, &a->family);
	if (rc < 0)
		return rc;
	rc = sl_address_vnet(c, &r, a);
	if (rc < 0)
		return rc;
	a->weight = 1;
	rc = sl_where_int(&r.props, "weight", false, 1, SL_CONFIG_MAX_WEIGHT, &w);
	if (rc < 0)
		return rc;
	if (rc > 0)
		a->weight = (uint32_t)w;
	const char *admin = NULL;
	rc = sl_where_string(&r.props, "adminState", false, &admin);
	if (rc < 0)
		return rc;
	if (admin == NULL || strcasecmp(admin, "None") == 0) {
		a->admin_state = SL_ADMIN_NONE;
	} else if (strcasecmp(admin, "Up") == 0) {
		a->admin_state = SL_ADMIN_UP;
	} else if (strcasecmp(admin, "Down") == 0) {
		a->admin_state = SL_ADMIN_DOWN;
	} else {
		sl_json_path_key(p, r.props.path, "adminState");
		return sl_error_set(c->err, "InvalidPropertyValue", r.target, p,
				    "adminState '%s' is not one of None, Up, Down.", admin);
	}

	v = &c->m->vnets[a->vnet];
	if (c->lb->vnet >= 0 && a->vnet != c->lb->vnet) {
		char rp[SL_JSON_PATH_MAX];

		sl_json_path_key(rp, r.props.path, "virtualNetwork");
		sl_json_path_key(p, rp, "id");
		return sl_error_set(c->err, "BackendAddressVirtualNetworkMismatch", r.target, p,
				    "The address is in virtual network '%s' but load balancer '%s' is in '%s'; backend addresses must be in the load balancer's virtual network.",
				    v->name, c->lb->name, c->m->vnets[c->lb->vnet].name);
	}
	if (!sl_vnet_contains(v, &a->addr)) {
		char ip[64];

		sl_json_path_key(p, r.props.path, "ipAddress");
		sl_ip_addr_format(&a->addr, ip, sizeof(ip));
		return sl_error_set(c->err, "BackendAddressNotInVirtualNetwork", r.target, p,
				    "%s is outside every address prefix of virtual network '%s'.", ip,
				    v->name);
	}
	return 0;
}

/* Pool addresses by their IP. */
static int
sl_cmp_address_ip(const void *pa, const void *pb)
{
	const struct sl_address *a = pa, *b = pb;

	return memcmp(a->addr.bytes, b->addr.bytes, sizeof(a->addr.bytes));
}

int64_t
sl_first_dup_address(const struct sl_address *addrs, uint32_t n)
{
	return sl_first_repeat(addrs, sizeof(*addrs), n, sl_cmp_address_ip);
}

/* No address twice in an IP-based pool. */
static int
sl_check_dup_ips(const struct sl_lb_ctx *c, const struct sl_pool_cfg *pool,
		 const char *pool_target, const char *apath)
{
	char item[SL_JSON_PATH_MAX], pp[SL_JSON_PATH_MAX], p[SL_JSON_PATH_MAX];
	char target[SL_JSON_TARGET_MAX], ip[64];
	int64_t best = sl_first_dup_address(pool->addresses, pool->n_addresses);
	uint32_t i, first = 0;

	if (best == -ENOMEM)
		return sl_json_nomem(c->err, pool_target, apath);
	if (best < 0)
		return 0;
	/* The earlier holder of the same address, for the message. */
	for (i = 0; i < (uint32_t)best; i++) {
		if (sl_ip_addr_eq(&pool->addresses[i].addr, &pool->addresses[best].addr)) {
			first = i;
			break;
		}
	}
	sl_json_path_index(item, apath, (uint32_t)best);
	sl_json_path_key(pp, item, "properties");
	sl_json_path_key(p, pp, "ipAddress");
	sl_json_target_join(target, pool_target, "loadBalancerBackendAddresses",
			    pool->addresses[best].name);
	sl_ip_addr_format(&pool->addresses[best].addr, ip, sizeof(ip));
	return sl_error_set(c->err, "DuplicateIPAddressInBackendAddressPool", target, p,
			    "%s is already in pool '%s' as address '%s'.", ip, pool->name,
			    pool->addresses[first].name);
}

int
sl_parse_pool(void *ctx, void *item, uint32_t i, const cJSON *node, const char *path)
{
	const struct sl_lb_ctx *c = ctx;
	struct sl_pool_cfg *pool = item;
	char apath[SL_JSON_PATH_MAX];
	struct sl_pool_ctx pc;
	const cJSON *arr;
	struct sl_res r;
	int64_t drain;
	uint32_t n;
	int rc;

	(void)i;
	rc = sl_res_open(&r, c->err, node, path, c->target, "loadBalancers", c->lb->name,
			 "backendAddressPools", pool->name);
	if (rc < 0)
		return rc;
	rc = sl_where_array(&r.props, "loadBalancerBackendAddresses", false, &arr, apath);
	if (rc < 0)
		return rc;
	rc = sl_where_int(&r.props, "drainPeriodInSeconds", false, 0, SL_CONFIG_MAX_DRAIN_PERIOD, &drain);
	if (rc < 0)
		return rc;
	pool->drain_period_s = rc > 0 ? (uint32_t)drain : 0;
	n = sl_array_size(arr);
	if (n > 0 && !c->lb->standard_sku)
		return sl_error_set(c->err, "IPBasedBackendAddressPoolRequiresStandardSku", r.target,
				    apath,
				    "Pool '%s' lists backend addresses, which needs a Standard load balancer; '%s' is Basic.",
				    pool->name, c->lb->name);
	if (n > c->m->max_addresses_per_pool)
		return sl_error_set(c->err, "BackendAddressPoolSizeLimitExceeded", r.target, apath,
				    "Pool '%s' has %u addresses; a pool holds at most %u (settings.maxAddressesPerPool).",
				    pool->name, n, c->m->max_addresses_per_pool);
	if (n > c->m->maglev_size)
		return sl_error_set(c->err, "InvalidMaglevTableSize", r.target, apath,
				    "Pool '%s' has %u addresses but settings.maglevTableSize is %u; the table needs at least a slot per address.",
				    pool->name, n, c->m->maglev_size);
	pc.lb = c;
	pc.target = r.target;
	rc = sl_json_parse_list(c->err, arr, apath, r.target, "loadBalancerBackendAddresses",
				sizeof(*pool->addresses), (void **)&pool->addresses,
				&pool->n_addresses, sl_parse_address, &pc);
	if (rc < 0)
		return rc;
	return sl_check_dup_ips(c, pool, r.target, apath);
}

static const char *
sl_proto_name(uint8_t proto)
{
	return proto == SL_PROTO_TCP ? "Tcp" : proto == SL_PROTO_UDP ? "Udp" : "All";
}

bool
sl_rule_reaches(const struct sl_model *m, uint8_t floating_ip, uint8_t fe_family, uint8_t family,
		int vnet)
{
	enum sl_delivery d = m->vnets[vnet].delivery;

	return family == fe_family || (floating_ip && d != SL_DELIVERY_L2 && d != SL_DELIVERY_IPIP);
}

/* Backend addresses a rule can deliver to: DNAT and L2/IPinIP keep the frontend's family. */
int
sl_check_rule_families(const struct sl_lb_ctx *c, const struct sl_rule_cfg *rule,
		       const struct sl_pool_cfg *pool, const char *target, const char *path)
{
	const struct sl_frontend *fe = &c->lb->frontends[rule->frontend];
	uint32_t i;

	for (i = 0; i < pool->n_addresses; i++) {
		const struct sl_address *a = &pool->addresses[i];
		enum sl_delivery d = c->m->vnets[a->vnet].delivery;

		if (sl_rule_reaches(c->m, rule->floating_ip, fe->family, a->family, a->vnet))
			continue;
		if (!rule->floating_ip)
			return sl_error_set(c->err, "BackendAddressIPVersionMismatch", target, path,
					    "Rule '%s' rewrites the destination (Floating IP off), so its %s frontend '%s' needs %s backends, but address '%s' of pool '%s' is %s.",
					    rule->name, sl_family_name(fe->family), fe->name,
					    sl_family_name(fe->family), a->name, pool->name,
					    sl_family_name(a->family));
		return sl_error_set(c->err, "BackendAddressIPVersionMismatch", target, path,
				    "Rule '%s' delivers %s frontend '%s' by %s (the delivery of virtual network '%s'), which needs %s backends, but address '%s' of pool '%s' is %s; use GUE or VXLAN to cross families.",
				    rule->name, sl_family_name(fe->family), fe->name,
				    sl_delivery_name(d), c->m->vnets[a->vnet].name,
				    sl_family_name(fe->family), a->name, pool->name,
				    sl_family_name(a->family));
	}
	return 0;
}

/*
 * What load-balancing rules and inbound NAT rules share: protocol (Tcp, Udp,
 * All), frontendPort (min_port..65534; 0 is the HA ports rule's), backendPort
 * (default frontendPort), idleTimeoutInMinutes, enableFloatingIP,
 * enableTcpReset.
 */
static int
sl_parse_rule_common(const struct sl_lb_ctx *c, const struct sl_res *r, int64_t min_port,
		     uint8_t *proto, uint16_t *frontend_port, uint16_t *backend_port,
		     uint8_t *idle_timeout_min, uint8_t *floating_ip, uint8_t *enable_tcp_reset)
{
	char p[SL_JSON_PATH_MAX];
	const char *s;
	int64_t v;
	int rc;

	rc = sl_where_string(&r->props, "protocol", true, &s);
	if (rc < 0)
		return rc;
	if (strcasecmp(s, "Tcp") == 0) {
		*proto = SL_PROTO_TCP;
	} else if (strcasecmp(s, "Udp") == 0) {
		*proto = SL_PROTO_UDP;
	} else if (strcasecmp(s, "All") == 0) {
		*proto = SL_PROTO_ALL;
	} else {
		sl_json_path_key(p, r->props.path, "protocol");
		return sl_error_set(c->err, "InvalidPropertyValue", r->target, p,
				    "Protocol '%s' is not one of Tcp, Udp, All.", s);
	}
	rc = sl_where_int(&r->props, "frontendPort", true, min_port, SL_CFG_MAX_FRONTEND_PORT, &v);
	if (rc < 0)
		return rc;
	*frontend_port = (uint16_t)v;
	*backend_port = *frontend_port;
	rc = sl_where_int(&r->props, "backendPort", false, min_port, UINT16_MAX, &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		*backend_port = (uint16_t)v;
	rc = sl_where_bool(&r->props, "enableFloatingIP", floating_ip);
	if (rc < 0)
		return rc;
	*idle_timeout_min = SL_CFG_DEFAULT_IDLE_MIN;
	rc = sl_where_int(&r->props, "idleTimeoutInMinutes", false, SL_CFG_MIN_IDLE_MIN,
		      SL_CFG_MAX_IDLE_MIN, &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		*idle_timeout_min = (uint8_t)v;
	rc = sl_where_bool(&r->props, "enableTcpReset", enable_tcp_reset);
	return rc < 0 ? rc : 0;
}

/* With Floating IP the packet keeps its destination port: the two ports must agree. */
static int
sl_check_floating_ports(const struct sl_lb_ctx *c, const struct sl_res *r, uint8_t floating_ip,
			uint16_t frontend_port, uint16_t backend_port)
{
	char p[SL_JSON_PATH_MAX];

	if (!floating_ip || backend_port == frontend_port)
		return 0;
	sl_json_path_key(p, r->props.path, "backendPort");
	return sl_error_set(c->err, "FloatingIPRequiresSameFrontendAndBackendPort", r->target, p,
			    "With Floating IP the packet reaches the backend unchanged, so backendPort (%u) must equal frontendPort (%u).",
			    backend_port, frontend_port);
}

int
sl_parse_rule(void *ctx, void *item, uint32_t i, const cJSON *node, const char *path)
{
	const struct sl_lb_ctx *c = ctx;
	struct sl_rule_cfg *rule = item;
	struct sl_lb *lb = c->lb;
	char p[SL_JSON_PATH_MAX];
	const char *s;
	struct sl_res r;
	int rc;

	(void)i;
	rule->probe = -1;
	rc = sl_res_open(&r, c->err, node, path, c->target, "loadBalancers", lb->name,
			 "loadBalancingRules", rule->name);
	if (rc < 0)
		return rc;
	rc = sl_resolve_lb_child(&r.props, "frontendIPConfiguration", true, lb,
				 "frontendIPConfigurations", "frontend IP configuration",
				 lb->frontends, sizeof(*lb->frontends), lb->n_frontends,
				 &rule->frontend);
	if (rc < 0)
		return rc;
	rc = sl_resolve_lb_child(&r.props, "backendAddressPool", true, lb, "backendAddressPools",
				 "backend address pool", lb->pools, sizeof(*lb->pools), lb->n_pools,
				 &rule->pool);
	if (rc < 0)
		return rc;
	rc = sl_resolve_lb_child(&r.props, "probe", false, lb, "probes", "probe", lb->probes,
				 sizeof(*lb->probes), lb->n_probes, &rule->probe);
	if (rc < 0)
		return rc;

	rc = sl_parse_rule_common(c, &r, 0, &rule->proto, &rule->frontend_port,
				  &rule->backend_port, &rule->idle_timeout_min, &rule->floating_ip,
				  &rule->enable_tcp_reset);
	if (rc < 0)
		return rc;

	rule->dist = SL_DIST_DEFAULT;
	rc = sl_where_string(&r.props, "loadDistribution", false, &s);
	if (rc < 0)
		return rc;
	if (rc > 0 && sl_dist_parse(s, &rule->dist) < 0) {
		sl_json_path_key(p, r.props.path, "loadDistribution");
		return sl_error_set(c->err, "InvalidPropertyValue", r.target, p,
				    "loadDistribution '%s' is not one of Default, SourceIP, SourceIPProtocol.",
				    s);
	}

	/* HA ports: protocol All with both ports 0, and port 0 only there. */
	if (rule->proto == SL_PROTO_ALL && (rule->frontend_port != 0 || rule->backend_port != 0)) {
		sl_json_path_key(p, r.props.path, rule->frontend_port != 0 ? "frontendPort" : "backendPort");
		return sl_error_set(c->err, "InvalidHaPortsRule", r.target, p,
				    "Protocol All makes an HA ports rule, whose frontendPort and backendPort are 0.");
	}
	if (rule->proto != SL_PROTO_ALL && (rule->frontend_port == 0 || rule->backend_port == 0)) {
		sl_json_path_key(p, r.props.path, rule->frontend_port == 0 ? "frontendPort" : "backendPort");
		return sl_error_set(c->err, "InvalidHaPortsRule", r.target, p,
				    "Port 0 (any port) makes an HA ports rule, whose protocol is All, not %s.",
				    sl_proto_name(rule->proto));
	}
	rc = sl_check_floating_ports(c, &r, rule->floating_ip, rule->frontend_port,
				     rule->backend_port);
	if (rc < 0)
		return rc;
	return sl_check_rule_families(c, rule, &lb->pools[rule->pool], r.target, path);
}

static bool
sl_protos_overlap(uint8_t a, uint8_t b)
{
	return a == SL_PROTO_ALL || b == SL_PROTO_ALL || a == b;
}

int
sl_check_rule_pair(const struct sl_lb_ctx *c, const struct sl_rule_cfg *a,
		   const struct sl_rule_cfg *b, const char *target, const char *props_path)
{
	const struct sl_lb *lb = c->lb;
	char p[SL_JSON_PATH_MAX];

	if (a->frontend == b->frontend &&
	    (a->proto == SL_PROTO_ALL || b->proto == SL_PROTO_ALL ||
	     (a->proto == b->proto && a->frontend_port == b->frontend_port))) {
		sl_json_path_key(p, props_path, "frontendPort");
		if (a->proto == SL_PROTO_ALL || b->proto == SL_PROTO_ALL)
			return sl_error_set(c->err,
					    "RulesUseSameFrontendIPConfigurationProtocolAndPort",
					    target, p,
					    "Rules '%s' and '%s' share frontend '%s', but an HA ports rule (protocol All) takes every port of its frontend.",
					    a->name, b->name, lb->frontends[b->frontend].name);
		return sl_error_set(c->err, "RulesUseSameFrontendIPConfigurationProtocolAndPort",
				    target, p,
				    "Rules '%s' and '%s' both take %s port %u on frontend '%s'.",
				    a->name, b->name, sl_proto_name(b->proto), b->frontend_port,
				    lb->frontends[b->frontend].name);
	}
	if (a->pool == b->pool && a->backend_port == b->backend_port &&
	    sl_protos_overlap(a->proto, b->proto) && !(a->floating_ip && b->floating_ip)) {
		sl_json_path_key(p, props_path, "backendPort");
		return sl_error_set(c->err,
				    "RulesOfSameLoadBalancerTypeUseSameBackendPortProtocolAndIPConfig",
				    target, p,
				    "Rules '%s' and '%s' both send %s to backend port %u of pool '%s'; rules that share a backend port and protocol on a pool must both enable Floating IP.",
				    a->name, b->name, sl_proto_name(b->proto), b->backend_port,
				    lb->pools[b->pool].name);
	}
	return 0;
}

/* The checks between rules of one load balancer; rpath is the rules array. */
static int
sl_check_rule_pairs(const struct sl_lb_ctx *c, const char *rpath)
{
	const struct sl_lb *lb = c->lb;
	char item[SL_JSON_PATH_MAX], pp[SL_JSON_PATH_MAX], target[SL_JSON_TARGET_MAX];
	uint32_t i, j;
	int rc;

	for (j = 1; j < lb->n_rules; j++) {
		sl_json_path_index(item, rpath, j);
		sl_json_path_key(pp, item, "properties");
		sl_json_target_join(target, c->target, "loadBalancingRules", lb->rules[j].name);
		for (i = 0; i < j; i++) {
			rc = sl_check_rule_pair(c, &lb->rules[i], &lb->rules[j], target, pp);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int
sl_parse_nat_rule(void *ctx, void *item, uint32_t i, const cJSON *node, const char *path)
{
	const struct sl_lb_ctx *c = ctx;
	struct sl_nat_rule_cfg *nr = item;
	struct sl_lb *lb = c->lb;
	struct sl_res r;
	int rc;

	(void)i;
	nr->nic = -1;
	nr->ipconfig = -1;
	rc = sl_res_open(&r, c->err, node, path, c->target, "loadBalancers", lb->name,
			 "inboundNatRules", nr->name);
	if (rc < 0)
		return rc;
	rc = sl_resolve_lb_child(&r.props, "frontendIPConfiguration", true, lb,
				 "frontendIPConfigurations", "frontend IP configuration",
				 lb->frontends, sizeof(*lb->frontends), lb->n_frontends,
				 &nr->frontend);
	if (rc < 0)
		return rc;
	rc = sl_parse_rule_common(c, &r, 1, &nr->proto, &nr->frontend_port, &nr->backend_port,
				  &nr->idle_timeout_min, &nr->floating_ip, &nr->enable_tcp_reset);
	if (rc < 0)
		return rc;
	rc = sl_check_floating_ports(c, &r, nr->floating_ip, nr->frontend_port, nr->backend_port);
	if (rc < 0)
		return rc;
	return 0;
}

int
sl_check_nat_pair(const struct sl_lb_ctx *c, const struct sl_rule_cfg *a,
		  const struct sl_nat_rule_cfg *b, const char *target, const char *path)
{
	const char *fe = c->lb->frontends[b->frontend].name;

	if (a->frontend != b->frontend)
		return 0;
	if (a->proto == SL_PROTO_ALL)
		return sl_error_set(c->err, "RulesUseSameFrontendIPConfigurationProtocolAndPort",
				    target, path,
				    "Inbound NAT rule '%s' uses frontend '%s', but load-balancing rule '%s' is an HA ports rule (protocol All), which takes every port of its frontend.",
				    b->name, fe, a->name);
	if (sl_protos_overlap(a->proto, b->proto) && a->frontend_port == b->frontend_port)
		return sl_error_set(c->err, "RulesUseSameFrontendIPConfigurationProtocolAndPort",
				    target, path,
				    "Inbound NAT rule '%s' and load-balancing rule '%s' both take %s port %u on frontend '%s'.",
				    b->name, a->name, sl_proto_name(a->proto), b->frontend_port, fe);
	return 0;
}

/*
 * A NAT rule's frontend port against the load-balancing rules and the
 * earlier NAT rules of its load balancer; npath is the NAT rules array.
 */
static int
sl_check_nat_pairs(const struct sl_lb_ctx *c, const char *npath)
{
	const struct sl_lb *lb = c->lb;
	char item[SL_JSON_PATH_MAX], pp[SL_JSON_PATH_MAX], p[SL_JSON_PATH_MAX];
	char target[SL_JSON_TARGET_MAX];
	uint32_t i, j;
	int rc;

	for (j = 0; j < lb->n_nat_rules; j++) {
		const struct sl_nat_rule_cfg *b = &lb->nat_rules[j];
		const char *fe = lb->frontends[b->frontend].name;

		sl_json_path_index(item, npath, j);
		sl_json_path_key(pp, item, "properties");
		sl_json_path_key(p, pp, "frontendPort");
		sl_json_target_join(target, c->target, "inboundNatRules", b->name);
		for (i = 0; i < lb->n_rules; i++) {
			rc = sl_check_nat_pair(c, &lb->rules[i], b, target, p);
			if (rc < 0)
				return rc;
		}
		for (i = 0; i < j; i++) {
			const struct sl_nat_rule_cfg *a = &lb->nat_rules[i];

			if (a->frontend == b->frontend && sl_protos_overlap(a->proto, b->proto) &&
			    a->frontend_port == b->frontend_port)
				return sl_error_set(c->err,
						    "RulesUseSameFrontendIPConfigurationProtocolAndPort",
						    target, p,
						    "Inbound NAT rules '%s' and '%s' both take %s port %u on frontend '%s'.",
						    a->name, b->name,
						    sl_proto_name(a->proto == SL_PROTO_ALL ? b->proto : a->proto),
						    b->frontend_port, fe);
		}
	}
	return 0;
}

int
sl_check_lb_children(const struct sl_lb_ctx *c, const char *props_path, uint32_t n_frontends,
		     uint32_t n_children)
{
	if (n_frontends > 0 || n_children == 0)
		return 0;
	return sl_error_set(c->err, "LoadBalancerWithoutFrontendIPCantHaveChildResources", c->target,
			    props_path,
			    "Load balancer '%s' has no frontendIPConfigurations, so it cannot have backend pools, rules, inbound NAT rules or probes.",
			    c->lb->name);
}

int
sl_check_rule_count(const struct sl_lb_ctx *c, uint32_t n_rules, const char *rpath)
{
	if (n_rules <= SL_CONFIG_MAX_RULES_PER_LB)
		return 0;
	return sl_error_set(c->err, "LoadBalancingRuleLimitExceeded", c->target, rpath,
			    "Load balancer '%s' has %u rules; the limit is %u.", c->lb->name, n_rules,
			    SL_CONFIG_MAX_RULES_PER_LB);
}

/*
 * The addresses of all the load balancer's pools as the model holds them:
 * IP-based ones while the document is read (the NICs' pass counts NIC
 * members against the same limit as they join), all of them for a change
 * made in place.
 */
int
sl_check_lb_addresses(const struct sl_lb_ctx *c, const char *ppath)
{
	const struct sl_lb *lb = c->lb;
	uint64_t total = 0;
	uint32_t i;

	for (i = 0; i < lb->n_pools; i++)
		total += lb->pools[i].n_addresses;
	if (total <= c->m->max_addresses_per_lb)
		return 0;
	return sl_error_set(c->err, "LoadBalancerBackendAddressLimitExceeded", c->target, ppath,
			    "Load balancer '%s' has %llu backend addresses across its pools; the limit is %u (settings.maxAddressesPerLoadBalancer).",
			    lb->name, (unsigned long long)total, c->m->max_addresses_per_lb);
}

/* The unsupported child collections: accepted only empty. */
static int
sl_check_unsupported(const struct sl_where *props)
{
	static const char *const unsupported[] = {"inboundNatPools", "outboundRules", NULL};
	const char *const *k;
	char p[SL_JSON_PATH_MAX];
	const cJSON *arr;
	int rc;

	for (k = unsupported; *k != NULL; k++) {
		rc = sl_where_array(props, *k, false, &arr, p);
		if (rc < 0)
			return rc;
		if (sl_array_size(arr) > 0)
			return sl_error_set(props->err, "FeatureNotSupported", props->target, p,
					    "sluice does not implement %s yet; the list must be empty.",
					    *k);
	}
	return 0;
}

int
sl_parse_lb(void *ctx, void *item, uint32_t li, const cJSON *node, const char *path)
{
	const struct sl_cfg_list *list = ctx;
	struct sl_error *e = list->err;
	struct sl_model *m = list->m;
	struct sl_lb *lb = item;
	char fpath[SL_JSON_PATH_MAX], prpath[SL_JSON_PATH_MAX], ppath[SL_JSON_PATH_MAX];
	char rpath[SL_JSON_PATH_MAX], skupath[SL_JSON_PATH_MAX], namepath[SL_JSON_PATH_MAX];
	char npath[SL_JSON_PATH_MAX];
	const cJSON *fes, *probes, *pools, *rules, *nats;
	struct sl_lb_ctx c;
	struct sl_where sku;
	struct sl_res r;
	const char *s;
	int rc;

	lb->vnet = -1;
	rc = sl_res_open(&r, e, node, path, NULL, NULL, NULL, "loadBalancers", lb->name);
	if (rc < 0)
		return rc;
	lb->scope = r.scope;
	c.err = e;
	c.m = m;
	c.lb = lb;
	c.lb_index = li;
	c.target = r.target;

	rc = sl_where_object(&r.self, "sku", false, &sku, skupath);
	if (rc < 0)
		return rc;
	rc = sl_where_string(&sku, "name", false, &s);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		if (strcasecmp(s, "Standard") == 0) {
			lb->standard_sku = 1;
		} else if (strcasecmp(s, "Basic") != 0) {
			sl_json_path_key(namepath, skupath, "name");
			return sl_error_set(e, "InvalidPropertyValue", r.target, namepath,
					    "SKU '%s' is not Basic or Standard.", s);
		}
	}

	if ((rc = sl_where_array(&r.props, "frontendIPConfigurations", false, &fes, fpath)) < 0 ||
	    (rc = sl_where_array(&r.props, "probes", false, &probes, prpath)) < 0 ||
	    (rc = sl_where_array(&r.props, "backendAddressPools", false, &pools, ppath)) < 0 ||
	    (rc = sl_where_array(&r.props, "loadBalancingRules", false, &rules, rpath)) < 0 ||
	    (rc = sl_where_array(&r.props, "inboundNatRules", false, &nats, npath)) < 0)
		return rc;
	rc = sl_check_unsupported(&r.props);
	if (rc < 0)
		return rc;
	rc = sl_check_lb_children(&c, r.props.path, sl_array_size(fes),
				  sl_array_size(probes) + sl_array_size(pools) +
					  sl_array_size(rules) + sl_array_size(nats));
	if (rc < 0)
		return rc;
	rc = sl_check_rule_count(&c, sl_array_size(rules), rpath);
	if (rc < 0)
		return rc;

	rc = sl_json_parse_list(e, fes, fpath, r.target, "frontendIPConfigurations",
				sizeof(*lb->frontends), (void **)&lb->frontends, &lb->n_frontends,
				sl_parse_frontend, &c);
	if (rc < 0)
		return rc;
	rc = sl_json_parse_list(e, probes, prpath, r.target, "probes", sizeof(*lb->probes),
				(void **)&lb->probes, &lb->n_probes, sl_parse_probe, &c);
	if (rc < 0)
		return rc;
	rc = sl_json_parse_list(e, pools, ppath, r.target, "backendAddressPools",
				sizeof(*lb->pools), (void **)&lb->pools, &lb->n_pools,
				sl_parse_pool, &c);
	if (rc < 0)
		return rc;
	rc = sl_check_lb_addresses(&c, ppath);
	if (rc < 0)
		return rc;
	rc = sl_json_parse_list(e, rules, rpath, r.target, "loadBalancingRules",
				sizeof(*lb->rules), (void **)&lb->rules, &lb->n_rules,
				sl_parse_rule, &c);
	if (rc < 0)
		return rc;
	rc = sl_check_rule_pairs(&c, rpath);
	if (rc < 0)
		return rc;
	rc = sl_json_parse_list(e, nats, npath, r.target, "inboundNatRules",
				sizeof(*lb->nat_rules), (void **)&lb->nat_rules, &lb->n_nat_rules,
				sl_parse_nat_rule, &c);
	if (rc < 0)
		return rc;
	return sl_check_nat_pairs(&c, npath);
}
