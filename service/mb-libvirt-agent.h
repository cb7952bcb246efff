/* The libvirt backend's agent channel (mb-libvirt-agent.c): knows the
 * state's structs only, never the connection. The threads and locks: see
 * mb-libvirt-private.h. */
#pragma once

#include "mb-libvirt-private.h"

G_BEGIN_DECLS

/* Workers, work_lock held. */
void mb_lv_drop_stream(LvDomain *d);
/* This interval's agent sample, if one came. *open_failed: libvirt could
 * not open the channel (the caller checks whether the connection died). */
gboolean mb_lv_read_agent(LvState *self, LvDomain *d, virDomainPtr dom, MbSample *out,
                          gboolean *open_failed);
void mb_lv_drop_forgotten(LvState *self);
/* The main thread: the direct socket's watch (set by mb_lv_get_domain). */
void mb_lv_on_socket_ready(gpointer user_data);
/* The main thread: the VM was unregistered (the forget vfunc). */
void mb_lv_forget(LvState *self, const char *name);

G_END_DECLS
