/* GKeyFile string reading for files we do not trust. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Like g_key_file_get_string(), but a value with a bad escape sequence is
 * an error and nothing else (GLib 2.74 may both return a value and set
 * its error twice for one). */
char *mb_keyfile_get_string(GKeyFile *file, const char *group, const char *key, GError **error);
/* One key's string; *origin names the file and group for messages
 * ("PATH: [GROUP]"). NULL, with the file, key and reason in *error, when
 * it cannot be read. */
char *mb_keyfile_read_value(GKeyFile *file, const char *group, const char *key,
                            const char *path, char **origin, GError **error);

/* The value parsers of every group's keys (the service's config, the
 * backends' own groups): an error says "ORIGIN: KEY: WHY" (origin: where
 * the value came from, "FILE: [group]" or "--pool"), in
 * MB_SERVICE_ERROR_INVALID_ARGS. */
gboolean mb_keyfile_fail(GError **error, const char *origin, const char *key, const char *fmt,
                         ...) G_GNUC_PRINTF(4, 5);
/* A size (mb-size.h's grammar) in KiB. */
gboolean mb_keyfile_parse_size(const char *value, guint64 *out, const char *origin,
                               const char *key, GError **error);
gboolean mb_keyfile_parse_uint(const char *value, guint64 min, guint64 max, guint64 *out,
                               const char *origin, const char *key, GError **error);
/* A non-empty string, replacing *out. */
gboolean mb_keyfile_parse_name(const char *value, char **out, const char *origin,
                               const char *key, GError **error);

G_END_DECLS
