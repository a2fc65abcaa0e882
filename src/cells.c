// cells.c: grid expansion (product x zip x seeds) and per-cell specs.
#include "cells.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "init.h"
#include "mlp_source.h"
#include "registry.h"

// Data files named by string keys (teacher.features, targets, base: an
// absolute path or a keyword) are hashed by content, each file read once per
// cells_make: a file rewritten under the same name makes new cells.
typedef struct {
    int n;
    char **path;
    unsigned long long *hash;
} file_hashes;

static unsigned long long file_hash(file_hashes *fh, const char *path)
{
    for (int i = 0; i < fh->n; i++)
        if (!strcmp(fh->path[i], path)) return fh->hash[i];
    unsigned long long h = FNV_OFFSET;
    FILE *f = fopen(path, "rb");
    if (f) {   // unreadable: config_resolve or the teacher reports it
        char buf[1 << 16];
        size_t got;
        while ((got = fread(buf, 1, sizeof buf, f)) > 0) h = fnv1a(h, buf, got);
        fclose(f);
    }
    fh->path = xrealloc(fh->path, sizeof(char *) * (size_t)(fh->n + 1));
    fh->hash = xrealloc(fh->hash, sizeof(unsigned long long) * (size_t)(fh->n + 1));
    fh->path[fh->n] = xstrdup(path);
    fh->hash[fh->n++] = h;
    return h;
}

static void file_hashes_free(file_hashes *fh)
{
    for (int i = 0; i < fh->n; i++) free(fh->path[i]);
    free(fh->path), free(fh->hash);
}

// The id of a cell: 16 hex digits of a 64-bit FNV-1a hash of
//   "rows=<row_format>" and, for every section that can change what a cell
//   writes (teacher, lora, init, optimizer, log, convex), its resolved keys
//   (config_section_key; matrices by value), log.save, the contents of the
//   data files named by teacher.features / targets / base, and "seed=N";
//   for real data (spec_real_data) also the pretrain section and the
//   contents of teacher.data's four files.
// Not hashed: the experiment's name, the cell's place in the grid, which keys
// are swept.  So equal runs have equal ids in any grid, and a cell from a
// folder is reused only when it would be written the same today.
static void cell_id(const spec *s, long seed, const char *row_format, file_hashes *fh,
                    char *out)
{
    static const char *const sections[] = {"teacher", "lora", "init", "optimizer", "log",
                                           "convex"};
    unsigned long long h = fnv1a(FNV_OFFSET, "rows=", 5);
    h = fnv1a(h, row_format, strlen(row_format));
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        char *key = config_section_key(s, sections[i]);
        h = fnv1a(h, "\n", 1);
        h = fnv1a(h, key, strlen(key));
        free(key);
    }
    if (spec_real_data(s)) {
        char *key = config_section_key(s, "pretrain");
        h = fnv1a(h, "\n", 1);
        h = fnv1a(h, key, strlen(key));
        free(key);
        char *paths[4];
        int npy;
        lerr ne = {0};
        if (mlp_source_files(s, paths, &npy, &ne) == 0)   // else: the run reports it
            for (int i = 0; i < 4; i++) {
                unsigned long long fhv = file_hash(fh, paths[i]);
                h = fnv1a(h, &fhv, sizeof fhv);
                free(paths[i]);
            }
    }
    const char *files[] = {s->teacher.features, s->teacher.targets, s->teacher.base};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        unsigned long long fhv = files[i] && files[i][0] == '/' ? file_hash(fh, files[i]) : 0;
        h = fnv1a(h, &fhv, sizeof fhv);
    }
    char tail[80];
    int n = snprintf(tail, sizeof tail, "\nlog.save=%u\nseed=%ld", s->log.save, seed);
    h = fnv1a(h, tail, (size_t)n);
    h ^= h >> 33;   // murmur3's finaliser (a bijection): ids of neighbouring
    h *= 0xff51afd7ed558ccdULL;   // cells differ in every digit, not the last few
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    snprintf(out, CELL_ID_LEN + 1, "%016llx", h);
}

// Number of grid points: product of the product axes' lengths times the
// zip group's common length.
static long grid_size(const sweep_def *sw)
{
    long n = 1;
    int zip_len = 0;
    for (int a = 0; a < sw->naxes; a++) {
        if (sw->axes[a].zip)
            zip_len = sw->axes[a].nvalues;
        else
            n *= sw->axes[a].nvalues;
    }
    return zip_len ? n * zip_len : n;
}

// The axis choices of grid point g (mixed radix, last product axis fastest,
// then the zip index fastest of all).
static void grid_point(const sweep_def *sw, long g, int *choice)
{
    int zip_len = 0;
    for (int a = 0; a < sw->naxes; a++)
        if (sw->axes[a].zip) zip_len = sw->axes[a].nvalues;
    int zi = 0;
    if (zip_len) {
        zi = (int)(g % zip_len);
        g /= zip_len;
    }
    for (int a = sw->naxes - 1; a >= 0; a--) {
        if (sw->axes[a].zip) {
            choice[a] = zi;
        } else {
            choice[a] = (int)(g % sw->axes[a].nvalues);
            g /= sw->axes[a].nvalues;
        }
    }
}

// Resolve the doc with every axis at `choice` and, when seed is not NULL,
// seeds = [*seed].  Errors in a swept value name its file:line:column.
static int resolve_at(const cell_list *cl, const int *choice, const long *seed, spec *out,
                      lerr *e)
{
    config_doc *d = config_doc_copy(cl->doc);
    const sweep_def *sw = &cl->sweep;
    int rc = 0;
    for (int a = 0; a < sw->naxes && !rc; a++) {
        const sweep_axis *ax = &sw->axes[a];
        rc = config_doc_set(d, ax->key, ax->values[choice[a]], ax->origins[choice[a]], e);
    }
    if (!rc && seed) {
        char sd[48];
        snprintf(sd, sizeof sd, "[%ld]", *seed);
        rc = config_doc_set(d, "seeds", sd, "the cell's seed", e);
    }
    if (!rc) rc = config_resolve(d, out, e);
    if (!rc && (rc = init_check(out, e) || teacher_check(out, e))) spec_free(out);
    config_doc_free(d);
    return rc;
}

int cells_spec(const cell_list *cl, const cell *c, spec *out, lerr *e)
{
    return resolve_at(cl, c->choice, &c->seed, out, e);
}

int cells_base_spec(const cell_list *cl, spec *out, lerr *e)
{
    int *first = xcalloc((size_t)(cl->sweep.naxes ? cl->sweep.naxes : 1), sizeof(int));
    int rc = resolve_at(cl, first, NULL, out, e);
    free(first);
    return rc;
}

// The seeds of the experiment (count or list).
static int base_seeds(const cell_list *cl, long **seeds, int *n, lerr *e)
{
    spec s;
    if (cells_base_spec(cl, &s, e)) return -1;
    *n = s.nseeds;
    *seeds = xmalloc(sizeof(long) * (size_t)s.nseeds);
    memcpy(*seeds, s.seeds, sizeof(long) * (size_t)s.nseeds);
    spec_free(&s);
    return 0;
}

// log.params: the (d, k, r) of every cell must agree (they name trace columns).
static int param_dims(const spec *s, int i, int *dims, lerr *e)
{
    int d = s->teacher.d, k = s->teacher.k, r = s->lora.rank;
    if ((long)d * r + (long)r * k > 1000)
        return lerr_input(e, "log.params writes every entry of A and B to the trace: it is "
                          "meant for tiny problems (d r + r k <= 1000), here %ld",
                          (long)d * r + (long)r * k);
    if (i > 0 && (dims[0] != d || dims[1] != k || dims[2] != r))
        return lerr_input(e, "log.params needs the same d, k and lora.rank in every cell of "
                          "the sweep (they name the trace's columns)");
    dims[0] = d, dims[1] = k, dims[2] = r;
    return 0;
}

// Column names a_I_J (A: (d, r)) then b_I_J (B: (r, k)), 0-based.
static void param_names(cell_list *cl, int d, int k, int r)
{
    cl->nparams = d * r + r * k;
    cl->param_names = xcalloc((size_t)cl->nparams, sizeof(char *));
    int n = 0;
    char buf[32];
    for (int i = 0; i < d; i++)
        for (int j = 0; j < r; j++) {
            snprintf(buf, sizeof buf, "a_%d_%d", i, j);
            cl->param_names[n++] = xstrdup(buf);
        }
    for (int i = 0; i < r; i++)
        for (int j = 0; j < k; j++) {
            snprintf(buf, sizeof buf, "b_%d_%d", i, j);
            cl->param_names[n++] = xstrdup(buf);
        }
}

static int by_id(const void *a, const void *b)
{
    const cell *const *x = a, *const *y = b;
    int c = strcmp((*x)->id, (*y)->id);
    return c ? c : (*x)->index - (*y)->index;
}

// Two grid points that resolve to the same run (e.g. lr: [0.01, 1e-2]) would
// write one cell twice: an input error naming both.
static int check_distinct(const cell_list *cl, lerr *e)
{
    const cell **sorted = xcalloc((size_t)cl->ncells + 1, sizeof *sorted);
    for (int i = 0; i < cl->ncells; i++) sorted[i] = &cl->cells[i];
    qsort(sorted, (size_t)cl->ncells, sizeof *sorted, by_id);
    int rc = 0;
    for (int i = 1; i < cl->ncells && !rc; i++) {
        if (strcmp(sorted[i - 1]->id, sorted[i]->id)) continue;
        const cell *a = sorted[i - 1], *b = sorted[i];
        char where[2][512];
        for (int k = 0; k < 2; k++) {
            const cell *c = k ? b : a;
            size_t n = 0;
            where[k][0] = '\0';
            for (int x = 0; x < cl->sweep.naxes && n < sizeof where[k]; x++)
                n += (size_t)snprintf(where[k] + n, sizeof where[k] - n, "%s%s=%s", x ? ", " : "",
                                      cl->sweep.axes[x].key,
                                      cl->sweep.axes[x].labels[c->choice[x]]);
        }
        rc = lerr_input(e, "%s: sweep: the grid points %s and %s are the same run (seed %ld): "
                        "their values resolve to equal settings; list each run once",
                        cl->sweep.file, where[0], where[1], a->seed);
    }
    free(sorted);
    return rc;
}

int cells_make(const config_doc *doc, const char *row_format, cell_list *out, lerr *e)
{
    memset(out, 0, sizeof *out);
    out->doc = doc;
    if (config_sweep(doc, &out->sweep, e)) return -1;
    long *seeds = NULL;
    int nseeds = 0;
    if (base_seeds(out, &seeds, &nseeds, e)) {
        sweep_def_free(&out->sweep);
        return -1;
    }
    const sweep_def *sw = &out->sweep;
    long grid = grid_size(sw);
    if (grid * nseeds > 10000000L) {
        free(seeds);
        sweep_def_free(&out->sweep);
        return lerr_input(e, "%s: the sweep has %ld cells; more than 10^7 is surely a mistake",
                          sw->file, grid * nseeds);
    }
    out->ncells = (int)(grid * nseeds);
    out->cells = xcalloc((size_t)out->ncells, sizeof(cell));
    for (long g = 0, i = 0; g < grid; g++) {
        for (int s = 0; s < nseeds; s++, i++) {
            cell *c = &out->cells[i];
            c->index = (int)i;
            c->seed = seeds[s];
            c->choice = xcalloc((size_t)(sw->naxes ? sw->naxes : 1), sizeof(int));
            grid_point(sw, g, c->choice);
        }
    }
    free(seeds);
    // every cell must resolve: bad sweep values are input errors, found now
    int dims[3] = {0, 0, 0};
    file_hashes fh = {0};
    for (int i = 0; i < out->ncells; i++) {
        spec s;
        if (cells_spec(out, &out->cells[i], &s, e)) {
            file_hashes_free(&fh);
            cells_free(out);
            return -1;
        }
        cell_id(&s, out->cells[i].seed, row_format, &fh, out->cells[i].id);
        int rc = s.log.params ? param_dims(&s, i, dims, e) : 0;
        spec_free(&s);
        if (rc) {
            file_hashes_free(&fh);
            cells_free(out);
            return -1;
        }
    }
    file_hashes_free(&fh);
    if (check_distinct(out, e)) {
        cells_free(out);
        return -1;
    }
    if (dims[0]) param_names(out, dims[0], dims[1], dims[2]);
    return 0;
}

void cells_free(cell_list *cl)
{
    for (int i = 0; i < cl->ncells; i++) free(cl->cells[i].choice);
    for (int i = 0; i < cl->nparams; i++) free(cl->param_names[i]);
    free(cl->param_names);
    free(cl->cells);
    sweep_def_free(&cl->sweep);
    memset(cl, 0, sizeof *cl);
}

int cells_columns(const cell_list *cl, const char **cols)
{
    int n = 0;
    cols[n++] = "cell";
    for (int a = 0; a < cl->sweep.naxes; a++) cols[n++] = cl->sweep.axes[a].key;
    cols[n++] = "seed";
    return n;
}

char *cells_prefix(const cell_list *cl, const cell *c)
{
    size_t cap = 64;
    for (int a = 0; a < cl->sweep.naxes; a++)
        cap += 2 * strlen(cl->sweep.axes[a].labels[c->choice[a]]) + 4;
    char *p = xmalloc(cap);
    size_t n = (size_t)snprintf(p, cap, "%s,", c->id);
    for (int a = 0; a < cl->sweep.naxes; a++) {
        n += csv_field(p + n, cl->sweep.axes[a].labels[c->choice[a]]);
        p[n++] = ',';
        p[n] = '\0';
    }
    return p;
}
