/* Tests of trace replay (sim/mb-trace.c): the shipped trace, and
 * malformed ones. */
#include "mb-test-sim.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mb-guest.h"
#include "mb-scenario.h"
#include "mb-sim.h"
#include "mb-trace.h"
#include "mb-workload.h"

/* ---- Trace replay ------------------------------------------------------------ */

static void
test_trace_shipped(void)
{
    g_autofree char *path =
        g_test_build_filename(G_TEST_DIST, "..", "sim", "traces", "paper2-static.csv", NULL);
    MbTrace *trace = NULL;
    MbScenario *sc;
    MbSimConfig cfg;
    MbSimResult st, ba;
    char err[512];

    g_assert_true(mb_trace_load(path, &trace, err, sizeof(err)));
    g_assert_cmpuint(trace->n_vms, ==, 2);
    g_assert_true(trace->has_psi);
    g_assert_cmpstr(trace->vms[0].name, ==, "vm1-game");
    g_assert_cmpuint(trace->vms[0].first_total_kib, ==, 512 * MIB);
    sc = mb_scenario_new_trace(trace, err, sizeof(err));
    g_assert_nonnull(sc);
    g_assert_cmpuint(mb_scenario_capacity_kib(sc), ==, 1024 * MIB);
    mb_sim_config_init(&cfg);
    cfg.policy = MB_SIM_STATIC;
    g_assert_true(mb_sim_run(sc, &cfg, &st, err, sizeof(err)));
    cfg.policy = MB_SIM_BALANCED;
    g_assert_true(mb_sim_run(sc, &cfg, &ba, err, sizeof(err)));
    g_assert_false(st.capped);
    g_assert_false(ba.capped);
    g_assert_cmpstr(ba.scenario, ==, "trace");
    /* The recorded game swapped; replayed under balanced it swaps less. */
    g_assert_cmpuint(st.vms[0].swap_out_kib, >, 0);
    g_assert_cmpuint(ba.vms[0].swap_out_kib, <, st.vms[0].swap_out_kib);
    mb_sim_result_clear(&st);
    mb_sim_result_clear(&ba);
    mb_scenario_free(sc);
    mb_trace_free(trace);
}

static void
test_trace_malformed(void)
{
    static const struct {
        const char *csv;
        const char *where; /* expected prefix of the error */
    } cases[] = {
        {"", "t.csv:1: no header"},
        {"t,vm\n", "t.csv:1:"},
        {HDR, "t.csv:1: no samples"},
        {HDR "0,a,1000,10,10,10,10,10,0,0\n1,a,1000,10\n", "t.csv:3:"},
        {HDR "0,a,1000,10,10,10,10,10,0,0\n0,a,1000,10,10,10,10,10,0,0\n", "t.csv:3:"},
        {HDR "0,a,1000,-10,10,10,10,10,0,0\n", "t.csv:2:"},
        {HDR "0,a,1000,x,10,10,10,10,0,0\n", "t.csv:2:"},
        {HDR "0,a,1000,1 0,10,10,10,10,0,0\n", "t.csv:2:"},
        {HDR "0,,1000,10,10,10,10,10,0,0\n", "t.csv:2:"},
        {HDR "0,a,0,0,0,0,0,0,0,0\n", "t.csv:2:"},
        {HDR "0,a,1000,900,100,100,10,10,0,0\n", "t.csv:2:"},
        {HDR "# note\n\n0,a,1000,10,10,10,10,10,5,5\n1,a,1000,10,10,10,10,10,4,5\n",
         "t.csv:5:"},
        {HDR "0,a,1000,10,10,10,10,10,0,0,1.0,2.0\n", "t.csv:2:"},
        {MB_TRACE_HEADER_PSI "\n0,a,1000,10,10,10,10,10,0,0,1.0,200\n", "t.csv:2:"},
        {HDR "0,a,99999999999999999999,10,10,10,10,10,0,0\n", "t.csv:2:"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        static MbTrace sentinel;
        MbTrace *trace = &sentinel; /* must be reset to NULL */
        char err[512] = "";

        g_assert_false(mb_trace_parse(cases[i].csv, strlen(cases[i].csv), "t.csv", &trace, err,
                                      sizeof(err)));
        g_assert_null(trace);
        if (!g_str_has_prefix(err, cases[i].where))
            g_error("case %zu: '%s' does not start with '%s'", i, err, cases[i].where);
        g_assert_null(strchr(err, '\n'));
    }

    /* A good one, with CRLF line ends, comments and two VMs. */
    {
        const char *ok = "# recorded\r\n" MB_TRACE_HEADER "\r\n"
                         "0,a,1000,500,100,50,20,30,0,0\r\n0,b,2000,10,10,10,10,10,0,0\r\n"
                         "1,a,1000,400,150,50,20,80,0,4\r\n";
        MbTrace *trace = NULL;
        char err[512];

        g_assert_true(mb_trace_parse(ok, strlen(ok), "ok.csv", &trace, err, sizeof(err)));
        g_assert_cmpuint(trace->n_vms, ==, 2);
        g_assert_cmpuint(trace->vms[0].n_points, ==, 2);
        /* anon = active + inactive + swapped pages */
        g_assert_cmpfloat(trace->vms[0].anon_kib[1], ==, 150 + 50 + 16);
        g_assert_cmpfloat(trace->vms[0].file_read_kib[1], ==, 30 + 50);
        g_assert_cmpfloat(trace->vms[0].hot_file_kib[1], ==, 20);
        mb_trace_free(trace);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sim/trace/shipped", test_trace_shipped);
    g_test_add_func("/sim/trace/malformed", test_trace_malformed);
    return g_test_run();
}
