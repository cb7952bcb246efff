/* Authorization decisions in-process: uids, actions, big groups, a call
 * that outlives the daemon (mb-auth.c). */
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/mount.h>

#include "mb-auth.h"
#include "mb-error.h"
#include "mb-manager.h"
#include "mb-vm-object.h"
#include "mb-test-bus.h"
#include "mb-test-unit.h"

static void
test_auth_uids(void)
{
    struct passwd *nobody = getpwnam("nobody");
    struct group *nogroup = getgrnam("nogroup");

    if (nobody == NULL || nogroup == NULL) {
        g_test_skip("no user nobody / group nogroup on this system");
        return;
    }
    g_autoptr(MbAuth) members = mb_auth_new("membalancer-test-no-such-group");
    g_autoptr(MbAuth) nogroups = mb_auth_new("nogroup");

    g_assert_true(mb_auth_uid_allowed(members, 0));
    g_assert_true(mb_auth_uid_allowed(members, geteuid()));
    if (geteuid() != nobody->pw_uid) {
        g_assert_false(mb_auth_uid_allowed(members, nobody->pw_uid));
        g_assert_true(mb_auth_uid_allowed(nogroups, nobody->pw_uid));
    }
    /* A uid with no user: never a member. */
    g_assert_false(mb_auth_uid_allowed(nogroups, 4000000000u));
}

/* Each method and property write maps to its polkit action (the actions
 * of org.smarttv.MemBalancer.policy); what is not known is a setting. */
static void
test_auth_actions(void)
{
    g_assert_cmpstr(mb_auth_action_for("RegisterVM", FALSE), ==,
                    "org.smarttv.MemBalancer.register");
    g_assert_cmpstr(mb_auth_action_for("UnregisterVM", FALSE), ==,
                    "org.smarttv.MemBalancer.register");
    g_assert_cmpstr(mb_auth_action_for("SetPriority", FALSE), ==,
                    "org.smarttv.MemBalancer.configure");
    g_assert_cmpstr(mb_auth_action_for("SetForeground", FALSE), ==,
                    "org.smarttv.MemBalancer.configure");
    g_assert_cmpstr(mb_auth_action_for("SetLimits", FALSE), ==,
                    "org.smarttv.MemBalancer.configure");
    g_assert_cmpstr(mb_auth_action_for("Rebalance", FALSE), ==,
                    "org.smarttv.MemBalancer.control");
    g_assert_cmpstr(mb_auth_action_for("Paused", TRUE), ==, "org.smarttv.MemBalancer.control");
    g_assert_cmpstr(mb_auth_action_for("Policy", TRUE), ==,
                    "org.smarttv.MemBalancer.configure");
}

/* Writes a copy of /etc/NAME with extra lines appended and mounts it over
 * /etc/NAME (in the caller's private mount namespace only). */
static void
bind_over_etc(const char *dir, const char *name, const char *extra)
{
    g_autofree char *etc = g_build_filename("/etc", name, NULL);
    g_autofree char *text = mb_test_read_text(etc);
    g_autofree char *all = g_strconcat(text, extra, NULL);
    g_autofree char *copy = mb_test_write_file(dir, name, all);

    g_assert_cmpint(mount(copy, etc, NULL, MS_BIND, NULL), ==, 0);
}

/* Members of groups bigger than a fixed NSS buffer: decided, not refused.
 * Runs in a child with a private mount namespace whose /etc/group and
 * /etc/passwd carry a 60 KiB group line and a 20 KiB user entry; the
 * machine's files are never touched. */
static void
test_auth_big_group(void)
{
    if (g_test_subprocess()) {
        g_autofree char *dir = mb_test_make_dir("mb-test-nss-XXXXXX");
        g_autoptr(GString) passwd = g_string_new(NULL);
        g_autoptr(GString) group = g_string_new(NULL);
        g_autofree char *gecos = g_strnfill(20000, 'g');

        g_assert_cmpint(unshare(CLONE_NEWNS), ==, 0);
        g_assert_cmpint(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), ==, 0);
        /* mbbiguser: a 20 KiB passwd entry, a member (not by its primary
         * group) of mbbig, whose line lists 5,000 members (60 KiB).
         * mbprimary: mbbig is its primary group. mbmany: in 150 groups. */
        g_string_append_printf(passwd, "mbbiguser:x:54321:54321:%s:/nonexistent:/bin/false\n",
                               gecos);
        g_string_append(passwd, "mbprimary:x:54322:54320::/nonexistent:/bin/false\n");
        g_string_append(passwd, "mbmany:x:54323:54323::/nonexistent:/bin/false\n");
        g_string_append(group, "mbbiguser:x:54321:\nmbmany:x:54323:\nmbbig:x:54320:");
        for (guint i = 0; i < 5000; i++)
            g_string_append_printf(group, "mbmember%05u,", i);
        g_string_append(group, "mbbiguser\n");
        for (guint i = 0; i < 150; i++)
            g_string_append_printf(group, "mbg%03u:x:%u:mbmany\n", i, 55000 + i);
        g_string_append(group, "mbtarget:x:56000:mbmany\n");
        bind_over_etc(dir, "passwd", passwd->str);
        bind_over_etc(dir, "group", group->str);

        struct group *big = getgrnam("mbbig");
        g_assert_nonnull(big);
        g_assert_cmpuint(big->gr_gid, ==, 54320);

        g_autoptr(MbAuth) auth_big = mb_auth_new("mbbig");
        g_autoptr(MbAuth) auth_target = mb_auth_new("mbtarget");
        g_assert_true(mb_auth_uid_allowed(auth_big, 54321));
        g_assert_true(mb_auth_uid_allowed(auth_big, 54322));
        g_assert_false(mb_auth_uid_allowed(auth_big, 54323));
        g_assert_true(mb_auth_uid_allowed(auth_target, 54323));
        g_assert_false(mb_auth_uid_allowed(auth_target, 54321));
        struct passwd *nobody = getpwnam("nobody");
        if (nobody != NULL)
            g_assert_false(mb_auth_uid_allowed(auth_big, nobody->pw_uid));
        /* The bind mounts go with the namespace; the copies go here. */
        g_assert_cmpint(umount("/etc/group"), ==, 0);
        g_assert_cmpint(umount("/etc/passwd"), ==, 0);
        mb_test_rm_rf(dir);
        return;
    }
    if (!mb_test_have_root("mount a private /etc/group in a mount namespace"))
        return;
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed();
}

static gboolean
is_null(gpointer data)
{
    return *(gpointer *)data == NULL;
}

static void
on_call_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    GError **error = user_data;
    g_autoptr(GVariant) reply =
        g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, error);

    g_assert_null(reply);
}

/* An authorization still running when the daemon drops the manager and the
 * auth (mb_daemon_stop, mb_daemon_free): the check ends on a live MbAuth
 * (before, ASan saw a use after free). The check is held in its bus round
 * trip by stopping the dbus-daemon. */
static void
test_auth_outlives_daemon(void)
{
    g_autoptr(MbTestBus) bus = mb_test_bus_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) reply_error = NULL;
    g_autoptr(GMainContext) client_context = g_main_context_new();
    g_autoptr(GDBusConnection) client = NULL;
    GPid bus_pid = (GPid)atoi(g_subprocess_get_identifier(bus->bus));
    MbAuth *auth = mb_auth_new("nogroup");
    MbManager *manager = mb_manager_new(NULL, auth);
    gpointer weak = manager;
    GVariantBuilder options;
    gint64 deadline;

    g_object_add_weak_pointer(G_OBJECT(manager), &weak);
    g_assert_true(g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(manager),
                                                   bus->connection, MB_OBJECT_PATH, &error));
    /* The bus policy lets callers reach the service by its name only. */
    g_autoptr(GVariant) owned = g_dbus_connection_call_sync(
        bus->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
        "org.freedesktop.DBus", "RequestName", g_variant_new("(su)", MB_BUS_NAME, 4),
        G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
    g_assert_no_error(error);

    /* The client's sources go to a context of its own: the default one
     * then holds only what reaches the manager. */
    g_main_context_push_thread_default(client_context);
    client = g_dbus_connection_new_for_address_sync(
        bus->address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, &error);
    g_assert_no_error(error);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&options, "{sv}", "bogus", g_variant_new_boolean(TRUE));
    g_dbus_connection_call(
        client, MB_BUS_NAME, MB_OBJECT_PATH, "org.smarttv.MemBalancer", "RegisterVM",
        g_variant_new("(su@a{sv})", "x", 1, g_variant_builder_end(&options)), NULL,
        G_DBUS_CALL_FLAGS_NONE, 20000, NULL, on_call_done, &reply_error);
    g_main_context_pop_thread_default(client_context);

    /* The call waits in the default context: stop the bus, then let the
     * manager start its check, which now hangs on GetConnectionCredentials. */
    deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!g_main_context_pending(NULL) && g_get_monotonic_time() < deadline)
        g_usleep(1000);
    g_assert_true(g_main_context_pending(NULL));
    g_assert_cmpint(kill(bus_pid, SIGSTOP), ==, 0);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_usleep(100000);

    /* What mb_daemon_stop() and mb_daemon_free() do. */
    g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(manager));
    g_object_unref(manager);
    mb_auth_unref(auth);
    g_assert_nonnull(weak); /* the check holds it */

    g_assert_cmpint(kill(bus_pid, SIGCONT), ==, 0);
    deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while (reply_error == NULL && g_get_monotonic_time() < deadline) {
        g_main_context_iteration(NULL, FALSE);
        g_main_context_iteration(client_context, FALSE);
        g_usleep(1000);
    }
    g_assert_nonnull(reply_error);
    g_test_message("reply: %s", reply_error->message);
    /* Authorized (root), but the manager is gone from the bus. */
    g_assert_error(reply_error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
    g_assert_true(mb_test_wait_for(is_null, &weak, 10000));
}

int
main(int argc, char **argv)
{
    mb_test_unit_init(&argc, &argv);
    g_test_add_func("/service/unit/auth-uids", test_auth_uids);
    g_test_add_func("/service/unit/auth-actions", test_auth_actions);
    g_test_add_func("/service/unit/auth-big-group", test_auth_big_group);
    g_test_add_func("/service/unit/auth-outlives-daemon", test_auth_outlives_daemon);
    return mb_test_unit_run();
}
