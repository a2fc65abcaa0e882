// csv.c: tidy CSV output, and reading it back.
//
// Every CSV loralab writes loads with Python's csv module, numpy's genfromtxt
// (names=True, dtype=None, encoding=None, deletechars='' to keep the dotted
// column names) and R's read.csv without losing or shifting a column: numbers
// are bare (%.17g, nan, inf, -inf), texts never hold a comma, double quote,
// '#' or line break (csv_field), and the empty text is written "".
#include "csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void csv_header(afile *f, const char *const *cols, int n)
{
    for (int i = 0; i < n; i++) afile_printf(f, "%s%s", i ? "," : "", cols[i]);
    afile_printf(f, "\n");
}

// %.17g without printf's arbitrary-precision path.  Writing |v| = m 2^e (m < 2^53)
// and x = floor(log10 |v|), the 17 significant digits are
//   N = round_half_even(|v| 10^p),  p = 16 - x,  10^16 <= N < 10^17,
// computed exactly in 128-bit integers: m 5^p 2^(e + p) for p >= 0 (5^p m < 2^128
// needs p <= 32), m 2^e / 10^-p for p < 0 (m 2^e < 2^128 needs e <= 74).  A
// rounding carry to 10^17 moves x up by one, as in printf.  Outside those
// ranges (|v| below ~1e-16 or above ~1e38, subnormals) snprintf does it.
// Layout as %.17g: exponent form when x < -4 or x >= 17, trailing zeros removed.
__extension__ typedef unsigned __int128 u128;

// The 17 digits of |v| (v finite, nonzero) into dig, its exponent into *x; 0 if
// out of the exact range.
static int digits17(double v, char *dig, int *x)
{
    static const unsigned long long TEN16 = 10000000000000000ULL, TEN17 = 100000000000000000ULL;
    int ex;
    double f = frexp(fabs(v), &ex);   // |v| = f 2^ex, f in [0.5, 1)
    unsigned long long m = (unsigned long long)ldexp(f, 53);
    int e = ex - 53;
    int x10 = (int)floor(log10(fabs(v)));
    for (int tries = 0; tries < 3; tries++) {
        int p = 16 - x10;
        u128 n, t;   // rounded and truncated |v| 10^p
        if (p >= 0) {
            if (p > 32) return 0;
            u128 X = m;
            for (int i = 0; i < p; i++) X *= 5;
            int sh = -(e + p);
            if (sh <= 0) {
                if (-sh > 10) return 0;
                n = t = X << -sh;
            } else {
                if (sh > 120) return 0;
                u128 one = 1, rem = X & ((one << sh) - 1), half = one << (sh - 1);
                n = t = X >> sh;
                if (rem > half || (rem == half && (n & 1))) n++;
            }
        } else {
            if (e < 0 || e > 74 || -p > 38) return 0;
            u128 X = (u128)m << e, D = 1;
            for (int i = 0; i < -p; i++) D *= 10;
            n = t = X / D;
            u128 rem = X % D;
            if (2 * rem > D || (2 * rem == D && (n & 1))) n++;
        }
        if (t < TEN16) {   // estimate of x one too high
            x10--;
            continue;
        }
        if (t >= TEN17) {   // one too low (n == 10^17 from t < 10^17 is a rounding carry)
            x10++;
            continue;
        }
        if (n == TEN17) n = TEN16, x10++;
        unsigned long long u = (unsigned long long)n;
        for (int i = 16; i >= 0; i--) dig[i] = (char)('0' + u % 10), u /= 10;
        *x = x10;
        return 1;
    }
    return 0;
}

// v as printf's %.17g into buf (>= 32 chars).
static void fmt17(double v, char *buf)
{
    char dig[17];
    int x;
    if (v == 0.0 || !digits17(v, dig, &x)) {
        snprintf(buf, 32, "%.17g", v);
        return;
    }
    int nd = 17;
    while (nd > 1 && dig[nd - 1] == '0') nd--;
    char *o = buf;
    if (v < 0) *o++ = '-';
    if (x < -4 || x >= 17) {
        *o++ = dig[0];
        if (nd > 1) {
            *o++ = '.';
            for (int i = 1; i < nd; i++) *o++ = dig[i];
        }
        *o++ = 'e';
        *o++ = x < 0 ? '-' : '+';
        int ax = x < 0 ? -x : x;
        if (ax >= 100) *o++ = (char)('0' + ax / 100);
        *o++ = (char)('0' + ax / 10 % 10);
        *o++ = (char)('0' + ax % 10);
    } else if (x >= 0) {
        for (int i = 0; i <= x; i++) *o++ = dig[i];
        if (nd > x + 1) {
            *o++ = '.';
            for (int i = x + 1; i < nd; i++) *o++ = dig[i];
        }
    } else {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -x - 1; i++) *o++ = '0';
        for (int i = 0; i < nd; i++) *o++ = dig[i];
    }
    *o = '\0';
}

void csv_fmt(double v, int first, char *out)
{
    if (!first) *out++ = ',';
    if (isnan(v))
        strcpy(out, "nan");
    else if (isinf(v))
        strcpy(out, v > 0 ? "inf" : "-inf");
    else
        fmt17(v, out);
}

void csv_num(afile *f, double v, int first)
{
    char buf[CSV_NUM_MAX];
    csv_fmt(v, first, buf);
    afile_puts(f, buf);
}

// Readers that do not understand CSV quoting (numpy's genfromtxt and loadtxt
// split at every comma and end a row at '#'; R's read.csv and Python's csv
// do quote) all agree on a field with none of , " # CR LF TAB: so no text is
// ever written with one of them.  The empty text is written "": left empty,
// a column of them is read as booleans by numpy.
size_t csv_field(char *out, const char *s)
{
    if (!*s) {
        strcpy(out, "\"\"");
        return 2;
    }
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        out[n] = c == ',' ? ';' : c == '"' ? '\'' : c == '#' ? '_'
               : c == '\n' || c == '\r' || c == '\t' ? ' ' : c;
    }
    out[n] = '\0';
    return n;
}

void csv_text(afile *f, const char *s, int first)
{
    if (!first) afile_puts(f, ",");
    char *t = xmalloc(strlen(s) + 3);
    csv_field(t, s);
    afile_puts(f, t);
    free(t);
}

// ---------------------------------------------------------------------------
// Reading (RFC 4180 quoting).  getc_unlocked: the stream is this thread's
// alone, so getc's per-character lock buys nothing.

int csv_read_row(FILE *in, csv_row *r)
{
    r->nf = 0;
    r->f = NULL;
    int c = getc_unlocked(in);
    if (c == EOF) return 0;
    size_t cap = 64, len = 0;
    char *buf = xmalloc(cap);
    int quoted = 0, cap_f = 0;
    for (;; c = getc_unlocked(in)) {
        int end_field = 0, end_row = 0;
        if (c == EOF) {
            end_field = end_row = 1;
        } else if (quoted) {
            if (c == '"') {
                int n = getc_unlocked(in);
                if (n == '"')
                    buf[len++] = '"';
                else {
                    quoted = 0;
                    ungetc(n, in);
                }
            } else {
                buf[len++] = (char)c;
            }
        } else if (c == '"') {
            quoted = 1;
        } else if (c == ',') {
            end_field = 1;
        } else if (c == '\n') {
            end_field = end_row = 1;
        } else if (c != '\r') {
            buf[len++] = (char)c;
        }
        if (len + 2 >= cap) buf = xrealloc(buf, cap *= 2);
        if (end_field) {
            buf[len] = '\0';
            if (r->nf == cap_f) r->f = xrealloc(r->f, sizeof(char *) * (size_t)(cap_f = 2 * cap_f + 8));
            r->f[r->nf++] = xstrdup(buf);
            len = 0;
        }
        if (end_row) break;
    }
    free(buf);
    return 1;
}

void csv_row_free(csv_row *r)
{
    for (int i = 0; i < r->nf; i++) free(r->f[i]);
    free(r->f);
}

