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

/* The fake backend is optional at build time (meson option fake-backend). */
#ifdef MB_HAVE_FAKE_BACKEND
#define MB_CONFIG_HAVE_FAKE TRUE
#else
#define MB_CONFIG_HAVE_FAKE FALSE
#endif

#define MB_INTERVAL_MS_MIN 10u
#define MB_INTERVAL_MS_MAX 3600000u
#define MB_URGENT_MIN_MS_MAX 3600000u

static void
config_key_free(gpointer data)
{
    MbConfigKey *entry = data;

    g_free(entry->group);
    g_free(entry->key);
    g_free(entry->value);
    g_free(entry->origin);
    g_free(entry);
}

void
mb_config_add_backend_key(MbConfig *config, const char *group, const char *key,
                          const char *value, const char *origin)
{
    MbConfigKey *entry = g_new0(MbConfigKey, 1);

    entry->group = g_strdup(group);
    entry->key = g_strdup(key);
    entry->value = g_strdup(value);
    entry->origin = g_strdup(origin);
    g_ptr_array_add(config->backend_keys, entry);
}

/* A backend's group, kept for the backend to parse: only what any key
 * needs (a readable string) is checked here. */
static gboolean
load_backend_group(MbConfig *config, GKeyFile *file, const char *group, const char *path,
                   GError **error)
{
    g_auto(GStrv) keys = g_key_file_get_keys(file, group, NULL, NULL);

    for (gsize i = 0; keys != NULL && keys[i] != NULL; i++) {
        g_autofree char *origin = NULL;
        g_autofree char *value =
            mb_keyfile_read_value(file, group, keys[i], path, &origin, error);

        if (value == NULL)
            return FALSE;
        mb_config_add_backend_key(config, group, keys[i], value, origin);
    }
    return TRUE;
}

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
    config->backend_keys = g_ptr_array_new_with_free_func(config_key_free);
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
    g_ptr_array_unref(config->backend_keys);
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

gboolean
mb_config_set(MbConfig *config, const char *key, const char *value, const char *origin,
              GError **error)
{
    g_autofree char *text = g_strstrip(g_strdup(value));

    if (g_str_equal(key, "pool"))
        return mb_keyfile_parse_size(text, &config->pool_kib, origin, key, error);
    if (g_str_equal(key, "reserve")) {
        config->reserve_auto = g_str_equal(text, "auto");
        if (config->reserve_auto) {
            config->reserve_kib = 0;
            return TRUE;
        }
        return mb_keyfile_parse_size(text, &config->reserve_kib, origin, key, error);
    }
    if (g_str_equal(key, "min-step"))
        return mb_keyfile_parse_size(text, &config->min_step_kib, origin, key, error);
    if (g_str_equal(key, "spare"))
        return mb_keyfile_parse_size(text, &config->spare_kib, origin, key, error);
    if (g_str_equal(key, "foreground-headroom"))
        return mb_keyfile_parse_size(text, &config->foreground_headroom_kib, origin, key,
                                     error);
    if (g_str_equal(key, "interval")) {
        guint64 ms;
        if (!mb_keyfile_parse_uint(text, MB_INTERVAL_MS_MIN, MB_INTERVAL_MS_MAX, &ms, origin,
                                   "interval (milliseconds)", error))
            return FALSE;
        config->interval_ms = (guint)ms;
        return TRUE;
    }
    if (g_str_equal(key, "urgent-min-ms")) {
        guint64 ms;
        if (!mb_keyfile_parse_uint(text, 0, MB_URGENT_MIN_MS_MAX, &ms, origin,
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
            return mb_keyfile_fail(error, origin, key,
                                   "'%s' is not a number in (0, 1] (the paper uses 0.75)",
                                   text);
        config->alpha = alpha;
        return TRUE;
    }
    if (g_str_equal(key, "policy")) {
        MbPolicyKind kind;
        if (!mb_policy_kind_from_string(text, &kind))
            return mb_keyfile_fail(error, origin, key,
                                   "unknown policy '%s' (use balanced, paper, mom or static)",
                                   text);
        config->policy = kind;
        return TRUE;
    }
    if (g_str_equal(key, "libvirt-uri")) {
        /* libvirt would only say so at the first connect, and that is retried. */
        if (!g_uri_is_valid(text, G_URI_FLAGS_NONE, NULL) || strstr(text, ":/") == NULL)
            return mb_keyfile_fail(
                error, origin, key,
                "'%s' is not a libvirt URI (e.g. qemu:///system, test:///default)", text);
        return mb_keyfile_parse_name(text, &config->libvirt_uri, origin, key, error);
    }
    if (g_str_equal(key, "group"))
        return mb_keyfile_parse_name(text, &config->group, origin, key, error);
    if (g_str_equal(key, "state-directory")) {
        if (!g_path_is_absolute(text))
            return mb_keyfile_fail(error, origin, key, "'%s' is not an absolute path", text);
        return mb_keyfile_parse_name(text, &config->state_dir, origin, key, error);
    }
    if (g_str_equal(key, "backend")) {
        if (!g_str_equal(text, "libvirt") &&
            !(MB_CONFIG_HAVE_FAKE && g_str_equal(text, "fake")))
            return mb_keyfile_fail(error, origin, key, "unknown backend '%s' (use %s)", text,
                                   MB_CONFIG_HAVE_FAKE
                                       ? "libvirt or fake"
                                       : "libvirt; this build has no fake backend");
        return mb_keyfile_parse_name(text, &config->backend, origin, key, error);
    }
    return mb_keyfile_fail(
        error, origin, key,
        "unknown key (known: pool, reserve, interval, urgent-min-ms, alpha, policy, "
        "min-step, spare, foreground-headroom, libvirt-uri, group, state-directory, "
        "backend)");
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
            return mb_keyfile_fail(error, path, groups[i],
                                   "unknown group (known: [" MB_CONFIG_GROUP
                                   "], [" MB_CONFIG_FAKE_GROUP "])");
    }
    keys = g_key_file_get_keys(file, MB_CONFIG_GROUP, NULL, NULL);
    for (gsize i = 0; keys != NULL && keys[i] != NULL; i++) {
        g_autofree char *origin = NULL;
        g_autofree char *value =
            mb_keyfile_read_value(file, MB_CONFIG_GROUP, keys[i], path, &origin, error);

        if (value == NULL)
            return FALSE;
        if (!mb_config_set(config, keys[i], value, origin, error))
            return FALSE;
    }
    if (!load_backend_group(config, file, MB_CONFIG_FAKE_GROUP, path, error))
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
        return mb_keyfile_fail(error, origin, "reserve",
                               "%" G_GUINT64_FORMAT
                               " KiB leaves nothing of the pool (%" G_GUINT64_FORMAT
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
