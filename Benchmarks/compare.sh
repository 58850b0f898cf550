#!/usr/bin/env bash
# AuditLog side by side with SQLite through GRDB (WAL, typed columns, the four indexes, batched
# prepared inserts): the same generated events (seed 1, 30 days), the same workloads, one table
# on stdout. Usage: Benchmarks/compare.sh [EVENTS] [DURABLE_BATCHES]
# (default 1000000 events; 32 tasks × DURABLE_BATCHES batches of 100 durable appends, default 20).
# A quick run: Benchmarks/compare.sh 100000 5. See docs/PERFORMANCE.md.
# A second table compares the same events, in the same run, with DuckDB (PyPI duckdb, installed
# when missing; AUDITLOG_NO_DUCKDB=1 skips it). The bulk and durable loads run 3 times each, alternating
# with SQLite's, and report the median (1 time above 2M events); AUDITLOG_BULK_RUNS=N overrides.
# AUDITLOG_FRAME_ENCODING=columns writes AuditLog's logs with column frames (docs/FORMAT.md).
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
batches=${2:-20}
scripts/install-deps
if ! dpkg -s libsqlite3-dev > /dev/null 2>&1; then
    SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get install -y libsqlite3-dev > /dev/null
fi
# The comparison and GRDB build only with AUDITLOG_BENCHMARKS set, in their own build folder.
AUDITLOG_BENCHMARKS=1 swift build -c release --product AuditLogCompare --scratch-path .build-bench >&2
peer=()
if [ -z "${AUDITLOG_NO_DUCKDB:-}" ]; then
    python3 -c "import duckdb" 2> /dev/null || python3 -m pip install --quiet duckdb >&2
    peer=(--duckdb Benchmarks/DuckDB/duckdb_peer.py)
fi
.build-bench/release/AuditLogCompare --events "$events" --durable-batches "$batches" ${AUDITLOG_BULK_RUNS:+--bulk-runs "$AUDITLOG_BULK_RUNS"} \
    ${AUDITLOG_FRAME_ENCODING:+--frame-encoding "$AUDITLOG_FRAME_ENCODING"} "${peer[@]}"
