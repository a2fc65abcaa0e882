// test_npy.c: tests for npy.c.
//
// Input files are built byte by byte here (magic, version, little-endian
// length, dict text, element bytes assembled with shifts), independently of
// npy_write, so a shared misunderstanding of the format cannot hide.  A few
// element byte patterns are spelled out literally.  Every error case checks
// that reading fails, that the message starts with the path and that it
// contains a telling fragment.  Exit status 0 means all checks passed.
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npy.h"
#include "util.h"

#include "byte_files.h"
#include "check.h"

// ---------------------------------------------------------------------------
// Byte buffer and .npy construction (the buffer itself: byte_files.h)

static void put_str(bytes *b, const char *s) { put(b, s, strlen(s)); }

static void put_byte(bytes *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put(b, &c, 1);
}

// Unsigned little-endian integer of `width` bytes.
static void put_le(bytes *b, uint64_t v, int width)
{
    for (int i = 0; i < width; i++) put_byte(b, (unsigned)((v >> (8 * i)) & 0xff));
}

static void put_f8(bytes *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put_le(b, u, 8);
}

static void put_f4(bytes *b, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_le(b, u, 4);
}

// Magic, version major.0, header length, `dict`, then `pad` extra spaces
// (pad < 0: pad to a multiple of 64 as numpy does) and '\n'.
static void put_preamble(bytes *b, int major, const char *dict, long pad)
{
    size_t lenbytes = major == 1 ? 2 : 4, fixed = 6 + 2 + lenbytes;
    size_t body = strlen(dict) + 1;
    if (pad < 0) pad = (long)((64 - (fixed + body) % 64) % 64);
    body += (size_t)pad;
    put_str(b, "\x93NUMPY");
    put_byte(b, (unsigned)major);
    put_byte(b, 0);
    put_le(b, body, (int)lenbytes);
    put_str(b, dict);
    for (long i = 0; i < pad; i++) put_byte(b, ' ');
    put_byte(b, '\n');
}

static void write_file(const char *path, const bytes *b)
{
    FILE *f = fopen(path, "wb");
    if (!f || (b->n && fwrite(b->b, 1, b->n, f) != b->n) || fclose(f) != 0) {
        fprintf(stderr, "test setup: cannot write %s\n", path);
        exit(3);
    }
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    bytes b = {0};
    unsigned char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) put(&b, buf, got);
    fclose(f);
    *n = b.n;
    return b.b;
}

// ---------------------------------------------------------------------------
// Reading helpers

// Write `b` as `name`, read it back, expect success with the given shape and
// row-major values (compared bit for bit).
static void expect_ok(const char *name, bytes *b, int rows, int cols, const double *want)
{
    char path[256];
    tpath(path, sizeof path, name);
    write_file(path, b);
    free(b->b);
    *b = (bytes){0};
    double *x = NULL;
    int r = -1, c = -1;
    lerr e = {0};
    int rc = npy_read(path, &x, &r, &c, &e);
    CHECK(rc == 0, "%s: npy_read failed: %s", name, e.msg);
    if (rc) return;
    CHECK(r == rows && c == cols, "%s: shape (%d, %d), want (%d, %d)", name, r, c, rows, cols);
    if (r == rows && c == cols)
        for (int k = 0; k < rows * cols; k++)
            CHECK(memcmp(&x[k], &want[k], sizeof(double)) == 0, "%s: element %d is %.17g, want %.17g",
                  name, k, x[k], want[k]);
    free(x);
}

// Write `b` as `name` and expect npy_read to fail with an input error whose
// message starts with `head` (the path when NULL) and contains `frag`.
static void expect_err_head(const char *name, bytes *b, const char *head, const char *frag)
{
    char path[256], want_head[300];
    tpath(path, sizeof path, name);
    if (b) {
        write_file(path, b);
        free(b->b);
        *b = (bytes){0};
    }
    snprintf(want_head, sizeof want_head, "%s", head ? head : path);
    if (!head) strncat(want_head, ": ", sizeof want_head - strlen(want_head) - 1);
    double *x = NULL;
    int r = -1, c = -1;
    lerr e = {0};
    int rc = npy_read(path, &x, &r, &c, &e);
    CHECK(rc != 0, "%s: npy_read succeeded, expected an error containing \"%s\"", name, frag);
    if (rc == 0) {
        free(x);
        return;
    }
    CHECK(x == NULL && r == -1 && c == -1, "%s: outputs touched on failure", name);
    CHECK(e.kind == LERR_INPUT, "%s: error kind %d, want LERR_INPUT", name, e.kind);
    CHECK(strncmp(e.msg, want_head, strlen(want_head)) == 0, "%s: message \"%s\" does not start with \"%s\"",
          name, e.msg, want_head);
    CHECK(strstr(e.msg, frag) != NULL, "%s: message \"%s\" lacks \"%s\"", name, e.msg, frag);
    CHECK(strchr(e.msg, '\n') == NULL, "%s: message is not one line: %s", name, e.msg);
}

static void expect_err(const char *name, bytes *b, const char *frag)
{
    expect_err_head(name, b, NULL, frag);
}

// A well-formed v1 '<f8' file with the given dict and `n` data values 1, 2, ...
static void make_f8(bytes *b, const char *dict, int n)
{
    put_preamble(b, 1, dict, -1);
    for (int k = 0; k < n; k++) put_f8(b, k + 1.0);
}

#define DICT_F8(shape) "{'descr': '<f8', 'fortran_order': False, 'shape': " shape ", }"

// ---------------------------------------------------------------------------
// Valid files

static void test_v1_f8_c(void)
{
    // 2 x 3, row-major; element (0, 0) = 1.0 spelled as literal bytes.
    const double want[6] = {1.0, -2.5, 1e-300, 3.0, 0.1, 1e300};
    bytes b = {0};
    put_preamble(&b, 1, DICT_F8("(2, 3)"), -1);
    CHECK(b.n % 64 == 0, "test builder: v1 header not 64-aligned (%zu)", b.n);
    put(&b, "\x00\x00\x00\x00\x00\x00\xf0\x3f", 8);
    for (int k = 1; k < 6; k++) put_f8(&b, want[k]);
    expect_ok("v1_f8_c.npy", &b, 2, 3, want);
}

static void test_v2_f4_fortran(void)
{
    // 2 x 3 float32 in column-major order: value (i, j) = 10 i + j + 0.5,
    // so the file holds 0.5, 10.5, 1.5, 11.5, 2.5, 12.5.
    double want[6];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) want[i * 3 + j] = 10.0 * i + j + 0.5;
    bytes b = {0};
    put_preamble(&b, 2, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", -1);
    put(&b, "\x00\x00\x00\x3f", 4);   // 0.5f, element (0, 0)
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 2; i++)
            if (i || j) put_f4(&b, (float)(10.0 * i + j + 0.5));
    expect_ok("v2_f4_fortran.npy", &b, 2, 3, want);

    // Non-representable float32: read back exactly as the float widened.
    const double w2[2] = {(double)0.1f, (double)-3.3f};
    b = (bytes){0};
    put_preamble(&b, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", -1);
    put_f4(&b, 0.1f);
    put_f4(&b, -3.3f);
    expect_ok("f4_widen.npy", &b, 1, 2, w2);
}

static void test_v2_long_header(void)
{
    // A header longer than 65535 bytes needs all four length bytes.
    const double want[2] = {4.0, 5.0};
    bytes b = {0};
    put_preamble(&b, 2, DICT_F8("(2,)"), 70000);
    put_f8(&b, 4.0);
    put_f8(&b, 5.0);
    expect_ok("v2_long.npy", &b, 2, 1, want);
}

static void test_v3(void)
{
    const double want[4] = {1.0, 2.0, 3.0, 4.0};
    bytes b = {0};
    put_preamble(&b, 3, DICT_F8("(2, 2)"), -1);
    for (int k = 0; k < 4; k++) put_f8(&b, want[k]);
    expect_ok("v3.npy", &b, 2, 2, want);
}

static void test_1d(void)
{
    const double want[5] = {1.0, 2.0, 3.0, 4.0, 5.0};
    bytes b = {0};
    make_f8(&b, DICT_F8("(5,)"), 5);
    expect_ok("1d.npy", &b, 5, 1, want);

    // 1-D Fortran order means the same thing.
    b = (bytes){0};
    put_preamble(&b, 1, "{'descr': '<f8', 'fortran_order': True, 'shape': (5,), }", -1);
    for (int k = 0; k < 5; k++) put_f8(&b, want[k]);
    expect_ok("1d_fortran.npy", &b, 5, 1, want);
}

static void test_header_variants(void)
{
    const double want[6] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
    const char *dicts[] = {
        "{\"shape\": (2, 3), \"fortran_order\": False, \"descr\": \"<f8\"}",
        "{'fortran_order':False,'shape':(2,3),'descr':'<f8'}",
        "{ 'shape' : ( 2 , 3 , ) , 'descr' : \"<f8\" , 'fortran_order' : False , }",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }",
    };
    for (size_t d = 0; d < sizeof dicts / sizeof dicts[0]; d++) {
        bytes b = {0};
        put_preamble(&b, 1, dicts[d], (long)d * 3);   // various paddings, not aligned
        for (int k = 0; k < 6; k++) put_f8(&b, want[k]);
        char name[32];
        snprintf(name, sizeof name, "variant%zu.npy", d);
        expect_ok(name, &b, 2, 3, want);
    }
}

// ---------------------------------------------------------------------------
// Writing

static void test_round_trip(void)
{
    const double want[6] = {1e-300, -0.0, 1.0 / 3.0, DBL_MAX, 4.9406564584124654e-324, -2.5};
    char path[256];
    tpath(path, sizeof path, "rt.npy");
    lerr e = {0};
    CHECK(npy_write(path, want, 3, 2, &e) == 0, "npy_write failed: %s", e.msg);

    double *x = NULL;
    int r = 0, c = 0;
    CHECK(npy_read(path, &x, &r, &c, &e) == 0, "npy_read of written file failed: %s", e.msg);
    if (x) {
        CHECK(r == 3 && c == 2, "round trip shape (%d, %d)", r, c);
        CHECK(memcmp(x, want, sizeof want) == 0, "round trip values differ");
        CHECK(signbit(x[1]) && x[1] == 0.0, "round trip lost -0.0");
        free(x);
    }

    // The file itself: numpy's layout, header padded to 64 bytes.
    size_t n = 0;
    unsigned char *f = slurp(path, &n);
    CHECK(f != NULL, "cannot read back %s", path);
    if (!f) return;
    CHECK(n >= 10 && memcmp(f, "\x93NUMPY\x01\x00", 8) == 0, "written file lacks magic/version 1.0");
    size_t hlen = n >= 10 ? (size_t)f[8] | (size_t)f[9] << 8 : 0;
    CHECK((10 + hlen) % 64 == 0, "header length %zu + 10 is not a multiple of 64", hlen);
    CHECK(n == 10 + hlen + sizeof want, "file size %zu, want %zu", n, 10 + hlen + sizeof want);
    CHECK(hlen > 0 && 10 + hlen <= n && f[10 + hlen - 1] == '\n', "header does not end in newline");
    const char *dict = DICT_F8("(3, 2)");
    CHECK(n > 10 + strlen(dict) && memcmp(f + 10, dict, strlen(dict)) == 0, "header dict differs");
    for (size_t i = 10 + strlen(dict); i + 1 < 10 + hlen && i < n; i++)
        CHECK(f[i] == ' ', "header padding byte %zu is 0x%02x, not a space", i, f[i]);

    // Byte-identical to the independent construction.
    bytes b = {0};
    put_preamble(&b, 1, dict, -1);
    for (int k = 0; k < 6; k++) put_f8(&b, want[k]);
    CHECK(b.n == n && memcmp(b.b, f, n) == 0, "written file differs from the hand-built one");
    free(b.b);
    free(f);

    // Overwrite with a different shape; no temporary files left behind.
    const double one[1] = {42.0};
    CHECK(npy_write(path, one, 1, 1, &e) == 0, "overwrite failed: %s", e.msg);
    x = NULL;
    CHECK(npy_read(path, &x, &r, &c, &e) == 0, "read after overwrite failed: %s", e.msg);
    if (x) {
        CHECK(r == 1 && c == 1 && x[0] == 42.0, "overwrite read back (%d, %d) %g", r, c, x[0]);
        free(x);
    }
    DIR *d = opendir(tmpdir);
    struct dirent *de;
    while (d && (de = readdir(d)))
        CHECK(strstr(de->d_name, ".tmp.") == NULL, "temporary file left: %s", de->d_name);
    if (d) closedir(d);
}

static void test_write_errors(void)
{
    const double v[1] = {1.0};
    char path[256];
    lerr e = {0};
    tpath(path, sizeof path, "no/such/dir/x.npy");
    CHECK(npy_write(path, v, 1, 1, &e) != 0, "write into a missing directory succeeded");
    CHECK(strstr(e.msg, "cannot write") != NULL, "write error message: %s", e.msg);
    tpath(path, sizeof path, "zero.npy");
    CHECK(npy_write(path, v, 0, 1, &e) != 0, "write of shape (0, 1) succeeded");
    CHECK(strstr(e.msg, "invalid shape") != NULL, "invalid shape message: %s", e.msg);
}

// ---------------------------------------------------------------------------
// Read errors

static void test_errors_file(void)
{
    char path[256], head[300];
    tpath(path, sizeof path, "missing.npy");
    snprintf(head, sizeof head, "cannot open %s: ", path);
    expect_err_head("missing.npy", NULL, head, "No such file");

    bytes b = {0};
    expect_err("empty.npy", &b, "not a .npy file");

    put_str(&b, "\x93NUMPZ\x01\x00");
    put_le(&b, 118, 2);
    expect_err("magic.npy", &b, "not a .npy file (bad magic");

    put_str(&b, "\x93NUMPY\x01");
    expect_err("trunc_version.npy", &b, "truncated header");

    put_str(&b, "\x93NUMPY\x02\x00\x10\x00");
    expect_err("trunc_len.npy", &b, "truncated header");

    put_preamble(&b, 1, DICT_F8("(1, 1)"), -1);
    b.n -= 20;   // cut into the dict
    expect_err("trunc_header.npy", &b, "truncated header");

    put_preamble(&b, 4, DICT_F8("(1, 1)"), -1);
    put_f8(&b, 1.0);
    expect_err("version4.npy", &b, "unsupported .npy format version 4.0");

    put_preamble(&b, 1, DICT_F8("(1, 1)"), -1);
    b.b[7] = 1;
    put_f8(&b, 1.0);
    expect_err("version11.npy", &b, "unsupported .npy format version 1.1");
}

static void test_errors_dtype(void)
{
    bytes b = {0};
    put_preamble(&b, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }", -1);
    for (int k = 0; k < 4; k++) put_le(&b, (uint64_t)k, 8);
    expect_err("i8.npy", &b, "unsupported dtype '<i8' (need float64 '<f8' or float32 '<f4'");

    put_preamble(&b, 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1, 1), }", -1);
    put(&b, "\x3f\xf0\x00\x00\x00\x00\x00\x00", 8);
    expect_err("be.npy", &b, "big-endian");

    put_preamble(&b, 1, "{'descr': '=f8', 'fortran_order': False, 'shape': (1, 1), }", -1);
    put_f8(&b, 1.0);
    expect_err("native.npy", &b, "unsupported dtype '=f8'");

    put_preamble(&b, 1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", -1);
    put_f8(&b, 1.0);
    expect_err("struct.npy", &b, "structured dtype");
}

static void test_errors_shape(void)
{
    bytes b = {0};
    make_f8(&b, DICT_F8("(2, 3, 4)"), 24);
    expect_err("3d.npy", &b, "3-D array, shape (2, 3, 4)");

    make_f8(&b, DICT_F8("()"), 1);
    expect_err("0d.npy", &b, "0-D");

    make_f8(&b, DICT_F8("(0, 3)"), 0);
    expect_err("empty_dim.npy", &b, "empty array");

    make_f8(&b, DICT_F8("(3, 0)"), 0);
    expect_err("empty_cols.npy", &b, "empty array, shape (3, 0)");

    make_f8(&b, DICT_F8("(0,)"), 0);
    expect_err("empty_1d.npy", &b, "empty array, shape (0,)");

    make_f8(&b, DICT_F8("(4294967296, 2)"), 1);
    expect_err("huge_dim.npy", &b, "array too large, shape (4294967296, 2)");

    make_f8(&b, DICT_F8("(99999999999999999999999999, 1)"), 1);
    expect_err("huger_dim.npy", &b, "array too large, shape (>=2**64, 1)");

    make_f8(&b, DICT_F8("(2147483647, 2147483647)"), 1);
    expect_err("huge_prod.npy", &b, "array too large, shape (2147483647, 2147483647)");

    // Plausible but far larger than the file: refused before allocating.
    make_f8(&b, DICT_F8("(1000000, 1000)"), 1);
    expect_err("big_shape.npy", &b, "needs 8000000000 bytes, found 8)");
}

static void test_errors_data(void)
{
    bytes b = {0};
    make_f8(&b, DICT_F8("(2, 3)"), 5);
    expect_err("trunc_data.npy", &b, "truncated data (shape (2, 3) of '<f8' needs 48 bytes, found 40)");

    make_f8(&b, DICT_F8("(2, 3)"), 6);
    b.n -= 3;
    expect_err("trunc_partial.npy", &b, "truncated data");

    make_f8(&b, DICT_F8("(2, 3)"), 6);
    put_byte(&b, 0);
    expect_err("trailing.npy", &b, "trailing data (1 bytes");

    // NaN at row 1, column 2 of a C-order 2 x 3.
    put_preamble(&b, 1, DICT_F8("(2, 3)"), -1);
    for (int k = 0; k < 6; k++) put_f8(&b, k == 5 ? NAN : 1.0);
    expect_err("nan.npy", &b, "non-finite value at (1, 2)");

    // Infinity stored third in a Fortran-order 2 x 3: that is (0, 1).
    put_preamble(&b, 1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", -1);
    for (int k = 0; k < 6; k++) put_f8(&b, k == 2 ? -INFINITY : 1.0);
    expect_err("inf_fortran.npy", &b, "non-finite value at (0, 1)");

    // Float32 NaN.
    put_preamble(&b, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", -1);
    for (int k = 0; k < 3; k++) put_f4(&b, k == 1 ? NAN : 1.0f);
    expect_err("nan_f4.npy", &b, "non-finite value at (1, 0)");
}

static void test_errors_header(void)
{
    static const struct {
        const char *name, *dict, *frag;
    } cases[] = {
        {"no_shape.npy", "{'descr': '<f8', 'fortran_order': False, }", "missing key 'shape'"},
        {"no_descr.npy", "{'fortran_order': False, 'shape': (1, 1), }", "missing key 'descr'"},
        {"no_order.npy", "{'descr': '<f8', 'shape': (1, 1), }", "missing key 'fortran_order'"},
        {"no_brace.npy", "'descr': '<f8', 'fortran_order': False, 'shape': (1, 1)", "expected '{'"},
        {"unclosed.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1)", "expected ',' or '}'"},
        {"extra_key.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), 'x': 1}", "unexpected key"},
        {"dup_key.npy", "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1, 1)}", "duplicate key"},
        {"bad_bool.npy", "{'descr': '<f8', 'fortran_order': 0, 'shape': (1, 1)}", "expected True or False"},
        {"bad_shape.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': [1, 1]}", "expected '('"},
        {"neg_dim.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 1)}", "non-negative integer"},
        {"no_colon.npy", "{'descr' '<f8', 'fortran_order': False, 'shape': (1, 1)}", "expected ':'"},
        {"unterminated.npy", "{'descr': '<f8, 'fortran_order': False, 'shape': (1, 1)}", "expected ',' or '}'"},
        {"junk_after.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1)} x", "unexpected text"},
        {"open_str.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), 'a", "unterminated string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bytes b = {0};
        make_f8(&b, cases[i].dict, 1);
        expect_err(cases[i].name, &b, "malformed .npy header");
        make_f8(&b, cases[i].dict, 1);
        expect_err(cases[i].name, &b, cases[i].frag);
    }

    // A NUL inside the header is shown escaped in the message.
    bytes b = {0};
    put_preamble(&b, 1, DICT_F8("(1, 1)"), -1);
    b.b[12] = '\0';
    put_f8(&b, 1.0);
    expect_err("nul.npy", &b, "\\x00");
}

// ---------------------------------------------------------------------------

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *de;
    char path[512];
    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, de->d_name);
        if (remove(path) != 0) fprintf(stderr, "warning: cannot remove %s\n", path);
    }
    if (d) closedir(d);
    if (rmdir(tmpdir) != 0) fprintf(stderr, "warning: cannot remove %s\n", tmpdir);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/npytestXXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 3;
    }
    test_v1_f8_c();
    test_v2_f4_fortran();
    test_v2_long_header();
    test_v3();
    test_1d();
    test_header_variants();
    test_round_trip();
    test_write_errors();
    test_errors_file();
    test_errors_dtype();
    test_errors_shape();
    test_errors_data();
    test_errors_header();
    remove_tmpdir();
    return check_summary("test_npy");
}
