#!/usr/bin/env bash
# What running as a service costs (docs/PERFORMANCE.md, "Running as a service"): builds the
# release binary and runs Benchmarks/service/bench.py with it. REQUESTS defaults to 2000.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product auditlog >&2
python3 Benchmarks/service/bench.py "$(swift build -c release --show-bin-path)/auditlog" "${1:-2000}"
