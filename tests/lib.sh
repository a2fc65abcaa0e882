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

finish() {
  if [ "$fails" -gt 0 ]; then echo "$fails check(s) failed"; exit 1; fi
  echo "all checks passed"; exit 0
}
