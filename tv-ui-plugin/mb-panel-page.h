/* The "Memory" page: the VMs of the membalancer service in 10-foot
 * style, driven by a remote control (arrows, OK, Back). GTK 4. */
#pragma once

#include <gtk/gtk.h>

#include "mb-panel-model.h"

G_BEGIN_DECLS

#define MB_TYPE_PANEL_PAGE (mb_panel_page_get_type())
G_DECLARE_FINAL_TYPE(MbPanelPage, mb_panel_page, MB, PANEL_PAGE, GtkWidget)

/* The page for the service on connection (NULL: the system bus).
 * Signals: "leave" (Escape/Back outside an edit). */
GtkWidget *mb_panel_page_new(GDBusConnection *connection);
MbPanelModel *mb_panel_page_get_model(MbPanelPage *page);
/* The line under the title (service state, VM count, pool). */
const char *mb_panel_page_get_status(MbPanelPage *page);
/* The message shown for the last failed change, or "" (none). */
const char *mb_panel_page_get_message(MbPanelPage *page);
/* The row's VM name and column (0 priority, 1 foreground) that has the
 * keyboard focus; FALSE when no cell of the page has it. */
gboolean mb_panel_page_get_focus(MbPanelPage *page, const char **vm_name, guint *column);
/* Whether a priority is being edited, and its value. */
gboolean mb_panel_page_get_editing(MbPanelPage *page, guint *value);

G_END_DECLS
