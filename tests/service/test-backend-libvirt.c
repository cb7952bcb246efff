/* The libvirt backend against libvirt's test driver (test:///default, in
 * process, no libvirtd): the test opens the same shared test connection
 * and plays the world (destroys domains, serves the agent channel, holds a
 * balloon still), then drives the backend's per-tick calls directly. */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mb-backend-libvirt.h"
#include "mb-test-bus.h"
#include "mb-error.h"
#include "mb-guest-channel.h"
#include "mb-guest-wire.h"

#define URI "test:///default"

typedef struct {
    MbBackend *backend;
    virConnectPtr conn; /* the test's own handle on the same test driver */
    char *dir;
    char *sock_path;
    int listen_fd;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(MbConfig) config = mb_config_new();
    g_autoptr(GError) error = NULL;

    mb_test_warnings_clear();
    g_free(config->libvirt_uri);
    config->libvirt_uri = g_strdup(URI);
    /* The backend first: it registers libvirt's event loop before any connection. */
    f->backend = mb_backend_libvirt_new(config, &error);
    g_assert_no_error(error);
    g_assert_true(mb_backend_is_connected(f->backend));
    g_assert_cmpuint(mb_backend_host_memory_kib(f->backend), >, 0);
    f->conn = virConnectOpen(URI);
    g_assert_nonnull(f->conn);
    f->dir = g_dir_make_tmp("mb-lv-XXXXXX", &error);
    g_assert_no_error(error);
    f->sock_path = g_build_filename(f->dir, "agent.sock", NULL);
    f->listen_fd = -1;
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    if (f->listen_fd >= 0)
        close(f->listen_fd);
    unlink(f->sock_path);
    rmdir(f->dir);
    g_free(f->sock_path);
    g_free(f->dir);
    virConnectClose(f->conn);
    mb_backend_free(f->backend);
}

/* Defines (and optionally starts) a domain of the test driver. */
static void
define_domain(Fixture *f, const char *name, guint64 max_kib, guint64 cur_kib,
              const char *channel_path, gboolean start)
{
    g_autofree char *channel =
        channel_path == NULL
            ? g_strdup("")
            : g_strdup_printf("<channel type='unix'><source mode='bind' path='%s'/>"
                              "<target type='virtio' name='" MB_GUEST_PROTO_CHANNEL "'/>"
                              "</channel>",
                              channel_path);
    g_autofree char *xml = g_strdup_printf(
        "<domain type='test'><name>%s</name><memory unit='KiB'>%" G_GUINT64_FORMAT
        "</memory><currentMemory unit='KiB'>%" G_GUINT64_FORMAT "</currentMemory>"
        "<os><type>hvm</type></os><devices>%s<memballoon model='virtio'/></devices></domain>",
        name, max_kib, cur_kib, channel);
    virDomainPtr dom = virDomainDefineXML(f->conn, xml);

    g_assert_nonnull(dom);
    if (start)
        g_assert_cmpint(virDomainCreate(dom), ==, 0);
    virDomainFree(dom);
}

static virDomainPtr
domain(Fixture *f, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(f->conn, name);
    g_assert_nonnull(dom);
    return dom;
}

static guint64
domain_memory(Fixture *f, const char *name)
{
    virDomainPtr dom = domain(f, name);
    virDomainInfo info;

    g_assert_cmpint(virDomainGetInfo(dom, &info), ==, 0);
    virDomainFree(dom);
    return info.memory;
}

/* One tick's read of one VM (urgent: before the interval is over). */
static MbStatsSource
tick_full(Fixture *f, gboolean urgent, const char *name, MbSample *sample, guint64 *alloc,
          MbVmStatus *status)
{
    g_autoptr(GError) error = NULL;
    MbStatsSource source = MB_STATS_SOURCE_NONE;
    MbSample local;
    guint64 local_alloc;

    mb_backend_begin_tick(f->backend, urgent);
    g_assert_true(mb_backend_read_sample(f->backend, name, sample != NULL ? sample : &local,
                                         &source, alloc != NULL ? alloc : &local_alloc,
                                         &error));
    g_assert_no_error(error);
    if (status != NULL)
        mb_backend_get_status(f->backend, name, status);
    return source;
}

/* One interval's read of one VM. */
static MbStatsSource
tick(Fixture *f, const char *name, MbSample *sample, guint64 *alloc, MbVmStatus *status)
{
    return tick_full(f, FALSE, name, sample, alloc, status);
}

/* ---- domains ------------------------------------------------------------- */

static void
test_lookup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    MbDomainInfo info;
    MbVmStatus status;

    /* test:///default's own domain "test": 2 GiB of 8 GiB, running. */
    g_assert_true(mb_backend_lookup(f->backend, "test", &info, &error));
    g_assert_no_error(error);
    g_assert_true(info.running);
    g_assert_cmpuint(info.current_kib, ==, domain_memory(f, "test"));
    g_assert_cmpuint(info.max_kib, ==, 8388608);
    g_assert_cmpint(tick(f, "test", NULL, NULL, &status), !=, MB_STATS_SOURCE_AGENT);
    g_assert_cmpint(status.state, ==, MB_VM_STATE_RUNNING);

    /* Defined, never started: registrable, offline, holding nothing. */
    define_domain(f, "cold", 1048576, 524288, NULL, FALSE);
    g_assert_true(mb_backend_lookup(f->backend, "cold", &info, &error));
    g_assert_false(info.running);
    g_assert_cmpuint(info.current_kib, ==, 0);
    g_assert_cmpuint(info.max_kib, ==, 1048576);
    g_assert_cmpint(tick(f, "cold", NULL, NULL, &status), ==, MB_STATS_SOURCE_NONE);
    g_assert_cmpint(status.state, ==, MB_VM_STATE_OFFLINE);

    /* Unknown: NoSuchVM; read as offline (a registration whose domain went away). */
    g_assert_false(mb_backend_lookup(f->backend, "nope", &info, &error));
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_NO_SUCH_VM);
    g_assert_cmpint(tick(f, "nope", NULL, NULL, &status), ==, MB_STATS_SOURCE_NONE);
    g_assert_cmpint(status.state, ==, MB_VM_STATE_OFFLINE);

    g_auto(GStrv) names = mb_backend_list_domains(f->backend, NULL);
    g_assert_true(g_strv_contains((const char *const *)names, "test"));
    g_assert_true(g_strv_contains((const char *const *)names, "cold"));
}

static void
test_destroy_mid_run(Fixture *f, gconstpointer data)
{
    MbVmStatus status;
    guint64 alloc, boot, events;
    virDomainPtr dom;

    define_domain(f, "vm", 1048576, 786432, NULL, TRUE);
    g_assert_cmpint(tick(f, "vm", NULL, &alloc, &status), !=, MB_STATS_SOURCE_AGENT);
    g_assert_cmpint(status.state, ==, MB_VM_STATE_RUNNING);
    g_assert_cmpuint(alloc, ==, 786432);
    boot = status.boot;

    events = mb_backend_libvirt_n_events(f->backend);
    dom = domain(f, "vm");
    g_assert_cmpint(virDomainDestroy(dom), ==, 0);
    /* The event is dispatched by the main context, as the daemon's loop does. */
    for (int i = 0; i < 500 && mb_backend_libvirt_n_events(f->backend) == events; i++) {
        while (g_main_context_iteration(NULL, FALSE))
            ;
        g_usleep(10000);
    }
    g_assert_cmpuint(mb_backend_libvirt_n_events(f->backend), >, events);
    g_assert_cmpint(tick(f, "vm", NULL, &alloc, &status), ==, MB_STATS_SOURCE_NONE);
    g_assert_cmpint(status.state, ==, MB_VM_STATE_OFFLINE);
    g_assert_cmpuint(alloc, ==, 0);

    /* Started again: picked up as a new boot. */
    g_assert_cmpint(virDomainCreate(dom), ==, 0);
    tick(f, "vm", NULL, &alloc, &status);
    g_assert_cmpint(status.state, ==, MB_VM_STATE_RUNNING);
    g_assert_cmpuint(status.boot, !=, boot);
    g_assert_cmpuint(alloc, >, 0);

    /* Undefined under it: offline, not an error. */
    g_assert_cmpint(virDomainDestroy(dom), ==, 0);
    g_assert_cmpint(virDomainUndefine(dom), ==, 0);
    virDomainFree(dom);
    tick(f, "vm", NULL, NULL, &status);
    g_assert_cmpint(status.state, ==, MB_VM_STATE_OFFLINE);
}

static void
test_set_target(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    define_domain(f, "vm", 1048576, 524288, NULL, TRUE);
    tick(f, "vm", NULL, NULL, NULL);
    g_assert_true(mb_backend_set_target(f->backend, "vm", 600000, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(domain_memory(f, "vm"), ==, 600000);
    /* Never above the domain's maximum. */
    g_assert_true(mb_backend_set_target(f->backend, "vm", 100 * 1048576ull, &error));
    g_assert_cmpuint(domain_memory(f, "vm"), ==, 1048576);
}

/* The domain's maximum comes with each read: a domain whose definition
 * changes has its new maximum from its next start (a new boot). */
static void
test_domain_max(Fixture *f, gconstpointer data)
{
    virDomainPtr dom;
    MbVmStatus status;
    guint64 alloc, boot;

    define_domain(f, "vm", 1048576, 524288, NULL, TRUE);
    tick(f, "vm", NULL, NULL, &status);
    g_assert_cmpuint(status.max_kib, ==, 1048576);
    boot = status.boot;
    dom = domain(f, "vm");
    g_assert_cmpint(virDomainSetMemoryFlags(dom, 2097152,
                                            VIR_DOMAIN_AFFECT_CONFIG | VIR_DOMAIN_MEM_MAXIMUM),
                    ==, 0);
    tick(f, "vm", NULL, NULL, &status);
    g_assert_cmpuint(status.max_kib, ==, 1048576); /* running: not yet */
    g_assert_cmpint(virDomainDestroy(dom), ==, 0);
    g_assert_cmpint(virDomainCreate(dom), ==, 0);
    g_assert_cmpint(virDomainSetMemoryFlags(dom, 1572864, VIR_DOMAIN_AFFECT_LIVE), ==, 0);
    tick(f, "vm", NULL, &alloc, &status);
    g_assert_cmpuint(status.boot, !=, boot);
    g_assert_cmpuint(status.max_kib, ==, 2097152);
    g_assert_cmpuint(alloc, ==, 1572864); /* not clamped to the old maximum */
    virDomainFree(dom);
}

/* While a balloon travels, the backend reports where it is (the daemon
 * counts the VM at the larger of that and its target: see
 * test-service-pool), and get_current follows it. */
static void
test_travelling_balloon(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    virDomainPtr dom;
    guint64 alloc = 0, current = 0;

    define_domain(f, "vm", 1048576, 524288, NULL, TRUE);
    dom = domain(f, "vm");
    tick(f, "vm", NULL, &alloc, NULL);
    g_assert_cmpuint(alloc, ==, 524288);
    g_assert_true(mb_backend_set_target(f->backend, "vm", 700000, &error));
    /* The balloon has only gone part of the way. */
    g_assert_cmpint(virDomainSetMemoryFlags(dom, 600000, VIR_DOMAIN_AFFECT_LIVE), ==, 0);
    g_assert_true(mb_backend_get_current(f->backend, "vm", &current));
    g_assert_cmpuint(current, ==, 600000);
    tick(f, "vm", NULL, &alloc, NULL);
    g_assert_cmpuint(alloc, ==, 600000);
    g_assert_cmpint(virDomainSetMemoryFlags(dom, 700000, VIR_DOMAIN_AFFECT_LIVE), ==, 0);
    tick(f, "vm", NULL, &alloc, NULL);
    g_assert_cmpuint(alloc, ==, 700000);
    g_assert_true(mb_backend_get_current(f->backend, "vm", &current));
    g_assert_cmpuint(current, ==, 700000);
    /* Unknown and offline domains have no position. */
    g_assert_false(mb_backend_get_current(f->backend, "nope", &current));
    virDomainFree(dom);
}

/* The test driver moves its balloon at once; holding it still from the
 * test's side makes a balloon that ignores its targets. */
static void
test_stuck(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    virDomainPtr dom;
    MbVmStatus status;
    MbDomainInfo info;

    define_domain(f, "vm", 1048576, 786432, NULL, TRUE);
    dom = domain(f, "vm");
    for (int i = 0; i < MB_LIBVIRT_STUCK_TICKS; i++) {
        tick(f, "vm", NULL, NULL, &status);
        g_assert_cmpint(status.state, ==, MB_VM_STATE_RUNNING);
        g_assert_true(mb_backend_set_target(f->backend, "vm", 524288, &error));
        g_assert_cmpint(virDomainSetMemoryFlags(dom, 786432, VIR_DOMAIN_AFFECT_LIVE), ==, 0);
    }
    tick(f, "vm", NULL, NULL, &status);
    g_assert_cmpint(status.state, ==, MB_VM_STATE_STUCK);
    g_assert_cmpuint(mb_test_warnings_count("is stuck"), ==, 1);
    /* Not asked again. */
    g_assert_false(mb_backend_set_target(f->backend, "vm", 524288, &error));
    g_assert_nonnull(strstr(error->message, "stuck"));
    g_clear_error(&error);
    g_assert_cmpuint(domain_memory(f, "vm"), ==, 786432);
    tick(f, "vm", NULL, NULL, &status);
    g_assert_cmpint(status.state, ==, MB_VM_STATE_STUCK);

    /* Seen to move: balanced again. */
    g_assert_cmpint(virDomainSetMemoryFlags(dom, 700000, VIR_DOMAIN_AFFECT_LIVE), ==, 0);
    tick(f, "vm", NULL, NULL, &status);
    g_assert_cmpint(status.state, ==, MB_VM_STATE_RUNNING);

    /* A balloon that moves is never stuck. */
    for (int i = 0; i < 2 * MB_LIBVIRT_STUCK_TICKS; i++) {
        g_assert_true(mb_backend_set_target(f->backend, "vm", i % 2 ? 600000 : 650000, &error));
        tick(f, "vm", NULL, NULL, &status);
        g_assert_cmpint(status.state, ==, MB_VM_STATE_RUNNING);
    }

    /* Stuck again, then registered again: another chance. */
    for (int i = 0; i < MB_LIBVIRT_STUCK_TICKS; i++) {
        g_assert_true(mb_backend_set_target(f->backend, "vm", 524288, &error));
        g_assert_cmpint(virDomainSetMemoryFlags(dom, 786432, VIR_DOMAIN_AFFECT_LIVE), ==, 0);
        tick(f, "vm", NULL, NULL, &status);
    }
    g_assert_cmpint(status.state, ==, MB_VM_STATE_STUCK);
    g_assert_true(mb_backend_lookup(f->backend, "vm", &info, &error));
    mb_backend_get_status(f->backend, "vm", &status);
    g_assert_cmpint(status.state, ==, MB_VM_STATE_RUNNING);
    virDomainFree(dom);
}

/* A slow balloon comes 300 KiB nearer its target each interval (more than
 * MB_BALLOON_MOVE_SLACK_KIB), and an urgent read halfway through each
 * interval sees it 150 KiB on: the stuck check compares interval with
 * interval, so the balloon is never stuck. */
static void
test_slow_balloon_urgent_reads(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    virDomainPtr dom;
    MbVmStatus status;
    guint64 pos = 786432;

    define_domain(f, "vm", 1048576, pos, NULL, TRUE);
    dom = domain(f, "vm");
    tick(f, "vm", NULL, NULL, &status);
    for (int i = 0; i < 3 * MB_LIBVIRT_STUCK_TICKS; i++) {
        g_assert_true(mb_backend_set_target(f->backend, "vm", 524288, &error));
        g_assert_cmpint(virDomainSetMemoryFlags(dom, pos - 150, VIR_DOMAIN_AFFECT_LIVE), ==, 0);
        tick_full(f, TRUE, "vm", NULL, NULL, &status);
        pos -= 300;
        g_assert_cmpint(virDomainSetMemoryFlags(dom, pos, VIR_DOMAIN_AFFECT_LIVE), ==, 0);
        tick(f, "vm", NULL, NULL, &status);
        g_assert_cmpint(status.state, ==, MB_VM_STATE_RUNNING);
    }
    g_assert_cmpuint(mb_test_warnings_count("is stuck"), ==, 0);
    virDomainFree(dom);
}

/* ---- the agent channel --------------------------------------------------- */

static void
listen_channel(Fixture *f)
{
    f->listen_fd = mb_test_listen_unix(f->sock_path);
}

static void
write_sample(int fd, guint64 seq, guint64 anon_kib)
{
    MbGuestSample s = {.total_kib = 524288,
                       .free_kib = 100000,
                       .active_anon_kib = anon_kib,
                       .inactive_file_kib = 50000,
                       .swap_out_pages = seq};
    char line[MB_GUEST_PROTO_LINE_MAX];
    gsize len = mb_guest_message_format_sample(line, sizeof(line), seq, &s);

    g_assert_cmpuint(len, >, 0);
    mb_test_write_all(fd, line, len);
}

typedef struct {
    int fd;
    gsize bytes;
    char fill;
} Flood;

static gpointer
flood_thread(gpointer data)
{
    Flood *flood = data;
    g_autofree char *junk = g_malloc(flood->bytes);

    memset(junk, flood->fill, flood->bytes);
    for (gsize i = 63; flood->fill == 'g' && i < flood->bytes; i += 64)
        junk[i] = '\n'; /* many short bad lines */
    mb_test_write_all(flood->fd, junk, flood->bytes);
    return NULL;
}

/* Reads until the flood's writer is done; returns the number of ticks. */
static guint
drain_flood(Fixture *f, GThread *writer, gint *done)
{
    guint ticks = 0;

    while (!g_atomic_int_get(done) || ticks == 0) {
        tick(f, "vm", NULL, NULL, NULL);
        ticks++;
        g_usleep(2000);
    }
    g_thread_join(writer);
    tick(f, "vm", NULL, NULL, NULL);
    return ticks;
}

typedef struct {
    Flood flood;
    gint *done;
} FloodRun;

static gpointer
flood_run(gpointer data)
{
    FloodRun *run = data;

    flood_thread(&run->flood);
    g_atomic_int_set(run->done, 1);
    return NULL;
}

static void
flood(Fixture *f, int fd, gsize bytes, char fill)
{
    gint done = 0;
    FloodRun run = {{fd, bytes, fill}, &done};
    GThread *writer = g_thread_new("flood", flood_run, &run);

    drain_flood(f, writer, &done);
}

static void
test_channel(Fixture *f, gconstpointer data)
{
    guint64 n_samples, n_bad, n_overlong, n_discarded;
    g_autofree char *longline = g_strnfill(MB_GUEST_PROTO_LINE_MAX + 100, 'x');
    MbSample sample;
    int fd;

    listen_channel(f);
    define_domain(f, "vm", 1048576, 524288, f->sock_path, TRUE);
    /* First read: connects (the listener's backlog takes it). */
    tick(f, "vm", NULL, NULL, NULL);
    fd = accept(f->listen_fd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);

    /* Good, garbage, an over-long line, good: the latest good one wins. */
    mb_test_write_str(fd, "MBG1 hello version=1 kernel=6.1.0 page_kib=4\n");
    write_sample(fd, 1, 111111);
    mb_test_write_str(fd, "MBG1 sample seq=x\n\nutter garbage \x01\xff\n");
    mb_test_write_str(fd, longline);
    mb_test_write_str(fd, "\n");
    write_sample(fd, 2, 222222);
    mb_test_write_str(fd, "MBG1 sample total_kib=5\n");
    g_assert_cmpint(tick(f, "vm", &sample, NULL, NULL), ==, MB_STATS_SOURCE_AGENT);
    g_assert_cmpuint(sample.active_anon_kib, ==, 222222);
    g_assert_cmpuint(sample.swap_out_pages, ==, 2);
    g_assert_true(mb_backend_libvirt_channel_stats(f->backend, "vm", &n_samples, &n_bad,
                                                   &n_overlong, &n_discarded));
    g_assert_cmpuint(n_samples, ==, 2);
    g_assert_cmpuint(n_bad, ==, 3);
    g_assert_cmpuint(n_overlong, ==, 1);
    g_assert_cmpuint(n_discarded, ==, 0);

    /* Nothing new: no sample (the agent is late), then the balloon stands in. */
    g_assert_cmpint(tick(f, "vm", NULL, NULL, NULL), ==, MB_STATS_SOURCE_NONE);
    g_assert_cmpint(tick(f, "vm", NULL, NULL, NULL), ==, MB_STATS_SOURCE_NONE);
    g_assert_cmpint(tick(f, "vm", &sample, NULL, NULL), ==, MB_STATS_SOURCE_BALLOON);
    g_assert_cmpuint(sample.total_kib, ==, domain_memory(f, "vm"));

    /* A line split across two reads. */
    mb_test_write_str(fd, "MBG1 sample seq=3 total_kib=524288 ");
    g_assert_cmpint(tick(f, "vm", NULL, NULL, NULL), ==, MB_STATS_SOURCE_BALLOON);
    mb_test_write_str(fd,
                      "free_kib=1 active_anon_kib=333333 inactive_anon_kib=0 active_file_kib=0 "
                      "inactive_file_kib=0 pswpin=0 pswpout=3\n");
    g_assert_cmpint(tick(f, "vm", &sample, NULL, NULL), ==, MB_STATS_SOURCE_AGENT);
    g_assert_cmpuint(sample.active_anon_kib, ==, 333333);

    /* A flood of 1 MiB of short bad lines: at most the per-interval limit is parsed. */
    flood(f, fd, 1024 * 1024, 'g');
    g_assert_true(mb_backend_libvirt_channel_stats(f->backend, "vm", &n_samples, &n_bad,
                                                   &n_overlong, &n_discarded));
    g_assert_cmpuint(n_bad - 3 + n_discarded / 64, >=, 1024 * 1024 / 64 - 2);
    g_assert_cmpuint(n_discarded, >, 0);
    /* And 1 MiB without a newline: one over-long line. */
    flood(f, fd, 1024 * 1024, 'z');
    mb_test_write_str(fd, "\n");
    write_sample(fd, 4, 444444);
    g_assert_cmpint(tick(f, "vm", &sample, NULL, NULL), ==, MB_STATS_SOURCE_AGENT);
    g_assert_cmpuint(sample.active_anon_kib, ==, 444444);
    g_assert_true(mb_backend_libvirt_channel_stats(f->backend, "vm", &n_samples, &n_bad,
                                                   &n_overlong, &n_discarded));
    g_assert_cmpuint(n_overlong, ==, 2);
    /* Thousands of bad records, one warning (rate-limited to one a minute). */
    g_assert_cmpuint(mb_test_warnings_count("sends bad agent data"), ==, 1);

    /* The guest side drops: reconnect. */
    close(fd);
    tick(f, "vm", NULL, NULL, NULL); /* sees EOF */
    tick(f, "vm", NULL, NULL, NULL); /* reconnects */
    fd = accept(f->listen_fd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    write_sample(fd, 5, 555555);
    g_assert_cmpint(tick(f, "vm", &sample, NULL, NULL), ==, MB_STATS_SOURCE_AGENT);
    g_assert_cmpuint(sample.active_anon_kib, ==, 555555);
    close(fd);
}

typedef struct {
    guint n_calls;
    char *vm_name;
    unsigned urgent;
} UrgentSeen;

static void
on_urgent(MbBackend *backend, const char *vm_name, guint urgent, gpointer user_data)
{
    UrgentSeen *seen = user_data;

    seen->n_calls++;
    g_free(seen->vm_name);
    seen->vm_name = g_strdup(vm_name);
    seen->urgent |= urgent;
}

/* Iterates the main context (where the channel's watch runs) for ms. */
static void
iterate_for(guint ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;

    while (g_get_monotonic_time() < end) {
        while (g_main_context_iteration(NULL, FALSE))
            ;
        g_usleep(1000);
    }
}

static gboolean
urgent_called(gpointer data)
{
    return ((UrgentSeen *)data)->n_calls > 0;
}

static void
write_urgent(int fd, guint64 seq, guint64 anon_kib, unsigned urgent)
{
    MbGuestSample s = {.total_kib = 524288,
                       .free_kib = 100000,
                       .active_anon_kib = anon_kib,
                       .inactive_file_kib = 50000,
                       .swap_out_pages = seq,
                       .urgent = urgent};
    char line[MB_GUEST_PROTO_LINE_MAX];
    gsize len = mb_guest_message_format_sample(line, sizeof(line), seq, &s);

    g_assert_cmpuint(len, >, 0);
    mb_test_write_all(fd, line, len);
}

/* A running "vm" whose channel the backend has connected to and watches,
 * urgent records told to seen; returns the guest's end. */
static int
start_watched(Fixture *f, UrgentSeen *seen)
{
    int fd;

    g_signal_connect(f->backend, "urgent", G_CALLBACK(on_urgent), seen);
    listen_channel(f);
    define_domain(f, "vm", 1048576, 524288, f->sock_path, TRUE);
    tick(f, "vm", NULL, NULL, NULL); /* connects, and watches the socket */
    fd = accept(f->listen_fd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    return fd;
}

/* The direct socket (the test driver's fallback) is read on the main
 * loop as data arrives: an urgent record is told at once, and what the
 * main loop read is still the next tick's sample. */
static void
test_channel_urgent(Fixture *f, gconstpointer data)
{
    UrgentSeen seen = {0};
    MbSample sample;
    gint64 sent_us, read_us;
    int fd;

    fd = start_watched(f, &seen);

    /* A periodic record: read by the main loop, told to nobody, taken by
     * the tick; it reached the host when the main loop read it, before the
     * tick (the predictor's span, mb_backend_sample_us). */
    sent_us = g_get_monotonic_time();
    write_sample(fd, 1, 111111);
    iterate_for(200);
    g_assert_cmpuint(seen.n_calls, ==, 0);
    read_us = g_get_monotonic_time();
    g_assert_cmpint(tick(f, "vm", &sample, NULL, NULL), ==, MB_STATS_SOURCE_AGENT);
    g_assert_cmpuint(sample.active_anon_kib, ==, 111111);
    g_assert_cmpuint(sample.urgent, ==, 0);
    g_assert_cmpint(mb_backend_sample_us(f->backend, "vm"), >=, sent_us);
    g_assert_cmpint(mb_backend_sample_us(f->backend, "vm"), <, read_us);

    /* An urgent one: told at once, with the VM and the reasons. */
    sent_us = g_get_monotonic_time();
    write_urgent(fd, 2, 222222, MB_GUEST_URGENT_LOW | MB_GUEST_URGENT_SWAP);
    g_assert_true(mb_test_wait_for(urgent_called, &seen, 5000));
    g_test_message("urgent record told after %" G_GINT64_FORMAT " us",
                   g_get_monotonic_time() - sent_us);
    g_assert_cmpuint(seen.n_calls, ==, 1);
    g_assert_cmpstr(seen.vm_name, ==, "vm");
    g_assert_cmpuint(seen.urgent, ==, MB_URGENT_LOW | MB_URGENT_SWAP);
    g_assert_cmpint(tick(f, "vm", &sample, NULL, NULL), ==, MB_STATS_SOURCE_AGENT);
    g_assert_cmpuint(sample.active_anon_kib, ==, 222222);
    g_assert_cmpuint(sample.urgent, ==, MB_URGENT_LOW | MB_URGENT_SWAP);

    /* The guest side drops while the main loop watches: the tick still
     * sees the end and reconnects; nothing read before it is lost. */
    write_sample(fd, 3, 333333);
    close(fd);
    iterate_for(200);
    g_assert_cmpint(tick(f, "vm", &sample, NULL, NULL), ==, MB_STATS_SOURCE_AGENT);
    g_assert_cmpuint(sample.active_anon_kib, ==, 333333);
    tick(f, "vm", NULL, NULL, NULL); /* reconnects */
    fd = accept(f->listen_fd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    write_urgent(fd, 4, 444444, MB_GUEST_URGENT_PSI);
    seen.n_calls = 0;
    g_assert_true(mb_test_wait_for(urgent_called, &seen, 5000));
    g_assert_cmpint(tick(f, "vm", &sample, NULL, NULL), ==, MB_STATS_SOURCE_AGENT);
    g_assert_cmpuint(sample.active_anon_kib, ==, 444444);
    g_assert_cmpuint(sample.urgent, ==, MB_URGENT_PSI);
    /* One the tick itself reads reached the host then. */
    write_sample(fd, 5, 555555);
    read_us = g_get_monotonic_time();
    g_assert_cmpint(tick(f, "vm", &sample, NULL, NULL), ==, MB_STATS_SOURCE_AGENT);
    g_assert_cmpuint(sample.active_anon_kib, ==, 555555);
    g_assert_cmpint(mb_backend_sample_us(f->backend, "vm"), >=, read_us);
    close(fd);
    g_signal_handlers_disconnect_by_func(f->backend, on_urgent, &seen);
    g_free(seen.vm_name);
}

/* Unregistered (forget): the channel is closed at once, and nothing the
 * guest sent before counts for a registration of the same name. */
static void
test_channel_forget(Fixture *f, gconstpointer data)
{
    MbGuestSample urgent = {.total_kib = 524288, .free_kib = 1, .urgent = MB_GUEST_URGENT_LOW};
    char line[MB_GUEST_PROTO_LINE_MAX];
    UrgentSeen seen = {0};
    MbDomainInfo info;
    MbSample sample;
    char byte;
    gsize len;
    int fd;

    fd = start_watched(f, &seen);
    g_assert_true(mb_backend_lookup(f->backend, "vm", &info, NULL)); /* registered */
    /* Read by the main loop, not yet taken by a tick. */
    write_sample(fd, 1, 111111);
    iterate_for(200);

    mb_backend_forget(f->backend, "vm");
    /* An urgent record now reaches no callback (the write may fail)... */
    len = mb_guest_message_format_sample(line, sizeof(line), 2, &urgent);
    g_assert_cmpuint(len, >, 0);
    (void)send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    iterate_for(200);
    g_assert_cmpuint(seen.n_calls, ==, 0);
    /* ...for the host end is closed: the guest sees the end. */
    g_assert_cmpint(recv(fd, &byte, 1, MSG_DONTWAIT), ==, 0);
    close(fd);

    /* Registered again: the first interval has no agent sample (not the
     * stale one), then the new connection's records count. */
    g_assert_true(mb_backend_lookup(f->backend, "vm", &info, NULL));
    g_assert_cmpint(tick(f, "vm", &sample, NULL, NULL), !=, MB_STATS_SOURCE_AGENT);
    fd = accept(f->listen_fd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    write_sample(fd, 3, 333333);
    g_assert_cmpint(tick(f, "vm", &sample, NULL, NULL), ==, MB_STATS_SOURCE_AGENT);
    g_assert_cmpuint(sample.active_anon_kib, ==, 333333);
    close(fd);
    g_signal_handlers_disconnect_by_func(f->backend, on_urgent, &seen);
    g_free(seen.vm_name);
}

/* A flood is bounded per interval, with the reader alone (no libvirt). */
static void
test_channel_bound(Fixture *f, gconstpointer data)
{
    g_autoptr(MbGuestChannel) channel = mb_guest_channel_new("bounded");
    MbGuestChannelStats stats;
    MbSample sample;
    int pair[2];
    char junk[8192];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), ==, 0);
    listen_channel(f);
    mb_guest_channel_set_path(channel, f->sock_path);
    g_assert_false(mb_guest_channel_poll(channel, &sample));
    int fd = accept(f->listen_fd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    /* 200 KiB of 63-byte bad lines in the socket buffer at once. */
    int size = 1024 * 1024;
    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), ==, 0);
    memset(junk, 'b', sizeof(junk));
    for (gsize i = 63; i < sizeof(junk); i += 64)
        junk[i] = '\n';
    for (int i = 0; i < 25; i++)
        mb_test_write_all(fd, junk, sizeof(junk));
    g_assert_false(mb_guest_channel_poll(channel, &sample));
    mb_guest_channel_get_stats(channel, &stats);
    g_assert_cmpuint(stats.n_bad, <=, MB_GUEST_CHANNEL_POLL_BYTES / 64 + 1);
    g_assert_cmpuint(stats.n_bad, >=, MB_GUEST_CHANNEL_POLL_BYTES / 64 - 1);
    g_assert_cmpuint(stats.n_discarded_bytes, ==,
                     25 * sizeof(junk) - MB_GUEST_CHANNEL_POLL_BYTES);
    write_sample(fd, 9, 999);
    g_assert_true(mb_guest_channel_poll(channel, &sample));
    g_assert_cmpuint(sample.active_anon_kib, ==, 999);
    close(fd);
    close(pair[0]);
    close(pair[1]);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* The backend's warnings are expected here: captured, counted, shown. */
    mb_test_warnings_capture();
#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
    ADD("/libvirt/lookup", test_lookup);
    ADD("/libvirt/destroy-mid-run", test_destroy_mid_run);
    ADD("/libvirt/set-target", test_set_target);
    ADD("/libvirt/travelling-balloon", test_travelling_balloon);
    ADD("/libvirt/domain-max", test_domain_max);
    ADD("/libvirt/stuck", test_stuck);
    ADD("/libvirt/slow-balloon-urgent-reads", test_slow_balloon_urgent_reads);
    ADD("/libvirt/channel", test_channel);
    ADD("/libvirt/channel-bound", test_channel_bound);
    ADD("/libvirt/channel-urgent", test_channel_urgent);
    ADD("/libvirt/channel-forget", test_channel_forget);
    return g_test_run();
}
