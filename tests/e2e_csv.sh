# e2e_csv.sh: every CSV a run writes loads, without a lost or shifted column,
# with Python's csv module, numpy's genfromtxt (the call the README shows) and
# loadtxt, and, when Rscript is there, R's read.csv.  The sweeps have a swept
# dotted key, two seeds, diverged and failed cells (non-empty messages beside
# empty ones), a sweep where every message is empty, and swept values whose text
# holds commas (inline matrices).
# Without numpy the csv-module checks run and the test exits 77 if they pass.
. "$(dirname "$0")/lib.sh"

# A: teacher.noise x optimizer.lr (lr 50 diverges) x 2 seeds
cat >"$TMP/a.yaml" <<'YAML'
name: csv-a
teacher: {d: 6, k: 4, n: 60, rank: 2}
lora: {rank: 2}
init: {method: lora}
optimizer: {method: gd, lr: 0.05, steps: 20}
log: {every: 5}
sweep:
  teacher.noise: [0, 0.5]
  optimizer.lr: [0.05, 50]
seeds: 2
YAML
# B: inline matrices as swept values ("[[2], [1]]" holds a comma)
cat >"$TMP/b.yaml" <<'YAML'
name: csv-b
teacher: {n: 40, rank: 1, w0: zero}
lora: {rank: 1}
init: {method: lora}
optimizer: {method: gd, lr: 0.05, steps: 6}
log: {every: 2}
sweep:
  teacher.delta: [[[2], [1]], [[3], [1]]]
seeds: 2
YAML
# C: precgd without damping from B0 = 0: a cell with status error
cat >"$TMP/c.yaml" <<'YAML'
name: csv-c
teacher: {d: 6, k: 4, n: 60, rank: 2}
lora: {rank: 2}
init: {method: lora}
optimizer: {method: precgd, lr: 0.5, steps: 6, damping: 1.0e-3}
log: {every: 2}
sweep:
  optimizer.damping: [1.0e-3, 0]
seeds: 2
YAML
# D: every cell ok, so every message empty
sed '/optimizer.lr:/d; s/^name: csv-a/name: csv-d/' "$TMP/a.yaml" >"$TMP/d.yaml"
expect_status 0 "$LORALAB" run "$TMP/a.yaml" -o "$TMP/a" --quiet
expect_status 0 "$LORALAB" run "$TMP/d.yaml" -o "$TMP/d" --quiet
expect_status 0 "$LORALAB" run "$TMP/b.yaml" -o "$TMP/b" --quiet
expect_status 1 "$LORALAB" run "$TMP/c.yaml" -o "$TMP/c" --quiet
files=()
for d in a b c d; do
  for f in trace summary trace_mean summary_mean; do
    if [ -f "$TMP/$d/$f.csv" ]; then files+=("$TMP/$d/$f.csv"); else bad "$d/$f.csv missing"; fi
  done
done
grep -q ',diverged,' "$TMP/a/summary.csv" && grep -q ',ok,' "$TMP/a/summary.csv" \
  && ok "A has ok and diverged cells" || bad "A: no diverged cell"
grep -q ',error,' "$TMP/c/summary.csv" && ok "C has an error cell" || bad "C: no error cell"
[ "$(column "$TMP/d/summary.csv" status | sort -u)" = ok ] && ok "D: every cell ok" || bad "D: statuses"

# A Python interpreter with numpy (Debian's python3-numpy serves /usr/bin/python3)
PY=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import numpy' 2>/dev/null; then PY=$p; break; fi
done
PYCSV=${PY:-python3}
command -v "$PYCSV" >/dev/null 2>&1 || { echo "skip: no python3"; exit 77; }

cat >"$TMP/load.py" <<'PY'
# load.py [--numpy] FILE...: check each CSV; print one line per file for R:
# FILE<TAB>ncol<TAB>nrow<TAB>name:kind|... (kind num or chr, from the values)
import csv, math, sys
use_numpy = sys.argv[1] == "--numpy"
files = sys.argv[2:] if use_numpy else sys.argv[1:]
if use_numpy:
    import numpy as np
fails = 0
def bad(msg):
    global fails
    fails += 1
    print("FAIL", msg, file=sys.stderr)
def isnum(v):
    try:
        float(v)
        return True
    except ValueError:
        return False
for f in files:
    with open(f, newline="") as h:
        first = h.readline().rstrip("\n")
    with open(f, newline="") as h:
        rows = list(csv.reader(h))
    head, body = rows[0], rows[1:]
    # the header is plain: the dotted names, split at commas, no quoting
    if head != first.split(","):
        bad(f"{f}: header needs quoting: {first}")
    if len(set(head)) != len(head):
        bad(f"{f}: repeated column names")
    if not body:
        bad(f"{f}: no rows")
    for i, r in enumerate(body):
        if len(r) != len(head):
            bad(f"{f}: row {i + 2} has {len(r)} fields, the header {len(head)}")
    if "message" in head:   # empty messages are written "" (quoted)
        raw = open(f).read().splitlines()[1:]
        j = head.index("message")
        for line, r in zip(raw, body):
            if r[j] == "" and not line.endswith(',""'):
                bad(f"{f}: empty message not written as \"\": {line[-20:]}")
    cols = list(zip(*body)) if body else [[] for _ in head]
    kinds = ["num" if all(isnum(v) for v in c) else "chr" for c in cols]
    print(f"{f}\t{len(head)}\t{len(body)}\t" + "|".join(f"{n}:{k}" for n, k in zip(head, kinds)))
    if not use_numpy:
        continue
    # loadtxt (as text: it has no per-column types): the same fields
    a = np.loadtxt(f, delimiter=",", skiprows=1, dtype=str, ndmin=2)
    unq = [[v if v != '""' else "" for v in r] for r in a.tolist()]
    if a.shape != (len(body), len(head)) or unq != body:
        bad(f"{f}: numpy loadtxt reads {a.shape}, not the csv module's fields")
    # the README's call
    try:
        d = np.genfromtxt(f, delimiter=",", names=True, dtype=None, encoding=None, deletechars="")
    except ValueError as ex:
        bad(f"{f}: numpy: " + " ".join(str(ex).split())[:120])
        continue
    d = np.atleast_1d(d)
    if d.dtype.names != tuple(head):
        bad(f"{f}: numpy names {d.dtype.names[:6]}... differ from the header {head[:6]}...")
        continue
    if len(d) != len(body):
        bad(f"{f}: numpy read {len(d)} rows, csv {len(body)}")
        continue
    for j, name in enumerate(head):
        col, kind = d[name], d.dtype[name].kind
        if name == "message" and kind != "U":
            bad(f"{f}: numpy reads message as {d.dtype[name]}, not text")
        for v, want in zip(col, cols[j]):
            if kind == "f":
                same = (math.isnan(v) and math.isnan(float(want))) or v == float(want)
            elif kind in "iu":
                same = v == int(want)
            elif kind == "U":
                same = v == want or (want == "" and v == '""')
            else:
                same = False
            if not same:
                bad(f"{f}: column {name} ({d.dtype[name]}): numpy {v!r}, csv {want!r}")
                break
sys.exit(1 if fails else 0)
PY

if [ -n "$PY" ]; then mode=--numpy; else mode=; fi
if "$PYCSV" "$TMP/load.py" $mode "${files[@]}" >"$TMP/expect.tsv" 2>"$TMP/py.err"; then
  ok "python csv${PY:+ and numpy genfromtxt} load ${#files[@]} CSVs: same columns, same values"
else
  bad "python loading"; sed 's/^/    /' "$TMP/py.err" | head -20
fi
grep -q 'teacher\.noise:num' "$TMP/expect.tsv" && grep -q 'teacher\.delta:chr' "$TMP/expect.tsv" \
  && ok "dotted swept columns present" || bad "dotted columns: $(cut -f4 "$TMP/expect.tsv" | head -2)"
# the swept matrices keep their text, commas written as semicolons
[ "$(column "$TMP/b/summary.csv" teacher.delta | sort -u | tr '\n' '|')" = '[[2]; [1]]|[[3]; [1]]|' ] \
  && ok "comma in a swept value written as ';'" || bad "B labels: $(column "$TMP/b/summary.csv" teacher.delta | tr '\n' '|')"

# R, when present: read.csv as the README shows it (check.names = FALSE, cell
# and message read as text); same columns, rows and kinds as Python found
if command -v Rscript >/dev/null 2>&1; then
  cat >"$TMP/load.R" <<'R'
for (f in commandArgs(TRUE)) {
  h <- names(read.csv(f, check.names = FALSE, nrows = 1))
  text <- intersect(c("cell", "message"), h)
  cc <- setNames(rep("character", length(text)), text)
  d <- read.csv(f, check.names = FALSE, colClasses = cc)
  k <- sapply(d, function(x) if (is.numeric(x)) "num" else if (is.character(x)) "chr" else class(x)[1])
  cat(f, "\t", ncol(d), "\t", nrow(d), "\t", paste0(names(d), ":", k, collapse = "|"), "\n", sep = "")
}
R
  if Rscript "$TMP/load.R" "${files[@]}" >"$TMP/r.tsv" 2>"$TMP/r.err" && cmp -s "$TMP/r.tsv" "$TMP/expect.tsv"; then
    ok "R read.csv: same columns, rows and kinds"
  else
    bad "R read.csv"; diff "$TMP/r.tsv" "$TMP/expect.tsv" | head -6; head -5 "$TMP/r.err"
  fi
  # and the summary's message column is text even when every message is empty
  Rscript -e 'd <- read.csv(commandArgs(TRUE)[1], check.names = FALSE, colClasses = c(message = "character")); stopifnot(is.character(d$message), all(d$message == ""))' \
    "$TMP/d/summary.csv" 2>"$TMP/r.err" && ok "R: an all-empty message column is text" || { bad "R message column"; head -3 "$TMP/r.err"; }
else
  echo "skip R: Rscript not found"
fi

if [ "$fails" = 0 ] && [ -z "$PY" ]; then echo "csv module checks pass; numpy checks skipped (no numpy)"; exit 77; fi
finish
