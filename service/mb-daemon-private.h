/* Shared by mb-daemon.c, mb-registry.c and mb-tick.c only. */
#pragma once

#include "mb-auth.h"
#include "mb-backend.h"
#include "mb-daemon.h"
#include "mb-manager.h"
#include "mb-state-store.h"
#include "mb-vm-object.h"

typedef struct _MbTickChanges MbTickChanges;

typedef struct {
    GDestroyNotify func;
    gpointer data;
} MbTickWaiter;

struct _MbDaemon {
    GObject parent_instance;

    MbConfig *config;
    MbBackend *backend;
    MbStateStore *store;
    MbAuth *auth;

    GDBusConnection *connection;
    GDBusObjectManagerServer *object_manager;
    MbManager *manager;
    guint own_id;
    gboolean name_acquired;
    MbDaemonQuitFunc quit_func;
    gpointer quit_data;

    /* The VMs, in registration order, and by name. */
    GPtrArray *vms;          /* MbVmObject */
    GHashTable *vms_by_name; /* name -> MbVmObject (borrowed from vms) */
    gboolean paused;
    guint n_lookups; /* registrations waiting on the hypervisor */

    /* Shutdown (mb_daemon_stop): every GTask has the daemon as its source
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
    guint64 n_ticks;
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

/* mb-daemon.c: the manager's properties from the current state. */
void mb_daemon_publish_manager(MbDaemon *daemon);
/* A GTask for a worker: source object daemon, the daemon's cancellable,
 * counted in n_workers until mb_daemon_worker_done(). */
GTask *mb_daemon_new_worker_task(MbDaemon *daemon, GAsyncReadyCallback callback,
                                 gpointer user_data);
void mb_daemon_worker_done(MbDaemon *daemon);
/* FALSE, with Unavailable, once stop has begun. */
gboolean mb_daemon_check_running(MbDaemon *daemon, GError **error);

/* mb-registry.c */
void mb_daemon_restore(MbDaemon *daemon, MbState *state);
MbVmObject *mb_daemon_lookup_vm(MbDaemon *daemon, const char *name, GError **error);

/* mb-tick.c */
void mb_tick_start(MbDaemon *daemon);
void mb_tick_stop(MbDaemon *daemon);
void mb_tick_init(MbDaemon *daemon);
void mb_tick_clear(MbDaemon *daemon);
/* Runs every Rebalance waiter now (stop: no tick will come). */
void mb_tick_complete_waiters(MbDaemon *daemon);
/* The backend's urgent function (main thread): a tick now, or as soon
 * as the running one finished and urgent-min-ms passed since the last
 * began; once the VM has started MB_URGENT_TICKS_PER_INTERVAL urgent ticks
 * in this interval, its records wait for the next tick instead. */
void mb_tick_urgent(gpointer daemon, const char *vm_name, unsigned urgent);
/* A host-side reason for an urgent tick, beside the guest's MB_URGENT_*:
 * SetForeground made the VM the foreground VM (its headroom is served at
 * once, not at the next interval). */
#define MB_TICK_URGENT_FOREGROUND 0x100u
/* A VM was registered or unregistered (main thread): a tick's worker
 * moving balloons now counts the new VM's memory as taken, and leaves the
 * balloon of the one that went alone (a set-target already under way
 * completes). */
void mb_tick_vm_registered(MbDaemon *daemon, MbVmObject *vm);
void mb_tick_vm_unregistered(MbDaemon *daemon, const char *name);
/* Resolves pool "auto" for the current VMs. */
void mb_tick_params(MbDaemon *daemon, MbParams *params);
