/* Urgent ticks' bookkeeping: which VMs asked, each VM's budget per
 * interval, and whether the urgent tick that waits may start now. The
 * tick (mb-tick.c) starts it; nothing here starts a tick. */
#include "mb-tick-urgent.h"

#include "mb-engine-core-private.h"
#include "mb-log.h"

void
mb_tick_urgent_clear(MbEngine *engine)
{
    g_clear_handle_id(&engine->urgent_id, g_source_remove);
    engine->urgent_pending = FALSE;
    engine->urgent_reasons = 0;
    g_clear_pointer(&engine->urgent_vm, g_free);
    g_hash_table_remove_all(engine->urgent_asked);
}

void
mb_tick_urgent_charge(MbEngine *engine)
{
    GHashTableIter iter;
    gpointer name;

    g_hash_table_iter_init(&iter, engine->urgent_asked);
    while (g_hash_table_iter_next(&iter, &name, NULL)) {
        guint used = GPOINTER_TO_UINT(g_hash_table_lookup(engine->urgent_used, name)) + 1;

        g_hash_table_replace(engine->urgent_used, g_strdup(name), GUINT_TO_POINTER(used));
        if (used == MB_URGENT_TICKS_PER_INTERVAL)
            mb_log(G_LOG_LEVEL_DEBUG, "MB_VM", name,
                   "VM '%s' started %u urgent ticks in this interval: its further urgent "
                   "records wait for the next tick",
                   (const char *)name, used);
    }
}

static char *
urgent_to_string(unsigned urgent)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {MB_URGENT_PSI, "psi"},
        {MB_URGENT_LOW, "low"},
        {MB_URGENT_SWAP, "swap"},
        {MB_TICK_URGENT_FOREGROUND, "made the foreground VM"},
    };
    g_autoptr(GString) text = g_string_new(NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        if (urgent & names[i].bit)
            g_string_append_printf(text, "%s%s", text->len > 0 ? "," : "", names[i].name);
    }
    if (urgent & ~(MB_URGENT_ALL | MB_TICK_URGENT_FOREGROUND))
        g_string_append_printf(text, "%s0x%x", text->len > 0 ? "," : "",
                               urgent & ~(MB_URGENT_ALL | MB_TICK_URGENT_FOREGROUND));
    return g_string_free(g_steal_pointer(&text), FALSE);
}

gboolean
mb_tick_urgent_due(MbEngine *engine, GSourceFunc wake)
{
    gint64 gap_us = (gint64)engine->config->urgent_min_ms * 1000;
    gint64 since_us;
    g_autofree char *reasons = NULL;

    if (!engine->urgent_pending || engine->tick_running || engine->stopping ||
        engine->timer_id == 0 || engine->urgent_id != 0)
        return FALSE;
    since_us = g_get_monotonic_time() - engine->tick_began_us;
    if (engine->tick_began_us != 0 && since_us < gap_us) {
        engine->urgent_id =
            g_timeout_add((guint)((gap_us - since_us + 999) / 1000), wake, engine);
        return FALSE;
    }
    engine->n_urgent_ticks++;
    reasons = urgent_to_string(engine->urgent_reasons);
    mb_log_id(G_LOG_LEVEL_DEBUG, MB_MESSAGE_ID_URGENT_TICK, "MB_VM", engine->urgent_vm,
              "urgent tick %" G_GUINT64_FORMAT ": VM '%s' is under memory pressure (%s); "
              "%" G_GINT64_FORMAT " ms after the last tick began",
              engine->n_urgent_ticks, engine->urgent_vm, reasons,
              engine->tick_began_us != 0 ? since_us / 1000 : 0);
    return TRUE;
}

gboolean
mb_tick_urgent_record(MbEngine *engine, const char *vm_name, unsigned urgent)
{
    if (engine->stopping || engine->config->urgent_min_ms == 0 ||
        !g_hash_table_contains(engine->vms_by_name, vm_name))
        return FALSE;
    /* Over its budget: the record is read by the next tick, whatever
     * starts it (a flooding guest cannot take the ticks for itself). */
    if (GPOINTER_TO_UINT(g_hash_table_lookup(engine->urgent_used, vm_name)) >=
        MB_URGENT_TICKS_PER_INTERVAL)
        return FALSE;
    if (!g_hash_table_contains(engine->urgent_asked, vm_name))
        g_hash_table_add(engine->urgent_asked, g_strdup(vm_name));
    if (!engine->urgent_pending) {
        engine->urgent_pending = TRUE;
        g_free(engine->urgent_vm);
        engine->urgent_vm = g_strdup(vm_name);
    }
    engine->urgent_reasons |= urgent;
    return TRUE;
}
