/* The daemon library in-process (what main.c drives), on a private bus:
 * the structured rebalance log line and its fields, pause, shutdown with
 * calls in flight. */
#include <string.h>

#include "mb-config.h"
#include "mb-daemon.h"
#include "mb-error.h"
#include "mb-log.h"
#include "mb-test-bus.h"
#include "mb-vm-object.h"

typedef struct {
    GPtrArray *vms;      /* MB_VM values of rebalance lines */
    GPtrArray *moves;    /* MB_MOVE_KIB values */
    GPtrArray *reasons;  /* MB_REASON values */
    GPtrArray *messages; /* MESSAGE of rebalance lines */
    GPtrArray *ids;      /* their MESSAGE_ID */
} Captured;

static Captured captured;

static GLogWriterOutput
capture_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
               gpointer user_data)
{
    const char *message = NULL;
    gboolean is_rebalance = FALSE;

    for (gsize i = 0; i < n_fields; i++) {
        if (g_str_equal(fields[i].key, "MESSAGE")) {
            message = fields[i].value;
            is_rebalance = g_str_has_prefix(message, "rebalanced:");
        }
    }
    if (is_rebalance) {
        g_ptr_array_add(captured.messages, g_strdup(message));
        for (gsize i = 0; i < n_fields; i++) {
            GPtrArray *into = g_str_equal(fields[i].key, "MB_VM")         ? captured.vms
                              : g_str_equal(fields[i].key, "MB_MOVE_KIB") ? captured.moves
                              : g_str_equal(fields[i].key, "MB_REASON")   ? captured.reasons
                              : g_str_equal(fields[i].key, "MESSAGE_ID")  ? captured.ids
                                                                          : NULL;
            if (into != NULL)
                g_ptr_array_add(into, g_strdup(fields[i].value));
        }
        return G_LOG_WRITER_HANDLED;
    }
    if (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO | G_LOG_LEVEL_MESSAGE))
        return G_LOG_WRITER_HANDLED;
    return g_log_writer_default(level, fields, n_fields, user_data);
}

typedef struct {
    MbDaemon *daemon;
    gboolean done;
    char *path;
    GError *error;
    const char *name;
} Result;

static void
on_registered(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Result *r = user_data;

    if (mb_engine_register_vm_finish(MB_ENGINE(source), result, &r->error))
        r->path = mb_vm_object_path_for_name(r->name);
    r->done = TRUE;
}

static void
register_sync(MbDaemon *daemon, const char *name, guint priority)
{
    MbRegisterOptions options = {0};
    Result r = {daemon, FALSE, NULL, NULL, name};

    mb_engine_register_vm_async(mb_daemon_get_engine(daemon), name, priority, &options,
                                on_registered, &r);
    g_assert_true(mb_test_wait_for(mb_test_flag_is_set, &r.done, 10000));
    g_assert_no_error(r.error);
    g_assert_nonnull(r.path);
    g_free(r.path);
}

static gboolean
logged_rebalance(gpointer data)
{
    return captured.messages->len > 0;
}

static MbDaemon *
start_daemon(MbTestBus *bus, GDBusConnection **out_connection, const char *state_dir,
             guint interval_ms)
{
    g_autoptr(GError) error = NULL;
    MbConfig *config = mb_config_new();
    MbDaemon *daemon;

    g_free(config->backend);
    config->backend = g_strdup("fake");
    g_free(config->state_dir);
    config->state_dir = g_strdup(state_dir);
    config->interval_ms = interval_ms;
    mb_config_add_backend_key(config, MB_CONFIG_FAKE_GROUP, "tv-game", "game", "test: [fake]");
    mb_config_add_backend_key(config, MB_CONFIG_FAKE_GROUP, "tv-video", "video-playback",
                              "test: [fake]");
    daemon = mb_daemon_new(config, &error);
    g_assert_no_error(error);
    *out_connection = g_dbus_connection_new_for_address_sync(
        bus->address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(mb_daemon_start(daemon, *out_connection, &error));
    g_assert_no_error(error);
    return daemon;
}

static void
test_rebalance_log(void)
{
    g_autoptr(MbTestBus) bus = mb_test_bus_new();
    g_autofree char *state_dir = g_build_filename(bus->dir, "state", NULL);
    g_autoptr(GDBusConnection) connection = NULL;
    g_autoptr(MbDaemon) daemon = start_daemon(bus, &connection, state_dir, 20);
    gint64 sum = 0;

    /* Paused: the timer ticks read statistics and move nothing. */
    g_assert_true(mb_engine_set_paused(mb_daemon_get_engine(daemon), TRUE, NULL));
    register_sync(daemon, "tv-game", 80);
    register_sync(daemon, "tv-video", 50);
    g_assert_cmpuint(mb_engine_get_n_vms(mb_daemon_get_engine(daemon)), ==, 2);
    g_assert_false(mb_test_wait_for(logged_rebalance, NULL, 1000));

    /* Resumed: the game's loading shows as demand and memory moves to it. */
    g_assert_true(mb_engine_set_paused(mb_daemon_get_engine(daemon), FALSE, NULL));
    g_assert_true(mb_test_wait_for(logged_rebalance, NULL, 20000));
    g_test_message("%s", (char *)g_ptr_array_index(captured.messages, 0));
    /* One line per rebalance; per VM, its name, change and reason. */
    g_assert_cmpuint(captured.vms->len, ==, captured.moves->len);
    g_assert_cmpuint(captured.vms->len, ==, captured.reasons->len);
    g_assert_cmpuint(captured.vms->len, >=, 2);
    for (guint i = 0; i < captured.vms->len; i++) {
        const char *vm = g_ptr_array_index(captured.vms, i);
        const char *reason = g_ptr_array_index(captured.reasons, i);
        gint64 kib = g_ascii_strtoll(g_ptr_array_index(captured.moves, i), NULL, 10);

        g_assert_true(g_str_equal(vm, "tv-game") || g_str_equal(vm, "tv-video"));
        g_assert_cmpint(kib, !=, 0);
        if (g_str_equal(vm, "tv-game")) {
            g_assert_cmpint(kib, >, 0);
            g_assert_cmpstr(reason, ==, "need");
        }
        sum += kib;
    }
    g_assert_cmpint(sum, <=, 0);
    g_assert_nonnull(strstr(g_ptr_array_index(captured.messages, 0), "tv-game +"));
    /* One MESSAGE_ID per rebalance record, the catalog's. */
    g_assert_cmpuint(captured.ids->len, ==, captured.messages->len);
    g_assert_cmpstr(g_ptr_array_index(captured.ids, 0), ==, MB_MESSAGE_ID_REBALANCED);

    mb_daemon_stop(daemon);
}

/* Stopping with a Rebalance() and a registration in flight completes
 * both before the daemon goes away (no leak, no use after free). */
/* A daemon with "a" registered, then a Rebalance() and the registration
 * of "b" in flight. */
static MbDaemon *
start_busy(MbTestBus *bus, GDBusConnection **connection, const char *state_dir, Result *r,
           gboolean *rebalanced)
{
    MbDaemon *daemon = start_daemon(bus, connection, state_dir, 3600000);
    MbRegisterOptions options = {0};

    *r = (Result){daemon, FALSE, NULL, NULL, "b"};
    register_sync(daemon, "a", 1);
    mb_engine_rebalance(mb_daemon_get_engine(daemon), mb_test_set_flag, rebalanced);
    mb_engine_register_vm_async(mb_daemon_get_engine(daemon), "b", 2, &options, on_registered,
                                r);
    return daemon;
}

static void
test_stop_in_flight(void)
{
    g_autoptr(MbTestBus) bus = mb_test_bus_new();
    g_autofree char *state_dir = g_build_filename(bus->dir, "state", NULL);
    g_autoptr(GDBusConnection) connection = NULL;
    Result r;
    gboolean rebalanced = FALSE;
    MbDaemon *daemon = start_busy(bus, &connection, state_dir, &r, &rebalanced);

    mb_daemon_free(daemon);
    g_assert_true(rebalanced);
    g_assert_true(r.done);
    g_clear_error(&r.error);
    g_free(r.path);
}

/* The last reference dropped with work in flight and no stop: dispose
 * does not wait (it never iterates the main context); the workers hold
 * the engine, and once the main context runs again the registration's
 * callback runs and the Rebalance caller is completed. */
static void
test_unref_in_flight(void)
{
    g_autoptr(MbTestBus) bus = mb_test_bus_new();
    g_autofree char *state_dir = g_build_filename(bus->dir, "state", NULL);
    g_autoptr(GDBusConnection) connection = NULL;
    Result r;
    gboolean rebalanced = FALSE;
    MbDaemon *daemon = start_busy(bus, &connection, state_dir, &r, &rebalanced);
    gpointer engine = mb_daemon_get_engine(daemon);

    g_object_add_weak_pointer(engine, &engine);
    g_object_unref(daemon);
    /* Nothing ran inside dispose: both workers are still out. */
    g_assert_false(r.done);
    g_assert_nonnull(engine);
    g_assert_true(mb_test_wait_for(mb_test_flag_is_set, &r.done, 10000));
    g_assert_true(mb_test_wait_for(mb_test_flag_is_set, &rebalanced, 10000));
    g_assert_error(r.error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
    g_assert_null(r.path);
    /* The engine went with its last worker. */
    while (engine != NULL && g_main_context_iteration(NULL, FALSE))
        ;
    g_assert_null(engine);
    g_clear_error(&r.error);
}

typedef struct {
    MbDaemon *daemon;
    gboolean ran;
    gboolean stopping;
    gboolean done_at_once; /* the waiter ran inside mb_engine_rebalance(): no tick */
    gboolean done;
    GError *set_error;
} LateCall;

static void
late_done(gpointer data)
{
    ((LateCall *)data)->done = TRUE;
}

/* Runs from the stop's drain loop, as a D-Bus call that was past
 * authorization when stop began would. */
static gboolean
late_call(gpointer data)
{
    LateCall *c = data;

    c->ran = TRUE;
    c->stopping = mb_daemon_is_stopping(c->daemon);
    mb_engine_rebalance(mb_daemon_get_engine(c->daemon), late_done, c);
    c->done_at_once = c->done;
    mb_engine_set_priority(mb_daemon_get_engine(c->daemon), "a", 7, &c->set_error);
    return G_SOURCE_REMOVE;
}

/* Once stop has begun: a registration waiting on the hypervisor is
 * refused (Unavailable) rather than added, a Rebalance starts no tick,
 * and every other operation fails; the state file keeps what it had. */
static void
test_stop_refuses_late_work(void)
{
    g_autoptr(MbTestBus) bus = mb_test_bus_new();
    g_autofree char *state_dir = g_build_filename(bus->dir, "state", NULL);
    g_autofree char *state_file = g_build_filename(state_dir, "registrations.ini", NULL);
    g_autoptr(GDBusConnection) connection = NULL;
    g_autofree char *before = NULL, *after = NULL;
    MbDaemon *daemon = start_daemon(bus, &connection, state_dir, 3600000);
    MbRegisterOptions options = {0};
    Result r = {daemon, FALSE, NULL, NULL, "b"};
    LateCall late = {daemon, FALSE, FALSE, FALSE, FALSE, NULL};

    register_sync(daemon, "a", 1);
    g_assert_true(g_file_get_contents(state_file, &before, NULL, NULL));
    mb_engine_register_vm_async(mb_daemon_get_engine(daemon), "b", 2, &options, on_registered,
                                &r);
    g_idle_add_full(G_PRIORITY_HIGH, late_call, &late, NULL);
    mb_daemon_stop(daemon);
    g_assert_true(r.done);
    g_assert_error(r.error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
    g_assert_null(r.path);
    g_assert_true(late.ran);
    g_assert_true(late.stopping);
    g_assert_true(late.done_at_once);
    g_assert_error(late.set_error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
    g_assert_cmpuint(mb_engine_get_n_vms(mb_daemon_get_engine(daemon)), ==, 1);
    g_assert_true(g_file_get_contents(state_file, &after, NULL, NULL));
    g_assert_cmpstr(before, ==, after);
    mb_daemon_free(daemon);
    g_clear_error(&r.error);
    g_clear_error(&late.set_error);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    (void)mb_service_error_quark();
    captured.vms = g_ptr_array_new_with_free_func(g_free);
    captured.moves = g_ptr_array_new_with_free_func(g_free);
    captured.reasons = g_ptr_array_new_with_free_func(g_free);
    captured.messages = g_ptr_array_new_with_free_func(g_free);
    captured.ids = g_ptr_array_new_with_free_func(g_free);
    g_log_set_writer_func(capture_writer, NULL, NULL);
    g_test_add_func("/service/daemon/rebalance-log", test_rebalance_log);
    g_test_add_func("/service/daemon/stop-in-flight", test_stop_in_flight);
    g_test_add_func("/service/daemon/stop-refuses-late-work", test_stop_refuses_late_work);
    g_test_add_func("/service/daemon/unref-in-flight", test_unref_in_flight);
    int status = g_test_run();
    g_ptr_array_unref(captured.vms);
    g_ptr_array_unref(captured.moves);
    g_ptr_array_unref(captured.reasons);
    g_ptr_array_unref(captured.messages);
    g_ptr_array_unref(captured.ids);
    return status;
}
