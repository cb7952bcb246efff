/* balanced: the foreground VM served from the background VMs' cold
 * memory, a step at a time, stopped by the first sign of cost. */
#include "mb-planner-private.h"

/* balanced: what a background VM gives the foreground VM of its cold
 * memory per plan (planner_squeeze_background): small enough that its PSI shows
 * the cost before much is gone. */
#define MB_SQUEEZE_STEP_KIB (32u * 1024u)

/* balanced: the lowest a background VM is squeezed to: its free reserve,
 * its lead and its active page cache, never below its min, in whole pages.
 * Not its anonymous memory: a guest's LRU lists age only under pressure,
 * so an app idle in the background shows its memory as active as one at
 * work; its own PSI tells which it is (may_squeeze). */
static uint64_t
squeeze_floor_kib(const MbVm *vm, const MbParams *params)
{
    uint64_t lead_kib = vm->delta_kib > 0 ? (uint64_t)vm->delta_kib * MB_BALANCED_LEAD : 0;
    uint64_t floor_kib =
        add_sat(add_sat(vm->last.active_file_kib, lead_kib),
                (uint64_t)(params->free_reserve_ratio * (double)vm->alloc_kib));

    return page_up(floor_kib > vm->settings.min_kib ? floor_kib : vm->settings.min_kib);
}

/* Whether a VM may give the foreground VM fg its cold memory: another VM
 * of no higher priority with a prediction, an app that grew by a step or
 * more (its peak) and holds that growth (it released none of it: a web VM
 * loading pages needs its free memory for the next, and a balloon takes
 * free memory first; a video VM streaming never grew), not short of memory
 * itself, not stalling on memory (PSI, working-set refaults: the guard
 * that stops the squeeze as soon as it costs the VM), not grown nor
 * squeezed this plan, and above its floor by a step. */
static bool
may_squeeze(const MbPlanner *planner, const MbVm *vm, const MbVm *fg, const MbParams *params)
{
    return vm != fg && !vm->settings.foreground &&
           vm->settings.priority <= fg->settings.priority && has_prediction(vm) &&
           !vm->stalled && !is_growing(vm, params) &&
           vm->peak_kib >= (int64_t)MB_SQUEEZE_STEP_KIB && recurring_burst_kib(vm) == 0 &&
           balanced_need_kib(planner, vm, params, false) == 0 &&
           vm->target_kib <= vm->alloc_kib && vm->reason != MB_REASON_COLD &&
           vm->target_kib >= add_sat(squeeze_floor_kib(vm, params), params->min_step_kib);
}

/* balanced: the foreground VM still short of its need after the pool,
 * the donors and the lenders is served from the background VMs' cold
 * memory (anonymous memory they hold but do not touch, which no
 * reclaimable formula counts), MB_SQUEEZE_STEP_KIB from each per plan,
 * the lowest priority first, then the most above its floor: the
 * background guest writes its cold pages out, the foreground app does not
 * wait. A VM that stalls stops giving at once (may_squeeze), and asks
 * back once it is short (short_now). */
void
planner_squeeze_background(const MbPlanner *planner, MbVm *vms, size_t n, MbVm *fg,
                           uint64_t want_kib, const MbParams *params)
{
    want_kib = min_u64(want_kib, sub_sat(fg->settings.max_kib, fg->target_kib));
    while (want_kib >= params->min_step_kib) {
        MbVm *pick = NULL;
        uint64_t give_kib;

        for (size_t i = 0; i < n; i++) {
            MbVm *vm = &vms[i];
            if (!may_squeeze(planner, vm, fg, params))
                continue;
            if (pick == NULL || vm->settings.priority < pick->settings.priority ||
                (vm->settings.priority == pick->settings.priority &&
                 vm->target_kib - squeeze_floor_kib(vm, params) >
                     pick->target_kib - squeeze_floor_kib(pick, params)))
                pick = vm;
        }
        if (pick == NULL)
            return;
        give_kib = min_u64(min_u64(MB_SQUEEZE_STEP_KIB, want_kib),
                           pick->target_kib - squeeze_floor_kib(pick, params));
        give_kib = page_down(give_kib);
        pick->reason = MB_REASON_COLD; /* once per plan, even if too small */
        if (give_kib < params->min_step_kib)
            continue;
        pick->target_kib -= give_kib;
        fg->target_kib += give_kib;
        fg->reason = MB_REASON_NEED;
        want_kib -= give_kib;
    }
}
