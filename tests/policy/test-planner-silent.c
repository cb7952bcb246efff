/* Unit tests of the planner's silent VMs: no demand known for a while,
 * they keep their fair share and give what lies above it. */
#include "mb-test-policy.h"

#include <glib.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void
vm_bounds(MbVm *vm, const char *name, uint64_t min_kib, uint64_t max_kib, uint64_t alloc_kib)
{
    MbVmSettings set = {.priority = 50, .min_kib = min_kib, .max_kib = max_kib};

    mb_vm_init(vm, name, &set, alloc_kib);
}

/* A swap storm of 100 MiB an interval, all else steady: reclaimable 0. */
static MbSample
storm_sample(uint64_t alloc_kib, uint64_t *swap_out_pages)
{
    *swap_out_pages += 100 * MIB / 4;
    return sample(alloc_kib, 10 * MIB, 400 * MIB, 50 * MIB, 0, *swap_out_pages);
}

typedef enum { SILENT_NO_SAMPLES, SILENT_COUNTERS_BACKWARDS } SilentKind;

/* A grows to its max on a swap storm, then goes silent (no samples, or
 * counters that go backwards every sample) while B swaps: A gives back
 * down to its fair share, 64 + (2048 - 128) / 2 = 1024 MiB, and no lower. */
static void
check_silent_gives_back(MbPolicyKind kind, SilentKind how)
{
    MbParams p = params_for(kind, 2048 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    uint64_t cap = mb_params_capacity_kib(&p), fair = 1024 * MIB;
    uint64_t swap_a = 0, swap_b = 0, lie;
    MbVm v[2];
    MbSample s;

    vm_bounds(&v[0], "a", 64 * MIB, 1536 * MIB, 512 * MIB);
    vm_bounds(&v[1], "b", 64 * MIB, 2048 * MIB, 512 * MIB);
    /* B is idle and holds page cache; A takes all the free pool. */
    for (int t = 0; t < 15; t++) {
        s = storm_sample(v[0].alloc_kib, &swap_a);
        mb_vm_observe(&v[0], &s, &p);
        s = sample(v[1].alloc_kib, 100 * MIB, 200 * MIB, 50 * MIB, 150 * MIB, 0);
        mb_vm_observe(&v[1], &s, &p);
        /* paper does not grow from the pool: hand A the pool here. */
        if (kind == MB_POLICY_PAPER)
            v[0].alloc_kib = v[0].settings.max_kib;
        g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
        for (int i = 0; i < 2; i++)
            v[i].alloc_kib = v[i].target_kib;
    }
    g_assert_cmpuint(v[0].alloc_kib, ==, 1536 * MIB);
    g_assert_cmpuint(v[1].alloc_kib, ==, 512 * MIB);
    g_assert_cmpuint(v[0].silent_ticks, ==, 0);

    lie = swap_a;
    for (int t = 1; t <= 12; t++) {
        uint64_t before_a = v[0].alloc_kib, sum = 0;

        if (how == SILENT_NO_SAMPLES) {
            mb_vm_observe(&v[0], NULL, &p);
        } else {
            /* Claims a storm, but its counters go backwards every sample. */
            s = sample(v[0].alloc_kib, 0, v[0].alloc_kib, 0, 0, --lie);
            mb_vm_observe(&v[0], &s, &p);
            g_assert_cmpuint(v[0].resets, ==, (unsigned)t);
            g_assert_false(v[0].has_delta);
        }
        s = storm_sample(v[1].alloc_kib, &swap_b);
        mb_vm_observe(&v[1], &s, &p);
        g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));

        if (t < (int)MB_SILENT_TICKS)
            g_assert_cmpuint(v[0].target_kib, ==, before_a);
        if (t == (int)MB_SILENT_TICKS)
            g_assert_cmpuint(v[0].target_kib, <, before_a);
        g_assert_cmpuint(v[0].target_kib, <=, before_a);
        g_assert_cmpuint(v[0].target_kib, >=, fair);
        g_assert_cmpuint(v[0].target_kib, >=, v[0].settings.min_kib);
        if (v[0].target_kib != before_a) {
            g_assert_cmpint(v[0].reason, ==, MB_REASON_SILENT);
            g_assert_cmpuint(before_a - v[0].target_kib, >=, p.min_step_kib);
            /* All of it went to B, but for the pages' rounding (B's gain
             * rounded down, A's loss up: less than a page each). */
            g_assert_cmpint(move_of(&v[1]), <=, (gint64)(before_a - v[0].target_kib));
            g_assert_cmpint(move_of(&v[1]), >,
                            (gint64)(before_a - v[0].target_kib) -
                                2 * (gint64)MB_BALLOON_PAGE_KIB);
        }
        for (int i = 0; i < 2; i++) {
            sum += v[i].target_kib;
            v[i].alloc_kib = v[i].target_kib;
        }
        g_assert_cmpuint(sum, <=, cap);
    }
    /* From the third tick on, A gave B what it asked (about 100 MiB a
     * tick) until less than a step was left above its fair share. */
    g_assert_cmpuint(v[0].alloc_kib - fair, <, p.min_step_kib);
    /* All of the capacity is allocated, but for at most a page per tick
     * that the rounding to pages leaves in the pool. */
    g_assert_cmpuint(v[0].alloc_kib + v[1].alloc_kib, <=, cap);
    g_assert_cmpuint(v[0].alloc_kib + v[1].alloc_kib, >=, cap - 12 * MB_BALLOON_PAGE_KIB);
    mb_planner_free(pl);
}

static void
test_plan_silent_no_samples(void)
{
    check_silent_gives_back(MB_POLICY_BALANCED, SILENT_NO_SAMPLES);
    check_silent_gives_back(MB_POLICY_PAPER, SILENT_NO_SAMPLES);
}

static void
test_plan_silent_counters_backwards(void)
{
    check_silent_gives_back(MB_POLICY_BALANCED, SILENT_COUNTERS_BACKWARDS);
    check_silent_gives_back(MB_POLICY_PAPER, SILENT_COUNTERS_BACKWARDS);
}

/* Puts a VM into the silent state: its last MB_SILENT_TICKS intervals
 * brought no sample. */
static void
vm_silence(MbVm *vm)
{
    vm_predict(vm, 0, 100 * MIB);
    vm->stale = true;
    vm->silent_ticks = MB_SILENT_TICKS;
}

/* Nobody is short: a silent VM above its fair share keeps its memory. */
static void
test_plan_silent_nobody_short(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 2048 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2];
    size_t moved;

    vm_bounds(&v[0], "silent", 64 * MIB, 2048 * MIB, 1536 * MIB);
    vm_bounds(&v[1], "b", 64 * MIB, 2048 * MIB, 512 * MIB);
    vm_silence(&v[0]);
    for (int kind = MB_POLICY_PAPER; kind <= MB_POLICY_BALANCED; kind++) {
        p.kind = (MbPolicyKind)kind;
        vm_predict(&v[1], 0, 100 * MIB); /* a donor, not needy */
        g_assert_true(mb_planner_plan(pl, v, 2, &p, &moved));
        g_assert_cmpuint(moved, ==, 0);
        g_assert_cmpint(v[0].reason, ==, MB_REASON_NONE);
    }

    /* B is short, but the free pool covers it (balanced). */
    p.kind = MB_POLICY_BALANCED;
    p.pool_kib = 2088 * MIB;
    /* (3 x 20 - 30: 30 MiB short) */
    vm_predict(&v[1], 20 * MIB, 30 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, &moved));
    g_assert_cmpint(move_of(&v[1]), ==, 30 * MIB);
    g_assert_cmpint(move_of(&v[0]), ==, 0);
    /* Only the part the pool cannot give comes from the silent VM
     * (3 x 40 - 50: 70 MiB short, 40 of them in the pool). */
    vm_predict(&v[1], 40 * MIB, 50 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, &moved));
    g_assert_cmpint(move_of(&v[1]), ==, 70 * MIB);
    g_assert_cmpint(move_of(&v[0]), ==, -30 * (gint64)MIB);
    mb_planner_free(pl);
}

/* A silent VM at (or below, or less than a step above) its fair share is
 * left alone, however short the others are. */
static void
test_plan_silent_at_fair_share(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 2048 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    const uint64_t allocs[] = {1024 * MIB, 900 * MIB, 1024 * MIB + 2 * MIB};
    MbVm v[2];
    size_t moved;

    for (size_t i = 0; i < G_N_ELEMENTS(allocs); i++) {
        vm_bounds(&v[0], "silent", 64 * MIB, 2048 * MIB, allocs[i]);
        vm_bounds(&v[1], "b", 64 * MIB, 2048 * MIB, 2048 * MIB - allocs[i]);
        vm_silence(&v[0]);
        vm_predict(&v[1], 100 * MIB, 0);
        g_assert_true(mb_planner_plan(pl, v, 2, &p, &moved));
        g_assert_cmpuint(moved, ==, 0);
    }

    /* When the mins fill the capacity, the fair share is the min: the
     * silent VM gives what lies above it, here to raise B to its min. */
    p.pool_kib = 1024 * MIB;
    vm_bounds(&v[0], "silent", 600 * MIB, 2048 * MIB, 700 * MIB);
    vm_bounds(&v[1], "b", 600 * MIB, 2048 * MIB, 324 * MIB);
    vm_silence(&v[0]);
    vm_predict(&v[1], 0, 0);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, &moved));
    g_assert_cmpuint(v[0].target_kib, ==, 600 * MIB);
    g_assert_cmpuint(v[1].target_kib, ==, 424 * MIB);
    g_assert_cmpint(v[1].reason, ==, MB_REASON_MIN);
    /* And not a KiB below its min, though B is still short. */
    for (int i = 0; i < 2; i++)
        v[i].alloc_kib = v[i].target_kib;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, &moved));
    g_assert_cmpuint(moved, ==, 0);
    mb_planner_free(pl);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/policy/plan/silent/no-samples", test_plan_silent_no_samples);
    g_test_add_func("/policy/plan/silent/counters-backwards",
                    test_plan_silent_counters_backwards);
    g_test_add_func("/policy/plan/silent/nobody-short", test_plan_silent_nobody_short);
    g_test_add_func("/policy/plan/silent/at-fair-share", test_plan_silent_at_fair_share);
    return g_test_run();
}
