/* The panel's view model: a GListModel of the service's VMs, kept live
 * by libmembalancer's client; see mb-panel-model.h. */
#include "mb-panel-model.h"

#include <glib/gi18n-lib.h>
#include <membalancer.h>

#include "mb-panel-vm-private.h"

struct _MbPanelModel {
    GObject parent_instance;
    GCancellable *cancellable;
    GError *bus_error;
    MembalancerClient *client; /* NULL until made (it never starts the service) */
    GPtrArray *rows;           /* MbPanelVm, sorted by name */
    GHashTable *colors;        /* name -> colour index + 1, stable while the panel runs */
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
        if (g_str_equal(mb_panel_vm_get_name(g_ptr_array_index(model->rows, i)), name)) {
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

static gint
compare_vms(gconstpointer a, gconstpointer b)
{
    const char *na = membalancer_vm_get_name((MembalancerVm *)a);
    const char *nb = membalancer_vm_get_name((MembalancerVm *)b);

    if (na == NULL || nb == NULL)
        return (na == NULL) - (nb == NULL);
    return g_utf8_collate(na, nb);
}

/* Inserts the row of a VM in name order; returns its position, or -1
 * when the VM has no name or already has a row. */
static gint
insert_vm(MbPanelModel *model, MembalancerVm *source)
{
    const char *name = membalancer_vm_get_name(source);
    guint position;

    if (name == NULL || find_row(model, name, &position))
        return -1;
    for (position = 0; position < model->rows->len; position++) {
        MbPanelVm *other = g_ptr_array_index(model->rows, position);
        if (g_utf8_collate(name, mb_panel_vm_get_name(other)) < 0)
            break;
    }
    g_ptr_array_insert(model->rows, (gint)position,
                       mb_panel_vm_new(source, color_for(model, name)));
    return (gint)position;
}

static void
on_vm_added(MembalancerClient *client, MembalancerVm *source, gpointer user_data)
{
    MbPanelModel *model = user_data;
    gint position = insert_vm(model, source);

    if (position >= 0)
        g_list_model_items_changed(G_LIST_MODEL(model), (guint)position, 0, 1);
}

/* The VMs the service had when the panel met it: one change, so a view
 * sees them at once, in order. */
static void
add_all_vms(MbPanelModel *model)
{
    GList *vms = g_list_sort(membalancer_client_get_vms(model->client), compare_vms);
    guint before = model->rows->len;

    /* Colours follow the names' order, whatever the bus order. */
    for (GList *l = vms; l != NULL; l = l->next)
        (void)insert_vm(model, l->data);
    g_list_free_full(vms, g_object_unref);
    if (model->rows->len > before)
        g_list_model_items_changed(G_LIST_MODEL(model), 0, before, model->rows->len);
}

static void
on_vm_removed(MembalancerClient *client, MembalancerVm *source, gpointer user_data)
{
    MbPanelModel *model = user_data;

    for (guint i = 0; i < model->rows->len; i++) {
        MbPanelVm *vm = g_ptr_array_index(model->rows, i);
        if (mb_panel_vm_get_source(vm) == source) {
            mb_panel_vm_detach(vm);
            g_ptr_array_remove_index(model->rows, i);
            g_list_model_items_changed(G_LIST_MODEL(model), i, 1, 0);
            return;
        }
    }
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

/* Available: the client's running, which means its manager's properties
 * are loaded, so the status line never shows a pool of 0 in between. */
static void
update_available(MbPanelModel *model)
{
    gboolean available = membalancer_client_get_running(model->client);

    if (model->available != available) {
        model->available = available;
        g_object_notify_by_pspec(G_OBJECT(model), model_props[MODEL_PROP_AVAILABLE]);
    }
    for (guint i = MODEL_PROP_CONNECTED; i <= MODEL_PROP_BACKEND; i++)
        g_object_notify_by_pspec(G_OBJECT(model), model_props[i]);
}

static void
on_client_notify(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    MbPanelModel *model = user_data;
    static const char *const followed[] = {"running",  "connected", "paused",
                                           "pool-kib", "backend",   NULL};

    if (!g_strv_contains(followed, pspec->name))
        return;
    /* The client removes the VMs itself when the service goes; clear
     * what may be left. */
    if (g_str_equal(pspec->name, "running") && !membalancer_client_get_running(model->client))
        clear_rows(model);
    update_available(model);
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
on_client_ready(GObject *source, GAsyncResult *result, gpointer user_data)
{
    GError *error = NULL;
    MembalancerClient *client = membalancer_client_new_finish(result, &error);
    MbPanelModel *model;

    if (client == NULL) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            set_bus_error(MB_PANEL_MODEL(user_data), error);
        else
            g_error_free(error);
        return;
    }
    model = MB_PANEL_MODEL(user_data);
    model->client = client;
    g_signal_connect_object(client, "vm-added", G_CALLBACK(on_vm_added), model, 0);
    g_signal_connect_object(client, "vm-removed", G_CALLBACK(on_vm_removed), model, 0);
    g_signal_connect_object(client, "notify", G_CALLBACK(on_client_notify), model, 0);
    add_all_vms(model);
    update_available(model);
}

/* No auto-start: an absent service is shown as such, and the client
 * follows it when it comes, gone or back. */
static void
start_client(MbPanelModel *model, GDBusConnection *connection)
{
    g_async_initable_new_async(MEMBALANCER_TYPE_CLIENT, G_PRIORITY_DEFAULT, model->cancellable,
                               on_client_ready, model, "connection", connection, "auto-start",
                               FALSE, NULL);
}

/* The bus apart from the client, so that a missing system bus is shown
 * as such ("Cannot reach the system bus"), not as a service that is not
 * running. */
static void
on_bus_ready(GObject *source, GAsyncResult *result, gpointer user_data)
{
    GError *error = NULL;
    g_autoptr(GDBusConnection) connection = g_bus_get_finish(result, &error);

    if (connection == NULL) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            set_bus_error(MB_PANEL_MODEL(user_data), error);
        else
            g_error_free(error);
        return;
    }
    start_client(MB_PANEL_MODEL(user_data), connection);
}

void
mb_panel_model_sample(MbPanelModel *model)
{
    gint64 now = g_get_monotonic_time();

    g_return_if_fail(MB_IS_PANEL_MODEL(model));
    for (guint i = 0; i < model->rows->len; i++)
        mb_panel_vm_sample(g_ptr_array_index(model->rows, i), now);
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
        g_value_take_string(value, mb_panel_model_dup_backend(model));
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
    if (model->client != NULL)
        g_signal_handlers_disconnect_by_data(model->client, model);
    if (model->rows != NULL)
        g_ptr_array_foreach(model->rows, (GFunc)(void (*)(void))mb_panel_vm_detach, NULL);
    g_clear_object(&model->client);
    G_OBJECT_CLASS(mb_panel_model_parent_class)->dispose(object);
}

static void
mb_panel_model_finalize(GObject *object)
{
    MbPanelModel *model = MB_PANEL_MODEL(object);

    g_ptr_array_unref(model->rows);
    g_hash_table_unref(model->colors);
    g_clear_object(&model->cancellable);
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

    if (connection != NULL)
        start_client(model, connection);
    else
        g_bus_get(G_BUS_TYPE_SYSTEM, model->cancellable, on_bus_ready, model);
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
    return model->available && membalancer_client_get_connected(model->client);
}

gboolean
mb_panel_model_get_paused(MbPanelModel *model)
{
    g_return_val_if_fail(MB_IS_PANEL_MODEL(model), FALSE);
    return model->available && membalancer_client_get_paused(model->client);
}

guint64
mb_panel_model_get_pool_kib(MbPanelModel *model)
{
    g_return_val_if_fail(MB_IS_PANEL_MODEL(model), 0);
    return model->available ? membalancer_client_get_pool_kib(model->client) : 0;
}

char *
mb_panel_model_dup_backend(MbPanelModel *model)
{
    g_return_val_if_fail(MB_IS_PANEL_MODEL(model), NULL);
    return model->available ? membalancer_client_dup_backend(model->client) : NULL;
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

/* The _finish of the client's call, kept as the task's data. */
typedef gboolean (*ClientFinish)(MembalancerClient *client, GAsyncResult *result,
                                 GError **error);

static void
on_call_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GTask) task = user_data;
    ClientFinish finish = (ClientFinish)g_task_get_task_data(task);
    GError *error = NULL;

    if (finish(MEMBALANCER_CLIENT(source), result, &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

/* A task for a call, or NULL when it failed at once (the service away:
 * no call is made, so none may start it either). */
static GTask *
call_task(MbPanelModel *model, GCancellable *cancellable, GAsyncReadyCallback callback,
          gpointer user_data, gpointer tag, ClientFinish finish)
{
    GTask *task = g_task_new(model, cancellable, callback, user_data);

    g_task_set_source_tag(task, tag);
    g_task_set_task_data(task, (gpointer)finish, NULL);
    if (!model->available) {
        g_task_return_new_error(task, MEMBALANCER_ERROR, MEMBALANCER_ERROR_NOT_RUNNING, "%s",
                                _("The memory balancer is not running."));
        g_object_unref(task);
        return NULL;
    }
    return task;
}

void
mb_panel_model_set_priority(MbPanelModel *model, const char *name, guint priority,
                            GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data)
{
    GTask *task;

    g_return_if_fail(MB_IS_PANEL_MODEL(model));
    g_return_if_fail(name != NULL);
    task = call_task(model, cancellable, callback, user_data, mb_panel_model_set_priority,
                     membalancer_client_set_priority_finish);
    if (task != NULL)
        membalancer_client_set_priority(model->client, name, priority, cancellable,
                                        on_call_done, task);
}

void
mb_panel_model_set_foreground(MbPanelModel *model, const char *name, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task;

    g_return_if_fail(MB_IS_PANEL_MODEL(model));
    g_return_if_fail(name != NULL);
    task = call_task(model, cancellable, callback, user_data, mb_panel_model_set_foreground,
                     membalancer_client_set_foreground_finish);
    if (task != NULL)
        membalancer_client_set_foreground(model->client, name, cancellable, on_call_done, task);
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
    if (error == NULL)
        return g_strdup("");
    if (error->domain == MEMBALANCER_ERROR) {
        switch ((MembalancerError)error->code) {
        case MEMBALANCER_ERROR_ACCESS_DENIED:
            return g_strdup(_("Not allowed: only the administrator and members of the "
                              "membalancer group can change memory settings."));
        case MEMBALANCER_ERROR_NO_SUCH_VM:
            return g_strdup(_("That VM is no longer managed by the memory balancer."));
        case MEMBALANCER_ERROR_UNAVAILABLE:
            return g_strdup_printf(_("The memory balancer cannot do that now: %s"),
                                   error->message);
        case MEMBALANCER_ERROR_NOT_RUNNING:
            return g_strdup(_("The memory balancer is not running."));
        default:
            break;
        }
    }
    return g_strdup_printf(_("The change failed: %s"), error->message);
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
