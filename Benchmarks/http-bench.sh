#!/usr/bin/env bash
# HTTP figures with wrk on loopback against `auditlog serve` (release build):
#   GET  /v1/events?verdict=block&since=1h   (a log of EVENTS events over the last 24 hours)
#   POST /v1/events with batches of 100 NDJSON events (durability: each batch synced)
# Usage: Benchmarks/http-bench.sh [EVENTS] [SECONDS] [CONNECTIONS]
# (default 1000000 events, 15 s per run, 32 connections). Prints requests/s and latency
# percentiles as wrk reports them; see docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
seconds=${2:-15}
connections=${3:-32}
scripts/install-deps
command -v wrk > /dev/null || { sudo -n true 2> /dev/null && SUDO=sudo || SUDO=; $SUDO apt-get install -y wrk > /dev/null; }
swift build -c release --product auditlog >&2
bin="$(swift build -c release --show-bin-path)/auditlog"
work=$(mktemp -d)
port=${AUDITLOG_BENCH_PORT:-18080}
token=bench-token
server=
cleanup() { [ -n "$server" ] && kill "$server" 2> /dev/null; wait 2> /dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$bin" gen --count "$events" --seed 1 --days 1 --end "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$work/events.ndjson"
"$bin" ingest --dir "$work/log" "$work/events.ndjson" > /dev/null
"$bin" gen --count 100 --seed 2 --days 1 | sed 's/"id":"[^"]*",//' > "$work/batch.ndjson"
cat > "$work/post.lua" <<LUA
local f = io.open("$work/batch.ndjson", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/x-ndjson"
wrk.headers["Authorization"] = "Bearer $token"
LUA

AUDITLOG_API_TOKEN=$token "$bin" serve --dir "$work/log" --port "$port" 2> "$work/serve.err" &
server=$!
for _ in $(seq 100); do grep -q serving "$work/serve.err" 2> /dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"
matches=$(curl -s -H "Authorization: Bearer $token" "$base/v1/events?verdict=block&since=1h&limit=1000" | python3 -c "import json,sys; print(len(json.load(sys.stdin)['data']))")
echo "log: $events events over 24 h; blocked in the last hour (first page of up to 1000): $matches"

echo "== GET /v1/events?verdict=block&since=1h (limit 50), $connections connections, ${seconds}s"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$base/v1/events?verdict=block&since=1h"
echo "== POST /v1/events, 100 events a request, $connections connections, ${seconds}s"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "$base/v1/events"
curl -s "$base/metrics" | grep -E '^auditlog_(appended_events_total|append_rejected_total|last_seq) '
