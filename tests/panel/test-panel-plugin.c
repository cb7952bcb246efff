/* The plugin as a TV shell loads it: by path with GModule, through its one
 * entry point, ABI versions checked, the widget made before and after
 * gtk_init(). This program links GTK but none of the panel's code. */
#include <gmodule.h>
#include <gtk/gtk.h>

#include "mb-test-bus.h"
#include "mb-test-x.h"
#include "tv-settings-plugin.h"

static void
on_leave(GtkWidget *widget, gpointer data)
{
    (*(guint *)data)++;
}

static void
test_entry_point(void)
{
    g_autoptr(MbTestBus) bus = mb_test_bus_new();
    g_autoptr(GError) error = NULL;
    GModule *module = g_module_open(MB_TEST_PLUGIN, G_MODULE_BIND_LOCAL);
    TvSettingsPluginInitFunc init = NULL;
    const TvSettingsPage *page;
    GtkWidget *widget, *window;
    gpointer other = NULL;
    guint leaves = 0;

    g_assert_nonnull(module);
    g_assert_true(g_module_symbol(module, TV_SETTINGS_PLUGIN_INIT_SYMBOL, (gpointer *)&init));
    g_assert_nonnull(init);
    /* Only the entry point is visible, not the page's internals. */
    g_assert_false(g_module_symbol(module, "mb_panel_page_new", &other));
    g_assert_null(init(TV_SETTINGS_PLUGIN_ABI_VERSION + 1));
    g_assert_null(init(0));
    page = init(TV_SETTINGS_PLUGIN_ABI_VERSION);
    g_assert_nonnull(page);
    g_assert_true(page == init(TV_SETTINGS_PLUGIN_ABI_VERSION)); /* static, idempotent */
    g_assert_cmpuint(page->abi_version, ==, TV_SETTINGS_PLUGIN_ABI_VERSION);
    g_assert_cmpstr(page->title, ==, "Memory");
    g_assert_cmpstr(page->icon_name, !=, "");
    g_assert_nonnull(page->new_widget);

    /* Before gtk_init(): a clear error, no widget. */
    g_assert_null(page->new_widget(bus->connection, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED);
    g_clear_error(&error);

    gtk_init();
    widget = (GtkWidget *)page->new_widget(bus->connection, &error);
    g_assert_no_error(error);
    g_assert_true(GTK_IS_WIDGET(widget));
    g_assert_true(g_object_is_floating(widget));
    g_assert_cmpstr(G_OBJECT_TYPE_NAME(widget), ==, "MbPanelPage");
    g_assert_cmpuint(g_signal_lookup("leave", G_OBJECT_TYPE(widget)), !=, 0);
    g_signal_connect(widget, "leave", G_CALLBACK(on_leave), &leaves);
    window = gtk_window_new();
    gtk_window_set_child(GTK_WINDOW(window), widget);
    gtk_window_present(GTK_WINDOW(window));
    for (int i = 0; i < 50; i++) {
        while (g_main_context_iteration(NULL, FALSE))
            ;
        g_usleep(10000);
    }
    g_assert_true(gtk_widget_get_mapped(widget));
    g_signal_emit_by_name(widget, "leave");
    g_assert_cmpuint(leaves, ==, 1);
    gtk_window_destroy(GTK_WINDOW(window));
    while (g_main_context_iteration(NULL, FALSE))
        ;
    /* Resident: closing it is harmless. */
    g_assert_true(g_module_close(module));
}

int
main(int argc, char **argv)
{
    g_autoptr(MbTestX) x = NULL;

    g_setenv("LC_ALL", "C.UTF-8", TRUE);
    g_test_init(&argc, &argv, NULL);
    x = mb_test_x_start(1280, 720);
    mb_test_x_setenv(x);
    g_test_add_func("/panel/plugin/entry-point", test_entry_point);
    return g_test_run();
}
