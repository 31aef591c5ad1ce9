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
/* A subscription id or resource group name (Azure: up to 90 characters) and the NUL. */
#define SL_RES_SCOPE_MAX 96

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

/*
 * The scope of a split ARM id that begins "/subscriptions/{sub}/resourceGroups/{rg}":
 * 1 with sub and rg (SL_RES_SCOPE_MAX bytes each) filled; 0, both "", when the
 * id does not begin so (a bare name, a relative id) or a segment is too long.
 */
static inline int
sl_path_scope(const struct sl_segs *g, char *sub, char *rg)
{
	sub[0] = '\0';
	rg[0] = '\0';
	if (g->n < 4 || !sl_path_seg_is(g, 0, "subscriptions") ||
	    !sl_path_seg_is(g, 2, "resourceGroups") ||
	    sl_path_seg_copy(g, 1, sub, SL_RES_SCOPE_MAX) != 0 ||
	    sl_path_seg_copy(g, 3, rg, SL_RES_SCOPE_MAX) != 0) {
		sub[0] = '\0';
		rg[0] = '\0';
		return 0;
	}
	return 1;
}

#endif /* SL_PATH_H */
