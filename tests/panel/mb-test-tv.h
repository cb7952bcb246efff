/* The panel tests' TV: membalancerd (fake backend) with the three TV
 * VMs of the scenario tests, on the fixture's private bus.
 *
 * The panel reaches the service through libmembalancer, which holds its
 * own copy of the generated D-Bus proxies; these helpers talk plain
 * GDBus, so that no second copy of those types is registered in the
 * process (fixture_start() and register_vm() of mb-test-service.h make
 * proxies: the panel tests use mb_test_tv_spawn() and the calls below). */
#pragma once

#include "mb-test-service.h"

G_BEGIN_DECLS

/* Spawns the daemon with args (as fixture_start(), without a proxy). */
void mb_test_tv_spawn(Fixture *f, const char *const *args);
/* Starts the daemon with simulated tv-game (game), tv-video (video
 * playback) and tv-web (web) guests of 512 MiB each, balancing every
 * interval_ms. */
void mb_test_tv_start(Fixture *f, guint interval_ms);
/* Registers them: tv-game 80 (foreground), tv-video 50, tv-web 20. */
void mb_test_tv_register(Fixture *f);
/* Registers one VM (asserts success). */
void mb_test_tv_register_vm(Fixture *f, const char *name, guint priority, gboolean foreground);
/* Calls a method of the manager without results; FALSE with error set
 * when the service refuses. */
gboolean mb_test_tv_call(Fixture *f, const char *method, GVariant *args, GError **error);
/* A VM's Priority and Foreground as the service publishes them. */
guint mb_test_tv_priority(Fixture *f, const char *name);
gboolean mb_test_tv_foreground(Fixture *f, const char *name);
/* The registrations, Paused and the state file as one string (as
 * settings_snapshot()), to show that a failed call changed nothing. */
char *mb_test_tv_snapshot(Fixture *f);

/* A connection of this process (whatever its user) to the bus at address. */
GDBusConnection *mb_test_tv_connect(const char *address);

G_END_DECLS
