// test_idx.c: tests for idx.c (the IDX reader), dataset.c (loaders and
// preprocessing) and npy_read_ints.
//
// IDX files are built byte by byte here (magic and big-endian dimensions
// assembled with shifts), gzipped through zlib's writer when a case needs it,
// and damaged at known byte offsets of the gzip format (RFC 1952: a 10-byte
// header, the deflate data, then CRC-32 and length, 4 bytes each).  Every
// error case checks that reading fails with an input error whose message
// names the file and says what is wrong.  Preprocessing is checked against
// values worked out by hand in the comments.  Exit status 0: all passed.
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "dataset.h"
#include "idx.h"
#include "npy.h"
#include "util.h"

#include "byte_files.h"
#include "check.h"

// ---------------------------------------------------------------------------
// Byte buffers and files (the buffer itself: byte_files.h)

static void put_byte(bytes *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put(b, &c, 1);
}

static void put_be32(bytes *b, uint32_t v)
{
    for (int s = 24; s >= 0; s -= 8) put_byte(b, (v >> s) & 0xff);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
        fprintf(stderr, "test setup: cannot write %s\n", path);
        exit(3);
    }
}

static void write_gz(const char *path, const void *p, size_t n)
{
    gzFile g = gzopen(path, "wb");
    if (!g || (n && gzwrite(g, p, (unsigned)n) != (int)n) || gzclose(g) != Z_OK) {
        fprintf(stderr, "test setup: cannot write %s\n", path);
        exit(3);
    }
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) exit(3);
    bytes b = {0};
    unsigned char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) put(&b, buf, got);
    fclose(f);
    *n = b.n;
    return b.b;
}

// An IDX file: magic 0x0000 TT DD, the dims big-endian, then `data` bytes.
static void make_idx(bytes *b, unsigned type, int ndim, const uint32_t *dims,
                     const unsigned char *data, size_t ndata)
{
    put_byte(b, 0);
    put_byte(b, 0);
    put_byte(b, type);
    put_byte(b, (unsigned)ndim);
    for (int a = 0; a < ndim; a++) put_be32(b, dims[a]);
    if (ndata) put(b, data, ndata);
}

// Byte k of the pseudo-random test images: (37 k + 11) mod 256.
static unsigned char pix_of(size_t k) { return (unsigned char)((37 * k + 11) % 256); }

static void images_file(bytes *b, int n, int h, int w)
{
    uint32_t dims[3] = {(uint32_t)n, (uint32_t)h, (uint32_t)w};
    size_t total = (size_t)n * (size_t)h * (size_t)w;
    unsigned char *pix = xmalloc(total);
    for (size_t k = 0; k < total; k++) pix[k] = pix_of(k);
    make_idx(b, 0x08, 3, dims, pix, total);
    free(pix);
}

static void labels_file(bytes *b, int n)
{
    uint32_t dims[1] = {(uint32_t)n};
    make_idx(b, 0x08, 1, dims, NULL, 0);
    for (int i = 0; i < n; i++) put_byte(b, (unsigned)(i * 7 % 10));
}

// ---------------------------------------------------------------------------
// Error checks

// Expect idx_read(path, ndim) to fail with an input error starting with the
// path (or, for open errors, containing it) and containing `frag`.
static void expect_idx_err(const char *path, int ndim, const char *frag)
{
    idx_array a = {0};
    lerr e = {0};
    int rc = idx_read(path, ndim, &a, &e);
    CHECK(rc != 0, "%s: idx_read succeeded, expected an error containing \"%s\"", path, frag);
    if (rc == 0) {
        idx_free(&a);
        return;
    }
    CHECK(a.data == NULL, "%s: data left allocated on failure", path);
    CHECK(e.kind == LERR_INPUT, "%s: error kind %d, want LERR_INPUT (%s)", path, e.kind, e.msg);
    CHECK(strstr(e.msg, path) != NULL, "%s: message \"%s\" does not name the file", path, e.msg);
    CHECK(strstr(e.msg, frag) != NULL, "%s: message \"%s\" lacks \"%s\"", path, e.msg, frag);
    CHECK(strchr(e.msg, '\n') == NULL, "%s: message is not one line: %s", path, e.msg);
}

// Write b plainly as name and gzipped as name.gz, and expect both to fail.
static void expect_both_err(const char *name, bytes *b, int ndim, const char *frag)
{
    char path[256], gz[270];
    tpath(path, sizeof path, name);
    snprintf(gz, sizeof gz, "%s.gz", path);
    write_file(path, b->b, b->n);
    write_gz(gz, b->b, b->n);
    free(b->b);
    *b = (bytes){0};
    expect_idx_err(path, ndim, frag);
    expect_idx_err(gz, ndim, frag);
}

// ---------------------------------------------------------------------------
// Reading valid files

static void check_images(const char *path, int n, int h, int w)
{
    unsigned char *pix = NULL;
    int gn = -1, gh = -1, gw = -1;
    lerr e = {0};
    int rc = idx_read_images(path, &pix, &gn, &gh, &gw, &e);
    CHECK(rc == 0, "%s: %s", path, e.msg);
    if (rc) return;
    CHECK(gn == n && gh == h && gw == w, "%s: dims (%d, %d, %d), want (%d, %d, %d)", path, gn,
          gh, gw, n, h, w);
    size_t bad = 0, total = (size_t)n * (size_t)h * (size_t)w;
    for (size_t k = 0; k < total; k++) bad += pix[k] != pix_of(k);
    CHECK(bad == 0, "%s: %zu of %zu pixel bytes differ", path, bad, total);
    free(pix);
}

static void test_read_valid(void)
{
    char path[256];
    bytes b = {0};
    // a small one, plain, gzipped with .gz and gzipped without it
    images_file(&b, 3, 2, 3);
    tpath(path, sizeof path, "small-images-idx3-ubyte");
    write_file(path, b.b, b.n);
    check_images(path, 3, 2, 3);
    tpath(path, sizeof path, "small-images-idx3-ubyte.gz");
    write_gz(path, b.b, b.n);
    check_images(path, 3, 2, 3);
    tpath(path, sizeof path, "gz-without-suffix");
    write_gz(path, b.b, b.n);
    check_images(path, 3, 2, 3);
    free(b.b);
    b = (bytes){0};
    // one larger than the reader's 1 MiB first buffer (it must grow), gzipped
    images_file(&b, 1500, 28, 28);
    tpath(path, sizeof path, "big-images-idx3-ubyte.gz");
    write_gz(path, b.b, b.n);
    check_images(path, 1500, 28, 28);
    free(b.b);
    b = (bytes){0};
    // labels: bytes (7 i) mod 10
    labels_file(&b, 25);
    tpath(path, sizeof path, "l-labels-idx1-ubyte.gz");
    write_gz(path, b.b, b.n);
    free(b.b);
    unsigned char *lab = NULL;
    int n = -1;
    lerr e = {0};
    int rc = idx_read_labels(path, &lab, &n, &e);
    CHECK(rc == 0, "%s: %s", path, e.msg);
    if (!rc) {
        CHECK(n == 25, "labels: n = %d, want 25", n);
        int bad = 0;
        for (int i = 0; i < 25 && n == 25; i++) bad += lab[i] != i * 7 % 10;
        CHECK(bad == 0, "labels: %d values differ", bad);
        free(lab);
    }
}

// ---------------------------------------------------------------------------
// Malformed IDX files

static void test_bad_magic(void)
{
    bytes b = {0};
    labels_file(&b, 4);   // a labels file where images are expected
    expect_both_err("labels-as-images", &b, 3, "wrong magic number 0x00000801");
    images_file(&b, 2, 2, 2);   // and the other way round
    expect_both_err("images-as-labels", &b, 1, "wrong magic number 0x00000803");
    put_be32(&b, 0x12345678);
    for (int i = 0; i < 16; i++) put_byte(&b, 0);
    expect_both_err("junk-magic", &b, 3, "wrong magic number 0x12345678 (expected 0x00000803");
    uint32_t dims[3] = {1, 1, 1};
    unsigned char four[4] = {0};
    make_idx(&b, 0x0D, 3, dims, four, 4);   // float data
    expect_both_err("float-idx", &b, 3, "IDX data type 0x0d is not supported");
}

static void test_truncated(void)
{
    bytes b = {0};
    put_byte(&b, 0);
    put_byte(&b, 0);
    put_byte(&b, 8);   // 3 bytes: not even the magic number
    expect_both_err("short-magic", &b, 3, "truncated IDX file (3 bytes");
    char path[256];
    tpath(path, sizeof path, "empty-file");
    write_file(path, "", 0);
    expect_idx_err(path, 1, "truncated IDX file (0 bytes");
    put_be32(&b, 0x803);
    put_be32(&b, 2);
    put_be32(&b, 28);   // the third dimension is missing
    expect_both_err("short-dims", &b, 3, "truncated IDX header (3 dimensions take 12 bytes, found 8)");
    images_file(&b, 4, 3, 3);
    b.n -= 5;           // 36 pixels, 31 there
    expect_both_err("short-data", &b, 3, "truncated IDX data (dimensions (4, 3, 3) need 36 bytes, found 31)");
    labels_file(&b, 6);
    put_byte(&b, 1);    // one byte too many
    expect_both_err("trailing", &b, 1, "trailing data after the 6 bytes");
}

static void test_dims(void)
{
    bytes b = {0};
    uint32_t zero[3] = {0, 28, 28}, big[3] = {0x80000000u, 1, 1}, wide[3] = {2, 65536, 65536};
    make_idx(&b, 0x08, 3, zero, NULL, 0);
    expect_both_err("zero-dim", &b, 3, "empty IDX array, dimensions (0, 28, 28)");
    make_idx(&b, 0x08, 3, big, NULL, 0);
    expect_both_err("big-dim", &b, 3, "IDX dimensions (2147483648, 1, 1) too large");
    // each dimension fits an int, but one image (65536 x 65536 pixels) does not
    make_idx(&b, 0x08, 3, wide, NULL, 0);
    expect_both_err("wide-dim", &b, 3, "IDX dimensions (2, 65536, 65536) too large");
    // a header claiming 2^31 - 1 labels on a tiny file: an error, not an
    // attempt to allocate 2 GB up front
    uint32_t many[1] = {0x7fffffffu};
    unsigned char few[10] = {0};
    make_idx(&b, 0x08, 1, many, few, sizeof few);
    expect_both_err("many-labels", &b, 1, "truncated IDX data (dimensions (2147483647,) need 2147483647 bytes, found 10)");
}

// gzip streams damaged at known places of the format.
static void test_corrupt_gzip(void)
{
    char path[256];
    bytes b = {0};
    images_file(&b, 20, 8, 8);
    tpath(path, sizeof path, "good.gz");
    write_gz(path, b.b, b.n);
    free(b.b);
    b = (bytes){0};
    size_t n;
    unsigned char *gz = slurp(path, &n);
    CHECK(n > 40 && gz[0] == 0x1f && gz[1] == 0x8b, "test setup: %s is not gzip", path);
    check_images(path, 20, 8, 8);

    unsigned char *bad = xmalloc(n);
    // a wrong CRC-32 (trailer bytes n-8 .. n-5)
    memcpy(bad, gz, n);
    bad[n - 8] ^= 0x5a;
    tpath(path, sizeof path, "bad-crc.gz");
    write_file(path, bad, n);
    expect_idx_err(path, 3, "corrupt gzip stream (incorrect data check)");
    // a wrong length (trailer bytes n-4 .. n-1)
    memcpy(bad, gz, n);
    bad[n - 1] ^= 0x01;
    tpath(path, sizeof path, "bad-length.gz");
    write_file(path, bad, n);
    expect_idx_err(path, 3, "corrupt gzip stream (incorrect length check)");
    // garbage inside the deflate data
    memcpy(bad, gz, n);
    for (size_t k = 12; k < 20; k++) bad[k] ^= 0xff;
    tpath(path, sizeof path, "bad-deflate.gz");
    write_file(path, bad, n);
    expect_idx_err(path, 3, "corrupt gzip stream");
    // a reserved block type (BTYPE = 11) in the first deflate block: byte 10
    // holds BFINAL (bit 0) and BTYPE (bits 1-2)
    memcpy(bad, gz, n);
    bad[10] |= 0x06;
    tpath(path, sizeof path, "bad-block.gz");
    write_file(path, bad, n);
    expect_idx_err(path, 3, "corrupt gzip stream (invalid block type)");
    // cut in the middle of the deflate data, and just before the length
    tpath(path, sizeof path, "cut-half.gz");
    write_file(path, gz, n / 2);
    expect_idx_err(path, 3, "truncated gzip stream");
    tpath(path, sizeof path, "cut-trailer.gz");
    write_file(path, gz, n - 4);
    expect_idx_err(path, 3, "truncated gzip stream");
    // only the gzip header's first bytes
    tpath(path, sizeof path, "cut-header.gz");
    write_file(path, gz, 5);
    expect_idx_err(path, 3, "truncated gzip stream");
    free(bad);
    free(gz);

    // garbage in the middle of a long stream: zlib hands over the bytes
    // before it along with the error, which must still read as corruption
    images_file(&b, 1500, 28, 28);
    tpath(path, sizeof path, "long.gz");
    write_gz(path, b.b, b.n);
    free(b.b);
    gz = slurp(path, &n);
    for (size_t k = n / 2; k < n / 2 + 8; k++) gz[k] ^= 0xff;
    tpath(path, sizeof path, "bad-middle.gz");
    write_file(path, gz, n);
    expect_idx_err(path, 3, "corrupt gzip stream");
    free(gz);
}

static void test_file_errors(void)
{
    char path[256];
    tpath(path, sizeof path, "no-such-file");
    expect_idx_err(path, 3, "cannot open");
    expect_idx_err(tmpdir, 3, "is a directory");
}

// ---------------------------------------------------------------------------
// IDX folders

static void write_named(const char *dir, const char *name, bytes *b, int gz)
{
    char *p = path_join(dir, name);
    if (gz) write_gz(p, b->b, b->n);
    else write_file(p, b->b, b->n);
    free(p);
    free(b->b);
    *b = (bytes){0};
}

static void test_load_idx(void)
{
    char dir[256], mism[256], nodir[256];
    tpath(dir, sizeof dir, "mnistlike");
    tpath(mism, sizeof mism, "mismatch");
    tpath(nodir, sizeof nodir, "absent");
    mkdir(dir, 0700);
    mkdir(mism, 0700);
    bytes b = {0};
    images_file(&b, 5, 4, 2);
    write_named(dir, "train-images-idx3-ubyte.gz", &b, 1);
    labels_file(&b, 5);
    write_named(dir, "train-labels-idx1-ubyte.gz", &b, 1);
    images_file(&b, 3, 4, 2);
    write_named(dir, "t10k-images.idx3-ubyte", &b, 0);   // the dotted spelling, plain
    labels_file(&b, 3);
    write_named(dir, "t10k-labels-idx1-ubyte", &b, 0);

    labelled_data tr, te;
    lerr e = {0};
    int rc = dataset_load_idx(dir, DATA_TRAIN, &tr, &e);
    CHECK(rc == 0, "load train: %s", e.msg);
    if (!rc) {
        CHECK(tr.n == 5 && tr.d == 8 && tr.height == 4 && tr.width == 2,
              "train: n %d d %d %dx%d, want 5, 8, 4x2", tr.n, tr.d, tr.height, tr.width);
        int bad = 0;
        for (int k = 0; k < 40; k++) bad += tr.X[k] != (double)pix_of((size_t)k);
        for (int i = 0; i < 5; i++) bad += tr.label[i] != i * 7 % 10;
        CHECK(bad == 0, "train: %d values differ", bad);
        CHECK(strstr(tr.source, "train-images-idx3-ubyte.gz") != NULL, "source: %s", tr.source);
        dataset_free(&tr);
    }
    rc = dataset_load_idx(dir, DATA_TEST, &te, &e);
    CHECK(rc == 0, "load test: %s", e.msg);
    if (!rc) {
        CHECK(te.n == 3 && te.d == 8, "test: n %d d %d", te.n, te.d);
        CHECK(te.X[23] == (double)pix_of(23), "test: last pixel %g", te.X[23]);
        dataset_free(&te);
    }

    // count mismatch: both files named
    images_file(&b, 4, 2, 2);
    write_named(mism, "train-images-idx3-ubyte", &b, 0);
    labels_file(&b, 3);
    write_named(mism, "train-labels-idx1-ubyte.gz", &b, 1);
    rc = dataset_load_idx(mism, DATA_TRAIN, &tr, &e);
    CHECK(rc != 0, "mismatched counts accepted");
    CHECK(e.kind == LERR_INPUT && strstr(e.msg, "train-labels-idx1-ubyte.gz: 3 labels, but ") &&
              strstr(e.msg, "train-images-idx3-ubyte holds 4 images"),
          "mismatch message: %s", e.msg);
    // a split with no files, and no folder
    rc = dataset_load_idx(mism, DATA_TEST, &te, &e);
    CHECK(rc != 0 && e.kind == LERR_INPUT && strstr(e.msg, mism) &&
              strstr(e.msg, "no IDX file t10k-images-idx3-ubyte"),
          "missing file message: %s", e.msg);
    rc = dataset_load_idx(nodir, DATA_TRAIN, &te, &e);
    CHECK(rc != 0 && e.kind == LERR_INPUT && strstr(e.msg, nodir) && strstr(e.msg, "no such folder"),
          "missing folder message: %s", e.msg);
    // a bad file inside a folder: its own message comes through
    bytes bad = {0};
    labels_file(&bad, 4);
    write_named(mism, "t10k-images-idx3-ubyte", &bad, 0);
    labels_file(&bad, 4);
    write_named(mism, "t10k-labels-idx1-ubyte", &bad, 0);
    rc = dataset_load_idx(mism, DATA_TEST, &te, &e);
    CHECK(rc != 0 && strstr(e.msg, "t10k-images-idx3-ubyte: wrong magic number 0x00000801"),
          "bad file in folder: %s", e.msg);
}

// ---------------------------------------------------------------------------
// .npy loaders

// A v1.0 .npy file with `dict` and raw little-endian data bytes.
static void write_npy(const char *path, const char *dict, const void *data, size_t n)
{
    bytes b = {0};
    size_t body = strlen(dict) + 1, pad = (64 - (10 + body) % 64) % 64;
    put(&b, "\x93NUMPY\x01\x00", 8);
    put_byte(&b, (unsigned)((body + pad) & 0xff));
    put_byte(&b, (unsigned)((body + pad) >> 8));
    put(&b, dict, strlen(dict));
    for (size_t i = 0; i < pad; i++) put_byte(&b, ' ');
    put_byte(&b, '\n');
    put(&b, data, n);
    write_file(path, b.b, b.n);
    free(b.b);
}

static void test_npy_ints(void)
{
    char path[256];
    lerr e = {0};
    int *v = NULL, n = -1, rc;
    // '<i2' with negatives: 1, -2, 300 (0x012c), -32768
    unsigned char i2[8] = {0x01, 0x00, 0xfe, 0xff, 0x2c, 0x01, 0x00, 0x80};
    tpath(path, sizeof path, "i2.npy");
    write_npy(path, "{'descr': '<i2', 'fortran_order': False, 'shape': (4,), }", i2, 8);
    rc = npy_read_ints(path, &v, &n, &e);
    CHECK(rc == 0 && n == 4 && v[0] == 1 && v[1] == -2 && v[2] == 300 && v[3] == -32768,
          "i2: rc %d n %d (%s)", rc, n, e.msg);
    if (!rc) free(v);
    // '|u1' column (3, 1): 0, 9, 255
    unsigned char u1[3] = {0, 9, 255};
    tpath(path, sizeof path, "u1.npy");
    write_npy(path, "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 1), }", u1, 3);
    rc = npy_read_ints(path, &v, &n, &e);
    CHECK(rc == 0 && n == 3 && v[0] == 0 && v[1] == 9 && v[2] == 255, "u1: rc %d (%s)", rc, e.msg);
    if (!rc) free(v);
    // '<i8': 7, -1, then 2^31 which does not fit an int
    unsigned char i8[24] = {7, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0, 0, 0, 0x80, 0, 0, 0, 0};
    tpath(path, sizeof path, "i8.npy");
    write_npy(path, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", i8, 16);
    rc = npy_read_ints(path, &v, &n, &e);
    CHECK(rc == 0 && n == 2 && v[0] == 7 && v[1] == -1, "i8: rc %d (%s)", rc, e.msg);
    if (!rc) free(v);
    write_npy(path, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", i8, 24);
    rc = npy_read_ints(path, &v, &n, &e);
    CHECK(rc != 0 && e.kind == LERR_INPUT && strstr(e.msg, path) &&
              strstr(e.msg, "element 2 is outside C int's range"), "i8 overflow: %s", e.msg);
    // '<u4' 2^32 - 1: too large
    unsigned char u4[4] = {0xff, 0xff, 0xff, 0xff};
    tpath(path, sizeof path, "u4.npy");
    write_npy(path, "{'descr': '<u4', 'fortran_order': False, 'shape': (1,), }", u4, 4);
    rc = npy_read_ints(path, &v, &n, &e);
    CHECK(rc != 0 && strstr(e.msg, "element 0 is outside C int's range"), "u4: %s", e.msg);
    // float labels, big-endian, a matrix, a short file
    double f[2] = {1, 2};
    tpath(path, sizeof path, "f8lab.npy");
    write_npy(path, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f, 16);
    rc = npy_read_ints(path, &v, &n, &e);
    CHECK(rc != 0 && strstr(e.msg, "unsupported dtype '<f8' for integer labels"), "f8: %s", e.msg);
    tpath(path, sizeof path, "be.npy");
    write_npy(path, "{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", u4, 4);
    rc = npy_read_ints(path, &v, &n, &e);
    CHECK(rc != 0 && strstr(e.msg, "unsupported dtype '>i4'"), "be: %s", e.msg);
    tpath(path, sizeof path, "mat.npy");
    write_npy(path, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", u4, 4);
    rc = npy_read_ints(path, &v, &n, &e);
    CHECK(rc != 0 && strstr(e.msg, "labels need a 1-D array"), "matrix: %s", e.msg);
    tpath(path, sizeof path, "short.npy");
    write_npy(path, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", u4, 4);
    rc = npy_read_ints(path, &v, &n, &e);
    CHECK(rc != 0 && strstr(e.msg, "truncated data"), "short: %s", e.msg);
}

static void test_load_npy(void)
{
    char xp[256], lp[256], lp2[256], lp3[256];
    tpath(xp, sizeof xp, "X.npy");
    tpath(lp, sizeof lp, "y.npy");
    tpath(lp2, sizeof lp2, "y2.npy");
    tpath(lp3, sizeof lp3, "yneg.npy");
    double X[6] = {1, 2, 3, 4, 5, 6};
    write_npy(xp, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", X, sizeof X);
    int32_t y[3] = {2, 0, 1}, yneg[3] = {2, -1, 0};
    write_npy(lp, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", y, sizeof y);
    write_npy(lp2, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", y, 8);
    write_npy(lp3, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", yneg, sizeof yneg);
    labelled_data ds;
    lerr e = {0};
    int rc = dataset_load_npy(xp, lp, &ds, &e);
    CHECK(rc == 0, "load npy: %s", e.msg);
    if (!rc) {
        CHECK(ds.n == 3 && ds.d == 2 && ds.X[3] == 4 && ds.X[5] == 6 && ds.label[0] == 2 &&
                  ds.label[2] == 1 && ds.height == 0,
              "npy set: n %d d %d", ds.n, ds.d);
        dataset_free(&ds);
    }
    rc = dataset_load_npy(xp, lp2, &ds, &e);
    CHECK(rc != 0 && e.kind == LERR_INPUT && strstr(e.msg, lp2) && strstr(e.msg, "2 labels") &&
              strstr(e.msg, xp), "npy count mismatch: %s", e.msg);
    rc = dataset_load_npy(xp, lp3, &ds, &e);
    CHECK(rc != 0 && strstr(e.msg, lp3) && strstr(e.msg, "negative label -1 at element 1"),
          "negative label: %s", e.msg);
    rc = dataset_load_npy(xp, xp, &ds, &e);   // float labels
    CHECK(rc != 0 && strstr(e.msg, "for integer labels"), "float labels: %s", e.msg);
}

// ---------------------------------------------------------------------------
// Preprocessing

// A set owning copies of X: (n, d) and labels.
static labelled_data make_set(int n, int d, const double *X, const int *label, int h, int w)
{
    labelled_data s = {n, d, xmalloc(sizeof(double) * (size_t)(n * d)),
                       xmalloc(sizeof(int) * (size_t)n), h, w, xstrdup("test-set")};
    memcpy(s.X, X, sizeof(double) * (size_t)(n * d));
    memcpy(s.label, label, sizeof(int) * (size_t)n);
    return s;
}

static void test_scale(void)
{
    double X[4] = {0, 51, 255, 102};
    int lab[1] = {0};
    labelled_data s = make_set(1, 4, X, lab, 2, 2);
    dataset_scale_bytes(&s);
    CHECK(s.X[0] == 0 && fabs(s.X[1] - 0.2) < 1e-15 && s.X[2] == 1 && fabs(s.X[3] - 0.4) < 1e-15,
          "scale: %g %g %g %g", s.X[0], s.X[1], s.X[2], s.X[3]);
    dataset_free(&s);
}

static void test_pool(void)
{
    // image 0 = 1..16 row by row:      blocks (1+2+5+6)/4 = 3.5, (3+4+7+8)/4 = 5.5,
    //   1  2  3  4                             (9+10+13+14)/4 = 11.5, (11+12+15+16)/4 = 13.5
    //   5  6  7  8
    //   9 10 11 12                     image 1 = 0 except a 4 at (0, 3) and an 8 at (3, 0):
    //  13 14 15 16                     blocks 0, 1, 2, 0
    double X[32] = {0};
    for (int k = 0; k < 16; k++) X[k] = k + 1;
    X[16 + 3] = 4;
    X[16 + 12] = 8;
    int lab[2] = {0, 1};
    labelled_data s = make_set(2, 16, X, lab, 4, 4);
    lerr e = {0};
    int rc = dataset_pool2(&s, &e);
    const double want[8] = {3.5, 5.5, 11.5, 13.5, 0, 1, 2, 0};
    CHECK(rc == 0 && s.d == 4 && s.height == 2 && s.width == 2, "pool: rc %d d %d (%s)", rc, s.d,
          e.msg);
    for (int k = 0; k < 8 && rc == 0; k++)
        CHECK(s.X[k] == want[k], "pool: X[%d] = %g, want %g", k, s.X[k], want[k]);
    dataset_free(&s);
    // non-square: a 2 x 6 image [[0 1 2 3 4 5], [6 7 8 9 10 11]] -> 1 x 3:
    // (0+1+6+7)/4 = 3.5, (2+3+8+9)/4 = 5.5, (4+5+10+11)/4 = 7.5
    double Y[12];
    for (int k = 0; k < 12; k++) Y[k] = k;
    s = make_set(1, 12, Y, lab, 2, 6);
    rc = dataset_pool2(&s, &e);
    CHECK(rc == 0 && s.d == 3 && s.height == 1 && s.width == 3 && s.X[0] == 3.5 &&
              s.X[1] == 5.5 && s.X[2] == 7.5, "pool 2x6: rc %d d %d", rc, s.d);
    dataset_free(&s);
    // errors: odd sides, no geometry
    s = make_set(1, 12, Y, lab, 3, 4);
    rc = dataset_pool2(&s, &e);
    CHECK(rc != 0 && e.kind == LERR_INPUT && strstr(e.msg, "test-set") &&
              strstr(e.msg, "even image sides, not 3 x 4"), "pool odd: %s", e.msg);
    dataset_free(&s);
    s = make_set(1, 12, Y, lab, 0, 0);
    rc = dataset_pool2(&s, &e);
    CHECK(rc != 0 && strstr(e.msg, "no image shape"), "pool no geometry: %s", e.msg);
    dataset_free(&s);
}

static void test_centre(void)
{
    // train rows (1, 10), (2, 20), (6, 30): mean (3, 20)
    // test rows (0, 0), (3, 25) -> (-3, -20), (0, 5)
    double Xtr[6] = {1, 10, 2, 20, 6, 30}, Xte[4] = {0, 0, 3, 25};
    int lab[3] = {0, 0, 0};
    labelled_data tr = make_set(3, 2, Xtr, lab, 0, 0), te = make_set(2, 2, Xte, lab, 0, 0);
    double mu[2];
    dataset_mean(&tr, mu);
    CHECK(mu[0] == 3 && mu[1] == 20, "mean (%g, %g), want (3, 20)", mu[0], mu[1]);
    labelled_data *others[1] = {&te};
    dataset_centre(&tr, others, 1);
    const double wtr[6] = {-2, -10, -1, 0, 3, 10}, wte[4] = {-3, -20, 0, 5};
    for (int k = 0; k < 6; k++) CHECK(tr.X[k] == wtr[k], "centred train X[%d] = %g", k, tr.X[k]);
    for (int k = 0; k < 4; k++) CHECK(te.X[k] == wte[k], "centred test X[%d] = %g", k, te.X[k]);
    dataset_free(&tr);
    dataset_free(&te);
}

static void test_select(void)
{
    // labels 3 1 4 1 5 9 2 6, row i = (i, 10 i); classes {1, 9, 4}:
    // rows 1, 2, 3, 5 with labels 1 4 1 9 -> new labels 0 2 0 1
    int lab[8] = {3, 1, 4, 1, 5, 9, 2, 6};
    double X[16];
    for (int i = 0; i < 8; i++) {
        X[2 * i] = i;
        X[2 * i + 1] = 10 * i;
    }
    labelled_data s = make_set(8, 2, X, lab, 1, 2), out;
    lerr e = {0};
    int cls[3] = {1, 9, 4};
    int rc = dataset_select_classes(&s, cls, 3, &out, &e);
    const int rows[4] = {1, 2, 3, 5}, nl[4] = {0, 2, 0, 1};
    CHECK(rc == 0 && out.n == 4 && out.d == 2 && out.height == 1 && out.width == 2,
          "select: rc %d n %d (%s)", rc, out.n, e.msg);
    for (int r = 0; r < 4 && rc == 0; r++)
        CHECK(out.X[2 * r] == rows[r] && out.X[2 * r + 1] == 10 * rows[r] && out.label[r] == nl[r],
              "select row %d: (%g, %g) label %d", r, out.X[2 * r], out.X[2 * r + 1], out.label[r]);
    if (!rc) dataset_free(&out);
    int dup[2] = {1, 1}, absent[2] = {1, 7}, neg[1] = {-1}, huge[2] = {2147483647, 1};
    rc = dataset_select_classes(&s, dup, 2, &out, &e);
    CHECK(rc != 0 && e.kind == LERR_INPUT && strstr(e.msg, "class 1 is listed twice"), "dup: %s", e.msg);
    rc = dataset_select_classes(&s, absent, 2, &out, &e);
    CHECK(rc != 0 && strstr(e.msg, "test-set") && strstr(e.msg, "no example has label 7"),
          "absent: %s", e.msg);
    rc = dataset_select_classes(&s, huge, 2, &out, &e);   // above every label: no huge table
    CHECK(rc != 0 && strstr(e.msg, "no example has label 2147483647"), "huge: %s", e.msg);
    rc = dataset_select_classes(&s, neg, 1, &out, &e);
    CHECK(rc != 0 && strstr(e.msg, "class -1 is negative"), "negative: %s", e.msg);
    rc = dataset_select_classes(&s, cls, 0, &out, &e);
    CHECK(rc != 0 && strstr(e.msg, "empty class list"), "empty: %s", e.msg);
    dataset_free(&s);
}

// The rows a subsample picked, from X[i] = i (d = 1); 0 if not increasing.
static int picked(const labelled_data *s, int *rows)
{
    for (int r = 0; r < s->n; r++) {
        rows[r] = (int)s->X[r];
        if (s->label[r] != rows[r] % 7 || (r && rows[r] <= rows[r - 1])) return 0;
    }
    return 1;
}

static void test_subsample(void)
{
    enum { N = 50, K = 10, SEEDS = 2000 };
    double X[N];
    int lab[N];
    for (int i = 0; i < N; i++) {
        X[i] = i;
        lab[i] = i % 7;
    }
    labelled_data s = make_set(N, 1, X, lab, 0, 0), a, b;
    lerr e = {0};
    int ra[K], rb[K], rc;
    rc = dataset_subsample(&s, K, 3, "train", &a, &e) | dataset_subsample(&s, K, 3, "train", &b, &e);
    CHECK(rc == 0 && a.n == K && picked(&a, ra) && picked(&b, rb) && !memcmp(ra, rb, sizeof ra),
          "subsample not repeatable or not in order (%s)", e.msg);
    dataset_free(&b);
    int same_seed4 = 1, same_tag = 1;
    rc = dataset_subsample(&s, K, 4, "train", &b, &e);
    CHECK(rc == 0 && picked(&b, rb), "seed 4 subsample");
    same_seed4 = !memcmp(ra, rb, sizeof ra);
    dataset_free(&b);
    rc = dataset_subsample(&s, K, 3, "test", &b, &e);
    CHECK(rc == 0 && picked(&b, rb), "tag test subsample");
    same_tag = !memcmp(ra, rb, sizeof ra);
    dataset_free(&b);
    CHECK(!same_seed4 && !same_tag, "other seed / tag picked the same rows (%d %d)", same_seed4,
          same_tag);
    dataset_free(&a);
    // uniform: over 2000 seeds each row is picked K/N = 1/5 of the time;
    // binomial sd sqrt(2000 * 0.2 * 0.8) ~ 17.9, so 400 +- 90 is 5 sd
    int count[N] = {0};
    for (long seed = 0; seed < SEEDS; seed++) {
        rc = dataset_subsample(&s, K, seed, "u", &a, &e);
        if (rc || !picked(&a, ra)) {
            CHECK(0, "seed %ld: bad subsample", seed);
            break;
        }
        for (int r = 0; r < K; r++) count[ra[r]]++;
        dataset_free(&a);
    }
    int lo = SEEDS, hi = 0;
    for (int i = 0; i < N; i++) {
        lo = count[i] < lo ? count[i] : lo;
        hi = count[i] > hi ? count[i] : hi;
    }
    CHECK(lo >= 310 && hi <= 490, "subsample counts range %d .. %d, want 400 +- 90", lo, hi);
    // all rows, and errors
    rc = dataset_subsample(&s, N, 1, "all", &a, &e);
    int rows[N];
    CHECK(rc == 0 && a.n == N && picked(&a, rows) && rows[0] == 0 && rows[N - 1] == N - 1,
          "n = N subsample");
    if (!rc) dataset_free(&a);
    rc = dataset_subsample(&s, N + 1, 1, "x", &a, &e);
    CHECK(rc != 0 && e.kind == LERR_INPUT && strstr(e.msg, "cannot take 51 examples from 50"),
          "n > N: %s", e.msg);
    rc = dataset_subsample(&s, 0, 1, "x", &a, &e);
    CHECK(rc != 0, "n = 0 accepted");
    dataset_free(&s);
}

// ---------------------------------------------------------------------------

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[512];
    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(path);
        else if (remove(path) != 0) fprintf(stderr, "warning: cannot remove %s\n", path);
    }
    if (d) closedir(d);
    if (rmdir(dir) != 0) fprintf(stderr, "warning: cannot remove %s\n", dir);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/idxtestXXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 3;
    }
    test_read_valid();
    test_bad_magic();
    test_truncated();
    test_dims();
    test_corrupt_gzip();
    test_file_errors();
    test_load_idx();
    test_npy_ints();
    test_load_npy();
    test_scale();
    test_pool();
    test_centre();
    test_select();
    test_subsample();
    remove_tree(tmpdir);
    return check_summary("test_idx");
}
