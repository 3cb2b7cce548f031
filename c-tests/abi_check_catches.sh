#!/usr/bin/env bash
# The layout check itself: each kind of 1.0 ABI break, made in a copy of mst.h, must fail
# scripts/abi-layout.sh check, and an additive change must pass. A checker that passes
# everything would otherwise go unnoticed.
#
#   c-tests/abi_check_catches.sh ROOT HEADER
set -euo pipefail
root=$1 header=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# expect NAME pass|fail PYTHON-EDIT: edits a copy of the header, runs the check.
expect() {
    local name=$1 want=$2 edit=$3
    python3 - "$header" "$tmp/$name.h" "$edit" <<'PY' || { status=1; return; }
import sys
src, dst, edit = sys.argv[1:]
s = before = open(src).read()
exec(edit)
if s == before:
    sys.exit("the edit changed nothing: mst.h no longer has the text it replaces")
open(dst, "w").write(s)
PY
    if bash "$root/scripts/abi-layout.sh" check "$tmp/$name.h" > "$tmp/$name.out" 2>&1; then got=pass; else got=fail; fi
    if [ "$got" = "$want" ]; then
        echo "$name: the check ${want/pass/passe}s, as it must ($(tail -n 2 "$tmp/$name.out" | head -n 1))"
    else
        echo "$name: the check ${got}ed, it must ${want}:"; cat "$tmp/$name.out"; status=1
    fi
}

# A field retyped in place (same offset and size).
expect retyped fail 's = s.replace("  float sample_rate;", "  uint32_t sample_rate;")'
# A prototype changed (a parameter gained const).
expect prototype fail 's = s.replace("MstStatus mst_processor_wakeup(struct MstProcessor *processor);", "MstStatus mst_processor_wakeup(const struct MstProcessor *processor);")'
# Two fields swapped (MstRect's width and height: frozen, same types, same size).
expect moved fail 's = s.replace("  uint32_t width;\n  uint32_t height;\n} MstRect;", "  uint32_t height;\n  uint32_t width;\n} MstRect;")'
# A sized struct grown at its end, leaving implicit padding.
expect padded fail 'i = s.index("} MstFileStats;"); s = s[:i] + "  uint8_t new_flag;\n  uint64_t new_counter;\n" + s[i:]'
# A value renumbered.
expect renumbered fail 's = s.replace("MST_ERR_BUSY = -21", "MST_ERR_BUSY = -29")'
# Additive: a sized struct grown at its end without padding, a new value, a new function.
expect additive pass 'i = s.index("} MstFileStats;"); s = s[:i] + "  uint64_t new_counter;\n" + s[i:]; s = s.replace("#endif  /* MST_H */", "#define MST_NEW_THING 7\nMstStatus mst_new_thing(void);\n#endif  /* MST_H */")'
exit "$status"
