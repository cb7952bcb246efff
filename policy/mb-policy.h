/* membalancer policy library: pure decisions, no I/O, no main loop.
 *
 * Memory sizes are KiB (uint64_t) throughout; a demand delta is signed.
 * The caller owns every structure; after mb_planner_new() nothing here
 * allocates, so the per-tick path (mb_vm_observe + mb_planner_plan) is
 * allocation-free.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest VM name the policy keeps (libvirt domain names on a TV are short). */
#define MB_VM_NAME_MAX 128
#define MB_PRIORITY_MAX 100u
/* missed_ticks saturates here: far below UINT_MAX, so the intervals a
 * sample spans (missed_ticks + 1) never wrap, and times an allocation they
 * stay far below INT64_MAX. */
#define MB_MISSED_TICKS_MAX 1000000u
/* A VM is silent once this many consecutive intervals brought no usable
 * demand prediction (no sample, or one that only set a baseline). */
#define MB_SILENT_TICKS 3u

typedef enum {
    MB_POLICY_STATIC = 0, /* never moves */
    MB_POLICY_PAPER,      /* the paper as published: random service order */
    MB_POLICY_BALANCED,   /* paper + QoS priorities + guarantees (default) */
    MB_POLICY_MOM,        /* oVirt MOM's default balloon rules */
    MB_POLICY_N
} MbPolicyKind;

const char *mb_policy_kind_to_string(MbPolicyKind kind);
/* Returns false (and leaves *out alone) for an unknown name. */
bool mb_policy_kind_from_string(const char *name, MbPolicyKind *out);

/* One guest's own statistics for one interval. Cumulative counters
 * (swap_in_pages, swap_out_pages) are the guest's /proc/vmstat values. */
typedef struct {
    uint64_t total_kib;
    uint64_t free_kib;
    uint64_t active_anon_kib;
    uint64_t inactive_anon_kib;
    uint64_t active_file_kib;
    uint64_t inactive_file_kib;
    uint64_t swap_in_pages;
    uint64_t swap_out_pages;
    bool has_psi;
    double psi_some_avg10;
    double psi_full_avg10;

    /* Added to MBG1 without a version bump; an older agent (or balloon
     * statistics) leaves them 0/false. All are claims, like the rest. */
    bool has_refaults;            /* the four workingset counters below */
    uint64_t refault_anon_pages;  /* /proc/vmstat workingset_refault_anon */
    uint64_t refault_file_pages;  /* workingset_refault_file */
    uint64_t activate_anon_pages; /* workingset_activate_anon: refaults that */
    uint64_t activate_file_pages; /* were in the working set (would have hit) */
    bool has_swap_used;
    uint64_t swap_used_kib;     /* SwapTotal - SwapFree: anon pushed out */
    uint64_t low_wmark_kib;     /* sum of the zones' low watermarks; 0 unknown */
    uint64_t psi_some_total_us; /* /proc/pressure/memory some total= (has_psi) */
    /* Why the agent sent this record at once instead of on its period
     * (MB_URGENT_* bits); 0 for a periodic record. */
    unsigned urgent;
} MbSample;

#define MB_URGENT_PSI 1u  /* the PSI trigger fired */
#define MB_URGENT_LOW 2u  /* free memory fell toward the low watermark */
#define MB_URGENT_SWAP 4u /* the guest started to swap out */
#define MB_URGENT_ALL (MB_URGENT_PSI | MB_URGENT_LOW | MB_URGENT_SWAP)

typedef struct {
    unsigned priority; /* 0..MB_PRIORITY_MAX, higher is served first */
    bool foreground;   /* first among equal priorities */
    uint64_t min_kib;  /* guarantee: never planned below */
    uint64_t max_kib;  /* never planned above */
} MbVmSettings;

typedef enum {
    MB_REASON_NONE = 0,
    MB_REASON_NEED,   /* received memory: predicted demand above reclaimable */
    MB_REASON_DONATE, /* gave surplus (reclaimable above demand) */
    MB_REASON_MIN,    /* raised to its guaranteed minimum */
    MB_REASON_MAX,    /* lowered to its maximum */
    MB_REASON_MOM_SHRINK,
    MB_REASON_MOM_GROW,
    MB_REASON_SILENT, /* silent VM gave back memory above its fair share */
    MB_REASON_COLD,   /* background VM gave cold memory to the foreground VM */
} MbReason;

/* A description for logs; the keyword is part of the D-Bus API
 * (LastReason) and the journal (MB_REASON). "unknown" out of range. */
const char *mb_reason_to_string(MbReason reason);
const char *mb_reason_to_keyword(MbReason reason);

typedef struct {
    char name[MB_VM_NAME_MAX + 1];
    MbVmSettings settings;
    /* Current allocation (balloon size); the caller keeps it up to date. */
    uint64_t alloc_kib;
    /* The guest's page size, for its swap counters; 0 = params->page_kib. */
    uint64_t page_kib;

    /* Predictor state, written by mb_vm_observe(); read-only for callers. */
    MbSample last;             /* last accepted sample, clamped */
    bool has_last;             /* a baseline sample exists */
    bool has_delta;            /* a demand prediction exists (>= 2 samples) */
    bool stale;                /* the last interval brought no sample */
    unsigned missed_ticks;     /* consecutive intervals without a sample, at most
                                * MB_MISSED_TICKS_MAX */
    unsigned silent_ticks;     /* consecutive intervals without a dM (no sample,
                                * or one that only set a baseline); saturates */
    unsigned resets;           /* counters went backwards (guest rebooted) */
    int64_t dm_kib;            /* dM of the last interval */
    int64_t delta_kib;         /* predicted demand (EWMA of dM) */
    int64_t peak_kib;          /* recent peak of a burst (consecutive intervals of
                                * positive dM, summed): held MB_PEAK_HOLD intervals
                                * after a burst reached 3/4 of it, then decaying
                                * 1/64 an interval */
    double peak_age;           /* intervals since then */
    int64_t released_kib;      /* what the VM gave back (negative dM) since its last
                                * burst of at least 3/4 of peak_kib, at most peak_kib:
                                * the part of its peak that is a burst it let go of and
                                * may make again. A growth it keeps (a job that loaded
                                * its working set) releases nothing: it is no burst to
                                * keep memory free for. */
    double history;            /* intervals with a dM: how long its bursts have
                                * been watched (saturates at 1e9) */
    int64_t burst_kib;         /* the current burst so far (0 when dM <= 0) */
    bool pressured;            /* the last sample showed the VM short now: it swapped
                                * out, refaulted its working set, stalled on memory
                                * (PSI) or the agent sent it urgently */
    bool stalled;              /* ... refaulted its working set or stalled on memory
                                * this interval, or its PSI some avg10 is at least
                                * MB_STALL_PSI_AVG10: it pays for what it lacks (a
                                * swap-out alone is no cost yet: cold pages written
                                * out) */
    uint64_t reclaimable_kib;  /* R of the last sample */
    uint64_t sample_alloc_kib; /* alloc_kib when that sample was taken: R
                                * changes with every move since (see
                                * mb_vm_reclaimable_now_kib) */

    /* Planner output, written by mb_planner_plan(). */
    uint64_t target_kib;
    MbReason reason;
} MbVm;

typedef struct {
    MbPolicyKind kind;
    double alpha;              /* EWMA weight of the newest dM, (0, 1] */
    uint64_t pool_kib;         /* memory the VMs may share */
    uint64_t reserve_kib;      /* part of the pool never handed out */
    uint64_t min_step_kib;     /* smallest move planned */
    double free_reserve_ratio; /* share of a guest kept free (paper: 0.10) */
    uint64_t page_kib;         /* guest page size (swap counters are pages) */
    /* balanced: what the foreground VM keeps reclaimable beyond its demand,
     * taken from the free pool and the donors' cold page cache (their
     * inactive file above their floors, never their free memory) before it
     * asks. */
    uint64_t foreground_headroom_kib;
    /* balanced: capacity kept unallocated for the next VM short of memory,
     * refilled from the donors' surplus above their floors (0: none). Only for a fixed pool:
     * memory left unallocated in a pool that is the sum of the VMs'
     * allocations would leave it. */
    uint64_t spare_kib;
} MbParams;

/* A VM whose PSI some avg10 (% of the last ten seconds stalled on
 * memory) is at least this has stalled lately (MbVm.stalled). */
#define MB_STALL_PSI_AVG10 1.0

/* A donor keeps the part of its burst it released (min(peak_kib,
 * released_kib)) this many intervals after a burst
 * like it, then lets it decay: a web VM loading a page every 10 s needs
 * its whole burst each time, not 85 % of it. balanced's spare takes a
 * donor's free memory (not only its cold cache) once its bursts have been
 * watched this long. */
#define MB_PEAK_HOLD 60.0

/* Balloons move in pages of this size (virtio-balloon's 4 KiB, whatever
 * the guest's page size): the planner's moves are whole pages. */
#define MB_BALLOON_PAGE_KIB 4u

/* balanced keeps this many intervals of a VM's predicted demand
 * reclaimable: memory has to leave a donor's balloon before it can be
 * given, and a growing VM must not run dry meanwhile. */
#define MB_BALANCED_LEAD 3u

/* Defaults: balanced, alpha 0.75, min step 4 MiB, 10 % free reserve,
 * 4 KiB pages, foreground headroom 128 MiB, spare 128 MiB, pool and
 * reserve 0 (the caller sets them). */
void mb_params_init(MbParams *params);
/* Checks ranges; on failure returns false and points *why at a static
 * message naming the field. */
bool mb_params_validate(const MbParams *params, const char **why);
/* Memory the planner may hand out in total: pool - reserve, or 0. */
uint64_t mb_params_capacity_kib(const MbParams *params);

/* Initialises a VM with no history (page_kib 0: the host's page size). The
 * name is truncated to MB_VM_NAME_MAX bytes. */
void mb_vm_init(MbVm *vm, const char *name, const MbVmSettings *settings, uint64_t alloc_kib);
/* Feeds one interval. sample == NULL means no sample arrived: the last
 * state is kept and the VM is marked stale (the planner leaves it alone
 * until it is silent, see MB_SILENT_TICKS). Values are clamped to the VM's
 * allocation (a guest's numbers are claims); a swap-out counter that goes
 * backwards (guest reboot) resets the predictor instead of producing a
 * negative demand. */
void mb_vm_observe(MbVm *vm, const MbSample *sample, const MbParams *params);
/* The same for a sample taken `intervals` intervals after the last one
 * (an urgent interval comes early: 0.3 means 30 % of an interval), so that
 * dM stays a rate per interval. Values <= 0 or not finite count as 1;
 * mb_vm_observe() is this with missed_ticks + 1. */
void mb_vm_observe_at(MbVm *vm, const MbSample *sample, const MbParams *params,
                      double intervals);
/* The intervals a sample spans, from when the host got it and when it got
 * the VM's last one (the backend's clock, µs; 0: unknown), never from
 * when a tick happened to read it: a periodic sample that another VM's
 * urgent tick reads 50 ms after the regular tick still spans the agent's
 * whole period. Bounded to [MB_SPAN_MIN, MB_MISSED_TICKS_MAX + 1]: two
 * records that arrive close together (a flood, or an urgent record right
 * after a periodic one) never make a change look more than
 * 1 / MB_SPAN_MIN times faster than it was. Unknown or backwards: 1. */
#define MB_SPAN_MIN 0.25
double mb_sample_span(int64_t last_us, int64_t this_us, int64_t interval_us);
/* Drops the baseline and the prediction, so that the next sample only sets
 * a new baseline: for when the statistics' source changes (guest agent <->
 * balloon statistics), whose numbers do not continue each other. Keeps the
 * name, settings, allocation, target, counters and silent_ticks: the
 * baseline-only sample that follows counts as silent, so a VM that keeps
 * switching sources is silent, not fresh. */
void mb_vm_rebaseline(MbVm *vm);
/* R = inactive file + free - ratio * total, never below 0. */
uint64_t mb_reclaimable_kib(const MbSample *sample, double free_reserve_ratio);
/* The VM's R now: its last sample's, less what it was moved down since (a
 * balloon takes free memory first), plus what it was moved up, never below
 * 0. A plan made before the next sample (an urgent tick, a late sample)
 * thus does not count a donor's surplus twice. */
uint64_t mb_vm_reclaimable_now_kib(const MbVm *vm);

typedef struct MbPlanner MbPlanner;

/* Allocates scratch space for up to capacity VMs; the seed drives the
 * random service order of MB_POLICY_PAPER only. Returns NULL on OOM. */
MbPlanner *mb_planner_new(size_t capacity, uint64_t seed);
void mb_planner_free(MbPlanner *planner);
size_t mb_planner_capacity(const MbPlanner *planner);

/* Plans one tick: sets every vms[i].target_kib (== alloc_kib when it does
 * not move) and vms[i].reason. Guarantees, for every policy but static
 * (which never moves), for VMs whose min <= max:
 * - the sum of targets never exceeds the capacity unless the allocations
 *   already did (then it never grows);
 * - no target is above its VM's max, nor planned below its min: a VM
 *   already below its min is only raised (as far as the free pool and the
 *   donors allow), never lowered;
 * - a silent VM (paper, balanced) only ever shrinks, never below its fair
 *   share, min_i + (capacity - sum of all mins) / n within [min_i, max_i],
 *   and only for what the other VMs need and cannot get elsewhere; it is
 *   raised only to restore its min;
 * - no VM moves by less than min_step_kib except to restore its own
 *   min/max;
 * - every move is whole balloon pages (MB_BALLOON_PAGE_KIB): a growth is
 *   rounded down, a shrink up, so that a balloon, which can only stop at a
 *   page, never leaves a guest more than its target (except a min that is
 *   not in whole pages, which is kept).
 * Returns false, planning nothing, if n exceeds the planner's capacity or
 * params are invalid. *n_moved (may be NULL) receives the number of VMs
 * that move. */
bool mb_planner_plan(MbPlanner *planner, MbVm *vms, size_t n, const MbParams *params,
                     size_t *n_moved);

#ifdef __cplusplus
}
#endif
