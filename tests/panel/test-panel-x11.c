/* The real thing, end to end: membalancer-panel (loading the plugin by
 * path) on a private Xvfb, the real membalancerd with three VMs on a
 * private bus, remote-control keys as X events from xdotool, the
 * service's Priority checked on the bus, and a screenshot of the screen
 * (kept as panel-screenshot.png in the build's tests/panel directory). */
#include <cairo.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mb-test-tv.h"
#include "mb-test-x.h"

static MbTestX *x;

typedef struct {
    GSubprocess *process;
    char *log_path;
    char *window;
} Panel;

static char *
panel_log(Panel *panel)
{
    char *text = NULL;

    if (!g_file_get_contents(panel->log_path, &text, NULL, NULL))
        text = g_strdup("");
    return text;
}

static gboolean
panel_has_rows(gpointer data)
{
    g_autofree char *log = panel_log(data);

    return strstr(log, "page: 3 rows") != NULL;
}

/* Runs xdotool with args; asserts success; returns its stdout. */
static char *
xdotool(const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *out = NULL, *err = NULL;
    int status;

    /* xdotool search --sync would wait forever: bound it. */
    g_ptr_array_add(argv, (gpointer) "timeout");
    g_ptr_array_add(argv, (gpointer) "30");
    g_ptr_array_add(argv, (gpointer) "xdotool");
    for (guint i = 0; args[i] != NULL; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    status = mb_test_run(FALSE, (const char *const *)argv->pdata, &out, &err);
    if (status != 0)
        g_test_message("xdotool %s: status %d: %s", args[0], status, err);
    g_assert_cmpint(status, ==, 0);
    return g_steal_pointer(&out);
}

static void
keys(Panel *panel, const char *const *names)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new();

    g_free(xdotool((const char *const[]){"windowfocus", "--sync", panel->window, NULL}));
    g_ptr_array_add(args, (gpointer) "key");
    g_ptr_array_add(args, (gpointer) "--delay");
    g_ptr_array_add(args, (gpointer) "120");
    for (guint i = 0; names[i] != NULL; i++)
        g_ptr_array_add(args, (gpointer)names[i]);
    g_ptr_array_add(args, NULL);
    g_free(xdotool((const char *const *)args->pdata));
}

/* Starts membalancer-panel (as nobody when unprivileged) and waits until
 * its window shows the three VMs. */
static Panel *
panel_start(Fixture *f, gboolean unprivileged)
{
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *name = g_strdup_printf("panel-%d.log", g_random_int_range(0, G_MAXINT));
    g_autofree char *found = NULL;
    Panel *panel = g_new0(Panel, 1);

    panel->log_path = g_build_filename(f->bus->dir, name, NULL);
    g_subprocess_launcher_set_stdout_file_path(launcher, panel->log_path);
    g_subprocess_launcher_setenv(launcher, "G_MESSAGES_DEBUG", "membalancer-panel", TRUE);
    g_subprocess_launcher_unsetenv(launcher, "G_DEBUG");
    /* membalancer-panel is a GtkApplication: it wants a session bus (GTK
     * warns without one); the private bus serves. */
    g_subprocess_launcher_setenv(launcher, "DBUS_SESSION_BUS_ADDRESS", f->bus->address, TRUE);
    if (unprivileged) {
        static const char *const setpriv[] = {"setpriv", "--reuid=nobody", "--regid=nogroup",
                                              "--clear-groups", "--"};
        for (guint i = 0; i < G_N_ELEMENTS(setpriv); i++)
            g_ptr_array_add(argv, (gpointer)setpriv[i]);
    }
    g_ptr_array_add(argv, (gpointer)MB_TEST_PANEL);
    g_ptr_array_add(argv, (gpointer) "--plugin");
    g_ptr_array_add(argv, (gpointer)MB_TEST_PLUGIN);
    g_ptr_array_add(argv, (gpointer) "--address");
    g_ptr_array_add(argv, f->bus->address);
    g_ptr_array_add(argv, NULL);
    panel->process =
        g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
    g_assert_no_error(error);
    found = xdotool((const char *const[]){"search", "--sync", "--name", "^Memory$", NULL});
    panel->window = g_strdup(g_strstrip(found));
    g_assert_cmpstr(panel->window, !=, "");
    if (strchr(panel->window, '\n') != NULL)
        *strchr(panel->window, '\n') = '\0';
    if (!mb_test_wait_for(panel_has_rows, panel, 20000)) {
        g_autofree char *log = panel_log(panel);
        g_test_message("membalancer-panel log:\n%s", log);
        g_assert_not_reached();
    }
    return panel;
}

/* Waits for the panel to exit on its own; returns its exit status. */
static int
panel_wait(Panel *panel)
{
    g_autoptr(GError) error = NULL;

    for (int i = 0; i < 1000 && g_subprocess_get_identifier(panel->process) != NULL; i++)
        g_usleep(10000);
    if (g_subprocess_get_identifier(panel->process) != NULL)
        g_subprocess_force_exit(panel->process);
    g_subprocess_wait(panel->process, NULL, &error);
    g_assert_no_error(error);
    return g_subprocess_get_if_exited(panel->process)
               ? g_subprocess_get_exit_status(panel->process)
               : -g_subprocess_get_term_sig(panel->process);
}

static void
panel_free(Panel *panel)
{
    g_object_unref(panel->process);
    g_free(panel->log_path);
    g_free(panel->window);
    g_free(panel);
}

static gboolean
video_priority_60(gpointer data)
{
    return mb_test_tv_priority(data, "tv-video") == 60;
}

static guint
count_color(cairo_surface_t *image, guint32 rgb)
{
    const guint8 *data = cairo_image_surface_get_data(image);
    int stride = cairo_image_surface_get_stride(image);
    guint n = 0;

    for (int y = 0; y < cairo_image_surface_get_height(image); y++)
        for (int px = 0; px < cairo_image_surface_get_width(image); px++)
            n += (*(const guint32 *)(const void *)(data + y * stride + px * 4) & 0xffffff) ==
                 rgb;
    return n;
}

/* The screenshot is the panel: full size, far from blank, the page's
 * ground and each VM's colour present. */
static void
check_screenshot(const char *path)
{
    cairo_surface_t *image = cairo_image_surface_create_from_png(path);
    g_autoptr(GHashTable) colors = g_hash_table_new(NULL, NULL);
    const guint8 *data;
    int stride;
    guint ground, lit = 0;
    /* mb_panel_color_rgb(0..2) at 8 bits; the page's ground #101216. */
    static const guint32 vm_colors[] = {0x59b5e8, 0xe69e00, 0x00b88c};

    g_assert_cmpint(cairo_surface_status(image), ==, CAIRO_STATUS_SUCCESS);
    g_assert_cmpint(cairo_image_surface_get_width(image), ==, x->width);
    g_assert_cmpint(cairo_image_surface_get_height(image), ==, x->height);
    cairo_surface_flush(image);
    data = cairo_image_surface_get_data(image);
    stride = cairo_image_surface_get_stride(image);
    for (int y = 0; y < x->height; y++)
        for (int px = 0; px < x->width; px++) {
            guint32 c = *(const guint32 *)(const void *)(data + y * stride + px * 4) & 0xffffff;
            g_hash_table_add(colors, GUINT_TO_POINTER(c));
            /* Light pixels: text, bars, lines. */
            lit += ((c >> 16) & 0xff) + ((c >> 8) & 0xff) + (c & 0xff) > 3 * 0x60;
        }
    ground = count_color(image, 0x101216);
    g_test_message("screenshot %s: %u colours, %u ground pixels, %u light pixels", path,
                   g_hash_table_size(colors), ground, lit);
    g_assert_cmpuint(g_hash_table_size(colors), >, 100);
    g_assert_cmpuint(ground, >, (guint)(x->width * x->height / 4));
    g_assert_cmpuint(lit, >, 20000);
    for (guint i = 0; i < G_N_ELEMENTS(vm_colors); i++) {
        guint n = count_color(image, vm_colors[i]);
        g_test_message("VM colour %06x: %u pixels", vm_colors[i], n);
        g_assert_cmpuint(n, >, 300);
    }
    cairo_surface_destroy(image);
}

static void
test_keys_and_screenshot(Fixture *f, gconstpointer data)
{
    g_autofree char *shot = g_build_filename(
        g_getenv("G_TEST_BUILDDIR") != NULL ? g_getenv("G_TEST_BUILDDIR") : f->bus->dir,
        "panel-screenshot.png", NULL);
    g_autofree char *out = NULL;
    Panel *panel;

    mb_test_tv_start(f, 250);
    mb_test_tv_register(f);
    panel = panel_start(f, FALSE);
    g_assert_cmpuint(mb_test_tv_priority(f, "tv-video"), ==, 50);
    /* Down to tv-video, OK to edit, up twice (+10), OK to confirm. */
    keys(panel, (const char *const[]){"Down", "Return", "Up", "Up", "Return", NULL});
    g_assert_true(mb_test_wait_for(video_priority_60, f, 15000));
    /* A few intervals of balancing for the chart and the bars. */
    g_usleep(2 * G_USEC_PER_SEC);
    out = run_ok(FALSE, (const char *const[]){MB_TEST_XSHOT, shot, NULL});
    g_test_message("%s", out);
    check_screenshot(shot);
    /* Back leaves the page: the window closes, the program ends well. */
    keys(panel, (const char *const[]){"Escape", NULL});
    g_assert_cmpint(panel_wait(panel), ==, 0);
    panel_free(panel);
}

static gboolean
log_has_denied(gpointer data)
{
    g_autofree char *log = panel_log(data);

    return strstr(log, "(shown: Not allowed:") != NULL;
}

/* An unprivileged viewer's change is refused, shown, and changes nothing. */
static void
test_unprivileged(Fixture *f, gconstpointer data)
{
    Panel *panel;

    mb_test_tv_start(f, 250);
    mb_test_tv_register(f);
    panel = panel_start(f, TRUE);
    keys(panel, (const char *const[]){"Return", "Up", "Return", NULL});
    g_assert_true(mb_test_wait_for(log_has_denied, panel, 15000));
    g_assert_cmpuint(mb_test_tv_priority(f, "tv-game"), ==, 80);
    /* Back dismisses the message, Back again leaves. */
    keys(panel, (const char *const[]){"Escape", "Escape", NULL});
    g_assert_cmpint(panel_wait(panel), ==, 0);
    panel_free(panel);
}

/* Bad start-up input: a clear message and an exit status, no window. */
static void
test_bad_options(void)
{
    static const struct {
        const char *args[4];
        int status;
        const char *message;
    } cases[] = {
        {{"--size", "10x10", NULL}, 2, "--size wants WxH"},
        {{"--bogus", NULL}, 2, "Unknown option"},
        {{"--plugin", "/nonexistent/plugin.so", NULL}, 1, "cannot load the plugin"},
        {{"--plugin", "/bin/true", NULL}, 1, "cannot load the plugin"},
        {{"--plugin", "libm.so.6", NULL}, 1, "has no tv_settings_plugin_init()"},
        {{"--address", "unix:path=/nonexistent/bus", NULL}, 1, "cannot connect to"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autofree char *out = NULL, *err = NULL;
        int status;

        g_ptr_array_add(argv, (gpointer)MB_TEST_PANEL);
        for (guint k = 0; cases[i].args[k] != NULL; k++)
            g_ptr_array_add(argv, (gpointer)cases[i].args[k]);
        g_ptr_array_add(argv, NULL);
        status = mb_test_run(FALSE, (const char *const *)argv->pdata, &out, &err);
        g_test_message("%s: status %d: %s", cases[i].args[0], status, err);
        g_assert_cmpint(status, ==, cases[i].status);
        g_assert_nonnull(strstr(err, cases[i].message));
    }
}

int
main(int argc, char **argv)
{
    int status;

    g_setenv("LC_ALL", "C.UTF-8", TRUE);
    g_test_init(&argc, &argv, NULL);
    x = mb_test_x_start(1920, 1080);
    mb_test_x_setenv(x);
    g_test_add("/panel/x11/keys-and-screenshot", Fixture, NULL, fixture_setup,
               test_keys_and_screenshot, fixture_teardown);
    g_test_add_func("/panel/x11/bad-options", test_bad_options);
    g_test_add("/panel/x11/unprivileged", Fixture, NULL, fixture_setup, test_unprivileged,
               fixture_teardown);
    status = g_test_run();
    mb_test_x_stop(x);
    return status;
}
