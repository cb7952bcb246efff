/* The plugin's one entry point, tv_settings_plugin_init(): see
 * tv-settings-plugin.h. */
#include <glib/gi18n-lib.h>
#include <gtk/gtk.h>

#include "mb-panel-page.h"
#include "tv-settings-plugin.h"

static TvSettingsWidget *
new_widget(GDBusConnection *connection, GError **error)
{
    if (!gtk_is_initialized()) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                            "GTK is not initialised: call gtk_init() first");
        return NULL;
    }
    return (TvSettingsWidget *)mb_panel_page_new(connection);
}

/* The module holds GTypes: it may never be unloaded. */
G_MODULE_EXPORT const gchar *g_module_check_init(GModule *module);

G_MODULE_EXPORT const gchar *
g_module_check_init(GModule *module)
{
    g_module_make_resident(module);
    return NULL;
}

/* LOCALEDIR, or $MB_LOCALEDIR (the build tree's po/, po/README.md). */
static const char *
localedir(void)
{
    const char *dir = g_getenv("MB_LOCALEDIR");

    return dir != NULL && *dir != '\0' ? dir : MB_PANEL_LOCALEDIR;
}

G_MODULE_EXPORT const TvSettingsPage *
tv_settings_plugin_init(guint abi_version)
{
    static TvSettingsPage page;

    if (abi_version != TV_SETTINGS_PLUGIN_ABI_VERSION)
        return NULL;
    /* Our own domain, never textdomain(): the shell's stays its own. */
    bindtextdomain(GETTEXT_PACKAGE, localedir());
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    page.abi_version = TV_SETTINGS_PLUGIN_ABI_VERSION;
    page.title = _("Memory");
    page.icon_name = "drive-harddisk-solidstate-symbolic";
    page.new_widget = new_widget;
    return &page;
}
