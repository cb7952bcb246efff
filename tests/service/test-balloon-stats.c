/* A sample derived from the virtio balloon's statistics, when no agent
 * reports (mb-balloon-stats.c); it was part of test-backend-libvirt, the
 * test path is kept. */
#include <glib.h>
#include <libvirt/libvirt.h>

#include "mb-balloon-stats.h"

static void
test_balloon_derive(void)
{
    /* A thrashing guest, numbers of the kind seen on a real one (KiB):
     * disk_caches 126 MiB is mostly swap cache; usable - unused = 2 MiB. */
    const virDomainMemoryStatStruct thrashing[] = {
        {VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON, 262144},
        {VIR_DOMAIN_MEMORY_STAT_UNUSED, 8192},
        {VIR_DOMAIN_MEMORY_STAT_USABLE, 10240},
        {VIR_DOMAIN_MEMORY_STAT_DISK_CACHES, 129024},
        {VIR_DOMAIN_MEMORY_STAT_SWAP_IN, 4000},
        {VIR_DOMAIN_MEMORY_STAT_SWAP_OUT, 40002},
        {VIR_DOMAIN_MEMORY_STAT_RSS, 999999},
    };
    const virDomainMemoryStatStruct idle[] = {
        {VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON, 1048576},
        {VIR_DOMAIN_MEMORY_STAT_UNUSED, 600000},
        {VIR_DOMAIN_MEMORY_STAT_USABLE, 900000},
        {VIR_DOMAIN_MEMORY_STAT_DISK_CACHES, 250000},
    };
    const virDomainMemoryStatStruct claims[] = {
        /* A guest claiming more unused memory than its balloon holds. */
        {VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON, 1000},
        {VIR_DOMAIN_MEMORY_STAT_UNUSED, 5000},
        {VIR_DOMAIN_MEMORY_STAT_USABLE, 9000},
        {VIR_DOMAIN_MEMORY_STAT_DISK_CACHES, 9000},
    };
    const virDomainMemoryStatStruct partial[] = {
        {VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON, 1048576},
        {VIR_DOMAIN_MEMORY_STAT_RSS, 500000},
    };
    MbSample s;

    g_assert_true(mb_balloon_stats_derive(thrashing, G_N_ELEMENTS(thrashing), &s));
    g_assert_cmpuint(s.total_kib, ==, 262144);
    g_assert_cmpuint(s.free_kib, ==, 8192);
    g_assert_cmpuint(s.inactive_file_kib, ==, 2048); /* min(129024, 10240 - 8192) */
    g_assert_cmpuint(s.active_anon_kib, ==, 262144 - 8192 - 2048); /* 251904 */
    g_assert_cmpuint(s.active_file_kib, ==, 0);
    g_assert_cmpuint(s.swap_in_pages, ==, 1000);   /* kB / 4 */
    g_assert_cmpuint(s.swap_out_pages, ==, 10000); /* 40002 kB / 4, rounded down */

    g_assert_true(mb_balloon_stats_derive(idle, G_N_ELEMENTS(idle), &s));
    g_assert_cmpuint(s.inactive_file_kib, ==, 250000); /* min(250000, 300000) */
    g_assert_cmpuint(s.active_anon_kib, ==, 1048576 - 600000 - 250000);
    g_assert_cmpuint(s.swap_out_pages, ==, 0);

    g_assert_true(mb_balloon_stats_derive(claims, G_N_ELEMENTS(claims), &s));
    g_assert_cmpuint(s.free_kib, ==, 1000);
    g_assert_cmpuint(s.inactive_file_kib + s.free_kib + s.active_anon_kib, <=, 1000);

    /* No unused memory: nothing to derive from. */
    g_assert_false(mb_balloon_stats_derive(partial, G_N_ELEMENTS(partial), &s));
    g_assert_false(mb_balloon_stats_derive(NULL, 0, &s));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/libvirt/balloon-derive", test_balloon_derive);
    return g_test_run();
}
