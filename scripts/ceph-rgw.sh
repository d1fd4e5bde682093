#!/usr/bin/env bash
# A one-node Ceph cluster serving S3 on 127.0.0.1, for testing ama's S3
# backend against a real, independently written server.
#
#   scripts/ceph-rgw.sh install          install the Debian packages if missing (root)
#   scripts/ceph-rgw.sh start DIR [PORT] start mon + memstore OSD + radosgw in DIR
#   scripts/ceph-rgw.sh stop DIR         stop every daemon started in DIR, by its pid file
#   scripts/ceph-rgw.sh run CMD...       start in a fresh temporary directory, run CMD with
#                                        the variables of DIR/env exported, stop and remove the
#                                        directory whatever CMD did (or on a signal); exit as CMD
#
# `start` leaves DIR/env, a file of shell assignments for the test fixtures:
#   AMA_TEST_S3_ENDPOINT=http://127.0.0.1:PORT
#   AMA_TEST_S3_ACCESS_KEY=...   AMA_TEST_S3_SECRET_KEY=...
# Everything (config, keyrings, monitor store, logs, pid files, sockets)
# lives in DIR; the OSD keeps its objects in memory. Every daemon binds
# 127.0.0.1 only. `stop` leaves DIR in place (its logs help after a
# failure); remove it yourself. See docs/s3-servers.md.
set -euo pipefail

PACKAGES=(radosgw ceph-mon ceph-osd ceph-common)
ACCESS_KEY=ama-test-access-key
SECRET_KEY=ama-test-secret-key
RGW_NAME=client.rgw.ama

die() { echo "ceph-rgw.sh: $*" >&2; exit 1; }

install_packages() {
    local missing=()
    for cmd in radosgw ceph-mon ceph-osd ceph monmaptool ceph-authtool radosgw-admin; do
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "missing ${missing[*]}; run as root or: apt-get install ${PACKAGES[*]}"
    echo "ceph-rgw.sh: installing ${PACKAGES[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null; } ||
        die "cannot install ${PACKAGES[*]}"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for SECONDS WHAT COMMAND...: run COMMAND until it succeeds.
wait_for() {
    local limit=$1 what=$2
    shift 2
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || die "$what not up after ${limit}s; logs in $dir/log"
        sleep 0.5
    done
}

start() {
    dir=$(realpath -m "$1")
    local port=${2:-$(free_port)}
    [ -e "$dir/ceph.conf" ] && die "$dir already holds a cluster; stop it and use an empty directory"
    mkdir -p "$dir"/{run,log,mon,osd,rgw}
    local fsid mon1 mon2 conf="$dir/ceph.conf"
    fsid=$(cat /proc/sys/kernel/random/uuid)
    mon1=$(free_port)
    mon2=$(free_port)
    cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon2,v1:127.0.0.1:$mon1]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
public network = 127.0.0.1/32
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon data avail crit = 1
mon data avail warn = 2
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
mon cluster log file = $dir/log/cluster.log
crash dir = $dir/crash
log to stderr = false
err to stderr = false

[mon]
mon data = $dir/mon/\$id
keyring = $dir/mon.keyring

[osd]
osd data = $dir/osd/\$id
keyring = $dir/osd/\$id/keyring
osd objectstore = memstore
memstore device bytes = $((3 << 30))

[client.admin]
keyring = $dir/admin.keyring

[$RGW_NAME]
keyring = $dir/rgw.keyring
rgw data = $dir/rgw
rgw frontends = beast endpoint=127.0.0.1:$port
rgw thread pool size = 64
EOF
    local c=(-c "$conf")

    # Monitor.
    ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
    ceph-authtool --create-keyring "$dir/admin.keyring" --gen-key -n client.admin \
        --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
    ceph-authtool "$dir/mon.keyring" --import-keyring "$dir/admin.keyring" >/dev/null
    monmaptool --create --addv a "[v2:127.0.0.1:$mon2,v1:127.0.0.1:$mon1]" --fsid "$fsid" "$dir/monmap" >/dev/null
    ceph-mon "${c[@]}" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/mon.keyring"
    ceph-mon "${c[@]}" -i a
    wait_for 60 "ceph-mon" ceph "${c[@]}" --connect-timeout 5 mon stat

    # One OSD keeping its objects in memory.
    local uuid secret id
    uuid=$(cat /proc/sys/kernel/random/uuid)
    secret=$(ceph-authtool --gen-print-key)
    id=$(printf '{"cephx_secret": "%s"}' "$secret" | ceph "${c[@]}" osd new "$uuid" -i -)
    mkdir -p "$dir/osd/$id"
    ceph-authtool --create-keyring "$dir/osd/$id/keyring" --name "osd.$id" --add-key "$secret" >/dev/null
    ceph-osd "${c[@]}" -i "$id" --mkfs --osd-uuid "$uuid" 2>/dev/null
    ceph-osd "${c[@]}" -i "$id"
    wait_for 60 "ceph-osd" sh -c "ceph ${c[*]} osd stat -f json | grep -q '\"num_up_osds\":1'"

    # The S3 gateway.
    ceph "${c[@]}" auth get-or-create "$RGW_NAME" mon 'allow rw' osd 'allow rwx' -o "$dir/rgw.keyring"
    radosgw "${c[@]}" -n "$RGW_NAME"
    wait_for 120 "radosgw" python3 - "$port" <<'EOF'
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=2)
EOF
    radosgw-admin "${c[@]}" user create --uid=ama-test --display-name="ama tests" \
        --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null
    cat >"$dir/env" <<EOF
AMA_TEST_S3_ENDPOINT=http://127.0.0.1:$port
AMA_TEST_S3_ACCESS_KEY=$ACCESS_KEY
AMA_TEST_S3_SECRET_KEY=$SECRET_KEY
EOF
    echo "ceph-rgw.sh: radosgw $(radosgw --version | awk '{print $3}') serving S3 at http://127.0.0.1:$port ($dir)" >&2
}

stop() {
    dir=$(realpath -m "$1")
    [ -d "$dir/run" ] || return 0
    local file pid pids=()
    # The gateway first, the monitor last: each depends on the ones after it.
    for file in "$dir/run/$RGW_NAME.pid" "$dir"/run/osd.*.pid "$dir/run/mon.a.pid"; do
        [ -s "$file" ] || continue
        pid=$(cat "$file")
        kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    done
    local deadline=$((SECONDS + 20))
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                kill -KILL "$pid" 2>/dev/null || true
                break
            fi
            sleep 0.2
        done
    done
    rm -f "$dir"/run/*.pid
}

run() {
    local tmp rc=0
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/ama-ceph.XXXXXX")
    trap 'stop "$tmp"; rm -rf "$tmp"' EXIT
    trap 'exit 130' INT TERM
    start "$tmp"
    set -a
    . "$tmp/env"
    set +a
    "$@" || rc=$?
    exit "$rc"
}

case "${1:-}" in
    install) install_packages ;;
    start)
        [ $# -ge 2 ] || die "usage: $0 start DIR [PORT]"
        install_packages
        trap 'stop "$2"' EXIT # a start that fails half-way stops what it started
        start "$2" "${3:-}"
        trap - EXIT
        ;;
    stop) [ $# -ge 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
    run) [ $# -ge 2 ] || die "usage: $0 run CMD..."; shift; install_packages; run "$@" ;;
    *) die "usage: $0 install | start DIR [PORT] | stop DIR | run CMD..." ;;
esac
