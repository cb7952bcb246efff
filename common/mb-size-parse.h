/* The one size grammar of membalancer, in plain C11 so that every program
 * reads sizes alike: the service's configuration and membalancerctl (through
 * mb-size.h, which adds messages and the formatters) and the simulator's
 * options (directly: it links no GLib). */
#pragma once

#include <stdint.h>

/* Why a text is not a size (MB_SIZE_OK: it is). */
typedef enum {
    MB_SIZE_OK,
    MB_SIZE_EMPTY,       /* NULL or "" */
    MB_SIZE_NOT_A_SIZE,  /* no digit first: "-5", "abc" */
    MB_SIZE_TOO_LARGE,   /* the KiB do not fit 64 bits */
    MB_SIZE_UNKNOWN_UNIT /* *unit_start is where the unit begins */
} MbSizeStatus;

/* A bare number is KiB; the units K/KiB, M/MiB, G/GiB, T/TiB (any case)
 * multiply by 1024^n; blanks may surround the number and the unit.
 * Negatives, fractions and garbage are refused. On MB_SIZE_OK, *out_kib is
 * set; unit_start (may be NULL) gets the unit's first character. */
MbSizeStatus mb_size_scan_kib(const char *text, uint64_t *out_kib, const char **unit_start);

/* The units, largest last: names the formatters write, and their shifts
 * (KiB << shift). */
typedef struct {
    const char *name;  /* "MiB" */
    const char *alias; /* "m" */
    unsigned shift;    /* 10 */
} MbSizeUnit;

extern const MbSizeUnit mb_size_units[];
extern const unsigned mb_size_n_units;
