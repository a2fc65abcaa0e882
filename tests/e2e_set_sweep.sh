# e2e_set_sweep.sh: --set on swept keys and on the sweep block (README,
# "Sweeps"): a value given on the command line is never dropped.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/s.yaml" <<'YAML'
name: s
teacher: {d: 10, k: 8, n: 60, rank: 2}
lora: {rank: 2}
optimizer: {steps: 20}
log: {every: 10}
sweep:
  optimizer.lr: [0.01, 0.02]
  zip:
    init.alpha2: [1, 0.1]
    init.gamma: [1, 2]
YAML
# The same experiment written with lr fixed at 0.5 (what --set optimizer.lr=0.5 asks for).
sed -e 's/steps: 20}/steps: 20, lr: 0.5}/' -e '/optimizer.lr: \[/d' "$TMP/s.yaml" >"$TMP/fixed.yaml"

# cells FILE ARGS...: the number of cells --list prints
cells() { "$LORALAB" run "$@" --list 2>/dev/null | tail -n +2 | grep -c .; }

# 1. --set on a swept key replaces the axis by the one value
expect_status 0 "$LORALAB" run "$TMP/s.yaml" -o "$TMP/set" --quiet --set optimizer.lr=0.5
head -1 "$TMP/set/summary.csv" | tr ',' '\n' | grep -qx 'optimizer.lr' \
  && bad "optimizer.lr is still a column: $(head -1 "$TMP/set/summary.csv")" \
  || ok "optimizer.lr is no longer a swept column"
[ $(($(wc -l <"$TMP/set/summary.csv") - 1)) = 2 ] && ok "2 cells (the zip pair)" \
  || bad "summary rows: $(($(wc -l <"$TMP/set/summary.csv") - 1))"
grep -qx '  lr: 0.5' "$TMP/set/config.yaml" && ! grep -q 'optimizer.lr' "$TMP/set/config.yaml" \
  && ok "config.yaml: lr 0.5, not swept" || bad "config.yaml: $(grep -n 'lr' "$TMP/set/config.yaml")"
expect_status 0 "$LORALAB" run "$TMP/fixed.yaml" -o "$TMP/fixed" --quiet
cmp -s "$TMP/set/trace.csv" "$TMP/fixed/trace.csv" \
  && ok "trace.csv = the file with lr: 0.5 and no lr axis" || bad "trace.csv differs from lr: 0.5"
# a zip key set alone leaves the other zip key swept
[ "$(cells "$TMP/s.yaml" --set init.alpha2=0.5)" = 4 ] && ok "zip key set: 2 x 2 cells" \
  || bad "zip key set: $(cells "$TMP/s.yaml" --set init.alpha2=0.5) cells"

# 2. a bad value is an input error wherever it lands
expect_status 2 "$LORALAB" run "$TMP/s.yaml" -o "$TMP/abc" --set optimizer.lr=abc
grep -q "\-\-set optimizer.lr: expected a number, got 'abc'" "$TMP/err" \
  && ok "the message names --set optimizer.lr" || bad "message: $(cat "$TMP/err")"
[ ! -e "$TMP/abc" ] && ok "nothing written" || bad "output folder written"
expect_status 2 "$LORALAB" run "$TMP/s.yaml" --list --set 'sweep.optimizer.lr=[0.1, -1]'
grep -q -- "--set sweep.optimizer.lr: optimizer.lr: must be > 0 (got -1)" "$TMP/err" \
  && ok "bad swept value names --set sweep.optimizer.lr" || bad "message: $(cat "$TMP/err")"
expect_status 2 "$LORALAB" run "$TMP/s.yaml" --list --set 'sweep.optimizer.lr=0.5'
expect_status 2 "$LORALAB" run "$TMP/s.yaml" --list --set foo=1
grep -q "valid top-level keys: .*, sweep)" "$TMP/err" && ok "unknown key lists sweep" \
  || bad "message: $(cat "$TMP/err")"

# 3. sweep.KEY adds, replaces or removes an axis; sweep= the whole block
check_cells() {
  local want=$1; shift
  local got; got=$(cells "$TMP/s.yaml" "$@")
  [ "$got" = "$want" ] && ok "$want cells: $*" || bad "$got cells (wanted $want): $*"
}
check_cells 4
check_cells 8 --set 'sweep.lora.rank=[1, 2]'
check_cells 6 --set 'sweep.optimizer.lr=[0.1, 0.2, 0.3]'
check_cells 2 --set 'sweep.optimizer.lr=[]'
check_cells 2 --set 'sweep.zip.optimizer.lr=[0.3, 0.4]'
check_cells 12 --set 'sweep.init.alpha2=[1, 2, 3]'
check_cells 2 --set 'sweep.zip={}'
check_cells 1 --set 'sweep={}'
check_cells 1 --set sweep=null
check_cells 3 --set 'sweep={teacher.noise: [0, 0.1, 0.2]}'
expect_status 0 "$LORALAB" run "$TMP/s.yaml" -o "$TMP/add" --quiet --set 'sweep.lora.rank=[1, 2]'
head -1 "$TMP/add/summary.csv" | grep -q '^cell,optimizer.lr,lora.rank,init.alpha2,init.gamma,seed,' \
  && ok "the added axis is a column" || bad "summary header: $(head -1 "$TMP/add/summary.csv")"
grep -q '^  lora.rank: \[1, 2\]$' "$TMP/add/config.yaml" && ok "config.yaml records the added axis" \
  || bad "config.yaml sweep: $(sed -n '/^sweep:/,$p' "$TMP/add/config.yaml")"
expect_status 0 "$LORALAB" run "$TMP/add/config.yaml" --list
[ "$(tail -n +2 "$TMP/out" | grep -c .)" = 8 ] && ok "config.yaml reloads to 8 cells" || bad "reload"

finish
