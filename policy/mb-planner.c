/* The planner: turns each VM's predicted demand and reclaimable memory
 * into balloon targets. All scratch space is allocated once, in
 * mb_planner_new(); planning itself allocates nothing. */
#include "mb-policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    MbVm *vm;
    uint64_t surplus_kib; /* what it can still give this tick */
    uint64_t cold_kib;    /* the part of it that is cold page cache (balanced's
                           * foreground headroom takes only this) */
} Donor;

/* Kept sorted by compare_donor(). */
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

/* balanced refills its spare in moves of at least 1/MB_SPARE_CHUNKS of it. */
#define MB_SPARE_CHUNKS 2u

/* balanced: what a background VM gives the foreground VM of its cold
 * memory per plan (squeeze_background): small enough that its PSI shows
 * the cost before much is gone. */
#define MB_SQUEEZE_STEP_KIB (32u * 1024u)

/* MOM's defaults (oVirt MOM, balloon.rules). */
#define MOM_PRESSURE_THRESHOLD 0.20
#define MOM_PRESSURE_CRITICAL 0.05
#define MOM_MIN_GUEST_FREE 0.20
#define MOM_MAX_CHANGE 0.05
#define MOM_MIN_CHANGE 0.0025

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

static uint64_t
rng_next(MbPlanner *planner)
{
    uint64_t x = planner->rng_state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    planner->rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t
sub_sat(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Balloons move in whole pages: a target between two pages leaves the
 * guest the page above it. */
static uint64_t
page_down(uint64_t kib)
{
    return kib - kib % MB_BALLOON_PAGE_KIB;
}

static uint64_t
page_up(uint64_t kib)
{
    return kib % MB_BALLOON_PAGE_KIB == 0 ? kib : add_sat(page_down(kib), MB_BALLOON_PAGE_KIB);
}

/* Demand above reclaimable: the VM may swap soon. */
static int64_t
deficit_kib(const MbVm *vm)
{
    return vm->delta_kib - (int64_t)mb_vm_reclaimable_now_kib(vm);
}

/* balanced: the VM is short now. A background VM (another is the
 * foreground VM) that swaps out without stalling and without growing is
 * writing out cold pages it gave the foreground VM (squeeze_background):
 * no cost to it yet, and no need to serve. */
static bool
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
static uint64_t
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
static bool
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
static int64_t
recurring_burst_kib(const MbVm *vm)
{
    if (vm->released_kib < vm->peak_kib / 2)
        return 0;
    return vm->released_kib < vm->peak_kib ? vm->released_kib : vm->peak_kib;
}

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
static void
add_lender(MbPlanner *planner, MbVm *vm, uint64_t given_kib, const MbParams *params)
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

/* Too long without a demand prediction: its memory is no longer its own. */
static bool
is_silent(const MbVm *vm)
{
    return vm->silent_ticks >= MB_SILENT_TICKS;
}

static bool
has_prediction(const MbVm *vm)
{
    return vm->has_delta && !vm->stale && !is_silent(vm);
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

/* Service order of needy VMs: priority, then the foreground VM, then the
 * larger deficit, then the name. A total order, so every run agrees. */
static int
compare_needy(const MbVm *a, const MbVm *b)
{
    int64_t da, db;

    if (a->settings.priority != b->settings.priority)
        return a->settings.priority > b->settings.priority ? -1 : 1;
    if (a->settings.foreground != b->settings.foreground)
        return a->settings.foreground ? -1 : 1;
    da = deficit_kib(a);
    db = deficit_kib(b);
    if (da != db)
        return da > db ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Heapsort: in place, no allocation (qsort may allocate). */
typedef int (*CompareFunc)(const void *a, const void *b);

/* Elements are pointers or Donors: both fit the buffer. */
#define SORT_ELEM_MAX 32

_Static_assert(sizeof(Donor) <= SORT_ELEM_MAX && sizeof(MbVm *) <= SORT_ELEM_MAX,
               "sort buffer too small");

static void
swap_elems(unsigned char *a, unsigned char *b, size_t size)
{
    unsigned char t[SORT_ELEM_MAX];

    memcpy(t, a, size);
    memcpy(a, b, size);
    memcpy(b, t, size);
}

static void
sift_down(unsigned char *base, size_t size, size_t root, size_t end, CompareFunc cmp)
{
    while (2 * root + 1 < end) {
        size_t child = 2 * root + 1;
        size_t top = root;
        if (cmp(base + top * size, base + child * size) < 0)
            top = child;
        if (child + 1 < end && cmp(base + top * size, base + (child + 1) * size) < 0)
            top = child + 1;
        if (top == root)
            return;
        swap_elems(base + root * size, base + top * size, size);
        root = top;
    }
}

static void
heap_sort(void *v, size_t n, size_t size, CompareFunc cmp)
{
    unsigned char *base = v;

    for (size_t start = n / 2; start-- > 0;)
        sift_down(base, size, start, n, cmp);
    for (size_t end = n; end-- > 1;) {
        swap_elems(base, base + end * size, size);
        sift_down(base, size, 0, end, cmp);
    }
}

static int
compare_needy_ptr(const void *a, const void *b)
{
    return compare_needy(*(MbVm *const *)a, *(MbVm *const *)b);
}

/* Donors by surplus, largest first; the name settles ties. */
static int
compare_donor(const void *a, const void *b)
{
    const Donor *x = a, *y = b;

    if (x->surplus_kib != y->surplus_kib)
        return x->surplus_kib > y->surplus_kib ? -1 : 1;
    return strcmp(x->vm->name, y->vm->name);
}

static void
shuffle_needy(MbPlanner *planner, MbVm **v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(rng_next(planner) % i);
        MbVm *tmp = v[i - 1];
        v[i - 1] = v[j];
        v[j] = tmp;
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
        tmp[o++] = compare_donor(&d[i], &d[j]) <= 0 ? d[i++] : d[j++];
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
static void
serve(MbPlanner *planner, MbVm *vm, uint64_t want_kib, uint64_t *pool_free_kib,
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
     * pool only (serve_headroom), never from this VM. */
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
        heap_sort(planner->donors.v, planner->donors.n, sizeof(*planner->donors.v),
                  compare_donor);
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
static void
serve_headroom(MbPlanner *planner, MbVm *vm, uint64_t want_kib, uint64_t *pool_free_kib,
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
static void
refill_spare(MbPlanner *planner, uint64_t *pool_free_kib, const MbParams *params)
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
static void
squeeze_background(const MbPlanner *planner, MbVm *vms, size_t n, MbVm *fg, uint64_t want_kib,
                   const MbParams *params)
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
                add_lender(planner, vm, 0, params);
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
                add_lender(planner, vm, surplus_kib > 0 ? (uint64_t)surplus_kib : 0, params);
        }
    }
    planner->donors.n = n_donors;
    heap_sort(planner->donors.v, n_donors, sizeof(*planner->donors.v), compare_donor);
    planner->silent.n = n_silent;
    heap_sort(planner->silent.v, n_silent, sizeof(*planner->silent.v), compare_donor);
    heap_sort(planner->bursts.v, planner->bursts.n, sizeof(*planner->bursts.v), compare_donor);
    heap_sort(planner->lend.v, planner->lend.n, sizeof(*planner->lend.v), compare_donor);

    if (balanced)
        heap_sort(planner->needy, n_needy, sizeof(*planner->needy), compare_needy_ptr);
    else
        shuffle_needy(planner, planner->needy, n_needy);

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
        serve(planner, vm, want_kib, &pool_free_kib, params, balanced);
        if (balanced && vm->settings.foreground && fg == NULL) {
            fg = vm;
            fg_unmet_kib = sub_sat(want_kib, vm->target_kib - before_kib);
        }
    }
    if (fg != NULL && fg_unmet_kib >= params->min_step_kib)
        squeeze_background(planner, vms, n, fg, fg_unmet_kib, params);
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
            serve_headroom(planner, vm, headroom_kib, &pool_free_kib, params);
    }
    if (balanced)
        refill_spare(planner, &pool_free_kib, params);
}

/* oVirt MOM's default balloon rules: sees only free memory, not the LRU
 * split, and moves every guest at once by host pressure. */
static void
plan_mom(MbVm *vms, size_t n, const MbParams *params, uint64_t capacity_kib,
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
        plan_mom(vms, n, params, capacity_kib, pool_free_kib);
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
