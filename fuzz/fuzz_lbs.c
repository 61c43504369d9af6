/*
 * libFuzzer target for the LBS codec and handshake machines.
 *
 * The input is a sequence of LBS frames (seeds: every LBS message of the golden
 * captures, alone and as whole connections). Each run:
 *   1. decodes the input as one frame with every message decoder; whatever
 *      decodes must re-encode to the same bytes (flags nibble aside);
 *   2. feeds the frames, one by one, to a server machine with a fixed key, a
 *      fake store holding the captures' devices and a scripted rng;
 *   3. feeds them as server answers to two device machines (path A with the
 *      captured ECDH values, path C with the captured stored state).
 */
#include "osap/crypto.h"
#include "osap/lbs.h"
#include "osap/lbs_handshake.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ------------------------------------------------------------------------ */
/* Codec                                                                    */
/* ------------------------------------------------------------------------ */

static void must(int cond)
{
    if (!cond) abort();
}

static void check_reencode(const uint8_t *buf, size_t len, const uint8_t *out, osap_err err,
                           size_t olen)
{
    must(err == OSAP_OK);
    must(olen == len);
    must((out[0] >> 4) == (buf[0] >> 4));
    must(memcmp(out + 1, buf + 1, len - 1) == 0);
}

static void fuzz_codec(const uint8_t *data, size_t size)
{
    struct osap_lbs_frame f;
    uint8_t out[OSAP_MESSAGE_MAX + 16];
    size_t flen, olen = 0;
    osap_err err;

    (void)osap_lbs_frame_length(data, size, 64, &flen);
    err = osap_lbs_frame_decode(data, size, 0, &f);
    if (err) return;
    must(f.frame_len <= size && f.header_len + f.remaining == f.frame_len);
    must(f.payload + f.payload_len == data + f.frame_len);
    size = f.frame_len;

    {
        struct osap_lbs_auth_req m;
        if (osap_lbs_auth_req_decode(&f, &m) == OSAP_OK)
            check_reencode(data, size, out, osap_lbs_auth_req_encode(&m, out, sizeof(out), &olen),
                           olen);
    }
    {
        struct osap_lbs_auth_rsp m;
        if (osap_lbs_auth_rsp_decode(&f, &m) == OSAP_OK)
            check_reencode(data, size, out, osap_lbs_auth_rsp_encode(&m, out, sizeof(out), &olen),
                           olen);
    }
    {
        struct osap_lbs_devid_req m;
        if (osap_lbs_devid_req_decode(&f, &m) == OSAP_OK)
            check_reencode(data, size, out, osap_lbs_devid_req_encode(&m, out, sizeof(out), &olen),
                           olen);
    }
    {
        struct osap_lbs_keys_rsp m;
        if (osap_lbs_keys_rsp_decode(&f, &m) == OSAP_OK)
            check_reencode(data, size, out, osap_lbs_keys_rsp_encode(&m, out, sizeof(out), &olen),
                           olen);
    }
    {
        struct osap_lbs_refresh_req m;
        if (osap_lbs_refresh_req_decode(&f, &m) == OSAP_OK)
            check_reencode(data, size, out,
                           osap_lbs_refresh_req_encode(&m, out, sizeof(out), &olen), olen);
    }
    {
        struct osap_lbs_redirect_req m;
        if (osap_lbs_redirect_req_decode(&f, &m) == OSAP_OK)
            check_reencode(data, size, out,
                           osap_lbs_redirect_req_encode(&m, out, sizeof(out), &olen), olen);
    }
    {
        struct osap_lbs_redirect_rsp m;
        if (osap_lbs_redirect_rsp_decode(&f, &m) == OSAP_OK)
            check_reencode(data, size, out,
                           osap_lbs_redirect_rsp_encode(&m, out, sizeof(out), &olen), olen);
    }
    {
        struct osap_lbs_redirect_cfm m;
        if (osap_lbs_redirect_cfm_decode(&f, &m) == OSAP_OK)
            check_reencode(data, size, out,
                           osap_lbs_redirect_cfm_encode(&m, out, sizeof(out), &olen), olen);
    }
    {
        struct osap_lbs_data_req m;
        if (osap_lbs_data_req_decode(&f, &m) == OSAP_OK)
            check_reencode(data, size, out, osap_lbs_data_req_encode(&m, out, sizeof(out), &olen),
                           olen);
    }
    {
        struct osap_lbs_data_rsp m;
        if (osap_lbs_data_rsp_decode(&f, &m) == OSAP_OK)
            check_reencode(data, size, out, osap_lbs_data_rsp_encode(&m, out, sizeof(out), &olen),
                           olen);
    }
}

/* ------------------------------------------------------------------------ */
/* Fixtures: the captures' devices and fixed server values                  */
/* ------------------------------------------------------------------------ */

#define DEVID "GOLDEN0123456789ABCDEF0123456789"

static const struct {
    const char *sn, *vcode, *mk;
} devices[] = {
    {"Q12345678", "ABCDEF", "84D12287C8E4D560"},
    {"4LYV8SK7UKLBOUOVS6HXVX:A532NO6K0Q2O", "J7Fv5gCsTczVe38aNLe4ev", "AC30EA2E5084C7E7"},
};

static const uint8_t sk_a[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
static const uint8_t sk_b[16] = {0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
                                 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0};
static const uint8_t r2_sk_c[17] = {0xa5, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
                                    0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00};

static const char lbs_priv_hex[] = "5a161aa97f4550737f1557b8c7420a309ebc8ea5af48fe08"
                                   "74fbde538625417bead7dfa49ce400ef82bc751f1e0ff8a3";
static osap_p384_key *lbs_key;

struct script {
    const uint8_t *bytes;
    size_t len, pos;
};

static osap_err script_fill(void *ud, uint8_t *buf, size_t len)
{
    struct script *s = ud;
    if (s->len - s->pos < len) return OSAP_ERANDOM;
    memcpy(buf, s->bytes + s->pos, len);
    s->pos += len;
    return OSAP_OK;
}

static osap_err fx_lookup(void *ud, uint8_t mode, const char *sn, struct osap_lbs_device *out)
{
    (void)ud;
    (void)mode;
    for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
        if (strcmp(sn, devices[i].sn) != 0) continue;
        memset(out, 0, sizeof(*out));
        strcpy(out->vcode, devices[i].vcode);
        out->has_devid = out->has_master_key = 1;
        memcpy(out->devid, DEVID, OSAP_DEVID_LEN);
        memcpy(out->master_key, devices[i].mk, OSAP_MASTER_KEY_LEN);
        return OSAP_OK;
    }
    return OSAP_ENOTFOUND;
}

static osap_err fx_alloc(void *ud, const char *sn, uint8_t devid[OSAP_DEVID_LEN])
{
    (void)ud;
    (void)sn;
    memcpy(devid, DEVID, OSAP_DEVID_LEN);
    return OSAP_OK;
}

static osap_err fx_commit(void *ud, const struct osap_lbs_commit *c)
{
    (void)ud;
    must(c->subserial && c->subserial_len == strlen(c->subserial));
    return OSAP_OK;
}

static osap_err fx_das(void *ud, const char *sn, struct osap_lbs_das_info *out)
{
    (void)ud;
    (void)sn;
    memset(out, 0, sizeof(*out));
    strcpy(out->address, "127.0.0.1");
    out->port = 18667;
    out->udp_port = 18668;
    strcpy(out->domain, "golden-das.local");
    strcpy(out->server_id, "golden-das-01");
    return OSAP_OK;
}

static osap_err fx_key(void *ud, osap_p384_key **key)
{
    (void)ud;
    *key = lbs_key;
    return OSAP_OK;
}

static int hexval(char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static void init_once(void)
{
    uint8_t priv[OSAP_P384_SECRET_LEN];
    if (lbs_key) return;
    for (size_t i = 0; i < sizeof(priv); i++)
        priv[i] = (uint8_t)(hexval(lbs_priv_hex[2 * i]) << 4 | hexval(lbs_priv_hex[2 * i + 1]));
    must(osap_p384_from_private(priv, &lbs_key) == OSAP_OK);
}

/* ------------------------------------------------------------------------ */
/* Machines                                                                 */
/* ------------------------------------------------------------------------ */

static void check_step(const struct osap_lbs_step *st)
{
    if (st->out_len) {
        struct osap_lbs_frame f;
        must(st->out_len <= OSAP_LBS_OUT_MAX);
        /* every reply is a whole, well-formed frame */
        must(osap_lbs_frame_decode(st->out, st->out_len, 0, &f) == OSAP_OK);
    }
}

static void fuzz_server(const uint8_t *data, size_t size)
{
    struct script rng = {0};
    struct osap_rng rng_if = {script_fill, &rng};
    struct osap_lbs_server_config cfg = {
        .cb = {.lookup = fx_lookup,
               .allocate_devid = fx_alloc,
               .commit = fx_commit,
               .das_info = fx_das,
               .key_acquire = fx_key},
        .rng = &rng_if,
    };
    osap_lbs_server_t *s;
    struct osap_lbs_step st;
    size_t off = 0, n = 0;

    if (osap_lbs_server_new(&cfg, &s) != OSAP_OK) return;
    while (off < size) {
        size_t flen = size - off;
        osap_err err =
            osap_lbs_frame_length(data + off, size - off, OSAP_LBS_SERVER_FRAME_MAX, &flen);
        if (err == OSAP_ENEED_MORE) break;
        /* the captures' fixed values: path C at a first 0x7, A at a later 0x7, B at 0x4 */
        uint8_t type = data[off] >> 4;
        rng.pos = 0;
        if (type == OSAP_LBS_REQUEST_DEVID && n == 0) {
            rng.bytes = r2_sk_c;
            rng.len = sizeof(r2_sk_c);
        } else {
            rng.bytes = type == OSAP_LBS_REFRESH_SK_REQ ? sk_b : sk_a;
            rng.len = 16;
        }
        if (err) flen = size - off; /* framing failed: hand over what there is */
        err = osap_lbs_server_feed(s, data + off, flen, &st);
        if (err) {
            must(err == OSAP_ESTATE);
            break;
        }
        check_step(&st);
        if (st.close) {
            must(st.out_len > 0);
            must(osap_lbs_server_feed(s, data + off, flen, &st) == OSAP_ESTATE);
            break;
        }
        off += flen;
        n++;
    }
    osap_lbs_server_free(s);
}

/* The captured device of sap_a: its public key and master key. */
static const char dev_pub_hex[] =
    "046f287f1cdba2890bc7da1832b19f579c0df283485110b5901499693b4bea8403704b8757641055ff73c878"
    "d8c02d9e393ac1e4fc0b87cb3ace0508cc210d820f3b0ff7d5e173af3968d5219626d0129a52a8ed5d114b35"
    "b308ccd843cf8826bd";

static osap_err rec_public(void *ud, uint8_t pub[OSAP_P384_PUBKEY_LEN])
{
    (void)ud;
    for (size_t i = 0; i < OSAP_P384_PUBKEY_LEN; i++)
        pub[i] = (uint8_t)(hexval(dev_pub_hex[2 * i]) << 4 | hexval(dev_pub_hex[2 * i + 1]));
    return OSAP_OK;
}

static osap_err rec_master(void *ud, const uint8_t peer[OSAP_P384_PUBKEY_LEN],
                           uint8_t mk[OSAP_MASTER_KEY_LEN])
{
    (void)ud;
    if (peer[0] != 0x04) return OSAP_EPOINT;
    memcpy(mk, devices[0].mk, OSAP_MASTER_KEY_LEN);
    return OSAP_OK;
}

static void fuzz_client(const uint8_t *data, size_t size, int path_c)
{
    static const uint8_t r1 = 0x67;
    struct script rng = {&r1, 1, 0};
    struct osap_rng rng_if = {script_fill, &rng};
    struct osap_lbs_client_ecdh ecdh = {rec_public, rec_master, NULL};
    struct osap_lbs_client_config cfg = {
        .subserial = devices[0].sn,
        .vcode = devices[0].vcode,
        .devid = path_c ? (const uint8_t *)DEVID : NULL,
        .master_key = path_c ? (const uint8_t *)devices[0].mk : NULL,
        .rng = &rng_if,
        .ecdh = &ecdh,
    };
    osap_lbs_client_t *c;
    struct osap_lbs_step st;
    size_t off = 0;

    if (osap_lbs_client_new(&cfg, &c) != OSAP_OK) return;
    if (osap_lbs_client_begin(c, &st) != OSAP_OK) goto out;
    while (off < size) {
        size_t flen;
        if (osap_lbs_frame_length(data + off, size - off, 0, &flen) != OSAP_OK) break;
        if (osap_lbs_client_feed(c, data + off, flen, &st) != OSAP_OK) break;
        if (st.close) {
            struct osap_lbs_client_result res;
            must((osap_lbs_client_result(c, &res) == OSAP_OK) || !st.done);
            if (st.done) must(res.das.address[OSAP_LBS_DAS_STR_MAX] == '\0');
            break;
        }
        off += flen;
    }
out:
    osap_lbs_client_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    fuzz_codec(data, size);
    fuzz_server(data, size);
    fuzz_client(data, size, 0);
    fuzz_client(data, size, 1);
    return 0;
}
