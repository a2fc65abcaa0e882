# common.gp: the shared style of loralab's figures, loaded by every
# plots/<experiment>.gp (run as `gnuplot -c plots/<experiment>.gp DIR`, which
# is what `loralab plot DIR` does), by the generic figure of `loralab plot DIR
# --y ...`, and by a user's own script run with `loralab plot DIR --script
# FILE`: loralab puts this folder on gnuplot's load path, so such a script,
# wherever it lives, needs only
#   DIR = ARG1
#   load "common.gp"
#
# A script of this folder using it (found here without loralab too):
#   if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
#   DIR = ARG1
#   here = ARG0        # the script's folder: ARG0 up to its last '/'
#   while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
#   load here."common.gp"              # also loads DIR/sweep.gp
#   do for [fmt in FORMATS] {
#     eval begin_fig("align_a", fmt)     # DIR/align_a.png, then DIR/align_a.pdf
#     ... set / plot ...
#     eval end_fig
#   }
# Data are read by column name from the CSVs of the results folder:
#   column("risk_mean"), strcol("init.method").
# Colours: seq_color(i, n) for ordered sweeps (alpha2, d, kappa; dark = small
# index), cat_color(i) for categories (initialisers, optimisers).

# The calling script sets DIR (= ARG1, the results folder) first: inside a
# `load`, ARG0..ARGn describe the loaded file.
FORMATS = "png pdf"

set encoding utf8
set datafile separator ","
set datafile columnheaders

# Fonts and sizes: the same figure size for both formats (png at png_dpi);
# begin_fig_size for another size (e.g. two panels).
font_name = "DejaVu Sans"
fig_w = 5.6        # inches (pdf); png is fig_w * png_dpi pixels wide
fig_h = 3.4
png_dpi = 180
pdf_pt = 11
png_pt = 10
pdf_ps = "0.55"   # PS, the point size multiplier scripts use (ps 0.8 * PS):
                  # pdfcairo draws points larger than pngcairo
# begin_fig_file: the same to any path stem, STEM.png / STEM.pdf.
begin_fig_file(stem, fmt, w, h) = (fmt eq "png") \
  ? sprintf("set terminal pngcairo enhanced color notransparent font '%s,%d' fontscale %g size %d,%d linewidth %g; set output '%s.png'", \
            font_name, png_pt, png_dpi / 96.0, int(w * png_dpi), int(h * png_dpi), png_dpi / 96.0, stem).";".key_style."; PS = 1" \
  : sprintf("set terminal pdfcairo enhanced color font '%s,%d' size %gin,%gin linewidth 1; set output '%s.pdf'", \
            font_name, pdf_pt, w, h, stem).";".key_style."; PS = ".pdf_ps
begin_fig_size(fig, fmt, w, h) = begin_fig_file(DIR."/".fig, fmt, w, h)
begin_fig(fig, fmt) = begin_fig_size(fig, fmt, fig_w, fig_h)
end_fig = "unset multiplot; set output"
PS = 1

# Axes and grid
set border 3 lw 1
set tics nomirror out scale 0.6
set mxtics; set mytics
set grid xtics ytics lw 0.5 lc rgb "#e0e0e0"
key_style = "set key default; set key top right noautotitle samplen 2.5 spacing 1.1 box lw 0.5 lc rgb '#b0b0b0' opaque"
eval key_style
set format y "%g"
# Vertical lines (theory marks such as t*) are drawn on the y2 axis, which
# spans [0, 1] and is not shown: `... using (x):(0):(0):(1) axes x1y2 with
# vectors nohead`, whatever the y axis is (log or not).
set y2range [0:1]
unset y2tics
# 10^{n} tick labels on log axes
logfmt = "10^{%L}"

# Colours. seq: a viridis-like ramp (purple .. teal .. yellow-green), darker
# ends kept readable on white; cat: a colour-blind-safe qualitative set.
seq_r(x) = x < 0.5 ? 68 + (33 - 68) * 2 * x : 33 + (180 - 33) * (2 * x - 1)
seq_g(x) = x < 0.5 ? 1 + (145 - 1) * 2 * x : 145 + (200 - 145) * (2 * x - 1)
seq_b(x) = x < 0.5 ? 84 + (140 - 84) * 2 * x : 140 + (40 - 140) * (2 * x - 1)
seq_color(i, n) = (n <= 1) ? "#21918c" : \
  sprintf("#%02x%02x%02x", int(seq_r((i - 1.0) / (n - 1))), int(seq_g((i - 1.0) / (n - 1))), int(seq_b((i - 1.0) / (n - 1))))
cat_color(i) = word("#0072b2 #d55e00 #009e73 #cc79a7 #e69f00 #56b4e9 #000000 #f0e442", (int(i) - 1) % 8 + 1)
theory_color = "#404040"

# Bands: min..max over seeds
band_style = "fs transparent solid 0.18 noborder"
band_alpha = 0.18

# Row selection by a swept key. Numbers are compared as numbers (so "0.1" in
# sweep.gp matches 0.10000000000000001 in a CSV), names as strings.
is_num(key, v) = (column(key) == real(v))
is_str(key, v) = (strcol(key) eq v)
# y if the row belongs to the selection, else undefined (NaN is skipped)
pick(sel, y) = sel ? y : NaN

# Sweeps and the experiment name: sweep_<key> strings, name (not needed by
# loralab's generic figure, which sets skip_sweep_gp)
if (!exists("skip_sweep_gp")) { load DIR."/sweep.gp" }

# "1e-3" -> "10^{-3}", "1" -> "1", "0.5" -> "0.5" (enhanced text)
is_pow10(x) = (x > 0 && abs(log10(x) - floor(log10(x) + 0.5)) < 1e-9)
num_label(s) = is_pow10(real(s)) \
  ? (floor(log10(real(s)) + 0.5) == 0 ? "1" : sprintf("10^{%d}", floor(log10(real(s)) + 0.5))) \
  : sprintf("%g", real(s))

# Display names of initialisers and optimisers
init_label(s) = (s eq "spectral") ? "spectral (LoRA-One)" : (s eq "lora-ga") ? "LoRA-GA" : \
  (s eq "pissa") ? "PiSSA" : (s eq "lora") ? "LoRA (random A_0, B_0 = 0)" : (s eq "gaussian") ? "Gaussian A_0, B_0" : s
optim_label(s) = (s eq "gd") ? "GD" : (s eq "precgd") ? "preconditioned GD" : (s eq "full") ? "full fine-tuning" : s

# A value of the resolved experiment, DIR/config.yaml, as a string ("" when
# absent): config("teacher", "d"), config("log", "risk_tol")
config(section, key) = system(sprintf("awk -v s='%s:' -v k='%s:' '$0 == s { t = 1; next } /^[^ #]/ { t = 0 } t && $1 == k { sub(/^[^:]*:[ ]*/, \"\"); print; exit }' '%s/config.yaml'", section, key, DIR))

# The seed means of the folder: means("trace") is DIR/trace_mean.csv and
# means("summary") DIR/summary_mean.csv.  A one-seed experiment has no means
# files (they would only repeat trace.csv and summary.csv): then the CSV itself
# is read through awk, which writes its columns as the means files have them
# (swept keys, step, seeds = 1, and M_mean = M_min = M_max = M for every
# column M after seed), so the scripts read either alike.
have_means = system(sprintf("[ -f '%s/trace_mean.csv' ] && echo 1 || echo 0", DIR)) + 0
one_seed_awk = "NR == 1 { gsub(/\"/, \"\"); for (i = 1; i <= NF; i++) { h[i] = $i; if ($i == \"seed\") s = i } } { o = \"\"; for (i = 2; i < s; i++) o = o $i \",\"; o = o (NR == 1 ? \"seeds\" : 1); for (i = s + 1; i <= NF; i++) o = o \",\" (h[i] == \"step\" ? $i : NR == 1 ? $i \"_mean,\" $i \"_min,\" $i \"_max\" : $i \",\" $i \",\" $i); print o }"
means(kind) = have_means ? DIR."/".kind."_mean.csv" \
  : "< awk -F, '".one_seed_awk."' '".DIR."/".kind.".csv'"
