/*
 * libFuzzer target: arbitrary LBS answers fed to the device SDK.
 *
 * Input: byte 0 selects the stored state (bits 0-1: none -> path A, devid only ->
 * path B, both -> path C) and the read size (bits 2-4); byte 1 is random_1 of
 * path C; the rest is what the "LBS" sends on each connection the device opens,
 * connections separated by the marker "\xff\xfeNX" (the server closes after its
 * bytes). The device's ECDH step is the recorded one of the capture sap_a, so
 * the captures' real answers (the seeds) get through every check and the fuzzer
 * starts from valid handshakes. The device runs on fake time until it is online,
 * blocked or has retried a few times; nothing may crash, leak or hang.
 */
#include "fuzz_device_port.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MARK     "\xff\xfeNX"
#define MARK_LEN 4

static const char device_pub_hex[] =
    "046f287f1cdba2890bc7da1832b19f579c0df283485110b5901499693b4bea8403704b8757641055ff73c87"
    "8d8c02d9e393ac1e4fc0b87cb3ace0508cc210d820f3b0ff7d5e173af3968d5219626d0129a52a8ed5d114b35"
    "b308ccd843cf8826bd";
static const char master_key[] = "84D12287C8E4D560";
static const char devid[] = "GOLDEN0123456789ABCDEF0123456789";

static osap_err rec_public(void *ud, uint8_t pub[OSAP_P384_PUBKEY_LEN])
{
    (void)ud;
    fz_hex(device_pub_hex, pub, OSAP_P384_PUBKEY_LEN);
    return OSAP_OK;
}

static osap_err rec_master(void *ud, const uint8_t peer[OSAP_P384_PUBKEY_LEN],
                           uint8_t mk[OSAP_MASTER_KEY_LEN])
{
    (void)ud, (void)peer;
    memcpy(mk, master_key, OSAP_MASTER_KEY_LEN);
    return OSAP_OK;
}

/* Connections get the segments of the input in order. */
struct plan {
    const uint8_t *seg[FZ_CONNS];
    size_t len[FZ_CONNS];
    int n;
};

static struct plan plan;

static osap_err plan_connect(void *ctx, const char *host, uint16_t port, intptr_t *sock)
{
    struct fz *f = ctx;
    osap_err err = fz_connect(ctx, host, port, sock);
    if (err) return err;
    if (*sock < plan.n) fz_feed(f, (int)*sock, plan.seg[*sock], plan.len[*sock]);
    f->conns[*sock]->eof = 1;
    return OSAP_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f;
    struct osap_lbs_client_ecdh ecdh = {rec_public, rec_master, NULL};
    struct osap_device_test_hooks hooks = {&ecdh};
    struct osap_device_config cfg;
    osap_device_t *dev = NULL;
    const uint8_t *p, *end;

    if (size < 2 || size > 8192) return 0;
    if (fz_init(&f)) return 0;
    fz_wire(&f);
    f.port.tcp_connect = plan_connect;
    f.read_chunk = (data[0] >> 2) & 7 ? (size_t)1 << ((data[0] >> 2) & 7) : 0;
    f.rnd[0] = data[1];
    f.rnd_len = 1;
    if (data[0] & 3) f.port.kv_set(f.port.ctx, "devid", (const uint8_t *)devid, OSAP_DEVID_LEN);
    if ((data[0] & 3) >= 2)
        f.port.kv_set(f.port.ctx, "masterkey", (const uint8_t *)master_key, OSAP_MASTER_KEY_LEN);

    memset(&plan, 0, sizeof(plan));
    p = data + 2;
    end = data + size;
    while (plan.n < FZ_CONNS) {
        const uint8_t *m = p;
        while (m + MARK_LEN <= end && memcmp(m, MARK, MARK_LEN) != 0)
            m++;
        if (m + MARK_LEN > end) m = end;
        plan.seg[plan.n] = p;
        plan.len[plan.n++] = (size_t)(m - p);
        if (m == end) break;
        p = m + MARK_LEN;
    }

    memset(&cfg, 0, sizeof(cfg));
    cfg.lbs_host = "127.0.0.1";
    cfg.lbs_port = 18666;
    cfg.auth_mode = OSAP_LBS_AUTH_MODE_SAP;
    cfg.subserial = "Q12345678";
    cfg.vcode = "ABCDEF";
    cfg.dev_type = "GOLDEN_MODEL";
    cfg.port = &f.port;
    cfg.test = &hooks;
    cfg.message_max = 4096;
    if (osap_device_new(&cfg, &dev) == OSAP_OK) {
        if (osap_device_start(dev) == OSAP_OK) fz_run(&f, dev, 200, 30000);
        osap_device_free(dev);
    }
    fz_free(&f);
    return 0;
}
