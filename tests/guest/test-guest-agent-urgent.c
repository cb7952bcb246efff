/* The guest agent's urgent records: a record sent at once when the guest
 * starts to swap or nears its low watermark, rate-limited, and none when
 * disabled (the real membalancer-guest over a fake /proc). */
#include <string.h>

#include "guest-agent-test.h"

/* pswpout rises by 1 MiB: an urgent=4 record long before the 10 s period,
 * and the fake pressure file (not procfs) is said to be no trigger; a few
 * pages are not urgent. */
static void
test_urgent_swap(Fixture *fx, gconstpointer data)
{
    g_autofree char *vmstat = g_build_filename(fx->proc, "vmstat", NULL);
    g_autoptr(GSubprocess) p =
        spawn_agent(fx, "--output", fx->out, "--interval-ms", "10000", NULL);
    g_autofree char *err = NULL;
    MbGuestMessage recs[4];
    guint n_urgent;

    g_strfreev(wait_for_samples(fx, 1, 0));
    g_autofree char *few = vmstat_text(PSWPOUT + 255);
    rewrite_file(vmstat, few);
    g_usleep(300 * 1000); /* 3 checks */
    g_autofree char *raised = vmstat_text(PSWPOUT + 256);
    rewrite_file(vmstat, raised);
    g_auto(GStrv) lines = wait_for_samples(fx, 2, 1);
    stop_agent(p, &err);

    g_assert_cmpuint(parse_samples(lines, recs, G_N_ELEMENTS(recs), &n_urgent), ==, 2);
    g_assert_cmpuint(recs[0].sample.urgent, ==, 0);
    g_assert_cmpuint(recs[1].seq, ==, 2);
    g_assert_cmpuint(recs[1].sample.urgent, ==, MB_GUEST_URGENT_SWAP);
    g_assert_cmpuint(recs[1].sample.swap_out_pages, ==, PSWPOUT + 256);
    g_assert_cmpuint(recs[1].sample.free_kib, ==, 512000);
    g_assert_nonnull(strstr(err, "no PSI trigger on "));
    g_assert_nonnull(strstr(err, "(not procfs); checking every 100 ms instead"));
    g_assert_nonnull(strstr(err, " urgent=1\n"));
}

/* MemAvailable falls below a tenth of MemTotal (204,800 KiB here; 2x the
 * low watermarks is less): urgent=2, once: it stays low but no longer
 * falls. Free memory alone (a guest full of cache) is not low. */
static void
test_urgent_low(Fixture *fx, gconstpointer data)
{
    g_autofree char *meminfo = g_build_filename(fx->proc, "meminfo", NULL);
    g_autoptr(GSubprocess) p = spawn_agent(fx, "--output", fx->out, "--interval-ms", "10000",
                                           "--check-ms", "20", "--quiet", NULL);
    uint64_t low_kib = LOW_PAGES * page_kib();
    MbGuestMessage recs[4];
    guint n_urgent;

    g_strfreev(wait_for_samples(fx, 1, 0));
    /* Free memory at the low watermark, but much of it available: calm. */
    g_autofree char *low = g_strdup(MEMINFO);
    g_autofree char *value = g_strdup_printf("%6" G_GUINT64_FORMAT, low_kib);
    g_assert_cmpuint(strlen(value), ==, 6);
    memcpy(strstr(low, "512000"), value, 6);
    rewrite_file(meminfo, low);
    g_usleep(200 * 1000); /* 10 checks */
    /* Available memory below a tenth: urgent. */
    memcpy(strstr(low, "1024000"), " 150000", 7);
    rewrite_file(meminfo, low);
    g_strfreev(wait_for_samples(fx, 2, 1));
    g_usleep(300 * 1000); /* 15 more checks: no second urgent record */
    stop_agent(p, NULL);

    g_auto(GStrv) lines = read_lines(fx->out);
    g_assert_cmpuint(parse_samples(lines, recs, G_N_ELEMENTS(recs), &n_urgent), ==, 2);
    g_assert_cmpuint(n_urgent, ==, 1);
    g_assert_cmpuint(recs[1].sample.urgent, ==, MB_GUEST_URGENT_LOW);
    g_assert_cmpuint(recs[1].sample.free_kib, ==, low_kib);
    g_assert_cmpuint(recs[1].sample.low_wmark_kib, ==, low_kib);
}

/* Swap-out that never stops: at most one urgent record per urgent-min-ms,
 * and the periodic schedule (10 s) is left alone. */
static void
test_urgent_rate_limit(Fixture *fx, gconstpointer data)
{
    g_autofree char *vmstat = g_build_filename(fx->proc, "vmstat", NULL);
    gint64 start = g_get_monotonic_time();
    g_autoptr(GSubprocess) p =
        spawn_agent(fx, "--output", fx->out, "--interval-ms", "10000", "--check-ms", "10",
                    "--urgent-min-ms", "400", "--quiet", NULL);
    MbGuestMessage recs[64];
    guint n_urgent;

    g_strfreev(wait_for_samples(fx, 1, 0));
    for (unsigned i = 1; g_get_monotonic_time() - start < 2 * G_USEC_PER_SEC; i++) {
        g_autofree char *raised = vmstat_text(PSWPOUT + 256 * i);
        rewrite_file(vmstat, raised);
        g_usleep(5 * 1000);
    }
    stop_agent(p, NULL);
    gint64 elapsed_ms = (g_get_monotonic_time() - start) / 1000;

    g_auto(GStrv) lines = read_lines(fx->out);
    guint n = parse_samples(lines, recs, G_N_ELEMENTS(recs), &n_urgent);
    g_assert_cmpuint(n, <=, G_N_ELEMENTS(recs));
    g_test_message("%u urgent records in %" G_GINT64_FORMAT " ms", n_urgent, elapsed_ms);
    /* Without the limit: one per check, ~200. */
    g_assert_cmpuint(n_urgent, >=, 2);
    g_assert_cmpuint(n_urgent, <=, elapsed_ms / 400 + 1);
    g_assert_cmpuint(n, ==, n_urgent + 1);
    g_assert_cmpuint(recs[0].sample.urgent, ==, 0);
    for (guint i = 1; i < n; i++)
        g_assert_cmpuint(recs[i].sample.urgent, ==, MB_GUEST_URGENT_SWAP);
}

/* --check-ms 0 and no trigger: no urgent records at all, and it says so. */
static void
test_urgent_disabled(Fixture *fx, gconstpointer data)
{
    g_autofree char *vmstat = g_build_filename(fx->proc, "vmstat", NULL);
    g_autoptr(GSubprocess) p = spawn_agent(fx, "--output", fx->out, "--interval-ms", "10000",
                                           "--check-ms", "0", "--urgent-min-ms", "0", NULL);
    g_autofree char *err = NULL;

    g_strfreev(wait_for_samples(fx, 1, 0));
    g_autofree char *raised = vmstat_text(PSWPOUT + 1000);
    rewrite_file(vmstat, raised);
    g_usleep(500 * 1000);
    stop_agent(p, &err);
    g_assert_nonnull(strstr(err, "--check-ms 0: no urgent samples"));
    g_assert_nonnull(strstr(err, "samples=1 sent=1 "));

    /* --psi-trigger-us 0: no trigger wanted, nothing to say about it. */
    g_autoptr(GSubprocess) q =
        spawn_agent(fx, "--output", fx->out, "--psi-trigger-us", "0", "--count", "1", NULL);
    g_autofree char *err_q = NULL;
    g_assert_cmpint(finish_agent(q, &err_q), ==, 0);
    g_assert_null(strstr(err_q, "PSI"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/guest-agent/urgent/swap", Fixture, NULL, fixture_setup, test_urgent_swap,
               fixture_teardown);
    g_test_add("/guest-agent/urgent/low", Fixture, NULL, fixture_setup, test_urgent_low,
               fixture_teardown);
    g_test_add("/guest-agent/urgent/rate-limit", Fixture, NULL, fixture_setup,
               test_urgent_rate_limit, fixture_teardown);
    g_test_add("/guest-agent/urgent/disabled", Fixture, NULL, fixture_setup,
               test_urgent_disabled, fixture_teardown);
    return g_test_run();
}
