/* A Linux-like guest memory model in 1 s ticks.
 *
 * MemTotal is the balloon size. A fixed kernel footprint sits on no LRU list;
 * the rest holds anon (resident, or swapped out), active file (the hot set
 * the workload re-reads), inactive file (read once) and free memory. Like
 * Linux's kswapd, the guest reclaims as soon as free memory falls below its
 * reserve (10 % of MemTotal, the paper's assumption): inactive file first,
 * then anon to swap, then active file as a last resort.
 *
 * A job's speed comes from its swapped share: it touches its footprint
 * uniformly, so a share s of the pages it touches must be read back from
 * swap, each stalling it; pages written to swap stall it too. Every amount
 * moves in whole 4 KiB pages. Nothing here allocates. */
#include "mb-guest.h"

#include <math.h>
#include <string.h>

#define PAGE MB_GUEST_PAGE_KIB

const MbGuestModel mb_guest_model_2013 = {
    .name = "2013",
    .hidden_kib = 0,
    .kernel_kib = MB_GUEST_KERNEL_KIB,
    .free_reserve = MB_GUEST_FREE_RESERVE,
    .swap_in_cost_s = MB_GUEST_SWAP_IN_COST_S,
    .swap_out_cost_s = MB_GUEST_SWAP_OUT_COST_S,
};

/* Fitted to the real-VM benchmark's guests (Debian 12, Linux 6.1, TCG):
 * docs/simulator.md, "Against real guests", gives the data for each. */
const MbGuestModel mb_guest_model_linux61 = {
    .name = "linux61",
    .hidden_kib = 58572,       /* 262144 KiB balloon -> MemTotal 203572 KiB */
    .kernel_kib = 33628,       /* MemTotal - MemFree at boot, before the workload */
    .free_reserve = 0.031,     /* ~6.3 MiB of 199 MiB free while thrashing */
    .swap_in_cost_s = 8.5e-4,  /* ~1170 pages/s read back into free memory */
    .swap_out_cost_s = 0.4e-4, /* with it: ~1125 pages/s each way thrashing */
    .shrink_kib_per_s = 44032, /* a 128 MiB inflation took ~3 s */
    .grow_kib_per_s = 163840,  /* +157 MiB deflations land within ~1 s */
    .new_anon_inactive = true,
    .active_anon_kib = 4096,  /* Active(anon) 2-7 MiB beside a 280 MiB job */
    .refault_activate = true, /* anon workingset detection, Linux >= 5.9 */
};

/* A PSI-like stall average over ~10 s: exp(-1/10) per 1 s tick. */
#define PSI_DECAY 0.904837418035959573

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t
page_floor(double kib)
{
    if (!(kib > 0.0))
        return 0;
    if (kib >= 1.8e19)
        return UINT64_MAX / PAGE * PAGE;
    return (uint64_t)(kib / PAGE) * PAGE;
}

static uint64_t
page_ceil_u64(uint64_t kib)
{
    return (kib + PAGE - 1) / PAGE * PAGE;
}

uint64_t
mb_guest_memtotal_kib(const MbGuest *guest)
{
    uint64_t hidden = guest->model->hidden_kib;

    return guest->alloc_kib > hidden ? guest->alloc_kib - hidden : 0;
}

static uint64_t
reserve_kib(const MbGuest *guest)
{
    return page_ceil_u64(
        (uint64_t)ceil((double)mb_guest_memtotal_kib(guest) * guest->model->free_reserve));
}

static uint64_t
used_kib(const MbGuest *guest)
{
    return guest->model->kernel_kib + guest->anon_resident_kib + guest->active_file_kib +
           guest->inactive_file_kib;
}

uint64_t
mb_guest_free_kib(const MbGuest *guest)
{
    uint64_t used = used_kib(guest), total = mb_guest_memtotal_kib(guest);

    return total > used ? total - used : 0;
}

uint64_t
mb_guest_anon_kib(const MbGuest *guest)
{
    return guest->anon_resident_kib + guest->anon_swapped_kib;
}

/* Restores the free reserve: the cheapest pages to drop go first. */
static void
guest_reclaim(MbGuest *guest)
{
    uint64_t want = used_kib(guest) + reserve_kib(guest);
    uint64_t total = mb_guest_memtotal_kib(guest);
    uint64_t need, take;

    if (want <= total)
        return;
    need = page_ceil_u64(want - total);

    /* Clean page cache read once: dropped for free. */
    take = min_u64(need, guest->inactive_file_kib);
    guest->inactive_file_kib -= take;
    need -= take;

    /* Anon can only go to swap, and the writer waits for it. */
    take = min_u64(need, guest->anon_resident_kib);
    guest->anon_resident_kib -= take;
    guest->anon_swapped_kib += take;
    guest->swap_out_pages += take / PAGE;
    guest->debt_s += (double)(take / PAGE) * guest->model->swap_out_cost_s;
    need -= take;

    /* The hot file set goes last: the workload reads it back at once. */
    take = min_u64(need, guest->active_file_kib);
    guest->active_file_kib -= take;
}

void
mb_guest_init(MbGuest *guest, const MbWorkload *workload, uint64_t alloc_kib)
{
    memset(guest, 0, sizeof(*guest));
    guest->workload = workload;
    guest->model = &mb_guest_model_2013;
    guest->alloc_kib = alloc_kib;
    guest->target_kib = alloc_kib;
    /* No workload: an idle guest with nothing to do. */
    guest->finished = workload == NULL;
}

void
mb_guest_set_model(MbGuest *guest, const MbGuestModel *model)
{
    guest->model = model != NULL ? model : &mb_guest_model_2013;
}

void
mb_guest_set_variant(MbGuest *guest, uint64_t variant)
{
    guest->variant = variant;
}

void
mb_guest_set_delay(MbGuest *guest, unsigned delay_ticks)
{
    guest->delay_ticks = delay_ticks;
}

unsigned
mb_guest_runtime_s(const MbGuest *guest)
{
    unsigned end = guest->finished ? guest->finish_tick : guest->ticks;

    return end > guest->delay_ticks ? end - guest->delay_ticks : 0;
}

bool
mb_guest_travels(const MbGuest *guest)
{
    return guest->model->shrink_kib_per_s != 0 || guest->model->grow_kib_per_s != 0;
}

/* How far a balloon at rate travels in seconds, whole pages (exactly rate
 * for a whole second, so a tick without sub-steps moves as before). */
static uint64_t
travel_kib(uint64_t rate, double seconds)
{
    if (seconds >= 1.0)
        return rate;
    return page_floor((double)rate * seconds);
}

/* Moves the balloon toward its target for seconds (all the way for a rate
 * of 0). Inflating the balloon is an allocation inside the guest: it
 * reclaims exactly as for any other allocation. */
static void
balloon_move(MbGuest *guest, double seconds)
{
    uint64_t rate, step;

    if (guest->alloc_kib > guest->target_kib) {
        rate = guest->model->shrink_kib_per_s;
        step = travel_kib(rate, seconds);
        if (rate == 0 || guest->alloc_kib - guest->target_kib <= step)
            guest->alloc_kib = guest->target_kib;
        else
            guest->alloc_kib -= step;
    } else if (guest->alloc_kib < guest->target_kib) {
        rate = guest->model->grow_kib_per_s;
        step = travel_kib(rate, seconds);
        if (rate == 0 || guest->target_kib - guest->alloc_kib <= step)
            guest->alloc_kib = guest->target_kib;
        else
            guest->alloc_kib += step;
    }
}

/* One tick's travel: what sub-steps before it left of the second. */
static void
balloon_step(MbGuest *guest)
{
    double left_s = 1.0 - guest->travelled_s;

    guest->travelled_s = 0.0;
    if (left_s > 0.0)
        balloon_move(guest, left_s);
}

void
mb_guest_travel(MbGuest *guest, double seconds)
{
    double left_s = 1.0 - guest->travelled_s;

    if (seconds > left_s)
        seconds = left_s;
    if (!(seconds > 0.0))
        return;
    guest->travelled_s += seconds;
    balloon_move(guest, seconds);
    guest_reclaim(guest);
}

void
mb_guest_set_alloc(MbGuest *guest, uint64_t alloc_kib)
{
    bool instant;

    guest->target_kib = alloc_kib;
    instant = alloc_kib < guest->alloc_kib ? guest->model->shrink_kib_per_s == 0
                                           : guest->model->grow_kib_per_s == 0;
    /* A finite-rate balloon travels during the ticks that follow. */
    if (instant) {
        guest->alloc_kib = alloc_kib;
        guest_reclaim(guest);
    }
}

/* Follows the workload's footprint: growth is resident at first; a process
 * freeing memory releases swapped pages first (they cost nothing to drop). */
static void
apply_anon(MbGuest *guest, uint64_t anon_kib)
{
    uint64_t now = mb_guest_anon_kib(guest);

    if (anon_kib >= now) {
        guest->anon_resident_kib += anon_kib - now;
    } else {
        uint64_t drop = now - anon_kib;
        uint64_t take = min_u64(drop, guest->anon_swapped_kib);
        guest->anon_swapped_kib -= take;
        guest->anon_resident_kib -= drop - take;
    }
}

/* The hot set is re-read, so what is missing comes back from disk into the
 * active list; what left the set ages onto the inactive list. */
static void
apply_files(MbGuest *guest, const MbWorkloadPoint *point)
{
    uint64_t hot_kib = page_floor(point->hot_file_kib);
    uint64_t read_kib = page_floor(point->file_read_kib);

    if (guest->active_file_kib < hot_kib) {
        guest->active_file_kib = hot_kib;
    } else {
        guest->inactive_file_kib += guest->active_file_kib - hot_kib;
        guest->active_file_kib = hot_kib;
    }
    if (read_kib > guest->file_read_kib) {
        guest->inactive_file_kib += read_kib - guest->file_read_kib;
        guest->file_read_kib = read_kib;
    }
}

/* Refaulted anon stays active until the kernel ages it: a guest under 1 GiB
 * keeps its active list no larger than its inactive one. */
static void
clamp_refault_active(MbGuest *guest)
{
    guest->refault_active_kib =
        min_u64(guest->refault_active_kib, page_ceil_u64(guest->anon_resident_kib / 2));
}

static void
update_psi(MbGuest *guest, double stall_s)
{
    guest->psi_some_avg10 =
        guest->psi_some_avg10 * PSI_DECAY + (1.0 - PSI_DECAY) * 100.0 * stall_s;
}

void
mb_guest_tick(MbGuest *guest)
{
    const MbWorkload *wl = guest->workload;
    MbWorkloadPoint point;
    double touch_pages_per_s, swapped_share, rate, avail_s, run_s, want_pages;
    uint64_t anon_kib, in_pages;

    guest->ticks++;
    balloon_step(guest);
    if (wl == NULL || guest->finished || guest->ticks <= guest->delay_ticks) {
        update_psi(guest, 0.0);
        guest_reclaim(guest);
        return;
    }

    /* Swap-out stall left from the last tick is paid first (direct reclaim
     * and balloon inflation block the guest's tasks). */
    avail_s = 1.0 - fmin(guest->debt_s, 1.0);
    guest->debt_s -= 1.0 - avail_s;

    /* x + stall = avail with stall = x * touched * s * cost, so
     * x = avail / (1 + touched * s * cost). */
    anon_kib = mb_guest_anon_kib(guest);
    swapped_share = anon_kib ? (double)guest->anon_swapped_kib / (double)anon_kib : 0.0;
    touch_pages_per_s = wl->touch_kib_per_s / PAGE;
    rate = touch_pages_per_s * swapped_share;
    run_s = avail_s / (1.0 + rate * guest->model->swap_in_cost_s);
    /* A program pacing itself on the clock reaches its next step on time,
     * however few of its touches the stalls left it. */
    if (guest->progress_s < wl->paced_s)
        guest->progress_s = fmin(guest->progress_s + 1.0, wl->paced_s);
    else
        guest->progress_s += run_s;
    guest->stall_s_total += 1.0 - run_s;
    update_psi(guest, 1.0 - run_s);

    /* The touched swapped pages come back in; reclaim below makes room. */
    want_pages = guest->swap_in_carry_pages + rate * run_s;
    in_pages = (uint64_t)want_pages;
    if (in_pages >= guest->anon_swapped_kib / PAGE) {
        in_pages = guest->anon_swapped_kib / PAGE;
        guest->swap_in_carry_pages = 0.0;
    } else {
        guest->swap_in_carry_pages = want_pages - (double)in_pages;
    }
    guest->anon_swapped_kib -= in_pages * PAGE;
    guest->anon_resident_kib += in_pages * PAGE;
    if (guest->model->refault_activate)
        guest->refault_active_kib += in_pages * PAGE;
    guest->swap_in_pages += in_pages;

    mb_workload_point(wl, guest->variant, guest->progress_s, &point);
    apply_anon(guest, page_floor(point.anon_kib));
    apply_files(guest, &point);
    guest_reclaim(guest);
    clamp_refault_active(guest);

    if (guest->progress_s >= wl->work_s) {
        /* Process exit: its anon memory goes, its page cache stays. */
        guest->finished = true;
        guest->finish_tick = guest->ticks;
        guest->anon_resident_kib = 0;
        guest->anon_swapped_kib = 0;
        guest->refault_active_kib = 0;
        guest->debt_s = 0.0;
    }
}

void
mb_guest_sample(const MbGuest *guest, MbSample *out)
{
    double ratio = guest->workload ? guest->workload->inactive_anon_ratio : 0.0;
    uint64_t inactive_anon = page_floor((double)guest->anon_resident_kib * ratio);

    /* A modern kernel puts new anon on the inactive list; little of it is
     * ever promoted, whatever the workload. */
    if (guest->model->new_anon_inactive)
        inactive_anon = guest->anon_resident_kib -
                        min_u64(guest->anon_resident_kib,
                                guest->model->active_anon_kib + guest->refault_active_kib);
    memset(out, 0, sizeof(*out));
    out->total_kib = mb_guest_memtotal_kib(guest);
    out->free_kib = mb_guest_free_kib(guest);
    out->inactive_anon_kib = min_u64(inactive_anon, guest->anon_resident_kib);
    out->active_anon_kib = guest->anon_resident_kib - out->inactive_anon_kib;
    out->active_file_kib = guest->active_file_kib;
    out->inactive_file_kib = guest->inactive_file_kib;
    out->swap_in_pages = guest->swap_in_pages;
    out->swap_out_pages = guest->swap_out_pages;
    out->has_psi = true;
    out->psi_some_avg10 = fmin(guest->psi_some_avg10, 100.0);
    out->psi_full_avg10 = out->psi_some_avg10; /* one task: some == full */
}
