// blas_core.h: OpenBLAS's kernels on a CPU it does not recognise.
//
// OpenBLAS built for many CPUs (DYNAMIC_ARCH, as Debian's package is) picks
// its kernels when it is loaded, from the CPU it detects.  A CPU newer than
// the library (for Debian 12's OpenBLAS 0.3.21: the Intel Xeon of family 6,
// model 207, with AVX-512, we develop on) is not recognised, and OpenBLAS falls back
// to its generic Prescott kernels (SSE3): dgemm several times slower (measured
// on such a Xeon, one thread, n = 1024: 12-15 GFLOP/s against 36-38 with the
// Haswell kernels and 64-66 with SkylakeX).  The variable OPENBLAS_CORETYPE,
// read when the library is loaded, selects other kernels.
//
// blas_core_choose(), called first in main(), runs loralab again (execv of
// the same executable, same arguments) with OPENBLAS_CORETYPE set to the
// kernels this CPU runs, when and only when
//   - OpenBLAS reports Prescott, its fallback for an unrecognised CPU;
//   - the CPU has AVX-512 (F, BW, DQ, VL: SkylakeX) or AVX2 with FMA
//     (Haswell), and the operating system enables them;
//   - neither OPENBLAS_CORETYPE (the user's choice) nor LORALAB_BLAS_CORE
//     is set (LORALAB_BLAS_CORE=keep keeps OpenBLAS's own choice);
//   - the process is not running under valgrind (which emulates no AVX-512,
//     and whose tools a new executable image would leave).
// Other kernels round differently (other blockings, fused multiply-adds), as
// they do on any other CPU; meta.yaml and `loralab version` say which kernels
// a run used and whether loralab chose them.
#ifndef LORALAB_BLAS_CORE_H
#define LORALAB_BLAS_CORE_H

// The OPENBLAS_CORETYPE for OpenBLAS's current kernels `core` on a CPU with
// the given features, or NULL to leave them: "SkylakeX" (avx512: F, BW, DQ
// and VL) or "Haswell" (avx2_fma: AVX2 and FMA) when core is "Prescott", and
// coretype_env, keep_env (OPENBLAS_CORETYPE, LORALAB_BLAS_CORE) are NULL and
// under_valgrind is 0.  A pure function of its arguments (tests).
const char *blas_core_pick(const char *core, int avx512, int avx2_fma, const char *coretype_env,
                           const char *keep_env, int under_valgrind);

// The kernels OpenBLAS would run best on this CPU ("SkylakeX", "Haswell") or
// NULL (no AVX2: nothing better than what it detects; not x86-64).
const char *blas_core_for_cpu(void);

// Re-execute the program with OPENBLAS_CORETYPE set when blas_core_pick says
// so (see the header); returns (changing nothing) otherwise or if the exec
// fails.  argv: main's, NULL-terminated.
void blas_core_choose(char **argv);

// How the kernels in use were chosen: "openblas" (its own detection),
// "OPENBLAS_CORETYPE" (set by the user) or "loralab" (blas_core_choose; then
// *detected, if not NULL, is what OpenBLAS had detected, else NULL).
const char *blas_core_origin(const char **detected);

// OpenBLAS's kernels in use, with how they were chosen, for meta.yaml and the
// version line: e.g. "SkylakeX (set by loralab: OpenBLAS detected Prescott,
// its generic kernels, on this CPU; LORALAB_BLAS_CORE=keep keeps them)",
// "Prescott (OPENBLAS_CORETYPE)", or just "Haswell" (OpenBLAS's detection).
const char *blas_core_description(void);

#endif
