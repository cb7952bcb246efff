/* Structured logging: one call, a message and fields journald can filter on. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* journald MESSAGE_IDs of the records an operator filters on
 * (`journalctl MESSAGE_ID=...`); each is explained in the message catalog,
 * service/data/membalancer.catalog. Never change one: add new ones. */
#define MB_MESSAGE_ID_REBALANCED "515e6cd7b1034ecfa547179e3d47de58"
#define MB_MESSAGE_ID_STUCK "336c9085501a481a8ba9b57dd9e5d7d6"
#define MB_MESSAGE_ID_HYPERVISOR_LOST "090dc52afd524ba9ac95dea96ff602a1"
#define MB_MESSAGE_ID_HYPERVISOR_BACK "cda2c8acff134bccb04df13883600015"
#define MB_MESSAGE_ID_STATE_CORRUPT "6d0966c6f2de41d09bcd0b172bd4effe"
#define MB_MESSAGE_ID_GUEST_LIES "dc7588f44e224cc7b80bb3eca157fbc3"
#define MB_MESSAGE_ID_URGENT_TICK "f24b7e61bce04a999eafcb5a226cf810"

/* Logs fmt with GLIB_DOMAIN, PRIORITY and (when key != NULL) key=value. */
#define mb_log(level, key, value, ...)                                                         \
    mb_log_full(G_LOG_DOMAIN, (level), (key), (value), __VA_ARGS__)

void mb_log_full(const char *domain, GLogLevelFlags level, const char *key, const char *value,
                 const char *fmt, ...) G_GNUC_PRINTF(5, 6);
/* The same with a MESSAGE_ID (one of MB_MESSAGE_ID_*). */
#define mb_log_id(level, message_id, key, value, ...)                                          \
    mb_log_id_full(G_LOG_DOMAIN, (level), (message_id), (key), (value), __VA_ARGS__)
void mb_log_id_full(const char *domain, GLogLevelFlags level, const char *message_id,
                    const char *key, const char *value, const char *fmt, ...)
    G_GNUC_PRINTF(6, 7);
/* Logs message with extra fields (keys may repeat). */
void mb_log_fields(const char *domain, GLogLevelFlags level, const GLogField *extra,
                   gsize n_extra, const char *message);

G_END_DECLS
