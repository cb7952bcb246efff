/* Structured logging: one call, a message and fields journald can filter on. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Logs fmt with GLIB_DOMAIN, PRIORITY and (when key != NULL) key=value. */
#define mb_log(level, key, value, ...)                                                         \
    mb_log_full(G_LOG_DOMAIN, (level), (key), (value), __VA_ARGS__)

void mb_log_full(const char *domain, GLogLevelFlags level, const char *key, const char *value,
                 const char *fmt, ...) G_GNUC_PRINTF(5, 6);
/* Logs message with extra fields (keys may repeat). */
void mb_log_fields(const char *domain, GLogLevelFlags level, const GLogField *extra,
                   gsize n_extra, const char *message);

G_END_DECLS
