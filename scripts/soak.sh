#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# soak.sh: the long reliability runs of docs/reliability.md, which the
# default test run (scripts/test.sh) runs only in short versions. Each run
# prints its figures and exits non-zero when its goal is missed.
#
#   scripts/soak.sh             every run, one after the other (hours)
#   scripts/soak.sh NAME...     the named runs
#   scripts/soak.sh --list      the runs and what each does
source "$(dirname "$0")/common.sh"
cd "$SL_ROOT"

declare -A SOAK_DOC=()
SOAK_ORDER=()
# soak_register NAME DESCRIPTION: soak_NAME is a run.
soak_register() {
	SOAK_ORDER+=("$1")
	SOAK_DOC[$1]=$2
}

soak_register crash "kill -9 at random moments of a stream of changes, 400 trials (SOAK_KILL_TRIALS)"
soak_crash() {
	env SLUICE_BUILD=build SLUICE_KILL_TRIALS="${SOAK_KILL_TRIALS:-400}" \
		"$SL_PY" -m pytest -q -s -p no:cacheprovider \
		tests/api/test_persistence.py -k kill_9_at_random_moments
}

soak_register churn "10,000 REST changes under full-rate traffic, then 1,000 under ASan (SOAK_CHURN_CHANGES, SOAK_CHURN_ASAN_CHANGES)"
soak_churn() {
	sl_build build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false &&
		env SLUICE_BUILD=build "$SL_PY" tests/bench/churn.py \
			--changes "${SOAK_CHURN_CHANGES:-10000}" &&
		env SLUICE_BUILD=build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$SL_PY" tests/bench/churn.py \
			--changes "${SOAK_CHURN_ASAN_CHANGES:-1000}"
}

soak_register hostile "good TCP flows at full rate beside 10, 30 and 50 % bad packets (a SYN flood past the flow table, malformed frames, orphan fragments, ICMP errors quoting nothing), DNAT then L2, 5 rounds of 20 s (SOAK_HOSTILE_RUNS, SOAK_HOSTILE_SECONDS)"
soak_hostile() {
	local rc=0 mode more
	for mode in DNAT L2; do
		more=()
		# the backends check runs with DNAT whatever the mode: once is enough
		[ "$mode" = DNAT ] || more=(--no-backends-check)
		env SLUICE_BUILD=build "$SL_PY" tests/bench/hostile.py --mode "$mode" --shares 10,30,50 \
			--runs "${SOAK_HOSTILE_RUNS:-5}" --seconds "${SOAK_HOSTILE_SECONDS:-20}" \
			"${more[@]}" || rc=1
	done
	return $rc
}

soak_register restart "200 TCP connections per delivery mode across 20 SIGTERM and 20 SIGKILL restarts (SOAK_RESTARTS, SOAK_RESTART_CONNS)"
soak_restart() {
	env SLUICE_BUILD=build SLUICE_RESTART_CONNS="${SOAK_RESTART_CONNS:-200}" \
		SLUICE_RESTARTS="${SOAK_RESTARTS:-20}" \
		"$SL_PY" -m pytest -q -s -p no:cacheprovider tests/e2e/test_restarts.py
}

soak_register fuzz "every libFuzzer target of scripts/fuzz.sh to its goal: 10^8 executions for the packet parsers, 10^7 for the others (FUZZ_SECONDS caps each, default 36000)"
soak_fuzz() {
	local packet=(fuzz_parse fuzz_l2proto) others=() t rc=0
	for t in $(scripts/fuzz.sh --list); do
		[[ " ${packet[*]} " == *" $t "* ]] || others+=("$t")
	done
	FUZZ_RUNS=100000000 FUZZ_SECONDS=${FUZZ_SECONDS:-36000} scripts/fuzz.sh "${packet[@]}" || rc=1
	FUZZ_RUNS=10000000 FUZZ_SECONDS=${FUZZ_SECONDS:-36000} scripts/fuzz.sh "${others[@]}" || rc=1
	return "$rc"
}

soak_register api "REST API hammered: 4 changing clients, 16 slow clients on 16 connections, 10 minutes (SOAK_API_SECONDS)"
soak_api() {
	env SLUICE_BUILD=build SOAK_API_SECONDS="${SOAK_API_SECONDS:-600}" \
		"$SL_PY" -m pytest -q -s -p no:cacheprovider \
		tests/api/test_socket.py -k hammer_with_slow_clients
}

soak_register fleet "2,000 changes on a fleet of three sluiced sharing one etcd cluster: convergence p50/p99, then conflicts, a killed leader, etcd wholly down (SOAK_FLEET_CHANGES)"
soak_fleet() {
	env SLUICE_BUILD=build SLUICE_FLEET_CHANGES="${SOAK_FLEET_CHANGES:-2000}" \
		"$SL_PY" -m pytest -q -s -p no:cacheprovider tests/fleet/test_fleet.py
}

if [ "${1:-}" = --list ]; then
	for n in "${SOAK_ORDER[@]}"; do
		printf '  %-10s %s\n' "$n" "${SOAK_DOC[$n]}"
	done
	exit 0
fi
runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=("${SOAK_ORDER[@]}")
for n in "${runs[@]}"; do
	if [ -z "${SOAK_DOC[$n]:-}" ]; then
		echo "soak.sh: no run named '$n' (soak.sh --list names them)" >&2
		exit 2
	fi
done

sl_install_deps
sl_hugepages
sl_build build
results=()
failed=0
for n in "${runs[@]}"; do
	sl_log "soak: $n: ${SOAK_DOC[$n]}"
	start=$(date +%s)
	if "soak_$n"; then
		results+=("PASS  $n ($(($(date +%s) - start)) s)")
	else
		results+=("FAIL  $n ($(($(date +%s) - start)) s)")
		failed=$((failed + 1))
	fi
done
sl_log "summary"
printf '  %s\n' "${results[@]}"
[ "$failed" -eq 0 ]
