/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_flow_policy.c: unit tests of the flow policy (sl_flow_policy.h):
 * which packets are one flow (the key per distribution mode), which backend
 * a flow keeps (sl_flow_choice: expiry, a backend removed, moved to another
 * pool, Down or probed down, drain periods), and when a flow expires
 * (sl_flow_track: the timeout per TCP state and for UDP, renewal slack, the
 * drain deadline, the client's sequence numbers for TCP resets).
 *
 * No DPDK: entries are plain structs and the snapshot holds only what the
 * policy reads (backend_by_id, backends).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sl_flow.h"
#include "sl_flow_policy.h"
#include "sl_hash.h"
#include "sl_parse.h"
#include "sl_snapshot.h"
#include "sl_types.h"

/* A TCP SYN 198.51.100.1:40000 -> 192.0.2.10:80 with a 20-byte header and no payload. */
static void
base_pkt(struct sl_pkt *p)
{
	memset(p, 0, sizeof(*p));
	sl_ip_addr_from_v4(&p->src, htonl(0xc6336401u)); /* 198.51.100.1 */
	sl_ip_addr_from_v4(&p->dst, htonl(0xc000020au)); /* 192.0.2.10 */
	p->sport_be = htons(40000);
	p->dport_be = htons(80);
	p->l3_off = 14;
	p->l4_off = 34;
	p->l3_len = 60;
	p->l4_len = 40;
	p->family = SL_AF_IPV4;
	p->l4_proto = SL_PROTO_TCP;
	p->tcp_flags = SL_TCP_SYN;
}

/* ---- which packets are one flow: the key per distribution mode ----------- */

static void
make_key(struct sl_flow_key *k, const struct sl_pkt *p, enum sl_dist d)
{
	memset(k, 0xff, sizeof(*k)); /* key_make must write every byte, pad included */
	sl_flow_key_make(k, p, d);
}

static void
test_key_make_modes(void **state)
{
	struct sl_pkt p0, p;
	struct sl_flow_key k0, k;
	(void)state;

	base_pkt(&p0);
	for (int d = 0; d < SL_DIST_MAX; d++) {
		make_key(&k0, &p0, (enum sl_dist)d);
		assert_memory_equal(&k0.src, &p0.src, 16);
		assert_memory_equal(&k0.dst, &p0.dst, 16);
		assert_int_equal(k0.pad[0] | k0.pad[1] | k0.pad[2], 0);
		if (d == SL_DIST_DEFAULT) {
			assert_int_equal(k0.sport_be, p0.sport_be);
			assert_int_equal(k0.dport_be, p0.dport_be);
			assert_int_equal(k0.proto, SL_PROTO_TCP);
		} else {
			assert_int_equal(k0.sport_be, 0);
			assert_int_equal(k0.dport_be, 0);
			assert_int_equal(k0.proto, d == SL_DIST_SOURCE_IP ? 0 : SL_PROTO_TCP);
		}
		uint32_t h0 = sl_flow_hash(&p0, (enum sl_dist)d, 0x5eed);

		/* variants: which fields the mode keeps must change the key */
		for (int f = 0; f < 8; f++) {
			int kept;

			p = p0;
			switch (f) {
			case 0: p.src.bytes[15] ^= 1; kept = 1; break;
			case 1: p.dst.bytes[15] ^= 1; kept = 1; break;
			case 2: p.sport_be = htons(40001); kept = d == SL_DIST_DEFAULT; break;
			case 3: p.dport_be = htons(443); kept = d == SL_DIST_DEFAULT; break;
			case 4: p.l4_proto = SL_PROTO_UDP; kept = d != SL_DIST_SOURCE_IP; break;
			case 5: p.tcp_flags = SL_TCP_ACK; kept = 0; break;
			case 6: p.has_vlan = 1; p.vlan_tci = 7; p.l3_off = 18; kept = 0; break;
			default: p.l3_len = 1500; p.l4_len = 1480; kept = 0; break;
			}
			make_key(&k, &p, (enum sl_dist)d);
			if (kept)
				assert_false(sl_flow_key_eq(&k, &k0));
			else
				assert_true(sl_flow_key_eq(&k, &k0));
			/* what the key ignores the hash ignores too: one flow, one bucket */
			if (!kept)
				assert_int_equal(sl_flow_hash(&p, (enum sl_dist)d, 0x5eed), h0);
		}
	}

	/*
	 * SourceIP: a client's TCP and UDP packets are one flow (same hash and
	 * key, so the table gives them one entry); the other modes: not.
	 */
	p = p0;
	p.l4_proto = SL_PROTO_UDP;
	p.sport_be = htons(5353);
	p.dport_be = htons(53);
	make_key(&k0, &p0, SL_DIST_SOURCE_IP);
	make_key(&k, &p, SL_DIST_SOURCE_IP);
	assert_true(sl_flow_key_eq(&k, &k0));
	assert_int_equal(sl_flow_hash(&p, SL_DIST_SOURCE_IP, 1),
			 sl_flow_hash(&p0, SL_DIST_SOURCE_IP, 1));
	make_key(&k0, &p0, SL_DIST_SOURCE_IP_PROTOCOL);
	make_key(&k, &p, SL_DIST_SOURCE_IP_PROTOCOL);
	assert_false(sl_flow_key_eq(&k, &k0));
	make_key(&k0, &p0, SL_DIST_DEFAULT);
	make_key(&k, &p, SL_DIST_DEFAULT);
	assert_false(sl_flow_key_eq(&k, &k0));
}

/* ---- when a flow expires: sl_flow_track ---------------------------------- */

#define IDLE_MS (4u * 60 * 1000) /* the rule's idleTimeoutInMinutes: 4 */

/* A TCP header in hdr: seq, ack, 20 bytes + options_words * 4 bytes. */
static void
tcp_header(uint8_t *hdr, uint32_t seq, uint32_t ack, unsigned int options_words)
{
	uint32_t seq_be = htonl(seq), ack_be = htonl(ack);

	memset(hdr, 0, 60);
	memcpy(hdr + 4, &seq_be, 4);
	memcpy(hdr + 8, &ack_be, 4);
	hdr[12] = (uint8_t)((5 + options_words) << 4);
}

static void
fresh_entry(struct sl_flow_entry *e, uint32_t now)
{
	memset(e, 0x5a, sizeof(*e)); /* the key and garbage after it */
	sl_flow_restart(e, now);
}

/* The packet p with TCP flags f tracked at now; returns the entry's expiry. */
static uint32_t
track(struct sl_flow_entry *e, struct sl_pkt *p, const struct sl_rule *rule, uint8_t f,
      uint32_t now)
{
	uint8_t hdr[60];

	tcp_header(hdr, 1000, 2000, 0);
	p->tcp_flags = f;
	sl_flow_track(e, p, rule, hdr, now);
	return e->expires_ms;
}

static void
test_restart(void **state)
{
	struct sl_flow_entry e;
	struct sl_flow_key key;
	(void)state;

	memset(&e, 0x5a, sizeof(e));
	memcpy(&key, &e.key, sizeof(key));
	sl_flow_restart(&e, 1000);
	assert_memory_equal(&e.key, &key, sizeof(key));
	assert_int_equal(e.backend_id, 0);
	assert_int_equal(e.rule_id, 0);
	assert_int_equal(e.client_seq_next, 0);
	assert_int_equal(e.client_ack, 0);
	assert_int_equal(e.state, SL_FLOW_NEW);
	assert_int_equal(e.flags, 0);
	assert_int_equal(e.port, 0);
	assert_int_equal(e.expires_ms, 1000 + SL_FLOW_SYN_TIMEOUT_MS);
	assert_int_equal(sl_flow_provisional_expiry(1000), 1000 + SL_FLOW_SYN_TIMEOUT_MS);
}

/* A packet of a TCP connection and the state and timeout it leaves the entry in. */
struct tcp_step {
	uint8_t flags;
	enum sl_flow_state state;
	uint32_t timeout;          /* 0: the rule's idle timeout */
};

/* Connections, each from a fresh entry, one packet a second. */
static const struct tcp_step tcp_lives[][8] = {
	{
		/* only SYNs seen: a SYN flood's entries expire fast */
		{SL_TCP_SYN, SL_FLOW_NEW, SL_FLOW_SYN_TIMEOUT_MS},
		{SL_TCP_SYN, SL_FLOW_NEW, SL_FLOW_SYN_TIMEOUT_MS},
		/* any packet without SYN: established, the rule's idle timeout */
		{SL_TCP_ACK, SL_FLOW_ESTABLISHED, 0},
		/* a SYN again (a retransmission) does not take it back to NEW */
		{SL_TCP_SYN | SL_TCP_ACK, SL_FLOW_ESTABLISHED, 0},
		/* a FIN: closing, and it stays closing for the packets after it */
		{SL_TCP_FIN | SL_TCP_ACK, SL_FLOW_CLOSING, SL_FLOW_FIN_TIMEOUT_MS},
		{SL_TCP_ACK, SL_FLOW_CLOSING, SL_FLOW_FIN_TIMEOUT_MS},
		/* a RST: reset, the shortest timeout (the expiry moves back) */
		{SL_TCP_RST, SL_FLOW_RESET, SL_FLOW_RST_TIMEOUT_MS},
	},
	{
		/* a RST on an established flow */
		{SL_TCP_ACK, SL_FLOW_ESTABLISHED, 0},
		{SL_TCP_RST | SL_TCP_ACK, SL_FLOW_RESET, SL_FLOW_RST_TIMEOUT_MS},
	},
	{
		/* a FIN after a SYN only */
		{SL_TCP_SYN, SL_FLOW_NEW, SL_FLOW_SYN_TIMEOUT_MS},
		{SL_TCP_FIN, SL_FLOW_CLOSING, SL_FLOW_FIN_TIMEOUT_MS},
	},
};

/* Each TCP state its timeout, the state advancing with the packets' flags. */
static void
test_tcp_timeouts(void **state)
{
	struct sl_rule rule = {.tcp_idle_ms = IDLE_MS};
	struct sl_flow_entry e;
	struct sl_pkt p;
	uint32_t now = 5000;
	(void)state;

	base_pkt(&p);
	for (size_t c = 0; c < sizeof(tcp_lives) / sizeof(tcp_lives[0]); c++) {
		fresh_entry(&e, now);
		for (const struct tcp_step *st = tcp_lives[c]; st->flags != 0; st++) {
			now += 1000;
			uint32_t timeout = st->timeout != 0 ? st->timeout : IDLE_MS;
			assert_int_equal(track(&e, &p, &rule, st->flags, now), now + timeout);
			assert_int_equal(e.state, st->state);
		}
	}
}

static void
test_udp_timeout(void **state)
{
	struct sl_rule rule = {.tcp_idle_ms = IDLE_MS};
	struct sl_flow_entry e;
	struct sl_pkt p;
	uint32_t now = 0xfffff000u; /* the expiry wraps the 32-bit clock */
	(void)state;

	base_pkt(&p);
	p.l4_proto = SL_PROTO_UDP;
	p.tcp_flags = 0;
	fresh_entry(&e, now);
	sl_flow_track(&e, &p, &rule, NULL, now);
	assert_int_equal(e.expires_ms, now + SL_FLOW_UDP_TIMEOUT_MS);
	assert_int_equal(e.state, SL_FLOW_NEW);
	assert_false(sl_flow_time_passed(now + SL_FLOW_UDP_TIMEOUT_MS - 1, e.expires_ms));
	assert_true(sl_flow_time_passed(now + SL_FLOW_UDP_TIMEOUT_MS, e.expires_ms));
}

/*
 * A busy flow's expiry is written only once it has moved by the slack
 * (shrinking always); a draining flow's packets do not push out its
 * deadline, while a RST still shortens it.
 */
static void
test_expiry_renewal(void **state)
{
	struct sl_rule rule = {.tcp_idle_ms = IDLE_MS};
	struct sl_flow_entry e;
	struct sl_pkt p;
	const uint32_t t0 = 100000;
	(void)state;

	base_pkt(&p);
	fresh_entry(&e, t0);
	track(&e, &p, &rule, SL_TCP_ACK, t0);
	assert_int_equal(e.expires_ms, t0 + IDLE_MS);
	track(&e, &p, &rule, SL_TCP_ACK, t0 + SL_FLOW_RENEW_SLACK_MS - 1);
	assert_int_equal(e.expires_ms, t0 + IDLE_MS);
	track(&e, &p, &rule, SL_TCP_ACK, t0 + SL_FLOW_RENEW_SLACK_MS);
	assert_int_equal(e.expires_ms, t0 + SL_FLOW_RENEW_SLACK_MS + IDLE_MS);
	/* a shorter timeout applies at once, however little it moves */
	rule.tcp_idle_ms = IDLE_MS + SL_FLOW_RENEW_SLACK_MS - 1;
	track(&e, &p, &rule, SL_TCP_ACK, t0);
	assert_int_equal(e.expires_ms, t0 + IDLE_MS + SL_FLOW_RENEW_SLACK_MS - 1);

	/* draining: the deadline stays */
	rule.tcp_idle_ms = IDLE_MS;
	e.flags |= SL_FLOW_F_DRAINING;
	e.expires_ms = t0 + 30000;
	assert_int_equal(track(&e, &p, &rule, SL_TCP_ACK, t0 + 1000), t0 + 30000);
	assert_int_equal(e.state, SL_FLOW_ESTABLISHED);
	assert_int_equal(track(&e, &p, &rule, SL_TCP_RST, t0 + 2000),
			 t0 + 2000 + SL_FLOW_RST_TIMEOUT_MS);
}

/* enableTcpReset keeps the client's next sequence number and last acknowledgement. */
static void
test_tcp_reset_sequence(void **state)
{
	struct sl_rule rule = {.tcp_idle_ms = IDLE_MS, .tcp_reset = 1};
	struct sl_flow_entry e;
	struct sl_pkt p;
	uint8_t hdr[60];
	(void)state;

	base_pkt(&p);
	fresh_entry(&e, 0);
	/* a SYN with 12 bytes of options: the SYN counts one */
	tcp_header(hdr, 0xfffffff0u, 0, 3);
	p.tcp_flags = SL_TCP_SYN;
	p.l4_len = 32;
	sl_flow_track(&e, &p, &rule, hdr, 0);
	assert_int_equal(e.client_seq_next, 0xfffffff1u);
	assert_int_equal(e.client_ack, 0); /* no ACK flag: not taken */
	/* 100 bytes of data behind a 20-byte header; the sequence number wraps */
	tcp_header(hdr, 0xfffffff1u, 77, 0);
	p.tcp_flags = SL_TCP_ACK;
	p.l4_len = 120;
	sl_flow_track(&e, &p, &rule, hdr, 1);
	assert_int_equal(e.client_seq_next, 0xfffffff1u + 100);
	assert_int_equal(e.client_ack, 77);
	/* a FIN counts one */
	tcp_header(hdr, 200, 78, 0);
	p.tcp_flags = SL_TCP_FIN | SL_TCP_ACK;
	p.l4_len = 20;
	sl_flow_track(&e, &p, &rule, hdr, 2);
	assert_int_equal(e.client_seq_next, 201);
	assert_int_equal(e.client_ack, 78);

	/* without enableTcpReset nothing of the header is kept */
	rule.tcp_reset = 0;
	fresh_entry(&e, 0);
	tcp_header(hdr, 5000, 6000, 0);
	p.tcp_flags = SL_TCP_ACK;
	sl_flow_track(&e, &p, &rule, hdr, 0);
	assert_int_equal(e.client_seq_next, 0);
	assert_int_equal(e.client_ack, 0);
}

/* ---- which backend a flow keeps: sl_flow_choice -------------------------- */

enum { POOL_A = 0, POOL_B = 1, N_IDS = 8 };

/* Three backends of pool A with stable ids 3, 4, 5 at indexes 0, 1, 2; id 6 removed. */
struct policy_snap {
	struct sl_snapshot snap;
	struct sl_backend backends[3];
	uint32_t by_id[N_IDS];
};

static void
policy_snap_init(struct policy_snap *s)
{
	memset(s, 0, sizeof(*s));
	for (uint32_t id = 0; id < N_IDS; id++)
		s->by_id[id] = SL_BACKEND_NONE;
	for (uint32_t i = 0; i < 3; i++) {
		s->backends[i].counter_id = 3 + i;
		s->backends[i].pool = POOL_A;
		s->backends[i].usable = 1;
		s->by_id[3 + i] = i;
	}
	s->snap.backends = s->backends;
	s->snap.n_backends = 3;
	s->snap.backend_by_id = s->by_id;
}

/* An entry of backend id, in state, expiring at expires. */
static void
entry_of(struct sl_flow_entry *e, uint32_t id, enum sl_flow_state st, uint32_t expires)
{
	memset(e, 0, sizeof(*e));
	e->backend_id = id;
	e->state = (uint8_t)st;
	e->expires_ms = expires;
}

/* One entry, one packet: the verdict, and the backend a kept flow goes to. */
struct choice_case {
	const char *what;
	uint32_t backend_id;
	enum sl_flow_state state;
	uint32_t expires;
	uint32_t now;
	uint32_t pool;             /* the rule's */
	uint8_t proto;
	uint8_t down;              /* backend id 5 (index 2): takes no new flows ... */
	uint8_t admin_down;        /* ... because of adminState Down (no drain period) */
	enum sl_flow_verdict verdict;
	uint32_t backend;          /* when kept */
};

static const struct choice_case choice_cases[] = {
	{"live, up, in the pool", 4, SL_FLOW_ESTABLISHED, 50001, 50000, POOL_A, SL_PROTO_TCP,
	 0, 0, SL_FLOW_KEEP, 1},
	{"at its expiry", 4, SL_FLOW_ESTABLISHED, 50001, 50001, POOL_A, SL_PROTO_TCP,
	 0, 0, SL_FLOW_EXPIRED, 0},
	{"expiry across the clock's wrap", 4, SL_FLOW_ESTABLISHED, 5, 0xfffffff0u, POOL_A,
	 SL_PROTO_TCP, 0, 0, SL_FLOW_KEEP, 1},
	{"backend removed", 6, SL_FLOW_ESTABLISHED, 51000, 50000, POOL_A, SL_PROTO_TCP,
	 0, 0, SL_FLOW_MOVED, 0},
	{"rule on another pool", 3, SL_FLOW_ESTABLISHED, 51000, 50000, POOL_B, SL_PROTO_TCP,
	 0, 0, SL_FLOW_MOVED, 0},
	{"down: established TCP stays", 5, SL_FLOW_ESTABLISHED, 51000, 50000, POOL_A,
	 SL_PROTO_TCP, 1, 0, SL_FLOW_KEEP, 2},
	{"down: closing TCP stays", 5, SL_FLOW_CLOSING, 51000, 50000, POOL_A, SL_PROTO_TCP,
	 1, 0, SL_FLOW_KEEP, 2},
	{"down: TCP at its SYN moves", 5, SL_FLOW_NEW, 51000, 50000, POOL_A, SL_PROTO_TCP,
	 1, 0, SL_FLOW_MOVED, 0},
	{"down: UDP moves", 5, SL_FLOW_NEW, 51000, 50000, POOL_A, SL_PROTO_UDP,
	 1, 0, SL_FLOW_MOVED, 0},
	{"adminState Down, no drain period", 5, SL_FLOW_ESTABLISHED, 51000, 50000, POOL_A,
	 SL_PROTO_TCP, 1, 1, SL_FLOW_KEEP, 2},
	{"adminState Down: TCP at its SYN moves", 5, SL_FLOW_NEW, 51000, 50000, POOL_A,
	 SL_PROTO_TCP, 1, 1, SL_FLOW_MOVED, 0},
	{"adminState Down: UDP moves", 5, SL_FLOW_NEW, 51000, 50000, POOL_A, SL_PROTO_UDP,
	 1, 1, SL_FLOW_MOVED, 0},
};

/*
 * Which backend a flow keeps. No verdict writes the entry: only a drain
 * deadline or its end does (test_choice_drain).
 */
static void
test_choice(void **state)
{
	(void)state;

	for (size_t c = 0; c < sizeof(choice_cases) / sizeof(choice_cases[0]); c++) {
		const struct choice_case *k = &choice_cases[c];
		struct policy_snap s;
		struct sl_flow_entry e, before;
		uint32_t bi = 99;

		policy_snap_init(&s);
		s.backends[2].usable = !k->down;
		s.backends[2].admin_down = k->admin_down;
		entry_of(&e, k->backend_id, k->state, k->expires);
		before = e;
		printf("%s\n", k->what);
		assert_int_equal(sl_flow_choice(&e, &s.snap, k->pool, k->proto, k->now, &bi),
				 k->verdict);
		assert_int_equal(bi, k->verdict == SL_FLOW_KEEP ? k->backend : 99);
		assert_memory_equal(&e, &before, sizeof(e));
	}
}

/* adminState Down with a drain period: established flows stay until its deadline. */
static void
test_choice_drain(void **state)
{
	struct policy_snap s;
	struct sl_flow_entry e;
	uint32_t bi = 99;
	const uint32_t now = 50000;
	(void)state;

	policy_snap_init(&s);
	s.backends[0].usable = 0;
	s.backends[0].admin_down = 1;
	s.backends[0].drain_ms = 30000;
	entry_of(&e, 3, SL_FLOW_ESTABLISHED, now + IDLE_MS);
	/* the first packet after the change starts the drain period */
	assert_int_equal(sl_flow_choice(&e, &s.snap, POOL_A, SL_PROTO_TCP, now, &bi), SL_FLOW_KEEP);
	assert_int_equal(bi, 0);
	assert_true(e.flags & SL_FLOW_F_DRAINING);
	assert_int_equal(e.expires_ms, now + 30000);
	/* later packets keep that deadline */
	assert_int_equal(sl_flow_choice(&e, &s.snap, POOL_A, SL_PROTO_TCP, now + 10000, &bi),
			 SL_FLOW_KEEP);
	assert_int_equal(e.expires_ms, now + 30000);
	/* at the deadline the flow is chosen again */
	assert_int_equal(sl_flow_choice(&e, &s.snap, POOL_A, SL_PROTO_TCP, now + 30000, &bi),
			 SL_FLOW_EXPIRED);
	/* a backend Up again before the deadline clears the drain mark */
	entry_of(&e, 3, SL_FLOW_ESTABLISHED, now + IDLE_MS);
	assert_int_equal(sl_flow_choice(&e, &s.snap, POOL_A, SL_PROTO_TCP, now, &bi), SL_FLOW_KEEP);
	s.backends[0].usable = 1;
	s.backends[0].admin_down = 0;
	assert_int_equal(sl_flow_choice(&e, &s.snap, POOL_A, SL_PROTO_TCP, now + 1000, &bi),
			 SL_FLOW_KEEP);
	assert_int_equal(e.flags & SL_FLOW_F_DRAINING, 0);
	/* its packets renew it again */
	struct sl_rule rule = {.tcp_idle_ms = IDLE_MS};
	struct sl_pkt p;
	base_pkt(&p);
	assert_int_equal(track(&e, &p, &rule, SL_TCP_ACK, now + 1000), now + 1000 + IDLE_MS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_make_modes),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_tcp_timeouts),
		cmocka_unit_test(test_udp_timeout),
		cmocka_unit_test(test_expiry_renewal),
		cmocka_unit_test(test_tcp_reset_sequence),
		cmocka_unit_test(test_choice),
		cmocka_unit_test(test_choice_drain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
