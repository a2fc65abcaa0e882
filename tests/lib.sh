# lib.sh: helpers for the end-to-end tests (sourced).  Each test script exits
# 0 when all its checks pass and 1 otherwise.
set -u
LORALAB=${LORALAB:?set LORALAB to the loralab binary}
SOURCE_ROOT=${SOURCE_ROOT:?set SOURCE_ROOT to the source tree}
TMP=$(mktemp -d /tmp/loralab-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fails=0

ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# expect_status WANT CMD...: run CMD, check its exit status; output in $TMP/out, $TMP/err
expect_status() {
  local want=$1; shift
  "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  if [ "$got" = "$want" ]; then ok "exit $want: $*"; else
    bad "exit $got (wanted $want): $*"; sed 's/^/    /' "$TMP/err" | head -5; fi
}

# column FILE NAME: print the values of the named CSV column (no header)
column() {
  awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
                        { print $c }' "$1"
}

# strip_seconds FILE: FILE without its timing columns (seconds, setup_seconds,
# step_seconds), so results can be compared byte for byte
strip_seconds() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /seconds$/) c[i] = 1 }
           { out = ""; for (i = 1; i <= NF; i++) if (!(i in c)) out = out (out == "" ? "" : ",") $i; print out }' "$1"
}

# same_results DIR1 DIR2 WHAT: identical trace.csv, and summary.csv up to timings
same_results() {
  if cmp -s "$1/trace.csv" "$2/trace.csv" && \
     [ "$(strip_seconds "$1/summary.csv")" = "$(strip_seconds "$2/summary.csv")" ]; then
    ok "$3: identical trace.csv and summary.csv"
  else bad "$3: results differ"; fi
}

finish() {
  if [ "$fails" -gt 0 ]; then echo "$fails check(s) failed"; exit 1; fi
  echo "all checks passed"; exit 0
}
