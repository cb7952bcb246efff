/* The guest agent's wire protocol (docs/guest-protocol.md): the record
 * types, the host's parser and the agent's formatter. It depends on
 * nothing but libc: the agent (guest-driver/), the host's backends and the
 * fuzzers link it alike; the host converts its samples into the planner's
 * (service/mb-guest-channel.c).
 *
 * One record per line, ASCII, at most MB_GUEST_PROTO_LINE_MAX bytes with
 * the newline:
 *
 *   MBG1 hello version=1 kernel=6.1.0-28-amd64 page_kib=4
 *   MBG1 sample seq=42 total_kib=... free_kib=... active_anon_kib=...
 *        inactive_anon_kib=... active_file_kib=... inactive_file_kib=...
 *        pswpin=... pswpout=... [psi_some_avg10=0.00 psi_full_avg10=0.00
 *        psi_some_total=...] [refault_anon=... refault_file=...
 *        activate_anon=... activate_file=...] [swap_used_kib=...]
 *        [low_kib=...] [urgent=1..7]
 *
 * The guest is untrusted: the parser is pure C (no GLib, no allocation),
 * takes strict decimal numbers only, ignores unknown keys, rejects
 * duplicates, over-long lines and missing required keys. Clamping to the
 * VM's size is the planner's job (mb_vm_observe), on the host. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MB_GUEST_PROTO_MAGIC "MBG1"
#define MB_GUEST_PROTO_VERSION 1
/* With every optional key at its largest value a sample is 598 bytes; 1024
 * leaves room for keys to come. Hosts from before the optional keys took
 * 512, which real records stay well under (docs/guest-protocol.md). */
#define MB_GUEST_PROTO_LINE_MAX 1024
#define MB_GUEST_PROTO_CHANNEL "org.smarttv.membalancer.0"

/* Why the agent sent a record at once instead of on its period (the
 * urgent= key's bits). */
#define MB_GUEST_URGENT_PSI 1u  /* the PSI trigger fired */
#define MB_GUEST_URGENT_LOW 2u  /* free memory fell toward the low watermark */
#define MB_GUEST_URGENT_SWAP 4u /* the guest started to swap out */
#define MB_GUEST_URGENT_ALL (MB_GUEST_URGENT_PSI | MB_GUEST_URGENT_LOW | MB_GUEST_URGENT_SWAP)

/* One sample record: the guest's own statistics for one interval, as the
 * agent claims them. Cumulative counters (swap_in_pages, swap_out_pages and
 * the workingset counters) are the guest's /proc/vmstat values. */
typedef struct {
    uint64_t total_kib;
    uint64_t free_kib;
    uint64_t active_anon_kib;
    uint64_t inactive_anon_kib;
    uint64_t active_file_kib;
    uint64_t inactive_file_kib;
    uint64_t swap_in_pages;  /* pswpin */
    uint64_t swap_out_pages; /* pswpout */
    bool has_psi;
    double psi_some_avg10;
    double psi_full_avg10;

    /* Optional keys, added to MBG1 without a version bump; an older agent
     * leaves them 0/false. */
    bool has_refaults;            /* the four workingset counters below */
    uint64_t refault_anon_pages;  /* workingset_refault_anon */
    uint64_t refault_file_pages;  /* workingset_refault_file */
    uint64_t activate_anon_pages; /* workingset_activate_anon */
    uint64_t activate_file_pages; /* workingset_activate_file */
    bool has_swap_used;
    uint64_t swap_used_kib;     /* SwapTotal - SwapFree */
    uint64_t low_wmark_kib;     /* sum of the zones' low watermarks; 0 unknown */
    uint64_t psi_some_total_us; /* /proc/pressure/memory some total= (has_psi) */
    unsigned urgent;            /* MB_GUEST_URGENT_* bits; 0 for a periodic record */
} MbGuestSample;

typedef enum {
    MB_GUEST_RECORD_HELLO = 1,
    MB_GUEST_RECORD_SAMPLE,
} MbGuestRecordKind;

typedef struct {
    MbGuestRecordKind kind;
    /* hello */
    unsigned version;
    char kernel[65]; /* utsname release, truncated */
    unsigned page_kib;
    /* sample */
    uint64_t seq;
    MbGuestSample sample;
} MbGuestMessage;

/* Parses one line (without or with its trailing '\n'). On failure returns
 * false and writes a short reason (static string) to *why. */
bool mb_guest_message_parse(const char *line, size_t len, MbGuestMessage *out,
                            const char **why);

/* Formats a sample record into buf (for the agent and tests); returns the
 * length written including the newline, or 0 if buf is too small. A NUL
 * follows the newline (not counted), so size must leave room for it.
 * PSI values are written with two decimals, clamped to 0..100 (NaN: 0).
 * Optional keys are written when present: the PSI keys (with
 * psi_some_total) when has_psi, the workingset keys when has_refaults,
 * swap_used_kib when has_swap_used, low_kib when low_wmark_kib is not 0,
 * urgent when urgent & MB_GUEST_URGENT_ALL is not 0 (other bits are dropped). */
size_t mb_guest_message_format_sample(char *buf, size_t size, uint64_t seq,
                                      const MbGuestSample *s);

/* Formats the hello record (version MB_GUEST_PROTO_VERSION); kernel is
 * truncated to 64 bytes, bytes other than printable non-space ASCII become
 * '_', NULL or "" becomes "unknown". Same return convention as above. */
size_t mb_guest_message_format_hello(char *buf, size_t size, const char *kernel,
                                     unsigned page_kib);

#ifdef __cplusplus
}
#endif
