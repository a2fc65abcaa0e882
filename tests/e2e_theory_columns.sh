# e2e_theory_columns.sh: the hypotheses' per-cell quantities in summary.csv
# (rho_init, lambda_rstar, kappa_delta, g_op, alpha_thm, alpha_init) and the
# angles to the truth in trace.csv (align_a_star, align_b_star), end to end
# (theory/THEORY.md section 5):
#  - linear teacher: lambda_rstar = scale / kappa and kappa_delta = kappa for a
#    generated Delta, rho_init = sqrt(2 risk_init) / lambda_rstar, alpha_init =
#    sqrt(alpha2) for lora and nan for spectral, alpha_thm from its formula;
#    the angles to Delta are numbers in [0, 1];
#  - ntk teacher: no target shift, so those columns are nan (g_op is not);
#  - rank_bound (N1-i's max{r : r(r+1)/2 <= K N}) is the ntk teacher's only:
#    nan for the linear teacher, a number for ntk.
. "$(dirname "$0")/lib.sh"
has() { head -1 "$1" | tr ',' '\n' | grep -qx "$2"; }
cat >"$TMP/lin.yaml" <<'YAML'
teacher: {model: linear, d: 20, k: 16, n: 80, rank: 3, kappa: 4, scale: 2, noise: 0.3}
lora: {rank: 6}
init: {method: lora, alpha2: 0.0025}
optimizer: {method: gd, lr: 0.05, steps: 30}
log: {every: 10, align_target: 0.4}
sweep:
  init.method: [lora, spectral]
YAML
expect_status 0 "$LORALAB" run "$TMP/lin.yaml" -o "$TMP/lin" --quiet
S="$TMP/lin/summary.csv" T="$TMP/lin/trace.csv"
missing=""
for c in rho_init lambda_rstar kappa_delta g_op alpha_thm alpha_init sigma_dev align_a_star align_b_star; do
  has "$S" "$c" || missing="$missing $c"
done
for c in align_a_star align_b_star; do has "$T" "$c" || missing="$missing trace:$c"; done
[ -z "$missing" ] && ok "summary and trace have the new columns" || bad "missing columns:$missing"
[ "$(column "$S" rank_bound | sort -u)" = nan ] && ok "linear teacher: rank_bound nan" \
  || bad "linear teacher: rank_bound $(column "$S" rank_bound | sort -u | tr '\n' ' ')"
# one line per cell: method lambda kappa rho risk_init alpha_init alpha_thm g_op
paste -d' ' <(column "$S" init.method) <(column "$S" lambda_rstar) <(column "$S" kappa_delta) \
  <(column "$S" rho_init) <(column "$S" risk_init) <(column "$S" alpha_init) <(column "$S" alpha_thm) \
  <(column "$S" g_op) >"$TMP/v"
cat "$TMP/v"
awk 'function rel(a, b) { return (a - b) / b < 1e-12 && (b - a) / b < 1e-12 }
     !(rel($2, 0.5) && rel($3, 4) && rel($4, sqrt(2 * $5) / $2)) { bad = 1 } END { exit bad }' "$TMP/v" \
  && ok "lambda_rstar = scale/kappa, kappa_delta = kappa, rho_init = sqrt(2 risk_init)/lambda_rstar" \
  || bad "lambda_rstar, kappa_delta or rho_init"
awk '($1 == "lora" && $6 != 0.05) || ($1 == "spectral" && $6 != "nan") { bad = 1 } END { exit bad }' "$TMP/v" \
  && ok "alpha_init: sqrt(alpha2) for lora, nan for spectral" || bad "alpha_init"
awk '{ want = 0.4 ^ 1.5 * 20 ^ -0.75 * sqrt($8 / $3); if ($8 <= 0 || (($7 - want) / want) ^ 2 > 1e-20) bad = 1 }
     END { exit bad }' "$TMP/v" && ok "alpha_thm = theta^1.5 d^-0.75 (||G|| / kappa)^0.5" || bad "alpha_thm"
bad_angles=$(paste -d' ' <(column "$T" align_a_star) <(column "$T" align_b_star) <(column "$T" step) |
  awk '!($1 >= 0 && $1 <= 1 && ($2 == "nan" && $3 == 0 || $2 >= 0 && $2 <= 1)) { n++ } END { print n + 0 }')
[ "$bad_angles" = 0 ] && ok "align_a_star, align_b_star in [0, 1] (align_b_star nan only at B0 = 0)" \
  || bad "$bad_angles trace rows with angles outside [0, 1]"

cat >"$TMP/ntk.yaml" <<'YAML'
teacher: {model: ntk, d: 5, k: 4, n: 10, outputs: 1, rank: 2}
lora: {rank: 2}
init: {method: gaussian, alpha2: 0.01}
optimizer: {method: gd, lr: 0.05, steps: 10}
log: {every: 5}
YAML
expect_status 0 "$LORALAB" run "$TMP/ntk.yaml" -o "$TMP/ntk" --quiet
S="$TMP/ntk/summary.csv" T="$TMP/ntk/trace.csv"
vals=$(for c in rho_init lambda_rstar kappa_delta alpha_thm align_a_star align_b_star; do
  has "$S" "$c" && column "$S" "$c" || echo "missing:$c"; done; for c in align_a_star align_b_star; do
  has "$T" "$c" && column "$T" "$c" || echo "missing:$c"; done)
[ "$(echo "$vals" | sort -u)" = nan ] && ok "ntk: the truth columns are nan" \
  || bad "ntk: $(echo "$vals" | sort -u | tr '\n' ' ')"
g=$(column "$S" g_op)
awk -v g="$g" 'BEGIN { exit !(g > 0) }' && ok "ntk: g_op = $g" || bad "ntk: g_op $g"
rb=$(column "$S" rank_bound)
awk -v b="$rb" 'BEGIN { exit !(b >= 1 && b == int(b)) }' && ok "ntk: rank_bound = $rb" \
  || bad "ntk: rank_bound $rb"
finish
