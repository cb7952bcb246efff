/* Unit tests of the policy under contention (issue 19): a growth a VM
 * keeps is no burst to hold memory free for, and a VM short now is served
 * from what the foreground VM keeps only in case it grows. */
#include "mb-test-policy.h"

/* The two apps of the contention bench at 512 MiB each: the job (80),
 * the foreground VM with a 128 MiB headroom when foreground is set, and
 * the game (50). */
static void
job_and_game(MbVm v[2], MbParams *p, bool foreground)
{
    p->foreground_headroom_kib = 128 * MIB;
    vm_setup(&v[0], "job", 80, 512 * MIB);
    vm_setup(&v[1], "game", 50, 512 * MIB);
    v[0].settings.foreground = foreground;
}

/* The part of a peak a donor keeps is what it let go of: a web VM's page
 * load freed again is a burst to come; a job that loaded its working set
 * and keeps it has nothing to come. */
static void
test_predictor_released(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbVm vm;
    MbSample s = sample(512 * MIB, 300 * MIB, 50 * MIB, 0, 0, 0);

    vm_observe_web_burst(&vm, &s, &p);
    g_assert_cmpint(vm.peak_kib, ==, 96 * (gint64)MIB);
    g_assert_cmpint(vm.released_kib, ==, 0); /* in use */
    s.active_anon_kib -= 96 * MIB;
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpint(vm.released_kib, ==, 96 * (gint64)MIB);
    /* The next load uses it again; freed, it is released again. */
    s.active_anon_kib += 96 * MIB;
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpint(vm.released_kib, ==, 0);
    s.active_anon_kib -= 96 * MIB;
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpint(vm.released_kib, ==, 96 * (gint64)MIB);

    /* A job loads 288 MiB, 32 an interval, and keeps it. */
    vm_setup(&vm, "job", 80, 512 * MIB);
    s = sample(512 * MIB, 400 * MIB, 50 * MIB, 0, 0, 0);
    mb_vm_observe(&vm, &s, &p);
    for (int i = 0; i < 9; i++) {
        s.active_anon_kib += 32 * MIB;
        mb_vm_observe(&vm, &s, &p);
    }
    for (int i = 0; i < 20; i++)
        mb_vm_observe(&vm, &s, &p);
    g_assert_cmpint(vm.peak_kib, ==, 64 * (gint64)MIB);
    g_assert_cmpint(vm.released_kib, ==, 0);
    /* It ends and frees all of it: at most its peak is a burst to come. */
    s.active_anon_kib -= 288 * MIB;
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpint(vm.released_kib, ==, 64 * (gint64)MIB);
    /* And never more than the peak as it decays. */
    for (int i = 0; i < (int)MB_PEAK_HOLD + 64; i++)
        mb_vm_observe(&vm, &s, &p);
    g_assert_cmpint(vm.released_kib, <=, vm.peak_kib);
    g_assert_cmpint(vm.peak_kib, <, 64 * (gint64)MIB);
}

/* A donor keeps its recent peak free from a VM that only may grow; the
 * part of it still in use (a working set it loaded and keeps) is no burst
 * to come, and goes to a VM short now. A burst it let go of it keeps. */
static void
test_plan_one_time_growth(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2];

    job_and_game(v, &p, false);
    vm_predict(&v[0], 0, 200 * MIB);
    v[0].peak_kib = 64 * MIB;       /* its working set, loaded and kept */
    vm_predict(&v[1], 60 * MIB, 0); /* needs 3 x 60 */
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 136 * MIB);
    g_assert_cmpint(move_of(&v[0]), ==, -136 * (gint64)MIB);
    v[1].pressured = true;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 180 * MIB);
    g_assert_cmpint(move_of(&v[0]), ==, -180 * (gint64)MIB);
    /* The same peak, let go of: 64 MiB stay for it. */
    vm_released_burst(&v[0], 64 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 136 * MIB);
    g_assert_cmpint(move_of(&v[0]), ==, -136 * (gint64)MIB);
    mb_planner_free(pl);
}

static void
assert_within_capacity(const MbVm *v, size_t n, const MbParams *p)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < n; i++) {
        g_assert_cmpuint(v[i].target_kib, >=, v[i].settings.min_kib);
        sum += v[i].target_kib;
    }
    g_assert_cmpuint(sum, <=, mb_params_capacity_kib(p));
}

/* The foreground VM's headroom is kept from a VM that only may grow, and
 * lent to one short now (it swaps): a real need before a speculative one.
 * The foreground VM takes it back from cold cache and the free pool only. */
static void
test_plan_lend_headroom(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2];

    job_and_game(v, &p, true);
    /* 200 free, 128 of it headroom: 72 to give. The game needs 120. */
    vm_predict(&v[0], 0, 200 * MIB);
    vm_predict(&v[1], 40 * MIB, 0);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 72 * MIB);
    g_assert_cmpint(move_of(&v[0]), ==, -72 * (gint64)MIB);
    /* Short now: all 120, 48 of them the headroom. */
    v[1].pressured = v[1].stalled = true;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 120 * MIB);
    g_assert_cmpint(move_of(&v[0]), ==, -120 * (gint64)MIB);
    assert_within_capacity(v, 2, &p);

    /* 100 free, less than its headroom (it asks for the rest, and gets
     * nothing: no cold cache, no free pool): all 100 lent. */
    vm_predict(&v[0], 0, 100 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 100 * MIB);
    g_assert_cmpint(move_of(&v[0]), ==, -100 * (gint64)MIB);
    v[1].pressured = v[1].stalled = false;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 0);
    g_assert_cmpint(move_of(&v[0]), ==, 0);

    /* Growing 20 an interval, it lends nothing: its free memory is what
     * it grows into (its demand lags its growth). */
    v[1].pressured = v[1].stalled = true;
    vm_predict(&v[0], 20 * MIB, 100 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 0);
    g_assert_cmpint(move_of(&v[0]), ==, 0);
    /* Never below its min. */
    vm_predict(&v[0], 0, 100 * MIB);
    v[0].settings.min_kib = 490 * MIB;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, -22 * (gint64)MIB); /* 512 - 490 */
    assert_within_capacity(v, 2, &p);

    /* Not the foreground: nothing to lend beyond its surplus. */
    v[0].settings.min_kib = 64 * MIB;
    v[0].settings.foreground = false;
    vm_predict(&v[0], 0, 100 * MIB);
    vm_predict(&v[1], 40 * MIB, 0);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 100 * MIB);

    /* paper knows no foreground headroom: its free memory is surplus to
     * everyone, one interval's demand at a time, short now or not. */
    p.kind = MB_POLICY_PAPER;
    v[0].settings.foreground = true;
    vm_predict(&v[0], 0, 100 * MIB);
    for (int pressured = 0; pressured < 2; pressured++) {
        v[1].pressured = pressured;
        g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
        g_assert_cmpint(move_of(&v[1]), ==, 40 * MIB);
    }
    mb_planner_free(pl);
}

/* A VM that lends and receives in one plan is named by where it ends:
 * the foreground VM refills its headroom from the free pool (+28) and
 * lends 8 of it to a VM short now, whose need the pool's rest does not
 * cover. */
static void
test_plan_lend_reason(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1104 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2];

    job_and_game(v, &p, true);
    vm_predict(&v[0], 0, 100 * MIB);
    vm_predict(&v[1], 20 * MIB, 0); /* needs 60; 52 left in the pool */
    v[1].pressured = v[1].stalled = true;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 60 * MIB);
    g_assert_cmpint(move_of(&v[0]), ==, 20 * MIB);
    g_assert_cmpint(v[0].reason, ==, MB_REASON_NEED);
    g_assert_cmpint(v[1].reason, ==, MB_REASON_NEED);
    assert_within_capacity(v, 2, &p);
    mb_planner_free(pl);
}

/* A growing donor keeps its lead (3 x its demand): given down to one
 * interval's demand it would be needy at the next tick and take it back. */
static void
test_plan_donor_keeps_lead(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2];

    job_and_game(v, &p, false);
    vm_predict(&v[0], 10 * MIB, 100 * MIB);
    vm_predict(&v[1], 100 * MIB, 0); /* wants 300 */
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, -70 * (gint64)MIB);
    g_assert_cmpint(move_of(&v[1]), ==, 70 * MIB);
    /* Applied: the donor is not needy at the next plan. */
    for (int i = 0; i < 2; i++)
        v[i].alloc_kib = v[i].target_kib;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 0);
    mb_planner_free(pl);
}

/* The foreground VM's headroom comes after every VM's need: 50 MiB free
 * in the pool go to a lower-priority VM's need first. */
static void
test_plan_need_before_headroom(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1074 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2];

    job_and_game(v, &p, true);
    vm_predict(&v[0], 0, 0);
    vm_predict(&v[1], 10 * MIB, 0); /* needs 30 */
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 30 * MIB);
    g_assert_cmpint(move_of(&v[0]), ==, 20 * MIB);
    assert_within_capacity(v, 2, &p);
    mb_planner_free(pl);
}

/* The foreground VM short of its need, with nothing free anywhere: a
 * background VM of no higher priority gives it cold memory, 32 MiB a plan,
 * while it does not stall; its swap-out meanwhile is no need of its own. */
static void
test_plan_squeeze_background(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2];

    job_and_game(v, &p, true);
    v[0].settings.priority = 60;
    /* The browser in front needs 3 x 40; the game holds 512 MiB of
     * anonymous memory in the background, none of it reclaimable. */
    vm_predict(&v[0], 40 * MIB, 40 * MIB); /* 80 short */
    vm_predict(&v[1], 0, 0);
    v[1].last.active_anon_kib = 400 * MIB;
    v[1].peak_kib = 64 * MIB; /* it loaded its working set and holds it */
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, -32 * (gint64)MIB);
    g_assert_cmpint(move_of(&v[0]), ==, 32 * MIB);
    g_assert_cmpint(v[1].reason, ==, MB_REASON_COLD);
    g_assert_cmpstr(mb_reason_to_string(MB_REASON_COLD), ==,
                    "gave cold memory to the foreground VM");
    assert_within_capacity(v, 2, &p);
    /* It writes its cold pages out without stalling: go on. */
    v[1].pressured = true;
    v[1].last.has_swap_used = true;
    v[1].last.swap_used_kib = 32 * MIB;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, -32 * (gint64)MIB);
    /* It stalls: the squeeze stops at once, and it asks back what it
     * lost (the browser, higher in priority, keeps what it has). */
    v[1].stalled = true;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 0);
    g_assert_cmpint(move_of(&v[1]), ==, 0);
    v[1].stalled = v[1].pressured = false;
    /* Never from a VM of higher priority, one that bursts, below the
     * floor, nor without a foreground VM. */
    v[1].settings.priority = 70;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 0);
    v[1].settings.priority = 50;
    vm_released_burst(&v[1], 96 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 0);
    vm_released_burst(&v[1], 0); /* nor one that never grew (a video VM) */
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 0);
    v[1].peak_kib = 64 * MIB;
    v[1].settings.min_kib = 500 * MIB;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, -12 * (gint64)MIB); /* to its min */
    v[1].settings.min_kib = 64 * MIB;
    v[0].settings.foreground = false;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 0);
    /* paper never squeezes. */
    v[0].settings.foreground = true;
    p.kind = MB_POLICY_PAPER;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[1]), ==, 0);
    mb_planner_free(pl);
}

/* The foreground VM short now (back in front, it swaps in what it lost)
 * is served from what a background VM keeps free for its next burst (a
 * browser sent to the background after its page loads); no other VM is. */
static void
test_plan_lend_bursts(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbPlanner *pl = mb_planner_new(3, 1);
    MbVm v[3];

    job_and_game(v, &p, true); /* v[0]: the game in front */
    vm_setup(&v[2], "video", 40, 0);
    v[2].settings.min_kib = 0;
    vm_predict(&v[0], 0, 0);
    v[0].pressured = v[0].stalled = true;
    v[0].last.has_swap_used = true;
    v[0].last.swap_used_kib = 100 * MIB;
    /* The browser: 140 free, 128 of it for its next page. */
    vm_predict(&v[1], 0, 140 * MIB);
    vm_released_burst(&v[1], 128 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 100 * MIB);
    g_assert_cmpint(move_of(&v[1]), ==, -100 * (gint64)MIB);
    assert_within_capacity(v, 2, &p);
    /* Not short now: only the 12 above its burst. */
    v[0].pressured = v[0].stalled = false;
    vm_predict(&v[0], 40 * MIB, 0);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 12 * MIB);
    /* A background VM short now does not get it: the video is in front. */
    v[0].settings.foreground = false;
    v[2].settings.foreground = true;
    v[0].pressured = v[0].stalled = true;
    vm_predict(&v[0], 0, 0);
    g_assert_true(mb_planner_plan(pl, v, 3, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 12 * MIB);
    mb_planner_free(pl);
}

/* The foreground VM's headroom comes from a donor's free memory beyond
 * its working set when the donor grew once and holds it (a game sent to
 * the background), never from a bursty donor's (a web VM between page
 * loads: only its cold page cache). */
static void
test_plan_headroom_from_held_growth(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2];

    job_and_game(v, &p, true);      /* v[0]: the browser in front, v[1]: the game */
    vm_predict(&v[0], 0, 28 * MIB); /* 100 short of its headroom */
    vm_predict(&v[1], 0, 200 * MIB);
    v[1].peak_kib = 64 * MIB; /* grew once, holds it: 136 above it */
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 100 * MIB);
    g_assert_cmpint(move_of(&v[1]), ==, -100 * (gint64)MIB);
    /* A few MiB of page cache dropped since is no burst let go of. */
    v[1].released_kib = 8 * MIB;
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 100 * MIB);
    /* Bursty: its free memory stays; 10 MiB of cold cache go. */
    vm_released_burst(&v[1], 64 * MIB);
    vm_cold(&v[1], 10 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 10 * MIB);
    /* Nothing known of its growth yet: cold cache only too. */
    vm_released_burst(&v[1], 0);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpint(move_of(&v[0]), ==, 10 * MIB);
    mb_planner_free(pl);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/policy/predictor/released", test_predictor_released);
    g_test_add_func("/policy/plan/one-time-growth", test_plan_one_time_growth);
    g_test_add_func("/policy/plan/lend-headroom", test_plan_lend_headroom);
    g_test_add_func("/policy/plan/lend-reason", test_plan_lend_reason);
    g_test_add_func("/policy/plan/donor-keeps-lead", test_plan_donor_keeps_lead);
    g_test_add_func("/policy/plan/need-before-headroom", test_plan_need_before_headroom);
    g_test_add_func("/policy/plan/squeeze-background", test_plan_squeeze_background);
    g_test_add_func("/policy/plan/lend-bursts", test_plan_lend_bursts);
    g_test_add_func("/policy/plan/headroom-from-held-growth",
                    test_plan_headroom_from_held_growth);
    return g_test_run();
}
