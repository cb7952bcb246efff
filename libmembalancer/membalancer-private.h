/* libmembalancer's internals, shared by its files (not installed). */
#pragma once

#include "membalancer.h"
#include "mb-dbus-generated.h"

G_BEGIN_DECLS

/* Takes error; returns it in MEMBALANCER_ERROR (cancellation stays
 * G_IO_ERROR_CANCELLED) with the D-Bus prefix stripped from its message. */
GError *_membalancer_error_from_dbus(GError *error);

MembalancerVm *_membalancer_vm_new(MbMemBalancerVM *proxy);
MbMemBalancerVM *_membalancer_vm_get_proxy(MembalancerVm *vm);

struct _MembalancerClient {
    GObject parent_instance;
    GDBusConnection *connection;
    char *address;
    GDBusObjectManager *object_manager;
    MbMemBalancer *manager;
    GHashTable *vms; /* object path -> MembalancerVm */
};

/* membalancer-client-connect.c */
void _membalancer_client_initable_iface_init(GInitableIface *iface);
void _membalancer_client_async_initable_iface_init(GAsyncInitableIface *iface);
/* Fills the VM table and follows the service (once the proxies are made). */
void _membalancer_client_setup(MembalancerClient *client);

/* The manager's proxy (NULL before the client is initialized). */
MbMemBalancer *_membalancer_client_get_manager(MembalancerClient *client);
/* The VM object of path in the client's table, or NULL (no reference). */
MembalancerVm *_membalancer_client_vm_for_path(MembalancerClient *client, const char *path);
/* Adds a VM object built from a proxy of the caller's (when the reply of
 * RegisterVM arrived before the object manager saw the VM). */
void _membalancer_client_adopt_vm(MembalancerClient *client, MembalancerVm *vm);

G_END_DECLS
