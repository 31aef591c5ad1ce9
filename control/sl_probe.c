/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_probe.c: health probes of backend addresses, driven by the control
 * thread's poll loop (contract and semantics in sl_probe.h, docs/probes.md).
 *
 * DESIGN. Everything here runs on the control thread: no locks, no atomics.
 * Every target is one heap object (so a probe in flight keeps pointing at it
 * across sl_prober_sync(), which moves state from an old object to its new
 * one). A target is in exactly one of two min-heaps: "idle" ordered by its
 * next probe start, or "busy" (a probe in flight) ordered by that probe's
 * deadline; so finding due work is O(log n) and the poll loop's 10 ms wake-ups
 * cost nothing with 65536 targets. A probe in flight is a struct sl_probe_io:
 * a non-blocking socket registered (level-triggered) in the prober's epoll
 * with data.ptr = the io, and a small state machine (connect, TLS handshake,
 * send the request, read the status line) advanced on each event. TLS goes
 * through a BIO of our own that sends with MSG_NOSIGNAL, so a reset backend
 * cannot raise SIGPIPE in the daemon. Health lookups by "<lb>/<pool>/<address>"
 * use an open-addressed hash over the targets, rebuilt at each sync.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h> /* HUGE_VAL, isfinite: no libm needed */
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "sl_probe.h"

#define SL_PROBE_RESP_MAX 1024   /* the status line must end within this many bytes */
#define SL_PROBE_ERR_MAX 128     /* lastError text */
#define SL_PROBE_EVENTS 256      /* epoll events per epoll_wait() */
#define SL_PROBE_EVENT_ROUNDS 16 /* epoll_wait() calls per sl_prober_run(), at most */
#define SL_PROBE_FIRST_SPREAD 1.0 /* first probes start within min(interval, this) */

enum sl_probe_phase {
	SL_PH_CONNECT = 0,
	SL_PH_TLS,
	SL_PH_SEND,
	SL_PH_RECV,
};

struct sl_probe_target;

/* A probe in flight. */
struct sl_probe_io {
	struct sl_probe_target *t;
	int fd;
	uint32_t events; /* epoll interest now registered; 0 before the first */
	enum sl_probe_phase phase;
	int sys_errno; /* the last socket error the TLS BIO saw */
	SSL *ssl;
	char *req;
	size_t req_len, req_off;
	size_t resp_len;
	char resp[SL_PROBE_RESP_MAX];
};

struct sl_probe_target {
	/* Identity: the model's names and settings (one allocation: names). */
	char *names;
	const char *lb, *probe, *pool, *addr, *path;
	char *hkey; /* lower-case "<lb>/<pool>/<address>" */
	uint64_t hhash; /* hash of hkey */
	uint64_t ihash; /* hash of the whole identity */
	struct sl_ip_addr ip;
	uint8_t family; /* SL_AF_IPV4 or SL_AF_IPV6 */
	char ip_text[INET6_ADDRSTRLEN];
	enum sl_probe_proto proto;
	uint16_t port;
	uint32_t interval_s;
	uint32_t number_of_probes;
	uint32_t probe_threshold;

	/* State. */
	enum sl_health health;
	uint32_t successes, failures; /* consecutive */
	int8_t last_result;           /* -1 none yet, 0 failure, 1 success */
	char last_error[SL_PROBE_ERR_MAX]; /* "" = none */
	double last_done;             /* when the last result came */
	uint64_t probes_sent;
	double next_due;              /* next probe start */
	double deadline;              /* of the probe in flight */
	struct sl_probe_io *io;       /* non-NULL: a probe in flight (in the busy heap) */
	uint32_t hpos;                /* index in its heap */
	uint8_t taken;                /* sync scratch: state moved to a new target */
};

struct sl_heap {
	struct sl_probe_target **v;
	uint32_t n;
	bool busy; /* key: deadline (busy) or next_due (idle) */
};

struct sl_prober {
	int epfd;
	SSL_CTX *ssl_ctx;
	BIO_METHOD *bio_method;
	bool have_src4, have_src6;
	struct sockaddr_in src4;
	struct sockaddr_in6 src6;
	char ifname[IF_NAMESIZE];
	unsigned int ifindex;
	double scale;

	struct sl_probe_target **targets; /* model order */
	uint32_t n_targets;
	struct sl_probe_target **hidx; /* health index, open addressing, NULL = empty */
	uint32_t hmask;
	struct sl_heap idle, busy;
	uint32_t n_inflight;
	int changed;
	uint64_t epoch; /* health changes ever, see sl_prober_health_epoch() */
};

/* --- small helpers --------------------------------------------------------- */

static double
sl_probe_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t
sl_fnv(uint64_t h, const void *data, size_t len)
{
	const uint8_t *b = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

#define SL_FNV_SEED 14695981039346656037ull

/* FNV-1a over the ASCII-lower-cased string and its NUL. */
static uint64_t
sl_fnv_lower(uint64_t h, const char *s)
{
	for (;; s++) {
		uint8_t c = (uint8_t)*s;

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		h ^= c;
		h *= 1099511628211ull;
		if (c == 0)
			return h;
	}
}

/* errno as lastError text: strerror() with a lower-case first letter. */
static void
sl_errno_text(char *dst, size_t len, int err)
{
	snprintf(dst, len, "%s", strerror(err));
	if (dst[0] >= 'A' && dst[0] <= 'Z' && !(dst[1] >= 'A' && dst[1] <= 'Z'))
		dst[0] = (char)(dst[0] - 'A' + 'a');
}

static double
sl_probe_interval(const struct sl_prober *p, const struct sl_probe_target *t)
{
	return (double)t->interval_s * p->scale;
}

static double
sl_probe_timeout(const struct sl_prober *p, const struct sl_probe_target *t)
{
	double to = (double)t->interval_s;

	if (to > SL_PROBER_MAX_TIMEOUT_S)
		to = SL_PROBER_MAX_TIMEOUT_S;
	return to * p->scale;
}

/* --- heaps ----------------------------------------------------------------- */

static inline double
sl_heap_key(const struct sl_heap *h, const struct sl_probe_target *t)
{
	return h->busy ? t->deadline : t->next_due;
}

static void
sl_heap_set(struct sl_heap *h, uint32_t i, struct sl_probe_target *t)
{
	h->v[i] = t;
	t->hpos = i;
}

static void
sl_heap_up(struct sl_heap *h, uint32_t i)
{
	struct sl_probe_target *t = h->v[i];
	double k = sl_heap_key(h, t);

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (sl_heap_key(h, h->v[parent]) <= k)
			break;
		sl_heap_set(h, i, h->v[parent]);
		i = parent;
	}
	sl_heap_set(h, i, t);
}

static void
sl_heap_down(struct sl_heap *h, uint32_t i)
{
	struct sl_probe_target *t = h->v[i];
	double k = sl_heap_key(h, t);

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && sl_heap_key(h, h->v[c + 1]) < sl_heap_key(h, h->v[c]))
			c++;
		if (k <= sl_heap_key(h, h->v[c]))
			break;
		sl_heap_set(h, i, h->v[c]);
		i = c;
	}
	sl_heap_set(h, i, t);
}

/* The arrays are sized for every target at sync, so a push cannot fail. */
static void
sl_heap_push(struct sl_heap *h, struct sl_probe_target *t)
{
	h->v[h->n] = t;
	t->hpos = h->n;
	h->n++;
	sl_heap_up(h, h->n - 1);
}

static void
sl_heap_remove(struct sl_heap *h, struct sl_probe_target *t)
{
	uint32_t i = t->hpos;

	struct sl_probe_target *last;

	h->n--;
	if (i == h->n)
		return;
	last = h->v[h->n];
	sl_heap_set(h, i, last);
	sl_heap_up(h, i);
	sl_heap_down(h, last->hpos);
}

static struct sl_probe_target *
sl_heap_top(const struct sl_heap *h)
{
	return h->n > 0 ? h->v[0] : NULL;
}

/* --- the TLS BIO: the probe's socket, sent with MSG_NOSIGNAL ---------------- */

/*
 * What a send() or recv() of n bytes tells OpenSSL: the count, or -1 with
 * a retry flag set (the socket would block) or the error kept for the log.
 */
static int
sl_bio_result(BIO *b, struct sl_probe_io *io, ssize_t n, bool writing)
{
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		if (writing)
			BIO_set_retry_write(b);
		else
			BIO_set_retry_read(b);
	} else {
		io->sys_errno = errno;
	}
	return -1;
}

static int
sl_bio_write(BIO *b, const char *buf, int len)
{
	struct sl_probe_io *io = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	return sl_bio_result(b, io, send(io->fd, buf, (size_t)len, MSG_NOSIGNAL), true);
}

static int
sl_bio_read(BIO *b, char *buf, int len)
{
	struct sl_probe_io *io = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	return sl_bio_result(b, io, recv(io->fd, buf, (size_t)len, 0), false);
}

static long
sl_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int
sl_bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* --- probe results ---------------------------------------------------------- */

/*
 * End the probe in flight (if any) and record its result. kind: 1 success,
 * 0 failure, -1 local error (counted neither way).
 */
static void
sl_probe_finish(struct sl_prober *p, struct sl_probe_target *t, double now, int kind,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
sl_probe_io_free(struct sl_prober *p, struct sl_probe_io *io)
{
	if (io->ssl != NULL) {
		if (SSL_is_init_finished(io->ssl)) {
			ERR_clear_error();
			(void)SSL_shutdown(io->ssl); /* one close_notify, never waited for */
		}
		SSL_free(io->ssl);
		ERR_clear_error();
	}
	if (io->fd >= 0) {
		/* close() alone would leave it registered while a forked child holds a copy. */
		if (io->events != 0)
			(void)epoll_ctl(p->epfd, EPOLL_CTL_DEL, io->fd, NULL);
		close(io->fd);
	}
	free(io->req);
	free(io);
	p->n_inflight--;
}

static void
sl_probe_finish(struct sl_prober *p, struct sl_probe_target *t, double now, int kind,
		const char *fmt, ...)
{
	if (t->io != NULL) {
		sl_heap_remove(&p->busy, t);
		sl_probe_io_free(p, t->io);
		t->io = NULL;
	}
	if (fmt != NULL) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(t->last_error, sizeof(t->last_error), fmt, ap);
		va_end(ap);
	} else {
		t->last_error[0] = '\0';
	}
	if (kind > 0) {
		t->last_result = 1;
		t->last_done = now;
		t->failures = 0;
		if (t->successes < UINT32_MAX)
			t->successes++;
		if (t->health == SL_HEALTH_DOWN && t->successes >= t->probe_threshold) {
			t->health = SL_HEALTH_UP;
			p->changed++;
			p->epoch++;
		}
	} else if (kind == 0) {
		t->last_result = 0;
		t->last_done = now;
		t->successes = 0;
		if (t->failures < UINT32_MAX)
			t->failures++;
		if (t->health == SL_HEALTH_UP && t->failures >= t->number_of_probes) {
			t->health = SL_HEALTH_DOWN;
			p->changed++;
			p->epoch++;
		}
	}
	sl_heap_push(&p->idle, t);
}

static bool
sl_errno_is_local(int err)
{
	return err == EADDRNOTAVAIL || err == EAGAIN || err == ENOBUFS || err == ENOMEM ||
	       err == EMFILE || err == ENFILE;
}

/* Failure text for a TLS call that returned r with SSL_get_error() e. */
static void
sl_tls_reason(struct sl_probe_io *io, int e, char *dst, size_t len)
{
	unsigned long code = ERR_get_error();

	if (code != 0) {
		const char *reason = ERR_reason_error_string(code);

		if (reason != NULL)
			snprintf(dst, len, "%s", reason);
		else
			snprintf(dst, len, "OpenSSL error %lx", code);
	} else if (e == SSL_ERROR_SYSCALL && io->sys_errno != 0) {
		sl_errno_text(dst, len, io->sys_errno);
	} else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
		snprintf(dst, len, "connection closed by the server");
	} else {
		snprintf(dst, len, "SSL error %d", e);
	}
	ERR_clear_error();
}

/*
 * The response so far: 1 when the status line is complete (then *status),
 * 0 when more is needed, -1 when it cannot be a status line.
 */
static int
sl_parse_status_line(const char *buf, size_t len, int *status)
{
	const char *nl = memchr(buf, '\n', len);
	size_t i = 5, end;

	if (len >= 5 && memcmp(buf, "HTTP/", 5) != 0)
		return -1;
	if (nl == NULL)
		return len >= SL_PROBE_RESP_MAX - 1 ? -1 : 0;
	end = (size_t)(nl - buf);
	if (end < 5)
		return -1;
	while (i < end && ((buf[i] >= '0' && buf[i] <= '9') || buf[i] == '.'))
		i++;
	if (i == 5 || i + 4 > end || buf[i] != ' ')
		return -1;
	i++;
	if (!(buf[i] >= '0' && buf[i] <= '9') || !(buf[i + 1] >= '0' && buf[i + 1] <= '9') ||
	    !(buf[i + 2] >= '0' && buf[i + 2] <= '9'))
		return -1;
	if (i + 3 < end && buf[i + 3] != ' ' && buf[i + 3] != '\r')
		return -1;
	*status = (buf[i] - '0') * 100 + (buf[i + 1] - '0') * 10 + (buf[i + 2] - '0');
	return 1;
}

/* Register the io's interest (EPOLLIN or EPOLLOUT); false when epoll refuses. */
static bool
sl_probe_want(struct sl_prober *p, struct sl_probe_io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};
	int op = io->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;

	if (io->events == events)
		return true;
	if (epoll_ctl(p->epfd, op, io->fd, &ev) < 0)
		return false;
	io->events = events;
	return true;
}

static void
sl_probe_wait(struct sl_prober *p, struct sl_probe_target *t, double now, uint32_t events)
{
	if (!sl_probe_want(p, t->io, events)) {
		int err = errno;
		char e[64];

		sl_errno_text(e, sizeof(e), err);
		sl_probe_finish(p, t, now, -1, "local error: epoll: %s", e);
	}
}

static const char *
sl_phase_timeout_text(enum sl_probe_phase ph)
{
	switch (ph) {
	case SL_PH_CONNECT:
		return "timeout while connecting";
	case SL_PH_TLS:
		return "timeout during the TLS handshake";
	case SL_PH_SEND:
		return "timeout sending the request";
	case SL_PH_RECV:
		return "timeout waiting for the response";
	}
	return "timeout";
}

/* The response bytes so far: finish when they decide the result. true when finished. */
static bool
sl_probe_got(struct sl_prober *p, struct sl_probe_target *t, double now, bool eof)
{
	struct sl_probe_io *io = t->io;
	int status = 0, rc = sl_parse_status_line(io->resp, io->resp_len, &status);

	if (rc > 0) {
		if (status == 200)
			sl_probe_finish(p, t, now, 1, NULL);
		else
			sl_probe_finish(p, t, now, 0, "HTTP %d", status);
		return true;
	}
	if (rc < 0) {
		sl_probe_finish(p, t, now, 0, "invalid HTTP status line");
		return true;
	}
	if (eof) {
		sl_probe_finish(p, t, now, 0, "connection closed before the status line");
		return true;
	}
	return false;
}

static bool
sl_probe_tls_begin(struct sl_prober *p, struct sl_probe_target *t)
{
	struct sl_probe_io *io = t->io;
	BIO *b;

	ERR_clear_error();
	io->ssl = SSL_new(p->ssl_ctx);
	if (io->ssl == NULL)
		return false;
	b = BIO_new(p->bio_method);
	if (b == NULL)
		return false;
	BIO_set_data(b, io);
	SSL_set_bio(io->ssl, b, b);
	/* SNI = the address, as the Host header. */
	(void)SSL_set_tlsext_host_name(io->ssl, t->ip_text);
	SSL_set_connect_state(io->ssl);
	ERR_clear_error();
	return true;
}

/* Advance the probe in flight as far as the socket allows. */
static void
sl_probe_advance(struct sl_prober *p, struct sl_probe_target *t, double now)
{
	struct sl_probe_io *io = t->io;
	char why[SL_PROBE_ERR_MAX - 32];
	int r, e, err;
	ssize_t n;

	for (;;) {
		switch (io->phase) {
		case SL_PH_CONNECT: {
			socklen_t l = sizeof(err);

			err = 0;
			if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
				err = errno;
			if (err == EINPROGRESS || err == EALREADY) {
				sl_probe_wait(p, t, now, EPOLLOUT);
				return;
			}
			if (err != 0) {
				sl_errno_text(why, sizeof(why), err);
				sl_probe_finish(p, t, now, 0, "%s", why);
				return;
			}
			if (t->proto == SL_PROBE_TCP) {
				sl_probe_finish(p, t, now, 1, NULL); /* handshake done; close() sends FIN */
				return;
			}
			if (t->proto == SL_PROBE_HTTPS) {
				if (!sl_probe_tls_begin(p, t)) {
					sl_probe_finish(p, t, now, -1, "local error: cannot create a TLS session");
					return;
				}
				io->phase = SL_PH_TLS;
			} else {
				io->phase = SL_PH_SEND;
			}
			break;
		}
		case SL_PH_TLS:
			ERR_clear_error();
			r = SSL_connect(io->ssl);
			if (r == 1) {
				io->phase = SL_PH_SEND;
				break;
			}
			e = SSL_get_error(io->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				sl_probe_wait(p, t, now, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
				return;
			}
			sl_tls_reason(io, e, why, sizeof(why));
			sl_probe_finish(p, t, now, 0, "TLS handshake failed: %s", why);
			return;
		case SL_PH_SEND:
			if (io->ssl != NULL) {
				ERR_clear_error();
				r = SSL_write(io->ssl, io->req, (int)io->req_len);
				if (r > 0) {
					io->req_off = io->req_len;
				} else {
					e = SSL_get_error(io->ssl, r);
					if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
						sl_probe_wait(p, t, now,
							      e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
						return;
					}
					sl_tls_reason(io, e, why, sizeof(why));
					sl_probe_finish(p, t, now, 0, "TLS error: %s", why);
					return;
				}
			} else {
				n = send(io->fd, io->req + io->req_off, io->req_len - io->req_off,
					 MSG_NOSIGNAL);
				if (n < 0) {
					if (errno == EINTR)
						break;
					if (errno == EAGAIN || errno == EWOULDBLOCK) {
						sl_probe_wait(p, t, now, EPOLLOUT);
						return;
					}
					sl_errno_text(why, sizeof(why), errno);
					sl_probe_finish(p, t, now, 0, "%s", why);
					return;
				}
				io->req_off += (size_t)n;
			}
			if (io->req_off == io->req_len)
				io->phase = SL_PH_RECV;
			break;
		case SL_PH_RECV: {
			size_t room = SL_PROBE_RESP_MAX - 1 - io->resp_len;
			bool eof = false;

			if (io->ssl != NULL) {
				ERR_clear_error();
				r = SSL_read(io->ssl, io->resp + io->resp_len, (int)room);
				if (r > 0) {
					n = r;
				} else {
					e = SSL_get_error(io->ssl, r);
					if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
						sl_probe_wait(p, t, now,
							      e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
						return;
					}
					if (e == SSL_ERROR_ZERO_RETURN ||
					    (e == SSL_ERROR_SYSCALL && io->sys_errno == 0 &&
					     ERR_peek_error() == 0)) {
						ERR_clear_error();
						n = 0;
						eof = true;
					} else {
						sl_tls_reason(io, e, why, sizeof(why));
						sl_probe_finish(p, t, now, 0, "TLS error: %s", why);
						return;
					}
				}
			} else {
				n = recv(io->fd, io->resp + io->resp_len, room, 0);
				if (n < 0) {
					if (errno == EINTR)
						break;
					if (errno == EAGAIN || errno == EWOULDBLOCK) {
						sl_probe_wait(p, t, now, EPOLLIN);
						return;
					}
					sl_errno_text(why, sizeof(why), errno);
					sl_probe_finish(p, t, now, 0, "%s", why);
					return;
				}
				eof = n == 0;
			}
			io->resp_len += (size_t)n;
			io->resp[io->resp_len] = '\0';
			if (sl_probe_got(p, t, now, eof))
				return;
			break;
		}
		}
	}
}

/* The HTTP request of a target (malloc'd), NULL when out of memory. */
static char *
sl_probe_request(const struct sl_probe_target *t, size_t *len)
{
	const char *path = t->path[0] != '\0' ? t->path : "/";
	bool v6 = t->family == SL_AF_IPV6;
	char *s = NULL;
	int n;

	n = asprintf(&s,
		     "GET %s HTTP/1.1\r\nHost: %s%s%s\r\nUser-Agent: sluice-probe\r\n"
		     "Connection: close\r\n\r\n",
		     path, v6 ? "[" : "", t->ip_text, v6 ? "]" : "");
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return s;
}

/* Start a probe of t (just taken out of the idle heap). */
static void
sl_probe_start(struct sl_prober *p, struct sl_probe_target *t, double now)
{
	struct sockaddr_storage dst;
	struct sl_probe_io *io;
	socklen_t dlen;
	char why[64];
	int fd, err;

	t->next_due = now + sl_probe_interval(p, t);
	memset(&dst, 0, sizeof(dst));
	if (t->family == SL_AF_IPV6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&dst;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(t->port);
		memcpy(&s6->sin6_addr, t->ip.bytes, 16);
		if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
			s6->sin6_scope_id = p->ifindex;
		dlen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&dst;
		uint32_t v4 = sl_ip_addr_v4(&t->ip);

		s4->sin_family = AF_INET;
		s4->sin_port = htons(t->port);
		memcpy(&s4->sin_addr, &v4, 4);
		dlen = sizeof(*s4);
	}

	io = calloc(1, sizeof(*io));
	if (io == NULL) {
		sl_probe_finish(p, t, now, -1, "local error: out of memory");
		return;
	}
	io->fd = -1;
	io->t = t;
	if (t->proto != SL_PROBE_TCP) {
		io->req = sl_probe_request(t, &io->req_len);
		if (io->req == NULL) {
			free(io);
			sl_probe_finish(p, t, now, -1, "local error: out of memory");
			return;
		}
	}
	fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		goto local;
	io->fd = fd;
	if (p->ifname[0] != '\0' &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, p->ifname, (socklen_t)strlen(p->ifname)) < 0)
		goto local;
	if (dst.ss_family == AF_INET && p->have_src4 &&
	    bind(fd, (const struct sockaddr *)&p->src4, sizeof(p->src4)) < 0)
		goto local;
	if (dst.ss_family == AF_INET6 && p->have_src6 &&
	    bind(fd, (const struct sockaddr *)&p->src6, sizeof(p->src6)) < 0)
		goto local;

	/* From here the probe is in flight: sl_probe_finish() cleans up. */
	t->io = io;
	t->deadline = now + sl_probe_timeout(p, t);
	sl_heap_push(&p->busy, t);
	p->n_inflight++;
	t->probes_sent++;
	if (connect(fd, (const struct sockaddr *)&dst, dlen) == 0) {
		sl_probe_advance(p, t, now);
		return;
	}
	err = errno;
	if (err == EINPROGRESS) {
		sl_probe_wait(p, t, now, EPOLLOUT);
		return;
	}
	sl_errno_text(why, sizeof(why), err);
	if (sl_errno_is_local(err)) {
		t->probes_sent--;
		sl_probe_finish(p, t, now, -1, "local error: connect: %s", why);
	} else {
		sl_probe_finish(p, t, now, 0, "%s", why);
	}
	return;

local:
	err = errno;
	sl_errno_text(why, sizeof(why), err);
	if (io->fd >= 0)
		close(io->fd);
	free(io->req);
	free(io);
	sl_probe_finish(p, t, now, -1, "local error: %s", why);
}

/* --- create / free --------------------------------------------------------- */

/* Check that a probe socket can take the option; 0 or -errno. */
static int
sl_probe_try_socket(int family, const struct sockaddr *src, socklen_t slen, const char *ifname)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP), rc = 0;

	if (fd < 0)
		return -errno;
	if (ifname != NULL &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0)
		rc = -errno;
	if (rc == 0 && src != NULL && bind(fd, src, slen) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

struct sl_prober *
sl_prober_create(const struct sl_prober_opts *o)
{
	struct sl_prober *p;
	int rc = 0;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->epfd = -1;
	p->scale = 1.0;
	p->busy.busy = true;
	if (o != NULL && o->interface != NULL) {
		if (o->interface[0] == '\0' || strlen(o->interface) >= sizeof(p->ifname)) {
			rc = -EINVAL;
			goto fail;
		}
		snprintf(p->ifname, sizeof(p->ifname), "%s", o->interface);
		p->ifindex = if_nametoindex(p->ifname);
		rc = sl_probe_try_socket(AF_INET, NULL, 0, p->ifname);
		if (rc == -EAFNOSUPPORT)
			rc = sl_probe_try_socket(AF_INET6, NULL, 0, p->ifname);
		if (rc < 0)
			goto fail;
	}
	if (o != NULL && o->source_v4 != NULL) {
		p->src4.sin_family = AF_INET;
		if (inet_pton(AF_INET, o->source_v4, &p->src4.sin_addr) != 1) {
			rc = -EINVAL;
			goto fail;
		}
		p->have_src4 = true;
		rc = sl_probe_try_socket(AF_INET, (const struct sockaddr *)&p->src4, sizeof(p->src4),
					 NULL);
		if (rc < 0)
			goto fail;
	}
	if (o != NULL && o->source_v6 != NULL) {
		p->src6.sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, o->source_v6, &p->src6.sin6_addr) != 1) {
			rc = -EINVAL;
			goto fail;
		}
		if (IN6_IS_ADDR_LINKLOCAL(&p->src6.sin6_addr))
			p->src6.sin6_scope_id = p->ifindex;
		p->have_src6 = true;
		rc = sl_probe_try_socket(AF_INET6, (const struct sockaddr *)&p->src6, sizeof(p->src6),
					 NULL);
		if (rc < 0)
			goto fail;
	}
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0) {
		rc = -errno;
		goto fail;
	}
	p->ssl_ctx = SSL_CTX_new(TLS_client_method());
	p->bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sluice probe socket");
	if (p->ssl_ctx == NULL || p->bio_method == NULL ||
	    BIO_meth_set_write(p->bio_method, sl_bio_write) != 1 ||
	    BIO_meth_set_read(p->bio_method, sl_bio_read) != 1 ||
	    BIO_meth_set_ctrl(p->bio_method, sl_bio_ctrl) != 1 ||
	    BIO_meth_set_create(p->bio_method, sl_bio_create) != 1) {
		ERR_clear_error();
		rc = -ENOMEM;
		goto fail;
	}
	/* A health probe: no certificate verification (as Azure's). */
	SSL_CTX_set_verify(p->ssl_ctx, SSL_VERIFY_NONE, NULL);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* A server that closes after its answer without close_notify is fine. */
	SSL_CTX_set_options(p->ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	return p;

fail:
	sl_prober_free(p);
	errno = -rc;
	return NULL;
}

static void
sl_target_free(struct sl_prober *p, struct sl_probe_target *t)
{
	if (t == NULL)
		return;
	if (t->io != NULL)
		sl_probe_io_free(p, t->io);
	free(t->names);
	free(t);
}

void
sl_prober_free(struct sl_prober *p)
{
	uint32_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n_targets; i++)
		sl_target_free(p, p->targets[i]);
	free(p->targets);
	free(p->hidx);
	free(p->idle.v);
	free(p->busy.v);
	if (p->ssl_ctx != NULL)
		SSL_CTX_free(p->ssl_ctx);
	if (p->bio_method != NULL)
		BIO_meth_free(p->bio_method);
	if (p->epfd >= 0)
		close(p->epfd);
	free(p);
}

int
sl_prober_set_time_scale(struct sl_prober *p, double scale)
{
	if (p == NULL || !(scale > 0) || !isfinite(scale))
		return -EINVAL;
	p->scale = scale;
	return 0;
}

/* --- sync ------------------------------------------------------------------ */

/* A target: member a (labelled addr) of pool of load balancer lb (its label), probed by pr. */
static struct sl_probe_target *
sl_target_new(const char *lb, const struct sl_probe_cfg *pr, const struct sl_pool_cfg *pool,
	      const char *addr, const struct sl_address *a)
{
	size_t l_lb = strlen(lb) + 1, l_pr = strlen(pr->name) + 1;
	size_t l_pool = strlen(pool->name) + 1, l_addr = strlen(addr) + 1;
	size_t l_path = strnlen(pr->request_path, sizeof(pr->request_path) - 1) + 1;
	size_t l_hkey = l_lb + l_pool + l_addr, i;
	struct sl_probe_target *t = calloc(1, sizeof(*t));
	char *s;
	uint64_t h;

	if (t == NULL)
		return NULL;
	s = malloc(l_lb + l_pr + l_pool + l_addr + l_path + l_hkey);
	if (s == NULL) {
		free(t);
		return NULL;
	}
	t->names = s;
	memcpy(s, lb, l_lb);
	t->lb = s;
	s += l_lb;
	memcpy(s, pr->name, l_pr);
	t->probe = s;
	s += l_pr;
	memcpy(s, pool->name, l_pool);
	t->pool = s;
	s += l_pool;
	memcpy(s, addr, l_addr);
	t->addr = s;
	s += l_addr;
	memcpy(s, pr->request_path, l_path - 1);
	s[l_path - 1] = '\0';
	t->path = s;
	s += l_path;
	snprintf(s, l_hkey, "%s/%s/%s", lb, pool->name, addr);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
	}
	t->hkey = s;
	t->hhash = sl_fnv(SL_FNV_SEED, s, strlen(s));

	t->ip = a->addr;
	t->family = a->family == SL_AF_IPV6 ? SL_AF_IPV6 : SL_AF_IPV4;
	if (t->family == SL_AF_IPV4 && !sl_ip_addr_is_v4(&t->ip))
		t->family = SL_AF_IPV6;
	sl_ip_addr_format(&t->ip, t->ip_text, sizeof(t->ip_text));
	t->proto = pr->protocol;
	t->port = pr->port;
	t->interval_s = pr->interval_s > 0 ? pr->interval_s : 1;
	t->number_of_probes = pr->number_of_probes > 0 ? pr->number_of_probes : 1;
	t->probe_threshold = pr->probe_threshold > 0 ? pr->probe_threshold : 1;

	h = sl_fnv_lower(SL_FNV_SEED, t->lb);
	h = sl_fnv_lower(h, t->probe);
	h = sl_fnv_lower(h, t->pool);
	h = sl_fnv_lower(h, t->addr);
	h = sl_fnv(h, t->ip.bytes, sizeof(t->ip.bytes));
	h = sl_fnv(h, t->path, strlen(t->path));
	h = sl_fnv(h, &t->port, sizeof(t->port));
	h = sl_fnv(h, &t->interval_s, sizeof(t->interval_s));
	h = sl_fnv(h, &t->number_of_probes, sizeof(t->number_of_probes));
	h = sl_fnv(h, &t->probe_threshold, sizeof(t->probe_threshold));
	h = sl_fnv(h, &t->proto, sizeof(t->proto));
	t->ihash = h;

	t->health = SL_HEALTH_UP;
	t->last_result = -1;
	return t;
}

static bool
sl_target_same(const struct sl_probe_target *a, const struct sl_probe_target *b)
{
	return a->ihash == b->ihash && strcasecmp(a->lb, b->lb) == 0 &&
	       strcasecmp(a->probe, b->probe) == 0 && strcasecmp(a->pool, b->pool) == 0 &&
	       strcasecmp(a->addr, b->addr) == 0 && sl_ip_addr_eq(&a->ip, &b->ip) &&
	       a->family == b->family && a->proto == b->proto && a->port == b->port &&
	       a->interval_s == b->interval_s && a->number_of_probes == b->number_of_probes &&
	       a->probe_threshold == b->probe_threshold && strcmp(a->path, b->path) == 0;
}

static uint32_t
sl_pow2_at_least(uint64_t n)
{
	uint32_t c = 16;

	while (c < n)
		c <<= 1;
	return c;
}

/* Whether rule (probe pi, pool qi) exists in lb; used[] is n_probes x n_pools. */
static int
sl_lb_used_pairs(const struct sl_lb *lb, uint8_t **used_out, uint64_t *n_targets)
{
	uint8_t *used = NULL;
	uint32_t ri, pi, qi;

	*used_out = NULL;
	if (lb->n_probes == 0 || lb->n_pools == 0)
		return 0;
	used = calloc((size_t)lb->n_probes * lb->n_pools, 1);
	if (used == NULL)
		return -ENOMEM;
	for (ri = 0; ri < lb->n_rules; ri++) {
		const struct sl_rule_cfg *r = &lb->rules[ri];

		if (r->probe < 0 || (uint32_t)r->probe >= lb->n_probes || r->pool < 0 ||
		    (uint32_t)r->pool >= lb->n_pools)
			continue;
		used[(size_t)r->probe * lb->n_pools + (size_t)r->pool] = 1;
	}
	for (pi = 0; pi < lb->n_probes; pi++) {
		for (qi = 0; qi < lb->n_pools; qi++) {
			if (used[(size_t)pi * lb->n_pools + qi])
				*n_targets += lb->pools[qi].n_addresses;
		}
	}
	*used_out = used;
	return 0;
}

int
sl_prober_sync(struct sl_prober *p, const struct sl_model *m)
{
	struct sl_probe_target **nt = NULL, **oidx = NULL, **hidx = NULL, **idle = NULL,
			       **busy = NULL;
	uint32_t i, li, omask = 0, hmask = 0, k = 0;
	uint64_t n = 0;
	double now;
	int rc = 0;

	if (p == NULL) {
		errno = EINVAL;
		return -EINVAL;
	}
	/* Count. */
	for (li = 0; m != NULL && li < m->n_lbs; li++) {
		uint8_t *used;

		rc = sl_lb_used_pairs(&m->lbs[li], &used, &n);
		free(used);
		if (rc < 0) {
			errno = -rc;
			return rc;
		}
	}
	if (n > SL_PROBER_MAX_TARGETS) {
		errno = E2BIG;
		return -E2BIG;
	}

	/* Allocate everything the commit needs, so the commit cannot fail. */
	nt = calloc(n > 0 ? n : 1, sizeof(*nt));
	idle = calloc(n > 0 ? n : 1, sizeof(*idle));
	busy = calloc(n > 0 ? n : 1, sizeof(*busy));
	hmask = sl_pow2_at_least(2 * n) - 1;
	hidx = calloc((size_t)hmask + 1, sizeof(*hidx));
	omask = sl_pow2_at_least(2 * (uint64_t)p->n_targets) - 1;
	oidx = calloc((size_t)omask + 1, sizeof(*oidx));
	if (nt == NULL || idle == NULL || busy == NULL || hidx == NULL || oidx == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	for (li = 0; m != NULL && li < m->n_lbs; li++) {
		const struct sl_lb *lb = &m->lbs[li];
		uint64_t dummy = 0;
		uint8_t *used;
		uint32_t pi, qi, ai;

		rc = sl_lb_used_pairs(lb, &used, &dummy);
		if (rc < 0)
			goto fail;
		for (pi = 0; used != NULL && pi < lb->n_probes; pi++) {
			for (qi = 0; qi < lb->n_pools; qi++) {
				const struct sl_pool_cfg *pool = &lb->pools[qi];

				if (!used[(size_t)pi * lb->n_pools + qi])
					continue;
				for (ai = 0; ai < pool->n_addresses; ai++) {
					char addr[SL_ADDR_LABEL_MAX];

					sl_address_label(m, &pool->addresses[ai], addr, sizeof(addr));
					nt[k] = sl_target_new(lb->label, &lb->probes[pi], pool, addr,
							      &pool->addresses[ai]);
					if (nt[k] == NULL) {
						free(used);
						rc = -ENOMEM;
						goto fail;
					}
					k++;
				}
			}
		}
		free(used);
	}

	/* Commit. */
	now = sl_probe_now();
	for (i = 0; i < p->n_targets; i++) {
		struct sl_probe_target *o = p->targets[i];
		uint32_t j = (uint32_t)o->ihash & omask;

		o->taken = 0;
		while (oidx[j] != NULL)
			j = (j + 1) & omask;
		oidx[j] = o;
	}
	for (i = 0; i < k; i++) {
		struct sl_probe_target *t = nt[i], *o = NULL;
		uint32_t j = (uint32_t)t->ihash & omask;

		for (; oidx[j] != NULL; j = (j + 1) & omask) {
			if (!oidx[j]->taken && sl_target_same(oidx[j], t)) {
				o = oidx[j];
				break;
			}
		}
		if (o != NULL) {
			o->taken = 1;
			t->health = o->health;
			t->successes = o->successes;
			t->failures = o->failures;
			t->last_result = o->last_result;
			memcpy(t->last_error, o->last_error, sizeof(t->last_error));
			t->last_done = o->last_done;
			t->probes_sent = o->probes_sent;
			t->next_due = o->next_due;
			t->deadline = o->deadline;
			t->io = o->io;
			if (t->io != NULL)
				t->io->t = t;
			o->io = NULL;
		} else {
			double spread = sl_probe_interval(p, t);

			if (spread > SL_PROBE_FIRST_SPREAD)
				spread = SL_PROBE_FIRST_SPREAD;
			/* A fixed fraction from the identity: first probes spread, reproducibly. */
			t->next_due = now + spread * (double)(t->ihash >> 11) * 0x1.0p-53;
		}
	}
	for (i = 0; i < p->n_targets; i++) {
		/* a dropped target that was down may leave its backend up */
		if (!p->targets[i]->taken && p->targets[i]->health == SL_HEALTH_DOWN)
			p->epoch++;
		sl_target_free(p, p->targets[i]); /* closes the sockets of dropped targets */
	}
	free(p->targets);
	free(p->hidx);
	free(p->idle.v);
	free(p->busy.v);
	free(oidx);
	p->targets = nt;
	p->n_targets = k;
	p->hidx = hidx;
	p->hmask = hmask;
	p->idle.v = idle;
	p->idle.n = 0;
	p->busy.v = busy;
	p->busy.n = 0;
	for (i = 0; i < k; i++) {
		struct sl_probe_target *t = nt[i];
		uint32_t j = (uint32_t)t->hhash & hmask;

		sl_heap_push(t->io != NULL ? &p->busy : &p->idle, t);
		while (hidx[j] != NULL)
			j = (j + 1) & hmask;
		hidx[j] = t;
	}
	return 0;

fail:
	for (i = 0; i < k; i++)
		sl_target_free(p, nt[i]);
	free(nt);
	free(idle);
	free(busy);
	free(hidx);
	free(oidx);
	errno = -rc;
	return rc;
}

/* --- run ------------------------------------------------------------------- */

int
sl_prober_fd(const struct sl_prober *p)
{
	return p != NULL ? p->epfd : -1;
}

double
sl_prober_next_due(const struct sl_prober *p)
{
	const struct sl_probe_target *t;
	double next = HUGE_VAL;

	if (p == NULL)
		return next;
	t = sl_heap_top(&p->busy);
	if (t != NULL)
		next = t->deadline;
	t = sl_heap_top(&p->idle);
	if (t != NULL && p->n_inflight < SL_PROBER_MAX_SOCKETS && t->next_due < next)
		next = t->next_due;
	return next;
}

int
sl_prober_run(struct sl_prober *p, double now)
{
	struct epoll_event ev[SL_PROBE_EVENTS];
	struct sl_probe_target *t;
	int changed, n, i, round;

	if (p == NULL)
		return 0;
	/* Socket events (level-triggered: what is left over comes back next time). */
	for (round = 0; round < SL_PROBE_EVENT_ROUNDS; round++) {
		n = epoll_wait(p->epfd, ev, SL_PROBE_EVENTS, 0);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			struct sl_probe_io *io = ev[i].data.ptr;

			sl_probe_advance(p, io->t, now);
		}
		if (n < SL_PROBE_EVENTS)
			break;
	}
	/* Timeouts. */
	while ((t = sl_heap_top(&p->busy)) != NULL && t->deadline <= now)
		sl_probe_finish(p, t, now, 0, "%s", sl_phase_timeout_text(t->io->phase));
	/* Due probes, as many as the socket budget allows. */
	while (p->n_inflight < SL_PROBER_MAX_SOCKETS && (t = sl_heap_top(&p->idle)) != NULL &&
	       t->next_due <= now) {
		sl_heap_remove(&p->idle, t);
		sl_probe_start(p, t, now);
	}
	changed = p->changed;
	p->changed = 0;
	return changed;
}

/* --- queries --------------------------------------------------------------- */

uint64_t
sl_prober_health_epoch(const struct sl_prober *p)
{
	return p != NULL ? p->epoch : 0;
}

enum sl_health
sl_prober_health(const struct sl_prober *p, const char *lb, const char *pool, const char *address)
{
	char key[SL_LABEL_MAX + SL_RES_NAME_MAX + SL_ADDR_LABEL_MAX + 4];
	uint64_t h;
	uint32_t j;
	size_t i;
	int n;

	if (p == NULL || p->n_targets == 0 || lb == NULL || pool == NULL || address == NULL)
		return SL_HEALTH_UP;
	n = snprintf(key, sizeof(key), "%s/%s/%s", lb, pool, address);
	if (n < 0 || (size_t)n >= sizeof(key))
		return SL_HEALTH_UP; /* longer than any model name: not a target */
	for (i = 0; key[i] != '\0'; i++) {
		if (key[i] >= 'A' && key[i] <= 'Z')
			key[i] = (char)(key[i] - 'A' + 'a');
	}
	h = sl_fnv(SL_FNV_SEED, key, (size_t)n);
	for (j = (uint32_t)h & p->hmask; p->hidx[j] != NULL; j = (j + 1) & p->hmask) {
		const struct sl_probe_target *t = p->hidx[j];

		if (t->hhash == h && t->health == SL_HEALTH_DOWN && strcmp(t->hkey, key) == 0)
			return SL_HEALTH_DOWN;
	}
	return SL_HEALTH_UP;
}

static const char *
sl_probe_proto_name(enum sl_probe_proto proto)
{
	switch (proto) {
	case SL_PROBE_TCP:
		return "Tcp";
	case SL_PROBE_HTTP:
		return "Http";
	case SL_PROBE_HTTPS:
		return "Https";
	}
	return "Tcp";
}

cJSON *
sl_prober_status(const struct sl_prober *p)
{
	cJSON *arr = cJSON_CreateArray(), *o;
	double now = sl_probe_now();
	uint32_t i;

	if (arr == NULL)
		goto nomem;
	for (i = 0; p != NULL && i < p->n_targets; i++) {
		const struct sl_probe_target *t = p->targets[i];
		bool ok = true;

		o = cJSON_CreateObject();
		if (o == NULL || !cJSON_AddItemToArray(arr, o))
			goto nomem_o;
		ok = ok && cJSON_AddStringToObject(o, "loadBalancer", t->lb) != NULL;
		ok = ok && cJSON_AddStringToObject(o, "probe", t->probe) != NULL;
		ok = ok && cJSON_AddStringToObject(o, "pool", t->pool) != NULL;
		ok = ok && cJSON_AddStringToObject(o, "address", t->addr) != NULL;
		ok = ok && cJSON_AddStringToObject(o, "ipAddress", t->ip_text) != NULL;
		ok = ok && cJSON_AddStringToObject(o, "protocol", sl_probe_proto_name(t->proto)) != NULL;
		ok = ok && cJSON_AddNumberToObject(o, "port", t->port) != NULL;
		ok = ok && cJSON_AddStringToObject(o, "health",
						   t->health == SL_HEALTH_UP ? "Up" : "Down") != NULL;
		ok = ok && cJSON_AddNumberToObject(o, "consecutiveSuccesses", t->successes) != NULL;
		ok = ok && cJSON_AddNumberToObject(o, "consecutiveFailures", t->failures) != NULL;
		if (t->last_result < 0)
			ok = ok && cJSON_AddNullToObject(o, "lastResult") != NULL;
		else
			ok = ok && cJSON_AddStringToObject(o, "lastResult",
							   t->last_result ? "Success" : "Failure") != NULL;
		if (t->last_error[0] == '\0')
			ok = ok && cJSON_AddNullToObject(o, "lastError") != NULL;
		else
			ok = ok && cJSON_AddStringToObject(o, "lastError", t->last_error) != NULL;
		if (t->last_result < 0) {
			ok = ok && cJSON_AddNullToObject(o, "lastProbeAgoSeconds") != NULL;
		} else {
			double ago = now - t->last_done;

			/* milliseconds are enough; rounded without libm */
			ago = ago < 0 ? 0 : (double)(int64_t)(ago * 1000.0 + 0.5) / 1000.0;
			ok = ok && cJSON_AddNumberToObject(o, "lastProbeAgoSeconds", ago) != NULL;
		}
		ok = ok && cJSON_AddNumberToObject(o, "probesSent", (double)t->probes_sent) != NULL;
		if (!ok)
			goto nomem;
	}
	return arr;

nomem_o:
	cJSON_Delete(o);
nomem:
	cJSON_Delete(arr);
	errno = ENOMEM;
	return NULL;
}
