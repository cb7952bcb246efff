/* The host end of a VM's agent channel (virtio-serial): a reader of the
 * agent's line protocol (common/mb-guest-wire.h) that keeps the latest
 * valid sample of each interval, in the planner's terms (MbSample).
 *
 * The bytes come from a non-blocking unix socket QEMU listens on
 * (set_path + poll), from any transport with a non-blocking read (drain:
 * the libvirt backend's virDomainOpenChannel stream), or from one that
 * hands them over as they arrive (feed); an interval ends at each
 * take_sample (poll and drain take).
 *
 * The guest is untrusted. The bounds are per interval (from one take to
 * the next), however many reads it takes: at most MB_GUEST_CHANNEL_POLL_BYTES
 * are parsed line by line; the next MB_GUEST_CHANNEL_DISCARD_BYTES are only
 * skimmed (counted as discarded bytes, never parsed, "flooding" logged)
 * except that the newest line that looks like a sample and the newest that
 * looks like a hello are kept, one buffer each, and parsed when the
 * interval ends; beyond both, bytes are dropped unseen (counted as dropped
 * too) but for the last two lines' worth of each chunk, skimmed likewise,
 * so that the record that follows a flood is still used. A flood thus
 * costs the host a bounded amount of line work per interval and a
 * constant amount per chunk beyond it. poll and drain read no more than
 * the interval's parse and skim limits (the rest waits in the transport);
 * the socket's watch stops there until poll ends the interval. Over-long
 * lines are dropped up to their newline; bad
 * records, bad page sizes and hellos are logged at most once a minute each.
 * Memory is fixed per channel. Not thread-safe: the caller serializes all
 * calls on one channel (feed from a transport callback included). */
#pragma once

#include <glib.h>

#include "mb-policy.h"

G_BEGIN_DECLS

#define MB_GUEST_CHANNEL_POLL_BYTES (64 * 1024)
#define MB_GUEST_CHANNEL_DISCARD_BYTES (4 * 1024 * 1024)
/* The page size assumed until the agent's hello says otherwise. */
#define MB_GUEST_CHANNEL_DEFAULT_PAGE_KIB 4
/* Page sizes outside these bounds are ignored (powers of two only). */
#define MB_GUEST_CHANNEL_PAGE_KIB_MIN 4
#define MB_GUEST_CHANNEL_PAGE_KIB_MAX 1024

typedef struct {
    guint64 n_samples;         /* valid sample records */
    guint64 n_hellos;          /* valid hello records */
    guint64 n_bad;             /* records that did not parse */
    guint64 n_overlong;        /* lines over MB_GUEST_PROTO_LINE_MAX */
    guint64 n_discarded_bytes; /* past the per-interval limit: not parsed */
    guint64 n_dropped_bytes;   /* of those, past the skim limit too: dropped unseen */
    guint64 n_connects;        /* successful connects */
} MbGuestChannelStats;

typedef struct _MbGuestChannel MbGuestChannel;

/* vm_name is used in log messages only. */
MbGuestChannel *mb_guest_channel_new(const char *vm_name);
void mb_guest_channel_free(MbGuestChannel *channel);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MbGuestChannel, mb_guest_channel_free)

/* The socket to connect to (NULL: none); a new path closes the old socket. */
void mb_guest_channel_set_path(MbGuestChannel *channel, const char *path);
const char *mb_guest_channel_get_path(MbGuestChannel *channel);
/* Closes the socket (if any) and forgets everything the guest sent: the
 * partial line, a sample not yet taken, the page size (back to the
 * default). The next poll reconnects; call it too when another transport
 * ends or restarts, so that nothing of the old stream counts as fresh. */
void mb_guest_channel_close(MbGuestChannel *channel);

/* Runs the line parser on the next chunk of the stream, of any size and
 * cut anywhere. Returns TRUE when a valid sample was parsed from it (then
 * kept for take_sample). Over the interval's budget nothing is parsed
 * here: the newest sample-like line is parsed at the next take_sample. */
gboolean mb_guest_channel_feed(MbGuestChannel *channel, const char *data, gsize len);
/* Ends the interval: returns TRUE with the latest valid sample received
 * since the last take (or poll) in *out, FALSE (and *out untouched) when
 * none came. A sample is returned once. */
gboolean mb_guest_channel_take_sample(MbGuestChannel *channel, MbSample *out);

/* A transport's non-blocking read: returns the number of bytes read
 * (> 0), 0 at the end of the stream, -1 when it failed, or
 * MB_GUEST_CHANNEL_READ_AGAIN when nothing more is there now. */
#define MB_GUEST_CHANNEL_READ_AGAIN (-2)
typedef gssize (*MbGuestChannelReadFunc)(gpointer user_data, char *buf, gsize len);

/* Feeds what read_func gives until it has nothing more, up to what is
 * left of the interval's parse and skim limits, then takes (as take_sample). When the
 * stream ended or failed, *ended is TRUE and the channel has dropped its
 * partial line: the sample it brought is still returned (in the page size
 * of its hello); call close before the next stream. */
gboolean mb_guest_channel_drain(MbGuestChannel *channel, MbGuestChannelReadFunc read_func,
                                gpointer user_data, MbSample *out, gboolean *ended);

/* Feeds what read_func has now without ending the interval (the sample
 * stays for take_sample, drain or poll): for a transport that says when
 * data arrives. Past the interval's limits it reads on, up to
 * MB_GUEST_CHANNEL_DISCARD_BYTES a call, and drops what it reads (a
 * transport that queues without bound, as libvirt's stream client does,
 * must not be left to). Returns TRUE when a valid sample was parsed, with the OR
 * of the MB_URGENT_* bits of the samples parsed in *urgent (0 otherwise;
 * lines skimmed in a flood are not parsed, so they are never urgent).
 * When the stream ended, *ended is TRUE and the partial line is dropped. */
gboolean mb_guest_channel_read_ready(MbGuestChannel *channel, MbGuestChannelReadFunc read_func,
                                     gpointer user_data, gboolean *ended, unsigned *urgent);

/* With a ready function, each socket poll connects is watched on the
 * default main context: func(user_data) runs in the main thread when it
 * is readable or ends, and should serialize with the channel's other
 * callers and call pump. Set once, before the first poll. */
typedef void (*MbGuestChannelReadyFunc)(gpointer user_data);
void mb_guest_channel_set_ready_func(MbGuestChannel *channel, MbGuestChannelReadyFunc func,
                                     gpointer user_data);
/* read_ready on the socket, without connecting, but never past the
 * interval's limits: there, and at the socket's end, the watch stops
 * until the next poll (which takes the sample, and watches again or
 * closes). */
gboolean mb_guest_channel_pump(MbGuestChannel *channel, unsigned *urgent);

/* The unix socket transport: connects to the path when needed, drains it
 * without blocking, then takes: returns TRUE when a valid sample arrived
 * since the last take, with the latest in *out. */
gboolean mb_guest_channel_poll(MbGuestChannel *channel, MbSample *out);

/* The guest's page size in KiB (the unit of MbSample's swap counters):
 * from the latest valid hello of this connection, else
 * MB_GUEST_CHANNEL_DEFAULT_PAGE_KIB. */
guint64 mb_guest_channel_get_page_kib(MbGuestChannel *channel);
void mb_guest_channel_get_stats(MbGuestChannel *channel, MbGuestChannelStats *out);

/* The host path of the unix channel whose target is named target_name in a
 * libvirt domain XML (<channel type='unix'><source mode='bind' path=.../>
 * <target type='virtio' name=.../></channel>); NULL if there is none. */
char *mb_guest_channel_path_from_xml(const char *xml, const char *target_name);

G_END_DECLS
