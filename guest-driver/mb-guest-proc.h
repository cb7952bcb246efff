/* The guest agent's /proc readers: /proc/meminfo, /proc/vmstat,
 * /proc/pressure/memory and /proc/zoneinfo into an MbGuestSample, each file
 * read with one pread into a static buffer (the agent is single-threaded).
 * Plain C11, no GLib: the agent runs in minimal guests. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "mb-guest-wire.h"

typedef struct {
    int meminfo_fd, vmstat_fd, psi_fd, zoneinfo_fd; /* -1: absent (psi, zoneinfo) */
    uint64_t page_kib;
    uint64_t low_wmark_kib; /* sum over the zones; mb_guest_proc_read_low_wmark() */
} MbGuestProc;

/* Sums the zones' "low" watermarks into p->low_wmark_kib; keeps the old
 * value if /proc/zoneinfo cannot be read. */
void mb_guest_proc_read_low_wmark(MbGuestProc *p);
/* Fills a whole sample (low watermark as last read); false if meminfo or
 * vmstat cannot be read or lack the required lines. */
bool mb_guest_proc_sample(const MbGuestProc *p, MbGuestSample *s);
/* The fast check's readings: MemTotal, MemAvailable (MemFree on kernels
 * without it) and pswpout; false if they cannot be read. */
bool mb_guest_proc_fast(const MbGuestProc *p, uint64_t *total_kib, uint64_t *available_kib,
                        uint64_t *swap_out_pages);
