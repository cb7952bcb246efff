/* The names every program of membalancer shares: the service's bus name,
 * object paths, interfaces and error names (dbus-interfaces/ documents
 * them). Macros only, so that the daemon, its clients and libmembalancer
 * take them from one place without linking anything. */
#pragma once

#define MB_BUS_NAME "org.smarttv.MemBalancer"
#define MB_OBJECT_PATH "/org/smarttv/MemBalancer"
/* A VM's object: this prefix and its name escaped as by g_dbus_escape_object_path(). */
#define MB_VM_OBJECT_PATH_PREFIX MB_OBJECT_PATH "/vm/"

#define MB_MANAGER_INTERFACE "org.smarttv.MemBalancer"
#define MB_VM_INTERFACE "org.smarttv.MemBalancer.VM"

/* The errors' D-Bus names: the service's domain registers them
 * (common/mb-error.c), libmembalancer maps them to MEMBALANCER_ERROR. */
#define MB_ERROR_NAME_PREFIX "org.smarttv.MemBalancer.Error."
#define MB_ERROR_NAME_INVALID_ARGS MB_ERROR_NAME_PREFIX "InvalidArgs"
#define MB_ERROR_NAME_NO_SUCH_VM MB_ERROR_NAME_PREFIX "NoSuchVM"
#define MB_ERROR_NAME_ALREADY_REGISTERED MB_ERROR_NAME_PREFIX "AlreadyRegistered"
#define MB_ERROR_NAME_ACCESS_DENIED MB_ERROR_NAME_PREFIX "AccessDenied"
#define MB_ERROR_NAME_UNAVAILABLE MB_ERROR_NAME_PREFIX "Unavailable"

/* The keywords of a VM's State and StatsSource properties (part of the API,
 * docs/dbus-api.md): the service writes them, the clients compare them. */
#define MB_VM_STATE_NAME_RUNNING "running"
#define MB_VM_STATE_NAME_OFFLINE "offline"
#define MB_VM_STATE_NAME_STUCK "stuck"
#define MB_STATS_SOURCE_NAME_AGENT "agent"
#define MB_STATS_SOURCE_NAME_BALLOON "balloon"
#define MB_STATS_SOURCE_NAME_NONE "none"
