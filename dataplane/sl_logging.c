/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_logging.c: sluiced's log line writer, the control library's log types
 * and --log-level (see sl_logging.h).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <rte_common.h>
#include <rte_log.h>

#include "sl_log.h"
#include "sl_logging.h"

/* The control library's modules that log (sl_log); anything else goes to "control". */
RTE_LOG_REGISTER(sl_logtype_api, user.sluice.api, INFO);
RTE_LOG_REGISTER(sl_logtype_audit, user.sluice.audit, INFO);
RTE_LOG_REGISTER(sl_logtype_control, user.sluice.control, INFO);
/* libbpf's messages (AF_XDP ports: sluice's XDP program, the PMD's sockets) */
RTE_LOG_REGISTER(sl_logtype_libbpf, user.sluice.libbpf, INFO);

/* Every user.sluice.* type, for --log-level's check (each module registers its own). */
static const char *const sl_modules[] = {"main", "port", "worker", "slowpath", "sync", "xdp",
					 "capture", "api", "audit", "control", "libbpf"};

_Static_assert(RTE_LOG_EMERG == SL_LOG_EMERG && RTE_LOG_DEBUG == SL_LOG_DEBUG,
	       "sl_log levels are DPDK's");

static struct {
	bool at_line_start; /* the next byte written starts a line */
	int journal;        /* stderr is the journal: "<N>" in front of each line */
} sl_out = {.at_line_start = true};

static void
write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/*
 * DPDK's log stream: what rte_log() formats arrives here (at its fflush,
 * under the FILE's lock); each line leaves with the level of the message
 * being logged in front, in one write when it fits.
 */
static ssize_t
log_write(void *cookie, const char *buf, size_t size)
{
	char line[4096];
	size_t done = 0;

	RTE_SET_USED(cookie);
	while (done < size) {
		const char *nl = memchr(buf + done, '\n', size - done);
		size_t chunk = nl != NULL ? (size_t)(nl - (buf + done)) + 1 : size - done;
		size_t k = 0;
		if (sl_out.at_line_start)
			k = sl_log_prefix(line, sizeof(line), rte_log_cur_msg_loglevel(),
					  sl_out.journal);
		if (k + chunk <= sizeof(line)) {
			memcpy(line + k, buf + done, chunk);
			write_all(line, k + chunk);
		} else {
			write_all(line, k);
			write_all(buf + done, chunk);
		}
		sl_out.at_line_start = nl != NULL;
		done += chunk;
	}
	return (ssize_t)size;
}

static int
logtype_of(const char *module)
{
	if (strcmp(module, "api") == 0)
		return sl_logtype_api;
	if (strcmp(module, "audit") == 0)
		return sl_logtype_audit;
	return sl_logtype_control;
}

/* sl_log()'s sink: text is "sluice.module: message\n", as SL_LOG() writes it. */
static void
rte_sink(int level, const char *module, const char *text, void *ctx)
{
	RTE_SET_USED(ctx);
	rte_log((uint32_t)level, (uint32_t)logtype_of(module), "%s", text);
}

/* libbpf's printer: its lines as "LEVEL libbpf: message" */
static int
libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[1024];
	uint32_t l = level == LIBBPF_WARN ? RTE_LOG_WARNING
		     : level == LIBBPF_INFO ? RTE_LOG_INFO
					    : RTE_LOG_DEBUG;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	return rte_log(l, (uint32_t)sl_logtype_libbpf, "libbpf: %s\n", msg);
}

int
sl_logging_init(void)
{
	static const cookie_io_functions_t io = {.write = log_write};
	FILE *f = fopencookie(NULL, "w", io);

	sl_out.journal = sl_log_stderr_is_journal();
	sl_log_set_sink(rte_sink, NULL);
	libbpf_set_print(libbpf_print);
	if (f == NULL)
		return -ENOMEM;
	rte_openlog_stream(f);
	return 0;
}

int
sl_logging_set_level(const char *arg, char *why, size_t len)
{
	const char *colon = strrchr(arg, ':');
	const char *level_s = colon != NULL ? colon + 1 : arg;
	char pattern[128];
	int level = sl_log_level_parse(level_s);
	bool known = false;

	if (level < 0) {
		snprintf(why, len, "'%s' is not a level: emerg, alert, crit, err, warning, notice, "
			 "info or debug (or 1..8)", level_s);
		return -EINVAL;
	}
	if (colon == NULL) {
		snprintf(pattern, sizeof(pattern), "user.sluice.*");
	} else {
		int n = (int)(colon - arg);
		for (size_t i = 0; i < RTE_DIM(sl_modules); i++) {
			char m[64];
			snprintf(m, sizeof(m), "%.*s", n, arg);
			known = known || fnmatch(m, sl_modules[i], 0) == 0;
		}
		if (!known || n == 0 || n > 64) {
			snprintf(why, len, "'%.*s' names no sluice module: main, port, worker, "
				 "slowpath, sync, xdp, capture, api, audit, control or libbpf", n, arg);
			return -EINVAL;
		}
		snprintf(pattern, sizeof(pattern), "user.sluice.%.*s", n, arg);
	}
	rte_log_set_level_pattern(pattern, (uint32_t)level);
	return 0;
}
