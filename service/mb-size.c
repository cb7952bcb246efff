#include "mb-size.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mb-error.h"

static gboolean
suffix_shift(const char *suffix, guint *shift)
{
    static const struct {
        const char *name;
        guint shift;
    } units[] = {
        {"", 0},   {"k", 0},    {"kib", 0}, {"m", 10},   {"mib", 10},
        {"g", 20}, {"gib", 20}, {"t", 30},  {"tib", 30},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(units); i++) {
        if (g_ascii_strcasecmp(suffix, units[i].name) == 0) {
            *shift = units[i].shift;
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
mb_size_parse_kib(const char *text, guint64 *out_kib, GError **error)
{
    const char *p = text;
    char *end = NULL;
    guint64 value;
    guint shift;

    if (text == NULL || *text == '\0') {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "empty size (write e.g. 512MiB, 2GiB or a number of KiB)");
        return FALSE;
    }
    while (g_ascii_isspace(*p))
        p++;
    if (!g_ascii_isdigit(*p)) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "'%s' is not a size (write e.g. 512MiB, 2GiB or a number of KiB)", text);
        return FALSE;
    }
    errno = 0;
    value = g_ascii_strtoull(p, &end, 10);
    if (errno == ERANGE) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "size '%s' is too large", text);
        return FALSE;
    }
    while (g_ascii_isspace(*end))
        end++;
    g_autofree char *suffix = g_strchomp(g_strdup(end));
    if (!suffix_shift(suffix, &shift)) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "'%s' has an unknown unit '%s' (use KiB, MiB, GiB or TiB)", text, suffix);
        return FALSE;
    }
    if (shift > 0 && value > (G_MAXUINT64 >> shift)) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "size '%s' is too large", text);
        return FALSE;
    }
    *out_kib = value << shift;
    return TRUE;
}

char *
mb_size_format_kib(guint64 kib)
{
    if (kib >= (G_GUINT64_CONSTANT(1) << 20) && kib % (G_GUINT64_CONSTANT(1) << 20) == 0)
        return g_strdup_printf("%" G_GUINT64_FORMAT " GiB", kib >> 20);
    if (kib >= (G_GUINT64_CONSTANT(1) << 20))
        return g_strdup_printf("%.1f GiB", (double)kib / (1 << 20));
    if (kib >= 1024 && kib % 1024 == 0)
        return g_strdup_printf("%" G_GUINT64_FORMAT " MiB", kib >> 10);
    if (kib >= 1024)
        return g_strdup_printf("%.1f MiB", (double)kib / 1024);
    return g_strdup_printf("%" G_GUINT64_FORMAT " KiB", kib);
}
