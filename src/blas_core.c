// blas_core.c: choosing OpenBLAS's kernels when it did not recognise the CPU
// (blas_core.h).
#include "blas_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *openblas_get_corename(void);

// Set in the re-executed process: the kernels OpenBLAS had detected.
#define CHOSEN_FROM "LORALAB_BLAS_CORE_FROM"

const char *blas_core_pick(const char *core, int avx512, int avx2_fma, const char *coretype_env,
                           const char *keep_env, int under_valgrind)
{
    if (!core || strcmp(core, "Prescott") || coretype_env || keep_env || under_valgrind)
        return NULL;
    return avx512 ? "SkylakeX" : avx2_fma ? "Haswell" : NULL;
}

const char *blas_core_for_cpu(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();   // (libgcc also checks that the OS saves the AVX state)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}

// valgrind preloads its vgpreload_*.so into the programs it runs.
static int under_valgrind(void)
{
    const char *pre = getenv("LD_PRELOAD");
    return pre && strstr(pre, "vgpreload") != NULL;
}

void blas_core_choose(char **argv)
{
    const char *want = blas_core_for_cpu();
    const char *pick = blas_core_pick(openblas_get_corename(), want && !strcmp(want, "SkylakeX"),
                                      want != NULL, getenv("OPENBLAS_CORETYPE"),
                                      getenv("LORALAB_BLAS_CORE"), under_valgrind());
    if (!pick) return;
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return;
    self[len] = '\0';
    if (setenv("OPENBLAS_CORETYPE", pick, 1) || setenv(CHOSEN_FROM, openblas_get_corename(), 1))
        return;
    fflush(NULL);
    execv(self, argv);
    unsetenv("OPENBLAS_CORETYPE");   // exec failed: go on with the kernels loaded
    unsetenv(CHOSEN_FROM);
}

const char *blas_core_origin(const char **detected)
{
    const char *from = getenv(CHOSEN_FROM), *env = getenv("OPENBLAS_CORETYPE");
    if (detected) *detected = from && env ? from : NULL;
    return from && env ? "loralab" : env ? "OPENBLAS_CORETYPE" : "openblas";
}

const char *blas_core_description(void)
{
    static char buf[256];
    const char *from, *origin = blas_core_origin(&from), *core = openblas_get_corename();
    if (!strcmp(origin, "loralab"))
        snprintf(buf, sizeof buf,
                 "%s (set by loralab: OpenBLAS detected %s, its generic kernels, on this CPU; "
                 "LORALAB_BLAS_CORE=keep keeps them)", core, from);
    else if (!strcmp(origin, "OPENBLAS_CORETYPE"))
        snprintf(buf, sizeof buf, "%s (OPENBLAS_CORETYPE=%s)", core, getenv("OPENBLAS_CORETYPE"));
    else
        snprintf(buf, sizeof buf, "%s", core);
    return buf;
}
