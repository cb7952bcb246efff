/* The planner: turns each VM's predicted demand and reclaimable memory
 * into balloon targets. All scratch space is allocated once, in
 * mb_planner_new(); planning itself allocates nothing. */
#include "mb-planner-private.h"

#include <stdlib.h>

MbPlanner *
mb_planner_new(size_t capacity, uint64_t seed)
{
    MbPlanner *planner = calloc(1, sizeof(*planner));

    if (planner == NULL)
        return NULL;
    planner->capacity = capacity;
    /* xorshift64* must not start at 0. */
    planner->rng_state = seed ? seed : 0x9E3779B97F4A7C15ull;
    planner->needy = calloc(capacity ? capacity : 1, sizeof(*planner->needy));
    planner->donors.v = calloc(capacity ? capacity : 1, sizeof(*planner->donors.v));
    planner->silent.v = calloc(capacity ? capacity : 1, sizeof(*planner->silent.v));
    planner->lend.v = calloc(capacity ? capacity : 1, sizeof(*planner->lend.v));
    planner->bursts.v = calloc(capacity ? capacity : 1, sizeof(*planner->bursts.v));
    planner->donors_tmp = calloc(capacity ? capacity : 1, sizeof(*planner->donors_tmp));
    if (planner->needy == NULL || planner->donors.v == NULL || planner->silent.v == NULL ||
        planner->lend.v == NULL || planner->bursts.v == NULL || planner->donors_tmp == NULL) {
        mb_planner_free(planner);
        return NULL;
    }
    return planner;
}

void
mb_planner_free(MbPlanner *planner)
{
    if (planner == NULL)
        return;
    free(planner->needy);
    free(planner->donors.v);
    free(planner->silent.v);
    free(planner->lend.v);
    free(planner->bursts.v);
    free(planner->donors_tmp);
    free(planner);
}

size_t
mb_planner_capacity(const MbPlanner *planner)
{
    return planner->capacity;
}

/* What every VM gets above its min when the capacity is shared evenly:
 * (capacity - sum of all mins) / n, 0 when the mins fill the capacity. */
static uint64_t
fair_extra_kib(const MbVm *vms, size_t n, uint64_t capacity_kib)
{
    uint64_t mins_kib = 0;

    for (size_t i = 0; i < n; i++)
        mins_kib = add_sat(mins_kib, vms[i].settings.min_kib);
    return n > 0 && capacity_kib > mins_kib ? (capacity_kib - mins_kib) / n : 0;
}

/* min + fair extra within [min, max]; never below min. */
static uint64_t
fair_share_kib(const MbVm *vm, uint64_t extra_kib)
{
    uint64_t fair_kib = min_u64(add_sat(vm->settings.min_kib, extra_kib), vm->settings.max_kib);

    /* In whole pages, so that a shrink rounded to pages stays above it. */
    return page_up(fair_kib > vm->settings.min_kib ? fair_kib : vm->settings.min_kib);
}

/* The paper's balancer (and ours, with priorities and guarantees). */
static void
plan_paper(MbPlanner *planner, MbVm *vms, size_t n, const MbParams *params,
           uint64_t capacity_kib, uint64_t pool_free_kib)
{
    bool balanced = params->kind == MB_POLICY_BALANCED;
    size_t n_needy = 0, n_donors = 0, n_silent = 0;
    uint64_t fair_extra = fair_extra_kib(vms, n, capacity_kib);
    MbVm *fg = NULL;
    uint64_t fg_unmet_kib = 0;

    planner->has_foreground = false;
    planner->lend.n = 0;
    planner->bursts.n = 0;
    for (size_t i = 0; balanced && i < n; i++)
        planner->has_foreground = planner->has_foreground || vms[i].settings.foreground;

    for (size_t i = 0; i < n; i++) {
        MbVm *vm = &vms[i];
        bool below_min = vm->target_kib < vm->settings.min_kib;

        /* The paper serves a VM once its demand exceeds what it can
         * reclaim, when it already swaps; ours while MB_BALANCED_LEAD
         * intervals of demand (plus what it lost to swap, plus the
         * foreground's headroom) no longer fit: memory still has to leave a
         * donor's balloon before it can be given. */
        bool is_short = balanced ? balanced_need_kib(planner, vm, params, true) > 0
                                 : vm->delta_kib > 0 &&
                                       (uint64_t)vm->delta_kib > mb_vm_reclaimable_now_kib(vm);
        if (below_min || (has_prediction(vm) && is_short)) {
            planner->needy[n_needy++] = vm;
            /* The foreground VM short of its headroom only: what it can
             * reclaim beyond its lead and its next burst is headroom too. */
            if (balanced && !below_min && balanced_need_kib(planner, vm, params, false) == 0)
                planner_add_lender(planner, vm, 0, params);
        } else if (is_silent(vm)) {
            /* No demand known for a while: it keeps its fair share, and
             * gives what lies above it to the VMs nothing else can serve. */
            uint64_t above_kib = sub_sat(vm->target_kib, fair_share_kib(vm, fair_extra));
            if (above_kib == 0)
                continue;
            Donor *d = &planner->silent.v[n_silent++];
            d->vm = vm;
            d->surplus_kib = above_kib;
            d->cold_kib = 0;
        } else if (has_prediction(vm)) {
            /* The paper gives R - delta; ours never counts a shrinking
             * demand as extra surplus, never digs below a minimum, and
             * keeps the lead that would make it needy again (3 x delta):
             * a growing donor that gave down to one interval's demand
             * asked it back at the next tick. */
            int64_t demand_kib = vm->delta_kib;
            if (balanced)
                demand_kib = vm->delta_kib < 0 ? 0 : vm->delta_kib * (int64_t)MB_BALANCED_LEAD;
            /* Ours keeps a donor's recent peak demand (its next burst),
             * and the foreground VM its headroom. */
            if (balanced && vm->peak_kib > demand_kib)
                demand_kib = vm->peak_kib;
            int64_t headroom_kib =
                balanced && vm->settings.foreground
                    ? (int64_t)min_u64(params->foreground_headroom_kib, INT32_MAX)
                    : 0;
            int64_t hard_kib = (int64_t)mb_vm_reclaimable_now_kib(vm) - demand_kib;
            int64_t surplus_kib = hard_kib - headroom_kib;
            /* Above its min in whole pages, so that a shrink rounded to
             * pages stays above it. */
            uint64_t above_min_kib = sub_sat(vm->target_kib, page_up(vm->settings.min_kib));
            if (surplus_kib > 0) {
                Donor *d = &planner->donors.v[n_donors++];
                d->vm = vm;
                d->surplus_kib = min_u64((uint64_t)surplus_kib, above_min_kib);
                d->cold_kib = min_u64(d->surplus_kib, vm->last.inactive_file_kib);
                above_min_kib -= d->surplus_kib;
            }
            /* Its headroom and a growth it keeps, free now, lent only to
             * a VM short now. */
            if (balanced)
                planner_add_lender(planner, vm, surplus_kib > 0 ? (uint64_t)surplus_kib : 0,
                                   params);
        }
    }
    planner->donors.n = n_donors;
    planner_heap_sort(planner->donors.v, n_donors, sizeof(*planner->donors.v),
                      planner_compare_donor);
    planner->silent.n = n_silent;
    planner_heap_sort(planner->silent.v, n_silent, sizeof(*planner->silent.v),
                      planner_compare_donor);
    planner_heap_sort(planner->bursts.v, planner->bursts.n, sizeof(*planner->bursts.v),
                      planner_compare_donor);
    planner_heap_sort(planner->lend.v, planner->lend.n, sizeof(*planner->lend.v),
                      planner_compare_donor);

    if (balanced)
        planner_heap_sort(planner->needy, n_needy, sizeof(*planner->needy),
                          planner_compare_needy);
    else
        planner_shuffle_needy(planner, planner->needy, n_needy);

    for (size_t i = 0; i < n_needy; i++) {
        MbVm *vm = planner->needy[i];
        uint64_t want_kib =
            vm->delta_kib > 0 && has_prediction(vm) ? (uint64_t)vm->delta_kib : 0;

        /* Ours grants all of what it is short (the lead that served it),
         * at least one interval's demand: a VM short now catches up in one
         * move instead of staying at the edge. The foreground VM's
         * headroom comes after every VM's need, from the pool's rest and
         * cold cache only. */
        if (balanced && has_prediction(vm)) {
            uint64_t need_kib = balanced_need_kib(planner, vm, params, false);
            want_kib = need_kib == 0 ? 0 : need_kib > want_kib ? need_kib : want_kib;
        }
        /* Ours rounds a small need up to one step when the VM is short
         * now or has less than a step left to reclaim: skipping it would
         * let the VM swap for the few ticks its demand stays under the
         * step. With a step's cushion left it waits until a step is
         * missing: a need of 3 x a noisy demand moved 4 MiB back and forth
         * every few seconds. */
        if (balanced && want_kib > 0 && want_kib < params->min_step_kib)
            want_kib =
                short_now(planner, vm) || mb_vm_reclaimable_now_kib(vm) < params->min_step_kib
                    ? params->min_step_kib
                    : 0;
        want_kib = want_kib > sub_sat(vm->settings.min_kib, vm->target_kib)
                       ? want_kib
                       : sub_sat(vm->settings.min_kib, vm->target_kib);
        uint64_t before_kib = vm->target_kib;
        planner_serve(planner, vm, want_kib, &pool_free_kib, params, balanced);
        if (balanced && vm->settings.foreground && fg == NULL) {
            fg = vm;
            fg_unmet_kib = sub_sat(want_kib, vm->target_kib - before_kib);
        }
    }
    if (fg != NULL && fg_unmet_kib >= params->min_step_kib)
        planner_squeeze_background(planner, vms, n, fg, fg_unmet_kib, params);
    /* A real need before a speculative one: the headroom is served once
     * every needy VM was, so that memory in the pool (a lender's, on its
     * way to a VM short now) never goes back to the foreground VM first. */
    for (size_t i = 0; balanced && i < n_needy; i++) {
        MbVm *vm = planner->needy[i];
        uint64_t headroom_kib = 0;

        if (has_prediction(vm))
            headroom_kib = balanced_need_kib(planner, vm, params, true) -
                           balanced_need_kib(planner, vm, params, false);
        if (headroom_kib > 0)
            planner_serve_headroom(planner, vm, headroom_kib, &pool_free_kib, params);
    }
    if (balanced)
        planner_refill_spare(planner, &pool_free_kib, params);
}

bool
mb_planner_plan(MbPlanner *planner, MbVm *vms, size_t n, const MbParams *params,
                size_t *n_moved)
{
    uint64_t capacity_kib, allocated_kib = 0, pool_free_kib;
    size_t moved = 0;

    if (n_moved != NULL)
        *n_moved = 0;
    if (planner == NULL || n > planner->capacity || (n > 0 && vms == NULL) ||
        !mb_params_validate(params, NULL))
        return false;

    for (size_t i = 0; i < n; i++) {
        vms[i].target_kib = vms[i].alloc_kib;
        vms[i].reason = MB_REASON_NONE;
    }
    if (params->kind == MB_POLICY_STATIC)
        return true;

    /* A VM above its maximum (a lowered max, a domain started large)
     * comes down first; that memory returns to the pool. */
    for (size_t i = 0; i < n; i++) {
        MbVm *vm = &vms[i];
        if (vm->target_kib > vm->settings.max_kib &&
            vm->settings.max_kib >= vm->settings.min_kib) {
            vm->target_kib = vm->settings.max_kib;
            vm->reason = MB_REASON_MAX;
        }
        allocated_kib += vm->target_kib;
    }
    capacity_kib = mb_params_capacity_kib(params);
    pool_free_kib = sub_sat(capacity_kib, allocated_kib);

    if (params->kind == MB_POLICY_MOM)
        planner_plan_mom(vms, n, params, capacity_kib, pool_free_kib);
    else
        plan_paper(planner, vms, n, params, capacity_kib, pool_free_kib);

    /* Whole balloon pages: a growth rounded down, a shrink rounded up, so
     * that the guests never hold more than planned (with allocations in
     * whole pages, as balloons report them, the targets are whole pages
     * too); the floors above are in whole pages for this. */
    for (size_t i = 0; i < n; i++) {
        MbVm *vm = &vms[i];
        if (vm->target_kib > vm->alloc_kib) {
            uint64_t grow_kib = page_down(vm->target_kib - vm->alloc_kib);
            /* Except a restored min that rounding would leave short. */
            if (vm->alloc_kib + grow_kib >= vm->settings.min_kib ||
                vm->target_kib < vm->settings.min_kib)
                vm->target_kib = vm->alloc_kib + grow_kib;
        } else if (vm->target_kib < vm->alloc_kib) {
            uint64_t shrink_kib = page_up(vm->alloc_kib - vm->target_kib);
            /* Except where an allocation between pages would fall below
             * its min. */
            if (shrink_kib < vm->alloc_kib &&
                (vm->alloc_kib - shrink_kib >= vm->settings.min_kib ||
                 vm->target_kib < vm->settings.min_kib))
                vm->target_kib = vm->alloc_kib - shrink_kib;
        }
        if (vm->target_kib == vm->alloc_kib)
            vm->reason = MB_REASON_NONE;
        else
            moved++;
        /* A VM that gave and received in one plan (the foreground VM lent
         * its headroom and refilled it from cold cache) is named by where
         * it ends. */
        if (vm->target_kib > vm->alloc_kib && vm->reason == MB_REASON_DONATE)
            vm->reason = MB_REASON_NEED;
        else if (vm->target_kib < vm->alloc_kib && vm->reason == MB_REASON_NEED)
            vm->reason = MB_REASON_DONATE;
    }
    if (n_moved != NULL)
        *n_moved = moved;
    return true;
}
