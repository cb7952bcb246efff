/* libmembalancer's internals, shared by its files (not installed). */
#pragma once

#include "membalancer.h"
#include "membalancer-gen.h"

G_BEGIN_DECLS

/* Takes error; returns it in MEMBALANCER_ERROR (cancellation stays
 * G_IO_ERROR_CANCELLED) with the D-Bus prefix stripped from its message. */
GError *_membalancer_error_from_dbus(GError *error);
/* Takes error: that of a call through proxy. A call that never left (the
 * proxy does not auto-start and the service has no owner) is NOT_RUNNING;
 * the rest as _membalancer_error_from_dbus(). */
GError *_membalancer_error_from_call(GDBusProxy *proxy, GError *error);

MembalancerVm *_membalancer_vm_new(MbLibGenMemBalancerVM *proxy);
MbLibGenMemBalancerVM *_membalancer_vm_get_proxy(MembalancerVm *vm);

struct _MembalancerClient {
    GObject parent_instance;
    GDBusConnection *connection;
    char *address;
    gboolean auto_start;
    GDBusObjectManager *object_manager;
    MbLibGenMemBalancer *manager;
    GHashTable *vms; /* object path -> MembalancerVm */
};

/* membalancer-client-connect.c */
void _membalancer_client_initable_iface_init(GInitableIface *iface);
void _membalancer_client_async_initable_iface_init(GAsyncInitableIface *iface);
/* Fills the VM table and follows the service (once the proxies are made). */
void _membalancer_client_setup(MembalancerClient *client);

/* The flags of the client's proxies: no auto-start unless the client may. */
GDBusProxyFlags _membalancer_client_proxy_flags(MembalancerClient *client);

/* The manager's proxy (NULL before the client is initialized). */
MbLibGenMemBalancer *_membalancer_client_get_manager(MembalancerClient *client);
/* The VM object of path in the client's table, or NULL (no reference). */
MembalancerVm *_membalancer_client_vm_for_path(MembalancerClient *client, const char *path);
/* Adds a VM object built from a proxy of the caller's (when the reply of
 * RegisterVM arrived before the object manager saw the VM). */
void _membalancer_client_adopt_vm(MembalancerClient *client, MembalancerVm *vm);

/* membalancer-client-calls.c: the calls' common parts, for the call
 * files. A finish function of the generated proxy, as a task's data. */
typedef gboolean (*CallFinish)(MbLibGenMemBalancer *proxy, GAsyncResult *result,
                               GError **error);
typedef gboolean (*PathFinish)(MbLibGenMemBalancer *proxy, char **path, GAsyncResult *result,
                               GError **error);
GTask *_membalancer_call_task(MembalancerClient *client, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data,
                              gpointer source_tag, CallFinish finish);
/* The GAsyncReadyCallback of a call without results (user_data: the task). */
void _membalancer_call_done(GObject *source, GAsyncResult *result, gpointer user_data);
gboolean _membalancer_call_finish(MembalancerClient *client, GAsyncResult *result,
                                  gpointer source_tag, GError **error);
/* Takes error: a _sync call's result. */
gboolean _membalancer_sync_result(MembalancerClient *client, gboolean ok, GError *error,
                                  GError **out_error);
/* RegisterVM's options: 0 and FALSE are left out. */
GVariant *_membalancer_register_options(guint64 min_kib, guint64 max_kib, gboolean foreground);
/* The reply of a call returning a VM's path; the task's data is its
 * PathFinish; the task returns the MembalancerVm. */
void _membalancer_register_done(GObject *source, GAsyncResult *result, gpointer user_data);
/* RegisterVM (or RegisterOrUpdateVM when update) with its a{sv} options:
 * the task (tagged source_tag) returns the MembalancerVm. */
void _membalancer_register_start(MembalancerClient *client, const char *name, guint priority,
                                 GVariant *options, gboolean update, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data,
                                 gpointer source_tag);
MembalancerVm *_membalancer_register_sync(MembalancerClient *client, const char *name,
                                          guint priority, GVariant *options, gboolean update,
                                          GCancellable *cancellable, GError **error);
/* The MembalancerVm of a path a call just returned. */
MembalancerVm *_membalancer_registered_vm_sync(MembalancerClient *client, const char *path,
                                               GCancellable *cancellable, GError **error);

G_END_DECLS
