// fuzz_idx.c: fuzz target for the IDX reader: the input bytes are written to
// a scratch file and read back as images (idx_read with 3 dimensions) and as
// labels (1 dimension), plain or, when the bytes are a gzip stream, inflated.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/loralab-fuzz-idx.%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    fwrite(data, 1, size, f);
    fclose(f);
    lerr e;
    idx_array a;
    if (idx_read(path, 3, &a, &e) == 0) idx_free(&a);
    if (idx_read(path, 1, &a, &e) == 0) idx_free(&a);
    return 0;
}
