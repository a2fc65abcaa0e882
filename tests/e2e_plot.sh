# e2e_plot.sh: `loralab plot` on a user's own experiment (no plots/NAME.gp):
# the generic figure (--y, --x, --by, --panel, --logy, --out), the default
# figure, a user's script anywhere (--script) loading common.gp, `run --plot`,
# the input errors, and a folder of single seeds without means files.
# Figures are checked as files: PNG / PDF signatures, the PNG's size (one
# panel per metric row and --panel column), and in the PDF's drawing
# operators the data lines in common.gp's colour of each --by value and the
# min-max bands.  Without gnuplot
# the input errors are still checked and the test exits 77 (skipped).
. "$(dirname "$0")/lib.sh"
if command -v gnuplot >/dev/null 2>&1; then have_gnuplot=1; else
  have_gnuplot=0; echo "skip gnuplot not found: figures skipped"; fi

# png_size FILE: "WIDTH HEIGHT" from the PNG's header
png_size() {
  python3 -c 'import struct, sys; d = open(sys.argv[1], "rb").read(24); print(*struct.unpack(">II", d[16:24]))' "$1"
}

# pdf_paths FILE K [#rrggbb ...]: what the PDF draws, read from its content
# streams: the number of filled paths of K or more straight segments (the
# bands), then per colour the number of stroked paths of that colour with K
# or more segments (the data lines; a legend sample has one segment)
pdf_paths() {
  python3 - "$@" <<'PY'
import re, sys, zlib
path, k, colours = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
data = open(path, "rb").read()
want = [tuple(int(c.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)) for c in colours]
strokes, fills = {}, 0
for m in re.finditer(rb"stream\r?\n", data):
    try:
        ops = zlib.decompressobj().decompress(data[m.end():]).decode("latin1").split()
    except zlib.error:
        continue
    stack, state, saved, nseg = [], [None, None], [], 0
    for t in ops:
        if t in ("RG", "rg") and len(stack) >= 3:
            state[t == "rg"] = tuple(round(float(v) * 255) for v in stack[-3:])
        elif t == "q": saved.append(list(state))
        elif t == "Q" and saved: state = saved.pop()
        elif t == "l": nseg += 1
        elif t in ("S", "f", "f*", "B", "b", "n"):   # painted: the path ends
            if t == "S" and nseg >= k: strokes[state[0]] = strokes.get(state[0], 0) + 1
            if t in ("f", "f*") and nseg >= k: fills += 1
            nseg = 0
        if t.lstrip("-").replace(".", "", 1).isdigit(): stack.append(t)
        else: stack = []
print(fills, *[strokes.get(c, 0) for c in want])
PY
}

# drawn WHAT WANT FILE K COLOURS...: pdf_paths prints WANT
drawn() {
  local what=$1 want=$2; shift 2
  local got; got=$(pdf_paths "$@")
  [ "$got" = "$want" ] && ok "$what (bands, lines per colour: $got)" || bad "$what: bands, lines per colour $got, wanted $want"
}

# figure STEM WHAT: STEM.png is a PNG and STEM.pdf a PDF, and gnuplot said
# nothing (no warning, no error)
figure() {
  if head -c 4 "$1.png" 2>/dev/null | grep -q PNG && head -c 4 "$1.pdf" 2>/dev/null | grep -q '%PDF'; then
    ok "$2: $(basename "$1").png and .pdf"; else bad "$2: no $1.png / .pdf"; fi
  if [ -s "$TMP/err" ]; then bad "$2: messages on stderr:"; sed 's/^/    /' "$TMP/err" | head -5; fi
}

# A user's own experiment: one swept key, 2 seeds; the same with 1 seed; and
# two swept keys (for --panel).
cat >"$TMP/mine.yaml" <<'YAML'
name: my-noise-question
teacher: {d: 12, k: 8, n: 200, rank: 2}
lora: {rank: 2}
optimizer: {method: precgd, lr: 0.05, steps: 40}
seeds: 2
sweep:
  teacher.noise: [0, 0.1, 0.5]
YAML
sed 's/^seeds: 2/seeds: 1/' "$TMP/mine.yaml" >"$TMP/mine1.yaml"
cat "$TMP/mine1.yaml" - >"$TMP/mine2.yaml" <<'YAML'
  optimizer.method: [gd, precgd]
YAML
expect_status 0 "$LORALAB" run "$TMP/mine.yaml" -o "$TMP/two" --quiet
expect_status 0 "$LORALAB" run "$TMP/mine1.yaml" -o "$TMP/one" --quiet
expect_status 0 "$LORALAB" run "$TMP/mine2.yaml" -o "$TMP/grid" --quiet
# single seeds as a runner that writes no means for them leaves the folder
cp -r "$TMP/one" "$TMP/bare" && rm -f "$TMP/bare/trace_mean.csv" "$TMP/bare/summary_mean.csv" "$TMP/bare/sweep.gp"

# common.gp's colours: seq_color(i, 3) for three numeric values, cat_color(1..2)
SEQ3="#440154 #21918c #b4c828"
CAT2="#0072b2 #d55e00"
K=10   # segments of a drawn line: 40 steps are logged

# 1. input errors (exit 2), also without gnuplot
bad_input() {  # bad_input GREP ARGS...: exit 2, stderr matches GREP
  local want=$1; shift
  expect_status 2 "$LORALAB" plot "$@"
  grep -q -- "$want" "$TMP/err" && ok "message: $want" || bad "message for $*: $(cat "$TMP/err")"
}
bad_input "did you mean 'risk'" "$TMP/two" --y rsik
bad_input "did you mean 'align_a'" "$TMP/two" --y risk,align_aa
bad_input "did you mean 'teacher.noise'" "$TMP/two" --y risk --by teacher.nois
bad_input "teacher.d: not a swept key" "$TMP/two" --panel teacher.d
bad_input "did you mean 'teacher.noise'" "$TMP/two" --x teacher.noice
bad_input "same key as --panel" "$TMP/grid" --by teacher.noise --panel teacher.noise
bad_input "summary.csv" "$TMP/two" --y steps_to_tol
bad_input "no such results folder" "$TMP/nothing-here"
mkdir -p "$TMP/empty"
bad_input "no results to plot" "$TMP/empty" --y risk
bad_input "nan in every row" "$TMP/two" --y test_loss
bad_input "unknown option --colour" "$TMP/two" --colour red
bad_input "takes no --y" "$TMP/two" --script "$TMP/mine.yaml" --y risk
[ ! -e "$TMP/two/risk-vs-step-by-teacher.noise.png" ] && ok "bad input drew nothing" || bad "bad input drew a figure"
mkdir -p "$TMP/emptybin"
expect_status 1 env PATH="$TMP/emptybin" "$LORALAB" plot "$TMP/two" --y risk
grep -q 'apt-get install gnuplot' "$TMP/err" && ok "no gnuplot: says how to install it" || bad "no gnuplot: $(cat "$TMP/err")"

if [ "$have_gnuplot" = 0 ]; then
  if [ "$fails" = 0 ]; then echo "input errors pass; figures skipped (no gnuplot)"; exit 77; fi
  finish
fi

# 2. --y risk --by KEY: seed means with bands, one line per value
expect_status 0 "$LORALAB" plot "$TMP/two" --y risk --by teacher.noise
F=$TMP/two/risk-vs-step-by-teacher.noise
figure "$F" "--y risk --by teacher.noise"
grep -qx "$F.png" "$TMP/out" && ok "prints the files written" || bad "stdout: $(cat "$TMP/out")"
drawn "one line and band per teacher.noise value" "3 1 1 1" "$F.pdf" $K $SEQ3
read -r w1 h1 <<<"$(png_size "$F.png")"

# 3. the default: risk and align_a against step, one line per swept value;
#    two rows of panels, so taller than one
expect_status 0 "$LORALAB" plot "$TMP/two"
F=$TMP/two/risk-align_a-vs-step-by-teacher.noise
figure "$F" "default figure"
drawn "default: risk and align_a, one line and band per value" "6 2 2 2" "$F.pdf" $K $SEQ3
read -r w2 h2 <<<"$(png_size "$F.png")"
[ "$h2" -gt $((h1 * 3 / 2)) ] && [ "$w2" = "$w1" ] && ok "default: two panel rows (${w1}x$h1 -> ${w2}x$h2)" \
  || bad "default size ${w2}x$h2 vs one metric ${w1}x$h1"

# 4. --x KEY from the summary means, --out naming the file
mkdir -p "$TMP/figs"
expect_status 0 "$LORALAB" plot "$TMP/two" --x teacher.noise --y risk,min_align_a --out "$TMP/figs/final.png"
figure "$TMP/figs/final" "--x teacher.noise --out FILE.png"
got=$(pdf_paths "$TMP/figs/final.pdf" 2 "#0072b2")
[ "${got#* }" = 2 ] && [ "${got% *}" -ge 1 ] && ok "--x teacher.noise: one line per metric, a band ($got)" \
  || bad "--x teacher.noise: bands and lines $got"

# 5. --panel: one panel per value, side by side; the remaining key split by
#    colour, --logy
expect_status 0 "$LORALAB" plot "$TMP/grid" --y risk --by optimizer.method --panel teacher.noise --logy
F=$TMP/grid/risk-vs-step-by-optimizer.method-per-teacher.noise
figure "$F" "--panel teacher.noise --logy"
drawn "--panel: each optimizer in each of 3 panels, no band for one seed" "0 3 3" "$F.pdf" $K $CAT2
read -r w3 h3 <<<"$(png_size "$F.png")"
[ $((w3 * 10)) -gt $((w1 * 16)) ] && ok "--panel: three panels wide (${w3}px vs ${w1}px)" || bad "--panel width $w3 vs $w1"

# 6. one seed without means files: the values of trace.csv / summary.csv
expect_status 0 "$LORALAB" plot "$TMP/bare" --y risk,align_a --by teacher.noise --out "$TMP/figs/bare"
figure "$TMP/figs/bare" "single seeds, no means files"
drawn "single seeds: 3 lines per metric, no band" "0 2 2 2" "$TMP/figs/bare.pdf" $K $SEQ3
expect_status 0 "$LORALAB" plot "$TMP/bare" --x teacher.noise --y min_align_a --out "$TMP/figs/bare_x"
figure "$TMP/figs/bare_x" "single seeds, --x from summary.csv"
expect_status 0 "$LORALAB" plot "$TMP/one"
figure "$TMP/one/risk-align_a-vs-step-by-teacher.noise" "one seed, default figure"

# 7. --script: a user's script in a folder of its own loads common.gp by
#    name, run from another working directory
mkdir -p "$TMP/myscripts" "$TMP/elsewhere"
cat >"$TMP/myscripts/mine.gp" <<'GP'
DIR = ARG1
load "common.gp"
do for [fmt in FORMATS] {
  eval begin_fig("my_risk", fmt)
  set logscale y
  set format y logfmt
  plot DIR."/trace_mean.csv" using "step":"risk_mean" with lines lc rgb cat_color(2) title name
  eval end_fig
}
GP
if (cd "$TMP/elsewhere" && exec "$LORALAB" plot "$TMP/two" --script "$TMP/myscripts/mine.gp") >"$TMP/out" 2>"$TMP/err"
then ok "exit 0: plot --script from another folder"; else bad "plot --script: $(cat "$TMP/err")"; fi
figure "$TMP/two/my_risk" "--script FILE loading common.gp"
[ ! -e "$TMP/myscripts/common.gp" ] && ok "common.gp not copied" || bad "common.gp copied next to the script"
drawn "--script: a line in common.gp's cat_color(2)" "0 1" "$TMP/two/my_risk.pdf" $K "#d55e00"

# 8. run --plot on the user's experiment
expect_status 0 "$LORALAB" run "$TMP/mine1.yaml" -o "$TMP/runplot" --quiet --plot
figure "$TMP/runplot/risk-align_a-vs-step-by-teacher.noise" "run --plot"

finish
