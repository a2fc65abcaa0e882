// par.h: a minimal parallel for-loop over independent items, on POSIX threads.
//
// Items are dealt out in a fixed static partition (thread t takes items
// t, t + T, t + 2T, ...), so which thread did an item never matters as long as
// items write disjoint outputs: results are identical for any thread count.
#ifndef LORALAB_PAR_H
#define LORALAB_PAR_H

// Call fn(ctx, i) for i = 0 .. n-1 on up to `threads` threads (the calling
// thread is one of them); returns when all are done.  threads <= 1 or n <= 1
// runs serially.
void par_for(int n, int threads, void (*fn)(void *ctx, int i), void *ctx);

#endif
