/* A tick's job and the worker that moves the balloons (mb-tick-apply.c):
 * shared by mb-tick.c, which fills the job in the main thread. */
#pragma once

#include <gio/gio.h>

#include "mb-backend.h"
#include "mb-grant.h"
#include "mb-policy.h"

G_BEGIN_DECLS

/* One planned VM, beside its entry in the grant's accounting
 * (TickJob.grant_vms, same index). */
typedef struct {
    char *name;
    guint64 from_kib; /* as the planner counted it */
    MbReason reason;
    gboolean gone;   /* unregistered meanwhile: its balloon is left alone */
    gboolean failed; /* the backend refused a target (error says why) */
    char *error;
} TickAccount;

/* What the main thread tells the worker while it moves the balloons
 * (engine->tick_changes). */
typedef struct _MbTickChanges MbTickChanges;
struct _MbTickChanges {
    GMutex lock;
    guint64 registered_kib;   /* held by the VMs registered since the plan */
    GHashTable *unregistered; /* names unregistered since the plan */
};

typedef struct {
    MbBackend *backend;
    MbTickChanges changes;
    GArray *reads;     /* TickRead */
    GArray *accounts;  /* TickAccount */
    GArray *grant_vms; /* MbGrantVm, one per account (mb-grant.h) */
    GArray *grows;     /* size_t: the grant's scratch */
    MbGrant grant;
    gint64 now_us;
    gint64 last_regular_us; /* when the last regular tick before this one began */
    gboolean urgent;        /* an urgent tick, before the interval is over */
    guint64 capacity_kib;
    guint64 min_step_kib;
    guint wait_ms; /* how long growth may wait for donors' balloons */
} TickJob;

/* GTaskThreadFunc, task_data a TickJob with its accounts and grant_vms
 * filled: the grant (policy/mb-grant.h) shrinks first, then grows by what
 * is free, waiting (up to wait_ms) for the donors' balloons to release
 * what they were asked for, so that the VMs together never hold more than
 * the pool. */
void mb_tick_apply_thread(GTask *task, gpointer source, gpointer task_data,
                          GCancellable *cancellable);

G_END_DECLS
