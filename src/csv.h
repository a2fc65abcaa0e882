// csv.h: tidy CSV output (one header line, snake_case or dotted config-key
// columns, %.17g numbers, texts that every common reader splits alike).
#ifndef LORALAB_CSV_H
#define LORALAB_CSV_H

#include <stdio.h>

#include "util.h"

// Header line from `n` column names.
void csv_header(afile *f, const char *const *cols, int n);
// One number with full precision (%.17g; nan/inf as "nan", "inf", "-inf"),
// preceded by a comma unless `first`.
void csv_num(afile *f, double v, int first);
// The same text into out (at least CSV_NUM_MAX bytes).
enum { CSV_NUM_MAX = 40 };
void csv_fmt(double v, int first, char *out);
// A text field, preceded by a comma unless `first`, as csv_field writes it.
void csv_text(afile *f, const char *s, int first);
// s as a field that readers without CSV quoting (numpy) split like the others:
// ',' -> ';', '"' -> '\'', '#' -> '_', line breaks and tabs -> ' ', and the
// empty text as "" (quoted).  Into out (at least strlen(s) + 3 bytes);
// returns the length written.
size_t csv_field(char *out, const char *s);

// One record read back: nf fields, each a new string.
typedef struct {
    int nf;
    char **f;
} csv_row;

// Read the next record (quoted fields may hold commas, quotes, newlines);
// returns 0 at end of file.  Free with csv_row_free.
int csv_read_row(FILE *in, csv_row *r);
void csv_row_free(csv_row *r);

#endif
