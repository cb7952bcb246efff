/* membalancer-plot: draws allocations over time from recorded timelines
 * (the demo records real VMs with `membalancerctl list --json`), one panel
 * per CSV file, with the same renderer as membalancer-sim --plot.
 *
 *   membalancer-plot --png OUT.png [--title T] [--y-max-mib N] TITLE=FILE.csv...
 *
 * Each CSV has the header `t,vm,alloc_kib` and one row per VM and second. */
#include "mb-plot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PANELS 4
#define MAX_POINTS 100000

typedef struct {
    char title[64];
    MbPlotPanel panel;
    char names[MB_PLOT_MAX_LINES][64];
    double *mib[MB_PLOT_MAX_LINES];
} Panel;

/* One clear line on stderr, exit status 2 (bad input). */
__attribute__((format(printf, 1, 2))) static int
fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "membalancer-plot: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

static int
line_index(Panel *p, const char *vm)
{
    for (size_t i = 0; i < p->panel.n_lines; i++)
        if (strcmp(p->names[i], vm) == 0)
            return (int)i;
    if (p->panel.n_lines == MB_PLOT_MAX_LINES)
        return -1;
    snprintf(p->names[p->panel.n_lines], sizeof(p->names[0]), "%s", vm);
    p->mib[p->panel.n_lines] = calloc(MAX_POINTS, sizeof(double));
    if (p->mib[p->panel.n_lines] == NULL)
        return -1;
    return (int)p->panel.n_lines++;
}

/* Reads one timeline; returns 0 or the exit status after printing why. */
static int
load(Panel *p, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    unsigned long lineno = 0;

    if (f == NULL)
        return fail("%s: cannot open: %s", path, strerror(errno));
    while (fgets(line, sizeof(line), f) != NULL) {
        char vm[64];
        unsigned long t;
        unsigned long long kib;
        int idx;

        lineno++;
        if (lineno == 1) {
            if (strncmp(line, "t,vm,alloc_kib", 14) != 0) {
                fclose(f);
                return fail("%s:%lu: expected the header t,vm,alloc_kib", path, lineno);
            }
            continue;
        }
        if (sscanf(line, "%lu,%63[^,],%llu", &t, vm, &kib) != 3 || t == 0 || t > MAX_POINTS) {
            fclose(f);
            return fail("%s:%lu: expected t,vm,alloc_kib with t in 1..100000", path, lineno);
        }
        idx = line_index(p, vm);
        if (idx < 0) {
            fclose(f);
            return fail("%s:%lu: too many VMs", path, lineno);
        }
        p->mib[idx][t - 1] = (double)kib / 1024.0;
        if (t > p->panel.n_points)
            p->panel.n_points = t;
    }
    fclose(f);
    /* A VM that appears late (or leaves) holds its last value in between. */
    for (size_t i = 0; i < p->panel.n_lines; i++) {
        for (size_t k = 1; k < p->panel.n_points; k++)
            if (p->mib[i][k] == 0.0)
                p->mib[i][k] = p->mib[i][k - 1];
        p->panel.names[i] = p->names[i];
        p->panel.mib[i] = p->mib[i];
    }
    p->panel.title = p->title;
    return 0;
}

int
main(int argc, char **argv)
{
    static Panel panels[MAX_PANELS];
    MbPlotPanel out[MAX_PANELS];
    const char *png = NULL, *title = "allocated memory per VM";
    double y_max_mib = 0.0;
    size_t n = 0;
    char err[256];
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--png") == 0 && i + 1 < argc) {
            png = argv[++i];
        } else if (strcmp(argv[i], "--title") == 0 && i + 1 < argc) {
            title = argv[++i];
        } else if (strcmp(argv[i], "--y-max-mib") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            y_max_mib = strtod(argv[++i], &end);
            if (errno != 0 || *end != '\0' || !(y_max_mib > 0.0))
                return fail("--y-max-mib: '%s' is not a positive number", argv[i]);
        } else if (strchr(argv[i], '=') != NULL && argv[i][0] != '-' && n < MAX_PANELS) {
            const char *eq = strchr(argv[i], '=');
            snprintf(panels[n].title, sizeof(panels[n].title), "%.*s", (int)(eq - argv[i]),
                     argv[i]);
            rc = load(&panels[n], eq + 1);
            if (rc != 0)
                return rc;
            out[n] = panels[n].panel;
            n++;
        } else {
            fprintf(stderr,
                    "usage: membalancer-plot --png OUT.png [--title T] "
                    "[--y-max-mib N] TITLE=FILE.csv... (at most %d)\n",
                    MAX_PANELS);
            return 2;
        }
    }
    if (png == NULL || n == 0)
        return fail("need --png and at least one TITLE=FILE.csv");
    if (y_max_mib == 0.0)
        for (size_t p = 0; p < n; p++)
            for (size_t i = 0; i < out[p].n_lines; i++)
                for (size_t k = 0; k < out[p].n_points; k++)
                    if (out[p].mib[i][k] > y_max_mib)
                        y_max_mib = out[p].mib[i][k] * 1.1;
    if (!mb_plot_write_png(png, title, out, n, y_max_mib, err, sizeof(err))) {
        fprintf(stderr, "membalancer-plot: %s\n", err);
        rc = 1;
    }
    for (size_t p = 0; p < n; p++)
        for (size_t i = 0; i < panels[p].panel.n_lines; i++)
            free(panels[p].mib[i]);
    return rc;
}
