// csv.c: tidy CSV output.
#include "csv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void csv_header(afile *f, const char *const *cols, int n)
{
    for (int i = 0; i < n; i++) afile_printf(f, "%s%s", i ? "," : "", cols[i]);
    afile_printf(f, "\n");
}

void csv_num(afile *f, double v, int first)
{
    const char *sep = first ? "" : ",";
    if (isnan(v))
        afile_printf(f, "%snan", sep);
    else if (isinf(v))
        afile_printf(f, "%s%s", sep, v > 0 ? "inf" : "-inf");
    else
        afile_printf(f, "%s%.17g", sep, v);
}

void csv_text(afile *f, const char *s, int first)
{
    if (!first) afile_printf(f, ",");
    if (!strpbrk(s, ",\"\n\r")) {
        afile_printf(f, "%s", s);
        return;
    }
    afile_printf(f, "\"");
    for (const char *c = s; *c; c++) afile_printf(f, *c == '"' ? "\"\"" : "%c", *c);
    afile_printf(f, "\"");
}

// ---------------------------------------------------------------------------
// Reading (RFC 4180 quoting)

int csv_read_row(FILE *in, csv_row *r)
{
    r->nf = 0;
    r->f = NULL;
    int c = fgetc(in);
    if (c == EOF) return 0;
    size_t cap = 64, len = 0;
    char *buf = xmalloc(cap);
    int quoted = 0, cap_f = 0;
    for (;; c = fgetc(in)) {
        int end_field = 0, end_row = 0;
        if (c == EOF) {
            end_field = end_row = 1;
        } else if (quoted) {
            if (c == '"') {
                int n = fgetc(in);
                if (n == '"')
                    buf[len++] = '"';
                else {
                    quoted = 0;
                    ungetc(n, in);
                }
            } else {
                buf[len++] = (char)c;
            }
        } else if (c == '"') {
            quoted = 1;
        } else if (c == ',') {
            end_field = 1;
        } else if (c == '\n') {
            end_field = end_row = 1;
        } else if (c != '\r') {
            buf[len++] = (char)c;
        }
        if (len + 2 >= cap) buf = xrealloc(buf, cap *= 2);
        if (end_field) {
            buf[len] = '\0';
            if (r->nf == cap_f) r->f = xrealloc(r->f, sizeof(char *) * (size_t)(cap_f = 2 * cap_f + 8));
            r->f[r->nf++] = xstrdup(buf);
            len = 0;
        }
        if (end_row) break;
    }
    free(buf);
    return 1;
}

void csv_row_free(csv_row *r)
{
    for (int i = 0; i < r->nf; i++) free(r->f[i]);
    free(r->f);
}

