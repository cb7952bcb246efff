/* The engine's life: build (restore), start, stop. The top of the
 * engine's files: it calls the registry and the tick, nothing calls it. */
#include "mb-engine.h"

#include "mb-backend-factory.h"
#include "mb-engine-core-private.h"

MbEngine *
mb_engine_new(MbConfig *config, GError **error)
{
    g_autoptr(MbEngine) engine = g_object_new(MB_TYPE_ENGINE, NULL);
    g_autoptr(MbState) state = NULL;

    engine->config = config;
    engine->backend = mb_backend_new(config, error);
    if (engine->backend == NULL)
        return NULL;
    engine->store = mb_state_store_new(config->state_dir, error);
    if (engine->store == NULL)
        return NULL;
    state = mb_state_store_load(engine->store, error);
    if (state == NULL)
        return NULL;
    mb_registry_restore(engine, state);
    mb_engine_update_figures(engine);
    return g_steal_pointer(&engine);
}

static void
on_backend_urgent(MbBackend *backend, const char *vm_name, guint urgent, gpointer engine)
{
    mb_tick_urgent(engine, vm_name, urgent);
}

void
mb_engine_start(MbEngine *engine)
{
    if (engine->stopping)
        return;
    mb_engine_update_figures(engine);
    if (engine->urgent_handler == 0)
        engine->urgent_handler =
            g_signal_connect(engine->backend, "urgent", G_CALLBACK(on_backend_urgent), engine);
    mb_tick_start(engine);
}

void
mb_engine_begin_stop(MbEngine *engine)
{
    if (engine->stopping)
        return;
    /* 1. Accept nothing new: every operation fails from here on. */
    engine->stopping = TRUE;
    /* 2. Cancel: no tick starts any more; the workers see the cancellable. */
    g_clear_signal_handler(&engine->urgent_handler, engine->backend);
    mb_tick_stop(engine);
    g_cancellable_cancel(engine->cancellable);
}

void
mb_engine_stop(MbEngine *engine)
{
    mb_engine_begin_stop(engine);
    /* 3. Drain: the workers' callbacks (which free their work) run here. */
    while (engine->n_workers > 0)
        g_main_context_iteration(NULL, TRUE);
    mb_engine_complete_waiters(engine);
}
