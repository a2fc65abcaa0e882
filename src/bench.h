// bench.h: `loralab bench`, fixed workloads timed against the machine's dgemm.
#ifndef LORALAB_BENCH_H
#define LORALAB_BENCH_H

#include <stdio.h>

// Run the named workloads (all when n == 0); returns a process exit status.
int bench_main(char *const *names, int n);
// The workloads, one per line ("  NAME  what it runs").
void bench_list(FILE *f);

#endif
