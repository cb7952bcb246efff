/* The guest agent's wire protocol (docs/guest-protocol.md), host side.
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
 * VM's size is the policy library's job (mb_vm_observe). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mb-policy.h"

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
    MbSample sample;
} MbGuestRecord;

/* Parses one line (without or with its trailing '\n'). On failure returns
 * false and writes a short reason (static string) to *why. */
bool mb_guest_record_parse(const char *line, size_t len, MbGuestRecord *out, const char **why);

/* Formats a sample record into buf (for the agent and tests); returns the
 * length written including the newline, or 0 if buf is too small. A NUL
 * follows the newline (not counted), so size must leave room for it.
 * PSI values are written with two decimals, clamped to 0..100 (NaN: 0).
 * Optional keys are written when present: the PSI keys (with
 * psi_some_total) when has_psi, the workingset keys when has_refaults,
 * swap_used_kib when has_swap_used, low_kib when low_wmark_kib is not 0,
 * urgent when urgent & MB_URGENT_ALL is not 0 (other bits are dropped). */
size_t mb_guest_record_format_sample(char *buf, size_t size, uint64_t seq, const MbSample *s);

/* Formats the hello record (version MB_GUEST_PROTO_VERSION); kernel is
 * truncated to 64 bytes, bytes other than printable non-space ASCII become
 * '_', NULL or "" becomes "unknown". Same return convention as above. */
size_t mb_guest_record_format_hello(char *buf, size_t size, const char *kernel,
                                    unsigned page_kib);

#ifdef __cplusplus
}
#endif
