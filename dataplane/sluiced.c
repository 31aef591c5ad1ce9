/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced.c: the sluice daemon. The EAL main lcore is the control thread:
 * it reads the port profile and the configuration, brings the ports up,
 * compiles and publishes snapshots, launches one worker per EAL worker
 * lcore, serves the REST API, reloads the configuration on SIGHUP and when
 * the file changes, prints statistics, and shuts down cleanly on
 * SIGINT/SIGTERM. Every configuration change goes through the controller
 * (control/sl_controller.h): validate, compile, persist, publish; and is
 * logged with who made it (control/sl_audit.h). The log is one line a
 * message on stderr, DPDK's included (sl_logging.h, --log-level).
 *
 *   sluiced [EAL options] -- --ports PROFILE.json [--config RESOURCES.json]
 *           [--state-dir DIR] [--api-socket PATH | --no-api] [--api-group GROUP]
 *           [--lcores-per-port N] [--stats-interval S] [--stats-file FILE]
 *           [--exit-idle-ms MS] [--bird-config FILE [--bird-socket PATH]
 *           [--withdraw-grace-ms MS]] [--sync-peers ADDR[,ADDR...] [--sync-port PORT]]
 *           [--xdp-program OBJECT] [--log-level [MODULE:]LEVEL]
 *           [--metrics-listen ADDR:PORT]
 *
 * With --bird-config it announces its frontend addresses through BIRD
 * (control/sl_announce.h): the set is recomputed after every publication
 * and service change, and at SIGINT/SIGTERM everything is withdrawn and the
 * host keeps forwarding for --withdraw-grace-ms before it stops. With
 * --sync-peers it sends the flows it starts to the other sluice hosts and
 * installs theirs (sl_sync.h). An AF_XDP port (net_af_xdp) shares its
 * kernel interface with the host: sluice's XDP program steers to sluice
 * only what is sluice's, and sluiced keeps its maps in step with every
 * publication (sl_xdp.h). Under systemd (sluiced.service) it says when it is
 * ready and feeds the watchdog while every worker makes progress
 * (sl_service.h). --help and --version answer before EAL starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "sl_announce.h"
#include "sl_fleet.h"
#include "sl_api.h"
#include "sl_audit.h"
#include "sl_capture.h"
#include "sl_compile.h"
#include "sl_config.h"
#include "sl_control_slowpath.h"
#include "sl_controller.h"
#include "sl_frontend_stats.h"
#include "sl_logging.h"
#include "sl_metrics_http.h"
#include "sl_pmd_config.h"
#include "sl_port.h"
#include "sl_probe.h"
#include "sl_publish.h"
#include "sl_service.h"
#include "sl_xdp.h"
#include "sl_stats.h"
#include "sl_sync.h"
#include "sl_telemetry.h"
#include "sl_worker.h"

RTE_LOG_REGISTER(sl_logtype_main, user.sluice.main, INFO);
#define MAIN_LOG(level, ...) SL_LOG(level, sl_logtype_main, "main", __VA_ARGS__)

struct sl_options {
	const char *ports_file;
	const char *config_file;
	const char *stats_file;
	const char *state_dir;
	const char *api_socket;
	int no_api;
	long api_gid; /* --api-group: -1, root only */
	struct sl_api_limits api_limits;
	struct sl_prober_opts probe;
	unsigned int lcores_per_port;
	uint32_t flow_table_size;
	uint32_t reply_table_size; /* 0: flow_table_size / 4 */
	double stats_interval;
	unsigned int exit_idle_ms;
	const char *bird_config; /* NULL: no announcements */
	const char *bird_socket;
	long withdraw_grace_ms;  /* -1: the default (2000 with --bird-config) */
	const char *sync_peers;  /* NULL: no flow sync */
	uint16_t sync_port;
	const char *xdp_program; /* NULL: next to sluiced, else the installed one */
	const char *metrics_listen; /* NULL: no Prometheus listener on TCP */
	const char *fleet_etcd;     /* --fleet-etcd: NULL, no fleet */
	const char *fleet_prefix;
	const char *fleet_name;     /* NULL: gethostname() */
};

static volatile sig_atomic_t sig_quit; /* SIGINT/SIGTERM received (count, up to 2) */
static struct sl_api *api_at_exit;

/* rte_exit() before the workers launch: leave no socket file behind. */
static void
remove_api_socket(void)
{
	sl_api_stop(api_at_exit);
	api_at_exit = NULL;
}
static volatile sig_atomic_t sig_reload;
static volatile sig_atomic_t sig_reload_pid, sig_reload_uid; /* the last SIGHUP's sender */
static char sig_reload_comm[17]; /* its name, read in the handler: kill(1) is gone soon after */

/* /proc/PID/comm into sig_reload_comm with async-signal-safe calls only ("" when gone). */
static void
read_sender_comm(pid_t pid)
{
	char path[32] = "/proc/", digits[12];
	int n = 0, len = 6, fd;
	ssize_t got;

	sig_reload_comm[0] = '\0';
	if (pid <= 0)
		return;
	do
		digits[n++] = (char)('0' + pid % 10);
	while ((pid /= 10) != 0 && n < (int)sizeof(digits));
	while (n > 0)
		path[len++] = digits[--n];
	memcpy(path + len, "/comm", 6);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	got = read(fd, sig_reload_comm, sizeof(sig_reload_comm) - 1);
	close(fd);
	sig_reload_comm[got > 0 ? got : 0] = '\0';
}

static void
on_signal(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	(void)uc;
	if (sig == SIGHUP) {
		sig_reload_pid = (sig_atomic_t)si->si_pid;
		sig_reload_uid = (sig_atomic_t)si->si_uid;
		read_sender_comm(si->si_pid);
		sig_reload = 1;
	} else if (sig_quit < 2) {
		sig_quit = sig_quit + 1; /* the handler blocks both signals: no lost update */
	}
	errno = saved;
}

static void
usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [EAL options] -- --ports PROFILE.json [--config RESOURCES.json]\n"
		"          [--state-dir DIR] [--api-socket PATH | --no-api] [--api-group GROUP]\n"
		"          [--api-max-connections N] [--api-rate-limit N] [--api-request-timeout S]\n"
		"          [--api-max-header-bytes BYTES] [--api-max-body-bytes BYTES]\n"
		"          [--lcores-per-port N] [--flow-table-size FLOWS] [--stats-interval SECONDS]\n"
		"          [--stats-file FILE] [--exit-idle-ms MS] [--reply-table-size CONNECTIONS]\n"
		"          [--probe-source-v4 ADDR] [--probe-source-v6 ADDR] [--probe-interface IF]\n"
		"          [--bird-config FILE [--bird-socket PATH] [--withdraw-grace-ms MS]]\n"
		"          [--sync-peers ADDR[,ADDR...] [--sync-port PORT]] [--xdp-program OBJECT]\n"
		"          [--log-level [MODULE:]LEVEL]\n"
		"          [--metrics-listen ADDR:PORT]\n"
		"       sluiced --help | --version\n"
		"  --help, --version   print this text, or sluiced's version, and exit\n"
		"                      (EAL's own options: sluiced -h)\n"
		"  --ports             port profile (pmd-config/*.json)\n"
		"  --config            resources: virtual networks, network interfaces and load\n"
		"                      balancers (JSON); applied at start, on SIGHUP and when the\n"
		"                      file changes\n"
		"  --state-dir         persist the configuration in DIR/state.json and restore it\n"
		"                      at start (before --config is applied)\n"
		"  --api-socket        REST API Unix socket (default " SL_API_DEFAULT_SOCKET ", mode 0600)\n"
		"  --api-group         the socket's group (name or number): owned by it with\n"
		"                      mode 0660, so its members may use the API\n"
		"  --api-max-connections  API connections at once (default 64)\n"
		"  --api-rate-limit    API requests a second per client uid (root's are not\n"
		"                      limited), as many in a burst (default 1000; 0: no limit;\n"
		"                      past it 429)\n"
		"  --api-request-timeout  seconds a client has to send a request or read an\n"
		"                      answer (default 10; past it the connection is closed)\n"
		"  --api-max-header-bytes  request line and headers (default 32768; past it 431)\n"
		"  --api-max-body-bytes  a request's body (default 33554432, 32 MiB; past it 413)\n"
		"  --no-api            serve no REST API\n"
		"  --probe-source-v4, --probe-source-v6 ADDR, --probe-interface IF\n"
		"                      where health probes leave from (default: the kernel's choice)\n"
		"  --flow-table-size   flows tracked per worker lcore (default 1048576: 132 MiB\n"
		"                      each; at most 134217728); 0: no flow table, Maglev per packet\n"
		"                      (and no DNAT return path)\n"
		"  --reply-table-size  DNAT connections whose replies each worker lcore can map back\n"
		"                      (default: a quarter of --flow-table-size; 128 bytes each)\n"
		"  --lcores-per-port   worker lcores (and queue pairs) per port, over the profile's\n"
		"                      rxQueues; default: rxQueues, else the worker lcores\n"
		"                      divided among the ports\n"
		"  --stats-interval    print a statistics line every SECONDS (0: never)\n"
		"  --stats-file        write statistics as JSON to FILE at each interval and at exit\n"
		"  --exit-idle-ms      exit once no packet has arrived for MS milliseconds\n"
		"                      (after the first one; for file-driven runs)\n"
		"  --bird-config       announce the frontend addresses through BIRD: write FILE\n"
		"                      (two static protocols, sluice_frontends4/6, for bird.conf\n"
		"                      to include) and have BIRD reconfigure when it changes\n"
		"  --bird-socket       BIRD's control socket (default " SL_BIRD_DEFAULT_SOCKET ")\n"
		"  --withdraw-grace-ms at SIGINT/SIGTERM with --bird-config: withdraw everything,\n"
		"                      keep forwarding MS milliseconds, then stop (default 2000;\n"
		"                      0: stop at once; a second signal stops at once)\n"
		"  --sync-peers        flow sync: send the flows this host starts to these sluice\n"
		"                      hosts (IPv4 or IPv6, comma-separated) and install theirs,\n"
		"                      so flows that ECMP moves here keep their backend\n"
		"  --sync-port         flow sync's UDP port, here and on the peers (default 7470)\n"
		"  --xdp-program       the XDP steering program of AF_XDP ports (default:\n"
		"                      sl_xdp_steer.o next to sluiced, else " SL_XDP_INSTALLED_OBJECT ")\n"
		"  --log-level         the level of sluice's log (default info): emerg, alert,\n"
		"                      crit, err, warning, notice, info or debug; MODULE:LEVEL\n"
		"                      sets one module's (main, port, worker, slowpath, sync,\n"
		"                      xdp, capture, api, audit, control, libbpf);\n"
		"                      repeatable\n"
		"  --metrics-listen    serve GET /metrics (Prometheus text) over HTTP on TCP at\n"
		"                      A.B.C.D:PORT or [IPv6]:PORT, nothing else (default: off)\n"
		"  --fleet-etcd        URL[,URL...]: share the configuration with a fleet of\n"
		"                      sluice hosts through etcd (its client URLs, tried in turn;\n"
		"                      docs/fleet.md); needs --fleet-prefix\n"
		"  --fleet-prefix      the fleet's etcd prefix, e.g. /sluice/prod\n"
		"  --fleet-name        this host's name in the fleet (default: the host name)\n",
		prog);
}

/* A number from min to max for an --api-* option, or -1 with a message. */
static int
api_number(const char *name, const char *arg, unsigned long long min, unsigned long long max,
	   unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 || *v < min || *v > max) {
		fprintf(stderr, "%s: expected %llu..%llu, got '%s'\n", name, min, max, arg);
		return -1;
	}
	return 0;
}

/* --api-group and the limits of the API socket (sl_api.h). */
static int
parse_api_option(int c, const char *arg, struct sl_options *o)
{
	struct sl_api_limits *l = &o->api_limits;
	unsigned long long v;
	struct sl_error gerr;
	char gline[1400];

	switch (c) {
	case 'G':
		o->api_gid = sl_api_group_parse(arg, &gerr);
		if (o->api_gid < 0) {
			fprintf(stderr, "%s\n", sl_error_format(&gerr, gline, sizeof(gline)));
			return -1;
		}
		return 0;
	case 'C':
		if (api_number("--api-max-connections", arg, 1, 65536, &v) != 0)
			return -1;
		l->max_connections = (unsigned int)v;
		return 0;
	case 'r':
		if (api_number("--api-rate-limit", arg, 0, 1000000, &v) != 0)
			return -1;
		l->rate = (unsigned int)v;
		return 0;
	case 'T':
		if (api_number("--api-request-timeout", arg, 1, 3600, &v) != 0)
			return -1;
		l->request_timeout_s = (unsigned int)v;
		return 0;
	case 'H':
		if (api_number("--api-max-header-bytes", arg, 1024, 16u << 20, &v) != 0)
			return -1;
		l->max_header_bytes = (size_t)v;
		return 0;
	default:
		if (api_number("--api-max-body-bytes", arg, 1024, 1ull << 32, &v) != 0)
			return -1;
		l->max_body_bytes = (size_t)v;
		return 0;
	}
}

static int
parse_options(int argc, char **argv, struct sl_options *o)
{
	static const struct option longopts[] = {
		{"ports", required_argument, NULL, 'p'},
		{"config", required_argument, NULL, 'c'},
		{"lcores-per-port", required_argument, NULL, 'l'},
		{"stats-interval", required_argument, NULL, 's'},
		{"stats-file", required_argument, NULL, 'f'},
		{"exit-idle-ms", required_argument, NULL, 'x'},
		{"state-dir", required_argument, NULL, 'd'},
		{"api-socket", required_argument, NULL, 'a'},
		{"no-api", no_argument, NULL, 'n'},
		{"api-group", required_argument, NULL, 'G'},
		{"api-max-connections", required_argument, NULL, 'C'},
		{"api-rate-limit", required_argument, NULL, 'r'},
		{"api-request-timeout", required_argument, NULL, 'T'},
		{"api-max-header-bytes", required_argument, NULL, 'H'},
		{"api-max-body-bytes", required_argument, NULL, 'b'},
		{"flow-table-size", required_argument, NULL, 't'},
		{"reply-table-size", required_argument, NULL, 'R'},
		{"probe-source-v4", required_argument, NULL, '4'},
		{"probe-source-v6", required_argument, NULL, '6'},
		{"probe-interface", required_argument, NULL, 'i'},
		{"bird-config", required_argument, NULL, 'B'},
		{"bird-socket", required_argument, NULL, 'S'},
		{"withdraw-grace-ms", required_argument, NULL, 'g'},
		{"sync-peers", required_argument, NULL, 'P'},
		{"sync-port", required_argument, NULL, 'y'},
		{"xdp-program", required_argument, NULL, 'X'},
		{"log-level", required_argument, NULL, 'v'},
		{"metrics-listen", required_argument, NULL, 'M'},
		{"fleet-etcd", required_argument, NULL, 'E'},
		{"fleet-prefix", required_argument, NULL, 'F'},
		{"fleet-name", required_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	char *end;

	memset(o, 0, sizeof(*o));
	o->flow_table_size = SL_FLOW_DEFAULT_SIZE;
	o->withdraw_grace_ms = -1;
	o->sync_port = SL_SYNC_DEFAULT_PORT;
	o->api_gid = -1;
	sl_api_limits_default(&o->api_limits);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->ports_file = optarg;
			break;
		case 'c':
			o->config_file = optarg;
			break;
		case 'f':
			o->stats_file = optarg;
			break;
		case 'd':
			o->state_dir = optarg;
			break;
		case 'a':
			o->api_socket = optarg;
			break;
		case 'n':
			o->no_api = 1;
			break;
		case 'G':
		case 'C':
		case 'r':
		case 'T':
		case 'H':
		case 'b':
			if (parse_api_option(c, optarg, o) != 0)
				return -1;
			break;
		case '4':
			o->probe.source_v4 = optarg;
			break;
		case '6':
			o->probe.source_v6 = optarg;
			break;
		case 'i':
			o->probe.interface = optarg;
			break;
		case 'B':
			o->bird_config = optarg;
			break;
		case 'S':
			o->bird_socket = optarg;
			break;
		case 'g':
			o->withdraw_grace_ms = strtol(optarg, &end, 10);
			if (*end != '\0' || optarg[0] == '\0' || o->withdraw_grace_ms < 0 ||
			    o->withdraw_grace_ms > 3600000) {
				fprintf(stderr, "--withdraw-grace-ms: expected 0..3600000 milliseconds, "
					"got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'P':
			o->sync_peers = optarg;
			break;
		case 'X':
			o->xdp_program = optarg;
			break;
		case 'E':
			o->fleet_etcd = optarg;
			break;
		case 'F':
			o->fleet_prefix = optarg;
			break;
		case 'N':
			o->fleet_name = optarg;
			break;
		case 'v': {
			char why[256];
			if (sl_logging_set_level(optarg, why, sizeof(why)) != 0) {
				fprintf(stderr, "--log-level: %s\n", why);
				return -1;
			}
			break;
		}
		case 'M': {
			struct sockaddr_storage ss;
			struct sl_error merr;
			socklen_t len;
			if (sl_metrics_listen_parse(optarg, &ss, &len, &merr) != 0) {
				char mline[1400];
				fprintf(stderr, "%s\n", sl_error_format(&merr, mline, sizeof(mline)));
				return -1;
			}
			o->metrics_listen = optarg;
			break;
		}
		case 'y': {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end != '\0' || optarg[0] == '\0' || v == 0 || v > 65535) {
				fprintf(stderr, "--sync-port: expected 1..65535, got '%s'\n", optarg);
				return -1;
			}
			o->sync_port = (uint16_t)v;
			break;
		}
		case 't': {
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end != '\0' || v > (1ull << 27)) {
				fprintf(stderr, "--flow-table-size: expected 0..134217728 flows, got '%s'\n",
					optarg);
				return -1;
			}
			o->flow_table_size = (uint32_t)v;
			break;
		}
		case 'R': {
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end != '\0' || v == 0 || v > (1ull << 26)) {
				fprintf(stderr, "--reply-table-size: expected 1..67108864, got '%s'\n",
					optarg);
				return -1;
			}
			o->reply_table_size = (uint32_t)v;
			break;
		}
		case 'l':
			o->lcores_per_port = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->lcores_per_port == 0 || o->lcores_per_port > 128) {
				fprintf(stderr, "--lcores-per-port: expected 1..128, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 's':
			o->stats_interval = strtod(optarg, &end);
			if (*end != '\0' || o->stats_interval < 0) {
				fprintf(stderr, "--stats-interval: expected seconds, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'x':
			o->exit_idle_ms = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0') {
				fprintf(stderr, "--exit-idle-ms: expected milliseconds, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'h':
		default:
			usage(stderr, argv[0]);
			return -1;
		}
	}
	if (o->api_socket == NULL)
		o->api_socket = SL_API_DEFAULT_SOCKET;
	if (o->bird_config == NULL && (o->bird_socket != NULL || o->withdraw_grace_ms >= 0))
		MAIN_LOG(WARNING, "--bird-socket and --withdraw-grace-ms do nothing without "
			 "--bird-config\n");
	if (o->bird_config == NULL)
		o->withdraw_grace_ms = 0;
	else if (o->withdraw_grace_ms < 0)
		o->withdraw_grace_ms = 2000;
	if (o->sync_peers != NULL && o->flow_table_size == 0) {
		fprintf(stderr, "--sync-peers: flow sync needs the flow table "
			"(--flow-table-size is 0)\n");
		return -1;
	}
	if ((o->fleet_etcd == NULL) != (o->fleet_prefix == NULL)) {
		fprintf(stderr, "--fleet-etcd and --fleet-prefix go together: give both or "
			"neither\n");
		return -1;
	}
	if (o->fleet_name != NULL && o->fleet_etcd == NULL)
		MAIN_LOG(WARNING, "--fleet-name does nothing without --fleet-etcd\n");
	if (o->ports_file == NULL) {
		usage(stderr, argv[0]);
		return -1;
	}
	return 0;
}

/* CLOCK_MONOTONIC seconds (also the health probes' clock). */
static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct sl_daemon {
	struct sl_options opt;
	struct sl_pmd_config pmd;
	uint16_t port_ids[SL_MAX_PORTS];
	struct sl_port_info port_info[SL_MAX_PORTS];
	struct sl_publisher pub;
	struct sl_id_registry *rule_ids;
	struct sl_id_registry *backend_ids;
	struct sl_table_cache *tables;
	uint64_t generation;
	struct sl_worker *workers;
	struct sl_lcore_stats **stats;
	unsigned int *lcore_ids;
	unsigned int n_workers;
	atomic_bool quit;
	double start;
	struct sl_controller ctl;
	struct sl_api *api;
	struct sl_metrics_http *metrics; /* --metrics-listen (NULL: off) */
	struct sl_prober *prober;
	uint64_t publish_tsc; /* when the current snapshot was published */
	struct sl_dp_port dp_ports[SL_MAX_PORTS];
	struct sl_reply_part *replies[RTE_MAX_LCORE];
	struct sl_control_slowpath *slow; /* the control thread's slow path (ARP, ND, ping, TAP) */
	struct sl_announce *ann;          /* service state, announcements, the BIRD client */
	const struct sl_model *prepared;  /* the model of the snapshot being prepared, for publish */
	struct sl_sync *sync;             /* flow sync with the other hosts (NULL: off) */
	struct sl_xdp *xdp[SL_MAX_PORTS]; /* each AF_XDP port's steering program (else NULL) */
	struct sl_service *svc;           /* systemd's notify socket and watchdog (sl_service.h) */
	struct sl_fleet *fleet;           /* --fleet-etcd: the shared configuration (else NULL) */
};

static int
backend_down(void *ctx, const char *lb, const char *pool, const char *address)
{
	struct sl_daemon *d = ctx;

	return d->prober != NULL && sl_prober_health(d->prober, lb, pool, address) == SL_HEALTH_DOWN;
}

static void announce_update(struct sl_daemon *d, const struct sl_model *m);

/* The ports as compilation sees them: their profiles, and the neighbour table when they resolve. */
static void
fill_port_info(struct sl_daemon *d)
{
	uint64_t epoch = sl_control_slowpath_neigh_epoch(d->slow);

	for (uint32_t i = 0; i < d->pmd.n_ports; i++) {
		d->port_info[i] = d->pmd.ports[i].info;
		d->port_info[i].index = i;
		if (d->slow != NULL && d->pmd.ports[i].neighbour_discovery) {
			d->port_info[i].resolve = sl_control_slowpath_resolve;
			d->port_info[i].resolve_ctx = d->slow;
			d->port_info[i].resolve_epoch = epoch;
		}
	}
}

/*
 * Controller hooks: compile a validated model for the ports, and publish it.
 * With a delta, only what it changed is compiled again, from the published
 * snapshot (sl_compile_delta() compiles whole when that is not safe).
 */
static void *
prepare_snapshot(void *ctx, const struct sl_model *m, const struct sl_model_delta *delta,
		 struct sl_error *err)
{
	struct sl_daemon *d = ctx;
	struct sl_health_hook health = {.down = backend_down, .ctx = d};

	/*
	 * Probe what this model names before compiling it, so its health is
	 * what the prober now holds (a target whose probe changed starts Up).
	 * If this model is not committed after all, the previous one is
	 * prepared again and the probes follow it back.
	 */
	if (d->prober != NULL && sl_prober_sync(d->prober, m) < 0)
		MAIN_LOG(ERR, "health probes: cannot follow the new configuration: %s\n",
			 strerror(errno));
	health.epoch = sl_prober_health_epoch(d->prober);
	fill_port_info(d);
	/* what incremental compilations leave in the neighbour table is swept by a whole one */
	if (sl_control_slowpath_sweep_due(d->slow))
		delta = NULL;
	sl_control_slowpath_compile_begin(d->slow);
	d->prepared = m;
	if (delta != NULL)
		return sl_compile_delta(m, sl_publisher_current(&d->pub), delta, d->port_info,
					d->pmd.n_ports, d->rule_ids, d->backend_ids, d->tables,
					&health, d->generation + 1, err);
	return sl_compile_cached(m, d->port_info, d->pmd.n_ports, d->rule_ids, d->backend_ids,
				 d->tables, &health, d->generation + 1, err);
}

static void
publish_snapshot(void *ctx, void *prepared)
{
	struct sl_daemon *d = ctx;
	struct sl_snapshot *s = prepared;
	struct sl_frontend_deleted deleted;
	uint64_t us;

	d->generation = s->generation;
	d->publish_tsc = rte_rdtsc();
	/* AF_XDP ports: what s adds is steered to sluice before a worker uses s */
	for (uint32_t p = 0; p < d->pmd.n_ports; p++)
		if (d->xdp[p] != NULL)
			sl_xdp_sync_begin(d->xdp[p], s);
	/* each frontend's counters count on from the current snapshot's */
	if (sl_stats_frontends_carry(d->stats, d->n_workers, sl_publisher_current(&d->pub), s,
				     &deleted) < 0)
		MAIN_LOG(ERR, "frontend counters: out of memory: some may start again from 0\n");
	us = sl_publish(&d->pub, s);
	/* what deleted rules counted until the workers left the old snapshot */
	sl_stats_frontends_settle(d->stats, d->n_workers, s, &deleted);
	/*
	 * Drop the neighbours this compilation did not ask for; an incremental
	 * one asked only for those of what it changed, so it leaves them all
	 * (the next whole compilation sweeps).
	 */
	if (!s->incremental)
		sl_control_slowpath_compile_published(d->slow);
	for (uint32_t p = 0; p < d->pmd.n_ports; p++)
		if (d->xdp[p] != NULL)
			sl_xdp_sync(d->xdp[p], s);
	sl_service_notify(d->svc, "STATUS=configuration generation %lu published",
			  (unsigned long)s->generation);
	MAIN_LOG(INFO, "configuration generation %lu published: %u rules, %u pools, %u backends "
		 "(grace period %lu us)\n", (unsigned long)s->generation, s->n_rules, s->n_pools,
		 s->n_backends, (unsigned long)us);
	/* the frontends to announce follow (m is the model being committed) */
	announce_update(d, d->prepared);
}

/* A prepared snapshot the fleet's store refused: freed, the probes follow the model back. */
static void
discard_snapshot(void *ctx, void *prepared)
{
	struct sl_daemon *d = ctx;

	sl_snapshot_free(prepared);
	d->prepared = d->ctl.model;
	if (d->prober != NULL && d->ctl.model != NULL && sl_prober_sync(d->prober, d->ctl.model) < 0)
		MAIN_LOG(ERR, "health probes: cannot follow the configuration back: %s\n",
			 strerror(errno));
}

static cJSON *
probe_status(void *ctx)
{
	struct sl_daemon *d = ctx;
	return d->prober != NULL ? sl_prober_status(d->prober) : cJSON_CreateArray();
}

static int
health_of(void *ctx, const char *lb, const char *pool, const char *address)
{
	return !backend_down(ctx, lb, pool, address);
}

/* What write(f, d) prints, as a malloc'd string (for the REST API); NULL on failure. */
static char *
print_to_string(void (*write)(FILE *f, struct sl_daemon *d), struct sl_daemon *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	write(f, d);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void
write_neighbours(FILE *f, struct sl_daemon *d)
{
	sl_control_slowpath_write_json(f, d->slow, (uint64_t)(now_s() * 1000.0));
}

/* What the control thread adds to the workers' counters; xdp has room for every port. */
static struct sl_stats_extra
stats_extra(struct sl_daemon *d, struct sl_xdp_port_stats *xdp)
{
	struct sl_stats_extra e = {.sync = sl_sync_counters(d->sync), .xdp = xdp};

	for (uint32_t p = 0; p < d->pmd.n_ports; p++)
		if (d->xdp[p] != NULL)
			sl_xdp_read(d->xdp[p], &xdp[e.n_xdp++]);
	return e;
}

/* The control thread is the only writer of the snapshot pointer: it reads it plainly. */
static void
write_stats_json(FILE *f, struct sl_daemon *d)
{
	struct sl_xdp_port_stats xdp[SL_MAX_PORTS];
	const struct sl_stats_extra e = stats_extra(d, xdp);

	sl_stats_write_json(f, d->stats, d->n_workers, d->lcore_ids,
			    sl_publisher_current(&d->pub), now_s() - d->start, d->publish_tsc, &e);
}

static void
write_stats_prometheus(FILE *f, struct sl_daemon *d)
{
	struct sl_xdp_port_stats xdp[SL_MAX_PORTS];
	const struct sl_stats_extra e = stats_extra(d, xdp);

	sl_stats_write_prometheus(f, d->stats, d->n_workers, d->lcore_ids,
				  sl_publisher_current(&d->pub), &e);
	sl_announce_write_prometheus(f, d->ann);
	if (d->fleet != NULL)
		sl_fleet_write_prometheus(f, d->fleet);
}

static char *
neighbours_json(void *ctx)
{
	struct sl_daemon *d = ctx;
	return d->slow != NULL ? print_to_string(write_neighbours, d) : NULL;
}

static char *
stats_json(void *ctx)
{
	return print_to_string(write_stats_json, ctx);
}

static char *
stats_prometheus(void *ctx)
{
	return print_to_string(write_stats_prometheus, ctx);
}

/* Packets forwarded by every rule: how much frontend traffic still arrives. */
static uint64_t
frontend_packets(struct sl_daemon *d)
{
	return sl_stats_rule_packets(d->stats, d->n_workers, sl_publisher_current(&d->pub));
}

/*
 * Recompute the announced set from model m and the published snapshot
 * (after a publication or a service change); log a new set.
 */
static void
announce_update(struct sl_daemon *d, const struct sl_model *m)
{
	struct sl_error err;
	char line[1400], list[1024], a[64];
	const struct sl_announce_frontend *f;
	uint32_t n, k = 0;
	size_t used = 0;

	int rc = sl_announce_update(d->ann, m, sl_publisher_current(&d->pub), &err);
	if (rc < 0) {
		MAIN_LOG(ERR, "announcements: %s\n", sl_error_format(&err, line, sizeof(line)));
		return;
	}
	if (rc == 0)
		return;
	f = sl_announce_frontends(d->ann, &n);
	list[0] = '\0';
	for (uint32_t i = 0; i < n; i++) {
		if (!f[i].announced)
			continue;
		k++;
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, " %s",
						 sl_ip_addr_format(&f[i].addr, a, sizeof(a)));
	}
	MAIN_LOG(INFO, "announcements: %u of %u frontend addresses announced (%s)%s%s\n", k, n,
		 sl_service_state_name(sl_announce_state(d->ann)), k ? ":" : "", list);
}

static cJSON *tables_json(void *ctx);

/*
 * This host's own fields of its fleet key: generation, announced frontends,
 * probe health, the Maglev tables' digests.
 */
static cJSON *
fleet_host_fields(void *ctx)
{
	struct sl_daemon *d = ctx;
	const struct sl_announce_frontend *f;
	cJSON *o = cJSON_CreateObject(), *ann, *health, *probes, *t;
	uint32_t n = 0;
	char a[64], key[1024];

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "generation", (double)d->generation);
	cJSON_AddNumberToObject(o, "commits", (double)d->ctl.commits);
	ann = cJSON_AddArrayToObject(o, "announced");
	f = d->ann != NULL ? sl_announce_frontends(d->ann, &n) : NULL;
	for (uint32_t i = 0; f != NULL && i < n; i++)
		if (f[i].announced)
			cJSON_AddItemToArray(ann, cJSON_CreateString(
				sl_ip_addr_format(&f[i].addr, a, sizeof(a))));
	health = cJSON_AddObjectToObject(o, "health");
	probes = d->prober != NULL ? sl_prober_status(d->prober) : NULL;
	cJSON_ArrayForEach(t, probes) {
		const cJSON *lb = cJSON_GetObjectItem(t, "loadBalancer");
		const cJSON *pool = cJSON_GetObjectItem(t, "pool");
		const cJSON *ip = cJSON_GetObjectItem(t, "ipAddress");
		const cJSON *h = cJSON_GetObjectItem(t, "health");
		if (!cJSON_IsString(lb) || !cJSON_IsString(pool) || !cJSON_IsString(ip) ||
		    !cJSON_IsString(h))
			continue;
		snprintf(key, sizeof(key), "%s/%s/%s", lb->valuestring, pool->valuestring,
			 ip->valuestring);
		const cJSON *had = cJSON_GetObjectItem(health, key);
		/* several probes of one backend: Down when any says so */
		if (had != NULL && strcmp(h->valuestring, "Down") != 0)
			continue;
		cJSON_DeleteItemFromObject(health, key);
		cJSON_AddStringToObject(health, key, h->valuestring);
	}
	cJSON_Delete(probes);
	cJSON *tables = tables_json(d);
	if (tables != NULL)
		cJSON_AddItemToObject(o, "tables", tables);
	return o;
}

static cJSON *
fleet_status(void *ctx)
{
	struct sl_daemon *d = ctx;
	return d->fleet != NULL ? sl_fleet_status(d->fleet) : NULL;
}

static int
fleet_hosts(void *ctx, cJSON **out, struct sl_error *err)
{
	struct sl_daemon *d = ctx;
	return d->fleet != NULL ? sl_fleet_hosts(d->fleet, out, err) : -ENOENT;
}

static cJSON *
service_json(void *ctx)
{
	struct sl_daemon *d = ctx;
	return sl_announce_json(d->ann, frontend_packets(d));
}

/* Each rule's Maglev table digest in the published snapshot (GET /sluice/status "tables"). */
static cJSON *
tables_json(void *ctx)
{
	struct sl_daemon *d = ctx;
	const struct sl_snapshot *s = sl_publisher_current(&d->pub);
	cJSON *o = cJSON_CreateObject(), *t;
	char hex[9];
	uint32_t i;

	if (o == NULL || s == NULL)
		return o;
	for (i = 0; i < s->n_rules; i++) {
		const struct sl_rule *r = &s->rules[i];
		uint32_t dg = sl_snapshot_rule_digest(s, i);
		uint32_t n = r->pool < s->n_pools ? s->pools[r->pool].n_members : 0;

		/* An inbound NAT rule compiles to one rule a family, of one name: one entry. */
		t = cJSON_GetObjectItemCaseSensitive(o, r->name);
		if (t != NULL) {
			dg = dg * 31u + (uint32_t)strtoul(cJSON_GetStringValue(
					  cJSON_GetObjectItemCaseSensitive(t, "digest")), NULL, 16);
			n += (uint32_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "backends"));
			cJSON_DeleteItemFromObjectCaseSensitive(o, r->name);
		}
		t = cJSON_AddObjectToObject(o, r->name);
		if (t == NULL)
			break;
		snprintf(hex, sizeof(hex), "%08x", dg);
		cJSON_AddNumberToObject(t, "backends", n);
		cJSON_AddStringToObject(t, "digest", hex);
	}
	return o;
}

static int
set_service(void *ctx, const cJSON *body, struct sl_error *err)
{
	struct sl_daemon *d = ctx;
	enum sl_service_state before = sl_announce_state(d->ann);
	int rc = sl_announce_set_json(d->ann, body, frontend_packets(d), err);

	/* by the error's code: a failed write may carry any errno */
	if (rc < 0)
		return strcmp(err->code, "InvalidServiceState") == 0 ? 400
		       : strcmp(err->code, "ServiceStopping") == 0   ? 409
								     : 500;
	if (sl_announce_state(d->ann) != before)
		MAIN_LOG(INFO, "service state: %s (was %s), from the REST API\n",
			 sl_service_state_name(sl_announce_state(d->ann)),
			 sl_service_state_name(before));
	announce_update(d, d->ctl.model);
	return 0;
}

/* A backend's probe health for telemetry, from its name "<lb>/<pool>/<address>". */
static int
telemetry_probed_down(void *ctx, const struct sl_backend *b)
{
	char name[SL_NAME_MAX], *pool, *addr;

	snprintf(name, sizeof(name), "%s", b->name);
	pool = strchr(name, '/');
	addr = pool != NULL ? strchr(pool + 1, '/') : NULL;
	if (addr == NULL)
		return 0;
	*pool++ = '\0';
	*addr++ = '\0';
	return backend_down(ctx, name, pool, addr);
}

/* A telemetry command waits (sl_telemetry.h): answer it from the control thread's view. */
static void
telemetry_answer(struct sl_daemon *d)
{
	struct sl_xdp_port_stats xdp[SL_MAX_PORTS];
	const struct sl_stats_extra e = stats_extra(d, xdp);
	const struct sl_telemetry_view v = {.stats = d->stats,
					    .lcore_ids = d->lcore_ids,
					    .n_workers = d->n_workers,
					    .flow_capacity = d->opt.flow_table_size,
					    .snap = sl_publisher_current(&d->pub),
					    .publish_tsc = d->publish_tsc,
					    .extra = &e,
					    .elapsed_s = now_s() - d->start,
					    .probed_down = telemetry_probed_down,
					    .ctx = d};

	sl_telemetry_answer(&v);
}

/* dpdk-telemetry.py's commands: sluiced runs without them. */
static void
telemetry_start(void)
{
	struct sl_error err;
	char line[1400];

	if (sl_telemetry_register(&err) != 0)
		MAIN_LOG(WARNING, "%s\n", sl_error_format(&err, line, sizeof(line)));
}

/* dpdk-dumpcap's handler, once the ports are up: sluiced runs without it. */
static void
capture_start(void)
{
	struct sl_error err;
	char line[1400];

	if (sl_capture_init(&err) != 0)
		MAIN_LOG(NOTICE, "%s\n", sl_error_format(&err, line, sizeof(line)));
	else
		MAIN_LOG(INFO, "live capture: dpdk-dumpcap can attach (runtime directory %s)\n",
			 rte_eal_get_runtime_dir());
}

/* Apply the configuration file again, for who ("SIGHUP from ...", "file changed"). */
static void
reload_config(struct sl_daemon *d, const char *who)
{
	struct sl_error err;
	char line[1400], result[1500];

	if (d->opt.config_file == NULL) {
		sl_audit_log(SL_LOG_NOTICE, who, "no --config", "nothing to reload");
		return;
	}
	if (sl_controller_apply_file(&d->ctl, &err) != 0) {
		snprintf(result, sizeof(result), "refused, the running configuration stays: %s",
			 sl_error_format(&err, line, sizeof(line)));
		sl_audit_log(SL_LOG_WARNING, who, d->opt.config_file, result);
		return;
	}
	if (d->ctl.unchanged)
		snprintf(result, sizeof(result), "unchanged");
	else
		snprintf(result, sizeof(result), "generation %lu published",
			 (unsigned long)d->generation);
	sl_audit_log(SL_LOG_NOTICE, who, d->opt.config_file, result);
}

static uint64_t
config_generation(void *ctx)
{
	return ((struct sl_daemon *)ctx)->generation;
}

static void
write_stats_file(struct sl_daemon *d)
{
	char tmp[4096];
	FILE *f;

	if (d->opt.stats_file == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->opt.stats_file);
	f = fopen(tmp, "w");
	if (f == NULL) {
		MAIN_LOG(WARNING, "cannot write %s: %s\n", tmp, strerror(errno));
		return;
	}
	write_stats_json(f, d);
	if (fclose(f) != 0 || rename(tmp, d->opt.stats_file) != 0)
		MAIN_LOG(WARNING, "cannot write %s: %s\n", d->opt.stats_file, strerror(errno));
}

/* Give each worker its (port, queue) pairs; returns queues per port. */
static int
assign_queues(struct sl_daemon *d, uint16_t *queues_per_port, uint16_t *tx_per_port)
{
	unsigned int per_port = d->opt.lcores_per_port;

	/* By default every worker serves every port, so each can send on any of them. */
	if (per_port == 0)
		per_port = d->n_workers;
	unsigned int k = 0;
	for (uint32_t p = 0; p < d->pmd.n_ports; p++) {
		/* --lcores-per-port, when given, wins over the profile's rxQueues */
		uint16_t nq = d->opt.lcores_per_port ? (uint16_t)d->opt.lcores_per_port
			      : d->pmd.ports[p].rx_queues ? d->pmd.ports[p].rx_queues : per_port;
		uint16_t maxq = sl_port_max_queues(d->port_ids[p]);
		if (nq > maxq) {
			MAIN_LOG(WARNING, "%s: %u queue pairs asked, the device offers %u\n",
				 d->pmd.ports[p].name, nq, maxq);
			nq = maxq;
		}
		queues_per_port[p] = nq;
		for (uint16_t q = 0; q < nq; q++, k++) {
			struct sl_worker *w = &d->workers[k % d->n_workers];
			if (w->n_queues == SL_MAX_QUEUES_PER_WORKER) {
				MAIN_LOG(ERR, "more than %d queues for lcore %u\n",
					 SL_MAX_QUEUES_PER_WORKER, w->lcore_id);
				return -1;
			}
			struct sl_worker_queue *wq = &w->queues[w->n_queues++];
			wq->port_id = d->port_ids[p];
			wq->queue = q;
			wq->port_index = (uint16_t)p;
			/* without a TX queue per worker, it sends on its first RX queue's index */
			if (w->txq[p] == NULL) {
				w->txqs[p] = *wq;
				w->txq[p] = &w->txqs[p];
			}
		}
		/*
		 * TX queues: one per worker when the device has that many (so a
		 * worker can send on a port it does not read, two-armed), else as
		 * many as RX queues, each used by the worker reading that queue.
		 */
		uint16_t ntx = nq;
		if (sl_port_max_tx_queues(d->port_ids[p]) >= d->n_workers && d->n_workers > nq)
			ntx = (uint16_t)d->n_workers;
		tx_per_port[p] = ntx;
		if (ntx >= d->n_workers) {
			for (unsigned int w = 0; w < d->n_workers; w++) {
				struct sl_worker_queue *tq = &d->workers[w].txqs[p];
				tq->port_id = d->port_ids[p];
				tq->queue = (uint16_t)w;
				tq->port_index = (uint16_t)p;
				d->workers[w].txq[p] = tq;
			}
		}
	}
	return 0;
}

/*
 * Whatever ended the control loop (no grace period, a second signal,
 * --exit-idle-ms), the host's routes go before it does: the include is
 * written empty and BIRD is told. sluiced waits for BIRD's answer, or for one
 * attempt to fail, at most SL_ANNOUNCE_ANSWER_MS, still serving the exception
 * path (BIRD's update to the router leaves through it) while the workers
 * forward.
 */
static void
withdraw_before_exit(struct sl_daemon *d)
{
	struct sl_error serr;

	if (d->opt.bird_config == NULL)
		return;
	if (sl_announce_state(d->ann) != SL_SERVICE_STOPPING) {
		sl_announce_set_state(d->ann, SL_SERVICE_STOPPING, frontend_packets(d), &serr);
		announce_update(d, d->ctl.model);
	}
	double end = now_s() + SL_ANNOUNCE_ANSWER_MS / 1000.0;
	for (;;) {
		double now = now_s();
		double due = sl_announce_next_due(d->ann);
		short events;
		int fd = sl_announce_fd(d->ann, &events);

		if (due < 0 || now >= end || (fd < 0 && due > now))
			break; /* told; out of time; or an attempt failed and waits to retry */
		if (fd >= 0) {
			struct pollfd pfd = {.fd = fd, .events = events};
			poll(&pfd, 1, 1);
		}
		sl_control_slowpath_poll(d->slow, sl_publisher_current(&d->pub),
					 (uint64_t)(now_s() * 1000.0));
		if (sl_announce_run(d->ann, now_s()) > 0)
			MAIN_LOG(NOTICE, "BIRD at exit: %s: %s\n",
				 sl_bird_state_name(sl_announce_bird_state(d->ann)),
				 sl_announce_bird_message(d->ann));
	}
}

/* READY=1 to the service manager, and its watchdog on the workers' loop counters. */
static void
service_ready(struct sl_daemon *d)
{
	const uint64_t *progress[RTE_MAX_LCORE];
	char status[128];

	for (unsigned int w = 0; w < d->n_workers; w++)
		progress[w] = &d->stats[w]->iterations;
	snprintf(status, sizeof(status), "running: %u worker lcore(s), %u port(s), generation %lu",
		 d->n_workers, d->pmd.n_ports, (unsigned long)d->generation);
	int rc = sl_service_ready(d->svc, progress, d->lcore_ids, d->n_workers, now_s(), status);
	if (rc != 0)
		MAIN_LOG(ERR, "cannot tell the service manager that sluiced is ready: %s\n",
			 strerror(-rc));
	else if (sl_service_notifying(d->svc))
		MAIN_LOG(INFO, "service manager told: ready%s\n",
			 sl_service_watchdog_usec(d->svc) ? "; watchdog on the worker lcores" : "");
}

/* --help and --version, anywhere on the line, answer before EAL starts (no hugepages needed). */
static int
early_answer(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout, argv[0]);
			return 1;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("sluiced %s\n", SL_VERSION);
			return 1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct sl_daemon d;
	struct sl_error err;
	char line[1400];
	uint16_t queues_per_port[SL_MAX_PORTS], tx_per_port[SL_MAX_PORTS];

	if (early_answer(argc, argv))
		return 0;
	/* before the EAL: its messages get the line format too */
	bool log_ok = sl_logging_init() == 0;
	int rc = rte_eal_init(argc, argv);

	if (rc < 0)
		rte_exit(EXIT_FAILURE, "EAL initialisation failed: %s\n", rte_strerror(rte_errno));
	argc -= rc;
	argv += rc;
	if (parse_options(argc, argv, &d.opt) != 0)
		rte_exit(EXIT_FAILURE, "bad arguments\n");
	if (!log_ok)
		MAIN_LOG(WARNING, "the log's line format could not be set up: DPDK's default stream "
			 "is used\n");
	d.svc = sl_service_open(&err);
	if (d.svc == NULL)
		rte_exit(EXIT_FAILURE, "service manager: %s\n", sl_error_format(&err, line, sizeof(line)));
	telemetry_start();

	if (sl_pmd_config_load(d.opt.ports_file, &d.pmd, &err) != 0)
		rte_exit(EXIT_FAILURE, "port profile refused: %s\n",
			 sl_error_format(&err, line, sizeof(line)));

	/* Check the configuration file before touching any device. */
	if (d.opt.config_file != NULL) {
		struct sl_model *probe_model = sl_config_load(d.opt.config_file, &err);
		if (probe_model == NULL)
			rte_exit(EXIT_FAILURE, "configuration refused: %s\n",
				 sl_error_format(&err, line, sizeof(line)));
		sl_model_free(probe_model);
	}
	{
		const struct sl_announce_opts ao = {.bird_config = d.opt.bird_config,
						    .bird_socket = d.opt.bird_socket,
						    .state_dir = d.opt.state_dir};
		d.ann = sl_announce_create(&ao, &err);
		if (d.ann == NULL)
			rte_exit(EXIT_FAILURE, "service state: %s\n",
				 sl_error_format(&err, line, sizeof(line)));
		if (sl_announce_state(d.ann) != SL_SERVICE_IN)
			MAIN_LOG(NOTICE, "service state restored: %s (sluicectl service in: back in "
				 "service)\n", sl_service_state_name(sl_announce_state(d.ann)));
	}
	/*
	 * Claim the API socket before anything else: a second sluiced pointed
	 * at a running one's socket stops here, before it touches devices or
	 * the state directory. Requests are only served from the main loop,
	 * once the controller holds the configuration.
	 */
	if (!d.opt.no_api) {
		const struct sl_api_hooks hooks = {.stats_json = stats_json,
						   .stats_prometheus = stats_prometheus,
						   .probe_status = probe_status,
						   .neighbours_json = neighbours_json,
						   .healthy = health_of,
						   .service = service_json,
						   .set_service = set_service,
						   .generation = config_generation,
						   .tables = tables_json,
						   .fleet_status = fleet_status,
						   .fleet_hosts = fleet_hosts,
						   .ctx = &d};
		d.api = sl_api_start(d.opt.api_socket, d.opt.api_gid, &d.opt.api_limits, &d.ctl,
				     &hooks, &err);
		if (d.api == NULL)
			rte_exit(EXIT_FAILURE, "REST API: %s\n",
				 sl_error_format(&err, line, sizeof(line)));
		MAIN_LOG(INFO, "REST API on unix:%s (mode %s)\n", d.opt.api_socket,
			 d.opt.api_gid >= 0 ? "0660, group --api-group" : "0600");
		api_at_exit = d.api;
		atexit(remove_api_socket);
	}
	if (d.opt.metrics_listen != NULL) {
		d.metrics = sl_metrics_http_start(d.opt.metrics_listen, stats_prometheus, &d, &err);
		if (d.metrics == NULL)
			rte_exit(EXIT_FAILURE, "--metrics-listen: %s\n",
				 sl_error_format(&err, line, sizeof(line)));
		MAIN_LOG(INFO, "Prometheus metrics on http://%s/metrics\n",
			 sl_metrics_http_address(d.metrics));
	}

	d.n_workers = rte_lcore_count() - 1;
	if (d.n_workers == 0)
		rte_exit(EXIT_FAILURE, "no worker lcore: give EAL at least two lcores (-l 0,1)\n");
	/* struct sl_worker is cache-line aligned and sized: no two workers share a line */
	d.workers = aligned_alloc(_Alignof(struct sl_worker), d.n_workers * sizeof(*d.workers));
	if (d.workers != NULL)
		memset(d.workers, 0, d.n_workers * sizeof(*d.workers));
	d.stats = calloc(d.n_workers, sizeof(*d.stats));
	d.lcore_ids = calloc(d.n_workers, sizeof(*d.lcore_ids));
	if (d.workers == NULL || d.stats == NULL || d.lcore_ids == NULL)
		rte_exit(EXIT_FAILURE, "out of memory\n");
	unsigned int lc, wi = 0;
	RTE_LCORE_FOREACH_WORKER(lc) {
		d.workers[wi].lcore_id = lc;
		d.workers[wi].rcu_id = wi;
		d.lcore_ids[wi] = lc;
		d.stats[wi] = sl_stats_alloc((int)rte_lcore_to_socket_id(lc));
		if (d.stats[wi] == NULL)
			rte_exit(EXIT_FAILURE, "cannot allocate counters\n");
		d.workers[wi].stats = d.stats[wi];
		d.workers[wi].pub = &d.pub;
		d.workers[wi].quit = &d.quit;
		d.workers[wi].flow_capacity = d.opt.flow_table_size;
		d.workers[wi].reply_capacity = d.opt.reply_table_size
						       ? d.opt.reply_table_size
						       : RTE_MAX(d.opt.flow_table_size / 4, 1024u);
		wi++;
	}

	/* AF_XDP ports: the interface checked and locked, sluice's program named to the PMD */
	for (uint32_t p = 0; p < d.pmd.n_ports; p++) {
		static char object[PATH_MAX];
		if (!d.pmd.ports[p].af_xdp)
			continue;
		if ((object[0] == '\0' &&
		     sl_xdp_find_object(d.opt.xdp_program, object, sizeof(object), &err) != 0) ||
		    sl_xdp_prepare(&d.pmd.ports[p], object, &err) != 0)
			rte_exit(EXIT_FAILURE, "AF_XDP port refused: %s\n",
				 sl_error_format(&err, line, sizeof(line)));
	}
	for (uint32_t p = 0; p < d.pmd.n_ports; p++)
		if (sl_port_probe(&d.pmd.ports[p], &d.port_ids[p], &err) != 0)
			rte_exit(EXIT_FAILURE, "%s\n", sl_error_format(&err, line, sizeof(line)));
	if (assign_queues(&d, queues_per_port, tx_per_port) != 0)
		rte_exit(EXIT_FAILURE, "cannot assign queues\n");

	unsigned int n_mbufs = 0;
	for (uint32_t p = 0; p < d.pmd.n_ports; p++)
		n_mbufs += queues_per_port[p] * (d.pmd.ports[p].rx_desc + SL_BURST * 2) +
			   tx_per_port[p] * d.pmd.ports[p].tx_desc + d.pmd.ports[p].extra_mbufs;
	/* each worker's slow path, and the packets it may hold (SL_HOLD_MAX) */
	n_mbufs = RTE_MAX(n_mbufs + d.n_workers * (512u + SL_HOLD_MAX), 8191u);
	/* the profile's mbufSize: each mbuf costs it, the headroom and the mbuf header */
	uint16_t room = (uint16_t)(d.pmd.mbuf_size + RTE_PKTMBUF_HEADROOM);
	struct rte_mempool *mp = rte_pktmbuf_pool_create("sl_mbufs", n_mbufs, 256, 0, room,
							 (int)rte_socket_id());
	if (mp == NULL)
		rte_exit(EXIT_FAILURE, "cannot create the mbuf pool (%u mbufs of %u bytes, %.0f MiB): "
			 "%s\n", n_mbufs, d.pmd.mbuf_size,
			 (double)n_mbufs * (room + sizeof(struct rte_mbuf)) / (1 << 20),
			 rte_strerror(rte_errno));
	MAIN_LOG(INFO, "mbuf pool: %u mbufs of %u bytes (%.0f MiB)\n", n_mbufs, d.pmd.mbuf_size,
		 (double)n_mbufs * (room + sizeof(struct rte_mbuf)) / (1 << 20));
	for (uint32_t p = 0; p < d.pmd.n_ports; p++) {
		if (sl_port_start(d.port_ids[p], &d.pmd.ports[p], queues_per_port[p], tx_per_port[p],
				  mp, &err) != 0)
			rte_exit(EXIT_FAILURE, "%s%s\n", sl_error_format(&err, line, sizeof(line)),
				 d.pmd.ports[p].af_xdp ? " (the AF_XDP PMD's log above says why)" : "");
		if (d.pmd.ports[p].af_xdp) {
			d.xdp[p] = sl_xdp_open(&d.pmd.ports[p], &err);
			if (d.xdp[p] == NULL)
				rte_exit(EXIT_FAILURE, "AF_XDP port: %s\n",
					 sl_error_format(&err, line, sizeof(line)));
		}
	}
	capture_start(); /* dumpcap's requests only once no port is being set up */
	for (unsigned int w = 0; w < d.n_workers; w++) {
		for (uint16_t q = 0; q < d.workers[w].n_queues; q++)
			d.workers[w].queues[q].mtu =
				d.pmd.ports[d.workers[w].queues[q].port_index].info.mtu;
		for (uint32_t p = 0; p < d.pmd.n_ports; p++)
			d.workers[w].txqs[p].mtu = d.pmd.ports[p].info.mtu;
	}
	for (uint32_t p = 0; p < d.pmd.n_ports; p++) {
		const struct sl_port_info *pi = &d.pmd.ports[p].info;
		struct sl_dp_port *dp = &d.dp_ports[p];
		dp->mac = pi->mac;
		dp->vlan_tci = pi->vlan_tci;
		dp->mtu = pi->mtu;
		dp->has_ipv4 = pi->has_ipv4;
		dp->has_ipv6 = pi->has_ipv6;
		dp->ipv4 = pi->ipv4;
		dp->ipv6 = pi->ipv6;
		dp->has_gateway[0] = pi->has_gateway_v4;
		dp->has_gateway[1] = pi->has_gateway_v6;
	}
	for (unsigned int w = 0; w < d.n_workers; w++) {
		d.workers[w].index = (uint16_t)w;
		d.workers[w].ports = d.dp_ports;
		d.workers[w].n_ports = (uint16_t)d.pmd.n_ports;
	}
	{
		char serr[256];
		d.slow = sl_control_slowpath_create(&d.pmd, d.port_ids, d.dp_ports, d.workers,
						    d.n_workers, mp, serr, sizeof(serr));
		if (d.slow == NULL)
			rte_exit(EXIT_FAILURE, "%s\n", serr);
	}

	d.rule_ids = sl_id_registry_create(SL_MAX_RULE_COUNTERS);
	d.backend_ids = sl_id_registry_create(SL_MAX_BACKEND_COUNTERS);
	d.tables = sl_table_cache_create();
	if (d.rule_ids == NULL || d.backend_ids == NULL || d.tables == NULL)
		rte_exit(EXIT_FAILURE, "out of memory\n");
	if (sl_publisher_init(&d.pub, d.n_workers) != 0)
		rte_exit(EXIT_FAILURE, "cannot set up RCU\n");
	sl_capture_attach_workers(d.pub.qsv); /* a capture's end waits for the workers */
	d.prober = sl_prober_create(&d.opt.probe);
	if (d.prober == NULL)
		rte_exit(EXIT_FAILURE, "health probes: %s\n", strerror(errno));
	const struct sl_apply_ops ops = {
		.prepare = prepare_snapshot,
		.publish = publish_snapshot,
		.discard = discard_snapshot,
		.ctx = &d,
	};
	if (sl_controller_init(&d.ctl, d.opt.state_dir, d.opt.config_file, &ops, &err) != 0)
		rte_exit(EXIT_FAILURE, "configuration refused: %s\n",
			 sl_error_format(&err, line, sizeof(line)));
	if (d.api != NULL)
		sl_api_restore_deployments(d.api);
	if (d.opt.fleet_etcd != NULL) {
		/* the restored configuration forwards at once; etcd's wins once it answers */
		const struct sl_fleet_opts fo = {.endpoints = d.opt.fleet_etcd,
						 .prefix = d.opt.fleet_prefix,
						 .name = d.opt.fleet_name,
						 .state_dir = d.opt.state_dir,
						 .host_fields = fleet_host_fields,
						 .ctx = &d};
		d.fleet = sl_fleet_create(&fo, &d.ctl, &err);
		if (d.fleet == NULL || sl_fleet_start(d.fleet, &err) != 0)
			rte_exit(EXIT_FAILURE, "fleet: %s\n", sl_error_format(&err, line, sizeof(line)));
	}

	for (unsigned int w = 0; w < d.n_workers; w++)
		d.workers[w].mp = mp;
	for (unsigned int w = 0; w < d.n_workers; w++)
		if (sl_worker_prepare(&d.workers[w]) != 0)
			rte_exit(EXIT_FAILURE, "cannot allocate the TX buffers or the flow table of "
				 "lcore %u (%u flows, %zu MiB): give EAL more memory or use a smaller "
				 "--flow-table-size\n", d.workers[w].lcore_id, d.opt.flow_table_size,
				 sl_flow_table_memsize(sl_flow_buckets_for(d.opt.flow_table_size, 80)) >> 20);
	if (d.opt.flow_table_size != 0) {
		for (unsigned int w = 0; w < d.n_workers; w++)
			d.replies[w] = &d.workers[w].reply;
		for (unsigned int w = 0; w < d.n_workers; w++) {
			d.workers[w].replies = d.replies;
			d.workers[w].n_replies = d.n_workers;
		}
	}
	if (d.opt.flow_table_size != 0)
		MAIN_LOG(INFO, "flow table: %u flows per worker lcore, %zu MiB each (64-byte entries)\n",
			 d.opt.flow_table_size,
			 sl_flow_table_memsize(sl_flow_buckets_for(d.opt.flow_table_size, 80)) >> 20);

	if (d.opt.sync_peers != NULL) {
		char serr[256];
		d.sync = sl_sync_create(d.opt.sync_peers, d.opt.sync_port, d.workers, d.n_workers,
					serr, sizeof(serr));
		if (d.sync == NULL)
			rte_exit(EXIT_FAILURE, "%s\n", serr);
		MAIN_LOG(INFO, "flow sync: UDP port %u, peers %s\n", d.opt.sync_port,
			 d.opt.sync_peers);
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	atomic_init(&d.quit, false);
	d.start = now_s();
	for (unsigned int w = 0; w < d.n_workers; w++) {
		MAIN_LOG(INFO, "lcore %u: %u queue(s)\n", d.workers[w].lcore_id,
			 d.workers[w].n_queues);
		rte_eal_remote_launch(sl_worker_main, &d.workers[w], d.workers[w].lcore_id);
	}

	double last_stats = d.start, last_rx_change = d.start, last_host_check = d.start;
	double stop_at = 0; /* end of the withdrawal grace period; 0: not stopping */
	if (d.opt.bird_config != NULL)
		MAIN_LOG(INFO, "announcements: %s, BIRD at %s\n", d.opt.bird_config,
			 d.opt.bird_socket ? d.opt.bird_socket : SL_BIRD_DEFAULT_SOCKET);
	announce_update(&d, d.ctl.model);
	uint64_t last_rx = 0, prev_rx = 0, prev_tx = 0, prev_busy = 0;
	MAIN_LOG(NOTICE, "running with %u worker lcore(s) on %u port(s)\n", d.n_workers,
		 d.pmd.n_ports);
	service_ready(&d);
	for (;;) {
		struct pollfd pfd[6];
		nfds_t n_pfd = 0;
		/* The control thread's slow path (ARP, ND, ping, exception path), every ms. */
		int timeout_ms = 1;
		short bird_events;
		int bird_fd;

		if (sig_quit != 0) {
			if (stop_at == 0 && sig_quit == 1 && d.opt.withdraw_grace_ms > 0) {
				struct sl_error serr;
				sl_announce_set_state(d.ann, SL_SERVICE_STOPPING, frontend_packets(&d),
						      &serr);
				announce_update(&d, d.ctl.model);
				stop_at = now_s() + (double)d.opt.withdraw_grace_ms / 1000.0;
				sl_service_stopping(d.svc); /* systemd: stopping begins now */
				MAIN_LOG(NOTICE, "stopping: every frontend withdrawn, forwarding for "
					 "another %ld ms while the routers converge\n",
					 d.opt.withdraw_grace_ms);
			} else if (stop_at == 0 || sig_quit > 1 || now_s() >= stop_at) {
				if (stop_at != 0)
					MAIN_LOG(NOTICE, "stopping: %s\n", sig_quit > 1
						 ? "second signal, not waiting for the grace period"
						 : "grace period over");
				break;
			}
		}
		bird_fd = sl_announce_fd(d.ann, &bird_events);
		if (bird_fd >= 0)
			pfd[n_pfd++] = (struct pollfd){.fd = bird_fd, .events = bird_events};

		if (d.api != NULL)
			pfd[n_pfd++] = (struct pollfd){.fd = sl_api_fd(d.api), .events = POLLIN};
		if (d.ctl.watch_fd >= 0)
			pfd[n_pfd++] = (struct pollfd){.fd = d.ctl.watch_fd, .events = POLLIN};
		if (d.metrics != NULL)
			pfd[n_pfd++] = (struct pollfd){.fd = sl_metrics_http_fd(d.metrics),
						       .events = POLLIN};
		pfd[n_pfd++] = (struct pollfd){.fd = sl_prober_fd(d.prober), .events = POLLIN};
		if (d.fleet != NULL)
			pfd[n_pfd++] = (struct pollfd){.fd = sl_fleet_fd(d.fleet), .events = POLLIN};
		double due = sl_prober_next_due(d.prober) - now_s();
		double bird_due = sl_announce_next_due(d.ann);
		if (bird_due >= 0 && bird_due - now_s() < due)
			due = bird_due - now_s();
		if (due < 0.001)
			timeout_ms = due <= 0 ? 0 : (int)(due * 1000.0);
		poll(pfd, n_pfd, timeout_ms);
		double t = now_s();

		if (sl_prober_run(d.prober, now_s()) > 0) {
			struct sl_error perr;
			char pline[1400];
			if (sl_controller_republish(&d.ctl, &perr) != 0)
				MAIN_LOG(ERR, "health change not applied: %s\n",
					 sl_error_format(&perr, pline, sizeof(pline)));
			else
				MAIN_LOG(INFO, "backend health changed: configuration republished\n");
		}

		if (sl_control_slowpath_poll(d.slow, sl_publisher_current(&d.pub),
					     (uint64_t)(t * 1000.0)) > 0) {
			struct sl_error nerr;
			char nline[1400];
			if (sl_controller_republish(&d.ctl, &nerr) != 0)
				MAIN_LOG(ERR, "neighbour change not applied: %s\n",
					 sl_error_format(&nerr, nline, sizeof(nline)));
		}
		sl_sync_run(d.sync, sl_publisher_current(&d.pub), t);
		if (t - last_host_check >= 1.0) {
			/* the host's own addresses stay the kernel's on AF_XDP ports */
			last_host_check = t;
			for (uint32_t p = 0; p < d.pmd.n_ports; p++)
				sl_xdp_refresh_host(d.xdp[p]);
			/* the journal folded into a generation once changes pause */
			sl_controller_idle(&d.ctl);
		}
		/* the fleet's revisions, in order, before the requests that may write the next one */
		if (d.fleet != NULL)
			sl_fleet_run(d.fleet);
		if (d.api != NULL)
			sl_api_run(d.api);
		enum sl_service_event sev = sl_service_run(d.svc, t);
		if (sev != SL_SERVICE_NO_EVENT)
			rte_log(sev == SL_SERVICE_WORKER_STUCK ? RTE_LOG_ERR : RTE_LOG_NOTICE,
				sl_logtype_main, "sluice.main: %s\n", sl_service_message(d.svc));
		if (sl_telemetry_pending())
			telemetry_answer(&d);
		if (d.metrics != NULL)
			sl_metrics_http_run(d.metrics);
		if (sl_announce_run(d.ann, now_s()) > 0)
			rte_log(sl_announce_bird_state(d.ann) == SL_BIRD_RECONFIGURED ? RTE_LOG_INFO
											: RTE_LOG_WARNING,
				sl_logtype_main, "sluice.main: BIRD: %s: %s\n",
				sl_bird_state_name(sl_announce_bird_state(d.ann)),
				sl_announce_bird_message(d.ann));
		if (d.ctl.watch_fd >= 0)
			sl_controller_on_watch(&d.ctl, t);
		if (sig_reload) {
			char who[160];
			sig_reload = 0;
			sl_audit_process_named("SIGHUP from", (pid_t)sig_reload_pid,
					       (uid_t)sig_reload_uid, sig_reload_comm, who,
					       sizeof(who));
			reload_config(&d, who);
		}
		if (sl_controller_reload_due(&d.ctl, t))
			reload_config(&d, "file changed");
		bool stats_due = d.opt.stats_interval > 0 && t - last_stats >= d.opt.stats_interval;
		if (d.opt.exit_idle_ms == 0 && !stats_due)
			continue; /* the loop runs every millisecond: sum the counters only when needed */
		struct sl_stats_totals tot;
		sl_stats_sum(d.stats, d.n_workers, &tot);
		if (tot.rx != last_rx) {
			last_rx = tot.rx;
			last_rx_change = t;
		}
		if (d.opt.exit_idle_ms != 0 && last_rx != 0 &&
		    (t - last_rx_change) * 1000.0 >= d.opt.exit_idle_ms)
			break;
		if (stats_due) {
			double dt = t - last_stats;
			/* TSC ticks a packet, over the workers' busy iterations */
			double tpp = tot.rx > prev_rx ? (double)(tot.busy_tsc - prev_busy) /
								(double)(tot.rx - prev_rx)
						       : 0.0;
			printf("stats: t=%.1fs rx=%lu tx=%lu dropped=%lu rx_mpps=%.3f tx_mpps=%.3f "
			       "tsc_per_pkt=%.1f\n",
			       t - d.start, (unsigned long)tot.rx, (unsigned long)tot.tx,
			       (unsigned long)tot.dropped, (double)(tot.rx - prev_rx) / dt / 1e6,
			       (double)(tot.tx - prev_tx) / dt / 1e6, tpp);
			fflush(stdout);
			prev_rx = tot.rx;
			prev_tx = tot.tx;
			prev_busy = tot.busy_tsc;
			last_stats = t;
			write_stats_file(&d);
		}
	}

	sl_service_stopping(d.svc);
	sl_telemetry_close();
	withdraw_before_exit(&d);
	api_at_exit = NULL;
	sl_api_stop(d.api);
	sl_metrics_http_stop(d.metrics);
	sl_fleet_free(d.fleet); /* its thread stops; the host key expires with its lease */
	d.fleet = NULL;
	atomic_store_explicit(&d.quit, true, memory_order_relaxed);
	rte_eal_mp_wait_lcore();
	sl_capture_fini();
	double elapsed = now_s() - d.start;
	{
		struct sl_xdp_port_stats xdp[SL_MAX_PORTS];
		const struct sl_stats_extra e = stats_extra(&d, xdp);
		sl_stats_write_text(stdout, d.stats, d.n_workers, d.lcore_ids,
				    sl_publisher_current(&d.pub), elapsed, &e);
	}
	fflush(stdout);
	write_stats_file(&d);
	sl_control_slowpath_free(d.slow);
	sl_sync_free(d.sync);
	for (uint32_t p = 0; p < d.pmd.n_ports; p++) {
		sl_port_close(d.port_ids[p]);
		sl_xdp_close(d.xdp[p]); /* the PMD detached the program; make sure */
	}
	for (unsigned int w = 0; w < d.n_workers; w++) {
		sl_worker_release(&d.workers[w]);
		sl_stats_free(d.stats[w]);
	}
	sl_publisher_fini(&d.pub);
	sl_controller_fini(&d.ctl);
	sl_prober_free(d.prober);
	sl_announce_free(d.ann);
	sl_id_registry_free(d.rule_ids);
	sl_id_registry_free(d.backend_ids);
	sl_table_cache_free(d.tables);
	sl_pmd_config_free(&d.pmd);
	sl_service_close(d.svc);
	rte_mempool_free(mp);
	free(d.workers);
	free(d.stats);
	free(d.lcore_ids);
	rte_eal_cleanup();
	return 0;
}
