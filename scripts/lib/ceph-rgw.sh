#!/usr/bin/env bash
# A real Ceph RADOS Gateway on a throw-away one-node RADOS cluster: one monitor, one OSD on
# memstore (objects in RAM, 4 GiB cap), no manager, cluster auth off, everything on 127.0.0.1.
# Creates the S3 user the tests sign as. Needs the Debian packages radosgw, ceph-mon, ceph-osd.
#
#   ceph-rgw.sh start DIR RGW_PORT MON_V2_PORT MON_V1_PORT ACCESS_KEY SECRET_KEY
#   ceph-rgw.sh stop DIR
#
# Each daemon forks into the background and writes its PID under DIR/run; `stop` ends them by
# those PIDs (gateway, then OSD, then monitor) and removes all of DIR but its logs.
set -euo pipefail

stop() {
  local dir=$1 n f p
  for n in client.rgw.a osd.0 mon.a; do
    f="$dir/run/$n.pid"
    [[ -f "$f" ]] || continue
    p=$(cat "$f")
    kill "$p" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  # The logs stay for whoever reports a failure; the rest goes.
  rm -rf "$dir"/{mon,osd,rgw,run} "$dir/monmap"
}

start() {
  local dir=$1 rgw_port=$2 mon_v2=$3 mon_v1=$4 access=$5 secret=$6
  rm -rf "$dir"
  mkdir -p "$dir"/{log,mon,osd,run,rgw}
  local fsid monaddr
  fsid=$(cat /proc/sys/kernel/random/uuid)
  monaddr="[v2:127.0.0.1:$mon_v2,v1:127.0.0.1:$mon_v1]"
  # Settings each found by a failure: `ms mon client mode = crc` (else the gateway loops on
  # auth error -13 with auth off), no PG autoscaling (there is no manager to run it), and a
  # short paxos interval (start-up 13 s -> 2 s).
  cat >"$dir/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = $monaddr
public addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
keyring = /dev/null
mon data avail crit = 0
mon data avail warn = 0
paxos propose interval = 0.05
[mon.a]
mon data = $dir/mon
[osd.0]
osd data = $dir/osd
osd objectstore = memstore
memstore device bytes = 4294967296
osd class load list = *
osd class default list = *
[client.rgw.a]
# tcp_nodelay=1: beast's default leaves Nagle's algorithm on, so an answer on a kept-alive
# connection that ends in a small segment waits for the client's delayed ACK, about 40 ms
# per small GET or listing page (measured here with curl and every S3 client alike).
rgw frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw data = $dir/rgw
rgw dns name = localhost
CONF
  export CEPH_CONF="$dir/ceph.conf"
  monmaptool --create --clobber --fsid "$fsid" --addv a "$monaddr" "$dir/monmap" >/dev/null
  ceph-mon --id a --mkfs --monmap "$dir/monmap" --keyring /dev/null
  ceph-mon --id a
  ceph --connect-timeout 30 osd create >/dev/null
  ceph osd crush add osd.0 1 root=default host=localhost >/dev/null 2>&1
  ceph-osd --id 0 --mkfs >/dev/null 2>&1
  ceph-osd --id 0
  local up=0
  for _ in $(seq 1 300); do
    if ceph osd dump 2>/dev/null | grep -q '^osd.0 up *in'; then up=1; break; fi
    sleep 0.2
  done
  ((up)) || { echo "ceph-rgw: osd.0 did not come up" >&2; return 1; }
  radosgw -n client.rgw.a
  radosgw-admin user create --uid=testid --display-name=tester \
    --access-key="$access" --secret-key="$secret" >/dev/null
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) echo "usage: $0 start DIR RGW_PORT MON_V2_PORT MON_V1_PORT ACCESS SECRET | stop DIR" >&2; exit 2 ;;
esac
