#!/usr/bin/env bash
# check_api_docs.sh SOURCE_DIR - every public function is documented where it
# is declared, so that a new one cannot land undocumented:
#  1. each DN_API declaration in include/digitnet/*.h (and *.h.in) has a
#     comment of its own ending on the line directly above it;
#  2. when it returns dn_status, that comment names its errors (a DN_ERR_
#     code, or "errors"/"fails as" pointing at another function's);
#  3. each header that declares DN_API functions has a "Thread-safety:"
#     paragraph in its opening comment: which calls may run at the same time.
# The conventions these notes follow are in include/digitnet.h.
set -uo pipefail
source_dir=${1:-$(cd "$(dirname "$0")/.." && pwd)}
headers=("$source_dir"/include/digitnet/*.h "$source_dir"/include/digitnet/*.h.in)
awk '
function report(file, line, what) { printf "%s:%d: %s\n", file, line, what; bad++ }
function finish_file() {
    if (file != "" && declares && !threads)
        report(file, 1, "the opening comment has no \"Thread-safety:\" paragraph")
}
FNR == 1 { finish_file(); file = FILENAME; opening = 1; declares = 0; threads = 0; in_comment = 0; closed_at = 0 }
opening && /Thread-safety:/ { threads = 1 }
opening && /\*\// { opening = 0 }
/^[ \t]*\/\*/ { in_comment = 1; comment = "" }
in_comment { comment = comment " " $0 }
in_comment && /\*\/[ \t]*$/ { in_comment = 0; closed_at = FNR; next }
/^DN_API/ {
    declares = 1
    count++
    name = $0; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name)
    if (closed_at != FNR - 1)
        report(FILENAME, FNR, name ": no doc comment directly above")
    else if ($0 ~ /^DN_API dn_status / && comment !~ /DN_ERR_|[Ee]rrors|[Ff]ails as/)
        report(FILENAME, FNR, name ": returns dn_status but its comment names no error (DN_ERR_...)")
}
END {
    finish_file()
    printf "%d DN_API declarations checked, %d problems\n", count, bad
    exit (bad > 0 || count == 0)
}' "${headers[@]}"
