// small_linalg.c: Householder QR and a symmetric eigensolver written for the
// small matrices of a metric row (small_linalg.h).  Plain loops over
// contiguous columns, which the compiler vectorises; no workspace queries,
// no argument checking beyond what the callers guarantee.
#include "small_linalg.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

// Four doubles as one value (GCC's vector extension: one AVX2 register, or
// two SSE2 ones), read from any address by memcpy (no alignment assumed).
typedef double v4d __attribute__((vector_size(32)));
#define LOAD4(v, p) memcpy(&(v), (p), sizeof(v4d))

// The vector kernels below (QR, Q applied, projections, Gram matrices) get
// an AVX2 clone on x86-64, picked at load time: wider vectors, the same bits
// -- the operations and their order do not change (ISO C: no contraction
// into fused multiply-adds).  (An AVX-512 clone was slower at these lengths:
// 36 against 29 us per metric row.)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define WIDE_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define WIDE_CLONES
#endif

// x^T y for x, y: (n), summed in four interleaved partial sums: without
// -ffast-math a single running sum is one dependent chain of additions, which
// the compiler may not reorder or vectorise (4x slower at n = 100).
__attribute__((always_inline)) static inline double dot(const double *x, const double *y,
                                                        int n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += x[i] * y[i];
        s1 += x[i + 1] * y[i + 1];
        s2 += x[i + 2] * y[i + 2];
        s3 += x[i + 3] * y[i + 3];
    }
    for (; i < n; i++) s0 += x[i] * y[i];
    return (s0 + s2) + (s1 + s3);
}

// s[c] = x^T y_c for the NC <= 4 columns y_c = y + c ld: (n), each summed
// exactly as dot() sums it (the same bits: lane l of a column's vector
// accumulator is dot()'s partial sum s_l), the columns interleaved so that NC
// independent chains of vector additions are in flight and every x[i] is
// loaded once.  NC is a compile-time constant at every call (dots()).
__attribute__((always_inline)) static inline void dots_nc(const double *x, const double *y,
                                                         size_t ld, int NC, int n, double *s)
{
    v4d a[4] = {{0.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 0.0, 0.0},
                {0.0, 0.0, 0.0, 0.0}};
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        v4d xi;
        LOAD4(xi, x + i);
        for (int c = 0; c < NC; c++) {
            v4d u;
            LOAD4(u, y + c * ld + i);
            a[c] += xi * u;
        }
    }
    for (; i < n; i++)
        for (int c = 0; c < NC; c++) a[c][0] += x[i] * y[c * ld + i];
    for (int c = 0; c < NC; c++) s[c] = (a[c][0] + a[c][2]) + (a[c][1] + a[c][3]);
}

__attribute__((always_inline)) static inline void dots(const double *x, const double *y, size_t ld,
                                                      int nc, int n, double *s)
{
    switch (nc) {
    case 4: dots_nc(x, y, ld, 4, n, s); break;
    case 3: dots_nc(x, y, ld, 3, n, s); break;
    case 2: dots_nc(x, y, ld, 2, n, s); break;
    case 1: dots_nc(x, y, ld, 1, n, s); break;
    default: break;
    }
}

// y_c <- y_c - t[c] x for the nc <= 4 columns y_c = y + c ld: (n) (each entry
// as a separate axpy computes it).
__attribute__((always_inline)) static inline void axpys_nc(const double *x, double *y, size_t ld,
                                                          int NC, int n, const double *t)
{
    for (int i = 0; i < n; i++)
        for (int c = 0; c < NC; c++) y[c * ld + i] -= t[c] * x[i];
}

__attribute__((always_inline)) static inline void axpys(const double *x, double *y, size_t ld,
                                                       int nc, int n, const double *t)
{
    switch (nc) {
    case 4: axpys_nc(x, y, ld, 4, n, t); break;
    case 3: axpys_nc(x, y, ld, 3, n, t); break;
    case 2: axpys_nc(x, y, ld, 2, n, t); break;
    case 1: axpys_nc(x, y, ld, 1, n, t); break;
    default: break;
    }
}

// y_c <- y_c - tau v (v^T y_c) for the nc columns y_c = y + c ld: (len) and
// the reflector v: (len) with v_0 = 1 implied (the stored v[0] is not read),
// four columns at a time: each column's v^T y summed as dot() sums it.
__attribute__((always_inline)) static inline void reflect(const double *v, int len, double tau,
                                                         double *y, size_t ld, int nc)
{
    for (int c = 0; c < nc; c += 4) {
        int w = nc - c < 4 ? nc - c : 4;
        double *yc = y + (size_t)c * ld, t[4];
        dots(v + 1, yc + 1, ld, w, len - 1, t);
        for (int b = 0; b < w; b++) {
            t[b] = (yc[(size_t)b * ld] + t[b]) * tau;
            yc[(size_t)b * ld] -= t[b];
        }
        axpys(v + 1, yc + 1, ld, w, len - 1, t);
    }
}

// ||x||_2 for x: (n) accumulated with scaling, as dnrm2: for sums of squares
// that under- or overflow (entries beyond ~1e+-145).
static double scaled_norm(const double *x, size_t n)
{
    double scale = 0.0, ssq = 1.0;
    for (size_t i = 0; i < n; i++) {
        double v = fabs(x[i]);
        if (v == 0.0) continue;
        if (scale < v) {
            ssq = 1.0 + ssq * (scale / v) * (scale / v);
            scale = v;
        } else {
            ssq += (v / scale) * (v / scale);
        }
    }
    return scale * sqrt(ssq);
}

// ||x||_2 for x: (n): the plain sum of squares, or scaled_norm when that sum
// under- or overflows.
static double norm2(const double *x, int n)
{
    double s = dot(x, x, n);
    return s > 1e-290 && s < 1e290 ? sqrt(s) : scaled_norm(x, (size_t)n);
}

// ||x||_2 of a long x: (n): the sum of squares in sixteen interleaved partial
// sums (four vector accumulators: four independent chains of additions, where
// dot()'s one chain waits on each addition), or scaled_norm when that sum
// under- or overflows.
WIDE_CLONES double sl_norm(const double *x, size_t n)   // x: (n)
{
    v4d a0 = {0.0, 0.0, 0.0, 0.0}, a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v4d x0, x1, x2, x3;
        LOAD4(x0, x + i), LOAD4(x1, x + i + 4), LOAD4(x2, x + i + 8), LOAD4(x3, x + i + 12);
        a0 += x0 * x0, a1 += x1 * x1, a2 += x2 * x2, a3 += x3 * x3;
    }
    for (; i < n; i++) a0[0] += x[i] * x[i];
    v4d t = (a0 + a2) + (a1 + a3);
    double s = (t[0] + t[2]) + (t[1] + t[3]);
    return s > 1e-290 && s < 1e290 ? sqrt(s) : scaled_norm(x, n);
}

// sqrt(a^2 + b^2) without overflow or destructive underflow: directly when
// a^2 + b^2 is safely in range (one square root), else scaled.
static inline double pythag(double a, double b)
{
    double t2 = a * a + b * b;
    if (t2 > 1e-290 && t2 < 1e290) return sqrt(t2);
    a = fabs(a), b = fabs(b);
    if (a > b) {
        double t = b / a;
        return a * sqrt(1.0 + t * t);
    }
    if (b == 0.0) return 0.0;
    double t = a / b;
    return b * sqrt(1.0 + t * t);
}

// Column j: x = X[j:m, j] = (alpha, x2).  The reflector H = I - tau v v^T,
// v = (1, x2 / (alpha - beta)), beta = -sign(alpha) ||x||, maps x to
// (beta, 0) (LAPACK dlarfg; tau = 0, H = I when x2 = 0).  H is then applied
// to the trailing columns: y <- y - tau v (v^T y).  2 m n^2 - 2 n^3 / 3 flops.
WIDE_CLONES void sl_qr(double *X, int m, int n, double *tau)   // X: (m, n) cm, tau: (n)
{
    for (int j = 0; j < n; j++) {
        double *x = X + (size_t)j * m + j;
        int len = m - j;
        double alpha = x[0], xn = len > 1 ? norm2(x + 1, len - 1) : 0.0;
        if (xn == 0.0) {
            tau[j] = 0.0;
            continue;
        }
        double beta = -copysign(pythag(alpha, xn), alpha);
        tau[j] = (beta - alpha) / beta;
        double sc = 1.0 / (alpha - beta);
        for (int i = 1; i < len; i++) x[i] *= sc;
        x[0] = beta;
        reflect(x, len, tau[j], X + (size_t)(j + 1) * m + j, (size_t)m, n - j - 1);
    }
}

// Q Y = H_1 (H_2 (... H_nr Y)): the reflectors applied last to first, each
// as y <- y - tau_j v_j (v_j^T y) on rows j..m-1.
WIDE_CLONES void sl_qr_apply(const double *QR, int m, int nr, const double *tau, double *Y,
                 int c)   // QR: (m, >= nr) cm, tau: (nr), Y: (m, c) cm
{
    for (int j = nr - 1; j >= 0; j--) {
        if (tau[j] == 0.0) continue;
        const double *v = QR + (size_t)j * m + j;
        int len = m - j;
        reflect(v, len, tau[j], Y + (size_t)j, (size_t)m, c);
    }
}

// C = U^T P (dot products), then P <- P - U C (axpys): the residual of P
// against span(U), formed explicitly.  Four columns of P at a time, each
// entry summed as dot() sums it and updated in the order a = 0 .. p-1.
WIDE_CLONES void sl_project_out(const double *U, int n, int p, double *P, int q,
                                double *C)   // U: (n, p) cm, P: (n, q) cm, C: (p, q) cm
{
    for (int j = 0; j < q; j += 4) {
        int nc = q - j < 4 ? q - j : 4;
        double *pj = P + (size_t)j * n, t[4];
        for (int a = 0; a < p; a++) {
            dots(U + (size_t)a * n, pj, (size_t)n, nc, n, t);
            for (int c = 0; c < nc; c++) C[a + (size_t)(j + c) * p] = t[c];
        }
        for (int a = 0; a < p; a++) {
            for (int c = 0; c < nc; c++) t[c] = C[a + (size_t)(j + c) * p];
            axpys(U + (size_t)a * n, pj, (size_t)n, nc, n, t);
        }
    }
}

// G_ab = sum_i X_ia X_ib for a <= b (as dot() sums it), mirrored.
WIDE_CLONES void sl_gram(const double *X, int m, int n, double *G)   // X: (m, n) cm, G: (n, n) cm
{
    for (int b = 0; b < n; b++) {
        const double *xb = X + (size_t)b * m;
        for (int a = 0; a <= b; a += 4) {
            int nc = b + 1 - a < 4 ? b + 1 - a : 4;
            double t[4];
            dots(xb, X + (size_t)a * m, (size_t)m, nc, m, t);
            for (int c = 0; c < nc; c++) G[a + c + (size_t)b * n] = G[b + (size_t)(a + c) * n] = t[c];
        }
    }
}

#define Z(i, k) z[(i) + (size_t)(k) * n]

// Householder reduction of the symmetric z: (n, n) cm (lower triangle) to
// tridiagonal form T = Q^T z Q, diagonal d: (n), off-diagonal e: (n) with
// e[i] = T(i, i-1), e[0] = 0 (Numerical Recipes' tred2, after EISPACK):
// row i's part left of the diagonal, scaled by its 1-norm against under- and
// overflow, is reflected onto its last entry, rows n-1 down to 1.  With
// vectors, Q is accumulated into z.  (4/3) n^3 flops, (8/3) n^3 with Q.
static void tridiagonalise(double *z, int n, double *d, double *e, int vectors)
{
    for (int i = n - 1; i > 0; i--) {
        int l = i - 1;
        double h = 0.0, scale = 0.0;
        if (l > 0) {
            for (int k = 0; k < i; k++) scale += fabs(Z(i, k));
            if (scale == 0.0) {
                e[i] = Z(i, l);
            } else {
                for (int k = 0; k < i; k++) {
                    Z(i, k) /= scale;
                    h += Z(i, k) * Z(i, k);
                }
                double f = Z(i, l), g = f >= 0.0 ? -sqrt(h) : sqrt(h);
                e[i] = scale * g;
                h -= f * g;
                Z(i, l) = f - g;
                f = 0.0;
                for (int j = 0; j < i; j++) {
                    if (vectors) Z(j, i) = Z(i, j) / h;
                    g = 0.0;
                    for (int k = 0; k <= j; k++) g += Z(j, k) * Z(i, k);
                    for (int k = j + 1; k < i; k++) g += Z(k, j) * Z(i, k);
                    e[j] = g / h;
                    f += e[j] * Z(i, j);
                }
                double hh = f / (h + h);
                for (int j = 0; j < i; j++) {
                    f = Z(i, j);
                    e[j] = g = e[j] - hh * f;
                    for (int k = 0; k <= j; k++) Z(j, k) -= f * e[k] + g * Z(i, k);
                }
            }
        } else {
            e[i] = Z(i, l);
        }
        d[i] = h;
    }
    d[0] = 0.0;
    e[0] = 0.0;
    for (int i = 0; i < n; i++) {
        if (vectors) {
            if (d[i] != 0.0) {
                for (int j = 0; j < i; j++) {
                    double g = 0.0;
                    for (int k = 0; k < i; k++) g += Z(i, k) * Z(k, j);
                    for (int k = 0; k < i; k++) Z(k, j) -= g * Z(k, i);
                }
            }
            d[i] = Z(i, i);
            Z(i, i) = 1.0;
            for (int j = 0; j < i; j++) Z(j, i) = Z(i, j) = 0.0;
        } else {
            d[i] = Z(i, i);
        }
    }
}

// Eigenvalues of the symmetric tridiagonal (d, e) by the implicit QL method
// with Wilkinson's shift (Numerical Recipes' tqli, after EISPACK tql2): for
// each l, find the first m >= l whose off-diagonal e[m] is negligible against
// |d[m]| + |d[m+1]|; if m > l, one QL sweep of plane rotations from m - 1 up to
// l, shifted by the eigenvalue of the leading 2 x 2 closer to d[l].  With
// vectors the rotations are accumulated into z: (n, n) cm.  Each absolute
// eigenvalue error is about eps ||T||.  Fails after 30 sweeps without
// convergence for one eigenvalue.
//
// Written as a state machine that advances by one plane rotation (or one
// search for the next sweep) per ql_advance call, so that independent
// problems can be advanced in turn (sl_eig_batch): each rotation is one long
// chain of dependent operations (a square root, a division, then the next
// rotation's input), and two interleaved chains take about the time of one.  The operations of each problem and their order are those of the
// plain loop: the same bits whether solved alone or in a pair.
typedef struct {
    double *d, *e, *z;            // (n), (n), (n, n) cm or NULL
    int n, l, m, i, iter, phase;  // phase: QL_FIND, QL_ROTATE, QL_DONE, QL_FAILED
    double s, c, p, g;            // the sweep's running rotation and shift
} ql_state;

enum { QL_FIND, QL_ROTATE, QL_DONE, QL_FAILED };

static void ql_start(ql_state *q, double *d, double *e, int n, double *z)
{
    for (int i = 1; i < n; i++) e[i - 1] = e[i];
    e[n - 1] = 0.0;
    *q = (ql_state){.d = d, .e = e, .z = z, .n = n, .phase = QL_FIND};
}

__attribute__((always_inline)) static inline void ql_advance(ql_state *q)
{
    double *d = q->d, *e = q->e;
    int n = q->n, l = q->l, m;
    if (q->phase == QL_FIND) {
        for (;;) {   // the next l with a non-negligible e[l .. m-1]
            for (m = l; m < n - 1; m++) {
                double dd = fabs(d[m]) + fabs(d[m + 1]);
                if (fabs(e[m]) <= 0x1p-53 * dd) break;
            }
            if (m != l) break;
            q->iter = 0;
            if (++l == n) {
                q->l = l, q->phase = QL_DONE;
                return;
            }
        }
        q->l = l;
        if (q->iter++ == 30) {
            q->phase = QL_FAILED;
            return;
        }
        double g = (d[l + 1] - d[l]) / (2.0 * e[l]), r = pythag(g, 1.0);
        q->g = d[m] - d[l] + e[l] / (g + copysign(r, g));
        q->s = 1.0, q->c = 1.0, q->p = 0.0;
        q->m = m, q->i = m - 1, q->phase = QL_ROTATE;
        return;
    }
    // one rotation of the sweep, in plane (i, i + 1)
    int i = q->i;
    m = q->m;
    double s = q->s, c = q->c, p = q->p, g = q->g;
    double f = s * e[i], b = c * e[i], r;
    e[i + 1] = (r = pythag(f, g));
    if (r == 0.0) {   // underflow: deflate and start again
        d[i + 1] -= p;
        e[m] = 0.0;
        q->phase = QL_FIND;
        return;
    }
    double rinv = 1.0 / r;
    s = f * rinv;
    c = g * rinv;
    g = d[i + 1] - p;
    r = (d[i] - g) * s + 2.0 * c * b;
    d[i + 1] = g + (p = s * r);
    g = c * r - b;
    if (q->z) {
        double *zi = q->z + (size_t)i * n, *zi1 = q->z + (size_t)(i + 1) * n;
        for (int k = 0; k < n; k++) {
            f = zi1[k];
            zi1[k] = s * zi[k] + c * f;
            zi[k] = c * zi[k] - s * f;
        }
    }
    q->s = s, q->c = c, q->p = p, q->g = g, q->i = --i;
    if (i < l) {   // sweep complete
        d[l] -= p;
        e[l] = g;
        e[m] = 0.0;
        q->phase = QL_FIND;
    }
}

// Returns 1 without convergence (d then partly reduced), else 0.
static int tridiagonal_ql(double *d, double *e, int n, double *z)
{
    ql_state q;
    ql_start(&q, d, e, n, z);
    while (q.phase < QL_DONE) ql_advance(&q);
    return q.phase == QL_FAILED;
}

// Eigenvalues w: (n) into decreasing order, the columns of z: (n, n) cm (if
// not NULL) alongside (selection sort).
static void sort_decreasing(double *w, int n, double *z)
{
    for (int i = 0; i < n - 1; i++) {
        int best = i;
        for (int j = i + 1; j < n; j++)
            if (w[j] > w[best]) best = j;
        if (best == i) continue;
        double t = w[i];
        w[i] = w[best], w[best] = t;
        if (z)
            for (int k = 0; k < n; k++) {
                t = Z(k, i);
                Z(k, i) = Z(k, best), Z(k, best) = t;
            }
    }
}

// Largest eigenvalue of the symmetric tridiagonal T (diagonal d: (n),
// e[i] = T(i, i-1), e[0] unused) by Laguerre's iteration on
// q(x) = det(x I - T), scaled by its Gershgorin bound g (T / g has
// ||T / g|| <= 1).  From x0 = 1 + 2^-20 > lambda_max all pivots of the LDL^T
// recurrence  p_0 = d_0 - x,  p_i = d_i - x - e_i^2 / p_{i-1}  are negative and
// q = prod(-p_i), so with g_i = p_i' / p_i
//   G = q'/q = sum 1/(x - lambda_j) = sum g_i,
//   H = sum 1/(x - lambda_j)^2 = sum (g_i^2 - p_i'' / p_i),
//   p_i'  = -1 + e_i^2 g_{i-1} / p_{i-1},
//   p_i'' = e_i^2 (p_{i-1}'' - 2 p_{i-1}' g_{i-1}) / p_{i-1}^2,
// and  x <- x - n / (G + sqrt((n - 1)(n H - G^2)))  decreases monotonically to
// lambda_max (real roots; cubic convergence at a simple root, 2.6-3.2
// iterations on average for n = 4..12).  Stops when a pivot is no longer
// negative (x at lambda_max to rounding), x stops decreasing, or the step is
// below eps x.  One division per pivot and no square root in the recurrence:
// 3.5x faster than the full QL at n = 12.  Fails without convergence in 100
// iterations (the caller then falls back to QL).
//
// Written as a state machine advanced by one iteration per lag_advance call,
// for sl_eig_batch's interleaving (see ql_state); the same operations alone
// or interleaved.
typedef struct {
    const double *d, *e;   // (n), (n)
    int n, it, phase;      // phase: LAG_RUN, LAG_DONE, LAG_FAILED
    double bound, inv, x, out;
} lag_state;

enum { LAG_RUN, LAG_DONE, LAG_FAILED };

static void lag_start(lag_state *q, const double *d, const double *e, int n)
{
    double bound = 0.0;
    for (int i = 0; i < n; i++) {
        double g = fabs(d[i]) + (i > 0 ? fabs(e[i]) : 0.0) + (i + 1 < n ? fabs(e[i + 1]) : 0.0);
        if (g > bound) bound = g;
    }
    *q = (lag_state){.d = d, .e = e, .n = n, .bound = bound, .out = 0.0, .phase = LAG_DONE};
    if (bound == 0.0) return;
    q->inv = 1.0 / bound, q->x = 1.0 + 0x1p-20, q->phase = LAG_RUN;
}

__attribute__((always_inline)) static inline void lag_advance(lag_state *q)
{
    if (q->it == 100) {   // no convergence: the caller falls back to QL
        q->phase = LAG_FAILED;
        return;
    }
    q->it++;
    const double *d = q->d, *e = q->e;
    int n = q->n;
    double inv = q->inv, x = q->x, bound = q->bound;
    double piv = d[0] * inv - x, dp = -1.0, dpp = 0.0, G = 0.0, H = 0.0;
    for (int i = 0;; i++) {
        if (!(piv < 0.0)) {
            q->out = x * bound, q->phase = LAG_DONE;
            return;
        }
        double r = 1.0 / piv, g = dp * r;
        G += g;
        H += g * g - dpp * r;
        if (i + 1 == n) break;
        double b2 = (e[i + 1] * inv) * (e[i + 1] * inv);
        double next_dp = -1.0 + b2 * g * r, next_dpp = b2 * r * r * (dpp - 2.0 * dp * g);
        piv = d[i + 1] * inv - x - b2 * r;
        dp = next_dp, dpp = next_dpp;
    }
    double disc = (n - 1) * (n * H - G * G);
    double step = n / (G + sqrt(disc > 0.0 ? disc : 0.0)), next = x - step;
    q->out = x * bound;
    if (!(next < x)) {
        q->phase = LAG_DONE;
        return;
    }
    q->x = x = next;
    q->out = x * bound;
    if (step <= 0x1p-53 * x) q->phase = LAG_DONE;
}

// #{eigenvalues of the tridiagonal (d, e) above x}: the LDL^T pivots of
// T - x I,  p_0 = d_0 - x,  p_i = d_i - x - e_i^2 / p_{i-1},  have as many
// negative entries as T has eigenvalues below x (Sylvester's law of inertia; a
// zero pivot is taken as -tiny: x counts as above).
static int count_above(const double *d, const double *e, int n, double x)
{
    double piv = d[0] - x;
    int below = 0;
    for (int i = 0;; i++) {
        if (piv == 0.0) piv = -0x1p-1000;
        below += piv < 0.0;
        if (i + 1 == n) break;
        piv = d[i + 1] - x - e[i + 1] * e[i + 1] / piv;
    }
    return n - below;
}

// A batch of eigenproblems (small_linalg.h): each tridiagonalised, then their
// iterations (QL sweeps' rotations, Laguerre iterations) advanced in turn, one
// step of each per round, until all are done; then each finished alone (sort,
// rank count, QL where Laguerre did not converge).  Each problem's operations
// are those it takes alone: the batch changes the time, not the bits.
int sl_eig_batch(sl_eig *t, int count)
{
    ql_state ql[SL_EIG_BATCH_MAX];
    lag_state lag[SL_EIG_BATCH_MAX];
    int failed = 0;
    for (int b = 0; b < count; b++) {
        sl_eig *p = &t[b];
        p->failed = 0, p->rank = 0, p->lmax = NAN;
        tridiagonalise(p->A, p->n, p->w, p->e, p->want == SL_VECTORS);
        if (p->want == SL_VECTORS || p->want == SL_VALUES)
            ql_start(&ql[b], p->w, p->e, p->n, p->want == SL_VECTORS ? p->A : NULL);
        else
            lag_start(&lag[b], p->w, p->e, p->n);
    }
    for (int running = 1; running;) {
        running = 0;
        for (int b = 0; b < count; b++) {
            if (t[b].want == SL_VECTORS || t[b].want == SL_VALUES) {
                if (ql[b].phase < QL_DONE) ql_advance(&ql[b]), running = 1;
            } else if (lag[b].phase == LAG_RUN) {
                lag_advance(&lag[b]), running = 1;
            }
        }
    }
    for (int b = 0; b < count; b++) {
        sl_eig *p = &t[b];
        int n = p->n;
        double *d = p->w;
        if (p->want == SL_VECTORS || p->want == SL_VALUES) {
            p->failed = ql[b].phase == QL_FAILED;
            if (p->failed)
                for (int i = 0; i < n; i++) d[i] = NAN;
            else
                sort_decreasing(d, n, p->want == SL_VECTORS ? p->A : NULL);
        } else if (lag[b].phase == LAG_DONE) {
            p->lmax = lag[b].out;
            if (p->want == SL_RANK)
                p->rank = p->lmax > 0.0 ? count_above(d, p->e, n, p->rel * p->rel * p->lmax) : 0;
        } else if (tridiagonal_ql(d, p->e, n, NULL)) {   // Laguerre failed, and QL
            p->failed = 1;
        } else {
            double lmax = d[0];
            for (int i = 1; i < n; i++) lmax = d[i] > lmax ? d[i] : lmax;
            p->lmax = lmax;
            if (p->want == SL_RANK)
                for (int i = 0; i < n && lmax > 0.0; i++) p->rank += d[i] > p->rel * p->rel * lmax;
        }
        failed |= p->failed;
    }
    return failed;
}

// A = Q T Q^T (tridiagonalise), T = P diag(w) P^T (tridiagonal_ql), the
// eigenvectors Q P; then sorted into decreasing order (a batch of one).
int sl_sym_eig(double *A, int n, double *w, int vectors, double *e)   // A: (n, n) cm, w, e: (n)
{
    sl_eig p = {.A = A, .n = n, .want = vectors ? SL_VECTORS : SL_VALUES, .w = w, .e = e};
    return sl_eig_batch(&p, 1);
}

// Tridiagonalise, then Laguerre's iteration (QL if that does not converge).
int sl_sym_eig_max(double *A, int n, double *out, double *d, double *e)   // A: (n, n) cm; d, e: (n)
{
    sl_eig p = {.A = A, .n = n, .want = SL_MAX, .w = d, .e = e};
    int rc = sl_eig_batch(&p, 1);
    *out = p.lmax;
    return rc;
}

// s_1 = sqrt(lambda_max(X^T X)).
int sl_op_norm(const double *X, int m, int n, double *gram, double *d, double *e,
               double *out)   // X: (m, n) cm, gram: (n, n), d, e: (n)
{
    sl_gram(X, m, n, gram);
    double lmax;
    int rc = sl_sym_eig_max(gram, n, &lmax, d, e);
    *out = rc ? NAN : sqrt(lmax > 0.0 ? lmax : 0.0);
    return rc;
}

// rank = #{i : s_i > rel s_1} = #{i : lambda_i > rel^2 lambda_max} of G = X^T X:
// lambda_max as in sl_sym_eig_max, then one Sturm count (count_above) on the
// tridiagonal T at rel^2 lambda_max.  The count is exact for a matrix within
// about n eps ||G|| of G, as the eigenvalues are.
int sl_gram_rank(const double *X, int m, int n, double rel, double *gram, double *d,
                 double *e)   // X: (m, n) cm, gram: (n, n), d, e: (n)
{
    sl_gram(X, m, n, gram);
    sl_eig p = {.A = gram, .n = n, .want = SL_RANK, .rel = rel, .w = d, .e = e};
    return sl_eig_batch(&p, 1) ? -1 : p.rank;
}

// S_i = sqrt(lambda_i(X^T X)), a rounding-negative lambda read as 0.
int sl_gram_svals(const double *X, int m, int n, double *gram, double *S,
                  double *e)   // X: (m, n) cm, gram: (n, n), S, e: (n)
{
    sl_gram(X, m, n, gram);
    int rc = sl_sym_eig(gram, n, S, 0, e);
    for (int i = 0; i < n; i++) S[i] = rc ? NAN : sqrt(S[i] > 0 ? S[i] : 0.0);
    return rc;
}
