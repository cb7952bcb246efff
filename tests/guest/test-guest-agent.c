/* Runs the real membalancer-guest binary against a fake /proc (and a fake
 * sysfs for port discovery) and checks what it writes. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest-agent-test.h"

static void
test_records(Fixture *fx, gconstpointer data)
{
    /* Before the spawn: the agent may take its first sample before the
     * spawn returns (seen on a loaded machine: 141 ms measured after it). */
    gint64 start = g_get_monotonic_time();
    g_autoptr(GSubprocess) p =
        spawn_agent(fx, "--output", fx->out, "--interval-ms", "50", "--count", "4", NULL);
    g_autofree char *err = NULL;

    g_assert_cmpint(finish_agent(p, &err), ==, 0);
    /* Four samples, three periods apart. */
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 150 * 1000);
    g_assert_nonnull(strstr(err, "samples=4 sent=4 dropped=0"));

    g_auto(GStrv) lines = read_lines(fx->out);
    g_assert_cmpuint(g_strv_length(lines), ==, 5);
    check_hello(lines[0]);
    for (unsigned i = 1; i < 5; i++) {
        MbGuestMessage rec;
        check_sample(lines[i], &rec, true);
        g_assert_cmpuint(rec.seq, ==, i);
    }
}

static void
test_no_psi(Fixture *fx, gconstpointer data)
{
    g_autofree char *memory = g_build_filename(fx->proc, "pressure", "memory", NULL);
    g_assert_cmpint(g_unlink(memory), ==, 0);

    g_autoptr(GSubprocess) p = spawn_agent(fx, "--output", fx->out, "--interval-ms", "1",
                                           "--count", "2", "--quiet", NULL);
    g_autofree char *err = NULL;
    g_assert_cmpint(finish_agent(p, &err), ==, 0);
    g_assert_cmpstr(err, ==, "");
    g_auto(GStrv) lines = read_lines(fx->out);
    g_assert_cmpuint(g_strv_length(lines), ==, 3);
    MbGuestMessage rec;
    check_sample(lines[2], &rec, false);
}

static void
test_values_follow_proc(Fixture *fx, gconstpointer data)
{
    g_autofree char *meminfo = g_build_filename(fx->proc, "meminfo", NULL);
    g_autoptr(GSubprocess) p = spawn_agent(fx, "--output", fx->out, "--interval-ms", "20",
                                           "--count", "50", "--quiet", NULL);
    g_autofree char *err = NULL;

    g_usleep(200 * 1000);
    g_autofree char *changed = g_strdup(MEMINFO);
    memcpy(strstr(changed, "512000"), "256000", 6);
    write_file(meminfo, changed);
    g_assert_cmpint(finish_agent(p, &err), ==, 0);

    g_auto(GStrv) lines = read_lines(fx->out);
    MbGuestMessage first, last;
    parse_line(lines[1], &first);
    parse_line(lines[g_strv_length(lines) - 1], &last);
    g_assert_cmpuint(first.sample.free_kib, ==, 512000);
    g_assert_cmpuint(last.sample.free_kib, ==, 256000);
}

/* A kernel before 5.9 (one workingset counter each), no swap lines, no
 * zoneinfo: the optional keys are left out, not sent as 0. */
static void
test_old_kernel(Fixture *fx, gconstpointer data)
{
    g_autofree char *vmstat = g_build_filename(fx->proc, "vmstat", NULL);
    g_autofree char *meminfo = g_build_filename(fx->proc, "meminfo", NULL);
    g_autofree char *zoneinfo = g_build_filename(fx->proc, "zoneinfo", NULL);
    g_autofree char *old_meminfo = g_strdup(MEMINFO);
    *strstr(old_meminfo, "SwapTotal:") = '\0';
    write_file(vmstat, "nr_free_pages 128000\n"
                       "workingset_refault 5\n"
                       "workingset_activate 3\n"
                       "pswpin 123\n"
                       "pswpout 4567\n");
    write_file(meminfo, old_meminfo);
    g_assert_cmpint(g_unlink(zoneinfo), ==, 0);

    g_autoptr(GSubprocess) p = spawn_agent(fx, "--output", fx->out, "--interval-ms", "1",
                                           "--count", "2", "--quiet", NULL);
    g_assert_cmpint(finish_agent(p, NULL), ==, 0);
    g_auto(GStrv) lines = read_lines(fx->out);
    g_assert_cmpuint(g_strv_length(lines), ==, 3);
    MbGuestMessage rec;
    parse_line(lines[2], &rec);
    g_assert_true(rec.sample.has_psi);
    g_assert_false(rec.sample.has_refaults);
    g_assert_false(rec.sample.has_swap_used);
    g_assert_cmpuint(rec.sample.low_wmark_kib, ==, 0);
    g_assert_null(strstr(lines[2], "refault"));
    g_assert_null(strstr(lines[2], "activate"));
    g_assert_null(strstr(lines[2], "swap_used_kib="));
    g_assert_null(strstr(lines[2], "low_kib="));
    g_assert_null(strstr(lines[2], "urgent="));
}

static void
test_sigterm(Fixture *fx, gconstpointer data)
{
    /* A long period: the signal must cut the sleep short. */
    g_autoptr(GSubprocess) p =
        spawn_agent(fx, "--output", fx->out, "--interval-ms", "10000", NULL);
    g_autofree char *err = NULL;

    for (int i = 0; i < 200 && !g_file_test(fx->out, G_FILE_TEST_EXISTS); i++)
        g_usleep(10 * 1000);
    g_usleep(50 * 1000);
    gint64 start = g_get_monotonic_time();
    g_subprocess_send_signal(p, SIGTERM);
    g_assert_cmpint(finish_agent(p, &err), ==, 0);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 500 * 1000);
    g_assert_nonnull(strstr(err, "samples=1 sent=1"));

    g_clear_object(&p);
    p = spawn_agent(fx, "--output", fx->out, "--interval-ms", "10000", NULL);
    g_usleep(100 * 1000);
    g_subprocess_send_signal(p, SIGINT);
    g_assert_cmpint(finish_agent(p, NULL), ==, 0);
}

/* Reads whatever the FIFO holds now (non-blocking reader). */
static void
drain(int fd, GString *got)
{
    char buf[4096];
    ssize_t n;

    while ((n = read(fd, buf, sizeof buf)) > 0)
        g_string_append_len(got, buf, n);
}

static void
test_fifo(Fixture *fx, gconstpointer data)
{
    g_autoptr(GString) got = g_string_new(NULL);
    g_autofree char *err = NULL;

    g_assert_cmpint(mkfifo(fx->out, 0600), ==, 0);
    gint64 start = g_get_monotonic_time();
    g_autoptr(GSubprocess) p =
        spawn_agent(fx, "--output", fx->out, "--interval-ms", "50", "--count", "30", NULL);

    /* Nobody reads: the agent keeps sampling and drops. */
    g_usleep(300 * 1000);
    int fd = open(fx->out, O_RDONLY | O_NONBLOCK);
    g_assert_cmpint(fd, >=, 0);
    g_usleep(300 * 1000);
    drain(fd, got);
    /* The reader goes away (EPIPE), a new one comes: hello again. */
    close(fd);
    g_usleep(300 * 1000);
    fd = open(fx->out, O_RDONLY | O_NONBLOCK);
    g_assert_cmpint(fd, >=, 0);
    /* GSubprocess reaps in GLib's worker thread: the identifier goes NULL. */
    while (g_subprocess_get_identifier(p) &&
           g_get_monotonic_time() - start < 3 * G_USEC_PER_SEC) {
        struct pollfd pfd = {fd, POLLIN, 0};
        poll(&pfd, 1, 20);
        drain(fd, got);
    }
    g_assert_cmpint(finish_agent(p, &err), ==, 0);
    drain(fd, got);
    close(fd);
    /* 30 samples at 50 ms: about 1.5 s however the reader behaves. */
    g_assert_cmpint(g_get_monotonic_time() - start, <, 2500 * 1000);
    g_assert_nonnull(strstr(err, "samples=30 "));

    g_auto(GStrv) lines = g_strsplit(got->str, "\n", -1);
    guint n = g_strv_length(lines), hellos = 0, samples = 0;
    uint64_t last_seq = 0, first_seq = 0;
    g_assert_cmpuint(n, >, 3);
    check_hello(lines[0]);
    for (guint i = 0; i + 1 < n; i++) {
        MbGuestMessage rec;
        parse_line(lines[i], &rec);
        if (rec.kind == MB_GUEST_RECORD_HELLO) {
            hellos++;
            continue;
        }
        check_sample(lines[i], &rec, true);
        if (!first_seq)
            first_seq = rec.seq;
        g_assert_cmpuint(rec.seq, >, last_seq);
        last_seq = rec.seq;
        samples++;
    }
    g_assert_cmpstr(lines[n - 1], ==, "");
    /* Samples were taken (and dropped) before the first reader came. */
    g_assert_cmpuint(first_seq, >, 2);
    g_assert_cmpuint(last_seq, ==, 30);
    g_assert_cmpuint(hellos, ==, 2);
    g_assert_cmpuint(samples, <, 30);
}

static void
test_stalled_reader(Fixture *fx, gconstpointer data)
{
    g_autofree char *err = NULL;

    /* A reader that never reads: the pipe fills, writes get EAGAIN. */
    g_assert_cmpint(mkfifo(fx->out, 0600), ==, 0);
    int fd = open(fx->out, O_RDONLY | O_NONBLOCK);
    g_assert_cmpint(fd, >=, 0);
    gint64 start = g_get_monotonic_time();
    g_autoptr(GSubprocess) p =
        spawn_agent(fx, "--output", fx->out, "--interval-ms", "1", "--count", "1500", NULL);
    g_assert_cmpint(finish_agent(p, &err), ==, 0);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
    g_assert_nonnull(strstr(err, "samples=1500 "));
    g_assert_null(strstr(err, "dropped=0 "));

    /* What did fit in the pipe is whole lines. */
    g_autoptr(GString) got = g_string_new(NULL);
    drain(fd, got);
    close(fd);
    g_assert_true(g_str_has_suffix(got->str, "\n"));
    g_auto(GStrv) lines = g_strsplit(got->str, "\n", -1);
    for (guint i = 0; lines[i + 1]; i++) {
        MbGuestMessage rec;
        parse_line(lines[i], &rec);
    }
}

static void
make_port(const char *sys, const char *dev, const char *vport, const char *name)
{
    g_autofree char *dir = g_build_filename(sys, "class", "virtio-ports", vport, NULL);
    g_autofree char *name_path = g_build_filename(dir, "name", NULL);
    g_autofree char *name_nl = g_strconcat(name, "\n", NULL);
    g_autofree char *dev_path = g_build_filename(dev, vport, NULL);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(dev, 0755), ==, 0);
    write_file(name_path, name_nl);
    write_file(dev_path, "");
}

static void
test_port_discovery(Fixture *fx, gconstpointer data)
{
    g_autofree char *sys = g_build_filename(fx->dir, "sys", NULL);
    g_autofree char *dev = g_build_filename(fx->dir, "dev", NULL);
    g_autofree char *port1 = g_build_filename(dev, "vport1p1", NULL);
    g_autofree char *port2 = g_build_filename(dev, "vport1p2", NULL);

    make_port(sys, dev, "vport1p1", "org.qemu.guest_agent.0");
    make_port(sys, dev, "vport1p2", MB_GUEST_PROTO_CHANNEL);

    g_autoptr(GSubprocess) p = spawn_agent(fx, "--sys", sys, "--dev", dev, "--interval-ms", "1",
                                           "--count", "2", "--quiet", NULL);
    g_assert_cmpint(finish_agent(p, NULL), ==, 0);
    g_auto(GStrv) lines = read_lines(port2);
    g_assert_cmpuint(g_strv_length(lines), ==, 3);
    check_hello(lines[0]);

    g_autoptr(GSubprocess) q = spawn_agent(fx, "--sys", sys, "--dev", dev, "--port",
                                           "org.qemu.guest_agent.0", "--count", "1", NULL);
    g_assert_cmpint(finish_agent(q, NULL), ==, 0);
    g_auto(GStrv) lines1 = read_lines(port1);
    g_assert_cmpuint(g_strv_length(lines1), ==, 2);

    /* No such port: sampling goes on, records are dropped. */
    g_autoptr(GSubprocess) r = spawn_agent(fx, "--sys", sys, "--dev", dev, "--port", "nope",
                                           "--interval-ms", "1", "--count", "5", NULL);
    g_autofree char *err = NULL;
    g_assert_cmpint(finish_agent(r, &err), ==, 0);
    g_assert_nonnull(strstr(err, "samples=5 sent=0 dropped=5"));
}

static void
test_options(void)
{
    static const char *const bad[][3] = {
        {"--bogus", NULL, NULL},
        {"--interval-ms", "0", NULL},
        {"--interval-ms", "x", NULL},
        {"--interval-ms", "3600001", NULL},
        {"--count", "-1", NULL},
        {"--count", "0", NULL},
        {"--count", NULL, NULL},
        {"--port", "a/b", NULL},
        {"extra", NULL, NULL},
        {"--interval-ms", "+5", NULL},
        {"--check-ms", "60001", NULL},
        {"--check-ms", "x", NULL},
        {"--urgent-min-ms", "-1", NULL},
        {"--psi-window-us", "499999", NULL},
        {"--psi-window-us", "10000001", NULL},
        {"--psi-trigger-us", "10000001", NULL},
        /* Longer than the default window (500 ms). */
        {"--psi-trigger-us", "500001", NULL},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GSubprocess) p = spawn_agent(NULL, bad[i][0], bad[i][1], bad[i][2], NULL);
        g_autofree char *err = NULL;
        g_assert_cmpint(finish_agent(p, &err), ==, 2);
        /* One line, naming the program. */
        g_assert_true(g_str_has_prefix(err, "membalancer-guest: "));
        g_assert_nonnull(strchr(err, '\n'));
        g_assert_cmpstr(strchr(err, '\n'), ==, "\n");
    }

    g_autoptr(GSubprocess) p = spawn_agent(NULL, "--help", NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 0);
    g_assert_true(g_str_has_prefix(out, "Usage: membalancer-guest"));

    g_autoptr(GSubprocess) q =
        spawn_agent(NULL, "--proc", "/nonexistent", "--count", "1", NULL);
    g_autofree char *err = NULL;
    g_assert_cmpint(finish_agent(q, &err), ==, 1);
    g_assert_nonnull(strstr(err, "/nonexistent/meminfo"));
}

static void
test_static(void)
{
    g_autofree char *contents = NULL;
    gsize len;
    g_autoptr(GError) error = NULL;

    g_file_get_contents(MB_TEST_AGENT, &contents, &len, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(len, >, sizeof(Elf64_Ehdr));
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)contents;
    g_assert_cmpint(memcmp(eh->e_ident, ELFMAG, SELFMAG), ==, 0);
    g_assert_cmpuint(eh->e_phoff + (gsize)eh->e_phnum * sizeof(Elf64_Phdr), <=, len);
    /* No program interpreter: no ld.so, runs in a bare initramfs. */
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(contents + eh->e_phoff) + i;
        g_assert_cmpuint(ph->p_type, !=, PT_INTERP);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/guest-agent/records", Fixture, NULL, fixture_setup, test_records,
               fixture_teardown);
    g_test_add("/guest-agent/no-psi", Fixture, NULL, fixture_setup, test_no_psi,
               fixture_teardown);
    g_test_add("/guest-agent/old-kernel", Fixture, NULL, fixture_setup, test_old_kernel,
               fixture_teardown);
    g_test_add("/guest-agent/values-follow-proc", Fixture, NULL, fixture_setup,
               test_values_follow_proc, fixture_teardown);
    g_test_add("/guest-agent/sigterm", Fixture, NULL, fixture_setup, test_sigterm,
               fixture_teardown);
    g_test_add("/guest-agent/fifo", Fixture, NULL, fixture_setup, test_fifo, fixture_teardown);
    g_test_add("/guest-agent/stalled-reader", Fixture, NULL, fixture_setup, test_stalled_reader,
               fixture_teardown);
    g_test_add("/guest-agent/port-discovery", Fixture, NULL, fixture_setup, test_port_discovery,
               fixture_teardown);
    g_test_add_func("/guest-agent/options", test_options);
    /* Sanitized builds link the agent dynamically: the sanitizer runtimes
     * cannot be linked statically. */
    if (MB_TEST_AGENT_STATIC)
        g_test_add_func("/guest-agent/static", test_static);
    return g_test_run();
}
