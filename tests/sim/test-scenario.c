/* Tests of the simulator's built-in workloads and scenarios
 * (sim/mb-workload.c, sim/mb-scenario.c). */
#include "mb-test-sim.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mb-guest.h"
#include "mb-scenario.h"
#include "mb-sim.h"
#include "mb-trace.h"
#include "mb-workload.h"

/* ---- Workloads ------------------------------------------------------------ */

static void
test_workloads(void)
{
    const char *const *names = mb_workload_names();
    size_t n = 0;

    for (; names[n]; n++) {
        const MbWorkload *wl = mb_workload_lookup(names[n]);
        MbWorkloadPoint pt;
        double read = 0;

        g_assert_nonnull(wl);
        g_assert_cmpstr(wl->name, ==, names[n]);
        g_assert_cmpfloat(wl->work_s, >=, 200);
        g_assert_cmpfloat(wl->work_s, <=, 600);
        for (double p = 0; p <= wl->work_s; p += 0.5) {
            mb_workload_point(wl, 7, p, &pt);
            g_assert_cmpfloat(pt.anon_kib, >=, 0);
            g_assert_cmpfloat(pt.anon_kib, <, 1024.0 * MIB);
            g_assert_cmpfloat(pt.file_read_kib, >=, read); /* cumulative */
            read = pt.file_read_kib;
        }
    }
    g_assert_cmpuint(n, ==, mb_workload_count());
    g_assert_null(mb_workload_lookup("no-such-workload"));
    g_assert_null(mb_workload_lookup(NULL));
}

/* ---- Scenarios ------------------------------------------------------------ */

static void
test_scenario_names(void)
{
    const char *bad[] = {"",         "paper3",     "paper3-", "paper3-bogus",
                         "scale-0",  "scale-4097", "scale-",  "scale-12x",
                         "scale--1", "paper2x",    "nope"};
    char err[256];
    MbScenario *sc;

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        err[0] = '\0';
        g_assert_null(mb_scenario_new(bad[i], 1, err, sizeof(err)));
        g_assert_cmpstr(err, !=, "");
    }
    sc = mb_scenario_new("paper3-gcc", 1, err, sizeof(err));
    g_assert_nonnull(sc);
    g_assert_cmpuint(sc->n_vms, ==, 3);
    g_assert_cmpuint(mb_scenario_capacity_kib(sc), ==, 1536 * MIB);
    g_assert_cmpuint(sc->vms[0].settings.priority, >, sc->vms[1].settings.priority);
    mb_scenario_free(sc);
    sc = mb_scenario_new("scale-4096", 1, err, sizeof(err));
    g_assert_nonnull(sc);
    g_assert_cmpuint(mb_scenario_capacity_kib(sc), ==, 4096 * 512 * MIB);
    mb_scenario_free(sc);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sim/workloads", test_workloads);
    g_test_add_func("/sim/scenario/names", test_scenario_names);
    return g_test_run();
}
