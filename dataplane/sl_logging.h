/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_logging.h: sluiced's log. Every message, DPDK's and sluice's, leaves
 * on stderr as one line "LEVEL WHO: message" (common/sl_log.h): DPDK's log
 * stream is replaced by one that puts the level in front of each line
 * (and, when stderr is the systemd journal, its priority as "<N>").
 * sluice's messages are DPDK log types user.sluice.MODULE, each module
 * logging with SL_LOG(); the control library's sl_log() is routed to its
 * module's type, libbpf's messages to user.sluice.libbpf ("libbpf: ...").
 * --log-level [MODULE:]LEVEL sets their levels.
 */
#ifndef SL_LOGGING_H
#define SL_LOGGING_H

#include <rte_log.h>

/* A message of module (a string literal) through its DPDK log type. */
#define SL_LOG(level, type, module, ...) \
	rte_log(RTE_LOG_##level, type, "sluice." module ": " __VA_ARGS__)

/*
 * Call first, before rte_eal_init(): from then on every DPDK message goes
 * through the line writer, and sl_log() and libbpf's printer to rte_log.
 * Returns 0 or -ENOMEM
 * (then DPDK's own stream stays).
 */
int sl_logging_init(void);

/*
 * --log-level [MODULE:]LEVEL: the level of user.sluice.MODULE, or of every
 * user.sluice.* type without MODULE (a glob is taken as DPDK takes it).
 * LEVEL as sl_log_level_parse() reads it. Returns 0, or -EINVAL with a
 * sentence in why.
 */
int sl_logging_set_level(const char *arg, char *why, size_t len);

#endif /* SL_LOGGING_H */
