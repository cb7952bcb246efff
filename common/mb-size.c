#include "mb-size.h"

#include "mb-error.h"
#include "mb-size-parse.h"

gboolean
mb_size_parse_kib(const char *text, guint64 *out_kib, GError **error)
{
    const char *unit = NULL;
    uint64_t kib = 0;
    g_autofree char *suffix = NULL;

    switch (mb_size_scan_kib(text, &kib, &unit)) {
    case MB_SIZE_OK:
        *out_kib = kib;
        return TRUE;
    case MB_SIZE_EMPTY:
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "empty size (write e.g. 512MiB, 2GiB or a number of KiB)");
        return FALSE;
    case MB_SIZE_NOT_A_SIZE:
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "'%s' is not a size (write e.g. 512MiB, 2GiB or a number of KiB)", text);
        return FALSE;
    case MB_SIZE_TOO_LARGE:
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "size '%s' is too large", text);
        return FALSE;
    case MB_SIZE_UNKNOWN_UNIT:
        break;
    }
    suffix = g_strchomp(g_strdup(unit));
    g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                "'%s' has an unknown unit '%s' (use KiB, MiB, GiB or TiB)", text, suffix);
    return FALSE;
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

    while (u + 1 < mb_size_n_units &&
           kib >= (G_GUINT64_CONSTANT(1) << mb_size_units[u + 1].shift))
        u++;
    if (u > 0) {
        guint shift = mb_size_units[u].shift;
        guint64 rest = kib & ((G_GUINT64_CONSTANT(1) << shift) - 1);

        whole = kib >> shift;
        exact = rest == 0;
        /* rest < 2^30: ten times it fits. */
        tenths = (guint)((rest * 10 + (G_GUINT64_CONSTANT(1) << (shift - 1))) >> shift);
        if (tenths == 10) {
            whole++;
            tenths = 0;
        }
        if (whole == 1024 && u + 1 < mb_size_n_units) {
            u++;
            whole = 1;
        }
    }
    /* KiB are the unit of account: never a fraction of one. */
    if (u == 0 || (exact && !always_tenth))
        return g_strdup_printf("%" G_GUINT64_FORMAT " %s", whole, mb_size_units[u].name);
    return g_strdup_printf("%" G_GUINT64_FORMAT ".%u %s", whole, tenths, mb_size_units[u].name);
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
