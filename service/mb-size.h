/* Memory sizes as people write them: "512MiB", "2 GiB", "1048576" (KiB). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Parses a size into KiB. A bare number is KiB; suffixes K/KiB, M/MiB,
 * G/GiB, T/TiB (any case) multiply by 1024^n. Rejects negatives, fractions
 * that are not whole KiB, garbage and overflow, with a message. */
gboolean mb_size_parse_kib(const char *text, guint64 *out_kib, GError **error);
/* "512 MiB", "1.5 GiB", "300 KiB": for people, not for parsing back. */
char *mb_size_format_kib(guint64 kib);

G_END_DECLS
