// fuzz_config.c: fuzz target for the experiment-file parser and resolver.
// Input bytes are an experiment file; it is parsed, edited as --set would
// (a key and the sweep block), resolved (defaults, ranges, sweep, matrices),
// and written back.  Paths in it are relative to an
// empty scratch folder (inputs naming absolute paths are skipped so the fuzzer
// never reads devices), so every .npy path is simply missing.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready = 0;
    if (!ready) {
        char dir[] = "/tmp/loralab-fuzz.XXXXXX";
        if (!mkdtemp(dir) || chdir(dir) != 0) abort();
        ready = 1;
    }
    if (size > 1 << 16 || memchr(data, '/', size)) return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    lerr e = {0};
    config_doc *doc = config_parse_string(text, "fuzz.yaml", &e);
    if (doc) {
        spec s;
        config_doc_set(doc, "optimizer.lr", "0.5", "--set", &e);   // also leaves the sweep
        config_doc_set(doc, "sweep.zip.init.alpha2", "[1, 0.1]", "--set", &e);
        config_doc_set(doc, "sweep.teacher.kappa", "[]", "--set", &e);
        if (config_resolve(doc, &s, &e) == 0) {
            FILE *f = fopen("/dev/null", "w");
            config_write(&s, f);
            fclose(f);
            spec_free(&s);
        }
        sweep_def sw;
        if (config_sweep(doc, &sw, &e) == 0) sweep_def_free(&sw);
        config_doc_free(doc);
    }
    free(text);
    return 0;
}
