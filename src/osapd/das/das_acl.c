/* Topic access control for MQTT users (store rows written by `osapd user acl`).
 *
 * A user may publish to a topic when a rule with write access matches it, and may
 * subscribe to a filter when a rule with read access covers the filter, i.e. matches
 * every topic the filter matches. "%u" and "%c" in a pattern stand for the user name
 * and the client identifier. A user without rules has no access. Anonymous clients
 * (allow_anonymous) may subscribe to anything and publish to anything but topics
 * starting with '$' (the $osap/ namespace carries device data), except what the
 * deny rules of [das] anonymous_deny close: a filter a deny rule covers cannot be
 * subscribed to, a topic a deny rule matches cannot be published to. */
#include "das/das_internal.h"

#include "log.h"
#include "osap/alloc.h"
#include "store.h"

#include <string.h>

struct acl_build {
    struct das_acl_rule *rules;
    uint32_t n, cap;
    const char *username;
    const char *client_id;
    bool failed;
};

/* @p pattern with %u and %c replaced, in a new string (NULL on failure or when a
 * substituted name would change the filter's structure). */
static char *substitute(const char *pattern, const char *u, const char *cid)
{
    size_t len = 0, ul = strlen(u), cl = strlen(cid);
    char *out, *o;

    for (const char *p = pattern; *p; p++) {
        if (p[0] == '%' && (p[1] == 'u' || p[1] == 'c')) {
            const char *name = p[1] == 'u' ? u : cid;
            if (strpbrk(name, "/+#")) return NULL;
            len += p[1] == 'u' ? ul : cl;
            p++;
        } else {
            len++;
        }
    }
    out = osap_malloc(len + 1);
    if (!out) return NULL;
    o = out;
    for (const char *p = pattern; *p; p++) {
        if (p[0] == '%' && (p[1] == 'u' || p[1] == 'c')) {
            const char *name = p[1] == 'u' ? u : cid;
            size_t n = p[1] == 'u' ? ul : cl;
            memcpy(o, name, n);
            o += n;
            p++;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

static osap_err add_row(const struct osap_mqtt_acl *row, void *userdata)
{
    struct acl_build *b = userdata;
    char *pattern;

    if (b->failed) return OSAP_OK;
    pattern = substitute(row->pattern, b->username, b->client_id);
    if (!pattern) return OSAP_OK;
    if (strlen(pattern) > OSAP_MQTT_STRING_MAX ||
        osap_mqtt_filter_validate(pattern, strlen(pattern)) != OSAP_OK) {
        OSAP_LOGW(DAS_LOG, "user %s: ACL pattern %s is not a topic filter: ignored", b->username,
                  row->pattern);
        osap_free(pattern);
        return OSAP_OK;
    }
    if (b->n == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 8;
        struct das_acl_rule *v = osap_realloc(b->rules, cap * sizeof(*v));
        if (!v) {
            osap_free(pattern);
            b->failed = true;
            return OSAP_OK;
        }
        b->rules = v;
        b->cap = cap;
    }
    b->rules[b->n].pattern = pattern;
    b->rules[b->n].len = (uint16_t)strlen(pattern);
    b->rules[b->n].access = (uint8_t)row->access;
    b->n++;
    return OSAP_OK;
}

/* A new ACL of @p n rules (patterns unset), or NULL. */
static struct das_acl *acl_alloc(uint32_t n, bool anonymous)
{
    struct das_acl *acl = osap_calloc(1, sizeof(*acl) + n * sizeof(acl->rules[0]));
    if (acl) acl->anonymous = anonymous;
    return acl;
}

osap_err das_acl_load(struct osap_store *st, const char *username, const char *client_id,
                      struct das_acl **out)
{
    struct acl_build b = {NULL, 0, 0, username, client_id, false};
    struct das_acl *acl = NULL;
    osap_err err = osap_store_acl_list(st, username, add_row, &b);

    if (err == OSAP_OK && b.failed) err = OSAP_ENOMEM;
    if (err == OSAP_OK) {
        acl = acl_alloc(b.n, false);
        if (!acl) err = OSAP_ENOMEM;
    }
    if (err) {
        for (uint32_t i = 0; i < b.n; i++)
            osap_free(b.rules[i].pattern);
        osap_free(b.rules);
        return err;
    }
    acl->n = b.n;
    if (b.n) memcpy(acl->rules, b.rules, b.n * sizeof(acl->rules[0]));
    osap_free(b.rules);
    *out = acl;
    return OSAP_OK;
}

osap_err das_acl_anonymous_new(const struct osap_strlist *deny, struct das_acl **out)
{
    struct das_acl *acl;

    for (size_t i = 0; i < deny->n; i++) {
        size_t len = strlen(deny->v[i]);
        if (len > OSAP_MQTT_STRING_MAX || osap_mqtt_filter_validate(deny->v[i], len) != OSAP_OK) {
            OSAP_LOGE(DAS_LOG, "[das] anonymous_deny: %s is not a topic filter", deny->v[i]);
            return OSAP_ECONFIG;
        }
    }
    if (deny->n == 0) {
        *out = NULL;
        return OSAP_OK;
    }
    acl = acl_alloc((uint32_t)deny->n, true);
    if (!acl) return OSAP_ENOMEM;
    for (size_t i = 0; i < deny->n; i++) {
        size_t len = strlen(deny->v[i]);
        acl->rules[i].pattern = osap_malloc(len + 1);
        if (!acl->rules[i].pattern) {
            das_acl_free(acl);
            return OSAP_ENOMEM;
        }
        memcpy(acl->rules[i].pattern, deny->v[i], len + 1);
        acl->rules[i].len = (uint16_t)len;
        acl->rules[i].access = DAS_ACL_DENY;
        acl->n++;
    }
    *out = acl;
    return OSAP_OK;
}

void das_acl_free(struct das_acl *acl)
{
    if (!acl) return;
    for (uint32_t i = 0; i < acl->n; i++)
        osap_free(acl->rules[i].pattern);
    osap_free(acl);
}

bool das_acl_can_write(const struct das_acl *acl, const char *topic, size_t len)
{
    if (!acl) return len > 0 && topic[0] != '$';
    for (uint32_t i = 0; i < acl->n; i++)
        if ((acl->rules[i].access & DAS_ACL_DENY) &&
            osap_mqtt_filter_matches(acl->rules[i].pattern, acl->rules[i].len, topic, len))
            return false;
    if (acl->anonymous) return len > 0 && topic[0] != '$';
    for (uint32_t i = 0; i < acl->n; i++)
        if ((acl->rules[i].access & OSAP_ACCESS_WRITE) &&
            osap_mqtt_filter_matches(acl->rules[i].pattern, acl->rules[i].len, topic, len))
            return true;
    return false;
}

static bool is(const struct osap_mqtt_str *l, char ch)
{
    return l->len == 1 && l->ptr[0] == ch;
}

bool das_filter_covers(const char *p, size_t plen, const char *f, size_t flen)
{
    struct osap_mqtt_level_iter pi, fi;
    struct osap_mqtt_str pl, fl;
    bool first = true;

    osap_mqtt_level_iter_init(&pi, p, plen);
    osap_mqtt_level_iter_init(&fi, f, flen);
    for (;; first = false) {
        bool have_p = osap_mqtt_level_iter_next(&pi, &pl);
        bool have_f = osap_mqtt_level_iter_next(&fi, &fl);
        if (!have_p) return !have_f;
        if (first && (is(&pl, '+') || is(&pl, '#')) && flen > 0 && f[0] == '$') return false;
        if (is(&pl, '#')) return true;
        if (!have_f) return false;
        if (is(&pl, '+')) {
            if (is(&fl, '#')) return false;
            continue;
        }
        if (pl.len != fl.len || memcmp(pl.ptr, fl.ptr, pl.len) != 0) return false;
    }
}

bool das_acl_can_read(const struct das_acl *acl, const char *filter, size_t len)
{
    if (!acl) return true;
    for (uint32_t i = 0; i < acl->n; i++)
        if ((acl->rules[i].access & DAS_ACL_DENY) &&
            das_filter_covers(acl->rules[i].pattern, acl->rules[i].len, filter, len))
            return false;
    if (acl->anonymous) return true;
    for (uint32_t i = 0; i < acl->n; i++)
        if ((acl->rules[i].access & OSAP_ACCESS_READ) &&
            das_filter_covers(acl->rules[i].pattern, acl->rules[i].len, filter, len))
            return true;
    return false;
}
