#!/usr/bin/env bash
# Stop the single-node Ceph started by start-rgw.sh: radosgw, the OSD and the mon, each by the pid
# file it wrote in STATE_DIR/run (never by process name, so other Ceph processes are left alone).
#
#   infra/ceph/stop-rgw.sh [STATE_DIR] [--purge]     # --purge also deletes STATE_DIR
set -euo pipefail

STATE=${1:-${NIANBAO_RGW_DIR:-/tmp/nianbao-rgw}}
PURGE=${2:-}

stop_pid_file() {
    local f=$1 pid
    [[ -f "$f" ]] || return 0
    pid=$(cat "$f")
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
        echo "stopped $(basename "$f" .pid) (pid $pid)"
    fi
    rm -f "$f"
}

# Gateway first (it talks to the OSD), then the OSDs, then the monitor.
stop_pid_file "$STATE/run/client.rgw.gw.pid"
for f in "$STATE"/run/osd.*.pid; do [[ -e "$f" ]] && stop_pid_file "$f"; done
for f in "$STATE"/run/mon.*.pid; do [[ -e "$f" ]] && stop_pid_file "$f"; done

if [[ "$PURGE" == "--purge" ]]; then
    rm -rf "$STATE"
    echo "removed $STATE"
fi
