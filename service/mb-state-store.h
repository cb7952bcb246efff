/* Registrations on disk: $STATE_DIRECTORY/registrations.ini, rewritten
 * atomically on every change so they survive a restart or a kill -9. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    char *name;
    guint priority;
    guint64 min_kib;
    guint64 max_kib;
    gboolean foreground;
} MbRegistration;

MbRegistration *mb_registration_new(const char *name, guint priority, guint64 min_kib,
                                    guint64 max_kib, gboolean foreground);
MbRegistration *mb_registration_copy(const MbRegistration *reg);
void mb_registration_free(MbRegistration *reg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MbRegistration, mb_registration_free)

typedef struct {
    GPtrArray *registrations; /* MbRegistration, in registration order */
    gboolean paused;
} MbState;

MbState *mb_state_new(void);
void mb_state_free(MbState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MbState, mb_state_free)

typedef struct _MbStateStore MbStateStore;

/* Creates the directory (0750) if needed. Refuses (MB_SERVICE_ERROR_UNAVAILABLE)
 * a directory not owned by the service's uid or writable by group or others. */
MbStateStore *mb_state_store_new(const char *dir, GError **error);
void mb_state_store_free(MbStateStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MbStateStore, mb_state_store_free)

const char *mb_state_store_get_path(MbStateStore *store);
/* Reads the state. No file: empty state. A file that does not parse, or
 * holds invalid entries, is renamed to <file>.corrupt-<unix time> with a
 * warning (its reason bounded, valid UTF-8) and the valid entries (if any)
 * are kept. If it cannot be renamed it is kept in place, byte for byte:
 * save refuses to write over it until the path no longer names it
 * (removed or moved by hand) or a later save manages to move it aside.
 * Fails, touching nothing, on an I/O error other than a missing
 * file, on a symbolic link or anything but a regular file, and on a file
 * written by a newer membalancer (a version above the one it reads). */
MbState *mb_state_store_load(MbStateStore *store, GError **error);
/* Writes the whole state atomically (write, fsync, rename); fails
 * (MB_SERVICE_ERROR_UNAVAILABLE) while a corrupt file is kept (see load). */
gboolean mb_state_store_save(MbStateStore *store, const MbState *state, GError **error);

/* A name the service accepts: 1..MB_VM_NAME_MAX bytes of UTF-8 without
 * control characters. */
gboolean mb_vm_name_validate(const char *name, GError **error);

G_END_DECLS
