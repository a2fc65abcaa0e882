// aggregate.c: mean / min / max of tidy CSV columns over seeds.
//
// The CSVs are our own (csv.c): one header line, fields separated by commas,
// text fields quoted only when they hold a comma, quote or newline.
#include "aggregate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

static int parse_num(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return *s && !*end;
}

typedef struct {
    char *key;           // swept values joined with '\n'
    double inner;        // value of the inner column (0 if none)
    int n;               // rows pooled
    double *sum, *mn, *mx;
    int *cnt;            // non-NaN values per column
} group;

int aggregate_csv(const char *in_path, const char *out_path, int ngroup, const char *inner,
                  lerr *e)
{
    FILE *in = fopen(in_path, "rb");
    if (!in) return lerr_run(e, "cannot read %s", in_path);
    csv_row head;
    if (!csv_read_row(in, &head) || head.nf < ngroup + 2) {
        fclose(in);
        return lerr_run(e, "%s: no header", in_path);
    }
    int nf = head.nf, first = ngroup + 2, inner_col = -1;
    for (int i = first; inner && i < nf; i++)
        if (!strcmp(head.f[i], inner)) inner_col = i;
    int *numeric = xcalloc((size_t)nf, sizeof(int));
    for (int i = first; i < nf; i++) numeric[i] = i != inner_col;
    group *g = NULL;
    int ng = 0, capg = 0, block = 0, hint = 0;   // block: first group of the current key
    csv_row r;
    while (csv_read_row(in, &r)) {
        if (r.nf != nf) {
            csv_row_free(&r);
            continue;
        }
        size_t klen = 1;
        for (int i = 1; i <= ngroup; i++) klen += strlen(r.f[i]) + 1;
        char *key = xmalloc(klen);
        key[0] = '\0';
        for (int i = 1; i <= ngroup; i++) strcat(strcat(key, r.f[i]), "\n");
        double iv = 0;
        if (inner_col >= 0) parse_num(r.f[inner_col], &iv);
        // The rows of one grid point are contiguous (its seeds, in step
        // order), so its groups form a block; the next row's group is
        // usually the one after the previous row's.
        if (ng == 0 || strcmp(g[block].key, key) != 0) block = hint = ng;
        int gi = -1;
        if (hint < ng && g[hint].inner == iv) gi = hint;
        for (int j = block; j < ng && gi < 0; j++)
            if (g[j].inner == iv) gi = j;
        if (gi < 0) {
            if (ng == capg) g = xrealloc(g, sizeof *g * (size_t)(capg = 2 * capg + 16));
            gi = ng++;
            g[gi] = (group){.key = key, .inner = iv};
            g[gi].sum = dalloc((size_t)nf);
            g[gi].mn = dalloc((size_t)nf);
            g[gi].mx = dalloc((size_t)nf);
            g[gi].cnt = xcalloc((size_t)nf, sizeof(int));
            for (int i = 0; i < nf; i++) g[gi].mn[i] = INFINITY, g[gi].mx[i] = -INFINITY;
        } else {
            free(key);
        }
        hint = gi + 1;
        g[gi].n++;
        for (int i = first; i < nf; i++) {
            double v;
            if (!numeric[i]) continue;
            if (!parse_num(r.f[i], &v)) {
                numeric[i] = 0;
                continue;
            }
            if (isnan(v)) continue;
            g[gi].sum[i] += v;
            g[gi].cnt[i]++;
            if (v < g[gi].mn[i]) g[gi].mn[i] = v;
            if (v > g[gi].mx[i]) g[gi].mx[i] = v;
        }
        csv_row_free(&r);
    }
    fclose(in);
    // order: groups by first appearance of their key, inner values ascending
    int *order = xcalloc((size_t)ng + 1, sizeof(int));
    for (int j = 0; j < ng; j++) order[j] = j;
    for (int a = 1; a < ng; a++) {   // insertion sort: stable, keys already contiguous
        int x = order[a], b = a - 1;
        while (b >= 0 && !strcmp(g[order[b]].key, g[x].key) && g[order[b]].inner > g[x].inner) {
            order[b + 1] = order[b];
            b--;
        }
        order[b + 1] = x;
    }
    afile out;
    int rc = afile_open(&out, out_path, e);
    if (!rc) {
        for (int i = 1; i <= ngroup; i++) csv_text(&out, head.f[i], i == 1);
        if (inner_col >= 0) csv_text(&out, head.f[inner_col], ngroup == 0);
        csv_text(&out, "seeds", ngroup == 0 && inner_col < 0);
        const char *suf[] = {"_mean", "_min", "_max"};
        for (int i = first; i < nf; i++)
            for (int s = 0; numeric[i] && s < 3; s++)
                afile_printf(&out, ",%s%s", head.f[i], suf[s]);
        afile_printf(&out, "\n");
        for (int j = 0; j < ng; j++) {
            const group *q = &g[order[j]];
            const char *k = q->key;
            for (int i = 1; i <= ngroup; i++) {
                const char *nl = strchr(k, '\n');
                char *field = xmalloc((size_t)(nl - k) + 1);
                memcpy(field, k, (size_t)(nl - k));
                field[nl - k] = '\0';
                csv_text(&out, field, i == 1);
                free(field);
                k = nl + 1;
            }
            if (inner_col >= 0) csv_num(&out, q->inner, ngroup == 0);
            afile_printf(&out, "%s%d", ngroup == 0 && inner_col < 0 ? "" : ",", q->n);
            for (int i = first; i < nf; i++) {
                if (!numeric[i]) continue;
                int c = q->cnt[i];
                double v3[3] = {c ? q->sum[i] / c : NAN, c ? q->mn[i] : NAN, c ? q->mx[i] : NAN};
                char buf[CSV_NUM_MAX];
                for (int s = 0; s < 3; s++) {   // one seed: three equal values, formatted once
                    if (s == 0 || memcmp(&v3[s], &v3[s - 1], sizeof(double)))
                        csv_fmt(v3[s], 0, buf);
                    afile_puts(&out, buf);
                }
            }
            afile_printf(&out, "\n");
        }
        rc = afile_commit(&out, e);
    }
    for (int j = 0; j < ng; j++) {
        free(g[j].key), free(g[j].sum), free(g[j].mn), free(g[j].mx), free(g[j].cnt);
    }
    free(g), free(order), free(numeric);
    csv_row_free(&head);
    return rc;
}
