/* membalancerctl shows the VM's State and the service's Connected, as the
 * panel does: list, --kib, --json, status, info and watch, against the real
 * membalancerd on libvirt's test driver. */
#include <glib/gstdio.h>
#include <string.h>

#include "mb-daemon.h"
#include "mb-dbus-generated.h"
#include "mb-error.h"
#include "mb-test-ctl.h"
#include "mb-test-service.h"

/* ---- State and Connected ----------------------------------------------------- */

/* libvirt's test driver read from a file, in the daemon's own process:
 * tv-on runs, tv-off is defined and shut off (runstate 5). */
static const char node_xml[] =
    "<node>"
    "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
    "<name>tv-on</name><memory unit='KiB'>1048576</memory>"
    "<currentMemory unit='KiB'>524288</currentMemory><os><type>hvm</type></os>"
    "<devices><memballoon model='virtio'/></devices></domain>"
    "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
    "<name>tv-off</name><memory unit='KiB'>1048576</memory>"
    "<currentMemory unit='KiB'>524288</currentMemory><os><type>hvm</type></os>"
    "<devices><memballoon model='virtio'/></devices><test:runstate>5</test:runstate>"
    "</domain></node>";

static gboolean
vm_is_offline(gpointer vm)
{
    return g_strcmp0(mb_mem_balancer_vm_get_state(vm), "offline") == 0;
}

/* The line of out that starts with name and a space. */
static char *
row_of(const char *out, const char *name)
{
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);

    for (gsize i = 0; lines[i] != NULL; i++) {
        if (g_str_has_prefix(lines[i], name) && lines[i][strlen(name)] == ' ')
            return g_strdup(lines[i]);
    }
    g_test_message("no row %s in:\n%s", name, out);
    g_assert_not_reached();
}

/* The VM objects of list --json by name. */
static JsonObject *
json_vm(JsonNode *root, const char *name)
{
    JsonArray *array = json_node_get_array(root);

    for (guint i = 0; i < json_array_get_length(array); i++) {
        JsonObject *vm = json_array_get_object_element(array, i);
        if (g_strcmp0(json_object_get_string_member(vm, "name"), name) == 0)
            return vm;
    }
    g_assert_not_reached();
}

static char *
ctl_out(Fixture *f, const char *command, const char *arg, const char *option)
{
    const char *const argv[] = {
        mb_test_ctl_path(), "--address", f->bus->address, command, arg, option, NULL};

    return run_ok(FALSE, argv);
}

/* Starts the daemon on the test driver read from node.xml in the test's
 * directory (written first when write is TRUE); returns that file's path. */
static char *
start_on_test_driver(Fixture *f, gboolean write)
{
    g_autofree char *node = g_build_filename(f->bus->dir, "node.xml", NULL);
    g_autofree char *uri = g_strconcat("test://", node, NULL);
    const char *const args[] = {"--backend", "libvirt", "--libvirt-uri", uri, "--interval-ms",
                                "100",       NULL};

    if (write)
        g_free(mb_test_write_file(f->bus->dir, "node.xml", node_xml));
    fixture_start(f, args);
    return g_steal_pointer(&node);
}

/* An offline VM says so (its ALLOC 0 is not a VM starved), in every form. */
static void
test_ctl_state(Fixture *f, gconstpointer data)
{
    g_autofree char *node = start_on_test_driver(f, TRUE);
    g_autofree char *off_path = NULL, *out = NULL, *row = NULL;
    g_autoptr(MbMemBalancerVM) off = NULL;
    g_autoptr(JsonNode) root = NULL;

    g_free(register_vm(f, "tv-on", 60, NULL));
    off_path = register_vm(f, "tv-off", 40, NULL);
    off = vm_proxy(f, off_path);
    g_assert_true(vm_is_offline(off) || mb_test_wait_for(vm_is_offline, off, 5000));

    out = ctl_out(f, "list", NULL, NULL);
    g_test_message("%s", out);
    row = row_of(out, "tv-off");
    g_assert_true(g_regex_match_simple("^tv-off +40 +offline +0 KiB ", row, 0, 0));
    g_clear_pointer(&row, g_free);
    row = row_of(out, "tv-on");
    g_assert_true(g_regex_match_simple("^tv-on +60 +running +512\\.0 MiB ", row, 0, 0));
    g_clear_pointer(&row, g_free);
    g_clear_pointer(&out, g_free);

    out = ctl_out(f, "list", "--kib", NULL);
    row = row_of(out, "tv-off");
    g_assert_true(g_regex_match_simple("^tv-off +40 +offline +0 ", row, 0, 0));
    g_clear_pointer(&row, g_free);
    g_clear_pointer(&out, g_free);

    out = ctl_out(f, "list", "--json", NULL);
    root = mb_test_parse_json(out);
    g_assert_cmpstr(json_object_get_string_member(json_vm(root, "tv-off"), "state"), ==,
                    "offline");
    g_assert_cmpint(json_object_get_int_member(json_vm(root, "tv-off"), "allocated_kib"), ==,
                    0);
    g_assert_cmpstr(json_object_get_string_member(json_vm(root, "tv-on"), "state"), ==,
                    "running");
    g_clear_pointer(&root, json_node_unref);
    g_clear_pointer(&out, g_free);

    out = ctl_out(f, "status", "tv-off", NULL);
    g_test_message("%s", out);
    g_assert_nonnull(strstr(out, "\n  state:           offline (its domain is not running"));
    g_assert_nonnull(strstr(out, "\n  allocated:       0 KiB\n"));
    g_clear_pointer(&out, g_free);
    out = ctl_out(f, "status", "tv-off", "--json");
    root = mb_test_parse_json(out);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(root), "state"), ==,
                    "offline");
    g_clear_pointer(&root, json_node_unref);
    g_clear_pointer(&out, g_free);

    out = mb_test_run_watch(f, NULL, 1);
    row = row_of(strstr(out, "\nNAME ") + 1, "tv-off");
    g_assert_true(g_regex_match_simple("^tv-off +40 +offline +0 KiB ", row, 0, 0));
}

/* The hypervisor lost (the test driver's file gone as the daemon starts):
 * every form says so, not only the panel. */
static void
test_ctl_connected(Fixture *f, gconstpointer data)
{
    g_autofree char *node = start_on_test_driver(f, TRUE);
    static const char note[] = "\n(balancing is stopped: membalancerd cannot reach the "
                               "hypervisor and is reconnecting; nothing is moved meanwhile)\n";
    g_autofree char *out = NULL;
    g_autoptr(JsonNode) root = NULL;

    g_free(register_vm(f, "tv-on", 60, NULL));
    out = ctl_out(f, "list", NULL, NULL);
    g_assert_null(strstr(out, "(balancing"));
    g_clear_pointer(&out, g_free);
    fixture_stop(f);
    g_assert_cmpint(g_unlink(node), ==, 0);
    g_free(start_on_test_driver(f, FALSE));
    g_assert_false(mb_mem_balancer_get_connected(f->manager));

    out = ctl_out(f, "info", NULL, NULL);
    g_test_message("%s", out);
    g_assert_nonnull(strstr(out, "\nhypervisor: not connected: membalancerd is reconnecting; "
                                 "nothing is moved meanwhile\n"));
    g_clear_pointer(&out, g_free);
    out = ctl_out(f, "info", "--json", NULL);
    root = mb_test_parse_json(out);
    g_assert_false(json_object_get_boolean_member(json_node_get_object(root), "connected"));
    g_clear_pointer(&root, json_node_unref);
    g_clear_pointer(&out, g_free);

    out = ctl_out(f, "list", NULL, NULL);
    g_test_message("%s", out);
    g_assert_true(g_str_has_suffix(out, note));
    g_free(row_of(out, "tv-on"));
    g_clear_pointer(&out, g_free);
    /* Untranslated for scripts, and starting "(balancing" like the paused
     * note, which the shell completion skips. */
    out = ctl_out(f, "list", "--kib", NULL);
    g_assert_true(g_str_has_suffix(out, note));
    g_clear_pointer(&out, g_free);
    out = ctl_out(f, "list", "--json", NULL);
    root = mb_test_parse_json(out);
    g_assert_false(json_object_get_boolean_member(json_vm(root, "tv-on"), "connected"));
    g_clear_pointer(&root, json_node_unref);
    g_clear_pointer(&out, g_free);

    out = ctl_out(f, "status", "tv-on", NULL);
    g_test_message("%s", out);
    g_assert_nonnull(strstr(out, "\n  hypervisor:      not connected: "));
    g_clear_pointer(&out, g_free);
    out = ctl_out(f, "status", "tv-on", "--json");
    root = mb_test_parse_json(out);
    g_assert_false(json_object_get_boolean_member(json_node_get_object(root), "connected"));
    g_clear_pointer(&root, json_node_unref);
    g_clear_pointer(&out, g_free);

    out = mb_test_run_watch(f, NULL, 1);
    g_assert_nonnull(strstr(out, note));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    (void)mb_service_error_quark();
    ADD_BUS_TEST("ctl-state", test_ctl_state, NULL);
    ADD_BUS_TEST("ctl-connected", test_ctl_connected, NULL);
    return g_test_run();
}
