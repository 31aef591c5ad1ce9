/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_error.c: filling and formatting ARM-style errors.
 *
 * The codes themselves are chosen by the modules that refuse something and
 * listed in docs/error-codes.md; this file only stores and prints them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sl_error.h"

int
sl_error_set(struct sl_error *e, const char *code, const char *target, const char *json_path,
	     const char *fmt, ...)
{
	struct sl_error filled; /* the arguments may point into *e */
	va_list ap;

	if (e == NULL)
		return -EINVAL;
	memset(&filled, 0, sizeof(filled));
	snprintf(filled.code, sizeof(filled.code), "%s", code != NULL ? code : "");
	snprintf(filled.target, sizeof(filled.target), "%s", target != NULL ? target : "");
	snprintf(filled.json_path, sizeof(filled.json_path), "%s",
		 json_path != NULL ? json_path : "");
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(filled.message, sizeof(filled.message), fmt, ap);
		va_end(ap);
	}
	*e = filled;
	return -EINVAL;
}

const char *
sl_error_format(const struct sl_error *e, char *buf, size_t len)
{
	size_t off = 0;
	int n;

	if (buf == NULL || len == 0)
		return NULL;
	buf[0] = '\0';
	if (e == NULL)
		return buf;

/* Append to buf, stopping (truncated, still terminated) once it is full. */
#define SL_ERR_APPEND(...)                                                                  \
	do {                                                                                \
		if (off < len) {                                                            \
			n = snprintf(buf + off, len - off, __VA_ARGS__);                    \
			off = n < 0 ? len : off + (size_t)n;                                \
		}                                                                           \
	} while (0)

	if (e->file[0] != '\0')
		SL_ERR_APPEND("%s: ", e->file);
	if (e->json_path[0] != '\0')
		SL_ERR_APPEND("%s: ", e->json_path);
	SL_ERR_APPEND("%s: %s", e->code[0] != '\0' ? e->code : "Error", e->message);
	if (e->target[0] != '\0')
		SL_ERR_APPEND(" (target: %s)", e->target);
#undef SL_ERR_APPEND
	return buf;
}
