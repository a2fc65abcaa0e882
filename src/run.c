// run.c: experiments as sets of cells; resumable, growable, parallel, shardable.
#define _GNU_SOURCE   // getline, fseeko
#include "run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "aggregate.h"
#include "cell_store.h"
#include "cells.h"
#include "config.h"
#include "csv.h"
#include "meta.h"
#include "pool.h"
#include "train.h"

int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);

enum { CELL_FAILED = 255 };   // a cell task that could not write its files

typedef struct {
    const cell_list *cl;
    const char *dir;
    char *cells_dir, *npy_dir, *cache_dir;
    // progress
    int quiet, tty, total, done, diverged, errors, failed;
    double t0;
} run_ctx;

// ---------------------------------------------------------------------------
// CSV layout.  A cell's own rows start at its seed: trace rows
// "seed,step,metrics[,params]", its summary row "seed,status,steps,...".
// trace.csv and summary.csv put the grid's prefix "cell,<swept labels>," in
// front (cells_prefix), so stored rows fit any grid.

static const char *const summary_extra[] = {
    "min_align_a",    "risk_init",    "err_op_init",  "steps_to_tol",
    "sigma_dev",      "err_op_bound", "steps_to_align", "t_star",
    "s_rstar_g",      "rho_init",     "lambda_rstar", "kappa_delta",
    "g_op",           "alpha_thm",    "alpha_init",   "f_star",       "rank_star",    "cert_star",
    "convex_iters",   "test_loss_star", "rank_bound", "min_hess_eig",
    "grad_objective", "pre_train_loss", "pre_train_acc", "pre_test_acc",
    "seconds",        "setup_seconds", "step_seconds",
    "message"};
enum { NEXTRA = sizeof summary_extra / sizeof summary_extra[0] };

// The columns of a cell's own rows, as one string hashed into cell ids.
static char *row_format(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fputs("trace:seed,step", f);
    for (int i = 0; i < NMETRICS; i++) fprintf(f, ",%s", metric_names[i]);
    fputs(",[params];summary:seed,status,steps", f);
    for (int i = 0; i < NMETRICS; i++) fprintf(f, ",%s", metric_names[i]);
    for (int i = 0; i < NEXTRA; i++) fprintf(f, ",%s", summary_extra[i]);
    fclose(f);
    return buf;
}

static void write_header(afile *f, const cell_list *cl, int summary)
{
    const char **cols = xcalloc((size_t)(cl->sweep.naxes + cl->nparams + NMETRICS + NEXTRA + 8),
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
        for (int i = 0; i < NEXTRA; i++) cols[n++] = summary_extra[i];
    } else {
        for (int i = 0; i < cl->nparams; i++) cols[n++] = cl->param_names[i];
    }
    csv_header(f, cols, n);
    free(cols);
}

static void summary_row(afile *f, long seed, const train_result *r)
{
    double v[NMETRICS];
    metrics_values(&r->last, v);
    afile_printf(f, "%ld,%s,%d", seed, run_status_names[r->status], r->steps);
    for (int i = 0; i < NMETRICS; i++) csv_num(f, v[i], 0);
    double extra[] = {r->min_align_a,  r->risk_init,    r->err_op_init,    r->steps_to_tol,
                      r->sigma_dev,    r->err_op_bound, r->steps_to_align, r->t_star,
                      r->s_rstar_g,    r->rho_init,     r->lambda_rstar,   r->kappa_delta,
                      r->g_op,         r->alpha_thm,    r->alpha_init,     r->f_star,       r->rank_star,      r->cert_star,
                      r->convex_iters, r->test_loss_star, r->rank_bound, r->min_hess_eig,
                      r->grad_objective, r->pre_train_loss, r->pre_train_acc, r->pre_test_acc};
    _Static_assert(sizeof extra / sizeof extra[0] + 4 == NEXTRA, "summary columns");
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
    char *tp = cell_file(x->cells_dir, c->id, "trace"), *sp = cell_file(x->cells_dir, c->id, "summary");
    afile trace, summary;
    int rc = afile_open(&trace, tp, e);
    if (!rc) {
        rc = train_cell(&s, c->seed, "", &trace, x->npy_dir, x->cache_dir, c->id, res, e);
        if (rc) afile_abort(&trace);
    }
    if (!rc) rc = afile_commit(&trace, e);
    // An interrupted cell keeps its rows but is not complete: its summary goes
    // to ID.interrupted (shown in the CSVs), never to ID.summary (the marker
    // --resume trusts), so a resumed run computes it again.
    char *ip = cell_file(x->cells_dir, c->id, "interrupted");
    int interrupted = !rc && res->status == RUN_INTERRUPTED;
    if (!rc && !(rc = afile_open(&summary, interrupted ? ip : sp, e))) {
        summary_row(&summary, c->seed, res);
        rc = afile_commit(&summary, e);
    }
    if (!rc && !interrupted) remove(ip);
    free(tp), free(sp), free(ip);
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
    return (int)res.status;
}

static void cell_progress(int index, int status, void *ctx)
{
    (void)index;
    run_ctx *x = ctx;
    x->done++;
    x->diverged += status == RUN_DIVERGED;
    x->errors += status == RUN_ERROR;
    x->failed += status == CELL_FAILED;
    if (x->quiet || !x->tty) return;
    double el = now_seconds() - x->t0;
    double eta = x->done ? el / x->done * (x->total - x->done) : 0;
    fprintf(stderr, "\r\033[Kloralab: %d/%d cells, %d diverged, %d errors, %.1f s elapsed, ETA %.1f s",
            x->done, x->total, x->diverged, x->errors + x->failed, el, eta);
    if (x->done == x->total) fprintf(stderr, "\n");
}

// ---------------------------------------------------------------------------
// Assembly: trace.csv and summary.csv in cell order, from the stores

static int selected(int i, int shard_i, int shard_n)
{
    return !shard_n || i % shard_n == shard_i - 1;
}

// Append a cell's summary file (one row) to out after `prefix`, and count its
// status (the row's second field) in counts.
static int append_summary(afile *out, const char *path, const char *prefix, int *counts,
                          lerr *e)
{
    FILE *in = fopen(path, "rb");
    if (!in) return lerr_run(e, "cannot read %s", path);
    const char *status = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, in)) > 0) {
        afile_puts(out, prefix);
        afile_puts(out, line);
        if (!status) status = skip_fields(line, 1);
        if (status && counts) {
            for (int s = 0; s < RUN_NSTATUS; s++) {
                size_t n = strlen(run_status_names[s]);
                if (!strncmp(status, run_status_names[s], n) && status[n] == ',') counts[s]++;
            }
            counts = NULL;
        }
    }
    int bad = ferror(in);
    free(line);
    fclose(in);
    return bad ? lerr_run(e, "error reading %s", path) : 0;
}

// Assemble the selected cells (shard_n = 0: all) from the first store that
// holds them complete.  With `partial` (an interrupted run), a cell no store
// holds complete is taken from stores[0]'s ID.interrupted and ID.trace if
// it has them (interrupted this time) and left out otherwise (never started).
// counts receives summary.csv's rows by status; taken[i] (if not NULL) is set
// for the cells written.
static int assemble(const char *dir, const cell_list *cl, const cell_store *stores, int nstores,
                    int shard_i, int shard_n, int partial, int *counts, char *taken, lerr *e)
{
    char *tp = path_join(dir, "trace.csv"), *sp = path_join(dir, "summary.csv");
    afile trace, summary;
    int rc = afile_open(&trace, tp, e);
    if (!rc && (rc = afile_open(&summary, sp, e))) afile_abort(&trace);
    free(tp), free(sp);
    if (rc) return rc;
    memset(counts, 0, sizeof(int) * RUN_NSTATUS);
    write_header(&trace, cl, 0);
    write_header(&summary, cl, 1);
    for (int i = 0; i < cl->ncells && !rc; i++) {
        if (!selected(i, shard_i, shard_n)) continue;
        const cell *c = &cl->cells[i];
        const cell_store *st = NULL;
        const char *ext = "summary";
        for (int s = 0; s < nstores && !st; s++)
            if (store_complete(&stores[s], c->id)) st = &stores[s];
        if (!st && partial && cell_file_exists(stores[0].cells_dir, c->id, "interrupted") &&
            cell_file_exists(stores[0].cells_dir, c->id, "trace"))
            st = &stores[0], ext = "interrupted";
        if (!st) {
            if (!partial) rc = lerr_run(e, "cell %s is not complete (no %s/%s.summary with its "
                                        "trace rows)", c->id, stores[0].cells_dir, c->id);
            continue;
        }
        char *prefix = cells_prefix(cl, c), *cs = cell_file(st->cells_dir, c->id, ext);
        rc = store_copy_trace(st, c->id, &trace, prefix, e);
        if (!rc) rc = append_summary(&summary, cs, prefix, counts, e);
        if (!rc && taken) taken[i] = 1;
        free(prefix), free(cs);
    }
    if (rc) {
        afile_abort(&trace), afile_abort(&summary);
    } else {
        rc = afile_commit(&trace, e);
        if (rc) afile_abort(&summary);
        else rc = afile_commit(&summary, e);
    }
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

// The seed means (trace_mean.csv, summary_mean.csv) when the experiment has
// more than one seed; with one seed they would only repeat trace.csv and
// summary.csv, so none are written (and stale ones are removed).
static int write_figure_data(const char *dir, const cell_list *cl, lerr *e)
{
    spec s;
    if (cells_base_spec(cl, &s, e)) return -1;
    int rc = write_sweep_gp(dir, cl, s.name, e);
    int nseeds = s.nseeds;
    spec_free(&s);
    const char *pairs[][3] = {{"trace.csv", "trace_mean.csv", "step"},
                              {"summary.csv", "summary_mean.csv", NULL}};
    for (int i = 0; i < 2 && !rc; i++) {
        char *in = path_join(dir, pairs[i][0]), *out = path_join(dir, pairs[i][1]);
        if (nseeds > 1)
            rc = aggregate_csv(in, out, cl->sweep.naxes, pairs[i][2], e);
        else
            remove(out);
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

// The settings of a config.yaml text (config_write + config_write_sweep: one
// "key: value" per line, two spaces per level) as dotted keys and values.
typedef struct {
    int n;
    char **key, **value;
} setting_list;

static void settings_of(const char *text, setting_list *out)
{
    memset(out, 0, sizeof *out);
    char *stack[8] = {0};
    int cap = 0;
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        size_t ind = 0;
        while (ind < len && line[ind] == ' ') ind++;
        int level = (int)ind / 2;
        const char *colon = memchr(line + ind, ':', len - ind);
        if (line[ind] != '#' && ind < len && colon && level < 8) {
            const char *val = colon + 1;
            while (val < line + len && *val == ' ') val++;
            free(stack[level]);
            stack[level] = xmalloc((size_t)(colon - line - (long)ind) + 1);
            memcpy(stack[level], line + ind, (size_t)(colon - line - (long)ind));
            stack[level][colon - line - (long)ind] = '\0';
            for (int l = level + 1; l < 8; l++) free(stack[l]), stack[l] = NULL;
            if (val < line + len) {
                size_t kl = 1;
                for (int l = 0; l <= level; l++) kl += strlen(stack[l] ? stack[l] : "") + 1;
                char *key = xmalloc(kl);
                key[0] = '\0';
                for (int l = 0; l <= level; l++) {
                    if (l) strcat(key, ".");
                    strcat(key, stack[l] ? stack[l] : "");
                }
                if (out->n == cap) {
                    cap = 2 * cap + 32;
                    out->key = xrealloc(out->key, sizeof(char *) * (size_t)cap);
                    out->value = xrealloc(out->value, sizeof(char *) * (size_t)cap);
                }
                out->key[out->n] = key;
                out->value[out->n] = xmalloc((size_t)(line + len - val) + 1);
                memcpy(out->value[out->n], val, (size_t)(line + len - val));
                out->value[out->n][line + len - val] = '\0';
                out->n++;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    for (int l = 0; l < 8; l++) free(stack[l]);
}

static void settings_free(setting_list *s)
{
    for (int i = 0; i < s->n; i++) free(s->key[i]), free(s->value[i]);
    free(s->key), free(s->value);
}

static const char *setting_value(const setting_list *s, const char *key)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->key[i], key)) return s->value[i];
    return NULL;
}

// A setting's value for a message: a number in the fewest digits that give
// it back (config.yaml writes %.17g: 0.050000000000000003 reads 0.05).
static void show_value(const char *v, char *out, size_t n)
{
    char *end;
    double x = strtod(v, &end);
    if (!*v || *end || !isfinite(x)) {
        snprintf(out, n, "%s", v ? v : "");
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(out, n, "%.*g", p, x);
        if (strtod(out, NULL) == x) return;
    }
}

// "KEY is OLD there, NEW here" for the first setting (in the order of the new
// text, then the old) that differs; 0 if none does.
static int first_difference(const char *old_text, const char *new_text, char *buf, size_t n)
{
    setting_list a, b;
    settings_of(old_text, &a);
    settings_of(new_text, &b);
    int found = 0;
    char x[256], y[256];
    for (int i = 0; i < b.n && !found; i++) {
        const char *v = setting_value(&a, b.key[i]);
        if (v && !strcmp(v, b.value[i])) continue;
        show_value(v ? v : "not set", x, sizeof x);
        show_value(b.value[i], y, sizeof y);
        snprintf(buf, n, "%s is %s there, %s here", b.key[i], x, y);
        found = 1;
    }
    for (int i = 0; i < a.n && !found; i++)
        if (!setting_value(&b, a.key[i])) {
            show_value(a.value[i], x, sizeof x);
            snprintf(buf, n, "%s is %s there, not set here", a.key[i], x);
            found = 1;
        }
    settings_free(&a), settings_free(&b);
    return found;
}

// ---------------------------------------------------------------------------
// run

// One --list field: text left-aligned, numbers right-aligned, padded to
// `width` unless it is the last of its line.
static void list_field(const char *text, int width, int number, int last)
{
    if (number)
        printf("%*s", width, text);
    else
        printf("%-*s", last ? 0 : width, text);
    printf(last ? "\n" : "  ");
}

// The cells as a table whose columns line up under their headers: id,
// index, seed, then the swept values.
static void list_cells(const cell_list *cl, const run_opts *o)
{
    int ncols = 3 + cl->sweep.naxes;
    int *width = xcalloc((size_t)ncols, sizeof(int));
    char ***text = xcalloc((size_t)cl->ncells + 1, sizeof *text);   // [row][col], row 0: header
    for (int i = -1; i < cl->ncells; i++) {
        char **row = text[i + 1] = xcalloc((size_t)ncols, sizeof(char *));
        char buf[64];
        for (int c = 0; c < ncols; c++) {
            const cell *x = i >= 0 ? &cl->cells[i] : NULL;
            if (c == 0) row[c] = xstrdup(x ? x->id : "cell");
            else if (c == 1 && x) snprintf(buf, sizeof buf, "%d", i), row[c] = xstrdup(buf);
            else if (c == 2 && x) snprintf(buf, sizeof buf, "%ld", x->seed), row[c] = xstrdup(buf);
            else if (c < 3) row[c] = xstrdup(c == 1 ? "index" : "seed");
            else row[c] = xstrdup(x ? cl->sweep.axes[c - 3].labels[x->choice[c - 3]]
                                    : cl->sweep.axes[c - 3].key);
            int l = (int)strlen(row[c]);
            if (l > width[c]) width[c] = l;
        }
    }
    for (int i = -1; i < cl->ncells; i++) {
        char **row = text[i + 1];
        if (i < 0 || selected(i, o->shard_i, o->shard_n))
            for (int c = 0; c < ncols; c++) list_field(row[c], width[c], c == 1 || c == 2, c == ncols - 1);
        for (int c = 0; c < ncols; c++) free(row[c]);
        free(row);
    }
    free(text);
    free(width);
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

// Checks on the output folder before anything is written.  --resume takes
// a folder of any experiment (cells are content-addressed: those of the new
// grid found complete are reused); without it a non-empty folder is an
// error naming the first setting that differs from the folder's config.yaml.
// --force starts again: the files of cells/ are removed.
static int check_folder(const char *dir, const char *config, const run_opts *o, lerr *e)
{
    if (!dir_nonempty(dir)) return 0;
    char *path = path_join(dir, "config.yaml");
    char *old = read_text(path);
    int rc = 0;
    if (o->force) {
        char *cells = path_join(dir, "cells");
        remove_files(cells);
        free(cells);
    } else if (o->resume && !old) {
        rc = lerr_input(e, "cannot resume in %s: %s is missing, so it is not a results folder "
                        "(use --force to overwrite it, or -o another folder)", dir, path);
    } else if (!o->resume) {
        char diff[1024];
        if (old && first_difference(old, config, diff, sizeof diff))
            rc = lerr_input(e, "output folder %s is not empty and its experiment differs from "
                            "this one: %s (use --resume to add this experiment's cells to it, "
                            "--force to overwrite it, or -o another folder)", dir, diff);
        else
            rc = lerr_input(e, "output folder %s is not empty%s (use --resume to continue it, "
                            "--force to overwrite it, or -o to choose another)", dir,
                            old ? ": it holds this experiment" : "");
    }
    free(old), free(path);
    return rc;
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

static int by_id_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

// Cells of the old trace.csv that are complete but not written now (dropped
// from a changed grid, or of another shard) keep their rows: written to
// cells/ID.trace before the new trace.csv replaces the old one.
static int keep_dropped(const cell_store *st, const cell_list *cl, const char *taken, lerr *e)
{
    const char **now = xcalloc((size_t)cl->ncells + 1, sizeof *now);
    int n = 0;
    for (int i = 0; i < cl->ncells; i++)
        if (taken[i]) now[n++] = cl->cells[i].id;
    qsort(now, (size_t)n, sizeof *now, by_id_str);
    int rc = 0;
    for (int b = 0; b < st->tx.n && !rc; b++) {
        const row_block *blk = &st->tx.b[b];
        const char *id = blk->id;
        if (bsearch(&id, now, (size_t)n, sizeof *now, by_id_str)) continue;
        if (!cell_file_exists(st->cells_dir, id, "summary") ||
            cell_file_exists(st->cells_dir, id, "trace"))
            continue;
        char *path = cell_file(st->cells_dir, id, "trace");
        afile out;
        if (!(rc = afile_open(&out, path, e))) {
            rc = copy_rows(&out, st->tx.f, st->trace_path, blk->start, blk->end, st->tx.nskip, "", e);
            if (rc) afile_abort(&out);
            else rc = afile_commit(&out, e);
        }
        free(path);
    }
    free(now);
    return rc;
}

// Run the cells of the grid (of the shard) that the folder does not hold
// complete, into cells/.
static int run_cells(const cell_list *cl, const cell_store *st, const run_opts *o, run_meta *meta,
                     lerr *e)
{
    run_ctx x = {.cl = cl, .dir = st->dir, .quiet = o->quiet, .tty = isatty(2),
                 .t0 = now_seconds()};
    x.cells_dir = st->cells_dir;
    x.npy_dir = path_join(st->dir, "npy");
    x.cache_dir = path_join(st->dir, "cache");
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
    int ntodo = 0, reused = 0;
    for (int i = 0; i < cl->ncells && !rc; i++) {
        if (!selected(i, o->shard_i, o->shard_n)) continue;
        const char *id = cl->cells[i].id;
        if (o->resume && store_complete(st, id)) {
            reused++;
            continue;
        }
        // not complete: what is left of an earlier attempt goes
        cell_file_remove(x.cells_dir, id, "summary");
        cell_file_remove(x.cells_dir, id, "interrupted");
        todo[ntodo++] = i;
    }
    x.total = ntodo;
    // Results must not depend on -j: OpenBLAS with several threads may sum in
    // another order, so every cell of a multi-cell experiment runs BLAS on one
    // thread (workers do anyway).  A single cell owns the machine.
    if (cl->ncells > 1) openblas_set_num_threads(1);
    meta->blas_threads = openblas_get_num_threads();
    if (!rc) rc = pool_run(todo, ntodo, o->workers, cell_task, cell_progress, &x, e);
    meta->cells_run = x.done - x.failed;
    meta->cells_reused = reused;
    free(todo);
    free(x.npy_dir), free(x.cache_dir);
    if (rc) return rc;
    if (x.failed) return lerr_run(e, "%d cell(s) could not be run (see the messages above)", x.failed);
    return 0;
}

// "wrote DIR/: 48 cells: 25 run, 0 reused, 23 not run; summary.csv: 23 ok, 2 interrupted"
// into buf: the counts of meta.yaml, for stderr's last line.
static void report_text(const char *dir, const run_meta *m, char *buf, size_t cap)
{
    size_t n = 0;
#define ADD(...) (n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__))
    size_t dl = strlen(dir);
    ADD("wrote %s%s: %d cells", dir, dl && dir[dl - 1] == '/' ? "" : "/",
        m->shard_n ? m->shard_cells : m->cells);
    if (m->shard_n) ADD(" (shard %d/%d)", m->shard_i, m->shard_n);
    if (!m->nmerged)
        ADD(": %d run, %d reused, %d not run", m->cells_run, m->cells_reused, m->cells_not_run);
    ADD("; summary.csv:");
    int any = 0;
    for (int s = 0; s < RUN_NSTATUS; s++)
        if (m->status[s]) ADD("%s %d %s", any++ ? "," : "", m->status[s], run_status_names[s]);
    if (!any) ADD(" no rows");
#undef ADD
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
    char *format = row_format();
    int rc = cells_make(doc, format, &cl, e);
    free(format);
    if (rc) {
        config_doc_free(doc);
        return -1;
    }
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
    for (int i = 0; i < cl.ncells; i++) meta.shard_cells += selected(i, o->shard_i, o->shard_n);
    utc_iso8601(meta.started, sizeof meta.started);
    if (!rc && make_dirs(dir, e)) {   // an unusable output folder is bad input
        e->kind = LERR_INPUT;
        rc = -1;
    }
    cell_store st;
    char *taken = xcalloc((size_t)cl.ncells + 1, 1);
    if (!rc) rc = store_open(dir, o->resume, &st, e);
    else memset(&st, 0, sizeof st);
    if (!rc) rc = write_text(dir, "config.yaml", config, e);
    if (!rc) rc = run_cells(&cl, &st, o, &meta, e);
    train_release_problem();   // a problem kept for the cells of this run
    int stopped = !rc && stop_requested();
    if (!rc) {   // which cells the CSVs will hold, then keep the others' rows
        for (int i = 0; i < cl.ncells; i++)
            taken[i] = selected(i, o->shard_i, o->shard_n) &&
                       (store_complete(&st, cl.cells[i].id) ||
                        (stopped && cell_file_exists(st.cells_dir, cl.cells[i].id, "interrupted")));
        rc = keep_dropped(&st, &cl, taken, e);
    }
    if (!rc) rc = assemble(dir, &cl, &st, 1, o->shard_i, o->shard_n, stopped, meta.status, NULL, e);
    if (!rc) {   // trace.csv holds their rows now: no second copy
        for (int i = 0; i < cl.ncells; i++)
            if (taken[i]) {
                cell_file_remove(st.cells_dir, cl.cells[i].id, "trace");
                cell_file_remove(st.cells_dir, cl.cells[i].id, "interrupted");
            }
    }
    store_close(&st);
    free(taken);
    meta.cells_not_run = meta.shard_cells - meta.cells_run - meta.cells_reused;
    if (!rc) rc = write_figure_data(dir, &cl, e);
    if (!rc) rc = meta_write(dir, &meta, e);
    // stderr's last line: the folder and its counts (also in an error's message)
    char counts[1024];
    if (!rc) report_text(dir, &meta, counts, sizeof counts);
    if (!rc && stopped) {
        rc = -1;
        e->kind = LERR_INTERRUPTED;
        snprintf(e->msg, sizeof e->msg, "interrupted: %s; run again with --resume to finish",
                 counts);
    } else if (!rc && meta.status[RUN_ERROR]) {
        rc = lerr_run(e, "%d cell(s) ended with status error: %s", meta.status[RUN_ERROR], counts);
    } else if (!rc && !o->quiet) {
        fprintf(stderr, "loralab: %s\n", counts);
    }
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
    FILE *in = fopen(from, "rb");
    if (!in) {
        afile_abort(&out);
        return lerr_run(e, "cannot read %s", from);
    }
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out.f) != n) out.failed = 1;
    int bad = ferror(in);
    fclose(in);
    if (bad) {
        afile_abort(&out);
        return lerr_run(e, "error reading %s", from);
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
        char diff[1024] = "";
        int same = t && strcmp(t, config) == 0;
        if (t && !same) first_difference(config, t, diff, sizeof diff);
        free(t);
        if (!same) {
            lerr_input(e, "%s %s from %s%s%s: the shards are not of one experiment", p,
                       file_exists(p) ? "differs" : "is missing", cfg0, diff[0] ? ": " : "", diff);
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
    char *format = row_format();
    int rc = cells_make(doc, format, &cl, e);
    free(format);
    if (rc) {
        config_doc_free(doc);
        free(config);
        return -1;
    }
    if (dir_nonempty(dir) && !force)
        rc = lerr_input(e, "output folder %s is not empty (use --force to overwrite it)", dir);
    char *cells_dir = path_join(dir, "cells");
    if (!rc && force) remove_files(cells_dir);
    if (!rc) rc = make_dirs(cells_dir, e);
    run_meta meta = {.command = command, .t0 = now_seconds(), .cells = cl.ncells,
                     .merged = shards, .nmerged = nshards};
    utc_iso8601(meta.started, sizeof meta.started);
    cell_store *stores = xcalloc((size_t)nshards, sizeof *stores);
    int opened = 0;
    for (; opened < nshards && !rc; opened++) rc = store_open(shards[opened], 1, &stores[opened], e);
    // every cell from the first shard holding it complete; its summary file
    // is copied, its trace rows go straight into the merged trace.csv
    int missing = 0;
    const char *first_missing = NULL;
    for (int i = 0; i < cl.ncells && !rc; i++) {
        const cell *c = &cl.cells[i];
        int s = 0;
        while (s < nshards && !store_complete(&stores[s], c->id)) s++;
        if (s == nshards) {
            if (!missing++) first_missing = c->id;
            continue;
        }
        char *from = cell_file(stores[s].cells_dir, c->id, "summary");
        char *to = cell_file(cells_dir, c->id, "summary");
        rc = copy_file(from, to, e);
        free(from), free(to);
    }
    if (!rc && missing)
        rc = lerr_run(e, "%d of %d cells are in none of the shard folders (first: %s); run the "
                      "missing shards (or --resume them) and merge again", missing, cl.ncells,
                      first_missing);
    for (int s = 0; s < nshards && !rc; s++) rc = copy_npy(shards[s], dir, e);
    if (!rc) rc = write_text(dir, "config.yaml", config, e);
    if (!rc) rc = assemble(dir, &cl, stores, nshards, 0, 0, 0, meta.status, NULL, e);
    for (int s = 0; s < opened; s++) store_close(&stores[s]);
    free(stores);
    if (!rc) rc = write_figure_data(dir, &cl, e);
    if (!rc) rc = meta_write(dir, &meta, e);
    if (!rc) {
        char counts[1024];
        report_text(dir, &meta, counts, sizeof counts);
        fprintf(stderr, "loralab: %s\n", counts);
    }
    free(cells_dir);
    free(config);
    cells_free(&cl);
    config_doc_free(doc);
    return rc;
}
