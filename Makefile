# Shortcuts for the scripts; each works on its own too (see README.md and docs/).
.PHONY: test lint reliability fuzz bench bench-check bench-baseline

test:          ## the test suite, as CI runs it (short reliability mode included)
	scripts/test

lint:          ## swift format lint against .swift-format (CI runs it first)
	scripts/lint

reliability:   ## the long reliability mode: 220 kills, 220 power cuts, 1M fuzz inputs, TSan (docs/RELIABILITY.md)
	scripts/reliability

fuzz:          ## libFuzzer on the decoders, 1,000,000 runs
	scripts/fuzz

bench:         ## AuditLog beside SQLite (GRDB), one table (docs/PERFORMANCE.md)
	Benchmarks/compare.sh

bench-check:   ## allocations of the hot paths against Benchmarks/Thresholds (exit 2 on a regression)
	scripts/bench-check

bench-baseline: ## store the current allocation counts as the thresholds bench-check uses
	scripts/bench-check --update
