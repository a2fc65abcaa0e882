// cell_store.c: a results folder as a store of cells (see cell_store.h).
#define _GNU_SOURCE   // getline, fseeko
#include "cell_store.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// ---------------------------------------------------------------------------
// The files of one cell: cells/ID.summary, ID.trace, ID.interrupted

int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

char *cell_file(const char *cells_dir, const char *id, const char *ext)
{
    char name[64];
    snprintf(name, sizeof name, "%s.%s", id, ext);
    return path_join(cells_dir, name);
}

int cell_file_exists(const char *cells_dir, const char *id, const char *ext)
{
    char *p = cell_file(cells_dir, id, ext);
    int there = file_exists(p);
    free(p);
    return there;
}

void cell_file_remove(const char *cells_dir, const char *id, const char *ext)
{
    char *p = cell_file(cells_dir, id, ext);
    remove(p);
    free(p);
}

// ---------------------------------------------------------------------------
// Where a cell's trace rows are: cells/ID.trace or a block of trace.csv.  So a
// folder takes about the size of its trace.csv.

// Skip n comma-separated fields of a CSV line (quoted fields may hold commas).
const char *skip_fields(const char *s, int n)
{
    for (int i = 0; i < n && *s; i++) {
        if (*s == '"') {
            for (s++; *s && !(s[0] == '"' && s[1] != '"'); s += s[0] == '"' ? 2 : 1) {}
            if (*s) s++;
        }
        while (*s && *s != ',') s++;
        if (*s) s++;
    }
    return s;
}

static int by_block_id(const void *a, const void *b)
{
    return strcmp(((const row_block *)a)->id, ((const row_block *)b)->id);
}

static void index_close(trace_index *x)
{
    if (x->f) fclose(x->f);
    free(x->b);
    memset(x, 0, sizeof *x);
}

// Index `path` (a trace.csv; missing: an empty index).
static int index_open(const char *path, trace_index *x, lerr *e)
{
    memset(x, 0, sizeof *x);
    x->f = fopen(path, "rb");
    if (!x->f) return 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = getline(&line, &cap, x->f);
    int seed_col = -1, col = 0;
    for (const char *s = len > 0 ? line : ""; *s && *s != '\n'; col++) {
        const char *next = skip_fields(s, 1);
        size_t flen = (size_t)(next - s) - (next[-1] == ',' || next[-1] == '\n');
        if ((flen == 4 && !strncmp(s, "seed", 4)) || (flen == 6 && !strncmp(s, "\"seed\"", 6))) {
            seed_col = col;
            break;
        }
        s = next;
    }
    if (seed_col < 1) {
        free(line);
        index_close(x);
        return lerr_run(e, "%s: no 'seed' column in its header; not a trace.csv of loralab", path);
    }
    x->nskip = seed_col;
    int capb = 0;
    off_t at = ftello(x->f);
    while ((len = getline(&line, &cap, x->f)) > 0) {
        off_t next = at + len;
        const char *comma = strchr(line, ',');
        size_t idlen = comma ? (size_t)(comma - line) : 0;
        if (idlen == CELL_ID_LEN && x->n > 0 && !strncmp(x->b[x->n - 1].id, line, idlen) &&
            x->b[x->n - 1].end == at) {
            x->b[x->n - 1].end = next;
        } else if (idlen == CELL_ID_LEN) {
            if (x->n == capb) x->b = xrealloc(x->b, sizeof *x->b * (size_t)(capb = 2 * capb + 64));
            row_block *b = &x->b[x->n++];
            memcpy(b->id, line, CELL_ID_LEN);
            b->id[CELL_ID_LEN] = '\0';
            b->start = at, b->end = next;
        }
        at = next;
    }
    free(line);
    if (ferror(x->f)) {
        index_close(x);
        return lerr_run(e, "error reading %s", path);
    }
    if (x->n > 1) qsort(x->b, (size_t)x->n, sizeof *x->b, by_block_id);   // (b is NULL when n = 0)
    for (int i = 1; i < x->n; i++)
        if (!strcmp(x->b[i - 1].id, x->b[i].id)) {
            char id[CELL_ID_LEN + 1];
            memcpy(id, x->b[i].id, sizeof id);
            index_close(x);
            return lerr_run(e, "%s: the rows of cell %s are not contiguous (edited by hand?); "
                            "use --force to start again", path, id);
        }
    return 0;
}

static const row_block *index_find(const trace_index *x, const char *id)
{
    row_block key;
    snprintf(key.id, sizeof key.id, "%s", id);
    return x->n ? bsearch(&key, x->b, (size_t)x->n, sizeof *x->b, by_block_id) : NULL;
}

// Copy the lines of `in` from byte `start` to `end` (-1: the end of the file)
// to `out`, each with its first `nskip` fields replaced by `prefix`.
int copy_rows(afile *out, FILE *in, const char *in_name, off_t start, off_t end, int nskip,
                     const char *prefix, lerr *e)
{
    if (fseeko(in, start, SEEK_SET) != 0) return lerr_run(e, "cannot seek in %s", in_name);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    off_t at = start;
    while ((end < 0 || at < end) && (len = getline(&line, &cap, in)) > 0) {
        at += len;
        afile_puts(out, prefix);
        afile_puts(out, nskip ? skip_fields(line, nskip) : line);
    }
    free(line);
    return ferror(in) ? lerr_run(e, "error reading %s", in_name) : 0;
}


int store_open(const char *dir, int index, cell_store *st, lerr *e)
{
    memset(st, 0, sizeof *st);
    st->dir = dir;
    st->cells_dir = path_join(dir, "cells");
    st->trace_path = path_join(dir, "trace.csv");
    return index ? index_open(st->trace_path, &st->tx, e) : 0;
}

void store_close(cell_store *st)
{
    index_close(&st->tx);
    free(st->cells_dir), free(st->trace_path);
    memset(st, 0, sizeof *st);
}

int store_has_trace(const cell_store *st, const char *id)
{
    return cell_file_exists(st->cells_dir, id, "trace") || index_find(&st->tx, id);
}

// Complete: its summary row is there (ID.summary) and its trace rows too.
int store_complete(const cell_store *st, const char *id)
{
    return cell_file_exists(st->cells_dir, id, "summary") && store_has_trace(st, id);
}

// Append the cell's trace rows to out, each after `prefix`.
int store_copy_trace(const cell_store *st, const char *id, afile *out, const char *prefix,
                            lerr *e)
{
    char *path = cell_file(st->cells_dir, id, "trace");
    FILE *in = fopen(path, "rb");
    int rc;
    if (in) {
        rc = copy_rows(out, in, path, 0, -1, 0, prefix, e);
        fclose(in);
    } else {
        const row_block *b = index_find(&st->tx, id);
        rc = b ? copy_rows(out, st->tx.f, st->trace_path, b->start, b->end, st->tx.nskip, prefix, e)
               : lerr_run(e, "cell %s: no trace rows in %s or %s", id, path, st->trace_path);
    }
    free(path);
    return rc;
}
