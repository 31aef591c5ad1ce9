/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_stats.c: allocation and reporting of the per-lcore counters
 * (see sl_stats.h for who writes and who reads).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "sl_frontend_stats.h"
#include "sl_stats.h"

struct sl_lcore_stats *
sl_stats_alloc(int socket)
{
	struct sl_lcore_stats *s = rte_zmalloc_socket("sl_lcore_stats", sizeof(*s),
						      RTE_CACHE_LINE_SIZE, socket);
	if (s == NULL)
		return NULL;
	s->rules = rte_zmalloc_socket("sl_rule_counters",
				      sizeof(*s->rules) * SL_MAX_RULE_COUNTERS,
				      RTE_CACHE_LINE_SIZE, socket);
	s->backends = rte_zmalloc_socket("sl_backend_counters",
					 sizeof(*s->backends) * SL_MAX_BACKEND_COUNTERS,
					 RTE_CACHE_LINE_SIZE, socket);
	s->rule_events = rte_zmalloc_socket("sl_rule_events",
					    sizeof(*s->rule_events) * SL_MAX_RULE_COUNTERS,
					    RTE_CACHE_LINE_SIZE, socket);
	if (s->rules == NULL || s->backends == NULL || s->rule_events == NULL) {
		sl_stats_free(s);
		rte_errno = ENOMEM;
		return NULL;
	}
	return s;
}

void
sl_stats_free(struct sl_lcore_stats *s)
{
	if (s == NULL)
		return;
	rte_free(s->rules);
	rte_free(s->backends);
	rte_free(s->rule_events);
	rte_free(s);
}

static const char *
sl_rule_kind(const struct sl_rule *r)
{
	return r->inbound_nat ? "inboundNatRule" : "loadBalancingRule";
}

const char *
sl_path_counter_name(enum sl_path_counter c)
{
	static const char *const names[SL_PATH_MAX] = {
		[SL_PATH_REPLY] = "reply",
		[SL_PATH_FRAGMENT] = "fragment",
		[SL_PATH_ICMP_ERROR] = "icmp_error_forwarded",
		[SL_PATH_PUNTED] = "punted",
		[SL_PATH_INJECTED] = "injected",
		[SL_PATH_ICMP_SENT] = "icmp_sent",
		[SL_PATH_REPLY_FULL] = "reply_table_full",
		[SL_PATH_REPLY_REMOTE] = "reply_remote",
		[SL_PATH_REPLY_STATELESS] = "reply_stateless",
		[SL_PATH_REPLY_AMBIGUOUS] = "reply_ambiguous",
		[SL_PATH_NEIGHBOUR_HELD] = "neighbour_held",
		[SL_PATH_SYN_NO_REPLY_ENTRY] = "syn_no_reply_entry",
	};
	return (unsigned int)c < SL_PATH_MAX ? names[c] : "unknown";
}

void
sl_stats_sum(struct sl_lcore_stats *const *lc, unsigned int n, struct sl_stats_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < n; i++) {
		t->rx += lc[i]->rx;
		t->tx += lc[i]->tx;
		t->busy_tsc += lc[i]->busy_tsc;
		t->flow_hits += lc[i]->flow_hits;
		t->flow_misses += lc[i]->flow_misses;
		t->flow_rehashed += lc[i]->flow_rehashed;
		t->flow_table_full += lc[i]->flow_table_full;
		t->flow_expired += lc[i]->flow_expired;
		t->flows_live += lc[i]->flows_live;
		t->flow_drained += lc[i]->flow_drained;
		t->tcp_resets += lc[i]->tcp_resets;
		t->health_diverted += lc[i]->health_diverted;
		t->sync_dropped += lc[i]->sync_dropped;
		t->sync_installed += lc[i]->sync_installed;
		t->sync_renewed += lc[i]->sync_renewed;
		for (int c = 0; c < SL_PATH_MAX; c++)
			t->paths[c] += lc[i]->paths[c];
		for (int r = 0; r < SL_DROP_MAX; r++)
			t->drops[r] += lc[i]->drops[r];
	}
	for (int r = 0; r < SL_DROP_MAX; r++)
		t->dropped += t->drops[r];
}

struct sl_obj_counter
sl_stats_obj_sum(struct sl_lcore_stats *const *lc, unsigned int n, int backend, uint32_t id)
{
	struct sl_obj_counter c = {0, 0};
	for (unsigned int i = 0; i < n; i++) {
		const struct sl_obj_counter *o = backend ? &lc[i]->backends[id] : &lc[i]->rules[id];
		c.packets += o->packets;
		c.bytes += o->bytes;
	}
	return c;
}

/* The lcores whose counters sl_rule_counts() sums. */
struct sl_lcores {
	struct sl_lcore_stats *const *lc;
	unsigned int n;
};

/* sl_rule_counts_fn over the lcores' rule counters and events. */
static void
sl_rule_counts(void *ctx, uint32_t id, struct sl_frontend_counts *out)
{
	const struct sl_lcores *l = ctx;
	struct sl_obj_counter c = sl_stats_obj_sum(l->lc, l->n, 0, id);

	memset(out, 0, sizeof(*out));
	out->packets = c.packets;
	out->bytes = c.bytes;
	for (unsigned int i = 0; i < l->n; i++) {
		const struct sl_rule_events *e = &l->lc[i]->rule_events[id];
		out->new_flows += e->new_flows;
		for (int k = 0; k < SL_FE_DROP_MAX; k++)
			out->drops[k] += e->drops[k];
	}
}

int
sl_stats_frontends_carry(struct sl_lcore_stats *const *lc, unsigned int n,
			 const struct sl_snapshot *prev, struct sl_snapshot *next,
			 struct sl_frontend_deleted *deleted)
{
	struct sl_lcores l = {.lc = lc, .n = n};

	return sl_frontend_counts_carry(prev, next, sl_rule_counts, &l, deleted);
}

void
sl_stats_frontends_settle(struct sl_lcore_stats *const *lc, unsigned int n,
			  struct sl_snapshot *next, struct sl_frontend_deleted *deleted)
{
	struct sl_lcores l = {.lc = lc, .n = n};

	sl_frontend_counts_settle(next, deleted, sl_rule_counts, &l);
}

/* Each frontend of snap's counters (malloc'd, snap->n_frontends), or NULL. */
static struct sl_frontend_counts *
frontend_counts(struct sl_lcore_stats *const *lc, unsigned int n, const struct sl_snapshot *snap)
{
	struct sl_lcores l = {.lc = lc, .n = n};
	struct sl_frontend_counts *c;

	if (snap == NULL || snap->n_frontends == 0)
		return NULL;
	c = calloc(snap->n_frontends, sizeof(*c));
	if (c != NULL)
		sl_frontend_counts_read(snap, sl_rule_counts, &l, c);
	return c;
}

static uint64_t
counts_dropped(const struct sl_frontend_counts *c)
{
	uint64_t d = 0;

	for (int k = 0; k < SL_FE_DROP_MAX; k++)
		d += c->drops[k];
	return d;
}

uint64_t
sl_stats_rule_packets(struct sl_lcore_stats *const *lc, unsigned int n,
		      const struct sl_snapshot *snap)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; snap != NULL && i < snap->n_rules; i++)
		sum += sl_stats_obj_sum(lc, n, 0, snap->rules[i].counter_id).packets;
	return sum;
}

static void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* The "frontends" list of the JSON counters (entries only when their counts could be read). */
static void
write_json_frontends(FILE *f, struct sl_lcore_stats *const *lc, unsigned int n,
		     const struct sl_snapshot *snap)
{
	struct sl_frontend_counts *c = frontend_counts(lc, n, snap);
	char addr[64];

	fprintf(f, "  \"frontends\": [");
	for (uint32_t i = 0; c != NULL && i < snap->n_frontends; i++) {
		const struct sl_frontend_info *fe = &snap->frontends[i];
		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_string(f, fe->name);
		fprintf(f, ", \"address\": \"%s\", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64
			", \"newFlows\": %" PRIu64 ", \"dropped\": %" PRIu64 ", \"drops\": {",
			sl_ip_addr_format(&fe->addr, addr, sizeof(addr)), c[i].packets, c[i].bytes,
			c[i].new_flows, counts_dropped(&c[i]));
		for (int k = 0; k < SL_FE_DROP_MAX; k++)
			fprintf(f, "%s\"%s\": %" PRIu64, k ? ", " : "", sl_fe_drop_name(k),
				c[i].drops[k]);
		fputs("}}", f);
	}
	fprintf(f, "\n  ],\n");
	free(c);
}

void
sl_stats_write_json(FILE *f, struct sl_lcore_stats *const *lc, unsigned int n,
		    const unsigned int *lcore_ids, const struct sl_snapshot *snap, double elapsed_s,
		    uint64_t publish_tsc, const struct sl_stats_extra *extra)
{
	const struct sl_sync_counters *sync = extra != NULL ? extra->sync : NULL;
	struct sl_stats_totals t;
	char addr[64];

	sl_stats_sum(lc, n, &t);
	fprintf(f, "{\n  \"elapsedSeconds\": %.3f,\n", elapsed_s);
	fprintf(f, "  \"generation\": %" PRIu64 ",\n", snap ? snap->generation : 0);
	fprintf(f, "  \"rx\": %" PRIu64 ",\n  \"tx\": %" PRIu64 ",\n  \"dropped\": %" PRIu64 ",\n",
		t.rx, t.tx, t.dropped);
	fprintf(f, "  \"drops\": {");
	for (int r = 1; r < SL_DROP_MAX; r++)
		fprintf(f, "%s\"%s\": %" PRIu64, r > 1 ? ", " : "", sl_drop_reason_name(r),
			t.drops[r]);
	fprintf(f, "},\n  \"flows\": {\"live\": %" PRIu64 ", \"hits\": %" PRIu64
		", \"misses\": %" PRIu64 ", \"rehashed\": %" PRIu64 ", \"tableFull\": %" PRIu64
		", \"expired\": %" PRIu64 ", \"drained\": %" PRIu64 ", \"tcpResetsSent\": %" PRIu64
		"},\n", t.flows_live, t.flow_hits, t.flow_misses, t.flow_rehashed, t.flow_table_full,
		t.flow_expired, t.flow_drained, t.tcp_resets);
	fprintf(f, "  \"healthDiverted\": %" PRIu64 ",\n", t.health_diverted);
	if (sync != NULL)
		fprintf(f, "  \"sync\": {\"sent\": %" PRIu64 ", \"datagramsSent\": %" PRIu64
			", \"sendErrors\": %" PRIu64 ", \"received\": %" PRIu64 ", \"bad\": %" PRIu64
			", \"unknown\": %" PRIu64 ", \"dropped\": %" PRIu64 ", \"installed\": %" PRIu64
			", \"renewed\": %" PRIu64 "},\n",
			sync->sent, sync->datagrams_sent, sync->send_errors, sync->received, sync->bad,
			sync->unknown, sync->dropped + t.sync_dropped, t.sync_installed, t.sync_renewed);
	if (extra != NULL && extra->n_xdp > 0) {
		fprintf(f, "  \"xdp\": [");
		for (unsigned int i = 0; i < extra->n_xdp; i++) {
			const struct sl_xdp_port_stats *x = &extra->xdp[i];
			fprintf(f, "%s{\"port\": ", i ? ", " : "");
			json_string(f, x->port);
			fprintf(f, ", \"interface\": ");
			json_string(f, x->ifname);
			fprintf(f, ", \"programId\": %u, \"mode\": \"%s\", \"redirected\": %" PRIu64
				", \"passed\": %" PRIu64 ", \"dropped\": %" PRIu64
				", \"redirectedBy\": {\"toSluice\": %" PRIu64 ", \"reply\": %" PRIu64
				", \"neighbour\": %" PRIu64 ", \"icmpError\": %" PRIu64 "}}",
				x->prog_id, x->mode, x->c[SL_XDP_CTR_REDIRECTED], x->c[SL_XDP_CTR_PASSED],
				x->c[SL_XDP_CTR_DROPPED], x->c[SL_XDP_CTR_TO_FRONTEND],
				x->c[SL_XDP_CTR_REPLY], x->c[SL_XDP_CTR_NEIGHBOUR],
				x->c[SL_XDP_CTR_ICMP_ERROR]);
		}
		fprintf(f, "],\n");
	}
	fprintf(f, "  \"paths\": {");
	for (int c = 0; c < SL_PATH_MAX; c++)
		fprintf(f, "%s\"%s\": %" PRIu64, c ? ", " : "", sl_path_counter_name(c), t.paths[c]);
	fprintf(f, "},\n");
	fprintf(f, "  \"lcores\": [");
	for (unsigned int i = 0; i < n; i++) {
		uint64_t d = 0, fwd = 0;
		for (int r = 0; r < SL_DROP_MAX; r++)
			d += lc[i]->drops[r];
		/* what it forwarded by the running rules (sluicectl top's bit rates) */
		for (uint32_t r = 0; snap != NULL && r < snap->n_rules; r++)
			fwd += lc[i]->rules[snap->rules[r].counter_id].bytes;
		fprintf(f, "%s\n    {\"lcore\": %u, \"rx\": %" PRIu64 ", \"tx\": %" PRIu64
			", \"dropped\": %" PRIu64 ", \"forwardedBytes\": %" PRIu64
			", \"flowsLive\": %" PRIu64 ", \"healthDiverted\": %" PRIu64
			", \"generation\": %" PRIu64,
			i ? "," : "", lcore_ids[i], lc[i]->rx, lc[i]->tx, d, fwd, lc[i]->flows_live,
			lc[i]->health_diverted, lc[i]->generation);
		if (snap != NULL && lc[i]->generation == snap->generation &&
		    lc[i]->generation_tsc >= publish_tsc)
			fprintf(f, ", \"firstPacketMicroseconds\": %.3f",
				(double)(lc[i]->generation_tsc - publish_tsc) * 1e6 /
					(double)rte_get_tsc_hz());
		fputc('}', f);
	}
	fprintf(f, "\n  ],\n  \"rules\": [");
	for (uint32_t i = 0; snap != NULL && i < snap->n_rules; i++) {
		struct sl_obj_counter c = sl_stats_obj_sum(lc, n, 0, snap->rules[i].counter_id);
		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_string(f, snap->rules[i].name);
		fprintf(f, ", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", c.packets, c.bytes);
	}
	fprintf(f, "\n  ],\n");
	write_json_frontends(f, lc, n, snap);
	fprintf(f, "  \"backends\": [");
	for (uint32_t i = 0; snap != NULL && i < snap->n_backends; i++) {
		struct sl_obj_counter c = sl_stats_obj_sum(lc, n, 1, snap->backends[i].counter_id);
		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_string(f, snap->backends[i].name);
		fprintf(f, ", \"address\": \"%s\", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
			sl_ip_addr_format(&snap->backends[i].addr, addr, sizeof(addr)), c.packets,
			c.bytes);
	}
	fprintf(f, "\n  ]\n}\n");
}

/* A label value: backslash, double quote and newline escaped. */
static void
prom_label(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void
prom_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample of a frontend's: name{frontend="...",address="..."[,reason="..."]} v */
static void
prom_frontend(FILE *f, const char *name, const struct sl_frontend_info *fe, const char *reason,
	      uint64_t v)
{
	char addr[64];

	fprintf(f, "%s{frontend=\"", name);
	prom_label(f, fe->name);
	fprintf(f, "\",address=\"%s\"", sl_ip_addr_format(&fe->addr, addr, sizeof(addr)));
	if (reason != NULL)
		fprintf(f, ",reason=\"%s\"", reason);
	fprintf(f, "} %" PRIu64 "\n", v);
}

/* The per-frontend families (nothing when snap has no frontend). */
static void
write_prom_frontends(FILE *f, struct sl_lcore_stats *const *lc, unsigned int n,
		     const struct sl_snapshot *snap)
{
	struct sl_frontend_counts *c = frontend_counts(lc, n, snap);
	uint32_t nf = c != NULL ? snap->n_frontends : 0;

	if (nf == 0)
		return;
	prom_head(f, "sluice_frontend_packets_total", "counter",
		  "Packets the frontend's rules forwarded (to backends, and DNAT replies).");
	for (uint32_t i = 0; i < nf; i++)
		prom_frontend(f, "sluice_frontend_packets_total", &snap->frontends[i], NULL,
			      c[i].packets);
	prom_head(f, "sluice_frontend_bytes_total", "counter",
		  "IP bytes the frontend's rules forwarded.");
	for (uint32_t i = 0; i < nf; i++)
		prom_frontend(f, "sluice_frontend_bytes_total", &snap->frontends[i], NULL,
			      c[i].bytes);
	prom_head(f, "sluice_frontend_new_flows_total", "counter",
		  "Flow entries the frontend's packets started (with flow tracking).");
	for (uint32_t i = 0; i < nf; i++)
		prom_frontend(f, "sluice_frontend_new_flows_total", &snap->frontends[i], NULL,
			      c[i].new_flows);
	prom_head(f, "sluice_frontend_dropped_packets_total", "counter",
		  "Packets to the frontend dropped once their rule was found, by reason.");
	for (uint32_t i = 0; i < nf; i++)
		for (int k = 0; k < SL_FE_DROP_MAX; k++)
			prom_frontend(f, "sluice_frontend_dropped_packets_total",
				      &snap->frontends[i], sl_fe_drop_name(k), c[i].drops[k]);
	free(c);
}

/* One XDP counter of every AF_XDP port, as series of one metric. */
struct xdp_series {
	int ctr;          /* SL_XDP_CTR_* */
	const char *name; /* the label's value */
};

static void
prom_xdp(FILE *f, const struct sl_stats_extra *extra, const char *metric, const char *label,
	 const char *help, const struct xdp_series *series, size_t n)
{
	prom_head(f, metric, "counter", help);
	for (unsigned int i = 0; i < extra->n_xdp; i++)
		for (size_t k = 0; k < n; k++) {
			fprintf(f, "%s{port=\"", metric);
			prom_label(f, extra->xdp[i].port);
			fprintf(f, "\",%s=\"%s\"} %" PRIu64 "\n", label, series[k].name,
				extra->xdp[i].c[series[k].ctr]);
		}
}

void
sl_stats_write_prometheus(FILE *f, struct sl_lcore_stats *const *lc, unsigned int n,
			  const unsigned int *lcore_ids, const struct sl_snapshot *snap,
			  const struct sl_stats_extra *extra)
{
	const struct sl_sync_counters *sync = extra != NULL ? extra->sync : NULL;
	struct sl_stats_totals t;
	char addr[64];

	sl_stats_sum(lc, n, &t);
	prom_head(f, "sluice_rx_packets_total", "counter", "Packets received, per worker lcore.");
	for (unsigned int i = 0; i < n; i++)
		fprintf(f, "sluice_rx_packets_total{lcore=\"%u\"} %" PRIu64 "\n", lcore_ids[i],
			lc[i]->rx);
	prom_head(f, "sluice_tx_packets_total", "counter", "Packets transmitted, per worker lcore.");
	for (unsigned int i = 0; i < n; i++)
		fprintf(f, "sluice_tx_packets_total{lcore=\"%u\"} %" PRIu64 "\n", lcore_ids[i],
			lc[i]->tx);
	prom_head(f, "sluice_dropped_packets_total", "counter", "Packets dropped, by reason.");
	for (int r = 1; r < SL_DROP_MAX; r++)
		fprintf(f, "sluice_dropped_packets_total{reason=\"%s\"} %" PRIu64 "\n",
			sl_drop_reason_name(r), t.drops[r]);
	prom_head(f, "sluice_flows", "gauge", "Flow table entries in use.");
	fprintf(f, "sluice_flows %" PRIu64 "\n", t.flows_live);
	prom_head(f, "sluice_flow_events_total", "counter",
		  "Flow table events: hit, miss, rehash, table_full, expired, drained, tcp_reset_sent.");
	const struct {
		const char *what;
		uint64_t v;
	} ev[] = {{"hit", t.flow_hits}, {"miss", t.flow_misses}, {"rehash", t.flow_rehashed},
		  {"table_full", t.flow_table_full}, {"expired", t.flow_expired},
		  {"drained", t.flow_drained}, {"tcp_reset_sent", t.tcp_resets}};
	for (size_t k = 0; k < sizeof(ev) / sizeof(ev[0]); k++)
		fprintf(f, "sluice_flow_events_total{event=\"%s\"} %" PRIu64 "\n", ev[k].what,
			ev[k].v);
	prom_head(f, "sluice_health_diverted_flows_total", "counter",
		  "New flows this host's probes sent to another backend than a host that "
		  "probes every backend up would, per worker lcore.");
	for (unsigned int i = 0; i < n; i++)
		fprintf(f, "sluice_health_diverted_flows_total{lcore=\"%u\"} %" PRIu64 "\n",
			lcore_ids[i], lc[i]->health_diverted);
	if (sync != NULL) {
		const struct {
			const char *what;
			uint64_t v;
		} se[] = {{"sent", sync->sent}, {"received", sync->received}, {"bad", sync->bad},
			  {"unknown", sync->unknown}, {"dropped", sync->dropped + t.sync_dropped},
			  {"installed", t.sync_installed}, {"renewed", t.sync_renewed}};
		prom_head(f, "sluice_sync_records_total", "counter",
			  "Flow sync records: sent, received, bad (datagrams), unknown, dropped, "
			  "installed, renewed.");
		for (size_t k = 0; k < sizeof(se) / sizeof(se[0]); k++)
			fprintf(f, "sluice_sync_records_total{event=\"%s\"} %" PRIu64 "\n", se[k].what,
				se[k].v);
	}
	if (extra != NULL && extra->n_xdp > 0) {
		static const struct xdp_series verdicts[] = {
			{SL_XDP_CTR_REDIRECTED, "redirected"}, {SL_XDP_CTR_PASSED, "passed"},
			{SL_XDP_CTR_DROPPED, "dropped"}};
		static const struct xdp_series kinds[] = {
			{SL_XDP_CTR_TO_FRONTEND, "to_sluice"}, {SL_XDP_CTR_REPLY, "reply"},
			{SL_XDP_CTR_NEIGHBOUR, "neighbour"}, {SL_XDP_CTR_ICMP_ERROR, "icmp_error"}};
		prom_xdp(f, extra, "sluice_xdp_packets_total", "verdict",
			 "Frames the XDP program of an AF_XDP port saw: redirected to sluice, "
			 "passed to the kernel, dropped (no sluice socket on the queue).",
			 verdicts, RTE_DIM(verdicts));
		prom_xdp(f, extra, "sluice_xdp_redirected_packets_total", "kind",
			 "Frames the XDP program redirected to sluice, by why: to its addresses, "
			 "DNAT replies, ARP/ND, ICMP errors.", kinds, RTE_DIM(kinds));
	}
	prom_head(f, "sluice_path_packets_total", "counter",
		  "Packets off the client-to-backend path: DNAT replies, fragments, ICMP, "
		  "control-thread traffic.");
	for (int c = 0; c < SL_PATH_MAX; c++)
		fprintf(f, "sluice_path_packets_total{path=\"%s\"} %" PRIu64 "\n",
			sl_path_counter_name(c), t.paths[c]);
	prom_head(f, "sluice_generation", "gauge", "Generation of the running configuration.");
	fprintf(f, "sluice_generation %" PRIu64 "\n", snap ? snap->generation : 0);
	if (snap == NULL)
		return;
	/*
	 * kind tells a load-balancing rule from an inbound NAT rule of the same
	 * name (ARM keeps them in separate collections), so no series repeats.
	 */
	prom_head(f, "sluice_rule_packets_total", "counter", "Packets forwarded, per rule.");
	for (uint32_t i = 0; i < snap->n_rules; i++) {
		fputs("sluice_rule_packets_total{rule=\"", f);
		prom_label(f, snap->rules[i].name);
		fprintf(f, "\",kind=\"%s\"} %" PRIu64 "\n", sl_rule_kind(&snap->rules[i]),
			sl_stats_obj_sum(lc, n, 0, snap->rules[i].counter_id).packets);
	}
	prom_head(f, "sluice_rule_bytes_total", "counter", "IP bytes forwarded, per rule.");
	for (uint32_t i = 0; i < snap->n_rules; i++) {
		fputs("sluice_rule_bytes_total{rule=\"", f);
		prom_label(f, snap->rules[i].name);
		fprintf(f, "\",kind=\"%s\"} %" PRIu64 "\n", sl_rule_kind(&snap->rules[i]),
			sl_stats_obj_sum(lc, n, 0, snap->rules[i].counter_id).bytes);
	}
	write_prom_frontends(f, lc, n, snap);
	prom_head(f, "sluice_backend_packets_total", "counter", "Packets forwarded, per backend.");
	for (uint32_t i = 0; i < snap->n_backends; i++) {
		const struct sl_backend *b = &snap->backends[i];
		fputs("sluice_backend_packets_total{backend=\"", f);
		prom_label(f, b->name);
		fprintf(f, "\",address=\"%s\"} %" PRIu64 "\n",
			sl_ip_addr_format(&b->addr, addr, sizeof(addr)),
			sl_stats_obj_sum(lc, n, 1, b->counter_id).packets);
	}
	prom_head(f, "sluice_backend_up", "gauge",
		  "1 when the backend takes new flows (admin state and health), else 0.");
	for (uint32_t i = 0; i < snap->n_backends; i++) {
		const struct sl_backend *b = &snap->backends[i];
		fputs("sluice_backend_up{backend=\"", f);
		prom_label(f, b->name);
		fprintf(f, "\"} %u\n", b->usable ? 1u : 0u);
	}
}

void
sl_stats_write_text(FILE *f, struct sl_lcore_stats *const *lc, unsigned int n,
		    const unsigned int *lcore_ids, const struct sl_snapshot *snap, double elapsed_s,
		    const struct sl_stats_extra *extra)
{
	const struct sl_sync_counters *sync = extra != NULL ? extra->sync : NULL;
	struct sl_stats_totals t;
	char addr[64];

	sl_stats_sum(lc, n, &t);
	fprintf(f, "=== sluiced statistics (%.1f s) ===\n", elapsed_s);
	fprintf(f, "packets in %" PRIu64 ", out %" PRIu64 ", dropped %" PRIu64 "\n", t.rx, t.tx,
		t.dropped);
	fprintf(f, "flows: %" PRIu64 " live, %" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64
		" re-hashed, %" PRIu64 " left stateless (table full), %" PRIu64 " expired, %" PRIu64
		" drained, %" PRIu64 " TCP resets sent\n",
		t.flows_live, t.flow_hits, t.flow_misses, t.flow_rehashed, t.flow_table_full,
		t.flow_expired, t.flow_drained, t.tcp_resets);
	if (t.health_diverted != 0)
		fprintf(f, "  %-30s %" PRIu64 "\n", "health_diverted", t.health_diverted);
	if (sync != NULL)
		fprintf(f, "flow sync: %" PRIu64 " records sent, %" PRIu64 " received, %" PRIu64
			" installed, %" PRIu64 " renewed, %" PRIu64 " unknown, %" PRIu64
			" dropped, %" PRIu64 " bad datagrams, %" PRIu64 " send errors\n",
			sync->sent, sync->received, t.sync_installed, t.sync_renewed, sync->unknown,
			sync->dropped + t.sync_dropped, sync->bad, sync->send_errors);
	for (unsigned int i = 0; extra != NULL && i < extra->n_xdp; i++) {
		const struct sl_xdp_port_stats *x = &extra->xdp[i];
		fprintf(f, "XDP on %s (port %s, program %u, %s): %" PRIu64 " redirected, %" PRIu64
			" passed to the kernel, %" PRIu64 " dropped\n", x->ifname, x->port, x->prog_id,
			x->mode, x->c[SL_XDP_CTR_REDIRECTED], x->c[SL_XDP_CTR_PASSED],
			x->c[SL_XDP_CTR_DROPPED]);
	}
	for (int c = 0; c < SL_PATH_MAX; c++)
		if (t.paths[c] != 0)
			fprintf(f, "  %-30s %" PRIu64 "\n", sl_path_counter_name(c), t.paths[c]);
	for (int r = 1; r < SL_DROP_MAX; r++)
		if (t.drops[r] != 0)
			fprintf(f, "  dropped %-22s %" PRIu64 "\n", sl_drop_reason_name(r),
				t.drops[r]);
	for (unsigned int i = 0; i < n; i++)
		fprintf(f, "lcore %u: in %" PRIu64 ", out %" PRIu64 "\n", lcore_ids[i], lc[i]->rx,
			lc[i]->tx);
	if (snap == NULL)
		return;
	for (uint32_t i = 0; i < snap->n_rules; i++) {
		struct sl_obj_counter c = sl_stats_obj_sum(lc, n, 0, snap->rules[i].counter_id);
		fprintf(f, "rule %-32s %10" PRIu64 " packets %12" PRIu64 " bytes\n",
			snap->rules[i].name, c.packets, c.bytes);
	}
	for (uint32_t p = 0; p < snap->n_pools; p++) {
		const struct sl_pool *pool = &snap->pools[p];
		uint64_t total = 0;
		for (uint32_t m = 0; m < pool->n_members; m++)
			total += sl_stats_obj_sum(lc, n, 1, snap->backends[pool->members[m]].counter_id).packets;
		fprintf(f, "pool %s (%u backends, Maglev M=%u):\n", pool->name, pool->n_members,
			pool->table_size);
		for (uint32_t m = 0; m < pool->n_members; m++) {
			const struct sl_backend *b = &snap->backends[pool->members[m]];
			struct sl_obj_counter c = sl_stats_obj_sum(lc, n, 1, b->counter_id);
			fprintf(f, "  %-40s %-16s %10" PRIu64 " packets (%5.1f%%)\n", b->name,
				sl_ip_addr_format(&b->addr, addr, sizeof(addr)), c.packets,
				total ? 100.0 * (double)c.packets / (double)total : 0.0);
		}
	}
}
