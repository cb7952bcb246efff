/* The planner's parts (mb-planner*.c): its scratch space and the VM
 * state every part reads. Private to policy/: the API is mb-policy.h. */
#pragma once

#include "mb-policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    MbVm *vm;
    uint64_t surplus_kib; /* what it can still give this tick */
    uint64_t cold_kib;    /* the part of it that is cold page cache (balanced's
                           * foreground headroom takes only this) */
} Donor;

/* Kept sorted by planner_compare_donor(). */
typedef struct {
    Donor *v;
    size_t n;
} DonorList;

struct MbPlanner {
    size_t capacity;
    uint64_t rng_state;
    MbVm **needy;
    DonorList donors;    /* predicted surplus: reclaimable above demand */
    DonorList silent;    /* silent VMs, surplus above their fair share */
    DonorList lend;      /* balanced: the foreground VM's headroom and the donors'
                          * peaks still in use, lent to a VM short now (pressured)
                          * that nothing else can serve */
    DonorList bursts;    /* balanced: what background VMs keep free for their next
                          * burst, lent only to the foreground VM short now */
    Donor *donors_tmp;   /* merge buffer */
    bool has_foreground; /* this plan: some VM is the foreground VM */
};

static inline uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static inline uint64_t
sub_sat(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

static inline uint64_t
add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Balloons move in whole pages: a target between two pages leaves the
 * guest the page above it. */
static inline uint64_t
page_down(uint64_t kib)
{
    return kib - kib % MB_BALLOON_PAGE_KIB;
}

static inline uint64_t
page_up(uint64_t kib)
{
    return kib % MB_BALLOON_PAGE_KIB == 0 ? kib : add_sat(page_down(kib), MB_BALLOON_PAGE_KIB);
}

/* Demand above reclaimable: the VM may swap soon. */
static inline int64_t
deficit_kib(const MbVm *vm)
{
    return vm->delta_kib - (int64_t)mb_vm_reclaimable_now_kib(vm);
}

/* balanced: the VM is short now. A background VM (another is the
 * foreground VM) that swaps out without stalling and without growing is
 * writing out cold pages it gave the foreground VM (planner_squeeze_background):
 * no cost to it yet, and no need to serve. */
static inline bool
short_now(const MbPlanner *planner, const MbVm *vm)
{
    return vm->pressured && (vm->stalled || vm->delta_kib > 0 || vm->settings.foreground ||
                             !planner->has_foreground);
}

/* balanced: what the VM should get now for the next MB_BALANCED_LEAD
 * intervals of its demand to stay reclaimable, and the anonymous memory it
 * lost to swap while it is short (all of it in one move, not a rate), and,
 * with_headroom, for the foreground VM its headroom; 0 when what it can
 * reclaim covers it. */
static inline uint64_t
balanced_need_kib(const MbPlanner *planner, const MbVm *vm, const MbParams *params,
                  bool with_headroom)
{
    uint64_t horizon_kib = vm->delta_kib > 0 ? (uint64_t)vm->delta_kib * MB_BALANCED_LEAD : 0;

    if (short_now(planner, vm) && vm->last.has_swap_used)
        horizon_kib = add_sat(horizon_kib, vm->last.swap_used_kib);
    if (with_headroom && vm->settings.foreground)
        horizon_kib = add_sat(horizon_kib, params->foreground_headroom_kib);
    return sub_sat(horizon_kib, mb_vm_reclaimable_now_kib(vm));
}

/* Growing: a demand of a step or more an interval (below that, a page
 * cache creeping up or noise). */
static inline bool
is_growing(const MbVm *vm, const MbParams *params)
{
    return vm->delta_kib >= (int64_t)params->min_step_kib;
}

/* The burst a donor keeps memory free for: the part of its recent peak
 * that it released since it last grew (a web VM that loads a page every
 * 10 s frees it between loads), once that is at least half of it. A
 * growth it still holds (a job that loaded its working set, a game idle in
 * the background) is in use, not a burst to come, whatever a few MiB of
 * page cache it dropped since say. */
static inline int64_t
recurring_burst_kib(const MbVm *vm)
{
    if (vm->released_kib < vm->peak_kib / 2)
        return 0;
    return vm->released_kib < vm->peak_kib ? vm->released_kib : vm->peak_kib;
}

/* Too long without a demand prediction: its memory is no longer its own. */
static inline bool
is_silent(const MbVm *vm)
{
    return vm->silent_ticks >= MB_SILENT_TICKS;
}

static inline bool
has_prediction(const MbVm *vm)
{
    return vm->has_delta && !vm->stale && !is_silent(vm);
}

/* mb-planner-order.c: the orders the planner serves and takes in, all in
 * place (qsort may allocate). */
typedef int (*CompareFunc)(const void *a, const void *b);
void planner_heap_sort(void *v, size_t n, size_t size, CompareFunc cmp);
/* Needy VMs (MbVm *): priority, then the foreground VM, then the larger
 * deficit, then the name. */
int planner_compare_needy(const void *a, const void *b);
/* Donors by surplus, largest first; the name settles ties. */
int planner_compare_donor(const void *a, const void *b);
/* The paper's random service order. */
void planner_shuffle_needy(MbPlanner *planner, MbVm **v, size_t n);

/* mb-planner-donors.c: the donor lists (predicted surplus, silent VMs,
 * balanced's lenders and burst reserves), what a needy VM takes from
 * them, the foreground headroom and the spare. */
void planner_add_lender(MbPlanner *planner, MbVm *vm, uint64_t given_kib,
                        const MbParams *params);
void planner_serve(MbPlanner *planner, MbVm *vm, uint64_t want_kib, uint64_t *pool_free_kib,
                   const MbParams *params, bool use_pool);
void planner_serve_headroom(MbPlanner *planner, MbVm *vm, uint64_t want_kib,
                            uint64_t *pool_free_kib, const MbParams *params);
void planner_refill_spare(MbPlanner *planner, uint64_t *pool_free_kib, const MbParams *params);

/* mb-planner-squeeze.c: balanced's squeeze of the background VMs' cold
 * memory for the foreground VM. */
void planner_squeeze_background(const MbPlanner *planner, MbVm *vms, size_t n, MbVm *fg,
                                uint64_t want_kib, const MbParams *params);

/* mb-planner-mom.c: oVirt MOM's rules. */
void planner_plan_mom(MbVm *vms, size_t n, const MbParams *params, uint64_t capacity_kib,
                      uint64_t pool_free_kib);
