/* MembalancerVm: the object of one registered VM. Its properties are the
 * generated proxy's (the D-Bus properties of org.smarttv.MemBalancer.VM,
 * kept current from the object manager); each change of the proxy is
 * announced as a notify of the same name on this object. */
#include "membalancer-private.h"

/**
 * MembalancerVm:
 *
 * A VM registered with membalancerd: its settings (priority, foreground,
 * memory bounds), its allocation and the statistics of the last interval.
 * Memory sizes are KiB. Every property is read-only and emits
 * `notify` when the service publishes a new value; change the settings
 * through [class@Membalancer.Client].
 *
 * Get one from [method@Membalancer.Client.get_vms],
 * [method@Membalancer.Client.lookup_vm], the
 * [signal@Membalancer.Client::vm-added] signal or
 * [method@Membalancer.Client.register_vm_finish].
 */
struct _MembalancerVm {
    GObject parent_instance;
    MbLibGenMemBalancerVM *proxy;
};

G_DEFINE_FINAL_TYPE(MembalancerVm, membalancer_vm, G_TYPE_OBJECT)

enum {
    PROP_0,
    PROP_OBJECT_PATH,
    PROP_NAME,
    PROP_PRIORITY,
    PROP_FOREGROUND,
    PROP_MIN_KIB,
    PROP_MAX_KIB,
    PROP_ALLOCATED_KIB,
    PROP_DEMAND_KIB,
    PROP_RECLAIMABLE_KIB,
    PROP_ACTIVE_ANON_KIB,
    PROP_ACTIVE_FILE_KIB,
    PROP_INACTIVE_FILE_KIB,
    PROP_FREE_KIB,
    PROP_SWAP_OUT_KIB,
    PROP_STATS_SOURCE,
    PROP_LAST_UPDATE,
    PROP_LAST_REASON,
    PROP_STATE,
    N_PROPS
};

static GParamSpec *props[N_PROPS];

static void
on_proxy_notify(GObject *proxy, GParamSpec *pspec, gpointer user_data)
{
    MembalancerVm *self = user_data;
    GParamSpec *ours = g_object_class_find_property(G_OBJECT_GET_CLASS(self), pspec->name);

    if (ours != NULL)
        g_object_notify_by_pspec(G_OBJECT(self), ours);
}

MembalancerVm *
_membalancer_vm_new(MbLibGenMemBalancerVM *proxy)
{
    MembalancerVm *self = g_object_new(MEMBALANCER_TYPE_VM, NULL);

    self->proxy = g_object_ref(proxy);
    g_signal_connect_object(proxy, "notify", G_CALLBACK(on_proxy_notify), self, 0);
    return self;
}

MbLibGenMemBalancerVM *
_membalancer_vm_get_proxy(MembalancerVm *vm)
{
    return vm->proxy;
}

static void
membalancer_vm_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
    MembalancerVm *self = MEMBALANCER_VM(object);

    if (prop_id == PROP_OBJECT_PATH)
        g_value_set_string(value, membalancer_vm_get_object_path(self));
    else if (prop_id < N_PROPS)
        g_object_get_property(G_OBJECT(self->proxy), pspec->name, value);
    else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
}

static void
membalancer_vm_dispose(GObject *object)
{
    MembalancerVm *self = MEMBALANCER_VM(object);

    g_clear_object(&self->proxy);
    G_OBJECT_CLASS(membalancer_vm_parent_class)->dispose(object);
}

#define RO (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY)
#define KIB_PROP(id, name)                                                                     \
    props[id] = g_param_spec_uint64(name, NULL, NULL, 0, G_MAXUINT64, 0, RO)
#define STR_PROP(id, name) props[id] = g_param_spec_string(name, NULL, NULL, NULL, RO)

static void
membalancer_vm_class_init(MembalancerVmClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->get_property = membalancer_vm_get_property;
    object_class->dispose = membalancer_vm_dispose;

    /**
     * MembalancerVm:object-path:
     *
     * The VM's object path on the bus.
     */
    STR_PROP(PROP_OBJECT_PATH, "object-path");
    /**
     * MembalancerVm:name:
     *
     * The libvirt domain name the VM was registered with.
     */
    STR_PROP(PROP_NAME, "name");
    /**
     * MembalancerVm:priority:
     *
     * QoS priority, 0 to 100; the higher is served first.
     */
    props[PROP_PRIORITY] = g_param_spec_uint("priority", NULL, NULL, 0, G_MAXUINT, 0, RO);
    /**
     * MembalancerVm:foreground:
     *
     * Whether this is the foreground VM (served first among equal priorities).
     */
    props[PROP_FOREGROUND] = g_param_spec_boolean("foreground", NULL, NULL, FALSE, RO);
    /**
     * MembalancerVm:min-kib:
     *
     * The guaranteed minimum allocation, in KiB.
     */
    KIB_PROP(PROP_MIN_KIB, "min-kib");
    /**
     * MembalancerVm:max-kib:
     *
     * The allocation is never raised above this, in KiB.
     */
    KIB_PROP(PROP_MAX_KIB, "max-kib");
    /**
     * MembalancerVm:allocated-kib:
     *
     * The VM's current allocation in KiB (0 while its domain is not running).
     */
    KIB_PROP(PROP_ALLOCATED_KIB, "allocated-kib");
    /**
     * MembalancerVm:demand-kib:
     *
     * The predicted change of the VM's memory demand per interval, in KiB;
     * negative when its demand shrinks.
     */
    props[PROP_DEMAND_KIB] =
        g_param_spec_int64("demand-kib", NULL, NULL, G_MININT64, G_MAXINT64, 0, RO);
    /**
     * MembalancerVm:reclaimable-kib:
     *
     * Memory the VM could give without swapping, in KiB.
     */
    KIB_PROP(PROP_RECLAIMABLE_KIB, "reclaimable-kib");
    /**
     * MembalancerVm:active-anon-kib:
     *
     * Active anonymous memory, as the guest reports it, in KiB.
     */
    KIB_PROP(PROP_ACTIVE_ANON_KIB, "active-anon-kib");
    /**
     * MembalancerVm:active-file-kib:
     *
     * Active page cache, as the guest reports it, in KiB.
     */
    KIB_PROP(PROP_ACTIVE_FILE_KIB, "active-file-kib");
    /**
     * MembalancerVm:inactive-file-kib:
     *
     * Inactive page cache, as the guest reports it, in KiB.
     */
    KIB_PROP(PROP_INACTIVE_FILE_KIB, "inactive-file-kib");
    /**
     * MembalancerVm:free-kib:
     *
     * Free memory, as the guest reports it, in KiB.
     */
    KIB_PROP(PROP_FREE_KIB, "free-kib");
    /**
     * MembalancerVm:swap-out-kib:
     *
     * Memory the guest has swapped out since it booted, in KiB.
     */
    KIB_PROP(PROP_SWAP_OUT_KIB, "swap-out-kib");
    /**
     * MembalancerVm:stats-source:
     *
     * Where the statistics come from: `agent`, `balloon` or `none`.
     */
    STR_PROP(PROP_STATS_SOURCE, "stats-source");
    /**
     * MembalancerVm:last-update:
     *
     * When the statistics were last read, in microseconds of the service's
     * monotonic clock; 0 before the first read.
     */
    KIB_PROP(PROP_LAST_UPDATE, "last-update");
    /**
     * MembalancerVm:last-reason:
     *
     * Why the allocation last changed: `none` or the policy's reason
     * (`need`, `donate`, `min`, `max`, ...).
     */
    STR_PROP(PROP_LAST_REASON, "last-reason");
    /**
     * MembalancerVm:state:
     *
     * `running`, `offline` (its domain is not running) or `stuck` (its
     * balloon does not move).
     */
    STR_PROP(PROP_STATE, "state");
    g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
membalancer_vm_init(MembalancerVm *self)
{
}

/* The getters: one line each over the generated proxy's cached values. */
#define VM_GETTER(type, prop, dbus_getter)                                                     \
    type membalancer_vm_get_##prop(MembalancerVm *vm)                                          \
    {                                                                                          \
        g_return_val_if_fail(MEMBALANCER_IS_VM(vm), 0);                                        \
        return dbus_getter(vm->proxy);                                                         \
    }

/**
 * membalancer_vm_get_object_path:
 * @vm: a #MembalancerVm
 *
 * Returns: the VM's object path on the bus
 */
const char *
membalancer_vm_get_object_path(MembalancerVm *vm)
{
    g_return_val_if_fail(MEMBALANCER_IS_VM(vm), NULL);
    return g_dbus_proxy_get_object_path(G_DBUS_PROXY(vm->proxy));
}

/**
 * membalancer_vm_get_name:
 * @vm: a #MembalancerVm
 *
 * Returns: (nullable): the value of [property@Membalancer.Vm:name]
 */
VM_GETTER(const char *, name, mb_lib_gen_mem_balancer_vm_get_name)
/**
 * membalancer_vm_get_priority:
 * @vm: a #MembalancerVm
 *
 * Returns: the value of [property@Membalancer.Vm:priority]
 */
VM_GETTER(guint, priority, mb_lib_gen_mem_balancer_vm_get_priority)
/**
 * membalancer_vm_get_foreground:
 * @vm: a #MembalancerVm
 *
 * Returns: the value of [property@Membalancer.Vm:foreground]
 */
VM_GETTER(gboolean, foreground, mb_lib_gen_mem_balancer_vm_get_foreground)
/**
 * membalancer_vm_get_min_kib:
 * @vm: a #MembalancerVm
 *
 * Returns: the value of [property@Membalancer.Vm:min-kib]
 */
VM_GETTER(guint64, min_kib, mb_lib_gen_mem_balancer_vm_get_min_kib)
/**
 * membalancer_vm_get_max_kib:
 * @vm: a #MembalancerVm
 *
 * Returns: the value of [property@Membalancer.Vm:max-kib]
 */
VM_GETTER(guint64, max_kib, mb_lib_gen_mem_balancer_vm_get_max_kib)
/**
 * membalancer_vm_get_allocated_kib:
 * @vm: a #MembalancerVm
 *
 * Returns: the value of [property@Membalancer.Vm:allocated-kib]
 */
VM_GETTER(guint64, allocated_kib, mb_lib_gen_mem_balancer_vm_get_allocated_kib)
/**
 * membalancer_vm_get_demand_kib:
 * @vm: a #MembalancerVm
 *
 * Returns: the value of [property@Membalancer.Vm:demand-kib]
 */
VM_GETTER(gint64, demand_kib, mb_lib_gen_mem_balancer_vm_get_demand_kib)
/**
 * membalancer_vm_get_reclaimable_kib:
 * @vm: a #MembalancerVm
 *
 * Returns: the value of [property@Membalancer.Vm:reclaimable-kib]
 */
VM_GETTER(guint64, reclaimable_kib, mb_lib_gen_mem_balancer_vm_get_reclaimable_kib)
/**
 * membalancer_vm_get_active_anon_kib:
 * @vm: a #MembalancerVm
 *
 * Returns: the value of [property@Membalancer.Vm:active-anon-kib]
 */
VM_GETTER(guint64, active_anon_kib, mb_lib_gen_mem_balancer_vm_get_active_anon_kib)
/**
 * membalancer_vm_get_active_file_kib:
 * @vm: a #MembalancerVm
 *
 * Returns: the value of [property@Membalancer.Vm:active-file-kib]
 */
VM_GETTER(guint64, active_file_kib, mb_lib_gen_mem_balancer_vm_get_active_file_kib)
/**
 * membalancer_vm_get_inactive_file_kib:
 * @vm: a #MembalancerVm
 *
 * Returns: the value of [property@Membalancer.Vm:inactive-file-kib]
 */
VM_GETTER(guint64, inactive_file_kib, mb_lib_gen_mem_balancer_vm_get_inactive_file_kib)
/**
 * membalancer_vm_get_free_kib:
 * @vm: a #MembalancerVm
 *
 * Returns: the value of [property@Membalancer.Vm:free-kib]
 */
VM_GETTER(guint64, free_kib, mb_lib_gen_mem_balancer_vm_get_free_kib)
/**
 * membalancer_vm_get_swap_out_kib:
 * @vm: a #MembalancerVm
 *
 * Returns: the value of [property@Membalancer.Vm:swap-out-kib]
 */
VM_GETTER(guint64, swap_out_kib, mb_lib_gen_mem_balancer_vm_get_swap_out_kib)
/**
 * membalancer_vm_get_stats_source:
 * @vm: a #MembalancerVm
 *
 * Returns: (nullable): the value of [property@Membalancer.Vm:stats-source]
 */
VM_GETTER(const char *, stats_source, mb_lib_gen_mem_balancer_vm_get_stats_source)
/**
 * membalancer_vm_get_last_update:
 * @vm: a #MembalancerVm
 *
 * Returns: the value of [property@Membalancer.Vm:last-update]
 */
VM_GETTER(guint64, last_update, mb_lib_gen_mem_balancer_vm_get_last_update)
/**
 * membalancer_vm_get_last_reason:
 * @vm: a #MembalancerVm
 *
 * Returns: (nullable): the value of [property@Membalancer.Vm:last-reason]
 */
VM_GETTER(const char *, last_reason, mb_lib_gen_mem_balancer_vm_get_last_reason)
/**
 * membalancer_vm_get_state:
 * @vm: a #MembalancerVm
 *
 * Returns: (nullable): the value of [property@Membalancer.Vm:state]
 */
VM_GETTER(const char *, state, mb_lib_gen_mem_balancer_vm_get_state)
