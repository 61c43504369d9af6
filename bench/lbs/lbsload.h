/*
 * osap-lbs-load: a load generator for the LBS. Keeps C connections busy, each
 * running one full path-A handshake (0x1/0x2, 0x7/0x8, 0xA/0xB) of a provisioned
 * device with libosap's client state machine, then the next one on a new
 * connection, from source addresses spread over 127.0.0.x. One libuv loop.
 *
 * The generator's own crypto is kept small so the server gets the machine: all
 * simulated devices share one P-384 key pair (real devices keep theirs for a whole
 * boot), and the master key for a server public key is computed once and reused
 * while the server hands out the same key pair (its ecdh_key_uses policy). The server
 * still does one key agreement per handshake, with the device key it receives.
 */
#ifndef LBSLOAD_H
#define LBSLOAD_H

#include "osap/crypto.h"
#include "osap/lbs_handshake.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/** Server public keys whose master key the generator remembers. */
#define LBSLOAD_CACHE 4

/** Options (lbsload_main.c parses them). */
struct lbsload_opts {
    const char *host;
    int port;
    unsigned devices;     /* serials PREFIX000000 .. PREFIX(devices-1) */
    const char *prefix;   /* serial prefix */
    const char *code;     /* the verification code of every device */
    unsigned concurrency; /* handshakes under way at once */
    double warmup_s;      /* before the measured window */
    double duration_s;    /* the measured window */
    unsigned src_addrs;   /* source addresses used, from src_first */
    uint32_t src_first;   /* first source address (host order) */
    unsigned timeout_ms;  /* per handshake */
};

/** Results. */
struct lbsload_stats {
    uint64_t started;        /* handshakes begun */
    uint64_t ok;             /* completed inside the window */
    uint64_t ok_total;       /* completed at any time */
    uint64_t results[32];    /* failures by result code (31: above) */
    uint64_t connect_failed; /* connect or bind failed */
    uint64_t closed;         /* the server closed without an answer */
    uint64_t timeouts;       /* no answer within timeout_ms */
    uint64_t protocol;       /* the client machine refused an answer */
    uint64_t derives;        /* key agreements done by the generator */
    double *lat_ms;          /* latencies of the handshakes counted in ok */
    size_t n_lat, cap_lat;
    double gen_cpu_s; /* generator CPU time during the window */
};

/** The generator. */
struct lbsload {
    struct lbsload_opts o;
    struct lbsload_stats s;
    uv_loop_t loop;
    uv_timer_t phase;     /* warmup -> window -> stop */
    int phase_no;         /* 0 warmup, 1 window, 2 draining */
    uint64_t t_window_ns; /* start of the window */
    uint64_t t_end_ns;    /* end of the window */
    double cpu_at_window; /* generator CPU seconds at the window start */
    unsigned active;      /* connections open */
    uint64_t next_device;
    unsigned next_src;
    /* the shared device key pair and the master keys of the last server keys (the
     * server may hand out its previous key pair to handshakes under way while a new
     * one is in service) */
    osap_p384_key *key;
    uint8_t pub[OSAP_P384_PUBKEY_LEN];
    struct {
        bool used;
        uint64_t last_use;
        uint8_t peer[OSAP_P384_PUBKEY_LEN];
        uint8_t mk[OSAP_MASTER_KEY_LEN];
    } cache[LBSLOAD_CACHE];
    uint64_t cache_clock;
    struct osap_lbs_client_ecdh ecdh;
};

/** Run the load until the window has passed and every connection has ended.
 *  0 on success, 2 when it could not start. (lbsload_conn.c) */
int lbsload_run(struct lbsload *L);

/** This process's CPU time in seconds. (lbsload_main.c) */
double lbsload_cpu_seconds(void);

#endif /* LBSLOAD_H */
