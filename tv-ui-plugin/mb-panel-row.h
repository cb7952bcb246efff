/* One VM's row of the "Memory" page (GTK 4, template mb-panel-row.ui):
 * its colour, name and foreground mark, the bar of its memory over its
 * figures, the swap indicator, and the two cells a remote control
 * reaches (priority, foreground). It follows its MbPanelVm by itself;
 * the page tells it what only the page knows: the bars' common scale,
 * an edit of the priority, a call in flight. */
#pragma once

#include <gtk/gtk.h>

#include "mb-panel-model.h"

G_BEGIN_DECLS

/* Where the panel's GResource (mb-panel.gresource.xml) puts its files. */
#define MB_PANEL_RESOURCE_PATH "/org/smarttv/MemBalancer/Panel/"

#define MB_TYPE_PANEL_ROW (mb_panel_row_get_type())
G_DECLARE_FINAL_TYPE(MbPanelRow, mb_panel_row, MB, PANEL_ROW, GtkWidget)

/* The scale of every row's bar, in KiB (one for all rows: the pool). */
typedef guint64 (*MbPanelRowScaleFunc)(gpointer user_data);

/* A floating row of vm; scale(scale_data) gives its bar's scale. */
GtkWidget *mb_panel_row_new(MbPanelVm *vm, MbPanelRowScaleFunc scale, gpointer scale_data);
MbPanelVm *mb_panel_row_get_vm(MbPanelRow *row);
/* The cells the remote control reaches: column 0 priority, 1 foreground. */
GtkWidget *mb_panel_row_get_cell(MbPanelRow *row, guint column);
/* The swap indicator (the page lines its column up across rows). */
GtkWidget *mb_panel_row_get_swap(MbPanelRow *row);
/* The priority cell shows value being edited ("‹ value ›"), or not. */
void mb_panel_row_set_editing(MbPanelRow *row, gboolean editing, guint value);
/* A call for this VM is in flight: the priority shows "…". */
void mb_panel_row_set_busy(MbPanelRow *row, gboolean busy);
/* Draws the bar again (the common scale moved). */
void mb_panel_row_queue_draw_bar(MbPanelRow *row);

G_END_DECLS
