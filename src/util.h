// util.h: error messages, checked allocation and atomic file output.
//
// House rule: a function that can fail returns 0 on success and a nonzero
// status otherwise, after filling an `lerr` with a one-line message that a
// user can act on.  Input errors carry the file, line and column.
#ifndef LORALAB_UTIL_H
#define LORALAB_UTIL_H

#include <stddef.h>
#include <stdio.h>

// Process exit statuses (DESIGN.md): 0 fine, 1 a run failed, 2 bad input.
enum { EXIT_OK = 0, EXIT_RUN = 1, EXIT_INPUT = 2, EXIT_INTERRUPTED = 130 };

// Error kinds a status can carry; EXIT_* follows from them.
enum { LERR_NONE = 0, LERR_INPUT = 2, LERR_RUN = 1, LERR_INTERRUPTED = 130 };

typedef struct {
    int kind;         // LERR_INPUT or LERR_RUN once set
    char msg[2048];
} lerr;

// Fill `e` (printf-style) and return -1, so callers can `return lerr_input(...)`.
int lerr_input(lerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lerr_run(lerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Prepend context ("while reading X: ") to an existing message.
int lerr_prefix(lerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Allocation that names the call site and exits(1) on failure: running out of
// memory is not an input error and there is nothing sensible to recover.
#define xmalloc(n) xmalloc_at((n), __FILE__, __LINE__)
#define xcalloc(n, s) xcalloc_at((n), (s), __FILE__, __LINE__)
#define xrealloc(p, n) xrealloc_at((p), (n), __FILE__, __LINE__)
#define xstrdup(s) xstrdup_at((s), __FILE__, __LINE__)
void *xmalloc_at(size_t n, const char *file, int line);
void *xcalloc_at(size_t n, size_t size, const char *file, int line);
void *xrealloc_at(void *p, size_t n, const char *file, int line);
char *xstrdup_at(const char *s, const char *file, int line);
// A zero-filled array of n doubles.
double *dalloc(size_t n);

// Atomic output: write to "<path>.tmp.<pid>", then fsync + rename onto
// `path` in afile_commit.  A killed run leaves only the .tmp file, never a
// half-written file under the real name.
typedef struct {
    FILE *f;
    char *path;
    char *tmp;
    int failed;       // a write error was seen (checked again at commit)
} afile;

int afile_open(afile *a, const char *path, lerr *e);
int afile_commit(afile *a, lerr *e);   // closes; on failure removes the tmp file
void afile_abort(afile *a);            // closes and removes the tmp file

// printf into an afile, remembering a failure for afile_commit.
void afile_printf(afile *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// The string s, unformatted (the fast path for numbers already formatted).
void afile_puts(afile *a, const char *s);

// mkdir -p; returns 0 or fills e.
int make_dirs(const char *path, lerr *e);
// 1 if `path` is a directory holding at least one entry, 0 otherwise.
int dir_nonempty(const char *path);
// Join a directory and a file name into a new string.
char *path_join(const char *dir, const char *name);

// SIGINT: stop_watch_sigint() installs a handler that only sets a flag in
// memory shared with later-forked workers; stop_requested() reads it.  Runs
// stop at the next step with status `interrupted`.
void stop_watch_sigint(void);
int stop_requested(void);

// Wall-clock seconds from a monotonic clock.
double now_seconds(void);
// Current UTC time as ISO 8601 into buf (>= 32 bytes).
void utc_iso8601(char *buf, size_t n);

// "a, b, c" from the names of a registry table: `rows` points at `count` rows
// of `stride` bytes whose first member is `const char *name`.  Written into
// buf (cap bytes) on the first call and returned as is afterwards.
const char *join_names(char *buf, size_t cap, const void *rows, size_t stride, int count);

// Levenshtein distance: the fewest single-character insertions, deletions and
// substitutions turning a into b.  Names longer than 127 bytes count as far
// apart (a large distance).  For "did you mean" suggestions.
int edit_distance(const char *a, const char *b);
// How many edits still read as a typo of a name of length n (1, 2 or 3).
int typo_budget(size_t n);

// 64-bit FNV-1a hash of a byte string, continued from `h` (start with
// FNV_OFFSET).  Used to derive random seeds from settings, not for security.
#define FNV_OFFSET 0xcbf29ce484222325ULL
unsigned long long fnv1a(unsigned long long h, const void *data, size_t n);

#endif
