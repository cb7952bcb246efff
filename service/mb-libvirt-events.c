/* libvirt's event loop, once per process. libvirt 6.1 and later implement
 * their default event loop (virEventRegisterDefaultImpl) with GLib sources
 * on the process's default main context, the one membalancerd's main loop
 * runs: libvirt's callbacks are dispatched by that loop, in the main
 * thread, like every other callback of ours (docs/service.md, "One event
 * loop"). Nothing else may iterate that context: no thread of ours runs
 * virEventRunDefaultImpl. */
#include "mb-libvirt-events.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "mb-error.h"

static void
silence_errors(void *data, virErrorPtr error)
{
    /* libvirt prints every error to stderr by default; ours are reported
     * where they matter, with context. */
}

gboolean
mb_libvirt_events_acquire(GError **error)
{
    static gsize registered;

    if (g_once_init_enter(&registered)) {
        virSetErrorFunc(NULL, silence_errors);
        /* Must precede the first connection of the process. */
        gsize ok = virInitialize() == 0 && virEventRegisterDefaultImpl() == 0 ? 1 : 2;
        g_once_init_leave(&registered, ok);
    }
    if (registered != 1) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "cannot start libvirt's event loop: %s", virGetLastErrorMessage());
        return FALSE;
    }
    return TRUE;
}

void
mb_libvirt_events_release(void)
{
    /* libvirt removes a closed connection's handles and timers from idle
     * callbacks that also run their free functions: run what is ready,
     * when this thread may (the owner of the default context, or nobody
     * owns it). The daemon has stopped by now: nothing of it dispatches. */
    if (!g_main_context_acquire(NULL))
        return;
    for (guint i = 0; i < 100 && g_main_context_pending(NULL); i++)
        g_main_context_iteration(NULL, FALSE);
    g_main_context_release(NULL);
}
