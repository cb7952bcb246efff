/* The host end of a VM's agent channel (virtio-serial, a unix socket QEMU
 * listens on): a non-blocking reader of the agent's line protocol
 * (guest-driver/mb-guest-proto.h) that keeps the latest valid sample.
 *
 * The guest is untrusted: each poll reads at most
 * MB_GUEST_CHANNEL_POLL_BYTES (the rest then available is discarded, up
 * to MB_GUEST_CHANNEL_DISCARD_BYTES, and counted), over-long lines are
 * dropped up to their newline, bad records are counted and logged at most
 * once a minute. Not thread-safe: one thread at a time (the tick worker). */
#pragma once

#include <glib.h>

#include "mb-policy.h"

G_BEGIN_DECLS

#define MB_GUEST_CHANNEL_POLL_BYTES (64 * 1024)
#define MB_GUEST_CHANNEL_DISCARD_BYTES (4 * 1024 * 1024)

typedef struct {
    guint64 n_samples;         /* valid sample records */
    guint64 n_hellos;          /* valid hello records */
    guint64 n_bad;             /* records that did not parse */
    guint64 n_overlong;        /* lines over MB_GUEST_PROTO_LINE_MAX */
    guint64 n_discarded_bytes; /* read past the per-poll limit and dropped */
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
/* Closes the socket and forgets any partial line (the next poll reconnects). */
void mb_guest_channel_close(MbGuestChannel *channel);

/* Connects when needed, then reads and parses what is available without
 * blocking. Returns TRUE when at least one valid sample arrived in this
 * call, with the latest in *out. */
gboolean mb_guest_channel_poll(MbGuestChannel *channel, MbSample *out);
void mb_guest_channel_get_stats(MbGuestChannel *channel, MbGuestChannelStats *out);

/* The host path of the unix channel whose target is named target_name in a
 * libvirt domain XML (<channel type='unix'><source mode='bind' path=.../>
 * <target type='virtio' name=.../></channel>); NULL if there is none. */
char *mb_guest_channel_path_from_xml(const char *xml, const char *target_name);

G_END_DECLS
