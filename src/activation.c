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

static const struct {
    const char *name;
    activation_fn fn;
} acts[] = {
    {"relu", act_relu}, {"leaky_relu", act_leaky}, {"tanh", act_tanh},
    {"gelu", act_gelu}, {"linear", act_linear},
};
enum { NACTS = sizeof acts / sizeof acts[0] };

activation_fn activation_find(const char *name)
{
    for (int i = 0; i < NACTS; i++)
        if (!strcmp(acts[i].name, name)) return acts[i].fn;
    return NULL;
}

int activation_known(const char *name) { return activation_find(name) != NULL; }

const char *activation_names(void)
{
    static char buf[128];
    return join_names(buf, sizeof buf, acts, sizeof acts[0], NACTS);
}
