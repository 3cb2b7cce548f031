#!/usr/bin/env bash
# The soak program (c-tests/stress/soak.c): 8 processors on paced 30 fps sources (some scaled,
# decimated, latest-only) for MINUTES minutes against the release library, sampling the
# process's RSS and open descriptors; fails when, after the warm-up, the RSS least-squares
# slope is above MAX-RSS-SLOPE KB/min or the descriptors grow at all.
#
#   bash scripts/soak.sh [--minutes 10] [--warmup-seconds 60] [--sample-seconds 5]
#                        [--max-rss-slope 64]
#
# Built under build/stress-plain (as scripts/stress.sh's plain mode); the output goes to the
# terminal and to build/stress-plain/soak.log.
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    PATH="$HOME/.cargo/bin:$PATH"
fi
target_dir=${CARGO_TARGET_DIR:-$repo/target}
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --minutes|--warmup-seconds|--sample-seconds|--max-rss-slope) args+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "soak.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ " ${args[*]} " == *" --minutes "* ]] || args+=(--minutes 10)

build_dir=$repo/build/stress-plain
make --no-print-directory build
cmake -S c-tests -B "$build_dir" --log-level=WARNING -DMST_ROOT="$repo" \
    -DMST_LIB_DIR="$target_dir/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build_dir" --target soak
echo "-- $build_dir/soak ${args[*]}"
set +e
"$build_dir/soak" "${args[@]}" 2>&1 | tee "$build_dir/soak.log"
status=${PIPESTATUS[0]}
set -e
echo "soak.sh: exit status $status"
exit "$status"
