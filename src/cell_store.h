// cell_store.h: a results folder as a store of cells.
//
// A finished folder keeps each complete cell as cells/ID.summary (its summary
// row without the grid's columns: the completeness marker) and its trace rows
// once, in trace.csv; cells/ID.trace exists only between a cell's run and the
// next assembly (or for cells a grown or changed experiment dropped from the
// CSVs).  A store answers where a cell's rows are and copies them out.
#ifndef LORALAB_CELL_STORE_H
#define LORALAB_CELL_STORE_H

#include <stdio.h>
#include <sys/types.h>

#include "cells.h"
#include "util.h"

// The blocks of rows of each cell in an existing trace.csv.
typedef struct {
    char id[CELL_ID_LEN + 1];
    off_t start, end;         // byte range of the cell's rows (contiguous)
} row_block;

typedef struct {
    FILE *f;                  // the open trace.csv (NULL: none)
    int nskip;                // fields before a cell's own row: cell and swept keys
    row_block *b;             // sorted by id
    int n;
} trace_index;

// A results folder as a source of cells: cells/ and the index of trace.csv.
typedef struct {
    const char *dir;
    char *cells_dir, *trace_path;
    trace_index tx;
} cell_store;

// 1 if the path exists.
int file_exists(const char *path);
// DIR/ID.EXT (malloc'ed); whether it exists; remove it.
char *cell_file(const char *cells_dir, const char *id, const char *ext);
int cell_file_exists(const char *cells_dir, const char *id, const char *ext);
void cell_file_remove(const char *cells_dir, const char *id, const char *ext);

// The rest of a CSV line after its first n fields (quoted fields may hold commas).
const char *skip_fields(const char *s, int n);
// Copy the lines of `in` in the byte range [start, end) (end < 0: to the end
// of file) to out, each after `prefix` and without its first nskip fields.
int copy_rows(afile *out, FILE *in, const char *in_name, off_t start, off_t end, int nskip,
              const char *prefix, lerr *e);

// Open the store of folder `dir` (with `index`, also index the cells' row
// blocks of its trace.csv; the rows of one cell must be contiguous).
int store_open(const char *dir, int index, cell_store *st, lerr *e);
void store_close(cell_store *st);
// Whether the cell's trace rows are in cells/ID.trace or trace.csv.
int store_has_trace(const cell_store *st, const char *id);
// Complete: ID.summary is there and its trace rows too.
int store_complete(const cell_store *st, const char *id);
// Append the cell's trace rows to out, each after `prefix`.
int store_copy_trace(const cell_store *st, const char *id, afile *out, const char *prefix,
                     lerr *e);

#endif
