// main.c: the loralab command line.
//
//   loralab run FILE [-o DIR] [--set key=value ...] [--force] [--quiet]
//   loralab version
//   loralab help
//
// Exit status: 0 success, 1 a run failed, 2 bad input (nothing written).
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "build_info.h"
#include "meta.h"
#include "bench.h"
#include "check.h"
#include "plot.h"
#include "run.h"
#include "version.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: loralab run FILE [-o DIR] [--set key=value ...] [-j N] [--resume | --force]\n"
            "                        [--shard I/N] [--list] [--quiet]\n"
            "       loralab merge DIR SHARD_DIR ... [--force]\n"
            "       loralab plot DIR\n"
            "       loralab check [--quick] [--claims FILE] [-j N] [ID ...]\n"
            "       loralab bench [--reps N] [--list] [NAME ...]\n"
            "       loralab version\n"
            "       loralab help\n"
            "\n"
            "run     run every cell (grid point x seed) of the experiment in FILE (YAML) and\n"
            "        write trace.csv, summary.csv, config.yaml, meta.yaml to DIR\n"
            "  -o DIR          output folder (default results/NAME)\n"
            "  --set KEY=VAL   override any key, VAL in YAML syntax (repeatable),\n"
            "                  e.g. --set optimizer.lr=0.1 --set lora.rank=4\n"
            "  -j N            N worker processes (default 1; BLAS single-threaded in each)\n"
            "  --resume        skip cells already complete in DIR\n"
            "  --force         overwrite a non-empty output folder\n"
            "  --shard I/N     run only cells with index = I-1 (mod N), 1 <= I <= N\n"
            "  --list          print the cells and exit\n"
            "  --plot          plot the results when the run is done (loralab plot)\n"
            "  --quiet         no progress output\n"
            "merge   combine shard folders into DIR, exactly as an unsharded run writes it\n"
            "plot    draw DIR's figures with gnuplot (plots/NAME.gp) as DIR/*.png and *.pdf\n"
            "check   run the experiments of the papers' claims (theory/claims.yaml), evaluate\n"
            "        every predicate, print PASS/FAIL/REPORT and write results/claims.md\n"
            "        (--quick: CI-sized runs in results/quick/); exit 1 if a claim fails\n"
            "bench   time fixed workloads (toy, layer, wide-n, relu, ntk, jobs; --list) against\n"
            "        the machine's dgemm rate: medians of N runs (default 5) after a warm-up\n"
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
    return e->kind == LERR_INPUT ? EXIT_INPUT : e->kind == LERR_INTERRUPTED ? EXIT_INTERRUPTED : EXIT_RUN;
}

// A positive integer option value, or -1.
static int parse_count(const char *v)
{
    char *end;
    long n = strtol(v, &end, 10);
    return (*v && !*end && n >= 1 && n <= 4096) ? (int)n : -1;
}

// "I/N" with 1 <= I <= N.
static int parse_shard(const char *v, int *i, int *n)
{
    char *end;
    long a = strtol(v, &end, 10);
    if (end == v || *end != '/') return -1;
    const char *q = end + 1;
    long b = strtol(q, &end, 10);
    if (end == q || *end || b < 1 || a < 1 || a > b || b > 1000000) return -1;
    *i = (int)a, *n = (int)b;
    return 0;
}

static int cmd_run(int argc, char **argv, char *command)
{
    const char *file = NULL;
    run_opts o = {.command = command, .workers = 1};
    int plot = 0;
    char **sets = xcalloc((size_t)argc + 1, sizeof *sets);
    int nsets = 0;
    lerr e = {0};
    for (int i = 0; i < argc && !e.kind; i++) {
        const char *a = argv[i];
        int takes = !strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--set") ||
                    !strcmp(a, "-j") || !strcmp(a, "--jobs") || !strcmp(a, "--shard");
        const char *v = takes && i + 1 < argc ? argv[i + 1] : NULL;
        if (takes && !v) {
            lerr_input(&e, "%s needs a value", a);
        } else if (takes) {
            i++;
            if (!strcmp(a, "--set"))
                sets[nsets++] = (char *)v;
            else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) {
                if ((o.workers = parse_count(v)) < 0)
                    lerr_input(&e, "-j takes a number of workers from 1 to 4096, got '%s'", v);
            } else if (!strcmp(a, "--shard")) {
                if (parse_shard(v, &o.shard_i, &o.shard_n))
                    lerr_input(&e, "--shard takes I/N with 1 <= I <= N, got '%s'", v);
            } else
                o.out_dir = v;
        } else if (!strncmp(a, "--set=", 6)) {
            sets[nsets++] = (char *)a + 6;
        } else if (!strncmp(a, "-j", 2) && a[2]) {
            if ((o.workers = parse_count(a + 2)) < 0)
                lerr_input(&e, "-j takes a number of workers from 1 to 4096, got '%s'", a + 2);
        } else if (!strcmp(a, "--force")) {
            o.force = 1;
        } else if (!strcmp(a, "--resume")) {
            o.resume = 1;
        } else if (!strcmp(a, "--plot")) {
            plot = 1;
        } else if (!strcmp(a, "--list")) {
            o.list = 1;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o.quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            lerr_input(&e, "unknown option %s (see 'loralab help')", a);
        } else if (!file) {
            file = a;
        } else {
            lerr_input(&e, "more than one experiment file given (%s and %s)", file, a);
        }
    }
    if (!e.kind && o.force && o.resume) lerr_input(&e, "--force and --resume exclude each other");
    if (!e.kind && !file) {
        free(sets);
        usage(stderr);
        return EXIT_INPUT;
    }
    char *dir = NULL;
    int rc = e.kind ? -1 : run_experiment(file, sets, nsets, &o, &dir, &e);
    free(sets);
    if (!rc && plot && !o.list) rc = plot_results(dir, o.quiet, &e);
    free(dir);
    return rc ? fail(&e) : EXIT_OK;
}

static int cmd_check(int argc, char **argv, char *command)
{
    check_opts o = {.workers = 1, .command = command};
    char **ids = xcalloc((size_t)argc + 1, sizeof *ids);
    lerr e = {0};
    for (int i = 0; i < argc && !e.kind; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--quick"))
            o.quick = 1;
        else if (!strcmp(a, "--claims") && i + 1 < argc)
            o.claims = argv[++i];
        else if (!strcmp(a, "-j") && i + 1 < argc) {
            if ((o.workers = parse_count(argv[++i])) < 0)
                lerr_input(&e, "-j takes a number of workers from 1 to 4096, got '%s'", argv[i]);
        } else if (a[0] == '-')
            lerr_input(&e, "unknown option %s for check (see 'loralab help')", a);
        else
            ids[o.nids++] = argv[i];
    }
    o.ids = ids;
    int rc = e.kind ? -1 : check_claims(&o, &e);
    free(ids);
    if (rc == 1) {
        fprintf(stderr, "loralab: %s\n", e.msg);
        return EXIT_RUN;
    }
    return rc ? fail(&e) : EXIT_OK;
}

static int cmd_merge(int argc, char **argv, char *command)
{
    int force = 0, n = 0;
    char **dirs = xcalloc((size_t)argc + 1, sizeof *dirs);
    lerr e = {0};
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--force"))
            force = 1;
        else if (argv[i][0] == '-')
            lerr_input(&e, "unknown option %s for merge", argv[i]);
        else
            dirs[n++] = argv[i];
    }
    if (!e.kind && n < 2) lerr_input(&e, "usage: loralab merge DIR SHARD_DIR ... [--force]");
    int rc = e.kind ? -1 : merge_shards(dirs[0], dirs + 1, n - 1, force, command, &e);
    if (!rc) fprintf(stderr, "loralab: merged %d shard folder(s) into %s/\n", n - 1, dirs[0]);
    free(dirs);
    return rc ? fail(&e) : EXIT_OK;
}

int main(int argc, char **argv)
{
    // GSL's default handler aborts; every GSL status is checked instead.
    gsl_set_error_handler_off();
    // A file-size limit (ulimit -f) then surfaces as a write error (EFBIG)
    // that names the file, instead of killing the process.
    signal(SIGXFSZ, SIG_IGN);
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
    if (!strcmp(cmd, "bench")) return bench_main(argv + 2, argc - 2);
    if (!strcmp(cmd, "plot")) {
        lerr e = {0};
        return plot_command(argc - 2, argv + 2, &e) ? fail(&e) : EXIT_OK;
    }
    if (!strcmp(cmd, "run") || !strcmp(cmd, "merge") || !strcmp(cmd, "check")) {
        char *command = join_args(argc, argv);
        int rc = !strcmp(cmd, "run")     ? cmd_run(argc - 2, argv + 2, command)
                 : !strcmp(cmd, "merge") ? cmd_merge(argc - 2, argv + 2, command)
                                         : cmd_check(argc - 2, argv + 2, command);
        free(command);
        return rc;
    }
    fprintf(stderr, "loralab: unknown command '%s' (see 'loralab help')\n", cmd);
    return EXIT_INPUT;
}
