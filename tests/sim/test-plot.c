/* membalancer-plot: recorded timelines to a PNG, bad input to exit 2. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

static int
run_plot(const char *const *args, char **err_out)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    int status = -1;

    g_ptr_array_add(argv, (gpointer)g_getenv("MB_PLOT_BINARY"));
    for (; *args != NULL; args++)
        g_ptr_array_add(argv, (gpointer)*args);
    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, err_out, &status, &error));
    g_assert_no_error(error);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_plot(void)
{
    g_autofree char *dir = g_dir_make_tmp("mb-plot-XXXXXX", NULL);
    g_autofree char *csv = g_build_filename(dir, "run.csv", NULL);
    g_autofree char *bad = g_build_filename(dir, "bad.csv", NULL);
    g_autofree char *png = g_build_filename(dir, "out.png", NULL);
    g_autofree char *panel = g_strconcat("balanced=", csv, NULL);
    g_autofree char *bad_panel = g_strconcat("x=", bad, NULL);
    g_autofree char *data = NULL;
    g_autofree char *err = NULL;
    gsize len = 0;

    g_assert_nonnull(dir);
    g_assert_true(g_file_set_contents(
        csv, "t,vm,alloc_kib\n1,game,524288\n2,game,600000\n1,video,524288\n2,video,450000\n",
        -1, NULL));
    g_assert_cmpint(run_plot((const char *const[]){"--png", png, panel, NULL}, NULL), ==, 0);
    g_assert_true(g_file_get_contents(png, &data, &len, NULL));
    g_assert_cmpuint(len, >, 1000);
    g_assert_cmpint(memcmp(data, "\x89PNG", 4), ==, 0);

    /* A malformed row: one line naming the file and line, exit 2. */
    g_assert_true(g_file_set_contents(bad, "t,vm,alloc_kib\n1,game,lots\n", -1, NULL));
    g_assert_cmpint(run_plot((const char *const[]){"--png", png, bad_panel, NULL}, &err), ==,
                    2);
    g_assert_nonnull(strstr(err, "bad.csv:2:"));
    g_assert_cmpint(run_plot((const char *const[]){"--png", png, NULL}, NULL), ==, 2);

    g_unlink(csv);
    g_unlink(bad);
    g_unlink(png);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sim/plot/timeline", test_plot);
    return g_test_run();
}
