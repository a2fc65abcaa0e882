// test_blas_origin.c: the cblas_* symbols come from OpenBLAS, not from GSL's
// reference libgslcblas (which GSL's pkg-config file would link), and dgemm
// computes a product that we check by hand.
#include <string.h>

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
    return check_summary("test_blas_origin");
}
