/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_moves.c: which flows changed backend, read from what sluiced
 * transmitted (a classic pcap stream: a file, or a FIFO that net_pcap's
 * tx_pcap writes into while sluiced runs, so that no file holds a whole
 * full-rate run).
 *
 *   flow_moves --anchors ADDR[,ADDR...] [--ports PORT[,PORT...]] [FILE]
 *
 * Frames are DNAT'ed IPv4 TCP or UDP (untagged or one 802.1Q tag): the
 * destination address is the backend, and a flow is (source address,
 * source port, destination port). A judged flow (its destination port is
 * one of --ports; every flow without --ports) is pinned to an anchor
 * backend (--anchors: backends the run never removes, sets Down or
 * reweights) by its first packet to one; every later packet of the flow
 * must go to that backend, and a packet that goes elsewhere is a move off
 * a surviving backend. Reading a subset of the packets (a capture that
 * lost some) can only hide moves, never invent them.
 *
 * One JSON object on stdout: packets, ipv4 (those read as flows), other,
 * flows, judgedFlows, pinnedFlows (judged flows seen on an anchor),
 * changes (backend changes of every flow, judged or not: the legitimate
 * ones of backends removed or set Down included), moved (pinned flows that
 * left their anchor) and examples (up to 10 moves). Exit status 0 when the
 * stream was read to its end, 2 on bad usage or a stream that is not pcap.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FM_MAX_LIST 256
#define FM_MAX_EXAMPLES 10

struct fm_flow {
	uint64_t key;     /* src << 32 | sport << 16 | dport; 0: free slot */
	uint32_t backend; /* destination of the flow's last packet */
	uint32_t anchor;  /* the anchor the flow is pinned to, 0 while none */
	uint8_t judged;
	uint8_t moved;
};

struct fm_example {
	uint64_t key;
	uint32_t from, to;
	uint64_t packet;
};

struct fm_state {
	struct fm_flow *tab;
	size_t cap, used;
	uint32_t anchors[FM_MAX_LIST];
	unsigned int n_anchors;
	uint16_t ports[FM_MAX_LIST];
	unsigned int n_ports;
	uint64_t packets, ipv4, other, changes, moved, judged, pinned;
	struct fm_example ex[FM_MAX_EXAMPLES];
	unsigned int n_ex;
};

static uint64_t
fm_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

static struct fm_flow *
fm_slot(struct fm_flow *tab, size_t cap, uint64_t key)
{
	size_t i = fm_hash(key) & (cap - 1);

	while (tab[i].key != 0 && tab[i].key != key)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static int
fm_grow(struct fm_state *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1 << 16;
	struct fm_flow *tab = calloc(cap, sizeof(*tab));

	if (tab == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->tab[i].key != 0)
			*fm_slot(tab, cap, s->tab[i].key) = s->tab[i];
	free(s->tab);
	s->tab = tab;
	s->cap = cap;
	return 0;
}

static int
fm_is_anchor(const struct fm_state *s, uint32_t addr)
{
	for (unsigned int i = 0; i < s->n_anchors; i++)
		if (s->anchors[i] == addr)
			return 1;
	return 0;
}

static int
fm_is_judged(const struct fm_state *s, uint16_t port)
{
	if (s->n_ports == 0)
		return 1;
	for (unsigned int i = 0; i < s->n_ports; i++)
		if (s->ports[i] == port)
			return 1;
	return 0;
}

/* One packet of flow key to backend dst. */
static int
fm_packet(struct fm_state *s, uint64_t key, uint16_t dport, uint32_t dst)
{
	if (2 * (s->used + 1) > s->cap && fm_grow(s) != 0)
		return -ENOMEM;
	struct fm_flow *f = fm_slot(s->tab, s->cap, key);

	if (f->key == 0) {
		f->key = key;
		f->backend = dst;
		f->judged = (uint8_t)fm_is_judged(s, dport);
		s->judged += f->judged;
		s->used++;
	} else if (f->backend != dst) {
		s->changes++;
	}
	if (f->anchor != 0 && dst != f->anchor && !f->moved) {
		f->moved = 1;
		s->moved++;
		if (s->n_ex < FM_MAX_EXAMPLES)
			s->ex[s->n_ex++] = (struct fm_example){key, f->anchor, dst, s->packets};
	}
	if (f->judged && f->anchor == 0 && fm_is_anchor(s, dst)) {
		f->anchor = dst;
		s->pinned++;
	}
	f->backend = dst;
	return 0;
}

/* The flow of Ethernet frame b (caplen bytes), if it is IPv4 TCP or UDP. */
static int
fm_frame(struct fm_state *s, const uint8_t *b, uint32_t caplen)
{
	uint32_t off = 14;

	s->packets++;
	if (caplen < 14)
		goto other;
	uint16_t et = (uint16_t)(b[12] << 8 | b[13]);
	if (et == 0x8100 && caplen >= 18) {
		et = (uint16_t)(b[16] << 8 | b[17]);
		off = 18;
	}
	if (et != 0x0800 || caplen < off + 20)
		goto other;
	const uint8_t *ip = b + off;
	uint32_t ihl = (uint32_t)(ip[0] & 0xf) * 4;
	if ((ip[0] >> 4) != 4 || ihl < 20 || (ip[9] != 6 && ip[9] != 17) ||
	    caplen < off + ihl + 4)
		goto other;
	uint32_t src, dst;
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	const uint8_t *l4 = ip + ihl;
	uint16_t sport = (uint16_t)(l4[0] << 8 | l4[1]);
	uint16_t dport = (uint16_t)(l4[2] << 8 | l4[3]);
	s->ipv4++;
	return fm_packet(s, (uint64_t)ntohl(src) << 32 | (uint32_t)sport << 16 | dport, dport,
			 ntohl(dst));
other:
	s->other++;
	return 0;
}

static uint32_t
fm_u32(const uint8_t *p, int swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

/* Read pcap stream f to its end. */
static int
fm_read(struct fm_state *s, FILE *f)
{
	static uint8_t buf[262144];
	uint8_t hdr[24];

	if (fread(hdr, 1, 24, f) != 24) {
		fprintf(stderr, "flow_moves: no pcap header\n");
		return -EINVAL;
	}
	uint32_t magic;
	memcpy(&magic, hdr, 4);
	int swap;
	if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
		swap = 0;
	else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
		swap = 1;
	else {
		fprintf(stderr, "flow_moves: not a pcap stream (magic %08x)\n", magic);
		return -EINVAL;
	}
	while (fread(hdr, 1, 16, f) == 16) {
		uint32_t caplen = fm_u32(hdr + 8, swap);
		if (caplen > sizeof(buf) || fread(buf, 1, caplen, f) != caplen) {
			fprintf(stderr, "flow_moves: truncated record after %llu packets\n",
				(unsigned long long)s->packets);
			return -EINVAL;
		}
		if (fm_frame(s, buf, caplen) != 0)
			return -ENOMEM;
	}
	return 0;
}

static void
fm_addr(uint32_t a, char *out)
{
	snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

static void
fm_report(const struct fm_state *s)
{
	char a[16], b[16], c[16];

	printf("{\"packets\": %llu, \"ipv4\": %llu, \"other\": %llu, \"flows\": %zu, "
	       "\"judgedFlows\": %llu, \"pinnedFlows\": %llu, \"changes\": %llu, \"moved\": %llu, "
	       "\"examples\": [",
	       (unsigned long long)s->packets, (unsigned long long)s->ipv4,
	       (unsigned long long)s->other, s->used, (unsigned long long)s->judged,
	       (unsigned long long)s->pinned, (unsigned long long)s->changes,
	       (unsigned long long)s->moved);
	for (unsigned int i = 0; i < s->n_ex; i++) {
		const struct fm_example *e = &s->ex[i];
		fm_addr((uint32_t)(e->key >> 32), a);
		fm_addr(e->from, b);
		fm_addr(e->to, c);
		printf("%s{\"client\": \"%s\", \"sport\": %u, \"dport\": %u, \"from\": \"%s\", "
		       "\"to\": \"%s\", \"packet\": %llu}",
		       i ? ", " : "", a, (unsigned int)(e->key >> 16) & 0xffff,
		       (unsigned int)e->key & 0xffff, b, c, (unsigned long long)e->packet);
	}
	printf("]}\n");
}

/* Parse "A,B,..." into addresses (ports == NULL) or ports. */
static int
fm_list(const char *text, uint32_t *addrs, uint16_t *ports, unsigned int *n)
{
	char *dup = strdup(text), *save = NULL;

	if (dup == NULL)
		return -ENOMEM;
	for (char *t = strtok_r(dup, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		struct in_addr in;
		char *end;
		if (*n == FM_MAX_LIST)
			goto bad;
		if (ports == NULL) {
			if (inet_pton(AF_INET, t, &in) != 1)
				goto bad;
			addrs[(*n)++] = ntohl(in.s_addr);
		} else {
			unsigned long p = strtoul(t, &end, 10);
			if (*end != '\0' || p == 0 || p > 65535)
				goto bad;
			ports[(*n)++] = (uint16_t)p;
		}
	}
	free(dup);
	return 0;
bad:
	free(dup);
	return -EINVAL;
}

int
main(int argc, char **argv)
{
	static struct fm_state s;
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		int rc = 0;
		if (strcmp(argv[i], "--anchors") == 0 && i + 1 < argc)
			rc = fm_list(argv[++i], s.anchors, NULL, &s.n_anchors);
		else if (strcmp(argv[i], "--ports") == 0 && i + 1 < argc)
			rc = fm_list(argv[++i], NULL, s.ports, &s.n_ports);
		else if (argv[i][0] != '-' && path == NULL)
			path = argv[i];
		else
			rc = -EINVAL;
		if (rc != 0) {
			fprintf(stderr, "usage: flow_moves --anchors ADDR[,ADDR...] "
					"[--ports PORT[,PORT...]] [FILE]\n");
			return 2;
		}
	}
	FILE *f = path ? fopen(path, "rb") : stdin;
	if (f == NULL) {
		fprintf(stderr, "flow_moves: %s: %s\n", path, strerror(errno));
		return 2;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	int rc = fm_read(&s, f);
	if (path)
		fclose(f);
	fm_report(&s);
	free(s.tab);
	return rc == 0 ? 0 : 2;
}
