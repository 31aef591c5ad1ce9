/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_capture.c: the capture requests of dpdk-dumpcap and dpdk-pdump: the
 * handler on the multi-process channel, the RX/TX callbacks that copy into
 * the tool's ring, and their removal once no worker can be inside them
 * (see sl_capture.h).
 */
#define ALLOW_EXPERIMENTAL_API /* rte_pcapng_copy */

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bpf.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_memzone.h>
#include <rte_pause.h>
#include <rte_pcapng.h>
#include <rte_pdump.h>
#include <rte_ring.h>
#include <rte_version.h>

#include "sl_capture.h"
#include "sl_logging.h"

RTE_LOG_REGISTER(sl_logtype_capture, user.sluice.capture, INFO);
#define CAP_LOG(level, ...) SL_LOG(level, sl_logtype_capture, "capture", __VA_ARGS__)

/* The capture protocol's name on the multi-process channel (lib/pdump's). */
#define SL_PDUMP_ACTION "mp_pdump"

static pthread_mutex_t sl_capture_lock = PTHREAD_MUTEX_INITIALIZER;
static int sl_capture_on;                                /* under sl_capture_lock */
static struct rte_rcu_qsbr *_Atomic sl_capture_workers; /* NULL: not attached */

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
 * Registering a handler under the protocol's name again tells which:
 * EEXIST, it is there; ENOTSUP, the channel is off.
 */
static int
sl_capture_reachable(void)
{
	if (rte_mp_action_register(SL_PDUMP_ACTION, sl_capture_probe_action) == 0) {
		rte_mp_action_unregister(SL_PDUMP_ACTION);
		rte_errno = ENOENT;
		return 0;
	}
	return rte_errno == EEXIST;
}

#if RTE_VERSION >= RTE_VERSION_NUM(22, 11, 0, 0) && RTE_VERSION < RTE_VERSION_NUM(23, 0, 0, 0)
#define SL_CAPTURE_OWN_SERVER 1

#ifdef SL_STATIC_DPDK /* -Dstatic_dpdk=true */
#define SL_DPDK_STATIC 1
#else
#define SL_DPDK_STATIC 0
#endif

/* DPDK 22.11's capture protocol: the tool's request and the answer. */
enum { SL_PDUMP_DISABLE = 1, SL_PDUMP_ENABLE = 2 };
enum { SL_PDUMP_COPY = 1, SL_PDUMP_PCAPNG = 2 }; /* versions: plain copies; pcapng, filter */

struct sl_pdump_request {
	uint16_t ver;
	uint16_t op;
	uint32_t flags; /* RTE_PDUMP_FLAG_RX and/or RTE_PDUMP_FLAG_TX */
	char device[RTE_DEV_NAME_MAX_LEN];
	uint16_t queue; /* RTE_PDUMP_ALL_QUEUES: every queue of the port */
	struct rte_ring *ring;
	struct rte_mempool *mp;
	const struct rte_bpf_prm *prm; /* NULL: no filter */
	uint32_t snaplen;
};

struct sl_pdump_answer {
	uint16_t ver;
	uint16_t op;
	int32_t err; /* 0 or a negative errno */
};

_Static_assert(sizeof(struct sl_pdump_request) <= RTE_MP_MAX_PARAM_LEN, "request too large");

/* The statistics a tool reads with rte_pdump_stats(), in the library's shared zone. */
#define SL_PDUMP_STATS_ZONE "rte_pdump_stats"
struct sl_pdump_stats_zone {
	struct rte_pdump_stats rx[RTE_MAX_ETHPORTS][RTE_MAX_QUEUES_PER_PORT];
	struct rte_pdump_stats tx[RTE_MAX_ETHPORTS][RTE_MAX_QUEUES_PER_PORT];
	const struct rte_memzone *mz;
};

#define SL_TAP_BURST 32

/* A BPF filter shared by the queues that one request taps. */
struct sl_tap_filter {
	struct rte_bpf *bpf;
	unsigned int refs;
};

/* One direction of one queue, tapped. */
struct sl_tap {
	atomic_uint busy; /* odd while a callback runs on it */
	uint16_t ver;
	uint32_t snaplen;
	struct rte_ring *ring; /* NULL: not tapped */
	struct rte_mempool *mp;
	struct sl_tap_filter *filter;
	struct rte_pdump_stats *stats;
	const struct rte_eth_rxtx_callback *cb; /* NULL: removed */
};

enum sl_tap_dir { SL_TAP_RX, SL_TAP_TX };

static struct sl_pdump_stats_zone *sl_pdump_stats;
static struct sl_tap *sl_taps[2][RTE_MAX_ETHPORTS]; /* RTE_MAX_QUEUES_PER_PORT each, on first use */

static void
sl_tap_filter_put(struct sl_tap_filter *f)
{
	if (f != NULL && --f->refs == 0) {
		rte_bpf_destroy(f->bpf);
		free(f);
	}
}

/* Copy the packets of one chunk that pass the filter into the tool's ring. */
static void
sl_tap_chunk(struct sl_tap *t, uint16_t port, uint16_t queue, enum rte_pcapng_direction dir,
	     struct rte_mbuf **pkts, uint16_t n, uint64_t tsc)
{
	struct rte_mbuf *copies[SL_TAP_BURST];
	uint64_t pass[SL_TAP_BURST];
	unsigned int k = 0, queued;

	if (t->filter != NULL)
		rte_bpf_exec_burst(t->filter->bpf, (void **)pkts, pass, n);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *c;

		if (t->filter != NULL && pass[i] == 0) {
			__atomic_fetch_add(&t->stats->filtered, 1, __ATOMIC_RELAXED);
			continue;
		}
		c = t->ver == SL_PDUMP_PCAPNG
			    ? rte_pcapng_copy(port, queue, pkts[i], t->mp, t->snaplen, tsc, dir)
			    : rte_pktmbuf_copy(pkts[i], t->mp, 0, t->snaplen);
		if (c == NULL)
			__atomic_fetch_add(&t->stats->nombuf, 1, __ATOMIC_RELAXED);
		else
			copies[k++] = c;
	}
	__atomic_fetch_add(&t->stats->accepted, k, __ATOMIC_RELAXED);
	queued = rte_ring_enqueue_burst(t->ring, (void **)copies, k, NULL);
	if (queued < k) {
		__atomic_fetch_add(&t->stats->ringfull, k - queued, __ATOMIC_RELAXED);
		rte_pktmbuf_free_bulk(&copies[queued], k - queued);
	}
}

static void
sl_tap_run(struct sl_tap *t, uint16_t port, uint16_t queue, enum rte_pcapng_direction dir,
	   struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t tsc = rte_get_tsc_cycles();

	atomic_fetch_add(&t->busy, 1); /* odd: a removal waits for this to end */
	for (uint16_t i = 0; i < n; i += SL_TAP_BURST)
		sl_tap_chunk(t, port, queue, dir, pkts + i, RTE_MIN(n - i, SL_TAP_BURST), tsc);
	atomic_fetch_add(&t->busy, 1);
}

static uint16_t
sl_tap_rx(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n, uint16_t max,
	  void *arg)
{
	(void)max;
	sl_tap_run(arg, port, queue, RTE_PCAPNG_DIRECTION_IN, pkts, n);
	return n;
}

static uint16_t
sl_tap_tx(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	sl_tap_run(arg, port, queue, RTE_PCAPNG_DIRECTION_OUT, pkts, n);
	return n;
}

/* The queues [*first, *end) of port that request r names in direction dir. */
static int
sl_tap_range(uint16_t port, enum sl_tap_dir dir, const struct sl_pdump_request *r,
	     uint16_t *first, uint16_t *end)
{
	struct rte_eth_dev_info info;
	int rc;

	if (r->queue != RTE_PDUMP_ALL_QUEUES) {
		if (r->queue >= RTE_MAX_QUEUES_PER_PORT)
			return -EINVAL;
		*first = r->queue;
		*end = r->queue + 1;
		return 0;
	}
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0)
		return rc;
	*first = 0;
	*end = dir == SL_TAP_RX ? info.nb_rx_queues : info.nb_tx_queues;
	return *end == 0 ? -EINVAL : 0;
}

/*
 * Wait until no callback can still run on the removed taps of [first, end):
 * none is busy, and every worker has passed a quiescent state (one that
 * had loaded a removed callback but not yet marked it busy has then left
 * it too). Then they are free for another capture.
 */
static void
sl_tap_quiesce(uint16_t port, enum sl_tap_dir dir, uint16_t first, uint16_t end)
{
	struct rte_rcu_qsbr *w = atomic_load(&sl_capture_workers);
	struct sl_tap *taps = sl_taps[dir][port];

	for (uint16_t q = first; q < end; q++) {
		const int removed = taps[q].ring != NULL && taps[q].cb == NULL;

		while (removed && (atomic_load(&taps[q].busy) & 1))
			rte_pause();
	}
	if (w != NULL)
		rte_rcu_qsbr_check(w, rte_rcu_qsbr_start(w), true);
	for (uint16_t q = first; q < end; q++) {
		if (taps[q].cb != NULL || taps[q].ring == NULL)
			continue;
		sl_tap_filter_put(taps[q].filter);
		taps[q].filter = NULL;
		taps[q].ring = NULL;
		taps[q].mp = NULL;
	}
}

/* Remove the callbacks of [first, end); the first error is returned. */
static int
sl_tap_remove(uint16_t port, enum sl_tap_dir dir, uint16_t first, uint16_t end)
{
	struct sl_tap *taps = sl_taps[dir][port];
	int rc = 0;

	for (uint16_t q = first; q < end; q++) {
		int r = -EINVAL; /* nothing tapped there */

		if (taps != NULL && taps[q].cb != NULL) {
			r = dir == SL_TAP_RX ? rte_eth_remove_rx_callback(port, q, taps[q].cb)
					     : rte_eth_remove_tx_callback(port, q, taps[q].cb);
			if (r == 0)
				taps[q].cb = NULL;
		}
		if (rc == 0)
			rc = r;
	}
	if (taps != NULL)
		sl_tap_quiesce(port, dir, first, end);
	return rc;
}

static int
sl_tap_add(uint16_t port, enum sl_tap_dir dir, uint16_t q, const struct sl_pdump_request *r,
	   struct sl_tap_filter *f)
{
	struct sl_tap *t = &sl_taps[dir][port][q];

	t->ver = r->ver;
	t->snaplen = r->snaplen;
	t->ring = r->ring;
	t->mp = r->mp;
	t->filter = f;
	if (f != NULL)
		f->refs++;
	t->stats = dir == SL_TAP_RX ? &sl_pdump_stats->rx[port][q] : &sl_pdump_stats->tx[port][q];
	memset(t->stats, 0, sizeof(*t->stats));
	t->cb = dir == SL_TAP_RX ? rte_eth_add_first_rx_callback(port, q, sl_tap_rx, t)
				 : rte_eth_add_tx_callback(port, q, sl_tap_tx, t);
	if (t->cb != NULL)
		return 0;
	sl_tap_filter_put(f);
	t->filter = NULL;
	t->ring = NULL;
	return rte_errno != 0 ? -rte_errno : -EINVAL;
}

/* Tap every queue of the request in direction dir, or none. */
static int
sl_tap_enable(uint16_t port, enum sl_tap_dir dir, const struct sl_pdump_request *r,
	      struct sl_tap_filter *f)
{
	uint16_t first, end, q;
	int rc = sl_tap_range(port, dir, r, &first, &end);

	if (rc != 0)
		return rc;
	if (sl_taps[dir][port] == NULL)
		sl_taps[dir][port] = calloc(RTE_MAX_QUEUES_PER_PORT, sizeof(struct sl_tap));
	if (sl_taps[dir][port] == NULL)
		return -ENOMEM;
	for (q = first; q < end; q++)
		if (sl_taps[dir][port][q].ring != NULL)
			return -EEXIST; /* another capture taps it */
	for (q = first; q < end && rc == 0; q++)
		rc = sl_tap_add(port, dir, q, r, f);
	if (rc != 0)
		sl_tap_remove(port, dir, first, q - 1);
	return rc;
}

/*
 * sluiced serves the tool's pool through its own table of mempool
 * operations, at the tool's index (mp->ops_index). A shared build loads the
 * same drivers from the same folder as the tool, in the same order, so the
 * index names the same operations in both; a static build (-Dstatic_dpdk)
 * registers its few drivers' operations in link order, and the tool's index
 * can name others here (a ring pool served as a stack, or as a ring with
 * one consumer while several workers take from it). The tool's ring says
 * which operations its pool uses (DPDK's tools create ring_mp_mc pools).
 */
static const char *
sl_pool_ring_ops(const struct rte_mempool *mp)
{
	static const struct {
		enum rte_ring_sync_type prod, cons;
		const char *name;
	} kinds[] = {
		{RTE_RING_SYNC_MT, RTE_RING_SYNC_MT, "ring_mp_mc"},
		{RTE_RING_SYNC_ST, RTE_RING_SYNC_ST, "ring_sp_sc"},
		{RTE_RING_SYNC_MT, RTE_RING_SYNC_ST, "ring_mp_sc"},
		{RTE_RING_SYNC_ST, RTE_RING_SYNC_MT, "ring_sp_mc"},
		{RTE_RING_SYNC_MT_RTS, RTE_RING_SYNC_MT_RTS, "ring_mt_rts"},
		{RTE_RING_SYNC_MT_HTS, RTE_RING_SYNC_MT_HTS, "ring_mt_hts"},
	};
	char name[RTE_RING_NAMESIZE];
	const struct rte_ring *r;

	snprintf(name, sizeof(name), RTE_MEMPOOL_MZ_FORMAT, mp->name);
	r = rte_ring_lookup(name);
	if (r == NULL || r != mp->pool_data)
		return NULL; /* not a ring pool */
	for (size_t i = 0; i < RTE_DIM(kinds); i++)
		if (r->prod.sync_type == kinds[i].prod && r->cons.sync_type == kinds[i].cons)
			return kinds[i].name;
	return NULL;
}

static int
sl_ops_index(const char *name)
{
	for (unsigned int i = 0; i < rte_mempool_ops_table.num_ops; i++)
		if (strcmp(rte_mempool_ops_table.ops[i].name, name) == 0)
			return (int)i;
	return -1;
}

struct sl_ops_use {
	const struct rte_mempool *tool;
	int32_t index;
	int used;
};

static void
sl_ops_use_cb(struct rte_mempool *mp, void *arg)
{
	struct sl_ops_use *u = arg;

	u->used |= mp != u->tool && mp->ops_index == u->index;
}

/*
 * Make the tool's index name its pool's operations here too: 0 when it
 * does (already, or once another pool's unused entry of this table is
 * replaced by them), else a negative errno (the capture is refused).
 */
static int
sl_capture_pool_ops(const struct rte_mempool *mp)
{
	struct rte_mempool_ops_table *t = &rte_mempool_ops_table;
	struct sl_ops_use use = {.tool = mp, .index = mp->ops_index};
	const char *want = sl_pool_ring_ops(mp);
	int src = want != NULL ? sl_ops_index(want) : -1;
	int x = mp->ops_index;
	const char *here;

	if (want == NULL) /* a shared build's index names the tool's operations */
		return SL_DPDK_STATIC ? -ENOTSUP : 0;
	if (x < 0 || x >= RTE_MEMPOOL_MAX_OPS_IDX || src < 0)
		return -ENOTSUP;
	here = (unsigned int)x < t->num_ops ? t->ops[x].name : "none";
	if (strcmp(here, want) == 0)
		return 0;
	rte_mempool_walk(sl_ops_use_cb, &use);
	if (use.used) {
		CAP_LOG(ERR, "the capture tool's pool %s uses %s at index %d of the mempool "
			"operations, which another pool uses as %s here\n", mp->name, want, x, here);
		return -EBUSY;
	}
	CAP_LOG(NOTICE, "the capture tool's pool %s uses %s at index %d of the mempool "
		"operations (%s here, unused): now %s here too\n", mp->name, want, x, here, want);
	rte_spinlock_lock(&t->sl);
	t->ops[x] = t->ops[src];
	if (t->num_ops <= (unsigned int)x)
		t->num_ops = x + 1;
	rte_spinlock_unlock(&t->sl);
	return 0;
}

static int
sl_capture_enable(uint16_t port, const struct sl_pdump_request *r)
{
	struct sl_tap_filter *f = NULL;
	uint16_t first, end;
	int rc = 0;

	if (r->ring == NULL || r->mp == NULL)
		return -EINVAL;
	rc = sl_capture_pool_ops(r->mp);
	if (rc != 0)
		return rc;
	if (r->prm != NULL) {
		if (r->prm->prog_arg.type != RTE_BPF_ARG_PTR_MBUF)
			return -EINVAL;
		f = calloc(1, sizeof(*f));
		if (f == NULL)
			return -ENOMEM;
		f->refs = 1; /* this function's, dropped below */
		f->bpf = rte_bpf_load(r->prm);
		if (f->bpf == NULL) {
			free(f);
			return -rte_errno;
		}
	}
	if (r->flags & RTE_PDUMP_FLAG_RX)
		rc = sl_tap_enable(port, SL_TAP_RX, r, f);
	if (rc == 0 && (r->flags & RTE_PDUMP_FLAG_TX)) {
		rc = sl_tap_enable(port, SL_TAP_TX, r, f);
		if (rc != 0 && (r->flags & RTE_PDUMP_FLAG_RX) &&
		    sl_tap_range(port, SL_TAP_RX, r, &first, &end) == 0)
			sl_tap_remove(port, SL_TAP_RX, first, end);
	}
	sl_tap_filter_put(f);
	return rc;
}

static int
sl_capture_disable(uint16_t port, const struct sl_pdump_request *r)
{
	uint16_t first, end;
	int rc = 0;

	for (int d = SL_TAP_RX; d <= SL_TAP_TX; d++) {
		uint32_t flag = d == SL_TAP_RX ? RTE_PDUMP_FLAG_RX : RTE_PDUMP_FLAG_TX;
		int r2;

		if (!(r->flags & flag))
			continue;
		r2 = sl_tap_range(port, d, r, &first, &end);
		if (r2 == 0)
			r2 = sl_tap_remove(port, d, first, end);
		if (rc == 0)
			rc = r2;
	}
	return rc;
}

static int
sl_capture_serve(const struct sl_pdump_request *r)
{
	uint16_t port;
	int rc;

	if ((r->ver != SL_PDUMP_COPY && r->ver != SL_PDUMP_PCAPNG) ||
	    !(r->flags & (RTE_PDUMP_FLAG_RX | RTE_PDUMP_FLAG_TX)))
		return -EINVAL;
	if (rte_eth_dev_get_port_by_name(r->device, &port) != 0)
		return -EINVAL;
	if (r->op == SL_PDUMP_ENABLE)
		rc = sl_capture_enable(port, r);
	else if (r->op == SL_PDUMP_DISABLE)
		rc = sl_capture_disable(port, r);
	else
		return -EINVAL;
	CAP_LOG(INFO, "capture of %s%s%s on %s %s%s%s\n", r->flags & RTE_PDUMP_FLAG_RX ? "RX" : "",
		(r->flags & RTE_PDUMP_FLAG_RXTX) == RTE_PDUMP_FLAG_RXTX ? " and " : "",
		r->flags & RTE_PDUMP_FLAG_TX ? "TX" : "", r->device,
		r->op == SL_PDUMP_DISABLE ? "ended"
		: r->prm != NULL	  ? "started, with a filter"
					  : "started, every packet",
		rc != 0 ? ": " : "", rc != 0 ? rte_strerror(-rc) : "");
	return rc;
}

/* The multi-process handler: serve the request, answer the tool. */
static int
sl_capture_action(const struct rte_mp_msg *msg, const void *peer)
{
	struct rte_mp_msg out;
	struct sl_pdump_answer *a = (struct sl_pdump_answer *)out.param;
	struct sl_pdump_request r;

	memset(&out, 0, sizeof(out));
	if (msg->len_param != (int)sizeof(r)) {
		a->err = -EINVAL;
	} else {
		memcpy(&r, msg->param, sizeof(r));
		r.device[sizeof(r.device) - 1] = '\0';
		a->ver = r.ver;
		a->op = r.op;
		pthread_mutex_lock(&sl_capture_lock);
		a->err = sl_capture_on ? sl_capture_serve(&r) : -ENODEV;
		pthread_mutex_unlock(&sl_capture_lock);
	}
	snprintf(out.name, sizeof(out.name), "%s", SL_PDUMP_ACTION);
	out.len_param = sizeof(*a);
	return rte_mp_reply(&out, peer);
}

/* Take the protocol's handler over from the library, keeping its statistics zone. */
static int
sl_capture_serve_start(struct sl_error *err)
{
	const struct rte_memzone *mz = rte_memzone_lookup(SL_PDUMP_STATS_ZONE);

	if (mz == NULL || mz->len < sizeof(struct sl_pdump_stats_zone))
		return sl_error_set(err, "CaptureInitFailed", "pdump", "", "Live capture is "
				    "unavailable: pdump's statistics zone is missing.");
	sl_pdump_stats = mz->addr;
	rte_mp_action_unregister(SL_PDUMP_ACTION);
	if (rte_mp_action_register(SL_PDUMP_ACTION, sl_capture_action) != 0)
		return sl_error_set(err, "CaptureInitFailed", "pdump", "",
				    "Live capture is unavailable: its request handler could not be "
				    "registered: %s.", rte_strerror(rte_errno));
	return 0;
}

/* At exit: the taps of ports nobody captures any more. */
static void
sl_capture_free_taps(void)
{
	for (int d = SL_TAP_RX; d <= SL_TAP_TX; d++)
		for (int p = 0; p < RTE_MAX_ETHPORTS; p++) {
			int used = 0;

			for (int q = 0; sl_taps[d][p] != NULL && q < RTE_MAX_QUEUES_PER_PORT; q++)
				used |= sl_taps[d][p][q].ring != NULL;
			if (!used) { /* else a callback may still point at it */
				free(sl_taps[d][p]);
				sl_taps[d][p] = NULL;
			}
		}
}
#else
static int
sl_capture_serve_start(struct sl_error *err)
{
	(void)err;
	return 0; /* the library's own server */
}

static void
sl_capture_free_taps(void)
{
}
#endif

int
sl_capture_init(struct sl_error *err)
{
	int rc;

	if (!rte_eal_has_hugepages())
		return sl_error_set(err, "CaptureUnavailable", "pdump", "",
				    "Live capture is unavailable: with --no-huge a capture tool "
				    "cannot map sluiced's memory; run sluiced on hugepages, with "
				    "--file-prefix NAME, for dpdk-dumpcap to attach.");
	if (rte_pdump_init() != 0)
		return sl_error_set(err, "CaptureInitFailed", "pdump", "",
				    "Live capture is unavailable: pdump could not start: %s.",
				    rte_strerror(rte_errno));
	if (!sl_capture_reachable()) {
		int why = rte_errno;
		rte_pdump_uninit();
		return sl_error_set(err, "CaptureUnavailable", "pdump", "",
				    "Live capture is unavailable: EAL runs without its "
				    "multi-process channel (%s); run sluiced with --file-prefix "
				    "NAME and without --in-memory or --no-shconf for dpdk-dumpcap "
				    "to attach.",
				    why == ENOTSUP ? "--in-memory or --no-shconf"
						   : rte_strerror(why));
	}
	rc = sl_capture_serve_start(err);
	if (rc != 0) {
		rte_pdump_uninit();
		return rc;
	}
	pthread_mutex_lock(&sl_capture_lock);
	sl_capture_on = 1;
	pthread_mutex_unlock(&sl_capture_lock);
	return 0;
}

void
sl_capture_attach_workers(struct rte_rcu_qsbr *qsv)
{
	atomic_store(&sl_capture_workers, qsv);
}

void
sl_capture_fini(void)
{
	int was_on;

	pthread_mutex_lock(&sl_capture_lock);
	was_on = sl_capture_on;
	sl_capture_on = 0; /* requests from now on are refused */
	atomic_store(&sl_capture_workers, NULL);
	if (was_on) {
		rte_mp_action_unregister(SL_PDUMP_ACTION);
		rte_pdump_uninit();
		sl_capture_free_taps();
	}
	pthread_mutex_unlock(&sl_capture_lock);
}
