/* MbEngine: the balancer without the bus. It owns the backend, the state
 * store, the registered VMs (MbEngineVm), the tick loop and every worker;
 * it tells what changes through GObject signals and properties, and knows
 * nothing of D-Bus (mb-daemon.c exports it). This file: the object, its
 * signals and properties, and what the engine's own files share (workers,
 * the published figures). The operations are in mb-registry.h and
 * mb-tick.h; build and stop it with mb-engine.h, which includes them all.
 *
 * Signals (main thread):
 *   vm-added (MbEngineVm *vm): registered, or restored at start.
 *   vm-removed (MbEngineVm *vm): unregistered; vm is still valid.
 *   rebalanced (GVariant *moves): a tick moved memory; moves is a(sx),
 *     each VM's name and its change in KiB. After every VM's "changed"
 *     and the properties below are up to date.
 * Properties (read-only, notify when they change): paused, pool-kib,
 * connected, n-vms. */
#pragma once

#include <gio/gio.h>

#include "mb-backend.h"
#include "mb-config.h"
#include "mb-engine-vm.h"

G_BEGIN_DECLS

/* A GObject so that every worker's GTask holds it alive (its source
 * object) until the task's callback has run. */
#define MB_TYPE_ENGINE (mb_engine_get_type())
G_DECLARE_FINAL_TYPE(MbEngine, mb_engine, MB, ENGINE, GObject)

MbConfig *mb_engine_get_config(MbEngine *engine);
const char *mb_engine_get_backend_name(MbEngine *engine);
/* The VMs in registration order (MbEngineVm, owned by the engine). */
GPtrArray *mb_engine_get_vms(MbEngine *engine);
guint mb_engine_get_n_vms(MbEngine *engine);
gboolean mb_engine_is_registered(MbEngine *engine, const char *name);
/* NULL, with InvalidArgs or NoSuchVM, when no VM of that name is registered. */
MbEngineVm *mb_engine_lookup_vm(MbEngine *engine, const char *name, GError **error);
gboolean mb_engine_get_paused(MbEngine *engine);
guint64 mb_engine_get_pool_kib(MbEngine *engine);
gboolean mb_engine_get_connected(MbEngine *engine);
/* Stop (mb_engine_stop) has begun: every operation fails with Unavailable. */
gboolean mb_engine_is_stopping(MbEngine *engine);
/* The policy's parameters, pool "auto" resolved for the current VMs. */
void mb_engine_params(MbEngine *engine, MbParams *params);

G_END_DECLS
