/* The polkit side of authorization: the authority, obtained and asked
 * asynchronously (built with -Dpolkit only; see mb-auth.c). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _MbPolkit MbPolkit;

typedef enum {
    MB_POLKIT_PENDING, /* the authority is being obtained: ask again when ready */
    MB_POLKIT_READY,   /* ask it */
    MB_POLKIT_ABSENT,  /* no authority answers on the bus: the group check decides */
} MbPolkitState;

typedef enum {
    MB_POLKIT_ALLOWED,
    MB_POLKIT_DENIED,    /* not authorized */
    MB_POLKIT_CHALLENGE, /* authorized after authentication, which the call did not allow */
    MB_POLKIT_NO_ANSWER, /* no authority on the bus (the state is now ABSENT) */
    MB_POLKIT_ERROR,     /* an error (fail closed), or cancelled */
} MbPolkitAnswer;

/* Obtains the system bus's authority asynchronously, in the thread-default
 * context; ready() runs there once it is known (got or not). */
MbPolkit *mb_polkit_new(GSourceFunc ready, gpointer ready_data);
/* Cancels what is under way; the callbacks still run (cancelled). */
void mb_polkit_cancel(MbPolkit *polkit);
void mb_polkit_free(MbPolkit *polkit);
/* ABSENT turns back to READY when the authority appears on the bus, or
 * 10 s later (it may be activatable again). */
MbPolkitState mb_polkit_get_state(MbPolkit *polkit);
/* Checks in flight (for draining at shutdown). */
guint mb_polkit_get_n_checks(MbPolkit *polkit);

/* retain: the answer may be kept briefly (not a one-time authorization,
 * not dismissed, not an error). error is set for ERROR. */
typedef void (*MbPolkitDone)(MbPolkitAnswer answer, gboolean retain, const GError *error,
                             gpointer user_data);
/* Asks whether the bus name (a caller on the system bus) may do action_id,
 * letting polkit ask the user only when interactive. */
void mb_polkit_check_async(MbPolkit *polkit, const char *bus_name, const char *action_id,
                           gboolean interactive, MbPolkitDone done, gpointer user_data);

G_END_DECLS
