#include "mb-size.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mb-error.h"

/* The one unit table: the parser reads these names (and the one-letter
 * aliases), the formatters write the names. */
static const struct {
    const char *name;
    const char *alias;
    guint shift;
} units[] = {
    {"KiB", "k", 0},
    {"MiB", "m", 10},
    {"GiB", "g", 20},
    {"TiB", "t", 30},
};

static gboolean
suffix_shift(const char *suffix, guint *shift)
{
    if (*suffix == '\0') {
        *shift = 0;
        return TRUE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(units); i++) {
        if (g_ascii_strcasecmp(suffix, units[i].name) == 0 ||
            g_ascii_strcasecmp(suffix, units[i].alias) == 0) {
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

/* kib in the largest unit that keeps it at 1 or more, rounded half up to
 * tenths (digits by hand: no locale, no double); a value that rounds up to
 * 1024 of its unit moves to the next. The tenth is left out of exact
 * values unless always_tenth. */
static char *
format_scaled(guint64 kib, gboolean always_tenth)
{
    gsize u = 0;
    guint64 whole = kib;
    guint tenths = 0;
    gboolean exact = TRUE;

    while (u + 1 < G_N_ELEMENTS(units) && kib >= (G_GUINT64_CONSTANT(1) << units[u + 1].shift))
        u++;
    if (u > 0) {
        guint shift = units[u].shift;
        guint64 rest = kib & ((G_GUINT64_CONSTANT(1) << shift) - 1);

        whole = kib >> shift;
        exact = rest == 0;
        /* rest < 2^30: ten times it fits. */
        tenths = (guint)((rest * 10 + (G_GUINT64_CONSTANT(1) << (shift - 1))) >> shift);
        if (tenths == 10) {
            whole++;
            tenths = 0;
        }
        if (whole == 1024 && u + 1 < G_N_ELEMENTS(units)) {
            u++;
            whole = 1;
        }
    }
    /* KiB are the unit of account: never a fraction of one. */
    if (u == 0 || (exact && !always_tenth))
        return g_strdup_printf("%" G_GUINT64_FORMAT " %s", whole, units[u].name);
    return g_strdup_printf("%" G_GUINT64_FORMAT ".%u %s", whole, tenths, units[u].name);
}

char *
mb_size_format_kib(guint64 kib)
{
    return format_scaled(kib, FALSE);
}

char *
mb_size_format_kib_1dp(guint64 kib)
{
    return format_scaled(kib, TRUE);
}

char *
mb_size_format_delta_kib_1dp(gint64 delta_kib)
{
    g_autofree char *size = NULL;

    if (delta_kib >= 0)
        return format_scaled((guint64)delta_kib, TRUE);
    /* Negated as unsigned: G_MININT64 has no positive gint64. */
    size = format_scaled(G_GUINT64_CONSTANT(0) - (guint64)delta_kib, TRUE);
    return g_strconcat("-", size, NULL);
}
