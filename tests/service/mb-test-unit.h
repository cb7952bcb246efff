/* What the service's unit test programs share: a log writer that keeps
 * the service's warnings (expected in these tests: shown, not fatal), a
 * root check, and small fixtures. */
#pragma once

#include <glib.h>

#include "mb-state-store.h"

G_BEGIN_DECLS

/* g_test_init, and the writer that keeps warnings. */
void mb_test_unit_init(int *argc, char ***argv);
/* g_test_run, then frees what init made. */
int mb_test_unit_run(void);
/* The service's warnings so far (messages), in order; the test may empty it. */
GPtrArray *mb_test_unit_warnings(void);
/* A test that needs root: skipped with the reason outside CI, failed in CI
 * (CI=true), where the tests run as root. */
gboolean mb_test_have_root(const char *why);
/* A file's whole text (the test fails when it cannot be read). */
char *mb_test_read_text(const char *path);
/* Three registrations. */
MbState *mb_test_three_vms(void);

G_END_DECLS
