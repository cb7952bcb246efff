/* The leak tests/i18n/lsan.supp names, with no code of ours in it: glibc's
 * newlocale() under LOCPATH never frees the search list it builds
 * (locale/newlocale.c, __argz_add_sep), freelocale() or not. Built with
 * AddressSanitizer it is run by test-i18n's /i18n/lsan cases.
 *
 *   glibc-newlocale-leak            newlocale + freelocale, nothing else
 *   glibc-newlocale-leak ours       the same, and one leak of our own, which
 *                                   the suppressions must not hide
 *
 * Standalone: LOCPATH=DIR (holding de_DE.UTF-8, from localedef) and
 * ASAN_OPTIONS=detect_leaks=1. Plain C, no GLib: nothing else allocates. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A leak of our own, in a frame of our own: never inlined, so LSan names it. */
__attribute__((noinline)) static void *
leak_of_our_own(void)
{
    void *p = malloc(77);

    if (p != NULL)
        memset(p, 0, 77);
    return p;
}

static void *volatile kept;

int
main(int argc, char **argv)
{
    locale_t de = newlocale(LC_ALL_MASK, "de_DE.UTF-8", (locale_t)0);

    if (de == (locale_t)0) {
        fprintf(stderr,
                "newlocale(de_DE.UTF-8) failed: set LOCPATH to a directory holding it\n");
        return 2;
    }
    freelocale(de);
    if (argc > 1 && strcmp(argv[1], "ours") == 0) {
        kept = leak_of_our_own();
        kept = NULL;
    }
    return 0;
}
