#!/usr/bin/env bash
# Checks, and optionally installs, what a Debian 12 (bookworm) machine needs to work on libmst.
#
#   scripts/deps.sh [--install | --check] PURPOSE...
#
# PURPOSE is `build` (compile the library), `test` (build plus everything scripts/test.sh
# runs), `fuzz` (build plus clang, libFuzzer and a C++ compiler for scripts/fuzz.sh; optional, test does not
# need it) or `bench` (build plus the peers benches/ measures against: libyuv, swscale,
# libjpeg-turbo, GStreamer; never needed by the library's users). Every missing tool or library is printed on its own `deps: missing:` line.
#
# --install runs `apt-get update` once and `apt-get install -y --no-install-recommends` for the
#           missing Debian packages (needs root).
# --check   only reports; exits 1 when something is missing.
# Without either flag the script installs when it runs as root and nobody can be asked: CI is
# set (CI=true, as in CI) or standard input is not a terminal. An interactive session only gets
# the report and the command to run, so a developer's machine never changes behind their back.
#
# Rust is not installed here: bookworm's cargo (1.65) is older than the crate's rust-version,
# so a missing or old cargo/rustc is reported with the rustup instructions and exits 1
# (after the Debian packages, if any, were installed).
set -euo pipefail

# One requirement a line: PURPOSE KIND NAME DEBIAN-PACKAGE
#   cmd  NAME is a command on PATH
#   pc   NAME is a pkg-config module (list `test cmd pkg-config` or `build cmd pkg-config` too)
#   lib  NAME is a shared library the dynamic linker knows: libNAME.so or libNAME-X.Y.so
#   file NAME is a path (a glob) that exists
# To need something new, add a line here.
# The Python modules are Debian's, for Debian's /usr/bin/python3, which scripts/test.sh runs:
# numpy and pytest for python/'s tests, setuptools and wheel for `pip install ./python` offline.
REQUIREMENTS='
build cmd cc         gcc
build cmd make       make
build cmd pkg-config pkg-config
build pc  alsa       libasound2-dev
build lib clang      libclang-dev
build file /usr/include/jpeglib.h libjpeg62-turbo-dev
test  cmd c++        g++
test  cmd cmake      cmake
test  cmd valgrind   valgrind
test  cmd nm         binutils
test  cmd git        git
test  cmd python3    python3
test  file /usr/lib/python3*/ensurepip/__init__.py python3-venv
test  file /usr/lib/python3/dist-packages/numpy/__init__.py python3-numpy
test  file /usr/lib/python3/dist-packages/pytest/__init__.py python3-pytest
test  file /usr/lib/python3/dist-packages/setuptools/__init__.py python3-setuptools
test  file /usr/lib/python3/dist-packages/wheel/__init__.py python3-wheel
test  lib turbojpeg  libturbojpeg0
test  lib jpeg       libjpeg62-turbo
test  pc  gstreamer-1.0       libgstreamer1.0-dev
test  pc  gstreamer-app-1.0   libgstreamer-plugins-base1.0-dev
test  pc  gstreamer-video-1.0 libgstreamer-plugins-base1.0-dev
test  file /usr/lib/*/gstreamer-1.0/libgstapp.so gstreamer1.0-plugins-base
test  file /usr/lib/*/gstreamer-1.0/libgstvideotestsrc.so gstreamer1.0-plugins-base
test  file /usr/lib/*/gstreamer-1.0/libgstvideoconvertscale.so gstreamer1.0-plugins-base
test  file /usr/lib/*/gstreamer-1.0/libgstjpeg.so gstreamer1.0-plugins-good
test  file /usr/lib/*/gstreamer-1.0/libgstrtp.so gstreamer1.0-plugins-good
fuzz  cmd clang-14   clang-14
fuzz  cmd c++        g++
fuzz  file /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a libclang-rt-14-dev
bench file /usr/include/libyuv.h libyuv-dev
bench file /usr/include/*/libswscale/swscale.h libswscale-dev
bench file /usr/include/turbojpeg.h libturbojpeg0-dev
bench cmd  jpegtran   libjpeg-turbo-progs
bench file /usr/include/gstreamer-1.0/gst/app/gstappsrc.h libgstreamer-plugins-base1.0-dev
bench file /usr/lib/*/gstreamer-1.0/libgstapp.so gstreamer1.0-plugins-base
'

# The purposes a purpose includes.
expand_purpose() {
    case "$1" in
        build) echo build ;;
        test) echo build test ;;
        fuzz) echo build fuzz ;;
        bench) echo build bench ;;
        *) echo "deps: unknown purpose '$1' (known: build, test, fuzz, bench)" >&2; exit 2 ;;
    esac
}

usage() { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; }

mode=auto
purposes=()
for arg in "$@"; do
    case "$arg" in
        --install) mode=install ;;
        --check) mode=check ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "deps: unknown option $arg" >&2; usage >&2; exit 2 ;;
        *) expanded=$(expand_purpose "$arg") || exit 2
           for p in $expanded; do
               case " ${purposes[*]} " in *" $p "*) ;; *) purposes+=("$p") ;; esac
           done ;;
    esac
done
if [ ${#purposes[@]} -eq 0 ]; then usage >&2; exit 2; fi

if [ "$mode" = auto ]; then
    if [ "$(id -u)" -eq 0 ] && { [ -n "${CI:-}" ] && [ "${CI:-}" != false ] || [ ! -t 0 ]; }; then
        mode=install
    else
        mode=check
    fi
fi

present() { # KIND NAME
    case "$1" in
        cmd) command -v "$2" >/dev/null 2>&1 ;;
        pc) command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$2" ;;
        lib) /sbin/ldconfig -p 2>/dev/null | grep -Eq "[[:space:]]lib$2(-[0-9.]+)?\.so(\.[0-9]+)*[[:space:]]" ;;
        file) compgen -G "$2" >/dev/null ;;
        *) echo "deps: bad requirement kind '$1'" >&2; exit 2 ;;
    esac
}

missing_packages() {
    local purpose kind name package seen=" "
    while read -r purpose kind name package; do
        [ -n "$purpose" ] || continue
        case " ${purposes[*]} " in *" $purpose "*) ;; *) continue ;; esac
        if ! present "$kind" "$name" && [[ "$seen" != *" $package "* ]]; then
            seen+="$package "
            echo "$kind $name $package"
        fi
    done <<<"$REQUIREMENTS"
}

# The minimum Rust is the crate's rust-version, so it is written down once, in Cargo.toml.
repo=$(cd "$(dirname "$0")/.." && pwd)
rust_min=$(awk -F'"' '/^\[/{p=($0=="[package]")} p&&/^rust-version *=/{print $2; exit}' "$repo/Cargo.toml")
rust_min=${rust_min:-1.80}

version_at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }

rust_problems() {
    local tool found
    for tool in cargo rustc; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            if [ -x "$HOME/.cargo/bin/$tool" ]; then
                echo "$tool is in ~/.cargo/bin but not on PATH: run . \"\$HOME/.cargo/env\""
            else
                echo "$tool >= $rust_min not found"
            fi
            continue
        fi
        found=$("$tool" --version | awk '{print $2}')
        if ! version_at_least "${found%%-*}" "$rust_min"; then
            echo "$tool >= $rust_min needed, found $found ($(command -v "$tool"))"
        fi
    done
}

report() {
    local missing=$1 rust=$2 kind name package
    while read -r kind name package; do
        [ -n "$kind" ] || continue
        case "$kind" in
            cmd) echo "deps: missing: command $name (Debian package $package)" ;;
            pc) echo "deps: missing: pkg-config module $name (Debian package $package)" ;;
            lib) echo "deps: missing: library lib$name (Debian package $package)" ;;
            file) echo "deps: missing: file $name (Debian package $package)" ;;
        esac
    done <<<"$missing"
    while read -r problem; do
        [ -n "$problem" ] && echo "deps: missing: $problem"
    done <<<"$rust"
    return 0
}

rust_help() {
    cat <<EOF
deps: Rust comes from rustup, not apt (Debian 12's cargo is too old for rust-version $rust_min):
deps:   curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy
deps:   . "\$HOME/.cargo/env"
EOF
}

echo "deps: checking for ${purposes[*]}"
missing=$(missing_packages)
rust=$(rust_problems)
report "$missing" "$rust"

if [ -n "$missing" ]; then
    packages=$(awk '{print $3}' <<<"$missing" | xargs)
    if [ "$mode" = install ]; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "deps: --install needs root; run: sudo $0 --install ${purposes[*]}" >&2
            exit 1
        fi
        echo "deps: installing: $packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get -q update
        # shellcheck disable=SC2086 # one word per package
        apt-get install -y -q --no-install-recommends $packages
        missing=$(missing_packages)
        if [ -n "$missing" ]; then
            echo "deps: still missing after apt-get install:"
            report "$missing" ""
            exit 1
        fi
    else
        echo "deps: to install them: apt-get install -y --no-install-recommends $packages"
        echo "deps:              or: $0 --install ${purposes[*]}"
    fi
fi

if [ -n "$rust" ]; then
    rust_help
    exit 1
fi
if [ -n "$missing" ]; then
    exit 1
fi
echo "deps: all present for ${purposes[*]}"
