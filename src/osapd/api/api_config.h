/*
 * The [api] section: settings of the platform's REST API (/api/v1), its event
 * stream, the picture service and the web console. Each setting also goes into
 * etc/osapd.conf (a unit test checks that). Durations are in milliseconds, sizes
 * in bytes.
 */
#ifndef OSAPD_API_CONFIG_H
#define OSAPD_API_CONFIG_H

#include "config.h"

#include <stdint.h>

/** Values of [api]. */
struct api_config {
    char *listen; /* address to listen on */
    int64_t port; /* HTTP TCP port */
    /* Added with the service (api_*.c). */
    char *tls_cert;              /* PEM certificate chain; "" = plain HTTP */
    char *tls_key;               /* PEM private key */
    char *web_root;              /* console files served at / ("" = none) */
    char *advertise;             /* host[:port] devices download profiles from */
    int64_t profile_expire;      /* "expire" of profile answers (ms) */
    int64_t store_threads;       /* threads that run the API's store queries */
    int64_t max_connections;     /* open HTTP connections at most */
    uint64_t max_json_body;      /* JSON request bodies at most (413 above) */
    uint64_t picture_max_size;   /* picture uploads at most (413 above) */
    uint64_t max_body_buffer;    /* request bodies buffered at once, all connections (503) */
    int64_t request_timeout;     /* default wait for a device's reply */
    int64_t request_timeout_max; /* the ?timeout= parameter at most */
    int64_t page_size;           /* list pages: default limit */
    int64_t page_size_max;       /* list pages: the ?limit= parameter at most */
    int64_t max_streams;         /* open event streams (SSE) at most */
    int64_t stream_heartbeat;    /* SSE comment heartbeat period (0 = none) */
    int64_t stream_catchup_max;  /* events replayed after Last-Event-ID at most */
    int64_t stream_queue_max;    /* live records waiting for the API thread at most */
    uint64_t stream_buffer;      /* unsent bytes per stream before it is dropped */
    int64_t idle_timeout;        /* idle keep-alive connections are closed after */
    int64_t header_timeout;      /* time for a request head */
    int64_t body_timeout;        /* time for a request body */
    int64_t close_timeout;       /* graceful stop: time for requests in flight */
};

/** The [api] table. */
extern const struct osap_cfg_table api_config_table;

#endif /* OSAPD_API_CONFIG_H */
