/* Value syntax of configuration settings: integers, booleans, sizes, durations,
 * lists and addresses (see config.h). */
#include "config.h"

#include "osap/alloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

osap_err osap_cfg_parse_int(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!s || !*s || isspace((unsigned char)*s)) return OSAP_EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s) return OSAP_EINVAL;
    *out = (int64_t)v;
    return OSAP_OK;
}

osap_err osap_cfg_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    if (!s) return OSAP_EINVAL;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return OSAP_OK;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return OSAP_OK;
        }
    }
    return OSAP_EINVAL;
}

/* Split "<digits><blanks><unit>" into its number and its unit. */
static osap_err split_number(const char *s, uint64_t *num, const char **unit)
{
    uint64_t v = 0;
    const char *p = s;

    if (!s || !isdigit((unsigned char)*p)) return OSAP_EINVAL;
    for (; isdigit((unsigned char)*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return OSAP_EINVAL;
        v = v * 10 + d;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    *num = v;
    *unit = p;
    return OSAP_OK;
}

struct unit {
    const char *name;
    uint64_t factor;
};

static osap_err scale(uint64_t num, const char *unit, const struct unit *units, size_t n,
                      uint64_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(unit, units[i].name) != 0) continue;
        if (num > (uint64_t)INT64_MAX / units[i].factor) return OSAP_EINVAL;
        *out = num * units[i].factor;
        return OSAP_OK;
    }
    return OSAP_EINVAL;
}

osap_err osap_cfg_parse_size(const char *s, uint64_t *out)
{
    static const struct unit units[] = {
        {"", 1},
        {"B", 1},
        {"K", 1ULL << 10},
        {"KiB", 1ULL << 10},
        {"M", 1ULL << 20},
        {"MiB", 1ULL << 20},
        {"G", 1ULL << 30},
        {"GiB", 1ULL << 30},
        {"T", 1ULL << 40},
        {"TiB", 1ULL << 40},
        {"KB", 1000ULL},
        {"kB", 1000ULL},
        {"MB", 1000000ULL},
        {"GB", 1000000000ULL},
        {"TB", 1000000000000ULL},
    };
    uint64_t num;
    const char *unit;

    if (split_number(s, &num, &unit) != OSAP_OK) return OSAP_EINVAL;
    return scale(num, unit, units, sizeof(units) / sizeof(units[0]), out);
}

osap_err osap_cfg_parse_duration(const char *s, int64_t *out_ms)
{
    static const struct unit units[] = {
        {"ms", 1},      {"s", 1000},    {"sec", 1000},   {"m", 60000},
        {"min", 60000}, {"h", 3600000}, {"d", 86400000},
    };
    uint64_t num, v;
    const char *unit;

    if (split_number(s, &num, &unit) != OSAP_OK) return OSAP_EINVAL;
    if (*unit == '\0') {
        if (num != 0) return OSAP_EINVAL; /* a unit is required */
        *out_ms = 0;
        return OSAP_OK;
    }
    if (scale(num, unit, units, sizeof(units) / sizeof(units[0]), &v) != OSAP_OK)
        return OSAP_EINVAL;
    *out_ms = (int64_t)v;
    return OSAP_OK;
}

void osap_strlist_release(struct osap_strlist *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++)
        osap_free(l->v[i]);
    osap_free(l->v);
    l->v = NULL;
    l->n = 0;
}

bool osap_strlist_contains(const struct osap_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0) return true;
    return false;
}

osap_err osap_cfg_parse_list(const char *s, struct osap_strlist *out)
{
    struct osap_strlist l = {0, NULL};
    osap_err err = OSAP_OK;
    const char *p = s;
    size_t cap = 0;

    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0') goto done;
    for (;;) {
        const char *start, *end, *comma = strchr(p, ',');
        end = comma ? comma : p + strlen(p);
        start = p;
        while (start < end && (*start == ' ' || *start == '\t'))
            start++;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end == start) {
            err = OSAP_EINVAL;
            goto fail;
        }
        if (l.n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            char **v = osap_realloc(l.v, ncap * sizeof(*v));
            if (!v) {
                err = OSAP_ENOMEM;
                goto fail;
            }
            l.v = v;
            cap = ncap;
        }
        l.v[l.n] = osap_strndup(start, (size_t)(end - start));
        if (!l.v[l.n]) {
            err = OSAP_ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < l.n; i++) {
            if (strcmp(l.v[i], l.v[l.n]) == 0) {
                l.n++;
                err = OSAP_EINVAL;
                goto fail;
            }
        }
        l.n++;
        if (!comma) break;
        p = comma + 1;
    }
done:
    *out = l;
    return OSAP_OK;
fail:
    osap_strlist_release(&l);
    return err;
}

static bool hostname_valid(const char *s)
{
    size_t n = strlen(s), label = 0;

    if (n == 0 || n > 63) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-') return false;
            label = 0;
            continue;
        }
        if (!isalnum(c) && c != '-') return false;
        if (c == '-' && label == 0) return false;
        label++;
    }
    return label > 0 && s[n - 1] != '-';
}

bool osap_cfg_address_valid(const char *s)
{
    unsigned char buf[16];

    if (!s || !*s) return false;
    if (inet_pton(AF_INET, s, buf) == 1) return true;
    if (inet_pton(AF_INET6, s, buf) == 1) return true;
    /* Not an IPv4 literal: a name made of digits and dots only is a typo. */
    if (strspn(s, "0123456789.") == strlen(s)) return false;
    return hostname_valid(s);
}
