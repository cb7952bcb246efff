/* One row of the panel's model, over a MembalancerVm of the client
 * library; see mb-panel-vm.h. */
#include "mb-panel-vm-private.h"

struct _MbPanelVm {
    GObject parent_instance;
    MembalancerVm *source; /* the library's VM; NULL once it is gone */
    char *name;
    guint color;
    guint priority;
    gboolean foreground;
    guint64 min_kib, max_kib, allocated_kib, reclaimable_kib, swap_out_kib;
    gint64 demand_kib;
    gboolean swapping;
    gint64 swap_seen_us; /* when the swap-out counter last grew */
    char *state;
    char *stats_source;
    GArray *history; /* MbPanelSample */
};

enum {
    VM_PROP_0,
    VM_PROP_NAME,
    VM_PROP_PRIORITY,
    VM_PROP_FOREGROUND,
    VM_PROP_MIN_KIB,
    VM_PROP_MAX_KIB,
    VM_PROP_ALLOCATED_KIB,
    VM_PROP_DEMAND_KIB,
    VM_PROP_RECLAIMABLE_KIB,
    VM_PROP_SWAP_OUT_KIB,
    VM_PROP_SWAPPING,
    VM_PROP_STATE,
    VM_PROP_STATS_SOURCE,
    VM_PROP_COLOR,
    VM_N_PROPS,
};

static GParamSpec *vm_props[VM_N_PROPS];

G_DEFINE_FINAL_TYPE(MbPanelVm, mb_panel_vm, G_TYPE_OBJECT)

static void
mb_panel_vm_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    MbPanelVm *vm = MB_PANEL_VM(object);

    switch (id) {
    case VM_PROP_NAME:
        g_value_set_string(value, vm->name);
        break;
    case VM_PROP_PRIORITY:
        g_value_set_uint(value, vm->priority);
        break;
    case VM_PROP_FOREGROUND:
        g_value_set_boolean(value, vm->foreground);
        break;
    case VM_PROP_MIN_KIB:
        g_value_set_uint64(value, vm->min_kib);
        break;
    case VM_PROP_MAX_KIB:
        g_value_set_uint64(value, vm->max_kib);
        break;
    case VM_PROP_ALLOCATED_KIB:
        g_value_set_uint64(value, vm->allocated_kib);
        break;
    case VM_PROP_DEMAND_KIB:
        g_value_set_int64(value, vm->demand_kib);
        break;
    case VM_PROP_RECLAIMABLE_KIB:
        g_value_set_uint64(value, vm->reclaimable_kib);
        break;
    case VM_PROP_SWAP_OUT_KIB:
        g_value_set_uint64(value, vm->swap_out_kib);
        break;
    case VM_PROP_SWAPPING:
        g_value_set_boolean(value, vm->swapping);
        break;
    case VM_PROP_STATE:
        g_value_set_string(value, vm->state);
        break;
    case VM_PROP_STATS_SOURCE:
        g_value_set_string(value, vm->stats_source);
        break;
    case VM_PROP_COLOR:
        g_value_set_uint(value, vm->color);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void
mb_panel_vm_finalize(GObject *object)
{
    MbPanelVm *vm = MB_PANEL_VM(object);

    mb_panel_vm_detach(vm);
    g_free(vm->name);
    g_free(vm->state);
    g_free(vm->stats_source);
    g_array_unref(vm->history);
    G_OBJECT_CLASS(mb_panel_vm_parent_class)->finalize(object);
}

static void
mb_panel_vm_class_init(MbPanelVmClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

    object_class->get_property = mb_panel_vm_get_property;
    object_class->finalize = mb_panel_vm_finalize;
    vm_props[VM_PROP_NAME] = g_param_spec_string("name", NULL, NULL, NULL, ro);
    vm_props[VM_PROP_PRIORITY] = g_param_spec_uint("priority", NULL, NULL, 0, 100, 0, ro);
    vm_props[VM_PROP_FOREGROUND] = g_param_spec_boolean("foreground", NULL, NULL, FALSE, ro);
    vm_props[VM_PROP_MIN_KIB] =
        g_param_spec_uint64("min-kib", NULL, NULL, 0, G_MAXUINT64, 0, ro);
    vm_props[VM_PROP_MAX_KIB] =
        g_param_spec_uint64("max-kib", NULL, NULL, 0, G_MAXUINT64, 0, ro);
    vm_props[VM_PROP_ALLOCATED_KIB] =
        g_param_spec_uint64("allocated-kib", NULL, NULL, 0, G_MAXUINT64, 0, ro);
    vm_props[VM_PROP_DEMAND_KIB] =
        g_param_spec_int64("demand-kib", NULL, NULL, G_MININT64, G_MAXINT64, 0, ro);
    vm_props[VM_PROP_RECLAIMABLE_KIB] =
        g_param_spec_uint64("reclaimable-kib", NULL, NULL, 0, G_MAXUINT64, 0, ro);
    vm_props[VM_PROP_SWAP_OUT_KIB] =
        g_param_spec_uint64("swap-out-kib", NULL, NULL, 0, G_MAXUINT64, 0, ro);
    vm_props[VM_PROP_SWAPPING] = g_param_spec_boolean("swapping", NULL, NULL, FALSE, ro);
    vm_props[VM_PROP_STATE] = g_param_spec_string("state", NULL, NULL, NULL, ro);
    vm_props[VM_PROP_STATS_SOURCE] = g_param_spec_string("stats-source", NULL, NULL, NULL, ro);
    vm_props[VM_PROP_COLOR] = g_param_spec_uint("color", NULL, NULL, 0, G_MAXUINT, 0, ro);
    g_object_class_install_properties(object_class, VM_N_PROPS, vm_props);
}

static void
mb_panel_vm_init(MbPanelVm *vm)
{
    vm->history = g_array_new(FALSE, FALSE, sizeof(MbPanelSample));
    vm->state = g_strdup("running");
    vm->stats_source = g_strdup("none");
}

const char *
mb_panel_vm_get_name(MbPanelVm *vm)
{
    g_return_val_if_fail(MB_IS_PANEL_VM(vm), NULL);
    return vm->name;
}

guint
mb_panel_vm_get_priority(MbPanelVm *vm)
{
    g_return_val_if_fail(MB_IS_PANEL_VM(vm), 0);
    return vm->priority;
}

gboolean
mb_panel_vm_get_foreground(MbPanelVm *vm)
{
    g_return_val_if_fail(MB_IS_PANEL_VM(vm), FALSE);
    return vm->foreground;
}

guint64
mb_panel_vm_get_min_kib(MbPanelVm *vm)
{
    g_return_val_if_fail(MB_IS_PANEL_VM(vm), 0);
    return vm->min_kib;
}

guint64
mb_panel_vm_get_max_kib(MbPanelVm *vm)
{
    g_return_val_if_fail(MB_IS_PANEL_VM(vm), 0);
    return vm->max_kib;
}

guint64
mb_panel_vm_get_allocated_kib(MbPanelVm *vm)
{
    g_return_val_if_fail(MB_IS_PANEL_VM(vm), 0);
    return vm->allocated_kib;
}

gint64
mb_panel_vm_get_demand_kib(MbPanelVm *vm)
{
    g_return_val_if_fail(MB_IS_PANEL_VM(vm), 0);
    return vm->demand_kib;
}

guint64
mb_panel_vm_get_reclaimable_kib(MbPanelVm *vm)
{
    g_return_val_if_fail(MB_IS_PANEL_VM(vm), 0);
    return vm->reclaimable_kib;
}

guint64
mb_panel_vm_get_swap_out_kib(MbPanelVm *vm)
{
    g_return_val_if_fail(MB_IS_PANEL_VM(vm), 0);
    return vm->swap_out_kib;
}

gboolean
mb_panel_vm_get_swapping(MbPanelVm *vm)
{
    g_return_val_if_fail(MB_IS_PANEL_VM(vm), FALSE);
    return vm->swapping;
}

const char *
mb_panel_vm_get_state(MbPanelVm *vm)
{
    g_return_val_if_fail(MB_IS_PANEL_VM(vm), NULL);
    return vm->state;
}

const char *
mb_panel_vm_get_stats_source(MbPanelVm *vm)
{
    g_return_val_if_fail(MB_IS_PANEL_VM(vm), NULL);
    return vm->stats_source;
}

guint
mb_panel_vm_get_color(MbPanelVm *vm)
{
    g_return_val_if_fail(MB_IS_PANEL_VM(vm), 0);
    return vm->color;
}

const MbPanelSample *
mb_panel_vm_get_history(MbPanelVm *vm, guint *n_samples)
{
    g_return_val_if_fail(MB_IS_PANEL_VM(vm), NULL);
    *n_samples = vm->history->len;
    return (const MbPanelSample *)(gpointer)vm->history->data;
}

static void
vm_set_u64(MbPanelVm *vm, guint64 *field, guint64 value, guint prop)
{
    if (*field == value)
        return;
    *field = value;
    g_object_notify_by_pspec(G_OBJECT(vm), vm_props[prop]);
}

static void
vm_set_string(MbPanelVm *vm, char **field, const char *value, guint prop)
{
    if (value == NULL)
        value = "";
    if (g_strcmp0(*field, value) == 0)
        return;
    g_free(*field);
    *field = g_strdup(value);
    g_object_notify_by_pspec(G_OBJECT(vm), vm_props[prop]);
}

static void
vm_set_swapping(MbPanelVm *vm, gboolean swapping)
{
    if (vm->swapping == swapping)
        return;
    vm->swapping = swapping;
    g_object_notify_by_pspec(G_OBJECT(vm), vm_props[VM_PROP_SWAPPING]);
}

/* Swapping while the counter grew within the last MB_PANEL_SWAP_HOLD_US. */
static void
vm_update_swapping(MbPanelVm *vm, gint64 now_us)
{
    vm_set_swapping(vm,
                    vm->swap_seen_us != 0 && now_us - vm->swap_seen_us < MB_PANEL_SWAP_HOLD_US);
}

static void
vm_record(MbPanelVm *vm, gint64 now_us)
{
    MbPanelSample sample = {now_us, vm->allocated_kib};
    gint64 oldest = now_us - (gint64)(MB_PANEL_HISTORY_SECONDS + 5) * G_USEC_PER_SEC;
    guint drop = 0;

    while (drop < vm->history->len &&
           g_array_index(vm->history, MbPanelSample, drop).time_us < oldest)
        drop++;
    if (drop > 0)
        g_array_remove_range(vm->history, 0, drop);
    g_array_append_val(vm->history, sample);
}

/* Copies the library VM's properties into the row, notifying what
 * changed. A guest's figures are untrusted and arrive clamped by the
 * service; the panel only displays them. */
static void
vm_refresh(MbPanelVm *vm)
{
    MembalancerVm *p = vm->source;
    guint64 old_alloc = vm->allocated_kib;
    guint64 swap_out;
    gint64 now = g_get_monotonic_time();

    if (p == NULL)
        return;
    g_object_freeze_notify(G_OBJECT(vm));
    if (vm->priority != membalancer_vm_get_priority(p)) {
        vm->priority = membalancer_vm_get_priority(p);
        g_object_notify_by_pspec(G_OBJECT(vm), vm_props[VM_PROP_PRIORITY]);
    }
    if (vm->foreground != membalancer_vm_get_foreground(p)) {
        vm->foreground = membalancer_vm_get_foreground(p);
        g_object_notify_by_pspec(G_OBJECT(vm), vm_props[VM_PROP_FOREGROUND]);
    }
    if (vm->demand_kib != membalancer_vm_get_demand_kib(p)) {
        vm->demand_kib = membalancer_vm_get_demand_kib(p);
        g_object_notify_by_pspec(G_OBJECT(vm), vm_props[VM_PROP_DEMAND_KIB]);
    }
    vm_set_u64(vm, &vm->min_kib, membalancer_vm_get_min_kib(p), VM_PROP_MIN_KIB);
    vm_set_u64(vm, &vm->max_kib, membalancer_vm_get_max_kib(p), VM_PROP_MAX_KIB);
    vm_set_u64(vm, &vm->allocated_kib, membalancer_vm_get_allocated_kib(p),
               VM_PROP_ALLOCATED_KIB);
    vm_set_u64(vm, &vm->reclaimable_kib, membalancer_vm_get_reclaimable_kib(p),
               VM_PROP_RECLAIMABLE_KIB);
    swap_out = membalancer_vm_get_swap_out_kib(p);
    /* The first value is the counter since boot, not new swapping. */
    if (swap_out > vm->swap_out_kib && vm->history->len > 0)
        vm->swap_seen_us = now;
    vm_set_u64(vm, &vm->swap_out_kib, swap_out, VM_PROP_SWAP_OUT_KIB);
    vm_update_swapping(vm, now);
    vm_set_string(vm, &vm->state, membalancer_vm_get_state(p), VM_PROP_STATE);
    vm_set_string(vm, &vm->stats_source, membalancer_vm_get_stats_source(p),
                  VM_PROP_STATS_SOURCE);
    if (vm->history->len == 0 || old_alloc != vm->allocated_kib)
        vm_record(vm, now);
    g_object_thaw_notify(G_OBJECT(vm));
}

static void
on_source_notify(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    vm_refresh(user_data);
}

MbPanelVm *
mb_panel_vm_new(MembalancerVm *source, guint color)
{
    MbPanelVm *vm = g_object_new(MB_TYPE_PANEL_VM, NULL);

    vm->source = g_object_ref(source);
    vm->name = g_strdup(membalancer_vm_get_name(source));
    if (vm->name == NULL)
        vm->name = g_strdup("");
    vm->color = color;
    g_signal_connect_object(source, "notify", G_CALLBACK(on_source_notify), vm, 0);
    vm_refresh(vm);
    return vm;
}

MembalancerVm *
mb_panel_vm_get_source(MbPanelVm *vm)
{
    return vm->source;
}

void
mb_panel_vm_detach(MbPanelVm *vm)
{
    if (vm->source == NULL)
        return;
    g_signal_handlers_disconnect_by_data(vm->source, vm);
    g_clear_object(&vm->source);
}

void
mb_panel_vm_sample(MbPanelVm *vm, gint64 now_us)
{
    vm_record(vm, now_us);
    vm_update_swapping(vm, now_us);
}
