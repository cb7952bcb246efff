/* libvirt's default event loop in a thread of its own, one per process,
 * shared by every libvirt backend (docs/service.md says why not the GLib
 * main loop). */
#include "mb-libvirt-events.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "mb-error.h"

static GMutex events_lock;
static guint events_users;
static GThread *events_thread;
static gint events_quit;

static void
silence_errors(void *data, virErrorPtr error)
{
    /* libvirt prints every error to stderr by default; ours are reported
     * where they matter, with context. */
}

static gpointer
events_main(gpointer data)
{
    while (!g_atomic_int_get(&events_quit))
        virEventRunDefaultImpl();
    return NULL;
}

static void
events_wake(int timer, void *opaque)
{
    virEventRemoveTimeout(timer);
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
    g_mutex_lock(&events_lock);
    if (events_users++ == 0) {
        g_atomic_int_set(&events_quit, 0);
        events_thread = g_thread_new("mb-libvirt-events", events_main, NULL);
    }
    g_mutex_unlock(&events_lock);
    return TRUE;
}

void
mb_libvirt_events_release(void)
{
    g_mutex_lock(&events_lock);
    if (--events_users == 0) {
        g_atomic_int_set(&events_quit, 1);
        /* A zero timeout wakes the loop so that it sees the flag. */
        virEventAddTimeout(0, events_wake, NULL, NULL);
        g_thread_join(g_steal_pointer(&events_thread));
    }
    g_mutex_unlock(&events_lock);
}
