/* Store: MQTT users and ACLs, validation and dispatch (see store_users.h). */
#include "store_backend.h"

#include "util.h"

#include <string.h>

static const char *const access_names[] = {NULL, "read", "write", "readwrite"};

const char *osap_mqtt_access_name(enum osap_mqtt_access access)
{
    if (access >= OSAP_ACCESS_READ && access <= OSAP_ACCESS_READWRITE) return access_names[access];
    return "none";
}

osap_err osap_mqtt_access_parse(const char *name, enum osap_mqtt_access *out)
{
    for (int a = OSAP_ACCESS_READ; a <= OSAP_ACCESS_READWRITE; a++) {
        if (strcmp(name, access_names[a]) == 0) {
            *out = (enum osap_mqtt_access)a;
            return OSAP_OK;
        }
    }
    return OSAP_EINVAL;
}

static bool username_valid(const char *u)
{
    return osap_str_set(u) && osap_label_valid(u, OSAP_MQTT_USERNAME_MAX);
}

static bool hash_valid(const char *h)
{
    return osap_str_set(h) && strlen(h) <= OSAP_MQTT_HASH_MAX;
}

osap_err osap_store_user_add(struct osap_store *st, const char *username, const char *password_hash)
{
    if (!username_valid(username) || !hash_valid(password_hash)) return OSAP_EINVAL;
    return st->be->users->add(st, username, password_hash, osap_time_now_ms());
}

osap_err osap_store_user_set_password(struct osap_store *st, const char *username,
                                      const char *password_hash)
{
    if (!username || !hash_valid(password_hash)) return OSAP_EINVAL;
    return st->be->users->set_password(st, username, password_hash, osap_time_now_ms());
}

osap_err osap_store_user_get(struct osap_store *st, const char *username,
                             struct osap_mqtt_user *out)
{
    if (!username) return OSAP_EINVAL;
    return st->be->users->get(st, username, out);
}

osap_err osap_store_user_remove(struct osap_store *st, const char *username)
{
    if (!username) return OSAP_EINVAL;
    return st->be->users->remove(st, username);
}

osap_err osap_store_user_list(struct osap_store *st,
                              osap_err (*fn)(const struct osap_mqtt_user *u, void *userdata),
                              void *userdata)
{
    return st->be->users->list(st, fn, userdata);
}

osap_err osap_store_acl_set(struct osap_store *st, const char *username, const char *pattern,
                            enum osap_mqtt_access access)
{
    if (!username || !osap_str_set(pattern) || strlen(pattern) > OSAP_MQTT_PATTERN_MAX)
        return OSAP_EINVAL;
    if (access < OSAP_ACCESS_READ || access > OSAP_ACCESS_READWRITE) return OSAP_EINVAL;
    return st->be->users->acl_set(st, username, pattern, access);
}

osap_err osap_store_acl_remove(struct osap_store *st, const char *username, const char *pattern)
{
    if (!username || !pattern) return OSAP_EINVAL;
    return st->be->users->acl_remove(st, username, pattern);
}

osap_err osap_store_acl_list(struct osap_store *st, const char *username,
                             osap_err (*fn)(const struct osap_mqtt_acl *acl, void *userdata),
                             void *userdata)
{
    return st->be->users->acl_list(st, username, fn, userdata);
}
