/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_drop.h: every reason a packet can be dropped, one counter each.
 *
 * The parser and the worker return these; counters are indexed by them; the
 * stats output prints sl_drop_reason_name(). Add new reasons before
 * SL_DROP_MAX and give them a name in sl_drop.c.
 */
#ifndef SL_DROP_H
#define SL_DROP_H

enum sl_drop_reason {
	SL_DROP_NONE = 0,
	SL_DROP_L2_TRUNCATED,        /* shorter than the Ethernet (+802.1Q) header */
	SL_DROP_VLAN_STACKED,        /* more than one 802.1Q/802.1ad tag */
	SL_DROP_NOT_IP,              /* EtherType is neither IPv4 nor IPv6 (ARP, LLDP...) */
	SL_DROP_IPV4_TRUNCATED,      /* frame too short for the IPv4 header */
	SL_DROP_IPV4_BAD_VERSION,    /* version field is not 4 */
	SL_DROP_IPV4_BAD_IHL,        /* IHL < 5 or header beyond the frame */
	SL_DROP_IPV4_BAD_LENGTH,     /* total length < IHL*4 or beyond the frame */
	SL_DROP_IPV4_FRAGMENT,       /* MF set or fragment offset != 0 */
	SL_DROP_IPV6_TRUNCATED,      /* frame too short for the IPv6 header */
	SL_DROP_IPV6_BAD_VERSION,    /* version field is not 6 */
	SL_DROP_IPV6_BAD_LENGTH,     /* payload length beyond the frame */
	SL_DROP_IPV6_BAD_EXT_HEADER, /* extension header truncated, too many, or fragment header */
	SL_DROP_IPV6_MAPPED_ADDRESS, /* IPv4-mapped source or destination (::ffff:a.b.c.d) */
	SL_DROP_L4_UNSUPPORTED,      /* protocol other than TCP or UDP */
	SL_DROP_L4_TRUNCATED,        /* TCP/UDP header beyond the IP payload */
	SL_DROP_TCP_BAD_OFFSET,      /* TCP data offset < 5 or beyond the payload */
	SL_DROP_UDP_BAD_LENGTH,      /* UDP length field disagrees with the IP payload */
	SL_DROP_NO_FRONTEND,         /* no rule for (destination, protocol, port) */
	SL_DROP_NO_BACKEND,          /* the rule's pool has no usable backend */
	SL_DROP_NO_NEIGHBOUR,        /* next-hop MAC unknown */
	SL_DROP_NO_HEADROOM,         /* mbuf headroom too small for the encapsulation */
	SL_DROP_MTU_EXCEEDED,        /* encapsulated packet longer than the port MTU */
	SL_DROP_TX_FULL,             /* the TX queue did not take the packet */
	SL_DROP_NO_SNAPSHOT,         /* no configuration published yet */
	SL_DROP_IPV6_FRAGMENT,       /* an IPv6 fragment the slow path could not place */
	SL_DROP_FRAGMENT_NO_RULE,    /* a later fragment whose first was not seen (rule unknown) */
	SL_DROP_REPLY_NO_FLOW,       /* from a DNAT backend, but no flow it replies to */
	SL_DROP_TTL_EXCEEDED,        /* TTL / hop limit would reach 0 (ICMP time exceeded sent) */
	SL_DROP_ICMP_NO_FLOW,        /* ICMP error to a frontend quoting no packet of ours */
	SL_DROP_PUNT_FULL,           /* the control thread's queue was full (ARP, exceptions) */
	SL_DROP_NO_TX_QUEUE,         /* this lcore has no TX queue on the egress port */
	SL_DROP_NOT_FOR_US,          /* not for a frontend nor an address of ours (no exception path) */
	SL_DROP_SEGMENTED,           /* a chained mbuf whose first segment ends inside the headers
				      * (or an ICMP error longer than the first segment) */
	SL_DROP_MAX
};

/* Short stable name of a reason ("ipv4_bad_ihl"); "unknown" out of range. */
const char *sl_drop_reason_name(enum sl_drop_reason r);

/*
 * The drops counted per frontend: the reasons a packet can meet once the
 * fast path has found its rule (so its frontend). They are kept per rule
 * (sl_stats.h) and summed per frontend (sl_frontend_stats.h); a reason not
 * listed here counts as SL_FE_DROP_OTHER.
 */
enum sl_fe_drop {
	SL_FE_DROP_NO_BACKEND = 0,
	SL_FE_DROP_NO_NEIGHBOUR,
	SL_FE_DROP_NO_HEADROOM,
	SL_FE_DROP_MTU_EXCEEDED,
	SL_FE_DROP_TTL_EXCEEDED,
	SL_FE_DROP_NO_TX_QUEUE,
	SL_FE_DROP_OTHER,
	SL_FE_DROP_MAX
};

/* The per-frontend slot of drop reason r. */
static inline enum sl_fe_drop
sl_fe_drop_of(enum sl_drop_reason r)
{
	switch (r) {
	case SL_DROP_NO_BACKEND:
		return SL_FE_DROP_NO_BACKEND;
	case SL_DROP_NO_NEIGHBOUR:
		return SL_FE_DROP_NO_NEIGHBOUR;
	case SL_DROP_NO_HEADROOM:
		return SL_FE_DROP_NO_HEADROOM;
	case SL_DROP_MTU_EXCEEDED:
		return SL_FE_DROP_MTU_EXCEEDED;
	case SL_DROP_TTL_EXCEEDED:
		return SL_FE_DROP_TTL_EXCEEDED;
	case SL_DROP_NO_TX_QUEUE:
		return SL_FE_DROP_NO_TX_QUEUE;
	default:
		return SL_FE_DROP_OTHER;
	}
}

/* A slot's name: its drop reason's ("no_backend"), "other" for SL_FE_DROP_OTHER. */
const char *sl_fe_drop_name(enum sl_fe_drop d);

#endif /* SL_DROP_H */
