/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_telemetry.c: sluice's telemetry commands: the request handed from
 * DPDK's telemetry thread to the control thread and back, the answers the
 * control thread builds (cJSON), and their conversion to DPDK's telemetry
 * data (see sl_telemetry.h for who runs what).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <rte_byteorder.h>
#include <rte_telemetry.h>

#include "sl_telemetry.h"

/* The answer's budget: DPDK's reply is at most 16 KiB, keys and framing included. */
#define SL_TEL_PAGE_BYTES 12000
#define SL_TEL_PAGE_MAX 200 /* entries a page; a dictionary holds at most 256 */
#define SL_TEL_PARAMS_MAX 32

enum sl_tel_cmd { SL_TEL_STATS, SL_TEL_LCORES, SL_TEL_RULES, SL_TEL_BACKENDS, SL_TEL_FLOWS,
		  SL_TEL_N };

static const struct {
	const char *cmd;
	const char *help;
} sl_tel_cmds[SL_TEL_N] = {
	[SL_TEL_STATS] = {"/sluice/stats",
			  "Counters of GET /sluice/stats: packets, drops by reason, flows, paths."},
	[SL_TEL_LCORES] = {"/sluice/lcores",
			   "Per worker lcore counters. Parameter: offset of the page."},
	[SL_TEL_RULES] = {"/sluice/rules",
			  "Rules with their packets and bytes. Parameter: offset of the page."},
	[SL_TEL_BACKENDS] = {"/sluice/backends", "Backends with health, admin state and "
			     "counters. Parameter: offset of the page."},
	[SL_TEL_FLOWS] = {"/sluice/flows", "Flow tables: live flows, capacity, events."},
};

/* The request in flight, shared by the telemetry threads and the control thread. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;  /* CLOCK_MONOTONIC; signalled on answer, close and turn */
	atomic_bool want;     /* a request waits for the control thread */
	bool open;            /* registered and not closed */
	bool busy;            /* a request is in flight (one at a time) */
	enum sl_tel_cmd cmd;
	char params[SL_TEL_PARAMS_MAX];
	uint64_t seq;      /* the request's number */
	uint64_t answered; /* the number of the request answer belongs to */
	cJSON *answer;
} tel = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- cJSON -> telemetry data (telemetry thread) ---- */

static int sl_tel_fill_dict(struct rte_tel_data *d, const cJSON *obj);

/* A dictionary key: letters, digits, '_' and '/'; anything else becomes '_'. */
static void
sl_tel_key(const char *in, char *out, size_t len)
{
	size_t i = 0;

	for (; in[i] != '\0' && i + 1 < len; i++) {
		char c = in[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '_' || c == '/';
		out[i] = ok ? c : '_';
	}
	if (i == 0)
		out[i++] = '_';
	out[i] = '\0';
}

static int
sl_tel_add_number(struct rte_tel_data *d, const char *key, double x)
{
	char s[64];

	if (x >= 0 && x < 18446744073709551616.0 && x == (double)(uint64_t)x)
		return rte_tel_data_add_dict_u64(d, key, (uint64_t)x);
	if (x < 0 && x >= INT_MIN && x == (double)(int)x)
		return rte_tel_data_add_dict_int(d, key, (int)x);
	snprintf(s, sizeof(s), "%.3f", x); /* no fractions in telemetry data: a string */
	return rte_tel_data_add_dict_string(d, key, s);
}

static int
sl_tel_add_container(struct rte_tel_data *d, const char *key, struct rte_tel_data *c)
{
	int rc;

	if (c == NULL)
		return -ENOMEM;
	rc = rte_tel_data_add_dict_container(d, key, c, 0);
	if (rc != 0)
		rte_tel_data_free(c);
	return rc;
}

/* An array of numbers or of strings (anything else is left out: NULL). */
static struct rte_tel_data *
sl_tel_scalars(const cJSON *arr)
{
	const cJSON *it;
	int strings = cJSON_IsString(arr->child);
	struct rte_tel_data *c;

	cJSON_ArrayForEach(it, arr)
		if (strings ? !cJSON_IsString(it) : (!cJSON_IsNumber(it) || it->valuedouble < 0))
			return NULL;
	c = rte_tel_data_alloc();
	if (c == NULL)
		return NULL;
	rte_tel_data_start_array(c, strings ? RTE_TEL_STRING_VAL : RTE_TEL_U64_VAL);
	cJSON_ArrayForEach(it, arr)
		if (strings)
			rte_tel_data_add_array_string(c, it->valuestring);
		else
			rte_tel_data_add_array_u64(c, (uint64_t)it->valuedouble);
	return c;
}

/* The key of an entry of a list of objects: its name, lcore or port, else its index. */
static void
sl_tel_entry_key(const cJSON *o, int i, char *out, size_t len)
{
	static const char *const fields[] = {"name", "lcore", "port"};
	char raw[128];

	snprintf(raw, sizeof(raw), "%d", i);
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, fields[f]);
		if (cJSON_IsString(v)) {
			snprintf(raw, sizeof(raw), "%s", v->valuestring);
			break;
		}
		if (cJSON_IsNumber(v)) {
			snprintf(raw, sizeof(raw), "%.0f", v->valuedouble);
			break;
		}
	}
	sl_tel_key(raw, out, len);
}

/* A list of objects as a dictionary of them; keys made unique with "_<index>". */
static struct rte_tel_data *
sl_tel_keyed(const cJSON *arr)
{
	int n = cJSON_GetArraySize(arr), i = 0;
	char (*keys)[RTE_TEL_MAX_STRING_LEN] = calloc(n > 0 ? (size_t)n : 1, sizeof(*keys));
	struct rte_tel_data *d = keys != NULL ? rte_tel_data_alloc() : NULL;
	const cJSON *it;

	if (d == NULL) {
		free(keys);
		return NULL;
	}
	rte_tel_data_start_dict(d);
	cJSON_ArrayForEach(it, arr) {
		sl_tel_entry_key(it, i, keys[i], sizeof(keys[i]));
		for (int j = 0; j < i; j++)
			if (strcmp(keys[j], keys[i]) == 0) {
				size_t l = strnlen(keys[i], sizeof(keys[i]) - 12);
				snprintf(keys[i] + l, sizeof(keys[i]) - l, "_%d", i);
				break;
			}
		struct rte_tel_data *c = rte_tel_data_alloc();
		if (c != NULL) {
			rte_tel_data_start_dict(c);
			sl_tel_fill_dict(c, it);
		}
		sl_tel_add_container(d, keys[i], c);
		i++;
	}
	free(keys);
	return d;
}

static int
sl_tel_add(struct rte_tel_data *d, const char *key, const cJSON *v)
{
	struct rte_tel_data *c;

	if (cJSON_IsNumber(v))
		return sl_tel_add_number(d, key, v->valuedouble);
	if (cJSON_IsBool(v))
		return rte_tel_data_add_dict_int(d, key, cJSON_IsTrue(v));
	if (cJSON_IsString(v))
		return rte_tel_data_add_dict_string(d, key, v->valuestring);
	if (cJSON_IsObject(v)) {
		c = rte_tel_data_alloc();
		if (c != NULL) {
			rte_tel_data_start_dict(c);
			sl_tel_fill_dict(c, v);
		}
		return sl_tel_add_container(d, key, c);
	}
	if (cJSON_IsArray(v)) /* an empty list: an empty dictionary, as a list of objects */
		return sl_tel_add_container(d, key, v->child == NULL || cJSON_IsObject(v->child)
							    ? sl_tel_keyed(v)
							    : sl_tel_scalars(v));
	return 0; /* null */
}

/* Add obj's members to the started dictionary d; the first error is returned. */
static int
sl_tel_fill_dict(struct rte_tel_data *d, const cJSON *obj)
{
	const cJSON *it;
	char key[RTE_TEL_MAX_STRING_LEN];
	int rc = 0;

	cJSON_ArrayForEach(it, obj) {
		sl_tel_key(it->string != NULL ? it->string : "", key, sizeof(key));
		int r = sl_tel_add(d, key, it);
		if (rc == 0)
			rc = r;
	}
	return rc;
}

/* ---- the request (telemetry thread) ---- */

static void
sl_tel_deadline(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Post the request, wait for its answer; NULL when closed or out of time. Lock held. */
static cJSON *
sl_tel_ask(enum sl_tel_cmd cmd, const char *params)
{
	struct timespec deadline;
	uint64_t seq;
	cJSON *a = NULL;

	sl_tel_deadline(&deadline, SL_TELEMETRY_WAIT_MS);
	while (tel.open && tel.busy)
		if (pthread_cond_timedwait(&tel.cond, &tel.lock, &deadline) == ETIMEDOUT)
			return NULL;
	if (!tel.open)
		return NULL;
	tel.busy = true;
	tel.cmd = cmd;
	snprintf(tel.params, sizeof(tel.params), "%s", params != NULL ? params : "");
	seq = ++tel.seq;
	atomic_store_explicit(&tel.want, true, memory_order_release);
	while (tel.open && tel.answered != seq)
		if (pthread_cond_timedwait(&tel.cond, &tel.lock, &deadline) == ETIMEDOUT)
			break;
	if (tel.answered == seq) {
		a = tel.answer;
		tel.answer = NULL;
	}
	tel.busy = false;
	pthread_cond_broadcast(&tel.cond); /* the next client's turn */
	return a;
}

static int
sl_tel_command(const char *cmd, const char *params, struct rte_tel_data *info)
{
	enum sl_tel_cmd c = SL_TEL_N;
	cJSON *a;

	for (int i = 0; i < SL_TEL_N; i++)
		if (strcmp(cmd, sl_tel_cmds[i].cmd) == 0)
			c = (enum sl_tel_cmd)i;
	if (c == SL_TEL_N)
		return -EINVAL;
	pthread_mutex_lock(&tel.lock);
	a = sl_tel_ask(c, params);
	pthread_mutex_unlock(&tel.lock);
	if (a == NULL)
		return -EAGAIN; /* DPDK answers {"<cmd>": null} */
	rte_tel_data_start_dict(info);
	sl_tel_fill_dict(info, a);
	cJSON_Delete(a);
	return 0;
}

/* ---- the answers (control thread) ---- */

/*
 * GET /sluice/stats's JSON without its per-rule, per-backend and
 * per-frontend lists (/sluice/rules and /sluice/backends page through the
 * first two; the frontends are REST's and Prometheus's).
 */
static cJSON *
sl_tel_stats_tree(const struct sl_telemetry_view *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cJSON *o;

	if (f == NULL)
		return NULL;
	sl_stats_write_json(f, v->stats, v->n_workers, v->lcore_ids, v->snap, v->elapsed_s,
			    v->publish_tsc, v->extra);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	o = cJSON_Parse(buf);
	free(buf);
	cJSON_DeleteItemFromObjectCaseSensitive(o, "rules");
	cJSON_DeleteItemFromObjectCaseSensitive(o, "backends");
	cJSON_DeleteItemFromObjectCaseSensitive(o, "frontends");
	return o;
}

static cJSON *
sl_tel_error(const char *fmt, const char *what)
{
	char msg[160];
	cJSON *o = cJSON_CreateObject();

	snprintf(msg, sizeof(msg), fmt, what);
	cJSON_AddStringToObject(o, "error", msg);
	return o;
}

typedef cJSON *(*sl_tel_entry_fn)(const struct sl_telemetry_view *v, const void *src,
				  uint32_t i);

/*
 * One page of a list: {"generation", "total", "offset", ["next",] name: {...}},
 * as many entries from offset as fit the reply, each under its position in
 * the whole list (or, with key_field, under that number field of its own).
 */
static cJSON *
sl_tel_page(const struct sl_telemetry_view *v, const char *params, const char *name,
	    uint32_t total, sl_tel_entry_fn entry, const void *src, const char *key_field)
{
	char *end, key[24];
	unsigned long offset = strtoul(params, &end, 10);
	size_t used = 0;
	uint32_t i, n = 0;

	if (*end != '\0' || params[0] == '-')
		return sl_tel_error("The parameter is the offset of the page (a number), not '%s'.",
				    params);
	cJSON *o = cJSON_CreateObject();
	cJSON *list = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "generation", v->snap != NULL ? (double)v->snap->generation : 0);
	cJSON_AddNumberToObject(o, "total", total);
	cJSON_AddNumberToObject(o, "offset", (double)offset);
	for (i = offset < total ? (uint32_t)offset : total; i < total && n < SL_TEL_PAGE_MAX; i++) {
		cJSON *e = entry(v, src, i);
		const cJSON *kf = key_field != NULL ? cJSON_GetObjectItem(e, key_field) : NULL;
		char *text = cJSON_PrintUnformatted(e);
		size_t len = text != NULL ? strlen(text) + sizeof(key) : 0;

		free(text);
		if (len == 0 || used + len > SL_TEL_PAGE_BYTES) {
			cJSON_Delete(e);
			break;
		}
		snprintf(key, sizeof(key), "%.0f", kf != NULL ? kf->valuedouble : (double)i);
		cJSON_AddItemToObject(list, key, e);
		used += len;
		n++;
	}
	if (i < total)
		cJSON_AddNumberToObject(o, "next", i);
	cJSON_AddItemToObject(o, name, list);
	return o;
}

static const char *
sl_tel_proto(uint8_t proto)
{
	return proto == SL_PROTO_TCP ? "Tcp" : proto == SL_PROTO_UDP ? "Udp" : "All";
}

static cJSON *
sl_tel_rule(const struct sl_telemetry_view *v, const void *src, uint32_t i)
{
	const struct sl_rule *r = &v->snap->rules[i];
	struct sl_obj_counter c = sl_stats_obj_sum(v->stats, v->n_workers, 0, r->counter_id);
	cJSON *o = cJSON_CreateObject();
	char addr[64];

	(void)src;
	cJSON_AddStringToObject(o, "name", r->name);
	cJSON_AddStringToObject(o, "kind", r->inbound_nat ? "inboundNatRule" : "loadBalancingRule");
	cJSON_AddStringToObject(o, "frontend", sl_ip_addr_format(&r->frontend, addr, sizeof(addr)));
	cJSON_AddStringToObject(o, "protocol", sl_tel_proto(r->proto));
	cJSON_AddNumberToObject(o, "frontendPort", rte_be_to_cpu_16(r->frontend_port_be));
	cJSON_AddNumberToObject(o, "backendPort", rte_be_to_cpu_16(r->backend_port_be));
	cJSON_AddStringToObject(o, "pool", v->snap->pools[r->pool].name);
	cJSON_AddBoolToObject(o, "floatingIp", r->floating_ip);
	cJSON_AddNumberToObject(o, "packets", (double)c.packets);
	cJSON_AddNumberToObject(o, "bytes", (double)c.bytes);
	return o;
}

static cJSON *
sl_tel_backend(const struct sl_telemetry_view *v, const void *src, uint32_t i)
{
	const struct sl_backend *b = &v->snap->backends[i];
	struct sl_obj_counter c = sl_stats_obj_sum(v->stats, v->n_workers, 1, b->counter_id);
	int down = v->probed_down != NULL && v->probed_down(v->ctx, b);
	cJSON *o = cJSON_CreateObject();
	char addr[64];

	(void)src;
	cJSON_AddStringToObject(o, "name", b->name);
	cJSON_AddStringToObject(o, "pool", v->snap->pools[b->pool].name);
	cJSON_AddStringToObject(o, "address", sl_ip_addr_format(&b->addr, addr, sizeof(addr)));
	cJSON_AddNumberToObject(o, "weight", b->weight);
	cJSON_AddStringToObject(o, "health", down ? "Down" : "Up");
	cJSON_AddBoolToObject(o, "adminDown", b->admin_down);
	cJSON_AddBoolToObject(o, "takesNewFlows", b->usable);
	cJSON_AddNumberToObject(o, "packets", (double)c.packets);
	cJSON_AddNumberToObject(o, "bytes", (double)c.bytes);
	return o;
}

static cJSON *
sl_tel_lcore(const struct sl_telemetry_view *v, const void *src, uint32_t i)
{
	(void)v;
	return cJSON_Duplicate(cJSON_GetArrayItem(src, (int)i), 1);
}

/*
 * /sluice/flows: GET /sluice/stats's "flows" (live, hits, misses, ...), the
 * capacity and each lcore's live flows.
 */
static cJSON *
sl_tel_flows(const struct sl_telemetry_view *v)
{
	cJSON *stats = sl_tel_stats_tree(v);
	cJSON *o = cJSON_DetachItemFromObjectCaseSensitive(stats, "flows");
	cJSON *lc;

	cJSON_Delete(stats);
	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "capacityPerLcore", v->flow_capacity);
	lc = cJSON_AddArrayToObject(o, "lcores");
	for (unsigned int i = 0; i < v->n_workers; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "lcore", v->lcore_ids[i]);
		cJSON_AddNumberToObject(e, "live", (double)v->stats[i]->flows_live);
		cJSON_AddItemToArray(lc, e);
	}
	return o;
}

static cJSON *
sl_tel_build(const struct sl_telemetry_view *v, enum sl_tel_cmd cmd, const char *params)
{
	cJSON *stats, *o;
	uint32_t n;

	switch (cmd) {
	case SL_TEL_RULES:
		n = v->snap != NULL ? v->snap->n_rules : 0;
		return sl_tel_page(v, params, "rules", n, sl_tel_rule, NULL, NULL);
	case SL_TEL_BACKENDS:
		n = v->snap != NULL ? v->snap->n_backends : 0;
		return sl_tel_page(v, params, "backends", n, sl_tel_backend, NULL, NULL);
	case SL_TEL_FLOWS:
		return sl_tel_flows(v);
	case SL_TEL_LCORES:
		stats = sl_tel_stats_tree(v);
		n = (uint32_t)cJSON_GetArraySize(cJSON_GetObjectItem(stats, "lcores"));
		o = sl_tel_page(v, params, "lcores", n, sl_tel_lcore,
				cJSON_GetObjectItem(stats, "lcores"), "lcore");
		cJSON_Delete(stats);
		return o;
	default:
		stats = sl_tel_stats_tree(v);
		cJSON_DeleteItemFromObject(stats, "lcores");
		return stats;
	}
}

/* ---- the control thread's side ---- */

bool
sl_telemetry_pending(void)
{
	return atomic_load_explicit(&tel.want, memory_order_relaxed);
}

void
sl_telemetry_answer(const struct sl_telemetry_view *v)
{
	enum sl_tel_cmd cmd;
	char params[SL_TEL_PARAMS_MAX];
	uint64_t seq;
	cJSON *a;

	pthread_mutex_lock(&tel.lock);
	atomic_store_explicit(&tel.want, false, memory_order_relaxed);
	if (!tel.open || !tel.busy || tel.answered == tel.seq) {
		pthread_mutex_unlock(&tel.lock);
		return;
	}
	cmd = tel.cmd;
	seq = tel.seq;
	memcpy(params, tel.params, sizeof(params));
	pthread_mutex_unlock(&tel.lock);

	a = sl_tel_build(v, cmd, params);

	pthread_mutex_lock(&tel.lock);
	if (tel.busy && tel.seq == seq) { /* NULL (out of memory): the client answers null */
		tel.answer = a;
		tel.answered = seq;
		a = NULL;
		pthread_cond_broadcast(&tel.cond);
	}
	pthread_mutex_unlock(&tel.lock);
	cJSON_Delete(a); /* its client gave up waiting */
}

int
sl_telemetry_register(struct sl_error *err)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&tel.cond, &attr);
	pthread_condattr_destroy(&attr);
	for (int i = 0; i < SL_TEL_N; i++) {
		int rc = rte_telemetry_register_cmd(sl_tel_cmds[i].cmd, sl_tel_command,
						    sl_tel_cmds[i].help);
		if (rc < 0)
			return sl_error_set(err, "TelemetryUnavailable", sl_tel_cmds[i].cmd, "",
					    "Cannot register the telemetry command %s: %s.",
					    sl_tel_cmds[i].cmd, strerror(-rc));
	}
	pthread_mutex_lock(&tel.lock);
	tel.open = true;
	pthread_mutex_unlock(&tel.lock);
	return 0;
}

void
sl_telemetry_close(void)
{
	pthread_mutex_lock(&tel.lock);
	tel.open = false;
	cJSON_Delete(tel.answer);
	tel.answer = NULL;
	pthread_cond_broadcast(&tel.cond);
	pthread_mutex_unlock(&tel.lock);
}
