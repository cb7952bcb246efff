/* The libvirt backend: real VMs through a libvirt connection. Its parts
 * that tests reach directly. */
#pragma once

#include "mb-backend.h"
#include "mb-libvirt-limits.h"

G_BEGIN_DECLS

#define MB_TYPE_BACKEND_LIBVIRT (mb_backend_libvirt_get_type())
G_DECLARE_FINAL_TYPE(MbBackendLibvirt, mb_backend_libvirt, MB, BACKEND_LIBVIRT, MbBackend)

/* Connects to config->libvirt_uri; an unreachable libvirt is not an error
 * (it is retried, see is_connected), a URI no retry can fix is. */
MbBackend *mb_backend_libvirt_new(const MbConfig *config, GError **error);

/* Statistics of a VM's agent channel (for tests and debugging); FALSE
 * when the backend has never read that VM. */
gboolean mb_backend_libvirt_channel_stats(MbBackend *backend, const char *name,
                                          guint64 *n_samples, guint64 *n_bad,
                                          guint64 *n_overlong, guint64 *n_discarded_bytes);
/* Domain lifecycle events received so far (for tests). */
guint64 mb_backend_libvirt_n_events(MbBackend *backend);

G_END_DECLS
