#!/usr/bin/env bash
# The layout of mst.h's types, and its check against the 1.0 baseline in abi/layout.txt.
#
#   scripts/abi-layout.sh print [HEADER]    the layout, as abi/layout.txt holds it
#   scripts/abi-layout.sh check [HEADER]    compare with abi/layout.txt (the abi_layout ctest)
#   scripts/abi-layout.sh update [HEADER]   rewrite abi/layout.txt (only when a release adds to it)
#
# HEADER defaults to include/mst.h. The layout comes from a C program generated from the
# header (every struct's fields, every enum's values, every integer MST_* macro) and compiled
# with $CC (default cc) against it, so it is what a C compiler lays out:
#
#   struct NAME size N align A sized|frozen     sized: starts with struct_size (may grow)
#   field NAME.MEMBER offset O size S
#   value NAME V                                enum values and integer macros
#
# check fails when a baseline line changed: a struct's alignment, a frozen struct's size, a
# sized struct shrinking, a field moved or resized or gone, a value changed or gone, or a
# field added anywhere but past the end of a sized struct. What is new (structs, values,
# fields at the end of sized structs) is additive and passes.
set -euo pipefail

cd "$(dirname "$0")/.."
mode=${1:-print}
header=$(realpath "${2:-include/mst.h}")
baseline=abi/layout.txt

generate_program() {
    awk -v header_name="$(basename "$header")" '
    function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
    BEGIN {
        print "#include <stdalign.h>"
        print "#include <stddef.h>"
        print "#include <stdio.h>"
        print "#include \"" header_name "\""
        print "#define FIELD(s, f) printf(\"field %s.%s offset %zu size %zu\\n\", #s, #f, offsetof(s, f), sizeof(((s *)0)->f))"
        print "#define VALUE(v) printf(\"value %s %lld\\n\", #v, (long long)(v))"
        print "int main(void) {"
    }
    # Comments: drop /** ... */ blocks and // tails.
    /^[ \t]*\/\*/ { in_comment = 1 }
    in_comment { if ($0 ~ /\*\//) in_comment = 0; next }
    { sub(/\/\/.*$/, "") }
    /^typedef struct [A-Za-z0-9_]+ \{$/ { name = $3; first = 1; body = ""; in_struct = 1; next }
    in_struct && /^\} [A-Za-z0-9_]+;$/ {
        printf "    printf(\"struct %%s size %%zu align %%zu %%s\\n\", \"%s\", sizeof(%s), alignof(%s), \"%s\");\n", name, name, name, sized ? "sized" : "frozen"
        printf "%s", body
        in_struct = 0; sized = 0; next
    }
    in_struct {
        line = trim($0)
        if (line == "") next
        sub(/;$/, "", line); sub(/\[[0-9]+\]$/, "", line)
        n = split(line, w, /[ \t*]+/)
        member = w[n]
        if (first) { sized = (member == "struct_size"); first = 0 }
        body = body sprintf("    FIELD(%s, %s);\n", name, member)
        next
    }
    /^enum [A-Za-z0-9_]+$/ { in_enum = 1; next }
    in_enum && /^\};$/ { in_enum = 0; next }
    in_enum && /^  [A-Z0-9_]+ = / { printf "    VALUE(%s);\n", trim($1); next }
    /^#define MST_[A-Z0-9_]+ -?[0-9]+$/ && $2 !~ /^MST_VERSION_/ { printf "    VALUE(%s);\n", $2 }
    END { print "    return 0;"; print "}" }
    ' "$header"
}

print_layout() {
    local dir
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' RETURN
    generate_program > "$dir/layout.c"
    "${CC:-cc}" -std=c11 -Wall -Werror -I "$(dirname "$header")" "$dir/layout.c" -o "$dir/layout"
    "$dir/layout"
}

check_layout() {
    local current
    current=$(print_layout)
    printf '%s\n' "$current" | awk -v baseline="$baseline" '
    function fail(msg) { print "abi/layout.txt: " msg; failed = 1 }
    BEGIN {
        while ((getline line < baseline) > 0) {
            if (line ~ /^#/ || line == "") continue
            split(line, w, " ")
            if (w[1] == "struct") { bsize[w[2]] = w[4]; balign[w[2]] = w[6]; bkind[w[2]] = w[7] }
            else if (w[1] == "field") { bfield[w[2]] = w[4] " " w[6] }
            else if (w[1] == "value") { bvalue[w[2]] = w[3] }
        }
    }
    $1 == "struct" { size[$2] = $4; align[$2] = $6; kind[$2] = $7 }
    $1 == "field" { field[$2] = $4 " " $6; fieldorder[++nf] = $2 }
    $1 == "value" { value[$2] = $3 }
    END {
        for (s in bsize) {
            if (!(s in size)) { fail(s " is gone"); continue }
            if (kind[s] != bkind[s]) fail(s " was " bkind[s] ", is " kind[s])
            if (align[s] != balign[s]) fail(s " alignment changed from " balign[s] " to " align[s])
            if (bkind[s] == "frozen" && size[s] != bsize[s]) fail("frozen " s " changed size from " bsize[s] " to " size[s])
            if (bkind[s] == "sized" && size[s] + 0 < bsize[s] + 0) fail(s " shrank from " bsize[s] " to " size[s])
        }
        for (f in bfield) {
            if (!(f in field)) fail("field " f " is gone")
            else if (field[f] != bfield[f]) fail("field " f " moved or resized: offset/size " bfield[f] " -> " field[f])
        }
        for (i = 1; i <= nf; i++) {
            f = fieldorder[i]
            if (f in bfield) continue
            s = f; sub(/\..*/, "", s)
            if (!(s in bsize)) continue
            split(field[f], o, " ")
            if (bkind[s] == "frozen") fail("field " f " added to frozen " s)
            else if (o[1] + 0 < bsize[s] + 0) fail("field " f " added at offset " o[1] ", inside the 1.0 size of " s " (" bsize[s] "): sized structs grow at their end only")
        }
        for (v in bvalue) {
            if (!(v in value)) fail("value " v " is gone")
            else if (value[v] != bvalue[v]) fail("value " v " changed from " bvalue[v] " to " value[v])
        }
        if (failed) { print "mst.h breaks the 1.0 ABI (above); additions are fine, changes are not."; exit 1 }
        print "mst.h keeps every struct, field and value of the 1.0 baseline (abi/layout.txt)"
    }'
}

case $mode in
print) print_layout ;;
check) check_layout ;;
update)
    {
        echo "# libmst 1.0 ABI layout baseline: scripts/abi-layout.sh update writes it, check compares."
        print_layout
    } > "$baseline.tmp"
    mv "$baseline.tmp" "$baseline"
    echo "wrote $baseline"
    ;;
*) echo "usage: $0 print|check|update [HEADER]" >&2; exit 2 ;;
esac
