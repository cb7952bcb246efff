/* Bounded fuzz smoke of the guest protocol parser that runs everywhere
 * (gcc, no libFuzzer): feeds LLVMFuzzerTestOneInput pseudo-random lines,
 * well-formed records and mutations of the seed corpus, each in a heap
 * buffer of its exact size so that ASan catches any over-read.
 *
 *   fuzz-guest-proto-smoke CORPUS_DIR [ITERATIONS [SEED]]
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mb-guest-wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_MAX (2 * MB_GUEST_PROTO_LINE_MAX)

static uint64_t rng_state;

static uint64_t
rng(void)
{
    /* xorshift64*: fast and reproducible from the seed. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static size_t
rng_below(size_t n)
{
    return n ? (size_t)(rng() % n) : 0;
}

static const char *const tokens[] = {
    "MBG1",
    "MBG1 ",
    "sample",
    "hello",
    " ",
    "=",
    "\n",
    "\0",
    "seq=",
    "total_kib=",
    "free_kib=",
    "active_anon_kib=",
    "inactive_anon_kib=",
    "active_file_kib=",
    "inactive_file_kib=",
    "pswpin=",
    "pswpout=",
    "psi_some_avg10=",
    "psi_full_avg10=",
    "refault_anon=",
    "refault_file=",
    "activate_anon=",
    "activate_file=",
    "swap_used_kib=",
    "low_kib=",
    "psi_some_total=",
    "urgent=",
    "version=",
    "kernel=",
    "page_kib=",
    "0",
    "1",
    "00",
    "100",
    "100.00",
    "100.01",
    "99.9",
    "0.5",
    "18446744073709551615",
    "18446744073709551616",
    "-1",
    "+1",
    "0x1f",
    ".",
    "12.34",
    "4",
    "4096",
    "x",
    "\xff",
    "\t",
    "\r",
};

static size_t
random_bytes(uint8_t *buf)
{
    size_t len = rng_below(INPUT_MAX);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rng();
    return len;
}

static size_t
random_tokens(uint8_t *buf)
{
    size_t len = 0, n = 1 + rng_below(40);
    for (size_t i = 0; i < n; i++) {
        const char *t = tokens[rng_below(G_N_ELEMENTS(tokens))];
        size_t tl = t[0] ? strlen(t) : 1;
        if (len + tl > INPUT_MAX)
            break;
        memcpy(buf + len, t, tl);
        len += tl;
    }
    return len;
}

static uint64_t
random_u64(void)
{
    switch (rng_below(4)) {
    case 0:
        return 0;
    case 1:
        return UINT64_MAX - rng_below(3);
    case 2:
        return rng_below(1u << 24);
    default:
        return rng();
    }
}

/* A valid record, formatted by the agent's own formatter. */
static size_t
random_record(uint8_t *buf)
{
    MbGuestSample s = {
        .total_kib = random_u64(),
        .free_kib = random_u64(),
        .active_anon_kib = random_u64(),
        .inactive_anon_kib = random_u64(),
        .active_file_kib = random_u64(),
        .inactive_file_kib = random_u64(),
        .swap_in_pages = random_u64(),
        .swap_out_pages = random_u64(),
        .has_psi = rng_below(2),
        .psi_some_avg10 = rng_below(10001) / 100.0,
        .psi_full_avg10 = rng_below(10001) / 100.0,
    };
    char line[MB_GUEST_PROTO_LINE_MAX + 1];
    size_t len = rng_below(4) == 0
                     ? mb_guest_message_format_hello(line, sizeof line, "6.1.0-28-amd64",
                                                     1u << rng_below(12))
                     : mb_guest_message_format_sample(line, sizeof line, random_u64(), &s);
    memcpy(buf, line, len);
    return len;
}

static size_t
mutate(uint8_t *buf, size_t len, GPtrArray *corpus)
{
    size_t n = 1 + rng_below(4);
    for (size_t m = 0; m < n; m++) {
        size_t pos = rng_below(len + 1);
        switch (rng_below(6)) {
        case 0: /* flip a byte */
            if (len)
                buf[rng_below(len)] ^= (uint8_t)(1u << rng_below(8));
            break;
        case 1: /* insert a byte */
            if (len < INPUT_MAX) {
                memmove(buf + pos + 1, buf + pos, len - pos);
                buf[pos] = (uint8_t)rng();
                len++;
            }
            break;
        case 2: /* delete a run */
            if (pos < len) {
                size_t k = 1 + rng_below(MIN(len - pos, 16));
                memmove(buf + pos, buf + pos + k, len - pos - k);
                len -= k;
            }
            break;
        case 3: /* insert a protocol token */
        {
            const char *t = tokens[rng_below(G_N_ELEMENTS(tokens))];
            size_t tl = t[0] ? strlen(t) : 1;
            if (len + tl <= INPUT_MAX) {
                memmove(buf + pos + tl, buf + pos, len - pos);
                memcpy(buf + pos, t, tl);
                len += tl;
            }
            break;
        }
        case 4: /* splice the tail of another corpus entry */
        {
            GBytes *other = g_ptr_array_index(corpus, rng_below(corpus->len));
            size_t olen;
            const uint8_t *odata = g_bytes_get_data(other, &olen);
            size_t from = rng_below(olen + 1), k = MIN(olen - from, INPUT_MAX - pos);
            memcpy(buf + pos, odata + from, k);
            len = pos + k;
            break;
        }
        default: /* truncate */
            len = pos;
            break;
        }
    }
    return len;
}

static GPtrArray *
load_corpus(const char *dir_path)
{
    GPtrArray *corpus = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, &error);
    const char *name;

    if (!dir)
        g_error("corpus: %s", error->message);
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(dir_path, name, NULL);
        char *data;
        gsize len;
        if (!g_file_get_contents(path, &data, &len, &error))
            g_error("corpus: %s", error->message);
        g_ptr_array_add(corpus, g_bytes_new_take(data, MIN(len, INPUT_MAX)));
    }
    if (corpus->len == 0)
        g_error("corpus %s is empty", dir_path);
    return corpus;
}

int
main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s CORPUS_DIR [ITERATIONS [SEED]]\n", argv[0]);
        return 2;
    }
    g_autoptr(GPtrArray) corpus = load_corpus(argv[1]);
    uint64_t iterations = argc > 2 ? g_ascii_strtoull(argv[2], NULL, 10) : 200000;
    rng_state = argc > 3 ? g_ascii_strtoull(argv[3], NULL, 10) : 0x6d62677565737431ull;
    if (rng_state == 0)
        rng_state = 1;

    uint8_t buf[INPUT_MAX];
    uint64_t accepted = 0;
    for (uint64_t i = 0; i < iterations; i++) {
        size_t len;
        switch (rng_below(5)) {
        case 0:
            len = random_bytes(buf);
            break;
        case 1:
            len = random_tokens(buf);
            break;
        case 2:
            len = random_record(buf);
            break;
        case 3:
            len = random_record(buf);
            len = mutate(buf, len, corpus);
            break;
        default: {
            GBytes *seed = g_ptr_array_index(corpus, rng_below(corpus->len));
            const uint8_t *data = g_bytes_get_data(seed, &len);
            memcpy(buf, data, len);
            len = mutate(buf, len, corpus);
        }
        }
        /* Exact-size heap copy: reading one byte past it is an ASan error. */
        uint8_t *input = g_malloc(len ? len : 1);
        memcpy(input, buf, len);
        LLVMFuzzerTestOneInput(input, len);
        MbGuestMessage rec;
        const char *why;
        accepted += mb_guest_message_parse((const char *)input, len, &rec, &why);
        g_free(input);
    }
    /* The generator must reach the accepting paths, not only the rejections. */
    printf("%" G_GUINT64_FORMAT " inputs, %" G_GUINT64_FORMAT " accepted\n", iterations,
           accepted);
    if (iterations >= 1000 && accepted < iterations / 20) {
        fprintf(stderr, "too few accepted inputs: the generator is broken\n");
        return 1;
    }
    return 0;
}
