/* Memory sizes as people write them: "512MiB", "2 GiB", "1048576" (KiB). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Parses a size into KiB. A bare number is KiB; suffixes K/KiB, M/MiB,
 * G/GiB, T/TiB (any case) multiply by 1024^n. Rejects negatives,
 * fractions, garbage and overflow, with a message, as
 * MB_SERVICE_ERROR_INVALID_ARGS (mb-error.h): the caller's mistake, in a
 * configuration file or a D-Bus call alike. */
gboolean mb_size_parse_kib(const char *text, guint64 *out_kib, GError **error);

/* The formatters write the parser's unit names with a '.' decimal point in
 * every locale. */

/* "512 MiB", "1.5 GiB", "300 KiB": exact when whole, else one decimal. */
char *mb_size_format_kib(guint64 kib);
/* Like free -h: "512.0 MiB", "1.5 GiB", "300 KiB" (KiB stay whole), for
 * tables where sizes of one column should read alike. */
char *mb_size_format_kib_1dp(guint64 kib);
/* A signed change in the style of mb_size_format_kib_1dp: "-1.5 MiB",
 * "12.0 MiB", "0 KiB" (a sign only for a decrease). */
char *mb_size_format_delta_kib_1dp(gint64 delta_kib);

G_END_DECLS
