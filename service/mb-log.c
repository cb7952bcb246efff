#include "mb-log.h"

static const char *
level_priority(GLogLevelFlags level)
{
    if (level & G_LOG_LEVEL_ERROR)
        return "3";
    if (level & G_LOG_LEVEL_CRITICAL)
        return "4";
    if (level & G_LOG_LEVEL_WARNING)
        return "4";
    if (level & G_LOG_LEVEL_MESSAGE)
        return "5";
    if (level & G_LOG_LEVEL_INFO)
        return "6";
    return "7";
}

void
mb_log_fields(const char *domain, GLogLevelFlags level, const GLogField *extra, gsize n_extra,
              const char *message)
{
    g_autofree GLogField *fields = g_new0(GLogField, n_extra + 3);

    fields[0] = (GLogField){"GLIB_DOMAIN", domain, -1};
    fields[1] = (GLogField){"PRIORITY", level_priority(level), -1};
    fields[2] = (GLogField){"MESSAGE", message, -1};
    for (gsize i = 0; i < n_extra; i++)
        fields[3 + i] = extra[i];
    g_log_structured_array(level, fields, n_extra + 3);
}

void
mb_log_full(const char *domain, GLogLevelFlags level, const char *key, const char *value,
            const char *fmt, ...)
{
    va_list args;
    GLogField extra = {key, value, -1};

    va_start(args, fmt);
    g_autofree char *message = g_strdup_vprintf(fmt, args);
    va_end(args);
    mb_log_fields(domain, level, &extra, key != NULL ? 1 : 0, message);
}

void
mb_log_id_full(const char *domain, GLogLevelFlags level, const char *message_id,
               const char *key, const char *value, const char *fmt, ...)
{
    va_list args;
    GLogField extra[2] = {{"MESSAGE_ID", message_id, -1}, {key, value, -1}};

    va_start(args, fmt);
    g_autofree char *message = g_strdup_vprintf(fmt, args);
    va_end(args);
    mb_log_fields(domain, level, extra, key != NULL ? 2 : 1, message);
}
