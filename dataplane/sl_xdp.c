/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sl_xdp.c: the XDP steering program of AF_XDP ports (see sl_xdp.h).
 *
 * Map contents are kept as sorted shadow sets of what the maps hold
 * (sl_xdp_maps.c), so a publication costs one system call per entry that
 * changed, not per entry configured.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <rte_common.h>
#include <rte_log.h>

#include "sl_logging.h"
#include "sl_xdp.h"
#include "sl_xdp_maps.h"

RTE_LOG_REGISTER(sl_logtype_xdp, user.sluice.xdp, INFO);
#define XDP_LOG(level, ...) SL_LOG(level, sl_logtype_xdp, "xdp", __VA_ARGS__)

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SL_XDP_INSTALLED_OBJECT
#define SL_XDP_INSTALLED_OBJECT "/usr/lib/sluice/sl_xdp_steer.o"
#endif
#define SL_XDP_OBJECT_NAME "sl_xdp_steer.o"

struct sl_xdp {
	char port[SL_PORT_NAME_MAX];
	char ifname[SL_IFNAME_MAX];
	unsigned int ifindex;
	uint32_t prog_id;
	char mode[16];
	int prog_fd;
	int addrs_fd;
	int endpoints_fd;
	int counters_fd;
	int ncpus;
	struct sl_ip_addr own[2]; /* the port's addresses */
	unsigned int n_own;
	struct sl_xdp_set addrs;     /* what sl_addrs holds */
	struct sl_xdp_set endpoints; /* what sl_endpoints holds */
	struct sl_ip_addr *host;  /* the host's addresses, sorted */
	size_t n_host;
	const struct sl_snapshot *last; /* the snapshot of the last sync (kept alive by the caller) */
	int mcast_fd;                   /* holds the solicited-node groups joined (-1: none yet) */
	struct sl_ip_addr *groups;      /* those groups, sorted */
	size_t n_groups;
	bool mcast_warned;              /* a join failed, and the log said so */
};

/* The interfaces this process prepared: their lock files, and what rte_exit() detaches. */
static struct {
	unsigned int ifindex;
	char ifname[SL_IFNAME_MAX];
	int lock_fd;
	int promiscuous; /* IFF_PROMISC before sluiced: restored at close; -1 unknown */
} prepared[SL_MAX_PORTS];
static unsigned int n_prepared;

/* Set err (code, target, a printf-style message) and return rc. */
static int __attribute__((format(printf, 5, 6)))
fail(struct sl_error *err, const char *code, const char *target, int rc, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sl_error_set(err, code, target, "", "%s", msg);
	return rc;
}

/* The name and attach mode of the XDP program on ifindex; 0 when none. */
static uint32_t
attached_program(unsigned int ifindex, char *name, size_t len, uint32_t *mode_flag,
		 char *mode, size_t mlen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info;
	uint32_t ilen = sizeof(info);
	int fd;

	name[0] = '\0';
	if (bpf_xdp_query((int)ifindex, 0, &q) != 0 || q.attach_mode == XDP_ATTACHED_NONE)
		return 0;
	uint32_t id = q.prog_id;
	*mode_flag = 0;
	if (q.attach_mode == XDP_ATTACHED_DRV) {
		*mode_flag = XDP_FLAGS_DRV_MODE;
		snprintf(mode, mlen, "native");
	} else if (q.attach_mode == XDP_ATTACHED_SKB) {
		*mode_flag = XDP_FLAGS_SKB_MODE;
		snprintf(mode, mlen, "generic");
	} else if (q.attach_mode == XDP_ATTACHED_HW) {
		*mode_flag = XDP_FLAGS_HW_MODE;
		snprintf(mode, mlen, "offload");
	} else {
		snprintf(mode, mlen, "multiple");
		id = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
		*mode_flag = q.drv_prog_id ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
	}
	fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0) {
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &ilen) == 0)
			snprintf(name, len, "%s", info.name);
		close(fd);
	}
	return id;
}

/* Detach program id from ifindex (only that one). Returns 0 or -errno. */
static int
detach(unsigned int ifindex, uint32_t id, uint32_t mode_flag)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);
	int fd = bpf_prog_get_fd_by_id(id);
	int rc;

	if (fd < 0)
		return -errno;
	o.old_prog_fd = fd;
	rc = bpf_xdp_detach((int)ifindex, mode_flag | XDP_FLAGS_REPLACE, &o);
	close(fd);
	return rc;
}

/* Remove sluice's program from ifindex if it is there; logs what it did. */
static void
detach_ours(unsigned int ifindex, const char *ifname, const char *why)
{
	char name[BPF_OBJ_NAME_LEN], mode[16];
	uint32_t mode_flag = 0;
	uint32_t id = attached_program(ifindex, name, sizeof(name), &mode_flag, mode, sizeof(mode));

	if (id == 0 || strcmp(name, SL_XDP_PROG_NAME) != 0)
		return;
	int rc = detach(ifindex, id, mode_flag);
	if (rc != 0)
		XDP_LOG(ERR, "%s: cannot detach XDP program %u: %s\n", ifname, id, strerror(-rc));
	else
		XDP_LOG(INFO, "%s: XDP program %u detached (%s)\n", ifname, id, why);
}

static void
detach_at_exit(void)
{
	for (unsigned int i = 0; i < n_prepared; i++)
		if (prepared[i].ifindex != 0)
			detach_ours(prepared[i].ifindex, prepared[i].ifname, "exit");
}

int
sl_xdp_find_object(const char *path, char *buf, size_t len, struct sl_error *err)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (path != NULL) {
		if (access(path, R_OK) != 0)
			return fail(err, "XdpProgramNotFound", path, -ENOENT,
				    "--xdp-program %s: %s", path, strerror(errno));
		snprintf(buf, len, "%s", path);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash != NULL) {
			slash[1] = '\0';
			snprintf(buf, len, "%s%s", exe, SL_XDP_OBJECT_NAME);
			if (access(buf, R_OK) == 0)
				return 0;
		}
	}
	snprintf(buf, len, "%s", SL_XDP_INSTALLED_OBJECT);
	if (access(buf, R_OK) == 0)
		return 0;
	return fail(err, "XdpProgramNotFound", SL_XDP_OBJECT_NAME, -ENOENT,
		    "the XDP program %s is neither next to sluiced nor at %s: build it (meson "
		    "builds it with sluiced) or give --xdp-program", SL_XDP_OBJECT_NAME,
		    SL_XDP_INSTALLED_OBJECT);
}

/* Does this process hold the capabilities that loading XDP and AF_XDP sockets need? */
static bool
privileged(void)
{
	return sl_xdp_has_cap(SL_CAP_NET_ADMIN) && sl_xdp_has_cap(SL_CAP_NET_RAW) &&
	       (sl_xdp_has_cap(SL_CAP_SYS_ADMIN) || sl_xdp_has_cap(SL_CAP_BPF));
}

_Static_assert(sizeof(struct sl_xdp_addr_key) == sizeof(struct sl_ip_addr),
	       "an XDP address key is an address's 16 bytes");

/* Order of two addresses (struct sl_ip_addr, or the sl_xdp_addr_key at an entry's start). */
static int
addr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct sl_ip_addr));
}

/* The addresses of the host's kernel (every interface of this network namespace), sorted. */
static int
host_addresses(struct sl_ip_addr **out, size_t *n_out)
{
	struct ifaddrs *ifa, *i;
	struct sl_ip_addr *v = NULL;
	size_t n = 0, cap = 0;

	if (getifaddrs(&ifa) != 0)
		return -errno;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		struct sl_ip_addr a;
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			sl_ip_addr_from_v4(&a, ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		else if (i->ifa_addr->sa_family == AF_INET6)
			memcpy(a.bytes, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		else
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct sl_ip_addr *nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				free(v);
				freeifaddrs(ifa);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = a;
	}
	freeifaddrs(ifa);
	if (n > 1)
		qsort(v, n, sizeof(*v), addr_cmp);
	*out = v;
	*n_out = n;
	return 0;
}

static bool
is_host_address(const struct sl_ip_addr *host, size_t n, const struct sl_ip_addr *a)
{
	return n > 0 && bsearch(a, host, n, sizeof(*host), addr_cmp) != NULL;
}

/*
 * One sluiced an interface: an abstract Unix socket named after it, bound
 * while sluiced runs. Abstract names belong to the network namespace, as
 * interface names do, and the kernel releases them when the process dies
 * (SIGKILL included). The pid of a holder is read with SO_PEERCRED.
 */
static int
lock_interface(const char *ifname, struct sl_error *err, const char *target)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "sluice-xdp-%s", ifname);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return fail(err, "XdpSetupFailed", target, -errno, "cannot lock interface %s: %s",
			    ifname, strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, len) == 0 && listen(fd, 1) == 0)
		return fd;
	int e = errno;
	close(fd);
	if (e != EADDRINUSE)
		return fail(err, "XdpSetupFailed", target, -e, "cannot lock interface %s: %s",
			    ifname, strerror(e));
	struct ucred cred = {0};
	socklen_t cl = sizeof(cred);
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c >= 0 && (connect(c, (struct sockaddr *)&sa, len) != 0 ||
		       getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0))
		cred.pid = 0;
	if (c >= 0)
		close(c);
	if (cred.pid == getpid())
		return fail(err, "InvalidPortProfile", target, -EBUSY,
			    "two AF_XDP ports of the profile are on interface %s", ifname);
	return fail(err, "InterfaceInUse", target, -EBUSY,
		    "interface %s is in use by another sluiced (pid %ld): one sluiced an interface",
		    ifname, (long)cred.pid);
}

/*
 * IFF_PROMISC of ifname: 1 set, 0 not, -1 unreadable. With want 0 or 1,
 * first make it so (the PMD sets and clears it; sluiced puts it back as it
 * found it); want -1 only reads.
 */
static int
promiscuous(const char *ifname, int want)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		rc = (ifr.ifr_flags & IFF_PROMISC) != 0;
		if (want >= 0 && rc != want) {
			ifr.ifr_flags = (short)(want ? ifr.ifr_flags | IFF_PROMISC
						     : ifr.ifr_flags & ~IFF_PROMISC);
			if (ioctl(fd, SIOCSIFFLAGS, &ifr) == 0)
				rc = want;
			else
				XDP_LOG(WARNING, "%s: cannot restore promiscuous mode: %s\n",
					ifname, strerror(errno));
		}
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

int
sl_xdp_prepare(struct sl_port_cfg *cfg, const char *object, struct sl_error *err)
{
	char name[BPF_OBJ_NAME_LEN], mode[16], arg[PATH_MAX + 16];
	uint32_t mode_flag = 0, id;
	unsigned int ifindex;
	int fd;

	if (!privileged())
		return fail(err, "XdpSetupFailed", cfg->name, -EPERM,
			    "port on %s: an AF_XDP port needs root (CAP_NET_ADMIN, CAP_NET_RAW and "
			    "CAP_BPF or CAP_SYS_ADMIN) to load its XDP program", cfg->xdp_iface);
	fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0 && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT))
		return fail(err, "XdpUnsupported", cfg->name, -EAFNOSUPPORT,
			    "this kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS)");
	if (fd >= 0)
		close(fd);
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) != 1)
		return fail(err, "XdpUnsupported", cfg->name, -EOPNOTSUPP,
			    "this kernel cannot load XDP programs (BPF or XDP not built in)");
	ifindex = if_nametoindex(cfg->xdp_iface);
	if (ifindex == 0)
		return fail(err, "InterfaceNotFound", cfg->name, -ENODEV,
			    "interface %s does not exist (in this network namespace)",
			    cfg->xdp_iface);
	/* the port's own addresses must not be the kernel's: the program would take its traffic */
	{
		struct sl_ip_addr *host = NULL;
		size_t n_host = 0;
		char a[64];
		if (host_addresses(&host, &n_host) == 0) {
			const struct sl_ip_addr *own[2] = {
				cfg->info.has_ipv4 ? &cfg->info.ipv4 : NULL,
				cfg->info.has_ipv6 ? &cfg->info.ipv6 : NULL};
			for (int k = 0; k < 2; k++)
				if (own[k] != NULL && is_host_address(host, n_host, own[k])) {
					free(host);
					sl_ip_addr_format(own[k], a, sizeof(a));
					return fail(err, "InvalidPortProfile", cfg->name, -EINVAL,
						    "%s is an address of the host's kernel: an AF_XDP "
						    "port needs addresses of its own, or it "
						    "would take the host's traffic on %s", a,
						    cfg->xdp_iface);
				}
			free(host);
		}
	}
	if (n_prepared == RTE_DIM(prepared))
		return fail(err, "XdpSetupFailed", cfg->name, -ENOSPC, "too many AF_XDP ports");
	fd = lock_interface(cfg->xdp_iface, err, cfg->name);
	if (fd < 0)
		return fd;
	id = attached_program(ifindex, name, sizeof(name), &mode_flag, mode, sizeof(mode));
	if (id != 0 && strcmp(name, SL_XDP_PROG_NAME) != 0) {
		char idtxt[16];
		close(fd);
		snprintf(idtxt, sizeof(idtxt), "%u", id);
		sl_error_set(err, "InterfaceInUse", cfg->name, "",
			     "interface %s already runs XDP program '%s' (id %s): sluice needs the "
			     "interface's XDP hook to itself; detach it (ip link set dev %s xdp off) "
			     "or use another interface", cfg->xdp_iface, name, idtxt, cfg->xdp_iface);
		return -EBUSY;
	}
	if (id != 0) {
		/* we hold the interface's lock: no sluiced runs it; an earlier one was killed */
		int rc = detach(ifindex, id, mode_flag);
		if (rc != 0) {
			close(fd);
			return fail(err, "XdpSetupFailed", cfg->name, rc,
				    "cannot remove the XDP program an earlier sluiced left on %s: %s",
				    cfg->xdp_iface, strerror(-rc));
		}
		XDP_LOG(NOTICE, "%s: removed XDP program %u that an earlier sluiced left attached\n",
			cfg->xdp_iface, id);
	}
	snprintf(arg, sizeof(arg), "%sxdp_prog=%s", cfg->devargs[0] ? "," : "", object);
	if (strlen(cfg->devargs) + strlen(arg) >= sizeof(cfg->devargs)) {
		close(fd);
		return fail(err, "InvalidPortProfile", cfg->name, -E2BIG, "devargs too long");
	}
	strcat(cfg->devargs, arg);
	prepared[n_prepared].ifindex = ifindex;
	prepared[n_prepared].lock_fd = fd;
	prepared[n_prepared].promiscuous = promiscuous(cfg->xdp_iface, -1);
	snprintf(prepared[n_prepared].ifname, sizeof(prepared[0].ifname), "%s", cfg->xdp_iface);
	if (n_prepared++ == 0)
		atexit(detach_at_exit);
	return 0;
}

/* The fd of the map of prog_fd's program named name, or -1. */
static int
find_map(const uint32_t *ids, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++) {
		struct bpf_map_info mi;
		uint32_t len = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		if (bpf_obj_get_info_by_fd(fd, &mi, &len) == 0 && strcmp(mi.name, name) == 0)
			return fd;
		close(fd);
	}
	return -1;
}

struct sl_xdp *
sl_xdp_open(const struct sl_port_cfg *cfg, struct sl_error *err)
{
	char name[BPF_OBJ_NAME_LEN];
	uint32_t mode_flag = 0, map_ids[16], n_maps;
	struct bpf_prog_info info;
	uint32_t ilen = sizeof(info);
	struct sl_xdp *x = calloc(1, sizeof(*x));

	if (x == NULL) {
		sl_error_set(err, "XdpSetupFailed", cfg->name, "", "out of memory");
		return NULL;
	}
	x->prog_fd = x->addrs_fd = x->endpoints_fd = x->counters_fd = x->mcast_fd = -1;
	snprintf(x->port, sizeof(x->port), "%s", cfg->name);
	snprintf(x->ifname, sizeof(x->ifname), "%s", cfg->xdp_iface);
	x->ifindex = if_nametoindex(cfg->xdp_iface);
	sl_xdp_set_init(&x->addrs, sizeof(struct sl_xdp_addr_entry),
			sizeof(struct sl_xdp_addr_key));
	sl_xdp_set_init(&x->endpoints, sizeof(struct sl_xdp_ep_key), sizeof(struct sl_xdp_ep_key));
	if (cfg->info.has_ipv4)
		x->own[x->n_own++] = cfg->info.ipv4;
	if (cfg->info.has_ipv6)
		x->own[x->n_own++] = cfg->info.ipv6;
	x->prog_id = x->ifindex ? attached_program(x->ifindex, name, sizeof(name), &mode_flag,
						   x->mode, sizeof(x->mode))
				: 0;
	if (x->prog_id == 0 || strcmp(name, SL_XDP_PROG_NAME) != 0) {
		sl_error_set(err, "XdpSetupFailed", cfg->name, "",
			     "the AF_XDP PMD attached no sluice XDP program to %s", cfg->xdp_iface);
		goto fail;
	}
	x->prog_fd = bpf_prog_get_fd_by_id(x->prog_id);
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = RTE_DIM(map_ids);
	info.map_ids = (uint64_t)(uintptr_t)map_ids;
	if (x->prog_fd < 0 || bpf_obj_get_info_by_fd(x->prog_fd, &info, &ilen) != 0) {
		sl_error_set(err, "XdpSetupFailed", cfg->name, "",
			     "cannot read XDP program %u on %s: %s", x->prog_id, cfg->xdp_iface,
			     strerror(errno));
		goto fail;
	}
	n_maps = RTE_MIN(info.nr_map_ids, (uint32_t)RTE_DIM(map_ids));
	x->addrs_fd = find_map(map_ids, n_maps, SL_XDP_MAP_ADDRS);
	x->endpoints_fd = find_map(map_ids, n_maps, SL_XDP_MAP_ENDPOINTS);
	x->counters_fd = find_map(map_ids, n_maps, SL_XDP_MAP_COUNTERS);
	x->ncpus = libbpf_num_possible_cpus();
	if (x->addrs_fd < 0 || x->endpoints_fd < 0 || x->counters_fd < 0 || x->ncpus <= 0) {
		sl_error_set(err, "XdpSetupFailed", cfg->name, "",
			     "XDP program %u on %s lacks sluice's maps (an object from another "
			     "version?)", x->prog_id, cfg->xdp_iface);
		goto fail;
	}
	if (host_addresses(&x->host, &x->n_host) != 0)
		XDP_LOG(WARNING, "%s: cannot read the host's addresses\n", x->ifname);
	XDP_LOG(INFO, "%s: port %s steered by XDP program %u (%s mode)\n", x->ifname, x->port,
		x->prog_id, x->mode);
	return x;
fail:
	sl_xdp_close(x);
	return NULL;
}

/* Bring map fd to want (see sl_xdp_set_apply) and say what it refused. */
static int
apply(int fd, struct sl_xdp_set *held, const struct sl_xdp_set *want, const char *ifname,
      const char *what)
{
	struct sl_xdp_apply_report r;
	int rc = sl_xdp_set_apply(fd, held, want, &r);

	if (rc == -ENOMEM)
		XDP_LOG(ERR, "%s: out of memory: %s not updated\n", ifname, what);
	if (r.refused)
		XDP_LOG(ERR, "%s: %u entries of %s refused (%s): sluice does not see their "
			"traffic\n", ifname, r.refused, what, strerror(r.error));
	if (r.undeleted)
		XDP_LOG(WARNING, "%s: %u entries of %s could not be removed (%s)\n", ifname,
			r.undeleted, what, strerror(r.error));
	return rc;
}

/* What the maps must hold for snapshot s (NULL: no frontend). 0 or -ENOMEM. */
static int
wanted(const struct sl_xdp *x, const struct sl_snapshot *s, struct sl_xdp_set *addrs,
       struct sl_xdp_set *eps)
{
	int rc = 0;

	for (unsigned int i = 0; i < x->n_own; i++)
		rc |= sl_xdp_set_add_addr(addrs, x->own[i].bytes, SL_XDP_OWN);
	for (size_t i = 0; i < x->n_host; i++)
		rc |= sl_xdp_set_add_addr(addrs, x->host[i].bytes, SL_XDP_HOST);
	if (s == NULL)
		return rc;
	for (uint32_t i = 0; i <= s->addr_mask && s->addr_slots != NULL; i++) {
		const struct sl_frontend_slot *sl = &s->addr_slots[i];
		uint32_t f = 0;
		if (!sl->used)
			continue;
		if (sl->rule & SL_ADDR_FRONTEND)
			f |= SL_XDP_FRONTEND;
		if (sl->rule & SL_ADDR_DNAT_BACKEND)
			f |= SL_XDP_DNAT_BACKEND;
		if (f != 0)
			rc |= sl_xdp_set_add_addr(addrs, sl->addr.bytes, f);
	}
	for (uint32_t i = 0; i <= s->reply_mask && s->reply_slots != NULL; i++) {
		const struct sl_frontend_slot *sl = &s->reply_slots[i];
		if (sl->used)
			rc |= sl_xdp_set_add_endpoint(eps, sl->addr.bytes,
						      sl->proto == SL_PROTO_ALL ? 0 : sl->proto,
						      sl->port_be);
	}
	return rc;
}

/* An address both sluice's and the host's: the host keeps it. */
static bool
conflict(const struct sl_xdp_addr_entry *e)
{
	return (e->flags & SL_XDP_HOST) && (e->flags & (SL_XDP_FRONTEND | SL_XDP_OWN));
}

/* Was e's address already in conflict in what the map holds? */
static bool
held_conflict(const struct sl_xdp_set *held, const struct sl_xdp_addr_entry *e)
{
	const struct sl_xdp_addr_entry *h =
		held->n > 0 ? bsearch(e, held->v, held->n, sizeof(*h), addr_cmp) : NULL;
	return h != NULL && conflict(h);
}

static int
membership(struct sl_xdp *x, int opt, const struct sl_ip_addr *g)
{
	struct ipv6_mreq m;

	memcpy(&m.ipv6mr_multiaddr, g->bytes, 16);
	m.ipv6mr_interface = x->ifindex;
	return setsockopt(x->mcast_fd, IPPROTO_IPV6, opt, &m, sizeof(m));
}

/*
 * The interface joins the solicited-node group (ff02::1:ffXX:XXXX) of each
 * IPv6 address of sluice's: the kernel then lets the NIC's multicast filter
 * pass the NS for them (and sends MLD reports for snooping switches),
 * which it would not do for addresses it does not hold.
 */
static void
join_groups(struct sl_xdp *x)
{
	struct sl_ip_addr *want = calloc(x->addrs.n + 1, sizeof(*want));
	size_t n = 0, i, j;
	unsigned int failed = 0;
	int err = 0;

	if (want == NULL)
		return;
	for (i = 0; i < x->addrs.n; i++) {
		const struct sl_xdp_addr_entry *e = (const struct sl_xdp_addr_entry *)x->addrs.v + i;
		if (!(e->flags & (SL_XDP_FRONTEND | SL_XDP_OWN)) || (e->flags & SL_XDP_HOST) ||
		    sl_ip_addr_is_v4((const struct sl_ip_addr *)e->k.addr))
			continue;
		static const uint8_t sn[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
		memcpy(want[n].bytes, sn, sizeof(sn));
		memcpy(&want[n].bytes[13], &e->k.addr[13], 3);
		n++;
	}
	qsort(want, n, sizeof(*want), addr_cmp);
	for (i = 0, j = 0; i < n; i++) /* unique */
		if (j == 0 || addr_cmp(&want[j - 1], &want[i]) != 0)
			want[j++] = want[i];
	n = j;
	if (x->mcast_fd < 0 && n > 0)
		x->mcast_fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (x->mcast_fd < 0) {
		free(want);
		return;
	}
	/* leave the groups no longer wanted, join the new ones */
	for (i = 0; i < x->n_groups; i++)
		if (n == 0 || bsearch(&x->groups[i], want, n, sizeof(*want), addr_cmp) == NULL)
			membership(x, IPV6_DROP_MEMBERSHIP, &x->groups[i]);
	for (i = 0, j = 0; i < n; i++) {
		bool had = x->n_groups > 0 &&
			   bsearch(&want[i], x->groups, x->n_groups, sizeof(*want), addr_cmp) != NULL;
		if (!had && membership(x, IPV6_ADD_MEMBERSHIP, &want[i]) != 0) {
			failed++;
			err = errno;
			continue;
		}
		want[j++] = want[i];
	}
	free(x->groups);
	x->groups = want;
	x->n_groups = j;
	if (failed != 0 && !x->mcast_warned)
		XDP_LOG(WARNING, "%s: cannot join the solicited-node groups of %u IPv6 addresses "
			"(%s): NS for them pass the NIC only with \"promiscuous\": true\n", x->ifname,
			failed, strerror(err));
	x->mcast_warned = failed != 0;
}

/* Add what the held sets hold to addrs and eps (the union of before and after). */
static int
add_held(const struct sl_xdp *x, struct sl_xdp_set *addrs, struct sl_xdp_set *eps)
{
	int rc = 0;

	for (size_t i = 0; i < x->addrs.n; i++) {
		const struct sl_xdp_addr_entry *e = (const struct sl_xdp_addr_entry *)x->addrs.v + i;
		rc |= sl_xdp_set_add_addr(addrs, e->k.addr, e->flags);
	}
	for (size_t i = 0; i < x->endpoints.n; i++) {
		const struct sl_xdp_ep_key *k = (const struct sl_xdp_ep_key *)x->endpoints.v + i;
		rc |= sl_xdp_set_add_endpoint(eps, k->addr, k->proto, k->port_be);
	}
	return rc;
}

int
sl_xdp_sync_begin(struct sl_xdp *x, const struct sl_snapshot *s)
{
	struct sl_xdp_set addrs, eps;
	int rc, rc2;

	sl_xdp_set_init(&addrs, x->addrs.size, x->addrs.klen);
	sl_xdp_set_init(&eps, x->endpoints.size, x->endpoints.klen);
	if (wanted(x, s, &addrs, &eps) != 0 || add_held(x, &addrs, &eps) != 0) {
		sl_xdp_set_free(&addrs);
		sl_xdp_set_free(&eps);
		XDP_LOG(ERR, "%s: out of memory: XDP maps not updated\n", x->ifname);
		return -ENOMEM;
	}
	sl_xdp_set_normalise(&addrs, true);
	sl_xdp_set_normalise(&eps, false);
	rc = apply(x->endpoints_fd, &x->endpoints, &eps, x->ifname, "the endpoint map");
	rc2 = apply(x->addrs_fd, &x->addrs, &addrs, x->ifname, "the address map");
	sl_xdp_set_free(&addrs);
	sl_xdp_set_free(&eps);
	return rc != 0 ? rc : rc2;
}

int
sl_xdp_sync(struct sl_xdp *x, const struct sl_snapshot *s)
{
	struct sl_xdp_set addrs, eps;
	char a[64];
	int rc, rc2;

	x->last = s;
	sl_xdp_set_init(&addrs, x->addrs.size, x->addrs.klen);
	sl_xdp_set_init(&eps, x->endpoints.size, x->endpoints.klen);
	if (wanted(x, s, &addrs, &eps) != 0) {
		sl_xdp_set_free(&addrs);
		sl_xdp_set_free(&eps);
		XDP_LOG(ERR, "%s: out of memory: XDP maps not updated\n", x->ifname);
		return -ENOMEM;
	}
	sl_xdp_set_normalise(&addrs, true);
	sl_xdp_set_normalise(&eps, false);
	for (size_t i = 0; i < addrs.n; i++) {
		const struct sl_xdp_addr_entry *e = (const struct sl_xdp_addr_entry *)addrs.v + i;
		if (conflict(e) && !held_conflict(&x->addrs, e)) { /* said once, when it appears */
			struct sl_ip_addr ip;
			memcpy(ip.bytes, e->k.addr, 16);
			XDP_LOG(WARNING, "%s: %s is both sluice's (a frontend or the port's address) "
				"and the host's: the kernel keeps its traffic\n", x->ifname,
				sl_ip_addr_format(&ip, a, sizeof(a)));
		}
	}
	/* endpoints first: a reply whose backend becomes known needs its endpoint */
	rc = apply(x->endpoints_fd, &x->endpoints, &eps, x->ifname, "the endpoint map");
	rc2 = apply(x->addrs_fd, &x->addrs, &addrs, x->ifname, "the address map");
	sl_xdp_set_free(&addrs);
	sl_xdp_set_free(&eps);
	join_groups(x);
	return rc != 0 ? rc : rc2;
}

void
sl_xdp_refresh_host(struct sl_xdp *x)
{
	struct sl_ip_addr *host = NULL;
	size_t n = 0;

	if (x == NULL || host_addresses(&host, &n) != 0)
		return;
	if (n == x->n_host && (n == 0 || memcmp(host, x->host, n * sizeof(*host)) == 0)) {
		free(host);
		return;
	}
	free(x->host);
	x->host = host;
	x->n_host = n;
	XDP_LOG(INFO, "%s: the host's addresses changed (%zu): XDP maps updated\n", x->ifname, n);
	sl_xdp_sync(x, x->last);
}

void
sl_xdp_read(const struct sl_xdp *x, struct sl_xdp_port_stats *out)
{
	uint32_t zero = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->port, sizeof(out->port), "%s", x->port);
	snprintf(out->ifname, sizeof(out->ifname), "%s", x->ifname);
	snprintf(out->mode, sizeof(out->mode), "%s", x->mode);
	out->prog_id = x->prog_id;
	struct sl_xdp_counters *per = calloc((size_t)x->ncpus, sizeof(*per));
	if (per == NULL || bpf_map_lookup_elem(x->counters_fd, &zero, per) != 0) {
		free(per);
		return;
	}
	for (int c = 0; c < x->ncpus; c++)
		for (int k = 0; k < SL_XDP_CTR_MAX; k++)
			out->c[k] += per[c].c[k];
	free(per);
}

void
sl_xdp_close(struct sl_xdp *x)
{
	if (x == NULL)
		return;
	if (x->ifindex != 0)
		detach_ours(x->ifindex, x->ifname, "port closed");
	for (unsigned int i = 0; i < n_prepared; i++)
		if (prepared[i].ifindex == x->ifindex && prepared[i].ifindex != 0) {
			prepared[i].ifindex = 0;
			promiscuous(prepared[i].ifname, prepared[i].promiscuous);
			close(prepared[i].lock_fd);
		}
	if (x->prog_fd >= 0)
		close(x->prog_fd);
	if (x->addrs_fd >= 0)
		close(x->addrs_fd);
	if (x->endpoints_fd >= 0)
		close(x->endpoints_fd);
	if (x->counters_fd >= 0)
		close(x->counters_fd);
	if (x->mcast_fd >= 0)
		close(x->mcast_fd); /* leaves every group */
	free(x->groups);
	sl_xdp_set_free(&x->addrs);
	sl_xdp_set_free(&x->endpoints);
	free(x->host);
	free(x);
}
