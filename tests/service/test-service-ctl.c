/* membalancerctl against the real service: commands, JSON, errors, watch. */
#include <glib/gstdio.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include "mb-daemon.h"
#include "mb-dbus-generated.h"
#include "mb-error.h"
#include "mb-test-service.h"

/* ---- membalancerctl ----------------------------------------------------- */

static void
test_ctl(Fixture *f, gconstpointer data)
{
    const char *a = f->bus->address;
    const char *ctl = mb_test_ctl_path();
    g_autofree char *out = NULL, *err = NULL;

    const char *const reg[] = {ctl,          "--address",    a,       "register", "game",
                               "--priority", "70",           "--min", "256MiB",   "--max",
                               "1GiB",       "--foreground", NULL};
    out = run_ok(FALSE, reg);
    g_assert_cmpstr(out, ==, "/org/smarttv/MemBalancer/vm/game\n");
    g_clear_pointer(&out, g_free);
    const char *const reg2[] = {ctl, "--address", a, "register", "web", "-p", "5", NULL};
    g_free(run_ok(FALSE, reg2));
    const char *const prio[] = {ctl, "--address", a, "set-priority", "web", "9", NULL};
    g_free(run_ok(FALSE, prio));
    const char *const fg[] = {ctl, "--address", a, "set-foreground", "web", NULL};
    g_free(run_ok(FALSE, fg));
    const char *const pause[] = {ctl, "--address", a, "pause", NULL};
    g_free(run_ok(FALSE, pause));
    g_assert_true(
        mb_mem_balancer_get_paused(f->manager) ||
        mb_test_wait_for((gboolean(*)(gpointer))mb_mem_balancer_get_paused, f->manager, 5000));
    const char *const resume[] = {ctl, "--address", a, "resume", NULL};
    g_free(run_ok(FALSE, resume));
    const char *const rebalance[] = {ctl, "--address", a, "rebalance", NULL};
    g_free(run_ok(FALSE, rebalance));

    const char *const list[] = {ctl, "--address", a, "list", NULL};
    out = run_ok(FALSE, list);
    g_assert_true(g_str_has_prefix(out, "NAME"));
    g_assert_nonnull(strstr(out, "game"));
    g_assert_nonnull(strstr(out, "web"));
    g_clear_pointer(&out, g_free);
    const char *const list_json[] = {ctl, "--address", a, "list", "--json", NULL};
    out = run_ok(FALSE, list_json);
    g_assert_true(
        g_str_has_prefix(out, "[{\"name\": \"game\", \"priority\": 70, \"foreground\": false, "
                              "\"min_kib\": 262144, \"max_kib\": 1048576"));
    g_clear_pointer(&out, g_free);
    const char *const status[] = {ctl, "--address", a, "status", "web", "--json", NULL};
    out = run_ok(FALSE, status);
    g_assert_true(
        g_str_has_prefix(out, "{\"name\": \"web\", \"priority\": 9, \"foreground\": true"));
    g_clear_pointer(&out, g_free);
    const char *const status_text[] = {ctl, "--address", a, "status", "game", NULL};
    out = run_ok(FALSE, status_text);
    g_assert_nonnull(strstr(out, "maximum:         1 GiB"));
    g_clear_pointer(&out, g_free);
    const char *const info[] = {ctl, "--address", a, "info", "--json", NULL};
    out = run_ok(FALSE, info);
    g_assert_nonnull(strstr(out, "\"backend\": \"fake\""));
    g_clear_pointer(&out, g_free);

    /* Errors: one line, non-zero. */
    const struct {
        const char *const argv[12];
        int status;
        const char *message;
    } bad[] = {
        {{ctl, "--address", a, "register", "game", "--priority", "1", NULL},
         1,
         "membalancerctl: register: VM 'game' is already registered"},
        {{ctl, "--address", a, "register", "x", "--priority", "101", NULL},
         1,
         "membalancerctl: register: priority 101 is out of range"},
        {{ctl, "--address", a, "register", "x", "--priority", "1", "--min", "2GiB", "--max",
          "1GiB", NULL},
         1,
         "membalancerctl: register: min-kib 2097152 is above max-kib 1048576"},
        {{ctl, "--address", a, "register", "x", "--priority", "1", "--min", "lots", NULL},
         1,
         "membalancerctl: --min: 'lots' is not a size"},
        {{ctl, "--address", a, "unregister", "ghost", NULL},
         1,
         "membalancerctl: unregister: no VM named 'ghost' is registered"},
        {{ctl, "--address", a, "status", "ghost", NULL},
         1,
         "membalancerctl: status: no VM named 'ghost' is registered"},
        {{ctl, "--address", a, "set-priority", "game", "many", NULL},
         2,
         "membalancerctl: 'many' is not a priority"},
        {{ctl, "--address", a, "frobnicate", NULL}, 2, "membalancerctl: unknown command"},
        {{ctl, "--address", "unix:path=/nonexistent/bus", "list", NULL},
         1,
         "membalancerctl: cannot connect to the bus"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *e = NULL;
        int s = mb_test_run(FALSE, bad[i].argv, NULL, &e);
        g_test_message("%s -> %d %s", bad[i].argv[3], s, e);
        g_assert_cmpint(s, ==, bad[i].status);
        g_assert_true(g_str_has_prefix(e, bad[i].message));
    }
    const char *const unreg[] = {ctl, "--address", a, "unregister", "game", NULL};
    g_free(run_ok(FALSE, unreg));
    g_free(err);
}

static void
test_ctl_no_service(Fixture *f, gconstpointer data)
{
    const char *const list[] = {mb_test_ctl_path(), "--address", f->bus->address, "list", NULL};
    g_autofree char *err = NULL;

    g_assert_cmpint(mb_test_run(FALSE, list, NULL, &err), ==, 1);
    g_assert_nonnull(strstr(err, "membalancerd is not running"));
}

/* ---- watch --------------------------------------------------------------- */

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

static void
test_ctl_watch(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_autoptr(GSubprocess) watch = NULL;
    g_autofree char *out_path = g_build_filename(f->bus->dir, "watch.out", NULL);
    g_autofree char *out = NULL;
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

    g_free(register_vm(f, "game", 80, NULL));
    g_subprocess_launcher_set_stdout_file_path(launcher, out_path);
    watch = g_subprocess_launcher_spawn(launcher, &error, mb_test_ctl_path(), "--address",
                                        f->bus->address, "watch", NULL);
    g_assert_no_error(error);
    /* Redrawn on PropertiesChanged (every tick changes LastUpdate): wait
     * for a few tables, then Ctrl-C. */
    while (count_tables(out_path) < 3 && g_get_monotonic_time() < deadline)
        g_usleep(20 * 1000);
    g_assert_cmpuint(count_tables(out_path), >=, 3);
    g_subprocess_send_signal(watch, SIGINT);
    g_subprocess_wait(watch, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_get_if_exited(watch));
    g_assert_cmpint(g_subprocess_get_exit_status(watch), ==, 0);
    g_assert_true(g_file_get_contents(out_path, &out, NULL, NULL));
    g_assert_nonnull(strstr(out, "game"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    (void)mb_service_error_quark();
    ADD_BUS_TEST("ctl", test_ctl, mb_test_fast_args);
    ADD_BUS_TEST("ctl-no-service", test_ctl_no_service, NULL);
    ADD_BUS_TEST("ctl-watch", test_ctl_watch, mb_test_fast_args);
    return g_test_run();
}
