/* membalancerd on the bus: exports an engine (mb-engine.h) as the
 * manager object and one object per VM, and authorizes every change.
 * main.c builds one. */
#pragma once

#include <gio/gio.h>

#include "mb-config.h"
#include "mb-engine.h"
#include "mb-names.h"

G_BEGIN_DECLS

#define MB_TYPE_DAEMON (mb_daemon_get_type())
G_DECLARE_FINAL_TYPE(MbDaemon, mb_daemon, MB, DAEMON, GObject)

/* Takes the config and builds the engine on it (mb_engine_new); fails on
 * an unusable backend or state dir. */
MbDaemon *mb_daemon_new(MbConfig *config, GError **error);
/* Stops (see mb_daemon_stop) and drops the caller's reference. */
void mb_daemon_free(MbDaemon *daemon);
/* The engine it exports (owned by the daemon). */
MbEngine *mb_daemon_get_engine(MbDaemon *daemon);

/* Called when the daemon can no longer serve (name lost, bus gone). */
typedef void (*MbDaemonQuitFunc)(gpointer user_data, const char *why);
void mb_daemon_set_quit_func(MbDaemon *daemon, MbDaemonQuitFunc func, gpointer user_data);

/* Starts the engine, exports every object, then owns the name. */
gboolean mb_daemon_start(MbDaemon *daemon, GDBusConnection *connection, GError **error);
/* After start, when the connection is the system bus: authorize through
 * polkit while an authority answers there (mb-auth.h). FALSE when built
 * without polkit. */
gboolean mb_daemon_use_polkit(MbDaemon *daemon);
/* Ordered shutdown, once: releases the name and unexports (the bus no
 * longer routes calls to us), stops the engine (mb_engine_stop: refuses
 * new work, drains every worker, completes waiting Rebalance callers),
 * then lets go of the bus. After it nothing of the daemon runs; freeing
 * is safe. */
void mb_daemon_stop(MbDaemon *daemon);
gboolean mb_daemon_is_stopping(MbDaemon *daemon);

G_END_DECLS
