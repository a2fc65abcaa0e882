// pool.c: a fork-based worker pool (see pool.h).
#include "pool.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);

typedef struct {
    int task;
    int status;
} report;   // 8 bytes < PIPE_BUF: each write is atomic

static void worker(const int *tasks, int n, atomic_int *next, int fd, pool_task fn, void *ctx)
{
    openblas_set_num_threads(1);
    for (;;) {
        if (stop_requested()) break;   // SIGINT: take no new task
        int i = atomic_fetch_add(next, 1);
        if (i >= n) break;
        report r = {tasks[i], fn(tasks[i], ctx) & 0xff};
        ssize_t w;
        do {
            w = write(fd, &r, sizeof r);
        } while (w < 0 && errno == EINTR);
    }
    close(fd);
}

static int run_inline(const int *tasks, int n, pool_task fn, pool_progress progress, void *ctx)
{
    for (int i = 0; i < n && !stop_requested(); i++) {
        int st = fn(tasks[i], ctx);
        if (progress) progress(tasks[i], st, ctx);
    }
    return 0;
}

int pool_run(const int *tasks, int n, int workers, pool_task fn, pool_progress progress,
             void *ctx, lerr *e)
{
    if (workers > n) workers = n;
    if (workers <= 1) return run_inline(tasks, n, fn, progress, ctx);
    atomic_int *next = mmap(NULL, sizeof *next, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (next == MAP_FAILED) return lerr_run(e, "cannot map shared memory: %s", strerror(errno));
    atomic_init(next, 0);
    int fds[2];
    if (pipe(fds) != 0) {
        munmap(next, sizeof *next);
        return lerr_run(e, "cannot create a pipe: %s", strerror(errno));
    }
    fflush(NULL);   // nothing buffered may be written twice by the children
    pid_t *pids = xcalloc((size_t)workers, sizeof(pid_t));
    int started = 0;
    for (int w = 0; w < workers; w++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            worker(tasks, n, next, fds[1], fn, ctx);
            _exit(0);
        }
        if (pid < 0) break;
        pids[started++] = pid;
    }
    close(fds[1]);
    int reported = 0;
    report r;
    for (;;) {
        ssize_t got = read(fds[0], &r, sizeof r);
        if (got < 0 && errno == EINTR) continue;
        if (got != (ssize_t)sizeof r) break;
        reported++;
        if (progress) progress(r.task, r.status, ctx);
    }
    close(fds[0]);
    int died = 0, sig = 0;
    for (int w = 0; w < started; w++) {
        int st;
        while (waitpid(pids[w], &st, 0) < 0 && errno == EINTR) {}
        if (WIFSIGNALED(st)) died++, sig = WTERMSIG(st);
        else if (WIFEXITED(st) && WEXITSTATUS(st) != 0) died++;
    }
    free(pids);
    munmap(next, sizeof *next);
    if (started == 0) return lerr_run(e, "cannot start worker processes: %s", strerror(errno));
    if (reported < n && stop_requested()) return 0;   // the caller reports the interruption
    if (reported < n)
        return lerr_run(e, "%d of %d tasks were lost: %d worker(s) died%s%s", n - reported, n,
                        died, sig ? ", last by signal " : "", sig ? strsignal(sig) : "");
    return 0;
}
