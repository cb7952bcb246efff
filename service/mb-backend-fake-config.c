/* The fake backend's own configuration: the [fake] group of
 * membalancer.conf (docs/man/membalancer.conf.5.rst, mb-backend-fake.c
 * say what each key does). The shared MbConfig keeps the group's keys as
 * given; they are parsed here, when the fake backend is built. */
#include "mb-backend-fake-config.h"

#include <string.h>

#include "mb-keyfile.h"

/* The longest time a [fake] key in milliseconds may give (an hour). */
#define MB_FAKE_MS_MAX 3600000u

MbFakeConfig *
mb_fake_config_new(void)
{
    MbFakeConfig *fake = g_new0(MbFakeConfig, 1);

    fake->workloads = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    fake->default_workload = NULL; /* the fake picks an idle-ish one */
    fake->alloc_kib = 512 * 1024;
    fake->max_kib = 2 * 1024 * 1024;
    fake->balloon_rate_kib = 0;
    fake->faults = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    fake->trace_path = NULL;
    fake->urgent =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
    fake->allocs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return fake;
}

void
mb_fake_config_free(MbFakeConfig *fake)
{
    if (fake == NULL)
        return;
    g_hash_table_unref(fake->workloads);
    g_free(fake->default_workload);
    g_hash_table_unref(fake->faults);
    g_hash_table_unref(fake->urgent);
    g_hash_table_unref(fake->allocs);
    g_free(fake->trace_path);
    g_free(fake);
}

/* [fake] fault.<vm> values; "silent-after:N" is parsed apart. */
static const struct {
    const char *name;
    MbFakeFaultFlags flag;
} fake_faults[] = {
    {"stuck", MB_FAKE_FAULT_STUCK},         {"fail-set", MB_FAKE_FAULT_FAIL_SET},
    {"lie-zero", MB_FAKE_FAULT_LIE_ZERO},   {"lie-huge", MB_FAKE_FAULT_LIE_HUGE},
    {"silent", MB_FAKE_FAULT_SILENT},       {"swap-storm", MB_FAKE_FAULT_SWAP_STORM},
    {"backwards", MB_FAKE_FAULT_BACKWARDS},
};

#define FAKE_FAULT_PREFIX "fault."
#define FAKE_URGENT_PREFIX "urgent."
#define FAKE_ALLOC_PREFIX "alloc."
#define FAKE_SILENT_AFTER "silent-after:"
#define FAKE_FAULTS_KNOWN                                                                      \
    "stuck, fail-set, lie-zero, lie-huge, silent, silent-after:N, swap-storm, backwards"

char *
mb_fake_fault_to_string(const MbFakeFault *fault)
{
    g_autoptr(GString) text = g_string_new(NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(fake_faults); i++) {
        if (!(fault->flags & fake_faults[i].flag))
            continue;
        if (text->len > 0)
            g_string_append_c(text, ',');
        if (fake_faults[i].flag == MB_FAKE_FAULT_SILENT && fault->silent_after_ticks > 0)
            g_string_append_printf(text, FAKE_SILENT_AFTER "%u", fault->silent_after_ticks);
        else
            g_string_append(text, fake_faults[i].name);
    }
    return g_string_free(g_steal_pointer(&text), FALSE);
}

static gboolean
parse_fake_fault(const char *value, MbFakeFault *out, const char *origin, const char *key,
                 GError **error)
{
    g_auto(GStrv) kinds = g_strsplit(value, ",", -1);

    *out = (MbFakeFault){0, 0};
    for (gsize i = 0; kinds[i] != NULL; i++) {
        const char *kind = g_strstrip(kinds[i]);
        guint flag = 0;

        if (g_str_has_prefix(kind, FAKE_SILENT_AFTER)) {
            guint64 ticks;
            if (!mb_keyfile_parse_uint(kind + strlen(FAKE_SILENT_AFTER), 0, G_MAXUINT, &ticks,
                                       origin, key, error))
                return FALSE;
            flag = MB_FAKE_FAULT_SILENT;
            out->silent_after_ticks = (guint)ticks;
        }
        for (gsize k = 0; flag == 0 && k < G_N_ELEMENTS(fake_faults); k++) {
            if (g_str_equal(kind, fake_faults[k].name))
                flag = fake_faults[k].flag;
        }
        if (flag == 0)
            return mb_keyfile_fail(error, origin, key,
                                   "unknown fault '%s' (use " FAKE_FAULTS_KNOWN ")", kind);
        if (out->flags & flag)
            return mb_keyfile_fail(error, origin, key, "fault '%s' given twice", kind);
        out->flags |= flag;
    }
    if ((out->flags & MB_FAKE_FAULT_LIE_ZERO) && (out->flags & MB_FAKE_FAULT_LIE_HUGE))
        return mb_keyfile_fail(error, origin, key,
                               "lie-zero and lie-huge contradict each other");
    if ((out->flags & MB_FAKE_FAULT_SWAP_STORM) && (out->flags & MB_FAKE_FAULT_BACKWARDS))
        return mb_keyfile_fail(error, origin, key,
                               "swap-storm and backwards contradict each other");
    return TRUE;
}

gboolean
mb_fake_config_set(MbFakeConfig *fake, const char *key, const char *value, const char *origin,
                   GError **error)
{
    g_autofree char *text = g_strstrip(g_strdup(value));

    if (g_str_equal(key, "alloc"))
        return mb_keyfile_parse_size(text, &fake->alloc_kib, origin, key, error);
    if (g_str_equal(key, "max"))
        return mb_keyfile_parse_size(text, &fake->max_kib, origin, key, error);
    if (g_str_equal(key, "default-workload"))
        return mb_keyfile_parse_name(text, &fake->default_workload, origin, key, error);
    if (g_str_equal(key, "balloon-rate") || g_str_equal(key, "balloon-grow-rate")) {
        guint64 rate_kib = 0;
        if (!g_str_equal(text, "instant") &&
            !mb_keyfile_parse_size(text, &rate_kib, origin, key, error))
            return FALSE;
        if (rate_kib != 0 && rate_kib < MB_FAKE_RATE_MIN_KIB)
            return mb_keyfile_fail(
                error, origin, key,
                "'%s' is too slow: use 0 or instant, or at least 1MiB (a size per "
                "interval)",
                text);
        if (g_str_equal(key, "balloon-grow-rate")) {
            fake->balloon_grow_rate_kib = rate_kib;
            fake->balloon_grow_rate_set = TRUE;
        } else {
            fake->balloon_rate_kib = rate_kib;
        }
        return TRUE;
    }
    if (g_str_equal(key, "trace"))
        return mb_keyfile_parse_name(text, &fake->trace_path, origin, key, error);
    if (g_str_equal(key, "balloon-release-ms")) {
        guint64 ms;
        if (!mb_keyfile_parse_uint(text, 0, MB_FAKE_MS_MAX, &ms, origin, key, error))
            return FALSE;
        fake->balloon_release_ms = (guint)ms;
        return TRUE;
    }
    if (g_str_has_prefix(key, FAKE_ALLOC_PREFIX)) {
        const char *vm_name = key + strlen(FAKE_ALLOC_PREFIX);
        guint64 kib;
        if (*vm_name == '\0')
            return mb_keyfile_fail(error, origin, key,
                                   "no VM name after '" FAKE_ALLOC_PREFIX "'");
        if (!mb_keyfile_parse_size(text, &kib, origin, key, error))
            return FALSE;
        if (kib == 0)
            return mb_keyfile_fail(error, origin, key, "must be above 0");
        g_hash_table_replace(fake->allocs, g_strdup(vm_name), g_memdup2(&kib, sizeof kib));
        return TRUE;
    }
    if (g_str_has_prefix(key, FAKE_FAULT_PREFIX)) {
        const char *vm_name = key + strlen(FAKE_FAULT_PREFIX);
        MbFakeFault fault;
        if (*vm_name == '\0')
            return mb_keyfile_fail(error, origin, key,
                                   "no VM name after '" FAKE_FAULT_PREFIX "'");
        if (*text == '\0')
            return mb_keyfile_fail(error, origin, key, "no fault (use " FAKE_FAULTS_KNOWN ")");
        if (!parse_fake_fault(text, &fault, origin, key, error))
            return FALSE;
        g_hash_table_replace(fake->faults, g_strdup(vm_name), g_memdup2(&fault, sizeof fault));
        return TRUE;
    }
    if (g_str_has_prefix(key, FAKE_URGENT_PREFIX)) {
        const char *vm_name = key + strlen(FAKE_URGENT_PREFIX);
        g_auto(GStrv) times = g_strsplit(text, ",", -1);
        g_autoptr(GArray) ms = g_array_new(FALSE, FALSE, sizeof(guint));
        g_autofree char *what =
            g_strdup_printf("%s (milliseconds after the guest appears, comma-separated)", key);
        if (*vm_name == '\0')
            return mb_keyfile_fail(error, origin, key,
                                   "no VM name after '" FAKE_URGENT_PREFIX "'");
        for (gsize i = 0; times[i] != NULL; i++) {
            guint64 t;
            guint value_ms;
            if (!mb_keyfile_parse_uint(g_strstrip(times[i]), 0, MB_FAKE_MS_MAX, &t, origin,
                                       what, error))
                return FALSE;
            value_ms = (guint)t;
            g_array_append_val(ms, value_ms);
        }
        g_hash_table_replace(fake->urgent, g_strdup(vm_name), g_steal_pointer(&ms));
        return TRUE;
    }
    /* Any other key maps a VM name to a workload of the simulator. */
    if (*text == '\0')
        return mb_keyfile_fail(error, origin, key, "empty workload name");
    g_hash_table_replace(fake->workloads, g_strdup(key), g_steal_pointer(&text));
    return TRUE;
}

gboolean
mb_fake_config_load(MbFakeConfig *fake, const MbConfig *config, GError **error)
{
    for (guint i = 0; i < config->backend_keys->len; i++) {
        const MbConfigKey *entry = g_ptr_array_index(config->backend_keys, i);

        if (g_str_equal(entry->group, MB_CONFIG_FAKE_GROUP) &&
            !mb_fake_config_set(fake, entry->key, entry->value, entry->origin, error))
            return FALSE;
    }
    return mb_fake_config_validate(fake, config->path != NULL ? config->path : "configuration",
                                   error);
}

gboolean
mb_fake_config_validate(const MbFakeConfig *fake, const char *origin, GError **error)
{
    if (fake->alloc_kib == 0 || fake->alloc_kib > fake->max_kib)
        return mb_keyfile_fail(error, origin, "[" MB_CONFIG_FAKE_GROUP "] alloc",
                               "must be above 0 and at most max");
    return TRUE;
}
