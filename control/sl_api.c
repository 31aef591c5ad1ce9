/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_api.c: the REST API's Unix socket (see sl_api.h): how it is created
 * (its final mode and group from the start), libmicrohttpd as a thin
 * adapter to the transport-independent handler (sl_api_handler.h), and the
 * limits only the socket can keep: connections at once, and a bounded time
 * to send a request or read an answer (a slow client, slowloris, cannot
 * hold a connection slot; when the slots are full, the client that has
 * waited longest without completing a request makes room for a newcomer).
 *
 * libmicrohttpd runs with MHD_USE_EPOLL and no thread of its own: its epoll
 * descriptor is polled by the control thread, which calls MHD_run(), so the
 * handler runs on the control thread like every other change.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <microhttpd.h>

#include "sl_api.h"
#include "sl_api_handler.h"
#include "sl_audit.h"
#include "sl_log.h"

/* A full house makes room only by closing a client that has waited this long on its request. */
#define SL_API_EVICT_AFTER_US 1e6
/* A connection told to go (answered and shut for writing) is cut off this long after. */
#define SL_API_CLOSE_GRACE_US 1e6
/* How often the connections are looked over for slow clients. */
#define SL_API_SWEEP_US 50e3

/* One connection on the socket, as the limits see it. */
struct sl_api_conn {
	struct sl_api_conn *prev, *next;
	int fd;
	long uid;
	double since_us;   /* since when it has been sending a request, or reading an answer */
	double closing_us; /* when it was told to go (0: not) */
	bool answering;    /* an answer is queued: nothing else may be written */
	bool cut;          /* shut down both ways: libmicrohttpd closes it */
};

struct sl_api {
	struct MHD_Daemon *mhd;
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sl_api_handler *h;
	struct sl_api_limits limits;
	struct sl_api_conn *conns;
	double last_sweep_us;
};

/* One request on the socket, from its URI to its answer. */
struct sl_mhd_req {
	char *uri; /* as sent, with the query */
	bool started;
	char *body;
	size_t len, cap, seen;
	char who[128]; /* the peer of a change, for its audit line */
};

static struct sl_api_conn *
sl_conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

static const char *
sl_reason(unsigned int status)
{
	switch (status) {
	case 408:
		return "Request Timeout";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

/*
 * Tell c to go: answer status with an ARM error (unless an answer of its
 * own is under way) and shut the connection for writing, so the client
 * reads the answer and an end; it is cut off for good after a grace.
 */
static void
sl_conn_close(struct sl_api_conn *c, unsigned int status, const char *code, const char *msg)
{
	char *text = c->answering ? NULL : sl_api_error_text(code, "", msg);
	char head[256];

	if (text != NULL) {
		int n = snprintf(head, sizeof(head),
				 "HTTP/1.1 %u %s\r\nContent-Type: application/json; charset=utf-8\r\n"
				 "Content-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
				 sl_reason(status), strlen(text),
				 status == 503 ? "Retry-After: 1\r\n" : "");
		/* a few hundred bytes into an empty socket buffer: not blocking, best effort */
		if (send(c->fd, head, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == n)
			(void)send(c->fd, text, strlen(text), MSG_DONTWAIT | MSG_NOSIGNAL);
		free(text);
	}
	shutdown(c->fd, SHUT_WR);
	c->closing_us = sl_controller_now_us();
}

static unsigned int
sl_conns_open(const struct sl_api *api, const struct sl_api_conn *except)
{
	unsigned int n = 0;

	for (const struct sl_api_conn *c = api->conns; c != NULL; c = c->next)
		n += c != except && c->closing_us == 0;
	return n;
}

/* A new connection c: admitted; or, the house full, admitted in place of a slow one; or refused. */
static void
sl_conn_admit(struct sl_api *api, struct sl_api_conn *c)
{
	struct sl_api_counters *k = sl_api_handler_counters(api->h);
	struct sl_api_conn *oldest = NULL;
	double now = sl_controller_now_us();
	char msg[256];

	if (sl_conns_open(api, c) < api->limits.max_connections)
		return;
	for (struct sl_api_conn *o = api->conns; o != NULL; o = o->next)
		if (o != c && o->closing_us == 0 && (oldest == NULL || o->since_us < oldest->since_us))
			oldest = o;
	if (oldest != NULL && now - oldest->since_us >= SL_API_EVICT_AFTER_US) {
		k->slow_closed++;
		snprintf(msg, sizeof(msg), "The request was not complete after %.1f s and all %u "
			 "connections (--api-max-connections) were taken: closed to make room.",
			 (now - oldest->since_us) / 1e6, api->limits.max_connections);
		sl_conn_close(oldest, 408, "RequestTimeout", msg);
		return;
	}
	k->connections_refused++;
	snprintf(msg, sizeof(msg), "All %u connections (--api-max-connections) are busy: retry "
		 "later.", api->limits.max_connections);
	sl_conn_close(c, 503, "TooManyConnections", msg);
}

/* Close what has taken longer than the request timeout; cut off what was told to go. */
static void
sl_conns_sweep(struct sl_api *api)
{
	struct sl_api_counters *k = sl_api_handler_counters(api->h);
	double now = sl_controller_now_us();
	double limit = (double)api->limits.request_timeout_s * 1e6;
	char msg[160];

	if (now - api->last_sweep_us < SL_API_SWEEP_US)
		return;
	api->last_sweep_us = now;
	for (struct sl_api_conn *c = api->conns; c != NULL; c = c->next) {
		if (c->closing_us != 0) {
			if (!c->cut && now - c->closing_us >= SL_API_CLOSE_GRACE_US) {
				shutdown(c->fd, SHUT_RDWR);
				c->cut = true;
			}
		} else if (now - c->since_us >= limit) {
			k->slow_closed++;
			snprintf(msg, sizeof(msg), "A request, or the reading of its answer, took "
				 "more than %u s (--api-request-timeout).",
				 api->limits.request_timeout_s);
			sl_conn_close(c, 408, "RequestTimeout", msg);
		}
	}
	k->connections_open = sl_conns_open(api, NULL);
}

static long
sl_peer_uid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -1;
	return (long)cred.uid;
}

static void
sl_notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
		     enum MHD_ConnectionNotificationCode toe)
{
	struct sl_api *api = cls;
	struct sl_api_conn *c = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (c == NULL)
			return;
		if (c->prev != NULL)
			c->prev->next = c->next;
		else
			api->conns = c->next;
		if (c->next != NULL)
			c->next->prev = c->prev;
		free(c);
		*socket_context = NULL;
		sl_api_handler_counters(api->h)->connections_open = sl_conns_open(api, NULL);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return; /* not tracked: libmicrohttpd's own timeout still applies */
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	c->fd = ci != NULL ? ci->connect_fd : -1;
	c->uid = sl_peer_uid(c->fd);
	c->since_us = sl_controller_now_us();
	c->next = api->conns;
	if (api->conns != NULL)
		api->conns->prev = c;
	api->conns = c;
	*socket_context = c;
	if (c->fd >= 0)
		sl_conn_admit(api, c);
	sl_api_handler_counters(api->h)->connections_open = sl_conns_open(api, NULL);
}

/* Called once a request line is in: the request starts with its URI as sent. */
static void *
sl_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct sl_mhd_req *r = calloc(1, sizeof(*r));

	(void)cls;
	(void)conn;
	if (r != NULL && (r->uri = strdup(uri)) == NULL) {
		free(r);
		r = NULL;
	}
	return r;
}

/* Keep a body chunk, up to the body limit; what is past it is only counted. */
static int
sl_body_add(struct sl_mhd_req *r, const char *data, size_t n, size_t max)
{
	r->seen += n;
	if (r->len + n > max)
		return 0;
	if (r->len + n + 1 > r->cap) {
		size_t cap = (r->len + n + 1) * 2;
		char *b = realloc(r->body, cap);
		if (b == NULL)
			return -1;
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return 0;
}

struct sl_header_list {
	struct sl_api_header *v;
	size_t n, cap;
};

static enum MHD_Result
sl_header_add(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct sl_header_list *l = cls;

	(void)kind;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct sl_api_header *v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return MHD_NO;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct sl_api_header){key, value != NULL ? value : ""};
	return MHD_YES;
}

/* The handler's answer as libmicrohttpd's response. */
static enum MHD_Result
sl_queue(struct MHD_Connection *conn, struct sl_api_resp *rsp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char ra[16];

	if (rsp->body != NULL)
		r = MHD_create_response_from_buffer(rsp->len, rsp->body, MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		sl_api_resp_free(rsp);
		return MHD_NO;
	}
	rsp->body = NULL; /* the response's now */
	if (rsp->content_type != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rsp->content_type);
	if (rsp->retry_after != 0) {
		snprintf(ra, sizeof(ra), "%u", rsp->retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	ret = MHD_queue_response(conn, rsp->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The whole request is in: hand it to the handler as plain data, queue its answer. */
static enum MHD_Result
sl_answer(struct sl_api *api, struct MHD_Connection *conn, const char *method,
	  struct sl_mhd_req *r, struct sl_api_conn *c)
{
	struct sl_header_list hl = {0};
	struct sl_api_resp rsp;
	char *q = strchr(r->uri, '?');
	enum MHD_Result ret;

	if (q != NULL)
		*q++ = '\0';
	MHD_get_connection_values(conn, MHD_HEADER_KIND, sl_header_add, &hl);
	const struct sl_api_req rq = {
		.method = method, .path = r->uri, .query = q,
		.headers = hl.v, .n_headers = hl.n,
		.body = r->body, .len = r->len, .body_seen = r->seen,
		.uid = c != NULL ? c->uid : -1, .who = r->who,
		.start_us = sl_controller_now_us(),
	};
	sl_api_handle(api->h, &rq, &rsp);
	free(hl.v);
	ret = sl_queue(conn, &rsp);
	if (c != NULL) {
		c->answering = true;
		c->since_us = sl_controller_now_us(); /* now the time to read the answer runs */
	}
	return ret;
}

static enum MHD_Result
sl_handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	  const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct sl_api *api = cls;
	struct sl_mhd_req *r = *con_cls;
	struct sl_api_conn *c = sl_conn_of(conn);

	(void)url; /* decoded by libmicrohttpd; the handler decodes r->uri itself */
	(void)version;
	if (r == NULL || (c != NULL && c->closing_us != 0))
		return MHD_NO;
	if (!r->started) {
		r->started = true;
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
			const union MHD_ConnectionInfo *ci =
				MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
			sl_audit_peer(ci != NULL ? ci->connect_fd : -1, r->who, sizeof(r->who));
		}
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		return sl_body_add(r, upload_data, n, api->limits.max_body_bytes) == 0 ? MHD_YES
											: MHD_NO;
	}
	return sl_answer(api, conn, method, r, c);
}

static void
sl_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct sl_mhd_req *r = *con_cls;
	struct sl_api_conn *c = sl_conn_of(conn);

	(void)cls;
	(void)toe;
	if (c != NULL) {
		c->answering = false;
		c->since_us = sl_controller_now_us(); /* the next request's time runs from here */
	}
	if (r != NULL) {
		free(r->uri);
		free(r->body);
		free(r);
		*con_cls = NULL;
	}
}

/* libmicrohttpd's own complaints, as log lines of the api module. */
static void
sl_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	sl_log(SL_LOG_WARNING, "api", "libmicrohttpd: %s", msg);
}

static int
sl_mkdir_p(const char *dir)
{
	char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* A socket file nobody answers on is stale; one that answers belongs to a running sluiced. */
static int
sl_socket_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int used;

	if (fd < 0)
		return 0;
	used = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return used;
}

long
sl_api_group_parse(const char *group, struct sl_error *err)
{
	struct group gr, *found = NULL;
	char buf[16384], *end;
	unsigned long v;

	if (group == NULL || group[0] == '\0') {
		sl_error_set(err, "UnknownApiGroup", "--api-group", "",
			     "--api-group takes a group name or number.");
		return -1;
	}
	errno = 0;
	v = strtoul(group, &end, 10);
	if (*end == '\0' && errno == 0 && group[0] >= '0' && group[0] <= '9') {
		if (getgrgid_r((gid_t)v, &gr, buf, sizeof(buf), &found) == 0 && found != NULL)
			return (long)v;
	} else if (getgrnam_r(group, &gr, buf, sizeof(buf), &found) == 0 && found != NULL) {
		return (long)found->gr_gid;
	}
	sl_error_set(err, "UnknownApiGroup", "--api-group", "",
		     "No group '%s' on this system (getent group %s): the socket's group must "
		     "exist before sluiced starts.", group, group);
	return -1;
}

/*
 * Bind fd at sa with the socket's final mode from the start: no moment in
 * which the file is reachable more widely than it ends up.
 *
 * On Linux, bind() of an AF_UNIX socket creates the file with the mode of
 * the socket's own inode less the umask (net/unix/af_unix.c: unix_bind_bsd()
 * takes SOCK_INODE(sock)->i_mode & ~current_umask()), and fchmod() of the
 * descriptor before bind() sets that inode's mode: so the file is born
 * 0600. The umask is narrowed around bind() too, for kernels that would
 * not take the descriptor's mode (it is process-wide, but this runs once,
 * at start, before anything else here creates files). With a group, the
 * file is born 0600 owned by sluiced's own group, then given the group,
 * then made 0660: each step is as narrow as, or narrower than, the last
 * one. A file found wider than 0600 after bind() refuses the start.
 */
static int
sl_bind_private(int fd, const struct sockaddr_un *sa, long gid)
{
	struct stat st;
	mode_t old;
	int rc;

	if (fchmod(fd, 0600) != 0)
		return -errno;
	old = umask(0177);
	rc = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
	umask(old);
	if (rc != 0)
		return -errno;
	if (lstat(sa->sun_path, &st) != 0)
		return -errno;
	if ((st.st_mode & 0177) != 0 || !S_ISSOCK(st.st_mode))
		return -EPERM;
	if (gid >= 0 && lchown(sa->sun_path, (uid_t)-1, (gid_t)gid) != 0)
		return -errno;
	return chmod(sa->sun_path, gid >= 0 ? 0660 : 0600) != 0 ? -errno : 0;
}

static int
sl_listen_socket(struct sl_api *api, const struct sockaddr_un *sa, long gid)
{
	int rc;

	api->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (api->listen_fd < 0)
		return -errno;
	rc = sl_bind_private(api->listen_fd, sa, gid);
	if (rc == 0 && listen(api->listen_fd, (int)api->limits.max_connections) != 0)
		rc = -errno;
	if (rc != 0) {
		close(api->listen_fd);
		api->listen_fd = -1;
		if (rc != -EADDRINUSE)
			unlink(sa->sun_path);
	}
	return rc;
}

static int
sl_mhd_start(struct sl_api *api)
{
	const struct sl_api_limits *l = &api->limits;
	size_t memory = 2 * l->max_header_bytes + 64 * 1024;

	if (memory < 256 * 1024)
		memory = 256 * 1024;
	api->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, sl_handle, api,
		MHD_OPTION_EXTERNAL_LOGGER, sl_mhd_log, api, /* MHD wants it first */
		MHD_OPTION_LISTEN_SOCKET, api->listen_fd,
		MHD_OPTION_URI_LOG_CALLBACK, sl_uri_log, api,
		MHD_OPTION_NOTIFY_COMPLETED, sl_completed, api,
		MHD_OPTION_NOTIFY_CONNECTION, sl_notify_connection, api,
		/* past this libmicrohttpd refuses silently: room for those told to go */
		MHD_OPTION_CONNECTION_LIMIT, 2 * l->max_connections + 16,
		/* idle connections: the sweep closes them first, with an answer */
		MHD_OPTION_CONNECTION_TIMEOUT, l->request_timeout_s + 2,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory,
		MHD_OPTION_END);
	return api->mhd != NULL ? 0 : -EIO;
}

static void
sl_api_free(struct sl_api *api)
{
	if (api->listen_fd >= 0)
		close(api->listen_fd);
	sl_api_handler_free(api->h);
	free(api);
}

struct sl_api *
sl_api_start(const char *path, long gid, const struct sl_api_limits *limits,
	     struct sl_controller *ctl, const struct sl_api_hooks *hooks, struct sl_error *err)
{
	struct sockaddr_un sa;
	struct sl_api *api;
	char dir[sizeof(sa.sun_path)];
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		sl_error_set(err, "ApiSocketFailed", path, "", "The socket path is too long.");
		errno = ENAMETOOLONG;
		return NULL;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	rc = sl_mkdir_p(dirname(dir));
	if (rc < 0) {
		sl_error_set(err, "ApiSocketFailed", path, "", "Cannot create the directory: %s.",
			     strerror(-rc));
		errno = -rc;
		return NULL;
	}
	if (sl_socket_in_use(&sa)) {
		sl_error_set(err, "ApiSocketInUse", path, "",
			     "Another process answers on %s (another sluiced?).", path);
		errno = EADDRINUSE;
		return NULL;
	}
	unlink(path);
	api = calloc(1, sizeof(*api));
	if (api == NULL || (api->h = sl_api_handler_create(ctl, hooks, limits)) == NULL) {
		free(api);
		sl_error_set(err, "OutOfMemory", path, "", "Out of memory.");
		errno = ENOMEM;
		return NULL;
	}
	api->listen_fd = -1;
	api->limits = *sl_api_handler_limits(api->h);
	snprintf(api->path, sizeof(api->path), "%s", path);
	rc = sl_listen_socket(api, &sa, gid);
	if (rc != 0) {
		sl_error_set(err, "ApiSocketFailed", path, "", "Cannot listen on %s: %s.", path,
			     rc == -EPERM ? "the socket file was created wider than 0600"
					  : strerror(-rc));
		sl_api_free(api);
		errno = -rc;
		return NULL;
	}
	if (sl_mhd_start(api) != 0) {
		sl_error_set(err, "ApiSocketFailed", path, "", "libmicrohttpd did not start.");
		unlink(path);
		sl_api_free(api);
		errno = EIO;
		return NULL;
	}
	return api;
}

void
sl_api_restore_deployments(struct sl_api *api)
{
	sl_api_handler_restore_deployments(api->h);
}

int
sl_mhd_fd(struct MHD_Daemon *mhd)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD);
	return i != NULL ? i->epoll_fd : -1;
}

void
sl_mhd_run(struct MHD_Daemon *mhd, int rounds)
{
	MHD_UNSIGNED_LONG_LONG timeout;

	for (int i = 0; i < rounds; i++) {
		MHD_run(mhd);
		if (MHD_get_timeout(mhd, &timeout) != MHD_YES || timeout != 0)
			break;
	}
}

int
sl_api_fd(const struct sl_api *api)
{
	return sl_mhd_fd(api->mhd);
}

void
sl_api_run(struct sl_api *api)
{
	sl_conns_sweep(api);
	/* bounded, so traffic statistics and signals are still served */
	sl_mhd_run(api->mhd, 256);
}

void
sl_api_stop(struct sl_api *api)
{
	if (api == NULL)
		return;
	MHD_stop_daemon(api->mhd);
	unlink(api->path);
	sl_api_free(api);
}
