/* Urgent ticks (a guest under pressure, SetForeground): the records
 * waiting for a tick and each VM's budget (mb-tick-urgent.c), for the
 * tick loop (mb-tick.c). */
#pragma once

#include "mb-engine-core.h"

G_BEGIN_DECLS

/* Urgent ticks one VM's records may start per interval; its further urgent
 * records in that interval are read by the next tick. */
#define MB_URGENT_TICKS_PER_INTERVAL 4u
/* A host-side reason for an urgent tick, beside the guest's MB_URGENT_*:
 * SetForeground made the VM the foreground VM (its headroom is served at
 * once, not at the next interval). */
#define MB_TICK_URGENT_FOREGROUND 0x100u

/* Records an urgent record of vm_name: FALSE when it starts nothing
 * (stopping, urgent ticks off, not registered, or the VM spent its
 * budget for this interval: the next tick reads it). */
gboolean mb_tick_urgent_record(MbEngine *engine, const char *vm_name, unsigned urgent);
/* TRUE when the urgent tick that waits may begin now (logged, counted);
 * else FALSE, and when only the gap of urgent-min-ms since the last tick
 * began is missing, wake(engine) runs once it has passed. */
gboolean mb_tick_urgent_due(MbEngine *engine, GSourceFunc wake);
/* A tick begins: it reads every record that came before it. */
void mb_tick_urgent_clear(MbEngine *engine);
/* An urgent tick begins: each VM that asked for it spends one of its
 * interval's urgent ticks. */
void mb_tick_urgent_charge(MbEngine *engine);

G_END_DECLS
