/* The fixture libmembalancer's tests share: the library alone talks to
 * the service (its generated proxies are its own types, MbLibGen*). */
#include "lib-test.h"

const char *const lib_fast_args[] = {"--interval-ms", "100", NULL};

void
lib_fixture_spawn(LibFixture *f, const char *const *args)
{
    f->daemon = mb_test_daemon_spawn(f->bus, f->state_dir, args);
    g_assert_nonnull(f->daemon);
}

void
lib_fixture_stop(LibFixture *f)
{
    mb_test_daemon_stop_clean(&f->daemon);
}

void
lib_fixture_setup(LibFixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->bus = mb_test_bus_new();
    f->state_dir = g_build_filename(f->bus->dir, "state", NULL);
    if (data != NULL)
        lib_fixture_spawn(f, data);
    f->client = membalancer_client_new_for_address_sync(f->bus->address, NULL, &error);
    g_assert_no_error(error);
    g_assert_nonnull(f->client);
}

void
lib_fixture_teardown(LibFixture *f, gconstpointer data)
{
    g_clear_object(&f->client);
    lib_fixture_stop(f);
    g_free(f->state_dir);
    mb_test_bus_free(f->bus);
}

void
lib_keep_result(GObject *source, GAsyncResult *result, gpointer user_data)
{
    GAsyncResult **out = user_data;

    g_assert_null(*out);
    *out = g_object_ref(result);
}

static gboolean
result_set(gpointer data)
{
    return *(GAsyncResult **)data != NULL;
}

GAsyncResult *
lib_wait_result(GAsyncResult **result)
{
    g_assert_true(mb_test_wait_for(result_set, result, 10000));
    return *result;
}

typedef struct {
    guint *counter;
    guint n;
} CountWait;

static gboolean
count_reached(gpointer data)
{
    CountWait *w = data;

    return *w->counter >= w->n;
}

gboolean
lib_wait_count(guint *counter, guint n)
{
    CountWait w = {counter, n};

    return mb_test_wait_for(count_reached, &w, 10000);
}

void
lib_count(gpointer instance, gpointer arg, gpointer user_data)
{
    (*(guint *)user_data)++;
}
