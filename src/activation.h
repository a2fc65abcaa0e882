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

#endif
