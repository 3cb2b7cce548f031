#!/usr/bin/env bash
# Runs the benchmarks (benches/), after checking or installing their peers (scripts/deps.sh
# bench: Debian's libyuv, swscale and libjpeg-turbo, linked by the benchmarks only).
#
#   bash scripts/bench.sh [kernels|handoff]... [-- BENCH-ARGS...]
#
# With no name, runs them all. Each prints a Markdown table; BENCHMARKS.md holds the latest.
# The machine should be otherwise idle; the tables are ratios of contenders run interleaved in
# one process, which hold on a noisy machine better than absolute times.
set -euo pipefail

cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    PATH="$HOME/.cargo/bin:$PATH"
fi
names=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do names+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
[ ${#names[@]} -gt 0 ] || names=(kernels handoff)
bash scripts/deps.sh bench
for n in "${names[@]}"; do
    [ -f "benches/$n.rs" ] || { echo "bench: no benches/$n.rs" >&2; exit 2; }
    echo "==== cargo bench --bench $n"
    cargo bench --bench "$n" -- "$@"
done
