// mlp_source.c: the real-data setting (mlp_source.h): loading and
// preprocessing the data, pretraining the network on the source classes
// (cached on disk), and the per-seed target subsample.
//
// Two levels of reuse:
//  - on disk, DIR/cache/mlp-<hash>.bin holds the pretrained network and its
//    source-class statistics.  <hash> is a 64-bit FNV-1a hash of the key
//    text (pretrain_key), which names everything the network depends on: the
//    data files' contents (hashed byte by byte), the layout (IDX or .npy),
//    pooling, the source classes, hidden width, loss and every pretraining
//    setting.  The file repeats the key text, its dimensions and a checksum
//    of its numbers; a file that does not match in every respect (another
//    key under the same hash, a short or corrupt file) is recomputed and
//    replaced, never trusted.  Workers that need the same network take an
//    exclusive lock (flock on <file>.lock) around look-up, pretraining and
//    writing, so one pretrains and the others read its result.
//  - in memory, each process keeps its last preprocessed data (the centred
//    source and target rows before the per-seed subsample), keyed by the
//    settings and the data files' (path, size, modification time), and its
//    last pretrained network: the cells of one worker load, preprocess and
//    look up once.  mlp_source_check (the teacher's check, run for every cell
//    by the parent before the workers are forked) loads the data there, so
//    the workers inherit it.
//
// The cache file:
//   "loralab mlp-pretrain 1\n"  key text "\n"  "d h K\n"
//   then binary doubles (host order): pre_train_loss, pre_train_acc,
//   pre_test_acc, W1 (d h), V (h K), and the 64-bit FNV-1a hash of those
//   bytes (8 bytes).
#include "mlp_source.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "npy.h"

static const char CACHE_MAGIC[] = "loralab mlp-pretrain 1\n";
static const char *const NPY_NAMES[4] = {"x_train.npy", "y_train.npy", "x_test.npy",
                                         "y_test.npy"};

// Adam's constants for pretraining (the standard ones; not keys).
#define PRE_BETA1 0.9
#define PRE_BETA2 0.999
#define PRE_EPS 1e-8

static const char *data_dir(const spec *s)
{
    return strcmp(s->teacher.data, "fashion-mnist") ? s->teacher.data
                                                     : DATASET_FASHION_MNIST_DIR;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

int mlp_source_files(const spec *s, char *paths[4], int *npy, lerr *e)
{
    const char *dir = data_dir(s);
    for (int i = 0; i < 4; i++) paths[i] = NULL;
    char *probe = path_join(dir, NPY_NAMES[0]);
    *npy = is_file(probe);
    free(probe);
    if (*npy) {
        for (int i = 0; i < 4; i++) {
            paths[i] = path_join(dir, NPY_NAMES[i]);
            if (!is_file(paths[i])) {
                lerr_input(e, "%s: holds %s but no %s (a .npy data folder needs x_train.npy, "
                              "y_train.npy, x_test.npy and y_test.npy)",
                           dir, NPY_NAMES[0], NPY_NAMES[i]);
                goto fail;
            }
        }
        return 0;
    }
    for (int i = 0; i < 4; i++) {
        paths[i] = dataset_idx_path(dir, i < 2 ? DATA_TRAIN : DATA_TEST, i % 2, e);
        if (!paths[i]) {
            lerr_prefix(e, "no data: neither .npy files (x_train.npy, ...) nor IDX files: ");
            goto fail;
        }
    }
    return 0;
fail:
    for (int i = 0; i < 4; i++) free(paths[i]), paths[i] = NULL;
    return -1;
}

static void free_paths(char *paths[4])
{
    for (int i = 0; i < 4; i++) free(paths[i]), paths[i] = NULL;
}

// rows, cols of an IDX image file from its 16-byte header (plain or gzipped;
// the full reader, idx.h, checks the rest when the data are loaded).
static int idx_image_shape(const char *path, int *rows, int *cols, lerr *e)
{
    gzFile g = gzopen(path, "rb");
    if (!g) return lerr_input(e, "cannot open %s: %s", path, strerror(errno ? errno : EIO));
    unsigned char h[16];
    int got = gzread(g, h, sizeof h);
    gzclose(g);
    if (got != (int)sizeof h) return lerr_input(e, "%s: too short for an IDX header", path);
    if (h[0] || h[1] || h[2] != 0x08 || h[3] != 3)
        return lerr_input(e, "%s: not an IDX image file (magic number %02x%02x%02x%02x, "
                             "expected 00000803)", path, h[0], h[1], h[2], h[3]);
    unsigned long r = (unsigned long)h[8] << 24 | (unsigned long)h[9] << 16 |
                      (unsigned long)h[10] << 8 | h[11];
    unsigned long c = (unsigned long)h[12] << 24 | (unsigned long)h[13] << 16 |
                      (unsigned long)h[14] << 8 | h[15];
    if (r < 1 || c < 1 || r * c > (1ul << 24))
        return lerr_input(e, "%s: images of %lu x %lu pixels", path, r, c);
    *rows = (int)r, *cols = (int)c;
    return 0;
}

int mlp_source_input_dim(const spec *s, int *d, lerr *e)
{
    char *paths[4];
    int npy;
    if (mlp_source_files(s, paths, &npy, e)) return -1;
    int rc = 0;
    if (npy) {
        int ndim;
        long dims[4];
        rc = npy_shape(paths[0], 4, &ndim, dims, e);
        if (!rc && ndim != 2)
            rc = lerr_input(e, "%s: inputs must be a 2-d array (N, d), not %d-d", paths[0], ndim);
        if (!rc && s->teacher.pool == 2)
            rc = lerr_input(e, "%s: teacher.pool 2 pools images, and .npy inputs have no image "
                               "shape; use pool 1", paths[0]);
        if (!rc) *d = (int)dims[1];
    } else {
        int rows = 0, cols = 0;
        rc = idx_image_shape(paths[0], &rows, &cols, e);
        if (!rc && s->teacher.pool == 2 && (rows % 2 || cols % 2))
            rc = lerr_input(e, "%s: 2x2 pooling needs even image sides, not %d x %d", paths[0],
                            rows, cols);
        if (!rc) *d = s->teacher.pool == 2 ? rows / 2 * (cols / 2) : rows * cols;
    }
    free_paths(paths);
    return rc;
}

// ---------------------------------------------------------------------------
// Keys

// "[1,3,5]" appended to the key text.
static void put_classes(FILE *f, const char *name, const int_list *l)
{
    fprintf(f, "|%s=", name);
    for (int i = 0; i < l->n; i++) fprintf(f, "%s%d", i ? "," : "", l->v[i]);
}

// A stream writing into a growing string (*buf, *len once closed); out of
// memory ends the process, as xmalloc does.
static FILE *memstream(char **buf, size_t *len)
{
    FILE *f = open_memstream(buf, len);
    if (!f) {
        fprintf(stderr, "loralab: out of memory\n");
        exit(1);
    }
    return f;
}

// The settings the pretrained network depends on, except the data files'
// identity, which `files` (text) gives.
static char *pretrain_key(const spec *s, int npy, const char *files)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = memstream(&buf, &len);
    fprintf(f, "%s|layout=%s|pool=%d", files, npy ? "npy" : "idx", s->teacher.pool);
    put_classes(f, "source", &s->teacher.source_classes);
    fprintf(f, "|hidden=%d|loss=%s|epochs=%d|batch=%d|lr=%.17g|seed=%d|n=%d|adam=%.17g,%.17g,%.17g",
            s->teacher.hidden, s->teacher.loss, s->pretrain.epochs, s->pretrain.batch,
            s->pretrain.lr, s->pretrain.seed, s->pretrain.n, PRE_BETA1, PRE_BETA2, PRE_EPS);
    fclose(f);
    return buf;
}

// "files=<h0>,<h1>,<h2>,<h3>": each file's contents hashed (FNV-1a).
static int content_identity(char *const paths[4], char *out, size_t n, lerr *e)
{
    unsigned long long h[4];
    for (int i = 0; i < 4; i++) {
        FILE *f = fopen(paths[i], "rb");
        if (!f) return lerr_input(e, "cannot open %s: %s", paths[i], strerror(errno));
        h[i] = FNV_OFFSET;
        static char buf[1 << 16];
        size_t got;
        while ((got = fread(buf, 1, sizeof buf, f)) > 0) h[i] = fnv1a(h[i], buf, got);
        int bad = ferror(f);
        fclose(f);
        if (bad) return lerr_input(e, "cannot read %s", paths[i]);
    }
    snprintf(out, n, "files=%016llx,%016llx,%016llx,%016llx", h[0], h[1], h[2], h[3]);
    return 0;
}

// "stat=<path>:<size>:<mtime ns>;...": the files' identity for the in-memory
// copy (cheap; the disk cache hashes contents).
static void stat_identity(char *const paths[4], char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < 4 && used < n; i++) {
        struct stat st;
        memset(&st, 0, sizeof st);
        stat(paths[i], &st);
        used += (size_t)snprintf(out + used, n - used, "%s:%lld:%lld.%09ld;", paths[i],
                                 (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                                 (long)st.st_mtim.tv_nsec);
    }
}

// ---------------------------------------------------------------------------
// The cache file

typedef struct {
    double pre_train_loss, pre_train_acc, pre_test_acc;
} pre_stats;

// The numbers' bytes, hashed: stats, W1, V.
static unsigned long long payload_hash(const pre_stats *st, const mlp_net *net)
{
    double head[3] = {st->pre_train_loss, st->pre_train_acc, st->pre_test_acc};
    unsigned long long h = fnv1a(FNV_OFFSET, head, sizeof head);
    h = fnv1a(h, net->W1, sizeof(double) * (size_t)net->d * net->h);
    return fnv1a(h, net->V, sizeof(double) * (size_t)net->h * net->K);
}

// 1 and *net, *st filled when `path` holds exactly the network of `key`
// with dimensions (d, h, K); 0 otherwise (missing, other key, short,
// corrupt: the caller recomputes).
static int cache_read(const char *path, const char *key, mlp_net *net, pre_stats *st)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    int ok = 0;
    size_t klen = strlen(key), mlen = strlen(CACHE_MAGIC);
    char *line = xmalloc(mlen + klen + 2);
    char dims[96], want[96];
    snprintf(want, sizeof want, "%d %d %d\n", net->d, net->h, net->K);
    if (fread(line, 1, mlen, f) != mlen || memcmp(line, CACHE_MAGIC, mlen)) goto done;
    if (fread(line, 1, klen + 1, f) != klen + 1 || memcmp(line, key, klen) || line[klen] != '\n')
        goto done;
    if (!fgets(dims, sizeof dims, f) || strcmp(dims, want)) goto done;
    double head[3];
    unsigned long long sum;
    size_t nW = (size_t)net->d * net->h, nV = (size_t)net->h * net->K;
    if (fread(head, sizeof(double), 3, f) != 3 || fread(net->W1, sizeof(double), nW, f) != nW ||
        fread(net->V, sizeof(double), nV, f) != nV || fread(&sum, sizeof sum, 1, f) != 1)
        goto done;
    if (fgetc(f) != EOF) goto done;   // trailing bytes: not a file we wrote
    pre_stats got = {head[0], head[1], head[2]};
    if (payload_hash(&got, net) != sum) goto done;
    *st = got;
    ok = 1;
done:
    free(line);
    fclose(f);
    return ok;
}

static void afile_bytes(afile *a, const void *p, size_t n)
{
    if (!a->failed && fwrite(p, 1, n, a->f) != n) a->failed = errno ? errno : EIO;
}

static int cache_write(const char *path, const char *key, const mlp_net *net,
                       const pre_stats *st, lerr *e)
{
    afile a;
    if (afile_open(&a, path, e)) return -1;
    afile_printf(&a, "%s%s\n%d %d %d\n", CACHE_MAGIC, key, net->d, net->h, net->K);
    double head[3] = {st->pre_train_loss, st->pre_train_acc, st->pre_test_acc};
    unsigned long long sum = payload_hash(st, net);
    afile_bytes(&a, head, sizeof head);
    afile_bytes(&a, net->W1, sizeof(double) * (size_t)net->d * net->h);
    afile_bytes(&a, net->V, sizeof(double) * (size_t)net->h * net->K);
    afile_bytes(&a, &sum, sizeof sum);
    return afile_commit(&a, e);
}

// ---------------------------------------------------------------------------
// This process's copies: the preprocessed data, and the pretrained network

typedef struct {
    char *key;               // data_key: settings + the files' stat identity
    char *dir;               // the folder, for messages
    char *files;             // content_identity text ("" until first needed)
    int npy;
    labelled_data src_train; // the pretraining rows (pretrain.n of the source classes)
    labelled_data src_test;  // every source-class test row
    labelled_data tgt_train, tgt_test;   // every target-class row
    int src_total;           // source-class training rows before pretrain.n
} data_base;                 // every set centred by src_train's mean

typedef struct {
    char *key;               // pretrain_key (contents identity)
    mlp_net *net;
    pre_stats st;
    int from_cache;          // read from the disk cache
} net_base;

static data_base *last_data;
static net_base *last_net;

static void data_free(data_base *b)
{
    if (!b) return;
    free(b->key), free(b->dir), free(b->files);
    dataset_free(&b->src_train), dataset_free(&b->src_test);
    dataset_free(&b->tgt_train), dataset_free(&b->tgt_test);
    free(b);
}

static void net_free(net_base *b)
{
    if (!b) return;
    free(b->key);
    mlp_net_free(b->net);
    free(b);
}

// One split: IDX bytes scaled to [0, 1], or the .npy inputs as they are.
static int load_split(char *const paths[4], int npy, data_split split, labelled_data *out,
                      const char *dir, lerr *e)
{
    int i = split == DATA_TRAIN ? 0 : 2;
    if (npy) return dataset_load_npy(paths[i], paths[i + 1], out, e);
    if (dataset_load_idx(dir, split, out, e)) return -1;
    dataset_scale_bytes(out);
    return 0;
}

// Load both splits; pool; select the source and target classes (labels ->
// their list positions); take the pretraining rows; centre every set by
// their mean.
static int data_build(const spec *s, char *const paths[4], int npy, data_base *b, lerr *e)
{
    const char *dir = data_dir(s);
    labelled_data tr = {0}, te = {0}, src_all = {0};
    const int_list *sc = &s->teacher.source_classes, *tc = &s->teacher.target_classes;
    int rc = load_split(paths, npy, DATA_TRAIN, &tr, dir, e) ||
             load_split(paths, npy, DATA_TEST, &te, dir, e);
    if (!rc && tr.d != te.d)
        rc = lerr_input(e, "%s: training inputs have %d entries per row, test inputs %d", dir,
                        tr.d, te.d);
    if (!rc && s->teacher.pool == 2) rc = dataset_pool2(&tr, e) || dataset_pool2(&te, e);
    if (!rc && (rc = dataset_select_classes(&tr, sc->v, sc->n, &src_all, e)))
        lerr_prefix(e, "teacher.source_classes: ");
    if (!rc && (rc = dataset_select_classes(&te, sc->v, sc->n, &b->src_test, e)))
        lerr_prefix(e, "teacher.source_classes: ");
    if (!rc && (rc = dataset_select_classes(&tr, tc->v, tc->n, &b->tgt_train, e)))
        lerr_prefix(e, "teacher.target_classes: ");
    if (!rc && (rc = dataset_select_classes(&te, tc->v, tc->n, &b->tgt_test, e)))
        lerr_prefix(e, "teacher.target_classes: ");
    dataset_free(&tr);
    dataset_free(&te);
    b->src_total = src_all.n;
    if (!rc && s->pretrain.n > src_all.n)
        rc = lerr_input(e, "pretrain.n = %d exceeds the %d training rows of the source classes "
                           "in %s", s->pretrain.n, src_all.n, dir);
    if (!rc) {
        int n = s->pretrain.n > 0 ? s->pretrain.n : src_all.n;
        rc = dataset_subsample(&src_all, n, s->pretrain.seed, "pretrain", &b->src_train, e);
    }
    dataset_free(&src_all);
    if (!rc) {   // one shift for every set: the pretraining rows' mean
        labelled_data *others[] = {&b->src_test, &b->tgt_train, &b->tgt_test};
        dataset_centre(&b->src_train, others, 3);
    }
    return rc ? -1 : 0;
}

// The in-memory key of the data: what data_build depends on.
static char *data_key(const spec *s, char *const paths[4], int npy)
{
    char ident[4096];
    stat_identity(paths, ident, sizeof ident);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = memstream(&buf, &len);
    fprintf(f, "%s|npy=%d|pool=%d", ident, npy, s->teacher.pool);
    put_classes(f, "source", &s->teacher.source_classes);
    put_classes(f, "target", &s->teacher.target_classes);
    fprintf(f, "|pretrain.n=%d|pretrain.seed=%d", s->pretrain.n, s->pretrain.seed);
    fclose(f);
    return buf;
}

// This process's data for s (loaded now unless the last call's settings and
// files were the same).
static int data_for(const spec *s, const data_base **out, lerr *e)
{
    char *paths[4];
    int npy;
    if (mlp_source_files(s, paths, &npy, e)) return -1;
    char *key = data_key(s, paths, npy);
    int rc = 0;
    if (!last_data || strcmp(last_data->key, key)) {
        data_free(last_data);
        last_data = NULL;
        data_base *b = xcalloc(1, sizeof *b);
        rc = data_build(s, paths, npy, b, e);
        if (rc) {
            data_free(b);
        } else {
            b->key = key, key = NULL;
            b->dir = xstrdup(data_dir(s));
            b->files = xstrdup("");
            b->npy = npy;
            last_data = b;
        }
    }
    free(key);
    free_paths(paths);
    *out = last_data;
    return rc;
}

// The row counts s asks for, against the data.
static int check_counts(const spec *s, const data_base *b, lerr *e)
{
    if (s->teacher.n > b->tgt_train.n)
        return lerr_input(e, "teacher.n = %d exceeds the %d training rows of the target "
                             "classes in %s", s->teacher.n, b->tgt_train.n, b->dir);
    if (s->teacher.n_test > b->tgt_test.n)
        return lerr_input(e, "teacher.n_test = %d exceeds the %d test rows of the target "
                             "classes in %s", s->teacher.n_test, b->tgt_test.n, b->dir);
    return 0;
}

int mlp_source_check(const spec *s, lerr *e)
{
    const data_base *b;
    return data_for(s, &b, e) || check_counts(s, b, e) ? -1 : 0;
}

// The pretrained network of s on b's source rows: this process's copy, the
// disk cache's, or pretrained now (and stored).  The lock serialises
// workers needing the same file.
static int net_for(const spec *s, data_base *b, const char *cache_dir, mlp_loss loss,
                   const net_base **out, int *hit, lerr *e)
{
    if (!b->files[0]) {   // the contents' hash, once per process and data
        char *paths[4], files[128];
        int npy;
        if (mlp_source_files(s, paths, &npy, e)) return -1;
        int rc = content_identity(paths, files, sizeof files, e);
        free_paths(paths);
        if (rc) return -1;
        free(b->files);
        b->files = xstrdup(files);
    }
    char *key = pretrain_key(s, b->npy, b->files);
    if (last_net && !strcmp(last_net->key, key)) {
        free(key);
        *out = last_net;
        *hit = 1;
        return 0;
    }
    net_free(last_net);
    last_net = NULL;
    net_base *nb = xcalloc(1, sizeof *nb);
    nb->key = key;
    nb->net = mlp_net_new(b->src_train.d, s->teacher.hidden, s->teacher.source_classes.n);
    char name[64];
    snprintf(name, sizeof name, "mlp-%016llx.bin", fnv1a(FNV_OFFSET, key, strlen(key)));
    char *path = cache_dir ? path_join(cache_dir, name) : NULL;
    int lock = -1;
    if (path) {
        size_t n = strlen(path) + 8;
        char *lp = xmalloc(n);
        snprintf(lp, n, "%s.lock", path);
        lock = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        free(lp);
        if (lock >= 0) flock(lock, LOCK_EX);   // without it: each worker pretrains alone
    }
    int rc = 0;
    const labelled_data *tr = &b->src_train, *te = &b->src_test;
    if (path && cache_read(path, key, nb->net, &nb->st)) {
        nb->from_cache = 1;
    } else {
        mlp_pretrain_opts o = {.epochs = s->pretrain.epochs,
                               .batch = s->pretrain.batch < tr->n ? s->pretrain.batch : tr->n,
                               .lr = s->pretrain.lr, .seed = s->pretrain.seed,
                               .beta1 = PRE_BETA1, .beta2 = PRE_BETA2, .eps = PRE_EPS};
        rc = mlp_pretrain(nb->net, loss, tr->X, tr->label, tr->n, &o, &nb->st.pre_train_loss,
                          &nb->st.pre_train_acc, e);
        if (rc) lerr_prefix(e, "pretraining: ");
        if (!rc) {
            mlp_work *w = mlp_work_new(nb->net->d, nb->net->h, nb->net->K);
            nb->st.pre_test_acc = mlp_accuracy(nb->net, te->X, te->label, te->n, w);
            mlp_work_free(w);
            if (path) rc = cache_write(path, key, nb->net, &nb->st, e);
        }
    }
    if (lock >= 0) close(lock);   // releases the lock
    free(path);
    if (rc) {
        net_free(nb);
        return -1;
    }
    last_net = nb;
    *out = nb;
    *hit = nb->from_cache;
    return 0;
}

// ---------------------------------------------------------------------------

void mlp_source_free(mlp_source *ms)
{
    if (!ms) return;
    mlp_net_free(ms->net);
    dataset_free(&ms->train);
    dataset_free(&ms->test);
    free(ms);
}

// Copy the network; subsample teacher.n training and teacher.n_test test
// rows of the target classes from the streams of the cell seed.
int mlp_source_load(const spec *s, long seed, const char *cache_dir, mlp_source **out, lerr *e)
{
    *out = NULL;
    mlp_loss loss;
    if (mlp_loss_find(s->teacher.loss, &loss))
        return lerr_input(e, "teacher.loss: '%s' is not one of: squared, cross_entropy",
                          s->teacher.loss);
    const data_base *b;
    const net_base *nb;
    int hit = 0;
    if (data_for(s, &b, e) || check_counts(s, b, e) ||
        net_for(s, last_data, cache_dir, loss, &nb, &hit, e))
        return -1;
    mlp_source *ms = xcalloc(1, sizeof *ms);
    ms->K = s->teacher.source_classes.n;
    ms->loss = loss;
    ms->pre_train_loss = nb->st.pre_train_loss;
    ms->pre_train_acc = nb->st.pre_train_acc;
    ms->pre_test_acc = nb->st.pre_test_acc;
    ms->cache_hit = hit;
    ms->net = mlp_net_new(nb->net->d, nb->net->h, nb->net->K);
    memcpy(ms->net->W1, nb->net->W1, sizeof(double) * (size_t)nb->net->d * nb->net->h);
    memcpy(ms->net->V, nb->net->V, sizeof(double) * (size_t)nb->net->h * nb->net->K);
    int rc = dataset_subsample(&b->tgt_train, s->teacher.n, seed, "mlp-train", &ms->train, e);
    if (!rc && s->teacher.n_test > 0)
        rc = dataset_subsample(&b->tgt_test, s->teacher.n_test, seed, "mlp-test", &ms->test, e);
    if (rc) {
        mlp_source_free(ms);
        return -1;
    }
    *out = ms;
    return 0;
}
