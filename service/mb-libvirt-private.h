/* What the libvirt backend's files share: its state (LvState) and each
 * domain's (LvDomain). The files depend one way: mb-libvirt-agent.c (the
 * agent channel) knows only these structs; mb-libvirt-conn.c (the
 * connection, its event callbacks, the domain table) uses the agent's;
 * mb-backend-libvirt.c (the GObject, its vfuncs, each domain's state per
 * interval) uses both.
 *
 * LvState is reference-counted apart from the MbBackendLibvirt object
 * that owns it: libvirt's callbacks (lifecycle events, stream events)
 * hold references to it and may release them after the object is gone;
 * owner, which they use to emit "urgent", is cleared first.
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

#include <libvirt/libvirt.h>

#include "mb-backend.h"
#include "mb-guest-channel.h"
#include "mb-libvirt-limits.h"

G_BEGIN_DECLS

typedef struct _LvState LvState;

typedef struct {
    char *name;
    LvState *backend;        /* its owner (outlives it) */
    MbGuestChannel *channel; /* under chan_lock */
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

struct _LvState {
    /* The object that owns this, NULL once it is finalized: main thread only. */
    MbBackend *owner;
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

/* The state's last reference frees it (its domains with the table's free
 * function, set by mb_lv_state_new). */
static inline void
mb_lv_state_clear(gpointer data)
{
    LvState *self = data;

    g_hash_table_unref(self->domains);
    g_mutex_clear(&self->work_lock);
    g_mutex_clear(&self->state_lock);
    g_mutex_clear(&self->chan_lock);
    g_free(self->uri);
}

static inline LvState *
mb_lv_ref(LvState *self)
{
    return g_atomic_rc_box_acquire(self);
}

/* Also the free function of libvirt's callbacks' references. */
static inline void
mb_lv_unref(void *opaque)
{
    g_atomic_rc_box_release_full(opaque, mb_lv_state_clear);
}

G_END_DECLS
