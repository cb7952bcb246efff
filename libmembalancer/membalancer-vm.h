/* libmembalancer: one VM registered with membalancerd. */
#pragma once

#if !defined(MEMBALANCER_INSIDE) && !defined(MEMBALANCER_COMPILATION)
#error "Only <membalancer.h> can be included directly."
#endif

#include <glib-object.h>

G_BEGIN_DECLS

#define MEMBALANCER_TYPE_VM (membalancer_vm_get_type())
G_DECLARE_FINAL_TYPE(MembalancerVm, membalancer_vm, MEMBALANCER, VM, GObject)

const char *membalancer_vm_get_name(MembalancerVm *vm);
const char *membalancer_vm_get_object_path(MembalancerVm *vm);
guint membalancer_vm_get_priority(MembalancerVm *vm);
gboolean membalancer_vm_get_foreground(MembalancerVm *vm);
guint64 membalancer_vm_get_min_kib(MembalancerVm *vm);
guint64 membalancer_vm_get_max_kib(MembalancerVm *vm);
guint64 membalancer_vm_get_allocated_kib(MembalancerVm *vm);
gint64 membalancer_vm_get_demand_kib(MembalancerVm *vm);
guint64 membalancer_vm_get_reclaimable_kib(MembalancerVm *vm);
guint64 membalancer_vm_get_active_anon_kib(MembalancerVm *vm);
guint64 membalancer_vm_get_active_file_kib(MembalancerVm *vm);
guint64 membalancer_vm_get_inactive_file_kib(MembalancerVm *vm);
guint64 membalancer_vm_get_free_kib(MembalancerVm *vm);
guint64 membalancer_vm_get_swap_out_kib(MembalancerVm *vm);
const char *membalancer_vm_get_stats_source(MembalancerVm *vm);
guint64 membalancer_vm_get_last_update(MembalancerVm *vm);
const char *membalancer_vm_get_last_reason(MembalancerVm *vm);
const char *membalancer_vm_get_state(MembalancerVm *vm);

G_END_DECLS
