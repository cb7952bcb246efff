/* A tick's job and the worker that moves the balloons (mb-tick-apply.c):
 * shared by mb-tick.c, which fills the job in the main thread. */
#pragma once

#include <gio/gio.h>

#include "mb-backend.h"
#include "mb-policy.h"

G_BEGIN_DECLS

/* One planned VM in the pool's accounting, and its move if it has one. */
typedef struct {
    char *name;
    guint priority;
    gboolean foreground;
    guint64 actual_kib; /* the balloon */
    guint64 set_kib;    /* what it may hold by its target: committed, then each new target */
    guint64 rising_kib; /* > 0: its balloon was still deflating toward this target
                         * in force when the tick began; a guest finishes the
                         * batch it is deflating before it sees a lower target,
                         * so it may rise up to it first. Counted until the
                         * balloon is seen at its new target or at this one. */
    guint64 from_kib;   /* as the planner counted it */
    guint64 want_kib;   /* the planner's target */
    MbReason reason;
    gboolean move;    /* want_kib != from_kib */
    gboolean changed; /* set_kib changed this tick */
    gboolean gone;    /* unregistered meanwhile: its balloon is left alone */
    gboolean failed;
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
    GArray *reads;    /* TickRead */
    GArray *accounts; /* TickAccount */
    gint64 now_us;
    gint64 last_regular_us; /* when the last regular tick before this one began */
    gboolean urgent;        /* an urgent tick, before the interval is over */
    guint64 capacity_kib;
    guint64 min_step_kib;
    guint wait_ms; /* how long growth may wait for donors' balloons */
} TickJob;

/* GTaskThreadFunc, task_data a TickJob with its accounts filled: shrink
 * first; then grow by what is free, waiting (up to wait_ms) for the
 * donors' balloons to release what they were asked for, so that the VMs
 * together never hold more than the pool. */
void mb_tick_apply_thread(GTask *task, gpointer source, gpointer task_data,
                          GCancellable *cancellable);

G_END_DECLS
