#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bench.sh: sluiced on one worker lcore beside dpdk-testpmd on the same
# replayed pcap, in the same run. Arguments go to tests/bench/bench.py
# (--modes, --runs, --seconds, --flows, --csv).
source "$(dirname "$0")/common.sh"
cd "$SL_ROOT"
sl_install_deps
sl_hugepages
sl_build build
SLUICE_BUILD=build exec "$SL_PY" tests/bench/bench.py "$@"
