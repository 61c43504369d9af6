/* Option parsing of one command: long options ("--name VALUE", "--name=VALUE",
 * flags) anywhere among the words, a few one-letter aliases, "--" to end the
 * options. A word that does not start with "--" is positional, so negative
 * numbers and JSON values need no quoting tricks. */
#include "ctl.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct ctl_opt *find_long(const struct ctl_opt *opts, const char *name, size_t len)
{
    for (; opts && opts->name; opts++)
        if (strlen(opts->name) == len && memcmp(opts->name, name, len) == 0) return opts;
    return NULL;
}

static const struct ctl_opt *find_short(const struct ctl_opt *opts, char c)
{
    for (; opts && opts->name; opts++)
        if (opts->alias == c) return opts;
    return NULL;
}

int ctl_args_parse(struct ctl *ctl, int argc, char **argv, const struct ctl_opt *opts, int min_pos,
                   int max_pos, struct ctl_args *out)
{
    bool opts_done = false;

    memset(out, 0, sizeof(*out));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const struct ctl_opt *o = NULL;
        const char *value = NULL, *eq;
        char name[64];
        size_t len;

        if (!opts_done && strcmp(a, "--") == 0) {
            opts_done = true;
            continue;
        }
        if (!opts_done && a[0] == '-' && a[1] == '-' && a[2]) {
            eq = strchr(a + 2, '=');
            len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            if (eq) value = eq + 1;
            if (len >= sizeof(name)) len = sizeof(name) - 1;
            memcpy(name, a + 2, len);
            name[len] = '\0';
            o = find_long(opts, name, len);
            if (!o) {
                int kind = ctl_global_kind(name);
                if (kind < 0) {
                    ctl_error("unknown option --%s", name);
                    return CTL_EUSAGE;
                }
                if (kind == 1 && !value) {
                    if (i + 1 >= argc) {
                        ctl_error("--%s needs a value", name);
                        return CTL_EUSAGE;
                    }
                    value = argv[++i];
                } else if (kind == 0 && value) {
                    ctl_error("--%s takes no value", name);
                    return CTL_EUSAGE;
                }
                if (ctl_global_set(ctl, name, value)) return CTL_EUSAGE;
                continue;
            }
        } else if (!opts_done && a[0] == '-' && isalpha((unsigned char)a[1]) && !a[2]) {
            o = find_short(opts, a[1]);
            if (!o) {
                ctl_error("unknown option %s", a);
                return CTL_EUSAGE;
            }
        }
        if (o) {
            if (o->has_value) {
                if (!value) {
                    if (i + 1 >= argc) {
                        ctl_error("--%s needs a value", o->name);
                        return CTL_EUSAGE;
                    }
                    value = argv[++i];
                }
                *o->value = value;
            } else {
                if (value) {
                    ctl_error("--%s takes no value", o->name);
                    return CTL_EUSAGE;
                }
                *o->flag = true;
            }
            continue;
        }
        if (out->npos == (int)(sizeof(out->pos) / sizeof(out->pos[0])) || out->npos >= max_pos) {
            ctl_error("unexpected argument '%s'", a);
            return CTL_EUSAGE;
        }
        out->pos[out->npos++] = a;
    }
    if (out->npos < min_pos) {
        ctl_error("missing argument");
        return CTL_EUSAGE;
    }
    return CTL_OK;
}

int ctl_parse_seconds(const char *s, double *out)
{
    char *end;
    double v;

    errno = 0;
    if (!s || !*s) return -1;
    v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v <= 0 || v > 86400.0 * 365) return -1;
    *out = v;
    return 0;
}

int ctl_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    if (!s || !isdigit((unsigned char)*s)) return -1;
    v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}
