// idx.c: reading IDX files (the MNIST family's format), plain or gzipped.
//
// The format (LeCun et al., http://yann.lecun.com/exdb/mnist/):
//
//   bytes 0-1   zero
//   byte  2     data type: 0x08 unsigned byte (others exist: 0x09 signed
//               byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double; MNIST
//               and Fashion-MNIST use only 0x08, and so do we)
//   byte  3     number of dimensions D
//   then        D dimensions, each a 32-bit unsigned big-endian integer
//   then        prod(dims) elements in C order (last index fastest), and
//               nothing after them
//
// so images are 0x00000803 (count, rows, cols) and labels 0x00000801
// (count).  All reading goes through zlib's gzread, which inflates a gzip
// stream and copies any other file unchanged, so `foo` and `foo.gz` read
// alike.  The data buffer grows as bytes arrive (never beyond what the
// dimensions imply), so a corrupt header claiming gigabytes cannot make us
// allocate them before the short file is noticed.
#include "idx.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

enum {
    IDX_UBYTE = 0x08,
    IDX_CHUNK = 1 << 20,   // first data buffer and largest single gzread
};

// The outcome of a gzread that returned `got` < `want` bytes (or -1):
// an error for a read error or a corrupt or truncated gzip stream; 0 when the
// (plain or gzip) file simply ended, which the caller then describes.
static int gz_status(gzFile g, const char *path, int got, lerr *e)
{
    int err = Z_OK;
    const char *msg = gzerror(g, &err);
    if (err == Z_ERRNO) {
        int en = errno ? errno : EIO;
        return lerr_input(e, "cannot read %s: %s", path, strerror(en));
    }
    if (got < 0 || (err != Z_OK && err != Z_BUF_ERROR)) {
        // zlib prefixes its message with the stream's name, "<fd:3>: " here
        const char *colon = msg && strncmp(msg, "<fd:", 4) == 0 ? strstr(msg, ": ") : NULL;
        if (colon) msg = colon + 2;
        return lerr_input(e, "%s: corrupt gzip stream (%s)", path, msg && *msg ? msg : "?");
    }
    if (err == Z_BUF_ERROR)
        return lerr_input(e, "%s: truncated gzip stream (the file ends inside it)", path);
    return 0;
}

// Read up to n bytes into buf; *got receives the count.  Fails only for read
// errors and corrupt or truncated gzip streams; a short plain file is left
// to the caller.
static int gz_fill(gzFile g, const char *path, unsigned char *buf, size_t n, size_t *got,
                   lerr *e)
{
    *got = 0;
    while (*got < n) {
        size_t want = n - *got < IDX_CHUNK ? n - *got : IDX_CHUNK;
        errno = 0;
        int r = gzread(g, buf + *got, (unsigned)want);
        if (r > 0) *got += (size_t)r;
        if (r < (int)want) return gz_status(g, path, r, e);
    }
    return 0;
}

// "(60000, 28, 28)" for messages.
static void dims_str(char *buf, size_t n, const unsigned long *dim, int ndim)
{
    size_t k = (size_t)snprintf(buf, n, "(");
    for (int a = 0; a < ndim && k < n; a++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lu", a ? ", " : "", dim[a]);
    if (k < n) snprintf(buf + k, n - k, "%s)", ndim == 1 ? "," : "");
}

// Magic number and dimensions: the element count goes to *total.
static int read_header(gzFile g, const char *path, int ndim, idx_array *out, size_t *total,
                       lerr *e)
{
    unsigned char head[4 + 4 * 3];
    size_t got;
    const unsigned long want_magic = (unsigned long)IDX_UBYTE << 8 | (unsigned long)ndim;
    const char *what = ndim == 3 ? "images" : "labels";
    if (gz_fill(g, path, head, 4, &got, e)) return -1;
    if (got < 4)
        return lerr_input(e, "%s: truncated IDX file (%zu bytes; the magic number alone "
                             "takes 4)", path, got);
    unsigned long magic = (unsigned long)head[0] << 24 | (unsigned long)head[1] << 16 |
                          (unsigned long)head[2] << 8 | head[3];
    if (magic != want_magic) {
        if (head[0] == 0 && head[1] == 0 && head[2] == IDX_UBYTE && (head[3] == 1 || head[3] == 3))
            return lerr_input(e, "%s: wrong magic number 0x%08lx: an IDX file of %s, not of %s "
                                 "(expected 0x%08lx)", path, magic,
                              head[3] == 3 ? "images" : "labels", what, want_magic);
        if (head[0] == 0 && head[1] == 0 && head[2] != IDX_UBYTE)
            return lerr_input(e, "%s: wrong magic number 0x%08lx: IDX data type 0x%02x is not "
                                 "supported (only unsigned bytes, 0x08; expected 0x%08lx for "
                                 "%s)", path, magic, head[2], want_magic, what);
        return lerr_input(e, "%s: wrong magic number 0x%08lx (expected 0x%08lx, IDX %s)", path,
                          magic, want_magic, what);
    }
    if (gz_fill(g, path, head + 4, 4 * (size_t)ndim, &got, e)) return -1;
    if (got < 4 * (size_t)ndim)
        return lerr_input(e, "%s: truncated IDX header (%d dimensions take %d bytes, found "
                             "%zu)", path, ndim, 4 * ndim, got);
    unsigned long dim[3] = {0, 0, 0};
    for (int a = 0; a < ndim; a++) {
        const unsigned char *p = head + 4 + 4 * a;
        dim[a] = (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 |
                 (unsigned long)p[2] << 8 | p[3];
    }
    char shown[96];
    dims_str(shown, sizeof shown, dim, ndim);
    // Each dimension and the size of one item (rows * cols) must fit an int,
    // and the whole array as doubles a size_t (callers convert it).
    unsigned long long item = 1, all;
    for (int a = 0; a < ndim; a++) {
        if (dim[a] == 0) return lerr_input(e, "%s: empty IDX array, dimensions %s", path, shown);
        if (dim[a] > INT_MAX)
            return lerr_input(e, "%s: IDX dimensions %s too large (each must be below 2^31)",
                              path, shown);
        if (a > 0) item *= dim[a];
    }
    all = item * dim[0];
    if (item > INT_MAX || all / dim[0] != item || all > SIZE_MAX / sizeof(double))
        return lerr_input(e, "%s: IDX dimensions %s too large", path, shown);
    out->ndim = ndim;
    for (int a = 0; a < ndim; a++) out->dims[a] = (int)dim[a];
    *total = (size_t)all;
    return 0;
}

// The data section: exactly `total` bytes, then the end of the file.
static int read_data(gzFile g, const char *path, const idx_array *a, size_t total,
                     unsigned char **data, lerr *e)
{
    size_t cap = total < IDX_CHUNK ? total : IDX_CHUNK, have = 0, got;
    unsigned char *buf = xmalloc(cap);
    for (;;) {
        if (gz_fill(g, path, buf + have, cap - have, &got, e)) goto fail;
        have += got;
        if (have < cap) {
            unsigned long dim[3] = {0, 0, 0};
            char shown[96];
            for (int k = 0; k < a->ndim; k++) dim[k] = (unsigned long)a->dims[k];
            dims_str(shown, sizeof shown, dim, a->ndim);
            lerr_input(e, "%s: truncated IDX data (dimensions %s need %zu bytes, found %zu)",
                       path, shown, total, have);
            goto fail;
        }
        if (have == total) break;
        cap = total - cap < cap ? total : 2 * cap;
        buf = xrealloc(buf, cap);
    }
    // Anything after the data is an error; reading on also makes zlib check
    // the gzip trailer (CRC-32 and length).
    unsigned char extra[256];
    if (gz_fill(g, path, extra, sizeof extra, &got, e)) goto fail;
    if (got) {
        lerr_input(e, "%s: trailing data after the %zu bytes the IDX dimensions imply", path,
                   total);
        goto fail;
    }
    *data = buf;
    return 0;
fail:
    free(buf);
    return -1;
}

int idx_read(const char *path, int ndim, idx_array *out, lerr *e)
{
    memset(out, 0, sizeof *out);
    if (ndim != 1 && ndim != 3) return lerr_run(e, "idx_read: ndim %d (need 1 or 3)", ndim);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        int en = errno;
        return lerr_input(e, "cannot open %s: %s", path, strerror(en));
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return lerr_input(e, "cannot read %s: it is a directory", path);
    }
    gzFile g = gzdopen(fd, "rb");
    if (!g) {
        close(fd);
        return lerr_run(e, "cannot read %s: zlib could not start (out of memory?)", path);
    }
    size_t total = 0;
    idx_array a = {0};
    int rc = read_header(g, path, ndim, &a, &total, e);
    if (!rc) rc = read_data(g, path, &a, total, &a.data, e);
    gzclose(g);
    if (rc) return -1;
    *out = a;
    return 0;
}

int idx_read_images(const char *path, unsigned char **pixels, int *n, int *rows, int *cols,
                    lerr *e)
{
    idx_array a;
    if (idx_read(path, 3, &a, e)) return -1;
    *pixels = a.data;
    *n = a.dims[0];
    *rows = a.dims[1];
    *cols = a.dims[2];
    return 0;
}

int idx_read_labels(const char *path, unsigned char **labels, int *n, lerr *e)
{
    idx_array a;
    if (idx_read(path, 1, &a, e)) return -1;
    *labels = a.data;
    *n = a.dims[0];
    return 0;
}

void idx_free(idx_array *a)
{
    free(a->data);
    a->data = NULL;
}
