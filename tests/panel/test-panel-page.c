/* The Memory page (GTK 4) in this process, on a private Xvfb, against the
 * real membalancerd on a private bus: rows and status, remote-control
 * keys (fed to the page's key controller), changes going through the
 * service, the service going and coming back, and an unprivileged
 * viewer's AccessDenied shown as a message. The real key path (X events
 * from xdotool into membalancer-panel) is test-panel-x11. */
#include <glib/gi18n-lib.h>
#include <gtk/gtk.h>
#include <string.h>
#include <unistd.h>

#include "mb-panel-page.h"
#include "mb-test-tv.h"
#include "mb-test-x.h"

static const char *self_path;

typedef struct {
    Fixture f;
    GtkWidget *window;
    MbPanelPage *page;
    guint leaves;
} PageFixture;

static void
on_leave(GtkWidget *page, gpointer data)
{
    ((PageFixture *)data)->leaves++;
}

static gboolean
page_ready(gpointer data)
{
    PageFixture *p = data;
    MbPanelModel *model = mb_panel_page_get_model(p->page);

    return mb_panel_model_get_available(model) &&
           g_list_model_get_n_items(G_LIST_MODEL(model)) == 3 &&
           mb_panel_page_get_focus(p->page, NULL, NULL) &&
           gtk_widget_get_width(GTK_WIDGET(p->page)) > 0;
}

static GtkWidget *
open_page(GDBusConnection *connection, PageFixture *p)
{
    GtkWidget *window = gtk_window_new();

    p->page = MB_PANEL_PAGE(mb_panel_page_new(connection));
    gtk_window_set_default_size(GTK_WINDOW(window), 1920, 1080);
    gtk_window_set_child(GTK_WINDOW(window), GTK_WIDGET(p->page));
    g_signal_connect(p->page, "leave", G_CALLBACK(on_leave), p);
    gtk_window_present(GTK_WINDOW(window));
    gtk_widget_grab_focus(GTK_WIDGET(p->page));
    return window;
}

static void
page_setup(PageFixture *p, gconstpointer data)
{
    fixture_setup(&p->f, NULL);
    mb_test_tv_start(&p->f, 200);
    mb_test_tv_register(&p->f);
    p->window = open_page(p->f.bus->connection, p);
    g_assert_true(mb_test_wait_for(page_ready, p, 20000));
}

static void
page_teardown(PageFixture *p, gconstpointer data)
{
    gtk_window_destroy(GTK_WINDOW(p->window));
    /* Let GTK finish the destruction before the bus goes. */
    while (g_main_context_iteration(NULL, FALSE))
        ;
    fixture_teardown(&p->f, data);
}

/* Feeds a key to the page as the remote control would. */
static gboolean
press(MbPanelPage *page, guint keyval)
{
    g_autoptr(GListModel) controllers = gtk_widget_observe_controllers(GTK_WIDGET(page));
    gboolean handled = FALSE;

    for (guint i = 0; i < g_list_model_get_n_items(controllers); i++) {
        g_autoptr(GObject) controller = g_list_model_get_item(controllers, i);
        if (GTK_IS_EVENT_CONTROLLER_KEY(controller))
            g_signal_emit_by_name(controller, "key-pressed", keyval, 0, 0, &handled);
    }
    while (g_main_context_iteration(NULL, FALSE))
        ;
    return handled;
}

static void
assert_focus(MbPanelPage *page, const char *name, guint column)
{
    const char *focus_name = NULL;
    guint focus_column = 99;

    g_assert_true(mb_panel_page_get_focus(page, &focus_name, &focus_column));
    g_assert_cmpstr(focus_name, ==, name);
    g_assert_cmpuint(focus_column, ==, column);
}

typedef struct {
    Fixture *f;
    const char *name;
    guint priority;
} PriorityWait;

static gboolean
bus_priority_is(gpointer data)
{
    PriorityWait *w = data;

    return mb_test_tv_priority(w->f, w->name) == w->priority;
}

static void
test_rows_and_status(PageFixture *p, gconstpointer data)
{
    g_assert_cmpstr(mb_panel_page_get_status(p->page), ==, "Balancing 3 VMs, 1.5 GiB shared");
    g_assert_cmpstr(mb_panel_page_get_message(p->page), ==, "");
    /* The focus starts on the first row's priority. */
    assert_focus(p->page, "tv-game", 0);
    g_assert_false(mb_panel_page_get_editing(p->page, NULL));
    g_assert_cmpint(gtk_widget_get_width(GTK_WIDGET(p->page)), ==, 1920);
}

static void
test_navigation(PageFixture *p, gconstpointer data)
{
    g_assert_true(press(p->page, GDK_KEY_Down));
    assert_focus(p->page, "tv-video", 0);
    g_assert_true(press(p->page, GDK_KEY_Right));
    assert_focus(p->page, "tv-video", 1);
    g_assert_true(press(p->page, GDK_KEY_Right));
    assert_focus(p->page, "tv-video", 1);
    g_assert_true(press(p->page, GDK_KEY_Down));
    assert_focus(p->page, "tv-web", 1);
    g_assert_true(press(p->page, GDK_KEY_Down)); /* the last row stays */
    assert_focus(p->page, "tv-web", 1);
    g_assert_true(press(p->page, GDK_KEY_Left));
    assert_focus(p->page, "tv-web", 0);
    g_assert_true(press(p->page, GDK_KEY_Up));
    g_assert_true(press(p->page, GDK_KEY_Up));
    g_assert_true(press(p->page, GDK_KEY_Up)); /* the first row stays */
    assert_focus(p->page, "tv-game", 0);
    /* Keys the page has no use for go on to the shell. */
    g_assert_false(press(p->page, GDK_KEY_a));
    /* Back outside an edit leaves the page. */
    g_assert_cmpuint(p->leaves, ==, 0);
    g_assert_true(press(p->page, GDK_KEY_Escape));
    g_assert_cmpuint(p->leaves, ==, 1);
}

static void
test_edit_priority(PageFixture *p, gconstpointer data)
{
    PriorityWait w = {&p->f, "tv-web", 16};
    guint value = 0;

    press(p->page, GDK_KEY_Down);
    press(p->page, GDK_KEY_Down);
    assert_focus(p->page, "tv-web", 0);
    /* OK edits: up/down by 5, right/left by 1, clamped to 0..100. */
    g_assert_true(press(p->page, GDK_KEY_Return));
    g_assert_true(mb_panel_page_get_editing(p->page, &value));
    g_assert_cmpuint(value, ==, 20);
    press(p->page, GDK_KEY_Up);
    press(p->page, GDK_KEY_Right);
    g_assert_true(mb_panel_page_get_editing(p->page, &value));
    g_assert_cmpuint(value, ==, 26);
    /* While editing, the arrows change the value, not the focus. */
    assert_focus(p->page, "tv-web", 0);
    /* Back cancels: nothing reaches the service, the page stays. */
    g_assert_true(press(p->page, GDK_KEY_Escape));
    g_assert_false(mb_panel_page_get_editing(p->page, NULL));
    g_assert_cmpuint(p->leaves, ==, 0);
    g_assert_cmpuint(mb_test_tv_priority(&p->f, "tv-web"), ==, 20);

    press(p->page, GDK_KEY_Return);
    for (int i = 0; i < 30; i++)
        press(p->page, GDK_KEY_Down);
    g_assert_true(mb_panel_page_get_editing(p->page, &value));
    g_assert_cmpuint(value, ==, 0);
    press(p->page, GDK_KEY_Up);
    press(p->page, GDK_KEY_Up);
    press(p->page, GDK_KEY_Up);
    press(p->page, GDK_KEY_Right);
    g_assert_true(press(p->page, GDK_KEY_KP_Enter));
    g_assert_false(mb_panel_page_get_editing(p->page, NULL));
    g_assert_true(mb_test_wait_for(bus_priority_is, &w, 10000));
    g_assert_cmpstr(mb_panel_page_get_message(p->page), ==, "");
    assert_focus(p->page, "tv-web", 0);
}

static gboolean
web_foreground_on_bus(gpointer data)
{
    Fixture *f = data;

    return mb_test_tv_foreground(f, "tv-web") && !mb_test_tv_foreground(f, "tv-game");
}

static void
test_foreground(PageFixture *p, gconstpointer data)
{
    press(p->page, GDK_KEY_Down);
    press(p->page, GDK_KEY_Down);
    press(p->page, GDK_KEY_Right);
    assert_focus(p->page, "tv-web", 1);
    g_assert_true(press(p->page, GDK_KEY_Return));
    g_assert_true(mb_test_wait_for(web_foreground_on_bus, &p->f, 10000));
}

static gboolean
page_service_gone(gpointer data)
{
    PageFixture *p = data;

    return strstr(mb_panel_page_get_status(p->page), "not running") != NULL &&
           g_list_model_get_n_items(G_LIST_MODEL(mb_panel_page_get_model(p->page))) == 0;
}

static void
test_service_restart(PageFixture *p, gconstpointer data)
{
    press(p->page, GDK_KEY_Return); /* an edit in progress when it goes */
    fixture_stop(&p->f);
    g_assert_true(mb_test_wait_for(page_service_gone, p, 10000));
    g_assert_cmpstr(mb_panel_page_get_status(p->page), ==,
                    "The memory balancer is not running. Waiting for it…");
    g_assert_false(mb_panel_page_get_editing(p->page, NULL));
    /* Keys do nothing harmful on an empty page. */
    press(p->page, GDK_KEY_Down);
    press(p->page, GDK_KEY_Return);
    press(p->page, GDK_KEY_Right);
    mb_test_tv_start(&p->f, 200);
    g_assert_true(mb_test_wait_for(page_ready, p, 20000));
    g_assert_cmpstr(mb_panel_page_get_status(p->page), ==, "Balancing 3 VMs, 1.5 GiB shared");
}

typedef struct {
    PageFixture *p;
    guint n;
} RowsWait;

static gboolean
has_rows(gpointer data)
{
    RowsWait *w = data;

    return g_list_model_get_n_items(G_LIST_MODEL(mb_panel_page_get_model(w->p->page))) == w->n;
}

/* The focused cell's top and bottom in the window, once laid out. */
static gboolean
focus_visible(gpointer data)
{
    PageFixture *p = data;
    GtkWidget *focus = gtk_root_get_focus(GTK_ROOT(p->window));
    graphene_rect_t bounds;

    return focus != NULL && gtk_widget_compute_bounds(focus, p->window, &bounds) &&
           bounds.origin.y >= 0 && bounds.origin.y + bounds.size.height <= 1080;
}

/* Twelve VMs do not fit above the chart: the rows scroll with the focus. */
static void
test_many_rows_scroll(PageFixture *p, gconstpointer data)
{
    RowsWait w = {p, 12};
    const char *name = NULL;

    for (guint i = 0; i < 9; i++) {
        g_autofree char *vm = g_strdup_printf("web-%02u", i + 1);
        mb_test_tv_register_vm(&p->f, vm, 10, FALSE);
    }
    g_assert_true(mb_test_wait_for(has_rows, &w, 20000));
    for (guint i = 0; i < 11; i++)
        press(p->page, GDK_KEY_Down);
    g_assert_true(mb_panel_page_get_focus(p->page, &name, NULL));
    g_assert_cmpstr(name, ==, "web-09"); /* rows in name order: tv-* come first */
    g_assert_true(mb_test_wait_for(focus_visible, p, 5000));
    /* The page keeps its size: the chart stays on screen. */
    g_assert_cmpint(gtk_widget_get_height(GTK_WIDGET(p->page)), <=, 1080);
}

static gboolean
status_is_bus_error(gpointer data)
{
    return g_str_has_prefix(mb_panel_page_get_status(data), "Cannot reach the system bus: ");
}

/* No system bus: the page says so (and stays empty), without a crash. */
static void
test_no_system_bus(void)
{
    GtkWidget *window = gtk_window_new();
    MbPanelPage *page;

    g_setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/system_bus_socket", TRUE);
    page = MB_PANEL_PAGE(mb_panel_page_new(NULL));
    gtk_window_set_child(GTK_WINDOW(window), GTK_WIDGET(page));
    gtk_window_present(GTK_WINDOW(window));
    g_assert_true(mb_test_wait_for(status_is_bus_error, page, 10000));
    g_test_message("%s", mb_panel_page_get_status(page));
    g_assert_nonnull(mb_panel_model_get_bus_error(mb_panel_page_get_model(page)));
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(mb_panel_page_get_model(page))), ==,
                     0);
    gtk_window_destroy(GTK_WINDOW(window));
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

/* As nobody (see main()): change a priority, report what the page shows. */
static void
test_access_denied(PageFixture *p, gconstpointer data)
{
    g_autofree char *out = NULL, *err = NULL;
    const char *argv[] = {self_path, "--as-viewer", p->f.bus->address, NULL};
    int status;

    status = mb_test_run(TRUE, argv, &out, &err);
    g_test_message("as nobody: status %d, out: %s, err: %s", status, out, err);
    g_assert_cmpint(status, ==, 0);
    g_assert_nonnull(strstr(out, "uid=65534 message: Not allowed: only the administrator"));
    g_assert_cmpuint(mb_test_tv_priority(&p->f, "tv-game"), ==, 80);
}

static gboolean
message_shown(gpointer data)
{
    return mb_panel_page_get_message(data)[0] != '\0';
}

static int
run_as_viewer(const char *address)
{
    g_autoptr(GDBusConnection) connection = mb_test_tv_connect(address);
    PageFixture p = {0};
    GtkWidget *window;

    gtk_init();
    window = open_page(connection, &p);
    g_assert_true(mb_test_wait_for(page_ready, &p, 20000));
    press(p.page, GDK_KEY_Return);
    press(p.page, GDK_KEY_Up);
    press(p.page, GDK_KEY_Return);
    g_assert_true(mb_test_wait_for(message_shown, p.page, 10000));
    g_print("uid=%u message: %s\n", (unsigned)getuid(), mb_panel_page_get_message(p.page));
    /* Back first dismisses the message, then leaves. */
    press(p.page, GDK_KEY_Escape);
    g_assert_cmpstr(mb_panel_page_get_message(p.page), ==, "");
    g_assert_cmpuint(p.leaves, ==, 0);
    gtk_window_destroy(GTK_WINDOW(window));
    return 0;
}

/* Every label's text under widget, one a line, into texts. */
static void
collect_labels(GtkWidget *widget, GString *texts)
{
    if (GTK_IS_LABEL(widget))
        g_string_append_printf(texts, "%s\n", gtk_label_get_text(GTK_LABEL(widget)));
    for (GtkWidget *child = gtk_widget_get_first_child(widget); child != NULL;
         child = gtk_widget_get_next_sibling(child))
        collect_labels(child, texts);
}

/* The page's labels in German (see main()): a process of its own, whose
 * locale comes from its environment (LOCPATH: our de_DE.UTF-8). */
static int
run_german(const char *address)
{
    g_autoptr(GDBusConnection) connection = mb_test_tv_connect(address);
    g_autoptr(GString) texts = g_string_new(NULL);
    PageFixture p = {0};
    GtkWidget *window;

    bindtextdomain(GETTEXT_PACKAGE, MB_TEST_MO_DIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    gtk_init();
    window = open_page(connection, &p);
    g_assert_true(mb_test_wait_for(page_ready, &p, 20000));
    collect_labels(GTK_WIDGET(p.page), texts);
    g_print("%s", texts->str);
    gtk_window_destroy(GTK_WINDOW(window));
    while (g_main_context_iteration(NULL, FALSE))
        ;
    return 0;
}

/* The fixed texts of the templates (mb-panel-page.ui, mb-panel-row.ui)
 * are translated, in the plugin's domain, not the program's. */
static void
test_german_templates(PageFixture *p, gconstpointer data)
{
    g_autofree char *dir = mb_test_make_dir("mb-panel-de-XXXXXX");
    g_autofree char *locale_dir = mb_test_german_locale(dir);
    g_autofree char *locpath = g_strconcat("LOCPATH=", locale_dir, NULL);
    g_autofree char *out = NULL, *err = NULL;
    const char *argv[] = {"env",     locpath,          "LC_ALL=de_DE.UTF-8", "LANGUAGE=de",
                          self_path, "--german-texts", p->f.bus->address,    NULL};
    const char *const german[] = {
        "Arbeitsspeicher\n",
        "Arbeitsspeicher jeder VM in den letzten 5 Minuten\n",
        "↑ ↓ VM wählen   ← → Einstellung wählen   OK ändern   Zurück verlassen\n",
        "★ Vordergrund\n",
    };
    int status = mb_test_run(FALSE, argv, &out, &err);

    g_test_message("in German: status %d, out:\n%s\nerr: %s", status, out, err);
    g_assert_cmpint(status, ==, 0);
    for (gsize i = 0; i < G_N_ELEMENTS(german); i++)
        g_assert_nonnull(strstr(out, german[i]));
    g_assert_null(strstr(out, "Memory"));
    g_assert_null(strstr(out, "Foreground"));
    mb_test_rm_rf(dir);
}

#define ADD_PAGE_TEST(path, func)                                                              \
    g_test_add("/panel/page/" path, PageFixture, NULL, page_setup, func, page_teardown)

int
main(int argc, char **argv)
{
    g_autoptr(MbTestX) x = NULL;
    int status;

    self_path = argv[0];
    if (argc == 3 && g_str_equal(argv[1], "--as-viewer"))
        return run_as_viewer(argv[2]);
    if (argc == 3 && g_str_equal(argv[1], "--german-texts"))
        return run_german(argv[2]);
    g_setenv("LC_ALL", "C.UTF-8", TRUE);
    g_test_init(&argc, &argv, NULL);
    x = mb_test_x_start(1920, 1080);
    mb_test_x_setenv(x);
    gtk_init();
    ADD_PAGE_TEST("rows-and-status", test_rows_and_status);
    ADD_PAGE_TEST("navigation", test_navigation);
    ADD_PAGE_TEST("edit-priority", test_edit_priority);
    ADD_PAGE_TEST("foreground", test_foreground);
    ADD_PAGE_TEST("service-restart", test_service_restart);
    ADD_PAGE_TEST("access-denied", test_access_denied);
    ADD_PAGE_TEST("many-rows-scroll", test_many_rows_scroll);
    ADD_PAGE_TEST("german-templates", test_german_templates);
    g_test_add_func("/panel/page/no-system-bus", test_no_system_bus);
    status = g_test_run();
    return status;
}
