/* The engine's fields and what its own files share (defined in
 * mb-engine-core.c): for mb-engine-core.c,
 * mb-engine.c, mb-registry.c and mb-tick*.c only. */
#pragma once

#include "mb-backend.h"
#include "mb-engine-core.h"
#include "mb-engine-vm.h"
#include "mb-policy.h"
#include "mb-state-store.h"

typedef struct _MbTickChanges MbTickChanges;

typedef struct {
    GDestroyNotify func;
    gpointer data;
} MbTickWaiter;

struct _MbEngine {
    GObject parent_instance;

    MbConfig *config;
    MbBackend *backend;
    gulong urgent_handler; /* on the backend's "urgent" while started */
    MbStateStore *store;

    /* The VMs, in registration order, and by name. */
    GPtrArray *vms;          /* MbEngineVm */
    GHashTable *vms_by_name; /* name -> MbEngineVm (borrowed from vms) */
    gboolean paused;
    /* The published figures (properties pool-kib, connected). */
    guint64 pool_kib;
    gboolean connected;

    /* Shutdown (mb_engine_stop): every GTask has the engine as its source
     * object and this cancellable; n_workers counts those whose callback
     * has not run yet. */
    GCancellable *cancellable;
    gboolean stopping;
    guint n_workers;

    /* Tick loop (mb-tick.c). */
    guint timer_id;
    gboolean tick_running;
    gboolean tick_forced;
    gboolean tick_again;  /* another forced tick was asked for meanwhile */
    GArray *waiters;      /* MbTickWaiter, done at the end of this tick */
    GArray *next_waiters; /* MbTickWaiter, for the tick after */
    MbPlanner *planner;
    GArray *scratch; /* MbVm, the planner's working copy */
    /* While a tick's worker moves balloons: where registrations and
     * unregistrations tell it (mb_tick_vm_registered), else NULL. */
    MbTickChanges *tick_changes;
    /* Urgent ticks (a guest under pressure, mb_tick_urgent). */
    gint64 tick_began_us;    /* when the last tick began, 0: none yet */
    gboolean urgent_pending; /* an urgent record waits for a tick */
    unsigned urgent_reasons; /* MB_URGENT_* of the records waiting */
    char *urgent_vm;         /* the first VM of those */
    guint urgent_id;         /* one-shot: the gap since the last tick has passed */
    guint64 n_urgent_ticks;
    GHashTable *urgent_asked; /* set of VM names whose urgent records wait for a tick */
    GHashTable *urgent_used;  /* VM name -> urgent ticks it started this interval */
    gboolean interval_due;    /* the timer fired while a tick ran: the next tick is regular */
    gint64 regular_began_us;  /* when the last regular tick began, 0: none yet */
};

/* mb-engine-core.c */
/* A GTask for a worker: source object engine, the engine's cancellable,
 * counted in n_workers until mb_engine_worker_done(). */
GTask *mb_engine_new_worker_task(MbEngine *engine, GAsyncReadyCallback callback,
                                 gpointer user_data);
void mb_engine_worker_done(MbEngine *engine);
/* FALSE, with Unavailable, once stop has begun. */
gboolean mb_engine_check_running(MbEngine *engine, GError **error);
/* Takes vm: appends it and emits vm-added. */
void mb_engine_add_vm(MbEngine *engine, MbEngineVm *vm);
/* Emits vm-removed, then drops the VM. */
void mb_engine_remove_vm(MbEngine *engine, MbEngineVm *vm);
void mb_engine_set_paused_state(MbEngine *engine, gboolean paused);
/* The pool, the connection and the VM count as they are now: notifies
 * the properties that changed (together, after every change is made). */
void mb_engine_update_figures(MbEngine *engine);
void mb_engine_emit_rebalanced(MbEngine *engine, GVariant *moves);
/* Runs every Rebalance waiter now (stop: no tick will come). */
void mb_engine_complete_waiters(MbEngine *engine);
/* Runs the waiters in waiters and empties it (a waiter may add more). */
void mb_engine_run_waiters(GArray *waiters);
