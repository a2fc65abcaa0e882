# e2e_new_question.sh: a researcher's own question, end to end.  Copy a
# shipped experiment, shrink it, run it; grow it by a swept value and a seed
# and --resume (the complete cells are reused, not recomputed); draw a
# generic figure of it; check a claim about it from a claims file outside
# theory/ that names the experiment by path.
. "$(dirname "$0")/lib.sh"

# 1. copy quickstart and make it a small sweep over the init scale
sed -e 's/^name: quickstart/name: myq/' -e 's/steps: 1500/steps: 300/' \
    -e 's/^  every: 1$/  every: 10/' \
    "$SOURCE_ROOT/experiments/quickstart.yaml" >"$TMP/myq.yaml"
cat >>"$TMP/myq.yaml" <<'YAML'
sweep:
  init.alpha2: [1.0e-3, 1.0e-1]
YAML
expect_status 0 "$LORALAB" run "$TMP/myq.yaml" -o "$TMP/res" --quiet
[ "$(($(wc -l <"$TMP/res/summary.csv") - 1))" = 2 ] && ok "2 cells" || bad "first run: $(wc -l <"$TMP/res/summary.csv") lines"
# the complete cells' markers, with their modification times
stat -c '%n %Y.%y' "$TMP/res/cells/"*.summary | sort >"$TMP/before"
[ "$(wc -l <"$TMP/before")" = 2 ] && ok "2 cell markers" || bad "cell markers: $(cat "$TMP/before")"
sleep 1.1   # so that a recomputed cell would get a later mtime

# 2. the question grows: one more value and one more seed
sed -e 's/init.alpha2: \[1.0e-3, 1.0e-1\]/init.alpha2: [1.0e-3, 1.0e-1, 1.0e-5]/' \
    -e 's/^seeds: 1/seeds: 2/' "$TMP/myq.yaml" >"$TMP/myq2.yaml"
grep -q 'seeds: 2' "$TMP/myq2.yaml" || bad "test set-up: seeds not raised"
expect_status 2 "$LORALAB" run "$TMP/myq2.yaml" -o "$TMP/res" --quiet
grep -q 'init.alpha2\|seeds' "$TMP/err" && ok "without --resume: the message names the differing setting" \
  || bad "message: $(cat "$TMP/err")"
expect_status 0 "$LORALAB" run "$TMP/myq2.yaml" -o "$TMP/res" --resume --quiet
[ "$(($(wc -l <"$TMP/res/summary.csv") - 1))" = 6 ] && ok "6 cells after growing" || bad "grown: $(wc -l <"$TMP/res/summary.csv") lines"
grep -Eq '^ *cells_reused: 2$' "$TMP/res/meta.yaml" && ok "meta.yaml: 2 cells reused" \
  || bad "meta.yaml reuse count: $(grep -i reuse "$TMP/res/meta.yaml")"
grep -Eq '^ *cells_run: 4$' "$TMP/res/meta.yaml" && ok "meta.yaml: 4 cells run" \
  || bad "meta.yaml run count: $(grep cells_run "$TMP/res/meta.yaml")"
stat -c '%n %Y.%y' $(cut -d' ' -f1 "$TMP/before") | sort >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" && ok "the 2 old cells were reused, not recomputed (same files, same mtimes)" \
  || { bad "old cells rewritten"; diff "$TMP/before" "$TMP/after"; }
# the grown folder equals a fresh run of the grown experiment
expect_status 0 "$LORALAB" run "$TMP/myq2.yaml" -o "$TMP/fresh" --quiet
same_results "$TMP/res" "$TMP/fresh" "grown with --resume vs fresh"

# 3. a figure with no script of its own
if command -v gnuplot >/dev/null 2>&1; then
  expect_status 0 "$LORALAB" plot "$TMP/res" --y risk --by init.alpha2 --out "$TMP/fig"
  [ -s "$TMP/fig.png" ] && [ -s "$TMP/fig.pdf" ] && ok "plot: PNG and PDF" || bad "plot files: $(ls "$TMP")"
else
  echo "skip plot: no gnuplot"
fi

# 4. a claim about it, in a claims file outside theory/, experiment by path
mkdir -p "$TMP/claims"
cp "$TMP/myq2.yaml" "$TMP/claims/myq.yaml"
cat >"$TMP/claims/mine.yaml" <<'YAML'
claims:
  - id: MY-1
    source: "my own question"
    statement: "the smallest init scale aligns A with U_r*(G)"
    experiment: myq.yaml
    expect:
      - where: "init.alpha2 <= 1e-4"
        table: summary
        metric: min_align_a
        reduce: max
        op: "<"
        value: 0.5
YAML
(cd "$TMP" && expect_status 0 "$LORALAB" check --claims "$TMP/claims/mine.yaml")
grep -q 'MY-1.*PASS' "$TMP/out" && ok "claim MY-1 passes" || bad "check output: $(cat "$TMP/out" "$TMP/err" | head -5)"
finish
