#include "mb-guest-channel.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mb-guest-wire.h"
#include "mb-log.h"

/* The wire's urgent reasons are the planner's: one set of bits on both
 * sides, handed over as they are. */
G_STATIC_ASSERT(MB_GUEST_URGENT_PSI == MB_URGENT_PSI);
G_STATIC_ASSERT(MB_GUEST_URGENT_LOW == MB_URGENT_LOW);
G_STATIC_ASSERT(MB_GUEST_URGENT_SWAP == MB_URGENT_SWAP);
/* The two sample types hold the same fields: one added to either belongs
 * in the other and in mb_guest_sample_to_policy(). */
G_STATIC_ASSERT(sizeof(MbGuestSample) == sizeof(MbSample));

/* At most one complaint about a guest's records per this many µs; the same
 * for its hellos. */
#define BAD_LOG_INTERVAL_US (60 * G_USEC_PER_SEC)

/* What a skimmed line must start with to be kept for parsing later. */
#define SAMPLE_PREFIX MB_GUEST_PROTO_MAGIC " sample "
#define HELLO_PREFIX MB_GUEST_PROTO_MAGIC " hello "

/* One line kept from the skimmed part of an interval (len 0: none). */
typedef struct {
    char text[MB_GUEST_PROTO_LINE_MAX];
    gsize len;
} KeptLine;

struct _MbGuestChannel {
    char *vm_name;
    char *path;
    int fd;
    gboolean connected_logged; /* the "connected" line was logged for this path */
    /* Watching the socket on the default main context (set_ready_func). */
    MbGuestChannelReadyFunc ready_func;
    gpointer ready_data;
    GSource *watch; /* while fd is open and has not ended */

    char line[MB_GUEST_PROTO_LINE_MAX];
    gsize line_len;
    gboolean skipping; /* inside an over-long or truncated line: drop up to '\n' */

    /* This interval, since the last take. */
    gsize budget;    /* bytes still to parse before skimming */
    gsize skim_left; /* bytes still to skim before dropping unseen */
    gboolean flood_noted;
    KeptLine kept_sample, kept_hello;
    gboolean have_sample;
    MbSample sample;
    unsigned urgent_seen; /* MB_URGENT_* of the samples parsed by read_ready */

    guint64 page_kib;

    MbGuestChannelStats stats;
    gint64 last_log_us;
    const char *last_why;
    gint64 hello_log_us;
    guint64 hellos_unlogged; /* valid hellos since the last one logged */
};

/* Forgets the stream's bytes: the partial line and the lines kept. */
static void
forget_stream(MbGuestChannel *channel)
{
    channel->line_len = 0;
    channel->skipping = FALSE;
    channel->kept_sample.len = 0;
    channel->kept_hello.len = 0;
}

/* Forgets all the guest said: a new connection may be a new guest. */
static void
forget_guest(MbGuestChannel *channel)
{
    forget_stream(channel);
    channel->have_sample = FALSE;
    channel->page_kib = MB_GUEST_CHANNEL_DEFAULT_PAGE_KIB;
}

MbGuestChannel *
mb_guest_channel_new(const char *vm_name)
{
    MbGuestChannel *channel = g_new0(MbGuestChannel, 1);

    channel->vm_name = g_strdup(vm_name);
    channel->fd = -1;
    channel->budget = MB_GUEST_CHANNEL_POLL_BYTES;
    channel->skim_left = MB_GUEST_CHANNEL_DISCARD_BYTES;
    channel->page_kib = MB_GUEST_CHANNEL_DEFAULT_PAGE_KIB;
    return channel;
}

static void
unwatch(MbGuestChannel *channel)
{
    if (channel->watch == NULL)
        return;
    g_source_destroy(channel->watch);
    g_clear_pointer(&channel->watch, g_source_unref);
}

static void
close_fd(MbGuestChannel *channel)
{
    unwatch(channel);
    if (channel->fd >= 0)
        close(channel->fd);
    channel->fd = -1;
}

void
mb_guest_channel_close(MbGuestChannel *channel)
{
    close_fd(channel);
    forget_guest(channel);
}

void
mb_guest_channel_free(MbGuestChannel *channel)
{
    if (channel == NULL)
        return;
    close_fd(channel);
    g_free(channel->vm_name);
    g_free(channel->path);
    g_free(channel);
}

void
mb_guest_channel_set_path(MbGuestChannel *channel, const char *path)
{
    if (g_strcmp0(path, channel->path) == 0)
        return;
    mb_guest_channel_close(channel);
    g_free(channel->path);
    channel->path = g_strdup(path);
    channel->connected_logged = FALSE;
}

const char *
mb_guest_channel_get_path(MbGuestChannel *channel)
{
    return channel->path;
}

guint64
mb_guest_channel_get_page_kib(MbGuestChannel *channel)
{
    return channel->page_kib;
}

void
mb_guest_channel_get_stats(MbGuestChannel *channel, MbGuestChannelStats *out)
{
    *out = channel->stats;
}

/* The main thread: the socket has data or ended. The ready function
 * serializes with the channel's other users and calls pump. */
static gboolean
on_watch(int fd, GIOCondition condition, gpointer user_data)
{
    MbGuestChannel *channel = user_data;

    channel->ready_func(channel->ready_data);
    return G_SOURCE_CONTINUE;
}

void
mb_guest_channel_set_ready_func(MbGuestChannel *channel, MbGuestChannelReadyFunc func,
                                gpointer user_data)
{
    channel->ready_func = func;
    channel->ready_data = user_data;
}

static void
watch_fd(MbGuestChannel *channel)
{
    if (channel->ready_func == NULL || channel->watch != NULL)
        return;
    channel->watch = g_unix_fd_source_new(channel->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(channel->watch, G_SOURCE_FUNC(on_watch), channel, NULL);
    g_source_set_name(channel->watch, "membalancer agent channel");
    g_source_attach(channel->watch, NULL);
}

static gboolean
channel_connect(MbGuestChannel *channel)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd;

    if (channel->path == NULL || strlen(channel->path) >= sizeof(addr.sun_path))
        return FALSE;
    memcpy(addr.sun_path, channel->path, strlen(channel->path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return FALSE;
    /* A local listener accepts at once or refuses; EINPROGRESS does not
     * happen for AF_UNIX, EAGAIN (full backlog) is retried next poll. */
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(fd);
        return FALSE;
    }
    channel->fd = fd;
    channel->stats.n_connects++;
    watch_fd(channel);
    /* QEMU went away and came back: nothing from before is this guest's. */
    forget_guest(channel);
    if (!channel->connected_logged) {
        mb_log(G_LOG_LEVEL_INFO, "MB_VM", channel->vm_name,
               "VM '%s': connected to the agent channel %s", channel->vm_name, channel->path);
        channel->connected_logged = TRUE;
    }
    return TRUE;
}

/* Rate-limited: the first problem at once, then one summary a minute. */
static void
note_problem(MbGuestChannel *channel, const char *why)
{
    gint64 now = g_get_monotonic_time();

    channel->last_why = why;
    if (channel->last_log_us != 0 && now - channel->last_log_us < BAD_LOG_INTERVAL_US)
        return;
    mb_log(G_LOG_LEVEL_WARNING, "MB_VM", channel->vm_name,
           "VM '%s' sends bad agent data (latest: %s); so far %" G_GUINT64_FORMAT
           " bad records, %" G_GUINT64_FORMAT " over-long lines, %" G_GUINT64_FORMAT
           " bytes not parsed over the flood limit (%u bytes parsed, %u skimmed per "
           "interval; %" G_GUINT64_FORMAT " bytes dropped unseen beyond); next report in "
           "a minute at the earliest",
           channel->vm_name, why, channel->stats.n_bad, channel->stats.n_overlong,
           channel->stats.n_discarded_bytes, MB_GUEST_CHANNEL_POLL_BYTES,
           MB_GUEST_CHANNEL_DISCARD_BYTES, channel->stats.n_dropped_bytes);
    channel->last_log_us = now;
}

static gboolean
page_kib_ok(guint64 page_kib)
{
    return page_kib >= MB_GUEST_CHANNEL_PAGE_KIB_MIN &&
           page_kib <= MB_GUEST_CHANNEL_PAGE_KIB_MAX && (page_kib & (page_kib - 1)) == 0;
}

/* The guest's claims in the planner's terms. The wire (common/) knows
 * nothing of the planner, so the host converts, field by field: a field
 * added to MbGuestSample is added here, and to MbSample if the planner is
 * to use it (test-guest-channel's /guest-channel/every-field shows each
 * one arrive). */
static void
mb_guest_sample_to_policy(const MbGuestSample *in, MbSample *out)
{
    *out = (MbSample){
        .total_kib = in->total_kib,
        .free_kib = in->free_kib,
        .active_anon_kib = in->active_anon_kib,
        .inactive_anon_kib = in->inactive_anon_kib,
        .active_file_kib = in->active_file_kib,
        .inactive_file_kib = in->inactive_file_kib,
        .swap_in_pages = in->swap_in_pages,
        .swap_out_pages = in->swap_out_pages,
        .has_psi = in->has_psi,
        .psi_some_avg10 = in->psi_some_avg10,
        .psi_full_avg10 = in->psi_full_avg10,
        .has_refaults = in->has_refaults,
        .refault_anon_pages = in->refault_anon_pages,
        .refault_file_pages = in->refault_file_pages,
        .activate_anon_pages = in->activate_anon_pages,
        .activate_file_pages = in->activate_file_pages,
        .has_swap_used = in->has_swap_used,
        .swap_used_kib = in->swap_used_kib,
        .low_wmark_kib = in->low_wmark_kib,
        .psi_some_total_us = in->psi_some_total_us,
        .urgent = in->urgent,
    };
}

/* An agent sends one every 60 samples and after every dropped record;
 * a hostile one any number: the first at once, then one a minute. */
static void
handle_hello(MbGuestChannel *channel, const MbGuestMessage *message)
{
    gint64 now = g_get_monotonic_time();
    gboolean page_ok = page_kib_ok(message->page_kib);

    channel->stats.n_hellos++;
    if (page_ok)
        channel->page_kib = message->page_kib;
    else
        note_problem(channel, "hello with a page size outside 4..1024 KiB (ignored)");
    if (channel->hello_log_us != 0 && now - channel->hello_log_us < BAD_LOG_INTERVAL_US) {
        channel->hellos_unlogged++;
        return;
    }
    char unlogged[80] = "";
    if (channel->hellos_unlogged > 0)
        g_snprintf(unlogged, sizeof(unlogged),
                   "; %" G_GUINT64_FORMAT " more hellos not logged (one a minute)",
                   channel->hellos_unlogged);
    mb_log(G_LOG_LEVEL_INFO, "MB_VM", channel->vm_name,
           "VM '%s': agent protocol %u, kernel %s, pages of %u KiB%s%s", channel->vm_name,
           message->version, message->kernel, message->page_kib, page_ok ? "" : " (ignored)",
           unlogged);
    channel->hello_log_us = now;
    channel->hellos_unlogged = 0;
}

/* Returns TRUE if the line was a valid sample (then kept). */
static gboolean
handle_line(MbGuestChannel *channel, const char *line, gsize len)
{
    MbGuestMessage message;
    const char *why = NULL;

    if (len == 0)
        return FALSE; /* blank lines are harmless */
    if (!mb_guest_message_parse(line, len, &message, &why)) {
        channel->stats.n_bad++;
        note_problem(channel, why != NULL ? why : "unparsable record");
        return FALSE;
    }
    if (message.kind == MB_GUEST_RECORD_HELLO) {
        handle_hello(channel, &message);
        return FALSE;
    }
    if (message.kind != MB_GUEST_RECORD_SAMPLE)
        return FALSE;
    channel->stats.n_samples++;
    channel->urgent_seen |= message.sample.urgent;
    mb_guest_sample_to_policy(&message.sample, &channel->sample);
    channel->have_sample = TRUE;
    return TRUE;
}

static void
keep_line(KeptLine *kept, const char *line, gsize len)
{
    memcpy(kept->text, line, len);
    kept->len = len;
}

/* A complete line over the budget: not parsed, but the newest of each
 * kind is kept for the end of the interval. */
static void
skim_line(MbGuestChannel *channel)
{
    const char *line = channel->line;
    gsize len = channel->line_len;

    if (len >= sizeof(SAMPLE_PREFIX) - 1 &&
        memcmp(line, SAMPLE_PREFIX, sizeof(SAMPLE_PREFIX) - 1) == 0)
        keep_line(&channel->kept_sample, line, len);
    else if (len >= sizeof(HELLO_PREFIX) - 1 &&
             memcmp(line, HELLO_PREFIX, sizeof(HELLO_PREFIX) - 1) == 0)
        keep_line(&channel->kept_hello, line, len);
}

/* Splits data into lines, parsed or skimmed; returns TRUE if a sample was
 * parsed. */
static gboolean
split_lines(MbGuestChannel *channel, const char *data, gsize len, gboolean parse)
{
    gboolean got = FALSE;

    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        gsize seg = nl != NULL ? (gsize)(nl - data) : len;

        if (!channel->skipping) {
            /* The line with its newline must fit MB_GUEST_PROTO_LINE_MAX. */
            if (channel->line_len + seg + 1 > sizeof(channel->line)) {
                channel->stats.n_overlong++;
                note_problem(channel, "over-long line");
                channel->line_len = 0;
                channel->skipping = TRUE;
            } else {
                memcpy(channel->line + channel->line_len, data, seg);
                channel->line_len += seg;
            }
        }
        if (nl == NULL)
            break;
        if (!channel->skipping) {
            if (!parse)
                skim_line(channel);
            else if (handle_line(channel, channel->line, channel->line_len))
                got = TRUE;
        }
        channel->line_len = 0;
        channel->skipping = FALSE;
        data = nl + 1;
        len -= seg + 1;
    }
    return got;
}

/* Past the interval's skim allowance: only the end of the chunk is looked
 * at (two lines' worth, for the newest sample), whatever its size. */
static void
drop_unseen(MbGuestChannel *channel, const char *data, gsize len)
{
    gsize tail = 2 * MB_GUEST_PROTO_LINE_MAX;

    channel->stats.n_dropped_bytes += len;
    if (len > tail) {
        /* The line open where the tail starts is cut: dropped up to its end. */
        channel->line_len = 0;
        channel->skipping = data[len - tail - 1] != '\n';
        data += len - tail;
        len = tail;
    }
    split_lines(channel, data, len, FALSE);
}

gboolean
mb_guest_channel_feed(MbGuestChannel *channel, const char *data, gsize len)
{
    gsize parsed = MIN(len, channel->budget);
    gsize skimmed = MIN(len - parsed, channel->skim_left);
    gboolean got = split_lines(channel, data, parsed, TRUE);

    channel->budget -= parsed;
    channel->skim_left -= skimmed;
    if (parsed < len) {
        channel->stats.n_discarded_bytes += len - parsed;
        if (!channel->flood_noted) {
            channel->flood_noted = TRUE;
            note_problem(channel, "flooding the channel");
        }
        split_lines(channel, data + parsed, skimmed, FALSE);
        if (parsed + skimmed < len)
            drop_unseen(channel, data + parsed + skimmed, len - parsed - skimmed);
    }
    return got;
}

gboolean
mb_guest_channel_take_sample(MbGuestChannel *channel, MbSample *out)
{
    /* The skimmed lines are newer than any parsed one; a hello first, as
     * an agent sends it before its sample. */
    if (channel->kept_hello.len > 0)
        handle_line(channel, channel->kept_hello.text, channel->kept_hello.len);
    if (channel->kept_sample.len > 0)
        handle_line(channel, channel->kept_sample.text, channel->kept_sample.len);
    channel->kept_hello.len = 0;
    channel->kept_sample.len = 0;
    channel->budget = MB_GUEST_CHANNEL_POLL_BYTES;
    channel->skim_left = MB_GUEST_CHANNEL_DISCARD_BYTES;
    channel->flood_noted = FALSE;
    if (!channel->have_sample)
        return FALSE;
    *out = channel->sample;
    channel->have_sample = FALSE;
    return TRUE;
}

gboolean
mb_guest_channel_drain(MbGuestChannel *channel, MbGuestChannelReadFunc read_func,
                       gpointer user_data, MbSample *out, gboolean *ended)
{
    char buf[16 * 1024];
    gsize limit;

    *ended = FALSE;
    /* What is queued past the parsed part is skimmed, up to what is left
     * of the interval's limit: the next interval then starts with the
     * guest's newest records. */
    limit = channel->budget + channel->skim_left;
    while (limit > 0) {
        gssize n = read_func(user_data, buf, MIN(sizeof(buf), limit));

        if (n == MB_GUEST_CHANNEL_READ_AGAIN)
            break;
        if (n <= 0) {
            /* The guest side went away (QEMU stopped, or the port was
             * reset): what came before is still this interval's; the
             * next stream starts afresh. */
            gboolean got = mb_guest_channel_take_sample(channel, out);

            *ended = TRUE;
            forget_stream(channel);
            return got;
        }
        mb_guest_channel_feed(channel, buf, (gsize)n);
        limit -= (gsize)n;
    }
    return mb_guest_channel_take_sample(channel, out);
}

/* read_ready; drop_past: once the interval's limit is reached, read on
 * (up to MB_GUEST_CHANNEL_DISCARD_BYTES a call) and drop, else stop. */
static gboolean
read_some(MbGuestChannel *channel, MbGuestChannelReadFunc read_func, gpointer user_data,
          gboolean drop_past, gboolean *ended, unsigned *urgent)
{
    char buf[16 * 1024];
    gsize limit = channel->budget + channel->skim_left;
    gboolean got = FALSE;

    *ended = FALSE;
    channel->urgent_seen = 0;
    if (limit == 0 && drop_past)
        limit = MB_GUEST_CHANNEL_DISCARD_BYTES;
    /* Each call may read this much: the transport calls again while more
     * is there, and other sources of the loop run in between. */
    while (limit > 0) {
        gssize n = read_func(user_data, buf, MIN(sizeof(buf), limit));

        if (n == MB_GUEST_CHANNEL_READ_AGAIN)
            break;
        if (n <= 0) {
            *ended = TRUE;
            forget_stream(channel); /* the sample stays for take_sample */
            break;
        }
        if (mb_guest_channel_feed(channel, buf, (gsize)n))
            got = TRUE;
        limit -= (gsize)n;
    }
    *urgent = got ? channel->urgent_seen : 0;
    return got;
}

gboolean
mb_guest_channel_read_ready(MbGuestChannel *channel, MbGuestChannelReadFunc read_func,
                            gpointer user_data, gboolean *ended, unsigned *urgent)
{
    return read_some(channel, read_func, user_data, TRUE, ended, urgent);
}

static gssize
read_fd(gpointer user_data, char *buf, gsize len)
{
    MbGuestChannel *channel = user_data;

    for (;;) {
        ssize_t n = read(channel->fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return MB_GUEST_CHANNEL_READ_AGAIN;
        return n < 0 ? -1 : n;
    }
}

gboolean
mb_guest_channel_poll(MbGuestChannel *channel, MbSample *out)
{
    gboolean ended, got;

    if (channel->fd < 0 && !channel_connect(channel))
        return mb_guest_channel_take_sample(channel, out);
    got = mb_guest_channel_drain(channel, read_fd, channel, out, &ended);
    if (ended)
        close_fd(channel); /* the next poll reconnects */
    else
        watch_fd(channel); /* a new interval: pump reads again */
    return got;
}

gboolean
mb_guest_channel_pump(MbGuestChannel *channel, unsigned *urgent)
{
    gboolean ended, got;

    *urgent = 0;
    if (channel->fd < 0)
        return FALSE;
    /* Past the interval's limit the socket is left alone (the guest's
     * writes wait) until poll ends the interval; at its end, poll sees
     * the end again, takes the sample and closes. */
    got = read_some(channel, read_fd, channel, FALSE, &ended, urgent);
    if (ended || channel->budget + channel->skim_left == 0)
        unwatch(channel);
    return got;
}

/* ---- the channel's path in the domain XML ---------------------------- */

typedef struct {
    const char *target_name;
    int channel_depth; /* depth of the open <channel type='unix'>, 0 if none */
    int depth;
    char *path;   /* of the open channel */
    gboolean hit; /* the open channel has our target */
    char *result;
} XmlScan;

static const char *
attr(const char **names, const char **values, const char *name)
{
    for (gsize i = 0; names[i] != NULL; i++)
        if (g_str_equal(names[i], name))
            return values[i];
    return NULL;
}

static void
xml_start(GMarkupParseContext *context, const char *element, const char **names,
          const char **values, gpointer user_data, GError **error)
{
    XmlScan *scan = user_data;

    scan->depth++;
    if (scan->channel_depth == 0) {
        if (g_str_equal(element, "channel") &&
            g_strcmp0(attr(names, values, "type"), "unix") == 0) {
            scan->channel_depth = scan->depth;
            scan->hit = FALSE;
            g_clear_pointer(&scan->path, g_free);
        }
        return;
    }
    if (scan->depth != scan->channel_depth + 1)
        return;
    if (g_str_equal(element, "source") && attr(names, values, "path") != NULL) {
        g_free(scan->path);
        scan->path = g_strdup(attr(names, values, "path"));
    } else if (g_str_equal(element, "target") &&
               g_strcmp0(attr(names, values, "name"), scan->target_name) == 0) {
        scan->hit = TRUE;
    }
}

static void
xml_end(GMarkupParseContext *context, const char *element, gpointer user_data, GError **error)
{
    XmlScan *scan = user_data;

    if (scan->channel_depth != 0 && scan->depth == scan->channel_depth) {
        if (scan->hit && scan->path != NULL && scan->result == NULL)
            scan->result = g_steal_pointer(&scan->path);
        scan->channel_depth = 0;
        g_clear_pointer(&scan->path, g_free);
    }
    scan->depth--;
}

char *
mb_guest_channel_path_from_xml(const char *xml, const char *target_name)
{
    static const GMarkupParser parser = {.start_element = xml_start, .end_element = xml_end};
    XmlScan scan = {.target_name = target_name};
    g_autoptr(GMarkupParseContext) context =
        g_markup_parse_context_new(&parser, G_MARKUP_IGNORE_QUALIFIED, &scan, NULL);

    if (!g_markup_parse_context_parse(context, xml, -1, NULL) ||
        !g_markup_parse_context_end_parse(context, NULL))
        g_clear_pointer(&scan.result, g_free);
    g_free(scan.path);
    return scan.result;
}
