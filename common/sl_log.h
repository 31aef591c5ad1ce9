/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_log.h: sluice's log line and levels, and the control library's way to
 * log.
 *
 * Every line sluiced logs is "LEVEL WHO: message": LEVEL is syslog's name
 * of the level (EMERG, ALERT, CRIT, ERR, WARNING, NOTICE, INFO, DEBUG,
 * numbered 1..8 as DPDK numbers them), WHO is "sluice.MODULE" for sluice's
 * own messages (one DPDK log type, user.sluice.MODULE, a module) and what
 * DPDK prints for its own ("EAL", a driver's function). The dataplane
 * writes that line (dataplane/sl_logging.h); this part is DPDK-free, so the
 * control library and the unit tests use it too.
 *
 * The control library logs with sl_log(level, "module", ...), which hands
 * "sluice.module: message" to the sink that sluiced installs (its rte_log
 * type, so --log-level applies). Without a sink, messages up to
 * SL_LOG_INFO go to stderr as the same line.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stddef.h>

enum sl_log_level {
	SL_LOG_EMERG = 1,
	SL_LOG_ALERT,
	SL_LOG_CRIT,
	SL_LOG_ERR,
	SL_LOG_WARNING,
	SL_LOG_NOTICE,
	SL_LOG_INFO,
	SL_LOG_DEBUG,
};

/* The longest message sl_log() hands on; a longer one is cut (and ends "..."). */
#define SL_LOG_LINE_MAX 2048

/* Receives "sluice.module: message\n" (text) at level; module is the bare name. */
typedef void (*sl_log_sink_fn)(int level, const char *module, const char *text, void *ctx);

/* Route sl_log() to fn (NULL: back to stderr). */
void sl_log_set_sink(sl_log_sink_fn fn, void *ctx);

/* Log one message of module (a newline is added when the message has none). */
void sl_log(int level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "ERR", "INFO"...; "LOG" for a level out of range. */
const char *sl_log_level_name(int level);

/*
 * A level from a name (any case: emerg, alert, crit, err or error, warning
 * or warn, notice, info, debug) or its number 1..8; -1 when it is neither.
 */
int sl_log_level_parse(const char *s);

/*
 * The prefix of a line logged at level, in buf: "LEVEL ", or with journal
 * "<P>LEVEL ", P the syslog priority (level - 1), which journald reads off
 * a line and strips (so the journal stores the same text, at its
 * priority). Returns its length (buf holds at least 16 bytes).
 */
size_t sl_log_prefix(char *buf, size_t len, int level, int journal);

/*
 * 1 when stderr is a stream of the systemd journal (JOURNAL_STREAM names
 * its device and inode, as systemd sets it for a service's stderr).
 */
int sl_log_stderr_is_journal(void);

#endif /* SL_LOG_H */
