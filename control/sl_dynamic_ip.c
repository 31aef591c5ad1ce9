/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_dynamic_ip.c: addresses for NIC ipConfigurations that have none
 * (privateIPAllocationMethod Dynamic), written into the document before it
 * is validated, and kept across a PUT of the NIC (see sl_dynamic_ip.h).
 *
 * The document is read leniently: whatever is not of the expected shape is
 * skipped and left for validation to report.
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
#include "sl_dynamic_ip.h"

/* Addresses in use, sorted once collected. */
struct sl_ip_set {
	struct sl_ip_addr *v;
	uint32_t n, cap;
};

static int
sl_cmp_ip(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct sl_ip_addr));
}

static int
sl_ip_set_reserve(struct sl_ip_set *s, uint64_t want)
{
	struct sl_ip_addr *v;
	uint64_t cap = s->cap ? s->cap : 64;

	if (want <= s->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	if (cap > UINT32_MAX)
		return -ENOMEM;
	v = realloc(s->v, cap * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	s->v = v;
	s->cap = (uint32_t)cap;
	return 0;
}

/* Add the address text holds; text that is no address is left to validation. */
static int
sl_ip_set_add_text(struct sl_ip_set *s, const char *text)
{
	struct sl_ip_addr a;

	if (text == NULL || sl_ip_addr_parse(text, &a, NULL) < 0)
		return 0;
	if (sl_ip_set_reserve(s, (uint64_t)s->n + 1) < 0)
		return -ENOMEM;
	s->v[s->n++] = a;
	return 0;
}

/* Every frontend, pool and ipConfiguration address; *n_ipc counts the ipConfigurations. */
static int
sl_collect_used(const cJSON *root, struct sl_ip_set *used, uint64_t *n_ipc)
{
	const cJSON *lb, *fe, *pool, *addr, *nic, *ic;
	int rc;

	cJSON_ArrayForEach(lb, sl_json_member_array(root, "loadBalancers")) {
		const cJSON *props = sl_json_member(lb, "properties");

		cJSON_ArrayForEach(fe, sl_json_member_array(props, "frontendIPConfigurations")) {
			rc = sl_ip_set_add_text(used, sl_json_member_string(sl_json_member(fe, "properties"),
								  "privateIPAddress"));
			if (rc < 0)
				return rc;
		}
		cJSON_ArrayForEach(pool, sl_json_member_array(props, "backendAddressPools")) {
			cJSON_ArrayForEach(addr, sl_json_member_array(sl_json_member(pool, "properties"),
							    "loadBalancerBackendAddresses")) {
				rc = sl_ip_set_add_text(used, sl_json_member_string(sl_json_member(addr, "properties"),
									  "ipAddress"));
				if (rc < 0)
					return rc;
			}
		}
	}
	cJSON_ArrayForEach(nic, sl_json_member_array(root, "networkInterfaces")) {
		cJSON_ArrayForEach(ic, sl_json_member_array(sl_json_member(nic, "properties"), "ipConfigurations")) {
			(*n_ipc)++;
			rc = sl_ip_set_add_text(used, sl_json_member_string(sl_json_member(ic, "properties"),
								  "privateIPAddress"));
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/*
 * The virtual network of the document that ref's parent names: by name and,
 * when the id has one, scope (as validation resolves it); NULL when none
 * or, for an id without scope, several do.
 */
static const cJSON *
sl_vnet_of(const cJSON *root, const struct sl_ref *ref)
{
	const cJSON *v, *found = NULL;
	struct sl_scope s;

	cJSON_ArrayForEach(v, sl_json_member_array(root, "virtualNetworks")) {
		const char *name = sl_json_member_string(v, "name");

		if (name == NULL || strcasecmp(name, ref->parent) != 0)
			continue;
		sl_id_scope(sl_json_member_string(v, "id"), &s);
		if (!sl_scope_match(&s, &ref->scope))
			continue;
		if (found != NULL)
			return NULL;
		found = v;
	}
	return found;
}

/* The prefix of the subnet that id names in the document; false when it does not resolve. */
static bool
sl_subnet_prefix_of(const cJSON *root, const char *id, struct sl_prefix *p, struct sl_ref *ref)
{
	const cJSON *v, *sn;

	if (id == NULL || sl_ref_split(id, "virtualNetworks", "subnets", ref) < 0 ||
	    ref->parent[0] == '\0')
		return false;
	v = sl_vnet_of(root, ref);
	cJSON_ArrayForEach(sn, sl_json_member_array(sl_json_member(v, "properties"), "subnets")) {
		const char *sname = sl_json_member_string(sn, "name");
		const char *text = sl_json_member_string(sl_json_member(sn, "properties"), "addressPrefix");

		if (sname != NULL && strcasecmp(sname, ref->name) == 0)
			return text != NULL && sl_prefix_parse(text, p) == 0;
	}
	return false;
}

static bool
sl_ip_next(struct sl_ip_addr *a)
{
	int i;

	for (i = 15; i >= 0; i--) {
		if (++a->bytes[i] != 0)
			return true;
	}
	return false;
}

/* The lowest address of p from its fifth on that used does not hold; -ENOSPC when none. */
static int
sl_pick_free(const struct sl_prefix *p, const struct sl_ip_set *used, struct sl_ip_addr *out)
{
	struct sl_ip_addr a = p->addr;
	bool v4 = sl_prefix_is_v4(p);
	int k;

	for (k = 0; k < 4; k++) {
		if (!sl_ip_next(&a))
			return -ENOSPC;
	}
	while (sl_prefix_contains(p, &a)) {
		if (v4 && sl_prefix_is_last(p, &a))
			return -ENOSPC;
		/* Multicast and reserved space runs to the end of the address space. */
		if (sl_ip_unusable(&a))
			return -ENOSPC;
		if (used->n == 0 || bsearch(&a, used->v, used->n, sizeof(a), sl_cmp_ip) == NULL) {
			*out = a;
			return 0;
		}
		if (!sl_ip_next(&a))
			return -ENOSPC;
	}
	return -ENOSPC;
}

/* Insert a into the sorted set (room reserved by the caller). */
static void
sl_ip_set_insert(struct sl_ip_set *s, const struct sl_ip_addr *a)
{
	uint32_t lo = 0, hi = s->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (sl_cmp_ip(&s->v[mid], a) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&s->v[lo + 1], &s->v[lo], (s->n - lo) * sizeof(*a));
	s->v[lo] = *a;
	s->n++;
}

/* One ipConfiguration: 1 when it got an address, 0 when it needs none or is left to validation. */
static int
sl_assign_one(const cJSON *root, const cJSON *nic, const cJSON *ic, uint32_t ni, uint32_t ci,
	      struct sl_ip_set *used, struct sl_error *err)
{
	char target[SL_JSON_TARGET_MAX], nt[SL_JSON_TARGET_MAX], path[SL_JSON_PATH_MAX];
	char text[64], net[64];
	cJSON *props = (cJSON *)sl_json_member(ic, "properties"); /* the document is the caller's to edit */
	const cJSON *method;
	const char *ver;
	struct sl_prefix p;
	struct sl_ip_addr a;
	struct sl_ref ref;

	if (!cJSON_IsObject(props) || sl_json_member(props, "privateIPAddress") != NULL)
		return 0;
	method = sl_json_member(props, "privateIPAllocationMethod");
	if (method != NULL &&
	    (!cJSON_IsString(method) || strcasecmp(method->valuestring, "Dynamic") != 0))
		return 0; /* Static needs an address; anything else is refused by validation */
	if (!sl_subnet_prefix_of(root, sl_json_member_string(sl_json_member(props, "subnet"), "id"), &p, &ref))
		return 0;
	ver = sl_json_member_string(props, "privateIPAddressVersion");
	if (ver != NULL && strcasecmp(ver, sl_prefix_is_v4(&p) ? "IPv4" : "IPv6") != 0)
		return 0;

	sl_json_target_join(nt, NULL, "networkInterfaces", sl_json_member_string(nic, "name"));
	sl_json_target_join(target, nt, "ipConfigurations", sl_json_member_string(ic, "name"));
	if (sl_pick_free(&p, used, &a) < 0) {
		snprintf(path, sizeof(path),
			 "$.networkInterfaces[%u].properties.ipConfigurations[%u].properties.subnet.id",
			 ni, ci);
		sl_ip_addr_format(&p.addr, net, sizeof(net));
		sl_error_set(err, "SubnetIsFull", target, path,
			     "Subnet '%s' of virtual network '%s' (%s/%u) has no free address left: Azure reserves its first four addresses%s, and the frontends, backend addresses and ipConfigurations of the configuration use the others.",
			     ref.name, ref.parent, net, sl_prefix_family_len(&p),
			     sl_prefix_is_v4(&p) ? " and the last" : "");
		return -EINVAL;
	}
	sl_ip_addr_format(&a, text, sizeof(text));
	cJSON_DeleteItemFromObject(props, "privateIPAddress"); /* a null one */
	cJSON_DeleteItemFromObject(props, "privateIPAllocationMethod");
	if (cJSON_AddStringToObject(props, "privateIPAddress", text) == NULL ||
	    cJSON_AddStringToObject(props, "privateIPAllocationMethod", "Dynamic") == NULL)
		return sl_json_nomem(err, target, "");
	sl_ip_set_insert(used, &a);
	return 1;
}

int
sl_config_assign_dynamic_ips(cJSON *root, struct sl_error *err)
{
	struct sl_ip_set used = {NULL, 0, 0};
	const cJSON *nic, *ic;
	uint64_t n_ipc = 0;
	uint32_t ni = 0, ci;
	int rc, assigned = 0;

	if (!cJSON_IsObject(root))
		return 0;
	rc = sl_collect_used(root, &used, &n_ipc);
	if (rc == 0)
		rc = sl_ip_set_reserve(&used, used.n + n_ipc);
	if (rc < 0) {
		free(used.v);
		return sl_json_nomem(err, "networkInterfaces", "$.networkInterfaces");
	}
	if (used.n > 0)
		qsort(used.v, used.n, sizeof(*used.v), sl_cmp_ip);
	cJSON_ArrayForEach(nic, sl_json_member_array(root, "networkInterfaces")) {
		ci = 0;
		cJSON_ArrayForEach(ic, sl_json_member_array(sl_json_member(nic, "properties"), "ipConfigurations")) {
			rc = sl_assign_one(root, nic, ic, ni, ci, &used, err);
			if (rc < 0)
				goto out;
			assigned += rc;
			ci++;
		}
		ni++;
	}
	rc = assigned;
out:
	free(used.v);
	if (rc < 0 && err != NULL)
		err->file[0] = '\0';
	return rc;
}

void
sl_keep_dynamic_ips(const cJSON *old_nic, cJSON *new_nic)
{
	const cJSON *old_ipcs = sl_json_member_array(sl_json_member(old_nic, "properties"),
						     "ipConfigurations");
	const cJSON *new_ipcs = sl_json_member_array(sl_json_member(new_nic, "properties"),
						     "ipConfigurations");
	const cJSON *old_ipc;
	cJSON *ipc;

	cJSON_ArrayForEach(ipc, new_ipcs) {
		cJSON *props = cJSON_GetObjectItem(ipc, "properties");
		const char *name = sl_json_member_string(ipc, "name");
		const cJSON *op = NULL;

		/* a privateIPAddress of null counts as given: assignment replaces it */
		if (!cJSON_IsObject(props) || cJSON_GetObjectItem(props, "privateIPAddress") != NULL)
			continue;
		/* a body asking for Static (without its address) is left for validation to refuse */
		const char *asked = sl_json_member_string(props, "privateIPAllocationMethod");
		if (asked != NULL && strcasecmp(asked, "Dynamic") != 0)
			continue;
		cJSON_ArrayForEach(old_ipc, old_ipcs) {
			const char *old_name = sl_json_member_string(old_ipc, "name");

			if (strcasecmp(old_name != NULL ? old_name : "", name != NULL ? name : "") == 0) {
				op = sl_json_member(old_ipc, "properties");
				break;
			}
		}
		const char *addr = sl_json_member_string(op, "privateIPAddress");
		const char *method = sl_json_member_string(op, "privateIPAllocationMethod");

		if (addr != NULL && method != NULL && strcasecmp(method, "Dynamic") == 0) {
			/* replaced, not appended: the body may say "Dynamic" itself */
			cJSON_DeleteItemFromObjectCaseSensitive(props, "privateIPAllocationMethod");
			cJSON_AddStringToObject(props, "privateIPAddress", addr);
			cJSON_AddStringToObject(props, "privateIPAllocationMethod", "Dynamic");
		}
	}
}
