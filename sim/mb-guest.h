/* Simulated guest: a Linux-like memory model driven by a workload model,
 * advanced in 1 s ticks. Used by membalancer-sim and by the service's fake
 * backend (so both see the same guests). Pure C11, no GLib. */
#pragma once

#include "mb-policy.h"
#include "mb-workload.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The model's constants; docs/simulator.md says where each comes from. */
#define MB_GUEST_PAGE_KIB 4u              /* x86 page: swap counters count these */
#define MB_GUEST_KERNEL_KIB (32u * 1024u) /* kernel + slab, on no LRU list */
#define MB_GUEST_FREE_RESERVE 0.10        /* kept free, as the paper's R assumes */
#define MB_GUEST_SWAP_IN_COST_S 2.5e-4    /* stall per page read back (with readahead) */
#define MB_GUEST_SWAP_OUT_COST_S 1.0e-4   /* stall per page written to swap */

/* How a guest's kernel behaves. mb_guest_model_2013 is the paper's kernel
 * (the constants above, a balloon that moves within the tick): every
 * scenario uses it unless it asks for another. mb_guest_model_linux61 is
 * fitted to the real-VM benchmark's Debian 12 TCG guests (docs/simulator.md
 * says from which data). */
typedef struct {
    const char *name;
    uint64_t hidden_kib;       /* balloon size minus MemTotal (memmap, firmware) */
    uint64_t kernel_kib;       /* inside MemTotal, on no LRU list */
    double free_reserve;       /* share of MemTotal reclaim keeps free */
    double swap_in_cost_s;     /* stall per page read back */
    double swap_out_cost_s;    /* stall per page written to swap */
    uint64_t shrink_kib_per_s; /* balloon inflation rate; 0: within the tick */
    uint64_t grow_kib_per_s;   /* balloon deflation rate; 0: within the tick */
    bool new_anon_inactive;    /* new anon starts on the inactive list */
    uint64_t active_anon_kib;  /* with it: the Active(anon) a guest keeps */
    bool refault_activate;     /* anon read back from swap goes active */
} MbGuestModel;

extern const MbGuestModel mb_guest_model_2013;
extern const MbGuestModel mb_guest_model_linux61;

typedef struct {
    const MbWorkload *workload; /* not owned */
    const MbGuestModel *model;  /* not owned; mb_guest_model_2013 after init */
    uint64_t alloc_kib;         /* balloon size now (MemTotal + model's hidden) */
    uint64_t target_kib;        /* where the host asked the balloon to go */

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

    /* Added by the simulator (zeroed by mb_guest_init()). */
    uint64_t variant;            /* perturbs the workload's shape; 0 = reference */
    unsigned delay_ticks;        /* idle ticks before the workload starts */
    double debt_s;               /* swap-out stall not yet paid */
    double swap_in_carry_pages;  /* fractional swap-ins carried to the next tick */
    uint64_t file_read_kib;      /* new file reads done so far */
    double psi_some_avg10;       /* share of time stalled, ~10 s average, % */
    uint64_t refault_active_kib; /* anon activated on swap-in (model's flag) */
    double travelled_s;          /* balloon travel done this tick before mb_guest_tick() */
} MbGuest;

void mb_guest_init(MbGuest *guest, const MbWorkload *workload, uint64_t alloc_kib);
/* Changes the balloon's target: a shrink reclaims inside the guest
 * (inactive file first, then anon to swap) so the guest keeps its free
 * reserve. With the 2013 model the balloon is there at once; a model with a
 * finite rate moves it during the following ticks. */
void mb_guest_set_alloc(MbGuest *guest, uint64_t alloc_kib);
/* Advances one second (the balloon travels for what is left of it after
 * mb_guest_travel()). */
void mb_guest_tick(MbGuest *guest);
/* Whether the guest's balloon travels (a finite inflation or deflation
 * rate) rather than moving within the tick. */
bool mb_guest_travels(const MbGuest *guest);
/* Moves the balloon toward its target for seconds of the coming tick (at
 * most what is left of it); mb_guest_tick() then moves it for the rest. */
void mb_guest_travel(MbGuest *guest, double seconds);
/* What a guest agent would report now. */
void mb_guest_sample(const MbGuest *guest, MbSample *out);
uint64_t mb_guest_free_kib(const MbGuest *guest);

/* Optional, after mb_guest_init(): another kernel model (NULL: 2013). */
void mb_guest_set_model(MbGuest *guest, const MbGuestModel *model);
/* The MemTotal the guest reports. */
uint64_t mb_guest_memtotal_kib(const MbGuest *guest);

/* Optional, after mb_guest_init(): a shape variant and a start delay. */
void mb_guest_set_variant(MbGuest *guest, uint64_t variant);
void mb_guest_set_delay(MbGuest *guest, unsigned delay_ticks);
/* Ticks from the workload's start to its end (or to now if not finished). */
unsigned mb_guest_runtime_s(const MbGuest *guest);
/* Anonymous footprint (resident + swapped), KiB. */
uint64_t mb_guest_anon_kib(const MbGuest *guest);

#ifdef __cplusplus
}
#endif
