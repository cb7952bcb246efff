/* Connecting MembalancerClient: GInitable and GAsyncInitable (the bus
 * connection, the object manager, the manager's proxy), and the
 * constructors over them. */
#include "membalancer-private.h"

#include "mb-names.h"

/* ---- initialization: blocking ------------------------------------------ */

static GDBusObjectManagerClientFlags
object_manager_flags(MembalancerClient *self)
{
    return self->auto_start ? G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE
                            : G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START;
}

static GError *
connect_error(MembalancerClient *self, GError *error)
{
    GError *mapped;

    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return error;
    mapped = g_error_new(
        MEMBALANCER_ERROR, MEMBALANCER_ERROR_NOT_RUNNING, "Cannot connect to the bus %s: %s",
        self->address != NULL ? self->address : "(the system bus)", error->message);
    g_error_free(error);
    return mapped;
}

static gboolean
membalancer_client_initable_init(GInitable *initable, GCancellable *cancellable, GError **error)
{
    MembalancerClient *self = MEMBALANCER_CLIENT(initable);
    GError *local = NULL;

    if (self->connection == NULL) {
        if (self->address != NULL) {
            self->connection = g_dbus_connection_new_for_address_sync(
                self->address,
                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, cancellable, &local);
        } else {
            self->connection = g_bus_get_sync(G_BUS_TYPE_SYSTEM, cancellable, &local);
        }
        if (self->connection == NULL) {
            g_propagate_error(error, connect_error(self, local));
            return FALSE;
        }
    }
    self->object_manager = mb_lib_gen_object_manager_client_new_sync(
        self->connection, object_manager_flags(self), MB_BUS_NAME, MB_OBJECT_PATH, cancellable,
        &local);
    if (self->object_manager != NULL) {
        self->manager = mb_lib_gen_mem_balancer_proxy_new_sync(
            self->connection, _membalancer_client_proxy_flags(self), MB_BUS_NAME,
            MB_OBJECT_PATH, cancellable, &local);
    }
    if (self->manager == NULL) {
        g_propagate_error(error, _membalancer_error_from_dbus(local));
        return FALSE;
    }
    _membalancer_client_setup(self);
    return TRUE;
}

void
_membalancer_client_initable_iface_init(GInitableIface *iface)
{
    iface->init = membalancer_client_initable_init;
}

/* ---- initialization: asynchronous (connection, object manager, proxy) --- */

static void
init_manager_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GTask) task = user_data;
    MembalancerClient *self = g_task_get_source_object(task);
    GError *error = NULL;

    self->manager = mb_lib_gen_mem_balancer_proxy_new_finish(result, &error);
    if (self->manager == NULL) {
        g_task_return_error(task, _membalancer_error_from_dbus(error));
        return;
    }
    _membalancer_client_setup(self);
    g_task_return_boolean(task, TRUE);
}

static void
init_object_manager_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GTask) task = user_data;
    MembalancerClient *self = g_task_get_source_object(task);
    GError *error = NULL;

    self->object_manager = mb_lib_gen_object_manager_client_new_finish(result, &error);
    if (self->object_manager == NULL) {
        g_task_return_error(task, _membalancer_error_from_dbus(error));
        return;
    }
    mb_lib_gen_mem_balancer_proxy_new(self->connection, _membalancer_client_proxy_flags(self),
                                      MB_BUS_NAME, MB_OBJECT_PATH, g_task_get_cancellable(task),
                                      init_manager_done, g_object_ref(task));
}

static void
init_with_connection(GTask *task)
{
    MembalancerClient *self = g_task_get_source_object(task);

    mb_lib_gen_object_manager_client_new(
        self->connection, object_manager_flags(self), MB_BUS_NAME, MB_OBJECT_PATH,
        g_task_get_cancellable(task), init_object_manager_done, g_object_ref(task));
}

static void
init_connection_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GTask) task = user_data;
    MembalancerClient *self = g_task_get_source_object(task);
    GError *error = NULL;

    if (self->address != NULL)
        self->connection = g_dbus_connection_new_for_address_finish(result, &error);
    else
        self->connection = g_bus_get_finish(result, &error);
    if (self->connection == NULL) {
        g_task_return_error(task, connect_error(self, error));
        return;
    }
    init_with_connection(task);
}

static void
membalancer_client_init_async(GAsyncInitable *initable, int io_priority,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data)
{
    MembalancerClient *self = MEMBALANCER_CLIENT(initable);
    g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);

    g_task_set_source_tag(task, membalancer_client_init_async);
    if (self->connection != NULL) {
        init_with_connection(task);
    } else if (self->address != NULL) {
        g_dbus_connection_new_for_address(self->address,
                                          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                              G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                          NULL, cancellable, init_connection_done,
                                          g_object_ref(task));
    } else {
        g_bus_get(G_BUS_TYPE_SYSTEM, cancellable, init_connection_done, g_object_ref(task));
    }
}

static gboolean
membalancer_client_init_finish(GAsyncInitable *initable, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}

void
_membalancer_client_async_initable_iface_init(GAsyncInitableIface *iface)
{
    iface->init_async = membalancer_client_init_async;
    iface->init_finish = membalancer_client_init_finish;
}

/* ---- constructors ------------------------------------------------------- */

/**
 * membalancer_client_new:
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the client is ready or has failed
 * @user_data: data for @callback
 *
 * Connects to membalancerd on the system bus. Finish with
 * [ctor@Membalancer.Client.new_finish].
 */
void
membalancer_client_new(GCancellable *cancellable, GAsyncReadyCallback callback,
                       gpointer user_data)
{
    g_async_initable_new_async(MEMBALANCER_TYPE_CLIENT, G_PRIORITY_DEFAULT, cancellable,
                               callback, user_data, NULL);
}

/**
 * membalancer_client_new_for_address:
 * @address: a D-Bus address of a message bus (a test bus, for instance)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the client is ready or has failed
 * @user_data: data for @callback
 *
 * Connects to membalancerd on the bus at @address. Finish with
 * [ctor@Membalancer.Client.new_finish].
 */
void
membalancer_client_new_for_address(const char *address, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(address != NULL);
    g_async_initable_new_async(MEMBALANCER_TYPE_CLIENT, G_PRIORITY_DEFAULT, cancellable,
                               callback, user_data, "address", address, NULL);
}

/**
 * membalancer_client_new_for_connection:
 * @connection: a connection to the bus membalancerd is on
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the client is ready or has failed
 * @user_data: data for @callback
 *
 * Talks to membalancerd over a connection of the caller's. Finish with
 * [ctor@Membalancer.Client.new_finish].
 */
void
membalancer_client_new_for_connection(GDBusConnection *connection, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(G_IS_DBUS_CONNECTION(connection));
    g_async_initable_new_async(MEMBALANCER_TYPE_CLIENT, G_PRIORITY_DEFAULT, cancellable,
                               callback, user_data, "connection", connection, NULL);
}

/**
 * membalancer_client_new_finish:
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes [func@Membalancer.Client.new] and the other asynchronous
 * constructors.
 *
 * Returns: (transfer full): the client, or %NULL with @error set
 */
MembalancerClient *
membalancer_client_new_finish(GAsyncResult *result, GError **error)
{
    g_autoptr(GObject) source = g_async_result_get_source_object(result);
    GObject *client = g_async_initable_new_finish(G_ASYNC_INITABLE(source), result, error);

    return client != NULL ? MEMBALANCER_CLIENT(client) : NULL;
}

/**
 * membalancer_client_new_sync:
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Connects to membalancerd on the system bus, blocking.
 *
 * Returns: (transfer full): the client, or %NULL with @error set
 */
MembalancerClient *
membalancer_client_new_sync(GCancellable *cancellable, GError **error)
{
    return g_initable_new(MEMBALANCER_TYPE_CLIENT, cancellable, error, NULL);
}

/**
 * membalancer_client_new_for_address_sync:
 * @address: a D-Bus address of a message bus
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Connects to membalancerd on the bus at @address, blocking.
 *
 * Returns: (transfer full): the client, or %NULL with @error set
 */
MembalancerClient *
membalancer_client_new_for_address_sync(const char *address, GCancellable *cancellable,
                                        GError **error)
{
    g_return_val_if_fail(address != NULL, NULL);
    return g_initable_new(MEMBALANCER_TYPE_CLIENT, cancellable, error, "address", address,
                          NULL);
}

/**
 * membalancer_client_new_for_connection_sync:
 * @connection: a connection to the bus membalancerd is on
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Talks to membalancerd over a connection of the caller's, blocking.
 *
 * Returns: (transfer full): the client, or %NULL with @error set
 */
MembalancerClient *
membalancer_client_new_for_connection_sync(GDBusConnection *connection,
                                           GCancellable *cancellable, GError **error)
{
    g_return_val_if_fail(G_IS_DBUS_CONNECTION(connection), NULL);
    return g_initable_new(MEMBALANCER_TYPE_CLIENT, cancellable, error, "connection", connection,
                          NULL);
}
