// plot_generic.c: the gnuplot program of `loralab plot DIR [--y M,..] [--x K]
// [--by K] [--panel K] [--logy] [--out FILE]`, for any results folder.
//
// C reads the CSV, groups its rows into series (one per panel and line),
// sorts each by x and writes them into the program as datablocks; gnuplot
// only draws.  The figure, in inches:
//
//   +------------------------------------------------------+
//   |  top (panel titles)                                   |
//   | ml | metric 1, panel 1 | sx | metric 1, panel 2 | legend |
//   |    |        sy         |    |                   |        |
//   | ml | metric 2, panel 1 | sx | metric 2, panel 2 |        |
//   |  bottom (x label)                                     |
//   +------------------------------------------------------+
#include "plot_generic.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"

// ---------------------------------------------------------------------------
// Lists of names, and the nearest one to a typo

typedef struct {
    char **s;
    int n, cap;
} names;

static int names_find(const names *l, const char *s)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->s[i], s)) return i;
    return -1;
}

// Index of s in l, appended if new; `hint` is tried first.
static int names_add(names *l, const char *s, int hint)
{
    if (hint >= 0 && hint < l->n && !strcmp(l->s[hint], s)) return hint;
    int i = names_find(l, s);
    if (i >= 0) return i;
    if (l->n == l->cap) l->s = xrealloc(l->s, sizeof *l->s * (size_t)(l->cap = 2 * l->cap + 8));
    l->s[l->n] = xstrdup(s);
    return l->n++;
}

static void names_free(names *l)
{
    for (int i = 0; i < l->n; i++) free(l->s[i]);
    free(l->s);
    *l = (names){0};
}

// "a, b, c" into buf (cut with "..." when it does not fit).
static const char *names_join(const names *l, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < l->n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", l->s[i]);
    if (len >= cap && cap > 4) strcpy(buf + cap - 4, "...");
    return l->n ? buf : "none";
}

// " (did you mean 'x'?)" for the name of l nearest to typed, or "".  A name
// that typed is a prefix or suffix of also counts (risk_mean ~ risk).
static const char *did_you_mean(const names *l, const char *typed, char *buf, size_t cap)
{
    size_t nt = strlen(typed);
    int budget = typo_budget(nt), best = budget + 1, bi = -1;
    for (int i = 0; i < l->n; i++) {
        int d = edit_distance(typed, l->s[i]);
        size_t ns = strlen(l->s[i]);
        if (ns >= 3 && ns < nt && (!strncmp(typed, l->s[i], ns) || !strcmp(typed + nt - ns, l->s[i])))
            d = 1;
        if (d < best) best = d, bi = i;
    }
    if (bi < 0) return "";
    snprintf(buf, cap, " (did you mean '%s'?)", l->s[bi]);
    return buf;
}

// ---------------------------------------------------------------------------
// The table read: its columns

typedef struct {
    char *path;       // the CSV
    int means;        // 1: a *_mean.csv, metrics as M_mean, M_min, M_max
    names header;
    names keys;       // swept keys, in column order
    int first_key;    // header index of the first swept key
    int seed_col;     // single-seed files: the seed column; -1 in means files
    int step_col;     // trace files: the step column; -1 in summaries
    names metrics;    // what --y may name
} table;

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void table_free(table *t)
{
    free(t->path);
    names_free(&t->header), names_free(&t->keys), names_free(&t->metrics);
}

// Open DIR's trace (summary when !trace) table, the means file if there is
// one, and read its header: swept keys are the columns before `step` /
// `seeds` (means) or between `cell` and `seed` (single seeds).
static FILE *table_open(const char *dir, int trace, table *t, lerr *e)
{
    *t = (table){.seed_col = -1, .step_col = -1};
    const char *base = trace ? "trace" : "summary";
    char name[32];
    snprintf(name, sizeof name, "%s_mean.csv", base);
    t->path = path_join(dir, name);
    t->means = is_file(t->path);
    if (!t->means) {
        free(t->path);
        snprintf(name, sizeof name, "%s.csv", base);
        t->path = path_join(dir, name);
        if (!is_file(t->path)) {
            lerr_input(e, "%s has no results to plot (no %s_mean.csv or %s.csv): run the experiment first",
                       dir, base, base);
            return NULL;
        }
    }
    FILE *in = fopen(t->path, "rb");
    if (!in) {
        lerr_input(e, "cannot read %s", t->path);
        return NULL;
    }
    csv_row head;
    if (!csv_read_row(in, &head)) {
        fclose(in);
        lerr_input(e, "%s is empty", t->path);
        return NULL;
    }
    for (int i = 0; i < head.nf; i++) names_add(&t->header, head.f[i], -1);
    csv_row_free(&head);
    const names *h = &t->header;
    int end = -1;   // header index just past the swept keys
    if (t->means) {
        for (int i = 0; i < h->n && end < 0; i++)
            if (!strcmp(h->s[i], "step") || !strcmp(h->s[i], "seeds")) end = i;
        t->first_key = 0;
    } else {
        end = t->seed_col = names_find(h, "seed");
        t->first_key = names_find(h, "cell") + 1;
    }
    t->step_col = trace ? names_find(h, "step") : -1;
    if (end < t->first_key || (trace && t->step_col < 0)) {
        fclose(in);
        lerr_input(e, "%s is not a loralab results table (no %s column)", t->path,
                   t->means ? (trace ? "step" : "seeds") : trace && end >= 0 ? "step" : "seed");
        return NULL;
    }
    for (int i = t->first_key; i < end; i++) names_add(&t->keys, h->s[i], -1);
    for (int i = end + 1; i < h->n; i++) {
        const char *c = h->s[i];
        size_t n = strlen(c);
        if (t->means) {
            if (n > 5 && !strcmp(c + n - 5, "_mean")) {
                char *m = xstrdup(c);
                m[n - 5] = '\0';
                names_add(&t->metrics, m, -1);
                free(m);
            }
        } else if (i != t->step_col && strcmp(c, "status") && strcmp(c, "message")) {
            names_add(&t->metrics, c, -1);
        }
    }
    return in;
}

// ---------------------------------------------------------------------------
// Splitting the rows: swept keys by role, then series

typedef struct {
    const char *name;
    int col;          // header index
    names values;     // distinct values, in order of first appearance
    int *rank;        // display position of each value: numeric order when
                      // every value is a number, else first appearance
    int numeric;
    int hint;
} split;

static void split_init(split *s, const char *name, int col)
{
    *s = (split){.name = name, .col = col};
}

static int parse_num(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return *s && !*end;
}

static const double *sort_keys;
static int by_sort_key(const void *a, const void *b)
{
    double x = sort_keys[*(const int *)a], y = sort_keys[*(const int *)b];
    return x < y ? -1 : x > y ? 1 : *(const int *)a - *(const int *)b;
}

// Fill s->rank (and s->numeric) once every row has been seen.
static void split_rank(split *s)
{
    int n = s->values.n;
    double *v = dalloc((size_t)n + 1);
    int *idx = xcalloc((size_t)n + 1, sizeof(int));
    s->numeric = n > 0;
    for (int i = 0; i < n; i++) {
        idx[i] = i;
        if (!parse_num(s->values.s[i], &v[i]) || !isfinite(v[i])) s->numeric = 0;
    }
    if (s->numeric) {
        sort_keys = v;
        qsort(idx, (size_t)n, sizeof(int), by_sort_key);
    }
    s->rank = xcalloc((size_t)n + 1, sizeof(int));
    for (int i = 0; i < n; i++) s->rank[idx[i]] = i;
    free(v), free(idx);
}

static void split_free(split *s)
{
    names_free(&s->values);
    free(s->rank);
}

// One line of one panel: the points of one grid point (and seed, in a
// single-seed file), x ascending once sorted.
typedef struct {
    int panel, line, extra;   // value index of the panel and by keys, combination of the rest
    int n, cap;
    double *x;                // (n)
    double *v;                // (n, nmetric, 3): mean, min, max of each metric
} series;

typedef struct {
    const figure_opts *o;
    table t;
    int nm;                   // metrics drawn
    char **metric;            // their names
    int (*mcol)[3];           // (nm, 3) header index of mean, min, max
    int *logy;                // (nm) log scale per metric
    int *draw, ndraw;         // (nm) 1: the metric has something to draw (a panel row)
    split xs, panel, by;      // xs: the x key (col -1 for step); col -1: none
    split *extra;             // the other swept keys (and seed); (nextra)
    int nextra;
    names combos;             // value indices of the extras, one entry per combination
    series *s;
    int ns, caps;
} figure;

static int find_series(figure *f, int panel, int line, int extra)
{
    if (f->ns > 0) {
        series *last = &f->s[f->ns - 1];
        if (last->panel == panel && last->line == line && last->extra == extra) return f->ns - 1;
    }
    for (int i = 0; i < f->ns; i++)
        if (f->s[i].panel == panel && f->s[i].line == line && f->s[i].extra == extra) return i;
    if (f->ns == f->caps) f->s = xrealloc(f->s, sizeof *f->s * (size_t)(f->caps = 2 * f->caps + 8));
    f->s[f->ns] = (series){.panel = panel, .line = line, .extra = extra};
    return f->ns++;
}

static void series_push(series *s, int nm, double x, const double *v)
{
    if (s->n == s->cap) {
        s->cap = 2 * s->cap + 64;
        s->x = xrealloc(s->x, sizeof(double) * (size_t)s->cap);
        s->v = xrealloc(s->v, sizeof(double) * 3 * (size_t)nm * (size_t)s->cap);
    }
    s->x[s->n] = x;
    memcpy(s->v + (size_t)s->n * 3 * (size_t)nm, v, sizeof(double) * 3 * (size_t)nm);
    s->n++;
}

// Value index of a row's field for split s (0 when s is unused).
static int split_value(split *s, const csv_row *r)
{
    if (s->col < 0) return 0;
    return s->hint = names_add(&s->values, r->f[s->col], s->hint);
}

// Read every row into series.
static void read_rows(figure *f, FILE *in)
{
    int nm = f->nm;
    double *v = dalloc(3 * (size_t)nm);
    size_t cap = 16;
    char *combo = xmalloc(cap);
    int combo_hint = -1;
    csv_row r;
    while (csv_read_row(in, &r)) {
        if (r.nf != f->t.header.n) {
            csv_row_free(&r);
            continue;
        }
        double x = NAN;
        if (f->xs.col < 0)
            parse_num(r.f[f->t.step_col], &x);
        else
            x = split_value(&f->xs, &r);   // the value index; made a position later
        int p = split_value(&f->panel, &r), l = split_value(&f->by, &r);
        size_t len = 0;
        combo[0] = '\0';
        for (int k = 0; k < f->nextra; k++) {
            if (len + 16 > cap) combo = xrealloc(combo, cap *= 2);
            len += (size_t)snprintf(combo + len, cap - len, "%d,", split_value(&f->extra[k], &r));
        }
        combo_hint = names_add(&f->combos, combo, combo_hint);
        for (int m = 0; m < nm; m++)
            for (int j = 0; j < 3; j++)
                if (!parse_num(r.f[f->mcol[m][j]], &v[3 * m + j])) v[3 * m + j] = NAN;
        int si = find_series(f, p, l, combo_hint);   // may move f->s
        series_push(&f->s[si], nm, x, v);
        csv_row_free(&r);
    }
    free(v), free(combo);
}

// Points of a series in x order (stable; rows usually arrive sorted).
static void series_sort(series *s, int nm)
{
    size_t w = 3 * (size_t)nm;
    double *tmp = dalloc(w);
    for (int a = 1; a < s->n; a++) {
        double xa = s->x[a];
        memcpy(tmp, s->v + (size_t)a * w, sizeof(double) * w);
        int b = a - 1;
        while (b >= 0 && s->x[b] > xa) {
            s->x[b + 1] = s->x[b];
            memcpy(s->v + (size_t)(b + 1) * w, s->v + (size_t)b * w, sizeof(double) * w);
            b--;
        }
        s->x[b + 1] = xa;
        memcpy(s->v + (size_t)(b + 1) * w, tmp, sizeof(double) * w);
    }
    free(tmp);
}

static void figure_free(figure *f)
{
    table_free(&f->t);
    for (int m = 0; m < f->nm; m++) free(f->metric[m]);
    free(f->metric), free(f->mcol), free(f->logy), free(f->draw);
    split_free(&f->xs), split_free(&f->panel), split_free(&f->by);
    for (int k = 0; k < f->nextra; k++) split_free(&f->extra[k]);
    free(f->extra);
    names_free(&f->combos);
    for (int i = 0; i < f->ns; i++) free(f->s[i].x), free(f->s[i].v);
    free(f->s);
}

// ---------------------------------------------------------------------------
// Options against the table

// Header index of swept key `key` named by option `opt`, or an input error.
static int swept_col(const figure *f, const char *opt, const char *key, lerr *e)
{
    int k = names_find(&f->t.keys, key);
    if (k >= 0) return f->t.first_key + k;
    char list[1024], hint[128];
    if (!f->t.keys.n)
        return lerr_input(e, "%s %s: %s sweeps nothing (%s takes a swept key)", opt, key, f->o->dir, opt);
    return lerr_input(e, "%s %s: not a swept key of %s%s; swept: %s", opt, key, f->o->dir,
                      did_you_mean(&f->t.keys, key, hint, sizeof hint),
                      names_join(&f->t.keys, list, sizeof list));
}

// 1 if the other table of the folder (summary for trace, trace for summary)
// has metric m.
static int in_other_table(const figure *f, const char *m)
{
    table other;
    lerr ignored = {0};
    FILE *in = table_open(f->o->dir, f->xs.col >= 0, &other, &ignored);
    int has = in && names_find(&other.metrics, m) >= 0;
    if (in) fclose(in);
    table_free(&other);
    return has;
}

// The metrics named by --y (or the default ones the table has) and their columns.
static int pick_metrics(figure *f, lerr *e)
{
    const char *want = f->o->y ? f->o->y : "risk,align_a";
    char *copy = xstrdup(want), *save = NULL;
    int cap = 1;
    for (const char *c = want; *c; c++) cap += *c == ',';
    f->metric = xcalloc((size_t)cap, sizeof *f->metric);
    f->mcol = xcalloc((size_t)cap, sizeof *f->mcol);
    f->logy = xcalloc((size_t)cap, sizeof *f->logy);
    int rc = 0;
    if (!*want || want[strlen(want) - 1] == ',' || strstr(want, ",,"))
        rc = lerr_input(e, "--y %s: an empty metric name", want);
    for (char *m = strtok_r(copy, ",", &save); m && !rc; m = strtok_r(NULL, ",", &save)) {
        if (names_find(&f->t.metrics, m) < 0) {
            if (!f->o->y) continue;   // a default metric this table lacks
            char list[1536], hint[128];
            if (in_other_table(f, m))
                rc = lerr_input(e, "--y %s: a column of %s", m,
                                f->xs.col < 0 ? "summary.csv (one value per cell): plot it against a swept key, --x KEY"
                                              : "trace.csv (one value per logged step): plot it against --x step");
            else
                rc = lerr_input(e, "--y %s: no metric %s in %s%s; metrics: %s", m, m, f->t.path,
                                did_you_mean(&f->t.metrics, m, hint, sizeof hint),
                                names_join(&f->t.metrics, list, sizeof list));
            break;
        }
        char col[3][160];
        if (f->t.means) {
            snprintf(col[0], sizeof col[0], "%s_mean", m);
            snprintf(col[1], sizeof col[1], "%s_min", m);
            snprintf(col[2], sizeof col[2], "%s_max", m);
        } else {
            for (int j = 0; j < 3; j++) snprintf(col[j], sizeof col[j], "%s", m);
        }
        int i = f->nm++;
        f->metric[i] = xstrdup(m);
        for (int j = 0; j < 3; j++) {
            f->mcol[i][j] = names_find(&f->t.header, col[j]);
            if (f->mcol[i][j] < 0) rc = lerr_input(e, "%s: no column %s", f->t.path, col[j]);
        }
        f->logy[i] = f->o->logy || (!f->o->y && !strcmp(m, "risk"));
    }
    free(copy);
    if (!rc && !f->nm)
        rc = lerr_input(e, "%s has neither risk nor align_a; name metrics with --y (metrics: %s)",
                        f->t.path, names_join(&f->t.metrics, (char[1024]){0}, 1024));
    return rc;
}

// Roles of the swept keys: x, panel, by (default: the first key left), and
// the rest; a single-seed file's seed column joins the rest.
static int assign_keys(figure *f, lerr *e)
{
    const figure_opts *o = f->o;
    int xc = -1, pc = -1, bc = -1;
    if (o->x && strcmp(o->x, "step") && (xc = swept_col(f, "--x", o->x, e)) < 0) return -1;
    if (o->panel && (pc = swept_col(f, "--panel", o->panel, e)) < 0) return -1;
    if (o->by && (bc = swept_col(f, "--by", o->by, e)) < 0) return -1;
    if (xc >= 0 && (xc == pc || xc == bc))
        return lerr_input(e, "--x %s: the same key as --%s", o->x, xc == pc ? "panel" : "by");
    if (pc >= 0 && pc == bc) return lerr_input(e, "--by %s: the same key as --panel", o->by);
    int first = f->t.first_key, nk = f->t.keys.n;
    for (int c = first; c < first + nk && bc < 0 && !o->by; c++)
        if (c != xc && c != pc) bc = c;
    const char *const *h = (const char *const *)f->t.header.s;
    split_init(&f->xs, xc >= 0 ? h[xc] : "step", xc);
    split_init(&f->panel, pc >= 0 ? h[pc] : NULL, pc);
    split_init(&f->by, bc >= 0 ? h[bc] : NULL, bc);
    f->extra = xcalloc((size_t)nk + 1, sizeof *f->extra);
    for (int c = first; c < first + nk; c++)
        if (c != xc && c != pc && c != bc) split_init(&f->extra[f->nextra++], h[c], c);
    if (f->t.seed_col >= 0) split_init(&f->extra[f->nextra++], "seed", f->t.seed_col);
    return 0;
}

// After reading: x positions and orders; which metrics have something to
// draw.  A metric with no finite value (or, on a log axis, none > 0) has
// nothing to draw: a default one is left out (risk falls back to a linear
// axis if it is never > 0), a named one is an input error.
static int finish_data(figure *f, lerr *e)
{
    split_rank(&f->panel), split_rank(&f->by), split_rank(&f->xs);
    for (int k = 0; k < f->nextra; k++) split_rank(&f->extra[k]);
    if (!f->ns) return lerr_input(e, "%s has no rows to plot", f->t.path);
    for (int i = 0; i < f->ns; i++) {
        series *s = &f->s[i];
        if (f->xs.col >= 0)   // value index -> the number, or position 1..n
            for (int j = 0; j < s->n; j++) {
                int vi = (int)s->x[j];
                s->x[j] = f->xs.numeric ? strtod(f->xs.values.s[vi], NULL) : f->xs.rank[vi] + 1;
            }
        series_sort(s, f->nm);
    }
    f->draw = xcalloc((size_t)f->nm, sizeof(int));
    for (int m = 0; m < f->nm; m++) {
        int finite = 0, positive = 0;
        for (int i = 0; i < f->ns; i++)
            for (int j = 0; j < f->s[i].n; j++) {
                double y = f->s[i].v[((size_t)j * (size_t)f->nm + (size_t)m) * 3];
                finite += isfinite(y), positive += isfinite(y) && y > 0;
            }
        if (!f->o->y && !f->o->logy && !positive) f->logy[m] = 0;
        if (!finite && f->o->y)
            return lerr_input(e, "--y %s: nan in every row of %s, nothing to draw", f->metric[m],
                              f->t.path);
        if (finite && !positive && f->logy[m])
            return lerr_input(e, "--logy: %s is never > 0 in %s, nothing to draw on a log axis",
                              f->metric[m], f->t.path);
        f->draw[m] = finite > 0;
        f->ndraw += f->draw[m];
    }
    if (!f->ndraw)
        return lerr_input(e, "%s: risk and align_a are nan in every row; name metrics with --y",
                          f->t.path);
    return 0;
}

// ---------------------------------------------------------------------------
// The gnuplot program

// s as a gnuplot single-quoted string ('' for ').
static void gp_string(FILE *p, const char *s)
{
    fputc('\'', p);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', p);
        fputc(*s, p);
    }
    fputc('\'', p);
}

// Colour expression of line value index l (common.gp's ramps): the
// sequential ramp for numbers (and for more names than the 8 categorical
// colours), else the categorical colours.
static void line_color(const figure *f, int l, char *buf, size_t cap)
{
    int n = f->by.values.n;
    if (f->by.col < 0)
        snprintf(buf, cap, "cat_color(1)");
    else if (f->by.numeric || n > 8)
        snprintf(buf, cap, "seq_color(%d, %d)", f->by.rank[l] + 1, n);
    else
        snprintf(buf, cap, "cat_color(%d)", f->by.rank[l] + 1);
}

static int dash_of(int combo) { return combo % 5 + 1; }

// Value index with display position r.
static int at_rank(const split *s, int r)
{
    for (int i = 0; i < s->values.n; i++)
        if (s->rank[i] == r) return i;
    return 0;
}

// "k=v, k2=v2" for extras combination c: the keys with more than one value.
static void combo_label(const figure *f, int c, char *buf, size_t cap)
{
    const char *idx = f->combos.s[c];
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < f->nextra; k++) {
        int vi = (int)strtol(idx, (char **)&idx, 10);
        idx++;   // ','
        if (f->extra[k].values.n > 1 && len < cap)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s=%s", len ? ", " : "", f->extra[k].name,
                                    f->extra[k].values.s[vi]);
    }
}

// What a datablock holds: its rows, its y extent (bands included), and
// whether its band has any width.
typedef struct {
    int rows, band;
    double lo, hi;
} block;

// The datablock of series i, metric m: x, mean, min, max (finite means only;
// on a log axis means > 0, and band ends <= 0 moved to the mean).
static block write_block(FILE *p, const figure *f, int i, int m)
{
    const series *s = &f->s[i];
    block b = {.lo = INFINITY, .hi = -INFINITY};
    for (int j = 0; j < s->n; j++) {
        const double *v = &s->v[((size_t)j * (size_t)f->nm + (size_t)m) * 3];
        if (!isfinite(v[0]) || (f->logy[m] && v[0] <= 0)) continue;
        if (!b.rows) {
            fprintf(p, "# %s", f->metric[m]);
            if (f->panel.col >= 0) fprintf(p, ", %s = %s", f->panel.name, f->panel.values.s[s->panel]);
            if (f->by.col >= 0) fprintf(p, ", %s = %s", f->by.name, f->by.values.s[s->line]);
            char rest[512];
            combo_label(f, s->extra, rest, sizeof rest);
            fprintf(p, "%s%s\n$d%d_%d << EOD\n", *rest ? ", " : "", rest, i, m);
        }
        double lo = v[1], hi = v[2];
        if (!isfinite(lo) || (f->logy[m] && lo <= 0)) lo = v[0];
        if (!isfinite(hi)) hi = v[0];
        fprintf(p, "%.10g %.10g %.10g %.10g\n", s->x[j], v[0], lo, hi);
        b.rows++;
        b.band |= lo < hi;
        b.lo = fmin(b.lo, fmin(lo, v[0])), b.hi = fmax(b.hi, fmax(hi, v[0]));
    }
    if (b.rows) fprintf(p, "EOD\n");
    return b;
}

// "  plot \" before the first clause of a plot command, ", \" between clauses.
static void clause(FILE *p, int *n)
{
    fprintf(p, "%s    ", (*n)++ ? ", \\\n" : "  plot \\\n");
}

// The legend: the by key's values (colour), the other keys' combinations
// (dash) and the band, as key entries.
static void legend_entries(FILE *p, const figure *f, int band, int *nclause)
{
    char color[64], label[512];
    for (int r = 0; f->by.col >= 0 && r < f->by.values.n; r++) {
        int l = at_rank(&f->by, r);
        line_color(f, l, color, sizeof color);
        clause(p, nclause);
        fprintf(p, "keyentry with lines lw 1.5 lc rgb %s title ", color);
        gp_string(p, f->by.values.s[l]);
        fprintf(p, " noenhanced");
    }
    for (int c = 0; f->combos.n > 1 && c < f->combos.n; c++) {
        combo_label(f, c, label, sizeof label);
        clause(p, nclause);
        fprintf(p, "keyentry with lines lw 1.5 lc rgb theory_color dt %d title ", dash_of(c));
        gp_string(p, label);
        fprintf(p, " noenhanced");
    }
    if (band && f->by.col < 0) {
        clause(p, nclause);
        fprintf(p, "keyentry with lines lw 1.5 lc rgb cat_color(1) title 'mean over seeds'");
    }
    if (band) {
        clause(p, nclause);
        fprintf(p, "keyentry with filledcurves @band_style fc rgb theory_color title 'min–max over seeds'");
    }
}

// The x axis, the same in every panel: steps as they are; a swept key's
// numbers (on a log axis when they span two decades or more), or its names
// at positions 1..n.
static void x_axis(FILE *p, const figure *f)
{
    if (f->xs.col < 0) {
        fprintf(p, "  set autoscale xfix\n");
    } else if (!f->xs.numeric) {
        fprintf(p, "  set xrange [0.5:%d.5]\n  set xtics (", f->xs.values.n);
        for (int r = 0; r < f->xs.values.n; r++) {
            fprintf(p, "%s", r ? ", " : "");
            gp_string(p, f->xs.values.s[at_rank(&f->xs, r)]);
            fprintf(p, " %d", r + 1);
        }
        fprintf(p, ") noenhanced\n  unset mxtics\n");
    } else {
        double lo = INFINITY, hi = -INFINITY;
        for (int v = 0; v < f->xs.values.n; v++) {
            double x = strtod(f->xs.values.s[v], NULL);
            lo = fmin(lo, x), hi = fmax(hi, x);
        }
        if (lo > 0 && hi >= 100 * lo)
            fprintf(p, "  set logscale x\n  set format x logfmt\n  set xrange [%.10g:%.10g]\n", lo / 1.25,
                    hi * 1.25);
        else
            fprintf(p, "  set autoscale xfix\n  set offsets graph 0.04, graph 0.04, 0, 0\n");
    }
}

// The y range of panel (metric m, panel value pv): gnuplot's autoscale,
// unless every value drawn is the same number (gnuplot would warn about an
// empty range): then that value in the middle.
static void y_range(FILE *p, const figure *f, block **blk, int m, int pv)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < f->ns; i++)
        if (f->s[i].panel == pv && blk[i][m].rows) lo = fmin(lo, blk[i][m].lo), hi = fmax(hi, blk[i][m].hi);
    if (!(lo == hi))
        fprintf(p, "  set autoscale y\n");
    else if (f->logy[m])
        fprintf(p, "  set yrange [%.10g:%.10g]\n", lo / 2, lo * 2);
    else
        fprintf(p, "  set yrange [%.10g:%.10g]\n", lo - (lo ? fabs(lo) / 10 : 1), lo + (lo ? fabs(lo) / 10 : 1));
}

static void write_program(FILE *p, const figure *f, const char *common_gp, const char *stem)
{
    const figure_opts *o = f->o;
    int npanel = f->panel.col >= 0 ? f->panel.values.n : 1, nrow = f->ndraw;

    fprintf(p, "# written by loralab plot for ");
    gp_string(p, o->dir);
    fprintf(p, ": loralab computed the data below, gnuplot only draws.\nDIR = ");
    gp_string(p, o->dir);
    fprintf(p, "\nskip_sweep_gp = 1\nload ");
    gp_string(p, common_gp);
    fprintf(p, "\nset datafile separator whitespace   # the datablocks below: x mean min max\n"
               "set datafile nocolumnheaders\nOUT = ");
    gp_string(p, stem);
    fprintf(p, "\n\n");
    block **blk = xcalloc((size_t)f->ns + 1, sizeof *blk);   // block (i, m)
    int band = 0;   // a band with some width somewhere
    for (int i = 0; i < f->ns; i++) {
        blk[i] = xcalloc((size_t)f->nm, sizeof(block));
        for (int m = 0; m < f->nm; m++)
            if (f->draw[m]) blk[i][m] = write_block(p, f, i, m);
        for (int m = 0; m < f->nm; m++) band |= blk[i][m].band;
    }

    // Legend width from its longest text.
    char label[512];
    int maxlen = 0, legend = 0;
    for (int l = 0; f->by.col >= 0 && l < f->by.values.n; l++) {
        int n = (int)strlen(f->by.values.s[l]);
        maxlen = n > maxlen ? n : maxlen;
        legend = 1;
    }
    if (f->by.col >= 0 && (int)strlen(f->by.name) > maxlen) maxlen = (int)strlen(f->by.name);
    for (int c = 0; f->combos.n > 1 && c < f->combos.n; c++) {
        combo_label(f, c, label, sizeof label);
        int n = (int)strlen(label);
        maxlen = n > maxlen ? n : maxlen;
        legend = 1;
    }
    if (band) maxlen = maxlen > 19 ? maxlen : 19, legend = 1;

    // Layout in inches, then screen fractions.
    double pw = npanel == 1 ? 4.4 : 3.2, ph = nrow == 1 ? 3.0 : 2.4;
    double ml = 0.85, mb = 0.6, sx = 0.75, sy = 0.45, mt = f->panel.col >= 0 ? 0.45 : 0.2;
    double lw = legend ? fmin(fmax(0.085 * maxlen + 0.8, 1.2), 7.0) : 0.25;
    double W = ml + npanel * pw + (npanel - 1) * sx + lw, H = mb + nrow * ph + (nrow - 1) * sy + mt;
    fprintf(p, "\nW = %.3f; H = %.3f   # inches\n", W, H);
    fprintf(p, "do for [fmt in FORMATS] {\n  eval begin_fig_file(OUT, fmt, W, H)\n");
    fprintf(p, "  set multiplot layout %d, %d margins %.4f, %.4f, %.4f, %.4f spacing %.4f, %.4f\n", nrow,
            npanel, ml / W, (W - lw) / W, mb / H, (H - mt) / H, sx / W, sy / H);
    x_axis(p, f);

    int row = 0, first_panel = 1;
    for (int m = 0; m < f->nm; m++) {
        if (!f->draw[m]) continue;
        for (int pr = 0; pr < npanel; pr++) {
            int pv = f->panel.col >= 0 ? at_rank(&f->panel, pr) : 0;
            fprintf(p, "\n  # %s, panel %d\n", f->metric[m], pr + 1);
            if (f->panel.col >= 0 && row == 0) {
                snprintf(label, sizeof label, "%s = %s", f->panel.name, f->panel.values.s[pv]);
                fprintf(p, "  set title ");
                gp_string(p, label);
                fprintf(p, " noenhanced\n");
            } else if (f->panel.col >= 0) {
                fprintf(p, "  unset title\n");
            }
            fprintf(p, "  set xlabel ");
            gp_string(p, row == nrow - 1 ? f->xs.name : "");
            fprintf(p, " noenhanced\n  set ylabel ");
            gp_string(p, pr == 0 ? f->metric[m] : "");
            fprintf(p, " noenhanced\n");
            if (f->logy[m])
                fprintf(p, "  set logscale y; set format y logfmt\n");
            else
                fprintf(p, "  unset logscale y; set format y '%%g'\n");
            y_range(p, f, blk, m, pv);
            if (first_panel && legend) {
                fprintf(p, "  set key at screen %.4f, screen %.4f left top Left reverse", (W - lw + 0.1) / W,
                        (H - mt) / H);
                if (f->by.col >= 0) {
                    fprintf(p, " title ");
                    gp_string(p, f->by.name);
                    fprintf(p, " noenhanced");
                }
                fprintf(p, "\n");
            } else {
                fprintf(p, "  unset key\n");
            }
            // bands first (under every line), then lines, then the legend
            int nclause = 0;
            for (int pass = 0; pass < 2; pass++)
                for (int i = 0; i < f->ns; i++) {
                    const series *s = &f->s[i];
                    if (s->panel != pv || !blk[i][m].rows || (pass == 0 && !blk[i][m].band)) continue;
                    char color[64];
                    line_color(f, s->line, color, sizeof color);
                    clause(p, &nclause);
                    if (pass == 0)
                        fprintf(p, "$d%d_%d using 1:3:4 with filledcurves @band_style fc rgb %s notitle", i, m,
                                color);
                    else
                        fprintf(p, "$d%d_%d using 1:2 with %s lw 1.5 lc rgb %s dt %d notitle", i, m,
                                f->xs.col >= 0 ? "linespoints pt 7 ps 0.7 * PS" : "lines", color,
                                dash_of(s->extra));
                }
            if (first_panel && legend) legend_entries(p, f, band, &nclause);
            if (!nclause)   // nothing in this panel: an empty frame saying so
                fprintf(p, "  set label 1 'no finite values' at graph 0.5, graph 0.5 center\n"
                           "  unset logscale y\n  plot [] [0:1] NaN notitle\n  unset label 1");
            fprintf(p, "\n");
            first_panel = 0;
        }
        row++;
    }
    fprintf(p, "  eval end_fig\n}\n");
    for (int i = 0; i < f->ns; i++) free(blk[i]);
    free(blk);
}

// The default output stem: DIR/<y>-vs-<x>[-by-<key>][-per-<key>].
static char *default_stem(const figure *f)
{
    size_t cap = 64 + strlen(f->xs.name) + (f->by.name ? strlen(f->by.name) : 0) +
                 (f->panel.name ? strlen(f->panel.name) : 0);
    for (int m = 0; m < f->nm; m++) cap += strlen(f->metric[m]) + 1;
    char *name = xmalloc(cap);
    size_t len = 0;
    for (int m = 0; m < f->nm; m++) len += (size_t)snprintf(name + len, cap - len, "%s%s", m ? "-" : "", f->metric[m]);
    len += (size_t)snprintf(name + len, cap - len, "-vs-%s", f->xs.name);
    if (f->by.name) len += (size_t)snprintf(name + len, cap - len, "-by-%s", f->by.name);
    if (f->panel.name) snprintf(name + len, cap - len, "-per-%s", f->panel.name);
    char *stem = path_join(f->o->dir, name);
    free(name);
    return stem;
}

// --out FILE: its stem (.png / .pdf dropped); its folder must exist.
static char *out_stem(const char *out, lerr *e)
{
    char *stem = xstrdup(out);
    size_t n = strlen(stem);
    if (n > 4 && (!strcmp(stem + n - 4, ".png") || !strcmp(stem + n - 4, ".pdf"))) stem[n - 4] = '\0';
    char *slash = strrchr(stem, '/');
    struct stat st;
    if (!*stem || (slash && slash[1] == '\0')) {
        lerr_input(e, "--out %s: give a file name (the figure is written as NAME.png and NAME.pdf)", out);
    } else if (slash && slash != stem) {
        *slash = '\0';
        if (stat(stem, &st) || !S_ISDIR(st.st_mode)) lerr_input(e, "--out %s: no folder %s", out, stem);
        *slash = '/';
    }
    if (e->kind) {
        free(stem);
        return NULL;
    }
    return stem;
}

int figure_program(const figure_opts *o, const char *common_gp, char **program, char **stem,
                   lerr *e)
{
    *program = *stem = NULL;
    figure f = {.o = o};
    int trace = !o->x || !strcmp(o->x, "step");
    FILE *in = table_open(o->dir, trace, &f.t, e);
    if (!in) {
        table_free(&f.t);
        return -1;
    }
    int rc = assign_keys(&f, e);
    if (!rc) rc = pick_metrics(&f, e);
    if (!rc) read_rows(&f, in);
    fclose(in);
    if (!rc) rc = finish_data(&f, e);
    if (!rc) *stem = o->out ? out_stem(o->out, e) : default_stem(&f);
    if (!rc && !*stem) rc = -1;
    if (!rc && strpbrk(*stem, "'\"\n"))
        rc = lerr_input(e, "%s: quotes or newlines in the output path are not supported", *stem);
    if (!rc) {
        size_t len = 0;
        FILE *p = open_memstream(program, &len);
        write_program(p, &f, common_gp, *stem);
        fclose(p);
    }
    if (rc) free(*stem), *stem = NULL;
    figure_free(&f);
    return rc;
}
