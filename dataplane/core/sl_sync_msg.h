/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_sync_msg.h: flow sync between sluice hosts: the record a worker writes
 * when it starts or renews a flow, and the UDP datagram that carries such
 * records to the other hosts (encode, decode, validation).
 *
 * A record names everything by what is the same on every host with the
 * same configuration (the flow's key, the rule's frontend, the backend's
 * address), never by indexes or counter ids, which differ between hosts.
 *
 * Datagram (all integers in network byte order):
 *   header, SL_SYNC_HDR_LEN bytes: magic "SLFS" (4), version (1), 0 (1),
 *   count (2); then count records of SL_SYNC_REC_LEN bytes each:
 *   flow src (16), flow dst (16), flow sport (2), flow dport (2), flow
 *   protocol (1, 0 when the rule's distribution ignores it), flow state
 *   (1, enum sl_flow_state), frontend protocol (1, SL_PROTO_*), 0 (1),
 *   frontend (16), frontend port (2), backend port (2, 0: the flow's
 *   destination port), backend (16), remaining lifetime ms (4).
 * Addresses use sluice's 16-byte form (IPv4-mapped IPv6 for IPv4).
 */
#ifndef SL_SYNC_MSG_H
#define SL_SYNC_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "sl_flow.h"
#include "sl_types.h"

#define SL_SYNC_MAGIC 0x534c4653u /* "SLFS" */
#define SL_SYNC_VERSION 1
#define SL_SYNC_HDR_LEN 8
#define SL_SYNC_REC_LEN 80
#define SL_SYNC_MAX_DATAGRAM 1400
/* records one datagram holds: 17 */
#define SL_SYNC_MAX_RECORDS ((SL_SYNC_MAX_DATAGRAM - SL_SYNC_HDR_LEN) / SL_SYNC_REC_LEN)
/* the longest remaining lifetime a record may carry (a day; idle timeouts and drain periods are shorter) */
#define SL_SYNC_MAX_LIFETIME_MS 86400000u
#define SL_SYNC_DEFAULT_PORT 7470

/* One flow, as a worker reports it and a peer receives it (host byte order except *_be). */
struct sl_sync_record {
	struct sl_flow_key key;      /* the flow table's key */
	struct sl_ip_addr frontend;  /* the rule's frontend address, */
	uint16_t frontend_port_be;   /* port (0: HA ports) */
	uint8_t frontend_proto;      /* and protocol (SL_PROTO_*) */
	uint8_t state;               /* enum sl_flow_state */
	struct sl_ip_addr backend;   /* the backend the flow goes to */
	uint16_t backend_port_be;    /* the rule's backend port (0: the flow's destination port) */
	uint16_t pad;
	uint32_t lifetime_ms;        /* the entry's remaining lifetime */
};

/* Why a datagram was refused (sl_sync_decode). */
enum sl_sync_error {
	SL_SYNC_OK = 0,
	SL_SYNC_ERR_SHORT,     /* shorter than the header */
	SL_SYNC_ERR_MAGIC,     /* not a sluice flow sync datagram */
	SL_SYNC_ERR_VERSION,   /* another version of the format */
	SL_SYNC_ERR_COUNT,     /* count 0 or above SL_SYNC_MAX_RECORDS */
	SL_SYNC_ERR_LENGTH,    /* length is not header + count records (truncated or trailing bytes) */
	SL_SYNC_ERR_RECORD,    /* a record's field out of range (protocol, state, lifetime) */
};

/* A short English phrase for e ("bad magic", ...). */
const char *sl_sync_error_name(enum sl_sync_error e);

/*
 * Encode n records (1..SL_SYNC_MAX_RECORDS) into buf (len bytes). Returns
 * the datagram's length, or -EINVAL when n is out of range, -ENOSPC when
 * buf is too small.
 */
int sl_sync_encode(const struct sl_sync_record *r, unsigned int n, uint8_t *buf, size_t len);

/*
 * Decode the datagram buf (len bytes) into out (room for
 * SL_SYNC_MAX_RECORDS). Sets *n to the record count. Returns SL_SYNC_OK,
 * or the reason the whole datagram is refused (then *n is 0): nothing of a
 * datagram with one bad record is used.
 */
enum sl_sync_error sl_sync_decode(const uint8_t *buf, size_t len, struct sl_sync_record *out,
				  unsigned int *n);

#endif /* SL_SYNC_MSG_H */
