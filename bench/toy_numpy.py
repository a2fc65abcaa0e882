#!/usr/bin/env python3
"""The `loralab bench toy` sweep written in NumPy, for comparison (issue 18).

Same shapes, steps and per-step work as the `toy` workload (src/bench.c):
linear teacher d = k = 100, N = 1600, rank 4; LoRA rank 8, init `lora`
(A ~ N(0, alpha2), B = 0) for alpha2 in 1, 0.1, 0.01, 0.001, 0.0001; 1500 GD
steps at lr 1/64 on L = 1/2 ||Rs A B - C||_F^2 (Rs = R / sqrt(N) from the QR
of X, C = Rs Delta: the sufficient statistics loralab's linear teacher uses);
every step a full metric row computed the way src/metrics.c does (QR of
[A, -Tl] and [B^T, Tr^T], the singular values of R1 R2^T, each factor's
top-4 subspace from the SVD of its R, the four angles from explicitly formed
residuals, balance, grad_norm, rank_ab) and written to a trace.csv with
round-trip exact values (repr).  The data are NumPy's own draws, not
loralab's: the run is the same computation, not the same numbers.

Prints the wall time and the CPU time (process_time: user + system) of the
sweep in seconds (imports and interpreter start-up excluded).  Set OPENBLAS_NUM_THREADS=1 for the one-core comparison (bench does).
"""
import os
import sys
import tempfile
import time

import numpy as np

D = K = 100
N = 1600
RSTAR = 4
R = 8
LR = 0.015625
STEPS = 1500
ALPHA2 = [1, 0.1, 0.01, 0.001, 0.0001]
RANK_REL_TOL = 1e-6
NAMES = ["step", "loss", "risk", "align_a", "align_b", "align_a_star", "align_b_star",
         "grad_norm", "err_op", "balance", "test_loss", "objective", "gap", "cert",
         "rank_ab", "batch_loss"]


def problem(rng):
    """Rs: (d, d) upper, C: (d, k); T = Tl Tr = Delta; G's and Delta's top subspaces."""
    X = rng.standard_normal((N, D))
    Ul = np.linalg.qr(rng.standard_normal((D, RSTAR)))[0]
    Vr = np.linalg.qr(rng.standard_normal((K, RSTAR)))[0]
    sv = np.array([4.0, 3.0, 2.0, 1.0])
    Tl, Tr = Ul * sv, Vr.T.copy()
    Delta = Tl @ Tr
    Rs = np.linalg.qr(X, mode="r") / np.sqrt(N)
    C = Rs @ Delta
    G = Rs.T @ C                       # J(0) = Sigma_hat Delta
    U, _, Vt = np.linalg.svd(G)
    return Rs, C, Tl, Tr, U[:, :RSTAR].copy(), Vt[:RSTAR].T.copy(), Ul, Vr


def angle(Q, ref):
    """||(I - ref ref^T) Q||_op with the residual formed explicitly."""
    P = Q - ref @ (ref.T @ Q)
    return np.linalg.norm(P, 2)


def alignments(QF, RF, refs):
    """Angles of the factor's top-q subspace (QF RF = the factor) to each reference."""
    U, S, _ = np.linalg.svd(RF)
    q = min(R, RSTAR)
    if not S[q - 1] > 0:
        return [float("nan")] * len(refs)
    Q = QF @ U[:, :q]
    return [angle(Q, ref) for ref in refs]


def metrics(A, B, gA, gB, loss, Tl, Tr, refs_a, refs_b):
    M = np.hstack([A, -Tl])
    Nt = np.hstack([B.T, Tr.T])
    QM, RM = np.linalg.qr(M)
    QN, RN = np.linalg.qr(Nt)
    core = RM @ RN.T
    risk = 0.5 * np.sum(core * core)
    err_op = np.linalg.svd(core, compute_uv=False)[0]
    a_g, a_t = alignments(QM[:, :R], RM[:R, :R], refs_a)
    b_g, b_t = alignments(QN[:, :R], RN[:R, :R], refs_b)
    grad_norm = np.sqrt(np.sum(gA * gA) + np.sum(gB * gB))
    balance = np.linalg.norm(A.T @ A - B @ B.T)
    s = np.linalg.svd(RM[:R, :R] @ RN[:R, :R].T, compute_uv=False)
    rank = int(np.sum(s > RANK_REL_TOL * s[0])) if s[0] > 0 else 0
    nan = float("nan")
    return [loss, risk, a_g, b_g, a_t, b_t, grad_norm, err_op, balance, nan, loss, nan, nan,
            float(rank), loss]


def cell(alpha2, seed, out):
    rng = np.random.default_rng(seed)
    Rs, C, Tl, Tr, UG, VG, UD, VD = problem(rng)
    A = rng.standard_normal((D, R)) * np.sqrt(alpha2)
    B = np.zeros((R, K))
    with open(out, "w") as f:
        f.write(",".join(NAMES) + "\n")
        for t in range(STEPS + 1):
            RA = Rs @ A
            Res = RA @ B - C
            loss = 0.5 * np.sum(Res * Res)
            gA = Rs.T @ (Res @ B.T)
            gB = RA.T @ Res
            row = metrics(A, B, gA, gB, loss, Tl, Tr, (UG, UD), (VG, VD))
            f.write(str(t) + "," + ",".join(repr(float(v)) for v in row) + "\n")
            if t < STEPS:
                A = A - LR * gA
                B = B - LR * gB


def main():
    with tempfile.TemporaryDirectory(prefix="loralab-numpy.") as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        for i, a2 in enumerate(ALPHA2):
            cell(a2, i, os.path.join(tmp, "trace%d.csv" % i))
        print("%.6f %.6f" % (time.perf_counter() - t0, time.process_time() - c0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
