/* Authorization through polkit: the real polkitd on the test bus, which
 * the daemon takes for its system bus. polkitd runs in a mount namespace of
 * its own (unshare -m) where the build's actions file and the shipped rules
 * are bind-mounted over /usr/share/polkit-1/{actions,rules.d} (the
 * machine's rules hidden) and /etc/group has a group membalancer with the
 * user daemon in it: only polkitd sees them. Clients run as daemon and as
 * nobody (setpriv). Also: a daemon on a system bus
 * where no polkit authority answers falls back to the group check. */
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mb-daemon.h"
#include "mb-error.h"
#include "mb-test-service.h"

/* The member: a user the machine has (dbus-daemon refuses uids without
 * one), in a group membalancer only polkitd's /etc/group has. */
#define MEMBER "daemon"
#define MEMBER_GROUP_GID "54341"
#define POLKIT_NAME "org.freedesktop.PolicyKit1"

static const char *const polkitd_paths[] = {"/usr/lib/polkit-1/polkitd", "/usr/libexec/polkitd",
                                            "/usr/lib/policykit-1/polkitd"};

static const char *
polkitd_path(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(polkitd_paths); i++) {
        if (g_file_test(polkitd_paths[i], G_FILE_TEST_IS_EXECUTABLE))
            return polkitd_paths[i];
    }
    return NULL;
}

/* Why the tests cannot run here, or NULL. */
static char *
unavailable(gboolean need_polkitd)
{
    const char *const tools[] = {"setpriv", "unshare", "mount", "busctl", "dbus-daemon"};

    if (getuid() != 0)
        return g_strdup_printf("the tests run as uid %u, not root: polkitd, the mount "
                               "namespace and setpriv need root",
                               (guint)getuid());
    if (getpwnam("nobody") == NULL || getgrnam("nogroup") == NULL)
        return g_strdup("no user nobody or no group nogroup on this system");
    for (gsize i = 0; i < G_N_ELEMENTS(tools); i++) {
        g_autofree char *path = g_find_program_in_path(tools[i]);
        if (path == NULL)
            return g_strdup_printf("%s is not installed", tools[i]);
    }
    if (need_polkitd && polkitd_path() == NULL)
        return g_strdup("polkitd is not installed (Debian: polkitd)");
    if (need_polkitd && !g_file_test(MB_TEST_POLKIT_BUS_CONF, G_FILE_TEST_EXISTS))
        return g_strdup("no " MB_TEST_POLKIT_BUS_CONF " (polkitd's bus policy)");
    if (need_polkitd && getpwnam(MEMBER) == NULL)
        return g_strdup("no user " MEMBER " (the member of membalancer in the tests)");
    if (need_polkitd && getpwnam("polkitd") == NULL)
        return g_strdup("no user polkitd (polkitd drops to it)");
    return NULL;
}

/* Outside CI a test that cannot run is skipped with the reason; with
 * CI=true it fails. */
static gboolean
can_run(gboolean need_polkitd)
{
    g_autofree char *why = unavailable(need_polkitd);

    if (why == NULL)
        return TRUE;
    if (g_strcmp0(g_getenv("CI"), "true") == 0)
        g_test_fail_printf("CI=true: must run: %s", why);
    else
        g_test_skip(why);
    return FALSE;
}

typedef struct {
    MbTestBus *bus;
    char *dir; /* polkitd's files */
    GSubprocess *polkitd;
    char *polkitd_log;
    char *state_dir;
    MbTestDaemon *daemon;
} PkFixture;

/* /etc/NAME without lines starting with drop, plus extra. */
static char *
etc_copy(const char *dir, const char *name, const char *drop, const char *extra)
{
    g_autofree char *etc = g_build_filename("/etc", name, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    g_auto(GStrv) lines = NULL;

    g_assert_true(g_file_get_contents(etc, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        if (lines[i][0] != '\0' && !g_str_has_prefix(lines[i], drop))
            g_string_append_printf(out, "%s\n", lines[i]);
    }
    g_string_append(out, extra);
    return mb_test_write_file(dir, name, out->str);
}

/* polkitd on the fixture's bus; with_actions FALSE: no actions file (polkit
 * then answers every check with an error). */
static void
start_polkitd(PkFixture *f, gboolean with_actions)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *actions = g_build_filename(f->dir, "actions", NULL);
    g_autofree char *rules = g_build_filename(f->dir, "rules.d", NULL);
    g_autofree char *policy_text = NULL, *rules_text = NULL;
    g_autofree char *group = NULL, *script = NULL;
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);

    g_assert_cmpint(g_mkdir(actions, 0755), ==, 0);
    g_assert_cmpint(g_mkdir(rules, 0755), ==, 0);
    if (with_actions) {
        g_assert_true(g_file_get_contents(MB_TEST_POLKIT_POLICY, &policy_text, NULL, NULL));
        g_free(mb_test_write_file(actions, "org.smarttv.MemBalancer.policy", policy_text));
    }
    g_assert_true(g_file_get_contents(MB_TEST_POLKIT_RULES, &rules_text, NULL, NULL));
    g_free(mb_test_write_file(rules, "membalancer.rules", rules_text));
    group = etc_copy(f->dir, "group",
                     "membalancer:", "membalancer:x:" MEMBER_GROUP_GID ":" MEMBER "\n");
    g_assert_cmpint(g_chmod(group, 0644), ==, 0);
    script = g_strdup_printf(
        "set -e; mount --make-rprivate /; "
        "mount --bind '%s' /usr/share/polkit-1/actions; "
        "mount --bind '%s' /usr/share/polkit-1/rules.d; "
        "if [ -d /etc/polkit-1/rules.d ]; then mount -t tmpfs tmpfs /etc/polkit-1/rules.d; fi; "
        "mount --bind '%s' /etc/group; exec '%s'",
        actions, rules, group, polkitd_path());
    f->polkitd_log = g_build_filename(f->dir, "polkitd.log", NULL);
    g_subprocess_launcher_set_stdout_file_path(launcher, f->polkitd_log);
    g_subprocess_launcher_take_stderr_fd(launcher, -1);
    g_subprocess_launcher_set_flags(launcher, G_SUBPROCESS_FLAGS_STDERR_MERGE);
    g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS", f->bus->address, TRUE);
    f->polkitd = g_subprocess_launcher_spawn(launcher, &error, "unshare", "-m", "--", "sh",
                                             "-c", script, NULL);
    g_assert_no_error(error);
    for (int i = 0; i < 1000 && !mb_test_bus_name_has_owner(f->bus->connection, POLKIT_NAME);
         i++) {
        if (g_subprocess_get_identifier(f->polkitd) == NULL)
            break; /* exited */
        g_usleep(10000);
    }
    if (!mb_test_bus_name_has_owner(f->bus->connection, POLKIT_NAME)) {
        g_autofree char *log = NULL;
        g_file_get_contents(f->polkitd_log, &log, NULL, NULL);
        g_test_message("polkitd did not come up; its log:\n%s", log);
    }
    g_assert_true(mb_test_bus_name_has_owner(f->bus->connection, POLKIT_NAME));
}

static void
pk_setup(PkFixture *f, gboolean with_polkitd)
{
    f->bus = mb_test_bus_new_with_include(with_polkitd ? MB_TEST_POLKIT_BUS_CONF : NULL);
    f->dir = mb_test_make_dir("mb-test-polkit-XXXXXX");
    f->state_dir = g_build_filename(f->bus->dir, "state", NULL);
}

static void
pk_start_daemon(PkFixture *f, const char *const *args)
{
    f->daemon = mb_test_daemon_spawn_full(f->bus, TRUE, f->state_dir, args);
    g_assert_nonnull(f->daemon);
}

static void
pk_teardown(PkFixture *f)
{
    if (f->daemon != NULL) {
        int status = mb_test_daemon_stop(f->daemon);
        g_autofree char *log = mb_test_daemon_log(f->daemon);

        if (status != 0)
            g_test_message("membalancerd log:\n%s", log);
        g_assert_cmpint(status, ==, 0);
        g_clear_pointer(&f->daemon, mb_test_daemon_free);
    }
    if (f->polkitd != NULL) {
        g_autofree char *log = NULL;

        g_file_get_contents(f->polkitd_log, &log, NULL, NULL);
        g_test_message("polkitd log:\n%s", log);
        g_subprocess_send_signal(f->polkitd, SIGTERM);
        g_subprocess_wait(f->polkitd, NULL, NULL);
        g_clear_object(&f->polkitd);
    }
    g_free(f->polkitd_log);
    g_free(f->state_dir);
    mb_test_rm_rf(f->dir);
    g_free(f->dir);
    g_clear_pointer(&f->bus, mb_test_bus_free);
}

/* busctl as a user (setpriv): busctl's arguments after the address;
 * returns the exit status, fills stderr. */
static int
busctl_as(const char *user, const char *group, const char *address, gboolean interactive,
          const char *const *args, char **err)
{
    g_autofree char *reuid = g_strdup_printf("--reuid=%s", user);
    g_autofree char *regid = g_strdup_printf("--regid=%s", group);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *out = NULL;
    int status;
    const char *const head[] = {"setpriv",
                                reuid,
                                regid,
                                "--clear-groups",
                                "--",
                                "busctl",
                                "--address",
                                address,
                                interactive ? "--allow-interactive-authorization=yes"
                                            : "--allow-interactive-authorization=no"};

    for (gsize i = 0; i < G_N_ELEMENTS(head); i++)
        g_ptr_array_add(argv, (gpointer)head[i]);
    for (gsize i = 0; args[i] != NULL; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    status = mb_test_run(FALSE, (const char *const *)argv->pdata, &out, err);
    g_test_message("as %s: %s -> %d %s", user, args[4], status, *err);
    return status;
}

#define CALL(...)                                                                              \
    ((const char *const[]){"call", MB_BUS_NAME, MB_OBJECT_PATH, MANAGER_IFACE, __VA_ARGS__,    \
                           NULL})
#define SET_PAUSED(value)                                                                      \
    ((const char *const[]){"set-property", MB_BUS_NAME, MB_OBJECT_PATH, MANAGER_IFACE,         \
                           "Paused", "b", value, NULL})

static void
expect_refused(const char *address, const char *user, const char *group, gboolean interactive,
               const char *const *args, const char *action, const char *group_named)
{
    g_autofree char *err = NULL;
    g_autofree char *want =
        g_strdup_printf("(not authorized for %s): ask an administrator, or join group '%s'",
                        action, group_named);

    g_assert_cmpint(busctl_as(user, group, address, interactive, args, &err), !=, 0);
    g_assert_nonnull(strstr(err, want));
}

static void
expect_allowed(const char *address, const char *user, const char *group,
               const char *const *args)
{
    g_autofree char *err = NULL;

    g_assert_cmpint(busctl_as(user, group, address, FALSE, args, &err), ==, 0);
}

static MbMemBalancer *
manager_proxy(PkFixture *f)
{
    g_autoptr(GError) error = NULL;
    MbMemBalancer *manager = mb_mem_balancer_proxy_new_sync(
        f->bus->connection, G_DBUS_PROXY_FLAGS_NONE, MB_BUS_NAME, MB_OBJECT_PATH, NULL, &error);

    g_assert_no_error(error);
    return manager;
}

/* From the daemon, not the proxy's cache. */
static guint
vm_count(PkFixture *f)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
        f->bus->connection, MB_BUS_NAME, MB_OBJECT_PATH, "org.freedesktop.DBus.Properties",
        "Get", g_variant_new("(ss)", MANAGER_IFACE, "VMCount"), G_VARIANT_TYPE("(v)"),
        G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
    g_autoptr(GVariant) value = NULL;

    g_assert_no_error(error);
    g_variant_get(reply, "(v)", &value);
    return g_variant_get_uint32(value);
}

/* polkitd answers: a member of its group membalancer (a group the daemon's
 * own user database does not know) may change things, nobody may not, and
 * is told what to do. */
static void
test_polkit_real(void)
{
    PkFixture fixture = {0}, *f = &fixture;
    g_autoptr(MbMemBalancer) manager = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL, *log = NULL, *err = NULL;
    const char *a;

    if (!can_run(TRUE))
        return;
    pk_setup(f, TRUE);
    a = f->bus->address;
    start_polkitd(f, TRUE);
    pk_start_daemon(f, mb_test_fast_args);
    manager = manager_proxy(f);
    /* Root is never asked about. */
    g_assert_true(mb_mem_balancer_call_register_vm_sync(
        manager, "game", 80, g_variant_new("a{sv}", NULL), &path, NULL, &error));
    g_assert_no_error(error);

#ifdef MB_TEST_HAVE_POLKIT
    /* The member: every action, by polkit's rule alone. */
    expect_allowed(a, MEMBER, MEMBER, CALL("SetPriority", "su", "game", "7"));
    expect_allowed(a, MEMBER, MEMBER, CALL("SetForeground", "s", "game"));
    expect_allowed(a, MEMBER, MEMBER, SET_PAUSED("true"));
    expect_allowed(a, MEMBER, MEMBER, SET_PAUSED("false"));
    expect_allowed(a, MEMBER, MEMBER, CALL("Rebalance"));
    expect_allowed(a, MEMBER, MEMBER, CALL("RegisterVM", "sua{sv}", "video", "5", "0"));
    expect_allowed(a, MEMBER, MEMBER, CALL("UnregisterVM", "s", "video"));
    g_assert_cmpuint(vm_count(f), ==, 1);

    /* nobody: refused, each with its action, interactive or not (no
     * session, no agent: allow_any is no). */
    expect_refused(a, "nobody", "nogroup", FALSE, CALL("SetPriority", "su", "game", "1"),
                   "org.smarttv.MemBalancer.configure", "membalancer");
    expect_refused(a, "nobody", "nogroup", TRUE, CALL("SetPriority", "su", "game", "1"),
                   "org.smarttv.MemBalancer.configure", "membalancer");
    expect_refused(a, "nobody", "nogroup", FALSE,
                   CALL("RegisterVM", "sua{sv}", "evil", "5", "0"),
                   "org.smarttv.MemBalancer.register", "membalancer");
    expect_refused(a, "nobody", "nogroup", FALSE, CALL("Rebalance"),
                   "org.smarttv.MemBalancer.control", "membalancer");
    expect_refused(a, "nobody", "nogroup", FALSE, SET_PAUSED("true"),
                   "org.smarttv.MemBalancer.control", "membalancer");
    /* The daemon's group (--group nogroup would let nobody in without
     * polkit) is not asked: polkit decides. */
    g_assert_cmpuint(vm_count(f), ==, 1);
    log = mb_test_daemon_log(f->daemon);
    g_assert_nonnull(strstr(log, "authorizing through polkit"));
    g_assert_null(strstr(log, "no polkit authority answers"));
#else
    /* Built without polkit: the group check only, though polkitd answers. */
    expect_refused(a, MEMBER, MEMBER, FALSE, CALL("SetPriority", "su", "game", "7"),
                   "org.smarttv.MemBalancer.configure", "membalancer");
    g_assert_cmpuint(vm_count(f), ==, 1);
    log = mb_test_daemon_log(f->daemon);
    g_assert_cmpuint(mb_test_count_occurrences(log, "polkit"), ==, 0);
#endif
    pk_teardown(f);
}

#ifdef MB_TEST_HAVE_POLKIT
/* polkit answers with an error (our actions are not installed): refused,
 * members too. (Built without polkit there is no polkit error to fail on.) */
static void
test_polkit_error(void)
{
    PkFixture fixture = {0}, *f = &fixture;
    g_autofree char *err = NULL;

    if (!can_run(TRUE))
        return;
    pk_setup(f, TRUE);
    start_polkitd(f, FALSE);
    pk_start_daemon(f, mb_test_fast_args);
    g_assert_cmpint(busctl_as(MEMBER, MEMBER, f->bus->address, FALSE, CALL("Rebalance"), &err),
                    !=, 0);
    g_assert_nonnull(strstr(err, "polkit could not decide whether uid "));
    g_assert_nonnull(strstr(err, " may do org.smarttv.MemBalancer.control"));
    pk_teardown(f);
}
#endif

/* One connection of nobody with many calls in flight, against polkit: all
 * refused (denied, or "try again" past the bound of 128 per caller), the
 * daemon alive. Run as nobody: this program with --flood. */
static int
flood_main(const char *address, guint n_calls)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusConnection) c = g_dbus_connection_new_for_address_sync(
        address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, &error);
    MbTestFlood flood = {0};

    g_assert_no_error(error);
    for (guint i = 0; i < n_calls; i++) {
        gboolean prio = i % 2 == 0;

        g_dbus_connection_call(
            c, MB_BUS_NAME, MB_OBJECT_PATH, MANAGER_IFACE, prio ? "SetPriority" : "Rebalance",
            prio ? g_variant_new("(su)", "game", 1) : NULL, NULL, G_DBUS_CALL_FLAGS_NONE, 60000,
            NULL, mb_test_flood_reply, &flood);
        flood.pending++;
    }
    while (flood.pending > 0)
        g_main_context_iteration(NULL, TRUE);
    printf("denied=%u busy=%u other=%u (first: %s)\n", flood.denied, flood.busy, flood.other,
           flood.first_other != NULL ? flood.first_other : "none");
    g_free(flood.first_other);
    return 0;
}

static void
test_polkit_flood(void)
{
    PkFixture fixture = {0}, *f = &fixture;
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(MbMemBalancer) manager = NULL;
    guint denied, busy, other;

    if (!can_run(TRUE))
        return;
    pk_setup(f, TRUE);
    start_polkitd(f, TRUE);
    pk_start_daemon(f, mb_test_fast_args);
    manager = manager_proxy(f);
    /* What reaches polkitd: dbus-monitor (root may become a monitor). */
    g_autofree char *monitor_log = g_build_filename(f->dir, "monitor.log", NULL);
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_autoptr(GSubprocess) monitor = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *monitored = NULL;

    g_subprocess_launcher_set_stdout_file_path(launcher, monitor_log);
    monitor = g_subprocess_launcher_spawn(
        launcher, &error, "dbus-monitor", "--address", f->bus->address,
        "type='method_call',interface='org.freedesktop.PolicyKit1.Authority',"
        "member='CheckAuthorization'",
        NULL);
    g_assert_no_error(error);
    g_usleep(300000);
    const char *const flood[] = {"setpriv",
                                 "--reuid=nobody",
                                 "--regid=nogroup",
                                 "--clear-groups",
                                 "--",
                                 self,
                                 "--flood",
                                 f->bus->address,
                                 "120",
                                 NULL};
    g_assert_cmpint(mb_test_run(FALSE, flood, &out, &err), ==, 0);
    g_test_message("flood: %s%s", out, err);
    g_assert_cmpint(sscanf(out, "denied=%u busy=%u other=%u", &denied, &busy, &other), ==, 3);
    g_assert_cmpuint(other, ==, 0);
    g_assert_cmpuint(denied, >, 0);
    g_assert_true(mb_test_daemon_alive(f->daemon));
    g_usleep(300000);
    g_subprocess_send_signal(monitor, SIGTERM);
    g_subprocess_wait(monitor, NULL, NULL);
    g_assert_true(g_file_get_contents(monitor_log, &monitored, NULL, NULL));
    /* One check per action (SetPriority: configure, Rebalance: control)
     * while the calls wait, again when a cached answer (1 s) expires: not
     * one per call. */
    guint n_checks = mb_test_count_occurrences(monitored, "member=CheckAuthorization");
    g_test_message("polkit checks for %u calls: %u", denied + busy + other, n_checks);
#ifdef MB_TEST_HAVE_POLKIT
    g_assert_cmpuint(n_checks, >=, 2);
    g_assert_cmpuint(n_checks, <=, 12);
#else
    g_assert_cmpuint(n_checks, ==, 0); /* the group check only */
#endif
    /* Still answering. */
    g_assert_cmpstr(mb_mem_balancer_get_backend(manager), ==, "fake");
    pk_teardown(f);
}

/* Built with polkit, on a system bus where no authority answers: the group
 * check, said once in the log. */
static void
test_polkit_absent(void)
{
    PkFixture fixture = {0}, *f = &fixture;
    static const char *const group_args[] = {"--interval-ms", "100", "--group", "nogroup",
                                             NULL};
    g_autoptr(MbMemBalancer) manager = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL, *log = NULL;
    const char *a;

    if (!can_run(FALSE))
        return;
    pk_setup(f, FALSE);
    a = f->bus->address;
    pk_start_daemon(f, mb_test_fast_args);
    manager = manager_proxy(f);
    g_assert_true(mb_mem_balancer_call_register_vm_sync(
        manager, "game", 80, g_variant_new("a{sv}", NULL), &path, NULL, &error));
    g_assert_no_error(error);
    for (guint i = 0; i < 3; i++)
        expect_refused(a, "nobody", "nogroup", FALSE, CALL("SetPriority", "su", "game", "1"),
                       "org.smarttv.MemBalancer.configure", "membalancer");
    expect_refused(a, "nobody", "nogroup", FALSE, CALL("Rebalance"),
                   "org.smarttv.MemBalancer.control", "membalancer");
    log = mb_test_daemon_log(f->daemon);
    g_test_message("membalancerd log:\n%s", log);
#ifdef MB_TEST_HAVE_POLKIT
    g_assert_cmpuint(
        mb_test_count_occurrences(log, "no polkit authority answers on the system bus"), ==, 1);
#else
    g_assert_cmpuint(mb_test_count_occurrences(log, "polkit"), ==, 0);
#endif
    g_assert_cmpint(mb_test_daemon_stop(f->daemon), ==, 0);
    g_clear_pointer(&f->daemon, mb_test_daemon_free);

    /* The configured group lets its members in (nobody's own group, as the
     * bus says: UnixGroupIDs). */
    pk_start_daemon(f, group_args);
    expect_allowed(a, "nobody", "nogroup", CALL("SetPriority", "su", "game", "7"));
    expect_allowed(a, "nobody", "nogroup", SET_PAUSED("true"));
    pk_teardown(f);
}

int
main(int argc, char **argv)
{
    if (argc == 4 && g_str_equal(argv[1], "--flood"))
        return flood_main(argv[2], (guint)atoi(argv[3]));
    g_test_init(&argc, &argv, NULL);
    (void)mb_service_error_quark();
    g_test_add_func("/service/polkit/real", test_polkit_real);
#ifdef MB_TEST_HAVE_POLKIT
    g_test_add_func("/service/polkit/error", test_polkit_error);
#endif
    g_test_add_func("/service/polkit/flood", test_polkit_flood);
    g_test_add_func("/service/polkit/absent", test_polkit_absent);
    return g_test_run();
}
