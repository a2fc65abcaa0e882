// par.c: a static-partition parallel for-loop (see par.h).
#include "par.h"

#include <pthread.h>

#include "util.h"

typedef struct {
    int n, stride, first;
    void (*fn)(void *ctx, int i);
    void *ctx;
} par_part;

static void *par_run(void *arg)
{
    const par_part *t = arg;
    for (int i = t->first; i < t->n; i += t->stride) t->fn(t->ctx, i);
    return NULL;
}

void par_for(int n, int threads, void (*fn)(void *ctx, int i), void *ctx)
{
    if (threads > n) threads = n;
    if (threads <= 1) {
        for (int i = 0; i < n; i++) fn(ctx, i);
        return;
    }
    enum { MAXT = 64 };
    if (threads > MAXT) threads = MAXT;
    pthread_t tid[MAXT];
    par_part part[MAXT];
    int started = 1;
    for (int t = 0; t < threads; t++) part[t] = (par_part){n, threads, t, fn, ctx};
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tid[t], NULL, par_run, &part[t]) != 0) break;
        started++;
    }
    // Items of threads that could not be started run here, after our own.
    par_run(&part[0]);
    for (int t = started; t < threads; t++) par_run(&part[t]);
    for (int t = 1; t < started; t++) pthread_join(tid[t], NULL);
}
