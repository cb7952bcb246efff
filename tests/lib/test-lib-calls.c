/* libmembalancer's calls against the real membalancerd on a private bus:
 * register (also with the bus's options), unregister, priority, foreground, pause, resume,
 * rebalance, in their asynchronous and blocking forms, with the signals they cause and the
 * service's errors in MEMBALANCER_ERROR. */
#include <string.h>

#include "lib-test.h"

#include "mb-names.h"

static MembalancerVm *
register_async(LibFixture *f, const char *name, guint priority, guint64 min_kib,
               guint64 max_kib, gboolean foreground, GError **error)
{
    g_autoptr(GAsyncResult) result = NULL;

    membalancer_client_register_vm(f->client, name, priority, min_kib, max_kib, foreground,
                                   NULL, lib_keep_result, &result);
    return membalancer_client_register_vm_finish(f->client, lib_wait_result(&result), error);
}

static void
on_vm_added(MembalancerClient *client, MembalancerVm *vm, gpointer user_data)
{
    g_ptr_array_add(user_data, g_object_ref(vm));
}

/* VmCount, as the getter reads it, counts both VMs registered. */
static gboolean
has_two_vms(gpointer client)
{
    return membalancer_client_get_vm_count(client) == 2;
}

static void
test_register(LibFixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func(g_object_unref);
    g_autoptr(MembalancerVm) game = NULL;
    g_autoptr(MembalancerVm) web = NULL;
    g_autoptr(MembalancerVm) found = NULL;
    g_autofree char *name = NULL;
    g_autofree char *path = NULL;
    GList *vms;
    guint count_changes = 0;
    guint priority = 0;

    g_signal_connect(f->client, "vm-added", G_CALLBACK(on_vm_added), added);
    g_signal_connect(f->client, "notify::vm-count", G_CALLBACK(lib_count), &count_changes);
    game = register_async(f, "tv-game", 80, 300 * 1024, 600 * 1024, TRUE, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(added->len, ==, 1);
    g_assert_true(added->pdata[0] == game);
    g_assert_cmpstr(membalancer_vm_get_name(game), ==, "tv-game");
    g_assert_cmpuint(membalancer_vm_get_priority(game), ==, 80);
    g_assert_true(membalancer_vm_get_foreground(game));
    g_assert_cmpuint(membalancer_vm_get_min_kib(game), ==, 300 * 1024);
    g_assert_cmpuint(membalancer_vm_get_max_kib(game), ==, 600 * 1024);
    g_assert_cmpstr(membalancer_vm_get_object_path(game), ==,
                    MB_VM_OBJECT_PATH_PREFIX "tv_2dgame");
    g_object_get(game, "name", &name, "object-path", &path, "priority", &priority, NULL);
    g_assert_cmpstr(name, ==, "tv-game");
    g_assert_cmpstr(path, ==, membalancer_vm_get_object_path(game));
    g_assert_cmpuint(priority, ==, 80);

    /* Blocking: the VM object is there at once, and announced once. */
    web =
        membalancer_client_register_vm_sync(f->client, "tv-web", 20, 0, 0, FALSE, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(added->len, ==, 2);
    g_assert_true(added->pdata[1] == web);
    g_assert_cmpstr(membalancer_vm_get_name(web), ==, "tv-web");
    g_assert_false(membalancer_vm_get_foreground(web));
    g_assert_cmpuint(membalancer_vm_get_min_kib(web), >, 0);
    mb_test_run_for(300);
    g_assert_cmpuint(added->len, ==, 2);

    found = membalancer_client_lookup_vm(f->client, "tv-web");
    g_assert_true(found == web);
    g_assert_null(membalancer_client_lookup_vm(f->client, "tv-nothing"));
    vms = membalancer_client_get_vms(f->client);
    g_assert_cmpuint(g_list_length(vms), ==, 2);
    g_list_free_full(vms, g_object_unref);
    g_assert_true(lib_wait_count(&count_changes, 1));
    g_assert_true(mb_test_wait_for(has_two_vms, f->client, 1000));
    g_assert_true(mb_test_wait_for((gboolean(*)(gpointer))membalancer_client_get_running,
                                   f->client, 1000));
    g_signal_handlers_disconnect_by_data(f->client, added);
    g_signal_handlers_disconnect_by_data(f->client, &count_changes);
}

static void
assert_service_error(GError *error, int code)
{
    g_assert_error(error, MEMBALANCER_ERROR, code);
    /* The service's message, without the D-Bus error name. */
    g_assert_cmpuint(strlen(error->message), >, 0);
    g_assert_null(strstr(error->message, "GDBus.Error"));
    g_assert_null(strstr(error->message, MB_ERROR_NAME_PREFIX));
}

static void
test_errors(LibFixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(MembalancerVm) vm = membalancer_client_register_vm_sync(
        f->client, "tv-game", 50, 0, 0, FALSE, NULL, &error);

    g_assert_no_error(error);
    g_assert_null(register_async(f, "tv-game", 50, 0, 0, FALSE, &error));
    assert_service_error(error, MEMBALANCER_ERROR_ALREADY_REGISTERED);
    g_clear_error(&error);
    g_assert_null(membalancer_client_register_vm_sync(f->client, "tv-game", 50, 0, 0, FALSE,
                                                      NULL, &error));
    assert_service_error(error, MEMBALANCER_ERROR_ALREADY_REGISTERED);
    g_clear_error(&error);
    g_assert_null(register_async(f, "tv-web", 101, 0, 0, FALSE, &error));
    assert_service_error(error, MEMBALANCER_ERROR_INVALID_ARGS);
    g_clear_error(&error);
    g_assert_null(register_async(f, "tv-web", 10, 600 * 1024, 300 * 1024, FALSE, &error));
    assert_service_error(error, MEMBALANCER_ERROR_INVALID_ARGS);
    g_clear_error(&error);
    g_assert_null(register_async(f, "", 10, 0, 0, FALSE, &error));
    assert_service_error(error, MEMBALANCER_ERROR_INVALID_ARGS);
    g_clear_error(&error);

    g_assert_false(membalancer_client_unregister_vm_sync(f->client, "tv-web", NULL, &error));
    assert_service_error(error, MEMBALANCER_ERROR_NO_SUCH_VM);
    g_clear_error(&error);
    membalancer_client_unregister_vm(f->client, "tv-web", NULL, lib_keep_result, &result);
    g_assert_false(
        membalancer_client_unregister_vm_finish(f->client, lib_wait_result(&result), &error));
    assert_service_error(error, MEMBALANCER_ERROR_NO_SUCH_VM);
    g_clear_error(&error);
    g_clear_object(&result);
    membalancer_client_set_priority(f->client, "tv-web", 10, NULL, lib_keep_result, &result);
    g_assert_false(
        membalancer_client_set_priority_finish(f->client, lib_wait_result(&result), &error));
    assert_service_error(error, MEMBALANCER_ERROR_NO_SUCH_VM);
    g_clear_error(&error);
    g_clear_object(&result);
    g_assert_false(
        membalancer_client_set_priority_sync(f->client, "tv-game", 101, NULL, &error));
    assert_service_error(error, MEMBALANCER_ERROR_INVALID_ARGS);
    g_clear_error(&error);
    membalancer_client_set_foreground(f->client, "tv-web", NULL, lib_keep_result, &result);
    g_assert_false(
        membalancer_client_set_foreground_finish(f->client, lib_wait_result(&result), &error));
    assert_service_error(error, MEMBALANCER_ERROR_NO_SUCH_VM);
    g_clear_error(&error);
    g_assert_false(membalancer_client_set_foreground_sync(f->client, "tv-web", NULL, &error));
    assert_service_error(error, MEMBALANCER_ERROR_NO_SUCH_VM);
    /* A failed call changed nothing. */
    g_assert_cmpuint(membalancer_vm_get_priority(vm), ==, 50);
    g_assert_null(membalancer_client_lookup_vm(f->client, "tv-web"));
}

static void
test_settings(LibFixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(MembalancerVm) game = register_async(f, "tv-game", 50, 0, 0, TRUE, &error);
    g_autoptr(MembalancerVm) web = register_async(f, "tv-web", 50, 0, 0, FALSE, &error);
    guint game_priority = 0, web_fg = 0, game_fg = 0, paused = 0;

    g_assert_no_error(error);
    g_signal_connect(game, "notify::priority", G_CALLBACK(lib_count), &game_priority);
    g_signal_connect(game, "notify::foreground", G_CALLBACK(lib_count), &game_fg);
    g_signal_connect(web, "notify::foreground", G_CALLBACK(lib_count), &web_fg);
    membalancer_client_set_priority(f->client, "tv-game", 90, NULL, lib_keep_result, &result);
    g_assert_true(
        membalancer_client_set_priority_finish(f->client, lib_wait_result(&result), &error));
    g_assert_no_error(error);
    g_clear_object(&result);
    g_assert_true(lib_wait_count(&game_priority, 1));
    g_assert_cmpuint(membalancer_vm_get_priority(game), ==, 90);
    g_assert_true(membalancer_client_set_priority_sync(f->client, "tv-game", 0, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(lib_wait_count(&game_priority, 2));
    g_assert_cmpuint(membalancer_vm_get_priority(game), ==, 0);

    membalancer_client_set_foreground(f->client, "tv-web", NULL, lib_keep_result, &result);
    g_assert_true(
        membalancer_client_set_foreground_finish(f->client, lib_wait_result(&result), &error));
    g_assert_no_error(error);
    g_clear_object(&result);
    g_assert_true(lib_wait_count(&web_fg, 1));
    g_assert_true(lib_wait_count(&game_fg, 1));
    g_assert_true(membalancer_vm_get_foreground(web));
    g_assert_false(membalancer_vm_get_foreground(game));
    g_assert_true(membalancer_client_set_foreground_sync(f->client, "tv-game", NULL, &error));
    g_assert_no_error(error);
    g_assert_true(lib_wait_count(&game_fg, 2));
    g_assert_true(membalancer_vm_get_foreground(game));

    g_signal_connect(f->client, "notify::paused", G_CALLBACK(lib_count), &paused);
    membalancer_client_pause(f->client, NULL, lib_keep_result, &result);
    g_assert_true(membalancer_client_pause_finish(f->client, lib_wait_result(&result), &error));
    g_assert_no_error(error);
    g_clear_object(&result);
    g_assert_true(lib_wait_count(&paused, 1));
    g_assert_true(membalancer_client_get_paused(f->client));
    g_assert_true(membalancer_client_resume_sync(f->client, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(lib_wait_count(&paused, 2));
    g_assert_false(membalancer_client_get_paused(f->client));
    g_assert_true(membalancer_client_pause_sync(f->client, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(lib_wait_count(&paused, 3));
    membalancer_client_resume(f->client, NULL, lib_keep_result, &result);
    g_assert_true(
        membalancer_client_resume_finish(f->client, lib_wait_result(&result), &error));
    g_assert_no_error(error);
    g_assert_true(lib_wait_count(&paused, 4));
    g_assert_false(membalancer_client_get_paused(f->client));
    g_signal_handlers_disconnect_by_data(game, &game_priority);
    g_signal_handlers_disconnect_by_data(game, &game_fg);
    g_signal_handlers_disconnect_by_data(web, &web_fg);
    g_signal_handlers_disconnect_by_data(f->client, &paused);
}

/* set_limits, clear_foreground, register_or_update_vm: both forms, the
 * notifications, the service's errors. */
static void
test_changes(LibFixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(MembalancerVm) game = NULL;
    g_autoptr(MembalancerVm) again = NULL;
    g_autoptr(MembalancerVm) web = NULL;
    guint min_changes = 0, fg_changes = 0;

    membalancer_client_register_or_update_vm(f->client, "tv-game", 50, 0, 0, TRUE, NULL,
                                             lib_keep_result, &result);
    game = membalancer_client_register_or_update_vm_finish(f->client, lib_wait_result(&result),
                                                           &error);
    g_assert_no_error(error);
    g_clear_object(&result);
    g_assert_true(membalancer_vm_get_foreground(game));
    g_signal_connect(game, "notify::min-kib", G_CALLBACK(lib_count), &min_changes);
    g_signal_connect(game, "notify::foreground", G_CALLBACK(lib_count), &fg_changes);

    membalancer_client_set_limits(f->client, "tv-game", 300 * 1024, 600 * 1024, NULL,
                                  lib_keep_result, &result);
    g_assert_true(
        membalancer_client_set_limits_finish(f->client, lib_wait_result(&result), &error));
    g_assert_no_error(error);
    g_clear_object(&result);
    g_assert_true(lib_wait_count(&min_changes, 1));
    g_assert_cmpuint(membalancer_vm_get_min_kib(game), ==, 300 * 1024);
    g_assert_cmpuint(membalancer_vm_get_max_kib(game), ==, 600 * 1024);
    g_assert_true(membalancer_client_set_limits_sync(f->client, "tv-game", 200 * 1024,
                                                     600 * 1024, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(lib_wait_count(&min_changes, 2));
    g_assert_cmpuint(membalancer_vm_get_min_kib(game), ==, 200 * 1024);
    g_assert_false(membalancer_client_set_limits_sync(f->client, "tv-game", 700 * 1024,
                                                      600 * 1024, NULL, &error));
    g_assert_error(error, MEMBALANCER_ERROR, MEMBALANCER_ERROR_INVALID_ARGS);
    g_clear_error(&error);
    g_assert_false(
        membalancer_client_set_limits_sync(f->client, "tv-web", 0, 600 * 1024, NULL, &error));
    g_assert_error(error, MEMBALANCER_ERROR, MEMBALANCER_ERROR_NO_SUCH_VM);
    g_clear_error(&error);

    membalancer_client_clear_foreground(f->client, NULL, lib_keep_result, &result);
    g_assert_true(membalancer_client_clear_foreground_finish(f->client,
                                                             lib_wait_result(&result), &error));
    g_assert_no_error(error);
    g_clear_object(&result);
    g_assert_true(lib_wait_count(&fg_changes, 1));
    g_assert_false(membalancer_vm_get_foreground(game));
    g_assert_true(membalancer_client_clear_foreground_sync(f->client, NULL, &error));
    g_assert_no_error(error);

    /* Registered: the same VM object, updated; a limit given as 0 is kept. */
    again = membalancer_client_register_or_update_vm_sync(f->client, "tv-game", 70, 0, 0, TRUE,
                                                          NULL, &error);
    g_assert_no_error(error);
    g_assert_true(again == game);
    g_assert_true(lib_wait_count(&fg_changes, 2));
    g_assert_true(membalancer_vm_get_foreground(game));
    g_assert_cmpuint(membalancer_vm_get_min_kib(game), ==, 200 * 1024);
    g_assert_cmpuint(membalancer_vm_get_max_kib(game), ==, 600 * 1024);
    g_assert_null(membalancer_client_register_or_update_vm_sync(f->client, "tv-game", 101, 0, 0,
                                                                FALSE, NULL, &error));
    g_assert_error(error, MEMBALANCER_ERROR, MEMBALANCER_ERROR_INVALID_ARGS);
    g_clear_error(&error);
    web = membalancer_client_register_or_update_vm_sync(f->client, "tv-web", 5, 0, 0, FALSE,
                                                        NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(membalancer_vm_get_name(web), ==, "tv-web");
    g_signal_handlers_disconnect_by_data(game, &min_changes);
    g_signal_handlers_disconnect_by_data(game, &fg_changes);
}

static void
on_rebalanced(MembalancerClient *client, GVariant *moves, gpointer user_data)
{
    g_assert_true(g_variant_is_of_type(moves, G_VARIANT_TYPE("a(sx)")));
    if (g_variant_n_children(moves) > 0)
        (*(guint *)user_data)++;
}

/* Paused, so that only the explicit calls move memory: a hungry game
 * next to a video player that holds page cache. */
static void
test_rebalance(LibFixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(MembalancerVm) game = NULL;
    g_autoptr(MembalancerVm) video = NULL;
    guint moved = 0;

    g_assert_true(membalancer_client_pause_sync(f->client, NULL, &error));
    g_assert_no_error(error);
    game = register_async(f, "tv-game", 80, 0, 0, TRUE, &error);
    video = register_async(f, "tv-video", 20, 0, 0, FALSE, &error);
    g_assert_no_error(error);
    g_signal_connect(f->client, "rebalanced", G_CALLBACK(on_rebalanced), &moved);
    for (guint i = 0; i < 200 && moved == 0; i++) {
        if (i % 2 == 0) {
            g_assert_true(membalancer_client_rebalance_sync(f->client, NULL, &error));
        } else {
            membalancer_client_rebalance(f->client, NULL, lib_keep_result, &result);
            g_assert_true(membalancer_client_rebalance_finish(
                f->client, lib_wait_result(&result), &error));
            g_clear_object(&result);
        }
        g_assert_no_error(error);
        mb_test_run_for(20);
    }
    g_assert_cmpuint(moved, >, 0);
    g_assert_cmpstr(membalancer_vm_get_last_reason(game), !=, "none");
    g_signal_handlers_disconnect_by_data(f->client, &moved);
}

static void
on_vm_removed(MembalancerClient *client, MembalancerVm *vm, gpointer user_data)
{
    g_ptr_array_add(user_data, g_object_ref(vm));
}

static gboolean
has_one(gpointer data)
{
    return ((GPtrArray *)data)->len >= 1;
}

static void
test_unregister(LibFixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func(g_object_unref);
    g_autoptr(MembalancerVm) game = register_async(f, "tv-game", 50, 0, 0, FALSE, &error);
    g_autoptr(MembalancerVm) web = register_async(f, "tv-web", 50, 0, 0, FALSE, &error);

    g_assert_no_error(error);
    g_signal_connect(f->client, "vm-removed", G_CALLBACK(on_vm_removed), removed);
    membalancer_client_unregister_vm(f->client, "tv-game", NULL, lib_keep_result, &result);
    g_assert_true(
        membalancer_client_unregister_vm_finish(f->client, lib_wait_result(&result), &error));
    g_assert_no_error(error);
    g_assert_true(mb_test_wait_for(has_one, removed, 10000));
    g_assert_cmpuint(removed->len, ==, 1);
    g_assert_true(removed->pdata[0] == game);
    g_assert_null(membalancer_client_lookup_vm(f->client, "tv-game"));
    g_ptr_array_set_size(removed, 0);
    g_assert_true(membalancer_client_unregister_vm_sync(f->client, "tv-web", NULL, &error));
    g_assert_no_error(error);
    g_assert_true(mb_test_wait_for(has_one, removed, 10000));
    g_assert_true(removed->pdata[0] == web);
    g_assert_null(membalancer_client_get_vms(f->client));
    /* The name is free again. */
    g_clear_object(&game);
    game = register_async(f, "tv-game", 60, 0, 0, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(membalancer_vm_get_priority(game), ==, 60);
    g_signal_handlers_disconnect_by_data(f->client, removed);
}

static GVariant *
options_of(const char *text)
{
    g_autoptr(GError) error = NULL;
    GVariant *options = g_variant_parse(G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);

    g_assert_no_error(error);
    return options;
}

static gboolean
game_updated(gpointer vm)
{
    return membalancer_vm_get_priority(vm) == 70 && membalancer_vm_get_max_kib(vm) == 716800;
}

/* register_vm_full passes the options as given and picks the method by
 * update; the service's refusals come back in MEMBALANCER_ERROR. */
static void
test_register_full(LibFixture *f, gconstpointer data)
{
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(MembalancerVm) game = NULL;
    g_autoptr(MembalancerVm) again = NULL;
    g_autoptr(MembalancerVm) refused = NULL;

    membalancer_client_register_vm_full(
        f->client, "tv-game", 60,
        options_of("{'min-kib': <uint64 204800>, 'foreground': <true>}"), FALSE, NULL,
        lib_keep_result, &result);
    game =
        membalancer_client_register_vm_full_finish(f->client, lib_wait_result(&result), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(membalancer_vm_get_name(game), ==, "tv-game");
    g_assert_cmpuint(membalancer_vm_get_priority(game), ==, 60);
    g_assert_cmpuint(membalancer_vm_get_min_kib(game), ==, 204800);
    g_assert_true(membalancer_vm_get_foreground(game));

    /* RegisterOrUpdateVM: the same VM, the maximum changed, the rest kept. */
    again = membalancer_client_register_vm_full_sync(f->client, "tv-game", 70,
                                                     options_of("{'max-kib': <uint64 716800>}"),
                                                     TRUE, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(again == game);
    /* The properties follow when the service's PropertiesChanged arrives. */
    g_assert_true(mb_test_wait_for(game_updated, game, 1000));
    g_assert_cmpuint(membalancer_vm_get_priority(game), ==, 70);
    g_assert_cmpuint(membalancer_vm_get_min_kib(game), ==, 204800);
    g_assert_cmpuint(membalancer_vm_get_max_kib(game), ==, 716800);

    /* RegisterVM refuses a registered name; an unknown option is refused. */
    refused = membalancer_client_register_vm_full_sync(
        f->client, "tv-game", 70, options_of("@a{sv} {}"), FALSE, NULL, &error);
    g_assert_null(refused);
    g_assert_error(error, MEMBALANCER_ERROR, MEMBALANCER_ERROR_ALREADY_REGISTERED);
    g_clear_error(&error);
    refused = membalancer_client_register_vm_full_sync(
        f->client, "tv-web", 10, options_of("{'colour': <'red'>}"), FALSE, NULL, &error);
    g_assert_null(refused);
    g_assert_error(error, MEMBALANCER_ERROR, MEMBALANCER_ERROR_INVALID_ARGS);
    g_assert_nonnull(strstr(error->message, "unknown option 'colour'"));
    g_assert_null(membalancer_client_lookup_vm(f->client, "tv-web"));
}

static const char *const scenario_args[] = {"--config", NULL, NULL};

int
main(int argc, char **argv)
{
    g_autofree char *config_dir = NULL;
    g_autofree char *config = NULL;
    const char *rebalance_args[3];
    int status;

    g_test_init(&argc, &argv, NULL);
    /* The TV of the service's scenario test: a game, a video player. */
    config_dir = mb_test_make_dir("mb-lib-XXXXXX");
    config = mb_test_write_file(config_dir, "tv.conf",
                                "[membalancer]\ninterval=100\n"
                                "[fake]\nalloc=512MiB\nmax=2GiB\ntv-game=game\n"
                                "tv-video=video-playback\n");
    memcpy(rebalance_args, scenario_args, sizeof(rebalance_args));
    rebalance_args[1] = config;
    ADD_LIB_TEST("calls/register", test_register, lib_fast_args);
    ADD_LIB_TEST("calls/register-full", test_register_full, lib_fast_args);
    ADD_LIB_TEST("calls/errors", test_errors, lib_fast_args);
    ADD_LIB_TEST("calls/settings", test_settings, lib_fast_args);
    ADD_LIB_TEST("calls/changes", test_changes, lib_fast_args);
    ADD_LIB_TEST("calls/rebalance", test_rebalance, rebalance_args);
    ADD_LIB_TEST("calls/unregister", test_unregister, lib_fast_args);
    status = g_test_run();
    mb_test_rm_rf(config_dir);
    return status;
}
