/* membalancerd: the VMs, the bus, the tick loop. main.c builds one. */
#pragma once

#include <gio/gio.h>

#include "mb-config.h"
#include "mb-names.h"

G_BEGIN_DECLS

/* Urgent ticks one VM's records may start per interval; its further urgent
 * records in that interval are read by the next tick (mb-tick.c). */
#define MB_URGENT_TICKS_PER_INTERVAL 4u

/* A GObject so that every worker's GTask holds it alive (its source
 * object) until the task's callback has run. */
#define MB_TYPE_DAEMON (mb_daemon_get_type())
G_DECLARE_FINAL_TYPE(MbDaemon, mb_daemon, MB, DAEMON, GObject)

typedef struct {
    gboolean has_min;
    guint64 min_kib;
    gboolean has_max;
    guint64 max_kib;
    gboolean has_foreground; /* the key was given (RegisterOrUpdateVM) */
    gboolean foreground;
} MbRegisterOptions;

/* Takes the config. Builds the backend and the state store and reads
 * the stored registrations; fails on an unusable backend or state dir. */
MbDaemon *mb_daemon_new(MbConfig *config, GError **error);
/* Stops (see mb_daemon_stop) and drops the caller's reference. */
void mb_daemon_free(MbDaemon *daemon);

/* Called when the daemon can no longer serve (name lost, bus gone). */
typedef void (*MbDaemonQuitFunc)(gpointer user_data, const char *why);
void mb_daemon_set_quit_func(MbDaemon *daemon, MbDaemonQuitFunc func, gpointer user_data);

/* Exports every object, starts the interval timer, then owns the name. */
gboolean mb_daemon_start(MbDaemon *daemon, GDBusConnection *connection, GError **error);
/* After start, when the connection is the system bus: authorize through
 * polkit while an authority answers there (mb-auth.h). FALSE when built
 * without polkit. */
gboolean mb_daemon_use_polkit(MbDaemon *daemon);
/* Ordered shutdown, once: refuses new work (every operation below then
 * fails with Unavailable), releases the name and unexports, cancels the
 * daemon's cancellable and waits (iterating the main context) until every
 * worker has finished and its callback has run, completes waiting
 * Rebalance callers, then lets go of the bus. After it nothing of the
 * daemon runs; freeing is safe. */
void mb_daemon_stop(MbDaemon *daemon);
gboolean mb_daemon_is_stopping(MbDaemon *daemon);

/* The operations behind the manager's methods; each validates fully
 * before changing anything, and stores the new state before it applies. */
/* The hypervisor lookup runs in a worker thread; callback runs in the
 * main context. finish returns the new object path. */
void mb_daemon_register_vm_async(MbDaemon *daemon, const char *name, guint priority,
                                 const MbRegisterOptions *options, GAsyncReadyCallback callback,
                                 gpointer user_data);
char *mb_daemon_register_vm_finish(MbDaemon *daemon, GAsyncResult *result, GError **error);
gboolean mb_daemon_unregister_vm(MbDaemon *daemon, const char *name, GError **error);
gboolean mb_daemon_set_priority(MbDaemon *daemon, const char *name, guint priority,
                                GError **error);
gboolean mb_daemon_set_foreground(MbDaemon *daemon, const char *name, GError **error);
gboolean mb_daemon_set_limits(MbDaemon *daemon, const char *name, guint64 min_kib,
                              guint64 max_kib, GError **error);
gboolean mb_daemon_clear_foreground(MbDaemon *daemon, GError **error);
/* A registered VM: its priority and the given options; see RegisterOrUpdateVM. */
gboolean mb_daemon_update_vm(MbDaemon *daemon, const char *name, guint priority,
                             const MbRegisterOptions *options, GError **error);
gboolean mb_daemon_is_registered(MbDaemon *daemon, const char *name);
gboolean mb_daemon_set_paused(MbDaemon *daemon, gboolean paused, GError **error);
guint mb_daemon_get_n_vms(MbDaemon *daemon);

/* Runs one interval now (even when paused); done(user_data) runs in the
 * main context when it has finished. */
void mb_daemon_rebalance(MbDaemon *daemon, GDestroyNotify done, gpointer user_data);

G_END_DECLS
