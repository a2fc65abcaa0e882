// plot.c: `loralab plot DIR`.
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

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
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

// The script NAME.gp from the first folder that has it.
static char *find_script(const char *name)
{
    char file[512], exe[PATH_MAX];
    snprintf(file, sizeof file, "%s.gp", name);
    char *dirs[3] = {NULL, NULL, NULL};
    if (getenv("LORALAB_PLOTS")) dirs[0] = xstrdup(getenv("LORALAB_PLOTS"));
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        dirs[1] = path_join(exe, "../plots");
    }
    dirs[2] = path_join(LORALAB_SOURCE_ROOT, "plots");
    char *found = NULL;
    for (int i = 0; i < 3; i++) {
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

int plot_results(const char *dir, int quiet, lerr *e)
{
    char *name = experiment_name(dir, e);
    if (!name) return -1;
    char *script = find_script(name);
    if (!script) {
        lerr_run(e, "no plot script %s.gp for experiment '%s' (looked in $LORALAB_PLOTS, "
                   "../plots next to loralab, and %s/plots)", name, name, LORALAB_SOURCE_ROOT);
        free(name);
        return -1;
    }
    char *gp = find_gnuplot();
    if (!gp) {
        free(name), free(script);
        return lerr_run(e, "gnuplot not found on PATH; install it (Debian/Ubuntu: "
                        "sudo apt-get install gnuplot-nox) and run 'loralab plot %s' again", dir);
    }
    time_t t0 = time(NULL) - 1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execl(gp, "gnuplot", "-c", script, dir, (char *)NULL);
        fprintf(stderr, "loralab: cannot run %s: %s\n", gp, strerror(errno));
        _exit(127);
    }
    int st = 0, rc = 0;
    if (pid < 0)
        rc = lerr_run(e, "cannot start gnuplot: %s", strerror(errno));
    else {
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = lerr_run(e, "gnuplot failed on %s (see its messages above)", script);
    }
    if (!rc && !quiet) list_images(dir, t0);
    free(name), free(script), free(gp);
    return rc;
}
