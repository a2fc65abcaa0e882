# e2e_ntk_core.sh: the NTK-regime verdicts end to end (theory/THEORY.md section 7).
# A tiny instance (d = k = 8, N = 6, K = 1, lambda = 0.05, rank(delta*) = 2):
#  - r = 2 and r = 4 (r(r+1)/2 > KN for r = 4) reach F* from every seed: status global;
#  - r = 1 < rank(delta*) stops at spurious local minima: distinct objective values,
#    a small objective gradient and a positive smallest Hessian eigenvalue (N1-sp);
#  - A = B = 0 (alpha2 = 0, 0 steps) is classified as a saddle;
#  - every cell's rank_star <= rank_bound (N1-i) and the convex optimum is solved
#    once per seed (cache/);
#  - min_hess_eig is computed exactly where the objective gradient converged
#    (grad_objective <= 1e-6) and nan elsewhere: 300 steps leave every cell
#    not_converged, all nan;
#  - one cell gives the same losses, verdict and min_hess_eig with 1 and 2
#    BLAS threads, squared and cross-entropy (the step's products with Phi
#    sum in a fixed order, the Hessian's eigensolver runs on one thread).
. "$(dirname "$0")/lib.sh"
cat >"$TMP/ntk.yaml" <<'YAML'
teacher: {model: ntk, d: 8, k: 8, n: 6, outputs: 1, rank: 3, noise: 0.1}
init: {method: gaussian, alpha2: 0.01}
optimizer: {method: gd, lr: 0.1, steps: 60000, weight_decay: 0.05}
log: {every: 5000}
sweep:
  lora.rank: [1, 2, 4]
seeds: 3
YAML
expect_status 0 "$LORALAB" run "$TMP/ntk.yaml" -o "$TMP/ntk" -j 2 --quiet
S="$TMP/ntk/summary.csv"
field() { awk -F, -v want="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == want) c = i; next } { print $c }' "$S"; }
paste -d' ' <(field lora.rank) <(field status) <(field gap) <(field min_hess_eig) <(field grad_objective) >"$TMP/v"
cat "$TMP/v"
awk '$1 != 1 && $2 != "global" { bad = 1 } END { exit bad }' "$TMP/v" && ok "r = 2, 4: global from every seed" || bad "r >= 2 not global"
awk '$1 == 1 && !($2 == "spurious_min" && $3 > 1e-4 && $4 > 0 && $5 < 1e-6) { bad = 1 } END { exit bad }' "$TMP/v" \
  && ok "r = 1: spurious minima (gap > 1e-4, positive Hessian)" || bad "r = 1 verdicts"
[ "$(awk '$1 == 1 { printf "%.6g\n", $3 }' "$TMP/v" | sort -u | wc -l)" -ge 2 ] && ok "distinct spurious values" || bad "spurious values not distinct"
paste -d' ' <(field rank_star) <(field rank_bound) | awk '$1 > $2 { bad = 1 } END { exit bad }' \
  && ok "rank_star <= rank_bound" || bad "rank bound violated"
[ "$(paste -d' ' <(field sigma_dev) <(field err_op_bound) | sort -u)" = "nan nan" ] \
  && ok "sigma_dev, err_op_bound: nan (no input covariance)" || bad "sigma_dev: $(field sigma_dev | sort -u | tr '\n' ' ')"
[ "$(ls "$TMP/ntk/cache" | wc -l)" = 3 ] && ok "one convex solve per seed (3 cache files)" || bad "cache: $(ls "$TMP/ntk/cache")"
expect_status 0 "$LORALAB" run "$TMP/ntk.yaml" -o "$TMP/zero" --quiet --set init.alpha2=0 --set optimizer.steps=0 \
  --set 'seeds=[0]'
S="$TMP/zero/summary.csv"
[ "$(field status | sort -u | tr '\n' ' ')" = "saddle " ] && ok "A = B = 0 is a saddle" || bad "zero: $(field status | tr '\n' ' ')"
# min_hess_eig: a number exactly where grad_objective <= 1e-6
S="$TMP/ntk/summary.csv"
paste -d' ' <(field grad_objective) <(field min_hess_eig) \
  | awk '($1 <= 1e-6) != ($2 != "nan") { bad = 1 } END { exit bad }' \
  && ok "min_hess_eig computed iff grad_objective <= 1e-6" || bad "min_hess_eig where the gradient did not converge"
expect_status 0 "$LORALAB" run "$TMP/ntk.yaml" -o "$TMP/short" --quiet --set optimizer.steps=300 --set 'seeds=[0]'
S="$TMP/short/summary.csv"
[ "$(paste -d' ' <(field status) <(field min_hess_eig) | sort -u | tr '\n' ' ')" = "not_converged nan " ] \
  && ok "300 steps: not_converged, min_hess_eig nan" || bad "short: $(paste -d' ' <(field status) <(field min_hess_eig) | tr '\n' ' ')"
# one cell owns the machine (BLAS may run on 2 threads): identical results
for loss in squared cross_entropy; do
  for t in 1 2; do
    OPENBLAS_NUM_THREADS=$t expect_status 0 "$LORALAB" run "$TMP/ntk.yaml" -o "$TMP/th$loss$t" --quiet \
      --set optimizer.steps=20000 --set 'seeds=[1]' --set 'lora.rank=2' --set teacher.n=20 --set teacher.d=12 \
      --set teacher.k=12 --set teacher.outputs=3 --set teacher.loss=$loss
  done
  # (every trace column, and the verdict's)
  pick() {
    cat "$1/trace.csv"
    for c in status grad_objective min_hess_eig; do column "$1/summary.csv" $c; done
  }
  [ "$(column "$TMP/th${loss}1/summary.csv" status)" = spurious_min ] \
    && ok "$loss cell: spurious_min (its Hessian computed)" || bad "$loss cell: $(column "$TMP/th${loss}1/summary.csv" status)"
  [ "$(pick "$TMP/th${loss}1")" = "$(pick "$TMP/th${loss}2")" ] && [ -n "$(pick "$TMP/th${loss}1")" ] \
    && ok "one $loss cell, 1 vs 2 BLAS threads: same trace.csv, verdict, min_hess_eig" \
    || bad "one $loss cell: results differ between 1 and 2 BLAS threads"
done
finish
