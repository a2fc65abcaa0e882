// meta.c: meta.yaml.
#define _GNU_SOURCE   // dladdr
#include "meta.h"

#include <cblas.h>
#include <dlfcn.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include <gsl/gsl_version.h>

#include "blas_core.h"
#include "build_info.h"
#include "train.h"
#include "version.h"

// OpenBLAS's own introspection (declared in its cblas.h on Debian; declared
// here too so that the build does not depend on that).
char *openblas_get_config(void);
char *openblas_get_corename(void);
int openblas_get_num_threads(void);

const char *blas_library(void)
{
    // ISO C has no conversion from a function pointer to void *; go through
    // a union, which is what dladdr's callers do in practice.
    union {
        void (*fn)(void);
        void *obj;
    } u = {.fn = (void (*)(void))cblas_dgemm};
    Dl_info info;
    if (dladdr(u.obj, &info) && info.dli_fname) return info.dli_fname;
    return "unknown";
}

// A YAML double-quoted scalar.
static void yq(afile *f, const char *s)
{
    afile_printf(f, "\"");
    for (const char *c = s; *c; c++) {
        if (*c == '"' || *c == '\\')
            afile_printf(f, "\\%c", *c);
        else if ((unsigned char)*c < 0x20)
            afile_printf(f, "\\x%02x", (unsigned char)*c);
        else
            afile_printf(f, "%c", *c);
    }
    afile_printf(f, "\"");
}

int meta_write(const char *dir, const run_meta *m, lerr *e)
{
    char *path = path_join(dir, "meta.yaml");
    afile f;
    int rc = afile_open(&f, path, e);
    free(path);
    if (rc) return rc;
    char finished[32], cwd[4096];
    utc_iso8601(finished, sizeof finished);
    if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "unknown");
    afile_printf(&f, "program: loralab\nversion: %s\ncommit: %s\ncompiler: ", LORALAB_VERSION,
                 LORALAB_GIT_COMMIT);
    yq(&f, LORALAB_COMPILER);
    afile_printf(&f, "\ncommand: ");
    yq(&f, m->command);
    afile_printf(&f, "\ncwd: ");
    yq(&f, cwd);
    afile_printf(&f, "\ngsl_version: %s\nlibyaml_version: %s\nblas:\n  library: ", GSL_VERSION,
                 yaml_get_version_string());
    yq(&f, blas_library());
    afile_printf(&f, "\n  config: ");
    yq(&f, openblas_get_config());
    const char *detected, *origin = blas_core_origin(&detected);
    afile_printf(&f, "\n  core: %s\n  core_chosen_by: %s\n", openblas_get_corename(), origin);
    if (detected) afile_printf(&f, "  core_detected: %s\n", detected);
    afile_printf(&f, "  threads: %d\n", m->blas_threads ? m->blas_threads : openblas_get_num_threads());
    afile_printf(&f, "started: %s\nfinished: %s\nseconds: %.3f\n", m->started, finished,
                 now_seconds() - m->t0);
    _Static_assert(sizeof m->status / sizeof m->status[0] == RUN_NSTATUS, "status counts");
    afile_printf(&f, "sweep:\n  cells: %d\n", m->cells);
    if (m->shard_n) afile_printf(&f, "  shard_cells: %d\n", m->shard_cells);
    if (m->nmerged) {
        afile_printf(&f, "  merged:\n");
        for (int i = 0; i < m->nmerged; i++) {
            afile_printf(&f, "    - ");
            yq(&f, m->merged[i]);
            afile_printf(&f, "\n");
        }
    } else {
        afile_printf(&f, "  cells_run: %d\n  cells_reused: %d\n  cells_not_run: %d\n  workers: %d\n",
                     m->cells_run, m->cells_reused, m->cells_not_run, m->workers);
        if (m->shard_n)
            afile_printf(&f, "  shard: \"%d/%d\"\n", m->shard_i, m->shard_n);
        else
            afile_printf(&f, "  shard: none\n");
    }
    afile_printf(&f, "  status:               # summary.csv's rows by status\n");
    for (int i = 0; i < RUN_NSTATUS; i++)
        afile_printf(&f, "    %s: %d\n", run_status_names[i], m->status[i]);
    return afile_commit(&f, e);
}
