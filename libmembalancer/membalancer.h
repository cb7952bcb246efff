/* libmembalancer: the client library of membalancerd, the memory balancer
 * for the virtual machines of a TV. pkg-config: membalancer-1. */
#pragma once

#define MEMBALANCER_INSIDE
#include "membalancer-client.h"
#include "membalancer-error.h"
#include "membalancer-version.h"
#include "membalancer-vm.h"
#undef MEMBALANCER_INSIDE
