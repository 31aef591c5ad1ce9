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
#   FUZZ_KEEP=1 scripts/fuzz.sh          keep the grown corpus of a clean run
source "$(dirname "$0")/common.sh"
cd "$SL_ROOT"

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
BUILD=build-fuzz
ALL_TARGETS=(fuzz_parse fuzz_l2proto fuzz_arm_expr fuzz_rest)
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
failed=0
summary=()
for t in "${targets[@]}"; do
	work=$(mktemp -d "/tmp/sluice-$t.XXXXXX")
	mkdir -p "$work/corpus" "$work/artifacts"
	cp tests/fuzz/corpus/"$t"/* "$work/corpus/"
	sl_log "$t: ${FUZZ_SECONDS}s on $(ls "$work/corpus" | wc -l) seeds (log: $work/log)"
	rc=0
	dict=()
	[ ! -f "tests/fuzz/$t.dict" ] || dict=(-dict="tests/fuzz/$t.dict")
	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
	"$BUILD/tests/fuzz/$t" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "${dict[@]}" \
		-artifact_prefix="$work/artifacts/" ${FUZZ_ARGS:-} "$work/corpus" >"$work/log" 2>&1 || rc=$?
	final=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$work/log" | tail -1 || true)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' <<<"$final")
	repro=$(find "$work/artifacts" -type f | head -5)
	if [ "$rc" -ne 0 ] || [ -n "$repro" ]; then
		failed=1
		grep -E 'ERROR|invariant broken|runtime error|SUMMARY' "$work/log" | head -10 || true
		echo "$t: FAILED (exit $rc); log: $work/log"
		for r in $repro; do
			echo "  reproducer: $r"
			echo "  replay:     $BUILD/tests/fuzz/$t $r"
		done
		summary+=("FAIL  $t: ${execs:-?} executions, ${rate:-?}/s, cov ${cov:-?}; $work")
	else
		summary+=("PASS  $t: ${execs:-?} executions, ${rate:-?}/s, cov ${cov:-?}")
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
