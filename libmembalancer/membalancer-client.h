/* libmembalancer: a client of membalancerd (org.smarttv.MemBalancer). */
#pragma once

#if !defined(MEMBALANCER_INSIDE) && !defined(MEMBALANCER_COMPILATION)
#error "Only <membalancer.h> can be included directly."
#endif

#include <gio/gio.h>

#include "membalancer-vm.h"

G_BEGIN_DECLS

#define MEMBALANCER_TYPE_CLIENT (membalancer_client_get_type())
G_DECLARE_FINAL_TYPE(MembalancerClient, membalancer_client, MEMBALANCER, CLIENT, GObject)

/* Connecting: the system bus, a bus address, or a connection of the caller's. */
void membalancer_client_new(GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data);
void membalancer_client_new_for_address(const char *address, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data);
void membalancer_client_new_for_connection(GDBusConnection *connection,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
MembalancerClient *membalancer_client_new_finish(GAsyncResult *result, GError **error);
MembalancerClient *membalancer_client_new_sync(GCancellable *cancellable, GError **error);
MembalancerClient *membalancer_client_new_for_address_sync(const char *address,
                                                           GCancellable *cancellable,
                                                           GError **error);
MembalancerClient *membalancer_client_new_for_connection_sync(GDBusConnection *connection,
                                                              GCancellable *cancellable,
                                                              GError **error);

GDBusConnection *membalancer_client_get_connection(MembalancerClient *client);
gboolean membalancer_client_get_auto_start(MembalancerClient *client);
gboolean membalancer_client_get_running(MembalancerClient *client);
char *membalancer_client_dup_version(MembalancerClient *client);
char *membalancer_client_dup_backend(MembalancerClient *client);
char *membalancer_client_dup_policy(MembalancerClient *client);
guint64 membalancer_client_get_pool_kib(MembalancerClient *client);
guint64 membalancer_client_get_reserve_kib(MembalancerClient *client);
guint membalancer_client_get_interval_ms(MembalancerClient *client);
gdouble membalancer_client_get_alpha(MembalancerClient *client);
guint membalancer_client_get_vm_count(MembalancerClient *client);
gboolean membalancer_client_get_paused(MembalancerClient *client);
gboolean membalancer_client_get_connected(MembalancerClient *client);

/* The VMs, as the object manager has them now (no call). */
GList *membalancer_client_get_vms(MembalancerClient *client);
MembalancerVm *membalancer_client_lookup_vm(MembalancerClient *client, const char *name);

void membalancer_client_register_vm(MembalancerClient *client, const char *name, guint priority,
                                    guint64 min_kib, guint64 max_kib, gboolean foreground,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);
MembalancerVm *membalancer_client_register_vm_finish(MembalancerClient *client,
                                                     GAsyncResult *result, GError **error);
MembalancerVm *membalancer_client_register_vm_sync(MembalancerClient *client, const char *name,
                                                   guint priority, guint64 min_kib,
                                                   guint64 max_kib, gboolean foreground,
                                                   GCancellable *cancellable, GError **error);

void membalancer_client_unregister_vm(MembalancerClient *client, const char *name,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data);
gboolean membalancer_client_unregister_vm_finish(MembalancerClient *client,
                                                 GAsyncResult *result, GError **error);
gboolean membalancer_client_unregister_vm_sync(MembalancerClient *client, const char *name,
                                               GCancellable *cancellable, GError **error);

void membalancer_client_set_priority(MembalancerClient *client, const char *name,
                                     guint priority, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
gboolean membalancer_client_set_priority_finish(MembalancerClient *client, GAsyncResult *result,
                                                GError **error);
gboolean membalancer_client_set_priority_sync(MembalancerClient *client, const char *name,
                                              guint priority, GCancellable *cancellable,
                                              GError **error);

void membalancer_client_set_foreground(MembalancerClient *client, const char *name,
                                       GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data);
gboolean membalancer_client_set_foreground_finish(MembalancerClient *client,
                                                  GAsyncResult *result, GError **error);
gboolean membalancer_client_set_foreground_sync(MembalancerClient *client, const char *name,
                                                GCancellable *cancellable, GError **error);

void membalancer_client_set_limits(MembalancerClient *client, const char *name, guint64 min_kib,
                                   guint64 max_kib, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);
gboolean membalancer_client_set_limits_finish(MembalancerClient *client, GAsyncResult *result,
                                              GError **error);
gboolean membalancer_client_set_limits_sync(MembalancerClient *client, const char *name,
                                            guint64 min_kib, guint64 max_kib,
                                            GCancellable *cancellable, GError **error);

void membalancer_client_clear_foreground(MembalancerClient *client, GCancellable *cancellable,
                                         GAsyncReadyCallback callback, gpointer user_data);
gboolean membalancer_client_clear_foreground_finish(MembalancerClient *client,
                                                    GAsyncResult *result, GError **error);
gboolean membalancer_client_clear_foreground_sync(MembalancerClient *client,
                                                  GCancellable *cancellable, GError **error);

void membalancer_client_register_or_update_vm(MembalancerClient *client, const char *name,
                                              guint priority, guint64 min_kib, guint64 max_kib,
                                              gboolean foreground, GCancellable *cancellable,
                                              GAsyncReadyCallback callback, gpointer user_data);
MembalancerVm *membalancer_client_register_or_update_vm_finish(MembalancerClient *client,
                                                               GAsyncResult *result,
                                                               GError **error);
MembalancerVm *membalancer_client_register_or_update_vm_sync(
    MembalancerClient *client, const char *name, guint priority, guint64 min_kib,
    guint64 max_kib, gboolean foreground, GCancellable *cancellable, GError **error);

void membalancer_client_register_vm_full(MembalancerClient *client, const char *name,
                                         guint priority, GVariant *options, gboolean update,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback, gpointer user_data);
MembalancerVm *membalancer_client_register_vm_full_finish(MembalancerClient *client,
                                                          GAsyncResult *result, GError **error);
MembalancerVm *membalancer_client_register_vm_full_sync(MembalancerClient *client,
                                                        const char *name, guint priority,
                                                        GVariant *options, gboolean update,
                                                        GCancellable *cancellable,
                                                        GError **error);

void membalancer_client_pause(MembalancerClient *client, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
gboolean membalancer_client_pause_finish(MembalancerClient *client, GAsyncResult *result,
                                         GError **error);
gboolean membalancer_client_pause_sync(MembalancerClient *client, GCancellable *cancellable,
                                       GError **error);

void membalancer_client_resume(MembalancerClient *client, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
gboolean membalancer_client_resume_finish(MembalancerClient *client, GAsyncResult *result,
                                          GError **error);
gboolean membalancer_client_resume_sync(MembalancerClient *client, GCancellable *cancellable,
                                        GError **error);

void membalancer_client_rebalance(MembalancerClient *client, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
gboolean membalancer_client_rebalance_finish(MembalancerClient *client, GAsyncResult *result,
                                             GError **error);
gboolean membalancer_client_rebalance_sync(MembalancerClient *client, GCancellable *cancellable,
                                           GError **error);

G_END_DECLS
