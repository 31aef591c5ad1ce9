/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_error.h: ARM-style errors of the control plane and the port profiles.
 *
 * Every refusal carries a stable code meant for programs (the catalogue is
 * docs/error-codes.md), a message for people, the target (the resource id or
 * name at fault) and, for files, the file name and the JSON path.
 */
#ifndef SL_ERROR_H
#define SL_ERROR_H

#include <stdarg.h>

struct sl_error {
	char code[96];
	char message[512];
	char target[256];
	char file[256];
	char json_path[256]; /* "$.loadBalancers[0].properties.backendAddressPools[1]" */
};

/*
 * Fill *e (NULL is accepted and ignored), file cleared; the arguments may
 * point into *e itself. Returns -EINVAL for convenience.
 */
int sl_error_set(struct sl_error *e, const char *code, const char *target, const char *json_path,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* One line for logs: "file: $.path: Code: message (target: t)". */
const char *sl_error_format(const struct sl_error *e, char *buf, size_t len);

#endif /* SL_ERROR_H */
