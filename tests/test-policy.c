/* Unit tests of the policy library: each formula against hand-computed
 * values, the guest edge cases, priorities and planner invariants. */
#include "mb-test-policy.h"

#include <glib.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Counts the allocations made by the code linked into this binary (the
 * policy library included), through -Wl,--wrap. */
static gsize n_allocs;
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);

void *
__wrap_malloc(size_t size)
{
    n_allocs++;
    return __real_malloc(size);
}

void *
__wrap_calloc(size_t n, size_t size)
{
    n_allocs++;
    return __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t size)
{
    n_allocs++;
    return __real_realloc(p, size);
}

static void
test_names(void)
{
    MbPolicyKind k = MB_POLICY_STATIC;

    for (unsigned i = 0; i < MB_POLICY_N; i++) {
        g_assert_true(mb_policy_kind_from_string(mb_policy_kind_to_string(i), &k));
        g_assert_cmpint(k, ==, i);
    }
    g_assert_false(mb_policy_kind_from_string("random", &k));
    g_assert_false(mb_policy_kind_from_string(NULL, &k));
    g_assert_cmpstr(mb_policy_kind_to_string(MB_POLICY_N), ==, "unknown");
    g_assert_cmpstr(mb_reason_to_string(MB_REASON_NEED), ==, "demand above reclaimable");
    /* Appended: the existing values keep their numbers. */
    g_assert_cmpint(MB_REASON_MOM_GROW, ==, 6);
    g_assert_cmpint(MB_REASON_SILENT, ==, 7);
    g_assert_nonnull(strstr(mb_reason_to_string(MB_REASON_SILENT), "fair share"));
}

static void
test_params(void)
{
    MbParams p;
    const char *why = NULL;

    mb_params_init(&p);
    g_assert_cmpint(p.kind, ==, MB_POLICY_BALANCED);
    g_assert_cmpfloat(p.alpha, ==, 0.75);
    g_assert_cmpuint(p.min_step_kib, ==, 4 * MIB);
    g_assert_true(mb_params_validate(&p, &why));
    p.alpha = 0.0;
    g_assert_false(mb_params_validate(&p, &why));
    g_assert_nonnull(strstr(why, "alpha"));
    p.alpha = NAN;
    g_assert_false(mb_params_validate(&p, &why));
    p.alpha = 1.0;
    g_assert_true(mb_params_validate(&p, &why));
    p.pool_kib = 100;
    p.reserve_kib = 200;
    g_assert_false(mb_params_validate(&p, &why));
    g_assert_nonnull(strstr(why, "reserve"));
    p.reserve_kib = 40;
    g_assert_cmpuint(mb_params_capacity_kib(&p), ==, 60);
}

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

static void
test_plan_static_and_errors(void)
{
    MbParams p = params_for(MB_POLICY_STATIC, 1024 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[3];
    size_t moved = 99;

    vm_setup(&v[0], "needy", 50, 512 * MIB);
    vm_setup(&v[1], "donor", 50, 512 * MIB);
    vm_setup(&v[2], "extra", 50, 512 * MIB);
    vm_predict(&v[0], 30 * MIB, 0);
    vm_predict(&v[1], 0, 100 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, &moved));
    g_assert_cmpuint(moved, ==, 0);
    /* More VMs than the planner was made for, or bad params: refused. */
    p.kind = MB_POLICY_BALANCED;
    g_assert_false(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpuint(moved, ==, 0);
    p.alpha = 2.0;
    g_assert_false(mb_planner_plan(pl, v, 2, &p, &moved));
    g_assert_false(mb_planner_plan(NULL, v, 2, &p, &moved));
    p.alpha = 0.75;
    g_assert_true(mb_planner_plan(pl, v, 0, &p, &moved));
    mb_planner_free(pl);
    mb_planner_free(NULL);
}

static MbVm
mom_vm(const char *name, uint64_t cur_kib, uint64_t free_kib)
{
    MbVm vm;
    MbParams p = params_for(MB_POLICY_MOM, 0);
    MbSample s = sample(cur_kib, free_kib, cur_kib - free_kib, 0, 0, 0);

    vm_setup(&vm, name, 50, cur_kib);
    vm.settings.max_kib = 600 * MIB;
    mb_vm_observe(&vm, &s, &p);
    return vm;
}

static void
test_plan_mom(void)
{
    MbPlanner *pl = mb_planner_new(2, 1);
    MbParams p = params_for(MB_POLICY_MOM, 1000 * MIB);
    MbVm v[2];

    /* Host free 0 % (critical): guest free share -0.05; used 400 MiB:
     * floor = 400 - 25 = 375 MiB, but at most 5 % a tick: 475 MiB. */
    v[0] = mom_vm("a", 500 * MIB, 100 * MIB);
    v[1] = mom_vm("b", 500 * MIB, 480 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpuint(v[0].target_kib, ==, 475 * MIB);
    g_assert_cmpint(v[0].reason, ==, MB_REASON_MOM_SHRINK);
    /* b is mostly free: floor 20 - 25 < min (64 MiB): still 5 %. */
    g_assert_cmpuint(v[1].target_kib, ==, 475 * MIB);

    /* Host free 10 %: guest free share 0.20 * 0.10 / 0.20 = 0.10;
     * used 480: floor = 480 + 0.10 * 500 = 530 > cur: no shrink. */
    p.pool_kib = 1111 * MIB;
    v[0] = mom_vm("a", 500 * MIB, 20 * MIB);
    v[1] = mom_vm("b", 500 * MIB, 100 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpuint(v[0].target_kib, ==, 500 * MIB);
    /* b: floor = 400 + 50 = 450: 5 % cap gives 475. */
    g_assert_cmpuint(v[1].target_kib, ==, 475 * MIB);

    /* Host free 50 %: grow to max(used + 20 %, +5 %), capped at max. */
    p.pool_kib = 2000 * MIB;
    v[0] = mom_vm("a", 500 * MIB, 100 * MIB);
    v[1] = mom_vm("b", 500 * MIB, 0);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpuint(v[0].target_kib, ==, 525 * MIB);
    g_assert_cmpint(v[0].reason, ==, MB_REASON_MOM_GROW);
    g_assert_cmpuint(v[1].target_kib, ==, 600 * MIB);
    mb_planner_free(pl);
}

/* Random VMs with random (hostile) samples under every policy: at every
 * tick the sum stays within the capacity, each VM within min/max, and no
 * VM moves by less than the step except to restore its min/max. */
static void
test_plan_invariants_random(void)
{
    enum { MAX_VMS = 40, TICKS = 200 };

    for (guint32 seed = 1; seed <= 40; seed++) {
        g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
        MbParams p = params_for((MbPolicyKind)(seed % MB_POLICY_N), 0);
        size_t n = (size_t)g_rand_int_range(rand, 1, MAX_VMS + 1);
        MbPlanner *pl = mb_planner_new(n, seed);
        MbVm v[MAX_VMS];
        MbSample s[MAX_VMS];
        int outage[MAX_VMS] = {0}; /* ticks left without samples (silent) */
        uint64_t sum = 0;

        p.alpha = g_rand_double_range(rand, 0.05, 1.0);
        p.min_step_kib = (uint64_t)g_rand_int_range(rand, 1, 16) * MIB;
        for (size_t i = 0; i < n; i++) {
            MbVmSettings set = {
                .priority = (unsigned)g_rand_int_range(rand, 0, 101),
                .foreground = i == 0,
                .min_kib = (uint64_t)g_rand_int_range(rand, 64, 256) * MIB,
            };
            set.max_kib = set.min_kib + (uint64_t)g_rand_int_range(rand, 0, 2048) * MIB;
            uint64_t alloc = set.min_kib + (set.max_kib - set.min_kib) / 2;
            char name[16];
            g_snprintf(name, sizeof(name), "vm%02zu", i);
            mb_vm_init(&v[i], name, &set, alloc);
            memset(&s[i], 0, sizeof(s[i]));
            sum += alloc;
        }
        p.pool_kib = sum + (uint64_t)g_rand_int_range(rand, 0, 512) * MIB;
        p.reserve_kib = (uint64_t)g_rand_int_range(rand, 0, 64) * MIB;

        for (int t = 0; t < TICKS; t++) {
            uint64_t cap = mb_params_capacity_kib(&p), before = 0, after = 0;

            for (size_t i = 0; i < n; i++) {
                MbSample *x = &s[i];
                uint64_t a = v[i].alloc_kib;
                x->total_kib = g_rand_int_range(rand, 0, 20) == 0 ? UINT64_MAX : a;
                x->free_kib = (uint64_t)(g_rand_double(rand) * (double)a * 0.5);
                x->active_anon_kib = (uint64_t)(g_rand_double(rand) * (double)a * 0.6);
                x->active_file_kib = (uint64_t)(g_rand_double(rand) * (double)a * 0.2);
                x->inactive_file_kib = (uint64_t)(g_rand_double(rand) * (double)a * 0.4);
                x->swap_out_pages += (uint64_t)g_rand_int_range(rand, 0, 3) *
                                     (uint64_t)g_rand_int_range(rand, 0, 5000);
                if (g_rand_int_range(rand, 0, 100) == 0)
                    x->swap_out_pages = 0; /* reboot */
                if (outage[i] == 0 && g_rand_int_range(rand, 0, 15) == 0)
                    outage[i] = g_rand_int_range(rand, 1, 12);
                if (outage[i] > 0)
                    outage[i]--;
                mb_vm_observe(
                    &v[i], outage[i] > 0 || g_rand_int_range(rand, 0, 10) == 0 ? NULL : x, &p);
                before += v[i].alloc_kib;
            }
            g_assert_true(mb_planner_plan(pl, v, n, &p, NULL));
            for (size_t i = 0; i < n; i++) {
                uint64_t d = v[i].target_kib > v[i].alloc_kib
                                 ? v[i].target_kib - v[i].alloc_kib
                                 : v[i].alloc_kib - v[i].target_kib;
                if (p.kind != MB_POLICY_STATIC) {
                    g_assert_cmpuint(v[i].target_kib, >=, v[i].settings.min_kib);
                    g_assert_cmpuint(v[i].target_kib, <=, v[i].settings.max_kib);
                }
                if (d > 0 && v[i].reason != MB_REASON_MIN && v[i].reason != MB_REASON_MAX)
                    g_assert_cmpuint(d, >=, p.min_step_kib);
                /* A silent VM is only raised to restore its min. */
                if ((p.kind == MB_POLICY_PAPER || p.kind == MB_POLICY_BALANCED) &&
                    v[i].silent_ticks >= MB_SILENT_TICKS && v[i].reason != MB_REASON_MIN)
                    g_assert_cmpuint(v[i].target_kib, <=, v[i].alloc_kib);
                after += v[i].target_kib;
                v[i].alloc_kib = v[i].target_kib;
            }
            g_assert_true(after <= cap || after <= before);
            /* Now and then the capacity shrinks under the allocations. */
            if (g_rand_int_range(rand, 0, 50) == 0)
                p.pool_kib = p.pool_kib * 9 / 10, p.reserve_kib = 0;
        }
        mb_planner_free(pl);
    }
}

/* The per-tick path allocates nothing. */
static void
test_no_allocation_per_tick(void)
{
    enum { N = 64 };
    MbParams p = params_for(MB_POLICY_BALANCED, N * 512 * MIB);
    MbPlanner *pl = mb_planner_new(N, 7);
    static MbVm v[N];
    gsize before;

    for (int i = 0; i < N; i++) {
        char name[16];
        g_snprintf(name, sizeof(name), "vm%d", i);
        vm_setup(&v[i], name, (unsigned)(i % 7) * 10, 512 * MIB);
    }
    before = n_allocs;
    for (int t = 0; t < 100; t++) {
        for (int kind = 0; kind < MB_POLICY_N; kind++) {
            p.kind = (MbPolicyKind)kind;
            for (int i = 0; i < N; i++) {
                MbSample s = sample(512 * MIB, (uint64_t)(i * 3 % 200) * MIB,
                                    (uint64_t)((i + t) % 300) * MIB, 10 * MIB,
                                    (uint64_t)(i % 100) * MIB, (uint64_t)t * (uint64_t)i);
                mb_vm_observe(&v[i], &s, &p);
            }
            g_assert_true(mb_planner_plan(pl, v, N, &p, NULL));
        }
    }
    g_assert_cmpuint(n_allocs, ==, before);
    mb_planner_free(pl);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/policy/names", test_names);
    g_test_add_func("/policy/params", test_params);
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
    g_test_add_func("/policy/plan/lead", test_plan_lead);
    g_test_add_func("/policy/plan/shortfall", test_plan_shortfall);
    g_test_add_func("/policy/plan/pages", test_plan_pages);
    g_test_add_func("/policy/plan/moved-since-sample", test_plan_moved_since_sample);
    g_test_add_func("/policy/plan/spare", test_plan_spare);
    g_test_add_func("/policy/plan/foreground-headroom", test_plan_foreground_headroom);
    g_test_add_func("/policy/plan/catch-up", test_plan_catch_up);
    g_test_add_func("/policy/predictor/silent-ticks", test_predictor_silent_ticks);
    g_test_add_func("/policy/plan/proportional", test_plan_proportional);
    g_test_add_func("/policy/plan/paper-negative-demand", test_plan_paper_negative_demand);
    g_test_add_func("/policy/plan/min-step", test_plan_min_step);
    g_test_add_func("/policy/plan/bounds", test_plan_bounds);
    g_test_add_func("/policy/plan/pool", test_plan_pool);
    g_test_add_func("/policy/plan/priority", test_plan_priority);
    g_test_add_func("/policy/plan/ties", test_plan_ties);
    g_test_add_func("/policy/plan/paper-random-order", test_plan_paper_random_order);
    g_test_add_func("/policy/plan/stale", test_plan_stale);
    g_test_add_func("/policy/plan/silent/no-samples", test_plan_silent_no_samples);
    g_test_add_func("/policy/plan/silent/counters-backwards",
                    test_plan_silent_counters_backwards);
    g_test_add_func("/policy/plan/silent/nobody-short", test_plan_silent_nobody_short);
    g_test_add_func("/policy/plan/silent/at-fair-share", test_plan_silent_at_fair_share);
    g_test_add_func("/policy/plan/static-and-errors", test_plan_static_and_errors);
    g_test_add_func("/policy/plan/mom", test_plan_mom);
    g_test_add_func("/policy/plan/invariants-random", test_plan_invariants_random);
    g_test_add_func("/policy/plan/no-allocation-per-tick", test_no_allocation_per_tick);
    return g_test_run();
}
