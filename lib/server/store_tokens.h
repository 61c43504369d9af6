/*
 * Store: API tokens (table api_tokens). Only the SHA-256 of a token is kept
 * (util_secret.h), so a token is shown once, when it is created. See store.h for
 * the threading rule and the error conventions.
 */
#ifndef OSAP_SERVER_STORE_TOKENS_H
#define OSAP_SERVER_STORE_TOKENS_H

#include "osap/err.h"

#include <stdint.h>

struct osap_store;

#define OSAP_TOKEN_NAME_MAX 64

/** last_used is refreshed at most this often (ms), to keep verification cheap. */
#define OSAP_TOKEN_TOUCH_INTERVAL 60000

/** One token (its secret part is not stored). */
struct osap_api_token {
    int64_t id;
    char name[OSAP_TOKEN_NAME_MAX + 1];
    int64_t created_at;
    int64_t last_used; /* 0 = never */
};

/** Store the hash of @p token under @p name (1..OSAP_TOKEN_NAME_MAX printable
 *  characters, unique: OSAP_EEXISTS). @p id (may be NULL) receives its id. */
osap_err osap_store_token_create(struct osap_store *st, const char *name, const char *token,
                                 int64_t *id);

/** Look up the token whose text is @p token; on success refresh its last_used to
 *  @p now (at most once per OSAP_TOKEN_TOUCH_INTERVAL) and fill @p out (may be NULL).
 *  OSAP_ENOTFOUND for an unknown or revoked token. */
osap_err osap_store_token_verify(struct osap_store *st, const char *token, int64_t now,
                                 struct osap_api_token *out);

/** Call @p fn for every token, by id. @p fn must not use @p st. */
osap_err osap_store_token_list(struct osap_store *st,
                               osap_err (*fn)(const struct osap_api_token *t, void *userdata),
                               void *userdata);

/** Revoke (delete) the token named @p name. */
osap_err osap_store_token_revoke(struct osap_store *st, const char *name);

/** Backend operations behind the functions above (the token arrives hashed). */
struct osap_store_token_ops {
    osap_err (*create)(struct osap_store *st, const char *name, const char *hash, int64_t now,
                       int64_t *id);
    osap_err (*verify)(struct osap_store *st, const char *hash, int64_t now,
                       struct osap_api_token *out);
    osap_err (*list)(struct osap_store *st,
                     osap_err (*fn)(const struct osap_api_token *t, void *userdata),
                     void *userdata);
    osap_err (*revoke)(struct osap_store *st, const char *name);
};

#endif /* OSAP_SERVER_STORE_TOKENS_H */
