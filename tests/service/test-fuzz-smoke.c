/* A fuzz smoke run of the parsers of untrusted files: random mutations
 * of a state file and a config file. */

#include <string.h>

#include "mb-backend-fake.h"
#include "mb-config.h"
#include "mb-state-store.h"
#include "mb-vm-object.h"
#include "mb-test-bus.h"
#include "mb-test-unit.h"

/* A smoke run of the two parsers of outside input (config, state file):
 * random byte mutations never crash them, and each result is a value or
 * an error. */
static void
test_fuzz_smoke(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-fuzz-XXXXXX");
    g_autoptr(GError) error = NULL;
    g_autoptr(MbStateStore) store = mb_state_store_new(dir, &error);
    g_autoptr(MbState) state = mb_test_three_vms();
    g_autofree char *state_text = NULL;
    const char *config_text =
        "[membalancer]\npool=1536MiB\nreserve=64MiB\ninterval=250\nalpha=0.5\n"
        "policy=paper\nmin-step=8MiB\ngroup=tv\n[fake]\nalloc=256MiB\ntv-game=game\n";
    gsize state_len;

    g_assert_true(mb_state_store_save(store, state, &error));
    g_assert_true(
        g_file_get_contents(mb_state_store_get_path(store), &state_text, &state_len, NULL));
    for (guint round = 0; round < 2000; round++) {
        gboolean on_state = round % 2 == 0;
        g_autofree char *text = g_strdup(on_state ? state_text : config_text);
        gsize len = strlen(text);
        guint n = g_test_rand_int_range(1, 8);

        for (guint i = 0; i < n; i++) {
            gsize at = (gsize)g_test_rand_int_range(0, (gint32)len);
            static const char interesting[] = "=[]\n\\;#0-9\xff\x01 ";
            text[at] = g_test_rand_bit()
                           ? (char)g_test_rand_int_range(1, 256)
                           : interesting[g_test_rand_int_range(0, sizeof(interesting) - 1)];
        }
        if (on_state) {
            g_autoptr(MbState) loaded = NULL;
            g_assert_true(g_file_set_contents(mb_state_store_get_path(store), text, -1, NULL));
            loaded = mb_state_store_load(store, &error);
            if (loaded == NULL) {
                /* A mutated version: only a newer one is an error. */
                g_assert_nonnull(strstr(error->message, "written by a newer membalancer"));
                g_clear_error(&error);
                continue;
            }
            g_assert_no_error(error);
            for (guint i = 0; i < loaded->registrations->len; i++) {
                MbRegistration *reg = g_ptr_array_index(loaded->registrations, i);
                g_assert_true(mb_vm_name_validate(reg->name, NULL));
                g_assert_cmpuint(reg->priority, <=, MB_PRIORITY_MAX);
                g_assert_cmpuint(reg->min_kib, <=, reg->max_kib);
            }
        } else {
            g_autofree char *path = mb_test_write_file(dir, "fuzz.conf", text);
            g_autoptr(MbConfig) config = mb_config_new();
            g_autoptr(GError) config_error = NULL;
            if (mb_config_load_file(config, path, TRUE, &config_error)) {
                MbParams params;
                const char *why = NULL;
                mb_config_to_params(config, &params);
                /* pool 0 is "auto": the daemon adds the VMs' allocations to the reserve. */
                if (params.pool_kib == 0)
                    params.pool_kib = params.reserve_kib + 1536 * 1024;
                if (!mb_params_validate(&params, &why))
                    g_error("%s accepted, but the policy says: %s", text, why);
#ifdef MB_HAVE_FAKE_BACKEND
                /* The [fake] keys are the fake backend's: a value or an error there. */
                g_autoptr(MbFakeConfig) fake = mb_fake_config_new();
                if (!mb_fake_config_load(fake, config, &config_error)) {
                    g_assert_nonnull(config_error);
                    g_assert_true(g_str_has_prefix(config_error->message, path));
                }
#endif
            } else {
                g_assert_nonnull(config_error);
                g_assert_true(g_str_has_prefix(config_error->message, path));
            }
        }
    }
    mb_test_rm_rf(dir);
}

int
main(int argc, char **argv)
{
    mb_test_unit_init(&argc, &argv);
    g_test_add_func("/service/unit/fuzz-smoke", test_fuzz_smoke);
    return mb_test_unit_run();
}
