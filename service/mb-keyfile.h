/* GKeyFile string reading for files we do not trust. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Like g_key_file_get_string(), but a value with a bad escape sequence is
 * an error and nothing else (GLib 2.74 may both return a value and set
 * its error twice for one). */
char *mb_keyfile_get_string(GKeyFile *file, const char *group, const char *key, GError **error);

G_END_DECLS
