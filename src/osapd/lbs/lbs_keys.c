/*
 * The server's ECDH key pairs. Generating a P-384 key pair costs about as much
 * as the key agreement of a handshake, so one key pair may serve up to `uses`
 * handshakes and is retired after `lifetime` in any case (uses = 1: a fresh key
 * pair per handshake). The trade-off is documented in etc/osapd.conf and
 * docs/ARCHITECTURE.md.
 *
 * Thread-safe: pool threads acquire and release concurrently. A key pair is
 * generated outside the lock, by one thread at a time; the one in service
 * ("current") is replaced when it is used up or too old, and a replaced key pair is
 * freed when its last handshake releases it. While the next one is being made,
 * other threads keep using the current one, up to `slack` more uses (the service
 * passes worker_threads - 1), instead of each making a key pair of its own; past
 * that they wait for it. OpenSSL allows one key pair to be used by several threads
 * at once.
 */
#include "lbs/lbs_internal.h"

#include "osap/alloc.h"

struct key_slot {
    osap_p384_key *key;
    int64_t uses_left;
    uint64_t expires; /* ms, uv_hrtime() based */
    unsigned refs;
    struct key_slot *next; /* retired slots still in use */
};

struct lbs_keys {
    pthread_mutex_t mu;
    int64_t uses;
    int64_t lifetime_ms;
    const struct osap_rng *rng;
    struct key_slot *current;
    struct key_slot *retired;
    bool generating;   /* a thread is making the next key pair */
    pthread_cond_t cv; /* signalled when it is done */
    int64_t slack;     /* extra uses of the old one meanwhile */
    atomic_uint_fast64_t generated;
};

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000u;
}

osap_err lbs_keys_new(int64_t uses, int64_t lifetime_ms, int64_t slack, const struct osap_rng *rng,
                      struct lbs_keys **out)
{
    struct lbs_keys *k;

    if (uses < 1 || lifetime_ms < 1 || slack < 0 || !out) return OSAP_EINVAL;
    k = osap_calloc(1, sizeof(*k));
    if (!k) return OSAP_ENOMEM;
    if (pthread_mutex_init(&k->mu, NULL) != 0) {
        osap_free(k);
        return OSAP_ENOMEM;
    }
    if (pthread_cond_init(&k->cv, NULL) != 0) {
        pthread_mutex_destroy(&k->mu);
        osap_free(k);
        return OSAP_ENOMEM;
    }
    k->slack = slack;
    k->uses = uses;
    k->lifetime_ms = lifetime_ms;
    k->rng = rng;
    *out = k;
    return OSAP_OK;
}

static void slot_free(struct key_slot *s)
{
    osap_p384_free(s->key);
    osap_free(s);
}

void lbs_keys_free(struct lbs_keys *k)
{
    struct key_slot *s, *next;

    if (!k) return;
    if (k->current) slot_free(k->current);
    for (s = k->retired; s; s = next) {
        next = s->next;
        slot_free(s);
    }
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->mu);
    osap_free(k);
}

/* Take the current slot out of service (lock held). */
static void retire_current(struct lbs_keys *k)
{
    struct key_slot *s = k->current;

    if (!s) return;
    k->current = NULL;
    if (s->refs == 0) {
        slot_free(s);
        return;
    }
    s->next = k->retired;
    k->retired = s;
}

osap_err lbs_keys_acquire(void *keys, osap_p384_key **key)
{
    struct lbs_keys *k = keys;
    struct key_slot *s, *fresh = NULL;
    osap_p384_key *pk = NULL;
    osap_err err;

    pthread_mutex_lock(&k->mu);
    for (;;) {
        uint64_t now = now_ms();
        s = k->current;
        /* In service; or used up while another thread makes the next one: then this
         * handshake takes the old one, up to `slack` uses more, rather than making a
         * second new one; past that it waits for the new one. */
        if (s && ((s->uses_left > 0 && now < s->expires) ||
                  (k->generating && s->uses_left > -k->slack))) {
            s->uses_left--;
            s->refs++;
            *key = s->key;
            pthread_mutex_unlock(&k->mu);
            return OSAP_OK;
        }
        if (!k->generating) break;
        pthread_cond_wait(&k->cv, &k->mu);
    }
    k->generating = true;
    pthread_mutex_unlock(&k->mu);

    /* Used up or too old: make a new one without holding the lock. */
    err = osap_p384_generate(k->rng, &pk);
    fresh = err ? NULL : osap_calloc(1, sizeof(*fresh));
    if (!fresh) {
        osap_p384_free(pk);
        pthread_mutex_lock(&k->mu);
        k->generating = false;
        pthread_cond_broadcast(&k->cv);
        pthread_mutex_unlock(&k->mu);
        return err ? err : OSAP_ENOMEM;
    }
    fresh->key = pk;
    fresh->uses_left = k->uses - 1;
    fresh->expires = now_ms() + (uint64_t)k->lifetime_ms;
    fresh->refs = 1;
    atomic_fetch_add(&k->generated, 1);

    pthread_mutex_lock(&k->mu);
    retire_current(k);
    k->current = fresh;
    k->generating = false;
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
    *key = pk;
    return OSAP_OK;
}

void lbs_keys_release(void *keys, osap_p384_key *key)
{
    struct lbs_keys *k = keys;
    struct key_slot **pp, *s;

    pthread_mutex_lock(&k->mu);
    if (k->current && k->current->key == key) {
        if (k->current->refs) k->current->refs--;
        /* A used-up key pair leaves as soon as nobody holds it. */
        if (k->current->refs == 0 && k->current->uses_left <= 0) retire_current(k);
        pthread_mutex_unlock(&k->mu);
        return;
    }
    for (pp = &k->retired; (s = *pp) != NULL; pp = &s->next) {
        if (s->key != key) continue;
        if (s->refs) s->refs--;
        if (s->refs == 0) {
            *pp = s->next;
            slot_free(s);
        }
        break;
    }
    pthread_mutex_unlock(&k->mu);
}

uint64_t lbs_keys_generated(const struct lbs_keys *k)
{
    return atomic_load(&((struct lbs_keys *)k)->generated);
}
