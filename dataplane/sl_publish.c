/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_publish.c: snapshot publication and reclamation (see sl_publish.h).
 */
#include <errno.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "sl_publish.h"

int
sl_publisher_init(struct sl_publisher *p, uint32_t n_readers)
{
	size_t sz;

	if (n_readers == 0)
		return -EINVAL;
	atomic_init(&p->current, NULL);
	sz = rte_rcu_qsbr_get_memsize(n_readers);
	p->qsv = rte_zmalloc("sl_rcu_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (p->qsv == NULL)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(p->qsv, n_readers) != 0) {
		rte_free(p->qsv);
		p->qsv = NULL;
		return -EINVAL;
	}
	p->n_readers = n_readers;
	return 0;
}

uint64_t
sl_publish(struct sl_publisher *p, struct sl_snapshot *s)
{
	uint64_t t0 = rte_get_tsc_cycles();
	/* release: the snapshot's contents are visible before the pointer is. */
	struct sl_snapshot *old = atomic_exchange_explicit(&p->current, s, memory_order_acq_rel);

	if (old != NULL) {
		uint64_t token = rte_rcu_qsbr_start(p->qsv);
		rte_rcu_qsbr_check(p->qsv, token, true);
		sl_snapshot_free(old);
	}
	return (rte_get_tsc_cycles() - t0) * 1000000ull / rte_get_tsc_hz();
}

int
sl_publisher_reader_start(struct sl_publisher *p, uint32_t reader)
{
	if (reader >= p->n_readers || rte_rcu_qsbr_thread_register(p->qsv, reader) != 0)
		return -EINVAL;
	rte_rcu_qsbr_thread_online(p->qsv, reader);
	return 0;
}

void
sl_publisher_reader_stop(struct sl_publisher *p, uint32_t reader)
{
	rte_rcu_qsbr_thread_offline(p->qsv, reader);
	rte_rcu_qsbr_thread_unregister(p->qsv, reader);
}

void
sl_publisher_fini(struct sl_publisher *p)
{
	sl_snapshot_free(atomic_exchange_explicit(&p->current, NULL, memory_order_acq_rel));
	rte_free(p->qsv);
	p->qsv = NULL;
}
