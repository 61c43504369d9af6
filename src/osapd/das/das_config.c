/* The [das] settings table (see das_config.h). The DAS service extends it. */
#include "das/das_config.h"

#include <stddef.h>

#define F(field) offsetof(struct das_config, field)

static const struct osap_cfg_item das_items[] = {
    {"listen", OSAP_CFG_ADDRESS, "127.0.0.1", 0, 0, F(listen),
     "Address the MQTT server accepts connections on (devices and MQTT clients).", NULL, 0},
    {"port", OSAP_CFG_INT, "1883", 1, 65535, F(port), "TCP port of the MQTT server.", NULL, 0},
    {"advertise", OSAP_CFG_ADDRESS, "127.0.0.1", 0, 0, F(advertise),
     "Address of this DAS node as devices must reach it; the LBS hands it to them "
     "(DasInfo.Address, under 64 characters).",
     NULL, 0},
    {"allow_anonymous", OSAP_CFG_BOOL, "no", 0, 0, F(allow_anonymous),
     "Accept MQTT clients that send no user name (devices always authenticate with their "
     "session).",
     NULL, 0},
    {"anonymous_deny", OSAP_CFG_LIST, "", 0, 1024, F(anonymous_deny),
     "Topic filters closed to anonymous clients: they may not subscribe to a filter one of "
     "them covers (SUBACK 0x80), nor publish to a topic one of them matches.",
     NULL, 0},
    {"password_iterations", OSAP_CFG_INT, "20000", 1000, 10000000, F(password_iterations),
     "PBKDF2-HMAC-SHA512 iterations for MQTT user passwords set by `osapd user`; each "
     "CONNECT with a password costs about 1 ms per 1000.",
     NULL, 0},
    {"udp_port", OSAP_CFG_INT, "0", 0, 65535, F(udp_port),
     "UDP port of this node as handed to devices (DasInfo.UdpPort); 0 = none.", NULL, 0},
    {"domain", OSAP_CFG_STRING, "", 0, 63, F(domain),
     "Domain of this node as handed to devices (DasInfo.Domain); empty = the advertise "
     "address.",
     NULL, 0},
    {"node_id", OSAP_CFG_STRING, "", 0, 63, F(node_id),
     "Identifier of this DAS node in the das_nodes table and DasInfo.ServerID; empty = "
     "advertise:port.",
     NULL, 0},
    {"heartbeat", OSAP_CFG_DURATION, "5s", 100, 3600000, F(heartbeat),
     "How often this node writes its address and connection count to the das_nodes table "
     "(the LBS sends devices to the least-loaded live node).",
     NULL, 0},
    {"max_packet_size", OSAP_CFG_SIZE, "1MiB", 64, 268435460, F(max_packet_size),
     "Largest MQTT packet accepted from a connected client (whole packet); a larger one "
     "closes the connection.",
     NULL, 0},
    {"connect_max_packet", OSAP_CFG_SIZE, "64KiB", 64, 268435460, F(connect_max_packet),
     "Largest packet accepted before the CONNECT is accepted (stricter than "
     "max_packet_size: unauthenticated peers).",
     NULL, 0},
    {"connect_timeout", OSAP_CFG_DURATION, "10s", 100, 3600000, F(connect_timeout),
     "A new connection that has not sent its CONNECT within this time is closed.", NULL, 0},
    {"max_connections", OSAP_CFG_INT, "0", 0, 100000000, F(max_connections),
     "Most connections served at once (devices and clients); one beyond it is closed as "
     "soon as it is accepted. 0 = derived from the open-file limit, leaving room for the "
     "store, the log and the other services of the process.",
     NULL, 0},
    {"connect_max_total", OSAP_CFG_SIZE, "16MiB", 4096, 1099511627776, F(connect_max_total),
     "Bytes all connections that have not completed their CONNECT may hold together (partial "
     "CONNECT packets, bytes read while a password is checked); a connection that would "
     "exceed it is closed.",
     NULL, 0},
    {"max_inflight", OSAP_CFG_INT, "20", 1, 65535, F(max_inflight),
     "QoS 1 and 2 messages sent to one client and not yet acknowledged; further messages "
     "wait in its session queue.",
     NULL, 0},
    {"max_queued_messages", OSAP_CFG_INT, "1000", 0, 100000000, F(max_queued_messages),
     "Messages one session may queue (client offline, or max_inflight reached); beyond it "
     "the oldest QoS 0 message, else the new message, is dropped.",
     NULL, 0},
    {"max_queued_bytes", OSAP_CFG_SIZE, "16MiB", 0, 1099511627776, F(max_queued_bytes),
     "Payload bytes one session may queue; same rule as max_queued_messages.", NULL, 0},
    {"queue_qos0", OSAP_CFG_BOOL, "no", 0, 0, F(queue_qos0),
     "Also queue QoS 0 messages for persistent sessions whose client is offline.", NULL, 0},
    {"max_output_bytes", OSAP_CFG_SIZE, "4MiB", 4096, 1099511627776, F(max_output_bytes),
     "Bytes waiting to be written to one connection; beyond it the client is a slow "
     "consumer (see slow_consumer) and the server stops reading from it.",
     NULL, 0},
    {"slow_consumer", OSAP_CFG_STRING, "drop", 0, 0, F(slow_consumer),
     "What happens to a client whose output exceeds max_output_bytes: drop (its QoS 0 "
     "messages are dropped; QoS 1/2 wait in its queue) or disconnect.",
     "drop|disconnect", 0},
    {"session_expiry", OSAP_CFG_DURATION, "1d", 0, 31536000000, F(session_expiry),
     "Persistent sessions (clean session 0) of clients that stay offline this long are "
     "discarded; 0 = kept until the server stops (or max_sessions is reached).",
     NULL, 0},
    {"max_sessions", OSAP_CFG_INT, "100000", 0, 100000000, F(max_sessions),
     "Most persistent sessions kept for clients that are offline; beyond it the oldest "
     "offline session of the worker is discarded. 0 = no limit.",
     NULL, 0},
    {"max_retained", OSAP_CFG_INT, "100000", 0, 100000000, F(max_retained),
     "Most retained topics kept; a retained message for a new topic beyond it is "
     "delivered but not retained. 0 = no limit.",
     NULL, 0},
    {"max_retained_bytes", OSAP_CFG_SIZE, "64MiB", 0, 1099511627776, F(max_retained_bytes),
     "Most bytes (topics and payloads) of retained messages kept; a retained message that "
     "would exceed it is delivered but not retained. 0 = no limit.",
     NULL, 0},
    {"max_subscriptions", OSAP_CFG_INT, "1000", 0, 100000000, F(max_subscriptions),
     "Most subscriptions one session may hold; a SUBSCRIBE beyond it gets return code "
     "0x80 for the filters that do not fit. 0 = no limit.",
     NULL, 0},
    {"max_hold_time", OSAP_CFG_DURATION, "10s", 0, 3600000, F(max_hold_time),
     "Back-pressure: once the queue of a connected subscriber is half full, the QoS 1 and 2 "
     "publishers that feed it get their acknowledgements only when it has drained to a "
     "quarter; a subscriber that stays congested this long is treated as a slow consumer "
     "(its queue limits then drop messages). 0 = no back-pressure.",
     NULL, 0},
    {"forward_high_water", OSAP_CFG_INT, "2048", 1, 100000000, F(forward_high_water),
     "Back-pressure between workers: a worker stops reading from its publishing clients "
     "while more than this many messages it forwarded wait in other workers' mailboxes.",
     NULL, 0},
    {"forward_low_water", OSAP_CFG_INT, "1024", 0, 100000000, F(forward_low_water),
     "A worker stopped by forward_high_water reads again once at most this many of its "
     "forwarded messages wait (at most forward_high_water).",
     NULL, 0},
    {"auth_threads", OSAP_CFG_INT, "1", 1, 64, F(auth_threads),
     "Threads of the DAS's own that check MQTT user passwords (a slow hash, on purpose); "
     "they keep password checks off the thread pool that heartbeats and the store use.",
     NULL, 0},
    {"auth_queue", OSAP_CFG_INT, "128", 1, 100000, F(auth_queue),
     "Password checks that may wait for an auth thread; a CONNECT beyond it is refused "
     "with CONNACK 3 (server unavailable).",
     NULL, 0},
    {"persistence", OSAP_CFG_BOOL, "yes", 0, 0, F(persistence),
     "Keep retained messages and the persistent sessions (clean session 0) of MQTT clients "
     "across restarts of osapd, in das_state.db under data_dir: saved when osapd stops and "
     "every autosave_interval, restored at start. Device sessions are not kept (devices "
     "register again through the LBS).",
     NULL, 0},
    {"autosave_interval", OSAP_CFG_DURATION, "60s", 0, 86400000, F(autosave_interval),
     "With persistence, how often what changed is saved while osapd runs; a crash loses at "
     "most what happened since. 0 = saved only when osapd stops.",
     NULL, 0},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
};

const struct osap_cfg_table das_config_table = {
    "das",
    "Device Access Service: the MQTT 3.1.1 server for devices and applications.",
    sizeof(struct das_config),
    das_items,
};
