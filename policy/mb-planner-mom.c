/* oVirt MOM's default balloon rules, as a baseline policy. */
#include "mb-planner-private.h"

#include <math.h>

/* MOM's defaults (oVirt MOM, balloon.rules). */
#define MOM_PRESSURE_THRESHOLD 0.20
#define MOM_PRESSURE_CRITICAL 0.05
#define MOM_MIN_GUEST_FREE 0.20
#define MOM_MAX_CHANGE 0.05
#define MOM_MIN_CHANGE 0.0025

/* oVirt MOM's default balloon rules: sees only free memory, not the LRU
 * split, and moves every guest at once by host pressure. */
void
planner_plan_mom(MbVm *vms, size_t n, const MbParams *params, uint64_t capacity_kib,
                 uint64_t pool_free_kib)
{
    double host_free = capacity_kib ? (double)pool_free_kib / (double)capacity_kib : 0.0;

    for (size_t i = 0; i < n; i++) {
        MbVm *vm = &vms[i];
        double cur = (double)vm->target_kib;
        double used, target;

        if (vm->target_kib < vm->settings.min_kib) {
            /* MOM has no guarantees of its own; ours hold for every policy. */
            uint64_t grow = min_u64(vm->settings.min_kib - vm->target_kib, pool_free_kib);
            pool_free_kib -= grow;
            vm->target_kib += grow;
            vm->reason = MB_REASON_MIN;
            continue;
        }
        if (!vm->has_last || vm->stale)
            continue;
        used = cur - (double)vm->last.free_kib;
        if (host_free < MOM_PRESSURE_THRESHOLD) {
            double guest_free = host_free <= MOM_PRESSURE_CRITICAL
                                    ? host_free - 0.05
                                    : MOM_MIN_GUEST_FREE * host_free / MOM_PRESSURE_THRESHOLD;
            double floor_kib = fmax((double)vm->settings.min_kib, used + guest_free * cur);
            target = fmax(cur * (1.0 - MOM_MAX_CHANGE), floor_kib);
            if (target > cur || cur - target <= MOM_MIN_CHANGE * cur)
                continue;
            uint64_t t = (uint64_t)target;
            if (vm->target_kib - t < params->min_step_kib)
                continue;
            pool_free_kib += vm->target_kib - t;
            vm->target_kib = t;
            vm->reason = MB_REASON_MOM_SHRINK;
        } else {
            target = fmax(used + MOM_MIN_GUEST_FREE * cur, cur * (1.0 + MOM_MAX_CHANGE));
            target = fmin(target, (double)vm->settings.max_kib);
            if (target <= cur || target - cur <= MOM_MIN_CHANGE * cur)
                continue;
            uint64_t grow = min_u64((uint64_t)target - vm->target_kib, pool_free_kib);
            if (grow < params->min_step_kib)
                continue;
            pool_free_kib -= grow;
            vm->target_kib += grow;
            vm->reason = MB_REASON_MOM_GROW;
        }
    }
}
