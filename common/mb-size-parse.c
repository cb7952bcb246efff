#include "mb-size-parse.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>

/* The one unit table: the parser reads the names and the one-letter
 * aliases, the formatters (mb-size.c) write the names. */
const MbSizeUnit mb_size_units[] = {
    {"KiB", "k", 0},
    {"MiB", "m", 10},
    {"GiB", "g", 20},
    {"TiB", "t", 30},
};
const unsigned mb_size_n_units = sizeof(mb_size_units) / sizeof(mb_size_units[0]);

/* ASCII only: sizes are read the same in every locale. */
static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The unit from start to the first trailing blank. */
static bool
unit_shift(const char *start, unsigned *shift)
{
    size_t len = 0, end = 0;

    while (start[len] != '\0') {
        len++;
        if (!is_blank(start[len - 1]))
            end = len;
    }
    if (end == 0) {
        *shift = 0;
        return true;
    }
    for (unsigned i = 0; i < mb_size_n_units; i++) {
        const MbSizeUnit *u = &mb_size_units[i];

        if ((strncasecmp(start, u->name, end) == 0 && u->name[end] == '\0') ||
            (strncasecmp(start, u->alias, end) == 0 && u->alias[end] == '\0')) {
            *shift = u->shift;
            return true;
        }
    }
    return false;
}

MbSizeStatus
mb_size_scan_kib(const char *text, uint64_t *out_kib, const char **unit_start)
{
    const char *p = text;
    char *end = NULL;
    unsigned long long value;
    unsigned shift;

    if (text == NULL || *text == '\0')
        return MB_SIZE_EMPTY;
    while (is_blank(*p))
        p++;
    if (*p < '0' || *p > '9')
        return MB_SIZE_NOT_A_SIZE;
    errno = 0;
    value = strtoull(p, &end, 10);
    if (errno == ERANGE)
        return MB_SIZE_TOO_LARGE;
    while (is_blank(*end))
        end++;
    if (unit_start != NULL)
        *unit_start = end;
    if (!unit_shift(end, &shift))
        return MB_SIZE_UNKNOWN_UNIT;
    if (shift > 0 && value > (UINT64_MAX >> shift))
        return MB_SIZE_TOO_LARGE;
    *out_kib = (uint64_t)value << shift;
    return MB_SIZE_OK;
}
