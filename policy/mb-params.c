/* Names and parameters of the policy library. */
#include "mb-policy.h"

#include <math.h>
#include <string.h>

static const char *const policy_names[MB_POLICY_N] = {
    [MB_POLICY_STATIC] = "static",
    [MB_POLICY_PAPER] = "paper",
    [MB_POLICY_BALANCED] = "balanced",
    [MB_POLICY_MOM] = "mom",
};

const char *
mb_policy_kind_to_string(MbPolicyKind kind)
{
    if ((unsigned)kind >= MB_POLICY_N)
        return "unknown";
    return policy_names[kind];
}

bool
mb_policy_kind_from_string(const char *name, MbPolicyKind *out)
{
    if (name == NULL)
        return false;
    for (unsigned i = 0; i < MB_POLICY_N; i++) {
        if (strcmp(name, policy_names[i]) == 0) {
            *out = (MbPolicyKind)i;
            return true;
        }
    }
    return false;
}

/* Every reason once: its keyword (the D-Bus LastReason property and the
 * journal's MB_REASON field, part of the API) and its description (the
 * log lines and the simulator). */
static const struct {
    const char *keyword;
    const char *text;
} reason_names[] = {
    [MB_REASON_NONE] = {"none", "none"},
    [MB_REASON_NEED] = {"need", "demand above reclaimable"},
    [MB_REASON_DONATE] = {"donate", "reclaimable above demand"},
    [MB_REASON_MIN] = {"min", "raised to its minimum"},
    [MB_REASON_MAX] = {"max", "lowered to its maximum"},
    [MB_REASON_MOM_SHRINK] = {"mom-shrink", "host memory under pressure"},
    [MB_REASON_MOM_GROW] = {"mom-grow", "host memory plentiful"},
    [MB_REASON_SILENT] = {"silent", "gave back memory above its fair share (no statistics)"},
    [MB_REASON_COLD] = {"cold", "gave cold memory to the foreground VM"},
};

const char *
mb_reason_to_string(MbReason reason)
{
    if ((size_t)reason >= sizeof(reason_names) / sizeof(reason_names[0]))
        return "unknown";
    return reason_names[reason].text;
}

const char *
mb_reason_to_keyword(MbReason reason)
{
    if ((size_t)reason >= sizeof(reason_names) / sizeof(reason_names[0]))
        return "unknown";
    return reason_names[reason].keyword;
}

void
mb_params_init(MbParams *params)
{
    memset(params, 0, sizeof(*params));
    params->kind = MB_POLICY_BALANCED;
    params->alpha = 0.75;
    params->min_step_kib = 4096;
    params->free_reserve_ratio = 0.10;
    params->page_kib = 4;
    params->foreground_headroom_kib = 128 * 1024;
    params->spare_kib = 128 * 1024;
}

bool
mb_params_validate(const MbParams *params, const char **why)
{
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    if ((unsigned)params->kind >= MB_POLICY_N) {
        *why = "policy: unknown kind";
        return false;
    }
    if (!isfinite(params->alpha) || params->alpha <= 0.0 || params->alpha > 1.0) {
        *why = "alpha: must be in (0, 1]";
        return false;
    }
    if (!isfinite(params->free_reserve_ratio) || params->free_reserve_ratio < 0.0 ||
        params->free_reserve_ratio >= 1.0) {
        *why = "free reserve ratio: must be in [0, 1)";
        return false;
    }
    if (params->page_kib == 0) {
        *why = "page size: must be at least 1 KiB";
        return false;
    }
    if (params->reserve_kib > params->pool_kib) {
        *why = "reserve: larger than the pool";
        return false;
    }
    *why = NULL;
    return true;
}

uint64_t
mb_params_capacity_kib(const MbParams *params)
{
    return params->pool_kib > params->reserve_kib ? params->pool_kib - params->reserve_kib : 0;
}
