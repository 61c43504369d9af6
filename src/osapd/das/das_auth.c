/* Authentication of ordinary MQTT clients against the store's MQTT users.
 *
 * The user row and its ACL are read on the worker thread (its own store handle);
 * the password hash (PBKDF2, slow on purpose) is checked on the DAS's auth threads
 * (das_auth_pool.c), so one CONNECT never stalls the other connections of the
 * worker, nor the libuv thread pool. When [das] auth_queue checks wait already, the
 * CONNECT is refused with CONNACK 3. The password is copied only for that check and
 * wiped afterwards; it is never logged and no verified credential is cached beyond
 * the connection it authenticated. */
#include "das/das_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "store.h"
#include "util_secret.h"

#include <openssl/crypto.h>
#include <string.h>

struct auth_work {
    struct das_auth_job job;
    struct das_conn *c;
    char hash[OSAP_MQTT_HASH_MAX + 1];
    char *password;
    size_t password_len;
    osap_err result;
};

static void verify(struct das_auth_job *j)
{
    struct auth_work *a = das_container_of(j, struct auth_work, job);
    a->result = osap_password_verify(a->hash, a->password);
}

/* Back on the connection's worker. */
static void verified(struct das_worker *w, struct das_mail *m)
{
    struct auth_work *a = das_container_of(m, struct auth_work, job.mail);
    struct das_conn *c = a->c;
    uint8_t code;

    (void)w;
    OPENSSL_cleanse(a->password, a->password_len);
    osap_free(a->password);
    OPENSSL_cleanse(a->hash, sizeof(a->hash));
    if (a->job.cancelled)
        code = OSAP_CONNACK_UNAVAILABLE;
    else if (a->result == OSAP_OK)
        code = OSAP_CONNACK_ACCEPTED;
    else if (a->result == OSAP_EPERM)
        code = OSAP_CONNACK_BAD_CREDENTIALS;
    else
        code = OSAP_CONNACK_UNAVAILABLE;
    if (a->result == OSAP_EINVAL)
        OSAP_LOGW(DAS_LOG, "user %s: stored password hash not understood", c->username);
    osap_free(a);
    if (c->state == DAS_CONN_AUTH) {
        c->state = DAS_CONN_NEW;
        if (code != OSAP_CONNACK_ACCEPTED)
            OSAP_LOGI(DAS_LOG, "client %s (user %s) refused: bad user name or password",
                      c->client_id, c->username);
        if (das_connect_finish(c, code) != OSAP_OK)
            das_conn_close_now(c, "CONNECT refused", true);
        else
            das_conn_resume(c);
    }
    das_conn_release(c);
}

static osap_err refuse(struct das_conn *c, uint8_t code, const char *why)
{
    OSAP_LOGI(DAS_LOG, "client %s (user %s) refused: %s", c->client_id, c->username, why);
    das_send_connack(c, false, code);
    return OSAP_EPERM;
}

osap_err das_auth_start(struct das_conn *c, const struct osap_mqtt_connect *cp)
{
    struct das_worker *w = c->w;
    struct osap_mqtt_user user;
    struct auth_work *a;
    osap_err err;

    if (!cp->has_password) return refuse(c, OSAP_CONNACK_BAD_CREDENTIALS, "no password");
    if (cp->password.len == 0 || cp->password.len > OSAP_PASSWORD_MAX ||
        memchr(cp->password.ptr, 0, cp->password.len))
        return refuse(c, OSAP_CONNACK_BAD_CREDENTIALS, "bad user name or password");
    err = osap_store_user_get(w->store, c->username, &user);
    if (err == OSAP_ENOTFOUND || err == OSAP_EINVAL)
        return refuse(c, OSAP_CONNACK_BAD_CREDENTIALS, "bad user name or password");
    if (err) return refuse(c, OSAP_CONNACK_UNAVAILABLE, osap_strerror(err));
    err = das_acl_load(w->store, c->username, c->client_id, &c->acl);
    if (err) return refuse(c, OSAP_CONNACK_UNAVAILABLE, osap_strerror(err));

    a = osap_calloc(1, sizeof(*a));
    if (!a) return refuse(c, OSAP_CONNACK_UNAVAILABLE, "out of memory");
    a->password = osap_malloc(cp->password.len + 1);
    if (!a->password) {
        osap_free(a);
        return refuse(c, OSAP_CONNACK_UNAVAILABLE, "out of memory");
    }
    memcpy(a->password, cp->password.ptr, cp->password.len);
    a->password[cp->password.len] = '\0';
    a->password_len = cp->password.len;
    memcpy(a->hash, user.password_hash, sizeof(a->hash));
    OPENSSL_cleanse(&user, sizeof(user));
    a->c = c;
    a->job.w = w;
    a->job.work = verify;
    a->job.mail.run = verified;
    err = das_auth_pool_submit(w->das->auth, &a->job);
    if (err) {
        OPENSSL_cleanse(a->password, a->password_len);
        osap_free(a->password);
        OPENSSL_cleanse(a->hash, sizeof(a->hash));
        osap_free(a);
        return refuse(c, OSAP_CONNACK_UNAVAILABLE,
                      err == OSAP_EBUSY ? "too many password checks waiting (auth_queue)"
                                        : "the server is stopping");
    }
    c->refs++;
    c->state = DAS_CONN_AUTH;
    return OSAP_OK;
}
