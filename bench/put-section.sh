#!/usr/bin/env bash
# Puts a section file into bench/RESULTS.md (or another results file): in place of the last
# section whose heading starts with PREFIX, else before "## Not in this file yet", else at the
# end; every other line as it was. Used by soak.sh and parallel.sh.
#
#   bash bench/put-section.sh "## Soak:" bench/SOAK.md bench/RESULTS.md
set -euo pipefail
prefix=$1 section=$2 results=$3
[ -f "$results" ] || : >"$results"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
awk -v section="$section" -v prefix="$prefix" '
    function put(  line) { while ((getline line < section) > 0) print line; print ""; done = 1 }
    /^## / { skipping = 0 }
    index($0, prefix) == 1 { skipping = 1; if (!done) put(); next }
    /^## Not in this file yet/ && !done { put() }
    !skipping { print }
    END { if (!done) { print ""; put() } }
' "$results" >"$tmp"
cp "$tmp" "$results"
