/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_announce.c: control/sl_announce: which frontend addresses are
 * announced (a compiled snapshot with backends healthy, probed down, admin
 * Down or Up; several rules on one address; inbound NAT rules; IPv4 and
 * IPv6; the service states), the generated BIRD include's exact text, the
 * service state file, and the BIRD control-socket client against a BIRD
 * played by the test on a Unix socket (greeting, configure, answers,
 * errors, retries, deadlines).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_announce.h"
#include "sl_json.h"
#include "sl_test_config.h"

/* --- the decision ---------------------------------------------------------- */

/*
 * lb1: fe1 192.0.2.1 with r1 (Tcp 80 -> pool1: a1, a2) and r2 (Udp 53 ->
 * poolc: c1); fe3 192.0.2.3 with NAT rule nat1 on nic1/ipc1; fe4 192.0.2.4
 * with NAT rule nat2 that no ipConfiguration lists; fe5 192.0.2.5 with no
 * rule; fe6 2001:db8::1 with r6 (-> pool6: b1). ADMIN_A1/ADMIN_A2 set the
 * adminState of a1 and a2.
 */
#define ADDR_ADMIN(n, ip, admin)                                                            \
	"{'name':'" n "','properties':{'virtualNetwork':{'id':'" VNET_ID "vnet1'},'ipAddress':'" \
	ip "'" admin "}}"
#define ANN_DOC(admin_a1, admin_a2)                                                         \
	DOCN(NOSET, VNETS,                                                                      \
	     LBX("Standard",                                                                    \
		 FRONTENDS(FE("fe1", "192.0.2.1") "," FE("fe3", "192.0.2.3") ","                  \
			   FE("fe4", "192.0.2.4") "," FE("fe5", "192.0.2.5") ","                  \
			   FE("fe6", "2001:db8::1")) ","                                          \
		 POOLS(POOL("pool1", ADDR_ADMIN("a1", "10.0.0.4", admin_a1) ","                 \
				     ADDR_ADMIN("a2", "10.0.0.5", admin_a2)) ","                  \
		       POOL("poolc", ADDR("c1", "10.0.0.6", "vnet1")) "," POOL6) ","            \
		 RULES(RULE("r1", "fe1", "pool1", TCP80) ","                                    \
		       RULE("r2", "fe1", "poolc", "'protocol':'Udp','frontendPort':53") ","     \
		       RULE("r6", "fe6", "pool6", TCP80)) ","                                   \
		 NATS(NAT("nat1", "fe3", NAT_TCP) "," NAT("nat2", "fe4", NAT_TCP))),            \
	     NIC("nic1", IPC("ipc1", "10.0.1.4", "vnet1", "sub1", IN_NATS(NAT_REF("lb1", "nat1")))))
#define NO_ADMIN ""
#define ADMIN_DOWN ",'adminState':'Down'"
#define ADMIN_UP ",'adminState':'Up'"

/* Backends the health hook says are probed down, by address name. */
static const char *probed_down[8];

static int
down_hook(void *ctx, const char *lb, const char *pool, const char *address)
{
	(void)ctx;
	(void)lb;
	(void)pool;
	for (int i = 0; i < 8 && probed_down[i] != NULL; i++)
		if (strcmp(probed_down[i], address) == 0)
			return 1;
	return 0;
}

struct decision {
	const char *address;
	bool announced;
	const char *reason;
};

/* Compile doc with the probes' view, decide, and compare with want[0..n). */
static void
check_decision(const char *doc, enum sl_service_state st, bool announcing,
	       const struct decision *want, uint32_t n_want)
{
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	const struct sl_health_hook hook = {.down = down_hook};
	struct sl_model *m = sl_test_parse_ok(doc);
	struct sl_announce_frontend *f;
	struct sl_error err;
	uint32_t n;
	char a[64];

	sl_test_make_ports();
	struct sl_snapshot *s = sl_compile_cached(m, sl_test_ports, 2, rids, bids, NULL, &hook, 1,
						  &err);
	assert_non_null(s);
	assert_int_equal(sl_announce_decide(m, s, st, announcing, &f, &n), 0);
	assert_int_equal(n, n_want);
	for (uint32_t i = 0; i < n; i++) {
		assert_string_equal(sl_ip_addr_format(&f[i].addr, a, sizeof(a)), want[i].address);
		assert_string_equal(sl_announce_reason_name(f[i].reason), want[i].reason);
		assert_int_equal(f[i].announced, want[i].announced);
	}
	free(f);
	sl_snapshot_free(s);
	sl_model_free(m);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

static void
test_decide_healthy(void **state)
{
	(void)state;
	memset(probed_down, 0, sizeof(probed_down));
	const struct decision want[] = {
		{"192.0.2.1", true, "Announced"},
		{"192.0.2.3", true, "Announced"},         /* inbound NAT rule with its backend */
		{"192.0.2.4", false, "NoHealthyBackend"}, /* NAT rule with no backend */
		{"192.0.2.5", false, "NoRule"},
		{"2001:db8::1", true, "Announced"},
	};
	check_decision(ANN_DOC(NO_ADMIN, NO_ADMIN), SL_SERVICE_IN, true, want, 5);
}

/* In service, where only fe1's and fe6's reasons depend on the backends' health. */
static void
check_in_service(const char *doc, const char *fe1, const char *fe6)
{
	const struct decision want[] = {
		{"192.0.2.1", strcmp(fe1, "Announced") == 0, fe1},
		{"192.0.2.3", true, "Announced"},
		{"192.0.2.4", false, "NoHealthyBackend"},
		{"192.0.2.5", false, "NoRule"},
		{"2001:db8::1", strcmp(fe6, "Announced") == 0, fe6},
	};
	check_decision(doc, SL_SERVICE_IN, true, want, 5);
}

/* fe1 stays announced while one of its two rules has a usable backend. */
static void
test_decide_several_rules(void **state)
{
	(void)state;
	memset(probed_down, 0, sizeof(probed_down));
	probed_down[0] = "a1";
	probed_down[1] = "a2";
	check_in_service(ANN_DOC(NO_ADMIN, NO_ADMIN), "Announced", "Announced");
	probed_down[2] = "c1";
	probed_down[3] = "b1";
	check_in_service(ANN_DOC(NO_ADMIN, NO_ADMIN), "NoHealthyBackend", "NoHealthyBackend");
	/* adminState Up ignores the probes: a2 takes new flows again (a1 and c1 still down) */
	probed_down[3] = NULL;
	check_in_service(ANN_DOC(NO_ADMIN, ADMIN_UP), "Announced", "Announced");
	memset(probed_down, 0, sizeof(probed_down));
}

/* adminState Down takes no new flows, whatever the probes say. */
static void
test_decide_admin_down(void **state)
{
	(void)state;
	memset(probed_down, 0, sizeof(probed_down));
	check_in_service(ANN_DOC(ADMIN_DOWN, ADMIN_DOWN), "Announced", "Announced"); /* c1 */
	probed_down[0] = "c1";
	check_in_service(ANN_DOC(ADMIN_DOWN, ADMIN_DOWN), "NoHealthyBackend", "Announced");
	memset(probed_down, 0, sizeof(probed_down));
}

static void
test_decide_service_states(void **state)
{
	(void)state;
	memset(probed_down, 0, sizeof(probed_down));
	static const struct {
		enum sl_service_state st;
		bool announcing;
		const char *reason;
	} cases[] = {{SL_SERVICE_OUT, true, "OutOfService"},
		     {SL_SERVICE_STOPPING, true, "Stopping"},
		     {SL_SERVICE_IN, false, "AnnouncementsOff"},
		     {SL_SERVICE_OUT, false, "AnnouncementsOff"}};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct decision want[] = {
			{"192.0.2.1", false, cases[c].reason}, {"192.0.2.3", false, cases[c].reason},
			{"192.0.2.4", false, cases[c].reason}, {"192.0.2.5", false, cases[c].reason},
			{"2001:db8::1", false, cases[c].reason},
		};
		check_decision(ANN_DOC(NO_ADMIN, NO_ADMIN), cases[c].st, cases[c].announcing, want,
			       5);
	}
}

/* No model, no snapshot: nothing to decide. */
static void
test_decide_nothing(void **state)
{
	struct sl_announce_frontend *f;
	uint32_t n = 9;

	(void)state;
	assert_int_equal(sl_announce_decide(NULL, NULL, SL_SERVICE_IN, true, &f, &n), 0);
	assert_int_equal(n, 0);
	free(f);
}

/* --- the generated include ------------------------------------------------- */

static struct sl_announce_frontend
fe(const char *addr, bool announced)
{
	struct sl_announce_frontend f = {0};
	enum sl_ip_family fam;

	assert_int_equal(sl_ip_addr_parse(addr, &f.addr, &fam), 0);
	f.family = (uint8_t)fam;
	f.announced = announced;
	f.reason = announced ? SL_REASON_ANNOUNCED : SL_REASON_NO_HEALTHY_BACKEND;
	return f;
}

#define TEXT_HEADER "# Generated by sluiced: the frontend addresses this host announces. Do not edit.\n"
#define TEXT_EMPTY                                                                          \
	TEXT_HEADER "protocol static sluice_frontends4 {\n\tipv4;\n}\n"                          \
		    "protocol static sluice_frontends6 {\n\tipv6;\n}\n"

static void
test_bird_text(void **state)
{
	(void)state;
	const struct sl_announce_frontend f[] = {fe("10.66.2.10", true), fe("10.66.2.11", false),
						 fe("10.66.2.12", true), fe("fd66:2::10", true)};
	char *t = sl_announce_bird_text(f, 4);
	assert_string_equal(t, TEXT_HEADER
			    "protocol static sluice_frontends4 {\n"
			    "\tipv4;\n"
			    "\troute 10.66.2.10/32 blackhole;\n"
			    "\troute 10.66.2.12/32 blackhole;\n"
			    "}\n"
			    "protocol static sluice_frontends6 {\n"
			    "\tipv6;\n"
			    "\troute fd66:2::10/128 blackhole;\n"
			    "}\n");
	free(t);
	t = sl_announce_bird_text(f + 1, 1);
	assert_string_equal(t, TEXT_EMPTY);
	free(t);
}

/* --- the announcer: files and the service state ---------------------------- */

static char tmpdir[64];

static int
make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sl-announce-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
slurp(const char *dir, const char *name)
{
	char path[256];
	size_t len;
	struct sl_error err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return sl_file_read(path, 1 << 16, &len, "Unreadable", &err);
}

static void
test_service_state_file(void **state)
{
	struct sl_error err;
	const struct sl_announce_opts o = {.state_dir = tmpdir};
	struct sl_announce *a = sl_announce_create(&o, &err);
	char *text;

	(void)state;
	assert_non_null(a);
	assert_int_equal(sl_announce_state(a), SL_SERVICE_IN);
	assert_int_equal(sl_announce_bird_state(a), SL_BIRD_OFF);
	assert_null(slurp(tmpdir, "service.json")); /* nothing written until a change */

	cJSON *bad = cJSON_Parse("{\"state\": \"Stopping\"}");
	assert_int_equal(sl_announce_set_json(a, bad, 0, &err), -EINVAL);
	assert_string_equal(err.code, "InvalidServiceState");
	assert_string_equal(err.target, "state");
	cJSON_Delete(bad);
	assert_int_equal(sl_announce_state(a), SL_SERVICE_IN);

	cJSON *out = cJSON_Parse("{\"state\": \"OutOfService\"}");
	assert_int_equal(sl_announce_set_json(a, out, 100, &err), 0);
	cJSON_Delete(out);
	assert_int_equal(sl_announce_state(a), SL_SERVICE_OUT);
	text = slurp(tmpdir, "service.json");
	assert_non_null(text);
	assert_non_null(strstr(text, "\"state\": \"OutOfService\""));
	free(text);
	/* 40 frontend packets after the withdrawal */
	cJSON *j = sl_announce_json(a, 140);
	assert_int_equal(cJSON_GetObjectItem(j, "packetsSinceWithdrawal")->valuedouble, 40);
	assert_string_equal(cJSON_GetObjectItem(j, "state")->valuestring, "OutOfService");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(j, "announcing")));
	cJSON_Delete(j);
	sl_announce_free(a);

	/* a new announcer (a restart) starts out of service */
	a = sl_announce_create(&o, &err);
	assert_non_null(a);
	assert_int_equal(sl_announce_state(a), SL_SERVICE_OUT);
	/* stopping: no other state is taken, and it is not saved */
	assert_int_equal(sl_announce_set_state(a, SL_SERVICE_STOPPING, 0, &err), 0);
	assert_int_equal(sl_announce_set_state(a, SL_SERVICE_IN, 0, &err), -EBUSY);
	assert_string_equal(err.code, "ServiceStopping");
	text = slurp(tmpdir, "service.json");
	assert_non_null(strstr(text, "OutOfService"));
	free(text);
	sl_announce_free(a);

	/* a file naming no state stops the start */
	char path[128];
	snprintf(path, sizeof(path), "%s/service.json", tmpdir);
	FILE *f = fopen(path, "w");
	fputs("{\"state\": \"Maintenance\"}", f);
	fclose(f);
	assert_null(sl_announce_create(&o, &err));
	assert_string_equal(err.code, "ServiceStateCorrupt");
	unlink(path);
}

/* --- the BIRD client against a BIRD played here ---------------------------- */

struct fake_bird {
	int listen_fd;
	int conn;
	char path[128];
};

static void
bird_listen(struct fake_bird *b)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(b->path, sizeof(b->path), "%s/bird.ctl", tmpdir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", b->path);
	b->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(b->listen_fd >= 0);
	assert_int_equal(bind(b->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(b->listen_fd, 4), 0);
	b->conn = -1;
}

static void
bird_unlisten(struct fake_bird *b)
{
	if (b->conn >= 0)
		close(b->conn);
	close(b->listen_fd);
	unlink(b->path);
}

/* Accept the announcer's connection (it must be there) and greet it. */
static void
bird_accept(struct fake_bird *b)
{
	b->conn = accept(b->listen_fd, NULL, NULL);
	assert_true(b->conn >= 0);
	assert_int_equal(write(b->conn, "0001 BIRD 2.0.12 ready.\n", 24), 24);
}

/* No connection is waiting. */
static void
bird_no_connection(struct fake_bird *b)
{
	int c = accept(b->listen_fd, NULL, NULL);
	if (c >= 0)
		close(c);
	assert_true(c < 0);
}

/* Read the command (it must be "configure\n"), answer, close. */
static void
bird_answer(struct fake_bird *b, const char *answer)
{
	char cmd[64] = "";
	ssize_t n = read(b->conn, cmd, sizeof(cmd) - 1);

	assert_true(n > 0);
	cmd[n] = '\0';
	assert_string_equal(cmd, "configure\n");
	if (answer != NULL)
		assert_int_equal(write(b->conn, answer, strlen(answer)), (ssize_t)strlen(answer));
	close(b->conn);
	b->conn = -1;
}

static struct sl_announce *
announcer(const char *socket_path)
{
	char include[128];
	struct sl_error err;

	snprintf(include, sizeof(include), "%s/sluice.conf", tmpdir);
	const struct sl_announce_opts o = {.bird_config = include, .bird_socket = socket_path};
	struct sl_announce *a = sl_announce_create(&o, &err);
	assert_non_null(a);
	assert_int_equal(sl_announce_bird_state(a), SL_BIRD_PENDING);
	return a;
}

#define OK_ANSWER "0002-Reading configuration from /etc/bird/bird.conf\n0003 Reconfigured\n"
#define ERR_ANSWER "0002-Reading configuration from /etc/bird/bird.conf\n8002 x.conf:2:1 syntax error\n"

static void
test_bird_configure_and_refusals(void **state)
{
	struct fake_bird b;
	struct sl_error err;
	short ev;

	(void)state;
	bird_listen(&b);
	struct sl_announce *a = announcer(b.path);
	assert_int_equal(sl_announce_fd(a, &ev), -1);
	assert_true(sl_announce_next_due(a) < 0); /* nothing written: nothing to tell */

	/* the first update writes the file (empty) and BIRD is due at once */
	assert_int_equal(sl_announce_update(a, NULL, NULL, &err), 1);
	char *text = slurp(tmpdir, "sluice.conf");
	assert_string_equal(text, TEXT_EMPTY);
	free(text);
	assert_true(sl_announce_next_due(a) == 0);
	assert_int_equal(sl_announce_update(a, NULL, NULL, &err), 0); /* unchanged */

	assert_int_equal(sl_announce_run(a, 10.0), 0); /* connected, waiting for the greeting */
	assert_true(sl_announce_fd(a, &ev) >= 0);
	assert_int_equal(ev, POLLIN);
	bird_accept(&b);
	assert_int_equal(sl_announce_run(a, 10.0), 0); /* greeting read, configure sent */
	/* BIRD closes without answering */
	bird_answer(&b, NULL);
	assert_int_equal(sl_announce_run(a, 10.0), 1);
	assert_int_equal(sl_announce_bird_state(a), SL_BIRD_UNREACHABLE);
	assert_non_null(strstr(sl_announce_bird_message(a), "closed"));
	bird_no_connection(&b);
	sl_announce_free(a);

	/* again, this time answered: split lines, a continuation, then the final line */
	a = announcer(b.path);
	assert_int_equal(sl_announce_update(a, NULL, NULL, &err), 1);
	assert_int_equal(sl_announce_run(a, 20.0), 0);
	bird_accept(&b);
	assert_int_equal(sl_announce_run(a, 20.0), 0);
	char cmd[32];
	assert_int_equal(read(b.conn, cmd, sizeof(cmd)), 10);
	assert_int_equal(write(b.conn, "0002-Reading conf", 17), 17);
	assert_int_equal(sl_announce_run(a, 20.0), 0);
	assert_int_equal(write(b.conn, "iguration\n0003 Reconfigured\n", 28), 28);
	assert_int_equal(sl_announce_run(a, 20.0), 1);
	close(b.conn);
	b.conn = -1;
	assert_int_equal(sl_announce_bird_state(a), SL_BIRD_RECONFIGURED);
	assert_string_equal(sl_announce_bird_message(a), "0003 Reading configuration / Reconfigured");
	assert_int_equal(sl_announce_reconfigures(a), 1);
	assert_int_equal(sl_announce_fd(a, &ev), -1);
	assert_true(sl_announce_next_due(a) < 0); /* done until the next change */
	assert_int_equal(sl_announce_run(a, 21.0), 0);
	bird_no_connection(&b);

	/* BIRD refuses: Refused, said once, tried again every second */
	sl_announce_set_state(a, SL_SERVICE_OUT, 0, &err);
	struct sl_model *m = sl_test_parse_ok(ANN_DOC(NO_ADMIN, NO_ADMIN));
	assert_int_equal(sl_announce_update(a, m, NULL, &err), 0); /* still empty: no rule */
	sl_announce_set_state(a, SL_SERVICE_IN, 0, &err);
	uint32_t n;
	/* a snapshot where fe1 is usable */
	struct sl_id_registry *rids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	struct sl_id_registry *bids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	sl_test_make_ports();
	struct sl_snapshot *s = sl_compile(m, sl_test_ports, 2, rids, bids, 1, &err);
	assert_non_null(s);
	assert_int_equal(sl_announce_update(a, m, s, &err), 1);
	text = slurp(tmpdir, "sluice.conf");
	assert_non_null(strstr(text, "\troute 192.0.2.1/32 blackhole;\n"));
	assert_non_null(strstr(text, "\troute 2001:db8::1/128 blackhole;\n"));
	assert_null(strstr(text, "192.0.2.5"));
	free(text);
	const struct sl_announce_frontend *cur = sl_announce_frontends(a, &n);
	assert_int_equal(n, 5);
	assert_true(cur[0].announced);
	assert_int_equal(sl_announce_run(a, 30.0), 0);
	bird_accept(&b);
	assert_int_equal(sl_announce_run(a, 30.0), 0);
	bird_answer(&b, ERR_ANSWER);
	assert_int_equal(sl_announce_run(a, 30.0), 1);
	assert_int_equal(sl_announce_bird_state(a), SL_BIRD_REFUSED);
	assert_string_equal(sl_announce_bird_message(a),
			    "8002 Reading configuration from /etc/bird/bird.conf / x.conf:2:1 syntax error");
	assert_true(sl_announce_next_due(a) == 31.0);
	assert_int_equal(sl_announce_run(a, 30.5), 0);
	bird_no_connection(&b); /* not before the retry */
	assert_int_equal(sl_announce_run(a, 31.0), 0);
	bird_accept(&b);
	assert_int_equal(sl_announce_run(a, 31.0), 0);
	bird_answer(&b, ERR_ANSWER);
	assert_int_equal(sl_announce_run(a, 31.0), 0); /* the same refusal: nothing new to say */
	assert_int_equal(sl_announce_bird_state(a), SL_BIRD_REFUSED);
	assert_int_equal(sl_announce_run(a, 32.0), 0);
	bird_accept(&b);
	assert_int_equal(sl_announce_run(a, 32.0), 0);
	bird_answer(&b, OK_ANSWER);
	assert_int_equal(sl_announce_run(a, 32.0), 1);
	assert_int_equal(sl_announce_bird_state(a), SL_BIRD_RECONFIGURED);
	assert_int_equal(sl_announce_reconfigures(a), 2);

	/* the file changes while a configure is in flight: BIRD is asked once more */
	assert_int_equal(sl_announce_set_state(a, SL_SERVICE_OUT, 0, &err), 0);
	assert_int_equal(sl_announce_update(a, m, s, &err), 1);
	assert_int_equal(sl_announce_run(a, 40.0), 0);
	bird_accept(&b);
	assert_int_equal(sl_announce_set_state(a, SL_SERVICE_IN, 0, &err), 0);
	assert_int_equal(sl_announce_update(a, m, s, &err), 1);
	assert_int_equal(sl_announce_run(a, 40.0), 0);
	bird_answer(&b, OK_ANSWER);
	assert_int_equal(sl_announce_run(a, 40.0), 0); /* Reconfigured again: no news */
	assert_true(sl_announce_next_due(a) == 0);
	assert_int_equal(sl_announce_run(a, 40.0), 0);
	bird_accept(&b);
	assert_int_equal(sl_announce_run(a, 40.0), 0);
	bird_answer(&b, OK_ANSWER);
	assert_int_equal(sl_announce_run(a, 40.0), 0);
	assert_int_equal(sl_announce_reconfigures(a), 4);
	assert_true(sl_announce_next_due(a) < 0);

	/* BIRD accepts and never greets: the attempt fails at its deadline */
	assert_int_equal(sl_announce_set_state(a, SL_SERVICE_OUT, 0, &err), 0);
	assert_int_equal(sl_announce_update(a, m, s, &err), 1);
	assert_int_equal(sl_announce_run(a, 50.0), 0);
	b.conn = accept(b.listen_fd, NULL, NULL);
	assert_true(b.conn >= 0);
	assert_int_equal(sl_announce_run(a, 54.9), 0);
	assert_true(sl_announce_next_due(a) == 55.0);
	assert_int_equal(sl_announce_run(a, 55.0), 1);
	assert_int_equal(sl_announce_bird_state(a), SL_BIRD_UNREACHABLE);
	assert_non_null(strstr(sl_announce_bird_message(a), "did not answer"));
	close(b.conn);
	b.conn = -1;

	/* BIRD gone: Unreachable (no news while it stays gone), retried */
	bird_unlisten(&b);
	assert_int_equal(sl_announce_run(a, 56.0), 1);
	assert_int_equal(sl_announce_bird_state(a), SL_BIRD_UNREACHABLE);
	assert_non_null(strstr(sl_announce_bird_message(a), "connect"));
	assert_int_equal(sl_announce_run(a, 57.0), 0);
	assert_true(sl_announce_next_due(a) == 58.0);
	/* back: reconfigured at the next retry */
	bird_listen(&b);
	assert_int_equal(sl_announce_run(a, 58.0), 0);
	bird_accept(&b);
	assert_int_equal(sl_announce_run(a, 58.0), 0);
	bird_answer(&b, OK_ANSWER);
	assert_int_equal(sl_announce_run(a, 58.0), 1);
	assert_int_equal(sl_announce_bird_state(a), SL_BIRD_RECONFIGURED);

	cJSON *j = sl_announce_json(a, 0);
	cJSON *bird = cJSON_GetObjectItem(j, "bird");
	assert_string_equal(cJSON_GetObjectItem(bird, "state")->valuestring, "Reconfigured");
	assert_string_equal(cJSON_GetObjectItem(bird, "socket")->valuestring, b.path);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "frontends")), 5);
	cJSON_Delete(j);

	bird_unlisten(&b);
	sl_announce_free(a);
	sl_snapshot_free(s);
	sl_model_free(m);
	sl_id_registry_free(rids);
	sl_id_registry_free(bids);
}

/* A greeting that is not BIRD's: refused, the socket closed. */
static void
test_bird_wrong_greeting(void **state)
{
	struct fake_bird b;
	struct sl_error err;
	short ev;

	(void)state;
	bird_listen(&b);
	struct sl_announce *a = announcer(b.path);
	assert_int_equal(sl_announce_update(a, NULL, NULL, &err), 1);
	assert_int_equal(sl_announce_run(a, 1.0), 0);
	b.conn = accept(b.listen_fd, NULL, NULL);
	assert_true(b.conn >= 0);
	assert_int_equal(write(b.conn, "9999 go away\n", 13), 13);
	assert_int_equal(sl_announce_run(a, 1.0), 1);
	assert_int_equal(sl_announce_bird_state(a), SL_BIRD_REFUSED);
	assert_string_equal(sl_announce_bird_message(a), "unexpected greeting: 9999 go away");
	assert_int_equal(sl_announce_fd(a, &ev), -1);
	sl_announce_free(a);
	bird_unlisten(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_healthy),
		cmocka_unit_test(test_decide_several_rules),
		cmocka_unit_test(test_decide_admin_down),
		cmocka_unit_test(test_decide_service_states),
		cmocka_unit_test(test_decide_nothing),
		cmocka_unit_test(test_bird_text),
		cmocka_unit_test(test_service_state_file),
		cmocka_unit_test(test_bird_configure_and_refusals),
		cmocka_unit_test(test_bird_wrong_greeting),
	};
	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
