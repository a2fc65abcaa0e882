# e2e_ntk_real.sh: experiments/ntk-real.yaml at reduced size on Debian's
# Fashion-MNIST (skipped, 77, when /usr/share/datasets/fashion-mnist is
# absent) and its plot script (plots/ntk-real.gp):
#  - N1-i on the pretrained network's kernel: rank_star <= rank_bound in
#    every cell, rank_bound = max{r : r(r+1)/2 <= 5 N}, certificates within
#    1e-5 of 1;
#  - N1-ii: the LoRA runs above the threshold (r = 10 at N = 10) end global,
#    both losses; their test accuracy rises from step 0;
#  - rank_vs_n and gap_vs_rank drawn as png and pdf without a gnuplot message.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/figures_lib.sh"
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || \
  [ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte ] || \
  { echo "skip: Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)"; exit 77; }
variant ntk-real 's/^    teacher\.n: .*/    teacher.n: [10, 20, 50, 10]/;
  s/^    lora\.rank: .*/    lora.rank: [1, 1, 1, 10]/;
  s/^    optimizer\.steps: .*/    optimizer.steps: [1, 1, 1, 20000]/'
experiment ntk-real --set seeds=1 --set teacher.n_test=200 --set pretrain.n=2000
S=$TMP/ntk-real/summary.csv
T=$TMP/ntk-real/trace.csv
rows() {
  awk -F, "NR == 1 { for (i = 1; i <= NF; i++) h[\$i] = i; next } ($2) { n++ } END { print n + 0 }" "$1"
}
[ "$(rows "$S" 1)" = 8 ] && ok "8 cells (2 losses x 4)" || bad "cells: $(rows "$S" 1)"
[ "$(rows "$S" '$h["rank_star"] + 0 > $h["rank_bound"] + 0 || $h["rank_star"] == "nan" || $h["rank_star"] + 0 < 1')" = 0 ] \
  && ok "N1-i: 1 <= rank_star <= rank_bound in every cell" || bad "rank_star outside 1 .. rank_bound"
[ "$(rows "$S" '(b = $h["rank_bound"]) * (b + 1) / 2 > 5 * $h["teacher.n"] || (b + 1) * (b + 2) / 2 <= 5 * $h["teacher.n"]')" = 0 ] \
  && ok "rank_bound = max{r : r(r+1)/2 <= 5 N}" || bad "rank_bound"
[ "$(rows "$S" '!($h["cert_star"] <= 1 + 1e-5)')" = 0 ] && ok "cert_star <= 1 + 1e-5" || bad "cert_star"
[ "$(rows "$S" '$h["lora.rank"] == 10 && $h["status"] == "global"')" = 2 ] \
  && ok "N1-ii: r = 10 at N = 10 global under both losses" || bad "r = 10: $(column "$S" status | tr '\n' ' ')"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
  $h["lora.rank"] == 10 { c = $h["cell"]; if ($h["step"] == 0) a0[c] = $h["test_acc"]; else last[c] = $h["test_acc"] }
  END { for (c in a0) { n++; if (!(last[c] > a0[c])) bad++ } exit bad > 0 || n != 2 }' "$T" \
  && ok "test_acc rises in the LoRA runs" || bad "test_acc does not rise"
figures ntk-real rank_vs_n gap_vs_rank
finish
