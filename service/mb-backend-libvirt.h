/* The libvirt backend's parts that tests reach directly. */
#pragma once

#include <libvirt/libvirt.h>

#include "mb-backend.h"

G_BEGIN_DECLS

/* Reconnect delays: the first retry after this, doubling up to the max. */
#define MB_LIBVIRT_BACKOFF_MIN_MS 500
#define MB_LIBVIRT_BACKOFF_MAX_MS 30000
/* Intervals a balloon may sit still with a target pending before the VM is "stuck". */
#define MB_LIBVIRT_STUCK_TICKS MB_BALLOON_STUCK_TICKS
/* Intervals without an agent record before the balloon statistics stand in. */
#define MB_LIBVIRT_AGENT_GRACE_TICKS 3
/* The page size the balloon's swap counters are converted to. */
#define MB_LIBVIRT_BALLOON_PAGE_KIB 4

/* Derives what a sample can hold from virDomainMemoryStats() (KiB; swap
 * counters converted to pages of MB_LIBVIRT_BALLOON_PAGE_KIB). FALSE when
 * the stats lack the balloon size or the unused memory. */
gboolean mb_balloon_stats_derive(const virDomainMemoryStatStruct *stats, int n, MbSample *out);

/* Statistics of a VM's agent channel (for tests and debugging); FALSE
 * when the backend has never read that VM. */
gboolean mb_backend_libvirt_channel_stats(MbBackend *backend, const char *name,
                                          guint64 *n_samples, guint64 *n_bad,
                                          guint64 *n_overlong, guint64 *n_discarded_bytes);
/* Domain lifecycle events received so far (for tests). */
guint64 mb_backend_libvirt_n_events(MbBackend *backend);

G_END_DECLS
