/* The engine object: its signals and properties, its workers, and what
 * it publishes. Calls nothing of the registry or the tick (they call it). */
#include "mb-engine-core-private.h"

#include "mb-error.h"

enum { SIGNAL_VM_ADDED, SIGNAL_VM_REMOVED, SIGNAL_REBALANCED, N_SIGNALS };
static guint signals[N_SIGNALS];

enum { PROP_0, PROP_PAUSED, PROP_POOL_KIB, PROP_CONNECTED, PROP_N_VMS, N_PROPS };
static GParamSpec *props[N_PROPS];

G_DEFINE_TYPE(MbEngine, mb_engine, G_TYPE_OBJECT)

static void
mb_engine_init(MbEngine *engine)
{
    engine->vms = g_ptr_array_new_with_free_func(g_object_unref);
    engine->vms_by_name = g_hash_table_new(g_str_hash, g_str_equal);
    engine->cancellable = g_cancellable_new();
    engine->waiters = g_array_new(FALSE, FALSE, sizeof(MbTickWaiter));
    engine->next_waiters = g_array_new(FALSE, FALSE, sizeof(MbTickWaiter));
    engine->scratch = g_array_new(FALSE, TRUE, sizeof(MbVm));
    engine->urgent_asked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    engine->urgent_used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

void
mb_engine_run_waiters(GArray *waiters)
{
    g_autoptr(GArray) now = g_array_copy(waiters);

    g_array_set_size(waiters, 0);
    for (guint i = 0; i < now->len; i++) {
        MbTickWaiter *waiter = &g_array_index(now, MbTickWaiter, i);
        waiter->func(waiter->data);
    }
}

void
mb_engine_complete_waiters(MbEngine *engine)
{
    /* Nobody ticks any more: complete whoever asked. */
    if (engine->waiters != NULL) {
        mb_engine_run_waiters(engine->waiters);
        mb_engine_run_waiters(engine->next_waiters);
    }
}

/* No worker runs here: each holds a reference until its callback has run.
 * What is left is the timers (they hold none) and the waiters. */
static void
mb_engine_dispose(GObject *object)
{
    MbEngine *engine = MB_ENGINE(object);

    engine->stopping = TRUE;
    g_clear_handle_id(&engine->timer_id, g_source_remove);
    g_clear_handle_id(&engine->urgent_id, g_source_remove);
    if (engine->backend != NULL)
        g_clear_signal_handler(&engine->urgent_handler, engine->backend);
    mb_engine_complete_waiters(engine);
    g_clear_pointer(&engine->vms_by_name, g_hash_table_unref);
    g_clear_pointer(&engine->vms, g_ptr_array_unref);
    g_clear_pointer(&engine->store, mb_state_store_free);
    /* Last: the libvirt backend drains what libvirt left on the main
     * context, and nothing above may run by then. */
    g_clear_pointer(&engine->backend, mb_backend_free);
    G_OBJECT_CLASS(mb_engine_parent_class)->dispose(object);
}

static void
mb_engine_finalize(GObject *object)
{
    MbEngine *engine = MB_ENGINE(object);

    g_clear_pointer(&engine->waiters, g_array_unref);
    g_clear_pointer(&engine->next_waiters, g_array_unref);
    g_clear_pointer(&engine->scratch, g_array_unref);
    g_clear_pointer(&engine->planner, mb_planner_free);
    g_clear_pointer(&engine->urgent_vm, g_free);
    g_clear_pointer(&engine->urgent_asked, g_hash_table_unref);
    g_clear_pointer(&engine->urgent_used, g_hash_table_unref);
    g_clear_object(&engine->cancellable);
    g_clear_pointer(&engine->config, mb_config_free);
    G_OBJECT_CLASS(mb_engine_parent_class)->finalize(object);
}

static void
mb_engine_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    MbEngine *engine = MB_ENGINE(object);

    switch (id) {
    case PROP_PAUSED:
        g_value_set_boolean(value, engine->paused);
        break;
    case PROP_POOL_KIB:
        g_value_set_uint64(value, engine->pool_kib);
        break;
    case PROP_CONNECTED:
        g_value_set_boolean(value, engine->connected);
        break;
    case PROP_N_VMS:
        g_value_set_uint(value, mb_engine_get_n_vms(engine));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void
mb_engine_class_init(MbEngineClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

    object_class->dispose = mb_engine_dispose;
    object_class->finalize = mb_engine_finalize;
    object_class->get_property = mb_engine_get_property;
    props[PROP_PAUSED] = g_param_spec_boolean("paused", NULL, NULL, FALSE, flags);
    props[PROP_POOL_KIB] =
        g_param_spec_uint64("pool-kib", NULL, NULL, 0, G_MAXUINT64, 0, flags);
    props[PROP_CONNECTED] = g_param_spec_boolean("connected", NULL, NULL, FALSE, flags);
    props[PROP_N_VMS] = g_param_spec_uint("n-vms", NULL, NULL, 0, G_MAXUINT, 0, flags);
    g_object_class_install_properties(object_class, N_PROPS, props);
    signals[SIGNAL_VM_ADDED] =
        g_signal_new("vm-added", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, MB_TYPE_ENGINE_VM);
    signals[SIGNAL_VM_REMOVED] =
        g_signal_new("vm-removed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, MB_TYPE_ENGINE_VM);
    signals[SIGNAL_REBALANCED] =
        g_signal_new("rebalanced", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_VARIANT);
}

GTask *
mb_engine_new_worker_task(MbEngine *engine, GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(engine, engine->cancellable, callback, user_data);

    /* The callback always runs, cancelled or not: it is where the
     * worker's results are freed and n_workers drops. */
    g_task_set_check_cancellable(task, FALSE);
    engine->n_workers++;
    return task;
}

void
mb_engine_worker_done(MbEngine *engine)
{
    g_assert(engine->n_workers > 0);
    engine->n_workers--;
}

gboolean
mb_engine_check_running(MbEngine *engine, GError **error)
{
    if (!engine->stopping)
        return TRUE;
    g_set_error_literal(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                        "membalancerd is stopping: try again when it is back");
    return FALSE;
}

gboolean
mb_engine_is_stopping(MbEngine *engine)
{
    return engine->stopping;
}

MbConfig *
mb_engine_get_config(MbEngine *engine)
{
    return engine->config;
}

const char *
mb_engine_get_backend_name(MbEngine *engine)
{
    return mb_backend_get_name(engine->backend);
}

GPtrArray *
mb_engine_get_vms(MbEngine *engine)
{
    return engine->vms;
}

guint
mb_engine_get_n_vms(MbEngine *engine)
{
    return engine->vms->len;
}

gboolean
mb_engine_is_registered(MbEngine *engine, const char *name)
{
    return g_hash_table_contains(engine->vms_by_name, name);
}

MbEngineVm *
mb_engine_lookup_vm(MbEngine *engine, const char *name, GError **error)
{
    MbEngineVm *vm;

    if (!mb_vm_name_validate(name, error))
        return NULL;
    vm = g_hash_table_lookup(engine->vms_by_name, name);
    if (vm == NULL)
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_NO_SUCH_VM,
                    "no VM named '%s' is registered (see membalancerctl list)", name);
    return vm;
}

gboolean
mb_engine_get_paused(MbEngine *engine)
{
    return engine->paused;
}

guint64
mb_engine_get_pool_kib(MbEngine *engine)
{
    return engine->pool_kib;
}

gboolean
mb_engine_get_connected(MbEngine *engine)
{
    return engine->connected;
}

void
mb_engine_params(MbEngine *engine, MbParams *params)
{
    mb_config_to_params_for_host(engine->config, mb_backend_host_memory_kib(engine->backend),
                                 params);
    if (params->pool_kib == 0) {
        /* Auto without a host size (the fake): redistribute what the VMs
         * have, never more. Offline VMs hold nothing. */
        guint64 sum = 0;
        for (guint i = 0; i < engine->vms->len; i++)
            sum += mb_engine_vm_get_vm(g_ptr_array_index(engine->vms, i))->alloc_kib;
        params->pool_kib = sum + params->reserve_kib;
        /* A spare left unallocated would leave this pool for good. */
        params->spare_kib = 0;
    }
}

void
mb_engine_add_vm(MbEngine *engine, MbEngineVm *vm)
{
    g_ptr_array_add(engine->vms, vm);
    g_hash_table_insert(engine->vms_by_name, (gpointer)mb_engine_vm_get_name(vm), vm);
    g_signal_emit(engine, signals[SIGNAL_VM_ADDED], 0, vm);
}

void
mb_engine_remove_vm(MbEngine *engine, MbEngineVm *vm)
{
    g_signal_emit(engine, signals[SIGNAL_VM_REMOVED], 0, vm);
    g_hash_table_remove(engine->vms_by_name, mb_engine_vm_get_name(vm));
    g_ptr_array_remove(engine->vms, vm); /* frees the name: last */
}

void
mb_engine_set_paused_state(MbEngine *engine, gboolean paused)
{
    if (engine->paused == paused)
        return;
    engine->paused = paused;
    g_object_notify_by_pspec(G_OBJECT(engine), props[PROP_PAUSED]);
}

void
mb_engine_update_figures(MbEngine *engine)
{
    gboolean connected = mb_backend_is_connected(engine->backend);
    MbParams params;

    mb_engine_params(engine, &params);
    g_object_freeze_notify(G_OBJECT(engine));
    if (engine->pool_kib != params.pool_kib) {
        engine->pool_kib = params.pool_kib;
        g_object_notify_by_pspec(G_OBJECT(engine), props[PROP_POOL_KIB]);
    }
    if (engine->connected != connected) {
        engine->connected = connected;
        g_object_notify_by_pspec(G_OBJECT(engine), props[PROP_CONNECTED]);
    }
    /* Cheap, and the count changes only with vm-added or vm-removed. */
    g_object_notify_by_pspec(G_OBJECT(engine), props[PROP_N_VMS]);
    g_object_thaw_notify(G_OBJECT(engine));
}

void
mb_engine_emit_rebalanced(MbEngine *engine, GVariant *moves)
{
    g_autoptr(GVariant) owned = g_variant_ref_sink(moves);

    g_signal_emit(engine, signals[SIGNAL_REBALANCED], 0, owned);
}
