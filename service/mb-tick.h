/* The engine's interval loop (mb-tick.c): read every VM's statistics
 * (worker thread), predict and plan (main thread), move the memory
 * (worker thread, mb-tick-apply.c), publish (main thread: each VM's
 * "changed", the engine's figures, "rebalanced"). */
#pragma once

#include "mb-engine-core.h"
#include "mb-tick-urgent.h"

G_BEGIN_DECLS

/* Runs one interval now (even when paused); done(user_data) runs in the
 * main context when it has finished, or at once when stopping. */
void mb_engine_rebalance(MbEngine *engine, GDestroyNotify done, gpointer user_data);

/* The interval timer (mb-engine.c starts and stops it). */
void mb_tick_start(MbEngine *engine);
/* No tick starts after this; the running one is drained with the
 * engine's other workers. */
void mb_tick_stop(MbEngine *engine);
/* The backend's urgent function (main thread, user_data the engine): a
 * tick now, or as soon as the running one finished and urgent-min-ms
 * passed since the last began; once the VM has started
 * MB_URGENT_TICKS_PER_INTERVAL urgent ticks in this interval, its records
 * wait for the next tick instead. */
void mb_tick_urgent(gpointer engine, const char *vm_name, unsigned urgent);
/* A VM was registered or unregistered (main thread): a tick's worker
 * moving balloons now counts the new VM's memory as taken, and leaves the
 * balloon of the one that went alone (a set-target already under way
 * completes). */
void mb_tick_vm_registered(MbEngine *engine, MbEngineVm *vm);
void mb_tick_vm_unregistered(MbEngine *engine, const char *name);

G_END_DECLS
