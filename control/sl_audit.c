/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_audit.c: who made a configuration change, what it changed in the
 * backend pools, and the audit line (see sl_audit.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "sl_audit.h"
#include "sl_json.h"
#include "sl_log.h"

/* One backend address of a pool, pointing into the document it was read from. */
struct sl_audit_addr {
	const char *pool;
	const char *name;
	const char *ip;
	const char *admin;
	double weight;
	uint64_t hash; /* of pool and name, case folded */
	long match;    /* the index of the same address on the other side, or -1 */
};

struct sl_audit_addrs {
	struct sl_audit_addr *a;
	size_t n, cap;
};

/* What is appended to a bounded buffer; what does not fit is counted in more. */
struct sl_audit_out {
	char *buf;
	size_t len, off;
	unsigned int more;
};

#define SL_AUDIT_MORE_ROOM 24 /* kept for " (4294967295 more)" */

static const char *
str_of(const cJSON *o, const char *key, const char *dflt)
{
	const char *v = sl_json_member_string(o, key);
	return v != NULL ? v : dflt;
}

/* FNV-1a over the case-folded bytes of s, continuing from h. */
static uint64_t
hash_folded(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32 : c)) * 0x100000001b3ull;
	}
	return h;
}

static int
push(struct sl_audit_addrs *v, const char *pool, const cJSON *addr)
{
	struct sl_audit_addr x = {.pool = pool, .name = "", .ip = "-", .admin = "None",
				  .weight = 1, .match = -1};
	const cJSON *it;

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct sl_audit_addr *a = realloc(v->a, cap * sizeof(*a));
		if (a == NULL)
			return -1;
		v->a = a;
		v->cap = cap;
	}
	x.name = str_of(addr, "name", "");
	/* one pass over the properties (names in any case, as ARM takes them) */
	cJSON_ArrayForEach(it, sl_json_member(addr, "properties")) {
		if (it->string == NULL)
			continue;
		if (cJSON_IsString(it) && strcasecmp(it->string, "ipAddress") == 0)
			x.ip = it->valuestring;
		else if (cJSON_IsString(it) && strcasecmp(it->string, "adminState") == 0)
			x.admin = it->valuestring;
		else if (cJSON_IsNumber(it) && strcasecmp(it->string, "weight") == 0)
			x.weight = it->valuedouble;
	}
	x.hash = hash_folded(hash_folded(0xcbf29ce484222325ull, pool) ^ '/', x.name);
	v->a[v->n++] = x;
	return 0;
}

/* Every pool's addresses below node (a pool is an object whose properties list them). */
static int
collect(const cJSON *node, struct sl_audit_addrs *v)
{
	const cJSON *it;

	if (cJSON_IsObject(node)) {
		const cJSON *addrs = sl_json_member_array(sl_json_member(node, "properties"),
							  "loadBalancerBackendAddresses");
		cJSON_ArrayForEach(it, addrs)
			if (push(v, str_of(node, "name", ""), it) != 0)
				return -1;
	}
	cJSON_ArrayForEach(it, node) {
		if (!(cJSON_IsObject(it) || cJSON_IsArray(it)))
			continue;
		if (cJSON_IsArray(it) && it->string != NULL &&
		    strcmp(it->string, "loadBalancerBackendAddresses") == 0)
			continue;
		if (collect(it, v) != 0)
			return -1;
	}
	return 0;
}

static bool
same_key(const struct sl_audit_addr *a, const struct sl_audit_addr *b)
{
	return a->hash == b->hash && strcasecmp(a->name, b->name) == 0 &&
	       strcasecmp(a->pool, b->pool) == 0;
}

/*
 * Pair each address of a with the same pool and name in b (names are
 * case-insensitive): an open-addressing table of b's indexes by hash, so
 * the work grows with the addresses, not their square. -1 on ENOMEM.
 */
static int
match(struct sl_audit_addrs *b, struct sl_audit_addrs *a)
{
	size_t size = 16, mask;
	long *slot;

	while (size < 2 * b->n)
		size *= 2;
	mask = size - 1;
	slot = malloc(size * sizeof(*slot));
	if (slot == NULL)
		return -1;
	memset(slot, 0xff, size * sizeof(*slot)); /* -1: empty */
	for (size_t i = 0; i < b->n; i++) {
		size_t k = b->a[i].hash & mask;
		while (slot[k] >= 0 && !same_key(&b->a[slot[k]], &b->a[i]))
			k = (k + 1) & mask;
		if (slot[k] < 0) /* a name twice in a pool (refused anyway): the first counts */
			slot[k] = (long)i;
	}
	for (size_t j = 0; j < a->n; j++) {
		size_t k = a->a[j].hash & mask;
		while (slot[k] >= 0 && !same_key(&b->a[slot[k]], &a->a[j]))
			k = (k + 1) & mask;
		if (slot[k] >= 0 && b->a[slot[k]].match < 0) {
			a->a[j].match = slot[k];
			b->a[slot[k]].match = (long)j;
		}
	}
	free(slot);
	return 0;
}

/* Append one item whole, or count it in more (and every item after it). */
static void
out_item(struct sl_audit_out *o, const char *item)
{
	size_t n = strlen(item);

	if (o->more > 0 || o->off + n + SL_AUDIT_MORE_ROOM >= o->len) {
		o->more++;
		return;
	}
	memcpy(o->buf + o->off, item, n + 1);
	o->off += n;
}

static bool
addr_changed(const struct sl_audit_addr *b, const struct sl_audit_addr *a)
{
	return strcmp(b->ip, a->ip) != 0 || strcasecmp(b->admin, a->admin) != 0 ||
	       b->weight != a->weight;
}

/* "[sep]P/A IP[ (was IP)][ adminState X -> Y][ weight X -> Y]" */
static void
format_item(char *item, size_t len, const char *sep, const struct sl_audit_addr *was,
	    const struct sl_audit_addr *x)
{
	int n = snprintf(item, len, "%s%s/%s %s", sep, x->pool, x->name, x->ip);

	if (was == NULL || n < 0 || (size_t)n >= len)
		return;
	if (strcmp(was->ip, x->ip) != 0)
		n += snprintf(item + n, len - (size_t)n, " (was %s)", was->ip);
	if (n >= 0 && (size_t)n < len && strcasecmp(was->admin, x->admin) != 0)
		n += snprintf(item + n, len - (size_t)n, " adminState %s -> %s", was->admin,
			      x->admin);
	if (n >= 0 && (size_t)n < len && was->weight != x->weight)
		snprintf(item + n, len - (size_t)n, " weight %g -> %g", was->weight, x->weight);
}

/*
 * One kind, in document order: 0 added (after's unmatched), 1 removed
 * (before's unmatched), 2 changed (after's matched that differ).
 */
static void
out_kind(struct sl_audit_out *o, const struct sl_audit_addrs *b, const struct sl_audit_addrs *a,
	 int kind)
{
	static const char *const title[] = {"added ", "removed ", "changed "};
	const struct sl_audit_addrs *side = kind == 1 ? b : a;
	char item[512], sep[32];
	unsigned int k = 0;

	for (size_t i = 0; i < side->n; i++) {
		const struct sl_audit_addr *x = &side->a[i];
		bool matched = x->match >= 0;
		/* changed: x is after's, its match before's; added, removed: nothing to compare */
		const struct sl_audit_addr *was = kind == 2 && matched ? &b->a[x->match] : NULL;
		if (kind < 2 ? matched : was == NULL || !addr_changed(was, x))
			continue;
		snprintf(sep, sizeof(sep), "%s%s",
			 k == 0 ? (o->off == 0 && o->more == 0 ? "addresses " : "; ") : ", ",
			 k == 0 ? title[kind] : "");
		format_item(item, sizeof(item), sep, was, x);
		out_item(o, item);
		k++;
	}
}

size_t
sl_audit_addresses(const cJSON *before, const cJSON *after, char *buf, size_t len)
{
	struct sl_audit_addrs b = {0}, a = {0};
	struct sl_audit_out o = {.buf = buf, .len = len};

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (collect(before, &b) != 0 || collect(after, &a) != 0 || match(&b, &a) != 0) {
		snprintf(buf, len, "addresses: not compared (out of memory)");
		free(b.a);
		free(a.a);
		return strlen(buf);
	}
	for (int kind = 0; kind < 3; kind++)
		out_kind(&o, &b, &a, kind);
	if (o.more > 0 && len > o.off)
		o.off += (size_t)snprintf(buf + o.off, len - o.off, " (%u more)", o.more);
	free(b.a);
	free(a.a);
	return o.off < len ? o.off : len - 1;
}

/* Control characters (a newline in a name a client sent) become '?'. */
static void
sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void
sl_audit_process(const char *prefix, pid_t pid, uid_t uid, char *buf, size_t len)
{
	sl_audit_process_named(prefix, pid, uid, NULL, buf, len);
}

void
sl_audit_process_named(const char *prefix, pid_t pid, uid_t uid, const char *known, char *buf,
		       size_t len)
{
	char path[64], comm[32] = "";
	FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if (known != NULL && known[0] != '\0') {
		snprintf(comm, sizeof(comm), "%s", known);
		comm[strcspn(comm, "\n")] = '\0';
		sanitize(comm);
	} else if (pid > 0) {
		f = fopen(path, "re");
	}
	if (f != NULL) {
		if (fgets(comm, sizeof(comm), f) == NULL)
			comm[0] = '\0';
		fclose(f);
		comm[strcspn(comm, "\n")] = '\0';
		sanitize(comm);
	}
	snprintf(buf, len, "%s%suid %lu pid %ld%s%s%s", prefix, prefix[0] ? " " : "",
		 (unsigned long)uid, (long)pid, comm[0] ? " (" : "", comm, comm[0] ? ")" : "");
}

void
sl_audit_peer(int fd, char *buf, size_t len)
{
	struct ucred cred;
	socklen_t n = sizeof(cred);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &n) != 0 ||
	    n != sizeof(cred)) {
		snprintf(buf, len, "unknown peer");
		return;
	}
	sl_audit_process("", cred.pid, cred.uid, buf, len);
}

void
sl_audit_log(int level, const char *who, const char *what, const char *result)
{
	char line[SL_LOG_LINE_MAX];

	snprintf(line, sizeof(line), "%s: %s: %s", who, what, result);
	sanitize(line);
	sl_log(level, "audit", "%s\n", line);
}
