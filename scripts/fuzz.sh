#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# fuzz.sh: build the libFuzzer targets of tests/fuzz (in build-fuzz, with
# clang, ASan and UBSan) and run each for a while on a copy of its seed
# corpus (tests/fuzz/corpus/TARGET; the checked-in seeds are never written),
# with the dictionary tests/fuzz/TARGET.dict when there is one.
# Exits non-zero when a target crashes or a sanitizer reports, and prints the
# reproducer's path and the command that replays it.
#
#   scripts/fuzz.sh                      every target, 60 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh fuzz_parse
#   FUZZ_ARGS="-jobs=4 -workers=4" scripts/fuzz.sh   extra libFuzzer flags
#   FUZZ_RUNS=10000000 scripts/fuzz.sh   stop a target at that many executions
#                                        (or at FUZZ_SECONDS, whichever is first)
#   FUZZ_KEEP=1 scripts/fuzz.sh          keep the grown corpus of a clean run
#   FUZZ_SLOW_SECONDS=60                 report an input slower than this
#                                        (named, not a failure)
#   scripts/fuzz.sh --list               the targets, one a line
#
# The summary gives, per target: executions (summed over -jobs), their rate,
# the coverage (cov: code edges; ft: libFuzzer's features), the corpus the
# run ended with (files and bytes) and the time.
source "$(dirname "$0")/common.sh"
cd "$SL_ROOT"

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
BUILD=build-fuzz
ALL_TARGETS=(fuzz_parse fuzz_l2proto fuzz_arm_expr fuzz_config fuzz_profile fuzz_template fuzz_rest)
if [ "${1:-}" = --list ]; then
	printf '%s\n' "${ALL_TARGETS[@]}"
	exit 0
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

SL_PACKAGES+=(clang)
sl_install_deps
export CC=clang
if [ ! -f "$BUILD/build.ninja" ]; then
	sl_log "configuring $BUILD"
	meson setup "$BUILD" -Dfuzz=true -Db_lto=false >/dev/null
fi
sl_log "building the fuzz targets in $BUILD"
ninja -C "$BUILD" "${targets[@]/#/tests/fuzz/}" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# "N executions, R/s, cov C, ft F," of a run in $1: executions and rates
# summed over its jobs (fuzz-N.log with -jobs, else log), cov and ft the
# largest a job reached (its last status line).
fuzz_figures() {
	local logs
	logs=$(ls "$1"/fuzz-*.log 2>/dev/null || echo "$1/log")
	# shellcheck disable=SC2086 # one path per job
	awk '/^stat::number_of_executed_units:/ { n += $2 }
		/^stat::average_exec_per_sec:/ { r += $2 }
		/^#[0-9]+.* cov: / { for (i = 1; i < NF; i++) { if ($i == "cov:") c[FILENAME] = $(i + 1)
			if ($i == "ft:") f[FILENAME] = $(i + 1) } }
		END { for (k in c) { if (c[k] > cov) cov = c[k]; if (f[k] > ft) ft = f[k] }
			printf "%s executions, %s/s, cov %s, ft %s,", n ? n : "?", r ? r : "?",
				cov ? cov : "?", ft ? ft : "?" }' $logs
}

failed=0
summary=()
for t in "${targets[@]}"; do
	work=$(mktemp -d "/tmp/sluice-$t.XXXXXX")
	mkdir -p "$work/corpus" "$work/artifacts"
	cp tests/fuzz/corpus/"$t"/* "$work/corpus/"
	sl_log "$t: ${FUZZ_SECONDS}s on $(ls "$work/corpus" | wc -l) seeds (log: $work/log)"
	rc=0
	start=$SECONDS
	dict=()
	[ ! -f "tests/fuzz/$t.dict" ] || dict=(-dict="$SL_ROOT/tests/fuzz/$t.dict")
	# In $work: with -jobs=N, libFuzzer writes each job's output to fuzz-N.log there.
	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
	(cd "$work" && "$SL_ROOT/$BUILD/tests/fuzz/$t" -max_total_time="$FUZZ_SECONDS" \
		-print_final_stats=1 -runs="${FUZZ_RUNS:--1}" "${dict[@]}" \
		-report_slow_units="${FUZZ_SLOW_SECONDS:-60}" \
		-artifact_prefix="$work/artifacts/" ${FUZZ_ARGS:-} \
		"$work/corpus" >"$work/log" 2>&1) || rc=$?
	figures="$(fuzz_figures "$work") corpus $(ls "$work/corpus" | wc -l) files"
	figures+=" $(cat "$work"/corpus/* | wc -c) bytes, $((SECONDS - start)) s"
	# A slow unit is reported, not failed: at nice 19 beside other work a
	# starved input can take seconds that it does not take alone.
	slow=$(find "$work/artifacts" -type f -name 'slow-unit-*' | head -5)
	repro=$(find "$work/artifacts" -type f ! -name 'slow-unit-*' | head -5)
	for r in $slow; do
		echo "$t: slow unit (over ${FUZZ_SLOW_SECONDS:-60} s once): $r"
	done
	if [ "$rc" -ne 0 ] || [ -n "$repro" ]; then
		failed=1
		grep -hE 'ERROR|invariant broken|runtime error|SUMMARY' "$work/log" "$work"/fuzz-*.log \
			2>/dev/null | head -10 || true
		echo "$t: FAILED (exit $rc); log: $work/log"
		for r in $repro; do
			echo "  reproducer: $r"
			echo "  replay:     $BUILD/tests/fuzz/$t $r"
		done
		summary+=("FAIL  $t: $figures; $work")
	else
		summary+=("PASS  $t: $figures")
		if [ "${FUZZ_KEEP:-0}" = 1 ]; then
			echo "$t: grown corpus kept in $work/corpus"
		else
			rm -rf "$work"
		fi
	fi
done

sl_log "summary"
printf '  %s\n' "${summary[@]}"
exit "$failed"
