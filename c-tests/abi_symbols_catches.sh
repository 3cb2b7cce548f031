#!/usr/bin/env bash
# The symbol check itself (c-tests/abi_symbols.sh): it must fail for each way the exported
# symbols can drift from abi/symbols.txt, a symbol moved to another version node above all,
# and pass the real library. A library "moved" that way is a stub: one empty function per
# listed symbol, linked with a copy of abi/libmst.map (edited or not).
#
#   c-tests/abi_symbols_catches.sh ROOT LIB
set -euo pipefail
root=$1 lib=$2
check=$root/c-tests/abi_symbols.sh
list=$root/abi/symbols.txt map=$root/abi/libmst.map
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# expect NAME pass|fail LIB LIST MAP
expect() {
    local name=$1 want=$2 got
    if sh "$check" "$3" "$4" "$5" > "$tmp/$name.out" 2>&1; then got=pass; else got=fail; fi
    if [ "$got" = "$want" ]; then
        echo "$name: the check ${want/pass/passe}s, as it must ($(tail -n 1 "$tmp/$name.out"))"
    else
        echo "$name: the check ${got}ed, it must ${want}:"; cat "$tmp/$name.out"; status=1
    fi
}

# stub NAME MAP: a library exporting every listed symbol, versioned by MAP.
stub() {
    sed -e '/^#/d' -e '/^$/d' -e 's/@.*//' "$list" | awk '{ print "void " $1 "(void) {}" }' > "$tmp/$1.c"
    ${CC:-cc} -shared -fPIC -o "$tmp/$1.so" "$tmp/$1.c" -Wl,--version-script="$2"
}

# mst_set_log_level (1.1) moved into the 1.0 node, the map edited as a careless change would.
moved_map=$tmp/moved.map
sed -e '/^ *mst_set_log_level;$/d' -e 's/^\( *mst_version;\)$/\1\n    mst_set_log_level;/' "$map" > "$moved_map"
cmp -s "$map" "$moved_map" && { echo "the edit changed nothing: abi/libmst.map no longer has mst_set_log_level"; exit 1; }

stub same "$map"
stub moved "$moved_map"
expect real_library pass "$lib" "$list" "$map"
expect stub_as_mapped pass "$tmp/same.so" "$list" "$map"
# The library exports it at the wrong node; the list and map still say MST_1.1.
expect library_moved fail "$tmp/moved.so" "$list" "$map"
# The map moved it too (library and map agree): the list, the record, still says MST_1.1.
expect library_and_map_moved fail "$tmp/moved.so" "$list" "$moved_map"
# The list says another node than the map and the library.
sed 's/^mst_set_log_level@MST_1.1$/mst_set_log_level@MST_1.0/' "$list" > "$tmp/relisted.txt"
expect list_moved fail "$lib" "$tmp/relisted.txt" "$map"
# A line in the old form, without its node.
sed 's/^mst_version@MST_1.0$/mst_version/' "$list" > "$tmp/bare.txt"
expect no_node fail "$lib" "$tmp/bare.txt" "$map"
# A symbol dropped from the list and the map, still exported.
grep -v '^mst_version@' "$list" > "$tmp/dropped.txt"
grep -v '^ *mst_version;$' "$map" > "$tmp/dropped.map"
expect unlisted_export fail "$lib" "$tmp/dropped.txt" "$tmp/dropped.map"
# A listed and mapped symbol the library does not export.
printf 'mst_no_such_function@MST_1.1\n' | cat "$list" - > "$tmp/extra.txt"
sed 's/^\( *mst_set_log_level;\)$/\1\n    mst_no_such_function;/' "$map" > "$tmp/extra.map"
expect removed fail "$lib" "$tmp/extra.txt" "$tmp/extra.map"
exit "$status"
