/*
 * osap-bench-sdk: the footprint of libosap-device, as one machine-readable line.
 *
 * Code: section sizes of the relocatable objects that bench/sdk/CMakeLists.txt
 * partially links with -Os and --gc-sections from the SDK's public functions:
 *   text_bytes         SDK + POSIX port + the libosap code they reach
 *   text_device_bytes  SDK + POSIX port alone
 *   text_core_bytes    the libosap part (text_bytes - text_device_bytes)
 *   text_noport_bytes  SDK + libosap without the POSIX port (a firmware's own
 *                      port replaces it)
 *   rodata_bytes, data_bytes, bss_bytes  of the first object
 * OpenSSL, cJSON and the C library are not counted.
 *
 * RAM: one device, default settings, brought online against a loopback LBS
 * (libosap's server machine) and a minimal DAS in a thread of this program:
 *   handle_bytes       osap_device_size() (handle and its three buffers)
 *   handle_4k_bytes    the same with message_max 4096 (what osap-sim uses)
 *   heap_online_bytes  osap_malloc() bytes live in the device's thread once online
 *                      (attribute table, LBS handshake state, cJSON)
 *   heap_peak_bytes    their peak until then
 *   openssl_online_bytes  OpenSSL's own allocations live in that thread (after
 *                      OpenSSL's one-time process set-up, which is not counted)
 * Heap of the device thread only; the loopback server's is not counted.
 */
#include "osap/alloc.h"
#include "osap/crypto.h"
#include "osap/device.h"
#include "osap/device_port.h"
#include "osap/lbs.h"
#include "osap/lbs_handshake.h"
#include "osap/mqtt.h"

#include <arpa/inet.h>
#include <elf.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Code size                                                                */
/* ------------------------------------------------------------------------ */

struct sizes {
    unsigned long text, rodata, data, bss;
};

static int elf_sizes(const char *path, struct sizes *out)
{
    FILE *f = fopen(path, "rb");
    Elf64_Ehdr eh;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (!f) return -1;
    if (fread(&eh, sizeof(eh), 1, f) != 1 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr))
        goto out;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh;
        if (fseek(f, (long)(eh.e_shoff + (Elf64_Off)i * sizeof(sh)), SEEK_SET) != 0 ||
            fread(&sh, sizeof(sh), 1, f) != 1)
            goto out;
        if (!(sh.sh_flags & SHF_ALLOC)) continue;
        if (sh.sh_flags & SHF_EXECINSTR)
            out->text += sh.sh_size;
        else if (sh.sh_type == SHT_NOBITS)
            out->bss += sh.sh_size;
        else if (sh.sh_flags & SHF_WRITE)
            out->data += sh.sh_size;
        else
            out->rodata += sh.sh_size;
    }
    rc = 0;
out:
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Heap accounting (the device's thread only)                               */
/* ------------------------------------------------------------------------ */

#define HDR 16

static _Thread_local int counting;
static long heap_live, heap_peak, ssl_live;

static void *count_alloc(void *old, size_t size, long *live, int peak)
{
    unsigned char *p = old ? (unsigned char *)old - HDR : NULL;
    size_t was = 0;
    int was_counted = 0;

    if (p) {
        memcpy(&was, p, sizeof(was));
        was_counted = p[8];
    }
    p = realloc(p, size + HDR);
    if (!p) return NULL;
    if (was_counted) __atomic_sub_fetch(live, (long)was, __ATOMIC_RELAXED);
    memcpy(p, &size, sizeof(size));
    p[8] = (unsigned char)counting;
    if (counting) {
        long now = __atomic_add_fetch(live, (long)size, __ATOMIC_RELAXED);
        if (peak && now > heap_peak) heap_peak = now;
    }
    return p + HDR;
}

static void count_free(void *ptr, long *live)
{
    unsigned char *p;
    size_t size;

    if (!ptr) return;
    p = (unsigned char *)ptr - HDR;
    memcpy(&size, p, sizeof(size));
    if (p[8]) __atomic_sub_fetch(live, (long)size, __ATOMIC_RELAXED);
    free(p);
}

static void *osap_m(size_t n, void *ud)
{
    (void)ud;
    return count_alloc(NULL, n, &heap_live, 1);
}

static void *osap_r(void *p, size_t n, void *ud)
{
    (void)ud;
    return count_alloc(p, n, &heap_live, 1);
}

static void osap_f(void *p, void *ud)
{
    (void)ud;
    count_free(p, &heap_live);
}

static void *ssl_m(size_t n, const char *file, int line)
{
    (void)file, (void)line;
    return count_alloc(NULL, n, &ssl_live, 0);
}

static void *ssl_r(void *p, size_t n, const char *file, int line)
{
    (void)file, (void)line;
    return count_alloc(p, n, &ssl_live, 0);
}

static void ssl_f(void *p, const char *file, int line)
{
    (void)file, (void)line;
    count_free(p, &ssl_live);
}

/* ------------------------------------------------------------------------ */
/* Loopback LBS and DAS                                                     */
/* ------------------------------------------------------------------------ */

static int lbs_fd, das_fd;
static uint16_t lbs_port, das_port;
static volatile int server_quit;

static int listen_any(uint16_t *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16) ||
        getsockname(fd, (struct sockaddr *)&sa, &len))
        return -1;
    *port = ntohs(sa.sin_port);
    return fd;
}

static osap_err srv_lookup(void *ud, uint8_t mode, const char *sn, struct osap_lbs_device *out)
{
    (void)ud, (void)mode, (void)sn;
    memset(out, 0, sizeof(*out));
    strcpy(out->vcode, "ABCDEF");
    return OSAP_OK;
}

static osap_err srv_commit(void *ud, const struct osap_lbs_commit *c)
{
    (void)ud, (void)c;
    return OSAP_OK;
}

static osap_err srv_das(void *ud, const char *sn, struct osap_lbs_das_info *out)
{
    (void)ud, (void)sn;
    memset(out, 0, sizeof(*out));
    strcpy(out->address, "127.0.0.1");
    out->port = das_port;
    return OSAP_OK;
}

static void serve_lbs(int fd)
{
    struct osap_lbs_server_config cfg;
    osap_lbs_server_t *s = NULL;
    uint8_t buf[4096];
    size_t len = 0;

    memset(&cfg, 0, sizeof(cfg));
    cfg.cb.lookup = srv_lookup;
    cfg.cb.commit = srv_commit;
    cfg.cb.das_info = srv_das;
    if (osap_lbs_server_new(&cfg, &s)) return;
    for (;;) {
        size_t flen;
        ssize_t n = read(fd, buf + len, sizeof(buf) - len);
        if (n <= 0) break;
        len += (size_t)n;
        while (osap_lbs_frame_length(buf, len, 0, &flen) == OSAP_OK) {
            struct osap_lbs_step st;
            if (osap_lbs_server_feed(s, buf, flen, &st)) goto done;
            if (st.out_len && write(fd, st.out, st.out_len) < 0) goto done;
            memmove(buf, buf + flen, len - flen);
            len -= flen;
            if (st.close) goto done;
        }
    }
done:
    osap_lbs_server_free(s);
}

static void das_answer(int fd, const struct osap_mqtt_packet *in)
{
    struct osap_mqtt_packet out;
    uint8_t buf[64], code = 1;
    size_t len = 0;

    memset(&out, 0, sizeof(out));
    switch (in->type) {
    case OSAP_MQTT_CONNECT: out.type = OSAP_MQTT_CONNACK; break;
    case OSAP_MQTT_SUBSCRIBE:
        out.type = OSAP_MQTT_SUBACK;
        out.suback.packet_id = in->subscribe.packet_id;
        out.suback.count = 1;
        out.suback.codes = &code;
        break;
    case OSAP_MQTT_UNSUBSCRIBE:
        out.type = OSAP_MQTT_UNSUBACK;
        out.ack.packet_id = in->unsubscribe.packet_id;
        break;
    case OSAP_MQTT_PUBLISH:
        if (in->publish.qos != 1) return;
        out.type = OSAP_MQTT_PUBACK;
        out.ack.packet_id = in->publish.packet_id;
        break;
    case OSAP_MQTT_PINGREQ: out.type = OSAP_MQTT_PINGRESP; break;
    default: return;
    }
    if (osap_mqtt_encode(&out, buf, sizeof(buf), &len) == OSAP_OK && write(fd, buf, len) < 0)
        return;
}

static void serve_das(int fd)
{
    static uint8_t buf[65536];
    size_t len = 0;

    for (;;) {
        struct osap_mqtt_packet pkt;
        size_t used;
        ssize_t n = read(fd, buf + len, sizeof(buf) - len);
        if (n <= 0) return;
        len += (size_t)n;
        while (osap_mqtt_decode(buf, len, 0, OSAP_MQTT_LENIENT, &pkt, &used) == OSAP_OK) {
            das_answer(fd, &pkt);
            if (pkt.type == OSAP_MQTT_DISCONNECT) return;
            memmove(buf, buf + used, len - used);
            len -= used;
        }
    }
}

static void *server(void *arg)
{
    (void)arg;
    while (!server_quit) {
        struct pollfd p[2] = {{lbs_fd, POLLIN, 0}, {das_fd, POLLIN, 0}};
        if (poll(p, 2, 100) <= 0) continue;
        for (int i = 0; i < 2; i++) {
            int c;
            if (!(p[i].revents & POLLIN)) continue;
            c = accept(p[i].fd, NULL, NULL);
            if (c < 0) continue;
            if (i == 0)
                serve_lbs(c);
            else
                serve_das(c); /* until the device disconnects */
            close(c);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Main                                                                     */
/* ------------------------------------------------------------------------ */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int run_until(osap_device_t *dev, enum osap_device_state want, uint64_t max_ms)
{
    uint64_t end = mono_ms() + max_ms;
    while (mono_ms() < end) {
        uint64_t next = 0, now;
        unsigned ev = 0;
        int fd, timeout;
        osap_device_step(dev, &next);
        if (osap_device_state(dev) == want) return 0;
        fd = osap_device_fd(dev, &ev);
        now = mono_ms();
        timeout = next == OSAP_DEVICE_NEVER ? 100 : next <= now ? 0 : (int)(next - now);
        if (timeout > 100) timeout = 100;
        if (fd >= 0) {
            struct pollfd p = {fd,
                               (short)((ev & OSAP_DEVICE_POLLIN ? POLLIN : 0) |
                                       (ev & OSAP_DEVICE_POLLOUT ? POLLOUT : 0)),
                               0};
            poll(&p, 1, timeout);
        } else {
            usleep((useconds_t)timeout * 1000u);
        }
    }
    return -1;
}

int main(void)
{
    struct osap_allocator a = {osap_m, osap_r, osap_f, NULL};
    struct osap_device_posix_config pc = {NULL, NULL};
    struct osap_device_port port;
    struct osap_device_config cfg;
    struct sizes all, dev_only, noport;
    osap_device_t *dev = NULL;
    pthread_t tid;
    long heap_online, ssl_online;
    size_t handle, handle_4k;
    int rc = 1;

    if (!CRYPTO_set_mem_functions(ssl_m, ssl_r, ssl_f))
        fprintf(stderr, "osap-bench-sdk: OpenSSL allocations cannot be counted\n");
    osap_set_allocator(&a);
    if (elf_sizes(SDK_FP_ALL, &all) || elf_sizes(SDK_FP_DEVICE, &dev_only) ||
        elf_sizes(SDK_FP_NOPORT, &noport)) {
        fprintf(stderr, "osap-bench-sdk: cannot read the footprint objects (%s)\n", SDK_FP_ALL);
        return 1;
    }
    /* OpenSSL's one-time set-up (providers, tables) is process-wide: done before
     * counting, so only what the device holds is measured */
    {
        osap_p384_key *k = NULL;
        uint8_t key[16] = {0}, ct[32];
        size_t n;
        osap_p384_generate(NULL, &k);
        osap_p384_free(k);
        osap_cbc_ez_encrypt(key, key, 16, ct, sizeof(ct), &n);
        osap_gcm_ez_encrypt(key, key, 16, ct, ct + 16);
    }
    lbs_fd = listen_any(&lbs_port);
    das_fd = listen_any(&das_port);
    if (lbs_fd < 0 || das_fd < 0 || pthread_create(&tid, NULL, server, NULL)) return 1;

    counting = 1;
    if (osap_device_port_posix_new(&pc, &port)) goto out;
    memset(&cfg, 0, sizeof(cfg));
    cfg.lbs_host = "127.0.0.1";
    cfg.lbs_port = lbs_port;
    cfg.subserial = "BENCH0001";
    cfg.vcode = "ABCDEF";
    cfg.dev_type = "OSAP-BENCH";
    cfg.firmware_version = "V1.0.0";
    cfg.port = &port;
    handle = osap_device_size(&cfg);
    cfg.message_max = 4096;
    handle_4k = osap_device_size(&cfg);
    cfg.message_max = 0;
    if (osap_device_new(&cfg, &dev)) goto out;
    {
        struct osap_device_key k = {NULL, "Power", "Battery"};
        osap_device_attr_report(dev, &k, "87");
    }
    if (osap_device_start(dev) || run_until(dev, OSAP_DEVICE_ONLINE, 20000)) {
        fprintf(stderr, "osap-bench-sdk: the device did not come online\n");
        goto out;
    }
    /* settle: the report and its PUBACK */
    run_until(dev, OSAP_DEVICE_STOPPED, 300);
    heap_online = __atomic_load_n(&heap_live, __ATOMIC_RELAXED) - (long)handle;
    ssl_online = __atomic_load_n(&ssl_live, __ATOMIC_RELAXED);

    printf("bench=sdk text_bytes=%lu text_device_bytes=%lu text_core_bytes=%lu "
           "text_noport_bytes=%lu rodata_bytes=%lu data_bytes=%lu bss_bytes=%lu "
           "handle_bytes=%zu handle_4k_bytes=%zu heap_online_bytes=%ld heap_peak_bytes=%ld "
           "openssl_online_bytes=%ld\n",
           all.text, dev_only.text, all.text - dev_only.text, noport.text, all.rodata, all.data,
           all.bss, handle, handle_4k, heap_online, heap_peak - (long)handle, ssl_online);
    osap_device_stop(dev);
    run_until(dev, OSAP_DEVICE_STOPPED, 3000);
    rc = 0;
out:
    osap_device_free(dev);
    osap_device_port_posix_free(&port);
    server_quit = 1;
    pthread_join(tid, NULL);
    return rc;
}
