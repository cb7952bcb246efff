/* Test helpers: a private dbus-daemon that unprivileged users can reach,
 * the real membalancerd spawned on it, and outside clients (busctl,
 * gdbus, membalancerctl) run as root or as nobody. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
    char *dir; /* 0755 temporary directory */
    char *address;
    GSubprocess *bus;
    GDBusConnection *connection; /* the test's own (root) connection */
    char **daemon_env;           /* KEY=VALUE set for each daemon spawned, or NULL */
} MbTestBus;

MbTestBus *mb_test_bus_new(void);
/* The same, with one more bus configuration file included (polkitd's). */
MbTestBus *mb_test_bus_new_with_include(const char *include);
void mb_test_bus_free(MbTestBus *bus);
/* The bus has an owner for name (a blocking NameHasOwner, 2 s at most). */
gboolean mb_test_bus_name_has_owner(GDBusConnection *connection, const char *name);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MbTestBus, mb_test_bus_free)

typedef struct {
    GSubprocess *process;
    char *log_path;
} MbTestDaemon;

/* A fresh temporary directory (removed by mb_test_rm_rf). */
char *mb_test_make_dir(const char *template_name);
/* The number of entries in dir (0 when it cannot be read). */
guint mb_test_count_entries(const char *dir);
void mb_test_rm_rf(const char *path);
/* Writes text to dir/name and returns the path. */
char *mb_test_write_file(const char *dir, const char *name, const char *text);
/* Takes every name the state store would move a corrupt state_path to
 * during the next seconds (state_path.corrupt-<t>[-i]): its move fails. */
void mb_test_block_aside(const char *state_path, guint seconds);

/* Spawns membalancerd --address BUS --backend fake --state-dir STATE
 * [args...] and waits until it owns the name; NULL (and the log printed)
 * if it exits first or does not come up in time. */
MbTestDaemon *mb_test_daemon_spawn(MbTestBus *bus, const char *state_dir,
                                   const char *const *args);
/* The same; as_system_bus: --system, with DBUS_SYSTEM_BUS_ADDRESS set to
 * the test bus (the daemon then takes it for the system bus: polkit). */
MbTestDaemon *mb_test_daemon_spawn_full(MbTestBus *bus, gboolean as_system_bus,
                                        const char *state_dir, const char *const *args);
/* Runs membalancerd expecting it to fail at start: returns its exit
 * status and fills *out_stderr. */
int mb_test_daemon_run_fail(MbTestBus *bus, const char *const *args, char **out_stderr);
/* SIGTERM, then waits; returns the exit status (-signal when killed). */
int mb_test_daemon_stop(MbTestDaemon *daemon);
/* Stops *daemon (if any) with SIGTERM, asserts exit status 0 (under ASan:
 * no leak; the log is shown otherwise) and frees it. */
void mb_test_daemon_stop_clean(MbTestDaemon **daemon);
/* SIGKILL, then waits. */
void mb_test_daemon_kill9(MbTestDaemon *daemon);
gboolean mb_test_daemon_alive(MbTestDaemon *daemon);
char *mb_test_daemon_log(MbTestDaemon *daemon);
void mb_test_daemon_free(MbTestDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MbTestDaemon, mb_test_daemon_free)

/* Runs a command (as nobody when unprivileged, through setpriv), returns
 * its exit status, fills stdout and stderr. */
int mb_test_run(gboolean unprivileged, const char *const *argv, char **out_stdout,
                char **out_stderr);

/* Iterates the default main context until cond(data) or timeout_ms. */
/* Runs the default main context for ms milliseconds. */
void mb_test_run_for(guint ms);
gboolean mb_test_wait_for(gboolean (*cond)(gpointer data), gpointer data, guint timeout_ms);
/* For a gboolean: a cond for mb_test_wait_for, and a callback
 * (GDestroyNotify) that sets it. */
gboolean mb_test_flag_is_set(gpointer flag);
void mb_test_set_flag(gpointer flag);

/* The service's warning message in a structured log record, or NULL when
 * the record is not a warning of the "membalancer" log domain. */
const char *mb_test_service_warning(GLogLevelFlags level, const GLogField *fields,
                                    gsize n_fields);

/* Captures the service's warnings from now on: a log writer that shows
 * each as a test message and keeps it (the others go to GLib's default
 * writer). Thread-safe; call once, from main(). */
void mb_test_warnings_capture(void);
/* A unix stream socket listening at path (backlog 4), as QEMU's chardev
 * server; asserts on failure. */
int mb_test_listen_unix(const char *path);
/* Writes all of data to fd (retrying short writes and EINTR); asserts on failure. */
void mb_test_write_all(int fd, const char *data, gsize len);
void mb_test_write_str(int fd, const char *text);

/* de_DE.UTF-8 (German messages, a decimal comma), compiled with localedef
 * (from the locales package) under dir whether or not the system has it
 * generated; returns the LOCPATH for it; g_error when it cannot be made. */
char *mb_test_german_locale(const char *dir);

/* Forgets the warnings kept so far. */
void mb_test_warnings_clear(void);
/* How many of the warnings kept contain part. */
guint mb_test_warnings_count(const char *part);
/* How many times what occurs in text (overlapping ones too). */
guint mb_test_count_occurrences(const char *text, const char *what);

/* A figure of /proc/PID/status in KiB (key "VmRSS:", "VmHWM:"), 0 if unknown. */
guint64 mb_test_proc_status_kib(GPid pid, const char *key);
/* utime + stime of a process, microseconds. */
guint64 mb_test_proc_cpu_us(GPid pid);

const char *mb_test_daemon_path(void);
const char *mb_test_ctl_path(void);

/* One line of the fake backend's trace ([fake] trace). */
typedef struct {
    gint64 us;
    char *name;
    guint64 current_kib;
    guint64 target_kib;
} MbTestTraceLine;

/* The trace's lines (MbTestTraceLine), each asserted well-formed. whole:
 * the file must end with a whole line; else (read while the daemon
 * writes) a last line without its newline is left out. */
GArray *mb_test_trace_read(const char *path, gboolean whole);

G_END_DECLS
