/* The registered VMs: register, unregister, settings, persistence. Every
 * change is checked in full, stored on disk, and only then applied, so a
 * failed call changes nothing. */
#include "mb-registry.h"

#include "mb-engine-core-private.h"
#include "mb-error.h"
#include "mb-log.h"
#include "mb-tick.h"

#define MB_DEFAULT_MIN_KIB (256 * 1024)

static MbState *
snapshot(MbEngine *engine)
{
    MbState *state = mb_state_new();

    state->paused = engine->paused;
    for (guint i = 0; i < engine->vms->len; i++)
        g_ptr_array_add(state->registrations,
                        mb_engine_vm_dup_registration(g_ptr_array_index(engine->vms, i)));
    return state;
}

static MbRegistration *
find_in(MbState *state, const char *name)
{
    for (guint i = 0; i < state->registrations->len; i++) {
        MbRegistration *reg = g_ptr_array_index(state->registrations, i);
        if (g_str_equal(reg->name, name))
            return reg;
    }
    return NULL;
}

static void
add_vm(MbEngine *engine, const MbRegistration *reg, const MbDomainInfo *info)
{
    MbEngineVm *vm = mb_engine_vm_new(reg, info->current_kib, info->max_kib);

    /* Allowed: it stays out of balancing until it runs. */
    if (!info->running) {
        mb_engine_vm_set_offline(vm);
        mb_engine_vm_publish(vm);
    }

    mb_engine_add_vm(engine, vm);
}

static gboolean
check_priority(guint priority, GError **error)
{
    if (priority > MB_PRIORITY_MAX) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "priority %u is out of range: use 0 (lowest) to %u (highest)", priority,
                    MB_PRIORITY_MAX);
        return FALSE;
    }
    return TRUE;
}

/* Applies a stored state's settings to the live objects. */
static void
apply_settings(MbEngine *engine, MbState *state)
{
    for (guint i = 0; i < state->registrations->len; i++) {
        MbRegistration *reg = g_ptr_array_index(state->registrations, i);
        MbEngineVm *vm = g_hash_table_lookup(engine->vms_by_name, reg->name);
        if (vm != NULL)
            mb_engine_vm_set_registration(vm, reg);
    }
}

/* The domain may have been redefined smaller since it was registered:
 * plan within what it has now (the file keeps what was asked for). */
static void
clamp_to_domain(MbRegistration *reg, const MbDomainInfo *info)
{
    guint64 max_kib = reg->max_kib, min_kib = reg->min_kib;

    if (info->max_kib == 0 || reg->max_kib <= info->max_kib)
        return;
    reg->max_kib = info->max_kib;
    reg->min_kib = MIN(reg->min_kib, reg->max_kib);
    mb_log(G_LOG_LEVEL_WARNING, "MB_VM", reg->name,
           "registered VM '%s': max %" G_GUINT64_FORMAT " KiB (min %" G_GUINT64_FORMAT
           " KiB) is above the domain's maximum memory of %" G_GUINT64_FORMAT
           " KiB now: planned with max %" G_GUINT64_FORMAT " KiB, min %" G_GUINT64_FORMAT
           " KiB (store new limits with set-limits)",
           reg->name, max_kib, min_kib, info->max_kib, reg->max_kib, reg->min_kib);
}

void
mb_registry_restore(MbEngine *engine, MbState *state)
{
    mb_engine_set_paused_state(engine, state->paused);
    for (guint i = 0; i < state->registrations->len; i++) {
        MbRegistration *reg = g_ptr_array_index(state->registrations, i);
        g_autoptr(GError) error = NULL;
        MbDomainInfo info = {0};

        /* A domain that is gone keeps its registration: it may come back. */
        if (!mb_backend_lookup(engine->backend, reg->name, &info, &error))
            mb_log(G_LOG_LEVEL_WARNING, "MB_VM", reg->name,
                   "registered VM '%s' is not available now: %s", reg->name, error->message);
        else
            clamp_to_domain(reg, &info);
        add_vm(engine, reg, &info);
    }
    if (state->registrations->len > 0)
        mb_log(G_LOG_LEVEL_MESSAGE, NULL, NULL, "restored %u registered VMs from %s",
               state->registrations->len, mb_state_store_get_path(engine->store));
}

typedef struct {
    char *name;
    guint priority;
    MbRegisterOptions options;
    MbDomainInfo info;
} RegisterCall;

static void
register_call_free(RegisterCall *call)
{
    g_free(call->name);
    g_free(call);
}

static gboolean
check_registration(MbEngine *engine, const char *name, guint priority,
                   const MbRegisterOptions *options, GError **error)
{
    if (!mb_vm_name_validate(name, error) || !check_priority(priority, error))
        return FALSE;
    if (options->has_min && options->has_max && options->min_kib > options->max_kib) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "min-kib %" G_GUINT64_FORMAT " is above max-kib %" G_GUINT64_FORMAT
                    ": the minimum must not exceed the maximum",
                    options->min_kib, options->max_kib);
        return FALSE;
    }
    if (g_hash_table_contains(engine->vms_by_name, name)) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_ALREADY_REGISTERED,
                    "VM '%s' is already registered (change it with set-limits, "
                    "set-priority, set-foreground, or register --update)",
                    name);
        return FALSE;
    }
    return TRUE;
}

/* Worker thread: the hypervisor may take its time. */
static void
lookup_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
    RegisterCall *call = task_data;
    MbEngine *engine = source;
    GError *error = NULL;

    if (g_cancellable_is_cancelled(cancellable))
        g_task_return_boolean(task, TRUE); /* finish() refuses: stopping */
    else if (!mb_backend_lookup(engine->backend, call->name, &call->info, &error))
        g_task_return_error(task, error);
    else
        g_task_return_boolean(task, TRUE);
}

/* Main thread, after the lookup: check again (the world moved on), store, apply. */
static gboolean
register_finish(MbEngine *engine, RegisterCall *call, GError **error)
{
    g_autoptr(MbState) state = NULL;
    const MbRegisterOptions *options = &call->options;
    const char *name = call->name;
    guint64 min_kib, max_kib;

    if (!check_registration(engine, name, call->priority, options, error))
        return FALSE;
    max_kib = options->has_max ? options->max_kib : call->info.max_kib;
    if (max_kib > call->info.max_kib) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "max-kib %" G_GUINT64_FORMAT " is above the maximum memory of domain "
                    "'%s' (%" G_GUINT64_FORMAT " KiB)",
                    max_kib, name, call->info.max_kib);
        return FALSE;
    }
    min_kib = options->has_min ? options->min_kib : MIN(MB_DEFAULT_MIN_KIB, max_kib);
    if (min_kib > max_kib) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "min-kib %" G_GUINT64_FORMAT " is above the maximum %" G_GUINT64_FORMAT
                    " KiB of domain '%s'",
                    min_kib, max_kib, name);
        return FALSE;
    }

    state = snapshot(engine);
    if (options->foreground) {
        for (guint i = 0; i < state->registrations->len; i++)
            ((MbRegistration *)g_ptr_array_index(state->registrations, i))->foreground = FALSE;
    }
    g_ptr_array_add(state->registrations, mb_registration_new(name, call->priority, min_kib,
                                                              max_kib, options->foreground));
    if (!mb_state_store_save(engine->store, state, error))
        return FALSE;

    apply_settings(engine, state);
    add_vm(engine, g_ptr_array_index(state->registrations, state->registrations->len - 1),
           &call->info);
    mb_tick_vm_registered(engine, g_hash_table_lookup(engine->vms_by_name, name));
    mb_engine_update_figures(engine);
    mb_log(G_LOG_LEVEL_MESSAGE, "MB_VM", name,
           "registered VM '%s': priority %u, min %" G_GUINT64_FORMAT
           " KiB, max %" G_GUINT64_FORMAT " KiB%s%s",
           name, call->priority, min_kib, max_kib, options->foreground ? ", foreground" : "",
           call->info.running ? "" : " (offline until its domain runs)");
    return TRUE;
}

void
mb_engine_register_vm_async(MbEngine *engine, const char *name, guint priority,
                            const MbRegisterOptions *options, GAsyncReadyCallback callback,
                            gpointer user_data)
{
    g_autoptr(GTask) task = mb_engine_new_worker_task(engine, callback, user_data);
    g_autoptr(GError) error = NULL;
    RegisterCall *call;

    g_task_set_source_tag(task, mb_engine_register_vm_async);
    /* Cheap checks first, so a bad call never reaches the hypervisor. */
    if (!mb_engine_check_running(engine, &error) ||
        !check_registration(engine, name, priority, options, &error)) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    call = g_new0(RegisterCall, 1);
    call->name = g_strdup(name);
    call->priority = priority;
    call->options = *options;
    g_task_set_task_data(task, call, (GDestroyNotify)register_call_free);
    g_task_run_in_thread(task, lookup_thread);
}

gboolean
mb_engine_register_vm_finish(MbEngine *engine, GAsyncResult *result, GError **error)
{
    GTask *task = G_TASK(result);
    RegisterCall *call = g_task_get_task_data(task);

    g_return_val_if_fail(g_task_is_valid(result, engine), FALSE);
    mb_engine_worker_done(engine);
    if (!g_task_propagate_boolean(task, error))
        return FALSE;
    /* Stop began while the hypervisor answered: nothing is added. */
    if (!mb_engine_check_running(engine, error))
        return FALSE;
    return register_finish(engine, call, error);
}

gboolean
mb_engine_unregister_vm(MbEngine *engine, const char *name, GError **error)
{
    g_autoptr(MbState) state = NULL;
    MbEngineVm *vm = NULL;

    if (!mb_engine_check_running(engine, error) ||
        (vm = mb_engine_lookup_vm(engine, name, error)) == NULL)
        return FALSE;
    state = snapshot(engine);
    g_ptr_array_remove(state->registrations, find_in(state, name));
    if (!mb_state_store_save(engine->store, state, error))
        return FALSE;

    mb_backend_forget(engine->backend, name);
    mb_tick_vm_unregistered(engine, name);
    mb_engine_remove_vm(engine, vm); /* frees the VM's name: last */
    mb_engine_update_figures(engine);
    mb_log(G_LOG_LEVEL_MESSAGE, "MB_VM", name, "unregistered VM '%s'", name);
    return TRUE;
}

gboolean
mb_engine_set_priority(MbEngine *engine, const char *name, guint priority, GError **error)
{
    g_autoptr(MbState) state = NULL;
    MbEngineVm *vm = NULL;

    if (!mb_engine_check_running(engine, error) ||
        (vm = mb_engine_lookup_vm(engine, name, error)) == NULL ||
        !check_priority(priority, error))
        return FALSE;
    state = snapshot(engine);
    MbRegistration *reg = find_in(state, name);
    if (reg != NULL)
        reg->priority = priority;
    if (!mb_state_store_save(engine->store, state, error))
        return FALSE;
    apply_settings(engine, state);
    mb_log(G_LOG_LEVEL_INFO, "MB_VM", name, "VM '%s' priority %u", name, priority);
    return TRUE;
}

gboolean
mb_engine_set_foreground(MbEngine *engine, const char *name, GError **error)
{
    g_autoptr(MbState) state = NULL;
    MbEngineVm *vm = NULL;

    if (!mb_engine_check_running(engine, error) ||
        (vm = mb_engine_lookup_vm(engine, name, error)) == NULL)
        return FALSE;
    state = snapshot(engine);
    for (guint i = 0; i < state->registrations->len; i++) {
        MbRegistration *reg = g_ptr_array_index(state->registrations, i);
        reg->foreground = g_str_equal(reg->name, name);
    }
    if (!mb_state_store_save(engine->store, state, error))
        return FALSE;
    apply_settings(engine, state);
    mb_log(G_LOG_LEVEL_INFO, "MB_VM", name, "VM '%s' is the foreground VM", name);
    /* The shell launches the app now: its headroom is planned at once
     * (within the urgent budget), not at the next interval. */
    mb_tick_urgent(engine, name, MB_TICK_URGENT_FOREGROUND);
    return TRUE;
}

/* A registered VM's limits are checked as RegisterVM checks them; a domain
 * not reachable now (maximum unknown) is planned within its maximum later. */
static gboolean
check_limits(MbEngineVm *vm, const char *name, guint64 min_kib, guint64 max_kib, GError **error)
{
    guint64 domain_max_kib = mb_engine_vm_get_domain_max(vm);

    if (min_kib > max_kib) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "min-kib %" G_GUINT64_FORMAT " is above max-kib %" G_GUINT64_FORMAT
                    ": the minimum must not exceed the maximum",
                    min_kib, max_kib);
        return FALSE;
    }
    if (domain_max_kib != 0 && max_kib > domain_max_kib) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "max-kib %" G_GUINT64_FORMAT " is above the maximum memory of domain "
                    "'%s' (%" G_GUINT64_FORMAT " KiB)",
                    max_kib, name, domain_max_kib);
        return FALSE;
    }
    return TRUE;
}

/* The one path for changing a registered VM: priority (NULL: kept), the
 * given options; all checked, stored, then applied. */
static gboolean
update_vm(MbEngine *engine, const char *name, const guint *priority,
          const MbRegisterOptions *options, GError **error)
{
    g_autoptr(MbState) state = NULL;
    MbRegistration *reg;
    MbEngineVm *vm = NULL;
    guint64 min_kib, max_kib;

    if (!mb_engine_check_running(engine, error) ||
        (vm = mb_engine_lookup_vm(engine, name, error)) == NULL ||
        (priority != NULL && !check_priority(*priority, error)))
        return FALSE;
    state = snapshot(engine);
    reg = find_in(state, name);
    min_kib = options->has_min ? options->min_kib : reg->min_kib;
    max_kib = options->has_max ? options->max_kib : reg->max_kib;
    if (!check_limits(vm, name, min_kib, max_kib, error))
        return FALSE;
    if (priority != NULL)
        reg->priority = *priority;
    reg->min_kib = min_kib;
    reg->max_kib = max_kib;
    if (options->has_foreground) {
        for (guint i = 0; options->foreground && i < state->registrations->len; i++)
            ((MbRegistration *)g_ptr_array_index(state->registrations, i))->foreground = FALSE;
        reg->foreground = options->foreground;
    }
    if (!mb_state_store_save(engine->store, state, error))
        return FALSE;
    apply_settings(engine, state);
    mb_log(G_LOG_LEVEL_MESSAGE, "MB_VM", name,
           "VM '%s' changed: priority %u, min %" G_GUINT64_FORMAT " KiB, max %" G_GUINT64_FORMAT
           " KiB%s",
           name, reg->priority, min_kib, max_kib, reg->foreground ? ", foreground" : "");
    return TRUE;
}

gboolean
mb_engine_update_vm(MbEngine *engine, const char *name, guint priority,
                    const MbRegisterOptions *options, GError **error)
{
    return update_vm(engine, name, &priority, options, error);
}

gboolean
mb_engine_set_limits(MbEngine *engine, const char *name, guint64 min_kib, guint64 max_kib,
                     GError **error)
{
    MbRegisterOptions options = {
        .has_min = TRUE, .min_kib = min_kib, .has_max = TRUE, .max_kib = max_kib};

    return update_vm(engine, name, NULL, &options, error);
}

gboolean
mb_engine_clear_foreground(MbEngine *engine, GError **error)
{
    g_autoptr(MbState) state = NULL;

    if (!mb_engine_check_running(engine, error))
        return FALSE;
    state = snapshot(engine);
    for (guint i = 0; i < state->registrations->len; i++)
        ((MbRegistration *)g_ptr_array_index(state->registrations, i))->foreground = FALSE;
    if (!mb_state_store_save(engine->store, state, error))
        return FALSE;
    apply_settings(engine, state);
    mb_log(G_LOG_LEVEL_INFO, "MB_VM", NULL, "no VM is the foreground VM");
    return TRUE;
}

gboolean
mb_engine_set_paused(MbEngine *engine, gboolean paused, GError **error)
{
    g_autoptr(MbState) state = NULL;

    if (!mb_engine_check_running(engine, error))
        return FALSE;
    state = snapshot(engine);
    state->paused = paused;
    if (!mb_state_store_save(engine->store, state, error))
        return FALSE;
    if (engine->paused != paused)
        mb_log(G_LOG_LEVEL_MESSAGE, "MB_PAUSED", paused ? "true" : "false",
               paused ? "balancing paused" : "balancing resumed");
    mb_engine_set_paused_state(engine, paused);
    return TRUE;
}
