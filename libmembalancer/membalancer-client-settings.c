/* The calls of MembalancerClient that change what was set: SetLimits,
 * ClearForeground, RegisterOrUpdateVM, and either registration with the
 * options as the bus takes them (membalancer-client-calls.c has the others
 * and their common parts). */
#include "membalancer-private.h"

#define CLIENT_READY(client) (MEMBALANCER_IS_CLIENT(client) && (client)->manager != NULL)

/* ---- SetLimits ---- */

/**
 * membalancer_client_set_limits:
 * @client: a #MembalancerClient
 * @name: the name the VM was registered with
 * @min_kib: its new guaranteed minimum allocation, in KiB
 * @max_kib: the most it may be given from now, in KiB
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * Changes a VM's limits, checked as at registration (@min_kib not above
 * @max_kib, @max_kib not above the domain's maximum memory); both are
 * given (the VM's [property@Membalancer.Vm:min-kib] and
 * [property@Membalancer.Vm:max-kib] keep one as it is). Finish with
 * [method@Membalancer.Client.set_limits_finish].
 */
void
membalancer_client_set_limits(MembalancerClient *client, const char *name, guint64 min_kib,
                              guint64 max_kib, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task;

    g_return_if_fail(CLIENT_READY(client));
    task = _membalancer_call_task(client, cancellable, callback, user_data,
                                  membalancer_client_set_limits,
                                  mb_lib_gen_mem_balancer_call_set_limits_finish);
    mb_lib_gen_mem_balancer_call_set_limits(client->manager, name, min_kib, max_kib,
                                            cancellable, _membalancer_call_done, task);
}

/**
 * membalancer_client_set_limits_finish:
 * @client: a #MembalancerClient
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set (%MEMBALANCER_ERROR_INVALID_ARGS,
 *   %MEMBALANCER_ERROR_NO_SUCH_VM, ...)
 */
gboolean
membalancer_client_set_limits_finish(MembalancerClient *client, GAsyncResult *result,
                                     GError **error)
{
    return _membalancer_call_finish(client, result, membalancer_client_set_limits, error);
}

/**
 * membalancer_client_set_limits_sync:
 * @client: a #MembalancerClient
 * @name: the name the VM was registered with
 * @min_kib: its new guaranteed minimum allocation, in KiB
 * @max_kib: the most it may be given from now, in KiB
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of [method@Membalancer.Client.set_limits].
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
membalancer_client_set_limits_sync(MembalancerClient *client, const char *name, guint64 min_kib,
                                   guint64 max_kib, GCancellable *cancellable, GError **error)
{
    GError *local = NULL;
    gboolean ok;

    g_return_val_if_fail(CLIENT_READY(client), FALSE);
    ok = mb_lib_gen_mem_balancer_call_set_limits_sync(client->manager, name, min_kib, max_kib,
                                                      cancellable, &local);
    return _membalancer_sync_result(client, ok, local, error);
}

/* ---- ClearForeground ---- */

/**
 * membalancer_client_clear_foreground:
 * @client: a #MembalancerClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * Leaves no VM the foreground VM (none was: no error). Finish with
 * [method@Membalancer.Client.clear_foreground_finish].
 */
void
membalancer_client_clear_foreground(MembalancerClient *client, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task;

    g_return_if_fail(CLIENT_READY(client));
    task = _membalancer_call_task(client, cancellable, callback, user_data,
                                  membalancer_client_clear_foreground,
                                  mb_lib_gen_mem_balancer_call_clear_foreground_finish);
    mb_lib_gen_mem_balancer_call_clear_foreground(client->manager, cancellable,
                                                  _membalancer_call_done, task);
}

/**
 * membalancer_client_clear_foreground_finish:
 * @client: a #MembalancerClient
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
membalancer_client_clear_foreground_finish(MembalancerClient *client, GAsyncResult *result,
                                           GError **error)
{
    return _membalancer_call_finish(client, result, membalancer_client_clear_foreground, error);
}

/**
 * membalancer_client_clear_foreground_sync:
 * @client: a #MembalancerClient
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of [method@Membalancer.Client.clear_foreground].
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
membalancer_client_clear_foreground_sync(MembalancerClient *client, GCancellable *cancellable,
                                         GError **error)
{
    GError *local = NULL;
    gboolean ok;

    g_return_val_if_fail(CLIENT_READY(client), FALSE);
    ok = mb_lib_gen_mem_balancer_call_clear_foreground_sync(client->manager, cancellable,
                                                            &local);
    return _membalancer_sync_result(client, ok, local, error);
}

/* ---- RegisterOrUpdateVM ---- */

/**
 * membalancer_client_register_or_update_vm:
 * @client: a #MembalancerClient
 * @name: the libvirt domain name of the VM
 * @priority: its QoS priority, 0 to 100 (the higher is served first)
 * @min_kib: its guaranteed minimum allocation in KiB; 0: the service's
 *   default for a new VM, the current one for a registered VM
 * @max_kib: the most it may be given, in KiB; 0: the domain's maximum for
 *   a new VM, the current one for a registered VM
 * @foreground: make it the foreground VM (%FALSE: the flag is left as it is)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * As [method@Membalancer.Client.register_vm], but a VM already registered
 * is updated with these settings instead of failing: an application can
 * call it at every start. Finish with
 * [method@Membalancer.Client.register_or_update_vm_finish].
 */
void
membalancer_client_register_or_update_vm(MembalancerClient *client, const char *name,
                                         guint priority, guint64 min_kib, guint64 max_kib,
                                         gboolean foreground, GCancellable *cancellable,
                                         GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(CLIENT_READY(client));
    g_return_if_fail(name != NULL);
    _membalancer_register_start(
        client, name, priority, _membalancer_register_options(min_kib, max_kib, foreground),
        TRUE, cancellable, callback, user_data, membalancer_client_register_or_update_vm);
}

/**
 * membalancer_client_register_or_update_vm_finish:
 * @client: a #MembalancerClient
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the VM, or %NULL with @error set
 *   (%MEMBALANCER_ERROR_INVALID_ARGS, %MEMBALANCER_ERROR_NO_SUCH_VM, ...)
 */
MembalancerVm *
membalancer_client_register_or_update_vm_finish(MembalancerClient *client, GAsyncResult *result,
                                                GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, client), NULL);
    g_return_val_if_fail(
        g_async_result_is_tagged(result, membalancer_client_register_or_update_vm), NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}

/**
 * membalancer_client_register_or_update_vm_sync:
 * @client: a #MembalancerClient
 * @name: the libvirt domain name of the VM
 * @priority: its QoS priority, 0 to 100
 * @min_kib: as for [method@Membalancer.Client.register_or_update_vm]
 * @max_kib: as for [method@Membalancer.Client.register_or_update_vm]
 * @foreground: make it the foreground VM
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of [method@Membalancer.Client.register_or_update_vm].
 *
 * Returns: (transfer full): the VM, or %NULL with @error set
 */
MembalancerVm *
membalancer_client_register_or_update_vm_sync(MembalancerClient *client, const char *name,
                                              guint priority, guint64 min_kib, guint64 max_kib,
                                              gboolean foreground, GCancellable *cancellable,
                                              GError **error)
{
    g_return_val_if_fail(CLIENT_READY(client), NULL);
    g_return_val_if_fail(name != NULL, NULL);
    return _membalancer_register_sync(
        client, name, priority, _membalancer_register_options(min_kib, max_kib, foreground),
        TRUE, cancellable, error);
}

/* ---- RegisterVM / RegisterOrUpdateVM with their a{sv} options ---- */

/**
 * membalancer_client_register_vm_full:
 * @client: a #MembalancerClient
 * @name: the libvirt domain name of the VM
 * @priority: its QoS priority, 0 to 100 (the higher is served first)
 * @options: a `a{sv}` dictionary, as RegisterVM takes it: `min-kib` and
 *   `max-kib` (`t`), `foreground` (`b`); a key given is used as given (a
 *   `min-kib` of 0 is a minimum of 0, not the default); a floating
 *   reference is sunk
 * @update: %TRUE: RegisterOrUpdateVM (a registered VM is updated)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * As [method@Membalancer.Client.register_vm] (or
 * [method@Membalancer.Client.register_or_update_vm] when @update), for a
 * caller that passes the service's options through, such as a command line
 * that must tell "not given" from 0. Finish with
 * [method@Membalancer.Client.register_vm_full_finish].
 */
void
membalancer_client_register_vm_full(MembalancerClient *client, const char *name, guint priority,
                                    GVariant *options, gboolean update,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
    g_return_if_fail(CLIENT_READY(client));
    g_return_if_fail(name != NULL);
    g_return_if_fail(g_variant_is_of_type(options, G_VARIANT_TYPE_VARDICT));
    _membalancer_register_start(client, name, priority, options, update, cancellable, callback,
                                user_data, membalancer_client_register_vm_full);
}

/**
 * membalancer_client_register_vm_full_finish:
 * @client: a #MembalancerClient
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the VM, or %NULL with @error set
 *   (%MEMBALANCER_ERROR_INVALID_ARGS for an unknown option or one of the
 *   wrong type, %MEMBALANCER_ERROR_ALREADY_REGISTERED, ...)
 */
MembalancerVm *
membalancer_client_register_vm_full_finish(MembalancerClient *client, GAsyncResult *result,
                                           GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, client), NULL);
    g_return_val_if_fail(g_async_result_is_tagged(result, membalancer_client_register_vm_full),
                         NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}

/**
 * membalancer_client_register_vm_full_sync:
 * @client: a #MembalancerClient
 * @name: the libvirt domain name of the VM
 * @priority: its QoS priority, 0 to 100
 * @options: as for [method@Membalancer.Client.register_vm_full]
 * @update: %TRUE: a registered VM is updated
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking form of [method@Membalancer.Client.register_vm_full].
 *
 * Returns: (transfer full): the VM, or %NULL with @error set
 */
MembalancerVm *
membalancer_client_register_vm_full_sync(MembalancerClient *client, const char *name,
                                         guint priority, GVariant *options, gboolean update,
                                         GCancellable *cancellable, GError **error)
{
    g_return_val_if_fail(CLIENT_READY(client), NULL);
    g_return_val_if_fail(name != NULL, NULL);
    g_return_val_if_fail(g_variant_is_of_type(options, G_VARIANT_TYPE_VARDICT), NULL);
    return _membalancer_register_sync(client, name, priority, options, update, cancellable,
                                      error);
}
