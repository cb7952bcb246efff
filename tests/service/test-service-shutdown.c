/* SIGTERM at any moment: the real membalancerd with the libvirt backend
 * (libvirt's in-process test driver, test:///default) on a private bus,
 * stopped while a RegisterVM waits on the hypervisor and Rebalance calls
 * are pipelined behind it. Every run must exit 0 (under ASan: no leak,
 * no use after free), leave only its state file behind, and nothing in
 * its working directory. */
#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "mb-daemon.h"
#include "mb-test-service.h"

#define N_RUNS_DEFAULT 200

static const char *const libvirt_args[] = {
    "--backend", "libvirt", "--libvirt-uri", "test:///default", "--interval-ms", "20", NULL};

static void
call_no_reply(GDBusConnection *connection, const char *method, GVariant *args)
{
    g_dbus_connection_call(connection, MB_BUS_NAME, MB_OBJECT_PATH, MANAGER_IFACE, method, args,
                           NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
}

static void
test_sigterm_in_flight(void)
{
    g_autoptr(MbTestBus) bus = mb_test_bus_new();
    g_autofree char *cwd = mb_test_make_dir("mb-shutdown-cwd-XXXXXX");
    g_autofree char *old_cwd = g_get_current_dir();
    const char *env = g_getenv("MB_TEST_SHUTDOWN_RUNS");
    guint n_runs = env != NULL ? (guint)g_ascii_strtoull(env, NULL, 10) : N_RUNS_DEFAULT;
    guint n_ok = 0, n_registered = 0;

    /* The daemon inherits this directory: a crash that writes files
     * under garbage names would leave them here. */
    g_assert_cmpint(g_chdir(cwd), ==, 0);
    for (guint run = 0; run < n_runs; run++) {
        g_autofree char *state_dir = g_strdup_printf("%s/state-%u", bus->dir, run);
        g_autofree char *state_file = g_build_filename(state_dir, "registrations.ini", NULL);
        g_autoptr(MbTestDaemon) daemon = mb_test_daemon_spawn(bus, state_dir, libvirt_args);
        /* 0 to ~8 ms: before, during and after the registration's lookup. */
        gulong delay_us = (gulong)g_random_int_range(0, 8000);
        int status;

        g_assert_nonnull(daemon);
        call_no_reply(bus->connection, "RegisterVM",
                      g_variant_new("(sua{sv})", "test", 50u, NULL));
        for (int i = 0; i < 3; i++)
            call_no_reply(bus->connection, "Rebalance", NULL);
        call_no_reply(bus->connection, "SetPriority", g_variant_new("(su)", "test", 60u));
        if (run % 4 == 0)
            g_dbus_connection_flush_sync(bus->connection, NULL, NULL);
        g_usleep(delay_us);
        status = mb_test_daemon_stop(daemon);
        if (status != 0) {
            g_autofree char *log = mb_test_daemon_log(daemon);
            g_test_message("run %u (SIGTERM after %lu us): exit status %d; log:\n%s", run,
                           delay_us, status, log);
        }
        g_assert_cmpint(status, ==, 0);
        n_ok++;
        /* Only the state file (and no temporary copies) in the state dir. */
        g_assert_cmpuint(mb_test_count_entries(state_dir), <=, 1);
        if (g_file_test(state_file, G_FILE_TEST_EXISTS))
            n_registered++;
        g_assert_cmpuint(mb_test_count_entries(cwd), ==, 0);
        mb_test_rm_rf(state_dir);
        /* Drain the replies (errors: the daemon went away) of this run. */
        while (g_main_context_iteration(NULL, FALSE))
            ;
    }
    g_assert_cmpint(g_chdir(old_cwd), ==, 0);
    mb_test_rm_rf(cwd);
    g_test_message("%u of %u runs exited 0; %u stored the registration before stopping", n_ok,
                   n_runs, n_registered);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/service/shutdown/sigterm-in-flight", test_sigterm_in_flight);
    return g_test_run();
}
