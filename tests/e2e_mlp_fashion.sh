# e2e_mlp_fashion.sh: experiments/loraone-real.yaml at reduced size on
# Debian's Fashion-MNIST (skipped, 77, when /usr/share/datasets/fashion-mnist
# is absent) and its plot script:
#  - the pretrained network classifies the odd classes' test images well
#    (pre_test_acc > 0.8; chance is 0.2) and is the same in every cell;
#  - fine-tuning helps on the even classes: every method's final test_acc is
#    above its step-0 value, and LoRA-One's loss is below LoRA's from step 5 on;
#  - one seed (trace.csv read through means()) and two seeds
#    (trace_mean.csv) both give loss.png and test_acc.png, silently.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/figures_lib.sh"
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || \
  [ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte ] || \
  { echo "skip: Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)"; exit 77; }
variant loraone-real
small=(--set teacher.n=200 --set teacher.n_test=200 --set pretrain.n=3000 --set optimizer.steps=40)
experiment loraone-real "${small[@]}" --set seeds=1
S=$TMP/loraone-real/summary.csv
T=$TMP/loraone-real/trace.csv
[ "$(column "$S" status | sort -u)" = ok ] && ok "every cell ok" || bad "statuses: $(column "$S" status | tr '\n' ' ')"
[ "$(column "$S" pre_test_acc | sort -u | wc -l)" = 1 ] && \
  awk -v a="$(column "$S" pre_test_acc | head -1)" 'BEGIN { exit !(a > 0.8) }' \
  && ok "one pretrained network, pre_test_acc $(column "$S" pre_test_acc | head -1) > 0.8" \
  || bad "pre_test_acc: $(column "$S" pre_test_acc | tr '\n' ' ')"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
  { c = $h["cell"]; if ($h["step"] == 0) a0[c] = $h["test_acc"]; else last[c] = $h["test_acc"] }
  END { for (c in a0) if (!(last[c] > a0[c])) bad++; exit bad > 0 }' "$T" \
  && ok "test_acc rises in every cell" || bad "test_acc does not rise in some cell"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
  { k = $h["lora.rank"] " " $h["step"]; m = $h["optimizer.method"]
    if (m == "precgd") one[k] = $h["loss"]; if (m == "gd") lora[k] = $h["loss"] }
  END { for (k in one) { split(k, p, " "); if (p[2] >= 5 && !(one[k] < lora[k])) bad++; n++ }
        exit bad > 0 || n < 10 }' "$T" \
  && ok "LoRA-One's loss below LoRA's from step 5, both ranks" || bad "LoRA-One not below LoRA"
figures loraone-real loss test_acc
expect_status 0 "$LORALAB" run "$TMP/loraone-real.yaml" -o "$TMP/loraone-real-2" -j 2 -q "${small[@]}" \
  --set seeds=2 --set optimizer.steps=10
[ -s "$TMP/loraone-real-2/trace_mean.csv" ] && ok "two seeds: trace_mean.csv" || bad "two seeds: no trace_mean.csv"
if [ "$have_gnuplot" = 1 ]; then
  expect_status 0 "$LORALAB" plot "$TMP/loraone-real-2"
  [ -s "$TMP/loraone-real-2/loss.png" ] && [ -s "$TMP/loraone-real-2/test_acc.png" ] && [ ! -s "$TMP/err" ] \
    && ok "two seeds: loss.png, test_acc.png" || bad "two seeds: figures missing or gnuplot messages"
fi
finish
