/* The libvirt backend's timings and units, shared by its files and its
 * tests (mb-backend-libvirt.h includes this). */
#pragma once

#include "mb-backend.h"

/* Reconnect delays: the first retry after this, doubling up to the max. */
#define MB_LIBVIRT_BACKOFF_MIN_MS 500
#define MB_LIBVIRT_BACKOFF_MAX_MS 30000
/* Intervals a balloon may sit still with a target pending before the VM is "stuck". */
#define MB_LIBVIRT_STUCK_TICKS MB_BALLOON_STUCK_TICKS
/* Intervals without an agent record before the balloon statistics stand in. */
#define MB_LIBVIRT_AGENT_GRACE_TICKS 3
/* The page size the balloon's swap counters are converted to. */
#define MB_LIBVIRT_BALLOON_PAGE_KIB 4
