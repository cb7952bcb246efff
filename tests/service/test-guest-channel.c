/* The agent channel's reader alone (no libvirt): a real unix listener
 * stands in for QEMU's chardev socket, a thread for a hostile guest, and
 * the same parser is fed directly as a pushing transport would. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mb-guest-channel.h"
#include "mb-guest-wire.h"
#include "mb-test-bus.h"

#define FLOOD_BYTES (64 * 1024 * 1024)
#define FLOOD_RUNS 8

/* ---- the service's log lines, captured ----------------------------------- */

/* The writer sees every level, whatever G_MESSAGES_DEBUG says: a count here
 * is what a journal at debug level would receive. */
static GMutex logs_lock;
static GPtrArray *logs;

static GLogWriterOutput
test_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
    const char *domain = NULL, *message = NULL;

    for (gsize i = 0; i < n_fields; i++) {
        if (g_str_equal(fields[i].key, "GLIB_DOMAIN"))
            domain = fields[i].value;
        else if (g_str_equal(fields[i].key, "MESSAGE"))
            message = fields[i].value;
    }
    if (g_strcmp0(domain, "membalancer") != 0)
        return g_log_writer_default(level, fields, n_fields, user_data);
    g_mutex_lock(&logs_lock);
    g_ptr_array_add(logs, g_strdup(message != NULL ? message : ""));
    g_mutex_unlock(&logs_lock);
    return G_LOG_WRITER_HANDLED;
}

static guint
count_logs(const char *part)
{
    guint n = 0;

    g_mutex_lock(&logs_lock);
    for (guint i = 0; i < logs->len; i++)
        n += strstr(g_ptr_array_index(logs, i), part) != NULL;
    g_mutex_unlock(&logs_lock);
    return n;
}

/* ---- records and sockets ---------------------------------------------------- */

static MbGuestSample
make_sample(guint64 anon_kib)
{
    return (MbGuestSample){.total_kib = 524288,
                           .free_kib = 100000,
                           .active_anon_kib = anon_kib,
                           .inactive_file_kib = 50000,
                           .swap_out_pages = 7};
}

/* A sample record whose active_anon_kib tells it apart; a newline first
 * when lead_nl (an agent's write after a torn one begins so). */
static gsize
format_sample(char *buf, gsize size, guint64 seq, guint64 anon_kib, gboolean lead_nl)
{
    MbGuestSample s = make_sample(anon_kib);
    gsize off = lead_nl ? 1 : 0;
    gsize len;

    g_assert_cmpuint(size, >, off);
    buf[0] = '\n';
    len = mb_guest_message_format_sample(buf + off, size - off, seq, &s);
    g_assert_cmpuint(len, >, 0);
    return off + len;
}

static char *
hello_line(unsigned page_kib)
{
    char line[MB_GUEST_PROTO_LINE_MAX + 1];
    gsize len = mb_guest_message_format_hello(line, sizeof(line), "6.1.0-28-amd64", page_kib);

    g_assert_cmpuint(len, >, 0);
    return g_strndup(line, len);
}

static void
feed_str(MbGuestChannel *channel, const char *text)
{
    mb_guest_channel_feed(channel, text, strlen(text));
}

/* A listening socket in a fresh directory, as QEMU's chardev. */
typedef struct {
    char *dir;
    char *path;
    int listen_fd;
} Listener;

static void
listener_open(Listener *l)
{
    l->dir = g_dir_make_tmp("mb-chan-XXXXXX", NULL);
    g_assert_nonnull(l->dir);
    l->path = g_build_filename(l->dir, "org.smarttv.membalancer.0", NULL);
    l->listen_fd = mb_test_listen_unix(l->path);
}

static void
listener_close(Listener *l)
{
    close(l->listen_fd);
    unlink(l->path);
    g_rmdir(l->dir);
    g_free(l->path);
    g_free(l->dir);
}

/* The first poll connects (the backlog takes it); returns the guest's end. */
static int
guest_connect(MbGuestChannel *channel, Listener *l)
{
    MbSample sample;
    int fd;

    mb_guest_channel_set_path(channel, l->path);
    g_assert_false(mb_guest_channel_poll(channel, &sample));
    fd = accept(l->listen_fd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    return fd;
}

/* ---- 1. a valid record after a flood ------------------------------------- */

typedef struct {
    int fd;
    guint64 anon_kib;
    gint done;
} Flooder;

/* 64 MiB of 'x' with no newline, then (a newline and) one valid record. */
static gpointer
flood_then_record(gpointer data)
{
    Flooder *f = data;
    gsize chunk = 1024 * 1024;
    g_autofree char *junk = g_malloc(chunk);
    char line[MB_GUEST_PROTO_LINE_MAX + 1];
    gsize len = format_sample(line, sizeof(line), 1, f->anon_kib, TRUE);

    memset(junk, 'x', chunk);
    for (gsize sent = 0; sent < FLOOD_BYTES; sent += chunk)
        mb_test_write_all(f->fd, junk, chunk);
    mb_test_write_all(f->fd, line, len);
    g_atomic_int_set(&f->done, 1);
    return NULL;
}

static void
test_flood_then_record(void)
{
    for (guint run = 0; run < FLOOD_RUNS; run++) {
        g_autoptr(MbGuestChannel) channel = mb_guest_channel_new("flooder");
        Listener l;
        Flooder f = {.anon_kib = 4242 + run};
        MbGuestChannelStats stats;
        MbSample sample;
        gboolean seen = FALSE;
        guint polls = 0;

        listener_open(&l);
        f.fd = guest_connect(channel, &l);
        GThread *thread = g_thread_new("flood", flood_then_record, &f);
        /* The backend's ticks, shortened: the guest fills its buffer between. */
        while (!g_atomic_int_get(&f.done)) {
            if (mb_guest_channel_poll(channel, &sample))
                seen = sample.active_anon_kib == f.anon_kib;
            polls++;
            g_usleep(1000);
        }
        g_thread_join(thread);
        /* Written: used at the latest in the next two intervals. */
        for (int i = 0; i < 2 && !seen; i++) {
            if (mb_guest_channel_poll(channel, &sample))
                seen = sample.active_anon_kib == f.anon_kib;
        }
        mb_guest_channel_get_stats(channel, &stats);
        g_test_message("run %u: %u polls, %" G_GUINT64_FORMAT " bytes skimmed, sample %s", run,
                       polls, stats.n_discarded_bytes, seen ? "used" : "LOST");
        g_assert_true(seen);
        g_assert_cmpuint(stats.n_samples, ==, 1);
        g_assert_cmpuint(stats.n_overlong, ==, 1);
        close(f.fd);
        listener_close(&l);
    }
}

/* The same through feed: however the transport cuts the stream. */
static void
test_flood_then_record_feed(void)
{
    gsize chunk_sizes[] = {1, 4096, 65536, 1024 * 1024, FLOOD_BYTES};
    g_autofree char *junk = g_malloc(FLOOD_BYTES);
    char line[MB_GUEST_PROTO_LINE_MAX + 1];
    gsize len = format_sample(line, sizeof(line), 1, 777, TRUE);

    memset(junk, 'x', FLOOD_BYTES);
    /* Cut after its leading newline, in its middle, before its newline. */
    gsize cuts[] = {0, 1, len / 2, len - 1};

    for (gsize c = 0; c < G_N_ELEMENTS(chunk_sizes); c++) {
        for (gsize k = 0; k < G_N_ELEMENTS(cuts); k++) {
            g_autoptr(MbGuestChannel) channel = mb_guest_channel_new("flooder");
            gsize chunk = chunk_sizes[c], cut = cuts[k];
            MbSample sample;
            gboolean seen = FALSE;
            guint takes = 0;

            if (chunk == 1) {
                /* Byte by byte: only the flood's last 1 MiB, or the test crawls. */
                for (gsize i = 0; i < 1024 * 1024; i++)
                    mb_guest_channel_feed(channel, junk + i, 1);
            } else {
                /* An interval every 4 MiB, as the ticks come. */
                for (gsize off = 0; off < FLOOD_BYTES; off += chunk) {
                    mb_guest_channel_feed(channel, junk + off, chunk);
                    if ((off + chunk) % (4 * 1024 * 1024) == 0)
                        g_assert_false(mb_guest_channel_take_sample(channel, &sample));
                }
            }
            /* Half of the cases with an interval's end inside the record. */
            g_assert_false(mb_guest_channel_feed(channel, line, cut));
            if (k % 2 == 1)
                g_assert_false(mb_guest_channel_take_sample(channel, &sample));
            mb_guest_channel_feed(channel, line + cut, len - cut);
            while (!seen && takes++ < 2)
                seen = mb_guest_channel_take_sample(channel, &sample);
            g_assert_true(seen);
            g_assert_cmpuint(sample.active_anon_kib, ==, 777);
            g_assert_false(mb_guest_channel_take_sample(channel, &sample));
        }
    }
}

/* ---- 2. a flood of hellos --------------------------------------------------- */

#define N_HELLOS 25000

static void
test_hello_flood(void)
{
    g_autoptr(MbGuestChannel) channel = mb_guest_channel_new("hello-flooder");
    g_autoptr(MbGuestChannel) fed = mb_guest_channel_new("hello-feeder");
    g_autofree char *hello = hello_line(4);
    g_autoptr(GString) batch = g_string_new(NULL);
    guint before = count_logs("agent protocol");
    MbGuestChannelStats stats;
    MbSample sample;
    Listener l;
    int fd;

    /* 25,000 hellos, in batches the budget lets through whole: all parsed. */
    for (int i = 0; i < 500; i++)
        g_string_append(batch, hello);
    g_assert_cmpuint(batch->len, <, MB_GUEST_CHANNEL_POLL_BYTES);
    listener_open(&l);
    fd = guest_connect(channel, &l);
    for (int i = 0; i < N_HELLOS / 500; i++) {
        mb_test_write_all(fd, batch->str, batch->len);
        g_assert_false(mb_guest_channel_poll(channel, &sample));
    }
    mb_guest_channel_get_stats(channel, &stats);
    g_assert_cmpuint(stats.n_hellos, ==, N_HELLOS);
    g_assert_cmpuint(count_logs("VM 'hello-flooder': agent protocol"), ==, 1);

    /* And at once through feed: the same one line. */
    for (int i = 0; i < N_HELLOS; i++)
        feed_str(fed, hello);
    mb_guest_channel_take_sample(fed, &sample);
    g_assert_cmpuint(count_logs("VM 'hello-feeder': agent protocol"), ==, 1);
    g_assert_cmpuint(count_logs("agent protocol") - before, <=, 2);
    close(fd);
    listener_close(&l);
}

/* ---- 3. the guest's page size --------------------------------------------- */

static void
test_page_size(void)
{
    g_autoptr(MbGuestChannel) channel = mb_guest_channel_new("pages");
    g_autofree char *hello64 = hello_line(64);
    char line[MB_GUEST_PROTO_LINE_MAX + 1];
    MbGuestChannelStats stats;
    MbSample sample;
    guint warnings_before = count_logs("VM 'pages' sends bad agent data");
    unsigned bad[] = {0, 3, 1u << 20, 1, 2, 2048, 96};

    g_assert_cmpuint(mb_guest_channel_get_page_kib(channel), ==, 4);
    feed_str(channel, hello64);
    g_assert_cmpuint(mb_guest_channel_get_page_kib(channel), ==, 64);
    format_sample(line, sizeof(line), 1, 1, FALSE);
    g_assert_true(mb_guest_channel_feed(channel, line, strlen(line)));
    g_assert_true(mb_guest_channel_take_sample(channel, &sample));
    g_assert_cmpuint(sample.swap_out_pages * mb_guest_channel_get_page_kib(channel), ==,
                     7 * 64);
    /* A bad page size is ignored: what the last good hello said stays. */
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *text =
            g_strdup_printf("MBG1 hello version=1 kernel=x page_kib=%u\n", bad[i]);
        feed_str(channel, text);
        g_assert_cmpuint(mb_guest_channel_get_page_kib(channel), ==, 64);
    }
    /* Forgotten with the connection. */
    mb_guest_channel_close(channel);
    g_assert_cmpuint(mb_guest_channel_get_page_kib(channel), ==, 4);
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *text =
            g_strdup_printf("MBG1 hello version=1 kernel=x page_kib=%u\n", bad[i]);
        feed_str(channel, text);
        g_assert_cmpuint(mb_guest_channel_get_page_kib(channel), ==, 4);
    }
    mb_guest_channel_get_stats(channel, &stats);
    /* 0, 3 and 96 do not parse; 1 GiB, 1, 2 and 2048 are hellos, their size ignored. */
    g_assert_cmpuint(stats.n_bad, ==, 6);
    g_assert_cmpuint(stats.n_hellos, ==, 1 + 8);
    /* Fourteen problems, one warning: rate-limited with the others. */
    g_assert_cmpuint(count_logs("VM 'pages' sends bad agent data") - warnings_before, ==, 1);
}

/* Through the socket: a new connection starts at 4 KiB again. */
static void
test_page_size_reconnect(void)
{
    g_autoptr(MbGuestChannel) channel = mb_guest_channel_new("pages-socket");
    g_autofree char *hello = hello_line(16);
    char line[MB_GUEST_PROTO_LINE_MAX + 1];
    MbSample sample;
    Listener l;
    int fd;

    listener_open(&l);
    fd = guest_connect(channel, &l);
    mb_test_write_str(fd, hello);
    format_sample(line, sizeof(line), 1, 1, FALSE);
    mb_test_write_str(fd, line);
    g_assert_true(mb_guest_channel_poll(channel, &sample));
    g_assert_cmpuint(mb_guest_channel_get_page_kib(channel), ==, 16);
    /* QEMU goes away after one more sample: that one still counts, at 16 KiB. */
    mb_test_write_str(fd, line);
    close(fd);
    g_assert_true(mb_guest_channel_poll(channel, &sample));
    g_assert_cmpuint(mb_guest_channel_get_page_kib(channel), ==, 16);
    /* A new QEMU, a new guest: no hello yet. */
    g_assert_false(mb_guest_channel_poll(channel, &sample));
    fd = accept(l.listen_fd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpuint(mb_guest_channel_get_page_kib(channel), ==, 4);
    close(fd);
    listener_close(&l);
}

/* ---- 4. freshness and bounds ------------------------------------------- */

/* A backlog larger than the budget (the tick was late): the newest sample
 * is the one used, not the newest of the oldest 64 KiB. */
static void
test_backlog_newest_wins(void)
{
    g_autoptr(MbGuestChannel) channel = mb_guest_channel_new("backlog");
    g_autoptr(MbGuestChannel) fed = mb_guest_channel_new("backlog-fed");
    g_autoptr(GString) backlog = g_string_new(NULL);
    g_autofree char *hello = hello_line(64);
    char line[MB_GUEST_PROTO_LINE_MAX + 1];
    MbGuestChannelStats stats;
    MbSample sample;
    int size = 1024 * 1024;
    Listener l;
    int fd;

    for (guint64 seq = 1; seq <= 1000; seq++) {
        if (seq == 990)
            g_string_append(backlog, hello);
        format_sample(line, sizeof(line), seq, seq, FALSE);
        g_string_append(backlog, line);
    }
    g_assert_cmpuint(backlog->len, >, 2 * MB_GUEST_CHANNEL_POLL_BYTES);
    g_assert_cmpuint(backlog->len, <, (gsize)size / 2);

    listener_open(&l);
    fd = guest_connect(channel, &l);
    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), ==, 0);
    mb_test_write_all(fd, backlog->str, backlog->len);
    g_assert_true(mb_guest_channel_poll(channel, &sample));
    g_assert_cmpuint(sample.active_anon_kib, ==, 1000);
    g_assert_cmpuint(mb_guest_channel_get_page_kib(channel), ==, 64);
    /* Once only. */
    g_assert_false(mb_guest_channel_poll(channel, &sample));
    mb_guest_channel_get_stats(channel, &stats);
    g_assert_cmpuint(stats.n_discarded_bytes, ==, backlog->len - MB_GUEST_CHANNEL_POLL_BYTES);

    mb_guest_channel_feed(fed, backlog->str, backlog->len);
    g_assert_true(mb_guest_channel_take_sample(fed, &sample));
    g_assert_cmpuint(sample.active_anon_kib, ==, 1000);
    g_assert_cmpuint(mb_guest_channel_get_page_kib(fed), ==, 64);
    close(fd);
    listener_close(&l);
}

/* Nothing of a closed stream is reported as fresh afterwards. */
static void
test_no_stale_after_close(void)
{
    g_autoptr(MbGuestChannel) channel = mb_guest_channel_new("stale");
    g_autofree char *junk = g_strnfill(MB_GUEST_CHANNEL_POLL_BYTES, 'j');
    char line[MB_GUEST_PROTO_LINE_MAX + 1];
    gsize len = format_sample(line, sizeof(line), 5, 555, FALSE);
    MbSample sample;
    Listener l;
    int fd;

    for (gsize i = 63; i < MB_GUEST_CHANNEL_POLL_BYTES; i += 64)
        junk[i] = '\n'; /* short bad lines, the budget's worth */
    /* A sample not yet taken. */
    g_assert_true(mb_guest_channel_feed(channel, line, len));
    mb_guest_channel_close(channel);
    g_assert_false(mb_guest_channel_take_sample(channel, &sample));
    /* One kept from the skimmed part of the interval. */
    feed_str(channel, junk);
    g_assert_false(mb_guest_channel_feed(channel, line, len));
    mb_guest_channel_set_path(channel, "/nonexistent/elsewhere");
    g_assert_false(mb_guest_channel_take_sample(channel, &sample));
    /* A partial line is not completed by what comes after. */
    mb_guest_channel_feed(channel, line, len - 1);
    mb_guest_channel_close(channel);
    feed_str(channel, "\n");
    g_assert_false(mb_guest_channel_take_sample(channel, &sample));

    /* Over a socket: the last sample before EOF is this interval's; after
     * the reconnect nothing is repeated, and the new guest's torn start
     * does not join the old guest's partial line. */
    listener_open(&l);
    fd = guest_connect(channel, &l);
    mb_test_write_all(fd, line, len);
    mb_test_write_all(fd, line, len / 2);
    close(fd);
    g_assert_true(mb_guest_channel_poll(channel, &sample));
    g_assert_cmpuint(sample.active_anon_kib, ==, 555);
    g_assert_false(mb_guest_channel_poll(channel, &sample)); /* reconnects */
    fd = accept(l.listen_fd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    mb_test_write_all(fd, line + len / 2, len - len / 2);
    g_assert_false(mb_guest_channel_poll(channel, &sample));
    g_assert_false(mb_guest_channel_poll(channel, &sample));
    close(fd);
    listener_close(&l);
}

/* However the guest shapes its flood, an interval parses at most the
 * budget's worth of lines and keeps one line of each kind beyond it. */
static void
test_bounded_work(void)
{
    const char *shapes[] = {
        "MBG1 sample x\n",                            /* shortest lines kept for later */
        "MBG1 hello version=1 kernel=x page_kib=4\n", /* valid, kept, parsed */
        "\n",                                         /* blank */
        "a=b c=d e=f g=h\n",                          /* garbage */
    };

    for (gsize s = 0; s < G_N_ELEMENTS(shapes); s++) {
        g_autoptr(MbGuestChannel) channel = mb_guest_channel_new("bounded");
        g_autoptr(GString) flood = g_string_new(NULL);
        gsize shape_len = strlen(shapes[s]);
        MbGuestChannelStats stats;
        MbSample sample;
        guint64 max_lines = MB_GUEST_CHANNEL_POLL_BYTES / shape_len + 1;

        while (flood->len < 8 * 1024 * 1024)
            g_string_append(flood, shapes[s]);
        /* One interval in one call, one in 3-byte calls. */
        mb_guest_channel_feed(channel, flood->str, flood->len);
        g_assert_false(mb_guest_channel_take_sample(channel, &sample));
        gsize fed_bytes = 0;
        for (; fed_bytes + 3 <= 1024 * 1024; fed_bytes += 3)
            mb_guest_channel_feed(channel, flood->str + fed_bytes, 3);
        g_assert_false(mb_guest_channel_take_sample(channel, &sample));
        mb_guest_channel_get_stats(channel, &stats);
        /* Parsed lines: the budget's twice, plus one kept per interval. */
        g_assert_cmpuint(stats.n_bad + stats.n_hellos, <=, 2 * (max_lines + 1));
        g_assert_cmpuint(stats.n_discarded_bytes, ==,
                         flood->len + fed_bytes - 2 * MB_GUEST_CHANNEL_POLL_BYTES);
    }
}

/* ---- 5. the bounds are per interval, not per read ---------------------- */

typedef struct {
    int fd;
    gint stop;
    gint64 written; /* bytes the guest got through (__atomic) */
} Writer;

/* Valid sample records as fast as the host takes them, until the host
 * end closes (or stop, between writes). */
static gpointer
write_samples(gpointer data)
{
    Writer *w = data;
    g_autoptr(GString) batch = g_string_new(NULL);
    char line[MB_GUEST_PROTO_LINE_MAX + 1];

    for (guint64 seq = 1; batch->len < 16 * 1024; seq++) {
        format_sample(line, sizeof(line), seq, 100 + seq % 7, FALSE);
        g_string_append(batch, line);
    }
    while (!g_atomic_int_get(&w->stop)) {
        ssize_t n = send(w->fd, batch->str, batch->len, MSG_NOSIGNAL);

        if (n < 0)
            break;
        __atomic_fetch_add(&w->written, (gint64)n, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void
on_ready(gpointer user_data)
{
    unsigned urgent;

    mb_guest_channel_pump(user_data, &urgent);
}

/* Iterates the main context until the writer has not moved for 300 ms
 * (or 10 s have passed); returns what it wrote by then. */
static gint64
run_until_still(Writer *w)
{
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    gint64 last = -1, still_since = 0;

    while (g_get_monotonic_time() < end) {
        gint64 now_written = __atomic_load_n(&w->written, __ATOMIC_RELAXED);

        while (g_main_context_iteration(NULL, FALSE))
            ;
        if (now_written != last) {
            last = now_written;
            still_since = g_get_monotonic_time();
        } else if (g_get_monotonic_time() - still_since > 300 * 1000) {
            break;
        }
        g_usleep(1000);
    }
    return last;
}

/* A guest that writes as fast as it can between two ticks: the socket's
 * watch reads the interval's limits and then leaves the socket alone (the
 * guest waits), the lines parsed stay within the budget, and the next
 * interval reads again. */
static void
test_per_interval_socket(void)
{
    MbGuestChannel *channel = mb_guest_channel_new("fast-writer");
    gsize line_len = format_sample((char[MB_GUEST_PROTO_LINE_MAX + 1]){0},
                                   MB_GUEST_PROTO_LINE_MAX + 1, 1, 100, FALSE);
    guint64 max_lines = MB_GUEST_CHANNEL_POLL_BYTES / (line_len - 10) + 1;
    /* The limits, plus what the socket holds on the way. */
    gint64 bound =
        MB_GUEST_CHANNEL_POLL_BYTES + MB_GUEST_CHANNEL_DISCARD_BYTES + 2 * 1024 * 1024;
    MbGuestChannelStats stats;
    MbSample sample;
    Writer w = {0};
    Listener l;
    gint64 first, second;

    mb_guest_channel_set_ready_func(channel, on_ready, channel);
    listener_open(&l);
    w.fd = guest_connect(channel, &l);
    GThread *thread = g_thread_new("writer", write_samples, &w);

    first = run_until_still(&w);
    mb_guest_channel_get_stats(channel, &stats);
    g_test_message("one interval: the guest wrote %" G_GINT64_FORMAT
                   " bytes, %" G_GUINT64_FORMAT " samples parsed, %" G_GUINT64_FORMAT
                   " bytes not parsed",
                   first, stats.n_samples, stats.n_discarded_bytes);
    g_assert_cmpint(first, <=, bound);
    g_assert_cmpuint(stats.n_samples, <=, max_lines);
    g_assert_cmpuint(stats.n_samples, >=, 1);

    /* The tick: the newest sample, then the next interval reads again. */
    g_assert_true(mb_guest_channel_poll(channel, &sample));
    second = run_until_still(&w);
    g_test_message("two intervals: %" G_GINT64_FORMAT " bytes", second);
    g_assert_cmpint(second, >, first);
    g_assert_cmpint(second, <=, first + bound);
    mb_guest_channel_get_stats(channel, &stats);
    g_assert_cmpuint(stats.n_samples, <=, 2 * max_lines + 1);
    g_assert_true(mb_guest_channel_poll(channel, &sample));

    g_atomic_int_set(&w.stop, 1);
    mb_guest_channel_free(channel); /* the writer's send fails: it ends */
    g_thread_join(thread);
    close(w.fd);
    listener_close(&l);
}

typedef struct {
    const char *pattern;
    gsize pattern_len;
    gsize offset;
    guint64 served;
} Endless;

/* A transport that always has more: the pattern, again and again. */
static gssize
read_endless(gpointer user_data, char *buf, gsize len)
{
    Endless *e = user_data;

    for (gsize i = 0; i < len; i++) {
        buf[i] = e->pattern[e->offset];
        e->offset = (e->offset + 1) % e->pattern_len;
    }
    e->served += len;
    return (gssize)len;
}

/* A pushing transport (libvirt's stream events) calls read_ready as long
 * as it has data: per interval, the budget is parsed and the skim limit
 * skimmed, and what comes beyond is dropped unseen but for each read's
 * last lines; the next interval parses again. */
static void
test_per_interval_reads(void)
{
    g_autoptr(MbGuestChannel) channel = mb_guest_channel_new("pusher");
    char line[MB_GUEST_PROTO_LINE_MAX + 1];
    gsize len = format_sample(line, sizeof(line), 3, 333, FALSE);
    Endless e = {line, len, 0, 0};
    guint64 max_lines = MB_GUEST_CHANNEL_POLL_BYTES / len + 1;
    guint64 limits = MB_GUEST_CHANNEL_POLL_BYTES + MB_GUEST_CHANNEL_DISCARD_BYTES;
    MbGuestChannelStats stats;
    MbSample sample;
    gboolean ended;
    unsigned urgent;

    for (guint interval = 1; interval <= 3; interval++) {
        for (guint call = 0; call < 20; call++)
            mb_guest_channel_read_ready(channel, read_endless, &e, &ended, &urgent);
        mb_guest_channel_get_stats(channel, &stats);
        g_assert_cmpuint(stats.n_samples, <=, interval * max_lines);
        g_assert_cmpuint(stats.n_samples, >=, interval * (max_lines - 2));
        /* Everything read was parsed, skimmed or dropped; the skimmed part
         * is the limit's, once an interval. */
        g_assert_cmpuint(stats.n_discarded_bytes, ==,
                         e.served - interval * MB_GUEST_CHANNEL_POLL_BYTES);
        g_assert_cmpuint(stats.n_dropped_bytes, ==, e.served - interval * limits);
        g_assert_true(mb_guest_channel_take_sample(channel, &sample));
        g_assert_cmpuint(sample.active_anon_kib, ==, 333);
    }
    g_assert_cmpuint(e.served, >, 3 * limits);
}

/* Every field of the guest's sample reaches the planner's, each in its
 * own place (a value of its own shows a field copied into another or left
 * out), and the urgent bits as they are. */
static void
test_every_field(void)
{
    g_autoptr(MbGuestChannel) channel = mb_guest_channel_new("every-field");
    MbSample out;

    feed_str(channel, "MBG1 sample seq=42 total_kib=2048001 free_kib=512002 "
                      "active_anon_kib=600003 inactive_anon_kib=200004 active_file_kib=300005 "
                      "inactive_file_kib=300006 pswpin=107 pswpout=4508 psi_some_avg10=12.34 "
                      "psi_full_avg10=5.60 psi_some_total=123456 refault_anon=11 "
                      "refault_file=3548712 activate_anon=13 activate_file=1536414 "
                      "swap_used_kib=48576 low_kib=12000 urgent=5\n");
    g_assert_true(mb_guest_channel_take_sample(channel, &out));
    g_assert_cmpuint(out.total_kib, ==, 2048001);
    g_assert_cmpuint(out.free_kib, ==, 512002);
    g_assert_cmpuint(out.active_anon_kib, ==, 600003);
    g_assert_cmpuint(out.inactive_anon_kib, ==, 200004);
    g_assert_cmpuint(out.active_file_kib, ==, 300005);
    g_assert_cmpuint(out.inactive_file_kib, ==, 300006);
    g_assert_cmpuint(out.swap_in_pages, ==, 107);
    g_assert_cmpuint(out.swap_out_pages, ==, 4508);
    g_assert_true(out.has_psi);
    g_assert_cmpfloat_with_epsilon(out.psi_some_avg10, 12.34, 1e-9);
    g_assert_cmpfloat_with_epsilon(out.psi_full_avg10, 5.6, 1e-9);
    g_assert_cmpuint(out.psi_some_total_us, ==, 123456);
    g_assert_true(out.has_refaults);
    g_assert_cmpuint(out.refault_anon_pages, ==, 11);
    g_assert_cmpuint(out.refault_file_pages, ==, 3548712);
    g_assert_cmpuint(out.activate_anon_pages, ==, 13);
    g_assert_cmpuint(out.activate_file_pages, ==, 1536414);
    g_assert_true(out.has_swap_used);
    g_assert_cmpuint(out.swap_used_kib, ==, 48576);
    g_assert_cmpuint(out.low_wmark_kib, ==, 12000);
    g_assert_cmpuint(out.urgent, ==, MB_URGENT_PSI | MB_URGENT_SWAP);
}

/* The channel's socket from the domain's XML (it was part of
 * test-backend-libvirt; the test path is kept). */
static void
test_channel_path(void)
{
    const char *xml =
        "<domain type='kvm' id='3'><name>tv</name><devices>"
        "<channel type='unix'><source mode='bind' path='/run/other.sock'/>"
        "<target type='virtio' name='org.qemu.guest_agent.0' state='connected'/></channel>"
        "<channel type='pty'><source path='/dev/pts/3'/>"
        "<target type='virtio' name='org.smarttv.membalancer.0'/></channel>"
        "<channel type='unix'><source mode='bind' "
        "path='/var/lib/libvirt/qemu/channel/target/domain-3-tv/org.smarttv.membalancer.0'/>"
        "<target type='virtio' name='org.smarttv.membalancer.0' state='disconnected'/>"
        "<alias name='channel1'/><address type='virtio-serial' controller='0' bus='0' "
        "port='2'/></channel></devices></domain>";
    g_autofree char *path = mb_guest_channel_path_from_xml(xml, MB_GUEST_PROTO_CHANNEL);

    g_assert_cmpstr(
        path, ==, "/var/lib/libvirt/qemu/channel/target/domain-3-tv/org.smarttv.membalancer.0");
    g_assert_null(mb_guest_channel_path_from_xml("<domain><devices/></domain>", "x"));
    g_assert_null(mb_guest_channel_path_from_xml("<domain><devices><chan", "x"));
    g_assert_null(mb_guest_channel_path_from_xml("", MB_GUEST_PROTO_CHANNEL));
    /* The name must be the target's, not the source's. */
    g_assert_null(mb_guest_channel_path_from_xml(
        "<channel type='unix'><source path='/a' name='org.smarttv.membalancer.0'/>"
        "<target type='virtio' name='other'/></channel>",
        MB_GUEST_PROTO_CHANNEL));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* What a debug run would print, counted instead. */
    g_setenv("G_MESSAGES_DEBUG", "all", TRUE);
    logs = g_ptr_array_new_with_free_func(g_free);
    g_log_set_writer_func(test_writer, NULL, NULL);
    g_test_add_func("/libvirt/channel-path", test_channel_path);
    g_test_add_func("/guest-channel/every-field", test_every_field);
    g_test_add_func("/guest-channel/flood-then-record", test_flood_then_record);
    g_test_add_func("/guest-channel/flood-then-record-feed", test_flood_then_record_feed);
    g_test_add_func("/guest-channel/hello-flood", test_hello_flood);
    g_test_add_func("/guest-channel/page-size", test_page_size);
    g_test_add_func("/guest-channel/page-size-reconnect", test_page_size_reconnect);
    g_test_add_func("/guest-channel/backlog-newest-wins", test_backlog_newest_wins);
    g_test_add_func("/guest-channel/no-stale-after-close", test_no_stale_after_close);
    g_test_add_func("/guest-channel/bounded-work", test_bounded_work);
    g_test_add_func("/guest-channel/per-interval-socket", test_per_interval_socket);
    g_test_add_func("/guest-channel/per-interval-reads", test_per_interval_reads);
    int status = g_test_run();

    g_ptr_array_unref(logs);
    return status;
}
