/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_pmd_config.c: reads port profiles (see sl_pmd_config.h) with the JSON
 * reader kit of sl_json.h. Every malformed value is InvalidPortProfile.
 * A port's members are named exactly (case-sensitively) as listed in
 * pc_known(); the root's "ports" and the members of a port's sub-objects
 * (rss, gateway, exceptionPath) are found as the kit finds members,
 * ignoring case, as ARM documents are read.
 */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <rte_ethdev.h>

#include "sl_json.h"
#include "sl_pmd_config.h"
#include "sl_prefix.h"

#define SL_PMD_CONFIG_MAX_BYTES (1u << 20)
#define SL_PMD_VALUE_MAX 128 /* an address or MAC string after ${VAR} expansion */
#define SL_TAP_NAME_MAX 15   /* IFNAMSIZ less the NUL */

/* Every malformed value of a profile is refused with this code. */
static const char sl_pmd_value_code[] = "InvalidPortProfile";

/* Fill w's error (code, w's target, the member's path); returns -EINVAL. */
static int
pc_fail(const struct sl_where *w, const char *key, const char *code, const char *msg,
	const char *arg)
{
	char p[SL_JSON_PATH_MAX];

	if (key != NULL)
		sl_json_path_key(p, w->path, key);
	else
		snprintf(p, sizeof(p), "%s", w->path);
	return sl_error_set(w->err, code, w->target, p, "%s%s%s", msg, arg ? ": " : "",
			    arg ? arg : "");
}

/* Copy src to dst expanding ${VAR} from the environment (src is member key of w). */
static int
pc_expand(const struct sl_where *w, const char *key, const char *src, char *dst, size_t dst_len)
{
	size_t o = 0;

	for (const char *s = src; *s != '\0';) {
		if (s[0] == '$' && s[1] == '{') {
			const char *end = strchr(s + 2, '}');
			char var[128];

			if (end == NULL || (size_t)(end - s - 2) >= sizeof(var) || end == s + 2)
				return pc_fail(w, key, "InvalidPortProfile",
					       "malformed ${VARIABLE} in", src);
			memcpy(var, s + 2, end - s - 2);
			var[end - s - 2] = '\0';
			const char *val = getenv(var);
			if (val == NULL)
				return pc_fail(w, key, "InvalidPortProfile",
					       "environment variable not set", var);
			size_t vl = strlen(val);
			if (o + vl >= dst_len)
				return pc_fail(w, key, "InvalidPortProfile", "value too long", src);
			memcpy(dst + o, val, vl);
			o += vl;
			s = end + 1;
			continue;
		}
		if (o + 1 >= dst_len)
			return pc_fail(w, key, "InvalidPortProfile", "value too long", src);
		dst[o++] = *s++;
	}
	dst[o] = '\0';
	return 0;
}

/* A string member, ${VAR} expanded, into dst; "" when absent. */
static int
pc_string(const struct sl_where *w, const char *key, bool required, char *dst, size_t dst_len)
{
	const char *s;
	int rc = sl_where_string(w, key, required, &s);

	dst[0] = '\0';
	if (rc <= 0)
		return rc;
	return pc_expand(w, key, s, dst, dst_len);
}

/* An integer member in [min, max]; def when absent. */
static int
pc_uint(const struct sl_where *w, const char *key, uint32_t min, uint32_t max, uint32_t def,
	uint32_t *out)
{
	int64_t v;
	int rc = sl_where_int(w, key, false, min, max, &v);

	if (rc < 0)
		return rc;
	*out = rc > 0 ? (uint32_t)v : def;
	return 0;
}

/*
 * An address, optionally with its prefix length ("10.0.2.2/24"): the prefix
 * tells which addresses are on the port's segment (resolved by ARP/ND
 * directly) and which are reached through its gateway. prefix may be NULL
 * where no prefix is allowed; without one it is left at 0 (unknown).
 * want_family is SL_AF_IPV4, SL_AF_IPV6 or SL_AF_NONE (either).
 */
static int
pc_addr_prefix(const struct sl_where *w, const char *key, enum sl_ip_family want_family,
	       struct sl_ip_addr *a, uint8_t *present, uint8_t *prefix)
{
	const char *wrong = want_family == SL_AF_IPV6 ? "expected an IPv6 address" :
			    want_family == SL_AF_IPV4 ? "expected an IPv4 address" :
							"expected an IP address";
	enum sl_ip_family fam = SL_AF_NONE;
	char text[SL_PMD_VALUE_MAX];
	struct sl_prefix p;
	int rc = pc_string(w, key, false, text, sizeof(text));

	if (rc < 0)
		return rc;
	*present = 0;
	if (text[0] == '\0')
		return 0;
	if (strchr(text, '/') == NULL) {
		if (sl_ip_addr_parse(text, a, &fam) != 0 ||
		    (want_family != SL_AF_NONE && fam != want_family))
			return pc_fail(w, key, "InvalidIPAddress", wrong, text);
		if (prefix != NULL)
			*prefix = 0;
		*present = 1;
		return 0;
	}
	if (prefix == NULL)
		return pc_fail(w, key, "InvalidIPAddress", "no prefix length allowed here", text);
	rc = sl_prefix_parse_host(text, &p);
	if (rc == -EINVAL)
		return pc_fail(w, key, "InvalidIPAddress", wrong, text);
	fam = sl_ip_addr_is_v4(&p.addr) ? SL_AF_IPV4 : SL_AF_IPV6;
	if (want_family != SL_AF_NONE && fam != want_family)
		return pc_fail(w, key, "InvalidIPAddress", wrong, text);
	if (rc < 0 || sl_prefix_family_len(&p) == 0)
		return pc_fail(w, key, "InvalidIPAddress", "invalid prefix length",
			       strchr(text, '/') + 1);
	*a = p.addr;
	*prefix = sl_prefix_family_len(&p);
	*present = 1;
	return 0;
}

static int
pc_addr(const struct sl_where *w, const char *key, enum sl_ip_family want_family,
	struct sl_ip_addr *a, uint8_t *present)
{
	return pc_addr_prefix(w, key, want_family, a, present, NULL);
}

/* A MAC address member into *mac; *present 0 when absent. */
static int
pc_mac(const struct sl_where *w, const char *key, bool required, struct sl_mac *mac,
       uint8_t *present)
{
	char text[SL_PMD_VALUE_MAX];
	int rc = pc_string(w, key, required, text, sizeof(text));

	if (rc < 0)
		return rc;
	*present = text[0] != '\0';
	if (*present && sl_mac_parse(text, mac) != 0)
		return pc_fail(w, key, "InvalidMacAddress", "not a MAC address", text);
	return 0;
}

static const struct {
	const char *name;
	uint64_t hf;
} rss_names[] = {
	{"ip", RTE_ETH_RSS_IP},
	{"ipv4", RTE_ETH_RSS_IPV4},
	{"ipv6", RTE_ETH_RSS_IPV6},
	{"tcp", RTE_ETH_RSS_TCP},
	{"udp", RTE_ETH_RSS_UDP},
	{"ipv4-tcp", RTE_ETH_RSS_NONFRAG_IPV4_TCP},
	{"ipv4-udp", RTE_ETH_RSS_NONFRAG_IPV4_UDP},
	{"ipv6-tcp", RTE_ETH_RSS_NONFRAG_IPV6_TCP},
	{"ipv6-udp", RTE_ETH_RSS_NONFRAG_IPV6_UDP},
};

static int
pc_rss(const struct sl_where *rss, struct sl_port_cfg *pc)
{
	char hpath[SL_JSON_PATH_MAX], ip[SL_JSON_PATH_MAX];
	const cJSON *hf, *it;
	const char *key;
	uint32_t i = 0;
	int rc;

	rc = sl_where_array(rss, "hashFields", false, &hf, hpath);
	if (rc < 0)
		return rc;
	cJSON_ArrayForEach(it, hf) {
		size_t k;

		sl_json_path_index(ip, hpath, i++);
		if (!cJSON_IsString(it))
			return sl_error_set(rss->err, "InvalidPortProfile", rss->target, ip,
					    "expected a string");
		for (k = 0; k < RTE_DIM(rss_names); k++)
			if (strcasecmp(rss_names[k].name, it->valuestring) == 0)
				break;
		if (k == RTE_DIM(rss_names))
			return sl_error_set(rss->err, "InvalidPortProfile", rss->target, ip,
					    "unknown RSS hash field (ip, ipv4, ipv6, tcp, udp, ipv4-tcp, "
					    "ipv4-udp, ipv6-tcp, ipv6-udp): %s", it->valuestring);
		pc->rss_hf |= rss_names[k].hf;
	}
	rc = sl_where_string(rss, "key", false, &key);
	if (rc <= 0)
		return rc;
	size_t n = strlen(key);
	if (n % 2 != 0 || n / 2 > SL_RSS_KEY_MAX || n == 0)
		return pc_fail(rss, "key", "InvalidPortProfile",
			       "RSS key must be an even number of hex digits, at most 104", key);
	for (size_t j = 0; j < n / 2; j++) {
		unsigned int byte;
		if (!isxdigit((unsigned char)key[2 * j]) ||
		    !isxdigit((unsigned char)key[2 * j + 1]) ||
		    sscanf(&key[2 * j], "%2x", &byte) != 1)
			return pc_fail(rss, "key", "InvalidPortProfile", "RSS key is not hex", key);
		pc->rss_key[j] = (uint8_t)byte;
	}
	pc->rss_key_len = (uint8_t)(n / 2);
	return 0;
}

/* One static neighbour (sl_json_parse_list() parser; ctx is the port's where). */
static int
pc_neighbour(void *ctx, void *item, uint32_t i, const cJSON *el, const char *path)
{
	const struct sl_where *port = ctx;
	struct sl_where w = *port;
	struct sl_neighbour *nb = item;
	uint8_t present;
	int rc;

	(void)i;
	w.path = path;
	w.obj = el;
	if (!cJSON_IsObject(el))
		return pc_fail(&w, NULL, "InvalidPortProfile", "expected an object", NULL);
	rc = pc_addr(&w, "ipAddress", SL_AF_NONE, &nb->addr, &present);
	if (rc != 0)
		return rc;
	if (!present)
		return sl_where_missing(&w, "ipAddress");
	return pc_mac(&w, "macAddress", true, &nb->mac, &present);
}

static int
pc_neighbours(const struct sl_where *port, struct sl_port_cfg *pc)
{
	char path[SL_JSON_PATH_MAX];
	const cJSON *arr;
	uint32_t n;
	int rc;

	rc = sl_where_array(port, "neighbours", false, &arr, path);
	if (rc <= 0)
		return rc;
	if (cJSON_GetArraySize(arr) > SL_MAX_NEIGHBOURS)
		return sl_error_set(port->err, "InvalidPortProfile", port->target, path,
				    "too many static neighbours");
	rc = sl_json_parse_list(port->err, arr, path, port->target, NULL, sizeof(*pc->neighbours),
				(void **)&pc->neighbours, &n, pc_neighbour, (void *)port);
	if (rc < 0)
		return rc;
	pc->info.neighbours = pc->neighbours;
	pc->info.n_neighbours = n;
	return 0;
}

/* Members other than these (and comments, whose names start with '_') are refused. */
static int
pc_known(const struct sl_where *w)
{
	static const char *const known[] = {
		"name", "device", "devargs", "rxQueues", "rxDescriptors", "txDescriptors", "mtu",
		"rss", "promiscuous", "macAddress", "ipv4Address", "ipv6Address", "gateway",
		"neighbours", "extraMbufs", "description", "vlanId", "exceptionPath",
		"neighbourDiscovery", "scatter",
	};
	const cJSON *it;

	cJSON_ArrayForEach(it, w->obj) {
		size_t k;
		if (it->string[0] == '_')
			continue;
		for (k = 0; k < RTE_DIM(known); k++)
			if (strcmp(known[k], it->string) == 0)
				break;
		if (k == RTE_DIM(known))
			return pc_fail(w, NULL, "UnknownProperty", "unknown port property",
				       it->string);
	}
	return 0;
}

/* The sub-objects of a port: rss, exceptionPath, gateway. */
static int
pc_port_objects(const struct sl_where *w, struct sl_port_cfg *pc)
{
	char rpath[SL_JSON_PATH_MAX], epath[SL_JSON_PATH_MAX], gpath[SL_JSON_PATH_MAX];
	struct sl_where rss, ex, gw;
	size_t tap_len;
	int rc;

	rc = sl_where_object(w, "rss", false, &rss, rpath);
	if (rc > 0)
		rc = pc_rss(&rss, pc);
	if (rc < 0)
		return rc;
	rc = sl_where_object(w, "exceptionPath", false, &ex, epath);
	if (rc > 0)
		rc = pc_string(&ex, "tap", true, pc->tap_name, sizeof(pc->tap_name));
	if (rc < 0)
		return rc;
	tap_len = strlen(pc->tap_name);
	if (ex.obj != NULL &&
	    (tap_len > SL_TAP_NAME_MAX || tap_len == 0 ||
	     strspn(pc->tap_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "0123456789-_.") != tap_len))
		return pc_fail(&ex, NULL, "InvalidPortProfile",
			       "tap must be an interface name of 1-15 letters, digits, "
			       "'-', '_' or '.'", pc->tap_name);
	rc = sl_where_object(w, "gateway", false, &gw, gpath);
	if (rc <= 0)
		return rc;
	if ((rc = pc_addr(&gw, "ipv4", SL_AF_IPV4, &pc->info.gateway_v4,
			  &pc->info.has_gateway_v4)) != 0)
		return rc;
	return pc_addr(&gw, "ipv6", SL_AF_IPV6, &pc->info.gateway_v6, &pc->info.has_gateway_v6);
}

/*
 * An AF_XDP port (device net_af_xdpN): the interface comes from devargs
 * iface=, the program is sluice's (sluiced adds xdp_prog=), the MAC is the
 * interface's, and the kernel sees directly what is not sluice's, so an
 * exception path has nothing to carry.
 */
static int
pc_af_xdp(const struct sl_where *w, struct sl_port_cfg *pc)
{
	const char *a = pc->devargs, *iface = NULL;
	size_t len;

	if (strncmp(pc->device, "net_af_xdp", 10) != 0)
		return 0;
	pc->af_xdp = 1;
	for (const char *p = a; p != NULL; p = strchr(p, ',') != NULL ? strchr(p, ',') + 1 : NULL) {
		if (strncmp(p, "iface=", 6) == 0)
			iface = p + 6;
		else if (strncmp(p, "xdp_prog=", 9) == 0)
			return pc_fail(w, NULL, "InvalidPortProfile",
				       "an AF_XDP port runs sluice's own XDP program: leave xdp_prog "
				       "out of devargs", pc->devargs);
	}
	if (iface == NULL)
		return pc_fail(w, NULL, "InvalidPortProfile",
			       "an AF_XDP port needs iface=INTERFACE in devargs", pc->devargs);
	len = strcspn(iface, ",");
	if (len == 0 || len >= SL_IFNAME_MAX)
		return pc_fail(w, NULL, "InvalidPortProfile",
			       "iface= must name a kernel interface of 1-15 characters", pc->devargs);
	memcpy(pc->xdp_iface, iface, len);
	pc->xdp_iface[len] = '\0';
	if (pc->tap_name[0] != '\0')
		return pc_fail(w, NULL, "InvalidPortProfile",
			       "an AF_XDP port needs no exception path: the kernel keeps the "
			       "interface and sees directly what is not sluice's; remove "
			       "exceptionPath", pc->tap_name);
	if (pc->has_mac)
		return pc_fail(w, NULL, "InvalidPortProfile",
			       "an AF_XDP port has its interface's MAC: remove macAddress", NULL);
	/* without an address of its own, ARP replies would come to 0.0.0.0: the kernel's */
	if (pc->neighbour_discovery && !pc->info.has_ipv4)
		return pc_fail(w, NULL, "InvalidPortProfile",
			       "an AF_XDP port that finds its neighbours by ARP needs an ipv4Address "
			       "of its own (not the kernel's), where the answers come back; or "
			       "neighbourDiscovery false with static neighbours", NULL);
	return 0;
}

/* "scatter": absent (SL_SCATTER_AUTO), true or false. */
static int
pc_scatter(const struct sl_where *w, struct sl_port_cfg *pc)
{
	uint8_t on = 0;
	int rc = sl_where_bool(w, "scatter", &on);

	if (rc <= 0)
		return rc;
	pc->scatter = on ? SL_SCATTER_ON : SL_SCATTER_OFF;
	return 0;
}

/*
 * A port with scatter false takes frames of its MTU in one mbuf: the
 * profile's mbufSize must hold them.
 */
static int
pc_check_mbuf_size(const struct sl_pmd_config *c, const char *ports_path, const char *file,
		   struct sl_error *err)
{
	char path[SL_JSON_PATH_MAX], item[SL_JSON_PATH_MAX];

	for (uint32_t i = 0; i < c->n_ports; i++) {
		const struct sl_port_cfg *pc = &c->ports[i];
		if (pc->scatter != SL_SCATTER_OFF || sl_port_max_frame(pc) <= c->mbuf_size)
			continue;
		sl_json_path_index(item, ports_path, i);
		sl_json_path_key(path, item, "scatter");
		return sl_error_set(err, "InvalidPortProfile", file, path,
				    "port %s: mtu %u makes frames of up to %u bytes, more than one "
				    "mbuf holds (mbufSize %u): raise mbufSize to at least %u, or let "
				    "the port scatter", pc->name, pc->mtu, sl_port_max_frame(pc),
				    c->mbuf_size, sl_port_max_frame(pc));
	}
	return 0;
}

/* One port (sl_json_parse_list() parser); ctx is the profile's where. */
static int
pc_port(void *ctx, void *item, uint32_t i, const cJSON *o, const char *path)
{
	const struct sl_where *profile = ctx;
	struct sl_port_cfg *pc = item, *ports = pc - i;
	struct sl_where w = *profile;
	uint32_t v;
	int rc;

	w.path = path;
	w.obj = o;
	if (!cJSON_IsObject(o))
		return pc_fail(&w, NULL, "InvalidPortProfile", "expected an object", NULL);
	if ((rc = pc_known(&w)) != 0)
		return rc;
	if ((rc = pc_string(&w, "name", true, pc->name, sizeof(pc->name))) != 0 ||
	    (rc = pc_string(&w, "device", true, pc->device, sizeof(pc->device))) != 0 ||
	    (rc = pc_string(&w, "devargs", false, pc->devargs, sizeof(pc->devargs))) != 0)
		return rc;
	if (pc->name[0] == '\0' || pc->device[0] == '\0')
		return pc_fail(&w, pc->name[0] == '\0' ? "name" : "device", "InvalidPortProfile",
			       "expected a non-empty string", NULL);
	if ((rc = pc_uint(&w, "rxQueues", 0, 128, 0, &v)) != 0)
		return rc;
	pc->rx_queues = (uint16_t)v;
	if ((rc = pc_uint(&w, "rxDescriptors", 64, 32768, 1024, &v)) != 0)
		return rc;
	pc->rx_desc = (uint16_t)v;
	if ((rc = pc_uint(&w, "txDescriptors", 64, 32768, 1024, &v)) != 0)
		return rc;
	pc->tx_desc = (uint16_t)v;
	if ((rc = pc_uint(&w, "mtu", 0, 9600, 0, &v)) != 0)
		return rc;
	if (v != 0 && v < 576)
		return pc_fail(&w, NULL, "InvalidPortProfile", "mtu must be at least 576", NULL);
	pc->mtu = (uint16_t)v;
	if ((rc = pc_scatter(&w, pc)) != 0)
		return rc;
	if ((rc = pc_uint(&w, "extraMbufs", 0, 16u << 20, 0, &v)) != 0)
		return rc;
	pc->extra_mbufs = v;
	pc->info.mtu = pc->mtu ? pc->mtu : 1500;
	if ((rc = sl_where_bool(&w, "promiscuous", &pc->promiscuous)) < 0)
		return rc;
	if ((rc = pc_mac(&w, "macAddress", false, &pc->info.mac, &pc->has_mac)) != 0)
		return rc;
	if ((rc = pc_addr_prefix(&w, "ipv4Address", SL_AF_IPV4, &pc->info.ipv4,
				 &pc->info.has_ipv4, &pc->info.ipv4_prefix)) != 0 ||
	    (rc = pc_addr_prefix(&w, "ipv6Address", SL_AF_IPV6, &pc->info.ipv6,
				 &pc->info.has_ipv6, &pc->info.ipv6_prefix)) != 0)
		return rc;
	if ((rc = pc_uint(&w, "vlanId", 0, 4094, 0, &v)) != 0)
		return rc;
	pc->info.vlan_tci = (uint16_t)v;
	pc->neighbour_discovery = 1;
	if ((rc = sl_where_bool(&w, "neighbourDiscovery", &pc->neighbour_discovery)) < 0)
		return rc;
	if ((rc = pc_port_objects(&w, pc)) != 0 || (rc = pc_neighbours(&w, pc)) != 0)
		return rc;
	if ((rc = pc_af_xdp(&w, pc)) != 0)
		return rc;
	for (uint32_t k = 0; k < i; k++) {
		if (strcmp(ports[k].name, pc->name) == 0)
			return pc_fail(&w, NULL, "DuplicatePortName", "two ports are named",
				       pc->name);
		if (pc->af_xdp && ports[k].af_xdp && strcmp(ports[k].xdp_iface, pc->xdp_iface) == 0)
			return pc_fail(&w, NULL, "InvalidPortProfile",
				       "two AF_XDP ports are on interface", pc->xdp_iface);
	}
	return 0;
}

int
sl_pmd_config_parse(const char *text, size_t size, const char *name, struct sl_pmd_config *out,
		    struct sl_error *err)
{
	struct sl_where w = {err, name, "$", NULL, sl_pmd_value_code};
	char ports_path[SL_JSON_PATH_MAX];
	const cJSON *ports;
	cJSON *root;
	int rc;

	memset(out, 0, sizeof(*out));
	root = sl_json_parse(text, size, name, err);
	if (root == NULL) {
		rc = -EINVAL;
		if (err != NULL)
			snprintf(err->json_path, sizeof(err->json_path), "$");
		goto out;
	}
	w.obj = root;
	if ((rc = pc_uint(&w, "mbufSize", SL_MBUF_SIZE_DEFAULT, SL_MBUF_SIZE_MAX,
			  SL_MBUF_SIZE_DEFAULT, &out->mbuf_size)) != 0)
		goto out;
	rc = sl_where_array(&w, "ports", false, &ports, ports_path);
	if (rc >= 0 && cJSON_GetArraySize(ports) == 0)
		rc = pc_fail(&w, "ports", "InvalidPortProfile", "expected a non-empty list of ports",
			     NULL);
	else if (rc >= 0 && cJSON_GetArraySize(ports) > SL_MAX_PORTS)
		rc = pc_fail(&w, "ports", "InvalidPortProfile", "too many ports (at most 8)", NULL);
	else if (rc >= 0)
		rc = sl_json_parse_list(err, ports, ports_path, name, NULL, sizeof(*out->ports),
					(void **)&out->ports, &out->n_ports, pc_port, &w);
	if (rc == 0)
		rc = pc_check_mbuf_size(out, ports_path, name, err);
out:
	cJSON_Delete(root);
	if (rc != 0) {
		if (err != NULL)
			snprintf(err->file, sizeof(err->file), "%s", name);
		sl_pmd_config_free(out);
	}
	return rc;
}

int
sl_pmd_config_load(const char *path, struct sl_pmd_config *out, struct sl_error *err)
{
	size_t size;
	char *text;
	int rc;

	memset(out, 0, sizeof(*out));
	text = sl_file_read(path, SL_PMD_CONFIG_MAX_BYTES, &size, "PortProfileUnreadable", err);
	if (text == NULL)
		return -errno;
	rc = sl_pmd_config_parse(text, size, path, out, err);
	free(text);
	return rc;
}

void
sl_pmd_config_free(struct sl_pmd_config *c)
{
	if (c == NULL)
		return;
	for (uint32_t i = 0; i < c->n_ports; i++)
		free(c->ports[i].neighbours);
	free(c->ports);
	c->ports = NULL;
	c->n_ports = 0;
}
