/*
 * Store: users of the MQTT server (tables mqtt_users, mqtt_acls) — applications
 * and tools that connect to the DAS with a user name and password. Devices do not
 * use these. The password is stored as a hash (util_secret.h); ACL rows grant a
 * user read, write or both on a topic filter. See store.h for the threading rule
 * and the error conventions.
 */
#ifndef OSAP_SERVER_STORE_USERS_H
#define OSAP_SERVER_STORE_USERS_H

#include "osap/err.h"

#include <stdint.h>

struct osap_store;

#define OSAP_MQTT_USERNAME_MAX 127
#define OSAP_MQTT_HASH_MAX     127
#define OSAP_MQTT_PATTERN_MAX  1024

/** What an ACL row allows. */
enum osap_mqtt_access {
    OSAP_ACCESS_READ = 1,      /* subscribe / receive */
    OSAP_ACCESS_WRITE = 2,     /* publish */
    OSAP_ACCESS_READWRITE = 3, /* both */
};

/** One user. */
struct osap_mqtt_user {
    char username[OSAP_MQTT_USERNAME_MAX + 1];
    char password_hash[OSAP_MQTT_HASH_MAX + 1];
    int64_t created_at;
    int64_t updated_at;
};

/** One ACL row (strings valid during the callback only). */
struct osap_mqtt_acl {
    const char *username;
    const char *pattern; /* MQTT topic filter */
    enum osap_mqtt_access access;
};

/** The name of @p access ("read", "write", "readwrite"), and its parser. */
const char *osap_mqtt_access_name(enum osap_mqtt_access access);
osap_err osap_mqtt_access_parse(const char *name, enum osap_mqtt_access *out);

/** Add a user with an already hashed password. OSAP_EEXISTS when taken. User names
 *  are 1..OSAP_MQTT_USERNAME_MAX bytes without control characters. */
osap_err osap_store_user_add(struct osap_store *st, const char *username,
                             const char *password_hash);

/** Replace a user's password hash. */
osap_err osap_store_user_set_password(struct osap_store *st, const char *username,
                                      const char *password_hash);

/** Read a user. */
osap_err osap_store_user_get(struct osap_store *st, const char *username,
                             struct osap_mqtt_user *out);

/** Remove a user and its ACL rows. */
osap_err osap_store_user_remove(struct osap_store *st, const char *username);

/** Call @p fn for every user, by name. @p fn must not use @p st. */
osap_err osap_store_user_list(struct osap_store *st,
                              osap_err (*fn)(const struct osap_mqtt_user *u, void *userdata),
                              void *userdata);

/** Grant @p access on @p pattern to @p username (replaces an existing row for the
 *  same pattern). OSAP_ENOTFOUND when the user does not exist. */
osap_err osap_store_acl_set(struct osap_store *st, const char *username, const char *pattern,
                            enum osap_mqtt_access access);

/** Remove the row of @p pattern for @p username. */
osap_err osap_store_acl_remove(struct osap_store *st, const char *username, const char *pattern);

/** Call @p fn for every ACL row of @p username (NULL = every user), by user and
 *  pattern. @p fn must not use @p st. */
osap_err osap_store_acl_list(struct osap_store *st, const char *username,
                             osap_err (*fn)(const struct osap_mqtt_acl *acl, void *userdata),
                             void *userdata);

/** Backend operations behind the functions above. */
struct osap_store_user_ops {
    osap_err (*add)(struct osap_store *st, const char *username, const char *hash, int64_t now);
    osap_err (*set_password)(struct osap_store *st, const char *username, const char *hash,
                             int64_t now);
    osap_err (*get)(struct osap_store *st, const char *username, struct osap_mqtt_user *out);
    osap_err (*remove)(struct osap_store *st, const char *username);
    osap_err (*list)(struct osap_store *st,
                     osap_err (*fn)(const struct osap_mqtt_user *u, void *userdata),
                     void *userdata);
    osap_err (*acl_set)(struct osap_store *st, const char *username, const char *pattern,
                        enum osap_mqtt_access access);
    osap_err (*acl_remove)(struct osap_store *st, const char *username, const char *pattern);
    osap_err (*acl_list)(struct osap_store *st, const char *username,
                         osap_err (*fn)(const struct osap_mqtt_acl *acl, void *userdata),
                         void *userdata);
};

#endif /* OSAP_SERVER_STORE_USERS_H */
