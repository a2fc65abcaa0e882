# e2e_check_paths.sh: a claims file anywhere naming its experiment by path.
# `experiment:` relative to the claims file's folder and absolute both pass,
# results go where `loralab run` puts them (results/<name>/ under the working
# directory, so run --resume there reuses them), and a field equals a text as
# written in the CSV ('2.0' == '2.0'); the README's example claims file
# passes; a missing experiment file, a
# misspelt metric or filter column, and two experiment files with one name
# are input errors (exit 2) naming the path or file:line:col of the claims file.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/study/exps" "$TMP/study/other" "$TMP/work"
cat >"$TMP/study/exps/tiny.yaml" <<'YAML'
teacher: {d: 6, k: 4, n: 40, rank: 1}
lora: {rank: 1}
optimizer: {method: gd, lr: 0.05, steps: 20}
log: {every: 5}
sweep:
  teacher.kappa: [1, 2.0]
YAML
cd "$TMP/work" || exit 1
# claims FILE EXPERIMENT PREDICATE...: one claim (id T) on EXPERIMENT
claims() {
  local f=$1 x=$2; shift 2
  { echo "claims:"; echo "  - id: T"; echo "    experiment: $x"; echo "    expect:"
    printf '      %s\n' "$@"; } >"$f"
}
# place FILE TEXT: "FILE:LINE:COL" of the first TEXT in FILE (1-based), by awk
place() { awk -v t="$2" -v f="$1" 'i = index($0, t) { print f ":" NR ":" i; exit }' "$1"; }

# 2 cells x steps 0, 5, 10, 15, 20 = 10 trace rows, 2 summary rows
rows='- {metric: risk, reduce: count, op: "==", value: 10}'
cells='- {table: summary, metric: status, reduce: count, op: "==", value: 2}'
# a field compared with a text compares its text as written ('2.0', not 2)
text="- {table: summary, where: \"teacher.kappa == '2.0'\", metric: status, reduce: count, op: \"==\", value: 1}"
claims "$TMP/study/claims.yaml" exps/tiny.yaml "$rows" "$cells" "$text"
expect_status 0 "$LORALAB" check --claims ../study/claims.yaml
[ "$(grep -c '^T  *PASS' "$TMP/out")" = 3 ] && ok "relative path from the claims file's folder passes" \
  || bad "relative: $(cat "$TMP/out" "$TMP/err")"
[ -s results/tiny/summary.csv ] && [ -s results/claims.md ] && [ ! -e "$TMP/study/results" ] \
  && ok "results in ./results/tiny/ (the working directory), none beside the claims file" \
  || bad "results folder: $(find "$TMP" -name summary.csv)"
[ "$(column results/tiny/trace.csv step | wc -l)" = 10 ] && ok "the trace has the 10 rows counted" || bad "trace rows"
expect_status 0 "$LORALAB" run ../study/exps/tiny.yaml --resume --quiet
grep -q 'cells_run: 0' results/tiny/meta.yaml && ok "loralab run --resume reuses check's results/tiny/" \
  || bad "run did not reuse: $(grep cells_ results/tiny/meta.yaml)"

rm -rf results
claims "$TMP/study/other/abs.yaml" "$TMP/study/exps/tiny.yaml" "$rows"
expect_status 0 "$LORALAB" check --claims "$TMP/study/other/abs.yaml"
grep -q '^T  *PASS' "$TMP/out" && [ -s results/tiny/trace.csv ] && ok "absolute path passes" \
  || bad "absolute: $(cat "$TMP/out")"

rm -rf results
claims "$TMP/study/missing.yaml" exps/nosuch.yaml "$rows"
expect_status 2 "$LORALAB" check --claims ../study/missing.yaml
grep -qF "$(place ../study/missing.yaml exps/nosuch.yaml): claim T: experiment: cannot read ../study/exps/nosuch.yaml" "$TMP/err" \
  && ok "missing experiment file: exit 2 naming the path and the experiment: line" || bad "$(cat "$TMP/err")"
[ ! -e results ] && ok "nothing written on bad input" || bad "results/ written"

claims "$TMP/study/typo.yaml" exps/tiny.yaml "$cells" '- {metric: rsik, reduce: max, op: "<", value: 1}'
expect_status 2 "$LORALAB" check --claims ../study/typo.yaml
grep -qF "$(place ../study/typo.yaml rsik): claim T: metric: no column 'rsik' in trace.csv (did you mean 'risk'?)" "$TMP/err" \
  && ok "misspelt metric: did you mean, at the metric: value" || bad "$(cat "$TMP/err")"
[ ! -s "$TMP/out" ] && ok "no verdict printed before the error" || bad "printed: $(cat "$TMP/out")"

claims "$TMP/study/table.yaml" exps/tiny.yaml '- {metric: steps_to_tol, reduce: max, op: "<", value: 1}'
expect_status 2 "$LORALAB" check --claims ../study/table.yaml
grep -qF "$(place ../study/table.yaml steps_to_tol): claim T: metric: no column 'steps_to_tol' in trace.csv (it is a column of summary.csv: add table: summary)" "$TMP/err" \
  && ok "a summary metric on the trace says table: summary" || bad "$(cat "$TMP/err")"

claims "$TMP/study/where.yaml" exps/tiny.yaml '- {where: "stpe >= 5", metric: risk, reduce: max, op: "<", value: 1}'
expect_status 2 "$LORALAB" check --claims ../study/where.yaml
grep -qF "$(place ../study/where.yaml '"stpe >= 5"'): claim T: where: " "$TMP/err" && grep -qF "did you mean 'step'?" "$TMP/err" \
  && ok "misspelt where column: did you mean, at the where: value" || bad "$(cat "$TMP/err")"

# the README's example claims file, with the experiment its text describes
mkdir -p "$TMP/readme/exps"
cat >"$TMP/readme/exps/mine.yaml" <<'YAML'
teacher: {d: 10, k: 8, n: 80, rank: 2}
optimizer: {method: gd, lr: 0.2, steps: 300}
sweep:
  lora.rank: [1, 2]
seeds: 2
YAML
awk '/^claims: .*the only top-level key/ { on = 1 } on && /^```/ { exit } on' "$SOURCE_ROOT/README.md" >"$TMP/readme/claims.yaml"
expect_status 0 "$LORALAB" check --claims ../readme/claims.yaml
[ "$(grep -c '^MINE-1  *PASS' "$TMP/out")" = 2 ] && ok "the README's example passes" || bad "README example: $(cat "$TMP/out")"
grep -q '^claim MINE-1: inside PASS (2 of 4 cells), outside BREAKS (2 cells)$' "$TMP/out" \
  && ok "the README's example: PASS on r >= r*, BREAKS outside, as its text says" || bad "README example: $(cat "$TMP/out")"

cp "$TMP/study/exps/tiny.yaml" "$TMP/study/other/tiny.yaml"
claims "$TMP/study/two.yaml" exps/tiny.yaml "$rows"
printf '  - id: U\n    experiment: other/tiny.yaml\n    expect:\n      %s\n' "$rows" >>"$TMP/study/two.yaml"
expect_status 2 "$LORALAB" check --claims ../study/two.yaml
grep -qF "$(place ../study/two.yaml other/tiny.yaml): claim U: experiment ../study/other/tiny.yaml writes results/tiny/, as does ../study/exps/tiny.yaml" "$TMP/err" \
  && ok "two experiment files with one name: exit 2" || bad "$(cat "$TMP/err")"
finish
