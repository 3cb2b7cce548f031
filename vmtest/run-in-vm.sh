#!/usr/bin/env bash
# run-in-vm.sh - boot Debian 12's kernel in qemu from a throw-away initramfs, load the
# virtual media drivers (vivid, snd-aloop, snd-dummy), run a payload, return its exit code.
#
# usage: run-in-vm.sh [options] PAYLOAD_DIR [--] CMD [ARGS...]
#
#   PAYLOAD_DIR is copied to /payload in the guest (the cwd of CMD). Every dynamically linked
#   ELF in it gets its shared libraries (found with ldd on the host) copied in as well.
#   CMD runs as root with PATH=/payload:/bin:/sbin:/usr/bin, HOME=/root, VMTEST=1,
#   LD_LIBRARY_PATH=/payload:/lib/x86_64-linux-gnu, stdin /dev/null.
#   Exit status: CMD's; 124 = timeout, 125 = the guest never reported (kernel panic, ...),
#   126 = a module failed to load or /out failed to mount in the guest, 2 = bad usage or
#   a harness problem on the host (the message says which), 1 = fetch-deps.sh failed.
#
# options:
#   --module "NAME ARGS"   modprobe NAME ARGS in the guest before CMD; repeatable. The first
#                          use replaces the default set; --module none loads nothing.
#                          default: vivid n_devs=1 node_types=0x101 ; snd-aloop index=0 ;
#                                   snd-dummy index=1
#   --env NAME=VALUE       set an environment variable for CMD (repeatable)
#   --out DIR              share host DIR (created if missing) read-write as /out in the guest
#                          (virtio-9p): the way to get files back from the guest
#   --include PATH         extra host file (binary: plus its libs) to put at the same path
#   --no-tools             leave out v4l2-ctl, v4l2-compliance, media-ctl, aplay, arecord,
#                          amixer, speaker-test (default: in, 3.3 MB of initramfs)
#   --timeout SECS         kill qemu after this long (default 300)
#   --mem SIZE             guest RAM (default 768M)     --smp N   vCPUs (default 2)
#   --accel auto|kvm|tcg   default auto: kvm if /dev/kvm is real VMX/SVM KVM, else tcg.
#                          (PVM "KVM", as on this project's machines, can't boot a stock
#                          kernel: auto picks tcg there; see vmtest/README.md)
#   --kmsg                 show kernel messages on the console (default: quiet)
#   --append STR           extra kernel command line
#   --bzimage              boot the compressed bzImage via SeaBIOS instead of the extracted
#                          vmlinux via its PVH entry (the default; ~5 s faster under TCG)
#   --compress zstd|gzip|none   initramfs compression (default zstd, gzip if no zstd)
#   --initrd-only FILE     just build the initramfs into FILE and exit
#   --qemu-arg ARG         extra qemu argument (repeatable), e.g. --qemu-arg -bios --qemu-arg FILE
#
#   env: VMTEST_CACHE  default build/vmtest-cache in this repository; fetch-deps.sh fills it on
#                      first use, which needs Debian's mirror that once
#        QEMU          qemu-system-x86_64 to use; default: the one fetch-deps.sh extracted,
#                      else the host's
#        TMPDIR        where the initramfs is built (removed afterwards)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VMTEST_CACHE:-$(dirname "$HERE")/build/vmtest-cache}
export VMTEST_CACHE=$CACHE      # fetch-deps.sh uses the same one
ROOT=$CACHE/root
die() { printf 'run-in-vm: %s\n' "$@" >&2; exit 2; }

ACCEL=auto MEM=768M SMP=2 TIMEOUT=300 TOOLS=1 OUTDIR="" INITRD_ONLY="" COMPRESS="" KMSG=0 BZIMAGE=0
APPEND=""
MODULES=() MODULES_SET=0 INCLUDES=() EXTRA_QEMU=() GUEST_ENV=()
need_arg() { [[ $# -ge 2 ]] || die "option $1 needs an argument (--help lists them)"; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --accel|--mem|--smp|--timeout|--module|--env|--include|--out|--initrd-only|--compress|--append|--qemu-arg)
            need_arg "$@";;&
        --accel) ACCEL=$2; shift 2;;
        --mem) MEM=$2; shift 2;;
        --smp) SMP=$2; shift 2;;
        --timeout) TIMEOUT=$2; shift 2;;
        --module) [[ $MODULES_SET == 1 ]] || MODULES=(); MODULES_SET=1
                  [[ $2 == none ]] || MODULES+=("$2"); shift 2;;
        --env) [[ $2 == [A-Za-z_]*=* ]] || die "--env wants NAME=VALUE, got '$2'"
               GUEST_ENV+=("$2"); shift 2;;
        --no-tools) TOOLS=0; shift;;
        --include) INCLUDES+=("$(realpath "$2")"); shift 2;;
        --out) mkdir -p "$2"; OUTDIR=$(realpath "$2"); shift 2;;
        --initrd-only) INITRD_ONLY=$2; shift 2;;
        --compress) COMPRESS=$2; shift 2;;
        --kmsg) KMSG=1; shift;;
        --bzimage) BZIMAGE=1; shift;;
        --append) APPEND=$2; shift 2;;
        --qemu-arg) EXTRA_QEMU+=("$2"); shift 2;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;;
        --) shift; break;;
        -*) die "unknown option $1 (--help lists them)";;
        *) break;;
    esac
done
[[ $MODULES_SET == 1 ]] || MODULES=("vivid n_devs=1 node_types=0x101" "snd-aloop index=0" "snd-dummy index=1")
[[ $# -ge 1 ]] || die "usage: run-in-vm.sh [options] PAYLOAD_DIR [--] CMD [ARGS...]"
[[ -d $1 ]] || die "payload directory $1 does not exist"
PAYLOAD=$(realpath "$1"); shift
[[ ${1:-} == -- ]] && shift
CMD=("$@")
[[ ${#CMD[@]} -gt 0 ]] || CMD=(sh -c 'echo "no command given"; ls -l /dev/video* /dev/snd')
if [[ -z $COMPRESS ]]; then
    if command -v zstd >/dev/null; then COMPRESS=zstd
    else COMPRESS=gzip; echo "run-in-vm: no zstd on the host (Debian package zstd), using gzip" >&2; fi
fi
for t in ldd od timeout awk; do
    command -v "$t" >/dev/null || die "missing: command $t on the host"
done

"$HERE/fetch-deps.sh"
KVER=$(cat "$CACHE/.complete")
KERNEL=$ROOT/boot/vmlinuz-$KVER
[[ $BZIMAGE == 0 && -s $CACHE/vmlinux ]] && KERNEL=$CACHE/vmlinux
MODDIR=$ROOT/lib/modules/$KVER
HOSTLIBS=$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu
BB=$ROOT/bin/busybox

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vmtest-run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
IR=$WORK/initramfs
mkdir -p "$IR"/{bin,sbin,dev,proc,sys,tmp,run,root,etc,out,lib/x86_64-linux-gnu,lib64,usr/bin,usr/share}

# ---- busybox: the guest's shell, mount, modprobe, poweroff, ... ------------------------------
cp "$BB" "$IR/bin/busybox"

# ---- kernel modules: each requested one plus its closure over modules.dep -------------------
declare -A MODSEEN=()
add_module() {  # $1 = module name (dashes or underscores)
    local name=${1//_/-} alt=${1//-/_} line path dep
    line=$(grep -E "/(${name}|${alt})\.ko(\.[gx]z|\.zst)?:" "$MODDIR/modules.dep" | head -1) || true
    if [[ -z $line ]]; then
        if grep -qE "/(${name}|${alt})\.ko" "$MODDIR/modules.builtin"; then return 0; fi
        die "module $1 is neither in $MODDIR/modules.dep nor built in (kernel $KVER)"
    fi
    path=${line%%:*}
    [[ -n ${MODSEEN[$path]:-} ]] && return 0
    MODSEEN[$path]=1
    mkdir -p "$IR/lib/modules/$KVER/$(dirname "$path")"
    cp "$MODDIR/$path" "$IR/lib/modules/$KVER/$path"
    for dep in ${line#*:}; do
        dep=$(basename "$dep"); add_module "${dep%%.ko*}"
    done
}
NEEDMODS=()
for m in "${MODULES[@]}"; do NEEDMODS+=("${m%% *}"); done
[[ -n $OUTDIR ]] && NEEDMODS+=(virtio_pci 9pnet_virtio 9p)
for m in "${NEEDMODS[@]}"; do add_module "$m"; done
# keep only the lines of modules.dep that describe copied modules: busybox modprobe reads it
mkdir -p "$IR/lib/modules/$KVER"
: > "$IR/lib/modules/$KVER/modules.dep"
for p in "${!MODSEEN[@]}"; do grep -E "^${p}:" "$MODDIR/modules.dep" >> "$IR/lib/modules/$KVER/modules.dep"; done

# ---- binaries + their shared libraries --------------------------------------------------------
mkdir -p "$IR/payload"
cp -a "$PAYLOAD/." "$IR/payload/"
# ldd search path: the payload itself first (a test binary may link the project's own .so,
# which the guest then finds via LD_LIBRARY_PATH=/payload:...), then the extracted packages,
# then the host's own libraries (ldd's default path)
LDP=$IR/payload:$HOSTLIBS
is_dyn_elf() { [[ -f $1 && $(head -c4 "$1" 2>/dev/null | od -An -c | tr -d ' ') == 177ELF ]] \
                 && LD_LIBRARY_PATH=$LDP ldd "$1" 2>/dev/null | grep -q '=>\|ld-linux'; }
add_libs() {  # copy the libraries ldd reports for ELF $1 into the initramfs
    local lib
    is_dyn_elf "$1" || return 0
    if LD_LIBRARY_PATH=$LDP ldd "$1" | grep -q 'not found'; then
        die "unresolved libraries for ${1#"$IR"}:" "$(LD_LIBRARY_PATH=$LDP ldd "$1" | grep 'not found')"
    fi
    for lib in $(LD_LIBRARY_PATH=$LDP ldd "$1" | grep -oE '/[^ ]+\.so[^ ]*'); do
        case $lib in
            "$IR"/*) ;;    # already in the initramfs (the payload's own library)
            */ld-linux-x86-64.so.2) cp -L -n "$lib" "$IR/lib64/ld-linux-x86-64.so.2";;
            *) cp -L -n "$lib" "$IR/lib/x86_64-linux-gnu/$(basename "$lib")";;
        esac
    done
}
if [[ $TOOLS == 1 ]]; then
    for t in v4l2-ctl v4l2-compliance media-ctl aplay amixer speaker-test; do
        cp -L "$ROOT/usr/bin/$t" "$IR/usr/bin/$t"; add_libs "$IR/usr/bin/$t"
    done
    ln -s aplay "$IR/usr/bin/arecord"
fi
for f in "${INCLUDES[@]}"; do
    mkdir -p "$IR/$(dirname "$f")"; cp -L "$f" "$IR/$f"; add_libs "$IR/$f"
done
while IFS= read -r -d '' f; do add_libs "$f"; done < <(find "$IR/payload" -type f -print0)
# alsa-lib needs its configuration tree as soon as anything uses libasound
if [[ -e $IR/lib/x86_64-linux-gnu/libasound.so.2 ]]; then
    mkdir -p "$IR/usr/share/alsa"
    cp -a "$ROOT/usr/share/alsa/"{alsa.conf,cards,pcm,ctl} "$IR/usr/share/alsa/"
fi

# ---- guest configuration + init ----------------------------------------------------------------
sq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
{
    echo "KMSG=$KMSG"
    echo "HAVE_OUT=$([[ -n $OUTDIR ]] && echo 1 || echo 0)"
    printf 'MODULES=%s\n' "$(sq "$(printf '%s\n' "${MODULES[@]}")")"
} > "$IR/etc/vmtest.conf"
{
    for e in "${GUEST_ENV[@]}"; do printf 'export %s=%s\n' "${e%%=*}" "$(sq "${e#*=}")"; done
    printf 'exec'; for a in "${CMD[@]}"; do printf ' %s' "$(sq "$a")"; done; echo
} > "$IR/etc/vmtest-cmd.sh"
cp "$HERE/guest-init.sh" "$IR/init"
chmod 755 "$IR/init"

# ---- pack: cpio newc by the extracted busybox (the host needs no cpio) -------------------------
INITRD=$WORK/initrd.img
(cd "$IR" && find . -mindepth 1 | LC_ALL=C sort | "$BB" cpio -o -H newc -R 0:0 2>/dev/null) > "$WORK/initrd.cpio"
case $COMPRESS in
    zstd) zstd -q -9 -T0 --rm "$WORK/initrd.cpio" -o "$INITRD";;
    gzip) gzip -6 -c "$WORK/initrd.cpio" > "$INITRD"; rm "$WORK/initrd.cpio";;
    none) mv "$WORK/initrd.cpio" "$INITRD";;
    *) die "bad --compress $COMPRESS (zstd, gzip or none)";;
esac
if [[ -n $INITRD_ONLY ]]; then
    cp "$INITRD" "$INITRD_ONLY"
    echo "run-in-vm: initramfs $(stat -c %s "$INITRD") bytes ($(du -sb "$IR" | cut -f1) unpacked) -> $INITRD_ONLY" >&2
    exit 0
fi

# ---- qemu ------------------------------------------------------------------------------------------
QEMU_ARGS=()
if [[ -n ${QEMU:-} ]]; then :
elif [[ -x $ROOT/usr/bin/qemu-system-x86_64 ]]; then
    # the extracted qemu 7.2 finds its libraries and firmware in the cache
    QEMU=$ROOT/usr/bin/qemu-system-x86_64
    export LD_LIBRARY_PATH=$HOSTLIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    QEMU_ARGS+=(-L "$ROOT/usr/share/qemu" -L "$ROOT/usr/share/seabios")
elif command -v qemu-system-x86_64 >/dev/null; then QEMU=$(command -v qemu-system-x86_64)
else die "no qemu-system-x86_64: delete $CACHE and run again, so fetch-deps.sh downloads one"
fi
kvm_usable() {  # /dev/kvm exists, is r/w for us, KVM_GET_API_VERSION answers, and it is
                # real (VMX/SVM) KVM: PVM "KVM" (the kvm_pvm module, e.g. inside Firecracker VMs
                # such as this project's machines) only runs PVM-patched guest kernels; a stock
                # kernel hangs after "Probing EDD" or qemu aborts on MSR 0x10a
    [[ -r /dev/kvm && -w /dev/kvm ]] || return 1
    [[ -d /sys/module/kvm_pvm ]] && return 1
    grep -qwE 'vmx|svm' /proc/cpuinfo || return 1
    python3 -c 'import fcntl,os; fd=os.open("/dev/kvm",os.O_RDWR); assert fcntl.ioctl(fd,0xAE00)==12' 2>/dev/null
}
case $ACCEL in
    auto) if kvm_usable; then ACCEL=kvm; else ACCEL=tcg; fi;;
    kvm|tcg) ;;
    *) die "bad --accel $ACCEL (auto, kvm or tcg)";;
esac
# shellcheck disable=SC2054 # tcg,thread=multi is one argument
if [[ $ACCEL == kvm ]]; then QEMU_ARGS+=(-accel kvm -cpu host)
else QEMU_ARGS+=(-accel tcg,thread=multi -cpu max); fi
RESULT=$WORK/result.txt
: > "$RESULT"
QEMU_ARGS+=(-machine pc -m "$MEM" -smp "$SMP" -nodefaults -no-user-config -no-reboot
            -display none -monitor none
            -serial stdio                      # ttyS0: the console
            -serial "file:$RESULT"             # ttyS1: the exit-status channel, nothing else on it
            -kernel "$KERNEL" -initrd "$INITRD"
            -append "console=ttyS0 panic=-1 quiet loglevel=$([[ $KMSG == 1 ]] && echo 7 || echo 3) $APPEND")
if [[ -n $OUTDIR ]]; then
    QEMU_ARGS+=(-virtfs "local,path=$OUTDIR,mount_tag=out,security_model=none,id=out")
fi
QEMU_ARGS+=("${EXTRA_QEMU[@]}")
echo "run-in-vm: $ACCEL, kernel $KVER, initramfs $(stat -c %s "$INITRD") bytes, cmd: ${CMD[*]}" >&2
T0=$(date +%s.%N)
set +e
# stdin from /dev/null: CI has none, and qemu must not put a terminal into raw mode
timeout -k 5 "$TIMEOUT" "$QEMU" "${QEMU_ARGS[@]}" </dev/null | tr -d '\r'
QRC=${PIPESTATUS[0]}
set -e
echo "run-in-vm: qemu ran $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s" >&2
rc=$(grep -aoE 'VMTEST_EXIT=[0-9]+' "$RESULT" | tail -1 | cut -d= -f2 || true)
if [[ -z $rc ]]; then
    if [[ $QRC == 124 || $QRC == 137 ]]; then
        echo "run-in-vm: TIMEOUT: the guest was killed after ${TIMEOUT}s (--timeout)" >&2; exit 124
    fi
    echo "run-in-vm: the guest did not report an exit status (qemu exit status $QRC;" \
         "a kernel panic? run again with --kmsg)" >&2
    exit 125
fi
echo "run-in-vm: payload exit status $rc" >&2
exit "$rc"
