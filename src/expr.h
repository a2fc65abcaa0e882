// expr.h: row filters of the claims file ("init.alpha2 <= 1e-3 and step >= 1").
//
// Grammar (usual precedence, left-associative):
//   or   := and ("or" and)*        and := not ("and" not)*     not := "not" not | cmp
//   cmp  := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
//   sum  := prod (("+" | "-") prod)*          prod := unary (("*" | "/") unary)*
//   unary:= "-" unary | power                 power := atom ("^" unary)?
//   atom := number | 'text' | "text" | name | "(" or ")"
// A name is a CSV column (letters, digits, '_' and '.').  A value is
// a number when its text parses fully as one, text otherwise; == and != compare
// text when either side is text.  Truth: a nonzero, non-NaN number.
#ifndef LORALAB_EXPR_H
#define LORALAB_EXPR_H

#include "util.h"

typedef struct expr expr;

// Parse `text`; column names are resolved against header[0 .. ncols).
// Errors (LERR_INPUT) name the position and, for unknown columns, the closest
// column ("did you mean") and the columns.
expr *expr_parse(const char *text, const char *const *header, int ncols, lerr *e);
void expr_free(expr *x);

// The name in names[0 .. n) closest to `typed` (Levenshtein distance, the
// first of equals), if it is within a typo's reach (1 edit for names of up to
// 3 characters, 2 up to 7, 3 beyond); NULL otherwise.  For "did you mean".
const char *expr_closest_name(const char *typed, const char *const *names, int n);

// 1 if the row (fields[0 .. ncols)) passes the filter, 0 otherwise.
int expr_true(const expr *x, const char *const *fields);

#endif
