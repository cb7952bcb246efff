/* Unit tests of the guest wire protocol: good records, each kind of bad
 * record, and the formatter's round trip. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "mb-guest-wire.h"

#define SAMPLE_BASE                                                                            \
    "MBG1 sample seq=42 total_kib=1048576 free_kib=65536 active_anon_kib=300000 "              \
    "inactive_anon_kib=200000 active_file_kib=150000 inactive_file_kib=100000 pswpin=7 "       \
    "pswpout=9"

static bool
parse_str(const char *line, MbGuestMessage *rec, const char **why)
{
    return mb_guest_message_parse(line, strlen(line), rec, why);
}

static void
assert_rejected(const char *line, const char *expected_why)
{
    MbGuestMessage rec;
    const char *why = NULL;

    if (parse_str(line, &rec, &why))
        g_error("accepted: %s", line);
    g_assert_nonnull(why);
    if (expected_why)
        g_assert_cmpstr(why, ==, expected_why);
}

static void
test_sample_good(void)
{
    MbGuestMessage rec;
    const char *why = "unset";

    g_assert_true(parse_str(SAMPLE_BASE, &rec, &why));
    g_assert_null(why);
    g_assert_cmpint(rec.kind, ==, MB_GUEST_RECORD_SAMPLE);
    g_assert_cmpuint(rec.seq, ==, 42);
    g_assert_cmpuint(rec.sample.total_kib, ==, 1048576);
    g_assert_cmpuint(rec.sample.free_kib, ==, 65536);
    g_assert_cmpuint(rec.sample.active_anon_kib, ==, 300000);
    g_assert_cmpuint(rec.sample.inactive_anon_kib, ==, 200000);
    g_assert_cmpuint(rec.sample.active_file_kib, ==, 150000);
    g_assert_cmpuint(rec.sample.inactive_file_kib, ==, 100000);
    g_assert_cmpuint(rec.sample.swap_in_pages, ==, 7);
    g_assert_cmpuint(rec.sample.swap_out_pages, ==, 9);
    g_assert_false(rec.sample.has_psi);
    /* A record of an agent from before the optional keys. */
    g_assert_false(rec.sample.has_refaults);
    g_assert_cmpuint(rec.sample.refault_anon_pages, ==, 0);
    g_assert_cmpuint(rec.sample.activate_file_pages, ==, 0);
    g_assert_false(rec.sample.has_swap_used);
    g_assert_cmpuint(rec.sample.swap_used_kib, ==, 0);
    g_assert_cmpuint(rec.sample.low_wmark_kib, ==, 0);
    g_assert_cmpuint(rec.sample.psi_some_total_us, ==, 0);
    g_assert_cmpuint(rec.sample.urgent, ==, 0);

    /* With its newline, with PSI, fields in any order, unknown keys. */
    g_assert_true(parse_str(SAMPLE_BASE "\n", &rec, &why));
    g_assert_true(
        parse_str(SAMPLE_BASE " psi_some_avg10=12.34 psi_full_avg10=0.5", &rec, &why));
    g_assert_true(rec.sample.has_psi);
    g_assert_cmpfloat_with_epsilon(rec.sample.psi_some_avg10, 12.34, 1e-9);
    g_assert_cmpfloat_with_epsilon(rec.sample.psi_full_avg10, 0.5, 1e-9);
    g_assert_true(
        parse_str(SAMPLE_BASE " psi_some_avg10=100 psi_full_avg10=100.00", &rec, &why));
    g_assert_cmpfloat(rec.sample.psi_some_avg10, ==, 100.0);
    g_assert_true(parse_str("MBG1 sample pswpout=0 pswpin=0 inactive_file_kib=0 "
                            "active_file_kib=0 inactive_anon_kib=0 active_anon_kib=0 "
                            "free_kib=0 total_kib=18446744073709551615 seq=0 future_key=x "
                            "other=",
                            &rec, &why));
    g_assert_cmpuint(rec.sample.total_kib, ==, G_MAXUINT64);
    /* One PSI value alone: valid, but no PSI. */
    g_assert_true(parse_str(SAMPLE_BASE " psi_some_avg10=3.00", &rec, &why));
    g_assert_false(rec.sample.has_psi);
    g_assert_cmpfloat(rec.sample.psi_some_avg10, ==, 0.0);
    /* Hello keys mean nothing in a sample. */
    g_assert_true(parse_str(SAMPLE_BASE " version=x kernel= page_kib=3", &rec, &why));
}

#define OPTIONAL_ALL                                                                           \
    " psi_some_avg10=1.50 psi_full_avg10=0.25 psi_some_total=123456789 refault_anon=11 "       \
    "refault_file=22 activate_anon=33 activate_file=44 swap_used_kib=5555 low_kib=6666 "       \
    "urgent=5"

static void
test_sample_optional(void)
{
    MbGuestMessage rec;
    const char *why = NULL;

    g_assert_true(parse_str(SAMPLE_BASE OPTIONAL_ALL, &rec, &why));
    g_assert_true(rec.sample.has_psi);
    g_assert_cmpuint(rec.sample.psi_some_total_us, ==, 123456789);
    g_assert_true(rec.sample.has_refaults);
    g_assert_cmpuint(rec.sample.refault_anon_pages, ==, 11);
    g_assert_cmpuint(rec.sample.refault_file_pages, ==, 22);
    g_assert_cmpuint(rec.sample.activate_anon_pages, ==, 33);
    g_assert_cmpuint(rec.sample.activate_file_pages, ==, 44);
    g_assert_true(rec.sample.has_swap_used);
    g_assert_cmpuint(rec.sample.swap_used_kib, ==, 5555);
    g_assert_cmpuint(rec.sample.low_wmark_kib, ==, 6666);
    g_assert_cmpuint(rec.sample.urgent, ==, MB_GUEST_URGENT_PSI | MB_GUEST_URGENT_SWAP);

    /* Every urgent bit set alone and together. */
    for (unsigned u = 1; u <= MB_GUEST_URGENT_ALL; u++) {
        g_autofree char *line = g_strdup_printf(SAMPLE_BASE " urgent=%u", u);
        g_assert_true(parse_str(line, &rec, &why));
        g_assert_cmpuint(rec.sample.urgent, ==, u);
    }

    /* Three of the four workingset counters: validated, then ignored. */
    g_assert_true(
        parse_str(SAMPLE_BASE " refault_anon=1 refault_file=2 activate_anon=3", &rec, &why));
    g_assert_false(rec.sample.has_refaults);
    g_assert_cmpuint(rec.sample.refault_anon_pages, ==, 0);
    g_assert_cmpuint(rec.sample.refault_file_pages, ==, 0);
    g_assert_cmpuint(rec.sample.activate_anon_pages, ==, 0);
    assert_rejected(SAMPLE_BASE " refault_anon=1 refault_file=x", "bad value");

    /* The PSI total belongs to the PSI pair: alone it is ignored; the pair
     * without it is PSI with a total of 0. */
    g_assert_true(parse_str(SAMPLE_BASE " psi_some_total=77", &rec, &why));
    g_assert_false(rec.sample.has_psi);
    g_assert_cmpuint(rec.sample.psi_some_total_us, ==, 0);
    g_assert_true(parse_str(SAMPLE_BASE " psi_some_total=77 psi_some_avg10=1", &rec, &why));
    g_assert_false(rec.sample.has_psi);
    g_assert_cmpuint(rec.sample.psi_some_total_us, ==, 0);
    g_assert_true(parse_str(SAMPLE_BASE " psi_some_avg10=1 psi_full_avg10=0", &rec, &why));
    g_assert_true(rec.sample.has_psi);
    g_assert_cmpuint(rec.sample.psi_some_total_us, ==, 0);

    /* Zero is a value: no swap in use; an unknown watermark. */
    g_assert_true(parse_str(SAMPLE_BASE " swap_used_kib=0 low_kib=0", &rec, &why));
    g_assert_true(rec.sample.has_swap_used);
    g_assert_cmpuint(rec.sample.swap_used_kib, ==, 0);
    g_assert_cmpuint(rec.sample.low_wmark_kib, ==, 0);

    /* The new keys mean nothing in a hello. */
    g_assert_true(
        parse_str("MBG1 hello version=1 kernel=x page_kib=4 urgent=99 low_kib=x", &rec, &why));
}

static void
test_bad_optional(void)
{
    static const char *const keys[] = {
        "refault_anon",  "refault_file", "activate_anon",  "activate_file",
        "swap_used_kib", "low_kib",      "psi_some_total", "urgent",
    };
    static const char *const bad_numbers[] = {
        "-1", "+1", "0x10", "01", "1e3", "1.0", "", "18446744073709551616", "1a", "a",
    };
    static const char *const bad_urgent[] = {"0", "8", "9", "15", "4294967297", "00", "07"};

    for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
        for (size_t i = 0; i < G_N_ELEMENTS(bad_numbers); i++) {
            g_autofree char *line =
                g_strdup_printf(SAMPLE_BASE " %s=%s", keys[k], bad_numbers[i]);
            assert_rejected(line, "bad value");
        }
        g_autofree char *dup = g_strdup_printf(SAMPLE_BASE " %s=1 %s=1", keys[k], keys[k]);
        assert_rejected(dup, "duplicate key");
    }
    for (size_t i = 0; i < G_N_ELEMENTS(bad_urgent); i++) {
        g_autofree char *line = g_strdup_printf(SAMPLE_BASE " urgent=%s", bad_urgent[i]);
        assert_rejected(line, "bad value");
    }
    /* A bad value in a group that would be ignored still rejects the line. */
    assert_rejected(SAMPLE_BASE " psi_some_total=-1", "bad value");
    /* The required keys stay required with every optional key present. */
    assert_rejected("MBG1 sample seq=1" OPTIONAL_ALL, "missing required key");
}

static void
test_hello_good(void)
{
    MbGuestMessage rec;
    const char *why = NULL;
    char line[MB_GUEST_PROTO_LINE_MAX + 1];
    g_autofree char *long_kernel = g_strnfill(100, 'k');

    g_assert_true(
        parse_str("MBG1 hello version=1 kernel=6.1.0-28-amd64 page_kib=4\n", &rec, &why));
    g_assert_cmpint(rec.kind, ==, MB_GUEST_RECORD_HELLO);
    g_assert_cmpuint(rec.version, ==, 1);
    g_assert_cmpstr(rec.kernel, ==, "6.1.0-28-amd64");
    g_assert_cmpuint(rec.page_kib, ==, 4);
    /* Later versions add keys: still a hello. */
    g_assert_true(
        parse_str("MBG1 hello version=2 kernel=x page_kib=64 features=a,b", &rec, &why));
    g_assert_cmpuint(rec.version, ==, 2);

    g_assert_cmpuint(mb_guest_message_format_hello(line, sizeof line, long_kernel, 4), >, 0);
    g_assert_true(parse_str(line, &rec, &why));
    g_assert_cmpuint(strlen(rec.kernel), ==, 64);
    g_assert_cmpuint(mb_guest_message_format_hello(line, sizeof line, "a b\tc", 16), >, 0);
    g_assert_cmpstr(line, ==, "MBG1 hello version=1 kernel=a_b_c page_kib=16\n");
    g_assert_cmpuint(mb_guest_message_format_hello(line, sizeof line, NULL, 4), >, 0);
    g_assert_cmpstr(line, ==, "MBG1 hello version=1 kernel=unknown page_kib=4\n");
}

static void
test_bad_numbers(void)
{
    static const char *const bad[] = {
        "-1",
        "+1",
        "0x10",
        "01",
        "1e3",
        "1.0",
        "",
        " 1",
        "18446744073709551616",
        "99999999999999999999",
        "123456789012345678901",
        "1a",
        "a",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *line =
            g_strdup_printf("MBG1 sample seq=%s total_kib=1 free_kib=1 active_anon_kib=1 "
                            "inactive_anon_kib=1 active_file_kib=1 inactive_file_kib=1 "
                            "pswpin=1 pswpout=1",
                            bad[i]);
        assert_rejected(line, NULL);
    }
}

static void
test_bad_psi(void)
{
    static const char *const bad[] = {
        "100.01", "101", "1000", "-1", "+1",  "1.",  ".5",  "1.234",
        "01.00",  "1,5", "0x1",  "",   "nan", "inf", "1e1",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *line =
            g_strdup_printf(SAMPLE_BASE " psi_some_avg10=%s psi_full_avg10=0.00", bad[i]);
        assert_rejected(line, NULL);
    }
}

static void
test_bad_structure(void)
{
    assert_rejected("", "bad magic");
    assert_rejected("MBG2 sample seq=1", "bad magic");
    assert_rejected("mbg1 hello version=1 kernel=x page_kib=4", "bad magic");
    assert_rejected("MBG1", "bad magic");
    assert_rejected("MBG1 goodbye seq=1", "unknown record kind");
    assert_rejected("MBG1 sample", "missing required key");
    assert_rejected("MBG1 hello version=1 kernel=x", "missing required key");
    assert_rejected("MBG1 hello version=0 kernel=x page_kib=4", "bad value");
    assert_rejected("MBG1 hello version=1 kernel= page_kib=4", "bad value");
    assert_rejected("MBG1 hello version=1 kernel=x page_kib=3", "bad value");
    assert_rejected("MBG1 hello version=1 kernel=x page_kib=0", "bad value");
    assert_rejected("MBG1 hello version=1 kernel=x page_kib=2097152", "bad value");
    assert_rejected(SAMPLE_BASE " seq=43", "duplicate key");
    assert_rejected(SAMPLE_BASE " x=1 x=2", "duplicate key");
    assert_rejected(SAMPLE_BASE " psi_some_avg10=1 psi_some_avg10=1", "duplicate key");
    assert_rejected(SAMPLE_BASE " novalue", "field without '='");
    assert_rejected(SAMPLE_BASE " =1", "bad key");
    assert_rejected(SAMPLE_BASE " Seq=1", "bad key");
    assert_rejected(SAMPLE_BASE " 1x=1", "bad key");
    assert_rejected(SAMPLE_BASE " a-b=1", "bad key");
    assert_rejected(SAMPLE_BASE " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1", "bad key");
    assert_rejected(SAMPLE_BASE "  x=1", "bad spacing");
    assert_rejected(SAMPLE_BASE " ", "bad spacing");
    assert_rejected(" " SAMPLE_BASE, "bad spacing");
    assert_rejected(SAMPLE_BASE "\n\n", "non-printable byte");
    assert_rejected(SAMPLE_BASE "\r\n", "non-printable byte");
    assert_rejected(SAMPLE_BASE " x=\t", "non-printable byte");
    assert_rejected(SAMPLE_BASE " x=\x7f", "non-printable byte");
    assert_rejected(SAMPLE_BASE " x=\xc3\xa9", "non-printable byte");
}

static void
test_nul_byte(void)
{
    MbGuestMessage rec;
    const char *why = NULL;
    char line[sizeof SAMPLE_BASE + 8] = SAMPLE_BASE " x=1";

    line[sizeof SAMPLE_BASE + 2] = '\0';
    g_assert_false(mb_guest_message_parse(line, sizeof SAMPLE_BASE + 4, &rec, &why));
    g_assert_cmpstr(why, ==, "non-printable byte");
    /* The length is what counts, not a terminator: a prefix cut mid-key. */
    g_assert_false(mb_guest_message_parse(SAMPLE_BASE, 20, &rec, &why));
    g_assert_false(mb_guest_message_parse(NULL, 0, &rec, &why));
    g_assert_false(mb_guest_message_parse(SAMPLE_BASE, 0, &rec, NULL));
}

static void
test_line_length(void)
{
    MbGuestMessage rec;
    const char *why = NULL;
    GString *line = g_string_new(SAMPLE_BASE " pad=");

    /* Exactly LINE_MAX with the newline: accepted; one more byte: not. */
    while (line->len < MB_GUEST_PROTO_LINE_MAX - 1)
        g_string_append_c(line, 'p');
    g_assert_true(mb_guest_message_parse(line->str, line->len, &rec, &why));
    g_string_append_c(line, '\n');
    g_assert_cmpuint(line->len, ==, MB_GUEST_PROTO_LINE_MAX);
    g_assert_true(mb_guest_message_parse(line->str, line->len, &rec, &why));
    g_string_insert_c(line, line->len - 1, 'p');
    g_assert_false(mb_guest_message_parse(line->str, line->len, &rec, &why));
    g_assert_cmpstr(why, ==, "line too long");
    g_assert_false(mb_guest_message_parse(line->str, line->len - 1, &rec, &why));
    g_string_free(line, TRUE);

    /* Many tiny unknown keys: the duplicate check copes. */
    line = g_string_new(SAMPLE_BASE);
    for (unsigned i = 0; line->len + 4 < MB_GUEST_PROTO_LINE_MAX; i++)
        g_string_append_printf(line, " %c%c=", 'a' + i % 26, 'a' + i / 26 % 26);
    g_assert_true(mb_guest_message_parse(line->str, line->len, &rec, &why));
    g_string_append(line, " aa=");
    g_assert_false(mb_guest_message_parse(line->str, line->len, &rec, &why));
    g_string_free(line, TRUE);
}

static void
test_format_round_trip(void)
{
    char buf[MB_GUEST_PROTO_LINE_MAX + 1];
    MbGuestSample s = {
        .total_kib = G_MAXUINT64,
        .free_kib = G_MAXUINT64,
        .active_anon_kib = G_MAXUINT64,
        .inactive_anon_kib = G_MAXUINT64,
        .active_file_kib = G_MAXUINT64,
        .inactive_file_kib = G_MAXUINT64,
        .swap_in_pages = G_MAXUINT64,
        .swap_out_pages = G_MAXUINT64,
        .has_psi = true,
        .psi_some_avg10 = 99.995,
        .psi_full_avg10 = 100.0,
        .psi_some_total_us = G_MAXUINT64,
        .has_refaults = true,
        .refault_anon_pages = G_MAXUINT64,
        .refault_file_pages = G_MAXUINT64,
        .activate_anon_pages = G_MAXUINT64,
        .activate_file_pages = G_MAXUINT64,
        .has_swap_used = true,
        .swap_used_kib = G_MAXUINT64,
        .low_wmark_kib = G_MAXUINT64,
        .urgent = MB_GUEST_URGENT_ALL,
    };
    MbGuestMessage rec;
    const char *why = NULL;

    /* The longest sample there is: every key, every number 20 digits. */
    size_t len = mb_guest_message_format_sample(buf, sizeof buf, G_MAXUINT64, &s);
    g_assert_cmpuint(len, ==, 598);
    g_assert_cmpuint(len, <=, MB_GUEST_PROTO_LINE_MAX);
    g_assert_cmpuint(len, ==, strlen(buf));
    g_assert_cmpint(buf[len - 1], ==, '\n');
    g_assert_true(mb_guest_message_parse(buf, len, &rec, &why));
    g_assert_cmpuint(rec.seq, ==, G_MAXUINT64);
    g_assert_cmpuint(rec.sample.swap_out_pages, ==, G_MAXUINT64);
    g_assert_cmpfloat(rec.sample.psi_some_avg10, ==, 100.0);
    g_assert_cmpfloat(rec.sample.psi_full_avg10, ==, 100.0);
    g_assert_cmpuint(rec.sample.psi_some_total_us, ==, G_MAXUINT64);
    g_assert_true(rec.sample.has_refaults);
    g_assert_cmpuint(rec.sample.refault_anon_pages, ==, G_MAXUINT64);
    g_assert_cmpuint(rec.sample.refault_file_pages, ==, G_MAXUINT64);
    g_assert_cmpuint(rec.sample.activate_anon_pages, ==, G_MAXUINT64);
    g_assert_cmpuint(rec.sample.activate_file_pages, ==, G_MAXUINT64);
    g_assert_true(rec.sample.has_swap_used);
    g_assert_cmpuint(rec.sample.swap_used_kib, ==, G_MAXUINT64);
    g_assert_cmpuint(rec.sample.low_wmark_kib, ==, G_MAXUINT64);
    g_assert_cmpuint(rec.sample.urgent, ==, MB_GUEST_URGENT_ALL);

    s.psi_full_avg10 = 0.004;
    len = mb_guest_message_format_sample(buf, sizeof buf, 1, &s);
    g_assert_nonnull(strstr(buf, " psi_full_avg10=0.00 "));

    /* Out-of-range PSI is clamped by the formatter, never emitted as junk. */
    s.psi_some_avg10 = 250.0;
    s.psi_full_avg10 = -3.0;
    len = mb_guest_message_format_sample(buf, sizeof buf, 1, &s);
    g_assert_nonnull(strstr(buf, " psi_some_avg10=100.00 psi_full_avg10=0.00 "));
    s.psi_some_avg10 = NAN;
    len = mb_guest_message_format_sample(buf, sizeof buf, 1, &s);
    g_assert_nonnull(strstr(buf, " psi_some_avg10=0.00 "));
    g_assert_true(mb_guest_message_parse(buf, len, &rec, &why));

    /* Too small a buffer: 0, never a truncated line; exact fit works. */
    for (size_t size = 0; size <= len; size++)
        g_assert_cmpuint(mb_guest_message_format_sample(buf, size, 1, &s), ==, 0);
    g_assert_cmpuint(mb_guest_message_format_sample(buf, len + 1, 1, &s), ==, len);

    /* Urgent bits the protocol does not know are dropped, not sent. */
    s.urgent = 8 | MB_GUEST_URGENT_LOW;
    mb_guest_message_format_sample(buf, sizeof buf, 1, &s);
    g_assert_true(g_str_has_suffix(buf, " urgent=2\n"));
    s.urgent = 8;
    mb_guest_message_format_sample(buf, sizeof buf, 1, &s);
    g_assert_null(strstr(buf, "urgent="));

    memset(&s, 0, sizeof s);
    len = mb_guest_message_format_sample(buf, sizeof buf, 0, &s);
    g_assert_cmpstr(buf, ==,
                    "MBG1 sample seq=0 total_kib=0 free_kib=0 active_anon_kib=0 "
                    "inactive_anon_kib=0 active_file_kib=0 inactive_file_kib=0 pswpin=0 "
                    "pswpout=0\n");
    s.has_swap_used = true;
    s.has_refaults = true;
    s.has_psi = true;
    s.low_wmark_kib = 1;
    s.urgent = MB_GUEST_URGENT_SWAP;
    len = mb_guest_message_format_sample(buf, sizeof buf, 0, &s);
    g_assert_true(g_str_has_suffix(
        buf, " pswpout=0 psi_some_avg10=0.00 psi_full_avg10=0.00 psi_some_total=0 "
             "refault_anon=0 refault_file=0 activate_anon=0 activate_file=0 swap_used_kib=0 "
             "low_kib=1 urgent=4\n"));
}

/* Each field is written under its own key and parsed back into its own
 * field: every value distinct, so that two keys swapped or one left out
 * show (the round trip above has every number alike). */
static void
test_format_every_field(void)
{
    const MbGuestSample in = {
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
        .psi_some_total_us = 123456,
        .has_refaults = true,
        .refault_anon_pages = 11,
        .refault_file_pages = 3548712,
        .activate_anon_pages = 13,
        .activate_file_pages = 1536414,
        .has_swap_used = true,
        .swap_used_kib = 48576,
        .low_wmark_kib = 12000,
        .urgent = MB_GUEST_URGENT_PSI | MB_GUEST_URGENT_SWAP,
    };
    char line[MB_GUEST_PROTO_LINE_MAX + 1];
    MbGuestMessage rec;
    const char *why = NULL;
    size_t len = mb_guest_message_format_sample(line, sizeof line, 42, &in);

    g_assert_cmpuint(len, >, 0);
    g_assert_true(mb_guest_message_parse(line, len, &rec, &why));
    g_assert_cmpint(rec.kind, ==, MB_GUEST_RECORD_SAMPLE);
    g_assert_cmpuint(rec.seq, ==, 42);
    g_assert_cmpuint(rec.sample.total_kib, ==, in.total_kib);
    g_assert_cmpuint(rec.sample.free_kib, ==, in.free_kib);
    g_assert_cmpuint(rec.sample.active_anon_kib, ==, in.active_anon_kib);
    g_assert_cmpuint(rec.sample.inactive_anon_kib, ==, in.inactive_anon_kib);
    g_assert_cmpuint(rec.sample.active_file_kib, ==, in.active_file_kib);
    g_assert_cmpuint(rec.sample.inactive_file_kib, ==, in.inactive_file_kib);
    g_assert_cmpuint(rec.sample.swap_in_pages, ==, in.swap_in_pages);
    g_assert_cmpuint(rec.sample.swap_out_pages, ==, in.swap_out_pages);
    g_assert_true(rec.sample.has_psi);
    g_assert_cmpfloat_with_epsilon(rec.sample.psi_some_avg10, in.psi_some_avg10, 1e-9);
    g_assert_cmpfloat_with_epsilon(rec.sample.psi_full_avg10, in.psi_full_avg10, 1e-9);
    g_assert_cmpuint(rec.sample.psi_some_total_us, ==, in.psi_some_total_us);
    g_assert_true(rec.sample.has_refaults);
    g_assert_cmpuint(rec.sample.refault_anon_pages, ==, in.refault_anon_pages);
    g_assert_cmpuint(rec.sample.refault_file_pages, ==, in.refault_file_pages);
    g_assert_cmpuint(rec.sample.activate_anon_pages, ==, in.activate_anon_pages);
    g_assert_cmpuint(rec.sample.activate_file_pages, ==, in.activate_file_pages);
    g_assert_true(rec.sample.has_swap_used);
    g_assert_cmpuint(rec.sample.swap_used_kib, ==, in.swap_used_kib);
    g_assert_cmpuint(rec.sample.low_wmark_kib, ==, in.low_wmark_kib);
    g_assert_cmpuint(rec.sample.urgent, ==, in.urgent);

    len = mb_guest_message_format_hello(line, sizeof line, "6.1.0-28-amd64", 4);
    g_assert_true(mb_guest_message_parse(line, len, &rec, &why));
    g_assert_cmpint(rec.kind, ==, MB_GUEST_RECORD_HELLO);
    g_assert_cmpuint(rec.version, ==, MB_GUEST_PROTO_VERSION);
    g_assert_cmpstr(rec.kernel, ==, "6.1.0-28-amd64");
    g_assert_cmpuint(rec.page_kib, ==, 4);
}

/* Hosts from before the optional keys took 512 bytes: a big guest's
 * records, with every key, still fit that. */
static void
test_format_old_host_fits(void)
{
    char buf[MB_GUEST_PROTO_LINE_MAX + 1];
    const uint64_t kib = 64ull << 20, counter = 999999999999ull; /* 64 GiB; 12 digits */
    MbGuestSample s = {
        .total_kib = kib,
        .free_kib = kib,
        .active_anon_kib = kib,
        .inactive_anon_kib = kib,
        .active_file_kib = kib,
        .inactive_file_kib = kib,
        .swap_in_pages = counter,
        .swap_out_pages = counter,
        .has_psi = true,
        .psi_some_avg10 = 100.0,
        .psi_full_avg10 = 100.0,
        .psi_some_total_us = counter * 1000, /* a year of stalls */
        .has_refaults = true,
        .refault_anon_pages = counter,
        .refault_file_pages = counter,
        .activate_anon_pages = counter,
        .activate_file_pages = counter,
        .has_swap_used = true,
        .swap_used_kib = kib,
        .low_wmark_kib = kib,
        .urgent = MB_GUEST_URGENT_ALL,
    };

    size_t len = mb_guest_message_format_sample(buf, sizeof buf, counter, &s);
    g_assert_cmpuint(len, >, 0);
    g_assert_cmpuint(len, <=, 512);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/guest-proto/sample/good", test_sample_good);
    g_test_add_func("/guest-proto/sample/optional", test_sample_optional);
    g_test_add_func("/guest-proto/hello/good", test_hello_good);
    g_test_add_func("/guest-proto/bad/numbers", test_bad_numbers);
    g_test_add_func("/guest-proto/bad/psi", test_bad_psi);
    g_test_add_func("/guest-proto/bad/optional", test_bad_optional);
    g_test_add_func("/guest-proto/bad/structure", test_bad_structure);
    g_test_add_func("/guest-proto/bad/nul", test_nul_byte);
    g_test_add_func("/guest-proto/line-length", test_line_length);
    g_test_add_func("/guest-proto/format/round-trip", test_format_round_trip);
    g_test_add_func("/guest-proto/format/every-field", test_format_every_field);
    g_test_add_func("/guest-proto/format/old-host-fits", test_format_old_host_fits);
    return g_test_run();
}
