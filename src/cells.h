// cells.h: the cells of an experiment: grid points of the sweep times seeds.
//
// Order: the product axes in file order (the first varies slowest), then the
// zip group, then the seed (fastest).  Cells are content-addressed: a cell's
// id is a hash of its seed and every resolved setting that can change what it
// writes (not the experiment's name, its place in the grid or which keys are
// swept; see cell_id in cells.c), so the same run has the same id in any grid
// that contains it.  Randomness comes from the settings (random.h), never
// from a cell's position.
#ifndef LORALAB_CELLS_H
#define LORALAB_CELLS_H

#include "config.h"
#include "spec.h"

enum { CELL_ID_LEN = 16 };

typedef struct {
    int index;              // position in the enumeration
    long seed;
    int *choice;            // per axis: index into axis.values
    char id[CELL_ID_LEN + 1];   // 16 hex digits
} cell;

typedef struct {
    const config_doc *doc;  // the parsed experiment (not owned)
    sweep_def sweep;        // its sweep block
    int ncells;
    cell *cells;
    int nparams;            // log.params: trace columns a_I_J, b_I_J (0 if off)
    char **param_names;
} cell_list;

// Enumerate the cells of `doc` (sweep block and seeds) and check that every
// cell resolves to a valid spec (input errors name the sweep value's
// file:line:column).  With log.params, every cell must have the same d, k, r
// (they are trace columns) and d r + r k <= 1000.  Two grid points that
// resolve to the same run are an input error.  `row_format` (the columns a
// cell's rows hold) is hashed into every id, so rows written in another
// format never pass for today's.
int cells_make(const config_doc *doc, const char *row_format, cell_list *out, lerr *e);
void cells_free(cell_list *cl);

// The experiment at the first grid point with its own seeds: the spec that
// config.yaml records (the sweep block follows it there).
int cells_base_spec(const cell_list *cl, spec *out, lerr *e);

// The resolved spec of one cell (seeds = [cell's seed]).
int cells_spec(const cell_list *cl, const cell *c, spec *out, lerr *e);

// The CSV columns that identify a cell: "cell", the swept keys, "seed".
// Returns how many were written to cols (at most 2 + naxes).
int cells_columns(const cell_list *cl, const char **cols);

// The row prefix "<id>,<label>,...," (without the seed), as a new string:
// what trace.csv and summary.csv put before a cell's own rows, which start
// at its seed.
char *cells_prefix(const cell_list *cl, const cell *c);

#endif
