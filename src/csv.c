// csv.c: tidy CSV output.
#include "csv.h"

#include <math.h>
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
