/*
 * The [das] section: settings of the Device Access Service (the MQTT server).
 * The DAS owner extends this table (src/osapd/das/das_config.c); each new setting
 * also goes into etc/osapd.conf (a unit test checks that).
 */
#ifndef OSAPD_DAS_CONFIG_H
#define OSAPD_DAS_CONFIG_H

#include "config.h"

#include <stdbool.h>
#include <stdint.h>

/** Values of [das]. */
struct das_config {
    char *listen;                       /* address to listen on */
    int64_t port;                       /* MQTT TCP port */
    char *advertise;                    /* address the LBS hands to devices for this node */
    bool allow_anonymous;               /* MQTT clients without user name */
    struct osap_strlist anonymous_deny; /* topic filters closed to anonymous clients */
    int64_t password_iterations;        /* PBKDF2 iterations of new MQTT user passwords */
    /* Broker core (das_*.c, handle_*.c). Durations in ms, sizes in bytes. */
    int64_t udp_port;            /* DasInfo.UdpPort of this node (0 = none) */
    char *domain;                /* DasInfo.Domain ("" = advertise) */
    char *node_id;               /* DasInfo.ServerID ("" = advertise:port) */
    int64_t heartbeat;           /* das_nodes heartbeat period */
    uint64_t max_packet_size;    /* largest packet from an accepted client */
    uint64_t connect_max_packet; /* largest packet before CONNECT is accepted */
    int64_t connect_timeout;     /* CONNECT must arrive within this */
    int64_t max_connections;     /* 0 = derived from the open-file limit */
    uint64_t connect_max_total;  /* bytes held by all connections before CONNACK */
    int64_t max_inflight;        /* QoS 1/2 messages sent and not acknowledged, per client */
    int64_t max_queued_messages; /* messages queued per session (offline or window full) */
    uint64_t max_queued_bytes;   /* payload bytes queued per session */
    bool queue_qos0;             /* queue QoS 0 messages for offline persistent sessions */
    uint64_t max_output_bytes;   /* bytes waiting to be written, per connection */
    char *slow_consumer;         /* "drop" (QoS 0) or "disconnect" */
    int64_t session_expiry;      /* offline persistent sessions are dropped after (0 = never) */
    int64_t max_sessions;        /* offline persistent sessions kept (0 = no limit) */
    int64_t max_retained;        /* retained topics kept (0 = no limit) */
    uint64_t max_retained_bytes; /* bytes of retained messages kept (0 = no limit) */
    int64_t max_subscriptions;   /* subscriptions per session (0 = no limit) */
    int64_t max_hold_time;       /* how long a congested session may hold back publishers */
    int64_t forward_high_water;  /* forwarded messages not yet matched: stop reading */
    int64_t forward_low_water;   /* ... and read again at or below this */
    int64_t auth_threads;        /* threads that check passwords */
    int64_t auth_queue;          /* password checks waiting; beyond: CONNACK 3 */
    bool persistence;            /* retained messages and persistent sessions survive restarts */
    int64_t autosave_interval;   /* periodic snapshot of that state (0 = only at stop) */
};

/** The [das] table. */
extern const struct osap_cfg_table das_config_table;

#endif /* OSAPD_DAS_CONFIG_H */
