/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_announce.c: frontend announcements through BIRD 2 and the host's
 * service state (see sl_announce.h for the contract and the DESIGN note).
 *
 * The BIRD client opens one connection per reconfiguration: connect,
 * greeting "0001 BIRD x.y.z ready.", "configure\n", lines up to the final
 * one ("NNNN text": a code and a space; "NNNN-text" and " text" lines
 * continue), then close. BIRD reads its configuration, and so the
 * generated include, when it takes the command: a file rewritten after the
 * command was sent needs another one (file_seq against sent_seq).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sl_announce.h"
#include "sl_json.h"

#define SL_BIRD_LINE_MAX 512
#define SL_BIRD_MSG_MAX 512
#define SL_TIME_MAX 32 /* "2024-01-02T03:04:05Z" and the NUL */

enum sl_bird_phase {
	SL_PHASE_IDLE = 0, /* no connection */
	SL_PHASE_CONNECTING,
	SL_PHASE_GREETING, /* connected, waiting for 0001 */
	SL_PHASE_SENDING,  /* "configure\n" partly written */
	SL_PHASE_ANSWER,   /* waiting for the final line */
};

struct sl_announce {
	char *bird_config;
	char *bird_socket;
	char *state_dir;
	double retry_s, answer_s;

	enum sl_service_state state;
	char since[SL_TIME_MAX];
	uint64_t packets_at_withdrawal;

	struct sl_announce_frontend *fe;
	uint32_t n_fe;
	char *written; /* the text last written to bird_config; NULL: none yet */
	char *unwritten; /* a text whose write failed, written again by run() */

	/* BIRD client */
	enum sl_bird_state bird;
	char message[SL_BIRD_MSG_MAX];
	char last_reconfigure[SL_TIME_MAX];
	uint64_t reconfigures;
	uint64_t file_seq; /* writes of the file so far */
	uint64_t done_seq; /* the file_seq BIRD last reconfigured with */
	uint64_t sent_seq; /* the file_seq of the configure in flight */
	enum sl_bird_phase phase;
	int fd;
	double deadline; /* of the attempt in flight */
	double retry_at; /* next attempt after a failure; 0: now */
	size_t sent;
	char in[SL_BIRD_LINE_MAX * 4];
	size_t in_len;
	char answer[SL_BIRD_MSG_MAX]; /* the answer's lines so far, joined */
};

static const char *const state_names[] = {"InService", "OutOfService", "Stopping"};
static const char *const bird_names[] = {"Off", "Pending", "Reconfigured", "Unreachable",
					 "Refused"};
static const char *const reason_names[] = {"Announced",        "OutOfService", "Stopping",
					   "NoHealthyBackend", "NoRule",       "AnnouncementsOff"};

const char *
sl_service_state_name(enum sl_service_state s)
{
	return (unsigned int)s < 3 ? state_names[s] : "?";
}

const char *
sl_bird_state_name(enum sl_bird_state s)
{
	return (unsigned int)s < 5 ? bird_names[s] : "?";
}

const char *
sl_announce_reason_name(enum sl_announce_reason r)
{
	return (unsigned int)r < 6 ? reason_names[r] : "?";
}

/* RFC 3339 UTC, to the second. */
static void
sl_now_rfc3339(char *buf)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, SL_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ------------------------------------------------------------------------ */
/* The decision                                                             */
/* ------------------------------------------------------------------------ */

static int
sl_fe_cmp(const void *x, const void *y)
{
	const struct sl_announce_frontend *a = x, *b = y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr.bytes, b->addr.bytes, sizeof(a->addr.bytes));
}

/* The reason for an address in service: does some rule of it have a usable backend? */
static enum sl_announce_reason
sl_usable_reason(const struct sl_snapshot *s, const struct sl_ip_addr *addr)
{
	bool has_rule = false;

	for (uint32_t r = 0; s != NULL && r < s->n_rules; r++) {
		const struct sl_rule *rule = &s->rules[r];
		if (!sl_ip_addr_eq(&rule->frontend, addr))
			continue;
		has_rule = true;
		const struct sl_pool *p = &s->pools[rule->pool];
		for (uint32_t i = 0; i < p->n_members; i++)
			if (s->backends[p->members[i]].usable)
				return SL_REASON_ANNOUNCED;
	}
	return has_rule ? SL_REASON_NO_HEALTHY_BACKEND : SL_REASON_NO_RULE;
}

int
sl_announce_decide(const struct sl_model *m, const struct sl_snapshot *s,
		   enum sl_service_state state, bool announcing,
		   struct sl_announce_frontend **out, uint32_t *n)
{
	uint32_t cap = 0, k = 0;
	struct sl_announce_frontend *f;

	*out = NULL;
	*n = 0;
	for (uint32_t l = 0; m != NULL && l < m->n_lbs; l++)
		cap += m->lbs[l].n_frontends;
	f = calloc(cap > 0 ? cap : 1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	for (uint32_t l = 0; m != NULL && l < m->n_lbs; l++) {
		for (uint32_t i = 0; i < m->lbs[l].n_frontends; i++) {
			const struct sl_frontend *fe = &m->lbs[l].frontends[i];
			f[k].addr = fe->addr;
			f[k].family = fe->family;
			k++;
		}
	}
	qsort(f, k, sizeof(*f), sl_fe_cmp);
	uint32_t u = 0;
	for (uint32_t i = 0; i < k; i++)
		if (u == 0 || sl_fe_cmp(&f[u - 1], &f[i]) != 0)
			f[u++] = f[i];
	for (uint32_t i = 0; i < u; i++) {
		enum sl_announce_reason r;
		if (!announcing)
			r = SL_REASON_OFF;
		else if (state == SL_SERVICE_STOPPING)
			r = SL_REASON_STOPPING;
		else if (state == SL_SERVICE_OUT)
			r = SL_REASON_OUT_OF_SERVICE;
		else
			r = sl_usable_reason(s, &f[i].addr);
		f[i].reason = (uint8_t)r;
		f[i].announced = r == SL_REASON_ANNOUNCED;
	}
	*out = f;
	*n = u;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The generated file                                                       */
/* ------------------------------------------------------------------------ */

static void
sl_write_protocol(FILE *o, const struct sl_announce_frontend *f, uint32_t n, uint8_t family)
{
	char a[64];

	fprintf(o, "protocol static sluice_frontends%u {\n\tipv%u;\n", family, family);
	for (uint32_t i = 0; i < n; i++)
		if (f[i].announced && f[i].family == family)
			fprintf(o, "\troute %s/%u blackhole;\n",
				sl_ip_addr_format(&f[i].addr, a, sizeof(a)), family == 4 ? 32 : 128);
	fputs("}\n", o);
}

char *
sl_announce_bird_text(const struct sl_announce_frontend *f, uint32_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);

	if (o == NULL)
		return NULL;
	fputs("# Generated by sluiced: the frontend addresses this host announces. Do not edit.\n",
	      o);
	sl_write_protocol(o, f, n, 4);
	sl_write_protocol(o, f, n, 6);
	if (fclose(o) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ------------------------------------------------------------------------ */
/* The announcer                                                            */
/* ------------------------------------------------------------------------ */

static char *
sl_dup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
sl_service_path(const struct sl_announce *a, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", a->state_dir, SL_ANNOUNCE_SERVICE_FILE);
}

/* Restore <state_dir>/service.json; absent: InService since now. */
static int
sl_load_service(struct sl_announce *a, struct sl_error *err)
{
	char path[4096];
	size_t len;
	char *text;
	cJSON *doc;

	sl_service_path(a, path, sizeof(path));
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	text = sl_file_read(path, 4096, &len, "ServiceStateUnreadable", err);
	if (text == NULL)
		return -errno;
	doc = sl_json_parse(text, len, path, err);
	free(text);
	const char *st = sl_json_member_string(doc, "state");
	const char *since = sl_json_member_string(doc, "since");
	int rc = -EINVAL;
	for (int s = SL_SERVICE_IN; st != NULL && s <= SL_SERVICE_OUT; s++)
		if (strcmp(st, state_names[s]) == 0) {
			a->state = (enum sl_service_state)s;
			rc = 0;
		}
	if (rc == 0 && since != NULL)
		snprintf(a->since, sizeof(a->since), "%s", since);
	cJSON_Delete(doc);
	if (rc != 0) {
		sl_error_set(err, "ServiceStateCorrupt", path, "$.state",
			     "The service state file '%s' does not hold {\"state\": \"InService\" | "
			     "\"OutOfService\"}; move it away to start in service.", path);
		errno = EINVAL;
	}
	return rc;
}

struct sl_announce *
sl_announce_create(const struct sl_announce_opts *o, struct sl_error *err)
{
	struct sl_announce *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		sl_error_set(err, "OutOfMemory", "", "", "Out of memory.");
		return NULL;
	}
	a->fd = -1;
	a->bird_config = sl_dup(o->bird_config);
	a->bird_socket = sl_dup(o->bird_socket != NULL ? o->bird_socket : SL_BIRD_DEFAULT_SOCKET);
	a->state_dir = sl_dup(o->state_dir);
	a->retry_s = (o->retry_ms != 0 ? o->retry_ms : SL_ANNOUNCE_RETRY_MS) / 1000.0;
	a->answer_s = (o->answer_ms != 0 ? o->answer_ms : SL_ANNOUNCE_ANSWER_MS) / 1000.0;
	a->bird = o->bird_config != NULL ? SL_BIRD_PENDING : SL_BIRD_OFF;
	sl_now_rfc3339(a->since);
	if (a->bird_socket == NULL || (o->bird_config != NULL && a->bird_config == NULL) ||
	    (o->state_dir != NULL && a->state_dir == NULL)) {
		sl_announce_free(a);
		sl_error_set(err, "OutOfMemory", "", "", "Out of memory.");
		errno = ENOMEM;
		return NULL;
	}
	if (a->state_dir != NULL && sl_load_service(a, err) != 0) {
		int errnum = errno;
		sl_announce_free(a);
		errno = errnum;
		return NULL;
	}
	return a;
}

static void
sl_bird_close(struct sl_announce *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	a->phase = SL_PHASE_IDLE;
	a->in_len = 0;
	a->sent = 0;
	a->answer[0] = '\0';
}

void
sl_announce_free(struct sl_announce *a)
{
	if (a == NULL)
		return;
	sl_bird_close(a);
	free(a->bird_config);
	free(a->bird_socket);
	free(a->state_dir);
	free(a->fe);
	free(a->written);
	free(a->unwritten);
	free(a);
}

/* Write text to the BIRD include; on success it is the written one and BIRD is due. */
static int
sl_write_bird_file(struct sl_announce *a, char *text, struct sl_error *err)
{
	const char *step;
	int rc = sl_file_write_atomic(a->bird_config, text, strlen(text), 0644, &step);

	if (rc != 0) {
		sl_error_set(err, "BirdConfigWriteFailed", a->bird_config, "",
			     "Cannot write the BIRD include '%s' (%s: %s); the announcements "
			     "BIRD has stay as they were until it can be written.",
			     a->bird_config, step, strerror(-rc));
		free(a->unwritten);
		a->unwritten = text;
		return rc;
	}
	free(a->written);
	free(a->unwritten);
	a->unwritten = NULL;
	a->written = text;
	a->file_seq++;
	a->retry_at = 0; /* tell BIRD now, even while waiting to retry */
	return 1;
}

int
sl_announce_update(struct sl_announce *a, const struct sl_model *m,
		   const struct sl_snapshot *s, struct sl_error *err)
{
	struct sl_announce_frontend *f;
	uint32_t n;
	char *text;

	if (sl_announce_decide(m, s, a->state, a->bird_config != NULL, &f, &n) != 0) {
		sl_error_set(err, "OutOfMemory", "", "", "Out of memory.");
		return -ENOMEM;
	}
	free(a->fe);
	a->fe = f;
	a->n_fe = n;
	if (a->bird_config == NULL)
		return 0;
	text = sl_announce_bird_text(f, n);
	if (text == NULL) {
		sl_error_set(err, "OutOfMemory", "", "", "Out of memory.");
		return -ENOMEM;
	}
	if (a->written != NULL && a->unwritten == NULL && strcmp(text, a->written) == 0) {
		free(text);
		return 0;
	}
	return sl_write_bird_file(a, text, err);
}

int
sl_announce_set_state(struct sl_announce *a, enum sl_service_state state,
		      uint64_t frontend_packets, struct sl_error *err)
{
	char since[SL_TIME_MAX];

	if (a->state == SL_SERVICE_STOPPING && state != SL_SERVICE_STOPPING) {
		sl_error_set(err, "ServiceStopping", "state", "",
			     "The host is stopping (SIGTERM): its service state cannot change.");
		return -EBUSY;
	}
	if (state == a->state)
		return 0;
	sl_now_rfc3339(since);
	if (a->state_dir != NULL && state != SL_SERVICE_STOPPING) {
		char path[4096], body[160];
		const char *step;
		int len = snprintf(body, sizeof(body), "{\"state\": \"%s\", \"since\": \"%s\"}\n",
				   state_names[state], since);
		sl_service_path(a, path, sizeof(path));
		int rc = sl_file_write_atomic(path, body, (size_t)len, 0600, &step);
		if (rc != 0) {
			sl_error_set(err, "StateWriteFailed", path, "",
				     "Cannot persist the service state to '%s' (%s: %s); it stays "
				     "%s.", path, step, strerror(-rc), state_names[a->state]);
			return rc;
		}
	}
	if (a->state == SL_SERVICE_IN)
		a->packets_at_withdrawal = frontend_packets;
	a->state = state;
	memcpy(a->since, since, sizeof(since));
	return 0;
}

int
sl_announce_set_json(struct sl_announce *a, const cJSON *body, uint64_t frontend_packets,
		     struct sl_error *err)
{
	const cJSON *st = cJSON_IsObject(body) ? cJSON_GetObjectItem(body, "state") : NULL;

	if (cJSON_IsString(st)) {
		for (int s = SL_SERVICE_IN; s <= SL_SERVICE_OUT; s++)
			if (strcmp(st->valuestring, state_names[s]) == 0)
				return sl_announce_set_state(a, (enum sl_service_state)s,
							     frontend_packets, err);
	}
	sl_error_set(err, "InvalidServiceState", "state", "$.state",
		     "The body must be {\"state\": \"InService\"} or {\"state\": "
		     "\"OutOfService\"}%s%s%s.", cJSON_IsString(st) ? ", not '" : "",
		     cJSON_IsString(st) ? st->valuestring : "", cJSON_IsString(st) ? "'" : "");
	return -EINVAL;
}

enum sl_service_state
sl_announce_state(const struct sl_announce *a)
{
	return a->state;
}

const struct sl_announce_frontend *
sl_announce_frontends(const struct sl_announce *a, uint32_t *n)
{
	*n = a->n_fe;
	return a->fe;
}

/* ------------------------------------------------------------------------ */
/* The BIRD client                                                          */
/* ------------------------------------------------------------------------ */

/* A configure answer BIRD gives when it took the new configuration. */
static bool
sl_bird_ok(unsigned int code)
{
	switch (code) {
	case 3:  /* Reconfigured */
	case 4:  /* Reconfiguration in progress */
	case 5:  /* Reconfiguration already in progress, queueing new config */
	case 18: /* Reconfiguration confirmed */
	case 19: /* Nothing to do */
	case 20: /* Configuration OK */
		return true;
	default:
		return false;
	}
}

/* End the attempt: state and message, and when to try again. Returns 1 when they changed. */
static int
sl_bird_finish(struct sl_announce *a, enum sl_bird_state st, const char *msg, double now)
{
	int changed = st != a->bird || strcmp(msg, a->message) != 0;

	sl_bird_close(a);
	a->bird = st;
	snprintf(a->message, sizeof(a->message), "%s", msg);
	if (st == SL_BIRD_RECONFIGURED) {
		a->done_seq = a->sent_seq;
		a->reconfigures++;
		sl_now_rfc3339(a->last_reconfigure);
		a->retry_at = 0;
	} else {
		a->retry_at = now + a->retry_s;
	}
	return changed;
}

static int
sl_bird_fail_errno(struct sl_announce *a, const char *what, int errnum, double now)
{
	char msg[SL_BIRD_MSG_MAX];

	snprintf(msg, sizeof(msg), "%s %s: %s", what, a->bird_socket, strerror(errnum));
	return sl_bird_finish(a, SL_BIRD_UNREACHABLE, msg, now);
}

static int
sl_bird_connect(struct sl_announce *a, double now)
{
	struct sockaddr_un sa;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(a->bird_socket) >= sizeof(sa.sun_path))
		return sl_bird_fail_errno(a, "connect", ENAMETOOLONG, now);
	memcpy(sa.sun_path, a->bird_socket, strlen(a->bird_socket));
	a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0)
		return sl_bird_fail_errno(a, "socket for", errno, now);
	a->sent_seq = a->file_seq;
	a->deadline = now + a->answer_s;
	if (connect(a->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		a->phase = SL_PHASE_GREETING;
		return 0;
	}
	if (errno == EINPROGRESS) {
		a->phase = SL_PHASE_CONNECTING;
		return 0;
	}
	return sl_bird_fail_errno(a, "connect", errno, now);
}

static void
sl_append(char *dst, size_t cap, const char *text)
{
	size_t l = strlen(dst);

	if (l > 0 && l + 3 < cap) {
		memcpy(dst + l, " / ", 4);
		l += 3;
	}
	snprintf(dst + l, cap - l, "%s", text);
}

/*
 * One line of BIRD's output. Returns -1 while more lines are to come, or
 * the final line's code (its text in *text).
 */
static int
sl_bird_line(char *line, const char **text)
{
	size_t len = strlen(line);

	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (len >= 5 && line[0] >= '0' && line[0] <= '9' && line[1] >= '0' && line[1] <= '9' &&
	    line[2] >= '0' && line[2] <= '9' && line[3] >= '0' && line[3] <= '9') {
		*text = line + 5;
		if (line[4] == ' ')
			return (line[0] - '0') * 1000 + (line[1] - '0') * 100 + (line[2] - '0') * 10 +
			       (line[3] - '0');
		return -1;
	}
	*text = line[0] == ' ' ? line + 1 : line; /* a continuation, or "+": asynchronous */
	return -1;
}

static int
sl_bird_send(struct sl_announce *a, double now)
{
	static const char cmd[] = "configure\n";

	while (a->sent < sizeof(cmd) - 1) {
		ssize_t w = send(a->fd, cmd + a->sent, sizeof(cmd) - 1 - a->sent, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			a->phase = SL_PHASE_SENDING;
			return 0;
		}
		if (w < 0)
			return sl_bird_fail_errno(a, "send to", errno, now);
		a->sent += (size_t)w;
	}
	a->phase = SL_PHASE_ANSWER;
	return 0;
}

/* Read what BIRD sent and act on each complete line. */
static int
sl_bird_read(struct sl_announce *a, double now)
{
	for (;;) {
		ssize_t r = recv(a->fd, a->in + a->in_len, sizeof(a->in) - 1 - a->in_len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r < 0)
			return sl_bird_fail_errno(a, "read from", errno, now);
		if (r == 0) {
			char msg[SL_BIRD_MSG_MAX];
			snprintf(msg, sizeof(msg), "BIRD closed %s before answering%s%s",
				 a->bird_socket, a->answer[0] ? ": " : "", a->answer);
			return sl_bird_finish(a, SL_BIRD_UNREACHABLE, msg, now);
		}
		a->in_len += (size_t)r;
		a->in[a->in_len] = '\0';
		char *nl;
		while ((nl = memchr(a->in, '\n', a->in_len)) != NULL) {
			const char *text;
			*nl = '\0';
			int code = sl_bird_line(a->in, &text);
			if (code < 0 || a->phase != SL_PHASE_GREETING)
				sl_append(a->answer, sizeof(a->answer), text);
			/* the message is made before the line leaves the buffer: text points into it */
			char greeting[SL_BIRD_MSG_MAX] = "";
			if (code >= 0 && code != 1 && a->phase == SL_PHASE_GREETING)
				snprintf(greeting, sizeof(greeting), "unexpected greeting: %04d %s",
					 code, text);
			size_t used = (size_t)(nl + 1 - a->in);
			memmove(a->in, nl + 1, a->in_len - used + 1);
			a->in_len -= used;
			if (code < 0)
				continue;
			if (a->phase == SL_PHASE_GREETING) {
				if (code != 1)
					return sl_bird_finish(a, SL_BIRD_REFUSED, greeting, now);
				a->answer[0] = '\0';
				int rc = sl_bird_send(a, now);
				if (a->phase == SL_PHASE_IDLE || a->phase == SL_PHASE_SENDING)
					return rc;
				continue;
			}
			if (a->phase != SL_PHASE_ANSWER)
				continue;
			char msg[SL_BIRD_MSG_MAX];
			snprintf(msg, sizeof(msg), "%04d %s", code, a->answer);
			return sl_bird_finish(a, sl_bird_ok((unsigned int)code) ? SL_BIRD_RECONFIGURED
									     : SL_BIRD_REFUSED,
					      msg, now);
		}
		if (a->in_len >= sizeof(a->in) - 1)
			return sl_bird_finish(a, SL_BIRD_REFUSED, "BIRD sent a line too long", now);
	}
}

int
sl_announce_fd(const struct sl_announce *a, short *events)
{
	switch (a->phase) {
	case SL_PHASE_CONNECTING:
	case SL_PHASE_SENDING:
		*events = POLLOUT;
		return a->fd;
	case SL_PHASE_GREETING:
	case SL_PHASE_ANSWER:
		*events = POLLIN;
		return a->fd;
	default:
		*events = 0;
		return -1;
	}
}

static bool
sl_bird_due(const struct sl_announce *a)
{
	return a->bird_config != NULL && (a->unwritten != NULL ||
					  (a->written != NULL && a->done_seq != a->file_seq));
}

double
sl_announce_next_due(const struct sl_announce *a)
{
	if (a->phase != SL_PHASE_IDLE)
		return a->deadline;
	return sl_bird_due(a) ? a->retry_at : -1.0;
}

int
sl_announce_run(struct sl_announce *a, double now)
{
	int changed = 0;

	if (a->phase == SL_PHASE_IDLE) {
		if (!sl_bird_due(a) || now < a->retry_at)
			return 0;
		if (a->unwritten != NULL) {
			struct sl_error e;
			char *text = a->unwritten;
			a->unwritten = NULL;
			if (sl_write_bird_file(a, text, &e) < 0) {
				a->retry_at = now + a->retry_s;
				return 0;
			}
		}
		changed = sl_bird_connect(a, now);
		if (a->phase == SL_PHASE_IDLE)
			return changed;
	}
	if (a->phase == SL_PHASE_CONNECTING) {
		int soerr = 0;
		socklen_t l = sizeof(soerr);
		struct pollfd p = {.fd = a->fd, .events = POLLOUT};
		if (poll(&p, 1, 0) <= 0) {
			if (now >= a->deadline)
				return sl_bird_fail_errno(a, "connect", ETIMEDOUT, now);
			return 0;
		}
		if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &soerr, &l) != 0 || soerr != 0)
			return sl_bird_fail_errno(a, "connect", soerr != 0 ? soerr : errno, now);
		a->phase = SL_PHASE_GREETING;
	}
	if (a->phase == SL_PHASE_SENDING) {
		changed |= sl_bird_send(a, now);
		if (a->phase != SL_PHASE_ANSWER)
			return changed;
	}
	changed |= sl_bird_read(a, now);
	if (a->phase != SL_PHASE_IDLE && now >= a->deadline) {
		char msg[SL_BIRD_MSG_MAX];
		snprintf(msg, sizeof(msg), "BIRD did not answer on %s within %.1f s", a->bird_socket,
			 a->answer_s);
		changed |= sl_bird_finish(a, SL_BIRD_UNREACHABLE, msg, now);
	}
	return changed;
}

enum sl_bird_state
sl_announce_bird_state(const struct sl_announce *a)
{
	return a->bird;
}

const char *
sl_announce_bird_message(const struct sl_announce *a)
{
	return a->message;
}

uint64_t
sl_announce_reconfigures(const struct sl_announce *a)
{
	return a->reconfigures;
}

/* ------------------------------------------------------------------------ */
/* Reports                                                                  */
/* ------------------------------------------------------------------------ */

cJSON *
sl_announce_json(const struct sl_announce *a, uint64_t frontend_packets)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *b, *list;
	char addr[64];

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "state", state_names[a->state]);
	cJSON_AddStringToObject(o, "since", a->since);
	cJSON_AddBoolToObject(o, "announcing", a->bird_config != NULL);
	b = cJSON_AddObjectToObject(o, "bird");
	if (b != NULL) {
		cJSON_AddStringToObject(b, "socket", a->bird_socket);
		cJSON_AddStringToObject(b, "config", a->bird_config != NULL ? a->bird_config : "");
		cJSON_AddStringToObject(b, "state", bird_names[a->bird]);
		cJSON_AddStringToObject(b, "message", a->message);
		cJSON_AddStringToObject(b, "lastReconfigure", a->last_reconfigure);
		cJSON_AddNumberToObject(b, "reconfigures", (double)a->reconfigures);
	}
	list = cJSON_AddArrayToObject(o, "frontends");
	for (uint32_t i = 0; list != NULL && i < a->n_fe; i++) {
		cJSON *f = cJSON_CreateObject();
		if (f == NULL)
			break;
		cJSON_AddStringToObject(f, "address", sl_ip_addr_format(&a->fe[i].addr, addr,
									  sizeof(addr)));
		cJSON_AddBoolToObject(f, "announced", a->fe[i].announced);
		cJSON_AddStringToObject(f, "reason", reason_names[a->fe[i].reason]);
		cJSON_AddItemToArray(list, f);
	}
	/* a rule gone from the configuration takes its packets out of the sum */
	cJSON_AddNumberToObject(o, "packetsSinceWithdrawal",
				a->state == SL_SERVICE_IN || frontend_packets < a->packets_at_withdrawal
					? 0.0
					: (double)(frontend_packets - a->packets_at_withdrawal));
	return o;
}

void
sl_announce_write_prometheus(FILE *f, const struct sl_announce *a)
{
	char addr[64];

	fputs("# HELP sluice_in_service 1 when the host is in service (announces its frontends).\n"
	      "# TYPE sluice_in_service gauge\n", f);
	fprintf(f, "sluice_in_service %d\n", a->state == SL_SERVICE_IN);
	fputs("# HELP sluice_frontend_announced 1 when the frontend address is in the BIRD "
	      "include.\n# TYPE sluice_frontend_announced gauge\n", f);
	for (uint32_t i = 0; i < a->n_fe; i++)
		fprintf(f, "sluice_frontend_announced{frontend=\"%s\"} %u\n",
			sl_ip_addr_format(&a->fe[i].addr, addr, sizeof(addr)), a->fe[i].announced);
}
