/* Credentials: password hashes (mosquitto "$7$" PBKDF2-HMAC-SHA512) and API tokens. */
#include "testutil.h"

#include "util_secret.h"

#include <string.h>

/* Salt 00 01 02 ... 0b. */
static osap_err counting_fill(void *userdata, uint8_t *buf, size_t len)
{
    (void)userdata;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)i;
    return OSAP_OK;
}

static osap_err failing_fill(void *userdata, uint8_t *buf, size_t len)
{
    (void)userdata;
    (void)buf;
    (void)len;
    return OSAP_ERANDOM;
}

/* Computed independently: Python hashlib.pbkdf2_hmac("sha512", b"correct horse",
 * bytes(range(12)), 1000, 64), base64. */
static const char known_hash[] =
    "$7$1000$AAECAwQFBgcICQoL$hc9UTFKiTSi9CHPMacLhbZUJ9kJTrF7ND3F3GC2tMIePa6GeHoJUhLaT6N8wIl0Zgp4"
    "8kWcgb9fqfYUYiR/1vQ==";

static void test_password_known_answer(void **state)
{
    struct osap_rng rng = {counting_fill, NULL};
    char out[OSAP_PASSWORD_HASH_MAX];
    (void)state;
    assert_int_equal(osap_password_hash("correct horse", 1000, &rng, out), OSAP_OK);
    assert_string_equal(out, known_hash);
    assert_int_equal(osap_password_verify(known_hash, "correct horse"), OSAP_OK);
    assert_int_equal(osap_password_verify(known_hash, "correct horsf"), OSAP_EPERM);
    assert_int_equal(osap_password_verify(known_hash, ""), OSAP_EPERM);
}

static void test_password_random_salt(void **state)
{
    char a[OSAP_PASSWORD_HASH_MAX], b[OSAP_PASSWORD_HASH_MAX];
    struct osap_rng bad = {failing_fill, NULL};
    (void)state;
    assert_int_equal(osap_password_hash("pw", 1000, NULL, a), OSAP_OK);
    assert_int_equal(osap_password_hash("pw", 1000, NULL, b), OSAP_OK);
    assert_string_not_equal(a, b);
    assert_int_equal(strncmp(a, "$7$1000$", 8), 0);
    assert_int_equal(osap_password_verify(a, "pw"), OSAP_OK);
    assert_int_equal(osap_password_verify(b, "pw"), OSAP_OK);
    assert_int_equal(osap_password_hash("", 1000, NULL, a), OSAP_EINVAL);
    assert_int_equal(osap_password_hash("pw", 0, NULL, a), OSAP_EINVAL);
    assert_int_equal(osap_password_hash("pw", 1000, &bad, a), OSAP_ERANDOM);
}

static void test_password_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "plain",
        "$6$AAECAwQFBgcICQoL$abc",
        "$7$0$AAECAwQFBgcICQoL$hc9U",
        "$7$x$AAECAwQFBgcICQoL$hc9U",
        "$7$1000$AAECAwQFBgcICQoL",
        "$7$1000$AAECAwQFBgcICQo$hc9UTFKiTSi9CHPMacLhbZUJ9kJTrF7ND3F3GC2tMIePa6GeHoJUhLaT6N8wIl0Zg"
        "p48kWcgb9fqfYUYiR/1vQ==", /* salt too short */
        "$7$1000$AAECAwQFBgcICQoL$hc9UTFKiTSi9CHPMacLhbZUJ9kJTrF7ND3F3GC2tMIePa6GeHoJUhLaT6N8wIl0Zg"
        "p48kWcgb9fqfYUYiR/1v", /* hash cut */
        "$7$99999999999$AAECAwQFBgcICQoL$hc9UTFKiTSi9CHPMacLhbZUJ9kJTrF7ND3F3GC2tMIePa6GeHoJUhLaT6"
        "N8wIl0Zgp48kWcgb9fqfYUYiR/1vQ==", /* absurd iteration count */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (osap_password_verify(bad[i], "correct horse") != OSAP_EINVAL)
            fail_msg("'%s' accepted as a hash", bad[i]);
    assert_int_equal(osap_password_verify(NULL, "x"), OSAP_EINVAL);
}

static void test_tokens(void **state)
{
    char a[OSAP_TOKEN_LEN + 1], b[OSAP_TOKEN_LEN + 1], h[OSAP_TOKEN_HASH_LEN + 1];
    struct osap_rng rng = {counting_fill, NULL};
    (void)state;
    assert_int_equal(osap_token_generate(NULL, a), OSAP_OK);
    assert_int_equal(osap_token_generate(NULL, b), OSAP_OK);
    assert_int_equal(strlen(a), OSAP_TOKEN_LEN);
    assert_int_equal(strncmp(a, "osap_", 5), 0);
    assert_string_not_equal(a, b);
    for (size_t i = 5; i < OSAP_TOKEN_LEN; i++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
    assert_int_equal(osap_token_generate(&rng, a), OSAP_OK);
    assert_string_equal(a, "osap_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
    /* SHA-256("osap_test-token"), computed independently. */
    assert_int_equal(osap_token_hash("osap_test-token", h), OSAP_OK);
    assert_string_equal(h, "55a8fc66883c80dd1751aa2b3f47e60567f73f97fa58847f5dd0f62901b578dd");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_known_answer),
        cmocka_unit_test(test_password_random_salt),
        cmocka_unit_test(test_password_malformed),
        cmocka_unit_test(test_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
