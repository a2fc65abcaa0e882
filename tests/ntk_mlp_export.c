// ntk_mlp_export.c: helper of e2e_ntk_mlp.sh.  Writes the setting of an
// experiment with teacher.model: ntk, features: mlp as the .npy inputs of
// the ntk teacher's dense path, so that the two can be compared:
//   ntk_mlp_export EXPERIMENT.yaml CACHE_DIR OUT_DIR [SEED] [--set KEY=VALUE ...]
// loads the pretrained network and the cell seed's target-class points
// (mlp_source_load, the same data and network a run uses; CACHE_DIR may
// hold the network already) and writes, by loops from the definitions
// (nothing of mlp.c's or ntk_features.c's products):
//   OUT_DIR/features.npy  (N, K, d, h): G_{i,c}[a][j] = d f_c(x_i) / d W1_aj
//                         = x_ia V_jc [sum_b x_ib W1_bj > 0]
//   OUT_DIR/base.npy      (N, K): f_c(x_i) = sum_j V_jc max(sum_a x_ia W1_aj, 0)
//   OUT_DIR/targets.npy   squared: (N, K) one-hot rows; cross_entropy: (N,) labels
//   OUT_DIR/test_base.npy, test_targets.npy  the same for the n_test test rows
//                         (when teacher.n_test > 0)
// Exit 0, or 2 with a message on stderr.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mlp_source.h"
#include "util.h"

// A little-endian float64 .npy of the given shape, C order.
static int write_npy(const char *dir, const char *name, const long *shape, int ndim,
                     const double *x)
{
    char path[4096], hdr[256], dims[128] = "";
    size_t count = 1;
    for (int a = 0; a < ndim; a++) {
        snprintf(dims + strlen(dims), sizeof dims - strlen(dims), "%ld,%s", shape[a],
                 a + 1 < ndim ? " " : "");
        count *= (size_t)shape[a];
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int len = snprintf(hdr, sizeof hdr, "{'descr': '<f8', 'fortran_order': False, 'shape': (%s), }",
                       dims);
    int pad = 64 - (10 + len + 1) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) return fprintf(stderr, "ntk_mlp_export: cannot write %s\n", path), -1;
    unsigned short hl = (unsigned short)(len + pad + 1);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc(hl & 0xff, f), fputc(hl >> 8, f);
    fprintf(f, "%s%*s\n", hdr, pad, "");
    fwrite(x, sizeof(double), count, f);   // (the test machines are little-endian)
    return fclose(f) ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: ntk_mlp_export EXPERIMENT.yaml CACHE_DIR OUT_DIR [SEED] "
                        "[--set KEY=VALUE ...]\n");
        return 2;
    }
    long seed = argc > 4 && strcmp(argv[4], "--set") ? atol(argv[4]) : 0;
    char *sets[16];
    int nsets = 0;
    for (int i = 4; i + 1 < argc && nsets < 16; i++)
        if (!strcmp(argv[i], "--set")) sets[nsets++] = argv[++i];
    spec s;
    lerr e = {0};
    mlp_source *ms = NULL;
    if (config_load(argv[1], sets, nsets, &s, &e) || mlp_source_load(&s, seed, argv[2], &ms, &e)) {
        fprintf(stderr, "ntk_mlp_export: %s\n", e.msg);
        return 2;
    }
    const mlp_net *net = ms->net;
    int N = ms->train.n, d = net->d, h = net->h, K = net->K;
    int ce = !strcmp(s.teacher.loss, "cross_entropy");
    double *Phi = xcalloc((size_t)N * K * d * h, sizeof(double));
    double *f0 = xcalloc((size_t)N * K, sizeof(double));
    double *y = xcalloc((size_t)N * K, sizeof(double));
    double *z = xcalloc((size_t)h, sizeof(double));
    for (int i = 0; i < N; i++) {
        const double *x = ms->train.X + (size_t)i * d;
        for (int j = 0; j < h; j++) {
            z[j] = 0.0;
            for (int a = 0; a < d; a++) z[j] += x[a] * net->W1[(size_t)a * h + j];
        }
        for (int c = 0; c < K; c++) {
            for (int j = 0; j < h; j++) {
                double v = net->V[(size_t)j * K + c];
                if (z[j] > 0) f0[(size_t)i * K + c] += v * z[j];
                for (int a = 0; a < d; a++)
                    Phi[(((size_t)i * K + c) * d + a) * h + j] = z[j] > 0 ? x[a] * v : 0.0;
            }
        }
        if (ce) y[i] = ms->train.label[i];
        else y[(size_t)i * K + ms->train.label[i]] = 1.0;
    }
    long fshape[4] = {N, K, d, h}, bshape[2] = {N, K};
    int rc = write_npy(argv[3], "features.npy", fshape, 4, Phi) ||
             write_npy(argv[3], "base.npy", bshape, 2, f0) ||
             write_npy(argv[3], "targets.npy", bshape, ce ? 1 : 2, y);
    int nt = ms->test.n;
    if (!rc && nt > 0) {   // the test rows' outputs and targets
        double *ft = xcalloc((size_t)nt * K, sizeof(double)), *yt = xcalloc((size_t)nt * K, sizeof(double));
        for (int i = 0; i < nt; i++) {
            const double *x = ms->test.X + (size_t)i * d;
            for (int j = 0; j < h; j++) {
                double zj = 0.0;
                for (int a = 0; a < d; a++) zj += x[a] * net->W1[(size_t)a * h + j];
                for (int c = 0; c < K; c++)
                    if (zj > 0) ft[(size_t)i * K + c] += net->V[(size_t)j * K + c] * zj;
            }
            if (ce) yt[i] = ms->test.label[i];
            else yt[(size_t)i * K + ms->test.label[i]] = 1.0;
        }
        long tshape[2] = {nt, K};
        rc = write_npy(argv[3], "test_base.npy", tshape, 2, ft) ||
             write_npy(argv[3], "test_targets.npy", tshape, ce ? 1 : 2, yt);
        free(ft), free(yt);
    }
    free(Phi), free(f0), free(y), free(z);
    mlp_source_free(ms);
    spec_free(&s);
    return rc ? 2 : 0;
}
