/* The panel tests' TV: membalancerd (fake backend) with the three TV
 * VMs of the scenario tests, on the fixture's private bus, through the
 * service tests' fixture (mb-test-service.h: fixture_start(),
 * register_vm(), vm_proxy(), settings_snapshot()). The panel's library
 * has generated proxies of its own types, so the fixture's proxies live
 * in the same process. */
#pragma once

#include "mb-test-service.h"

G_BEGIN_DECLS

/* Starts the daemon with simulated tv-game (game), tv-video (video
 * playback) and tv-web (web) guests of 512 MiB each, balancing every
 * interval_ms. */
void mb_test_tv_start(Fixture *f, guint interval_ms);
/* Registers them: tv-game 80 (foreground), tv-video 50, tv-web 20. */
void mb_test_tv_register(Fixture *f);
/* Registers one VM (asserts success). */
void mb_test_tv_register_vm(Fixture *f, const char *name, guint priority, gboolean foreground);
/* A VM's Priority and Foreground as the service publishes them now. */
guint mb_test_tv_priority(Fixture *f, const char *name);
gboolean mb_test_tv_foreground(Fixture *f, const char *name);

/* A connection of this process (whatever its user) to the bus at address. */
GDBusConnection *mb_test_tv_connect(const char *address);

G_END_DECLS
