#include "mb-test-unit.h"

#include <unistd.h>

#include "mb-test-bus.h"

/* The service's warnings, as test_writer (below) saw them. */
static GPtrArray *warnings;

/* A test that needs root: skipped with the reason outside CI, failed in CI
 * (CI=true), where the tests run as root. */
gboolean
mb_test_have_root(const char *why)
{
    if (geteuid() == 0)
        return TRUE;
    if (g_strcmp0(g_getenv("CI"), "true") == 0) {
        g_test_fail_printf("CI=true but not root (uid %u): cannot %s", (guint)geteuid(), why);
        return FALSE;
    }
    g_test_skip_printf("needs root to %s (CI runs it as root)", why);
    return FALSE;
}

char *
mb_test_read_text(const char *path)
{
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

MbState *
mb_test_three_vms(void)
{
    MbState *state = mb_state_new();

    g_ptr_array_add(state->registrations, mb_registration_new("game", 80, 256, 2048, TRUE));
    g_ptr_array_add(state->registrations, mb_registration_new("video", 50, 128, 1024, FALSE));
    g_ptr_array_add(state->registrations,
                    mb_registration_new("web [1] = \"x\"", 0, 0, 0, FALSE));
    state->paused = TRUE;
    return state;
}

/* The service logs handled problems (a corrupt state file) as warnings;
 * here they are expected, so they are shown, not fatal. */
static GLogWriterOutput
test_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
    const char *message = mb_test_service_warning(level, fields, n_fields);

    if (message != NULL) {
        /* Quoting a corrupt file, the log stays valid UTF-8. */
        g_assert_true(g_utf8_validate(message, -1, NULL));
        glong n_chars = g_utf8_strlen(message, -1);
        g_autofree char *shown = g_utf8_substring(message, 0, MIN(n_chars, 300));
        g_test_message("service warning: %s%s", shown, n_chars > 300 ? "..." : "");
        g_ptr_array_add(warnings, g_strdup(message));
        return G_LOG_WRITER_HANDLED;
    }
    return g_log_writer_default(level, fields, n_fields, user_data);
}

GPtrArray *
mb_test_unit_warnings(void)
{
    return warnings;
}

void
mb_test_unit_init(int *argc, char ***argv)
{
    g_test_init(argc, argv, NULL);
    warnings = g_ptr_array_new_with_free_func(g_free);
    g_log_set_writer_func(test_writer, NULL, NULL);
}

int
mb_test_unit_run(void)
{
    int status = g_test_run();

    g_ptr_array_unref(warnings);
    return status;
}
