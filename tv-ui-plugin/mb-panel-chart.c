/* The live allocation chart (the paper's Fig. 7): one line per VM, its
 * allocation over the last minutes, drawn with cairo alone so the page,
 * the tests and any other front end can share it. */
#include <glib/gi18n-lib.h>
#include <math.h>

#include "mb-panel-model.h"

#define FONT_PX 22.0
#define LINE_PX 5.0

static void
chart_text(cairo_t *cr, double x, double y, const char *text, double align)
{
    cairo_text_extents_t ext;

    cairo_text_extents(cr, text, &ext);
    cairo_move_to(cr, x - ext.x_advance * align, y);
    cairo_show_text(cr, text);
}

/* A round step for the MiB axis: about four grid lines. */
static guint64
grid_step_mib(guint64 max_mib)
{
    static const guint64 steps[] = {16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};

    for (guint i = 0; i < G_N_ELEMENTS(steps); i++)
        if (max_mib / steps[i] <= 4)
            return steps[i];
    return 32768;
}

void
mb_panel_chart_draw(cairo_t *cr, int width, int height, MbPanelModel *model, gint64 now_us,
                    guint window_s)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(model));
    guint64 max_kib = 256 * 1024;
    double left = 120, right = width - 24.0, top = 24, bottom = height - 48.0;
    gint64 start_us = now_us - (gint64)window_s * G_USEC_PER_SEC;
    guint64 step_mib;

    g_return_if_fail(window_s > 0);
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.07, 0.08, 0.10);
    cairo_paint(cr);
    if (right <= left + 10 || bottom <= top + 10) {
        cairo_restore(cr);
        return;
    }
    for (guint i = 0; i < n; i++) {
        g_autoptr(MbPanelVm) vm = g_list_model_get_item(G_LIST_MODEL(model), i);
        guint len;
        const MbPanelSample *h = mb_panel_vm_get_history(vm, &len);
        for (guint k = 0; k < len; k++)
            max_kib = MAX(max_kib, h[k].allocated_kib);
    }
    step_mib = grid_step_mib(max_kib / 1024);
    max_kib = ((max_kib / 1024) / step_mib + 1) * step_mib * 1024;

    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, FONT_PX);
    cairo_set_line_width(cr, 1.5);
    for (guint64 mib = 0; mib * 1024 <= max_kib; mib += step_mib) {
        double y = bottom - (bottom - top) * (double)(mib * 1024) / (double)max_kib;
        g_autofree char *label = mb_panel_format_kib(mib * 1024);
        cairo_set_source_rgb(cr, 0.30, 0.32, 0.36);
        cairo_move_to(cr, left, y);
        cairo_line_to(cr, right, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.85, 0.87, 0.90);
        chart_text(cr, left - 12, y + FONT_PX / 3, label, 1.0);
    }
    for (guint m = 0; m <= window_s / 60; m++) {
        double x = right - (right - left) * (double)(m * 60) / (double)window_s;
        g_autofree char *label = m == 0 ? g_strdup(_("now")) : g_strdup_printf(_("−%u min"), m);
        cairo_set_source_rgb(cr, 0.85, 0.87, 0.90);
        chart_text(cr, x, bottom + FONT_PX + 12, label, m == 0 ? 1.0 : 0.5);
    }

    cairo_rectangle(cr, left, top - LINE_PX, right - left, bottom - top + 2 * LINE_PX);
    cairo_clip(cr);
    cairo_set_line_width(cr, LINE_PX);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (guint i = 0; i < n; i++) {
        g_autoptr(MbPanelVm) vm = g_list_model_get_item(G_LIST_MODEL(model), i);
        guint len;
        const MbPanelSample *h = mb_panel_vm_get_history(vm, &len);
        double rgb[3];
        gboolean started = FALSE;

        if (len == 0)
            continue;
        mb_panel_color_rgb(mb_panel_vm_get_color(vm), rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        for (guint k = 0; k < len; k++) {
            gint64 t = MAX(h[k].time_us, start_us);
            double x = left + (right - left) * (double)(t - start_us) /
                                  ((double)window_s * G_USEC_PER_SEC);
            double y = bottom - (bottom - top) * (double)h[k].allocated_kib / (double)max_kib;
            /* A step chart: an allocation holds until the next change. */
            if (!started) {
                cairo_move_to(cr, x, y);
                started = TRUE;
            } else {
                double cx, cy;
                cairo_get_current_point(cr, &cx, &cy);
                cairo_line_to(cr, x, cy);
                cairo_line_to(cr, x, y);
            }
        }
        {
            double cx, cy;
            cairo_get_current_point(cr, &cx, &cy);
            cairo_line_to(cr, right, cy);
        }
        cairo_stroke(cr);
    }
    cairo_restore(cr);
}
