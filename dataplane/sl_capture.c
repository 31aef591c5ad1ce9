/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_capture.c: pdump's multi-process handler, registered at start and
 * removed at exit, and whether a capture tool can reach it (sl_capture.h).
 */
#include <errno.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pdump.h>

#include "sl_capture.h"

/* pdump's action name on the multi-process channel (lib/pdump: PDUMP_MP). */
#define SL_PDUMP_MP_ACTION "mp_pdump"

static int sl_capture_on;

static int
sl_capture_probe_action(const struct rte_mp_msg *msg, const void *peer)
{
	(void)msg;
	(void)peer;
	return 0;
}

/*
 * rte_pdump_init() succeeds even when EAL runs without the multi-process
 * channel (--in-memory, --no-shconf): it only fails to register its handler.
 * Registering a handler under pdump's name again tells which: EEXIST, it is
 * there; ENOTSUP, the channel is off.
 */
static int
sl_capture_reachable(void)
{
	if (rte_mp_action_register(SL_PDUMP_MP_ACTION, sl_capture_probe_action) == 0) {
		rte_mp_action_unregister(SL_PDUMP_MP_ACTION);
		rte_errno = ENOENT;
		return 0;
	}
	return rte_errno == EEXIST;
}

int
sl_capture_init(struct sl_error *err)
{
	if (!rte_eal_has_hugepages())
		return sl_error_set(err, "CaptureUnavailable", "pdump", "",
				    "Live capture is unavailable: with --no-huge a capture tool cannot "
				    "map sluiced's memory; run sluiced on hugepages, with --file-prefix "
				    "NAME, for dpdk-dumpcap to attach.");
	if (rte_pdump_init() != 0)
		return sl_error_set(err, "CaptureInitFailed", "pdump", "",
				    "Live capture is unavailable: pdump could not start: %s.",
				    rte_strerror(rte_errno));
	if (!sl_capture_reachable()) {
		int why = rte_errno;
		rte_pdump_uninit();
		return sl_error_set(err, "CaptureUnavailable", "pdump", "",
				    "Live capture is unavailable: EAL runs without its multi-process "
				    "channel (%s); run sluiced with --file-prefix NAME and without "
				    "--in-memory or --no-shconf for dpdk-dumpcap to attach.",
				    why == ENOTSUP ? "--in-memory or --no-shconf" : rte_strerror(why));
	}
	sl_capture_on = 1;
	return 0;
}

void
sl_capture_fini(void)
{
	if (!sl_capture_on)
		return;
	rte_pdump_uninit();
	sl_capture_on = 0;
}
