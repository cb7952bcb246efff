/* membalancerctl's output: the table of list and watch, aligned fields,
 * and the JSON scripts read. */
#include "membalancerctl.h"

#include <glib/gi18n-lib.h>

#include "mb-size.h"

/* ---- JSON ------------------------------------------------------------------- */

/* A JSON number: json-glib's integers end at G_MAXINT64, JSON's do not. */
void
mb_ctl_add_uint(JsonBuilder *builder, const char *member, guint64 value)
{
    json_builder_set_member_name(builder, member);
    if (value <= G_MAXINT64)
        json_builder_add_int_value(builder, (gint64)value);
    else
        json_builder_add_double_value(builder, (double)value);
}

static void
add_int(JsonBuilder *builder, const char *member, gint64 value)
{
    json_builder_set_member_name(builder, member);
    json_builder_add_int_value(builder, value);
}

void
mb_ctl_add_string(JsonBuilder *builder, const char *member, const char *value)
{
    json_builder_set_member_name(builder, member);
    json_builder_add_string_value(builder, value != NULL ? value : "");
}

void
mb_ctl_add_boolean(JsonBuilder *builder, const char *member, gboolean value)
{
    json_builder_set_member_name(builder, member);
    json_builder_add_boolean_value(builder, value);
}

/* One line of JSON: json-glib escapes the strings and writes numbers the
 * same in every locale. */
void
mb_ctl_print_json(JsonBuilder *builder)
{
    g_autoptr(JsonNode) root = json_builder_get_root(builder);
    g_autoptr(JsonGenerator) generator = json_generator_new();
    g_autofree char *text = NULL;

    json_generator_set_root(generator, root);
    text = json_generator_to_data(generator, NULL);
    g_print("%s\n", text);
}

/* The fields and their order are the interface scripts read: add at the
 * end, never rename or drop (membalancerctl(1) lists them). Sizes are KiB. */
void
mb_ctl_add_vm_json(JsonBuilder *builder, MembalancerVm *vm, gboolean connected)
{
    json_builder_begin_object(builder);
    mb_ctl_add_string(builder, "name", membalancer_vm_get_name(vm));
    mb_ctl_add_uint(builder, "priority", membalancer_vm_get_priority(vm));
    mb_ctl_add_boolean(builder, "foreground", membalancer_vm_get_foreground(vm));
    mb_ctl_add_uint(builder, "min_kib", membalancer_vm_get_min_kib(vm));
    mb_ctl_add_uint(builder, "max_kib", membalancer_vm_get_max_kib(vm));
    mb_ctl_add_uint(builder, "allocated_kib", membalancer_vm_get_allocated_kib(vm));
    /* demand_kib is demand_change_kib under its first, misleading name. */
    add_int(builder, "demand_kib", membalancer_vm_get_demand_kib(vm));
    mb_ctl_add_uint(builder, "reclaimable_kib", membalancer_vm_get_reclaimable_kib(vm));
    mb_ctl_add_uint(builder, "active_anon_kib", membalancer_vm_get_active_anon_kib(vm));
    mb_ctl_add_uint(builder, "active_file_kib", membalancer_vm_get_active_file_kib(vm));
    mb_ctl_add_uint(builder, "inactive_file_kib", membalancer_vm_get_inactive_file_kib(vm));
    mb_ctl_add_uint(builder, "free_kib", membalancer_vm_get_free_kib(vm));
    mb_ctl_add_uint(builder, "swap_out_kib", membalancer_vm_get_swap_out_kib(vm));
    mb_ctl_add_string(builder, "stats_source", membalancer_vm_get_stats_source(vm));
    mb_ctl_add_uint(builder, "last_update_us", membalancer_vm_get_last_update(vm));
    mb_ctl_add_string(builder, "last_reason", membalancer_vm_get_last_reason(vm));
    mb_ctl_add_string(builder, "path", membalancer_vm_get_object_path(vm));
    mb_ctl_add_string(builder, "state", membalancer_vm_get_state(vm));
    add_int(builder, "demand_change_kib", membalancer_vm_get_demand_kib(vm));
    mb_ctl_add_boolean(builder, "connected", connected);
    json_builder_end_object(builder);
}

/* ---- aligned text --------------------------------------------------------- */

/* Terminal columns of UTF-8 text: wide (East Asian) characters take two,
 * combining marks none. */
static gsize
display_width(const char *text)
{
    gsize width = 0;

    for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (g_unichar_iszerowidth(c))
            continue;
        width += g_unichar_iswide(c) ? 2 : 1;
    }
    return width;
}

/* A cell owns its text; control characters (which would move the cursor
 * or break the alignment) become '?'. Strings from the bus are valid UTF-8. */
static char *
cell_text(const char *text)
{
    GString *out = g_string_new(NULL);

    for (const char *p = text != NULL ? text : ""; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (g_unichar_iscntrl(c))
            g_string_append_c(out, '?');
        else
            g_string_append_unichar(out, c);
    }
    return g_string_free(out, FALSE);
}

/* A translated label is not one byte per column. */
void
mb_ctl_print_fields(const char *indent, gsize min_width, const char *const *labels,
                    const char *const *values, gsize n)
{
    gsize width = min_width;

    for (gsize i = 0; i < n; i++)
        width = MAX(width, display_width(labels[i]));
    for (gsize i = 0; i < n; i++)
        g_print("%s%s%*s %s\n", indent, labels[i], (int)(width - display_width(labels[i])), "",
                values[i]);
}

/* DemandKiB is the predicted change of the VM's demand per interval, not
 * what it needs: say which way it goes and by how much. Without statistics
 * there is no trend, whatever the last figure was. */
char *
mb_ctl_trend_text(MembalancerVm *vm, gboolean one_decimal)
{
    gint64 kib = membalancer_vm_get_demand_kib(vm);
    guint64 size_kib = kib < 0 ? G_GUINT64_CONSTANT(0) - (guint64)kib : (guint64)kib;
    g_autofree char *size = NULL;

    if (g_strcmp0(membalancer_vm_get_stats_source(vm), "none") == 0)
        return g_strdup("-");
    if (kib == 0)
        /* TRANSLATORS: a VM's memory demand neither grows nor shrinks. */
        return g_strdup(_("steady"));
    size = one_decimal ? mb_size_format_kib_1dp(size_kib) : mb_size_format_kib(size_kib);
    if (kib > 0)
        /* TRANSLATORS: a VM's memory demand grows by %s (a size, "1.5 MiB")
           per interval; short, it is a cell of the table. */
        return g_strdup_printf(_("grows %s"), size);
    /* TRANSLATORS: a VM's memory demand shrinks by %s per interval. */
    return g_strdup_printf(_("shrinks %s"), size);
}

/* ---- the table ------------------------------------------------------------ */

enum { ALIGN_LEFT, ALIGN_RIGHT };

/* The titles are translated, the --kib ones (for scripts) are not; they
 * name what the JSON calls the same (ALLOC_KIB is allocated_kib). */
static const struct {
    const char *title;     /* sizes as people read them */
    const char *kib_title; /* --kib */
    int align;
} columns[] = {
    /* TRANSLATORS: titles of the columns of "membalancerctl list": short,
       upper case, one word each. Column title: the VM's name. */
    {N_("NAME"), "NAME", ALIGN_LEFT},
    /* TRANSLATORS: column title: the VM's priority (0-100). */
    {N_("PRIO"), "PRIO", ALIGN_RIGHT},
    /* TRANSLATORS: column title: "*" marks the foreground VM. */
    {N_("FG"), "FG", ALIGN_RIGHT},
    /* TRANSLATORS: column title: running, offline or stuck (these stay
       English: they are the service's keywords). */
    {N_("STATE"), "STATE", ALIGN_LEFT},
    /* TRANSLATORS: column title: the memory the VM has now. */
    {N_("ALLOC"), "ALLOC_KIB", ALIGN_RIGHT},
    /* TRANSLATORS: column title: its guaranteed minimum. */
    {N_("MIN"), "MIN_KIB", ALIGN_RIGHT},
    /* TRANSLATORS: column title: its maximum. */
    {N_("MAX"), "MAX_KIB", ALIGN_RIGHT},
    /* TRANSLATORS: column title: how its memory demand changes per
       interval ("grows 1.5 MiB", "shrinks 3.0 MiB", "steady"). */
    {N_("TREND"), "DEMAND_CHANGE_KIB", ALIGN_RIGHT},
    /* TRANSLATORS: column title: memory it could give without swapping. */
    {N_("RECLAIM"), "RECLAIM_KIB", ALIGN_RIGHT},
    /* TRANSLATORS: column title: memory the guest has swapped out. */
    {N_("SWAPOUT"), "SWAPOUT_KIB", ALIGN_RIGHT},
    /* TRANSLATORS: column title: where its statistics come from. */
    {N_("STATS"), "STATS", ALIGN_LEFT},
    /* TRANSLATORS: column title: why memory last moved. */
    {N_("LAST"), "LAST", ALIGN_LEFT},
};

static char *
size_cell(const Ctl *ctl, guint64 kib)
{
    if (ctl->kib)
        return g_strdup_printf("%" G_GUINT64_FORMAT, kib);
    return mb_size_format_kib_1dp(kib);
}

static char *
trend_cell(const Ctl *ctl, MembalancerVm *vm)
{
    if (ctl->kib)
        return g_strdup_printf("%" G_GINT64_FORMAT, membalancer_vm_get_demand_kib(vm));
    return mb_ctl_trend_text(vm, TRUE);
}

/* A note after the table, translated for people, as it is for scripts
 * (--kib): every note starts "(balancing", which the shell completion skips. */
static void
print_note(const Ctl *ctl, const char *note)
{
    g_print("%s\n", ctl->kib ? note : _(note));
}

void
mb_ctl_print_table(const Ctl *ctl, GPtrArray *vms)
{
    const gsize n_columns = G_N_ELEMENTS(columns);
    g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
    gsize widths[G_N_ELEMENTS(columns)] = {0};
    g_autoptr(GString) line = g_string_new(NULL);

    for (gsize c = 0; c < n_columns; c++)
        g_ptr_array_add(cells, g_strdup(ctl->kib ? columns[c].kib_title : _(columns[c].title)));
    for (guint i = 0; i < vms->len; i++) {
        MembalancerVm *vm = g_ptr_array_index(vms, i);

        g_ptr_array_add(cells, cell_text(membalancer_vm_get_name(vm)));
        g_ptr_array_add(cells, g_strdup_printf("%u", membalancer_vm_get_priority(vm)));
        g_ptr_array_add(cells, g_strdup(membalancer_vm_get_foreground(vm) ? "*" : ""));
        g_ptr_array_add(cells, cell_text(membalancer_vm_get_state(vm)));
        g_ptr_array_add(cells, size_cell(ctl, membalancer_vm_get_allocated_kib(vm)));
        g_ptr_array_add(cells, size_cell(ctl, membalancer_vm_get_min_kib(vm)));
        g_ptr_array_add(cells, size_cell(ctl, membalancer_vm_get_max_kib(vm)));
        g_ptr_array_add(cells, trend_cell(ctl, vm));
        g_ptr_array_add(cells, size_cell(ctl, membalancer_vm_get_reclaimable_kib(vm)));
        g_ptr_array_add(cells, size_cell(ctl, membalancer_vm_get_swap_out_kib(vm)));
        g_ptr_array_add(cells, cell_text(membalancer_vm_get_stats_source(vm)));
        g_ptr_array_add(cells, cell_text(membalancer_vm_get_last_reason(vm)));
    }
    for (guint i = 0; i < cells->len; i++)
        widths[i % n_columns] =
            MAX(widths[i % n_columns], display_width(g_ptr_array_index(cells, i)));

    for (guint row = 0; row < cells->len / n_columns; row++) {
        g_string_truncate(line, 0);
        for (gsize c = 0; c < n_columns; c++) {
            const char *text = g_ptr_array_index(cells, row * n_columns + c);
            gsize pad = widths[c] - display_width(text);

            if (c > 0)
                g_string_append_c(line, ' ');
            if (columns[c].align == ALIGN_RIGHT)
                for (gsize k = 0; k < pad; k++)
                    g_string_append_c(line, ' ');
            g_string_append(line, text);
            /* The last column has nothing after it to line up. */
            if (columns[c].align == ALIGN_LEFT && c + 1 < n_columns)
                for (gsize k = 0; k < pad; k++)
                    g_string_append_c(line, ' ');
        }
        g_print("%s\n", line->str);
    }
    if (!membalancer_client_get_connected(ctl->client))
        print_note(ctl,
                   N_("(balancing is stopped: membalancerd cannot reach the hypervisor and "
                      "is reconnecting; nothing is moved meanwhile)"));
    if (membalancer_client_get_paused(ctl->client))
        print_note(ctl, N_("(balancing is paused)"));
}
