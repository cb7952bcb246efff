/* The libvirt backend's agent channel: a stream through libvirt, or the
 * channel's socket read directly (the test driver). The threads and
 * locks: see mb-libvirt-private.h. */
#include "mb-libvirt-agent.h"

#include <libvirt/virterror.h>

#include "mb-guest-wire.h"
#include "mb-log.h"

/* A channel libvirt could not open is tried again after this. */
#define STREAM_RETRY_US (5 * G_USEC_PER_SEC)

/* ---- the agent channel ------------------------------------------------ */

/* The channel is opened through libvirt (virDomainOpenChannel): libvirtd
 * connects to QEMU's socket, so the daemon needs no access to QEMU's files.
 * The stream is non-blocking: its data
 * arrives through the connection's socket, which libvirt's event sources
 * on the main loop read as it comes; the stream's event callback feeds it
 * to the parser at once (so that an urgent record starts a tick now), and
 * the tick's worker drains whatever is left and takes the sample. */

/* The main thread, a stream callback or the socket's watch: a record
 * marked urgent arrived. */
static void
notify_urgent(LvDomain *d, unsigned urgent)
{
    /* owner: NULL once the object is gone (the same thread clears it). */
    if (urgent != 0 && d->backend->owner != NULL)
        mb_backend_emit_urgent(d->backend->owner, d->name, urgent);
}

static gssize
read_stream(gpointer user_data, char *buf, gsize len)
{
    int n = virStreamRecv(user_data, buf, len);

    return n == -2 ? MB_GUEST_CHANNEL_READ_AGAIN : n;
}

/* The main thread: libvirt's stream event. Only reads what is queued;
 * an ended stream is left for the tick to drop (aborting may wait). */
static void
on_stream_event(virStreamPtr st, int events, void *opaque)
{
    LvDomain *d = opaque;
    LvState *self = d->backend;
    gboolean ended = FALSE;
    unsigned urgent = 0;

    g_mutex_lock(&self->chan_lock);
    /* Dropped meanwhile (the worker removes the callback after it has
     * let go of the lock): not ours any more. */
    if (d->stream != st || !d->stream_watched) {
        g_mutex_unlock(&self->chan_lock);
        return;
    }
    if ((events & VIR_STREAM_EVENT_READABLE) &&
        mb_guest_channel_read_ready(d->channel, read_stream, st, &ended, &urgent))
        d->agent_us = g_get_monotonic_time();
    if (ended || (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP))) {
        d->stream_ended = TRUE;
        d->stream_watched = FALSE;
        if (virStreamEventRemoveCallback(st) < 0)
            virResetLastError();
    }
    virResetLastError();
    g_mutex_unlock(&self->chan_lock);
    notify_urgent(d, urgent);
}

static void
stream_watch_free(void *opaque)
{
    LvDomain *d = opaque;

    mb_lv_unref(d->backend);
}

/* The main thread: the direct socket (test driver) is readable or ended. */
void
mb_lv_on_socket_ready(gpointer user_data)
{
    LvDomain *d = user_data;
    unsigned urgent;

    g_mutex_lock(&d->backend->chan_lock);
    if (mb_guest_channel_pump(d->channel, &urgent))
        d->agent_us = g_get_monotonic_time();
    g_mutex_unlock(&d->backend->chan_lock);
    notify_urgent(d, urgent);
}

/* Workers, work_lock held. The callback is removed before the stream is
 * aborted and freed, and a callback already running sees it gone. */
void
mb_lv_drop_stream(LvDomain *d)
{
    virStreamPtr st;
    gboolean watched;

    if (d->stream == NULL)
        return;
    g_mutex_lock(&d->backend->chan_lock);
    st = g_steal_pointer(&d->stream);
    watched = d->stream_watched;
    d->stream_watched = FALSE;
    d->stream_ended = FALSE;
    g_mutex_unlock(&d->backend->chan_lock);
    if (watched && virStreamEventRemoveCallback(st) < 0)
        virResetLastError();
    /* Fails on a dead stream or connection: nothing more to do then. */
    if (virStreamAbort(st) < 0)
        virResetLastError();
    virStreamFree(st);
}

/* Workers, work_lock held: a new stream, read as its data arrives. */
static void
watch_stream(LvState *self, LvDomain *d, virStreamPtr st)
{
    int events = VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP;

    g_mutex_lock(&self->chan_lock);
    d->stream = st;
    d->stream_ended = FALSE;
    /* A new stream: nothing of an old one counts. */
    mb_guest_channel_close(d->channel);
    d->stream_watched = TRUE; /* before the first event can come */
    g_mutex_unlock(&self->chan_lock);
    mb_lv_ref(self);
    if (virStreamEventAddCallback(st, events, on_stream_event, d, stream_watch_free) == 0)
        return;
    mb_lv_unref(self);
    g_mutex_lock(&self->chan_lock);
    d->stream_watched = FALSE;
    g_mutex_unlock(&self->chan_lock);
    mb_log(G_LOG_LEVEL_INFO, "MB_VM", d->name,
           "VM '%s': no events on its agent channel (%s): read once an interval", d->name,
           virGetLastErrorMessage());
    virResetLastError();
}

/* Sets d->stream, or channel_direct when the driver cannot open channels,
 * or neither (retried after STREAM_RETRY_US): FALSE. */
static gboolean
open_stream(LvState *self, LvDomain *d, virDomainPtr dom)
{
    gint64 now = g_get_monotonic_time();
    virStreamPtr st;
    int code;

    if (now < d->stream_retry_us)
        return TRUE;
    st = virStreamNew(self->conn, VIR_STREAM_NONBLOCK);
    /* FORCE: a stream left open by a daemon that died is taken over
     * (the channel is membalancer's by its name). */
    if (st != NULL &&
        virDomainOpenChannel(dom, MB_GUEST_PROTO_CHANNEL, st, VIR_DOMAIN_CHANNEL_FORCE) == 0) {
        d->stream_error_logged = FALSE;
        watch_stream(self, d, st);
        mb_log(G_LOG_LEVEL_INFO, "MB_VM", d->name,
               "VM '%s': agent channel %s opened through libvirt", d->name,
               MB_GUEST_PROTO_CHANNEL);
        return TRUE;
    }
    code = virGetLastErrorCode();
    if (st != NULL)
        virStreamFree(st);
    if (code == VIR_ERR_NO_SUPPORT) {
        self->channel_direct = TRUE;
        mb_log(G_LOG_LEVEL_INFO, "MB_LIBVIRT_URI", self->uri,
               "libvirt at %s cannot open channels (%s): agent channels' sockets are read "
               "directly",
               self->uri, virGetLastErrorMessage());
        return TRUE;
    }
    d->stream_retry_us = now + STREAM_RETRY_US;
    if (!d->stream_error_logged)
        mb_log(G_LOG_LEVEL_WARNING, "MB_VM", d->name,
               "VM '%s': cannot open its agent channel %s through libvirt: %s; balloon "
               "statistics until it opens (retried every %d s)",
               d->name, MB_GUEST_PROTO_CHANNEL, virGetLastErrorMessage(),
               (int)(STREAM_RETRY_US / G_USEC_PER_SEC));
    d->stream_error_logged = TRUE;
    return FALSE;
}

static guint64
n_records(LvDomain *d)
{
    MbGuestChannelStats stats;

    mb_guest_channel_get_stats(d->channel, &stats);
    return stats.n_samples;
}

/* chan_lock held, after a take that got a sample: when it reached us.
 * Parsed just now (no callback, or a flood's newest line): now; else when
 * the callback parsed it. */
static void
stamp_sample(LvDomain *d, guint64 n_before)
{
    gboolean parsed_now = n_records(d) > n_before || d->agent_us == 0;

    d->sample_us = parsed_now ? g_get_monotonic_time() : d->agent_us;
}

/* This interval's agent sample, if one came (what the callbacks read
 * since the last tick included). */
gboolean
mb_lv_read_agent(LvState *self, LvDomain *d, virDomainPtr dom, MbSample *out,
                 gboolean *open_failed)
{
    gboolean ended, got, forgotten;
    guint64 n_before;

    *open_failed = FALSE;
    if (mb_guest_channel_get_path(d->channel) == NULL)
        return FALSE; /* no agent channel in the domain */
    g_mutex_lock(&self->chan_lock);
    forgotten = d->forgotten;
    g_mutex_unlock(&self->chan_lock);
    if (forgotten)
        return FALSE; /* unregistered meanwhile: nothing opened again */
    if (d->stream == NULL && !self->channel_direct)
        *open_failed = !open_stream(self, d, dom); /* or finds channel_direct */
    if (self->channel_direct) {
        g_mutex_lock(&self->chan_lock);
        n_before = n_records(d);
        got = mb_guest_channel_poll(d->channel, out);
        if (got)
            stamp_sample(d, n_before);
        g_mutex_unlock(&self->chan_lock);
        return got;
    }
    if (d->stream == NULL)
        return FALSE;
    g_mutex_lock(&self->chan_lock);
    n_before = n_records(d);
    if (d->stream_ended) {
        /* The callback read it to its end; the sample is still there. */
        got = mb_guest_channel_take_sample(d->channel, out);
        ended = TRUE;
    } else {
        got = mb_guest_channel_drain(d->channel, read_stream, d->stream, out, &ended);
    }
    if (got)
        stamp_sample(d, n_before);
    g_mutex_unlock(&self->chan_lock);
    if (ended) {
        mb_log(G_LOG_LEVEL_INFO, "MB_VM", d->name,
               "VM '%s': its agent channel closed (%s); opened again next interval", d->name,
               virGetLastError() != NULL ? virGetLastErrorMessage() : "end of stream");
        virResetLastError();
        mb_lv_drop_stream(d);
    }
    return got;
}

/* The main thread: the VM was unregistered. Its stream's callback and its
 * direct socket go now; the stream itself (aborting may wait) at the next
 * begin_tick, which also lets it be read again. */
void
mb_lv_forget(LvState *self, const char *name)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->chan_lock);
    LvDomain *d = g_hash_table_lookup(self->domains, name);

    if (d == NULL)
        return;
    d->forgotten = TRUE;
    if (d->stream_watched) {
        d->stream_watched = FALSE;
        if (virStreamEventRemoveCallback(d->stream) < 0)
            virResetLastError();
    }
    mb_guest_channel_close(d->channel);
}

/* Workers, work_lock held: the streams of the VMs forgotten since the last tick. */
void
mb_lv_drop_forgotten(LvState *self)
{
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, self->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        LvDomain *d = value;
        gboolean forgotten;

        g_mutex_lock(&self->chan_lock);
        forgotten = d->forgotten;
        d->forgotten = FALSE;
        g_mutex_unlock(&self->chan_lock);
        if (forgotten)
            mb_lv_drop_stream(d);
    }
}
