// test_blas_origin.c: the cblas_* symbols come from OpenBLAS, not from GSL's
// reference libgslcblas (which GSL's pkg-config file would link), and dgemm
// computes a product that we check by hand.  Then blas_core_pick, the rule
// by which loralab replaces OpenBLAS's generic kernels (blas_core.h), on
// every combination of its inputs.
#include <string.h>

#include "blas_core.h"
#include "check.h"
#include "linalg.h"
#include "meta.h"

int main(void)
{
    const char *lib = blas_library();
    printf("cblas_dgemm comes from %s\n", lib);
    CHECK(strstr(lib, "openblas") != NULL, "cblas_dgemm resolved to %s, not OpenBLAS", lib);
    CHECK(strstr(lib, "gslcblas") == NULL, "cblas_dgemm resolved to GSL's reference CBLAS");
    // [1 2; 3 4] [5 6; 7 8] = [19 22; 43 50]
    double A[] = {1, 2, 3, 4}, B[] = {5, 6, 7, 8}, C[4] = {0};
    mm('N', 'N', 2, 2, 2, 1.0, A, B, 0.0, C);
    CHECK(C[0] == 19 && C[1] == 22 && C[2] == 43 && C[3] == 50, "dgemm result wrong");
    // A^T B = [26 30; 38 44]
    mm('T', 'N', 2, 2, 2, 1.0, A, B, 0.0, C);
    CHECK(C[0] == 26 && C[1] == 30 && C[2] == 38 && C[3] == 44, "dgemm A^T B wrong");
    // blas_core_pick: only Prescott (OpenBLAS's fallback) is replaced, by the
    // best kernels the CPU runs, and only when nobody chose and not under valgrind
    for (int avx512 = 0; avx512 < 2; avx512++)
        for (int avx2 = 0; avx2 < 2; avx2++)
            for (int env = 0; env < 2; env++)
                for (int keep = 0; keep < 2; keep++)
                    for (int vg = 0; vg < 2; vg++) {
                        const char *cores[] = {"Prescott", "Haswell", "SkylakeX", "Zen", "Core2"};
                        for (int c = 0; c < 5; c++) {
                            const char *got = blas_core_pick(cores[c], avx512, avx512 || avx2,
                                                             env ? "Prescott" : NULL,
                                                             keep ? "keep" : NULL, vg);
                            const char *want = c != 0 || env || keep || vg ? NULL
                                               : avx512              ? "SkylakeX"
                                               : avx2                ? "Haswell"
                                                                     : NULL;
                            CHECK(want ? got && !strcmp(got, want) : got == NULL,
                                  "core %s avx512 %d avx2 %d env %d keep %d valgrind %d: got %s, "
                                  "want %s", cores[c], avx512, avx2, env, keep, vg,
                                  got ? got : "NULL", want ? want : "NULL");
                        }
                    }
    CHECK(blas_core_pick(NULL, 1, 1, NULL, NULL, 0) == NULL, "no core name: nothing chosen");
    return check_summary("test_blas_origin");
}
