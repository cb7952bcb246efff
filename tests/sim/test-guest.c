/* Tests of the simulator's guest model (sim/mb-guest.c): reclaim order,
 * swapping, counters, and the linux61 kernel model. */
#include "mb-test-sim.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mb-guest.h"
#include "mb-scenario.h"
#include "mb-sim.h"
#include "mb-trace.h"
#include "mb-workload.h"

static uint64_t
guest_used_kib(const MbGuest *g)
{
    return MB_GUEST_KERNEL_KIB + g->anon_resident_kib + g->active_file_kib +
           g->inactive_file_kib;
}

/* ---- Guest model ---------------------------------------------------------- */

static void
test_guest_reclaim_order(void)
{
    Steer steer = {50 * MIB, 0, 8 * MIB};
    MbWorkload wl = steered_workload(&steer, 0);
    MbGuest g;

    mb_guest_init(&g, &wl, 512 * MIB);
    /* Fill the page cache with a file read once. */
    for (int i = 0; i < 30; i++) {
        steer.file_read_kib += 10 * MIB;
        mb_guest_tick(&g);
    }
    g_assert_cmpuint(g.inactive_file_kib, >=, 300 * MIB);
    g_assert_cmpuint(g.swap_out_pages, ==, 0);

    /* Anon grows past what is free: the cache must go before any swap. */
    for (int i = 0; i < 60; i++) {
        uint64_t before = g.swap_out_pages;
        steer.anon_kib += 10 * MIB;
        mb_guest_tick(&g);
        if (g.swap_out_pages > before)
            g_assert_cmpuint(g.inactive_file_kib, ==, 0);
        else
            g_assert_cmpuint(mb_guest_free_kib(&g), >=, 512 * MIB / 10);
    }
    g_assert_cmpuint(g.swap_out_pages, >, 0);
    /* The hot file set survives while anon can still be swapped. */
    g_assert_cmpuint(g.active_file_kib, ==, 8 * MIB);
}

static void
test_guest_balloon_shrink_cache(void)
{
    const MbWorkload *video = mb_workload_lookup("video-playback");
    MbGuest g;
    MbSample s;
    uint64_t r_kib;

    g_assert_nonnull(video);
    mb_guest_init(&g, video, 512 * MIB);
    for (int i = 0; i < 240; i++)
        mb_guest_tick(&g);
    mb_guest_sample(&g, &s);
    r_kib = mb_reclaimable_kib(&s, MB_GUEST_FREE_RESERVE);
    g_assert_cmpuint(r_kib, >, 300 * MIB);
    /* Give away everything the paper calls reclaimable, in steps. */
    mb_guest_set_alloc(&g, 512 * MIB - r_kib / 2);
    mb_guest_set_alloc(&g, 512 * MIB - r_kib * 9 / 10);
    for (int i = 0; i < 60; i++)
        mb_guest_tick(&g);
    g_assert_cmpuint(g.swap_out_pages, ==, 0);
    g_assert_cmpuint(mb_guest_free_kib(&g), >=, g.alloc_kib / 10);
}

static void
test_guest_growth_swaps(void)
{
    const MbWorkload *milc = mb_workload_lookup("milc");
    MbGuest g;

    mb_guest_init(&g, milc, 512 * MIB);
    for (int i = 0; i < 40; i++) {
        mb_guest_tick(&g);
        g_assert_cmpuint(guest_used_kib(&g), <=, g.alloc_kib);
    }
    g_assert_cmpuint(g.swap_out_pages, >, 0);
    g_assert_cmpuint(g.anon_swapped_kib, >, 100 * MIB);
    g_assert_cmpuint(mb_guest_free_kib(&g), >=, g.alloc_kib / 10);

    /* Deflating the balloon lets the swapped pages come back. */
    mb_guest_set_alloc(&g, 1536 * MIB);
    for (int i = 0; i < 60; i++)
        mb_guest_tick(&g);
    g_assert_cmpuint(g.anon_swapped_kib, ==, 0);
}

static unsigned
runtime_with(const char *workload, uint64_t alloc_kib)
{
    MbGuest g;

    mb_guest_init(&g, mb_workload_lookup(workload), alloc_kib);
    for (unsigned i = 0; i < 100000 && !g.finished; i++)
        mb_guest_tick(&g);
    g_assert_true(g.finished);
    return mb_guest_runtime_s(&g);
}

static void
test_guest_swapping_slows(void)
{
    const MbWorkload *milc = mb_workload_lookup("milc");
    unsigned fast = runtime_with("milc", 1536 * MIB);
    unsigned slow = runtime_with("milc", 512 * MIB);

    g_assert_cmpuint(fast, ==, (unsigned)milc->work_s);
    g_assert_cmpuint(slow, >, 2 * fast);
    /* A workload that fits does not care. */
    g_assert_cmpuint(runtime_with("hmmer", 512 * MIB), ==, runtime_with("hmmer", 1536 * MIB));
}

static void
test_guest_counters_monotonic(void)
{
    GRand *rand = g_rand_new_with_seed(42);

    for (size_t w = 0; w < mb_workload_count(); w++) {
        MbGuest g;
        MbSample prev, s;
        double progress = 0;

        mb_guest_init(&g, mb_workload_nth(w), 512 * MIB);
        mb_guest_sample(&g, &prev);
        for (int i = 0; i < 300; i++) {
            if (g_rand_int_range(rand, 0, 10) == 0)
                mb_guest_set_alloc(&g, (uint64_t)g_rand_int_range(rand, 128, 1024) * MIB);
            mb_guest_tick(&g);
            mb_guest_sample(&g, &s);
            g_assert_cmpuint(s.swap_out_pages, >=, prev.swap_out_pages);
            g_assert_cmpuint(s.swap_in_pages, >=, prev.swap_in_pages);
            g_assert_cmpfloat(g.progress_s, >=, progress);
            g_assert_cmpuint(s.free_kib + s.active_anon_kib + s.inactive_anon_kib +
                                 s.active_file_kib + s.inactive_file_kib,
                             <=, s.total_kib);
            g_assert_cmpuint(s.total_kib, ==, g.alloc_kib);
            progress = g.progress_s;
            prev = s;
        }
    }
    g_rand_free(rand);
}

static void
test_guest_idle(void)
{
    MbGuest g;
    MbSample s;

    mb_guest_init(&g, NULL, 256 * MIB);
    g_assert_true(g.finished);
    mb_guest_tick(&g);
    mb_guest_sample(&g, &s);
    g_assert_cmpuint(s.total_kib, ==, 256 * MIB);
    g_assert_cmpuint(s.free_kib, ==, 256 * MIB - MB_GUEST_KERNEL_KIB);
}

/* ---- The Linux 6.1 model and the real-VM benchmark's scenarios ---------- */

static void
test_linux61_new_anon_inactive(void)
{
    const MbWorkload *job = mb_workload_lookup("bench-job");
    MbGuest g, old;
    MbSample s;

    g_assert_nonnull(job);
    mb_guest_init(&g, job, 576 * MIB);
    mb_guest_set_model(&g, &mb_guest_model_linux61);
    mb_guest_init(&old, job, 576 * MIB);
    for (int i = 0; i < 10; i++) {
        mb_guest_tick(&g);
        mb_guest_tick(&old);
    }
    /* The real guest: MemTotal = balloon - 58572 KiB; all 280 MiB resident,
     * but only a few MiB of it on the active list. */
    mb_guest_sample(&g, &s);
    g_assert_cmpuint(s.total_kib, ==, 576 * MIB - 58572);
    g_assert_cmpuint(g.anon_resident_kib, ==, 280 * MIB);
    g_assert_cmpuint(s.active_anon_kib, <=, 7 * MIB);
    g_assert_cmpuint(s.inactive_anon_kib, >=, 270 * MIB);
    g_assert_cmpuint(g.swap_out_pages, ==, 0);
    /* The 2013 model is unchanged: most anon active, MemTotal = balloon. */
    mb_guest_sample(&old, &s);
    g_assert_cmpuint(s.total_kib, ==, 576 * MIB);
    g_assert_cmpuint(s.active_anon_kib, >, 200 * MIB);
}

static void
test_linux61_balloon_travel(void)
{
    const MbWorkload *video = mb_workload_lookup("bench-video");
    const uint64_t rate = mb_guest_model_linux61.shrink_kib_per_s;
    MbGuest g, old;
    unsigned ticks = 0;

    mb_guest_init(&g, video, 256 * MIB);
    mb_guest_set_model(&g, &mb_guest_model_linux61);
    mb_guest_init(&old, video, 256 * MIB);
    for (int i = 0; i < 40; i++) {
        mb_guest_tick(&g);
        mb_guest_tick(&old);
    }
    /* Fitted: a 128 MiB inflation of the video VM took ~3 s. */
    g_assert_cmpuint(rate, >=, 32 * MIB);
    g_assert_cmpuint(rate, <=, 64 * MIB);
    mb_guest_set_alloc(&g, 128 * MIB);
    g_assert_cmpuint(g.alloc_kib, ==, 256 * MIB); /* not there yet */
    g_assert_cmpuint(g.target_kib, ==, 128 * MIB);
    while (g.alloc_kib != g.target_kib && ticks < 20) {
        uint64_t before = g.alloc_kib;
        mb_guest_tick(&g);
        ticks++;
        g_assert_cmpuint(before - g.alloc_kib, <=, rate);
        /* Reclaim kept up with the balloon. */
        g_assert_cmpfloat((double)mb_guest_free_kib(&g), >=,
                          (double)mb_guest_memtotal_kib(&g) *
                              mb_guest_model_linux61.free_reserve);
    }
    g_assert_cmpuint(ticks, ==, (128 * MIB + rate - 1) / rate);
    g_assert_cmpuint(ticks, >=, 2);
    /* Deflating is faster: 128 MiB back within a tick. */
    mb_guest_set_alloc(&g, 256 * MIB);
    mb_guest_tick(&g);
    g_assert_cmpuint(g.alloc_kib, ==, 256 * MIB);
    /* The 2013 balloon is there at once. */
    mb_guest_set_alloc(&old, 128 * MIB);
    g_assert_cmpuint(old.alloc_kib, ==, 128 * MIB);
}

static void
test_linux61_thrashing_rate(void)
{
    const MbWorkload *job = mb_workload_lookup("bench-job");
    MbGuest g;
    MbSample s;
    uint64_t out0, in0, out1, in1;

    mb_guest_init(&g, job, 256 * MIB);
    mb_guest_set_model(&g, &mb_guest_model_linux61);
    for (int i = 0; i < 60; i++)
        mb_guest_tick(&g);
    out0 = g.swap_out_pages;
    in0 = g.swap_in_pages;
    for (int i = 0; i < 100; i++)
        mb_guest_tick(&g);
    out1 = g.swap_out_pages;
    in1 = g.swap_in_pages;
    /* Real static job VMs: 1070-1290 pages/s out, ~90 % of that in, with
     * ~6 MiB of its 199 MiB free. */
    g_assert_false(g.finished);
    g_assert_cmpuint((out1 - out0) / 100, >=, 1000);
    g_assert_cmpuint((out1 - out0) / 100, <=, 1350);
    g_assert_cmpuint((in1 - in0) / 100, >=, 900);
    g_assert_cmpuint(mb_guest_free_kib(&g), >=, 5 * MIB);
    g_assert_cmpuint(mb_guest_free_kib(&g), <=, 8 * MIB);
    g_assert_cmpuint(mb_guest_memtotal_kib(&g), ==, 203572);
    /* Anon read back from swap is activated (workingset refaults), but the
     * active list stays no larger than the inactive one. */
    mb_guest_sample(&g, &s);
    g_assert_cmpuint(s.active_anon_kib, >, 32 * MIB);
    g_assert_cmpuint(s.active_anon_kib, <=, s.inactive_anon_kib + 8 * MIB);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sim/guest/reclaim-order", test_guest_reclaim_order);
    g_test_add_func("/sim/guest/balloon-shrink-cache", test_guest_balloon_shrink_cache);
    g_test_add_func("/sim/guest/growth-swaps", test_guest_growth_swaps);
    g_test_add_func("/sim/guest/swapping-slows", test_guest_swapping_slows);
    g_test_add_func("/sim/guest/counters-monotonic", test_guest_counters_monotonic);
    g_test_add_func("/sim/guest/idle", test_guest_idle);
    g_test_add_func("/sim/guest/linux61-new-anon-inactive", test_linux61_new_anon_inactive);
    g_test_add_func("/sim/guest/linux61-balloon-travel", test_linux61_balloon_travel);
    g_test_add_func("/sim/guest/linux61-thrashing-rate", test_linux61_thrashing_rate);
    return g_test_run();
}
