/* The libvirt backend's connection: opening it with a backoff, its event
 * callbacks, and the table of domains. The threads and locks: see
 * mb-libvirt-private.h. */
#include "mb-libvirt-conn.h"

#include <libvirt/virterror.h>
#include <stdio.h>
#include <string.h>

#include "mb-error.h"
#include "mb-libvirt-agent.h"
#include "mb-log.h"

/* ---- callbacks (the event thread) ------------------------------------- */

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
    LvState *self = opaque;
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
    LvState *self = opaque;

    g_mutex_lock(&self->state_lock);
    self->conn_lost = TRUE;
    g_mutex_unlock(&self->state_lock);
}

/* ---- the connection (workers, work_lock held) ------------------------ */

static void
set_connected(LvState *self, gboolean connected)
{
    g_mutex_lock(&self->state_lock);
    self->connected = connected;
    self->conn_lost = FALSE;
    g_mutex_unlock(&self->state_lock);
}

void
mb_lv_disconnect(LvState *self, const char *why)
{
    GHashTableIter iter;
    gpointer value;

    if (self->conn == NULL)
        return;
    /* A channel's stream belongs to the connection. */
    g_hash_table_iter_init(&iter, self->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        mb_lv_drop_stream(value);
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
connected(LvState *self)
{
    virNodeInfo node;
    guint64 host_kib = 0;

    self->lifecycle_id = virConnectDomainEventRegisterAny(
        self->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), mb_lv_ref(self), mb_lv_unref);
    if (self->lifecycle_id < 0) {
        mb_lv_unref(self);
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
gboolean
mb_lv_uri_is_hopeless(void)
{
    virErrorPtr last = virGetLastError();

    return last != NULL && (last->code == VIR_ERR_NO_CONNECT || last->domain == VIR_FROM_URI);
}

/* Drops a connection that died; opens one when none is open and the backoff allows. */
gboolean
mb_lv_ensure_connected(LvState *self, GError **error)
{
    gint64 now = g_get_monotonic_time();
    gboolean lost;

    g_mutex_lock(&self->state_lock);
    lost = self->conn_lost;
    g_mutex_unlock(&self->state_lock);
    if (self->conn != NULL && (lost || virConnectIsAlive(self->conn) != 1))
        mb_lv_disconnect(self, lost ? "the connection was closed" : "the connection is dead");
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
        if (!self->failure_logged && !mb_lv_uri_is_hopeless())
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
void
mb_lv_check_alive(LvState *self)
{
    if (self->conn != NULL && virConnectIsAlive(self->conn) != 1)
        mb_lv_disconnect(self, virGetLastErrorMessage());
}

LvDomain *
mb_lv_get_domain(LvState *self, const char *name)
{
    LvDomain *d = g_hash_table_lookup(self->domains, name);

    if (d == NULL) {
        d = g_new0(LvDomain, 1);
        d->name = g_strdup(name);
        d->backend = self;
        d->channel = mb_guest_channel_new(name);
        mb_guest_channel_set_ready_func(d->channel, mb_lv_on_socket_ready, d);
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

/* The domain table's free function (at the state's last reference). */
static void
domain_free(LvDomain *d)
{
    mb_lv_drop_stream(d); /* none left: mb_lv_disconnect dropped them */
    mb_guest_channel_free(d->channel);
    g_free(d->name);
    g_free(d);
}

LvState *
mb_lv_state_new(MbBackend *owner, const char *uri)
{
    LvState *self = g_atomic_rc_box_new0(LvState);

    self->owner = owner;
    self->uri = g_strdup(uri);
    self->lifecycle_id = -1;
    g_mutex_init(&self->work_lock);
    g_mutex_init(&self->state_lock);
    g_mutex_init(&self->chan_lock);
    self->domains =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)domain_free);
    return self;
}

gboolean
mb_lv_is_running_state(int state)
{
    /* Paused and shutting-down domains still hold their memory. */
    return state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED ||
           state == VIR_DOMAIN_PAUSED || state == VIR_DOMAIN_SHUTDOWN ||
           state == VIR_DOMAIN_PMSUSPENDED;
}

/* NULL with *missing TRUE when libvirt has no such domain. */
virDomainPtr
mb_lv_lookup_domain(LvState *self, const char *name, gboolean *missing, GError **error)
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
        mb_lv_check_alive(self);
    }
    return NULL;
}
