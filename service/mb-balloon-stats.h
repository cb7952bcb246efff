/* The virtio-balloon statistics libvirt reports, as a sample. */
#pragma once

#include <libvirt/libvirt.h>

#include "mb-libvirt-limits.h"
#include "mb-policy.h"

G_BEGIN_DECLS

/* Derives what a sample can hold from virDomainMemoryStats() (KiB; swap
 * counters converted to pages of MB_LIBVIRT_BALLOON_PAGE_KIB). FALSE when
 * the stats lack the balloon size or the unused memory. */
gboolean mb_balloon_stats_derive(const virDomainMemoryStatStruct *stats, int n, MbSample *out);

G_END_DECLS
