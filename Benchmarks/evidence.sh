#!/usr/bin/env bash
# What the Merkle tree and signed checkpoints cost: append throughput with and without the
# tree, inclusion and consistency proofs on a large log, checkpoint signing. Release build.
# Usage: Benchmarks/evidence.sh [EVENTS]   (default 10000000; see docs/PERFORMANCE.md)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps
AUDITLOG_BENCHMARKS=1 swift build -c release --product EvidenceBench --scratch-path .build-bench >&2
.build-bench/release/EvidenceBench "${1:-10000000}"
