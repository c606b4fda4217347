#!/usr/bin/env python3
"""Draws the benchmark results (target/bench/*.json) as one image.

    python3 scripts/bench-plot.py target/bench docs/benchmarks.png

Panels, each drawn only when its file is there:
  - engines.json (benches/engines.rs): ferryboat-s3's throughput over each peer's, per case;
    above 1 ferry is faster, the dashed line is the 0.97 goal against raw aws-sdk-s3; and
    the same runs in client CPU per operation (peer / ferry);
  - backends.json (benches/backends.rs): throughput of each backend per case (log scale);
  - mirror.json (scripts/bench): the mirror's speed-up over rclone and over aws-sdk-s3 alone.

Needs matplotlib (scripts/bench installs it into .tools/venv).
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def cases_in_order(results):
    seen = []
    for r in results:
        if r["case"] not in seen:
            seen.append(r["case"])
    return seen


def grouped_bars(ax, labels, series, width_total=0.8):
    """series: list of (name, values) with one value per label (None: no bar)."""
    n = max(len(series), 1)
    width = width_total / n
    for i, (name, values) in enumerate(series):
        xs = [x - width_total / 2 + width * (i + 0.5) for x in range(len(labels))]
        pairs = [(x, v) for x, v in zip(xs, values) if v is not None]
        if pairs:
            ax.bar([p[0] for p in pairs], [p[1] for p in pairs], width, label=name)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)


def plot_engines(ax, data, key="ratio_baseline_over_this", what="throughput"):
    results = data["results"]
    baseline = data.get("baseline", "ferryboat-s3")
    labels = cases_in_order(results)
    peers = [c for c in dict.fromkeys(r["contender"] for r in results) if c != baseline]
    series = []
    for peer in peers:
        by_case = {r["case"]: r.get(key) for r in results if r["contender"] == peer}
        series.append((f"vs {peer}", [by_case.get(c) for c in labels]))
    grouped_bars(ax, labels, series)
    ax.axhline(1.0, color="black", linewidth=0.8)
    server = data.get("server", {}).get("name", "s3s-fs")
    if what == "throughput":
        ax.axhline(0.97, color="red", linewidth=0.8, linestyle="--", label="goal vs aws-sdk-s3 (0.97)")
        ax.set_ylabel(f"{baseline} throughput / peer's")
        ax.set_title(f"S3 engines on one {server} server, wall time (> 1: {baseline} faster)")
    else:
        ax.set_ylabel(f"peer CPU / {baseline} CPU")
        ax.set_title(f"The same runs, client CPU per operation (> 1: {baseline} cheaper)")
    ax.legend(fontsize=8)


def plot_backends(ax, data):
    results = data["results"]
    labels = cases_in_order(results)
    backends = list(dict.fromkeys(r["contender"] for r in results))

    def value(r):
        # Listings in keys/s, everything else in MiB/s: one log axis holds both.
        return r.get("keys_per_s") if r["op"] == "list" else r.get("mib_per_s")

    series = []
    for b in backends:
        by_case = {r["case"]: value(r) for r in results if r["contender"] == b}
        series.append((b, [by_case.get(c) for c in labels]))
    grouped_bars(ax, labels, series)
    ax.set_yscale("log")
    ax.set_ylabel("MiB/s (list: keys/s), log")
    ax.set_title("Backends through the ferry trait (local servers, not the clouds)")
    ax.legend(fontsize=8, ncol=3)


def mirror_bars(data):
    """Each entry of mirror.json: {"what", "peer", "ferry_secs", "peer_secs"}."""
    labels, values, names = [], [], []
    for d in data.values():
        if isinstance(d, dict) and d.get("ferry_secs") and d.get("peer_secs"):
            labels.append(d.get("short") or d.get("what", "?"))
            values.append(d["peer_secs"] / d["ferry_secs"])
            names.append("vs " + d.get("peer", "?"))
    return labels, values, names


def plot_mirror(ax, data):
    labels, values, names = mirror_bars(data)
    palette = {}
    colors = [palette.setdefault(n, f"C{len(palette)}") for n in names]
    ax.bar(range(len(values)), values, color=colors)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels([f"{l}\n{n}" for l, n in zip(labels, names)], fontsize=8)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_ylabel("peer time / ferry time")
    ax.set_title("The mirror against its peers (> 1: ferry faster)")


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]
    panels = []
    mirror = load(os.path.join(src, "mirror.json"))
    if isinstance(mirror, dict) and mirror_bars(mirror)[0]:
        panels.append((plot_mirror, mirror))
    engines = load(os.path.join(src, "engines.json"))
    if isinstance(engines, dict) and engines.get("results"):
        panels.append((plot_engines, engines))
        if any(r.get("cpu_ratio_baseline_over_this") for r in engines["results"]):
            panels.append((lambda ax, d: plot_engines(ax, d, "cpu_ratio_baseline_over_this", "cpu"), engines))
    backends = load(os.path.join(src, "backends.json"))
    if isinstance(backends, dict) and backends.get("results"):
        panels.append((plot_backends, backends))
    if not panels:
        print(f"bench-plot: no engines.json, backends.json or mirror.json in {src}; nothing to draw", file=sys.stderr)
        return 1
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 4.2 * len(panels)), squeeze=False)
    for (draw, data), ax in zip(panels, axes[:, 0]):
        draw(ax, data)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    fig.savefig(dst, dpi=110)
    print(f"bench-plot: wrote {dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
