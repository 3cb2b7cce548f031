#!/usr/bin/env bash
# cargo-test-in-vm.sh - build a crate's test executables on the host and run them all inside
# ONE VM boot (the boot is most of the cost), with VMTEST=1.
#
# usage: cargo-test-in-vm.sh [run-in-vm options] CRATE_DIR [CARGO-ARGS...] [-- TEST-ARGS...]
#
#   CARGO-ARGS go to `cargo test --no-run` (e.g. --test vm_drivers, --release); TEST-ARGS to
#   every test executable, after --test-threads=1 (unless TEST-ARGS set it): the tests share
#   /dev/video0 and the sound cards, so they run one at a time.
#   The guest prints cargo's "Running ..." line and libtest's normal output for each
#   executable, so the log reads like `cargo test`. RUST_BACKTRACE=1 in the guest.
#   --extra DIR (repeatable) copies DIR into the payload as ./$(basename DIR), for programs the
#   tests run (their shared libraries are found by ldd like the tests', rpath $ORIGIN included).
#   Exit status: 0 if every executable passed, 1 if any failed; otherwise run-in-vm.sh's
#   (124 timeout, 125 no report, 126 module load, 2 harness error).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { printf 'cargo-test-in-vm: %s\n' "$@" >&2; exit 2; }

VMOPTS=() EXTRA=()
while [[ $# -gt 0 && $1 == --* ]]; do
    case $1 in
        --no-tools|--kmsg|--bzimage) VMOPTS+=("$1"); shift;;
        --extra) [[ $# -ge 2 && -d $2 ]] || die "--extra needs a directory"; EXTRA+=("$(realpath "$2")"); shift 2;;
        --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;;
        --) die "usage: cargo-test-in-vm.sh [run-in-vm options] CRATE_DIR [CARGO-ARGS...] [-- TEST-ARGS...]";;
        *) [[ $# -ge 2 ]] || die "option $1 needs an argument"; VMOPTS+=("$1" "$2"); shift 2;;
    esac
done
[[ $# -ge 1 && -f $1/Cargo.toml ]] \
    || die "usage: cargo-test-in-vm.sh [run-in-vm options] CRATE_DIR [CARGO-ARGS...] [-- TEST-ARGS...]" \
           "(CRATE_DIR must hold a Cargo.toml)"
CRATE=$(realpath "$1"); shift
CARGO_ARGS=() TEST_ARGS=()
while [[ $# -gt 0 ]]; do
    if [[ $1 == -- ]]; then shift; TEST_ARGS=("$@"); break; fi
    CARGO_ARGS+=("$1"); shift
done
[[ " ${TEST_ARGS[*]} " == *" --test-threads"* ]] || TEST_ARGS=(--test-threads=1 "${TEST_ARGS[@]}")
command -v python3 >/dev/null || die "missing: python3 on the host (reads cargo's JSON messages)"

P=$(mktemp -d "${TMPDIR:-/tmp}/vmtest-payload.XXXXXX"); trap 'rm -rf "$P"' EXIT
# JSON on stdout (one line per artifact), compiler messages rendered on stderr as usual
(cd "$CRATE" && cargo test --no-run --message-format=json-render-diagnostics "${CARGO_ARGS[@]}") \
    > "$P/.cargo.json"
# one line per test executable: path, then the source it was built from, relative to the crate
python3 - "$CRATE" "$P/.cargo.json" > "$P/.list" <<'PY'
import json, os, sys
for line in open(sys.argv[2]):
    try: m = json.loads(line)
    except ValueError: continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"] + "\t" + os.path.relpath(m["target"]["src_path"], sys.argv[1]))
PY
rm "$P/.cargo.json"
[[ -s $P/.list ]] || die "cargo built no test executables (cargo test --no-run ${CARGO_ARGS[*]})"

sq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
args=""; for a in "${TEST_ARGS[@]}"; do args+=" $(sq "$a")"; done
{
    echo 'export RUST_BACKTRACE=1'
    echo 'failed=""'
    while IFS=$'\t' read -r exe src; do
        b=$(basename "$exe"); cp "$exe" "$P/$b"
        echo "echo; echo \"     Running $src ($b)\""
        echo "./$b$args || failed=\"\$failed $b\""
    done < "$P/.list"
    # shellcheck disable=SC2016 # expanded by the guest's shell
    echo 'if [ -n "$failed" ]; then echo "vmtest: FAILED test executables:$failed"; exit 1; fi'
} > "$P/run-tests.sh"
rm "$P/.list"
for d in ${EXTRA[@]+"${EXTRA[@]}"}; do cp -a "$d" "$P/$(basename "$d")"; done
rc=0; "$HERE/run-in-vm.sh" "${VMOPTS[@]}" "$P" -- sh run-tests.sh || rc=$?
exit $rc   # (no exec: the EXIT trap must remove $P)
