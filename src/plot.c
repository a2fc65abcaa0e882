// plot.c: `loralab plot DIR [options]` and `run --plot`: gnuplot draws the
// experiment's own script (plots/NAME.gp), a user's script (--script FILE)
// or the generic figure of any results folder (plot_generic.c).
#include "plot.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build_info.h"
#include "config.h"
#include "plot_generic.h"

extern char **environ;

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

// gnuplot's path on PATH, or NULL.
static char *find_gnuplot(void)
{
    const char *path = getenv("PATH");
    if (!path) return NULL;
    char *copy = xstrdup(path), *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char *p = path_join(*d ? d : ".", "gnuplot");
        if (access(p, X_OK) == 0) {
            free(copy);
            return p;
        }
        free(p);
    }
    free(copy);
    return NULL;
}

static int no_gnuplot(const char *dir, lerr *e)
{
    return lerr_run(e, "gnuplot not found on PATH; install it (Debian/Ubuntu: "
                    "sudo apt-get install gnuplot-nox) and run 'loralab plot %s' again", dir);
}

// The first of loralab's script folders that holds `file`, or NULL: in
// order $LORALAB_PLOTS, ../plots beside the executable (a build folder in
// the source tree), ../share/loralab/plots beside it (installed with meson
// install), the source tree's plots/.
static char *find_plots_file(const char *file)
{
    char exe[PATH_MAX];
    char *dirs[4] = {NULL, NULL, NULL, NULL};
    if (getenv("LORALAB_PLOTS")) dirs[0] = xstrdup(getenv("LORALAB_PLOTS"));
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        dirs[1] = path_join(exe, "../plots");
        dirs[2] = path_join(exe, "../share/loralab/plots");
    }
    dirs[3] = path_join(LORALAB_SOURCE_ROOT, "plots");
    char *found = NULL;
    for (int i = 0; i < 4; i++) {
        if (dirs[i] && !found) {
            char *p = path_join(dirs[i], file);
            if (is_file(p))
                found = p;
            else
                free(p);
        }
        free(dirs[i]);
    }
    return found;
}

// plots/common.gp, or a run error naming where it was looked for.
static char *find_common_gp(lerr *e)
{
    char *p = find_plots_file("common.gp");
    if (!p)
        lerr_run(e, "cannot find loralab's plots/common.gp (looked in $LORALAB_PLOTS, ../plots and "
                    "../share/loralab/plots next to loralab, and %s/plots); set LORALAB_PLOTS to "
                    "the folder holding it", LORALAB_SOURCE_ROOT);
    return p;
}

// The experiment name recorded in DIR/config.yaml.
static char *experiment_name(const char *dir, lerr *e)
{
    char *cfg = path_join(dir, "config.yaml");
    if (!is_file(cfg)) {
        lerr_input(e, "%s is not a results folder (no config.yaml)", dir);
        free(cfg);
        return NULL;
    }
    config_doc *doc = config_parse_file(cfg, e);
    free(cfg);
    spec s;
    if (!doc || config_resolve(doc, &s, e)) {
        config_doc_free(doc);
        return NULL;
    }
    config_doc_free(doc);
    char *name = xstrdup(s.name);
    spec_free(&s);
    return name;
}

// Print the images in dir modified at or after t0.
static void list_images(const char *dir, time_t t0)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || (strcmp(de->d_name + n - 4, ".png") && strcmp(de->d_name + n - 4, ".pdf")))
            continue;
        char *p = path_join(dir, de->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && st.st_mtime >= t0) printf("%s\n", p);
        free(p);
    }
    closedir(d);
}

// Run gnuplot (args[0] = "gnuplot", NULL-terminated) with the folder of
// common.gp first on its load path (GNUPLOT_LIB), so that `load "common.gp"`
// works from a script anywhere.  `what` names the script in the error.
static int run_gnuplot(const char *gp, char *const args[], const char *common_gp, const char *what,
                       lerr *e)
{
    size_t nenv = 0;
    while (environ[nenv]) nenv++;
    char **env = xcalloc(nenv + 2, sizeof *env);
    const char *old = getenv("GNUPLOT_LIB");
    size_t libdir_len = strrchr(common_gp, '/') ? (size_t)(strrchr(common_gp, '/') - common_gp) : 1;
    size_t cap = libdir_len + (old ? strlen(old) : 0) + 32;
    char *lib = xmalloc(cap);
    snprintf(lib, cap, "GNUPLOT_LIB=%.*s%s%s", (int)libdir_len,
             strrchr(common_gp, '/') ? common_gp : ".", old && *old ? ":" : "", old ? old : "");
    size_t k = 0;
    env[k++] = lib;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "GNUPLOT_LIB=", 12)) env[k++] = environ[i];
    env[k] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execve(gp, args, env);
        fprintf(stderr, "loralab: cannot run %s: %s\n", gp, strerror(errno));
        _exit(127);
    }
    int st = 0, rc = 0;
    if (pid < 0)
        rc = lerr_run(e, "cannot start gnuplot: %s", strerror(errno));
    else {
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = lerr_run(e, "gnuplot failed on %s (see its messages above)", what);
    }
    free(lib), free(env);
    return rc;
}

// `gnuplot -c SCRIPT DIR`, then the images written in DIR.
static int run_script(const char *script, const char *dir, int quiet, lerr *e)
{
    char *common = find_common_gp(e);
    if (!common) return -1;
    char *gp = find_gnuplot();
    if (!gp) {
        free(common);
        return no_gnuplot(dir, e);
    }
    time_t t0 = time(NULL) - 1;
    char *args[] = {"gnuplot", "-c", (char *)script, (char *)dir, NULL};
    int rc = run_gnuplot(gp, args, common, script, e);
    if (!rc && !quiet) list_images(dir, t0);
    free(common), free(gp);
    return rc;
}

// The generic figure: its program into a temporary file, drawn by gnuplot;
// the file is removed unless gnuplot fails on it.
static int run_figure(const figure_opts *o, int quiet, lerr *e)
{
    char *common = find_common_gp(e);
    if (!common) return -1;
    char *program = NULL, *stem = NULL, *gp = NULL;
    int rc = figure_program(o, common, &program, &stem, e);
    if (!rc && !(gp = find_gnuplot())) rc = no_gnuplot(o->dir, e);
    char tmp[PATH_MAX];
    const char *tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp, sizeof tmp, "%s/loralab-figure-XXXXXX.gp", tmpdir);
    int fd = rc ? -1 : mkstemps(tmp, 3);
    if (!rc && fd < 0) rc = lerr_run(e, "cannot create %s: %s", tmp, strerror(errno));
    if (!rc) {
        FILE *f = fdopen(fd, "w");
        int bad = !f || fputs(program, f) < 0;
        if ((f ? fclose(f) : close(fd)) != 0 || bad) {
            rc = lerr_run(e, "cannot write %s: %s", tmp, strerror(errno));
            unlink(tmp);
        }
    }
    if (!rc) {
        char what[PATH_MAX + 64];
        snprintf(what, sizeof what, "the figure program %s (kept)", tmp);
        char *args[] = {"gnuplot", tmp, NULL};
        rc = run_gnuplot(gp, args, common, what, e);
        if (!rc) unlink(tmp);
    }
    if (!rc && !quiet) printf("%s.png\n%s.pdf\n", stem, stem);
    free(common), free(program), free(stem), free(gp);
    return rc;
}

// `loralab plot DIR` without options: the experiment's plots/NAME.gp if
// loralab ships one, else the generic figure's default.
static int plot_default(const char *dir, int quiet, lerr *e)
{
    char *name = NULL, *script = NULL, *cfg = path_join(dir, "config.yaml");
    if (is_file(cfg)) {
        name = experiment_name(dir, e);
        if (!name) {
            free(cfg);
            return -1;
        }
        char file[512];
        snprintf(file, sizeof file, "%s.gp", name);
        script = find_plots_file(file);
    }
    free(cfg);
    int rc;
    if (script) {
        rc = run_script(script, dir, quiet, e);
    } else {
        figure_opts o = {.dir = dir};
        rc = run_figure(&o, quiet, e);
    }
    free(name), free(script);
    return rc;
}

int plot_results(const char *dir, int quiet, lerr *e)
{
    if (!is_dir(dir)) return lerr_input(e, "%s: no such results folder", dir);
    return plot_default(dir, quiet, e);
}

int plot_command(int argc, char **argv, lerr *e)
{
    static const char *const opts[] = {"--y", "--x", "--by", "--panel", "--out", "--script"};
    enum { NOPT = sizeof opts / sizeof *opts };
    const char *val[NOPT] = {0}, *dir = NULL;
    int logy = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int o = -1;
        const char *v = NULL;
        for (int j = 0; j < NOPT && o < 0; j++) {
            size_t n = strlen(opts[j]);
            if (!strcmp(a, opts[j])) {
                o = j;
                if (i + 1 >= argc) return lerr_input(e, "%s needs a value", a);
                v = argv[++i];
            } else if (!strncmp(a, opts[j], n) && a[n] == '=') {
                o = j, v = a + n + 1;
            }
        }
        if (o >= 0) {
            if (val[o]) return lerr_input(e, "%s given twice (%s and %s)", opts[o], val[o], v);
            if (!*v) return lerr_input(e, "%s needs a value", opts[o]);
            val[o] = v;
        } else if (!strcmp(a, "--logy")) {
            logy = 1;
        } else if (a[0] == '-' && a[1]) {
            return lerr_input(e, "unknown option %s for plot (see 'loralab help')", a);
        } else if (dir) {
            return lerr_input(e, "more than one results folder given (%s and %s)", dir, a);
        } else {
            dir = a;
        }
    }
    if (!dir)
        return lerr_input(e, "plot needs a results folder: loralab plot DIR [--y METRIC[,METRIC...]] "
                             "[--x step|KEY] [--by KEY] [--panel KEY] [--logy] [--out FILE] [--script FILE]");
    if (!is_dir(dir)) return lerr_input(e, "%s: no such results folder", dir);
    const char *script = val[5];
    int figure = logy;
    for (int j = 0; j < 5; j++) figure |= val[j] != NULL;
    if (script) {
        if (figure)
            return lerr_input(e, "--script draws the script's own figures: it takes no --y, --x, "
                                 "--by, --panel, --logy or --out");
        if (!is_file(script)) return lerr_input(e, "--script %s: no such file", script);
        return run_script(script, dir, 0, e);
    }
    if (!figure) return plot_default(dir, 0, e);
    figure_opts o = {.dir = dir, .y = val[0], .x = val[1], .by = val[2], .panel = val[3],
                     .logy = logy, .out = val[4]};
    return run_figure(&o, 0, e);
}
