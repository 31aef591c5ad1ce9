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

soak_register api "REST API hammered: 4 changing clients, 16 slow clients on 16 connections, 10 minutes (SOAK_API_SECONDS)"
soak_api() {
	env SLUICE_BUILD=build SOAK_API_SECONDS="${SOAK_API_SECONDS:-600}" \
		"$SL_PY" -m pytest -q -s -p no:cacheprovider \
		tests/api/test_socket.py -k hammer_with_slow_clients
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
