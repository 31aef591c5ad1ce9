/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_fleet.c: the fleet thread (watch, health check, host key, hosts'
 * keys read), the queue of revisions and its eventfd, the write path's
 * optimistic commit, fleet-revision persistence, status and metrics (see
 * sl_fleet.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "sl_etcd.h"
#include "sl_fleet.h"
#include "sl_json.h"
#include "sl_log.h"

#define SL_FLEET_WRITE_MS 2000  /* a write's budget */
#define SL_FLEET_CHECK_MS 1000  /* the health check's and the hosts' read timeout */
#define SL_FLEET_LEASE_TTL 10   /* seconds */
#define SL_FLEET_HOST_EVERY 2.0 /* seconds between rewrites of the host key */
#define SL_FLEET_HOSTS_STALE 3.0 /* GET /sluice/fleet: a read older than this is refused */

struct sl_fleet_event {
	struct sl_fleet_event *next;
	int64_t revision;
	bool force; /* the first sync: applied even at the applied revision */
	char *doc;
};

struct sl_fleet {
	char *prefix, *name, *key_config, *key_host, *rev_file, endpoints[1024];
	struct sl_controller *ctl;
	struct sl_fleet_hook hook;
	cJSON *(*host_fields)(void *ctx);
	void *host_ctx;
	struct sl_etcd *writer; /* the control thread's client */
	struct sl_etcd *reader; /* the fleet thread's */
	int efd;
	pthread_t thread;
	bool started;
	atomic_bool quit;

	pthread_mutex_t lock; /* guards what the two threads share, below */
	struct sl_fleet_event *head, *tail;
	bool up;
	char cause[256];
	char since[32];
	int64_t newest;
	int64_t applied_shared;
	int64_t rejected_shared; /* the revision this host refused last, or 0 */
	char *seed;      /* the control thread's document at start */
	char *host_json; /* this host's key, as the control thread last made it */
	bool host_dirty;
	double lease_renewed;  /* fleet thread: when the host key's lease was last renewed */
	cJSON *hosts;    /* the hosts' keys, last read */
	double hosts_at; /* when (monotonic s); 0: never */
	char hosts_why[256];

	/* control thread only */
	int64_t applied;
	int64_t pending;     /* written, not yet in effect */
	int64_t race_rev;    /* the newest revision a lost race returned */
	char *race_doc;      /* and its document (NULL: the key is absent) */
	cJSON *rejected;
	double host_due;
	uint64_t committed, conflicts, retried, refused;
};

static double
sl_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sl_rfc3339(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ------------------------------------------------------------------ */
/* The queue (fleet thread in, control thread out). */

static void
sl_fleet_push(struct sl_fleet *f, int64_t revision, const char *doc, size_t len, bool force)
{
	struct sl_fleet_event *ev = calloc(1, sizeof(*ev));
	uint64_t one = 1;

	if (ev == NULL || (ev->doc = strndup(doc, len)) == NULL) {
		free(ev);
		sl_log(SL_LOG_ERR, "fleet", "out of memory: revision %" PRId64 " not queued",
		       revision);
		return;
	}
	ev->revision = revision;
	ev->force = force;
	pthread_mutex_lock(&f->lock);
	if (f->tail != NULL)
		f->tail->next = ev;
	else
		f->head = ev;
	f->tail = ev;
	if (revision > f->newest)
		f->newest = revision;
	pthread_mutex_unlock(&f->lock);
	if (write(f->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		sl_log(SL_LOG_ERR, "fleet", "eventfd: %s", strerror(errno));
}

static void
sl_fleet_set_state(struct sl_fleet *f, bool up, const char *cause)
{
	pthread_mutex_lock(&f->lock);
	if (up != f->up || f->since[0] == '\0') {
		sl_rfc3339(f->since, sizeof(f->since));
		if (up)
			sl_log(SL_LOG_NOTICE, "fleet", "etcd connected (%s)", f->endpoints);
		else
			sl_log(SL_LOG_WARNING, "fleet", "etcd unreachable: %s; forwarding with the "
			       "last configuration (fleet revision %" PRId64 ")", cause,
			       f->applied_shared);
	}
	f->up = up;
	snprintf(f->cause, sizeof(f->cause), "%s", up ? "" : cause);
	pthread_mutex_unlock(&f->lock);
}

/* ------------------------------------------------------------------ */
/* The fleet thread. */

struct sl_watch_ctx {
	struct sl_fleet *f;
	int64_t next; /* the revision the next start watches from */
};

static int
sl_fleet_on_watch(void *ctx, const struct sl_etcd_watch_msg *m)
{
	struct sl_watch_ctx *w = ctx;

	if (m->canceled || m->compact_revision > 0 || m->error[0] != '\0') {
		sl_log(SL_LOG_WARNING, "fleet", "watch ended: %s",
		       m->error[0] ? m->error : "canceled");
		return 1;
	}
	for (size_t i = 0; i < m->n_events; i++) {
		const struct sl_etcd_kv *kv = &m->events[i];
		if (kv->value != NULL)
			sl_fleet_push(w->f, kv->mod_revision, kv->value, kv->value_len, false);
		if (kv->mod_revision >= w->next)
			w->next = kv->mod_revision + 1;
	}
	return 0;
}

/*
 * Read PREFIX/config and queue it (or seed an empty prefix with the seed
 * document, first). Returns the revision to watch from, or -1 (etcd failed).
 */
static int64_t
sl_fleet_sync(struct sl_fleet *f, bool first)
{
	struct sl_etcd_kv *kvs = NULL, now;
	char why[256];
	int64_t rev;
	size_t n;
	bool ok;
	int rc = sl_etcd_range(f->reader, f->key_config, false, false, SL_FLEET_CHECK_MS, &rev,
			       &kvs, &n, why, sizeof(why));

	if (rc < 0) {
		sl_fleet_set_state(f, false, why);
		return -1;
	}
	sl_fleet_set_state(f, true, "");
	if (n > 0) {
		sl_fleet_push(f, kvs[0].mod_revision, kvs[0].value, kvs[0].value_len, first);
		int64_t next = kvs[0].mod_revision + 1;
		sl_etcd_kvs_free(kvs, n);
		return next;
	}
	if (!first || f->seed == NULL)
		return rev + 1;
	/* an empty prefix: this host's document seeds the fleet, unless another's wins */
	rc = sl_etcd_txn_put(f->reader, f->key_config, f->seed, 0, SL_FLEET_WRITE_MS, &ok, &rev,
			     &now, why, sizeof(why));
	if (rc < 0) {
		sl_fleet_set_state(f, false, why);
		return -1;
	}
	if (ok) {
		sl_log(SL_LOG_NOTICE, "fleet", "%s was empty: seeded with this host's configuration "
		       "(fleet revision %" PRId64 ")", f->key_config, rev);
		sl_fleet_push(f, rev, f->seed, strlen(f->seed), true);
	} else if (now.value != NULL) {
		rev = now.mod_revision;
		sl_fleet_push(f, rev, now.value, now.value_len, true);
	}
	sl_etcd_kv_clear(&now);
	return rev + 1;
}

/* Every second: is etcd there (a linearizable range of PREFIX/config), and the hosts' keys. */
static bool
sl_fleet_check(struct sl_fleet *f, int64_t *config_rev)
{
	struct sl_etcd_kv *kvs = NULL;
	char why[256], hk[1024];
	int64_t rev;
	size_t n;
	int rc = sl_etcd_range(f->reader, f->key_config, false, false, SL_FLEET_CHECK_MS, &rev,
			       &kvs, &n, why, sizeof(why));

	if (rc < 0) {
		sl_fleet_set_state(f, false, why);
		return false;
	}
	sl_fleet_set_state(f, true, "");
	*config_rev = n > 0 ? kvs[0].mod_revision : 0;
	pthread_mutex_lock(&f->lock);
	if (n > 0 && kvs[0].mod_revision > f->newest)
		f->newest = kvs[0].mod_revision;
	pthread_mutex_unlock(&f->lock);
	sl_etcd_kvs_free(kvs, n);
	snprintf(hk, sizeof(hk), "%s/hosts/", f->prefix);
	rc = sl_etcd_range(f->reader, hk, true, true, SL_FLEET_CHECK_MS, &rev, &kvs, &n, why,
			   sizeof(why));
	if (rc < 0) {
		pthread_mutex_lock(&f->lock);
		snprintf(f->hosts_why, sizeof(f->hosts_why), "%s", why);
		pthread_mutex_unlock(&f->lock);
		return true;
	}
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n && a != NULL; i++) {
		cJSON *h = kvs[i].value != NULL ? cJSON_Parse(kvs[i].value) : NULL;
		if (h != NULL)
			cJSON_AddItemToArray(a, h);
	}
	sl_etcd_kvs_free(kvs, n);
	pthread_mutex_lock(&f->lock);
	cJSON_Delete(f->hosts);
	f->hosts = a;
	f->hosts_at = sl_mono_s();
	pthread_mutex_unlock(&f->lock);
	return true;
}

/* Keep this host's key: a lease, kept alive; the key rewritten every 2 s or when it changed. */
static void
sl_fleet_host_key(struct sl_fleet *f, int64_t *lease, double *last)
{
	char why[256], *text;
	int64_t ttl = 0;
	double now = sl_mono_s();
	bool dirty;

	pthread_mutex_lock(&f->lock);
	dirty = f->host_dirty;
	text = f->host_json != NULL && (dirty || now - *last >= SL_FLEET_HOST_EVERY)
		       ? strdup(f->host_json)
		       : NULL;
	f->host_dirty = false;
	pthread_mutex_unlock(&f->lock);
	if (text == NULL)
		return;
	/*
	 * A put under a lease does not renew it: keep it alive on time, also
	 * while changes rewrite the key more often than that.
	 */
	if (*lease != 0 && now - f->lease_renewed >= SL_FLEET_HOST_EVERY) {
		if (sl_etcd_lease_keepalive(f->reader, *lease, SL_FLEET_CHECK_MS, &ttl, why,
					    sizeof(why)) < 0 || ttl <= 0)
			*lease = 0;
		else
			f->lease_renewed = now;
	}
	if (*lease == 0) {
		if (sl_etcd_lease_grant(f->reader, SL_FLEET_LEASE_TTL, SL_FLEET_CHECK_MS, lease, why,
					sizeof(why)) < 0) {
			*lease = 0;
			free(text);
			return;
		}
		f->lease_renewed = now;
	}
	if (sl_etcd_put(f->reader, f->key_host, text, *lease, SL_FLEET_CHECK_MS, why,
			sizeof(why)) < 0) {
		if (strstr(why, "lease not found") != NULL)
			*lease = 0;
		pthread_mutex_lock(&f->lock);
		f->host_dirty |= dirty;
		pthread_mutex_unlock(&f->lock);
	} else {
		*last = now;
	}
	free(text);
}

static void *
sl_fleet_main(void *arg)
{
	struct sl_fleet *f = arg;
	struct sl_watch_ctx w = {.f = f};
	double next_check = 0, last_host = 0;
	bool first = true, watching = false, was_up = true;
	int64_t lease = 0, config_rev = 0;
	int lagging = 0; /* checks in a row that saw a revision the watch did not bring */
	char why[256];

	while (!atomic_load(&f->quit)) {
		double now = sl_mono_s();
		if (!watching) {
			int64_t next = sl_fleet_sync(f, first);
			if (next < 0) {
				was_up = false;
				usleep(500000);
				continue;
			}
			first = false;
			w.next = next;
			if (sl_etcd_watch_start(f->reader, f->key_config, w.next, sl_fleet_on_watch, &w,
						why, sizeof(why)) == 0)
				watching = true;
			was_up = true;
		}
		if (watching && sl_etcd_watch_run(f->reader, 100, why, sizeof(why)) == 0) {
			sl_log(SL_LOG_INFO, "fleet", "watch of %s ended (%s): reading it again",
			       f->key_config, why);
			watching = false;
			continue;
		}
		if (now >= next_check) {
			next_check = now + 1.0;
			bool up = sl_fleet_check(f, &config_rev);
			pthread_mutex_lock(&f->lock);
			bool lag = up && config_rev > f->applied_shared && config_rev != f->rejected_shared;
			pthread_mutex_unlock(&f->lock);
			lagging = lag ? lagging + 1 : 0;
			if (lagging >= 3 && watching)
				sl_log(SL_LOG_WARNING, "fleet", "fleet revision %" PRId64 " is in etcd "
				       "but the watch did not bring it: watching afresh", config_rev);
			if ((up && !was_up) || lagging >= 3) {
				/* back from a partition, or a watch gone quiet: read and watch afresh */
				sl_etcd_watch_stop(f->reader);
				watching = false;
				lagging = 0;
			}
			was_up = up;
			if (up)
				sl_fleet_host_key(f, &lease, &last_host);
		} else if (was_up) {
			sl_fleet_host_key(f, &lease, &last_host);
		}
	}
	sl_etcd_watch_stop(f->reader);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The control thread's side. */

static void
sl_fleet_save_revision(struct sl_fleet *f)
{
	char text[32];
	const char *step = NULL;
	int n = snprintf(text, sizeof(text), "%" PRId64 "\n", f->applied);

	pthread_mutex_lock(&f->lock);
	f->applied_shared = f->applied;
	if (f->applied > f->newest)
		f->newest = f->applied;
	pthread_mutex_unlock(&f->lock);
	if (f->rev_file == NULL)
		return;
	int rc = sl_file_write_atomic(f->rev_file, text, (size_t)n, 0600, &step);
	if (rc < 0)
		sl_log(SL_LOG_ERR, "fleet", "%s: %s failed: %s (a restart applies revision %" PRId64
		       " again)", f->rev_file, step ? step : "write", strerror(-rc), f->applied);
}

/* Make this host's key from the control thread's view; the fleet thread writes it. */
static void
sl_fleet_host_update(struct sl_fleet *f)
{
	cJSON *o = f->host_fields != NULL ? f->host_fields(f->host_ctx) : NULL;
	char updated[32], *text;

	if (o == NULL)
		o = cJSON_CreateObject();
	if (o == NULL)
		return;
	sl_rfc3339(updated, sizeof(updated));
	cJSON_DeleteItemFromObject(o, "name");
	cJSON_AddStringToObject(o, "name", f->name);
	cJSON_AddNumberToObject(o, "appliedRevision", (double)f->applied);
	if (cJSON_GetObjectItem(o, "generation") == NULL)
		cJSON_AddNumberToObject(o, "generation", 0);
	if (cJSON_GetObjectItem(o, "commits") == NULL)
		cJSON_AddNumberToObject(o, "commits", (double)f->ctl->commits);
	if (cJSON_GetObjectItem(o, "announced") == NULL)
		cJSON_AddArrayToObject(o, "announced");
	if (cJSON_GetObjectItem(o, "health") == NULL)
		cJSON_AddObjectToObject(o, "health");
	pthread_mutex_lock(&f->lock);
	cJSON_AddStringToObject(o, "etcd", f->up ? "Connected" : "Unreachable");
	pthread_mutex_unlock(&f->lock);
	cJSON_AddStringToObject(o, "updated", updated);
	if (cJSON_GetObjectItem(o, "tables") == NULL)
		cJSON_AddObjectToObject(o, "tables");
	if (f->rejected != NULL)
		cJSON_AddItemToObject(o, "rejected", cJSON_Duplicate(f->rejected, 1));
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text == NULL)
		return;
	pthread_mutex_lock(&f->lock);
	free(f->host_json);
	f->host_json = text;
	f->host_dirty = true;
	pthread_mutex_unlock(&f->lock);
}

/* Apply revision rev's document as one commit; 0, or a negative errno with *err. */
static int
sl_fleet_apply(struct sl_fleet *f, int64_t rev, const char *text, struct sl_error *err)
{
	char target[64], line[1400];
	cJSON *doc;
	int rc;

	snprintf(target, sizeof(target), "fleet revision %" PRId64, rev);
	doc = sl_json_parse(text, strlen(text), target, err);
	if (doc == NULL) {
		rc = -EINVAL;
	} else {
		f->ctl->fleet_applying = 1;
		rc = sl_controller_commit(f->ctl, doc, 0, err);
		f->ctl->fleet_applying = 0;
	}
	if (rc < 0) {
		sl_log(SL_LOG_ERR, "fleet", "fleet revision %" PRId64 " refused, this host keeps "
		       "fleet revision %" PRId64 ": %s", rev, f->applied,
		       sl_error_format(err, line, sizeof(line)));
		cJSON_Delete(f->rejected);
		f->rejected = cJSON_CreateObject();
		cJSON_AddNumberToObject(f->rejected, "revision", (double)rev);
		cJSON_AddItemToObject(f->rejected, "error",
				      sl_json_arm_error(err->code, err->message, err->target,
							err->json_path));
		pthread_mutex_lock(&f->lock);
		f->rejected_shared = rev;
		pthread_mutex_unlock(&f->lock);
		sl_fleet_host_update(f);
		return rc;
	}
	cJSON_Delete(f->rejected);
	f->rejected = NULL;
	f->applied = rev;
	sl_fleet_save_revision(f);
	if (!f->ctl->unchanged)
		sl_log(SL_LOG_NOTICE, "fleet", "fleet revision %" PRId64 " applied", rev);
	sl_fleet_host_update(f);
	return 0;
}

void
sl_fleet_run(struct sl_fleet *f)
{
	struct sl_fleet_event *ev;
	struct sl_error err;
	uint64_t v;
	double now = sl_mono_s();

	if (read(f->efd, &v, sizeof(v)) > 0) {
		pthread_mutex_lock(&f->lock);
		ev = f->head;
		f->head = f->tail = NULL;
		pthread_mutex_unlock(&f->lock);
		while (ev != NULL) {
			struct sl_fleet_event *next = ev->next;
			if (ev->revision > f->applied || (ev->force && ev->revision == f->applied))
				sl_fleet_apply(f, ev->revision, ev->doc, &err);
			free(ev->doc);
			free(ev);
			ev = next;
		}
	}
	if (now >= f->host_due) {
		f->host_due = now + 1.0;
		sl_fleet_host_update(f);
	}
}

/* The hook's write: the txn on the applied revision (the control thread waits, 2 s at most). */
static int
sl_fleet_write(void *ctx, const cJSON *doc, struct sl_error *err)
{
	struct sl_fleet *f = ctx;
	struct sl_etcd_kv now;
	char *text = cJSON_PrintUnformatted(doc), why[256];
	int64_t rev;
	bool ok;
	int rc;

	if (text == NULL)
		return sl_error_set(err, "OutOfMemory", "configuration", "", "Out of memory.");
	rc = sl_etcd_txn_put(f->writer, f->key_config, text, f->applied, SL_FLEET_WRITE_MS, &ok,
			     &rev, &now, why, sizeof(why));
	free(text);
	if (rc < 0) {
		f->refused++;
		sl_error_set(err, "FleetStoreUnavailable", f->key_config, "",
			     "The fleet's etcd (%s) %s: %s; the configuration is unchanged (fleet "
			     "revision %" PRId64 "). Reads are served from it; retry the change "
			     "later.", f->endpoints,
			     rc == -EIO ? "refused the write" : "cannot be reached", why, f->applied);
		return -EHOSTUNREACH;
	}
	if (ok) {
		f->pending = rev;
		return 0;
	}
	f->conflicts++;
	free(f->race_doc);
	f->race_doc = now.value;
	f->race_rev = now.value != NULL ? now.mod_revision : 0;
	now.value = NULL;
	sl_etcd_kv_clear(&now);
	sl_error_set(err, "FleetConflict", f->key_config, "",
		     "Another writer changed the fleet's configuration first (fleet revision %"
		     PRId64 ", this host had %" PRId64 "): the change was not made; retry it.",
		     f->race_rev, f->applied);
	return -EAGAIN;
}

static void
sl_fleet_written(void *ctx)
{
	struct sl_fleet *f = ctx;

	f->committed++;
	f->applied = f->pending;
	sl_fleet_save_revision(f);
	sl_fleet_host_update(f);
}

static int
sl_fleet_catch_up(void *ctx, struct sl_error *err)
{
	struct sl_fleet *f = ctx;
	int rc = 0;

	f->retried++;
	if (f->race_doc == NULL) { /* the key is gone: the next write creates it */
		f->applied = 0;
		return 0;
	}
	if (f->race_rev > f->applied)
		rc = sl_fleet_apply(f, f->race_rev, f->race_doc, err);
	free(f->race_doc);
	f->race_doc = NULL;
	return rc;
}

static int64_t
sl_fleet_revision(void *ctx)
{
	return ((struct sl_fleet *)ctx)->applied;
}

int64_t
sl_fleet_applied(const struct sl_fleet *f)
{
	return f->applied;
}

int
sl_fleet_fd(const struct sl_fleet *f)
{
	return f->efd;
}

/* STATE_DIR/fleet-revision, or 0. */
static int64_t
sl_fleet_load_revision(const char *path)
{
	FILE *fp = path != NULL ? fopen(path, "r") : NULL;
	long long v = 0;

	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%lld", &v) != 1 || v < 0)
		v = 0;
	fclose(fp);
	return v;
}

static int
sl_fleet_check_opts(const struct sl_fleet_opts *o, struct sl_error *err)
{
	size_t n = o->prefix != NULL ? strlen(o->prefix) : 0;

	if (n < 2 || o->prefix[0] != '/' || o->prefix[n - 1] == '/')
		return sl_error_set(err, "FleetOptionInvalid", "--fleet-prefix", "",
				    "--fleet-prefix '%s' must start with '/' and not end with one "
				    "(e.g. /sluice/prod).", o->prefix ? o->prefix : "");
	if (o->name != NULL && (o->name[0] == '\0' || strchr(o->name, '/') != NULL))
		return sl_error_set(err, "FleetOptionInvalid", "--fleet-name", "",
				    "--fleet-name '%s' must be a non-empty name without '/'.",
				    o->name);
	return 0;
}

struct sl_fleet *
sl_fleet_create(const struct sl_fleet_opts *o, struct sl_controller *ctl, struct sl_error *err)
{
	struct sl_fleet *f;
	char host[256], why[256];

	if (sl_fleet_check_opts(o, err) != 0)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		goto nomem;
	f->efd = -1;
	pthread_mutex_init(&f->lock, NULL);
	if (o->name == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "sluice");
		host[sizeof(host) - 1] = '\0';
	}
	f->prefix = strdup(o->prefix);
	f->name = strdup(o->name != NULL ? o->name : host);
	if (f->prefix == NULL || f->name == NULL ||
	    asprintf(&f->key_config, "%s/config", o->prefix) < 0 ||
	    asprintf(&f->key_host, "%s/hosts/%s", o->prefix, f->name) < 0 ||
	    (o->state_dir != NULL && asprintf(&f->rev_file, "%s/fleet-revision", o->state_dir) < 0))
		goto nomem;
	f->writer = sl_etcd_create(o->endpoints, why, sizeof(why));
	f->reader = f->writer != NULL ? sl_etcd_create(o->endpoints, why, sizeof(why)) : NULL;
	if (f->reader == NULL) {
		sl_error_set(err, "FleetOptionInvalid", "--fleet-etcd", "", "--fleet-etcd: %s.", why);
		sl_fleet_free(f);
		return NULL;
	}
	sl_etcd_endpoints_text(f->writer, f->endpoints, sizeof(f->endpoints));
	f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (f->efd < 0)
		goto nomem;
	f->host_fields = o->host_fields;
	f->host_ctx = o->ctx;
	f->ctl = ctl;
	/* a restart forwards with its last applied revision at once, etcd or not */
	f->applied = sl_fleet_load_revision(f->rev_file);
	f->applied_shared = f->newest = f->applied;
	sl_rfc3339(f->since, sizeof(f->since)); /* Unreachable until etcd first answers */
	snprintf(f->cause, sizeof(f->cause), "not yet reached");
	f->hook = (struct sl_fleet_hook){.write = sl_fleet_write,
					 .written = sl_fleet_written,
					 .catch_up = sl_fleet_catch_up,
					 .revision = sl_fleet_revision,
					 .ctx = f};
	ctl->fleet = &f->hook;
	return f;
nomem:
	sl_error_set(err, "OutOfMemory", "--fleet-etcd", "", "Out of memory.");
	sl_fleet_free(f);
	return NULL;
}

int
sl_fleet_start(struct sl_fleet *f, struct sl_error *err)
{
	int rc;

	f->seed = cJSON_PrintUnformatted(f->ctl->doc);
	if (f->seed == NULL)
		return sl_error_set(err, "OutOfMemory", "fleet", "", "Out of memory.");
	sl_log(SL_LOG_NOTICE, "fleet", "host %s in fleet %s (etcd %s), fleet revision %" PRId64
	       " applied", f->name, f->prefix, f->endpoints, f->applied);
	sl_fleet_host_update(f);
	atomic_init(&f->quit, false);
	rc = pthread_create(&f->thread, NULL, sl_fleet_main, f);
	if (rc != 0)
		return sl_error_set(err, "FleetThreadFailed", "fleet", "",
				    "Cannot start the fleet thread: %s.", strerror(rc)) ? -rc : -rc;
	pthread_setname_np(f->thread, "sl-fleet");
	f->started = true;
	return 0;
}

cJSON *
sl_fleet_status(struct sl_fleet *f)
{
	cJSON *o = cJSON_CreateObject(), *a, *w;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "name", f->name);
	cJSON_AddStringToObject(o, "prefix", f->prefix);
	a = cJSON_AddArrayToObject(o, "endpoints");
	for (size_t i = 0; i < sl_etcd_n_endpoints(f->writer); i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(sl_etcd_endpoint(f->writer, i)));
	pthread_mutex_lock(&f->lock);
	cJSON_AddStringToObject(o, "etcd", f->up ? "Connected" : "Unreachable");
	if (!f->up)
		cJSON_AddStringToObject(o, "cause", f->cause[0] ? f->cause : "not yet reached");
	cJSON_AddStringToObject(o, "since", f->since);
	cJSON_AddBoolToObject(o, "partitioned", !f->up);
	int64_t newest = f->newest > f->applied ? f->newest : f->applied;
	pthread_mutex_unlock(&f->lock);
	cJSON_AddNumberToObject(o, "appliedRevision", (double)f->applied);
	cJSON_AddNumberToObject(o, "newestRevision", (double)newest);
	cJSON_AddBoolToObject(o, "behind", newest > f->applied);
	cJSON_AddItemToObject(o, "rejected", f->rejected != NULL ? cJSON_Duplicate(f->rejected, 1)
								 : cJSON_CreateNull());
	w = cJSON_AddObjectToObject(o, "writes");
	cJSON_AddNumberToObject(w, "committed", (double)f->committed);
	cJSON_AddNumberToObject(w, "conflicts", (double)f->conflicts);
	cJSON_AddNumberToObject(w, "retried", (double)f->retried);
	cJSON_AddNumberToObject(w, "refused", (double)f->refused);
	return o;
}

static int
sl_host_cmp(const void *a, const void *b)
{
	const cJSON *x = cJSON_GetObjectItem(*(cJSON *const *)a, "name");
	const cJSON *y = cJSON_GetObjectItem(*(cJSON *const *)b, "name");

	return strcmp(cJSON_IsString(x) ? x->valuestring : "",
		      cJSON_IsString(y) ? y->valuestring : "");
}

int
sl_fleet_hosts(struct sl_fleet *f, cJSON **out, struct sl_error *err)
{
	cJSON *o, *hosts, **v;
	int n;

	pthread_mutex_lock(&f->lock);
	if (!f->up || f->hosts == NULL || sl_mono_s() - f->hosts_at > SL_FLEET_HOSTS_STALE) {
		sl_error_set(err, "FleetStoreUnavailable", f->prefix, "",
			     "The fleet's etcd (%s) cannot be read: %s. This host's own state is "
			     "in GET /sluice/status.", f->endpoints,
			     f->cause[0]       ? f->cause
			     : f->hosts_why[0] ? f->hosts_why
					     : "no answer yet");
		pthread_mutex_unlock(&f->lock);
		return -EHOSTUNREACH;
	}
	hosts = cJSON_Duplicate(f->hosts, 1);
	int64_t newest = f->newest > f->applied ? f->newest : f->applied;
	pthread_mutex_unlock(&f->lock);
	o = cJSON_CreateObject();
	if (o == NULL || hosts == NULL) {
		cJSON_Delete(o);
		cJSON_Delete(hosts);
		return sl_error_set(err, "OutOfMemory", "fleet", "", "Out of memory."), -EHOSTUNREACH;
	}
	cJSON_AddStringToObject(o, "prefix", f->prefix);
	cJSON_AddNumberToObject(o, "newestRevision", (double)newest);
	/* sorted by name */
	n = cJSON_GetArraySize(hosts);
	v = calloc((size_t)n + 1, sizeof(*v));
	for (int i = 0; v != NULL && i < n; i++)
		v[i] = cJSON_DetachItemFromArray(hosts, 0);
	if (v != NULL) {
		qsort(v, (size_t)n, sizeof(*v), sl_host_cmp);
		for (int i = 0; i < n; i++)
			cJSON_AddItemToArray(hosts, v[i]);
		free(v);
	}
	cJSON_AddItemToObject(o, "hosts", hosts);
	*out = o;
	return 0;
}

void
sl_fleet_write_prometheus(FILE *out, struct sl_fleet *f)
{
	bool up;

	pthread_mutex_lock(&f->lock);
	up = f->up;
	pthread_mutex_unlock(&f->lock);
	fprintf(out, "# HELP sluice_fleet_applied_revision The fleet revision this host applied.\n"
		"# TYPE sluice_fleet_applied_revision gauge\n"
		"sluice_fleet_applied_revision %" PRId64 "\n"
		"# HELP sluice_fleet_etcd_up 1 while the fleet's etcd answers this host.\n"
		"# TYPE sluice_fleet_etcd_up gauge\n"
		"sluice_fleet_etcd_up %d\n"
		"# HELP sluice_fleet_writes_total Changes made on this host, by outcome.\n"
		"# TYPE sluice_fleet_writes_total counter\n"
		"sluice_fleet_writes_total{outcome=\"committed\"} %" PRIu64 "\n"
		"sluice_fleet_writes_total{outcome=\"conflict\"} %" PRIu64 "\n"
		"sluice_fleet_writes_total{outcome=\"refused\"} %" PRIu64 "\n",
		f->applied, up ? 1 : 0, f->committed, f->conflicts, f->refused);
}

void
sl_fleet_free(struct sl_fleet *f)
{
	if (f == NULL)
		return;
	if (f->started) {
		atomic_store(&f->quit, true);
		pthread_join(f->thread, NULL);
	}
	if (f->ctl != NULL && f->ctl->fleet == &f->hook)
		f->ctl->fleet = NULL;
	while (f->head != NULL) {
		struct sl_fleet_event *n = f->head->next;
		free(f->head->doc);
		free(f->head);
		f->head = n;
	}
	sl_etcd_free(f->writer);
	sl_etcd_free(f->reader);
	if (f->efd >= 0)
		close(f->efd);
	cJSON_Delete(f->hosts);
	cJSON_Delete(f->rejected);
	free(f->seed);
	free(f->host_json);
	free(f->race_doc);
	free(f->prefix);
	free(f->name);
	free(f->key_config);
	free(f->key_host);
	free(f->rev_file);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
