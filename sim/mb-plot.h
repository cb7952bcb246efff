/* PNG plots of allocations over time (the paper's Fig. 7), with cairo.
 * Only the membalancer-sim CLI links this; libmbsim stays cairo-free. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Panels share their axes so that policies compare at a glance. */
#define MB_PLOT_MAX_LINES 12

typedef struct {
    const char *title; /* e.g. the policy */
    size_t n_lines;    /* <= MB_PLOT_MAX_LINES */
    const char *names[MB_PLOT_MAX_LINES];
    size_t n_points; /* one per tick, from t = 1 s */
    const double *mib[MB_PLOT_MAX_LINES];
} MbPlotPanel;

/* Draws the panels stacked under one title. y_max_mib is the top of the y
 * axis (e.g. the capacity). Returns false with a message in err. */
bool mb_plot_write_png(const char *path, const char *title, const MbPlotPanel *panels,
                       size_t n_panels, double y_max_mib, char *err, size_t err_len);
