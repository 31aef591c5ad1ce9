/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_dynamic_ip.c: addresses for NIC ipConfigurations that have none
 * (privateIPAllocationMethod Dynamic), written into the document before it
 * is validated, and kept across a PUT of the NIC (see sl_dynamic_ip.h).
 *
 * The document is read leniently: whatever is not of the expected shape is
 * skipped and left for validation to report.
 *
 * One assignment takes time linear in the document: the virtual networks
 * are found by a name index, the addresses assigned are kept in a hash set
 * beside the sorted addresses of the document, and the search for a free
 * address of a subnet goes on where the last one of that subnet ended (the
 * addresses below it are all in use, and stay so).
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

/* What one assignment reads and keeps. */
struct sl_assign {
	const cJSON *root;
	struct sl_ip_set used;         /* the document's addresses, sorted */
	struct sl_name_index picked;   /* the addresses assigned (sl_addr_key()) */
	struct sl_name_index vnets;    /* the virtual networks by name, in order */
	struct sl_name_index searched; /* a subnet prefix -> the last address assigned in it */
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

/* Every frontend, pool and ipConfiguration address. */
static int
sl_collect_used(const cJSON *root, struct sl_ip_set *used)
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
			rc = sl_ip_set_add_text(used, sl_json_member_string(sl_json_member(ic, "properties"),
								  "privateIPAddress"));
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* The virtual networks of the document that have a name, by name in document order. -ENOMEM. */
static int
sl_index_vnets(struct sl_assign *x)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, sl_json_member_array(x->root, "virtualNetworks")) {
		const char *name = sl_json_member_string(v, "name");
		if (name != NULL && sl_name_index_add(&x->vnets, name, (void *)v) == NULL)
			return -ENOMEM;
	}
	return 0;
}

/*
 * The virtual network of the document that ref's parent names: by name and,
 * when the id has one, scope (as validation resolves it); NULL when none
 * or, for an id without scope, several do.
 */
static const cJSON *
sl_vnet_of(const struct sl_assign *x, const struct sl_ref *ref)
{
	const struct sl_name_entry *e;
	const cJSON *found = NULL;
	struct sl_scope s;

	for (e = sl_name_index_first(&x->vnets, ref->parent); e != NULL; e = sl_name_index_next(e)) {
		sl_id_scope(sl_json_member_string(e->value, "id"), &s);
		if (!sl_scope_match(&s, &ref->scope))
			continue;
		if (found != NULL)
			return NULL;
		found = e->value;
	}
	return found;
}

/* The prefix of the subnet that id names in the document; false when it does not resolve. */
static bool
sl_subnet_prefix_of(const struct sl_assign *x, const char *id, struct sl_prefix *p,
		    struct sl_ref *ref)
{
	const cJSON *v, *sn;

	if (id == NULL || sl_ref_split(id, "virtualNetworks", "subnets", ref) < 0 ||
	    ref->parent[0] == '\0')
		return false;
	v = sl_vnet_of(x, ref);
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

/* Is a used: by the document or by an assignment? */
static bool
sl_in_use(const struct sl_assign *x, const struct sl_ip_addr *a)
{
	char key[SL_ADDR_KEY_LEN];

	if (x->used.n > 0 && bsearch(a, x->used.v, x->used.n, sizeof(*a), sl_cmp_ip) != NULL)
		return true;
	sl_addr_key(a, key);
	return sl_name_index_has(&x->picked, key);
}

/* The key of prefix p among the searches: its address (as written) and length. */
static void
sl_prefix_key(const struct sl_prefix *p, char *key, size_t len)
{
	char addr[SL_ADDR_KEY_LEN];

	sl_addr_key(&p->addr, addr);
	snprintf(key, len, "%s/%u", addr, p->len);
}

/*
 * The lowest address of p from its fifth on that is not in use; -ENOSPC
 * when none. The search starts where the last one of p ended: below that
 * every address is in use.
 */
static int
sl_pick_free(const struct sl_assign *x, const struct sl_prefix *p, struct sl_ip_addr *out)
{
	char key[SL_ADDR_KEY_LEN + 8];
	const struct sl_name_entry *last;
	struct sl_ip_addr a = p->addr;
	bool v4 = sl_prefix_is_v4(p);
	int k;

	sl_prefix_key(p, key, sizeof(key));
	last = sl_name_index_first(&x->searched, key);
	if (last != NULL) {
		a = *(const struct sl_ip_addr *)last->value;
	} else {
		for (k = 0; k < 4; k++) {
			if (!sl_ip_next(&a))
				return -ENOSPC;
		}
	}
	while (sl_prefix_contains(p, &a)) {
		if (v4 && sl_prefix_is_last(p, &a))
			return -ENOSPC;
		/* Multicast and reserved space runs to the end of the address space. */
		if (sl_ip_unusable(&a))
			return -ENOSPC;
		if (!sl_in_use(x, &a)) {
			*out = a;
			return 0;
		}
		if (!sl_ip_next(&a))
			return -ENOSPC;
	}
	return -ENOSPC;
}

/* a of prefix p is assigned: in use, and where p's next search starts. -ENOMEM. */
static int
sl_picked(struct sl_assign *x, const struct sl_prefix *p, const struct sl_ip_addr *a)
{
	char key[SL_ADDR_KEY_LEN + 8];
	struct sl_name_entry *last;
	struct sl_ip_addr *at;

	sl_addr_key(a, key);
	if (sl_name_index_add(&x->picked, key, NULL) == NULL)
		return -ENOMEM;
	sl_prefix_key(p, key, sizeof(key));
	last = sl_name_index_first(&x->searched, key);
	if (last != NULL) {
		*(struct sl_ip_addr *)last->value = *a;
		return 0;
	}
	at = malloc(sizeof(*at));
	if (at == NULL)
		return -ENOMEM;
	*at = *a;
	if (sl_name_index_add(&x->searched, key, at) == NULL) {
		free(at);
		return -ENOMEM;
	}
	return 0;
}

/* One ipConfiguration: 1 when it got an address, 0 when it needs none or is left to validation. */
static int
sl_assign_one(struct sl_assign *x, const cJSON *nic, const cJSON *ic, uint32_t ni, uint32_t ci,
	      struct sl_error *err)
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
	if (!sl_subnet_prefix_of(x, sl_json_member_string(sl_json_member(props, "subnet"), "id"), &p,
				 &ref))
		return 0;
	ver = sl_json_member_string(props, "privateIPAddressVersion");
	if (ver != NULL && strcasecmp(ver, sl_prefix_is_v4(&p) ? "IPv4" : "IPv6") != 0)
		return 0;

	sl_json_target_join(nt, NULL, "networkInterfaces", sl_json_member_string(nic, "name"));
	sl_json_target_join(target, nt, "ipConfigurations", sl_json_member_string(ic, "name"));
	if (sl_pick_free(x, &p, &a) < 0) {
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
	    cJSON_AddStringToObject(props, "privateIPAllocationMethod", "Dynamic") == NULL ||
	    sl_picked(x, &p, &a) < 0)
		return sl_json_nomem(err, target, "");
	return 1;
}

static void
sl_assign_free(struct sl_assign *x)
{
	free(x->used.v);
	sl_name_index_fini(&x->picked, NULL);
	sl_name_index_fini(&x->vnets, NULL);
	sl_name_index_fini(&x->searched, free);
}

int
sl_config_assign_dynamic_ips(cJSON *root, struct sl_error *err)
{
	struct sl_assign x = {.root = root};
	const cJSON *nic, *ic;
	uint32_t ni = 0, ci;
	int rc, assigned = 0;

	if (!cJSON_IsObject(root))
		return 0;
	rc = sl_collect_used(root, &x.used);
	if (rc == 0)
		rc = sl_index_vnets(&x);
	if (rc < 0) {
		sl_assign_free(&x);
		return sl_json_nomem(err, "networkInterfaces", "$.networkInterfaces");
	}
	if (x.used.n > 0)
		qsort(x.used.v, x.used.n, sizeof(*x.used.v), sl_cmp_ip);
	cJSON_ArrayForEach(nic, sl_json_member_array(root, "networkInterfaces")) {
		ci = 0;
		cJSON_ArrayForEach(ic, sl_json_member_array(sl_json_member(nic, "properties"), "ipConfigurations")) {
			rc = sl_assign_one(&x, nic, ic, ni, ci, err);
			if (rc < 0)
				goto out;
			assigned += rc;
			ci++;
		}
		ni++;
	}
	rc = assigned;
out:
	sl_assign_free(&x);
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
