/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_cost.c: what sluice's XDP steering program costs a packet, measured
 * in the kernel with BPF_PROG_TEST_RUN (no interface, no attach).
 *
 *   xdp_cost [--object PATH] [--repeat N] [--rounds R] [--frontends F]
 *            [--endpoints E] [--quick] [--csv DIR]
 *
 * The object (default: the sl_xdp_steer.o of this build) is opened and
 * loaded with libbpf, and its maps are filled as sluiced fills them for a
 * large configuration: F dual-stack frontends (F IPv4 and F IPv6
 * addresses, SL_XDP_FRONTEND), the port's own two addresses (SL_XDP_OWN),
 * four host addresses (SL_XDP_HOST), E DNAT backend endpoints (E / 3
 * backend addresses, SL_XDP_DNAT_BACKEND, each serving TCP on three
 * ports). Defaults: 600 frontends, 18,000 endpoints.
 *
 * Each frame kind below then runs R rounds of N repetitions
 * (bpf_prog_test_run_opts, repeat = N); the kernel times the repetitions
 * and gives their mean in whole ns, and this tool also times the system
 * call itself (CLOCK_MONOTONIC, over N: fractional ns, the syscall's own
 * cost spread over N). Reported: the median and the best of the rounds.
 *
 *   empty        a two-instruction program that returns XDP_PASS: the
 *                floor (the test-run loop's own cost a repetition)
 *   tcp-frontend TCP to a frontend: sluice's, redirected to the AF_XDP
 *                socket of queue 0. xsks_map is empty here (no socket), so
 *                bpf_redirect_map() returns XDP_DROP and the "dropped"
 *                counter moves; the program's work is that of a redirect
 *                (the same lookups, the same map call). The copy into the
 *                socket happens after the program, in the driver, and is
 *                not in this figure.
 *   dnat-reply   TCP from a DNAT backend endpoint (port 8080) to a client
 *                (a reply: redirected, dropped here for the same reason)
 *   tcp-host     TCP to a host address (XDP_PASS)
 *   tcp-other    TCP between two addresses the maps do not hold (XDP_PASS)
 *   arp-frontend an ARP request for a frontend (redirected; dropped here)
 *   ipv6-tcp-frontend  IPv6 TCP to an IPv6 frontend (74 bytes; redirected)
 *
 * IPv4 frames are 60 bytes (64 with the FCS the program never sees).
 *
 * Checks (exit status 1 on failure): every run returns the verdict its
 * frame must get, and sl_counters moves by exactly the repetitions run in
 * the counter that verdict names (passed, or dropped for sluice's frames).
 * Exit status 2: bad usage, not root, or the object cannot be loaded.
 *
 * --quick: 100,000 repetitions, one round (a smoke test, well under 1 s).
 * --csv DIR writes DIR/xdp-cost.csv (DIR is created if missing).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "sl_checksum.h"
#include "sl_xdp_abi.h"

#ifndef SL_XDP_BUILD_OBJECT
#define SL_XDP_BUILD_OBJECT "build/dataplane/sl_xdp_steer.o"
#endif

#define MAX_ROUNDS 100
#define FRAME_MAX 128

struct opts {
	const char *object;
	const char *csv_dir;
	int repeat;
	int rounds;
	unsigned int frontends;
	unsigned int endpoints;
};

struct steer {
	struct bpf_object *obj;
	int prog_fd;
	int empty_fd;
	int addrs_fd;
	int endpoints_fd;
	int counters_fd;
	int ncpus;
};

struct frame {
	const char *name;
	uint8_t data[FRAME_MAX];
	uint32_t len;
	uint32_t verdict; /* what the program must return */
	int counter;      /* the sl_counters index that must move (-1: none) */
};

struct result {
	double kernel_ns_median;
	double kernel_ns_best;
	double wall_ns_median;
	double wall_ns_best;
};

static const uint8_t sluice_mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x01};
static const uint8_t router_mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0xfe};

/* ---- addresses ---- */

static void
key4(struct sl_xdp_addr_key *k, uint32_t host_order)
{
	uint32_t be = htonl(host_order);

	memset(k, 0, sizeof(*k));
	k->addr[10] = 0xff;
	k->addr[11] = 0xff;
	memcpy(&k->addr[12], &be, 4);
}

static void
key6(struct sl_xdp_addr_key *k, const char *text)
{
	memset(k, 0, sizeof(*k));
	if (inet_pton(AF_INET6, text, k->addr) != 1) {
		fprintf(stderr, "xdp_cost: bad IPv6 address %s\n", text);
		exit(2);
	}
}

/* Frontend i: 10.10.0.0 + i and fd00::10:0 + i. */
static uint32_t
frontend4(unsigned int i)
{
	return 0x0a0a0000u + i;
}

static void
frontend6(struct sl_xdp_addr_key *k, unsigned int i)
{
	key6(k, "fd00::10:0");
	k->addr[14] = (uint8_t)(i >> 8);
	k->addr[15] = (uint8_t)i;
}

/* DNAT backend address i: 10.128.0.0 + i; its ports 8080, 8081, 8082. */
static uint32_t
backend4(unsigned int i)
{
	return 0x0a800000u + i;
}

#define HOST4 0x0a000003u   /* 10.0.0.3, the kernel's address on the port's interface */
#define HOST4B 0xc0a80003u  /* 192.168.0.3 */
#define OWN4 0x0a000002u    /* 10.0.0.2, the port's ipv4Address */
#define CLIENT4 0xc6120001u /* 198.18.0.1 */
#define OTHER4 0xc000024du  /* 192.0.2.77: in no map */

static void
put_addr(const struct steer *s, const struct sl_xdp_addr_key *k, uint32_t flags)
{
	if (bpf_map_update_elem(s->addrs_fd, k, &flags, BPF_ANY) != 0) {
		fprintf(stderr, "xdp_cost: sl_addrs update: %s\n", strerror(errno));
		exit(2);
	}
}

static unsigned int
n_backends(const struct opts *o)
{
	return (o->endpoints + 2) / 3;
}

/* The maps as sluiced writes them for o's configuration. */
static void
fill_maps(const struct steer *s, const struct opts *o)
{
	struct sl_xdp_addr_key k;
	unsigned int i;
	const uint32_t one = 1;

	for (i = 0; i < o->frontends; i++) {
		key4(&k, frontend4(i));
		put_addr(s, &k, SL_XDP_FRONTEND);
		frontend6(&k, i);
		put_addr(s, &k, SL_XDP_FRONTEND);
	}
	key4(&k, OWN4);
	put_addr(s, &k, SL_XDP_OWN);
	key6(&k, "fd00::2");
	put_addr(s, &k, SL_XDP_OWN);
	key4(&k, HOST4);
	put_addr(s, &k, SL_XDP_HOST);
	key4(&k, HOST4B);
	put_addr(s, &k, SL_XDP_HOST);
	key6(&k, "fd00::3");
	put_addr(s, &k, SL_XDP_HOST);
	key6(&k, "fe80::3");
	put_addr(s, &k, SL_XDP_HOST);
	for (i = 0; i < n_backends(o); i++) {
		key4(&k, backend4(i));
		put_addr(s, &k, SL_XDP_DNAT_BACKEND);
	}
	for (i = 0; i < o->endpoints; i++) {
		struct sl_xdp_ep_key e;

		memset(&e, 0, sizeof(e));
		key4(&k, backend4(i / 3));
		memcpy(e.addr, k.addr, 16);
		e.port_be = htons((uint16_t)(8080 + i % 3));
		e.proto = 6;
		if (bpf_map_update_elem(s->endpoints_fd, &e, &one, BPF_ANY) != 0) {
			fprintf(stderr, "xdp_cost: sl_endpoints update: %s\n", strerror(errno));
			exit(2);
		}
	}
}

/* ---- frames ---- */

static uint8_t *
eth(struct frame *f, uint16_t ethertype)
{
	memcpy(f->data, sluice_mac, 6);
	memcpy(f->data + 6, router_mac, 6);
	f->data[12] = (uint8_t)(ethertype >> 8);
	f->data[13] = (uint8_t)ethertype;
	return f->data + 14;
}

/* A TCP ACK (20-byte header) at p. */
static void
tcp(uint8_t *p, uint16_t sport, uint16_t dport)
{
	p[0] = (uint8_t)(sport >> 8);
	p[1] = (uint8_t)sport;
	p[2] = (uint8_t)(dport >> 8);
	p[3] = (uint8_t)dport;
	p[7] = 1;       /* seq */
	p[11] = 1;      /* ack */
	p[12] = 0x50;   /* data offset 5 */
	p[13] = 0x10;   /* ACK */
	p[14] = 0xff;   /* window */
	p[15] = 0xff;
}

static void
tcp4(struct frame *f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	uint8_t *ip = eth(f, 0x0800);
	uint32_t s = htonl(src), d = htonl(dst);
	uint16_t c;

	ip[0] = 0x45;
	ip[3] = 40; /* total length */
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	c = sl_ipv4_header_csum(ip, 20);
	memcpy(ip + 10, &c, 2);
	tcp(ip + 20, sport, dport);
	f->len = 60; /* 54 bytes of headers, Ethernet padding to the minimum */
}

static void
arp_request(struct frame *f, uint32_t sender, uint32_t target)
{
	uint8_t *a = eth(f, 0x0806);
	uint32_t s = htonl(sender), t = htonl(target);

	memset(f->data, 0xff, 6); /* broadcast */
	a[1] = 1;                 /* Ethernet */
	a[2] = 0x08;              /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	a[7] = 1; /* request */
	memcpy(a + 8, router_mac, 6);
	memcpy(a + 14, &s, 4);
	memcpy(a + 24, &t, 4);
	f->len = 60;
}

static void
tcp6(struct frame *f, const struct sl_xdp_addr_key *src, const struct sl_xdp_addr_key *dst,
     uint16_t sport, uint16_t dport)
{
	uint8_t *ip6 = eth(f, 0x86dd);

	ip6[0] = 0x60;
	ip6[5] = 20; /* payload length */
	ip6[6] = 6;
	ip6[7] = 64;
	memcpy(ip6 + 8, src->addr, 16);
	memcpy(ip6 + 24, dst->addr, 16);
	tcp(ip6 + 40, sport, dport);
	f->len = 74;
}

/* The frame kinds measured (the first, "empty", runs the empty program). */
static unsigned int
make_frames(struct frame *fr, const struct opts *o)
{
	struct sl_xdp_addr_key c6, fe6;
	unsigned int n = 0, fe = o->frontends / 2, be = n_backends(o) / 2;

	fr[n] = (struct frame){.name = "empty", .verdict = XDP_PASS, .counter = -1};
	tcp4(&fr[n++], CLIENT4, frontend4(fe), 40000, 80);
	fr[n] = (struct frame){.name = "tcp-frontend", .verdict = XDP_DROP,
			       .counter = SL_XDP_CTR_DROPPED};
	tcp4(&fr[n++], CLIENT4, frontend4(fe), 40000, 80);
	fr[n] = (struct frame){.name = "dnat-reply", .verdict = XDP_DROP,
			       .counter = SL_XDP_CTR_DROPPED};
	tcp4(&fr[n++], backend4(be), CLIENT4, 8080, 40000); /* endpoint 3 * be: in the map for any E */
	fr[n] = (struct frame){.name = "tcp-host", .verdict = XDP_PASS,
			       .counter = SL_XDP_CTR_PASSED};
	tcp4(&fr[n++], CLIENT4, HOST4, 40000, 22);
	fr[n] = (struct frame){.name = "tcp-other", .verdict = XDP_PASS,
			       .counter = SL_XDP_CTR_PASSED};
	tcp4(&fr[n++], CLIENT4, OTHER4, 40000, 443);
	fr[n] = (struct frame){.name = "arp-frontend", .verdict = XDP_DROP,
			       .counter = SL_XDP_CTR_DROPPED};
	arp_request(&fr[n++], 0x0a000001u, frontend4(fe));
	fr[n] = (struct frame){.name = "ipv6-tcp-frontend", .verdict = XDP_DROP,
			       .counter = SL_XDP_CTR_DROPPED};
	key6(&c6, "2001:db8::1");
	frontend6(&fe6, fe);
	tcp6(&fr[n++], &c6, &fe6, 40000, 80);
	return n;
}

/* ---- the programs ---- */

static int
map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	if (m == NULL) {
		fprintf(stderr, "xdp_cost: the object has no map %s\n", name);
		exit(2);
	}
	return bpf_map__fd(m);
}

/* r0 = XDP_PASS; exit: the floor under any XDP program. */
static int
load_empty(void)
{
	const struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "sl_xdp_empty", "GPL", insns, 2, NULL);

	if (fd < 0) {
		fprintf(stderr, "xdp_cost: loading the empty program: %s\n", strerror(-fd));
		exit(2);
	}
	return fd;
}

static void
load(struct steer *s, const char *path)
{
	struct bpf_program *p;
	int err;

	s->obj = bpf_object__open_file(path, NULL);
	if (s->obj == NULL || libbpf_get_error(s->obj) != 0) {
		fprintf(stderr, "xdp_cost: cannot open %s: %s\n", path, strerror(errno));
		exit(2);
	}
	err = bpf_object__load(s->obj);
	if (err != 0) {
		fprintf(stderr, "xdp_cost: cannot load %s: %s\n", path, strerror(-err));
		exit(2);
	}
	p = bpf_object__find_program_by_name(s->obj, SL_XDP_PROG_NAME);
	if (p == NULL) {
		fprintf(stderr, "xdp_cost: %s has no program %s\n", path, SL_XDP_PROG_NAME);
		exit(2);
	}
	s->prog_fd = bpf_program__fd(p);
	s->addrs_fd = map_fd(s->obj, SL_XDP_MAP_ADDRS);
	s->endpoints_fd = map_fd(s->obj, SL_XDP_MAP_ENDPOINTS);
	s->counters_fd = map_fd(s->obj, SL_XDP_MAP_COUNTERS);
	s->ncpus = libbpf_num_possible_cpus();
	if (s->ncpus <= 0) {
		fprintf(stderr, "xdp_cost: cannot count the CPUs\n");
		exit(2);
	}
	s->empty_fd = load_empty();
}

/* sl_counters summed over the CPUs. */
static void
read_counters(const struct steer *s, uint64_t out[SL_XDP_CTR_MAX])
{
	struct sl_xdp_counters *per = calloc((size_t)s->ncpus, sizeof(*per));
	uint32_t zero = 0;

	if (per == NULL || bpf_map_lookup_elem(s->counters_fd, &zero, per) != 0) {
		fprintf(stderr, "xdp_cost: reading sl_counters: %s\n", strerror(errno));
		exit(2);
	}
	memset(out, 0, SL_XDP_CTR_MAX * sizeof(out[0]));
	for (int c = 0; c < s->ncpus; c++)
		for (int i = 0; i < SL_XDP_CTR_MAX; i++)
			out[i] += per[c].c[i];
	free(per);
}

/* ---- measuring ---- */

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* One frame kind: o->rounds runs of o->repeat repetitions. Returns 0 if every check held. */
static int
measure(const struct steer *s, const struct frame *f, const struct opts *o, struct result *r)
{
	double kern[MAX_ROUNDS], wall[MAX_ROUNDS];
	uint64_t before[SL_XDP_CTR_MAX], after[SL_XDP_CTR_MAX];
	int fd = f->counter < 0 ? s->empty_fd : s->prog_fd;
	int ok = 0;

	read_counters(s, before);
	for (int i = 0; i < o->rounds; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f->data, .data_size_in = f->len,
			    .repeat = o->repeat);
		double t0 = now_ns();
		int err = bpf_prog_test_run_opts(fd, &t);

		wall[i] = (now_ns() - t0) / o->repeat;
		if (err != 0) {
			fprintf(stderr, "xdp_cost: %s: BPF_PROG_TEST_RUN: %s\n", f->name,
				strerror(-err));
			return -1;
		}
		if (t.retval != f->verdict) {
			fprintf(stderr, "xdp_cost: %s: the program returned %u, expected %u\n",
				f->name, t.retval, f->verdict);
			ok = -1;
		}
		kern[i] = t.duration;
	}
	read_counters(s, after);
	for (int c = 0; c < SL_XDP_CTR_MAX; c++) {
		uint64_t want = c == f->counter ? (uint64_t)o->repeat * (uint64_t)o->rounds : 0;

		if (after[c] - before[c] != want) {
			fprintf(stderr, "xdp_cost: %s: counter %d moved by %llu, expected %llu\n",
				f->name, c, (unsigned long long)(after[c] - before[c]),
				(unsigned long long)want);
			ok = -1;
		}
	}
	/* median() sorts: the best is then the first */
	r->kernel_ns_median = median(kern, o->rounds);
	r->kernel_ns_best = kern[0];
	r->wall_ns_median = median(wall, o->rounds);
	r->wall_ns_best = wall[0];
	return ok;
}

static const char *
verdict_name(uint32_t v)
{
	return v == XDP_PASS ? "pass" : v == XDP_DROP ? "redirect (dropped: no socket)" : "?";
}

static void
write_csv(const char *dir, const struct frame *fr, const struct result *res, unsigned int n,
	  const struct opts *o)
{
	char path[4096];
	FILE *f;

	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "xdp_cost: mkdir %s: %s\n", dir, strerror(errno));
		exit(2);
	}
	snprintf(path, sizeof(path), "%s/xdp-cost.csv", dir);
	f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "xdp_cost: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	fprintf(f, "frame,bytes,verdict,frontends,endpoints,repeat,rounds,"
		   "kernel_ns_median,kernel_ns_best,wall_ns_median,wall_ns_best\n");
	for (unsigned int i = 0; i < n; i++)
		fprintf(f, "%s,%u,%s,%u,%u,%d,%d,%.0f,%.0f,%.2f,%.2f\n", fr[i].name, fr[i].len,
			fr[i].verdict == XDP_PASS ? "pass" : "redirect", o->frontends, o->endpoints,
			o->repeat, o->rounds, res[i].kernel_ns_median, res[i].kernel_ns_best,
			res[i].wall_ns_median, res[i].wall_ns_best);
	if (ferror(f) | fclose(f)) {
		fprintf(stderr, "xdp_cost: writing %s failed\n", path);
		exit(2);
	}
	printf("\nCSV written to %s\n", path);
}

static void
print_jit(void)
{
	FILE *f = fopen("/proc/sys/net/core/bpf_jit_enable", "r");
	int v = -1;

	if (f != NULL) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	printf("BPF JIT: %s\n", v < 0 ? "unknown" : v ? "on" : "off (interpreter)");
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: xdp_cost [--object PATH] [--repeat N] [--rounds R] [--frontends F]\n"
		   "                [--endpoints E] [--quick] [--csv DIR]\n");
}

static int
parse_uint(const char *arg, const char *what, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(arg, &end, 10);
	if (errno != 0 || *end != '\0' || *out == 0 || *out > max) {
		fprintf(stderr, "xdp_cost: %s: expected 1 to %lu, got '%s'\n", what, max, arg);
		return -1;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	unsigned long v;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--quick") == 0) {
			o->repeat = 100000;
			o->rounds = 1;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		}
		if (val == NULL)
			goto bad;
		i++;
		if (strcmp(a, "--object") == 0)
			o->object = val;
		else if (strcmp(a, "--csv") == 0)
			o->csv_dir = val;
		else if (strcmp(a, "--repeat") == 0 && parse_uint(val, a, 1u << 30, &v) == 0)
			o->repeat = (int)v;
		else if (strcmp(a, "--rounds") == 0 && parse_uint(val, a, MAX_ROUNDS, &v) == 0)
			o->rounds = (int)v;
		else if (strcmp(a, "--frontends") == 0 &&
			 parse_uint(val, a, (SL_XDP_MAX_ADDRS - 16) / 3, &v) == 0)
			o->frontends = (unsigned int)v;
		else if (strcmp(a, "--endpoints") == 0 &&
			 parse_uint(val, a, SL_XDP_MAX_ENDPOINTS, &v) == 0)
			o->endpoints = (unsigned int)v;
		else
			goto bad;
	}
	if (2 * o->frontends + n_backends(o) + 6 > SL_XDP_MAX_ADDRS) {
		fprintf(stderr, "xdp_cost: %u frontends and %u endpoints need more than the %u "
				"entries of sl_addrs\n", o->frontends, o->endpoints, SL_XDP_MAX_ADDRS);
		return -1;
	}
	return 0;
bad:
	usage(stderr);
	return -1;
}

int
main(int argc, char **argv)
{
	struct opts o = {.object = SL_XDP_BUILD_OBJECT, .repeat = 1000000, .rounds = 5,
			 .frontends = 600, .endpoints = 18000};
	struct frame fr[7];
	struct result res[7];
	struct steer s;
	unsigned int n;
	int failed = 0;

	if (parse_args(argc, argv, &o) != 0)
		return 2;
	if (geteuid() != 0) {
		fprintf(stderr, "xdp_cost: needs root (loading a BPF program and BPF_PROG_TEST_RUN "
				"need CAP_BPF and CAP_NET_ADMIN): run it with sudo\n");
		return 2;
	}
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	load(&s, o.object);
	fill_maps(&s, &o);
	n = make_frames(fr, &o);
	printf("xdp_cost: %s\n", o.object);
	print_jit();
	printf("maps: %u frontends (IPv4 and IPv6), 2 port addresses, 4 host addresses, "
	       "%u DNAT backends with %u endpoints\n", o.frontends, n_backends(&o), o.endpoints);
	printf("%d round(s) of %d repetitions a frame; ns a packet, median (best) of the rounds\n\n",
	       o.rounds, o.repeat);
	printf("%-19s %5s  %-30s %16s %18s\n", "frame", "bytes", "verdict", "kernel ns",
	       "wall ns");
	for (unsigned int i = 0; i < n; i++) {
		if (measure(&s, &fr[i], &o, &res[i]) != 0)
			failed = 1;
		printf("%-19s %5u  %-30s %7.0f (%5.0f) %9.2f (%6.2f)\n", fr[i].name, fr[i].len,
		       fr[i].counter < 0 ? "pass (empty program)" : verdict_name(fr[i].verdict),
		       res[i].kernel_ns_median, res[i].kernel_ns_best, res[i].wall_ns_median,
		       res[i].wall_ns_best);
		fflush(stdout);
	}
	if (o.csv_dir != NULL)
		write_csv(o.csv_dir, fr, res, n, &o);
	close(s.empty_fd);
	bpf_object__close(s.obj);
	if (failed)
		fprintf(stderr, "xdp_cost: FAILED (see above)\n");
	return failed;
}
