/* Runs the real membalancer-guest binary against a fake /proc (and a fake
 * sysfs for port discovery) and checks what it writes. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "mb-guest-proto.h"

#define MEMINFO                                                                                \
    "MemTotal:        2048000 kB\n"                                                            \
    "MemFree:          512000 kB\n"                                                            \
    "MemAvailable:    1024000 kB\n"                                                            \
    "Buffers:           10000 kB\n"                                                            \
    "Cached:           400000 kB\n"                                                            \
    "SwapCached:            0 kB\n"                                                            \
    "Active:           900000 kB\n"                                                            \
    "Inactive:         500000 kB\n"                                                            \
    "Active(anon):     600000 kB\n"                                                            \
    "Inactive(anon):   200000 kB\n"                                                            \
    "Active(file):     300000 kB\n"                                                            \
    "Inactive(file):   300001 kB\n"                                                            \
    "Unevictable:           0 kB\n"                                                            \
    "Mlocked:               0 kB\n"                                                            \
    "SwapTotal:       1048576 kB\n"                                                            \
    "SwapFree:        1000000 kB\n"                                                            \
    "Dirty:                 0 kB\n"
/* Linux 5.9+: workingset counters split into anon and file. pswpout is
 * padded so that tests can change it in place without changing the size. */
#define VMSTAT_FMT                                                                             \
    "nr_free_pages 128000\n"                                                                   \
    "workingset_nodes 38262\n"                                                                 \
    "workingset_refault_anon 11\n"                                                             \
    "workingset_refault_file 3548706\n"                                                        \
    "workingset_activate_anon 7\n"                                                             \
    "workingset_activate_file 1536414\n"                                                       \
    "workingset_restore_anon 0\n"                                                              \
    "pgpgin 1000\n"                                                                            \
    "pgpgout 2000\n"                                                                           \
    "pswpin 123\n"                                                                             \
    "pswpout %10u\n"                                                                           \
    "pgalloc_dma 0\n"
#define PSWPOUT 4567u
#define PRESSURE                                                                               \
    "some avg10=12.34 avg60=1.00 avg300=0.10 total=123456\n"                                   \
    "full avg10=5.60 avg60=0.50 avg300=0.05 total=23456\n"

/* The zones' low watermarks sum to this many pages. */
#define LOW_PAGES 3000u

typedef struct {
    char *dir;
    char *proc;
    char *out;
} Fixture;

static void
write_file(const char *path, const char *contents)
{
    /* In place, not by rename: the agent keeps its fds open. */
    FILE *f = fopen(path, "w");
    g_assert_nonnull(f);
    g_assert_cmpint(fputs(contents, f), >=, 0);
    g_assert_cmpint(fclose(f), ==, 0);
}

/* Overwrites a file with contents of the same size in one pwrite: the agent,
 * reading it meanwhile, never sees it empty or half written. */
static void
rewrite_file(const char *path, const char *contents)
{
    int fd = open(path, O_WRONLY);
    size_t len = strlen(contents);
    struct stat st;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fstat(fd, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, (off_t)len);
    g_assert_cmpint(pwrite(fd, contents, len, 0), ==, (ssize_t)len);
    g_assert_cmpint(close(fd), ==, 0);
}

static char *
vmstat_text(unsigned pswpout)
{
    return g_strdup_printf(VMSTAT_FMT, pswpout);
}

static uint64_t
page_kib(void)
{
    return (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

/* Three zones as Linux 6.1 lays them out, the first with enough per-cpu
 * pagesets to take the second zone's "low" past the agent's 16 KiB read. */
static char *
zoneinfo_text(void)
{
    GString *z = g_string_new("Node 0, zone      DMA\n"
                              "  per-node stats\n"
                              "      nr_inactive_anon 0\n"
                              "  pages free     3840\n"
                              "        boost    0\n"
                              "        min      100\n"
                              "        low      125\n"
                              "        high     150\n"
                              "        spanned  4095\n"
                              "        protection: (0, 1928, 1928, 1928, 1928)\n"
                              "      nr_free_pages 3840\n"
                              "  pagesets\n");
    for (unsigned cpu = 0; cpu < 256; cpu++)
        g_string_append_printf(z,
                               "    cpu: %u\n"
                               "              count: 0\n"
                               "              high:  0\n"
                               "              batch: 1\n"
                               "  vm stats threshold: 6\n",
                               cpu);
    g_assert_cmpuint(z->len, >, 16384);
    g_string_append(z, "  node_unreclaimable:  0\n"
                       "  start_pfn:           1\n"
                       "Node 0, zone    DMA32\n"
                       "  pages free     100000\n"
                       "        boost    0\n"
                       "        min      2300\n"
                       "        low      2875\n"
                       "        high     3450\n"
                       "Node 0, zone  Movable\n"
                       "  pages free     0\n"
                       "        min      0\n"
                       "        low      0\n"
                       "        high     0\n");
    return g_string_free(z, FALSE);
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    fx->dir = g_dir_make_tmp("mb-guest-XXXXXX", &error);
    g_assert_no_error(error);
    fx->proc = g_build_filename(fx->dir, "proc", NULL);
    fx->out = g_build_filename(fx->dir, "out", NULL);
    g_autofree char *pressure = g_build_filename(fx->proc, "pressure", NULL);
    g_assert_cmpint(g_mkdir_with_parents(pressure, 0755), ==, 0);
    g_autofree char *meminfo = g_build_filename(fx->proc, "meminfo", NULL);
    g_autofree char *vmstat = g_build_filename(fx->proc, "vmstat", NULL);
    g_autofree char *memory = g_build_filename(pressure, "memory", NULL);
    g_autofree char *zoneinfo = g_build_filename(fx->proc, "zoneinfo", NULL);
    g_autofree char *vmstat_contents = vmstat_text(PSWPOUT);
    g_autofree char *zoneinfo_contents = zoneinfo_text();
    write_file(meminfo, MEMINFO);
    write_file(vmstat, vmstat_contents);
    write_file(memory, PRESSURE);
    write_file(zoneinfo, zoneinfo_contents);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", fx->dir);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(fx->dir);
    g_free(fx->proc);
    g_free(fx->out);
}

/* Spawns the agent with the fixture's /proc and the given extra arguments
 * (NULL-terminated); stderr is piped. */
static GSubprocess *
spawn_agent(Fixture *fx, const char *first, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    va_list ap;

    g_ptr_array_add(argv, (char *)MB_TEST_AGENT);
    if (fx) {
        g_ptr_array_add(argv, (char *)"--proc");
        g_ptr_array_add(argv, fx->proc);
    }
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    GSubprocess *p = g_subprocess_newv(
        (const char *const *)argv->pdata,
        G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
    g_assert_no_error(error);
    return p;
}

/* Waits for exit; returns the exit status (-1 if killed) and stderr. */
static int
finish_agent(GSubprocess *p, char **err_out)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL, *err = NULL;

    g_subprocess_communicate_utf8(p, NULL, NULL, &out, &err, &error);
    g_assert_no_error(error);
    if (err_out)
        *err_out = g_steal_pointer(&err);
    return g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : -1;
}

static void
parse_line(const char *line, MbGuestRecord *rec)
{
    const char *why = NULL;

    if (!mb_guest_record_parse(line, strlen(line), rec, &why))
        g_error("agent wrote a bad record (%s): %s", why, line);
}

static void
check_hello(const char *line)
{
    MbGuestRecord rec;
    struct utsname uts;

    parse_line(line, &rec);
    g_assert_cmpint(rec.kind, ==, MB_GUEST_RECORD_HELLO);
    g_assert_cmpuint(rec.version, ==, MB_GUEST_PROTO_VERSION);
    g_assert_cmpint(uname(&uts), ==, 0);
    g_assert_true(g_str_has_prefix(uts.release, rec.kernel));
    g_assert_cmpuint(rec.page_kib, ==, (unsigned)(sysconf(_SC_PAGESIZE) / 1024));
}

static void
check_sample(const char *line, MbGuestRecord *rec, bool psi)
{
    parse_line(line, rec);
    g_assert_cmpint(rec->kind, ==, MB_GUEST_RECORD_SAMPLE);
    g_assert_cmpuint(rec->sample.total_kib, ==, 2048000);
    g_assert_cmpuint(rec->sample.free_kib, ==, 512000);
    g_assert_cmpuint(rec->sample.active_anon_kib, ==, 600000);
    g_assert_cmpuint(rec->sample.inactive_anon_kib, ==, 200000);
    g_assert_cmpuint(rec->sample.active_file_kib, ==, 300000);
    g_assert_cmpuint(rec->sample.inactive_file_kib, ==, 300001);
    g_assert_cmpuint(rec->sample.swap_in_pages, ==, 123);
    g_assert_cmpuint(rec->sample.swap_out_pages, ==, PSWPOUT);
    g_assert_cmpint(rec->sample.has_psi, ==, psi);
    if (psi) {
        g_assert_cmpfloat_with_epsilon(rec->sample.psi_some_avg10, 12.34, 1e-9);
        g_assert_cmpfloat_with_epsilon(rec->sample.psi_full_avg10, 5.60, 1e-9);
        g_assert_cmpuint(rec->sample.psi_some_total_us, ==, 123456);
    }
    g_assert_true(rec->sample.has_refaults);
    g_assert_cmpuint(rec->sample.refault_anon_pages, ==, 11);
    g_assert_cmpuint(rec->sample.refault_file_pages, ==, 3548706);
    g_assert_cmpuint(rec->sample.activate_anon_pages, ==, 7);
    g_assert_cmpuint(rec->sample.activate_file_pages, ==, 1536414);
    g_assert_true(rec->sample.has_swap_used);
    g_assert_cmpuint(rec->sample.swap_used_kib, ==, 48576);
    g_assert_cmpuint(rec->sample.low_wmark_kib, ==, LOW_PAGES * page_kib());
    g_assert_cmpuint(rec->sample.urgent, ==, 0);
}

static char **
read_lines(const char *path)
{
    g_autofree char *contents = NULL;
    g_autoptr(GError) error = NULL;

    g_file_get_contents(path, &contents, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(g_str_has_suffix(contents, "\n"));
    contents[strlen(contents) - 1] = '\0';
    return g_strsplit(contents, "\n", -1);
}

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
        MbGuestRecord rec;
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
    MbGuestRecord rec;
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
    MbGuestRecord first, last;
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
    MbGuestRecord rec;
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

/* The complete lines the agent has written so far. */
static char **
read_lines_now(const char *path)
{
    g_autofree char *contents = NULL;

    if (!g_file_get_contents(path, &contents, NULL, NULL))
        return g_new0(char *, 1);
    char *end = strrchr(contents, '\n');
    if (!end)
        return g_new0(char *, 1);
    *end = '\0';
    return g_strsplit(contents, "\n", -1);
}

/* Parses the samples among lines; returns how many, and how many urgent. */
static guint
parse_samples(char **lines, MbGuestRecord *recs, guint max, guint *n_urgent)
{
    guint n = 0;

    *n_urgent = 0;
    for (guint i = 0; lines[i]; i++) {
        MbGuestRecord rec;
        parse_line(lines[i], &rec);
        if (rec.kind != MB_GUEST_RECORD_SAMPLE)
            continue;
        if (rec.sample.urgent)
            (*n_urgent)++;
        if (n < max)
            recs[n] = rec;
        n++;
    }
    return n;
}

/* Waits (up to 5 s, however slow the machine) until the agent has written
 * at least want_samples samples of which want_urgent urgent. */
static char **
wait_for_samples(Fixture *fx, guint want_samples, guint want_urgent)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    for (;;) {
        char **lines = read_lines_now(fx->out);
        MbGuestRecord recs[1];
        guint n_urgent;
        guint n = parse_samples(lines, recs, 0, &n_urgent);
        if (n >= want_samples && n_urgent >= want_urgent)
            return lines;
        g_strfreev(lines);
        if (g_get_monotonic_time() > deadline)
            g_error("no %u samples with %u urgent after 5 s", want_samples, want_urgent);
        g_usleep(10 * 1000);
    }
}

static void
stop_agent(GSubprocess *p, char **err)
{
    g_subprocess_send_signal(p, SIGTERM);
    g_assert_cmpint(finish_agent(p, err), ==, 0);
}

/* pswpout rises by 1 MiB: an urgent=4 record long before the 10 s period,
 * and the fake pressure file (not procfs) is said to be no trigger; a few
 * pages are not urgent. */
static void
test_urgent_swap(Fixture *fx, gconstpointer data)
{
    g_autofree char *vmstat = g_build_filename(fx->proc, "vmstat", NULL);
    g_autoptr(GSubprocess) p =
        spawn_agent(fx, "--output", fx->out, "--interval-ms", "10000", NULL);
    g_autofree char *err = NULL;
    MbGuestRecord recs[4];
    guint n_urgent;

    g_strfreev(wait_for_samples(fx, 1, 0));
    g_autofree char *few = vmstat_text(PSWPOUT + 255);
    rewrite_file(vmstat, few);
    g_usleep(300 * 1000); /* 3 checks */
    g_autofree char *raised = vmstat_text(PSWPOUT + 256);
    rewrite_file(vmstat, raised);
    g_auto(GStrv) lines = wait_for_samples(fx, 2, 1);
    stop_agent(p, &err);

    g_assert_cmpuint(parse_samples(lines, recs, G_N_ELEMENTS(recs), &n_urgent), ==, 2);
    g_assert_cmpuint(recs[0].sample.urgent, ==, 0);
    g_assert_cmpuint(recs[1].seq, ==, 2);
    g_assert_cmpuint(recs[1].sample.urgent, ==, MB_URGENT_SWAP);
    g_assert_cmpuint(recs[1].sample.swap_out_pages, ==, PSWPOUT + 256);
    g_assert_cmpuint(recs[1].sample.free_kib, ==, 512000);
    g_assert_nonnull(strstr(err, "no PSI trigger on "));
    g_assert_nonnull(strstr(err, "(not procfs); checking every 100 ms instead"));
    g_assert_nonnull(strstr(err, " urgent=1\n"));
}

/* MemAvailable falls below a tenth of MemTotal (204,800 KiB here; 2x the
 * low watermarks is less): urgent=2, once: it stays low but no longer
 * falls. Free memory alone (a guest full of cache) is not low. */
static void
test_urgent_low(Fixture *fx, gconstpointer data)
{
    g_autofree char *meminfo = g_build_filename(fx->proc, "meminfo", NULL);
    g_autoptr(GSubprocess) p = spawn_agent(fx, "--output", fx->out, "--interval-ms", "10000",
                                           "--check-ms", "20", "--quiet", NULL);
    uint64_t low_kib = LOW_PAGES * page_kib();
    MbGuestRecord recs[4];
    guint n_urgent;

    g_strfreev(wait_for_samples(fx, 1, 0));
    /* Free memory at the low watermark, but much of it available: calm. */
    g_autofree char *low = g_strdup(MEMINFO);
    g_autofree char *value = g_strdup_printf("%6" G_GUINT64_FORMAT, low_kib);
    g_assert_cmpuint(strlen(value), ==, 6);
    memcpy(strstr(low, "512000"), value, 6);
    rewrite_file(meminfo, low);
    g_usleep(200 * 1000); /* 10 checks */
    /* Available memory below a tenth: urgent. */
    memcpy(strstr(low, "1024000"), " 150000", 7);
    rewrite_file(meminfo, low);
    g_strfreev(wait_for_samples(fx, 2, 1));
    g_usleep(300 * 1000); /* 15 more checks: no second urgent record */
    stop_agent(p, NULL);

    g_auto(GStrv) lines = read_lines(fx->out);
    g_assert_cmpuint(parse_samples(lines, recs, G_N_ELEMENTS(recs), &n_urgent), ==, 2);
    g_assert_cmpuint(n_urgent, ==, 1);
    g_assert_cmpuint(recs[1].sample.urgent, ==, MB_URGENT_LOW);
    g_assert_cmpuint(recs[1].sample.free_kib, ==, low_kib);
    g_assert_cmpuint(recs[1].sample.low_wmark_kib, ==, low_kib);
}

/* Swap-out that never stops: at most one urgent record per urgent-min-ms,
 * and the periodic schedule (10 s) is left alone. */
static void
test_urgent_rate_limit(Fixture *fx, gconstpointer data)
{
    g_autofree char *vmstat = g_build_filename(fx->proc, "vmstat", NULL);
    gint64 start = g_get_monotonic_time();
    g_autoptr(GSubprocess) p =
        spawn_agent(fx, "--output", fx->out, "--interval-ms", "10000", "--check-ms", "10",
                    "--urgent-min-ms", "400", "--quiet", NULL);
    MbGuestRecord recs[64];
    guint n_urgent;

    g_strfreev(wait_for_samples(fx, 1, 0));
    for (unsigned i = 1; g_get_monotonic_time() - start < 2 * G_USEC_PER_SEC; i++) {
        g_autofree char *raised = vmstat_text(PSWPOUT + 256 * i);
        rewrite_file(vmstat, raised);
        g_usleep(5 * 1000);
    }
    stop_agent(p, NULL);
    gint64 elapsed_ms = (g_get_monotonic_time() - start) / 1000;

    g_auto(GStrv) lines = read_lines(fx->out);
    guint n = parse_samples(lines, recs, G_N_ELEMENTS(recs), &n_urgent);
    g_assert_cmpuint(n, <=, G_N_ELEMENTS(recs));
    g_test_message("%u urgent records in %" G_GINT64_FORMAT " ms", n_urgent, elapsed_ms);
    /* Without the limit: one per check, ~200. */
    g_assert_cmpuint(n_urgent, >=, 2);
    g_assert_cmpuint(n_urgent, <=, elapsed_ms / 400 + 1);
    g_assert_cmpuint(n, ==, n_urgent + 1);
    g_assert_cmpuint(recs[0].sample.urgent, ==, 0);
    for (guint i = 1; i < n; i++)
        g_assert_cmpuint(recs[i].sample.urgent, ==, MB_URGENT_SWAP);
}

/* --check-ms 0 and no trigger: no urgent records at all, and it says so. */
static void
test_urgent_disabled(Fixture *fx, gconstpointer data)
{
    g_autofree char *vmstat = g_build_filename(fx->proc, "vmstat", NULL);
    g_autoptr(GSubprocess) p = spawn_agent(fx, "--output", fx->out, "--interval-ms", "10000",
                                           "--check-ms", "0", "--urgent-min-ms", "0", NULL);
    g_autofree char *err = NULL;

    g_strfreev(wait_for_samples(fx, 1, 0));
    g_autofree char *raised = vmstat_text(PSWPOUT + 1000);
    rewrite_file(vmstat, raised);
    g_usleep(500 * 1000);
    stop_agent(p, &err);
    g_assert_nonnull(strstr(err, "--check-ms 0: no urgent samples"));
    g_assert_nonnull(strstr(err, "samples=1 sent=1 "));

    /* --psi-trigger-us 0: no trigger wanted, nothing to say about it. */
    g_autoptr(GSubprocess) q =
        spawn_agent(fx, "--output", fx->out, "--psi-trigger-us", "0", "--count", "1", NULL);
    g_autofree char *err_q = NULL;
    g_assert_cmpint(finish_agent(q, &err_q), ==, 0);
    g_assert_null(strstr(err_q, "PSI"));
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
        MbGuestRecord rec;
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
        MbGuestRecord rec;
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
    g_test_add("/guest-agent/urgent/swap", Fixture, NULL, fixture_setup, test_urgent_swap,
               fixture_teardown);
    g_test_add("/guest-agent/urgent/low", Fixture, NULL, fixture_setup, test_urgent_low,
               fixture_teardown);
    g_test_add("/guest-agent/urgent/rate-limit", Fixture, NULL, fixture_setup,
               test_urgent_rate_limit, fixture_teardown);
    g_test_add("/guest-agent/urgent/disabled", Fixture, NULL, fixture_setup,
               test_urgent_disabled, fixture_teardown);
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
