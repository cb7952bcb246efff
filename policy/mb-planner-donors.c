/* The planner's donor lists: the paper's shares of the donors' surplus,
 * the silent VMs above their fair share, balanced's lenders and burst
 * reserves, the foreground VM's headroom and the spare. */
#include "mb-planner-private.h"

#include <math.h>
#include <string.h>

/* balanced refills its spare in moves of at least 1/MB_SPARE_CHUNKS of it. */
#define MB_SPARE_CHUNKS 2u

/* Appends a VM's part to a list (sorted once the list is complete). */
static void
push_donor(DonorList *list, MbVm *vm, uint64_t kib)
{
    list->v[list->n].vm = vm;
    list->v[list->n].surplus_kib = kib;
    list->v[list->n].cold_kib = 0;
    list->n++;
}

/* balanced: a VM that does not grow lends what it can reclaim beyond its
 * next burst (the part of its peak it let go of), less given_kib (its
 * surplus, already a donor's), above its min: memory it keeps only in case
 * it grows (the foreground's headroom, a peak it still holds in use). */
void
planner_add_lender(MbPlanner *planner, MbVm *vm, uint64_t given_kib, const MbParams *params)
{
    uint64_t keep_kib, lend_kib, room_kib;

    /* A VM still growing needs its free memory as it grows (its demand
     * lags the growth): on table3 a job that lent what it had just been
     * given to a web VM's page load swapped 51 MiB. */
    if (is_growing(vm, params))
        return;
    keep_kib = (uint64_t)recurring_burst_kib(vm);
    room_kib = sub_sat(sub_sat(vm->target_kib, page_up(vm->settings.min_kib)), given_kib);
    lend_kib =
        min_u64(sub_sat(mb_vm_reclaimable_now_kib(vm), add_sat(keep_kib, given_kib)), room_kib);
    if (lend_kib > 0)
        push_donor(&planner->lend, vm, lend_kib);
    /* A background VM's next burst is speculative too, beside the
     * foreground VM's real need: a browser sent to the background kept
     * 128 MiB free for a page load while the game brought back to the
     * front thrashed 320 MiB. Only the foreground VM gets it. */
    if (planner->has_foreground && !vm->settings.foreground && keep_kib > 0) {
        uint64_t burst_kib = min_u64(min_u64(keep_kib, sub_sat(mb_vm_reclaimable_now_kib(vm),
                                                               add_sat(given_kib, lend_kib))),
                                     room_kib - lend_kib);
        if (burst_kib > 0)
            push_donor(&planner->bursts, vm, burst_kib);
    }
}

/* What the k-th largest donor gives when the k largest share out want:
 * the paper's formula, surplus/D * want when D > want, else all of it. */
static uint64_t
share_of(uint64_t surplus_kib, uint64_t total_kib, uint64_t want_kib)
{
    if (total_kib <= want_kib)
        return surplus_kib;
    return (uint64_t)floor((double)surplus_kib / (double)total_kib * (double)want_kib);
}

/* The paper's reclaiming formula, over the largest donors: every share
 * must reach the minimum step, and the smallest donor's share only falls
 * as donors are added, so the set is the longest prefix of the sorted
 * donors whose last share still reaches it. Many small surpluses thus
 * never starve a transfer. Returns how many donors give; *given_kib is
 * their total (<= want). */
static size_t
share_out(const DonorList *donors, uint64_t want_kib, uint64_t min_step_kib,
          uint64_t *given_kib, uint64_t *set_total_kib)
{
    uint64_t total_kib = 0;
    size_t k = 0;

    for (; k < donors->n; k++) {
        uint64_t s = donors->v[k].surplus_kib;
        if (s == 0 || share_of(s, total_kib + s, want_kib) < min_step_kib)
            break;
        total_kib += s;
    }
    *set_total_kib = total_kib;
    *given_kib = 0;
    for (size_t i = 0; i < k; i++)
        *given_kib += share_of(donors->v[i].surplus_kib, total_kib, want_kib);
    return k;
}

/* Takes the shares of the k largest donors, then restores the order: both
 * the donors that gave and those that did not are still sorted, so one
 * merge does it. */
static void
apply_shares(MbPlanner *planner, DonorList *donors, size_t k, uint64_t set_total_kib,
             uint64_t want_kib, MbReason reason)
{
    Donor *d = donors->v, *tmp = planner->donors_tmp;
    size_t n = donors->n, i = 0, j = k, o = 0;

    for (size_t x = 0; x < k; x++) {
        uint64_t take = share_of(d[x].surplus_kib, set_total_kib, want_kib);
        d[x].vm->target_kib -= take;
        d[x].surplus_kib -= take;
        /* A balloon takes free memory first: what is left of the
         * surplus is still cold cache as far as it was. */
        d[x].cold_kib = min_u64(d[x].cold_kib, d[x].surplus_kib);
        d[x].vm->reason = reason;
    }
    while (i < k && j < n)
        tmp[o++] = planner_compare_donor(&d[i], &d[j]) <= 0 ? d[i++] : d[j++];
    while (i < k)
        tmp[o++] = d[i++];
    while (j < n)
        tmp[o++] = d[j++];
    memcpy(d, tmp, n * sizeof(*d));
    /* Donors with nothing left sort last: stop looking at them. */
    while (donors->n > 0 && d[donors->n - 1].surplus_kib == 0)
        donors->n--;
}

/* Serves one needy VM: first from the unallocated pool (balanced only),
 * then from the donors, and what is still missing from the silent VMs
 * above their fair share. A transfer smaller than the step is not made,
 * except to restore the VM's guaranteed minimum. Every step takes from one
 * VM what another receives, or from the pool's free memory: the sum of
 * targets never grows past the capacity. */
void
planner_serve(MbPlanner *planner, MbVm *vm, uint64_t want_kib, uint64_t *pool_free_kib,
              const MbParams *params, bool use_pool)
{
    uint64_t from_pool_kib = 0, from_donors_kib = 0, from_silent_kib = 0, from_lend_kib = 0;
    uint64_t donors_total_kib = 0, silent_total_kib = 0, lend_total_kib = 0, rest_kib, gain_kib;
    uint64_t below_min_kib = sub_sat(vm->settings.min_kib, vm->target_kib);
    size_t k = 0, k_silent = 0, k_lend = 0, k_burst = 0;
    uint64_t from_burst_kib = 0, burst_total_kib = 0;

    want_kib = min_u64(want_kib, sub_sat(vm->settings.max_kib, vm->target_kib));
    if (want_kib == 0)
        return;
    if (use_pool || below_min_kib > 0)
        from_pool_kib = min_u64(want_kib, *pool_free_kib);
    rest_kib = want_kib - from_pool_kib;
    if (rest_kib > 0)
        k = share_out(&planner->donors, rest_kib, params->min_step_kib, &from_donors_kib,
                      &donors_total_kib);
    /* The unmet need: the silent VMs' memory is taken last, and only for
     * that, as the donors' is. */
    if (rest_kib > from_donors_kib)
        k_silent = share_out(&planner->silent, rest_kib - from_donors_kib, params->min_step_kib,
                             &from_silent_kib, &silent_total_kib);
    /* A VM short now (it swaps, refaults, stalls) that still lacks memory
     * is served from what the others keep only in case they grow (the
     * foreground's headroom, a peak that is no burst to come): a real need
     * comes before a speculative one, whatever the priority.
     * The foreground VM refills its headroom from cold cache and the free
     * pool only (planner_serve_headroom), never from this VM. */
    if (short_now(planner, vm) && rest_kib > from_donors_kib + from_silent_kib)
        k_lend = share_out(&planner->lend, rest_kib - from_donors_kib - from_silent_kib,
                           params->min_step_kib, &from_lend_kib, &lend_total_kib);
    /* The foreground VM short now: then the background VMs' burst
     * reserves. */
    uint64_t served_kib = from_donors_kib + from_silent_kib + from_lend_kib;
    if (vm->settings.foreground && short_now(planner, vm) && rest_kib > served_kib)
        k_burst = share_out(&planner->bursts, rest_kib - served_kib, params->min_step_kib,
                            &from_burst_kib, &burst_total_kib);
    gain_kib = from_pool_kib + served_kib + from_burst_kib;
    if (gain_kib == 0 || (gain_kib < params->min_step_kib && below_min_kib == 0))
        return;
    if (k > 0)
        apply_shares(planner, &planner->donors, k, donors_total_kib, rest_kib,
                     MB_REASON_DONATE);
    if (k_silent > 0)
        apply_shares(planner, &planner->silent, k_silent, silent_total_kib,
                     rest_kib - from_donors_kib, MB_REASON_SILENT);
    if (k_burst > 0)
        apply_shares(planner, &planner->bursts, k_burst, burst_total_kib,
                     rest_kib - from_donors_kib - from_silent_kib - from_lend_kib,
                     MB_REASON_DONATE);
    if (k_lend > 0)
        apply_shares(planner, &planner->lend, k_lend, lend_total_kib,
                     rest_kib - from_donors_kib - from_silent_kib, MB_REASON_DONATE);
    *pool_free_kib -= from_pool_kib;
    vm->target_kib += gain_kib;
    vm->reason = below_min_kib > 0 ? MB_REASON_MIN : MB_REASON_NEED;
}

/* Whether a donor gives only its cold page cache: to the spare until its
 * bursts have been watched MB_PEAK_HOLD intervals (a web VM's first page
 * load must not find its free memory gone), to the foreground VM's
 * headroom while it makes bursts it lets go of, or none of its growth is
 * known yet; else any surplus above its floors (its lead, its next burst,
 * its min: its working set). */
typedef enum {
    GIVE_SPARE,    /* any surplus once its bursts have been watched long enough */
    GIVE_HEADROOM, /* ... or once one of its bursts is known */
} GiveTo;

static bool
gives_cold_only(const Donor *d, GiveTo to)
{
    if (to == GIVE_SPARE)
        return d->vm->history < MB_PEAK_HOLD;
    /* The headroom: never a bursty donor's free memory (its next burst
     * may be larger than its last); a donor that grew once and holds it
     * (a game sent to the background) gives what it does not use. */
    return recurring_burst_kib(d->vm) > 0 ||
           (d->vm->peak_kib == 0 && d->vm->history < MB_PEAK_HOLD);
}

/* balanced: what the donors give toward want_kib, the largest donor first
 * so that few balloons move, in moves of at least the minimum step. With
 * take, it is taken (targets lowered) and the donors are sorted again;
 * without, it only says how much it would be. */
static uint64_t
from_donors(MbPlanner *planner, uint64_t want_kib, GiveTo to, bool take, const MbParams *params)
{
    uint64_t taken_kib = 0;

    for (size_t i = 0; i < planner->donors.n && want_kib - taken_kib >= params->min_step_kib;
         i++) {
        Donor *d = &planner->donors.v[i];
        bool cold = gives_cold_only(d, to);
        uint64_t take_kib = min_u64(cold ? d->cold_kib : d->surplus_kib, want_kib - taken_kib);
        if (take_kib < params->min_step_kib)
            continue;
        taken_kib += take_kib;
        if (!take)
            continue;
        d->vm->target_kib -= take_kib;
        d->vm->reason = MB_REASON_DONATE;
        d->surplus_kib -= take_kib;
        /* Any surplus: a balloon takes free memory first. */
        d->cold_kib = cold ? d->cold_kib - take_kib : min_u64(d->cold_kib, d->surplus_kib);
    }
    if (take) {
        planner_heap_sort(planner->donors.v, planner->donors.n, sizeof(*planner->donors.v),
                          planner_compare_donor);
        while (planner->donors.n > 0 &&
               planner->donors.v[planner->donors.n - 1].surplus_kib == 0)
            planner->donors.n--;
    }
    return taken_kib;
}

/* balanced: gives the foreground VM its headroom from the free pool and
 * the donors' surplus beyond their working sets (cold page cache only from
 * a donor whose bursts are not known yet), before it asks (SetForeground
 * as the TV shell launches an app): never what a donor may need. On the
 * TV evening bench, with cold cache only, the browser made foreground got
 * nothing of the 135 MiB the game left free in the background, and its
 * first page load swapped 84 MiB. */
void
planner_serve_headroom(MbPlanner *planner, MbVm *vm, uint64_t want_kib, uint64_t *pool_free_kib,
                       const MbParams *params)
{
    uint64_t from_pool_kib, from_cold_kib;

    want_kib = min_u64(want_kib, sub_sat(vm->settings.max_kib, vm->target_kib));
    from_pool_kib = min_u64(want_kib, *pool_free_kib);
    from_cold_kib =
        from_donors(planner, want_kib - from_pool_kib, GIVE_HEADROOM, false, params);
    if (from_pool_kib + from_cold_kib < params->min_step_kib)
        return;
    from_cold_kib = from_donors(planner, want_kib - from_pool_kib, GIVE_HEADROOM, true, params);
    *pool_free_kib -= from_pool_kib;
    vm->target_kib += from_pool_kib + from_cold_kib;
    vm->reason = MB_REASON_NEED;
}

/* balanced: keeps params->spare_kib of the capacity unallocated for the
 * next VM short of memory, refilled from the donors' surplus above their
 * floors (their demand, their next burst, the foreground's headroom, their
 * min): a donor's balloon takes seconds to inflate in a busy guest, a
 * needy VM's deflates at once. */
void
planner_refill_spare(MbPlanner *planner, uint64_t *pool_free_kib, const MbParams *params)
{
    uint64_t missing_kib = sub_sat(params->spare_kib, *pool_free_kib);
    /* In chunks of half the spare (or what is missing), not in trickles
     * as a donor's cache grows: every move costs a balloon round trip. */
    uint64_t chunk_kib = min_u64(missing_kib, params->spare_kib / MB_SPARE_CHUNKS);

    if (missing_kib < params->min_step_kib ||
        from_donors(planner, missing_kib, GIVE_SPARE, false, params) < chunk_kib)
        return;
    *pool_free_kib += from_donors(planner, missing_kib, GIVE_SPARE, true, params);
}
