# e2e_cli.sh: the command line's help: `loralab CMD --help` and `loralab help
# CMD` print CMD's usage on stdout and exit 0, `loralab help` the overview;
# unknown commands and options exit 2; the usage texts list every option and
# the exit statuses; what help and the README say about BLAS threads is what
# a run records in meta.yaml.
. "$(dirname "$0")/lib.sh"

# The synopsis of each command, as the usage texts and the README write it.
declare -A synopsis=(
  [run]='loralab run FILE [-o DIR] [--set KEY=VALUE ...] [-j N] [--resume | --force] [--shard I/N] [--list] [--plot] [--quiet]'
  [plot]='loralab plot DIR [--y METRIC[,METRIC...]] [--x step|KEY] [--by KEY] [--panel KEY] [--logy] [--out FILE] [--script FILE]'
  [check]='loralab check [--quick] [--claims FILE] [-j N] [ID ...]'
  [bench]='loralab bench [--reps N] [--list] [NAME ...]'
  [merge]='loralab merge DIR SHARD_DIR ... [--force]'
)

# 1. CMD --help, CMD -h and help CMD: exit 0, the usage line first on stdout,
#    nothing on stderr, the same text all three ways
for cmd in run plot check bench merge; do
  expect_status 0 "$LORALAB" "$cmd" --help
  first=$(head -1 "$TMP/out")
  [ "$first" = "usage: ${synopsis[$cmd]}" ] && ok "$cmd --help starts with its usage line" \
    || bad "$cmd --help first line: '$first'"
  [ -s "$TMP/err" ] && bad "$cmd --help wrote to stderr: $(head -2 "$TMP/err")"
  cp "$TMP/out" "$TMP/help_$cmd"
  expect_status 0 "$LORALAB" help "$cmd"
  cmp -s "$TMP/out" "$TMP/help_$cmd" && ok "help $cmd = $cmd --help" || bad "help $cmd differs from $cmd --help"
  expect_status 0 "$LORALAB" "$cmd" -h
  cmp -s "$TMP/out" "$TMP/help_$cmd" && ok "$cmd -h = $cmd --help" || bad "$cmd -h differs"
  # every option of the synopsis is described below it
  for opt in $(grep -o -- '--*[a-z][a-z]*' <<<"${synopsis[$cmd]}" | sort -u); do
    grep -q -- "^  $opt" "$TMP/help_$cmd" || grep -q -- "^  [^ ].*, $opt" "$TMP/help_$cmd" \
      || bad "$cmd --help: no line for $opt"
  done
  grep -q '^exit status: ' "$TMP/help_$cmd" && ok "$cmd --help gives the exit statuses" || bad "$cmd: no exit statuses"
done
# --help after other arguments (even a file that does not exist) still helps
expect_status 0 "$LORALAB" run /nonexistent.yaml -j 2 --help
[ "$(head -1 "$TMP/out")" = "usage: ${synopsis[run]}" ] && ok "run FILE --help prints the usage" || bad "run FILE --help"

# 2. the overview: every synopsis, exit statuses with 130, pointers to help CMD
expect_status 0 "$LORALAB" help
for cmd in run plot check bench merge; do
  grep -qF -- "${synopsis[$cmd]}" "$TMP/out" || bad "overview lacks: ${synopsis[$cmd]}"
done
grep -q "^exit status: .*130 interrupted" "$TMP/out" && ok "overview: exit statuses with 130" || bad "overview exit statuses"
grep -q "loralab help CMD" "$TMP/out" && ok "overview points at help CMD" || bad "overview: no help CMD"
grep -q "results/NAME/ under the current directory" "$TMP/out" && ok "overview names the default folder" || bad "overview: default folder"
expect_status 0 "$LORALAB" --help
expect_status 2 "$LORALAB"
grep -q "^usage: loralab run" "$TMP/err" && ok "no command: overview on stderr" || bad "no command: stderr"

# 3. run's usage: --plot listed and described, 130, the default output folder
grep -q -- '^  --plot ' "$TMP/help_run" && ok "run --help describes --plot" || bad "run --help lacks --plot"
grep -q '130 interrupted' "$TMP/help_run" && ok "run --help: 130 interrupted" || bad "run --help: no 130"
grep -q '130 interrupted' "$TMP/help_check" && ok "check --help: 130 interrupted" || bad "check --help: no 130"
tr '\n' ' ' <"$TMP/help_run" | tr -s ' ' | grep -q 'default results/NAME/ under the current directory' \
  && ok "run --help: default folder results/NAME/ under the current directory" || bad "run --help: default folder"
for w in toy layer wide-n relu ntk jobs; do
  grep -q "^  $w " "$TMP/help_bench" || bad "bench --help lacks workload $w"
done

# 4. unknown command, unknown options, help on an unknown command: exit 2
expect_status 2 "$LORALAB" frobnicate
grep -q "unknown command 'frobnicate'" "$TMP/err" && ok "unknown command named" || bad "unknown command message"
expect_status 2 "$LORALAB" help frobnicate
expect_status 2 "$LORALAB" run "$SOURCE_ROOT/experiments/quickstart.yaml" --bogus
grep -q -- "--bogus" "$TMP/err" && ok "run: unknown option named" || bad "run: message $(cat "$TMP/err")"
expect_status 2 "$LORALAB" check --bogus
expect_status 2 "$LORALAB" check --claims
expect_status 2 "$LORALAB" merge "$TMP/a" "$TMP/b" --bogus
expect_status 2 "$LORALAB" bench --bogus
grep -q "unknown option --bogus" "$TMP/err" && ok "bench: unknown option named" || bad "bench: message $(cat "$TMP/err")"
expect_status 2 "$LORALAB" plot "$TMP" --bogus
expect_status 2 "$LORALAB" run

# 5. the README's command-line sections show the same synopses and say what
#    help says about BLAS threads
for cmd in run plot check bench merge; do
  grep -qF -- "${synopsis[$cmd]}" "$SOURCE_ROOT/README.md" && ok "README shows $cmd's synopsis" \
    || bad "README lacks: ${synopsis[$cmd]}"
done
blas='every cell runs BLAS on one thread'
tr '\n' ' ' <"$TMP/help_run" | tr -s ' ' | grep -q "more than one cell, $blas" && ok "run --help: BLAS threads" || bad "run --help: BLAS threads"
tr '\n' ' ' <"$SOURCE_ROOT/README.md" | tr -s ' ' | grep -q "more than one cell, $blas" && ok "README: BLAS threads" || bad "README: BLAS threads"

# 6. ... and a run does that: two cells with -j 1 run BLAS on one thread, a
#    single cell keeps OpenBLAS's thread count (meta.yaml records it)
cat >"$TMP/two.yaml" <<'YAML'
name: two
teacher: {d: 8, k: 6, n: 60, rank: 2}
lora: {rank: 2}
init: {method: lora}
optimizer: {method: gd, lr: 0.05, steps: 3}
log: {every: 1}
seeds: 2
YAML
OPENBLAS_NUM_THREADS=2 expect_status 0 "$LORALAB" run "$TMP/two.yaml" -o "$TMP/two" -j 1 --quiet
grep -q '^  threads: 1$' "$TMP/two/meta.yaml" && ok "two cells, -j 1: BLAS on one thread" || bad "two cells: $(grep threads "$TMP/two/meta.yaml")"
OPENBLAS_NUM_THREADS=2 expect_status 0 "$LORALAB" run "$TMP/two.yaml" -o "$TMP/one" -j 1 --quiet --set seeds=1
grep -q '^  threads: 2$' "$TMP/one/meta.yaml" && ok "one cell: OpenBLAS's threads (2)" || bad "one cell: $(grep threads "$TMP/one/meta.yaml")"

finish
