# e2e_faults.sh: a write error (a file-size limit, as on a full disk) is a
# clear error naming the file, exit 1, and leaves no file that looks complete
# but is not: no trace.csv or summary.csv, no cell marked complete, no
# temporary file.
. "$(dirname "$0")/lib.sh"
Q="$SOURCE_ROOT/experiments/quickstart.yaml"
( ulimit -f 20; exec "$LORALAB" run "$Q" -o "$TMP/full" --quiet ) >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" = 1 ] && ok "write error: exit 1" || bad "exit $rc"
grep -q 'cannot write .*trace: File too large' "$TMP/err" && ok "message names the file" || bad "$(cat "$TMP/err")"
[ ! -e "$TMP/full/trace.csv" ] && [ ! -e "$TMP/full/summary.csv" ] && ok "no trace.csv / summary.csv" || bad "a CSV was written"
[ -z "$(ls "$TMP/full/cells" | grep -E '\.summary$|\.tmp\.')" ] && ok "no complete cell, no temporary file" || bad "$(ls "$TMP/full/cells")"
# the limit lifted, --resume finishes the run
expect_status 0 "$LORALAB" run "$Q" -o "$TMP/full" --quiet --resume
[ "$(column "$TMP/full/summary.csv" status)" = ok ] && ok "resumed after the write error" || bad "resume"
finish
