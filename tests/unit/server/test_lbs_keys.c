/* The LBS server key source (src/osapd/lbs/lbs_keys.c): a key pair serves at
 * most ecdh_key_uses handshakes and lives at most ecdh_key_lifetime; retired key
 * pairs are freed when their last user releases them (ASan checks that); many
 * threads may acquire, derive and release at once. */
#include "testutil.h"

#include "lbs/lbs_internal.h"
#include "osap/crypto.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

static void pub_of(osap_p384_key *k, uint8_t pub[OSAP_P384_PUBKEY_LEN])
{
    assert_int_equal(osap_p384_public(k, pub), OSAP_OK);
}

static void test_uses(void **state)
{
    struct lbs_keys *ks = NULL;
    osap_p384_key *k[7];
    uint8_t pub[7][OSAP_P384_PUBKEY_LEN];
    (void)state;

    assert_int_equal(lbs_keys_new(3, 60000, 0, NULL, &ks), OSAP_OK);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(lbs_keys_acquire(ks, &k[i]), OSAP_OK);
        pub_of(k[i], pub[i]);
    }
    /* 1,2,3 share a key pair; 4,5,6 the next; 7 a third */
    assert_memory_equal(pub[0], pub[1], OSAP_P384_PUBKEY_LEN);
    assert_memory_equal(pub[0], pub[2], OSAP_P384_PUBKEY_LEN);
    assert_memory_not_equal(pub[0], pub[3], OSAP_P384_PUBKEY_LEN);
    assert_memory_equal(pub[3], pub[5], OSAP_P384_PUBKEY_LEN);
    assert_memory_not_equal(pub[5], pub[6], OSAP_P384_PUBKEY_LEN);
    assert_int_equal(lbs_keys_generated(ks), 3);
    /* releases in any order; the retired ones are freed on their last release */
    for (int i = 6; i >= 0; i--)
        lbs_keys_release(ks, k[i]);
    lbs_keys_free(ks);
}

static void test_one_use_is_a_fresh_key_each_time(void **state)
{
    struct lbs_keys *ks = NULL;
    osap_p384_key *a, *b;
    uint8_t pa[OSAP_P384_PUBKEY_LEN], pb[OSAP_P384_PUBKEY_LEN];
    (void)state;

    assert_int_equal(lbs_keys_new(1, 60000, 0, NULL, &ks), OSAP_OK);
    assert_int_equal(lbs_keys_acquire(ks, &a), OSAP_OK);
    lbs_keys_release(ks, a);
    assert_int_equal(lbs_keys_acquire(ks, &b), OSAP_OK);
    pub_of(b, pb);
    lbs_keys_release(ks, b);
    assert_int_equal(lbs_keys_acquire(ks, &a), OSAP_OK);
    pub_of(a, pa);
    assert_memory_not_equal(pa, pb, OSAP_P384_PUBKEY_LEN);
    lbs_keys_release(ks, a);
    assert_int_equal(lbs_keys_generated(ks), 3);
    lbs_keys_free(ks);
}

static void test_lifetime(void **state)
{
    struct lbs_keys *ks = NULL;
    osap_p384_key *a, *b;
    uint8_t pa[OSAP_P384_PUBKEY_LEN], pb[OSAP_P384_PUBKEY_LEN];
    (void)state;

    assert_int_equal(lbs_keys_new(1000, 100, 0, NULL, &ks), OSAP_OK);
    assert_int_equal(lbs_keys_acquire(ks, &a), OSAP_OK);
    pub_of(a, pa);
    assert_int_equal(lbs_keys_acquire(ks, &b), OSAP_OK);
    pub_of(b, pb);
    assert_memory_equal(pa, pb, OSAP_P384_PUBKEY_LEN);
    lbs_keys_release(ks, b);
    usleep(150 * 1000);
    assert_int_equal(lbs_keys_acquire(ks, &b), OSAP_OK); /* too old: a new one */
    pub_of(b, pb);
    assert_memory_not_equal(pa, pb, OSAP_P384_PUBKEY_LEN);
    lbs_keys_release(ks, a); /* the old one, held across its retirement */
    lbs_keys_release(ks, b);
    lbs_keys_free(ks);
}

/* A source that fails: acquire reports it. */
static osap_err broken_fill(void *ud, uint8_t *buf, size_t len)
{
    (void)ud;
    (void)buf;
    (void)len;
    return OSAP_ERANDOM;
}

static void test_broken_random_source(void **state)
{
    static const struct osap_rng broken = {broken_fill, NULL};
    struct lbs_keys *ks = NULL;
    osap_p384_key *a = NULL;
    (void)state;

    assert_int_equal(lbs_keys_new(4, 60000, 0, &broken, &ks), OSAP_OK);
    assert_int_equal(lbs_keys_acquire(ks, &a), OSAP_ERANDOM);
    lbs_keys_free(ks);
    assert_int_equal(lbs_keys_new(0, 60000, 0, NULL, &ks), OSAP_EINVAL);
}

struct worker {
    struct lbs_keys *ks;
    uint8_t peer[OSAP_P384_PUBKEY_LEN];
    int ok;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    uint8_t x[OSAP_P384_SECRET_LEN];

    for (int i = 0; i < 40; i++) {
        osap_p384_key *k = NULL;
        if (lbs_keys_acquire(w->ks, &k) != OSAP_OK) return NULL;
        if (osap_p384_derive(k, w->peer, x) != OSAP_OK) return NULL;
        lbs_keys_release(w->ks, k);
    }
    w->ok = 1;
    return NULL;
}

static void test_slack_is_a_bound(void **state)
{
    struct lbs_keys *ks = NULL;
    osap_p384_key *k[5];
    (void)state;

    /* Sequentially there is never a key pair in the making: slack is not used. */
    assert_int_equal(lbs_keys_new(2, 60000, 100, NULL, &ks), OSAP_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(lbs_keys_acquire(ks, &k[i]), OSAP_OK);
    assert_int_equal(lbs_keys_generated(ks), 3);
    for (int i = 0; i < 5; i++)
        lbs_keys_release(ks, k[i]);
    lbs_keys_free(ks);
    assert_int_equal(lbs_keys_new(2, 60000, -1, NULL, &ks), OSAP_EINVAL);
}

static void test_threads(void **state)
{
    struct lbs_keys *ks = NULL;
    osap_p384_key *peer = NULL;
    struct worker w[4];
    pthread_t t[4];
    (void)state;

    assert_int_equal(lbs_keys_new(5, 60000, 3, NULL, &ks), OSAP_OK);
    assert_int_equal(osap_p384_generate(NULL, &peer), OSAP_OK);
    for (int i = 0; i < 4; i++) {
        w[i].ks = ks;
        w[i].ok = 0;
        pub_of(peer, w[i].peer);
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_true(w[i].ok);
    }
    /* 160 handshakes at 5 uses each: 32 key pairs, or fewer when handshakes on the
     * other threads used a key pair again while its successor was made (at most
     * slack = 3 extra uses per key pair); never one pair per thread */
    assert_true(lbs_keys_generated(ks) <= 32);
    assert_true(lbs_keys_generated(ks) >= 160 / (5 + 3));
    osap_p384_free(peer);
    lbs_keys_free(ks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uses),
        cmocka_unit_test(test_one_use_is_a_fresh_key_each_time),
        cmocka_unit_test(test_lifetime),
        cmocka_unit_test(test_broken_random_source),
        cmocka_unit_test(test_slack_is_a_bound),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
