// check.c: the claims registry (theory/claims.yaml) and its verdicts.
//
// A claim names an experiment and lists predicates over its trace.csv or
// summary.csv: filter rows (`where`, see expr.h), reduce a column to one
// number (`reduce`), compare it (`op`, `value`).  Reductions:
//   max | min | mean       over the column's numeric values (NaN skipped)
//   final                  the last matching row's value
//   count                  the number of matching rows; with `count_where`, the
//                          number of them that also match it (so "no row breaks
//                          the bound" is count 0 over a base that must not be empty)
//   fraction               the share of matching rows whose column equals `equals`
//   ratio | growth         per group of rows (`group` column), reduce by
//                          `group_reduce` (mean | max | min | final), then
//                          max/min over groups (ratio) or the value of the largest
//                          numeric group key over that of the smallest (growth)
// A paired predicate (`a:`, `b:`, optional `ref:` filters picking the arms of
// one experiment, `compare:`, optional `along:`) pairs the arms' rows on their
// key columns and reduces a per-pair comparison of the metric: check_pair.c.
// A predicate that matches no rows (or no numeric value) fails with that
// reason.  `report: true` predicates are measured and shown, never failed.
//
// `hypotheses:` (optional) lists the theorem's conditions, each a filter
// `when:` over one cell: the names of summary.csv's columns, then every
// resolved setting of the cell (each key config_write writes, swept or
// not, from the experiment file after --quick's overrides; a swept key reads
// its column).  `checkable: false` (with `reason:`) lists a condition no
// measurement decides, never evaluated.  A cell is inside when every
// checkable hypothesis holds; each predicate is judged on the inside cells'
// rows (PASS / FAIL) and on the outside ones' (HOLDS / BREAKS, "-" when no
// row is there), trace rows going with their `cell`.  A claim without an
// inside cell is UNTESTED.  The exit status follows the inside part only:
// 1 when a predicate FAILs there, or a claim is UNTESTED without
// `untested_reason:`.
//
// `experiment:` names a file: a value holding '/' or ending in .yaml/.yml is
// a path (absolute, or from the claims file's folder), any other value NAME
// is experiments/NAME.yaml beside the claims file's folder.  Results go where
// `loralab run FILE` puts them, results/<name>/ under the working directory
// (results/quick/<name>/ with --quick).  Input errors (exit 2) name the
// claims file's file:line:col: experiment files are read and checked before
// anything runs, the columns a predicate names once the CSVs exist and
// before any verdict.
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "build_info.h"
#include "cells.h"
#include "check_pair.h"
#include "config.h"
#include "csv.h"
#include "expr.h"
#include "plot.h"
#include "run.h"

typedef struct {
    int line, col;     // 1-based place of a value in the claims file
} mark;

typedef struct {
    char *where, *count_where, *table, *metric, *reduce, *equals, *group, *group_reduce, *op;
    char *a, *b, *ref, *compare, *along, *along_reduce;   // a paired comparison (check_pair.h)
    double value;
    int report, line;
    mark at_where, at_count_where, at_metric, at_group, at_a, at_b, at_ref, at_along;
} pred;

// A hypothesis of a claim: a filter over one cell (its summary.csv row and
// every resolved setting), or, with checkable: false, a condition no
// measurement decides (listed with its reason, never evaluated).
typedef struct {
    char *when, *statement, *source, *reason;
    int checkable;
    mark at_when;
} hyp;

typedef struct {
    char *id, *source, *statement, *experiment, *untested_reason;
    hyp *hyps;
    int nhyps;
    char **quick;      // "key=value" --set arguments
    int nquick;
    char **figures;
    int nfigures;
    pred *preds;
    int npreds;
    int line;
    mark at_experiment;
    // resolved by resolve_experiment (selected claims only)
    char *exp_file;    // the experiment file
    char *exp_name;    // its name (name: or the file's stem, after the quick overrides)
    char *dir;         // results folder: ROOT/<exp_name>
    // filled by claim_cells once the results exist (selected claims only)
    int ncells;        // the cells: summary.csv's rows
    char **cell_ids;   // their ids (its `cell` column)
    int *inside;       // per cell: 1 when every checkable hypothesis holds
    int ninside;
    int *hcount;       // per hypothesis: the cells where it holds (checkable ones)
} claim;

typedef struct {
    claim *c;
    int n;
} claim_list;

// ---------------------------------------------------------------------------
// Reading the claims file (libyaml's document API)

typedef struct {
    yaml_document_t doc;
    const char *file;
    lerr *e;
} yctx;

static int yfail(yctx *y, yaml_node_t *n, const char *fmt, const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, arg);
    return lerr_input(y->e, "%s:%zu:%zu: %s", y->file, n ? n->start_mark.line + 1 : 0,
                      n ? n->start_mark.column + 1 : 0, msg);
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

// A copy of the scalar n (or the text of a flow value for `quick`).
static char *yaml_text(yctx *y, yaml_node_t *n)
{
    if (n->type == YAML_SCALAR_NODE) return xstrdup(scalar(n));
    // sequences (e.g. log.save: [a]): flatten to flow text
    size_t cap = 64, len = 0;
    char *s = xmalloc(cap);
    s[len++] = '[';
    if (n->type == YAML_SEQUENCE_NODE)
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
            char *v = yaml_text(y, yaml_document_get_node(&y->doc, *it));
            size_t need = len + strlen(v) + 4;
            if (need >= cap) s = xrealloc(s, cap = 2 * need);
            len += (size_t)sprintf(s + len, "%s%s", it == n->data.sequence.items.start ? "" : ", ", v);
            free(v);
        }
    s[len++] = ']';
    s[len] = '\0';
    return s;
}

static int read_pred(yctx *y, yaml_node_t *m, pred *p)
{
    if (m->type != YAML_MAPPING_NODE) return yfail(y, m, "a predicate must be a mapping%s", "");
    memset(p, 0, sizeof *p);
    p->line = (int)m->start_mark.line + 1;
    p->value = NAN;
    for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < m->data.mapping.pairs.top; q++) {
        yaml_node_t *kn = yaml_document_get_node(&y->doc, q->key);
        yaml_node_t *vn = yaml_document_get_node(&y->doc, q->value);
        const char *k = scalar(kn), *v = scalar(vn);
        if (!k || !v) return yfail(y, vn, "predicate keys take plain values%s", "");
        char **slot = !strcmp(k, "where") ? &p->where : !strcmp(k, "count_where") ? &p->count_where
                    : !strcmp(k, "table") ? &p->table
                    : !strcmp(k, "metric") ? &p->metric : !strcmp(k, "reduce") ? &p->reduce
                    : !strcmp(k, "equals") ? &p->equals : !strcmp(k, "group") ? &p->group
                    : !strcmp(k, "group_reduce") ? &p->group_reduce : !strcmp(k, "op") ? &p->op
                    : !strcmp(k, "a") ? &p->a : !strcmp(k, "b") ? &p->b : !strcmp(k, "ref") ? &p->ref
                    : !strcmp(k, "compare") ? &p->compare : !strcmp(k, "along") ? &p->along
                    : !strcmp(k, "along_reduce") ? &p->along_reduce
                    : NULL;
        if (slot) {
            *slot = xstrdup(v);
            mark at = {(int)vn->start_mark.line + 1, (int)vn->start_mark.column + 1};
            if (slot == &p->where) p->at_where = at;
            if (slot == &p->count_where) p->at_count_where = at;
            if (slot == &p->metric) p->at_metric = at;
            if (slot == &p->group) p->at_group = at;
            if (slot == &p->a) p->at_a = at;
            if (slot == &p->b) p->at_b = at;
            if (slot == &p->ref) p->at_ref = at;
            if (slot == &p->along) p->at_along = at;
        } else if (!strcmp(k, "value")) {
            char *end;
            p->value = strtod(v, &end);
            if (!*v || *end) return yfail(y, vn, "value must be a number, got '%s'", v);
        } else if (!strcmp(k, "report")) p->report = !strcmp(v, "true") || !strcmp(v, "yes");
        else return yfail(y, kn, "unknown predicate key '%s' (valid: where, count_where, table, metric, "
                          "reduce, equals, group, group_reduce, op, value, report; paired: a, b, ref, compare, along, "
                          "along_reduce)", k);
    }
    const char *reds = " max min mean final count fraction ratio growth ";
    char pad[64];
    if (!p->metric) return yfail(y, m, "a predicate needs metric:%s", "");
    if (!p->reduce) return yfail(y, m, "a predicate needs reduce:%s", "");
    if (p->a || p->b || p->ref || p->compare || p->along || p->along_reduce) {   // paired
        if (!p->a || !p->b) return yfail(y, m, "a paired predicate needs a: and b: (filters picking its arms)%s", "");
        if (!pair_compare_valid(p->compare))
            return yfail(y, m, "a paired predicate needs compare: diff, ratio, log_ratio, abs_diff or "
                         "abs_log_ratio%s", "");
        if (!pair_reduce_valid(p->reduce))
            return yfail(y, m, "a paired predicate reduces with max, min, mean or count (got '%s')", p->reduce);
        if (p->along_reduce && !p->along) return yfail(y, m, "along_reduce: goes with along:%s", "");
        if (p->along_reduce && !pair_along_reduce_valid(p->along_reduce))
            return yfail(y, m, "along_reduce must be one of: mean max min final (got '%s')", p->along_reduce);
        if (p->count_where || p->equals || p->group || p->group_reduce)
            return yfail(y, m, "count_where:, equals:, group: and group_reduce: do not go with a paired "
                         "predicate (a:, b:)%s", "");
    }
    snprintf(pad, sizeof pad, " %s ", p->reduce);
    if (!strstr(reds, pad)) return yfail(y, m, "reduce must be one of:%s", reds);
    if (!p->op || !strstr(" < <= > >= == != ", (snprintf(pad, sizeof pad, " %s ", p->op), pad)))
        return yfail(y, m, "op must be one of < <= > >= == != (as a quoted string)%s", "");
    if (isnan(p->value)) return yfail(y, m, "a predicate needs value:%s", "");
    if (p->count_where && strcmp(p->reduce, "count"))
        return yfail(y, m, "count_where goes with reduce: count%s", "");
    if (!strcmp(p->reduce, "fraction") && !p->equals)
        return yfail(y, m, "reduce: fraction needs equals:%s", "");
    if (p->equals && strcmp(p->reduce, "fraction"))
        return yfail(y, m, "equals: goes with reduce: fraction%s", "");
    int grouped = !strcmp(p->reduce, "ratio") || !strcmp(p->reduce, "growth");
    if (grouped && !p->group) return yfail(y, m, "reduce: %s needs group:", p->reduce);
    if (!grouped && (p->group || p->group_reduce))
        return yfail(y, m, "group: and group_reduce: go with reduce: ratio or growth%s", "");
    if (p->group_reduce && !strstr(" mean max min final ", (snprintf(pad, sizeof pad, " %s ", p->group_reduce), pad)))
        return yfail(y, m, "group_reduce must be one of: mean max min final (got '%s')", p->group_reduce);
    if (p->table && strcmp(p->table, "trace") && strcmp(p->table, "summary"))
        return yfail(y, m, "table must be trace or summary, got '%s'", p->table);
    return 0;
}

static int read_hyp(yctx *y, yaml_node_t *m, hyp *h)
{
    if (m->type != YAML_MAPPING_NODE) return yfail(y, m, "a hypothesis must be a mapping%s", "");
    memset(h, 0, sizeof *h);
    h->checkable = 1;
    for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < m->data.mapping.pairs.top; q++) {
        yaml_node_t *kn = yaml_document_get_node(&y->doc, q->key);
        yaml_node_t *vn = yaml_document_get_node(&y->doc, q->value);
        const char *k = scalar(kn), *v = scalar(vn);
        if (!k || !v) return yfail(y, vn, "hypothesis keys take plain values%s", "");
        char **slot = !strcmp(k, "when") ? &h->when : !strcmp(k, "statement") ? &h->statement
                    : !strcmp(k, "source") ? &h->source : !strcmp(k, "reason") ? &h->reason : NULL;
        if (slot) {
            free(*slot);
            *slot = xstrdup(v);
            if (slot == &h->when) h->at_when = (mark){(int)vn->start_mark.line + 1, (int)vn->start_mark.column + 1};
        } else if (!strcmp(k, "checkable")) {
            if (!strcmp(v, "true") || !strcmp(v, "yes")) h->checkable = 1;
            else if (!strcmp(v, "false") || !strcmp(v, "no")) h->checkable = 0;
            else return yfail(y, vn, "checkable takes true or false, got '%s'", v);
        } else
            return yfail(y, kn, "unknown hypothesis key '%s' (valid: when, statement, source, "
                         "checkable, reason)", k);
    }
    if (!h->statement || !h->source) return yfail(y, m, "a hypothesis needs statement: and source:%s", "");
    if (h->checkable && !h->when)
        return yfail(y, m, "a hypothesis needs when: (a filter over a cell), or checkable: false "
                     "with reason:%s", "");
    if (!h->checkable && !h->reason)
        return yfail(y, m, "checkable: false needs reason: (why no measurement decides it)%s", "");
    return 0;
}

static int read_claim(yctx *y, yaml_node_t *m, claim *c)
{
    if (m->type != YAML_MAPPING_NODE) return yfail(y, m, "a claim must be a mapping%s", "");
    memset(c, 0, sizeof *c);
    c->line = (int)m->start_mark.line + 1;
    for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < m->data.mapping.pairs.top; q++) {
        yaml_node_t *kn = yaml_document_get_node(&y->doc, q->key);
        yaml_node_t *vn = yaml_document_get_node(&y->doc, q->value);
        const char *k = scalar(kn);
        if (!k) return yfail(y, kn, "claim keys must be plain%s", "");
        if (!strcmp(k, "id") || !strcmp(k, "source") || !strcmp(k, "statement") ||
            !strcmp(k, "experiment") || !strcmp(k, "untested_reason")) {
            if (!scalar(vn)) return yfail(y, vn, "%s takes a plain value", k);
            char **slot = !strcmp(k, "id") ? &c->id : !strcmp(k, "source") ? &c->source
                        : !strcmp(k, "statement") ? &c->statement
                        : !strcmp(k, "untested_reason") ? &c->untested_reason : &c->experiment;
            free(*slot);
            *slot = xstrdup(scalar(vn));
            if (slot == &c->experiment)
                c->at_experiment = (mark){(int)vn->start_mark.line + 1, (int)vn->start_mark.column + 1};
        } else if (!strcmp(k, "quick")) {
            if (vn->type != YAML_MAPPING_NODE) return yfail(y, vn, "quick: maps keys to values%s", "");
            for (yaml_node_pair_t *r = vn->data.mapping.pairs.start; r < vn->data.mapping.pairs.top; r++) {
                const char *qk = scalar(yaml_document_get_node(&y->doc, r->key));
                char *qv = yaml_text(y, yaml_document_get_node(&y->doc, r->value));
                c->quick = xrealloc(c->quick, sizeof(char *) * (size_t)(c->nquick + 1));
                size_t n = strlen(qk ? qk : "") + strlen(qv) + 2;
                c->quick[c->nquick] = xmalloc(n);
                snprintf(c->quick[c->nquick++], n, "%s=%s", qk ? qk : "", qv);
                free(qv);
            }
        } else if (!strcmp(k, "hypotheses")) {
            if (vn->type != YAML_SEQUENCE_NODE) return yfail(y, vn, "hypotheses: takes a list%s", "");
            for (yaml_node_item_t *it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
                c->hyps = xrealloc(c->hyps, sizeof(hyp) * (size_t)(c->nhyps + 1));
                c->nhyps++;   // counted first: a half-read hypothesis is freed too
                if (read_hyp(y, yaml_document_get_node(&y->doc, *it), &c->hyps[c->nhyps - 1])) return -1;
            }
        } else if (!strcmp(k, "figures") || !strcmp(k, "expect")) {
            if (vn->type != YAML_SEQUENCE_NODE) return yfail(y, vn, "%s: takes a list", k);
            for (yaml_node_item_t *it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
                yaml_node_t *in = yaml_document_get_node(&y->doc, *it);
                if (k[0] == 'f') {
                    if (!scalar(in)) return yfail(y, in, "figures: names%s", "");
                    c->figures = xrealloc(c->figures, sizeof(char *) * (size_t)(c->nfigures + 1));
                    c->figures[c->nfigures++] = xstrdup(scalar(in));
                } else {
                    c->preds = xrealloc(c->preds, sizeof(pred) * (size_t)(c->npreds + 1));
                    c->npreds++;   // counted first: a half-read predicate is freed too
                    if (read_pred(y, in, &c->preds[c->npreds - 1])) return -1;
                }
            }
        } else {
            return yfail(y, kn, "unknown claim key '%s' (valid: id, source, statement, experiment, "
                         "figures, quick, hypotheses, untested_reason, expect)", k);
        }
    }
    if (!c->id || !c->experiment || !c->npreds)
        return yfail(y, m, "a claim needs id:, experiment: and at least one expect: predicate%s", "");
    return 0;
}

static int load_claims(const char *file, claim_list *out, lerr *e)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(file, "rb");
    if (!f) return lerr_input(e, "cannot open claims file %s", file);
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    yctx y = {.file = file, .e = e};
    int rc = 0;
    if (!yaml_parser_load(&parser, &y.doc)) {
        rc = lerr_input(e, "%s:%zu:%zu: YAML syntax error: %s", file, parser.problem_mark.line + 1,
                        parser.problem_mark.column + 1, parser.problem ? parser.problem : "?");
        yaml_parser_delete(&parser);
        fclose(f);
        return rc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&y.doc);
    yaml_node_t *list = NULL;
    if (root && root->type == YAML_MAPPING_NODE)
        for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < root->data.mapping.pairs.top; q++) {
            const char *k = scalar(yaml_document_get_node(&y.doc, q->key));
            if (k && !strcmp(k, "claims")) list = yaml_document_get_node(&y.doc, q->value);
            else rc = yfail(&y, yaml_document_get_node(&y.doc, q->key), "unknown top-level key '%s' (valid: claims)", k ? k : "?");
        }
    if (!rc && (!list || list->type != YAML_SEQUENCE_NODE))
        rc = yfail(&y, root, "the file must hold claims: followed by a list of claims%s", "");
    for (yaml_node_item_t *it = rc ? NULL : list->data.sequence.items.start;
         !rc && it < list->data.sequence.items.top; it++) {
        out->c = xrealloc(out->c, sizeof(claim) * (size_t)(out->n + 1));
        rc = read_claim(&y, yaml_document_get_node(&y.doc, *it), &out->c[out->n]);
        out->n++;
    }
    yaml_document_delete(&y.doc);
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

static void free_claims(claim_list *l)
{
    for (int i = 0; i < l->n; i++) {
        claim *c = &l->c[i];
        free(c->id), free(c->source), free(c->statement), free(c->experiment), free(c->untested_reason);
        for (int j = 0; j < c->nhyps; j++)
            free(c->hyps[j].when), free(c->hyps[j].statement), free(c->hyps[j].source), free(c->hyps[j].reason);
        free(c->hyps);
        free(c->exp_file), free(c->exp_name), free(c->dir);
        for (int j = 0; j < c->ncells; j++) free(c->cell_ids[j]);
        free(c->cell_ids), free(c->inside), free(c->hcount);
        for (int j = 0; j < c->nquick; j++) free(c->quick[j]);
        for (int j = 0; j < c->nfigures; j++) free(c->figures[j]);
        for (int j = 0; j < c->npreds; j++) {
            pred *p = &c->preds[j];
            free(p->where), free(p->count_where), free(p->table), free(p->metric), free(p->reduce), free(p->equals);
            free(p->group), free(p->group_reduce), free(p->op);
            free(p->a), free(p->b), free(p->ref), free(p->compare), free(p->along), free(p->along_reduce);
        }
        free(c->quick), free(c->figures), free(c->preds);
    }
    free(l->c);
}

// ---------------------------------------------------------------------------
// Evaluating a predicate

typedef struct {
    int ncols, nrows;
    char **header;
    char ***rows;
} table;

static int load_table(const char *path, table *t, lerr *e)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f) return lerr_run(e, "cannot read %s", path);
    csv_row r;
    if (!csv_read_row(f, &r)) {
        fclose(f);
        return lerr_run(e, "%s is empty", path);
    }
    t->ncols = r.nf;
    t->header = r.f;
    int cap = 0;
    while (csv_read_row(f, &r)) {
        if (r.nf != t->ncols) {
            csv_row_free(&r);
            continue;
        }
        if (t->nrows == cap) t->rows = xrealloc(t->rows, sizeof(char **) * (size_t)(cap = 2 * cap + 64));
        t->rows[t->nrows++] = r.f;
    }
    fclose(f);
    return 0;
}

static void free_table(table *t)
{
    for (int i = 0; i < t->nrows; i++) {
        for (int j = 0; j < t->ncols; j++) free(t->rows[i][j]);
        free(t->rows[i]);
    }
    for (int j = 0; j < t->ncols; j++) free(t->header[j]);
    free(t->rows), free(t->header);
}

static int column_of(const table *t, const char *name)
{
    for (int j = 0; j < t->ncols; j++)
        if (!strcmp(t->header[j], name)) return j;
    return -1;
}

static double num(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    return *s && !*end ? v : NAN;
}

// max / min / mean / final of vals[0 .. n) (NaN skipped; final: the last).
static double reduce(const char *how, const double *vals, int n)
{
    double acc = NAN;
    int cnt = 0;
    for (int i = 0; i < n; i++) {
        double v = vals[i];
        if (!strcmp(how, "final")) {
            acc = v;
            continue;
        }
        if (isnan(v)) continue;
        if (!strcmp(how, "max")) acc = cnt ? fmax(acc, v) : v;
        else if (!strcmp(how, "min")) acc = cnt ? fmin(acc, v) : v;
        else acc = cnt ? acc + v : v;
        cnt++;
    }
    if (!strcmp(how, "mean") && cnt) acc /= cnt;
    return acc;
}

// Evaluate p on `t`; *measured gets the reduced number; returns 0, or -1
// with `why` set when no value could be measured, or LERR_INPUT in e.
static int measure(const pred *p, const table *t, double *measured, char *why, size_t nwhy,
                   lerr *e)
{
    int mc = column_of(t, p->metric), gc = p->group ? column_of(t, p->group) : -1;
    if (mc < 0) return lerr_input(e, "no column '%s' in the table", p->metric);
    if (p->group && gc < 0) return lerr_input(e, "no group column '%s' in the table", p->group);
    expr *x = NULL;
    if (p->where && !(x = expr_parse(p->where, (const char *const *)t->header, t->ncols, e)))
        return lerr_prefix(e, "where: ");
    int n = 0;
    int *rows = xcalloc((size_t)t->nrows + 1, sizeof(int));
    for (int i = 0; i < t->nrows; i++)
        if (!x || expr_true(x, (const char *const *)t->rows[i])) rows[n++] = i;
    expr_free(x);
    *measured = NAN;
    if (n == 0) {
        snprintf(why, nwhy, "no rows match%s%s", p->where ? " where " : "", p->where ? p->where : "");
        free(rows);
        return -1;
    }
    if (p->a) {   // a paired comparison of arms
        pair_spec ps = {p->a, p->b, p->ref, p->metric, p->compare, p->along, p->along_reduce, p->reduce};
        int rc = pair_measure(&ps, t->header, t->ncols, t->rows, rows, n, measured, why, nwhy, e);
        free(rows);
        return rc;
    }
    const char *how = p->reduce;
    double *vals = dalloc((size_t)n);
    if (!strcmp(how, "count") && p->count_where) {   // rows of the (non-empty) base that also match
        expr *cx = expr_parse(p->count_where, (const char *const *)t->header, t->ncols, e);
        if (!cx) {
            free(vals), free(rows);
            return lerr_prefix(e, "count_where: ");
        }
        int hit = 0;
        for (int i = 0; i < n; i++) hit += expr_true(cx, (const char *const *)t->rows[rows[i]]);
        expr_free(cx);
        *measured = hit;
    } else if (!strcmp(how, "count")) {
        *measured = n;
    } else if (!strcmp(how, "fraction")) {
        int hit = 0;
        for (int i = 0; i < n; i++) hit += !strcmp(t->rows[rows[i]][mc], p->equals);
        *measured = (double)hit / n;
    } else if (!strcmp(how, "ratio") || !strcmp(how, "growth")) {
        // groups in order of first appearance
        int ng = 0;
        int *first = xcalloc((size_t)n, sizeof(int));
        double *gval = dalloc((size_t)n), *gkey = dalloc((size_t)n);
        for (int i = 0; i < n; i++) {
            const char *key = t->rows[rows[i]][gc];
            int seen = 0;
            for (int g = 0; g < ng && !seen; g++) seen = !strcmp(t->rows[rows[first[g]]][gc], key);
            if (seen) continue;
            int m = 0;
            for (int j = i; j < n; j++)
                if (!strcmp(t->rows[rows[j]][gc], key)) vals[m++] = num(t->rows[rows[j]][mc]);
            first[ng] = i;
            gkey[ng] = num(key);
            gval[ng++] = reduce(p->group_reduce ? p->group_reduce : "mean", vals, m);
        }
        if (!strcmp(how, "ratio")) {
            *measured = reduce("max", gval, ng) / reduce("min", gval, ng);
        } else {
            int lo = 0, hi = 0, text_key = -1;
            for (int g = 0; g < ng; g++) {
                if (isnan(gkey[g]) && text_key < 0) text_key = g;
                if (gkey[g] < gkey[lo]) lo = g;
                if (gkey[g] > gkey[hi]) hi = g;
            }
            if (text_key >= 0)
                snprintf(why, nwhy, "growth needs numeric values of %s, got '%s'", p->group,
                         t->rows[rows[first[text_key]]][gc]);
            else
                *measured = gval[hi] / gval[lo];
        }
        free(first), free(gval), free(gkey);
    } else {
        for (int i = 0; i < n; i++) vals[i] = num(t->rows[rows[i]][mc]);
        *measured = reduce(how, vals, n);
    }
    free(vals), free(rows);
    if (isnan(*measured)) {
        if (!why[0]) snprintf(why, nwhy, "no numeric value of %s in the %d matching rows", p->metric, n);
        return -1;
    }
    return 0;
}

static int holds(double m, const char *op, double v)
{
    if (!strcmp(op, "<")) return m < v;
    if (!strcmp(op, "<=")) return m <= v;
    if (!strcmp(op, ">")) return m > v;
    if (!strcmp(op, ">=")) return m >= v;
    if (!strcmp(op, "==")) return m == v;
    return m != v;
}

// ---------------------------------------------------------------------------
// The command

static char *claims_file(const check_opts *o)
{
    if (o->claims) return xstrdup(o->claims);
    if (access("theory/claims.yaml", R_OK) == 0) return xstrdup("theory/claims.yaml");
    return path_join(LORALAB_SOURCE_ROOT, "theory/claims.yaml");
}

// `experiment:` is a path when it holds a '/' or ends in .yaml or .yml, a
// name otherwise.
static int is_path(const char *v)
{
    size_t n = strlen(v);
    return strchr(v, '/') || (n > 5 && !strcmp(v + n - 5, ".yaml")) ||
           (n > 4 && !strcmp(v + n - 4, ".yml"));
}

// The experiment file `experiment:` names: a path as written when absolute,
// else from the claims file's folder; a name NAME is experiments/NAME.yaml
// beside the claims file's folder (theory/../experiments/NAME.yaml).
static char *experiment_file(const char *claims, const char *value)
{
    if (value[0] == '/') return xstrdup(value);
    char *dir = xstrdup(claims);
    char *slash = strrchr(dir, '/');
    if (slash) slash[1] = '\0'; else strcpy(dir, ".");
    char *p;
    if (is_path(value)) {
        p = strcmp(dir, ".") ? path_join(dir, value) : xstrdup(value);
    } else {
        size_t n = strlen(value) + 32;
        char *rel = xmalloc(n);
        snprintf(rel, n, "../experiments/%s.yaml", value);
        p = path_join(dir, rel);
        free(rel);
    }
    free(dir);
    return p;
}

// Find claim c's experiment file and the folder its results go to: the one
// `loralab run FILE` writes, ROOT/<name> with the name the file gives (name:,
// default its stem) after the claim's quick overrides when --quick.  Reads
// and checks the experiment (every cell), so an input error in any claim
// stops the command before anything runs.
// Claim c's experiment file, parsed, with its quick: overrides under --quick
// (NULL with e filled on bad input).
static config_doc *experiment_doc(const check_opts *o, const char *claims, const claim *c,
                                  lerr *e)
{
    config_doc *doc = config_parse_file(c->exp_file, e);
    for (int i = 0; doc && o->quick && i < c->nquick; i++)
        if (config_doc_set_arg(doc, c->quick[i], e)) {
            lerr_prefix(e, "%s:%d: claim %s: quick: ", claims, c->line, c->id);
            config_doc_free(doc);
            doc = NULL;
        }
    return doc;
}

static int resolve_experiment(const check_opts *o, const char *claims, claim *c, const char *root,
                              lerr *e)
{
    c->exp_file = experiment_file(claims, c->experiment);
    if (access(c->exp_file, R_OK) != 0)
        return lerr_input(e, "%s:%d:%d: claim %s: experiment: cannot read %s (%s)", claims,
                          c->at_experiment.line, c->at_experiment.col, c->id, c->exp_file,
                          is_path(c->experiment)
                              ? "a path is taken from the claims file's folder"
                              : "a name NAME is experiments/NAME.yaml beside the claims file's "
                                "folder; a value holding '/' or ending in .yaml is a path");
    config_doc *doc = experiment_doc(o, claims, c, e);
    if (!doc) return -1;
    int rc = 0;
    cell_list cl;
    spec base;
    if (!rc && !(rc = cells_make(doc, "", &cl, e))) {
        if (!(rc = cells_base_spec(&cl, &base, e))) {
            c->exp_name = xstrdup(base.name);
            c->dir = path_join(root, base.name);
            spec_free(&base);
        }
        cells_free(&cl);
    }
    config_doc_free(doc);
    return rc;
}

// 1 if a and b name the same file (or, when either cannot be resolved, the same text).
static int same_file(const char *a, const char *b)
{
    char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
    int same = ra && rb ? !strcmp(ra, rb) : !strcmp(a, b);
    free(ra), free(rb);
    return same;
}

static int selected(const check_opts *o, const char *id)
{
    if (o->nids == 0) return 1;
    for (int i = 0; i < o->nids; i++)
        if (!strcmp(o->ids[i], id)) return 1;
    return 0;
}

// Run (or reuse) the experiment of claim c into c->dir.
static int ensure_experiment(const check_opts *o, const claim *c, lerr *e)
{
    run_opts ro = {.out_dir = c->dir, .resume = 1, .quiet = 1,
                   .workers = o->workers, .command = o->command};
    fprintf(stderr, "loralab check: %s -> %s/\n", c->exp_file, c->dir);
    int rc = run_experiment(c->exp_file, o->quick ? c->quick : NULL, o->quick ? c->nquick : 0, &ro,
                            NULL, e);
    if (rc && e->kind == LERR_RUN && strstr(e->msg, "status error")) rc = 0;   // judged by the predicates
    if (!rc && !o->quick) {
        lerr pe = {0};
        if (plot_results(c->dir, 1, &pe))
            fprintf(stderr, "loralab check: no figures for %s: %s\n", c->exp_name, pe.msg);
    }
    return rc;
}

// The header of the CSV file at `path` (NULL and *n = 0 if it cannot be read).
static char **read_header(const char *path, int *n)
{
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    csv_row r;
    int got = csv_read_row(f, &r);
    fclose(f);
    if (!got) return NULL;
    *n = r.nf;
    return r.f;
}

static void free_header(char **h, int n)
{
    for (int j = 0; j < n; j++) free(h[j]);
    free(h);
}

// Input error unless `name` (the value of `key:` at `at`) is a column of the
// predicate's table: says which close column was meant, or that it is a
// column of the other table, or lists the columns.
static int known_column(const char *claims, const claim *c, const char *key, const char *name,
                        mark at, char **h, int nh, const char *tab, char **ho, int nho,
                        const char *other, lerr *e)
{
    for (int j = 0; j < nh; j++)
        if (!strcmp(h[j], name)) return 0;
    char hint[1024];
    const char *best = expr_closest_name(name, (const char *const *)h, nh);
    int in_other = 0;
    for (int j = 0; j < nho; j++) in_other |= !strcmp(ho[j], name);
    if (in_other)
        snprintf(hint, sizeof hint, "it is a column of %s.csv: add table: %s", other, other);
    else if (best)
        snprintf(hint, sizeof hint, "did you mean '%s'?", best);
    else {
        hint[0] = '\0';
        join_names(hint, sizeof hint, h, sizeof *h, nh);
    }
    return lerr_input(e, "%s:%d:%d: claim %s: %s: no column '%s' in %s.csv (%s%s)", claims, at.line,
                      at.col, c->id, key, name, tab, !in_other && !best ? "columns: " : "", hint);
}

// Check, from the CSV headers alone, that every column predicate p names
// exists and its filters parse: misspellings are input errors (exit 2) that
// point at the claims file, found before any verdict is printed.
static int check_columns(const char *claims, const claim *c, const pred *p, lerr *e)
{
    int summary = p->table && !strcmp(p->table, "summary");
    const char *tab = summary ? "summary" : "trace", *other = summary ? "trace" : "summary";
    char name[64];
    snprintf(name, sizeof name, "%s.csv", tab);
    char *path = path_join(c->dir, name);
    snprintf(name, sizeof name, "%s.csv", other);
    char *opath = path_join(c->dir, name);
    int nh, nho;
    char **h = read_header(path, &nh), **ho = read_header(opath, &nho);
    int rc = h ? 0 : lerr_run(e, "cannot read %s", path);
    if (!rc)
        rc = known_column(claims, c, "metric", p->metric, p->at_metric, h, nh, tab, ho, nho, other, e);
    if (!rc && p->group)
        rc = known_column(claims, c, "group", p->group, p->at_group, h, nh, tab, ho, nho, other, e);
    if (!rc && p->along)
        rc = known_column(claims, c, "along", p->along, p->at_along, h, nh, tab, ho, nho, other, e);
    const char *filters[5] = {p->where, p->count_where, p->a, p->b, p->ref};
    const char *keys[5] = {"where", "count_where", "a", "b", "ref"};
    const mark at[5] = {p->at_where, p->at_count_where, p->at_a, p->at_b, p->at_ref};
    for (int i = 0; i < 5 && !rc; i++) {
        if (!filters[i]) continue;
        expr *x = expr_parse(filters[i], (const char *const *)h, nh, e);
        if (!x) rc = lerr_prefix(e, "%s:%d:%d: claim %s: %s: ", claims, at[i].line, at[i].col, c->id, keys[i]);
        expr_free(x);
    }
    free_header(h, nh), free_header(ho, nho);
    free(path), free(opath);
    return rc;
}

// ---------------------------------------------------------------------------
// Hypotheses: the cells inside a claim's conditions

// Every resolved setting of every cell of an experiment, by dotted key.
typedef struct {
    int nkeys;
    char **keys;       // dotted keys in config_write's order (the union over the cells)
    int ncells;
    char **match;      // per cell: its swept labels then its seed, each followed by '\x1f'
    char ***values;    // per cell: nkeys values, "" where the cell has no such key
    int naxes;
    char **axis_keys;  // the swept keys (summary.csv columns), in the order of `match`
} exp_settings;

static void free_settings(exp_settings *x)
{
    for (int i = 0; i < x->ncells; i++) {
        for (int k = 0; k < x->nkeys; k++) free(x->values[i][k]);
        free(x->values[i]), free(x->match[i]);
    }
    for (int k = 0; k < x->nkeys; k++) free(x->keys[k]);
    for (int a = 0; a < x->naxes; a++) free(x->axis_keys[a]);
    free(x->keys), free(x->match), free(x->values), free(x->axis_keys);
}

static int key_of(const exp_settings *x, const char *key)
{
    for (int k = 0; k < x->nkeys; k++)
        if (!strcmp(x->keys[k], key)) return k;
    return -1;
}

// Read the "key: value" lines of a config_write text (a section line
// "teacher:" then "  leaf: value") into cell i of x, adding keys not seen
// yet.  A double-quoted value loses its quotes.
static void read_settings(exp_settings *x, int i, const char *text)
{
    char section[128] = "";
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        int indented = line[0] == ' ';
        const char *p = line + (indented ? 2 : 0), *end = line + len;
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (p < end && *p != '#' && colon) {
            const char *val = colon + 1;
            while (val < end && *val == ' ') val++;
            if (val == end && !indented) {
                snprintf(section, sizeof section, "%.*s", (int)(colon - p), p);
            } else {
                char key[256];
                snprintf(key, sizeof key, "%s%s%.*s", indented ? section : "", indented ? "." : "",
                         (int)(colon - p), p);
                int k = strcmp(key, "seeds") ? key_of(x, key) : -2;   // seeds: not a name
                if (k == -1) {
                    k = x->nkeys++;
                    x->keys = xrealloc(x->keys, sizeof(char *) * (size_t)x->nkeys);
                    x->keys[k] = xstrdup(key);
                    for (int j = 0; j < x->ncells; j++) {
                        x->values[j] = xrealloc(x->values[j], sizeof(char *) * (size_t)x->nkeys);
                        x->values[j][k] = xstrdup("");
                    }
                }
                size_t n = (size_t)(end - val);
                if (n >= 2 && val[0] == '"' && val[n - 1] == '"') val++, n -= 2;
                if (k >= 0) {
                    free(x->values[i][k]);
                    x->values[i][k] = xmalloc(n + 1);
                    memcpy(x->values[i][k], val, n);
                    x->values[i][k][n] = '\0';
                }
            }
        }
        line = eol ? eol + 1 : NULL;
    }
}

// The settings of every cell of claim c's experiment (after its quick
// overrides with --quick): each cell's resolved spec as config_write gives it.
static int experiment_settings(const check_opts *o, const char *claims, const claim *c,
                               exp_settings *x, lerr *e)
{
    memset(x, 0, sizeof *x);
    config_doc *doc = experiment_doc(o, claims, c, e);
    if (!doc) return -1;
    int rc = 0;
    cell_list cl;
    // every key of the table is a name, even where no cell writes it (teacher.kappa
    // without a drawn Delta: empty text); `seeds` is not (the `seed` column is)
    for (const char *const *k = config_keys(); *k; k++)
        if (strcmp(*k, "seeds")) {
            x->keys = xrealloc(x->keys, sizeof(char *) * (size_t)(x->nkeys + 1));
            x->keys[x->nkeys++] = xstrdup(*k);
        }
    if (!rc && !(rc = cells_make(doc, "", &cl, e))) {
        x->match = xcalloc((size_t)cl.ncells + 1, sizeof(char *));
        x->values = xcalloc((size_t)cl.ncells + 1, sizeof(char **));
        for (int i = 0; i < cl.ncells && !rc; i++) {
            const cell *cc = &cl.cells[i];
            spec s;
            if ((rc = cells_spec(&cl, cc, &s, e))) break;
            char *buf = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&buf, &len);
            if (!f) {
                spec_free(&s);
                rc = lerr_run(e, "out of memory writing the settings of cell %s", cc->id);
                break;
            }
            config_write(&s, f);
            fclose(f);
            spec_free(&s);
            x->values[i] = xcalloc((size_t)x->nkeys + 1, sizeof(char *));
            for (int k = 0; k < x->nkeys; k++) x->values[i][k] = xstrdup("");
            x->ncells = i + 1;
            read_settings(x, i, buf);
            free(buf);
            size_t n = 32;
            for (int a = 0; a < cl.sweep.naxes; a++) n += strlen(cl.sweep.axes[a].labels[cc->choice[a]]) + 1;
            char *m = x->match[i] = xmalloc(n);
            m[0] = '\0';
            for (int a = 0; a < cl.sweep.naxes; a++) {
                strcat(m, cl.sweep.axes[a].labels[cc->choice[a]]);
                strcat(m, "\x1f");
            }
            snprintf(m + strlen(m), 32, "%ld\x1f", cc->seed);
        }
        x->axis_keys = xcalloc((size_t)cl.sweep.naxes + 1, sizeof(char *));
        for (int a = 0; a < cl.sweep.naxes; a++) x->axis_keys[x->naxes++] = xstrdup(cl.sweep.axes[a].key);
        cells_free(&cl);
    }
    config_doc_free(doc);
    return rc;
}

// Fill c's cells (summary.csv's rows), which of them are inside every
// checkable hypothesis and how many satisfy each.  A `when:` is a filter
// over the names of one cell: summary.csv's columns, then every resolved
// setting that is not a column (a swept key is read from its column, as
// written).  An unknown name is an input error at the when: value.
static int claim_cells(const check_opts *o, const char *claims, claim *c, lerr *e)
{
    char *spath = path_join(c->dir, "summary.csv");
    table sum;
    int rc = load_table(spath, &sum, e);
    free(spath);
    if (rc) return rc;
    int idc = column_of(&sum, "cell");
    if (idc < 0) rc = lerr_run(e, "%s/summary.csv has no cell column", c->dir);
    c->ncells = rc ? 0 : sum.nrows;
    c->cell_ids = xcalloc((size_t)c->ncells + 1, sizeof(char *));
    c->inside = xcalloc((size_t)c->ncells + 1, sizeof(int));
    c->hcount = xcalloc((size_t)c->nhyps + 1, sizeof(int));
    for (int i = 0; i < c->ncells; i++) c->cell_ids[i] = xstrdup(sum.rows[i][idc]), c->inside[i] = 1;
    int checkable = 0;
    for (int h = 0; h < c->nhyps; h++) checkable += c->hyps[h].checkable;
    exp_settings x = {0};
    if (!rc && checkable) rc = experiment_settings(o, claims, c, &x, e);
    // the names: summary.csv's columns, then the settings that are not columns
    int nnames = 0;
    const char **names = xcalloc((size_t)(sum.ncols + x.nkeys) + 1, sizeof(char *));
    int *from = xcalloc((size_t)x.nkeys + 1, sizeof(int));   // setting index of name sum.ncols + j
    for (int j = 0; j < sum.ncols; j++) names[nnames++] = sum.header[j];
    for (int k = 0; k < x.nkeys; k++)
        if (column_of(&sum, x.keys[k]) < 0) from[nnames - sum.ncols] = k, names[nnames++] = x.keys[k];
    expr **when = xcalloc((size_t)c->nhyps + 1, sizeof(expr *));
    for (int h = 0; h < c->nhyps && !rc; h++) {
        if (!c->hyps[h].checkable) continue;
        if (!(when[h] = expr_parse(c->hyps[h].when, names, nnames, e)))
            rc = lerr_prefix(e, "%s:%d:%d: claim %s: hypotheses: when: ", claims, c->hyps[h].at_when.line,
                             c->hyps[h].at_when.col, c->id);
    }
    // each row's cell, by its swept columns and seed
    int *axc = xcalloc((size_t)x.naxes + 2, sizeof(int));
    for (int a = 0; a <= x.naxes && !rc && checkable; a++) {
        const char *col = a < x.naxes ? x.axis_keys[a] : "seed";
        if ((axc[a] = column_of(&sum, col)) < 0)
            rc = lerr_run(e, "%s/summary.csv has no column %s (results of another experiment?)", c->dir, col);
    }
    const char **fields = xcalloc((size_t)nnames + 1, sizeof(char *));
    for (int i = 0; i < c->ncells && !rc && checkable; i++) {
        size_t n = 1;
        for (int a = 0; a <= x.naxes; a++) n += strlen(sum.rows[i][axc[a]]) + 1;
        char *m = xmalloc(n);
        m[0] = '\0';
        for (int a = 0; a <= x.naxes; a++) strcat(strcat(m, sum.rows[i][axc[a]]), "\x1f");
        int cell = -1;
        for (int k = 0; k < x.ncells && cell < 0; k++)
            if (x.match[k] && !strcmp(x.match[k], m)) cell = k;
        free(m);
        if (cell < 0) {
            rc = lerr_run(e, "%s/summary.csv: cell %s is not a cell of %s (results of another experiment?)",
                          c->dir, c->cell_ids[i], c->exp_file);
            break;
        }
        for (int j = 0; j < sum.ncols; j++) fields[j] = sum.rows[i][j];
        for (int j = sum.ncols; j < nnames; j++) fields[j] = x.values[cell][from[j - sum.ncols]];
        for (int h = 0; h < c->nhyps; h++) {
            if (!when[h]) continue;
            int holds_here = expr_true(when[h], fields);
            c->hcount[h] += holds_here;
            c->inside[i] &= holds_here;
        }
    }
    for (int i = 0; i < c->ncells; i++) c->ninside += c->inside[i];
    for (int h = 0; h < c->nhyps; h++) expr_free(when[h]);
    free(when), free(names), free(from), free(axc), free(fields);
    free_settings(&x);
    free_table(&sum);
    return rc;
}

// The rows of t whose cell is (want 1) or is not (want 0) inside c's
// hypotheses; the rows are t's (free only the returned rows array).
static int part_of(const table *t, const claim *c, int want, table *out, lerr *e)
{
    *out = *t;
    out->rows = xcalloc((size_t)t->nrows + 1, sizeof(char **));
    out->nrows = 0;
    int idc = column_of(t, "cell");
    if (idc < 0) return lerr_run(e, "a table of %s has no cell column", c->dir);
    int last = 0;   // a cell's rows are consecutive: try the previous row's cell first
    for (int i = 0; i < t->nrows; i++) {
        int k = -1;
        if (last < c->ncells && !strcmp(c->cell_ids[last], t->rows[i][idc])) k = last;
        for (int j = 0; j < c->ncells && k < 0; j++)
            if (!strcmp(c->cell_ids[j], t->rows[i][idc])) k = j;
        if (k >= 0) last = k;
        if (k >= 0 && c->inside[k] == want) out->rows[out->nrows++] = t->rows[i];
    }
    return 0;
}

typedef struct {
    const char *verdict;   // inside: PASS FAIL REPORT, outside: HOLDS BREAKS REPORT; "-": no cell (or no row)
    double m;              // the measured value (NaN if none)
    char why[600];         // why nothing could be measured
} part_result;

// Evaluate p on the rows of t whose cells are inside (want 1) or outside
// (want 0) c's hypotheses.  Inside, a predicate no row of which matches
// FAILs with the reason, as without hypotheses; outside, it is "-" (nothing
// to extrapolate to), with the reason.
static int judge(const claim *c, const pred *p, const table *t, int want, part_result *r, lerr *e)
{
    int ncells = want ? c->ninside : c->ncells - c->ninside;
    r->m = NAN, r->why[0] = '\0', r->verdict = "-";
    if (ncells == 0) return 0;
    table part = *t;
    int all = ncells == c->ncells;   // every cell on this side: today's table as it is
    if (!all && part_of(t, c, want, &part, e)) {
        free(part.rows);
        return -1;
    }
    int k = measure(p, &part, &r->m, r->why, sizeof r->why, e);
    if (!all) free(part.rows);
    if (k && e->kind == LERR_INPUT && !r->why[0]) return -1;
    int ok = k == 0 && holds(r->m, p->op, p->value);
    r->verdict = p->report ? "REPORT" : want ? (ok ? "PASS" : "FAIL") : k ? "-" : ok ? "HOLDS" : "BREAKS";
    return 0;
}

// "max(align_b) where step >= 1 <= 1e-10"
// Text for one cell of a Markdown table: '|' would end the cell (statements
// write norms as ||G||), so it becomes "\|" (GitHub's escape, valid inside code
// spans too) and newlines become spaces.  Returns one of eight rotating static
// buffers, so up to eight calls may share one printf; long text is cut.
static const char *md_cell(const char *s)
{
    static char ring[8][2048];
    static int next;
    char *out = ring[next++ % 8];
    size_t o = 0;
    for (; s && *s && o + 3 < sizeof ring[0]; s++) {
        if (*s == '|') out[o++] = '\\';
        out[o++] = *s == '\n' ? ' ' : *s;
    }
    out[o] = 0;
    return out;
}

static void expected_text(const pred *p, char *buf, size_t n)
{
    if (p->a) {   // "max over curves of mean_step(|ln(loss[a] / loss[ref])|) / ...; a: ..., b: ... < 1"
        char q[600];
        pair_spec ps = {p->a, p->b, p->ref, p->metric, p->compare, p->along, p->along_reduce, p->reduce};
        pair_text(&ps, q, sizeof q);
        snprintf(buf, n, "%s%s%s; a: %s; b: %s%s%s %s %g", q, p->where ? " where " : "", p->where ? p->where : "",
                 p->a, p->b, p->ref ? "; ref: " : "", p->ref ? p->ref : "", p->op, p->value);
        return;
    }
    snprintf(buf, n, "%s(%s%s%s%s%s)%s%s%s%s %s %g", p->reduce, p->metric,
             p->equals ? " == " : "", p->equals ? p->equals : "",
             p->count_where ? " with " : "", p->count_where ? p->count_where : "",
             p->group ? " by " : "", p->group ? p->group : "", p->where ? " where " : "",
             p->where ? p->where : "", p->op, p->value);
}

int check_claims(const check_opts *o, lerr *e)
{
    char *claims = claims_file(o);
    claim_list cl;
    if (load_claims(claims, &cl, e)) {
        free_claims(&cl);
        free(claims);
        return -1;
    }
    for (int i = 0; i < o->nids; i++) {
        int found = 0;
        for (int j = 0; j < cl.n; j++) found |= !strcmp(cl.c[j].id, o->ids[i]);
        if (!found) {
            lerr_input(e, "no claim '%s' in %s", o->ids[i], claims);
            free_claims(&cl);
            free(claims);
            return -1;
        }
    }
    // Results go where `loralab run` puts them: results/<name> under the
    // working directory (results/quick/<name> with --quick), wherever the
    // claims and experiment files are.
    const char *root = o->quick ? "results/quick" : "results";
    int rc = 0;
    for (int i = 0; i < cl.n && !rc; i++)
        if (selected(o, cl.c[i].id)) rc = resolve_experiment(o, claims, &cl.c[i], root, e);
    // claims sharing a results folder must share the experiment file
    for (int i = 0; i < cl.n && !rc; i++)
        for (int j = 0; j < i && !rc && selected(o, cl.c[i].id); j++)
            if (selected(o, cl.c[j].id) && !strcmp(cl.c[j].dir, cl.c[i].dir) &&
                !same_file(cl.c[j].exp_file, cl.c[i].exp_file))
                rc = lerr_input(e, "%s:%d:%d: claim %s: experiment %s writes %s/, as does %s (claim "
                                "%s, line %d): experiments with one name share a results folder; "
                                "give one of them another name:", claims,
                                cl.c[i].at_experiment.line, cl.c[i].at_experiment.col, cl.c[i].id,
                                cl.c[i].exp_file, cl.c[i].dir, cl.c[j].exp_file, cl.c[j].id,
                                cl.c[j].at_experiment.line);
    if (!rc) rc = make_dirs(root, e);
    // run each experiment once
    for (int i = 0; i < cl.n && !rc; i++) {
        if (!selected(o, cl.c[i].id)) continue;
        int done = 0;
        for (int j = 0; j < i && !done; j++)
            done = selected(o, cl.c[j].id) && !strcmp(cl.c[j].dir, cl.c[i].dir);
        if (!done) rc = ensure_experiment(o, &cl.c[i], e);
    }
    for (int i = 0; i < cl.n && !rc; i++)
        for (int j = 0; j < cl.c[i].npreds && !rc && selected(o, cl.c[i].id); j++)
            rc = check_columns(claims, &cl.c[i], &cl.c[i].preds[j], e);
    for (int i = 0; i < cl.n && !rc; i++)
        if (selected(o, cl.c[i].id)) rc = claim_cells(o, claims, &cl.c[i], e);
    int failed = 0, untested = 0;
    afile md = {0};
    char *mdpath = path_join(root, "claims.md");
    if (!rc) rc = afile_open(&md, mdpath, e);
    if (!rc) {
        afile_printf(&md, "# Claims%s\n\n`%s`\n\n| id | claim | expected | inside | measured | outside | "
                     "measured |\n|---|---|---|---|---|---|---|\n", o->quick ? " (quick)" : "", o->command);
        printf("%-10s %-8s %-14s %-8s %-14s %s\n", "id", "inside", "measured", "outside", "measured",
               "expected");
    }
    for (int i = 0; i < cl.n && !rc; i++) {
        const claim *c = &cl.c[i];
        if (!selected(o, c->id)) continue;
        part_result *in = xcalloc((size_t)c->npreds, sizeof *in), *out = xcalloc((size_t)c->npreds, sizeof *out);
        for (int j = 0; j < c->npreds && !rc; j++) {
            const pred *p = &c->preds[j];
            char *tpath = path_join(c->dir, p->table && !strcmp(p->table, "summary") ? "summary.csv" : "trace.csv");
            table t;
            rc = load_table(tpath, &t, e);
            free(tpath);
            if (rc) break;
            rc = judge(c, p, &t, 1, &in[j], e) || judge(c, p, &t, 0, &out[j], e);
            if (rc && e->kind == LERR_INPUT) lerr_prefix(e, "%s:%d: claim %s: ", claims, p->line, c->id);
            free_table(&t);
        }
        if (rc) {
            free(in), free(out);
            break;
        }
        // the claim's verdicts: inside FAIL if a predicate fails there, UNTESTED without
        // inside cells; outside BREAKS if a predicate breaks there
        int nout = c->ncells - c->ninside, fails = 0, passes = 0, breaks = 0, holds_out = 0;
        for (int j = 0; j < c->npreds; j++) {
            fails += !strcmp(in[j].verdict, "FAIL"), passes += !strcmp(in[j].verdict, "PASS");
            breaks += !strcmp(out[j].verdict, "BREAKS"), holds_out += !strcmp(out[j].verdict, "HOLDS");
        }
        const char *vin = c->ninside == 0 ? "UNTESTED" : fails ? "FAIL" : passes ? "PASS" : "REPORT";
        const char *vout = nout == 0 ? "-" : breaks ? "BREAKS" : holds_out ? "HOLDS" : "REPORT";
        failed += fails;
        untested += c->ninside == 0 && !c->untested_reason;
        char note[1024] = "";
        if (c->ninside == 0)
            snprintf(note, sizeof note, "; untested: %s",
                     c->untested_reason ? c->untested_reason : "no cell inside the hypotheses and no "
                                                               "untested_reason: (fails the run)");
        printf("claim %s: inside %s (%d of %d cells), outside %s (%d cells)%s\n", c->id, vin, c->ninside,
               c->ncells, vout, nout, note);
        afile_printf(&md, "| %s | %s%s%s | | **%s** (%d of %d cells) | | **%s** (%d cells) | |\n", c->id,
                     md_cell(c->statement), c->ninside == 0 ? "<br>*untested:* " : "",
                     c->ninside == 0 ? md_cell(c->untested_reason ? c->untested_reason : "no reason given") : "",
                     vin, c->ninside, c->ncells, vout, nout);
        for (int h = 0; h < c->nhyps; h++) {
            const hyp *y = &c->hyps[h];
            if (y->checkable) {
                printf("  hypothesis %s: %d of %d cells -- %s (%s)\n", y->when, c->hcount[h], c->ncells,
                       y->statement, y->source);
                afile_printf(&md, "| %s | hypothesis: %s (%s) | `%s` | %d of %d cells | | | |\n", c->id,
                             md_cell(y->statement), md_cell(y->source), md_cell(y->when), c->hcount[h],
                             c->ncells);
            } else {
                printf("  hypothesis not checkable (%s) -- %s (%s)\n", y->reason, y->statement, y->source);
                afile_printf(&md, "| %s | hypothesis: %s (%s) | not checkable: %s | | | | |\n", c->id,
                             md_cell(y->statement), md_cell(y->source), md_cell(y->reason));
            }
        }
        for (int j = 0; j < c->npreds; j++) {
            char exp[1024], mi[64] = "-", mo[64] = "-";
            expected_text(&c->preds[j], exp, sizeof exp);
            if (strcmp(in[j].verdict, "-")) snprintf(mi, sizeof mi, "%.6g", in[j].m);
            if (strcmp(out[j].verdict, "-") || !isnan(out[j].m)) snprintf(mo, sizeof mo, "%.6g", out[j].m);
            if (!strcmp(out[j].verdict, "-") && isnan(out[j].m)) snprintf(mo, sizeof mo, "-");
            printf("%-10s %-8s %-14s %-8s %-14s %s%s%s%s%s\n", c->id, in[j].verdict, mi, out[j].verdict, mo,
                   exp, in[j].why[0] ? "  -- " : "", in[j].why, out[j].why[0] ? "  -- outside: " : "",
                   out[j].why);
            afile_printf(&md, "| %s | | `%s`%s%s%s%s | **%s** | %s | %s | %s |\n", c->id, md_cell(exp),
                         in[j].why[0] ? ": " : "", md_cell(in[j].why), out[j].why[0] ? "; outside: " : "",
                         md_cell(out[j].why),
                         in[j].verdict, mi, out[j].verdict, mo);
        }
        for (int f = 0; f < c->nfigures; f++) {
            char img[512];
            snprintf(img, sizeof img, "%s/%s.png", c->dir, c->figures[f]);
            if (access(img, R_OK) == 0)
                afile_printf(&md, "| | ![%s](%s/%s.png) | | | | | |\n", c->figures[f], c->exp_name,
                             c->figures[f]);
        }
        free(in), free(out);
    }
    int md_open = md.tmp != NULL;
    if (!rc) {
        rc = afile_commit(&md, e);
        if (!rc) fprintf(stderr, "loralab check: wrote %s\n", mdpath);
    } else if (md_open) {
        afile_abort(&md);
    }
    free(mdpath);
    free_claims(&cl);
    free(claims);
    if (rc) return -1;
    if (failed || untested) {
        if (!untested) lerr_run(e, "%d asserted predicate(s) failed inside their hypotheses", failed);
        else if (!failed) lerr_run(e, "%d claim(s) untested (no cell inside the hypotheses) without untested_reason:", untested);
        else lerr_run(e, "%d asserted predicate(s) failed inside their hypotheses, %d claim(s) untested "
                      "without untested_reason:", failed, untested);
        return 1;
    }
    return 0;
}
