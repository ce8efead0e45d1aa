#!/bin/sh
# skip_reasons.sh - lists the tests the last ctest run in BUILD skipped, each
# with the reason it printed (ctest itself only says "Skipped"). Reads the
# JUnit file the README's test command asks ctest for (--output-junit
# ctest.xml, written into BUILD).
#   bash tests/skip_reasons.sh [BUILD]
build=${1:-build}
xml=$build/ctest.xml
if [ ! -f "$xml" ]; then
  echo "skip_reasons: no $xml; run ctest --test-dir $build --output-junit ctest.xml first" >&2
  exit 2
fi
awk '
  /<testcase / { match($0, /name="[^"]*"/); name = substr($0, RSTART + 6, RLENGTH - 7)
                 skipped = ($0 ~ /status="notrun"/); reason = ""; inout = 0 }
  skipped && /<system-out>/ { inout = 1; sub(/.*<system-out>/, "") }
  skipped && inout { line = $0; sub(/<\/system-out>.*/, "", line); if (line != "") reason = line
                     if ($0 ~ /<\/system-out>/) inout = 0 }
  /<\/testcase>/ && skipped { n++; printf "skipped %s: %s\n", name, reason == "" ? "(no reason printed)" : reason }
  END { if (n == 0) print "no test was skipped" }
' "$xml" | sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&apos;/'"'"'/g; s/&amp;/\&/g'
