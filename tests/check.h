// check.h: tiny test helpers shared by the C tests.  A test program returns
// 0 when every CHECK held, 1 otherwise, and 77 to skip (meson's convention).
#ifndef LORALAB_TEST_CHECK_H
#define LORALAB_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "spec.h"

static int check_failures = 0;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            check_failures++;                                               \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fprintf(stderr, "\n");                                          \
        }                                                                   \
    } while (0)

// |a - b| <= tol * max(|a|, |b|, floor)
static inline int close_rel(double a, double b, double tol, double floor)
{
    double s = fmax(fmax(fabs(a), fabs(b)), floor);
    return fabs(a - b) <= tol * s;
}

// A spec from YAML text (defaults for everything not given); exits on error.
static inline spec spec_from_yaml(const char *text)
{
    lerr e = {0};
    spec s;
    config_doc *doc = config_parse_string(text, "test", &e);
    if (!doc || config_resolve(doc, &s, &e)) {
        fprintf(stderr, "test setup: bad YAML: %s\n", e.msg);
        exit(1);
    }
    config_doc_free(doc);
    return s;
}

static inline int check_summary(const char *name)
{
    if (check_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

#endif
