/*
 * osap-mqtt-load: a load generator for any MQTT 3.1.1 server, built on the
 * libosap MQTT codec. Internal declarations shared by its files.
 *
 *   mqload_main.c    options, the run's phases, main()
 *   mqload_worker.c  one epoll loop per thread: sockets, reads, batched writes
 *   mqload_client.c  what each role does with the packets it gets
 *   mqload_seq.c     sequence tracking: losses, duplicates, reordering
 *   mqload_hist.c    latency histogram
 *   mqload_sys.c     clocks, descriptor limits, source addresses, /proc readers
 *   mqload_report.c  the result line (one JSON object)
 *
 * Threads share nothing but the run description (read-only once the workers
 * start), the phase word and a few counters, all atomics. Each connection lives
 * on one thread for its whole life.
 */
#ifndef OSAP_BENCH_MQLOAD_H
#define OSAP_BENCH_MQLOAD_H

#include "osap/mqtt.h"

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ------------------------------------------------------------------------ */
/* Scenarios and options                                                    */
/* ------------------------------------------------------------------------ */

/** What the run measures. */
enum mqload_scenario {
    MQLOAD_P2P,    /* QoS 1, publisher i -> topic i -> subscriber i */
    MQLOAD_FANOUT, /* QoS 0, one publisher -> S subscribers of one topic */
    MQLOAD_IDLE,   /* C connections that only keep alive */
};

/** The run description: parsed options plus what main() derives from them. */
struct mqload_opts {
    enum mqload_scenario scenario;
    const char *host;
    uint16_t port;
    const char *label;
    unsigned threads;
    unsigned pairs;       /* p2p */
    unsigned subscribers; /* fanout */
    unsigned connections; /* idle */
    unsigned window;      /* messages in flight per publisher (fanout: in total) */
    unsigned payload;     /* bytes per message */
    unsigned keepalive;   /* seconds; a PINGREQ goes out every keepalive / 2 */
    double warmup;        /* seconds before measuring */
    double duration;      /* seconds measured (idle: held) */
    double drain;         /* seconds allowed for the last messages to arrive */
    double settle;        /* idle: seconds between the last CONNACK and the RSS reading */
    double connect_timeout;
    unsigned connect_concurrency; /* connections being set up at once, all threads */
    unsigned src_addrs;           /* source addresses to spread over (0: let the kernel pick) */
    struct in_addr src_first;     /* first source address (127.0.0.x) */
    pid_t server_pid;             /* 0: do not read the server's /proc */
    const char *topic_prefix;

    /* derived */
    struct sockaddr_in dst;
    unsigned total_conns; /* sockets the run opens */
    unsigned fan;         /* deliveries per published message: 1 or subscribers */
    char run_id[16];      /* makes client ids and topics unique per run */
    size_t publish_size;  /* encoded size of one PUBLISH of the run */
    size_t rx_cap;        /* largest packet accepted from the server */
};

/* ------------------------------------------------------------------------ */
/* Latency histogram (mqload_hist.c)                                        */
/* ------------------------------------------------------------------------ */

/** Buckets of 1/64 relative width over 0 .. 2^42 ns (about 73 minutes). */
#define MQLOAD_HIST_BUCKETS (64 * 38)

/** Latencies in nanoseconds; merged across threads at the end. */
struct mqload_hist {
    uint64_t count;
    uint64_t max;
    uint64_t sum;
    uint64_t bucket[MQLOAD_HIST_BUCKETS];
};

/** Record one value (ns). */
void mqload_hist_add(struct mqload_hist *h, uint64_t ns);

/** Add @p from into @p into. */
void mqload_hist_merge(struct mqload_hist *into, const struct mqload_hist *from);

/** The value below which a fraction @p q (0..1) of the records lie (the upper
 *  edge of its bucket, never above the maximum); 0 when empty. */
uint64_t mqload_hist_quantile(const struct mqload_hist *h, double q);

/* ------------------------------------------------------------------------ */
/* Sequence tracking (mqload_seq.c)                                         */
/* ------------------------------------------------------------------------ */

/** Sequence numbers remembered past the lowest missing one. */
#define MQLOAD_SEQ_WINDOW 2048

/** What one receiver got of one sender's numbered stream (0, 1, 2, ...). */
struct mqload_seq {
    uint64_t base;      /* lowest number not received yet */
    uint64_t max_seen;  /* highest number received + 1 */
    uint64_t unique;    /* distinct numbers received */
    uint64_t dups;      /* numbers received again */
    uint64_t reordered; /* arrived after a higher number */
    uint64_t skipped;   /* given up on: fell out of the window unreceived */
    uint64_t bits[MQLOAD_SEQ_WINDOW / 64];
};

/** Record the arrival of @p seq; true when it is new. */
bool mqload_seq_add(struct mqload_seq *s, uint64_t seq);

/* ------------------------------------------------------------------------ */
/* Connections                                                              */
/* ------------------------------------------------------------------------ */

enum mqload_role { MQLOAD_PUB, MQLOAD_SUB, MQLOAD_IDLER };

enum mqload_state {
    MQLOAD_NEW,        /* not started */
    MQLOAD_TCP,        /* TCP connect in progress */
    MQLOAD_CONNECTING, /* CONNECT sent, waiting for CONNACK */
    MQLOAD_SUBSCRIBING,
    MQLOAD_READY,
    MQLOAD_CLOSED, /* lost after it was ready, or closed at the end */
    MQLOAD_FAILED, /* could not be set up */
};

/** Bytes waiting to be written; grows up to MQLOAD_OUT_MAX. */
struct mqload_out {
    uint8_t *buf;
    size_t len; /* bytes held */
    size_t off; /* bytes of buf already written */
    size_t cap;
};

/** Ceiling of one connection's output buffer. */
#define MQLOAD_OUT_MAX (8u << 20)

/** A publisher's QoS 1 window: packet ids of sequence numbers low .. next-1
 *  are outstanding unless acked[seq % window]. */
struct mqload_pubwin {
    uint64_t next; /* next sequence number to publish */
    uint64_t low;  /* lowest sequence number not acknowledged */
    uint32_t inflight;
    uint8_t *acked; /* window bytes */
};

struct mqload_worker;

/** One MQTT connection of the generator. */
struct mqload_conn {
    int fd;
    uint8_t role;  /* enum mqload_role */
    uint8_t state; /* enum mqload_state */
    uint8_t attempts;
    bool pollout;   /* EPOLLOUT is armed */
    bool dirty;     /* on the worker's flush list */
    uint32_t index; /* pair, subscriber or connection number */
    struct mqload_worker *w;
    struct mqload_conn *next_dirty;
    uint64_t next_ping; /* ns, monotonic */
    struct mqload_out out;
    struct osap_mqtt_stream rx;
    uint8_t *rxbuf;
    struct mqload_pubwin pub; /* MQLOAD_PUB */
    struct mqload_seq *seq;   /* MQLOAD_SUB */
    char *topic; /* MQLOAD_PUB and MQLOAD_SUB: the topic it publishes to or subscribes */
    uint16_t topic_len;
};

/* ------------------------------------------------------------------------ */
/* Workers (mqload_worker.c)                                                */
/* ------------------------------------------------------------------------ */

/** Phases of a run, set by the main thread. */
enum mqload_phase {
    MQLOAD_PH_CONNECT, /* open every connection, subscribe */
    MQLOAD_PH_RUN,     /* publish (warm-up, then the measured window) */
    MQLOAD_PH_DRAIN,   /* stop publishing, wait for the last deliveries */
    MQLOAD_PH_STOP,    /* disconnect and exit */
};

/** Counters of one worker, read by main after the worker stopped. */
struct mqload_stats {
    uint64_t published;        /* PUBLISH packets sent */
    uint64_t acked;            /* PUBACKs for them */
    uint64_t bad_acks;         /* PUBACKs for nothing outstanding */
    uint64_t delivered;        /* PUBLISH packets received (duplicates included) */
    uint64_t unique;           /* deliveries of a message for the first time */
    uint64_t delivered_window; /* new deliveries inside the measured window */
    uint64_t published_window; /* publishes inside the measured window */
    uint64_t misrouted;        /* deliveries that were not ours or to the wrong receiver */
    uint64_t pings;            /* PINGREQ sent */
    uint64_t pongs;            /* PINGRESP received */
    uint64_t protocol_errors;  /* undecodable or unexpected packets */
    uint64_t lost_conns;       /* ready connections the server closed */
    uint64_t connect_failed;   /* connections given up */
    uint64_t connect_retries;  /* connection attempts repeated */
    uint64_t connack_refused;  /* CONNACK with a non-zero code */
    uint64_t suback_refused;   /* SUBACK 0x80 */
    uint64_t stalls;           /* fanout: window written off after no progress */
    uint64_t written_off;      /* fanout: deliveries written off */
    struct mqload_hist hist;   /* publish-to-delivery latency in the window */
};

/** Shared state of the run. */
struct mqload_shared {
    const struct mqload_opts *o;
    _Atomic int phase;
    _Atomic uint64_t ready;  /* connections ready */
    _Atomic uint64_t failed; /* connections given up */
    uint64_t t_run;          /* ns: publishing starts */
    uint64_t t_measure;      /* ns: measured window opens */
    uint64_t t_end;          /* ns: measured window closes */
    struct mqload_worker *workers;
    unsigned n_workers;
};

/** One thread: an epoll loop over its share of the connections. */
struct mqload_worker {
    unsigned id;
    struct mqload_shared *sh;
    int ep;   /* epoll */
    int kick; /* eventfd: phase changes and fanout window openings */
    struct mqload_conn **conns;
    size_t n_conns;
    size_t next_start;   /* conns[next_start] is the next to connect */
    unsigned connecting; /* being set up now */
    unsigned concurrency;
    struct mqload_conn *dirty; /* connections with bytes to write */
    uint64_t now;
    uint64_t next_ping_scan;
    int seen_phase;
    uint8_t *rdbuf;
    size_t rdcap;
    uint32_t src_next;          /* next source address, round robin */
    uint64_t inflight;          /* QoS 1 publishes not acknowledged */
    struct mqload_conn **retry; /* connections to set up again */
    size_t n_retry;
    unsigned errors_shown;
    /* progress for the main thread and the fanout publisher, updated once per
     * loop iteration */
    _Atomic uint64_t pub_total;
    _Atomic uint64_t unique_total;
    _Atomic uint64_t inflight_total;
    _Atomic bool pub_waiting; /* fanout publisher sleeps on a closed window */
    /* fanout publisher (worker 0 only) */
    struct mqload_conn *fan_pub;
    uint64_t fan_written_off;
    uint64_t fan_last_progress; /* ns */
    uint64_t fan_last_delivered;
    struct mqload_stats st;
};

/** Create the worker's epoll and eventfd; the connections are assigned later.
 *  OSAP_EIO with errno set on failure. */
osap_err mqload_worker_init(struct mqload_worker *w, unsigned id, struct mqload_shared *sh);

/** Close every connection and the worker's descriptors; free its memory. */
void mqload_worker_release(struct mqload_worker *w);

/** The thread body (a pthread start routine; @p arg is the worker). */
void *mqload_worker_run(void *arg);

/** Wake the worker (a phase change, or its fanout window opened). */
void mqload_worker_kick(struct mqload_worker *w);

/** Queue @p len bytes on @p c; false when the output ceiling is reached (the
 *  connection is then closed). */
bool mqload_conn_write(struct mqload_conn *c, const uint8_t *bytes, size_t len);

/** Reserve @p len bytes at the end of @p c's output; NULL when the ceiling is
 *  reached. Commit them with mqload_conn_commit(). */
uint8_t *mqload_conn_reserve(struct mqload_conn *c, size_t len);

/** Commit @p len bytes written into the last reservation. */
void mqload_conn_commit(struct mqload_conn *c, size_t len);

/** The connection is set up (CONNACK, and SUBACK for a subscriber). */
void mqload_conn_ready(struct mqload_conn *c);

/** Close @p c because of @p why: a ready connection counts as lost; one being
 *  set up is tried again (when @p may_retry and attempts are left) or counts as
 *  failed. */
void mqload_conn_close(struct mqload_conn *c, const char *why, bool may_retry);

/* ------------------------------------------------------------------------ */
/* Roles (mqload_client.c)                                                  */
/* ------------------------------------------------------------------------ */

/** The TCP connection is up: queue CONNECT. */
void mqload_client_connected(struct mqload_conn *c);

/** Handle one packet from the server. */
void mqload_client_packet(struct mqload_conn *c, const struct osap_mqtt_packet *pkt);

/** The worker entered MQLOAD_PH_RUN: publishers fill their windows. */
void mqload_client_start(struct mqload_worker *w);

/** The fanout publisher: publish while the window is open; detect stalls. */
void mqload_client_fanout_pump(struct mqload_worker *w);

/** Queue a PINGREQ. */
void mqload_client_ping(struct mqload_conn *c);

/** Queue a DISCONNECT. */
void mqload_client_disconnect(struct mqload_conn *c);

/** Write the topic of stream @p index (p2p: pair; fanout: ignored) into @p buf;
 *  returns what snprintf() returns. */
int mqload_client_topic(const struct mqload_opts *o, unsigned index, char *buf, size_t cap);

/** Smallest and largest payload the generator accepts. */
#define MQLOAD_PAYLOAD_MIN 24
#define MQLOAD_PAYLOAD_MAX 65536

/** Encoded size of one PUBLISH of the run (to size buffers). */
osap_err mqload_client_publish_size(const struct mqload_opts *o, size_t *size);

/* ------------------------------------------------------------------------ */
/* System helpers (mqload_sys.c)                                            */
/* ------------------------------------------------------------------------ */

/** CLOCK_MONOTONIC in nanoseconds. */
uint64_t mqload_now(void);

/** Sleep until the monotonic time @p ns. */
void mqload_sleep_until(uint64_t ns);

/** Raise the soft descriptor limit as far as allowed and check that @p need
 *  descriptors fit; on failure print why and return false. */
bool mqload_sys_fd_check(unsigned need);

/** Number of local ports the kernel hands out per source address. */
unsigned mqload_sys_port_range(void);

/** Resident set size of @p pid in bytes (VmRSS), 0 when unreadable. */
uint64_t mqload_sys_rss(pid_t pid);

/** CPU time (user + system) of @p pid in seconds, -1 when unreadable. */
double mqload_sys_proc_cpu(pid_t pid);

/** CPU time (user + system) of this process in seconds. */
double mqload_sys_self_cpu(void);

/* ------------------------------------------------------------------------ */
/* Report (mqload_report.c)                                                 */
/* ------------------------------------------------------------------------ */

/** Everything the result line holds beyond the options and the stats. */
struct mqload_result {
    bool ok;
    const char *error; /* why not ok */
    unsigned connected;
    double connect_s;
    double measured_s;   /* actual length of the measured window */
    double gen_cpu_s;    /* generator CPU in the window */
    double server_cpu_s; /* -1: unknown */
    uint64_t rss_before; /* idle: server RSS before connecting, bytes */
    uint64_t rss_after;  /* idle: after every connection was up and settled */
    uint64_t rss_end;    /* idle: after the hold */
    unsigned alive_end;  /* idle: connections still up at the end */
    uint64_t lost;       /* messages never delivered */
    uint64_t dups;
    uint64_t reordered;
    bool drained;   /* every published message accounted for before the drain timeout */
    double loadavg; /* the machine's 1-minute load average at the end of the window */
};

/** Print the result line on stdout. */
void mqload_report(const struct mqload_opts *o, const struct mqload_stats *st,
                   const struct mqload_result *r);

/** Name of a scenario ("p2p", "fanout", "idle"). */
const char *mqload_scenario_name(enum mqload_scenario s);

#endif /* OSAP_BENCH_MQLOAD_H */
