#!/usr/bin/env bash
# The archive against moto on loopback (docs/PERFORMANCE.md, "Archive"): appends with and
# without uploads, upload throughput, queries on an evicted log (cold and warm cache, requests
# per query) with no added delay and with 20 ms a request, a fleet of three logs.
# Usage: Benchmarks/archive.sh [EVENTS] [FLEET_EVENTS]   (default 1000000 and 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
fleet=${2:-1000000}
scripts/install-deps
AUDITLOG_BENCHMARKS=1 swift build -c release --product ArchiveBench --scratch-path .build-bench >&2
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
moto_server -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
pids+=($!)
until python3 -c "import socket; socket.create_connection(('127.0.0.1',$port))" 2>/dev/null; do sleep 0.1; done
creds=$(python3 scripts/moto-setup.py "http://127.0.0.1:$port" bench)
export AWS_ACCESS_KEY_ID=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['access_key'])" "$creds")
export AWS_SECRET_ACCESS_KEY=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['secret_key'])" "$creds")
# Two proxies in front of moto: one counting requests, one also adding 20 ms to each.
for delay in 0 20; do
    python3 scripts/flaky-s3-proxy.py "http://127.0.0.1:$port" 0 "$delay" > "$work/proxy-$delay" 2>&1 &
    pids+=($!)
done
for delay in 0 20; do until [ -s "$work/proxy-$delay" ]; do sleep 0.1; done; done
export ARCHIVE_FAST_ENDPOINT="http://127.0.0.1:$(head -1 "$work/proxy-0")"
export ARCHIVE_SLOW_ENDPOINT="http://127.0.0.1:$(head -1 "$work/proxy-20")"
.build-bench/release/ArchiveBench "$events" "$fleet"
