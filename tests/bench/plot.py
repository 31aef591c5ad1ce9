#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Plot sluice's benchmark CSVs as PNG files.

  plot.py CSV_DIR OUT_DIR

Plots whichever of these exist in CSV_DIR (others are skipped with a note):

  maglev_build.csv       -> maglev_build.png       build time vs N, a line per M
  maglev_balance.csv     -> maglev_balance.png     max/mean slots vs N, a line per M
  maglev_disruption.csv  -> maglev_disruption.png  other slots moved (% of M) vs N
  flow_memory.csv        -> flow_memory.png        flow table MiB vs flows, 80 % and 100 % fill
  throughput*.csv        -> throughput*.png        median Mpps per 'what', min-max error bars,
                                                   labelled with the median ratio to testpmd 5tswap
  update-latency.csv     -> update-latency.png     histogram and CDF of request to first packet
                                                   and of the PUT round trip
  ctl-scale.csv          -> ctl-scale.png          a one-pool PUT's round trip and request to
                                                   publication (p50, p99) vs addresses configured

The first four come from build/tests/bench/bench_control --csv DIR, the
throughput ones from scripts/bench.sh --csv, update-latency.csv from
tests/bench/update_latency.py --csv, ctl-scale.csv from tests/bench/ctl_scale.py
--csv. Needs matplotlib (Debian:
python3-matplotlib); exits 2 without it, 1 when CSV_DIR holds none of them.
"""
import csv
import glob
import os
import statistics
import sys

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("plot.py: matplotlib is not installed (Debian/Ubuntu: apt-get install python3-matplotlib;"
          " or pip install matplotlib)", file=sys.stderr)
    sys.exit(2)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def save(fig, out_dir, name):
    path = os.path.join(out_dir, name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


def by_m(rows):
    """{M: [rows sorted by N]}"""
    groups = {}
    for r in rows:
        groups.setdefault(int(r["M"]), []).append(r)
    return {m: sorted(g, key=lambda r: int(r["N"])) for m, g in sorted(groups.items())}


def n_axis(ax, rows):
    ns = sorted({int(r["N"]) for r in rows})
    ax.set_xscale("log")
    ax.set_xticks(ns)
    ax.set_xticklabels([str(n) for n in ns])
    ax.minorticks_off()
    ax.set_xlabel("backends in the pool (N)")
    ax.grid(True, which="both", alpha=0.3)


def plot_build(rows, out_dir):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m, g in by_m(rows).items():
        ns = [int(r["N"]) for r in g]
        med = [float(r["median_ms"]) for r in g]
        best = [float(r["best_ms"]) for r in g]
        line, = ax.plot(ns, med, marker="o", label=f"M = {m}, median")
        ax.plot(ns, best, marker="v", linestyle="--", color=line.get_color(), alpha=0.6,
                label=f"M = {m}, best")
    n_axis(ax, rows)
    ax.set_yscale("log")
    ax.set_ylabel("sl_maglev_build time (ms)")
    ax.set_title("Maglev table build time (weight 1 each)")
    ax.legend()
    save(fig, out_dir, "maglev_build.png")


def plot_balance(rows, out_dir):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m, g in by_m(rows).items():
        ns = [int(r["N"]) for r in g]
        ax.plot(ns, [float(r["max_over_mean"]) for r in g], marker="o", label=f"M = {m}")
    ax.axhline(1.01, color="grey", linestyle=":", label="1.01")
    n_axis(ax, rows)
    ax.set_ylabel("max / mean slots per backend")
    ax.set_title("Maglev balance (equal weights: counts differ by at most 1)")
    ax.legend()
    save(fig, out_dir, "maglev_balance.png")


def plot_disruption(rows, out_dir):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m, g in by_m(rows).items():
        for op, style in (("remove", "-"), ("add", "--")):
            sel = [r for r in g if r["op"] == op]
            if not sel:
                continue
            ax.plot([int(r["N"]) for r in sel], [100 * float(r["fraction_of_M"]) for r in sel],
                    marker="o", linestyle=style, label=f"M = {m}, {op} one")
    n_axis(ax, rows)
    ax.set_ylabel("other slots moved (% of M)")
    ax.set_title("Maglev disruption beyond the changed backend's own slots")
    ax.legend()
    save(fig, out_dir, "maglev_disruption.png")


def plot_flow_memory(rows, out_dir):
    fills = sorted({int(r["fill_percent"]) for r in rows})
    flows = sorted({int(r["flows"]) for r in rows})
    fig, ax = plt.subplots(figsize=(7, 4.5))
    width = 0.8 / max(len(fills), 1)
    for k, fill in enumerate(fills):
        mib = {int(r["flows"]): float(r["mib"]) for r in rows if int(r["fill_percent"]) == fill}
        xs = [i + (k - (len(fills) - 1) / 2) * width for i in range(len(flows))]
        ys = [mib.get(f, 0) for f in flows]
        bars = ax.bar(xs, ys, width, label=f"{fill} % fill" + (" (sluiced)" if fill == 80 else ""))
        ax.bar_label(bars, labels=[f"{y:.1f}" for y in ys], fontsize=8)
    ax.set_xticks(range(len(flows)))
    ax.set_xticklabels([f"{f:,}" for f in flows])
    ax.set_xlabel("flows per worker lcore")
    ax.set_yscale("log")
    ax.set_ylabel("flow table memory (MiB)")
    ax.set_title("Flow table size (power-of-two buckets of 8 ways, 64-byte entries)")
    ax.legend()
    save(fig, out_dir, "flow_memory.png")


def plot_throughput(path, rows, out_dir):
    order = []
    for r in rows:
        if r["what"] not in order:
            order.append(r["what"])
    mpps = {w: [float(r["mpps"]) for r in rows if r["what"] == w] for w in order}
    ratio = {w: [float(r["ratio_to_5tswap"]) for r in rows if r["what"] == w] for w in order}
    med = [statistics.median(mpps[w]) for w in order]
    lo = [m - min(mpps[w]) for m, w in zip(med, order)]
    hi = [max(mpps[w]) - m for m, w in zip(med, order)]
    runs = max(len(v) for v in mpps.values())
    colors = ["tab:grey" if w.startswith("testpmd") else "tab:blue" for w in order]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    bars = ax.bar(range(len(order)), med, yerr=[lo, hi], capsize=4, color=colors)
    ax.bar_label(bars, labels=[f"×{statistics.median(ratio[w]):.3f}" for w in order],
                 padding=3, fontsize=8)
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels(order, rotation=20, ha="right")
    ax.set_ylabel("Mpps (median; bars: min-max)")
    ax.set_ylim(0, max(m + h for m, h in zip(med, hi)) * 1.12)
    ax.set_title(f"{os.path.basename(path)}: {runs} run(s); label: × testpmd 5tswap")
    ax.grid(True, axis="y", alpha=0.3)
    save(fig, out_dir, os.path.splitext(os.path.basename(path))[0] + ".png")


def plot_update_latency(rows, out_dir):
    series = [("request_to_first_packet_us", "request to first packet"),
              ("put_rtt_us", "PUT round trip")]
    series = [(c, label, sorted(float(r[c]) / 1000 for r in rows if r.get(c)))
              for c, label in series if rows and c in rows[0]]
    if not series:
        print("update-latency.csv: no request_to_first_packet_us or put_rtt_us column; skipped")
        return
    # shared log-spaced bins: the series differ by several times and have long tails
    lo = max(min(v[0] for _, _, v in series), 1e-3)
    hi = max(v[-1] for _, _, v in series) * 1.001
    bins = [lo * (hi / lo) ** (i / 40) for i in range(41)] if hi > lo else 10
    fig, (hax, cax) = plt.subplots(1, 2, figsize=(11, 4.5))
    for col, label, v in series:
        hax.hist(v, bins=bins, alpha=0.6, label=label)
        cax.step(v, [(i + 1) / len(v) for i in range(len(v))], where="post",
                 label=f"{label} (p50 {statistics.median(v):.1f} ms)")
    hax.set_xscale("log")
    cax.set_xscale("log")
    hax.set_xlabel("ms")
    hax.set_ylabel("updates")
    hax.set_title(f"API update latency: {len(rows)} updates")
    hax.legend()
    cax.set_xlabel("ms")
    cax.set_ylabel("fraction of updates")
    cax.set_ylim(0, 1.02)
    cax.set_title("CDF")
    cax.grid(True, alpha=0.3)
    cax.legend(loc="lower right")
    save(fig, out_dir, "update-latency.png")


def plot_ctl_scale(rows, out_dir):
    fig, ax = plt.subplots(figsize=(7, 4))
    for figure, style in (("round trip", "-"), ("request to publication", "--")):
        pts = sorted((int(r["addresses"]), float(r["p50"]), float(r["p99"]))
                     for r in rows if r["figure"] == figure)
        if not pts:
            continue
        x = [p[0] for p in pts]
        ax.plot(x, [p[1] / 1000 for p in pts], style, marker="o", label=f"{figure} p50")
        ax.plot(x, [p[2] / 1000 for p in pts], style, marker="^", label=f"{figure} p99")
    ax.set_xscale("log")
    ax.set_xlabel("backend addresses configured")
    ax.set_ylabel("milliseconds")
    ax.set_ylim(bottom=0)
    ax.set_title("Replacing one 60-address pool through the REST API")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, out_dir, "ctl-scale.png")


def main():
    if len(sys.argv) != 3 or sys.argv[1] in ("-h", "--help"):
        print("usage: plot.py CSV_DIR OUT_DIR", file=sys.stderr)
        return 2
    csv_dir, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    done = 0
    simple = [("maglev_build.csv", plot_build), ("maglev_balance.csv", plot_balance),
              ("maglev_disruption.csv", plot_disruption), ("flow_memory.csv", plot_flow_memory),
              ("update-latency.csv", plot_update_latency), ("ctl-scale.csv", plot_ctl_scale)]
    for name, fn in simple:
        path = os.path.join(csv_dir, name)
        if not os.path.exists(path):
            print(f"{name}: not in {csv_dir}; skipped")
            continue
        rows = read_csv(path)
        if not rows:
            print(f"{name}: empty; skipped")
            continue
        fn(rows, out_dir)
        done += 1
    tp = sorted(glob.glob(os.path.join(csv_dir, "throughput*.csv")))
    if not tp:
        print(f"throughput*.csv: none in {csv_dir}; skipped")
    for path in tp:
        rows = read_csv(path)
        if rows:
            plot_throughput(path, rows, out_dir)
            done += 1
    if done == 0:
        print(f"plot.py: no benchmark CSVs in {csv_dir}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
