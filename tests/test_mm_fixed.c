// test_mm_fixed.c: linalg.h's thread-independent products and norms.
//   - mm_fixed = alpha op(A) op(B) + beta C by a plain triple loop, to 1e-13
//     of sum |alpha a b| + |beta c| per entry, for every op pair, beta 0 and
//     not, in each of its modes: one tile, tiles of rows and of columns, a long
//     sum cut into pieces (p = 20000 and 70001, more than 16 x 4096), p = 0;
//   - the same bytes with BLAS on 1 and on 2 threads, and BLAS's thread count
//     unchanged after the call (also inside a serial section, where it is 1);
//   - trmm_upper_fixed (both ops, more than one column block) against the
//     loop, same bytes on 1 and 2 threads;
//   - fro and fro_dot of 100003 entries: same bytes on 1 and 2 threads, equal
//     to the loop's sum to 1e-13.
#include <string.h>

#include "check.h"
#include "linalg.h"

int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);

static unsigned long long lcg_state = 12345;
static double unif(void)   // in [-1, 1)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg_state >> 11) / 4503599627370496.0 - 1.0;
}

static double *rnd(size_t n)
{
    double *x = dalloc(n);
    for (size_t i = 0; i < n; i++) x[i] = unif();
    return x;
}

// op(X)[i][j] for X row-major: (rows, cols) of op(X) given; 'T': X is (cols, rows).
static double at(const double *X, char t, int rows, int cols, int i, int j)
{
    (void)rows;
    return t == 'N' ? X[(size_t)i * cols + j] : X[(size_t)j * rows + i];
}

static void check_mm(char ta, char tb, int m, int n, int p, double beta)
{
    double alpha = -0.7;
    double *A = rnd((size_t)m * (p ? p : 1)), *B = rnd((size_t)(p ? p : 1) * n);
    double *C0 = rnd((size_t)m * n), *C1 = dalloc((size_t)m * n), *C2 = dalloc((size_t)m * n);
    memcpy(C1, C0, sizeof(double) * (size_t)m * n);
    memcpy(C2, C0, sizeof(double) * (size_t)m * n);
    openblas_set_num_threads(1);
    mm_fixed(ta, tb, m, n, p, alpha, A, B, beta, C1);
    CHECK(openblas_get_num_threads() == 1, "count changed to %d", openblas_get_num_threads());
    openblas_set_num_threads(2);
    mm_fixed(ta, tb, m, n, p, alpha, A, B, beta, C2);
    CHECK(openblas_get_num_threads() == 2, "count changed to %d", openblas_get_num_threads());
    CHECK(memcmp(C1, C2, sizeof(double) * (size_t)m * n) == 0,
          "%c%c m=%d n=%d p=%d beta=%g: 1 and 2 threads differ", ta, tb, m, n, p, beta);
    double worst = 0.0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0.0, mag = 0.0;
            for (int l = 0; l < p; l++) {
                double t = at(A, ta, m, p, i, l) * at(B, tb, p, n, l, j);
                s += t, mag += fabs(t);
            }
            double c0 = C0[(size_t)i * n + j];
            double want = alpha * s + (beta == 0.0 ? 0.0 : beta * c0);
            double scale = fabs(alpha) * mag + fabs(beta * c0) + 1e-300;
            double err = fabs(C1[(size_t)i * n + j] - want) / scale;
            if (err > worst) worst = err;
        }
    CHECK(worst <= 1e-13, "%c%c m=%d n=%d p=%d beta=%g: relative error %.2e", ta, tb, m, n, p,
          beta, worst);
    free(A), free(B), free(C0), free(C1), free(C2);
}

static void check_trmm(char trans, int d, int c)
{
    double *R = rnd((size_t)d * d), *Y = rnd((size_t)d * c);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < i; j++) R[(size_t)i * d + j] = 12345.0;   // below: never read
    double *Y1 = dalloc((size_t)d * c), *Y2 = dalloc((size_t)d * c);
    memcpy(Y1, Y, sizeof(double) * (size_t)d * c);
    memcpy(Y2, Y, sizeof(double) * (size_t)d * c);
    openblas_set_num_threads(1);
    trmm_upper_fixed(trans, d, c, 0.5, R, Y1);
    openblas_set_num_threads(2);
    trmm_upper_fixed(trans, d, c, 0.5, R, Y2);
    CHECK(memcmp(Y1, Y2, sizeof(double) * (size_t)d * c) == 0, "trmm %c: 1 and 2 threads differ",
          trans);
    double worst = 0.0;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < c; j++) {
            double s = 0.0, mag = 0.0;
            for (int l = 0; l < d; l++) {
                double r = trans == 'N' ? (l >= i ? R[(size_t)i * d + l] : 0.0)
                                        : (i >= l ? R[(size_t)l * d + i] : 0.0);
                s += r * Y[(size_t)l * c + j], mag += fabs(r * Y[(size_t)l * c + j]);
            }
            double err = fabs(Y1[(size_t)i * c + j] - 0.5 * s) / (0.5 * mag + 1e-300);
            if (err > worst) worst = err;
        }
    CHECK(worst <= 1e-13, "trmm %c d=%d c=%d: relative error %.2e", trans, d, c, worst);
    free(R), free(Y), free(Y1), free(Y2);
}

int main(void)
{
    const char ops[2] = {'N', 'T'};
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int z = 0; z < 2; z++) {
                double beta = z ? 0.5 : 0.0;
                check_mm(ops[a], ops[b], 24, 16, 3000, beta);     // one tile
                check_mm(ops[a], ops[b], 24, 16, 20000, beta);    // a long sum in 5 pieces
                check_mm(ops[a], ops[b], 600, 40, 300, beta);     // 3 row tiles
                check_mm(ops[a], ops[b], 30, 1300, 50, beta);     // 2 column tiles
                check_mm(ops[a], ops[b], 5, 7, 0, beta);          // C = beta C
            }
    check_mm('T', 'N', 3, 2, 70001, 0.0);   // 16 pieces of 4376 terms (the last shorter)

    // inside a serial section BLAS is at one thread and mm_fixed leaves it there
    openblas_set_num_threads(2);
    blas_serial_begin();
    CHECK(openblas_get_num_threads() == 1 && blas_budget() == 2, "serial section: %d, budget %d",
          openblas_get_num_threads(), blas_budget());
    double *A = rnd(600 * 50), *B = rnd(50 * 40), *C = dalloc(600 * 40);
    mm_fixed('N', 'N', 600, 40, 50, 1.0, A, B, 0.0, C);
    CHECK(openblas_get_num_threads() == 1, "mm_fixed in a section: count %d",
          openblas_get_num_threads());
    blas_serial_end();
    CHECK(openblas_get_num_threads() == 2, "after the section: count %d",
          openblas_get_num_threads());
    free(A), free(B), free(C);

    check_trmm('N', 300, 600);
    check_trmm('T', 300, 600);

    size_t len = 100003;
    double *x = rnd(len), *y = rnd(len);
    openblas_set_num_threads(1);
    double f1 = fro(x, (int)len, 1), d1 = fro_dot(x, y, (int)len, 1);
    openblas_set_num_threads(2);
    double f2 = fro(x, (int)len, 1), d2 = fro_dot(x, y, (int)len, 1);
    CHECK(memcmp(&f1, &f2, sizeof f1) == 0 && memcmp(&d1, &d2, sizeof d1) == 0,
          "fro / fro_dot differ between 1 and 2 threads");
    double sxx = 0.0, sxy = 0.0, mxy = 0.0;
    for (size_t i = 0; i < len; i++) sxx += x[i] * x[i], sxy += x[i] * y[i], mxy += fabs(x[i] * y[i]);
    CHECK(close_rel(f1, sqrt(sxx), 1e-13, 0.0), "fro %.17g, loop %.17g", f1, sqrt(sxx));
    CHECK(fabs(d1 - sxy) <= 1e-13 * mxy, "fro_dot %.17g, loop %.17g", d1, sxy);
    free(x), free(y);
    return check_failures ? 1 : 0;
}
