/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_path.h: ARM ids and URL paths split on '/' into segments, the
 * segment tests and copies both the resource layer (sl_resource.c: URLs,
 * ids) and the configuration model (sl_config.c: references) use, and the
 * length limit of resource names. Segments point into
 * the caller's string; empty segments ("//", a leading or trailing '/') are
 * skipped. Resource types compare case-insensitively, as ARM does.
 */
#ifndef SL_PATH_H
#define SL_PATH_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define SL_PATH_MAX_SEGMENTS 32
#define SL_RES_NAME_MAX 81 /* a resource name: Azure's 80 characters and the NUL */

struct sl_segs {
	const char *s[SL_PATH_MAX_SEGMENTS];
	size_t len[SL_PATH_MAX_SEGMENTS];
	unsigned int n;
};

/* Split path into g. -E2BIG when it has more than max segments (max <= SL_PATH_MAX_SEGMENTS). */
static inline int
sl_path_split(const char *path, struct sl_segs *g, unsigned int max)
{
	const char *p = path;

	g->n = 0;
	while (*p != '\0') {
		const char *q;
		if (*p == '/') {
			p++;
			continue;
		}
		q = strchr(p, '/');
		if (q == NULL)
			q = p + strlen(p);
		if (g->n == max)
			return -E2BIG;
		g->s[g->n] = p;
		g->len[g->n] = (size_t)(q - p);
		g->n++;
		p = q;
	}
	return 0;
}

/* Is segment i the word (case-insensitively)? false past the end. */
static inline bool
sl_path_seg_is(const struct sl_segs *g, unsigned int i, const char *word)
{
	return i < g->n && strlen(word) == g->len[i] && strncasecmp(g->s[i], word, g->len[i]) == 0;
}

/* Copy segment i into dst (size bytes) as a string. -ENAMETOOLONG when it does not fit. */
static inline int
sl_path_seg_copy(const struct sl_segs *g, unsigned int i, char *dst, size_t size)
{
	if (g->len[i] >= size)
		return -ENAMETOOLONG;
	memcpy(dst, g->s[i], g->len[i]);
	dst[g->len[i]] = '\0';
	return 0;
}

#endif /* SL_PATH_H */
