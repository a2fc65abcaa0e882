// activation.c: the activation registry.  f may be the same array as z
// (in-place evaluation): each entry is read before it is written.
//   relu        max(z, 0);            sigma'(z) = 1 for z > 0, 0 for z <= 0
//                                    (sigma'(0) = 0, the subgradient we choose)
//   leaky_relu  z for z > 0, s z;     sigma'(z) = 1 for z > 0, s for z <= 0
//   tanh        tanh z;               1 - tanh^2 z
//   gelu        z Phi(z) (exact, with the normal cdf Phi);  Phi(z) + z phi(z)
//   linear      z;                    1
#include "activation.h"

#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void act_relu(const double *z, double *f, double *fp, size_t n, double s)
{
    (void)s;
    for (size_t i = 0; i < n; i++) {
        double x = z[i];   // f may be z: read before writing
        f[i] = x > 0 ? x : 0.0;
        if (fp) fp[i] = x > 0 ? 1.0 : 0.0;
    }
}

static void act_leaky(const double *z, double *f, double *fp, size_t n, double s)
{
    for (size_t i = 0; i < n; i++) {
        double x = z[i];
        f[i] = x > 0 ? x : s * x;
        if (fp) fp[i] = x > 0 ? 1.0 : s;
    }
}

static void act_tanh(const double *z, double *f, double *fp, size_t n, double s)
{
    (void)s;
    for (size_t i = 0; i < n; i++) {
        double t = tanh(z[i]);
        f[i] = t;
        if (fp) fp[i] = 1.0 - t * t;
    }
}

static void act_gelu(const double *z, double *f, double *fp, size_t n, double s)
{
    (void)s;
    for (size_t i = 0; i < n; i++) {
        double x = z[i], Phi = 0.5 * erfc(-x / sqrt(2.0));
        f[i] = x * Phi;
        if (fp) fp[i] = Phi + x * exp(-0.5 * x * x) / sqrt(2.0 * M_PI);
    }
}

static void act_linear(const double *z, double *f, double *fp, size_t n, double s)
{
    (void)s;
    if (f != z) memcpy(f, z, sizeof(double) * n);
    for (size_t i = 0; fp && i < n; i++) fp[i] = 1.0;
}

// Fused residual passes (activation.h): the same operations, in the same
// order, as applying the activation above to the whole array and then forming
// r = f - y and r s, so the results are the same bit for bit; but each entry
// is read and written once, while it is in a register.  ACT_RESIDUAL(name,
// F, S) defines one from expressions F and S of the pre-activation x: written
// without branches (selects, restrict arrays, want_grad outside the loop) so
// that the compiler vectorises it; a branch on the sign of x would be
// mispredicted half of the time for ReLU.
#define ACT_RESIDUAL(name, F, S)                                                              \
    static double name(double *restrict z, const double *restrict xb,                         \
                       const double *restrict y, size_t n, double slope, int want_grad)      \
    {                                                                                        \
        (void)slope;                                                                         \
        double acc[8] = {0};                                                                 \
        size_t i = 0, n8 = n / 8 * 8;                                                        \
        if (want_grad)                                                                       \
            for (; i < n8; i += 8)                                                           \
                for (int j = 0; j < 8; j++) {                                                \
                    double x = z[i + j] + xb[i + j], f = (F), s = (S), r = f - y[i + j];     \
                    acc[j] += r * r;                                                         \
                    z[i + j] = r * s;                                                        \
                }                                                                            \
        else                                                                                 \
            for (; i < n8; i += 8)                                                           \
                for (int j = 0; j < 8; j++) {                                                \
                    double x = z[i + j] + xb[i + j], f = (F), r = f - y[i + j];              \
                    acc[j] += r * r;                                                         \
                    z[i + j] = r;                                                            \
                }                                                                            \
        for (; i < n; i++) {                                                                 \
            double x = z[i] + xb[i], r = (F) - y[i];                                         \
            acc[i % 8] += r * r;                                                             \
            z[i] = want_grad ? r * (S) : r;                                                  \
        }                                                                                    \
        return ((acc[0] + acc[1]) + (acc[2] + acc[3])) +                                     \
               ((acc[4] + acc[5]) + (acc[6] + acc[7]));                                      \
    }
ACT_RESIDUAL(res_relu, x > 0 ? x : 0.0, x > 0 ? 1.0 : 0.0)
ACT_RESIDUAL(res_leaky, x > 0 ? x : slope * x, x > 0 ? 1.0 : slope)
ACT_RESIDUAL(res_linear, x, 1.0)

static const struct {
    const char *name;
    activation_fn fn;
    activation_residual_fn residual;   // NULL: none fused
} acts[] = {
    {"relu", act_relu, res_relu}, {"leaky_relu", act_leaky, res_leaky},
    {"tanh", act_tanh, NULL}, {"gelu", act_gelu, NULL}, {"linear", act_linear, res_linear},
};
enum { NACTS = sizeof acts / sizeof acts[0] };

activation_fn activation_find(const char *name)
{
    for (int i = 0; i < NACTS; i++)
        if (!strcmp(acts[i].name, name)) return acts[i].fn;
    return NULL;
}

int activation_known(const char *name) { return activation_find(name) != NULL; }

activation_residual_fn activation_residual_for(activation_fn act)
{
    for (int i = 0; i < NACTS; i++)
        if (acts[i].fn == act) return acts[i].residual;
    return NULL;
}

const char *activation_names(void)
{
    static char buf[128];
    return join_names(buf, sizeof buf, acts, sizeof acts[0], NACTS);
}
