/* The one place that names the backends (mb-backend-factory.c): the rest
 * of the service knows MbBackend only. */
#pragma once

#include "mb-backend.h"
#include "mb-config.h"

G_BEGIN_DECLS

/* Builds the backend config->backend names (only those built in: see the
 * fake-backend option); fails with a message naming the known ones. */
MbBackend *mb_backend_new(const MbConfig *config, GError **error);

G_END_DECLS
