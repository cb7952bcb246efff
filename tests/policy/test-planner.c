/* Unit tests of the planner (mb-planner*.c): leads, shortfalls, headroom,
 * pages, spare, the paper's shares, steps, bounds, pool, priorities. */
#include "mb-test-policy.h"

#include <glib.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* balanced: a VM with nothing left to reclaim gets MB_BALANCED_LEAD (3)
 * intervals of demand at once (it catches up instead of staying at the edge), and a
 * donor keeps its recent peak demand (its next burst); paper gives one
 * interval and takes R - delta. */
static void
test_plan_catch_up(void)
{
    MbPlanner *pl = mb_planner_new(8, 1);

    for (int kind = 0; kind < 2; kind++) {
        MbParams p = params_for(kind ? MB_POLICY_PAPER : MB_POLICY_BALANCED, 1024 * MIB);
        MbVm v[2];

        vm_setup(&v[0], "game", 50, 512 * MIB);
        vm_setup(&v[1], "web", 50, 512 * MIB);
        vm_predict(&v[0], 30 * MIB, 0);
        vm_predict(&v[1], 0, 200 * MIB);
        g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
        g_assert_cmpint(move_of(&v[0]), ==, (kind ? 30 : 90) * (gint64)MIB);
        /* The web VM's bursts reach 180 MiB: it keeps them. */
        vm_predict(&v[1], 0, 200 * MIB);
        vm_released_burst(&v[1], 180 * MIB);
        g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
        g_assert_cmpint(move_of(&v[1]), ==, (kind ? -30 : -20) * (gint64)MIB);
    }
    mb_planner_free(pl);
}

/* balanced serves a VM while MB_BALANCED_LEAD (3) intervals of its demand
 * no longer fit what it can reclaim (memory must leave a donor's balloon
 * first), and grants all it is short; paper only once one interval does
 * not, when the VM already swaps. */
static void
test_plan_lead(void)
{
    MbPlanner *pl = mb_planner_new(8, 1);

    for (int kind = 0; kind < 2; kind++) {
        MbParams p = params_for(kind ? MB_POLICY_PAPER : MB_POLICY_BALANCED, 1024 * MIB);
        MbVm v[2];

        vm_setup(&v[0], "game", 50, 512 * MIB);
        vm_setup(&v[1], "video", 50, 512 * MIB);
        /* 16 MiB a tick, 24 MiB left to reclaim. */
        vm_predict(&v[0], 16 * MIB, 24 * MIB);
        vm_predict(&v[1], 0, 200 * MIB);
        g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
        if (kind == 0) {
            /* 3 x 16 - 24 */
            g_assert_cmpint(move_of(&v[0]), ==, 24 * MIB);
            g_assert_cmpint(move_of(&v[1]), ==, -24 * (gint64)MIB);
        } else {
            g_assert_cmpint(move_of(&v[0]), ==, 0);
            g_assert_cmpint(move_of(&v[1]), ==, 0);
        }
    }
    mb_planner_free(pl);
}

/* balanced: a VM that swaps gets back what it lost to swap in one move,
 * on top of its demand, not the average of its swap rate. */
static void
test_plan_shortfall(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2];

    vm_setup(&v[0], "game", 50, 512 * MIB);
    vm_setup(&v[1], "video", 50, 512 * MIB);
    vm_predict(&v[0], 8 * MIB, 10 * MIB);
    vm_predict(&v[1], 0, 300 * MIB);
    v[0].last.has_swap_used = true;
    v[0].last.swap_used_kib = 120 * MIB;
    /* Not short now: the swap it used long ago is not asked back. */
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 14 * MIB); /* 3 x 8 - 10 */
    v[0].pressured = true;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 134 * MIB); /* 120 + 3 x 8 - 10 */
    g_assert_cmpint(move_of(&v[1]), ==, -134 * (gint64)MIB);
    /* paper: one interval of demand, and only once it exceeds R. */
    p.kind = MB_POLICY_PAPER;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 0);
    mb_planner_free(pl);
}

/* balanced: the foreground VM keeps its headroom reclaimable before it
 * asks, from the donors' cold page cache; donors keep their bursts, their
 * free memory and their mins. */
static void
test_plan_foreground_headroom(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbPlanner *pl = mb_planner_new(3, 1);
    MbVm v[3];

    p.foreground_headroom_kib = 128 * MIB;
    vm_setup(&v[0], "game", 50, 256 * MIB);
    vm_setup(&v[1], "video", 40, 256 * MIB);
    vm_setup(&v[2], "web", 60, 512 * MIB);
    vm_predict(&v[0], 0, 100 * MIB);
    vm_predict(&v[1], 0, 200 * MIB);
    vm_cold(&v[1], 200 * MIB); /* cold cache */
    vm_predict(&v[2], 0, 100 * MIB);
    vm_cold(&v[2], 100 * MIB);
    vm_released_burst(&v[2], 100 * MIB); /* its next burst: nothing to give */
    g_assert_true(mb_planner_plan(pl, v, 3, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 0); /* not foreground: no need */
    v[0].settings.foreground = true;
    g_assert_true(mb_planner_plan(pl, v, 3, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 28 * MIB); /* 128 - 100 */
    g_assert_cmpint(move_of(&v[1]), ==, -28 * (gint64)MIB);
    g_assert_cmpint(move_of(&v[2]), ==, 0);
    g_assert_cmpint(v[0].reason, ==, MB_REASON_NEED);
    /* The foreground VM is no donor of its headroom. */
    v[0].settings.foreground = false;
    v[1].settings.foreground = true;
    vm_predict(&v[0], 10 * MIB, 0);
    vm_predict(&v[1], 0, 150 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, -22 * (gint64)MIB); /* 150 - 128 */
    /* A donor's free memory is not headroom: with the video VM's 200 MiB
     * free instead of cached, the game gets nothing before it asks... */
    v[0].settings.foreground = true;
    v[1].settings.foreground = false;
    vm_predict(&v[0], 0, 100 * MIB);
    vm_predict(&v[1], 0, 200 * MIB);
    vm_cold(&v[1], 0);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 0);
    g_assert_cmpint(move_of(&v[1]), ==, 0);
    /* ...but its own need is served from any surplus: 3 x 50 - 100. */
    vm_predict(&v[0], 50 * MIB, 100 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 50 * MIB);
    g_assert_cmpint(move_of(&v[1]), ==, -50 * (gint64)MIB);
    /* paper knows no foreground. */
    p.kind = MB_POLICY_PAPER;
    vm_predict(&v[0], 0, 100 * MIB);
    v[0].settings.foreground = true;
    v[1].settings.foreground = false;
    g_assert_true(mb_planner_plan(pl, v, 3, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 0);
    mb_planner_free(pl);
}

/* Moves are whole balloon pages, growths rounded down and shrinks up, so
 * that the balloons, which stop only at pages, never leave the guests more
 * than the capacity; a min that is not whole pages is still restored. */
static void
test_plan_pages(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2];

    vm_setup(&v[0], "game", 60, 512 * MIB);
    vm_setup(&v[1], "video", 40, 512 * MIB);
    vm_predict(&v[0], 5 * MIB + 1, 0); /* needs 3 x 5121 = 15363 KiB */
    vm_predict(&v[1], 0, 300 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 15360);
    g_assert_cmpint(move_of(&v[1]), ==, -15364);
    g_assert_cmpuint(v[0].target_kib % MB_BALLOON_PAGE_KIB, ==, 0);
    g_assert_cmpuint(v[1].target_kib % MB_BALLOON_PAGE_KIB, ==, 0);
    g_assert_cmpuint(v[0].target_kib + v[1].target_kib, <=, mb_params_capacity_kib(&p));
    /* paper too: one interval of demand above R. */
    p.kind = MB_POLICY_PAPER;
    vm_predict(&v[0], 5 * MIB + 1, 0);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 5 * MIB);
    g_assert_cmpint(move_of(&v[1]), ==, -5 * (gint64)MIB - 4);
    /* A VM below a min between pages is raised to that min. */
    p.kind = MB_POLICY_BALANCED;
    v[0].settings.min_kib = 600 * MIB + 1;
    vm_predict(&v[0], 0, 100 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpuint(v[0].target_kib, ==, 600 * MIB + 1);
    g_assert_cmpuint(v[0].target_kib + v[1].target_kib, <=, mb_params_capacity_kib(&p));
    mb_planner_free(pl);
}

/* A plan made before the next sample (an urgent tick) counts a donor's
 * reclaimable memory less what it already gave since that sample: Run D's
 * web VM gave 21 MiB on one tick, then on an urgent tick the same surplus
 * again, and swapped on its next burst. */
static void
test_plan_moved_since_sample(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2];

    vm_setup(&v[0], "job", 60, 512 * MIB);
    vm_setup(&v[1], "web", 50, 512 * MIB);
    vm_predict(&v[0], 40 * MIB, 0); /* needs 120 MiB */
    vm_predict(&v[1], 0, 200 * MIB);
    vm_released_burst(&v[1], 100 * MIB); /* keeps its burst: 100 MiB to give */
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, -100 * (gint64)MIB);
    /* Applied, but no new sample yet: the web VM has nothing left. */
    for (int i = 0; i < 2; i++)
        v[i].alloc_kib = v[i].target_kib;
    g_assert_cmpuint(mb_vm_reclaimable_now_kib(&v[1]), ==, 100 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 0);
    /* The job's R counts what it got: 100 of 120, 20 still missing. */
    g_assert_cmpuint(mb_vm_reclaimable_now_kib(&v[0]), ==, 100 * MIB);
    /* paper too: the same memory is not given twice. */
    p.kind = MB_POLICY_PAPER;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 0);
    mb_planner_free(pl);
}

/* balanced keeps a spare in the pool, refilled from the donors' surplus
 * above their floors, the largest donor first, in chunks of at least half
 * the spare; paper does not. Donors keep their floors (their burst). */
static void
test_plan_spare(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbPlanner *pl = mb_planner_new(3, 1);
    MbVm v[3];
    size_t moved;

    p.spare_kib = 128 * MIB;
    vm_setup(&v[0], "video", 40, 512 * MIB);
    vm_setup(&v[1], "web", 50, 256 * MIB);
    vm_setup(&v[2], "game", 60, 256 * MIB);
    vm_predict(&v[0], 0, 100 * MIB);
    vm_cold(&v[0], 100 * MIB);          /* cold cache */
    vm_predict(&v[1], 0, 60 * MIB);     /* free memory */
    vm_released_burst(&v[1], 20 * MIB); /* keeps its next burst */
    vm_predict(&v[2], 0, 10 * MIB);
    /* A web VM watched for less than MB_PEAK_HOLD intervals keeps its free
     * memory: its burst may not be known yet. The video VM's cold cache is
     * taken at once. */
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpuint(moved, ==, 1);
    g_assert_cmpint(move_of(&v[0]), ==, -100 * (gint64)MIB);
    g_assert_cmpint(move_of(&v[1]), ==, 0);
    /* Watched long enough: 128 MiB, all of the video VM's 100, then 28 of
     * the web VM's 40 above its burst (free memory above a known burst is
     * surplus too). */
    for (int i = 0; i < 3; i++)
        v[i].history = MB_PEAK_HOLD;
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpuint(moved, ==, 2);
    g_assert_cmpint(move_of(&v[0]), ==, -100 * (gint64)MIB);
    g_assert_cmpint(move_of(&v[1]), ==, -28 * (gint64)MIB);
    g_assert_cmpint(move_of(&v[2]), ==, 0);
    g_assert_cmpint(v[0].reason, ==, MB_REASON_DONATE);

    /* Once the pool holds it, nothing more moves. */
    for (int i = 0; i < 3; i++)
        v[i].alloc_kib = v[i].target_kib;
    vm_predict(&v[0], 0, 0);
    vm_predict(&v[1], 0, 32 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpuint(moved, ==, 0);

    /* A VM short of memory takes it from the spare at once... */
    vm_predict(&v[2], 30 * MIB, 0);
    vm_predict(&v[1], 0, 50 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpint(move_of(&v[2]), ==, 90 * MIB);
    /* ...but the web VM's 30 MiB above its burst are less than a refill's
     * chunk (half the spare, 64 of the 90 missing): no trickle. */
    g_assert_cmpint(move_of(&v[1]), ==, 0);
    g_assert_cmpuint(moved, ==, 1);
    /* With 80 MiB above its burst, it refills the spare. */
    vm_predict(&v[1], 0, 100 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpint(move_of(&v[2]), ==, 90 * MIB);
    g_assert_cmpint(move_of(&v[1]), ==, -80 * (gint64)MIB);
    g_assert_cmpuint(v[0].target_kib + v[1].target_kib + v[2].target_kib, <=,
                     mb_params_capacity_kib(&p) - 128 * MIB + 90 * MIB);

    /* paper keeps no spare. */
    p.kind = MB_POLICY_PAPER;
    vm_predict(&v[2], 0, 10 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpuint(moved, ==, 0);
    mb_planner_free(pl);
}

static void
test_plan_proportional(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1536 * MIB);
    MbPlanner *pl = mb_planner_new(8, 1);
    MbVm v[3];
    size_t moved;

    /* The pool is fully allocated: donors only. */
    vm_setup(&v[0], "game", 50, 512 * MIB);
    vm_setup(&v[1], "video", 50, 512 * MIB);
    vm_setup(&v[2], "web", 50, 512 * MIB);
    /* 20 MiB of demand, 30 MiB reclaimable: 30 MiB short of three
     * intervals' worth (see /policy/plan/catch-up for more). */
    vm_predict(&v[0], 20 * MIB, 30 * MIB);
    vm_predict(&v[1], 0, 40 * MIB);
    vm_predict(&v[2], 0, 20 * MIB);
    /* D = 60 MiB > 30 MiB: 40/60 * 30 = 20 MiB and 20/60 * 30 = 10 MiB. */
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpuint(moved, ==, 3);
    g_assert_cmpint(move_of(&v[0]), ==, 30 * MIB);
    g_assert_cmpint(move_of(&v[1]), ==, -20 * (gint64)MIB);
    g_assert_cmpint(move_of(&v[2]), ==, -10 * (gint64)MIB);
    g_assert_cmpint(v[0].reason, ==, MB_REASON_NEED);
    g_assert_cmpint(v[1].reason, ==, MB_REASON_DONATE);

    /* D = 60 MiB < 100 MiB: every donor gives all of its surplus. */
    vm_predict(&v[0], 100 * MIB, 0);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpint(move_of(&v[0]), ==, 60 * MIB);
    g_assert_cmpint(move_of(&v[1]), ==, -40 * (gint64)MIB);
    g_assert_cmpint(move_of(&v[2]), ==, -20 * (gint64)MIB);

    /* A donor's own demand reduces its surplus: R - 3 x delta (its lead,
     * /policy/plan/donor-keeps-lead); the paper's R - delta. */
    vm_predict(&v[1], 10 * MIB, 40 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpint(move_of(&v[1]), ==, -10 * (gint64)MIB);
    p.kind = MB_POLICY_PAPER;
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpint(move_of(&v[1]), ==, -30 * (gint64)MIB);
    p.kind = MB_POLICY_BALANCED;

    /* No one needy: nothing moves (no give-back rule of its own). */
    vm_predict(&v[0], 0, 0);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpuint(moved, ==, 0);
    for (int i = 0; i < 3; i++)
        g_assert_cmpuint(v[i].target_kib, ==, v[i].alloc_kib);
    mb_planner_free(pl);
}

static void
test_plan_paper_negative_demand(void)
{
    /* As published, a donor with shrinking demand offers R - delta > R;
     * balanced never counts a negative demand as surplus. */
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2];
    MbParams p = params_for(MB_POLICY_PAPER, 1024 * MIB);

    vm_setup(&v[0], "needy", 50, 512 * MIB);
    vm_setup(&v[1], "donor", 50, 512 * MIB);
    vm_predict(&v[0], 100 * MIB, 0);
    vm_predict(&v[1], -20 * (gint64)MIB, 40 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, -60 * (gint64)MIB);
    p.kind = MB_POLICY_BALANCED;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, -40 * (gint64)MIB);
    mb_planner_free(pl);
}

static void
test_plan_min_step(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1536 * MIB);
    MbPlanner *pl = mb_planner_new(3, 1);
    MbVm v[3];
    size_t moved;

    vm_setup(&v[0], "a", 50, 512 * MIB);
    vm_setup(&v[1], "big", 50, 512 * MIB);
    vm_setup(&v[2], "small", 50, 512 * MIB);
    /* a is 10 MiB short (3 x 5 - 5); small's share (2/102 * 10 MiB) is
     * under the step: it leaves the set and big gives all 10 MiB. */
    vm_predict(&v[0], 5 * MIB, 5 * MIB);
    vm_predict(&v[1], 0, 100 * MIB);
    vm_predict(&v[2], 0, 2 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpint(move_of(&v[0]), ==, 10 * MIB);
    g_assert_cmpint(move_of(&v[1]), ==, -10 * (gint64)MIB);
    g_assert_cmpint(move_of(&v[2]), ==, 0);

    /* A need under the step (3 x 3 - 7 = 2 MiB) waits while a step's
     * cushion is left (7 MiB)... */
    vm_predict(&v[0], 3 * MIB, 7 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpuint(moved, ==, 0);
    /* ...and is served with one step when less is left (3 x 2 - 3 = 3)
     * or the VM is short now (balanced); paper sees no need (3 MiB of
     * demand, 7 reclaimable). */
    vm_predict(&v[0], 2 * MIB, 3 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpint(move_of(&v[0]), ==, 4 * MIB);
    vm_predict(&v[0], 3 * MIB, 7 * MIB);
    v[0].pressured = true;
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpint(move_of(&v[0]), ==, 4 * MIB);
    g_assert_cmpint(move_of(&v[1]), ==, -4 * (gint64)MIB);
    v[0].pressured = false;
    p.kind = MB_POLICY_PAPER;
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpuint(moved, ==, 0);
    p.kind = MB_POLICY_BALANCED;

    /* Nor is a transfer that the donors can only make under the step. */
    vm_predict(&v[0], 10 * MIB, 0);
    vm_predict(&v[1], 0, 3 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpuint(moved, ==, 0);

    /* The step is configurable. */
    p.min_step_kib = 1 * MIB;
    g_assert_true(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpint(move_of(&v[0]), ==, 5 * MIB);
    mb_planner_free(pl);
}

static void
test_plan_bounds(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2];

    vm_setup(&v[0], "needy", 50, 512 * MIB);
    vm_setup(&v[1], "donor", 50, 512 * MIB);
    /* The recipient stops at its max, the donor at its min. */
    v[0].settings.max_kib = 517 * MIB;
    v[1].settings.min_kib = 500 * MIB;
    vm_predict(&v[0], 30 * MIB, 0);
    vm_predict(&v[1], 0, 200 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 5 * MIB);
    g_assert_cmpint(move_of(&v[1]), ==, -5 * (gint64)MIB);
    v[0].settings.max_kib = 2048 * MIB;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 12 * MIB);
    g_assert_cmpuint(v[1].target_kib, ==, 500 * MIB);

    /* Above its max (a lowered max): brought down, even by a small move. */
    v[0].settings.max_kib = 511 * MIB;
    vm_predict(&v[0], 0, 0);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpuint(v[0].target_kib, ==, 511 * MIB);
    g_assert_cmpint(v[0].reason, ==, MB_REASON_MAX);

    /* Below its min: raised from the free pool, even by a small move,
     * whatever its prediction. */
    v[0].settings.max_kib = 2048 * MIB;
    v[0].alloc_kib = 400 * MIB;
    v[0].settings.min_kib = 401 * MIB;
    v[0].has_delta = false;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpuint(v[0].target_kib, ==, 401 * MIB);
    g_assert_cmpint(v[0].reason, ==, MB_REASON_MIN);
    mb_planner_free(pl);
}

static void
test_plan_pool(void)
{
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2];
    MbParams p = params_for(MB_POLICY_BALANCED, 1100 * MIB);

    p.reserve_kib = 50 * MIB; /* capacity 1050 MiB, 26 MiB unallocated */
    vm_setup(&v[0], "needy", 50, 512 * MIB);
    vm_setup(&v[1], "donor", 50, 512 * MIB);
    vm_predict(&v[0], 30 * MIB, 0);
    vm_predict(&v[1], 0, 100 * MIB);
    /* Balanced takes the free pool first, then the donors; with nothing
     * left to reclaim the VM gets three intervals of demand (90 MiB). */
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 90 * MIB);
    g_assert_cmpint(move_of(&v[1]), ==, -64 * (gint64)MIB);
    g_assert_cmpuint(v[0].target_kib + v[1].target_kib, <=, mb_params_capacity_kib(&p));

    /* The paper had no pool: donors only. */
    p.kind = MB_POLICY_PAPER;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, -30 * (gint64)MIB);

    /* Over-committed (capacity lowered under the allocations): nothing
     * grows from the pool, transfers stay zero-sum. */
    p.kind = MB_POLICY_BALANCED;
    p.pool_kib = 900 * MIB;
    p.reserve_kib = 0;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]) + move_of(&v[1]), ==, 0);
    mb_planner_free(pl);
}

/* Two needy VMs, surplus for only one: the higher priority is served. */
static void
test_plan_priority(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1536 * MIB);
    MbPlanner *pl = mb_planner_new(3, 1);

    for (int round = 0; round < 50; round++) {
        MbVm v[3];
        int hi = round % 3, lo = (round + 1) % 3, donor = (round + 2) % 3;

        vm_setup(&v[hi], "zeta-high", 80, 512 * MIB);
        vm_setup(&v[lo], "alpha-low", 20, 512 * MIB);
        vm_setup(&v[donor], "donor", 10, 512 * MIB);
        /* The low-priority VM has the larger deficit: priority wins. */
        vm_predict(&v[hi], 40 * MIB, 0);
        vm_predict(&v[lo], 80 * MIB, 0);
        vm_predict(&v[donor], 0, 40 * MIB);
        g_assert_true(mb_planner_plan(pl, v, 3, &p, NULL));
        g_assert_cmpint(move_of(&v[hi]), ==, 40 * MIB);
        g_assert_cmpint(move_of(&v[lo]), ==, 0);
        g_assert_cmpint(move_of(&v[donor]), ==, -40 * (gint64)MIB);
    }
    mb_planner_free(pl);
}

static void
test_plan_ties(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1536 * MIB);
    MbPlanner *pl = mb_planner_new(3, 1);
    const char *names[3] = {"bravo", "alpha", "charlie"};

    /* Equal priorities: foreground, then the larger deficit, then the
     * name; the same answer whatever the array order. */
    for (int round = 0; round < 30; round++) {
        MbVm v[3];
        int winner = -1;

        for (int i = 0; i < 3; i++) {
            int k = (i + round) % 3;
            vm_setup(&v[i], names[k], 50, 512 * MIB);
        }
        for (int i = 0; i < 2; i++)
            vm_predict(&v[i], 30 * MIB, 0);
        vm_predict(&v[2], 0, 30 * MIB);
        g_assert_true(mb_planner_plan(pl, v, 3, &p, NULL));
        for (int i = 0; i < 3; i++)
            if (move_of(&v[i]) > 0)
                winner = i;
        g_assert_cmpint(winner, >=, 0);
        /* Same priority and deficit: the smaller name wins. */
        for (int i = 0; i < 2; i++)
            if (i != winner)
                g_assert_cmpint(strcmp(v[winner].name, v[i].name), <, 0);

        /* The larger deficit wins over the name. */
        int other = winner == 0 ? 1 : 0;
        vm_predict(&v[other], 31 * MIB, 0);
        g_assert_true(mb_planner_plan(pl, v, 3, &p, NULL));
        g_assert_cmpint(move_of(&v[other]), ==, 30 * MIB);

        /* And the foreground VM wins over the deficit (the donor has
         * no cold memory to give it beyond: /policy/plan/squeeze-background). */
        v[winner].settings.foreground = true;
        v[2].stalled = true;
        g_assert_true(mb_planner_plan(pl, v, 3, &p, NULL));
        g_assert_cmpint(move_of(&v[winner]), ==, 30 * MIB);
        g_assert_cmpint(move_of(&v[other]), ==, 0);
    }
    mb_planner_free(pl);
}

static void
test_plan_paper_random_order(void)
{
    MbParams p = params_for(MB_POLICY_PAPER, 1536 * MIB);
    gboolean served[2] = {FALSE, FALSE};

    /* As published: random order, reproducible from the seed. */
    for (uint64_t seed = 1; seed <= 64; seed++) {
        int first_a = -1;
        for (int run = 0; run < 2; run++) {
            MbPlanner *pl = mb_planner_new(3, seed);
            MbVm v[3];
            vm_setup(&v[0], "a", 80, 512 * MIB);
            vm_setup(&v[1], "b", 20, 512 * MIB);
            vm_setup(&v[2], "donor", 10, 512 * MIB);
            vm_predict(&v[0], 40 * MIB, 0);
            vm_predict(&v[1], 40 * MIB, 0);
            vm_predict(&v[2], 0, 40 * MIB);
            g_assert_true(mb_planner_plan(pl, v, 3, &p, NULL));
            int a_won = move_of(&v[0]) == 40 * MIB;
            g_assert_cmpint(a_won ? move_of(&v[1]) : move_of(&v[0]), ==, 0);
            if (run == 0)
                first_a = a_won;
            else
                g_assert_cmpint(first_a, ==, a_won);
            served[a_won] = TRUE;
            mb_planner_free(pl);
        }
    }
    g_assert_true(served[0] && served[1]);
}

static void
test_plan_stale(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2];
    size_t moved;

    vm_setup(&v[0], "needy", 50, 512 * MIB);
    vm_setup(&v[1], "donor", 50, 512 * MIB);
    vm_predict(&v[0], 30 * MIB, 0);
    vm_predict(&v[1], 0, 100 * MIB);
    /* A stale donor is not touched; a stale needy VM is not served. */
    v[1].stale = true;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, &moved));
    g_assert_cmpuint(moved, ==, 0);
    v[1].stale = false;
    v[0].stale = true;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, &moved));
    g_assert_cmpuint(moved, ==, 0);
    /* A VM without a prediction yet neither. */
    v[0].stale = false;
    v[1].has_delta = false;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, &moved));
    g_assert_cmpuint(moved, ==, 0);
    mb_planner_free(pl);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/policy/plan/lead", test_plan_lead);
    g_test_add_func("/policy/plan/shortfall", test_plan_shortfall);
    g_test_add_func("/policy/plan/pages", test_plan_pages);
    g_test_add_func("/policy/plan/moved-since-sample", test_plan_moved_since_sample);
    g_test_add_func("/policy/plan/spare", test_plan_spare);
    g_test_add_func("/policy/plan/foreground-headroom", test_plan_foreground_headroom);
    g_test_add_func("/policy/plan/catch-up", test_plan_catch_up);
    g_test_add_func("/policy/plan/proportional", test_plan_proportional);
    g_test_add_func("/policy/plan/paper-negative-demand", test_plan_paper_negative_demand);
    g_test_add_func("/policy/plan/min-step", test_plan_min_step);
    g_test_add_func("/policy/plan/bounds", test_plan_bounds);
    g_test_add_func("/policy/plan/pool", test_plan_pool);
    g_test_add_func("/policy/plan/priority", test_plan_priority);
    g_test_add_func("/policy/plan/ties", test_plan_ties);
    g_test_add_func("/policy/plan/paper-random-order", test_plan_paper_random_order);
    g_test_add_func("/policy/plan/stale", test_plan_stale);
    return g_test_run();
}
