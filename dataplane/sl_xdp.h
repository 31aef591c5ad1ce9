/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_xdp.h: the XDP steering program of AF_XDP ports, through libbpf.
 *
 * A net_af_xdp port shares its kernel interface with the host: sluice's
 * XDP program (dataplane/bpf/sl_xdp_steer.bpf.c) redirects to the port's
 * AF_XDP sockets only what sluice must see and passes the rest to the
 * kernel. DPDK 22.11's AF_XDP PMD puts its sockets only into a program it
 * loads itself (devarg xdp_prog), so the PMD loads and attaches the object
 * while sluiced, on the control thread:
 *
 *   1. before the port is probed (sl_xdp_prepare): checks the interface
 *      and the privileges, takes the interface's lock (one sluiced an
 *      interface), removes a program an earlier sluiced left attached
 *      (SIGKILL) and refuses a foreign one, and names the object in the
 *      devargs;
 *   2. once the port is up (sl_xdp_open): finds the program the PMD
 *      attached and opens its maps;
 *   3. at every publication writes the frontends, the port's own addresses,
 *      the DNAT backends and their endpoints, and the host's own addresses
 *      (re-read every second by sl_xdp_refresh_host), writing only what
 *      changed: what the new snapshot adds before it is published
 *      (sl_xdp_sync_begin), what it removes after (sl_xdp_sync);
 *   4. reads the per-CPU counters (sl_xdp_read) for stats and metrics;
 *   5. after the port is closed (sl_xdp_close), makes sure the program is
 *      gone from the interface; an exit through rte_exit() detaches it too.
 */
#ifndef SL_XDP_H
#define SL_XDP_H

#include <stdint.h>

#include "sl_error.h"
#include "sl_pmd_config.h"
#include "sl_snapshot.h"
#include "sl_stats.h"

struct sl_xdp;

/*
 * Where the program's object is: path when not NULL, else next to the
 * running executable (the build directory), else the installed copy.
 * Returns 0 with buf filled, or -ENOENT with *err filled.
 */
int sl_xdp_find_object(const char *path, char *buf, size_t len, struct sl_error *err);

/*
 * Step 1 for cfg (cfg->af_xdp set): 0, or a negative errno with *err
 * saying what is wrong (interface missing, not root, interface used by
 * another sluiced or another XDP program, the port's address is the
 * kernel's). Appends xdp_prog=object to cfg->devargs.
 */
int sl_xdp_prepare(struct sl_port_cfg *cfg, const char *object, struct sl_error *err);

/* Step 2: NULL with *err filled when the PMD attached no program of sluice's. */
struct sl_xdp *sl_xdp_open(const struct sl_port_cfg *cfg, struct sl_error *err);

/*
 * Step 3, before snapshot s is published: add what s needs to what the
 * maps hold (nothing removed), so that from the moment a worker uses s
 * every frame s takes (a new frontend, a new backend's replies) reaches
 * sluice rather than the kernel. Returns as sl_xdp_sync().
 */
int sl_xdp_sync_begin(struct sl_xdp *x, const struct sl_snapshot *s);

/*
 * Step 3, once s is published (its grace period over): bring the maps to
 * exactly snapshot s (NULL: no frontend), the port's addresses and the
 * host's, and join the IPv6 solicited-node groups of sluice's IPv6
 * addresses on the interface. Returns 0, or a negative errno (logged) when
 * a map refused an entry (full): sluice then sees less than it should, and
 * says so.
 */
int sl_xdp_sync(struct sl_xdp *x, const struct sl_snapshot *s);

/* Re-read the host's addresses; when they changed, sync again with the last snapshot. */
void sl_xdp_refresh_host(struct sl_xdp *x);

/* Step 4: the counters summed over the CPUs, with the port's and program's names. */
void sl_xdp_read(const struct sl_xdp *x, struct sl_xdp_port_stats *out);

/* Step 5: detach the program if the interface still runs it, unlock, free. NULL is a no-op. */
void sl_xdp_close(struct sl_xdp *x);

#endif /* SL_XDP_H */
