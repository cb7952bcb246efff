/* libvirt's event loop thread (lifecycle events, close callbacks,
 * keepalives): started by the first user, joined when the last leaves. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean mb_libvirt_events_acquire(GError **error);
void mb_libvirt_events_release(void);

G_END_DECLS
