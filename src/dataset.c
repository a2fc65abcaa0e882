// dataset.c: labelled data sets from IDX folders and .npy files, and their
// preprocessing (scaling, centring, pooling, class selection, subsampling).
// Semantics are documented in dataset.h; the maths sits above each function.
#include "dataset.h"

#include <gsl/gsl_randist.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "idx.h"
#include "npy.h"
#include "random.h"

// A new set with in's geometry and source and room for n rows of d inputs
// (X and label allocated, not filled).
static void dataset_alloc_like(const labelled_data *in, int n, int d, labelled_data *out)
{
    out->n = n;
    out->d = d;
    out->X = xmalloc(sizeof(double) * (size_t)n * (size_t)(d > 0 ? d : 1));
    out->label = xmalloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    out->height = in->height;
    out->width = in->width;
    out->source = xstrdup(in->source ? in->source : "(data)");
}

void dataset_free(labelled_data *ds)
{
    free(ds->X);
    free(ds->label);
    free(ds->source);
    memset(ds, 0, sizeof *ds);
}

// ---------------------------------------------------------------------------
// Loading

// The first of the candidate names for `prefix-kind-idxN-ubyte` that exists
// as a file in dir (plain, .gz, then the dotted spellings), as a new path;
// NULL and an input error naming the folder when none does.
static char *find_idx(const char *dir, const char *prefix, const char *kind, int ndim,
                      lerr *e)
{
    static const char *const forms[] = {"%s-%s-idx%d-ubyte", "%s-%s-idx%d-ubyte.gz",
                                        "%s-%s.idx%d-ubyte", "%s-%s.idx%d-ubyte.gz"};
    char name[4][96];
    for (int i = 0; i < 4; i++) {
        snprintf(name[i], sizeof name[i], forms[i], prefix, kind, ndim);
        char *p = path_join(dir, name[i]);
        struct stat st;
        if (stat(p, &st) == 0 && !S_ISDIR(st.st_mode)) return p;
        free(p);
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        lerr_input(e, "%s: no such folder (looking for IDX files %s[.gz])", dir, name[0]);
    else
        lerr_input(e, "%s: no IDX file %s (also tried %s, %s and %s)", dir, name[0], name[1],
                   name[2], name[3]);
    return NULL;
}

char *dataset_idx_path(const char *dir, data_split split, int labels, lerr *e)
{
    return find_idx(dir, split == DATA_TRAIN ? "train" : "t10k", labels ? "labels" : "images",
                    labels ? 1 : 3, e);
}

int dataset_load_idx(const char *dir, data_split split, labelled_data *out, lerr *e)
{
    memset(out, 0, sizeof *out);
    const char *prefix = split == DATA_TRAIN ? "train" : "t10k";
    char *img_path = find_idx(dir, prefix, "images", 3, e);
    if (!img_path) return -1;
    char *lab_path = find_idx(dir, prefix, "labels", 1, e);
    if (!lab_path) {
        free(img_path);
        return -1;
    }
    unsigned char *pix = NULL, *lab = NULL;
    int n = 0, h = 0, w = 0, nl = 0, rc;
    rc = idx_read_images(img_path, &pix, &n, &h, &w, e);
    if (!rc) rc = idx_read_labels(lab_path, &lab, &nl, e);
    if (!rc && nl != n)
        rc = lerr_input(e, "%s: %d labels, but %s holds %d images", lab_path, nl, img_path, n);
    if (!rc) {
        size_t d = (size_t)h * (size_t)w;
        out->n = n;
        out->d = h * w;
        out->height = h;
        out->width = w;
        out->X = xmalloc(sizeof(double) * (size_t)n * d);
        out->label = xmalloc(sizeof(int) * (size_t)n);
        for (size_t k = 0; k < (size_t)n * d; k++) out->X[k] = pix[k];
        for (int i = 0; i < n; i++) out->label[i] = lab[i];
        size_t len = strlen(img_path) + strlen(lab_path) + 8;
        out->source = xmalloc(len);
        snprintf(out->source, len, "%s and %s", img_path, lab_path);
    }
    free(pix);
    free(lab);
    free(img_path);
    free(lab_path);
    return rc ? -1 : 0;
}

int dataset_load_npy(const char *x_path, const char *label_path, labelled_data *out, lerr *e)
{
    memset(out, 0, sizeof *out);
    double *X = NULL;
    int *lab = NULL;
    int n = 0, d = 0, nl = 0;
    if (npy_read(x_path, &X, &n, &d, e)) return -1;
    if (npy_read_ints(label_path, &lab, &nl, e)) {
        free(X);
        return -1;
    }
    int rc = 0;
    if (nl != n)
        rc = lerr_input(e, "%s: %d labels, but %s holds %d rows", label_path, nl, x_path, n);
    for (int i = 0; i < n && !rc; i++)
        if (lab[i] < 0)
            rc = lerr_input(e, "%s: negative label %d at element %d (labels are classes "
                               "0, 1, ...)", label_path, lab[i], i);
    if (rc) {
        free(X);
        free(lab);
        return -1;
    }
    out->n = n;
    out->d = d;
    out->X = X;
    out->label = lab;
    size_t len = strlen(x_path) + strlen(label_path) + 8;
    out->source = xmalloc(len);
    snprintf(out->source, len, "%s and %s", x_path, label_path);
    return 0;
}

// ---------------------------------------------------------------------------
// Preprocessing

// x <- x / 255.
void dataset_scale_bytes(labelled_data *ds)
{
    size_t total = (size_t)ds->n * (size_t)ds->d;
    for (size_t k = 0; k < total; k++) ds->X[k] /= 255.0;
}

// mean_j = (1/n) sum_i X_ij, accumulated row by row (X: (n, d)).
void dataset_mean(const labelled_data *ds, double *mean)
{
    size_t d = (size_t)ds->d;
    memset(mean, 0, sizeof(double) * d);
    for (size_t i = 0; i < (size_t)ds->n; i++) {
        const double *x = ds->X + i * d;
        for (size_t j = 0; j < d; j++) mean[j] += x[j];
    }
    for (size_t j = 0; j < d; j++) mean[j] /= ds->n > 0 ? ds->n : 1;
}

// X_ij <- X_ij - mean_j.
void dataset_subtract(labelled_data *ds, const double *mean)
{
    size_t d = (size_t)ds->d;
    for (size_t i = 0; i < (size_t)ds->n; i++) {
        double *x = ds->X + i * d;
        for (size_t j = 0; j < d; j++) x[j] -= mean[j];
    }
}

// mu = mean(train); train <- train - mu; others[k] <- others[k] - mu.
void dataset_centre(labelled_data *train, labelled_data *const *others, int n_others)
{
    double *mu = dalloc((size_t)train->d);
    dataset_mean(train, mu);
    dataset_subtract(train, mu);
    for (int k = 0; k < n_others; k++) dataset_subtract(others[k], mu);
    free(mu);
}

// P[a][b] = (I[2a][2b] + I[2a][2b+1] + I[2a+1][2b] + I[2a+1][2b+1]) / 4 for
// each image I: (h, w) -> P: (h/2, w/2).  In place, image by image, block
// by block, front to back: each output lands at or before the first input
// not yet read, so nothing unread is overwritten.
int dataset_pool2(labelled_data *ds, lerr *e)
{
    int h = ds->height, w = ds->width;
    if (h <= 0 || w <= 0 || (size_t)h * (size_t)w != (size_t)ds->d)
        return lerr_input(e, "%s: 2x2 pooling needs images, and these inputs (d = %d) have no "
                             "image shape", ds->source ? ds->source : "(data)", ds->d);
    if (h % 2 || w % 2)
        return lerr_input(e, "%s: 2x2 pooling needs even image sides, not %d x %d",
                          ds->source ? ds->source : "(data)", h, w);
    int ph = h / 2, pw = w / 2;
    size_t din = (size_t)ds->d, dout = (size_t)ph * (size_t)pw;
    for (size_t i = 0; i < (size_t)ds->n; i++) {
        const double *img = ds->X + i * din;
        double *out = ds->X + i * dout;
        for (int a = 0; a < ph; a++)
            for (int b = 0; b < pw; b++) {
                const double *top = img + (size_t)(2 * a) * (size_t)w + 2 * b;
                const double *bot = top + w;
                // out[a pw + b] lies at or before top[0] (a pw + b <= 2 a w + 2 b),
                // and every later read is further on: nothing unread is overwritten.
                out[(size_t)a * (size_t)pw + (size_t)b] = (top[0] + top[1] + bot[0] + bot[1]) / 4;
            }
    }
    ds->d = (int)dout;
    ds->height = ph;
    ds->width = pw;
    ds->X = xrealloc(ds->X, sizeof(double) * (size_t)(ds->n > 0 ? ds->n : 1) * dout);
    return 0;
}

// Row i is kept when label_i = classes[j] for some j; its new label is j.
int dataset_select_classes(const labelled_data *in, const int *classes, int nclasses,
                           labelled_data *out, lerr *e)
{
    memset(out, 0, sizeof *out);
    const char *src = in->source ? in->source : "(data)";
    if (nclasses < 1) return lerr_input(e, "%s: an empty class list selects nothing", src);
    int maxc = 0;
    for (int j = 0; j < nclasses; j++) {
        if (classes[j] < 0) return lerr_input(e, "%s: class %d is negative", src, classes[j]);
        for (int k = 0; k < j; k++)
            if (classes[k] == classes[j])
                return lerr_input(e, "%s: class %d is listed twice", src, classes[j]);
        if (classes[j] > maxc) maxc = classes[j];
    }
    // map[c] = position of class c in the list, or -1, for c up to the
    // largest label present (a class above it has no example: an error
    // below); count[j] = the examples of class j
    int maxlab = 0;
    for (int i = 0; i < in->n; i++) maxlab = in->label[i] > maxlab ? in->label[i] : maxlab;
    maxc = maxc < maxlab ? maxc : maxlab;
    int *map = xmalloc(sizeof(int) * ((size_t)maxc + 1));
    int *count = xcalloc((size_t)nclasses, sizeof(int));
    for (int c = 0; c <= maxc; c++) map[c] = -1;
    for (int j = 0; j < nclasses; j++)
        if (classes[j] <= maxc) map[classes[j]] = j;
    int kept = 0;
    for (int i = 0; i < in->n; i++) {
        int c = in->label[i];
        if (c >= 0 && c <= maxc && map[c] >= 0) {
            count[map[c]]++;
            kept++;
        }
    }
    int rc = 0;
    for (int j = 0; j < nclasses && !rc; j++)
        if (!count[j])
            rc = lerr_input(e, "%s: no example has label %d (a class the list asks for)", src,
                            classes[j]);
    if (!rc) {
        dataset_alloc_like(in, kept, in->d, out);
        size_t d = (size_t)in->d;
        int r = 0;
        for (int i = 0; i < in->n; i++) {
            int c = in->label[i];
            if (c < 0 || c > maxc || map[c] < 0) continue;
            memcpy(out->X + (size_t)r * d, in->X + (size_t)i * d, sizeof(double) * d);
            out->label[r++] = map[c];
        }
    }
    free(map);
    free(count);
    return rc;
}

// Selection sampling (gsl_ran_choose: Knuth's algorithm S): each n-subset of
// the in->n row indices is equally likely, and the chosen indices come out
// in increasing order.
int dataset_subsample(const labelled_data *in, int n, long seed, const char *tag,
                      labelled_data *out, lerr *e)
{
    memset(out, 0, sizeof *out);
    if (n < 1 || n > in->n)
        return lerr_input(e, "%s: cannot take %d examples from %d",
                          in->source ? in->source : "(data)", n, in->n);
    int *all = xmalloc(sizeof(int) * (size_t)in->n), *pick = xmalloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < in->n; i++) all[i] = i;
    char stream[256];
    snprintf(stream, sizeof stream, "subsample|%s|N=%d|n=%d", tag ? tag : "", in->n, n);
    gsl_rng *rng = stream_new(seed, stream);
    gsl_ran_choose(rng, pick, (size_t)n, all, (size_t)in->n, sizeof(int));
    gsl_rng_free(rng);
    dataset_alloc_like(in, n, in->d, out);
    size_t d = (size_t)in->d;
    for (int r = 0; r < n; r++) {
        memcpy(out->X + (size_t)r * d, in->X + (size_t)pick[r] * d, sizeof(double) * d);
        out->label[r] = in->label[pick[r]];
    }
    free(all);
    free(pick);
    return 0;
}
