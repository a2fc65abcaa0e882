# e2e_check_quick.sh: `loralab check --quick` on the real claims registry
# (theory/claims.yaml) passes: every asserted claim of both papers holds on
# the CI-sized runs.  Runs in a scratch folder (results/quick/ there).
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
"$LORALAB" check --quick -j 2 --claims "$SOURCE_ROOT/theory/claims.yaml" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out"
[ "$rc" = 0 ] && ok "check --quick: every asserted claim holds" || { bad "check --quick exit $rc"; tail -5 "$TMP/err"; }
n=$(grep -cE '^[A-Z0-9]+-[^ ]* +(PASS|REPORT)' "$TMP/out")
[ "$n" -ge 11 ] && ok "$n predicates evaluated" || bad "only $n predicates"
finish
