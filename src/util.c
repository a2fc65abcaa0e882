// util.c: error messages, checked allocation, atomic files, small helpers.
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static int lerr_vset(lerr *e, int kind, const char *fmt, va_list ap)
{
    if (e) {
        e->kind = kind;
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    }
    return -1;
}

int lerr_input(lerr *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lerr_vset(e, LERR_INPUT, fmt, ap);
    va_end(ap);
    return -1;
}

int lerr_run(lerr *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lerr_vset(e, LERR_RUN, fmt, ap);
    va_end(ap);
    return -1;
}

int lerr_prefix(lerr *e, const char *fmt, ...)
{
    if (!e) return -1;
    char head[1024], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    size_t h = strlen(head);
    if (h >= sizeof e->msg) h = sizeof e->msg - 1;
    memcpy(e->msg, head, h);
    size_t rest = sizeof e->msg - 1 - h, o = strlen(old);
    if (o > rest) o = rest;
    memcpy(e->msg + h, old, o);
    e->msg[h + o] = '\0';
    return -1;
}

static void die_oom(size_t n, const char *file, int line)
{
    fprintf(stderr, "loralab: out of memory allocating %zu bytes at %s:%d\n", n, file, line);
    exit(EXIT_RUN);
}

void *xmalloc_at(size_t n, const char *file, int line)
{
    void *p = malloc(n ? n : 1);
    if (!p) die_oom(n, file, line);
    return p;
}

void *xcalloc_at(size_t n, size_t size, const char *file, int line)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) die_oom(n * size, file, line);
    return p;
}

void *xrealloc_at(void *p, size_t n, const char *file, int line)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) die_oom(n, file, line);
    return q;
}

char *xstrdup_at(const char *s, const char *file, int line)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc_at(n, file, line);
    memcpy(p, s, n);
    return p;
}

double *dalloc(size_t n) { return xcalloc(n, sizeof(double)); }

int afile_open(afile *a, const char *path, lerr *e)
{
    memset(a, 0, sizeof *a);
    a->path = xstrdup(path);
    size_t n = strlen(path) + 40;
    a->tmp = xmalloc(n);
    snprintf(a->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    a->f = fopen(a->tmp, "w");
    if (!a->f) {
        int err = errno;
        lerr_run(e, "cannot write %s: %s", a->tmp, strerror(err));
        free(a->path);
        free(a->tmp);
        a->path = a->tmp = NULL;
        return -1;
    }
    return 0;
}

void afile_printf(afile *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vfprintf(a->f, fmt, ap) < 0) a->failed = errno ? errno : EIO;
    va_end(ap);
}

void afile_puts(afile *a, const char *s)
{
    if (fputs(s, a->f) == EOF) a->failed = errno ? errno : EIO;
}

static void afile_free(afile *a)
{
    free(a->path);
    free(a->tmp);
    a->path = a->tmp = NULL;
    a->f = NULL;
}

int afile_commit(afile *a, lerr *e)
{
    int err = a->failed;
    if (fflush(a->f) != 0 && !err) err = errno;
    if (ferror(a->f) && !err) err = EIO;
    if (fsync(fileno(a->f)) != 0 && !err && errno != EINVAL) err = errno;
    if (fclose(a->f) != 0 && !err) err = errno;
    a->f = NULL;
    if (!err && rename(a->tmp, a->path) != 0) err = errno;
    if (err) {
        lerr_run(e, "cannot write %s: %s", a->path, strerror(err));
        remove(a->tmp);
        afile_free(a);
        return -1;
    }
    afile_free(a);
    return 0;
}

void afile_abort(afile *a)
{
    if (!a->tmp) return;
    if (a->f) fclose(a->f);
    remove(a->tmp);
    afile_free(a);
}

int make_dirs(const char *path, lerr *e)
{
    char *p = xstrdup(path);
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                int err = errno;
                lerr_run(e, "cannot create directory %s: %s", p, strerror(err));
                free(p);
                return -1;
            }
            *s = c;
            if (c == '\0') break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        free(p);
        return lerr_run(e, "%s exists and is not a directory", path);
    }
    free(p);
    return 0;
}

int dir_nonempty(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *de;
    int found = 0;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            found = 1;
            break;
        }
    }
    closedir(d);
    return found;
}

char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    if (dir[0] && dir[strlen(dir) - 1] == '/')
        snprintf(p, n, "%s%s", dir, name);
    else
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void utc_iso8601(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

unsigned long long fnv1a(unsigned long long h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

const char *join_names(char *buf, size_t cap, const void *rows, size_t stride, int count)
{
    if (buf[0]) return buf;
    for (int i = 0; i < count; i++) {
        const char *name = *(const char *const *)((const char *)rows + (size_t)i * stride);
        size_t used = strlen(buf);
        snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", name);
    }
    return buf;
}

// The stop flag lives in a MAP_SHARED page so that workers forked later see a
// SIGINT received by any process of the run; a lock-free atomic store is
// async-signal-safe.
static atomic_int *stop_flag;

static void on_sigint(int sig)
{
    (void)sig;
    if (stop_flag) atomic_store(stop_flag, 1);
}

void stop_watch_sigint(void)
{
    if (!stop_flag) {
        void *p = mmap(NULL, sizeof(atomic_int), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return;
        stop_flag = p;
        atomic_init(stop_flag, 0);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

int stop_requested(void) { return stop_flag && atomic_load(stop_flag); }

// Levenshtein distance by the usual dynamic programme, kept to two rows of
// the (na + 1) x (nb + 1) table: row i holds the distances from a[0:i] to
// every prefix of b.
int edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 127 || nb > 127) return 1 << 20;
    int prev[128], cur[128];
    for (size_t j = 0; j <= nb; j++) prev[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (nb + 1));
    }
    return prev[nb];
}

int typo_budget(size_t n) { return n <= 3 ? 1 : n <= 7 ? 2 : 3; }
