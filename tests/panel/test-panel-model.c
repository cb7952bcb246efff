/* The panel's view model against the real membalancerd (fake backend) on
 * a private bus: rows appear, update and vanish with the service's
 * objects; the service going and coming back; calls and their errors,
 * an unprivileged caller's AccessDenied included; the chart. */
#include <string.h>
#include <unistd.h>

#include "mb-panel-model.h"
#include "mb-test-tv.h"

static const char *self_path;

typedef struct {
    MbPanelModel *model;
    guint n;
} CountWait;

static gboolean
has_n_rows(gpointer data)
{
    CountWait *w = data;

    return mb_panel_model_get_available(w->model) &&
           g_list_model_get_n_items(G_LIST_MODEL(w->model)) == w->n;
}

static void
wait_rows(MbPanelModel *model, guint n)
{
    CountWait w = {model, n};

    g_assert_true(mb_test_wait_for(has_n_rows, &w, 20000));
}

static void
assert_names(MbPanelModel *model, const char *const *names)
{
    guint n = g_strv_length((char **)names);

    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, n);
    g_assert_true(g_list_model_get_item_type(G_LIST_MODEL(model)) == MB_TYPE_PANEL_VM);
    for (guint i = 0; i < n; i++) {
        g_autoptr(MbPanelVm) vm = g_list_model_get_item(G_LIST_MODEL(model), i);
        g_assert_cmpstr(mb_panel_vm_get_name(vm), ==, names[i]);
    }
    g_assert_null(g_list_model_get_item(G_LIST_MODEL(model), n));
}

typedef struct {
    guint added, removed;
} Changes;

static void
on_items_changed(GListModel *list, guint position, guint removed, guint added, gpointer data)
{
    Changes *c = data;

    c->added += added;
    c->removed += removed;
}

/* Rows appear with the service's objects, in name order, with their
 * properties; a model made after the registrations fills at once. */
static void
test_rows_appear(Fixture *f, gconstpointer data)
{
    g_autoptr(MbPanelModel) model = NULL;
    g_autoptr(MbPanelModel) late = NULL;
    static const char *const names[] = {"tv-game", "tv-video", "tv-web", NULL};
    Changes changes = {0, 0};
    MbPanelVm *game;
    g_autofree char *backend = NULL;

    mb_test_tv_start(f, 100);
    model = mb_panel_model_new(f->bus->connection);
    g_signal_connect(model, "items-changed", G_CALLBACK(on_items_changed), &changes);
    wait_rows(model, 0);
    g_assert_true(mb_panel_model_get_connected(model));
    backend = mb_panel_model_dup_backend(model);
    g_assert_cmpstr(backend, ==, "fake");
    mb_test_tv_register(f);
    wait_rows(model, 3);
    assert_names(model, names);
    g_assert_cmpuint(changes.added, ==, 3);
    g_assert_cmpuint(changes.removed, ==, 0);

    game = mb_panel_model_find(model, "tv-game");
    g_assert_nonnull(game);
    g_assert_null(mb_panel_model_find(model, "tv-nothing"));
    g_assert_cmpuint(mb_panel_vm_get_priority(game), ==, 80);
    g_assert_true(mb_panel_vm_get_foreground(game));
    g_assert_false(mb_panel_vm_get_foreground(mb_panel_model_find(model, "tv-web")));
    g_assert_cmpuint(mb_panel_vm_get_min_kib(game), ==, 256 * 1024);
    g_assert_cmpuint(mb_panel_vm_get_max_kib(game), ==, 2 * 1024 * 1024);
    g_assert_cmpuint(mb_panel_vm_get_allocated_kib(game), >, 0);
    g_assert_cmpstr(mb_panel_vm_get_state(game), ==, "running");
    /* Distinct colours, in name order. */
    g_assert_cmpuint(mb_panel_vm_get_color(game), !=,
                     mb_panel_vm_get_color(mb_panel_model_find(model, "tv-web")));
    g_assert_cmpuint(mb_panel_model_get_pool_kib(model), >=, 3 * 512 * 1024);

    /* A second model after the fact: one change, three rows. */
    late = mb_panel_model_new(f->bus->connection);
    changes = (Changes){0, 0};
    g_signal_connect(late, "items-changed", G_CALLBACK(on_items_changed), &changes);
    wait_rows(late, 3);
    assert_names(late, names);
    g_assert_cmpuint(changes.added, ==, 3);
    g_signal_handlers_disconnect_by_data(late, &changes);
    g_signal_handlers_disconnect_by_data(model, &changes);
}

typedef struct {
    MbPanelVm *vm;
    guint64 first_alloc;
} MoveWait;

static gboolean
game_grew(gpointer data)
{
    MoveWait *w = data;
    guint n;

    (void)mb_panel_vm_get_history(w->vm, &n);
    return mb_panel_vm_get_allocated_kib(w->vm) > w->first_alloc + 32 * 1024 && n >= 2 &&
           mb_panel_vm_get_demand_kib(w->vm) != 0;
}

static gboolean
priority_is(gpointer data)
{
    return mb_panel_vm_get_priority(data) == 33;
}

static void
count_notify(GObject *object, GParamSpec *pspec, gpointer data)
{
    (*(guint *)data)++;
}

/* Rows follow the service: a setting changed by another client, the
 * balancer moving memory (and the history the chart draws). */
static void
test_rows_update(Fixture *f, gconstpointer data)
{
    g_autoptr(MbPanelModel) model = NULL;
    g_autoptr(GError) error = NULL;
    MbPanelVm *game, *video;
    MoveWait w;
    guint notified = 0;
    guint n_history;
    const MbPanelSample *history;

    mb_test_tv_start(f, 100);
    mb_test_tv_register(f);
    model = mb_panel_model_new(f->bus->connection);
    wait_rows(model, 3);
    video = mb_panel_model_find(model, "tv-video");
    g_signal_connect(video, "notify::priority", G_CALLBACK(count_notify), &notified);
    g_assert_true(
        mb_mem_balancer_call_set_priority_sync(f->manager, "tv-video", 33, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(mb_test_wait_for(priority_is, video, 10000));
    g_assert_cmpuint(notified, ==, 1);
    g_signal_handlers_disconnect_by_data(video, &notified);

    /* The game grows (its workload), the model follows. */
    game = mb_panel_model_find(model, "tv-game");
    w.vm = game;
    w.first_alloc = 512 * 1024;
    g_assert_true(mb_test_wait_for(game_grew, &w, 30000));
    history = mb_panel_vm_get_history(game, &n_history);
    g_assert_cmpuint(n_history, >=, 2);
    for (guint i = 1; i < n_history; i++)
        g_assert_cmpint(history[i].time_us, >=, history[i - 1].time_us);
    g_assert_cmpuint(history[n_history - 1].allocated_kib, ==,
                     mb_panel_vm_get_allocated_kib(game));
    g_assert_cmpstr(mb_panel_vm_get_stats_source(game), !=, "none");
    /* A sample point without a change: the line extends to now. */
    mb_panel_model_sample(model);
    (void)mb_panel_vm_get_history(game, &n_history);
    g_assert_cmpuint(n_history, >=, 3);
}

static gboolean
game_swapping(gpointer data)
{
    return mb_panel_vm_get_swapping(data);
}

/* The swap indicator lights when the guest's swap-out counter grows:
 * a game alone in too little memory (the pool is its own 300 MiB). */
static void
test_swapping(Fixture *f, gconstpointer data)
{
    g_autofree char *path =
        mb_test_write_file(f->bus->dir, "swap.conf",
                           "[membalancer]\ninterval=100\n"
                           "[fake]\nalloc=300MiB\nmax=2GiB\ntv-game=game\n");
    const char *const args[] = {"--config", path, NULL};
    g_autoptr(MbPanelModel) model = NULL;
    MbPanelVm *game;

    fixture_start(f, args);
    mb_test_tv_register_vm(f, "tv-game", 80, FALSE);
    model = mb_panel_model_new(f->bus->connection);
    wait_rows(model, 1);
    game = mb_panel_model_find(model, "tv-game");
    g_assert_true(mb_test_wait_for(game_swapping, game, 30000));
    g_assert_cmpuint(mb_panel_vm_get_swap_out_kib(game), >, 0);
}

typedef struct {
    gboolean done;
    gboolean ok;
    GError *error;
} CallWait;

static void
on_call_done(GObject *source, GAsyncResult *result, gpointer data)
{
    CallWait *w = data;

    w->ok = mb_panel_model_call_finish(MB_PANEL_MODEL(source), result, &w->error);
    w->done = TRUE;
}

static gboolean
call_done(gpointer data)
{
    return ((CallWait *)data)->done;
}

static gboolean
call_set_priority(MbPanelModel *model, const char *name, guint priority, GError **error)
{
    CallWait w = {FALSE, FALSE, NULL};

    mb_panel_model_set_priority(model, name, priority, NULL, on_call_done, &w);
    g_assert_true(mb_test_wait_for(call_done, &w, 10000));
    if (w.error != NULL)
        g_propagate_error(error, w.error);
    return w.ok;
}

static gboolean
call_set_foreground(MbPanelModel *model, const char *name, GError **error)
{
    CallWait w = {FALSE, FALSE, NULL};

    mb_panel_model_set_foreground(model, name, NULL, on_call_done, &w);
    g_assert_true(mb_test_wait_for(call_done, &w, 10000));
    if (w.error != NULL)
        g_propagate_error(error, w.error);
    return w.ok;
}

static gboolean
not_available(gpointer data)
{
    return !mb_panel_model_get_available(data);
}

/* VMs unregistered vanish; the service going away empties the model and
 * marks it unavailable; its return (same state) fills it again. */
static void
test_rows_vanish_and_service_restart(Fixture *f, gconstpointer data)
{
    g_autoptr(MbPanelModel) model = NULL;
    g_autoptr(GError) error = NULL;
    static const char *const two[] = {"tv-game", "tv-web", NULL};
    Changes changes = {0, 0};

    mb_test_tv_start(f, 100);
    mb_test_tv_register(f);
    model = mb_panel_model_new(f->bus->connection);
    wait_rows(model, 3);
    g_signal_connect(model, "items-changed", G_CALLBACK(on_items_changed), &changes);
    g_assert_true(
        mb_mem_balancer_call_unregister_vm_sync(f->manager, "tv-video", NULL, &error));
    g_assert_no_error(error);
    wait_rows(model, 2);
    assert_names(model, two);
    g_assert_cmpuint(changes.removed, ==, 1);

    fixture_stop(f);
    g_assert_true(mb_test_wait_for(not_available, model, 10000));
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(model)), ==, 0);
    g_assert_false(mb_panel_model_get_connected(model));
    g_assert_cmpuint(mb_panel_model_get_pool_kib(model), ==, 0);
    g_assert_null(mb_panel_model_find(model, "tv-game"));

    /* While it is away, a change is refused with a clear message. */
    g_assert_false(call_set_priority(model, "tv-game", 10, &error));
    {
        g_autofree char *text = mb_panel_describe_error(error);
        g_assert_cmpstr(text, ==, "The memory balancer is not running.");
    }
    g_clear_error(&error);

    mb_test_tv_start(f, 100);
    wait_rows(model, 2);
    assert_names(model, two);
    g_assert_cmpuint(mb_panel_vm_get_priority(mb_panel_model_find(model, "tv-game")), ==, 80);
    g_signal_handlers_disconnect_by_data(model, &changes);
}

static gboolean
web_is_foreground(gpointer data)
{
    return mb_panel_vm_get_foreground(mb_panel_model_find(data, "tv-web")) &&
           !mb_panel_vm_get_foreground(mb_panel_model_find(data, "tv-game"));
}

/* The model's calls go through the service: the change is seen on the
 * bus; errors carry a sentence for the viewer; nothing changes on error. */
static void
test_calls(Fixture *f, gconstpointer data)
{
    g_autoptr(MbPanelModel) model = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *before = NULL, *after = NULL, *text = NULL;

    mb_test_tv_start(f, 100);
    mb_test_tv_register(f);
    model = mb_panel_model_new(f->bus->connection);
    wait_rows(model, 3);
    g_assert_true(call_set_priority(model, "tv-web", 65, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(mb_test_tv_priority(f, "tv-web"), ==, 65);
    g_assert_true(call_set_foreground(model, "tv-web", &error));
    g_assert_no_error(error);
    g_assert_true(mb_test_wait_for(web_is_foreground, model, 10000));

    before = settings_snapshot(f);
    g_assert_false(call_set_priority(model, "tv-web", 101, &error));
    text = mb_panel_describe_error(error);
    g_assert_nonnull(strstr(text, "The change failed"));
    g_clear_error(&error);
    g_clear_pointer(&text, g_free);
    g_assert_false(call_set_priority(model, "tv-gone", 10, &error));
    text = mb_panel_describe_error(error);
    g_assert_cmpstr(text, ==, "That VM is no longer managed by the memory balancer.");
    after = settings_snapshot(f);
    g_assert_cmpstr(before, ==, after);
}

/* An unprivileged viewer: the service refuses, the model says why. The
 * call runs in this program started again as nobody (see main()). */
static void
test_access_denied(Fixture *f, gconstpointer data)
{
    g_autofree char *before = NULL, *after = NULL, *out = NULL, *err = NULL;
    const char *argv[] = {self_path, "--as-viewer", f->bus->address, "tv-video", NULL};
    int status;

    mb_test_tv_start(f, 100);
    mb_test_tv_register(f);
    before = settings_snapshot(f);
    status = mb_test_run(TRUE, argv, &out, &err);
    g_test_message("as nobody: status %d, out: %s, err: %s", status, out, err);
    g_assert_cmpint(status, ==, 0);
    g_assert_nonnull(strstr(out, "uid=65534"));
    g_assert_nonnull(strstr(out, "Not allowed: only the administrator and members of the "
                                 "membalancer group can change memory settings."));
    after = settings_snapshot(f);
    g_assert_cmpstr(before, ==, after);
}

static int
run_as_viewer(const char *address, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusConnection) connection = mb_test_tv_connect(address);
    g_autoptr(MbPanelModel) model = NULL;
    g_autofree char *text = NULL;

    model = mb_panel_model_new(connection);
    wait_rows(model, 3);
    g_assert_false(call_set_priority(model, name, 99, &error));
    text = mb_panel_describe_error(error);
    g_print("uid=%u %s\n", (unsigned)getuid(), text);
    return 0;
}

/* The model never starts the service: on a bus where it is activatable
 * (a service file that only leaves a mark), a model waits, unavailable,
 * and no activation happens; the service started by hand then fills it. */
static void
test_no_auto_start(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-panel-activation-XXXXXX");
    g_autofree char *mark = g_build_filename(dir, "activated", NULL);
    g_autofree char *service = g_strdup_printf(
        "[D-BUS Service]\nName=%s\nExec=/usr/bin/touch %s\n", "org.smarttv.MemBalancer", mark);
    g_autofree char *conf =
        g_strdup_printf("<busconfig><servicedir>%s</servicedir></busconfig>\n", dir);
    g_autofree char *conf_path = mb_test_write_file(dir, "activation.conf", conf);
    Fixture f = {NULL};
    g_autoptr(MbPanelModel) model = NULL;

    g_free(mb_test_write_file(dir, "org.smarttv.MemBalancer.service", service));
    f.bus = mb_test_bus_new_with_include(conf_path);
    f.state_dir = g_build_filename(f.bus->dir, "state", NULL);
    model = mb_panel_model_new(f.bus->connection);
    mb_test_run_for(1500);
    g_assert_false(g_file_test(mark, G_FILE_TEST_EXISTS));
    g_assert_false(mb_panel_model_get_available(model));
    g_assert_null(mb_panel_model_get_bus_error(model));
    mb_test_tv_start(&f, 100);
    mb_test_tv_register(&f);
    wait_rows(model, 3);
    g_assert_false(g_file_test(mark, G_FILE_TEST_EXISTS));
    g_clear_object(&model);
    fixture_teardown(&f, NULL);
    mb_test_rm_rf(dir);
}

/* The chart: every VM's line in its colour on the dark ground. */
static void
test_chart(Fixture *f, gconstpointer data)
{
    g_autoptr(MbPanelModel) model = NULL;
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 960, 360);
    cairo_t *cr = cairo_create(surface);
    guint n = 0, n_lines = 0;
    MoveWait w = {NULL, 512 * 1024};

    mb_test_tv_start(f, 100);
    mb_test_tv_register(f);
    model = mb_panel_model_new(f->bus->connection);
    wait_rows(model, 3);
    /* Apart: the game has grown (the others start at the same size). */
    w.vm = mb_panel_model_find(model, "tv-game");
    g_assert_true(mb_test_wait_for(game_grew, &w, 30000));
    /* A minute later: each line runs a fifth of the width from its last
     * point to "now". */
    mb_panel_chart_draw(cr, 960, 360, model, g_get_monotonic_time() + 60 * G_USEC_PER_SEC,
                        MB_PANEL_HISTORY_SECONDS);
    cairo_surface_flush(surface);
    n = g_list_model_get_n_items(G_LIST_MODEL(model));
    for (guint i = 0; i < n; i++) {
        g_autoptr(MbPanelVm) vm = g_list_model_get_item(G_LIST_MODEL(model), i);
        double rgb[3];
        guint32 want;
        guint found = 0;
        const guint8 *pixels = cairo_image_surface_get_data(surface);
        int stride = cairo_image_surface_get_stride(surface);

        mb_panel_color_rgb(mb_panel_vm_get_color(vm), rgb);
        want = ((guint32)(rgb[0] * 255 + 0.5) << 16) | ((guint32)(rgb[1] * 255 + 0.5) << 8) |
               (guint32)(rgb[2] * 255 + 0.5);
        for (int y = 0; y < 360; y++)
            for (int x = 0; x < 960; x++) {
                guint32 px = *(const guint32 *)(const void *)(pixels + y * stride + x * 4);
                found += (px & 0xffffff) == want;
            }
        g_test_message("%s: %u pixels of its colour", mb_panel_vm_get_name(vm), found);
        /* tv-video and tv-web may draw over each other (same size). */
        if (found > 50)
            n_lines++;
    }
    g_assert_cmpuint(n_lines, >=, 2);
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
}

static void
test_format(void)
{
    g_autofree char *a = mb_panel_format_kib(384 * 1024);
    g_autofree char *b = mb_panel_format_kib(1536 * 1024);
    g_autofree char *c = mb_panel_format_kib(0);

    g_assert_cmpstr(a, ==, "384 MiB");
    g_assert_cmpstr(b, ==, "1.5 GiB");
    g_assert_cmpstr(c, ==, "0 MiB");
}

/* The demand's sign is the direction of the change; what rounds to 0 MiB
 * has none (a screenshot showed "−0 MiB"). */
static void
test_format_demand(void)
{
    static const struct {
        gint64 kib;
        const char *text;
    } cases[] = {
        {0, "0 MiB"},
        {1, "0 MiB"},
        {-1, "0 MiB"},
        {511, "0 MiB"},
        {-511, "0 MiB"},
        {512, "+1 MiB"},
        {-512, "−1 MiB"},
        {-384 * 1024, "−384 MiB"},
        {384 * 1024, "+384 MiB"},
        {1536 * 1024, "+1.5 GiB"},
        {-1536 * 1024, "−1.5 GiB"},
        {G_MININT64, "−8796093022208.0 GiB"},
        {G_MAXINT64, "+8796093022208.0 GiB"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = mb_panel_format_demand_kib(cases[i].kib);

        g_test_message("%" G_GINT64_FORMAT " KiB -> %s", cases[i].kib, text);
        g_assert_cmpstr(text, ==, cases[i].text);
    }
}

int
main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc == 4 && g_str_equal(argv[1], "--as-viewer"))
        return run_as_viewer(argv[2], argv[3]);
    g_setenv("LC_ALL", "C.UTF-8", TRUE);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/panel/model/format", test_format);
    g_test_add_func("/panel/model/format-demand", test_format_demand);
    g_test_add("/panel/model/rows-appear", Fixture, NULL, fixture_setup, test_rows_appear,
               fixture_teardown);
    g_test_add("/panel/model/rows-update", Fixture, NULL, fixture_setup, test_rows_update,
               fixture_teardown);
    g_test_add("/panel/model/swapping", Fixture, NULL, fixture_setup, test_swapping,
               fixture_teardown);
    g_test_add("/panel/model/vanish-and-restart", Fixture, NULL, fixture_setup,
               test_rows_vanish_and_service_restart, fixture_teardown);
    g_test_add("/panel/model/calls", Fixture, NULL, fixture_setup, test_calls,
               fixture_teardown);
    g_test_add("/panel/model/access-denied", Fixture, NULL, fixture_setup, test_access_denied,
               fixture_teardown);
    g_test_add("/panel/model/chart", Fixture, NULL, fixture_setup, test_chart,
               fixture_teardown);
    g_test_add_func("/panel/model/no-auto-start", test_no_auto_start);
    return g_test_run();
}
