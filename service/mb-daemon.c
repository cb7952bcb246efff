/* The daemon's life: build, export, own the name, stop. */
#include "mb-daemon-private.h"

#include "mb-error.h"
#include "mb-log.h"

#ifndef MB_VERSION
#define MB_VERSION "0.0.0"
#endif

G_DEFINE_TYPE(MbDaemon, mb_daemon, G_TYPE_OBJECT)

static void
vm_release(gpointer data)
{
    /* The VM object and its object skeleton hold each other. */
    mb_vm_object_release(data);
    g_object_unref(data);
}

static void
mb_daemon_init(MbDaemon *daemon)
{
    daemon->vms = g_ptr_array_new_with_free_func(vm_release);
    daemon->vms_by_name = g_hash_table_new(g_str_hash, g_str_equal);
    daemon->cancellable = g_cancellable_new();
    mb_tick_init(daemon);
}

static void
mb_daemon_dispose(GObject *object)
{
    MbDaemon *daemon = MB_DAEMON(object);

    mb_daemon_stop(daemon);
    mb_tick_clear(daemon);
    g_clear_object(&daemon->manager);
    g_clear_object(&daemon->object_manager);
    g_clear_pointer(&daemon->vms_by_name, g_hash_table_unref);
    g_clear_pointer(&daemon->vms, g_ptr_array_unref);
    g_clear_pointer(&daemon->auth, mb_auth_unref);
    g_clear_pointer(&daemon->store, mb_state_store_free);
    /* Last: the libvirt backend drains what libvirt left on the main
     * context, and nothing above may run by then. */
    g_clear_pointer(&daemon->backend, mb_backend_free);
    G_OBJECT_CLASS(mb_daemon_parent_class)->dispose(object);
}

static void
mb_daemon_finalize(GObject *object)
{
    MbDaemon *daemon = MB_DAEMON(object);

    g_clear_object(&daemon->cancellable);
    g_clear_pointer(&daemon->config, mb_config_free);
    G_OBJECT_CLASS(mb_daemon_parent_class)->finalize(object);
}

static void
mb_daemon_class_init(MbDaemonClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = mb_daemon_dispose;
    G_OBJECT_CLASS(klass)->finalize = mb_daemon_finalize;
}

MbDaemon *
mb_daemon_new(MbConfig *config, GError **error)
{
    g_autoptr(MbDaemon) daemon = g_object_new(MB_TYPE_DAEMON, NULL);
    g_autoptr(MbState) state = NULL;

    daemon->config = config;
    daemon->backend = mb_backend_new(config, error);
    if (daemon->backend == NULL)
        return NULL;
    daemon->store = mb_state_store_new(config->state_dir, error);
    if (daemon->store == NULL)
        return NULL;
    state = mb_state_store_load(daemon->store, error);
    if (state == NULL)
        return NULL;
    daemon->auth = mb_auth_new(config->group);
    daemon->manager = mb_manager_new(daemon, daemon->auth);
    daemon->object_manager = g_dbus_object_manager_server_new(MB_OBJECT_PATH);
    mb_daemon_restore(daemon, state);
    return g_steal_pointer(&daemon);
}

void
mb_daemon_free(MbDaemon *daemon)
{
    if (daemon == NULL)
        return;
    mb_daemon_stop(daemon);
    g_object_unref(daemon);
}

GTask *
mb_daemon_new_worker_task(MbDaemon *daemon, GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(daemon, daemon->cancellable, callback, user_data);

    /* The callback always runs, cancelled or not: it is where the
     * worker's results are freed and n_workers drops. */
    g_task_set_check_cancellable(task, FALSE);
    daemon->n_workers++;
    return task;
}

void
mb_daemon_worker_done(MbDaemon *daemon)
{
    g_assert(daemon->n_workers > 0);
    daemon->n_workers--;
}

gboolean
mb_daemon_check_running(MbDaemon *daemon, GError **error)
{
    if (!daemon->stopping)
        return TRUE;
    g_set_error_literal(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                        "membalancerd is stopping: try again when it is back");
    return FALSE;
}

gboolean
mb_daemon_is_stopping(MbDaemon *daemon)
{
    return daemon->stopping;
}

void
mb_daemon_set_quit_func(MbDaemon *daemon, MbDaemonQuitFunc func, gpointer user_data)
{
    daemon->quit_func = func;
    daemon->quit_data = user_data;
}

static void
quit(MbDaemon *daemon, const char *why)
{
    if (daemon->quit_func != NULL)
        daemon->quit_func(daemon->quit_data, why);
}

static void
on_name_acquired(GDBusConnection *connection, const char *name, gpointer user_data)
{
    MbDaemon *daemon = user_data;

    daemon->name_acquired = TRUE;
    mb_log(G_LOG_LEVEL_MESSAGE, "MB_BUS_NAME", name,
           "membalancerd %s ready on %s: %u VMs, backend %s, policy %s, interval %u ms",
           MB_VERSION, name, daemon->vms->len, mb_backend_get_name(daemon->backend),
           mb_policy_kind_to_string(daemon->config->policy), daemon->config->interval_ms);
}

static void
on_name_lost(GDBusConnection *connection, const char *name, gpointer user_data)
{
    MbDaemon *daemon = user_data;
    g_autofree char *why = NULL;

    if (connection == NULL || g_dbus_connection_is_closed(connection))
        why = g_strdup("the connection to the bus was closed");
    else if (daemon->name_acquired)
        why = g_strdup_printf("lost the bus name %s", name);
    else
        why = g_strdup_printf("cannot own the bus name %s: another membalancerd runs, or the "
                              "bus policy forbids it (install org.smarttv.MemBalancer.conf and "
                              "run as root)",
                              name);
    daemon->name_acquired = FALSE;
    quit(daemon, why);
}

void
mb_daemon_publish_manager(MbDaemon *daemon)
{
    MbMemBalancer *iface = MB_MEM_BALANCER(daemon->manager);
    MbParams params;

    mb_tick_params(daemon, &params);
    mb_mem_balancer_set_version(iface, MB_VERSION);
    mb_mem_balancer_set_pool_kib(iface, params.pool_kib);
    mb_mem_balancer_set_reserve_kib(iface, params.reserve_kib);
    mb_mem_balancer_set_interval_ms(iface, daemon->config->interval_ms);
    mb_mem_balancer_set_alpha(iface, daemon->config->alpha);
    mb_mem_balancer_set_policy(iface, mb_policy_kind_to_string(daemon->config->policy));
    mb_mem_balancer_set_paused(iface, daemon->paused);
    mb_mem_balancer_set_backend(iface, mb_backend_get_name(daemon->backend));
    mb_mem_balancer_set_connected(iface, mb_backend_is_connected(daemon->backend));
    mb_mem_balancer_set_vm_count(iface, daemon->vms->len);
    g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(daemon->manager));
}

gboolean
mb_daemon_start(MbDaemon *daemon, GDBusConnection *connection, GError **error)
{
    g_return_val_if_fail(daemon->connection == NULL, FALSE);
    if (!mb_daemon_check_running(daemon, error))
        return FALSE;

    daemon->connection = g_object_ref(connection);
    mb_daemon_publish_manager(daemon);
    /* Everything is exported before the name is owned: a client activated
     * by the name never sees a half-built service. */
    if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(daemon->manager),
                                          connection, MB_OBJECT_PATH, error))
        return FALSE;
    g_dbus_object_manager_server_set_connection(daemon->object_manager, connection);
    mb_auth_watch_connection(daemon->auth, connection);
    mb_backend_set_urgent_func(daemon->backend, mb_tick_urgent, daemon);
    mb_tick_start(daemon);
    g_dbus_connection_set_exit_on_close(connection, FALSE);
    daemon->own_id =
        g_bus_own_name_on_connection(connection, MB_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                     on_name_acquired, on_name_lost, daemon, NULL);
    return TRUE;
}

gboolean
mb_daemon_use_polkit(MbDaemon *daemon)
{
    return mb_auth_use_polkit(daemon->auth);
}

void
mb_daemon_stop(MbDaemon *daemon)
{
    if (daemon->stopping)
        return;
    /* 1. Accept nothing new: every operation fails from here on, and the
     * bus no longer routes calls to us. Calls already past authorization
     * reach handlers that now refuse. */
    daemon->stopping = TRUE;
    if (daemon->own_id != 0) {
        g_bus_unown_name(daemon->own_id);
        daemon->own_id = 0;
    }
    if (daemon->connection != NULL) {
        g_dbus_object_manager_server_set_connection(daemon->object_manager, NULL);
        g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(daemon->manager));
    }
    /* 2. Cancel and drain: no tick starts any more; the workers see the
     * cancellable and their callbacks (which free their work) run here. */
    if (daemon->backend != NULL)
        mb_backend_set_urgent_func(daemon->backend, NULL, NULL);
    mb_tick_stop(daemon);
    g_cancellable_cancel(daemon->cancellable);
    while (daemon->n_workers > 0)
        g_main_context_iteration(NULL, TRUE);
    mb_tick_complete_waiters(daemon);
    /* 3. Let go of the bus; freeing comes after (dispose). */
    if (daemon->connection != NULL) {
        mb_auth_unwatch(daemon->auth);
        if (!g_dbus_connection_is_closed(daemon->connection))
            g_dbus_connection_flush_sync(daemon->connection, NULL, NULL);
        g_clear_object(&daemon->connection);
    }
}

guint
mb_daemon_get_n_vms(MbDaemon *daemon)
{
    return daemon->vms->len;
}
