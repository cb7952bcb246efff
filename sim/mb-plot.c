/* Allocation-over-time plots drawn with cairo. */
#include "mb-plot.h"

#include <cairo.h>
#ifdef MB_HAVE_FONTCONFIG
#include <fontconfig/fontconfig.h>
#endif
#include <math.h>
#include <stdio.h>

#define WIDTH 1000
#define PANEL_HEIGHT 300
#define TITLE_HEIGHT 40
#define MARGIN_LEFT 80
#define MARGIN_RIGHT 190 /* room for the legend */
#define MARGIN_TOP 30
#define MARGIN_BOTTOM 45

/* Tableau-like colours that stay apart when printed in grey. */
static const double palette[MB_PLOT_MAX_LINES][3] = {
    {0.12, 0.47, 0.71}, {1.00, 0.50, 0.05}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16},
    {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50},
    {0.74, 0.74, 0.13}, {0.09, 0.75, 0.81}, {0.00, 0.00, 0.50}, {0.50, 0.00, 0.00},
};

/* A tick spacing of 1, 2 or 5 x 10^k giving about `want` ticks. */
static double
nice_step(double range, int want)
{
    double raw = range / want;
    double mag = pow(10.0, floor(log10(raw)));
    double norm = raw / mag;

    if (norm <= 1.0)
        return mag;
    if (norm <= 2.0)
        return 2.0 * mag;
    if (norm <= 5.0)
        return 5.0 * mag;
    return 10.0 * mag;
}

static void
draw_text(cairo_t *cr, double x, double y, const char *text, double align_x, double align_y)
{
    cairo_text_extents_t ext;

    cairo_text_extents(cr, text, &ext);
    cairo_move_to(cr, x - ext.width * align_x - ext.x_bearing,
                  y - ext.height * align_y - ext.y_bearing);
    cairo_show_text(cr, text);
}

static void
draw_panel(cairo_t *cr, const MbPlotPanel *panel, double top, double x_max_s, double y_max_mib)
{
    double x0 = MARGIN_LEFT, x1 = WIDTH - MARGIN_RIGHT;
    double y0 = top + PANEL_HEIGHT - MARGIN_BOTTOM, y1 = top + MARGIN_TOP;
    double sx = (x1 - x0) / x_max_s, sy = (y0 - y1) / y_max_mib;
    double step;
    char label[64];

    /* Grid and axes. */
    cairo_set_line_width(cr, 1.0);
    cairo_set_font_size(cr, 11);
    step = nice_step(y_max_mib, 5);
    for (double v = 0; v <= y_max_mib + 1e-9; v += step) {
        double y = y0 - v * sy;
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_move_to(cr, x0, y);
        cairo_line_to(cr, x1, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        snprintf(label, sizeof(label), "%.0f", v);
        draw_text(cr, x0 - 6, y, label, 1.0, 0.5);
    }
    step = nice_step(x_max_s, 8);
    for (double v = 0; v <= x_max_s + 1e-9; v += step) {
        double x = x0 + v * sx;
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_move_to(cr, x, y0);
        cairo_line_to(cr, x, y1);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        snprintf(label, sizeof(label), "%.0f", v);
        draw_text(cr, x, y0 + 6, label, 0.5, 0.0);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, x0, y1, x1 - x0, y0 - y1);
    cairo_stroke(cr);

    draw_text(cr, (x0 + x1) / 2, y0 + 24, "time (s)", 0.5, 0.0);
    cairo_save(cr);
    cairo_translate(cr, x0 - 55, (y0 + y1) / 2);
    cairo_rotate(cr, -M_PI / 2);
    draw_text(cr, 0, 0, "allocated memory (MiB)", 0.5, 0.5);
    cairo_restore(cr);
    cairo_set_font_size(cr, 13);
    draw_text(cr, (x0 + x1) / 2, y1 - 8, panel->title, 0.5, 1.0);

    /* One line per VM, clipped to the plot area. */
    cairo_save(cr);
    cairo_rectangle(cr, x0, y1, x1 - x0, y0 - y1);
    cairo_clip(cr);
    cairo_set_line_width(cr, 1.6);
    for (size_t l = 0; l < panel->n_lines; l++) {
        const double *rgb = palette[l % MB_PLOT_MAX_LINES];
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        for (size_t i = 0; i < panel->n_points; i++) {
            double x = x0 + (double)(i + 1) * sx, y = y0 - panel->mib[l][i] * sy;
            if (i == 0)
                cairo_move_to(cr, x, y);
            else
                cairo_line_to(cr, x, y);
        }
        cairo_stroke(cr);
    }
    cairo_restore(cr);

    /* Legend. */
    cairo_set_font_size(cr, 11);
    for (size_t l = 0; l < panel->n_lines; l++) {
        const double *rgb = palette[l % MB_PLOT_MAX_LINES];
        double y = y1 + 10 + 16.0 * (double)l;
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_move_to(cr, x1 + 12, y);
        cairo_line_to(cr, x1 + 32, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        draw_text(cr, x1 + 38, y, panel->names[l], 0.0, 0.5);
    }
}

bool
mb_plot_write_png(const char *path, const char *title, const MbPlotPanel *panels,
                  size_t n_panels, double y_max_mib, char *err, size_t err_len)
{
    int height = TITLE_HEIGHT + (int)n_panels * PANEL_HEIGHT;
    cairo_surface_t *surface;
    cairo_status_t status;
    cairo_t *cr;
    double x_max_s = 1.0;

    for (size_t p = 0; p < n_panels; p++)
        if ((double)panels[p].n_points > x_max_s)
            x_max_s = (double)panels[p].n_points;
    if (!(y_max_mib > 0.0))
        y_max_mib = 1.0;
    /* Headroom, so that a VM holding the whole capacity stays visible. */
    y_max_mib *= 1.06;

    surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, WIDTH, height);
    cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_font_size(cr, 16);
    draw_text(cr, WIDTH / 2.0, TITLE_HEIGHT / 2.0 + 4, title, 0.5, 0.5);
    for (size_t p = 0; p < n_panels; p++)
        draw_panel(cr, &panels[p], TITLE_HEIGHT + (double)p * PANEL_HEIGHT, x_max_s, y_max_mib);

    status = cairo_status(cr);
    cairo_destroy(cr);
    if (status == CAIRO_STATUS_SUCCESS)
        status = cairo_surface_write_to_png(surface, path);
    cairo_surface_destroy(surface);
    /* Drops cairo's font caches: we plot once per process, and leak
     * checkers would otherwise report them. */
    cairo_debug_reset_static_data();
#ifdef MB_HAVE_FONTCONFIG
    FcFini();
#endif
    if (status != CAIRO_STATUS_SUCCESS) {
        snprintf(err, err_len, "%s: %s", path, cairo_status_to_string(status));
        return false;
    }
    return true;
}
