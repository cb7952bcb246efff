/* The engine's whole API: build, start, stop (here), its object, signals
 * and properties (mb-engine-core.h), the registry's operations
 * (mb-registry.h) and the tick's (mb-tick.h). No D-Bus: mb-daemon.h
 * exports an engine on the bus. */
#pragma once

#include "mb-config.h"
#include "mb-engine-core.h"
#include "mb-registry.h"
#include "mb-tick.h"

G_BEGIN_DECLS

/* Takes the config. Builds the backend and the state store and restores
 * the stored registrations (vm-added is emitted before anyone can
 * listen: read mb_engine_get_vms()); fails on an unusable backend or
 * state dir. */
MbEngine *mb_engine_new(MbConfig *config, GError **error);
/* Starts the interval timer and listens to the backend's urgent records. */
void mb_engine_start(MbEngine *engine);
/* Ordered shutdown, once: refuses new work (every operation then fails
 * with Unavailable), stops the timer, cancels the engine's cancellable
 * and waits (iterating the main context) until every worker has finished
 * and its callback has run, then completes waiting Rebalance callers.
 * After it nothing of the engine runs. */
void mb_engine_stop(MbEngine *engine);
/* The first half of stop, which never waits: refuses new work, stops the
 * timer, cancels. The workers still running hold the engine; their
 * callbacks run when the main context next runs, and the engine's last
 * reference completes the waiting Rebalance callers (dispose). */
void mb_engine_begin_stop(MbEngine *engine);

G_END_DECLS
