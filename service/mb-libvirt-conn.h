/* The libvirt backend's connection and domain table (mb-libvirt-conn.c).
 * The threads and locks: see mb-libvirt-private.h. */
#pragma once

#include "mb-libvirt-private.h"

G_BEGIN_DECLS

/* A state for uri, not connected yet; owner emits its "urgent". */
LvState *mb_lv_state_new(MbBackend *owner, const char *uri);
/* Workers, work_lock held (the object's finalize and constructor hold it too). */
void mb_lv_disconnect(LvState *self, const char *why);
gboolean mb_lv_uri_is_hopeless(void);
gboolean mb_lv_ensure_connected(LvState *self, GError **error);
void mb_lv_check_alive(LvState *self);
LvDomain *mb_lv_get_domain(LvState *self, const char *name);
virDomainPtr mb_lv_lookup_domain(LvState *self, const char *name, gboolean *missing,
                                 GError **error);
gboolean mb_lv_is_running_state(int state);

G_END_DECLS
