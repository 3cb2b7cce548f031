#!/bin/sh
# The ABI's symbols: LIB exports exactly the symbols of LIST (abi/symbols.txt), each at the
# version node LIST records for it (`name@MST_1.0`, as the default version name@@MST_1.0), and
# MAP (abi/libmst.map, the linker's version script) puts each in that same node. LIST is the
# record: lines are only ever added, so a symbol that disappears, appears unlisted, or moves to
# another node (in the map, or in the library through a symver! list in src/ffi) fails here.
#
#   c-tests/abi_symbols.sh LIB LIST MAP
set -eu
lib=$1 list=$2 map=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sed -e '/^#/d' -e '/^$/d' "$list" > "$tmp/lines"
malformed=$(grep -Ev '^mst_[a-z0-9_]+@MST_[0-9]+\.[0-9]+$' "$tmp/lines" || true)
if [ -n "$malformed" ]; then
  echo "$list: lines not of the form name@MST_x.y (the symbol and its version node):"; echo "$malformed"; exit 1
fi
sort "$tmp/lines" > "$tmp/listed"
awk '/^MST_[0-9.]+ *[{]/ { node = $1 } /^ *mst_[a-z0-9_]*;$/ { gsub(/[ ;]/, ""); print $0 "@" node }' "$map" \
  | sort > "$tmp/mapped"
if ! cmp -s "$tmp/listed" "$tmp/mapped"; then
  echo "$list and $map differ (name@node; < the list, > the map):"; diff "$tmp/listed" "$tmp/mapped" || true; exit 1
fi

# nm prints name@@NODE for a default version, name@NODE for a hidden one, name for none.
nm -D --defined-only --with-symbol-versions "$lib" | awk 'NF == 3 && $3 ~ /^mst_/ { print $3 }' | sort > "$tmp/exported"
status=0
awk -F@ 'FILENAME == ARGV[1] { node[$1] = $2; next }
  { name = $1; seen[name] = 1; got = substr($0, length(name) + 1) }
  !(name in node) { print "exported but not in abi/symbols.txt and abi/libmst.map (add it to both, in a new version node, or stop exporting it): " $0; bad = 1; next }
  got != "@@" node[name] { print name ": abi/symbols.txt records it at " node[name] ", the library exports it as " $0 " (moved to another version node, or not the default version)"; bad = 1 }
  END { for (n in node) if (!(n in seen)) { print "removed from the ABI (in abi/symbols.txt at " node[n] ", not exported): " n; bad = 1 }
        exit bad }' "$tmp/listed" "$tmp/exported" || status=1
[ "$status" -eq 0 ] && echo "$lib exports the $(wc -l < "$tmp/listed") symbols of $list, each as name@@ the node recorded there and in $map"
exit "$status"
