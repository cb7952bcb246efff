/* The paper's predictor: demand as an EWMA of the change in active file,
 * anon (active anon for policy paper, all anonymous memory otherwise: a
 * modern kernel starts new anonymous pages on the inactive list) and
 * swap-out; reclaimable as inactive file + free minus the guest's free
 * reserve. Guest numbers are untrusted claims. */
#include "mb-policy.h"

#include <limits.h>
#include <math.h>
#include <string.h>

void
mb_vm_init(MbVm *vm, const char *name, const MbVmSettings *settings, uint64_t alloc_kib)
{
    memset(vm, 0, sizeof(*vm));
    if (name != NULL) {
        size_t len = strnlen(name, MB_VM_NAME_MAX);
        memcpy(vm->name, name, len);
        vm->name[len] = '\0';
    }
    if (settings != NULL)
        vm->settings = *settings;
    vm->alloc_kib = alloc_kib;
    vm->sample_alloc_kib = alloc_kib;
    vm->target_kib = alloc_kib;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t
mb_reclaimable_kib(const MbSample *sample, double free_reserve_ratio)
{
    /* Computed in double: the inputs are clamped to the allocation, so the
     * sum cannot overflow, and the reserve is a fraction. */
    double r = (double)sample->inactive_file_kib + (double)sample->free_kib -
               free_reserve_ratio * (double)sample->total_kib;
    return r > 0.0 ? (uint64_t)r : 0;
}

/* A guest cannot have more memory than the host gave it: clamp its claims
 * so that one lying guest cannot inflate its demand or hide its surplus. */
static void
clamp_sample(MbSample *s, uint64_t alloc_kib)
{
    uint64_t left;

    if (s->total_kib == 0 || s->total_kib > alloc_kib)
        s->total_kib = alloc_kib;
    left = s->total_kib;
    /* The LRU lists and free memory are disjoint parts of total. */
    s->active_anon_kib = min_u64(s->active_anon_kib, left);
    left -= s->active_anon_kib;
    s->active_file_kib = min_u64(s->active_file_kib, left);
    left -= s->active_file_kib;
    s->inactive_anon_kib = min_u64(s->inactive_anon_kib, left);
    left -= s->inactive_anon_kib;
    s->inactive_file_kib = min_u64(s->inactive_file_kib, left);
    left -= s->inactive_file_kib;
    s->free_kib = min_u64(s->free_kib, left);
    if (!s->has_psi || !(s->psi_some_avg10 >= 0.0 && s->psi_some_avg10 <= 100.0) ||
        !(s->psi_full_avg10 >= 0.0 && s->psi_full_avg10 <= 100.0)) {
        s->has_psi = false;
        s->psi_some_avg10 = 0.0;
        s->psi_full_avg10 = 0.0;
    }
}

/* a * b, or UINT64_MAX when it does not fit. */
static uint64_t
mul_sat(uint64_t a, uint64_t b)
{
    return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static void
count_silent(MbVm *vm)
{
    if (vm->silent_ticks < UINT_MAX)
        vm->silent_ticks++;
}

static int64_t
diff_kib(uint64_t now, uint64_t before)
{
    /* Both sides are clamped to an allocation, far below INT64_MAX. */
    return (int64_t)now - (int64_t)before;
}

void
mb_vm_rebaseline(MbVm *vm)
{
    vm->has_last = false;
    vm->has_delta = false;
    vm->dm_kib = 0;
    vm->delta_kib = 0;
    vm->burst_kib = 0;
    vm->pressured = false;
    vm->stalled = false;
}

static void
observe(MbVm *vm, const MbSample *sample, const MbParams *params, double intervals)
{
    MbSample s;
    int64_t dm_kib;
    uint64_t swap_out_kib, refault_kib, whole;
    double keep;
    uint64_t page_kib = vm->page_kib != 0 ? vm->page_kib : params->page_kib;

    if (sample == NULL) {
        vm->stale = true;
        vm->pressured = false;
        vm->stalled = false;
        vm->missed_ticks =
            vm->missed_ticks < MB_MISSED_TICKS_MAX ? vm->missed_ticks + 1 : MB_MISSED_TICKS_MAX;
        count_silent(vm);
        return;
    }

    s = *sample;
    clamp_sample(&s, vm->alloc_kib);
    /* At least one interval's worth for the bounds below. */
    whole = (uint64_t)ceil(intervals);
    vm->stale = false;
    vm->missed_ticks = 0;
    vm->reclaimable_kib = mb_reclaimable_kib(&s, params->free_reserve_ratio);
    vm->sample_alloc_kib = vm->alloc_kib;

    if (vm->has_last && (s.swap_out_pages < vm->last.swap_out_pages ||
                         s.swap_in_pages < vm->last.swap_in_pages)) {
        /* Cumulative counters went backwards: the guest rebooted. Start
         * over from this sample rather than report a huge negative dM. */
        vm->resets++;
        vm->has_last = false;
        vm->has_delta = false;
        vm->dm_kib = 0;
        vm->delta_kib = 0;
    }

    if (!vm->has_last) {
        /* A baseline only: no demand known for this interval. */
        vm->pressured = false;
        vm->stalled = false;
        vm->last = s;
        vm->has_last = true;
        count_silent(vm);
        return;
    }

    /* Swap-out in KiB over the interval, bounded by the allocation: a
     * guest cannot write out more than it ever held in one interval. */
    swap_out_kib = mul_sat(s.swap_out_pages - vm->last.swap_out_pages, page_kib);
    swap_out_kib = min_u64(swap_out_kib, mul_sat(vm->alloc_kib, whole));

    /* The paper counts the active anon list. Since Linux 5.9 a new
     * anonymous page starts on the inactive list (a job allocating 280 MiB
     * showed 2-7 MiB of Active(anon) on Debian 6.1 guests), so balanced
     * counts all anonymous memory: growth shows when it happens, not once
     * the VM already swaps. paper keeps the published formula. */
    if (params->kind == MB_POLICY_PAPER)
        dm_kib = diff_kib(s.active_anon_kib, vm->last.active_anon_kib);
    else
        dm_kib = diff_kib(s.active_anon_kib + s.inactive_anon_kib,
                          vm->last.active_anon_kib + vm->last.inactive_anon_kib);
    dm_kib += diff_kib(s.active_file_kib, vm->last.active_file_kib) + (int64_t)swap_out_kib;
    /* A modern kernel also says when the working set does not fit: pages
     * read back soon after they were evicted (workingset_activate). balanced
     * counts them as demand; the paper predates them. */
    refault_kib = 0;
    if (s.has_refaults && vm->last.has_refaults) {
        uint64_t pages = 0;
        if (s.activate_anon_pages > vm->last.activate_anon_pages)
            pages += s.activate_anon_pages - vm->last.activate_anon_pages;
        if (s.activate_file_pages > vm->last.activate_file_pages)
            pages += s.activate_file_pages - vm->last.activate_file_pages;
        refault_kib = min_u64(mul_sat(pages, page_kib), mul_sat(vm->alloc_kib, whole));
    }
    if (params->kind != MB_POLICY_PAPER)
        dm_kib += (int64_t)refault_kib;
    /* Short now, whatever the trend says. 1 ms of memory stall or 1 MiB of
     * refaults an interval is noise; more is a task waiting for memory. */
    bool stalled_now =
        refault_kib >= 1024 ||
        (s.has_psi && vm->last.has_psi &&
         s.psi_some_total_us > vm->last.psi_some_total_us + (uint64_t)(1000.0 * intervals));
    vm->pressured = stalled_now || swap_out_kib > 0 || s.urgent != 0;
    /* ... or lately: the PSI average of the last ten seconds keeps a VM
     * that stalled from being squeezed again at once. */
    vm->stalled = stalled_now || (s.has_psi && s.psi_some_avg10 >= MB_STALL_PSI_AVG10);
    /* After missed samples the change spans several intervals, an urgent
     * sample spans part of one: keep dM a per-interval rate. */
    dm_kib = (int64_t)((double)dm_kib / intervals);

    /* A bursty VM's next burst: what a donor must keep. */
    /* The weights are per interval: a sample that spans a fraction of one
     * moves the estimates by that fraction. */
    /* Held while bursts like it keep coming, then decaying. */
    vm->history = fmin(vm->history + intervals, 1e9);
    vm->peak_age += intervals;
    if (vm->peak_age > MB_PEAK_HOLD) {
        keep = pow(63.0 / 64.0, fmin(vm->peak_age - MB_PEAK_HOLD, intervals));
        vm->peak_kib = (int64_t)((double)vm->peak_kib * keep);
    }
    /* A burst that takes two intervals to allocate is one burst (only two:
     * a VM creeping up for minutes is not bursting). */
    vm->burst_kib = dm_kib > 0 ? dm_kib + (vm->dm_kib > 0 ? vm->dm_kib : 0) : 0;
    if (vm->burst_kib > vm->peak_kib)
        vm->peak_kib = vm->burst_kib;
    if (vm->burst_kib > 0 && vm->burst_kib >= vm->peak_kib - vm->peak_kib / 4)
        vm->peak_age = 0.0;
    /* Memory given back since its last burst: a burst it let go of. A
     * burst like the peak starts over (the memory is in use again); a
     * small rise (a cache creeping up) does not eat into it. */
    if (vm->peak_age == 0.0)
        vm->released_kib = 0;
    else if (dm_kib < 0)
        vm->released_kib =
            vm->released_kib > INT64_MAX + dm_kib ? INT64_MAX : vm->released_kib - dm_kib;
    if (vm->released_kib > vm->peak_kib)
        vm->released_kib = vm->peak_kib;
    vm->dm_kib = dm_kib;
    vm->silent_ticks = 0;
    if (!vm->has_delta) {
        vm->delta_kib = dm_kib;
        vm->has_delta = true;
    } else {
        double a = 1.0 - pow(1.0 - params->alpha, intervals);
        vm->delta_kib = (int64_t)(a * (double)dm_kib + (1.0 - a) * (double)vm->delta_kib);
    }
    vm->last = s;
}

void
mb_vm_observe_at(MbVm *vm, const MbSample *sample, const MbParams *params, double intervals)
{
    if (!isfinite(intervals) || intervals <= 0.0)
        intervals = 1.0;
    if (intervals > (double)MB_MISSED_TICKS_MAX + 1.0)
        intervals = (double)MB_MISSED_TICKS_MAX + 1.0;
    observe(vm, sample, params, intervals);
}

double
mb_sample_span(int64_t last_us, int64_t this_us, int64_t interval_us)
{
    double span;

    if (last_us <= 0 || this_us <= last_us || interval_us <= 0)
        return 1.0;
    span = (double)(this_us - last_us) / (double)interval_us;
    return fmin(fmax(span, MB_SPAN_MIN), (double)MB_MISSED_TICKS_MAX + 1.0);
}

void
mb_vm_observe(MbVm *vm, const MbSample *sample, const MbParams *params)
{
    /* Never 0, even if a caller wrote missed_ticks past its cap. */
    observe(vm, sample, params, (double)min_u64(vm->missed_ticks, MB_MISSED_TICKS_MAX) + 1.0);
}

uint64_t
mb_vm_reclaimable_now_kib(const MbVm *vm)
{
    if (!vm->has_last)
        return vm->reclaimable_kib;
    if (vm->alloc_kib >= vm->sample_alloc_kib)
        return vm->reclaimable_kib +
               min_u64(vm->alloc_kib - vm->sample_alloc_kib, UINT64_MAX - vm->reclaimable_kib);
    return vm->sample_alloc_kib - vm->alloc_kib < vm->reclaimable_kib
               ? vm->reclaimable_kib - (vm->sample_alloc_kib - vm->alloc_kib)
               : 0;
}
