#!/usr/bin/env bash
# Runs one of libmst's fuzz targets for a while and records what it did.
#
#   scripts/fuzz.sh TARGET MINUTES [LIBFUZZER-ARG...]
#
# TARGET:
#   api    c-tests/fuzz/fuzz_api.c: programs of C API calls (every exported function, a second
#          thread, callbacks), against libmst built with coverage; corpus c-tests/fuzz/corpus
#   mjpeg  the MJPEG decoder, differential against libjpeg (fuzz/src/mjpeg.rs); corpus
#          fuzz/corpus/mjpeg, seeded with tests/data/mjpeg/*.jpg
#   wav    the WAV parser `mst play` uses, and the WAV header round trip (fuzz/src/wav.rs)
#   files  the Y4M and WAV file sinks and PNG, written and parsed back (fuzz/src/files.rs)
#
# It installs what it needs (scripts/deps.sh fuzz: clang-14 and libFuzzer; the nightly Rust
# toolchain through rustup for the Rust targets, which build with cargo's -Zsanitizer=address),
# builds the target in $MST_FUZZ_DIR (default target/fuzz, a copy of the committed corpus
# included: new inputs land there, not in the source tree), runs libFuzzer for MINUTES, and
# prints executions, exec/s, coverage (libFuzzer's cov and ft), peak RSS and the crashes,
# whose inputs stay in $MST_FUZZ_DIR/artifacts/TARGET/. The summary is appended as one line to
# $MST_FUZZ_RESULTS (default target/fuzz/results.tsv): date, target, minutes, executions,
# exec/s, cov, ft, corpus size, crashes, the command.
#
# Memory is bounded: -rss_limit_mb=2048 and -malloc_limit_mb=1024 (an input that needs more
# is a finding). To add what a run found to the committed corpus, minimise first:
#   MST_FUZZ_MERGE=1 scripts/fuzz.sh TARGET 0
# merges the working corpus into the committed one (only inputs that add coverage).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
if [ $# -lt 2 ]; then sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2; fi
target=$1 minutes=$2
shift 2
case "$target" in api|mjpeg|wav|files) ;; *) echo "fuzz: unknown target '$target' (api, mjpeg, wav, files)" >&2; exit 2 ;; esac
case "$minutes" in ''|*[!0-9]*) echo "fuzz: MINUTES must be a whole number" >&2; exit 2 ;; esac

work=${MST_FUZZ_DIR:-$repo/target/fuzz}
results=${MST_FUZZ_RESULTS:-$work/results.tsv}
mkdir -p "$work"

bash scripts/deps.sh fuzz >&2
triple=x86_64-unknown-linux-gnu
# The flags cargo-fuzz uses: libFuzzer's coverage counters, the comparison hooks that let it
# solve magic numbers, and the pc table that its cov figure counts.
sancov="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
need_nightly() {
    if ! rustup toolchain list | grep -q '^nightly'; then
        echo "fuzz: installing the nightly toolchain (rustup)" >&2
        rustup toolchain install nightly --profile minimal
    fi
}

case "$target" in
api)
    need_nightly
    # libmst with coverage counters (no ASan on the Rust side: its runtime would not be
    # clang's), the harness with ASan+UBSan and libFuzzer.
    CARGO_TARGET_DIR="$work/api" RUSTFLAGS="$sancov" \
        cargo +nightly build --release --lib --target "$triple" >&2
    # A copy of the library for the fuzzer (renamed into place: a rebuild while a fuzzer runs
    # does not pull the library from under it).
    lib="$work/api-lib"
    mkdir -p "$lib"
    cp "$work/api/$triple/release/libmst.so" "$lib/libmst.so.1.new"
    mv "$lib/libmst.so.1.new" "$lib/libmst.so.1"
    ln -sf libmst.so.1 "$lib/libmst.so"
    bin="$work/fuzz_api"
    clang-14 -std=c11 -Wall -Wextra -Wpedantic -Werror -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
        c-tests/fuzz/fuzz_api.c -L"$lib" -lmst -lpthread -lm -Wl,-rpath,"$lib" -o "$bin.new"
    mv "$bin.new" "$bin"
    committed=c-tests/fuzz/corpus
    seeds=()
    ;;
*)
    need_nightly
    CARGO_TARGET_DIR="$work/rust" RUSTFLAGS="$sancov -Zsanitizer=address" \
        cargo +nightly build --manifest-path fuzz/Cargo.toml --release --features libfuzzer \
        --bin "$target" --target "$triple" >&2
    bin="$work/rust/$triple/release/$target"
    committed=fuzz/corpus/$target
    seeds=()
    if [ "$target" = mjpeg ]; then
        seeds=(tests/data/mjpeg)
    fi
    ;;
esac
mkdir -p "$committed"

corpus="$work/corpus/$target"
artifacts="$work/artifacts/$target/"
mkdir -p "$corpus" "$artifacts"

if [ -n "${MST_FUZZ_MERGE:-}" ]; then
    # Minimise: the committed corpus becomes the smallest set keeping all the coverage of
    # the committed and working corpora together.
    fresh="$work/merge-$target"
    rm -rf "$fresh" && mkdir -p "$fresh"
    "$bin" -merge=1 -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=20 "$fresh" "$committed" "$corpus" >&2
    rm -rf "$committed" && mv "$fresh" "$committed"
    echo "fuzz: $committed: $(find "$committed" -type f | wc -l) files, $(du -sh "$committed" | cut -f1)"
    exit 0
fi

cp -n "$committed"/* "$corpus"/ 2>/dev/null || true
log="$work/$target.log"
before=$(find "$artifacts" -type f | wc -l)
cmd=("$bin" -max_total_time=$((minutes * 60)) -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=1024
    -print_final_stats=1 -artifact_prefix="$artifacts" "$@" "$corpus" ${seeds[@]+"${seeds[@]}"})
echo "fuzz: ${cmd[*]}" >&2
set +e
"${cmd[@]}" >"$log" 2>&1
status=$?
set -e

stat() { awk -v k="stat::$1:" '$1 == k {print $2}' "$log" | tail -1; }
execs=$(stat number_of_executed_units)
rate=$(stat average_exec_per_sec)
rss=$(stat peak_rss_mb)
last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
# -fork=N (to fuzz on past crashes with -ignore_crashes=1) prints no final stats: the last
# status line says how far it got.
if [ -z "$execs" ]; then execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last"); fi
if [ -z "$rate" ]; then rate=$(sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p' <<<"$last"); fi
cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
files=$(find "$corpus" -type f | wc -l)
crashes=$(( $(find "$artifacts" -type f | wc -l) - before ))
echo "fuzz: $target: ${execs:-?} executions in $minutes min, ${rate:-?} exec/s, cov ${cov:-?} ft ${ft:-?}, corpus $files, peak RSS ${rss:-?} MB, exit $status"
if [ "$crashes" -gt 0 ] || [ "$status" -ne 0 ]; then
    echo "fuzz: $target found something (see $log):"
    grep -E 'ERROR: |contract violation|panicked|differs|SUMMARY' "$log" | head -5 || true
    ls -t "$artifacts" | head -"$((crashes > 0 ? crashes : 1))" | sed "s|^|fuzz:   $artifacts|"
fi
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$target" "$minutes" "${execs:-?}" \
    "${rate:-?}" "${cov:-?}" "${ft:-?}" "$files" "$status:$crashes" "scripts/fuzz.sh $target $minutes $*" >>"$results"
exit "$status"
