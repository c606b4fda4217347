"""Runs a command, then prints one JSON line: wall seconds, the child's peak RSS, exit code.

    python3 scripts/lib/measure.py OUT.json -- COMMAND ARGS...

The command's stdout goes to OUT.json's sibling OUT.stdout, its stderr passes through.
"""
import json
import resource
import subprocess
import sys
import time


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print("usage: measure.py OUT.json -- COMMAND ARGS...", file=sys.stderr)
        return 2
    out, cmd = sys.argv[1], sys.argv[3:]
    started = time.monotonic()
    with open(out.removesuffix(".json") + ".stdout", "wb") as stdout:
        rc = subprocess.call(cmd, stdout=stdout)
    secs = time.monotonic() - started
    # ru_maxrss of RUSAGE_CHILDREN is the largest of the waited-for children, in KiB on Linux.
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(out, "w") as f:
        json.dump({"secs": secs, "peak_rss_kib": rss, "rc": rc}, f)
    return rc


if __name__ == "__main__":
    sys.exit(main())
