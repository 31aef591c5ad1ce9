/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_l2proto.h: the small protocols of the exception path, on plain bytes:
 * ARP, IPv6 Neighbor Discovery (NS/NA), ICMP/ICMPv6 echo, ICMP/ICMPv6 errors
 * (building them, reading the packet they quote, and forwarding one to a
 * backend behind DNAT), and the TTL/hop-limit decrement.
 *
 * Conventions shared by every function here:
 *  - Ethernet frames start at the destination MAC. vlan_tci 0 means
 *    untagged; any other value is written as an 802.1Q tag (TPID 0x8100, the
 *    TCI given in host order) after the source MAC.
 *  - Builders write at most `room` bytes and return the length written, or 0
 *    when the input is invalid or the result would not fit. Ethernet frames
 *    are padded with zeros to SL_ETH_MIN_FRAME (60) bytes, FCS excluded; the
 *    padded length must fit in `room` too.
 *  - Addresses are struct sl_ip_addr (IPv4 as IPv4-mapped IPv6); an address
 *    of the wrong family for the operation is invalid input.
 *  - Parsers read only the first `len` bytes and never write; for IP packets
 *    the IP header's own length (IPv4 total length, IPv6 payload length) is
 *    the end of the packet, so Ethernet padding after it is ignored.
 *  - Every function is reentrant and allocates nothing.
 */
#ifndef SL_L2PROTO_H
#define SL_L2PROTO_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "sl_checksum.h"
#include "sl_types.h"

#define SL_ETHERTYPE_ARP 0x0806
#define SL_ETH_MIN_FRAME 60 /* without FCS */

#define SL_ARP_OP_REQUEST 1
#define SL_ARP_OP_REPLY 2
#define SL_ARP_LEN 28 /* Ethernet/IPv4 ARP payload */

#define SL_IPPROTO_ICMP 1
#define SL_IPPROTO_ICMPV6 58

#define SL_ICMP_ECHO_REPLY 0
#define SL_ICMP_DEST_UNREACH 3
#define SL_ICMP_ECHO_REQUEST 8
#define SL_ICMP_TIME_EXCEEDED 11
#define SL_ICMP_PARAM_PROBLEM 12
#define SL_ICMP_FRAG_NEEDED 4 /* code of SL_ICMP_DEST_UNREACH */

#define SL_ICMP6_DEST_UNREACH 1
#define SL_ICMP6_PACKET_TOO_BIG 2
#define SL_ICMP6_TIME_EXCEEDED 3
#define SL_ICMP6_PARAM_PROBLEM 4
#define SL_ICMP6_ECHO_REQUEST 128
#define SL_ICMP6_ECHO_REPLY 129
#define SL_ND_NEIGHBOR_SOLICIT 135
#define SL_ND_NEIGHBOR_ADVERT 136

#define SL_ND_FLAG_ROUTER 0x80
#define SL_ND_FLAG_SOLICITED 0x40
#define SL_ND_FLAG_OVERRIDE 0x20

/* The largest ICMP error packets (RFC 1812 4.3.2.3, RFC 4443 2.4(c)). */
#define SL_ICMP_ERROR_MAX_V4 576
#define SL_ICMP_ERROR_MAX_V6 1280

#define SL_IP_DEFAULT_TTL 64

/* ---- ARP ------------------------------------------------------------------ */

struct sl_arp_info {
	uint16_t op;               /* SL_ARP_OP_REQUEST or SL_ARP_OP_REPLY */
	struct sl_mac sha, tha;    /* sender / target hardware address */
	struct sl_ip_addr spa, tpa; /* sender / target protocol address (IPv4-mapped) */
};

/*
 * Parse the ARP payload at arp (after the Ethernet header and any VLAN tag),
 * len bytes of which are readable. Accepts only Ethernet/IPv4 ARP (htype 1,
 * ptype 0x0800, hlen 6, plen 4) with op 1 or 2. Returns 0 and fills *out, or
 * -EINVAL (also for len < SL_ARP_LEN or a NULL pointer).
 */
int sl_arp_parse(const uint8_t *arp, uint32_t len, struct sl_arp_info *out);

/*
 * Build an Ethernet/IPv4 ARP frame: Ethernet eth_src -> eth_dst (NULL:
 * ff:ff:ff:ff:ff:ff), EtherType 0x0806, then op, sha, spa, tha (NULL: all
 * zeros), tpa. Request: eth_dst NULL, tha NULL. Reply: eth_dst = tha = the
 * requester. Gratuitous ARP: a request with spa == tpa, tha NULL, eth_dst
 * NULL. Returns the frame length (60 after padding), or 0 when op is neither
 * 1 nor 2, spa or tpa is not IPv4, eth_src/sha/spa/tpa is NULL, or room is
 * too small.
 */
uint32_t sl_arp_build(uint8_t *frame, uint32_t room, const struct sl_mac *eth_dst,
		      const struct sl_mac *eth_src, uint16_t vlan_tci, uint16_t op,
		      const struct sl_mac *sha, const struct sl_ip_addr *spa,
		      const struct sl_mac *tha, const struct sl_ip_addr *tpa);

/* ---- IPv6 Neighbor Discovery (RFC 4861) ---------------------------------- */

struct sl_nd_info {
	uint8_t type;         /* SL_ND_NEIGHBOR_SOLICIT (135) or SL_ND_NEIGHBOR_ADVERT (136) */
	uint8_t flags;        /* NA: SL_ND_FLAG_ROUTER | _SOLICITED | _OVERRIDE; NS: 0 */
	uint8_t has_lladdr;   /* lladdr is valid */
	struct sl_mac lladdr; /* source link-layer option (NS) or target link-layer option (NA) */
	struct sl_ip_addr src, dst, target;
};

/*
 * Parse and validate an NS or NA. ip6 is the IPv6 header; len bytes are
 * readable. Requires: version 6, 40 + payload length <= len, next header 58
 * directly (no extension headers), hop limit 255, type 135 or 136, code 0, a
 * correct ICMPv6 checksum, ICMPv6 length >= 24, options well formed (each
 * length != 0 and within the payload), a target that is not multicast, and
 * the RFC 4861 7.1 rules: an NS from the unspecified address (DAD) carries no
 * source link-layer option; an NA to a multicast destination has the
 * solicited flag clear. Options other than the relevant link-layer address
 * option are skipped; the first relevant one wins. Returns 0 and fills *out,
 * or -EINVAL.
 */
int sl_nd_parse(const uint8_t *ip6, uint32_t len, struct sl_nd_info *out);

/*
 * Build a Neighbor Solicitation frame for target from src_ip/src_mac: hop
 * limit 255, the source link-layer address option (= src_mac; omitted when
 * src_ip is the unspecified address ::, for duplicate address detection, as
 * RFC 4861 7.2.2 requires), checksum set. unicast_dst NULL: to the
 * solicited-node multicast address of target and its MAC 33:33:ff:XX:XX:XX;
 * otherwise to target itself at MAC unicast_dst (reachability probe).
 * Returns the frame length (86, 90 with a VLAN tag; 78/82 without the
 * option), or 0 when an address is IPv4, src_mac/src_ip/target is NULL or
 * room is too small.
 */
uint32_t sl_nd_build_ns(uint8_t *frame, uint32_t room, const struct sl_mac *src_mac,
			uint16_t vlan_tci, const struct sl_ip_addr *src_ip,
			const struct sl_ip_addr *target, const struct sl_mac *unicast_dst);

/*
 * Build a Neighbor Advertisement frame for target from src_ip/src_mac to
 * dst_ip (NULL: ff02::1, an unsolicited advertisement) at MAC eth_dst (NULL:
 * 33:33:00:00:00:01), with the target link-layer address option (= src_mac),
 * hop limit 255, checksum set. flags are SL_ND_FLAG_* (other bits ignored);
 * the solicited flag is cleared when the destination is multicast (RFC 4861
 * 7.2.4). Returns the frame length (86, 90 with a VLAN tag), or 0 when an
 * address is IPv4, src_mac/src_ip/target is NULL or room is too small.
 */
uint32_t sl_nd_build_na(uint8_t *frame, uint32_t room, const struct sl_mac *eth_dst,
			const struct sl_mac *src_mac, uint16_t vlan_tci,
			const struct sl_ip_addr *src_ip, const struct sl_ip_addr *dst_ip,
			const struct sl_ip_addr *target, uint8_t flags);

/* out = the solicited-node multicast address of target: ff02::1:ff00:0/104 | its low 24 bits. */
void sl_ipv6_solicited_node(struct sl_ip_addr *out, const struct sl_ip_addr *target);

/*
 * out = the Ethernet multicast MAC of group: 33:33 and the low 32 bits for
 * IPv6 (RFC 2464 7); for an IPv4-mapped group, 01:00:5e and the low 23 bits
 * (RFC 1112 6.4).
 */
void sl_ipv6_multicast_mac(struct sl_mac *out, const struct sl_ip_addr *group);

/* ---- ICMP / ICMPv6 -------------------------------------------------------- */

/*
 * Turn the echo request at l3 (an IPv4 or IPv6 packet, family SL_AF_IPV4 or
 * SL_AF_IPV6, len bytes readable and writable) into its echo reply in place:
 * source and destination swapped, type 0 / 129, TTL / hop limit 64, the IPv4
 * header checksum and the ICMP(v6) checksum (with the pseudo-header for v6)
 * recomputed. Everything else (IPv4 options, identifier, sequence, data) is
 * kept. Returns 0, or -EINVAL, with nothing written, when the packet is not a
 * well-formed echo request: wrong version or family, bad lengths, an IPv4
 * fragment, protocol/next header not ICMP(v6) (IPv6 extension headers are
 * not walked), type not 8 / 128, code not 0, a wrong ICMP(v6) checksum, or a
 * multicast/broadcast source or destination (the reply could not swap them).
 */
int sl_icmp_echo_reply(uint8_t *l3, uint32_t len, int family);

/*
 * Build an ICMP (family SL_AF_IPV4) or ICMPv6 (SL_AF_IPV6) error IP packet,
 * without Ethernet header, at l3_out: from src to the source of the
 * offending packet (offending_l3, offending_len readable bytes, an IP packet
 * of the same family), TTL / hop limit 64 (IPv4: TOS 0xc0, DF, ID 0), type,
 * code, the 4 bytes rest_be after the checksum as given (network order: the
 * next-hop MTU for fragmentation needed, the MTU for Packet Too Big, the
 * pointer for Parameter Problem), then as much of the offending packet
 * (up to its IP length) as keeps the whole packet within 576 (IPv4) / 1280
 * (IPv6) bytes and within room. Checksums set. Returns the IP packet length,
 * or 0 when:
 *  - the input is invalid: family unknown, src of the other family, the
 *    offending packet not a valid IP header of that family, type not one
 *    sl_icmp_error_parse() accepts (IPv4 3, 11, 12; IPv6 1, 2, 3, 4);
 *  - room is below the headers plus the offending IP header and 8 bytes (or
 *    all of it when shorter);
 *  - no error may be sent about this packet (RFC 1122 3.2.2, RFC 1812
 *    4.3.2.7, RFC 4443 2.4(e)): its source is unspecified, multicast or
 *    255.255.255.255; its destination is multicast or 255.255.255.255
 *    (IPv6: except for Packet Too Big and Parameter Problem code 2); it is an
 *    ICMP(v6) error itself (or an ICMPv4 message too short to tell); it is a
 *    non-first IPv4 fragment.
 */
uint32_t sl_icmp_error_build(uint8_t *l3_out, uint32_t room, int family,
			     const struct sl_ip_addr *src, const uint8_t *offending_l3,
			     uint32_t offending_len, uint8_t type, uint8_t code, uint32_t rest_be);

/* What an ICMP error says and quotes. Ports and offsets as in the packet. */
struct sl_icmp_quote {
	uint8_t type, code;
	uint8_t family;            /* SL_AF_IPV4 or SL_AF_IPV6 (outer and quoted alike) */
	uint8_t proto;             /* quoted packet's protocol: SL_PROTO_TCP or SL_PROTO_UDP */
	struct sl_ip_addr src, dst; /* quoted packet's addresses */
	uint16_t sport_be, dport_be; /* quoted packet's ports */
	uint16_t inner_l3_off;     /* offset of the quoted IP header from l3 */
	uint16_t inner_l4_off;     /* offset of the quoted TCP/UDP header from l3; 0 when
				    * fewer than 4 bytes of it are quoted (never, on success:
				    * the ports are required) */
};

/*
 * Parse an ICMP error at l3 (an IPv4 or IPv6 packet of family, len bytes
 * readable). Accepts ICMPv4 types 3 (unreachable), 11 (time exceeded), 12
 * (parameter problem) and ICMPv6 types 1, 2 (packet too big), 3, 4, with a
 * correct ICMP(v6) checksum, the outer packet not an IPv4 fragment and
 * ICMP(v6) directly after the outer IP header; the quoted packet must be of
 * the same family, TCP or UDP (directly after the fixed IPv6 header for v6;
 * an IPv4 quote must not be a non-first fragment) with at least its ports (4
 * bytes of its L4 header) quoted. Returns 0 and fills *out, or -EINVAL (also
 * for echo and every other non-error type: the caller tells them apart).
 */
int sl_icmp_error_parse(const uint8_t *l3, uint32_t len, int family, struct sl_icmp_quote *out);

/*
 * Forward an ICMP error addressed to a frontend, quoting a packet the
 * frontend sent (quoted source = frontend:port), to a backend behind DNAT, in
 * place: the outer destination address and the quoted source address become
 * new_addr (of family), and when new_port_be != 0 the quoted source port
 * becomes new_port_be. The outer and quoted IPv4 header checksums are updated
 * incrementally; the ICMP(v6) checksum is recomputed over the whole message
 * (with the pseudo-header for v6). The quoted L4 checksum is left alone (it
 * may be truncated). Returns 0, or -EINVAL with nothing written when
 * sl_icmp_error_parse() refuses the packet or new_addr is of the other family.
 */
int sl_icmp_error_dnat(uint8_t *l3, uint32_t len, int family, const struct sl_ip_addr *new_addr,
		       uint16_t new_port_be);

/*
 * Decrement the TTL (IPv4, header checksum updated incrementally, RFC 1624)
 * or hop limit (IPv6) of the IP header at l3. Returns the new value, or -1
 * when it was already <= 1 (the packet must not be forwarded; nothing is
 * written), or -EINVAL for an unknown family.
 */
static inline int
sl_ip_ttl_decrement(uint8_t *l3, int family)
{
	if (family == SL_AF_IPV4) {
		uint16_t old_w, new_w, c;

		if (l3[8] <= 1)
			return -1;
		/*
		 * TTL shares a 16-bit word with the protocol (bytes 8..9). The
		 * new word is made in a register and stored whole: reading it
		 * back over a 1-byte store would stall until that store
		 * reached the cache.
		 */
		uint8_t w[2] = {(uint8_t)(l3[8] - 1), l3[9]};
		memcpy(&old_w, l3 + 8, 2);
		memcpy(&new_w, w, 2);
		memcpy(l3 + 8, &new_w, 2);
		memcpy(&c, l3 + 10, 2);
		c = sl_csum_replace16(c, old_w, new_w);
		memcpy(l3 + 10, &c, 2);
		return w[0];
	}
	if (family == SL_AF_IPV6) {
		if (l3[7] <= 1)
			return -1;
		l3[7]--;
		return l3[7];
	}
	return -EINVAL;
}

#endif /* SL_L2PROTO_H */
