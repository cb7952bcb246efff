/* Unit tests of the predictor (mb-predictor.c): each formula against
 * hand-computed values, and the guest edge cases. */
#include "mb-test-policy.h"

#include <glib.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void
test_reclaimable(void)
{
    /* 100 MiB inactive file + 50 MiB free - 10 % of 512 MiB = 98.8 MiB. */
    MbSample s = sample(512 * MIB, 50 * MIB, 0, 0, 100 * MIB, 0);

    g_assert_cmpuint(mb_reclaimable_kib(&s, 0.10), ==, 101171);
    /* Never below 0. */
    s = sample(512 * MIB, 10 * MIB, 0, 0, 20 * MIB, 0);
    g_assert_cmpuint(mb_reclaimable_kib(&s, 0.10), ==, 0);
    g_assert_cmpuint(mb_reclaimable_kib(&s, 0.0), ==, 30 * MIB);
}

static void
test_predictor_ewma(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 0);
    MbVm vm;
    MbSample s;

    vm_setup(&vm, "vm", 50, 512 * MIB);
    s = sample(512 * MIB, 100 * MIB, 100 * MIB, 50 * MIB, 10 * MIB, 1000);
    mb_vm_observe(&vm, &s, &p);
    /* First sample: a baseline, no prediction yet. */
    g_assert_true(vm.has_last);
    g_assert_false(vm.has_delta);
    g_assert_cmpuint(vm.reclaimable_kib, ==, 60211); /* 112640 - 52428.8 */

    /* dM = +1000 file + 2000 anon + 10 pages (40 KiB): delta(1) = dM. */
    s.active_file_kib += 1000;
    s.active_anon_kib += 2000;
    s.swap_out_pages += 10;
    mb_vm_observe(&vm, &s, &p);
    g_assert_true(vm.has_delta);
    g_assert_cmpint(vm.dm_kib, ==, 3040);
    g_assert_cmpint(vm.delta_kib, ==, 3040);

    /* dM = 1000: 0.75 * 1000 + 0.25 * 3040 = 1510. */
    s.active_file_kib += 1000;
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpint(vm.dm_kib, ==, 1000);
    g_assert_cmpint(vm.delta_kib, ==, 1510);

    /* dM = -4000: 0.75 * -4000 + 0.25 * 1510 = -2622.5, truncated. */
    s.active_anon_kib -= 4000;
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpint(vm.dm_kib, ==, -4000);
    g_assert_cmpint(vm.delta_kib, ==, -2622);

    /* alpha = 0.25: 0.25 * 8000 + 0.75 * -2622 = 33.5. */
    p.alpha = 0.25;
    s.active_anon_kib += 8000;
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpint(vm.delta_kib, ==, 33);
}

static void
test_predictor_missing_sample(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 0);
    MbVm vm;
    MbSample s = sample(512 * MIB, 100 * MIB, 100 * MIB, 50 * MIB, 10 * MIB, 0);

    vm_setup(&vm, "vm", 50, 512 * MIB);
    mb_vm_observe(&vm, &s, &p);
    s.active_anon_kib += 4000;
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpint(vm.delta_kib, ==, 4000);

    /* No sample: the state is kept and marked stale. */
    mb_vm_observe(&vm, NULL, &p);
    g_assert_true(vm.stale);
    g_assert_cmpuint(vm.missed_ticks, ==, 1);
    g_assert_cmpint(vm.delta_kib, ==, 4000);

    /* The next sample spans two intervals: dM is a per-interval rate. */
    s.active_anon_kib += 8000;
    mb_vm_observe(&vm, &s, &p);
    g_assert_false(vm.stale);
    g_assert_cmpuint(vm.missed_ticks, ==, 0);
    g_assert_cmpint(vm.dm_kib, ==, 4000);
    g_assert_cmpint(vm.delta_kib, ==, 4000);
}

static void
test_predictor_reboot(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 0);
    MbVm vm;
    MbSample s = sample(512 * MIB, 100 * MIB, 300 * MIB, 50 * MIB, 10 * MIB, 50000);

    vm_setup(&vm, "vm", 50, 512 * MIB);
    mb_vm_observe(&vm, &s, &p);
    s.swap_out_pages += 100;
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpint(vm.delta_kib, ==, 400);

    /* Rebooted guest: counters restart from zero, anon is tiny. */
    s = sample(512 * MIB, 400 * MIB, 20 * MIB, 5 * MIB, 1 * MIB, 0);
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpuint(vm.resets, ==, 1);
    g_assert_false(vm.has_delta);
    g_assert_cmpint(vm.delta_kib, ==, 0);
    /* And it predicts again from there, with no huge negative demand. */
    s.active_anon_kib += 1000;
    mb_vm_observe(&vm, &s, &p);
    g_assert_true(vm.has_delta);
    g_assert_cmpint(vm.delta_kib, ==, 1000);
}

static void
test_predictor_clamp(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 0);
    MbVm vm;
    MbSample s = sample(512 * MIB, 0, 100 * MIB, 0, 0, 0);

    vm_setup(&vm, "liar", 50, 512 * MIB);
    mb_vm_observe(&vm, &s, &p);
    /* Claims far beyond its allocation are clamped to it. */
    s = sample(UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX);
    s.has_psi = true;
    s.psi_some_avg10 = NAN;
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpuint(vm.last.total_kib, ==, 512 * MIB);
    g_assert_cmpuint(vm.last.active_anon_kib + vm.last.active_file_kib +
                         vm.last.inactive_anon_kib + vm.last.inactive_file_kib +
                         vm.last.free_kib,
                     <=, 512 * MIB);
    g_assert_false(vm.last.has_psi);
    /* The demand of one interval cannot exceed what the VM holds (anon
     * grew to all of it, swap-out bounded by the allocation). */
    g_assert_cmpint(vm.dm_kib, <=, (int64_t)(2 * 512 * MIB));
    g_assert_cmpint(vm.dm_kib, >, 0);
    g_assert_cmpuint(vm.reclaimable_kib, ==, 0);

    /* A zero total (broken agent) counts as the allocation. */
    s = sample(0, 10 * MIB, 10 * MIB, 0, 0, UINT64_MAX);
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpuint(vm.last.total_kib, ==, 512 * MIB);
}

/* missed_ticks cannot wrap: "intervals = missed_ticks + 1" was 0 after
 * UINT_MAX missing samples, and dM was divided by it. */
static void
test_predictor_missed_ticks_saturate(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 0);
    MbVm vm;
    MbSample s = sample(512 * MIB, 100 * MIB, 100 * MIB, 50 * MIB, 10 * MIB, 0);

    vm_setup(&vm, "vm", 50, 512 * MIB);
    mb_vm_observe(&vm, &s, &p);
    s.active_anon_kib += 4000;
    mb_vm_observe(&vm, &s, &p);

    /* The counter stops at its cap, far below UINT_MAX... */
    vm.missed_ticks = UINT_MAX - 1;
    mb_vm_observe(&vm, NULL, &p);
    g_assert_cmpuint(vm.missed_ticks, <, UINT_MAX - 1);
    g_assert_cmpuint(vm.missed_ticks, <=, MB_MISSED_TICKS_MAX);
    for (int i = 0; i < 3; i++)
        mb_vm_observe(&vm, NULL, &p);
    g_assert_cmpuint(vm.missed_ticks, ==, MB_MISSED_TICKS_MAX);

    /* ...and the sample after the gap is a tiny per-interval rate: 200 MiB
     * of anon and 4 GB of swap-out spread over a million intervals. */
    s.active_anon_kib += 200 * MIB;
    s.swap_out_pages += 1000000;
    mb_vm_observe(&vm, &s, &p);
    g_assert_false(vm.stale);
    g_assert_cmpuint(vm.missed_ticks, ==, 0);
    g_assert_cmpint(vm.dm_kib, >=, 0);
    g_assert_cmpint(vm.dm_kib, <=, 5);

    /* Even a caller that writes the field past the cap divides by no 0. */
    vm.missed_ticks = UINT_MAX;
    s.active_anon_kib += 1000;
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpint(vm.dm_kib, >=, 0);
    g_assert_cmpint(vm.dm_kib, <=, 1);
}

/* A change of statistics source (guest agent <-> balloon driver) starts a
 * new baseline instead of reading as a demand spike. */
static void
test_predictor_rebaseline(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 2048 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[2], twin;
    MbSample agent = sample(1024 * MIB, 200 * MIB, 300 * MIB, 50 * MIB, 100 * MIB, 1000);
    MbSample balloon;

    vm_setup(&v[0], "switcher", 50, 1024 * MIB);
    vm_setup(&v[1], "other", 50, 512 * MIB);
    mb_vm_observe(&v[0], &agent, &p);
    agent.active_anon_kib += 1 * MIB;
    mb_vm_observe(&v[0], &agent, &p);
    g_assert_true(v[0].has_delta);
    g_assert_cmpint(v[0].delta_kib, ==, 1 * MIB);
    twin = v[0];

    mb_vm_rebaseline(&v[0]);
    g_assert_false(v[0].has_last);
    g_assert_false(v[0].has_delta);
    g_assert_cmpint(v[0].dm_kib, ==, 0);
    g_assert_cmpint(v[0].delta_kib, ==, 0);
    g_assert_cmpstr(v[0].name, ==, "switcher");
    g_assert_cmpuint(v[0].settings.max_kib, ==, 2048 * MIB);
    g_assert_cmpuint(v[0].alloc_kib, ==, 1024 * MIB);
    g_assert_cmpuint(v[0].target_kib, ==, 1024 * MIB);
    g_assert_cmpuint(v[0].silent_ticks, ==, 0);
    g_assert_cmpuint(v[0].resets, ==, 0);

    /* The balloon driver counts active anon 300 MiB higher. */
    balloon = agent;
    balloon.active_anon_kib += 300 * MIB;
    balloon.free_kib -= 300 * MIB;
    mb_vm_observe(&v[0], &balloon, &p);
    g_assert_true(v[0].has_last);
    g_assert_false(v[0].has_delta);
    g_assert_cmpint(v[0].dm_kib, ==, 0);
    g_assert_cmpint(v[0].delta_kib, ==, 0);
    /* A baseline-only interval: the rebaseline does not make it fresh. */
    g_assert_cmpuint(v[0].silent_ticks, ==, 1);
    /* Without the rebaseline that sample is a 300 MiB demand spike. */
    mb_vm_observe(&twin, &balloon, &p);
    g_assert_cmpint(twin.dm_kib, ==, 300 * MIB);

    /* No prediction, so nothing is planned for it, even with a free pool. */
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpuint(v[0].target_kib, ==, v[0].alloc_kib);

    /* The next small change predicts small. */
    balloon.active_anon_kib += 2 * MIB;
    mb_vm_observe(&v[0], &balloon, &p);
    g_assert_true(v[0].has_delta);
    g_assert_cmpint(v[0].dm_kib, ==, 2 * MIB);
    g_assert_cmpint(v[0].delta_kib, ==, 2 * MIB);
    g_assert_cmpuint(v[0].silent_ticks, ==, 0);
    mb_planner_free(pl);
}

/* Swap counters are pages of the guest's own size when the VM has one. */
static void
test_predictor_page_size(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 0);
    MbVm vm, host_pages;
    MbSample s = sample(512 * MIB, 100 * MIB, 100 * MIB, 50 * MIB, 10 * MIB, 1000);

    memset(&vm, 0xa5, sizeof(vm));
    vm_setup(&vm, "arm64", 50, 512 * MIB);
    g_assert_cmpuint(vm.page_kib, ==, 0);
    g_assert_cmpuint(vm.silent_ticks, ==, 0);
    vm_setup(&host_pages, "x86", 50, 512 * MIB);
    vm.page_kib = 64;

    mb_vm_observe(&vm, &s, &p);
    mb_vm_observe(&host_pages, &s, &p);
    s.swap_out_pages += 10;
    mb_vm_observe(&vm, &s, &p);
    mb_vm_observe(&host_pages, &s, &p);
    g_assert_cmpint(vm.dm_kib, ==, 640);
    g_assert_cmpint(host_pages.dm_kib, ==, 40);

    /* Still bounded by the allocation, however large the page. */
    s.swap_out_pages = UINT64_MAX / 2;
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpint(vm.dm_kib, ==, (int64_t)(512 * MIB));
}

/* A modern kernel puts new anonymous pages on the inactive list: balanced
 * sees a job's growth there, paper (the published formula) does not. */
static void
test_predictor_inactive_anon(void)
{
    MbParams balanced = params_for(MB_POLICY_BALANCED, 0);
    MbParams paper = params_for(MB_POLICY_PAPER, 0);
    MbVm b, pp;
    MbSample s = sample(1024 * MIB, 600 * MIB, 20 * MIB, 50 * MIB, 10 * MIB, 0);

    vm_setup(&b, "job", 50, 1024 * MIB);
    vm_setup(&pp, "job", 50, 1024 * MIB);
    mb_vm_observe(&b, &s, &balanced);
    mb_vm_observe(&pp, &s, &paper);
    /* 280 MiB allocated; Active(anon) moves by 2 MiB. */
    s.inactive_anon_kib += 278 * MIB;
    s.active_anon_kib += 2 * MIB;
    s.free_kib -= 280 * MIB;
    mb_vm_observe(&b, &s, &balanced);
    mb_vm_observe(&pp, &s, &paper);
    g_assert_cmpint(b.dm_kib, ==, (int64_t)(280 * MIB));
    g_assert_cmpint(pp.dm_kib, ==, (int64_t)(2 * MIB));
}

/* silent_ticks counts the intervals in a row without a dM. */
/* A modern kernel's signals: refaults of the working set count as demand
 * (balanced only), and swapping, refaults, PSI stalls or an urgent record
 * mark the VM short now. */
static void
test_predictor_refaults_pressure(void)
{
    for (int kind = 0; kind < 2; kind++) {
        MbParams p = params_for(kind ? MB_POLICY_PAPER : MB_POLICY_BALANCED, 1024 * MIB);
        MbVm vm;
        MbSample s = sample(512 * MIB, 100 * MIB, 100 * MIB, 50 * MIB, 100 * MIB, 0);

        vm_setup(&vm, "vm", 50, 512 * MIB);
        s.has_refaults = true;
        s.has_psi = true;
        mb_vm_observe(&vm, &s, &p);
        g_assert_false(vm.pressured);
        /* 2,560 pages (10 MiB) of working set read back. */
        s.activate_file_pages += 2048;
        s.activate_anon_pages += 512;
        s.refault_file_pages += 100000; /* refaults of a stream: not demand */
        mb_vm_observe(&vm, &s, &p);
        g_assert_cmpint(vm.dm_kib, ==, kind ? 0 : 10 * (gint64)MIB);
        g_assert_true(vm.pressured);
        /* Quiet again. */
        mb_vm_observe(&vm, &s, &p);
        g_assert_false(vm.pressured);
        /* 1 ms of stall an interval is noise; 50 ms is pressure. */
        s.psi_some_total_us += 1000;
        mb_vm_observe(&vm, &s, &p);
        g_assert_false(vm.pressured);
        s.psi_some_total_us += 50000;
        mb_vm_observe(&vm, &s, &p);
        g_assert_true(vm.pressured);
        /* An urgent record is pressure however it looks. */
        s.urgent = MB_URGENT_LOW;
        mb_vm_observe(&vm, &s, &p);
        g_assert_true(vm.pressured);
        s.urgent = 0;
        s.swap_out_pages += 1;
        mb_vm_observe(&vm, &s, &p);
        g_assert_true(vm.pressured);
        /* A missed sample forgets it. */
        mb_vm_observe(&vm, NULL, &p);
        g_assert_false(vm.pressured);
    }
}

/* A sample that spans part of an interval (an urgent one) keeps dM a rate
 * per interval and moves the EWMA by that fraction. */
static void
test_predictor_partial_interval(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbVm vm;
    MbSample s = sample(512 * MIB, 300 * MIB, 100 * MIB, 0, 0, 0);

    p.alpha = 0.5;
    vm_setup(&vm, "vm", 50, 512 * MIB);
    mb_vm_observe_at(&vm, &s, &p, 1.0);
    s.active_anon_kib += 10 * MIB;
    mb_vm_observe_at(&vm, &s, &p, 1.0);
    g_assert_cmpint(vm.delta_kib, ==, 10 * (gint64)MIB);
    /* 5 MiB in a quarter interval: 20 MiB an interval; weight 1 - 0.5^0.25. */
    s.active_anon_kib += 5 * MIB;
    mb_vm_observe_at(&vm, &s, &p, 0.25);
    g_assert_cmpint(vm.dm_kib, ==, 20 * (gint64)MIB);
    g_assert_cmpint(vm.delta_kib, >, 11 * (gint64)MIB);
    g_assert_cmpint(vm.delta_kib, <, 12 * (gint64)MIB);
    /* Nonsense spans count as one interval. */
    s.active_anon_kib += 4 * MIB;
    mb_vm_observe_at(&vm, &s, &p, -3.0);
    g_assert_cmpint(vm.dm_kib, ==, 4 * (gint64)MIB);
    s.active_anon_kib += 4 * MIB;
    mb_vm_observe_at(&vm, &s, &p, NAN);
    g_assert_cmpint(vm.dm_kib, ==, 4 * (gint64)MIB);
}

/* The span of a sample comes from the times the host got the samples,
 * bounded: at least MB_SPAN_MIN of an interval, 1 when unknown. */
static void
test_predictor_span(void)
{
    const int64_t s = 1000000;

    g_assert_cmpfloat(mb_sample_span(10 * s, 11 * s, s), ==, 1.0);
    g_assert_cmpfloat(mb_sample_span(10 * s, 10 * s + 300000, s), ==, 0.3);
    g_assert_cmpfloat(mb_sample_span(10 * s, 13 * s, s), ==, 3.0);
    /* A periodic sample read early by an urgent tick still spans its period
     * (the service passes arrival times: 1 s apart, not 50 ms). */
    g_assert_cmpfloat(mb_sample_span(10 * s - 970000, 10 * s + 30000, s), ==, 1.0);
    /* Records close together: never more than 1 / MB_SPAN_MIN times faster. */
    g_assert_cmpfloat(mb_sample_span(10 * s, 10 * s + 1000, s), ==, MB_SPAN_MIN);
    /* Unknown, backwards, no interval: one interval. */
    g_assert_cmpfloat(mb_sample_span(0, 10 * s, s), ==, 1.0);
    g_assert_cmpfloat(mb_sample_span(10 * s, 9 * s, s), ==, 1.0);
    g_assert_cmpfloat(mb_sample_span(10 * s, 10 * s, s), ==, 1.0);
    g_assert_cmpfloat(mb_sample_span(10 * s, 11 * s, 0), ==, 1.0);
    g_assert_cmpfloat(mb_sample_span(1, INT64_MAX, 1), ==, (double)MB_MISSED_TICKS_MAX + 1.0);
}

/* A burst allocated over two intervals is one burst: a donor keeps all of
 * it, held while bursts like it come, decaying only after MB_PEAK_HOLD
 * intervals without one; a slow creep is not a burst. */
static void
test_predictor_burst(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 1024 * MIB);
    MbVm vm;
    MbSample s = sample(512 * MIB, 300 * MIB, 50 * MIB, 0, 0, 0);

    vm_observe_web_burst(&vm, &s, &p);
    g_assert_cmpint(vm.peak_kib, ==, 96 * (gint64)MIB);
    s.active_anon_kib -= 96 * MIB; /* freed */
    for (int i = 0; i < 10; i++)
        mb_vm_observe(&vm, &s, &p);
    /* All of it is still kept ten intervals later (held MB_PEAK_HOLD). */
    g_assert_cmpint(vm.peak_kib, ==, 96 * (gint64)MIB);
    g_assert_cmpint(vm.burst_kib, ==, 0);
    /* A page load every 10 intervals for 5 minutes: the peak stays whole
     * (decaying 1/64 an interval it would fall to 85 % between loads). */
    for (int load = 0; load < 30; load++) {
        s.active_anon_kib += 96 * MIB;
        mb_vm_observe(&vm, &s, &p);
        s.active_anon_kib -= 96 * MIB;
        for (int i = 0; i < 9; i++) {
            mb_vm_observe(&vm, &s, &p);
            g_assert_cmpint(vm.peak_kib, ==, 96 * (gint64)MIB);
        }
    }
    g_assert_cmpfloat(vm.history, >=, MB_PEAK_HOLD);
    /* Then no load for MB_PEAK_HOLD + 64 intervals: it decays, to
     * 96 * (63/64)^64, about 35 MiB. */
    for (int i = 0; i < (int)MB_PEAK_HOLD + 64; i++)
        mb_vm_observe(&vm, &s, &p);
    g_assert_cmpint(vm.peak_kib, <, 40 * (gint64)MIB);
    g_assert_cmpint(vm.peak_kib, >, 30 * (gint64)MIB);

    /* 2 MiB an interval for 100 intervals: the peak stays at two of them. */
    vm_setup(&vm, "creep", 50, 512 * MIB);
    s.active_anon_kib = 50 * MIB;
    mb_vm_observe(&vm, &s, &p);
    for (int i = 0; i < 100; i++) {
        s.active_anon_kib += 2 * MIB;
        mb_vm_observe(&vm, &s, &p);
    }
    g_assert_cmpint(vm.peak_kib, ==, 4 * (gint64)MIB);
}

static void
test_predictor_silent_ticks(void)
{
    MbParams p = params_for(MB_POLICY_BALANCED, 0);
    MbVm vm;
    MbSample s = sample(512 * MIB, 100 * MIB, 100 * MIB, 50 * MIB, 10 * MIB, 1000);

    vm_setup(&vm, "vm", 50, 512 * MIB);
    mb_vm_observe(&vm, &s, &p); /* first sample: a baseline only */
    g_assert_cmpuint(vm.silent_ticks, ==, 1);
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpuint(vm.silent_ticks, ==, 0);
    mb_vm_observe(&vm, NULL, &p);
    mb_vm_observe(&vm, NULL, &p);
    g_assert_cmpuint(vm.silent_ticks, ==, 2);
    mb_vm_observe(&vm, &s, &p); /* a dM over the gap */
    g_assert_cmpuint(vm.silent_ticks, ==, 0);
    s.swap_out_pages--; /* counter reset: a baseline only */
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpuint(vm.silent_ticks, ==, 1);
    mb_vm_rebaseline(&vm);
    g_assert_cmpuint(vm.silent_ticks, ==, 1);
    mb_vm_observe(&vm, &s, &p);
    g_assert_cmpuint(vm.silent_ticks, ==, 2);
    vm.silent_ticks = UINT_MAX;
    mb_vm_observe(&vm, NULL, &p);
    g_assert_cmpuint(vm.silent_ticks, ==, UINT_MAX);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/policy/reclaimable", test_reclaimable);
    g_test_add_func("/policy/predictor/ewma", test_predictor_ewma);
    g_test_add_func("/policy/predictor/missing-sample", test_predictor_missing_sample);
    g_test_add_func("/policy/predictor/reboot", test_predictor_reboot);
    g_test_add_func("/policy/predictor/clamp", test_predictor_clamp);
    g_test_add_func("/policy/predictor/missed-ticks-saturate",
                    test_predictor_missed_ticks_saturate);
    g_test_add_func("/policy/predictor/rebaseline", test_predictor_rebaseline);
    g_test_add_func("/policy/predictor/page-size", test_predictor_page_size);
    g_test_add_func("/policy/predictor/inactive-anon", test_predictor_inactive_anon);
    g_test_add_func("/policy/predictor/refaults-pressure", test_predictor_refaults_pressure);
    g_test_add_func("/policy/predictor/partial-interval", test_predictor_partial_interval);
    g_test_add_func("/policy/predictor/burst", test_predictor_burst);
    g_test_add_func("/policy/predictor/span", test_predictor_span);
    g_test_add_func("/policy/predictor/silent-ticks", test_predictor_silent_ticks);
    return g_test_run();
}
