/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_pmd_config.c: reads port profiles (see sl_pmd_config.h) with cJSON.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <rte_ethdev.h>

#include "sl_json.h"
#include "sl_pmd_config.h"

#define SL_PMD_CONFIG_MAX_BYTES (1u << 20)

struct pc_ctx {
	const char *file;
	struct sl_error *err;
};

static int
pc_fail(struct pc_ctx *c, const char *path, const char *code, const char *msg, const char *arg)
{
	int rc = sl_error_set(c->err, code, arg ? arg : "", path, "%s%s%s", msg,
			      arg ? ": " : "", arg ? arg : "");
	if (c->err)
		snprintf(c->err->file, sizeof(c->err->file), "%s", c->file);
	return rc;
}

/* Copy src to dst expanding ${VAR} from the environment. */
static int
pc_expand(struct pc_ctx *c, const char *path, const char *src, char *dst, size_t dst_len)
{
	size_t o = 0;

	for (const char *s = src; *s != '\0';) {
		if (s[0] == '$' && s[1] == '{') {
			const char *end = strchr(s + 2, '}');
			char var[128];

			if (end == NULL || (size_t)(end - s - 2) >= sizeof(var) || end == s + 2)
				return pc_fail(c, path, "InvalidPortProfile",
					       "malformed ${VARIABLE} in", src);
			memcpy(var, s + 2, end - s - 2);
			var[end - s - 2] = '\0';
			const char *val = getenv(var);
			if (val == NULL)
				return pc_fail(c, path, "InvalidPortProfile",
					       "environment variable not set", var);
			size_t vl = strlen(val);
			if (o + vl >= dst_len)
				return pc_fail(c, path, "InvalidPortProfile", "value too long", src);
			memcpy(dst + o, val, vl);
			o += vl;
			s = end + 1;
			continue;
		}
		if (o + 1 >= dst_len)
			return pc_fail(c, path, "InvalidPortProfile", "value too long", src);
		dst[o++] = *s++;
	}
	dst[o] = '\0';
	return 0;
}

static int
pc_string(struct pc_ctx *c, const cJSON *obj, const char *key, const char *path, char *dst,
	  size_t dst_len, int required)
{
	char p[512];
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (v == NULL) {
		if (required)
			return pc_fail(c, p, "MissingRequiredProperty", "required property missing",
				       key);
		dst[0] = '\0';
		return 0;
	}
	if (!cJSON_IsString(v))
		return pc_fail(c, p, "InvalidRequestFormat", "expected a string for", key);
	return pc_expand(c, p, v->valuestring, dst, dst_len);
}

static int
pc_uint(struct pc_ctx *c, const cJSON *obj, const char *key, const char *path, uint32_t min,
	uint32_t max, uint32_t def, uint32_t *out)
{
	char p[512];
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble ||
	    v->valuedouble < min || v->valuedouble > max) {
		char msg[128];
		snprintf(msg, sizeof(msg), "expected an integer in [%u, %u] for", min, max);
		return pc_fail(c, p, "InvalidPortProfile", msg, key);
	}
	*out = (uint32_t)v->valuedouble;
	return 0;
}

/*
 * An address, optionally with its prefix length ("10.0.2.2/24"): the prefix
 * tells which addresses are on the port's segment (resolved by ARP/ND
 * directly) and which are reached through its gateway. prefix may be NULL
 * where no prefix is allowed; without one it is left at 0 (unknown).
 */
static int
pc_addr_prefix(struct pc_ctx *c, const cJSON *obj, const char *key, const char *path,
	       int want_family, struct sl_ip_addr *a, uint8_t *present, uint8_t *prefix)
{
	char text[128];
	char p[512];
	enum sl_ip_family fam;
	int rc = pc_string(c, obj, key, path, text, sizeof(text), 0);

	if (rc != 0)
		return rc;
	*present = 0;
	if (text[0] == '\0')
		return 0;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	char *slash = strchr(text, '/');
	long plen = -1;
	if (slash != NULL) {
		char *end;
		if (prefix == NULL)
			return pc_fail(c, p, "InvalidIPAddress", "no prefix length allowed here",
				       text);
		*slash = '\0';
		plen = strtol(slash + 1, &end, 10);
		if (*end != '\0' || end == slash + 1 || plen < 1)
			plen = 999;
	}
	if (sl_ip_addr_parse(text, a, &fam) != 0 || (want_family != 0 && (int)fam != want_family))
		return pc_fail(c, p, "InvalidIPAddress",
			       want_family == 6 ? "expected an IPv6 address" :
			       want_family == 4 ? "expected an IPv4 address" :
			       "expected an IP address", text);
	if (plen > (fam == SL_AF_IPV4 ? 32 : 128))
		return pc_fail(c, p, "InvalidIPAddress", "invalid prefix length", slash + 1);
	if (prefix != NULL)
		*prefix = plen < 0 ? 0 : (uint8_t)plen;
	*present = 1;
	return 0;
}

static int
pc_addr(struct pc_ctx *c, const cJSON *obj, const char *key, const char *path, int want_family,
	struct sl_ip_addr *a, uint8_t *present)
{
	return pc_addr_prefix(c, obj, key, path, want_family, a, present, NULL);
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
pc_rss(struct pc_ctx *c, const cJSON *rss, const char *path, struct sl_port_cfg *pc)
{
	char p[512];
	const cJSON *hf = cJSON_GetObjectItemCaseSensitive(rss, "hashFields");
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(rss, "key");
	int i = 0;
	const cJSON *it;

	snprintf(p, sizeof(p), "%s.hashFields", path);
	if (hf != NULL && !cJSON_IsArray(hf))
		return pc_fail(c, p, "InvalidPortProfile", "expected a list of hash fields", NULL);
	cJSON_ArrayForEach(it, hf) {
		char ip[600];
		size_t k;

		snprintf(ip, sizeof(ip), "%s[%d]", p, i++);
		if (!cJSON_IsString(it))
			return pc_fail(c, ip, "InvalidPortProfile", "expected a string", NULL);
		for (k = 0; k < RTE_DIM(rss_names); k++)
			if (strcasecmp(rss_names[k].name, it->valuestring) == 0)
				break;
		if (k == RTE_DIM(rss_names))
			return pc_fail(c, ip, "InvalidPortProfile",
				       "unknown RSS hash field (ip, ipv4, ipv6, tcp, udp, ipv4-tcp, "
				       "ipv4-udp, ipv6-tcp, ipv6-udp)", it->valuestring);
		pc->rss_hf |= rss_names[k].hf;
	}
	if (key != NULL) {
		snprintf(p, sizeof(p), "%s.key", path);
		if (!cJSON_IsString(key))
			return pc_fail(c, p, "InvalidPortProfile", "expected a hex string", NULL);
		size_t n = strlen(key->valuestring);
		if (n % 2 != 0 || n / 2 > SL_RSS_KEY_MAX || n == 0)
			return pc_fail(c, p, "InvalidPortProfile",
				       "RSS key must be an even number of hex digits, at most 104",
				       key->valuestring);
		for (size_t j = 0; j < n / 2; j++) {
			unsigned int byte;
			if (!isxdigit((unsigned char)key->valuestring[2 * j]) ||
			    !isxdigit((unsigned char)key->valuestring[2 * j + 1]) ||
			    sscanf(&key->valuestring[2 * j], "%2x", &byte) != 1)
				return pc_fail(c, p, "InvalidPortProfile", "RSS key is not hex",
					       key->valuestring);
			pc->rss_key[j] = (uint8_t)byte;
		}
		pc->rss_key_len = (uint8_t)(n / 2);
	}
	return 0;
}

static int
pc_neighbours(struct pc_ctx *c, const cJSON *arr, const char *path, struct sl_port_cfg *pc)
{
	int n = cJSON_GetArraySize(arr);
	int i = 0;
	const cJSON *it;

	if (!cJSON_IsArray(arr))
		return pc_fail(c, path, "InvalidPortProfile", "expected a list of neighbours", NULL);
	if (n > SL_MAX_NEIGHBOURS)
		return pc_fail(c, path, "InvalidPortProfile", "too many static neighbours", NULL);
	pc->neighbours = calloc(n > 0 ? n : 1, sizeof(*pc->neighbours));
	if (pc->neighbours == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(it, arr) {
		char ip[512], mac[64], p[600];
		uint8_t present;

		snprintf(ip, sizeof(ip), "%s[%d]", path, i);
		if (!cJSON_IsObject(it))
			return pc_fail(c, ip, "InvalidPortProfile", "expected an object", NULL);
		int rc = pc_addr(c, it, "ipAddress", ip, 0, &pc->neighbours[i].addr, &present);
		if (rc != 0)
			return rc;
		if (!present)
			return pc_fail(c, ip, "MissingRequiredProperty", "required property missing",
				       "ipAddress");
		rc = pc_string(c, it, "macAddress", ip, mac, sizeof(mac), 1);
		if (rc != 0)
			return rc;
		snprintf(p, sizeof(p), "%s.macAddress", ip);
		if (sl_mac_parse(mac, &pc->neighbours[i].mac) != 0)
			return pc_fail(c, p, "InvalidMacAddress", "not a MAC address", mac);
		i++;
	}
	pc->info.neighbours = pc->neighbours;
	pc->info.n_neighbours = (uint32_t)i;
	return 0;
}

static int
pc_port(struct pc_ctx *c, const cJSON *o, const char *path, struct sl_port_cfg *pc)
{
	static const char *const known[] = {
		"name", "device", "devargs", "rxQueues", "rxDescriptors", "txDescriptors", "mtu",
		"rss", "promiscuous", "macAddress", "ipv4Address", "ipv6Address", "gateway",
		"neighbours", "extraMbufs", "description", "vlanId", "exceptionPath",
		"neighbourDiscovery",
	};
	const cJSON *it;
	uint32_t v;
	char mac[64];
	int rc;

	if (!cJSON_IsObject(o))
		return pc_fail(c, path, "InvalidPortProfile", "expected an object", NULL);
	cJSON_ArrayForEach(it, o) {
		size_t k;
		if (it->string[0] == '_')
			continue;
		for (k = 0; k < RTE_DIM(known); k++)
			if (strcmp(known[k], it->string) == 0)
				break;
		if (k == RTE_DIM(known))
			return pc_fail(c, path, "UnknownProperty", "unknown port property",
				       it->string);
	}
	if ((rc = pc_string(c, o, "name", path, pc->name, sizeof(pc->name), 1)) != 0 ||
	    (rc = pc_string(c, o, "device", path, pc->device, sizeof(pc->device), 1)) != 0 ||
	    (rc = pc_string(c, o, "devargs", path, pc->devargs, sizeof(pc->devargs), 0)) != 0)
		return rc;
	if ((rc = pc_uint(c, o, "rxQueues", path, 0, 128, 0, &v)) != 0)
		return rc;
	pc->rx_queues = (uint16_t)v;
	if ((rc = pc_uint(c, o, "rxDescriptors", path, 64, 32768, 1024, &v)) != 0)
		return rc;
	pc->rx_desc = (uint16_t)v;
	if ((rc = pc_uint(c, o, "txDescriptors", path, 64, 32768, 1024, &v)) != 0)
		return rc;
	pc->tx_desc = (uint16_t)v;
	if ((rc = pc_uint(c, o, "mtu", path, 0, 9600, 0, &v)) != 0)
		return rc;
	if (v != 0 && v < 576)
		return pc_fail(c, path, "InvalidPortProfile", "mtu must be at least 576", NULL);
	pc->mtu = (uint16_t)v;
	if ((rc = pc_uint(c, o, "extraMbufs", path, 0, 16u << 20, 0, &v)) != 0)
		return rc;
	pc->extra_mbufs = v;
	pc->info.mtu = pc->mtu ? pc->mtu : 1500;

	const cJSON *pr = cJSON_GetObjectItemCaseSensitive(o, "promiscuous");
	if (pr != NULL) {
		if (!cJSON_IsBool(pr))
			return pc_fail(c, path, "InvalidPortProfile", "expected true or false for",
				       "promiscuous");
		pc->promiscuous = cJSON_IsTrue(pr) ? 1 : 0;
	}
	const cJSON *rss = cJSON_GetObjectItemCaseSensitive(o, "rss");
	if (rss != NULL) {
		char p[512];
		snprintf(p, sizeof(p), "%s.rss", path);
		if (!cJSON_IsObject(rss))
			return pc_fail(c, p, "InvalidPortProfile", "expected an object", NULL);
		if ((rc = pc_rss(c, rss, p, pc)) != 0)
			return rc;
	}
	if ((rc = pc_string(c, o, "macAddress", path, mac, sizeof(mac), 0)) != 0)
		return rc;
	if (mac[0] != '\0') {
		char p[512];
		snprintf(p, sizeof(p), "%s.macAddress", path);
		if (sl_mac_parse(mac, &pc->info.mac) != 0)
			return pc_fail(c, p, "InvalidMacAddress", "not a MAC address", mac);
		pc->has_mac = 1;
	}
	if ((rc = pc_addr_prefix(c, o, "ipv4Address", path, 4, &pc->info.ipv4, &pc->info.has_ipv4,
				 &pc->info.ipv4_prefix)) != 0 ||
	    (rc = pc_addr_prefix(c, o, "ipv6Address", path, 6, &pc->info.ipv6, &pc->info.has_ipv6,
				 &pc->info.ipv6_prefix)) != 0)
		return rc;
	if ((rc = pc_uint(c, o, "vlanId", path, 0, 4094, 0, &v)) != 0)
		return rc;
	pc->info.vlan_tci = (uint16_t)v;
	pc->neighbour_discovery = 1;
	const cJSON *nd = cJSON_GetObjectItemCaseSensitive(o, "neighbourDiscovery");
	if (nd != NULL) {
		if (!cJSON_IsBool(nd))
			return pc_fail(c, path, "InvalidPortProfile", "expected true or false for",
				       "neighbourDiscovery");
		pc->neighbour_discovery = cJSON_IsTrue(nd) ? 1 : 0;
	}
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(o, "exceptionPath");
	if (ex != NULL) {
		char p[512];
		snprintf(p, sizeof(p), "%s.exceptionPath", path);
		if (!cJSON_IsObject(ex))
			return pc_fail(c, p, "InvalidPortProfile", "expected an object", NULL);
		if ((rc = pc_string(c, ex, "tap", p, pc->tap_name, sizeof(pc->tap_name), 1)) != 0)
			return rc;
		if (strlen(pc->tap_name) >= 16 || pc->tap_name[0] == '\0' ||
		    strspn(pc->tap_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789-_.") != strlen(pc->tap_name))
			return pc_fail(c, p, "InvalidPortProfile",
				       "tap must be an interface name of 1-15 letters, digits, "
				       "'-', '_' or '.'", pc->tap_name);
	}
	const cJSON *gw = cJSON_GetObjectItemCaseSensitive(o, "gateway");
	if (gw != NULL) {
		char p[512];
		snprintf(p, sizeof(p), "%s.gateway", path);
		if (!cJSON_IsObject(gw))
			return pc_fail(c, p, "InvalidPortProfile", "expected an object", NULL);
		if ((rc = pc_addr(c, gw, "ipv4", p, 4, &pc->info.gateway_v4,
				  &pc->info.has_gateway_v4)) != 0 ||
		    (rc = pc_addr(c, gw, "ipv6", p, 6, &pc->info.gateway_v6,
				  &pc->info.has_gateway_v6)) != 0)
			return rc;
	}
	const cJSON *nb = cJSON_GetObjectItemCaseSensitive(o, "neighbours");
	if (nb != NULL) {
		char p[512];
		snprintf(p, sizeof(p), "%s.neighbours", path);
		if ((rc = pc_neighbours(c, nb, p, pc)) != 0)
			return rc;
	}
	return 0;
}

int
sl_pmd_config_load(const char *path, struct sl_pmd_config *out, struct sl_error *err)
{
	struct pc_ctx c = {.file = path, .err = err};
	char *text = NULL;
	cJSON *root = NULL;
	int rc = 0;
	size_t size;

	memset(out, 0, sizeof(*out));
	text = sl_file_read(path, SL_PMD_CONFIG_MAX_BYTES, &size, "PortProfileUnreadable", err);
	if (text == NULL)
		return -errno;
	root = sl_json_parse(text, size, path, err);
	if (root == NULL) {
		rc = -EINVAL;
		if (err != NULL) {
			snprintf(err->file, sizeof(err->file), "%s", path);
			snprintf(err->json_path, sizeof(err->json_path), "$");
		}
		goto out;
	}
	const cJSON *ports = cJSON_GetObjectItemCaseSensitive(root, "ports");
	if (!cJSON_IsArray(ports) || cJSON_GetArraySize(ports) == 0) {
		rc = pc_fail(&c, "$.ports", "InvalidPortProfile", "expected a non-empty list of ports",
			     NULL);
		goto out;
	}
	if (cJSON_GetArraySize(ports) > SL_MAX_PORTS) {
		rc = pc_fail(&c, "$.ports", "InvalidPortProfile", "too many ports (at most 8)", NULL);
		goto out;
	}
	out->ports = calloc(cJSON_GetArraySize(ports), sizeof(*out->ports));
	if (out->ports == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	const cJSON *p;
	cJSON_ArrayForEach(p, ports) {
		char jp[64];
		snprintf(jp, sizeof(jp), "$.ports[%u]", out->n_ports);
		rc = pc_port(&c, p, jp, &out->ports[out->n_ports]);
		out->n_ports++;
		if (rc != 0)
			goto out;
		for (uint32_t i = 0; i + 1 < out->n_ports; i++)
			if (strcmp(out->ports[i].name, out->ports[out->n_ports - 1].name) == 0) {
				rc = pc_fail(&c, jp, "DuplicatePortName", "two ports are named",
					     out->ports[i].name);
				goto out;
			}
	}
out:
	cJSON_Delete(root);
	free(text);
	if (rc != 0)
		sl_pmd_config_free(out);
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
