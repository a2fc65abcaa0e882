# e2e_grow.sh: content-addressed cells.  --resume grows an experiment (a
# value added to a list, a seed more, a new axis whose list holds the old
# fixed value): complete cells are reused, not recomputed (their files keep
# their timestamps, meta.yaml counts them), and the folder ends equal to a
# fresh run of the grown experiment.  Cells dropped from the grid leave the
# CSVs but keep their files (growing back reuses them).  Without --resume a
# non-empty folder is refused, naming the first setting that differs.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/base.yaml" <<'YAML'
name: grow
teacher: {d: 20, k: 12, n: 200, rank: 2}
lora: {rank: 3}
optimizer: {method: gd, lr: 0.05, steps: 120}
log: {every: 10}
sweep:
  init.alpha2: [0.1, 0.001]
seeds: 2
YAML
sed 's/init.alpha2: \[0.1, 0.001\]/init.alpha2: [0.1, 0.01, 0.001]/' "$TMP/base.yaml" >"$TMP/value.yaml"
sed 's/^seeds: 2/seeds: 3/' "$TMP/base.yaml" >"$TMP/seed.yaml"
sed 's/^  init.alpha2: .*/&\n  optimizer.lr: [0.02, 0.05]/' "$TMP/base.yaml" >"$TMP/axis.yaml"
sed 's/init.alpha2: \[0.1, 0.001\]/init.alpha2: [0.001]/' "$TMP/base.yaml" >"$TMP/shrunk.yaml"

# meta VALUE DIR KEY: a count from DIR/meta.yaml
meta() { awk -v k="$2:" '$1 == k { print $2 }' "$1/meta.yaml"; }
# stamps DIR: "file mtime" of every cells/*.summary (nanoseconds)
stamps() { (cd "$1/cells" && find . -name '*.summary' -printf '%f %T@\n' | sort); }

expect_status 0 "$LORALAB" run "$TMP/base.yaml" -o "$TMP/base" --quiet
stamps "$TMP/base" >"$TMP/base.stamps"
[ "$(wc -l <"$TMP/base.stamps")" = 4 ] && ok "base: 4 complete cells" || bad "base: $(cat "$TMP/base.stamps")"
sleep 1.1   # a recomputed cell would get a later mtime

for g in value seed axis; do
  cp -a "$TMP/base" "$TMP/$g"
  expect_status 0 "$LORALAB" run "$TMP/$g.yaml" -o "$TMP/$g" --resume
  cells=$(($(wc -l <"$TMP/$g/summary.csv") - 1))
  [ "$(meta "$TMP/$g" cells_reused)" = 4 ] && [ "$(meta "$TMP/$g" cells_run)" = $((cells - 4)) ] \
    && ok "$g: meta.yaml: 4 cells reused, $((cells - 4)) run" \
    || bad "$g: meta.yaml: reused $(meta "$TMP/$g" cells_reused), run $(meta "$TMP/$g" cells_run)"
  tail -1 "$TMP/err" | grep -q "$cells cells: $((cells - 4)) run, 4 reused, 0 not run" \
    && ok "$g: stderr counts" || bad "$g: stderr: $(tail -1 "$TMP/err")"
  # the old cells' files were not rewritten
  if [ "$(stamps "$TMP/$g" | grep -F -f "$TMP/base.stamps" | wc -l)" = 4 ]; then
    ok "$g: the 4 old cells were not recomputed (same mtimes)"
  else bad "$g: old cells rewritten"; fi
  expect_status 0 "$LORALAB" run "$TMP/$g.yaml" -o "$TMP/$g-fresh" --quiet
  same_results "$TMP/$g-fresh" "$TMP/$g" "$g: grown folder = fresh run of the grown experiment"
  cmp -s "$TMP/$g-fresh/config.yaml" "$TMP/$g/config.yaml" && ok "$g: config.yaml is the grown experiment" \
    || bad "$g: config.yaml differs from a fresh run's"
  cmp -s "$TMP/$g-fresh/trace_mean.csv" "$TMP/$g/trace_mean.csv" && ok "$g: trace_mean.csv too" \
    || bad "$g: trace_mean.csv differs"
done

# the new axis holds the old fixed value: the old cells keep their ids
old_ids=$(column "$TMP/base/summary.csv" cell | sort)
new_ids=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "optimizer.lr") c = i; next }
                   $c == "0.05" { print $1 }' "$TMP/axis/summary.csv" | sort)
[ -n "$old_ids" ] && [ "$old_ids" = "$new_ids" ] && ok "axis: the lr = 0.05 cells are the old cells (same ids)" \
  || bad "axis: ids '$old_ids' vs '$new_ids'"

# shrink: dropped cells leave the CSVs, their files stay; growing back reuses them
cp -a "$TMP/value" "$TMP/shrink"
expect_status 0 "$LORALAB" run "$TMP/shrunk.yaml" -o "$TMP/shrink" --resume --quiet
expect_status 0 "$LORALAB" run "$TMP/shrunk.yaml" -o "$TMP/shrunk-fresh" --quiet
same_results "$TMP/shrunk-fresh" "$TMP/shrink" "shrunk folder = fresh run of the shrunk experiment"
kept=0
for id in $(column "$TMP/value/summary.csv" cell); do
  grep -q "^$id," "$TMP/shrink/summary.csv" && continue
  [ -s "$TMP/shrink/cells/$id.summary" ] && [ -s "$TMP/shrink/cells/$id.trace" ] && kept=$((kept + 1))
done
[ "$kept" = 4 ] && ok "the 4 dropped cells keep cells/ID.summary and cells/ID.trace" || bad "dropped cells kept: $kept"
expect_status 0 "$LORALAB" run "$TMP/value.yaml" -o "$TMP/shrink" --resume --quiet
[ "$(meta "$TMP/shrink" cells_run)" = 0 ] && [ "$(meta "$TMP/shrink" cells_reused)" = 6 ] \
  && ok "grown back: every cell reused" || bad "grown back: run $(meta "$TMP/shrink" cells_run)"
same_results "$TMP/value" "$TMP/shrink" "grown back = the grown folder"
[ -z "$(ls "$TMP/shrink/cells" | grep '\.trace$')" ] && ok "no cells/ID.trace left once all are in trace.csv" \
  || bad "left: $(ls "$TMP/shrink/cells" | grep '\.trace$' | head -3)"

# without --resume: refused, naming the first setting that differs, both values
expect_status 2 "$LORALAB" run "$TMP/base.yaml" -o "$TMP/base" --set optimizer.lr=0.02
grep -q "differs.*optimizer.lr is 0.05 there, 0.02 here" "$TMP/err" && ok "message names optimizer.lr, 0.05 there, 0.02 here" \
  || bad "message: $(cat "$TMP/err")"
expect_status 2 "$LORALAB" run "$TMP/value.yaml" -o "$TMP/base"
grep -q "sweep.init.alpha2 is \[0.1, 0.001\] there, \[0.1, 0.01, 0.001\] here" "$TMP/err" \
  && ok "message names the grown list with both values" || bad "message: $(cat "$TMP/err")"
expect_status 2 "$LORALAB" run "$TMP/base.yaml" -o "$TMP/base"
grep -q "not empty: it holds this experiment.*--resume" "$TMP/err" && ok "the same experiment: refused too, --resume suggested" \
  || bad "message: $(cat "$TMP/err")"
# a data file named by path is hashed by content: rewritten under the same
# name, its cells run again
if command -v python3 >/dev/null 2>&1; then
  ynpy() {  # ynpy SEED: a (6, 2) .npy of targets at $TMP/y.npy, written byte by byte
    python3 - "$TMP/y.npy" "$1" <<'PY'
import random, struct, sys
rng = random.Random(int(sys.argv[2]))
hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (6, 2), }"
hdr += " " * (64 - (10 + len(hdr) + 1) % 64) + "\n"
with open(sys.argv[1], "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    f.write(struct.pack("<12d", *[rng.gauss(0, 1) for _ in range(12)]))
PY
  }
  cat >"$TMP/file.yaml" <<YAML
teacher: {model: ntk, d: 4, k: 3, n: 6, outputs: 2, rank: 0, targets: $TMP/y.npy}
lora: {rank: 2}
optimizer: {steps: 50}
log: {every: 10}
YAML
  ynpy 1
  expect_status 0 "$LORALAB" run "$TMP/file.yaml" -o "$TMP/file" --quiet
  ynpy 2
  expect_status 0 "$LORALAB" run "$TMP/file.yaml" -o "$TMP/file" --resume --quiet
  expect_status 0 "$LORALAB" run "$TMP/file.yaml" -o "$TMP/file-fresh" --quiet
  [ "$(meta "$TMP/file" cells_run)" = 1 ] && [ "$(meta "$TMP/file" cells_reused)" = 0 ] \
    && ok "targets file rewritten: its cell runs again" || bad "targets file rewritten: cell reused"
  same_results "$TMP/file-fresh" "$TMP/file" "after the rewrite = a fresh run"
fi

# two grid points that are the same run are an input error
sed 's/init.alpha2: \[0.1, 0.001\]/init.alpha2: [0.1, 1e-1]/' "$TMP/base.yaml" >"$TMP/twice.yaml"
expect_status 2 "$LORALAB" run "$TMP/twice.yaml" -o "$TMP/twice"
grep -q "init.alpha2=0.1 and init.alpha2=1e-1 are the same run" "$TMP/err" && ok "a run listed twice is refused" \
  || bad "message: $(cat "$TMP/err")"
finish
