/*
 * lbs-device: a device that authenticates at a live LBS with libosap's client
 * state machine (what a real device does, section 5 of docs/PROTOCOL.md), with
 * faults on demand, for the protocol tests (test_lbs_device.py, test_lbs_abuse.py).
 *
 *   lbs-device --port N --serial SN --code CODE [--licence] [--host IP] [--bind IP]
 *              [--state FILE] [--devid TEXT32] [--master-key TEXT16]
 *              [--attempts N] [--fault sign|random2]
 *
 * State: FILE holds the devid and master key (two lines) a device keeps; it is
 * read before the first attempt and written after a success. --devid and
 * --master-key set the stored state directly. Attempts follow the device rules:
 * after result 1 on the upper-case share key the next attempt (lower case) starts
 * at once; results 4 and 10 make the device forget its devid or master key for
 * the next attempt. Up to --attempts (default 1) attempts, until one succeeds.
 *
 * Faults: sign = the last byte of the 0x7 / 0x4 sign is flipped; random2 = the
 * 0x9 confirmation is corrupted.
 *
 * Each attempt prints one JSON line: {"attempt":n,"path":"A","result":r,
 * "done":0|1,"err":"...","closed":0|1,"retry_now":0|1,"forget":f [,"devid":...,
 * "master_key":...,"session_key":hex,"das":{...}]}. "result" is -1 when the LBS
 * closed or timed out without an answer; "closed" says whether the LBS closed the
 * connection after its last answer. Exit status 0 when the last attempt succeeded,
 * 1 otherwise, 2 on usage errors.
 */
#include "osap/crypto.h"
#include "osap/lbs.h"
#include "osap/lbs_handshake.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_TIMEOUT_MS  10000
#define CLOSE_TIMEOUT_MS 3000
#define FRAME_MAX        (OSAP_MESSAGE_MAX + OSAP_LBS_HEADER_MAX)

struct opts {
    const char *host, *bind, *serial, *code, *state, *fault;
    int port, attempts;
    bool licence;
    bool has_devid, has_mk;
    uint8_t devid[OSAP_DEVID_LEN];
    uint8_t mk[OSAP_MASTER_KEY_LEN];
};

static int usage(void)
{
    fprintf(stderr, "usage: lbs-device --port N --serial SN --code CODE [options] (see the "
                    "source)\n");
    return 2;
}

static void load_state(struct opts *o)
{
    char line[128];
    FILE *f = fopen(o->state, "r");

    if (!f) return;
    if (fgets(line, sizeof(line), f) && strlen(line) >= OSAP_DEVID_LEN) {
        memcpy(o->devid, line, OSAP_DEVID_LEN);
        o->has_devid = true;
    }
    if (fgets(line, sizeof(line), f) && strlen(line) >= OSAP_MASTER_KEY_LEN) {
        memcpy(o->mk, line, OSAP_MASTER_KEY_LEN);
        o->has_mk = true;
    }
    fclose(f);
}

static void save_state(const struct opts *o, const struct osap_lbs_client_result *r)
{
    FILE *f = fopen(o->state, "w");
    if (!f) return;
    fprintf(f, "%.*s\n%.*s\n", OSAP_DEVID_LEN, (const char *)r->devid, OSAP_MASTER_KEY_LEN,
            (const char *)r->master_key);
    fclose(f);
}

static int connect_lbs(const struct opts *o)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    if (fd < 0) return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (o->bind) {
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        inet_pton(AF_INET, o->bind, &sa.sin_addr);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) goto fail;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o->port);
    inet_pton(AF_INET, o->host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

/* Read up to cap bytes; 0 on EOF, -1 on error, -2 on timeout. */
static ssize_t read_some(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    int rc = poll(&p, 1, timeout_ms);
    ssize_t n;

    if (rc == 0) return -2;
    if (rc < 0) return -1;
    n = read(fd, buf, cap);
    if (n < 0) return errno == ECONNRESET ? 0 : -1;
    return n;
}

/* One whole frame into buf; its length, or <= 0 (read_some's codes). */
static ssize_t read_frame(int fd, uint8_t *buf, size_t *have)
{
    size_t flen;

    for (;;) {
        if (*have) {
            osap_err err = osap_lbs_frame_length(buf, *have, FRAME_MAX, &flen);
            if (err == OSAP_OK) return (ssize_t)flen;
            if (err != OSAP_ENEED_MORE) return -1;
        }
        ssize_t n = read_some(fd, buf + *have, FRAME_MAX - *have, READ_TIMEOUT_MS);
        if (n <= 0) return n;
        *have += (size_t)n;
    }
}

/* True when the peer closes within the timeout (nothing more arrives). */
static bool peer_closes(int fd)
{
    uint8_t b[64];
    ssize_t n = read_some(fd, b, sizeof(b), CLOSE_TIMEOUT_MS);
    return n == 0;
}

static void apply_fault(const struct opts *o, uint8_t *out, size_t len)
{
    size_t off = 0, flen;

    if (!o->fault) return;
    while (off < len && osap_lbs_frame_length(out + off, len - off, FRAME_MAX, &flen) == OSAP_OK) {
        uint8_t type = out[off] >> 4;
        if (strcmp(o->fault, "sign") == 0 &&
            (out[off] == OSAP_LBS_BYTE0_DEVID_REQ_A || type == OSAP_LBS_REFRESH_SK_REQ))
            out[off + flen - 1] ^= 0x01;
        if (strcmp(o->fault, "random2") == 0 && type == OSAP_LBS_APPLY_DEVID_CFM)
            out[off + flen - 1] ^= 0x01;
        off += flen;
    }
}

static int send_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

/* One attempt; prints its line. Returns 1 on success. */
static int attempt(const struct opts *o, osap_lbs_client_t *cl, int n, struct osap_lbs_step *last)
{
    static uint8_t buf[FRAME_MAX];
    uint8_t out[OSAP_LBS_OUT_MAX];
    struct osap_lbs_step step;
    struct osap_lbs_client_result res;
    size_t have = 0;
    ssize_t flen;
    int fd, result = -1, done = 0, closed = 0;
    char path = (char)osap_lbs_client_path(cl);
    osap_err err;

    memset(&step, 0, sizeof(step));
    fd = connect_lbs(o);
    if (fd < 0) {
        printf("{\"attempt\":%d,\"path\":\"%c\",\"result\":-1,\"done\":0,\"err\":\"connect: %s\","
               "\"closed\":1,\"retry_now\":0,\"forget\":0}\n",
               n, path, strerror(errno));
        return 0;
    }
    err = osap_lbs_client_begin(cl, &step);
    if (err) {
        close(fd);
        return 0;
    }
    for (;;) {
        if (step.out_len) {
            memcpy(out, step.out, step.out_len);
            apply_fault(o, out, step.out_len);
            if (send_all(fd, out, step.out_len)) break;
        }
        flen = read_frame(fd, buf, &have);
        if (flen <= 0) {
            closed = flen == 0;
            step.err = flen == -2 ? OSAP_ETIMEDOUT : OSAP_ECLOSED;
            break;
        }
        err = osap_lbs_client_feed(cl, buf, (size_t)flen, &step);
        memmove(buf, buf + flen, have - (size_t)flen);
        have -= (size_t)flen;
        if (err) break;
        if (step.close) {
            result = step.result;
            done = step.done;
            closed = have == 0 && peer_closes(fd);
            break;
        }
    }
    close(fd);
    printf("{\"attempt\":%d,\"path\":\"%c\",\"result\":%d,\"done\":%d,\"err\":\"%s\","
           "\"closed\":%d,\"retry_now\":%d,\"forget\":%u",
           n, path, result, done, osap_strerror(step.err), closed, step.retry_now, step.forget);
    if (done && osap_lbs_client_result(cl, &res) == OSAP_OK) {
        char sk[2 * OSAP_SESSION_KEY_LEN + 1];
        hex(res.session_key, sizeof(res.session_key), sk);
        printf(",\"devid\":\"%.*s\",\"master_key\":\"%.*s\",\"session_key\":\"%s\","
               "\"das\":{\"address\":\"%s\",\"port\":%u,\"udp_port\":%u,\"domain\":\"%s\","
               "\"server_id\":\"%s\"}",
               OSAP_DEVID_LEN, (const char *)res.devid, OSAP_MASTER_KEY_LEN,
               (const char *)res.master_key, sk, res.das.address, res.das.port, res.das.udp_port,
               res.das.domain, res.das.server_id);
        if (o->state) save_state(o, &res);
    }
    printf("}\n");
    fflush(stdout);
    *last = step;
    return done;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'h'},       {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, 'b'},       {"serial", required_argument, NULL, 's'},
        {"code", required_argument, NULL, 'c'},       {"licence", no_argument, NULL, 'l'},
        {"state", required_argument, NULL, 'S'},      {"devid", required_argument, NULL, 'i'},
        {"master-key", required_argument, NULL, 'm'}, {"attempts", required_argument, NULL, 'n'},
        {"fault", required_argument, NULL, 'f'},      {NULL, 0, NULL, 0},
    };
    struct opts o;
    struct osap_lbs_client_config cfg;
    osap_lbs_client_t *cl = NULL;
    struct osap_lbs_step last;
    int c, ok = 0;

    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.attempts = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': o.host = optarg; break;
        case 'p': o.port = atoi(optarg); break;
        case 'b': o.bind = optarg; break;
        case 's': o.serial = optarg; break;
        case 'c': o.code = optarg; break;
        case 'l': o.licence = true; break;
        case 'S': o.state = optarg; break;
        case 'i':
            if (strlen(optarg) != OSAP_DEVID_LEN) return usage();
            memcpy(o.devid, optarg, OSAP_DEVID_LEN);
            o.has_devid = true;
            break;
        case 'm':
            if (strlen(optarg) != OSAP_MASTER_KEY_LEN) return usage();
            memcpy(o.mk, optarg, OSAP_MASTER_KEY_LEN);
            o.has_mk = true;
            break;
        case 'n': o.attempts = atoi(optarg); break;
        case 'f': o.fault = optarg; break;
        default: return usage();
        }
    }
    if (!o.port || !o.serial || !o.code || o.attempts < 1) return usage();
    if (o.state && !o.has_devid && !o.has_mk) load_state(&o);

    memset(&cfg, 0, sizeof(cfg));
    cfg.auth_mode = o.licence ? OSAP_LBS_AUTH_MODE_LICENCE : OSAP_LBS_AUTH_MODE_SAP;
    cfg.subserial = o.serial;
    cfg.vcode = o.code;
    cfg.devid = o.has_devid ? o.devid : NULL;
    cfg.master_key = o.has_mk ? o.mk : NULL;
    if (osap_lbs_client_new(&cfg, &cl) != OSAP_OK) return usage();
    for (int n = 1; n <= o.attempts; n++) {
        memset(&last, 0, sizeof(last));
        ok = attempt(&o, cl, n, &last);
        if (ok) break;
    }
    osap_lbs_client_free(cl);
    return ok ? 0 : 1;
}
