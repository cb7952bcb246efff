/* A sample from the virtio balloon's statistics, when no agent reports. */
#include "mb-balloon-stats.h"

#include <string.h>

gboolean
mb_balloon_stats_derive(const virDomainMemoryStatStruct *stats, int n, MbSample *out)
{
    guint64 actual = 0, unused = 0, usable = 0, caches = 0, swap_in = 0, swap_out = 0;
    gboolean has_actual = FALSE, has_unused = FALSE, has_usable = FALSE;

    for (int i = 0; i < n; i++) {
        guint64 v = stats[i].val;
        switch (stats[i].tag) {
        case VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON:
            actual = v, has_actual = TRUE;
            break;
        case VIR_DOMAIN_MEMORY_STAT_UNUSED:
            unused = v, has_unused = TRUE;
            break;
        case VIR_DOMAIN_MEMORY_STAT_USABLE:
            usable = v, has_usable = TRUE;
            break;
        case VIR_DOMAIN_MEMORY_STAT_DISK_CACHES:
            caches = v;
            break;
        case VIR_DOMAIN_MEMORY_STAT_SWAP_IN:
            swap_in = v;
            break;
        case VIR_DOMAIN_MEMORY_STAT_SWAP_OUT:
            swap_out = v;
            break;
        default:
            break;
        }
    }
    if (!has_actual || !has_unused)
        return FALSE;
    memset(out, 0, sizeof(*out));
    unused = MIN(unused, actual);
    out->total_kib = actual;
    out->free_kib = unused;
    /* disk_caches includes the swap cache (a thrashing guest reported
     * 126 MiB of it with 2 MiB of page cache): only what "usable" says can
     * be reclaimed beyond the unused memory counts as page cache. */
    if (has_usable && usable > unused)
        out->inactive_file_kib = MIN(MIN(caches, usable - unused), actual - unused);
    out->active_anon_kib = actual - unused - out->inactive_file_kib;
    out->swap_in_pages = swap_in / MB_LIBVIRT_BALLOON_PAGE_KIB;
    out->swap_out_pages = swap_out / MB_LIBVIRT_BALLOON_PAGE_KIB;
    return TRUE;
}
