/* One VM's row of the "Memory" page; see mb-panel-row.h. */
#include "mb-panel-row.h"

#include <glib/gi18n-lib.h>

#include "mb-names.h"

struct _MbPanelRow {
    GtkWidget parent_instance;
    MbPanelVm *vm;
    MbPanelRowScaleFunc scale;
    gpointer scale_data;
    gboolean editing; /* the priority shows edit_value, being edited */
    guint edit_value;
    gboolean busy; /* a call for this VM is in flight */
    /* From the template. */
    GtkWidget *box, *swatch, *name, *fg_mark, *detail, *bar, *swap, *priority, *foreground;
};

G_DEFINE_FINAL_TYPE(MbPanelRow, mb_panel_row, GTK_TYPE_WIDGET)

/* The bar: memory in use (solid), reclaimable (pale), the predicted
 * shortfall beyond the allocation (red) and the guarantee (white tick),
 * on one scale for all rows (the shared pool). */
static void
draw_bar(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
    MbPanelRow *r = user_data;
    double scale = (double)MAX(r->scale(r->scale_data), 1);
    guint64 alloc = mb_panel_vm_get_allocated_kib(r->vm);
    guint64 reclaim = MIN(mb_panel_vm_get_reclaimable_kib(r->vm), alloc);
    guint64 used = alloc - reclaim;
    gint64 demand = mb_panel_vm_get_demand_kib(r->vm);
    guint64 need = used + (guint64)MAX(demand, 0);
    double rgb[3];
    double w = width;

    mb_panel_color_rgb(mb_panel_vm_get_color(r->vm), rgb);
    cairo_set_source_rgb(cr, 0.20, 0.22, 0.27);
    cairo_rectangle(cr, 0, 0, w, height);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_rectangle(cr, 0, 0, w * (double)used / scale, height);
    cairo_fill(cr);
    cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], 0.40);
    cairo_rectangle(cr, w * (double)used / scale, 0, w * (double)reclaim / scale, height);
    cairo_fill(cr);
    if (need > alloc) {
        cairo_set_source_rgb(cr, 1.0, 0.35, 0.35);
        cairo_rectangle(cr, w * (double)alloc / scale, height * 0.25,
                        w * (double)(need - alloc) / scale, height * 0.5);
        cairo_fill(cr);
    }
    if (mb_panel_vm_get_min_kib(r->vm) > 0) {
        double x = w * (double)mb_panel_vm_get_min_kib(r->vm) / scale;
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_rectangle(cr, MIN(x, w - 4), 0, 4, height);
        cairo_fill(cr);
    }
}

static void
draw_swatch(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
    MbPanelRow *r = user_data;
    double rgb[3];

    mb_panel_color_rgb(mb_panel_vm_get_color(r->vm), rgb);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_arc(cr, width / 2.0, height / 2.0, MIN(width, height) / 2.0, 0, 2 * G_PI);
    cairo_fill(cr);
}

static void
row_update(MbPanelRow *r)
{
    const char *state = mb_panel_vm_get_state(r->vm);
    g_autofree char *alloc = mb_panel_format_kib(mb_panel_vm_get_allocated_kib(r->vm));
    g_autofree char *reclaim = mb_panel_format_kib(mb_panel_vm_get_reclaimable_kib(r->vm));
    g_autofree char *demand = mb_panel_format_demand_kib(mb_panel_vm_get_demand_kib(r->vm));
    g_autofree char *detail = NULL;
    g_autofree char *priority = NULL;
    const char *state_text = NULL;

    gtk_label_set_text(GTK_LABEL(r->name), mb_panel_vm_get_name(r->vm));
    if (g_strcmp0(state, MB_VM_STATE_NAME_OFFLINE) == 0)
        state_text = _("Offline");
    else if (g_strcmp0(state, MB_VM_STATE_NAME_STUCK) == 0)
        state_text = _("Balloon not responding");
    if (state_text != NULL)
        detail = g_strdup_printf("%s · %s", state_text, alloc);
    else
        /* TRANSLATORS: allocation · reclaimable memory · predicted change of demand */
        detail = g_strdup_printf(_("%s · %s reclaimable · demand %s"), alloc, reclaim, demand);
    gtk_label_set_text(GTK_LABEL(r->detail), detail);
    if (state_text != NULL)
        gtk_widget_add_css_class(r->box, "mb-offline");
    else
        gtk_widget_remove_css_class(r->box, "mb-offline");

    if (mb_panel_vm_get_swapping(r->vm)) {
        gtk_label_set_text(GTK_LABEL(r->swap), _("Swapping"));
        gtk_widget_remove_css_class(r->swap, "mb-noswap");
        gtk_widget_add_css_class(r->swap, "mb-swapping");
    } else {
        gtk_label_set_text(GTK_LABEL(r->swap), _("No swap"));
        gtk_widget_remove_css_class(r->swap, "mb-swapping");
        gtk_widget_add_css_class(r->swap, "mb-noswap");
    }

    if (r->editing) {
        priority = g_strdup_printf(_("Priority ‹ %u ›"), r->edit_value);
        gtk_widget_add_css_class(r->priority, "mb-editing");
    } else {
        priority = g_strdup_printf(r->busy ? _("Priority %u …") : _("Priority %u"),
                                   mb_panel_vm_get_priority(r->vm));
        gtk_widget_remove_css_class(r->priority, "mb-editing");
    }
    gtk_button_set_label(GTK_BUTTON(r->priority), priority);
    if (mb_panel_vm_get_foreground(r->vm)) {
        gtk_button_set_label(GTK_BUTTON(r->foreground), _("★ Foreground"));
        gtk_widget_add_css_class(r->foreground, "mb-is-foreground");
    } else {
        gtk_button_set_label(GTK_BUTTON(r->foreground), _("Make foreground"));
        gtk_widget_remove_css_class(r->foreground, "mb-is-foreground");
    }
    gtk_widget_queue_draw(r->bar);
}

static void
on_vm_notify(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    MbPanelRow *r = user_data;
    GtkWidget *parent = gtk_widget_get_parent(GTK_WIDGET(r));

    row_update(r);
    /* One VM's allocation moves every row's scale. */
    if (g_str_equal(pspec->name, "allocated-kib") && parent != NULL)
        for (GtkWidget *w = gtk_widget_get_first_child(parent); w != NULL;
             w = gtk_widget_get_next_sibling(w))
            if (MB_IS_PANEL_ROW(w))
                mb_panel_row_queue_draw_bar(MB_PANEL_ROW(w));
}

GtkWidget *
mb_panel_row_new(MbPanelVm *vm, MbPanelRowScaleFunc scale, gpointer scale_data)
{
    MbPanelRow *r = g_object_new(MB_TYPE_PANEL_ROW, NULL);

    g_return_val_if_fail(MB_IS_PANEL_VM(vm), NULL);
    r->vm = g_object_ref(vm);
    r->scale = scale;
    r->scale_data = scale_data;
    g_object_bind_property(vm, "foreground", r->fg_mark, "visible", G_BINDING_SYNC_CREATE);
    g_signal_connect_object(vm, "notify", G_CALLBACK(on_vm_notify), r, 0);
    row_update(r);
    return GTK_WIDGET(r);
}

MbPanelVm *
mb_panel_row_get_vm(MbPanelRow *row)
{
    g_return_val_if_fail(MB_IS_PANEL_ROW(row), NULL);
    return row->vm;
}

GtkWidget *
mb_panel_row_get_cell(MbPanelRow *row, guint column)
{
    g_return_val_if_fail(MB_IS_PANEL_ROW(row), NULL);
    return column == 0 ? row->priority : row->foreground;
}

GtkWidget *
mb_panel_row_get_swap(MbPanelRow *row)
{
    g_return_val_if_fail(MB_IS_PANEL_ROW(row), NULL);
    return row->swap;
}

void
mb_panel_row_set_editing(MbPanelRow *row, gboolean editing, guint value)
{
    g_return_if_fail(MB_IS_PANEL_ROW(row));
    row->editing = editing;
    row->edit_value = value;
    row_update(row);
}

void
mb_panel_row_set_busy(MbPanelRow *row, gboolean busy)
{
    g_return_if_fail(MB_IS_PANEL_ROW(row));
    row->busy = busy;
    row_update(row);
}

void
mb_panel_row_queue_draw_bar(MbPanelRow *row)
{
    g_return_if_fail(MB_IS_PANEL_ROW(row));
    gtk_widget_queue_draw(row->bar);
}

static void
mb_panel_row_dispose(GObject *object)
{
    MbPanelRow *row = MB_PANEL_ROW(object);

    if (row->vm != NULL)
        g_signal_handlers_disconnect_by_data(row->vm, row);
    gtk_widget_dispose_template(GTK_WIDGET(row), MB_TYPE_PANEL_ROW);
    g_clear_object(&row->vm);
    G_OBJECT_CLASS(mb_panel_row_parent_class)->dispose(object);
}

static void
mb_panel_row_class_init(MbPanelRowClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = mb_panel_row_dispose;
    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_css_name(widget_class, "mbpanelrow");
    /* The resource is registered by the page's class_init, which comes
     * first (the page makes the rows). */
    gtk_widget_class_set_template_from_resource(widget_class,
                                                MB_PANEL_RESOURCE_PATH "mb-panel-row.ui");
    gtk_widget_class_bind_template_child(widget_class, MbPanelRow, box);
    gtk_widget_class_bind_template_child(widget_class, MbPanelRow, swatch);
    gtk_widget_class_bind_template_child(widget_class, MbPanelRow, name);
    gtk_widget_class_bind_template_child(widget_class, MbPanelRow, fg_mark);
    gtk_widget_class_bind_template_child(widget_class, MbPanelRow, detail);
    gtk_widget_class_bind_template_child(widget_class, MbPanelRow, bar);
    gtk_widget_class_bind_template_child(widget_class, MbPanelRow, swap);
    gtk_widget_class_bind_template_child(widget_class, MbPanelRow, priority);
    gtk_widget_class_bind_template_child(widget_class, MbPanelRow, foreground);
}

static void
mb_panel_row_init(MbPanelRow *row)
{
    gtk_widget_init_template(GTK_WIDGET(row));
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(row->swatch), draw_swatch, row, NULL);
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(row->bar), draw_bar, row, NULL);
}
