// test_check_pair: paired comparisons (check_pair.c) on hand-built tables
// whose values are known in closed form: each compare:, along: with steps in
// non-lexical order (final is the largest step as a number, not as text),
// ref: as a ratio of curve distances, the key columns (a column fixed within
// each arm drops out), and every failure, including the two rows of one arm
// with one key (ambiguous) that a loralab run cannot write.
#include <math.h>
#include <string.h>

#include "check.h"
#include "check_pair.h"

static char *header[] = {"cell", "init.method", "lora.rank", "seed", "step", "loss"};
enum { NCOLS = 6 };

typedef struct {
    double m;
    int rc;
    char why[512];
} result;

// Measure over the rows (every row passes `where`); an input error is a test failure.
static result run(const pair_spec *p, char **const *rows, int n)
{
    result r = {NAN, 0, ""};
    int idx[64];
    for (int i = 0; i < n; i++) idx[i] = i;
    lerr e = {0};
    r.rc = pair_measure(p, header, NCOLS, rows, idx, n, &r.m, r.why, sizeof r.why, &e);
    CHECK(!(r.rc && e.kind == LERR_INPUT), "unexpected input error: %s", e.msg);
    return r;
}

int main(void)
{
    // two arms (a = spectral, b = lora), rank 8, seed 0, steps 10 and 5 (file order)
    // plus a reference arm (full): a's loss 4, 1; b's 2, 2; ref's 1, 1
    static char *t1[][NCOLS] = {
        {"c1", "spectral", "8", "0", "10", "1"}, {"c1", "spectral", "8", "0", "5", "4"},
        {"c2", "lora", "8", "0", "10", "2"},     {"c2", "lora", "8", "0", "5", "2"},
        {"c3", "full", "8", "0", "10", "1"},     {"c3", "full", "8", "0", "5", "1"},
    };
    char **rows1[6];
    for (int i = 0; i < 6; i++) rows1[i] = t1[i];
    pair_spec p = {"init.method == 'spectral'", "init.method == 'lora'", NULL, "loss", "diff", NULL, NULL, "max"};
    result r = run(&p, rows1, 4 + 2);
    CHECK(r.rc == 0 && r.m == 2, "max diff: 4 - 2 = 2, got %g (%s)", r.m, r.why);
    p.compare = "ratio", p.reduce = "min";
    r = run(&p, rows1, 6);
    CHECK(r.rc == 0 && r.m == 0.5, "min ratio 1 / 2, got %g", r.m);
    p.compare = "log_ratio", p.reduce = "mean";
    r = run(&p, rows1, 6);
    CHECK(r.rc == 0 && fabs(r.m) < 1e-15, "mean ln(a / b) = (ln 2 + ln 1/2) / 2 = 0, got %g", r.m);
    p.compare = "abs_log_ratio";
    r = run(&p, rows1, 6);
    CHECK(r.rc == 0 && close_rel(r.m, log(2), 1e-15, 0), "mean |ln(a / b)| = ln 2, got %g", r.m);
    p.compare = "abs_diff", p.reduce = "count";
    r = run(&p, rows1, 6);
    CHECK(r.rc == 0 && r.m == 2, "two pairs, got %g", r.m);
    // along: step, final = step 10 (the larger number; "5" > "10" as text)
    p.compare = "diff", p.along = "step", p.along_reduce = "final", p.reduce = "max";
    r = run(&p, rows1, 6);
    CHECK(r.rc == 0 && r.m == -1, "final step 10: 1 - 2 = -1, got %g (%s)", r.m, r.why);
    p.along_reduce = "max";
    r = run(&p, rows1, 6);
    CHECK(r.rc == 0 && r.m == 2, "max over the curve: 2, got %g", r.m);
    p.along_reduce = NULL, p.reduce = "count";
    r = run(&p, rows1, 6);
    CHECK(r.rc == 0 && r.m == 1, "one curve (rank 8, seed 0), got %g", r.m);
    // ref: d(a, full) = mean(|ln 4|, |ln 1|) = ln 2, d(b, full) = ln 2: ratio 1
    p.ref = "init.method == 'full'", p.compare = "abs_log_ratio", p.reduce = "max";
    r = run(&p, rows1, 6);
    CHECK(r.rc == 0 && close_rel(r.m, 1, 1e-15, 0), "d(a, full) / d(b, full) = ln 2 / ln 2, got %g (%s)", r.m, r.why);
    p.along_reduce = "max";
    r = run(&p, rows1, 6);
    CHECK(r.rc == 0 && close_rel(r.m, 2, 1e-15, 0), "max_step: ln 4 / ln 2 = 2, got %g", r.m);
    // ref without along: per step ratio |ln 1| / |ln 2| = 0 (step 10), ln 4 / ln 2 = 2 (step 5)
    p.along = NULL, p.along_reduce = NULL, p.reduce = "min";
    r = run(&p, rows1, 6);
    CHECK(r.rc == 0 && r.m == 0, "min over pairs of the ratio, got %g", r.m);

    // a column with one value in each arm drops out of the key (rank 4 against rank 8)
    static char *t2[][NCOLS] = {
        {"c1", "lora", "4", "0", "0", "3"}, {"c1", "lora", "4", "1", "0", "5"},
        {"c2", "lora", "8", "0", "0", "1"}, {"c2", "lora", "8", "1", "0", "2"},
    };
    char **rows2[4];
    for (int i = 0; i < 4; i++) rows2[i] = t2[i];
    pair_spec q = {"lora.rank == 4", "lora.rank == 8", NULL, "loss", "diff", NULL, NULL, "max"};
    r = run(&q, rows2, 4);
    CHECK(r.rc == 0 && r.m == 3, "rank 4 - rank 8 per seed: max(2, 3) = 3, got %g (%s)", r.m, r.why);
    // ... but a column varying in one arm only stays, and leaves rows without partner
    q.b = "lora.rank == 8 and seed == 0";
    r = run(&q, rows2, 4);
    CHECK(r.rc && strstr(r.why, "1 of 2 rows of arm a have no partner in arm b (first: seed=1)"), "got: %s", r.why);

    // two rows of one arm with one key: ambiguous (c1 and c4 are both spectral, seed 0, step 5)
    static char *t3[][NCOLS] = {
        {"c1", "spectral", "8", "0", "0", "1"}, {"c1", "spectral", "8", "0", "5", "4"},
        {"c4", "spectral", "8", "0", "5", "3"}, {"c2", "lora", "8", "0", "0", "2"},
        {"c2", "lora", "8", "0", "5", "2"},
    };
    char **rows3[5];
    for (int i = 0; i < 5; i++) rows3[i] = t3[i];
    r = run(&p, rows3, 5);   // p: spectral against lora with ref full, which has no row here
    CHECK(r.rc && strstr(r.why, "arm ref (init.method == 'full') matches no rows"), "got: %s", r.why);
    p.ref = NULL;
    r = run(&p, rows3, 5);
    CHECK(r.rc && strstr(r.why, "arm a (init.method == 'spectral') has two rows with the key step=5 (cells c1 and c4): "
                                "the pairing is ambiguous"), "got: %s", r.why);
    CHECK(isnan(r.m), "no number measured, got %g", r.m);
    // overlapping arms
    pair_spec o = {"seed == 0", "init.method == 'lora'", NULL, "loss", "diff", NULL, NULL, "max"};
    r = run(&o, rows1, 6);
    CHECK(r.rc && strstr(r.why, "a row of cell c2 is in arms a (seed == 0) and b (init.method == 'lora'): the arms overlap"),
          "got: %s", r.why);
    // a pair without a number: log of 0
    static char *t4[][NCOLS] = {{"c1", "spectral", "8", "0", "0", "0"}, {"c2", "lora", "8", "0", "0", "2"}};
    char **rows4[2] = {t4[0], t4[1]};
    pair_spec l = {"init.method == 'spectral'", "init.method == 'lora'", NULL, "loss", "abs_log_ratio", NULL, NULL, "max"};
    r = run(&l, rows4, 2);
    CHECK(r.rc && strstr(r.why, "1 of 1 pairs give no number for abs_log_ratio"), "got: %s", r.why);
    l.compare = "diff";
    r = run(&l, rows4, 2);
    CHECK(r.rc == 0 && r.m == -2, "diff of 0 and 2 is a number: -2, got %g", r.m);
    // a bad filter is an input error
    lerr e = {0};
    int idx[2] = {0, 1};
    double m;
    char why[256] = "";
    l.b = "init.methd == 'lora'";
    CHECK(pair_measure(&l, header, NCOLS, rows4, idx, 2, &m, why, sizeof why, &e) && e.kind == LERR_INPUT &&
              !strncmp(e.msg, "b: ", 3) && strstr(e.msg, "init.method"),
          "bad filter: input error naming b: and the column, got '%s'", e.msg);
    return check_failures ? 1 : 0;
}
