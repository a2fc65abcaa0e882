# figures_lib.sh: helpers for the figure tests (sourced after lib.sh):
# experiment variants at reduced size, runs, and `loralab plot` checks.
EXP=$SOURCE_ROOT/experiments
export LORALAB_PLOTS=$SOURCE_ROOT/plots      # the scripts of this source tree
if command -v gnuplot >/dev/null 2>&1; then have_gnuplot=1; else
  have_gnuplot=0; echo "skip gnuplot not found: experiments run, plots skipped"; fi

# variant NAME [SED_SCRIPT]: experiments/NAME.yaml copied to $TMP with fewer
# sweep values (a sweep list cannot be changed with --set); its name, hence
# its plot script, is unchanged.
variant() {
  sed "${2:-}" "$EXP/$1.yaml" >"$TMP/$1.yaml"
  if [ -n "${2:-}" ] && cmp -s "$EXP/$1.yaml" "$TMP/$1.yaml"; then
    bad "$1: the sweep list to shorten was not found (test out of date with the file?)"; fi
}

# experiment NAME --set ...: run the variant into $TMP/NAME with 2 workers
experiment() {
  local name=$1; shift
  expect_status 0 "$LORALAB" run "$TMP/$name.yaml" -o "$TMP/$name" -j 2 --quiet "$@"
  for f in trace.csv summary.csv sweep.gp; do
    [ -s "$TMP/$name/$f" ] || bad "$name: no $f"
  done
  # seed means only with more than one seed (the plot scripts read the CSVs
  # themselves otherwise: means() in plots/common.gp)
  local seeds
  seeds=$(column "$TMP/$name/summary.csv" seed | sort -u | wc -l)
  for f in trace_mean.csv summary_mean.csv; do
    if [ "$seeds" -gt 1 ]; then [ -s "$TMP/$name/$f" ] || bad "$name: no $f"
    else [ ! -e "$TMP/$name/$f" ] || bad "$name: $f written for one seed"; fi
  done
}

# figures NAME FIG...: loralab plot writes DIR/FIG.png and DIR/FIG.pdf, and
# gnuplot says nothing (no error, no warning)
figures() {
  local name=$1; shift
  [ "$have_gnuplot" = 1 ] || return 0
  expect_status 0 "$LORALAB" plot "$TMP/$name"
  if [ -s "$TMP/err" ]; then bad "$name: gnuplot messages:"; sed 's/^/    /' "$TMP/err" | head -5; fi
  local fig missing=""
  for fig in "$@"; do
    head -c 4 "$TMP/$name/$fig.png" 2>/dev/null | grep -q PNG || missing="$missing $fig.png"
    head -c 4 "$TMP/$name/$fig.pdf" 2>/dev/null | grep -q '%PDF' || missing="$missing $fig.pdf"
  done
  [ -z "$missing" ] && ok "$name: $* as png and pdf" || bad "$name: missing or not an image:$missing"
}

