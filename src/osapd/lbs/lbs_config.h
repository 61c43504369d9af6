/*
 * The [lbs] section: settings of the Load Balancing Service. Each setting also
 * appears in etc/osapd.conf with its default (a unit test checks that).
 */
#ifndef OSAPD_LBS_CONFIG_H
#define OSAPD_LBS_CONFIG_H

#include "config.h"

#include <stdint.h>

/** Values of [lbs]. Durations are in milliseconds. */
struct lbs_config {
    char *listen; /* address to listen on */
    int64_t port; /* TCP port */

    /* Connections and frames */
    int64_t max_connections;             /* open device connections, all addresses */
    int64_t max_connections_per_address; /* open device connections from one address */
    uint64_t max_frame;                  /* largest device frame, header included */
    int64_t step_timeout_ms;             /* device's time to deliver its next frame */
    int64_t close_linger_ms;             /* after the last answer: wait for the device's close */

    /* Server ECDH key reuse */
    int64_t ecdh_key_uses;        /* handshakes per server key pair (1 = fresh every time) */
    int64_t ecdh_key_lifetime_ms; /* age at which a key pair is retired in any case */

    /* Attempt budgets (online guessing of verification codes) */
    int64_t serial_failures; /* wrong codes per serial per window */
    int64_t serial_window_ms;
    int64_t address_failures; /* wrong codes and unknown serials per address per window */
    int64_t address_window_ms;
    int64_t refusal_ms;     /* first refusal period; doubles on every new refusal */
    int64_t refusal_max_ms; /* ceiling of the refusal period */
    int64_t budget_entries; /* addresses (and serials) tracked at most */

    /* DAS assignment, statistics, stop */
    int64_t das_node_timeout_ms; /* a DAS node is healthy if it heartbeat this recently */
    int64_t stats_interval_ms;   /* counters logged at debug level; 0 = never */
    int64_t stop_timeout_ms;     /* graceful stop: in-flight handshakes get this long */
};

/** The [lbs] table. */
extern const struct osap_cfg_table lbs_config_table;

#endif /* OSAPD_LBS_CONFIG_H */
