/*
 * Every message of tests/data/vectors/vectors.txt (spec 9.4-9.7) rebuilt from
 * the crypto primitives and the byte layouts of spec 4 and 6, independently of
 * the LBS and MQTT codecs: keys from the test scalars, GCM and CBC fields,
 * signs, whole frames, the registration CONNECT and the publish payloads.
 */
#include "test_crypto_vec.h"

#include "osap/crypto.h"

#include <stdio.h>

static char *vec;

/* Keys and values shared by the sections. */
static const char *sn = "Q12345678";
static const char *devid = "0123456789ABCDEF0123456789ABCDEF";
static uint8_t aes_upper[16];
static uint8_t dev_pub[97], lbs_pub[97];
static uint8_t mk[16], sign[48];
static uint8_t sess[16], sess2[16];

static void test_scalar(uint8_t d[48], uint8_t byte)
{
    memset(d, 0, 48);
    memset(d + 28, byte, 20);
}

static int setup(void **state)
{
    (void)state;
    char sk[OSAP_SHARE_KEY_LEN];
    uint8_t d[48], x[48];
    osap_p384_key *dev = NULL, *lbs = NULL;
    size_t n;

    vec = vec_load();
    assert_int_equal(osap_share_key("ABCDEF", 6, sn, 9, 1, sk), OSAP_OK);
    memcpy(aes_upper, sk, 16);
    test_scalar(d, 0x11);
    assert_int_equal(osap_p384_from_private(d, &dev), OSAP_OK);
    test_scalar(d, 0x22);
    assert_int_equal(osap_p384_from_private(d, &lbs), OSAP_OK);
    assert_int_equal(osap_p384_public(dev, dev_pub), OSAP_OK);
    assert_int_equal(osap_p384_public(lbs, lbs_pub), OSAP_OK);
    assert_int_equal(osap_p384_derive(lbs, dev_pub, x), OSAP_OK);
    assert_int_equal(osap_master_key(x, mk), OSAP_OK);
    assert_int_equal(osap_sign(mk, sn, 9, sign), OSAP_OK);
    osap_p384_free(dev);
    osap_p384_free(lbs);

    uint8_t *s = vec_hex(vec, "devid=", "session_key=", &n);
    assert_int_equal(n, 16);
    memcpy(sess, s, 16);
    test_free_buf(s);
    s = test_hex("ffeeddccbbaa99887766554433221100", &n); /* spec 9.6 */
    memcpy(sess2, s, 16);
    test_free_buf(s);
    char *line = vec_line(vec, NULL, "devid='");
    assert_memory_equal(line, devid, 32);
    free(line);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_free_buf(vec);
    return 0;
}

static void expect_msg(const struct tbuf *got, const char *anchor, const char *label)
{
    size_t n;
    uint8_t *want = vec_hex(vec, anchor, label, &n);
    assert_bytes_equal(got->b, got->n, want, n);
    test_free_buf(want);
}

static void put_gcm(struct tbuf *t, const uint8_t *key, const void *pt, size_t len)
{
    uint8_t tag[16], ct[128];
    assert_true(len <= sizeof(ct));
    assert_int_equal(osap_gcm_ez_encrypt(key, pt, len, tag, ct), OSAP_OK);
    tbuf_put(t, tag, 16); /* the tag comes first on the wire */
    tbuf_put(t, ct, len);
}

static void put_cbc(struct tbuf *t, const uint8_t *key, const void *pt, size_t len)
{
    uint8_t ct[1024];
    size_t n;
    assert_int_equal(osap_cbc_ez_encrypt(key, pt, len, ct, sizeof(ct), &n), OSAP_OK);
    tbuf_put(t, ct, n);
}

static const uint8_t ver[3] = {0x01, 0x01, 0x00};

static void test_path_a(void **state)
{
    (void)state;
    const char *sec = "4. FIRST AUTHENTICATION";
    struct tbuf body = {0}, msg = {0};

    /* 0x1: variable header, version 01 02 00, auth mode, subserial, GCM(pub) */
    tbuf_put(&body, "\x01\x01\x01", 3);
    tbuf_put(&body, "\x01\x02\x00", 3);
    tbuf_u8(&body, 0);
    tbuf_u8(&body, 9);
    tbuf_str(&body, sn);
    put_gcm(&body, aes_upper, dev_pub, 97);
    tbuf_frame(&msg, 0x1A, &body);
    assert_int_equal(msg.n, 133);
    expect_msg(&msg, sec, "Msg 0x1 (dev->LBS, 133 bytes):");

    /* 0x2 */
    body.n = 0;
    tbuf_u8(&body, 0x01);
    tbuf_put(&body, ver, 3);
    tbuf_u8(&body, 0);
    put_gcm(&body, aes_upper, lbs_pub, 97);
    tbuf_frame(&msg, 0x2A, &body);
    expect_msg(&msg, sec, "Msg 0x2 (LBS->dev, 120 bytes):");

    /* 0x7 (path A) */
    body.n = 0;
    tbuf_put(&body, ver, 3);
    tbuf_put(&body, sign, 48);
    tbuf_frame(&msg, 0x72, &body);
    expect_msg(&msg, sec, "Msg 0x7 apply-devid (dev->LBS, 53 bytes):");

    /* 0x8 (path A): GCM devid and GCM session key under the master key, then the sign */
    body.n = 0;
    tbuf_put(&body, ver, 3);
    tbuf_u8(&body, 0);
    uint8_t tag[16], ct[32];
    assert_int_equal(osap_gcm_ez_encrypt(mk, (const uint8_t *)devid, 32, tag, ct), OSAP_OK);
    tbuf_put(&body, tag, 16);
    tbuf_u8(&body, 32);
    tbuf_put(&body, ct, 32);
    assert_int_equal(osap_gcm_ez_encrypt(mk, sess, 16, tag, ct), OSAP_OK);
    tbuf_put(&body, tag, 16);
    tbuf_u8(&body, 16);
    tbuf_put(&body, ct, 16);
    tbuf_put(&body, sign, 48);
    tbuf_frame(&msg, 0x82, &body);
    expect_msg(&msg, sec, "Msg 0x8 (LBS->dev, 137 bytes):");

    /* The vectors' note on the constant nonce: both fields use one keystream, so
     * the XOR of the ciphertexts is the XOR of devid[0:16] and the session key. */
    char *note = vec_line(vec, sec, "NOTE: cd XOR cs[0:16] == devid[0:16] XOR session_key");
    assert_non_null(strstr(note, "True"));
    free(note);
    const uint8_t *cd = body.b + 3 + 1 + 16 + 1, *cs = cd + 32 + 16 + 1;
    for (int i = 0; i < 16; i++)
        assert_int_equal(cd[i] ^ cs[i], (uint8_t)devid[i] ^ sess[i]);

    /* 0xA / 0xB: CBC of the JSON documents under the session key */
    char *req = vec_line(vec, sec, "0xA plaintext:");
    body.n = 0;
    tbuf_put(&body, ver, 3);
    put_cbc(&body, sess, req, strlen(req));
    tbuf_frame(&msg, 0xA0, &body);
    expect_msg(&msg, sec, "Msg 0xA (dev->LBS, 53 bytes):");
    assert_string_equal(req, "{\"DevSerial\":\"Q12345678\",\"Type\":\"DAS\",\"Mode\":0}");
    free(req);

    char *rsp = vec_line(vec, sec, "0xB plaintext:");
    body.n = 0;
    tbuf_put(&body, ver, 3);
    tbuf_u8(&body, 0);
    put_cbc(&body, sess, rsp, strlen(rsp));
    tbuf_frame(&msg, 0xB0, &body);
    expect_msg(&msg, sec, "Msg 0xB (LBS->dev, 135 bytes):");
    free(rsp);
}

static void test_path_c_and_b(void **state)
{
    (void)state;
    const char *sec = "5. PLAIN REDIRECT";
    struct tbuf body = {0}, msg = {0};
    const uint8_t r1 = 0x5A, r2 = 0xA5;

    body.n = 0;
    tbuf_put(&body, ver, 3);
    tbuf_u8(&body, 9);
    tbuf_str(&body, sn);
    tbuf_u8(&body, 32);
    tbuf_str(&body, devid);
    put_cbc(&body, mk, &r1, 1);
    tbuf_frame(&msg, 0x70, &body);
    expect_msg(&msg, sec, "Msg 0x7/old-header (dev->LBS, 64 bytes):");

    uint8_t pt[18];
    pt[0] = r1;
    pt[1] = r2;
    memcpy(pt + 2, sess2, 16);
    body.n = 0;
    tbuf_put(&body, ver, 3);
    tbuf_u8(&body, 0);
    put_cbc(&body, mk, pt, sizeof(pt));
    tbuf_frame(&msg, 0x80, &body);
    expect_msg(&msg, sec, "Msg 0x8 (LBS->dev, 38 bytes):");

    body.n = 0;
    tbuf_put(&body, ver, 3);
    put_cbc(&body, mk, &r2, 1);
    tbuf_frame(&msg, 0x90, &body);
    expect_msg(&msg, sec, "Msg 0x9 (dev->LBS, 21 bytes):");

    body.n = 0;
    tbuf_put(&body, ver, 3);
    tbuf_u8(&body, 32);
    tbuf_str(&body, devid);
    tbuf_put(&body, sign, 48);
    tbuf_frame(&msg, 0x42, &body);
    expect_msg(&msg, "6. Msg 0x4", "(86 bytes):");
}

static void mqtt_str(struct tbuf *t, const void *p, size_t n)
{
    tbuf_u16(t, (unsigned)n);
    tbuf_put(t, p, n);
}

static void test_das_connect(void **state)
{
    (void)state;
    const char *sec = "7. DAS MQTT CONNECT";
    struct tbuf body = {0}, msg = {0}, will = {0};
    size_t n;

    char *pt = vec_line(vec, sec, "will plaintext:");
    put_cbc(&will, sess, pt, strlen(pt));
    uint8_t *want = vec_hex(vec, sec, "will ciphertext (AES-CBC, session key):", &n);
    assert_bytes_equal(will.b, will.n, want, n);
    test_free_buf(want);
    /* the recorded ciphertext decrypts to the recorded plaintext */
    uint8_t back[1024];
    assert_int_equal(osap_cbc_ez_decrypt(sess, will.b, will.n, back, sizeof(back), &n), OSAP_OK);
    assert_bytes_equal(back, n, (const uint8_t *)pt, strlen(pt));
    free(pt);

    char topic[128] = {0};
    snprintf(topic, sizeof(topic), "/Basic/pu2cenplt/%s/firstconnect", sn);
    mqtt_str(&body, "MQTT", 4);
    tbuf_u8(&body, 4);
    tbuf_u8(&body, 0xEE);
    tbuf_u16(&body, 30);
    mqtt_str(&body, "", 0);
    mqtt_str(&body, topic, sizeof(topic)); /* NUL-padded to 128 bytes */
    mqtt_str(&body, will.b, will.n);
    mqtt_str(&body, sn, strlen(sn));
    mqtt_str(&body, "test", 4);
    tbuf_frame(&msg, 0x10, &body);
    assert_int_equal(msg.n, 564);
    expect_msg(&msg, sec, "CONNECT (564 bytes):");

    char *lw = vec_line(vec, sec, "light-registration will plaintext:");
    will.n = 0;
    put_cbc(&will, sess, lw, strlen(lw));
    want = vec_hex(vec, sec, "light-registration will ciphertext:", &n);
    assert_bytes_equal(will.b, will.n, want, n);
    test_free_buf(want);
    free(lw);
}

static void test_das_payloads(void **state)
{
    (void)state;
    struct tbuf pt = {0}, ct = {0};
    size_t n;

    /* v3 event report (spec 9.7) */
    const char *common = "{\"Seq\":7}";
    const char *body =
        "{\"level\":1,\"basic\":{\"dateTime\":\"2024-01-01T00:00:00.000+00:00\",\"UUID\":\"x\"}}";
    char *plain = vec_line(vec, "8. DAS v3 PUBLISH", "plain  :");
    char expect_plain[256];
    snprintf(expect_plain, sizeof(expect_plain), "0009 | %s | %s", common, body);
    assert_string_equal(plain, expect_plain);
    free(plain);
    tbuf_u16(&pt, (unsigned)strlen(common));
    tbuf_str(&pt, common);
    tbuf_str(&pt, body);
    put_cbc(&ct, sess, pt.b, pt.n);
    uint8_t *want = vec_hex(vec, "8. DAS v3 PUBLISH", "payload:", &n);
    assert_bytes_equal(ct.b, ct.n, want, n);
    test_free_buf(want);

    /* v2 bind query (domain 1100, cmd 0x3445): the recorded payload decrypts to
     * the device's common JSON and the XML body, and re-encrypts identically */
    want = vec_hex(vec, "9. DAS v2 PUBLISH", "payload:", &n);
    uint8_t back[512];
    size_t m;
    assert_int_equal(osap_cbc_ez_decrypt(sess, want, n, back, sizeof(back), &m), OSAP_OK);
    const char *c2 = "{\"CmdVer\":\"v2.0.0\",\"Seq\":8,\"MsgType\":1}";
    const char *b2 =
        "<Request><DevSerial>Q12345678</DevSerial><Authorization></Authorization></Request>";
    pt.n = 0;
    tbuf_u16(&pt, (unsigned)strlen(c2));
    tbuf_str(&pt, c2);
    tbuf_str(&pt, b2);
    assert_bytes_equal(back, m, pt.b, pt.n);
    ct.n = 0;
    put_cbc(&ct, sess, pt.b, pt.n);
    assert_bytes_equal(ct.b, ct.n, want, n);
    test_free_buf(want);
    char *topic = vec_line(vec, "9. DAS v2 PUBLISH", "topic  :");
    assert_string_equal(topic, "/1100/13381");
    assert_int_equal(0x3445, 13381);
    free(topic);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_a),
        cmocka_unit_test(test_path_c_and_b),
        cmocka_unit_test(test_das_connect),
        cmocka_unit_test(test_das_payloads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
