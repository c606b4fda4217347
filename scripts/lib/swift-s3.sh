#!/usr/bin/env bash
# OpenStack Swift (Debian's packages) with its S3 layer (s3api) and tempauth: one replica,
# one device, every daemon on 127.0.0.1. Needs the Debian packages swift swift-proxy
# swift-account swift-container swift-object memcached.
#
#   swift-s3.sh start DIR S3_PORT OBJECT_PORT CONTAINER_PORT ACCOUNT_PORT MEMCACHED_PORT
#   swift-s3.sh stop DIR
#
# S3 credentials: access key `test:tester`, secret `testing` (tempauth's user). Each daemon's
# PID is written under DIR/run; `stop` ends them by those PIDs and removes all of DIR but
# its logs.
set -euo pipefail

stop() {
  local dir=$1 f p
  for f in "$dir"/run/*.pid; do
    [[ -f "$f" ]] || continue
    p=$(cat "$f")
    kill "$p" 2>/dev/null || continue
    for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "$dir"/{etc,node,run}
}

start() {
  local dir=$1 s3=$2 object=$3 container=$4 account=$5 memcached=$6 n port user
  rm -rf "$dir"
  mkdir -p "$dir"/{etc,node/d1,run,log}
  user=$(id -un)
  for n in object container account; do
    case $n in object) port=$object ;; container) port=$container ;; account) port=$account ;; esac
    swift-ring-builder "$dir/etc/$n.builder" create 4 1 1 >/dev/null
    swift-ring-builder "$dir/etc/$n.builder" add "r1z1-127.0.0.1:$port/d1" 100 >/dev/null
    swift-ring-builder "$dir/etc/$n.builder" rebalance >/dev/null
    # Logging to a UDP port nothing reads keeps the daemons off syslog.
    cat >"$dir/etc/$n-server.conf" <<CONF
[DEFAULT]
devices = $dir/node
mount_check = false
bind_ip = 127.0.0.1
bind_port = $port
workers = 1
swift_dir = $dir/etc
user = $user
log_udp_host = 127.0.0.1
log_udp_port = 9
[pipeline:main]
pipeline = $n-server
[app:$n-server]
use = egg:swift#$n
CONF
  done
  # The proxy pipeline of a stock Swift with s3api; swift_dir also holds swift.conf, so the
  # cluster's hash prefix is its own rather than the package's /etc/swift.
  cat >"$dir/etc/swift.conf" <<CONF
[swift-hash]
swift_hash_path_suffix = ferry-test-$RANDOM
swift_hash_path_prefix = ferry-test-$RANDOM
[storage-policy:0]
name = Policy-0
default = yes
CONF
  cat >"$dir/etc/proxy-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $s3
workers = 1
swift_dir = $dir/etc
user = $user
log_udp_host = 127.0.0.1
log_udp_port = 9
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl s3api tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$memcached
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_object_versioning = true
[filter:symlink]
use = egg:swift#symlink
CONF
  memcached -l 127.0.0.1 -p "$memcached" -U 0 -u "$user" -P "$dir/run/memcached.pid" -d
  for n in object container account proxy; do
    nohup "swift-$n-server" "$dir/etc/$n-server.conf" -v >"$dir/log/$n.log" 2>&1 &
    echo $! >"$dir/run/$n.pid"
  done
}

case ${1:-} in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) echo "usage: swift-s3.sh start DIR S3_PORT OBJECT_PORT CONTAINER_PORT ACCOUNT_PORT MEMCACHED_PORT | stop DIR" >&2; exit 2 ;;
esac
