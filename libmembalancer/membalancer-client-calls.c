/* The calls of MembalancerClient: each through the generated proxy of
 * org.smarttv.MemBalancer (pause and resume write its Paused property),
 * asynchronous with a GTask, blocking with the generated _sync call. */
#include "membalancer-private.h"

#include "mb-names.h"

/* A client made by a constructor (not a bare g_object_new()). */
#define CLIENT_READY(client) (MEMBALANCER_IS_CLIENT(client) && (client)->manager != NULL)

/* The reply of a call without results: finish is the generated finish
 * function, kept as the task's data. */
void
_membalancer_call_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GTask) task = user_data;
    CallFinish finish = (CallFinish)g_task_get_task_data(task);
    GError *error = NULL;

    if (finish(MB_LIB_GEN_MEM_BALANCER(source), result, &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, _membalancer_error_from_call(G_DBUS_PROXY(source), error));
}

GTask *
_membalancer_call_task(MembalancerClient *client, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data, gpointer source_tag,
                       CallFinish finish)
{
    GTask *task = g_task_new(client, cancellable, callback, user_data);

    g_task_set_source_tag(task, source_tag);
    g_task_set_task_data(task, (gpointer)finish, NULL);
    return task;
}

gboolean
_membalancer_call_finish(MembalancerClient *client, GAsyncResult *result, gpointer source_tag,
                         GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, client), FALSE);
    g_return_val_if_fail(g_async_result_is_tagged(result, source_tag), FALSE);
    return g_task_propagate_boolean(G_TASK(result), error);
}

gboolean
_membalancer_sync_result(MembalancerClient *client, gboolean ok, GError *error,
                         GError **out_error)
{
    if (!ok)
        g_propagate_error(out_error,
                          _membalancer_error_from_call(G_DBUS_PROXY(client->manager), error));
    return ok;
}

/* ---- RegisterVM ---------------------------------------------------------- */

GVariant *
_membalancer_register_options(guint64 min_kib, guint64 max_kib, gboolean foreground)
{
    GVariantBuilder options;

    g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
    if (min_kib > 0)
        g_variant_builder_add(&options, "{sv}", "min-kib", g_variant_new_uint64(min_kib));
    if (max_kib > 0)
        g_variant_builder_add(&options, "{sv}", "max-kib", g_variant_new_uint64(max_kib));
    if (foreground)
        g_variant_builder_add(&options, "{sv}", "foreground", g_variant_new_boolean(TRUE));
    return g_variant_builder_end(&options);
}

/* The VM's object: the object manager's, which normally has it already
 * (the service announces the object before it replies); else one of our
 * own proxy, added to the table. */
static MembalancerVm *
registered_vm(MembalancerClient *client, MbLibGenMemBalancerVM *proxy, const char *path)
{
    MembalancerVm *vm = _membalancer_client_vm_for_path(client, path);
    g_autoptr(MembalancerVm) own = NULL;

    if (vm != NULL)
        return g_object_ref(vm);
    own = _membalancer_vm_new(proxy);
    _membalancer_client_adopt_vm(client, own);
    return g_steal_pointer(&own);
}

static void
register_proxy_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GTask) task = user_data;
    GError *error = NULL;
    g_autoptr(MbLibGenMemBalancerVM) proxy =
        mb_lib_gen_mem_balancer_vm_proxy_new_finish(result, &error);

    if (proxy == NULL) {
        g_task_return_error(task, _membalancer_error_from_dbus(error));
        return;
    }
    g_task_return_pointer(task,
                          registered_vm(g_task_get_source_object(task), proxy,
                                        g_dbus_proxy_get_object_path(G_DBUS_PROXY(proxy))),
                          g_object_unref);
}

void
_membalancer_register_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GTask) task = user_data;
    MembalancerClient *client = g_task_get_source_object(task);
    GError *error = NULL;
    g_autofree char *path = NULL;
    MembalancerVm *vm;

    PathFinish finish = (PathFinish)g_task_get_task_data(task);

    if (!finish(MB_LIB_GEN_MEM_BALANCER(source), &path, result, &error)) {
        g_task_return_error(task, _membalancer_error_from_call(G_DBUS_PROXY(source), error));
        return;
    }
    vm = _membalancer_client_vm_for_path(client, path);
    if (vm != NULL) {
        g_task_return_pointer(task, g_object_ref(vm), g_object_unref);
        return;
    }
    mb_lib_gen_mem_balancer_vm_proxy_new(
        client->connection, _membalancer_client_proxy_flags(client), MB_BUS_NAME, path,
        g_task_get_cancellable(task), register_proxy_done, g_object_ref(task));
}

void
_membalancer_register_start(MembalancerClient *client, const char *name, guint priority,
                            GVariant *options, gboolean update, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data,
                            gpointer source_tag)
{
    GTask *task =
        _membalancer_call_task(client, cancellable, callback, user_data, source_tag, NULL);

    if (update) {
        g_task_set_task_data(
            task, (gpointer)mb_lib_gen_mem_balancer_call_register_or_update_vm_finish, NULL);
        mb_lib_gen_mem_balancer_call_register_or_update_vm(client->manager, name, priority,
                                                           options, cancellable,
                                                           _membalancer_register_done, task);
    } else {
        g_task_set_task_data(task, (gpointer)mb_lib_gen_mem_balancer_call_register_vm_finish,
                             NULL);
        mb_lib_gen_mem_balancer_call_register_vm(client->manager, name, priority, options,
                                                 cancellable, _membalancer_register_done, task);
    }
}

MembalancerVm *
_membalancer_register_sync(MembalancerClient *client, const char *name, guint priority,
                           GVariant *options, gboolean update, GCancellable *cancellable,
                           GError **error)
{
    g_autofree char *path = NULL;
    GError *local = NULL;
    gboolean ok;

    ok = (update ? mb_lib_gen_mem_balancer_call_register_or_update_vm_sync
                 : mb_lib_gen_mem_balancer_call_register_vm_sync)(
        client->manager, name, priority, options, &path, cancellable, &local);
    if (!ok) {
        g_propagate_error(error,
                          _membalancer_error_from_call(G_DBUS_PROXY(client->manager), local));
        return NULL;
    }
    return _membalancer_registered_vm_sync(client, path, cancellable, error);
}

/**
 * membalancer_client_register_vm:
 * @client: a #MembalancerClient
 * @name: the libvirt domain name of the VM
 * @priority: its QoS priority, 0 to 100 (the higher is served first)
 * @min_kib: its guaranteed minimum allocation in KiB; 0: the service's default
 * @max_kib: the most it may be given, in KiB; 0: the domain's maximum
 * @foreground: make it the foreground VM
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * Puts a VM under the balancer's control; the registration survives a
 * restart of the service. Finish with
 * [method@Membalancer.Client.register_vm_finish].
 */
void
membalancer_client_register_vm(MembalancerClient *client, const char *name, guint priority,
                               guint64 min_kib, guint64 max_kib, gboolean foreground,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data)
{
    g_return_if_fail(CLIENT_READY(client));
    g_return_if_fail(name != NULL);
    _membalancer_register_start(
        client, name, priority, _membalancer_register_options(min_kib, max_kib, foreground),
        FALSE, cancellable, callback, user_data, membalancer_client_register_vm);
}

/**
 * membalancer_client_register_vm_finish:
 * @client: a #MembalancerClient
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the new VM, or %NULL with @error set
 *   (%MEMBALANCER_ERROR_ALREADY_REGISTERED, %MEMBALANCER_ERROR_INVALID_ARGS,
 *   %MEMBALANCER_ERROR_NO_SUCH_VM, ...)
 */
MembalancerVm *
membalancer_client_register_vm_finish(MembalancerClient *client, GAsyncResult *result,
                                      GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, client), NULL);
    g_return_val_if_fail(g_async_result_is_tagged(result, membalancer_client_register_vm),
                         NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}

/**
 * membalancer_client_register_vm_sync:
 * @client: a #MembalancerClient
 * @name: the libvirt domain name of the VM
 * @priority: its QoS priority, 0 to 100
 * @min_kib: its guaranteed minimum allocation in KiB; 0: the service's default
 * @max_kib: the most it may be given, in KiB; 0: the domain's maximum
 * @foreground: make it the foreground VM
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of [method@Membalancer.Client.register_vm].
 *
 * Returns: (transfer full): the new VM, or %NULL with @error set
 */
MembalancerVm *
membalancer_client_register_vm_sync(MembalancerClient *client, const char *name, guint priority,
                                    guint64 min_kib, guint64 max_kib, gboolean foreground,
                                    GCancellable *cancellable, GError **error)
{
    g_return_val_if_fail(CLIENT_READY(client), NULL);
    g_return_val_if_fail(name != NULL, NULL);
    return _membalancer_register_sync(
        client, name, priority, _membalancer_register_options(min_kib, max_kib, foreground),
        FALSE, cancellable, error);
}

MembalancerVm *
_membalancer_registered_vm_sync(MembalancerClient *client, const char *path,
                                GCancellable *cancellable, GError **error)
{
    g_autoptr(MbLibGenMemBalancerVM) proxy = NULL;
    GError *local = NULL;

    /* The object manager sees the VM only when the main context runs. */
    if (_membalancer_client_vm_for_path(client, path) == NULL) {
        proxy = mb_lib_gen_mem_balancer_vm_proxy_new_sync(
            client->connection, _membalancer_client_proxy_flags(client), MB_BUS_NAME, path,
            cancellable, &local);
        if (proxy == NULL) {
            g_propagate_error(error, _membalancer_error_from_dbus(local));
            return NULL;
        }
    }
    return registered_vm(client, proxy, path);
}

/* ---- UnregisterVM ---- */

/**
 * membalancer_client_unregister_vm:
 * @client: a #MembalancerClient
 * @name: the name the VM was registered with
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * Releases a VM from the balancer; its allocation stays as it is. Finish with
 * [method@Membalancer.Client.unregister_vm_finish].
 */
void
membalancer_client_unregister_vm(MembalancerClient *client, const char *name,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data)
{
    GTask *task;

    g_return_if_fail(CLIENT_READY(client));
    task = _membalancer_call_task(client, cancellable, callback, user_data,
                                  membalancer_client_unregister_vm,
                                  mb_lib_gen_mem_balancer_call_unregister_vm_finish);
    mb_lib_gen_mem_balancer_call_unregister_vm(client->manager, name, cancellable,
                                               _membalancer_call_done, task);
}

/**
 * membalancer_client_unregister_vm_finish:
 * @client: a #MembalancerClient
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set (%MEMBALANCER_ERROR_NO_SUCH_VM, ...)
 */
gboolean
membalancer_client_unregister_vm_finish(MembalancerClient *client, GAsyncResult *result,
                                        GError **error)
{
    return _membalancer_call_finish(client, result, membalancer_client_unregister_vm, error);
}

/**
 * membalancer_client_unregister_vm_sync:
 * @client: a #MembalancerClient
 * @name: the name the VM was registered with
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of [method@Membalancer.Client.unregister_vm].
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
membalancer_client_unregister_vm_sync(MembalancerClient *client, const char *name,
                                      GCancellable *cancellable, GError **error)
{
    GError *local = NULL;
    gboolean ok;

    g_return_val_if_fail(CLIENT_READY(client), FALSE);
    ok = mb_lib_gen_mem_balancer_call_unregister_vm_sync(client->manager, name, cancellable,
                                                         &local);
    return _membalancer_sync_result(client, ok, local, error);
}

/* ---- SetPriority ---- */

/**
 * membalancer_client_set_priority:
 * @client: a #MembalancerClient
 * @name: the name the VM was registered with
 * @priority: the new QoS priority, 0 to 100
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * Changes a VM's priority; it takes effect at the next rebalance. Finish with
 * [method@Membalancer.Client.set_priority_finish].
 */
void
membalancer_client_set_priority(MembalancerClient *client, const char *name, guint priority,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data)
{
    GTask *task;

    g_return_if_fail(CLIENT_READY(client));
    task = _membalancer_call_task(client, cancellable, callback, user_data,
                                  membalancer_client_set_priority,
                                  mb_lib_gen_mem_balancer_call_set_priority_finish);
    mb_lib_gen_mem_balancer_call_set_priority(client->manager, name, priority, cancellable,
                                              _membalancer_call_done, task);
}

/**
 * membalancer_client_set_priority_finish:
 * @client: a #MembalancerClient
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set (%MEMBALANCER_ERROR_NO_SUCH_VM,
 * %MEMBALANCER_ERROR_INVALID_ARGS, ...)
 */
gboolean
membalancer_client_set_priority_finish(MembalancerClient *client, GAsyncResult *result,
                                       GError **error)
{
    return _membalancer_call_finish(client, result, membalancer_client_set_priority, error);
}

/**
 * membalancer_client_set_priority_sync:
 * @client: a #MembalancerClient
 * @name: the name the VM was registered with
 * @priority: the new QoS priority, 0 to 100
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of [method@Membalancer.Client.set_priority].
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
membalancer_client_set_priority_sync(MembalancerClient *client, const char *name,
                                     guint priority, GCancellable *cancellable, GError **error)
{
    GError *local = NULL;
    gboolean ok;

    g_return_val_if_fail(CLIENT_READY(client), FALSE);
    ok = mb_lib_gen_mem_balancer_call_set_priority_sync(client->manager, name, priority,
                                                        cancellable, &local);
    return _membalancer_sync_result(client, ok, local, error);
}

/* ---- SetForeground ---- */

/**
 * membalancer_client_set_foreground:
 * @client: a #MembalancerClient
 * @name: the name the VM was registered with
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * Makes a VM the foreground VM (the previous one loses the flag). Finish with
 * [method@Membalancer.Client.set_foreground_finish].
 */
void
membalancer_client_set_foreground(MembalancerClient *client, const char *name,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
    GTask *task;

    g_return_if_fail(CLIENT_READY(client));
    task = _membalancer_call_task(client, cancellable, callback, user_data,
                                  membalancer_client_set_foreground,
                                  mb_lib_gen_mem_balancer_call_set_foreground_finish);
    mb_lib_gen_mem_balancer_call_set_foreground(client->manager, name, cancellable,
                                                _membalancer_call_done, task);
}

/**
 * membalancer_client_set_foreground_finish:
 * @client: a #MembalancerClient
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set (%MEMBALANCER_ERROR_NO_SUCH_VM, ...)
 */
gboolean
membalancer_client_set_foreground_finish(MembalancerClient *client, GAsyncResult *result,
                                         GError **error)
{
    return _membalancer_call_finish(client, result, membalancer_client_set_foreground, error);
}

/**
 * membalancer_client_set_foreground_sync:
 * @client: a #MembalancerClient
 * @name: the name the VM was registered with
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of [method@Membalancer.Client.set_foreground].
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
membalancer_client_set_foreground_sync(MembalancerClient *client, const char *name,
                                       GCancellable *cancellable, GError **error)
{
    GError *local = NULL;
    gboolean ok;

    g_return_val_if_fail(CLIENT_READY(client), FALSE);
    ok = mb_lib_gen_mem_balancer_call_set_foreground_sync(client->manager, name, cancellable,
                                                          &local);
    return _membalancer_sync_result(client, ok, local, error);
}

/* ---- Rebalance ---- */

/**
 * membalancer_client_rebalance:
 * @client: a #MembalancerClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * Runs one balancing interval now, even while balancing is paused. Finish with
 * [method@Membalancer.Client.rebalance_finish].
 */
void
membalancer_client_rebalance(MembalancerClient *client, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task;

    g_return_if_fail(CLIENT_READY(client));
    task = _membalancer_call_task(client, cancellable, callback, user_data,
                                  membalancer_client_rebalance,
                                  mb_lib_gen_mem_balancer_call_rebalance_finish);
    mb_lib_gen_mem_balancer_call_rebalance(client->manager, cancellable, _membalancer_call_done,
                                           task);
}

/**
 * membalancer_client_rebalance_finish:
 * @client: a #MembalancerClient
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set (%MEMBALANCER_ERROR_ACCESS_DENIED, ...)
 */
gboolean
membalancer_client_rebalance_finish(MembalancerClient *client, GAsyncResult *result,
                                    GError **error)
{
    return _membalancer_call_finish(client, result, membalancer_client_rebalance, error);
}

/**
 * membalancer_client_rebalance_sync:
 * @client: a #MembalancerClient
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of [method@Membalancer.Client.rebalance].
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
membalancer_client_rebalance_sync(MembalancerClient *client, GCancellable *cancellable,
                                  GError **error)
{
    GError *local = NULL;
    gboolean ok;

    g_return_val_if_fail(CLIENT_READY(client), FALSE);
    ok = mb_lib_gen_mem_balancer_call_rebalance_sync(client->manager, cancellable, &local);
    return _membalancer_sync_result(client, ok, local, error);
}

/* ---- Paused (pause, resume): org.freedesktop.DBus.Properties.Set ---- */

static GVariant *
paused_args(gboolean paused)
{
    return g_variant_new("(ssv)", MB_MANAGER_INTERFACE, "Paused",
                         g_variant_new_boolean(paused));
}

static void
set_paused_async(MbLibGenMemBalancer *manager, gboolean paused, GCancellable *cancellable,
                 GAsyncReadyCallback callback, gpointer user_data)
{
    g_dbus_proxy_call(G_DBUS_PROXY(manager), "org.freedesktop.DBus.Properties.Set",
                      paused_args(paused), G_DBUS_CALL_FLAGS_NONE, -1, cancellable, callback,
                      user_data);
}

static gboolean
set_paused_finish(MbLibGenMemBalancer *manager, GAsyncResult *result, GError **error)
{
    g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(manager), result, error);

    return reply != NULL;
}

static gboolean
set_paused_sync(MbLibGenMemBalancer *manager, gboolean paused, GCancellable *cancellable,
                GError **error)
{
    g_autoptr(GVariant) reply = g_dbus_proxy_call_sync(
        G_DBUS_PROXY(manager), "org.freedesktop.DBus.Properties.Set", paused_args(paused),
        G_DBUS_CALL_FLAGS_NONE, -1, cancellable, error);

    return reply != NULL;
}

/**
 * membalancer_client_pause:
 * @client: a #MembalancerClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * Pauses periodic balancing: statistics are still read, nothing is moved (stored by the
 * service). Finish with [method@Membalancer.Client.pause_finish].
 */
void
membalancer_client_pause(MembalancerClient *client, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task;

    g_return_if_fail(CLIENT_READY(client));
    task = _membalancer_call_task(client, cancellable, callback, user_data,
                                  membalancer_client_pause, set_paused_finish);
    set_paused_async(client->manager, TRUE, cancellable, _membalancer_call_done, task);
}

/**
 * membalancer_client_pause_finish:
 * @client: a #MembalancerClient
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set (%MEMBALANCER_ERROR_ACCESS_DENIED, ...)
 */
gboolean
membalancer_client_pause_finish(MembalancerClient *client, GAsyncResult *result, GError **error)
{
    return _membalancer_call_finish(client, result, membalancer_client_pause, error);
}

/**
 * membalancer_client_pause_sync:
 * @client: a #MembalancerClient
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of [method@Membalancer.Client.pause].
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
membalancer_client_pause_sync(MembalancerClient *client, GCancellable *cancellable,
                              GError **error)
{
    GError *local = NULL;
    gboolean ok;

    g_return_val_if_fail(CLIENT_READY(client), FALSE);
    ok = set_paused_sync(client->manager, TRUE, cancellable, &local);
    return _membalancer_sync_result(client, ok, local, error);
}

/**
 * membalancer_client_resume:
 * @client: a #MembalancerClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * Resumes periodic balancing. Finish with [method@Membalancer.Client.resume_finish].
 */
void
membalancer_client_resume(MembalancerClient *client, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task;

    g_return_if_fail(CLIENT_READY(client));
    task = _membalancer_call_task(client, cancellable, callback, user_data,
                                  membalancer_client_resume, set_paused_finish);
    set_paused_async(client->manager, FALSE, cancellable, _membalancer_call_done, task);
}

/**
 * membalancer_client_resume_finish:
 * @client: a #MembalancerClient
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set (%MEMBALANCER_ERROR_ACCESS_DENIED, ...)
 */
gboolean
membalancer_client_resume_finish(MembalancerClient *client, GAsyncResult *result,
                                 GError **error)
{
    return _membalancer_call_finish(client, result, membalancer_client_resume, error);
}

/**
 * membalancer_client_resume_sync:
 * @client: a #MembalancerClient
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of [method@Membalancer.Client.resume].
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
membalancer_client_resume_sync(MembalancerClient *client, GCancellable *cancellable,
                               GError **error)
{
    GError *local = NULL;
    gboolean ok;

    g_return_val_if_fail(CLIENT_READY(client), FALSE);
    ok = set_paused_sync(client->manager, FALSE, cancellable, &local);
    return _membalancer_sync_result(client, ok, local, error);
}
