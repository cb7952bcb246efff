/* libmembalancer's tests: a private bus, the real membalancerd on it
 * (fake backend) and a MembalancerClient; helpers to wait for results. */
#pragma once

#include <membalancer.h>

#include "mb-test-bus.h"

G_BEGIN_DECLS

typedef struct {
    MbTestBus *bus;
    char *state_dir;
    MbTestDaemon *daemon;
    MembalancerClient *client;
} LibFixture;

/* g_test_add data: the daemon's arguments, or NULL for no daemon (the
 * client is made all the same). */
void lib_fixture_setup(LibFixture *f, gconstpointer data);
void lib_fixture_teardown(LibFixture *f, gconstpointer data);
/* Spawns the daemon on the fixture's bus; asserts it comes up. */
void lib_fixture_spawn(LibFixture *f, const char *const *args);
/* SIGTERM; asserts exit status 0 (under ASan: no leak). */
void lib_fixture_stop(LibFixture *f);

/* --interval-ms 100 */
extern const char *const lib_fast_args[];

/* A GAsyncReadyCallback keeping the result in *(GAsyncResult **)user_data. */
void lib_keep_result(GObject *source, GAsyncResult *result, gpointer user_data);
/* Iterates the default main context until *result is set (10 s at most). */
GAsyncResult *lib_wait_result(GAsyncResult **result);
/* Iterates until *counter >= n (10 s at most); FALSE on timeout. */
gboolean lib_wait_count(guint *counter, guint n);
/* A "notify" or signal handler counting in *(guint *)user_data. */
void lib_count(gpointer instance, gpointer arg, gpointer user_data);

#define ADD_LIB_TEST(path, func, args)                                                         \
    g_test_add("/lib/" path, LibFixture, args, lib_fixture_setup, func, lib_fixture_teardown)

G_END_DECLS
