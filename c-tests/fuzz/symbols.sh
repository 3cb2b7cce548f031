#!/bin/sh
# Fails when an exported function (abi/symbols.txt) is not called in fuzz_api.c: a function
# added to the ABI without an op would silently drop out of the fuzzer's coverage.
#   sh c-tests/fuzz/symbols.sh [REPO-ROOT]
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
missing=0
for name in $(grep -v '^#' "$root/abi/symbols.txt" | cut -d@ -f1); do
    if ! grep -q "\\b$name(" "$root/c-tests/fuzz/fuzz_api.c"; then
        echo "fuzz_api.c calls no $name (abi/symbols.txt exports it): add an op for it"
        missing=1
    fi
done
exit $missing
