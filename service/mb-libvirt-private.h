/* What the libvirt backend's files share: mb-libvirt-conn.c (the
 * connection, its event callbacks, the domain table), mb-libvirt-agent.c
 * (the agent channel) and mb-backend-libvirt.c (the operations and each
 * domain's state per interval).
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
#pragma once

#include "mb-backend-libvirt.h"
#include "mb-guest-channel.h"

G_BEGIN_DECLS

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

/* mb-libvirt-conn.c */
/* The free function of libvirt's callbacks: drops the reference they held. */
void mb_lv_backend_unref(void *opaque);
/* Workers, work_lock held (lv_free and mb_backend_libvirt_new hold it too). */
void mb_lv_disconnect(MbBackendLibvirt *self, const char *why);
gboolean mb_lv_uri_is_hopeless(void);
gboolean mb_lv_ensure_connected(MbBackendLibvirt *self, GError **error);
void mb_lv_check_alive(MbBackendLibvirt *self);
LvDomain *mb_lv_get_domain(MbBackendLibvirt *self, const char *name);
virDomainPtr mb_lv_lookup_domain(MbBackendLibvirt *self, const char *name, gboolean *missing,
                                 GError **error);
/* The domain table's free function (at the last reference's release). */
void mb_lv_domain_free(LvDomain *d);
gboolean mb_lv_is_running_state(int state);

/* mb-libvirt-agent.c */
/* Workers, work_lock held. */
void mb_lv_drop_stream(LvDomain *d);
gboolean mb_lv_read_agent(MbBackendLibvirt *self, LvDomain *d, virDomainPtr dom, MbSample *out);
void mb_lv_drop_forgotten(MbBackendLibvirt *self);
/* The main thread: the direct socket's watch (set by mb_lv_get_domain), the forget op. */
void mb_lv_on_socket_ready(gpointer user_data);
void mb_lv_forget(MbBackend *backend, const char *name);

G_END_DECLS
