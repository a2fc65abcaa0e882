// main.c: the loralab command line.
//
//   loralab run FILE [-o DIR] [--set key=value ...] [--force] [--quiet]
//   loralab version
//   loralab help
//
// Exit status: 0 success, 1 a run failed, 2 bad input (nothing written).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "build_info.h"
#include "config.h"
#include "meta.h"
#include "run.h"
#include "version.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: loralab run FILE [-o DIR] [--set key=value ...] [--force] [--quiet]\n"
            "       loralab version\n"
            "       loralab help\n"
            "\n"
            "run     run the experiment described by FILE (YAML) and write trace.csv,\n"
            "        summary.csv, config.yaml and meta.yaml to DIR (default results/NAME)\n"
            "  -o DIR          output folder\n"
            "  --set KEY=VAL   override any key, VAL in YAML syntax (repeatable),\n"
            "                  e.g. --set optimizer.lr=0.1 --set lora.rank=4\n"
            "  --force         overwrite a non-empty output folder\n"
            "  --quiet         no progress lines on stderr\n"
            "\n"
            "exit status: 0 success, 1 a run failed, 2 bad input\n");
}

// The command line joined with spaces, for meta.yaml.
static char *join_args(int argc, char **argv)
{
    size_t n = 1;
    for (int i = 0; i < argc; i++) n += strlen(argv[i]) + 1;
    char *s = xmalloc(n);
    s[0] = '\0';
    for (int i = 0; i < argc; i++) {
        strcat(s, argv[i]);
        if (i + 1 < argc) strcat(s, " ");
    }
    return s;
}

static int fail(const lerr *e)
{
    fprintf(stderr, "loralab: %s\n", e->msg);
    return e->kind == LERR_INPUT ? EXIT_INPUT : EXIT_RUN;
}

static int cmd_run(int argc, char **argv, char *command)
{
    const char *file = NULL;
    run_opts o = {.command = command};
    char **sets = xcalloc((size_t)argc, sizeof *sets);
    int nsets = 0;
    lerr e = {0};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--set")) {
            if (i + 1 >= argc) {
                free(sets);
                lerr_input(&e, "%s needs a value", a);
                return fail(&e);
            }
            if (!strcmp(a, "--set"))
                sets[nsets++] = argv[++i];
            else
                o.out_dir = argv[++i];
        } else if (!strncmp(a, "--set=", 6)) {
            sets[nsets++] = (char *)a + 6;
        } else if (!strcmp(a, "--force")) {
            o.force = 1;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o.quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            free(sets);
            lerr_input(&e, "unknown option %s (see 'loralab help')", a);
            return fail(&e);
        } else if (!file) {
            file = a;
        } else {
            free(sets);
            lerr_input(&e, "more than one experiment file given (%s and %s)", file, a);
            return fail(&e);
        }
    }
    if (!file) {
        free(sets);
        usage(stderr);
        return EXIT_INPUT;
    }
    spec s;
    int rc = config_load(file, sets, nsets, &s, &e);
    free(sets);
    if (rc) return fail(&e);
    rc = run_experiment(&s, &o, &e);
    spec_free(&s);
    return rc ? fail(&e) : EXIT_OK;
}

int main(int argc, char **argv)
{
    // GSL's default handler aborts; every GSL status is checked instead.
    gsl_set_error_handler_off();
    if (argc < 2) {
        usage(stderr);
        return EXIT_INPUT;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("loralab %s (commit %s, %s, BLAS %s)\n", LORALAB_VERSION, LORALAB_GIT_COMMIT,
               LORALAB_COMPILER, blas_library());
        return EXIT_OK;
    }
    if (!strcmp(cmd, "run")) {
        char *command = join_args(argc, argv);
        int rc = cmd_run(argc - 2, argv + 2, command);
        free(command);
        return rc;
    }
    fprintf(stderr, "loralab: unknown command '%s' (see 'loralab help')\n", cmd);
    return EXIT_INPUT;
}
