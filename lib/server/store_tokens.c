/* Store: API tokens, validation, hashing and dispatch (see store_tokens.h). */
#include "store_backend.h"

#include "util.h"
#include "util_secret.h"

#include <openssl/crypto.h>
#include <string.h>

static bool name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > OSAP_TOKEN_NAME_MAX) return false;
    for (; *name; name++)
        if ((unsigned char)*name < 0x20 || (unsigned char)*name == 0x7f) return false;
    return true;
}

osap_err osap_store_token_create(struct osap_store *st, const char *name, const char *token,
                                 int64_t *id)
{
    char hash[OSAP_TOKEN_HASH_LEN + 1];
    osap_err err;

    if (!name_valid(name) || !osap_str_set(token)) return OSAP_EINVAL;
    err = osap_token_hash(token, hash);
    if (err) return err;
    return st->be->tokens->create(st, name, hash, osap_time_now_ms(), id);
}

osap_err osap_store_token_verify(struct osap_store *st, const char *token, int64_t now,
                                 struct osap_api_token *out)
{
    char hash[OSAP_TOKEN_HASH_LEN + 1];
    struct osap_api_token t;
    osap_err err;

    if (!osap_str_set(token)) return OSAP_ENOTFOUND;
    err = osap_token_hash(token, hash);
    if (err) return err;
    err = st->be->tokens->verify(st, hash, now, &t);
    OPENSSL_cleanse(hash, sizeof(hash));
    if (err == OSAP_OK && out) *out = t;
    return err;
}

osap_err osap_store_token_list(struct osap_store *st,
                               osap_err (*fn)(const struct osap_api_token *t, void *userdata),
                               void *userdata)
{
    return st->be->tokens->list(st, fn, userdata);
}

osap_err osap_store_token_revoke(struct osap_store *st, const char *name)
{
    if (!name) return OSAP_EINVAL;
    return st->be->tokens->revoke(st, name);
}
