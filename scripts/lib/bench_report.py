"""Turns scripts/bench's measurements (target/bench/*.json) into ratios and docs/benchmarks.md.

    python3 scripts/lib/bench_report.py OUT_DIR SMALL NOOP BIG_MIB DOC_PATH|-

Ratios are peer time / ferry time (or ferry throughput / peer throughput): above 1, ferry is
faster. Medians over the rounds scripts/bench ran, each round side by side.
"""
import glob
import json
import os
import platform
import re
import statistics
import subprocess
import sys


def load(pattern):
    runs = []
    for path in sorted(glob.glob(pattern)):
        with open(path) as f:
            runs.append(json.load(f))
    return runs


def median(runs, key):
    values = [r[key] for r in runs if r.get("rc", 0) == 0]
    return statistics.median(values) if values else None


def cmd_version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
        return out.splitlines()[0] if out else "?"
    except (OSError, subprocess.SubprocessError):
        return "not installed"


def locked_version(name):
    try:
        text = open(os.path.join(os.path.dirname(__file__), "..", "..", "Cargo.lock")).read()
    except OSError:
        return "?"
    m = re.search(r'name = "%s"\nversion = "([^"]+)"' % re.escape(name), text)
    return m.group(1) if m else "?"


S3S_FS = os.path.join(os.path.dirname(__file__), "..", "..", ".tools", "cargo", "bin", "s3s-fs")


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kib = int(open("/proc/meminfo").readline().split()[1])
        mem = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem} RAM, {platform.system()} {platform.release()}"


def mib(kib):
    return f"{kib / 1024:.0f} MiB" if kib is not None else "–"


def secs(s):
    return f"{s:.2f} s" if s is not None else "–"


def ratio(peer, ours):
    return f"**{peer / ours:.2f}×**" if peer and ours else "–"


PEERS = {
    "rclone": "rclone, 32 transfers/checkers",
    "rclone-defaults": "rclone, its defaults",
}


def mirror_rows(out, small, noop, big_mib):
    rows = []
    summary = {}
    for label, count in (("small", small), ("many", noop)):
        phases = [("copy", f"copy {count:,} × 4 KiB", "≥ 3×"),
                  ("noop", f"no-op re-sync of {count:,}, default comparison", "≥ 4×"),
                  ("noopfast", f"no-op re-sync of {count:,}, listing only (ferry size-mtime, rclone --size-only)", "≥ 4×")]
        for phase, what, target in phases:
            if label == "many" and phase == "copy":
                continue  # the large no-op set's initial copy is set-up, not a result
            if label == "small" and phase != "copy" and noop != small:
                continue
            ferry = load(f"{out}/run-{label}-ferry-{phase}-*.json")
            if not ferry:
                continue
            f_s = median(ferry, "secs")
            for peer, peer_name in PEERS.items():
                runs = load(f"{out}/run-{label}-{peer}-{phase}-*.json")
                if not runs:
                    continue
                p_s = median(runs, "secs")
                rows.append((what, peer_name, secs(f_s), secs(p_s), ratio(p_s, f_s),
                             target if peer == "rclone" else "", mib(median(ferry, "peak_rss_kib")),
                             mib(median(runs, "peak_rss_kib"))))
                summary[f"{label}_{phase}_{peer}"] = {"what": what, "peer": peer_name, "ferry_secs": f_s,
                                                       "peer_secs": p_s}
    ferry = load(f"{out}/run-big-ferry-copy-*.json")
    sdk = load(f"{out}/run-big-sdk-copy-*.json")
    if ferry and sdk:
        f_s, s_s = median(ferry, "secs"), median(sdk, "secs")
        rows.append((f"one {big_mib:,} MiB object", "aws-sdk-s3 alone", secs(f_s), secs(s_s), ratio(s_s, f_s),
                     "≥ 0.90×, RSS ≤ 256 MiB", mib(median(ferry, "peak_rss_kib")), mib(median(sdk, "peak_rss_kib"))))
        summary["big"] = {"what": f"one {big_mib:,} MiB object", "peer": "aws-sdk-s3 alone", "ferry_secs": f_s,
                          "peer_secs": s_s, "ferry_rss_kib": median(ferry, "peak_rss_kib")}
    return rows, summary


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def generic_section(path, title):
    """Renders a bench's own JSON: a list of rows, or {"rows": [...]}, each a flat object."""
    try:
        data = json.load(open(path))
    except (OSError, ValueError):
        return None
    rows = data.get("rows", data.get("results")) if isinstance(data, dict) else data
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
        return None
    header = [k for k in rows[0].keys() if not isinstance(rows[0][k], (dict, list))]
    body = []
    for r in rows:
        body.append([f"{r.get(k):.3g}" if isinstance(r.get(k), float) else r.get(k, "") for k in header])
    return f"## {title}\n\n" + table(header, body) + "\n"


def main():
    out, small, noop, big_mib, doc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    rows, summary = mirror_rows(out, small, noop, big_mib)
    with open(f"{out}/mirror.json", "w") as f:
        json.dump(summary, f, indent=1)
    parts = []
    if rows:
        parts.append("## The mirror against its peers\n\nTwo s3s-fs servers on 127.0.0.1, source and destination. "
                     "The mirror runs with its defaults (32 transfers, 64 checkers, content-hash comparison, "
                     "verified writes); rclone `sync` at 32 transfers and checkers and at its defaults (4 and 8). "
                     "Ratio: peer time / ferry time; above 1, ferry is faster.\n\n"
                     + table(["work", "peer", "ferry", "peer time", "ratio", "target", "ferry peak RSS", "peer peak RSS"],
                             rows) + "\n")
    diff = f"{out}/mirror_diff.json"
    if os.path.exists(diff):
        d = json.load(open(diff))
        parts.append(f"## The mirror's diff at scale\n\n{d['keys']:,} keys per side (synthetic listings, dry run): "
                     f"{d['secs']:.1f} s, peak RSS **{d['peak_rss_kib'] / 1024:.0f} MiB** (target ≤ 150 MiB); "
                     f"planned {d['to_copy']:,} copies and {d['to_delete']:,} deletes.\n")
    for name, title in (("engines", "S3 engines on one s3s-fs server"), ("backends", "Backends through the ferry trait")):
        section = generic_section(f"{out}/{name}.json", title)
        if section:
            parts.append(section)
    versions = (f"rustc: {cmd_version(['rustc', '--version'])}; rclone: {cmd_version(['rclone', 'version'])}; "
                f"s3s-fs: {cmd_version([S3S_FS, '--version'])}; aws-sdk-s3 {locked_version('aws-sdk-s3')}; "
                f"object_store {locked_version('object_store')}; opendal {locked_version('opendal')}")
    text = ("# Benchmarks\n\nMeasured by `scripts/bench` side by side in one run on one machine; absolute times on "
            "shared machines drift, the ratios are what to read. Re-run it on yours; `--full` runs the mirror's "
            "targets at full scale.\n\n"
            f"- Machine: {machine()}\n- Versions: {versions}\n"
            f"- Scale: {small:,} small objects, no-op over {noop:,}, large object {big_mib:,} MiB\n\n"
            "![ratios](benchmarks.png)\n\n" + "\n".join(parts))
    print(text)
    if doc != "-":
        with open(doc, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
