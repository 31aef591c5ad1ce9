/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_xdp_maps.c: sorted sets of XDP map entries and the diff that writes
 * only what changed (see sl_xdp_maps.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "sl_xdp_maps.h"

#define NONE SIZE_MAX

static inline uint8_t *
at(const struct sl_xdp_set *s, size_t i)
{
	return (uint8_t *)s->v + i * s->size;
}

static int
key_cmp(const void *a, const void *b, void *klen)
{
	return memcmp(a, b, *(const size_t *)klen);
}

void
sl_xdp_set_init(struct sl_xdp_set *s, size_t size, size_t klen)
{
	memset(s, 0, sizeof(*s));
	s->size = size;
	s->klen = klen;
}

void
sl_xdp_set_free(struct sl_xdp_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static int
set_grow(struct sl_xdp_set *s, size_t need)
{
	if (need <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap : 64;
	while (cap < need)
		cap *= 2;
	void *v = realloc(s->v, cap * s->size);
	if (v == NULL)
		return -ENOMEM;
	s->v = v;
	s->cap = cap;
	return 0;
}

static void
append(struct sl_xdp_set *s, const void *e)
{
	memcpy(at(s, s->n++), e, s->size);
}

int
sl_xdp_set_add_addr(struct sl_xdp_set *s, const uint8_t addr[16], uint32_t flags)
{
	struct sl_xdp_addr_entry e;

	if (set_grow(s, s->n + 1) != 0)
		return -ENOMEM;
	memset(&e, 0, sizeof(e));
	memcpy(e.k.addr, addr, 16);
	e.flags = flags;
	append(s, &e);
	return 0;
}

int
sl_xdp_set_add_endpoint(struct sl_xdp_set *s, const uint8_t addr[16], uint8_t proto,
			uint16_t port_be)
{
	struct sl_xdp_ep_key k;

	if (set_grow(s, s->n + 1) != 0)
		return -ENOMEM;
	memset(&k, 0, sizeof(k));
	memcpy(k.addr, addr, 16);
	k.port_be = port_be;
	k.proto = proto;
	append(s, &k);
	return 0;
}

void
sl_xdp_set_normalise(struct sl_xdp_set *s, bool or_flags)
{
	size_t w = 0;

	if (s->n == 0)
		return; /* an empty set may have no array at all */
	qsort_r(s->v, s->n, s->size, key_cmp, &s->klen);
	for (size_t r = 0; r < s->n; r++) {
		uint8_t *cur = at(s, r);
		if (w > 0 && memcmp(cur, at(s, w - 1), s->klen) == 0) {
			if (or_flags)
				((struct sl_xdp_addr_entry *)at(s, w - 1))->flags |=
					((struct sl_xdp_addr_entry *)cur)->flags;
			continue;
		}
		if (w != r)
			memcpy(at(s, w), cur, s->size);
		w++;
	}
	s->n = w;
}

static int
write_entry(int fd, const struct sl_xdp_set *s, const uint8_t *e)
{
	uint32_t one = 1;
	const void *val = s->size > s->klen ? (const void *)(e + s->klen) : (const void *)&one;

	return bpf_map_update_elem(fd, e, val, BPF_ANY) == 0 ? 0 : -errno;
}

/*
 * Step 1: write what is new or changed. match[j]: the index in held of
 * want's entry j's key (NONE: new); refused[j]: the map would not take it.
 */
static void
apply_writes(int fd, const struct sl_xdp_set *held, const struct sl_xdp_set *want,
	     struct sl_xdp_set *next, size_t *match, uint8_t *refused,
	     struct sl_xdp_apply_report *r)
{
	size_t i = 0;

	for (size_t j = 0; j < want->n; j++) {
		const uint8_t *w = at(want, j);
		int c = 1;
		while (i < held->n && (c = memcmp(at(held, i), w, want->klen)) < 0)
			i++;
		match[j] = i < held->n && c == 0 ? i : NONE;
		if (match[j] != NONE && memcmp(at(held, i), w, want->size) == 0) {
			append(next, w);
			continue;
		}
		int rc = write_entry(fd, want, w);
		if (rc == 0) {
			append(next, w);
			r->written++;
		} else {
			refused[j] = 1;
			r->error = -rc;
		}
	}
}

/* Step 2: delete what held has and want has not; what stays is still held. */
static void
apply_deletes(int fd, const struct sl_xdp_set *held, const struct sl_xdp_set *want,
	      struct sl_xdp_set *next, struct sl_xdp_apply_report *r)
{
	size_t j = 0;

	for (size_t i = 0; i < held->n; i++) {
		const uint8_t *o = at(held, i);
		int c = 1;
		while (j < want->n && (c = memcmp(at(want, j), o, want->klen)) < 0)
			j++;
		if (j < want->n && c == 0)
			continue;
		if (bpf_map_delete_elem(fd, o) == 0 || errno == ENOENT) {
			r->deleted++;
		} else {
			r->error = errno;
			r->undeleted++;
			append(next, o);
		}
	}
}

/* Step 3: the deletions may have made room for what a full map refused. */
static void
apply_retries(int fd, const struct sl_xdp_set *held, const struct sl_xdp_set *want,
	      struct sl_xdp_set *next, const size_t *match, const uint8_t *refused,
	      struct sl_xdp_apply_report *r)
{
	for (size_t j = 0; j < want->n; j++) {
		if (!refused[j])
			continue;
		int rc = write_entry(fd, want, at(want, j));
		if (rc == 0) {
			append(next, at(want, j));
			r->written++;
			continue;
		}
		r->error = -rc;
		r->refused++;
		if (match[j] != NONE) /* the map keeps the old value */
			append(next, at(held, match[j]));
	}
}

int
sl_xdp_set_apply(int fd, struct sl_xdp_set *held, const struct sl_xdp_set *want,
		 struct sl_xdp_apply_report *r)
{
	struct sl_xdp_set next;
	size_t *match = calloc(want->n + 1, sizeof(*match));
	uint8_t *refused = calloc(want->n + 1, 1);

	memset(r, 0, sizeof(*r));
	sl_xdp_set_init(&next, held->size, held->klen);
	if (match == NULL || refused == NULL || set_grow(&next, want->n + held->n + 1) != 0) {
		free(match);
		free(refused);
		return -ENOMEM;
	}
	apply_writes(fd, held, want, &next, match, refused, r);
	apply_deletes(fd, held, want, &next, r);
	apply_retries(fd, held, want, &next, match, refused, r);
	/* keys are unique: want's written or kept, held's not deleted or not replaced */
	qsort_r(next.v, next.n, next.size, key_cmp, &next.klen);
	free(match);
	free(refused);
	sl_xdp_set_free(held);
	*held = next;
	return r->refused || r->undeleted ? -r->error : 0;
}

bool
sl_xdp_has_cap(unsigned int cap)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long eff = 0;
	bool found = false;

	if (f == NULL)
		return geteuid() == 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = sscanf(line, "CapEff: %llx", &eff) == 1;
	fclose(f);
	return found ? (eff >> cap & 1) != 0 : geteuid() == 0;
}
