/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_probe.c: health probes (control/sl_probe.c) against real sockets on
 * 127.0.0.0/8 and ::1.
 *
 * Models are built by hand (the validator refuses intervals under 5 s) with
 * intervalInSeconds 1, and the prober's test hook sl_prober_set_time_scale()
 * shrinks that to SCALE seconds, so a probe runs every 0.2 s and each test
 * takes a second or two. The test drives the prober the way the daemon's
 * control loop does: poll() on sl_prober_fd() with a timeout from
 * sl_prober_next_due(), then sl_prober_run(). HTTP and HTTPS backends are
 * forked children serving with blocking sockets (their status code and the
 * last request they saw live in shared memory); TLS uses a self-signed
 * certificate made here with OpenSSL's APIs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sl_config.h"
#include "sl_probe.h"

#define SCALE 0.2     /* 1 s intervals run every 0.2 s */
#define WAIT_S 4.0    /* upper bound of one wait */

/* --- time, models ----------------------------------------------------------- */

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct tm_addr {
	const char *name;
	const char *ip;
};

struct tm_pool {
	const char *name;
	uint32_t n;
	const struct tm_addr *a;
};

struct tm_rule {
	int pool;
	int probe;
};

static struct sl_probe_cfg
tm_probe(const char *name, enum sl_probe_proto proto, uint16_t port, uint32_t nop, uint32_t thr,
	 const char *path)
{
	struct sl_probe_cfg c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.protocol = proto;
	c.port = port;
	c.interval_s = 1;
	c.number_of_probes = nop;
	c.probe_threshold = thr;
	snprintf(c.request_path, sizeof(c.request_path), "%s", path != NULL ? path : "");
	return c;
}

/* One load balancer; everything calloc'd so sl_model_free() frees it. */
static struct sl_model *
tm_model(const char *lb_name, const struct sl_probe_cfg *probes, uint32_t n_probes,
	 const struct tm_pool *pools, uint32_t n_pools, const struct tm_rule *rules,
	 uint32_t n_rules)
{
	struct sl_model *m = calloc(1, sizeof(*m));
	struct sl_lb *lb;
	uint32_t i, j;

	assert_non_null(m);
	m->n_lbs = 1;
	m->lbs = calloc(1, sizeof(*m->lbs));
	assert_non_null(m->lbs);
	lb = &m->lbs[0];
	snprintf(lb->name, sizeof(lb->name), "%s", lb_name);
	snprintf(lb->label, sizeof(lb->label), "%s", lb_name); /* alone: its label is its name */
	lb->standard_sku = 1;
	lb->vnet = -1;
	lb->probes = calloc(n_probes + 1, sizeof(*lb->probes));
	lb->pools = calloc(n_pools + 1, sizeof(*lb->pools));
	lb->rules = calloc(n_rules + 1, sizeof(*lb->rules));
	assert_non_null(lb->probes);
	assert_non_null(lb->pools);
	assert_non_null(lb->rules);
	lb->n_probes = n_probes;
	for (i = 0; i < n_probes; i++)
		lb->probes[i] = probes[i];
	lb->n_pools = n_pools;
	for (i = 0; i < n_pools; i++) {
		struct sl_pool_cfg *pc = &lb->pools[i];

		snprintf(pc->name, sizeof(pc->name), "%s", pools[i].name);
		pc->n_addresses = pools[i].n;
		pc->addresses = calloc(pools[i].n + 1, sizeof(*pc->addresses));
		assert_non_null(pc->addresses);
		for (j = 0; j < pools[i].n; j++) {
			struct sl_address *a = &pc->addresses[j];
			enum sl_ip_family fam;

			snprintf(a->name, sizeof(a->name), "%s", pools[i].a[j].name);
			assert_int_equal(sl_ip_addr_parse(pools[i].a[j].ip, &a->addr, &fam), 0);
			a->family = (uint8_t)fam;
			a->weight = 1;
			a->nic = -1;
			a->ipconfig = -1;
		}
	}
	lb->n_rules = n_rules;
	for (i = 0; i < n_rules; i++) {
		snprintf(lb->rules[i].name, sizeof(lb->rules[i].name), "rule%u", i);
		lb->rules[i].pool = rules[i].pool;
		lb->rules[i].probe = rules[i].probe;
		lb->rules[i].proto = SL_PROTO_TCP;
		lb->rules[i].frontend_port = (uint16_t)(80 + i);
	}
	return m;
}

/* A prober on the scaled clock, synced with m (which is freed). */
static struct sl_prober *
tm_prober(const struct sl_prober_opts *o, struct sl_model *m)
{
	struct sl_prober *p = sl_prober_create(o);

	assert_non_null(p);
	assert_int_equal(sl_prober_set_time_scale(p, SCALE), 0);
	assert_int_equal(sl_prober_sync(p, m), 0);
	sl_model_free(m);
	return p;
}

/* --- status accessors --------------------------------------------------------- */

static int
st_count(const struct sl_prober *p)
{
	cJSON *a = sl_prober_status(p);
	int n;

	assert_non_null(a);
	n = cJSON_GetArraySize(a);
	cJSON_Delete(a);
	return n;
}

/* A number field of target i; -1 when absent or null. */
static double
st_num(const struct sl_prober *p, int i, const char *k)
{
	cJSON *a = sl_prober_status(p), *v;
	double d = -1;

	assert_non_null(a);
	v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(a, i), k);
	if (cJSON_IsNumber(v))
		d = v->valuedouble;
	cJSON_Delete(a);
	return d;
}

/* A string field of target i ("null" for JSON null, "?" when absent); static buffer. */
static const char *
st_str(const struct sl_prober *p, int i, const char *k)
{
	static char buf[4][256];
	static int slot;
	cJSON *a = sl_prober_status(p), *v;
	char *out = buf[slot++ % 4];

	assert_non_null(a);
	v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(a, i), k);
	if (cJSON_IsString(v))
		snprintf(out, 256, "%s", v->valuestring);
	else if (cJSON_IsNull(v))
		snprintf(out, 256, "null");
	else
		snprintf(out, 256, "?");
	cJSON_Delete(a);
	return out;
}

#define SUCC(p, i) st_num(p, i, "consecutiveSuccesses")
#define FAILS(p, i) st_num(p, i, "consecutiveFailures")
#define SENT(p, i) st_num(p, i, "probesSent")
#define HEALTH(p, i) st_str(p, i, "health")
#define LASTERR(p, i) st_str(p, i, "lastError")

/* --- the control loop --------------------------------------------------------- */

struct pump {
	struct sl_prober *p;
	int listen_fd; /* -1: none; else connections to it are accepted and closed */
	int changed;   /* sum of sl_prober_run() results */
	int accepted;
	struct sockaddr_storage peer; /* of the last accepted connection */
};

static void
pump_once(struct pump *pu)
{
	double now = mono(), next;
	struct pollfd pfd[2];
	int n = 0, to;

	pu->changed += sl_prober_run(pu->p, now);
	next = sl_prober_next_due(pu->p);
	to = 20;
	if (next - now < 0.020)
		to = next <= now ? 0 : (int)((next - now) * 1000.0) + 1;
	pfd[n++] = (struct pollfd){.fd = sl_prober_fd(pu->p), .events = POLLIN};
	if (pu->listen_fd >= 0)
		pfd[n++] = (struct pollfd){.fd = pu->listen_fd, .events = POLLIN};
	(void)poll(pfd, (nfds_t)n, to);
	if (pu->listen_fd >= 0 && (pfd[1].revents & POLLIN)) {
		for (;;) {
			socklen_t sl = sizeof(pu->peer);
			int c = accept4(pu->listen_fd, (struct sockaddr *)&pu->peer, &sl, SOCK_CLOEXEC);

			if (c < 0)
				break;
			pu->accepted++;
			close(c);
		}
	}
}

/* Drive the prober until cond holds (checked after every run), at most WAIT_S. */
#define WAIT_UNTIL(pu, cond)                                                                 \
	do {                                                                                 \
		double end_ = mono() + WAIT_S;                                               \
		while (!(cond) && mono() < end_)                                             \
			pump_once(pu);                                                       \
		if (!(cond))                                                                 \
			fail_msg("timed out waiting for: %s", #cond);                        \
	} while (0)

/* A non-blocking listening TCP socket on ip:port (port 0: any); -1 when the family is unavailable. */
static int
tm_listen(const char *ip, uint16_t port, uint16_t *port_out)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 64) < 0) {
		close(fd);
		return -1;
	}
	sl = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	if (port_out != NULL)
		*port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* --- forked HTTP(S) servers ---------------------------------------------------- */

enum srv_mode {
	SRV_ANSWER = 0,    /* read the request, answer with the current status */
	SRV_IMMEDIATE = 1, /* answer at once without reading (HTTP to a TLS client) */
};

struct srv_shared {
	volatile int status;
	volatile int mode;
	volatile int n_requests;
	char last_request[1024];
};

static struct srv_shared *
srv_shared_new(void)
{
	struct srv_shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	assert_true(sh != MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	sh->status = 200;
	return sh;
}

static void
srv_child(int lfd, SSL_CTX *tls, struct srv_shared *sh)
{
	struct timeval tv = {.tv_sec = 2};

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		char req[1024], resp[256];
		size_t len = 0;
		SSL *s = NULL;
		int c, n, rl;
		struct pollfd pfd = {.fd = lfd, .events = POLLIN};

		(void)poll(&pfd, 1, 1000);
		c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (tls != NULL) {
			s = SSL_new(tls);
			SSL_set_fd(s, c);
			if (SSL_accept(s) != 1) {
				SSL_free(s);
				close(c);
				continue;
			}
		}
		if (sh->mode != SRV_IMMEDIATE) {
			while (len < sizeof(req) - 1) {
				n = s != NULL ? SSL_read(s, req + len, (int)(sizeof(req) - 1 - len))
					      : (int)recv(c, req + len, sizeof(req) - 1 - len, 0);
				if (n <= 0)
					break;
				len += (size_t)n;
				req[len] = '\0';
				if (strstr(req, "\r\n\r\n") != NULL)
					break;
			}
			req[len] = '\0';
			memcpy(sh->last_request, req, len + 1);
			__sync_synchronize();
			sh->n_requests++;
		}
		rl = snprintf(resp, sizeof(resp),
			      "HTTP/1.1 %d %s\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
			      sh->status, sh->status == 200 ? "OK" : "Not OK");
		if (s != NULL) {
			(void)SSL_write(s, resp, rl);
			(void)SSL_shutdown(s);
			SSL_free(s);
		} else {
			(void)send(c, resp, (size_t)rl, MSG_NOSIGNAL);
		}
		close(c);
	}
}

/* Fork a server on the listening socket lfd (blocking accept in the child); the parent closes lfd. */
static pid_t
srv_start(int lfd, SSL_CTX *tls, struct srv_shared *sh)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		srv_child(lfd, tls, sh);
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void
srv_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A TLS server context with a fresh self-signed P-256 certificate. */
static SSL_CTX *
tm_tls_server_ctx(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	SSL_CTX *ctx;

	assert_non_null(k);
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, k), 1);
	name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						    (const unsigned char *)"sluice-probe-test", -1,
						    -1, 0),
			 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, k), 1);
	X509_free(x);
	EVP_PKEY_free(k);
	return ctx;
}

/* --- tests ------------------------------------------------------------------------ */

/* Tcp: UP while listening; DOWN after numberOfProbes refusals, not before; UP after probeThreshold successes. */
static void
test_tcp_up_down_up(void **state)
{
	static const struct tm_addr addrs[] = {{"Web1", "127.0.0.1"}};
	struct tm_pool pool = {"Pool1", 1, addrs};
	struct tm_rule rule = {0, 0};
	struct sl_probe_cfg pr;
	struct pump pu = {0};
	uint16_t port;
	double t0;

	(void)state;
	pu.listen_fd = tm_listen("127.0.0.1", 0, &port);
	assert_true(pu.listen_fd >= 0);
	pr = tm_probe("tcp", SL_PROBE_TCP, port, 3, 2, NULL);
	pu.p = tm_prober(NULL, tm_model("Lb1", &pr, 1, &pool, 1, &rule, 1));
	t0 = mono(); /* after the sync: the first probe is due within min(interval, 1 s) of it */
	assert_int_equal(st_count(pu.p), 1);
	assert_string_equal(HEALTH(pu.p, 0), "Up"); /* fail-open: up before any result */
	assert_string_equal(st_str(pu.p, 0, "lastResult"), "null");
	assert_true(sl_prober_next_due(pu.p) <= t0 + SCALE + 0.05);
	assert_true(sl_prober_fd(pu.p) >= 0);

	WAIT_UNTIL(&pu, SUCC(pu.p, 0) >= 3);
	assert_string_equal(HEALTH(pu.p, 0), "Up");
	assert_string_equal(st_str(pu.p, 0, "lastResult"), "Success");
	assert_string_equal(LASTERR(pu.p, 0), "null");
	assert_true(SENT(pu.p, 0) >= 3);
	assert_true(pu.accepted >= 3);
	assert_int_equal(pu.changed, 0);

	/* No listener: refused. Two failures are not enough (numberOfProbes 3). */
	close(pu.listen_fd);
	pu.listen_fd = -1;
	WAIT_UNTIL(&pu, FAILS(pu.p, 0) >= 1);
	assert_int_equal(FAILS(pu.p, 0), 1);
	assert_string_equal(HEALTH(pu.p, 0), "Up");
	assert_string_equal(LASTERR(pu.p, 0), "connection refused");
	assert_string_equal(st_str(pu.p, 0, "lastResult"), "Failure");
	assert_int_equal(SUCC(pu.p, 0), 0);
	WAIT_UNTIL(&pu, FAILS(pu.p, 0) >= 2);
	assert_int_equal(FAILS(pu.p, 0), 2);
	assert_string_equal(HEALTH(pu.p, 0), "Up");
	assert_int_equal(sl_prober_health(pu.p, "Lb1", "Pool1", "Web1"), SL_HEALTH_UP);
	assert_int_equal(pu.changed, 0);
	WAIT_UNTIL(&pu, FAILS(pu.p, 0) >= 3);
	assert_string_equal(HEALTH(pu.p, 0), "Down");
	assert_int_equal(pu.changed, 1);
	/* Health by the compiler's names, case-insensitively. */
	assert_int_equal(sl_prober_health(pu.p, "Lb1", "Pool1", "Web1"), SL_HEALTH_DOWN);
	assert_int_equal(sl_prober_health(pu.p, "LB1", "pool1", "WEB1"), SL_HEALTH_DOWN);
	assert_int_equal(sl_prober_health(pu.p, "Lb1", "Pool1", "Web2"), SL_HEALTH_UP);
	assert_int_equal(sl_prober_health(pu.p, "Lb2", "Pool1", "Web1"), SL_HEALTH_UP);

	/* Listening again: one success is not enough (probeThreshold 2). */
	pu.listen_fd = tm_listen("127.0.0.1", port, NULL);
	assert_true(pu.listen_fd >= 0);
	WAIT_UNTIL(&pu, SUCC(pu.p, 0) >= 1);
	assert_int_equal(SUCC(pu.p, 0), 1);
	assert_int_equal(FAILS(pu.p, 0), 0);
	assert_string_equal(HEALTH(pu.p, 0), "Down");
	assert_string_equal(LASTERR(pu.p, 0), "null");
	WAIT_UNTIL(&pu, SUCC(pu.p, 0) >= 2);
	assert_string_equal(HEALTH(pu.p, 0), "Up");
	assert_int_equal(pu.changed, 2);
	assert_int_equal(sl_prober_health(pu.p, "lb1", "pool1", "web1"), SL_HEALTH_UP);
	assert_true(st_num(pu.p, 0, "lastProbeAgoSeconds") >= 0);
	assert_true(st_num(pu.p, 0, "lastProbeAgoSeconds") < 1.0);

	close(pu.listen_fd);
	sl_prober_free(pu.p);
}

/* IPv6 targets: a listener on ::1 is up, a closed port on ::1 goes down. */
static void
test_tcp_ipv6(void **state)
{
	static const struct tm_addr addrs[] = {{"v6", "::1"}};
	struct tm_pool pool = {"pool6", 1, addrs};
	struct tm_rule rules[] = {{0, 0}, {0, 1}};
	struct sl_probe_cfg pr[2];
	struct pump pu = {0};
	uint16_t port, closed_port;
	int tmp;

	(void)state;
	pu.listen_fd = tm_listen("::1", 0, &port);
	if (pu.listen_fd < 0)
		skip(); /* no IPv6 loopback here */
	tmp = tm_listen("::1", 0, &closed_port);
	assert_true(tmp >= 0);
	close(tmp);
	pr[0] = tm_probe("open", SL_PROBE_TCP, port, 1, 1, NULL);
	pr[1] = tm_probe("closed", SL_PROBE_TCP, closed_port, 1, 1, NULL);
	pu.p = tm_prober(NULL, tm_model("lb", pr, 2, &pool, 1, rules, 2));
	assert_int_equal(st_count(pu.p), 2);
	assert_string_equal(st_str(pu.p, 0, "ipAddress"), "::1");
	assert_string_equal(st_str(pu.p, 0, "probe"), "open");
	WAIT_UNTIL(&pu, SUCC(pu.p, 0) >= 2 && FAILS(pu.p, 1) >= 1);
	assert_string_equal(HEALTH(pu.p, 0), "Up");
	assert_string_equal(HEALTH(pu.p, 1), "Down");
	assert_string_equal(LASTERR(pu.p, 1), "connection refused");
	assert_int_equal(pu.changed, 1);
	/* One of the address's probes is down: the address is down. */
	assert_int_equal(sl_prober_health(pu.p, "lb", "pool6", "v6"), SL_HEALTH_DOWN);
	close(pu.listen_fd);
	sl_prober_free(pu.p);
}

/* Http: 200 is up; 503 is a failure "HTTP 503", down after numberOfProbes; the request's exact shape. */
static void
test_http_200_then_503(void **state)
{
	static const struct tm_addr addrs[] = {{"web1", "127.0.0.1"}};
	struct tm_pool pool = {"web", 1, addrs};
	struct tm_rule rule = {0, 0};
	struct srv_shared *sh = srv_shared_new();
	struct sl_probe_cfg pr;
	struct pump pu = {.listen_fd = -1};
	uint16_t port;
	pid_t pid;
	int lfd;

	(void)state;
	lfd = tm_listen("127.0.0.1", 0, &port);
	assert_true(lfd >= 0);
	pid = srv_start(lfd, NULL, sh);
	pr = tm_probe("http", SL_PROBE_HTTP, port, 2, 1, "/healthz?full=1");
	pu.p = tm_prober(NULL, tm_model("lb", &pr, 1, &pool, 1, &rule, 1));
	assert_string_equal(st_str(pu.p, 0, "protocol"), "Http");

	WAIT_UNTIL(&pu, SUCC(pu.p, 0) >= 2);
	assert_string_equal(HEALTH(pu.p, 0), "Up");
	assert_string_equal(LASTERR(pu.p, 0), "null");
	assert_true(sh->n_requests >= 1);
	assert_string_equal(sh->last_request,
			    "GET /healthz?full=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			    "User-Agent: sluice-probe\r\nConnection: close\r\n\r\n");

	sh->status = 503;
	WAIT_UNTIL(&pu, FAILS(pu.p, 0) >= 1);
	assert_string_equal(LASTERR(pu.p, 0), "HTTP 503");
	assert_string_equal(HEALTH(pu.p, 0), "Up");
	WAIT_UNTIL(&pu, FAILS(pu.p, 0) >= 2);
	assert_string_equal(HEALTH(pu.p, 0), "Down");
	assert_string_equal(LASTERR(pu.p, 0), "HTTP 503");
	assert_string_equal(st_str(pu.p, 0, "lastResult"), "Failure");
	assert_int_equal(pu.changed, 1);
	assert_int_equal(sl_prober_health(pu.p, "lb", "web", "web1"), SL_HEALTH_DOWN);

	/* A redirect is not a 200 either. */
	sh->status = 301;
	WAIT_UNTIL(&pu, strcmp(LASTERR(pu.p, 0), "HTTP 301") == 0);
	assert_string_equal(HEALTH(pu.p, 0), "Down");

	sh->status = 200;
	WAIT_UNTIL(&pu, SUCC(pu.p, 0) >= 1);
	assert_string_equal(HEALTH(pu.p, 0), "Up"); /* probeThreshold 1 */
	assert_int_equal(pu.changed, 2);

	sl_prober_free(pu.p);
	srv_stop(pid);
	munmap(sh, sizeof(*sh));
}

/* Https: a TLS server (self-signed, not verified) answering 200 is up; the request went over TLS. */
static void
test_https_200(void **state)
{
	static const struct tm_addr addrs[] = {{"tls1", "127.0.0.1"}};
	struct tm_pool pool = {"tls", 1, addrs};
	struct tm_rule rule = {0, 0};
	struct srv_shared *sh = srv_shared_new();
	SSL_CTX *tls = tm_tls_server_ctx();
	struct sl_probe_cfg pr;
	struct pump pu = {.listen_fd = -1};
	uint16_t port;
	pid_t pid;
	int lfd;

	(void)state;
	lfd = tm_listen("127.0.0.1", 0, &port);
	assert_true(lfd >= 0);
	pid = srv_start(lfd, tls, sh);
	pr = tm_probe("https", SL_PROBE_HTTPS, port, 1, 1, "/");
	pu.p = tm_prober(NULL, tm_model("lb", &pr, 1, &pool, 1, &rule, 1));
	WAIT_UNTIL(&pu, SUCC(pu.p, 0) >= 2);
	assert_string_equal(HEALTH(pu.p, 0), "Up");
	assert_string_equal(LASTERR(pu.p, 0), "null");
	assert_string_equal(st_str(pu.p, 0, "protocol"), "Https");
	assert_true(sh->n_requests >= 2);
	assert_string_equal(sh->last_request,
			    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: sluice-probe\r\n"
			    "Connection: close\r\n\r\n");
	assert_int_equal(FAILS(pu.p, 0), 0);

	/* A 503 over TLS is a failure like over HTTP. */
	sh->status = 503;
	WAIT_UNTIL(&pu, FAILS(pu.p, 0) >= 1);
	assert_string_equal(LASTERR(pu.p, 0), "HTTP 503");
	assert_string_equal(HEALTH(pu.p, 0), "Down");

	sl_prober_free(pu.p);
	srv_stop(pid);
	SSL_CTX_free(tls);
	munmap(sh, sizeof(*sh));
}

/* Https on plain TCP: a plain HTTP 200 and a silent listener are both failures (a connect is not enough). */
static void
test_https_on_plain_tcp_is_down(void **state)
{
	static const struct tm_addr addrs[] = {{"plain", "127.0.0.1"}};
	struct tm_pool pool = {"p", 1, addrs};
	struct tm_rule rules[] = {{0, 0}, {0, 1}};
	struct srv_shared *sh = srv_shared_new();
	struct sl_probe_cfg pr[2];
	struct pump pu = {.listen_fd = -1};
	uint16_t port, silent_port;
	int lfd, silent;
	pid_t pid;

	(void)state;
	lfd = tm_listen("127.0.0.1", 0, &port);
	silent = tm_listen("127.0.0.1", 0, &silent_port); /* the kernel accepts, nobody talks */
	assert_true(lfd >= 0);
	assert_true(silent >= 0);
	sh->mode = SRV_IMMEDIATE;
	pid = srv_start(lfd, NULL, sh);
	pr[0] = tm_probe("https-http", SL_PROBE_HTTPS, port, 1, 1, "/");
	pr[1] = tm_probe("https-silent", SL_PROBE_HTTPS, silent_port, 1, 1, "/");
	pu.p = tm_prober(NULL, tm_model("lb", pr, 2, &pool, 1, rules, 2));
	WAIT_UNTIL(&pu, FAILS(pu.p, 0) >= 1 && FAILS(pu.p, 1) >= 1);
	assert_string_equal(HEALTH(pu.p, 0), "Down");
	assert_string_equal(HEALTH(pu.p, 1), "Down");
	assert_int_equal(SUCC(pu.p, 0), 0);
	assert_int_equal(SUCC(pu.p, 1), 0);
	assert_memory_equal(LASTERR(pu.p, 0), "TLS handshake failed: ", 22);
	assert_string_equal(LASTERR(pu.p, 1), "timeout during the TLS handshake");
	assert_int_equal(sl_prober_health(pu.p, "lb", "p", "plain"), SL_HEALTH_DOWN);
	/* And it stays down. */
	WAIT_UNTIL(&pu, FAILS(pu.p, 0) >= 3 && FAILS(pu.p, 1) >= 3);
	assert_int_equal(SUCC(pu.p, 0), 0);
	assert_int_equal(pu.changed, 2);

	sl_prober_free(pu.p);
	close(silent);
	srv_stop(pid);
	munmap(sh, sizeof(*sh));
}

/* Sync keeps the state of persisting targets, drops removed ones, resets changed ones. */
static void
test_sync_keeps_state(void **state)
{
	static const struct tm_addr two[] = {{"a1", "127.0.0.1"}, {"a2", "127.0.0.2"}};
	static const struct tm_addr two_case[] = {{"A1", "127.0.0.1"}, {"A2", "127.0.0.2"}};
	static const struct tm_addr one[] = {{"a1", "127.0.0.1"}};
	struct tm_pool pools[] = {{"pool1", 2, two}, {"unprobed", 1, one}};
	struct tm_pool pools_case[] = {{"POOL1", 2, two_case}, {"unprobed", 1, one}};
	struct tm_pool pools_one[] = {{"pool1", 1, one}};
	/* Two rules share probe and pool (one target each address); one has no probe; one pool unprobed. */
	struct tm_rule rules[] = {{0, 0}, {0, 0}, {0, -1}, {1, -1}};
	struct sl_probe_cfg pr;
	struct pump pu = {0};
	double sent1, sent2;
	uint16_t port;

	(void)state;
	/* Bound to 127.0.0.1 only: 127.0.0.2 is refused. */
	pu.listen_fd = tm_listen("127.0.0.1", 0, &port);
	assert_true(pu.listen_fd >= 0);
	pr = tm_probe("tcp", SL_PROBE_TCP, port, 1, 1, NULL);
	pu.p = tm_prober(NULL, tm_model("lb1", &pr, 1, pools, 2, rules, 4));
	assert_int_equal(st_count(pu.p), 2);
	assert_string_equal(st_str(pu.p, 0, "address"), "a1");
	assert_string_equal(st_str(pu.p, 1, "address"), "a2");
	WAIT_UNTIL(&pu, SUCC(pu.p, 0) >= 2 && FAILS(pu.p, 1) >= 2);
	assert_string_equal(HEALTH(pu.p, 1), "Down");

	/* The same targets (names in another case): state kept, probes go on. */
	sent1 = SENT(pu.p, 0);
	sent2 = SENT(pu.p, 1);
	{
		struct sl_model *m = tm_model("LB1", &pr, 1, pools_case, 2, rules, 4);

		assert_int_equal(sl_prober_sync(pu.p, m), 0);
		sl_model_free(m);
	}
	assert_int_equal(st_count(pu.p), 2);
	assert_string_equal(st_str(pu.p, 0, "address"), "A1"); /* the new model's spelling */
	assert_true(SENT(pu.p, 0) >= sent1);
	assert_true(SENT(pu.p, 1) >= sent2);
	assert_string_equal(HEALTH(pu.p, 1), "Down");
	assert_string_equal(st_str(pu.p, 1, "lastResult"), "Failure");
	assert_int_equal(sl_prober_health(pu.p, "lb1", "pool1", "a2"), SL_HEALTH_DOWN);
	WAIT_UNTIL(&pu, SENT(pu.p, 0) >= sent1 + 2);
	assert_true(SUCC(pu.p, 0) >= 3);

	/* a2 removed: dropped; a1 kept. */
	sent1 = SENT(pu.p, 0);
	{
		struct sl_model *m = tm_model("lb1", &pr, 1, pools_one, 1, rules, 1);

		assert_int_equal(sl_prober_sync(pu.p, m), 0);
		sl_model_free(m);
	}
	assert_int_equal(st_count(pu.p), 1);
	assert_string_equal(st_str(pu.p, 0, "address"), "a1");
	assert_true(SENT(pu.p, 0) >= sent1);
	assert_int_equal(sl_prober_health(pu.p, "lb1", "pool1", "a2"), SL_HEALTH_UP);

	/* The probe's settings changed: a new target (fail-open, no result). */
	pr.interval_s = 2;
	{
		struct sl_model *m = tm_model("lb1", &pr, 1, pools_one, 1, rules, 1);

		assert_int_equal(sl_prober_sync(pu.p, m), 0);
		sl_model_free(m);
	}
	assert_int_equal(st_count(pu.p), 1);
	assert_int_equal(SENT(pu.p, 0), 0);
	assert_string_equal(st_str(pu.p, 0, "lastResult"), "null");
	assert_string_equal(HEALTH(pu.p, 0), "Up");
	WAIT_UNTIL(&pu, SUCC(pu.p, 0) >= 1);

	/* No model: no targets, nothing scheduled. */
	assert_int_equal(sl_prober_sync(pu.p, NULL), 0);
	assert_int_equal(st_count(pu.p), 0);
	assert_true(isinf(sl_prober_next_due(pu.p)));
	assert_int_equal(sl_prober_run(pu.p, mono()), 0);
	assert_int_equal(sl_prober_health(pu.p, "lb1", "pool1", "a1"), SL_HEALTH_UP);

	close(pu.listen_fd);
	sl_prober_free(pu.p);
}

/* Many targets at once: the heaps keep every one on schedule. */
static void
test_many_targets(void **state)
{
	enum { N = 64 };
	static char names[N][8], ips[N][16];
	struct tm_addr addrs[N];
	struct tm_pool pool = {"many", N, addrs};
	struct tm_rule rule = {0, 0};
	struct sl_probe_cfg pr;
	struct pump pu = {0};
	uint16_t port;
	int i, all;
	double t0;

	(void)state;
	pu.listen_fd = tm_listen("127.0.0.1", 0, &port);
	assert_true(pu.listen_fd >= 0);
	for (i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "m%d", i);
		snprintf(ips[i], sizeof(ips[i]), "127.0.0.%d", i % 2 ? 2 : 1);
		addrs[i] = (struct tm_addr){names[i], ips[i]};
	}
	pr = tm_probe("tcp", SL_PROBE_TCP, port, 1, 1, NULL);
	t0 = mono();
	pu.p = tm_prober(NULL, tm_model("lb", &pr, 1, &pool, 1, &rule, 1));
	assert_int_equal(st_count(pu.p), N);
	WAIT_UNTIL(&pu, ({
			   cJSON *a = sl_prober_status(pu.p), *o;
			   all = 1;
			   cJSON_ArrayForEach(o, a) {
				   if (cJSON_GetObjectItem(o, "probesSent")->valuedouble < 3)
					   all = 0;
			   }
			   cJSON_Delete(a);
			   all;
		   }));
	for (i = 0; i < N; i++) {
		assert_string_equal(HEALTH(pu.p, i), i % 2 ? "Down" : "Up");
		assert_int_equal(sl_prober_health(pu.p, "lb", "many", names[i]),
				 i % 2 ? SL_HEALTH_DOWN : SL_HEALTH_UP);
		/* one probe per interval (SCALE s), not more */
		assert_true(SENT(pu.p, i) <= (mono() - t0) / SCALE + 1.5);
	}
	assert_int_equal(pu.changed, N / 2);
	close(pu.listen_fd);
	sl_prober_free(pu.p);
}

/* The status shape, from a model the validator built (names, defaults, IPv6). */
static void
test_status_shape(void **state)
{
	static const char doc[] =
		"{\"virtualNetworks\":[{\"name\":\"vnet1\",\"properties\":{\"addressSpace\":"
		"{\"addressPrefixes\":[\"10.0.0.0/16\",\"fd00::/48\"]}}}],"
		"\"loadBalancers\":[{\"name\":\"lb1\",\"sku\":{\"name\":\"Standard\"},\"properties\":{"
		"\"frontendIPConfigurations\":[{\"name\":\"fe1\",\"properties\":{\"privateIPAddress\":\"192.0.2.1\"}},"
		"{\"name\":\"fe6\",\"properties\":{\"privateIPAddress\":\"2001:db8::1\"}}],"
		"\"probes\":[{\"name\":\"hp\",\"properties\":{\"protocol\":\"Http\",\"port\":8080,"
		"\"requestPath\":\"/healthz\",\"intervalInSeconds\":5}},"
		"{\"name\":\"tp\",\"properties\":{\"protocol\":\"Tcp\",\"port\":22}},"
		"{\"name\":\"unused\",\"properties\":{\"protocol\":\"Tcp\",\"port\":23}}],"
		"\"backendAddressPools\":[{\"name\":\"pool1\",\"properties\":{\"loadBalancerBackendAddresses\":["
		"{\"name\":\"a1\",\"properties\":{\"virtualNetwork\":{\"id\":\"vnet1\"},\"ipAddress\":\"10.0.0.4\"}},"
		"{\"name\":\"a2\",\"properties\":{\"virtualNetwork\":{\"id\":\"vnet1\"},\"ipAddress\":\"10.0.0.5\"}}]}},"
		"{\"name\":\"pool6\",\"properties\":{\"loadBalancerBackendAddresses\":["
		"{\"name\":\"b1\",\"properties\":{\"virtualNetwork\":{\"id\":\"vnet1\"},\"ipAddress\":\"fd00::4\"}}]}}],"
		"\"loadBalancingRules\":["
		"{\"name\":\"r1\",\"properties\":{\"frontendIPConfiguration\":{\"id\":\"fe1\"},"
		"\"backendAddressPool\":{\"id\":\"pool1\"},\"probe\":{\"id\":\"hp\"},\"protocol\":\"Tcp\",\"frontendPort\":80}},"
		"{\"name\":\"r6\",\"properties\":{\"frontendIPConfiguration\":{\"id\":\"fe6\"},"
		"\"backendAddressPool\":{\"id\":\"pool6\"},\"probe\":{\"id\":\"tp\"},\"protocol\":\"Tcp\",\"frontendPort\":22}}]}}]}";
	static const char *const keys[] = {
		"loadBalancer", "probe", "pool", "address", "ipAddress", "protocol", "port",
		"health", "consecutiveSuccesses", "consecutiveFailures", "lastResult", "lastError",
		"lastProbeAgoSeconds", "probesSent"};
	struct sl_error err;
	struct sl_model *m = sl_config_parse(doc, strlen(doc), "probe-test.json", &err);
	struct sl_prober *p;
	cJSON *a, *o;
	double t0 = mono();
	size_t k;

	(void)state;
	if (m == NULL) {
		char buf[1024];

		fail_msg("%s", sl_error_format(&err, buf, sizeof(buf)));
	}
	assert_int_equal(m->lbs[0].probes[0].number_of_probes, 2); /* the defaults the header documents */
	assert_int_equal(m->lbs[0].probes[0].probe_threshold, 1);
	p = sl_prober_create(NULL);
	assert_non_null(p);
	assert_int_equal(sl_prober_sync(p, m), 0);
	sl_model_free(m);
	/* First probes within min(interval, 1 s). */
	assert_true(sl_prober_next_due(p) >= t0 - 0.001);
	assert_true(sl_prober_next_due(p) <= mono() + 1.0);

	a = sl_prober_status(p);
	assert_non_null(a);
	assert_true(cJSON_IsArray(a));
	assert_int_equal(cJSON_GetArraySize(a), 3);
	cJSON_ArrayForEach(o, a) {
		assert_int_equal(cJSON_GetArraySize(o), (int)(sizeof(keys) / sizeof(keys[0])));
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			assert_non_null(cJSON_GetObjectItemCaseSensitive(o, keys[k]));
		assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "lastResult")));
		assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "lastError")));
		assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "lastProbeAgoSeconds")));
		assert_string_equal(cJSON_GetObjectItem(o, "health")->valuestring, "Up");
		assert_int_equal(cJSON_GetObjectItem(o, "probesSent")->valueint, 0);
		assert_int_equal(cJSON_GetObjectItem(o, "consecutiveSuccesses")->valueint, 0);
		assert_int_equal(cJSON_GetObjectItem(o, "consecutiveFailures")->valueint, 0);
	}
	cJSON_Delete(a);
	assert_string_equal(st_str(p, 0, "loadBalancer"), "lb1");
	assert_string_equal(st_str(p, 0, "probe"), "hp");
	assert_string_equal(st_str(p, 0, "pool"), "pool1");
	assert_string_equal(st_str(p, 0, "address"), "a1");
	assert_string_equal(st_str(p, 0, "ipAddress"), "10.0.0.4");
	assert_string_equal(st_str(p, 0, "protocol"), "Http");
	assert_int_equal(st_num(p, 0, "port"), 8080);
	assert_string_equal(st_str(p, 1, "address"), "a2");
	assert_string_equal(st_str(p, 2, "probe"), "tp");
	assert_string_equal(st_str(p, 2, "pool"), "pool6");
	assert_string_equal(st_str(p, 2, "ipAddress"), "fd00::4");
	assert_string_equal(st_str(p, 2, "protocol"), "Tcp");
	assert_int_equal(st_num(p, 2, "port"), 22);
	sl_prober_free(p);

	/* An empty prober: an empty array. */
	p = sl_prober_create(NULL);
	assert_non_null(p);
	a = sl_prober_status(p);
	assert_true(cJSON_IsArray(a));
	assert_int_equal(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);
	assert_true(isinf(sl_prober_next_due(p)));
	sl_prober_free(p);
}

/* Options: checked at create; probes leave from the source address. */
static void
test_create_options(void **state)
{
	static const struct tm_addr addrs[] = {{"a", "127.0.0.1"}};
	struct tm_pool pool = {"pool", 1, addrs};
	struct tm_rule rule = {0, 0};
	struct sl_prober_opts o;
	struct sl_probe_cfg pr;
	struct pump pu = {0};
	struct sl_prober *p;
	uint16_t port;

	(void)state;
	o = (struct sl_prober_opts){.source_v4 = "not-an-address"};
	errno = 0;
	assert_null(sl_prober_create(&o));
	assert_int_equal(errno, EINVAL);
	o = (struct sl_prober_opts){.source_v4 = "::1"};
	assert_null(sl_prober_create(&o));
	assert_int_equal(errno, EINVAL);
	o = (struct sl_prober_opts){.source_v6 = "127.0.0.1"};
	assert_null(sl_prober_create(&o));
	assert_int_equal(errno, EINVAL);
	o = (struct sl_prober_opts){.source_v4 = "192.0.2.77"}; /* not ours */
	assert_null(sl_prober_create(&o));
	assert_int_equal(errno, EADDRNOTAVAIL);
	o = (struct sl_prober_opts){.interface = "sl-no-such-if"};
	assert_null(sl_prober_create(&o));
	assert_true(errno == ENODEV || errno == EPERM);
	o = (struct sl_prober_opts){.interface = "an-interface-name-that-is-too-long"};
	assert_null(sl_prober_create(&o));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(sl_prober_sync(NULL, NULL), -EINVAL);
	p = sl_prober_create(NULL);
	assert_non_null(p);
	assert_int_equal(sl_prober_set_time_scale(p, 0), -EINVAL);
	assert_int_equal(sl_prober_set_time_scale(p, -1), -EINVAL);
	sl_prober_free(p);
	sl_prober_free(NULL);

	/* Probes come from source_v4. */
	pu.listen_fd = tm_listen("127.0.0.1", 0, &port);
	assert_true(pu.listen_fd >= 0);
	pr = tm_probe("tcp", SL_PROBE_TCP, port, 1, 1, NULL);
	o = (struct sl_prober_opts){.source_v4 = "127.0.0.3"};
	pu.p = tm_prober(&o, tm_model("lb", &pr, 1, &pool, 1, &rule, 1));
	WAIT_UNTIL(&pu, SUCC(pu.p, 0) >= 1 && pu.accepted >= 1);
	assert_int_equal(pu.peer.ss_family, AF_INET);
	assert_int_equal(((struct sockaddr_in *)&pu.peer)->sin_addr.s_addr, htonl(0x7f000003));
	sl_prober_free(pu.p);

	/* Bound to the loopback device (needs CAP_NET_RAW; skipped without). */
	o = (struct sl_prober_opts){.interface = "lo"};
	p = sl_prober_create(&o);
	if (p == NULL) {
		assert_int_equal(errno, EPERM);
	} else {
		assert_int_equal(sl_prober_set_time_scale(p, SCALE), 0);
		{
			struct sl_model *m = tm_model("lb", &pr, 1, &pool, 1, &rule, 1);

			assert_int_equal(sl_prober_sync(p, m), 0);
			sl_model_free(m);
		}
		pu.p = p;
		WAIT_UNTIL(&pu, SUCC(pu.p, 0) >= 1);
		sl_prober_free(p);
	}
	close(pu.listen_fd);
}

/* More targets than SL_PROBER_MAX_TARGETS: refused, the prober unchanged. */
static void
test_target_limit(void **state)
{
	static const struct tm_addr addrs[] = {{"a", "10.0.0.1"}};
	struct tm_pool pool = {"pool", 1, addrs};
	struct tm_rule rule = {0, 0};
	struct sl_probe_cfg pr = tm_probe("tcp", SL_PROBE_TCP, 80, 1, 1, NULL);
	struct sl_prober *p = tm_prober(NULL, tm_model("lb", &pr, 1, &pool, 1, &rule, 1));
	struct sl_model *m = tm_model("lb", &pr, 1, &pool, 1, &rule, 1);
	struct sl_pool_cfg *pc = &m->lbs[0].pools[0];
	uint32_t i;

	(void)state;
	free(pc->addresses);
	pc->n_addresses = SL_PROBER_MAX_TARGETS + 1;
	pc->addresses = calloc(pc->n_addresses, sizeof(*pc->addresses));
	assert_non_null(pc->addresses);
	for (i = 0; i < pc->n_addresses; i++) {
		snprintf(pc->addresses[i].name, sizeof(pc->addresses[i].name), "a%u", i);
		sl_ip_addr_from_v4(&pc->addresses[i].addr, htonl(0x0a000000u + i));
		pc->addresses[i].family = SL_AF_IPV4;
	}
	assert_int_equal(sl_prober_sync(p, m), -E2BIG);
	assert_int_equal(st_count(p), 1);
	/* Exactly the limit is fine. */
	pc->n_addresses = SL_PROBER_MAX_TARGETS;
	assert_int_equal(sl_prober_sync(p, m), 0);
	assert_int_equal(st_count(p), SL_PROBER_MAX_TARGETS);
	assert_int_equal(sl_prober_health(p, "lb", "pool", "a65535"), SL_HEALTH_UP);
	sl_model_free(m);
	sl_prober_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_up_down_up),
		cmocka_unit_test(test_tcp_ipv6),
		cmocka_unit_test(test_http_200_then_503),
		cmocka_unit_test(test_https_200),
		cmocka_unit_test(test_https_on_plain_tcp_is_down),
		cmocka_unit_test(test_sync_keeps_state),
		cmocka_unit_test(test_many_targets),
		cmocka_unit_test(test_status_shape),
		cmocka_unit_test(test_create_options),
		cmocka_unit_test(test_target_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
