// run.c: experiments as sets of cells; resumable, parallel, shardable.
#include "run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aggregate.h"
#include "cells.h"
#include "config.h"
#include "csv.h"
#include "meta.h"
#include "pool.h"
#include "train.h"

int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);

enum { CELL_OK = 0, CELL_DIVERGED = 1, CELL_ERROR = 2, CELL_FAILED = 3 };

typedef struct {
    const cell_list *cl;
    const char *dir;
    char *cells_dir, *npy_dir, *cache_dir;
    // progress
    int quiet, tty, total, done, diverged, errors, failed;
    double t0;
} run_ctx;

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static char *cell_file(const char *cells_dir, const cell *c, const char *ext)
{
    char name[64];
    snprintf(name, sizeof name, "%s.%s", c->id, ext);
    return path_join(cells_dir, name);
}

// ---------------------------------------------------------------------------
// CSV layout

static void write_header(afile *f, const cell_list *cl, int summary)
{
    enum { FIXED = 2 + 2 + 32 };   // cell, seed, status/steps or step, summary extras
    const char **cols = xcalloc((size_t)(cl->sweep.naxes + cl->nparams + NMETRICS + FIXED),
                                sizeof *cols);
    int n = cells_columns(cl, cols);
    if (summary) {
        cols[n++] = "status";
        cols[n++] = "steps";
    } else {
        cols[n++] = "step";
    }
    for (int i = 0; i < NMETRICS; i++) cols[n++] = metric_names[i];
    if (summary) {
        const char *extra[] = {"min_align_a",    "risk_init",    "err_op_init",  "steps_to_tol",
                               "sigma_dev",      "err_op_bound", "steps_to_align", "t_star",
                               "s_rstar_g",      "f_star",       "rank_star",    "cert_star",
                               "convex_iters",   "test_loss_star", "rank_bound", "min_hess_eig",
                               "grad_objective",
                               "seconds",        "setup_seconds", "step_seconds",
                               "message"};
        _Static_assert(sizeof extra / sizeof extra[0] <= 32, "FIXED too small");
        for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) cols[n++] = extra[i];
    } else {
        for (int i = 0; i < cl->nparams; i++) cols[n++] = cl->param_names[i];
    }
    csv_header(f, cols, n);
    free(cols);
}

static void summary_row(afile *f, const char *prefix, long seed, const train_result *r)
{
    double v[NMETRICS];
    metrics_values(&r->last, v);
    afile_printf(f, "%s%ld,%s,%d", prefix, seed, run_status_names[r->status], r->steps);
    for (int i = 0; i < NMETRICS; i++) csv_num(f, v[i], 0);
    double extra[] = {r->min_align_a,  r->risk_init,    r->err_op_init,    r->steps_to_tol,
                      r->sigma_dev,    r->err_op_bound, r->steps_to_align, r->t_star,
                      r->s_rstar_g,    r->f_star,       r->rank_star,      r->cert_star,
                      r->convex_iters, r->test_loss_star, r->rank_bound, r->min_hess_eig,
                      r->grad_objective};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) csv_num(f, extra[i], 0);
    afile_printf(f, ",%.3f,%.3f,%.3f", r->seconds, r->setup_seconds, r->step_seconds);
    csv_text(f, r->message, 0);
    afile_printf(f, "\n");
}

// ---------------------------------------------------------------------------
// One cell: train into cells/ID.trace, then cells/ID.summary (the marker)

static int cell_run(const run_ctx *x, const cell *c, train_result *res, lerr *e)
{
    spec s;
    if (cells_spec(x->cl, c, &s, e)) return -1;
    char *prefix = cells_prefix(x->cl, c);
    char *tp = cell_file(x->cells_dir, c, "trace"), *sp = cell_file(x->cells_dir, c, "summary");
    afile trace, summary;
    int rc = afile_open(&trace, tp, e);
    if (!rc) {
        rc = train_cell(&s, c->seed, prefix, &trace, x->npy_dir, x->cache_dir, c->id, res, e);
        if (rc) afile_abort(&trace);
    }
    if (!rc) rc = afile_commit(&trace, e);
    // An interrupted cell keeps its rows but is not complete: its summary goes
    // to ID.interrupted (shown in the CSVs), never to ID.summary (the marker
    // --resume trusts), so a resumed run computes it again.
    char *ip = cell_file(x->cells_dir, c, "interrupted");
    int interrupted = !rc && res->status == RUN_INTERRUPTED;
    if (!rc && !(rc = afile_open(&summary, interrupted ? ip : sp, e))) {
        summary_row(&summary, prefix, c->seed, res);
        rc = afile_commit(&summary, e);
    }
    if (!rc && !interrupted) remove(ip);
    free(prefix), free(tp), free(sp), free(ip);
    spec_free(&s);
    return rc;
}

static int cell_task(int index, void *ctx)
{
    run_ctx *x = ctx;
    const cell *c = &x->cl->cells[index];
    train_result res;
    lerr e = {0};
    if (cell_run(x, c, &res, &e)) {
        fprintf(stderr, "loralab: cell %s: %s\n", c->id, e.msg);
        return CELL_FAILED;
    }
    if (res.status == RUN_ERROR)
        fprintf(stderr, "%sloralab: cell %s (seed %ld): %s\n", x->tty && !x->quiet ? "\n" : "",
                c->id, c->seed, res.message);
    return res.status == RUN_ERROR ? CELL_ERROR : res.status == RUN_DIVERGED ? CELL_DIVERGED : CELL_OK;
}

static void cell_progress(int index, int status, void *ctx)
{
    (void)index;
    run_ctx *x = ctx;
    x->done++;
    x->diverged += status == CELL_DIVERGED;
    x->errors += status == CELL_ERROR;
    x->failed += status == CELL_FAILED;
    if (x->quiet || !x->tty) return;
    double el = now_seconds() - x->t0;
    double eta = x->done ? el / x->done * (x->total - x->done) : 0;
    fprintf(stderr, "\r\033[Kloralab: %d/%d cells, %d diverged, %d errors, %.1f s elapsed, ETA %.1f s",
            x->done, x->total, x->diverged, x->errors + x->failed, el, eta);
    if (x->done == x->total) fprintf(stderr, "\n");
}

// ---------------------------------------------------------------------------
// Assembly: trace.csv and summary.csv from the cells' files, in cell order

static int append_file(afile *out, const char *path, lerr *e)
{
    FILE *in = fopen(path, "rb");
    if (!in) return lerr_run(e, "cannot read %s", path);
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out->f) != n) out->failed = 1;
    int bad = ferror(in);
    fclose(in);
    return bad ? lerr_run(e, "error reading %s", path) : 0;
}

// Assemble the cells with index % shard_n == shard_i - 1 (all when shard_n = 0).
// With `partial` (an interrupted run), interrupted cells are included through
// their ID.interrupted row and cells never started are left out.
static int assemble(const char *dir, const cell_list *cl, int shard_i, int shard_n, int partial,
                    lerr *e)
{
    char *cells_dir = path_join(dir, "cells");
    char *tp = path_join(dir, "trace.csv"), *sp = path_join(dir, "summary.csv");
    afile trace, summary;
    int rc = afile_open(&trace, tp, e);
    if (!rc && (rc = afile_open(&summary, sp, e))) afile_abort(&trace);
    free(tp), free(sp);
    if (rc) {
        free(cells_dir);
        return rc;
    }
    write_header(&trace, cl, 0);
    write_header(&summary, cl, 1);
    for (int i = 0; i < cl->ncells && !rc; i++) {
        if (shard_n && i % shard_n != shard_i - 1) continue;
        char *ct = cell_file(cells_dir, &cl->cells[i], "trace");
        char *cs = cell_file(cells_dir, &cl->cells[i], "summary");
        if (partial && !file_exists(cs)) {
            free(cs);
            cs = cell_file(cells_dir, &cl->cells[i], "interrupted");
        }
        int skip = partial && !file_exists(cs);
        if (!skip && !file_exists(cs))
            rc = lerr_run(e, "cell %s is not complete (no %s)", cl->cells[i].id, cs);
        if (!rc && !skip) rc = append_file(&trace, ct, e);
        if (!rc && !skip) rc = append_file(&summary, cs, e);
        free(ct), free(cs);
    }
    if (rc) {
        afile_abort(&trace), afile_abort(&summary);
    } else {
        rc = afile_commit(&trace, e);
        if (rc) afile_abort(&summary);
        else rc = afile_commit(&summary, e);
    }
    free(cells_dir);
    return rc;
}

// ---------------------------------------------------------------------------
// Files for figures: seed aggregates and the swept values for gnuplot

// sweep.gp: name = "..." and sweep_<key> = "v1 v2 ..." for each swept key
// ('.' and '-' in the key become '_').
static int write_sweep_gp(const char *dir, const cell_list *cl, const char *name, lerr *e)
{
    char *path = path_join(dir, "sweep.gp");
    afile f;
    int rc = afile_open(&f, path, e);
    free(path);
    if (rc) return rc;
    afile_printf(&f, "# written by loralab: the experiment's name and swept values, for "
                     "plots/*.gp\nname = \"%s\"\n", name);
    for (int a = 0; a < cl->sweep.naxes; a++) {
        const sweep_axis *ax = &cl->sweep.axes[a];
        afile_printf(&f, "sweep_");
        for (const char *c = ax->key; *c; c++) afile_printf(&f, "%c", *c == '.' || *c == '-' ? '_' : *c);
        afile_printf(&f, " = \"");
        for (int v = 0; v < ax->nvalues; v++) {
            afile_printf(&f, "%s", v ? " " : "");
            for (const char *c = ax->labels[v]; *c; c++)
                afile_printf(&f, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
        }
        afile_printf(&f, "\"\n");
    }
    return afile_commit(&f, e);
}

static int write_figure_data(const char *dir, const cell_list *cl, lerr *e)
{
    spec s;
    if (cells_base_spec(cl, &s, e)) return -1;
    int rc = write_sweep_gp(dir, cl, s.name, e);
    spec_free(&s);
    const char *pairs[][3] = {{"trace.csv", "trace_mean.csv", "step"},
                              {"summary.csv", "summary_mean.csv", NULL}};
    for (int i = 0; i < 2 && !rc; i++) {
        char *in = path_join(dir, pairs[i][0]), *out = path_join(dir, pairs[i][1]);
        rc = aggregate_csv(in, out, cl->sweep.naxes, pairs[i][2], e);
        free(in), free(out);
    }
    return rc;
}

// ---------------------------------------------------------------------------
// config.yaml

// The resolved experiment plus its sweep block, as text (malloc'ed).
static char *config_text(const cell_list *cl, lerr *e)
{
    spec s;
    if (cells_base_spec(cl, &s, e)) return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int bad = config_write(&s, f) != 0 || config_write_sweep(&cl->sweep, f) != 0;
    fclose(f);
    spec_free(&s);
    if (bad) {
        free(buf);
        lerr_run(e, "cannot format config.yaml");
        return NULL;
    }
    return buf;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    return buf;
}

static int write_text(const char *dir, const char *name, const char *text, lerr *e)
{
    char *path = path_join(dir, name);
    afile f;
    int rc = afile_open(&f, path, e);
    free(path);
    if (rc) return rc;
    afile_printf(&f, "%s", text);
    return afile_commit(&f, e);
}

// ---------------------------------------------------------------------------
// run

static void list_cells(const cell_list *cl, const run_opts *o)
{
    printf("%-12s %6s %6s", "cell", "index", "seed");
    for (int a = 0; a < cl->sweep.naxes; a++) printf("  %s", cl->sweep.axes[a].key);
    printf("\n");
    for (int i = 0; i < cl->ncells; i++) {
        if (o->shard_n && i % o->shard_n != o->shard_i - 1) continue;
        const cell *c = &cl->cells[i];
        printf("%-12s %6d %6ld", c->id, i, c->seed);
        for (int a = 0; a < cl->sweep.naxes; a++)
            printf("  %s", cl->sweep.axes[a].labels[c->choice[a]]);
        printf("\n");
    }
}

// Remove the files of a folder (not sub-folders).
static void remove_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char *p = path_join(dir, de->d_name);
        remove(p);
        free(p);
    }
    closedir(d);
}

// Checks on the output folder before anything is written.
static int check_folder(const char *dir, const char *config, const run_opts *o, lerr *e)
{
    if (!dir_nonempty(dir)) return 0;
    if (o->resume) {
        char *path = path_join(dir, "config.yaml");
        char *old = read_text(path);
        int same = old && strcmp(old, config) == 0;
        free(old);
        if (!same && o->refresh) {   // another experiment: start over (old cells could share ids)
            char *cells = path_join(dir, "cells");
            remove_files(cells);
            free(cells), free(path);
            return 0;
        }
        if (!same) {
            lerr_input(e, "cannot resume in %s: %s %s (use --force to start again, or -o "
                       "another folder)", dir, path,
                       file_exists(path) ? "describes a different experiment" : "is missing");
            free(path);
            return -1;
        }
        free(path);
        return 0;
    }
    if (o->force) return 0;
    return lerr_input(e, "output folder %s is not empty (use --resume to continue it, --force "
                      "to overwrite it, or -o to choose another)", dir);
}

// Remove the temporary files of cells that a killed run left behind
// ("ID.trace.tmp.PID"); they never count as complete anyway.
static void remove_stale_tmp(const char *cells_dir)
{
    DIR *d = opendir(cells_dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".tmp.")) {
            char *p = path_join(cells_dir, de->d_name);
            remove(p);
            free(p);
        }
    closedir(d);
}

static int run_cells(const cell_list *cl, const char *dir, const run_opts *o, run_meta *meta,
                     lerr *e)
{
    run_ctx x = {.cl = cl, .dir = dir, .quiet = o->quiet, .tty = isatty(2), .t0 = now_seconds()};
    x.cells_dir = path_join(dir, "cells");
    x.npy_dir = path_join(dir, "npy");
    x.cache_dir = path_join(dir, "cache");
    int rc = make_dirs(x.cells_dir, e);
    if (!rc) rc = make_dirs(x.cache_dir, e);
    if (!rc) remove_stale_tmp(x.cells_dir);
    if (!rc && cl->ncells > 0) {
        spec s;   // log.save is not swept in practice; make the folder if any cell asks
        if (!(rc = cells_base_spec(cl, &s, e))) {
            if (s.log.save) rc = make_dirs(x.npy_dir, e);
            spec_free(&s);
        }
    }
    int *todo = xcalloc((size_t)cl->ncells + 1, sizeof(int));
    int ntodo = 0, skipped = 0;
    for (int i = 0; i < cl->ncells && !rc; i++) {
        if (o->shard_n && i % o->shard_n != o->shard_i - 1) continue;
        char *sp = cell_file(x.cells_dir, &cl->cells[i], "summary");
        if (o->resume && file_exists(sp))
            skipped++;
        else
            todo[ntodo++] = i;
        free(sp);
    }
    x.total = ntodo;
    // Results must not depend on -j: OpenBLAS with several threads may sum in
    // another order, so every cell of a multi-cell experiment runs BLAS on one
    // thread (workers do anyway).  A single cell owns the machine.
    if (cl->ncells > 1) openblas_set_num_threads(1);
    meta->blas_threads = openblas_get_num_threads();
    if (!rc) rc = pool_run(todo, ntodo, o->workers, cell_task, cell_progress, &x, e);
    meta->cells_run = ntodo;
    meta->cells_skipped = skipped;
    free(todo);
    free(x.cells_dir), free(x.npy_dir), free(x.cache_dir);
    if (rc) return rc;
    if (x.failed) return lerr_run(e, "%d cell(s) could not be run (see the messages above)", x.failed);
    if (!o->quiet)
        fprintf(stderr, "loralab: %d cells run (%d skipped as complete): %d ok, %d diverged, %d errors\n",
                ntodo, skipped, ntodo - x.diverged - x.errors, x.diverged, x.errors);
    if (x.errors) meta->errors = x.errors;
    return 0;
}

int run_experiment(const char *file, char *const *sets, int nsets, const run_opts *o,
                   char **out_dir, lerr *e)
{
    config_doc *doc = config_parse_file(file, e);
    if (!doc) return -1;
    stop_watch_sigint();
    for (int i = 0; i < nsets; i++)
        if (config_doc_set_arg(doc, sets[i], e)) {
            config_doc_free(doc);
            return -1;
        }
    cell_list cl;
    if (cells_make(doc, &cl, e)) {
        config_doc_free(doc);
        return -1;
    }
    int rc = 0;
    if (o->list) {
        list_cells(&cl, o);
        goto done;
    }
    spec base;
    if ((rc = cells_base_spec(&cl, &base, e))) goto done;
    char *dir = o->out_dir ? xstrdup(o->out_dir) : path_join("results", base.name);
    spec_free(&base);
    char *config = config_text(&cl, e);
    rc = config ? check_folder(dir, config, o, e) : -1;
    run_meta meta = {.command = o->command, .t0 = now_seconds(), .cells = cl.ncells,
                     .workers = o->workers, .shard_i = o->shard_i, .shard_n = o->shard_n};
    utc_iso8601(meta.started, sizeof meta.started);
    if (!rc && make_dirs(dir, e)) {   // an unusable output folder is bad input
        e->kind = LERR_INPUT;
        rc = -1;
    }
    if (!rc) rc = write_text(dir, "config.yaml", config, e);
    if (!rc) rc = run_cells(&cl, dir, o, &meta, e);
    train_release_problem();   // a problem kept for the cells of this run
    int stopped = !rc && stop_requested();
    if (!rc) rc = assemble(dir, &cl, o->shard_i, o->shard_n, stopped, e);
    if (!rc) rc = write_figure_data(dir, &cl, e);
    if (!rc) rc = meta_write(dir, &meta, e);
    if (!rc && !o->quiet) fprintf(stderr, "loralab: wrote %s/\n", dir);
    if (!rc && stopped) {
        rc = -1;
        e->kind = LERR_INTERRUPTED;
        snprintf(e->msg, sizeof e->msg, "interrupted: %s holds what was done (status "
                 "interrupted); run again with --resume to finish", dir);
    }
    if (!rc && meta.errors)
        rc = lerr_run(e, "%d cell(s) ended with status error (see summary.csv)", meta.errors);
    free(config);
    if (out_dir)
        *out_dir = dir;
    else
        free(dir);
done:
    cells_free(&cl);
    config_doc_free(doc);
    return rc;
}

// ---------------------------------------------------------------------------
// merge

static int copy_file(const char *from, const char *to, lerr *e)
{
    afile out;
    if (afile_open(&out, to, e)) return -1;
    if (append_file(&out, from, e)) {
        afile_abort(&out);
        return -1;
    }
    return afile_commit(&out, e);
}

// Copy shard/npy/*.npy into dir/npy (shards hold disjoint cells, so the
// names, NAME_ID.npy, never clash).
static int copy_npy(const char *shard, const char *dir, lerr *e)
{
    char *from = path_join(shard, "npy");
    DIR *d = opendir(from);
    if (!d) {
        free(from);
        return 0;
    }
    char *to = path_join(dir, "npy");
    int rc = make_dirs(to, e);
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".npy") != 0) continue;
        char *src = path_join(from, de->d_name), *dst = path_join(to, de->d_name);
        rc = copy_file(src, dst, e);
        free(src), free(dst);
    }
    closedir(d);
    free(from), free(to);
    return rc;
}

int merge_shards(const char *dir, char *const *shards, int nshards, int force,
                 const char *command, lerr *e)
{
    if (nshards < 1) return lerr_input(e, "merge needs at least one shard folder");
    char *cfg0 = path_join(shards[0], "config.yaml");
    char *config = read_text(cfg0);
    if (!config) {
        lerr_input(e, "cannot read %s", cfg0);
        free(cfg0);
        return -1;
    }
    for (int i = 1; i < nshards; i++) {
        char *p = path_join(shards[i], "config.yaml");
        char *t = read_text(p);
        int same = t && strcmp(t, config) == 0;
        free(t);
        if (!same) {
            lerr_input(e, "%s %s from %s: the shards are not of one experiment", p,
                       file_exists(p) ? "differs" : "is missing", cfg0);
            free(p), free(cfg0), free(config);
            return -1;
        }
        free(p);
    }
    config_doc *doc = config_parse_file(cfg0, e);
    free(cfg0);
    if (!doc) {
        free(config);
        return -1;
    }
    cell_list cl;
    int rc = cells_make(doc, &cl, e);
    if (rc) {
        config_doc_free(doc);
        free(config);
        return -1;
    }
    if (dir_nonempty(dir) && !force)
        rc = lerr_input(e, "output folder %s is not empty (use --force to overwrite it)", dir);
    char *cells_dir = path_join(dir, "cells");
    if (!rc) rc = make_dirs(cells_dir, e);
    run_meta meta = {.command = command, .t0 = now_seconds(), .cells = cl.ncells,
                     .merged = shards, .nmerged = nshards};
    utc_iso8601(meta.started, sizeof meta.started);
    int missing = 0;
    const char *first_missing = NULL;
    for (int i = 0; i < cl.ncells && !rc; i++) {
        const cell *c = &cl.cells[i];
        int found = 0;
        for (int s = 0; s < nshards && !found && !rc; s++) {
            char *sc = path_join(shards[s], "cells");
            char *sum = cell_file(sc, c, "summary");
            if (file_exists(sum)) {
                found = 1;
                char *tr = cell_file(sc, c, "trace");
                char *dt = cell_file(cells_dir, c, "trace"), *ds = cell_file(cells_dir, c, "summary");
                rc = copy_file(tr, dt, e);
                if (!rc) rc = copy_file(sum, ds, e);
                free(tr), free(dt), free(ds);
            }
            free(sc), free(sum);
        }
        if (!found && !missing++) first_missing = c->id;
    }
    if (!rc && missing)
        rc = lerr_run(e, "%d of %d cells are in none of the shard folders (first: %s); run the "
                      "missing shards (or --resume them) and merge again", missing, cl.ncells,
                      first_missing);
    for (int s = 0; s < nshards && !rc; s++) rc = copy_npy(shards[s], dir, e);
    if (!rc) rc = write_text(dir, "config.yaml", config, e);
    if (!rc) rc = assemble(dir, &cl, 0, 0, 0, e);
    if (!rc) rc = write_figure_data(dir, &cl, e);
    if (!rc) rc = meta_write(dir, &meta, e);
    free(cells_dir);
    free(config);
    cells_free(&cl);
    config_doc_free(doc);
    return rc;
}
