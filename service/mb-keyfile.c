#include "mb-keyfile.h"

#include <string.h>

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
