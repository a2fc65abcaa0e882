// main.c: the loralab command line: one usage text per command
// (`loralab help CMD`, `loralab CMD --help`), then the commands.
//
//   loralab run FILE [options]        loralab plot DIR [options]
//   loralab merge DIR SHARD_DIR ...   loralab check [options] [ID ...]
//   loralab bench [options] [NAME ...]
//   loralab version | help [CMD]
//
// Exit status: 0 success, 1 a run failed, 2 bad input (nothing written),
// 130 interrupted.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "blas_core.h"
#include "build_info.h"
#include "meta.h"
#include "bench.h"
#include "check.h"
#include "plot.h"
#include "run.h"
#include "version.h"

// ---------------------------------------------------------------------------
// Usage texts: the first line of each is the command's synopsis, which the
// overview repeats.

static const char run_usage[] =
    "usage: loralab run FILE [-o DIR] [--set KEY=VALUE ...] [-j N] [--resume | --force] [--shard I/N] [--list] [--plot] [--quiet]\n"
    "\n"
    "Run every cell (grid point x seed) of the experiment in FILE (YAML) and write\n"
    "trace.csv, summary.csv, trace_mean.csv, summary_mean.csv, sweep.gp,\n"
    "config.yaml, meta.yaml and cells/ to DIR, then name DIR (unless --quiet).\n"
    "\n"
    "  -o DIR, --output DIR\n"
    "                  output folder (default results/NAME/ under the current\n"
    "                  directory, NAME being the experiment's name: key)\n"
    "  --set KEY=VALUE\n"
    "                  override a key, VALUE in YAML syntax (repeatable), e.g.\n"
    "                  --set optimizer.lr=0.1 --set lora.rank=4; on a swept key\n"
    "                  it replaces that sweep axis by the single value;\n"
    "                  --set 'sweep.KEY=[V1, V2]' replaces or adds a sweep axis\n"
    "                  (sweep.zip.KEY likewise), --set 'sweep.KEY=[]' removes it\n"
    "  -j N, --jobs N  N worker processes (default 1). With more than one cell,\n"
    "                  every cell runs BLAS on one thread, whatever N; a single\n"
    "                  cell owns the machine (OpenBLAS's default thread count,\n"
    "                  OPENBLAS_NUM_THREADS)\n"
    "  --resume        reuse the cells already complete in DIR and run the rest;\n"
    "                  the sweep may have grown (more values, seeds or axes)\n"
    "  --force         overwrite a non-empty output folder\n"
    "  --shard I/N     run only the cells with index = I-1 (mod N), 1 <= I <= N\n"
    "                  (then loralab merge)\n"
    "  --list          print the cells (id, index, seed, swept values) and exit\n"
    "  --plot          draw the figures when the run is done (loralab plot DIR)\n"
    "  --quiet, -q     no progress output\n"
    "  --help, -h      this text\n"
    "\n"
    "exit status: 0 success (also when a cell diverged: that is a result),\n"
    "1 a run failed, 2 bad input (nothing written), 130 interrupted (SIGINT:\n"
    "the cells done are kept; --resume finishes the run)\n";

static const char merge_usage[] =
    "usage: loralab merge DIR SHARD_DIR ... [--force]\n"
    "\n"
    "Combine the folders of a sharded run (loralab run FILE --shard I/N -o\n"
    "SHARD_DIR) into DIR, exactly as an unsharded run writes it. The shards must\n"
    "be of one experiment and hold every cell between them.\n"
    "\n"
    "  --force         overwrite a non-empty DIR\n"
    "  --help, -h      this text\n"
    "\n"
    "exit status: 0 merged, 1 cells missing from every shard or a write failed,\n"
    "2 bad input (shards of different experiments, a non-empty DIR)\n";

static const char plot_usage[] =
    "usage: loralab plot DIR [--y METRIC[,METRIC...]] [--x step|KEY] [--by KEY] [--panel KEY] [--logy] [--out FILE] [--script FILE]\n"
    "\n"
    "Draw figures of the results folder DIR with gnuplot, as PNG and PDF. With no\n"
    "option, the experiment's own script plots/NAME.gp (NAME from DIR/config.yaml)\n"
    "when there is one, otherwise a default figure (risk and align_a against step,\n"
    "one line per swept value). The generic figure draws seed means with min-max\n"
    "bands from trace_mean.csv, or summary_mean.csv when --x is a swept key.\n"
    "\n"
    "  --y METRIC[,METRIC...]  metrics to draw (default risk,align_a)\n"
    "  --x step|KEY            the x axis: step, or a swept key (then summary means)\n"
    "  --by KEY                one line per value of a swept key\n"
    "  --panel KEY             one panel per value of a swept key\n"
    "  --logy                  log y axis\n"
    "  --out FILE              output file stem: FILE.png and FILE.pdf\n"
    "  --script FILE           draw with your own gnuplot script (the style of\n"
    "                          plots/common.gp is available to it)\n"
    "  --help, -h              this text\n"
    "\n"
    "exit status: 0 drawn, 1 gnuplot missing or failed, 2 bad input\n";

static const char check_usage[] =
    "usage: loralab check [--quick] [--claims FILE] [-j N] [ID ...]\n"
    "\n"
    "Run the experiments the claims need into results/<name>/ under the current\n"
    "directory (reusing complete results whose resolved config is unchanged), draw\n"
    "their figures, evaluate every predicate on the cells inside the claim's\n"
    "hypotheses (PASS / FAIL; UNTESTED with no cell inside) and on those outside\n"
    "(HOLDS / BREAKS), print both with the cell counts, and write the table to\n"
    "results/claims.md.  A claim's experiment: is a name in experiments/ or a\n"
    "path to an experiment file (it contains '/' or ends in .yaml), relative to\n"
    "the claims file's folder.\n"
    "\n"
    "  --quick         CI-sized runs (each claim's quick: overrides) in\n"
    "                  results/quick/, table in results/quick/claims.md\n"
    "  --claims FILE   the claims file (default theory/claims.yaml in the current\n"
    "                  directory, else the source tree's)\n"
    "  -j N            N worker processes for the experiments' runs (default 1)\n"
    "  ID ...          check only these claims (default: all)\n"
    "  --help, -h      this text\n"
    "\n"
    "exit status: 0 every asserted predicate holds inside its hypotheses, 1 one\n"
    "fails there, a claim is UNTESTED without untested_reason:, or a run failed\n"
    "(outside results never count), 2 bad input (claims file, options),\n"
    "130 interrupted\n";

static const char bench_usage[] =
    "usage: loralab bench [--reps N] [--list] [NAME ...]\n"
    "\n"
    "Time fixed workloads against the machine's dgemm rate: one warm-up, then N\n"
    "timed runs of each; prints the medians (wall, setup and step seconds,\n"
    "steps/s, GFLOP/s, share of dgemm, peak memory) and each workload's floor\n"
    "(its flops at the dgemm rate or its bytes at the stream bandwidth measured\n"
    "in the same run, whichever binds) with the ratio to it. Benchmarks never\n"
    "assert.\n"
    "\n"
    "  --reps N        timed runs per workload (1 to 64, default 5)\n"
    "  --list          print the workloads and exit\n"
    "  NAME ...        run only these workloads (default: all)\n"
    "  --help, -h      this text\n"
    "\n"
    "exit status: 0 done, 1 a workload failed, 2 bad input\n"
    "\n"
    "workloads:\n";

static const char version_usage[] =
    "usage: loralab version\n"
    "\n"
    "Print the version, git commit, compiler and BLAS library.\n";

static const char help_usage[] =
    "usage: loralab help [CMD]\n"
    "\n"
    "Print the overview, or the usage of CMD (also: loralab CMD --help).\n";

typedef struct {
    const char *name, *usage, *what;
} command_help;

static const command_help commands[] = {
    {"run", run_usage, "run an experiment's cells and write its CSVs to a folder"},
    {"merge", merge_usage, "combine shard folders into one results folder"},
    {"plot", plot_usage, "draw a results folder's figures with gnuplot (PNG, PDF)"},
    {"check", check_usage, "run the claims' experiments and evaluate their predicates"},
    {"bench", bench_usage, "time fixed workloads against the machine's dgemm rate"},
    {"version", version_usage, "print version and build information"},
    {"help", help_usage, "print this overview, or a command's usage"},
};
enum { NCOMMANDS = sizeof commands / sizeof commands[0] };

static const command_help *find_command(const char *name)
{
    for (int i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].name, name)) return &commands[i];
    return NULL;
}

// The overview: every command's synopsis and what it does.
static void usage(FILE *f)
{
    for (int i = 0; i < NCOMMANDS; i++) {
        const char *u = commands[i].usage, *nl = strchr(u, '\n');
        fprintf(f, "%s%.*s\n", i ? "       " : "", (int)(nl - u) - (i ? 7 : 0), u + (i ? 7 : 0));
    }
    fprintf(f, "\n");
    for (int i = 0; i < NCOMMANDS; i++) fprintf(f, "%-8s%s\n", commands[i].name, commands[i].what);
    fprintf(f, "\n'loralab help CMD' or 'loralab CMD --help' prints CMD's options.\n"
               "The default output folder of a run is results/NAME/ under the current directory.\n"
               "\n"
               "exit status: 0 success, 1 a run failed, 2 bad input, 130 interrupted\n");
}

// One command's usage text (bench's ends with its workloads).
static void command_usage(const command_help *c, FILE *f)
{
    fputs(c->usage, f);
    if (!strcmp(c->name, "bench")) bench_list(f);
}

// Whether the arguments after the command ask for its usage.
static int wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
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
            lerr_input(&e, "unknown option %s for run (see 'loralab help run')", a);
        } else if (!file) {
            file = a;
        } else {
            lerr_input(&e, "more than one experiment file given (%s and %s)", file, a);
        }
    }
    if (!e.kind && o.force && o.resume) lerr_input(&e, "--force and --resume exclude each other");
    if (!e.kind && !file) {
        free(sets);
        fputs(run_usage, stderr);
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
        else if ((!strcmp(a, "--claims") || !strcmp(a, "-j")) && i + 1 == argc)
            lerr_input(&e, "%s needs a value", a);
        else if (!strcmp(a, "--claims"))
            o.claims = argv[++i];
        else if (!strcmp(a, "-j")) {
            if ((o.workers = parse_count(argv[++i])) < 0)
                lerr_input(&e, "-j takes a number of workers from 1 to 4096, got '%s'", argv[i]);
        } else if (a[0] == '-')
            lerr_input(&e, "unknown option %s for check (see 'loralab help check')", a);
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
            lerr_input(&e, "unknown option %s for merge (see 'loralab help merge')", argv[i]);
        else
            dirs[n++] = argv[i];
    }
    if (!e.kind && n < 2)
        lerr_input(&e, "merge needs a folder and at least one shard folder (see 'loralab help merge')");
    int rc = e.kind ? -1 : merge_shards(dirs[0], dirs + 1, n - 1, force, command, &e);
    if (!rc) fprintf(stderr, "loralab: merged %d shard folder(s) into %s/\n", n - 1, dirs[0]);
    free(dirs);
    return rc ? fail(&e) : EXIT_OK;
}

int main(int argc, char **argv)
{
    // OpenBLAS's generic kernels on a CPU it did not recognise: run again
    // with the ones this CPU runs (blas_core.h; LORALAB_BLAS_CORE=keep: not)
    blas_core_choose(argv);
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
        if (argc == 2) {
            usage(stdout);
            return EXIT_OK;
        }
        const command_help *c = argc == 3 ? find_command(argv[2]) : NULL;
        if (!c) {
            fprintf(stderr, "loralab: help takes one command name (run, merge, plot, check, bench, "
                            "version, help), got '%s'\n", argv[2]);
            return EXIT_INPUT;
        }
        command_usage(c, stdout);
        return EXIT_OK;
    }
    const command_help *c = find_command(cmd);
    if (c && wants_help(argc - 2, argv + 2)) {
        command_usage(c, stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("loralab %s (commit %s, %s, BLAS %s, kernels %s)\n", LORALAB_VERSION,
               LORALAB_GIT_COMMIT, LORALAB_COMPILER, blas_library(), blas_core_description());
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
