/* The host's view of the guest protocol (common/mb-guest-proto.h): every
 * field of a sample survives the conversions to and from the planner's
 * MbSample, and a record written from a planner sample parses back whole. */
#include <glib.h>
#include <string.h>

#include "mb-guest-proto.h"

/* Every field a value of its own, so that a field copied into another or
 * left out shows. */
static MbSample
distinct_sample(void)
{
    return (MbSample){
        .total_kib = 2048001,
        .free_kib = 512002,
        .active_anon_kib = 600003,
        .inactive_anon_kib = 200004,
        .active_file_kib = 300005,
        .inactive_file_kib = 300006,
        .swap_in_pages = 107,
        .swap_out_pages = 4508,
        .has_psi = true,
        .psi_some_avg10 = 12.34,
        .psi_full_avg10 = 5.6,
        .has_refaults = true,
        .refault_anon_pages = 11,
        .refault_file_pages = 3548712,
        .activate_anon_pages = 13,
        .activate_file_pages = 1536414,
        .has_swap_used = true,
        .swap_used_kib = 48576,
        .low_wmark_kib = 12000,
        .psi_some_total_us = 123456,
        .urgent = MB_URGENT_PSI | MB_URGENT_SWAP,
    };
}

static void
assert_same(const MbSample *a, const MbSample *b)
{
    g_assert_cmpuint(a->total_kib, ==, b->total_kib);
    g_assert_cmpuint(a->free_kib, ==, b->free_kib);
    g_assert_cmpuint(a->active_anon_kib, ==, b->active_anon_kib);
    g_assert_cmpuint(a->inactive_anon_kib, ==, b->inactive_anon_kib);
    g_assert_cmpuint(a->active_file_kib, ==, b->active_file_kib);
    g_assert_cmpuint(a->inactive_file_kib, ==, b->inactive_file_kib);
    g_assert_cmpuint(a->swap_in_pages, ==, b->swap_in_pages);
    g_assert_cmpuint(a->swap_out_pages, ==, b->swap_out_pages);
    g_assert_cmpint(a->has_psi, ==, b->has_psi);
    g_assert_cmpfloat_with_epsilon(a->psi_some_avg10, b->psi_some_avg10, 1e-9);
    g_assert_cmpfloat_with_epsilon(a->psi_full_avg10, b->psi_full_avg10, 1e-9);
    g_assert_cmpint(a->has_refaults, ==, b->has_refaults);
    g_assert_cmpuint(a->refault_anon_pages, ==, b->refault_anon_pages);
    g_assert_cmpuint(a->refault_file_pages, ==, b->refault_file_pages);
    g_assert_cmpuint(a->activate_anon_pages, ==, b->activate_anon_pages);
    g_assert_cmpuint(a->activate_file_pages, ==, b->activate_file_pages);
    g_assert_cmpint(a->has_swap_used, ==, b->has_swap_used);
    g_assert_cmpuint(a->swap_used_kib, ==, b->swap_used_kib);
    g_assert_cmpuint(a->low_wmark_kib, ==, b->low_wmark_kib);
    g_assert_cmpuint(a->psi_some_total_us, ==, b->psi_some_total_us);
    g_assert_cmpuint(a->urgent, ==, b->urgent);
}

static void
test_convert(void)
{
    MbSample in = distinct_sample(), out;
    MbGuestSample wire;

    memset(&out, 0, sizeof(out));
    mb_guest_sample_from_policy(&in, &wire);
    g_assert_cmpuint(wire.swap_out_pages, ==, 4508);
    g_assert_cmpuint(wire.urgent, ==, MB_GUEST_URGENT_PSI | MB_GUEST_URGENT_SWAP);
    mb_guest_sample_to_policy(&wire, &out);
    assert_same(&in, &out);
}

static void
test_record_round_trip(void)
{
    MbSample in = distinct_sample();
    MbGuestRecord rec;
    char line[MB_GUEST_PROTO_LINE_MAX + 1];
    const char *why = NULL;
    size_t len = mb_guest_record_format_sample(line, sizeof(line), 42, &in);

    g_assert_cmpuint(len, >, 0);
    g_assert_true(mb_guest_record_parse(line, len, &rec, &why));
    g_assert_cmpint(rec.kind, ==, MB_GUEST_RECORD_SAMPLE);
    g_assert_cmpuint(rec.seq, ==, 42);
    assert_same(&in, &rec.sample);

    len = mb_guest_record_format_hello(line, sizeof(line), "6.1.0-28-amd64", 4);
    g_assert_true(mb_guest_record_parse(line, len, &rec, &why));
    g_assert_cmpint(rec.kind, ==, MB_GUEST_RECORD_HELLO);
    g_assert_cmpstr(rec.kernel, ==, "6.1.0-28-amd64");
    g_assert_cmpuint(rec.page_kib, ==, 4);
    g_assert_false(mb_guest_record_parse("MBG1 nonsense", 13, &rec, &why));
    g_assert_nonnull(why);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/common/guest-proto/convert", test_convert);
    g_test_add_func("/common/guest-proto/record-round-trip", test_record_round_trip);
    return g_test_run();
}
