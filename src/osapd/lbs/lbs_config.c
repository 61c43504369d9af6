/* The [lbs] settings table (see lbs_config.h); etc/osapd.conf explains each one. */
#include "lbs/lbs_config.h"

#include <stddef.h>

#define F(field) offsetof(struct lbs_config, field)

#define SEC  1000LL
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)

static const struct osap_cfg_item lbs_items[] = {
    {"listen", OSAP_CFG_ADDRESS, "127.0.0.1", 0, 0, F(listen),
     "Address the LBS accepts device connections on (0.0.0.0 = every IPv4 address).", NULL, 0},
    {"port", OSAP_CFG_INT, "8666", 1, 65535, F(port),
     "TCP port of the LBS; devices are configured with it (8666 in the device SDK examples).", NULL,
     0},
    {"max_connections", OSAP_CFG_INT, "4096", 1, 1000000, F(max_connections),
     "Open device connections at most; at the limit the oldest connection that has not sent "
     "a whole message yet is dropped for a new one, or the new one is closed.",
     NULL, 0},
    {"max_connections_per_address", OSAP_CFG_INT, "64", 1, 1000000, F(max_connections_per_address),
     "Open device connections from one IP address at most; more are closed at once.", NULL, 0},
    {"max_frame", OSAP_CFG_SIZE, "512", 256, 16384, F(max_frame),
     "Largest message a device may send, header included (device messages are at most about "
     "200 bytes); a longer one is answered with result 3 as soon as its length is read.",
     NULL, 0},
    {"step_timeout", OSAP_CFG_DURATION, "5s", 100, 60 * SEC, F(step_timeout_ms),
     "Time a device has to deliver each whole message (the first one after connecting, the "
     "next one after each answer); then the connection is closed.",
     NULL, 0},
    {"close_linger", OSAP_CFG_DURATION, "2s", 0, 60 * SEC, F(close_linger_ms),
     "After the last answer the LBS ends its side and waits this long for the device to "
     "close, discarding what it still sends, so the answer is not lost to a reset.",
     NULL, 0},
    {"ecdh_key_uses", OSAP_CFG_INT, "64", 1, 1000000, F(ecdh_key_uses),
     "Handshakes that share one server ECDH key pair (1 = a fresh key pair per handshake); "
     "while the next one is generated, it may serve up to worker_threads - 1 more.",
     NULL, 0},
    {"ecdh_key_lifetime", OSAP_CFG_DURATION, "10s", 100, DAY, F(ecdh_key_lifetime_ms),
     "A server ECDH key pair is retired after this time even if it has uses left.", NULL, 0},
    {"serial_failures", OSAP_CFG_INT, "10", 1, 1000000, F(serial_failures),
     "Wrong verification codes (result 1) one serial may collect per serial_window before its "
     "0x1 messages are refused.",
     NULL, 0},
    {"serial_window", OSAP_CFG_DURATION, "10min", SEC, 7 * DAY, F(serial_window_ms),
     "Window of serial_failures: the budget refills at serial_failures per serial_window.", NULL,
     0},
    {"address_failures", OSAP_CFG_INT, "50", 1, 1000000, F(address_failures),
     "Wrong codes and unknown or blocked serials (results 1 and 5) one IP address may collect "
     "per address_window before its connections are refused.",
     NULL, 0},
    {"address_window", OSAP_CFG_DURATION, "10min", SEC, 7 * DAY, F(address_window_ms),
     "Window of address_failures: the budget refills at address_failures per address_window.", NULL,
     0},
    {"refusal", OSAP_CFG_DURATION, "1min", SEC, 7 * DAY, F(refusal_ms),
     "How long a serial or an address that spent its budget is refused; each further refusal "
     "doubles it, until a whole window passes without one.",
     NULL, 0},
    {"refusal_max", OSAP_CFG_DURATION, "1h", SEC, 30 * DAY, F(refusal_max_ms),
     "Longest refusal period.", NULL, 0},
    {"budget_entries", OSAP_CFG_INT, "100000", 100, 10000000, F(budget_entries),
     "Serials, and addresses, whose budgets are tracked at most (each table); the least "
     "recently used entry is forgotten first.",
     NULL, 0},
    {"das_node_timeout", OSAP_CFG_DURATION, "30s", SEC, HOUR, F(das_node_timeout_ms),
     "A DAS node is healthy, and devices are sent to it, when its last heartbeat is at most "
     "this old; longer than the DAS heartbeat interval.",
     NULL, 0},
    {"stats_interval", OSAP_CFG_DURATION, "1min", 0, DAY, F(stats_interval_ms),
     "Log the handshake counters at debug level this often (0 = never).", NULL, 0},
    {"stop_timeout", OSAP_CFG_DURATION, "5s", 0, 10 * MIN, F(stop_timeout_ms),
     "On stop the LBS accepts no more connections and gives handshakes under way this long "
     "to finish; then it closes them.",
     NULL, 0},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
};

const struct osap_cfg_table lbs_config_table = {
    "lbs",
    "Load Balancing Service: device authentication, devid and session keys, DAS assignment.",
    sizeof(struct lbs_config),
    lbs_items,
};
