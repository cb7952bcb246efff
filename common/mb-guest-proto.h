/* The host's view of the guest protocol (common/mb-guest-wire.h), in the
 * planner's terms: a record whose sample is the planner's MbSample, and the
 * conversions between the two. The protocol itself knows nothing of the
 * planner (the agent links it alone); this header is for the host, which
 * hands what it parsed to the planner (service/mb-guest-channel.c) and
 * tests that write records from planner samples. Inline, so that the common
 * layer links nothing of policy/. Once service/mb-guest-channel.c converts
 * with its own copy of these few lines, this header goes. */
#pragma once

#include "mb-guest-wire.h"
#include "mb-policy.h"

#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The urgent reasons are the planner's: one set of bits on both sides. */
_Static_assert(MB_GUEST_URGENT_PSI == MB_URGENT_PSI, "urgent bits");
_Static_assert(MB_GUEST_URGENT_LOW == MB_URGENT_LOW, "urgent bits");
_Static_assert(MB_GUEST_URGENT_SWAP == MB_URGENT_SWAP, "urgent bits");
/* A field added to one sample type must be added to the other and to
 * MB_GUEST_SAMPLE_FIELDS. */
_Static_assert(sizeof(MbGuestSample) == sizeof(MbSample), "the two sample types differ");

/* Every field of a sample, once: both conversions copy this list. */
#define MB_GUEST_SAMPLE_FIELDS(X)                                                              \
    X(total_kib)                                                                               \
    X(free_kib)                                                                                \
    X(active_anon_kib)                                                                         \
    X(inactive_anon_kib)                                                                       \
    X(active_file_kib)                                                                         \
    X(inactive_file_kib)                                                                       \
    X(swap_in_pages)                                                                           \
    X(swap_out_pages)                                                                          \
    X(has_psi)                                                                                 \
    X(psi_some_avg10)                                                                          \
    X(psi_full_avg10)                                                                          \
    X(has_refaults)                                                                            \
    X(refault_anon_pages)                                                                      \
    X(refault_file_pages)                                                                      \
    X(activate_anon_pages)                                                                     \
    X(activate_file_pages)                                                                     \
    X(has_swap_used)                                                                           \
    X(swap_used_kib)                                                                           \
    X(low_wmark_kib)                                                                           \
    X(psi_some_total_us)                                                                       \
    X(urgent)

#define MB_GUEST_SAMPLE_COPY_(field) out->field = in->field;

static inline void
mb_guest_sample_to_policy(const MbGuestSample *in, MbSample *out)
{
    MB_GUEST_SAMPLE_FIELDS(MB_GUEST_SAMPLE_COPY_)
}

static inline void
mb_guest_sample_from_policy(const MbSample *in, MbGuestSample *out)
{
    MB_GUEST_SAMPLE_FIELDS(MB_GUEST_SAMPLE_COPY_)
}

/* A parsed line as the host keeps it: MbGuestMessage with the planner's sample. */
typedef struct {
    MbGuestRecordKind kind;
    unsigned version;
    char kernel[sizeof(((MbGuestMessage *)0)->kernel)];
    unsigned page_kib;
    uint64_t seq;
    MbSample sample;
} MbGuestRecord;

/* mb_guest_message_parse(), the sample converted. */
static inline bool
mb_guest_record_parse(const char *line, size_t len, MbGuestRecord *out, const char **why)
{
    MbGuestMessage message;

    if (!mb_guest_message_parse(line, len, &message, why))
        return false;
    out->kind = message.kind;
    out->version = message.version;
    memcpy(out->kernel, message.kernel, sizeof(out->kernel));
    out->page_kib = message.page_kib;
    out->seq = message.seq;
    mb_guest_sample_to_policy(&message.sample, &out->sample);
    return true;
}

/* mb_guest_message_format_sample() of a planner sample. */
static inline size_t
mb_guest_record_format_sample(char *buf, size_t size, uint64_t seq, const MbSample *s)
{
    MbGuestSample sample;

    mb_guest_sample_from_policy(s, &sample);
    return mb_guest_message_format_sample(buf, size, seq, &sample);
}

static inline size_t
mb_guest_record_format_hello(char *buf, size_t size, const char *kernel, unsigned page_kib)
{
    return mb_guest_message_format_hello(buf, size, kernel, page_kib);
}

#ifdef __cplusplus
}
#endif
