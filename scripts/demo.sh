#!/usr/bin/env bash
# Builds the release library and examples/demo.c, then runs the demo in out/, where it writes
# its results. Arguments are passed to the demo.
#   scripts/demo.sh [DEMO-ARGS...]        (or: make demo DEMO_ARGS="...")
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    PATH="$HOME/.cargo/bin:$PATH"
fi
release=${CARGO_TARGET_DIR:-$repo/target}/release

# Progress: a line per stage with the time so far (a first build takes minutes; cargo shows
# its own progress meanwhile). The demo prints what it starts and what it wrote.
stage_count=4
stage_number=0
stage() {
    stage_number=$((stage_number + 1))
    printf 'demo [%d/%d, %ds]: %s\n' "$stage_number" "$stage_count" "$SECONDS" "$*"
}

if [ ! -f examples/demo.c ]; then
    echo "demo: examples/demo.c does not exist, so there is no demo to run yet" >&2
    exit 1
fi
stage "checking the build dependencies (scripts/deps.sh build)"
bash scripts/deps.sh build
stage "building the release library (make build; the first build takes a few minutes)"
make --no-print-directory build

# Programs linked with libmst ask for its SONAME, libmst.so.<major>; cargo only writes libmst.so.
major=$(sed -n 's/^#define MST_VERSION_MAJOR \([0-9]*\)$/\1/p' include/mst.h)
bin=$repo/build/demo
mkdir -p "$bin" out
ln -sfn "$release/libmst.so" "$bin/libmst.so.$major"
stage "compiling examples/demo.c into build/demo/demo"
cc -std=c11 -Wall -Wextra -Wpedantic -O2 -g -I include examples/demo.c -o "$bin/demo" \
    -L "$release" -lmst -lpthread -lm

stage "running build/demo/demo${*:+ $*} in out/"
(cd out && LD_LIBRARY_PATH="$bin" "$bin/demo" "$@")
echo "demo: done in ${SECONDS}s; results are in $repo/out/:"
ls -l out
