/* The panel's view model, independent of any toolkit (GIO and cairo
 * only): a GListModel of MbPanelVm rows (mb-panel-vm.h), one per VM the
 * service has registered, kept live by libmembalancer's client. Rows
 * appear, change and vanish with the service's VMs; the service going
 * away empties the model and sets MbPanelModel:available to FALSE, its
 * return fills it again. */
#pragma once

#include <cairo.h>
#include <gio/gio.h>

#include "mb-panel-vm.h"

G_BEGIN_DECLS

#define MB_TYPE_PANEL_MODEL (mb_panel_model_get_type())
G_DECLARE_FINAL_TYPE(MbPanelModel, mb_panel_model, MB, PANEL_MODEL, GObject)

/* A model of the VMs of the service on connection (NULL: the system
 * bus). It fills asynchronously: iterate the main context. Properties:
 * available (the service runs and the model is filled), connected (the
 * service is connected to its hypervisor), pool-kib, paused, backend,
 * bus-error (a GError, set once when the bus cannot be reached). */
MbPanelModel *mb_panel_model_new(GDBusConnection *connection);
gboolean mb_panel_model_get_available(MbPanelModel *model);
gboolean mb_panel_model_get_connected(MbPanelModel *model);
gboolean mb_panel_model_get_paused(MbPanelModel *model);
guint64 mb_panel_model_get_pool_kib(MbPanelModel *model);
char *mb_panel_model_dup_backend(MbPanelModel *model);
/* The first error met while connecting to the bus, or NULL. */
const GError *mb_panel_model_get_bus_error(MbPanelModel *model);
/* The row of a VM, or NULL (transfer none). */
MbPanelVm *mb_panel_model_find(MbPanelModel *model, const char *name);

/* SetPriority and SetForeground through the service. The error of
 * mb_panel_model_call_finish() carries a message for the viewer (see
 * mb_panel_describe_error()). */
void mb_panel_model_set_priority(MbPanelModel *model, const char *name, guint priority,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data);
void mb_panel_model_set_foreground(MbPanelModel *model, const char *name,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean mb_panel_model_call_finish(MbPanelModel *model, GAsyncResult *result, GError **error);

/* A sentence for the viewer about a failed call (translated). */
char *mb_panel_describe_error(const GError *error);

/* Records the current allocation of every row in its history (the model
 * does so every second by itself; tests call it to make points). */
void mb_panel_model_sample(MbPanelModel *model);

/* The chart of each VM's allocation over the last window_s seconds up to
 * now_us (the paper's Fig. 7, live), drawn into a width x height area. */
void mb_panel_chart_draw(cairo_t *cr, int width, int height, MbPanelModel *model, gint64 now_us,
                         guint window_s);
/* The RGB of colour index i (as used by the chart), components 0..1. */
void mb_panel_color_rgb(guint i, double rgb[3]);

/* "1.5 GiB", "384 MiB": a size for the viewer (translated units). */
char *mb_panel_format_kib(guint64 kib);
/* A predicted change of demand: "+384 MiB", "−1.5 GiB" (U+2212), and
 * "0 MiB", unsigned, for whatever rounds to no MiB. */
char *mb_panel_format_demand_kib(gint64 demand_kib);

G_END_DECLS
