/* membalancerd figures: RSS with 8 VMs, CPU per tick with 8 and 1,000
 * VMs, and D-Bus latency and throughput of property reads and
 * SetPriority from a client process. Runs the real daemon (fake backend)
 * on a private bus. Run on demand: build/bench/service/bench-service */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mb-daemon.h"
#include "mb-dbus-generated.h"
#include "mb-error.h"
#include "mb-test-bus.h"

static GPid
daemon_pid(MbTestDaemon *daemon)
{
    return (GPid)atoi(g_subprocess_get_identifier(daemon->process));
}

static MbMemBalancer *
manager_proxy(MbTestBus *bus)
{
    g_autoptr(GError) error = NULL;
    MbMemBalancer *manager = mb_mem_balancer_proxy_new_sync(
        bus->connection, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES, MB_BUS_NAME, MB_OBJECT_PATH,
        NULL, &error);

    g_assert_no_error(error);
    return manager;
}

static void
register_n(MbMemBalancer *manager, guint n)
{
    for (guint i = 0; i < n; i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *name = g_strdup_printf("vm-%04u", i);
        g_autofree char *path = NULL;
        if (!mb_mem_balancer_call_register_vm_sync(
                manager, name, i % 101, g_variant_new("a{sv}", NULL), &path, NULL, &error))
            g_error("register %s: %s", name, error->message);
    }
}

static gint
compare_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void
report_latency(const char *what, GArray *us, double seconds)
{
    g_array_sort(us, compare_double);
    printf("%-34s n=%u  median %.1f us  p99 %.1f us  max %.1f us  %.0f calls/s sequential\n",
           what, us->len, g_array_index(us, double, us->len / 2),
           g_array_index(us, double, (us->len * 99) / 100),
           g_array_index(us, double, us->len - 1), us->len / seconds);
}

static void
bench_rss(void)
{
    g_autoptr(MbTestBus) bus = mb_test_bus_new();
    g_autofree char *state = g_build_filename(bus->dir, "state", NULL);
    const char *const args[] = {"--interval-ms", "100", NULL};
    g_autoptr(MbTestDaemon) daemon = mb_test_daemon_spawn(bus, state, args);
    g_autoptr(MbMemBalancer) manager = NULL;

    g_assert_nonnull(daemon);
    manager = manager_proxy(bus);
    printf("RSS at start (0 VMs):              %" G_GUINT64_FORMAT " KiB\n",
           mb_test_proc_status_kib(daemon_pid(daemon), "VmRSS:"));
    register_n(manager, 8);
    g_usleep(2 * G_USEC_PER_SEC); /* 20 ticks */
    printf("RSS with 8 VMs after 20 ticks:     %" G_GUINT64_FORMAT
           " KiB (peak %" G_GUINT64_FORMAT " KiB)\n",
           mb_test_proc_status_kib(daemon_pid(daemon), "VmRSS:"),
           mb_test_proc_status_kib(daemon_pid(daemon), "VmHWM:"));
    mb_test_daemon_stop(daemon);
}

static void
bench_tick(guint n, guint rounds)
{
    g_autoptr(MbTestBus) bus = mb_test_bus_new();
    g_autofree char *state = g_build_filename(bus->dir, "state", NULL);
    /* No timer ticks: only the Rebalance() calls below. */
    const char *const args[] = {"--interval-ms", "3600000", NULL};
    g_autoptr(MbTestDaemon) daemon = mb_test_daemon_spawn(bus, state, args);
    g_autoptr(MbMemBalancer) manager = NULL;
    g_autoptr(GError) error = NULL;
    gint64 start_wall, start_reg;
    guint64 start_cpu;
    GPid pid;

    g_assert_nonnull(daemon);
    pid = daemon_pid(daemon);
    manager = manager_proxy(bus);
    start_reg = g_get_monotonic_time();
    register_n(manager, n);
    double reg_s = (g_get_monotonic_time() - start_reg) / 1e6;
    for (guint i = 0; i < 3; i++)
        mb_mem_balancer_call_rebalance_sync(manager, NULL, &error);
    start_cpu = mb_test_proc_cpu_us(pid);
    start_wall = g_get_monotonic_time();
    for (guint i = 0; i < rounds; i++) {
        if (!mb_mem_balancer_call_rebalance_sync(manager, NULL, &error))
            g_error("rebalance: %s", error->message);
    }
    double wall_ms = (g_get_monotonic_time() - start_wall) / 1e3 / rounds;
    double cpu_ms = (mb_test_proc_cpu_us(pid) - start_cpu) / 1e3 / rounds;
    printf("tick with %4u VMs: %.3f ms CPU (daemon), %.3f ms wall per tick over %u ticks; "
           "RSS %" G_GUINT64_FORMAT " KiB; registering took %.2f s\n",
           n, cpu_ms, wall_ms, rounds, mb_test_proc_status_kib(pid, "VmRSS:"), reg_s);
    mb_test_daemon_stop(daemon);
}

typedef struct {
    guint pending, sent, total;
    GDBusConnection *connection;
} Pipe;

static void pipe_send(Pipe *p);

static void
on_pipe_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Pipe *p = user_data;
    g_autoptr(GVariant) reply =
        g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, NULL);

    if (reply == NULL)
        g_error("pipelined call failed");
    p->pending--;
    pipe_send(p);
}

static void
pipe_send(Pipe *p)
{
    while (p->pending < 64 && p->sent < p->total) {
        p->sent++;
        p->pending++;
        g_dbus_connection_call(
            p->connection, MB_BUS_NAME, "/org/smarttv/MemBalancer/vm/vm_2d0003",
            "org.freedesktop.DBus.Properties", "Get",
            g_variant_new("(ss)", "org.smarttv.MemBalancer.VM", "AllocatedKiB"),
            G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_pipe_reply, p);
    }
}

static gboolean
pipe_done(gpointer data)
{
    Pipe *p = data;
    return p->pending == 0 && p->sent == p->total;
}

static void
bench_dbus(guint n)
{
    g_autoptr(MbTestBus) bus = mb_test_bus_new();
    g_autofree char *state = g_build_filename(bus->dir, "state", NULL);
    const char *const args[] = {"--interval-ms", "1000", NULL};
    g_autoptr(MbTestDaemon) daemon = mb_test_daemon_spawn(bus, state, args);
    g_autoptr(MbMemBalancer) manager = NULL;
    g_autoptr(GArray) us = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GError) error = NULL;
    gint64 start;

    g_assert_nonnull(daemon);
    manager = manager_proxy(bus);
    register_n(manager, 8);

    start = g_get_monotonic_time();
    for (guint i = 0; i < n; i++) {
        gint64 t0 = g_get_monotonic_time();
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
            bus->connection, MB_BUS_NAME, "/org/smarttv/MemBalancer/vm/vm_2d0003",
            "org.freedesktop.DBus.Properties", "Get",
            g_variant_new("(ss)", "org.smarttv.MemBalancer.VM", "AllocatedKiB"),
            G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        double d = (double)(g_get_monotonic_time() - t0);
        g_assert_no_error(error);
        g_assert_nonnull(reply);
        g_array_append_val(us, d);
    }
    report_latency("Properties.Get AllocatedKiB", us, (g_get_monotonic_time() - start) / 1e6);

    Pipe p = {0, 0, n, bus->connection};
    start = g_get_monotonic_time();
    pipe_send(&p);
    mb_test_wait_for(pipe_done, &p, 600000);
    printf("%-34s %.0f calls/s (64 in flight)\n", "Properties.Get pipelined",
           n / ((g_get_monotonic_time() - start) / 1e6));

    g_array_set_size(us, 0);
    start = g_get_monotonic_time();
    for (guint i = 0; i < n; i++) {
        gint64 t0 = g_get_monotonic_time();
        if (!mb_mem_balancer_call_set_priority_sync(manager, "vm-0003", i % 101, NULL, &error))
            g_error("SetPriority: %s", error->message);
        double d = (double)(g_get_monotonic_time() - t0);
        g_array_append_val(us, d);
    }
    report_latency("SetPriority (authorized, stored)", us,
                   (g_get_monotonic_time() - start) / 1e6);
    mb_test_daemon_stop(daemon);
}

int
main(int argc, char **argv)
{
    guint n_calls = argc > 1 ? (guint)atoi(argv[1]) : 5000;

    (void)mb_service_error_quark();
    printf("membalancerd benchmarks (fake backend, private dbus-daemon)\n");
    bench_rss();
    bench_tick(8, 1000);
    bench_tick(1000, 20);
    bench_dbus(n_calls);
    return 0;
}
