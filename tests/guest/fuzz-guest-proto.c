/* libFuzzer target for the guest protocol parser (untrusted input from
 * every guest). Also linked into fuzz-guest-proto-smoke, which drives it
 * with pseudo-random and mutated inputs where libFuzzer is unavailable.
 *
 * Invariants: no crash or out-of-bounds read (the input buffer is exactly
 * size bytes); a rejection gives a reason; an accepted record is
 * consistent, and a sample re-formats to a line that parses to the same
 * record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mb-guest-wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond))                                                                           \
            abort();                                                                           \
    } while (0)

static void
check_accepted(const uint8_t *data, size_t size, const MbGuestMessage *rec)
{
    size_t body = size > 0 && data[size - 1] == '\n' ? size - 1 : size;

    CHECK(body < MB_GUEST_PROTO_LINE_MAX);
    CHECK(memchr(data, '\0', size) == NULL);
    CHECK(memcmp(data, MB_GUEST_PROTO_MAGIC " ", 5) == 0);
    CHECK(memchr(rec->kernel, '\0', sizeof rec->kernel) != NULL);

    if (rec->kind == MB_GUEST_RECORD_HELLO) {
        CHECK(rec->version >= 1);
        CHECK(rec->page_kib >= 1 && (rec->page_kib & (rec->page_kib - 1)) == 0);
        CHECK(rec->kernel[0] != '\0');
        return;
    }
    CHECK(rec->kind == MB_GUEST_RECORD_SAMPLE);
    const MbGuestSample *s = &rec->sample;
    if (s->has_psi) {
        CHECK(s->psi_some_avg10 >= 0.0 && s->psi_some_avg10 <= 100.0);
        CHECK(s->psi_full_avg10 >= 0.0 && s->psi_full_avg10 <= 100.0);
    } else {
        CHECK(s->psi_some_avg10 == 0.0 && s->psi_full_avg10 == 0.0);
    }

    char line[MB_GUEST_PROTO_LINE_MAX + 1];
    MbGuestMessage again;
    const char *why = NULL;
    size_t len = mb_guest_message_format_sample(line, sizeof line, rec->seq, s);
    CHECK(len > 0 && len <= MB_GUEST_PROTO_LINE_MAX && line[len - 1] == '\n');
    CHECK(mb_guest_message_parse(line, len, &again, &why));
    CHECK(again.kind == MB_GUEST_RECORD_SAMPLE && again.seq == rec->seq);
    CHECK(memcmp(&again.sample, s, sizeof *s) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    MbGuestMessage rec, rec2;
    const char *why = NULL, *why2 = NULL;

    bool ok = mb_guest_message_parse((const char *)data, size, &rec, &why);
    bool ok2 = mb_guest_message_parse((const char *)data, size, &rec2, &why2);
    CHECK(ok == ok2 && why == why2);
    if (!ok) {
        CHECK(why != NULL && why[0] != '\0');
        return 0;
    }
    CHECK(why == NULL);
    CHECK(memcmp(&rec, &rec2, sizeof rec) == 0);
    check_accepted(data, size, &rec);
    return 0;
}
