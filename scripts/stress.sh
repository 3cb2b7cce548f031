#!/usr/bin/env bash
# The race program (c-tests/stress/stress.c): THREADS threads for SECONDS seconds of random
# clone, stop, enable, constraints, processor create/read/wakeup/close/free, generator
# write/close/mute on shared tracks, checking every processor's counters; built and run in one
# of three modes:
#
#   bash scripts/stress.sh [--mode plain|asan|tsan] [--threads 16] [--seconds 60] [--seed N]
#                          [--stall-seconds 30]
#
#   plain  the release library (as `make build` makes it), the program at -O2.
#   asan   the debug library (debug assertions, overflow checks), the program with ASan + UBSan
#          as c-tests' sanitize stage builds it (MST_SANITIZE); leaks are errors.
#   tsan   ThreadSanitizer over both sides: the library built by Rust nightly with
#          -Zsanitizer=thread and -Zbuild-std (std instrumented too) as a static library, the
#          program compiled by gcc -fsanitize=thread, and both linked against rustc's own TSAN
#          runtime (librustc-nightly_rt.tsan.a in the nightly sysroot): it has every __tsan_*
#          entry point nightly's LLVM emits, which the runtimes of older compilers lack.
#          Needs the nightly toolchain with rust-src (installed here with rustup if missing).
#
# Everything is built under build/stress-MODE (the TSAN library under
# $CARGO_TARGET_DIR/tsan, about 1 GB). The run's output goes to the terminal and to
# build/stress-MODE/stress.log. Exit status: the program's (0: no finding, no sanitizer report).
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    PATH="$HOME/.cargo/bin:$PATH"
fi
target_dir=${CARGO_TARGET_DIR:-$repo/target}

mode=plain
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --mode) mode=${2:?--mode needs a value}; shift 2 ;;
        --threads|--seconds|--seed|--stall-seconds) args+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "stress.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
case $mode in plain|asan|tsan) ;; *) echo "stress.sh: --mode is plain, asan or tsan" >&2; exit 2 ;; esac
[[ " ${args[*]} " == *" --threads "* ]] || args+=(--threads 16)
[[ " ${args[*]} " == *" --seconds "* ]] || args+=(--seconds 60)

build_dir=$repo/build/stress-$mode
source=$repo/c-tests/stress/stress.c
env_vars=()

# cmake_program LIBDIR CMAKE-ARGS...: c-tests' CMake project, its `stress` target only.
cmake_program() {
    local libdir=$1
    shift
    cmake -S c-tests -B "$build_dir" --log-level=WARNING -DMST_ROOT="$repo" -DMST_LIB_DIR="$libdir" "$@"
    cmake --build "$build_dir" --target stress
}

case $mode in
    plain)
        make --no-print-directory build
        cmake_program "$target_dir/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo
        ;;
    asan)
        cargo build --lib
        cmake_program "$target_dir/debug" -DMST_SANITIZE=ON
        # As c-tests/CMakeLists.txt runs its MST_SANITIZE tests.
        env_vars=(
            "ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:strict_string_checks=1:detect_stack_use_after_return=1"
            "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
        ;;
    tsan)
        if ! rustup run nightly rustc --version >/dev/null 2>&1; then
            echo "stress.sh: --mode tsan needs Rust nightly: rustup toolchain install nightly --component rust-src" >&2
            exit 1
        fi
        sysroot=$(rustup run nightly rustc --print sysroot)
        if [ ! -d "$sysroot/lib/rustlib/src/rust/library" ]; then
            echo "-- installing rust-src for nightly (-Zbuild-std compiles std from it)"
            rustup component add rust-src --toolchain nightly || {
                echo "stress.sh: nightly has no rust-src and rustup could not add it" >&2; exit 1; }
        fi
        host=$(rustup run nightly rustc -vV | awk '/^host:/ { print $2 }')
        runtime=$sysroot/lib/rustlib/$host/lib/librustc-nightly_rt.tsan.a
        if [ ! -f "$runtime" ]; then
            echo "stress.sh: $runtime is missing: this nightly has no TSAN runtime for $host" >&2
            exit 1
        fi
        tsan_target=$target_dir/tsan
        # --target keeps RUSTFLAGS off the build scripts; -Zbuild-std instruments std too, so
        # its channels, mutexes and Arc are seen (an uninstrumented std gives false reports).
        # `cargo rustc` prints the static library's native libraries, as `make build` does.
        mkdir -p "$build_dir"
        CARGO_TARGET_DIR=$tsan_target RUSTFLAGS="-Zsanitizer=thread" \
            cargo +nightly rustc -Zbuild-std --target "$host" --release --lib --crate-type staticlib -- \
            --print native-static-libs="$build_dir/native-static-libs.txt"
        # The program: instrumented by gcc, linked without gcc's libtsan (-fsanitize=thread only
        # at compile time) but with rustc's runtime, whole. The runtime's functions (its
        # interceptors: malloc, pthread_*, ...) are exported, as clang's driver does, so the
        # libraries libmst dlopens (TurboJPEG, alsa-lib's plugins) call them too; exporting
        # everything (-rdynamic) would keep alsa-rs's UMP functions, which Debian 12's alsa-lib
        # lacks, from --gc-sections.
        gcc -std=c11 -Wall -Wextra -Wpedantic -Werror -O1 -g -fsanitize=thread -fno-omit-frame-pointer \
            -I include -c "$source" -o "$build_dir/stress.o"
        # (nm fails on the archive's members without symbols, hence the || true.)
        runtime_symbols=$(nm -g --defined-only "$runtime" 2>/dev/null || true)
        { echo "{"; awk 'NF == 3 && $2 ~ /^[TWi]$/ { print "  " $3 ";" }' <<<"$runtime_symbols" | sort -u
          echo "};"; } > "$build_dir/tsan.dynamic-list"
        grep -q '^  malloc;$' "$build_dir/tsan.dynamic-list" || {
            echo "stress.sh: found no interceptors in $runtime" >&2; exit 1; }
        # shellcheck disable=SC2046
        gcc -Wl,--gc-sections -Wl,--dynamic-list="$build_dir/tsan.dynamic-list" -o "$build_dir/stress" \
            "$build_dir/stress.o" "$tsan_target/$host/release/libmst.a" \
            -Wl,--whole-archive "$runtime" -Wl,--no-whole-archive \
            $(cat "$build_dir/native-static-libs.txt") -lpthread -ldl -lm
        tsan_options=halt_on_error=0:second_deadlock_stack=1:history_size=4
        # Third-party code only (alsa-lib), each entry with its reason.
        supp=$repo/c-tests/stress/tsan.supp
        if [ -f "$supp" ]; then tsan_options+=:suppressions=$supp; fi
        env_vars=("TSAN_OPTIONS=$tsan_options")
        ;;
esac

echo "-- $build_dir/stress ${args[*]} (mode $mode)"
set +e
env "${env_vars[@]}" "$build_dir/stress" "${args[@]}" 2>&1 | tee "$build_dir/stress.log"
status=${PIPESTATUS[0]}
set -e
# A sanitizer report in a run whose checks passed still fails it.
if [ "$status" -eq 0 ] && grep -q -E '^(==[0-9]+==ERROR|WARNING: ThreadSanitizer|SUMMARY: (Address|Undefined|Thread)Sanitizer)|runtime error:' "$build_dir/stress.log"; then
    echo "stress.sh: a sanitizer report (above) fails the run"
    status=1
fi
echo "stress.sh: mode $mode, exit status $status"
exit "$status"
