// npy.c: reading and writing NumPy .npy files.
//
// The format (numpy.lib.format, versions 1.0, 2.0 and 3.0):
//
//   bytes 0-5   magic "\x93NUMPY"
//   byte  6     major version: 1, 2 or 3
//   byte  7     minor version: 0
//   then        the header length HLEN, unsigned little-endian: 2 bytes in
//               version 1.0, 4 bytes in versions 2.0 and 3.0
//   then        HLEN bytes of header: a Python dict literal such as
//                 {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
//               padded with spaces and ended by '\n' so that the data starts
//               at a multiple of 64 bytes (16 in old files).  Latin-1 in 1.0
//               and 2.0, UTF-8 in 3.0 (only ASCII matters for us).
//   then        prod(shape) * itemsize bytes of raw elements, in C (row-major)
//               order, or column-major when fortran_order is True, and
//               nothing after them.
//
// We read little-endian float64 '<f8' and float32 '<f4', 1-D (returned as a
// column) or 2-D, and always return a row-major double matrix whose entries
// are all finite.  The header is parsed by hand: keys in any order, single or
// double quotes, free spacing, optional trailing commas.  We write version
// 1.0, '<f8', C order, padded to 64 bytes as numpy does.  Elements are copied
// byte for byte, so the host must be little-endian (checked at run time).
#include "npy.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

_Static_assert(sizeof(double) == 8, "npy.c needs 64-bit IEEE doubles");
_Static_assert(sizeof(float) == 4, "npy.c needs 32-bit IEEE floats");

static const char NPY_MAGIC[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
enum {
    NPY_MAX_DIMS = 32,          // dimensions stored; more are only counted
    NPY_MAX_HEADER = 1 << 20,   // refuse absurd header lengths before allocating
    NPY_ALIGN = 64,             // numpy aligns the data start to this
    NPY_SHOW = 200,             // header characters quoted in error messages
};

// The fields of a parsed header.
typedef struct {
    char descr[40];             // dtype string, truncated to fit (see descr_long)
    int descr_long;
    int have_descr, have_order, have_shape;
    int fortran;
    int ndim;
    unsigned long long dim[NPY_MAX_DIMS];   // saturated at ULLONG_MAX
} npy_header;

// ---------------------------------------------------------------------------
// Host check and small helpers

// Elements are copied byte for byte, which is right only on a little-endian host.
static int host_check(lerr *e)
{
    const uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    if (first != 1) return lerr_run(e, "npy: big-endian hosts are not supported");
    return 0;
}

// "(2, 3)", "(5,)" or "()", like Python's repr of a tuple.
static void shape_str(char *buf, size_t n, const npy_header *h)
{
    size_t k = (size_t)snprintf(buf, n, "(");
    int shown = h->ndim < NPY_MAX_DIMS ? h->ndim : NPY_MAX_DIMS;
    for (int i = 0; i < shown && k < n; i++) {
        const char *sep = i ? ", " : "";
        if (h->dim[i] == ULLONG_MAX) k += (size_t)snprintf(buf + k, n - k, "%s>=2**64", sep);
        else k += (size_t)snprintf(buf + k, n - k, "%s%llu", sep, h->dim[i]);
    }
    if (k < n) snprintf(buf + k, n - k, "%s)", h->ndim == 1 ? "," : "");
}

// Copy the header into `out` with non-printing bytes escaped, for messages.
static void show_header(char *out, size_t n, const char *hdr, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; i < len && k + 8 < n; i++) {
        unsigned char c = (unsigned char)hdr[i];
        if (k >= NPY_SHOW) {
            k += (size_t)snprintf(out + k, n - k, "...");
            break;
        }
        if (c == '\n') k += (size_t)snprintf(out + k, n - k, "\\n");
        else if (c < 0x20 || c >= 0x7f) k += (size_t)snprintf(out + k, n - k, "\\x%02x", c);
        else out[k++] = (char)c;
    }
    out[k < n ? k : n - 1] = '\0';
}

// Read exactly n bytes; *got receives the count.  A read error (not a short
// file) is reported here; a short read is left to the caller to describe.
static int read_bytes(FILE *f, const char *path, void *buf, size_t n, size_t *got, lerr *e)
{
    errno = 0;
    *got = fread(buf, 1, n, f);
    if (*got < n && ferror(f)) {
        int err = errno ? errno : EIO;
        return lerr_input(e, "cannot read %s: %s", path, strerror(err));
    }
    return 0;
}

// ---------------------------------------------------------------------------
// Header dict parser

typedef struct {
    const char *hdr, *p, *end;
    const char *path;
    lerr *e;
} hparser;

// "PATH: malformed .npy header (WHAT at byte K): HEADER", without the
// position when at_pos is 0.
static int hp_fail_pos(hparser *hp, const char *what, int at_pos)
{
    char shown[NPY_SHOW + 16], pos[48] = "";
    show_header(shown, sizeof shown, hp->hdr, (size_t)(hp->end - hp->hdr));
    if (at_pos) snprintf(pos, sizeof pos, " at byte %zu", (size_t)(hp->p - hp->hdr));
    return lerr_input(hp->e, "%s: malformed .npy header (%s%s): %s", hp->path, what, pos, shown);
}

static int hp_fail(hparser *hp, const char *what) { return hp_fail_pos(hp, what, 1); }

static void hp_space(hparser *hp)
{
    while (hp->p < hp->end && (*hp->p == ' ' || *hp->p == '\t' || *hp->p == '\n' ||
                               *hp->p == '\r'))
        hp->p++;
}

// Skip spaces, then consume `c` if it is next.
static int hp_accept(hparser *hp, char c)
{
    hp_space(hp);
    if (hp->p < hp->end && *hp->p == c) {
        hp->p++;
        return 1;
    }
    return 0;
}

// A quoted string ('...' or "...") into buf, truncated to n - 1 bytes;
// *truncated tells whether it was.  Backslash escapes the next byte.
static int hp_string(hparser *hp, char *buf, size_t n, int *truncated)
{
    hp_space(hp);
    if (hp->p >= hp->end || (*hp->p != '\'' && *hp->p != '"'))
        return hp_fail(hp, "expected a quoted string");
    char q = *hp->p++;
    size_t k = 0;
    *truncated = 0;
    while (hp->p < hp->end && *hp->p != q) {
        if (*hp->p == '\\' && hp->p + 1 < hp->end) hp->p++;
        if (k + 1 < n) buf[k++] = *hp->p;
        else *truncated = 1;
        hp->p++;
    }
    buf[k] = '\0';
    if (hp->p >= hp->end) return hp_fail(hp, "unterminated string");
    hp->p++;
    return 0;
}

// A Python boolean literal.
static int hp_bool(hparser *hp, int *out)
{
    hp_space(hp);
    size_t left = (size_t)(hp->end - hp->p);
    if (left >= 4 && memcmp(hp->p, "True", 4) == 0) {
        hp->p += 4;
        *out = 1;
    } else if (left >= 5 && memcmp(hp->p, "False", 5) == 0) {
        hp->p += 5;
        *out = 0;
    } else {
        return hp_fail(hp, "expected True or False for 'fortran_order'");
    }
    return 0;
}

// A non-negative integer (Python 2 files may add an 'L'), saturated at
// ULLONG_MAX so that huge values are caught later without overflowing.
static int hp_uint(hparser *hp, unsigned long long *out)
{
    hp_space(hp);
    if (hp->p >= hp->end || *hp->p < '0' || *hp->p > '9')
        return hp_fail(hp, "expected a non-negative integer in 'shape'");
    unsigned long long v = 0;
    while (hp->p < hp->end && *hp->p >= '0' && *hp->p <= '9') {
        unsigned digit = (unsigned)(*hp->p - '0');
        v = v > (ULLONG_MAX - digit) / 10 ? ULLONG_MAX : v * 10 + digit;
        hp->p++;
    }
    if (hp->p < hp->end && (*hp->p == 'L' || *hp->p == 'l')) hp->p++;
    *out = v;
    return 0;
}

// A tuple of integers: (), (n,), (n, m), (n, m, k, ...), trailing comma optional.
static int hp_shape(hparser *hp, npy_header *h)
{
    if (!hp_accept(hp, '(')) return hp_fail(hp, "expected '(' to start 'shape'");
    h->ndim = 0;
    while (!hp_accept(hp, ')')) {
        unsigned long long v = 0;
        if (hp_uint(hp, &v)) return -1;
        if (h->ndim < NPY_MAX_DIMS) h->dim[h->ndim] = v;
        h->ndim++;
        if (!hp_accept(hp, ',')) {
            if (!hp_accept(hp, ')')) return hp_fail(hp, "expected ',' or ')' in 'shape'");
            break;
        }
    }
    return 0;
}

// One "key: value" entry of the dict.
static int hp_entry(hparser *hp, npy_header *h)
{
    char key[32];
    int truncated;
    if (hp_string(hp, key, sizeof key, &truncated)) return -1;
    if (!hp_accept(hp, ':')) return hp_fail(hp, "expected ':' after a key");
    int *seen;
    if (strcmp(key, "descr") == 0 && !truncated) seen = &h->have_descr;
    else if (strcmp(key, "fortran_order") == 0 && !truncated) seen = &h->have_order;
    else if (strcmp(key, "shape") == 0 && !truncated) seen = &h->have_shape;
    else return hp_fail(hp, "unexpected key");
    if (*seen) return hp_fail(hp, "duplicate key");
    *seen = 1;
    if (seen == &h->have_descr) {
        hp_space(hp);
        if (hp->p < hp->end && *hp->p == '[')
            return lerr_input(hp->e, "%s: unsupported structured dtype (need float64 '<f8' "
                                     "or float32 '<f4', little-endian)", hp->path);
        return hp_string(hp, h->descr, sizeof h->descr, &h->descr_long);
    }
    if (seen == &h->have_order) return hp_bool(hp, &h->fortran);
    return hp_shape(hp, h);
}

// The whole header: a dict with exactly the keys descr, fortran_order and
// shape, then only white space (numpy's padding and final '\n').
static int parse_header(const char *hdr, size_t len, const char *path, npy_header *h, lerr *e)
{
    hparser hp = {hdr, hdr, hdr + len, path, e};
    memset(h, 0, sizeof *h);
    if (!hp_accept(&hp, '{')) return hp_fail(&hp, "expected '{'");
    while (!hp_accept(&hp, '}')) {
        if (hp_entry(&hp, h)) return -1;
        if (!hp_accept(&hp, ',')) {
            if (!hp_accept(&hp, '}')) return hp_fail(&hp, "expected ',' or '}'");
            break;
        }
    }
    hp_space(&hp);
    if (hp.p != hp.end) return hp_fail(&hp, "unexpected text after the dict");
    if (!h->have_descr) return hp_fail_pos(&hp, "missing key 'descr'", 0);
    if (!h->have_order) return hp_fail_pos(&hp, "missing key 'fortran_order'", 0);
    if (!h->have_shape) return hp_fail_pos(&hp, "missing key 'shape'", 0);
    return 0;
}

// ---------------------------------------------------------------------------
// Reading

// Magic, version and header length, then the header text itself (*hdr is
// malloc'ed, not NUL-terminated).
static int read_preamble(FILE *f, const char *path, char **hdr, size_t *hlen, lerr *e)
{
    unsigned char pre[12];
    size_t got;
    if (read_bytes(f, path, pre, 8, &got, e)) return -1;
    if (got < sizeof NPY_MAGIC || memcmp(pre, NPY_MAGIC, sizeof NPY_MAGIC) != 0)
        return lerr_input(e, "%s: not a .npy file (bad magic; expected \"\\x93NUMPY\")", path);
    if (got < 8) return lerr_input(e, "%s: truncated header (file ends in the version)", path);
    if (pre[6] < 1 || pre[6] > 3 || pre[7] != 0)
        return lerr_input(e, "%s: unsupported .npy format version %d.%d (need 1.0, 2.0 or 3.0)",
                          path, pre[6], pre[7]);
    size_t nlen = pre[6] == 1 ? 2 : 4;
    if (read_bytes(f, path, pre + 8, nlen, &got, e)) return -1;
    if (got < nlen)
        return lerr_input(e, "%s: truncated header (file ends in the header length)", path);
    unsigned long len = 0;
    for (size_t i = nlen; i-- > 0;) len = (len << 8) | pre[8 + i];
    if (len > NPY_MAX_HEADER)
        return lerr_input(e, "%s: .npy header length %lu is implausibly large (limit %d)", path,
                          len, NPY_MAX_HEADER);
    *hdr = xmalloc(len);
    if (read_bytes(f, path, *hdr, len, &got, e)) return -1;
    if (got < len)
        return lerr_input(e, "%s: truncated header (header length says %lu bytes, found %zu)",
                          path, len, got);
    *hlen = len;
    return 0;
}

// Item size for a supported dtype, or an error naming what was found.
static int check_dtype(const npy_header *h, const char *path, size_t *itemsize, lerr *e)
{
    if (!h->descr_long && strcmp(h->descr, "<f8") == 0) *itemsize = 8;
    else if (!h->descr_long && strcmp(h->descr, "<f4") == 0) *itemsize = 4;
    else if (h->descr[0] == '>')
        return lerr_input(e, "%s: unsupported dtype '%s%s': big-endian data is not supported "
                             "(need float64 '<f8' or float32 '<f4', little-endian)",
                          path, h->descr, h->descr_long ? "..." : "");
    else
        return lerr_input(e, "%s: unsupported dtype '%s%s' (need float64 '<f8' or float32 "
                             "'<f4', little-endian)",
                          path, h->descr, h->descr_long ? "..." : "");
    return 0;
}

// Rows and columns from the shape, refusing 0-D, >2-D, empty and oversized
// arrays (each dimension must fit an int, and the byte count a size_t).
static int check_shape(const npy_header *h, const char *path, size_t itemsize, int *rows,
                       int *cols, lerr *e)
{
    char shape[NPY_MAX_DIMS * 24];
    shape_str(shape, sizeof shape, h);
    if (h->ndim == 0)
        return lerr_input(e, "%s: 0-D (scalar) array, shape (); need a 1-D or 2-D array", path);
    if (h->ndim > 2)
        return lerr_input(e, "%s: %d-D array, shape %s; need a 1-D or 2-D array", path,
                          h->ndim, shape);
    unsigned long long r = h->dim[0], c = h->ndim == 2 ? h->dim[1] : 1;
    if (r == 0 || c == 0) return lerr_input(e, "%s: empty array, shape %s", path, shape);
    if (r > INT_MAX || c > INT_MAX || r > SIZE_MAX / c || r * c > SIZE_MAX / itemsize ||
        r * c > SIZE_MAX / sizeof(double))
        return lerr_input(e, "%s: array too large, shape %s", path, shape);
    *rows = (int)r;
    *cols = (int)c;
    return 0;
}

// Element k of the raw little-endian data, as a double.
static double raw_elem(const unsigned char *raw, size_t k, size_t itemsize)
{
    if (itemsize == 8) {
        double d;
        memcpy(&d, raw + 8 * k, 8);
        return d;
    }
    float x;
    memcpy(&x, raw + 4 * k, 4);
    return (double)x;
}

// Raw elements (C or Fortran order) into the row-major double matrix out.
static void convert(const unsigned char *raw, size_t itemsize, int fortran, int rows, int cols,
                    double *out)
{
    for (size_t i = 0; i < (size_t)rows; i++)
        for (size_t j = 0; j < (size_t)cols; j++) {
            size_t k = fortran ? j * (size_t)rows + i : i * (size_t)cols + j;
            out[i * (size_t)cols + j] = raw_elem(raw, k, itemsize);
        }
}

// Fail if anything follows the data.
static int check_trailing(FILE *f, const char *path, size_t nbytes, lerr *e)
{
    unsigned char buf[4096];
    size_t extra = 0, got;
    do {
        if (read_bytes(f, path, buf, sizeof buf, &got, e)) return -1;
        extra += got;
    } while (got == sizeof buf);
    if (extra)
        return lerr_input(e, "%s: trailing data (%zu bytes after the %zu bytes the shape "
                             "implies)", path, extra, nbytes);
    return 0;
}

// Fail on the first NaN or infinity in row-major order.
static int check_finite(const double *x, int rows, int cols, const char *path, lerr *e)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            if (!isfinite(x[(size_t)i * (size_t)cols + (size_t)j]))
                return lerr_input(e, "%s: non-finite value at (%d, %d)", path, i, j);
    return 0;
}

static int truncated_data(const char *path, const npy_header *h, size_t nbytes, size_t got,
                          lerr *e)
{
    char shape[64];
    shape_str(shape, sizeof shape, h);
    return lerr_input(e, "%s: truncated data (shape %s of '%s' needs %zu bytes, found %zu)",
                      path, shape, h->descr, nbytes, got);
}

// For a regular file, fail before allocating if fewer than nbytes remain, so
// that a corrupt shape cannot make us allocate gigabytes.
static int check_size(FILE *f, const char *path, const npy_header *h, size_t nbytes, lerr *e)
{
    struct stat st;
    long pos = ftell(f);
    if (pos < 0 || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    if (st.st_size >= pos && (unsigned long long)(st.st_size - pos) < nbytes)
        return truncated_data(path, h, nbytes, (size_t)(st.st_size - pos), e);
    return 0;
}

// The data section into a new row-major matrix *out.  C-ordered float64 is
// read in place; everything else goes through a raw buffer.
static int read_data(FILE *f, const char *path, const npy_header *h, size_t itemsize, int rows,
                     int cols, double **out, lerr *e)
{
    size_t n = (size_t)rows * (size_t)cols, nbytes = n * itemsize, got;
    if (check_size(f, path, h, nbytes, e)) return -1;
    double *x = xmalloc(n * sizeof(double));
    int direct = itemsize == 8 && !h->fortran;
    unsigned char *raw = direct ? (unsigned char *)x : xmalloc(nbytes);
    int rc = read_bytes(f, path, raw, nbytes, &got, e);
    if (!rc && got < nbytes) rc = truncated_data(path, h, nbytes, got, e);
    if (!rc) rc = check_trailing(f, path, nbytes, e);
    if (!rc && !direct) convert(raw, itemsize, h->fortran, rows, cols, x);
    if (!rc) rc = check_finite(x, rows, cols, path, e);
    if (!direct) free(raw);
    if (rc) {
        free(x);
        return -1;
    }
    *out = x;
    return 0;
}

// Open path and read everything before the data: magic, version, header
// (parsed into h) and a supported dtype (its size in *itemsize).  On success
// *f is positioned at the data; on failure it is closed.
typedef int (*dtype_check)(const npy_header *h, const char *path, size_t *itemsize, lerr *e);

static int open_npy_as(const char *path, FILE **f, npy_header *h, size_t *itemsize,
                       dtype_check check, lerr *e)
{
    if (host_check(e)) return -1;
    *f = fopen(path, "rb");
    if (!*f) {
        int err = errno;
        return lerr_input(e, "cannot open %s: %s", path, strerror(err));
    }
    char *hdr = NULL;
    size_t hlen = 0;
    int rc = read_preamble(*f, path, &hdr, &hlen, e);
    if (!rc) rc = parse_header(hdr, hlen, path, h, e);
    if (!rc) rc = check(h, path, itemsize, e);
    free(hdr);
    if (rc) fclose(*f);
    return rc;
}

static int open_npy(const char *path, FILE **f, npy_header *h, size_t *itemsize, lerr *e)
{
    return open_npy_as(path, f, h, itemsize, check_dtype, e);
}

int npy_read(const char *path, double **data, int *rows, int *cols, lerr *e)
{
    FILE *f;
    size_t itemsize = 0;
    int r = 0, c = 0;
    double *x = NULL;
    npy_header h;
    if (open_npy(path, &f, &h, &itemsize, e)) return -1;
    int rc = check_shape(&h, path, itemsize, &r, &c, e);
    if (!rc) rc = read_data(f, path, &h, itemsize, r, c, &x, e);
    fclose(f);
    if (rc) return -1;
    *data = x;
    *rows = r;
    *cols = c;
    return 0;
}

// An N-D array (1 <= ndim <= maxdim) as a row-major (C order) double array:
// the data section is read as one row of n elements and, for Fortran order,
// permuted: the C index of (i_0, .., i_{D-1}) is sum i_a prod_{b>a} dim_b, its
// Fortran index sum i_a prod_{b<a} dim_b.
// The checks of an N-D header: 1 <= ndim <= maxdim, no empty axis, at most
// INT_MAX elements (their count in *total).
static int check_nd(const npy_header *h, const char *path, int maxdim, unsigned long long *total,
                    lerr *e)
{
    char shape[NPY_MAX_DIMS * 24];
    shape_str(shape, sizeof shape, h);
    if (h->ndim < 1 || h->ndim > maxdim || h->ndim > NPY_MAX_DIMS)
        return lerr_input(e, "%s: %d-D array, shape %s; need 1 to %d dimensions", path, h->ndim,
                          shape, maxdim);
    *total = 1;
    for (int a = 0; a < h->ndim; a++) {
        if (h->dim[a] == 0) return lerr_input(e, "%s: empty array, shape %s", path, shape);
        if (h->dim[a] > INT_MAX || *total > (SIZE_MAX / sizeof(double)) / h->dim[a])
            return lerr_input(e, "%s: array too large, shape %s", path, shape);
        *total *= h->dim[a];
    }
    if (*total > INT_MAX) return lerr_input(e, "%s: array too large, shape %s", path, shape);
    return 0;
}

int npy_shape(const char *path, int maxdim, int *ndim, long *dims, lerr *e)
{
    FILE *f;
    size_t itemsize = 0;
    npy_header h;
    unsigned long long total;
    if (open_npy(path, &f, &h, &itemsize, e)) return -1;
    fclose(f);
    if (check_nd(&h, path, maxdim, &total, e)) return -1;
    *ndim = h.ndim;
    for (int a = 0; a < h.ndim; a++) dims[a] = (long)h.dim[a];
    return 0;
}

int npy_read_nd(const char *path, int maxdim, double **data, int *ndim, long *dims, lerr *e)
{
    FILE *f;
    size_t itemsize = 0;
    double *x = NULL;
    npy_header h;
    if (open_npy(path, &f, &h, &itemsize, e)) return -1;
    unsigned long long total = 1;
    int rc = check_nd(&h, path, maxdim, &total, e);
    if (!rc) {   // read as one C-ordered row, then permute if Fortran-ordered
        int fortran = h.fortran;
        h.fortran = 0;
        rc = read_data(f, path, &h, itemsize, 1, (int)total, &x, e);
        if (!rc && fortran && h.ndim > 1) {
            double *y = xmalloc(sizeof(double) * total);
            long idx[NPY_MAX_DIMS] = {0};
            for (unsigned long long c = 0; c < total; c++) {
                unsigned long long fi = 0, stride = 1;
                for (int a = 0; a < h.ndim; a++) {
                    fi += (unsigned long long)idx[a] * stride;
                    stride *= h.dim[a];
                }
                y[c] = x[fi];
                for (int a = h.ndim - 1; a >= 0; a--) {   // next C-order multi-index
                    if (++idx[a] < (long)h.dim[a]) break;
                    idx[a] = 0;
                }
            }
            free(x);
            x = y;
        }
    }
    fclose(f);
    if (rc) return -1;
    *data = x;
    *ndim = h.ndim;
    for (int a = 0; a < h.ndim; a++) dims[a] = (long)h.dim[a];
    return 0;
}

// ---------------------------------------------------------------------------
// Writing

// Magic, version 1.0, length and dict for a (rows, cols) '<f8' C-order array,
// space-padded and ended by '\n' so its total length is a multiple of 64.
// Returns the length written into buf.
static size_t make_header(unsigned char *buf, size_t n, int rows, int cols)
{
    char dict[128];
    int dlen = snprintf(dict, sizeof dict,
                        "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }", rows,
                        cols);
    size_t pre = sizeof NPY_MAGIC + 4;
    size_t total = (pre + (size_t)dlen + 1 + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    size_t hlen = total - pre;
    if (total > n) return 0;   // cannot happen: the dict is under 128 bytes
    memcpy(buf, NPY_MAGIC, sizeof NPY_MAGIC);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (unsigned char)(hlen & 0xff);
    buf[9] = (unsigned char)(hlen >> 8);
    memcpy(buf + pre, dict, (size_t)dlen);
    memset(buf + pre + dlen, ' ', total - pre - (size_t)dlen - 1);
    buf[total - 1] = '\n';
    return total;
}

// fwrite into an afile, remembering a failure for afile_commit.
static void afile_write(afile *a, const void *p, size_t n)
{
    if (a->failed) return;
    errno = 0;
    if (fwrite(p, 1, n, a->f) != n) a->failed = errno ? errno : EIO;
}

int npy_write(const char *path, const double *data, int rows, int cols, lerr *e)
{
    if (host_check(e)) return -1;
    if (rows <= 0 || cols <= 0)
        return lerr_run(e, "cannot write %s: invalid shape (%d, %d)", path, rows, cols);
    unsigned char head[256];
    size_t hlen = make_header(head, sizeof head, rows, cols);
    if (hlen == 0) return lerr_run(e, "cannot write %s: .npy header does not fit", path);
    afile a;
    if (afile_open(&a, path, e)) return -1;
    afile_write(&a, head, hlen);
    afile_write(&a, data, (size_t)rows * (size_t)cols * sizeof(double));
    return afile_commit(&a, e);
}

// ---------------------------------------------------------------------------
// Integer vectors (labels)

// Integer dtypes: little-endian signed '<i2' '<i4' '<i8' and unsigned '<u2'
// '<u4' '<u8'; for one byte numpy writes '|i1' / '|u1' (no byte order),
// '<i1' / '<u1' are accepted too.  *itemsize gets the width; the signedness
// is read again from descr by int_elem's caller.
static int check_int_dtype(const npy_header *h, const char *path, size_t *itemsize, lerr *e)
{
    const char *d = h->descr;
    if (!h->descr_long && strlen(d) == 3 && (d[1] == 'i' || d[1] == 'u')) {
        size_t w = (size_t)(d[2] - '0');
        if ((w == 1 && (d[0] == '|' || d[0] == '<')) ||
            ((w == 2 || w == 4 || w == 8) && d[0] == '<')) {
            *itemsize = w;
            return 0;
        }
    }
    return lerr_input(e, "%s: unsupported dtype '%s%s' for integer labels (need a "
                         "little-endian integer: '<i8', '<i4', '<i2', '|i1', '<u8', '<u4', "
                         "'<u2' or '|u1')",
                      path, d, h->descr_long ? "..." : "");
}

// Element k of raw little-endian integer data of width w, sign-extended when
// `is_signed`; *fits is cleared when the value is outside int's range.
static long long int_elem(const unsigned char *raw, size_t k, size_t w, int is_signed, int *fits)
{
    unsigned long long u = 0;
    for (size_t b = w; b-- > 0;) u = (u << 8) | raw[k * w + b];
    if (is_signed && w < 8 && (u >> (8 * w - 1)) & 1) u |= ~0ULL << (8 * w);   // sign-extend
    long long v;
    if (is_signed) {
        memcpy(&v, &u, sizeof v);
    } else {
        if (u > (unsigned long long)INT_MAX) {
            *fits = 0;
            return 0;
        }
        v = (long long)u;
    }
    if (v < INT_MIN || v > INT_MAX) *fits = 0;
    return v;
}

int npy_read_ints(const char *path, int **data, int *n, lerr *e)
{
    FILE *f;
    size_t w = 0;
    npy_header h;
    if (open_npy_as(path, &f, &h, &w, check_int_dtype, e)) return -1;
    int rows = 0, cols = 0, rc = check_shape(&h, path, w, &rows, &cols, e);
    if (!rc && h.ndim == 2 && cols != 1) {
        char shape[64];
        shape_str(shape, sizeof shape, &h);
        rc = lerr_input(e, "%s: shape %s; labels need a 1-D array (N,) or a column (N, 1)",
                        path, shape);
    }
    unsigned char *raw = NULL;
    int *out = NULL;
    size_t nbytes = (size_t)rows * w, got = 0;
    if (!rc) rc = check_size(f, path, &h, nbytes, e);
    if (!rc) {
        raw = xmalloc(nbytes);
        rc = read_bytes(f, path, raw, nbytes, &got, e);
        if (!rc && got < nbytes) rc = truncated_data(path, &h, nbytes, got, e);
        if (!rc) rc = check_trailing(f, path, nbytes, e);
    }
    if (!rc) {
        out = xmalloc(sizeof(int) * (size_t)rows);
        int is_signed = h.descr[1] == 'i';
        for (int i = 0; i < rows && !rc; i++) {
            int fits = 1;
            long long v = int_elem(raw, (size_t)i, w, is_signed, &fits);
            if (!fits)
                rc = lerr_input(e, "%s: element %d is outside C int's range", path, i);
            out[i] = (int)v;
        }
    }
    free(raw);
    fclose(f);
    if (rc) {
        free(out);
        return -1;
    }
    *data = out;
    *n = rows;
    return 0;
}
