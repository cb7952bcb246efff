/* The "Memory" page (GTK 4): one row per VM (name, allocation against
 * demand and reclaimable memory as a bar, swap indicator, priority,
 * foreground mark) over a live chart of the allocations. Remote-control
 * navigation only: the arrows move the focus between the cells of the
 * rows, OK edits or confirms, Back cancels or leaves. The widgets are in
 * mb-panel-page.ui, each row an MbPanelRow (mb-panel-row.c), the look in
 * mb-panel.css (a GResource: mb-panel.gresource.xml). */
#include "mb-panel-page.h"

#include <glib/gi18n-lib.h>

#include "mb-panel-resources.h"
#include "mb-panel-row.h"

#define PRIORITY_MAX 100

struct _MbPanelPage {
    GtkWidget parent_instance;
    MbPanelModel *model;
    GCancellable *cancellable;
    /* From the template. */
    GtkWidget *box, *title, *status, *message, *rows, *section, *chart, *hint;
    GPtrArray *row_data; /* MbPanelRow, in model order */
    char *status_text;
    char *message_text;
    GtkSizeGroup *columns[3]; /* swap, priority, foreground: aligned across rows */
    MbPanelRow *editing;      /* the row whose priority is being edited, or NULL */
    guint edit_value;
    guint tick_id;
};

enum { SIGNAL_LEAVE, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(MbPanelPage, mb_panel_page, GTK_TYPE_WIDGET)

/* Once per display, for every page: the application's priority, above
 * the theme's. */
static void
install_css(void)
{
    static GtkCssProvider *provider;
    GdkDisplay *display = gdk_display_get_default();

    if (provider != NULL || display == NULL)
        return;
    provider = gtk_css_provider_new();
    gtk_css_provider_load_from_resource(provider, MB_PANEL_RESOURCE_PATH "mb-panel.css");
    gtk_style_context_add_provider_for_display(display, GTK_STYLE_PROVIDER(provider),
                                               GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

/* ---- status and messages ------------------------------------------------ */

static void
set_message(MbPanelPage *page, const char *text)
{
    g_free(page->message_text);
    page->message_text = g_strdup(text != NULL ? text : "");
    gtk_label_set_text(GTK_LABEL(page->message), page->message_text);
    gtk_widget_set_visible(page->message, page->message_text[0] != '\0');
}

static void
update_status(MbPanelPage *page)
{
    const GError *bus_error = mb_panel_model_get_bus_error(page->model);
    guint n = g_list_model_get_n_items(G_LIST_MODEL(page->model));
    gboolean warn = TRUE;
    char *text;

    if (bus_error != NULL) {
        text = g_strdup_printf(_("Cannot reach the system bus: %s"), bus_error->message);
    } else if (!mb_panel_model_get_available(page->model)) {
        text = g_strdup(_("The memory balancer is not running. Waiting for it…"));
    } else if (!mb_panel_model_get_connected(page->model)) {
        text = g_strdup(_("The memory balancer has lost the hypervisor and is reconnecting; "
                          "nothing is moved meanwhile."));
    } else {
        g_autofree char *pool = mb_panel_format_kib(mb_panel_model_get_pool_kib(page->model));
        if (mb_panel_model_get_paused(page->model))
            text = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "Paused: %u VM, %s shared",
                                               "Paused: %u VMs, %s shared", n),
                                   n, pool);
        else
            text = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "Balancing %u VM, %s shared",
                                               "Balancing %u VMs, %s shared", n),
                                   n, pool);
        warn = mb_panel_model_get_paused(page->model);
    }
    g_free(page->status_text);
    page->status_text = text;
    gtk_label_set_text(GTK_LABEL(page->status), text);
    if (warn)
        gtk_widget_add_css_class(page->status, "mb-warning");
    else
        gtk_widget_remove_css_class(page->status, "mb-warning");
}

/* ---- rows ---------------------------------------------------------------- */

/* The scale of every row's bar: the pool, or more when a VM holds or
 * needs more (an MbPanelRowScaleFunc). */
static guint64
bar_scale_kib(gpointer user_data)
{
    MbPanelPage *page = user_data;
    guint64 scale = mb_panel_model_get_pool_kib(page->model);

    for (guint i = 0; i < page->row_data->len; i++) {
        MbPanelVm *vm = mb_panel_row_get_vm(g_ptr_array_index(page->row_data, i));
        gint64 demand = mb_panel_vm_get_demand_kib(vm);
        scale = MAX(scale, mb_panel_vm_get_allocated_kib(vm) + (guint64)MAX(demand, 0));
    }
    return MAX(scale, 1);
}

static void start_edit(MbPanelPage *page, MbPanelRow *r);
static void activate_foreground(MbPanelPage *page, MbPanelRow *r);

static MbPanelPage *
page_of(GtkWidget *cell)
{
    return MB_PANEL_PAGE(gtk_widget_get_ancestor(cell, MB_TYPE_PANEL_PAGE));
}

static void
on_priority_clicked(GtkButton *button, gpointer user_data)
{
    start_edit(page_of(GTK_WIDGET(button)), user_data);
}

static void
on_foreground_clicked(GtkButton *button, gpointer user_data)
{
    activate_foreground(page_of(GTK_WIDGET(button)), user_data);
}

/* A row of vm (a reference of ours), its cells wired, its columns lined up. */
static MbPanelRow *
row_new(MbPanelPage *page, MbPanelVm *vm)
{
    MbPanelRow *r = MB_PANEL_ROW(g_object_ref_sink(mb_panel_row_new(vm, bar_scale_kib, page)));

    g_signal_connect(mb_panel_row_get_cell(r, 0), "clicked", G_CALLBACK(on_priority_clicked),
                     r);
    g_signal_connect(mb_panel_row_get_cell(r, 1), "clicked", G_CALLBACK(on_foreground_clicked),
                     r);
    /* The swap, priority and foreground columns line up across rows. */
    gtk_size_group_add_widget(page->columns[0], mb_panel_row_get_swap(r));
    gtk_size_group_add_widget(page->columns[1], mb_panel_row_get_cell(r, 0));
    gtk_size_group_add_widget(page->columns[2], mb_panel_row_get_cell(r, 1));
    return r;
}

static gboolean
find_focus(MbPanelPage *page, guint *row, guint *column)
{
    GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(page));
    GtkWidget *focus = root != NULL ? gtk_root_get_focus(root) : NULL;

    if (focus == NULL)
        return FALSE;
    for (guint i = 0; i < page->row_data->len; i++) {
        MbPanelRow *r = g_ptr_array_index(page->row_data, i);
        for (guint c = 0; c < 2; c++)
            if (focus == mb_panel_row_get_cell(r, c) ||
                gtk_widget_is_ancestor(focus, mb_panel_row_get_cell(r, c))) {
                *row = i;
                *column = c;
                return TRUE;
            }
    }
    return FALSE;
}

static void
focus_cell(MbPanelPage *page, guint row, guint column)
{
    if (page->row_data->len == 0) {
        gtk_widget_grab_focus(GTK_WIDGET(page));
        return;
    }
    row = MIN(row, page->row_data->len - 1);
    gtk_widget_grab_focus(
        mb_panel_row_get_cell(g_ptr_array_index(page->row_data, row), MIN(column, 1)));
}

static void
on_items_changed(GListModel *list, guint position, guint removed, guint added,
                 gpointer user_data)
{
    MbPanelPage *page = user_data;
    guint focus_row = 0, focus_column = 0;
    gboolean had_focus = find_focus(page, &focus_row, &focus_column);
    GtkWidget *before = NULL;

    for (guint i = 0; i < removed; i++) {
        MbPanelRow *r = g_ptr_array_index(page->row_data, position);
        if (page->editing == r)
            page->editing = NULL;
        gtk_box_remove(GTK_BOX(page->rows), GTK_WIDGET(r));
        g_ptr_array_remove_index(page->row_data, position);
    }
    if (position > 0)
        before = g_ptr_array_index(page->row_data, position - 1);
    for (guint i = 0; i < added; i++) {
        g_autoptr(MbPanelVm) vm = g_list_model_get_item(list, position + i);
        MbPanelRow *r = row_new(page, vm);
        g_ptr_array_insert(page->row_data, (gint)(position + i), r);
        gtk_box_insert_child_after(GTK_BOX(page->rows), GTK_WIDGET(r), before);
        before = GTK_WIDGET(r);
    }
    for (guint i = 0; i < page->row_data->len; i++)
        mb_panel_row_queue_draw_bar(g_ptr_array_index(page->row_data, i));
    /* Keep the focus on the page: where it was, or on the nearest row
     * when its row went away. */
    if (!find_focus(page, &focus_row, &focus_column) &&
        (had_focus || gtk_widget_has_focus(GTK_WIDGET(page))))
        focus_cell(page, focus_row, focus_column);
    update_status(page);
    gtk_widget_queue_draw(page->chart);
    g_debug("page: %u rows", page->row_data->len);
}

/* ---- actions --------------------------------------------------------------- */

typedef struct {
    MbPanelPage *page;
    char *name;
} CallData;

static MbPanelRow *
row_by_name(MbPanelPage *page, const char *name)
{
    for (guint i = 0; i < page->row_data->len; i++) {
        MbPanelRow *r = g_ptr_array_index(page->row_data, i);
        if (g_str_equal(mb_panel_vm_get_name(mb_panel_row_get_vm(r)), name))
            return r;
    }
    return NULL;
}

static void
on_call_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    CallData *data = user_data;
    g_autoptr(GError) error = NULL;
    gboolean ok = mb_panel_model_call_finish(MB_PANEL_MODEL(source), result, &error);

    if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        MbPanelPage *page = data->page;
        MbPanelRow *r = row_by_name(page, data->name);
        if (ok) {
            set_message(page, NULL);
        } else {
            g_autofree char *text = mb_panel_describe_error(error);
            g_message("%s: %s (shown: %s)", data->name, error->message, text);
            set_message(page, text);
        }
        if (r != NULL)
            mb_panel_row_set_busy(r, FALSE);
    }
    g_free(data->name);
    g_free(data);
}

static CallData *
call_data_new(MbPanelPage *page, MbPanelRow *r)
{
    CallData *data = g_new0(CallData, 1);

    data->page = page;
    data->name = g_strdup(mb_panel_vm_get_name(mb_panel_row_get_vm(r)));
    mb_panel_row_set_busy(r, TRUE);
    return data;
}

static void
start_edit(MbPanelPage *page, MbPanelRow *r)
{
    MbPanelRow *previous = page->editing;

    page->editing = r;
    page->edit_value = mb_panel_vm_get_priority(mb_panel_row_get_vm(r));
    if (previous != NULL && previous != r)
        mb_panel_row_set_editing(previous, FALSE, 0);
    mb_panel_row_set_editing(r, TRUE, page->edit_value);
    gtk_widget_grab_focus(mb_panel_row_get_cell(r, 0));
}

static void
cancel_edit(MbPanelPage *page)
{
    MbPanelRow *r = page->editing;

    page->editing = NULL;
    if (r != NULL)
        mb_panel_row_set_editing(r, FALSE, 0);
}

static void
confirm_edit(MbPanelPage *page)
{
    MbPanelRow *r = page->editing;
    MbPanelVm *vm;

    if (r == NULL)
        return;
    page->editing = NULL;
    vm = mb_panel_row_get_vm(r);
    mb_panel_row_set_editing(r, FALSE, 0);
    if (page->edit_value != mb_panel_vm_get_priority(vm))
        mb_panel_model_set_priority(page->model, mb_panel_vm_get_name(vm), page->edit_value,
                                    page->cancellable, on_call_done, call_data_new(page, r));
}

static void
activate_foreground(MbPanelPage *page, MbPanelRow *r)
{
    MbPanelVm *vm = mb_panel_row_get_vm(r);

    if (mb_panel_vm_get_foreground(vm))
        return;
    mb_panel_model_set_foreground(page->model, mb_panel_vm_get_name(vm), page->cancellable,
                                  on_call_done, call_data_new(page, r));
}

static void
change_edit(MbPanelPage *page, int delta)
{
    int value = (int)page->edit_value + delta;

    page->edit_value = (guint)CLAMP(value, 0, PRIORITY_MAX);
    mb_panel_row_set_editing(page->editing, TRUE, page->edit_value);
}

/* ---- keys ----------------------------------------------------------------- */

static gboolean
is_back(guint keyval)
{
    return keyval == GDK_KEY_Escape || keyval == GDK_KEY_Back || keyval == GDK_KEY_BackSpace;
}

static gboolean
is_ok(guint keyval)
{
    return keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter ||
           keyval == GDK_KEY_ISO_Enter || keyval == GDK_KEY_Select || keyval == GDK_KEY_space ||
           keyval == GDK_KEY_KP_Space;
}

static gboolean
on_key_pressed(GtkEventControllerKey *controller, guint keyval, guint keycode,
               GdkModifierType state, gpointer user_data)
{
    MbPanelPage *page = user_data;
    guint row = 0, column = 0;
    gboolean focused = find_focus(page, &row, &column);

    if (page->editing != NULL) {
        switch (keyval) {
        case GDK_KEY_Up:
        case GDK_KEY_KP_Up:
            change_edit(page, 5);
            return TRUE;
        case GDK_KEY_Down:
        case GDK_KEY_KP_Down:
            change_edit(page, -5);
            return TRUE;
        case GDK_KEY_Right:
        case GDK_KEY_KP_Right:
            change_edit(page, 1);
            return TRUE;
        case GDK_KEY_Left:
        case GDK_KEY_KP_Left:
            change_edit(page, -1);
            return TRUE;
        default:
            if (is_ok(keyval))
                confirm_edit(page);
            else if (is_back(keyval))
                cancel_edit(page);
            /* Nothing else leaves an edit half done. */
            return TRUE;
        }
    }
    switch (keyval) {
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
        focus_cell(page, focused && row > 0 ? row - 1 : 0, column);
        return TRUE;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
        focus_cell(page, focused ? row + 1 : 0, column);
        return TRUE;
    case GDK_KEY_Left:
    case GDK_KEY_KP_Left:
        focus_cell(page, row, 0);
        return TRUE;
    case GDK_KEY_Right:
    case GDK_KEY_KP_Right:
        focus_cell(page, row, focused ? 1 : 0);
        return TRUE;
    default:
        break;
    }
    if (is_ok(keyval)) {
        if (!focused) {
            focus_cell(page, 0, 0);
        } else {
            MbPanelRow *r = g_ptr_array_index(page->row_data, row);
            if (column == 0)
                start_edit(page, r);
            else
                activate_foreground(page, r);
        }
        return TRUE;
    }
    if (is_back(keyval)) {
        if (page->message_text[0] != '\0')
            set_message(page, NULL);
        else
            g_signal_emit(page, signals[SIGNAL_LEAVE], 0);
        return TRUE;
    }
    return FALSE;
}

/* ---- chart ------------------------------------------------------------- */

static void
draw_chart(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
    MbPanelPage *page = user_data;

    mb_panel_chart_draw(cr, width, height, page->model, g_get_monotonic_time(),
                        MB_PANEL_HISTORY_SECONDS);
}

static gboolean
on_tick(gpointer user_data)
{
    MbPanelPage *page = user_data;

    /* The time axis moves; the status follows the model's notifications. */
    gtk_widget_queue_draw(page->chart);
    return G_SOURCE_CONTINUE;
}

static void
on_model_notify(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    MbPanelPage *page = user_data;

    update_status(page);
    if (g_str_equal(pspec->name, "available") && !mb_panel_model_get_available(page->model))
        cancel_edit(page);
}

/* ---- the widget -------------------------------------------------------- */

static gboolean
page_grab_focus(GtkWidget *widget)
{
    MbPanelPage *page = MB_PANEL_PAGE(widget);

    if (page->row_data->len > 0) {
        guint row, column;
        if (!find_focus(page, &row, &column))
            focus_cell(page, 0, 0);
        return TRUE;
    }
    return GTK_WIDGET_CLASS(mb_panel_page_parent_class)->grab_focus(widget);
}

static void
mb_panel_page_dispose(GObject *object)
{
    MbPanelPage *page = MB_PANEL_PAGE(object);

    g_cancellable_cancel(page->cancellable);
    g_clear_handle_id(&page->tick_id, g_source_remove);
    if (page->model != NULL)
        g_signal_handlers_disconnect_by_data(page->model, page);
    page->editing = NULL;
    if (page->row_data != NULL)
        g_ptr_array_set_size(page->row_data, 0);
    gtk_widget_dispose_template(GTK_WIDGET(page), MB_TYPE_PANEL_PAGE);
    g_clear_object(&page->model);
    G_OBJECT_CLASS(mb_panel_page_parent_class)->dispose(object);
}

static void
mb_panel_page_finalize(GObject *object)
{
    MbPanelPage *page = MB_PANEL_PAGE(object);

    g_ptr_array_unref(page->row_data);
    for (guint i = 0; i < G_N_ELEMENTS(page->columns); i++)
        g_clear_object(&page->columns[i]);
    g_clear_object(&page->cancellable);
    g_free(page->status_text);
    g_free(page->message_text);
    G_OBJECT_CLASS(mb_panel_page_parent_class)->finalize(object);
}

static void
mb_panel_page_class_init(MbPanelPageClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = mb_panel_page_dispose;
    object_class->finalize = mb_panel_page_finalize;
    widget_class->grab_focus = page_grab_focus;
    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_css_name(widget_class, "mbpanelpage");
    signals[SIGNAL_LEAVE] = g_signal_new("leave", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);

    /* The plugin is resident (g_module_check_init): registered for good. */
    mb_panel_register_resource();
    g_type_ensure(MB_TYPE_PANEL_ROW);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                MB_PANEL_RESOURCE_PATH "mb-panel-page.ui");
    /* Bound so that gtk_widget_dispose_template() unparents it. */
    gtk_widget_class_bind_template_child(widget_class, MbPanelPage, box);
    gtk_widget_class_bind_template_child(widget_class, MbPanelPage, title);
    gtk_widget_class_bind_template_child(widget_class, MbPanelPage, status);
    gtk_widget_class_bind_template_child(widget_class, MbPanelPage, message);
    gtk_widget_class_bind_template_child(widget_class, MbPanelPage, rows);
    gtk_widget_class_bind_template_child(widget_class, MbPanelPage, section);
    gtk_widget_class_bind_template_child(widget_class, MbPanelPage, chart);
    gtk_widget_class_bind_template_child(widget_class, MbPanelPage, hint);
    gtk_widget_class_bind_template_callback(widget_class, on_key_pressed);
}

static void
mb_panel_page_init(MbPanelPage *page)
{
    gtk_widget_init_template(GTK_WIDGET(page));
    install_css();
    page->cancellable = g_cancellable_new();
    page->row_data = g_ptr_array_new_with_free_func(g_object_unref);
    page->status_text = g_strdup("");
    page->message_text = g_strdup("");
    for (guint i = 0; i < G_N_ELEMENTS(page->columns); i++)
        page->columns[i] = gtk_size_group_new(GTK_SIZE_GROUP_HORIZONTAL);
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(page->chart), draw_chart, page, NULL);
}

GtkWidget *
mb_panel_page_new(GDBusConnection *connection)
{
    MbPanelPage *page = g_object_new(MB_TYPE_PANEL_PAGE, NULL);

    page->model = mb_panel_model_new(connection);
    g_signal_connect(page->model, "items-changed", G_CALLBACK(on_items_changed), page);
    g_signal_connect(page->model, "notify", G_CALLBACK(on_model_notify), page);
    page->tick_id = g_timeout_add_seconds(1, on_tick, page);
    update_status(page);
    return GTK_WIDGET(page);
}

MbPanelModel *
mb_panel_page_get_model(MbPanelPage *page)
{
    g_return_val_if_fail(MB_IS_PANEL_PAGE(page), NULL);
    return page->model;
}

const char *
mb_panel_page_get_status(MbPanelPage *page)
{
    g_return_val_if_fail(MB_IS_PANEL_PAGE(page), NULL);
    return page->status_text;
}

const char *
mb_panel_page_get_message(MbPanelPage *page)
{
    g_return_val_if_fail(MB_IS_PANEL_PAGE(page), NULL);
    return page->message_text;
}

gboolean
mb_panel_page_get_focus(MbPanelPage *page, const char **vm_name, guint *column)
{
    guint row, col;

    g_return_val_if_fail(MB_IS_PANEL_PAGE(page), FALSE);
    if (!find_focus(page, &row, &col))
        return FALSE;
    if (vm_name != NULL)
        *vm_name =
            mb_panel_vm_get_name(mb_panel_row_get_vm(g_ptr_array_index(page->row_data, row)));
    if (column != NULL)
        *column = col;
    return TRUE;
}

gboolean
mb_panel_page_get_editing(MbPanelPage *page, guint *value)
{
    g_return_val_if_fail(MB_IS_PANEL_PAGE(page), FALSE);
    if (page->editing != NULL && value != NULL)
        *value = page->edit_value;
    return page->editing != NULL;
}
