/* The grant: how one tick's planned balloon moves are applied within the
 * pool. The planner decides targets as if every balloon moved at once; a
 * real balloon travels, so a grow may only take what the pool has free as
 * the balloons stand, or for a moment the VMs together would hold more than
 * the pool. The service (a worker thread) and the simulator both apply
 * their moves through this one module, so that the simulator's fidelity
 * does not depend on keeping two copies in step.
 *
 * The grant does no I/O: the caller moves the balloons and reads where they
 * are through the two callbacks, between the steps it chooses (a service
 * sleeps and polls its backend, a simulator advances its guests). Pure C11,
 * no GLib; nothing here allocates (the caller owns every array), so a
 * simulator tick stays allocation-free.
 *
 * A tick, as a caller drives it:
 *
 *     for each VM i: mb_grant_vm_init(&vms[i], ...);
 *     mb_grant_init(&grant, vms, n, grows_scratch, capacity_kib, min_step_kib);
 *     mb_grant_shrink(&grant, set, user);
 *     while (!mb_grant_grow(&grant, set, user)) {
 *         uint64_t before_kib = mb_grant_sum_kib(&grant);
 *         (stop on a deadline or cancellation)
 *         travelling = mb_grant_poll(&grant, get, user);
 *         if (mb_grant_sum_kib(&grant) < before_kib) continue;  (released: grant now)
 *         if (!travelling) break;                               (nothing more to come)
 *         (wait a little: the donors' balloons travel)
 *     }
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A balloon within this of its target has arrived: virtio-balloon stops
 * a little short or beyond (the backends use the same figure). */
#define MB_GRANT_ARRIVED_SLACK_KIB 1024u

/* One planned VM in the pool's accounting. What it counts for is
 * max(actual, set, rising): memory a balloon was asked to give is not free
 * until the balloon has given it, and memory a balloon was allowed to take
 * stays taken until it is seen not to take it. */
typedef struct {
    const char *name;    /* grant order among equals; not owned */
    uint32_t priority;   /* higher grows first */
    bool foreground;     /* among equal priorities, grows first */
    uint64_t actual_kib; /* the balloon as last seen; a donor's only goes down */
    uint64_t set_kib;    /* what it may hold by its target in force */
    /* > 0: the balloon was still deflating toward this earlier, higher
     * target when the tick began. A guest finishes the batch it is
     * deflating before it sees a lower target, so it may rise up to it
     * first: it counts at it until it is seen turned, arrived, or there. */
    uint64_t rising_kib;
    uint64_t want_kib; /* the planner's target */
    bool move;         /* it has a move this tick */
    bool failed;       /* a target could not be set (or the VM is gone): left alone */
    bool changed;      /* a new target was set this tick */
} MbGrantVm;

/* Fills vm for a tick. committed_kib is what the VM counted for before the
 * tick (at least the target in force and its balloon); planned_kib is where
 * the planner counted it (a travelling balloon's target). A donor of an
 * earlier tick still on its way counts at its balloon and is polled with
 * this tick's donors; a grow of an earlier tick still on its way keeps
 * counting at its old target if this tick lowers it (rising_kib). */
void mb_grant_vm_init(MbGrantVm *vm, const char *name, uint32_t priority, bool foreground,
                      uint64_t actual_kib, uint64_t committed_kib, uint64_t planned_kib,
                      uint64_t want_kib, bool move);
/* What the VM holds of the pool now, as far as the grant can tell. */
uint64_t mb_grant_vm_counts_kib(const MbGrantVm *vm);
/* Whether its balloon still has memory to release or may still rise (the
 * ones mb_grant_poll() asks about). */
bool mb_grant_vm_travels(const MbGrantVm *vm);
/* Its balloon is at now_kib: a donor's count comes down with it (it never
 * goes up: a donor's balloon only gives here); a rising one stops counting
 * at its old target once it has turned, arrived, or reached it. */
void mb_grant_vm_seen(MbGrantVm *vm, uint64_t now_kib);

/* Sets VM index's balloon target to target_kib; returns false if it could
 * not (the VM is then left alone for the rest of the tick). */
typedef bool (*MbGrantSetFunc)(size_t index, uint64_t target_kib, void *user_data);
/* Reads VM index's balloon now; false if it could not be read. */
typedef bool (*MbGrantGetFunc)(size_t index, uint64_t *now_kib, void *user_data);

typedef struct {
    MbGrantVm *vms;
    size_t n_vms;
    size_t *grows; /* the growing VMs' indices, in grant order */
    size_t n_grows;
    uint64_t capacity_kib; /* what the VMs may hold together */
    uint64_t min_step_kib; /* a part of a grow smaller than this waits */
    /* Held outside vms (VMs registered since the plan): not free either.
     * The caller keeps it current. */
    uint64_t outside_kib;
} MbGrant;

/* Prepares a tick over vms[0..n): grows (caller storage for n indices)
 * receives the growing VMs in grant order: higher priority first, then
 * the foreground VM, then by name, so that when the pool is short the
 * planner's priorities decide who waits. */
void mb_grant_init(MbGrant *grant, MbGrantVm *vms, size_t n, size_t *grows,
                   uint64_t capacity_kib, uint64_t min_step_kib);
/* Whether vm's move lowers what it may hold (always safe, set at once). */
bool mb_grant_is_shrink(const MbGrantVm *vm);
/* Sets every shrink, in index order. A shrink that fails leaves the VM
 * counting where it was: its memory stays taken and the grows get less. */
void mb_grant_shrink(MbGrant *grant, MbGrantSetFunc set, void *user_data);
/* What the VMs (and outside_kib) count for together. */
uint64_t mb_grant_sum_kib(const MbGrant *grant);
/* What the pool has free as the balloons stand. */
uint64_t mb_grant_free_kib(const MbGrant *grant);
/* One round: hands what is free now to the grows in grant order, each
 * MIN(what it still wants, what is free), a part rounded down to whole
 * balloon pages (the planner moves whole pages; a pool need not be), and
 * a part smaller than min_step_kib not set at all (no dribbling: it waits
 * for more). Returns true when every grow has all it wanted. */
bool mb_grant_grow(MbGrant *grant, MbGrantSetFunc set, void *user_data);
/* Asks where every travelling balloon is now (mb_grant_vm_seen()); returns
 * whether any still travels, i.e. whether waiting can free more. */
bool mb_grant_poll(MbGrant *grant, MbGrantGetFunc get, void *user_data);

#ifdef __cplusplus
}
#endif
