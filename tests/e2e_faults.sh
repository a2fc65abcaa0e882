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

# a write error while trace.csv is assembled (each cell's file fits, their sum
# does not): exit 1 naming trace.csv, the complete cells kept; --resume then
# reuses all of them and writes what a run without the limit writes
cat >"$TMP/sw.yaml" <<'YAML'
teacher: {d: 20, k: 12, n: 200, rank: 2}
lora: {rank: 3}
optimizer: {steps: 100}
sweep:
  init.alpha2: [0.1, 0.01, 0.001, 0.0001, 0.00001, 0.000001]
YAML
( ulimit -f 60; exec "$LORALAB" run "$TMP/sw.yaml" -o "$TMP/asm" --quiet ) >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" = 1 ] && grep -q 'cannot write .*trace.csv' "$TMP/err" && ok "assembly write error: exit 1 naming trace.csv" \
  || bad "exit $rc: $(cat "$TMP/err")"
[ ! -e "$TMP/asm/trace.csv" ] && [ -z "$(ls "$TMP/asm" | grep '\.tmp\.')" ] && ok "no trace.csv, no temporary file" \
  || bad "$(ls "$TMP/asm")"
[ "$(ls "$TMP/asm/cells" | grep -c '\.summary$')" = 6 ] && ok "the 6 complete cells kept" || bad "$(ls "$TMP/asm/cells")"
expect_status 0 "$LORALAB" run "$TMP/sw.yaml" -o "$TMP/asm" --resume
tail -1 "$TMP/err" | grep -q '6 cells: 0 run, 6 reused' && ok "resumed: all 6 reused" || bad "$(tail -1 "$TMP/err")"
expect_status 0 "$LORALAB" run "$TMP/sw.yaml" -o "$TMP/asm-ref" --quiet
same_results "$TMP/asm-ref" "$TMP/asm" "resumed after the assembly error = a run without the limit"
finish
