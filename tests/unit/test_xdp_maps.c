/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_xdp_maps.c: the sets sluiced keeps of the XDP program's maps and
 * their diff (dataplane/sl_xdp_maps.h), against real BPF hash maps made
 * with bpf_map_create (nothing is attached). After each of a series of
 * syncs the map holds exactly the wanted keys and values and the held set
 * is what the map holds; an unchanged entry is not written again (the
 * test's own write behind the set's back survives, and the calls are
 * counted); writes come before deletions; a full map refuses entries and
 * the held set has only what the map took, and what the deletions made
 * room for goes in at once; an entry the kernel would not delete, or not
 * change, is still held. libbpf's bpf_map_update_elem/bpf_map_delete_elem
 * are wrapped (ld --wrap) to count and order the calls and to make one
 * fail on demand.
 *
 * Sorting and merging need no kernel; the map tests need CAP_BPF or
 * CAP_SYS_ADMIN and skip with a message without them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <cmocka.h>

#include "sl_xdp_maps.h"

/* ---- libbpf's map writes, wrapped ---- */

int __real_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);
int __real_bpf_map_delete_elem(int fd, const void *key);

#define LOG_MAX 256

static struct {
	unsigned int updates, deletes;
	char log[LOG_MAX]; /* 'u' or 'd' per call, in order */
	unsigned int n_log;
	const void *fail_key; /* a call on this key fails with fail_errno */
	size_t fail_klen;
	char fail_op;
	int fail_errno;
} calls;

static void
calls_reset(void)
{
	memset(&calls, 0, sizeof(calls));
}

static int
injected(char op, const void *key)
{
	if (calls.fail_key == NULL || calls.fail_op != op ||
	    memcmp(key, calls.fail_key, calls.fail_klen) != 0)
		return 0;
	errno = calls.fail_errno;
	return 1;
}

int __wrap_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);
int
__wrap_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags)
{
	calls.updates++;
	if (calls.n_log < LOG_MAX)
		calls.log[calls.n_log++] = 'u';
	if (injected('u', key))
		return -calls.fail_errno;
	return __real_bpf_map_update_elem(fd, key, value, flags);
}

int __wrap_bpf_map_delete_elem(int fd, const void *key);
int
__wrap_bpf_map_delete_elem(int fd, const void *key)
{
	calls.deletes++;
	if (calls.n_log < LOG_MAX)
		calls.log[calls.n_log++] = 'd';
	if (injected('d', key))
		return -calls.fail_errno;
	return __real_bpf_map_delete_elem(fd, key);
}

/* ---- entries ---- */

static void
addr_of(const char *text, uint8_t out[16])
{
	struct in_addr a4;

	memset(out, 0, 16);
	if (inet_pton(AF_INET, text, &a4) == 1) {
		out[10] = out[11] = 0xff;
		memcpy(&out[12], &a4, 4);
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, text, out), 1);
}

struct a {
	const char *addr;
	uint32_t flags;
};

#define END {NULL, 0}

/* An address set of the entries, normalised. */
static void
addrs(struct sl_xdp_set *s, const struct a *e)
{
	uint8_t k[16];

	sl_xdp_set_init(s, sizeof(struct sl_xdp_addr_entry), sizeof(struct sl_xdp_addr_key));
	for (; e->addr != NULL; e++) {
		addr_of(e->addr, k);
		assert_int_equal(sl_xdp_set_add_addr(s, k, e->flags), 0);
	}
	sl_xdp_set_normalise(s, true);
}

static const struct sl_xdp_addr_entry *
addr_at(const struct sl_xdp_set *s, size_t i)
{
	return (const struct sl_xdp_addr_entry *)s->v + i;
}

/* ---- maps ---- */

static const char *skip_why;

static int
privileged(void)
{
	return sl_xdp_has_cap(SL_CAP_SYS_ADMIN) || sl_xdp_has_cap(SL_CAP_BPF);
}

/* A hash map like sl_addrs (addresses -> flags) or sl_endpoints, of max entries. */
static int
new_map(size_t klen, uint32_t max)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "sl_test", (uint32_t)klen, 4, max, NULL);

	if (fd < 0)
		fail_msg("bpf_map_create: %s", strerror(errno));
	return fd;
}

#define SKIP_UNPRIVILEGED()                                 \
	do {                                                \
		if (skip_why != NULL) {                     \
			print_message("%s\n", skip_why);    \
			skip();                             \
		}                                           \
	} while (0)

/*
 * What map fd holds, as a set of entries of size bytes (key, then the
 * 4-byte value when size > klen; else the value is checked to be 1).
 */
static void
dump(int fd, size_t size, size_t klen, struct sl_xdp_set *out)
{
	uint8_t k[32], next[32];
	uint32_t v;
	int have = 0;

	sl_xdp_set_init(out, size, klen);
	while (bpf_map_get_next_key(fd, have ? k : NULL, next) == 0) {
		memcpy(k, next, klen);
		have = 1;
		assert_int_equal(bpf_map_lookup_elem(fd, k, &v), 0);
		if (size == klen) {
			const struct sl_xdp_ep_key *ep = (const void *)k;
			assert_int_equal(v, 1);
			assert_int_equal(ep->pad, 0);
			assert_int_equal(sl_xdp_set_add_endpoint(out, ep->addr, ep->proto,
								 ep->port_be), 0);
		} else {
			assert_int_equal(sl_xdp_set_add_addr(out, k, v), 0);
		}
	}
	sl_xdp_set_normalise(out, false);
}

/* Is entry e (key and value) in s? */
static int
has_entry(const struct sl_xdp_set *s, const void *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp((const uint8_t *)s->v + i * s->size, e, s->size) == 0)
			return 1;
	return 0;
}

static void
assert_same_set(const struct sl_xdp_set *a, const struct sl_xdp_set *b)
{
	assert_int_equal(a->n, b->n);
	assert_memory_equal(a->v, b->v, a->n * a->size);
}

/* The map holds exactly want (keys and values) and held is what the map holds. */
static void
assert_map_is(int fd, const struct sl_xdp_set *held, const struct sl_xdp_set *want)
{
	struct sl_xdp_set m;

	dump(fd, want->size, want->klen, &m);
	assert_same_set(&m, want);
	assert_same_set(held, want);
	sl_xdp_set_free(&m);
}

static uint32_t
map_value(int fd, const char *addr)
{
	uint8_t k[16];
	uint32_t v = 0;

	addr_of(addr, k);
	if (bpf_map_lookup_elem(fd, k, &v) != 0)
		return UINT32_MAX;
	return v;
}

/* Bring fd from held to the entries e; returns the report, rc in *rc. */
static struct sl_xdp_apply_report
sync_to(int fd, struct sl_xdp_set *held, const struct a *e, struct sl_xdp_set *want, int *rc)
{
	struct sl_xdp_apply_report r;

	addrs(want, e);
	calls_reset();
	*rc = sl_xdp_set_apply(fd, held, want, &r);
	return r;
}

/* ---- the cases ---- */

static void
test_normalise(void **state)
{
	(void)state;
	struct sl_xdp_set s;
	const struct a e[] = {{"10.0.0.3", SL_XDP_HOST},     {"fd00::1", SL_XDP_FRONTEND},
			      {"10.0.0.1", SL_XDP_FRONTEND}, {"10.0.0.3", SL_XDP_FRONTEND},
			      {"10.0.0.1", SL_XDP_FRONTEND}, {"10.0.0.2", SL_XDP_DNAT_BACKEND},
			      {"10.0.0.3", SL_XDP_OWN},      END};
	uint8_t k[16];

	addrs(&s, e);
	assert_int_equal(s.n, 4);
	const char *order[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "fd00::1"};
	const uint32_t flags[] = {SL_XDP_FRONTEND, SL_XDP_DNAT_BACKEND,
				  SL_XDP_HOST | SL_XDP_FRONTEND | SL_XDP_OWN, SL_XDP_FRONTEND};
	for (size_t i = 0; i < 4; i++) {
		addr_of(order[i], k);
		assert_memory_equal(addr_at(&s, i)->k.addr, k, 16);
		assert_int_equal(addr_at(&s, i)->flags, flags[i]);
	}
	sl_xdp_set_free(&s);

	/* endpoints: keys alone, equal ones merged, the proto and port part of the key */
	sl_xdp_set_init(&s, sizeof(struct sl_xdp_ep_key), sizeof(struct sl_xdp_ep_key));
	addr_of("10.0.0.9", k);
	assert_int_equal(sl_xdp_set_add_endpoint(&s, k, 6, htons(80)), 0);
	assert_int_equal(sl_xdp_set_add_endpoint(&s, k, 17, htons(80)), 0);
	assert_int_equal(sl_xdp_set_add_endpoint(&s, k, 6, htons(80)), 0);
	assert_int_equal(sl_xdp_set_add_endpoint(&s, k, 0, 0), 0);
	assert_int_equal(sl_xdp_set_add_endpoint(&s, k, 6, htons(443)), 0);
	sl_xdp_set_normalise(&s, false);
	assert_int_equal(s.n, 4);
	const struct sl_xdp_ep_key *ep = s.v;
	for (size_t i = 0; i < s.n; i++) {
		assert_memory_equal(ep[i].addr, k, 16);
		assert_int_equal(ep[i].pad, 0);
		if (i > 0)
			assert_true(memcmp(&ep[i - 1], &ep[i], sizeof(ep[i])) < 0);
	}
	sl_xdp_set_free(&s);

	/* an empty set normalises to itself */
	addrs(&s, (const struct a[]){END});
	assert_int_equal(s.n, 0);
	sl_xdp_set_free(&s);
}

static void
test_successive_syncs(void **state)
{
	(void)state;
	SKIP_UNPRIVILEGED();
	int fd = new_map(sizeof(struct sl_xdp_addr_key), 64), rc;
	struct sl_xdp_set held, want;
	struct sl_xdp_apply_report r;
	uint32_t tamper = 0xdead;
	uint8_t k[16];

	sl_xdp_set_init(&held, sizeof(struct sl_xdp_addr_entry), sizeof(struct sl_xdp_addr_key));
	const struct a one[] = {{"10.77.100.10", SL_XDP_FRONTEND}, {"10.66.2.3", SL_XDP_HOST},
				{"10.66.2.10", SL_XDP_OWN}, {"fd77::10", SL_XDP_FRONTEND}, END};
	r = sync_to(fd, &held, one, &want, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(r.written, 4);
	assert_int_equal(r.deleted, 0);
	assert_int_equal(calls.updates, 4);
	assert_int_equal(calls.deletes, 0);
	assert_map_is(fd, &held, &want);
	sl_xdp_set_free(&want);

	/* the same again: not one system call */
	r = sync_to(fd, &held, one, &want, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(r.written + r.deleted, 0);
	assert_int_equal(calls.updates + calls.deletes, 0);
	assert_map_is(fd, &held, &want);
	sl_xdp_set_free(&want);

	/*
	 * A frontend kept, one's flags changed, one gone, one new. The test
	 * writes the kept one's value behind the set's back: it must survive.
	 */
	addr_of("10.77.100.10", k);
	assert_int_equal(bpf_map_update_elem(fd, k, &tamper, BPF_EXIST), 0);
	const struct a two[] = {{"10.77.100.10", SL_XDP_FRONTEND},
				{"10.66.2.3", SL_XDP_HOST},
				{"fd77::10", SL_XDP_FRONTEND | SL_XDP_DNAT_BACKEND},
				{"10.88.2.11", SL_XDP_DNAT_BACKEND},
				END};
	r = sync_to(fd, &held, two, &want, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(r.written, 2);
	assert_int_equal(r.deleted, 1);
	assert_int_equal(calls.updates, 2);
	assert_int_equal(calls.deletes, 1);
	assert_string_equal(calls.log, "uud"); /* writes first, then the deletion */
	assert_int_equal(map_value(fd, "10.77.100.10"), 0xdead);
	assert_int_equal(map_value(fd, "fd77::10"), SL_XDP_FRONTEND | SL_XDP_DNAT_BACKEND);
	assert_int_equal(map_value(fd, "10.88.2.11"), SL_XDP_DNAT_BACKEND);
	assert_int_equal(map_value(fd, "10.66.2.10"), UINT32_MAX);
	assert_same_set(&held, &want);
	assert_int_equal(bpf_map_update_elem(fd, k, &(uint32_t){SL_XDP_FRONTEND}, BPF_EXIST), 0);
	assert_map_is(fd, &held, &want);
	sl_xdp_set_free(&want);

	/* flags merged from two entries of one address: one write of their union */
	const struct a three[] = {{"10.77.100.10", SL_XDP_FRONTEND}, {"10.66.2.3", SL_XDP_HOST},
				  {"fd77::10", SL_XDP_FRONTEND | SL_XDP_DNAT_BACKEND},
				  {"10.88.2.11", SL_XDP_DNAT_BACKEND}, {"10.77.100.10", SL_XDP_HOST},
				  END};
	r = sync_to(fd, &held, three, &want, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(calls.updates, 1);
	assert_int_equal(map_value(fd, "10.77.100.10"), SL_XDP_FRONTEND | SL_XDP_HOST);
	assert_map_is(fd, &held, &want);
	sl_xdp_set_free(&want);

	/* nothing wanted: everything held goes, and only that */
	addr_of("10.1.1.1", k);
	assert_int_equal(bpf_map_update_elem(fd, k, &tamper, BPF_NOEXIST), 0);
	r = sync_to(fd, &held, (const struct a[]){END}, &want, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(r.deleted, 4);
	assert_int_equal(calls.updates, 0);
	assert_int_equal(held.n, 0);
	assert_int_equal(map_value(fd, "10.1.1.1"), 0xdead); /* not the set's to delete */
	assert_int_equal(bpf_map_delete_elem(fd, k), 0);
	assert_map_is(fd, &held, &want);
	sl_xdp_set_free(&want);
	sl_xdp_set_free(&held);
	close(fd);
}

static void
test_endpoints(void **state)
{
	(void)state;
	SKIP_UNPRIVILEGED();
	int fd = new_map(sizeof(struct sl_xdp_ep_key), 64), rc;
	struct sl_xdp_set held, want;
	struct sl_xdp_apply_report r;
	uint8_t be[16], ha[16];

	addr_of("10.88.2.11", be);
	addr_of("fd88:2::12", ha);
	sl_xdp_set_init(&held, sizeof(struct sl_xdp_ep_key), sizeof(struct sl_xdp_ep_key));
	sl_xdp_set_init(&want, sizeof(struct sl_xdp_ep_key), sizeof(struct sl_xdp_ep_key));
	assert_int_equal(sl_xdp_set_add_endpoint(&want, be, 6, htons(8080)), 0);
	assert_int_equal(sl_xdp_set_add_endpoint(&want, be, 17, htons(5353)), 0);
	assert_int_equal(sl_xdp_set_add_endpoint(&want, ha, 0, 0), 0);
	sl_xdp_set_normalise(&want, false);
	calls_reset();
	rc = sl_xdp_set_apply(fd, &held, &want, &r);
	assert_int_equal(rc, 0);
	assert_int_equal(calls.updates, 3);
	assert_map_is(fd, &held, &want); /* keys as given, values 1 */

	/* the UDP endpoint moves to another port: one insertion, one deletion */
	sl_xdp_set_free(&want);
	sl_xdp_set_init(&want, sizeof(struct sl_xdp_ep_key), sizeof(struct sl_xdp_ep_key));
	assert_int_equal(sl_xdp_set_add_endpoint(&want, ha, 0, 0), 0);
	assert_int_equal(sl_xdp_set_add_endpoint(&want, be, 17, htons(5354)), 0);
	assert_int_equal(sl_xdp_set_add_endpoint(&want, be, 6, htons(8080)), 0);
	sl_xdp_set_normalise(&want, false);
	calls_reset();
	rc = sl_xdp_set_apply(fd, &held, &want, &r);
	assert_int_equal(rc, 0);
	assert_string_equal(calls.log, "ud");
	assert_int_equal(r.written, 1);
	assert_int_equal(r.deleted, 1);
	assert_map_is(fd, &held, &want);
	sl_xdp_set_free(&want);
	sl_xdp_set_free(&held);
	close(fd);
}

static void
test_full_map(void **state)
{
	(void)state;
	SKIP_UNPRIVILEGED();
	int fd = new_map(sizeof(struct sl_xdp_addr_key), 4), rc;
	struct sl_xdp_set held, want, m;
	struct sl_xdp_apply_report r;

	sl_xdp_set_init(&held, sizeof(struct sl_xdp_addr_entry), sizeof(struct sl_xdp_addr_key));
	const struct a six[] = {{"10.0.0.1", 1}, {"10.0.0.2", 1}, {"10.0.0.3", 8},
				{"10.0.0.4", 1}, {"10.0.0.5", 4}, {"10.0.0.6", 1}, END};
	r = sync_to(fd, &held, six, &want, &rc);
	assert_int_equal(rc, -E2BIG);
	assert_int_equal(r.refused, 2);
	assert_int_equal(r.written, 4);
	assert_int_equal(r.error, E2BIG);
	assert_int_equal(held.n, 4);
	dump(fd, held.size, held.klen, &m);
	assert_same_set(&held, &m); /* held: exactly what the map took */
	for (size_t i = 0; i < held.n; i++) /* and each with its wanted value */
		assert_true(has_entry(&want, addr_at(&held, i)));
	sl_xdp_set_free(&m);
	sl_xdp_set_free(&want);

	/* the same six again: the two refused are tried (and refused) again, nothing else */
	r = sync_to(fd, &held, six, &want, &rc);
	assert_int_equal(rc, -E2BIG);
	assert_int_equal(r.refused, 2);
	assert_int_equal(r.written, 0);
	assert_int_equal(calls.updates, 4); /* each refused one: tried, then retried */
	dump(fd, held.size, held.klen, &m);
	assert_same_set(&held, &m);
	sl_xdp_set_free(&m);
	sl_xdp_set_free(&want);

	/*
	 * Two held entries go, two new come: the map is full when they are
	 * first written, the deletions make room, and they are in at once.
	 */
	const struct a swap[] = {{"10.0.0.1", 1}, {"10.0.0.2", 1}, {"10.0.0.7", 1},
				 {"10.0.0.8", 2}, END};
	r = sync_to(fd, &held, swap, &want, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(r.refused, 0);
	assert_int_equal(r.written, 2);
	assert_int_equal(r.deleted, 2);
	assert_string_equal(calls.log, "uudduu"); /* refused, deleted, then written */
	assert_map_is(fd, &held, &want);
	sl_xdp_set_free(&want);
	sl_xdp_set_free(&held);
	close(fd);
}

static void
test_kernel_refusals(void **state)
{
	(void)state;
	SKIP_UNPRIVILEGED();
	int fd = new_map(sizeof(struct sl_xdp_addr_key), 64), rc;
	struct sl_xdp_set held, want, m;
	struct sl_xdp_apply_report r;
	uint8_t k1[16], k2[16];

	sl_xdp_set_init(&held, sizeof(struct sl_xdp_addr_entry), sizeof(struct sl_xdp_addr_key));
	const struct a first[] = {{"10.0.0.1", 1}, {"10.0.0.2", 1}, {"10.0.0.3", 1}, END};
	r = sync_to(fd, &held, first, &want, &rc);
	assert_int_equal(rc, 0);
	sl_xdp_set_free(&want);

	/* 10.0.0.2 goes, but the kernel will not delete it: still held */
	const struct a second[] = {{"10.0.0.1", 1}, {"10.0.0.3", 1}, END};
	addr_of("10.0.0.2", k2);
	addr_of("10.0.0.1", k1);
	addrs(&want, second);
	calls_reset();
	calls.fail_key = k2;
	calls.fail_klen = 16;
	calls.fail_op = 'd';
	calls.fail_errno = EBUSY;
	rc = sl_xdp_set_apply(fd, &held, &want, &r);
	assert_int_equal(rc, -EBUSY);
	assert_int_equal(r.undeleted, 1);
	assert_int_equal(r.deleted, 0);
	assert_int_equal(held.n, 3);
	dump(fd, held.size, held.klen, &m);
	assert_same_set(&held, &m);
	sl_xdp_set_free(&m);
	sl_xdp_set_free(&want);

	/* 10.0.0.1 changes, but the kernel will not write it: held with the value kept */
	const struct a third[] = {{"10.0.0.1", 9}, {"10.0.0.3", 1}, END};
	addrs(&want, third);
	calls_reset();
	calls.fail_key = k1;
	calls.fail_klen = 16;
	calls.fail_op = 'u';
	calls.fail_errno = ENOMEM;
	rc = sl_xdp_set_apply(fd, &held, &want, &r);
	assert_int_equal(rc, -ENOMEM);
	assert_int_equal(r.refused, 1);
	assert_int_equal(r.deleted, 1); /* 10.0.0.2's deletion tried again, and done */
	assert_string_equal(calls.log, "udu");
	assert_int_equal(map_value(fd, "10.0.0.1"), 1);
	dump(fd, held.size, held.klen, &m);
	assert_same_set(&held, &m);
	assert_int_equal(held.n, 2);
	sl_xdp_set_free(&m);

	/* the kernel relents: the next sync writes the change, and only that */
	calls_reset();
	rc = sl_xdp_set_apply(fd, &held, &want, &r);
	assert_int_equal(rc, 0);
	assert_int_equal(calls.updates, 1);
	assert_int_equal(calls.deletes, 0);
	assert_map_is(fd, &held, &want);
	sl_xdp_set_free(&want);
	sl_xdp_set_free(&held);
	close(fd);
}

static int
probe(void **state)
{
	(void)state;
	if (!privileged())
		skip_why = "not privileged (CAP_BPF or CAP_SYS_ADMIN): BPF maps cannot be made, "
			   "the map tests are skipped";
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_successive_syncs),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_full_map),
		cmocka_unit_test(test_kernel_refusals),
	};

	return cmocka_run_group_tests(tests, probe, NULL);
}
