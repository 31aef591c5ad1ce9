/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_announce.h: which frontend addresses this host asks the network to
 * send it, and telling BIRD 2 so.
 *
 * Three parts:
 *   - the decision (sl_announce_decide): per unique frontend address of the
 *     model, announced when the host is in service and at least one rule
 *     of that address (load-balancing or inbound NAT) has a backend that
 *     takes new flows in the published snapshot (sl_backend.usable);
 *   - the generated BIRD include (sl_announce_bird_text): two static
 *     protocols, sluice_frontends4 and sluice_frontends6, always present,
 *     one blackhole route per announced address, written atomically;
 *   - a BIRD control-socket client: after each change of the file it
 *     connects to BIRD's Unix socket, waits for the greeting (0001), sends
 *     "configure" and reads the answer. Non-blocking, driven from the
 *     control thread's poll loop (sl_announce_fd, sl_announce_run); when
 *     BIRD is absent or refuses, it tries again every retry_ms.
 * The service state (InService, OutOfService, Stopping) is the operator's:
 * OutOfService is kept in <state-dir>/service.json across restarts.
 *
 * DESIGN: control thread only (the poll loop, the REST API's handlers and
 * the publication hook all run there); no locks, no threads. Nothing here
 * blocks: the socket is non-blocking and every read or write that would
 * wait returns to the loop. The only blocking calls are the two small
 * atomic file writes (fsync), made when the set or the service state
 * changes, as the controller's state file is written.
 */
#ifndef SL_ANNOUNCE_H
#define SL_ANNOUNCE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "sl_config.h"
#include "sl_error.h"
#include "sl_snapshot.h"

#define SL_BIRD_DEFAULT_SOCKET "/run/bird/bird.ctl"
#define SL_ANNOUNCE_RETRY_MS 1000u      /* between attempts while BIRD is absent or refuses */
#define SL_ANNOUNCE_ANSWER_MS 5000u     /* an attempt BIRD does not finish in this long fails */
#define SL_ANNOUNCE_SERVICE_FILE "service.json"

enum sl_service_state {
	SL_SERVICE_IN = 0,  /* "InService": announce what has a healthy backend */
	SL_SERVICE_OUT,     /* "OutOfService": maintenance, everything withdrawn */
	SL_SERVICE_STOPPING /* "Stopping": SIGTERM's grace period, everything withdrawn */
};

/* What BIRD last said ("bird.state" of the service object). */
enum sl_bird_state {
	SL_BIRD_OFF = 0,      /* "Off": no --bird-config */
	SL_BIRD_PENDING,      /* "Pending": not answered yet since sluiced started */
	SL_BIRD_RECONFIGURED, /* "Reconfigured": the last configure succeeded */
	SL_BIRD_UNREACHABLE,  /* "Unreachable": no socket, no greeting, or no answer */
	SL_BIRD_REFUSED,      /* "Refused": BIRD answered with an error (e.g. 8002) */
};

/* Why a frontend address is or is not announced. */
enum sl_announce_reason {
	SL_REASON_ANNOUNCED = 0,     /* "Announced" */
	SL_REASON_OUT_OF_SERVICE,    /* "OutOfService" */
	SL_REASON_STOPPING,          /* "Stopping" */
	SL_REASON_NO_HEALTHY_BACKEND,/* "NoHealthyBackend": its rules have no usable backend */
	SL_REASON_NO_RULE,           /* "NoRule": no rule uses the address */
	SL_REASON_OFF,               /* "AnnouncementsOff": no --bird-config */
};

struct sl_announce_frontend {
	struct sl_ip_addr addr;
	uint8_t family; /* 4 or 6 */
	uint8_t announced;
	uint8_t reason; /* enum sl_announce_reason */
};

/* "InService", "OutOfService", "Stopping". */
const char *sl_service_state_name(enum sl_service_state s);
/* "Off", "Pending", "Reconfigured", "Unreachable", "Refused". */
const char *sl_bird_state_name(enum sl_bird_state s);
/* "Announced", "OutOfService", "Stopping", "NoHealthyBackend", "NoRule", "AnnouncementsOff". */
const char *sl_announce_reason_name(enum sl_announce_reason r);

/*
 * The decision, a pure function. m: the committed model (its frontend
 * addresses; NULL: none); s: the published snapshot (its rules and the
 * usability of their backends; NULL: no rule); announcing: --bird-config is
 * set. Fills *out (malloc'd; free()) with one entry per unique frontend
 * address, IPv4 before IPv6, each in address order, and *n. Returns 0 or
 * -ENOMEM (then *out is NULL and *n 0).
 */
int sl_announce_decide(const struct sl_model *m, const struct sl_snapshot *s,
		       enum sl_service_state state, bool announcing,
		       struct sl_announce_frontend **out, uint32_t *n);

/*
 * The BIRD include for the announced entries of f[0..n): the comment line,
 * then protocol static sluice_frontends4 { ipv4; route A/32 blackhole; ... }
 * and sluice_frontends6 { ipv6; route A/128 blackhole; ... }, tab-indented.
 * Returns a malloc'd string, or NULL on ENOMEM.
 */
char *sl_announce_bird_text(const struct sl_announce_frontend *f, uint32_t n);

struct sl_announce_opts {
	const char *bird_config; /* the file to generate; NULL: announcements off */
	const char *bird_socket; /* NULL: SL_BIRD_DEFAULT_SOCKET */
	const char *state_dir;   /* where service.json is kept; NULL: not kept */
	uint32_t retry_ms;       /* 0: SL_ANNOUNCE_RETRY_MS */
	uint32_t answer_ms;      /* 0: SL_ANNOUNCE_ANSWER_MS */
};

struct sl_announce;

/*
 * Create the announcer: restore the service state from
 * <state_dir>/service.json when there is one. Nothing is written and BIRD
 * is not contacted until the first sl_announce_update(). Returns NULL with
 * errno and *err: ServiceStateCorrupt (the file does not parse, or names
 * no known state; target: the file), ServiceStateUnreadable, or
 * OutOfMemory.
 */
struct sl_announce *sl_announce_create(const struct sl_announce_opts *o, struct sl_error *err);

/* Close BIRD's socket and free. NULL is accepted. Does not touch the file. */
void sl_announce_free(struct sl_announce *a);

/*
 * Recompute the set from the model, the snapshot and the service state
 * (call after every publication and every service change). When the set of
 * announced addresses differs from the one last written (or nothing was
 * written yet), write the file atomically and have BIRD reconfigure
 * (queued for sl_announce_run). Returns 1 when the file was (re)written,
 * 0 when nothing changed, or a negative errno with *err (BirdConfigWriteFailed,
 * target: the file): the write is tried again at the next update or run.
 * With announcements off it only recomputes the reasons and returns 0.
 */
int sl_announce_update(struct sl_announce *a, const struct sl_model *m,
		       const struct sl_snapshot *s, struct sl_error *err);

/*
 * Change the service state. frontend_packets is the frontend traffic
 * counter now (packets forwarded by every rule): what arrives after a
 * withdrawal is reported as packetsSinceWithdrawal. InService and
 * OutOfService are saved in <state_dir>/service.json (atomically) before
 * the change is made; Stopping is never saved (the host stops). Call
 * sl_announce_update() afterwards. Returns 0, or a negative errno with *err:
 * ServiceStopping (-EBUSY: the host is stopping, it takes no other state),
 * StateWriteFailed (the file could not be written; nothing changed).
 */
int sl_announce_set_state(struct sl_announce *a, enum sl_service_state state,
			  uint64_t frontend_packets, struct sl_error *err);

/*
 * The same from a PUT /sluice/service body: {"state": "InService" |
 * "OutOfService"}. Returns 0, or a negative errno with *err:
 * InvalidServiceState (-EINVAL, target "state": not an object, no state,
 * another value, Stopping included), or those of sl_announce_set_state().
 */
int sl_announce_set_json(struct sl_announce *a, const cJSON *body, uint64_t frontend_packets,
			 struct sl_error *err);

enum sl_service_state sl_announce_state(const struct sl_announce *a);

/* The last decision (the entries and their count). */
const struct sl_announce_frontend *sl_announce_frontends(const struct sl_announce *a,
							 uint32_t *n);

/*
 * The BIRD client. sl_announce_fd() is the descriptor to poll (-1: none now)
 * and the events to wait for in *events; sl_announce_next_due() the
 * monotonic time (seconds) at which sl_announce_run() has work without the
 * descriptor (a retry, a deadline), or a negative value for none.
 * sl_announce_run(now) makes whatever progress can be made without
 * blocking (now: CLOCK_MONOTONIC seconds) and returns 1 when BIRD's state
 * or message changed (log sl_announce_bird_message() then), 0 otherwise.
 * While the state stays Unreachable or Refused with the same message, it
 * retries every retry_ms and returns 0.
 */
int sl_announce_fd(const struct sl_announce *a, short *events);
double sl_announce_next_due(const struct sl_announce *a);
int sl_announce_run(struct sl_announce *a, double now);

enum sl_bird_state sl_announce_bird_state(const struct sl_announce *a);
/* BIRD's last answer, or why it could not be reached ("" before any). */
const char *sl_announce_bird_message(const struct sl_announce *a);
/* Configure commands BIRD has accepted so far. */
uint64_t sl_announce_reconfigures(const struct sl_announce *a);

/*
 * The service object of GET /sluice/service (docs/api.md): state, since,
 * announcing, bird {socket, config, state, message, lastReconfigure},
 * frontends [{address, announced, reason}], packetsSinceWithdrawal (the
 * frontend traffic counter now, less its value at the last withdrawal; 0
 * in service). A new object, or NULL on ENOMEM.
 */
cJSON *sl_announce_json(const struct sl_announce *a, uint64_t frontend_packets);

/* Prometheus gauges: sluice_in_service, sluice_frontend_announced{frontend="A"}. */
void sl_announce_write_prometheus(FILE *f, const struct sl_announce *a);

#endif /* SL_ANNOUNCE_H */
