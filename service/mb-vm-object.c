#include "mb-vm-object.h"

struct _MbVmObject {
    MbMemBalancerVMSkeleton parent_instance;

    MbObjectSkeleton *object;
    char *path;
    MbEngineVm *vm;
    gulong changed_id;
};

G_DEFINE_TYPE(MbVmObject, mb_vm_object, MB_TYPE_MEM_BALANCER_VM_SKELETON)

char *
mb_vm_object_path_for_name(const char *name)
{
    g_autofree char *escaped = g_dbus_escape_object_path(name);

    return g_strconcat(MB_VM_OBJECT_PATH_PREFIX, escaped, NULL);
}

static void
mb_vm_object_finalize(GObject *object)
{
    MbVmObject *self = MB_VM_OBJECT(object);

    g_clear_signal_handler(&self->changed_id, self->vm);
    g_clear_object(&self->vm);
    g_clear_object(&self->object);
    g_free(self->path);
    G_OBJECT_CLASS(mb_vm_object_parent_class)->finalize(object);
}

static void
mb_vm_object_class_init(MbVmObjectClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = mb_vm_object_finalize;
}

static void
mb_vm_object_init(MbVmObject *self)
{
}

/* Puts the VM's current state in the properties and emits one
 * PropertiesChanged now (a client reading after Rebalanced sees it). */
static void
sync_properties(MbVmObject *self)
{
    MbMemBalancerVM *iface = MB_MEM_BALANCER_VM(self);
    const MbVm *vm = mb_engine_vm_get_vm(self->vm);
    gboolean have = vm->has_last;

    mb_mem_balancer_vm_set_priority(iface, vm->settings.priority);
    mb_mem_balancer_vm_set_foreground(iface, vm->settings.foreground);
    mb_mem_balancer_vm_set_min_kib(iface, vm->settings.min_kib);
    mb_mem_balancer_vm_set_max_kib(iface, vm->settings.max_kib);
    mb_mem_balancer_vm_set_allocated_kib(iface, vm->alloc_kib);
    mb_mem_balancer_vm_set_demand_kib(iface, vm->has_delta ? vm->delta_kib : 0);
    mb_mem_balancer_vm_set_reclaimable_kib(iface, have ? vm->reclaimable_kib : 0);
    mb_mem_balancer_vm_set_active_anon_kib(iface, have ? vm->last.active_anon_kib : 0);
    mb_mem_balancer_vm_set_active_file_kib(iface, have ? vm->last.active_file_kib : 0);
    mb_mem_balancer_vm_set_inactive_file_kib(iface, have ? vm->last.inactive_file_kib : 0);
    mb_mem_balancer_vm_set_free_kib(iface, have ? vm->last.free_kib : 0);
    mb_mem_balancer_vm_set_swap_out_kib(
        iface, have ? vm->last.swap_out_pages * mb_engine_vm_get_page_kib(self->vm) : 0);
    mb_mem_balancer_vm_set_stats_source(
        iface, mb_stats_source_to_string(mb_engine_vm_get_source(self->vm)));
    mb_mem_balancer_vm_set_last_update(iface,
                                       (guint64)MAX(mb_engine_vm_get_last_update(self->vm), 0));
    mb_mem_balancer_vm_set_last_reason(
        iface, mb_reason_to_keyword(mb_engine_vm_get_last_reason(self->vm)));
    mb_mem_balancer_vm_set_state(iface,
                                 mb_vm_state_to_string(mb_engine_vm_get_state(self->vm)));
    g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(self));
}

static void
on_changed(MbEngineVm *vm, gpointer user_data)
{
    sync_properties(MB_VM_OBJECT(user_data));
}

MbVmObject *
mb_vm_object_new(MbEngineVm *vm)
{
    MbVmObject *self = g_object_new(MB_TYPE_VM_OBJECT, NULL);
    const char *name = mb_engine_vm_get_name(vm);

    self->vm = g_object_ref(vm);
    self->path = mb_vm_object_path_for_name(name);
    self->object = mb_object_skeleton_new(self->path);
    mb_object_skeleton_set_mem_balancer_vm(self->object, MB_MEM_BALANCER_VM(self));
    mb_mem_balancer_vm_set_name(MB_MEM_BALANCER_VM(self), name);
    sync_properties(self);
    self->changed_id = g_signal_connect(vm, "changed", G_CALLBACK(on_changed), self);
    return self;
}

void
mb_vm_object_release(MbVmObject *self)
{
    g_clear_signal_handler(&self->changed_id, self->vm);
    if (self->object != NULL)
        mb_object_skeleton_set_mem_balancer_vm(self->object, NULL);
}

MbObjectSkeleton *
mb_vm_object_get_object(MbVmObject *self)
{
    return self->object;
}

const char *
mb_vm_object_get_path(MbVmObject *self)
{
    return self->path;
}

MbEngineVm *
mb_vm_object_get_vm(MbVmObject *self)
{
    return self->vm;
}
