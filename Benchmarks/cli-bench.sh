#!/usr/bin/env bash
# End-to-end figures through the `auditlog` tool (release build): NDJSON ingest, bytes on disk
# per event, verify and export throughput. Usage: Benchmarks/cli-bench.sh [EVENTS] [RUNS]
# (default 1000000 events, best of 3 runs). Prints one table; see docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
runs=${2:-3}
scripts/install-deps
swift build -c release --product auditlog >&2
bin="$(swift build -c release --show-bin-path)/auditlog"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" gen --count "$events" --seed 1 --end 2026-03-21T00:00:00Z > "$work/events.ndjson"
input_bytes=$(stat -c %s "$work/events.ndjson")

best() { sort -n | head -1; }
now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }

ingest_times=()
for ((i = 0; i < runs; i++)); do
    rm -rf "$work/log"
    t0=$(now); "$bin" ingest --dir "$work/log" "$work/events.ndjson" > /dev/null; t1=$(now)
    ingest_times+=("$(calc "$t1 - $t0")")
done
ingest_s=$(printf '%s\n' "${ingest_times[@]}" | best)

disk_bytes=$(cat "$work"/log/segments/*.seg | wc -c)
index_bytes=$(cat "$work"/log/segments/*.idx 2>/dev/null | wc -c)

verify_times=()
for ((i = 0; i < runs; i++)); do
    t0=$(now); "$bin" verify --dir "$work/log" --json > "$work/verify.json"; t1=$(now)
    verify_times+=("$(calc "$t1 - $t0")")
done
verify_s=$(printf '%s\n' "${verify_times[@]}" | best)
record_bytes=$(python3 -c "import json; print(json.load(open('$work/verify.json'))['record_bytes'])")

export_times=()
for ((i = 0; i < runs; i++)); do
    t0=$(now); "$bin" export --dir "$work/log" --format ndjson > /dev/null; t1=$(now)
    export_times+=("$(calc "$t1 - $t0")")
done
export_s=$(printf '%s\n' "${export_times[@]}" | best)

printf '%-44s %s\n' "workload ($events events, best of $runs)" "result"
printf '%-44s %.0f events/s (%.1f MB/s of NDJSON)\n' "auditlog ingest (NDJSON file, fsync per batch)" \
    "$(calc "$events / $ingest_s")" "$(calc "$input_bytes / $ingest_s / 1000000")"
printf '%-44s %.1f bytes/event (%d bytes)\n' "bytes on disk: segments" "$(calc "$disk_bytes / $events")" "$disk_bytes"
printf '%-44s %.1f bytes/event (%d bytes)\n' "bytes on disk: index files" "$(calc "$index_bytes / $events")" "$index_bytes"
printf '%-44s %.0f MB/s of record bytes (%.2f s)\n' "auditlog verify" "$(calc "$record_bytes / $verify_s / 1000000")" "$verify_s"
printf '%-44s %.0f events/s\n' "auditlog export --format ndjson" "$(calc "$events / $export_s")"
