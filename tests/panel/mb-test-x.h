/* Test helper: a private Xvfb X server for the panel's tests. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
    GSubprocess *process;
    char *display; /* ":N" */
    int width, height;
} MbTestX;

/* Starts Xvfb on a free display (-displayfd) with one screen of
 * width x height x 24, open to every local user (-ac: the tests run
 * clients as nobody too); asserts that it came up. */
MbTestX *mb_test_x_start(int width, int height);
void mb_test_x_stop(MbTestX *x);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MbTestX, mb_test_x_stop)

/* The environment GTK wants on a bare X server: the cairo renderer (no
 * GL in Xvfb), no accessibility bus, in-memory settings. */
void mb_test_x_setenv(const MbTestX *x);

G_END_DECLS
