/* The panel's view model: a GListModel of the service's VMs, kept live
 * through a GDBusObjectManagerClient; see mb-panel-model.h. */
#include "mb-panel-model.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "mb-dbus-generated.h"

#define BUS_NAME "org.smarttv.MemBalancer"
#define OBJECT_PATH "/org/smarttv/MemBalancer"
#define ERROR_PREFIX "org.smarttv.MemBalancer.Error."

/* ---- MbPanelVm ------------------------------------------------------------ */

struct _MbPanelVm {
    GObject parent_instance;
    MbMemBalancerVM *proxy; /* NULL once the VM is gone */
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

    g_clear_object(&vm->proxy);
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

/* Copies the proxy's cached properties into the row, notifying what
 * changed. A guest's figures are untrusted and arrive clamped by the
 * service; the panel only displays them. */
static void
vm_refresh(MbPanelVm *vm)
{
    MbMemBalancerVM *p = vm->proxy;
    guint64 old_alloc = vm->allocated_kib;
    guint64 swap_out;
    gint64 now = g_get_monotonic_time();

    if (p == NULL)
        return;
    g_object_freeze_notify(G_OBJECT(vm));
    if (vm->priority != mb_mem_balancer_vm_get_priority(p)) {
        vm->priority = mb_mem_balancer_vm_get_priority(p);
        g_object_notify_by_pspec(G_OBJECT(vm), vm_props[VM_PROP_PRIORITY]);
    }
    if (vm->foreground != mb_mem_balancer_vm_get_foreground(p)) {
        vm->foreground = mb_mem_balancer_vm_get_foreground(p);
        g_object_notify_by_pspec(G_OBJECT(vm), vm_props[VM_PROP_FOREGROUND]);
    }
    if (vm->demand_kib != mb_mem_balancer_vm_get_demand_kib(p)) {
        vm->demand_kib = mb_mem_balancer_vm_get_demand_kib(p);
        g_object_notify_by_pspec(G_OBJECT(vm), vm_props[VM_PROP_DEMAND_KIB]);
    }
    vm_set_u64(vm, &vm->min_kib, mb_mem_balancer_vm_get_min_kib(p), VM_PROP_MIN_KIB);
    vm_set_u64(vm, &vm->max_kib, mb_mem_balancer_vm_get_max_kib(p), VM_PROP_MAX_KIB);
    vm_set_u64(vm, &vm->allocated_kib, mb_mem_balancer_vm_get_allocated_kib(p),
               VM_PROP_ALLOCATED_KIB);
    vm_set_u64(vm, &vm->reclaimable_kib, mb_mem_balancer_vm_get_reclaimable_kib(p),
               VM_PROP_RECLAIMABLE_KIB);
    swap_out = mb_mem_balancer_vm_get_swap_out_kib(p);
    /* The first value is the counter since boot, not new swapping. */
    if (swap_out > vm->swap_out_kib && vm->history->len > 0)
        vm->swap_seen_us = now;
    vm_set_u64(vm, &vm->swap_out_kib, swap_out, VM_PROP_SWAP_OUT_KIB);
    vm_update_swapping(vm, now);
    vm_set_string(vm, &vm->state, mb_mem_balancer_vm_get_state(p), VM_PROP_STATE);
    vm_set_string(vm, &vm->stats_source, mb_mem_balancer_vm_get_stats_source(p),
                  VM_PROP_STATS_SOURCE);
    if (vm->history->len == 0 || old_alloc != vm->allocated_kib)
        vm_record(vm, now);
    g_object_thaw_notify(G_OBJECT(vm));
}

static MbPanelVm *
vm_new(MbMemBalancerVM *proxy, guint color)
{
    MbPanelVm *vm = g_object_new(MB_TYPE_PANEL_VM, NULL);

    vm->proxy = g_object_ref(proxy);
    vm->name = g_strdup(mb_mem_balancer_vm_get_name(proxy));
    if (vm->name == NULL)
        vm->name = g_strdup("");
    vm->color = color;
    vm_refresh(vm);
    return vm;
}

/* ---- MbPanelModel --------------------------------------------------------- */

struct _MbPanelModel {
    GObject parent_instance;
    GDBusConnection *connection;
    GCancellable *cancellable;
    GError *bus_error;
    GDBusObjectManager *om;
    MbMemBalancer *manager;
    GPtrArray *rows;    /* MbPanelVm, sorted by name */
    GHashTable *colors; /* name -> colour index + 1, stable while the panel runs */
    guint next_color;
    gboolean available;
    guint sample_id;
};

enum {
    MODEL_PROP_0,
    MODEL_PROP_AVAILABLE,
    MODEL_PROP_CONNECTED,
    MODEL_PROP_PAUSED,
    MODEL_PROP_POOL_KIB,
    MODEL_PROP_BACKEND,
    MODEL_PROP_BUS_ERROR,
    MODEL_N_PROPS,
};

static GParamSpec *model_props[MODEL_N_PROPS];

static void mb_panel_model_list_init(GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(MbPanelModel, mb_panel_model, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL,
                                                    mb_panel_model_list_init))

static GType
model_get_item_type(GListModel *list)
{
    return MB_TYPE_PANEL_VM;
}

static guint
model_get_n_items(GListModel *list)
{
    return MB_PANEL_MODEL(list)->rows->len;
}

static gpointer
model_get_item(GListModel *list, guint position)
{
    MbPanelModel *model = MB_PANEL_MODEL(list);

    if (position >= model->rows->len)
        return NULL;
    return g_object_ref(g_ptr_array_index(model->rows, position));
}

static void
mb_panel_model_list_init(GListModelInterface *iface)
{
    iface->get_item_type = model_get_item_type;
    iface->get_n_items = model_get_n_items;
    iface->get_item = model_get_item;
}

static gboolean
find_row(MbPanelModel *model, const char *name, guint *position)
{
    for (guint i = 0; i < model->rows->len; i++) {
        MbPanelVm *vm = g_ptr_array_index(model->rows, i);
        if (g_str_equal(vm->name, name)) {
            *position = i;
            return TRUE;
        }
    }
    return FALSE;
}

static guint
color_for(MbPanelModel *model, const char *name)
{
    guint color = GPOINTER_TO_UINT(g_hash_table_lookup(model->colors, name));

    if (color == 0) {
        color = ++model->next_color;
        g_hash_table_insert(model->colors, g_strdup(name), GUINT_TO_POINTER(color));
    }
    return color - 1;
}

static MbMemBalancerVM *
object_vm(GDBusObject *object)
{
    if (!MB_IS_OBJECT(object))
        return NULL;
    return mb_object_peek_mem_balancer_vm(MB_OBJECT(object));
}

static gint
compare_objects(gconstpointer a, gconstpointer b)
{
    MbMemBalancerVM *va = object_vm((GDBusObject *)a), *vb = object_vm((GDBusObject *)b);
    const char *na = va != NULL ? mb_mem_balancer_vm_get_name(va) : NULL;
    const char *nb = vb != NULL ? mb_mem_balancer_vm_get_name(vb) : NULL;

    if (na == NULL || nb == NULL)
        return (na == NULL) - (nb == NULL);
    return g_utf8_collate(na, nb);
}

/* Inserts the row of object in name order; returns its position, or -1
 * when the object is no VM or already has a row. */
static gint
insert_object(MbPanelModel *model, GDBusObject *object)
{
    MbMemBalancerVM *proxy = object_vm(object);
    const char *name;
    guint position;

    if (proxy == NULL)
        return -1;
    name = mb_mem_balancer_vm_get_name(proxy);
    if (name == NULL || find_row(model, name, &position))
        return -1;
    for (position = 0; position < model->rows->len; position++) {
        MbPanelVm *other = g_ptr_array_index(model->rows, position);
        if (g_utf8_collate(name, other->name) < 0)
            break;
    }
    g_ptr_array_insert(model->rows, (gint)position, vm_new(proxy, color_for(model, name)));
    return (gint)position;
}

static void
add_object(MbPanelModel *model, GDBusObject *object)
{
    gint position = insert_object(model, object);

    if (position >= 0)
        g_list_model_items_changed(G_LIST_MODEL(model), (guint)position, 0, 1);
}

/* The objects the service had when the panel met it: one change, so a
 * view sees them at once, in order. */
static void
add_all_objects(MbPanelModel *model, GDBusObjectManager *om)
{
    GList *objects = g_dbus_object_manager_get_objects(om);
    guint before = model->rows->len;

    /* Colours follow the names' order, whatever the bus order. */
    objects = g_list_sort(objects, compare_objects);
    for (GList *l = objects; l != NULL; l = l->next)
        (void)insert_object(model, l->data);
    g_list_free_full(objects, g_object_unref);
    if (model->rows->len > before)
        g_list_model_items_changed(G_LIST_MODEL(model), 0, before, model->rows->len);
}

static void
remove_object(MbPanelModel *model, GDBusObject *object)
{
    for (guint i = 0; i < model->rows->len; i++) {
        MbPanelVm *vm = g_ptr_array_index(model->rows, i);
        if (vm->proxy != NULL &&
            g_dbus_proxy_get_object_path(G_DBUS_PROXY(vm->proxy)) != NULL &&
            g_str_equal(g_dbus_proxy_get_object_path(G_DBUS_PROXY(vm->proxy)),
                        g_dbus_object_get_object_path(object))) {
            g_clear_object(&vm->proxy);
            g_ptr_array_remove_index(model->rows, i);
            g_list_model_items_changed(G_LIST_MODEL(model), i, 1, 0);
            return;
        }
    }
}

static void
on_object_added(GDBusObjectManager *om, GDBusObject *object, gpointer user_data)
{
    add_object(user_data, object);
}

static void
on_object_removed(GDBusObjectManager *om, GDBusObject *object, gpointer user_data)
{
    remove_object(user_data, object);
}

static void
on_vm_properties_changed(GDBusObjectManagerClient *om, GDBusObjectProxy *object,
                         GDBusProxy *iface, GVariant *changed, const char *const *invalidated,
                         gpointer user_data)
{
    MbPanelModel *model = user_data;

    for (guint i = 0; i < model->rows->len; i++) {
        MbPanelVm *vm = g_ptr_array_index(model->rows, i);
        if ((GDBusProxy *)vm->proxy == iface) {
            vm_refresh(vm);
            return;
        }
    }
}

static void
set_available(MbPanelModel *model, gboolean available)
{
    if (model->available == available)
        return;
    model->available = available;
    g_object_notify_by_pspec(G_OBJECT(model), model_props[MODEL_PROP_AVAILABLE]);
}

static void
clear_rows(MbPanelModel *model)
{
    guint n = model->rows->len;

    if (n == 0)
        return;
    g_ptr_array_set_size(model->rows, 0);
    g_list_model_items_changed(G_LIST_MODEL(model), 0, n, 0);
}

static void
update_available(MbPanelModel *model)
{
    g_autofree char *om_owner = NULL;
    g_autofree char *manager_owner = NULL;

    if (model->om != NULL)
        om_owner = g_dbus_object_manager_client_get_name_owner(
            G_DBUS_OBJECT_MANAGER_CLIENT(model->om));
    if (model->manager != NULL)
        manager_owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(model->manager));
    if (om_owner == NULL) {
        /* GDBusObjectManagerClient removes the objects itself when the
         * owner goes; clear what may be left. */
        clear_rows(model);
    }
    set_available(model, om_owner != NULL && manager_owner != NULL);
    for (guint i = MODEL_PROP_CONNECTED; i <= MODEL_PROP_BACKEND; i++)
        g_object_notify_by_pspec(G_OBJECT(model), model_props[i]);
}

static void
on_owner_changed(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    update_available(user_data);
}

static void
on_manager_properties_changed(GDBusProxy *proxy, GVariant *changed,
                              const char *const *invalidated, gpointer user_data)
{
    MbPanelModel *model = user_data;
    static const struct {
        const char *dbus;
        guint prop;
    } map[] = {
        {"Connected", MODEL_PROP_CONNECTED},
        {"Paused", MODEL_PROP_PAUSED},
        {"PoolKiB", MODEL_PROP_POOL_KIB},
        {"Backend", MODEL_PROP_BACKEND},
    };

    for (guint i = 0; i < G_N_ELEMENTS(map); i++) {
        g_autoptr(GVariant) value = g_variant_lookup_value(changed, map[i].dbus, NULL);
        if (value != NULL)
            g_object_notify_by_pspec(G_OBJECT(model), model_props[map[i].prop]);
    }
}

static void
set_bus_error(MbPanelModel *model, GError *error)
{
    if (model->bus_error != NULL) {
        g_error_free(error);
        return;
    }
    model->bus_error = error;
    g_object_notify_by_pspec(G_OBJECT(model), model_props[MODEL_PROP_BUS_ERROR]);
}

static void
on_manager_ready(GObject *source, GAsyncResult *result, gpointer user_data)
{
    GError *error = NULL;
    MbMemBalancer *manager = mb_mem_balancer_proxy_new_finish(result, &error);
    MbPanelModel *model;

    if (manager == NULL) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            set_bus_error(MB_PANEL_MODEL(user_data), error);
        else
            g_error_free(error);
        return;
    }
    model = MB_PANEL_MODEL(user_data);
    model->manager = manager;
    g_signal_connect_object(manager, "notify::g-name-owner", G_CALLBACK(on_owner_changed),
                            model, 0);
    g_signal_connect_object(manager, "g-properties-changed",
                            G_CALLBACK(on_manager_properties_changed), model, 0);
    update_available(model);
}

static void
on_om_ready(GObject *source, GAsyncResult *result, gpointer user_data)
{
    GError *error = NULL;
    GDBusObjectManager *om = mb_object_manager_client_new_finish(result, &error);
    MbPanelModel *model;

    if (om == NULL) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            set_bus_error(MB_PANEL_MODEL(user_data), error);
        else
            g_error_free(error);
        return;
    }
    model = MB_PANEL_MODEL(user_data);
    model->om = om;
    g_signal_connect_object(om, "object-added", G_CALLBACK(on_object_added), model, 0);
    g_signal_connect_object(om, "object-removed", G_CALLBACK(on_object_removed), model, 0);
    g_signal_connect_object(om, "interface-proxy-properties-changed",
                            G_CALLBACK(on_vm_properties_changed), model, 0);
    g_signal_connect_object(om, "notify::name-owner", G_CALLBACK(on_owner_changed), model, 0);
    add_all_objects(model, om);
    update_available(model);
}

static void
start_proxies(MbPanelModel *model)
{
    /* No auto-start: an absent service is shown as such, and the panel
     * follows it when it comes (the name owner appearing). */
    mb_object_manager_client_new(model->connection,
                                 G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START, BUS_NAME,
                                 OBJECT_PATH, model->cancellable, on_om_ready, model);
    mb_mem_balancer_proxy_new(model->connection, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, BUS_NAME,
                              OBJECT_PATH, model->cancellable, on_manager_ready, model);
}

static void
on_bus_ready(GObject *source, GAsyncResult *result, gpointer user_data)
{
    GError *error = NULL;
    GDBusConnection *connection = g_bus_get_finish(result, &error);
    MbPanelModel *model;

    if (connection == NULL) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            set_bus_error(MB_PANEL_MODEL(user_data), error);
        else
            g_error_free(error);
        return;
    }
    model = MB_PANEL_MODEL(user_data);
    model->connection = connection;
    start_proxies(model);
}

void
mb_panel_model_sample(MbPanelModel *model)
{
    gint64 now = g_get_monotonic_time();

    g_return_if_fail(MB_IS_PANEL_MODEL(model));
    for (guint i = 0; i < model->rows->len; i++) {
        MbPanelVm *vm = g_ptr_array_index(model->rows, i);
        vm_record(vm, now);
        vm_update_swapping(vm, now);
    }
}

static gboolean
on_sample_timer(gpointer user_data)
{
    mb_panel_model_sample(user_data);
    return G_SOURCE_CONTINUE;
}

static void
mb_panel_model_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    MbPanelModel *model = MB_PANEL_MODEL(object);

    switch (id) {
    case MODEL_PROP_AVAILABLE:
        g_value_set_boolean(value, model->available);
        break;
    case MODEL_PROP_CONNECTED:
        g_value_set_boolean(value, mb_panel_model_get_connected(model));
        break;
    case MODEL_PROP_PAUSED:
        g_value_set_boolean(value, mb_panel_model_get_paused(model));
        break;
    case MODEL_PROP_POOL_KIB:
        g_value_set_uint64(value, mb_panel_model_get_pool_kib(model));
        break;
    case MODEL_PROP_BACKEND:
        g_value_set_string(value, mb_panel_model_get_backend(model));
        break;
    case MODEL_PROP_BUS_ERROR:
        g_value_set_boxed(value, model->bus_error);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void
mb_panel_model_dispose(GObject *object)
{
    MbPanelModel *model = MB_PANEL_MODEL(object);

    g_cancellable_cancel(model->cancellable);
    g_clear_handle_id(&model->sample_id, g_source_remove);
    if (model->om != NULL)
        g_signal_handlers_disconnect_by_data(model->om, model);
    if (model->manager != NULL)
        g_signal_handlers_disconnect_by_data(model->manager, model);
    g_clear_object(&model->om);
    g_clear_object(&model->manager);
    G_OBJECT_CLASS(mb_panel_model_parent_class)->dispose(object);
}

static void
mb_panel_model_finalize(GObject *object)
{
    MbPanelModel *model = MB_PANEL_MODEL(object);

    g_ptr_array_unref(model->rows);
    g_hash_table_unref(model->colors);
    g_clear_object(&model->cancellable);
    g_clear_object(&model->connection);
    g_clear_error(&model->bus_error);
    G_OBJECT_CLASS(mb_panel_model_parent_class)->finalize(object);
}

static void
mb_panel_model_class_init(MbPanelModelClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

    object_class->get_property = mb_panel_model_get_property;
    object_class->dispose = mb_panel_model_dispose;
    object_class->finalize = mb_panel_model_finalize;
    model_props[MODEL_PROP_AVAILABLE] =
        g_param_spec_boolean("available", NULL, NULL, FALSE, ro | G_PARAM_EXPLICIT_NOTIFY);
    model_props[MODEL_PROP_CONNECTED] =
        g_param_spec_boolean("connected", NULL, NULL, FALSE, ro);
    model_props[MODEL_PROP_PAUSED] = g_param_spec_boolean("paused", NULL, NULL, FALSE, ro);
    model_props[MODEL_PROP_POOL_KIB] =
        g_param_spec_uint64("pool-kib", NULL, NULL, 0, G_MAXUINT64, 0, ro);
    model_props[MODEL_PROP_BACKEND] = g_param_spec_string("backend", NULL, NULL, NULL, ro);
    model_props[MODEL_PROP_BUS_ERROR] =
        g_param_spec_boxed("bus-error", NULL, NULL, G_TYPE_ERROR, ro | G_PARAM_EXPLICIT_NOTIFY);
    g_object_class_install_properties(object_class, MODEL_N_PROPS, model_props);
}

static void
mb_panel_model_init(MbPanelModel *model)
{
    model->cancellable = g_cancellable_new();
    model->rows = g_ptr_array_new_with_free_func(g_object_unref);
    model->colors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

MbPanelModel *
mb_panel_model_new(GDBusConnection *connection)
{
    MbPanelModel *model = g_object_new(MB_TYPE_PANEL_MODEL, NULL);

    if (connection != NULL) {
        model->connection = g_object_ref(connection);
        start_proxies(model);
    } else {
        g_bus_get(G_BUS_TYPE_SYSTEM, model->cancellable, on_bus_ready, model);
    }
    model->sample_id = g_timeout_add_seconds(1, on_sample_timer, model);
    return model;
}

gboolean
mb_panel_model_get_available(MbPanelModel *model)
{
    g_return_val_if_fail(MB_IS_PANEL_MODEL(model), FALSE);
    return model->available;
}

gboolean
mb_panel_model_get_connected(MbPanelModel *model)
{
    g_return_val_if_fail(MB_IS_PANEL_MODEL(model), FALSE);
    return model->available && mb_mem_balancer_get_connected(model->manager);
}

gboolean
mb_panel_model_get_paused(MbPanelModel *model)
{
    g_return_val_if_fail(MB_IS_PANEL_MODEL(model), FALSE);
    return model->available && mb_mem_balancer_get_paused(model->manager);
}

guint64
mb_panel_model_get_pool_kib(MbPanelModel *model)
{
    g_return_val_if_fail(MB_IS_PANEL_MODEL(model), 0);
    return model->available ? mb_mem_balancer_get_pool_kib(model->manager) : 0;
}

const char *
mb_panel_model_get_backend(MbPanelModel *model)
{
    g_return_val_if_fail(MB_IS_PANEL_MODEL(model), NULL);
    return model->available ? mb_mem_balancer_get_backend(model->manager) : NULL;
}

const GError *
mb_panel_model_get_bus_error(MbPanelModel *model)
{
    g_return_val_if_fail(MB_IS_PANEL_MODEL(model), NULL);
    return model->bus_error;
}

MbPanelVm *
mb_panel_model_find(MbPanelModel *model, const char *name)
{
    guint position;

    g_return_val_if_fail(MB_IS_PANEL_MODEL(model), NULL);
    if (name == NULL || !find_row(model, name, &position))
        return NULL;
    return g_ptr_array_index(model->rows, position);
}

/* ---- calls ------------------------------------------------------------------- */

static void
on_call_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GTask) task = user_data;
    GError *error = NULL;
    g_autoptr(GVariant) reply =
        g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

    if (reply == NULL)
        g_task_return_error(task, error);
    else
        g_task_return_boolean(task, TRUE);
}

static void
call(MbPanelModel *model, const char *method, GVariant *args, GCancellable *cancellable,
     GAsyncReadyCallback callback, gpointer user_data, gpointer tag)
{
    GTask *task = g_task_new(model, cancellable, callback, user_data);

    g_task_set_source_tag(task, tag);
    g_variant_ref_sink(args);
    if (model->connection == NULL || !model->available) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                                _("The memory balancer is not running."));
        g_object_unref(task);
        g_variant_unref(args);
        return;
    }
    /* Method calls may not auto-start the service either. */
    g_dbus_connection_call(model->connection, BUS_NAME, OBJECT_PATH, BUS_NAME, method, args,
                           G_VARIANT_TYPE_UNIT, G_DBUS_CALL_FLAGS_NO_AUTO_START, 25000,
                           cancellable, on_call_done, task);
    g_variant_unref(args);
}

void
mb_panel_model_set_priority(MbPanelModel *model, const char *name, guint priority,
                            GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data)
{
    g_return_if_fail(MB_IS_PANEL_MODEL(model));
    g_return_if_fail(name != NULL);
    call(model, "SetPriority", g_variant_new("(su)", name, priority), cancellable, callback,
         user_data, mb_panel_model_set_priority);
}

void
mb_panel_model_set_foreground(MbPanelModel *model, const char *name, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(MB_IS_PANEL_MODEL(model));
    g_return_if_fail(name != NULL);
    call(model, "SetForeground", g_variant_new("(s)", name), cancellable, callback, user_data,
         mb_panel_model_set_foreground);
}

gboolean
mb_panel_model_call_finish(MbPanelModel *model, GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, model), FALSE);
    return g_task_propagate_boolean(G_TASK(result), error);
}

char *
mb_panel_describe_error(const GError *error)
{
    g_autofree char *remote = NULL;
    g_autoptr(GError) copy = NULL;
    const char *message;

    if (error == NULL)
        return g_strdup("");
    remote = g_dbus_error_get_remote_error(error);
    copy = g_error_copy(error);
    g_dbus_error_strip_remote_error(copy);
    message = copy->message;
    if (g_strcmp0(remote, ERROR_PREFIX "AccessDenied") == 0)
        return g_strdup(_("Not allowed: only the administrator and members of the "
                          "membalancer group can change memory settings."));
    if (g_strcmp0(remote, ERROR_PREFIX "NoSuchVM") == 0)
        return g_strdup(_("That VM is no longer managed by the memory balancer."));
    if (g_strcmp0(remote, ERROR_PREFIX "Unavailable") == 0)
        return g_strdup_printf(_("The memory balancer cannot do that now: %s"), message);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED) ||
        g_strcmp0(remote, "org.freedesktop.DBus.Error.ServiceUnknown") == 0 ||
        g_strcmp0(remote, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0)
        return g_strdup(_("The memory balancer is not running."));
    return g_strdup_printf(_("The change failed: %s"), message);
}

/* ---- presentation helpers ---------------------------------------------- */

/* The whole MiB mb_panel_format_kib shows below 1 GiB, rounded half up. */
static guint64
rounded_mib(guint64 kib)
{
    return kib / 1024 + (kib % 1024 >= 512);
}

char *
mb_panel_format_kib(guint64 kib)
{
    if (kib >= 1024 * 1024)
        return g_strdup_printf(_("%.1f GiB"), (double)kib / (1024.0 * 1024.0));
    /* The number apart: xgettext cannot see through G_GUINT64_FORMAT. */
    g_autofree char *mib = g_strdup_printf("%" G_GUINT64_FORMAT, rounded_mib(kib));
    /* TRANSLATORS: %s is a whole number of mebibytes */
    return g_strdup_printf(_("%s MiB"), mib);
}

char *
mb_panel_format_demand_kib(gint64 demand_kib)
{
    /* Negated as unsigned: G_MININT64 has no positive gint64. */
    guint64 size_kib =
        demand_kib < 0 ? G_GUINT64_CONSTANT(0) - (guint64)demand_kib : (guint64)demand_kib;
    g_autofree char *size = mb_panel_format_kib(size_kib);

    /* What shows as 0 MiB has no direction: never "−0 MiB". */
    if (size_kib < 1024 * 1024 && rounded_mib(size_kib) == 0)
        return g_steal_pointer(&size);
    return g_strconcat(demand_kib < 0 ? "−" : "+", size, NULL);
}

void
mb_panel_color_rgb(guint i, double rgb[3])
{
    /* Distinct at a distance on a dark background (Okabe-Ito, lightened). */
    static const double palette[][3] = {
        {0.35, 0.71, 0.91}, /* sky blue */
        {0.90, 0.62, 0.00}, /* orange */
        {0.00, 0.72, 0.55}, /* green */
        {0.94, 0.89, 0.26}, /* yellow */
        {0.80, 0.47, 0.65}, /* pink */
        {0.84, 0.37, 0.00}, /* vermilion */
        {0.60, 0.80, 1.00}, /* light blue */
        {0.85, 0.85, 0.85}, /* grey */
    };
    const double *c = palette[i % G_N_ELEMENTS(palette)];

    rgb[0] = c[0];
    rgb[1] = c[1];
    rgb[2] = c[2];
}
