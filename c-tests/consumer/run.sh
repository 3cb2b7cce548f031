#!/bin/sh
# The install_consumer ctest: install libmst into a scratch prefix, then build consumer.c
# against it as a user would and run it, three ways: pkg-config, CMake's find_package with
# mst::mst (the shared library), and mst::mst with MST_USE_STATIC_LIBS=ON (libmst.a, which
# must leave no libmst.so dependency); and consumer.cpp through the installed mst.hpp, with
# pkg-config. Also checks that the consumer binds libmst's versioned symbols, find_package's
# version rule, that the installed libmst.so is stripped with its debug info beside it, that
# a consumer with an rpath runs without LD_LIBRARY_PATH, that each example builds with the
# line its header comment gives, that the installed mst command runs, and that make
# uninstall removes every installed file.
#   sh c-tests/consumer/run.sh REPO SCRATCH_DIR
set -eu
repo=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
prefix=$work/prefix

step() { printf '\n== install_consumer: %s\n' "$*"; }

rm -rf "$work"
mkdir -p "$work"

step "make install PREFIX=$prefix"
make -C "$repo" --no-print-directory install PREFIX="$prefix"
version=$(sed -n 's/^#define MST_VERSION_STRING "\(.*\)"$/\1/p' "$prefix/include/mst.h")
major=${version%%.*}

step "the installed library is stripped; its debug info is in lib/.debug, where gdb looks"
lib=$prefix/lib/libmst.so.$version
debug=$prefix/lib/.debug/libmst.so.$version.debug
if readelf -S "$lib" | grep -q '\.debug_info'; then echo "$lib still carries .debug_info"; exit 1; fi
readelf -S "$debug" | grep -q '\.debug_info' || { echo "$debug carries no .debug_info"; exit 1; }
readelf -p .gnu_debuglink "$lib" | grep -q "libmst\.so\.$version\.debug" ||
    { echo "$lib's .gnu_debuglink does not name libmst.so.$version.debug"; exit 1; }
built=$(stat -c %s "${CARGO_TARGET_DIR:-$repo/target}/release/libmst.so")
installed=$(stat -c %s "$lib")
if [ "$installed" -ge "$built" ]; then echo "the installed $lib ($installed bytes) is not smaller than the build's ($built)"; exit 1; fi
echo "libmst.so: $built bytes built, $installed installed; debug info: $(stat -c %s "$debug") bytes"

step "pkg-config: cc consumer.c \$(pkg-config --cflags --libs mst)"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
test "$(pkg-config --modversion mst)" = "$version"
case " $(pkg-config --static --libs mst) " in
    *" -lpthread "*) ;;
    *) echo "pkg-config --static --libs mst lacks -lpthread"; exit 1 ;;
esac
# shellcheck disable=SC2046 # pkg-config prints one flag a word
cc -std=c11 -Wall -Wextra -Wpedantic -Werror "$here/consumer.c" -o "$work/consumer-pkg-config" \
    $(pkg-config --cflags --libs mst)
LD_LIBRARY_PATH="$prefix/lib" "$work/consumer-pkg-config"
# The consumer binds the versioned symbol (MST_1.0), as every program built against 1.x does.
nm "$work/consumer-pkg-config" | grep -q ' U mst_version@MST_1\.0$' ||
    { echo "the consumer does not bind mst_version@MST_1.0:"; nm "$work/consumer-pkg-config" | grep mst_; exit 1; }

step "pkg-config: c++ -std=c++17 consumer.cpp (the installed mst.hpp)"
# shellcheck disable=SC2046 # pkg-config prints one flag a word
c++ -std=c++17 -Wall -Wextra -Wpedantic -Werror "$here/consumer.cpp" -o "$work/consumer-cpp" \
    $(pkg-config --cflags --libs mst)
LD_LIBRARY_PATH="$prefix/lib" "$work/consumer-cpp"

# A prefix outside the loader's path needs one of three ways at run time: LD_LIBRARY_PATH
# (above), ldconfig (system prefixes only: it needs root and an ld.so.conf entry), or an
# rpath, which the README recommends for a custom prefix and is tested here.
step "pkg-config with an rpath: cc ... -Wl,-rpath,\$(pkg-config --variable=libdir mst), run as is"
# shellcheck disable=SC2046 # pkg-config prints one flag a word
cc -std=c11 -Wall -Wextra -Wpedantic -Werror "$here/consumer.c" -o "$work/consumer-rpath" \
    $(pkg-config --cflags --libs mst) -Wl,-rpath,"$(pkg-config --variable=libdir mst)"
env -u LD_LIBRARY_PATH "$work/consumer-rpath"
readelf -d "$work/consumer-rpath" | grep -Eq "(RUNPATH|RPATH).*\[$prefix/lib\]" ||
    { echo "consumer-rpath has no rpath $prefix/lib"; readelf -d "$work/consumer-rpath"; exit 1; }

step "each example's build line (its header comment) against the installed libmst"
mkdir -p "$work/examples"
cp "$repo"/examples/*.c "$work/examples/"
for example in "$work"/examples/*.c; do
    line=$(sed -n 's|.*\(cc -std=c11 [a-z_]*\.c .*\$(pkg-config --cflags --libs mst).*\)$|\1|p' "$example" | sed 's| \*/$||')
    if [ "$(printf '%s\n' "$line" | grep -c .)" -ne 1 ]; then
        echo "$(basename "$example") has no single build line (cc -std=c11 NAME.c ... \$(pkg-config --cflags --libs mst) ...)"; exit 1
    fi
    echo "$line"
    (cd "$work/examples" && sh -c "$line") || { echo "$(basename "$example")'s build line fails"; exit 1; }
done

step "the installed mst command runs and records"
"$prefix/bin/mst" --help >/dev/null
# The command links libmst statically (the Rust library), so it runs with no library path.
LD_LIBRARY_PATH= "$prefix/bin/mst" record test-pattern -o "$work/mst.y4m" --frames 2 --width 32 --height 16
test "$(wc -c <"$work/mst.y4m")" -gt $((2 * (6 + 32 * 16 * 3 / 2)))

cmake_consumer() { # NAME CMAKE-ARGS...
    name=$1
    shift
    cmake -S "$here" -B "$work/$name" -DCMAKE_PREFIX_PATH="$prefix" "$@" >"$work/$name.log" 2>&1 ||
        { cat "$work/$name.log"; return 1; }
    cmake --build "$work/$name" >>"$work/$name.log" 2>&1 || { cat "$work/$name.log"; return 1; }
}

step "CMake: find_package(mst ${version%.*} REQUIRED), mst::mst"
cmake_consumer cmake-shared -DMST_WANT_VERSION="${version%.*}"
"$work/cmake-shared/consumer"
readelf -d "$work/cmake-shared/consumer" | grep -q "NEEDED.*\[libmst\.so\.$major\]"

step "CMake: MST_USE_STATIC_LIBS=ON, mst::mst is libmst.a"
cmake_consumer cmake-static -DMST_USE_STATIC_LIBS=ON
"$work/cmake-static/consumer"
if readelf -d "$work/cmake-static/consumer" | grep -q 'NEEDED.*libmst'; then
    echo "the static consumer still needs libmst.so"; exit 1
fi

step "CMake: find_package(mst $((major + 1)).0) must not accept $version"
if cmake_consumer cmake-next-major -DMST_WANT_VERSION="$((major + 1)).0" >/dev/null 2>&1; then
    echo "find_package(mst $((major + 1)).0) accepted version $version"; exit 1
fi

step "make uninstall PREFIX=$prefix"
make -C "$repo" --no-print-directory uninstall PREFIX="$prefix"
left=$(find "$prefix" ! -type d)
if [ -n "$left" ]; then echo "make uninstall left:"; echo "$left"; exit 1; fi

step "all consumers built and ran against libmst $version"
