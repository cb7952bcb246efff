/* The libvirt backend: real VMs through a libvirt connection.
 *
 * Threads: libvirt's event sources live on the daemon's own main context
 * (libvirt's default event implementation is GLib's default context, see
 * mb-libvirt-events.c and docs/service.md); its callbacks (lifecycle
 * events, the close callback, keepalives) run in the main thread and take
 * nothing but state_lock, briefly. Every other libvirt call comes from the
 * daemon's workers under work_lock, so the connection is never closed
 * under a caller. The main thread reads cached values under state_lock
 * and never waits on libvirt.
 *
 * The agent channels are read as data arrives, in the main thread: a
 * stream event callback (virStreamEventAddCallback) or, for the test
 * driver's direct sockets, a GSource on the socket. Both only drain
 * what is queued (non-blocking) under chan_lock, which the tick's worker
 * also takes around its own reads of the channels; neither ever holds
 * chan_lock across a call that may wait. */
#include "mb-backend-libvirt.h"

#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mb-error.h"
#include "mb-guest-channel.h"
#include "mb-guest-proto.h"
#include "mb-libvirt-events.h"
#include "mb-log.h"

/* A channel libvirt could not open is tried again after this. */
#define STREAM_RETRY_US (5 * G_USEC_PER_SEC)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)

typedef struct _MbBackendLibvirt MbBackendLibvirt;

typedef struct {
    char *name;
    MbBackendLibvirt *backend; /* its owner (outlives it) */
    MbGuestChannel *channel;   /* under chan_lock */
    MbVmState state;
    guint64 boot;
    int id;             /* libvirt's id of the running domain, -1 when offline */
    gboolean have_path; /* the channel path was looked up for this boot */
    /* The agent channel opened through libvirt (virDomainOpenChannel):
     * workers only, under work_lock (set and cleared under chan_lock too). */
    virStreamPtr stream;
    /* Under chan_lock as well: the main thread's stream callback. */
    gboolean stream_watched;      /* its event callback is registered */
    gboolean stream_ended;        /* the callback saw it end: the tick drops it */
    gint64 stream_retry_us;       /* not opened again before this */
    gboolean stream_error_logged; /* for this boot */
    gboolean forgotten;           /* under chan_lock: unregistered, not read until begin_tick */
    gboolean period_set;          /* virDomainSetMemoryStatsPeriod done for this boot */
    guint ticks_no_agent;         /* intervals since the last agent record */
    gint64 agent_us;              /* chan_lock: the newest record the callbacks parsed came */
    gint64 sample_us;             /* the last read's sample reached us (0: none) */
    /* Balloon tracking (the backends' stuck rule, mb_balloon_watch_update). */
    guint64 actual_kib;
    guint64 watch_kib;  /* at the last regular read: an urgent read does not move it */
    guint64 target_kib; /* the last target set */
    guint64 max_kib;    /* the domain's maximum at the last read, 0: unknown */
    MbBalloonWatch watch;
    MbStatsSource source; /* of the last sample */
    gint64 lie_logged_us;
} LvDomain;

struct _MbBackendLibvirt {
    MbBackend parent;
    char *uri;

    GMutex work_lock; /* the workers: conn's use and life, domains */
    virConnectPtr conn;
    int lifecycle_id;
    gboolean close_registered;
    gint64 next_attempt_us;
    guint backoff_ms;
    gboolean ever_connected;
    gboolean failure_logged;
    /* The driver cannot open channels (the test driver): the agent
     * channel's socket is read directly, which needs access to it. */
    gboolean channel_direct;
    GHashTable *domains; /* name -> LvDomain; inserted under chan_lock too */

    GMutex state_lock; /* short: the event thread, the main thread */
    gboolean connected;
    gboolean conn_lost; /* the close callback fired */
    guint64 host_kib;
    guint64 n_events; /* lifecycle events received */

    /* Short, never across a call that waits: every domain's channel and
     * its stream's watch, shared by the workers and the main thread's
     * channel callbacks. Taken after work_lock, never before it. */
    GMutex chan_lock;
    /* The tick being read is urgent (workers, under work_lock): it does not
     * count as an interval for the stuck balloon or the silent agent. */
    gboolean tick_urgent;
};

/* ---- callbacks (the event thread) ------------------------------------- */

static void
backend_unref(void *opaque)
{
    g_atomic_rc_box_release_full(opaque, NULL);
}

static const char *
lifecycle_to_string(int event)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_DEFINED:
        return "defined";
    case VIR_DOMAIN_EVENT_UNDEFINED:
        return "undefined";
    case VIR_DOMAIN_EVENT_STARTED:
        return "started";
    case VIR_DOMAIN_EVENT_SUSPENDED:
        return "suspended";
    case VIR_DOMAIN_EVENT_RESUMED:
        return "resumed";
    case VIR_DOMAIN_EVENT_STOPPED:
        return "stopped";
    case VIR_DOMAIN_EVENT_SHUTDOWN:
        return "shut down";
    case VIR_DOMAIN_EVENT_PMSUSPENDED:
        return "suspended (power management)";
    case VIR_DOMAIN_EVENT_CRASHED:
        return "crashed";
    }
    return "changed";
}

static int
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    MbBackendLibvirt *self = opaque;
    const char *name = virDomainGetName(dom);

    /* The tick polls each domain's state anyway (events are lost while
     * disconnected); events make the log tell the story as it happens. */
    g_mutex_lock(&self->state_lock);
    self->n_events++;
    g_mutex_unlock(&self->state_lock);
    mb_log(G_LOG_LEVEL_INFO, "MB_VM", name, "libvirt: domain '%s' %s", name,
           lifecycle_to_string(event));
    return 0;
}

static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
    MbBackendLibvirt *self = opaque;

    g_mutex_lock(&self->state_lock);
    self->conn_lost = TRUE;
    g_mutex_unlock(&self->state_lock);
}

/* ---- the connection (workers, work_lock held) ------------------------ */

static void
set_connected(MbBackendLibvirt *self, gboolean connected)
{
    g_mutex_lock(&self->state_lock);
    self->connected = connected;
    self->conn_lost = FALSE;
    g_mutex_unlock(&self->state_lock);
}

static void drop_stream(LvDomain *d);
static void on_socket_ready(gpointer user_data);

static void
disconnect(MbBackendLibvirt *self, const char *why)
{
    GHashTableIter iter;
    gpointer value;

    if (self->conn == NULL)
        return;
    /* A channel's stream belongs to the connection. */
    g_hash_table_iter_init(&iter, self->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        drop_stream(value);
    if (self->lifecycle_id >= 0)
        virConnectDomainEventDeregisterAny(self->conn, self->lifecycle_id);
    if (self->close_registered)
        virConnectUnregisterCloseCallback(self->conn, on_close);
    self->lifecycle_id = -1;
    self->close_registered = FALSE;
    virConnectClose(self->conn);
    self->conn = NULL;
    set_connected(self, FALSE);
    self->backoff_ms = 0;
    self->next_attempt_us = 0;
    self->failure_logged = TRUE; /* this line says it; the retries stay quiet */
    if (why != NULL)
        mb_log_id(G_LOG_LEVEL_WARNING, MB_MESSAGE_ID_HYPERVISOR_LOST, "MB_LIBVIRT_URI",
                  self->uri,
                  "lost the connection to libvirt at %s (%s): no balloon changes until it is "
                  "back; reconnecting (backoff %u ms to %u s)",
                  self->uri, why, MB_LIBVIRT_BACKOFF_MIN_MS, MB_LIBVIRT_BACKOFF_MAX_MS / 1000);
}

static guint64
host_memory_from_proc(void)
{
    g_autofree char *text = NULL;
    const char *line;
    guint64 kib = 0;

    if (!g_file_get_contents("/proc/meminfo", &text, NULL, NULL))
        return 0;
    line = strstr(text, "MemTotal:");
    if (line == NULL || sscanf(line, "MemTotal: %" G_GUINT64_FORMAT " kB", &kib) != 1)
        return 0;
    return kib;
}

static void
connected(MbBackendLibvirt *self)
{
    virNodeInfo node;
    guint64 host_kib = 0;

    self->lifecycle_id = virConnectDomainEventRegisterAny(
        self->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), g_atomic_rc_box_acquire(self), backend_unref);
    if (self->lifecycle_id < 0) {
        backend_unref(self);
        mb_log(G_LOG_LEVEL_INFO, "MB_LIBVIRT_URI", self->uri,
               "libvirt at %s sends no lifecycle events (%s): domain state is polled each "
               "interval",
               self->uri, virGetLastErrorMessage());
    }
    /* No reference for it: local drivers accept the callback but never
     * keep it (nor call its free function), and the remote driver calls
     * it under a lock that unregistering takes, so after
     * virConnectUnregisterCloseCallback() it is not running. */
    self->close_registered =
        virConnectRegisterCloseCallback(self->conn, on_close, self, NULL) == 0;
    /* Remote connections only; a local driver (test:///) has no keepalive. */
    if (virConnectSetKeepAlive(self->conn, 5, 3) < 0)
        mb_log(G_LOG_LEVEL_DEBUG, "MB_LIBVIRT_URI", self->uri, "no keepalive on %s: %s",
               self->uri, virGetLastErrorMessage());
    if (virNodeGetInfo(self->conn, &node) == 0)
        host_kib = node.memory;
    if (host_kib == 0)
        host_kib = host_memory_from_proc();
    g_mutex_lock(&self->state_lock);
    self->host_kib = host_kib;
    g_mutex_unlock(&self->state_lock);
    set_connected(self, TRUE);
    self->backoff_ms = 0;
    self->failure_logged = FALSE;
    mb_log_id(G_LOG_LEVEL_MESSAGE, MB_MESSAGE_ID_HYPERVISOR_BACK, "MB_LIBVIRT_URI", self->uri,
              "%s libvirt at %s (host memory %" G_GUINT64_FORMAT " KiB)",
              self->ever_connected ? "reconnected to" : "connected to", self->uri, host_kib);
    self->ever_connected = TRUE;
}

/* The last error says the URI itself is wrong (no such driver, unparsable). */
static gboolean
uri_is_hopeless(void)
{
    virErrorPtr last = virGetLastError();

    return last != NULL && (last->code == VIR_ERR_NO_CONNECT || last->domain == VIR_FROM_URI);
}

/* Drops a connection that died; opens one when none is open and the backoff allows. */
static gboolean
ensure_connected(MbBackendLibvirt *self, GError **error)
{
    gint64 now = g_get_monotonic_time();
    gboolean lost;

    g_mutex_lock(&self->state_lock);
    lost = self->conn_lost;
    g_mutex_unlock(&self->state_lock);
    if (self->conn != NULL && (lost || virConnectIsAlive(self->conn) != 1))
        disconnect(self, lost ? "the connection was closed" : "the connection is dead");
    if (self->conn != NULL)
        return TRUE;
    if (now >= self->next_attempt_us) {
        self->conn = virConnectOpen(self->uri);
        if (self->conn != NULL) {
            connected(self);
            return TRUE;
        }
        self->backoff_ms = self->backoff_ms == 0
                               ? MB_LIBVIRT_BACKOFF_MIN_MS
                               : MIN(self->backoff_ms * 2, MB_LIBVIRT_BACKOFF_MAX_MS);
        self->next_attempt_us = now + (gint64)self->backoff_ms * 1000;
        if (!self->failure_logged && !uri_is_hopeless())
            mb_log(G_LOG_LEVEL_WARNING, "MB_LIBVIRT_URI", self->uri,
                   "cannot connect to libvirt at %s: %s; no balloon changes until connected; "
                   "retrying (backoff %u ms to %u s)",
                   self->uri, virGetLastErrorMessage(), MB_LIBVIRT_BACKOFF_MIN_MS,
                   MB_LIBVIRT_BACKOFF_MAX_MS / 1000);
        self->failure_logged = TRUE;
    }
    g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                "not connected to libvirt at %s (retrying; is libvirtd running?)", self->uri);
    return FALSE;
}

/* After a failed call: a dead connection is dropped now rather than at the next tick. */
static void
check_alive(MbBackendLibvirt *self)
{
    if (self->conn != NULL && virConnectIsAlive(self->conn) != 1)
        disconnect(self, virGetLastErrorMessage());
}

static LvDomain *
get_domain(MbBackendLibvirt *self, const char *name)
{
    LvDomain *d = g_hash_table_lookup(self->domains, name);

    if (d == NULL) {
        d = g_new0(LvDomain, 1);
        d->name = g_strdup(name);
        d->backend = self;
        d->channel = mb_guest_channel_new(name);
        mb_guest_channel_set_ready_func(d->channel, on_socket_ready, d);
        d->state = MB_VM_STATE_OFFLINE;
        d->id = -1;
        d->ticks_no_agent = MB_LIBVIRT_AGENT_GRACE_TICKS;
        /* Under chan_lock too: forget looks domains up from the main thread. */
        g_mutex_lock(&self->chan_lock);
        g_hash_table_insert(self->domains, d->name, d);
        g_mutex_unlock(&self->chan_lock);
    }
    return d;
}

static void
lv_domain_free(LvDomain *d)
{
    drop_stream(d); /* none left: disconnect dropped them */
    mb_guest_channel_free(d->channel);
    g_free(d->name);
    g_free(d);
}

static gboolean
is_running_state(int state)
{
    /* Paused and shutting-down domains still hold their memory. */
    return state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED ||
           state == VIR_DOMAIN_PAUSED || state == VIR_DOMAIN_SHUTDOWN ||
           state == VIR_DOMAIN_PMSUSPENDED;
}

/* NULL with *missing TRUE when libvirt has no such domain. */
static virDomainPtr
lookup_domain(MbBackendLibvirt *self, const char *name, gboolean *missing, GError **error)
{
    virDomainPtr dom = virDomainLookupByName(self->conn, name);

    *missing = FALSE;
    if (dom != NULL)
        return dom;
    if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN) {
        *missing = TRUE;
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_NO_SUCH_VM,
                    "libvirt at %s has no domain named '%s' (see virsh -c %s list --all)",
                    self->uri, name, self->uri);
    } else {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "cannot look up domain '%s': %s", name, virGetLastErrorMessage());
        check_alive(self);
    }
    return NULL;
}

/* ---- the balloon's statistics ---------------------------------------- */

static gboolean
read_balloon_stats(LvDomain *d, virDomainPtr dom, MbSample *out)
{
    virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
    int n;

    if (!d->period_set) {
        d->period_set = TRUE;
        if (virDomainSetMemoryStatsPeriod(dom, 1, VIR_DOMAIN_AFFECT_LIVE) < 0)
            mb_log(G_LOG_LEVEL_DEBUG, "MB_VM", d->name,
                   "VM '%s': cannot set the balloon statistics period: %s", d->name,
                   virGetLastErrorMessage());
    }
    n = virDomainMemoryStats(dom, stats, VIR_DOMAIN_MEMORY_STAT_NR, 0);
    return n > 0 && mb_balloon_stats_derive(stats, n, out);
}

/* ---- state of one domain per interval -------------------------------- */

static void
new_boot(LvDomain *d, int id)
{
    d->boot++;
    d->id = id;
    d->have_path = FALSE;
    d->period_set = FALSE;
    mb_balloon_watch_clear(&d->watch);
    d->ticks_no_agent = MB_LIBVIRT_AGENT_GRACE_TICKS;
    d->state = MB_VM_STATE_RUNNING;
    d->stream_retry_us = 0;
    d->stream_error_logged = FALSE;
    drop_stream(d);
    g_mutex_lock(&d->backend->chan_lock);
    mb_guest_channel_set_path(d->channel, NULL);
    g_mutex_unlock(&d->backend->chan_lock);
}

static void
go_offline(LvDomain *d, const char *why)
{
    if (d->state != MB_VM_STATE_OFFLINE)
        mb_log(G_LOG_LEVEL_MESSAGE, "MB_VM", d->name,
               "VM '%s' is offline (%s): left out of balancing until it runs", d->name, why);
    d->state = MB_VM_STATE_OFFLINE;
    d->id = -1;
    mb_balloon_watch_clear(&d->watch);
    drop_stream(d);
    g_mutex_lock(&d->backend->chan_lock);
    mb_guest_channel_close(d->channel);
    g_mutex_unlock(&d->backend->chan_lock);
}

/* The balloon size comes from the guest (virtio-balloon "actual"): never
 * above the domain's maximum. */
static guint64
clamp_actual(LvDomain *d, guint64 reported_kib, guint64 max_kib)
{
    gint64 now;

    if (max_kib == 0 || reported_kib <= max_kib)
        return reported_kib;
    now = g_get_monotonic_time();
    if (d->lie_logged_us == 0 || now - d->lie_logged_us >= 60 * G_USEC_PER_SEC) {
        d->lie_logged_us = now;
        mb_log_id(G_LOG_LEVEL_WARNING, MB_MESSAGE_ID_GUEST_LIES, "MB_VM", d->name,
                  "VM '%s': libvirt reports a balloon of %" G_GUINT64_FORMAT
                  " KiB, above the domain's maximum of %" G_GUINT64_FORMAT
                  " KiB: clamped (logged once a minute)",
                  d->name, reported_kib, max_kib);
    }
    return max_kib;
}

/* Compares the balloon with the pending target; marks and clears "stuck". */
static void
track_balloon(LvDomain *d, guint64 actual_kib)
{
    guint64 before = d->watch_kib;

    d->actual_kib = d->watch_kib = actual_kib;
    switch (mb_balloon_watch_update(&d->watch, &d->state, d->target_kib, before, actual_kib)) {
    case MB_BALLOON_MOVES_AGAIN:
        mb_log(G_LOG_LEVEL_MESSAGE, "MB_VM", d->name,
               "VM '%s': its balloon moves again (%" G_GUINT64_FORMAT " KiB): balanced again",
               d->name, actual_kib);
        break;
    case MB_BALLOON_NOW_STUCK:
        mb_log_id(G_LOG_LEVEL_WARNING, MB_MESSAGE_ID_STUCK, "MB_VM", d->name,
                  "VM '%s' is stuck: its balloon stayed at %" G_GUINT64_FORMAT
                  " KiB for %u intervals with a target of %" G_GUINT64_FORMAT
                  " KiB (no virtio-balloon driver in the guest?); not asked again until it "
                  "moves or is registered again",
                  d->name, actual_kib, MB_LIBVIRT_STUCK_TICKS, d->target_kib);
        break;
    case MB_BALLOON_SAME:
        break;
    }
}

static void
refresh_channel_path(LvDomain *d, virDomainPtr dom)
{
    g_autofree char *xml = virDomainGetXMLDesc(dom, 0);
    g_autofree char *path = NULL;

    if (xml == NULL)
        return; /* tried again next interval */
    d->have_path = TRUE;
    path = mb_guest_channel_path_from_xml(xml, MB_GUEST_PROTO_CHANNEL);
    g_mutex_lock(&d->backend->chan_lock);
    mb_guest_channel_set_path(d->channel, path);
    g_mutex_unlock(&d->backend->chan_lock);
    if (path == NULL)
        mb_log(G_LOG_LEVEL_INFO, "MB_VM", d->name,
               "VM '%s' has no unix channel named %s: balloon statistics only", d->name,
               MB_GUEST_PROTO_CHANNEL);
}

/* ---- the agent channel ------------------------------------------------ */

/* The channel is opened through libvirt (virDomainOpenChannel): libvirtd
 * connects to QEMU's socket, so the daemon needs no access to QEMU's files
 * and works over remote URIs too. The stream is non-blocking: its data
 * arrives through the connection's socket, which libvirt's event sources
 * on the main loop read as it comes; the stream's event callback feeds it
 * to the parser at once (so that an urgent record starts a tick now), and
 * the tick's worker drains whatever is left and takes the sample. */

/* The main thread, a stream callback or the socket's watch: a record
 * marked urgent arrived. */
static void
notify_urgent(LvDomain *d, unsigned urgent)
{
    if (urgent != 0)
        mb_backend_emit_urgent(&d->backend->parent, d->name, urgent);
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
    MbBackendLibvirt *self = d->backend;
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

    backend_unref(d->backend);
}

/* The main thread: the direct socket (test driver) is readable or ended. */
static void
on_socket_ready(gpointer user_data)
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
static void
drop_stream(LvDomain *d)
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
watch_stream(MbBackendLibvirt *self, LvDomain *d, virStreamPtr st)
{
    int events = VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP;

    g_mutex_lock(&self->chan_lock);
    d->stream = st;
    d->stream_ended = FALSE;
    /* A new stream: nothing of an old one counts. */
    mb_guest_channel_close(d->channel);
    d->stream_watched = TRUE; /* before the first event can come */
    g_mutex_unlock(&self->chan_lock);
    g_atomic_rc_box_acquire(self);
    if (virStreamEventAddCallback(st, events, on_stream_event, d, stream_watch_free) == 0)
        return;
    backend_unref(self);
    g_mutex_lock(&self->chan_lock);
    d->stream_watched = FALSE;
    g_mutex_unlock(&self->chan_lock);
    mb_log(G_LOG_LEVEL_INFO, "MB_VM", d->name,
           "VM '%s': no events on its agent channel (%s): read once an interval", d->name,
           virGetLastErrorMessage());
    virResetLastError();
}

/* Sets d->stream, or channel_direct when the driver cannot open channels,
 * or neither (retried after STREAM_RETRY_US). */
static void
open_stream(MbBackendLibvirt *self, LvDomain *d, virDomainPtr dom)
{
    gint64 now = g_get_monotonic_time();
    virStreamPtr st;
    int code;

    if (now < d->stream_retry_us)
        return;
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
        return;
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
        return;
    }
    d->stream_retry_us = now + STREAM_RETRY_US;
    if (!d->stream_error_logged)
        mb_log(G_LOG_LEVEL_WARNING, "MB_VM", d->name,
               "VM '%s': cannot open its agent channel %s through libvirt: %s; balloon "
               "statistics until it opens (retried every %d s)",
               d->name, MB_GUEST_PROTO_CHANNEL, virGetLastErrorMessage(),
               (int)(STREAM_RETRY_US / G_USEC_PER_SEC));
    d->stream_error_logged = TRUE;
    check_alive(self);
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
static gboolean
read_agent(MbBackendLibvirt *self, LvDomain *d, virDomainPtr dom, MbSample *out)
{
    gboolean ended, got, forgotten;
    guint64 n_before;

    if (mb_guest_channel_get_path(d->channel) == NULL)
        return FALSE; /* no agent channel in the domain */
    g_mutex_lock(&self->chan_lock);
    forgotten = d->forgotten;
    g_mutex_unlock(&self->chan_lock);
    if (forgotten)
        return FALSE; /* unregistered meanwhile: nothing opened again */
    if (d->stream == NULL && !self->channel_direct)
        open_stream(self, d, dom); /* may find that the driver cannot: channel_direct */
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
        drop_stream(d);
    }
    return got;
}

/* The main thread: the VM was unregistered. Its stream's callback and its
 * direct socket go now; the stream itself (aborting may wait) at the next
 * begin_tick, which also lets it be read again. */
static void
lv_forget(MbBackend *backend, const char *name)
{
    MbBackendLibvirt *self = (MbBackendLibvirt *)backend;
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
static void
drop_forgotten(MbBackendLibvirt *self)
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
            drop_stream(d);
    }
}

/* ---- the operations --------------------------------------------------- */

static GStrv
lv_list_domains(MbBackend *backend, GError **error)
{
    MbBackendLibvirt *self = (MbBackendLibvirt *)backend;
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->work_lock);
    virDomainPtr *doms = NULL;
    int n;

    if (!ensure_connected(self, error))
        return NULL;
    n = virConnectListAllDomains(self->conn, &doms, 0);
    for (int i = 0; i < n; i++) {
        g_strv_builder_add(builder, virDomainGetName(doms[i]));
        virDomainFree(doms[i]);
    }
    free(doms);
    if (n < 0) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "cannot list the domains: %s", virGetLastErrorMessage());
        check_alive(self);
        return NULL;
    }
    return g_strv_builder_end(builder);
}

static gboolean
lv_lookup(MbBackend *backend, const char *name, MbDomainInfo *out, GError **error)
{
    MbBackendLibvirt *self = (MbBackendLibvirt *)backend;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->work_lock);
    g_autoptr(virDomain) dom = NULL;
    virDomainInfo info;
    gboolean missing;
    LvDomain *d;

    if (!ensure_connected(self, error) ||
        (dom = lookup_domain(self, name, &missing, error)) == NULL)
        return FALSE;
    if (virDomainGetInfo(dom, &info) < 0) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "cannot read domain '%s': %s", name, virGetLastErrorMessage());
        check_alive(self);
        return FALSE;
    }
    out->running = is_running_state(info.state);
    out->current_kib = out->running ? info.memory : 0;
    out->max_kib = info.maxMem;
    /* A registration starts afresh: a stuck balloon gets another chance. */
    d = get_domain(self, name);
    d->max_kib = info.maxMem;
    if (d->state == MB_VM_STATE_STUCK)
        d->state = MB_VM_STATE_RUNNING;
    mb_balloon_watch_clear(&d->watch);
    return TRUE;
}

static void
lv_begin_tick(MbBackend *backend, gboolean urgent)
{
    MbBackendLibvirt *self = (MbBackendLibvirt *)backend;

    g_mutex_lock(&self->work_lock);
    self->tick_urgent = urgent;
    drop_forgotten(self);
    ensure_connected(self, NULL);
    g_mutex_unlock(&self->work_lock);
}

static gboolean
read_locked(MbBackendLibvirt *self, LvDomain *d, MbSample *out, MbStatsSource *source,
            guint64 *alloc_kib, GError **error)
{
    g_autoptr(virDomain) dom = NULL;
    virDomainInfo info;
    gboolean missing;
    int id;

    *source = MB_STATS_SOURCE_NONE;
    *alloc_kib = 0;
    d->sample_us = 0;
    if (!ensure_connected(self, error))
        return FALSE;
    dom = lookup_domain(self, d->name, &missing, error);
    if (dom == NULL) {
        if (!missing)
            return FALSE;
        g_clear_error(error);
        go_offline(d, "undefined");
        return TRUE;
    }
    if (virDomainGetInfo(dom, &info) < 0) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "cannot read domain '%s': %s", d->name, virGetLastErrorMessage());
        check_alive(self);
        return FALSE;
    }
    if (!is_running_state(info.state)) {
        go_offline(d, info.state == VIR_DOMAIN_CRASHED ? "crashed" : "not running");
        return TRUE;
    }
    /* Each start of a domain gets a new id: a new boot. */
    id = (int)virDomainGetID(dom);
    if (d->state == MB_VM_STATE_OFFLINE || id != d->id) {
        if (d->state == MB_VM_STATE_OFFLINE)
            mb_log(G_LOG_LEVEL_MESSAGE, "MB_VM", d->name, "VM '%s' runs (domain id %d)",
                   d->name, id);
        new_boot(d, id);
        d->actual_kib = d->watch_kib = info.memory;
    }
    /* Read each interval, not only on lifecycle or define events (lost
     * while disconnected): a domain redefined with another <memory> has it
     * from its next start, and memory hotplug changes it while it runs. */
    d->max_kib = info.maxMem;
    if (self->tick_urgent)
        d->actual_kib = clamp_actual(d, info.memory, info.maxMem);
    else
        track_balloon(d, clamp_actual(d, info.memory, info.maxMem));
    /* The balloon as it stands: the daemon counts a travelling balloon at
     * the larger of its position and its target, so that memory a donor
     * has not released yet is never handed out. */
    *alloc_kib = d->actual_kib;

    if (!d->have_path)
        refresh_channel_path(d, dom);
    if (read_agent(self, d, dom, out)) {
        *source = MB_STATS_SOURCE_AGENT;
        d->ticks_no_agent = 0;
    } else if (!self->tick_urgent && ++d->ticks_no_agent >= MB_LIBVIRT_AGENT_GRACE_TICKS) {
        d->ticks_no_agent = MB_LIBVIRT_AGENT_GRACE_TICKS;
        if (read_balloon_stats(d, dom, out)) {
            *source = MB_STATS_SOURCE_BALLOON;
            d->sample_us = g_get_monotonic_time(); /* read on regular ticks only */
        }
    }
    d->source = *source;
    return TRUE;
}

static gboolean
lv_get_current(MbBackend *backend, const char *name, guint64 *current_kib)
{
    MbBackendLibvirt *self = (MbBackendLibvirt *)backend;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->work_lock);
    g_autoptr(virDomain) dom = NULL;
    virDomainInfo info;
    gboolean missing;
    LvDomain *d = get_domain(self, name);

    if (d->state == MB_VM_STATE_OFFLINE || self->conn == NULL ||
        (dom = lookup_domain(self, name, &missing, NULL)) == NULL ||
        virDomainGetInfo(dom, &info) < 0 || !is_running_state(info.state))
        return FALSE;
    *current_kib = clamp_actual(d, info.memory, info.maxMem);
    return TRUE;
}

static guint64
lv_page_kib(MbBackend *backend, const char *name)
{
    MbBackendLibvirt *self = (MbBackendLibvirt *)backend;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->work_lock);
    LvDomain *d = get_domain(self, name);

    /* The balloon's counters are converted to 4 KiB pages; the agent's
     * are the guest's own pages. */
    if (d->source == MB_STATS_SOURCE_AGENT) {
        g_autoptr(GMutexLocker) chan = g_mutex_locker_new(&self->chan_lock);
        return mb_guest_channel_get_page_kib(d->channel);
    }
    return MB_LIBVIRT_BALLOON_PAGE_KIB;
}

static gint64
lv_sample_us(MbBackend *backend, const char *name)
{
    MbBackendLibvirt *self = (MbBackendLibvirt *)backend;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->work_lock);

    return get_domain(self, name)->sample_us;
}

static gboolean
lv_read_sample(MbBackend *backend, const char *name, MbSample *out, MbStatsSource *source,
               guint64 *alloc_kib, GError **error)
{
    MbBackendLibvirt *self = (MbBackendLibvirt *)backend;
    gboolean ok;

    g_mutex_lock(&self->work_lock);
    ok = read_locked(self, get_domain(self, name), out, source, alloc_kib, error);
    g_mutex_unlock(&self->work_lock);
    return ok;
}

static void
lv_get_status(MbBackend *backend, const char *name, MbVmStatus *out)
{
    MbBackendLibvirt *self = (MbBackendLibvirt *)backend;
    LvDomain *d;

    g_mutex_lock(&self->work_lock);
    d = get_domain(self, name);
    out->state = d->state;
    out->boot = d->boot;
    out->max_kib = d->max_kib;
    g_mutex_unlock(&self->work_lock);
}

static gboolean
lv_set_target(MbBackend *backend, const char *name, guint64 target_kib, GError **error)
{
    MbBackendLibvirt *self = (MbBackendLibvirt *)backend;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->work_lock);
    g_autoptr(virDomain) dom = NULL;
    gboolean missing;
    unsigned long max_kib;
    LvDomain *d = get_domain(self, name);

    if (d->state != MB_VM_STATE_RUNNING) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "VM '%s' is %s: its balloon is left alone", name,
                    mb_vm_state_to_string(d->state));
        return FALSE;
    }
    if (!ensure_connected(self, error) ||
        (dom = lookup_domain(self, name, &missing, error)) == NULL)
        return FALSE;
    max_kib = virDomainGetMaxMemory(dom);
    if (max_kib == 0) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "cannot read the maximum memory of domain '%s': %s", name,
                    virGetLastErrorMessage());
        check_alive(self);
        return FALSE;
    }
    target_kib = MIN(target_kib, (guint64)max_kib);
    if (virDomainSetMemoryFlags(dom, (unsigned long)target_kib, VIR_DOMAIN_AFFECT_LIVE) < 0) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "cannot set the balloon of domain '%s' to %" G_GUINT64_FORMAT " KiB: %s",
                    name, target_kib, virGetLastErrorMessage());
        check_alive(self);
        return FALSE;
    }
    d->target_kib = target_kib;
    mb_balloon_watch_target(&d->watch);
    return TRUE;
}

static gboolean
lv_is_connected(MbBackend *backend)
{
    MbBackendLibvirt *self = (MbBackendLibvirt *)backend;
    gboolean connected;

    g_mutex_lock(&self->state_lock);
    connected = self->connected;
    g_mutex_unlock(&self->state_lock);
    return connected;
}

static guint64
lv_host_memory_kib(MbBackend *backend)
{
    MbBackendLibvirt *self = (MbBackendLibvirt *)backend;
    guint64 kib;

    g_mutex_lock(&self->state_lock);
    kib = self->host_kib;
    g_mutex_unlock(&self->state_lock);
    return kib;
}

static void
lv_clear(gpointer data)
{
    MbBackendLibvirt *self = data;

    g_hash_table_unref(self->domains);
    g_mutex_clear(&self->work_lock);
    g_mutex_clear(&self->state_lock);
    g_mutex_clear(&self->chan_lock);
    g_free(self->uri);
}

static void
lv_free(MbBackend *backend)
{
    MbBackendLibvirt *self = (MbBackendLibvirt *)backend;

    g_mutex_lock(&self->work_lock);
    disconnect(self, NULL);
    g_mutex_unlock(&self->work_lock);
    /* libvirt may have left callbacks' free functions (which hold
     * references to us) to run from the main context: run them first,
     * then drop ours. */
    mb_libvirt_events_release();
    g_atomic_rc_box_release_full(self, lv_clear);
}

static const MbBackendOps libvirt_ops = {
    .name = "libvirt",
    .list_domains = lv_list_domains,
    .lookup = lv_lookup,
    .begin_tick = lv_begin_tick,
    .read_sample = lv_read_sample,
    .set_target = lv_set_target,
    .free = lv_free,
    .get_status = lv_get_status,
    .is_connected = lv_is_connected,
    .host_memory_kib = lv_host_memory_kib,
    .get_current = lv_get_current,
    .page_kib = lv_page_kib,
    .forget = lv_forget,
    .sample_us = lv_sample_us,
};

MbBackend *
mb_backend_libvirt_new(const MbConfig *config, GError **error)
{
    MbBackendLibvirt *self;

    if (!mb_libvirt_events_acquire(error))
        return NULL;
    self = g_atomic_rc_box_new0(MbBackendLibvirt);
    self->parent.ops = &libvirt_ops;
    self->uri = g_strdup(config->libvirt_uri);
    self->lifecycle_id = -1;
    g_mutex_init(&self->work_lock);
    g_mutex_init(&self->state_lock);
    g_mutex_init(&self->chan_lock);
    self->domains =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)lv_domain_free);
    /* Connect now so that registrations restored at start see their
     * domains; an unreachable libvirt is retried from the ticks, but a
     * URI no retry can fix stops the start. */
    g_mutex_lock(&self->work_lock);
    if (!ensure_connected(self, NULL) && uri_is_hopeless()) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "libvirt-uri '%s': %s (e.g. qemu:///system)", self->uri,
                    virGetLastErrorMessage());
        g_mutex_unlock(&self->work_lock);
        mb_backend_free(&self->parent);
        return NULL;
    }
    g_mutex_unlock(&self->work_lock);
    return &self->parent;
}

gboolean
mb_backend_libvirt_channel_stats(MbBackend *backend, const char *name, guint64 *n_samples,
                                 guint64 *n_bad, guint64 *n_overlong,
                                 guint64 *n_discarded_bytes)
{
    MbBackendLibvirt *self = (MbBackendLibvirt *)backend;
    MbGuestChannelStats stats;
    LvDomain *d;

    g_mutex_lock(&self->work_lock);
    d = g_hash_table_lookup(self->domains, name);
    if (d != NULL) {
        g_mutex_lock(&self->chan_lock);
        mb_guest_channel_get_stats(d->channel, &stats);
        g_mutex_unlock(&self->chan_lock);
    }
    g_mutex_unlock(&self->work_lock);
    if (d == NULL)
        return FALSE;
    *n_samples = stats.n_samples;
    *n_bad = stats.n_bad;
    *n_overlong = stats.n_overlong;
    *n_discarded_bytes = stats.n_discarded_bytes;
    return TRUE;
}

guint64
mb_backend_libvirt_n_events(MbBackend *backend)
{
    MbBackendLibvirt *self = (MbBackendLibvirt *)backend;
    guint64 n;

    g_mutex_lock(&self->state_lock);
    n = self->n_events;
    g_mutex_unlock(&self->state_lock);
    return n;
}
