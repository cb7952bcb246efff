#include "mb-keyfile.h"

#include <string.h>

#include "mb-error.h"
#include "mb-size.h"

char *
mb_keyfile_get_string(GKeyFile *file, const char *group, const char *key, GError **error)
{
    g_autofree char *raw = g_key_file_get_value(file, group, key, error);

    if (raw == NULL)
        return NULL;
    for (const char *p = raw; *p != '\0'; p++) {
        if (*p != '\\')
            continue;
        p++;
        if (*p == '\0' || strchr("sntr\\", *p) == NULL) {
            g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                        "key '%s' has a value with a bad escape sequence", key);
            return NULL;
        }
    }
    /* Escapes checked: what GLib can still refuse is a value that is not UTF-8. */
    GError *local = NULL;
    char *value = g_key_file_get_string(file, group, key, &local);

    if (local != NULL) {
        g_free(value);
        g_propagate_error(error, local);
        return NULL;
    }
    if (value == NULL)
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                    "key '%s' has no usable value", key);
    return value;
}

char *
mb_keyfile_read_value(GKeyFile *file, const char *group, const char *key, const char *path,
                      char **origin, GError **error)
{
    g_autoptr(GError) local = NULL;
    char *value = mb_keyfile_get_string(file, group, key, &local);

    *origin = g_strdup_printf("%s: [%s]", path, group);
    if (value == NULL || local != NULL) {
        g_free(value);
        mb_keyfile_fail(error, *origin, key, "%s", local != NULL ? local->message : "no value");
        return NULL;
    }
    return value;
}

gboolean
mb_keyfile_fail(GError **error, const char *origin, const char *key, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    g_autofree char *why = g_strdup_vprintf(fmt, args);
    va_end(args);
    g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS, "%s: %s: %s", origin,
                key, why);
    return FALSE;
}

gboolean
mb_keyfile_parse_size(const char *value, guint64 *out, const char *origin, const char *key,
                      GError **error)
{
    g_autoptr(GError) local = NULL;

    if (!mb_size_parse_kib(value, out, &local))
        return mb_keyfile_fail(error, origin, key, "%s", local->message);
    return TRUE;
}

gboolean
mb_keyfile_parse_uint(const char *value, guint64 min, guint64 max, guint64 *out,
                      const char *origin, const char *key, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (!g_ascii_string_to_unsigned(value, 10, min, max, out, &local))
        return mb_keyfile_fail(error, origin, key,
                               "'%s' is not a whole number from %" G_GUINT64_FORMAT
                               " to %" G_GUINT64_FORMAT,
                               value, min, max);
    return TRUE;
}

gboolean
mb_keyfile_parse_name(const char *value, char **out, const char *origin, const char *key,
                      GError **error)
{
    if (*value == '\0')
        return mb_keyfile_fail(error, origin, key, "must not be empty");
    g_free(*out);
    *out = g_strdup(value);
    return TRUE;
}
