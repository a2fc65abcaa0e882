// test_csv.c: tests for csv.c's text fields (csv_text, csv_field).
//
// Texts holding every character that a reader without CSV quoting (numpy)
// treats specially (comma, double quote, '#', line breaks, tab) are written
// with csv_text into a file; the file's bytes are compared with the expected
// line spelled out literally, and read back with csv_read_row (RFC 4180) to
// check that both kinds of reader see the same fields.  Exit status 0 means
// all checks passed.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "csv.h"

int main(void)
{
    char dir[] = "/tmp/loralab-test-csv.XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char path[128];
    snprintf(path, sizeof path, "%s/t.csv", dir);

    const char *texts[] = {"plain text", "a,b", "say \"hi\"", "x#1", "two\nlines\r\n", "tab\there", ""};
    const char *want = "plain text,a;b,say 'hi',x_1,two lines  ,tab here,\"\",1.5\n";
    enum { NT = sizeof texts / sizeof texts[0] };

    lerr e = {0};
    afile f;
    CHECK(afile_open(&f, path, &e) == 0, "%s", e.msg);
    for (int i = 0; i < NT; i++) csv_text(&f, texts[i], i == 0);
    csv_num(&f, 1.5, 0);
    afile_printf(&f, "\n");
    CHECK(afile_commit(&f, &e) == 0, "%s", e.msg);

    char got[256] = "";
    FILE *in = fopen(path, "rb");
    CHECK(in != NULL, "cannot reopen %s", path);
    if (in) {
        size_t n = fread(got, 1, sizeof got - 1, in);
        got[n] = '\0';
        CHECK(!strcmp(got, want), "wrote   [%s]\nwanted  [%s]", got, want);
        // a splitter at every comma and an RFC 4180 reader see the same fields
        int commas = 0;
        for (const char *c = got; *c; c++) commas += *c == ',';
        CHECK(commas == NT, "%d commas for %d fields", commas, NT + 1);
        rewind(in);
        csv_row r;
        CHECK(csv_read_row(in, &r) == 1, "no row read back");
        CHECK(r.nf == NT + 1, "read back %d fields, wrote %d", r.nf, NT + 1);
        if (r.nf == NT + 1) {
            CHECK(!strcmp(r.f[1], "a;b"), "field 2 read back as [%s]", r.f[1]);
            CHECK(!strcmp(r.f[NT - 1], ""), "the empty text read back as [%s]", r.f[NT - 1]);
            CHECK(!strcmp(r.f[NT], "1.5"), "last field read back as [%s]", r.f[NT]);
        }
        csv_row_free(&r);
        fclose(in);
    }

    // csv_field: the same substitutions, nothing else touched, lengths returned
    char buf[64];
    size_t n = csv_field(buf, "[[2], [1]] \"q\" #");
    CHECK(!strcmp(buf, "[[2]; [1]] 'q' _") && n == strlen(buf), "csv_field gave [%s] (%zu)", buf, n);
    n = csv_field(buf, "1.0e-3");
    CHECK(!strcmp(buf, "1.0e-3") && n == 6, "csv_field changed [%s]", buf);
    n = csv_field(buf, "");
    CHECK(!strcmp(buf, "\"\"") && n == 2, "csv_field of the empty text: [%s]", buf);

    unlink(path);
    rmdir(dir);
    return check_failures ? 1 : 0;
}
