/* membalancerd: the VMs, the bus, the tick loop. main.c builds one. */
#pragma once

#include <gio/gio.h>

#include "mb-config.h"

G_BEGIN_DECLS

#define MB_BUS_NAME "org.smarttv.MemBalancer"
#define MB_OBJECT_PATH "/org/smarttv/MemBalancer"

typedef struct _MbDaemon MbDaemon;

typedef struct {
    gboolean has_min;
    guint64 min_kib;
    gboolean has_max;
    guint64 max_kib;
    gboolean foreground;
} MbRegisterOptions;

/* Takes the config. Builds the backend and the state store and reads
 * the stored registrations; fails on an unusable backend or state dir. */
MbDaemon *mb_daemon_new(MbConfig *config, GError **error);
void mb_daemon_free(MbDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MbDaemon, mb_daemon_free)

/* Called when the daemon can no longer serve (name lost, bus gone). */
typedef void (*MbDaemonQuitFunc)(gpointer user_data, const char *why);
void mb_daemon_set_quit_func(MbDaemon *daemon, MbDaemonQuitFunc func, gpointer user_data);

/* Exports every object, starts the interval timer, then owns the name. */
gboolean mb_daemon_start(MbDaemon *daemon, GDBusConnection *connection, GError **error);
/* Releases the name, waits for a running tick, unexports. */
void mb_daemon_stop(MbDaemon *daemon);

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
gboolean mb_daemon_set_paused(MbDaemon *daemon, gboolean paused, GError **error);
guint mb_daemon_get_n_vms(MbDaemon *daemon);

/* Runs one interval now (even when paused); done(user_data) runs in the
 * main context when it has finished. */
void mb_daemon_rebalance(MbDaemon *daemon, GDestroyNotify done, gpointer user_data);

G_END_DECLS
