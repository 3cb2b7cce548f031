#!/usr/bin/env bash
# The install story from a fresh clone, as a new user meets it: `git clone` of HEAD, then
# `make install PREFIX=<a custom prefix>`, then, with a clean environment (no LD_LIBRARY_PATH,
# MST_LIB, PKG_CONFIG_PATH or PYTHONPATH but what the README tells a user to set):
#
#   - the installed `mst` runs (`--help`, `record test-pattern`) and needs no libmst.so;
#   - examples/hello.cpp and examples/hello.c build with the README's pkg-config line (with the
#     rpath it recommends for a custom prefix) against the prefix's mst.hpp/mst.h and run;
#   - the Python package reads a frame both ways the README documents: as `make install` put it
#     (on PYTHONPATH, loading the library installed beside it), and `pip install ./python` into
#     a venv (offline: Debian's numpy, setuptools and wheel through --system-site-packages),
#     finding the library through pkg-config;
#   - with PREFIX=/usr/local, Debian's python3 finds the package without PYTHONPATH;
#   - the installed libmst.so is stripped, its debug info in .debug/ beside it;
#   - `make uninstall` removes every file `make install` put there.
#
# It checks the commit HEAD names: uncommitted edits are not in the clone (it says so).
# The clone builds in its own cargo target dir, build/install-check/target, seeded from the work
# tree's release and cli builds so that a run recompiles libmst and the mst command, not their
# dependencies. The seed is hard links (a copy only across file systems) of the dependencies'
# outputs in deps/, build/ and .fingerprint/, without libmst's own (named mst-*, mst.*, libmst*):
# cargo gives the clone's libmst the same names as the work tree's, and writes some of its
# files (the fingerprints) in place, which through a shared link would rewrite the work tree's.
# The dependencies are fresh, so cargo writes none of their files; should it ever, the check
# fails and names the file (every file of the seed is older than the build). The target dir is
# removed when the check passes (the clone, the prefix and the logs stay), so the seed costs no
# disk. Debian's python3 runs the Python checks (scripts/deps.sh installs its modules).
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD
work=$repo/build/install-check
target_dir=${CARGO_TARGET_DIR:-$repo/target}
python=/usr/bin/python3
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    PATH="$HOME/.cargo/bin:$PATH"
fi

commit=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "install-check: the work tree has uncommitted changes; this checks HEAD, not them"
fi
echo "install-check: a fresh clone of $commit ($(git log -1 --format=%s HEAD))"

rm -rf "$work/clone" "$work/prefix" "$work/venv" "$work/run"
mkdir -p "$work/run"
git clone -q --no-checkout "$repo" "$work/clone"
# A detached HEAD (as CI checks out) is on no branch the clone copied: fetch it.
git -C "$work/clone" cat-file -e "$commit^{commit}" 2>/dev/null || git -C "$work/clone" fetch -q "$repo" HEAD
git -C "$work/clone" -c advice.detachedHead=false checkout -q "$commit"

rm -rf "$work/target"
seeded=()
for profile in release cli; do
    for part in deps build .fingerprint; do
        from=$target_dir/$profile/$part
        [ -d "$from" ] || continue
        seeded+=("$from")
        for how in -al -a; do # hard links; a copy (into an emptied dir) across file systems
            rm -rf "${work:?}/target/$profile/$part"
            mkdir -p "$work/target/$profile/$part"
            find "$from" -mindepth 1 -maxdepth 1 ! -name 'mst[-.]*' ! -name 'libmst*' -print0 |
                xargs -0 -r cp "$how" -t "$work/target/$profile/$part" 2>/dev/null && break
        done
    done
done
touch "$work/seeded.stamp"

prefix=$work/prefix
start=$SECONDS
CARGO_TARGET_DIR=$work/target make -C "$work/clone" --no-print-directory install PREFIX="$prefix" \
    PYTHON="$python" > "$work/install.log" 2>&1 || { tail -40 "$work/install.log"; exit 1; }
if [ ${#seeded[@]} -gt 0 ]; then
    written=$(find "${seeded[@]}" ! -name 'mst[-.]*' ! -name 'libmst*' -newer "$work/seeded.stamp" -print -quit)
    if [ -n "$written" ]; then
        echo "install-check: the clone's build wrote into a file of the work tree's target dir that it"
        echo "shares through a hard link: $written (see install.log for what cargo rebuilt)"
        exit 1
    fi
fi
echo "install-check: make install PREFIX=$prefix took $((SECONDS - start)) s (log: $work/install.log)"

# What a user's shell has after following the README, and nothing else.
clean() { env -i HOME="$HOME" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$@"; }
fail() { echo "install-check: $*"; exit 1; }

version=$(awk -F'"' '/^\[/{p=($0=="[package]")} p&&/^version *=/{print $2; exit}' "$work/clone/Cargo.toml")

# The mst command: statically linked, so nothing to find at run time.
clean "$prefix/bin/mst" --help > "$work/run/help.txt" || fail "mst --help failed"
grep -q 'record' "$work/run/help.txt" || fail "mst --help does not mention record: $(cat "$work/run/help.txt")"
if readelf -d "$prefix/bin/mst" | grep -q 'NEEDED.*libmst'; then fail "the mst command needs libmst.so"; fi
[ -s "$prefix/share/man/man1/mst.1" ] || fail "no man page mst(1) in $prefix/share/man/man1"
(cd "$work/run" && clean "$prefix/bin/mst" record test-pattern -o tp.y4m --frames 3 --width 64 --height 48) \
    || fail "mst record test-pattern failed"
[ "$(head -c 9 "$work/run/tp.y4m")" = YUV4MPEG2 ] || fail "tp.y4m is not a Y4M file"
# The header line, then per frame "FRAME\n" and 64x48 I420.
header=$(head -n 1 "$work/run/tp.y4m" | wc -c)
[ "$(stat -c %s "$work/run/tp.y4m")" -eq $((header + 3 * (6 + 64 * 48 * 3 / 2))) ] \
    || fail "tp.y4m is $(stat -c %s "$work/run/tp.y4m") bytes, not a header and three 64x48 frames"
echo "install-check: $prefix/bin/mst runs (--help; record test-pattern wrote 3 Y4M frames)"

# The README's build lines for a custom prefix: pkg-config, plus the rpath it recommends.
export_pc="PKG_CONFIG_PATH=$prefix/lib/pkgconfig"
build_and_run() { # NAME COMPILE-LINE
    local name=$1 line=$2
    (cd "$work/run" && clean "$export_pc" sh -c "$line") || fail "$name: '$line' failed"
    local lib
    lib=$(clean ldd "$work/run/$name" | awk '/libmst\.so/ {print $3}')
    [ "$lib" = "$prefix/lib/libmst.so.1" ] || fail "$name loads libmst from '$lib', not $prefix/lib"
    (cd "$work/run" && clean "./$name" > "$name.out") || fail "$name failed: $(cat "$work/run/$name.out")"
    echo "install-check: $name builds with '$line' and runs: $(tail -n 1 "$work/run/$name.out")"
}
cp "$work/clone/examples/hello.cpp" "$work/clone/examples/hello.c" "$work/run/"
build_and_run hello_cpp 'c++ -std=c++17 hello.cpp -o hello_cpp $(pkg-config --cflags --libs mst) -Wl,-rpath,$(pkg-config --variable=libdir mst)'
build_and_run hello_c 'cc -std=c11 hello.c -o hello_c $(pkg-config --cflags --libs mst) -Wl,-rpath,$(pkg-config --variable=libdir mst)'

# The installed library: stripped, the debug info beside it where gdb looks (.gnu_debuglink).
so=$prefix/lib/libmst.so.$version
debug=$prefix/lib/.debug/libmst.so.$version.debug
if readelf -S "$so" | grep -q '\.debug_'; then fail "$so carries debug sections"; fi
link=$(readelf --string-dump=.gnu_debuglink "$so" | awk '/\]/ {print $3; exit}')
[ "$link" = "libmst.so.$version.debug" ] || fail "$so's .gnu_debuglink names '$link'"
readelf -S "$debug" | grep -q '\.debug_line' || fail "$debug has no line tables"
echo "install-check: $so is stripped ($(stat -c %s "$so") bytes; text $(size -A "$so" | awk '$1 == ".text" {print $2}') bytes), debug info in .debug/ ($(stat -c %s "$debug") bytes)"

# The Python package reads a frame and says where it and the library came from.
cat > "$work/run/read_frame.py" <<'PY'
import sys
import mst
package_under, library_under = sys.argv[1:]
assert mst.__file__.startswith(package_under), f"imported {mst.__file__}, not from {package_under}"
loaded = mst._lib.lib._name
assert loaded.startswith(library_under), f"loaded {loaded}, not from {library_under}"
with mst.Track.test_pattern(width=64, height=48) as track, mst.Processor(track) as p:
    with p.read(timeout=10) as frame:
        y = frame.planes()[0]
        assert y.shape[0] == 48, y.shape
print(f"imports {mst.__file__}, loads {loaded}, reads a frame")
PY

pydir=$(find "$prefix" -type d -name mst -path '*-packages/mst' | head -n 1)
[ -n "$pydir" ] || fail "make install put no Python package under $prefix"
out=$(cd "$work/run" && clean PYTHONPATH="${pydir%/mst}" "$python" read_frame.py "$prefix" "$prefix/lib") \
    || fail "the make-installed package (PYTHONPATH=${pydir%/mst}) failed"
echo "install-check: make install, PYTHONPATH=${pydir%/mst}: $out"

usr_local=$(CARGO_TARGET_DIR=$work/target make -C "$work/clone" -s -n install PREFIX=/usr/local PYTHON="$python" CARGO=true |
    sed -n 's|^install -d \(/usr/local/[^ ]*\)/mst$|\1|p')
clean "$python" -c 'import sys; sys.exit(sys.argv[1] not in sys.path)' "$usr_local" \
    || fail "with PREFIX=/usr/local the package goes to '$usr_local', which $python does not search"
echo "install-check: with PREFIX=/usr/local it goes to $usr_local, on $python's path"

"$python" -m venv --system-site-packages "$work/venv"
clean "$work/venv/bin/python" -m pip install -q --disable-pip-version-check --no-index \
    --no-build-isolation "$work/clone/python" > "$work/pip.log" 2>&1 || { cat "$work/pip.log"; fail "pip install ./python failed"; }
out=$(cd "$work/run" && clean "$export_pc" "$work/venv/bin/python" read_frame.py "$work/venv" "$prefix/lib") \
    || fail "the pip-installed package (with $export_pc) failed"
echo "install-check: pip install ./python into a venv, $export_pc: $out"

make -C "$work/clone" --no-print-directory -s uninstall PREFIX="$prefix" PYTHON="$python"
left=$(find "$prefix" -type f -o -type l)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "install-check: make uninstall removed every installed file"
rm -rf "$work/target"
