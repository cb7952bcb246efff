/* The examples of docs/app-developers.md, run as an app developer would
 * run them: the app store (Python, PyGObject through the typelib) and the
 * gjs script, against the real membalancerd on a private bus. */
#include <string.h>

#include "lib-test.h"

/* Runs an example (as nobody when unprivileged) with the build's
 * typelib and library; returns its exit status. */
static int
run_example(gboolean unprivileged, const char *const *args, char **out, char **err)
{
    gboolean interpreted = !g_str_has_prefix(args[0], MB_TEST_BUILD_ROOT);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    int status;

    g_ptr_array_add(argv, (gpointer) "env");
    /* A sanitized library in an uninstrumented interpreter: ASan's runtime
     * must come first; the interpreter's own allocations are not ours. */
    if (interpreted && MB_TEST_ASAN_PRELOAD[0] != '\0') {
        g_ptr_array_add(argv, (gpointer) "LD_PRELOAD=" MB_TEST_ASAN_PRELOAD);
        g_ptr_array_add(argv, (gpointer) "ASAN_OPTIONS=detect_leaks=0");
    }
    for (gsize i = 0; args[i] != NULL; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    status = mb_test_run(unprivileged, (const char *const *)argv->pdata, out, err);
    g_test_message("%s: exit %d\nstdout: %s\nstderr: %s", args[1], status, *out, *err);
    return status;
}

static int
app_store(LibFixture *f, gboolean unprivileged, const char *command, const char *manifest,
          char **out, char **err)
{
    g_autofree char *script =
        g_build_filename(MB_TEST_EXAMPLES_DIR, "membalancer-app-store.py", NULL);
    const char *const args[] = {MB_TEST_PYTHON, script,   "--address", f->bus->address,
                                command,        manifest, NULL};

    return run_example(unprivileged, args, out, err);
}

static char *
manifest(LibFixture *f, const char *name, const char *json)
{
    return mb_test_write_file(f->bus->dir, name, json);
}

static void
test_app_store(LibFixture *f, gconstpointer data)
{
    g_autofree char *game = g_build_filename(MB_TEST_EXAMPLES_DIR, "space-game.json", NULL);
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(MembalancerVm) vm = NULL;

    /* Installed: the VM is registered as the manifest says. */
    g_assert_cmpint(app_store(f, FALSE, "install", game, &out, &err), ==, 0);
    g_assert_cmpstr(out, ==,
                    "Installed Space Game: VM tv-game registered with the memory balancer "
                    "(priority 80, memory 256 MiB to 1024 MiB)\n");
    mb_test_run_for(200);
    vm = membalancer_client_lookup_vm(f->client, "tv-game");
    g_assert_nonnull(vm);
    g_assert_cmpuint(membalancer_vm_get_priority(vm), ==, 80);
    g_assert_cmpuint(membalancer_vm_get_min_kib(vm), ==, 256 * 1024);
    g_assert_cmpuint(membalancer_vm_get_max_kib(vm), ==, 1024 * 1024);
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(app_store(f, FALSE, "list", NULL, &out, &err), ==, 0);
    g_assert_true(g_str_has_prefix(out, "tv-game\tpriority 80\t"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    /* Twice: said as a person would want to read it. */
    g_assert_cmpint(app_store(f, FALSE, "install", game, &out, &err), ==, 1);
    g_assert_cmpstr(err, ==,
                    "membalancer-app-store: cannot install Space Game: Space Game is already "
                    "installed: its VM tv-game is registered with the memory balancer\n");
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    /* Not as nobody: the service refuses, the store says who may. */
    g_assert_cmpint(app_store(f, TRUE, "remove", game, &out, &err), ==, 1);
    g_assert_nonnull(strstr(err, "this user may not change the memory balancer's settings"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    /* Removed: the VM is unregistered; removing again says it is not installed. */
    g_assert_cmpint(app_store(f, FALSE, "remove", game, &out, &err), ==, 0);
    g_assert_cmpstr(out, ==, "Removed Space Game: VM tv-game is no longer balanced\n");
    mb_test_run_for(200);
    g_clear_object(&vm);
    g_assert_null(membalancer_client_lookup_vm(f->client, "tv-game"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(app_store(f, FALSE, "remove", game, &out, &err), ==, 1);
    g_assert_cmpstr(err, ==,
                    "membalancer-app-store: cannot remove Space Game: Space Game is not "
                    "installed: no VM named tv-game is registered with the memory balancer\n");
}

static void
test_app_store_manifests(LibFixture *f, gconstpointer data)
{
    static const struct {
        const char *json;
        int status;
        const char *says;
    } cases[] = {
        {"{\"vm\": \"tv-web\", \"priority\": 150}", 2, "\"priority\" must be from 0 to 100"},
        {"{\"vm\": \"tv-web\", \"qos\": \"urgent\"}", 2, "\"qos\" must be one of background"},
        {"{\"app\": \"Web\"}", 2, "\"vm\" is missing"},
        {"{\"vm\": \"tv-web\",", 2, "not valid JSON (line 1"},
        {"{\"vm\": \"tv-web\", \"memory\": {\"min_mib\": \"lots\"}}", 2,
         "\"memory.min_mib\" must be a whole number of MiB"},
        /* The service's own check, in its words. */
        {"{\"app\": \"Web\", \"vm\": \"tv-web\", \"memory\": {\"min_mib\": 900, \"max_mib\": "
         "300}}",
         1, "cannot install Web: the memory balancer refused the manifest of Web: "},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *name = g_strdup_printf("bad-%zu.json", i);
        g_autofree char *path = manifest(f, name, cases[i].json);
        g_autofree char *out = NULL, *err = NULL;

        g_assert_cmpint(app_store(f, FALSE, "install", path, &out, &err), ==, cases[i].status);
        g_assert_nonnull(strstr(err, cases[i].says));
        g_assert_null(strstr(err, "Traceback"));
    }
    g_assert_null(membalancer_client_get_vms(f->client));
}

/* No service: the store says so and how to start it. */
static void
test_app_store_not_running(LibFixture *f, gconstpointer data)
{
    g_autofree char *game = g_build_filename(MB_TEST_EXAMPLES_DIR, "space-game.json", NULL);
    g_autofree char *out = NULL, *err = NULL;

    g_assert_cmpint(app_store(f, FALSE, "install", game, &out, &err), ==, 1);
    g_assert_cmpstr(err, ==,
                    "membalancer-app-store: cannot install Space Game: the memory balancer "
                    "service is not running (start it with: systemctl start membalancer)\n");
}

/* register-vm.c, .vala and .js: the same program in C, Vala and gjs. */
static void
register_vm_example(LibFixture *f, const char *const *command)
{
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
    g_auto(GStrv) add = NULL;
    g_auto(GStrv) remove = NULL;
    g_autofree char *out = NULL, *err = NULL;

    g_strv_builder_addv(builder, (const char **)command);
    g_strv_builder_add_many(builder, "--address", f->bus->address, NULL);
    remove = g_strv_builder_end(builder);
    g_strv_builder_addv(builder, (const char **)remove);
    g_strv_builder_add_many(builder, "tv-web", "30", NULL);
    add = g_strv_builder_end(builder);
    g_strv_builder_addv(builder, (const char **)remove);
    g_strv_builder_add_many(builder, "--remove", "tv-web", NULL);
    g_strfreev(remove);
    remove = g_strv_builder_end(builder);

    g_assert_cmpint(run_example(FALSE, (const char *const *)add, &out, &err), ==, 0);
    g_assert_cmpstr(out, ==,
                    "tv-web registered at /org/smarttv/MemBalancer/vm/tv_2dweb, priority 30, "
                    "at least 256 MiB\n");
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(run_example(FALSE, (const char *const *)add, &out, &err), ==, 1);
    g_assert_cmpstr(err, ==, "tv-web is already registered\n");
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    /* Not as nobody: the service's refusal, in its words. */
    g_assert_cmpint(run_example(TRUE, (const char *const *)remove, &out, &err), ==, 1);
    g_assert_true(g_str_has_prefix(err, "cannot do it: "));
    g_assert_nonnull(strstr(err, "may not call UnregisterVM"));
    g_assert_null(strstr(err, "GDBus.Error"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(run_example(FALSE, (const char *const *)remove, &out, &err), ==, 0);
    g_assert_cmpstr(out, ==, "tv-web unregistered\n");
    mb_test_run_for(200);
    g_assert_null(membalancer_client_get_vms(f->client));
}

static void
test_c(LibFixture *f, gconstpointer data)
{
    const char *const command[] = {MB_TEST_REGISTER_VM, NULL};

    register_vm_example(f, command);
}

#ifdef MB_TEST_REGISTER_VM_VALA
static void
test_vala(LibFixture *f, gconstpointer data)
{
    const char *const command[] = {MB_TEST_REGISTER_VM_VALA, NULL};

    register_vm_example(f, command);
}
#endif

static void
test_gjs(LibFixture *f, gconstpointer data)
{
    g_autofree char *script = g_build_filename(MB_TEST_EXAMPLES_DIR, "register-vm.js", NULL);
    const char *const command[] = {"gjs", "-m", script, NULL};

    register_vm_example(f, command);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD_LIB_TEST("examples/c", test_c, lib_fast_args);
#ifdef MB_TEST_REGISTER_VM_VALA
    ADD_LIB_TEST("examples/vala", test_vala, lib_fast_args);
#endif
    if (MB_TEST_HAVE_GI) {
        ADD_LIB_TEST("examples/app-store", test_app_store, lib_fast_args);
        ADD_LIB_TEST("examples/app-store-manifests", test_app_store_manifests, lib_fast_args);
        ADD_LIB_TEST("examples/app-store-not-running", test_app_store_not_running, NULL);
    }
    if (MB_TEST_HAVE_GJS)
        ADD_LIB_TEST("examples/gjs", test_gjs, lib_fast_args);
    return g_test_run();
}
