/* libvirt's event loop (lifecycle events, close callbacks, keepalives):
 * registered once per process, on GLib's default main context. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean mb_libvirt_events_acquire(GError **error);
/* A backend is gone: runs libvirt's pending clean-ups on the default
 * context if this thread may iterate it. */
void mb_libvirt_events_release(void);

G_END_DECLS
