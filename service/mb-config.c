#include "mb-config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "mb-error.h"
#include "mb-keyfile.h"
#include "mb-size.h"

#ifndef MB_SYSCONFDIR
#define MB_SYSCONFDIR "/etc"
#endif
#ifndef MB_LOCALSTATEDIR
#define MB_LOCALSTATEDIR "/var/lib"
#endif

#define MB_INTERVAL_MS_MIN 10u
#define MB_INTERVAL_MS_MAX 3600000u
#define MB_URGENT_MIN_MS_MAX 3600000u

MbConfig *
mb_config_new(void)
{
    MbConfig *config = g_new0(MbConfig, 1);
    MbParams params;
    const char *state_env = g_getenv("STATE_DIRECTORY");

    mb_params_init(&params);
    config->pool_kib = 0;
    config->reserve_kib = 0;
    config->reserve_auto = TRUE;
    config->interval_ms = 1000;
    config->urgent_min_ms = 200;
    config->alpha = params.alpha;
    config->policy = params.kind;
    config->min_step_kib = params.min_step_kib;
    config->spare_kib = params.spare_kib;
    config->foreground_headroom_kib = params.foreground_headroom_kib;
    config->libvirt_uri = g_strdup("qemu:///system");
    config->group = g_strdup("membalancer");
    /* systemd may pass several directories separated by ':'; ours is the first. */
    if (state_env != NULL && *state_env != '\0') {
        g_auto(GStrv) dirs = g_strsplit(state_env, ":", 2);
        config->state_dir = g_strdup(dirs[0]);
    } else {
        config->state_dir = g_build_filename(MB_LOCALSTATEDIR, "membalancer", NULL);
    }
    config->backend = g_strdup("libvirt");
    config->fake_workloads = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    config->fake_default_workload = NULL; /* the fake picks an idle-ish one */
    config->fake_alloc_kib = 512 * 1024;
    config->fake_max_kib = 2 * 1024 * 1024;
    config->fake_balloon_rate_kib = 0;
    config->fake_faults = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    config->fake_trace_path = NULL;
    config->fake_urgent =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
    config->fake_allocs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return config;
}

void
mb_config_free(MbConfig *config)
{
    if (config == NULL)
        return;
    g_free(config->libvirt_uri);
    g_free(config->group);
    g_free(config->state_dir);
    g_free(config->backend);
    g_hash_table_unref(config->fake_workloads);
    g_free(config->fake_default_workload);
    g_hash_table_unref(config->fake_faults);
    g_hash_table_unref(config->fake_urgent);
    g_hash_table_unref(config->fake_allocs);
    g_free(config->fake_trace_path);
    g_free(config->path);
    g_free(config);
}

char *
mb_config_default_path(void)
{
    const char *dir = g_getenv("CONFIGURATION_DIRECTORY");

    if (dir != NULL && *dir != '\0') {
        g_auto(GStrv) dirs = g_strsplit(dir, ":", 2);
        return g_build_filename(dirs[0], "membalancer.conf", NULL);
    }
    return g_build_filename(MB_SYSCONFDIR, "membalancer", "membalancer.conf", NULL);
}

static gboolean fail(GError **error, const char *origin, const char *key, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static gboolean
fail(GError **error, const char *origin, const char *key, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    g_autofree char *why = g_strdup_vprintf(fmt, args);
    va_end(args);
    g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS, "%s: %s: %s", origin,
                key, why);
    return FALSE;
}

static gboolean
parse_size(const char *value, guint64 *out, const char *origin, const char *key, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (!mb_size_parse_kib(value, out, &local))
        return fail(error, origin, key, "%s", local->message);
    return TRUE;
}

static gboolean
parse_uint(const char *value, guint64 min, guint64 max, guint64 *out, const char *origin,
           const char *key, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (!g_ascii_string_to_unsigned(value, 10, min, max, out, &local))
        return fail(error, origin, key,
                    "'%s' is not a whole number from %" G_GUINT64_FORMAT
                    " to %" G_GUINT64_FORMAT,
                    value, min, max);
    return TRUE;
}

static gboolean
parse_name(const char *value, char **out, const char *origin, const char *key, GError **error)
{
    if (*value == '\0')
        return fail(error, origin, key, "must not be empty");
    g_free(*out);
    *out = g_strdup(value);
    return TRUE;
}

gboolean
mb_config_set(MbConfig *config, const char *key, const char *value, const char *origin,
              GError **error)
{
    g_autofree char *text = g_strstrip(g_strdup(value));

    if (g_str_equal(key, "pool"))
        return parse_size(text, &config->pool_kib, origin, key, error);
    if (g_str_equal(key, "reserve")) {
        config->reserve_auto = g_str_equal(text, "auto");
        if (config->reserve_auto) {
            config->reserve_kib = 0;
            return TRUE;
        }
        return parse_size(text, &config->reserve_kib, origin, key, error);
    }
    if (g_str_equal(key, "min-step"))
        return parse_size(text, &config->min_step_kib, origin, key, error);
    if (g_str_equal(key, "spare"))
        return parse_size(text, &config->spare_kib, origin, key, error);
    if (g_str_equal(key, "foreground-headroom"))
        return parse_size(text, &config->foreground_headroom_kib, origin, key, error);
    if (g_str_equal(key, "interval")) {
        guint64 ms;
        if (!parse_uint(text, MB_INTERVAL_MS_MIN, MB_INTERVAL_MS_MAX, &ms, origin,
                        "interval (milliseconds)", error))
            return FALSE;
        config->interval_ms = (guint)ms;
        return TRUE;
    }
    if (g_str_equal(key, "urgent-min-ms")) {
        guint64 ms;
        if (!parse_uint(text, 0, MB_URGENT_MIN_MS_MAX, &ms, origin,
                        "urgent-min-ms (milliseconds, 0: no urgent ticks)", error))
            return FALSE;
        config->urgent_min_ms = (guint)ms;
        return TRUE;
    }
    if (g_str_equal(key, "alpha")) {
        char *end = NULL;
        double alpha;
        errno = 0;
        alpha = g_ascii_strtod(text, &end);
        if (*text == '\0' || end == NULL || *end != '\0' || errno != 0 || !isfinite(alpha) ||
            alpha <= 0.0 || alpha > 1.0)
            return fail(error, origin, key,
                        "'%s' is not a number in (0, 1] (the paper uses 0.75)", text);
        config->alpha = alpha;
        return TRUE;
    }
    if (g_str_equal(key, "policy")) {
        MbPolicyKind kind;
        if (!mb_policy_kind_from_string(text, &kind))
            return fail(error, origin, key,
                        "unknown policy '%s' (use balanced, paper, mom or static)", text);
        config->policy = kind;
        return TRUE;
    }
    if (g_str_equal(key, "libvirt-uri")) {
        /* libvirt would only say so at the first connect, and that is retried. */
        if (!g_uri_is_valid(text, G_URI_FLAGS_NONE, NULL) || strstr(text, ":/") == NULL)
            return fail(error, origin, key,
                        "'%s' is not a libvirt URI (e.g. qemu:///system, test:///default)",
                        text);
        return parse_name(text, &config->libvirt_uri, origin, key, error);
    }
    if (g_str_equal(key, "group"))
        return parse_name(text, &config->group, origin, key, error);
    if (g_str_equal(key, "state-directory")) {
        if (!g_path_is_absolute(text))
            return fail(error, origin, key, "'%s' is not an absolute path", text);
        return parse_name(text, &config->state_dir, origin, key, error);
    }
    if (g_str_equal(key, "backend")) {
        if (!g_str_equal(text, "libvirt") && !g_str_equal(text, "fake"))
            return fail(error, origin, key, "unknown backend '%s' (use libvirt or fake)", text);
        return parse_name(text, &config->backend, origin, key, error);
    }
    return fail(error, origin, key,
                "unknown key (known: pool, reserve, interval, urgent-min-ms, alpha, policy, "
                "min-step, spare, foreground-headroom, libvirt-uri, group, state-directory, "
                "backend)");
}

/* One key's string; *origin names the file and group for messages. NULL,
 * with the file, key and reason in *error, when it cannot be read. */
static char *
read_value(GKeyFile *file, const char *group, const char *key, const char *path, char **origin,
           GError **error)
{
    g_autoptr(GError) local = NULL;
    char *value = mb_keyfile_get_string(file, group, key, &local);

    *origin = g_strdup_printf("%s: [%s]", path, group);
    if (value == NULL || local != NULL) {
        g_free(value);
        fail(error, *origin, key, "%s", local != NULL ? local->message : "no value");
        return NULL;
    }
    return value;
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
            if (!parse_uint(kind + strlen(FAKE_SILENT_AFTER), 0, G_MAXUINT, &ticks, origin, key,
                            error))
                return FALSE;
            flag = MB_FAKE_FAULT_SILENT;
            out->silent_after_ticks = (guint)ticks;
        }
        for (gsize k = 0; flag == 0 && k < G_N_ELEMENTS(fake_faults); k++) {
            if (g_str_equal(kind, fake_faults[k].name))
                flag = fake_faults[k].flag;
        }
        if (flag == 0)
            return fail(error, origin, key, "unknown fault '%s' (use " FAKE_FAULTS_KNOWN ")",
                        kind);
        if (out->flags & flag)
            return fail(error, origin, key, "fault '%s' given twice", kind);
        out->flags |= flag;
    }
    if ((out->flags & MB_FAKE_FAULT_LIE_ZERO) && (out->flags & MB_FAKE_FAULT_LIE_HUGE))
        return fail(error, origin, key, "lie-zero and lie-huge contradict each other");
    if ((out->flags & MB_FAKE_FAULT_SWAP_STORM) && (out->flags & MB_FAKE_FAULT_BACKWARDS))
        return fail(error, origin, key, "swap-storm and backwards contradict each other");
    return TRUE;
}

gboolean
mb_config_set_fake(MbConfig *config, const char *key, const char *value, const char *origin,
                   GError **error)
{
    g_autofree char *text = g_strstrip(g_strdup(value));

    if (g_str_equal(key, "alloc"))
        return parse_size(text, &config->fake_alloc_kib, origin, key, error);
    if (g_str_equal(key, "max"))
        return parse_size(text, &config->fake_max_kib, origin, key, error);
    if (g_str_equal(key, "default-workload"))
        return parse_name(text, &config->fake_default_workload, origin, key, error);
    if (g_str_equal(key, "balloon-rate") || g_str_equal(key, "balloon-grow-rate")) {
        guint64 rate_kib = 0;
        if (!g_str_equal(text, "instant") && !parse_size(text, &rate_kib, origin, key, error))
            return FALSE;
        if (rate_kib != 0 && rate_kib < MB_CONFIG_FAKE_RATE_MIN_KIB)
            return fail(error, origin, key,
                        "'%s' is too slow: use 0 or instant, or at least 1MiB (a size per "
                        "interval)",
                        text);
        if (g_str_equal(key, "balloon-grow-rate")) {
            config->fake_balloon_grow_rate_kib = rate_kib;
            config->fake_balloon_grow_rate_set = TRUE;
        } else {
            config->fake_balloon_rate_kib = rate_kib;
        }
        return TRUE;
    }
    if (g_str_equal(key, "trace"))
        return parse_name(text, &config->fake_trace_path, origin, key, error);
    if (g_str_equal(key, "balloon-release-ms")) {
        guint64 ms;
        if (!parse_uint(text, 0, MB_INTERVAL_MS_MAX, &ms, origin, key, error))
            return FALSE;
        config->fake_balloon_release_ms = (guint)ms;
        return TRUE;
    }
    if (g_str_has_prefix(key, FAKE_ALLOC_PREFIX)) {
        const char *vm_name = key + strlen(FAKE_ALLOC_PREFIX);
        guint64 kib;
        if (*vm_name == '\0')
            return fail(error, origin, key, "no VM name after '" FAKE_ALLOC_PREFIX "'");
        if (!parse_size(text, &kib, origin, key, error))
            return FALSE;
        if (kib == 0)
            return fail(error, origin, key, "must be above 0");
        g_hash_table_replace(config->fake_allocs, g_strdup(vm_name),
                             g_memdup2(&kib, sizeof kib));
        return TRUE;
    }
    if (g_str_has_prefix(key, FAKE_FAULT_PREFIX)) {
        const char *vm_name = key + strlen(FAKE_FAULT_PREFIX);
        MbFakeFault fault;
        if (*vm_name == '\0')
            return fail(error, origin, key, "no VM name after '" FAKE_FAULT_PREFIX "'");
        if (*text == '\0')
            return fail(error, origin, key, "no fault (use " FAKE_FAULTS_KNOWN ")");
        if (!parse_fake_fault(text, &fault, origin, key, error))
            return FALSE;
        g_hash_table_replace(config->fake_faults, g_strdup(vm_name),
                             g_memdup2(&fault, sizeof fault));
        return TRUE;
    }
    if (g_str_has_prefix(key, FAKE_URGENT_PREFIX)) {
        const char *vm_name = key + strlen(FAKE_URGENT_PREFIX);
        g_auto(GStrv) times = g_strsplit(text, ",", -1);
        g_autoptr(GArray) ms = g_array_new(FALSE, FALSE, sizeof(guint));
        g_autofree char *what =
            g_strdup_printf("%s (milliseconds after the guest appears, comma-separated)", key);
        if (*vm_name == '\0')
            return fail(error, origin, key, "no VM name after '" FAKE_URGENT_PREFIX "'");
        for (gsize i = 0; times[i] != NULL; i++) {
            guint64 t;
            guint value_ms;
            if (!parse_uint(g_strstrip(times[i]), 0, MB_INTERVAL_MS_MAX, &t, origin, what,
                            error))
                return FALSE;
            value_ms = (guint)t;
            g_array_append_val(ms, value_ms);
        }
        g_hash_table_replace(config->fake_urgent, g_strdup(vm_name), g_steal_pointer(&ms));
        return TRUE;
    }
    /* Any other key maps a VM name to a workload of the simulator. */
    if (*text == '\0')
        return fail(error, origin, key, "empty workload name");
    g_hash_table_replace(config->fake_workloads, g_strdup(key), g_steal_pointer(&text));
    return TRUE;
}

static gboolean
load_fake_group(MbConfig *config, GKeyFile *file, const char *path, GError **error)
{
    g_auto(GStrv) keys = g_key_file_get_keys(file, MB_CONFIG_FAKE_GROUP, NULL, NULL);

    for (gsize i = 0; keys != NULL && keys[i] != NULL; i++) {
        g_autofree char *origin = NULL;
        g_autofree char *value =
            read_value(file, MB_CONFIG_FAKE_GROUP, keys[i], path, &origin, error);

        if (value == NULL)
            return FALSE;
        if (!mb_config_set_fake(config, keys[i], value, origin, error))
            return FALSE;
    }
    if (config->fake_alloc_kib == 0 || config->fake_alloc_kib > config->fake_max_kib)
        return fail(error, path, "[" MB_CONFIG_FAKE_GROUP "] alloc",
                    "must be above 0 and at most max");
    return TRUE;
}

gboolean
mb_config_load_file(MbConfig *config, const char *path, gboolean must_exist, GError **error)
{
    g_autoptr(GKeyFile) file = g_key_file_new();
    g_autoptr(GError) local = NULL;
    g_auto(GStrv) groups = NULL;
    g_auto(GStrv) keys = NULL;

    if (!g_key_file_load_from_file(file, path, G_KEY_FILE_NONE, &local)) {
        if (!must_exist && g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS, "%s: %s", path,
                    local->message);
        return FALSE;
    }
    groups = g_key_file_get_groups(file, NULL);
    for (gsize i = 0; groups[i] != NULL; i++) {
        if (!g_str_equal(groups[i], MB_CONFIG_GROUP) &&
            !g_str_equal(groups[i], MB_CONFIG_FAKE_GROUP))
            return fail(error, path, groups[i],
                        "unknown group (known: [" MB_CONFIG_GROUP "], [" MB_CONFIG_FAKE_GROUP
                        "])");
    }
    keys = g_key_file_get_keys(file, MB_CONFIG_GROUP, NULL, NULL);
    for (gsize i = 0; keys != NULL && keys[i] != NULL; i++) {
        g_autofree char *origin = NULL;
        g_autofree char *value =
            read_value(file, MB_CONFIG_GROUP, keys[i], path, &origin, error);

        if (value == NULL)
            return FALSE;
        if (!mb_config_set(config, keys[i], value, origin, error))
            return FALSE;
    }
    if (!load_fake_group(config, file, path, error))
        return FALSE;
    if (!mb_config_validate(config, path, error))
        return FALSE;
    g_free(config->path);
    config->path = g_strdup(path);
    return TRUE;
}

gboolean
mb_config_validate(const MbConfig *config, const char *origin, GError **error)
{
    if (config->pool_kib != 0 && !config->reserve_auto &&
        config->reserve_kib >= config->pool_kib)
        return fail(error, origin, "reserve",
                    "%" G_GUINT64_FORMAT " KiB leaves nothing of the pool (%" G_GUINT64_FORMAT
                    " KiB) to hand out",
                    config->reserve_kib, config->pool_kib);
    return TRUE;
}

void
mb_config_to_params(const MbConfig *config, MbParams *params)
{
    mb_params_init(params);
    params->kind = config->policy;
    params->alpha = config->alpha;
    params->pool_kib = config->pool_kib;
    params->reserve_kib = config->reserve_kib;
    params->min_step_kib = config->min_step_kib;
    params->spare_kib = config->spare_kib;
    params->foreground_headroom_kib = config->foreground_headroom_kib;
}

guint64
mb_config_host_reserve_kib(guint64 host_kib)
{
    /* The host's kernel, libvirtd, each VM's QEMU process and the UI live
     * outside the VMs' balloons (docs/service.md, "The pool's accounting"). */
    guint64 reserve_kib = MAX(G_GUINT64_CONSTANT(512) * 1024, host_kib / 10);

    return MIN(reserve_kib, host_kib / 2);
}

void
mb_config_to_params_for_host(const MbConfig *config, guint64 host_kib, MbParams *params)
{
    mb_config_to_params(config, params);
    if (params->pool_kib != 0 || host_kib == 0)
        return;
    params->pool_kib = host_kib;
    if (config->reserve_auto)
        params->reserve_kib = mb_config_host_reserve_kib(host_kib);
}
