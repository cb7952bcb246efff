/* The grant: one tick's moves applied within the pool (mb-grant.h). */
#include "mb-grant.h"

#include <string.h>

#include "mb-policy.h"

static uint64_t
max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

void
mb_grant_vm_init(MbGrantVm *vm, const char *name, uint32_t priority, bool foreground,
                 uint64_t actual_kib, uint64_t committed_kib, uint64_t planned_kib,
                 uint64_t want_kib, bool move)
{
    memset(vm, 0, sizeof(*vm));
    vm->name = name;
    vm->priority = priority;
    vm->foreground = foreground;
    vm->actual_kib = actual_kib;
    vm->set_kib = committed_kib;
    if (planned_kib < actual_kib)
        vm->set_kib = planned_kib;
    else if (vm->set_kib > actual_kib + MB_GRANT_ARRIVED_SLACK_KIB)
        vm->rising_kib = vm->set_kib;
    vm->want_kib = want_kib;
    vm->move = move;
}

uint64_t
mb_grant_vm_counts_kib(const MbGrantVm *vm)
{
    return max_u64(max_u64(vm->actual_kib, vm->set_kib), vm->rising_kib);
}

bool
mb_grant_vm_travels(const MbGrantVm *vm)
{
    return vm->actual_kib > vm->set_kib + MB_GRANT_ARRIVED_SLACK_KIB || vm->rising_kib > 0;
}

void
mb_grant_vm_seen(MbGrantVm *vm, uint64_t now_kib)
{
    if (vm->rising_kib > 0) {
        /* Turned, or as high as it may go: from now on it only gives. */
        if (now_kib <= vm->set_kib + MB_GRANT_ARRIVED_SLACK_KIB ||
            now_kib + MB_GRANT_ARRIVED_SLACK_KIB >= vm->rising_kib ||
            now_kib + MB_GRANT_ARRIVED_SLACK_KIB < vm->actual_kib)
            vm->rising_kib = 0;
        vm->actual_kib = now_kib;
    } else if (now_kib < vm->actual_kib) {
        vm->actual_kib = now_kib;
    }
}

/* Higher priority first, then the foreground VM, then by name. */
static bool
grants_before(const MbGrantVm *a, const MbGrantVm *b)
{
    if (a->priority != b->priority)
        return a->priority > b->priority;
    if (a->foreground != b->foreground)
        return a->foreground;
    return strcmp(a->name, b->name) < 0;
}

bool
mb_grant_is_shrink(const MbGrantVm *vm)
{
    return vm->want_kib <= mb_grant_vm_counts_kib(vm) || vm->want_kib < vm->set_kib;
}

void
mb_grant_init(MbGrant *grant, MbGrantVm *vms, size_t n, size_t *grows, uint64_t capacity_kib,
              uint64_t min_step_kib)
{
    memset(grant, 0, sizeof(*grant));
    grant->vms = vms;
    grant->n_vms = n;
    grant->grows = grows;
    grant->capacity_kib = capacity_kib;
    grant->min_step_kib = min_step_kib;
    for (size_t i = 0; i < n; i++) {
        size_t k;

        if (!vms[i].move || mb_grant_is_shrink(&vms[i]))
            continue;
        /* Insertion sort: no allocation, and n is small. */
        k = grant->n_grows++;
        while (k > 0 && grants_before(&vms[i], &vms[grows[k - 1]])) {
            grows[k] = grows[k - 1];
            k--;
        }
        grows[k] = i;
    }
}

static bool
set_target(MbGrant *grant, size_t i, uint64_t kib, MbGrantSetFunc set, void *user_data)
{
    MbGrantVm *vm = &grant->vms[i];

    if (!set(i, kib, user_data)) {
        vm->failed = true;
        return false;
    }
    vm->set_kib = kib;
    vm->changed = true;
    return true;
}

void
mb_grant_shrink(MbGrant *grant, MbGrantSetFunc set, void *user_data)
{
    for (size_t i = 0; i < grant->n_vms; i++) {
        MbGrantVm *vm = &grant->vms[i];

        if (vm->move && mb_grant_is_shrink(vm))
            set_target(grant, i, vm->want_kib, set, user_data);
    }
}

uint64_t
mb_grant_sum_kib(const MbGrant *grant)
{
    uint64_t sum = grant->outside_kib;

    for (size_t i = 0; i < grant->n_vms; i++)
        sum += mb_grant_vm_counts_kib(&grant->vms[i]);
    return sum;
}

uint64_t
mb_grant_free_kib(const MbGrant *grant)
{
    uint64_t sum = mb_grant_sum_kib(grant);

    return grant->capacity_kib > sum ? grant->capacity_kib - sum : 0;
}

/* A part of a grow: up to a whole balloon page, as the planner moves them
 * (a pool or reserve need not be whole pages). */
static uint64_t
whole_pages_kib(uint64_t have_kib, uint64_t give_kib)
{
    uint64_t to_kib = have_kib + give_kib;

    to_kib -= to_kib % MB_BALLOON_PAGE_KIB;
    return to_kib > have_kib ? to_kib - have_kib : 0;
}

bool
mb_grant_grow(MbGrant *grant, MbGrantSetFunc set, void *user_data)
{
    uint64_t free_kib = mb_grant_free_kib(grant);
    bool all = true;

    for (size_t k = 0; k < grant->n_grows; k++) {
        size_t i = grant->grows[k];
        MbGrantVm *vm = &grant->vms[i];
        uint64_t have = mb_grant_vm_counts_kib(vm), need, give;

        if (vm->failed || have >= vm->want_kib)
            continue;
        need = vm->want_kib - have;
        give = need < free_kib ? need : free_kib;
        if (give < need)
            give = whole_pages_kib(have, give);
        /* No dribbling: a part smaller than a step waits for more. */
        if (give < need && give < grant->min_step_kib) {
            all = false;
            continue;
        }
        if (set_target(grant, i, have + give, set, user_data))
            free_kib -= give;
        if (give < need)
            all = false;
    }
    return all;
}

bool
mb_grant_poll(MbGrant *grant, MbGrantGetFunc get, void *user_data)
{
    bool travelling = false;

    for (size_t i = 0; i < grant->n_vms; i++) {
        MbGrantVm *vm = &grant->vms[i];
        uint64_t now_kib;

        if (!mb_grant_vm_travels(vm))
            continue;
        if (get(i, &now_kib, user_data))
            mb_grant_vm_seen(vm, now_kib);
        travelling = travelling || mb_grant_vm_travels(vm);
    }
    return travelling;
}
