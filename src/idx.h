// idx.h: IDX files, the format of MNIST and Fashion-MNIST
// (`*-images-idx3-ubyte`, `*-labels-idx1-ubyte`), plain or gzipped.
//
// Only unsigned-byte data (type code 0x08) is read: images have the magic
// number 0x00000803 (three dimensions: count, rows, columns), labels
// 0x00000801 (one dimension: count).  A gzipped file (.gz or not) is
// inflated transparently by zlib.  Wrong magic numbers, empty or oversized
// dimensions, truncated files, trailing bytes and corrupt gzip streams are
// input errors whose message starts with the file's path.
#ifndef LORALAB_IDX_H
#define LORALAB_IDX_H

#include "util.h"

// An IDX array of unsigned bytes, C order (the last dimension varies fastest).
typedef struct {
    int ndim;              // 1 (labels) or 3 (images)
    int dims[3];           // dims[0] items; images: dims[1] rows, dims[2] columns
    unsigned char *data;   // prod(dims) bytes
} idx_array;

// Read `path`, which must hold an unsigned-byte IDX array of exactly `ndim`
// dimensions (1 or 3), into *out (free with idx_free).
int idx_read(const char *path, int ndim, idx_array *out, lerr *e);

// Images: *pixels: (n, rows * cols) row-major, each row one image stored row
// by row (the file's own order).
int idx_read_images(const char *path, unsigned char **pixels, int *n, int *rows, int *cols,
                    lerr *e);

// Labels: *labels: (n) bytes.
int idx_read_labels(const char *path, unsigned char **labels, int *n, lerr *e);

void idx_free(idx_array *a);

#endif
