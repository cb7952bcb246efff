/* The panel tests' TV: membalancerd (fake backend) with the three TV
 * VMs of the scenario tests, on the fixture's private bus. */
#pragma once

#include "mb-test-service.h"

G_BEGIN_DECLS

/* Starts the daemon with simulated tv-game (game), tv-video (video
 * playback) and tv-web (web) guests of 512 MiB each, balancing every
 * interval_ms. */
void mb_test_tv_start(Fixture *f, guint interval_ms);
/* Registers them: tv-game 80 (foreground), tv-video 50, tv-web 20. */
void mb_test_tv_register(Fixture *f);
/* A VM's Priority as the service publishes it. */
guint mb_test_tv_priority(Fixture *f, const char *name);

/* A connection of this process (whatever its user) to the bus at address. */
GDBusConnection *mb_test_tv_connect(const char *address);

G_END_DECLS
