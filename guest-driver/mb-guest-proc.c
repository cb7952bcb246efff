/* The guest agent's /proc readers (mb-guest-proc.h). */
#include "mb-guest-proc.h"

#include <errno.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define PROC_BUF_SIZE 16384

static char proc_buf[PROC_BUF_SIZE];

/* Reads a (small) file from offset 0 into proc_buf, NUL-terminated, with
 * one pread: seq_file fills the whole request in one call, and a second
 * pread at a later offset would make the kernel generate the file again. */
static ssize_t
read_whole(int fd)
{
    ssize_t n;

    do
        n = pread(fd, proc_buf, sizeof proc_buf - 1, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    proc_buf[n] = '\0';
    return n;
}

static uint64_t
parse_decimal(const char **pp)
{
    const char *p = *pp;
    uint64_t v = 0;

    while (*p == ' ' || *p == '\t')
        p++;
    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
        p++;
    }
    *pp = p;
    return v;
}

/* Calls fn(key, key_len, rest_of_line) for each "key<sep>value" line. */
static unsigned
scan_lines(const char *buf, char sep,
           unsigned (*fn)(const char *, size_t, const char *, void *), void *data,
           unsigned want)
{
    unsigned found = 0;

    for (const char *line = buf; *line && found != want;) {
        const char *end = strchr(line, '\n');
        const char *key_end = line;
        while (*key_end && *key_end != '\n' && *key_end != sep)
            key_end++;
        if (*key_end == sep && key_end > line)
            found |= fn(line, (size_t)(key_end - line), key_end + 1, data);
        if (!end)
            break;
        line = end + 1;
    }
    return found;
}

enum {
    MI_TOTAL,
    MI_FREE,
    MI_ACTIVE_ANON,
    MI_INACTIVE_ANON,
    MI_ACTIVE_FILE,
    MI_INACTIVE_FILE,
    MI_SWAP_TOTAL,
    MI_SWAP_FREE,
    MI_N,
};
static const char *const meminfo_keys[MI_N] = {
    [MI_TOTAL] = "MemTotal",           [MI_FREE] = "MemFree",
    [MI_ACTIVE_ANON] = "Active(anon)", [MI_INACTIVE_ANON] = "Inactive(anon)",
    [MI_ACTIVE_FILE] = "Active(file)", [MI_INACTIVE_FILE] = "Inactive(file)",
    [MI_SWAP_TOTAL] = "SwapTotal",     [MI_SWAP_FREE] = "SwapFree",
};
#define MEMINFO_REQUIRED ((1u << MI_SWAP_TOTAL) - 1)
#define MEMINFO_SWAP ((1u << MI_SWAP_TOTAL) | (1u << MI_SWAP_FREE))
#define MEMINFO_ALL ((1u << MI_N) - 1)

static unsigned
meminfo_line(const char *key, size_t len, const char *rest, void *data)
{
    uint64_t *values = data;

    for (unsigned i = 0; i < MI_N; i++) {
        if (strlen(meminfo_keys[i]) == len && memcmp(meminfo_keys[i], key, len) == 0) {
            values[i] = parse_decimal(&rest);
            return 1u << i;
        }
    }
    return 0;
}

/* Value of "\nkey " (or "\nkey:") in buf; false if absent. strstr is
 * vectorised: far cheaper than walking /proc/vmstat's ~75 lines before
 * pswpin. */
static bool
find_value(const char *buf, const char *key_nl, uint64_t *out)
{
    const char *p = strstr(buf, key_nl);

    if (!p)
        return false;
    p += strlen(key_nl);
    *out = parse_decimal(&p);
    return true;
}

typedef struct {
    unsigned centi[2];      /* avg10 of some, full: hundredths of a percent */
    uint64_t some_total_us; /* some total= */
} Psi;

/* "some avg10=1.23 avg60=... total=N" -> hundredths of a percent (and the
 * total, for "some": a "some" line without it does not count). */
static unsigned
psi_line(const char *key, size_t len, const char *rest, void *data)
{
    Psi *psi = data;
    unsigned which;

    if (len == 4 && memcmp(key, "some", 4) == 0)
        which = 0;
    else if (len == 4 && memcmp(key, "full", 4) == 0)
        which = 1;
    else
        return 0;
    if (strncmp(rest, "avg10=", 6) != 0)
        return 0;
    rest += 6;
    uint64_t whole = parse_decimal(&rest), frac = 0;
    if (*rest == '.') {
        rest++;
        const char *start = rest;
        frac = parse_decimal(&rest);
        if (rest - start == 1)
            frac *= 10;
        else if (rest - start != 2)
            return 0;
    }
    psi->centi[which] = whole > 100 ? 10000 : (unsigned)(whole * 100 + frac);
    if (which == 0) {
        const char *end = strchr(rest, '\n');
        const char *total = strstr(rest, " total=");
        if (!total || (end && total > end))
            return 0;
        total += 7;
        psi->some_total_us = parse_decimal(&total);
    }
    return 1u << which;
}

static uint64_t
mul_sat(uint64_t a, uint64_t b)
{
    return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* Read in chunks through a small state machine: the per-cpu pagesets make
 * /proc/zoneinfo far larger than proc_buf on many CPUs. */
void
mb_guest_proc_read_low_wmark(MbGuestProc *a)
{
    enum { LINE_START, WORD, VALUE_START, VALUE, SKIP } state = LINE_START;
    char word[4];
    size_t word_len = 0;
    uint64_t sum = 0, v = 0;
    unsigned zones = 0;
    off_t off = 0;
    ssize_t n;

    if (a->zoneinfo_fd < 0)
        return;
    for (;;) {
        do
            n = pread(a->zoneinfo_fd, proc_buf, sizeof proc_buf, off);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return;
        if (n == 0)
            break;
        off += n;
        for (ssize_t i = 0; i < n; i++) {
            char c = proc_buf[i];
            bool blank = c == ' ' || c == '\t', digit = c >= '0' && c <= '9';
            if (c == '\n' || (state == VALUE && !digit)) {
                if (state == VALUE) {
                    sum = sum + v < sum ? UINT64_MAX : sum + v;
                    zones++;
                }
                state = c == '\n' ? LINE_START : SKIP;
                continue;
            }
            if (state == LINE_START && !blank) {
                state = WORD;
                word_len = 0;
            }
            if (state == WORD) {
                if (blank)
                    state = word_len == 3 && memcmp(word, "low", 3) == 0 ? VALUE_START : SKIP;
                else if (word_len < sizeof word)
                    word[word_len++] = c;
                else
                    state = SKIP;
            } else if (state == VALUE_START && !blank) {
                state = digit ? VALUE : SKIP;
                v = 0;
            }
            if (state == VALUE) {
                unsigned d = (unsigned)(c - '0');
                v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
            }
        }
    }
    if (state == VALUE) {
        sum = sum + v < sum ? UINT64_MAX : sum + v;
        zones++;
    }
    a->low_wmark_kib = zones ? mul_sat(sum, a->page_kib) : 0;
}

bool
mb_guest_proc_sample(const MbGuestProc *a, MbGuestSample *s)
{
    uint64_t mi[MI_N] = {0};
    Psi psi = {{0, 0}, 0};

    memset(s, 0, sizeof *s);
    if (read_whole(a->meminfo_fd) < 0)
        return false;
    unsigned found = scan_lines(proc_buf, ':', meminfo_line, mi, MEMINFO_ALL);
    if ((found & MEMINFO_REQUIRED) != MEMINFO_REQUIRED)
        return false;
    s->total_kib = mi[MI_TOTAL];
    s->free_kib = mi[MI_FREE];
    s->active_anon_kib = mi[MI_ACTIVE_ANON];
    s->inactive_anon_kib = mi[MI_INACTIVE_ANON];
    s->active_file_kib = mi[MI_ACTIVE_FILE];
    s->inactive_file_kib = mi[MI_INACTIVE_FILE];
    if ((found & MEMINFO_SWAP) == MEMINFO_SWAP) {
        s->has_swap_used = true;
        s->swap_used_kib =
            mi[MI_SWAP_TOTAL] > mi[MI_SWAP_FREE] ? mi[MI_SWAP_TOTAL] - mi[MI_SWAP_FREE] : 0;
    }
    if (read_whole(a->vmstat_fd) < 0)
        return false;
    /* Absent (no line yet, or the first line): no swap events. */
    find_value(proc_buf, "\npswpin ", &s->swap_in_pages);
    find_value(proc_buf, "\npswpout ", &s->swap_out_pages);
    /* The anon/file split is Linux 5.9+; older kernels have one counter,
     * which says too little to send. */
    s->has_refaults =
        find_value(proc_buf, "\nworkingset_refault_anon ", &s->refault_anon_pages) &&
        find_value(proc_buf, "\nworkingset_refault_file ", &s->refault_file_pages) &&
        find_value(proc_buf, "\nworkingset_activate_anon ", &s->activate_anon_pages) &&
        find_value(proc_buf, "\nworkingset_activate_file ", &s->activate_file_pages);
    if (!s->has_refaults)
        s->refault_anon_pages = s->refault_file_pages = s->activate_anon_pages = 0;
    if (a->psi_fd >= 0 && read_whole(a->psi_fd) >= 0 &&
        scan_lines(proc_buf, ' ', psi_line, &psi, 3) == 3) {
        s->has_psi = true;
        s->psi_some_avg10 = psi.centi[0] / 100.0;
        s->psi_full_avg10 = psi.centi[1] / 100.0;
        s->psi_some_total_us = psi.some_total_us;
    }
    s->low_wmark_kib = a->low_wmark_kib;
    return true;
}

bool
mb_guest_proc_fast(const MbGuestProc *a, uint64_t *total_kib, uint64_t *available_kib,
                   uint64_t *swap_out_pages)
{
    *total_kib = 0;
    *swap_out_pages = 0;
    if (read_whole(a->meminfo_fd) < 0)
        return false;
    find_value(proc_buf, "MemTotal:", total_kib);
    if (!find_value(proc_buf, "\nMemAvailable:", available_kib) &&
        !find_value(proc_buf, "\nMemFree:", available_kib))
        return false;
    if (read_whole(a->vmstat_fd) < 0)
        return false;
    find_value(proc_buf, "\npswpout ", swap_out_pages);
    return true;
}
