/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_audit.c: common/sl_log (level names and numbers, the line prefix,
 * the sink, cut messages) and control/sl_audit: the backend addresses a
 * change added, removed and changed (names case-insensitive, several pools,
 * a bounded line that says how much it left out), the peer of a Unix
 * socket (this process, by SO_PEERCRED), and the audit line itself (what
 * a client sent cannot start a line of its own).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_audit.h"
#include "sl_log.h"

/* --- sl_log ------------------------------------------------------------------ */

static void
test_levels(void **state)
{
	(void)state;
	assert_int_equal(sl_log_level_parse("debug"), SL_LOG_DEBUG);
	assert_int_equal(sl_log_level_parse("WARNING"), SL_LOG_WARNING);
	assert_int_equal(sl_log_level_parse("warn"), SL_LOG_WARNING);
	assert_int_equal(sl_log_level_parse("error"), SL_LOG_ERR);
	assert_int_equal(sl_log_level_parse("err"), SL_LOG_ERR);
	assert_int_equal(sl_log_level_parse("8"), SL_LOG_DEBUG);
	assert_int_equal(sl_log_level_parse("1"), SL_LOG_EMERG);
	assert_int_equal(sl_log_level_parse("0"), -1);
	assert_int_equal(sl_log_level_parse("9"), -1);
	assert_int_equal(sl_log_level_parse("loud"), -1);
	assert_int_equal(sl_log_level_parse(""), -1);
	assert_int_equal(sl_log_level_parse("7x"), -1);
	assert_string_equal(sl_log_level_name(SL_LOG_NOTICE), "NOTICE");
	assert_string_equal(sl_log_level_name(42), "LOG");
}

static void
test_prefix(void **state)
{
	char b[32];

	(void)state;
	assert_int_equal(sl_log_prefix(b, sizeof(b), SL_LOG_INFO, 0), 5);
	assert_string_equal(b, "INFO ");
	assert_int_equal(sl_log_prefix(b, sizeof(b), SL_LOG_ERR, 1), 7);
	assert_string_equal(b, "<3>ERR "); /* syslog priority 3: err */
	sl_log_prefix(b, sizeof(b), SL_LOG_DEBUG, 1);
	assert_string_equal(b, "<7>DEBUG ");
}

struct captured {
	int level;
	char module[32];
	char text[SL_LOG_LINE_MAX];
	int calls;
};

static void
capture(int level, const char *module, const char *text, void *ctx)
{
	struct captured *c = ctx;

	c->level = level;
	snprintf(c->module, sizeof(c->module), "%s", module);
	snprintf(c->text, sizeof(c->text), "%s", text);
	c->calls++;
}

static void
test_sink_and_cut(void **state)
{
	struct captured c = {0};
	char big[SL_LOG_LINE_MAX + 100];

	(void)state;
	sl_log_set_sink(capture, &c);
	sl_log(SL_LOG_WARNING, "api", "hello %d", 42);
	assert_int_equal(c.level, SL_LOG_WARNING);
	assert_string_equal(c.module, "api");
	assert_string_equal(c.text, "sluice.api: hello 42\n");
	sl_log(SL_LOG_INFO, "api", "one newline\n");
	assert_string_equal(c.text, "sluice.api: one newline\n");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sl_log(SL_LOG_INFO, "audit", "%s", big);
	size_t n = strlen(c.text);
	assert_int_equal(n, SL_LOG_LINE_MAX - 1);
	assert_string_equal(c.text + n - 4, "...\n");
	assert_int_equal(c.calls, 3);
	sl_log_set_sink(NULL, NULL);
}

/* --- the addresses a change touched ------------------------------------------ */

#define ADDR(n, ip, extra) \
	"{\"name\":\"" n "\",\"properties\":{\"ipAddress\":\"" ip "\"" extra "}}"
#define POOL(n, addrs) \
	"{\"name\":\"" n "\",\"properties\":{\"loadBalancerBackendAddresses\":[" addrs "]}}"
#define LB(pools) \
	"{\"name\":\"lb\",\"properties\":{\"frontendIPConfigurations\":[],\"backendAddressPools\":[" \
	pools "]}}"

static size_t
diff(const char *before, const char *after, char *buf, size_t len)
{
	cJSON *b = before ? cJSON_Parse(before) : NULL, *a = after ? cJSON_Parse(after) : NULL;
	assert_true(before == NULL || b != NULL);
	assert_true(after == NULL || a != NULL);
	size_t n = sl_audit_addresses(b, a, buf, len);
	cJSON_Delete(b);
	cJSON_Delete(a);
	assert_int_equal(n, strlen(buf));
	return n;
}

static void
test_pool_diff(void **state)
{
	char buf[1024];

	(void)state;
	diff(POOL("web", ADDR("a1", "10.0.0.1", "") "," ADDR("a2", "10.0.0.2", "")),
	     POOL("web", ADDR("A2", "10.0.0.2", ",\"adminState\":\"Down\"") ","
			 ADDR("a3", "10.0.0.3", "")),
	     buf, sizeof(buf));
	assert_string_equal(buf, "addresses added web/a3 10.0.0.3; removed web/a1 10.0.0.1; "
				 "changed web/A2 10.0.0.2 adminState None -> Down");
	/* the same pool again: nothing to say */
	assert_int_equal(diff(POOL("web", ADDR("a1", "10.0.0.1", "")),
			      POOL("WEB", ADDR("A1", "10.0.0.1", ",\"adminState\":\"none\"")), buf,
			      sizeof(buf)),
			 0);
	/* a new address, a moved one, a weight */
	diff(POOL("web", ADDR("a1", "10.0.0.1", "") "," ADDR("a2", "10.0.0.2", "")),
	     POOL("web", ADDR("a1", "10.0.0.9", "") "," ADDR("a2", "10.0.0.2", ",\"weight\":5") ","
			 ADDR("a3", "10.0.0.3", "") "," ADDR("a4", "10.0.0.4", "")),
	     buf, sizeof(buf));
	assert_string_equal(buf, "addresses added web/a3 10.0.0.3, web/a4 10.0.0.4; changed web/a1 "
				 "10.0.0.9 (was 10.0.0.1), web/a2 10.0.0.2 weight 1 -> 5");
}

static void
test_lb_and_delete(void **state)
{
	char buf[1024];

	(void)state;
	/* a whole load balancer: each pool's addresses, named by pool */
	diff(LB(POOL("p1", ADDR("a", "10.0.1.1", "")) "," POOL("p2", ADDR("a", "10.0.2.1", ""))),
	     LB(POOL("p1", ADDR("a", "10.0.1.1", ""))), buf, sizeof(buf));
	assert_string_equal(buf, "addresses removed p2/a 10.0.2.1");
	/* deleted (after NULL), created (before NULL) */
	diff(POOL("p", ADDR("a", "10.0.0.1", "") "," ADDR("b", "10.0.0.2", "")), NULL, buf,
	     sizeof(buf));
	assert_string_equal(buf, "addresses removed p/a 10.0.0.1, p/b 10.0.0.2");
	diff(NULL, POOL("p", ADDR("a", "10.0.0.1", "")), buf, sizeof(buf));
	assert_string_equal(buf, "addresses added p/a 10.0.0.1");
	/* a resource without pools */
	assert_int_equal(diff("{\"name\":\"vnet\",\"properties\":{}}", NULL, buf, sizeof(buf)), 0);
}

static void
test_bounded(void **state)
{
	char buf[96];
	char before[8192] = POOL("p", ""), after[8192];
	int off = snprintf(after, sizeof(after), "{\"name\":\"p\",\"properties\":"
				  "{\"loadBalancerBackendAddresses\":[");

	(void)state;
	for (int i = 0; i < 40; i++)
		off += snprintf(after + off, sizeof(after) - (size_t)off, "%s" ADDR("a%02d", "10.0.0.%d", ""),
				i ? "," : "", i, i);
	snprintf(after + off, sizeof(after) - (size_t)off, "]}}");
	size_t n = diff(before, after, buf, sizeof(buf));
	assert_true(n < sizeof(buf));
	assert_non_null(strstr(buf, "addresses added p/a00 10.0.0.0, p/a01 10.0.0.1"));
	/* whole items only, then how many did not fit */
	const char *more = strstr(buf, " more)");
	assert_non_null(more);
	assert_string_equal(more, " more)");
	unsigned int shown = 0, left = 0;
	for (const char *s = buf; (s = strstr(s, "p/a")) != NULL; s++)
		shown++;
	assert_int_equal(sscanf(strrchr(buf, '(') + 1, "%u more)", &left), 1);
	assert_int_equal(shown + left, 40);
}

/* --- who, and the line -------------------------------------------------------- */

static void
test_peer_is_this_process(void **state)
{
	int sv[2];
	char who[128], want[64];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	sl_audit_peer(sv[0], who, sizeof(who));
	snprintf(want, sizeof(want), "uid %lu pid %ld (", (unsigned long)getuid(), (long)getpid());
	assert_memory_equal(who, want, strlen(want));
	assert_int_equal(who[strlen(who) - 1], ')');
	close(sv[0]);
	close(sv[1]);
	sl_audit_peer(-1, who, sizeof(who));
	assert_string_equal(who, "unknown peer");
	sl_audit_process("SIGHUP from", 0, 0, who, sizeof(who));
	assert_string_equal(who, "SIGHUP from uid 0 pid 0");
	/* the name read when the signal came, kept after the sender is gone (and sanitized) */
	sl_audit_process_named("SIGHUP from", 999999999, 0, "kill\n", who, sizeof(who));
	assert_string_equal(who, "SIGHUP from uid 0 pid 999999999 (kill)");
	sl_audit_process_named("SIGHUP from", 0, 0, "", who, sizeof(who));
	assert_string_equal(who, "SIGHUP from uid 0 pid 0");
}

static void
test_line_cannot_be_forged(void **state)
{
	struct captured c = {0};

	(void)state;
	sl_log_set_sink(capture, &c);
	sl_audit_log(SL_LOG_WARNING, "uid 1 pid 2 (x)", "PUT /a\nNOTICE sluice.audit: forged",
		     "refused: 404 ResourceNotFound: \x1b[31mred");
	assert_int_equal(c.level, SL_LOG_WARNING);
	assert_string_equal(c.module, "audit");
	assert_string_equal(c.text, "sluice.audit: uid 1 pid 2 (x): PUT /a?NOTICE sluice.audit: "
				    "forged: refused: 404 ResourceNotFound: ?[31mred\n");
	sl_log_set_sink(NULL, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_sink_and_cut),
		cmocka_unit_test(test_pool_diff),
		cmocka_unit_test(test_lb_and_delete),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_peer_is_this_process),
		cmocka_unit_test(test_line_cannot_be_forged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
