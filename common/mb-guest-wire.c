/* The guest agent's wire protocol: parser (the host's, untrusted input) and
 * formatter (the agent's). Pure C11: no GLib, no allocation, no locale. */
#include "mb-guest-wire.h"

#include <string.h>

/* Every key the protocol knows; a bit each in the seen mask. */
typedef enum {
    KEY_SEQ,
    KEY_TOTAL,
    KEY_FREE,
    KEY_ACTIVE_ANON,
    KEY_INACTIVE_ANON,
    KEY_ACTIVE_FILE,
    KEY_INACTIVE_FILE,
    KEY_PSWPIN,
    KEY_PSWPOUT,
    KEY_PSI_SOME,
    KEY_PSI_FULL,
    KEY_REFAULT_ANON,
    KEY_REFAULT_FILE,
    KEY_ACTIVATE_ANON,
    KEY_ACTIVATE_FILE,
    KEY_SWAP_USED,
    KEY_LOW,
    KEY_PSI_SOME_TOTAL,
    KEY_URGENT,
    KEY_VERSION,
    KEY_KERNEL,
    KEY_PAGE_KIB,
    KEY_N,
    KEY_UNKNOWN = KEY_N,
} Key;

static const char *const key_names[KEY_N] = {
    [KEY_SEQ] = "seq",
    [KEY_TOTAL] = "total_kib",
    [KEY_FREE] = "free_kib",
    [KEY_ACTIVE_ANON] = "active_anon_kib",
    [KEY_INACTIVE_ANON] = "inactive_anon_kib",
    [KEY_ACTIVE_FILE] = "active_file_kib",
    [KEY_INACTIVE_FILE] = "inactive_file_kib",
    [KEY_PSWPIN] = "pswpin",
    [KEY_PSWPOUT] = "pswpout",
    [KEY_PSI_SOME] = "psi_some_avg10",
    [KEY_PSI_FULL] = "psi_full_avg10",
    [KEY_REFAULT_ANON] = "refault_anon",
    [KEY_REFAULT_FILE] = "refault_file",
    [KEY_ACTIVATE_ANON] = "activate_anon",
    [KEY_ACTIVATE_FILE] = "activate_file",
    [KEY_SWAP_USED] = "swap_used_kib",
    [KEY_LOW] = "low_kib",
    [KEY_PSI_SOME_TOTAL] = "psi_some_total",
    [KEY_URGENT] = "urgent",
    [KEY_VERSION] = "version",
    [KEY_KERNEL] = "kernel",
    [KEY_PAGE_KIB] = "page_kib",
};

#define BIT(k) (1u << (k))
#define SAMPLE_REQUIRED                                                                        \
    (BIT(KEY_SEQ) | BIT(KEY_TOTAL) | BIT(KEY_FREE) | BIT(KEY_ACTIVE_ANON) |                    \
     BIT(KEY_INACTIVE_ANON) | BIT(KEY_ACTIVE_FILE) | BIT(KEY_INACTIVE_FILE) |                  \
     BIT(KEY_PSWPIN) | BIT(KEY_PSWPOUT))
#define SAMPLE_PSI (BIT(KEY_PSI_SOME) | BIT(KEY_PSI_FULL))
#define SAMPLE_REFAULTS                                                                        \
    (BIT(KEY_REFAULT_ANON) | BIT(KEY_REFAULT_FILE) | BIT(KEY_ACTIVATE_ANON) |                  \
     BIT(KEY_ACTIVATE_FILE))
/* Optional keys, added to version 1 without a bump (old hosts ignore them). */
#define SAMPLE_OPTIONAL                                                                        \
    (SAMPLE_PSI | SAMPLE_REFAULTS | BIT(KEY_SWAP_USED) | BIT(KEY_LOW) |                        \
     BIT(KEY_PSI_SOME_TOTAL) | BIT(KEY_URGENT))
#define HELLO_REQUIRED (BIT(KEY_VERSION) | BIT(KEY_KERNEL) | BIT(KEY_PAGE_KIB))
#define PAGE_KIB_MAX 1048576u /* 1 GiB pages: larger is nonsense */
#define KERNEL_MAX (sizeof(((MbGuestMessage *)0)->kernel) - 1)

/* Longest key we accept, known or not; also bounds the duplicate check. */
#define KEY_LEN_MAX 32
/* Each token takes at least "k=" plus a separator. */
#define TOKENS_MAX (MB_GUEST_PROTO_LINE_MAX / 3 + 1)

static bool
fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return false;
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_';
}

/* Canonical unsigned decimal: 1..20 digits, no leading zero except "0",
 * no overflow. */
static bool
parse_u64(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 20 || (n > 1 && p[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return false;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Fixed-point percentage in hundredths: "0".."100", optionally with one or
 * two decimals ("12.3", "12.34"); at most 100.00. */
static bool
parse_centi(const char *p, size_t n, unsigned *out)
{
    size_t int_len = 0;
    unsigned v = 0;

    while (int_len < n && is_digit(p[int_len]))
        int_len++;
    if (int_len == 0 || int_len > 3 || (int_len > 1 && p[0] == '0'))
        return false;
    for (size_t i = 0; i < int_len; i++)
        v = v * 10 + (unsigned)(p[i] - '0');
    v *= 100;
    if (int_len < n) {
        size_t frac_len = n - int_len - 1;
        if (p[int_len] != '.' || frac_len < 1 || frac_len > 2)
            return false;
        for (size_t i = 0; i < frac_len; i++) {
            if (!is_digit(p[int_len + 1 + i]))
                return false;
        }
        v += (unsigned)(p[int_len + 1] - '0') * 10;
        if (frac_len == 2)
            v += (unsigned)(p[int_len + 2] - '0');
    }
    if (v > 10000)
        return false;
    *out = v;
    return true;
}

static Key
lookup_key(const char *p, size_t n)
{
    for (unsigned k = 0; k < KEY_N; k++) {
        if (strlen(key_names[k]) == n && memcmp(key_names[k], p, n) == 0)
            return (Key)k;
    }
    return KEY_UNKNOWN;
}

/* Values of the key groups that count only when complete (the PSI pair,
 * the four workingset counters) or only beside another group (the PSI
 * total): kept aside until the whole line has been read. */
typedef struct {
    unsigned psi[2];
    uint64_t refaults[4];
    uint64_t psi_some_total;
} Grouped;

static uint64_t *
sample_field(MbGuestMessage *rec, Grouped *g, Key key)
{
    switch (key) {
    case KEY_SEQ:
        return &rec->seq;
    case KEY_TOTAL:
        return &rec->sample.total_kib;
    case KEY_FREE:
        return &rec->sample.free_kib;
    case KEY_ACTIVE_ANON:
        return &rec->sample.active_anon_kib;
    case KEY_INACTIVE_ANON:
        return &rec->sample.inactive_anon_kib;
    case KEY_ACTIVE_FILE:
        return &rec->sample.active_file_kib;
    case KEY_INACTIVE_FILE:
        return &rec->sample.inactive_file_kib;
    case KEY_PSWPIN:
        return &rec->sample.swap_in_pages;
    case KEY_PSWPOUT:
        return &rec->sample.swap_out_pages;
    case KEY_REFAULT_ANON:
    case KEY_REFAULT_FILE:
    case KEY_ACTIVATE_ANON:
    case KEY_ACTIVATE_FILE:
        return &g->refaults[key - KEY_REFAULT_ANON];
    case KEY_SWAP_USED:
        return &rec->sample.swap_used_kib;
    case KEY_LOW:
        return &rec->sample.low_wmark_kib;
    case KEY_PSI_SOME_TOTAL:
        return &g->psi_some_total;
    default:
        return NULL;
    }
}

/* Stores one known key's value; false if the value is malformed. */
static bool
store_value(MbGuestMessage *rec, Key key, const char *v, size_t n, Grouped *g)
{
    uint64_t u;

    switch (key) {
    case KEY_PSI_SOME:
        return parse_centi(v, n, &g->psi[0]);
    case KEY_PSI_FULL:
        return parse_centi(v, n, &g->psi[1]);
    case KEY_URGENT:
        /* 0 is no reason: a periodic record leaves the key out. */
        if (!parse_u64(v, n, &u) || u == 0 || u > MB_GUEST_URGENT_ALL)
            return false;
        rec->sample.urgent = (unsigned)u;
        return true;
    case KEY_VERSION:
        if (!parse_u64(v, n, &u) || u == 0 || u > UINT32_MAX)
            return false;
        rec->version = (unsigned)u;
        return true;
    case KEY_KERNEL:
        if (n == 0)
            return false;
        if (n > KERNEL_MAX)
            n = KERNEL_MAX;
        memcpy(rec->kernel, v, n);
        rec->kernel[n] = '\0';
        return true;
    case KEY_PAGE_KIB:
        if (!parse_u64(v, n, &u) || u == 0 || u > PAGE_KIB_MAX || (u & (u - 1)) != 0)
            return false;
        rec->page_kib = (unsigned)u;
        return true;
    default: {
        uint64_t *field = sample_field(rec, g, key);
        return field && parse_u64(v, n, field);
    }
    }
}

bool
mb_guest_message_parse(const char *line, size_t len, MbGuestMessage *out, const char **why)
{
    static const char magic[] = MB_GUEST_PROTO_MAGIC " ";
    /* Key spans seen so far, for the duplicate check of unknown keys. */
    struct {
        unsigned short off;
        unsigned char len;
    } seen_unknown[TOKENS_MAX];
    size_t n_unknown = 0;
    unsigned seen = 0, required, allowed;
    Grouped g = {{0, 0}, {0, 0, 0, 0}, 0};
    size_t pos;

    memset(out, 0, sizeof *out);
    if (!line)
        return fail(why, "no line");
    if (len > 0 && line[len - 1] == '\n')
        len--;
    if (len > MB_GUEST_PROTO_LINE_MAX - 1)
        return fail(why, "line too long");
    /* Printable ASCII and single spaces only: no NUL, no control bytes. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c > 0x7e)
            return fail(why, "non-printable byte");
        if (c == ' ' && (i == 0 || i + 1 == len || line[i + 1] == ' '))
            return fail(why, "bad spacing");
    }
    if (len < sizeof magic - 1 || memcmp(line, magic, sizeof magic - 1) != 0)
        return fail(why, "bad magic");
    pos = sizeof magic - 1;

    size_t kind_end = pos;
    while (kind_end < len && line[kind_end] != ' ')
        kind_end++;
    if (kind_end - pos == 5 && memcmp(line + pos, "hello", 5) == 0) {
        out->kind = MB_GUEST_RECORD_HELLO;
        required = allowed = HELLO_REQUIRED;
    } else if (kind_end - pos == 6 && memcmp(line + pos, "sample", 6) == 0) {
        out->kind = MB_GUEST_RECORD_SAMPLE;
        required = SAMPLE_REQUIRED;
        allowed = SAMPLE_REQUIRED | SAMPLE_OPTIONAL;
    } else {
        return fail(why, "unknown record kind");
    }
    pos = kind_end;

    while (pos < len) {
        size_t start = pos + 1, end = start, eq;
        while (end < len && line[end] != ' ')
            end++;
        pos = end;
        for (eq = start; eq < end && line[eq] != '='; eq++) {
            if (!is_key_char(line[eq]))
                return fail(why, "bad key");
        }
        size_t key_len = eq - start;
        if (eq == end)
            return fail(why, "field without '='");
        if (key_len == 0 || key_len > KEY_LEN_MAX ||
            !(line[start] >= 'a' && line[start] <= 'z'))
            return fail(why, "bad key");

        /* Keys of the other record kind are unknown here, and ignored. */
        Key key = lookup_key(line + start, key_len);
        if (key != KEY_UNKNOWN && (allowed & BIT(key))) {
            if (seen & BIT(key))
                return fail(why, "duplicate key");
            seen |= BIT(key);
            if (!store_value(out, key, line + eq + 1, end - eq - 1, &g))
                return fail(why, "bad value");
            continue;
        }
        for (size_t i = 0; i < n_unknown; i++) {
            if (seen_unknown[i].len == key_len &&
                memcmp(line + seen_unknown[i].off, line + start, key_len) == 0)
                return fail(why, "duplicate key");
        }
        if (n_unknown < TOKENS_MAX) {
            seen_unknown[n_unknown].off = (unsigned short)start;
            seen_unknown[n_unknown].len = (unsigned char)key_len;
            n_unknown++;
        }
    }

    if ((seen & required) != required)
        return fail(why, "missing required key");
    /* A group with a key missing was validated above and is now ignored,
     * as a host that does not know the group ignores all of it. */
    if (out->kind == MB_GUEST_RECORD_SAMPLE && (seen & SAMPLE_PSI) == SAMPLE_PSI) {
        out->sample.has_psi = true;
        out->sample.psi_some_avg10 = g.psi[0] / 100.0;
        out->sample.psi_full_avg10 = g.psi[1] / 100.0;
        out->sample.psi_some_total_us = g.psi_some_total;
    }
    if (out->kind == MB_GUEST_RECORD_SAMPLE && (seen & SAMPLE_REFAULTS) == SAMPLE_REFAULTS) {
        out->sample.has_refaults = true;
        out->sample.refault_anon_pages = g.refaults[0];
        out->sample.refault_file_pages = g.refaults[1];
        out->sample.activate_anon_pages = g.refaults[2];
        out->sample.activate_file_pages = g.refaults[3];
    }
    out->sample.has_swap_used = (seen & BIT(KEY_SWAP_USED)) != 0;
    if (why)
        *why = NULL;
    return true;
}

/* Formatting: a cursor that stops writing (and remembers it) at the end. */
typedef struct {
    char *buf;
    size_t size, len;
    bool overflow;
} Out;

static void
put(Out *o, const char *s, size_t n)
{
    if (o->overflow || n > o->size - o->len) {
        o->overflow = true;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void
put_str(Out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void
put_u64(Out *o, uint64_t v)
{
    char digits[20];
    size_t n = sizeof digits;

    do {
        digits[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(o, digits + n, sizeof digits - n);
}

static void
put_field(Out *o, const char *key, uint64_t v)
{
    put(o, " ", 1);
    put_str(o, key);
    put(o, "=", 1);
    put_u64(o, v);
}

/* Percent with two decimals; NaN and out-of-range values are clamped. */
static void
put_centi(Out *o, const char *key, double v)
{
    unsigned c = 0;
    char frac[3];

    if (v > 100.0)
        c = 10000;
    else if (v > 0.0) /* false for NaN */
        c = (unsigned)(v * 100.0 + 0.5);
    frac[0] = '.';
    frac[1] = (char)('0' + c / 10 % 10);
    frac[2] = (char)('0' + c % 10);
    put(o, " ", 1);
    put_str(o, key);
    put(o, "=", 1);
    put_u64(o, c / 100);
    put(o, frac, 3);
}

/* Ends the line: newline plus a NUL after it (not counted). */
static size_t
finish(Out *o)
{
    put(o, "\n\0", 2);
    if (o->overflow || o->len > MB_GUEST_PROTO_LINE_MAX + 1) {
        if (o->size > 0)
            o->buf[0] = '\0';
        return 0;
    }
    return o->len - 1;
}

size_t
mb_guest_message_format_sample(char *buf, size_t size, uint64_t seq, const MbGuestSample *s)
{
    Out o = {buf, size, 0, false};

    put_str(&o, MB_GUEST_PROTO_MAGIC " sample");
    put_field(&o, key_names[KEY_SEQ], seq);
    put_field(&o, key_names[KEY_TOTAL], s->total_kib);
    put_field(&o, key_names[KEY_FREE], s->free_kib);
    put_field(&o, key_names[KEY_ACTIVE_ANON], s->active_anon_kib);
    put_field(&o, key_names[KEY_INACTIVE_ANON], s->inactive_anon_kib);
    put_field(&o, key_names[KEY_ACTIVE_FILE], s->active_file_kib);
    put_field(&o, key_names[KEY_INACTIVE_FILE], s->inactive_file_kib);
    put_field(&o, key_names[KEY_PSWPIN], s->swap_in_pages);
    put_field(&o, key_names[KEY_PSWPOUT], s->swap_out_pages);
    if (s->has_psi) {
        put_centi(&o, key_names[KEY_PSI_SOME], s->psi_some_avg10);
        put_centi(&o, key_names[KEY_PSI_FULL], s->psi_full_avg10);
        put_field(&o, key_names[KEY_PSI_SOME_TOTAL], s->psi_some_total_us);
    }
    if (s->has_refaults) {
        put_field(&o, key_names[KEY_REFAULT_ANON], s->refault_anon_pages);
        put_field(&o, key_names[KEY_REFAULT_FILE], s->refault_file_pages);
        put_field(&o, key_names[KEY_ACTIVATE_ANON], s->activate_anon_pages);
        put_field(&o, key_names[KEY_ACTIVATE_FILE], s->activate_file_pages);
    }
    if (s->has_swap_used)
        put_field(&o, key_names[KEY_SWAP_USED], s->swap_used_kib);
    if (s->low_wmark_kib)
        put_field(&o, key_names[KEY_LOW], s->low_wmark_kib);
    if (s->urgent & MB_GUEST_URGENT_ALL)
        put_field(&o, key_names[KEY_URGENT], s->urgent & MB_GUEST_URGENT_ALL);
    return finish(&o);
}

size_t
mb_guest_message_format_hello(char *buf, size_t size, const char *kernel, unsigned page_kib)
{
    Out o = {buf, size, 0, false};
    char release[KERNEL_MAX];
    size_t n = 0;

    /* The release is one token: anything but printable non-space becomes '_'. */
    for (; kernel && kernel[n] && n < sizeof release; n++) {
        unsigned char c = (unsigned char)kernel[n];
        release[n] = (c > 0x20 && c < 0x7f) ? (char)c : '_';
    }
    put_str(&o, MB_GUEST_PROTO_MAGIC " hello");
    put_field(&o, key_names[KEY_VERSION], MB_GUEST_PROTO_VERSION);
    put(&o, " kernel=", 8);
    if (n)
        put(&o, release, n);
    else
        put_str(&o, "unknown");
    put_field(&o, key_names[KEY_PAGE_KIB], page_kib);
    return finish(&o);
}
