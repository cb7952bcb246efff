/* Shared by the membalancerctl tests: its JSON, its watch. */
#include "mb-test-ctl.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

JsonNode *
mb_test_parse_json(const char *text)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;

    g_test_message("JSON: %s", text);
    /* One document on one line. */
    g_assert_true(g_str_has_suffix(text, "\n"));
    g_assert_true(strchr(text, '\n') == text + strlen(text) - 1);
    json_parser_load_from_data(parser, text, -1, &error);
    g_assert_no_error(error);
    return json_node_copy(json_parser_get_root(parser));
}

static guint
count_tables(const char *path)
{
    g_autofree char *text = NULL;
    guint n = 0;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    for (const char *p = text; (p = strstr(p, "NAME")) != NULL; p++)
        n++;
    return n;
}

/* Runs watch [extra] until it has drawn n_tables tables; returns what it
 * wrote. */
char *
mb_test_run_watch(Fixture *f, const char *extra, guint n_tables)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_autoptr(GSubprocess) watch = NULL;
    g_autofree char *out_path = g_build_filename(f->bus->dir, "watch.out", NULL);
    char *out = NULL;
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

    g_subprocess_launcher_set_stdout_file_path(launcher, out_path);
    watch = g_subprocess_launcher_spawn(launcher, &error, mb_test_ctl_path(), "--address",
                                        f->bus->address, "watch", extra, NULL);
    g_assert_no_error(error);
    /* Redrawn on PropertiesChanged (every tick changes LastUpdate): wait
     * for a few tables, then Ctrl-C. */
    while (count_tables(out_path) < n_tables && g_get_monotonic_time() < deadline)
        g_usleep(20 * 1000);
    g_assert_cmpuint(count_tables(out_path), >=, n_tables);
    g_subprocess_send_signal(watch, SIGINT);
    g_subprocess_wait(watch, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_get_if_exited(watch));
    g_assert_cmpint(g_subprocess_get_exit_status(watch), ==, 0);
    g_assert_true(g_file_get_contents(out_path, &out, NULL, NULL));
    g_unlink(out_path);
    return out;
}
