/* Translations (po/): the template holds the CLI's and the panel's strings,
 * de.po translates all of them, the build makes the German catalogue, and
 * membalancerctl and the plugin speak German from it, while what scripts
 * read (--json, --kib) stays as it is in every language. */
#include <glib/gstdio.h>
#include <libintl.h>
#include <locale.h>
#include <string.h>

#include "mb-test-service.h"
#ifdef MB_TEST_PLUGIN
#include "tv-settings-plugin.h" /* and gmodule.h */
#endif

/* LOCPATH for our own compiled de_DE.UTF-8 (mb_test_german_locale). */
static char *de_locpath;
static char *tmp_dir;

/* Runs argv with LANGUAGE=de, LC_ALL=locale and the build tree's catalogues;
 * returns the exit status, fills stdout and stderr. */
static int
run_in(const char *locale, const char *const *argv, char **out_stdout, char **out_stderr)
{
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    g_autofree char *lc_all = g_strconcat("LC_ALL=", locale, NULL);
    g_autofree char *locpath = g_strconcat("LOCPATH=", de_locpath, NULL);

    g_ptr_array_add(all, (gpointer) "env");
    g_ptr_array_add(all, (gpointer) "LANGUAGE=de");
    g_ptr_array_add(all, lc_all);
    g_ptr_array_add(all, (gpointer) "MB_LOCALEDIR=" MB_TEST_MO_DIR);
    g_ptr_array_add(all, locpath);
    for (gsize i = 0; argv[i] != NULL; i++)
        g_ptr_array_add(all, (gpointer)argv[i]);
    g_ptr_array_add(all, NULL);
    return mb_test_run(FALSE, (const char *const *)all->pdata, out_stdout, out_stderr);
}

/* A gettext tool, in English whatever the caller's locale. */
static int
run_tool(const char *const *argv, char **out_stdout, char **out_stderr)
{
    g_autoptr(GPtrArray) all = g_ptr_array_new();

    g_ptr_array_add(all, (gpointer) "env");
    g_ptr_array_add(all, (gpointer) "LC_ALL=C");
    for (gsize i = 0; argv[i] != NULL; i++)
        g_ptr_array_add(all, (gpointer)argv[i]);
    g_ptr_array_add(all, NULL);
    return mb_test_run(FALSE, (const char *const *)all->pdata, out_stdout, out_stderr);
}

static void
assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        g_error("\"%s\" not found in:\n%s", part, text);
}

/* The first line's words, e.g. a table's titles, joined by one space. */
static char *
first_line_words(const char *text)
{
    g_autofree char *line = g_strndup(text, strcspn(text, "\n"));
    g_auto(GStrv) words = g_strsplit(line, " ", -1);
    g_autoptr(GPtrArray) kept = g_ptr_array_new();

    for (gsize i = 0; words[i] != NULL; i++)
        if (*words[i] != '\0')
            g_ptr_array_add(kept, words[i]);
    g_ptr_array_add(kept, NULL);
    return g_strjoinv(" ", (char **)kept->pdata);
}

/* "label: value" lines, from line skip_lines on: each value starts in the
 * same column (counted in characters: all of these are one column wide),
 * and the line of label has value (any when NULL). */
static void
assert_field(const char *text, guint skip_lines, const char *label, const char *value)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    glong column = -1;
    gboolean found = FALSE;

    for (guint i = skip_lines; lines[i] != NULL; i++) {
        const char *colon = strstr(lines[i], ": ");
        const char *start;
        glong at;

        if (*lines[i] == '\0')
            continue;
        if (colon == NULL)
            g_error("no \"label: value\" in line \"%s\" of:\n%s", lines[i], text);
        for (start = colon + 1; *start == ' '; start++)
            ;
        at = g_utf8_pointer_to_offset(lines[i], start);
        if (column < 0)
            column = at;
        if (at != column)
            g_error("line \"%s\" is not aligned with the others in:\n%s", lines[i], text);
        g_autofree char *this_label = g_strndup(lines[i], colon + 1 - lines[i]);
        if (g_str_equal(g_strstrip(this_label), label)) {
            found = TRUE;
            if (value != NULL)
                g_assert_cmpstr(start, ==, value);
        }
    }
    if (!found)
        g_error("no line \"%s\" in:\n%s", label, text);
}

static char *
read_file(const char *path)
{
    g_autoptr(GError) error = NULL;
    char *text = NULL;

    g_file_get_contents(path, &text, NULL, &error);
    g_assert_no_error(error);
    return text;
}

/* ---- the template and the German catalogue -------------------------------- */

/* What `membalancerctl --help` and the Memory page show is in the template
 * the build made from po/POTFILES.in. */
static void
test_template(void)
{
    g_autofree char *pot = read_file(MB_TEST_POT);
    static const char *const msgids[] = {
        /* the CLI: usage, errors, table titles, status and info labels */
        "msgid \"\"\n\"COMMAND\\n\"\n\"\\n\"\n\"Commands:\\n\"\n",
        "\"  watch                              a live table (--kib); Ctrl-C quits\\n\"\n",
        "msgid \"Use the system bus (default)\"",
        "msgid \"missing command\"",
        "msgid \"(see membalancerctl --help)\"",
        "msgid \"unknown command '%s'\"",
        "\"membalancerd is not running on this bus (%s is not owned, nor activatable)\"",
        "msgid \"ALLOC\"",
        "msgid \"SWAPOUT\"",
        "msgid \"STATE\"",
        "msgid \"TREND\"",
        "msgid \"grows %s\"",
        "msgid \"hypervisor:\"",
        "msgid \"(balancing is paused)\"",
        "msgid \"inactive file:\"",
        "msgid \"policy:\"",
        /* the panel: page title, status line, rows, chart, errors */
        "msgid \"Memory\"",
        "msgid \"Balancing %u VM, %s shared\"\nmsgid_plural \"Balancing %u VMs, %s shared\"",
        "msgid \"Priority %u\"",
        "msgid \"★ Foreground\"",
        "msgid \"Swapping\"",
        "msgid \"%s MiB\"",
        "msgid \"%.1f GiB\"",
        "msgid \"Memory of each VM over the last 5 minutes\"",
        "msgid \"The change failed: %s\"",
        /* membalancer-panel, the host */
        "msgid \"cannot load the plugin: %s\"",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(msgids); i++)
        assert_contains(pot, msgids[i]);
    /* The xgettext keywords and flags reached the template. */
    assert_contains(pot, "#, c-format\nmsgid \"no VM named '%s' is registered\"");
    assert_contains(pot, "#. TRANSLATORS: column title: the VM's priority (0-100).\n");
    /* Scripts' words are not for translators. */
    g_assert_null(strstr(pot, "msgid \"ALLOC_KIB\""));
    g_assert_null(strstr(pot, "msgid \"allocated_kib\""));
}

/* de.po: every message of the template, none fuzzy or untranslated, and
 * formats that match (msgfmt --check). */
static void
test_german_complete(void)
{
    g_autofree char *out = NULL, *err = NULL;
    const char *const check[] = {
        "msgfmt", "--check", "--statistics", "-o", "/dev/null", MB_TEST_PO_DIR "/de.po", NULL};
    const char *const cmp[] = {"msgcmp", MB_TEST_PO_DIR "/de.po", MB_TEST_POT, NULL};

    g_assert_cmpint(run_tool(check, &out, &err), ==, 0);
    g_test_message("msgfmt: %s", err);
    /* Only "N translated messages.": no ", M fuzzy", no ", M untranslated". */
    g_assert_true(g_regex_match_simple("^[0-9]+ translated messages?\\.\n$", err, 0, 0));
    g_clear_pointer(&err, g_free);
    /* A message of the sources missing from de.po: `meson compile -C build
     * membalancer-pot membalancer-update-po`, then translate it (po/README.md). */
    if (run_tool(cmp, NULL, &err) != 0)
        g_error("de.po lacks messages of the sources:\n%s", err);
}

/* The catalogue the build made (and installs) holds the panel's and the
 * CLI's translations. */
static void
test_german_catalogue(void)
{
    g_autofree char *mo = g_build_filename(MB_TEST_MO_DIR, "de", "LC_MESSAGES",
                                           MB_TEST_GETTEXT_PACKAGE ".mo", NULL);
    g_autofree char *text = NULL, *err = NULL;
    const char *const unfmt[] = {"msgunfmt", mo, NULL};

    g_assert_true(g_file_test(mo, G_FILE_TEST_IS_REGULAR));
    g_assert_cmpint(run_tool(unfmt, &text, &err), ==, 0);
    assert_contains(text, "msgid \"Memory\"\nmsgstr \"Arbeitsspeicher\"\n");
    assert_contains(text, "msgid \"Swapping\"\nmsgstr \"Lagert aus\"\n");
    assert_contains(text, "msgstr[1] \"Verteilt %2$s auf %1$u VMs\"\n");
    assert_contains(text, "msgid \"missing command\"\nmsgstr \"Befehl fehlt\"\n");
}

/* ---- membalancerctl ---------------------------------------------------------- */

/* Its binary carries the LOCALEDIR meson configured (service/meson.build
 * passes it), where `meson install` puts the catalogues. */
static void
test_ctl_localedir(void)
{
    g_autofree char *binary = NULL;
    gsize length = 0;

    g_assert_true(g_file_get_contents(MB_TEST_CTL, &binary, &length, NULL));
    g_assert_nonnull(memmem(binary, length, MB_TEST_LOCALEDIR, sizeof(MB_TEST_LOCALEDIR)));
}

/* --help and a usage error in German; English in the C locale, where
 * LANGUAGE does not count. */
static void
test_ctl_usage(void)
{
    g_autofree char *out = NULL, *err = NULL;
    const char *const help[] = {MB_TEST_CTL, "--help", NULL};
    const char *const none[] = {MB_TEST_CTL, NULL};
    const char *const bad[] = {MB_TEST_CTL, "--address", "unix:path=/nonexistent", "frobnicate",
                               NULL};

    g_assert_cmpint(run_in("de_DE.UTF-8", help, &out, NULL), ==, 0);
    g_test_message("%s", out);
    assert_contains(out, " BEFEHL\n\nBefehle:\n");
    assert_contains(out, "  list                               die registrierten VMs (--json, "
                         "--kib)\n");
    assert_contains(out, "Den Systembus verwenden (Standard)");
    assert_contains(out, "--address=ADRESSE");
    g_clear_pointer(&out, g_free);

    g_assert_cmpint(run_in("de_DE.UTF-8", none, NULL, &err), ==, 2);
    g_assert_cmpstr(err, ==, "membalancerctl: Befehl fehlt\n(siehe membalancerctl --help)\n");
    g_clear_pointer(&err, g_free);

    /* A bus that is not there: the sentence before the bus's own error. */
    g_assert_cmpint(run_in("de_DE.UTF-8", bad, NULL, &err), ==, 1);
    assert_contains(err, "membalancerctl: keine Verbindung zum Bus: ");
    g_clear_pointer(&err, g_free);

    g_assert_cmpint(run_in("C", none, NULL, &err), ==, 2);
    g_assert_cmpstr(err, ==, "membalancerctl: missing command\n(see membalancerctl --help)\n");
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(run_in("C", help, &out, NULL), ==, 0);
    assert_contains(out, " COMMAND\n\nCommands:\n");
}

/* membalancerd in German: its sample records, which programs read
 * (bench/vm/bench-vms-trace.py), keep the decimal point. */
static void
test_daemon_sample_record(Fixture *f, gconstpointer data)
{
    g_autofree char *log = NULL;
    g_autoptr(GRegex) record = NULL;
    g_autoptr(GMatchInfo) match = NULL;

    f->bus->daemon_env = g_new0(char *, 4);
    f->bus->daemon_env[0] = g_strdup("LC_ALL=de_DE.UTF-8");
    f->bus->daemon_env[1] = g_strconcat("LOCPATH=", de_locpath, NULL);
    f->bus->daemon_env[2] = g_strdup("G_MESSAGES_DEBUG=membalancer");
    fixture_start(f, mb_test_fast_args);
    g_free(register_vm(f, "game", 70, NULL));
    mb_test_run_for(600);
    log = mb_test_daemon_log(f->daemon);
    record =
        g_regex_new("sample game: .* psi_some_avg10=(\\S+) psi_full_avg10=(\\S+) ", 0, 0, NULL);
    g_assert_true(g_regex_match(record, log, 0, &match));
    for (int i = 1; i <= 2; i++) {
        g_autofree char *value = g_match_info_fetch(match, i);

        g_test_message("psi %d: %s", i, value);
        g_assert_true(g_regex_match_simple("^[0-9]+\\.[0-9][0-9]$", value, 0, 0));
    }
}

/* Ticks only on Rebalance: two runs of list --json see the same state. */
static const char *const quiet_args[] = {"--interval-ms", "3600000", NULL};

/* Against the service: the table's titles, status and info in German, an
 * error sentence; --kib and --json exactly as in the C locale. */
static void
test_ctl_service(Fixture *f, gconstpointer data)
{
    const char *a = f->bus->address;
    g_autofree char *path = register_vm(f, "game", 70, min_max(256 * 1024, 1024 * 1024));
    g_autofree char *out = NULL, *err = NULL, *c_out = NULL;
    const char *const list[] = {MB_TEST_CTL, "--address", a, "list", NULL};
    const char *const list_kib[] = {MB_TEST_CTL, "--address", a, "list", "--kib", NULL};
    const char *const list_json[] = {MB_TEST_CTL, "--address", a, "list", "--json", NULL};
    const char *const status[] = {MB_TEST_CTL, "--address", a, "status", "game", NULL};
    const char *const ghost[] = {MB_TEST_CTL, "--address", a, "status", "ghost", NULL};
    const char *const info[] = {MB_TEST_CTL, "--address", a, "info", NULL};
    g_autofree char *titles = NULL;

    g_assert_cmpint(run_in("de_DE.UTF-8", list, &out, NULL), ==, 0);
    g_test_message("%s", out);
    titles = first_line_words(out);
    g_assert_cmpstr(titles, ==,
                    "NAME PRIO VG ZUSTAND ZUGETEILT MIN MAX TREND FREIGEBBAR AUSGELAGERT "
                    "STATISTIK ZULETZT");
    assert_contains(out, "\ngame ");
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&titles, g_free);

    g_assert_cmpint(run_in("de_DE.UTF-8", list_kib, &out, NULL), ==, 0);
    g_assert_cmpint(run_in("C", list_kib, &c_out, NULL), ==, 0);
    titles = first_line_words(out);
    g_assert_cmpstr(
        titles, ==,
        "NAME PRIO FG STATE ALLOC_KIB MIN_KIB MAX_KIB DEMAND_CHANGE_KIB RECLAIM_KIB "
        "SWAPOUT_KIB STATS LAST");
    g_assert_cmpstr(out, ==, c_out);
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&c_out, g_free);

    g_assert_cmpint(run_in("de_DE.UTF-8", list_json, &out, NULL), ==, 0);
    g_assert_cmpint(run_in("C", list_json, &c_out, NULL), ==, 0);
    assert_contains(out, "\"allocated_kib\":");
    g_assert_cmpstr(out, ==, c_out);
    g_clear_pointer(&out, g_free);

    /* Labels of different widths, the values still in one column; two
     * intervals make statistics and a trend, in words and a size. */
    for (int i = 0; i < 2; i++)
        g_assert_true(mb_mem_balancer_call_rebalance_sync(f->manager, NULL, NULL));
    g_assert_cmpint(run_in("de_DE.UTF-8", status, &out, NULL), ==, 0);
    g_test_message("%s", out);
    assert_field(out, 1, "Zustand:", "running");
    assert_field(out, 1, "Priorität:", "70");
    assert_field(out, 1, "Minimum:", "256 MiB");
    assert_field(out, 1, "Inaktiv, Dateien:", NULL);
    assert_field(out, 1, "Letzte Verschiebung:", NULL);
    assert_field(out, 1, "Hypervisor:", "verbunden");
    g_assert_true(g_regex_match_simple(
        " (gleichbleibend|wächst [0-9.]+ [KMGT]iB|schrumpft [0-9.]+ [KMGT]iB) pro Intervall\\n",
        out, 0, 0));
    g_clear_pointer(&out, g_free);

    g_assert_cmpint(run_in("de_DE.UTF-8", ghost, NULL, &err), ==, 1);
    g_assert_cmpstr(err, ==,
                    "membalancerctl: status: es ist keine VM namens „ghost“ registriert\n");
    g_clear_pointer(&err, g_free);

    g_assert_cmpint(run_in("de_DE.UTF-8", info, &out, NULL), ==, 0);
    g_test_message("%s", out);
    assert_field(out, 0, "Angehalten:", "nein");
    assert_field(out, 0, "VMs:", "1");
    assert_field(out, 0, "Intervall:", "3600000 ms");
    assert_field(out, 0, "Hypervisor:", "verbunden");
    assert_contains(out, "Strategie:");
    g_clear_pointer(&out, g_free);

    /* The service gone: the sentence a person reads, in German. */
    fixture_stop(f);
    g_assert_cmpint(run_in("de_DE.UTF-8", list, NULL, &err), ==, 1);
    assert_contains(err, "membalancerctl: list: membalancerd läuft nicht auf diesem Bus "
                         "(niemand besitzt den Namen org.smarttv.MemBalancer, und er lässt "
                         "sich nicht aktivieren)\n");
}

/* ---- the panel --------------------------------------------------------------- */

#ifdef MB_TEST_PLUGIN

/* The plugin, loaded as a shell loads it, names its page in German (its own
 * domain, found through MB_LOCALEDIR here, LOCALEDIR when installed). */
static void
test_plugin_title(void)
{
    GModule *module = g_module_open(MB_TEST_PLUGIN, G_MODULE_BIND_LOCAL);
    TvSettingsPluginInitFunc init = NULL;
    const TvSettingsPage *page;

    /* LOCPATH, LANGUAGE and MB_LOCALEDIR: main() set them. */
    g_assert_nonnull(setlocale(LC_ALL, "de_DE.UTF-8"));
    g_assert_nonnull(module);
    g_assert_true(g_module_symbol(module, TV_SETTINGS_PLUGIN_INIT_SYMBOL, (gpointer *)&init));
    page = init(TV_SETTINGS_PLUGIN_ABI_VERSION);
    g_assert_nonnull(page);
    g_assert_cmpstr(page->title, ==, "Arbeitsspeicher");
    /* No textdomain(): the host's default domain is untouched. */
    g_assert_cmpstr(textdomain(NULL), ==, "messages");
    g_assert_nonnull(setlocale(LC_ALL, "C"));
    g_assert_true(g_module_close(module));
}
#endif

#ifdef MB_TEST_NEWLOCALE_LEAK
/* Runs the leak program under LOCPATH with LSan on, suppressions or none;
 * returns its status, fills its stderr. */
static int
run_leak_program(const char *suppressions, const char *mode, char **out_stderr)
{
    g_autofree char *locpath = g_strconcat("LOCPATH=", de_locpath, NULL);
    g_autofree char *lsan = g_strconcat(
        "LSAN_OPTIONS=suppressions=", suppressions != NULL ? suppressions : "/dev/null", NULL);
    const char *const argv[] = {"env",
                                locpath,
                                "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0",
                                lsan,
                                MB_TEST_NEWLOCALE_LEAK,
                                mode,
                                NULL};

    return mb_test_run(FALSE, argv, NULL, out_stderr);
}

/* glibc leaks under LOCPATH with no code of ours: the suppression is needed. */
static void
test_lsan_glibc_leaks(void)
{
    g_autofree char *err = NULL;
    int status = run_leak_program(NULL, NULL, &err);

    if (status == 0) {
        /* A glibc that frees the list: the entry in lsan.supp can go. */
        g_test_skip("this glibc's newlocale() does not leak: drop __argz_add_sep from "
                    "tests/i18n/lsan.supp");
        return;
    }
    g_test_message("%s", err);
    g_assert_nonnull(strstr(err, "LeakSanitizer: detected memory leaks"));
    g_assert_nonnull(strstr(err, "__argz_add_sep"));
    /* One leak, glibc's: no other allocation. */
    g_assert_nonnull(strstr(err, "in 1 allocation(s)"));
}

/* With lsan.supp, that leak is hidden... */
static void
test_lsan_glibc_hidden(void)
{
    g_autofree char *err = NULL;

    g_assert_cmpint(run_leak_program(MB_TEST_LSAN_SUPP, NULL, &err), ==, 0);
}

/* ...and a leak of our own, in the same process, is not. */
static void
test_lsan_ours_seen(void)
{
    g_autofree char *err = NULL;

    g_assert_cmpint(run_leak_program(MB_TEST_LSAN_SUPP, "ours", &err), !=, 0);
    g_test_message("%s", err);
    g_assert_nonnull(strstr(err, "leak_of_our_own"));
    g_assert_nonnull(strstr(err, "77 byte(s) leaked in 1 allocation(s)"));
}
#endif

int
main(int argc, char **argv)
{
    int status;

    g_test_init(&argc, &argv, NULL);
    tmp_dir = mb_test_make_dir("mb-test-i18n-XXXXXX");
    de_locpath = mb_test_german_locale(tmp_dir);
    g_test_message("LOCPATH %s", de_locpath);
#ifdef MB_TEST_PLUGIN
    /* For the plugin in this process (its setlocale()), set while there is
     * one thread; the children of run_in() get their own values. */
    g_setenv("LOCPATH", de_locpath, TRUE);
    g_setenv("LANGUAGE", "de", TRUE);
    g_setenv("MB_LOCALEDIR", MB_TEST_MO_DIR, TRUE);
#endif
    g_test_add_func("/i18n/template", test_template);
    g_test_add_func("/i18n/german/complete", test_german_complete);
    g_test_add_func("/i18n/german/catalogue", test_german_catalogue);
    g_test_add_func("/i18n/ctl/localedir", test_ctl_localedir);
    g_test_add_func("/i18n/ctl/usage", test_ctl_usage);
    g_test_add("/i18n/daemon/sample-record", Fixture, NULL, fixture_setup,
               test_daemon_sample_record, fixture_teardown);
    g_test_add("/i18n/ctl/service", Fixture, quiet_args, fixture_setup, test_ctl_service,
               fixture_teardown);
#ifdef MB_TEST_PLUGIN
    g_test_add_func("/i18n/plugin/title", test_plugin_title);
#endif
#ifdef MB_TEST_NEWLOCALE_LEAK
    g_test_add_func("/i18n/lsan/glibc-newlocale-leaks", test_lsan_glibc_leaks);
    g_test_add_func("/i18n/lsan/glibc-newlocale-hidden", test_lsan_glibc_hidden);
    g_test_add_func("/i18n/lsan/ours-seen", test_lsan_ours_seen);
#endif
    status = g_test_run();
    mb_test_rm_rf(tmp_dir);
    g_free(tmp_dir);
    g_free(de_locpath);
    return status;
}
