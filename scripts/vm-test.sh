#!/usr/bin/env bash
# Runs the VM tests: every tests/vm_*.rs integration test, inside ONE qemu boot of Debian 12's
# kernel with its virtual media drivers loaded (vmtest/README.md). scripts/test.sh runs this as
# its `vm` stage; run it alone while working on device code.
#
#   bash scripts/vm-test.sh [TEST-ARGS...]
#
# It builds the test executables on the host (cargo test --no-run, debug profile, as the
# `cargo test` stage does), boots the VM, runs each executable with --include-ignored
# --test-threads=1 TEST-ARGS and VMTEST=1, prints libtest's output, and exits with the VM's
# status. TEST-ARGS go to every executable: a test-name filter, --exact, --nocapture, ...
#
# The first run downloads Debian's kernel, qemu and a few tools (about 88 MB, apt-get download,
# nothing installed) into build/vmtest-cache; without a way to Debian's mirror it fails and says
# what is missing. Later runs need no network.
#
#   VMTEST_TIMEOUT  seconds before the VM is killed (default 600; the run then exits 124)
#   VMTEST_CACHE    the kernel/qemu cache (default build/vmtest-cache)
#   VMTEST_KMSG=1   show the guest kernel's messages on the console
#
# Files the tests write under /out in the guest land in build/vm-out/ (emptied each run).
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    PATH="$HOME/.cargo/bin:$PATH"
fi

# The drivers every VM test sees; the one place to change them (modprobe NAME ARGS, in order).
modules=(
    "vivid n_devs=1 node_types=0x101"   # /dev/video0 capture, /dev/video1 output (+ /dev/media0)
    "snd-aloop index=0"                 # card 0 "Loopback": play on device 0, capture on device 1
    "snd-dummy index=1"                 # card 1 "Dummy": a silent source and a sink
)

tests=()
for f in tests/vm_*.rs; do
    [ -e "$f" ] && tests+=(--test "$(basename "$f" .rs)")
done
if [ ${#tests[@]} -eq 0 ]; then
    echo "vm-test: no tests/vm_*.rs: nothing to run in the VM" >&2
    exit 1
fi

# The kernel and qemu first, so a machine that cannot get them says so before anything compiles.
if ! bash vmtest/fetch-deps.sh; then
    echo "vm-test: FAILED: the VM's kernel and qemu are not available (the reason is above)." >&2
    echo "vm-test: the vm stage needs them; once fetched into ${VMTEST_CACHE:-build/vmtest-cache}, no network." >&2
    exit 1
fi

# The device examples, run by tests/vm_examples.rs: built against the debug libmst.so, which
# travels next to them (rpath $ORIGIN).
examples=(list_devices capture_camera record_microphone virtual_background)
cargo build --lib --quiet
rm -rf build/vm-examples
mkdir -p build/vm-examples
major=$(sed -n 's/^#define MST_VERSION_MAJOR //p' include/mst.h)
cp target/debug/libmst.so "build/vm-examples/libmst.so.$major"
# The mst command for tests/vm_cli.rs (links libmst statically).
cargo build --bin mst --quiet
cp target/debug/mst build/vm-examples/mst
for e in "${examples[@]}"; do
    cc -std=c11 -O1 -Wall -Wextra -Werror -Iinclude "examples/$e.c" -Lbuild/vm-examples "-l:libmst.so.$major" -lm \
        -Wl,-rpath,'$ORIGIN' -o "build/vm-examples/$e"
done

# Guest RAM: its root filesystem (the initramfs, every test executable with its debug info)
# and the tests' /tmp files live in it; 768M ran out (ENOSPC in /tmp) once vm_controls,
# vm_mplane and vm_zero_copy joined the payload.
vmopts=(--timeout "${VMTEST_TIMEOUT:-600}" --mem "${VMTEST_MEM:-1536M}" --out "$repo/build/vm-out")
for m in "${modules[@]}"; do vmopts+=(--module "$m"); done
if [ "${VMTEST_KMSG:-0}" = 1 ]; then vmopts+=(--kmsg); fi
rm -rf build/vm-out
mkdir -p build/vm-out

start=$SECONDS
status=0
bash vmtest/cargo-test-in-vm.sh "${vmopts[@]}" --extra build/vm-examples "$repo" "${tests[@]}" -- --include-ignored "$@" || status=$?
case $status in
    0) echo "vm-test: all VM tests passed ($((SECONDS - start)) s)";;
    124) echo "vm-test: FAILED: the VM was killed after ${VMTEST_TIMEOUT:-600} s (VMTEST_TIMEOUT); output above";;
    125) echo "vm-test: FAILED: the guest died without reporting (kernel panic?); rerun with VMTEST_KMSG=1";;
    126) echo "vm-test: FAILED: a kernel module did not load or /out did not mount in the guest; output above";;
    *) echo "vm-test: FAILED (exit status $status); output above";;
esac
exit "$status"
