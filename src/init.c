// init.c: the initialiser registry.  Each initialiser is one function and one
// row of `inits`; nothing else in the program switches on their names.
//
// With G = J(W0) = U_G diag(S_G) V_G^T and W0 = U_W diag(S_W) V_W^T:
//   lora      A ~ N(0, alpha2) i.i.d.,           B = 0
//   gaussian  A ~ N(0, alpha2),                  B ~ N(0, alpha2)
//   spectral  A = sqrt(g) U_G[:, :r] S^(1/2),    B = sqrt(g) S^(1/2) V_G[:, :r]^T,
//             S = S_G[:r] (or S_G[:r] / S_G[0] with init.normalize), g = gamma,
//             so that A B = gamma P_r(G)   (LoRA-One)
//   lora-ga   A = -c U_G[:, :r],                 B = c V_G[:, r:2r]^T,  base W0 - A B
//   pissa     A = U_W[:, :r] S_W^(1/2),          B = S_W^(1/2) V_W[:, :r]^T, base W0 - A B
#include "init.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "linalg.h"
#include "random.h"
#include "registry.h"

typedef struct {
    const problem *p;
    const spec *s;
    int d, k, r;
    long seed;
} init_ctx;

typedef int (*init_fn)(const init_ctx *c, double *A, double *B, int *shift, lerr *e);

// A random stream for the factors, depending on (seed, d, k, r) only.
static gsl_rng *factor_stream(const init_ctx *c)
{
    char tag[96];
    snprintf(tag, sizeof tag, "init|d=%d|k=%d|r=%d", c->d, c->k, c->r);
    return stream_new(c->seed, tag);
}

static int init_lora(const init_ctx *c, double *A, double *B, int *shift, lerr *e)
{
    (void)e;
    gsl_rng *rng = factor_stream(c);
    gaussian_fill(rng, A, c->d, c->r, sqrt(c->s->init.alpha2));
    memset(B, 0, sizeof(double) * (size_t)c->r * c->k);
    gsl_rng_free(rng);
    *shift = 0;
    return 0;
}

static int init_gaussian(const init_ctx *c, double *A, double *B, int *shift, lerr *e)
{
    (void)e;
    gsl_rng *rng = factor_stream(c);
    double sd = sqrt(c->s->init.alpha2);
    gaussian_fill(rng, A, c->d, c->r, sd);
    gaussian_fill(rng, B, c->r, c->k, sd);
    gsl_rng_free(rng);
    *shift = 0;
    return 0;
}

// A = U[:, :r] diag(sqrt(g s)), B = diag(sqrt(g s)) Vt[:r, :] for U: (d, q),
// s: (q), Vt: (q, k) from a thin SVD.
static void split_svd(const double *U, const double *S, const double *Vt, int d, int k, int q,
                      int r, double g, double *A, double *B)
{
    for (int j = 0; j < r; j++) {
        double f = sqrt(g * S[j]);
        for (int i = 0; i < d; i++) A[(size_t)i * r + j] = U[(size_t)i * q + j] * f;
        for (int i = 0; i < k; i++) B[(size_t)j * k + i] = Vt[(size_t)j * k + i] * f;
    }
}

static int init_spectral(const init_ctx *c, double *A, double *B, int *shift, lerr *e)
{
    const problem *p = c->p;
    double g = c->s->init.gamma;
    if (c->s->init.normalize) {
        if (!(p->SG[0] > 0))
            return lerr_run(e, "init spectral: the one-step gradient is zero, cannot normalise");
        g /= p->SG[0];
    }
    split_svd(p->UG, p->SG, p->VGt, c->d, c->k, p->gq, c->r, g, A, B);
    *shift = 0;
    return 0;
}

static int init_lora_ga(const init_ctx *c, double *A, double *B, int *shift, lerr *e)
{
    (void)e;
    const problem *p = c->p;
    int q = p->gq, r = c->r;
    double cs = c->s->init.scale;
    for (int i = 0; i < c->d; i++)
        for (int j = 0; j < r; j++) A[(size_t)i * r + j] = -cs * p->UG[(size_t)i * q + j];
    for (int j = 0; j < r; j++)
        for (int i = 0; i < c->k; i++)
            B[(size_t)j * c->k + i] = cs * p->VGt[(size_t)(r + j) * c->k + i];
    *shift = 1;
    return 0;
}

static int init_pissa(const init_ctx *c, double *A, double *B, int *shift, lerr *e)
{
    int d = c->d, k = c->k, q = d < k ? d : k;
    double *U = dalloc((size_t)d * q), *S = dalloc((size_t)q), *Vt = dalloc((size_t)q * k);
    int rc = svd_thin(c->p->W0, d, k, U, S, Vt, e);
    if (!rc) split_svd(U, S, Vt, d, k, q, c->r, 1.0, A, B);
    free(U), free(S), free(Vt);
    *shift = 1;
    return rc ? lerr_prefix(e, "init pissa: ") : 0;
}

static int check_lora_ga(const spec *s, lerr *e)
{
    int mn = s->teacher.d < s->teacher.k ? s->teacher.d : s->teacher.k;
    if (2 * s->lora.rank > mn)
        return lerr_input(e, "init.method lora-ga uses singular directions r+1..2r of G: it "
                          "needs 2 lora.rank <= min(d, k), but lora.rank = %d and min(d, k) = %d",
                          s->lora.rank, mn);
    return 0;
}

static const struct {
    const char *name;
    init_fn fn;
    int (*check)(const spec *s, lerr *e);
    int uses_alpha2;   // 1: factors drawn with variance init.alpha2
} inits[] = {
    {"lora", init_lora, NULL, 1},
    {"spectral", init_spectral, NULL, 0},
    {"lora-ga", init_lora_ga, check_lora_ga, 0},
    {"pissa", init_pissa, NULL, 0},
    {"gaussian", init_gaussian, NULL, 1},
};
enum { NINITS = sizeof inits / sizeof inits[0] };

static int find_init(const char *name)
{
    for (int i = 0; i < NINITS; i++)
        if (strcmp(inits[i].name, name) == 0) return i;
    return -1;
}

int init_known(const char *name) { return find_init(name) >= 0; }

int init_uses_alpha2(const char *method)
{
    int i = find_init(method);
    return i >= 0 && inits[i].uses_alpha2;
}

const char *init_names(void)
{
    static char buf[256];
    return join_names(buf, sizeof buf, inits, sizeof inits[0], NINITS);
}

int init_check(const spec *s, lerr *e)
{
    int i = find_init(s->init.method);
    if (i < 0)
        return lerr_input(e, "unknown init.method '%s' (valid: %s)", s->init.method,
                          init_names());
    return inits[i].check ? inits[i].check(s, e) : 0;
}

int init_factors(const spec *s, const problem *p, long seed, double *A, double *B,
                 int *shift, lerr *e)
{
    int i = find_init(s->init.method);
    if (i < 0) return init_check(s, e);
    init_ctx c = {.p = p, .s = s, .d = p->d, .k = p->k, .r = s->lora.rank, .seed = seed};
    blas_serial_begin();   // LAPACK and products: bits independent of the thread count
    int rc = inits[i].fn(&c, A, B, shift, e);
    blas_serial_end();
    return rc;
}
