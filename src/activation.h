// activation.h: entrywise activations sigma and their derivatives sigma'
// for the nonlinear teacher (theory/THEORY.md section 2).
#ifndef LORALAB_ACTIVATION_H
#define LORALAB_ACTIVATION_H

#include <stddef.h>

// f[i] = sigma(z[i]) and, when fp is not NULL, fp[i] = sigma'(z[i]).
// `slope` is the leaky ReLU's negative slope (ignored by the others).
typedef void (*activation_fn)(const double *z, double *f, double *fp, size_t n, double slope);

// The activation called `name`, or NULL.
activation_fn activation_find(const char *name);
// "relu, leaky_relu, tanh, gelu, linear"
const char *activation_names(void);
int activation_known(const char *name);

// The residual pass of the nonlinear teacher fused into one pass over n
// entries (z, xb, y: (n), e.g. a block of rows): for each i,
//   z_i <- z_i + xb_i;  f = sigma(z_i), s = sigma'(z_i);  r = f - y_i;
//   z_i <- r s when want_grad (the residual R), r otherwise;
// returns sum_i r^2, entry i added into partial sum i mod 8 and the eight
// sums added as ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)) at the end.
typedef double (*activation_residual_fn)(double *z, const double *xb, const double *y,
                                         size_t n, double slope, int want_grad);
// The fused pass of the activation `act` (one from activation_find), or NULL
// when it has none (tanh, gelu: their cost is in tanh / erfc, not memory).
activation_residual_fn activation_residual_for(activation_fn act);

#endif
