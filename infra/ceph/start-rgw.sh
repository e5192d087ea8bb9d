#!/usr/bin/env bash
# Start a single-node Ceph RADOS Gateway for the rgw tests (CI and local), idempotently.
#
#   eval "$(infra/ceph/start-rgw.sh [STATE_DIR])"     # default STATE_DIR: /tmp/nianbao-rgw
#
# Installs the Debian packages if missing, then runs one mon, one memstore OSD (data in RAM)
# and radosgw (beast on 127.0.0.1:$NIANBAO_RGW_PORT, default 7480) from STATE_DIR, creates the
# S3 user nianbao / nianbao-secret, waits until S3 answers and prints `export ...` lines on stdout
# (everything else goes to stderr). Run it again: if the gateway answers, it only prints the
# exports. If something is half up, it stops what it started before (by pid file) and starts
# fresh: memstore keeps nothing across restarts anyway. Stop with infra/ceph/stop-rgw.sh.
#
# Environment: NIANBAO_RGW_PORT (7480), NIANBAO_RGW_MEMSTORE_MB (1024),
# NIANBAO_RGW_TIMEOUT seconds to wait for S3 (120).
set -euo pipefail

STATE=${1:-${NIANBAO_RGW_DIR:-/tmp/nianbao-rgw}}
PORT=${NIANBAO_RGW_PORT:-7480}
MON_V2=${NIANBAO_RGW_MON_V2_PORT:-3300}
MON_V1=${NIANBAO_RGW_MON_V1_PORT:-6789}
MEMSTORE_MB=${NIANBAO_RGW_MEMSTORE_MB:-1024}
TIMEOUT=${NIANBAO_RGW_TIMEOUT:-120}
ACCESS_KEY=nianbao
SECRET_KEY=nianbao-secret
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ENDPOINT="http://127.0.0.1:${PORT}"
CONF="$STATE/ceph.conf"

log() { printf '[start-rgw %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

print_env() {
    cat <<EOF
export NIANBAO_TEST_S3_ENDPOINT=${ENDPOINT}
export NIANBAO_TEST_RGW=1
export NIANBAO_RGW_ENDPOINT=${ENDPOINT}
export NIANBAO_TEST_S3_ACCESS_KEY=${ACCESS_KEY}
export NIANBAO_TEST_S3_SECRET_KEY=${SECRET_KEY}
export NIANBAO_TEST_S3_REGION=us-east-1
EOF
}

s3_answers() {
    # Anonymous ListBuckets: RGW answers 200 with an empty list once it is serving.
    local code
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$ENDPOINT/" 2>/dev/null || true)
    [[ "$code" == 200 || "$code" == 403 ]]
}

# --- 1. packages ------------------------------------------------------------------------------
missing=()
for bin in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool; do
    command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        log "missing ${missing[*]}; run as root or: sudo apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw ceph-common"
        exit 1
    fi
    t=$(now)
    log "installing ceph-mon ceph-osd radosgw ceph-common (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends ceph-mon ceph-osd radosgw ceph-common >&2; then
        apt-get update -q >&2
        apt-get install -y -q --no-install-recommends ceph-mon ceph-osd radosgw ceph-common >&2
    fi
    log "installed in $(since "$t") s"
fi

# --- 2. already up? ---------------------------------------------------------------------------
if [[ -f "$CONF" ]] && s3_answers \
    && radosgw-admin -c "$CONF" user info --uid="$ACCESS_KEY" >/dev/null 2>&1; then
    log "already running at $ENDPOINT (state $STATE)"
    print_env
    exit 0
fi
if [[ -d "$STATE" ]]; then
    log "found a stopped or partial cluster in $STATE: stopping it and starting fresh"
    "$HERE/stop-rgw.sh" "$STATE" >&2 || true
    rm -rf "$STATE"
fi
if s3_answers; then
    log "something else already answers on $ENDPOINT; set NIANBAO_RGW_PORT to another port"
    exit 1
fi

# --- 3. configure ----------------------------------------------------------------------------
t_start=$(now)
mkdir -p "$STATE"/{run,log,crash,mon,osd/ceph-0,rgw}
FSID=$(cat /proc/sys/kernel/random/uuid)
sed -e "s|@FSID@|$FSID|g" -e "s|@STATE@|$STATE|g" -e "s|@PORT@|$PORT|g" \
    -e "s|@MON_V2@|$MON_V2|g" -e "s|@MON_V1@|$MON_V1|g" \
    -e "s|@MEMSTORE_BYTES@|$((MEMSTORE_MB * 1024 * 1024))|g" \
    "$HERE/ceph.conf.in" >"$CONF"
# The ceph CLI tools also read /etc/ceph/ceph.conf by default; every call here passes -c.

# --- 4. monitor ------------------------------------------------------------------------------
monmaptool --create --addv a "[v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]" --fsid "$FSID" "$STATE/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$STATE/monmap" >&2
ceph-mon -c "$CONF" -i a >&2
for _ in $(seq 1 100); do
    ceph -c "$CONF" --connect-timeout 2 health >/dev/null 2>&1 && break
    sleep 0.2
done
ceph -c "$CONF" --connect-timeout 5 health >/dev/null
log "mon up after $(since "$t_start") s"

# --- 5. OSD (memstore) -----------------------------------------------------------------------
OSD_ID=$(ceph -c "$CONF" osd create)
ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs >&2 2>/dev/null
ceph-osd -c "$CONF" -i "$OSD_ID" >&2
for _ in $(seq 1 150); do
    [[ $(ceph -c "$CONF" osd stat -f json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("num_up_osds", 0))' 2>/dev/null) == 1 ]] && break
    sleep 0.2
done
log "osd.$OSD_ID up after $(since "$t_start") s"

# --- 6. radosgw ------------------------------------------------------------------------------
radosgw -c "$CONF" -n client.rgw.gw >&2
deadline=$((SECONDS + TIMEOUT))
until s3_answers; do
    if ((SECONDS > deadline)); then
        log "radosgw did not answer on $ENDPOINT within ${TIMEOUT} s; see $STATE/log/client.rgw.gw.log"
        tail -n 20 "$STATE/log/client.rgw.gw.log" >&2 || true
        exit 1
    fi
    sleep 0.2
done
log "radosgw answers on $ENDPOINT after $(since "$t_start") s"

# --- 7. S3 user ------------------------------------------------------------------------------
radosgw-admin -c "$CONF" user info --uid="$ACCESS_KEY" >/dev/null 2>&1 ||
    radosgw-admin -c "$CONF" user create --uid="$ACCESS_KEY" --display-name="nianbao tests" \
        --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null
log "ready in $(since "$t_start") s (state $STATE)"
print_env
