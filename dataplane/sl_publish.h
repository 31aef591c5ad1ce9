/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_publish.h: publication of snapshots to the workers through QSBR RCU.
 *
 * DESIGN: one writer (the control thread) and N readers (worker lcores).
 * The writer stores the new snapshot pointer with release order, so a worker
 * that loads it with acquire order sees a fully built snapshot. The writer
 * then starts a grace period (rte_rcu_qsbr_start) and waits until every
 * registered worker has reported a quiescent state after the store
 * (rte_rcu_qsbr_check, blocking); only then is the old snapshot freed.
 * Workers report once per loop iteration, at a point where they hold no
 * pointer into any snapshot. Workers never free shared memory.
 * Both sides of the protocol are here: a worker starts as a reader
 * (sl_publisher_reader_start), loads the snapshot (sl_publisher_read),
 * reports (sl_publisher_quiescent) and stops (sl_publisher_reader_stop);
 * nothing else calls rte_rcu_qsbr_*.
 */
#ifndef SL_PUBLISH_H
#define SL_PUBLISH_H

#include <stdatomic.h>
#include <stdint.h>

#include <rte_rcu_qsbr.h>

#include "sl_snapshot.h"

struct sl_publisher {
	struct sl_snapshot *_Atomic current;
	struct rte_rcu_qsbr *qsv;
	uint32_t n_readers;
};

/* Set up for n_readers worker threads (ids 0..n-1). Returns 0 or -ENOMEM/-EINVAL. */
int sl_publisher_init(struct sl_publisher *p, uint32_t n_readers);

/*
 * Replace the current snapshot with s (which the publisher then owns), wait
 * for every online reader to pass a quiescent state, and free the old one.
 * Control thread only. Returns the time waited in microseconds.
 */
uint64_t sl_publish(struct sl_publisher *p, struct sl_snapshot *s);

/* Free the current snapshot and the RCU state (after the workers stopped). */
void sl_publisher_fini(struct sl_publisher *p);

/*
 * The current snapshot as the control thread, its only writer, last
 * published it (no ordering needed: it stored the pointer itself). NULL
 * before the first publication. Control thread only.
 */
static inline const struct sl_snapshot *
sl_publisher_current(struct sl_publisher *p)
{
	return atomic_load_explicit(&p->current, memory_order_relaxed);
}

/* Reader side (worker lcores). reader is the worker's id, 0..n_readers-1. */

/*
 * Register reader and put it online: from now on every sl_publish() waits
 * for it to report a quiescent state. Call on the worker's lcore before its
 * first sl_publisher_read(). Returns 0, or -EINVAL when reader is out of
 * range.
 */
int sl_publisher_reader_start(struct sl_publisher *p, uint32_t reader);

/*
 * The current snapshot (NULL before the first publication). The pointer
 * stays valid until the reader's next sl_publisher_quiescent().
 */
static inline const struct sl_snapshot *
sl_publisher_read(struct sl_publisher *p)
{
	/* acquire: pairs with the release store in sl_publish() */
	return atomic_load_explicit(&p->current, memory_order_acquire);
}

/*
 * The reader holds no snapshot pointer any more (once per loop iteration:
 * it lets a waiting sl_publish() go on).
 */
static inline void
sl_publisher_quiescent(struct sl_publisher *p, uint32_t reader)
{
	rte_rcu_qsbr_quiescent(p->qsv, reader);
}

/* Take reader offline and unregister it: sl_publish() no longer waits for it. */
void sl_publisher_reader_stop(struct sl_publisher *p, uint32_t reader);

#endif /* SL_PUBLISH_H */
