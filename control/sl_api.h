/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_api.h: the REST API: HTTP/1.1 on a Unix socket, served by
 * libmicrohttpd from the control thread's loop (no thread of its own: the
 * loop polls sl_api_fd() and calls sl_api_run(), so requests and every
 * other change to the configuration are serialised without locks).
 *
 * Resource paths and bodies are Azure Resource Manager's
 * (/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/...,
 * ?api-version=...); see docs/api.md. Changes go through
 * sl_controller_commit(). sluice's own endpoints:
 *   GET /sluice/status   generation, commits, the last commit's step timings
 *   GET /sluice/stats    the dataplane counters (the stats hook)
 *   GET /sluice/probes   health probe targets with their last results
 *   GET /sluice/metrics  the counters as Prometheus text
 *   GET, PUT /sluice/service  the host's service state and announcements
 * and ARM template deployments (.../providers/Microsoft.Resources/
 * deployments/..., sl_deploy_api.h).
 * Every request other than GET and HEAD is logged as a configuration
 * change (sl_audit.h): the peer's uid and pid, method and path, result.
 * The endpoints are served by sl_api_handler.h's transport-independent
 * handler; sl_api.c is the socket and libmicrohttpd around it.
 */
#ifndef SL_API_H
#define SL_API_H

#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "sl_controller.h"
#include "sl_error.h"

#define SL_API_DEFAULT_SOCKET "/run/sluice/sluiced.sock"

/*
 * The limits of the socket and its requests (docs/reliability.md, section
 * 7), each a sluiced option. The body limit is above the 16 MiB of a
 * configuration file (SL_CONFIG_MAX_FILE_SIZE), so that no document the
 * file may hold is refused through the API.
 */
#define SL_API_DEFAULT_MAX_CONNECTIONS 64
#define SL_API_DEFAULT_RATE 1000
#define SL_API_DEFAULT_MAX_HEADER (32u << 10)
#define SL_API_DEFAULT_MAX_BODY (32u << 20)
#define SL_API_DEFAULT_REQUEST_TIMEOUT 10

struct sl_api_limits {
	unsigned int max_connections;   /* open at once; past it the newest is refused (503) */
	unsigned int rate;              /* requests a second per peer uid but root's, as many in a burst; 0: none */
	size_t max_header_bytes;        /* request line and headers (431) */
	size_t max_body_bytes;          /* a request's body (413) */
	unsigned int request_timeout_s; /* to send a whole request, or read a whole answer (408) */
};

/* What the limits refused since the start (in GET /sluice/status, "api"). */
struct sl_api_counters {
	uint64_t requests;
	uint64_t connections_refused; /* past max_connections */
	uint64_t rate_limited;        /* 429 */
	uint64_t headers_too_large;   /* 431 */
	uint64_t bodies_too_large;    /* 413 */
	uint64_t slow_closed;         /* closed past request_timeout_s, or evicted for a newcomer */
	unsigned int connections_open;
};

void sl_api_limits_default(struct sl_api_limits *l);

struct sl_api;

struct sl_api_hooks {
	/* Counters as a JSON text (malloc'd), or NULL. */
	char *(*stats_json)(void *ctx);
	/* The same counters as Prometheus text (malloc'd), or NULL. */
	char *(*stats_prometheus)(void *ctx);
	/* Health probe targets and their results (a new JSON array), or NULL. */
	cJSON *(*probe_status)(void *ctx);
	/* Neighbour table and slow-path counters as a JSON text (malloc'd), or NULL. */
	char *(*neighbours_json)(void *ctx);
	/*
	 * 1 when a pool member is healthy: the load balancer by its label
	 * (sl_config.h: its name, or "<resourceGroup>:<name>" when another
	 * resource group has one of its name), the pool and address by name.
	 */
	int (*healthy)(void *ctx, const char *lb, const char *pool, const char *address);
	/* The service object (GET /sluice/service; "service" in /sluice/status): new JSON, or NULL. */
	cJSON *(*service)(void *ctx);
	/*
	 * Apply a PUT /sluice/service body (parsed JSON). Returns 0, or the
	 * HTTP status of the refusal (400, 409, 500) with *err filled.
	 */
	int (*set_service)(void *ctx, const cJSON *body, struct sl_error *err);
	/* The generation of the running configuration (for the audit line of a change), or NULL. */
	uint64_t (*generation)(void *ctx);
	/*
	 * "tables" of GET /sluice/status: {"<lb>/<rule>": {"backends": n,
	 * "digest": "<8 hex>"}} of the published snapshot (new JSON), or NULL.
	 */
	cJSON *(*tables)(void *ctx);
	/* "fleet" of GET /sluice/status (new JSON), or NULL: no fleet (sl_fleet.h). */
	cJSON *(*fleet_status)(void *ctx);
	/*
	 * GET /sluice/fleet: the fleet's hosts (new JSON in *out). Returns 0,
	 * -ENOENT (no fleet), or -EHOSTUNREACH with *err (the store cannot be read).
	 */
	int (*fleet_hosts)(void *ctx, cJSON **out, struct sl_error *err);
	void *ctx;
};

/*
 * Listen on a Unix socket at path (its directory is created; a stale socket
 * file is replaced). The socket is created with its final mode: 0600, or
 * with gid >= 0 owned by that group with mode 0660; it is never reachable
 * with a wider one. limits: NULL for the defaults. NULL with *err and errno
 * on failure (another sluiced answering on the path is EADDRINUSE).
 */
struct sl_api *sl_api_start(const char *path, long gid, const struct sl_api_limits *limits,
			    struct sl_controller *ctl, const struct sl_api_hooks *hooks,
			    struct sl_error *err);

/*
 * A group given by name or number (--api-group): its gid, or -1 with *err
 * (UnknownApiGroup) when the system has no such group.
 */
long sl_api_group_parse(const char *group, struct sl_error *err);

/*
 * Restore the deployment records of the controller's state directory (call
 * once the controller is initialised; a damaged file is logged and set
 * aside). Without it they are read on the first deployments request.
 */
void sl_api_restore_deployments(struct sl_api *api);

/* A descriptor that becomes readable when sl_api_run() has work. */
int sl_api_fd(const struct sl_api *api);

/*
 * What sl_api_fd() and sl_api_run() do, for any libmicrohttpd daemon run
 * from the control loop with MHD_USE_EPOLL (the metrics listener's too):
 * its epoll descriptor; and run it until it has nothing left to do now,
 * at most rounds times (its epoll is edge-triggered: a run that leaves
 * data to read says so with a zero timeout, not by waking the descriptor).
 */
struct MHD_Daemon;
int sl_mhd_fd(struct MHD_Daemon *mhd);
void sl_mhd_run(struct MHD_Daemon *mhd, int rounds);

/* Serve whatever is ready, without blocking. */
void sl_api_run(struct sl_api *api);

/* Close the socket and remove its file. NULL is accepted. */
void sl_api_stop(struct sl_api *api);

#endif /* SL_API_H */
