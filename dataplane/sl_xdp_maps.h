/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_xdp_maps.h: the entries sluiced keeps in the XDP program's hash maps
 * (sl_addrs, sl_endpoints; sl_xdp_abi.h), as sorted sets, and the diff that
 * brings a map from the set it holds to the set wanted with one system
 * call per entry that changed. Private to sl_xdp.c (and its unit test):
 * free of DPDK, it speaks to the kernel only through libbpf's map calls.
 */
#ifndef SL_XDP_MAPS_H
#define SL_XDP_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_xdp_abi.h"

/* An entry of sl_addrs: the key, then its value (SL_XDP_* flags). */
struct sl_xdp_addr_entry {
	struct sl_xdp_addr_key k;
	uint32_t flags;
};

/*
 * A set of map entries of size bytes, the first klen of them the key; when
 * size == klen the entries are keys alone and the map's value is 1 (the
 * endpoint map). Sorted by key, keys unique, after sl_xdp_set_normalise().
 */
struct sl_xdp_set {
	void *v;
	size_t n;
	size_t cap;
	size_t size;
	size_t klen;
};

/* What one sl_xdp_set_apply() did to the map. */
struct sl_xdp_apply_report {
	unsigned int written;   /* entries inserted or given a new value */
	unsigned int deleted;   /* entries removed */
	unsigned int refused;   /* wanted entries the map would not take (full): not in it */
	unsigned int undeleted; /* entries the map would not give up: still in it */
	int error;              /* errno of the last refusal (or failed deletion) */
};

/* An empty set of entries of size bytes, keyed by their first klen. */
void sl_xdp_set_init(struct sl_xdp_set *s, size_t size, size_t klen);

/* Free the entries; s is left empty, with its sizes. */
void sl_xdp_set_free(struct sl_xdp_set *s);

/* Append an sl_addrs entry (s of struct sl_xdp_addr_entry). 0 or -ENOMEM. */
int sl_xdp_set_add_addr(struct sl_xdp_set *s, const uint8_t addr[16], uint32_t flags);

/* Append an sl_endpoints key (s of struct sl_xdp_ep_key). 0 or -ENOMEM. */
int sl_xdp_set_add_endpoint(struct sl_xdp_set *s, const uint8_t addr[16], uint8_t proto,
			    uint16_t port_be);

/* Sort by key and merge equal keys (or_flags: OR the flags of sl_addrs entries). */
void sl_xdp_set_normalise(struct sl_xdp_set *s, bool or_flags);

/*
 * Bring map fd from *held (what it holds, as the last call left it) to
 * *want (normalised). Entries equal in both are not written; new and
 * changed ones are written before anything is deleted, so nothing that
 * stays sluice's is passed to the kernel meanwhile; what a full map
 * refused is tried again once the deletions made room. On return *held
 * is what the map holds: want, less what was refused (an old value the
 * map kept stays), plus what could not be deleted; *want is unchanged and
 * *r says what was done. Returns 0, -errno of the last refusal when some
 * entry was refused or not deleted, or -ENOMEM with the map untouched.
 */
int sl_xdp_set_apply(int fd, struct sl_xdp_set *held, const struct sl_xdp_set *want,
		     struct sl_xdp_apply_report *r);

/* Capability numbers of <linux/capability.h> that BPF maps and XDP need. */
#define SL_CAP_NET_ADMIN 12
#define SL_CAP_NET_RAW 13
#define SL_CAP_SYS_ADMIN 21
#define SL_CAP_BPF 39

/*
 * Does this process hold capability cap (CapEff of /proc/self/status; when
 * that cannot be read, whether it runs as root)?
 */
bool sl_xdp_has_cap(unsigned int cap);

#endif /* SL_XDP_MAPS_H */
