/* The guest agent tests' fixture and helpers (guest-agent-test.h). */
#include "guest-agent-test.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

void
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
void
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

char *
vmstat_text(unsigned pswpout)
{
    return g_strdup_printf(VMSTAT_FMT, pswpout);
}

uint64_t
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

void
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

void
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
GSubprocess *
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
int
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

void
parse_line(const char *line, MbGuestMessage *rec)
{
    const char *why = NULL;

    if (!mb_guest_message_parse(line, strlen(line), rec, &why))
        g_error("agent wrote a bad record (%s): %s", why, line);
}

void
check_hello(const char *line)
{
    MbGuestMessage rec;
    struct utsname uts;

    parse_line(line, &rec);
    g_assert_cmpint(rec.kind, ==, MB_GUEST_RECORD_HELLO);
    g_assert_cmpuint(rec.version, ==, MB_GUEST_PROTO_VERSION);
    g_assert_cmpint(uname(&uts), ==, 0);
    g_assert_true(g_str_has_prefix(uts.release, rec.kernel));
    g_assert_cmpuint(rec.page_kib, ==, (unsigned)(sysconf(_SC_PAGESIZE) / 1024));
}

void
check_sample(const char *line, MbGuestMessage *rec, bool psi)
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

char **
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

/* The complete lines the agent has written so far. */
char **
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
guint
parse_samples(char **lines, MbGuestMessage *recs, guint max, guint *n_urgent)
{
    guint n = 0;

    *n_urgent = 0;
    for (guint i = 0; lines[i]; i++) {
        MbGuestMessage rec;
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
char **
wait_for_samples(Fixture *fx, guint want_samples, guint want_urgent)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    for (;;) {
        char **lines = read_lines_now(fx->out);
        MbGuestMessage recs[1];
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

void
stop_agent(GSubprocess *p, char **err)
{
    g_subprocess_send_signal(p, SIGTERM);
    g_assert_cmpint(finish_agent(p, err), ==, 0);
}
