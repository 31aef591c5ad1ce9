/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_json.c: file reading and JSON parsing with positioned errors
 * (see sl_json.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_json.h"

static char *
sl_file_fail(const char *path, const char *code, struct sl_error *err, int errnum,
	     const char *why)
{
	sl_error_set(err, code, path, "", "Cannot read '%s': %s.", path, why);
	if (err != NULL)
		snprintf(err->file, sizeof(err->file), "%s", path);
	errno = errnum;
	return NULL;
}

char *
sl_file_read(const char *path, size_t max, size_t *len, const char *unreadable_code,
	     struct sl_error *err)
{
	char too_big[64];
	struct stat st;
	size_t cap, n_read = 0;
	char *buf, *nb;
	ssize_t n;
	int fd, errnum;

	snprintf(too_big, sizeof(too_big), "larger than %zu bytes", max);
	if (path == NULL)
		return sl_file_fail("", unreadable_code, err, EINVAL, "no file name");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sl_file_fail(path, unreadable_code, err, errno, strerror(errno));
	if (fstat(fd, &st) < 0) {
		errnum = errno;
		close(fd);
		return sl_file_fail(path, unreadable_code, err, errnum, strerror(errnum));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return sl_file_fail(path, unreadable_code, err, EINVAL, "not a regular file");
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		return sl_file_fail(path, unreadable_code, err, EFBIG, too_big);
	}
	/*
	 * The size is a hint: the file may change while it is read. The buffer
	 * keeps its last byte for the NUL and may grow to max + 1 bytes of
	 * text, so a file grown past max is noticed.
	 */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (buf == NULL) {
		close(fd);
		return sl_file_fail(path, unreadable_code, err, ENOMEM, "out of memory");
	}
	for (;;) {
		if (n_read == cap - 1) {
			if (n_read > max) {
				free(buf);
				close(fd);
				return sl_file_fail(path, unreadable_code, err, EFBIG, too_big);
			}
			cap = cap * 2 < max + 2 ? cap * 2 : max + 2;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				close(fd);
				return sl_file_fail(path, unreadable_code, err, ENOMEM,
						    "out of memory");
			}
			buf = nb;
		}
		n = read(fd, buf + n_read, cap - 1 - n_read);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errnum = errno;
			free(buf);
			close(fd);
			return sl_file_fail(path, unreadable_code, err, errnum, strerror(errnum));
		}
		if (n == 0)
			break;
		n_read += (size_t)n;
	}
	close(fd);
	if (n_read > max) {
		free(buf);
		return sl_file_fail(path, unreadable_code, err, EFBIG, too_big);
	}
	buf[n_read] = '\0';
	*len = n_read;
	return buf;
}

static void
sl_json_syntax_error(struct sl_error *e, const char *text, size_t len, const char *at,
		     const char *target, const char *what)
{
	size_t off = 0, i, line = 1, col = 1;

	if (at != NULL && at >= text && at <= text + len)
		off = (size_t)(at - text);
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	sl_error_set(e, "InvalidJson", target, "",
		     "Invalid JSON: %s at line %zu, column %zu (byte offset %zu).",
		     off >= len ? "unexpected end of input" : what, line, col, off);
}

cJSON *
sl_json_parse(const char *text, size_t len, const char *target, struct sl_error *err)
{
	const char *end = NULL;
	cJSON *root;

	if (text == NULL) {
		sl_error_set(err, "InvalidJson", target, "", "No JSON text.");
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL) {
		if (end == NULL)
			end = cJSON_GetErrorPtr();
		sl_json_syntax_error(err, text, len, end, target, "syntax error");
		return NULL;
	}
	if (end != NULL) {
		while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\n' ||
					    *end == '\r'))
			end++;
		if (end < text + len) {
			cJSON_Delete(root);
			sl_json_syntax_error(err, text, len, end, target,
					     "unexpected data after the JSON value");
			return NULL;
		}
	}
	return root;
}
