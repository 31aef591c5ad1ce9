/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_config.c: the configuration JSON -> the validated resource model.
 *
 * One pass over the cJSON tree in document order: settings, virtual networks,
 * then each load balancer (frontends, probes, backend pools, rules, the checks
 * that compare rules with each other, inbound NAT rules), then the network
 * interfaces (their ipConfigurations join NIC-based pools and take inbound NAT
 * rules; addresses shared between them are checked after the last NIC, and
 * the NIC-based pools are filled then). The first violation stops
 * the parse: struct sl_error gets a stable code (docs/error-codes.md), a
 * message, the resource at fault as a target ("loadBalancers/lb1/
 * backendAddressPools/pool1") and the JSON path of the offending value
 * ("$.loadBalancers[0].properties.backendAddressPools[0]"), and nothing of
 * the partial model survives. The format itself is docs/configuration.md.
 *
 * Property names are matched case-insensitively (cJSON_GetObjectItem), as
 * ARM does, so an object that holds one name twice in any spelling is
 * refused rather than silently half-read. JSON null means absent.
 *
 * Validation only reads the document. Dynamic NIC addresses are the one
 * thing written into it, by sl_config_assign_dynamic_ips() (the last section),
 * which runs before validation and skips whatever is malformed, leaving it to
 * be reported by validation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "sl_config.h"
#include "sl_json.h"
#include "sl_maglev.h"
#include "sl_path.h"

#define SL_CFG_PATH_MAX 256
#define SL_CFG_TARGET_MAX 256
#define SL_CFG_DEFAULT_IDLE_MIN 4
#define SL_CFG_MIN_IDLE_MIN 4
#define SL_CFG_MAX_IDLE_MIN 30
#define SL_CFG_MAX_FRONTEND_PORT 65534
#define SL_CFG_MAX_VNI 16777215
#define SL_CFG_DEFAULT_PROBE_INTERVAL 15
#define SL_CFG_MIN_PROBE_INTERVAL 5
#define SL_CFG_DEFAULT_NUMBER_OF_PROBES 2
#define SL_CFG_DEFAULT_PROBE_THRESHOLD 1

/* Lookups by name walk arrays of these structs through their first member. */
_Static_assert(offsetof(struct sl_vnet, name) == 0, "name first");
_Static_assert(offsetof(struct sl_subnet, name) == 0, "name first");
_Static_assert(offsetof(struct sl_lb, name) == 0, "name first");
_Static_assert(offsetof(struct sl_frontend, name) == 0, "name first");
_Static_assert(offsetof(struct sl_pool_cfg, name) == 0, "name first");
_Static_assert(offsetof(struct sl_address, name) == 0, "name first");
_Static_assert(offsetof(struct sl_rule_cfg, name) == 0, "name first");
_Static_assert(offsetof(struct sl_probe_cfg, name) == 0, "name first");
_Static_assert(offsetof(struct sl_nat_rule_cfg, name) == 0, "name first");
_Static_assert(offsetof(struct sl_nic, name) == 0, "name first");
_Static_assert(offsetof(struct sl_nic_ipconfig, name) == 0, "name first");

/* A JSON object being read: where errors point and whom they blame. */
struct sl_where {
	struct sl_error *err;
	const char *target; /* resource the values belong to */
	const char *path;   /* JSON path of obj */
	const cJSON *obj;   /* the object, or NULL when absent (every member absent) */
};

/* A resource being read: its object, its properties, its target. */
struct sl_res {
	char target[SL_CFG_TARGET_MAX];
	char props_path[SL_CFG_PATH_MAX];
	struct sl_where self;
	struct sl_where props;
};

/* A reference id split into its last "<type>/<name>" and the parent's name. */
struct sl_ref {
	char parent[SL_RES_NAME_MAX]; /* "" when the id names no parent */
	char name[SL_RES_NAME_MAX];
};

static int sl_cfg_error(struct sl_error *e, const char *code, const char *target,
			const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int
sl_cfg_error(struct sl_error *e, const char *code, const char *target, const char *path,
	     const char *fmt, ...)
{
	char msg[sizeof(((struct sl_error *)0)->message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sl_error_set(e, code, target, path, "%s", msg);
}

static int
sl_cfg_nomem(struct sl_error *e, const char *target, const char *path)
{
	sl_error_set(e, "OutOfMemory", target, path, "Out of memory while reading the configuration.");
	return -ENOMEM;
}

static void
sl_path_key(char *buf, const char *parent, const char *key)
{
	snprintf(buf, SL_CFG_PATH_MAX, "%s.%s", parent, key);
}

static void
sl_path_index(char *buf, const char *parent, uint32_t i)
{
	snprintf(buf, SL_CFG_PATH_MAX, "%s[%u]", parent, i);
}

/*
 * "<parent>/<coll>/<name>" (parent may be NULL, name may be NULL) into a
 * target buffer of SL_CFG_TARGET_MAX. Very long names are cut: a target
 * only points a person at the resource.
 */
static void
sl_target_join(char *buf, const char *parent, const char *coll, const char *name)
{
	int n;

	if (parent != NULL && name != NULL)
		n = snprintf(buf, SL_CFG_TARGET_MAX, "%s/%s/%s", parent, coll, name);
	else if (parent != NULL)
		n = snprintf(buf, SL_CFG_TARGET_MAX, "%s/%s", parent, coll);
	else if (name != NULL)
		n = snprintf(buf, SL_CFG_TARGET_MAX, "%s/%s", coll, name);
	else
		n = snprintf(buf, SL_CFG_TARGET_MAX, "%s", coll);
	(void)n;
}

static const char *
sl_json_type(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "not a JSON value";
}

static bool
sl_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Azure's rule for names, with sluice's length limit. */
static bool
sl_name_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > SL_CONFIG_NAME_MAX_LEN || !sl_is_alnum(s[0]))
		return false;
	for (i = 1; i < n; i++) {
		char c = s[i];

		if (sl_is_alnum(c) || c == '_')
			continue;
		if ((c == '.' || c == '-') && i != n - 1)
			continue;
		return false;
	}
	return true;
}

/* Index of the element of base[0..n) (name first in each) named name, or -1. */
static int
sl_find_name(const void *base, size_t stride, uint32_t n, const char *name)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (strcasecmp((const char *)base + i * stride, name) == 0)
			return (int)i;
	}
	return -1;
}

struct sl_name_idx {
	const char *name;
	uint32_t idx;
};

static int
sl_cmp_name_idx(const void *pa, const void *pb)
{
	const struct sl_name_idx *a = pa, *b = pb;
	int c = strcasecmp(a->name, b->name);

	if (c != 0)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/*
 * The smallest index whose name repeats an earlier one's (case-
 * insensitively), -1 when all differ, -ENOMEM. v[].name is filled by the
 * caller; v is reordered.
 */
static int64_t
sl_first_dup(struct sl_name_idx *v, uint32_t n)
{
	int64_t best = -1;
	uint32_t i;

	for (i = 0; i < n; i++)
		v[i].idx = i;
	qsort(v, n, sizeof(*v), sl_cmp_name_idx);
	for (i = 1; i < n; i++) {
		if (strcasecmp(v[i - 1].name, v[i].name) == 0 && (best < 0 || v[i].idx < best))
			best = v[i].idx;
	}
	return best;
}

/* sl_first_dup() over the names of base[0..n) (name first in each element). */
static int64_t
sl_first_dup_name(const void *base, size_t stride, uint32_t n)
{
	struct sl_name_idx *v;
	int64_t best;
	uint32_t i;

	if (n < 2)
		return -1;
	v = malloc(n * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		v[i].name = (const char *)base + i * stride;
	best = sl_first_dup(v, n);
	free(v);
	return best;
}

/* Refuse the first repeated name of a collection parsed from coll_path. */
static int
sl_check_dup_names(struct sl_error *e, const void *base, size_t stride, uint32_t n,
		   const char *coll_path, const char *parent_target, const char *coll)
{
	char path[SL_CFG_PATH_MAX], item[SL_CFG_PATH_MAX], target[SL_CFG_TARGET_MAX];
	int64_t j = sl_first_dup_name(base, stride, n);
	const char *name;

	if (j == -ENOMEM)
		return sl_cfg_nomem(e, parent_target, coll_path);
	if (j < 0)
		return 0;
	name = (const char *)base + (size_t)j * stride;
	sl_path_index(item, coll_path, (uint32_t)j);
	sl_path_key(path, item, "name");
	sl_target_join(target, parent_target, coll, name);
	return sl_cfg_error(e, "DuplicateResourceName", target, path,
			    "Two %s are named '%s'; names are unique (case-insensitively) within a collection.",
			    coll, name);
}

/* --- typed access to object members -------------------------------------- */

static const cJSON *
sl_w_member(const struct sl_where *w, const char *key)
{
	const cJSON *v;

	if (w->obj == NULL)
		return NULL;
	v = cJSON_GetObjectItem(w->obj, key);
	return cJSON_IsNull(v) ? NULL : v;
}

static int
sl_w_missing(const struct sl_where *w, const char *key)
{
	char p[SL_CFG_PATH_MAX];

	sl_path_key(p, w->path, key);
	return sl_cfg_error(w->err, "MissingRequiredProperty", w->target, p,
			    "Property '%s' is required.", key);
}

static int
sl_w_type_error(const struct sl_where *w, const char *key, const cJSON *v, const char *want)
{
	char p[SL_CFG_PATH_MAX];

	sl_path_key(p, w->path, key);
	return sl_cfg_error(w->err, "InvalidRequestFormat", w->target, p,
			    "Property '%s' must be %s, not %s.", key, want, sl_json_type(v));
}

/* v must be an object that holds no property name twice. */
static int
sl_check_object(struct sl_error *e, const cJSON *v, const char *path, const char *target)
{
	struct sl_name_idx *names;
	char p[SL_CFG_PATH_MAX];
	const cJSON *c;
	uint32_t n = 0;
	int64_t dup;

	if (!cJSON_IsObject(v))
		return sl_cfg_error(e, "InvalidRequestFormat", target, path,
				    "Expected an object, not %s.", sl_json_type(v));
	for (c = v->child; c != NULL; c = c->next)
		n++;
	if (n < 2)
		return 0;
	names = malloc(n * sizeof(*names));
	if (names == NULL)
		return sl_cfg_nomem(e, target, path);
	n = 0;
	for (c = v->child; c != NULL; c = c->next)
		names[n++].name = c->string;
	dup = sl_first_dup(names, n);
	free(names);
	if (dup < 0)
		return 0;
	for (c = v->child; dup > 0; dup--)
		c = c->next;
	sl_path_key(p, path, c->string);
	return sl_cfg_error(e, "InvalidRequestFormat", target, p,
			    "Property '%s' appears more than once (names are case-insensitive).",
			    c->string);
}

/* Refuse members not in known[] (NULL-terminated). */
static int
sl_check_known(const struct sl_where *w, const char *const *known)
{
	const cJSON *c;

	for (c = w->obj != NULL ? w->obj->child : NULL; c != NULL; c = c->next) {
		const char *const *k;
		char p[SL_CFG_PATH_MAX];

		for (k = known; *k != NULL; k++) {
			if (strcasecmp(*k, c->string) == 0)
				break;
		}
		if (*k != NULL)
			continue;
		sl_path_key(p, w->path, c->string);
		return sl_cfg_error(w->err, "UnknownProperty", w->target, p,
				    "Unknown property '%s'.", c->string);
	}
	return 0;
}

/* The getters return 1 when present, 0 when absent (outputs untouched), < 0 on error. */

static int
sl_w_object(const struct sl_where *w, const char *key, bool required, struct sl_where *out,
	    char *pathbuf)
{
	const cJSON *v = sl_w_member(w, key);
	int rc;

	sl_path_key(pathbuf, w->path, key);
	out->err = w->err;
	out->target = w->target;
	out->path = pathbuf;
	out->obj = NULL;
	if (v == NULL)
		return required ? sl_w_missing(w, key) : 0;
	rc = sl_check_object(w->err, v, pathbuf, w->target);
	if (rc < 0)
		return rc;
	out->obj = v;
	return 1;
}

static int
sl_w_array(const struct sl_where *w, const char *key, bool required, const cJSON **out,
	   char *pathbuf)
{
	const cJSON *v = sl_w_member(w, key);

	sl_path_key(pathbuf, w->path, key);
	*out = NULL;
	if (v == NULL)
		return required ? sl_w_missing(w, key) : 0;
	if (!cJSON_IsArray(v))
		return sl_w_type_error(w, key, v, "an array");
	*out = v;
	return 1;
}

static int
sl_w_string(const struct sl_where *w, const char *key, bool required, const char **out)
{
	const cJSON *v = sl_w_member(w, key);

	*out = NULL;
	if (v == NULL)
		return required ? sl_w_missing(w, key) : 0;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return sl_w_type_error(w, key, v, "a string");
	*out = v->valuestring;
	return 1;
}

static int
sl_w_bool(const struct sl_where *w, const char *key, uint8_t *out)
{
	const cJSON *v = sl_w_member(w, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsBool(v))
		return sl_w_type_error(w, key, v, "a boolean (true or false)");
	*out = cJSON_IsTrue(v) ? 1 : 0;
	return 1;
}

/* An integer in [min, max]. */
static int
sl_w_int(const struct sl_where *w, const char *key, bool required, int64_t min, int64_t max,
	 int64_t *out)
{
	const cJSON *v = sl_w_member(w, key);
	char p[SL_CFG_PATH_MAX];
	double d;

	if (v == NULL)
		return required ? sl_w_missing(w, key) : 0;
	if (!cJSON_IsNumber(v))
		return sl_w_type_error(w, key, v, "an integer");
	sl_path_key(p, w->path, key);
	d = v->valuedouble;
	if (d > -9.0e18 && d < 9.0e18 && d != (double)(int64_t)d)
		return sl_cfg_error(w->err, "InvalidRequestFormat", w->target, p,
				    "Property '%s' must be an integer, not %.17g.", key, d);
	/* The casts only run on values inside the int64_t range (NaN fails both tests). */
	if (!(d > -9.0e18 && d < 9.0e18) || (int64_t)d < min || (int64_t)d > max)
		return sl_cfg_error(w->err, "PropertyValueOutOfRange", w->target, p,
				    "Property '%s' is %.17g; it must be between %lld and %lld.", key,
				    d, (long long)min, (long long)max);
	*out = (int64_t)d;
	return 1;
}

/* --- addresses and prefixes ---------------------------------------------- */

static const char *
sl_family_name(uint8_t family)
{
	return family == SL_AF_IPV6 ? "IPv6" : "IPv4";
}

/* Unspecified, broadcast, multicast and reserved (240/4) addresses serve nothing. */
static bool
sl_ip_unusable(const struct sl_ip_addr *a)
{
	static const struct sl_ip_addr zero6;

	if (sl_ip_addr_is_v4(a))
		return sl_ip_addr_v4(a) == 0 || a->bytes[12] >= 224;
	return sl_ip_addr_eq(a, &zero6) || a->bytes[0] == 0xff;
}

static int
sl_w_ip(const struct sl_where *w, const char *key, bool required, struct sl_ip_addr *a,
	uint8_t *family)
{
	enum sl_ip_family f = SL_AF_NONE;
	char p[SL_CFG_PATH_MAX];
	const char *s;
	int rc;

	rc = sl_w_string(w, key, required, &s);
	if (rc <= 0)
		return rc;
	sl_path_key(p, w->path, key);
	if (sl_ip_addr_parse(s, a, &f) < 0)
		return sl_cfg_error(w->err, "InvalidIPAddress", w->target, p,
				    "'%s' is not an IPv4 or IPv6 address.", s);
	if (sl_ip_unusable(a))
		return sl_cfg_error(w->err, "InvalidIPAddress", w->target, p,
				    "'%s' is an unspecified, broadcast or multicast address.", s);
	*family = (uint8_t)f;
	return 1;
}

static bool
sl_prefix_is_v4(const struct sl_prefix *p)
{
	return sl_ip_addr_is_v4(&p->addr) && p->len >= 96;
}

/* True when the first len bits of a and b agree. */
static bool
sl_bits_equal(const struct sl_ip_addr *a, const struct sl_ip_addr *b, uint8_t len)
{
	uint32_t full = len / 8, rem = len % 8;

	if (memcmp(a->bytes, b->bytes, full) != 0)
		return false;
	if (rem == 0)
		return true;
	return ((a->bytes[full] ^ b->bytes[full]) & (uint8_t)(0xff << (8 - rem))) == 0;
}

static bool
sl_prefix_contains(const struct sl_prefix *p, const struct sl_ip_addr *a)
{
	if (sl_prefix_is_v4(p) != sl_ip_addr_is_v4(a))
		return false;
	return sl_bits_equal(&p->addr, a, p->len);
}

/* inner lies entirely inside outer. */
static bool
sl_prefix_within(const struct sl_prefix *inner, const struct sl_prefix *outer)
{
	return inner->len >= outer->len && sl_prefix_contains(outer, &inner->addr);
}

int
sl_vnet_contains(const struct sl_vnet *v, const struct sl_ip_addr *addr)
{
	uint32_t i;

	if (v == NULL || addr == NULL)
		return 0;
	for (i = 0; i < v->n_prefixes; i++) {
		if (sl_prefix_contains(&v->prefixes[i], addr))
			return 1;
	}
	return 0;
}

/*
 * Parse "a.b.c.d/n" or "x::/n". Returns 0, -EINVAL when it is no prefix,
 * -ERANGE when host bits are set (*p then holds the network address).
 */
static int
sl_prefix_parse(const char *text, struct sl_prefix *p)
{
	const char *slash = strchr(text, '/'), *d;
	enum sl_ip_family f = SL_AF_NONE;
	struct sl_ip_addr net;
	unsigned int len = 0;
	char buf[64];
	uint32_t i;

	if (slash == NULL || (size_t)(slash - text) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, (size_t)(slash - text));
	buf[slash - text] = '\0';
	if (sl_ip_addr_parse(buf, &p->addr, &f) < 0)
		return -EINVAL;
	/* An IPv4-mapped IPv6 prefix would count its length in the other family. */
	if (f == SL_AF_IPV4 && strchr(buf, ':') != NULL)
		return -EINVAL;
	d = slash + 1;
	if (*d == '\0' || strlen(d) > 3)
		return -EINVAL;
	for (; *d != '\0'; d++) {
		if (*d < '0' || *d > '9')
			return -EINVAL;
		len = len * 10 + (unsigned int)(*d - '0');
	}
	if (len > (f == SL_AF_IPV4 ? 32u : 128u))
		return -EINVAL;
	p->len = (uint8_t)(f == SL_AF_IPV4 ? 96 + len : len);

	net = p->addr;
	for (i = p->len; i < 128; i++)
		net.bytes[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	if (!sl_ip_addr_eq(&net, &p->addr)) {
		p->addr = net;
		return -ERANGE;
	}
	return 0;
}

static int
sl_prefix_error(struct sl_error *e, const char *target, const char *path, const char *text, int rc,
		const struct sl_prefix *p)
{
	char net[64];

	if (rc == -ERANGE) {
		sl_ip_addr_format(&p->addr, net, sizeof(net));
		return sl_cfg_error(e, "InvalidAddressPrefix", target, path,
				    "'%s' has host bits set; the prefix is %s/%u.", text, net,
				    sl_prefix_is_v4(p) ? p->len - 96u : p->len);
	}
	return sl_cfg_error(e, "InvalidAddressPrefix", target, path,
			    "'%s' is not a CIDR prefix such as 10.0.0.0/16 or fd00::/48.", text);
}

/* --- references ---------------------------------------------------------- */

static int
sl_seg_copy(char *dst, const char *seg, size_t len)
{
	if (len >= SL_RES_NAME_MAX)
		return -EINVAL;
	memcpy(dst, seg, len);
	dst[len] = '\0';
	return 0;
}

/*
 * Split a resource id at its last "<type>/<name>" pair (type matched
 * case-insensitively); the name must be the last segment. A bare name (no
 * '/') is accepted as the name. When parent_type is given and the id has
 * segments before the type, they must end in "<parent_type>/<parent>".
 * Returns 0, or -EINVAL when the id is not of that shape.
 */
static int
sl_ref_split(const char *id, const char *parent_type, const char *type, struct sl_ref *r)
{
	struct sl_segs g;
	uint32_t n, k;

	r->parent[0] = '\0';
	r->name[0] = '\0';
	if (sl_path_split(id, &g, SL_PATH_MAX_SEGMENTS) != 0)
		return -EINVAL;
	n = g.n;
	if (n == 0)
		return -EINVAL;
	if (n == 1)
		return strchr(id, '/') == NULL ? sl_seg_copy(r->name, g.s[0], g.len[0]) : -EINVAL;
	k = n - 2;
	if (!sl_path_seg_is(&g, k, type))
		return -EINVAL;
	if (parent_type != NULL && k > 0) {
		if (k < 2 || !sl_path_seg_is(&g, k - 2, parent_type))
			return -EINVAL;
		if (sl_seg_copy(r->parent, g.s[k - 1], g.len[k - 1]) < 0)
			return -EINVAL;
	}
	return sl_seg_copy(r->name, g.s[k + 1], g.len[k + 1]);
}

/* The "id" of the reference object w.key; idpath receives its JSON path. */
static int
sl_w_ref_id(const struct sl_where *w, const char *key, bool required, const char **id,
	    char *idpath)
{
	char rpath[SL_CFG_PATH_MAX];
	struct sl_where ref;
	int rc;

	*id = NULL;
	rc = sl_w_object(w, key, required, &ref, rpath);
	sl_path_key(idpath, rpath, "id");
	if (rc <= 0)
		return rc;
	return sl_w_string(&ref, "id", true, id);
}

static int
sl_resolve_vnet(const struct sl_where *w, const char *key, bool required,
		const struct sl_model *m, int *vnet)
{
	char idpath[SL_CFG_PATH_MAX];
	struct sl_ref ref;
	const char *id;
	int rc, v;

	rc = sl_w_ref_id(w, key, required, &id, idpath);
	if (rc <= 0)
		return rc;
	if (sl_ref_split(id, NULL, "virtualNetworks", &ref) < 0)
		return sl_cfg_error(w->err, "InvalidResourceReference", w->target, idpath,
				    "'%s' is not a virtual network id (.../virtualNetworks/{name}).", id);
	v = sl_find_name(m->vnets, sizeof(*m->vnets), m->n_vnets, ref.name);
	if (v < 0)
		return sl_cfg_error(w->err, "InvalidResourceReference", w->target, idpath,
				    "Virtual network '%s' is not defined.", ref.name);
	*vnet = v;
	return 1;
}

static int
sl_resolve_subnet(const struct sl_where *w, const char *key, bool required,
		  const struct sl_model *m, int *vnet, int *subnet, char *idpath)
{
	const struct sl_vnet *v;
	struct sl_ref ref;
	const char *id;
	int rc, vi, si;

	rc = sl_w_ref_id(w, key, required, &id, idpath);
	if (rc <= 0)
		return rc;
	if (sl_ref_split(id, "virtualNetworks", "subnets", &ref) < 0 || ref.parent[0] == '\0')
		return sl_cfg_error(w->err, "InvalidResourceReference", w->target, idpath,
				    "'%s' is not a subnet id (.../virtualNetworks/{vnet}/subnets/{subnet}).",
				    id);
	vi = sl_find_name(m->vnets, sizeof(*m->vnets), m->n_vnets, ref.parent);
	if (vi < 0)
		return sl_cfg_error(w->err, "InvalidResourceReference", w->target, idpath,
				    "Virtual network '%s' is not defined.", ref.parent);
	v = &m->vnets[vi];
	si = sl_find_name(v->subnets, sizeof(*v->subnets), v->n_subnets, ref.name);
	if (si < 0)
		return sl_cfg_error(w->err, "InvalidResourceReference", w->target, idpath,
				    "Virtual network '%s' has no subnet '%s'.", v->name, ref.name);
	*vnet = vi;
	*subnet = si;
	return 1;
}

/* A reference to a child (type) of load balancer lb: index into base[0..n). */
static int
sl_resolve_lb_child(const struct sl_where *w, const char *key, bool required,
		    const struct sl_lb *lb, const char *type, const char *what, const void *base,
		    size_t stride, uint32_t n, int *idx)
{
	char idpath[SL_CFG_PATH_MAX];
	struct sl_ref ref;
	const char *id;
	int rc, i;

	rc = sl_w_ref_id(w, key, required, &id, idpath);
	if (rc <= 0)
		return rc;
	if (sl_ref_split(id, "loadBalancers", type, &ref) < 0)
		return sl_cfg_error(w->err, "InvalidResourceReference", w->target, idpath,
				    "'%s' is not a %s id (.../loadBalancers/{lb}/%s/{name}).", id, type,
				    type);
	if (ref.parent[0] != '\0' && strcasecmp(ref.parent, lb->name) != 0)
		return sl_cfg_error(w->err, "InvalidResourceReference", w->target, idpath,
				    "'%s' belongs to load balancer '%s'; only %s of '%s' can be used here.",
				    id, ref.parent, type, lb->name);
	i = sl_find_name(base, stride, n, ref.name);
	if (i < 0)
		return sl_cfg_error(w->err, "InvalidResourceReference", w->target, idpath,
				    "Load balancer '%s' has no %s '%s'.", lb->name, what, ref.name);
	*idx = i;
	return 1;
}

/*
 * Open a resource: node must be an object with a valid "name", an "id" (if
 * any) naming it, and optional "properties". name receives the name.
 */
static int
sl_res_open(struct sl_res *r, struct sl_error *e, const cJSON *node, const char *path,
	    const char *parent_target, const char *parent_type, const char *parent_name,
	    const char *coll, char *name)
{
	char p[SL_CFG_PATH_MAX];
	struct sl_ref ref;
	const char *s, *id;
	int rc;

	/* Until the name is known, errors blame the collection. */
	sl_target_join(r->target, parent_target, coll, NULL);
	r->self.err = e;
	r->self.target = r->target;
	r->self.path = path;
	r->self.obj = NULL;
	r->props = r->self;
	rc = sl_check_object(e, node, path, r->target);
	if (rc < 0)
		return rc;
	r->self.obj = node;

	rc = sl_w_string(&r->self, "name", true, &s);
	if (rc < 0)
		return rc;
	if (!sl_name_valid(s)) {
		sl_path_key(p, path, "name");
		return sl_cfg_error(e, "InvalidResourceName", r->target, p,
				    "Name '%s' is invalid: 1 to %u characters, letters, digits, '_', '.' and '-', beginning with a letter or digit and ending with a letter, digit or '_'.",
				    s, SL_CONFIG_NAME_MAX_LEN);
	}
	snprintf(name, SL_RES_NAME_MAX, "%s", s);
	sl_target_join(r->target, parent_target, coll, name);

	rc = sl_w_string(&r->self, "id", false, &id);
	if (rc < 0)
		return rc;
	if (rc > 0 && (sl_ref_split(id, parent_type, coll, &ref) < 0 ||
		       strcasecmp(ref.name, name) != 0 ||
		       (ref.parent[0] != '\0' && parent_name != NULL &&
			strcasecmp(ref.parent, parent_name) != 0))) {
		sl_path_key(p, path, "id");
		return sl_cfg_error(e, "InvalidResourceId", r->target, p,
				    "Id '%s' does not name this resource (%s); its last segments must be '%s/%s'.",
				    id, r->target, coll, name);
	}
	rc = sl_w_object(&r->self, "properties", false, &r->props, r->props_path);
	return rc < 0 ? rc : 0;
}

/* Allocate n zeroed elements for an array member (a real allocation for 0 too). */
static void *
sl_cfg_calloc(uint32_t n, size_t size)
{
	return calloc(n == 0 ? 1 : n, size);
}

static uint32_t
sl_array_size(const cJSON *a)
{
	return a != NULL ? (uint32_t)cJSON_GetArraySize(a) : 0;
}

/* --- settings and virtual networks --------------------------------------- */

static int
sl_parse_settings(struct sl_error *e, struct sl_model *m, const cJSON *node)
{
	static const char *const known[] = {"maglevTableSize", "hashSeed", "maxAddressesPerPool",
					    "maxAddressesPerLoadBalancer", NULL};
	struct sl_where w = {e, "settings", "$.settings", NULL};
	int64_t v;
	int rc;

	rc = sl_check_object(e, node, w.path, w.target);
	if (rc < 0)
		return rc;
	w.obj = node;
	rc = sl_check_known(&w, known);
	if (rc < 0)
		return rc;

	rc = sl_w_int(&w, "maglevTableSize", false, INT64_MIN, INT64_MAX, &v);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		if (v < SL_CONFIG_MAGLEV_MIN_SIZE || v > SL_CONFIG_MAGLEV_MAX_SIZE ||
		    !sl_is_prime((uint32_t)v))
			return sl_cfg_error(e, "InvalidMaglevTableSize", w.target,
					    "$.settings.maglevTableSize",
					    "maglevTableSize %lld is not a prime between %u and %u (the default is %u).",
					    (long long)v, SL_CONFIG_MAGLEV_MIN_SIZE,
					    SL_CONFIG_MAGLEV_MAX_SIZE, SL_MAGLEV_DEFAULT_SIZE);
		m->maglev_size = (uint32_t)v;
	}
	rc = sl_w_int(&w, "hashSeed", false, 0, UINT32_MAX, &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		m->hash_seed = (uint32_t)v;
	rc = sl_w_int(&w, "maxAddressesPerPool", false, 1, SL_CONFIG_POOL_LIMIT_MAX, &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		m->max_addresses_per_pool = (uint32_t)v;
	rc = sl_w_int(&w, "maxAddressesPerLoadBalancer", false, 1, SL_CONFIG_LB_LIMIT_MAX, &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		m->max_addresses_per_lb = (uint32_t)v;
	return 0;
}

static int
sl_parse_subnet(struct sl_error *e, struct sl_vnet *v, const char *vnet_target,
		struct sl_subnet *sn, const cJSON *node, const char *path)
{
	char p[SL_CFG_PATH_MAX];
	struct sl_res r;
	const char *s;
	uint32_t i;
	int rc;

	rc = sl_res_open(&r, e, node, path, vnet_target, "virtualNetworks", v->name, "subnets",
			 sn->name);
	if (rc < 0)
		return rc;
	rc = sl_w_string(&r.props, "addressPrefix", true, &s);
	if (rc < 0)
		return rc;
	sl_path_key(p, r.props.path, "addressPrefix");
	rc = sl_prefix_parse(s, &sn->prefix);
	if (rc < 0)
		return sl_prefix_error(e, r.target, p, s, rc, &sn->prefix);
	for (i = 0; i < v->n_prefixes; i++) {
		if (sl_prefix_within(&sn->prefix, &v->prefixes[i]))
			return 0;
	}
	return sl_cfg_error(e, "NetcfgSubnetRangeOutsideVnet", r.target, p,
			    "Subnet '%s' (%s) is not inside the address space of virtual network '%s'.",
			    sn->name, s, v->name);
}

static int
sl_parse_delivery(const struct sl_where *props, struct sl_vnet *v)
{
	static const char *const known[] = {"mode", "vni", "udpPort", NULL};
	char fpath[SL_CFG_PATH_MAX], p[SL_CFG_PATH_MAX];
	enum sl_delivery d = SL_DELIVERY_L2;
	struct sl_where fd;
	const char *mode;
	int64_t n;
	int rc;

	v->delivery = SL_DELIVERY_L2;
	rc = sl_w_object(props, "floatingIpDelivery", false, &fd, fpath);
	if (rc <= 0)
		return rc;
	rc = sl_check_known(&fd, known);
	if (rc < 0)
		return rc;
	rc = sl_w_string(&fd, "mode", false, &mode);
	if (rc < 0)
		return rc;
	if (rc > 0 && (sl_delivery_parse(mode, &d) < 0 || d == SL_DELIVERY_DNAT)) {
		sl_path_key(p, fpath, "mode");
		return sl_cfg_error(fd.err, "InvalidPropertyValue", fd.target, p,
				    "Floating IP delivery mode '%s' is not one of L2, IPinIP, GUE, VXLAN%s.",
				    mode,
				    d == SL_DELIVERY_DNAT ?
					    " (DNAT is what rules without Floating IP do)" : "");
	}
	v->delivery = d;

	if (sl_w_member(&fd, "vni") != NULL && d != SL_DELIVERY_VXLAN) {
		sl_path_key(p, fpath, "vni");
		return sl_cfg_error(fd.err, "PropertyNotAllowed", fd.target, p,
				    "'vni' applies to VXLAN delivery only, not %s.",
				    sl_delivery_name(d));
	}
	rc = sl_w_int(&fd, "vni", d == SL_DELIVERY_VXLAN, 0, SL_CFG_MAX_VNI, &n);
	if (rc < 0)
		return rc;
	if (rc > 0)
		v->vni = (uint32_t)n;

	if (sl_w_member(&fd, "udpPort") != NULL && d != SL_DELIVERY_GUE &&
	    d != SL_DELIVERY_VXLAN) {
		sl_path_key(p, fpath, "udpPort");
		return sl_cfg_error(fd.err, "PropertyNotAllowed", fd.target, p,
				    "'udpPort' applies to GUE and VXLAN delivery only, not %s.",
				    sl_delivery_name(d));
	}
	rc = sl_w_int(&fd, "udpPort", false, 1, UINT16_MAX, &n);
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

static int
sl_parse_vnet(struct sl_error *e, struct sl_vnet *v, const cJSON *node, const char *path)
{
	char aspath[SL_CFG_PATH_MAX], ppath[SL_CFG_PATH_MAX], spath[SL_CFG_PATH_MAX];
	char item[SL_CFG_PATH_MAX];
	const cJSON *arr, *el;
	struct sl_where as;
	struct sl_res r;
	uint32_t i;
	int rc;

	rc = sl_res_open(&r, e, node, path, NULL, NULL, NULL, "virtualNetworks", v->name);
	if (rc < 0)
		return rc;

	rc = sl_w_object(&r.props, "addressSpace", true, &as, aspath);
	if (rc < 0)
		return rc;
	rc = sl_w_array(&as, "addressPrefixes", true, &arr, ppath);
	if (rc < 0)
		return rc;
	if (sl_array_size(arr) == 0)
		return sl_cfg_error(e, "MissingRequiredProperty", r.target, ppath,
				    "'addressPrefixes' must list at least one prefix.");
	v->prefixes = sl_cfg_calloc(sl_array_size(arr), sizeof(*v->prefixes));
	if (v->prefixes == NULL)
		return sl_cfg_nomem(e, r.target, ppath);
	v->n_prefixes = sl_array_size(arr);
	i = 0;
	cJSON_ArrayForEach(el, arr) {
		sl_path_index(item, ppath, i);
		if (!cJSON_IsString(el))
			return sl_cfg_error(e, "InvalidRequestFormat", r.target, item,
					    "An address prefix must be a string, not %s.",
					    sl_json_type(el));
		rc = sl_prefix_parse(el->valuestring, &v->prefixes[i]);
		if (rc < 0)
			return sl_prefix_error(e, r.target, item, el->valuestring, rc,
					       &v->prefixes[i]);
		i++;
	}

	rc = sl_w_array(&r.props, "subnets", false, &arr, spath);
	if (rc < 0)
		return rc;
	v->subnets = sl_cfg_calloc(sl_array_size(arr), sizeof(*v->subnets));
	if (v->subnets == NULL)
		return sl_cfg_nomem(e, r.target, spath);
	v->n_subnets = sl_array_size(arr);
	i = 0;
	cJSON_ArrayForEach(el, arr) {
		sl_path_index(item, spath, i);
		rc = sl_parse_subnet(e, v, r.target, &v->subnets[i], el, item);
		if (rc < 0)
			return rc;
		i++;
	}
	rc = sl_check_dup_names(e, v->subnets, sizeof(*v->subnets), v->n_subnets, spath, r.target,
				"subnets");
	if (rc < 0)
		return rc;
	/* sluice extension: the 802.1Q tag of the segment this network's backends are on */
	int64_t vlan;
	rc = sl_w_int(&r.props, "vlanId", false, 1, 4094, &vlan);
	if (rc < 0)
		return rc;
	v->vlan_id = rc > 0 ? (uint16_t)vlan : 0;
	return sl_parse_delivery(&r.props, v);
}

/* privateIPAddressVersion: 1 with *f (and the text in *ver), 0 when absent, < 0 on error. */
static int
sl_w_ip_version(const struct sl_where *w, const char **ver, uint8_t *f)
{
	char p[SL_CFG_PATH_MAX];
	int rc;

	rc = sl_w_string(w, "privateIPAddressVersion", false, ver);
	if (rc <= 0)
		return rc;
	if (strcasecmp(*ver, "IPv4") == 0) {
		*f = SL_AF_IPV4;
	} else if (strcasecmp(*ver, "IPv6") == 0) {
		*f = SL_AF_IPV6;
	} else {
		sl_path_key(p, w->path, "privateIPAddressVersion");
		return sl_cfg_error(w->err, "InvalidPropertyValue", w->target, p,
				    "privateIPAddressVersion '%s' is not IPv4 or IPv6.", *ver);
	}
	return 1;
}

/* --- load balancers ------------------------------------------------------ */

struct sl_lb_ctx {
	struct sl_error *err;
	struct sl_model *m;
	struct sl_lb *lb;
	uint32_t lb_index;
	const char *target; /* "loadBalancers/<name>" */
};

static int
sl_parse_frontend(const struct sl_lb_ctx *c, uint32_t fi, const cJSON *node, const char *path)
{
	struct sl_lb *lb = c->lb;
	struct sl_frontend *fe = &lb->frontends[fi];
	char p[SL_CFG_PATH_MAX], idpath[SL_CFG_PATH_MAX];
	const char *ver;
	struct sl_res r;
	uint32_t j, k;
	uint8_t f;
	int rc;

	fe->vnet = -1;
	fe->subnet = -1;
	rc = sl_res_open(&r, c->err, node, path, c->target, "loadBalancers", lb->name,
			 "frontendIPConfigurations", fe->name);
	if (rc < 0)
		return rc;
	rc = sl_w_ip(&r.props, "privateIPAddress", true, &fe->addr, &fe->family);
	if (rc < 0)
		return rc;

	rc = sl_w_ip_version(&r.props, &ver, &f);
	if (rc < 0)
		return rc;
	sl_path_key(p, r.props.path, "privateIPAddressVersion");
	if (rc > 0 && f != fe->family)
		return sl_cfg_error(c->err, "PrivateIPAddressVersionMismatch", r.target, p,
				    "privateIPAddressVersion is %s but privateIPAddress is an %s address.",
				    ver, sl_family_name(fe->family));

	rc = sl_resolve_subnet(&r.props, "subnet", false, c->m, &fe->vnet, &fe->subnet, idpath);
	if (rc < 0)
		return rc;
	sl_path_key(p, r.props.path, "privateIPAddress");
	if (rc > 0) {
		const struct sl_vnet *v = &c->m->vnets[fe->vnet];

		if (!sl_prefix_contains(&v->subnets[fe->subnet].prefix, &fe->addr))
			return sl_cfg_error(c->err, "PrivateIPAddressNotInSubnet", r.target, p,
					    "privateIPAddress is not inside subnet '%s' of virtual network '%s'.",
					    v->subnets[fe->subnet].name, v->name);
		if (lb->vnet < 0)
			lb->vnet = fe->vnet;
		else if (lb->vnet != fe->vnet)
			return sl_cfg_error(c->err, "LoadBalancerFrontendsInDifferentVirtualNetworks",
					    r.target, idpath,
					    "Frontend '%s' is in virtual network '%s' but an earlier frontend of load balancer '%s' is in '%s'.",
					    fe->name, v->name, lb->name,
					    c->m->vnets[lb->vnet].name);
	}

	for (j = 0; j <= c->lb_index; j++) {
		const struct sl_lb *o = &c->m->lbs[j];
		uint32_t n = j == c->lb_index ? fi : o->n_frontends;

		for (k = 0; k < n; k++) {
			if (!sl_ip_addr_eq(&o->frontends[k].addr, &fe->addr))
				continue;
			return sl_cfg_error(c->err, "PrivateIPAddressInUse", r.target, p,
					    "The address is already used by frontend loadBalancers/%s/frontendIPConfigurations/%s.",
					    o->name, o->frontends[k].name);
		}
	}
	return 0;
}

static int
sl_parse_probe(const struct sl_lb_ctx *c, struct sl_probe_cfg *pr, const cJSON *node,
	       const char *path)
{
	const char *proto, *rp;
	char p[SL_CFG_PATH_MAX];
	struct sl_res r;
	int64_t v;
	size_t i;
	int rc;

	rc = sl_res_open(&r, c->err, node, path, c->target, "loadBalancers", c->lb->name, "probes",
			 pr->name);
	if (rc < 0)
		return rc;
	rc = sl_w_string(&r.props, "protocol", true, &proto);
	if (rc < 0)
		return rc;
	if (strcasecmp(proto, "Tcp") == 0) {
		pr->protocol = SL_PROBE_TCP;
	} else if (strcasecmp(proto, "Http") == 0) {
		pr->protocol = SL_PROBE_HTTP;
	} else if (strcasecmp(proto, "Https") == 0) {
		pr->protocol = SL_PROBE_HTTPS;
	} else {
		sl_path_key(p, r.props.path, "protocol");
		return sl_cfg_error(c->err, "InvalidPropertyValue", r.target, p,
				    "Probe protocol '%s' is not one of Tcp, Http, Https.", proto);
	}
	rc = sl_w_int(&r.props, "port", true, 1, UINT16_MAX, &v);
	if (rc < 0)
		return rc;
	pr->port = (uint16_t)v;
	pr->interval_s = SL_CFG_DEFAULT_PROBE_INTERVAL;
	rc = sl_w_int(&r.props, "intervalInSeconds", false, SL_CFG_MIN_PROBE_INTERVAL, INT32_MAX,
		      &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		pr->interval_s = (uint32_t)v;
	pr->number_of_probes = SL_CFG_DEFAULT_NUMBER_OF_PROBES;
	rc = sl_w_int(&r.props, "numberOfProbes", false, 1, INT32_MAX, &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		pr->number_of_probes = (uint32_t)v;
	pr->probe_threshold = SL_CFG_DEFAULT_PROBE_THRESHOLD;
	rc = sl_w_int(&r.props, "probeThreshold", false, 1, INT32_MAX, &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		pr->probe_threshold = (uint32_t)v;

	rc = sl_w_string(&r.props, "requestPath", false, &rp);
	if (rc < 0)
		return rc;
	sl_path_key(p, r.props.path, "requestPath");
	if (rc > 0 && pr->protocol == SL_PROBE_TCP)
		return sl_cfg_error(c->err, "PropertyNotAllowed", r.target, p,
				    "A Tcp probe has no requestPath; use Http or Https to probe a path.");
	if (rc == 0 && pr->protocol != SL_PROBE_TCP)
		return sl_w_missing(&r.props, "requestPath");
	if (rc > 0) {
		bool ok = rp[0] != '\0' && strlen(rp) < sizeof(pr->request_path);

		for (i = 0; ok && rp[i] != '\0'; i++)
			ok = rp[i] > 0x20 && rp[i] < 0x7f;
		if (!ok)
			return sl_cfg_error(c->err, "InvalidPropertyValue", r.target, p,
					    "requestPath must be 1 to %u printable ASCII characters without spaces.",
					    (unsigned int)sizeof(pr->request_path) - 1);
		snprintf(pr->request_path, sizeof(pr->request_path), "%s", rp);
	}
	return 0;
}

static int
sl_parse_address(const struct sl_lb_ctx *c, const char *pool_target, struct sl_address *a,
		 const cJSON *node, const char *path)
{
	char p[SL_CFG_PATH_MAX];
	const struct sl_vnet *v;
	struct sl_res r;
	int64_t w;
	int rc;

	a->nic = -1;
	a->ipconfig = -1;
	rc = sl_res_open(&r, c->err, node, path, pool_target, NULL, NULL,
			 "loadBalancerBackendAddresses", a->name);
	if (rc < 0)
		return rc;
	rc = sl_w_ip(&r.props, "ipAddress", true, &a->addr, &a->family);
	if (rc < 0)
		return rc;
	rc = sl_resolve_vnet(&r.props, "virtualNetwork", true, c->m, &a->vnet);
	if (rc < 0)
		return rc;
	a->weight = 1;
	rc = sl_w_int(&r.props, "weight", false, 1, SL_CONFIG_MAX_WEIGHT, &w);
	if (rc < 0)
		return rc;
	if (rc > 0)
		a->weight = (uint32_t)w;
	const char *admin = NULL;
	rc = sl_w_string(&r.props, "adminState", false, &admin);
	if (rc < 0)
		return rc;
	if (admin == NULL || strcasecmp(admin, "None") == 0) {
		a->admin_state = SL_ADMIN_NONE;
	} else if (strcasecmp(admin, "Up") == 0) {
		a->admin_state = SL_ADMIN_UP;
	} else if (strcasecmp(admin, "Down") == 0) {
		a->admin_state = SL_ADMIN_DOWN;
	} else {
		sl_path_key(p, r.props.path, "adminState");
		return sl_cfg_error(c->err, "InvalidPropertyValue", r.target, p,
				    "adminState '%s' is not one of None, Up, Down.", admin);
	}

	v = &c->m->vnets[a->vnet];
	if (c->lb->vnet >= 0 && a->vnet != c->lb->vnet) {
		char rp[SL_CFG_PATH_MAX];

		sl_path_key(rp, r.props.path, "virtualNetwork");
		sl_path_key(p, rp, "id");
		return sl_cfg_error(c->err, "BackendAddressVirtualNetworkMismatch", r.target, p,
				    "The address is in virtual network '%s' but load balancer '%s' is in '%s'; backend addresses must be in the load balancer's virtual network.",
				    v->name, c->lb->name, c->m->vnets[c->lb->vnet].name);
	}
	if (!sl_vnet_contains(v, &a->addr)) {
		char ip[64];

		sl_path_key(p, r.props.path, "ipAddress");
		sl_ip_addr_format(&a->addr, ip, sizeof(ip));
		return sl_cfg_error(c->err, "BackendAddressNotInVirtualNetwork", r.target, p,
				    "%s is outside every address prefix of virtual network '%s'.", ip,
				    v->name);
	}
	return 0;
}

struct sl_ip_idx {
	struct sl_ip_addr addr;
	uint32_t idx;
};

static int
sl_cmp_ip_idx(const void *pa, const void *pb)
{
	const struct sl_ip_idx *a = pa, *b = pb;
	int c = memcmp(a->addr.bytes, b->addr.bytes, sizeof(a->addr.bytes));

	if (c != 0)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int
sl_check_dup_ips(const struct sl_lb_ctx *c, const struct sl_pool_cfg *pool,
		 const char *pool_target, const char *apath)
{
	char item[SL_CFG_PATH_MAX], pp[SL_CFG_PATH_MAX], p[SL_CFG_PATH_MAX];
	char target[SL_CFG_TARGET_MAX], ip[64];
	struct sl_ip_idx *v;
	int64_t best = -1;
	uint32_t i, n = pool->n_addresses, first = 0;

	if (n < 2)
		return 0;
	v = malloc(n * sizeof(*v));
	if (v == NULL)
		return sl_cfg_nomem(c->err, pool_target, apath);
	for (i = 0; i < n; i++) {
		v[i].addr = pool->addresses[i].addr;
		v[i].idx = i;
	}
	qsort(v, n, sizeof(*v), sl_cmp_ip_idx);
	for (i = 1; i < n; i++) {
		if (sl_ip_addr_eq(&v[i - 1].addr, &v[i].addr) && (best < 0 || v[i].idx < best))
			best = v[i].idx;
	}
	free(v);
	if (best < 0)
		return 0;
	/* The earlier holder of the same address, for the message. */
	for (i = 0; i < (uint32_t)best; i++) {
		if (sl_ip_addr_eq(&pool->addresses[i].addr, &pool->addresses[best].addr)) {
			first = i;
			break;
		}
	}
	sl_path_index(item, apath, (uint32_t)best);
	sl_path_key(pp, item, "properties");
	sl_path_key(p, pp, "ipAddress");
	sl_target_join(target, pool_target, "loadBalancerBackendAddresses",
		       pool->addresses[best].name);
	sl_ip_addr_format(&pool->addresses[best].addr, ip, sizeof(ip));
	return sl_cfg_error(c->err, "DuplicateIPAddressInBackendAddressPool", target, p,
			    "%s is already in pool '%s' as address '%s'.", ip, pool->name,
			    pool->addresses[first].name);
}

static int
sl_parse_pool(const struct sl_lb_ctx *c, struct sl_pool_cfg *pool, const cJSON *node,
	      const char *path)
{
	char apath[SL_CFG_PATH_MAX], item[SL_CFG_PATH_MAX];
	const cJSON *arr, *el;
	struct sl_res r;
	uint32_t i, n;
	int rc;

	rc = sl_res_open(&r, c->err, node, path, c->target, "loadBalancers", c->lb->name,
			 "backendAddressPools", pool->name);
	if (rc < 0)
		return rc;
	rc = sl_w_array(&r.props, "loadBalancerBackendAddresses", false, &arr, apath);
	if (rc < 0)
		return rc;
	int64_t drain;
	rc = sl_w_int(&r.props, "drainPeriodInSeconds", false, 0, SL_CONFIG_MAX_DRAIN_PERIOD, &drain);
	if (rc < 0)
		return rc;
	pool->drain_period_s = rc > 0 ? (uint32_t)drain : 0;
	n = sl_array_size(arr);
	if (n > 0 && !c->lb->standard_sku)
		return sl_cfg_error(c->err, "IPBasedBackendAddressPoolRequiresStandardSku", r.target,
				    apath,
				    "Pool '%s' lists backend addresses, which needs a Standard load balancer; '%s' is Basic.",
				    pool->name, c->lb->name);
	if (n > c->m->max_addresses_per_pool)
		return sl_cfg_error(c->err, "BackendAddressPoolSizeLimitExceeded", r.target, apath,
				    "Pool '%s' has %u addresses; a pool holds at most %u (settings.maxAddressesPerPool).",
				    pool->name, n, c->m->max_addresses_per_pool);
	if (n > c->m->maglev_size)
		return sl_cfg_error(c->err, "InvalidMaglevTableSize", r.target, apath,
				    "Pool '%s' has %u addresses but settings.maglevTableSize is %u; the table needs at least a slot per address.",
				    pool->name, n, c->m->maglev_size);
	pool->addresses = sl_cfg_calloc(n, sizeof(*pool->addresses));
	if (pool->addresses == NULL)
		return sl_cfg_nomem(c->err, r.target, apath);
	pool->n_addresses = n;
	i = 0;
	cJSON_ArrayForEach(el, arr) {
		sl_path_index(item, apath, i);
		rc = sl_parse_address(c, r.target, &pool->addresses[i], el, item);
		if (rc < 0)
			return rc;
		i++;
	}
	rc = sl_check_dup_names(c->err, pool->addresses, sizeof(*pool->addresses), n, apath,
				r.target, "loadBalancerBackendAddresses");
	if (rc < 0)
		return rc;
	return sl_check_dup_ips(c, pool, r.target, apath);
}

static const char *
sl_proto_name(uint8_t proto)
{
	return proto == SL_PROTO_TCP ? "Tcp" : proto == SL_PROTO_UDP ? "Udp" : "All";
}

/* Backend addresses a rule can deliver to: DNAT and L2/IPinIP keep the frontend's family. */
static int
sl_check_rule_families(const struct sl_lb_ctx *c, const struct sl_rule_cfg *rule,
		       const char *target, const char *path)
{
	const struct sl_frontend *fe = &c->lb->frontends[rule->frontend];
	const struct sl_pool_cfg *pool = &c->lb->pools[rule->pool];
	uint32_t i;

	for (i = 0; i < pool->n_addresses; i++) {
		const struct sl_address *a = &pool->addresses[i];
		enum sl_delivery d = c->m->vnets[a->vnet].delivery;

		if (a->family == fe->family)
			continue;
		if (!rule->floating_ip)
			return sl_cfg_error(c->err, "BackendAddressIPVersionMismatch", target, path,
					    "Rule '%s' rewrites the destination (Floating IP off), so its %s frontend '%s' needs %s backends, but address '%s' of pool '%s' is %s.",
					    rule->name, sl_family_name(fe->family), fe->name,
					    sl_family_name(fe->family), a->name, pool->name,
					    sl_family_name(a->family));
		if (d == SL_DELIVERY_L2 || d == SL_DELIVERY_IPIP)
			return sl_cfg_error(c->err, "BackendAddressIPVersionMismatch", target, path,
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
	char p[SL_CFG_PATH_MAX];
	const char *s;
	int64_t v;
	int rc;

	rc = sl_w_string(&r->props, "protocol", true, &s);
	if (rc < 0)
		return rc;
	if (strcasecmp(s, "Tcp") == 0) {
		*proto = SL_PROTO_TCP;
	} else if (strcasecmp(s, "Udp") == 0) {
		*proto = SL_PROTO_UDP;
	} else if (strcasecmp(s, "All") == 0) {
		*proto = SL_PROTO_ALL;
	} else {
		sl_path_key(p, r->props.path, "protocol");
		return sl_cfg_error(c->err, "InvalidPropertyValue", r->target, p,
				    "Protocol '%s' is not one of Tcp, Udp, All.", s);
	}
	rc = sl_w_int(&r->props, "frontendPort", true, min_port, SL_CFG_MAX_FRONTEND_PORT, &v);
	if (rc < 0)
		return rc;
	*frontend_port = (uint16_t)v;
	*backend_port = *frontend_port;
	rc = sl_w_int(&r->props, "backendPort", false, min_port, UINT16_MAX, &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		*backend_port = (uint16_t)v;
	rc = sl_w_bool(&r->props, "enableFloatingIP", floating_ip);
	if (rc < 0)
		return rc;
	*idle_timeout_min = SL_CFG_DEFAULT_IDLE_MIN;
	rc = sl_w_int(&r->props, "idleTimeoutInMinutes", false, SL_CFG_MIN_IDLE_MIN,
		      SL_CFG_MAX_IDLE_MIN, &v);
	if (rc < 0)
		return rc;
	if (rc > 0)
		*idle_timeout_min = (uint8_t)v;
	rc = sl_w_bool(&r->props, "enableTcpReset", enable_tcp_reset);
	return rc < 0 ? rc : 0;
}

/* With Floating IP the packet keeps its destination port: the two ports must agree. */
static int
sl_check_floating_ports(const struct sl_lb_ctx *c, const struct sl_res *r, uint8_t floating_ip,
			uint16_t frontend_port, uint16_t backend_port)
{
	char p[SL_CFG_PATH_MAX];

	if (!floating_ip || backend_port == frontend_port)
		return 0;
	sl_path_key(p, r->props.path, "backendPort");
	return sl_cfg_error(c->err, "FloatingIPRequiresSameFrontendAndBackendPort", r->target, p,
			    "With Floating IP the packet reaches the backend unchanged, so backendPort (%u) must equal frontendPort (%u).",
			    backend_port, frontend_port);
}

static int
sl_parse_rule(const struct sl_lb_ctx *c, struct sl_rule_cfg *rule, const cJSON *node,
	      const char *path)
{
	struct sl_lb *lb = c->lb;
	char p[SL_CFG_PATH_MAX];
	const char *s;
	struct sl_res r;
	int rc;

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
	rc = sl_w_string(&r.props, "loadDistribution", false, &s);
	if (rc < 0)
		return rc;
	if (rc > 0 && sl_dist_parse(s, &rule->dist) < 0) {
		sl_path_key(p, r.props.path, "loadDistribution");
		return sl_cfg_error(c->err, "InvalidPropertyValue", r.target, p,
				    "loadDistribution '%s' is not one of Default, SourceIP, SourceIPProtocol.",
				    s);
	}

	/* HA ports: protocol All with both ports 0, and port 0 only there. */
	if (rule->proto == SL_PROTO_ALL && (rule->frontend_port != 0 || rule->backend_port != 0)) {
		sl_path_key(p, r.props.path, rule->frontend_port != 0 ? "frontendPort" : "backendPort");
		return sl_cfg_error(c->err, "InvalidHaPortsRule", r.target, p,
				    "Protocol All makes an HA ports rule, whose frontendPort and backendPort are 0.");
	}
	if (rule->proto != SL_PROTO_ALL && (rule->frontend_port == 0 || rule->backend_port == 0)) {
		sl_path_key(p, r.props.path, rule->frontend_port == 0 ? "frontendPort" : "backendPort");
		return sl_cfg_error(c->err, "InvalidHaPortsRule", r.target, p,
				    "Port 0 (any port) makes an HA ports rule, whose protocol is All, not %s.",
				    sl_proto_name(rule->proto));
	}
	rc = sl_check_floating_ports(c, &r, rule->floating_ip, rule->frontend_port,
				     rule->backend_port);
	if (rc < 0)
		return rc;
	return sl_check_rule_families(c, rule, r.target, path);
}

static bool
sl_protos_overlap(uint8_t a, uint8_t b)
{
	return a == SL_PROTO_ALL || b == SL_PROTO_ALL || a == b;
}

/* The checks between rules of one load balancer; rpath is the rules array. */
static int
sl_check_rule_pairs(const struct sl_lb_ctx *c, const char *rpath)
{
	const struct sl_lb *lb = c->lb;
	char item[SL_CFG_PATH_MAX], pp[SL_CFG_PATH_MAX], p[SL_CFG_PATH_MAX];
	char target[SL_CFG_TARGET_MAX];
	uint32_t i, j;

	for (j = 1; j < lb->n_rules; j++) {
		const struct sl_rule_cfg *b = &lb->rules[j];

		sl_path_index(item, rpath, j);
		sl_path_key(pp, item, "properties");
		sl_target_join(target, c->target, "loadBalancingRules", b->name);
		for (i = 0; i < j; i++) {
			const struct sl_rule_cfg *a = &lb->rules[i];

			if (a->frontend == b->frontend &&
			    (a->proto == SL_PROTO_ALL || b->proto == SL_PROTO_ALL ||
			     (a->proto == b->proto && a->frontend_port == b->frontend_port))) {
				sl_path_key(p, pp, "frontendPort");
				if (a->proto == SL_PROTO_ALL || b->proto == SL_PROTO_ALL)
					return sl_cfg_error(c->err,
							    "RulesUseSameFrontendIPConfigurationProtocolAndPort",
							    target, p,
							    "Rules '%s' and '%s' share frontend '%s', but an HA ports rule (protocol All) takes every port of its frontend.",
							    a->name, b->name,
							    lb->frontends[b->frontend].name);
				return sl_cfg_error(c->err,
						    "RulesUseSameFrontendIPConfigurationProtocolAndPort",
						    target, p,
						    "Rules '%s' and '%s' both take %s port %u on frontend '%s'.",
						    a->name, b->name, sl_proto_name(b->proto),
						    b->frontend_port, lb->frontends[b->frontend].name);
			}
			if (a->pool == b->pool && a->backend_port == b->backend_port &&
			    sl_protos_overlap(a->proto, b->proto) &&
			    !(a->floating_ip && b->floating_ip)) {
				sl_path_key(p, pp, "backendPort");
				return sl_cfg_error(c->err,
						    "RulesOfSameLoadBalancerTypeUseSameBackendPortProtocolAndIPConfig",
						    target, p,
						    "Rules '%s' and '%s' both send %s to backend port %u of pool '%s'; rules that share a backend port and protocol on a pool must both enable Floating IP.",
						    a->name, b->name, sl_proto_name(b->proto),
						    b->backend_port, lb->pools[b->pool].name);
			}
		}
	}
	return 0;
}

static int
sl_parse_nat_rule(const struct sl_lb_ctx *c, struct sl_nat_rule_cfg *nr, const cJSON *node,
		  const char *path)
{
	struct sl_lb *lb = c->lb;
	struct sl_res r;
	int rc;

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

/*
 * A NAT rule's frontend port against the load-balancing rules and the
 * earlier NAT rules of its load balancer; npath is the NAT rules array.
 */
static int
sl_check_nat_pairs(const struct sl_lb_ctx *c, const char *npath)
{
	const struct sl_lb *lb = c->lb;
	char item[SL_CFG_PATH_MAX], pp[SL_CFG_PATH_MAX], p[SL_CFG_PATH_MAX];
	char target[SL_CFG_TARGET_MAX];
	uint32_t i, j;

	for (j = 0; j < lb->n_nat_rules; j++) {
		const struct sl_nat_rule_cfg *b = &lb->nat_rules[j];
		const char *fe = lb->frontends[b->frontend].name;

		sl_path_index(item, npath, j);
		sl_path_key(pp, item, "properties");
		sl_path_key(p, pp, "frontendPort");
		sl_target_join(target, c->target, "inboundNatRules", b->name);
		for (i = 0; i < lb->n_rules; i++) {
			const struct sl_rule_cfg *a = &lb->rules[i];

			if (a->frontend != b->frontend)
				continue;
			if (a->proto == SL_PROTO_ALL)
				return sl_cfg_error(c->err,
						    "RulesUseSameFrontendIPConfigurationProtocolAndPort",
						    target, p,
						    "Inbound NAT rule '%s' uses frontend '%s', but load-balancing rule '%s' is an HA ports rule (protocol All), which takes every port of its frontend.",
						    b->name, fe, a->name);
			if (sl_protos_overlap(a->proto, b->proto) &&
			    a->frontend_port == b->frontend_port)
				return sl_cfg_error(c->err,
						    "RulesUseSameFrontendIPConfigurationProtocolAndPort",
						    target, p,
						    "Inbound NAT rule '%s' and load-balancing rule '%s' both take %s port %u on frontend '%s'.",
						    b->name, a->name, sl_proto_name(a->proto),
						    b->frontend_port, fe);
		}
		for (i = 0; i < j; i++) {
			const struct sl_nat_rule_cfg *a = &lb->nat_rules[i];

			if (a->frontend == b->frontend && sl_protos_overlap(a->proto, b->proto) &&
			    a->frontend_port == b->frontend_port)
				return sl_cfg_error(c->err,
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

/* The unsupported child collections: accepted only empty. */
static int
sl_check_unsupported(const struct sl_where *props)
{
	static const char *const unsupported[] = {"inboundNatPools", "outboundRules", NULL};
	const char *const *k;
	char p[SL_CFG_PATH_MAX];
	const cJSON *arr;
	int rc;

	for (k = unsupported; *k != NULL; k++) {
		rc = sl_w_array(props, *k, false, &arr, p);
		if (rc < 0)
			return rc;
		if (sl_array_size(arr) > 0)
			return sl_cfg_error(props->err, "FeatureNotSupported", props->target, p,
					    "sluice does not implement %s yet; the list must be empty.",
					    *k);
	}
	return 0;
}

static int
sl_parse_lb(struct sl_error *e, struct sl_model *m, uint32_t li, const cJSON *node,
	    const char *path)
{
	char fpath[SL_CFG_PATH_MAX], prpath[SL_CFG_PATH_MAX], ppath[SL_CFG_PATH_MAX];
	char rpath[SL_CFG_PATH_MAX], skupath[SL_CFG_PATH_MAX], item[SL_CFG_PATH_MAX];
	char npath[SL_CFG_PATH_MAX];
	const cJSON *fes, *probes, *pools, *rules, *nats, *el;
	struct sl_lb *lb = &m->lbs[li];
	struct sl_lb_ctx c;
	struct sl_where sku;
	struct sl_res r;
	uint64_t total = 0;
	const char *s;
	uint32_t i;
	int rc;

	lb->vnet = -1;
	rc = sl_res_open(&r, e, node, path, NULL, NULL, NULL, "loadBalancers", lb->name);
	if (rc < 0)
		return rc;
	c.err = e;
	c.m = m;
	c.lb = lb;
	c.lb_index = li;
	c.target = r.target;

	rc = sl_w_object(&r.self, "sku", false, &sku, skupath);
	if (rc < 0)
		return rc;
	rc = sl_w_string(&sku, "name", false, &s);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		if (strcasecmp(s, "Standard") == 0) {
			lb->standard_sku = 1;
		} else if (strcasecmp(s, "Basic") != 0) {
			sl_path_key(item, skupath, "name");
			return sl_cfg_error(e, "InvalidPropertyValue", r.target, item,
					    "SKU '%s' is not Basic or Standard.", s);
		}
	}

	if ((rc = sl_w_array(&r.props, "frontendIPConfigurations", false, &fes, fpath)) < 0 ||
	    (rc = sl_w_array(&r.props, "probes", false, &probes, prpath)) < 0 ||
	    (rc = sl_w_array(&r.props, "backendAddressPools", false, &pools, ppath)) < 0 ||
	    (rc = sl_w_array(&r.props, "loadBalancingRules", false, &rules, rpath)) < 0 ||
	    (rc = sl_w_array(&r.props, "inboundNatRules", false, &nats, npath)) < 0)
		return rc;
	rc = sl_check_unsupported(&r.props);
	if (rc < 0)
		return rc;
	if (sl_array_size(fes) == 0 &&
	    sl_array_size(probes) + sl_array_size(pools) + sl_array_size(rules) +
			    sl_array_size(nats) > 0)
		return sl_cfg_error(e, "LoadBalancerWithoutFrontendIPCantHaveChildResources",
				    r.target, r.props.path,
				    "Load balancer '%s' has no frontendIPConfigurations, so it cannot have backend pools, rules, inbound NAT rules or probes.",
				    lb->name);
	if (sl_array_size(rules) > SL_CONFIG_MAX_RULES_PER_LB)
		return sl_cfg_error(e, "LoadBalancingRuleLimitExceeded", r.target, rpath,
				    "Load balancer '%s' has %u rules; the limit is %u.", lb->name,
				    sl_array_size(rules), SL_CONFIG_MAX_RULES_PER_LB);

	lb->frontends = sl_cfg_calloc(sl_array_size(fes), sizeof(*lb->frontends));
	lb->probes = sl_cfg_calloc(sl_array_size(probes), sizeof(*lb->probes));
	lb->pools = sl_cfg_calloc(sl_array_size(pools), sizeof(*lb->pools));
	lb->rules = sl_cfg_calloc(sl_array_size(rules), sizeof(*lb->rules));
	lb->nat_rules = sl_cfg_calloc(sl_array_size(nats), sizeof(*lb->nat_rules));
	if (lb->frontends == NULL || lb->probes == NULL || lb->pools == NULL || lb->rules == NULL ||
	    lb->nat_rules == NULL)
		return sl_cfg_nomem(e, r.target, r.props.path);
	lb->n_frontends = sl_array_size(fes);
	lb->n_probes = sl_array_size(probes);
	lb->n_pools = sl_array_size(pools);
	lb->n_rules = sl_array_size(rules);
	lb->n_nat_rules = sl_array_size(nats);

	i = 0;
	cJSON_ArrayForEach(el, fes) {
		sl_path_index(item, fpath, i);
		rc = sl_parse_frontend(&c, i, el, item);
		if (rc < 0)
			return rc;
		i++;
	}
	rc = sl_check_dup_names(e, lb->frontends, sizeof(*lb->frontends), lb->n_frontends, fpath,
				r.target, "frontendIPConfigurations");
	if (rc < 0)
		return rc;

	i = 0;
	cJSON_ArrayForEach(el, probes) {
		sl_path_index(item, prpath, i);
		rc = sl_parse_probe(&c, &lb->probes[i], el, item);
		if (rc < 0)
			return rc;
		i++;
	}
	rc = sl_check_dup_names(e, lb->probes, sizeof(*lb->probes), lb->n_probes, prpath, r.target,
				"probes");
	if (rc < 0)
		return rc;

	i = 0;
	cJSON_ArrayForEach(el, pools) {
		sl_path_index(item, ppath, i);
		rc = sl_parse_pool(&c, &lb->pools[i], el, item);
		if (rc < 0)
			return rc;
		total += lb->pools[i].n_addresses;
		i++;
	}
	rc = sl_check_dup_names(e, lb->pools, sizeof(*lb->pools), lb->n_pools, ppath, r.target,
				"backendAddressPools");
	if (rc < 0)
		return rc;
	if (total > m->max_addresses_per_lb)
		return sl_cfg_error(e, "LoadBalancerBackendAddressLimitExceeded", r.target, ppath,
				    "Load balancer '%s' has %llu backend addresses across its pools; the limit is %u (settings.maxAddressesPerLoadBalancer).",
				    lb->name, (unsigned long long)total, m->max_addresses_per_lb);

	i = 0;
	cJSON_ArrayForEach(el, rules) {
		sl_path_index(item, rpath, i);
		rc = sl_parse_rule(&c, &lb->rules[i], el, item);
		if (rc < 0)
			return rc;
		i++;
	}
	rc = sl_check_dup_names(e, lb->rules, sizeof(*lb->rules), lb->n_rules, rpath, r.target,
				"loadBalancingRules");
	if (rc < 0)
		return rc;
	rc = sl_check_rule_pairs(&c, rpath);
	if (rc < 0)
		return rc;

	i = 0;
	cJSON_ArrayForEach(el, nats) {
		sl_path_index(item, npath, i);
		rc = sl_parse_nat_rule(&c, &lb->nat_rules[i], el, item);
		if (rc < 0)
			return rc;
		i++;
	}
	rc = sl_check_dup_names(e, lb->nat_rules, sizeof(*lb->nat_rules), lb->n_nat_rules, npath,
				r.target, "inboundNatRules");
	if (rc < 0)
		return rc;
	return sl_check_nat_pairs(&c, npath);
}

/* --- network interfaces -------------------------------------------------- */

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
sl_w_ref_list(const struct sl_where *w, const char *key, const cJSON **list, uint32_t *n,
	      char *pathbuf)
{
	const cJSON *v = sl_w_member(w, key);

	sl_path_key(pathbuf, w->path, key);
	*list = v;
	*n = 0;
	if (v == NULL)
		return 0;
	if (cJSON_IsObject(v))
		*n = 1;
	else if (cJSON_IsArray(v))
		*n = sl_array_size(v);
	else
		return sl_w_type_error(w, key, v, "a reference {\"id\": ...} or an array of them");
	return 1;
}

/* The id of reference i of such a list (lpath its path); idpath receives the id's path. */
static int
sl_ref_list_id(const struct sl_where *w, const cJSON *list, const char *lpath, uint32_t i,
	       const char **id, char *idpath)
{
	char epath[SL_CFG_PATH_MAX];
	struct sl_where ref;
	const cJSON *el;
	int rc;

	if (cJSON_IsObject(list)) {
		el = list;
		snprintf(epath, sizeof(epath), "%s", lpath);
	} else {
		el = cJSON_GetArrayItem(list, (int)i);
		sl_path_index(epath, lpath, i);
	}
	sl_path_key(idpath, epath, "id");
	rc = sl_check_object(w->err, el, epath, w->target);
	if (rc < 0)
		return rc;
	ref.err = w->err;
	ref.target = w->target;
	ref.path = epath;
	ref.obj = el;
	return sl_w_string(&ref, "id", true, id);
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
		return sl_cfg_error(w->err, "InvalidResourceReference", w->target, idpath,
				    "'%s' is not a %s id (.../loadBalancers/{lb}/%s/{name}).", id, what,
				    type);
	li = sl_find_name(m->lbs, sizeof(*m->lbs), m->n_lbs, ref.parent);
	if (li < 0)
		return sl_cfg_error(w->err, "InvalidResourceReference", w->target, idpath,
				    "Load balancer '%s' is not defined.", ref.parent);
	lb = &m->lbs[li];
	if (nat)
		i = sl_find_name(lb->nat_rules, sizeof(*lb->nat_rules), lb->n_nat_rules, ref.name);
	else
		i = sl_find_name(lb->pools, sizeof(*lb->pools), lb->n_pools, ref.name);
	if (i < 0)
		return sl_cfg_error(w->err, "InvalidResourceReference", w->target, idpath,
				    "Load balancer '%s' has no %s '%s'.", lb->name, what, ref.name);
	out->lb = li;
	out->idx = i;
	return 0;
}

/* Floating IP by GUE or VXLAN reaches a backend of the other family; DNAT, L2 and IPinIP do not. */
static bool
sl_delivery_crosses_families(const struct sl_model *m, uint8_t floating_ip, int vnet)
{
	enum sl_delivery d = m->vnets[vnet].delivery;

	return floating_ip && d != SL_DELIVERY_L2 && d != SL_DELIVERY_IPIP;
}

/* A backend of load balancer lb must be in its vnet, when it has one. */
static int
sl_ipc_check_lb_vnet(const struct sl_ipc_ctx *x, const struct sl_lb *lb, const char *idpath)
{
	const struct sl_model *m = x->n->m;

	if (lb->vnet < 0 || x->ic->vnet == lb->vnet)
		return 0;
	return sl_cfg_error(x->n->err, "BackendAddressVirtualNetworkMismatch", x->target, idpath,
			    "ipConfiguration '%s/%s' is in virtual network '%s' but load balancer '%s' is in '%s'; its backends must be in the load balancer's virtual network.",
			    x->nic->name, x->ic->name, m->vnets[x->ic->vnet].name, lb->name,
			    m->vnets[lb->vnet].name);
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
		return sl_cfg_error(n->err,
				    "CannotMixIPBasedAddressesAndIPConfigurationsOnLoadBalancerBackendAddressPool",
				    x->target, idpath,
				    "Pool '%s' of load balancer '%s' lists loadBalancerBackendAddresses (IP-based), so NIC ipConfigurations cannot join it; a pool is filled by one or the other.",
				    pool->name, lb->name);
	rc = sl_ipc_check_lb_vnet(x, lb, idpath);
	if (rc < 0)
		return rc;
	if (*cnt + 1 > m->max_addresses_per_pool)
		return sl_cfg_error(n->err, "BackendAddressPoolSizeLimitExceeded", x->target, idpath,
				    "Pool '%s' of load balancer '%s' would have %u members with this ipConfiguration; a pool holds at most %u (settings.maxAddressesPerPool).",
				    pool->name, lb->name, *cnt + 1, m->max_addresses_per_pool);
	if (n->lb_members[ref->lb] + 1 > m->max_addresses_per_lb)
		return sl_cfg_error(n->err, "LoadBalancerBackendAddressLimitExceeded", x->target,
				    idpath,
				    "Load balancer '%s' would have %llu backend addresses across its pools with this ipConfiguration; the limit is %u (settings.maxAddressesPerLoadBalancer).",
				    lb->name, (unsigned long long)n->lb_members[ref->lb] + 1,
				    m->max_addresses_per_lb);
	if (*cnt + 1 > m->maglev_size)
		return sl_cfg_error(n->err, "InvalidMaglevTableSize", x->target, idpath,
				    "Pool '%s' of load balancer '%s' would have %u members with this ipConfiguration but settings.maglevTableSize is %u; the table needs at least a slot per member.",
				    pool->name, lb->name, *cnt + 1, m->maglev_size);
	for (i = 0; i < lb->n_rules; i++) {
		const struct sl_rule_cfg *rule = &lb->rules[i];
		const struct sl_frontend *fe = &lb->frontends[rule->frontend];

		if (rule->pool != ref->idx || fe->family == ic->family ||
		    sl_delivery_crosses_families(m, rule->floating_ip, ic->vnet))
			continue;
		return sl_cfg_error(n->err, "BackendAddressIPVersionMismatch", x->target, idpath,
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
		return sl_cfg_error(x->n->err, "InboundNatRuleReferencedByMultipleIpConfigurations",
				    x->target, idpath,
				    "Inbound NAT rule '%s' of load balancer '%s' already has ipConfiguration '%s/%s' as its backend; at most one ipConfiguration can use an inbound NAT rule.",
				    nr->name, lb->name, m->nics[nr->nic].name,
				    m->nics[nr->nic].ipconfigs[nr->ipconfig].name);
	rc = sl_ipc_check_lb_vnet(x, lb, idpath);
	if (rc < 0)
		return rc;
	if (fe->family != x->ic->family &&
	    !sl_delivery_crosses_families(m, nr->floating_ip, x->ic->vnet))
		return sl_cfg_error(x->n->err, "BackendAddressIPVersionMismatch", x->target, idpath,
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
	char lpath[SL_CFG_PATH_MAX], idpath[SL_CFG_PATH_MAX];
	const struct sl_model *m = x->n->m;
	struct sl_lb_child_ref ref;
	const cJSON *list;
	const char *id;
	uint32_t cnt, k, j;
	int rc;

	rc = sl_w_ref_list(props, key, &list, &cnt, lpath);
	if (rc < 0)
		return rc;
	*out = sl_cfg_calloc(cnt, sizeof(**out));
	if (*out == NULL)
		return sl_cfg_nomem(x->n->err, x->target, lpath);
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
			return sl_cfg_error(x->n->err, "InvalidRequestFormat", x->target, idpath,
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

static int
sl_parse_ipconfig(const struct sl_nic_ctx *n, struct sl_nic *nic, uint32_t ni, uint32_t ci,
		  const char *nic_target, const cJSON *node, const char *path)
{
	struct sl_nic_ipconfig *ic = &nic->ipconfigs[ci];
	const struct sl_model *m = n->m;
	char p[SL_CFG_PATH_MAX], idpath[SL_CFG_PATH_MAX], ip[64];
	const struct sl_subnet *sn;
	const char *ver, *method;
	struct sl_ipc_ctx x;
	struct sl_res r;
	uint8_t vf = SL_AF_NONE, sf;
	uint32_t li, k;
	bool has_addr;
	int rc;

	ic->vnet = -1;
	ic->subnet = -1;
	rc = sl_res_open(&r, n->err, node, path, nic_target, "networkInterfaces", nic->name,
			 "ipConfigurations", ic->name);
	if (rc < 0)
		return rc;
	rc = sl_w_ip(&r.props, "privateIPAddress", false, &ic->addr, &ic->family);
	if (rc < 0)
		return rc;
	has_addr = rc > 0;
	rc = sl_w_ip_version(&r.props, &ver, &vf);
	if (rc < 0)
		return rc;
	rc = sl_w_string(&r.props, "privateIPAllocationMethod", false, &method);
	if (rc < 0)
		return rc;
	if (rc > 0 && strcasecmp(method, "Static") == 0) {
		ic->dynamic = 0;
	} else if (rc > 0 && strcasecmp(method, "Dynamic") == 0) {
		ic->dynamic = 1;
	} else if (rc > 0) {
		sl_path_key(p, r.props.path, "privateIPAllocationMethod");
		return sl_cfg_error(n->err, "InvalidPropertyValue", r.target, p,
				    "privateIPAllocationMethod '%s' is not Static or Dynamic.", method);
	} else {
		ic->dynamic = !has_addr;
	}
	rc = sl_w_bool(&r.props, "primary", &ic->primary);
	if (rc < 0)
		return rc;
	rc = sl_resolve_subnet(&r.props, "subnet", true, m, &ic->vnet, &ic->subnet, idpath);
	if (rc < 0)
		return rc;
	sn = &m->vnets[ic->vnet].subnets[ic->subnet];
	sf = sl_prefix_is_v4(&sn->prefix) ? SL_AF_IPV4 : SL_AF_IPV6;

	if (vf != SL_AF_NONE && vf != (has_addr ? ic->family : sf)) {
		sl_path_key(p, r.props.path, "privateIPAddressVersion");
		if (has_addr)
			return sl_cfg_error(n->err, "PrivateIPAddressVersionMismatch", r.target, p,
					    "privateIPAddressVersion is %s but privateIPAddress is an %s address.",
					    ver, sl_family_name(ic->family));
		return sl_cfg_error(n->err, "PrivateIPAddressVersionMismatch", r.target, p,
				    "privateIPAddressVersion is %s but subnet '%s' is an %s subnet.", ver,
				    sn->name, sl_family_name(sf));
	}
	sl_path_key(p, r.props.path, "privateIPAddress");
	if (!has_addr)
		return sl_cfg_error(n->err, "MissingRequiredProperty", r.target, p,
				    "ipConfiguration '%s' has no privateIPAddress: %s", ic->name,
				    ic->dynamic ?
					    "a Dynamic address is assigned by sl_config_assign_dynamic_ips() before validation, as the REST API and configuration files do." :
					    "Static allocation needs one.");
	sl_ip_addr_format(&ic->addr, ip, sizeof(ip));
	if (!sl_prefix_contains(&sn->prefix, &ic->addr))
		return sl_cfg_error(n->err, "PrivateIPAddressNotInSubnet", r.target, p,
				    "privateIPAddress %s is not inside subnet '%s' of virtual network '%s'.",
				    ip, sn->name, m->vnets[ic->vnet].name);
	for (li = 0; li < m->n_lbs; li++) {
		const struct sl_lb *lb = &m->lbs[li];

		for (k = 0; k < lb->n_frontends; k++) {
			if (!sl_ip_addr_eq(&lb->frontends[k].addr, &ic->addr))
				continue;
			return sl_cfg_error(n->err, "PrivateIPAddressInUse", r.target, p,
					    "%s is already used by frontend loadBalancers/%s/frontendIPConfigurations/%s.",
					    ip, lb->name, lb->frontends[k].name);
		}
	}

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
sl_parse_nic(const struct sl_nic_ctx *n, uint32_t ni, const cJSON *node, const char *path)
{
	struct sl_nic *nic = &n->m->nics[ni];
	char p[SL_CFG_PATH_MAX], ipath[SL_CFG_PATH_MAX], item[SL_CFG_PATH_MAX];
	const cJSON *arr, *el;
	struct sl_res r;
	uint32_t i, primaries = 0;
	const char *s;
	int rc;

	rc = sl_res_open(&r, n->err, node, path, NULL, NULL, NULL, "networkInterfaces", nic->name);
	if (rc < 0)
		return rc;
	rc = sl_w_string(&r.props, "macAddress", false, &s);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		if (sl_mac_parse(s, &nic->mac) < 0) {
			sl_path_key(p, r.props.path, "macAddress");
			return sl_cfg_error(n->err, "InvalidPropertyValue", r.target, p,
					    "macAddress '%s' is not a MAC address such as 00-0D-3A-12-34-56 or 00:0d:3a:12:34:56.",
					    s);
		}
		nic->has_mac = 1;
	}
	rc = sl_w_array(&r.props, "ipConfigurations", true, &arr, ipath);
	if (rc < 0)
		return rc;
	if (sl_array_size(arr) == 0)
		return sl_cfg_error(n->err, "MissingRequiredProperty", r.target, ipath,
				    "'ipConfigurations' must list at least one IP configuration.");
	nic->ipconfigs = sl_cfg_calloc(sl_array_size(arr), sizeof(*nic->ipconfigs));
	if (nic->ipconfigs == NULL)
		return sl_cfg_nomem(n->err, r.target, ipath);
	nic->n_ipconfigs = sl_array_size(arr);
	i = 0;
	cJSON_ArrayForEach(el, arr) {
		sl_path_index(item, ipath, i);
		rc = sl_parse_ipconfig(n, nic, ni, i, r.target, el, item);
		if (rc < 0)
			return rc;
		primaries += nic->ipconfigs[i].primary;
		i++;
	}
	rc = sl_check_dup_names(n->err, nic->ipconfigs, sizeof(*nic->ipconfigs), nic->n_ipconfigs,
				ipath, r.target, "ipConfigurations");
	if (rc < 0)
		return rc;
	if (nic->n_ipconfigs == 1) {
		nic->ipconfigs[0].primary = 1; /* the only one is the primary, as in Azure */
	} else if (primaries != 1) {
		return sl_cfg_error(n->err, "NetworkInterfaceMustHaveOneOneIPConfigAsPrimary", r.target,
				    ipath,
				    "Network interface '%s' has %u ipConfigurations and %u of them are primary; exactly one must be.",
				    nic->name, nic->n_ipconfigs, primaries);
	}
	return 0;
}

/* An ipConfiguration by (vnet, address), for the checks after the last NIC. */
struct sl_ipc_key {
	struct sl_ip_addr addr;
	int vnet;
	uint32_t nic, ic;
	uint32_t order; /* document order */
};

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
	snprintf(buf, SL_CFG_PATH_MAX, "%s[%u].properties.ipConfigurations[%u].properties.%s", npath,
		 ni, ci, key);
}

static void
sl_ipc_target(char *buf, const struct sl_model *m, uint32_t ni, uint32_t ci)
{
	char nt[SL_CFG_TARGET_MAX];

	sl_target_join(nt, NULL, "networkInterfaces", m->nics[ni].name);
	sl_target_join(buf, nt, "ipConfigurations", m->nics[ni].ipconfigs[ci].name);
}

/*
 * No two ipConfigurations share an address in one vnet. *keys receives all
 * of them sorted by (vnet, address), for sl_link_ip_addresses().
 */
static int
sl_check_nic_addresses(const struct sl_nic_ctx *n, const char *npath, struct sl_ipc_key **keys,
		       uint32_t *n_keys)
{
	const struct sl_model *m = n->m;
	char p[SL_CFG_PATH_MAX], target[SL_CFG_TARGET_MAX], ip[64];
	const struct sl_ipc_key *best = NULL, *first = NULL;
	struct sl_ipc_key *v;
	uint32_t ni, ci, i, cnt = 0, run = 0;

	for (ni = 0; ni < m->n_nics; ni++)
		cnt += m->nics[ni].n_ipconfigs;
	*keys = v = sl_cfg_calloc(cnt, sizeof(*v));
	*n_keys = cnt;
	if (v == NULL)
		return sl_cfg_nomem(n->err, "networkInterfaces", npath);
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
	return sl_cfg_error(n->err, "PrivateIPAddressInUse", target, p,
			    "%s is already used in virtual network '%s' by ipConfiguration '%s/%s'.", ip,
			    m->vnets[best->vnet].name, m->nics[first->nic].name,
			    m->nics[first->nic].ipconfigs[first->ic].name);
}

/* The members of the NIC-based pools, in document order of the NICs. */
static int
sl_fill_nic_pools(const struct sl_nic_ctx *n, const char *npath)
{
	struct sl_model *m = n->m;
	char p[SL_CFG_PATH_MAX], target[SL_CFG_TARGET_MAX], ip[64];
	uint32_t li, pi, ni, ci, k, i;

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
				return sl_cfg_nomem(n->err, "networkInterfaces", npath);
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
			struct sl_ip_idx *v;
			int64_t best = -1;

			if (cnt < 2)
				continue;
			v = malloc(cnt * sizeof(*v));
			if (v == NULL)
				return sl_cfg_nomem(n->err, "networkInterfaces", npath);
			for (i = 0; i < cnt; i++) {
				v[i].addr = pool->addresses[i].addr;
				v[i].idx = i;
			}
			qsort(v, cnt, sizeof(*v), sl_cmp_ip_idx);
			for (i = 1; i < cnt; i++) {
				if (sl_ip_addr_eq(&v[i - 1].addr, &v[i].addr) &&
				    (best < 0 || v[i].idx < best))
					best = v[i].idx;
			}
			free(v);
			if (best < 0)
				continue;
			b = &pool->addresses[best];
			for (a = pool->addresses; !sl_ip_addr_eq(&a->addr, &b->addr); a++)
				;
			sl_ipc_path(p, npath, (uint32_t)b->nic, (uint32_t)b->ipconfig, "privateIPAddress");
			sl_ipc_target(target, m, (uint32_t)b->nic, (uint32_t)b->ipconfig);
			sl_ip_addr_format(&b->addr, ip, sizeof(ip));
			return sl_cfg_error(n->err, "DuplicateIPAddressInBackendAddressPool", target, p,
					    "%s is already in pool '%s' of load balancer '%s' as ipConfiguration '%s' (virtual network '%s').",
					    ip, pool->name, lb->name, a->name, m->vnets[a->vnet].name);
		}
	}
	return 0;
}

/* IP-based addresses learn the NIC ipConfiguration that has their address in their vnet. */
static void
sl_link_ip_addresses(struct sl_model *m, const struct sl_ipc_key *keys, uint32_t n_keys)
{
	uint32_t li, pi, ai;

	for (li = 0; li < m->n_lbs; li++) {
		for (pi = 0; pi < m->lbs[li].n_pools; pi++) {
			struct sl_pool_cfg *pool = &m->lbs[li].pools[pi];

			for (ai = 0; ai < pool->n_addresses; ai++) {
				struct sl_address *a = &pool->addresses[ai];
				struct sl_ipc_key key;
				const struct sl_ipc_key *hit;

				if (a->from_nic)
					continue;
				memset(&key, 0, sizeof(key));
				key.addr = a->addr;
				key.vnet = a->vnet;
				hit = n_keys == 0 ? NULL :
						    bsearch(&key, keys, n_keys, sizeof(*keys),
							    sl_cmp_ipc_key_addr);
				if (hit != NULL) {
					a->nic = (int)hit->nic;
					a->ipconfig = (int)hit->ic;
				}
			}
		}
	}
}

static int
sl_parse_nics(struct sl_error *e, struct sl_model *m, const cJSON *nics, const char *npath)
{
	struct sl_nic_ctx n = {e, m, NULL, NULL, NULL};
	struct sl_ipc_key *keys = NULL;
	char item[SL_CFG_PATH_MAX];
	uint32_t li, pi, i, n_pools = 0, n_keys = 0;
	const cJSON *el;
	int rc;

	m->nics = sl_cfg_calloc(sl_array_size(nics), sizeof(*m->nics));
	if (m->nics == NULL)
		return sl_cfg_nomem(e, "networkInterfaces", npath);
	m->n_nics = sl_array_size(nics);
	for (li = 0; li < m->n_lbs; li++)
		n_pools += m->lbs[li].n_pools;
	n.pool_base = sl_cfg_calloc(m->n_lbs, sizeof(*n.pool_base));
	n.lb_members = sl_cfg_calloc(m->n_lbs, sizeof(*n.lb_members));
	n.members = sl_cfg_calloc(n_pools, sizeof(*n.members));
	if (n.pool_base == NULL || n.lb_members == NULL || n.members == NULL) {
		rc = sl_cfg_nomem(e, "networkInterfaces", npath);
		goto out;
	}
	n_pools = 0;
	for (li = 0; li < m->n_lbs; li++) {
		n.pool_base[li] = n_pools;
		n_pools += m->lbs[li].n_pools;
		for (pi = 0; pi < m->lbs[li].n_pools; pi++)
			n.lb_members[li] += m->lbs[li].pools[pi].n_addresses;
	}

	i = 0;
	cJSON_ArrayForEach(el, nics) {
		sl_path_index(item, npath, i);
		rc = sl_parse_nic(&n, i, el, item);
		if (rc < 0)
			goto out;
		i++;
	}
	rc = sl_check_dup_names(e, m->nics, sizeof(*m->nics), m->n_nics, npath, NULL,
				"networkInterfaces");
	if (rc < 0)
		goto out;
	rc = sl_check_nic_addresses(&n, npath, &keys, &n_keys);
	if (rc < 0)
		goto out;
	rc = sl_fill_nic_pools(&n, npath);
	if (rc < 0)
		goto out;
	sl_link_ip_addresses(m, keys, n_keys);
out:
	free(keys);
	free(n.pool_base);
	free(n.lb_members);
	free(n.members);
	return rc;
}

/* --- the document -------------------------------------------------------- */

static int
sl_parse_root(struct sl_error *e, struct sl_model *m, const cJSON *root, const char *doc_target)
{
	static const char *const known[] = {"settings", "virtualNetworks", "loadBalancers",
					    "networkInterfaces", NULL};
	char vpath[SL_CFG_PATH_MAX], lpath[SL_CFG_PATH_MAX], item[SL_CFG_PATH_MAX];
	char npath[SL_CFG_PATH_MAX];
	struct sl_where w = {e, doc_target, "$", NULL};
	const cJSON *vnets, *lbs, *nics, *el;
	uint32_t i;
	int rc;

	if (!cJSON_IsObject(root))
		return sl_cfg_error(e, "InvalidRequestFormat", doc_target, "$",
				    "The configuration must be a JSON object, not %s.",
				    sl_json_type(root));
	rc = sl_check_object(e, root, "$", doc_target);
	if (rc < 0)
		return rc;
	w.obj = root;
	rc = sl_check_known(&w, known);
	if (rc < 0)
		return rc;

	el = sl_w_member(&w, "settings");
	if (el != NULL) {
		rc = sl_parse_settings(e, m, el);
		if (rc < 0)
			return rc;
	}

	rc = sl_w_array(&w, "virtualNetworks", false, &vnets, vpath);
	if (rc < 0)
		return rc;
	m->vnets = sl_cfg_calloc(sl_array_size(vnets), sizeof(*m->vnets));
	if (m->vnets == NULL)
		return sl_cfg_nomem(e, doc_target, vpath);
	m->n_vnets = sl_array_size(vnets);
	i = 0;
	cJSON_ArrayForEach(el, vnets) {
		sl_path_index(item, vpath, i);
		rc = sl_parse_vnet(e, &m->vnets[i], el, item);
		if (rc < 0)
			return rc;
		i++;
	}
	rc = sl_check_dup_names(e, m->vnets, sizeof(*m->vnets), m->n_vnets, vpath, NULL,
				"virtualNetworks");
	if (rc < 0)
		return rc;

	rc = sl_w_array(&w, "loadBalancers", false, &lbs, lpath);
	if (rc < 0)
		return rc;
	m->lbs = sl_cfg_calloc(sl_array_size(lbs), sizeof(*m->lbs));
	if (m->lbs == NULL)
		return sl_cfg_nomem(e, doc_target, lpath);
	m->n_lbs = sl_array_size(lbs);
	i = 0;
	cJSON_ArrayForEach(el, lbs) {
		sl_path_index(item, lpath, i);
		rc = sl_parse_lb(e, m, i, el, item);
		if (rc < 0)
			return rc;
		i++;
	}
	rc = sl_check_dup_names(e, m->lbs, sizeof(*m->lbs), m->n_lbs, lpath, NULL,
				"loadBalancers");
	if (rc < 0)
		return rc;

	rc = sl_w_array(&w, "networkInterfaces", false, &nics, npath);
	if (rc < 0)
		return rc;
	return sl_parse_nics(e, m, nics, npath);
}

struct sl_model *
sl_config_from_json(const cJSON *root, const char *doc_target, struct sl_error *err)
{
	struct sl_model *m;
	int rc;

	if (doc_target == NULL)
		doc_target = "configuration";
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		rc = sl_cfg_nomem(err, doc_target, "$");
		goto fail;
	}
	m->maglev_size = SL_MAGLEV_DEFAULT_SIZE;
	m->max_addresses_per_pool = SL_CONFIG_MAX_ADDRESSES_PER_POOL;
	m->max_addresses_per_lb = SL_CONFIG_MAX_ADDRESSES_PER_LB;
	rc = sl_parse_root(err, m, root, doc_target);
	if (rc < 0) {
		sl_model_free(m);
		goto fail;
	}
	return m;
fail:
	if (err != NULL)
		err->file[0] = '\0';
	errno = -rc;
	return NULL;
}

struct sl_model *
sl_config_parse(const char *text, size_t len, const char *file_name, struct sl_error *err)
{
	const char *doc_target = file_name != NULL ? file_name : "configuration";
	struct sl_model *m = NULL;
	cJSON *root;
	int rc;

	if (text == NULL) {
		sl_error_set(err, "InvalidJson", doc_target, "", "No configuration text.");
		rc = EINVAL;
		goto fail;
	}
	root = sl_json_parse(text, len, doc_target, err);
	if (root == NULL) {
		rc = EINVAL;
		goto fail;
	}
	rc = sl_config_assign_dynamic_ips(root, err);
	if (rc >= 0)
		m = sl_config_from_json(root, doc_target, err);
	rc = rc < 0 ? -rc : errno;
	cJSON_Delete(root);
	if (m != NULL)
		return m;
fail:
	if (err != NULL)
		snprintf(err->file, sizeof(err->file), "%s", file_name != NULL ? file_name : "");
	errno = rc;
	return NULL;
}

struct sl_model *
sl_config_load(const char *path, struct sl_error *err)
{
	struct sl_model *m;
	size_t len;
	char *buf = sl_file_read(path, SL_CONFIG_MAX_FILE_SIZE, &len, "ConfigFileUnreadable", err);

	if (buf == NULL)
		return NULL;
	m = sl_config_parse(buf, len, path, err);
	free(buf);
	return m;
}

void
sl_model_free(struct sl_model *m)
{
	uint32_t i, j;

	if (m == NULL)
		return;
	for (i = 0; m->vnets != NULL && i < m->n_vnets; i++) {
		free(m->vnets[i].prefixes);
		free(m->vnets[i].subnets);
	}
	free(m->vnets);
	for (i = 0; m->nics != NULL && i < m->n_nics; i++) {
		struct sl_nic *nic = &m->nics[i];

		for (j = 0; nic->ipconfigs != NULL && j < nic->n_ipconfigs; j++) {
			free(nic->ipconfigs[j].pools);
			free(nic->ipconfigs[j].nat_rules);
		}
		free(nic->ipconfigs);
	}
	free(m->nics);
	for (i = 0; m->lbs != NULL && i < m->n_lbs; i++) {
		struct sl_lb *lb = &m->lbs[i];

		for (j = 0; lb->pools != NULL && j < lb->n_pools; j++)
			free(lb->pools[j].addresses);
		free(lb->frontends);
		free(lb->pools);
		free(lb->rules);
		free(lb->probes);
		free(lb->nat_rules);
	}
	free(m->lbs);
	free(m);
}

/* --- dynamic addresses --------------------------------------------------- */

/* Member key of o, NULL unless o is an object that holds it (JSON null counts as absent). */
static cJSON *
sl_j_get(const cJSON *o, const char *key)
{
	cJSON *v;

	if (!cJSON_IsObject(o))
		return NULL;
	v = cJSON_GetObjectItem(o, key);
	return cJSON_IsNull(v) ? NULL : v;
}

static const char *
sl_j_string(const cJSON *o, const char *key)
{
	const cJSON *v = sl_j_get(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *
sl_j_array(const cJSON *o, const char *key)
{
	cJSON *v = sl_j_get(o, key);

	return cJSON_IsArray(v) ? v : NULL;
}

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

	cJSON_ArrayForEach(lb, sl_j_array(root, "loadBalancers")) {
		const cJSON *props = sl_j_get(lb, "properties");

		cJSON_ArrayForEach(fe, sl_j_array(props, "frontendIPConfigurations")) {
			rc = sl_ip_set_add_text(used, sl_j_string(sl_j_get(fe, "properties"),
								  "privateIPAddress"));
			if (rc < 0)
				return rc;
		}
		cJSON_ArrayForEach(pool, sl_j_array(props, "backendAddressPools")) {
			cJSON_ArrayForEach(addr, sl_j_array(sl_j_get(pool, "properties"),
							    "loadBalancerBackendAddresses")) {
				rc = sl_ip_set_add_text(used, sl_j_string(sl_j_get(addr, "properties"),
									  "ipAddress"));
				if (rc < 0)
					return rc;
			}
		}
	}
	cJSON_ArrayForEach(nic, sl_j_array(root, "networkInterfaces")) {
		cJSON_ArrayForEach(ic, sl_j_array(sl_j_get(nic, "properties"), "ipConfigurations")) {
			(*n_ipc)++;
			rc = sl_ip_set_add_text(used, sl_j_string(sl_j_get(ic, "properties"),
								  "privateIPAddress"));
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* The prefix of the subnet that id names in the document; false when it does not resolve. */
static bool
sl_j_subnet_prefix(const cJSON *root, const char *id, struct sl_prefix *p, struct sl_ref *ref)
{
	const cJSON *v, *sn;

	if (id == NULL || sl_ref_split(id, "virtualNetworks", "subnets", ref) < 0 ||
	    ref->parent[0] == '\0')
		return false;
	cJSON_ArrayForEach(v, sl_j_array(root, "virtualNetworks")) {
		const char *name = sl_j_string(v, "name");

		if (name == NULL || strcasecmp(name, ref->parent) != 0)
			continue;
		cJSON_ArrayForEach(sn, sl_j_array(sl_j_get(v, "properties"), "subnets")) {
			const char *sname = sl_j_string(sn, "name");
			const char *text = sl_j_string(sl_j_get(sn, "properties"), "addressPrefix");

			if (sname != NULL && strcasecmp(sname, ref->name) == 0)
				return text != NULL && sl_prefix_parse(text, p) == 0;
		}
		return false;
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

/* Every host bit of a (beyond p's length) is set: an IPv4 subnet's broadcast address. */
static bool
sl_prefix_last(const struct sl_prefix *p, const struct sl_ip_addr *a)
{
	uint32_t i;

	for (i = p->len; i < 128; i++) {
		if (!(a->bytes[i / 8] & (0x80u >> (i % 8))))
			return false;
	}
	return true;
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
		if (v4 && sl_prefix_last(p, &a))
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
	char target[SL_CFG_TARGET_MAX], nt[SL_CFG_TARGET_MAX], path[SL_CFG_PATH_MAX];
	char text[64], net[64];
	cJSON *props = sl_j_get(ic, "properties");
	const cJSON *method;
	const char *ver;
	struct sl_prefix p;
	struct sl_ip_addr a;
	struct sl_ref ref;

	if (!cJSON_IsObject(props) || sl_j_get(props, "privateIPAddress") != NULL)
		return 0;
	method = sl_j_get(props, "privateIPAllocationMethod");
	if (method != NULL &&
	    (!cJSON_IsString(method) || strcasecmp(method->valuestring, "Dynamic") != 0))
		return 0; /* Static needs an address; anything else is refused by validation */
	if (!sl_j_subnet_prefix(root, sl_j_string(sl_j_get(props, "subnet"), "id"), &p, &ref))
		return 0;
	ver = sl_j_string(props, "privateIPAddressVersion");
	if (ver != NULL && strcasecmp(ver, sl_prefix_is_v4(&p) ? "IPv4" : "IPv6") != 0)
		return 0;

	sl_target_join(nt, NULL, "networkInterfaces", sl_j_string(nic, "name"));
	sl_target_join(target, nt, "ipConfigurations", sl_j_string(ic, "name"));
	if (sl_pick_free(&p, used, &a) < 0) {
		snprintf(path, sizeof(path),
			 "$.networkInterfaces[%u].properties.ipConfigurations[%u].properties.subnet.id",
			 ni, ci);
		sl_ip_addr_format(&p.addr, net, sizeof(net));
		sl_error_set(err, "SubnetIsFull", target, path,
			     "Subnet '%s' of virtual network '%s' (%s/%u) has no free address left: Azure reserves its first four addresses%s, and the frontends, backend addresses and ipConfigurations of the configuration use the others.",
			     ref.name, ref.parent, net, sl_prefix_is_v4(&p) ? p.len - 96u : p.len,
			     sl_prefix_is_v4(&p) ? " and the last" : "");
		return -EINVAL;
	}
	sl_ip_addr_format(&a, text, sizeof(text));
	cJSON_DeleteItemFromObject(props, "privateIPAddress"); /* a null one */
	cJSON_DeleteItemFromObject(props, "privateIPAllocationMethod");
	if (cJSON_AddStringToObject(props, "privateIPAddress", text) == NULL ||
	    cJSON_AddStringToObject(props, "privateIPAllocationMethod", "Dynamic") == NULL)
		return sl_cfg_nomem(err, target, "");
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
		return sl_cfg_nomem(err, "networkInterfaces", "$.networkInterfaces");
	}
	if (used.n > 0)
		qsort(used.v, used.n, sizeof(*used.v), sl_cmp_ip);
	cJSON_ArrayForEach(nic, sl_j_array(root, "networkInterfaces")) {
		ci = 0;
		cJSON_ArrayForEach(ic, sl_j_array(sl_j_get(nic, "properties"), "ipConfigurations")) {
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
