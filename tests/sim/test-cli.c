/* Tests of the membalancer-sim CLI, run as a child. */
#include "mb-test-sim.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mb-guest.h"
#include "mb-scenario.h"
#include "mb-sim.h"
#include "mb-trace.h"
#include "mb-workload.h"

static void
test_cli_bad_input(void)
{
    g_autofree char *dir = g_dir_make_tmp("mb-sim-XXXXXX", NULL);
    g_autofree char *bad_trace = g_build_filename(dir, "bad.csv", NULL);
    const char *const *cases[] = {
        (const char *const[]){"--scenario", "nope", NULL},
        (const char *const[]){"--scenario", "scale-0", NULL},
        (const char *const[]){"--scenario", "paper2", "--policy", "greedy", NULL},
        (const char *const[]){"--scenario", "paper2", "--alpha", "0", NULL},
        (const char *const[]){"--scenario", "paper2", "--alpha", "1.5", NULL},
        (const char *const[]){"--scenario", "paper2", "--alpha", "abc", NULL},
        (const char *const[]){"--scenario", "paper2", "--alpha", "-0.5", NULL},
        (const char *const[]){"--scenario", "paper2", "--min-step", "-4", NULL},
        (const char *const[]){"--scenario", "paper2", "--min-step", "four", NULL},
        (const char *const[]){"--scenario", "paper2", "--min-step", "4X", NULL},
        (const char *const[]){"--scenario", "paper2", "--seed", "-1", NULL},
        (const char *const[]){"--scenario", "paper2", "--bogus", NULL},
        (const char *const[]){"--scenario", "paper2", "extra", NULL},
        (const char *const[]){"--scenario", NULL},
        (const char *const[]){"--json", NULL},
        (const char *const[]){"--trace", "/nonexistent/trace.csv", NULL},
        (const char *const[]){"--trace", bad_trace, NULL},
    };

    g_assert_true(g_file_set_contents(bad_trace,
                                      HDR "0,a,1000,10,10,10,10,10,0,0\n"
                                          "1,a,1000,oops,10,10,10,10,0,0\n",
                                      -1, NULL));
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *out = NULL, *err = NULL;
        int status = run_cli(cases[i], &out, &err);

        g_assert_cmpint(status, ==, 2);
        g_assert_cmpstr(out, ==, "");
        g_assert_true(g_str_has_prefix(err, "membalancer-sim: "));
        /* One line. */
        g_assert_cmpint((int)(strchr(err, '\n') - err), ==, (int)strlen(err) - 1);
        if (i == G_N_ELEMENTS(cases) - 1)
            g_assert_nonnull(strstr(err, "bad.csv:3:"));
    }
    g_unlink(bad_trace);
    g_rmdir(dir);
}

static void
test_cli_outputs(void)
{
    g_autofree char *dir = g_dir_make_tmp("mb-sim-XXXXXX", NULL);
    g_autofree char *csv = g_build_filename(dir, "t.csv", NULL);
    g_autofree char *png = g_build_filename(dir, "t.png", NULL);
    g_autofree char *out = NULL, *out2 = NULL, *err = NULL, *text = NULL, *help = NULL;
    const char *args[] = {"--scenario", "paper2", "--policy", "all",    "--json", "--seed",
                          "3",          "--csv",  csv,        "--plot", png,      NULL};
    const char *again[] = {"--scenario", "paper2", "--policy", "all",
                           "--json",     "--seed", "3",        NULL};
    const char *help_args[] = {"--help", NULL};
    gsize len;

    g_assert_cmpint(run_cli(args, &out, &err), ==, 0);
    g_assert_cmpstr(err, ==, "");
    g_assert_true(g_str_has_prefix(out, "[{\"scenario\":\"paper2\",\"policy\":\"static\""));
    g_assert_nonnull(strstr(out, "\"policy\":\"best\""));
    g_assert_nonnull(strstr(out, "\"swap_out_kib\":"));
    g_free(err);
    err = NULL;
    /* Same seed, same bytes. */
    g_assert_cmpint(run_cli(again, &out2, &err), ==, 0);
    g_assert_cmpstr(out, ==, out2);

    g_assert_true(g_file_get_contents(csv, &text, &len, NULL));
    g_assert_true(
        g_str_has_prefix(text, "tick,policy,vm,alloc_kib,active_anon_kib,"
                               "inactive_anon_kib,active_file_kib,inactive_file_kib,"
                               "free_kib,swap_out_pages,dm_kib,predicted_kib,"
                               "demand_kib,reclaimable_kib,balloon_kib\n1,static,vm1-game,"));
    g_free(text);
    g_assert_true(g_file_get_contents(png, &text, &len, NULL));
    g_assert_cmpuint(len, >, 8);
    g_assert_cmpmem(text, 8, "\x89PNG\r\n\x1a\n", 8);

    g_free(err);
    err = NULL;
    g_assert_cmpint(run_cli(help_args, &help, &err), ==, 0);
    g_assert_nonnull(strstr(help, "--scenario"));
    g_unlink(csv);
    g_unlink(png);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sim/cli/bad-input", test_cli_bad_input);
    g_test_add_func("/sim/cli/outputs", test_cli_outputs);
    return g_test_run();
}
