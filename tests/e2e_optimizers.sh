# e2e_optimizers.sh: the Adam family through the command line.
#   1. experiments/loraone-optimizers.yaml at reduced size (d = k = 40,
#      N = 640, 300 steps, 1 seed, batches 0 and N/16 = 40): every cell ok;
#      from the lora init GD keeps B in row(G) (max align_b over t >= 1
#      <= 1e-10, Theorem 3.1), with minibatches too (each batch's residual
#      X_b^T X_b (Delta - A B) / B has its rows in row(Delta) + row(B) when the
#      labels are noiseless), while adamw and precadamw take it out (> 1e-3);
#      from the spectral init full-batch adamw and precadamw reach risk <=
#      1e-6 risk_0; the plot script draws every figure silently.
#   2. full-adam and full-adamw (full fine-tuning with Adam) run and fit the
#      quickstart problem; config.yaml records beta1, beta2, eps and reloads to
#      the same run.
#   3. A run is deterministic: the same cells twice, and with -j 1 and -j 2,
#      give the same trace.csv.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/figures_lib.sh"

# max_where FILE METRIC AWK_ROW_CONDITION: the largest METRIC over rows where
# the condition holds (columns by name through h["name"])
max_where() {
  awk -F, -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
    ('"$3"') && $h[c] != "nan" && (n == 0 || $h[c] + 0 > m) { m = $h[c] + 0; n++ }
    END { if (n) printf "%.3g\n", m; else print "none" }' "$1"
}

variant loraone-optimizers
experiment loraone-optimizers --set teacher.d=40 --set teacher.k=40 --set teacher.n=640 \
  --set optimizer.steps=300 --set seeds=1 --set 'sweep.optimizer.batch=[0, 40]'
D=$TMP/loraone-optimizers
n_ok=$(column "$D/summary.csv" status | grep -cx ok)
[ "$n_ok" = 48 ] && ok "48 cells, all ok" || bad "$n_ok of 48 cells ok: $(column "$D/summary.csv" status | sort | uniq -c)"
b_mini=$(max_where "$D/trace.csv" align_b '$h["init.method"] == "lora" && $h["step"] >= 1 && $h["optimizer.method"] == "gd" && $h["optimizer.batch"] == 40')
awk -v g="$b_mini" 'BEGIN { exit !(g != "none" && g <= 1e-10) }' \
  && ok "minibatch gd keeps B in row(G): max align_b $b_mini" || bad "minibatch gd align_b $b_mini"
lora='$h["init.method"] == "lora" && $h["step"] >= 1 && $h["optimizer.batch"] == 0'
for m in gd precgd adamw precadamw; do
  eval "b_$m=\$(max_where \"\$D/trace.csv\" align_b '$lora && \$h[\"optimizer.method\"] == \"$m\"')"
done
awk -v g="$b_gd" -v p="$b_precgd" 'BEGIN { exit !(g != "none" && g <= 1e-10 && p <= 1e-10) }' \
  && ok "gd, precgd keep B in row(G): max align_b $b_gd, $b_precgd" || bad "gd/precgd align_b $b_gd $b_precgd"
awk -v a="$b_adamw" -v p="$b_precadamw" 'BEGIN { exit !(a != "none" && a > 1e-3 && p > 1e-3) }' \
  && ok "adamw, precadamw take B out of row(G): max align_b $b_adamw, $b_precadamw" \
  || bad "adam align_b $b_adamw $b_precadamw"
nt=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
  $h["optimizer.method"] ~ /adamw$/ && $h["init.method"] == "spectral" && $h["optimizer.batch"] == 0 && $h["steps_to_tol"] == "nan" { n++ }
  END { print n + 0 }' "$D/summary.csv")
[ "$nt" = 0 ] && ok "adamw, precadamw from the spectral init reach 1e-6 risk_0 in every cell" \
  || bad "$nt Adam cells from the spectral init never reach the tolerance"
figures loraone-optimizers risk align_a align_b steps_to_tol

# 2. full fine-tuning with Adam
for m in full-adam full-adamw; do
  expect_status 0 "$LORALAB" run "$EXP/quickstart.yaml" -o "$TMP/$m" --quiet --set optimizer.method=$m \
    --set optimizer.lr=0.01 --set optimizer.steps=300 --set log.every=300 --set optimizer.weight_decay=1e-3
  r=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
    { print $h["status"], $h["risk"] / $h["risk_init"] }' "$TMP/$m/summary.csv")
  awk -v s="${r%% *}" -v q="${r##* }" 'BEGIN { exit !(s == "ok" && q < 1e-3) }' \
    && ok "$m: ok, risk / risk_0 = ${r##* }" || bad "$m: $r"
done
awk '/^optimizer:/ { o = 1; next } /^[^ ]/ { o = 0 }
     o && $1 == "beta1:" && $2 + 0 == 0.9 { n++ } o && $1 == "beta2:" && $2 + 0 == 0.999 { n++ }
     o && $1 == "eps:" && $2 + 0 == 1e-8 { n++ } END { exit n != 3 }' "$TMP/full-adamw/config.yaml" \
  && ok "config.yaml records beta1, beta2, eps" || bad "config.yaml: $(grep -A12 '^optimizer:' "$TMP/full-adamw/config.yaml")"
expect_status 0 "$LORALAB" run "$TMP/full-adamw/config.yaml" -o "$TMP/full-adamw-again" --quiet
cmp -s "$TMP/full-adamw/trace.csv" "$TMP/full-adamw-again/trace.csv" \
  && ok "config.yaml reloads to the same run" || bad "config.yaml does not reload to the same run"

# 3. determinism across workers
expect_status 0 "$LORALAB" run "$TMP/loraone-optimizers.yaml" -o "$TMP/j1" -j 1 --quiet --set teacher.d=20 \
  --set teacher.k=20 --set teacher.n=320 --set optimizer.steps=50 --set seeds=1
expect_status 0 "$LORALAB" run "$TMP/loraone-optimizers.yaml" -o "$TMP/j2" -j 2 --quiet --set teacher.d=20 \
  --set teacher.k=20 --set teacher.n=320 --set optimizer.steps=50 --set seeds=1
same_results "$TMP/j1" "$TMP/j2" "-j 1 and -j 2"
[ "$have_gnuplot" = 1 ] || { [ "$fails" = 0 ] && exit 77; }
finish
