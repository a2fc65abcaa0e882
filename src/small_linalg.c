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

// s[c] = x^T y_c for the nc <= 4 columns y_c = y + c ld: (n), each summed
// exactly as dot() sums it (the same bits), the columns' partial sums
// interleaved so that four independent chains of additions are in flight
// and every x[i] is loaded once.
__attribute__((always_inline)) static inline void dots(const double *x, const double *y, size_t ld,
                                                      int nc, int n, double *s)
{
    if (nc < 4) {
        for (int c = 0; c < nc; c++) s[c] = dot(x, y + c * ld, n);
        return;
    }
    const double *y0 = y, *y1 = y + ld, *y2 = y + 2 * ld, *y3 = y + 3 * ld;
    v4d a0 = {0.0, 0.0, 0.0, 0.0}, a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        v4d xi, u0, u1, u2, u3;
        LOAD4(xi, x + i), LOAD4(u0, y0 + i), LOAD4(u1, y1 + i);
        LOAD4(u2, y2 + i), LOAD4(u3, y3 + i);
        a0 += xi * u0;
        a1 += xi * u1;
        a2 += xi * u2;
        a3 += xi * u3;
    }
    for (; i < n; i++) {
        a0[0] += x[i] * y0[i];
        a1[0] += x[i] * y1[i];
        a2[0] += x[i] * y2[i];
        a3[0] += x[i] * y3[i];
    }
    s[0] = (a0[0] + a0[2]) + (a0[1] + a0[3]);
    s[1] = (a1[0] + a1[2]) + (a1[1] + a1[3]);
    s[2] = (a2[0] + a2[2]) + (a2[1] + a2[3]);
    s[3] = (a3[0] + a3[2]) + (a3[1] + a3[3]);
}

// y_c <- y_c - t[c] x for the nc <= 4 columns y_c = y + c ld: (n) (each entry
// as a separate axpy computes it).
__attribute__((always_inline)) static inline void axpys(const double *x, double *y, size_t ld,
                                                       int nc, int n, const double *t)
{
    if (nc < 4) {
        for (int c = 0; c < nc; c++)
            for (int i = 0; i < n; i++) y[c * ld + i] -= t[c] * x[i];
        return;
    }
    double *y0 = y, *y1 = y + ld, *y2 = y + 2 * ld, *y3 = y + 3 * ld;
    for (int i = 0; i < n; i++) {
        y0[i] -= t[0] * x[i];
        y1[i] -= t[1] * x[i];
        y2[i] -= t[2] * x[i];
        y3[i] -= t[3] * x[i];
    }
}

// ||x||_2 for x: (n): the plain sum of squares, or a scaled accumulation
// (as dnrm2) when that sum under- or overflows (entries beyond ~1e+-145).
static double norm2(const double *x, int n)
{
    double s = dot(x, x, n);
    if (s > 1e-290 && s < 1e290) return sqrt(s);
    double scale = 0.0, ssq = 1.0;
    for (int i = 0; i < n; i++) {
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
        for (int c = j + 1; c < n; c += 4) {   // four trailing columns at a time
            int nc = n - c < 4 ? n - c : 4;
            double *y = X + (size_t)c * m + j, t[4];
            dots(x + 1, y + 1, (size_t)m, nc, len - 1, t);
            for (int b = 0; b < nc; b++) {
                t[b] = (y[(size_t)b * m] + t[b]) * tau[j];
                y[(size_t)b * m] -= t[b];
            }
            axpys(x + 1, y + 1, (size_t)m, nc, len - 1, t);
        }
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
        for (int col = 0; col < c; col += 4) {   // four columns at a time
            int nc = c - col < 4 ? c - col : 4;
            double *y = Y + (size_t)col * m + j, t[4];
            dots(v + 1, y + 1, (size_t)m, nc, len - 1, t);
            for (int b = 0; b < nc; b++) {
                t[b] = (y[(size_t)b * m] + t[b]) * tau[j];
                y[(size_t)b * m] -= t[b];
            }
            axpys(v + 1, y + 1, (size_t)m, nc, len - 1, t);
        }
    }
}

// C = U^T P (dot products), then P <- P - U C column by column (axpys): the
// residual of P against span(U), formed explicitly.
WIDE_CLONES void sl_project_out(const double *U, int n, int p, double *P, int q,
                    double *C)   // U: (n, p) cm, P: (n, q) cm, C: (p, q) cm
{
    for (int j = 0; j < q; j++) {
        double *pj = P + (size_t)j * n, *cj = C + (size_t)j * p;
        for (int a = 0; a < p; a++) cj[a] = dot(U + (size_t)a * n, pj, n);
        for (int a = 0; a < p; a++) {
            const double *ua = U + (size_t)a * n;
            double t = cj[a];
            for (int i = 0; i < n; i++) pj[i] -= t * ua[i];
        }
    }
}

// G_ab = sum_i X_ia X_ib for b >= a, mirrored.
WIDE_CLONES void sl_gram(const double *X, int m, int n, double *G)   // X: (m, n) cm, G: (n, n) cm
{
    for (int b = 0; b < n; b++) {
        const double *xb = X + (size_t)b * m;
        for (int a = 0; a <= b; a++) {
            double s = dot(X + (size_t)a * m, xb, m);
            G[a + (size_t)b * n] = G[b + (size_t)a * n] = s;
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
// eigenvalue error is about eps ||T||.  Returns 1 after 30 sweeps without
// convergence for one eigenvalue.
static int tridiagonal_ql(double *d, double *e, int n, double *z)
{
    for (int i = 1; i < n; i++) e[i - 1] = e[i];
    e[n - 1] = 0.0;
    for (int l = 0; l < n; l++) {
        int iter = 0, m;
        do {
            for (m = l; m < n - 1; m++) {
                double dd = fabs(d[m]) + fabs(d[m + 1]);
                if (fabs(e[m]) <= 0x1p-53 * dd) break;
            }
            if (m == l) break;
            if (iter++ == 30) return 1;
            double g = (d[l + 1] - d[l]) / (2.0 * e[l]), r = pythag(g, 1.0);
            g = d[m] - d[l] + e[l] / (g + copysign(r, g));
            double s = 1.0, c = 1.0, p = 0.0;
            int i;
            for (i = m - 1; i >= l; i--) {
                double f = s * e[i], b = c * e[i];
                e[i + 1] = (r = pythag(f, g));
                if (r == 0.0) {   // underflow: deflate and start again
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    break;
                }
                double rinv = 1.0 / r;
                s = f * rinv;
                c = g * rinv;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                d[i + 1] = g + (p = s * r);
                g = c * r - b;
                if (z) {
                    double *zi = z + (size_t)i * n, *zi1 = z + (size_t)(i + 1) * n;
                    for (int k = 0; k < n; k++) {
                        f = zi1[k];
                        zi1[k] = s * zi[k] + c * f;
                        zi[k] = c * zi[k] - s * f;
                    }
                }
            }
            if (r == 0.0 && i >= l) continue;
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        } while (m != l);
    }
    return 0;
}

// A = Q T Q^T (tridiagonalise), T = P diag(w) P^T (tridiagonal_ql), the
// eigenvectors Q P; then sorted into decreasing order (selection sort, columns
// swapped alongside).
int sl_sym_eig(double *A, int n, double *w, int vectors, double *e)   // A: (n, n) cm, w, e: (n)
{
    double *z = A;
    tridiagonalise(A, n, w, e, vectors);
    if (tridiagonal_ql(w, e, n, vectors ? A : NULL)) {
        for (int i = 0; i < n; i++) w[i] = NAN;
        return 1;
    }
    for (int i = 0; i < n - 1; i++) {
        int best = i;
        for (int j = i + 1; j < n; j++)
            if (w[j] > w[best]) best = j;
        if (best == i) continue;
        double t = w[i];
        w[i] = w[best], w[best] = t;
        if (vectors)
            for (int k = 0; k < n; k++) {
                t = Z(k, i);
                Z(k, i) = Z(k, best), Z(k, best) = t;
            }
    }
    return 0;
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
// 3.5x faster than the full QL at n = 12.  Returns 1 without convergence in
// 100 iterations (the caller falls back to QL).
static int lambda_max_tridiagonal(const double *d, const double *e, int n, double *out)
{
    double bound = 0.0;
    for (int i = 0; i < n; i++) {
        double g = fabs(d[i]) + (i > 0 ? fabs(e[i]) : 0.0) + (i + 1 < n ? fabs(e[i + 1]) : 0.0);
        if (g > bound) bound = g;
    }
    *out = 0.0;
    if (bound == 0.0) return 0;
    double inv = 1.0 / bound, x = 1.0 + 0x1p-20;
    for (int it = 0; it < 100; it++) {
        double piv = d[0] * inv - x, dp = -1.0, dpp = 0.0, G = 0.0, H = 0.0;
        for (int i = 0;; i++) {
            if (!(piv < 0.0)) {
                *out = x * bound;
                return 0;
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
        *out = x * bound;
        if (!(next < x)) return 0;
        x = next;
        *out = x * bound;
        if (step <= 0x1p-53 * x) return 0;
    }
    return 1;
}

// Tridiagonalise, then lambda_max_tridiagonal (QL if that does not converge).
int sl_sym_eig_max(double *A, int n, double *out, double *d, double *e)   // A: (n, n) cm; d, e: (n)
{
    tridiagonalise(A, n, d, e, 0);
    if (!lambda_max_tridiagonal(d, e, n, out)) return 0;
    if (tridiagonal_ql(d, e, n, NULL)) {
        *out = NAN;
        return 1;
    }
    *out = d[0];
    for (int i = 1; i < n; i++)
        if (d[i] > *out) *out = d[i];
    return 0;
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
// lambda_max as in sl_sym_eig_max, then one Sturm count on the tridiagonal T:
// the LDL^T pivots of T - x I, p_0 = d_0 - x, p_i = d_i - x - e_i^2 / p_{i-1},
// have as many negative entries as T has eigenvalues below x (Sylvester's law
// of inertia; a zero pivot is taken as -tiny: x counts as above).  The count is
// exact for a matrix within about n eps ||G|| of G, as the eigenvalues are.
int sl_gram_rank(const double *X, int m, int n, double rel, double *gram, double *d,
                 double *e)   // X: (m, n) cm, gram: (n, n), d, e: (n)
{
    sl_gram(X, m, n, gram);
    tridiagonalise(gram, n, d, e, 0);
    double lmax;
    if (lambda_max_tridiagonal(d, e, n, &lmax)) {
        if (tridiagonal_ql(d, e, n, NULL)) return -1;
        int rank = 0;
        lmax = d[0];
        for (int i = 1; i < n; i++) lmax = d[i] > lmax ? d[i] : lmax;
        for (int i = 0; i < n && lmax > 0.0; i++) rank += d[i] > rel * rel * lmax;
        return rank;
    }
    if (!(lmax > 0.0)) return 0;
    double x = rel * rel * lmax, piv = d[0] - x;
    int below = 0;
    for (int i = 0;; i++) {
        if (piv == 0.0) piv = -0x1p-1000;
        below += piv < 0.0;
        if (i + 1 == n) break;
        piv = d[i + 1] - x - e[i + 1] * e[i + 1] / piv;
    }
    return n - below;
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
