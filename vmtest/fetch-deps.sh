#!/usr/bin/env bash
# fetch-deps.sh - download (NOT install) everything run-in-vm.sh needs into the cache dir:
# Debian 12's kernel (modules included), busybox-static, kmod (for depmod on the host),
# v4l-utils and alsa-utils for the guest, and qemu-system-x86 when the host has no qemu.
#
#   VMTEST_CACHE   cache dir (default: build/vmtest-cache in this repository); the packages
#                  are unpacked into $VMTEST_CACHE/root
#   KERNEL_PKG     kernel package (default: the one linux-image-amd64 depends on today)
#
# It uses `apt-get download` + `dpkg -x`, so the host's package set never changes. That is on
# purpose: on the `rust` machine image, `apt-get install qemu-system-x86` would REMOVE the
# preinstalled qemu-utils 10.x backport. When the package lists are empty or stale it runs
# `apt-get update` (as root; otherwise it says to). Without a way to Debian's mirror it fails
# and says so: the VM stage needs the network the first time, and never after.
#
# Idempotent: a complete cache is left alone (delete the directory to refresh it). Concurrent
# first runs are serialised with flock. About 88 MB of .debs, 560 MB on disk once unpacked.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VMTEST_CACHE:-$(dirname "$HERE")/build/vmtest-cache}
DEBS=$CACHE/debs
ROOT=$CACHE/root
STAMP=$CACHE/.complete

die() { printf 'fetch-deps: %s\n' "$@" >&2; exit 1; }

# The cache is complete when the stamp is there and some qemu can run: the extracted one, or
# the host's (qemu is only fetched when the host has none, and the host may have lost it since).
complete() {
    [[ -f $STAMP ]] && { [[ -x $ROOT/usr/bin/qemu-system-x86_64 ]] || command -v qemu-system-x86_64 >/dev/null; }
}
complete && exit 0

# ---- host tools ------------------------------------------------------------------------------
missing=()
for t in apt-get:apt apt-cache:apt dpkg:dpkg flock:util-linux ldd:libc-bin; do
    command -v "${t%%:*}" >/dev/null || missing+=("command ${t%%:*} (Debian package ${t#*:})")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    for m in "${missing[@]}"; do echo "fetch-deps: missing: $m" >&2; done
    die "the VM harness needs a Debian/Ubuntu host with apt; see vmtest/README.md"
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"; flock 9          # concurrent first runs: one fetches, the others wait
complete && exit 0
rm -rf "$DEBS" "$ROOT" "$STAMP" "$CACHE/vmlinux"
mkdir -p "$DEBS" "$ROOT"
cd "$DEBS"

root=0; [[ $(id -u) == 0 ]] && root=1
explain() {  # $1 = an apt log: its first errors, and what they most likely mean
    grep -E '^(E:|W:|Err:)' "$1" | head -n 6 | sed 's/^/    /' >&2 || true
    if grep -qiE 'could not connect|unable to connect|could not resolve|temporary failure resolving|network is unreachable|timed out' "$1"; then
        echo "fetch-deps: Debian's package mirror cannot be reached (no network?)." >&2
    fi
    echo "fetch-deps: full apt output: $1" >&2
}
NEED="the VM stage downloads Debian's kernel and qemu once (about 88 MB) into $CACHE"
updated=0
apt_update() {  # $1 = why; once per run, and only root can
    [[ $updated == 0 ]] || return 1
    updated=1
    if [[ $root == 0 ]]; then
        die "$1, so the package lists are empty or stale, and only root can refresh them:" \
            "    sudo apt-get update     then run this again ($NEED)"
    fi
    echo "fetch-deps: $1: apt-get update" >&2
    if ! apt-get -q --error-on=any update >"$CACHE/apt-update.log" 2>&1; then
        explain "$CACHE/apt-update.log"
        die "apt-get update failed; $NEED"
    fi
}

# 1. kernel: resolve the metapackage to the real image package
if [[ -z ${KERNEL_PKG:-} ]]; then
    kernel_pkg() { { apt-cache depends linux-image-amd64 2>/dev/null || true; } | awk '/Depends: linux-image-[0-9]/{print $2; exit}'; }
    KERNEL_PKG=$(kernel_pkg)
    if [[ -z $KERNEL_PKG ]]; then
        apt_update "apt knows no linux-image-amd64"
        KERNEL_PKG=$(kernel_pkg)
        [[ -n $KERNEL_PKG ]] || die "apt knows no linux-image-amd64 even after apt-get update:" \
            "is deb.debian.org bookworm main in /etc/apt/sources.list(.d)?"
    fi
fi
echo "fetch-deps: kernel package $KERNEL_PKG" >&2

# 2. guest userland + host helper tools (busybox-static: the guest's shell and the host-side
#    cpio; kmod: host-side depmod, since the kernel .deb ships no modules.dep)
PKGS=("$KERNEL_PKG" busybox-static kmod
      v4l-utils libv4l-0 libv4lconvert0 libv4l2rds0
      alsa-utils libasound2 libasound2-data libatopology2 libfftw3-single3 libsamplerate0)

# 3. qemu: only if the host has none. The qemu packages plus every library of their dependency
#    closure that the host lacks: `apt-get install -s` only simulates and changes nothing.
if ! command -v qemu-system-x86_64 >/dev/null; then
    qemu_pkgs() { { apt-get install -s --no-install-recommends qemu-system-x86 2>/dev/null || true; } | awk '/^Inst /{print $2}'; }
    mapfile -t Q < <(qemu_pkgs)
    if [[ ${#Q[@]} -eq 0 ]]; then
        apt_update "apt cannot resolve qemu-system-x86" || true
        mapfile -t Q < <(qemu_pkgs)
        [[ ${#Q[@]} -gt 0 ]] || die "apt cannot resolve qemu-system-x86 (see: apt-get install -s qemu-system-x86)"
    fi
    PKGS+=("${Q[@]}")
fi

dl() {  # as root, apt's _apt sandbox user could not write here: download as root
    apt-get -q -o APT::Sandbox::User=root download "$@" >"$CACHE/apt-download.log" 2>&1
}
if ! dl "${PKGS[@]}"; then   # stale lists name .debs the mirror no longer has: refresh once
    if ! apt_update "apt-get download failed" || ! dl "${PKGS[@]}"; then
        explain "$CACHE/apt-download.log"
        die "apt-get download failed for: ${PKGS[*]}" "$NEED"
    fi
fi
for f in "$DEBS"/*.deb; do dpkg -x "$f" "$ROOT"; done

# 4. modules.dep is made by the kernel package's postinst, so run depmod ourselves
KVER=$(find "$ROOT/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -1)
[[ -n $KVER && -d $ROOT/lib/modules/$KVER/kernel ]] || die "no kernel modules in $KERNEL_PKG"
ln -sf "$ROOT/bin/kmod" "$CACHE/depmod"
"$CACHE/depmod" -b "$ROOT" "$KVER"

# 5. an uncompressed vmlinux with a PVH entry note boots ~2x faster under TCG than the
#    xz-compressed bzImage (no SeaBIOS real-mode path, no in-guest xz decompression).
#    Optional: without it (no python3) run-in-vm.sh boots the bzImage.
if command -v python3 >/dev/null; then
    python3 - "$ROOT/boot/vmlinuz-$KVER" "$CACHE/vmlinux" <<'PY' || rm -f "$CACHE/vmlinux"
import lzma, sys
d = open(sys.argv[1], 'rb').read()
pos = d.find(b'\xfd7zXZ\x00')
if pos < 0: sys.exit("fetch-deps: bzImage is not xz-compressed; the VM boots the bzImage (slower)")
out = lzma.LZMADecompressor().decompress(d[pos:])
if out[:4] != b'\x7fELF': sys.exit("fetch-deps: extracted kernel is not ELF; the VM boots the bzImage (slower)")
open(sys.argv[2], 'wb').write(out)
PY
else
    echo "fetch-deps: no python3, so no vmlinux: the VM boots the bzImage (about 5 s slower)" >&2
fi

# 6. sanity: the extracted qemu must find all its libraries (the extracted ones or the host's)
if [[ -x $ROOT/usr/bin/qemu-system-x86_64 ]]; then
    unresolved=$(LD_LIBRARY_PATH=$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu \
                 ldd "$ROOT/usr/bin/qemu-system-x86_64" | grep 'not found' || true)
    [[ -z $unresolved ]] || die "the extracted qemu misses libraries:" "$unresolved"
fi
echo "$KVER" > "$STAMP"
echo "fetch-deps: ready in $ROOT (kernel $KVER, $(du -sh "$DEBS" | cut -f1) of .debs)" >&2
