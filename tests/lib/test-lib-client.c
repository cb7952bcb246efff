/* libmembalancer against the real membalancerd on a private bus: making a
 * client (system bus, address, connection; blocking and asynchronous),
 * the manager's properties, a service that is not running or goes away,
 * cancellation. */
#include <string.h>

#include "lib-test.h"

#include "mb-dbus-generated.h"
#include "mb-names.h"

static void
assert_manager_properties(MembalancerClient *client)
{
    g_autofree char *version = membalancer_client_dup_version(client);
    g_autofree char *backend = membalancer_client_dup_backend(client);
    g_autofree char *policy = membalancer_client_dup_policy(client);
    g_autofree char *prop_version = NULL;
    gdouble alpha = 0;
    guint vm_count = 99;
    gboolean running = FALSE;

    g_assert_true(membalancer_client_get_running(client));
    g_assert_cmpstr(version, ==, MB_TEST_VERSION);
    g_assert_cmpstr(backend, ==, "fake");
    g_assert_cmpstr(policy, ==, "balanced");
    g_assert_cmpuint(membalancer_client_get_interval_ms(client), ==, 100);
    g_assert_false(membalancer_client_get_paused(client));
    g_assert_true(membalancer_client_get_connected(client));
    g_assert_cmpuint(membalancer_client_get_pool_kib(client), >=,
                     membalancer_client_get_reserve_kib(client));
    g_object_get(client, "version", &prop_version, "alpha", &alpha, "vm-count", &vm_count,
                 "running", &running, NULL);
    g_assert_cmpstr(prop_version, ==, MB_TEST_VERSION);
    g_assert_cmpfloat(alpha, >, 0.0);
    g_assert_cmpfloat(membalancer_client_get_alpha(client), ==, alpha);
    g_assert_cmpuint(vm_count, ==, 0);
    g_assert_cmpuint(membalancer_client_get_vm_count(client), ==, vm_count);
    g_assert_true(running);
    g_assert_nonnull(membalancer_client_get_connection(client));
    g_assert_null(membalancer_client_get_vms(client));
}

/* A client made (error: what its constructor set), checked, returned. */
static MembalancerClient *
checked_client(MembalancerClient *client, GError *error)
{
    g_assert_no_error(error);
    assert_manager_properties(client);
    return client;
}

/* The client an asynchronous constructor gives into *result. */
static MembalancerClient *
async_client(GAsyncResult **result)
{
    GError *error = NULL;
    MembalancerClient *client = membalancer_client_new_finish(lib_wait_result(result), &error);

    g_clear_object(result);
    return checked_client(client, error);
}

static void
test_connect_address(LibFixture *f, gconstpointer data)
{
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(MembalancerClient) client = NULL;

    assert_manager_properties(f->client);
    membalancer_client_new_for_address(f->bus->address, NULL, lib_keep_result, &result);
    client = async_client(&result);
}

static void
test_connect_connection(LibFixture *f, gconstpointer data)
{
    g_autoptr(GAsyncResult) result = NULL;
    GError *error = NULL;
    g_autoptr(MembalancerClient) sync_client = NULL;
    g_autoptr(MembalancerClient) client = NULL;
    g_autoptr(GDBusConnection) connection = NULL;

    sync_client = checked_client(
        membalancer_client_new_for_connection_sync(f->bus->connection, NULL, &error), error);
    g_assert_true(membalancer_client_get_connection(sync_client) == f->bus->connection);
    membalancer_client_new_for_connection(f->bus->connection, NULL, lib_keep_result, &result);
    client = async_client(&result);
    g_object_get(client, "connection", &connection, NULL);
    g_assert_true(connection == f->bus->connection);
}

/* The default: the system bus (DBUS_SYSTEM_BUS_ADDRESS names the test bus). */
static void
test_connect_system(LibFixture *f, gconstpointer data)
{
    g_autoptr(GAsyncResult) result = NULL;
    GError *error = NULL;
    g_autoptr(MembalancerClient) sync_client = NULL;
    g_autoptr(MembalancerClient) client = NULL;
    g_autofree char *address = NULL;

    g_setenv("DBUS_SYSTEM_BUS_ADDRESS", f->bus->address, TRUE);
    sync_client = checked_client(membalancer_client_new_sync(NULL, &error), error);
    g_object_get(sync_client, "address", &address, NULL);
    g_assert_null(address);
    membalancer_client_new(NULL, lib_keep_result, &result);
    client = async_client(&result);
    g_clear_object(&sync_client);
    g_clear_object(&client);
    g_unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
}

/* A process with the service's generated proxies as well (the panel's
 * tests have both): the library's are types of its own, so both live
 * side by side and agree. */
static void
test_beside_service_proxies(LibFixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(MbMemBalancer) theirs = mb_mem_balancer_proxy_new_sync(
        f->bus->connection, G_DBUS_PROXY_FLAGS_NONE, MB_BUS_NAME, MB_OBJECT_PATH, NULL, &error);
    g_autoptr(MembalancerClient) client = NULL;
    g_autofree char *backend = NULL;

    g_assert_no_error(error);
    client = checked_client(
        membalancer_client_new_for_connection_sync(f->bus->connection, NULL, &error), error);
    backend = membalancer_client_dup_backend(client);
    g_assert_cmpstr(backend, ==, mb_mem_balancer_get_backend(theirs));
    g_assert_cmpstr(g_type_name(G_OBJECT_TYPE(theirs)), ==, "MbMemBalancerProxy");
}

static void
test_bad_address(LibFixture *f, gconstpointer data)
{
    g_autofree char *address = g_strdup_printf("unix:path=%s/no-bus", f->bus->dir);
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(MembalancerClient) client =
        membalancer_client_new_for_address_sync(address, NULL, &error);

    g_assert_null(client);
    g_assert_error(error, MEMBALANCER_ERROR, MEMBALANCER_ERROR_NOT_RUNNING);
    g_assert_nonnull(strstr(error->message, address));
    g_clear_error(&error);
    membalancer_client_new_for_address(address, NULL, lib_keep_result, &result);
    client = membalancer_client_new_finish(lib_wait_result(&result), &error);
    g_assert_null(client);
    g_assert_error(error, MEMBALANCER_ERROR, MEMBALANCER_ERROR_NOT_RUNNING);
}

static gboolean
client_running(gpointer client)
{
    return membalancer_client_get_running(client);
}

static gboolean
client_not_running(gpointer client)
{
    return !membalancer_client_get_running(client);
}

static void
assert_not_running(GError *error)
{
    g_assert_error(error, MEMBALANCER_ERROR, MEMBALANCER_ERROR_NOT_RUNNING);
    g_assert_nonnull(strstr(error->message, "not running"));
    g_assert_null(strstr(error->message, "GDBus.Error"));
}

/* A notify::running handler: counts in *(guint *)user_data the times the
 * client said running without the service's properties. */
static void
on_running_check_loaded(MembalancerClient *client, GParamSpec *pspec, gpointer user_data)
{
    g_autofree char *backend = membalancer_client_dup_backend(client);

    if (membalancer_client_get_running(client) &&
        (backend == NULL || membalancer_client_get_interval_ms(client) == 0))
        (*(guint *)user_data)++;
}

/* No service on the bus: the client is made, says so, and every call
 * fails with NOT_RUNNING; when the service comes, the client follows it;
 * when it goes, its VMs go too. */
static void
test_not_running(LibFixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(MembalancerVm) vm = NULL;
    guint running_changes = 0, removed = 0, added = 0, running_unloaded = 0;

    g_assert_false(membalancer_client_get_running(f->client));
    g_assert_null(membalancer_client_register_vm_sync(f->client, "tv-game", 50, 0, 0, FALSE,
                                                      NULL, &error));
    assert_not_running(error);
    g_clear_error(&error);
    g_assert_false(membalancer_client_rebalance_sync(f->client, NULL, &error));
    assert_not_running(error);
    g_clear_error(&error);
    g_assert_false(membalancer_client_pause_sync(f->client, NULL, &error));
    assert_not_running(error);
    g_clear_error(&error);
    g_assert_false(membalancer_client_resume_sync(f->client, NULL, &error));
    assert_not_running(error);
    g_clear_error(&error);
    g_assert_false(membalancer_client_set_priority_sync(f->client, "tv-game", 5, NULL, &error));
    assert_not_running(error);
    g_clear_error(&error);
    g_assert_false(membalancer_client_set_foreground_sync(f->client, "tv-game", NULL, &error));
    assert_not_running(error);
    g_clear_error(&error);
    g_assert_false(membalancer_client_unregister_vm_sync(f->client, "tv-game", NULL, &error));
    assert_not_running(error);
    g_clear_error(&error);
    membalancer_client_unregister_vm(f->client, "tv-game", NULL, lib_keep_result, &result);
    g_assert_false(
        membalancer_client_unregister_vm_finish(f->client, lib_wait_result(&result), &error));
    assert_not_running(error);
    g_clear_error(&error);
    g_clear_object(&result);
    membalancer_client_register_vm(f->client, "tv-game", 50, 0, 0, FALSE, NULL, lib_keep_result,
                                   &result);
    g_assert_null(
        membalancer_client_register_vm_finish(f->client, lib_wait_result(&result), &error));
    assert_not_running(error);
    g_clear_error(&error);

    g_signal_connect(f->client, "notify::running", G_CALLBACK(lib_count), &running_changes);
    g_signal_connect(f->client, "notify::running", G_CALLBACK(on_running_check_loaded),
                     &running_unloaded);
    g_signal_connect(f->client, "vm-added", G_CALLBACK(lib_count), &added);
    g_signal_connect(f->client, "vm-removed", G_CALLBACK(lib_count), &removed);
    lib_fixture_spawn(f, lib_fast_args);
    g_assert_true(mb_test_wait_for(client_running, f->client, 10000));
    g_assert_cmpuint(running_changes, >=, 1);
    /* running means loaded: never without the service's properties. */
    g_assert_cmpuint(running_unloaded, ==, 0);
    vm = membalancer_client_register_vm_sync(f->client, "tv-game", 50, 0, 0, FALSE, NULL,
                                             &error);
    g_assert_no_error(error);
    g_assert_cmpuint(added, ==, 1);

    lib_fixture_stop(f);
    g_assert_true(lib_wait_count(&removed, 1));
    g_assert_true(mb_test_wait_for(client_not_running, f->client, 10000));
    g_assert_cmpuint(running_changes, >=, 2);
    g_assert_null(membalancer_client_get_vms(f->client));
    /* It comes back with its stored registration. */
    lib_fixture_spawn(f, lib_fast_args);
    g_assert_true(lib_wait_count(&added, 2));
    g_clear_object(&vm);
    vm = membalancer_client_lookup_vm(f->client, "tv-game");
    g_assert_nonnull(vm);
    g_assert_cmpuint(membalancer_vm_get_priority(vm), ==, 50);
    g_assert_cmpuint(running_unloaded, ==, 0);
    g_signal_handlers_disconnect_by_data(f->client, &running_changes);
    g_signal_handlers_disconnect_by_data(f->client, &running_unloaded);
    g_signal_handlers_disconnect_by_data(f->client, &added);
    g_signal_handlers_disconnect_by_data(f->client, &removed);
}

static gboolean
file_exists(gpointer path)
{
    return g_file_test(path, G_FILE_TEST_EXISTS);
}

static MembalancerClient *
client_no_auto_start(LibFixture *f, GAsyncResult **result)
{
    GError *error = NULL;
    GObject *client;

    if (result == NULL) {
        client = g_initable_new(MEMBALANCER_TYPE_CLIENT, NULL, &error, "connection",
                                f->bus->connection, "auto-start", FALSE, NULL);
    } else {
        g_async_initable_new_async(MEMBALANCER_TYPE_CLIENT, G_PRIORITY_DEFAULT, NULL,
                                   lib_keep_result, result, "connection", f->bus->connection,
                                   "auto-start", FALSE, NULL);
        client = G_OBJECT(membalancer_client_new_finish(lib_wait_result(result), &error));
        g_clear_object(result);
    }
    g_assert_no_error(error);
    g_assert_false(membalancer_client_get_auto_start(MEMBALANCER_CLIENT(client)));
    return MEMBALANCER_CLIENT(client);
}

/* A bus that can activate the service (its "service" only leaves a
 * mark): a client with auto-start FALSE, blocking or not, does not start
 * it, nor do its calls; it follows the service when the service comes. A
 * client that may auto-start leaves the mark (the test's control). */
static void
test_no_auto_start(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-lib-activation-XXXXXX");
    g_autofree char *mark = g_build_filename(dir, "activated", NULL);
    g_autofree char *service = g_strdup_printf(
        "[D-BUS Service]\nName=%s\nExec=/usr/bin/touch %s\n", MB_BUS_NAME, mark);
    g_autofree char *conf =
        g_strdup_printf("<busconfig><servicedir>%s</servicedir></busconfig>\n", dir);
    g_autofree char *conf_path = mb_test_write_file(dir, "activation.conf", conf);
    LibFixture f = {NULL};
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(MembalancerClient) sync_client = NULL;
    g_autoptr(MembalancerClient) client = NULL;
    g_autoptr(MembalancerClient) starter = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    g_autoptr(MembalancerVm) vm = NULL;
    g_autoptr(GError) error = NULL;
    gboolean auto_start = TRUE;

    g_free(mb_test_write_file(dir, MB_BUS_NAME ".service", service));
    f.bus = mb_test_bus_new_with_include(conf_path);
    f.state_dir = g_build_filename(f.bus->dir, "state", NULL);
    sync_client = client_no_auto_start(&f, NULL);
    client = client_no_auto_start(&f, &result);
    g_object_get(client, "auto-start", &auto_start, NULL);
    g_assert_false(auto_start);
    g_assert_false(membalancer_client_get_running(client));
    g_assert_false(membalancer_client_set_priority_sync(client, "tv-game", 5, NULL, &error));
    assert_not_running(error);
    g_clear_error(&error);
    membalancer_client_rebalance(client, NULL, lib_keep_result, &result);
    g_assert_false(
        membalancer_client_rebalance_finish(client, lib_wait_result(&result), &error));
    assert_not_running(error);
    g_clear_error(&error);
    g_clear_object(&result);
    g_assert_false(membalancer_client_pause_sync(sync_client, NULL, &error));
    assert_not_running(error);
    g_clear_error(&error);
    g_assert_null(membalancer_client_register_vm_sync(sync_client, "tv-game", 50, 0, 0, FALSE,
                                                      NULL, &error));
    assert_not_running(error);
    g_clear_error(&error);
    mb_test_run_for(500);
    g_assert_false(g_file_test(mark, G_FILE_TEST_EXISTS));

    /* The service comes: the client follows it and its calls reach it. */
    lib_fixture_spawn(&f, lib_fast_args);
    g_assert_true(mb_test_wait_for(client_running, client, 10000));
    assert_manager_properties(client);
    vm = membalancer_client_register_vm_sync(client, "tv-game", 50, 0, 0, FALSE, NULL, &error);
    g_assert_no_error(error);
    g_assert_nonnull(vm);
    lib_fixture_stop(&f);
    g_assert_true(mb_test_wait_for(client_not_running, client, 10000));
    g_assert_false(g_file_test(mark, G_FILE_TEST_EXISTS));

    /* The default client starts it (the bus runs the mark's program). */
    membalancer_client_new_for_connection(f.bus->connection, cancellable, lib_keep_result,
                                          &result);
    g_assert_true(mb_test_wait_for(file_exists, mark, 10000));
    /* The mark's program never takes the name: no need to wait for the
     * bus to give up. */
    g_cancellable_cancel(cancellable);
    starter = membalancer_client_new_finish(lib_wait_result(&result), &error);
    g_clear_error(&error);

    g_clear_object(&vm);
    g_clear_object(&client);
    g_clear_object(&sync_client);
    g_clear_object(&starter);
    lib_fixture_teardown(&f, NULL);
    mb_test_rm_rf(dir);
}

/* A cancelled call fails with G_IO_ERROR_CANCELLED and changes nothing. */
static void
test_cancel(LibFixture *f, gconstpointer data)
{
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(MembalancerClient) client = NULL;
    g_autoptr(MembalancerVm) vm = NULL;

    g_cancellable_cancel(cancellable);
    membalancer_client_register_vm(f->client, "tv-game", 50, 0, 0, FALSE, cancellable,
                                   lib_keep_result, &result);
    vm = membalancer_client_register_vm_finish(f->client, lib_wait_result(&result), &error);
    g_assert_null(vm);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error(&error);
    g_clear_object(&result);
    g_assert_false(
        membalancer_client_set_priority_sync(f->client, "tv-game", 10, cancellable, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error(&error);
    membalancer_client_rebalance(f->client, cancellable, lib_keep_result, &result);
    g_assert_false(
        membalancer_client_rebalance_finish(f->client, lib_wait_result(&result), &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error(&error);
    g_clear_object(&result);
    client = membalancer_client_new_for_address_sync(f->bus->address, cancellable, &error);
    g_assert_null(client);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error(&error);
    membalancer_client_new_for_address(f->bus->address, cancellable, lib_keep_result, &result);
    client = membalancer_client_new_finish(lib_wait_result(&result), &error);
    g_assert_null(client);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    /* Nothing was registered. */
    mb_test_run_for(300);
    g_assert_null(membalancer_client_get_vms(f->client));
}

/* A VM's properties follow the service: each interval's statistics
 * arrive as notify signals on the VM object. */
static void
test_vm_live(LibFixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(MembalancerVm) vm = membalancer_client_register_vm_sync(
        f->client, "tv-video", 40, 0, 0, FALSE, NULL, &error);
    guint updates = 0;
    guint64 first;

    g_assert_no_error(error);
    g_signal_connect(vm, "notify::last-update", G_CALLBACK(lib_count), &updates);
    g_assert_true(lib_wait_count(&updates, 2));
    first = membalancer_vm_get_last_update(vm);
    g_assert_cmpuint(first, >, 0);
    g_assert_true(lib_wait_count(&updates, 3));
    g_assert_cmpuint(membalancer_vm_get_last_update(vm), >, first);
    g_assert_cmpuint(membalancer_vm_get_allocated_kib(vm), >, 0);
    g_assert_cmpstr(membalancer_vm_get_stats_source(vm), !=, "none");
    g_assert_cmpstr(membalancer_vm_get_state(vm), ==, "running");
    g_assert_nonnull(membalancer_vm_get_last_reason(vm));
    g_assert_cmpuint(membalancer_vm_get_active_anon_kib(vm) + membalancer_vm_get_free_kib(vm) +
                         membalancer_vm_get_active_file_kib(vm) +
                         membalancer_vm_get_inactive_file_kib(vm),
                     >, 0);
    g_assert_cmpuint(membalancer_vm_get_reclaimable_kib(vm), <=,
                     membalancer_vm_get_allocated_kib(vm));
    (void)membalancer_vm_get_swap_out_kib(vm);
    (void)membalancer_vm_get_demand_kib(vm);
    g_signal_handlers_disconnect_by_data(vm, &updates);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD_LIB_TEST("client/connect-address", test_connect_address, lib_fast_args);
    ADD_LIB_TEST("client/connect-connection", test_connect_connection, lib_fast_args);
    ADD_LIB_TEST("client/connect-system", test_connect_system, lib_fast_args);
    ADD_LIB_TEST("client/beside-service-proxies", test_beside_service_proxies, lib_fast_args);
    ADD_LIB_TEST("client/bad-address", test_bad_address, NULL);
    ADD_LIB_TEST("client/not-running", test_not_running, NULL);
    g_test_add_func("/lib/client/no-auto-start", test_no_auto_start);
    ADD_LIB_TEST("client/cancel", test_cancel, lib_fast_args);
    ADD_LIB_TEST("client/vm-live", test_vm_live, lib_fast_args);
    return g_test_run();
}
