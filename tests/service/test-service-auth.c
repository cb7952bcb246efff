/* Authorization: clients running as nobody read freely and are refused
 * every change; a configured group lets them in. */
#include <glib/gstdio.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include "mb-daemon.h"
#include "mb-dbus-generated.h"
#include "mb-error.h"
#include "mb-test-service.h"

/* ---- authorization ----------------------------------------------------- */

static void
expect_denied(Fixture *f, const char *const *argv)
{
    g_autofree char *err = NULL;
    int status = mb_test_run(TRUE, argv, NULL, &err);

    g_test_message("as nobody: %s -> %d %s", argv[0], status, err);
    g_assert_cmpint(status, !=, 0);
    g_assert_nonnull(strstr(err, ERR "AccessDenied"));
    g_assert_nonnull(strstr(err, "group 'membalancer'"));
}

static gboolean
have_nobody(void)
{
    if (getuid() != 0) {
        g_test_skip("needs root to run clients as nobody (setpriv)");
        return FALSE;
    }
    if (getpwnam("nobody") == NULL) {
        g_test_skip("no user nobody");
        return FALSE;
    }
    return TRUE;
}

static void
test_auth_nobody(Fixture *f, gconstpointer data)
{
    const char *a = f->bus->address;
    g_autofree char *before = NULL, *after = NULL;

    if (!have_nobody())
        return;
    g_free(register_vm(f, "game", 80, NULL));
    before = settings_snapshot(f);

    /* Reading is open. */
    const char *const get[] = {"busctl",       "--address", a,
                               "get-property", MB_BUS_NAME, "/org/smarttv/MemBalancer/vm/game",
                               VM_IFACE,       "Priority",  NULL};
    g_autofree char *out = run_ok(TRUE, get);
    g_assert_cmpstr(out, ==, "u 80\n");
    const char *const intro[] = {"gdbus",     "introspect",    "--address",    a,   "--dest",
                                 MB_BUS_NAME, "--object-path", MB_OBJECT_PATH, NULL};
    g_free(run_ok(TRUE, intro));
    const char *const ctl_list[] = {mb_test_ctl_path(), "--address", a, "list", NULL};
    g_autofree char *listing = run_ok(TRUE, ctl_list);
    g_assert_nonnull(strstr(listing, "game"));

    /* Every change is refused. */
#define GDBUS(method, ...)                                                                     \
    {                                                                                          \
        "gdbus", "call", "--address", a, "--dest", MB_BUS_NAME, "--object-path",               \
            MB_OBJECT_PATH, "--method", MANAGER_IFACE "." method, __VA_ARGS__                  \
    }
    const char *const c1[] = GDBUS("RegisterVM", "evil", "1", "{}", NULL);
    const char *const c2[] = GDBUS("UnregisterVM", "game", NULL);
    const char *const c3[] = GDBUS("SetPriority", "game", "1", NULL);
    const char *const c4[] = GDBUS("SetForeground", "game", NULL);
    const char *const c5[] = GDBUS("Rebalance", NULL);
#undef GDBUS
    const char *const c6[] = {"gdbus",         "call",
                              "--address",     a,
                              "--dest",        MB_BUS_NAME,
                              "--object-path", MB_OBJECT_PATH,
                              "--method",      "org.freedesktop.DBus.Properties.Set",
                              MANAGER_IFACE,   "Paused",
                              "<true>",        NULL};
    const char *const *calls[] = {c1, c2, c3, c4, c5, c6};
    for (guint i = 0; i < G_N_ELEMENTS(calls); i++)
        expect_denied(f, calls[i]);

    /* busctl and membalancerctl say so too, in one line, non-zero. */
    const char *const b1[] = {
        "busctl",      "--address", a,   "set-property", MB_BUS_NAME, MB_OBJECT_PATH,
        MANAGER_IFACE, "Paused",    "b", "true",         NULL};
    g_autofree char *berr = NULL;
    g_assert_cmpint(mb_test_run(TRUE, b1, NULL, &berr), !=, 0);
    g_assert_nonnull(strstr(berr, "may not write Paused"));
    const char *const ctl_pause[] = {mb_test_ctl_path(), "--address", a, "pause", NULL};
    g_autofree char *cerr = NULL;
    g_assert_cmpint(mb_test_run(TRUE, ctl_pause, NULL, &cerr), ==, 1);
    g_assert_true(
        g_str_has_prefix(cerr, "membalancerctl: pause: uid 65534 may not write Paused"));
    g_assert_cmpuint(strchr(cerr, '\n') - cerr + 1, ==, strlen(cerr));
    const char *const ctl_reg[] = {mb_test_ctl_path(), "--address", a,   "register", "evil",
                                   "--priority",       "5",         NULL};
    g_autofree char *rerr = NULL;
    g_assert_cmpint(mb_test_run(TRUE, ctl_reg, NULL, &rerr), ==, 1);
    g_assert_nonnull(strstr(rerr, "may not call RegisterVM"));

    /* Nobody could own the name either (the shipped policy). */
    const char *const own[] = {"gdbus",
                               "call",
                               "--address",
                               a,
                               "--dest",
                               "org.freedesktop.DBus",
                               "--object-path",
                               "/org/freedesktop/DBus",
                               "--method",
                               "org.freedesktop.DBus.RequestName",
                               MB_BUS_NAME,
                               "4",
                               NULL};
    g_autofree char *oerr = NULL;
    g_assert_cmpint(mb_test_run(TRUE, own, NULL, &oerr), !=, 0);
    g_assert_nonnull(strstr(oerr, "AccessDenied"));

    after = settings_snapshot(f);
    g_assert_cmpstr(before, ==, after);
}

static const char *const group_args[] = {"--interval-ms", "100", "--group", "nogroup", NULL};

static void
test_auth_group(Fixture *f, gconstpointer data)
{
    const char *a = f->bus->address;

    if (!have_nobody())
        return;
    g_free(register_vm(f, "game", 80, NULL));
    const char *const prio[] = {
        "busctl",      "--address",   a,    "call", MB_BUS_NAME, MB_OBJECT_PATH,
        MANAGER_IFACE, "SetPriority", "su", "game", "7",         NULL};
    g_free(run_ok(TRUE, prio));
    const char *const ctl_pause[] = {mb_test_ctl_path(), "--address", a, "pause", NULL};
    g_free(run_ok(TRUE, ctl_pause));
    g_autofree char *snapshot = settings_snapshot(f);
    g_assert_nonnull(strstr(snapshot, "game 7 0"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    (void)mb_service_error_quark();
    ADD_BUS_TEST("auth-nobody", test_auth_nobody, mb_test_fast_args);
    ADD_BUS_TEST("auth-group", test_auth_group, group_args);
    return g_test_run();
}
