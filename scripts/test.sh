#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test.sh: install what is missing, build, and run every test tier that runs
# on this machine: unit (cmocka), dataplane (sluiced on net_pcap, its
# counters also through dpdk-telemetry.py), the REST API, persistence and the
# log (and, as root with hugepages, live capture with dpdk-dumpcap;
# --metrics-listen scraped by a real Prometheus), a fleet of three sluiced
# sharing one configuration through a real etcd cluster,
# sluicectl (`top` in tmux), the shell examples of the README and docs/ (as
# written, those that need no NIC), the configuration of the statically
# linked DPDK build, the Debian package and its service, the
# unit and dataplane tiers again under
# AddressSanitizer + UndefinedBehaviorSanitizer, a fuzz smoke of the packet
# parsers, the ARM template language, configuration documents and port
# profiles (libFuzzer), and end to end (network
# namespaces, real kernel TCP and UDP; needs root).
#
#   scripts/test.sh            everything
#   SL_SKIP_ASAN=1 scripts/test.sh    skip the sanitizer build and runs
#   SL_SKIP_E2E=1  scripts/test.sh    skip the network-namespace tests
#   SL_SKIP_FUZZ=1 scripts/test.sh    skip the fuzz smoke (scripts/fuzz.sh, 8 s a target)
source "$(dirname "$0")/common.sh"
cd "$SL_ROOT"

sl_install_deps
sl_hugepages
sl_build build
[ "${SL_SKIP_ASAN:-0}" = 1 ] ||
	sl_build build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

results=()
failed=0
run_tier() {
	local name=$1
	shift
	sl_log "tier: $name"
	if "$@"; then
		results+=("PASS  $name")
	else
		results+=("FAIL  $name")
		failed=$((failed + 1))
	fi
}

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
PYTEST=("$SL_PY" -m pytest -q -p no:cacheprovider)

run_tier "unit" meson test -C build --suite unit --print-errorlogs
run_tier "dataplane" env SLUICE_BUILD=build "${PYTEST[@]}" tests/dataplane
[ -d tests/api ] && run_tier "api" env SLUICE_BUILD=build "${PYTEST[@]}" tests/api
# A fleet: three sluiced sharing one configuration through a real three-member
# etcd cluster on loopback ports (docs/fleet.md), about 2 min.
run_tier "fleet" env SLUICE_BUILD=build "${PYTEST[@]}" tests/fleet
# sluicectl, its live view (`top`) in a real terminal: tmux, 80 columns.
run_tier "sluicectl" env SLUICE_BUILD=build "${PYTEST[@]}" tests/cli
# Every shell example of the Markdown files that needs no NIC, as written (tests/docs).
run_tier "docs examples" env SLUICE_BUILD=build "${PYTEST[@]}" tests/docs
# -Dstatic_dpdk=true configures: every driver of its list has a static archive
# and pdump and telemetry link from the archives (meson's link checks; a few
# seconds, nothing built; the build and its tests: README, docs/benchmarks.md).
static_dpdk_configures() {
	local dir rc=0
	dir=$(mktemp -d)
	meson setup "$dir/build" "$SL_ROOT" -Dstatic_dpdk=true -Dtests=false >"$dir/log" ||
		{ rc=$?; cat "$dir/log"; }
	rm -rf "$dir"
	return "$rc"
}
run_tier "static DPDK configuration" static_dpdk_configures
# The .deb built from a copy of the tree (dpkg-buildpackage), its files, the
# unit (systemd-analyze verify), and the unit's command lines run by hand in a
# network namespace: readiness and the worker watchdog (root), about 2 min.
run_tier "package and service" env SLUICE_BUILD=build "${PYTEST[@]}" tests/package
# The benchmark suite in seconds, so it cannot rot (the full one: scripts/bench.sh).
bench_smoke() {
	build/tests/bench/bench_control --quick &&
		bench_smoke_compile_delta &&
		SLUICE_BUILD=build "$SL_PY" tests/bench/bench.py --runs 1 --seconds 2 --flows 1000 \
			--modes DNAT,IPinIP &&
		SLUICE_BUILD=build "$SL_PY" tests/bench/update_latency.py --updates 10 --addresses 100 \
			--flows 200 &&
		SLUICE_BUILD=build "$SL_PY" tests/bench/ctl_scale.py --addresses 10,600 --changes 20 &&
		SLUICE_BUILD=build "$SL_PY" tests/bench/instructions.py --seconds 8 --flows 1000 \
			--modes DNAT --top 3 &&
		bench_smoke_af_xdp
}
# One pool change compiled whole and incrementally, the two compared (about 1 s).
bench_smoke_compile_delta() {
	local cfg rc
	cfg=$(mktemp --suffix=.json)
	"$SL_PY" tests/bench/ctl_scale.py --write-config "$cfg" --addresses 600 &&
		build/tests/bench/compile_delta "$cfg" --changes 10
	rc=$?
	rm -f "$cfg"
	return $rc
}
# AF_XDP ports (root: BPF and a network namespace): the XDP program's cost,
# and net_af_packet beside net_af_xdp on a veth pair, about 16 s.
bench_smoke_af_xdp() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "AF_XDP benchmarks: skipped (need root)"
		return 0
	fi
	build/tests/bench/xdp_cost --quick &&
		SLUICE_BUILD=build "$SL_PY" tests/bench/veth_bench.py --runs 1 --seconds 2
}
run_tier "benchmark smoke" bench_smoke
if [ "${SL_SKIP_ASAN:-0}" != 1 ]; then
	run_tier "unit (asan+ubsan)" meson test -C build-asan --suite unit --print-errorlogs
	run_tier "dataplane (asan+ubsan)" env SLUICE_BUILD=build-asan "${PYTEST[@]}" tests/dataplane
fi
# The parsers, the ARM template language, configuration documents and port
# profiles under libFuzzer for a few seconds
# each (every target of scripts/fuzz.sh), so the harnesses cannot rot (longer
# runs: scripts/fuzz.sh with FUZZ_SECONDS).
[ "${SL_SKIP_FUZZ:-0}" = 1 ] || run_tier "fuzz smoke" env FUZZ_SECONDS=8 scripts/fuzz.sh
if [ "${SL_SKIP_E2E:-0}" != 1 ]; then
	if [ "$(id -u)" -eq 0 ]; then
		run_tier "end to end" env SLUICE_BUILD=build "${PYTEST[@]}" tests/e2e
	else
		results+=("SKIP  end to end (needs root for network namespaces)")
	fi
fi

sl_log "summary"
printf '  %s\n' "${results[@]}"
passed=$(printf '%s\n' "${results[@]}" | grep -c '^PASS' || true)
echo "tiers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
