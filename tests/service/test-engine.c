/* The engine alone, with no bus: the fake backend, a state directory of
 * its own, and what the engine tells through its signals and properties
 * (register, unregister, priority, foreground, pause, rebalance, stop,
 * restore). */
#include <glib/gstdio.h>
#include <string.h>

#include "mb-engine.h"
#include "mb-error.h"

#define MIB G_GUINT64_CONSTANT(1024)

typedef struct {
    char *dir;
    MbEngine *engine;
    GPtrArray *added;   /* names, in the order of vm-added */
    GPtrArray *removed; /* names, in the order of vm-removed */
    guint n_rebalanced;
    gint64 moved_sum_kib; /* the sum of every move of every "rebalanced" */
    guint n_moves;
    guint n_paused_notify;
    guint n_changed;              /* "changed" of the VMs test_rebalance watches */
    guint n_changed_at_rebalance; /* n_changed when "rebalanced" came */
} Fixture;

typedef struct {
    gboolean done;
    gboolean ok;
    GError *error;
} Result;

/* Iterates the default context until *flag or timeout_ms passed. */
static gboolean
wait_for_flag(const gboolean *flag, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (!*flag && g_get_monotonic_time() < deadline) {
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
    }
    return *flag;
}

static void
set_flag(gpointer flag)
{
    *(gboolean *)flag = TRUE;
}

static void
on_vm_added(MbEngine *engine, MbEngineVm *vm, Fixture *f)
{
    g_ptr_array_add(f->added, g_strdup(mb_engine_vm_get_name(vm)));
}

static void
on_vm_removed(MbEngine *engine, MbEngineVm *vm, Fixture *f)
{
    g_ptr_array_add(f->removed, g_strdup(mb_engine_vm_get_name(vm)));
}

static void
on_rebalanced(MbEngine *engine, GVariant *moves, Fixture *f)
{
    GVariantIter iter;
    const char *name;
    gint64 kib;

    g_assert_true(g_variant_is_of_type(moves, G_VARIANT_TYPE("a(sx)")));
    f->n_rebalanced++;
    f->n_changed_at_rebalance = f->n_changed;
    g_variant_iter_init(&iter, moves);
    while (g_variant_iter_next(&iter, "(&sx)", &name, &kib)) {
        g_assert_true(mb_engine_is_registered(engine, name));
        g_assert_cmpint(kib, !=, 0);
        f->moved_sum_kib += kib;
        f->n_moves++;
    }
}

static void
on_paused(MbEngine *engine, GParamSpec *pspec, Fixture *f)
{
    f->n_paused_notify++;
}

static MbEngine *
engine_new(Fixture *f)
{
    g_autoptr(GError) error = NULL;
    MbConfig *config = mb_config_new();
    MbEngine *engine;

    g_free(config->backend);
    config->backend = g_strdup("fake");
    g_free(config->state_dir);
    config->state_dir = g_strdup(f->dir);
    /* No timer tick during a test: only the ticks a test asks for. */
    config->interval_ms = 3600000;
    mb_config_add_backend_key(config, MB_CONFIG_FAKE_GROUP, "tv-game", "game", "test: [fake]");
    mb_config_add_backend_key(config, MB_CONFIG_FAKE_GROUP, "tv-video", "video-playback",
                              "test: [fake]");
    engine = mb_engine_new(config, &error);
    g_assert_no_error(error);
    g_assert_nonnull(engine);
    g_signal_connect(engine, "vm-added", G_CALLBACK(on_vm_added), f);
    g_signal_connect(engine, "vm-removed", G_CALLBACK(on_vm_removed), f);
    g_signal_connect(engine, "rebalanced", G_CALLBACK(on_rebalanced), f);
    g_signal_connect(engine, "notify::paused", G_CALLBACK(on_paused), f);
    mb_engine_start(engine);
    return engine;
}

static void
engine_free(MbEngine *engine)
{
    mb_engine_stop(engine);
    g_object_unref(engine);
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->dir = g_dir_make_tmp("mb-test-engine-XXXXXX", &error);
    g_assert_no_error(error);
    g_assert_cmpint(g_chmod(f->dir, 0700), ==, 0);
    f->added = g_ptr_array_new_with_free_func(g_free);
    f->removed = g_ptr_array_new_with_free_func(g_free);
    f->engine = engine_new(f);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
    g_autofree char *file = g_build_filename(f->dir, "registrations.ini", NULL);

    g_clear_pointer(&f->engine, engine_free);
    g_remove(file);
    g_rmdir(f->dir);
    g_free(f->dir);
    g_ptr_array_unref(f->added);
    g_ptr_array_unref(f->removed);
}

static void
on_registered(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Result *r = user_data;

    r->ok = mb_engine_register_vm_finish(MB_ENGINE(source), result, &r->error);
    r->done = TRUE;
}

static gboolean
register_vm(Fixture *f, const char *name, guint priority, GError **error)
{
    MbRegisterOptions options = {0};
    Result r = {0};

    mb_engine_register_vm_async(f->engine, name, priority, &options, on_registered, &r);
    g_assert_true(wait_for_flag(&r.done, 10000));
    if (r.error != NULL)
        g_propagate_error(error, r.error);
    return r.ok;
}

static char *
read_state(Fixture *f)
{
    g_autofree char *file = g_build_filename(f->dir, "registrations.ini", NULL);
    char *text = NULL;

    g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
    return text;
}

static const MbVm *
vm_of(Fixture *f, const char *name)
{
    g_autoptr(GError) error = NULL;
    MbEngineVm *vm = mb_engine_lookup_vm(f->engine, name, &error);

    g_assert_no_error(error);
    return mb_engine_vm_get_vm(vm);
}

static void
test_register(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *state = NULL;

    g_assert_true(register_vm(f, "tv-game", 80, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(f->added->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(f->added, 0), ==, "tv-game");
    g_assert_cmpuint(mb_engine_get_n_vms(f->engine), ==, 1);
    g_assert_true(mb_engine_is_registered(f->engine, "tv-game"));
    g_assert_cmpuint(vm_of(f, "tv-game")->settings.priority, ==, 80);
    /* Auto pool with the fake: what the VMs hold. */
    g_assert_cmpuint(mb_engine_get_pool_kib(f->engine), >, 0);
    state = read_state(f);
    g_assert_nonnull(strstr(state, "name=tv-game"));

    /* Twice, or out of range: refused, nothing added. */
    g_assert_false(register_vm(f, "tv-game", 80, &error));
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_ALREADY_REGISTERED);
    g_clear_error(&error);
    g_assert_false(register_vm(f, "tv-video", 1000, &error));
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS);
    g_assert_cmpuint(f->added->len, ==, 1);
    g_assert_cmpuint(mb_engine_get_n_vms(f->engine), ==, 1);
}

static void
test_unregister(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *state = NULL;

    g_assert_true(register_vm(f, "tv-game", 80, NULL));
    g_assert_true(register_vm(f, "tv-video", 50, NULL));
    g_assert_true(mb_engine_unregister_vm(f->engine, "tv-game", &error));
    g_assert_no_error(error);
    g_assert_cmpuint(f->removed->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(f->removed, 0), ==, "tv-game");
    g_assert_cmpuint(mb_engine_get_n_vms(f->engine), ==, 1);
    g_assert_false(mb_engine_is_registered(f->engine, "tv-game"));
    state = read_state(f);
    g_assert_null(strstr(state, "name=tv-game"));
    g_assert_nonnull(strstr(state, "name=tv-video"));

    g_assert_false(mb_engine_unregister_vm(f->engine, "tv-game", &error));
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_NO_SUCH_VM);
    g_assert_cmpuint(f->removed->len, ==, 1);
}

static void
test_priority(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gboolean changed = FALSE;
    MbEngineVm *vm;

    g_assert_true(register_vm(f, "tv-game", 80, NULL));
    vm = mb_engine_lookup_vm(f->engine, "tv-game", NULL);
    g_signal_connect_swapped(vm, "changed", G_CALLBACK(set_flag), &changed);
    g_assert_true(mb_engine_set_priority(f->engine, "tv-game", 7, &error));
    g_assert_no_error(error);
    g_assert_true(changed);
    g_assert_cmpuint(vm_of(f, "tv-game")->settings.priority, ==, 7);

    g_assert_false(mb_engine_set_priority(f->engine, "tv-game", 1000, &error));
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS);
    g_clear_error(&error);
    g_assert_false(mb_engine_set_priority(f->engine, "nobody", 1, &error));
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_NO_SUCH_VM);
    g_assert_cmpuint(vm_of(f, "tv-game")->settings.priority, ==, 7);
}

static void
test_foreground(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(register_vm(f, "tv-game", 80, NULL));
    g_assert_true(register_vm(f, "tv-video", 50, NULL));
    g_assert_true(mb_engine_set_foreground(f->engine, "tv-video", &error));
    g_assert_no_error(error);
    g_assert_true(vm_of(f, "tv-video")->settings.foreground);
    g_assert_false(vm_of(f, "tv-game")->settings.foreground);
    /* One foreground VM at a time. */
    g_assert_true(mb_engine_set_foreground(f->engine, "tv-game", NULL));
    g_assert_false(vm_of(f, "tv-video")->settings.foreground);
    g_assert_true(vm_of(f, "tv-game")->settings.foreground);
    g_assert_true(mb_engine_clear_foreground(f->engine, &error));
    g_assert_false(vm_of(f, "tv-video")->settings.foreground);
    g_assert_false(vm_of(f, "tv-game")->settings.foreground);
}

static void
test_pause(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *state = NULL;
    gboolean paused = FALSE;

    g_assert_false(mb_engine_get_paused(f->engine));
    g_assert_true(mb_engine_set_paused(f->engine, TRUE, &error));
    g_assert_no_error(error);
    g_assert_true(mb_engine_get_paused(f->engine));
    g_object_get(f->engine, "paused", &paused, NULL);
    g_assert_true(paused);
    g_assert_cmpuint(f->n_paused_notify, ==, 1);
    /* The same again: stored, no change to tell. */
    g_assert_true(mb_engine_set_paused(f->engine, TRUE, NULL));
    g_assert_cmpuint(f->n_paused_notify, ==, 1);
    state = read_state(f);
    g_assert_nonnull(strstr(state, "paused=true"));
    g_assert_true(mb_engine_set_paused(f->engine, FALSE, NULL));
    g_assert_false(mb_engine_get_paused(f->engine));
    g_assert_cmpuint(f->n_paused_notify, ==, 2);
}

/* Forced ticks until memory moved (the game loads: demand shows after a
 * few samples); FALSE if it never did. */
static gboolean
rebalance_until_moved(Fixture *f, guint max_ticks)
{
    guint i;

    for (i = 0; i < max_ticks && f->n_rebalanced == 0; i++) {
        gboolean done = FALSE;

        f->n_changed = 0; /* counted per tick */
        mb_engine_rebalance(f->engine, set_flag, &done);
        g_assert_true(wait_for_flag(&done, 10000));
    }
    g_test_message("%u ticks, %u moves, sum %" G_GINT64_FORMAT " KiB", i, f->n_moves,
                   f->moved_sum_kib);
    return f->n_rebalanced > 0;
}

static void
count_changed(Fixture *f)
{
    f->n_changed++;
}

static void
test_rebalance(Fixture *f, gconstpointer data)
{
    guint64 pool_kib;
    GPtrArray *vms;

    g_assert_true(register_vm(f, "tv-game", 80, NULL));
    g_assert_true(register_vm(f, "tv-video", 50, NULL));
    pool_kib = mb_engine_get_pool_kib(f->engine);
    vms = mb_engine_get_vms(f->engine);
    for (guint i = 0; i < vms->len; i++)
        g_signal_connect_swapped(g_ptr_array_index(vms, i), "changed",
                                 G_CALLBACK(count_changed), f);

    /* Paused: Rebalance still runs a whole tick (it is forced). */
    g_assert_true(mb_engine_set_paused(f->engine, TRUE, NULL));
    g_assert_true(rebalance_until_moved(f, 200));
    g_assert_cmpuint(f->n_moves, >, 0);
    /* In the tick that moved, every VM told its new figures before
     * "rebalanced". */
    g_assert_cmpuint(f->n_changed_at_rebalance, >=, vms->len);
    /* Memory moved between the VMs; none came from nowhere. */
    g_assert_cmpint(f->moved_sum_kib, <=, 0);
    g_assert_cmpuint(mb_engine_get_pool_kib(f->engine), <=, pool_kib);
    g_assert_true(mb_engine_get_connected(f->engine));
}

static void
test_stop(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    MbRegisterOptions options = {0};
    Result r = {0};
    gboolean rebalanced = FALSE, late = FALSE;

    g_assert_true(register_vm(f, "tv-game", 80, NULL));
    /* In flight when stop begins: both complete within stop. */
    mb_engine_rebalance(f->engine, set_flag, &rebalanced);
    mb_engine_register_vm_async(f->engine, "tv-video", 50, &options, on_registered, &r);
    mb_engine_stop(f->engine);
    g_assert_true(mb_engine_is_stopping(f->engine));
    g_assert_true(rebalanced);
    g_assert_true(r.done);
    g_clear_error(&r.error);

    /* After: every operation refuses, a Rebalance completes at once. */
    mb_engine_rebalance(f->engine, set_flag, &late);
    g_assert_true(late);
    g_assert_false(mb_engine_set_priority(f->engine, "tv-game", 1, &error));
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
    g_clear_error(&error);
    g_assert_false(mb_engine_unregister_vm(f->engine, "tv-game", &error));
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
    g_clear_error(&error);
    g_assert_false(mb_engine_set_paused(f->engine, TRUE, &error));
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
    g_clear_error(&error);
    g_assert_false(register_vm(f, "other", 1, &error));
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
    g_assert_true(mb_engine_is_registered(f->engine, "tv-game"));
}

static void
test_restore(Fixture *f, gconstpointer data)
{
    static const char state[] = "[membalancer]\nversion=1\npaused=true\n"
                                "[vm 0]\nname=tv-game\npriority=80\nmin-kib=262144\n"
                                "max-kib=1048576\nforeground=true\n"
                                "[vm 1]\nname=tv-video\npriority=50\nmin-kib=131072\n"
                                "max-kib=524288\nforeground=false\n";
    g_autofree char *file = g_build_filename(f->dir, "registrations.ini", NULL);
    GPtrArray *vms;

    g_clear_pointer(&f->engine, engine_free);
    g_assert_true(g_file_set_contents(file, state, -1, NULL));
    f->engine = engine_new(f);

    g_assert_true(mb_engine_get_paused(f->engine));
    vms = mb_engine_get_vms(f->engine);
    g_assert_cmpuint(vms->len, ==, 2);
    /* In the file's order. */
    g_assert_cmpstr(mb_engine_vm_get_name(g_ptr_array_index(vms, 0)), ==, "tv-game");
    g_assert_cmpstr(mb_engine_vm_get_name(g_ptr_array_index(vms, 1)), ==, "tv-video");
    g_assert_cmpuint(vm_of(f, "tv-game")->settings.priority, ==, 80);
    g_assert_true(vm_of(f, "tv-game")->settings.foreground);
    g_assert_cmpuint(vm_of(f, "tv-game")->settings.min_kib, ==, 256 * MIB);
    g_assert_cmpuint(vm_of(f, "tv-video")->settings.priority, ==, 50);
    g_assert_false(vm_of(f, "tv-video")->settings.foreground);
    g_assert_cmpuint(vm_of(f, "tv-video")->settings.max_kib, <=, 512 * MIB);
    /* Restored before anyone could listen: no vm-added for them. */
    g_assert_cmpuint(f->added->len, ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    (void)mb_service_error_quark();
#define ADD(path, func)                                                                        \
    g_test_add("/engine/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
    ADD("register", test_register);
    ADD("unregister", test_unregister);
    ADD("priority", test_priority);
    ADD("foreground", test_foreground);
    ADD("pause", test_pause);
    ADD("rebalance", test_rebalance);
    ADD("stop", test_stop);
    ADD("restore", test_restore);
#undef ADD
    return g_test_run();
}
