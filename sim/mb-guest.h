/* Simulated guest: a Linux-like memory model driven by a workload model,
 * advanced in 1 s ticks. Used by membalancer-sim and by the service's fake
 * backend (so both see the same guests). Pure C11, no GLib. */
#pragma once

#include "mb-policy.h"
#include "mb-workload.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const MbWorkload *workload; /* not owned */
    uint64_t alloc_kib;         /* balloon size = guest MemTotal */

    /* Memory state, KiB. */
    uint64_t anon_resident_kib; /* active + inactive anon */
    uint64_t anon_swapped_kib;
    uint64_t active_file_kib;
    uint64_t inactive_file_kib;

    /* Cumulative counters, pages. */
    uint64_t swap_in_pages;
    uint64_t swap_out_pages;

    /* Progress, seconds of work done (runs slower while waiting on swap). */
    double progress_s;
    double stall_s_total;
    unsigned ticks;
    bool finished;
    unsigned finish_tick;
} MbGuest;

void mb_guest_init(MbGuest *guest, const MbWorkload *workload, uint64_t alloc_kib);
/* Changes the balloon: a shrink reclaims inside the guest (inactive file
 * first, then anon to swap) so the guest keeps its free reserve. */
void mb_guest_set_alloc(MbGuest *guest, uint64_t alloc_kib);
/* Advances one second. */
void mb_guest_tick(MbGuest *guest);
/* What a guest agent would report now. */
void mb_guest_sample(const MbGuest *guest, MbSample *out);
uint64_t mb_guest_free_kib(const MbGuest *guest);

#ifdef __cplusplus
}
#endif
