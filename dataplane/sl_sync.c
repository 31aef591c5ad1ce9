/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_sync.c: flow sync between sluice hosts, the control thread's side
 * (see sl_sync.h): drain the workers' rings into datagrams to the peers,
 * receive the peers' datagrams, resolve their records and hand them to
 * every worker.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "sl_logging.h"
#include "sl_sync.h"

RTE_LOG_REGISTER(sl_logtype_sync, user.sluice.sync, INFO);
#define SYNC_LOG(level, ...) SL_LOG(level, sl_logtype_sync, "sync", __VA_ARGS__)

/* Per control-loop turn, at most: records taken from each worker's ring, datagrams read. */
#define SL_SYNC_DRAIN_PER_WORKER 1024
#define SL_SYNC_RECV_PER_TURN 64
/* A refused datagram is logged at most this often (seconds); the counters count them all. */
#define SL_SYNC_LOG_INTERVAL 1.0

struct sl_sync {
	int fd;
	unsigned int n_peers;
	struct sockaddr_in6 peers[SL_SYNC_MAX_PEERS];
	struct sl_worker *workers;
	unsigned int n_workers;
	struct sl_sync_counters c;
	double last_log;
};

/* ADDR (IPv4 or IPv6) as an IPv6 socket address (IPv4-mapped for IPv4). */
static int
peer_addr(const char *text, uint16_t port, struct sockaddr_in6 *sa)
{
	struct sl_ip_addr a;

	if (sl_ip_addr_parse(text, &a, NULL) != 0)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	sa->sin6_port = htons(port);
	memcpy(sa->sin6_addr.s6_addr, a.bytes, 16);
	return 0;
}

static int
parse_peers(struct sl_sync *s, const char *list, uint16_t port, char *err, size_t errlen)
{
	char buf[1024];

	if (strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "--sync-peers: the list is longer than %zu characters",
			 sizeof(buf) - 1);
		return -EINVAL;
	}
	strcpy(buf, list);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (s->n_peers == SL_SYNC_MAX_PEERS) {
			snprintf(err, errlen, "--sync-peers: more than %d peers", SL_SYNC_MAX_PEERS);
			return -EINVAL;
		}
		if (peer_addr(tok, port, &s->peers[s->n_peers]) != 0) {
			snprintf(err, errlen, "--sync-peers: '%s' is not an IPv4 or IPv6 address", tok);
			return -EINVAL;
		}
		s->n_peers++;
	}
	if (s->n_peers == 0) {
		snprintf(err, errlen, "--sync-peers: expected ADDR[,ADDR...], got '%s'", list);
		return -EINVAL;
	}
	return 0;
}

static int
open_socket(uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in6 any;
	int off = 0;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(err, errlen, "flow sync: cannot open a UDP socket: %s", strerror(errno));
		return -1;
	}
	memset(&any, 0, sizeof(any));
	any.sin6_family = AF_INET6;
	any.sin6_port = htons(port);
	any.sin6_addr = in6addr_any;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) != 0 ||
	    bind(fd, (const struct sockaddr *)&any, sizeof(any)) != 0) {
		snprintf(err, errlen, "flow sync: cannot bind UDP port %u: %s", port,
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct sl_sync *
sl_sync_create(const char *peers, uint16_t port, struct sl_worker *workers, unsigned int n,
	       char *err, size_t errlen)
{
	struct sl_sync *s = calloc(1, sizeof(*s));
	char name[RTE_RING_NAMESIZE];

	if (s == NULL) {
		snprintf(err, errlen, "flow sync: out of memory");
		return NULL;
	}
	s->fd = -1;
	s->workers = workers;
	s->n_workers = n;
	s->last_log = -SL_SYNC_LOG_INTERVAL;
	if (parse_peers(s, peers, port, err, errlen) != 0)
		goto fail;
	s->fd = open_socket(port, err, errlen);
	if (s->fd < 0)
		goto fail;
	for (unsigned int w = 0; w < n; w++) {
		int socket = (int)rte_lcore_to_socket_id(workers[w].lcore_id);
		snprintf(name, sizeof(name), "sl_sync_out_%u", w);
		workers[w].sync_out = rte_ring_create_elem(name, sizeof(struct sl_sync_record),
							   SL_SYNC_RING_SIZE, socket,
							   RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "sl_sync_in_%u", w);
		workers[w].sync_in = rte_ring_create_elem(name, sizeof(struct sl_sync_install),
							  SL_SYNC_RING_SIZE, socket,
							  RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (workers[w].sync_out == NULL || workers[w].sync_in == NULL) {
			snprintf(err, errlen, "flow sync: cannot create the rings of lcore %u: %s",
				 workers[w].lcore_id, rte_strerror(rte_errno));
			goto fail;
		}
	}
	return s;
fail:
	sl_sync_free(s);
	return NULL;
}

void
sl_sync_free(struct sl_sync *s)
{
	if (s == NULL)
		return;
	for (unsigned int w = 0; w < s->n_workers; w++) {
		rte_ring_free(s->workers[w].sync_out);
		rte_ring_free(s->workers[w].sync_in);
		s->workers[w].sync_out = NULL;
		s->workers[w].sync_in = NULL;
	}
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

const struct sl_sync_counters *
sl_sync_counters(const struct sl_sync *s)
{
	return s != NULL ? &s->c : NULL;
}

static void
send_batch(struct sl_sync *s, const struct sl_sync_record *r, unsigned int n)
{
	uint8_t buf[SL_SYNC_MAX_DATAGRAM];
	int len = sl_sync_encode(r, n, buf, sizeof(buf));

	if (len < 0)
		return;
	s->c.sent += n;
	for (unsigned int p = 0; p < s->n_peers; p++) {
		if (sendto(s->fd, buf, (size_t)len, 0, (const struct sockaddr *)&s->peers[p],
			   sizeof(s->peers[p])) == len)
			s->c.datagrams_sent++;
		else
			s->c.send_errors++;
	}
}

/* Send what the workers wrote since the last turn, in full datagrams. */
static void
send_pending(struct sl_sync *s)
{
	struct sl_sync_record batch[SL_SYNC_MAX_RECORDS];
	unsigned int k = 0;

	for (unsigned int w = 0; w < s->n_workers; w++) {
		for (unsigned int taken = 0; taken < SL_SYNC_DRAIN_PER_WORKER;) {
			unsigned int got = rte_ring_sc_dequeue_burst_elem(
				s->workers[w].sync_out, &batch[k], sizeof(batch[0]),
				SL_SYNC_MAX_RECORDS - k, NULL);
			if (got == 0)
				break;
			taken += got;
			k += got;
			if (k == SL_SYNC_MAX_RECORDS) {
				send_batch(s, batch, k);
				k = 0;
			}
		}
	}
	if (k != 0)
		send_batch(s, batch, k);
}

static int
from_peer(const struct sl_sync *s, const struct sockaddr_in6 *src)
{
	for (unsigned int p = 0; p < s->n_peers; p++)
		if (memcmp(&s->peers[p].sin6_addr, &src->sin6_addr, sizeof(src->sin6_addr)) == 0)
			return 1;
	return 0;
}

/* Does the key have the shape rule's distribution gives keys (sl_flow_key_make)? */
static int
key_fits(const struct sl_flow_key *k, const struct sl_rule *rule)
{
	switch (rule->dist) {
	case SL_DIST_SOURCE_IP:
		return k->proto == 0 && k->sport_be == 0 && k->dport_be == 0;
	case SL_DIST_SOURCE_IP_PROTOCOL:
		return k->proto != 0 && k->sport_be == 0 && k->dport_be == 0;
	default:
		return k->proto != 0;
	}
}

/*
 * Record r in this host's terms: its rule (by frontend), the backend of the
 * rule's pool with r's address. -ENOENT when this host has no such rule or
 * backend, or the rule keys its flows otherwise.
 */
static int
resolve(const struct sl_snapshot *snap, const struct sl_sync_record *r, struct sl_sync_install *out)
{
	if (snap == NULL)
		return -ENOENT;
	uint32_t ri = sl_frontend_find(snap, &r->frontend, r->frontend_proto, r->frontend_port_be);
	if (ri == SL_RULE_NONE)
		return -ENOENT;
	const struct sl_rule *rule = &snap->rules[ri];
	if (rule->backend_port_be != r->backend_port_be || !key_fits(&r->key, rule))
		return -ENOENT;
	const struct sl_pool *pool = &snap->pools[rule->pool];
	for (uint32_t m = 0; m < pool->n_members; m++) {
		const struct sl_backend *be = &snap->backends[pool->members[m]];
		if (!sl_ip_addr_eq(&be->addr, &r->backend))
			continue;
		memset(out, 0, sizeof(*out));
		out->key = r->key;
		out->backend_id = be->counter_id;
		out->rule_id = rule->counter_id;
		out->lifetime_ms = r->lifetime_ms;
		out->state = r->state;
		out->dist = rule->dist;
		return 0;
	}
	return -ENOENT;
}

static void
log_refused(struct sl_sync *s, double now_s, const struct sockaddr_in6 *src, const char *why)
{
	char a[INET6_ADDRSTRLEN];

	if (now_s - s->last_log < SL_SYNC_LOG_INTERVAL)
		return;
	s->last_log = now_s;
	SYNC_LOG(WARNING, "datagram from [%s]:%u refused: %s (%lu refused so far)\n",
		 inet_ntop(AF_INET6, &src->sin6_addr, a, sizeof(a)) ? a : "?",
		 ntohs(src->sin6_port), why, (unsigned long)s->c.bad);
}

static void
receive(struct sl_sync *s, const struct sl_snapshot *snap, double now_s)
{
	uint8_t buf[SL_SYNC_MAX_DATAGRAM + 1]; /* one more: a longer datagram is seen as such */
	struct sl_sync_record r[SL_SYNC_MAX_RECORDS];
	struct sl_sync_install in;

	for (int d = 0; d < SL_SYNC_RECV_PER_TURN; d++) {
		struct sockaddr_in6 src;
		socklen_t slen = sizeof(src);
		unsigned int n;
		ssize_t len = recvfrom(s->fd, buf, sizeof(buf), MSG_TRUNC,
				       (struct sockaddr *)&src, &slen);
		if (len < 0)
			return; /* EAGAIN: nothing more */
		if (slen != sizeof(src) || !from_peer(s, &src)) {
			s->c.bad++;
			log_refused(s, now_s, &src, "not from a peer of --sync-peers");
			continue;
		}
		enum sl_sync_error e = (size_t)len > sizeof(buf) ? SL_SYNC_ERR_LENGTH
					: sl_sync_decode(buf, (size_t)len, r, &n);
		if (e != SL_SYNC_OK) {
			s->c.bad++;
			log_refused(s, now_s, &src, sl_sync_error_name(e));
			continue;
		}
		for (unsigned int i = 0; i < n; i++) {
			if (resolve(snap, &r[i], &in) != 0) {
				s->c.unknown++;
				continue;
			}
			s->c.received++;
			for (unsigned int w = 0; w < s->n_workers; w++)
				if (rte_ring_sp_enqueue_elem(s->workers[w].sync_in, &in,
							     sizeof(in)) != 0)
					s->c.dropped++;
		}
	}
}

void
sl_sync_run(struct sl_sync *s, const struct sl_snapshot *snap, double now_s)
{
	if (s == NULL)
		return;
	send_pending(s);
	receive(s, snap, now_s);
}
