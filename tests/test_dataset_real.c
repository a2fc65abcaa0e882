// test_dataset_real.c: the real Fashion-MNIST files of Debian's
// dataset-fashion-mnist package (.ci/install-deps installs it), read through
// dataset_load_idx: 60000 training and 10000 test images of 28 x 28 pixels,
// labels 0..9 with every class exactly 6000 / 1000 times (the data set is
// balanced by construction), pixel bytes 0..255, and the preprocessing
// pipeline on them.  Skipped (exit 77) when the files are absent; the folder
// can be overridden by LORALAB_FASHION_MNIST (e.g. to check MNIST, which is
// not balanced: only the counts and ranges are checked then).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset.h"

#include "check.h"


static void check_split(const char *dir, data_split split, int want_n, int balanced,
                        labelled_data *ds)
{
    lerr e = {0};
    int rc = dataset_load_idx(dir, split, ds, &e);
    CHECK(rc == 0, "load %s: %s", split == DATA_TRAIN ? "train" : "test", e.msg);
    if (rc) {
        exit(1);
    }
    CHECK(ds->n == want_n && ds->d == 784 && ds->height == 28 && ds->width == 28,
          "n %d d %d %dx%d, want %d, 784, 28x28", ds->n, ds->d, ds->height, ds->width, want_n);
    int count[10] = {0}, out = 0;
    for (int i = 0; i < ds->n; i++) {
        if (ds->label[i] < 0 || ds->label[i] > 9) out++;
        else count[ds->label[i]]++;
    }
    CHECK(out == 0, "%d labels outside 0..9", out);
    for (int c = 0; c < 10 && balanced; c++)
        CHECK(count[c] == want_n / 10, "class %d: %d examples, want %d", c, count[c], want_n / 10);
    double lo = 1e9, hi = -1e9;
    for (size_t k = 0; k < (size_t)ds->n * 784; k++) {
        lo = ds->X[k] < lo ? ds->X[k] : lo;
        hi = ds->X[k] > hi ? ds->X[k] : hi;
    }
    CHECK(lo == 0 && hi == 255, "pixel range %g .. %g, want 0 .. 255", lo, hi);
}

int main(void)
{
    const char *env = getenv("LORALAB_FASHION_MNIST");
    const char *dir = env && *env ? env : DATASET_FASHION_MNIST_DIR;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("test_dataset_real: %s absent (apt-get install dataset-fashion-mnist); skipped\n",
               dir);
        return 77;
    }
    int balanced = !(env && *env);
    labelled_data tr, te;
    check_split(dir, DATA_TRAIN, 60000, balanced, &tr);
    check_split(dir, DATA_TEST, 10000, balanced, &te);

    // the pipeline: [0, 1], pooled to 14 x 14, odd classes of train, a subsample,
    // centred by its mean; test alike (the same mean)
    lerr e = {0};
    dataset_scale_bytes(&tr);
    dataset_scale_bytes(&te);
    int rc = dataset_pool2(&tr, &e) | dataset_pool2(&te, &e);
    CHECK(rc == 0 && tr.d == 196 && te.d == 196, "pool: %s", e.msg);
    int odd[5] = {1, 3, 5, 7, 9};
    labelled_data src, sub, te_src;
    rc = dataset_select_classes(&tr, odd, 5, &src, &e) |
         dataset_select_classes(&te, odd, 5, &te_src, &e);
    CHECK(rc == 0, "select: %s", e.msg);
    if (rc) return 1;
    CHECK(!balanced || (src.n == 30000 && te_src.n == 5000), "odd classes: %d train, %d test",
          src.n, te_src.n);
    rc = dataset_subsample(&src, 1000, 1, "train", &sub, &e);
    CHECK(rc == 0 && sub.n == 1000, "subsample: %s", e.msg);
    if (rc) return 1;
    labelled_data *others[1] = {&te_src};
    dataset_centre(&sub, others, 1);
    double mu[196], worst = 0;
    dataset_mean(&sub, mu);
    for (int j = 0; j < 196; j++) worst = fabs(mu[j]) > worst ? fabs(mu[j]) : worst;
    CHECK(worst < 1e-12, "centred training mean up to %g", worst);
    int lab_out = 0;
    for (int i = 0; i < sub.n; i++) lab_out += sub.label[i] < 0 || sub.label[i] > 4;
    CHECK(lab_out == 0, "%d mapped labels outside 0..4", lab_out);
    dataset_free(&tr);
    dataset_free(&te);
    dataset_free(&src);
    dataset_free(&sub);
    dataset_free(&te_src);
    printf("test_dataset_real: Fashion-MNIST in %s\n", dir);
    return check_summary("test_dataset_real");
}
