// check_pair.c: paired comparisons of a claim's arms (see check_pair.h).
//
// Given arms a, b (and ref) and a metric x:
//   key columns   the columns from just after `cell` to `seed` (the swept keys
//                 and the seed) and `step` when the table has it, less those
//                 holding one text within every arm (they name the arms, or
//                 do not vary); every row of an arm must have exactly one
//                 row with its key in every other arm
//   per pair      q(u, v) = u - v | u / v | ln(u / v) | |u - v| | |ln(u / v)|
//                 (compare:), with u = x[a], v = x[b]; with ref, the pair of
//                 numbers q(x[a], x[ref]) and q(x[b], x[ref])
//   along: COL    curves: the pairs sharing every key column but COL; per
//                 curve, each number is reduced over the curve's pairs by
//                 along_reduce (mean | max | min | final: the pair with the
//                 largest COL)
//   value         per curve (or per pair without along:) the number, or with
//                 ref the first number over the second: d(a, ref) / d(b, ref)
//   measured      max | min | mean of the values, or their count (reduce:)
#include "check_pair.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"

int pair_compare_valid(const char *how)
{
    return how && (!strcmp(how, "diff") || !strcmp(how, "ratio") || !strcmp(how, "log_ratio") ||
                   !strcmp(how, "abs_diff") || !strcmp(how, "abs_log_ratio"));
}

int pair_along_reduce_valid(const char *how)
{
    return how && (!strcmp(how, "mean") || !strcmp(how, "max") || !strcmp(how, "min") ||
                   !strcmp(how, "final"));
}

int pair_reduce_valid(const char *how)
{
    return how && (!strcmp(how, "max") || !strcmp(how, "min") || !strcmp(how, "mean") ||
                   !strcmp(how, "count"));
}

static int column(char *const *header, int ncols, const char *name)
{
    for (int j = 0; j < ncols; j++)
        if (!strcmp(header[j], name)) return j;
    return -1;
}

static double num(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    return *s && !*end ? v : NAN;
}

// q(u, v) of `how` (see the top of the file).
static double compare(const char *how, double u, double v)
{
    if (!strcmp(how, "diff")) return u - v;
    if (!strcmp(how, "ratio")) return u / v;
    if (!strcmp(how, "abs_diff")) return fabs(u - v);
    double l = u > 0 && v > 0 ? log(u / v) : NAN;   // ln of a non-positive value: no number
    return !strcmp(how, "log_ratio") ? l : fabs(l);
}

// mean / max / min / final of v[0 .. n) (n >= 1, no NaN; final: the last).
static double reduce_values(const char *how, const double *v, int n)
{
    double acc = v[0];
    for (int i = 1; i < n; i++) {
        if (!strcmp(how, "max")) acc = fmax(acc, v[i]);
        else if (!strcmp(how, "min")) acc = fmin(acc, v[i]);
        else if (!strcmp(how, "final")) acc = v[i];
        else acc += v[i];
    }
    return !strcmp(how, "mean") ? acc / n : acc;
}

// One row of an arm with its pairing key.
typedef struct {
    char *key;      // the key columns' texts, each followed by '\x1f'
    char *curve;    // the same without the along column
    double along;   // the along column's value (NaN without along:)
    int row;        // index into the table's rows
    int pair;       // the pair (or tuple) it belongs to
} keyed;

static int by_key(const void *x, const void *y)
{
    const keyed *p = x, *q = y;
    int c = strcmp(p->key, q->key);
    return c ? c : (p->row > q->row) - (p->row < q->row);   // ties in file order
}

static int by_curve(const void *x, const void *y)
{
    const keyed *p = x, *q = y;
    int c = strcmp(p->curve, q->curve);
    return c ? c : p->along < q->along ? -1 : p->along > q->along;
}

// "lora.rank=8, seed=0, step=10": the key columns of row r.
// Column `skip` (the along column, for a curve; -1: none) is left out.
static void describe(char *buf, size_t n, char *const *header, char *const *r, const int *kc, int nk,
                     int skip)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int k = 0; k < nk && o < n; k++)
        if (kc[k] != skip)
            o += (size_t)snprintf(buf + o, n - o, "%s%s=%s", o ? ", " : "", header[kc[k]], r[kc[k]]);
    if (o == 0) snprintf(buf, n, "(no key column varies within an arm)");
}

// Text of rows[i]'s key columns kc[0 .. nk), skipping column `skip`.
static char *key_text(char *const *r, const int *kc, int nk, int skip)
{
    size_t len = 1;
    for (int k = 0; k < nk; k++) len += strlen(r[kc[k]]) + 1;
    char *s = xmalloc(len), *o = s;
    for (int k = 0; k < nk; k++) {
        if (kc[k] == skip) continue;
        size_t l = strlen(r[kc[k]]);
        memcpy(o, r[kc[k]], l);
        o += l;
        *o++ = '\x1f';
    }
    *o = '\0';
    return s;
}

int pair_measure(const pair_spec *p, char *const *header, int ncols, char **const *rows,
                 const int *idx, int n, double *measured, char *why, size_t nwhy, lerr *e)
{
    const char *filt[3] = {p->a, p->b, p->ref}, *arm[3] = {"a", "b", "ref"};
    const char *along_how = p->along_reduce ? p->along_reduce : "mean";
    int narms = p->ref ? 3 : 2, rc = -1;
    *measured = NAN;
    int mc = column(header, ncols, p->metric), ac = p->along ? column(header, ncols, p->along) : -1;
    if (mc < 0) return lerr_input(e, "no column '%s' in the table", p->metric);
    if (p->along && ac < 0) return lerr_input(e, "along: no column '%s' in the table", p->along);
    expr *x[3] = {NULL, NULL, NULL};
    for (int k = 0; k < narms; k++)
        if (!(x[k] = expr_parse(filt[k], (const char *const *)header, ncols, e))) {
            for (int j = 0; j < k; j++) expr_free(x[j]);
            return lerr_prefix(e, "%s: ", arm[k]);
        }
    int cc = column(header, ncols, "cell"), sc = column(header, ncols, "seed");
    int tc = column(header, ncols, "step");
    keyed *kr[3] = {NULL, NULL, NULL};
    int na[3] = {0, 0, 0}, nk = 0;
    int *kc = xcalloc((size_t)ncols + 1, sizeof(int));
    double *qa = NULL, *qb = NULL, *val = NULL;
    char desc[512];
    for (int k = 0; k < narms; k++) kr[k] = xcalloc((size_t)n + 1, sizeof(keyed));
    // the arms' rows; a row in two arms is a failure
    for (int i = 0; i < n; i++) {
        int in = -1;
        for (int k = 0; k < narms; k++) {
            if (!expr_true(x[k], (const char *const *)rows[idx[i]])) continue;
            if (in >= 0) {
                snprintf(why, nwhy, "a row of cell %s is in arms %s (%s) and %s (%s): the arms overlap",
                         cc >= 0 ? rows[idx[i]][cc] : "?", arm[in], filt[in], arm[k], filt[k]);
                goto done;
            }
            in = k;
        }
        if (in >= 0) kr[in][na[in]++].row = idx[i];
    }
    for (int k = 0; k < narms; k++)
        if (na[k] == 0) {
            snprintf(why, nwhy, "arm %s (%s) matches no rows%s", arm[k], filt[k],
                     n ? "" : " (no row passes where)");
            goto done;
        }
    if (cc < 0 || sc < cc) {
        snprintf(why, nwhy, "the table has no cell and seed columns to pair rows on");
        goto done;
    }
    // the key columns: those after cell up to seed, and step, less those with
    // one text within every arm
    for (int j = cc + 1; j <= sc + 1; j++) {
        int col = j <= sc ? j : tc;   // after seed: step, if the table has it
        if (j > sc && tc <= sc) continue;
        int varies = 0;
        for (int k = 0; k < narms && !varies; k++)
            for (int i = 1; i < na[k] && !varies; i++)
                varies = strcmp(rows[kr[k][i].row][col], rows[kr[k][0].row][col]) != 0;
        if (varies) kc[nk++] = col;
    }
    for (int k = 0; k < narms; k++) {
        for (int i = 0; i < na[k]; i++) {
            char *const *r = rows[kr[k][i].row];
            kr[k][i].key = key_text(r, kc, nk, -1);
            kr[k][i].curve = key_text(r, kc, nk, ac);
            kr[k][i].along = ac >= 0 ? num(r[ac]) : NAN;
        }
        qsort(kr[k], (size_t)na[k], sizeof(keyed), by_key);
        for (int i = 1; i < na[k]; i++)
            if (!strcmp(kr[k][i].key, kr[k][i - 1].key)) {
                describe(desc, sizeof desc, header, rows[kr[k][i].row], kc, nk, -1);
                snprintf(why, nwhy, "arm %s (%s) has two rows with the key %s (cells %s and %s): the pairing "
                         "is ambiguous", arm[k], filt[k], desc, rows[kr[k][i - 1].row][cc], rows[kr[k][i].row][cc]);
                goto done;
            }
    }
    // every key of arm a in every other arm and back (sorted, unique: a merge)
    for (int k = 1; k < narms; k++) {
        int lone[2] = {0, 0}, first[2] = {-1, -1};
        for (int i = 0, j = 0; i < na[0] || j < na[k];) {
            int c = i == na[0] ? 1 : j == na[k] ? -1 : strcmp(kr[0][i].key, kr[k][j].key);
            if (c < 0) {
                if (!lone[0]++) first[0] = kr[0][i].row;
                i++;
            } else if (c > 0) {
                if (!lone[1]++) first[1] = kr[k][j].row;
                j++;
            } else
                i++, j++;
        }
        for (int s = 0; s < 2; s++) {
            if (!lone[s]) continue;
            const char *from = s ? arm[k] : arm[0], *to = s ? arm[0] : arm[k];
            describe(desc, sizeof desc, header, rows[first[s]], kc, nk, -1);
            snprintf(why, nwhy, "%d of %d rows of arm %s have no partner in arm %s (first: %s)%s", lone[s],
                     s ? na[k] : na[0], from, to, desc,
                     lone[s] == (s ? na[k] : na[0]) ? ": no pair at all" : "");
            goto done;
        }
    }
    // the arms now hold the same keys in the same order: tuple t is row t of each
    int np = na[0];
    qa = dalloc((size_t)np), qb = dalloc((size_t)np), val = dalloc((size_t)np);
    int bad = 0, first_bad = -1;
    for (int t = 0; t < np; t++) {
        double u = num(rows[kr[0][t].row][mc]), v = num(rows[kr[1][t].row][mc]);
        if (p->ref) {
            double w = num(rows[kr[2][t].row][mc]);
            qa[t] = compare(p->compare, u, w), qb[t] = compare(p->compare, v, w);
        } else {
            qa[t] = compare(p->compare, u, v), qb[t] = 0;
        }
        if (isnan(qa[t]) || isnan(qb[t])) {
            if (!bad++) first_bad = t;
        }
        kr[0][t].pair = t;
    }
    if (bad) {
        describe(desc, sizeof desc, header, rows[kr[0][first_bad].row], kc, nk, -1);
        snprintf(why, nwhy, "%d of %d pairs give no number for %s (first: %s, %s = %s / %s%s%s)", bad, np,
                 p->compare, desc, p->metric, rows[kr[0][first_bad].row][mc], rows[kr[1][first_bad].row][mc],
                 p->ref ? " / " : "", p->ref ? rows[kr[2][first_bad].row][mc] : "");
        goto done;
    }
    int nv = 0;
    if (ac >= 0) {
        // curves: arm a's rows sorted by curve, then along; the values of a curve are consecutive
        qsort(kr[0], (size_t)np, sizeof(keyed), by_curve);
        double *ca = dalloc((size_t)np), *cb = dalloc((size_t)np);
        for (int s = 0; s < np;) {
            int m = 0;
            for (; s + m < np && !strcmp(kr[0][s + m].curve, kr[0][s].curve); m++)
                ca[m] = qa[kr[0][s + m].pair], cb[m] = qb[kr[0][s + m].pair];
            double va = reduce_values(along_how, ca, m), vb = reduce_values(along_how, cb, m);
            val[nv++] = p->ref ? va / vb : va;
            if (isnan(val[nv - 1]) && !bad++) first_bad = s;
            s += m;
        }
        free(ca), free(cb);
    } else {
        for (int t = 0; t < np; t++) {
            val[nv++] = p->ref ? qa[t] / qb[t] : qa[t];
            if (isnan(val[t]) && !bad++) first_bad = t;
        }
    }
    if (bad) {   // with ref, 0 / 0: both arms at the reference
        describe(desc, sizeof desc, header, rows[kr[0][first_bad].row], kc, nk, ac);
        snprintf(why, nwhy, "%d of %d %s give 0 / 0 (first: %s)", bad, nv, ac >= 0 ? "curves" : "pairs", desc);
        goto done;
    }
    *measured = !strcmp(p->reduce, "count") ? nv : reduce_values(p->reduce, val, nv);
    rc = 0;
done:
    for (int k = 0; k < narms; k++) {
        for (int i = 0; i < na[k]; i++) free(kr[k][i].key), free(kr[k][i].curve);
        free(kr[k]);
        expr_free(x[k]);
    }
    free(kc), free(qa), free(qb), free(val);
    return rc;
}

void pair_text(const pair_spec *p, char *buf, size_t n)
{
    char q[2][256];
    const char *other = p->ref ? "ref" : "b";
    for (int s = 0; s < (p->ref ? 2 : 1); s++) {
        const char *u = s ? "b" : "a", *m = p->metric, *h = p->compare;
        char core[200];
        if (!strcmp(h, "diff")) snprintf(core, sizeof core, "%s[%s] - %s[%s]", m, u, m, other);
        else if (!strcmp(h, "ratio")) snprintf(core, sizeof core, "%s[%s] / %s[%s]", m, u, m, other);
        else if (!strcmp(h, "abs_diff")) snprintf(core, sizeof core, "|%s[%s] - %s[%s]|", m, u, m, other);
        else if (!strcmp(h, "log_ratio")) snprintf(core, sizeof core, "ln(%s[%s] / %s[%s])", m, u, m, other);
        else snprintf(core, sizeof core, "|ln(%s[%s] / %s[%s])|", m, u, m, other);
        if (p->along)
            snprintf(q[s], sizeof q[s], "%s_%s(%s)", p->along_reduce ? p->along_reduce : "mean", p->along, core);
        else
            snprintf(q[s], sizeof q[s], "%s", core);
    }
    snprintf(buf, n, "%s over %s of %s%s%s", p->reduce, p->along ? "curves" : "pairs", q[0],
             p->ref ? " / " : "", p->ref ? q[1] : "");
}
