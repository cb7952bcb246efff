/* The daemon's life: build, export, own the name, stop. */
#include "mb-daemon-private.h"

#include "mb-error.h"
#include "mb-log.h"

#ifndef MB_VERSION
#define MB_VERSION "0.0.0"
#endif

MbDaemon *
mb_daemon_new(MbConfig *config, GError **error)
{
    g_autoptr(MbDaemon) daemon = g_new0(MbDaemon, 1);
    g_autoptr(MbState) state = NULL;

    daemon->config = config;
    daemon->vms = g_ptr_array_new_with_free_func(g_object_unref);
    daemon->vms_by_name = g_hash_table_new(g_str_hash, g_str_equal);
    mb_tick_init(daemon);

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
    mb_tick_clear(daemon);
    g_clear_object(&daemon->manager);
    g_clear_object(&daemon->object_manager);
    g_clear_pointer(&daemon->vms_by_name, g_hash_table_unref);
    g_clear_pointer(&daemon->vms, g_ptr_array_unref);
    g_clear_pointer(&daemon->auth, mb_auth_free);
    g_clear_pointer(&daemon->store, mb_state_store_free);
    g_clear_pointer(&daemon->backend, mb_backend_free);
    g_clear_pointer(&daemon->config, mb_config_free);
    g_free(daemon);
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

    daemon->connection = g_object_ref(connection);
    mb_daemon_publish_manager(daemon);
    /* Everything is exported before the name is owned: a client activated
     * by the name never sees a half-built service. */
    if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(daemon->manager),
                                          connection, MB_OBJECT_PATH, error))
        return FALSE;
    g_dbus_object_manager_server_set_connection(daemon->object_manager, connection);
    mb_auth_watch_connection(daemon->auth, connection);
    mb_tick_start(daemon);
    g_dbus_connection_set_exit_on_close(connection, FALSE);
    daemon->own_id =
        g_bus_own_name_on_connection(connection, MB_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                     on_name_acquired, on_name_lost, daemon, NULL);
    return TRUE;
}

void
mb_daemon_stop(MbDaemon *daemon)
{
    if (daemon->connection == NULL)
        return;
    if (daemon->own_id != 0) {
        g_bus_unown_name(daemon->own_id);
        daemon->own_id = 0;
    }
    mb_tick_stop(daemon);
    /* Registrations waiting on the hypervisor finish (and fail or land) first. */
    while (daemon->n_lookups > 0)
        g_main_context_iteration(NULL, TRUE);
    mb_auth_unwatch(daemon->auth);
    g_dbus_object_manager_server_set_connection(daemon->object_manager, NULL);
    g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(daemon->manager));
    if (!g_dbus_connection_is_closed(daemon->connection))
        g_dbus_connection_flush_sync(daemon->connection, NULL, NULL);
    g_clear_object(&daemon->connection);
}

guint
mb_daemon_get_n_vms(MbDaemon *daemon)
{
    return daemon->vms->len;
}
