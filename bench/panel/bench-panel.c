/* membalancer-panel figures: its CPU use and RSS while it shows the VMs of
 * the real membalancerd (fake backend, one interval a second) on a
 * private bus, drawn by GTK's cairo renderer on a private 1920x1080
 * Xvfb. Baseline in the same run: the page with no service (no rows, the
 * chart and the status still redrawn every second). Run on demand:
 *
 *   build/bench/panel/bench-panel [SAMPLES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mb-daemon.h"
#include "mb-dbus-generated.h"
#include "mb-test-bus.h"
#include "mb-test-x.h"

#define SAMPLE_SECONDS 3

/* CPU time of every thread of pid (GDBus has its own), ns, from
 * schedstat: far finer than the 10 ms ticks of /proc/PID/stat. */
static guint64
cpu_ns(GPid pid)
{
    g_autofree char *dir_path = g_strdup_printf("/proc/%d/task", pid);
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    const char *tid;
    guint64 total = 0;

    while (dir != NULL && (tid = g_dir_read_name(dir)) != NULL) {
        g_autofree char *path = g_strdup_printf("%s/%s/schedstat", dir_path, tid);
        g_autofree char *text = NULL;
        if (g_file_get_contents(path, &text, NULL, NULL))
            total += g_ascii_strtoull(text, NULL, 10);
    }
    return total;
}

/* Private memory (not shared with other processes), KiB: the clean and
 * dirty private pages of smaps_rollup. */
static guint64
private_kib(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/smaps_rollup", pid);
    g_autofree char *text = NULL;
    static const char *const keys[] = {"Private_Clean:", "Private_Dirty:"};
    guint64 total = 0;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
        const char *line = strstr(text, keys[i]);
        if (line != NULL)
            total += g_ascii_strtoull(line + strlen(keys[i]), NULL, 10);
    }
    return total;
}

static int
compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double
median(double *values, guint n)
{
    qsort(values, n, sizeof(*values), compare_doubles);
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

static void
register_vms(MbTestBus *bus, guint n)
{
    static const char *const workloads[] = {"game", "video-playback", "web"};

    for (guint i = 0; i < n; i++) {
        g_autofree char *name = g_strdup_printf("%s-%u", workloads[i % 3], i + 1);
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
            bus->connection, MB_BUS_NAME, MB_OBJECT_PATH, MB_BUS_NAME, "RegisterVM",
            g_variant_new("(su@a{sv})", name, 10 + (i * 7) % 90,
                          g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
            NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &error);
        g_assert_no_error(error);
    }
}

static gboolean
log_has(const char *path, const char *needle)
{
    g_autofree char *text = NULL;

    return g_file_get_contents(path, &text, NULL, NULL) && strstr(text, needle) != NULL;
}

/* One scenario: n VMs (-1: no service at all). Prints a row. */
static void
run(const char *label, int n, guint samples, double *baseline_cpu, double *baseline_rss)
{
    g_autoptr(MbTestBus) bus = mb_test_bus_new();
    g_autofree char *state = g_build_filename(bus->dir, "state", NULL);
    g_autofree char *conf =
        mb_test_write_file(bus->dir, "bench.conf",
                           "[membalancer]\ninterval=1000\n[fake]\nalloc=384MiB\nmax=2GiB\n");
    g_autofree char *log = g_build_filename(bus->dir, "panel.log", NULL);
    g_autofree char *rows = g_strdup_printf("page: %d rows", n);
    const char *const args[] = {"--config", conf, NULL};
    g_autoptr(MbTestDaemon) daemon = NULL;
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
    g_autoptr(GSubprocess) panel = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree double *cpu = g_new0(double, samples);
    g_autofree double *rss = g_new0(double, samples);
    g_autofree double *priv = g_new0(double, samples);
    double cpu_ms, rss_mib, priv_mib;
    GPid pid;

    if (n >= 0) {
        daemon = mb_test_daemon_spawn(bus, state, args);
        g_assert_nonnull(daemon);
        register_vms(bus, (guint)n);
    }
    g_subprocess_launcher_set_stdout_file_path(launcher, log);
    g_subprocess_launcher_setenv(launcher, "G_MESSAGES_DEBUG", "membalancer-panel", TRUE);
    panel = g_subprocess_launcher_spawn(launcher, &error, MB_BENCH_PANEL, "--plugin",
                                        MB_BENCH_PLUGIN, "--address", bus->address, NULL);
    g_assert_no_error(error);
    pid = (GPid)atoi(g_subprocess_get_identifier(panel));
    /* Up and showing every VM, then a few seconds to settle. */
    for (int i = 0; i < 300 && n > 0 && !log_has(log, rows); i++)
        g_usleep(100000);
    if (n > 0 && !log_has(log, rows))
        g_error("%s: the panel did not show %d rows", label, n);
    g_usleep(5 * G_USEC_PER_SEC);
    for (guint k = 0; k < samples; k++) {
        guint64 c0 = cpu_ns(pid);
        g_usleep(SAMPLE_SECONDS * G_USEC_PER_SEC);
        cpu[k] = (double)(cpu_ns(pid) - c0) / 1e6 / SAMPLE_SECONDS;
        rss[k] = (double)mb_test_proc_status_kib(pid, "VmRSS:") / 1024.0;
        priv[k] = (double)private_kib(pid) / 1024.0;
    }
    cpu_ms = median(cpu, samples);
    rss_mib = median(rss, samples);
    priv_mib = median(priv, samples);
    if (baseline_cpu != NULL && *baseline_cpu < 0) {
        *baseline_cpu = cpu_ms;
        *baseline_rss = priv_mib;
        printf("%-16s %5s %10.2f %9.1f %9.1f   (baseline)\n", label, "-", cpu_ms, rss_mib,
               priv_mib);
    } else {
        printf("%-16s %5d %10.2f %9.1f %9.1f   %+.2f ms/s, %+.1f MiB private\n", label, n,
               cpu_ms, rss_mib, priv_mib, cpu_ms - *baseline_cpu, priv_mib - *baseline_rss);
    }
    fflush(stdout);
    g_subprocess_force_exit(panel);
    g_subprocess_wait(panel, NULL, NULL);
    if (daemon != NULL)
        mb_test_daemon_stop(daemon);
    mb_test_rm_rf(bus->dir);
}

int
main(int argc, char **argv)
{
    guint samples = argc > 1 ? (guint)atoi(argv[1]) : 10;
    g_autoptr(MbTestX) x = NULL;
    double baseline_cpu = -1, baseline_rss = 0;

    if (samples < 1)
        samples = 1;
    x = mb_test_x_start(1920, 1080);
    mb_test_x_setenv(x);
    printf("membalancer-panel on Xvfb 1920x1080 (GSK_RENDERER=cairo), service interval 1 s;\n"
           "median of %u samples of %d s: CPU ms per second (all threads), RSS and private "
           "MiB\n",
           samples, SAMPLE_SECONDS);
    printf("%-16s %5s %10s %9s %9s\n", "scenario", "VMs", "CPU ms/s", "RSS", "private");
    run("no service", -1, samples, &baseline_cpu, &baseline_rss);
    run("TV (3 VMs)", 3, samples, &baseline_cpu, &baseline_rss);
    run("16 VMs", 16, samples, &baseline_cpu, &baseline_rss);
    return 0;
}
