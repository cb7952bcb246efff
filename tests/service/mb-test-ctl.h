/* Shared by the membalancerctl tests (test-service-ctl*.c). */
#pragma once

#include <json-glib/json-glib.h>

#include "mb-test-service.h"

G_BEGIN_DECLS

/* Asserts text is one JSON document on one line; returns its root. */
JsonNode *mb_test_parse_json(const char *text);
/* Runs membalancerctl watch [extra] until it has drawn n_tables tables,
 * then Ctrl-C; asserts exit status 0; returns what it wrote. */
char *mb_test_run_watch(Fixture *f, const char *extra, guint n_tables);

G_END_DECLS
