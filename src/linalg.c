// linalg.c: checked wrappers over CBLAS (OpenBLAS) and LAPACKE.
//
// Nothing here is clever: each routine states the mathematics it computes
// and hands the work to a library routine.
#include "linalg.h"

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "par.h"

int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);

// ---------------------------------------------------------------------------
// BLAS level 3 and norms

// C = alpha op(A) op(B) + beta C; C: (m, n), op(A): (m, p), op(B): (p, n).
void mm(char ta, char tb, int m, int n, int p, double alpha, const double *A,
        const double *B, double beta, double *C)
{
    if (m == 0 || n == 0) return;
    int lda = (ta == 'N') ? p : m;
    int ldb = (tb == 'N') ? n : p;
    cblas_dgemm(CblasRowMajor, ta == 'N' ? CblasNoTrans : CblasTrans,
                tb == 'N' ? CblasNoTrans : CblasTrans, m, n, p, alpha, A, lda, B, ldb,
                beta, C, n);
}

// ---------------------------------------------------------------------------
// Bits independent of BLAS's thread count (linalg.h)

// The serial sections' depth and the count BLAS had when the outermost began
// (per thread: a worker inside another thread's section sees BLAS at one
// thread already and changes nothing).
static _Thread_local int serial_depth, serial_saved;

void blas_serial_begin(void)
{
    if (serial_depth++ > 0) return;
    serial_saved = openblas_get_num_threads();
    if (serial_saved != 1) openblas_set_num_threads(1);
}

void blas_serial_end(void)
{
    if (--serial_depth > 0) return;
    if (serial_saved != 1) openblas_set_num_threads(serial_saved);
}

int blas_budget(void)
{
    return serial_depth > 0 ? serial_saved : openblas_get_num_threads();
}

// A tile of C: 256 rows x 1024 columns keeps a single-threaded dgemm near its
// peak (its panels of op(B) are reused over 256 rows) and still gives a (4096,
// 4096) C 64 pieces to share; sum pieces of >= 4096 terms, at most 16 of them,
// bound the partial products' memory by 16 x 65536 doubles (8 MB).
#define MM_TILE_ROWS 256
#define MM_TILE_COLS 1024
#define MM_CHUNK 4096
#define MM_MAX_CHUNKS 16
#define MM_CHUNK_MAX_MN 65536
#define TRMM_COLS 256   // columns of Y per dtrmm (trmm_upper_fixed)

typedef struct {
    char ta, tb;
    int m, n, p;
    double alpha, beta;
    const double *A, *B;
    double *C;
    int tcols;        // tiles per row of tiles
    int clen;         // terms per sum piece (pieces mode), 0 in tiles mode
    double *P;        // (pieces, m, n) partial products (pieces mode)
} mm_job;

// op(A)[i0.., k0..] and op(B)[k0.., j0..] as pointers with their leading
// dimensions (row-major; op(A): (m, p) is A: (m, p) or A: (p, m) transposed).
static const double *op_at(const double *X, char t, int rows_ld, int cols_ld, int i, int j)
{
    return t == 'N' ? X + (size_t)i * cols_ld + j : X + (size_t)j * rows_ld + i;
}

static void gemm1(const mm_job *j, int i0, int mi, int j0, int nj, int k0, int pk,
                  double alpha, double beta, double *C, int ldc)
{
    int lda = j->ta == 'N' ? j->p : j->m, ldb = j->tb == 'N' ? j->n : j->p;
    const double *a = op_at(j->A, j->ta, j->m, j->p, i0, k0);   // op(A): (m, p)
    const double *b = op_at(j->B, j->tb, j->p, j->n, k0, j0);   // op(B): (p, n)
    cblas_dgemm(CblasRowMajor, j->ta == 'N' ? CblasNoTrans : CblasTrans,
                j->tb == 'N' ? CblasNoTrans : CblasTrans, mi, nj, pk, alpha, a, lda, b, ldb,
                beta, C, ldc);
}

static void mm_piece(void *ctx, int t)
{
    mm_job *j = ctx;
    blas_serial_begin();   // a worker thread: BLAS is at one thread already
    if (j->clen) {         // sum piece t into P_t = op(A)_t op(B)_t
        int k0 = t * j->clen, pk = j->p - k0 < j->clen ? j->p - k0 : j->clen;
        gemm1(j, 0, j->m, 0, j->n, k0, pk, 1.0, 0.0, j->P + (size_t)t * j->m * j->n, j->n);
    } else {               // tile t of C
        int i0 = t / j->tcols * MM_TILE_ROWS, j0 = t % j->tcols * MM_TILE_COLS;
        int mi = j->m - i0 < MM_TILE_ROWS ? j->m - i0 : MM_TILE_ROWS;
        int nj = j->n - j0 < MM_TILE_COLS ? j->n - j0 : MM_TILE_COLS;
        gemm1(j, i0, mi, j0, nj, 0, j->p, j->alpha, j->beta, j->C + (size_t)i0 * j->n + j0,
              j->n);
    }
    blas_serial_end();
}

void mm_fixed(char ta, char tb, int m, int n, int p, double alpha, const double *A,
              const double *B, double beta, double *C)
{
    if (m == 0 || n == 0) return;
    size_t mn = (size_t)m * n;
    if (p == 0) {   // C = beta C
        for (size_t i = 0; i < mn; i++) C[i] = beta == 0.0 ? 0.0 : beta * C[i];
        return;
    }
    int threads = blas_budget();
    mm_job j = {ta, tb, m, n, p, alpha, beta, A, B, C, (n + MM_TILE_COLS - 1) / MM_TILE_COLS,
                0, NULL};
    int tiles = (m + MM_TILE_ROWS - 1) / MM_TILE_ROWS * j.tcols;
    blas_serial_begin();
    if (tiles == 1 && p >= 2 * MM_CHUNK && mn <= MM_CHUNK_MAX_MN) {
        int q = (p + MM_CHUNK - 1) / MM_CHUNK;
        q = q < MM_MAX_CHUNKS ? q : MM_MAX_CHUNKS;
        j.clen = (p + q - 1) / q;
        q = (p + j.clen - 1) / j.clen;
        j.P = dalloc((size_t)q * mn);
        par_for(q, threads, mm_piece, &j);
        for (int c = 1; c < q; c++) {
            const double *Pc = j.P + (size_t)c * mn;
            for (size_t i = 0; i < mn; i++) j.P[i] += Pc[i];
        }
        for (size_t i = 0; i < mn; i++)
            C[i] = beta == 0.0 ? alpha * j.P[i] : beta * C[i] + alpha * j.P[i];
        free(j.P);
    } else {
        par_for(tiles, threads, mm_piece, &j);
    }
    blas_serial_end();
}

typedef struct {
    char trans;
    int d, c;
    double alpha;
    const double *R;
    double *Y;
} trmm_job;

static void trmm_piece(void *ctx, int t)
{
    trmm_job *j = ctx;
    int j0 = t * TRMM_COLS, nj = j->c - j0 < TRMM_COLS ? j->c - j0 : TRMM_COLS;
    blas_serial_begin();
    cblas_dtrmm(CblasRowMajor, CblasLeft, CblasUpper, j->trans == 'N' ? CblasNoTrans : CblasTrans,
                CblasNonUnit, j->d, nj, j->alpha, j->R, j->d, j->Y + j0, j->c);
    blas_serial_end();
}

void trmm_upper_fixed(char trans, int d, int c, double alpha, const double *R, double *Y)
{
    if (d == 0 || c == 0) return;
    trmm_job j = {trans, d, c, alpha, R, Y};
    int threads = blas_budget();
    blas_serial_begin();
    par_for((c + TRMM_COLS - 1) / TRMM_COLS, threads, trmm_piece, &j);
    blas_serial_end();
}

// <x, y> for x, y: (len) by ddot in consecutive pieces of DOT_PIECE entries,
// added in piece order: OpenBLAS splits one ddot of more than 10000 entries
// among its threads (x86_64 kernels), which would make the bits depend on the
// thread count; a piece never is.  Thread-safe (no BLAS thread count changes).
#define DOT_PIECE 8192
static double dot_fixed(const double *x, const double *y, size_t len)
{
    double s = 0.0;
    for (size_t i = 0; i < len; i += DOT_PIECE) {
        size_t m = len - i < DOT_PIECE ? len - i : DOT_PIECE;
        s += cblas_ddot((long)m, x + i, 1, y + i, 1);
    }
    return s;
}

// ||X||_F for X: (m, n) = sqrt(<X, X>) by ddot (fast); when that underflows
// to 0 or overflows (entries beyond ~1e+-154) the scaled dnrm2 is used.
double fro(const double *X, int m, int n)
{
    double s = dot_fixed(X, X, (size_t)m * n);
    if (s > 0 && isfinite(s) && s > 1e-290) return sqrt(s);
    return cblas_dnrm2((long)m * n, X, 1);
}

// ||X - Y||_F, accumulated with scaling like dnrm2.
double fro_diff(const double *X, const double *Y, int m, int n)
{
    double scale = 0.0, ssq = 1.0;
    size_t len = (size_t)m * n;
    for (size_t i = 0; i < len; i++) {
        double v = fabs(X[i] - Y[i]);
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

// <X, Y> = sum_ij X_ij Y_ij.
double fro_dot(const double *X, const double *Y, int m, int n)
{
    return dot_fixed(X, Y, (size_t)m * n);
}

// ---------------------------------------------------------------------------
// SVD and quantities derived from it

// M = U diag(S) Vt (thin), by LAPACK's divide-and-conquer dgesdd on a copy.
int svd_thin(const double *M, int m, int n, double *U, double *S, double *Vt, lerr *e)
{
    int q = m < n ? m : n;
    double *Mc = xmalloc(sizeof(double) * (size_t)m * n);
    memcpy(Mc, M, sizeof(double) * (size_t)m * n);
    int want = (U || Vt);
    double *Uw = U, *Vw = Vt, *Ut = NULL, *Vtt = NULL;
    if (want && !U) Uw = Ut = xmalloc(sizeof(double) * (size_t)m * q);
    if (want && !Vt) Vw = Vtt = xmalloc(sizeof(double) * (size_t)q * n);
    double dummy[1] = {0.0};   // LAPACKE checks ldu >= q, ldvt >= n even for jobz = 'N'
    blas_serial_begin();   // LAPACK's bits must not depend on the thread count
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, want ? 'S' : 'N', m, n, Mc, n, S,
                                     want ? Uw : dummy, q, want ? Vw : dummy, n);
    blas_serial_end();
    free(Mc);
    free(Ut);
    free(Vtt);
    if (info != 0)
        return lerr_run(e, "SVD of a %dx%d matrix failed (LAPACK dgesdd info %d)", m, n,
                        (int)info);
    return 0;
}

// ||M||_op = s_1(M).
int op_norm(const double *M, int m, int n, double *out, lerr *e)
{
    int q = m < n ? m : n;
    double *S = dalloc((size_t)q);
    int rc = svd_thin(M, m, n, NULL, S, NULL, e);
    *out = rc ? NAN : S[0];
    free(S);
    return rc;
}

// #{ i : s_i > max(m, n) eps s_1 }.
int numerical_rank(const double *M, int m, int n)
{
    int q = m < n ? m : n;
    double *S = dalloc((size_t)q);
    lerr e;
    if (svd_thin(M, m, n, NULL, S, NULL, &e)) {
        free(S);
        return -1;
    }
    double tol = (m > n ? m : n) * DBL_EPSILON * S[0];
    int r = 0;
    while (r < q && S[r] > tol) r++;
    free(S);
    return r;
}

// ||(I - U U^T) V||_op with U: (n, p), V: (n, q): the residual R = V - U (U^T V)
// is formed explicitly so tiny angles are not lost to cancellation.
int sin_max_angle(const double *U, int p, const double *V, int q, int n, double *out,
                  lerr *e)
{
    double *C = dalloc((size_t)p * q);   // (p, q)
    double *R = dalloc((size_t)n * q);   // (n, q)
    memcpy(R, V, sizeof(double) * (size_t)n * q);
    mm_fixed('T', 'N', p, q, n, 1.0, U, V, 0.0, C);
    mm_fixed('N', 'N', n, q, p, -1.0, U, C, 1.0, R);
    int rc = op_norm(R, n, q, out, e);
    free(C);
    free(R);
    return rc;
}

// First q left singular vectors of M: (m, n), into Q: (m, q).
int top_left_subspace(const double *M, int m, int n, int q, double *Q, lerr *e)
{
    int mn = m < n ? m : n;
    double *U = xmalloc(sizeof(double) * (size_t)m * mn);
    double *S = dalloc((size_t)mn);
    int rc = svd_thin(M, m, n, U, S, NULL, e);
    if (rc == 0) {
        for (int i = 0; i < m; i++)
            memcpy(Q + (size_t)i * q, U + (size_t)i * mn, sizeof(double) * q);
        if (!(S[q - 1] > 0.0)) rc = 1;
    }
    free(U);
    free(S);
    return rc;
}

// ---------------------------------------------------------------------------
// Symmetric positive definite solves, M = L L^T by Cholesky (dpotrf).

static int cholesky(const double *M, int r, double *L)
{
    memcpy(L, M, sizeof(double) * (size_t)r * r);
    return LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', r, L, r) != 0;
}

// X M = G  <=>  X = G L^{-T} L^{-1};  G: (m, r) overwritten by X; work: r*r.
int spd_solve_right(const double *M, int r, double *G, int m, double *work)
{
    blas_serial_begin();
    int rc = cholesky(M, r, work);
    if (!rc) {
        cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, m, r, 1.0,
                    work, r, G, r);
        cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, m, r,
                    1.0, work, r, G, r);
    }
    blas_serial_end();
    return rc;
}

// M X = G  <=>  X = L^{-T} L^{-1} G;  G: (r, m) overwritten by X; work: r*r.
int spd_solve_left(const double *M, int r, double *G, int m, double *work)
{
    blas_serial_begin();
    int rc = cholesky(M, r, work);
    if (!rc) {
        cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, r, m, 1.0,
                    work, r, G, m);
        cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, r, m, 1.0,
                    work, r, G, m);
    }
    blas_serial_end();
    return rc;
}

// ---------------------------------------------------------------------------
// Column-major kernels for small matrices (see linalg.h)

// X = Q R by Householder reflections (dgeqrf); X: (m, n) cm.
int qr_cm(double *X, int m, int n, double *tau, double *work, int lwork)
{
    blas_serial_begin();
    int info = (int)LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, m, n, X, m, tau, work, lwork);
    blas_serial_end();
    return info;
}

// Y <- H_1 ... H_nr Y (dormqr, side L, no transpose); QR: (m, nr), Y: (m, c) cm.
int qr_apply_cm(const double *QR, int m, int nr, const double *tau, double *Y, int c,
                double *work, int lwork)
{
    blas_serial_begin();
    int info = (int)LAPACKE_dormqr_work(LAPACK_COL_MAJOR, 'L', 'N', m, c, nr, QR, m, tau, Y,
                                        m, work, lwork);
    blas_serial_end();
    return info;
}

// X = U diag(S) V^T: values by divide and conquer (dgesdd, jobz N); with the
// left vectors by QR iteration (dgesvd, jobu S, jobvt N: V is never formed).
int svd_cm(double *X, int m, int n, double *S, double *U, double *work, int lwork,
           int *iwork)
{
    double dummy[1] = {0.0};
    blas_serial_begin();
    int info = !U ? (int)LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'N', m, n, X, m, S, dummy, 1,
                                             dummy, 1, work, lwork, iwork)
                  : (int)LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'S', 'N', m, n, X, m, S, U, m,
                                             dummy, 1, work, lwork);
    blas_serial_end();
    return info;
}

// X^T X by dsyrk, its eigenvalues by dsyev (ascending), S_i = sqrt(lambda_{n-i})
// (rounding can leave a tiny negative lambda: 0); all nan if dsyev fails.
int gram_svals_cm(const double *X, int m, int n, double *gram, double *S, double *work,
                  int lwork)
{
    blas_serial_begin();
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, n, m, 1.0, X, m, 0.0, gram, n);
    int info = (int)LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'N', 'U', n, gram, n, S, work, lwork);
    blas_serial_end();
    for (int i = 0; i < n / 2; i++) {
        double t = S[i];
        S[i] = S[n - 1 - i], S[n - 1 - i] = t;
    }
    for (int i = 0; i < n; i++) S[i] = info ? NAN : sqrt(S[i] > 0 ? S[i] : 0.0);
    return info;
}

// s_1(X)^2 = lambda_max(X^T X): the Gram matrix of the explicitly formed X
// (dsyrk) carries an error of at most ~m eps ||X||^2 in norm, so its largest
// eigenvalue (dsyev, values only) -- and s_1 -- keep full relative accuracy,
// small s_1 included (unlike the smallest singular values).  Entries are
// assumed above ~1e-150 in magnitude or exactly zero (no underflow in X^T X).
int op_norm_cm(const double *X, int m, int n, double *gram, double *W, double *out,
               double *work, int lwork)
{
    int info = gram_svals_cm(X, m, n, gram, W, work, lwork);
    *out = W[0];
    return info;
}


// Workspace sizes by LAPACK's own query (lwork = -1).
int qr_cm_lwork(int m, int n)
{
    double q = 0, dummy[1] = {0};
    LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, m, n, dummy, m, dummy, &q, -1);
    return (int)q + 1;
}

int qr_apply_cm_lwork(int m, int nr, int c)
{
    double q = 0, dummy[1] = {0};
    LAPACKE_dormqr_work(LAPACK_COL_MAJOR, 'L', 'N', m, c, nr, dummy, m, dummy, dummy, m, &q, -1);
    return (int)q + 1;
}

int svd_cm_lwork(int m, int n, int want_u)
{
    double q = 0, dummy[1] = {0};
    int iw[8];
    if (want_u)
        LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'S', 'N', m, n, dummy, m, dummy, dummy, m, dummy,
                            1, &q, -1);
    else
        LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'N', m, n, dummy, m, dummy, dummy, 1, dummy, 1, &q,
                            -1, iw);
    return (int)q + 1;
}

int op_norm_cm_lwork(int m, int n)
{
    (void)m;
    double q = 0, dummy[1] = {0};
    LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'N', 'U', n, dummy, n, dummy, &q, -1);
    return (int)q + 1;
}
