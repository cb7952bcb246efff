#include "mb-test-bus.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <sys/prctl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mb-daemon.h"

const char *
mb_test_daemon_path(void)
{
    return MB_TEST_DAEMON;
}

const char *
mb_test_ctl_path(void)
{
    return MB_TEST_CTL;
}

char *
mb_test_make_dir(const char *template_name)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp(template_name, &error);

    g_assert_no_error(error);
    g_assert_cmpint(g_chmod(dir, 0755), ==, 0);
    return dir;
}

void
mb_test_rm_rf(const char *path)
{
    g_autoptr(GFile) file = NULL;
    g_autoptr(GFileEnumerator) children = NULL;
    GFileInfo *info;

    if (path == NULL)
        return;
    file = g_file_new_for_path(path);
    children = g_file_enumerate_children(
        file, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
    while (children != NULL &&
           (info = g_file_enumerator_next_file(children, NULL, NULL)) != NULL) {
        g_autofree char *child = g_build_filename(path, g_file_info_get_name(info), NULL);
        if (g_file_info_get_file_type(info) == G_FILE_TYPE_DIRECTORY)
            mb_test_rm_rf(child);
        else
            g_unlink(child);
        g_object_unref(info);
    }
    g_rmdir(path);
}

char *
mb_test_write_file(const char *dir, const char *name, const char *text)
{
    g_autoptr(GError) error = NULL;
    char *path = g_build_filename(dir, name, NULL);

    g_file_set_contents(path, text, -1, &error);
    g_assert_no_error(error);
    return path;
}

/* Children die with the test, even when it crashes or times out. */
static void
die_with_parent(gpointer user_data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocessLauncher *
launcher_new(GSubprocessFlags flags)
{
    GSubprocessLauncher *launcher = g_subprocess_launcher_new(flags);

    g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
    return launcher;
}

static const char bus_config[] =
    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
    "<busconfig>\n"
    "  <listen>unix:path=%s/bus</listen>\n"
    "  <auth>EXTERNAL</auth>\n"
    "  <policy context=\"default\">\n"
    /* Like the system bus: anyone connects, nothing is allowed by default... */
    "    <allow user=\"*\"/>\n"
    "    <deny own=\"*\"/>\n"
    "    <deny send_type=\"method_call\"/>\n"
    "    <allow send_type=\"signal\"/>\n"
    "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
    "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
    "    <allow receive_type=\"method_call\"/>\n"
    "    <allow receive_type=\"method_return\"/>\n"
    "    <allow receive_type=\"error\"/>\n"
    "    <allow receive_type=\"signal\"/>\n"
    "    <allow send_destination=\"org.freedesktop.DBus\"/>\n"
    "  </policy>\n"
    /* ...and our shipped policy opens what it opens (and polkitd's, when asked). */
    "  <include>%s</include>\n"
    "%s"
    "</busconfig>\n";

gboolean
mb_test_bus_name_has_owner(GDBusConnection *connection, const char *name)
{
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
        connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "NameHasOwner", g_variant_new("(s)", name), G_VARIANT_TYPE("(b)"),
        G_DBUS_CALL_FLAGS_NONE, 2000, NULL, NULL);
    gboolean has = FALSE;

    if (reply != NULL)
        g_variant_get(reply, "(b)", &has);
    return has;
}

MbTestBus *
mb_test_bus_new(void)
{
    return mb_test_bus_new_with_include(NULL);
}

MbTestBus *
mb_test_bus_new_with_include(const char *include)
{
    g_autoptr(GError) error = NULL;
    MbTestBus *bus = g_new0(MbTestBus, 1);
    g_autofree char *config = NULL;
    g_autofree char *config_path = NULL;
    g_autofree char *socket = NULL;

    bus->dir = mb_test_make_dir("mb-test-bus-XXXXXX");
    g_autofree char *extra =
        include != NULL ? g_strdup_printf("  <include>%s</include>\n", include) : g_strdup("");

    config = g_strdup_printf(bus_config, bus->dir, MB_TEST_POLICY, extra);
    config_path = mb_test_write_file(bus->dir, "bus.conf", config);
    g_autofree char *arg = g_strdup_printf("--config-file=%s", config_path);
    g_autoptr(GSubprocessLauncher) launcher = launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_autofree char *bus_log = g_build_filename(bus->dir, "dbus-daemon.log", NULL);
    g_subprocess_launcher_set_stderr_file_path(launcher, bus_log);
    bus->bus = g_subprocess_launcher_spawn(launcher, &error, "dbus-daemon", arg, "--nofork",
                                           "--nopidfile", NULL);
    g_assert_no_error(error);
    socket = g_build_filename(bus->dir, "bus", NULL);
    bus->address = g_strdup_printf("unix:path=%s", socket);
    for (int i = 0; i < 500 && bus->connection == NULL; i++) {
        if (g_file_test(socket, G_FILE_TEST_EXISTS)) {
            g_clear_error(&error);
            bus->connection = g_dbus_connection_new_for_address_sync(
                bus->address,
                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, NULL, &error);
        }
        if (bus->connection == NULL)
            g_usleep(10000);
    }
    g_assert_no_error(error);
    g_assert_nonnull(bus->connection);
    g_dbus_connection_set_exit_on_close(bus->connection, FALSE);
    return bus;
}

void
mb_test_bus_free(MbTestBus *bus)
{
    if (bus == NULL)
        return;
    if (bus->connection != NULL) {
        g_dbus_connection_close_sync(bus->connection, NULL, NULL);
        g_clear_object(&bus->connection);
    }
    g_subprocess_send_signal(bus->bus, SIGTERM);
    g_subprocess_wait(bus->bus, NULL, NULL);
    g_clear_object(&bus->bus);
    mb_test_rm_rf(bus->dir);
    g_free(bus->dir);
    g_free(bus->address);
    g_strfreev(bus->daemon_env);
    g_free(bus);
}

static GSubprocess *
spawn_daemon(MbTestBus *bus, gboolean as_system_bus, const char *const *args,
             const char *log_path, GError **error)
{
    g_autoptr(GSubprocessLauncher) launcher = launcher_new(
        log_path != NULL ? G_SUBPROCESS_FLAGS_STDERR_MERGE : G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();

    if (log_path != NULL)
        g_subprocess_launcher_set_stdout_file_path(launcher, log_path);
    /* Criticals must kill the daemon; handled warnings (a corrupt state file) must not. */
    g_subprocess_launcher_setenv(launcher, "G_DEBUG", "fatal-criticals", TRUE);
    g_subprocess_launcher_unsetenv(launcher, "CONFIGURATION_DIRECTORY");
    g_subprocess_launcher_unsetenv(launcher, "STATE_DIRECTORY");
    for (gsize i = 0; bus->daemon_env != NULL && bus->daemon_env[i] != NULL; i++) {
        g_auto(GStrv) kv = g_strsplit(bus->daemon_env[i], "=", 2);

        g_assert_nonnull(kv[1]);
        g_subprocess_launcher_setenv(launcher, kv[0], kv[1], TRUE);
    }
    g_ptr_array_add(argv, (gpointer)mb_test_daemon_path());
    if (as_system_bus) {
        g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS", bus->address, TRUE);
        g_ptr_array_add(argv, (gpointer) "--system");
    } else {
        g_ptr_array_add(argv, (gpointer) "--address");
        g_ptr_array_add(argv, bus->address);
    }
    for (gsize i = 0; args != NULL && args[i] != NULL; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    return g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, error);
}

MbTestDaemon *
mb_test_daemon_spawn(MbTestBus *bus, const char *state_dir, const char *const *args)
{
    return mb_test_daemon_spawn_full(bus, FALSE, state_dir, args);
}

MbTestDaemon *
mb_test_daemon_spawn_full(MbTestBus *bus, gboolean as_system_bus, const char *state_dir,
                          const char *const *args)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(MbTestDaemon) daemon = g_new0(MbTestDaemon, 1);
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    g_autofree char *name = g_strdup_printf("daemon-%d.log", g_random_int_range(0, G_MAXINT));
    g_autofree char *empty_config = mb_test_write_file(bus->dir, "empty.conf", "");
    gboolean has_config = FALSE;

    daemon->log_path = g_build_filename(bus->dir, name, NULL);
    g_ptr_array_add(all, (gpointer) "--backend");
    g_ptr_array_add(all, (gpointer) "fake");
    g_ptr_array_add(all, (gpointer) "--state-dir");
    g_ptr_array_add(all, (gpointer)state_dir);
    for (gsize i = 0; args != NULL && args[i] != NULL; i++) {
        if (g_str_equal(args[i], "--config"))
            has_config = TRUE;
        g_ptr_array_add(all, (gpointer)args[i]);
    }
    /* Hermetic: never the machine's /etc/membalancer. */
    if (!has_config) {
        g_ptr_array_add(all, (gpointer) "--config");
        g_ptr_array_add(all, empty_config);
    }
    g_ptr_array_add(all, NULL);
    daemon->process = spawn_daemon(bus, as_system_bus, (const char *const *)all->pdata,
                                   daemon->log_path, &error);
    g_assert_no_error(error);
    for (int i = 0; i < 1500; i++) {
        if (mb_test_bus_name_has_owner(bus->connection, MB_BUS_NAME))
            return g_steal_pointer(&daemon);
        if (!mb_test_daemon_alive(daemon))
            break;
        g_usleep(10000);
    }
    g_autofree char *log = mb_test_daemon_log(daemon);
    g_test_message("membalancerd did not come up; its log:\n%s", log);
    return NULL;
}

int
mb_test_daemon_run_fail(MbTestBus *bus, const char *const *args, char **out_stderr)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) process = spawn_daemon(bus, FALSE, args, NULL, &error);
    g_autofree char *err = NULL;

    g_assert_no_error(error);
    g_subprocess_communicate_utf8(process, NULL, NULL, NULL, &err, &error);
    g_assert_no_error(error);
    g_subprocess_wait(process, NULL, &error);
    g_assert_no_error(error);
    if (out_stderr != NULL)
        *out_stderr = g_steal_pointer(&err);
    if (g_subprocess_get_if_signaled(process))
        return -g_subprocess_get_term_sig(process);
    return g_subprocess_get_exit_status(process);
}

gboolean
mb_test_daemon_alive(MbTestDaemon *daemon)
{
    return g_subprocess_get_identifier(daemon->process) != NULL;
}

int
mb_test_daemon_stop(MbTestDaemon *daemon)
{
    g_subprocess_send_signal(daemon->process, SIGTERM);
    g_subprocess_wait(daemon->process, NULL, NULL);
    if (g_subprocess_get_if_signaled(daemon->process))
        return -g_subprocess_get_term_sig(daemon->process);
    return g_subprocess_get_exit_status(daemon->process);
}

void
mb_test_daemon_stop_clean(MbTestDaemon **daemon)
{
    int status;

    if (*daemon == NULL)
        return;
    status = mb_test_daemon_stop(*daemon);
    if (status != 0) {
        g_autofree char *log = mb_test_daemon_log(*daemon);
        g_test_message("membalancerd log:\n%s", log);
    }
    g_assert_cmpint(status, ==, 0);
    g_clear_pointer(daemon, mb_test_daemon_free);
}

void
mb_test_daemon_kill9(MbTestDaemon *daemon)
{
    g_subprocess_force_exit(daemon->process);
    g_subprocess_wait(daemon->process, NULL, NULL);
}

char *
mb_test_daemon_log(MbTestDaemon *daemon)
{
    char *text = NULL;

    if (!g_file_get_contents(daemon->log_path, &text, NULL, NULL))
        return g_strdup("");
    return text;
}

void
mb_test_daemon_free(MbTestDaemon *daemon)
{
    if (daemon == NULL)
        return;
    if (daemon->process != NULL) {
        if (mb_test_daemon_alive(daemon))
            mb_test_daemon_kill9(daemon);
        g_object_unref(daemon->process);
    }
    g_free(daemon->log_path);
    g_free(daemon);
}

int
mb_test_run(gboolean unprivileged, const char *const *argv, char **out_stdout,
            char **out_stderr)
{
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) process = NULL;
    g_autofree char *out = NULL, *err = NULL;

    if (unprivileged) {
        g_ptr_array_add(all, (gpointer) "setpriv");
        g_ptr_array_add(all, (gpointer) "--reuid=nobody");
        g_ptr_array_add(all, (gpointer) "--regid=nogroup");
        g_ptr_array_add(all, (gpointer) "--clear-groups");
        g_ptr_array_add(all, (gpointer) "--");
    }
    for (gsize i = 0; argv[i] != NULL; i++)
        g_ptr_array_add(all, (gpointer)argv[i]);
    g_ptr_array_add(all, NULL);
    g_autoptr(GSubprocessLauncher) launcher =
        launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    process = g_subprocess_launcher_spawnv(launcher, (const char *const *)all->pdata, &error);
    g_assert_no_error(error);
    g_subprocess_communicate_utf8(process, NULL, NULL, &out, &err, &error);
    g_assert_no_error(error);
    g_subprocess_wait(process, NULL, &error);
    g_assert_no_error(error);
    if (out_stdout != NULL)
        *out_stdout = g_steal_pointer(&out);
    if (out_stderr != NULL)
        *out_stderr = g_steal_pointer(&err);
    if (g_subprocess_get_if_signaled(process))
        return -g_subprocess_get_term_sig(process);
    return g_subprocess_get_exit_status(process);
}

void
mb_test_run_for(guint ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;

    while (g_get_monotonic_time() < end) {
        while (g_main_context_iteration(NULL, FALSE))
            ;
        g_usleep(10000);
    }
}

gboolean
mb_test_wait_for(gboolean (*cond)(gpointer data), gpointer data, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (!cond(data)) {
        if (g_get_monotonic_time() > deadline)
            return FALSE;
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    return TRUE;
}

gboolean
mb_test_flag_is_set(gpointer flag)
{
    return *(gboolean *)flag;
}

void
mb_test_set_flag(gpointer flag)
{
    *(gboolean *)flag = TRUE;
}

const char *
mb_test_service_warning(GLogLevelFlags level, const GLogField *fields, gsize n_fields)
{
    const char *domain = NULL, *message = NULL;

    for (gsize i = 0; i < n_fields; i++) {
        if (g_str_equal(fields[i].key, "GLIB_DOMAIN"))
            domain = fields[i].value;
        else if (g_str_equal(fields[i].key, "MESSAGE"))
            message = fields[i].value;
    }
    if (g_strcmp0(domain, "membalancer") != 0 || !(level & G_LOG_LEVEL_WARNING))
        return NULL;
    return message != NULL ? message : "";
}

static GMutex warnings_lock;
static GPtrArray *warnings; /* guarded by warnings_lock */

static GLogWriterOutput
warnings_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                gpointer user_data)
{
    const char *message = mb_test_service_warning(level, fields, n_fields);

    if (message != NULL) {
        g_mutex_lock(&warnings_lock);
        g_ptr_array_add(warnings, g_strdup(message));
        g_mutex_unlock(&warnings_lock);
        g_test_message("service warning: %s", message);
        return G_LOG_WRITER_HANDLED;
    }
    return g_log_writer_default(level, fields, n_fields, user_data);
}

void
mb_test_warnings_capture(void)
{
    warnings = g_ptr_array_new_with_free_func(g_free);
    g_log_set_writer_func(warnings_writer, NULL, NULL);
}

void
mb_test_warnings_clear(void)
{
    g_mutex_lock(&warnings_lock);
    g_ptr_array_set_size(warnings, 0);
    g_mutex_unlock(&warnings_lock);
}

guint
mb_test_warnings_count(const char *part)
{
    guint n = 0;

    g_mutex_lock(&warnings_lock);
    for (guint i = 0; i < warnings->len; i++)
        n += strstr(g_ptr_array_index(warnings, i), part) != NULL;
    g_mutex_unlock(&warnings_lock);
    return n;
}

guint64
mb_test_proc_status_kib(GPid pid, const char *key)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
    g_autofree char *text = NULL;
    const char *line;

    if (!g_file_get_contents(path, &text, NULL, NULL) || (line = strstr(text, key)) == NULL)
        return 0;
    return g_ascii_strtoull(line + strlen(key), NULL, 10);
}

guint64
mb_test_proc_cpu_us(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
    g_autofree char *text = NULL;
    g_auto(GStrv) fields = NULL;
    const char *after;
    long ticks = sysconf(_SC_CLK_TCK);

    if (!g_file_get_contents(path, &text, NULL, NULL) || (after = strrchr(text, ')')) == NULL)
        return 0;
    fields = g_strsplit(after + 2, " ", -1);
    /* fields[0] is state (field 3): utime is field 14, stime 15. */
    return (g_ascii_strtoull(fields[11], NULL, 10) + g_ascii_strtoull(fields[12], NULL, 10)) *
           G_USEC_PER_SEC / (guint64)ticks;
}

int
mb_test_listen_unix(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd;

    g_assert_cmpuint(strlen(path), <, sizeof(addr.sun_path));
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(fd, 4), ==, 0);
    return fd;
}

void
mb_test_write_all(int fd, const char *data, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        g_assert_cmpint(n, >, 0);
        data += n;
        len -= (gsize)n;
    }
}

void
mb_test_write_str(int fd, const char *text)
{
    mb_test_write_all(fd, text, strlen(text));
}

char *
mb_test_german_locale(const char *dir)
{
    g_autofree char *locpath = g_build_filename(dir, "locale", NULL);
    g_autofree char *target = g_build_filename(locpath, "de_DE.UTF-8", NULL);
    g_autofree char *messages = g_build_filename(target, "LC_MESSAGES", NULL);
    g_autofree char *numeric = g_build_filename(target, "LC_NUMERIC", NULL);
    g_autofree char *err = NULL;
    int status;

    /* Always our own copy, also where the system has de_DE.UTF-8 generated:
     * the tests then take the same path on every machine (LOCPATH), instead
     * of one path where the locale is generated and another where not. */
    g_assert_cmpint(g_mkdir_with_parents(locpath, 0755), ==, 0);
    /* Exit status 1 is "warnings, written anyway": the directory tells. */
    const char *const argv[] = {"localedef", "-c", "-i", "de_DE", "-f", "UTF-8", target, NULL};
    status = mb_test_run(FALSE, argv, NULL, &err);
    if (!g_file_test(messages, G_FILE_TEST_EXISTS) || !g_file_test(numeric, G_FILE_TEST_EXISTS))
        g_error("localedef could not compile de_DE.UTF-8 (status %d: %s): install the "
                "locales package",
                status, err);
    return g_steal_pointer(&locpath);
}

guint
mb_test_count_entries(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    guint n = 0;

    while (d != NULL && g_dir_read_name(d) != NULL)
        n++;
    return n;
}

void
mb_test_block_aside(const char *state_path, guint seconds)
{
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;

    for (gint64 t = now; t < now + seconds; t++) {
        for (guint i = 0; i < 100; i++) {
            g_autofree char *name =
                i == 0
                    ? g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT, state_path, t)
                    : g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT "-%u", state_path, t, i);
            int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

            g_assert_cmpint(fd, >=, 0);
            close(fd);
        }
    }
}

guint
mb_test_count_occurrences(const char *text, const char *what)
{
    guint n = 0;

    for (const char *p = strstr(text, what); p != NULL; p = strstr(p + 1, what))
        n++;
    return n;
}

static void
trace_line_clear(gpointer data)
{
    g_free(((MbTestTraceLine *)data)->name);
}

GArray *
mb_test_trace_read(const char *path, gboolean whole)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GError) error = NULL;
    GArray *out = g_array_new(FALSE, TRUE, sizeof(MbTestTraceLine));
    char *end;

    g_array_set_clear_func(out, trace_line_clear);
    g_assert_true(g_file_get_contents(path, &text, NULL, &error));
    g_assert_no_error(error);
    if (whole)
        g_assert_true(g_str_has_suffix(text, "\n"));
    end = strrchr(text, '\n');
    *(end != NULL ? end : text) = '\0';
    lines = g_strsplit(text, "\n", -1);
    for (gsize i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], " ", -1);
        MbTestTraceLine line;
        guint64 us;

        g_assert_cmpuint(g_strv_length(f), ==, 4);
        g_assert_true(g_ascii_string_to_unsigned(f[0], 10, 0, G_MAXINT64, &us, NULL));
        line.us = (gint64)us;
        line.name = g_strdup(f[1]);
        g_assert_true(
            g_ascii_string_to_unsigned(f[2], 10, 0, G_MAXUINT64, &line.current_kib, NULL));
        g_assert_true(
            g_ascii_string_to_unsigned(f[3], 10, 0, G_MAXUINT64, &line.target_kib, NULL));
        g_array_append_val(out, line);
    }
    return out;
}
