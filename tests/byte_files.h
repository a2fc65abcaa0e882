// byte_files.h: helpers for the C tests that write input files byte by byte
// (test_npy, test_idx): a growable byte buffer and paths in the test's own
// temporary folder (the test makes `tmpdir` with mkdtemp and removes it).
#ifndef LORALAB_TEST_BYTE_FILES_H
#define LORALAB_TEST_BYTE_FILES_H

#include <stdio.h>
#include <string.h>

#include "util.h"

static char tmpdir[64];

// out = tmpdir/name
static inline void tpath(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

typedef struct {
    unsigned char *b;
    size_t n, cap;
} bytes;

// Append n bytes at p to b.
static inline void put(bytes *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->b = xrealloc(b->b, b->cap);
    }
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

#endif
