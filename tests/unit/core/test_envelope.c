/*
 * Payload envelope (spec 6.7): the vectors, every PUBLISH payload of the golden
 * captures, the length rule, the common JSON (formatting byte for byte and
 * strict parsing) and allocation failures.
 */
#include "test_crypto_vec.h"

#include "osap/alloc.h"
#include "osap/crypto.h"
#include "osap/envelope.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>

static const uint8_t key16[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* ------------------------------------------------------------------ vectors */

static void test_vectors(void **state)
{
    (void)state;
    char *vec = vec_load();
    size_t n, klen, plen;
    uint8_t *sess = vec_hex(vec, "devid=", "session_key=", &klen);
    char common[OSAP_ENVELOPE_COMMON_BUF];
    size_t clen;
    uint8_t out[512], plain[512];
    struct osap_envelope_view v;

    /* v3 event report */
    const char *body =
        "{\"level\":1,\"basic\":{\"dateTime\":\"2024-01-01T00:00:00.000+00:00\",\"UUID\":\"x\"}}";
    assert_int_equal(osap_envelope_common_v3(7, common, sizeof(common), &clen), OSAP_OK);
    assert_string_equal(common, "{\"Seq\":7}");
    assert_int_equal(osap_envelope_seal(sess, common, clen, (const uint8_t *)body, strlen(body),
                                        out, sizeof(out), &n),
                     OSAP_OK);
    assert_int_equal(n, osap_envelope_sealed_len(clen, strlen(body)));
    uint8_t *want = vec_hex(vec, "8. DAS v3 PUBLISH", "payload:", &plen);
    assert_bytes_equal(out, n, want, plen);
    assert_int_equal(osap_envelope_open(sess, want, plen, plain, sizeof(plain), &v), OSAP_OK);
    assert_bytes_equal((const uint8_t *)v.common, v.common_len, (const uint8_t *)common, clen);
    assert_bytes_equal(v.body, v.body_len, (const uint8_t *)body, strlen(body));
    test_free_buf(want);

    /* v2 bind query: the device's common JSON for CmdVer v2.0.0, Seq 8, request */
    const char *xml =
        "<Request><DevSerial>Q12345678</DevSerial><Authorization></Authorization></Request>";
    assert_int_equal(osap_envelope_common_v2("v2.0.0", 8, OSAP_V2_MSGTYPE_REQUEST, common,
                                             sizeof(common), &clen),
                     OSAP_OK);
    assert_string_equal(common, "{\"CmdVer\":\"v2.0.0\",\"Seq\":8,\"MsgType\":1}");
    assert_int_equal(osap_envelope_seal(sess, common, clen, (const uint8_t *)xml, strlen(xml), out,
                                        sizeof(out), &n),
                     OSAP_OK);
    want = vec_hex(vec, "9. DAS v2 PUBLISH", "payload:", &plen);
    assert_bytes_equal(out, n, want, plen);
    /* in place: the payload buffer is also the plaintext buffer */
    assert_int_equal(osap_envelope_open(sess, out, n, out, n, &v), OSAP_OK);
    struct osap_envelope_common c;
    assert_int_equal(osap_envelope_common_parse(OSAP_ENVELOPE_V2, v.common, v.common_len, &c),
                     OSAP_OK);
    assert_int_equal(c.seq, 8);
    assert_int_equal(c.msg_type, 1);
    assert_string_equal(c.cmd_ver, "v2.0.0");
    assert_bytes_equal(v.body, v.body_len, (const uint8_t *)xml, strlen(xml));
    test_free_buf(want);
    test_free_buf(sess);
    test_free_buf(vec);
}

/* ------------------------------------------------------------------ captures */

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsString(v)) fail_msg("capture: no string \"%s\"", k);
    return v->valuestring;
}

static int check_capture(const char *name)
{
    char rel[512];
    int publishes = 0;
    snprintf(rel, sizeof(rel), "captures/%s", name);
    char *text = test_read_data(rel, NULL);
    cJSON *root = cJSON_Parse(text);
    const cJSON *m;
    assert_non_null(root);
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(root, "messages"))
    {
        if (strncmp(jstr(m, "kind"), "PUBLISH", 7) != 0) continue;
        const cJSON *fields = cJSON_GetObjectItemCaseSensitive(m, "fields");
        const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "decrypted"), 0);
        const char *topic = jstr(fields, "topic");
        size_t klen, plen, blen, n;
        uint8_t *key = test_hex(jstr(d, "key_hex"), &klen);
        uint8_t *payload = test_hex(jstr(fields, "payload_hex"), &plen);
        uint8_t *body = test_hex(jstr(d, "body_hex"), &blen);
        const char *common = jstr(d, "common_json");
        uint8_t *plain = malloc(plen), *resealed = malloc(plen + 16);
        struct osap_envelope_view v;
        struct osap_envelope_common c;
        char fmt[OSAP_ENVELOPE_COMMON_BUF];
        size_t flen;

        assert_non_null(plain);
        assert_non_null(resealed);
        assert_int_equal(osap_envelope_open(key, payload, plen, plain, plen, &v), OSAP_OK);
        assert_int_equal(v.common_len,
                         (size_t)cJSON_GetObjectItemCaseSensitive(d, "common_len")->valueint);
        assert_bytes_equal((const uint8_t *)v.common, v.common_len, (const uint8_t *)common,
                           strlen(common));
        assert_bytes_equal(v.body, v.body_len, body, blen);

        /* every capture is v3 (/iot/...); its common JSON re-formats identically */
        assert_int_equal(strncmp(topic, "/iot/", 5), 0);
        assert_int_equal(osap_envelope_common_parse(OSAP_ENVELOPE_V3, v.common, v.common_len, &c),
                         OSAP_OK);
        assert_int_equal(osap_envelope_common_v3(c.seq, fmt, sizeof(fmt), &flen), OSAP_OK);
        assert_bytes_equal((const uint8_t *)fmt, flen, (const uint8_t *)common, strlen(common));
        /* and the v2 parser refuses it: no CmdVer */
        assert_int_equal(osap_envelope_common_parse(OSAP_ENVELOPE_V2, v.common, v.common_len, &c),
                         OSAP_ECOMMON_JSON);

        assert_int_equal(osap_envelope_seal(key, fmt, flen, body, blen, resealed, plen + 16, &n),
                         OSAP_OK);
        assert_bytes_equal(resealed, n, payload, plen);

        /* every shorter payload fails, or is never the same message */
        for (size_t len = 0; len < plen; len++) {
            osap_err e = osap_envelope_open(key, payload, len, plain, plen, &v);
            if (len == 0 || len % 16)
                assert_int_equal(e, OSAP_ECIPHERTEXT_LEN);
            else if (e == OSAP_OK)
                assert_true(v.body_len < blen);
            else
                assert_true(e == OSAP_EPADDING || e == OSAP_EENVELOPE);
        }
        free(plain);
        free(resealed);
        test_free_buf(key);
        test_free_buf(payload);
        test_free_buf(body);
        publishes++;
    }
    cJSON_Delete(root);
    test_free_buf(text);
    return publishes;
}

static void test_captures(void **state)
{
    (void)state;
    DIR *d = opendir(OSAP_TEST_DATA_DIR "/captures");
    struct dirent *e;
    int publishes = 0;
    assert_non_null(d);
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0) publishes += check_capture(e->d_name);
    }
    closedir(d);
    assert_true(publishes >= 20);
}

/* ------------------------------------------------------------------ length rule */

/* Encrypt a hand-made plaintext: prefix value @p common_len, then @p rest bytes. */
static size_t raw_payload(unsigned common_len, size_t rest, uint8_t *out, size_t cap)
{
    uint8_t pt[300];
    size_t n;
    assert_true(rest + 2 <= sizeof(pt));
    pt[0] = (uint8_t)(common_len >> 8);
    pt[1] = (uint8_t)common_len;
    for (size_t i = 0; i < rest; i++)
        pt[2 + i] = (uint8_t)('a' + i % 26);
    assert_int_equal(osap_cbc_ez_encrypt(key16, pt, rest + 2, out, cap, &n), OSAP_OK);
    return n;
}

static void test_length_rule(void **state)
{
    (void)state;
    uint8_t pay[320], plain[320];
    struct osap_envelope_view v = {0};

    /* plaintexts of 0 and 1 bytes have no room for the prefix */
    size_t n;
    assert_int_equal(osap_cbc_ez_encrypt(key16, NULL, 0, pay, sizeof(pay), &n), OSAP_OK);
    assert_int_equal(osap_envelope_open(key16, pay, n, plain, sizeof(plain), &v), OSAP_EENVELOPE);
    assert_int_equal(osap_cbc_ez_encrypt(key16, (const uint8_t *)"\0", 1, pay, sizeof(pay), &n),
                     OSAP_OK);
    assert_int_equal(osap_envelope_open(key16, pay, n, plain, sizeof(plain), &v), OSAP_EENVELOPE);

    for (size_t rest = 0; rest < 40; rest++) {
        /* common_len from 0 to rest fits: the body is what is left */
        for (unsigned cl = 0; cl <= rest; cl++) {
            n = raw_payload(cl, rest, pay, sizeof(pay));
            assert_int_equal(osap_envelope_open(key16, pay, n, plain, sizeof(plain), &v), OSAP_OK);
            assert_int_equal(v.common_len, cl);
            assert_int_equal(v.body_len, rest - cl);
            assert_ptr_equal(v.common, (const char *)plain + 2);
            assert_ptr_equal(v.body, plain + 2 + cl);
        }
        /* common_len >= plaintext - 1, up to 65535, does not */
        static const unsigned bad[] = {1, 2, 3, 100, 0x7FFF, 0xFFFF};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            struct osap_envelope_view keep = {(const char *)"x", 1, NULL, 0};
            size_t cl = rest + bad[i] > 0xFFFF ? 0xFFFF : rest + bad[i];
            n = raw_payload((unsigned)cl, rest, pay, sizeof(pay));
            v = keep;
            assert_int_equal(osap_envelope_open(key16, pay, n, plain, sizeof(plain), &v),
                             OSAP_EENVELOPE);
            assert_ptr_equal(v.common, keep.common); /* untouched */
        }
    }
    /* crypto errors come through */
    assert_int_equal(osap_envelope_open(key16, pay, 15, plain, sizeof(plain), &v),
                     OSAP_ECIPHERTEXT_LEN);
    assert_int_equal(osap_envelope_open(key16, pay, 16, plain, 15, &v), OSAP_EBUFSIZE);
    assert_int_equal(osap_envelope_split(plain, 1, &v), OSAP_EENVELOPE);
    assert_int_equal(osap_envelope_split(NULL, 0, &v), OSAP_EENVELOPE);
    assert_int_equal(osap_envelope_split(plain, 2, NULL), OSAP_EINVAL);
}

static void test_seal_limits(void **state)
{
    (void)state;
    static char big[70000];
    uint8_t out[64];
    size_t n = 99;
    memset(big, 'x', sizeof(big));
    assert_int_equal(osap_envelope_sealed_len(0, 0), 16);
    assert_int_equal(osap_envelope_sealed_len(9, 4), 16);
    assert_int_equal(osap_envelope_sealed_len(9, 5), 32);
    assert_int_equal(osap_envelope_sealed_len(0x10000, 0), 0);
    assert_int_equal(osap_envelope_sealed_len(10, SIZE_MAX - 5), 0);
    assert_int_equal(osap_envelope_seal(key16, big, 0x10000, NULL, 0, out, sizeof(out), &n),
                     OSAP_ETOOBIG);
    assert_int_equal(
        osap_envelope_seal(key16, "{\"Seq\":1}", 9, (const uint8_t *)"abcde", 5, out, 31, &n),
        OSAP_EBUFSIZE);
    assert_int_equal(n, 99);
    assert_int_equal(
        osap_envelope_seal(key16, "{\"Seq\":1}", 9, (const uint8_t *)"abcde", 5, out, 32, &n),
        OSAP_OK);
    assert_int_equal(n, 32);
    /* an empty body is legal */
    assert_int_equal(osap_envelope_seal(key16, "{\"Seq\":1}", 9, NULL, 0, out, sizeof(out), &n),
                     OSAP_OK);
    uint8_t plain[64];
    struct osap_envelope_view v;
    assert_int_equal(osap_envelope_open(key16, out, n, plain, sizeof(plain), &v), OSAP_OK);
    assert_int_equal(v.body_len, 0);
    assert_int_equal(osap_envelope_seal(NULL, "", 0, NULL, 0, out, sizeof(out), &n), OSAP_EINVAL);
    assert_int_equal(osap_envelope_seal(key16, NULL, 3, NULL, 0, out, sizeof(out), &n),
                     OSAP_EINVAL);
}

/* ------------------------------------------------------------------ common JSON */

static osap_err parse3(const char *s, struct osap_envelope_common *c)
{
    return osap_envelope_common_parse(OSAP_ENVELOPE_V3, s, strlen(s), c);
}

static osap_err parse2(const char *s, struct osap_envelope_common *c)
{
    return osap_envelope_common_parse(OSAP_ENVELOPE_V2, s, strlen(s), c);
}

static void test_common_format(void **state)
{
    (void)state;
    char out[OSAP_ENVELOPE_COMMON_BUF];
    size_t n;
    struct osap_envelope_common c;

    assert_int_equal(osap_envelope_common_v3(0, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, "{\"Seq\":0}");
    assert_int_equal(osap_envelope_common_v3(4294967295u, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, "{\"Seq\":4294967295}");
    assert_int_equal(n, 18);
    assert_int_equal(parse3(out, &c), OSAP_OK);
    assert_int_equal(c.seq, 4294967295u);

    assert_int_equal(
        osap_envelope_common_v2("V2.0.0", 1001, OSAP_V2_MSGTYPE_RESPONSE, out, sizeof(out), &n),
        OSAP_OK);
    assert_string_equal(out, "{\"CmdVer\":\"V2.0.0\",\"Seq\":1001,\"MsgType\":2}");

    /* escaping: quote, backslash, the short escapes, other control bytes, bytes >= 0x80 */
    const char *odd = "a\"b\\c\b\f\n\r\t\x01\x1f\x7f\xc3\xa9/";
    assert_int_equal(osap_envelope_common_v2(odd, 5, 1, out, sizeof(out), &n), OSAP_OK);
    assert_string_equal(out, "{\"CmdVer\":\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9/"
                             "\",\"Seq\":5,\"MsgType\":1}");
    assert_int_equal(parse2(out, &c), OSAP_OK);
    assert_string_equal(c.cmd_ver, odd);
    /* cJSON prints the same bytes for the same members */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "CmdVer", odd);
    cJSON_AddNumberToObject(o, "Seq", 5);
    cJSON_AddNumberToObject(o, "MsgType", 1);
    char *ref = cJSON_PrintUnformatted(o);
    assert_string_equal(out, ref);
    cJSON_free(ref);
    cJSON_Delete(o);

    /* the longest CmdVer, every byte escaped, fits the documented buffer */
    char longest[OSAP_ENVELOPE_CMDVER_MAX + 1];
    memset(longest, 0x01, OSAP_ENVELOPE_CMDVER_MAX);
    longest[OSAP_ENVELOPE_CMDVER_MAX] = '\0';
    assert_int_equal(osap_envelope_common_v2(longest, 4294967295u, 2, out, sizeof(out), &n),
                     OSAP_OK);
    char toolong[OSAP_ENVELOPE_CMDVER_MAX + 2];
    memset(toolong, 'v', sizeof(toolong) - 1);
    toolong[sizeof(toolong) - 1] = '\0';
    assert_int_equal(osap_envelope_common_v2(toolong, 1, 1, out, sizeof(out), &n), OSAP_EINVAL);
    assert_int_equal(osap_envelope_common_v2("v", 1, 0, out, sizeof(out), &n), OSAP_EINVAL);
    assert_int_equal(osap_envelope_common_v2("v", 1, 3, out, sizeof(out), &n), OSAP_EINVAL);

    /* every capacity below the length (plus NUL) is refused */
    assert_int_equal(osap_envelope_common_v2("v2.0.0", 8, 1, out, sizeof(out), &n), OSAP_OK);
    size_t full = n;
    for (size_t cap = 0; cap <= full; cap++) {
        char small[64];
        size_t m = 777;
        assert_int_equal(osap_envelope_common_v2("v2.0.0", 8, 1, small, cap, &m), OSAP_EBUFSIZE);
        assert_int_equal(m, 777);
    }
    for (size_t cap = 0; cap <= 9; cap++) {
        char small[16];
        assert_int_equal(osap_envelope_common_v3(1, small, cap, &n), OSAP_EBUFSIZE);
    }
}

static void test_common_parse(void **state)
{
    (void)state;
    struct osap_envelope_common c;

    assert_int_equal(parse3("{\"Seq\":1}", &c), OSAP_OK);
    assert_int_equal(c.seq, 1);
    assert_int_equal(c.msg_type, 0);
    assert_string_equal(c.cmd_ver, "");
    /* blanks around the value, other members, numbers with an integral value */
    assert_int_equal(parse3(" {\"x\":[1,2],\"Seq\":1e3}\n", &c), OSAP_OK);
    assert_int_equal(c.seq, 1000);
    assert_int_equal(parse3("{\"Seq\":7.0}", &c), OSAP_OK);
    assert_int_equal(c.seq, 7);
    assert_int_equal(parse3("{\"Seq\":0}", &c), OSAP_OK);
    assert_int_equal(parse2("{\"CmdVer\":\"v\",\"Seq\":2}", &c), OSAP_OK);
    assert_int_equal(c.msg_type, 0); /* MsgType is optional on receive */
    assert_int_equal(parse2("{\"Seq\":2,\"MsgType\":2,\"CmdVer\":\"\"}", &c), OSAP_OK);
    assert_int_equal(c.msg_type, 2);

    static const char *bad3[] = {
        "",
        " ",
        "{}",
        "[]",
        "1",
        "null",
        "{\"seq\":1}",
        "{\"Seq\":-1}",
        "{\"Seq\":1.5}",
        "{\"Seq\":4294967296}",
        "{\"Seq\":1e10}",
        "{\"Seq\":1e999}",
        "{\"Seq\":\"1\"}",
        "{\"Seq\":true}",
        "{\"Seq\":null}",
        "{\"Seq\":[1]}",
        "{\"Seq\":{}}",
        "{\"Seq\":1,\"Seq\":2}",
        "{\"Seq\":1}x",
        "{\"Seq\":1}{\"a\":1}",
        "{\"Seq\":1",
        "{\"Seq\":1,}",
        "{Seq:1}",
        "{\"Seq\":01}x",
    };
    for (size_t i = 0; i < sizeof(bad3) / sizeof(bad3[0]); i++) {
        c.seq = 12345;
        if (parse3(bad3[i], &c) != OSAP_ECOMMON_JSON) fail_msg("accepted: %s", bad3[i]);
        assert_int_equal(c.seq, 12345);
    }
    static const char *bad2[] = {
        "{\"Seq\":1}",
        "{\"CmdVer\":1,\"Seq\":1}",
        "{\"CmdVer\":null,\"Seq\":1}",
        "{\"CmdVer\":\"v\"}",
        "{\"CmdVer\":\"v\",\"Seq\":1,\"MsgType\":0}",
        "{\"CmdVer\":\"v\",\"Seq\":1,\"MsgType\":3}",
        "{\"CmdVer\":\"v\",\"Seq\":1,\"MsgType\":\"1\"}",
        "{\"CmdVer\":\"v\",\"Seq\":1,\"MsgType\":1.5}",
        "{\"CmdVer\":\"v\",\"CmdVer\":\"w\",\"Seq\":1}",
        "{\"CmdVer\":\"v\",\"Seq\":1,\"MsgType\":1,\"MsgType\":2}",
        "{\"CmdVer\":\"v\\u0000w\",\"Seq\":1}",
        "{\"CmdVer\":\"0123456789abcdef0123456789abcdef\",\"Seq\":1}",
    };
    for (size_t i = 0; i < sizeof(bad2) / sizeof(bad2[0]); i++)
        if (parse2(bad2[i], &c) != OSAP_ECOMMON_JSON) fail_msg("accepted: %s", bad2[i]);
    /* 31 bytes is the limit; an escaped backslash before u0000 is ordinary text */
    assert_int_equal(parse2("{\"CmdVer\":\"0123456789abcdef0123456789abcde\",\"Seq\":1}", &c),
                     OSAP_OK);
    assert_int_equal(parse2("{\"CmdVer\":\"\\\\u0000\",\"Seq\":1}", &c), OSAP_OK);
    assert_string_equal(c.cmd_ver, "\\u0000");

    /* every prefix of a valid document is refused */
    const char *doc = "{\"CmdVer\":\"v2.0.0\",\"Seq\":8,\"MsgType\":1}";
    for (size_t len = 0; len < strlen(doc); len++)
        assert_int_equal(osap_envelope_common_parse(OSAP_ENVELOPE_V2, doc, len, &c),
                         OSAP_ECOMMON_JSON);
    assert_int_equal(osap_envelope_common_parse(OSAP_ENVELOPE_V2, doc, strlen(doc), &c), OSAP_OK);
    /* a length that stops inside a buffer holding more text */
    assert_int_equal(
        osap_envelope_common_parse(OSAP_ENVELOPE_V3, "{\"Seq\":12}{\"body\":1}", 10, &c), OSAP_OK);
    assert_int_equal(c.seq, 12);

    /* limits and arguments */
    static char big[OSAP_ENVELOPE_COMMON_MAX + 2];
    memset(big, ' ', sizeof(big) - 1);
    memcpy(big, "{\"Seq\":1}", 9);
    assert_int_equal(
        osap_envelope_common_parse(OSAP_ENVELOPE_V3, big, OSAP_ENVELOPE_COMMON_MAX, &c), OSAP_OK);
    assert_int_equal(
        osap_envelope_common_parse(OSAP_ENVELOPE_V3, big, OSAP_ENVELOPE_COMMON_MAX + 1, &c),
        OSAP_ECOMMON_JSON);
    assert_int_equal(osap_envelope_common_parse(4, "{\"Seq\":1}", 9, &c), OSAP_EINVAL);
    assert_int_equal(osap_envelope_common_parse(OSAP_ENVELOPE_V3, "{\"Seq\":1}", 9, NULL),
                     OSAP_EINVAL);
}

static void test_common_alloc_failures(void **state)
{
    (void)state;
    struct osap_envelope_common c;
    const char *doc = "{\"CmdVer\":\"v2.0.0\",\"Seq\":8,\"MsgType\":1,\"x\":[1,2,3]}";
    int failures = 0;
    test_alloc_install();
    for (long i = 0;; i++) {
        test_alloc_fail_after(i);
        osap_err e = osap_envelope_common_parse(OSAP_ENVELOPE_V2, doc, strlen(doc), &c);
        test_alloc_reset();
        if (e == OSAP_OK) break;
        assert_int_equal(e, OSAP_ENOMEM);
        failures++;
    }
    assert_true(failures >= 5);
    assert_int_equal(c.seq, 8);
    osap_set_allocator(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_captures),
        cmocka_unit_test(test_length_rule),
        cmocka_unit_test(test_seal_limits),
        cmocka_unit_test(test_common_format),
        cmocka_unit_test(test_common_parse),
        cmocka_unit_test(test_common_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
