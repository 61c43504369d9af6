/* The [api] settings table (see api_config.h). */
#include "api/api_config.h"

#include <stddef.h>

#define F(field) offsetof(struct api_config, field)

static const struct osap_cfg_item api_items[] = {
    {"listen", OSAP_CFG_ADDRESS, "127.0.0.1", 0, 0, F(listen),
     "Address the REST API and web console listen on.", NULL, 0},
    {"port", OSAP_CFG_INT, "8080", 1, 65535, F(port), "TCP port of the REST API (HTTP).", NULL, 0},
    {"tls_cert", OSAP_CFG_PATH, "", 0, 4095, F(tls_cert),
     "PEM certificate chain for HTTPS; with tls_key set, the port speaks TLS 1.2 or newer "
     "only. Empty = plain HTTP.",
     NULL, 0},
    {"tls_key", OSAP_CFG_PATH, "", 0, 4095, F(tls_key),
     "PEM private key of tls_cert (keep it readable by osapd only).", NULL, 0},
    {"web_root", OSAP_CFG_PATH, "./web", 0, 4095, F(web_root),
     "Directory of the web console's files, served at / (the default is the web/ directory "
     "of the source tree when osapd starts there, as `make run` does). Empty = no console.",
     NULL, 0},
    {"advertise", OSAP_CFG_STRING, "", 0, 255, F(advertise),
     "host or host:port devices use to download their thing-model profiles from this API over "
     "plain HTTP (the url of a profile answer, without the scheme). Empty = the [das] advertise "
     "address and this API's port.",
     NULL, 0},
    {"profile_expire", OSAP_CFG_DURATION, "1h", 1000, 2592000000, F(profile_expire),
     "How long a device may use the profile url it was given (the expire member of the "
     "answer, in seconds).",
     NULL, 0},
    {"store_threads", OSAP_CFG_INT, "2", 1, 64, F(store_threads),
     "Threads that run the API's database queries (the HTTP thread never waits for the "
     "database).",
     NULL, 0},
    {"max_connections", OSAP_CFG_INT, "1024", 1, 1000000, F(max_connections),
     "HTTP connections open at once; one more is answered 503 and closed.", NULL, 0},
    {"max_json_body", OSAP_CFG_SIZE, "64KiB", 1024, 67108864, F(max_json_body),
     "Largest JSON request body; a larger one is answered 413.", NULL, 0},
    {"picture_max_size", OSAP_CFG_SIZE, "8MiB", 1024, 1073741824, F(picture_max_size),
     "Largest picture accepted by POST /api/v1/pictures; a larger upload is answered 413.", NULL,
     0},
    {"max_body_buffer", OSAP_CFG_SIZE, "64MiB", 65536, 17179869184LL, F(max_body_buffer),
     "Request bodies held in memory at once by all connections together (uploads in "
     "progress); one more is answered 503 with Retry-After. At least one largest upload.",
     NULL, 0},
    {"request_timeout", OSAP_CFG_DURATION, "10s", 100, 3600000, F(request_timeout),
     "How long an attribute set or an operation waits for the device's reply (then 504), "
     "unless the request gives ?timeout=.",
     NULL, 0},
    {"request_timeout_max", OSAP_CFG_DURATION, "60s", 100, 3600000, F(request_timeout_max),
     "Largest ?timeout= a request may ask for.", NULL, 0},
    {"page_size", OSAP_CFG_INT, "50", 1, 100000, F(page_size),
     "Items per page of a list (devices, events, pictures) when the request gives no "
     "?limit=.",
     NULL, 0},
    {"page_size_max", OSAP_CFG_INT, "1000", 1, 100000, F(page_size_max),
     "Largest ?limit= of a list.", NULL, 0},
    {"max_streams", OSAP_CFG_INT, "256", 0, 100000, F(max_streams),
     "Event streams (GET /api/v1/events/stream) open at once; one more is answered 503.", NULL, 0},
    {"stream_heartbeat", OSAP_CFG_DURATION, "15s", 0, 3600000, F(stream_heartbeat),
     "Period of the comment lines that keep idle event streams alive; 0 = none.", NULL, 0},
    {"stream_catchup_max", OSAP_CFG_INT, "1000", 0, 1000000, F(stream_catchup_max),
     "Stored events a stream resumed with Last-Event-ID replays at most (the oldest first); "
     "a client further behind pages through GET /api/v1/events.",
     NULL, 0},
    {"stream_queue_max", OSAP_CFG_INT, "10000", 16, 10000000, F(stream_queue_max),
     "Live records waiting to be sent to streams; when the API thread falls that far behind, "
     "open streams are ended (clients resume with Last-Event-ID).",
     NULL, 0},
    {"stream_buffer", OSAP_CFG_SIZE, "256KiB", 4096, 67108864, F(stream_buffer),
     "Unsent bytes per event stream; a client that reads slower is disconnected.", NULL, 0},
    {"idle_timeout", OSAP_CFG_DURATION, "30s", 100, 3600000, F(idle_timeout),
     "Idle keep-alive connections are closed after this.", NULL, 0},
    {"header_timeout", OSAP_CFG_DURATION, "10s", 100, 3600000, F(header_timeout),
     "Time a client has to send a request head (answered 408 otherwise).", NULL, 0},
    {"body_timeout", OSAP_CFG_DURATION, "60s", 100, 3600000, F(body_timeout),
     "Time a client has to send a request body (answered 408 otherwise).", NULL, 0},
    {"close_timeout", OSAP_CFG_DURATION, "5s", 0, 600000, F(close_timeout),
     "On stop, requests in flight get this long to finish before connections are cut.", NULL, 0},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
};

const struct osap_cfg_table api_config_table = {
    "api",
    "Platform: REST API (/api/v1), web console, event and picture services.",
    sizeof(struct api_config),
    api_items,
};
