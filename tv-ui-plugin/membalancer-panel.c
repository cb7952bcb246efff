/* membalancer-panel: a standalone window hosting the "Memory" page, loaded
 * the way a TV shell loads it (GModule, by path), for development and for
 * shells that embed GTK pages. A GtkApplication (org.smarttv.MemBalancer.Panel,
 * not unique) with one window; Back on the page closes it.
 *
 *   membalancer-panel [--plugin PATH] [--address BUS] [--fullscreen]
 *                     [--size WxH]
 */
#include <glib/gi18n-lib.h>
#include <gmodule.h>
#include <gtk/gtk.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "tv-settings-plugin.h"

static char *opt_plugin;
static char *opt_address;
static char *opt_size;
static gboolean opt_fullscreen;

static const GOptionEntry entries[] = {
    {"plugin", 'p', 0, G_OPTION_ARG_FILENAME, &opt_plugin,
     N_("The plugin to load (default: the installed one)"), N_("PATH")},
    {"address", 'a', 0, G_OPTION_ARG_STRING, &opt_address,
     N_("Talk to the service on this D-Bus address instead of the system bus"), N_("ADDRESS")},
    {"fullscreen", 'f', 0, G_OPTION_ARG_NONE, &opt_fullscreen, N_("Fill the screen"), NULL},
    {"size", 's', 0, G_OPTION_ARG_STRING, &opt_size, N_("Window size (default 1920x1080)"),
     N_("WxH")},
    {NULL},
};

/* What main() prepared for the application's window. */
typedef struct {
    const TvSettingsPage *info;
    GDBusConnection *connection; /* NULL: the system bus */
    int width, height;
    int status; /* the exit status when the page cannot be made */
} Host;

static void
on_leave(GtkWidget *page, gpointer user_data)
{
    /* The last window closing ends the application. */
    gtk_window_destroy(GTK_WINDOW(user_data));
}

static void
on_activate(GtkApplication *app, gpointer user_data)
{
    Host *host = user_data;
    g_autoptr(GError) error = NULL;
    GtkWidget *window, *page;

    window = GTK_WIDGET(gtk_application_get_active_window(app));
    if (window != NULL) {
        gtk_window_present(GTK_WINDOW(window));
        return;
    }
    page = (GtkWidget *)host->info->new_widget(host->connection, &error);
    if (page == NULL) {
        g_printerr("membalancer-panel: %s\n", error->message);
        host->status = 1;
        return;
    }
    window = gtk_application_window_new(app);
    gtk_window_set_title(GTK_WINDOW(window), host->info->title);
    gtk_window_set_icon_name(GTK_WINDOW(window), host->info->icon_name);
    gtk_window_set_default_size(GTK_WINDOW(window), host->width, host->height);
    gtk_window_set_child(GTK_WINDOW(window), page);
    g_signal_connect(page, "leave", G_CALLBACK(on_leave), window);
    if (opt_fullscreen)
        gtk_window_fullscreen(GTK_WINDOW(window));
    gtk_window_present(GTK_WINDOW(window));
    gtk_widget_grab_focus(page);
}

int
main(int argc, char **argv)
{
    g_autoptr(GOptionContext) context = g_option_context_new(N_("- the membalancer TV page"));
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusConnection) connection = NULL;
    g_autoptr(GtkApplication) app = NULL;
    Host host = {NULL, NULL, 1920, 1080, 0};
    char *app_argv[] = {argv[0], NULL};
    const char *localedir;
    TvSettingsPluginInitFunc init;
    GModule *module;
    int status;

    setlocale(LC_ALL, "");
    /* LOCALEDIR or $MB_LOCALEDIR, as the plugin binds it again (po/README.md). */
    localedir = g_getenv("MB_LOCALEDIR");
    bindtextdomain(GETTEXT_PACKAGE,
                   localedir != NULL && *localedir != '\0' ? localedir : MB_PANEL_LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
    g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
    g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        g_printerr("membalancer-panel: %s\n", error->message);
        return 2;
    }
    if (opt_size != NULL &&
        (sscanf(opt_size, "%dx%d", &host.width, &host.height) != 2 || host.width < 320 ||
         host.height < 240 || host.width > 16384 || host.height > 16384)) {
        g_printerr("membalancer-panel: ");
        g_printerr(_("--size wants WxH, e.g. 1920x1080 (got \"%s\")"), opt_size);
        g_printerr("\n");
        return 2;
    }
    if (!gtk_init_check()) {
        g_printerr("membalancer-panel: %s\n",
                   _("cannot open a display (is DISPLAY or WAYLAND_DISPLAY set?)"));
        return 1;
    }
    /* --plugin, else $MB_PANEL_PLUGIN, else the installed plugin, else the
     * one of the build tree this program was built in. */
    if (opt_plugin == NULL && g_getenv("MB_PANEL_PLUGIN") != NULL)
        opt_plugin = g_strdup(g_getenv("MB_PANEL_PLUGIN"));
    if (opt_plugin == NULL)
        opt_plugin = g_strdup(g_file_test(MB_PANEL_PLUGIN_PATH, G_FILE_TEST_EXISTS)
                                  ? MB_PANEL_PLUGIN_PATH
                                  : MB_PANEL_BUILD_PLUGIN_PATH);
    module = g_module_open(opt_plugin, G_MODULE_BIND_LOCAL);
    if (module == NULL) {
        g_printerr("membalancer-panel: ");
        g_printerr(_("cannot load the plugin: %s"), g_module_error());
        g_printerr("\n");
        return 1;
    }
    if (!g_module_symbol(module, TV_SETTINGS_PLUGIN_INIT_SYMBOL, (gpointer *)&init) ||
        init == NULL) {
        g_printerr("membalancer-panel: ");
        /* TRANSLATORS: "PLUGIN.so has no tv_settings_plugin_init()". */
        g_printerr(_("%s has no %s()"), g_module_name(module), TV_SETTINGS_PLUGIN_INIT_SYMBOL);
        g_printerr("\n");
        return 1;
    }
    host.info = init(TV_SETTINGS_PLUGIN_ABI_VERSION);
    if (host.info == NULL) {
        g_printerr("membalancer-panel: ");
        g_printerr(_("the plugin does not support ABI version %u"),
                   TV_SETTINGS_PLUGIN_ABI_VERSION);
        g_printerr("\n");
        return 1;
    }
    if (opt_address != NULL) {
        connection = g_dbus_connection_new_for_address_sync(
            opt_address,
            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
            NULL, NULL, &error);
        if (connection == NULL) {
            g_printerr("membalancer-panel: ");
            g_printerr(_("cannot connect to %s: %s"), opt_address, error->message);
            g_printerr("\n");
            return 1;
        }
    }
    /* NON_UNIQUE: each instance shows the service of its own bus
     * (--address); a second one must not hand its window to the first. */
    app = gtk_application_new("org.smarttv.MemBalancer.Panel", G_APPLICATION_NON_UNIQUE);
    host.connection = connection;
    g_signal_connect(app, "activate", G_CALLBACK(on_activate), &host);
    /* The options are parsed above (their messages and exit statuses are
     * this program's, not GApplication's): it sees none of them. */
    status = g_application_run(G_APPLICATION(app), 1, app_argv);
    g_free(opt_plugin);
    g_free(opt_address);
    g_free(opt_size);
    return host.status != 0 ? host.status : status;
}
