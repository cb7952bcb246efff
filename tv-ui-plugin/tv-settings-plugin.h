/* The TV settings plugin interface: what a GLib-based TV shell needs to
 * load the membalancer "Memory" page by path.
 *
 *   GModule *module = g_module_open("/usr/lib/.../libmembalancer-panel-plugin.so",
 *                                   G_MODULE_BIND_LOCAL);
 *   TvSettingsPluginInitFunc init;
 *   if (module && g_module_symbol(module, TV_SETTINGS_PLUGIN_INIT_SYMBOL, (gpointer *)&init)) {
 *       const TvSettingsPage *page = init(TV_SETTINGS_PLUGIN_ABI_VERSION);
 *       if (page != NULL) {
 *           GtkWidget *widget = page->new_widget(NULL, NULL); // system bus
 *           ... show page->title with page->icon_name, host widget ...
 *       }
 *   }
 *
 * The module must stay loaded while any of its widgets exists (it calls
 * g_module_make_resident() itself, so closing it is harmless).
 */
#pragma once

#include <gio/gio.h>
#include <gmodule.h>

G_BEGIN_DECLS

#define TV_SETTINGS_PLUGIN_ABI_VERSION 1u
#define TV_SETTINGS_PLUGIN_INIT_SYMBOL "tv_settings_plugin_init"

/* GtkWidget, kept opaque so that a shell can read this header without GTK. */
typedef struct _GtkWidget TvSettingsWidget;

typedef struct {
    /* TV_SETTINGS_PLUGIN_ABI_VERSION the plugin was built with. */
    guint abi_version;
    /* The page's title, translated ("Memory"). */
    const char *title;
    /* A themed icon name for the page's entry in the settings menu. */
    const char *icon_name;
    /* Makes the page's widget (a floating GtkWidget, GTK 4): the VMs of
     * the membalancer service on `connection` (NULL: the system bus).
     * On a bus error the page shows the error; it never returns NULL
     * unless GTK is not initialised, then sets *error. The page emits the
     * signal "leave" (void (*)(GtkWidget *page, gpointer user_data)) when
     * the viewer presses Escape/Back outside an edit, for the shell to go
     * back to its menu. */
    TvSettingsWidget *(*new_widget)(GDBusConnection *connection, GError **error);
} TvSettingsPage;

/* The one entry point: returns the page description (static, never
 * freed) or NULL when the shell's abi_version is not supported. Safe to
 * call more than once; binds the plugin's translations. */
typedef const TvSettingsPage *(*TvSettingsPluginInitFunc)(guint abi_version);

G_MODULE_EXPORT const TvSettingsPage *tv_settings_plugin_init(guint abi_version);

G_END_DECLS
