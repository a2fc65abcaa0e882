// expr.c: a recursive-descent parser and evaluator for row filters (expr.h).
#include "expr.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { X_NUM, X_TEXT, X_COL, X_NEG, X_NOT, X_BIN } xkind;

struct expr {
    xkind kind;
    double num;        // X_NUM
    char *text;        // X_TEXT
    int col;           // X_COL
    char op[3];        // X_BIN: + - * / < <= > >= == != && ||
    expr *a, *b;
};

typedef struct {
    const char *s, *p;
    const char *const *header;
    int ncols;
    lerr *e;
    int failed;
} parser;

static expr *node(xkind k)
{
    expr *x = xcalloc(1, sizeof *x);
    x->kind = k;
    return x;
}

void expr_free(expr *x)
{
    if (!x) return;
    expr_free(x->a);
    expr_free(x->b);
    free(x->text);
    free(x);
}

static expr *fail(parser *ps, const char *what)
{
    if (!ps->failed)
        lerr_input(ps->e, "in \"%s\" at column %d: %s", ps->s, (int)(ps->p - ps->s) + 1, what);
    ps->failed = 1;
    return NULL;
}

static void skip(parser *ps)
{
    while (isspace((unsigned char)*ps->p)) ps->p++;
}

// Accept the word or symbol `w` (words must not run into a name).
static int accept(parser *ps, const char *w)
{
    skip(ps);
    size_t n = strlen(w);
    if (strncmp(ps->p, w, n) != 0) return 0;
    if (isalpha((unsigned char)w[0]) && (isalnum((unsigned char)ps->p[n]) || ps->p[n] == '_'))
        return 0;
    ps->p += n;
    return 1;
}

static expr *parse_or(parser *ps);

static expr *bin(const char *op, expr *a, expr *b)
{
    if (!a || !b) {
        expr_free(a);
        expr_free(b);
        return NULL;
    }
    expr *x = node(X_BIN);
    snprintf(x->op, sizeof x->op, "%s", op);
    x->a = a, x->b = b;
    return x;
}

static int name_char(char c, int first)
{
    return isalpha((unsigned char)c) || c == '_' || (!first && (isdigit((unsigned char)c) || c == '.'));
}

static expr *parse_atom(parser *ps)
{
    skip(ps);
    const char *p = ps->p;
    if (*p == '(') {
        ps->p++;
        expr *x = parse_or(ps);
        if (!accept(ps, ")")) {
            expr_free(x);
            return fail(ps, "expected ')'");
        }
        return x;
    }
    if (*p == '\'' || *p == '"') {
        const char *end = strchr(p + 1, *p);
        if (!end) return fail(ps, "unterminated string");
        expr *x = node(X_TEXT);
        x->text = xmalloc((size_t)(end - p));
        memcpy(x->text, p + 1, (size_t)(end - p - 1));
        x->text[end - p - 1] = '\0';
        ps->p = end + 1;
        return x;
    }
    if (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))) {
        char *end;
        expr *x = node(X_NUM);
        x->num = strtod(p, &end);
        ps->p = end;
        return x;
    }
    if (name_char(*p, 1)) {
        const char *q = p;
        while (name_char(*q, q == p)) q++;
        while (q > p + 1 && q[-1] == '.') q--;   // a name ends in a letter, digit or '_'
        size_t n = (size_t)(q - p);
        for (int i = 0; i < ps->ncols; i++)
            if (strlen(ps->header[i]) == n && !strncmp(ps->header[i], p, n)) {
                expr *x = node(X_COL);
                x->col = i;
                ps->p = q;
                return x;
            }
        char name[128], msg[1024];
        snprintf(name, sizeof name, "%.*s", (int)n, p);
        const char *best = expr_closest_name(name, ps->header, ps->ncols);
        int k = snprintf(msg, sizeof msg, "unknown column '%s' (%s%s%scolumns:", name,
                         best ? "did you mean '" : "", best ? best : "", best ? "'? " : "");
        for (int i = 0; i < ps->ncols && k > 0 && (size_t)k < sizeof msg; i++)
            k += snprintf(msg + k, sizeof msg - (size_t)k, " %s", ps->header[i]);
        if (k > 0 && (size_t)k < sizeof msg - 2) strcat(msg, ")");
        return fail(ps, msg);
    }
    return fail(ps, *p ? "expected a number, a 'string', a column or '('" : "unexpected end");
}

static expr *parse_unary(parser *ps);

// power := atom ("^" unary)?   (right-associative, binds tighter than unary minus's operand)
static expr *parse_power(parser *ps)
{
    expr *x = parse_atom(ps);
    if (x && accept(ps, "^")) return bin("^", x, parse_unary(ps));
    return x;
}

static expr *parse_unary(parser *ps)
{
    if (accept(ps, "-")) {
        expr *a = parse_unary(ps);
        if (!a) return NULL;
        expr *x = node(X_NEG);
        x->a = a;
        return x;
    }
    return parse_power(ps);
}

static expr *parse_prod(parser *ps)
{
    expr *x = parse_unary(ps);
    for (;;) {
        if (accept(ps, "*")) x = bin("*", x, parse_unary(ps));
        else if (accept(ps, "/")) x = bin("/", x, parse_unary(ps));
        else return x;
    }
}

static expr *parse_sum(parser *ps)
{
    expr *x = parse_prod(ps);
    for (;;) {
        if (accept(ps, "+")) x = bin("+", x, parse_prod(ps));
        else if (accept(ps, "-")) x = bin("-", x, parse_prod(ps));
        else return x;
    }
}

static expr *parse_cmp(parser *ps)
{
    expr *x = parse_sum(ps);
    const char *ops[] = {"<=", ">=", "==", "!=", "<", ">"};
    for (int i = 0; i < 6; i++)
        if (accept(ps, ops[i])) return bin(ops[i], x, parse_sum(ps));
    return x;
}

static expr *parse_not(parser *ps)
{
    if (accept(ps, "not")) {
        expr *a = parse_not(ps);
        if (!a) return NULL;
        expr *x = node(X_NOT);
        x->a = a;
        return x;
    }
    return parse_cmp(ps);
}

static expr *parse_and(parser *ps)
{
    expr *x = parse_not(ps);
    while (accept(ps, "and")) x = bin("&&", x, parse_not(ps));
    return x;
}

static expr *parse_or(parser *ps)
{
    expr *x = parse_and(ps);
    while (accept(ps, "or")) x = bin("||", x, parse_and(ps));
    return x;
}

expr *expr_parse(const char *text, const char *const *header, int ncols, lerr *e)
{
    parser ps = {.s = text, .p = text, .header = header, .ncols = ncols, .e = e};
    expr *x = parse_or(&ps);
    skip(&ps);
    if (x && *ps.p) {
        expr_free(x);
        x = fail(&ps, "unexpected text");
    }
    if (!x && !ps.failed) fail(&ps, "cannot parse");
    return x;
}

// ---------------------------------------------------------------------------
// Evaluation: a value is a number or a text.  A field keeps its text as
// written, so == and != against a text compare what the CSV holds (a cell id
// such as 000000000012 reads as a number but still equals '000000000012').

typedef struct {
    int is_text;
    double num;
    const char *text;  // a text, or a numeric field's text as written (NULL otherwise)
} value;

static value eval(const expr *x, const char *const *f);

static value number(double v) { return (value){0, v, NULL}; }

static value of_field(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (*s && !*end) return (value){0, v, s};
    return (value){1, NAN, s};
}

static int truth(value v) { return v.is_text ? v.text[0] != '\0' : (v.num != 0 && !isnan(v.num)); }

static value eval(const expr *x, const char *const *f)
{
    switch (x->kind) {
    case X_NUM: return number(x->num);
    case X_TEXT: return (value){1, NAN, x->text};
    case X_COL: return of_field(f[x->col]);
    case X_NEG: return number(-eval(x->a, f).num);
    case X_NOT: return number(!truth(eval(x->a, f)));
    case X_BIN: break;
    }
    const char *op = x->op;
    if (!strcmp(op, "&&")) return number(truth(eval(x->a, f)) && truth(eval(x->b, f)));
    if (!strcmp(op, "||")) return number(truth(eval(x->a, f)) || truth(eval(x->b, f)));
    value a = eval(x->a, f), b = eval(x->b, f);
    if ((a.is_text || b.is_text) && (!strcmp(op, "==") || !strcmp(op, "!="))) {
        char buf[2][64];
        const char *ta = a.text ? a.text : (snprintf(buf[0], 64, "%.17g", a.num), buf[0]);
        const char *tb = b.text ? b.text : (snprintf(buf[1], 64, "%.17g", b.num), buf[1]);
        int eq = !strcmp(ta, tb);
        return number(op[0] == '=' ? eq : !eq);
    }
    double u = a.num, v = b.num;
    if (!strcmp(op, "+")) return number(u + v);
    if (!strcmp(op, "-")) return number(u - v);
    if (!strcmp(op, "*")) return number(u * v);
    if (!strcmp(op, "/")) return number(u / v);
    if (!strcmp(op, "^")) return number(pow(u, v));
    if (!strcmp(op, "<")) return number(u < v);
    if (!strcmp(op, "<=")) return number(u <= v);
    if (!strcmp(op, ">")) return number(u > v);
    if (!strcmp(op, ">=")) return number(u >= v);
    if (!strcmp(op, "==")) return number(u == v);
    return number(u != v);
}

int expr_true(const expr *x, const char *const *fields) { return truth(eval(x, fields)); }

// ---------------------------------------------------------------------------
// Suggestions for a misspelt column

const char *expr_closest_name(const char *typed, const char *const *names, int n)
{
    size_t len = strlen(typed);
    int budget = typo_budget(len);
    const char *best = NULL;
    int best_d = budget + 1;
    for (int i = 0; i < n; i++) {
        int d = edit_distance(typed, names[i]);
        if (d < best_d) best_d = d, best = names[i];
    }
    return best;
}
