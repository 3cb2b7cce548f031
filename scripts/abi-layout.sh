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
#   field NAME.MEMBER offset O size S type T    T: the declared type, spaces as _
#   value NAME V                                enum values and integer macros
#   function NAME PROTOTYPE                     the declaration, spaces as _ (parameter names
#                                               included: rename one only with the baseline)
#
# check fails when a baseline line changed: a struct's alignment, a frozen struct's size, a
# sized struct shrinking, a field moved, resized, retyped or gone, a value changed or gone, a
# function gone or its prototype changed, or a field added anywhere but past the end of a
# sized struct. What is new (structs, values, functions, fields at the end of sized structs)
# is additive and passes, provided the fields a struct gains leave no implicit padding: a
# newer caller's padding bytes are not guaranteed zero, and an older libmst refuses nonzero
# bytes it does not know (README, "Structs that grow"), so padding must be explicit fields.
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
        print "#define FIELD(s, f, t) printf(\"field %s.%s offset %zu size %zu type %s\\n\", #s, #f, offsetof(s, f), sizeof(((s *)0)->f), t)"
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
        sub(/;$/, "", line)
        dims = ""
        if (match(line, /\[[0-9]+\]$/)) { dims = substr(line, RSTART); line = substr(line, 1, RSTART - 1) }
        n = split(line, w, /[ \t*]+/)
        member = w[n]
        type = substr(line, 1, length(line) - length(member))
        gsub(/[ \t]*\*[ \t]*/, "*", type); type = trim(type); gsub(/[ \t]+/, "_", type)
        if (first) { sized = (member == "struct_size"); first = 0 }
        body = body sprintf("    FIELD(%s, %s, \"%s%s\");\n", name, member, type, dims)
        next
    }
    # Function declarations, which may span lines: collected up to their semicolon.
    !in_struct && !in_enum && !in_proto && !/^template/ && !/static inline/ && /^[A-Za-z].*[ *]mst_[a-z0-9_]+\(/ { in_proto = 1; proto = "" }
    in_proto {
        proto = proto " " trim($0)
        if (proto ~ /;$/) {
            in_proto = 0
            gsub(/[ \t]+/, " ", proto); gsub(/\( /, "(", proto); gsub(/ \)/, ")", proto); gsub(/ \*/, "*", proto)
            proto = trim(proto); sub(/;$/, "", proto)
            fname = proto; sub(/\(.*/, "", fname); sub(/.*[ *]/, "", fname)
            gsub(/ /, "_", proto)
            printf "    puts(\"function %s %s\");\n", fname, proto
        }
        next
    }
    /^enum [A-Za-z0-9_]+$/ { in_enum = 1; next }
    in_enum && /^\};$/ { in_enum = 0; next }
    in_enum && /^  [A-Z0-9_]+ = / { printf "    VALUE(%s);\n", trim($1); next }
    /^#define MST_[A-Z0-9_]+ -?[0-9]+$/ && $2 !~ /^MST_VERSION_/ { printf "    VALUE(%s);\n", $2 }
    END { print "    return 0;"; print "}" }
    ' "$header"
}

# The program and its build go in one temp dir, removed when the script exits however it exits
# (a RETURN trap in print_layout missed the exits set -e makes when a broken header does not
# compile, which abi_check_catches provokes on purpose: each left a dir in /tmp).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

print_layout() {
    generate_program > "$work/layout.c"
    "${CC:-cc}" -std=c11 -Wall -Werror -I "$(dirname "$header")" "$work/layout.c" -o "$work/layout"
    "$work/layout"
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
            else if (w[1] == "field") { bfield[w[2]] = w[4] " " w[6] " " w[8] }
            else if (w[1] == "value") { bvalue[w[2]] = w[3] }
            else if (w[1] == "function") { bfunction[w[2]] = w[3] }
        }
    }
    $1 == "struct" { size[$2] = $4; align[$2] = $6; kind[$2] = $7 }
    $1 == "field" { field[$2] = $4 " " $6 " " $8; fieldorder[++nf] = $2 }
    $1 == "value" { value[$2] = $3 }
    $1 == "function" { function_[$2] = $3 }
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
            else if (field[f] != bfield[f]) fail("field " f " moved, resized or retyped: offset/size/type " bfield[f] " -> " field[f])
        }
        for (i = 1; i <= nf; i++) {
            f = fieldorder[i]
            if (f in bfield) continue
            s = f; sub(/\..*/, "", s)
            if (!(s in bsize)) continue
            split(field[f], o, " ")
            if (bkind[s] == "frozen") fail("field " f " added to frozen " s)
            else if (o[1] + 0 < bsize[s] + 0) fail("field " f " added at offset " o[1] ", inside the 1.0 size of " s " (" bsize[s] "): sized structs grow at their end only")
            else { grown[s] = 1; nnew[s]++; newoff[s, nnew[s]] = o[1] + 0; newend[s, nnew[s]] = o[1] + o[2] }
        }
        # The bytes a sized struct gained are all fields: no implicit padding between or after them.
        for (s in grown) {
            at = bsize[s] + 0
            for (k = 1; k <= nnew[s]; k++) {
                if (newoff[s, k] > at) fail(s ": " (newoff[s, k] - at) " bytes of implicit padding at offset " at ": make them an explicit field")
                at = newend[s, k]
            }
            if (size[s] + 0 > at) fail(s ": " (size[s] - at) " bytes of implicit tail padding at offset " at ": make them an explicit field")
        }
        for (fn in bfunction) {
            if (!(fn in function_)) fail("function " fn " is gone")
            else if (function_[fn] != bfunction[fn]) fail("function " fn " changed its prototype: " bfunction[fn] " -> " function_[fn])
        }
        for (v in bvalue) {
            if (!(v in value)) fail("value " v " is gone")
            else if (value[v] != bvalue[v]) fail("value " v " changed from " bvalue[v] " to " value[v])
        }
        if (failed) { print "mst.h breaks the 1.0 ABI (above); additions are fine, changes are not."; exit 1 }
        print "mst.h keeps every struct, field, value and function prototype of the 1.0 baseline (abi/layout.txt)"
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
