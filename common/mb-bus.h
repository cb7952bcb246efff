/* Connecting to the bus the user picked: --address, --session or --system. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

GDBusConnection *mb_bus_connect(const char *address, gboolean session, GError **error);

G_END_DECLS
