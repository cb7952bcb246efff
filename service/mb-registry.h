/* The engine's registered VMs: register, unregister, their settings and
 * pause, all stored on disk before they apply (mb-registry.c). Every
 * operation validates fully before changing anything and fails with
 * Unavailable once stop has begun. */
#pragma once

#include "mb-engine-core.h"
#include "mb-state-store.h"

G_BEGIN_DECLS

typedef struct {
    gboolean has_min;
    guint64 min_kib;
    gboolean has_max;
    guint64 max_kib;
    gboolean has_foreground; /* the key was given (RegisterOrUpdateVM) */
    gboolean foreground;
} MbRegisterOptions;

/* The hypervisor lookup runs in a worker thread; callback runs in the
 * main context (and always runs, even when the engine stops meanwhile). */
void mb_engine_register_vm_async(MbEngine *engine, const char *name, guint priority,
                                 const MbRegisterOptions *options, GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean mb_engine_register_vm_finish(MbEngine *engine, GAsyncResult *result, GError **error);
gboolean mb_engine_unregister_vm(MbEngine *engine, const char *name, GError **error);
gboolean mb_engine_set_priority(MbEngine *engine, const char *name, guint priority,
                                GError **error);
/* Also asks for an urgent tick: the new foreground VM's headroom is
 * planned at once (within its urgent budget). */
gboolean mb_engine_set_foreground(MbEngine *engine, const char *name, GError **error);
gboolean mb_engine_set_limits(MbEngine *engine, const char *name, guint64 min_kib,
                              guint64 max_kib, GError **error);
gboolean mb_engine_clear_foreground(MbEngine *engine, GError **error);
/* A registered VM: its priority and the given options; see RegisterOrUpdateVM. */
gboolean mb_engine_update_vm(MbEngine *engine, const char *name, guint priority,
                             const MbRegisterOptions *options, GError **error);
gboolean mb_engine_set_paused(MbEngine *engine, gboolean paused, GError **error);

/* At construction: the stored registrations and pause (mb-engine.c). */
void mb_registry_restore(MbEngine *engine, MbState *state);

G_END_DECLS
