/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_audit.h: the log of configuration changes, so that "who drained this
 * backend?" has an answer. One line a change (or refused change), of log
 * module "audit" (DPDK log type user.sluice.audit): who made it, what it
 * changed, and the result:
 *
 *   NOTICE sluice.audit: uid 1000 pid 4242 (sluicectl): PUT /subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/lb/backendAddressPools/web: generation 7 published; addresses added web/a3 10.0.0.3; changed web/a2 10.0.0.2 adminState None -> Down
 *   WARNING sluice.audit: uid 1000 pid 4242 (curl): DELETE /subscriptions/.../loadBalancers/lb: refused: 400 InUseResourceCannotBeDeleted: ...
 *   NOTICE sluice.audit: SIGHUP from uid 0 pid 77 (kill): /etc/sluice/config.json: unchanged
 *   NOTICE sluice.audit: file changed: /etc/sluice/config.json: generation 8 published
 *
 * "Who" of a REST request is the peer of its Unix socket (SO_PEERCRED: the
 * uid and pid of the process that connected, and its command name); of a
 * signal, its sender (siginfo). Control characters in what a client sent
 * (a path, a name) are logged as '?', so a request cannot forge a line.
 */
#ifndef SL_AUDIT_H
#define SL_AUDIT_H

#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "sl_log.h"

/* "uid U pid P (COMM)" of the peer of Unix socket fd; "unknown peer" when it cannot say. */
void sl_audit_peer(int fd, char *buf, size_t len);

/* "PREFIX uid U pid P (COMM)" of process pid (COMM omitted when it is gone). */
void sl_audit_process(const char *prefix, pid_t pid, uid_t uid, char *buf, size_t len);
/* The same with the process's name already read (comm; "" or NULL: read it now). */
void sl_audit_process_named(const char *prefix, pid_t pid, uid_t uid, const char *comm, char *buf,
			    size_t len);

/*
 * The backend addresses of a resource (a load balancer, a pool, a list of
 * them: every loadBalancerBackendAddresses below it) that differ between
 * before and after (either may be NULL: none), as
 * "addresses added P/A IP, ...; removed P/A IP; changed P/A IP adminState X -> Y"
 * (P the pool, A the address's name); "" when none differ. What does not
 * fit in len ends with "(N more)". Returns the length written.
 */
size_t sl_audit_addresses(const cJSON *before, const cJSON *after, char *buf, size_t len);

/* Log "who: what: result" at level (SL_LOG_NOTICE for a change, SL_LOG_WARNING for a refusal). */
void sl_audit_log(int level, const char *who, const char *what, const char *result);

#endif /* SL_AUDIT_H */
