#include "mb-guest-channel.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mb-guest-proto.h"
#include "mb-log.h"

/* At most one complaint about a guest's records per this many µs. */
#define BAD_LOG_INTERVAL_US (60 * G_USEC_PER_SEC)

struct _MbGuestChannel {
    char *vm_name;
    char *path;
    int fd;
    gboolean connected_logged; /* the "connected" line was logged for this path */

    char line[MB_GUEST_PROTO_LINE_MAX];
    gsize line_len;
    gboolean skipping; /* inside an over-long or truncated line: drop up to '\n' */

    MbGuestChannelStats stats;
    gint64 last_log_us;
    const char *last_why;
};

MbGuestChannel *
mb_guest_channel_new(const char *vm_name)
{
    MbGuestChannel *channel = g_new0(MbGuestChannel, 1);

    channel->vm_name = g_strdup(vm_name);
    channel->fd = -1;
    return channel;
}

void
mb_guest_channel_close(MbGuestChannel *channel)
{
    if (channel->fd >= 0)
        close(channel->fd);
    channel->fd = -1;
    channel->line_len = 0;
    channel->skipping = FALSE;
}

void
mb_guest_channel_free(MbGuestChannel *channel)
{
    if (channel == NULL)
        return;
    mb_guest_channel_close(channel);
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

void
mb_guest_channel_get_stats(MbGuestChannel *channel, MbGuestChannelStats *out)
{
    *out = channel->stats;
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
           " bytes dropped over the flood limit (%u bytes per interval); next report in "
           "a minute at the earliest",
           channel->vm_name, why, channel->stats.n_bad, channel->stats.n_overlong,
           channel->stats.n_discarded_bytes, MB_GUEST_CHANNEL_POLL_BYTES);
    channel->last_log_us = now;
}

static gboolean
handle_line(MbGuestChannel *channel, MbSample *out)
{
    MbGuestRecord record;
    const char *why = NULL;

    if (channel->line_len == 0)
        return FALSE; /* blank lines are harmless */
    if (!mb_guest_record_parse(channel->line, channel->line_len, &record, &why)) {
        channel->stats.n_bad++;
        note_problem(channel, why != NULL ? why : "unparsable record");
        return FALSE;
    }
    if (record.kind == MB_GUEST_RECORD_HELLO) {
        channel->stats.n_hellos++;
        mb_log(G_LOG_LEVEL_INFO, "MB_VM", channel->vm_name,
               "VM '%s': agent protocol %u, kernel %s, pages of %u KiB", channel->vm_name,
               record.version, record.kernel, record.page_kib);
        return FALSE;
    }
    if (record.kind != MB_GUEST_RECORD_SAMPLE)
        return FALSE;
    channel->stats.n_samples++;
    *out = record.sample;
    return TRUE;
}

/* Splits data into lines; returns TRUE if a sample was taken. */
static gboolean
feed(MbGuestChannel *channel, const char *data, gsize len, MbSample *out)
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
        if (!channel->skipping && handle_line(channel, out))
            got = TRUE;
        channel->line_len = 0;
        channel->skipping = FALSE;
        data = nl + 1;
        len -= seg + 1;
    }
    return got;
}

/* Reads and drops what the guest sent beyond the per-poll limit. */
static void
discard_excess(MbGuestChannel *channel)
{
    char buf[16 * 1024];
    gsize dropped = 0;
    char last = '\n';

    while (dropped < MB_GUEST_CHANNEL_DISCARD_BYTES) {
        ssize_t n = read(channel->fd, buf, sizeof(buf));
        if (n <= 0)
            break; /* EAGAIN, EOF or an error: the next poll sees it */
        dropped += (gsize)n;
        last = buf[n - 1];
    }
    if (dropped == 0)
        return;
    channel->stats.n_discarded_bytes += dropped;
    /* The parsed part ended somewhere in a line; so did the dropped part
     * unless it ended with a newline. */
    channel->line_len = 0;
    channel->skipping = last != '\n';
    note_problem(channel, "flooding the channel");
}

gboolean
mb_guest_channel_poll(MbGuestChannel *channel, MbSample *out)
{
    char buf[8 * 1024];
    gsize budget = MB_GUEST_CHANNEL_POLL_BYTES;
    gboolean got = FALSE;

    if (channel->fd < 0 && !channel_connect(channel))
        return FALSE;
    while (budget > 0) {
        ssize_t n = read(channel->fd, buf, MIN(sizeof(buf), budget));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return got;
        if (n <= 0) {
            /* The guest side went away (QEMU stopped, or the port was
             * reset): reconnect at the next poll. */
            mb_guest_channel_close(channel);
            return got;
        }
        if (feed(channel, buf, (gsize)n, out))
            got = TRUE;
        budget -= (gsize)n;
    }
    discard_excess(channel);
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
