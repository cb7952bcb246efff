/* Helpers of the policy library's unit tests: a VM put straight into a
 * predicted state, the planner's input. */
#pragma once

#include "mb-policy.h"

#include <glib.h>

#define MIB (UINT64_C(1024))

static inline MbParams
params_for(MbPolicyKind kind, uint64_t pool_kib)
{
    MbParams p;

    mb_params_init(&p);
    p.kind = kind;
    p.pool_kib = pool_kib;
    /* No spare unless a test asks (/policy/plan/spare): the transfers
     * below are the ones the need asks for. */
    p.spare_kib = 0;
    return p;
}

static inline MbSample
sample(uint64_t total, uint64_t free_kib, uint64_t aanon, uint64_t afile, uint64_t ifile,
       uint64_t swap_out_pages)
{
    MbSample s = {0};

    s.total_kib = total;
    s.free_kib = free_kib;
    s.active_anon_kib = aanon;
    s.active_file_kib = afile;
    s.inactive_file_kib = ifile;
    s.swap_out_pages = swap_out_pages;
    return s;
}

static inline void
vm_setup(MbVm *vm, const char *name, unsigned prio, uint64_t alloc_kib)
{
    MbVmSettings set = {.priority = prio, .min_kib = 64 * MIB, .max_kib = 2048 * MIB};

    mb_vm_init(vm, name, &set, alloc_kib);
}

/* Puts a VM straight into a predicted state (the planner's input). */
static inline void
vm_predict(MbVm *vm, int64_t delta_kib, uint64_t reclaimable_kib)
{
    vm->has_last = true;
    vm->has_delta = true;
    vm->stale = false;
    vm->delta_kib = delta_kib;
    vm->reclaimable_kib = reclaimable_kib;
    vm->sample_alloc_kib = vm->alloc_kib; /* a sample of now */
    vm->last.total_kib = vm->alloc_kib;
}

/* A burst the VM made and let go of (a page load freed again): a donor
 * keeps memory free for the next one. */
static inline void
vm_released_burst(MbVm *vm, int64_t kib)
{
    vm->peak_kib = kib;
    vm->released_kib = kib;
}

/* How much of a predicted VM's reclaimable memory is cold page cache (the
 * rest is free memory). */
static inline void
vm_cold(MbVm *vm, uint64_t inactive_file_kib)
{
    vm->last.inactive_file_kib = inactive_file_kib;
}

static inline gint64
move_of(const MbVm *vm)
{
    return (gint64)vm->target_kib - (gint64)vm->alloc_kib;
}

/* A web VM (512 MiB) observed from *s on, loading a 96 MiB page over two
 * intervals (60 + 36 MiB of anon): one burst, in use at the end. */
static inline void
vm_observe_web_burst(MbVm *vm, MbSample *s, const MbParams *p)
{
    vm_setup(vm, "web", 50, 512 * MIB);
    mb_vm_observe(vm, s, p);
    s->active_anon_kib += 60 * MIB;
    mb_vm_observe(vm, s, p);
    s->active_anon_kib += 36 * MIB;
    mb_vm_observe(vm, s, p);
}
