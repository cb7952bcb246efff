/* Changing what was set: SetLimits, ClearForeground, RegisterOrUpdateVM
 * on the real membalancerd: applied, announced, stored across a restart,
 * refused as RegisterVM refuses. */
#include "mb-dbus-generated.h"
#include "mb-error.h"
#include "mb-test-service.h"

#define MIB(n) ((guint64)(n)*1024)

static void
assert_error(GError *error, const char *name)
{
    g_autofree char *remote = NULL;

    g_assert_nonnull(error);
    remote = g_dbus_error_get_remote_error(error);
    g_assert_cmpstr(remote, ==, name);
}

static void
restart(Fixture *f)
{
    fixture_stop(f);
    fixture_start(f, mb_test_fast_args);
}

static void
test_set_limits(Fixture *f, gconstpointer data)
{
    g_autofree char *path = register_vm(f, "game", 80, NULL);
    g_autoptr(MbMemBalancerVM) game = vm_proxy(f, path);
    g_autoptr(GError) error = NULL;
    g_autofree char *before = NULL, *after = NULL;
    PropChanges seen = {0, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};

    g_signal_connect(game, "g-properties-changed", G_CALLBACK(changes_on_props_changed), &seen);
    g_assert_true(mb_mem_balancer_call_set_limits_sync(f->manager, "game", MIB(300), MIB(1024),
                                                       NULL, &error));
    g_assert_no_error(error);
    wait_change(&seen, "MinKiB");
    wait_change(&seen, "MaxKiB");
    g_assert_cmpuint(mb_mem_balancer_vm_get_min_kib(game), ==, MIB(300));
    g_assert_cmpuint(mb_mem_balancer_vm_get_max_kib(game), ==, MIB(1024));
    g_signal_handlers_disconnect_by_data(game, &seen);

    /* Refused as RegisterVM refuses; nothing changes. */
    before = settings_snapshot(f);
    g_assert_false(mb_mem_balancer_call_set_limits_sync(f->manager, "game", MIB(600), MIB(500),
                                                        NULL, &error));
    assert_error(error, ERR "InvalidArgs");
    g_clear_error(&error);
    g_assert_false(mb_mem_balancer_call_set_limits_sync(f->manager, "game", MIB(300),
                                                        MIB(64 * 1024), NULL, &error));
    assert_error(error, ERR "InvalidArgs");
    g_assert_nonnull(strstr(error->message, "maximum memory of domain"));
    g_clear_error(&error);
    g_assert_false(mb_mem_balancer_call_set_limits_sync(f->manager, "absent", MIB(300),
                                                        MIB(500), NULL, &error));
    assert_error(error, ERR "NoSuchVM");
    g_clear_error(&error);
    g_assert_false(
        mb_mem_balancer_call_set_limits_sync(f->manager, "", MIB(300), MIB(500), NULL, &error));
    assert_error(error, ERR "InvalidArgs");
    g_clear_error(&error);
    after = settings_snapshot(f);
    g_assert_cmpstr(before, ==, after);

    /* Stored. */
    restart(f);
    g_free(after);
    after = settings_snapshot(f);
    g_assert_nonnull(strstr(after, "vm/game game 80 0 307200 1048576"));
    g_hash_table_unref(seen.seen);
}

static void
test_clear_foreground(Fixture *f, gconstpointer data)
{
    g_autofree char *path =
        register_vm(f, "game", 80, one_option("foreground", g_variant_new_boolean(TRUE)));
    g_autoptr(MbMemBalancerVM) game = vm_proxy(f, path);
    g_autoptr(GError) error = NULL;
    g_autofree char *snapshot = NULL;
    PropChanges seen = {0, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};

    g_assert_true(mb_mem_balancer_vm_get_foreground(game));
    g_signal_connect(game, "g-properties-changed", G_CALLBACK(changes_on_props_changed), &seen);
    g_assert_true(mb_mem_balancer_call_clear_foreground_sync(f->manager, NULL, &error));
    g_assert_no_error(error);
    wait_change(&seen, "Foreground");
    g_assert_false(mb_mem_balancer_vm_get_foreground(game));
    g_signal_handlers_disconnect_by_data(game, &seen);
    /* Again, with none: no error. */
    g_assert_true(mb_mem_balancer_call_clear_foreground_sync(f->manager, NULL, &error));
    g_assert_no_error(error);

    restart(f);
    snapshot = settings_snapshot(f);
    g_assert_nonnull(strstr(snapshot, "vm/game game 80 0 "));
    g_hash_table_unref(seen.seen);
}

static char *
register_or_update(Fixture *f, const char *name, guint priority, GVariant *options,
                   GError **error)
{
    char *path = NULL;

    if (options == NULL)
        options = g_variant_new("a{sv}", NULL);
    mb_mem_balancer_call_register_or_update_vm_sync(f->manager, name, priority, options, &path,
                                                    NULL, error);
    return path;
}

static void
test_register_or_update(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *first = NULL, *second = NULL, *third = NULL, *snapshot = NULL;
    g_autofree char *before = NULL, *after = NULL;
    g_autoptr(MbMemBalancerVM) game = NULL;
    PropChanges seen = {0, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};

    /* Not registered: registers. */
    first = register_or_update(f, "game", 80, min_max(MIB(300), MIB(1024)), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(first, ==, "/org/smarttv/MemBalancer/vm/game");
    g_free(register_vm(f, "web", 20, one_option("foreground", g_variant_new_boolean(TRUE))));
    game = vm_proxy(f, first);
    g_signal_connect(game, "g-properties-changed", G_CALLBACK(changes_on_props_changed), &seen);

    /* Registered: updated, same path; a limit not given is kept. */
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "min-kib", g_variant_new_uint64(MIB(400)));
    g_variant_builder_add(&b, "{sv}", "foreground", g_variant_new_boolean(TRUE));
    second = register_or_update(f, "game", 60, g_variant_builder_end(&b), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(second, ==, first);
    wait_change(&seen, "Priority");
    wait_change(&seen, "MinKiB");
    wait_change(&seen, "Foreground");
    g_assert_cmpuint(mb_mem_balancer_vm_get_priority(game), ==, 60);
    g_assert_cmpuint(mb_mem_balancer_vm_get_min_kib(game), ==, MIB(400));
    g_assert_cmpuint(mb_mem_balancer_vm_get_max_kib(game), ==, MIB(1024));
    g_assert_true(mb_mem_balancer_vm_get_foreground(game));
    g_signal_handlers_disconnect_by_data(game, &seen);
    snapshot = settings_snapshot(f);
    g_assert_nonnull(strstr(snapshot, "vm/web web 20 0 ")); /* lost the flag */

    /* Refused as RegisterVM refuses; nothing changes. */
    before = settings_snapshot(f);
    g_assert_null(register_or_update(f, "game", 101, NULL, &error));
    assert_error(error, ERR "InvalidArgs");
    g_clear_error(&error);
    g_assert_null(register_or_update(
        f, "game", 60, one_option("max-kib", g_variant_new_uint64(MIB(100))), &error));
    assert_error(error, ERR "InvalidArgs");
    g_clear_error(&error);
    g_assert_null(register_or_update(f, "game", 60,
                                     one_option("bogus", g_variant_new_uint32(1)), &error));
    assert_error(error, ERR "InvalidArgs");
    g_clear_error(&error);
    g_assert_null(register_or_update(f, "", 60, NULL, &error));
    assert_error(error, ERR "InvalidArgs");
    g_clear_error(&error);
    after = settings_snapshot(f);
    g_assert_cmpstr(before, ==, after);

    /* After a restart, the client's same call at its start succeeds. */
    restart(f);
    third = register_or_update(f, "game", 60, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(third, ==, first);
    g_free(after);
    after = settings_snapshot(f);
    g_assert_nonnull(strstr(after, "vm/game game 60 1 409600 1048576"));
    g_hash_table_unref(seen.seen);
}

/* Clients starting at once, each registering the same VM through the
 * hypervisor lookup: every one succeeds, none is refused. */
static void
test_register_or_update_race(Fixture *f, gconstpointer data)
{
    MbTestRace race = {0};
    g_autofree char *snapshot = NULL;

    mb_test_race(f, "RegisterOrUpdateVM", 20, &race);
    g_assert_cmpstr(race.first_other, ==, NULL);
    g_assert_cmpuint(race.already, ==, 0);
    g_assert_cmpuint(race.ok, ==, 20);
    snapshot = settings_snapshot(f);
    g_assert_nonnull(strstr(snapshot, "vm/contended contended "));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    (void)mb_service_error_quark();
    ADD_BUS_TEST("set-limits", test_set_limits, mb_test_fast_args);
    ADD_BUS_TEST("clear-foreground", test_clear_foreground, mb_test_fast_args);
    ADD_BUS_TEST("register-or-update", test_register_or_update, mb_test_fast_args);
    ADD_BUS_TEST("register-or-update-race", test_register_or_update_race, mb_test_fast_args);
    return g_test_run();
}
