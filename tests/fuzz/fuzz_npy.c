// fuzz_npy.c: fuzz target for the .npy reader: the input bytes are written to
// a scratch file and read back as a matrix (npy_read) and as an N-D array
// (npy_read_nd), and as integer labels (npy_read_ints).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/loralab-fuzz-npy.%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    fwrite(data, 1, size, f);
    fclose(f);
    lerr e;
    double *x = NULL;
    int r, c, nd;
    long dims[8];
    if (npy_read(path, &x, &r, &c, &e) == 0) free(x);
    if (npy_read_nd(path, 4, &x, &nd, dims, &e) == 0) free(x);
    int *lab = NULL, n;
    if (npy_read_ints(path, &lab, &n, &e) == 0) free(lab);
    return 0;
}
