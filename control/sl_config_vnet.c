/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_config_vnet.c: validation of virtual networks: address space, subnets
 * (each inside the address space), the Floating IP delivery and the VLAN of
 * their backends. See sl_config.c for the rules every resource follows.
 */
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sl_config_parse.h"

/* A virtual network being read. */
struct sl_vnet_ctx {
	struct sl_error *err;
	struct sl_vnet *v;
	const char *target; /* "virtualNetworks/<name>" */
};

/* One of addressSpace.addressPrefixes (sl_json_parse_list() parser). */
static int
sl_parse_vnet_prefix(void *ctx, void *item, uint32_t i, const cJSON *el, const char *path)
{
	const struct sl_vnet_ctx *c = ctx;
	struct sl_prefix *p = item;
	int rc;

	(void)i;
	if (!cJSON_IsString(el))
		return sl_error_set(c->err, "InvalidRequestFormat", c->target, path,
				    "An address prefix must be a string, not %s.",
				    sl_json_type_name(el));
	rc = sl_prefix_parse(el->valuestring, p);
	return rc < 0 ? sl_prefix_error(c->err, c->target, path, el->valuestring, rc, p) : 0;
}

/* A subnet (sl_json_parse_list() parser): its prefix lies inside one of the vnet's. */
static int
sl_parse_subnet(void *ctx, void *item, uint32_t i, const cJSON *node, const char *path)
{
	const struct sl_vnet_ctx *c = ctx;
	const struct sl_vnet *v = c->v;
	struct sl_subnet *sn = item;
	struct sl_error *e = c->err;
	char p[SL_JSON_PATH_MAX];
	struct sl_res r;
	const char *s;
	int rc;

	rc = sl_res_open(&r, e, node, path, c->target, "virtualNetworks", v->name, "subnets",
			 sn->name);
	if (rc < 0)
		return rc;
	rc = sl_where_string(&r.props, "addressPrefix", true, &s);
	if (rc < 0)
		return rc;
	sl_json_path_key(p, r.props.path, "addressPrefix");
	rc = sl_prefix_parse(s, &sn->prefix);
	if (rc < 0)
		return sl_prefix_error(e, r.target, p, s, rc, &sn->prefix);
	(void)i;
	for (uint32_t k = 0; k < v->n_prefixes; k++) {
		if (sl_prefix_within(&sn->prefix, &v->prefixes[k]))
			return 0;
	}
	return sl_error_set(e, "NetcfgSubnetRangeOutsideVnet", r.target, p,
			    "Subnet '%s' (%s) is not inside the address space of virtual network '%s'.",
			    sn->name, s, v->name);
}

static int
sl_parse_delivery(const struct sl_where *props, struct sl_vnet *v)
{
	static const char *const known[] = {"mode", "vni", "udpPort", NULL};
	char fpath[SL_JSON_PATH_MAX], p[SL_JSON_PATH_MAX];
	enum sl_delivery d = SL_DELIVERY_L2;
	struct sl_where fd;
	const char *mode;
	int64_t n;
	int rc;

	v->delivery = SL_DELIVERY_L2;
	rc = sl_where_object(props, "floatingIpDelivery", false, &fd, fpath);
	if (rc <= 0)
		return rc;
	rc = sl_where_known(&fd, known);
	if (rc < 0)
		return rc;
	rc = sl_where_string(&fd, "mode", false, &mode);
	if (rc < 0)
		return rc;
	if (rc > 0 && (sl_delivery_parse(mode, &d) < 0 || d == SL_DELIVERY_DNAT)) {
		sl_json_path_key(p, fpath, "mode");
		return sl_error_set(fd.err, "InvalidPropertyValue", fd.target, p,
				    "Floating IP delivery mode '%s' is not one of L2, IPinIP, GUE, VXLAN%s.",
				    mode,
				    d == SL_DELIVERY_DNAT ?
					    " (DNAT is what rules without Floating IP do)" : "");
	}
	v->delivery = d;

	if (sl_where_member(&fd, "vni") != NULL && d != SL_DELIVERY_VXLAN) {
		sl_json_path_key(p, fpath, "vni");
		return sl_error_set(fd.err, "PropertyNotAllowed", fd.target, p,
				    "'vni' applies to VXLAN delivery only, not %s.",
				    sl_delivery_name(d));
	}
	rc = sl_where_int(&fd, "vni", d == SL_DELIVERY_VXLAN, 0, SL_CFG_MAX_VNI, &n);
	if (rc < 0)
		return rc;
	if (rc > 0)
		v->vni = (uint32_t)n;

	if (sl_where_member(&fd, "udpPort") != NULL && d != SL_DELIVERY_GUE &&
	    d != SL_DELIVERY_VXLAN) {
		sl_json_path_key(p, fpath, "udpPort");
		return sl_error_set(fd.err, "PropertyNotAllowed", fd.target, p,
				    "'udpPort' applies to GUE and VXLAN delivery only, not %s.",
				    sl_delivery_name(d));
	}
	rc = sl_where_int(&fd, "udpPort", false, 1, UINT16_MAX, &n);
	if (rc < 0)
		return rc;
	if (rc > 0)
		v->udp_port = (uint16_t)n;
	else if (d == SL_DELIVERY_GUE)
		v->udp_port = SL_GUE_DEFAULT_PORT;
	else if (d == SL_DELIVERY_VXLAN)
		v->udp_port = SL_VXLAN_DEFAULT_PORT;
	return 0;
}

int
sl_parse_vnet(void *ctx, void *item, uint32_t i, const cJSON *node, const char *path)
{
	char aspath[SL_JSON_PATH_MAX], ppath[SL_JSON_PATH_MAX], spath[SL_JSON_PATH_MAX];
	struct sl_error *e = ((const struct sl_cfg_list *)ctx)->err;
	struct sl_vnet *v = item;
	struct sl_vnet_ctx c;
	const cJSON *arr;
	struct sl_where as;
	struct sl_res r;
	int64_t vlan;
	int rc;

	(void)i;
	rc = sl_res_open(&r, e, node, path, NULL, NULL, NULL, "virtualNetworks", v->name);
	if (rc < 0)
		return rc;
	v->scope = r.scope;
	c.err = e;
	c.v = v;
	c.target = r.target;

	rc = sl_where_object(&r.props, "addressSpace", true, &as, aspath);
	if (rc < 0)
		return rc;
	rc = sl_where_array(&as, "addressPrefixes", true, &arr, ppath);
	if (rc < 0)
		return rc;
	if (sl_array_size(arr) == 0)
		return sl_error_set(e, "MissingRequiredProperty", r.target, ppath,
				    "'addressPrefixes' must list at least one prefix.");
	rc = sl_json_parse_list(e, arr, ppath, r.target, NULL, sizeof(*v->prefixes),
				(void **)&v->prefixes, &v->n_prefixes, sl_parse_vnet_prefix, &c);
	if (rc < 0)
		return rc;
	rc = sl_where_array(&r.props, "subnets", false, &arr, spath);
	if (rc < 0)
		return rc;
	rc = sl_json_parse_list(e, arr, spath, r.target, "subnets", sizeof(*v->subnets),
				(void **)&v->subnets, &v->n_subnets, sl_parse_subnet, &c);
	if (rc < 0)
		return rc;
	/* sluice extension: the 802.1Q tag of the segment this network's backends are on */
	rc = sl_where_int(&r.props, "vlanId", false, 1, 4094, &vlan);
	if (rc < 0)
		return rc;
	v->vlan_id = rc > 0 ? (uint16_t)vlan : 0;
	return sl_parse_delivery(&r.props, v);
}
