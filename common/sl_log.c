/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_log.c: level names, the line prefix, and sl_log()'s hand-off to the
 * sink (see sl_log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_log.h"

static const char *const sl_level_names[] = {
	[SL_LOG_EMERG] = "EMERG", [SL_LOG_ALERT] = "ALERT",     [SL_LOG_CRIT] = "CRIT",
	[SL_LOG_ERR] = "ERR",     [SL_LOG_WARNING] = "WARNING", [SL_LOG_NOTICE] = "NOTICE",
	[SL_LOG_INFO] = "INFO",   [SL_LOG_DEBUG] = "DEBUG",
};

static sl_log_sink_fn sl_sink;
static void *sl_sink_ctx;

void
sl_log_set_sink(sl_log_sink_fn fn, void *ctx)
{
	sl_sink = fn;
	sl_sink_ctx = ctx;
}

const char *
sl_log_level_name(int level)
{
	if (level < SL_LOG_EMERG || level > SL_LOG_DEBUG)
		return "LOG";
	return sl_level_names[level];
}

int
sl_log_level_parse(const char *s)
{
	static const struct {
		const char *name;
		int level;
	} aliases[] = {{"error", SL_LOG_ERR}, {"warn", SL_LOG_WARNING}, {"critical", SL_LOG_CRIT}};
	char *end;
	long v;

	if (s == NULL || s[0] == '\0')
		return -1;
	for (int l = SL_LOG_EMERG; l <= SL_LOG_DEBUG; l++)
		if (strcasecmp(s, sl_level_names[l]) == 0)
			return l;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcasecmp(s, aliases[i].name) == 0)
			return aliases[i].level;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < SL_LOG_EMERG || v > SL_LOG_DEBUG)
		return -1;
	return (int)v;
}

size_t
sl_log_prefix(char *buf, size_t len, int level, int journal)
{
	int n;

	if (journal && level >= SL_LOG_EMERG && level <= SL_LOG_DEBUG)
		n = snprintf(buf, len, "<%d>%s ", level - 1, sl_log_level_name(level));
	else
		n = snprintf(buf, len, "%s ", sl_log_level_name(level));
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

int
sl_log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
sl_log(int level, const char *module, const char *fmt, ...)
{
	char text[SL_LOG_LINE_MAX];
	va_list ap;
	int n, m;

	n = snprintf(text, sizeof(text), "sluice.%s: ", module);
	if (n < 0 || (size_t)n >= sizeof(text))
		return;
	va_start(ap, fmt);
	m = vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	size_t len = (size_t)n + (size_t)m;
	if (len >= sizeof(text) - 1) { /* cut: say so, and end the line */
		len = sizeof(text) - 1;
		memcpy(text + len - 4, "...\n", 4);
	} else if (len == 0 || text[len - 1] != '\n') {
		text[len++] = '\n';
		text[len] = '\0';
	}
	text[len] = '\0';
	if (sl_sink != NULL) {
		sl_sink(level, module, text, sl_sink_ctx);
		return;
	}
	if (level > SL_LOG_INFO)
		return;
	char prefix[24];
	sl_log_prefix(prefix, sizeof(prefix), level, 0);
	fprintf(stderr, "%s%s", prefix, text);
}
