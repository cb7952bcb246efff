/* The D-Bus side of membalancerd: the connection, the object manager, the
 * manager and VM objects, the bus name. It turns the engine's signals into
 * properties and signals on the bus; the manager's handlers call the
 * engine. Nothing here decides anything about memory. */
#include "mb-daemon.h"

#include "mb-auth.h"
#include "mb-error.h"
#include "mb-log.h"
#include "mb-manager.h"
#include "mb-vm-object.h"

#ifndef MB_VERSION
#define MB_VERSION "0.0.0"
#endif

struct _MbDaemon {
    GObject parent_instance;

    MbEngine *engine;
    MbAuth *auth;

    GDBusConnection *connection;
    GDBusObjectManagerServer *object_manager;
    MbManager *manager;
    GHashTable *vm_objects; /* MbEngineVm -> MbVmObject */
    guint own_id;
    gboolean name_acquired;
    gboolean stopped;
    MbDaemonQuitFunc quit_func;
    gpointer quit_data;
};

G_DEFINE_TYPE(MbDaemon, mb_daemon, G_TYPE_OBJECT)

static void
vm_object_release(gpointer data)
{
    /* The VM object and its object skeleton hold each other. */
    mb_vm_object_release(data);
    g_object_unref(data);
}

static void
mb_daemon_init(MbDaemon *daemon)
{
    daemon->vm_objects = g_hash_table_new_full(NULL, NULL, NULL, vm_object_release);
}

static void stop(MbDaemon *daemon, gboolean drain);

static void
mb_daemon_dispose(GObject *object)
{
    MbDaemon *daemon = MB_DAEMON(object);

    /* Not stopped (mb_daemon_stop, mb_daemon_free): stop without waiting
     * here. The workers still running hold the engine, their callbacks
     * run when the main context next runs, and the engine completes
     * the Rebalance callers that wait once they have. */
    stop(daemon, FALSE);
    if (daemon->engine != NULL)
        g_signal_handlers_disconnect_by_data(daemon->engine, daemon);
    g_clear_object(&daemon->manager);
    g_clear_object(&daemon->object_manager);
    g_clear_pointer(&daemon->vm_objects, g_hash_table_unref);
    g_clear_pointer(&daemon->auth, mb_auth_unref);
    /* Last: the engine frees the backend, which may drain the main context. */
    g_clear_object(&daemon->engine);
    G_OBJECT_CLASS(mb_daemon_parent_class)->dispose(object);
}

static void
mb_daemon_class_init(MbDaemonClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = mb_daemon_dispose;
}

/* The manager's properties from the engine, in one PropertiesChanged. */
static void
sync_manager(MbDaemon *daemon)
{
    MbMemBalancer *iface = MB_MEM_BALANCER(daemon->manager);
    MbConfig *config = mb_engine_get_config(daemon->engine);
    MbParams params;

    mb_engine_params(daemon->engine, &params);
    mb_mem_balancer_set_version(iface, MB_VERSION);
    mb_mem_balancer_set_pool_kib(iface, mb_engine_get_pool_kib(daemon->engine));
    mb_mem_balancer_set_reserve_kib(iface, params.reserve_kib);
    mb_mem_balancer_set_interval_ms(iface, config->interval_ms);
    mb_mem_balancer_set_alpha(iface, config->alpha);
    mb_mem_balancer_set_policy(iface, mb_policy_kind_to_string(config->policy));
    mb_mem_balancer_set_paused(iface, mb_engine_get_paused(daemon->engine));
    mb_mem_balancer_set_backend(iface, mb_engine_get_backend_name(daemon->engine));
    mb_mem_balancer_set_connected(iface, mb_engine_get_connected(daemon->engine));
    mb_mem_balancer_set_vm_count(iface, mb_engine_get_n_vms(daemon->engine));
    g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(daemon->manager));
}

static void
on_engine_notify(MbEngine *engine, GParamSpec *pspec, gpointer user_data)
{
    sync_manager(user_data);
}

static void
on_vm_added(MbEngine *engine, MbEngineVm *vm, gpointer user_data)
{
    MbDaemon *daemon = user_data;
    MbVmObject *object = mb_vm_object_new(vm);

    g_hash_table_insert(daemon->vm_objects, vm, object);
    g_dbus_object_manager_server_export(
        daemon->object_manager, G_DBUS_OBJECT_SKELETON(mb_vm_object_get_object(object)));
}

static void
on_vm_removed(MbEngine *engine, MbEngineVm *vm, gpointer user_data)
{
    MbDaemon *daemon = user_data;
    MbVmObject *object = g_hash_table_lookup(daemon->vm_objects, vm);

    if (object == NULL)
        return;
    g_dbus_object_manager_server_unexport(daemon->object_manager,
                                          mb_vm_object_get_path(object));
    g_hash_table_remove(daemon->vm_objects, vm);
}

static void
on_rebalanced(MbEngine *engine, GVariant *moves, gpointer user_data)
{
    MbDaemon *daemon = user_data;

    mb_mem_balancer_emit_rebalanced(MB_MEM_BALANCER(daemon->manager), moves);
}

MbDaemon *
mb_daemon_new(MbConfig *config, GError **error)
{
    g_autoptr(MbDaemon) daemon = NULL;
    MbEngine *engine = mb_engine_new(config, error);
    GPtrArray *vms;

    if (engine == NULL)
        return NULL;
    daemon = g_object_new(MB_TYPE_DAEMON, NULL);
    daemon->engine = engine;
    daemon->auth = mb_auth_new(config->group);
    daemon->manager = mb_manager_new(engine, daemon->auth);
    daemon->object_manager = g_dbus_object_manager_server_new(MB_OBJECT_PATH);
    /* The VMs restored from the state file, before anyone listened. */
    vms = mb_engine_get_vms(engine);
    for (guint i = 0; i < vms->len; i++)
        on_vm_added(engine, g_ptr_array_index(vms, i), daemon);
    g_signal_connect(engine, "vm-added", G_CALLBACK(on_vm_added), daemon);
    g_signal_connect(engine, "vm-removed", G_CALLBACK(on_vm_removed), daemon);
    g_signal_connect(engine, "rebalanced", G_CALLBACK(on_rebalanced), daemon);
    g_signal_connect(engine, "notify", G_CALLBACK(on_engine_notify), daemon);
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

MbEngine *
mb_daemon_get_engine(MbDaemon *daemon)
{
    return daemon->engine;
}

gboolean
mb_daemon_is_stopping(MbDaemon *daemon)
{
    return daemon->stopped || mb_engine_is_stopping(daemon->engine);
}

void
mb_daemon_set_quit_func(MbDaemon *daemon, MbDaemonQuitFunc func, gpointer user_data)
{
    daemon->quit_func = func;
    daemon->quit_data = user_data;
}

static void
on_name_acquired(GDBusConnection *connection, const char *name, gpointer user_data)
{
    MbDaemon *daemon = user_data;
    MbConfig *config = mb_engine_get_config(daemon->engine);

    daemon->name_acquired = TRUE;
    mb_log(G_LOG_LEVEL_MESSAGE, "MB_BUS_NAME", name,
           "membalancerd %s ready on %s: %u VMs, backend %s, policy %s, interval %u ms",
           MB_VERSION, name, mb_engine_get_n_vms(daemon->engine),
           mb_engine_get_backend_name(daemon->engine), mb_policy_kind_to_string(config->policy),
           config->interval_ms);
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
    if (daemon->quit_func != NULL)
        daemon->quit_func(daemon->quit_data, why);
}

gboolean
mb_daemon_start(MbDaemon *daemon, GDBusConnection *connection, GError **error)
{
    g_return_val_if_fail(daemon->connection == NULL, FALSE);
    if (daemon->stopped) {
        g_set_error_literal(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                            "membalancerd is stopping: try again when it is back");
        return FALSE;
    }

    daemon->connection = g_object_ref(connection);
    /* The figures first, as they stand now; the timer's first tick comes
     * an interval later, from the main loop. */
    mb_engine_start(daemon->engine);
    sync_manager(daemon);
    /* Everything is exported before the name is owned: a client activated
     * by the name never sees a half-built service. */
    if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(daemon->manager),
                                          connection, MB_OBJECT_PATH, error))
        return FALSE;
    g_dbus_object_manager_server_set_connection(daemon->object_manager, connection);
    mb_auth_watch_connection(daemon->auth, connection);
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

static void
stop(MbDaemon *daemon, gboolean drain)
{
    if (daemon->stopped)
        return;
    daemon->stopped = TRUE;
    /* 1. The bus no longer routes calls to us. Calls already past
     * authorization reach handlers that now refuse (the engine stops). */
    if (daemon->own_id != 0) {
        g_bus_unown_name(daemon->own_id);
        daemon->own_id = 0;
    }
    if (daemon->connection != NULL) {
        g_dbus_object_manager_server_set_connection(daemon->object_manager, NULL);
        g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(daemon->manager));
    }
    /* 2. The engine refuses new work, cancels and drains its workers, and
     * completes waiting Rebalance callers. */
    if (daemon->engine != NULL && drain)
        mb_engine_stop(daemon->engine);
    else if (daemon->engine != NULL)
        mb_engine_begin_stop(daemon->engine);
    /* 3. Let go of the bus; freeing comes after (dispose). */
    if (daemon->connection != NULL) {
        mb_auth_unwatch(daemon->auth);
        if (!g_dbus_connection_is_closed(daemon->connection))
            g_dbus_connection_flush_sync(daemon->connection, NULL, NULL);
        g_clear_object(&daemon->connection);
    }
}

void
mb_daemon_stop(MbDaemon *daemon)
{
    stop(daemon, TRUE);
}
